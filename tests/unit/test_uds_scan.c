// SPDX-License-Identifier: MIT
/*
 * The UDS half of `fota scan` (uds/scan.h) against simulated ECUs (uds/ecu.h)
 * on a mem: bus, in virtual time: the functional TesterPresent, the
 * responders, physical probes, ReadDataByIdentifier with a multi-frame VIN
 * (flow control to the ECU's request id), NRCs, 0x78, lost answers, 29-bit
 * normal fixed addressing, the limit, byte for byte.
 */
#include <stdio.h>
#include <string.h>
#include "core/bus.h"
#include "uds/ecu.h"
#include "uds/isotp.h"
#include "uds/scan.h"
#include "uds/server.h"
#include "uds/uds.h"
#include "tests/sim/sim.h"
#include "tests/unit/t.h"

#define T0  FOTA_SEC(100)
#define VIN "WFOTA000000000001"

static const uint16_t ident[] = { UDS_DID_VIN, UDS_DID_ECU_SOFTWARE_VERSION,
				  UDS_DID_SPARE_PART_NUMBER };

struct ecu {
	struct uds_server *srv;
	struct isotp *tp;
	struct uds_ecu side;
	struct bus *bus;
};

struct env {
	struct sim sim;
	struct bus *scanner;
	struct ecu ecu[4];
	size_t necus;
	struct uds_scan *scan;
};

/* An ECU on req/rsp; functional: also on func (0 = physical only); sw: F189 or NULL. */
static struct ecu *add_ecu(struct env *e, uint32_t req, uint32_t rsp, uint32_t func, bool eff,
			   const char *sw, const struct uds_server_faults *faults)
{
	static const struct uds_region region = { 0x08000000, 0x1000 };
	struct ecu *x = &e->ecu[e->necus++];
	struct uds_did dids[3] = {
		{ UDS_DID_VIN, (const uint8_t *)VIN, strlen(VIN) },
		{ UDS_DID_SPARE_PART_NUMBER, (const uint8_t *)"PN-1", 4 },
		{ UDS_DID_ECU_SOFTWARE_VERSION, (const uint8_t *)sw, sw ? strlen(sw) : 0 },
	};
	struct uds_server_cfg sc = { .regions = &region,
				     .nregions = 1,
				     .pending_interval_ms = 40,
				     .dids = dids,
				     .ndids = sw ? 3 : 2 };
	struct isotp_cfg tc = {
		.tx_id = rsp, .rx_id = req, .id_flags = eff ? BUS_FRAME_EFF : 0, .pad = 0xCC
	};

	if (faults)
		sc.faults = *faults;
	T_OK(uds_server_new(&x->srv, &sc));
	x->tp = isotp_new(&tc);
	T_TRUE(x->tp != NULL);
	uds_ecu_init(&x->side, x->srv, x->tp, NULL);
	if (func)
		uds_ecu_set_functional(&x->side, func, eff);
	T_OK(bus_open(&x->bus, "mem:uscan", NULL, NULL, 0));
	T_OK(sim_add(&e->sim, x->bus, &uds_ecu_member_ops, &x->side));
	return x;
}

static void env_init(struct env *e)
{
	memset(e, 0, sizeof(*e));
	T_OK(sim_init(&e->sim, "uscan", T0));
	T_OK(bus_open(&e->scanner, "mem:uscan", NULL, NULL, 0)); /* member 0 */
}

static void run_scan(struct env *e, struct uds_scan_cfg *cfg)
{
	if (!cfg->ndids && !cfg->dids) {
		cfg->dids = ident;
		cfg->ndids = FOTA_ARRAY_SIZE(ident);
	}
	T_OK(uds_scan_new(&e->scan, cfg));
	T_OK(sim_add(&e->sim, e->scanner, &uds_scan_member_ops, e->scan));
	uds_scan_start(e->scan, T0);
	T_OK(sim_run(&e->sim, FOTA_SEC(60)));
}

