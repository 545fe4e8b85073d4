// SPDX-License-Identifier: MIT
/*
 * Unit tests of uds/isotp.c (ISO 15765-2:2016): two engines back to back on a
 * virtual clock (frames moved by hand from one's output to the other's input),
 * plus single engines fed hand-built frames for the byte-exact and the awkward
 * cases (9.8.3 unexpected N_PDU, bad SN, timeouts at the exact deadline).
 */
#include <stdarg.h>
#include <stdlib.h>
#include "tests/unit/t.h"
#include "uds/isotp.h"

#define TESTER 0x7E0u
#define ECU    0x7E8u

/* ---- helpers -------------------------------------------------------------- */

static struct bus_frame frame_make(uint32_t id, uint8_t flags, const uint8_t *d, size_t n)
{
	struct bus_frame f = { .id = id, .flags = flags, .len = (uint8_t)n };

	memcpy(f.data, d, n);
	return f;
}

/* Keep a frame alive long enough to pass its address to isotp_input(). */
static const struct bus_frame *frame_ptr(struct bus_frame f)
{
	static struct bus_frame ring[8];
	static unsigned i;

	ring[i % 8] = f;
	return &ring[i++ % 8];
}

/* A frame from literal bytes, as a pointer: FR(0x7E8, 0x30, 0x00, 0x00) */
#define FRB(id, fl, ...)                                               \
	frame_ptr(frame_make(id, fl, (const uint8_t[]){ __VA_ARGS__ }, \
			     sizeof((const uint8_t[]){ __VA_ARGS__ })))
#define FR(id, ...) FRB(id, 0, __VA_ARGS__)

/* Assert a frame's length and bytes. */
#define T_FRAME(f, ...)                                                                \
	do {                                                                           \
		const uint8_t t_exp_[] = { __VA_ARGS__ };                              \
		T_EQ((f).len, sizeof(t_exp_));                                         \
		T_EQ_MEM((f).data, t_exp_,                                             \
			 sizeof(t_exp_) < (f).len ? sizeof(t_exp_) : (size_t)(f).len); \
	} while (0)

static struct isotp_cfg cfg_tester(void)
{
	return (struct isotp_cfg){ .tx_id = TESTER, .rx_id = ECU, .pad = 0xCC };
}

static struct isotp_cfg cfg_ecu(void)
{
	return (struct isotp_cfg){ .tx_id = ECU, .rx_id = TESTER, .pad = 0xCC };
}

static uint8_t *pattern(size_t len, unsigned seed)
{
	uint8_t *p = malloc(len ? len : 1);

	for (size_t i = 0; i < len; i++)
		p[i] = (uint8_t)(i * 7u + seed + (i >> 8));
	return p;
}

/* The link: a (tester) and b (ECU), frames logged with their send time. */
#define LOG_MAX 16384
struct logent {
	fota_us t;
	int from; /* 0 = a, 1 = b */
	struct bus_frame f;
};

struct link {
	struct isotp *tp[2];
	fota_us now;
	uint64_t frames; /* all frames moved, also beyond LOG_MAX */
	uint64_t frames_of[2];
	size_t nlog;
	struct logent log[LOG_MAX];
	uint8_t *rx[2]; /* last PDU each side received (copy) */
	size_t rx_len[2];
	int rx_count[2];
	int rx_err[2]; /* first non-zero isotp_rx_error() seen */
};

static struct link *link_new(const struct isotp_cfg *ca, const struct isotp_cfg *cb)
{
	struct link *l = calloc(1, sizeof(*l));

	l->tp[0] = isotp_new(ca);
	l->tp[1] = isotp_new(cb);
	l->now = 1000000; /* not 0: deadlines computed from a non-zero time */
	return l;
}

static void link_free(struct link *l)
{
	isotp_free(l->tp[0]);
	isotp_free(l->tp[1]);
	free(l->rx[0]);
	free(l->rx[1]);
	free(l);
}

static void link_collect(struct link *l, int s)
{
	const uint8_t *p;
	size_t n;
	int e = isotp_rx_error(l->tp[s]);

	if (e && !l->rx_err[s])
		l->rx_err[s] = e;
	while (isotp_recv(l->tp[s], &p, &n) == 1) {
		free(l->rx[s]);
		l->rx[s] = malloc(n);
		memcpy(l->rx[s], p, n);
		l->rx_len[s] = n;
		l->rx_count[s]++;
	}
}

/* Move frames both ways and advance the virtual clock to each deadline until both are idle. */
static void link_run(struct link *l, fota_us limit)
{
	struct bus_frame f;

	for (;;) {
		bool moved = false;

		for (int s = 0; s < 2; s++) {
			while (isotp_output(l->tp[s], &f, l->now) == 1) {
				if (l->nlog < LOG_MAX)
					l->log[l->nlog++] = (struct logent){ l->now, s, f };
				l->frames++;
				l->frames_of[s]++;
				isotp_input(l->tp[!s], &f, l->now);
				link_collect(l, !s);
				moved = true;
			}
		}
		if (moved)
			continue;
		fota_us d = fota_min_deadline(isotp_deadline(l->tp[0]), isotp_deadline(l->tp[1]));
		if (d == FOTA_NEVER || d > limit)
			break;
		if (d <= l->now) { /* due now yet nothing moved: an engine bug */
			t_fail(__FILE__, __LINE__, "deadline %" PRIu64 " not after now %" PRIu64, d,
			       l->now);
			break;
		}
		l->now = d;
		isotp_tick(l->tp[0], l->now);
		isotp_tick(l->tp[1], l->now);
		link_collect(l, 0);
		link_collect(l, 1);
	}
}

/* Send len bytes a -> b; assert the PDU arrives intact. */
static void link_transfer(struct link *l, size_t len)
{
	uint8_t *p = pattern(len, (unsigned)len);
	int before = l->rx_count[1];

	T_OK(isotp_send(l->tp[0], p, len, l->now));
	T_EQ(isotp_tx_result(l->tp[0]), -EINPROGRESS);
	link_run(l, l->now + FOTA_SEC(600));
	T_OK(isotp_tx_result(l->tp[0]));
	T_EQ(l->rx_count[1], before + 1);
	T_EQ(l->rx_len[1], len);
	if (l->rx[1] && l->rx_len[1] == len)
		T_EQ_MEM(l->rx[1], p, len);
	T_OK(l->rx_err[1]);
	free(p);
}

/* The ISO-TP minimum frame count for a PDU of len with the given tx_dl and receiver BS. */
static uint64_t frames_min(size_t len, unsigned dl, unsigned bs)
{
	size_t sf_max = dl > 8 ? dl - 2 : 7, ff_data, ncf, nfc;

	if (len <= sf_max)
		return 1;
	ff_data = len > 4095 ? dl - 6 : dl - 2;
	ncf = (len - ff_data + (dl - 2)) / (dl - 1);
	nfc = bs ? 1 + (ncf - 1) / bs : 1;
	return 1 + ncf + nfc;
}

static const size_t sizes[] = { 1, 6, 7, 8, 62, 63, 4095, 4096, 5000, 70000 };

static bool fd_len_ok(unsigned n)
{
	static const uint8_t ok[] = { 0, 1, 2, 3, 4, 5, 6, 7, 8, 12, 16, 20, 24, 32, 48, 64 };

	for (size_t i = 0; i < sizeof(ok); i++)
		if (ok[i] == n)
			return true;
	return false;
}

