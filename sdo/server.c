// SPDX-License-Identifier: MIT
/*
 * CiA 301 SDO server (§7.2.4.3): expedited and segmented upload/download over
 * an object dictionary, toggle checks (§7.2.4.3.6), SDO timeout, aborts with
 * the standard codes (§7.2.4.3.17). Sans-I/O: see server.h.
 */
#include <errno.h>
#include <string.h>
#include "core/loop.h"
#include "sdo/sdo.h"
#include "sdo/server.h"

int sdo_server_init(struct sdo_server *s, const struct sdo_server_cfg *cfg, struct od *od)
{
	if (cfg->node < SDO_NODE_MIN || cfg->node > SDO_NODE_MAX)
		return -EINVAL;
	memset(s, 0, sizeof(*s));
	s->cfg = *cfg;
	if (!s->cfg.timeout_ms)
		s->cfg.timeout_ms = SDO_SERVER_TIMEOUT_MS;
	s->od = od;
	s->deadline = FOTA_NEVER;
	return 0;
}

static void push_event(struct sdo_server *s, bool write, uint16_t index, uint8_t sub,
		       uint32_t abort_code, uint32_t len)
{
	struct sdo_server_event *ev;

	if (s->ev_n == SDO_SERVER_QUEUE) {
		s->ev_head = (s->ev_head + 1) % SDO_SERVER_QUEUE;
		s->ev_n--;
	}
	ev = &s->ev[(s->ev_head + s->ev_n++) % SDO_SERVER_QUEUE];
	ev->write = write;
	ev->index = index;
	ev->sub = sub;
	ev->abort_code = abort_code;
	ev->len = len;
}

static void push_frame(struct sdo_server *s, const uint8_t data[8])
{
	struct bus_frame *f;

	if (s->out_n == SDO_SERVER_QUEUE) {
		s->out_head = (s->out_head + 1) % SDO_SERVER_QUEUE;
		s->out_n--;
	}
	f = &s->out[(s->out_head + s->out_n++) % SDO_SERVER_QUEUE];
	memset(f, 0, sizeof(*f));
	f->id = SDO_COB_RESPONSE + s->cfg.node;
	f->len = SDO_FRAME_LEN;
	memcpy(f->data, data, SDO_FRAME_LEN);
}

static void reset(struct sdo_server *s)
{
	s->state = SDO_SERVER_IDLE;
	s->entry = NULL;
	s->deadline = FOTA_NEVER;
}

static void send_abort(struct sdo_server *s, bool write, uint16_t index, uint8_t sub, uint32_t code)
{
	uint8_t d[8];

	sdo_encode_abort(d, index, sub, code);
	push_frame(s, d);
	push_event(s, write, index, sub, code, 0);
	reset(s);
}

static void respond(struct sdo_server *s, const struct sdo_msg *m)
{
	uint8_t d[8];

	/* Only lengths we chose ourselves reach here; the encoder cannot fail. */
	sdo_encode_response(d, m);
	push_frame(s, d);
}

static void download_initiate(struct sdo_server *s, const struct sdo_msg *m, fota_us now)
{
	const struct od_entry *e;
	struct sdo_msg r = { .kind = SDO_INIT_DOWNLOAD, .index = m->index, .sub = m->sub };
	uint32_t code = 0;
	size_t len;

	s->index = m->index;
	s->sub = m->sub;
	e = od_find(s->od, m->index, m->sub, &code);
	if (!e) {
		send_abort(s, true, m->index, m->sub, code);
		return;
	}
	if (!(e->attr & OD_W)) {
		send_abort(s, true, m->index, m->sub, SDO_ABORT_READ_ONLY);
		return;
	}

	if (m->expedited) {
		len = m->len;
		if (!m->size_indicated) {
			/*
			 * e=1, s=0: four bytes of which the server knows how many
			 * count. Numbers take their size; strings stop at a NUL.
			 */
			len = od_type_fixed(e->type) ? e->size : strnlen((const char *)m->data, 4);
			if (len > 4) {
				send_abort(s, true, m->index, m->sub, SDO_ABORT_DATA_SHORT);
				return;
			}
		}
		code = od_write(s->od, e, m->data, len, now);
		if (code) {
			send_abort(s, true, m->index, m->sub, code);
			return;
		}
		respond(s, &r);
		push_event(s, true, m->index, m->sub, 0, (uint32_t)len);
		return;
	}

	/* Segmented: check an announced size now rather than after the data. */
	if (m->size_indicated) {
		if (m->size > e->size) {
			send_abort(s, true, m->index, m->sub, SDO_ABORT_DATA_LONG);
			return;
		}
		if (od_type_fixed(e->type) && m->size < e->size) {
			send_abort(s, true, m->index, m->sub, SDO_ABORT_DATA_SHORT);
			return;
		}
	}
	if (e->size > sizeof(s->buf)) {
		send_abort(s, true, m->index, m->sub, SDO_ABORT_OUT_OF_MEMORY);
		return;
	}
	s->state = SDO_SERVER_DOWNLOAD;
	s->entry = e;
	s->toggle = false;
	s->size_indicated = m->size_indicated;
	s->size = m->size;
	s->pos = 0;
	s->deadline = now + FOTA_MS(s->cfg.timeout_ms);
	respond(s, &r);
}