static void env_release(struct env *e)
{
	uds_scan_free(e->scan);
	for (size_t i = 0; i < e->necus; i++) {
		isotp_free(e->ecu[i].tp);
		uds_server_free(e->ecu[i].srv);
		bus_close(e->ecu[i].bus);
	}
	bus_close(e->scanner);
	sim_release(&e->sim);
}

/* The scanner's frames in cansend syntax, one per line, with their time after T0 in ms. */
static void scanner_wire(const struct env *e, char *buf, size_t cap)
{
	const struct bus_mem_rec *r;
	size_t n = bus_mem_record(bus_mem_hub(e->scanner), &r), k = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < n && k < cap; i++) {
		char f[BUS_FRAME_TEXT_MAX];

		if (r[i].from != 0)
			continue;
		bus_frame_format(f, sizeof(f), &r[i].f);
		k += (size_t)snprintf(buf + k, cap - k, "%llu %s\n",
				      (unsigned long long)((r[i].t - T0) / 1000), f);
	}
}

static const struct uds_scan_ecu *by_rsp(const struct env *e, uint32_t rsp)
{
	for (size_t i = 0; i < uds_scan_count(e->scan); i++)
		if (uds_scan_ecu(e->scan, i)->response_id == rsp)
			return uds_scan_ecu(e->scan, i);
	return NULL;
}

#define T_DID_TEXT(d, text)                                     \
	do {                                                    \
		T_OK((d)->err);                                 \
		T_EQ((d)->len, strlen(text));                   \
		T_TRUE(!memcmp((d)->data, text, strlen(text))); \
	} while (0)

static void test_uds_scan__two_ecus_functional(void)
{
	struct uds_scan_cfg cfg = { .pad = 0xCC };
	const struct uds_scan_ecu *a, *b;
	struct env e;
	char wire[2048];

	env_init(&e);
	add_ecu(&e, 0x7E0, 0x7E8, 0x7DF, false, "1.2.3", NULL);
	add_ecu(&e, 0x7E1, 0x7E9, 0x7DF, false, NULL, NULL); /* no F189 */
	add_ecu(&e, 0x7E2, 0x7EA, 0, false, "x", NULL);	     /* ignores functional requests */
	run_scan(&e, &cfg);
	T_EQ_U64(sim_now(&e.sim) - T0, FOTA_MS(300)); /* the window */
	T_EQ(uds_scan_count(e.scan), 2);
	a = by_rsp(&e, 0x7E8);
	b = by_rsp(&e, 0x7E9);
	T_TRUE(a && b);
	if (!a || !b)
		goto out;
	T_EQ(a->request_id, 0x7E0);
	T_TRUE(a->functional && !a->extended);
	T_EQ(a->nrc, 0);
	T_EQ(a->ndids, 3);
	T_EQ(a->did[0].did, 0xF190);
	T_DID_TEXT(&a->did[0], VIN);
	T_DID_TEXT(&a->did[1], "1.2.3");
	T_DID_TEXT(&a->did[2], "PN-1");
	T_EQ(b->request_id, 0x7E1);
	T_DID_TEXT(&b->did[0], VIN);
	T_EQ(b->did[1].err, -EREMOTEIO);
	T_EQ(b->did[1].nrc, UDS_NRC_REQUEST_OUT_OF_RANGE);
	T_DID_TEXT(&b->did[2], "PN-1");
	/*
	 * On the wire: the functional request, then to each ECU physically: VIN
	 * (flow control after its first frame), F189 (8 bytes with "1.2.3": a
	 * flow control too), F187. Everything at once in virtual time; the two
	 * ECUs' exchanges interleave.
	 */
	scanner_wire(&e, wire, sizeof(wire));
	T_EQ_STR(wire, "0 7DF#023E00CCCCCCCCCC\n"
		       "0 7E0#0322F190CCCCCCCC\n"
		       "0 7E1#0322F190CCCCCCCC\n"
		       "0 7E0#300000CCCCCCCCCC\n"
		       "0 7E1#300000CCCCCCCCCC\n"
		       "0 7E0#0322F189CCCCCCCC\n"
		       "0 7E1#0322F189CCCCCCCC\n"
		       "0 7E0#300000CCCCCCCCCC\n"
		       "0 7E1#0322F187CCCCCCCC\n"
		       "0 7E0#0322F187CCCCCCCC\n");
out:
	env_release(&e);
}

