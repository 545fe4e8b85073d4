// SPDX-License-Identifier: MIT
/*
 * Intel HEX loader (Intel "Hexadecimal Object File Format Specification",
 * rev. A, 1988; record types 00-05). See hex/ihex.h for the contract.
 *
 * Shape: data bytes are appended to one growing arena in file order, and each
 * run of records that continue one another (next address, next line, same
 * record length) becomes one extent {addr, arena offset, first line, record
 * length}. The line that wrote any byte is then first_line + offset /
 * record_length, so overlaps can name both lines without a per-byte or
 * per-record table. At the end the extents are sorted by address (already
 * sorted for a normal file) and merged into segments; a segment whose extents
 * are already adjacent in the arena points into it (no copy), others get their
 * own buffer. Out-of-order input therefore costs one sort plus one copy of the
 * out-of-order segments, never a per-record realloc or memmove.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "core/hexstr.h"
#include "hex/ihex.h"

struct ihex_extent {
	uint64_t addr; /* absolute address of the first byte, < 2^32 */
	size_t off;    /* offset of the first byte in the arena */
	size_t len;
	unsigned line;	    /* line of the first record */
	unsigned last_line; /* line of the last record */
	uint8_t rec_len;    /* length of every record but the last */
	bool closed;	    /* a shorter record ended the run */
};

#define ADDR_LIMIT   ((uint64_t)1 << 32)
#define CHUNK_SIZE   (1u << 20)
#define ARENA_MIN    (64u << 10)
#define NOT_IN_ARENA SIZE_MAX

/*
 * Hex digit values (0xff for anything else), and the same for digit pairs
 * indexed by (first << 8 | second): the value, or 0x100 if either character
 * is not a hex digit. The pair table halves the lookups in the hot loop; it
 * is what makes a 150 MB file parse in a fraction of a second.
 */
static uint8_t hexval[256];
static uint16_t hexpair[65536];
static bool hexval_ready;

/*
 * The pair table is indexed by the two characters as one native-endian
 * 16-bit load, which saves a shift and an or per byte in the hot loop.
 */
static inline unsigned load16(const char *c)
{
	uint16_t v;

	memcpy(&v, c, 2);
	return v;
}

static bool little_endian(void)
{
	const uint16_t one = 1;
	uint8_t first;

	memcpy(&first, &one, 1);
	return first == 1;
}

#define HEXPAIR(c) hexpair[load16(c)]

static void hexval_init(void)
{
	if (hexval_ready)
		return;
	for (int c = 0; c < 256; c++)
		hexval[c] = fota_hexval(c) < 0 ? 0xff : (uint8_t)fota_hexval(c);
	for (unsigned i = 0; i < 65536; i++) {
		unsigned c0 = little_endian() ? i & 0xff : i >> 8;
		unsigned c1 = little_endian() ? i >> 8 : i & 0xff;
		uint8_t hi = hexval[c0], lo = hexval[c1];

		hexpair[i] = (hi | lo) & 0xf0 ? 0x100 : (uint16_t)(hi << 4 | lo);
	}
	hexval_ready = true;
}

__attribute__((format(printf, 4, 5))) static int fail(struct ihex_parser *p, struct ihex_error *err,
						      unsigned line, const char *fmt, ...)
{
	va_list ap;

	if (err) {
		err->line = line;
		va_start(ap, fmt);
		vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
		va_end(ap);
	}
	if (p)
		p->err = -EBADMSG;
	return -EBADMSG;
}

static int nomem(struct ihex_parser *p, struct ihex_error *err)
{
	if (err) {
		err->line = 0;
		snprintf(err->msg, sizeof(err->msg), "%s", strerror(ENOMEM));
	}
	if (p)
		p->err = -ENOMEM;
	return -ENOMEM;
}

/* A character for a message: 'x' when printable, 0x07 otherwise. */
static const char *show_char(char *buf, size_t size, unsigned char c)
{
	if (c >= 0x20 && c < 0x7f && c != '\'')
		snprintf(buf, size, "'%c'", c);
	else
		snprintf(buf, size, "0x%02x", c);
	return buf;
}