/* Drain one engine's output; returns the number of frames (up to max) written to fs. */
static int drain(struct isotp *tp, struct bus_frame *fs, int max, fota_us now)
{
	int n = 0;
	struct bus_frame f;

	while (n < max && isotp_output(tp, &f, now) == 1)
		fs[n++] = f;
	return n;
}

static size_t take(struct isotp *tp, const uint8_t **p)
{
	size_t n = 0;

	if (isotp_recv(tp, p, &n) != 1)
		return 0;
	return n;
}

/* ---- the cases -------------------------------------------------------------- */

static void test_isotp__stmin_table(void)
{
	T_EQ(isotp_stmin_us(0x00), 0);
	T_EQ(isotp_stmin_us(0x01), 1000);
	T_EQ(isotp_stmin_us(0x7F), 127000);
	for (unsigned s = 0xF1; s <= 0xF9; s++)
		T_EQ(isotp_stmin_us((uint8_t)s), (s - 0xF0) * 100);
	/* reserved: 0x80..0xF0 and 0xFA..0xFF count as 0x7F (9.6.5.4) */
	T_EQ(isotp_stmin_us(0x80), 127000);
	T_EQ(isotp_stmin_us(0xF0), 127000);
	T_EQ(isotp_stmin_us(0xFA), 127000);
	T_EQ(isotp_stmin_us(0xFF), 127000);
}

static void test_isotp__cfg_defaults_and_invalid(void)
{
	struct isotp_cfg c = cfg_tester();
	struct isotp *tp = isotp_new(&c);
	const struct isotp_cfg *n = isotp_cfg(tp);

	T_EQ(n->tx_dl, 8);
	T_EQ(n->n_bs_ms, 1000);
	T_EQ(n->n_cr_ms, 1000);
	T_EQ(n->wft_max, 10);
	T_EQ(n->rx_max, 4095);
	isotp_free(tp);

	c = cfg_tester();
	c.tx_dl = 64; /* classic CAN cannot */
	errno = 0;
	T_TRUE(isotp_new(&c) == NULL);
	T_EQ(errno, EINVAL);
	c.fd = true;
	c.tx_dl = 13; /* no DLC */
	T_TRUE(isotp_new(&c) == NULL);
	c.tx_dl = 12;
	tp = isotp_new(&c);
	T_TRUE(tp != NULL);
	isotp_free(tp);
	c = cfg_tester();
	c.pad = 0x100;
	T_TRUE(isotp_new(&c) == NULL);
	c = cfg_tester();
	c.rx_max = ISOTP_RX_MAX_LIMIT + 1;
	T_TRUE(isotp_new(&c) == NULL);
	c.rx_max = ISOTP_RX_MAX_LIMIT;
	tp = isotp_new(&c);
	T_TRUE(tp != NULL);
	isotp_free(tp);
	c = cfg_tester();
	c.tx_id = 0x800; /* 11-bit id out of range */
	T_TRUE(isotp_new(&c) == NULL);
	c.id_flags = BUS_FRAME_EFF;
	tp = isotp_new(&c);
	T_TRUE(tp != NULL);
	isotp_free(tp);
}

/* Every size over classic CAN: intact, minimal frame count, 8-byte padded frames. */
static void test_isotp__classic_sizes(void)
{
	for (size_t i = 0; i < FOTA_ARRAY_SIZE(sizes); i++) {
		struct isotp_cfg a = cfg_tester(), b = cfg_ecu();
		struct link *l;

		b.rx_max = 70000;
		l = link_new(&a, &b);
		link_transfer(l, sizes[i]);
		T_EQ(l->frames, frames_min(sizes[i], 8, 0));
		for (size_t k = 0; k < l->nlog; k++) {
			T_EQ(l->log[k].f.len, 8);
			T_EQ(l->log[k].f.flags, 0);
			T_EQ(l->log[k].f.id, l->log[k].from ? ECU : TESTER);
		}
		link_free(l);
	}
}

/* Every size over CAN FD with several TX_DL; frames are FD lengths, full but the last. */
static void test_isotp__fd_sizes(void)
{
	static const uint8_t dls[] = { 64, 12, 16, 32, 8 };

	for (size_t d = 0; d < sizeof(dls); d++) {
		for (size_t i = 0; i < FOTA_ARRAY_SIZE(sizes); i++) {
			struct isotp_cfg a = cfg_tester(), b = cfg_ecu();
			struct link *l;

			a.fd = b.fd = true;
			a.tx_dl = b.tx_dl = dls[d];
			a.pad = -1;
			b.rx_max = 70000;
			l = link_new(&a, &b);
			link_transfer(l, sizes[i]);
			T_EQ(l->frames, frames_min(sizes[i], dls[d], 0));
			size_t last_a = 0;
			for (size_t k = 0; k < l->nlog; k++)
				if (!l->log[k].from)
					last_a = k;
			for (size_t k = 0; k < l->nlog; k++) {
				const struct bus_frame *f = &l->log[k].f;

				T_TRUE(fd_len_ok(f->len));
				T_TRUE(f->len <= dls[d] || (l->log[k].from && f->len == 8));
				T_EQ(f->flags, BUS_FRAME_FD);
				/* FF and all CFs but the last fill TX_DL */
				if (!l->log[k].from && (f->data[0] >> 4) == 1)
					T_EQ(f->len, dls[d]);
				if (!l->log[k].from && (f->data[0] >> 4) == 2 && k != last_a)
					T_EQ(f->len, dls[d]);
			}
			link_free(l);
		}
	}
}

/* Wire efficiency: 1 FF + ceil((L-6)/7) CF + the FCs the BS calls for, nothing more. */
static void test_isotp__wire_minimum_bs(void)
{
	static const uint8_t bss[] = { 0, 1, 2, 8, 0xFF };
	static const size_t lens[] = { 8, 20, 1000, 4095 };

	for (size_t j = 0; j < sizeof(bss); j++) {
		for (size_t i = 0; i < FOTA_ARRAY_SIZE(lens); i++) {
			struct isotp_cfg a = cfg_tester(), b = cfg_ecu();
			size_t L = lens[i], ncf = (L - 6 + 6) / 7;
			uint64_t nfc = bss[j] ? 1 + (ncf - 1) / bss[j] : 1;
			struct link *l;

			b.bs = bss[j];
			l = link_new(&a, &b);
			link_transfer(l, L);
			T_EQ(l->frames_of[0], 1 + ncf);
			T_EQ(l->frames_of[1], nfc);
			link_free(l);
		}
	}
}