static void test_uds_scan__physical_probes(void)
{
	/* 0x7E0 and 0x7E1 answer the functional request: only 0x7E2, 0x7E3 are probed */
	struct uds_scan_cfg cfg = { .pad = 0xCC, .phys_first = 0x7E0, .phys_last = 0x7E3 };
	const struct uds_scan_ecu *c;
	struct env e;
	char wire[2048];
	const char *probes;

	env_init(&e);
	add_ecu(&e, 0x7E0, 0x7E8, 0x7DF, false, "1", NULL);
	add_ecu(&e, 0x7E1, 0x7E9, 0x7DF, false, "1", NULL);
	add_ecu(&e, 0x7E2, 0x7EA, 0, false, "2.0", NULL);
	run_scan(&e, &cfg);
	T_EQ_U64(sim_now(&e.sim) - T0, FOTA_MS(300));
	T_EQ(uds_scan_count(e.scan), 3);
	T_TRUE(by_rsp(&e, 0x7E8)->functional);
	c = by_rsp(&e, 0x7EA);
	T_TRUE(c != NULL);
	if (c) {
		T_TRUE(!c->functional);
		T_EQ(c->request_id, 0x7E2);
		T_DID_TEXT(&c->did[1], "2.0");
	}
	scanner_wire(&e, wire, sizeof(wire));
	/* the probes go out a timeout (100 ms) after the functional request */
	probes = strstr(wire, "100 7E2#023E00CCCCCCCCCC\n100 7E3#023E00CCCCCCCCCC\n");
	T_TRUE(probes != NULL);
	T_TRUE(!strstr(wire, "7E0#023E00") && !strstr(wire, "7E1#023E00"));
	T_TRUE(strstr(wire, "100 7E2#0322F190CCCCCCCC\n") != NULL);
	env_release(&e);

	/* A physical-only ECU outside 0x7E8..0x7EF, and an ECU the probes find nothing at. */
	env_init(&e);
	add_ecu(&e, 0x640, 0x648, 0, false, "p", NULL);
	cfg = (struct uds_scan_cfg){
		.pad = 0xCC, .phys_first = 0x640, .phys_last = 0x641, .window_ms = 50
	};
	run_scan(&e, &cfg);
	/* a window shorter than the probes' answer time is stretched: 100 + 100 ms */
	T_EQ_U64(sim_now(&e.sim) - T0, FOTA_MS(200));
	T_EQ(uds_scan_count(e.scan), 1);
	c = by_rsp(&e, 0x648);
	T_TRUE(c && !c->functional && c->request_id == 0x640);
	env_release(&e);
}

static void test_uds_scan__29bit_normal_fixed(void)
{
	struct uds_scan_cfg cfg = { .pad = 0xCC, .extended = true };
	const struct uds_scan_ecu *a;
	struct env e;
	char wire[2048];

	env_init(&e);
	add_ecu(&e, 0x18DA10F1, 0x18DAF110, 0x18DB33F1, true, "29", NULL);
	add_ecu(&e, 0x7E0, 0x7E8, 0x7DF, false, "11", NULL); /* 11-bit: not asked */
	run_scan(&e, &cfg);
	T_EQ(uds_scan_count(e.scan), 1);
	a = by_rsp(&e, 0x18DAF110);
	T_TRUE(a != NULL);
	if (a) {
		T_EQ(a->request_id, 0x18DA10F1);
		T_TRUE(a->extended && a->functional);
		T_DID_TEXT(&a->did[0], VIN);
		T_DID_TEXT(&a->did[1], "29");
	}
	scanner_wire(&e, wire, sizeof(wire));
	T_TRUE(!strncmp(wire,
			"0 18DB33F1#023E00CCCCCCCCCC\n0 18DA10F1#0322F190CCCCCCCC\n"
			"0 18DA10F1#300000CCCCCCCCCC\n",
			strlen("0 18DB33F1#023E00CCCCCCCCCC\n0 18DA10F1#0322F190CCCCCCCC\n"
			       "0 18DA10F1#300000CCCCCCCCCC\n")));
	env_release(&e);
}

