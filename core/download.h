// SPDX-License-Identifier: MIT
/*
 * Firmware download for `fota serve` (a request's firmware_url:, see
 * fota-serve(1) DOWNLOADS): libcurl's easy API, https only, TLS verification
 * always on, into a .part file that survives a restart and is resumed with
 * an HTTP Range request (RFC 9110 §14.2), so no byte is fetched twice.
 *
 * The size and the SHA-256 the (signed) request names are the contract: a
 * server that announces or sends more than `size` bytes is cut off at once,
 * and the file gets its final name only when all of it hashes right. Until
 * then nothing but the .part exists; a permanent failure removes that too.
 *
 * Blocking: run it in a worker thread (core/worker.h). It polls *cancel at
 * least every 100 ms, also while waiting to retry.
 */
#ifndef FOTA_CORE_DOWNLOAD_H
#define FOTA_CORE_DOWNLOAD_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#define FOTA_DL_ATTEMPTS    4	       /* attempts in a row that fetch no new byte, then failed */
#define FOTA_DL_BACKOFF_S   1	       /* wait before the 2nd attempt, doubled up to ... */
#define FOTA_DL_BACKOFF_MAX 16	       /* ... this many seconds */
#define FOTA_DL_REDIRS	    5	       /* redirects followed, https:// ones only */
#define FOTA_DL_SYNC_BYTES  (1u << 20) /* the .part is fsync'ed after this many bytes */

enum fota_dl_result {
	FOTA_DL_OK,
	FOTA_DL_CANCELLED, /* *cancel was set: the .part is kept for the next start */
	FOTA_DL_FAILED,	   /* HTTP 4xx, or transient failures FOTA_DL_ATTEMPTS times */
	FOTA_DL_TOO_BIG,   /* size: above max_bytes, or the server offered/sent more */
	FOTA_DL_SHA256,	   /* all size: bytes arrived and their digest is not sha256: */
	FOTA_DL_TLS,	   /* the server's certificate does not verify */
	FOTA_DL_LOCAL,	   /* our own disk: the .part cannot be written */
};

struct fota_download {
	const char *url;  /* https:// (cfg_url_https_ok) */
	const char *ca;	  /* CA file; NULL or "": the system's */
	const char *part; /* STATE_DIR/downloads/ID.part */
	const char *dest; /* the final name, renamed to once verified */
	uint64_t size;	  /* the request's size: */
	uint8_t sha256[32];
	uint64_t max_bytes; /* 0: no limit but size */
	uint32_t stall_s;   /* no byte for this long: the attempt fails */
	uint32_t connect_s; /* TCP + TLS handshake */
	const atomic_bool *cancel;
	/* called now and then from the download's thread: bytes in the .part */
	void (*progress)(void *ctx, uint64_t have, uint64_t total);
	void *ctx;
	/* out */
	unsigned attempts;   /* HTTP requests made */
	uint64_t resumed_at; /* bytes already there when the first request was made */
};

/*
 * Download d->url to d->dest through d->part: FOTA_DL_OK, or a result
 * with a one-line reason in WHY. A .part already holding size: bytes is
 * only verified (no request at all); a shorter one is resumed. Transient
 * failures (refused, reset, stalled, truncated, HTTP 5xx/408/429) are
 * retried with backoff until FOTA_DL_ATTEMPTS in a row fetched nothing.
 * FOTA_DL_CANCELLED keeps the .part for the next start; every other
 * failure removes it.
 */
enum fota_dl_result fota_download_run(struct fota_download *d, char *why, size_t whylen);

/* The report's reason_code for a result: "download_failed", "download_too_big", ... */
const char *fota_download_code(enum fota_dl_result r);

/* Bytes in the .part file PATH (0 when there is none). */
uint64_t fota_download_have(const char *path);

/* curl_global_init, once per process before any thread runs a download. */
int fota_download_global_init(void);

#endif