void ihex_image_init(struct ihex_image *img)
{
	memset(img, 0, sizeof(*img));
}

void ihex_release(struct ihex_image *img)
{
	for (size_t i = 0; i < img->nbufs_; i++)
		free(img->bufs_[i]);
	free(img->bufs_);
	free(img->seg);
	free(img->warn);
	ihex_image_init(img);
}

void ihex_parser_init(struct ihex_parser *p, struct ihex_image *img)
{
	hexval_init();
	memset(p, 0, sizeof(*p));
	p->img = img;
	ihex_image_init(img);
}

void ihex_parser_release(struct ihex_parser *p)
{
	free(p->arena);
	free(p->ext);
	p->arena = NULL;
	p->ext = NULL;
	p->arena_len = p->arena_cap = p->n_ext = p->ext_cap = 0;
}

/*
 * Room for one more record's data and checksum at the end of the arena, so
 * the decoder writes data bytes straight to where they stay (a memcpy per
 * record costs more than the decoding). Doubling: amortised O(1), and glibc
 * grows large blocks with mremap, without copying.
 */
static uint8_t *arena_spare(struct ihex_parser *p, struct ihex_error *err)
{
	if (p->arena_cap - p->arena_len < 256) {
		size_t cap = p->arena_cap ? p->arena_cap * 2 : ARENA_MIN;
		uint8_t *a = realloc(p->arena, cap);

		if (!a) {
			nomem(p, err);
			return NULL;
		}
		p->arena = a;
		p->arena_cap = cap;
	}
	return p->arena + p->arena_len;
}

/* Account for n data bytes already decoded at arena + arena_len. */
static int add_data(struct ihex_parser *p, uint64_t addr, uint8_t n, unsigned line,
		    struct ihex_error *err)
{
	struct ihex_extent *e = p->n_ext ? &p->ext[p->n_ext - 1] : NULL;

	if (e && !e->closed && addr == e->addr + e->len && line == e->last_line + 1 &&
	    n <= e->rec_len) {
		e->len += n;
		e->last_line = line;
		e->closed = n < e->rec_len;
	} else {
		if (p->n_ext == p->ext_cap) {
			size_t cap = p->ext_cap ? p->ext_cap * 2 : 64;
			struct ihex_extent *x = realloc(p->ext, cap * sizeof(*x));

			if (!x)
				return nomem(p, err);
			p->ext = x;
			p->ext_cap = cap;
		}
		e = &p->ext[p->n_ext++];
		e->addr = addr;
		e->off = p->arena_len;
		e->len = n;
		e->line = e->last_line = line;
		e->rec_len = n;
		e->closed = false;
	}
	p->arena_len += n;
	return 0;
}

static const char *const type_name[] = {
	[IHEX_DATA] = "data",
	[IHEX_EOF] = "end-of-file",
	[IHEX_EXT_SEGMENT] = "extended segment address",
	[IHEX_START_SEGMENT] = "start segment address",
	[IHEX_EXT_LINEAR] = "extended linear address",
	[IHEX_START_LINEAR] = "start linear address",
};

static int set_start(struct ihex_parser *p, bool is_segment, uint32_t start, unsigned line,
		     struct ihex_error *err)
{
	if (p->have_start && (p->start_is_segment != is_segment || p->start != start))
		return fail(p, err, line, "start address conflicts with the one on line %u",
			    p->start_line);
	if (!p->have_start) {
		p->have_start = true;
		p->start_is_segment = is_segment;
		p->start = start;
		p->start_line = line;
	}
	return 0;
}

/* One line without its newline; trailing CR and blanks already removed. */
static int parse_record(struct ihex_parser *p, const char *s, size_t n, unsigned line,
			struct ihex_error *err)
{
	uint8_t rec[5 + 255], *d;
	size_t ndig = n - 1, nbytes, hdr, i;
	unsigned sum = 0, bad = 0, count, offset, type;
	char cb[8];

