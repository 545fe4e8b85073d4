// SPDX-License-Identifier: MIT
/*
 * The CANopen half of `fota scan` (sdo/scan.h) against SDO servers on a mem:
 * bus, in virtual time: who answers, what goes on the wire (no abort to an
 * absent node, one request per node at a time, the spacing of the first
 * requests), timeouts, aborts, the limit, heartbeats and boot-ups.
 */
#include <string.h>
#include "core/bus.h"
#include "core/update.h"
#include "sdo/fota_od.h"
#include "sdo/nmt.h"
#include "sdo/od.h"
#include "sdo/scan.h"
#include "sdo/sdo.h"
#include "sdo/server.h"
#include "tests/sim/sim.h"
#include "tests/unit/t.h"

#define T0 FOTA_SEC(100)

struct node {
	struct upd u;
	struct fota_od fo;
	struct sdo_server s;
	struct bus *bus;
};

struct env {
	struct sim sim;
	struct bus *scanner, *other;
	struct node a, b; /* a: node 0x27, the TCU; b: node 0x05 */
	struct sdo_scan scan;
};

static void node_init(struct env *e, struct node *n, uint8_t id,
		      const struct fota_od_identity *ident)
{
	struct sdo_server_cfg cfg = { .node = id };

	upd_init(&n->u);
	T_OK(fota_od_init(&n->fo, &n->u, ident));
	T_OK(sdo_server_init(&n->s, &cfg, &n->fo.od));
	T_OK(bus_open(&n->bus, "mem:scan", NULL, NULL, 0));
	T_OK(sim_add(&e->sim, n->bus, &sdo_server_loop_ops, &n->s));
}

/* The scanner opens the hub first: member 0 in the record. */
static void env_init(struct env *e, const struct sdo_scan_cfg *cfg)
{
	static const struct fota_od_identity ia = { .device_type = 0x00020192,
						    .vendor_id = 0x0000ABCD,
						    .product_code = 0x00001234,
						    .revision = 0x00010002,
						    .serial = 42 };
	static const struct fota_od_identity ib = { .vendor_id = 0x11 };

	memset(e, 0, sizeof(*e));
	T_OK(sim_init(&e->sim, "scan", T0));
	T_OK(bus_open(&e->scanner, "mem:scan", NULL, NULL, 0));
	T_OK(bus_open(&e->other, "mem:scan", NULL, NULL, 0));
	T_OK(sdo_scan_init(&e->scan, cfg));
	T_OK(sim_add(&e->sim, e->scanner, &sdo_scan_loop_ops, &e->scan));
	node_init(e, &e->a, 0x27, &ia);
	node_init(e, &e->b, 0x05, &ib);
}

static void env_release(struct env *e)
{
	sdo_scan_release(&e->scan);
	bus_close(e->a.bus);
	bus_close(e->b.bus);
	bus_close(e->scanner);
	bus_close(e->other);
	sim_release(&e->sim);
}

static const struct sdo_scan_node *node(const struct env *e, uint8_t id)
{
	return &e->scan.nodes[id - e->scan.cfg.first];
}

/* Frames the scanner sent, and how many of them were SDO aborts. */
static size_t scanner_frames(const struct env *e, size_t *aborts)
{
	const struct bus_mem_rec *r;
	size_t n = bus_mem_record(bus_mem_hub(e->scanner), &r), k = 0;

	*aborts = 0;
	for (size_t i = 0; i < n; i++) {
		if (r[i].from != 0)
			continue;
		k++;
		*aborts += r[i].f.data[0] == 0x80;
	}
	return k;
}

