// SPDX-License-Identifier: MIT
/*
 * UDS server engine with a bootloader's behaviour (the ECU behind `fota ecu`
 * and the unit tests), sans-I/O on whole PDUs: default/extended/programming
 * sessions with the S3 timeout (ISO 14229-2 §7.5), SecurityAccess with an
 * attempt counter and delay (ISO 14229-1 §9.4), erase and CRC-32 check
 * routines (§13.2), RequestDownload / TransferData / RequestTransferExit
 * (§14.2, §14.4, §14.6), ECUReset, ReadDataByIdentifier for the
 * identification DIDs (Annex C.1, several per request), WriteDataByIdentifier
 * for the writable ones (§10.7), TesterPresent; a flash memory model
 * (erased = 0xFF) that load/save keep in a flat binary file; and fault
 * injection for tests and benches.
 */
#ifndef FOTA_UDS_SERVER_H
#define FOTA_UDS_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "core/compress.h"
#include "core/time.h"
#include "uds/prog.h" /* uds_compute_key_fn */
#include "uds/uds.h"

/* A programmable memory region. */
struct uds_region {
	uint32_t start;
	uint32_t size;
};

/* One identification DID's value (ReadDataByIdentifier). */
struct uds_did {
	uint16_t did;
	const uint8_t *data; /* copied at uds_server_new() */
	size_t len;	     /* 1..64 */
	bool writable;	     /* WriteDataByIdentifier (0x2E) takes len bytes for it */
};

/*
 * Fault injection. Occurrences are counted over the server's life, so a fault
 * with an N fires once and a second attempt runs clean. 0 = off unless said.
 */
struct uds_server_faults {
	uint8_t nrc_sid;     /* answer this service ... */
	uint8_t nrc;	     /* ... with this NRC (0 = off) */
	unsigned nrc_nth;    /* only its N-th request (1-based); 0 = every one */
	uint8_t pending_sid; /* service answered after pending_count x NRC 0x78 (0 = every service) */
	unsigned pending_count;
	unsigned pending_nth;  /* only the N-th request of pending_sid; 0 = every one */
	uint8_t drop_sid;      /* drop the drop_nth-th response to this service (0 = any service) */
	unsigned drop_nth;     /* 1-based; 0 = off */
	uint32_t delay_ms;     /* every response delayed by this much (virtual time) */
	bool accept_wrong_bsc; /* bug: no counter check, a repeated block is written again */
	unsigned
		bsc_skip_nth; /* after the N-th TransferData the ECU loses count: next block 0x73 */
	unsigned
		reset_nth_transfer; /* the ECU resets on its N-th TransferData: no answer, session lost */
};

struct uds_server_cfg {
	const struct uds_region *regions; /* copied; must not overlap; at least one */
	size_t nregions;
	uint32_t max_block_len; /* maxNumberOfBlockLength reported; 0 = 4095 (min 3) */
	uint32_t p2_ms;		/* P2server_max reported; 0 = 50 */
	uint32_t p2_star_ms;	/* P2*server_max reported; 0 = 5000 */
	uint32_t s3_ms;		/* S3server: back to default without requests; 0 = 5000 */
	bool s3_session_only; /* only 0x10 and 0x3E restart S3 (some bootloaders), not every request */
	uint32_t pending_interval_ms; /* spacing of NRC 0x78 repeats; 0 = 1000 */
	uint8_t security_level;	      /* odd requestSeed level that unlocks programming; 0 = none */
	size_t seed_len;	      /* 1..32, 0 = 4 */
	uint64_t seed_of_seeds;	      /* seeds are a deterministic sequence from this */
	uds_compute_key_fn compute_key; /* the expected key (required with security_level) */
	void *key_ctx;
	unsigned max_attempts;	   /* invalid keys before 0x36 and the delay; 0 = 3 */
	uint32_t attempt_delay_ms; /* then requestSeed answers 0x37 for this long; 0 = 10000 */
	uint16_t erase_routine;	   /* 0 = 0xFF00; option record: alfid addr size */
	unsigned erase_pending;	   /* NRC 0x78 sent before the erase answer */
	uint16_t check_routine;	   /* 0 = 0x0202; option record: CRC-32 (4 bytes, big-endian) */
	bool require_bootloader;   /* programming session refused (0x22) until enter_bootloader() */
	const struct uds_did *dids; /* copied; 0xF186 (active session) is always answered */
	size_t ndids;
	unsigned max_dids; /* DIDs per ReadDataByIdentifier request (more: NRC 0x13); 0 = any */
	bool did_write_extended; /* writable DIDs also in the extended session (default: only
				  * the programming session), unlocked either way */
	/*
	 * Compressed downloads: a RequestDownload with dataFormatIdentifier
	 * compression_dfi carries one `compression` stream (core/compress.h)
	 * that decompresses to exactly memorySize bytes; 0x00 is always the
	 * plain data, any other value requestOutOfRange (0x31). A stream that
	 * is corrupt or decompresses past memorySize: transferDataSuspended
	 * (0x71) and the download is aborted; one that ends short:
	 * RequestTransferExit requestSequenceError (0x24). COMPRESS_NONE: none.
	 */
	enum fota_compress_method compression;
	uint8_t compression_dfi;
	struct uds_server_faults faults;
};

