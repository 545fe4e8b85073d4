// SPDX-License-Identifier: MIT
/*
 * Unit tests for hex/ihex.c (Intel HEX records 00-05) and hex/image.c
 * (CRC-32, SHA-256, flat binary, regions, TransferData blocks).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>
#include "hex/ihex.h"
#include "hex/image.h"
#include "tests/unit/t.h"

static struct ihex_image img;
static struct ihex_error err;

static int parse(const char *text)
{
	ihex_release(&img);
	memset(&err, 0, sizeof(err));
	return ihex_parse(&img, text, strlen(text), &err);
}

/* Build one record: ":LLAAAATT<data>CC\n" with a correct checksum. */
static char *rec(char *out, unsigned type, unsigned addr, const uint8_t *d, unsigned n)
{
	unsigned sum = n + (addr >> 8) + (addr & 0xff) + type;
	char *p = out + sprintf(out, ":%02X%04X%02X", n, addr, type);

	for (unsigned i = 0; i < n; i++) {
		p += sprintf(p, "%02X", d[i]);
		sum += d[i];
	}
	sprintf(p, "%02X\n", (0x100 - (sum & 0xff)) & 0xff);
	return out;
}

/* The allocated size of a text of n bytes. */
static size_t cap(size_t n)
{
	size_t c = 64;

	while (c < n)
		c *= 2;
	return c;
}

/* Append a record to a growing text. */
static void add(char **text, size_t *len, unsigned type, unsigned addr, const uint8_t *d,
		unsigned n)
{
	char line[600];
	size_t k;

	rec(line, type, addr, d, n);
	k = strlen(line);
	/*
	 * Grow by doubling: the buffer is always cap(len + 1) bytes. An exact
	 * realloc per record made the 6 MiB file of ihex__load_big_file take
	 * minutes under ASan, whose realloc always copies.
	 */
	if (!*text || cap(*len + k + 1) != cap(*len + 1))
		*text = realloc(*text, cap(*len + k + 1));
	memcpy(*text + *len, line, k + 1);
	*len += k;
}

static void add_ela(char **text, size_t *len, unsigned upper)
{
	uint8_t d[2] = { (uint8_t)(upper >> 8), (uint8_t)upper };

	add(text, len, IHEX_EXT_LINEAR, 0, d, 2);
}

#define EOF_REC ":00000001FF\n"

static void test_ihex__data_and_eof(void)
{
	T_OK(parse(":0400100001020304E2\n" EOF_REC));
	T_EQ(img.nseg, 1);
	T_EQ(img.seg[0].addr, 0x10);
	T_EQ(img.seg[0].len, 4);
	T_EQ_MEM(img.seg[0].data, "\x01\x02\x03\x04", 4);
	T_EQ(img.has_start, 0);
	T_EQ(img.nwarn_total, 0);
}

static void test_ihex__empty_image(void)
{
	T_OK(parse(EOF_REC));
	T_EQ(img.nseg, 0);
	T_EQ(ihex_image_size(&img), 0);
	T_EQ(ihex_image_crc32(&img), 0);
}

static void test_ihex__lowercase_and_crlf(void)
{
	T_OK(parse(":0400100001020304e2\r\n:00000001ff\r\n"));
	T_EQ(img.nseg, 1);
	T_EQ_MEM(img.seg[0].data, "\x01\x02\x03\x04", 4);
}

static void test_ihex__no_final_newline(void)
{
	T_OK(parse(":0400100001020304E2\n:00000001FF"));
	T_EQ(img.nseg, 1);
}

static void test_ihex__blank_lines_and_trailing_blanks(void)
{
	T_OK(parse("\n:0400100001020304E2  \t\r\n\r\n" EOF_REC "\n\n"));
	T_EQ(img.nseg, 1);
}

static void test_ihex__ext_linear(void)
{
	T_OK(parse(":020000040800F2\n:0400100001020304E2\n" EOF_REC));
	T_EQ(img.nseg, 1);
	T_EQ(img.seg[0].addr, 0x08000010);
}

