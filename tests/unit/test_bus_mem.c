// SPDX-License-Identifier: MIT
/*
 * Unit tests of tests/sim/bus_mem.c and the bus_* wrappers of core/bus.c: delivery
 * to every other member, filters, virtual time, each fault knob, the record,
 * counters and the candump-format trace.
 */
#include <stdio.h>
#include <stdlib.h>
#include "tests/sim/bus_mem.h"
#include "tests/unit/t.h"

static struct bus_frame fr(const char *text)
{
	struct bus_frame f;

	if (bus_frame_parse(&f, text))
		abort();
	return f;
}

static const char *txt(const struct bus_frame *f)
{
	static char buf[4][BUS_FRAME_TEXT_MAX];
	static unsigned i;

	bus_frame_format(buf[i % 4], sizeof(buf[0]), f);
	return buf[i++ % 4];
}

/* Receive one frame and return its text, "" if none. */
static const char *rx(struct bus *b)
{
	struct bus_frame f;

	if (bus_recv(b, &f) != 1)
		return "";
	return txt(&f);
}

#define SEND(b, text)                             \
	do {                                      \
		struct bus_frame t_f_ = fr(text); \
		T_OK(bus_send((b), &t_f_));       \
	} while (0)

static void test_bus_mem__every_other_member(void)
{
	struct bus *a, *b, *c;

	T_OK(bus_open(&a, "mem:t1", NULL, NULL, 0));
	T_OK(bus_open(&b, "mem:t1", NULL, NULL, 0));
	T_OK(bus_open(&c, "mem:t1", NULL, NULL, 0));
	T_EQ(bus_fd(a), -1);
	T_EQ_STR(a->name, "mem:t1");
	SEND(a, "7E0#0210");
	T_EQ_STR(rx(b), "7E0#0210");
	T_EQ_STR(rx(c), "7E0#0210");
	T_EQ_STR(rx(a), ""); /* never its own frames */
	T_EQ_STR(rx(b), "");
	SEND(b, "7E8#5002");
	SEND(b, "7E8#5003");
	T_EQ_STR(rx(a), "7E8#5002"); /* order kept */
	T_EQ_STR(rx(a), "7E8#5003");
	T_EQ(a->tx_frames, 1);
	T_EQ(a->rx_frames, 2);
	T_EQ(b->tx_frames, 2);
	bus_close(a);
	bus_close(b);
	bus_close(c);
}

static void test_bus_mem__separate_hubs(void)
{
	struct bus *a, *b;

	T_OK(bus_open(&a, "mem:h1", NULL, NULL, 0));
	T_OK(bus_open(&b, "mem:h2", NULL, NULL, 0));
	SEND(a, "123#11");
	T_EQ_STR(rx(b), "");
	bus_close(a);
	bus_close(b);
}

static void test_bus_mem__filter(void)
{
	struct bus *a, *b;
	const uint32_t ids[] = { 0x7E8, 0x18DAF100 | BUS_FILTER_EFF };
	const uint32_t bad[BUS_FILTER_MAX + 1] = { 0 };

	T_OK(bus_open(&a, "mem:f", NULL, NULL, 0));
	T_OK(bus_open(&b, "mem:f", NULL, NULL, 0));
	T_OK(bus_set_filter(b, ids, 2));
	SEND(a, "7E0#01");
	SEND(a, "7E8#02");
	SEND(a, "000007E8#03"); /* same number, 29-bit: not the 11-bit 0x7E8 */
	SEND(a, "18DAF100#04");
	T_EQ_STR(rx(b), "7E8#02");
	T_EQ_STR(rx(b), "18DAF100#04");
	T_EQ_STR(rx(b), "");
	T_ERR(bus_set_filter(b, bad, FOTA_ARRAY_SIZE(bad)), -EINVAL);
	T_OK(bus_set_filter(b, NULL, 0)); /* all again */
	SEND(a, "7E0#05");
	T_EQ_STR(rx(b), "7E0#05");
	bus_close(a);
	bus_close(b);
}

