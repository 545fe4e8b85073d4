// SPDX-License-Identifier: MIT
/*
 * libFuzzer target for uds/isotp.c: a sending and a receiving engine back to
 * back, with arbitrary frames injected into either, time jumps, new PDUs and
 * pumping in between. Invariants: no crash or sanitizer report, no PDU longer
 * than rx_max or empty, only valid frames out, result codes from the
 * documented set, deadlines in the future once the output is drained, and,
 * when nothing was injected, every PDU arrives intact.
 *
 * Input: 4 config bytes, then ops (first byte of each op selects it).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "uds/isotp.h"

#define A_ID 0x7E0u /* the sender's tx id */
#define B_ID 0x7E8u /* the receiver's tx id */

struct in {
	const uint8_t *p;
	size_t n;
};

static unsigned get(struct in *in)
{
	if (!in->n)
		return 0;
	in->n--;
	return *in->p++;
}

static void check(int cond)
{
	if (!cond)
		abort();
}

static void check_frame(const struct isotp *tp, const struct bus_frame *f)
{
	const struct isotp_cfg *c = isotp_cfg(tp);
	unsigned n = f->len;
	int fd_ok =
		n <= 8 || n == 12 || n == 16 || n == 20 || n == 24 || n == 32 || n == 48 || n == 64;

	check(f->id == c->tx_id);
	check((f->flags & BUS_FRAME_EFF) == (c->id_flags & BUS_FRAME_EFF));
	/* FC may be padded to 8 even when TX_DL is 8 in FD; never above TX_DL otherwise */
	check(n >= 1 && n <= (c->tx_dl > 8 ? c->tx_dl : 8));
	check(c->fd ? fd_ok && (f->flags & BUS_FRAME_FD) : n <= 8 && !(f->flags & BUS_FRAME_FD));
}

static void check_results(struct isotp *tp, const struct isotp_cfg *c)
{
	int r = isotp_tx_result(tp), e = isotp_rx_error(tp);
	const uint8_t *pdu;
	size_t len;

	check(r == 0 || r == -EINPROGRESS || r == -ETIMEDOUT || r == -EMSGSIZE || r == -EPROTO);
	check(e == 0 || e == -ETIMEDOUT || e == -EPROTO || e == -EMSGSIZE || e == -ENOMEM);
	while (isotp_recv(tp, &pdu, &len) == 1) {
		check(len >= 1 && len <= c->rx_max);
		volatile uint8_t sink = pdu[0] ^ pdu[len - 1]; /* ASan: whole buffer readable */
		(void)sink;
	}
}

struct world {
	struct isotp *tp[2];
	struct isotp_cfg cfg[2];
	fota_us now;
	uint8_t *sent;
	size_t sent_len;
	int injected;
};

/* Move frames both ways and follow deadlines for a bounded number of steps. */
static void pump(struct world *w, unsigned steps)
{
	struct bus_frame f;

	while (steps--) {
		int moved = 0;

		for (int s = 0; s < 2; s++) {
			while (isotp_output(w->tp[s], &f, w->now) == 1) {
				check_frame(w->tp[s], &f);
				isotp_input(w->tp[!s], &f, w->now);
				if (s == 0 && !w->injected) {
					const uint8_t *pdu;
					size_t len;

					if (isotp_recv(w->tp[1], &pdu, &len) == 1)
						check(len == w->sent_len &&
						      !memcmp(pdu, w->sent, len));
				}
				check_results(w->tp[!s], &w->cfg[!s]);
				moved = 1;
			}
		}
		if (moved)
			continue;
		fota_us d = fota_min_deadline(isotp_deadline(w->tp[0]), isotp_deadline(w->tp[1]));
		if (d == FOTA_NEVER)
			return;
		check(d > w->now); /* drained: nothing may be due any more */
		w->now = d;
		isotp_tick(w->tp[0], w->now);
		isotp_tick(w->tp[1], w->now);
	}
}

static void inject(struct world *w, int to, struct in *in)
{
	struct bus_frame f = { 0 };
	unsigned k = get(in);
	unsigned len = get(in);

	f.id = (k & 3) == 3 ? 0x123 : (to ? A_ID : B_ID);
	f.flags = (k & 4) ? BUS_FRAME_FD : 0;
	f.flags |= (k & 8) ? BUS_FRAME_EFF : 0;
	f.len = (uint8_t)(len % 65);
	for (unsigned i = 0; i < f.len; i++)
		f.data[i] = (uint8_t)get(in);
	isotp_input(w->tp[to], &f, w->now);
	check_results(w->tp[to], &w->cfg[to]);
	w->injected = 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t dls[] = { 8, 12, 16, 20, 24, 32, 48, 64 };
	struct in in = { data, size };
	struct world w = { .now = 1 };
	unsigned c0 = get(&in), c1 = get(&in), c2 = get(&in), c3 = get(&in);
	uint8_t *buf = malloc(70000);

	for (size_t i = 0; i < 70000; i++)
		buf[i] = (uint8_t)(i * 13 + 5);
	for (int s = 0; s < 2; s++) {
		struct isotp_cfg *c = &w.cfg[s];

		c->tx_id = s ? B_ID : A_ID;
		c->rx_id = s ? A_ID : B_ID;
		c->fd = c0 & 1;
		c->tx_dl = c->fd ? dls[(c0 >> 1) & 7] : 8;
		c->pad = (c0 & 0x10) ? -1 : 0xCC;
		c->bs = (uint8_t)c1;
		c->stmin = (uint8_t)c2;
		c->n_bs_ms = 50;
		c->n_cr_ms = 50;
		c->wft_max = 3;
		c->rx_max = 1 + (size_t)c3 * 300; /* 1..76501: OVFLW reachable */
		w.tp[s] = isotp_new(c);
		check(w.tp[s] != NULL);
		w.cfg[s] = *isotp_cfg(w.tp[s]);
	}
	while (in.n) {
		unsigned op = get(&in), a, b;

		switch (op % 6) {
		case 0: /* a frame from the "sender" side into the receiver */
			inject(&w, 1, &in);
			break;
		case 1: /* a frame (FC, usually) into the sender */
			inject(&w, 0, &in);
			break;
		case 2: /* time passes */
			a = get(&in);
			w.now += (fota_us)a * a * 10;
			isotp_tick(w.tp[0], w.now);
			isotp_tick(w.tp[1], w.now);
			check_results(w.tp[0], &w.cfg[0]);
			check_results(w.tp[1], &w.cfg[1]);
			break;
		case 3: /* a new PDU from the sender */
			a = get(&in);
			b = get(&in);
			a = (a << 8 | b) % 70000;
			if (isotp_send(w.tp[0], buf, a, w.now) == 0) {
				w.sent = buf;
				w.sent_len = a;
			}
			break;
		case 4:
			pump(&w, 1 + get(&in) % 64);
			break;
		case 5: /* drop a frame: take it from one side without delivering it */
		{
			struct bus_frame f;

			if (isotp_output(w.tp[op & 8 ? 1 : 0], &f, w.now) == 1)
				w.injected = 1;
			break;
		}
		}
	}
	pump(&w, 100000);
	check_results(w.tp[0], &w.cfg[0]);
	check_results(w.tp[1], &w.cfg[1]);
	isotp_free(w.tp[0]);
	isotp_free(w.tp[1]);
	free(buf);
	return 0;
}