static void download_segment(struct sdo_server *s, const struct sdo_msg *m, fota_us now)
{
	struct sdo_msg r = { .kind = SDO_DOWNLOAD_SEG, .toggle = m->toggle };
	uint32_t code;

	if (s->state != SDO_SERVER_DOWNLOAD) {
		send_abort(s, true, s->index, s->sub, SDO_ABORT_CMD);
		return;
	}
	if (m->toggle != s->toggle) {
		send_abort(s, true, s->index, s->sub, SDO_ABORT_TOGGLE);
		return;
	}
	if (s->pos + m->len > s->entry->size) {
		send_abort(s, true, s->index, s->sub, SDO_ABORT_DATA_LONG);
		return;
	}
	memcpy(s->buf + s->pos, m->data, m->len);
	s->pos += m->len;
	if (!m->last) {
		s->toggle = !s->toggle;
		s->deadline = now + FOTA_MS(s->cfg.timeout_ms);
		respond(s, &r);
		return;
	}
	if (s->size_indicated && s->pos != s->size) {
		send_abort(s, true, s->index, s->sub, SDO_ABORT_TYPE_MISMATCH);
		return;
	}
	code = od_write(s->od, s->entry, s->buf, s->pos, now);
	if (code) {
		send_abort(s, true, s->index, s->sub, code);
		return;
	}
	respond(s, &r);
	push_event(s, true, s->index, s->sub, 0, s->pos);
	reset(s);
}

static void upload_initiate(struct sdo_server *s, const struct sdo_msg *m, fota_us now)
{
	const struct od_entry *e;
	struct sdo_msg r = { .kind = SDO_INIT_UPLOAD, .index = m->index, .sub = m->sub };
	uint32_t code = 0;
	size_t len = 0;

	s->index = m->index;
	s->sub = m->sub;
	e = od_find(s->od, m->index, m->sub, &code);
	if (!e) {
		send_abort(s, false, m->index, m->sub, code);
		return;
	}
	code = od_read(s->od, e, s->buf, sizeof(s->buf), &len);
	if (code) {
		send_abort(s, false, m->index, m->sub, code);
		return;
	}
	r.size_indicated = true;
	if (len >= 1 && len <= 4) {
		r.expedited = true;
		r.len = (uint8_t)len;
		memcpy(r.data, s->buf, len);
		respond(s, &r);
		push_event(s, false, m->index, m->sub, 0, (uint32_t)len);
		return;
	}
	/* The value is snapshotted now, so all segments belong to one reading. */
	r.size = (uint32_t)len;
	s->state = SDO_SERVER_UPLOAD;
	s->entry = e;
	s->toggle = false;
	s->len = (uint32_t)len;
	s->pos = 0;
	s->deadline = now + FOTA_MS(s->cfg.timeout_ms);
	respond(s, &r);
}

