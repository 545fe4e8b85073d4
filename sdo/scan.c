// SPDX-License-Identifier: MIT
/*
 * The CANopen half of `fota scan` (see scan.h): many SDO clients at once.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "core/loop.h"
#include "sdo/nmt.h"
#include "sdo/scan.h"
#include "sdo/sdo.h"

#define IDX_DEVICE_TYPE 0x1000u /* CiA 301 §7.5.2.1 */
#define IDX_IDENTITY	0x1018u /* CiA 301 §7.5.2.31 */

uint16_t sdo_scan_index(enum sdo_scan_field f)
{
	return f == SDO_SCAN_DEVICE_TYPE ? IDX_DEVICE_TYPE : IDX_IDENTITY;
}

uint8_t sdo_scan_sub(enum sdo_scan_field f)
{
	return f == SDO_SCAN_DEVICE_TYPE ? 0 : (uint8_t)f; /* 0x1018:01..04 */
}

int sdo_scan_init(struct sdo_scan *s, const struct sdo_scan_cfg *cfg)
{
	memset(s, 0, sizeof(*s));
	if (cfg->first < SDO_NODE_MIN || cfg->last > SDO_NODE_MAX || cfg->first > cfg->last)
		return -EINVAL;
	s->cfg = *cfg;
	if (!s->cfg.timeout_ms)
		s->cfg.timeout_ms = SDO_SCAN_TIMEOUT_MS;
	if (!s->cfg.gap_us)
		s->cfg.gap_us = SDO_SCAN_GAP_US;
	s->n = (size_t)cfg->last - cfg->first + 1;
	s->nodes = calloc(s->n, sizeof(*s->nodes));
	if (!s->nodes)
		return -ENOMEM;
	for (size_t i = 0; i < s->n; i++) {
		struct sdo_scan_node *nd = &s->nodes[i];
		struct sdo_client_cfg cc = { .node = (uint8_t)(cfg->first + i),
					     .timeout_ms = s->cfg.timeout_ms };

		nd->node = cc.node;
		sdo_client_init(&nd->c, &cc);
		for (size_t k = 0; k < SDO_SCAN_NFIELDS; k++)
			nd->v[k].err = -ENODATA;
	}
	s->listen_end = s->limit_end = FOTA_NEVER;
	return 0;
}

void sdo_scan_release(struct sdo_scan *s)
{
	free(s->nodes);
	s->nodes = NULL;
	s->n = 0;
}

void sdo_scan_start(struct sdo_scan *s, fota_us now)
{
	for (size_t i = 0; i < s->n; i++)
		s->nodes[i].start_at = now + (fota_us)i * s->cfg.gap_us;
	s->listen_end = now + FOTA_MS(s->cfg.listen_ms);
	if (s->cfg.limit_ms)
		s->limit_end = now + FOTA_MS(s->cfg.limit_ms);
	s->started = true;
}

bool sdo_scan_found(const struct sdo_scan_node *n)
{
	return n->sdo || n->bootup || n->heartbeat;
}

static bool finished(const struct sdo_scan_node *nd)
{
	return nd->step == SDO_SCAN_NFIELDS && !nd->c.out_pending;
}

/* Drop what the client has in hand without a frame (an absent node, the limit). */
static void forget(struct sdo_scan_node *nd)
{
	struct sdo_client_cfg cc = nd->c.cfg;

	sdo_client_init(&nd->c, &cc);
	nd->active = false;
}

static void begin(struct sdo_scan_node *nd, fota_us now)
{
	enum sdo_scan_field f = (enum sdo_scan_field)nd->step;

	memset(nd->buf, 0, sizeof(nd->buf));
	if (sdo_client_upload(&nd->c, sdo_scan_index(f), sdo_scan_sub(f), nd->buf, sizeof(nd->buf),
			      now) == 0)
		nd->active = true;
}

/* Take the client's final result into the current field; then the next field or the end. */
static void record(struct sdo_scan_node *nd, int r, const struct sdo_result *res, fota_us now)
{
	struct sdo_scan_value *v = &nd->v[nd->step];

	v->err = r;
	v->abort_code = res->abort_code;
	if (!r && (res->len == 0 || res->len > 4))
		v->err = -EPROTO;
	else if (!r)
		v->value = sdo_get_le32(nd->buf); /* shorter answers: the rest is 0 */
	nd->active = false;
	if (r != -ETIMEDOUT)
		nd->sdo = true;
	/* An answer to the first request says a node is there; none says there is none. */
	if (!nd->sdo || r == -ETIMEDOUT) {
		nd->step = SDO_SCAN_NFIELDS;
		return;
	}
	if (++nd->step < SDO_SCAN_NFIELDS)
		begin(nd, now);
}

/* Move one node on: start its first request when due, take a final result. */
static void step(struct sdo_scan *s, struct sdo_scan_node *nd, fota_us now)
{
	struct sdo_result res;
	int r;

	if (nd->step == SDO_SCAN_NFIELDS)
		return;
	if (!nd->active) {
		if (now >= nd->start_at)
			begin(nd, now);
		return;
	}
	r = sdo_client_result(&nd->c, &res);
	if (r == -EINPROGRESS) {
		/* First request unanswered: an absent node, and no abort to nobody. */
		if (nd->step == 0 && now >= sdo_client_deadline(&nd->c)) {
			forget(nd);
			nd->v[0].err = -ETIMEDOUT;
			nd->step = SDO_SCAN_NFIELDS;
		}
		return;
	}
	if (nd->c.out_pending)
		return; /* our abort goes first: a new request would overwrite it */
	record(nd, r, &res, now);
}

