// SPDX-License-Identifier: MIT
/*
 * Hexadecimal text, read in one place: a digit's value, and byte strings
 * written as pairs of digits ("01 02", "0102", "01:02"), each caller saying
 * which separators its syntax allows. Hot loops that want a table (the
 * Intel HEX loader) build it from fota_hexval().
 */
#ifndef FOTA_CORE_HEXSTR_H
#define FOTA_CORE_HEXSTR_H

#include <stddef.h>
#include <stdint.h>

/* White space, as isspace() in the C locale: for seps below. */
#define FOTA_HEX_SPACE " \t\n\v\f\r"

/* The value of hex digit C (0-9, a-f, A-F) or -1. Any int, EOF included. */
int fota_hexval(int c);

/*
 * Parse the N characters at S as bytes, two hex digits each. Any character
 * of SEPS (a string, may be "") may stand before, between and after the
 * bytes, never between the two digits of one. Writes at most cap bytes to
 * out and their count to *len (0 for an empty string or separators only).
 * Returns 0; -EINVAL for any other character (a NUL within N included) or
 * a lone digit; -EMSGSIZE when there are more than cap bytes. *len is set
 * only on success; out may have been written to on failure.
 */
int fota_hex_bytes(const char *s, size_t n, const char *seps, uint8_t *out, size_t cap,
		   size_t *len);

#endif
