// SPDX-License-Identifier: MIT
/*
 * Reading a list of data identifiers with ReadDataByIdentifier (ISO 14229-1
 * §10.2), sans-I/O, on top of a UDS client (uds/client.h) the caller owns:
 *
 *   22 <did> <did> ...        several DIDs per request (up to max_per_request)
 *   62 <did> <data> ...       the supported ones, in request order (§10.2.2)
 *
 * A response to several DIDs carries no lengths: the records are split where
 * the requested DIDs appear, in request order, taking the split with the most
 * records if it is the only one with that many (data that holds the bytes of
 * a later requested DID makes two). Limit: a binary record holding the bytes
 * of a requested DID the ECU left out reads as two records; max_per_request 1
 * avoids it. An ECU that refuses several DIDs per request (NRC 0x13,
 * 0x14, or any other NRC than 0x31), whose answer cannot be split that way,
 * or that sends more than the client keeps, is asked again one DID per request,
 * for the rest of the read. NRC 0x31 requestOutOfRange means "not supported"
 * (for a one-DID request; for several, none of them is), never an error.
 *
 * The caller moves PDUs between the client and ISO-TP with the calls below,
 * which pass through to the client and advance the read.
 */
#ifndef FOTA_UDS_RDBI_H
#define FOTA_UDS_RDBI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "core/time.h"
#include "uds/client.h"

#define UDS_RDBI_MAX  32   /* DIDs in one read */
#define UDS_RDBI_POOL 8192 /* bytes of data kept for all of them */

/* One DID's outcome. */
struct uds_rdbi_item {
	uint16_t did;
	int err;	 /* -EINPROGRESS (not read yet), 0, -ENOENT (not supported: NRC 0x31 or left
		      * out of a multi-DID answer), -EREMOTEIO/-EBUSY (another NRC, in nrc),
		      * -EMSGSIZE (longer than the client or the pool keeps) */
	uint8_t nrc;	 /* the NRC of a refusal, else 0 */
	size_t off, len; /* the data record in the pool */
};

struct uds_rdbi {
	struct uds_client *client; /* borrowed */
	unsigned max_per_request;
	struct uds_rdbi_item it[UDS_RDBI_MAX];
	size_t n;
	size_t next;  /* first DID not asked yet */
	size_t batch; /* DIDs in the request in flight (from next) */
	bool single;  /* the ECU takes one DID per request */
	bool running;
	int err;
	unsigned requests; /* requests sent (statistics, tests) */
	char msg[96];	   /* detail of a failure, or "" */
	uint8_t req[1 + 2 * UDS_RDBI_MAX];
	uint8_t pool[UDS_RDBI_POOL];
	size_t pool_used;
};

/*
 * Start reading dids[0..n) (copied; r zeroed before its first start; 1..UDS_RDBI_MAX, no duplicates) through
 * client c, which must be idle. max_per_request: DIDs per request, 0 = all.
 * Returns 0, -EINVAL (n out of range, a duplicate), -EALREADY (running or the
 * client busy).
 */
int uds_rdbi_start(struct uds_rdbi *r, struct uds_client *c, const uint16_t *dids, size_t n,
		   unsigned max_per_request, fota_us now);

/* Pass-throughs to the client (see uds/client.h); they also advance the read. */
void uds_rdbi_input(struct uds_rdbi *r, const uint8_t *pdu, size_t len, fota_us now);
void uds_rdbi_tick(struct uds_rdbi *r, fota_us now);
int uds_rdbi_output(struct uds_rdbi *r, const uint8_t **pdu, size_t *len, fota_us now);
void uds_rdbi_sent(struct uds_rdbi *r, fota_us now);
fota_us uds_rdbi_deadline(const struct uds_rdbi *r);

/*
 * -EINPROGRESS while reading; then 0 (every item has its outcome, supported
 * or not) or the failure that ended the read: -ETIMEDOUT (no answer within
 * P2/P2*), -EPROTO (an answer to a single DID that is not one, r->msg),
 * -ECANCELED. -ENOENT before the first start.
 */
int uds_rdbi_result(const struct uds_rdbi *r);

/* Abandon the read (result -ECANCELED). */
void uds_rdbi_cancel(struct uds_rdbi *r);

/* Item i (0..n-1) and its data (NULL unless err is 0). */
const struct uds_rdbi_item *uds_rdbi_item(const struct uds_rdbi *r, size_t i, const uint8_t **data);

/*
 * Split a positive multi-DID response rsp[0..len) (62 first) into the records
 * of dids[0..n) (in request order, each present at most once, each record at
 * least one byte). Fills off[i]/dlen[i] (offsets into rsp) and sets found[i].
 * Returns 0 when one split has the most records, -EPROTO when none fits,
 * -EAGAIN when several have the most (the data holds a later DID's bytes),
 * -ENOMEM.
 */
int uds_rdbi_split(const uint8_t *rsp, size_t len, const uint16_t *dids, size_t n, size_t *off,
		   size_t *dlen, bool *found);

/*
 * Text of a DID's data for people: the bytes as they are when all are
 * printable ASCII (trailing NULs, spaces and 0xFF padding dropped), else
 * "hex:" and the hex digits. Returns true for text. out gets at most size-1
 * characters (a longer value is cut).
 */
bool uds_did_format(const uint8_t *data, size_t len, char *out, size_t size);

/* The standard name of an identification DID (ISO 14229-1 Annex C.1), or NULL. */
const char *uds_did_name(uint16_t did);

#endif
