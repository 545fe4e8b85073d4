// SPDX-License-Identifier: MIT
/*
 * UDS client engine (ISO 14229-2:2013 §7 application layer timing), sans-I/O,
 * on whole PDUs: one request in flight, P2 to the first response, P2*
 * re-armed on every NRC 0x78 with no overall cut-off, responses matched by
 * SID + 0x40 and the sub-function/identifier echo, and TesterPresent (3E 80)
 * whenever the tester is idle in a non-default session (S3 keep-alive).
 *
 * ISO-TP sits below: the caller moves PDUs between uds_client_output() /
 * uds_client_input() and the transport, and passes `now` in; nothing here
 * reads a clock.
 */
#ifndef FOTA_UDS_CLIENT_H
#define FOTA_UDS_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "core/time.h"
#include "uds/uds.h"

#define UDS_CLIENT_RSP_MAX 1024 /* longest response kept; longer ones end in -EMSGSIZE */

struct uds_client_cfg {
	uint32_t p2_ms;		    /* wait for the first response (P2client); 0 = 150 */
	uint32_t p2_star_ms;	    /* wait after each NRC 0x78 (P2*client); 0 = 5050 */
	uint32_t tester_present_ms; /* idle time in a non-default session before 3E 80; 0 = 2000 */
	bool no_tester_present;	    /* never send TesterPresent on our own */
	/*
	 * Adopt P2server_max/P2*server_max from each positive 0x10 response,
	 * plus timing_margin_ms for the transport (ISO 14229-2 §7.2: P2client
	 * = P2server_max + ΔP2). Never shorter than p2_ms/p2_star_ms above.
	 */
	bool adopt_session_timing;
	uint32_t timing_margin_ms;
};

/* The outcome of one request. */
struct uds_result {
	int err;     /* 0, -ETIMEDOUT, -EREMOTEIO/-EBUSY (NRC), -EPROTO, -EMSGSIZE, -ECANCELED */
	uint8_t sid; /* request SID */
	uint8_t nrc; /* NRC of a negative response, else 0 */
	unsigned pending; /* NRC 0x78 received before the final answer */
	const uint8_t
		*rsp; /* positive response PDU (SID + 0x40 first); valid until the next start */
	size_t len;   /* its length; 0 for a suppressed positive response */
};

enum uds_client_state {
	UDS_CLIENT_IDLE,
	UDS_CLIENT_SEND, /* request waiting for uds_client_output() */
	UDS_CLIENT_WAIT, /* sent, waiting for the response */
	UDS_CLIENT_DONE, /* result available */
};

/* The engine. Members are private; use the calls below. */
struct uds_client {
	struct uds_client_cfg cfg;
	enum uds_client_state state;
	const uint8_t *req; /* caller's request buffer */
	size_t req_len;
	bool suppress; /* positive response suppressed: done when P2 passes silently */
	bool tp_due;   /* TesterPresent queued */
	uint8_t session;
	uint32_t p2_ms, p2_star_ms; /* effective timeouts */
	fota_us deadline;	    /* P2/P2* expiry while waiting */
	fota_us last_tx;	    /* when we last sent anything (S3 keep-alive reference) */
	unsigned tp_sent;	    /* TesterPresent requests sent (statistics, tests) */
	struct uds_result res;
	uint8_t tp_pdu[2];
	uint8_t rsp[UDS_CLIENT_RSP_MAX];
};

/* Set up an idle client in the default session. No allocation. */
void uds_client_init(struct uds_client *c, const struct uds_client_cfg *cfg);

/*
 * Start a request. req is NOT copied: it must stay valid and unchanged until
 * uds_client_result() stops returning -EINPROGRESS. With the suppressPosRsp
 * bit set (byte 1 of a service with a sub-function) the request succeeds when
 * P2 passes without a negative response (after an NRC 0x78 the final answer
 * is awaited as usual). Returns 0, -EALREADY while a request is in flight,
 * -EMSGSIZE for an empty request.
 */
int uds_client_start(struct uds_client *c, const uint8_t *req, size_t len, fota_us now);

/*
 * The next PDU to send, if any: returns 1 and points *pdu and *len at it (valid
 * until the next call into the engine), 0 if nothing is due. Call only when
 * the transport can take a PDU. Emits the pending request, or TesterPresent
 * 3E 80 when idle in a non-default session for tester_present_ms.
 * P2 starts now; see uds_client_sent() to start it on transmit confirmation.
 */
int uds_client_output(struct uds_client *c, const uint8_t **pdu, size_t *len, fota_us now);

/*
 * Optional: the transport confirms the request's last frame left (ISO 14229-2
 * T_Data.con); P2 is restarted from now, so a long multi-frame request does
 * not eat into P2.
 */
void uds_client_sent(struct uds_client *c, fota_us now);

/*
 * A PDU from the ECU. A response that does not belong to the request in
 * flight (other SID, other echo, or nothing in flight) is ignored: it is a
 * late answer to an earlier request. A TransferData answer echoing a counter
 * other than the request's or the one before ends with -EPROTO.
 */
void uds_client_input(struct uds_client *c, const uint8_t *pdu, size_t len, fota_us now);

/* Time passed: P2/P2* expiry (-ETIMEDOUT) and TesterPresent scheduling. */
void uds_client_tick(struct uds_client *c, fota_us now);

/* When tick()/output() next matters: P2/P2* expiry or the next TesterPresent. */
fota_us uds_client_deadline(const struct uds_client *c);

/*
 * -EINPROGRESS while a request is in flight, else the request's outcome
 * (res->err, also returned). -ENOENT if no request was ever started.
 * The response stays readable until the next uds_client_start().
 */
int uds_client_result(const struct uds_client *c, struct uds_result *res);

/* True when no request is in flight (a new one may be started). */
bool uds_client_idle(const struct uds_client *c);

/* Abandon the request in flight (result -ECANCELED). A later response is ignored. */
void uds_client_cancel(struct uds_client *c);

/*
 * The diagnostic session the client believes the ECU is in: updated from
 * positive 0x10 responses and set back to default by a positive 0x11
 * response; TesterPresent runs whenever it is not the default session.
 */
uint8_t uds_client_session(const struct uds_client *c);
void uds_client_set_session(struct uds_client *c, uint8_t session, fota_us now);

#endif
