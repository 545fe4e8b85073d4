// SPDX-License-Identifier: MIT
/*
 * Pieces of `fota serve` (cmd/serve.c) that stand on their own and have unit
 * tests (tests/unit/test_serve.c): the inbox of update requests (listing in
 * creation order, package verification), the outbox reports (JSON, written
 * atomically) and the atomic file writer. Documented for users in
 * man/fota-serve.1 (FILES: the state directory layout and the report keys).
 */
#ifndef FOTA_CMD_SERVE_H
#define FOTA_CMD_SERVE_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <json-c/json.h>
#include "core/config.h"
#include "core/request.h"
#include "hex/ihex.h"

#define CMD_SERVE_NAME_MAX    256    /* a file name inside inbox/, NUL included */
#define CMD_SERVE_REQUEST_MAX 65536u /* a request file larger than this is not one */

/* The state directory DIR of fota serve and its subdirectories. */
struct serve_paths {
	char dir[CFG_PATH_MAX], inbox[CFG_PATH_MAX + 8], outbox[CFG_PATH_MAX + 8],
		done[CFG_PATH_MAX + 8], firmware[CFG_PATH_MAX + 16];
};

/*
 * Open the state directory p->dir for one fota serve: the subdirectories
 * made (inbox, outbox, done: 0755; firmware: 0700), an exclusive flock on
 * DIR/lock taken and held through *lockfd until the process ends (the
 * kernel releases it even after SIGKILL; the file holds the PID for the
 * message of a second serve), then the temporary files a power cut during
 * an atomic write left (NAME.tmp in DIR, outbox/, firmware/) removed.
 * Reports its errors. 0, -EBUSY (another serve holds the lock), or -errno.
 */
int cmd_serve_open_state(struct serve_paths *p, int *lockfd);

/* One request file of the inbox: STATE_DIR/inbox/NAME (NAME ends in .yaml). */
struct cmd_serve_entry {
	char name[CMD_SERVE_NAME_MAX];
	int64_t mtime_ns; /* creation order: modification time, then name */
};

/*
 * List DIR's request files (*.yaml, not starting with '.') in creation order:
 * ascending mtime, ties broken by name (strcmp). *out is malloc'd (free it),
 * *n its count. Names too long for CMD_SERVE_NAME_MAX are skipped. Returns 0
 * or -errno from opendir() (-ENOENT if DIR is missing).
 */
int cmd_serve_inbox_list(const char *dir, struct cmd_serve_entry **out, size_t *n);

/* The order of cmd_serve_inbox_list() (qsort comparator over struct cmd_serve_entry). */
int cmd_serve_entry_cmp(const void *a, const void *b);

/* A verified package: the request, its ECU and the loaded image. */
struct cmd_serve_pkg {
	struct cfg_request req;
	const struct cfg_ecu *ecu; /* into the configuration */
	struct ihex_image img;	   /* owned: cmd_serve_pkg_release() */
	uint64_t bytes;		   /* image data bytes */
	bool id_known;		   /* req.id is valid (the request file parsed) */
	bool signed_ok;		   /* signed, and the signatures met the trust policy */
	const char *reject_code;   /* a refusal a platform can act on (CMD_SERVE_R_*), or NULL */
};

/*
 * The report's "reason_code" of a refused request, for a platform to act
 * on: the signature checks (fota_sig_result_code(): unsigned, bad_signature,
 * unknown_key, threshold_not_met, malformed_signature) and these.
 */
#define CMD_SERVE_R_EXPIRED	  "expired"	  /* expires: is past */
#define CMD_SERVE_R_NOT_YET_VALID "not_yet_valid" /* not_before: is still ahead */
#define CMD_SERVE_R_CLOCK	  "clock_not_set" /* the wall clock is before fota's build */
#define CMD_SERVE_R_ROLLBACK	  "rollback"	  /* version lower than the one installed */
#define CMD_SERVE_R_INCOMPLETE	  "incomplete"	  /* a signed request lacks version: or expires: */
#define CMD_SERVE_R_SIZE	  "size_mismatch" /* size: is not the firmware file's */
#define CMD_SERVE_R_SHA256	  "sha256_mismatch" /* the firmware is not the bytes the request names */

/*
 * The earliest plausible wall clock (UNIX s): the date of the commit fota
 * was built from (FOTA_BUILD_EPOCH), or FOTA_CLOCK_FLOOR from the
 * environment when that is later. Before it, a TCU's clock is not set and
 * no expiry can be judged.
 */
int64_t cmd_serve_clock_floor(void);

