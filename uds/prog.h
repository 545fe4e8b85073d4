// SPDX-License-Identifier: MIT
/*
 * The UDS programming sequence (ISO 14229-1 §9.2, §9.4, §13.2, §14.2-§14.6,
 * in the order of the usual OEM bootloader flow), sans-I/O, on top of the
 * UDS client:
 *
 *   [10 03] [85 02] [28 03 01]     optional pre-programming
 *   10 02                          programming session
 *   27 L / 27 L+1                  seed/key (zero seed = already unlocked)
 *   [2E <did> <fingerprint>]       optional fingerprint (WriteDataByIdentifier, §10.7)
 *   per segment:
 *     [31 01 <erase> alfid a s]    optional erase routine
 *     34 dfi alfid a s             RequestDownload -> maxNumberOfBlockLength
 *     36 bsc data ...              TransferData, bsc 1,2,..,0xFF,0x00,..
 *                                  (compressed: one stream per segment, cut
 *                                  into blocks; s stays the uncompressed size)
 *     37                           RequestTransferExit
 *   [31 01 <check> crc32]          optional check routine, CRC-32 of all data sent
 *   [11 01|03]                     ECUReset
 *
 * With identification DIDs (cfg.identify), ReadDataByIdentifier of them
 * (uds/rdbi.h) first, in the default session (best effort: the answers or
 * their absence are kept), and again after the sequence (after the final
 * ECUReset: repeated until the application answers or identify_wait_ms
 * passed); then the expected values (cfg.expect) are compared.
 *
 * The engine owns a uds_client; the caller moves PDUs between it and ISO-TP
 * with uds_prog_output()/uds_prog_input() and passes time in.
 */
#ifndef FOTA_UDS_PROG_H
#define FOTA_UDS_PROG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "core/compress.h"
#include "core/time.h"
#include "uds/client.h"
#include "uds/rdbi.h"

/* A value expected after the reset: the DID's data as uds_did_format() prints it. */
struct uds_prog_expect {
	uint16_t did;
	const char *value; /* not copied */
};

#define UDS_PROG_IDENTIFY_WAIT_MS 10000 /* default identify_wait_ms */

/* One contiguous piece of the image (the HEX loader's segments map 1:1). */
struct uds_segment {
	uint32_t addr;
	uint32_t len;	     /* > 0 */
	const uint8_t *data; /* not copied: valid until the sequence ends */
};

/*
 * The seed/key algorithm (implemented in uds/key.c for xor:, cmd:, lib:).
 * Writes the key for seed[0..n) at security level `level` (the odd
 * requestSeed value) into key[0..cap) and its length into *klen. Returns 0 or
 * a negative errno (the sequence then fails at step SendKey with that error).
 * -EINPROGRESS: the key is computed elsewhere (a worker thread: a `cmd:`
 * program may run for seconds) and handed over with uds_prog_key_done(); no
 * request is outstanding meanwhile, so the client's TesterPresent keeps the
 * session alive.
 */
typedef int (*uds_compute_key_fn)(void *ctx, uint8_t level, const uint8_t *seed, size_t n,
				  uint8_t *key, size_t cap, size_t *klen);

#ifndef UDS_KEY_MAX
#define UDS_KEY_MAX 256 /* cap passed to compute_key (same value as uds/key.h) */
#endif

