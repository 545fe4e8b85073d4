// SPDX-License-Identifier: MIT
/*
 * Unit tests of sdo/nmt.c: the NMT slave's state byte on the wire (boot-up
 * 0x700+ID #00, heartbeats with the state), the commands of CiA 301
 * §7.2.8.3.1 addressed to us, to all (node 0) and to others, and the
 * start-up probe that finds another node with our ID (virtual time).
 */
#include <string.h>
#include "sdo/nmt.h"
#include "sdo/sdo.h"
#include "tests/sim/sim.h"
#include "tests/unit/t.h"

#define T0 FOTA_SEC(100)

static struct bus_frame nmt_cmd(uint8_t cs, uint8_t node)
{
	struct bus_frame f = { .id = NMT_COB, .len = 2 };

	f.data[0] = cs;
	f.data[1] = node;
	return f;
}

static void expect_errctl(struct nmt_slave *n, uint8_t state)
{
	struct bus_frame f;

	T_EQ(nmt_output(n, &f), 1);
	T_EQ(f.id, 0x727);
	T_EQ(f.len, 1);
	T_EQ(f.data[0], state);
	T_EQ(nmt_output(n, &f), 0);
}

static void test_nmt__bootup_and_heartbeat(void)
{
	struct nmt_slave n;

	nmt_init(&n, 0x27);
	nmt_boot(&n, 100, T0);
	T_EQ_U64(nmt_deadline(&n), 0);
	expect_errctl(&n, NMT_ST_BOOTUP); /* boot-up: state byte 0x00 */
	T_EQ_U64(nmt_deadline(&n), T0 + FOTA_MS(100));
	nmt_tick(&n, T0 + FOTA_MS(99));
	T_EQ_U64(nmt_deadline(&n), T0 + FOTA_MS(100));
	nmt_tick(&n, T0 + FOTA_MS(100));
	expect_errctl(&n, NMT_ST_PREOPERATIONAL);
	/* a loop that woke late sends one heartbeat, not a burst */
	nmt_tick(&n, T0 + FOTA_MS(1000));
	expect_errctl(&n, NMT_ST_PREOPERATIONAL);
	T_EQ_U64(nmt_deadline(&n), T0 + FOTA_MS(1100));
	/* 0x1017 = 0: no heartbeat */
	nmt_set_heartbeat(&n, 0, T0 + FOTA_MS(1000));
	T_EQ_U64(nmt_deadline(&n), FOTA_NEVER);
}

static void test_nmt__commands(void)
{
	struct nmt_slave n;
	struct bus_frame f;

	nmt_init(&n, 0x27);
	nmt_boot(&n, 0, T0);
	nmt_output(&n, &f);
	f = nmt_cmd(NMT_CS_START, 0x27);
	T_EQ(nmt_input(&n, &f), NMT_IN_STATE);
	T_EQ(n.state, NMT_ST_OPERATIONAL);
	f = nmt_cmd(NMT_CS_STOP, 0x28); /* another node's */
	T_EQ(nmt_input(&n, &f), NMT_IN_NONE);
	T_EQ(n.state, NMT_ST_OPERATIONAL);
	f = nmt_cmd(NMT_CS_STOP, 0); /* all nodes */
	T_EQ(nmt_input(&n, &f), NMT_IN_STATE);
	T_EQ(n.state, NMT_ST_STOPPED);
	T_TRUE(!nmt_sdo_allowed(&n)); /* §7.3.2 */
	f = nmt_cmd(NMT_CS_PREOP, 0x27);
	T_EQ(nmt_input(&n, &f), NMT_IN_STATE);
	T_TRUE(nmt_sdo_allowed(&n));
	f = nmt_cmd(NMT_CS_RESET_NODE, 0x27);
	T_EQ(nmt_input(&n, &f), NMT_IN_RESET_NODE);
	f = nmt_cmd(NMT_CS_RESET_COMM, 0);
	T_EQ(nmt_input(&n, &f), NMT_IN_RESET_COMM);
	/* malformed: wrong length, unknown command, not COB-ID 0 */
	f = nmt_cmd(NMT_CS_START, 0x27);
	f.len = 1;
	T_EQ(nmt_input(&n, &f), NMT_IN_NONE);
	f = nmt_cmd(0x55, 0x27);
	T_EQ(nmt_input(&n, &f), NMT_IN_NONE);
	f = nmt_cmd(NMT_CS_START, 0x27);
	f.id = 0x001;
	T_EQ(nmt_input(&n, &f), NMT_IN_NONE);
}