static void test_bus_mem__filter_full(void)
{
	/* What fota scan sets: 0x580+n and 0x700+n for every node, 29-bit 0x18DAF1xx. */
	static uint32_t ids[BUS_FILTER_MAX];
	struct bus *a, *b;
	size_t n = 0;

	for (uint32_t node = 127; node >= 1; node--) {
		ids[n++] = 0x700 + node;
		ids[n++] = 0x580 + node;
	}
	for (uint32_t ta = 0; ta < 256; ta++)
		ids[n++] = 0x18DAF100 + ta;
	ids[n++] = 0x581; /* a duplicate is harmless */
	T_EQ(n, 511);
	T_OK(bus_open(&a, "mem:full", NULL, NULL, 0));
	T_OK(bus_open(&b, "mem:full", NULL, NULL, 0));
	T_OK(bus_set_filter(b, ids, n));
	SEND(a, "580#01"); /* node-ID 0 is no node */
	SEND(a, "581#02");
	SEND(a, "600#03");
	SEND(a, "6FF#04");
	SEND(a, "77F#05");
	SEND(a, "780#06");
	SEND(a, "18DAF1FF#07");
	SEND(a, "18DAF200#08");
	SEND(a, "18DAF100#09");
	SEND(a, "0000077F#0A"); /* 29-bit: not the 11-bit 0x77F */
	T_EQ_STR(rx(b), "581#02");
	T_EQ_STR(rx(b), "77F#05");
	T_EQ_STR(rx(b), "18DAF1FF#07");
	T_EQ_STR(rx(b), "18DAF100#09");
	T_EQ_STR(rx(b), "");
	bus_close(a);
	bus_close(b);
}

static void test_bus_mem__fd_needs_opt_in(void)
{
	struct bus *a, *b;
	struct bus_opts fd = { .fd = true };
	struct bus_frame f = fr("123##1AABB");

	T_OK(bus_open(&a, "mem:fd", NULL, NULL, 0));
	T_OK(bus_open(&b, "mem:fd", &fd, NULL, 0));
	T_ERR(bus_send(a, &f), -EINVAL);
	T_OK(bus_send(b, &f));
	T_EQ_STR(rx(a), "123##1AABB");
	f.len = 9; /* not an FD length */
	T_ERR(bus_send(b, &f), -EINVAL);
	bus_close(a);
	bus_close(b);
}

static void test_bus_mem__drop_nth(void)
{
	struct bus *a, *b;
	struct bus_mem_hub *hub;
	const struct bus_mem_rec *rec;

	T_OK(bus_open(&a, "mem:d", NULL, NULL, 0));
	T_OK(bus_open(&b, "mem:d", NULL, NULL, 0));
	hub = bus_mem_hub(a);
	T_OK(bus_mem_fault(hub, &(struct bus_mem_rule){ .fault = BUS_MEM_DROP, .nth = 2 }));
	SEND(a, "100#01");
	SEND(a, "100#02");
	SEND(a, "100#03");
	T_EQ_STR(rx(b), "100#01");
	T_EQ_STR(rx(b), "100#03");
	T_EQ_STR(rx(b), "");
	T_EQ(bus_mem_record(hub, &rec), 3);
	T_EQ(rec[1].fate, BUS_MEM_REC_DROPPED);
	T_EQ(rec[1].f.data[0], 2);
	T_EQ(rec[0].fate, 0);
	T_EQ(rec[2].from, bus_mem_member_index(a));
	bus_close(a);
	bus_close(b);
}

static void test_bus_mem__drop_by_id_and_sender(void)
{
	struct bus *tester, *ecu;
	struct bus_mem_hub *hub;

	T_OK(bus_open(&tester, "mem:i", NULL, NULL, 0));
	T_OK(bus_open(&ecu, "mem:i", NULL, NULL, 0));
	hub = bus_mem_hub(tester);
	/* the 2nd frame with id 0x7E8: the ECU's second answer */
	T_OK(bus_mem_fault(
		hub, &(struct bus_mem_rule){
			     .fault = BUS_MEM_DROP, .nth = 2, .match_id = true, .id = 0x7E8 }));
	/* every frame the tester sends, at most twice, duplicated */
	T_OK(bus_mem_fault(hub, &(struct bus_mem_rule){ .fault = BUS_MEM_DUP,
							.from_set = true,
							.from = bus_mem_member_index(tester),
							.times = 2 }));
	SEND(ecu, "7E8#01");
	SEND(tester, "7E0#AA");
	SEND(ecu, "7E8#02");
	SEND(ecu, "7E8#03");
	SEND(tester, "7E0#BB");
	SEND(tester, "7E0#CC");
	T_EQ_STR(rx(tester), "7E8#01");
	T_EQ_STR(rx(tester), "7E8#03");
	T_EQ_STR(rx(tester), "");
	T_EQ_STR(rx(ecu), "7E0#AA");
	T_EQ_STR(rx(ecu), "7E0#AA");
	T_EQ_STR(rx(ecu), "7E0#BB");
	T_EQ_STR(rx(ecu), "7E0#BB");
	T_EQ_STR(rx(ecu), "7E0#CC"); /* times = 2 used up */
	T_EQ_STR(rx(ecu), "");
	bus_close(tester);
	bus_close(ecu);
}