static void test_ihex__ext_segment(void)
{
	/* USBA 0x1234 -> base 0x12340; offset 0x10 */
	T_OK(parse(":020000021234B6\n:0400100001020304E2\n" EOF_REC));
	T_EQ(img.nseg, 1);
	T_EQ(img.seg[0].addr, 0x12350);
}

static void test_ihex__segment_then_linear(void)
{
	/* The last extended address record wins. */
	T_OK(parse(":020000021234B6\n:020000040001F9\n:0400100001020304E2\n" EOF_REC));
	T_EQ(img.seg[0].addr, 0x10010);
}

static void test_ihex__segment_wrap_refused(void)
{
	T_ERR(parse(":020000021000EC\n:04FFFE0001020304F5\n" EOF_REC), -EBADMSG);
	T_EQ(err.line, 2);
	T_TRUE(strstr(err.msg, "wraps past offset 0xffff") != NULL);
}

static void test_ihex__linear_crosses_64k(void)
{
	/* In linear mode a record past offset 0xffff goes on into the next 64 KiB. */
	T_OK(parse(":04FFFE0001020304F5\n" EOF_REC));
	T_EQ(img.nseg, 1);
	T_EQ(img.seg[0].addr, 0xfffe);
	T_EQ(img.seg[0].len, 4);
}

static void test_ihex__start_linear(void)
{
	T_OK(parse(":0400000508000131BD\n" EOF_REC));
	T_EQ(img.has_start, 1);
	T_EQ(img.start_is_segment, 0);
	T_EQ(img.start, 0x08000131);
}

static void test_ihex__start_segment(void)
{
	T_OK(parse(":0400000312345678E5\n" EOF_REC));
	T_EQ(img.has_start, 1);
	T_EQ(img.start_is_segment, 1);
	T_EQ(img.start, 0x12345678);
}

static void test_ihex__start_repeated_same_ok(void)
{
	T_OK(parse(":0400000508000131BD\n:0400000508000131BD\n" EOF_REC));
}

static void test_ihex__start_conflict(void)
{
	T_ERR(parse(":0400000508000131BD\n:0400000508000135B9\n" EOF_REC), -EBADMSG);
	T_EQ(err.line, 2);
	T_EQ_STR(err.msg, "start address conflicts with the one on line 1");
}

static void test_ihex__checksum_mismatch(void)
{
	T_ERR(parse(":0400100001020304E2\n:0400140005060708CD\n" EOF_REC), -EBADMSG);
	T_EQ(err.line, 2);
	T_EQ_STR(err.msg, "record checksum mismatch (expected 0xce, found 0xcd)");
}

static void test_ihex__missing_colon(void)
{
	T_ERR(parse("0400100001020304E2\n" EOF_REC), -EBADMSG);
	T_EQ(err.line, 1);
	T_EQ_STR(err.msg, "expected ':' at the start of a record, found '0'");
}

static void test_ihex__binary_garbage(void)
{
	T_ERR(parse("\x01\x02\n"), -EBADMSG);
	T_EQ(err.line, 1);
	T_EQ_STR(err.msg, "expected ':' at the start of a record, found 0x01");
}

static void test_ihex__bad_hex_digit(void)
{
	T_ERR(parse(EOF_REC), 0);
	T_ERR(parse(":04001000010G0304E2\n" EOF_REC), -EBADMSG);
	T_EQ(err.line, 1);
	T_EQ_STR(err.msg, "invalid character 'G' in column 13 (expected a hex digit)");
}

static void test_ihex__too_short(void)
{
	T_ERR(parse(":00000001\n"), -EBADMSG);
	T_EQ(err.line, 1);
	T_EQ_STR(err.msg, "record too short (8 hex digits, expected at least 10)");
}

static void test_ihex__length_mismatch(void)
{
	/* Byte count says 4, only 3 data bytes. */
	T_ERR(parse(":04001000010203E5\n" EOF_REC), -EBADMSG);
	T_EQ(err.line, 1);
	T_EQ_STR(err.msg, "byte count 0x04 needs 18 hex digits, found 16");
	/* Odd number of digits. */
	T_ERR(parse(":0400100001020304E2F\n" EOF_REC), -EBADMSG);
	T_EQ_STR(err.msg, "byte count 0x04 needs 18 hex digits, found 19");
}

