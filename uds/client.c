// SPDX-License-Identifier: MIT
/*
 * UDS client engine: ISO 14229-2:2013 §7 (P2/P2* client timing, S3 keep-alive
 * with TesterPresent) and ISO 14229-1 §8.7 (response handling, NRC 0x78).
 * See uds/client.h for the contract.
 */
#include <errno.h>
#include <string.h>
#include "uds/client.h"

void uds_client_init(struct uds_client *c, const struct uds_client_cfg *cfg)
{
	memset(c, 0, sizeof(*c));
	if (cfg)
		c->cfg = *cfg;
	if (!c->cfg.p2_ms)
		c->cfg.p2_ms = 150;
	if (!c->cfg.p2_star_ms)
		c->cfg.p2_star_ms = 5050;
	if (!c->cfg.tester_present_ms)
		c->cfg.tester_present_ms = 2000;
	c->p2_ms = c->cfg.p2_ms;
	c->p2_star_ms = c->cfg.p2_star_ms;
	c->session = UDS_SESSION_DEFAULT;
	c->state = UDS_CLIENT_IDLE;
	c->res.err = -ENOENT;
	c->tp_pdu[0] = UDS_SID_TESTER_PRESENT;
	c->tp_pdu[1] = UDS_SUPPRESS_POS_RSP; /* zeroSubFunction, no positive response */
}

bool uds_client_idle(const struct uds_client *c)
{
	return c->state == UDS_CLIENT_IDLE || c->state == UDS_CLIENT_DONE;
}

int uds_client_start(struct uds_client *c, const uint8_t *req, size_t len, fota_us now)
{
	if (!uds_client_idle(c))
		return -EALREADY;
	if (!req || !len)
		return -EMSGSIZE;
	c->req = req;
	c->req_len = len;
	c->suppress =
		len >= 2 && uds_sid_has_subfunction(req[0]) && (req[1] & UDS_SUPPRESS_POS_RSP);
	memset(&c->res, 0, sizeof(c->res));
	c->res.sid = req[0];
	c->res.err = -EINPROGRESS;
	c->state = UDS_CLIENT_SEND;
	return 0;
}

static void finish(struct uds_client *c, int err, uint8_t nrc)
{
	c->res.err = err;
	c->res.nrc = nrc;
	c->state = UDS_CLIENT_DONE;
}

/* When the next TesterPresent of the client's own is due (FOTA_NEVER: none). */
static fota_us keepalive_at(const struct uds_client *c)
{
	if (c->session == UDS_SESSION_DEFAULT)
		return FOTA_NEVER;
	switch (c->cfg.tester_present) {
	case UDS_TP_IDLE:
		return uds_client_idle(c) ? c->last_tx + FOTA_MS(c->cfg.tester_present_ms) :
					    FOTA_NEVER;
	case UDS_TP_PHYSICAL:
		/* Between requests: not while one waits for its answer. */
		return c->state != UDS_CLIENT_WAIT ?
			       c->tp_last + FOTA_MS(c->cfg.tester_present_ms) :
			       FOTA_NEVER;
	default:
		return FOTA_NEVER; /* functional: the caller's frame; off */
	}
}

int uds_client_output(struct uds_client *c, const uint8_t **pdu, size_t *len, fota_us now)
{
	if (now >= keepalive_at(c)) {
		/* Physical mode: before the pending request, which follows at the next call. */
		*pdu = c->tp_pdu;
		*len = sizeof(c->tp_pdu);
		c->last_tx = c->tp_last = now;
		c->tp_sent++;
		return 1;
	}
	if (c->state == UDS_CLIENT_SEND) {
		*pdu = c->req;
		*len = c->req_len;
		c->last_tx = now;
		/*
		 * Also with suppressPosRspMsgIndicationBit set: the positive
		 * response is left out, but a negative one still comes, and after
		 * an NRC 0x78 the final response is sent even if positive
		 * (ISO 14229-1 §8.2.2). So wait P2 before calling it done.
		 */
		c->state = UDS_CLIENT_WAIT;
		c->deadline = now + FOTA_MS(c->p2_ms);
		return 1;
	}
	return 0;
}

bool uds_client_tp_due(const struct uds_client *c, fota_us now)
{
	return now >= uds_client_tp_deadline(c);
}

void uds_client_tp_sent(struct uds_client *c, fota_us now)
{
	c->tp_last = now;
	c->tp_sent++;
}

fota_us uds_client_tp_deadline(const struct uds_client *c)
{
	if (c->cfg.tester_present != UDS_TP_FUNCTIONAL || c->session == UDS_SESSION_DEFAULT)
		return FOTA_NEVER;
	return c->tp_last + FOTA_MS(c->cfg.tester_present_ms);
}

static const char *const tp_modes[] = {
	[UDS_TP_IDLE] = "idle",
	[UDS_TP_FUNCTIONAL] = "functional",
	[UDS_TP_PHYSICAL] = "physical",
	[UDS_TP_OFF] = "off",
};

const char *uds_tp_mode_str(enum uds_tp_mode m)
{
	return (unsigned)m < sizeof(tp_modes) / sizeof(tp_modes[0]) ? tp_modes[m] : "?";
}

int uds_tp_mode_parse(const char *s, enum uds_tp_mode *m)
{
	for (unsigned i = 0; i < sizeof(tp_modes) / sizeof(tp_modes[0]); i++)
		if (!strcmp(s, tp_modes[i])) {
			*m = (enum uds_tp_mode)i;
			return 0;
		}
	return -EINVAL;
}

