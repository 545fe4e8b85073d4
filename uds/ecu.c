// SPDX-License-Identifier: MIT
/*
 * The ECU side of a UDS link (see uds/ecu.h).
 */
#include <errno.h>
#include <string.h>
#include "uds/ecu.h"

void uds_ecu_init(struct uds_ecu *e, struct uds_server *srv, struct isotp *tp,
		  const struct uds_ecu_hooks *hooks)
{
	memset(e, 0, sizeof(*e));
	e->srv = srv;
	e->tp = tp;
	if (hooks)
		e->hooks = *hooks;
}

void uds_ecu_reset(struct uds_ecu *e)
{
	isotp_reset(e->tp);
	e->sending = false;
}

static void rx_errors(struct uds_ecu *e)
{
	int r = isotp_rx_error(e->tp);

	if (r && e->hooks.rx_dropped)
		e->hooks.rx_dropped(e->hooks.ctx, r);
}

void uds_ecu_set_functional(struct uds_ecu *e, uint32_t id, bool extended)
{
	e->functional = true;
	e->func_id = id;
	e->func_flags = extended ? BUS_FRAME_EFF : 0;
}

static void ecu_input(void *ctx, const struct bus_frame *f, fota_us now)
{
	struct uds_ecu *e = ctx;
	const uint8_t *pdu;
	size_t len;

	if (e->functional && f->id == e->func_id && (f->flags & BUS_FRAME_EFF) == e->func_flags) {
		/* Anything but a valid SF on the functional id is ignored (9.6.2.2). */
		if (isotp_sf_parse(f, &pdu, &len) == 1) {
			if (e->hooks.request)
				e->hooks.request(e->hooks.ctx, pdu, len, now);
			uds_server_input_functional(e->srv, pdu, len, now);
			if (e->hooks.handled)
				e->hooks.handled(e->hooks.ctx, now);
		}
		return;
	}
	isotp_input(e->tp, f, now);
	rx_errors(e);
	while (isotp_recv(e->tp, &pdu, &len) == 1) {
		if (e->hooks.request)
			e->hooks.request(e->hooks.ctx, pdu, len, now);
		uds_server_input(e->srv, pdu, len, now);
		if (e->hooks.handled)
			e->hooks.handled(e->hooks.ctx, now);
	}
}

static void ecu_tick(void *ctx, fota_us now)
{
	struct uds_ecu *e = ctx;

	isotp_tick(e->tp, now);
	rx_errors(e);
	if (isotp_rx_busy(e->tp))
		uds_server_rx_busy(e->srv, now);
	uds_server_tick(e->srv, now);
}

static int ecu_output(void *ctx, struct bus_frame *f, fota_us now)
{
	struct uds_ecu *e = ctx;
	const uint8_t *pdu;
	size_t len;
	int r = isotp_tx_result(e->tp);

	if (e->sending && r != -EINPROGRESS) {
		e->sending = false;
		if (r && e->hooks.tx_failed)
			e->hooks.tx_failed(e->hooks.ctx, r, e->sent_len);
	}
	if (!e->sending && uds_server_output(e->srv, &pdu, &len, now) == 1) {
		if (e->hooks.response)
			e->hooks.response(e->hooks.ctx, pdu, len);
		r = isotp_send(e->tp, pdu, len, now);
		if (r && e->hooks.send_refused) {
			e->hooks.send_refused(e->hooks.ctx, r, len);
		} else if (!r) {
			e->sending = true;
			e->sent_len = len;
		}
	}
	return isotp_output(e->tp, f, now);
}

/*
 * While a response is with ISO-TP the server's deadline is left out: a
 * response it holds ready cannot go before ISO-TP is free, and a deadline
 * already past would spin the loop.
 */
static fota_us ecu_deadline(void *ctx)
{
	struct uds_ecu *e = ctx;
	fota_us d = isotp_deadline(e->tp);

	if (!e->sending)
		d = fota_min_deadline(d, uds_server_deadline(e->srv));
	return d;
}

const struct loop_member_ops uds_ecu_member_ops = {
	.input = ecu_input,
	.tick = ecu_tick,
	.output = ecu_output,
	.deadline = ecu_deadline,
};