static void test_bus_mem__delay_virtual_time(void)
{
	struct bus *a, *b;
	struct bus_mem_hub *hub;

	T_OK(bus_open(&a, "mem:v", NULL, NULL, 0));
	T_OK(bus_open(&b, "mem:v", NULL, NULL, 0));
	hub = bus_mem_hub(a);
	bus_mem_set_now(hub, FOTA_MS(100));
	T_OK(bus_mem_fault(hub, &(struct bus_mem_rule){
					.fault = BUS_MEM_DELAY, .nth = 1, .delay = FOTA_MS(50) }));
	SEND(a, "7E8#01"); /* due at 150 ms */
	SEND(a, "7E8#02"); /* due now: overtakes the delayed one */
	T_EQ_U64(bus_mem_next_delivery(hub), FOTA_MS(150));
	T_EQ(bus_mem_pending(hub), 2);
	T_EQ_STR(rx(b), "7E8#02");
	T_EQ_STR(rx(b), "");
	bus_mem_set_now(hub, FOTA_MS(149));
	T_EQ_STR(rx(b), "");
	bus_mem_set_now(hub, FOTA_MS(150));
	T_EQ_STR(rx(b), "7E8#01");
	T_EQ_U64(bus_mem_next_delivery(hub), FOTA_NEVER);
	T_EQ(bus_mem_pending(hub), 0);
	bus_close(a);
	bus_close(b);
}

static void test_bus_mem__corrupt(void)
{
	struct bus *a, *b;
	struct bus_mem_hub *hub;
	const struct bus_mem_rec *rec;
	size_t n;

	T_OK(bus_open(&a, "mem:c", NULL, NULL, 0));
	T_OK(bus_open(&b, "mem:c", NULL, NULL, 0));
	hub = bus_mem_hub(a);
	T_OK(bus_mem_fault(hub,
			   &(struct bus_mem_rule){
				   .fault = BUS_MEM_CORRUPT, .nth = 1, .byte = 1, .mask = 0x0F }));
	T_OK(bus_mem_fault(hub, &(struct bus_mem_rule){ .fault = BUS_MEM_CORRUPT, .nth = 2 }));
	SEND(a, "7E8#0011");
	SEND(a, "7E8#5566");
	T_EQ_STR(rx(b), "7E8#001E");
	T_EQ_STR(rx(b), "7E8#AA66"); /* default: byte 0, mask 0xFF */
	n = bus_mem_record(hub, &rec);
	T_EQ(n, 2);
	T_EQ(rec[0].fate, BUS_MEM_REC_CORRUPTED);
	T_EQ_STR(txt(&rec[0].f), "7E8#001E"); /* the record shows the wire */
	bus_mem_clear_record(hub);
	T_EQ(bus_mem_record(hub, &rec), 0);
	bus_close(a);
	bus_close(b);
}

static void test_bus_mem__fail_send(void)
{
	struct bus *a, *b;
	struct bus_mem_hub *hub;
	const struct bus_mem_rec *rec;
	struct bus_frame f = fr("7E0#01");

	T_OK(bus_open(&a, "mem:s", NULL, NULL, 0));
	T_OK(bus_open(&b, "mem:s", NULL, NULL, 0));
	hub = bus_mem_hub(a);
	T_OK(bus_mem_fault(hub, &(struct bus_mem_rule){ .fault = BUS_MEM_FAIL_SEND, .nth = 2 }));
	T_OK(bus_mem_fault(hub, &(struct bus_mem_rule){
					.fault = BUS_MEM_FAIL_SEND, .nth = 3, .err = -ENOBUFS }));
	T_OK(bus_send(a, &f));
	T_ERR(bus_send(a, &f), -EIO);
	T_ERR(bus_send(a, &f), -ENOBUFS);
	T_OK(bus_send(a, &f));
	T_EQ(a->tx_frames, 2); /* failed sends are not counted */
	T_EQ_STR(rx(b), "7E0#01");
	T_EQ_STR(rx(b), "7E0#01");
	T_EQ_STR(rx(b), "");
	T_EQ(bus_mem_record(hub, &rec), 4);
	T_EQ(rec[1].fate, BUS_MEM_REC_FAILED);
	bus_mem_clear_faults(hub);
	T_OK(bus_send(a, &f));
	T_ERR(bus_mem_fault(hub, &(struct bus_mem_rule){ .fault = 0 }), -EINVAL);
	bus_close(a);
	bus_close(b);
}

static void test_bus_mem__hub_outlives_members_while_held(void)
{
	struct bus_mem_hub *hub = bus_mem_hub_hold("held");
	const struct bus_mem_rec *rec;
	struct bus *a;

	T_TRUE(hub != NULL);
	T_OK(bus_open(&a, "mem:held", NULL, NULL, 0));
	T_TRUE(bus_mem_hub(a) == hub);
	SEND(a, "123#01");
	bus_close(a);
	T_EQ(bus_mem_record(hub, &rec), 1);
	T_EQ(rec[0].f.data[0], 1);
	bus_mem_set_recording(hub, false);
	T_OK(bus_open(&a, "mem:held", NULL, NULL, 0));
	SEND(a, "123#02");
	T_EQ(bus_mem_record(hub, &rec), 1);
	bus_close(a);
	bus_mem_hub_release(hub);
	T_TRUE(bus_mem_hub(NULL) == NULL);
}