static void test_ihex__unknown_type(void)
{
	T_ERR(parse(":00000006FA\n" EOF_REC), -EBADMSG);
	T_EQ(err.line, 1);
	T_EQ_STR(err.msg, "unknown record type 0x06 (expected 00 to 05)");
}

static void test_ihex__bad_special_records(void)
{
	T_ERR(parse(":0100000100FE\n"), -EBADMSG);
	T_EQ_STR(err.msg, "end-of-file record must have byte count 0, found 0x01");
	T_ERR(parse(":03000004080000F1\n" EOF_REC), -EBADMSG);
	T_EQ_STR(err.msg, "extended linear address record must have byte count 2, found 0x03");
	T_ERR(parse(":020010040800E2\n" EOF_REC), -EBADMSG);
	T_EQ_STR(err.msg,
		 "extended linear address record must have address field 0000, found 0010");
	T_ERR(parse(":020000050800F1\n" EOF_REC), -EBADMSG);
	T_EQ_STR(err.msg, "start linear address record must have byte count 4, found 0x02");
}

static void test_ihex__eof_required(void)
{
	T_ERR(parse(":0400100001020304E2\n"), -EBADMSG);
	T_EQ(err.line, 1);
	T_EQ_STR(err.msg, "missing end-of-file record (:00000001FF)");
	T_ERR(parse(""), -EBADMSG);
	T_EQ(err.line, 0);
	T_EQ(img.nseg, 0);
}

static void test_ihex__content_after_eof(void)
{
	T_ERR(parse(EOF_REC "\n:0400100001020304E2\n"), -EBADMSG);
	T_EQ(err.line, 3);
	T_EQ_STR(err.msg, "content after the end-of-file record (line 1)");
	T_ERR(parse(EOF_REC EOF_REC), -EBADMSG);
	T_EQ(err.line, 2);
}

static void test_ihex__line_too_long(void)
{
	char *t = malloc(IHEX_MAX_LINE + 50);

	memset(t, '0', IHEX_MAX_LINE + 10);
	t[0] = ':';
	strcpy(t + IHEX_MAX_LINE + 10, "\n");
	T_ERR(parse(t), -EBADMSG);
	T_EQ(err.line, 1);
	T_EQ_STR(err.msg, "line too long (more than 1024 characters)");
	free(t);
}

static void test_ihex__zero_length_data_ignored(void)
{
	T_OK(parse(":00001000F0\n" EOF_REC));
	T_EQ(img.nseg, 0);
}

static void test_ihex__adjacent_records_merge(void)
{
	char *t = NULL;
	size_t n = 0;
	uint8_t d[16];

	for (unsigned i = 0; i < 8; i++) {
		memset(d, (int)i, sizeof(d));
		add(&t, &n, IHEX_DATA, 0x100 + 16 * i, d, 16);
	}
	/* A shorter record, then one record after a gap. */
	add(&t, &n, IHEX_DATA, 0x180, d, 3);
	add(&t, &n, IHEX_DATA, 0x200, d, 16);
	add(&t, &n, IHEX_EOF, 0, NULL, 0);
	T_OK(parse(t));
	T_EQ(img.nseg, 2);
	T_EQ(img.seg[0].addr, 0x100);
	T_EQ(img.seg[0].len, 131);
	T_EQ(img.seg[0].data[0x10], 1);
	T_EQ(img.seg[0].data[0x7f], 7);
	T_EQ(img.seg[0].data[0x82], 7);
	T_EQ(img.seg[1].addr, 0x200);
	T_EQ(img.seg[1].len, 16);
	free(t);
}