/* A known exchange, byte for byte: 17 bytes, FF + FC + 2 CF, pad 0x55. */
static void test_isotp__exact_bytes_classic(void)
{
	struct isotp_cfg a = cfg_tester(), b = cfg_ecu();
	struct isotp *ta, *tb;
	struct bus_frame f[4];
	uint8_t pdu[17];
	const uint8_t *p;
	fota_us t = 5000;

	for (int i = 0; i < 17; i++)
		pdu[i] = (uint8_t)i;
	a.pad = b.pad = 0x55;
	b.bs = 0;
	b.stmin = 0x14;
	ta = isotp_new(&a);
	tb = isotp_new(&b);
	T_OK(isotp_send(ta, pdu, sizeof(pdu), t));
	T_EQ(drain(ta, f, 4, t), 1);
	T_FRAME(f[0], 0x10, 0x11, 0x00, 0x01, 0x02, 0x03, 0x04, 0x05);
	T_EQ(f[0].id, TESTER);
	isotp_input(tb, &f[0], t);
	T_TRUE(isotp_rx_busy(tb));
	T_EQ(drain(tb, f + 1, 3, t), 1);
	T_FRAME(f[1], 0x30, 0x00, 0x14, 0x55, 0x55, 0x55, 0x55, 0x55);
	T_EQ(f[1].id, ECU);
	isotp_input(ta, &f[1], t);
	T_EQ(drain(ta, f + 2, 2, t), 1); /* the second CF waits for STmin = 20 ms */
	T_FRAME(f[2], 0x21, 0x06, 0x07, 0x08, 0x09, 0x0A, 0x0B, 0x0C);
	T_EQ_U64(isotp_deadline(ta), t + 20000);
	T_EQ(drain(ta, f + 3, 1, t + 19999), 0);
	T_EQ(drain(ta, f + 3, 1, t + 20000), 1);
	T_FRAME(f[3], 0x22, 0x0D, 0x0E, 0x0F, 0x10, 0x55, 0x55, 0x55);
	T_OK(isotp_tx_result(ta));
	T_EQ_U64(isotp_deadline(ta), FOTA_NEVER);
	isotp_input(tb, &f[2], t);
	isotp_input(tb, &f[3], t + 20000);
	T_EQ(take(tb, &p), 17);
	T_EQ_MEM(p, pdu, 17);
	T_TRUE(!isotp_rx_busy(tb));
	T_EQ(take(tb, &p), 0); /* taken once */
	isotp_free(ta);
	isotp_free(tb);
}

static void test_isotp__sf_bytes_padding(void)
{
	struct isotp_cfg c = cfg_tester();
	struct isotp *tp;
	struct bus_frame f;
	static const uint8_t abc[] = { 0x3E, 0x00, 0x7F };

	tp = isotp_new(&c); /* pad 0xCC */
	T_OK(isotp_send(tp, abc, 3, 0));
	T_EQ(isotp_output(tp, &f, 0), 1);
	T_FRAME(f, 0x03, 0x3E, 0x00, 0x7F, 0xCC, 0xCC, 0xCC, 0xCC);
	T_OK(isotp_tx_result(tp));
	T_EQ(isotp_output(tp, &f, 0), 0);
	isotp_free(tp);

	c.pad = -1; /* classic, minimal length: only the SF's own bytes */
	tp = isotp_new(&c);
	T_OK(isotp_send(tp, abc, 3, 0));
	T_EQ(isotp_output(tp, &f, 0), 1);
	T_FRAME(f, 0x03, 0x3E, 0x00, 0x7F);
	/* 7 bytes is the largest classic SF */
	static const uint8_t seven[7] = { 1, 2, 3, 4, 5, 6, 7 };
	T_OK(isotp_send(tp, seven, 7, 0));
	T_EQ(isotp_output(tp, &f, 0), 1);
	T_FRAME(f, 0x07, 1, 2, 3, 4, 5, 6, 7);
	isotp_free(tp);

	c.pad = 0x00;
	tp = isotp_new(&c);
	T_OK(isotp_send(tp, abc, 1, 0));
	T_EQ(isotp_output(tp, &f, 0), 1);
	T_FRAME(f, 0x01, 0x3E, 0, 0, 0, 0, 0, 0);
	isotp_free(tp);
}

/* CAN FD SF: nibble SF_DL up to 7, escape (00 LEN) beyond; lengths rounded to a DLC. */
static void test_isotp__fd_sf_escape_bytes(void)
{
	struct isotp_cfg c = cfg_tester();
	struct isotp *tp, *rx;
	struct bus_frame f;
	uint8_t *p20 = pattern(62, 1);
	const uint8_t *p;
	struct isotp_cfg e = cfg_ecu();

	c.fd = true;
	c.tx_dl = 64;
	c.pad = -1;
	tp = isotp_new(&c);
	e.fd = true;
	e.tx_dl = 64;
	rx = isotp_new(&e);

	T_OK(isotp_send(tp, p20, 20, 0));
	T_EQ(isotp_output(tp, &f, 0), 1);
	T_EQ(f.flags, BUS_FRAME_FD);
	T_EQ(f.len, 24); /* 2 + 20 = 22 -> DLC 24 */
	T_EQ(f.data[0], 0x00);
	T_EQ(f.data[1], 20);
	T_EQ_MEM(f.data + 2, p20, 20);
	T_EQ(f.data[22], 0xCC);
	T_EQ(f.data[23], 0xCC);
	isotp_input(rx, &f, 0);
	T_EQ(take(rx, &p), 20);
	T_EQ_MEM(p, p20, 20);

	/* 62 bytes: the largest SF with TX_DL 64, exactly 64 bytes, no fill */
	T_OK(isotp_send(tp, p20, 62, 0));
	T_EQ(isotp_output(tp, &f, 0), 1);
	T_EQ(f.len, 64);
	T_EQ(f.data[1], 62);
	isotp_input(rx, &f, 0);
	T_EQ(take(rx, &p), 62);
	T_EQ_MEM(p, p20, 62);

	/* 7 bytes stays a classic-format SF, 8 bytes long, no escape */
	T_OK(isotp_send(tp, p20, 7, 0));
	T_EQ(isotp_output(tp, &f, 0), 1);
	T_EQ(f.len, 8);
	T_EQ(f.data[0], 0x07);
	/* 8 bytes needs the escape: 10 bytes -> 12 */
	T_OK(isotp_send(tp, p20, 8, 0));
	T_EQ(isotp_output(tp, &f, 0), 1);
	T_EQ(f.len, 12);
	T_EQ(f.data[0], 0x00);
	T_EQ(f.data[1], 8);
	T_EQ(f.data[10], 0xCC);
	T_EQ(f.data[11], 0xCC);
	isotp_free(tp);

	/* with a pad byte the fill is that byte, and a 3-byte SF is padded to 8 */
	c.pad = 0xAA;
	tp = isotp_new(&c);
	T_OK(isotp_send(tp, p20, 3, 0));
	T_EQ(isotp_output(tp, &f, 0), 1);
	T_EQ(f.len, 8);
	for (int i = 4; i < 8; i++)
		T_EQ(f.data[i], 0xAA);
	T_OK(isotp_send(tp, p20, 9, 0));
	T_EQ(isotp_output(tp, &f, 0), 1);
	T_EQ(f.len, 12);
	T_EQ(f.data[11], 0xAA);
	isotp_free(tp);
	isotp_free(rx);
	free(p20);
}