	if (p->seen_eof)
		return fail(p, err, line, "content after the end-of-file record (line %u)",
			    p->eof_line);
	if (s[0] != ':')
		return fail(p, err, line, "expected ':' at the start of a record, found %s",
			    show_char(cb, sizeof(cb), (unsigned char)s[0]));
	/*
	 * Decode the 4 header bytes, then the data and checksum: straight
	 * into the arena for a data record, else into rec. A bad character
	 * is reported before any length problem.
	 */
	nbytes = ndig / 2;
	if (nbytes > 4 + 256)
		nbytes = 4 + 256;
	hdr = nbytes < 4 ? nbytes : 4;
	for (i = 0; i < hdr; i++) {
		unsigned v = HEXPAIR(s + 1 + 2 * i);

		bad |= v;
		rec[i] = (uint8_t)v;
		sum += (uint8_t)v;
	}
	d = rec + 4;
	if (nbytes > 4 && rec[3] == IHEX_DATA && !(bad & 0x100)) {
		d = arena_spare(p, err);
		if (!d)
			return -ENOMEM;
	}
	for (i = 4; i < nbytes; i++) {
		unsigned v = HEXPAIR(s + 1 + 2 * i);

		bad |= v;
		d[i - 4] = (uint8_t)v;
		sum += (uint8_t)v;
	}
	if (bad & 0x100 || ndig % 2 || ndig / 2 > nbytes) {
		for (size_t col = 2; col <= n; col++)
			if (hexval[(unsigned char)s[col - 1]] & 0xf0)
				return fail(
					p, err, line,
					"invalid character %s in column %zu (expected a hex digit)",
					show_char(cb, sizeof(cb), (unsigned char)s[col - 1]), col);
	}
	if (ndig < 10)
		return fail(p, err, line, "record too short (%zu hex digits, expected at least 10)",
			    ndig);
	count = rec[0];
	if (ndig != 2 * (5 + (size_t)count))
		return fail(p, err, line, "byte count 0x%02x needs %u hex digits, found %zu", count,
			    2 * (5 + count), ndig);
	if (sum & 0xff) {
		unsigned found = d[count];
		unsigned expected = (0x100 - ((sum - found) & 0xff)) & 0xff;

		return fail(p, err, line,
			    "record checksum mismatch (expected 0x%02x, found 0x%02x)", expected,
			    found);
	}
	offset = (unsigned)rec[1] << 8 | rec[2];
	type = rec[3];

	switch (type) {
	case IHEX_DATA: {
		uint64_t addr;

		if (count == 0)
			return 0;
		/*
		 * Segment mode: the spec computes (offset + index) MOD 64K, so a
		 * record running past 0xffff would wrap to the segment start.
		 * Nobody writes that on purpose; refuse it rather than guess.
		 */
		if (p->segment_mode && offset + count > 0x10000)
			return fail(
				p, err, line,
				"data record wraps past offset 0xffff of its segment (offset 0x%04x, %u bytes)",
				offset, count);
		addr = p->base + offset;
		if (addr + count > ADDR_LIMIT)
			return fail(p, err, line,
				    "data past the 4 GiB address space (last byte at 0x%llx)",
				    (unsigned long long)(addr + count - 1));
		return add_data(p, addr, (uint8_t)count, line, err);
	}
	case IHEX_EOF:
		if (count != 0)
			return fail(p, err, line,
				    "end-of-file record must have byte count 0, found 0x%02x",
				    count);
		p->seen_eof = true;
		p->eof_line = line;
		return 0;
	case IHEX_EXT_SEGMENT:
	case IHEX_EXT_LINEAR:
	case IHEX_START_SEGMENT:
	case IHEX_START_LINEAR: {
		unsigned want = type == IHEX_EXT_SEGMENT || type == IHEX_EXT_LINEAR ? 2 : 4;

		if (count != want)
			return fail(p, err, line, "%s record must have byte count %u, found 0x%02x",
				    type_name[type], want, count);
		if (offset != 0)
			return fail(p, err, line,
				    "%s record must have address field 0000, found %04X",
				    type_name[type], offset);
		break;
	}
	default:
		return fail(p, err, line, "unknown record type 0x%02x (expected 00 to 05)", type);
	}