static void test_ihex__merge_across_64k_boundary(void)
{
	char *t = NULL;
	size_t n = 0;
	uint8_t d[16] = { 0xaa };

	add_ela(&t, &n, 0x0800);
	add(&t, &n, IHEX_DATA, 0xfff0, d, 16);
	add_ela(&t, &n, 0x0801);
	add(&t, &n, IHEX_DATA, 0x0000, d, 16);
	add(&t, &n, IHEX_EOF, 0, NULL, 0);
	T_OK(parse(t));
	T_EQ(img.nseg, 1);
	T_EQ(img.seg[0].addr, 0x0800fff0);
	T_EQ(img.seg[0].len, 32);
	free(t);
}

static void test_ihex__out_of_order(void)
{
	char *t = NULL;
	size_t n = 0;
	uint8_t d[16];

	/* Records of one segment in reverse order, and a second segment first. */
	memset(d, 0xee, sizeof(d));
	add(&t, &n, IHEX_DATA, 0x1000, d, 16);
	for (int i = 7; i >= 0; i--) {
		memset(d, i, sizeof(d));
		add(&t, &n, IHEX_DATA, 0x100 + 16 * (unsigned)i, d, 16);
	}
	add(&t, &n, IHEX_EOF, 0, NULL, 0);
	T_OK(parse(t));
	T_EQ(img.nseg, 2);
	T_EQ(img.seg[0].addr, 0x100);
	T_EQ(img.seg[0].len, 128);
	for (unsigned i = 0; i < 128; i++)
		if (img.seg[0].data[i] != i / 16)
			T_EQ(img.seg[0].data[i], i / 16);
	T_EQ(img.seg[1].addr, 0x1000);
	T_EQ(img.seg[1].data[15], 0xee);
	T_EQ(img.nwarn_total, 0);
	free(t);
}

static void test_ihex__overlap_identical_warns(void)
{
	char *t = NULL;
	size_t n = 0;
	uint8_t d[32];

	for (unsigned i = 0; i < 32; i++)
		d[i] = (uint8_t)i;
	add(&t, &n, IHEX_DATA, 0x100, d, 16);	   /* line 1 */
	add(&t, &n, IHEX_DATA, 0x110, d + 16, 16); /* line 2 */
	add(&t, &n, IHEX_DATA, 0x108, d + 8, 16);  /* line 3: repeats 0x108..0x117 */
	add(&t, &n, IHEX_EOF, 0, NULL, 0);
	T_OK(parse(t));
	T_EQ(img.nseg, 1);
	T_EQ(img.seg[0].len, 32);
	T_EQ_MEM(img.seg[0].data, d, 32);
	/* One warning per pair of records: 0x108..0x10f with line 1, 0x110..0x117 with line 2. */
	T_EQ(img.nwarn_total, 2);
	T_EQ(img.nwarn, 2);
	T_EQ(img.warn[0].line, 3);
	T_EQ(img.warn[0].other_line, 1);
	T_EQ(img.warn[0].addr, 0x108);
	T_EQ(img.warn[0].len, 8);
	T_EQ(img.warn[1].line, 3);
	T_EQ(img.warn[1].other_line, 2);
	T_EQ(img.warn[1].addr, 0x110);
	T_EQ(img.warn[1].len, 8);
	free(t);
}

static void test_ihex__overlap_conflict_names_both_lines(void)
{
	char *t = NULL;
	size_t n = 0;
	uint8_t d[16] = { 0 };

	add(&t, &n, IHEX_DATA, 0x100, d, 16); /* line 1 */
	add(&t, &n, IHEX_DATA, 0x110, d, 16); /* line 2 */
	add(&t, &n, IHEX_DATA, 0x120, d, 16); /* line 3 */
	d[5] = 0x5a;
	add(&t, &n, IHEX_DATA, 0x110, d, 16); /* line 4: differs at 0x115 */
	add(&t, &n, IHEX_EOF, 0, NULL, 0);
	T_ERR(parse(t), -EBADMSG);
	T_EQ(err.line, 4);
	T_EQ_STR(err.msg, "data at 0x00000115 conflicts with line 2 (0x5a here, 0x00 there)");
	T_EQ(img.nseg, 0);
	free(t);
}