/* PDUs above 4095: FF_DL = 0 and a 32-bit length (9.6.3.1). */
static void test_isotp__escape_ff_bytes(void)
{
	struct isotp_cfg c = cfg_tester();
	struct isotp *tp;
	struct bus_frame f;
	uint8_t *p = pattern(70000, 3);

	tp = isotp_new(&c);
	T_OK(isotp_send(tp, p, 5000, 0));
	T_EQ(isotp_output(tp, &f, 0), 1);
	T_FRAME(f, 0x10, 0x00, 0x00, 0x00, 0x13, 0x88, p[0], p[1]);
	isotp_free(tp);

	/* 4095 still fits 12 bits */
	tp = isotp_new(&c);
	T_OK(isotp_send(tp, p, 4095, 0));
	T_EQ(isotp_output(tp, &f, 0), 1);
	T_FRAME(f, 0x1F, 0xFF, p[0], p[1], p[2], p[3], p[4], p[5]);
	isotp_free(tp);

	c.fd = true;
	c.tx_dl = 64;
	tp = isotp_new(&c);
	T_OK(isotp_send(tp, p, 70000, 0));
	T_EQ(isotp_output(tp, &f, 0), 1);
	T_EQ(f.len, 64);
	T_EQ(f.data[0], 0x10);
	T_EQ(f.data[1], 0x00);
	T_EQ(f.data[2], 0x00);
	T_EQ(f.data[3], 0x01);
	T_EQ(f.data[4], 0x11);
	T_EQ(f.data[5], 0x70);
	T_EQ_MEM(f.data + 6, p, 58);
	isotp_free(tp);
	free(p);
}

/* Every padding byte, in every frame kind, classic CAN. */
static void test_isotp__padding_byte_by_byte(void)
{
	static const int pads[] = { 0x5A, 0x00, 0xFF, -1 };

	for (size_t j = 0; j < FOTA_ARRAY_SIZE(pads); j++) {
		struct isotp_cfg a = cfg_tester(), b = cfg_ecu();
		struct link *l;

		a.pad = b.pad = pads[j];
		l = link_new(&a, &b);
		link_transfer(l, 3);  /* SF: 1 + 3 bytes */
		link_transfer(l, 16); /* FF 6, CF 7, CF 3: last CF 1 + 3 bytes */
		T_EQ(l->nlog, 5);
		struct {
			int from;
			unsigned used;
		} exp[] = { { 0, 4 }, { 0, 8 }, { 1, 3 }, { 0, 8 }, { 0, 4 } };
		for (size_t k = 0; k < 5 && k < l->nlog; k++) {
			const struct bus_frame *f = &l->log[k].f;

			T_EQ(l->log[k].from, exp[k].from);
			if (pads[j] < 0) {
				T_EQ(f->len, exp[k].used);
				continue;
			}
			T_EQ(f->len, 8);
			for (unsigned i = exp[k].used; i < 8; i++)
				T_EQ(f->data[i], pads[j]);
		}
		link_free(l);
	}
}

/* CAN FD, pad -1: the last CF is rounded up to a DLC length and filled with 0xCC. */
static void test_isotp__fd_padding(void)
{
	struct isotp_cfg a = cfg_tester(), b = cfg_ecu();
	struct link *l;
	const struct bus_frame *f;

	a.fd = b.fd = true;
	a.tx_dl = b.tx_dl = 64;
	a.pad = b.pad = -1;
	/* 62 in FF, 63 in CF1, 9 in CF2: 1 + 9 = 10 -> 12 bytes */
	l = link_new(&a, &b);
	link_transfer(l, 62 + 63 + 9);
	T_EQ(l->nlog, 4);
	f = &l->log[1].f; /* the FC: 3 bytes, no padding at <= 8 */
	T_EQ(l->log[1].from, 1);
	T_FRAME(*f, 0x30, 0x00, 0x00);
	f = &l->log[3].f;
	T_EQ(f->len, 12);
	T_EQ(f->data[0], 0x22);
	T_EQ(f->data[10], 0xCC);
	T_EQ(f->data[11], 0xCC);
	link_free(l);

	/* pad 0x00: FC padded to 8, last CF (1 + 3) padded to 8 */
	a.pad = b.pad = 0x00;
	l = link_new(&a, &b);
	link_transfer(l, 62 + 63 + 3);
	T_EQ(l->nlog, 4);
	T_FRAME(l->log[1].f, 0x30, 0x00, 0x00, 0, 0, 0, 0, 0);
	T_EQ(l->log[3].f.len, 8);
	for (int i = 4; i < 8; i++)
		T_EQ(l->log[3].f.data[i], 0x00);
	link_free(l);
}

/* The CF spacing on the virtual clock equals STmin exactly, for every encoding. */
static void test_isotp__stmin_pacing(void)
{
	static const uint8_t stmins[] = { 0x00, 0x01, 0x0A, 0x7F, 0xF1, 0xF2,
					  0xF5, 0xF9, 0x80, 0xFA, 0xF0 };

	for (size_t j = 0; j < sizeof(stmins); j++) {
		struct isotp_cfg a = cfg_tester(), b = cfg_ecu();
		struct link *l;
		fota_us gap = isotp_stmin_us(stmins[j]), prev = 0;
		int ncf = 0;

		b.stmin = stmins[j];
		l = link_new(&a, &b);
		link_transfer(l, 100); /* FF + 14 CF */
		for (size_t k = 0; k < l->nlog; k++) {
			if (l->log[k].from || (l->log[k].f.data[0] >> 4) != 2)
				continue;
			if (ncf++ == 0)
				T_EQ_U64(l->log[k].t,
					 l->log[0].t); /* first CF right after the FC */
			else
				T_EQ_U64(l->log[k].t - prev, gap);
			prev = l->log[k].t;
		}
		T_EQ(ncf, 14);
		link_free(l);
	}
}

/* Our own floor (stmin_tx_us) wins over a smaller STmin from the peer, not a larger one. */
static void test_isotp__stmin_tx_floor(void)
{
	struct isotp_cfg a = cfg_tester(), b = cfg_ecu();
	struct link *l;

	a.stmin_tx_us = 500;
	b.stmin = 0xF2; /* 200 us */
	l = link_new(&a, &b);
	link_transfer(l, 30); /* FF + 4 CF */
	T_EQ(l->nlog, 6);
	T_EQ_U64(l->log[5].t - l->log[4].t, 500);
	T_EQ_U64(l->log[4].t - l->log[3].t, 500);
	link_free(l);

	b.stmin = 0x01; /* 1 ms */
	l = link_new(&a, &b);
	link_transfer(l, 30);
	T_EQ_U64(l->log[5].t - l->log[4].t, 1000);
	link_free(l);
}

/* BS 2 with STmin: an FC after every second CF; the gap holds within a block. */
static void test_isotp__bs_blocks(void)
{
	struct isotp_cfg a = cfg_tester(), b = cfg_ecu();
	struct link *l;
	static const int kinds[] = { 1, 3, 2, 2, 3, 2, 2, 3, 2 }; /* FF FC CF CF FC ... */

	b.bs = 2;
	b.stmin = 5;
	l = link_new(&a, &b);
	link_transfer(l, 6 + 7 * 5); /* FF + 5 CF */
	T_EQ(l->nlog, 1 + 5 + 3);
	for (size_t k = 0; k < FOTA_ARRAY_SIZE(kinds) && k < l->nlog; k++)
		T_EQ(l->log[k].f.data[0] >> 4, kinds[k]);
	/* CF1 at the FC, CF2 5 ms later; FC; CF3 at once, CF4 5 ms later */
	T_EQ_U64(l->log[3].t - l->log[2].t, 5000);
	T_EQ_U64(l->log[5].t, l->log[4].t);
	T_EQ_U64(l->log[6].t - l->log[5].t, 5000);
	link_free(l);
}