/* ---- the probe, against a scripted node ---- */

struct other {
	uint32_t answer_id; /* what it sends when it sees the probe's SDO request, 0 = nothing */
	bool got_request;
	bool pending;
};

static void other_input(void *ctx, const struct bus_frame *f, fota_us now)
{
	struct other *o = ctx;

	if (f->id == SDO_COB_REQUEST + 0x27 && f->len == 8 && f->data[0] == 0x40 &&
	    f->data[1] == 0x00 && f->data[2] == 0x10 && f->data[3] == 0x00) {
		o->got_request = true;
		o->pending = o->answer_id != 0;
	}
}

static int other_output(void *ctx, struct bus_frame *f, fota_us now)
{
	struct other *o = ctx;

	if (!o->pending)
		return 0;
	o->pending = false;
	memset(f, 0, sizeof(*f));
	f->id = o->answer_id;
	f->len = o->answer_id == NMT_ERRCTL_COB + 0x27 ? 1 : 8;
	f->data[0] = o->answer_id == NMT_ERRCTL_COB + 0x27 ? 0x05 : 0x43;
	return 1;
}

static fota_us other_deadline(void *ctx)
{
	return ((struct other *)ctx)->pending ? 0 : FOTA_NEVER;
}

static const struct loop_member_ops other_ops = {
	.input = other_input,
	.output = other_output,
	.deadline = other_deadline,
};

static int probe(uint32_t answer_id, struct nmt_probe *p, struct other *o)
{
	struct sim s;
	struct bus *a, *b;
	int err;

	memset(o, 0, sizeof(*o));
	o->answer_id = answer_id;
	T_OK(sim_init(&s, "nmt", T0));
	T_OK(bus_open(&a, "mem:nmt", NULL, NULL, 0));
	T_OK(bus_open(&b, "mem:nmt", NULL, NULL, 0));
	nmt_probe_init(p, 0x27, NMT_PROBE_MS);
	T_OK(sim_add(&s, a, &nmt_probe_ops, p));
	T_OK(sim_add(&s, b, &other_ops, o));
	err = sim_run(&s, FOTA_SEC(2));
	if (p->seen_id) /* at once, not at the end of the window */
		T_TRUE(sim_now(&s) < T0 + FOTA_MS(10));
	else
		T_EQ_U64(sim_now(&s), T0 + FOTA_MS(NMT_PROBE_MS));
	sim_release(&s);
	bus_close(a);
	bus_close(b);
	return err;
}

static void test_nmt__probe_finds_a_node_with_our_id(void)
{
	struct nmt_probe p;
	struct other o;

	/* a CANopen node answers the upload of 0x1000 */
	T_OK(probe(SDO_COB_RESPONSE + 0x27, &p, &o));
	T_TRUE(o.got_request);
	T_EQ(p.seen_id, 0x5A7);
	/* one that only produces heartbeats is seen too */
	T_OK(probe(NMT_ERRCTL_COB + 0x27, &p, &o));
	T_EQ(p.seen_id, 0x727);
	/* nobody: the whole window passes, nothing seen */
	T_OK(probe(0, &p, &o));
	T_TRUE(o.got_request);
	T_EQ(p.seen_id, 0);
	/* another node-ID answering is no conflict */
	T_OK(probe(SDO_COB_RESPONSE + 0x28, &p, &o));
	T_EQ(p.seen_id, 0);
}

static const struct t_case cases[] = {
	T_CASE(nmt__bootup_and_heartbeat),
	T_CASE(nmt__commands),
	T_CASE(nmt__probe_finds_a_node_with_our_id),
};

int main(void)
{
	return t_main(cases, FOTA_ARRAY_SIZE(cases));
}
