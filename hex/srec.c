// SPDX-License-Identifier: MIT
/*
 * Motorola S-record loader; see hex/srec.h. The record decoding is here, the
 * segment building and overlap rules are the Intel HEX loader's
 * (ihex_parser_put / ihex_parser_build), so both formats agree on them.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include "core/hexstr.h"
#include "hex/srec.h"

struct srec_state {
	struct ihex_parser p;
	unsigned line;
	unsigned nrec; /* S1/S2/S3 records so far */
	unsigned end_line;
	bool seen_end;
	bool seen_header;
};

__attribute__((format(printf, 4, 5))) static int fail(struct srec_state *st, struct ihex_error *err,
						      unsigned line, const char *fmt, ...)
{
	va_list ap;

	if (err) {
		err->line = line;
		va_start(ap, fmt);
		vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
		va_end(ap);
	}
	st->p.err = -EBADMSG;
	return -EBADMSG;
}

static const char *show_char(char *buf, size_t size, unsigned char c)
{
	if (c >= 0x20 && c < 0x7f && c != '\'')
		snprintf(buf, size, "'%c'", c);
	else
		snprintf(buf, size, "0x%02x", c);
	return buf;
}

/* Address field length in bytes of each record type; 0: reserved/none. */
static const unsigned addr_len[10] = { 2, 2, 3, 4, 0, 2, 3, 4, 3, 2 };

static int record(struct srec_state *st, const char *s, size_t n, unsigned line,
		  struct ihex_error *err)
{
	uint8_t b[256];
	size_t ndig, nb, alen, dlen;
	unsigned type, sum = 0;
	uint32_t addr = 0;
	char cb[8];

	if (st->seen_end)
		return fail(st, err, line, "content after the termination record (line %u)",
			    st->end_line);
	if (s[0] != 'S')
		return fail(st, err, line, "expected 'S' at the start of a record, found %s",
			    show_char(cb, sizeof(cb), (unsigned char)s[0]));
	if (n < 2 || s[1] < '0' || s[1] > '9')
		return fail(st, err, line, "invalid record type %s (expected S0 to S9)",
			    n < 2 ? "(none)" : show_char(cb, sizeof(cb), (unsigned char)s[1]));
	type = (unsigned)(s[1] - '0');
	if (type == 4)
		return fail(st, err, line, "record type S4 is reserved");
	for (size_t col = 3; col <= n; col++)
		if (fota_hexval((unsigned char)s[col - 1]) < 0)
			return fail(st, err, line,
				    "invalid character %s in column %zu (expected a hex digit)",
				    show_char(cb, sizeof(cb), (unsigned char)s[col - 1]), col);
	ndig = n - 2;
	alen = addr_len[type];
	if (ndig < 2 * (alen + 2))
		return fail(st, err, line,
			    "record too short (%zu hex digits, expected at least %zu for S%u)",
			    ndig, 2 * (alen + 2), type);
	nb = ndig / 2;
	for (size_t i = 0; i < nb && i < sizeof(b); i++) {
		b[i] = (uint8_t)(fota_hexval((unsigned char)s[2 + 2 * i]) << 4 |
				 fota_hexval((unsigned char)s[3 + 2 * i]));
	}
	if (ndig % 2 || ndig != 2 * (1 + (size_t)b[0]))
		return fail(st, err, line, "byte count 0x%02x needs %u hex digits, found %zu", b[0],
			    2 * (1 + b[0]), ndig);
	for (size_t i = 0; i < nb - 1; i++)
		sum += b[i];
	if ((uint8_t)~sum != b[nb - 1])
		return fail(st, err, line,
			    "record checksum mismatch (expected 0x%02x, found 0x%02x)",
			    (uint8_t)~sum, b[nb - 1]);
	for (size_t i = 0; i < alen; i++)
		addr = addr << 8 | b[1 + i];
	dlen = nb - 2 - alen;

	switch (type) {
	case 0:
		if (st->seen_header)
			return fail(st, err, line, "second S0 header record");
		if (st->nrec)
			return fail(st, err, line, "S0 header record after data records");
		st->seen_header = true;
		st->p.img->has_header = true;
		st->p.img->header_len = dlen;
		memcpy(st->p.img->header, b + 1 + alen, dlen);
		return 0;
	case 1:
	case 2:
	case 3:
		st->nrec++;
		if (dlen == 0)
			return 0;
		if ((uint64_t)addr + dlen > (uint64_t)1 << 32)
			return fail(st, err, line,
				    "data past the 4 GiB address space (last byte at 0x%llx)",
				    (unsigned long long)((uint64_t)addr + dlen - 1));
		return ihex_parser_put(&st->p, addr, b + 1 + alen, (uint8_t)dlen, line, err);
	case 5:
	case 6:
		if (dlen)
			return fail(st, err, line,
				    "S%u count record must have no data, found %zu bytes", type,
				    dlen);
		if (addr != st->nrec)
			return fail(
				st, err, line,
				"S%u record count %u does not match the %u data records before it",
				type, (unsigned)addr, st->nrec);
		return 0;
	default: /* 7, 8, 9 */
		if (dlen)
			return fail(st, err, line,
				    "S%u termination record must have no data, found %zu bytes",
				    type, dlen);
		st->seen_end = true;
		st->end_line = line;
		st->p.img->has_start = true;
		st->p.img->start_is_segment = false;
		st->p.img->start = addr;
		return 0;
	}
}

int srec_parse(struct ihex_image *img, const char *text, size_t len, struct ihex_error *err)
{
	struct srec_state st;
	const char *s = text, *end = text + len;
	bool has_header, has_start;
	size_t header_len;
	uint32_t start;
	uint8_t header[sizeof(img->header)];
	int r = 0;

	memset(&st, 0, sizeof(st));
	ihex_parser_init(&st.p, img);
	while (s < end && !r) {
		const char *nl = memchr(s, '\n', (size_t)(end - s));
		size_t n = nl ? (size_t)(nl - s) : (size_t)(end - s);
		unsigned line = ++st.line;

		if (n > IHEX_MAX_LINE) {
			r = fail(&st, err, line, "line too long (more than %u characters)",
				 IHEX_MAX_LINE);
			break;
		}
		while (n && (s[n - 1] == '\r' || s[n - 1] == ' ' || s[n - 1] == '\t'))
			n--;
		if (n)
			r = record(&st, s, n, line, err);
		s = nl ? nl + 1 : end;
	}
	/* ihex_parser_build() fills the segments; keep what the records set */
	has_header = img->has_header;
	header_len = img->header_len;
	memcpy(header, img->header, sizeof(header));
	has_start = img->has_start;
	start = img->start;
	if (r) {
		ihex_parser_release(&st.p);
		ihex_release(img);
		return r;
	}
	r = ihex_parser_build(&st.p, err);
	if (r)
		return r;
	img->has_header = has_header;
	img->header_len = header_len;
	memcpy(img->header, header, sizeof(header));
	img->has_start = has_start;
	img->start = start;
	img->start_is_segment = false;
	return 0;
}