static void test_ihex__overlap_conflict_later_line_lower_address(void)
{
	/* Line 2 starts lower than line 1 and disagrees on 0x104. */
	T_ERR(parse(":0401040001020304ED\n:080100000000000000000000F7\n" EOF_REC), -EBADMSG);
	T_EQ(err.line, 2);
	T_EQ_STR(err.msg, "data at 0x00000104 conflicts with line 1 (0x00 here, 0x01 there)");
}

static void test_ihex__same_record_twice_warns(void)
{
	T_OK(parse(":0400100001020304E2\n:0400100001020304E2\n" EOF_REC));
	T_EQ(img.nseg, 1);
	T_EQ(img.nwarn_total, 1);
	T_EQ(img.warn[0].line, 2);
	T_EQ(img.warn[0].other_line, 1);
}

static void test_ihex__many_warnings_counted(void)
{
	char *t = NULL;
	size_t n = 0;
	uint8_t d[4] = { 1, 2, 3, 4 };

	for (unsigned i = 0; i < 100; i++)
		add(&t, &n, IHEX_DATA, 0x40 * i, d, 4);
	for (unsigned i = 0; i < 100; i++)
		add(&t, &n, IHEX_DATA, 0x40 * i, d, 4);
	add(&t, &n, IHEX_EOF, 0, NULL, 0);
	T_OK(parse(t));
	T_EQ(img.nseg, 100);
	T_EQ(img.nwarn_total, 100);
	T_EQ(img.nwarn, IHEX_MAX_WARNINGS);
	T_EQ(img.warn[0].line, 101);
	T_EQ(img.warn[0].other_line, 1);
	free(t);
}

static void test_ihex__top_of_4gib(void)
{
	/* The last 16 bytes of the address space are fine... */
	T_OK(parse(":02000004FFFFFC\n:10FFF000000102030405060708090A0B0C0D0E0F89\n" EOF_REC));
	T_EQ(img.nseg, 1);
	T_EQ(img.seg[0].addr, 0xfffffff0);
	T_EQ(img.seg[0].len, 16);
	T_EQ(ihex_image_size(&img), 16);
}

static void test_ihex__past_4gib(void)
{
	/* ...one byte more is not. */
	T_ERR(parse(":02000004FFFFFC\n:11FFF000000102030405060708090A0B0C0D0E0F1078\n" EOF_REC),
	      -EBADMSG);
	T_EQ(err.line, 2);
	T_EQ_STR(err.msg, "data past the 4 GiB address space (last byte at 0x100000000)");
}

static void test_ihex__large_addresses_sorted(void)
{
	char *t = NULL;
	size_t n = 0;
	uint8_t d[8] = { 9 };

	add_ela(&t, &n, 0xffff);
	add(&t, &n, IHEX_DATA, 0x0000, d, 8);
	add_ela(&t, &n, 0x8000);
	add(&t, &n, IHEX_DATA, 0x0000, d, 8);
	add_ela(&t, &n, 0x0000);
	add(&t, &n, IHEX_DATA, 0x0000, d, 8);
	add(&t, &n, IHEX_EOF, 0, NULL, 0);
	T_OK(parse(t));
	T_EQ(img.nseg, 3);
	T_EQ(img.seg[0].addr, 0);
	T_EQ(img.seg[1].addr, 0x80000000u);
	T_EQ(img.seg[2].addr, 0xffff0000u);
	free(t);
}

