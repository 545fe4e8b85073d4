// SPDX-License-Identifier: MIT
/*
 * Motorola S-record loader: text -> struct ihex_image (hex/ihex.h), the
 * sibling of the Intel HEX loader with the same image, error and overlap
 * rules. Records (Motorola "M68000 Family Programmer's Reference Manual",
 * appendix C, S-record output format): S0 header, S1/S2/S3 data with a 16,
 * 24 or 32-bit address, S5/S6 count of the data records before it (16 or
 * 24-bit), S7/S8/S9 termination with a 32, 24 or 16-bit start address. Each
 * record: 'S', type digit, byte count (address + data + checksum bytes),
 * address, data, checksum = ones' complement of the low byte of the sum of
 * the count, address and data bytes. S4 is reserved and refused.
 */
#ifndef FOTA_HEX_SREC_H
#define FOTA_HEX_SREC_H

#include <stddef.h>
#include "hex/ihex.h"

/*
 * Parse len bytes of S-record text into img (overwritten). The S0 header goes
 * to img->header; S7/S8/S9 set img->start (linear). Lines: CR LF or LF,
 * trailing blanks and blank lines allowed, at most IHEX_MAX_LINE characters.
 * The termination record is optional (srec_cat leaves it out when the image
 * has no start address: then has_start is false); after one, only blank
 * lines may follow. A truncated file is caught by its S5/S6 count, if any.
 * Returns 0; -EBADMSG with err->line and err->msg; -ENOMEM. img is left
 * empty on failure.
 */
int srec_parse(struct ihex_image *img, const char *text, size_t len, struct ihex_error *err);

#endif