/* FC.WAIT restarts N_Bs; a CTS afterwards carries on. */
static void test_isotp__fc_wait_then_cts(void)
{
	struct isotp_cfg c = cfg_tester();
	struct isotp *tp;
	struct bus_frame f;
	struct isotp_stats st;
	uint8_t *p = pattern(20, 9);
	fota_us t = 1000;

	c.n_bs_ms = 100;
	tp = isotp_new(&c);
	T_OK(isotp_send(tp, p, 20, t));
	T_EQ(isotp_output(tp, &f, t), 1);
	T_EQ_U64(isotp_deadline(tp), t + 100000);
	for (int i = 0; i < 10; i++) {
		t += 90000; /* each WAIT just before N_Bs expires */
		isotp_input(tp, FR(ECU, 0x31, 0, 0), t);
		T_EQ(isotp_tx_result(tp), -EINPROGRESS);
		T_EQ_U64(isotp_deadline(tp), t + 100000);
		T_EQ(isotp_output(tp, &f, t), 0);
	}
	isotp_input(tp, FR(ECU, 0x30, 0, 0, 0xCC, 0xCC, 0xCC, 0xCC, 0xCC), t);
	T_EQ(isotp_output(tp, &f, t), 1);
	T_EQ(f.data[0], 0x21);
	T_EQ(isotp_output(tp, &f, t), 1);
	T_EQ(f.data[0], 0x22);
	T_OK(isotp_tx_result(tp));
	isotp_stats(tp, &st);
	T_EQ(st.fc_wait_in, 10);
	isotp_free(tp);
	free(p);
}

/* wft_max + 1 FC.WAIT in a row ends the transfer with -EPROTO. */
static void test_isotp__too_many_waits(void)
{
	struct isotp_cfg c = cfg_tester();
	struct isotp *tp;
	struct bus_frame f;
	uint8_t *p = pattern(20, 9);

	c.wft_max = 2;
	tp = isotp_new(&c);
	T_OK(isotp_send(tp, p, 20, 0));
	T_EQ(isotp_output(tp, &f, 0), 1);
	isotp_input(tp, FR(ECU, 0x31, 0, 0), 10);
	isotp_input(tp, FR(ECU, 0x31, 0, 0), 20);
	T_EQ(isotp_tx_result(tp), -EINPROGRESS);
	isotp_input(tp, FR(ECU, 0x31, 0, 0), 30);
	T_EQ(isotp_tx_result(tp), -EPROTO);
	T_EQ(isotp_output(tp, &f, 30), 0);
	T_EQ_U64(isotp_deadline(tp), FOTA_NEVER);
	/* a later CTS is ignored, and a new PDU may be sent */
	isotp_input(tp, FR(ECU, 0x30, 0, 0), 40);
	T_EQ(isotp_output(tp, &f, 40), 0);
	T_OK(isotp_send(tp, p, 3, 50));
	isotp_free(tp);
	free(p);
}

/* FF_DL above rx_max: the receiver answers FC.OVFLW, the sender ends with -EMSGSIZE. */
static void test_isotp__overflow(void)
{
	struct isotp_cfg a = cfg_tester(), b = cfg_ecu();
	struct link *l;
	uint8_t *p = pattern(200, 1);

	b.rx_max = 100;
	l = link_new(&a, &b);
	T_OK(isotp_send(l->tp[0], p, 200, l->now));
	link_run(l, l->now + FOTA_SEC(10));
	T_EQ(isotp_tx_result(l->tp[0]), -EMSGSIZE);
	T_EQ(l->rx_err[1], -EMSGSIZE);
	T_EQ(l->nlog, 2);
	T_FRAME(l->log[1].f, 0x32, 0x00, 0x00, 0xCC, 0xCC, 0xCC, 0xCC, 0xCC);
	T_EQ(l->rx_count[1], 0);
	T_TRUE(!isotp_rx_busy(l->tp[1]));
	/* exactly rx_max is accepted */
	l->rx_err[1] = 0;
	link_transfer(l, 100);
	link_free(l);
	free(p);
}

/* N_Bs: -ETIMEDOUT exactly at the deadline after the FF, and after a block. */
static void test_isotp__n_bs_timeout(void)
{
	struct isotp_cfg c = cfg_tester();
	struct isotp *tp;
	struct bus_frame f;
	uint8_t *p = pattern(40, 2);
	fota_us t = 777;

	c.n_bs_ms = 250;
	tp = isotp_new(&c);
	T_OK(isotp_send(tp, p, 40, t));
	T_EQ(isotp_output(tp, &f, t), 1);
	T_EQ_U64(isotp_deadline(tp), t + 250000);
	isotp_tick(tp, t + 249999);
	T_EQ(isotp_tx_result(tp), -EINPROGRESS);
	isotp_tick(tp, t + 250000);
	T_EQ(isotp_tx_result(tp), -ETIMEDOUT);
	T_EQ_U64(isotp_deadline(tp), FOTA_NEVER);

	/* after a block of BS = 1: N_Bs restarts from that CF */
	t = 2000000;
	T_OK(isotp_send(tp, p, 40, t));
	T_EQ(isotp_output(tp, &f, t), 1);
	isotp_input(tp, FR(ECU, 0x30, 1, 0), t + 10);
	T_EQ(isotp_output(tp, &f, t + 20), 1);
	T_EQ(f.data[0], 0x21);
	T_EQ(isotp_output(tp, &f, t + 20), 0);
	T_EQ_U64(isotp_deadline(tp), t + 20 + 250000);
	/* an FC arriving at the deadline is too late: timeouts fire first */
	isotp_input(tp, FR(ECU, 0x30, 1, 0), t + 20 + 250000);
	T_EQ(isotp_tx_result(tp), -ETIMEDOUT);
	T_EQ(isotp_output(tp, &f, t + 20 + 250000), 0);
	isotp_free(tp);
	free(p);
}

/* N_Cr: from our FC to the next CF, then between CFs; exactly at the deadline. */
static void test_isotp__n_cr_timeout(void)
{
	struct isotp_cfg c = cfg_ecu();
	struct isotp *tp;
	struct bus_frame f;
	const uint8_t *p;
	fota_us t = 3000;

	c.n_cr_ms = 150;
	tp = isotp_new(&c);
	isotp_input(tp, FR(TESTER, 0x10, 20, 1, 2, 3, 4, 5, 6), t);
	/* the timer starts when the FC goes out, not when the FF came in */
	T_EQ(isotp_output(tp, &f, t + 50), 1);
	T_EQ_U64(isotp_deadline(tp), t + 50 + 150000);
	isotp_tick(tp, t + 50 + 149999);
	T_OK(isotp_rx_error(tp));
	T_TRUE(isotp_rx_busy(tp));
	/* a CF restarts it */
	isotp_input(tp, FR(TESTER, 0x21, 7, 8, 9, 10, 11, 12, 13), t + 100000);
	T_EQ_U64(isotp_deadline(tp), t + 100000 + 150000);
	isotp_tick(tp, t + 100000 + 150000);
	T_EQ(isotp_rx_error(tp), -ETIMEDOUT);
	T_OK(isotp_rx_error(tp)); /* cleared */
	T_TRUE(!isotp_rx_busy(tp));
	T_EQ_U64(isotp_deadline(tp), FOTA_NEVER);
	/* the late CF is now a stray: ignored, no PDU, no error */
	isotp_input(tp, FR(TESTER, 0x22, 14, 15, 16, 17, 18, 19, 20), t + 300000);
	T_EQ(take(tp, &p), 0);
	T_OK(isotp_rx_error(tp));
	isotp_free(tp);
}

