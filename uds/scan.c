// SPDX-License-Identifier: MIT
/*
 * The UDS half of `fota scan` (see scan.h): a functional TesterPresent, optional
 * physical probes, then ReadDataByIdentifier of each responder over an ISO-TP
 * channel of its own, all responders at once.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "core/config.h"
#include "core/loop.h"
#include "uds/isotp.h"
#include "uds/scan.h"
#include "uds/uds.h"

#define RSP_11_FIRST 0x7E8u /* ISO 15765-4: the legislated-OBD response ids */
#define RSP_11_LAST  0x7EFu
#define RSP_11_DELTA 8u		 /* ... each 8 above its physical request id */
#define NFIX_PREFIX  0x18DA0000u /* 29-bit normal fixed, physical: 0x18DA<TA><SA> */
#define TESTER_ADDR  0xF1u	 /* the tester's source address */

struct responder {
	struct uds_scan_ecu r;
	struct isotp *tp;
	size_t step;	  /* the DID being read; r.ndids: finished */
	bool waiting;	  /* its request is out, the answer not complete */
	fota_us deadline; /* of the first frame of that answer */
};

struct uds_scan {
	struct uds_scan_cfg cfg;
	uint16_t dids[UDS_SCAN_DIDS_MAX];
	struct isotp *tmpl; /* frames outside any channel: the functional request, probes */
	struct responder *resp;
	size_t n, cap;
	size_t nphys, phys_next; /* probes, and the next one to send */
	fota_us phys_at, window_end, limit_end;
	bool started, func_sent, probing, window_over, over;
};

uint32_t uds_scan_request_id(uint32_t rsp, bool extended)
{
	if (extended)
		return (rsp & 0x1FFFFF00u) == (NFIX_PREFIX | TESTER_ADDR << 8) ?
			       NFIX_PREFIX | (rsp & 0xFFu) << 8 | TESTER_ADDR :
			       0;
	return rsp >= RSP_11_DELTA && rsp <= BUS_SFF_MASK ? rsp - RSP_11_DELTA : 0;
}

uint32_t uds_scan_response_id(uint32_t req, bool extended)
{
	if (extended)
		return (req & 0x1FFF00FFu) == (NFIX_PREFIX | TESTER_ADDR) ?
			       NFIX_PREFIX | TESTER_ADDR << 8 | ((req >> 8) & 0xFFu) :
			       0;
	return req <= BUS_SFF_MASK - RSP_11_DELTA ? req + RSP_11_DELTA : 0;
}

/* The i-th physical request id probed. */
static uint32_t probe_id(const struct uds_scan *s, size_t i)
{
	if (s->cfg.extended)
		return NFIX_PREFIX | (uint32_t)((((s->cfg.phys_first >> 8) & 0xFFu) + i) << 8) |
		       TESTER_ADDR;
	return s->cfg.phys_first + (uint32_t)i;
}

static int check_cfg(const struct uds_scan_cfg *c, size_t *nphys)
{
	uint32_t mask = c->extended ? BUS_EFF_MASK : BUS_SFF_MASK;

	*nphys = 0;
	if ((c->functional_id & ~mask) || c->ndids > UDS_SCAN_DIDS_MAX)
		return -EINVAL;
	if (!c->phys_first && !c->phys_last)
		return 0;
	if (c->phys_first > c->phys_last)
		return -EINVAL;
	if (c->extended) {
		if (!uds_scan_response_id(c->phys_first, true) ||
		    !uds_scan_response_id(c->phys_last, true))
			return -EINVAL;
		*nphys = ((c->phys_last >> 8) & 0xFFu) - ((c->phys_first >> 8) & 0xFFu) + 1;
		return 0;
	}
	if (c->phys_last > BUS_SFF_MASK - RSP_11_DELTA ||
	    c->phys_last - c->phys_first >= UDS_SCAN_PHYS_MAX)
		return -EINVAL;
	*nphys = c->phys_last - c->phys_first + 1;
	return 0;
}