	switch (type) {
	case IHEX_EXT_SEGMENT: /* USBA: base = segment * 16 */
		p->base = (uint64_t)((unsigned)d[0] << 8 | d[1]) << 4;
		p->segment_mode = true;
		return 0;
	case IHEX_EXT_LINEAR: /* ULBA: upper 16 bits of the address */
		p->base = (uint64_t)((unsigned)d[0] << 8 | d[1]) << 16;
		p->segment_mode = false;
		return 0;
	case IHEX_START_SEGMENT: /* CS:IP */
	case IHEX_START_LINEAR:	 /* EIP */
		return set_start(p, type == IHEX_START_SEGMENT,
				 (uint32_t)d[0] << 24 | (uint32_t)d[1] << 16 | (uint32_t)d[2] << 8 |
					 d[3],
				 line, err);
	}
	return 0;
}

static int do_line(struct ihex_parser *p, const char *s, size_t n, struct ihex_error *err)
{
	unsigned line = ++p->line;

	if (n > IHEX_MAX_LINE)
		return fail(p, err, line, "line too long (more than %u characters)", IHEX_MAX_LINE);
	while (n && (s[n - 1] == '\r' || s[n - 1] == ' ' || s[n - 1] == '\t'))
		n--;
	if (n == 0)
		return 0; /* blank lines are allowed anywhere */
	return parse_record(p, s, n, line, err);
}

int ihex_parser_feed(struct ihex_parser *p, const char *buf, size_t len, struct ihex_error *err)
{
	const char *s = buf, *end = buf + len, *nl;
	int r;

	if (p->err)
		return p->err;
	if (len == 0)
		return 0;
	if (p->carry_len) {
		size_t take;

		nl = memchr(s, '\n', len);
		take = nl ? (size_t)(nl - s) : len;
		if (p->carry_len + take > IHEX_MAX_LINE)
			return fail(p, err, p->line + 1, "line too long (more than %u characters)",
				    IHEX_MAX_LINE);
		memcpy(p->carry + p->carry_len, s, take);
		p->carry_len += take;
		if (!nl)
			return 0;
		r = do_line(p, p->carry, p->carry_len, err);
		p->carry_len = 0;
		if (r)
			return r;
		s = nl + 1;
	}
	while (s < end) {
		nl = memchr(s, '\n', (size_t)(end - s));
		if (!nl) {
			size_t rest = (size_t)(end - s);

			if (rest > IHEX_MAX_LINE)
				return fail(p, err, p->line + 1,
					    "line too long (more than %u characters)",
					    IHEX_MAX_LINE);
			memcpy(p->carry, s, rest);
			p->carry_len = rest;
			break;
		}
		r = do_line(p, s, (size_t)(nl - s), err);
		if (r)
			return r;
		s = nl + 1;
	}
	return 0;
}

static int ext_cmp(const void *a, const void *b)
{
	const struct ihex_extent *x = a, *y = b;

	if (x->addr != y->addr)
		return x->addr < y->addr ? -1 : 1;
	return x->line < y->line ? -1 : x->line > y->line;
}

static unsigned line_of(const struct ihex_extent *e, uint64_t addr)
{
	return e->line + (unsigned)((addr - e->addr) / e->rec_len);
}

static int warn_cmp(const void *a, const void *b)
{
	const struct ihex_warning *x = a, *y = b;

	if (x->line != y->line)
		return x->line < y->line ? -1 : 1;
	return x->addr < y->addr ? -1 : x->addr > y->addr;
}

static int add_warning(struct ihex_image *img, unsigned la, unsigned lb, uint64_t addr, size_t len)
{
	if (img->nwarn < IHEX_MAX_WARNINGS) {
		if (!img->warn) {
			img->warn = calloc(IHEX_MAX_WARNINGS, sizeof(*img->warn));
			if (!img->warn)
				return -ENOMEM;
		}
		img->warn[img->nwarn++] = (struct ihex_warning){
			.line = la > lb ? la : lb,
			.other_line = la > lb ? lb : la,
			.addr = (uint32_t)addr,
			.len = len,
		};
	}
	img->nwarn_total++;
	return 0;
}