enum uds_prog_step {
	UDS_PROG_STEP_NONE = 0,
	UDS_PROG_STEP_IDENTIFY_BEFORE,	   /* 22 <did>... in the default session, before all */
	UDS_PROG_STEP_EXTENDED_SESSION,	   /* 10 03 */
	UDS_PROG_STEP_DTC_OFF,		   /* 85 02 */
	UDS_PROG_STEP_COMM_CONTROL,	   /* 28 <type> <comm> */
	UDS_PROG_STEP_PROGRAMMING_SESSION, /* 10 02 */
	UDS_PROG_STEP_REQUEST_SEED,	   /* 27 L */
	UDS_PROG_STEP_SEND_KEY,		   /* 27 L+1 */
	UDS_PROG_STEP_FINGERPRINT,	   /* 2E <did> <record> */
	UDS_PROG_STEP_ERASE,		   /* 31 01 <erase routine> */
	UDS_PROG_STEP_REQUEST_DOWNLOAD,	   /* 34 */
	UDS_PROG_STEP_TRANSFER_DATA,	   /* 36 */
	UDS_PROG_STEP_TRANSFER_EXIT,	   /* 37 */
	UDS_PROG_STEP_CHECK,		   /* 31 01 <check routine> */
	UDS_PROG_STEP_RESET,		   /* 11 */
	UDS_PROG_STEP_IDENTIFY_AFTER,	   /* 22 <did>... after the sequence (the reset) */
	UDS_PROG_STEP_DONE,
};

/* "RequestDownload", "SendKey", ...: the name used in messages and JSON events. */
const char *uds_prog_step_str(enum uds_prog_step step);

enum uds_prog_event_type {
	UDS_PROG_EV_STEP_START, /* a step begins (TransferData: once per segment) */
	UDS_PROG_EV_STEP_DONE,	/* a step ended: err 0 or the failure */
	UDS_PROG_EV_PROGRESS,	/* a TransferData block was acknowledged */
	UDS_PROG_EV_RETRY,	/* TransferData timed out; the same block is sent again */
	UDS_PROG_EV_PENDING, /* NRC 0x78 ended a wait (reported once per request, count in `pending`) */
};

struct uds_prog_event {
	enum uds_prog_event_type type;
	enum uds_prog_step step;
	int segment;	      /* index into the segment array, -1 for whole-sequence steps */
	uint32_t addr, len;   /* the segment's range (segment >= 0) */
	int err;	      /* STEP_DONE: 0 or -errno */
	uint8_t nrc;	      /* STEP_DONE: the NRC, 0 if none */
	unsigned pending;     /* PENDING / STEP_DONE: NRC 0x78 seen for the request */
	unsigned attempt;     /* RETRY: 1 for the first retry */
	uint8_t bsc;	      /* RETRY / PROGRESS: blockSequenceCounter of the block */
	uint64_t done, total; /* PROGRESS: bytes acknowledged / image bytes */
	fota_us now;
};

struct uds_prog_cfg {
	/* Pre-programming, each optional, in this order. */
	bool extended_session;	   /* 10 03 first */
	bool dtc_off;		   /* 85 02 */
	bool comm_control;	   /* 28 <comm_control_type> <comm_type> */
	uint8_t comm_control_type; /* default 0x03 disableRxAndTx */
	uint8_t comm_type;	   /* default 0x01 normalCommunicationMessages */

	uint8_t security_level;		/* odd requestSeed value; 0 = no SecurityAccess */
	uds_compute_key_fn compute_key; /* required when security_level != 0 */
	void *key_ctx;

	/*
	 * Fingerprint: WriteDataByIdentifier of fingerprint_did with
	 * fingerprint[0..fingerprint_len) (not copied) after SecurityAccess,
	 * before any erase or download. fingerprint_len 0 = none.
	 */
	uint16_t fingerprint_did;
	const uint8_t *fingerprint;
	size_t fingerprint_len;

	bool erase;		/* erase routine before each segment's download */
	uint16_t erase_routine; /* default 0xFF00 (eraseMemory, ISO 14229-1 Table F.1) */
	uint8_t erase_alfid;	/* option record: alfid addr size; default = alfid */
	bool erase_no_record;	/* erase routine without option record (one call erases all) */
	/*
	 * If nerase_ranges > 0: erase these ranges (their data is unused) once,
	 * after SecurityAccess and before the first download, instead of each
	 * segment's own range (a whole flash sector or region at a time).
	 */
	const struct uds_segment *erase_ranges;
	size_t nerase_ranges;
	uint8_t programming_session; /* 0x10 sub-function; 0 = 0x02 programmingSession */