int uds_scan_new(struct uds_scan **sp, const struct uds_scan_cfg *cfg)
{
	struct uds_scan *s;
	struct isotp_cfg tc = { 0 };
	size_t nphys;
	int r = check_cfg(cfg, &nphys);

	*sp = NULL;
	if (r)
		return r;
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->cfg = *cfg;
	if (!s->cfg.functional_id)
		s->cfg.functional_id = cfg->extended ? CFG_FUNCTIONAL_ID_29 : CFG_FUNCTIONAL_ID_11;
	if (!s->cfg.window_ms)
		s->cfg.window_ms = UDS_SCAN_WINDOW_MS;
	if (!s->cfg.timeout_ms)
		s->cfg.timeout_ms = UDS_SCAN_TIMEOUT_MS;
	if (!s->cfg.p2_star_ms)
		s->cfg.p2_star_ms = UDS_SCAN_P2_STAR_MS;
	if (cfg->ndids)
		memcpy(s->dids, cfg->dids, cfg->ndids * sizeof(s->dids[0]));
	s->cfg.dids = s->dids;
	s->nphys = nphys;
	tc.tx_id = tc.rx_id = s->cfg.functional_id;
	tc.id_flags = cfg->extended ? BUS_FRAME_EFF : 0;
	tc.pad = cfg->pad;
	s->tmpl = isotp_new(&tc);
	if (!s->tmpl) {
		r = -errno;
		free(s);
		return r;
	}
	s->phys_at = s->window_end = s->limit_end = FOTA_NEVER;
	*sp = s;
	return 0;
}

void uds_scan_free(struct uds_scan *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->n; i++)
		isotp_free(s->resp[i].tp);
	free(s->resp);
	isotp_free(s->tmpl);
	free(s);
}

void uds_scan_start(struct uds_scan *s, fota_us now)
{
	fota_us end = now + FOTA_MS(s->cfg.window_ms);

	if (s->nphys) {
		/* ECUs that answer the functional request do so within P2: probe the others then */
		s->phys_at = now + FOTA_MS(s->cfg.timeout_ms);
		if (end < s->phys_at + FOTA_MS(s->cfg.timeout_ms))
			end = s->phys_at + FOTA_MS(s->cfg.timeout_ms);
	}
	s->window_end = end;
	if (s->cfg.limit_ms)
		s->limit_end = now + FOTA_MS(s->cfg.limit_ms);
	s->started = true;
}

size_t uds_scan_count(const struct uds_scan *s)
{
	return s->n;
}

const struct uds_scan_ecu *uds_scan_ecu(const struct uds_scan *s, size_t i)
{
	return i < s->n ? &s->resp[i].r : NULL;
}

static struct responder *find_rsp(struct uds_scan *s, uint32_t id)
{
	for (size_t i = 0; i < s->n; i++)
		if (s->resp[i].r.response_id == id)
			return &s->resp[i];
	return NULL;
}

static bool has_req(const struct uds_scan *s, uint32_t id)
{
	for (size_t i = 0; i < s->n; i++)
		if (s->resp[i].r.request_id == id)
			return true;
	return false;
}

/* Could an ECU answer on this id? */
static bool candidate(const struct uds_scan *s, uint32_t id)
{
	uint32_t req = uds_scan_request_id(id, s->cfg.extended);

	if (s->cfg.extended)
		return req != 0;
	if (id >= RSP_11_FIRST && id <= RSP_11_LAST)
		return true;
	return s->nphys && id >= RSP_11_DELTA && req >= s->cfg.phys_first &&
	       req <= s->cfg.phys_last;
}

/* The request of the current DID, or the end of the responder. */
static void ask(struct uds_scan *s, struct responder *p, fota_us now)
{
	struct uds_scan_did *d;
	uint8_t req[3] = { UDS_SID_READ_DATA_BY_IDENTIFIER };
	int r;

	p->waiting = false;
	if (p->step >= p->r.ndids)
		return;
	d = &p->r.did[p->step];
	req[1] = (uint8_t)(d->did >> 8);
	req[2] = (uint8_t)d->did;
	r = isotp_send(p->tp, req, sizeof(req), now);
	if (r) {
		/* cannot happen with an idle channel: give this responder up */
		d->err = r;
		p->step = p->r.ndids;
		return;
	}
	p->waiting = true;
	p->deadline = now + FOTA_MS(s->cfg.timeout_ms);
}

static void next(struct uds_scan *s, struct responder *p, fota_us now)
{
	p->step++;
	ask(s, p, now);
}

