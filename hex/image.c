// SPDX-License-Identifier: MIT
/*
 * Image helpers over struct ihex_image: CRC-32 (zlib), SHA-256 (OpenSSL
 * EVP), flat binary export, region check, TransferData blocks. See
 * hex/image.h.
 */
#include <errno.h>
#include <string.h>
#include <unistd.h>
#include <openssl/evp.h>
#include <zlib.h>
#include "core/file.h"
#include "hex/image.h"

uint64_t ihex_image_size(const struct ihex_image *img)
{
	uint64_t n = 0;

	for (size_t i = 0; i < img->nseg; i++)
		n += img->seg[i].len;
	return n;
}

uint32_t ihex_crc32(uint32_t crc, const uint8_t *data, size_t len)
{
	return (uint32_t)crc32_z(crc, data, len);
}

uint32_t ihex_crc32_combine(uint32_t crc_a, uint32_t crc_b, uint64_t len_b)
{
	return (uint32_t)crc32_combine64(crc_a, crc_b, (z_off64_t)len_b);
}

uint32_t ihex_segment_crc32(const struct ihex_segment *s)
{
	return ihex_crc32(0, s->data, s->len);
}

uint32_t ihex_image_crc32(const struct ihex_image *img)
{
	uint32_t crc = 0;

	for (size_t i = 0; i < img->nseg; i++)
		crc = ihex_crc32(crc, img->seg[i].data, img->seg[i].len);
	return crc;
}

int ihex_image_sha256(const struct ihex_image *img, uint8_t out[IHEX_SHA256_LEN])
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	unsigned len = 0;
	int ok;

	if (!ctx)
		return -ENOMEM;
	ok = EVP_DigestInit_ex(ctx, EVP_sha256(), NULL);
	for (size_t i = 0; ok && i < img->nseg; i++)
		ok = EVP_DigestUpdate(ctx, img->seg[i].data, img->seg[i].len);
	if (ok)
		ok = EVP_DigestFinal_ex(ctx, out, &len);
	EVP_MD_CTX_free(ctx);
	return ok && len == IHEX_SHA256_LEN ? 0 : -EIO;
}

static int write_fill(int fd, uint64_t n, uint8_t fill)
{
	uint8_t buf[65536];
	int r = 0;

	memset(buf, fill, n < sizeof(buf) ? (size_t)n : sizeof(buf));
	while (n && !r) {
		size_t k = n < sizeof(buf) ? (size_t)n : sizeof(buf);

		r = fota_write_full(fd, buf, k);
		n -= k;
	}
	return r;
}

int ihex_image_write_bin(const struct ihex_image *img, int fd, uint32_t first, uint32_t last,
			 uint8_t fill)
{
	uint64_t pos = first, end = (uint64_t)last + 1;
	int r = 0;

	for (size_t i = 0; i < img->nseg && !r && pos < end; i++) {
		const struct ihex_segment *s = &img->seg[i];
		uint64_t a = s->addr, b = s->addr + (uint64_t)s->len;

		if (b <= pos)
			continue;
		if (a >= end)
			break;
		if (a > pos) {
			r = write_fill(fd, a - pos, fill);
			pos = a;
		}
		if (!r) {
			uint64_t stop = b < end ? b : end;

			r = fota_write_full(fd, s->data + (pos - a), (size_t)(stop - pos));
			pos = stop;
		}
	}
	if (!r && pos < end)
		r = write_fill(fd, end - pos, fill);
	return r;
}

/* The region containing addr with the highest end, or NULL. */
static const struct ihex_region *region_at(const struct ihex_region *r, size_t n, uint64_t addr)
{
	const struct ihex_region *best = NULL;

	for (size_t i = 0; i < n; i++)
		if (r[i].addr <= addr && addr < r[i].addr + r[i].len &&
		    (!best || r[i].addr + r[i].len > best->addr + best->len))
			best = &r[i];
	return best;
}

int ihex_image_check_regions(const struct ihex_image *img, const struct ihex_region *regions,
			     size_t n, struct ihex_outside *out)
{
	for (size_t i = 0; i < img->nseg; i++) {
		uint64_t pos = img->seg[i].addr, end = pos + img->seg[i].len;

		while (pos < end) {
			const struct ihex_region *r = region_at(regions, n, pos);
			uint64_t next = end;

			if (r) {
				pos = r->addr + r->len;
				continue;
			}
			/* Outside: the run ends where the nearest region starts. */
			for (size_t k = 0; k < n; k++)
				if (regions[k].addr > pos && regions[k].addr < next)
					next = regions[k].addr;
			if (out) {
				out->seg = i;
				out->addr = (uint32_t)pos;
				out->len = (size_t)(next - pos);
			}
			return -ERANGE;
		}
	}
	return 0;
}

void ihex_iter_init(struct ihex_iter *it, const struct ihex_image *img, size_t block_len)
{
	it->img = img;
	it->block_len = block_len ? block_len : 1;
	it->seg = 0;
	it->off = 0;
}

bool ihex_iter_next(struct ihex_iter *it, struct ihex_block *b)
{
	const struct ihex_segment *s;
	size_t left;

	if (it->seg >= it->img->nseg)
		return false;
	s = &it->img->seg[it->seg];
	left = s->len - it->off;
	b->addr = s->addr + (uint32_t)it->off;
	b->data = s->data + it->off;
	b->len = left < it->block_len ? left : it->block_len;
	b->seg = it->seg;
	b->seg_first = it->off == 0;
	it->off += b->len;
	if (it->off == s->len) {
		it->seg++;
		it->off = 0;
	}
	return true;
}