static void test_sdo_scan__finds_nodes_and_reads_identity(void)
{
	struct sdo_scan_cfg cfg = { .first = 1, .last = 127, .listen_ms = 300 };
	struct env e;
	size_t aborts;
	const struct sdo_scan_node *n;

	env_init(&e, &cfg);
	sdo_scan_start(&e.scan, T0);
	T_OK(sim_run(&e.sim, FOTA_SEC(10)));
	/* 127 first requests 1 ms apart, 100 ms for the last: all done within the listening */
	T_EQ_U64(sim_now(&e.sim) - T0, FOTA_MS(300));

	n = node(&e, 0x27);
	T_TRUE(sdo_scan_found(n));
	T_TRUE(n->sdo);
	T_OK(n->v[SDO_SCAN_DEVICE_TYPE].err);
	T_EQ(n->v[SDO_SCAN_DEVICE_TYPE].value, 0x00020192);
	T_OK(n->v[SDO_SCAN_VENDOR_ID].err);
	T_EQ(n->v[SDO_SCAN_VENDOR_ID].value, 0xABCD);
	T_EQ(n->v[SDO_SCAN_PRODUCT_CODE].value, 0x1234);
	T_EQ(n->v[SDO_SCAN_REVISION].value, 0x00010002);
	T_OK(n->v[SDO_SCAN_SERIAL].err);
	T_EQ(n->v[SDO_SCAN_SERIAL].value, 42);
	T_TRUE(!n->bootup && !n->heartbeat);

	n = node(&e, 0x05);
	T_TRUE(sdo_scan_found(n));
	T_EQ(n->v[SDO_SCAN_VENDOR_ID].value, 0x11);
	T_OK(n->v[SDO_SCAN_SERIAL].err);

	for (unsigned id = 1; id <= 127; id++) {
		if (id == 0x27 || id == 0x05)
			continue;
		n = node(&e, (uint8_t)id);
		T_TRUE(!sdo_scan_found(n));
		T_EQ(n->v[SDO_SCAN_DEVICE_TYPE].err, -ETIMEDOUT);
		T_EQ(n->v[SDO_SCAN_VENDOR_ID].err, -ENODATA);
	}
	/* One request per node, 4 more for each present one, and no abort to anyone. */
	T_EQ(scanner_frames(&e, &aborts), 127 + 2 * 4);
	T_EQ(aborts, 0);
	env_release(&e);
}

/* The wire: first requests gap_us apart in node order; a node's next request after its answer. */
static void test_sdo_scan__spacing_and_one_request_per_node(void)
{
	struct sdo_scan_cfg cfg = { .first = 0x20, .last = 0x2F, .gap_us = 2000 };
	struct env e;
	const struct bus_mem_rec *r;
	size_t n, firsts = 0;
	bool waiting = false;
	unsigned asked = 0;

	env_init(&e, &cfg);
	sdo_scan_start(&e.scan, T0);
	T_OK(sim_run(&e.sim, FOTA_SEC(10)));
	/* the last first request at 15 * 2 ms, then 100 ms without an answer */
	T_EQ_U64(sim_now(&e.sim) - T0, FOTA_MS(30 + 100));
	n = bus_mem_record(bus_mem_hub(e.scanner), &r);
	for (size_t i = 0; i < n; i++) {
		const struct bus_frame *f = &r[i].f;

		if (r[i].from == 0 && f->data[0] == 0x40 && f->data[1] == 0x00 &&
		    f->data[2] == 0x10) {
			/* 40 00 10 00: upload 0x1000:00, the first request of a node */
			T_EQ(f->id, 0x600 + 0x20 + firsts);
			T_EQ_U64(r[i].t - T0, FOTA_MS(2) * firsts);
			firsts++;
		}
		if (f->id == 0x627) {
			T_TRUE(!waiting); /* never a second request before the answer */
			waiting = true;
			asked++;
		} else if (f->id == 0x5A7) {
			T_TRUE(waiting);
			waiting = false;
		}
	}
	T_EQ(firsts, 16);
	T_EQ(asked, 5);
	T_TRUE(!waiting);
	env_release(&e);
}