/* A whole response PDU on a responder's channel. Others' answers and strays are ignored. */
static void on_pdu(struct uds_scan *s, struct responder *p, const uint8_t *pdu, size_t len,
		   fota_us now)
{
	struct uds_scan_did *d;

	if (!p->waiting || !len)
		return;
	d = &p->r.did[p->step];
	if (pdu[0] == UDS_SID_READ_DATA_BY_IDENTIFIER + UDS_POSITIVE_RESPONSE_OFFSET && len >= 3 &&
	    pdu[1] == (uint8_t)(d->did >> 8) && pdu[2] == (uint8_t)d->did) {
		d->err = 0;
		d->len = len - 3;
		memcpy(d->data, pdu + 3, d->len < UDS_SCAN_DATA_MAX ? d->len : UDS_SCAN_DATA_MAX);
		next(s, p, now);
	} else if (pdu[0] == UDS_SID_NEGATIVE_RESPONSE && len >= 3 &&
		   pdu[1] == UDS_SID_READ_DATA_BY_IDENTIFIER) {
		if (pdu[2] == UDS_NRC_REQUEST_CORRECTLY_RECEIVED_RESPONSE_PENDING) {
			/* ISO 14229-2 §7.2: the final answer within P2* from now */
			p->deadline = now + FOTA_MS(s->cfg.p2_star_ms);
			return;
		}
		d->err = -EREMOTEIO;
		d->nrc = pdu[2];
		next(s, p, now);
	}
}

/* A TesterPresent answer (7E 00, or 7F 3E NRC) from a new responder. */
static void discover(struct uds_scan *s, const struct bus_frame *f, fota_us now)
{
	struct isotp_cfg tc = { 0 };
	struct responder *p;
	const uint8_t *pdu;
	size_t len;
	uint8_t nrc;

	if (isotp_sf_parse(f, &pdu, &len) != 1)
		return;
	if (len >= 2 && pdu[0] == UDS_SID_TESTER_PRESENT + UDS_POSITIVE_RESPONSE_OFFSET)
		nrc = 0;
	else if (len >= 3 && pdu[0] == UDS_SID_NEGATIVE_RESPONSE &&
		 pdu[1] == UDS_SID_TESTER_PRESENT && pdu[2])
		nrc = pdu[2];
	else
		return;
	if (s->n == s->cap) {
		size_t cap = s->cap ? 2 * s->cap : 8;
		struct responder *a = realloc(s->resp, cap * sizeof(*a));

		if (!a)
			return; /* this one is not recorded; the scan goes on */
		s->resp = a;
		s->cap = cap;
	}
	p = &s->resp[s->n];
	memset(p, 0, sizeof(*p));
	p->r.response_id = f->id;
	p->r.request_id = uds_scan_request_id(f->id, s->cfg.extended);
	p->r.extended = s->cfg.extended;
	p->r.nrc = nrc;
	/* before the probes only the functional request can have been answered */
	p->r.functional = !s->probing || p->r.request_id < probe_id(s, 0) ||
			  p->r.request_id > probe_id(s, s->nphys - 1);
	p->r.ndids = s->cfg.ndids;
	for (size_t i = 0; i < s->cfg.ndids; i++) {
		p->r.did[i].did = s->dids[i];
		p->r.did[i].err = -ENODATA;
	}
	tc.tx_id = p->r.request_id;
	tc.rx_id = p->r.response_id;
	tc.id_flags = s->cfg.extended ? BUS_FRAME_EFF : 0;
	tc.pad = s->cfg.pad;
	p->tp = isotp_new(&tc);
	if (!p->tp)
		return;
	s->n++;
	ask(s, p, now);
}

void uds_scan_input(struct uds_scan *s, const struct bus_frame *f, fota_us now)
{
	struct responder *p;
	const uint8_t *pdu;
	size_t len;

	if (!s->started || s->over || (f->flags & BUS_FRAME_RTR) ||
	    !(f->flags & BUS_FRAME_EFF) != !s->cfg.extended)
		return;
	p = find_rsp(s, f->id);
	if (!p) {
		if (!s->window_over && s->func_sent && candidate(s, f->id))
			discover(s, f, now);
		return;
	}
	isotp_input(p->tp, f, now);
	(void)isotp_rx_error(p->tp); /* a broken answer: its timeout says so */
	while (isotp_recv(p->tp, &pdu, &len) == 1)
		on_pdu(s, p, pdu, len, now);
}

/* The limit: what is in hand is unanswered, the rest not asked. */
static void stop_all(struct uds_scan *s)
{
	for (size_t i = 0; i < s->n; i++) {
		struct responder *p = &s->resp[i];

		if (p->waiting)
			p->r.did[p->step].err = -ETIMEDOUT;
		p->waiting = false;
		p->step = p->r.ndids;
		isotp_reset(p->tp);
	}
	s->phys_next = s->nphys;
	s->over = true;
}

