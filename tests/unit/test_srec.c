// SPDX-License-Identifier: MIT
/*
 * Unit tests for hex/srec.c (Motorola S-records S0-S9) and hex/load.c
 * (format detection, raw binaries at a load address, FILE@ADDR).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "hex/image.h"
#include "hex/load.h"
#include "hex/srec.h"
#include "tests/unit/t.h"

static struct ihex_image img;
static struct ihex_error err;

static int parse(const char *text)
{
	ihex_release(&img);
	memset(&err, 0, sizeof(err));
	return srec_parse(&img, text, strlen(text), &err);
}

/* Append one record "S<type><count><addr><data><checksum>\n" to out. */
static char *rec(char *out, unsigned type, uint32_t addr, unsigned alen, const char *data,
		 unsigned n)
{
	unsigned count = alen + n + 1, sum = count;
	char *p = out + strlen(out);

	p += sprintf(p, "S%u%02X", type, count);
	for (unsigned i = 0; i < alen; i++) {
		unsigned b = (addr >> (8 * (alen - 1 - i))) & 0xff;

		p += sprintf(p, "%02X", b);
		sum += b;
	}
	for (unsigned i = 0; i < n; i++) {
		p += sprintf(p, "%02X", (uint8_t)data[i]);
		sum += (uint8_t)data[i];
	}
	sprintf(p, "%02X\n", ~sum & 0xff);
	return out;
}

static char text[8192];

static void test_srec__s1_s2_s3_header_start(void)
{
	text[0] = '\0';
	rec(text, 0, 0, 2, "HDR", 3);
	rec(text, 1, 0x1000, 2, "\x01\x02", 2);
	rec(text, 2, 0x123456, 3, "\x03", 1);
	rec(text, 3, 0xfffffffe, 4, "\x04\x05", 2);
	rec(text, 5, 3, 2, NULL, 0);
	rec(text, 7, 0x08000100, 4, NULL, 0);
	T_OK(parse(text));
	T_EQ(img.nseg, 3);
	T_EQ(img.seg[0].addr, 0x1000);
	T_EQ_MEM(img.seg[0].data, "\x01\x02", 2);
	T_EQ(img.seg[1].addr, 0x123456);
	T_EQ(img.seg[2].addr, 0xfffffffe);
	T_EQ(img.seg[2].len, 2);
	T_TRUE(img.has_header);
	T_EQ(img.header_len, 3);
	T_EQ_MEM(img.header, "HDR", 3);
	T_TRUE(img.has_start);
	T_EQ(img.start_is_segment, 0);
	T_EQ(img.start, 0x08000100);
}

static void test_srec__s8_s9_start(void)
{
	text[0] = '\0';
	rec(text, 1, 0, 2, "\xaa", 1);
	rec(text, 8, 0x123456, 3, NULL, 0);
	T_OK(parse(text));
	T_EQ(img.start, 0x123456);
	text[0] = '\0';
	rec(text, 1, 0, 2, "\xaa", 1);
	rec(text, 9, 0xbeef, 2, NULL, 0);
	T_OK(parse(text));
	T_EQ(img.start, 0xbeef);
	T_EQ(img.has_header, 0);
}

static void test_srec__no_termination_no_start(void)
{
	/* srec_cat writes no S7/S8/S9 when the image has no start address */
	T_OK(parse("S1050000AABB95\n"));
	T_EQ(img.nseg, 1);
	T_EQ(img.has_start, 0);
}

static void test_srec__crlf_blank_lines_no_final_newline(void)
{
	T_OK(parse("\r\nS1050000AABB95  \r\n\r\n\nS9030000FC"));
	T_EQ(img.nseg, 1);
	T_EQ_MEM(img.seg[0].data, "\xaa\xbb", 2);
}

static void test_srec__adjacent_records_merge(void)
{
	text[0] = '\0';
	rec(text, 1, 0x100, 2, "\x01\x02", 2);
	rec(text, 1, 0x102, 2, "\x03", 1);
	rec(text, 1, 0x0f0, 2, "\x00", 1);
	T_OK(parse(text));
	T_EQ(img.nseg, 2);
	T_EQ(img.seg[0].addr, 0xf0);
	T_EQ(img.seg[1].len, 3);
}

/* Each hostile input: the error line and the exact message. */
static void expect(const char *t, unsigned line, const char *msg)
{
	T_ERR(parse(t), -EBADMSG);
	T_EQ(err.line, line);
	T_EQ_STR(err.msg, msg);
	T_EQ(img.nseg, 0);
}