/* A lost answer after the first: the usual abort, the rest of that node not read. */
static void test_sdo_scan__timeout_of_a_present_node_aborts(void)
{
	struct sdo_scan_cfg cfg = { .first = 0x27, .last = 0x27, .timeout_ms = 50 };
	struct env e;
	const struct sdo_scan_node *n;
	const struct bus_mem_rec *r;
	size_t cnt, aborts;

	env_init(&e, &cfg);
	/* the third answer of node 0x27 (0x1018:02) is lost */
	T_OK(bus_mem_fault(bus_mem_hub(e.scanner), &(struct bus_mem_rule){ .fault = BUS_MEM_DROP,
									   .nth = 3,
									   .match_id = true,
									   .id = 0x5A7 }));
	sdo_scan_start(&e.scan, T0);
	T_OK(sim_run(&e.sim, FOTA_SEC(10)));
	n = node(&e, 0x27);
	T_TRUE(sdo_scan_found(n));
	T_OK(n->v[SDO_SCAN_VENDOR_ID].err);
	T_EQ(n->v[SDO_SCAN_PRODUCT_CODE].err, -ETIMEDOUT);
	T_EQ(n->v[SDO_SCAN_REVISION].err, -ENODATA);
	T_EQ(n->v[SDO_SCAN_SERIAL].err, -ENODATA);
	T_EQ(scanner_frames(&e, &aborts), 4);
	T_EQ(aborts, 1);
	cnt = bus_mem_record(bus_mem_hub(e.scanner), &r);
	{
		/* 80 18 10 02 00 00 04 05: abort 0x1018:02 with 0x05040000 (timeout) */
		static const uint8_t want[8] = { 0x80, 0x18, 0x10, 0x02, 0x00, 0x00, 0x04, 0x05 };
		bool seen = false;

		for (size_t i = 0; i < cnt; i++)
			seen |= r[i].f.id == 0x627 && !memcmp(r[i].f.data, want, 8);
		T_TRUE(seen);
	}
	env_release(&e);
}

/* An object the node lacks: its abort code; the node is there all the same. */
static void test_sdo_scan__abort_from_the_node(void)
{
	static uint32_t dt = 0x191;
	static const struct od_entry only_1000[] = {
		{ .index = 0x1000, .sub = 0, .attr = OD_R, .type = OD_U32, .size = 4, .data = &dt },
	};
	struct sdo_scan_cfg cfg = { .first = 0x30, .last = 0x30 };
	struct sdo_server_cfg sc = { .node = 0x30 };
	struct sdo_server srv;
	struct od od;
	struct bus *bus;
	struct env e;
	const struct sdo_scan_node *n;

	env_init(&e, &cfg);
	T_OK(od_init(&od, only_1000, 1, NULL));
	T_OK(sdo_server_init(&srv, &sc, &od));
	T_OK(bus_open(&bus, "mem:scan", NULL, NULL, 0));
	T_OK(sim_add(&e.sim, bus, &sdo_server_loop_ops, &srv));
	sdo_scan_start(&e.scan, T0);
	T_OK(sim_run(&e.sim, FOTA_SEC(10)));
	T_EQ_U64(sim_now(&e.sim), T0); /* every answer at once, in virtual time */
	n = node(&e, 0x30);
	T_TRUE(sdo_scan_found(n));
	T_OK(n->v[SDO_SCAN_DEVICE_TYPE].err);
	T_EQ(n->v[SDO_SCAN_DEVICE_TYPE].value, 0x191);
	for (int k = SDO_SCAN_VENDOR_ID; k < SDO_SCAN_NFIELDS; k++) {
		T_EQ(n->v[k].err, -EREMOTEIO);
		T_EQ(n->v[k].abort_code, SDO_ABORT_NO_OBJECT);
	}
	bus_close(bus);
	env_release(&e);
}

static void send_text(struct bus *b, const char *text)
{
	struct bus_frame f;

	T_OK(bus_frame_parse(&f, text));
	T_OK(bus_send(b, &f));
}