/*
 * STATE_DIR/versions: the highest version installed per ECU (an update
 * that ended 0x40), lines "ECU VERSION", replaced atomically. get: 0 with
 * the version, -ENOENT for none, -EBADMSG for a file that does not parse.
 * raise: keep the higher of the stored and VERSION; 0 or -errno.
 */
#define CMD_SERVE_VERSIONS "versions"
int cmd_serve_version_get(const char *state_dir, const char *ecu, char *out, size_t size);
int cmd_serve_version_raise(const char *state_dir, const char *ecu, const char *version);

/*
 * Read and parse the request file PATH: a regular file (opened without
 * blocking) of at most CMD_SERVE_REQUEST_MAX bytes. 0, or -errno with a
 * one-line reason (-EBADMSG: not a request; -ENOENT: gone). When the file
 * is read but does not load, req->id still holds its `id:` if that is a UUID
 * version 4 (cfg_request_peek_id()), else "": the report's name.
 */
int cmd_serve_load_request(const char *path, struct cfg_request *req, char *why, size_t whylen);

struct cmd_serve_verify_opts {
	uint64_t max_bytes; /* largest firmware file accepted (tcu.max_firmware_bytes) */
	const char *
		source; /* read the firmware from here (the private copy), not the request's path */
	const char *copy_dir; /* keep the verified bytes as COPY_DIR/<id> (atomically); NULL: no */
	const atomic_bool *cancel; /* checked between chunks (worker thread); may be NULL */
	const char *state_dir;	   /* rollback: STATE_DIR/versions; NULL: not checked */
	int64_t now_wall;	   /* expiry checks: UNIX s; 0: the wall clock now */
	int64_t clock_floor;	   /* 0: cmd_serve_clock_floor() */
	/* stop after the request's checks (signatures, policy), before any firmware byte:
	 * a firmware_url request is checked so before it may cost a download */
	bool request_only;
};

/*
 * Load and check the request file PATH against CFG, in the order a platform
 * expects the reasons: the request is a regular file of at most
 * CMD_SERVE_REQUEST_MAX bytes and parses (keys id, ecu, firmware, sha256;
 * only the signed body, core/sig.h), the ECU name is known, its signatures
 * meet cfg->trust (the very bytes parsed), a signed request has version:
 * and expires:, the clock is plausible and the request neither expired nor
 * not yet valid, its version is not below the ECU's installed one (unless
 * allow_downgrade: true), the firmware's size matches size:, the firmware is a regular file (opened without
 * blocking: a FIFO or a device is refused) of at most o->max_bytes, its
 * SHA-256 matches, it is valid Intel HEX, and every byte lies inside the
 * ECU's memory regions. The firmware is read once: the bytes hashed are the
 * bytes parsed and the bytes copied to o->copy_dir. Returns 0 with *pkg
 * filled (release it), or a negative errno with a one-line reason in why
 * ("firmware x.hex: sha256 mismatch (...)"); *pkg then holds nothing to
 * release, but req/id_known are kept when the request itself parsed.
 *   -EBADMSG  request, ECU name, file type or size, digest, HEX or regions wrong
 *   -ENOENT   request or firmware file missing;  -ECANCELED;  other -errno
 *             (-ENOSPC: the copy could not be written)
 */
int cmd_serve_verify(const char *path, const struct fota_config *cfg,
		     const struct cmd_serve_verify_opts *o, struct cmd_serve_pkg *pkg, char *why,
		     size_t whylen);
void cmd_serve_pkg_release(struct cmd_serve_pkg *pkg);

/* SHA-256 of a whole file (OpenSSL EVP). 0 or -errno (-EIO if libcrypto fails). */
int cmd_serve_sha256_file(const char *path, uint8_t out[32]);

/*
 * Write len bytes to DIR/NAME atomically: DIR/.NAME.tmp written, fsync'ed,
 * renamed over DIR/NAME, then DIR fsync'ed. 0 or -errno (no temp file left).
 */
int cmd_serve_write_atomic(const char *dir, const char *name, const void *data, size_t len);

/*
 * Platform-side status of a request (the report's "status"): "pending"
 * (queued or offered), "in progress" (approved: flashing or verifying),
 * "successful", "failed", "cancelled".
 */
#define CMD_SERVE_PENDING     "pending"
#define CMD_SERVE_IN_PROGRESS "in progress"
#define CMD_SERVE_SUCCESSFUL  "successful"
#define CMD_SERVE_FAILED      "failed"
#define CMD_SERVE_CANCELLED   "cancelled"

