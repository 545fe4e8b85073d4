// SPDX-License-Identifier: MIT
/*
 * CiA 301 SDO client (§7.2.4.3): expedited and segmented upload/download,
 * toggle checks, response timeout, abort in both directions. Sans-I/O: see
 * client.h.
 */
#include <errno.h>
#include <string.h>
#include "core/loop.h"
#include "sdo/client.h"
#include "sdo/sdo.h"

int sdo_client_init(struct sdo_client *c, const struct sdo_client_cfg *cfg)
{
	if (cfg->node < SDO_NODE_MIN || cfg->node > SDO_NODE_MAX)
		return -EINVAL;
	memset(c, 0, sizeof(*c));
	c->cfg = *cfg;
	if (!c->cfg.timeout_ms)
		c->cfg.timeout_ms = SDO_CLIENT_TIMEOUT_MS;
	c->deadline = FOTA_NEVER;
	return 0;
}

static bool busy(const struct sdo_client *c)
{
	return c->state != SDO_CLIENT_IDLE && c->state != SDO_CLIENT_DONE;
}

static void queue(struct sdo_client *c, const uint8_t d[8])
{
	memset(&c->out, 0, sizeof(c->out));
	c->out.id = SDO_COB_REQUEST + c->cfg.node;
	c->out.len = SDO_FRAME_LEN;
	memcpy(c->out.data, d, SDO_FRAME_LEN);
	c->out_pending = true;
}

static void send_msg(struct sdo_client *c, const struct sdo_msg *m, fota_us now)
{
	uint8_t d[8];

	sdo_encode_request(d, m);
	queue(c, d);
	c->deadline = now + FOTA_MS(c->cfg.timeout_ms);
}

static void finish(struct sdo_client *c, int err)
{
	c->state = SDO_CLIENT_DONE;
	c->err = err;
	c->deadline = FOTA_NEVER;
}

/* We give up: tell the server, then end with err. */
static void abort_transfer(struct sdo_client *c, uint32_t code, int err)
{
	uint8_t d[8];

	sdo_encode_abort(d, c->index, c->sub, code);
	queue(c, d);
	c->res.sent_abort = code;
	finish(c, err);
}

static void start(struct sdo_client *c, uint16_t index, uint8_t sub)
{
	c->index = index;
	c->sub = sub;
	c->toggle = false;
	c->pos = 0;
	c->size = 0;
	c->size_indicated = false;
	c->err = 0;
	memset(&c->res, 0, sizeof(c->res));
	c->out_pending = false;
}

int sdo_client_upload(struct sdo_client *c, uint16_t index, uint8_t sub, void *buf, size_t cap,
		      fota_us now)
{
	struct sdo_msg m = { .kind = SDO_INIT_UPLOAD, .index = index, .sub = sub };

	if (busy(c))
		return -EALREADY;
	start(c, index, sub);
	c->rx = buf;
	c->rx_cap = cap;
	c->state = SDO_CLIENT_UL_INIT;
	send_msg(c, &m, now);
	return 0;
}

static void send_segment(struct sdo_client *c, fota_us now)
{
	struct sdo_msg m = { .kind = SDO_DOWNLOAD_SEG, .toggle = c->toggle };
	size_t n = c->tx_len - c->pos;

	if (n > 7)
		n = 7;
	memcpy(m.data, c->tx + c->pos, n);
	m.len = (uint8_t)n;
	m.last = c->pos + n == c->tx_len;
	c->seg_len = n;
	send_msg(c, &m, now);
}

int sdo_client_download(struct sdo_client *c, uint16_t index, uint8_t sub, const void *data,
			size_t len, fota_us now)
{
	struct sdo_msg m = { .kind = SDO_INIT_DOWNLOAD, .index = index, .sub = sub };

	if (busy(c))
		return -EALREADY;
	if (len == 0 || len > SDO_CLIENT_MAX)
		return -EMSGSIZE;
	start(c, index, sub);
	memcpy(c->tx, data, len);
	c->tx_len = len;
	m.size_indicated = true;
	if (len <= 4) {
		m.expedited = true;
		m.len = (uint8_t)len;
		memcpy(m.data, data, len);
	} else {
		m.size = (uint32_t)len;
	}
	c->state = SDO_CLIENT_DL_INIT;
	send_msg(c, &m, now);
	return 0;
}

static bool mux_ok(const struct sdo_client *c, const struct sdo_msg *m)
{
	return m->index == c->index && m->sub == c->sub;
}

static void on_download(struct sdo_client *c, const struct sdo_msg *m, fota_us now)
{
	if (c->state == SDO_CLIENT_DL_INIT) {
		if (m->kind != SDO_INIT_DOWNLOAD || !mux_ok(c, m)) {
			abort_transfer(c, SDO_ABORT_CMD, -EPROTO);
			return;
		}
		if (c->tx_len <= 4) {
			c->res.len = c->tx_len;
			finish(c, 0);
			return;
		}
		c->state = SDO_CLIENT_DL_SEG;
		send_segment(c, now);
		return;
	}
	if (m->kind != SDO_DOWNLOAD_SEG) {
		abort_transfer(c, SDO_ABORT_CMD, -EPROTO);
		return;
	}
	if (m->toggle != c->toggle) {
		abort_transfer(c, SDO_ABORT_TOGGLE, -EPROTO);
		return;
	}
	c->pos += c->seg_len;
	c->toggle = !c->toggle;
	if (c->pos == c->tx_len) {
		c->res.len = c->tx_len;
		finish(c, 0);
		return;
	}
	send_segment(c, now);
}