/* A wrong SN aborts the reception (N_WRONG_SN); what follows is stray. */
static void test_isotp__wrong_sn(void)
{
	struct isotp_cfg c = cfg_ecu();
	struct isotp *tp;
	struct bus_frame f;
	const uint8_t *p;
	struct isotp_stats st;

	tp = isotp_new(&c);
	isotp_input(tp, FR(TESTER, 0x10, 20, 1, 2, 3, 4, 5, 6), 0);
	T_EQ(isotp_output(tp, &f, 0), 1);
	isotp_input(tp, FR(TESTER, 0x22, 7, 8, 9, 10, 11, 12, 13), 10);
	T_EQ(isotp_rx_error(tp), -EPROTO);
	T_TRUE(!isotp_rx_busy(tp));
	isotp_input(tp, FR(TESTER, 0x21, 7, 8, 9, 10, 11, 12, 13), 20);
	isotp_input(tp, FR(TESTER, 0x22, 14, 15, 16, 17, 18, 19, 20), 30);
	T_EQ(take(tp, &p), 0);
	T_OK(isotp_rx_error(tp));
	isotp_stats(tp, &st);
	T_EQ(st.rx_aborted, 1);
	T_EQ(st.frames_ignored, 2);
	isotp_free(tp);
}

/* SN counts 1..15, 0, 1..: checked on each CF of a long PDU. */
static void test_isotp__sn_wrap(void)
{
	struct isotp_cfg a = cfg_tester(), b = cfg_ecu();
	struct link *l;
	unsigned sn = 1, ncf = 0;

	b.bs = 7; /* blocks must not reset the SN */
	l = link_new(&a, &b);
	link_transfer(l, 6 + 7 * 40);
	for (size_t k = 0; k < l->nlog; k++) {
		if (l->log[k].from)
			continue;
		if (l->log[k].f.data[0] >> 4 != 2)
			continue;
		T_EQ(l->log[k].f.data[0], 0x20 | sn);
		sn = (sn + 1) & 15;
		ncf++;
	}
	T_EQ(ncf, 40);
	link_free(l);
}

/* 29-bit normal fixed ids (0x18DA..): frames carry the EFF flag; 11-bit frames are not ours. */
static void test_isotp__ids_29bit(void)
{
	struct isotp_cfg a = cfg_tester(), b = cfg_ecu();
	struct link *l;
	const uint8_t *p;

	a.tx_id = b.rx_id = 0x18DA10F1;
	a.rx_id = b.tx_id = 0x18DAF110;
	a.id_flags = b.id_flags = BUS_FRAME_EFF;
	l = link_new(&a, &b);
	link_transfer(l, 300);
	for (size_t k = 0; k < l->nlog; k++) {
		T_EQ(l->log[k].f.flags, BUS_FRAME_EFF);
		T_EQ(l->log[k].f.id, l->log[k].from ? 0x18DAF110u : 0x18DA10F1u);
	}
	/* same numeric id without EFF (as 11 bits it cannot be; use a low one) */
	isotp_input(l->tp[1], FR(0x18DA10F1, 0x02, 0x10, 0x02), 0);
	T_EQ(take(l->tp[1], &p), 0);
	isotp_input(l->tp[1], FRB(0x18DA10F1, BUS_FRAME_EFF, 0x02, 0x10, 0x02), 0);
	T_EQ(take(l->tp[1], &p), 2);
	link_free(l);

	/* an 11-bit engine ignores a 29-bit frame of the same number */
	struct isotp_cfg c = cfg_ecu();
	struct isotp *tp = isotp_new(&c);

	isotp_input(tp, FRB(TESTER, BUS_FRAME_EFF, 0x02, 0x10, 0x02), 0);
	T_EQ(take(tp, &p), 0);
	isotp_input(tp, FR(TESTER, 0x02, 0x10, 0x02), 0);
	T_EQ(take(tp, &p), 2);
	isotp_free(tp);
}

/* Frames of other ids, even mid-reception and mid-transmission, change nothing. */
static void test_isotp__other_ids_ignored(void)
{
	struct isotp_cfg c = cfg_ecu();
	struct isotp *tp;
	struct bus_frame f;
	const uint8_t *p;
	struct isotp_stats st;

	tp = isotp_new(&c);
	isotp_input(tp, FR(0x7DF, 0x02, 0x10, 0x03), 0);
	isotp_input(tp, FR(0x7E1, 0x02, 0x10, 0x03), 0);
	T_EQ(take(tp, &p), 0);
	isotp_input(tp, FR(TESTER, 0x10, 10, 1, 2, 3, 4, 5, 6), 0);
	T_EQ(isotp_output(tp, &f, 0), 1);
	isotp_input(tp, FR(0x7E1, 0x21, 0, 0, 0, 0, 0, 0, 0), 1);
	isotp_input(tp, FR(0x7E1, 0x02, 0x10, 0x03), 1);
	isotp_input(tp, FR(0x7E1, 0x30, 0, 0), 1);
	T_TRUE(isotp_rx_busy(tp));
	isotp_input(tp, FR(TESTER, 0x21, 7, 8, 9, 10), 2);
	T_EQ(take(tp, &p), 10);
	T_EQ(p[9], 10);
	T_OK(isotp_rx_error(tp));
	isotp_stats(tp, &st);
	T_EQ(st.frames_in, 2);
	T_EQ(st.frames_ignored, 0);
	isotp_free(tp);
}

/* 9.8.3: an SF or FF during a reception ends it and is processed as a new one. */
static void test_isotp__new_sf_ff_replace_reception(void)
{
	struct isotp_cfg c = cfg_ecu();
	struct isotp *tp;
	struct bus_frame f;
	const uint8_t *p;

	tp = isotp_new(&c);
	isotp_input(tp, FR(TESTER, 0x10, 20, 1, 2, 3, 4, 5, 6), 0);
	T_EQ(isotp_output(tp, &f, 0), 1);
	isotp_input(tp, FR(TESTER, 0x21, 7, 8, 9, 10, 11, 12, 13), 1);
	isotp_input(tp, FR(TESTER, 0x02, 0x3E, 0x00), 2);
	T_EQ(isotp_rx_error(tp), -EPROTO);
	T_EQ(take(tp, &p), 2);
	T_EQ(p[0], 0x3E);
	T_TRUE(!isotp_rx_busy(tp));
	isotp_input(tp, FR(TESTER, 0x22, 14, 15, 16, 17, 18, 19, 20), 3);
	T_EQ(take(tp, &p), 0);

	/* FF during a reception: restart with the new length, new FC, SN from 1 */
	isotp_input(tp, FR(TESTER, 0x10, 20, 1, 2, 3, 4, 5, 6), 10);
	T_EQ(isotp_output(tp, &f, 10), 1);
	isotp_input(tp, FR(TESTER, 0x21, 7, 8, 9, 10, 11, 12, 13), 11);
	isotp_input(tp, FR(TESTER, 0x10, 9, 0xA, 0xB, 0xC, 0xD, 0xE, 0xF), 12);
	T_EQ(isotp_rx_error(tp), -EPROTO);
	T_EQ(isotp_output(tp, &f, 12), 1);
	T_FRAME(f, 0x30, 0, 0, 0xCC, 0xCC, 0xCC, 0xCC, 0xCC);
	isotp_input(tp, FR(TESTER, 0x21, 0x10, 0x11, 0xCC, 0xCC, 0xCC, 0xCC, 0xCC), 13);
	T_EQ(take(tp, &p), 9);
	static const uint8_t exp[] = {
		0xA, 0xB, 0xC, 0xD, 0xE, 0xF, 0x10, 0x11,
	};
	T_EQ_MEM(p, exp, 8);
	T_OK(isotp_rx_error(tp));

	/* an invalid SF does not disturb a reception in progress */
	isotp_input(tp, FR(TESTER, 0x10, 9, 0xA, 0xB, 0xC, 0xD, 0xE, 0xF), 20);
	T_EQ(isotp_output(tp, &f, 20), 1);
	isotp_input(tp, FR(TESTER, 0x00, 0x3E), 21);
	T_TRUE(isotp_rx_busy(tp));
	T_OK(isotp_rx_error(tp));
	isotp_free(tp);
}