/* The status a platform sees for an update_status value (0x00 and 0x01 and 0x10 included). */
const char *cmd_serve_platform_status(uint8_t update_status, bool offered);

/*
 * A report: the JSON object of STATE_DIR/outbox/<id>.json. Keys (stable, see
 * fota-serve(1)): id, request_file, ecu, firmware, sha256, image_bytes,
 * status, reason, update_status, update_status_text, attempts,
 * received_time, update_available_time, update_start_time,
 * update_end_time, update_progress, log (array of entries with time, event
 * and, where they apply, step, segment, nrc, nrc_name, message).
 * Times are UNIX seconds (UTC) or null when not reached.
 */
struct cmd_serve_report {
	json_object *o;
	char file[CMD_SERVE_NAME_MAX + 8]; /* "<id>.json" in the outbox */
};

/*
 * A fresh report named after id (or, when the request did not parse, after
 * the request file's name without .yaml), status pending, no update_status.
 * Returns 0 or -ENOMEM.
 */
int cmd_serve_report_new(struct cmd_serve_report *r, const char *id, const char *request_file,
			 uint32_t now_wall);
/* Read OUTBOX/<id>.json back. 0, -ENOENT, -EBADMSG (not a JSON object). */
int cmd_serve_report_load(struct cmd_serve_report *r, const char *outbox, const char *id);
void cmd_serve_report_release(struct cmd_serve_report *r);

/* Setters; NULL strings store JSON null. Times of 0 store null. */
void cmd_serve_report_set_str(struct cmd_serve_report *r, const char *key, const char *val);
void cmd_serve_report_set_int(struct cmd_serve_report *r, const char *key, int64_t val);
void cmd_serve_report_set_time(struct cmd_serve_report *r, const char *key, uint32_t t);
/* The report's "status" string, or NULL. */
const char *cmd_serve_report_status(const struct cmd_serve_report *r);
/*
 * A rejection: "failed" without an update_status, i.e. the request never
 * reached the TCU (it did not verify). Its id is not used up: a corrected
 * request with the same id is accepted and replaces the report.
 */
bool cmd_serve_report_rejected(const struct cmd_serve_report *r);

/*
 * STATE_DIR/last-rejection.json: the request fota serve refused last, for
 * `fota status` on the same machine (the bus has no object for it): {"id":
 * ID or null, "request_file", "reason", "time"}. Written atomically; a write
 * that fails is only logged, the report in the outbox is what counts.
 */
#define CMD_SERVE_LAST_REJECTION "last-rejection.json"
void cmd_serve_last_rejection_write(const char *state_dir, const char *id, const char *request_file,
				    const char *reason, uint32_t now_wall);
/*
 * Read STATE_DIR/last-rejection.json into *o (json_object_put() it). 0,
 * -ENOENT, or -EBADMSG for a file that is not such an object.
 */
int cmd_serve_last_rejection_read(const char *state_dir, struct json_object **o);

/*
 * Append a log entry {time, event, ...}: step NULL, segment < 0, nrc 0 and
 * message NULL leave those keys out; nrc_name comes from uds_nrc_str().
 */
void cmd_serve_report_log(struct cmd_serve_report *r, uint32_t now_wall, const char *event,
			  const char *step, int segment, uint8_t nrc, const char *message);

/* Write the report to OUTBOX/<file> atomically (pretty JSON plus newline). 0 or -errno. */
int cmd_serve_report_write(const struct cmd_serve_report *r, const char *outbox);

/*
 * INBOX/NAME -> DONE/NAME, never replacing a file already archived there (a
 * reused name gets DONE/NAME.1, .2, ...; a name too long for a suffix is
 * shortened and given a digest of the whole name), and durable: both
 * directories are fsync'ed. 0 (also when INBOX/NAME is gone) or -errno.
 */
int cmd_serve_move_done(const char *inbox, const char *done, const char *name);

/*
 * Remove the temporary files (NAME.tmp) that a power cut during an atomic
 * write can leave in DIR. Returns how many were removed, or -errno.
 */
int cmd_serve_clean_tmp(const char *dir);

/*
 * A file name of at most max bytes made of prefix, base and suffix: when they
 * are too long together, base is cut and followed by '-' and 16 hex digits of
 * its SHA-256, so distinct long names stay distinct. (Reports use NAME_MAX - 4:
 * the atomic writer's temporary file adds ".tmp".)
 */
void cmd_serve_file_name(char *out, size_t size, size_t max, const char *prefix, const char *base,
			 size_t baselen, const char *suffix);

#endif