	uint8_t alfid; /* RequestDownload addressAndLengthFormatIdentifier, default 0x44 */
	uint8_t dfi;   /* dataFormatIdentifier, default 0x00 (no compression/encryption) */
	/*
	 * Compress each segment's data into one stream (core/compress.h) that
	 * the TransferData blocks carry; dfi must then name the method. The
	 * RequestDownload memorySize and the check routine's CRC-32 stay those
	 * of the uncompressed bytes (ISO 14229-1 §14.2.2.2: the server compares
	 * memorySize with the uncompressed data it received). COMPRESS_NONE:
	 * the data as it is.
	 */
	enum fota_compress_method compression;
	int compression_level; /* -1 = the method's default */
	uint32_t
		max_block_len; /* cap on the TransferData PDU length (SID+counter+data); 0 = ECU's */

	bool check;		/* check routine with the CRC-32 of everything sent */
	uint16_t check_routine; /* default 0x0202 */
	bool check_no_crc;	/* check routine without the CRC-32 option record */

	uint8_t reset_type; /* final ECUReset: UDS_RESET_NONE (0, no reset), _HARD, _SOFT, _KEY_OFF_ON */

	/*
	 * The first request (the first session change) is sent again after
	 * each P2 timeout until this long after the start: an ECU that was just
	 * powered or switched to its bootloader may not listen yet. 0 = once.
	 */
	uint32_t wait_ecu_ms;

	/*
	 * Identification DIDs read before and after programming (not copied;
	 * 0..UDS_RDBI_MAX, no duplicates), and the values expected after it
	 * (each DID among identify). A mismatch, or an expected DID the ECU
	 * does not report, fails the sequence at IDENTIFY_AFTER with -EBADMSG
	 * and "ECU reports F189 = X, expected Y".
	 */
	const uint16_t *identify;
	size_t nidentify;
	const struct uds_prog_expect *expect;
	size_t nexpect;
	uint32_t identify_wait_ms; /* after the sequence; 0 = UDS_PROG_IDENTIFY_WAIT_MS */

	unsigned transfer_retries; /* TransferData resends after a P2/P2* timeout; default 1 */
	bool no_transfer_retry;	   /* set to disable resending altogether */

	/* Called synchronously from the engine's calls; may be NULL. */
	void (*on_event)(void *ctx, const struct uds_prog_event *ev);
	void *event_ctx;
};

/* The outcome: err 0 or -errno with the step, service and NRC that failed. */
struct uds_prog_result {
	int err;		 /* -EINPROGRESS while running */
	enum uds_prog_step step; /* the failing step (DONE on success) */
	uint8_t sid;		 /* its request SID */
	uint8_t nrc;		 /* NRC if the ECU refused, else 0 */
	int segment;		 /* segment index for per-segment steps, else -1 */
	char msg[192];		 /* extra detail for failures that are not an NRC, or "" */
};

/* The engine; members are private. */
struct uds_prog {
	struct uds_prog_cfg cfg;
	struct uds_client client;
	const struct uds_segment *seg;
	size_t nseg, iseg;
	size_t ierase; /* next of cfg.erase_ranges */
	enum uds_prog_step step;
	bool running, cancel;
	bool key_wait; /* compute_key said -EINPROGRESS: waiting for uds_prog_key_done() */
	bool first;    /* no answer of any kind yet (wait_ecu_ms) */
	fota_us t_start;
	unsigned first_tries;	       /* first request sent again (wait_ecu_ms) */
	uint32_t block_data;	       /* data bytes per TransferData */
	uint32_t offset;	       /* within the current segment (uncompressed bytes taken) */
	uint32_t chunk;		       /* data bytes in the block in flight */
	bool td_first;		       /* the next TransferData is the segment's first */
	struct fota_compress_enc *enc; /* cfg.compression: the segment's stream */
	uint8_t bsc;
	unsigned retries;
	uint64_t done, total;
	uint32_t crc;
	struct uds_rdbi ident[2]; /* before, after */
	bool ident_read[2];	  /* the read ended (each item has its outcome, or err) */
	fota_us ident_until;	  /* IDENTIFY_AFTER: retry until then */
	fota_us ident_retry_at;	  /* IDENTIFY_AFTER: next try (the ECU was busy), or 0 */
	unsigned ident_tries;
	uint8_t *buf; /* request being sent */
	size_t buf_cap;
	struct uds_prog_result res;
};