static void test_srec__errors_with_line(void)
{
	expect("S1050000AABB95\n:00000001FF\n", 2,
	       "expected 'S' at the start of a record, found ':'");
	expect("S1050000AABB95\nSX\n", 2, "invalid record type 'X' (expected S0 to S9)");
	expect("S\n", 1, "invalid record type (none) (expected S0 to S9)");
	expect("\nS40300FC\n", 2, "record type S4 is reserved");
	expect("S10500G0AABB94\n", 1, "invalid character 'G' in column 7 (expected a hex digit)");
	expect("S1030000\n", 1, "record too short (6 hex digits, expected at least 8 for S1)");
	expect("S30500000000\n", 1,
	       "record too short (10 hex digits, expected at least 12 for S3)");
	expect("S1060000AABB94\n", 1, "byte count 0x06 needs 14 hex digits, found 12");
	expect("S1050000AABB9\n", 1, "byte count 0x05 needs 12 hex digits, found 11");
	expect("S1050000AABB94\n", 1, "record checksum mismatch (expected 0x95, found 0x94)");
	expect("S1050000AABB95\nS5030002FA\n", 2,
	       "S5 record count 2 does not match the 1 data records before it");
	expect("S1050000AABB95\nS60400000FEC\n", 2,
	       "S6 record count 15 does not match the 1 data records before it");
	expect("S5040001AA50\n", 1, "S5 count record must have no data, found 1 bytes");
	expect("S9040000AA51\n", 1, "S9 termination record must have no data, found 1 bytes");
	expect("S9030000FC\nS1050000AABB95\n", 2, "content after the termination record (line 1)");
	expect("S00600004844521B\nS00600004844521B\n", 2, "second S0 header record");
	expect("S1050000AABB95\nS00600004844521B\n", 2, "S0 header record after data records");
	expect("S1050000AABB95\nS1050000AABC94\n", 2,
	       "data at 0x00000001 conflicts with line 1 (0xbc here, 0xbb there)");
}

static void test_srec__past_4gib(void)
{
	text[0] = '\0';
	rec(text, 3, 0xffffffff, 4, "\x01\x02", 2);
	expect(text, 1, "data past the 4 GiB address space (last byte at 0x100000000)");
}

static void test_srec__long_line(void)
{
	char *t = malloc(3000);

	memset(t, 'A', 2999);
	t[0] = 'S';
	t[1] = '1';
	t[2999] = '\0';
	T_ERR(parse(t), -EBADMSG);
	T_EQ(err.line, 1);
	T_EQ_STR(err.msg, "line too long (more than 1024 characters)");
	free(t);
}

static void test_srec__counts_ok(void)
{
	text[0] = '\0';
	rec(text, 1, 0, 2, "\x01", 1);
	rec(text, 5, 1, 2, NULL, 0);
	rec(text, 1, 1, 2, "\x02", 1);
	rec(text, 6, 2, 3, NULL, 0); /* counts every data record before it */
	rec(text, 9, 0, 2, NULL, 0);
	T_OK(parse(text));
	T_EQ(img.nseg, 1);
	T_EQ(img.seg[0].len, 2);
}

static void test_srec__overlap_identical_warns(void)
{
	text[0] = '\0';
	rec(text, 1, 0x10, 2, "\x01\x02\x03", 3);
	rec(text, 2, 0x11, 3, "\x02", 1);
	T_OK(parse(text));
	T_EQ(img.nseg, 1);
	T_EQ(img.nwarn_total, 1);
	T_EQ(img.warn[0].line, 2);
	T_EQ(img.warn[0].other_line, 1);
	T_EQ(img.warn[0].addr, 0x11);
}

static void test_load__detect(void)
{
	T_EQ(img_format_detect(":00000001FF\n", 12), IMG_FMT_IHEX);
	T_EQ(img_format_detect("\r\n  S0030000FC\n", 15), IMG_FMT_SREC);
	T_EQ(img_format_detect("S", 1), IMG_FMT_AUTO);
	T_EQ(img_format_detect("\x7f"
			       "ELF",
			       4),
	     IMG_FMT_AUTO);
	T_EQ(img_format_detect("", 0), IMG_FMT_AUTO);
}

static void test_load__parse_by_content(void)
{
	enum img_format used;
	const char *bin = "\x01\x02\x03";

	ihex_release(&img);
	T_OK(img_parse(&img, ":0100100001EE\n:00000001FF\n", 26, IMG_FMT_AUTO, false, 0, &used,
		       &err));
	T_EQ(used, IMG_FMT_IHEX);
	T_EQ(img.seg[0].addr, 0x10);
	ihex_release(&img);
	T_OK(img_parse(&img, "S1050000AABB95\n", 15, IMG_FMT_AUTO, false, 0, &used, &err));
	T_EQ(used, IMG_FMT_SREC);
	ihex_release(&img);
	T_ERR(img_parse(&img, bin, 3, IMG_FMT_AUTO, false, 0, &used, &err), -EBADMSG);
	T_TRUE(strstr(err.msg, "unknown image format") != NULL);
	/* forced: an S-record file read as Intel HEX fails on line 1 */
	T_ERR(img_parse(&img, "S1050000AABB95\n", 15, IMG_FMT_IHEX, false, 0, &used, &err),
	      -EBADMSG);
	T_EQ(err.line, 1);
}

