// SPDX-License-Identifier: MIT
/*
 * Intel HEX loader: text -> struct ihex_image (address-sorted, merged
 * segments). Implements the record types 00-05 of Intel's "Hexadecimal
 * Object File Format Specification" (rev. A, 1988): data, end of file,
 * extended segment address, start segment address, extended linear address,
 * start linear address. Pure functions over buffers; ihex_load() adds the
 * file reading. Never prints: errors come back as -errno plus struct
 * ihex_error (line + message), warnings in the image.
 */
#ifndef FOTA_HEX_IHEX_H
#define FOTA_HEX_IHEX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Record types (Intel HEX spec, "General Record Format"). */
enum ihex_type {
	IHEX_DATA = 0x00,
	IHEX_EOF = 0x01,
	IHEX_EXT_SEGMENT = 0x02,
	IHEX_START_SEGMENT = 0x03,
	IHEX_EXT_LINEAR = 0x04,
	IHEX_START_LINEAR = 0x05,
};

/* One contiguous run of bytes. Segments of an image are sorted by addr, never
 * overlap and never touch (adjacent records are merged). addr + len <= 2^32. */
struct ihex_segment {
	uint32_t addr;
	size_t len;    /* > 0 */
	uint8_t *data; /* len bytes, owned by the image */
};

/*
 * Records that overlap earlier ones with identical bytes are accepted with a
 * warning: lines line and other_line both hold bytes addr..addr+len-1.
 * line > other_line.
 */
struct ihex_warning {
	unsigned line;
	unsigned other_line;
	uint32_t addr;
	size_t len;
};

#define IHEX_MAX_WARNINGS 64 /* stored; nwarn_total counts them all */

struct ihex_image {
	struct ihex_segment *seg; /* nseg segments, ascending addr */
	size_t nseg;
	bool has_start;	       /* a type 03 or 05 record was seen */
	bool start_is_segment; /* type 03: start = CS << 16 | IP; type 05: start = EIP */
	uint32_t start;
	/* S-record S0 header (hex/srec.h): its data bytes, address field excluded */
	bool has_header;
	size_t header_len;
	uint8_t header[256];
	struct ihex_warning *warn; /* first min(nwarn_total, IHEX_MAX_WARNINGS) warnings */
	size_t nwarn;
	size_t nwarn_total;
	/* private: buffers the segments point into */
	void **bufs_;
	size_t nbufs_;
};

/* Where and why the input was rejected. line is 1-based; 0 when no line applies
 * (I/O errors). msg starts lowercase, has no final period and says what was
 * expected, e.g. "record checksum mismatch (expected 0x3c, found 0x3d)". */
struct ihex_error {
	unsigned line;
	char msg[128];
};

/* Longest accepted line, trailing whitespace included: a 255-byte record is 521. */
#define IHEX_MAX_LINE 1024

/* An empty image (no allocation). */
void ihex_image_init(struct ihex_image *img);
/* Free everything the image owns and re-initialise it. */
void ihex_release(struct ihex_image *img);

/*
 * Parse len bytes of HEX text into img, which is overwritten (release an image
 * before reusing it). On success returns 0 and fills img (which the
 * caller later frees with ihex_release()). On failure img is left empty and:
 * -EBADMSG  malformed input, detail in *err;
 * -ENOMEM   out of memory.
 * Memory: about the image size, plus 40 bytes per discontinuity in the file
 * order of the records; the text is not copied. Segments whose records come
 * out of address order are rebuilt in their own buffer at the end, so their
 * bytes briefly exist twice (at most 2x the image for a shuffled file).
 */
int ihex_parse(struct ihex_image *img, const char *text, size_t len, struct ihex_error *err);

/*
 * Read and parse the file at path ("-" is not special). Streams the file in
 * chunks, so memory stays near the image size, not the file size. Returns as
 * ihex_parse(), or -errno from open/read with err->line = 0 and err->msg the
 * system message.
 */
int ihex_load(struct ihex_image *img, const char *path, struct ihex_error *err);
/* Same, from an open file descriptor (not closed). */
int ihex_load_fd(struct ihex_image *img, int fd, struct ihex_error *err);

/*
 * The incremental parser behind both: feed text in chunks of any size (lines
 * may be split anywhere), then finish. Fields are private. After an error,
 * or instead of finishing, call ihex_parser_release().
 */
struct ihex_extent;
struct ihex_parser {
	struct ihex_image *img;
	uint8_t *arena; /* data bytes in file order */
	size_t arena_len, arena_cap;
	struct ihex_extent *ext; /* runs of records, file order */
	size_t n_ext, ext_cap;
	uint64_t base;	   /* from the last 02 or 04 record */
	bool segment_mode; /* base came from a 02 record */
	bool seen_eof;
	bool have_start;
	bool start_is_segment;
	uint32_t start;
	unsigned start_line;
	unsigned line; /* lines completed so far */
	unsigned eof_line;
	size_t carry_len; /* bytes of a line split across feeds */
	char carry[IHEX_MAX_LINE + 1];
	int err; /* sticky first error */
};

void ihex_parser_init(struct ihex_parser *p, struct ihex_image *img);
/* 0, -EBADMSG (detail in *err), -ENOMEM. Errors are sticky. */
int ihex_parser_feed(struct ihex_parser *p, const char *buf, size_t len, struct ihex_error *err);
/* Check the end (EOF record present), sort, merge, check overlaps, fill the
 * image. Returns as ihex_parse(). Releases the parser's memory in all cases. */
int ihex_parser_finish(struct ihex_parser *p, struct ihex_error *err);
void ihex_parser_release(struct ihex_parser *p);

/*
 * For sibling loaders (hex/srec.c) that decode their own records but share
 * the segment building and overlap rules: add n (1..256) data bytes at addr
 * (addr + n <= 2^32, checked by the caller) given by line; then build the
 * image (sort, merge, overlap check) without the Intel HEX end checks. Both
 * return as ihex_parser_finish(); build releases the parser's memory.
 */
int ihex_parser_put(struct ihex_parser *p, uint64_t addr, const uint8_t *data, uint8_t n,
		    unsigned line, struct ihex_error *err);
int ihex_parser_build(struct ihex_parser *p, struct ihex_error *err);

#define ihex_for_each_segment(img, s) for ((s) = (img)->seg; (s) < (img)->seg + (img)->nseg; (s)++)

#endif