static void test_uds_scan__pending_and_lost_answers(void)
{
	/* RDBI answered after two 0x78 (40 ms apart), the 2nd RDBI answer lost */
	struct uds_server_faults slow = { .pending_sid = UDS_SID_READ_DATA_BY_IDENTIFIER,
					  .pending_count = 2,
					  .pending_nth = 1 };
	struct uds_server_faults lossy = { .drop_sid = UDS_SID_READ_DATA_BY_IDENTIFIER,
					   .drop_nth = 2 };
	struct uds_scan_cfg cfg = { .pad = 0xCC, .window_ms = 100 };
	const struct uds_scan_ecu *a, *b;
	struct env e;

	env_init(&e);
	add_ecu(&e, 0x7E0, 0x7E8, 0x7DF, false, "1", &slow);
	add_ecu(&e, 0x7E1, 0x7E9, 0x7DF, false, "1", &lossy);
	run_scan(&e, &cfg);
	a = by_rsp(&e, 0x7E8);
	b = by_rsp(&e, 0x7E9);
	T_TRUE(a && b);
	if (!a || !b)
		goto out;
	T_DID_TEXT(&a->did[0], VIN); /* after 80 ms of 0x78, beyond the 100 ms P2 */
	T_DID_TEXT(&a->did[1], "1");
	T_DID_TEXT(&b->did[0], VIN);
	T_EQ(b->did[1].err, -ETIMEDOUT);
	T_DID_TEXT(&b->did[2], "PN-1");		      /* the next DID is asked all the same */
	T_EQ_U64(sim_now(&e.sim) - T0, FOTA_MS(100)); /* b's timeout ends at 100 ms too */
out:
	env_release(&e);
}

static void test_uds_scan__empty_bus_and_limit(void)
{
	struct uds_scan_cfg cfg = { .pad = 0xCC };
	struct env e;
	char wire[256];

	env_init(&e);
	run_scan(&e, &cfg);
	T_EQ_U64(sim_now(&e.sim) - T0, FOTA_MS(300));
	T_EQ(uds_scan_count(e.scan), 0);
	scanner_wire(&e, wire, sizeof(wire));
	T_EQ_STR(wire, "0 7DF#023E00CCCCCCCCCC\n");
	env_release(&e);

	/* The limit: the DID in hand timed out, the others not asked. */
	{
		struct uds_server_faults slow = { .pending_sid = UDS_SID_READ_DATA_BY_IDENTIFIER,
						  .pending_count = 100 };
		const struct uds_scan_ecu *a;

		env_init(&e);
		add_ecu(&e, 0x7E0, 0x7E8, 0x7DF, false, "1", &slow);
		cfg = (struct uds_scan_cfg){ .pad = 0xCC, .limit_ms = 250 };
		run_scan(&e, &cfg);
		T_EQ_U64(sim_now(&e.sim) - T0, FOTA_MS(250));
		a = by_rsp(&e, 0x7E8);
		T_TRUE(a != NULL);
		if (a) {
			T_EQ(a->did[0].err, -ETIMEDOUT);
			T_EQ(a->did[1].err, -ENODATA);
			T_EQ(a->did[2].err, -ENODATA);
		}
		env_release(&e);
	}
}