/* Feeding in chunks of every size must give the same image as one buffer. */
static void test_ihex__chunked_feed_same_result(void)
{
	char *t = NULL;
	size_t n = 0;
	uint8_t d[32];

	for (unsigned i = 0; i < 32; i++)
		d[i] = (uint8_t)(i * 7);
	add_ela(&t, &n, 0x0800);
	for (unsigned i = 0; i < 20; i++)
		add(&t, &n, IHEX_DATA, 0x20 * i, d, 32);
	add(&t, &n, IHEX_DATA, 0x1000, d, 5);
	add(&t, &n, IHEX_EOF, 0, NULL, 0);
	T_OK(parse(t));
	for (size_t chunk = 1; chunk < 80; chunk += 3) {
		struct ihex_image im2;
		struct ihex_parser p;

		ihex_parser_init(&p, &im2);
		for (size_t off = 0; off < n; off += chunk)
			T_OK(ihex_parser_feed(&p, t + off, off + chunk < n ? chunk : n - off,
					      &err));
		T_OK(ihex_parser_finish(&p, &err));
		T_EQ(im2.nseg, img.nseg);
		for (size_t i = 0; i < im2.nseg && i < img.nseg; i++) {
			T_EQ(im2.seg[i].addr, img.seg[i].addr);
			T_EQ(im2.seg[i].len, img.seg[i].len);
			T_EQ_MEM(im2.seg[i].data, img.seg[i].data, img.seg[i].len);
		}
		ihex_release(&im2);
	}
	free(t);
}

static void test_ihex__chunked_error_line(void)
{
	static const char text[] = ":0400100001020304E2\n\n:0400140005060708CD\n" EOF_REC;
	struct ihex_image im2;
	struct ihex_parser p;
	int r = 0;

	ihex_parser_init(&p, &im2);
	for (size_t i = 0; i < sizeof(text) - 1 && !r; i++)
		r = ihex_parser_feed(&p, text + i, 1, &err);
	T_ERR(r, -EBADMSG);
	T_EQ(err.line, 3);
	T_ERR(ihex_parser_finish(&p, &err), -EBADMSG);
	T_EQ(im2.nseg, 0);
}

static void test_ihex__load_file(void)
{
	char path[] = "/tmp/test_ihex.XXXXXX";
	int fd = mkstemp(path);
	static const char text[] = ":020000040800F2\n:0400100001020304E2\n" EOF_REC;

	T_TRUE(fd >= 0);
	T_EQ(write(fd, text, sizeof(text) - 1), (long)sizeof(text) - 1);
	close(fd);
	ihex_release(&img);
	T_OK(ihex_load(&img, path, &err));
	T_EQ(img.nseg, 1);
	T_EQ(img.seg[0].addr, 0x08000010);
	unlink(path);
	ihex_release(&img);
	T_ERR(ihex_load(&img, path, &err), -ENOENT);
	T_EQ(err.line, 0);
	T_EQ(img.nseg, 0);
}

/* Files over 4 MiB are read on a second thread: same image, same error lines. */
static void test_ihex__load_big_file(void)
{
	char path[] = "/tmp/test_ihex_big.XXXXXX";
	int fd = mkstemp(path);
	char *t = NULL;
	size_t n = 0;
	uint8_t d[32];
	struct ihex_image big;
	unsigned lines = 0;

	T_TRUE(fd >= 0);
	for (unsigned i = 0; n < (6u << 20); i++) {
		if (i % 2048 == 0) {
			add_ela(&t, &n, i / 2048);
			lines++;
		}
		memset(d, (int)i, sizeof(d));
		add(&t, &n, IHEX_DATA, (i % 2048) * 32, d, 32);
		lines++;
	}
	add(&t, &n, IHEX_EOF, 0, NULL, 0);
	T_EQ(write(fd, t, n), (long)n);
	T_OK(parse(t));
	T_OK(ihex_load(&big, path, &err));
	T_EQ(big.nseg, 1);
	T_EQ(big.seg[0].len, img.seg[0].len);
	T_EQ_MEM(big.seg[0].data, img.seg[0].data, img.seg[0].len);
	ihex_release(&big);

	/* Break the checksum of the last data record. */
	T_EQ(pwrite(fd, "00", 2, (off_t)(n - strlen(EOF_REC) - 3)), 2);
	T_ERR(ihex_load(&big, path, &err), -EBADMSG);
	T_EQ(err.line, lines);
	T_TRUE(strstr(err.msg, "record checksum mismatch") != NULL);
	close(fd);
	unlink(path);
	free(t);
}