/* Set up (no allocation). ccfg may be NULL for the client defaults. */
void uds_prog_init(struct uds_prog *p, const struct uds_prog_cfg *cfg,
		   const struct uds_client_cfg *ccfg);

/*
 * Start the sequence for seg[0..nseg) (array and data not copied: keep them
 * until the result is final). Returns 0, -EALREADY if running, -EINVAL for an
 * empty image, an empty segment, a segment wrapping 4 GiB, a bad alfid, or
 * security_level without compute_key; -ENOMEM.
 */
int uds_prog_start(struct uds_prog *p, const struct uds_segment *seg, size_t nseg, fota_us now);

/* Pass-throughs to the client (see uds/client.h); they also advance the sequence. */
void uds_prog_input(struct uds_prog *p, const uint8_t *pdu, size_t len, fota_us now);
void uds_prog_tick(struct uds_prog *p, fota_us now);
int uds_prog_output(struct uds_prog *p, const uint8_t **pdu, size_t *len, fota_us now);
void uds_prog_sent(struct uds_prog *p, fota_us now);
fota_us uds_prog_deadline(const struct uds_prog *p);

/*
 * -EINPROGRESS while running; then 0 or the failure (also in res):
 *   -EREMOTEIO / -EBUSY  the ECU answered with an NRC (res->nrc, res->sid, res->step)
 *   -ETIMEDOUT           no answer within P2/P2* (TransferData: after the retries)
 *   -EPROTO              malformed or out-of-sequence answer (res->msg)
 *   -EMSGSIZE            the ECU's maxNumberOfBlockLength leaves no room for data
 *   -ECANCELED           uds_prog_cancel()
 *   compute_key's error  at step SendKey
 * -ENOENT before the first start.
 */
int uds_prog_result(const struct uds_prog *p, struct uds_prog_result *res);

/*
 * One line for the user, e.g. "RequestDownload refused: uploadDownloadNotAccepted
 * (NRC 0x70)" or "TransferData: no response (timeout)". Returns buf.
 */
const char *uds_prog_strerror(const struct uds_prog_result *res, char *buf, size_t size);

/* Bytes acknowledged by the ECU so far and the image's total. */
void uds_prog_progress(const struct uds_prog *p, uint64_t *done, uint64_t *total);

/*
 * Stop at the next safe point: at once if the current request has not left
 * yet, otherwise when its answer (or timeout) arrives. The result is then
 * -ECANCELED. No effect once finished.
 */
void uds_prog_cancel(struct uds_prog *p);

/*
 * The identification read before (after = false) or after programming:
 * NULL when it did not take place (no identify DIDs, or the sequence
 * ended before it); else the outcome per DID (uds_rdbi_item()), or
 * uds_rdbi_result() != 0 when the ECU did not answer.
 */
const struct uds_rdbi *uds_prog_identity(const struct uds_prog *p, bool after);

/*
 * The key that compute_key() left pending (-EINPROGRESS): err 0 and
 * key[0..klen), or the computation's -errno (the sequence fails at SendKey).
 * Ignored when no key is awaited (the sequence was cancelled meanwhile).
 */
void uds_prog_key_done(struct uds_prog *p, int err, const uint8_t *key, size_t klen, fota_us now);

/* Free the request buffer (uds_prog_start() may be called again on a finished engine without it). */
void uds_prog_release(struct uds_prog *p);

/* The embedded client (its session, TesterPresent counter). */
struct uds_client *uds_prog_client(struct uds_prog *p);

#endif