void uds_scan_tick(struct uds_scan *s, fota_us now)
{
	if (!s->started || s->over)
		return;
	if (now >= s->limit_end) {
		stop_all(s);
		return;
	}
	if (s->nphys && now >= s->phys_at)
		s->probing = true;
	if (now >= s->window_end)
		s->window_over = true;
	for (size_t i = 0; i < s->n; i++) {
		struct responder *p = &s->resp[i];

		isotp_tick(p->tp, now);
		(void)isotp_rx_error(p->tp);
		/* P2 ends with the first frame of the answer; then ISO-TP's N_Cr rules */
		if (p->waiting && !isotp_rx_busy(p->tp) && now >= p->deadline) {
			p->r.did[p->step].err = -ETIMEDOUT;
			next(s, p, now);
		}
	}
}

int uds_scan_output(struct uds_scan *s, struct bus_frame *f, fota_us now)
{
	static const uint8_t tester_present[] = { UDS_SID_TESTER_PRESENT, 0x00 };

	if (!s->started || s->over)
		return 0;
	if (!s->func_sent) {
		s->func_sent = true;
		if (isotp_sf_frame(s->tmpl, s->cfg.functional_id, tester_present,
				   sizeof(tester_present), f) == 0)
			return 1;
	}
	for (size_t i = 0; i < s->n; i++)
		if (isotp_output(s->resp[i].tp, f, now) == 1)
			return 1;
	while (s->probing && s->phys_next < s->nphys) {
		uint32_t id = probe_id(s, s->phys_next++);

		if (has_req(s, id))
			continue; /* it answered the functional request */
		if (isotp_sf_frame(s->tmpl, id, tester_present, sizeof(tester_present), f) == 0)
			return 1;
	}
	return 0;
}

fota_us uds_scan_deadline(const struct uds_scan *s)
{
	fota_us d = FOTA_NEVER;

	if (!s->started || uds_scan_done(s))
		return FOTA_NEVER;
	if (s->nphys && (!s->probing || s->phys_next < s->nphys))
		d = s->phys_at;
	if (!s->window_over)
		d = fota_min_deadline(d, s->window_end);
	for (size_t i = 0; i < s->n; i++) {
		const struct responder *p = &s->resp[i];

		d = fota_min_deadline(d, isotp_deadline(p->tp));
		if (p->waiting && !isotp_rx_busy(p->tp))
			d = fota_min_deadline(d, p->deadline);
	}
	return fota_min_deadline(d, s->limit_end);
}

bool uds_scan_done(const struct uds_scan *s)
{
	if (!s->started)
		return false;
	if (s->over)
		return true;
	if (!s->func_sent || !s->window_over || s->phys_next < s->nphys)
		return false;
	for (size_t i = 0; i < s->n; i++)
		if (s->resp[i].step < s->resp[i].r.ndids)
			return false;
	return true;
}

size_t uds_scan_filter(const struct uds_scan *s, uint32_t *ids, size_t cap)
{
	size_t k = 0;

	if (s->cfg.extended) {
		for (uint32_t ta = 0; ta <= 0xFF && k < cap; ta++)
			ids[k++] = (NFIX_PREFIX | TESTER_ADDR << 8 | ta) | BUS_FILTER_EFF;
		return k;
	}
	for (uint32_t id = RSP_11_FIRST; id <= RSP_11_LAST && k < cap; id++)
		ids[k++] = id;
	for (size_t i = 0; i < s->nphys && k < cap; i++) {
		uint32_t id = probe_id(s, i) + RSP_11_DELTA;

		if (id < RSP_11_FIRST || id > RSP_11_LAST)
			ids[k++] = id;
	}
	return k;
}

/* ---- loop member ---- */

static void m_input(void *ctx, const struct bus_frame *f, fota_us now)
{
	uds_scan_input(ctx, f, now);
}

static void m_tick(void *ctx, fota_us now)
{
	uds_scan_tick(ctx, now);
}

static int m_output(void *ctx, struct bus_frame *f, fota_us now)
{
	return uds_scan_output(ctx, f, now);
}

static fota_us m_deadline(void *ctx)
{
	return uds_scan_deadline(ctx);
}

static bool m_done(void *ctx)
{
	return uds_scan_done(ctx);
}

const struct loop_member_ops uds_scan_member_ops = {
	.input = m_input,
	.tick = m_tick,
	.output = m_output,
	.deadline = m_deadline,
	.done = m_done,
};
