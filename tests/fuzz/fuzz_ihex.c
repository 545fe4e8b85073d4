// SPDX-License-Identifier: MIT
/*
 * libFuzzer target for the Intel HEX loader (hex/ihex.c). Besides "no crash,
 * no leak, no UB" it checks what callers rely on: the segments are sorted,
 * disjoint, non-adjacent and inside 4 GiB, and feeding the same text in
 * pieces gives exactly the same result (image or error line and message).
 */
#include <stdlib.h>
#include <string.h>
#include "hex/ihex.h"
#include "hex/image.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_image(const struct ihex_image *img)
{
	struct ihex_iter it;
	struct ihex_block b;
	uint64_t total = 0, iter_total = 0;

	for (size_t i = 0; i < img->nseg; i++) {
		const struct ihex_segment *s = &img->seg[i];

		if (s->len == 0 || (uint64_t)s->addr + s->len > ((uint64_t)1 << 32))
			abort();
		if (i && (uint64_t)img->seg[i - 1].addr + img->seg[i - 1].len >= s->addr)
			abort();
		total += s->len;
	}
	ihex_iter_init(&it, img, 100);
	while (ihex_iter_next(&it, &b))
		iter_total += b.len;
	if (iter_total != total || total != ihex_image_size(img))
		abort();
	(void)ihex_image_crc32(img);
	if (img->nwarn > img->nwarn_total || img->nwarn > IHEX_MAX_WARNINGS)
		abort();
}

static int same(const struct ihex_image *a, const struct ihex_image *b)
{
	if (a->nseg != b->nseg || a->has_start != b->has_start || a->start != b->start ||
	    a->nwarn_total != b->nwarn_total)
		return 0;
	for (size_t i = 0; i < a->nseg; i++)
		if (a->seg[i].addr != b->seg[i].addr || a->seg[i].len != b->seg[i].len ||
		    memcmp(a->seg[i].data, b->seg[i].data, a->seg[i].len))
			return 0;
	return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ihex_image whole, parts;
	struct ihex_error e1 = { 0 }, e2 = { 0 };
	struct ihex_parser p;
	size_t step = size ? 1 + data[0] % 37 : 1;
	int r1, r2 = 0;

	r1 = ihex_parse(&whole, (const char *)data, size, &e1);
	if (!r1)
		check_image(&whole);

	ihex_parser_init(&p, &parts);
	for (size_t off = 0; off < size && !r2; off += step)
		r2 = ihex_parser_feed(&p, (const char *)data + off,
				      off + step < size ? step : size - off, &e2);
	r2 = ihex_parser_finish(&p, &e2);
	if (r1 != r2)
		abort();
	if (r1 && (e1.line != e2.line || strcmp(e1.msg, e2.msg)))
		abort();
	if (!r1 && !same(&whole, &parts))
		abort();
	ihex_release(&whole);
	ihex_release(&parts);
	return 0;
}