static void test_bus_mem__trace_candump_format(void)
{
	struct bus *a, *b;
	struct bus_frame f;
	char *buf = NULL;
	size_t len = 0;
	FILE *fp = open_memstream(&buf, &len);

	T_OK(bus_open(&a, "mem:tr", NULL, NULL, 0));
	T_OK(bus_open(&b, "mem:tr", NULL, NULL, 0));
	bus_set_trace(a, fp);
	bus_mem_set_now(bus_mem_hub(a), FOTA_MS(1500) + 7);
	SEND(a, "7E0#0210020000000000");
	SEND(b, "7E8#065002003201F4AA");
	T_EQ(bus_recv(a, &f), 1);
	bus_set_trace_if(a, "can1");
	SEND(a, "7E0#3E00");
	bus_set_trace(a, NULL);
	SEND(a, "7E0#3E00");
	fclose(fp);
	/* sent and received frames; mem: buses stamp with virtual time */
	T_EQ_STR(buf, "(0000000001.500007) vbus0 7E0#0210020000000000\n"
		      "(0000000001.500007) vbus0 7E8#065002003201F4AA\n"
		      "(0000000001.500007) can1 7E0#3E00\n");
	free(buf);
	bus_close(a);
	bus_close(b);
}

static void test_bus_mem__trace_fd_frame(void)
{
	struct bus *a;
	struct bus_opts o = { .fd = true };
	char *buf = NULL;
	size_t len = 0;
	FILE *fp = open_memstream(&buf, &len);

	T_OK(bus_open(&a, "mem:tf", &o, NULL, 0));
	bus_set_trace(a, fp);
	bus_set_trace_if(a, "can1");
	SEND(a, "18DA00F1##1AABB");
	fclose(fp);
	T_EQ_STR(buf, "(0000000000.000000) can1 18DA00F1##1AABB\n");
	free(buf);
	bus_close(a);
}

static void test_bus_mem__open_errors(void)
{
	struct bus *b = (struct bus *)1;
	char err[128];

	T_ERR(bus_open(&b, "mem:", NULL, err, sizeof(err)), -EINVAL);
	T_TRUE(b == NULL);
	T_EQ_STR(err, "mem:: hub name missing (mem:NAME)");
	T_ERR(bus_open(&b, "", NULL, err, sizeof(err)), -EINVAL);
	T_EQ_STR(err, "no bus given");
	T_ERR(bus_open(&b, "tcp:1.2.3.4", NULL, err, sizeof(err)), -EINVAL);
	T_EQ_STR(err, "tcp:1.2.3.4: not a bus (an interface name such as can0, or unix:DIR)");
	T_ERR(bus_open(&b, "unix:", NULL, err, sizeof(err)), -EINVAL);

	/* without the test harness's registration, as in the fota program, mem: names no bus */
	bus_add_backend(NULL);
	T_ERR(bus_open(&b, "mem:x", NULL, err, sizeof(err)), -EINVAL);
	T_EQ_STR(err, "mem:x: not a bus (an interface name such as can0, or unix:DIR)");
	bus_mem_register();
	T_OK(bus_open(&b, "mem:x", NULL, err, sizeof(err)));
	bus_close(b);
}

static void test_bus_mem__state_names(void)
{
	T_EQ_STR(bus_state_name(BUS_STATE_BUS_OFF), "bus-off");
	T_EQ_STR(bus_state_name(BUS_STATE_ERROR_PASSIVE), "error-passive");
	T_EQ_STR(bus_state_name((enum bus_state)42), "unknown");
}

static const struct t_case cases[] = {
	T_CASE(bus_mem__every_other_member),
	T_CASE(bus_mem__separate_hubs),
	T_CASE(bus_mem__filter),
	T_CASE(bus_mem__filter_full),
	T_CASE(bus_mem__fd_needs_opt_in),
	T_CASE(bus_mem__drop_nth),
	T_CASE(bus_mem__drop_by_id_and_sender),
	T_CASE(bus_mem__delay_virtual_time),
	T_CASE(bus_mem__corrupt),
	T_CASE(bus_mem__fail_send),
	T_CASE(bus_mem__hub_outlives_members_while_held),
	T_CASE(bus_mem__trace_candump_format),
	T_CASE(bus_mem__trace_fd_frame),
	T_CASE(bus_mem__open_errors),
	T_CASE(bus_mem__state_names),
};

int main(void)
{
	return t_main(cases, FOTA_ARRAY_SIZE(cases));
}
