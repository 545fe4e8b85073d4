// SPDX-License-Identifier: MIT
/*
 * core/hexstr.c: the one reader of hex digits and byte strings, behind the
 * configuration's frame data, key masks, key programs' output, request
 * digests and candump text.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include "core/hexstr.h"
#include "tests/unit/t.h"

static void test_hexstr__hexval(void)
{
	static const char digits[] = "0123456789abcdef";

	for (int i = 0; i < 16; i++) {
		T_EQ(fota_hexval(digits[i]), i);
		T_EQ(fota_hexval(digits[i] >= 'a' ? digits[i] - 'a' + 'A' : digits[i]), i);
	}
	/* every other value, EOF and bytes above 0x7F included */
	for (int c = -1; c < 256; c++)
		if (!strchr("0123456789abcdefABCDEF", c) || c == 0)
			if (fota_hexval(c) != -1)
				t_fail(__FILE__, __LINE__, "fota_hexval(%d) = %d", c,
				       fota_hexval(c));
}

/* Parse S (as a C string) with SEPS; returns the rc, bytes in out, count in *len. */
static int parse(const char *s, const char *seps, uint8_t *out, size_t cap, size_t *len)
{
	*len = 999;
	return fota_hex_bytes(s, strlen(s), seps, out, cap, len);
}

static void test_hexstr__bytes(void)
{
	uint8_t out[8];
	size_t n;

	T_OK(parse("0102aBfF", "", out, sizeof(out), &n));
	T_EQ(n, 4);
	T_EQ_MEM(out, "\x01\x02\xab\xff", 4);
	T_OK(parse(" 01:02  03 ", " :", out, sizeof(out), &n));
	T_EQ(n, 3);
	T_EQ_MEM(out, "\x01\x02\x03", 3);
	T_OK(parse("A5\tA5\n", FOTA_HEX_SPACE, out, sizeof(out), &n));
	T_EQ(n, 2);
	/* nothing, or separators only: zero bytes, not an error */
	T_OK(parse("", " ", out, sizeof(out), &n));
	T_EQ(n, 0);
	T_OK(parse(" : ", " :", out, sizeof(out), &n));
	T_EQ(n, 0);
	/* exactly cap bytes fit; one more does not */
	T_OK(parse("0001020304050607", "", out, sizeof(out), &n));
	T_EQ(n, 8);
	T_ERR(parse("000102030405060708", "", out, sizeof(out), &n), -EMSGSIZE);
	T_EQ(n, 999);
}

static void test_hexstr__bad(void)
{
	uint8_t out[8];
	size_t n;

	T_ERR(parse("012", "", out, sizeof(out), &n), -EINVAL);	 /* lone digit */
	T_ERR(parse("0 1", " ", out, sizeof(out), &n), -EINVAL); /* separator inside a byte */
	T_ERR(parse("01-02", " :", out, sizeof(out), &n),
	      -EINVAL);						   /* not this caller's separator */
	T_ERR(parse("0G", "", out, sizeof(out), &n), -EINVAL);	   /* not a digit */
	T_ERR(parse("0x01", "", out, sizeof(out), &n), -EINVAL);   /* no prefix */
	T_ERR(parse("01\xff", "", out, sizeof(out), &n), -EINVAL); /* high byte */
	T_EQ(n, 999);
	/* n bounds the text: a NUL within it is an error, text beyond it is not read */
	T_ERR(fota_hex_bytes("01\0"
			     "02",
			     5, "", out, sizeof(out), &n),
	      -EINVAL);
	T_OK(fota_hex_bytes("0102zz", 4, "", out, sizeof(out), &n));
	T_EQ(n, 2);
	/* a digit at the end of the window has no partner there */
	T_ERR(fota_hex_bytes("0102", 3, "", out, sizeof(out), &n), -EINVAL);
}

static const struct t_case cases[] = {
	T_CASE(hexstr__hexval),
	T_CASE(hexstr__bytes),
	T_CASE(hexstr__bad),
};

int main(void)
{
	return t_main(cases, FOTA_ARRAY_SIZE(cases));
}