static void test_load__binary(void)
{
	const char bin[] = "\x01\x02\x03\x04";
	enum img_format used;

	ihex_release(&img);
	T_OK(img_parse(&img, bin, 4, IMG_FMT_AUTO, true, 0x08000000, &used, &err));
	T_EQ(used, IMG_FMT_BIN);
	T_EQ(img.nseg, 1);
	T_EQ(img.seg[0].addr, 0x08000000);
	T_EQ(img.seg[0].len, 4);
	T_EQ_MEM(img.seg[0].data, bin, 4);
	T_EQ(img.has_start, 0);
	ihex_release(&img);
	/* a binary that starts with ':' is still a binary when an address is given */
	T_OK(img_parse(&img, ":x", 2, IMG_FMT_AUTO, true, 0, &used, &err));
	T_EQ(used, IMG_FMT_BIN);
	ihex_release(&img);
	T_OK(img_parse(&img, bin, 4, IMG_FMT_BIN, true, 0xfffffffc, &used, &err));
	ihex_release(&img);
	T_ERR(img_parse(&img, bin, 4, IMG_FMT_BIN, true, 0xfffffffd, &used, &err), -EBADMSG);
	T_EQ_STR(err.msg, "binary of 4 bytes at 0xfffffffd runs past the 4 GiB address space");
	T_ERR(img_parse(&img, bin, 4, IMG_FMT_BIN, false, 0, &used, &err), -EINVAL);
	T_EQ_STR(err.msg, "a binary image needs a load address (FILE@ADDR)");
	T_ERR(img_parse(&img, "S1050000AABB95\n", 15, IMG_FMT_SREC, true, 0, &used, &err), -EINVAL);
	T_OK(img_parse(&img, bin, 0, IMG_FMT_BIN, true, 0, &used, &err));
	T_EQ(img.nseg, 0);
}

static void test_load__split_arg(void)
{
	char path[32];
	bool has;
	uint32_t base = 0;

	T_OK(img_split_arg("fw.bin@0x08000000", path, sizeof(path), &has, &base));
	T_EQ_STR(path, "fw.bin");
	T_TRUE(has);
	T_EQ(base, 0x08000000);
	T_OK(img_split_arg("fw.bin@4096", path, sizeof(path), &has, &base));
	T_EQ(base, 4096);
	T_OK(img_split_arg("a@b/fw.hex", path, sizeof(path), &has, &base));
	T_EQ_STR(path, "a@b/fw.hex");
	T_EQ(has, 0);
	T_OK(img_split_arg("fw@0x100000000", path, sizeof(path), &has, &base));
	T_EQ_STR(path, "fw@0x100000000");
	T_EQ(has, 0);
	T_OK(img_split_arg("fw@-1", path, sizeof(path), &has, &base));
	T_EQ(has, 0);
	T_OK(img_split_arg("fw@", path, sizeof(path), &has, &base));
	T_EQ(has, 0);
	T_ERR(img_split_arg("a-very-long-file-name-that-does-not-fit.bin@0", path, sizeof(path),
			    &has, &base),
	      -ENAMETOOLONG);
}

static void test_load__format_names(void)
{
	enum img_format f;

	T_OK(img_format_parse("srec", &f));
	T_EQ(f, IMG_FMT_SREC);
	T_OK(img_format_parse("bin", &f));
	T_EQ(f, IMG_FMT_BIN);
	T_ERR(img_format_parse("s19", &f), -EINVAL);
	T_EQ_STR(img_format_name(IMG_FMT_IHEX), "ihex");
}

static const struct t_case cases[] = {
	T_CASE(srec__s1_s2_s3_header_start),
	T_CASE(srec__s8_s9_start),
	T_CASE(srec__no_termination_no_start),
	T_CASE(srec__crlf_blank_lines_no_final_newline),
	T_CASE(srec__adjacent_records_merge),
	T_CASE(srec__errors_with_line),
	T_CASE(srec__past_4gib),
	T_CASE(srec__long_line),
	T_CASE(srec__counts_ok),
	T_CASE(srec__overlap_identical_warns),
	T_CASE(load__detect),
	T_CASE(load__parse_by_content),
	T_CASE(load__binary),
	T_CASE(load__split_arg),
	T_CASE(load__format_names),
};

int main(void)
{
	int r = t_main(cases, FOTA_ARRAY_SIZE(cases));

	ihex_release(&img);
	return r;
}