/* Next record boundary after addr inside extent e. */
static uint64_t rec_end(const struct ihex_extent *e, uint64_t addr)
{
	return e->addr + ((addr - e->addr) / e->rec_len + 1) * e->rec_len;
}

/* Identical bytes a..b-1 given by both x and y: one warning per pair of records. */
static int overlap_warnings(struct ihex_image *img, const struct ihex_extent *x,
			    const struct ihex_extent *y, uint64_t a, uint64_t b)
{
	while (a < b) {
		uint64_t nx = rec_end(x, a), ny = rec_end(y, a);
		uint64_t stop = nx < ny ? nx : ny;

		if (stop > b)
			stop = b;
		if (add_warning(img, line_of(x, a), line_of(y, a), a, (size_t)(stop - a)))
			return -ENOMEM;
		a = stop;
	}
	return 0;
}

/*
 * Build one segment from extents e[0..n) (sorted, overlapping or touching)
 * into a fresh buffer, checking every overlap against the bytes already
 * placed. Earlier extents agree wherever they overlap (or we would have
 * stopped), so the extent reaching furthest so far holds the byte being
 * compared: it names the other line.
 */
#define CONFLICT_FMT "data at 0x%08llx conflicts with line %u (0x%02x here, 0x%02x there)"

static int build_copy(struct ihex_parser *p, const struct ihex_extent *e, size_t n, uint64_t end,
		      uint8_t **out, struct ihex_error *err)
{
	uint64_t base = e[0].addr, reach = e[0].addr + e[0].len;
	size_t far = 0;
	uint8_t *buf = malloc((size_t)(end - base));

	if (!buf)
		return nomem(p, err);
	memcpy(buf, p->arena + e[0].off, e[0].len);
	for (size_t k = 1; k < n; k++) {
		const uint8_t *src = p->arena + e[k].off;
		uint64_t kend = e[k].addr + e[k].len;

		if (e[k].addr < reach) {
			size_t ov = (size_t)((kend < reach ? kend : reach) - e[k].addr);
			uint8_t *dst = buf + (e[k].addr - base);

			if (memcmp(dst, src, ov)) {
				size_t d = 0;
				uint64_t a;
				unsigned lk, lf, vk, vf;

				while (dst[d] == src[d])
					d++;
				a = e[k].addr + d;
				lk = line_of(&e[k], a);
				lf = line_of(&e[far], a);
				vk = src[d];
				vf = dst[d];
				free(buf);
				if (lk > lf)
					return fail(p, err, lk, CONFLICT_FMT, (unsigned long long)a,
						    lf, vk, vf);
				return fail(p, err, lf, CONFLICT_FMT, (unsigned long long)a, lk, vf,
					    vk);
			}
			if (overlap_warnings(p->img, &e[k], &e[far], e[k].addr, e[k].addr + ov)) {
				free(buf);
				return nomem(p, err);
			}
		}
		if (kend > reach) {
			size_t skip = (size_t)(reach - e[k].addr); /* e[k].addr <= reach */

			memcpy(buf + (e[k].addr + skip - base), src + skip, e[k].len - skip);
			reach = kend;
			far = k;
		}
	}
	*out = buf;
	return 0;
}

struct zc {
	size_t seg; /* segment index */
	size_t off; /* arena offset */
};

static int zc_cmp(const void *a, const void *b)
{
	const struct zc *x = a, *y = b;

	return x->off < y->off ? -1 : x->off > y->off;
}