static void test_image__crc32_matches_zlib(void)
{
	T_OK(parse(":0400100001020304E2\n:020020000506D3\n" EOF_REC));
	T_EQ(img.nseg, 2);
	T_EQ(ihex_segment_crc32(&img.seg[0]), crc32(0, (const Bytef *)"\x01\x02\x03\x04", 4));
	T_EQ(ihex_image_crc32(&img), crc32(0, (const Bytef *)"\x01\x02\x03\x04\x05\x06", 6));
	T_EQ(ihex_crc32_combine(ihex_segment_crc32(&img.seg[0]), ihex_segment_crc32(&img.seg[1]),
				2),
	     ihex_image_crc32(&img));
	/* The check value of CRC-32/ISO-HDLC. */
	T_EQ(ihex_crc32(0, (const uint8_t *)"123456789", 9), 0xcbf43926);
}

static void test_image__sha256(void)
{
	uint8_t sha[IHEX_SHA256_LEN];
	/* SHA-256("abc"), FIPS 180-2 appendix B.1 */
	static const uint8_t abc[] = {
		0xba, 0x78, 0x16, 0xbf, 0x8f, 0x01, 0xcf, 0xea, 0x41, 0x41, 0x40,
		0xde, 0x5d, 0xae, 0x22, 0x23, 0xb0, 0x03, 0x61, 0xa3, 0x96, 0x17,
		0x7a, 0x9c, 0xb4, 0x10, 0xff, 0x61, 0xf2, 0x00, 0x15, 0xad,
	};

	/* "ab" at 0x10 and "c" at 0x20: the hash covers the bytes, not the gap. */
	T_OK(parse(":0200100061622B\n:01002000637C\n" EOF_REC));
	T_EQ(img.nseg, 2);
	T_OK(ihex_image_sha256(&img, sha));
	T_EQ_MEM(sha, abc, sizeof(abc));
}

static void test_image__write_bin(void)
{
	char path[] = "/tmp/test_ihex_bin.XXXXXX";
	int fd = mkstemp(path);
	uint8_t buf[64];
	ssize_t n;

	T_OK(parse(":0400100001020304E2\n:020020000506D3\n" EOF_REC));
	T_TRUE(fd >= 0);
	/* Range 0x0e..0x22 cuts nothing at the front, fills 0x14..0x1f and 0x0e..0x0f. */
	T_OK(ihex_image_write_bin(&img, fd, 0x0e, 0x22, 0xa5));
	lseek(fd, 0, SEEK_SET);
	n = read(fd, buf, sizeof(buf));
	T_EQ(n, 0x15);
	T_EQ_MEM(
		buf,
		"\xa5\xa5\x01\x02\x03\x04\xa5\xa5\xa5\xa5\xa5\xa5\xa5\xa5\xa5\xa5\xa5\xa5\x05\x06\xa5",
		0x15);
	/* A range inside a segment crops it. */
	T_EQ(ftruncate(fd, 0), 0);
	lseek(fd, 0, SEEK_SET);
	T_OK(ihex_image_write_bin(&img, fd, 0x11, 0x12, 0));
	lseek(fd, 0, SEEK_SET);
	n = read(fd, buf, sizeof(buf));
	T_EQ(n, 2);
	T_EQ_MEM(buf, "\x02\x03", 2);
	close(fd);
	unlink(path);
}

static void test_image__regions(void)
{
	struct ihex_region flash[] = { { 0x08000000, 0x8000 }, { 0x08008000, 0x8000 } };
	struct ihex_region small[] = { { 0x08000000, 0x100 } };
	struct ihex_outside out;

	T_OK(parse(":020000040800F2\n:0400FE0001020304F4\n:020020000506D3\n"
		   ":020000040801F1\n:0100000011EE\n" EOF_REC));
	/* 0x080000fe..0x08000101 spans nothing special; 0x08010000 is past both. */
	T_EQ(img.nseg, 3);
	T_ERR(ihex_image_check_regions(&img, flash, 2, &out), -ERANGE);
	T_EQ(out.seg, 2);
	T_EQ(out.addr, 0x08010000);
	T_EQ(out.len, 1);
	flash[1].len = 0x8001;
	T_OK(ihex_image_check_regions(&img, flash, 2, &out));
	T_ERR(ihex_image_check_regions(&img, small, 1, &out), -ERANGE);
	T_EQ(out.seg, 1);
	T_EQ(out.addr, 0x08000100);
	T_EQ(out.len, 2);
}

