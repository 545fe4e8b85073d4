// SPDX-License-Identifier: MIT
/*
 * Firmware image input in any of the formats fota accepts, detected by
 * content (never by file name): Intel HEX (hex/ihex.h, first non-blank
 * character ':'), Motorola S-record (hex/srec.h, 'S' and a digit), or a raw
 * binary placed at a load address given by the user (FILE@ADDR on the
 * command line, base: in an update request). Never prints.
 */
#ifndef FOTA_HEX_LOAD_H
#define FOTA_HEX_LOAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "hex/ihex.h"

enum img_format {
	IMG_FMT_AUTO = 0, /* detect by content */
	IMG_FMT_IHEX,
	IMG_FMT_SREC,
	IMG_FMT_BIN,
};

/* "ihex", "srec", "bin" (and "auto" for IMG_FMT_AUTO). */
const char *img_format_name(enum img_format f);
/* Parse a --format value: 0, or -EINVAL. */
int img_format_parse(const char *s, enum img_format *f);

/* The format the content says, or IMG_FMT_AUTO when it says nothing. */
enum img_format img_format_detect(const char *buf, size_t len);

/*
 * Parse a file's bytes into img. fmt AUTO detects; a base makes AUTO mean
 * binary and is refused (-EINVAL, message in err) with ihex or srec; binary
 * needs a base. *used (may be NULL) gets the format parsed. Returns 0,
 * -EBADMSG / -EINVAL (err->line 0 unless a record is at fault), -ENOMEM.
 */
int img_parse(struct ihex_image *img, const char *buf, size_t len, enum img_format fmt,
	      bool has_base, uint32_t base, enum img_format *used, struct ihex_error *err);

/*
 * Split a command-line image argument "FILE@ADDR" (ADDR a number as in
 * fota_parse_u64, up to 0xffffffff) into path (copied to path, size bytes)
 * and *base. An argument without '@', or whose text after the last '@' is not
 * such a number, is all path. Returns 0, or -ENAMETOOLONG.
 */
int img_split_arg(const char *arg, char *path, size_t size, bool *has_base, uint32_t *base);

/* Read a whole regular file or pipe into *buf (malloc'd, NUL-terminated);
 * 0 or -errno. */
int img_read_file(const char *path, char **buf, size_t *len);

#endif