static struct sdo_scan_node *node_of(struct sdo_scan *s, uint32_t id, uint32_t base)
{
	if (id < base + s->cfg.first || id > base + s->cfg.last)
		return NULL;
	return &s->nodes[id - base - s->cfg.first];
}

void sdo_scan_input(struct sdo_scan *s, const struct bus_frame *f, fota_us now)
{
	struct sdo_scan_node *nd;

	if (!s->started || s->over || (f->flags & (BUS_FRAME_EFF | BUS_FRAME_RTR | BUS_FRAME_FD)))
		return;
	nd = node_of(s, f->id, SDO_COB_RESPONSE);
	if (nd) {
		if (nd->active) {
			sdo_client_input(&nd->c, f, now);
			step(s, nd, now);
		}
		return;
	}
	nd = node_of(s, f->id, NMT_ERRCTL_COB);
	if (!nd || f->len != 1)
		return;
	if (f->data[0] == NMT_ST_BOOTUP) {
		nd->bootup = true;
	} else {
		nd->heartbeat = true;
		nd->hb_state = f->data[0];
	}
}

/* The limit: whatever is in hand counts as unanswered, the rest as not read. */
static void stop_all(struct sdo_scan *s)
{
	for (size_t i = 0; i < s->n; i++) {
		struct sdo_scan_node *nd = &s->nodes[i];

		if (nd->step == SDO_SCAN_NFIELDS)
			continue;
		if (nd->active)
			nd->v[nd->step].err = -ETIMEDOUT;
		forget(nd);
		nd->step = SDO_SCAN_NFIELDS;
	}
	s->over = true;
}

void sdo_scan_tick(struct sdo_scan *s, fota_us now)
{
	if (!s->started || s->over)
		return;
	if (now >= s->limit_end) {
		stop_all(s);
		return;
	}
	if (now >= s->listen_end)
		s->listened = true;
	for (size_t i = 0; i < s->n; i++) {
		struct sdo_scan_node *nd = &s->nodes[i];

		step(s, nd, now); /* an absent node is dropped before its client would abort */
		if (nd->active)
			sdo_client_tick(&nd->c, now);
		step(s, nd, now);
	}
}

int sdo_scan_output(struct sdo_scan *s, struct bus_frame *f, fota_us now)
{
	if (!s->started)
		return 0;
	for (size_t k = 0; k < s->n; k++) {
		size_t i = (s->next_out + k) % s->n;
		struct sdo_scan_node *nd = &s->nodes[i];

		if (sdo_client_output(&nd->c, f, now) == 1) {
			s->next_out = (i + 1) % s->n;
			step(s, nd, now); /* after our abort: the next field, if any */
			return 1;
		}
	}
	return 0;
}

fota_us sdo_scan_deadline(const struct sdo_scan *s)
{
	fota_us d = FOTA_NEVER;

	if (!s->started || sdo_scan_done(s))
		return FOTA_NEVER;
	for (size_t i = 0; i < s->n; i++) {
		const struct sdo_scan_node *nd = &s->nodes[i];

		if (nd->step == SDO_SCAN_NFIELDS)
			continue;
		d = fota_min_deadline(d, nd->active ? sdo_client_deadline(&nd->c) : nd->start_at);
	}
	if (!s->listened)
		d = fota_min_deadline(d, s->listen_end);
	return fota_min_deadline(d, s->limit_end);
}

bool sdo_scan_done(const struct sdo_scan *s)
{
	if (!s->started)
		return false;
	if (s->over)
		return true;
	if (!s->listened)
		return false;
	for (size_t i = 0; i < s->n; i++)
		if (!finished(&s->nodes[i]))
			return false;
	return true;
}

size_t sdo_scan_filter(const struct sdo_scan *s, uint32_t *ids, size_t cap)
{
	size_t k = 0;

	for (size_t i = 0; i < s->n && k + 2 <= cap; i++) {
		ids[k++] = SDO_COB_RESPONSE + s->nodes[i].node;
		ids[k++] = NMT_ERRCTL_COB + s->nodes[i].node;
	}
	return k;
}

/* ---- loop member ---- */

static void m_input(void *ctx, const struct bus_frame *f, fota_us now)
{
	sdo_scan_input(ctx, f, now);
}

static void m_tick(void *ctx, fota_us now)
{
	sdo_scan_tick(ctx, now);
}

static int m_output(void *ctx, struct bus_frame *f, fota_us now)
{
	return sdo_scan_output(ctx, f, now);
}

static fota_us m_deadline(void *ctx)
{
	return sdo_scan_deadline(ctx);
}

static bool m_done(void *ctx)
{
	return sdo_scan_done(ctx);
}

const struct loop_member_ops sdo_scan_loop_ops = {
	.input = m_input,
	.tick = m_tick,
	.output = m_output,
	.deadline = m_deadline,
	.done = m_done,
};