static void test_uds_scan__ids_and_bad_configs(void)
{
	struct uds_scan *s;
	struct uds_scan_cfg cfg = { .phys_first = 0x7E0, .phys_last = 0x7DF };
	uint32_t ids[BUS_FILTER_MAX];

	T_EQ(uds_scan_request_id(0x7E8, false), 0x7E0);
	T_EQ(uds_scan_response_id(0x7E0, false), 0x7E8);
	T_EQ(uds_scan_request_id(0x18DAF110, true), 0x18DA10F1);
	T_EQ(uds_scan_response_id(0x18DA10F1, true), 0x18DAF110);
	T_EQ(uds_scan_request_id(0x18DAF210, true), 0);
	T_EQ(uds_scan_response_id(0x18DB33F1, true), 0);
	T_EQ(uds_scan_response_id(0x7F8, false), 0);

	T_ERR(uds_scan_new(&s, &cfg), -EINVAL); /* reversed */
	cfg = (struct uds_scan_cfg){ .phys_first = 0x100, .phys_last = 0x200 };
	T_ERR(uds_scan_new(&s, &cfg), -EINVAL); /* 257 ids */
	cfg = (struct uds_scan_cfg){ .phys_first = 0x7F0, .phys_last = 0x7F8 };
	T_ERR(uds_scan_new(&s, &cfg), -EINVAL); /* 0x7F8 + 8 is no 11-bit id */
	cfg = (struct uds_scan_cfg){ .extended = true,
				     .phys_first = 0x18DA00F1,
				     .phys_last = 0x18DA0FF2 };
	T_ERR(uds_scan_new(&s, &cfg), -EINVAL); /* not 0x18DAxxF1 */
	cfg = (struct uds_scan_cfg){ .functional_id = 0x800 };
	T_ERR(uds_scan_new(&s, &cfg), -EINVAL);
	cfg = (struct uds_scan_cfg){ .ndids = UDS_SCAN_DIDS_MAX + 1, .dids = ident };
	T_ERR(uds_scan_new(&s, &cfg), -EINVAL);

	cfg = (struct uds_scan_cfg){ .phys_first = 0x7D0, .phys_last = 0x7E3 };
	T_OK(uds_scan_new(&s, &cfg));
	/* 0x7E8..0x7EF, and the probes' answers 0x7D8..0x7E7 outside them */
	T_EQ(uds_scan_filter(s, ids, FOTA_ARRAY_SIZE(ids)), 8 + 16);
	uds_scan_free(s);
	cfg = (struct uds_scan_cfg){ .extended = true,
				     .phys_first = 0x18DA00F1,
				     .phys_last = 0x18DAFFF1 };
	T_OK(uds_scan_new(&s, &cfg));
	T_EQ(uds_scan_filter(s, ids, FOTA_ARRAY_SIZE(ids)), 256);
	T_EQ(ids[0], 0x18DAF100 | BUS_FILTER_EFF);
	T_EQ(ids[255], 0x18DAF1FF | BUS_FILTER_EFF);
	uds_scan_free(s);
}

/*
 * A hostile bus: a scripted member answers each request with the frames of a
 * table, in order, whatever ISO-TP and ISO 14229 say.
 */
struct script {
	const char *req;     /* a request frame (cansend syntax) */
	const char *rsp[12]; /* what goes out when it is seen */
};

struct hostile {
	const struct script *s;
	size_t n;
	struct bus_frame q[64];
	size_t head, tail;
};

static void h_input(void *ctx, const struct bus_frame *f, fota_us now)
{
	struct hostile *h = ctx;
	char text[BUS_FRAME_TEXT_MAX];

	(void)now;
	bus_frame_format(text, sizeof(text), f);
	for (size_t i = 0; i < h->n; i++) {
		if (strcmp(text, h->s[i].req))
			continue;
		for (size_t k = 0; k < 12 && h->s[i].rsp[k]; k++) {
			T_TRUE(h->tail < FOTA_ARRAY_SIZE(h->q));
			if (h->tail < FOTA_ARRAY_SIZE(h->q))
				T_OK(bus_frame_parse(&h->q[h->tail++], h->s[i].rsp[k]));
		}
	}
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
	.input = h_input,
	.tick = h_tick,
	.output = h_output,
	.deadline = h_deadline,
};