static int build_image(struct ihex_parser *p, struct ihex_error *err)
{
	struct ihex_image *img = p->img;
	struct ihex_extent *e = p->ext;
	size_t n = p->n_ext, nseg = 0, nzc = 0, used = 0;
	struct zc *zc = NULL;
	int r = 0;

	for (size_t i = 1; i < n; i++) {
		if (ext_cmp(&e[i - 1], &e[i]) > 0) {
			qsort(e, n, sizeof(*e), ext_cmp);
			break;
		}
	}
	/* Worst case: one segment per extent, one buffer per segment + arena. */
	if (n) {
		img->seg = malloc(n * sizeof(*img->seg));
		img->bufs_ = malloc((n + 1) * sizeof(*img->bufs_));
		zc = malloc(n * sizeof(*zc));
		if (!img->seg || !img->bufs_ || !zc) {
			free(zc);
			return nomem(p, err);
		}
	}
	for (size_t i = 0; i < n;) {
		uint64_t end = e[i].addr + e[i].len;
		bool in_place = true;
		size_t j = i + 1;

		for (; j < n && e[j].addr <= end; j++) {
			if (e[j].addr != e[j - 1].addr + e[j - 1].len ||
			    e[j].off != e[j - 1].off + e[j - 1].len)
				in_place = false;
			if (e[j].addr + e[j].len > end)
				end = e[j].addr + e[j].len;
		}
		img->seg[nseg].addr = (uint32_t)e[i].addr;
		img->seg[nseg].len = (size_t)(end - e[i].addr);
		if (in_place) {
			img->seg[nseg].data = NULL;
			zc[nzc].seg = nseg;
			zc[nzc].off = e[i].off;
			nzc++;
			used += img->seg[nseg].len;
		} else {
			uint8_t *buf = NULL;

			r = build_copy(p, e + i, j - i, end, &buf, err);
			if (r)
				goto out;
			img->seg[nseg].data = buf;
			img->bufs_[img->nbufs_++] = buf;
		}
		nseg++;
		i = j;
	}
	img->nseg = nseg;

	/*
	 * Give back what the segments do not use: slide the in-place segments
	 * down over bytes that were copied elsewhere, then shrink the arena
	 * (glibc shrinks a large block with mremap, without copying).
	 */
	if (nzc) {
		uint8_t *a;
		size_t pos = 0;

		qsort(zc, nzc, sizeof(*zc), zc_cmp);
		for (size_t k = 0; k < nzc; k++) {
			size_t len = img->seg[zc[k].seg].len;

			if (zc[k].off != pos)
				memmove(p->arena + pos, p->arena + zc[k].off, len);
			zc[k].off = pos;
			pos += len;
		}
		a = realloc(p->arena, used);
		if (a)
			p->arena = a;
		for (size_t k = 0; k < nzc; k++)
			img->seg[zc[k].seg].data = p->arena + zc[k].off;
		img->bufs_[img->nbufs_++] = p->arena;
		p->arena = NULL;
	}
	if (img->nwarn)
		qsort(img->warn, img->nwarn, sizeof(*img->warn), warn_cmp);
out:
	free(zc);
	return r;
}

int ihex_parser_put(struct ihex_parser *p, uint64_t addr, const uint8_t *data, uint8_t n,
		    unsigned line, struct ihex_error *err)
{
	uint8_t *d;

	if (p->err)
		return p->err;
	d = arena_spare(p, err);
	if (!d)
		return -ENOMEM;
	memcpy(d, data, n);
	return add_data(p, addr, n, line, err);
}

int ihex_parser_build(struct ihex_parser *p, struct ihex_error *err)
{
	int r = p->err;

	if (!r)
		r = build_image(p, err);
	if (r)
		ihex_release(p->img);
	ihex_parser_release(p);
	return r;
}

int ihex_parser_finish(struct ihex_parser *p, struct ihex_error *err)
{
	int r = p->err;

	if (!r && p->carry_len) {
		r = do_line(p, p->carry, p->carry_len, err);
		p->carry_len = 0;
	}
	if (!r && !p->seen_eof)
		r = fail(p, err, p->line, "missing end-of-file record (:00000001FF)");
	if (!r)
		r = build_image(p, err);
	if (!r) {
		p->img->has_start = p->have_start;
		p->img->start_is_segment = p->start_is_segment;
		p->img->start = p->start;
	} else {
		ihex_release(p->img);
	}
	ihex_parser_release(p);
	return r;
}

int ihex_parse(struct ihex_image *img, const char *text, size_t len, struct ihex_error *err)
{
	struct ihex_parser p;

	ihex_parser_init(&p, img);
	ihex_parser_feed(&p, text, len, err);
	return ihex_parser_finish(&p, err);
}

static int read_error(struct ihex_error *err, int e)
{
	if (err) {
		err->line = 0;
		snprintf(err->msg, sizeof(err->msg), "%s", strerror(e));
	}
	return -e;
}

