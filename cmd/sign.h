// SPDX-License-Identifier: MIT
/*
 * Signing request text (core/sig.h envelope) with private key files: shared
 * by fota sign and fota request --sign.
 */
#ifndef FOTA_CMD_SIGN_H
#define FOTA_CMD_SIGN_H

#include <stdbool.h>
#include <stddef.h>

#define CMD_SIGN_KEYS_MAX 16 /* --key / --sign options */

/*
 * TEXT (a request, maybe signed already) with a signature line per key file
 * of KEYS[0..n) added after the ones it has; a key that signed already is
 * not added twice. *out is malloc'd (free it). Reports its errors and
 * returns an exit status (0 on success). ids gets the key ids added,
 * space-separated, for the message (may be NULL).
 */
int cmd_sign_text(const char *name, const char *text, size_t len, const char *const *keys, size_t n,
		  char **out, size_t *outlen, char *ids, size_t idsize);

/*
 * Read the request file PATH (a regular file of at most
 * CMD_SERVE_REQUEST_MAX bytes) into *text (malloc'd, NUL-terminated).
 * 0, -EINVAL (not a regular file), -EFBIG, or another -errno; never prints.
 */
int cmd_sign_read_request(const char *path, char **text, size_t *len);

/*
 * The body of TEXT (before its signature lines) must load as a request
 * (core/request.h), into *out when not NULL; with for_signing also with
 * version: and expires:, not expired (what fota serve demands of a signed
 * request). Reports its error; returns 0 or an exit status (3).
 */
struct cfg_request;
int cmd_sign_check_body(const char *path, const char *text, size_t len, struct cfg_request *out,
			bool for_signing);

#endif