static void upload_segment(struct sdo_server *s, const struct sdo_msg *m, fota_us now)
{
	struct sdo_msg r = { .kind = SDO_UPLOAD_SEG, .toggle = m->toggle };
	uint32_t n;

	if (s->state != SDO_SERVER_UPLOAD) {
		send_abort(s, false, s->index, s->sub, SDO_ABORT_CMD);
		return;
	}
	if (m->toggle != s->toggle) {
		send_abort(s, false, s->index, s->sub, SDO_ABORT_TOGGLE);
		return;
	}
	n = s->len - s->pos;
	if (n > 7)
		n = 7;
	memcpy(r.data, s->buf + s->pos, n);
	r.len = (uint8_t)n;
	s->pos += n;
	r.last = s->pos == s->len;
	respond(s, &r);
	if (r.last) {
		push_event(s, false, s->index, s->sub, 0, s->len);
		reset(s);
		return;
	}
	s->toggle = !s->toggle;
	s->deadline = now + FOTA_MS(s->cfg.timeout_ms);
}

void sdo_server_input(struct sdo_server *s, const struct bus_frame *f, fota_us now)
{
	struct sdo_msg m;

	if (f->id != SDO_COB_REQUEST + s->cfg.node || f->flags || f->len != SDO_FRAME_LEN)
		return;
	if (sdo_decode_request(&m, f->data)) {
		s->index = m.index;
		s->sub = m.sub;
		send_abort(s, false, m.index, m.sub, SDO_ABORT_CMD);
		return;
	}

	switch (m.kind) {
	case SDO_INIT_DOWNLOAD:
		reset(s);
		download_initiate(s, &m, now);
		break;
	case SDO_DOWNLOAD_SEG:
		download_segment(s, &m, now);
		break;
	case SDO_INIT_UPLOAD:
		reset(s);
		upload_initiate(s, &m, now);
		break;
	case SDO_UPLOAD_SEG:
		upload_segment(s, &m, now);
		break;
	case SDO_ABORT:
		/* Unconfirmed service: drop the transfer, say nothing. */
		reset(s);
		break;
	case SDO_BLOCK_UPLOAD:
	case SDO_BLOCK_DOWNLOAD:
		/* Block transfer is optional (CiA 301 §7.2.4.3.9); we refuse it. */
		reset(s);
		s->index = m.index;
		s->sub = m.sub;
		send_abort(s, m.kind == SDO_BLOCK_DOWNLOAD, m.index, m.sub, SDO_ABORT_CMD);
		break;
	}
}

void sdo_server_tick(struct sdo_server *s, fota_us now)
{
	if (s->state != SDO_SERVER_IDLE && now >= s->deadline)
		send_abort(s, s->state == SDO_SERVER_DOWNLOAD, s->index, s->sub, SDO_ABORT_TIMEOUT);
}

int sdo_server_output(struct sdo_server *s, struct bus_frame *f, fota_us now)
{
	if (!s->out_n)
		return 0;
	*f = s->out[s->out_head];
	s->out_head = (s->out_head + 1) % SDO_SERVER_QUEUE;
	s->out_n--;
	return 1;
}

fota_us sdo_server_deadline(const struct sdo_server *s)
{
	return s->state == SDO_SERVER_IDLE ? FOTA_NEVER : s->deadline;
}

bool sdo_server_idle(const struct sdo_server *s)
{
	return s->state == SDO_SERVER_IDLE;
}

int sdo_server_take_event(struct sdo_server *s, struct sdo_server_event *ev)
{
	if (!s->ev_n)
		return 0;
	*ev = s->ev[s->ev_head];
	s->ev_head = (s->ev_head + 1) % SDO_SERVER_QUEUE;
	s->ev_n--;
	return 1;
}

static void srv_input(void *ctx, const struct bus_frame *f, fota_us now)
{
	sdo_server_input(ctx, f, now);
}

static void srv_tick(void *ctx, fota_us now)
{
	sdo_server_tick(ctx, now);
}

static int srv_output(void *ctx, struct bus_frame *f, fota_us now)
{
	return sdo_server_output(ctx, f, now);
}

static fota_us srv_deadline(void *ctx)
{
	return sdo_server_deadline(ctx);
}

const struct loop_member_ops sdo_server_loop_ops = {
	.input = srv_input,
	.tick = srv_tick,
	.output = srv_output,
	.deadline = srv_deadline,
};
