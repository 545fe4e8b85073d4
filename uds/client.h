// SPDX-License-Identifier: MIT
/*
 * UDS client engine (ISO 14229-2:2013 §7 application layer timing), sans-I/O,
 * on whole PDUs: one request in flight, P2 to the first response, P2*
 * re-armed on every NRC 0x78 with no overall cut-off, responses matched by
 * SID + 0x40 and the sub-function/identifier echo, and TesterPresent (3E 80)
 * in a non-default session (S3 keep-alive, enum uds_tp_mode).
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

/*
 * How the tester keeps a non-default session open (ISO 14229-2 §7.5: the
 * server falls back to the default session after S3server without a request;
 * some bootloaders restart S3 only on 0x10 and 0x3E, so a long TransferData
 * sequence alone does not keep them in session).
 */
enum uds_tp_mode {
	UDS_TP_IDLE = 0,   /* 3E 80 after tester_present_ms without sending anything */
	UDS_TP_FUNCTIONAL, /* 3E 80 every tester_present_ms, whatever else is going on: the
			    * caller sends it as a single frame on the functional id when
			    * uds_client_tp_due() says so (never through the physical channel) */
	UDS_TP_PHYSICAL,   /* 3E 80 every tester_present_ms on the physical channel, between
			    * requests (never while one is awaiting its answer) */
	UDS_TP_OFF,	   /* never */
};

struct uds_client_cfg {
	uint32_t p2_ms;		    /* wait for the first response (P2client); 0 = 150 */
	uint32_t p2_star_ms;	    /* wait after each NRC 0x78 (P2*client); 0 = 5050 */
	uint32_t tester_present_ms; /* TesterPresent period (or idle time); 0 = 2000 */
	enum uds_tp_mode tester_present;
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
	fota_us tp_last;  /* cyclic modes: the last TesterPresent, or the session's start */
	unsigned tp_sent; /* TesterPresent requests sent (statistics, tests) */
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
 * 3E 80 when due in mode idle or physical (physical: before a pending request).
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
 * UDS_TP_FUNCTIONAL: a TesterPresent is due now (non-default session, a
 * period since the last). The caller sends 3E 80 as a single frame on the
 * functional id and calls uds_client_tp_sent(). Always false in other modes.
 * uds_client_tp_deadline(): when the next one is due, FOTA_NEVER if none.
 */
bool uds_client_tp_due(const struct uds_client *c, fota_us now);
void uds_client_tp_sent(struct uds_client *c, fota_us now);
fota_us uds_client_tp_deadline(const struct uds_client *c);

/* "functional", "physical", "idle", "off"; and back (-EINVAL for another word). */
const char *uds_tp_mode_str(enum uds_tp_mode m);
int uds_tp_mode_parse(const char *s, enum uds_tp_mode *m);

/*
 * The diagnostic session the client believes the ECU is in: updated from
 * positive 0x10 responses and set back to default by a positive 0x11
 * response; TesterPresent runs whenever it is not the default session.
 */
uint8_t uds_client_session(const struct uds_client *c);
void uds_client_set_session(struct uds_client *c, uint8_t session, fota_us now);

#endif