/* 9.8.3: a CF with no reception, an FC with no transfer waiting for it: ignored. */
static void test_isotp__stray_cf_fc_ignored(void)
{
	struct isotp_cfg c = cfg_ecu();
	struct isotp *tp;
	struct bus_frame f;
	const uint8_t *p;
	uint8_t *pdu = pattern(30, 4);
	struct isotp_stats st;

	tp = isotp_new(&c);
	isotp_input(tp, FR(TESTER, 0x21, 1, 2, 3, 4, 5, 6, 7), 0);
	isotp_input(tp, FR(TESTER, 0x30, 0, 0), 0);
	T_EQ(take(tp, &p), 0);
	T_OK(isotp_rx_error(tp));
	T_EQ(isotp_output(tp, &f, 0), 0);
	T_EQ_U64(isotp_deadline(tp), FOTA_NEVER);
	/* while sending CFs (BS 0), another FC changes nothing */
	T_OK(isotp_send(tp, pdu, 30, 0));
	T_EQ(isotp_output(tp, &f, 0), 1);
	isotp_input(tp, FR(TESTER, 0x30, 0, 10), 0);
	T_EQ(isotp_output(tp, &f, 0), 1);
	isotp_input(tp, FR(TESTER, 0x32, 0, 0), 1);    /* OVFLW now: not waiting, ignored */
	isotp_input(tp, FR(TESTER, 0x30, 0, 0x7F), 1); /* a new STmin is not taken */
	T_EQ(isotp_output(tp, &f, 9999), 0);
	T_EQ(isotp_output(tp, &f, 10000), 1);
	T_EQ(isotp_tx_result(tp), -EINPROGRESS);
	isotp_stats(tp, &st);
	T_EQ(st.frames_ignored, 4);
	isotp_free(tp);
	free(pdu);
}

/* FFs that 9.5.3/9.6.3.2 call invalid are ignored: no FC, no reception. */
static void test_isotp__invalid_ff_ignored(void)
{
	struct isotp_cfg c = cfg_ecu();
	struct isotp *tp;
	struct bus_frame f;

	c.fd = true;
	c.tx_dl = 64;
	c.rx_max = 100000;
	tp = isotp_new(&c);
	/* classic FF_DL <= 7 */
	isotp_input(tp, FR(TESTER, 0x10, 7, 1, 2, 3, 4, 5, 6), 0);
	/* FF shorter than 8 bytes */
	isotp_input(tp, FR(TESTER, 0x10, 20, 1, 2, 3, 4, 5), 0);
	/* escape FF announcing <= 4095 */
	isotp_input(tp, FR(TESTER, 0x10, 0, 0, 0, 0x0F, 0xFF, 1, 2), 0);
	/* FD FF with RX_DL 64 and FF_DL 62 (fits an SF) */
	f = (struct bus_frame){ .id = TESTER, .flags = BUS_FRAME_FD, .len = 64 };
	f.data[0] = 0x10;
	f.data[1] = 62;
	isotp_input(tp, &f, 0);
	/* an FD frame of a length that is no DLC */
	f.len = 13;
	f.data[1] = 100;
	isotp_input(tp, &f, 0);
	T_TRUE(!isotp_rx_busy(tp));
	T_EQ(isotp_output(tp, &f, 0), 0);
	T_OK(isotp_rx_error(tp));
	/* the smallest valid ones: 8 classic, 63 with RX_DL 64 */
	isotp_input(tp, FR(TESTER, 0x10, 8, 1, 2, 3, 4, 5, 6), 0);
	T_TRUE(isotp_rx_busy(tp));
	f = (struct bus_frame){ .id = TESTER, .flags = BUS_FRAME_FD, .len = 64 };
	f.data[0] = 0x10;
	f.data[1] = 63;
	isotp_input(tp, &f, 0);
	T_EQ(isotp_rx_error(tp), -EPROTO); /* replaced the classic one */
	T_TRUE(isotp_rx_busy(tp));
	isotp_free(tp);
}

/* SFs with SF_DL 0, beyond the frame, or without the escape in a long frame: ignored. */
static void test_isotp__invalid_sf_ignored(void)
{
	struct isotp_cfg c = cfg_ecu();
	struct isotp *tp;
	struct bus_frame f;
	const uint8_t *p;

	tp = isotp_new(&c);
	isotp_input(tp, FR(TESTER, 0x00, 1, 2, 3), 0);
	isotp_input(tp, FR(TESTER, 0x04, 1, 2, 3), 0);		   /* 4 bytes in a 4-byte frame */
	isotp_input(tp, FR(TESTER, 0x08, 1, 2, 3, 4, 5, 6, 7), 0); /* 8 > 7 */
	f = (struct bus_frame){ .id = TESTER, .flags = BUS_FRAME_FD, .len = 12 };
	f.data[0] = 0x05; /* CAN_DL > 8 needs the escape */
	isotp_input(tp, &f, 0);
	f.data[0] = 0x00;
	f.data[1] = 11; /* 11 > 12 - 2 */
	isotp_input(tp, &f, 0);
	T_EQ(take(tp, &p), 0);
	f.data[1] = 10;
	isotp_input(tp, &f, 0);
	T_EQ(take(tp, &p), 10);
	/* an unknown N_PCItype is ignored */
	isotp_input(tp, FR(TESTER, 0x40, 1, 2, 3), 0);
	isotp_input(tp, FR(TESTER, 0x03, 1, 2, 3), 0);
	T_EQ(take(tp, &p), 3);
	isotp_free(tp);
}

/* A reserved FlowStatus aborts the transfer (N_INVALID_FS), and a too-short FC is ignored. */
static void test_isotp__invalid_fs(void)
{
	struct isotp_cfg c = cfg_tester();
	struct isotp *tp;
	struct bus_frame f;
	uint8_t *p = pattern(20, 1);

	tp = isotp_new(&c);
	T_OK(isotp_send(tp, p, 20, 0));
	T_EQ(isotp_output(tp, &f, 0), 1);
	isotp_input(tp, FR(ECU, 0x30, 0), 1); /* 2 bytes: no STmin */
	T_EQ(isotp_tx_result(tp), -EINPROGRESS);
	isotp_input(tp, FR(ECU, 0x33, 0, 0), 2);
	T_EQ(isotp_tx_result(tp), -EPROTO);
	isotp_free(tp);
	free(p);
}