static void test_sdo_scan__heartbeat_and_bootup(void)
{
	struct sdo_scan_cfg cfg = { .first = 0x40, .last = 0x44, .listen_ms = 200 };
	struct env e;

	env_init(&e, &cfg);
	sdo_scan_start(&e.scan, T0);
	send_text(e.other, "741#05");	   /* heartbeat: operational */
	send_text(e.other, "742#00");	   /* boot-up */
	send_text(e.other, "743#0500");	   /* two bytes: no heartbeat */
	send_text(e.other, "00000744#7F"); /* 29-bit: no heartbeat */
	send_text(e.other, "745#7F");	   /* outside the range */
	T_OK(sim_run(&e.sim, FOTA_SEC(10)));
	T_EQ_U64(sim_now(&e.sim) - T0, FOTA_MS(200)); /* the listening, not the SDO timeouts */
	T_TRUE(!sdo_scan_found(node(&e, 0x40)));
	T_TRUE(node(&e, 0x41)->heartbeat);
	T_EQ(node(&e, 0x41)->hb_state, NMT_ST_OPERATIONAL);
	T_TRUE(!node(&e, 0x41)->sdo);
	T_TRUE(sdo_scan_found(node(&e, 0x41)));
	T_TRUE(node(&e, 0x42)->bootup && !node(&e, 0x42)->heartbeat);
	T_TRUE(!sdo_scan_found(node(&e, 0x43)));
	T_TRUE(!sdo_scan_found(node(&e, 0x44)));
	env_release(&e);
}

static void test_sdo_scan__limit(void)
{
	struct sdo_scan_cfg cfg = { .first = 1, .last = 127, .limit_ms = 50, .listen_ms = 300 };
	struct env e;

	env_init(&e, &cfg);
	sdo_scan_start(&e.scan, T0);
	T_OK(sim_run(&e.sim, FOTA_SEC(10)));
	T_EQ_U64(sim_now(&e.sim) - T0, FOTA_MS(50));
	/* node n is asked at n - 1 ms; the servers answer at once in virtual time */
	T_TRUE(sdo_scan_found(node(&e, 0x05)));
	T_TRUE(sdo_scan_found(node(&e, 0x27)));
	T_OK(node(&e, 0x27)->v[SDO_SCAN_SERIAL].err);
	T_EQ(node(&e, 0x30)->v[SDO_SCAN_DEVICE_TYPE].err, -ETIMEDOUT); /* in hand at 50 ms */
	T_EQ(node(&e, 0x60)->v[SDO_SCAN_DEVICE_TYPE].err, -ENODATA);   /* never asked */
	env_release(&e);
}

static void test_sdo_scan__bad_range_and_filter(void)
{
	struct sdo_scan s;
	struct sdo_scan_cfg cfg = { .first = 0, .last = 5 };
	uint32_t ids[BUS_FILTER_MAX];

	T_ERR(sdo_scan_init(&s, &cfg), -EINVAL);
	cfg = (struct sdo_scan_cfg){ .first = 9, .last = 8 };
	T_ERR(sdo_scan_init(&s, &cfg), -EINVAL);
	cfg = (struct sdo_scan_cfg){ .first = 1, .last = 128 };
	T_ERR(sdo_scan_init(&s, &cfg), -EINVAL);
	cfg = (struct sdo_scan_cfg){ .first = 1, .last = 127 };
	T_OK(sdo_scan_init(&s, &cfg));
	T_EQ(sdo_scan_filter(&s, ids, FOTA_ARRAY_SIZE(ids)), 254);
	T_EQ(ids[0], 0x581);
	T_EQ(ids[1], 0x701);
	T_EQ(ids[253], 0x77F);
	T_EQ(sdo_scan_filter(&s, ids, 3), 2);
	T_TRUE(!sdo_scan_done(&s)); /* not started */
	sdo_scan_release(&s);
}

/* A scripted node: each request frame it sees gets the frames of a table, in order. */
struct script {
	const char *req;
	const char *rsp[6];
};

struct hostile {
	const struct script *s;
	size_t n;
	struct bus_frame q[32];
	size_t head, tail;
};

static void h_input(void *ctx, const struct bus_frame *f, fota_us now)
{
	struct hostile *h = ctx;
	char text[BUS_FRAME_TEXT_MAX];

	(void)now;
	bus_frame_format(text, sizeof(text), f);
	for (size_t i = 0; i < h->n; i++)
		for (size_t k = 0; !strcmp(text, h->s[i].req) && k < 6 && h->s[i].rsp[k]; k++)
			if (h->tail < FOTA_ARRAY_SIZE(h->q))
				T_OK(bus_frame_parse(&h->q[h->tail++], h->s[i].rsp[k]));
}

