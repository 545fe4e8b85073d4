// SPDX-License-Identifier: MIT
/*
 * libFuzzer target for the Motorola S-record loader (hex/srec.c) and the
 * format dispatch (hex/load.c). Besides "no crash, no leak, no UB" it checks
 * what callers rely on: segments sorted, disjoint, non-adjacent, inside
 * 4 GiB; a rejected input has a message; an accepted image written back as
 * S3 records (with an S5 count and S7 start) parses to the same image; and
 * img_parse() in auto mode gives the same result when the content says srec.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "hex/image.h"
#include "hex/load.h"
#include "hex/srec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_image(const struct ihex_image *img)
{
	for (size_t i = 0; i < img->nseg; i++) {
		const struct ihex_segment *s = &img->seg[i];

		if (s->len == 0 || (uint64_t)s->addr + s->len > ((uint64_t)1 << 32))
			abort();
		if (i && (uint64_t)img->seg[i - 1].addr + img->seg[i - 1].len >= s->addr)
			abort();
	}
	if (img->header_len > sizeof(img->header) || (!img->has_header && img->header_len))
		abort();
}

static int same(const struct ihex_image *a, const struct ihex_image *b)
{
	if (a->nseg != b->nseg || a->has_start != b->has_start || a->start != b->start)
		return 0;
	for (size_t i = 0; i < a->nseg; i++)
		if (a->seg[i].addr != b->seg[i].addr || a->seg[i].len != b->seg[i].len ||
		    memcmp(a->seg[i].data, b->seg[i].data, a->seg[i].len))
			return 0;
	return 1;
}

static char *put_rec(char *p, unsigned type, uint32_t addr, unsigned alen, const uint8_t *d,
		     size_t n)
{
	unsigned count = (unsigned)(alen + n + 1), sum = count;

	p += sprintf(p, "S%u%02X", type, count);
	for (unsigned i = 0; i < alen; i++) {
		unsigned b = (addr >> (8 * (alen - 1 - i))) & 0xff;

		p += sprintf(p, "%02X", b);
		sum += b;
	}
	for (size_t i = 0; i < n; i++) {
		p += sprintf(p, "%02X", d[i]);
		sum += d[i];
	}
	return p + sprintf(p, "%02X\n", ~sum & 0xff);
}

/* Write img as S3 records of up to 32 bytes, parse it back and compare. */
static void round_trip(const struct ihex_image *img)
{
	uint64_t total = ihex_image_size(img);
	size_t nrec = 0, cap = (size_t)(total / 32 + img->nseg + 4) * 90;
	char *text = malloc(cap), *p = text;
	struct ihex_image back;
	struct ihex_error e;

	if (!text)
		return;
	for (size_t i = 0; i < img->nseg; i++) {
		const struct ihex_segment *s = &img->seg[i];

		for (size_t off = 0; off < s->len; off += 32) {
			size_t n = s->len - off < 32 ? s->len - off : 32;

			p = put_rec(p, 3, (uint32_t)(s->addr + off), 4, s->data + off, n);
			nrec++;
		}
	}
	if (nrec <= 0xffff)
		p = put_rec(p, 5, (uint32_t)nrec, 2, NULL, 0);
	if (img->has_start)
		p = put_rec(p, 7, img->start, 4, NULL, 0);
	if (srec_parse(&back, text, (size_t)(p - text), &e) || !same(img, &back))
		abort();
	ihex_release(&back);
	free(text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ihex_image a, b;
	struct ihex_error e1 = { 0 }, e2 = { 0 };
	enum img_format used;
	int r1, r2;

	r1 = srec_parse(&a, (const char *)data, size, &e1);
	if (r1 && !e1.msg[0])
		abort();
	if (!r1) {
		check_image(&a);
		round_trip(&a);
	}
	r2 = img_parse(&b, (const char *)data, size, IMG_FMT_AUTO, false, 0, &used, &e2);
	if (used == IMG_FMT_SREC) {
		if (r1 != r2 || (r1 && (e1.line != e2.line || strcmp(e1.msg, e2.msg))))
			abort();
		if (!r1 && !same(&a, &b))
			abort();
	}
	ihex_release(&a);
	ihex_release(&b);
	return 0;
}
