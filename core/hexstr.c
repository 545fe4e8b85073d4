// SPDX-License-Identifier: MIT
/* Hexadecimal digits and byte strings (core/hexstr.h). */
#include <errno.h>
#include <string.h>
#include "core/hexstr.h"

int fota_hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static int is_sep(char c, const char *seps)
{
	return c && strchr(seps, c);
}

int fota_hex_bytes(const char *s, size_t n, const char *seps, uint8_t *out, size_t cap, size_t *len)
{
	size_t i = 0, k = 0;

	while (i < n) {
		int hi, lo;

		if (is_sep(s[i], seps)) {
			i++;
			continue;
		}
		hi = fota_hexval((unsigned char)s[i]);
		lo = hi >= 0 && i + 1 < n ? fota_hexval((unsigned char)s[i + 1]) : -1;
		if (lo < 0)
			return -EINVAL;
		if (k == cap)
			return -EMSGSIZE;
		out[k++] = (uint8_t)(hi << 4 | lo);
		i += 2;
	}
	*len = k;
	return 0;
}