static int h_output(void *ctx, struct bus_frame *f, fota_us now)
{
	struct hostile *h = ctx;

	(void)now;
	if (h->head == h->tail)
		return 0;
	*f = h->q[h->head++];
	return 1;
}

static fota_us h_deadline(void *ctx)
{
	(void)ctx;
	return FOTA_NEVER;
}

static void h_tick(void *ctx, fota_us now)
{
	(void)ctx;
	(void)now;
}

static const struct loop_member_ops hostile_ops = {
	.input = h_input, .tick = h_tick, .output = h_output, .deadline = h_deadline
};

static void test_sdo_scan__hostile_node(void)
{
	static const struct script script[] = {
		{ "610#4000100000000000",
		  { "591#4300100091010000",	 /* node 0x11: not asked */
		    "00000590#4300100091010000", /* 29-bit */
		    "5A0#4300100091010000",	 /* a foreign id */
		    "590#4300100091010000" } },	 /* the answer */
		{ "610#4018100100000000", { "590#4318100134120000" } },
		/* 0x1018:02 answered twice: the second answer is nobody's */
		{ "610#4018100200000000", { "590#4318100221430000", "590#4318100222430000" } },
		{ "610#4018100300000000", { "590#8018100300000206" } },
		/* 0x1018:04: first the answer for another sub-index (another
		 * client's, CiA 301 §7.2.4.3: ignored, no abort), then ours, twice */
		{ "610#4018100400000000",
		  { "590#4318100378560000", "590#4318100478560000", "590#4318100479560000" } },
	};
	struct sdo_scan_cfg cfg = { .first = 0x10, .last = 0x11, .listen_ms = 50 };
	struct hostile h = { .s = script, .n = FOTA_ARRAY_SIZE(script) };
	const struct sdo_scan_node *n;
	struct bus *hb;
	struct env e;

	env_init(&e, &cfg);
	T_OK(bus_open(&hb, "mem:scan", NULL, NULL, 0));
	T_OK(sim_add(&e.sim, hb, &hostile_ops, &h));
	sdo_scan_start(&e.scan, T0);
	T_OK(sim_run(&e.sim, FOTA_SEC(10)));
	n = node(&e, 0x10);
	T_TRUE(sdo_scan_found(n));
	T_OK(n->v[SDO_SCAN_DEVICE_TYPE].err);
	T_EQ(n->v[SDO_SCAN_DEVICE_TYPE].value, 0x191);
	T_OK(n->v[SDO_SCAN_VENDOR_ID].err);
	T_EQ(n->v[SDO_SCAN_VENDOR_ID].value, 0x1234);
	T_OK(n->v[SDO_SCAN_PRODUCT_CODE].err);
	T_EQ(n->v[SDO_SCAN_PRODUCT_CODE].value, 0x4321);
	T_EQ(n->v[SDO_SCAN_REVISION].err, -EREMOTEIO);
	T_EQ(n->v[SDO_SCAN_REVISION].abort_code, SDO_ABORT_NO_OBJECT);
	T_OK(n->v[SDO_SCAN_SERIAL].err);
	T_EQ(n->v[SDO_SCAN_SERIAL].value, 0x5678);
	T_TRUE(!sdo_scan_found(node(&e, 0x11)));
	bus_close(hb);
	env_release(&e);
}

static const struct t_case cases[] = {
	T_CASE(sdo_scan__finds_nodes_and_reads_identity),
	T_CASE(sdo_scan__spacing_and_one_request_per_node),
	T_CASE(sdo_scan__timeout_of_a_present_node_aborts),
	T_CASE(sdo_scan__abort_from_the_node),
	T_CASE(sdo_scan__heartbeat_and_bootup),
	T_CASE(sdo_scan__limit),
	T_CASE(sdo_scan__bad_range_and_filter),
	T_CASE(sdo_scan__hostile_node),
};

int main(void)
{
	return t_main(cases, FOTA_ARRAY_SIZE(cases));
}