/* read(2) until the buffer is full or the file ends: bytes read, or -errno. */
static ssize_t read_chunk(int fd, char *buf, size_t size)
{
	size_t got = 0;

	while (got < size) {
		ssize_t n = read(fd, buf + got, size - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			break;
		got += (size_t)n;
	}
	return (ssize_t)got;
}

/*
 * Big files are read by a second thread into two alternating buffers while
 * this one parses: the kernel's copy out of the page cache is about a
 * quarter of the time for a 64 MiB image (bench/README.md), and it then
 * runs on the other core. The parse itself stays single-threaded.
 */
struct reader {
	int fd;
	char *buf[2];
	ssize_t len[2]; /* bytes, 0 at the end, -errno */
	sem_t full[2], empty[2];
	atomic_bool stop;
};

static void *reader_thread(void *arg)
{
	struct reader *rd = arg;

	for (int i = 0;; i ^= 1) {
		sem_wait(&rd->empty[i]);
		if (atomic_load(&rd->stop))
			return NULL;
		rd->len[i] = read_chunk(rd->fd, rd->buf[i], CHUNK_SIZE);
		sem_post(&rd->full[i]);
		if (rd->len[i] <= 0)
			return NULL;
	}
}

static int feed_threaded(struct ihex_parser *p, int fd, char *buf, struct ihex_error *err,
			 bool *ran)
{
	struct reader rd = { .fd = fd, .buf = { buf, buf + CHUNK_SIZE } };
	pthread_t tid;
	int r = 0;

	atomic_init(&rd.stop, false);
	for (int i = 0; i < 2; i++) {
		sem_init(&rd.full[i], 0, 0);
		sem_init(&rd.empty[i], 0, 1);
	}
	*ran = !pthread_create(&tid, NULL, reader_thread, &rd);
	for (int i = 0; *ran; i ^= 1) {
		ssize_t n;

		sem_wait(&rd.full[i]);
		n = rd.len[i];
		if (n <= 0) {
			r = n < 0 ? read_error(err, (int)-n) : 0;
			break;
		}
		r = ihex_parser_feed(p, rd.buf[i], (size_t)n, err);
		if (r)
			break;
		sem_post(&rd.empty[i]);
	}
	if (*ran) {
		atomic_store(&rd.stop, true);
		sem_post(&rd.empty[0]);
		sem_post(&rd.empty[1]);
		pthread_join(tid, NULL);
	}
	for (int i = 0; i < 2; i++) {
		sem_destroy(&rd.full[i]);
		sem_destroy(&rd.empty[i]);
	}
	return r;
}

int ihex_load_fd(struct ihex_image *img, int fd, struct ihex_error *err)
{
	struct ihex_parser p;
	struct stat st;
	bool big = !fstat(fd, &st) && S_ISREG(st.st_mode) && st.st_size > 4 * CHUNK_SIZE;
	char *buf = malloc(big ? 2 * CHUNK_SIZE : CHUNK_SIZE);
	bool threaded = false;
	int r = 0;

	ihex_parser_init(&p, img);
	if (!buf)
		return nomem(NULL, err);
	if (big)
		r = feed_threaded(&p, fd, buf, err, &threaded);
	while (!threaded && !r) {
		ssize_t n = read_chunk(fd, buf, CHUNK_SIZE);

		if (n <= 0) {
			r = n < 0 ? read_error(err, (int)-n) : 0;
			break;
		}
		r = ihex_parser_feed(&p, buf, (size_t)n, err);
	}
	free(buf);
	if (r) {
		ihex_parser_release(&p);
		ihex_release(img);
		return r;
	}
	return ihex_parser_finish(&p, err);
}

int ihex_load(struct ihex_image *img, const char *path, struct ihex_error *err)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	int r;

	ihex_image_init(img);
	if (fd < 0) {
		r = -errno;
		if (err) {
			err->line = 0;
			snprintf(err->msg, sizeof(err->msg), "%s", strerror(errno));
		}
		return r;
	}
	r = ihex_load_fd(img, fd, err);
	close(fd);
	return r;
}