void uds_client_sent(struct uds_client *c, fota_us now)
{
	c->last_tx = now;
	if (c->state == UDS_CLIENT_WAIT && !c->res.pending)
		c->deadline = now + FOTA_MS(c->p2_ms);
}

/* Follow the ECU's session (and its timing, if asked) from positive responses. */
static void track_session(struct uds_client *c, const uint8_t *rsp, size_t len, fota_us now)
{
	struct uds_session_timing t;
	uint8_t session;

	if (rsp[0] == UDS_SID_ECU_RESET + UDS_POSITIVE_RESPONSE_OFFSET) {
		c->session = UDS_SESSION_DEFAULT;
		return;
	}
	if (rsp[0] != UDS_SID_DIAGNOSTIC_SESSION_CONTROL + UDS_POSITIVE_RESPONSE_OFFSET)
		return;
	if (uds_decode_session_rsp(rsp, len, &session, NULL))
		return;
	/* The cycle starts with the session (the ECU's S3 runs from its answer). */
	if (c->session == UDS_SESSION_DEFAULT || session == UDS_SESSION_DEFAULT)
		c->tp_last = now;
	c->session = session;
	if (c->cfg.adopt_session_timing && !uds_decode_session_rsp(rsp, len, &session, &t)) {
		uint32_t p2 = t.p2_ms + c->cfg.timing_margin_ms;
		uint32_t p2s = t.p2_star_ms + c->cfg.timing_margin_ms;

		c->p2_ms = p2 > c->cfg.p2_ms ? p2 : c->cfg.p2_ms;
		c->p2_star_ms = p2s > c->cfg.p2_star_ms ? p2s : c->cfg.p2_star_ms;
	}
}

/*
 * Does a positive response belong to the request? 1 yes, 0 ignore (late or
 * foreign), -EPROTO for a TransferData answer out of sequence.
 */
static int match_positive(const struct uds_client *c, const uint8_t *rsp, size_t len)
{
	const uint8_t *req = c->req;

	if (uds_sid_has_subfunction(req[0])) {
		if (len < 2 || c->req_len < 2 || rsp[1] != (req[1] & 0x7F))
			return 0;
		if (req[0] == UDS_SID_ROUTINE_CONTROL)
			return c->req_len >= 4 && len >= 4 && !memcmp(rsp + 2, req + 2, 2);
		return 1;
	}
	switch (req[0]) {
	case UDS_SID_READ_DATA_BY_IDENTIFIER:
		/* Several DIDs: unsupported ones are left out (ISO 14229-1 §10.2.2), so the
		 * answer starts with any of them. */
		if (len < 3)
			return 0;
		for (size_t i = 1; i + 1 < c->req_len; i += 2)
			if (!memcmp(rsp + 1, req + i, 2))
				return 1;
		return 0;
	case UDS_SID_TRANSFER_DATA:
		/*
		 * The echo of the previous counter is the late answer to a block
		 * we already retried (ISO 14229-1 §14.4.2.3): drop it. Anything
		 * else means the ECU lost the sequence.
		 */
		if (c->req_len < 2 || len < 2)
			return -EPROTO;
		if (rsp[1] == req[1])
			return 1;
		if (rsp[1] == (uint8_t)(req[1] - 1))
			return 0;
		return -EPROTO;
	default:
		return 1;
	}
}

void uds_client_input(struct uds_client *c, const uint8_t *pdu, size_t len, fota_us now)
{
	uint8_t sid, nrc;
	int m;

	if (c->state != UDS_CLIENT_WAIT || !len)
		return;
	if (uds_is_negative(pdu, len, &sid, &nrc)) {
		if (sid != c->req[0])
			return;
		if (nrc == UDS_NRC_REQUEST_CORRECTLY_RECEIVED_RESPONSE_PENDING) {
			/* ISO 14229-2 §7.2: each 0x78 re-arms P2*, without an overall limit. */
			c->res.pending++;
			c->deadline = now + FOTA_MS(c->p2_star_ms);
			return;
		}
		finish(c, uds_nrc_errno(nrc), nrc);
		return;
	}
	if (pdu[0] != (uint8_t)(c->req[0] + UDS_POSITIVE_RESPONSE_OFFSET))
		return;
	m = match_positive(c, pdu, len);
	if (m == 0)
		return;
	if (m < 0) {
		finish(c, m, 0);
		return;
	}
	if (len > sizeof(c->rsp)) {
		finish(c, -EMSGSIZE, 0);
		return;
	}
	memcpy(c->rsp, pdu, len);
	c->res.rsp = c->rsp;
	c->res.len = len;
	track_session(c, c->rsp, len, now);
	finish(c, 0, 0);
}

void uds_client_tick(struct uds_client *c, fota_us now)
{
	if (c->state == UDS_CLIENT_WAIT && now >= c->deadline)
		finish(c, c->suppress && !c->res.pending ? 0 : -ETIMEDOUT, 0);
}

fota_us uds_client_deadline(const struct uds_client *c)
{
	switch (c->state) {
	case UDS_CLIENT_SEND:
		return 0; /* output now (or a TesterPresent first) */
	case UDS_CLIENT_WAIT:
		return c->deadline;
	default:
		return keepalive_at(c);
	}
}

int uds_client_result(const struct uds_client *c, struct uds_result *res)
{
	if (res)
		*res = c->res;
	return c->res.err;
}

void uds_client_cancel(struct uds_client *c)
{
	if (!uds_client_idle(c))
		finish(c, -ECANCELED, 0);
}

uint8_t uds_client_session(const struct uds_client *c)
{
	return c->session;
}

void uds_client_set_session(struct uds_client *c, uint8_t session, fota_us now)
{
	c->session = session;
	c->last_tx = c->tp_last = now;
}