static void test_image__blocks(void)
{
	struct ihex_iter it;
	struct ihex_block b;
	char *t = NULL;
	size_t n = 0, count = 0, total = 0;
	uint8_t d[250];

	memset(d, 1, sizeof(d));
	add(&t, &n, IHEX_DATA, 0x000, d, 250);
	add(&t, &n, IHEX_DATA, 0x0fa, d, 250); /* 500 bytes at 0 */
	add(&t, &n, IHEX_DATA, 0x400, d, 10);
	add(&t, &n, IHEX_EOF, 0, NULL, 0);
	T_OK(parse(t));
	ihex_iter_init(&it, &img, 128);
	while (ihex_iter_next(&it, &b)) {
		if (count == 0)
			T_TRUE(b.seg_first && b.addr == 0 && b.len == 128);
		if (count == 3)
			T_TRUE(!b.seg_first && b.addr == 384 && b.len == 116 && b.seg == 0);
		if (count == 4)
			T_TRUE(b.seg_first && b.addr == 0x400 && b.len == 10 && b.seg == 1);
		count++;
		total += b.len;
	}
	T_EQ(count, 5);
	T_EQ(total, 510);
	T_EQ(ihex_iter_next(&it, &b), 0);
	free(t);
}

static const struct t_case cases[] = {
	T_CASE(ihex__data_and_eof),
	T_CASE(ihex__empty_image),
	T_CASE(ihex__lowercase_and_crlf),
	T_CASE(ihex__no_final_newline),
	T_CASE(ihex__blank_lines_and_trailing_blanks),
	T_CASE(ihex__ext_linear),
	T_CASE(ihex__ext_segment),
	T_CASE(ihex__segment_then_linear),
	T_CASE(ihex__segment_wrap_refused),
	T_CASE(ihex__linear_crosses_64k),
	T_CASE(ihex__start_linear),
	T_CASE(ihex__start_segment),
	T_CASE(ihex__start_repeated_same_ok),
	T_CASE(ihex__start_conflict),
	T_CASE(ihex__checksum_mismatch),
	T_CASE(ihex__missing_colon),
	T_CASE(ihex__binary_garbage),
	T_CASE(ihex__bad_hex_digit),
	T_CASE(ihex__too_short),
	T_CASE(ihex__length_mismatch),
	T_CASE(ihex__unknown_type),
	T_CASE(ihex__bad_special_records),
	T_CASE(ihex__eof_required),
	T_CASE(ihex__content_after_eof),
	T_CASE(ihex__line_too_long),
	T_CASE(ihex__zero_length_data_ignored),
	T_CASE(ihex__adjacent_records_merge),
	T_CASE(ihex__merge_across_64k_boundary),
	T_CASE(ihex__out_of_order),
	T_CASE(ihex__overlap_identical_warns),
	T_CASE(ihex__overlap_conflict_names_both_lines),
	T_CASE(ihex__overlap_conflict_later_line_lower_address),
	T_CASE(ihex__same_record_twice_warns),
	T_CASE(ihex__many_warnings_counted),
	T_CASE(ihex__top_of_4gib),
	T_CASE(ihex__past_4gib),
	T_CASE(ihex__large_addresses_sorted),
	T_CASE(ihex__chunked_feed_same_result),
	T_CASE(ihex__chunked_error_line),
	T_CASE(ihex__load_file),
	T_CASE(ihex__load_big_file),
	T_CASE(image__crc32_matches_zlib),
	T_CASE(image__sha256),
	T_CASE(image__write_bin),
	T_CASE(image__regions),
	T_CASE(image__blocks),
};

int main(void)
{
	int r = t_main(cases, FOTA_ARRAY_SIZE(cases));

	ihex_release(&img);
	return r;
}