static void on_upload(struct sdo_client *c, const struct sdo_msg *m, fota_us now)
{
	struct sdo_msg req = { .kind = SDO_UPLOAD_SEG };

	if (c->state == SDO_CLIENT_UL_INIT) {
		if (m->kind != SDO_INIT_UPLOAD || !mux_ok(c, m)) {
			abort_transfer(c, SDO_ABORT_CMD, -EPROTO);
			return;
		}
		if (m->expedited) {
			if (m->len > c->rx_cap) {
				abort_transfer(c, SDO_ABORT_OUT_OF_MEMORY, -EMSGSIZE);
				return;
			}
			memcpy(c->rx, m->data, m->len);
			c->res.len = m->len;
			finish(c, 0);
			return;
		}
		if (m->size_indicated && m->size > c->rx_cap) {
			abort_transfer(c, SDO_ABORT_OUT_OF_MEMORY, -EMSGSIZE);
			return;
		}
		c->size_indicated = m->size_indicated;
		c->size = m->size;
		c->state = SDO_CLIENT_UL_SEG;
		req.toggle = c->toggle;
		send_msg(c, &req, now);
		return;
	}
	if (m->kind != SDO_UPLOAD_SEG) {
		abort_transfer(c, SDO_ABORT_CMD, -EPROTO);
		return;
	}
	if (m->toggle != c->toggle) {
		abort_transfer(c, SDO_ABORT_TOGGLE, -EPROTO);
		return;
	}
	if (c->pos + m->len > c->rx_cap) {
		abort_transfer(c, SDO_ABORT_OUT_OF_MEMORY, -EMSGSIZE);
		return;
	}
	memcpy(c->rx + c->pos, m->data, m->len);
	c->pos += m->len;
	if (m->last) {
		if (c->size_indicated && c->pos != c->size) {
			abort_transfer(c, SDO_ABORT_TYPE_MISMATCH, -EPROTO);
			return;
		}
		c->res.len = c->pos;
		finish(c, 0);
		return;
	}
	c->toggle = !c->toggle;
	req.toggle = c->toggle;
	send_msg(c, &req, now);
}

void sdo_client_input(struct sdo_client *c, const struct bus_frame *f, fota_us now)
{
	struct sdo_msg m;

	if (!busy(c) || f->id != SDO_COB_RESPONSE + c->cfg.node || f->flags ||
	    f->len != SDO_FRAME_LEN)
		return;
	if (sdo_decode_response(&m, f->data)) {
		abort_transfer(c, SDO_ABORT_CMD, -EPROTO);
		return;
	}
	/*
	 * Initiate responses and aborts carry the multiplexer (CiA 301
	 * §7.2.4.3). One naming another object answers another client on the
	 * same SDO channel (the HMI polls 0x5FF3:50 while the OEM writes :60):
	 * ignore it. Aborting would put 0x05040001 on the bus, which the server
	 * takes as the end of that other client's transfer.
	 */
	if ((m.kind == SDO_ABORT ||
	     ((m.kind == SDO_INIT_UPLOAD || m.kind == SDO_INIT_DOWNLOAD) &&
	      (c->state == SDO_CLIENT_DL_INIT || c->state == SDO_CLIENT_UL_INIT))) &&
	    !mux_ok(c, &m))
		return;
	if (m.kind == SDO_ABORT) {
		/* The server's abort ends the transfer; it is not confirmed (§7.2.4.3.17). */
		c->res.abort_code = m.abort_code;
		c->out_pending = false;
		finish(c, m.abort_code == SDO_ABORT_DEVICE_STATE ||
					  m.abort_code == SDO_ABORT_LOCAL_CONTROL ?
				  -EBUSY :
				  -EREMOTEIO);
		return;
	}
	if (c->state == SDO_CLIENT_DL_INIT || c->state == SDO_CLIENT_DL_SEG)
		on_download(c, &m, now);
	else
		on_upload(c, &m, now);
}

void sdo_client_tick(struct sdo_client *c, fota_us now)
{
	if (busy(c) && now >= c->deadline)
		abort_transfer(c, SDO_ABORT_TIMEOUT, -ETIMEDOUT);
}

int sdo_client_output(struct sdo_client *c, struct bus_frame *f, fota_us now)
{
	if (!c->out_pending)
		return 0;
	*f = c->out;
	c->out_pending = false;
	return 1;
}

fota_us sdo_client_deadline(const struct sdo_client *c)
{
	return busy(c) ? c->deadline : FOTA_NEVER;
}

int sdo_client_result(const struct sdo_client *c, struct sdo_result *res)
{
	if (res)
		*res = c->res;
	if (busy(c))
		return -EINPROGRESS;
	return c->err;
}

static void cl_input(void *ctx, const struct bus_frame *f, fota_us now)
{
	sdo_client_input(ctx, f, now);
}

static void cl_tick(void *ctx, fota_us now)
{
	sdo_client_tick(ctx, now);
}

static int cl_output(void *ctx, struct bus_frame *f, fota_us now)
{
	return sdo_client_output(ctx, f, now);
}

static fota_us cl_deadline(void *ctx)
{
	return sdo_client_deadline(ctx);
}

static bool cl_done(void *ctx)
{
	const struct sdo_client *c = ctx;

	return sdo_client_result(c, NULL) != -EINPROGRESS && !c->out_pending;
}

const struct loop_member_ops sdo_client_loop_ops = {
	.input = cl_input,
	.tick = cl_tick,
	.output = cl_output,
	.deadline = cl_deadline,
	.done = cl_done,
};
