// SPDX-License-Identifier: MIT
/* CiA 301 NMT slave, heartbeat producer and start-up probe (sdo/nmt.h). */
#include <string.h>
#include "sdo/nmt.h"
#include "sdo/sdo.h"

void nmt_init(struct nmt_slave *n, uint8_t node)
{
	memset(n, 0, sizeof(*n));
	n->node = node;
	n->state = NMT_ST_BOOTUP;
	n->hb_next = FOTA_NEVER;
}

void nmt_set_heartbeat(struct nmt_slave *n, uint16_t hb_ms, fota_us now)
{
	n->hb_ms = hb_ms;
	n->hb_next = hb_ms ? now + FOTA_MS(hb_ms) : FOTA_NEVER;
}

/* §7.2.8.3.2.5: the boot-up message after power-on and after each reset. */
void nmt_boot(struct nmt_slave *n, uint16_t hb_ms, fota_us now)
{
	n->bootup = true;
	n->beat = false;
	n->state = NMT_ST_PREOPERATIONAL;
	nmt_set_heartbeat(n, hb_ms, now);
}

enum nmt_input_result nmt_input(struct nmt_slave *n, const struct bus_frame *f)
{
	if (f->id != NMT_COB || (f->flags & (BUS_FRAME_EFF | BUS_FRAME_RTR | BUS_FRAME_FD)) ||
	    f->len != 2 || (f->data[1] != 0 && f->data[1] != n->node))
		return NMT_IN_NONE;
	switch (f->data[0]) {
	case NMT_CS_START:
		n->state = NMT_ST_OPERATIONAL;
		return NMT_IN_STATE;
	case NMT_CS_STOP:
		n->state = NMT_ST_STOPPED;
		return NMT_IN_STATE;
	case NMT_CS_PREOP:
		n->state = NMT_ST_PREOPERATIONAL;
		return NMT_IN_STATE;
	case NMT_CS_RESET_NODE:
		return NMT_IN_RESET_NODE;
	case NMT_CS_RESET_COMM:
		return NMT_IN_RESET_COMM;
	default:
		return NMT_IN_NONE;
	}
}

void nmt_tick(struct nmt_slave *n, fota_us now)
{
	if (!n->hb_ms || now < n->hb_next)
		return;
	n->beat = true;
	n->hb_next += FOTA_MS(n->hb_ms);
	if (n->hb_next <= now) /* a late loop does not send a burst */
		n->hb_next = now + FOTA_MS(n->hb_ms);
}

int nmt_output(struct nmt_slave *n, struct bus_frame *f)
{
	if (!n->bootup && !n->beat)
		return 0;
	memset(f, 0, sizeof(*f));
	f->id = NMT_ERRCTL_COB + n->node;
	f->len = 1;
	f->data[0] = n->bootup ? NMT_ST_BOOTUP : n->state;
	if (n->bootup)
		n->bootup = false;
	else
		n->beat = false;
	return 1;
}

fota_us nmt_deadline(const struct nmt_slave *n)
{
	return n->bootup || n->beat ? 0 : n->hb_next;
}

bool nmt_sdo_allowed(const struct nmt_slave *n)
{
	return n->state != NMT_ST_STOPPED;
}

/* ---- probe ---- */

void nmt_probe_init(struct nmt_probe *p, uint8_t node, uint32_t ms)
{
	memset(p, 0, sizeof(*p));
	p->node = node;
	p->ms = ms;
	p->end = FOTA_NEVER;
}

static void probe_input(void *ctx, const struct bus_frame *f, fota_us now)
{
	struct nmt_probe *p = ctx;

	if (p->seen_id || (f->flags & (BUS_FRAME_EFF | BUS_FRAME_RTR)))
		return;
	if (f->id == NMT_ERRCTL_COB + p->node || f->id == SDO_COB_RESPONSE + p->node)
		p->seen_id = f->id;
}

static void probe_tick(void *ctx, fota_us now)
{
	struct nmt_probe *p = ctx;

	if (p->end == FOTA_NEVER)
		p->end = now + FOTA_MS(p->ms);
	else if (now >= p->end)
		p->over = true;
}

/* CiA 301 §7.2.4.3.6: initiate upload of 0x1000:00 (device type), which every node has. */
static int probe_output(void *ctx, struct bus_frame *f, fota_us now)
{
	struct nmt_probe *p = ctx;

	if (p->sent)
		return 0;
	p->sent = true;
	memset(f, 0, sizeof(*f));
	f->id = SDO_COB_REQUEST + p->node;
	f->len = 8;
	f->data[0] = 0x40; /* ccs 2: initiate upload */
	f->data[1] = 0x00;
	f->data[2] = 0x10;
	return 1;
}

static fota_us probe_deadline(void *ctx)
{
	const struct nmt_probe *p = ctx;

	return !p->sent || p->end == FOTA_NEVER ? 0 : p->end;
}

static bool probe_done(void *ctx)
{
	const struct nmt_probe *p = ctx;

	return p->seen_id != 0 || p->over;
}

const struct loop_member_ops nmt_probe_ops = {
	.input = probe_input,
	.tick = probe_tick,
	.output = probe_output,
	.deadline = probe_deadline,
	.done = probe_done,
};