/* 9.5.3: every CF but the last has CAN_DL = RX_DL; the last holds at least the rest. */
static void test_isotp__cf_length_rules(void)
{
	struct isotp_cfg c = cfg_ecu();
	struct isotp *tp;
	struct bus_frame f;
	const uint8_t *p;

	tp = isotp_new(&c);
	isotp_input(tp, FR(TESTER, 0x10, 16, 1, 2, 3, 4, 5, 6), 0);
	T_EQ(isotp_output(tp, &f, 0), 1);
	isotp_input(tp, FR(TESTER, 0x21, 7, 8, 9, 10), 1); /* short, not last: ignored */
	T_TRUE(isotp_rx_busy(tp));
	T_OK(isotp_rx_error(tp));
	isotp_input(tp, FR(TESTER, 0x21, 7, 8, 9, 10, 11, 12, 13), 2);
	isotp_input(tp, FR(TESTER, 0x22, 14, 15), 3); /* last needs 3 bytes: ignored */
	T_TRUE(isotp_rx_busy(tp));
	isotp_input(tp, FR(TESTER, 0x22, 14, 15, 16), 4); /* minimal last CF */
	T_EQ(take(tp, &p), 16);
	T_EQ(p[15], 16);
	isotp_free(tp);
}

static void test_isotp__send_errors(void)
{
	struct isotp_cfg c = cfg_tester();
	struct isotp *tp = isotp_new(&c);
	uint8_t b[20] = { 0 };
	struct bus_frame f;

	T_EQ(isotp_send(tp, b, 0, 0), -EMSGSIZE);
	T_OK(isotp_tx_result(tp)); /* nothing sent yet */
	T_OK(isotp_send(tp, b, 20, 0));
	T_EQ(isotp_send(tp, b, 2, 0), -EALREADY);
	T_EQ(isotp_output(tp, &f, 0), 1);
	T_EQ(isotp_send(tp, b, 2, 0), -EALREADY);
	isotp_reset(tp);
	T_OK(isotp_tx_result(tp));
	T_EQ(isotp_output(tp, &f, 0), 0);
	T_OK(isotp_send(tp, b, 2, 0));
	isotp_free(tp);
}

/* Both sides send at once: full duplex, FCs interleaved with CFs. */
static void test_isotp__full_duplex(void)
{
	struct isotp_cfg a = cfg_tester(), b = cfg_ecu();
	struct link *l;
	uint8_t *pa = pattern(3000, 1), *pb = pattern(2000, 2);

	a.bs = 3;
	b.bs = 5;
	a.stmin = 0xF5;
	b.stmin = 1;
	l = link_new(&a, &b);
	T_OK(isotp_send(l->tp[0], pa, 3000, l->now));
	T_OK(isotp_send(l->tp[1], pb, 2000, l->now));
	link_run(l, l->now + FOTA_SEC(60));
	T_OK(isotp_tx_result(l->tp[0]));
	T_OK(isotp_tx_result(l->tp[1]));
	T_EQ(l->rx_len[1], 3000);
	T_EQ(l->rx_len[0], 2000);
	if (l->rx_len[1] == 3000)
		T_EQ_MEM(l->rx[1], pa, 3000);
	if (l->rx_len[0] == 2000)
		T_EQ_MEM(l->rx[0], pb, 2000);
	T_EQ(l->frames, frames_min(3000, 8, 5) + frames_min(2000, 8, 3));
	link_free(l);
	free(pa);
	free(pb);
}

/* rx_max 16 MiB costs 4 KiB until an FF announces more; then exactly that. */
static void test_isotp__lazy_rx_buffer(void)
{
	struct isotp_cfg a = cfg_tester(), b = cfg_ecu();
	struct link *l;
	struct isotp_stats st;

	b.rx_max = ISOTP_RX_MAX_LIMIT;
	l = link_new(&a, &b);
	isotp_stats(l->tp[1], &st);
	T_EQ(st.rx_buf_size, 4095);
	link_transfer(l, 4000);
	isotp_stats(l->tp[1], &st);
	T_EQ(st.rx_buf_size, 4095);
	link_transfer(l, 70000);
	isotp_stats(l->tp[1], &st);
	T_EQ(st.rx_buf_size, 70000);
	T_EQ(st.pdus_received, 2);
	link_transfer(l, 5000); /* no shrink, no new allocation */
	isotp_stats(l->tp[1], &st);
	T_EQ(st.rx_buf_size, 70000);
	link_free(l);

	/* a tiny rx_max still takes any SF up to 62 bytes... or refuses it cleanly */
	b.rx_max = 5;
	b.fd = true;
	b.tx_dl = 64;
	struct isotp *tp = isotp_new(&b);
	const uint8_t *p;

	isotp_input(tp, FR(TESTER, 0x06, 1, 2, 3, 4, 5, 6), 0);
	T_EQ(take(tp, &p), 0);
	T_EQ(isotp_rx_error(tp), -EMSGSIZE);
	isotp_input(tp, FR(TESTER, 0x05, 1, 2, 3, 4, 5), 0);
	T_EQ(take(tp, &p), 5);
	isotp_free(tp);
}

/* A completed PDU not taken before the next SF is lost (and counted). */
static void test_isotp__untaken_pdu_overwritten(void)
{
	struct isotp_cfg c = cfg_ecu();
	struct isotp *tp = isotp_new(&c);
	const uint8_t *p;
	struct isotp_stats st;

	isotp_input(tp, FR(TESTER, 0x01, 0xAA), 0);
	isotp_input(tp, FR(TESTER, 0x01, 0xBB), 1);
	T_EQ(take(tp, &p), 1);
	T_EQ(p[0], 0xBB);
	isotp_stats(tp, &st);
	T_EQ(st.rx_aborted, 1);
	T_EQ(st.pdus_received, 2);
	isotp_free(tp);
}

static const struct t_case cases[] = {
	T_CASE(isotp__stmin_table),
	T_CASE(isotp__cfg_defaults_and_invalid),
	T_CASE(isotp__classic_sizes),
	T_CASE(isotp__fd_sizes),
	T_CASE(isotp__wire_minimum_bs),
	T_CASE(isotp__exact_bytes_classic),
	T_CASE(isotp__sf_bytes_padding),
	T_CASE(isotp__fd_sf_escape_bytes),
	T_CASE(isotp__escape_ff_bytes),
	T_CASE(isotp__padding_byte_by_byte),
	T_CASE(isotp__fd_padding),
	T_CASE(isotp__stmin_pacing),
	T_CASE(isotp__stmin_tx_floor),
	T_CASE(isotp__bs_blocks),
	T_CASE(isotp__fc_wait_then_cts),
	T_CASE(isotp__too_many_waits),
	T_CASE(isotp__overflow),
	T_CASE(isotp__n_bs_timeout),
	T_CASE(isotp__n_cr_timeout),
	T_CASE(isotp__wrong_sn),
	T_CASE(isotp__sn_wrap),
	T_CASE(isotp__ids_29bit),
	T_CASE(isotp__other_ids_ignored),
	T_CASE(isotp__new_sf_ff_replace_reception),
	T_CASE(isotp__stray_cf_fc_ignored),
	T_CASE(isotp__invalid_ff_ignored),
	T_CASE(isotp__invalid_sf_ignored),
	T_CASE(isotp__invalid_fs),
	T_CASE(isotp__cf_length_rules),
	T_CASE(isotp__send_errors),
	T_CASE(isotp__full_duplex),
	T_CASE(isotp__lazy_rx_buffer),
	T_CASE(isotp__untaken_pdu_overwritten),
};

int main(void)
{
	return t_main(cases, FOTA_ARRAY_SIZE(cases));
}