static void test_uds_scan__hostile_frames(void)
{
	static const struct script script[] = {
		{ "7DF#023E00CCCCCCCCCC",
		  { "7E8#027E00CCCCCCCCCC", /* a responder */
		    "7E8#027E00CCCCCCCCCC", /* ... answering twice: still one */
		    "123#027E00",	    /* a foreign id */
		    "7F0#027E00",	    /* beyond 0x7EF */
		    "7E9#017E",		    /* too short for 7E 00 */
		    "7EA#0A7E00CCCCCCCCCC", /* SF_DL 10 in a classic frame */
		    "7EB#037F3E00",	    /* a negative response without NRC */
		    "7EC#02",		    /* SF_DL 2, one byte */
		    "7EE#107E00",	    /* a First Frame */
		    "18DAF1ED#027E00",	    /* 29-bit on an 11-bit scan */
		    "7ED#037F3E11" } },	    /* serviceNotSupported: a responder too */
		{ "7E0#0322F190CCCCCCCC",
		  { "7E8#0562F189AABB",	      /* another DID */
		    "7E8#0262F1",	      /* too short */
		    "7E8#037F2278",	      /* responsePending: P2* from now */
		    "7E8#0662F190414243",     /* the answer */
		    "7E8#0662F190585858" } }, /* again: ignored */
		{ "7E0#0322F189CCCCCCCC", { "7E8#037F2231" } },
		/* F187: never answered */
		{ "7E5#0322F190CCCCCCCC", { "7E9#037F2231", "7ED#037F2231" } },
		{ "7E5#0322F189CCCCCCCC", { "7ED#037F2231" } },
		{ "7E5#0322F187CCCCCCCC", { "7ED#0362F187" } }, /* an empty value */
	};
	struct uds_scan_cfg cfg = { .pad = 0xCC, .timeout_ms = 100 };
	struct hostile h = { .s = script, .n = FOTA_ARRAY_SIZE(script) };
	const struct uds_scan_ecu *a, *b;
	struct bus *hb;
	struct env e;

	env_init(&e);
	T_OK(bus_open(&hb, "mem:uscan", NULL, NULL, 0));
	T_OK(sim_add(&e.sim, hb, &hostile_ops, &h));
	run_scan(&e, &cfg);
	T_EQ(uds_scan_count(e.scan), 2);
	a = by_rsp(&e, 0x7E8);
	b = by_rsp(&e, 0x7ED);
	T_TRUE(a && b);
	if (!a || !b)
		goto out;
	T_EQ(a->nrc, 0);
	T_TRUE(a->functional);
	T_DID_TEXT(&a->did[0], "ABC");
	T_EQ(a->did[1].err, -EREMOTEIO);
	T_EQ(a->did[1].nrc, UDS_NRC_REQUEST_OUT_OF_RANGE);
	T_EQ(a->did[2].err, -ETIMEDOUT);
	T_EQ(b->nrc, UDS_NRC_SERVICE_NOT_SUPPORTED);
	T_EQ(b->request_id, 0x7E5);
	T_EQ(b->did[0].err, -EREMOTEIO);
	T_EQ(b->did[1].err, -EREMOTEIO);
	T_OK(b->did[2].err);
	T_EQ(b->did[2].len, 0);
out:
	env_release(&e);
	bus_close(hb);
}

static const struct t_case cases[] = {
	T_CASE(uds_scan__two_ecus_functional), T_CASE(uds_scan__physical_probes),
	T_CASE(uds_scan__29bit_normal_fixed),  T_CASE(uds_scan__pending_and_lost_answers),
	T_CASE(uds_scan__empty_bus_and_limit), T_CASE(uds_scan__ids_and_bad_configs),
	T_CASE(uds_scan__hostile_frames),
};

int main(void)
{
	return t_main(cases, FOTA_ARRAY_SIZE(cases));
}