struct uds_server; /* private */

/*
 * Create a server with all regions erased (0xFF), in the default session,
 * locked, in its bootloader (unless require_bootloader). Returns 0, -EINVAL
 * (no region, empty or overlapping regions, span above 1 GiB, bad seed_len,
 * a DID of bad length, security without compute_key), -ENOMEM.
 */
int uds_server_new(struct uds_server **sp, const struct uds_server_cfg *cfg);
void uds_server_free(struct uds_server *s);

/* A request PDU arrived by physical addressing. */
void uds_server_input(struct uds_server *s, const uint8_t *pdu, size_t len, fota_us now);

/*
 * The same by functional addressing: NRCs 0x11, 0x12, 0x31, 0x7E and 0x7F
 * are not sent (ISO 14229-1 §7.5). TesterPresent 3E 80 restarts S3 without
 * an answer either way, also while another request is being answered.
 */
void uds_server_input_functional(struct uds_server *s, const uint8_t *pdu, size_t len, fota_us now);

/*
 * A request is still being received (ISO-TP between its first and last
 * frame): S3server does not expire meanwhile (ISO 14229-2 §7.5), unless
 * s3_session_only.
 */
void uds_server_rx_busy(struct uds_server *s, fota_us now);

/*
 * The next response due: returns 1 and points *pdu and *len at it (valid until
 * the next call), 0 if none is due now (see uds_server_deadline()).
 */
int uds_server_output(struct uds_server *s, const uint8_t **pdu, size_t *len, fota_us now);

/* Time passed: S3 timeout, security delay. */
void uds_server_tick(struct uds_server *s, fota_us now);

/* When output()/tick() next matters; FOTA_NEVER if nothing is scheduled. */
fota_us uds_server_deadline(const struct uds_server *s);

/*
 * The "switch to bootloader" frame was received: the ECU restarts into its
 * bootloader (default session, locked, transfer aborted), where the
 * programming session is then accepted.
 */
void uds_server_enter_bootloader(struct uds_server *s, fota_us now);

/* State for the command and tests. */
uint8_t uds_server_session(const struct uds_server *s);
bool uds_server_unlocked(const struct uds_server *s);
bool uds_server_in_bootloader(const struct uds_server *s);
/* True once a check routine passed (or a transfer ended with no check configured) since the last erase. */
bool uds_server_app_valid(const struct uds_server *s);
unsigned uds_server_resets(const struct uds_server *s); /* ECUResets and fault resets so far */
/* A DID's current value (after writes); NULL if the server has no such DID. */
const uint8_t *uds_server_did(const struct uds_server *s, uint16_t did, size_t *len);

/* The flash: from the lowest region start to the highest region end (gaps are 0xFF). */
const uint8_t *uds_server_memory(const struct uds_server *s, uint32_t *base, size_t *len);

/*
 * True if memory changed since the last call (erase, transfer exit): the
 * command then saves it. The flag is cleared.
 */
bool uds_server_take_dirty(struct uds_server *s);

/*
 * Memory file: exactly the span above as a flat binary. load: -ENOENT if
 * absent (memory untouched), -EBADMSG if its size differs from the span,
 * other -errno from the system. save: atomic (tmp, fsync, rename, fsync
 * directory); -errno on failure, the old file then unchanged.
 */
int uds_server_load(struct uds_server *s, const char *path);
int uds_server_save(const struct uds_server *s, const char *path);

#endif
