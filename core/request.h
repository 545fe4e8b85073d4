// SPDX-License-Identifier: MIT
/*
 * Update request files (fota.yaml(5), REQUEST FILES): what the cloud platform
 * would send, dropped as STATE_DIR/inbox/NAME.yaml for `fota serve`:
 *   id: 3f2b8c1e-9a4d-4e7f-8b21-0c5d6e7f8a90   # UUID version 4
 *   ecu: hydraulics                            # an ECU name of the configuration
 *   firmware: hx200-2.1.hex                    # relative to the request file, or
 *   firmware_url: https://host/hx200-2.1.hex   # downloaded by serve (then size: is required)
 *   sha256: 64 hex digits                      # of the firmware file
 *   expect: { F189: "2.1.0" }                  # optional: reported after the update
 *   base: 0x08000000                           # optional: firmware is a raw binary
 *   size: 1234                                 # optional: bytes of the firmware file
 *   version: 2.1.0                             # optional: software version (rollback)
 *   expires: 2026-12-31T00:00:00Z              # optional: refused from then on
 *   not_before: 2026-12-01T00:00:00Z           # optional: refused until then
 *   allow_downgrade: true                      # optional: a lower version may follow
 * A signed request (core/sig.h) is its body plus #fota-sig lines; only the
 * body is parsed here, so a loaded request is exactly what was signed.
 * Loaded with the same strict rules as the configuration. Checking that the
 * ECU exists and that the firmware matches is the caller's job.
 */
#ifndef FOTA_CORE_REQUEST_H
#define FOTA_CORE_REQUEST_H

#include <stdint.h>
#include "core/config.h"

#define CFG_UUID_LEN	36
#define CFG_EXPECT_MAX	8    /* entries of `expect:` */
#define CFG_VERSION_MAX 64   /* version: NUL included */
#define CFG_FW_URL_MAX	1024 /* firmware_url: NUL included */

/* `expect: { F189: "2.1.0" }`: what the ECU must report after the update. */
struct cfg_expect {
	uint16_t did;		/* 0x0001..0xFFFE */
	char value[2 * 64 + 8]; /* as fota info prints it: text, or hex:BYTES */
};

struct cfg_request {
	char id[CFG_UUID_LEN + 1];   /* lowercased UUID v4 */
	char ecu[CFG_NAME_MAX];	     /* ECU name (not checked against a configuration) */
	char firmware[CFG_PATH_MAX]; /* as resolved: absolute, or joined to the request's dir */
	/* firmware_url: an https:// URL serve downloads (firmware then ""); "" when absent */
	char firmware_url[CFG_FW_URL_MAX];
	uint8_t sha256[32];			  /* expected digest of the firmware file */
	char sha256_hex[65];			  /* the same, lowercase hex */
	struct cfg_expect expect[CFG_EXPECT_MAX]; /* optional, request order */
	size_t nexpect;
	bool has_base; /* base: given; the firmware is a raw binary loaded there */
	uint32_t base;
	bool has_size; /* size: bytes of the firmware file */
	uint64_t size;
	char version[CFG_VERSION_MAX]; /* "" when absent; cfg_version_ok() */
	int64_t expires;	       /* UNIX s; 0 when absent */
	int64_t not_before;	       /* UNIX s; 0 when absent */
	bool allow_downgrade;
};

/*
 * Load the request file PATH. Returns 0; -EBADMSG with *err positioned
 * (syntax, unknown/duplicate/missing key, not a UUID v4, bad digest);
 * -ENOENT etc. (err->line 0) when the file cannot be read.
 */
int cfg_load_request(const char *path, struct cfg_request *req, struct cfg_error *err);

/* The same over a buffer; a relative firmware path is joined to dirname(NAME). */
int cfg_load_request_string(const char *text, size_t len, const char *name, struct cfg_request *req,
			    struct cfg_error *err);

/*
 * The id of a request that may not load (unknown key, missing sha256, ...):
 * the single top-level `id:` scalar of a YAML mapping, when it is a UUID
 * version 4; lowercased into ID. false (ID empty) otherwise, also when TEXT
 * is not YAML or names `id` twice.
 */
bool cfg_request_peek_id(const char *text, size_t len, char id[CFG_UUID_LEN + 1]);

/*
 * Versions (rollback protection): one or more decimal numbers separated by
 * dots ("7", "2.1.0"), at most 8 numbers of at most 9 digits each. Compared
 * number by number, a missing number counting as 0 ("2.1" == "2.1.0" <
 * "2.10"). cfg_version_cmp() returns <0, 0, >0; both must be ok.
 */
bool cfg_version_ok(const char *s);
int cfg_version_cmp(const char *a, const char *b);

/*
 * An RFC 3339 UTC time "2026-12-31T23:59:59Z" (upper-case T and Z, no
 * fraction, no offset) to UNIX seconds; -EINVAL otherwise. cfg_time_str()
 * writes one (buf of at least 21 bytes).
 */
int cfg_time_parse(const char *s, int64_t *out);
void cfg_time_str(int64_t t, char *buf, size_t size);

/*
 * Is S a firmware_url we download: "https://" (scheme case-insensitive, RFC
 * 3986 §3.1), a non-empty host, shorter than CFG_FW_URL_MAX, and only visible
 * ASCII (no space, no control character: nothing a log line or a header
 * could be split by)? false with a reason in WHY (may be NULL) otherwise.
 */
bool cfg_url_https_ok(const char *s, char *why, size_t whylen);

/* Is S a UUID version 4 (8-4-4-4-12 hex, version nibble 4, variant 8..b)? */
bool cfg_uuid_v4_ok(const char *s);

#endif
