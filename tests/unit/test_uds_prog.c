// SPDX-License-Identifier: MIT
/*
 * The programming sequence (uds/prog.c + uds/client.c) against the simulated
 * ECU (uds/server.c), PDU to PDU in virtual time: a whole multi-segment flash
 * whose resulting ECU memory equals the image, and each injected fault ending
 * with the right error and an ECU that accepts a second, clean attempt.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "tests/unit/t.h"
#include "uds/prog.h"
#include "uds/server.h"

#define T0 FOTA_SEC(1000)

static const uint8_t mask[4] = { 0xA5, 0x5A, 0xC3, 0x3C };

static int key_xor(void *ctx, uint8_t level, const uint8_t *seed, size_t n, uint8_t *key,
		   size_t cap, size_t *klen)
{
	if (n > cap)
		return -EMSGSIZE;
	for (size_t i = 0; i < n; i++)
		key[i] = seed[i] ^ mask[i % 4] ^ level;
	*klen = n;
	return 0;
}

static int key_wrong(void *ctx, uint8_t level, const uint8_t *seed, size_t n, uint8_t *key,
		     size_t cap, size_t *klen)
{
	memcpy(key, seed, n);
	*klen = n;
	return 0;
}

static const struct uds_region regions[] = {
	{ 0x08000000, 0x10000 },
	{ 0x08020000, 0x8000 },
};

/* One request as the ECU saw it. */
struct sent {
	uint8_t sid, b1;
	size_t len;
};

struct env {
	struct uds_prog p;
	struct uds_server *s;
	fota_us now;
	struct sent log[4096];
	size_t nlog;
	unsigned events[5];
	unsigned pending_seen;
	unsigned cancel_after; /* cancel on this PROGRESS event (0 = never) */
	uint64_t last_done;
};

static void on_event(void *ctx, const struct uds_prog_event *ev)
{
	struct env *e = ctx;

	e->events[ev->type]++;
	if (ev->type == UDS_PROG_EV_PENDING)
		e->pending_seen += ev->pending;
	if (ev->type == UDS_PROG_EV_PROGRESS) {
		e->last_done = ev->done;
		if (e->cancel_after && e->events[ev->type] == e->cancel_after)
			uds_prog_cancel(&e->p);
	}
}

static struct uds_prog_cfg full_cfg(struct env *e)
{
	struct uds_prog_cfg c = {
		.extended_session = true,
		.dtc_off = true,
		.comm_control = true,
		.security_level = 0x01,
		.compute_key = key_xor,
		.erase = true,
		.check = true,
		.reset_type = UDS_RESET_HARD,
		.on_event = on_event,
		.event_ctx = e,
	};
	return c;
}

static struct uds_server_cfg ecu_cfg(void)
{
	struct uds_server_cfg c = {
		.regions = regions,
		.nregions = FOTA_ARRAY_SIZE(regions),
		.security_level = 0x01,
		.compute_key = key_xor,
		.seed_of_seeds = 42,
	};
	return c;
}

static void env_init(struct env *e, const struct uds_prog_cfg *pc, const struct uds_server_cfg *sc)
{
	memset(e, 0, sizeof(*e));
	e->now = T0;
	uds_prog_init(&e->p, pc, NULL);
	T_OK(uds_server_new(&e->s, sc));
}

static void env_release(struct env *e)
{
	uds_prog_release(&e->p);
	uds_server_free(e->s);
}

/* Pump PDUs both ways and jump the clock from deadline to deadline. */
static int run(struct env *e)
{
	const uint8_t *pdu;
	size_t len;
	int err;

	for (;;) {
		bool moved = false;
		fota_us next;

		while (uds_prog_output(&e->p, &pdu, &len, e->now)) {
			if (e->nlog < FOTA_ARRAY_SIZE(e->log))
				e->log[e->nlog++] =
					(struct sent){ pdu[0], len > 1 ? pdu[1] : 0, len };
			uds_server_input(e->s, pdu, len, e->now);
			moved = true;
		}
		while (uds_server_output(e->s, &pdu, &len, e->now)) {
			uds_prog_input(&e->p, pdu, len, e->now);
			moved = true;
		}
		err = uds_prog_result(&e->p, NULL);
		if (err != -EINPROGRESS)
			return err;
		if (moved)
			continue;
		next = fota_min_deadline(uds_prog_deadline(&e->p), uds_server_deadline(e->s));
		if (next == FOTA_NEVER || next > T0 + FOTA_SEC(3600))
			return -EDEADLK; /* stuck: a test bug */
		if (next > e->now)
			e->now = next;
		uds_prog_tick(&e->p, e->now);
		uds_server_tick(e->s, e->now);
	}
}

/* The image: three segments over two regions, distinct pseudo-random bytes. */
static uint8_t img_a[10000], img_b[300], img_c[5000];
static const struct uds_segment image[] = {
	{ 0x08000000, sizeof(img_a), img_a },
	{ 0x08008000, sizeof(img_b), img_b },
	{ 0x08020100, sizeof(img_c), img_c },
};

static void fill_image(void)
{
	uint32_t x = 12345;
	uint8_t *bufs[] = { img_a, img_b, img_c };
	size_t lens[] = { sizeof(img_a), sizeof(img_b), sizeof(img_c) };

	for (size_t b = 0; b < 3; b++)
		for (size_t i = 0; i < lens[b]; i++) {
			x = x * 1103515245u + 12345u;
			bufs[b][i] = (uint8_t)(x >> 16);
		}
}

/* ECU memory must hold the image and 0xFF everywhere else. */
static void expect_memory_is_image(struct env *e, const struct uds_segment *seg, size_t nseg)
{
	uint32_t base;
	size_t span, i, bad = 0;
	const uint8_t *mem = uds_server_memory(e->s, &base, &span);
	uint8_t *want = malloc(span);

	memset(want, 0xFF, span);
	for (i = 0; i < nseg; i++)
		memcpy(want + (seg[i].addr - base), seg[i].data, seg[i].len);
	for (i = 0; i < span; i++)
		bad += mem[i] != want[i];
	T_EQ(bad, 0);
	if (bad)
		T_EQ_MEM(mem, want, span);
	free(want);
}

static size_t count_sid(const struct env *e, uint8_t sid)
{
	size_t n = 0;

	for (size_t i = 0; i < e->nlog; i++)
		n += e->log[i].sid == sid;
	return n;
}

static void expect_second_attempt_succeeds(struct env *e)
{
	struct uds_prog_cfg pc = full_cfg(e);

	uds_prog_release(&e->p);
	uds_prog_init(&e->p, &pc, NULL);
	e->nlog = 0;
	T_OK(uds_prog_start(&e->p, image, FOTA_ARRAY_SIZE(image), e->now));
	T_OK(run(e));
	expect_memory_is_image(e, image, FOTA_ARRAY_SIZE(image));
	T_TRUE(uds_server_app_valid(e->s));
}

static void test_uds_prog__multi_segment_image_lands_in_ecu_memory(void)
{
	struct env e;
	struct uds_prog_cfg pc = full_cfg(&e);
	struct uds_server_cfg sc = ecu_cfg();
	uint64_t done, total;
	static const uint8_t expect_order[] = {
		0x10, 0x85, 0x28, 0x10, 0x27, 0x27, 0x31, 0x34,
	};

	fill_image();
	env_init(&e, &pc, &sc);
	T_OK(uds_prog_start(&e.p, image, FOTA_ARRAY_SIZE(image), e.now));
	T_OK(run(&e));
	expect_memory_is_image(&e, image, FOTA_ARRAY_SIZE(image));
	for (size_t i = 0; i < sizeof(expect_order); i++)
		T_EQ(e.log[i].sid, expect_order[i]);
	T_EQ(e.log[0].b1, UDS_SESSION_EXTENDED);
	T_EQ(e.log[3].b1, UDS_SESSION_PROGRAMMING);
	T_EQ(e.log[4].b1, 0x01); /* requestSeed */
	T_EQ(e.log[5].b1, 0x02); /* sendKey */
	/* 10000 bytes in 4093-byte blocks = 3, 300 = 1, 5000 = 2 */
	T_EQ(count_sid(&e, UDS_SID_TRANSFER_DATA), 6);
	T_EQ(count_sid(&e, UDS_SID_REQUEST_DOWNLOAD), 3);
	T_EQ(count_sid(&e, UDS_SID_REQUEST_TRANSFER_EXIT), 3);
	T_EQ(count_sid(&e, UDS_SID_ROUTINE_CONTROL), 4); /* 3 erase + check */
	T_EQ(e.log[e.nlog - 1].sid, UDS_SID_ECU_RESET);
	T_TRUE(uds_server_app_valid(e.s));
	T_EQ(uds_server_resets(e.s), 1);
	T_EQ(uds_server_session(e.s), UDS_SESSION_DEFAULT);
	uds_prog_progress(&e.p, &done, &total);
	T_EQ(done, 15300);
	T_EQ(total, 15300);
	T_EQ(e.events[UDS_PROG_EV_PROGRESS], 6);
	T_EQ(e.events[UDS_PROG_EV_STEP_START], e.events[UDS_PROG_EV_STEP_DONE]);
	T_TRUE(uds_server_take_dirty(e.s));
	env_release(&e);
}

static void test_uds_prog__invalid_key_is_reported_then_recovers(void)
{
	struct env e;
	struct uds_prog_cfg pc = full_cfg(&e);
	struct uds_server_cfg sc = ecu_cfg();
	struct uds_prog_result r;
	char msg[128];

	pc.compute_key = key_wrong;
	env_init(&e, &pc, &sc);
	T_OK(uds_prog_start(&e.p, image, FOTA_ARRAY_SIZE(image), e.now));
	T_ERR(run(&e), -EREMOTEIO);
	uds_prog_result(&e.p, &r);
	T_EQ(r.step, UDS_PROG_STEP_SEND_KEY);
	T_EQ(r.sid, UDS_SID_SECURITY_ACCESS);
	T_EQ(r.nrc, UDS_NRC_INVALID_KEY);
	T_EQ_STR(uds_prog_strerror(&r, msg, sizeof(msg)), "SendKey refused: invalidKey (NRC 0x35)");
	T_EQ(count_sid(&e, UDS_SID_REQUEST_DOWNLOAD), 0);
	expect_second_attempt_succeeds(&e);
	env_release(&e);
}

static void test_uds_prog__response_pending_storm_during_long_erase(void)
{
	struct env e;
	struct uds_prog_cfg pc = full_cfg(&e);
	struct uds_server_cfg sc = ecu_cfg();

	/* 30 x 0x78, 2 s apart: a 60 s erase, far above P2* (5.05 s) but each gap below it. */
	sc.erase_pending = 30;
	sc.pending_interval_ms = 2000;
	env_init(&e, &pc, &sc);
	T_OK(uds_prog_start(&e.p, image, 1, e.now));
	T_OK(run(&e));
	T_EQ(e.pending_seen, 30);
	T_TRUE(e.now - T0 >= FOTA_SEC(60));
	expect_memory_is_image(&e, image, 1);
	env_release(&e);
}

static void test_uds_prog__pending_gap_above_p2star_times_out(void)
{
	struct env e;
	struct uds_prog_cfg pc = full_cfg(&e);
	struct uds_server_cfg sc = ecu_cfg();
	struct uds_prog_result r;

	sc.erase_pending = 3;
	sc.pending_interval_ms = 6000; /* above the client's P2* of 5050 ms */
	env_init(&e, &pc, &sc);
	T_OK(uds_prog_start(&e.p, image, 1, e.now));
	T_ERR(run(&e), -ETIMEDOUT);
	uds_prog_result(&e.p, &r);
	T_EQ(r.step, UDS_PROG_STEP_ERASE);
	T_EQ(r.segment, 0);
	env_release(&e);
}

static void test_uds_prog__lost_transfer_answer_is_retried_with_same_counter(void)
{
	struct env e;
	struct uds_prog_cfg pc = full_cfg(&e);
	struct uds_server_cfg sc = ecu_cfg();
	size_t i, first = 0;

	sc.max_block_len = 1026;
	sc.faults.drop_sid = UDS_SID_TRANSFER_DATA;
	sc.faults.drop_nth = 3;
	env_init(&e, &pc, &sc);
	T_OK(uds_prog_start(&e.p, image, FOTA_ARRAY_SIZE(image), e.now));
	T_OK(run(&e));
	expect_memory_is_image(&e, image, FOTA_ARRAY_SIZE(image));
	T_EQ(e.events[UDS_PROG_EV_RETRY], 1);
	for (i = 0; i < e.nlog && e.log[i].sid != UDS_SID_TRANSFER_DATA; i++)
		;
	first = i;
	T_EQ(e.log[first + 2].b1, 0x03);
	T_EQ(e.log[first + 3].sid, UDS_SID_TRANSFER_DATA);
	T_EQ(e.log[first + 3].b1, 0x03); /* the same block again */
	T_EQ(e.log[first + 4].b1, 0x04);
	env_release(&e);
}

static void test_uds_prog__slow_ecu_is_a_timeout(void)
{
	struct env e;
	struct uds_prog_cfg pc = full_cfg(&e);
	struct uds_server_cfg sc = ecu_cfg();
	struct uds_prog_result r;
	char msg[128];

	sc.faults.delay_ms = 400; /* every answer later than P2 (150 ms) */
	pc.extended_session = pc.dtc_off = pc.comm_control = false;
	pc.security_level = 0;
	pc.erase = false;
	env_init(&e, &pc, &sc);
	T_OK(uds_prog_start(&e.p, image, 1, e.now));
	T_ERR(run(&e), -ETIMEDOUT);
	uds_prog_result(&e.p, &r);
	T_EQ(r.step, UDS_PROG_STEP_PROGRAMMING_SESSION);
	T_EQ_STR(uds_prog_strerror(&r, msg, sizeof(msg)),
		 "ProgrammingSession: no response (timeout)");
	env_release(&e);
}

static void test_uds_prog__small_block_length_and_counter_wrap(void)
{
	struct env e;
	struct uds_prog_cfg pc = full_cfg(&e);
	struct uds_server_cfg sc = ecu_cfg();
	static uint8_t big[300 * 38 + 7];
	struct uds_segment seg = { 0x08000000, sizeof(big), big };
	size_t i, n = 0, wrap = 0;
	uint8_t prev = 0;

	for (i = 0; i < sizeof(big); i++)
		big[i] = (uint8_t)(i * 7 + 3);
	sc.max_block_len = 64;
	pc.max_block_len = 40; /* our cap below the ECU's: 38 data bytes per block */
	env_init(&e, &pc, &sc);
	T_OK(uds_prog_start(&e.p, &seg, 1, e.now));
	T_OK(run(&e));
	expect_memory_is_image(&e, &seg, 1);
	for (i = 0; i < e.nlog; i++) {
		if (e.log[i].sid != UDS_SID_TRANSFER_DATA)
			continue;
		if (n == 0)
			T_EQ(e.log[i].b1, 0x01);
		else if (e.log[i].b1 != (uint8_t)(prev + 1))
			T_EQ(e.log[i].b1, (uint8_t)(prev + 1));
		if (prev == 0xFF && e.log[i].b1 == 0x00)
			wrap++;
		T_TRUE(e.log[i].len <= 40);
		prev = e.log[i].b1;
		n++;
	}
	T_EQ(n, 301);
	T_EQ(wrap, 1);
	env_release(&e);
}

static void test_uds_prog__wrong_block_counter_nrc_then_recovers(void)
{
	struct env e;
	struct uds_prog_cfg pc = full_cfg(&e);
	struct uds_server_cfg sc = ecu_cfg();
	struct uds_prog_result r;
	char msg[128];

	sc.max_block_len = 258;
	sc.faults.bsc_skip_nth = 5;
	env_init(&e, &pc, &sc);
	T_OK(uds_prog_start(&e.p, image, FOTA_ARRAY_SIZE(image), e.now));
	T_ERR(run(&e), -EREMOTEIO);
	uds_prog_result(&e.p, &r);
	T_EQ(r.step, UDS_PROG_STEP_TRANSFER_DATA);
	T_EQ(r.nrc, UDS_NRC_WRONG_BLOCK_SEQUENCE_COUNTER);
	T_EQ_STR(uds_prog_strerror(&r, msg, sizeof(msg)),
		 "TransferData refused: wrongBlockSequenceCounter (NRC 0x73)");
	T_TRUE(!uds_server_app_valid(e.s));
	expect_second_attempt_succeeds(&e);
	env_release(&e);
}

static void test_uds_prog__ecu_counter_bug_caught_before_success(void)
{
	struct env e;
	struct uds_prog_cfg pc = full_cfg(&e);
	struct uds_server_cfg sc = ecu_cfg();
	struct uds_prog_result r;

	/* An ECU that writes a repeated block again: the retry overflows the download. */
	sc.max_block_len = 1026;
	sc.faults.accept_wrong_bsc = true;
	sc.faults.drop_sid = UDS_SID_TRANSFER_DATA;
	sc.faults.drop_nth = 2;
	env_init(&e, &pc, &sc);
	T_OK(uds_prog_start(&e.p, image, FOTA_ARRAY_SIZE(image), e.now));
	T_ERR(run(&e), -EREMOTEIO);
	uds_prog_result(&e.p, &r);
	T_EQ(r.step, UDS_PROG_STEP_TRANSFER_DATA);
	T_EQ(r.nrc, UDS_NRC_TRANSFER_DATA_SUSPENDED);
	T_TRUE(!uds_server_app_valid(e.s));
	expect_second_attempt_succeeds(&e);
	env_release(&e);
}

static void test_uds_prog__ecu_reset_mid_transfer(void)
{
	struct env e;
	struct uds_prog_cfg pc = full_cfg(&e);
	struct uds_server_cfg sc = ecu_cfg();
	struct uds_prog_result r;

	sc.max_block_len = 1026;
	sc.faults.reset_nth_transfer = 4;
	env_init(&e, &pc, &sc);
	T_OK(uds_prog_start(&e.p, image, FOTA_ARRAY_SIZE(image), e.now));
	/*
	 * The retry reaches an ECU back in its default session, where
	 * TransferData is not a service (ISO 14229-1 §7.5: checked first).
	 */
	T_ERR(run(&e), -EREMOTEIO);
	uds_prog_result(&e.p, &r);
	T_EQ(r.step, UDS_PROG_STEP_TRANSFER_DATA);
	T_EQ(r.nrc, UDS_NRC_SERVICE_NOT_SUPPORTED_IN_ACTIVE_SESSION);
	T_EQ(e.events[UDS_PROG_EV_RETRY], 1);
	T_EQ(uds_server_resets(e.s), 1);
	T_EQ(uds_server_session(e.s), UDS_SESSION_DEFAULT);
	expect_second_attempt_succeeds(&e);
	env_release(&e);
}

static void test_uds_prog__cancel_mid_transfer(void)
{
	struct env e;
	struct uds_prog_cfg pc = full_cfg(&e);
	struct uds_server_cfg sc = ecu_cfg();
	struct uds_prog_result r;
	uint64_t done, total;
	size_t td;

	sc.max_block_len = 514;
	env_init(&e, &pc, &sc);
	e.cancel_after = 4;
	T_OK(uds_prog_start(&e.p, image, FOTA_ARRAY_SIZE(image), e.now));
	T_ERR(run(&e), -ECANCELED);
	uds_prog_result(&e.p, &r);
	T_EQ(r.step, UDS_PROG_STEP_TRANSFER_DATA);
	td = count_sid(&e, UDS_SID_TRANSFER_DATA);
	T_EQ(td, 4); /* nothing sent after the cancel */
	uds_prog_progress(&e.p, &done, &total);
	T_EQ(done, 4 * 512);
	T_EQ(total, 15300);
	/* Nothing more leaves the engine. */
	{
		const uint8_t *pdu;
		size_t len;

		T_EQ(uds_prog_output(&e.p, &pdu, &len, e.now + FOTA_SEC(10)), 0);
		T_EQ_U64(uds_prog_deadline(&e.p), FOTA_NEVER);
	}
	expect_second_attempt_succeeds(&e);
	env_release(&e);
}

static void test_uds_prog__cancel_before_first_request(void)
{
	struct env e;
	struct uds_prog_cfg pc = full_cfg(&e);
	struct uds_server_cfg sc = ecu_cfg();

	env_init(&e, &pc, &sc);
	T_OK(uds_prog_start(&e.p, image, 1, e.now));
	uds_prog_cancel(&e.p);
	T_ERR(uds_prog_result(&e.p, NULL), -ECANCELED);
	T_ERR(run(&e), -ECANCELED);
	T_EQ(e.nlog, 0);
	env_release(&e);
}

static void test_uds_prog__request_download_refused_names_the_nrc(void)
{
	struct env e;
	struct uds_prog_cfg pc = full_cfg(&e);
	struct uds_server_cfg sc = ecu_cfg();
	struct uds_prog_result r;
	char msg[128];

	sc.faults.nrc_sid = UDS_SID_REQUEST_DOWNLOAD;
	sc.faults.nrc = UDS_NRC_UPLOAD_DOWNLOAD_NOT_ACCEPTED;
	sc.faults.nrc_nth = 2;
	env_init(&e, &pc, &sc);
	T_OK(uds_prog_start(&e.p, image, FOTA_ARRAY_SIZE(image), e.now));
	T_ERR(run(&e), -EREMOTEIO);
	uds_prog_result(&e.p, &r);
	T_EQ(r.segment, 1);
	T_EQ(r.sid, UDS_SID_REQUEST_DOWNLOAD);
	T_EQ_STR(uds_prog_strerror(&r, msg, sizeof(msg)),
		 "RequestDownload refused: uploadDownloadNotAccepted (NRC 0x70)");
	expect_second_attempt_succeeds(&e);
	env_release(&e);
}

/* The fingerprint: 2E F1 5A <record> after SecurityAccess, before the first erase. */
static void test_uds_prog__fingerprint_after_unlock_before_erase(void)
{
	static const uint8_t old[8] = "00000000";
	static const struct uds_did dids[] = { { 0xF15A, old, sizeof(old), true } };
	struct env e;
	struct uds_prog_cfg pc = full_cfg(&e);
	struct uds_server_cfg sc = ecu_cfg();
	const uint8_t *v;
	size_t len, i;

	pc.fingerprint_did = 0xF15A;
	pc.fingerprint = (const uint8_t *)"T1-26120";
	pc.fingerprint_len = 8;
	sc.dids = dids;
	sc.ndids = 1;
	env_init(&e, &pc, &sc);
	T_OK(uds_prog_start(&e.p, image, FOTA_ARRAY_SIZE(image), e.now));
	T_OK(run(&e));
	for (i = 0; i < e.nlog && e.log[i].sid != UDS_SID_WRITE_DATA_BY_IDENTIFIER; i++)
		;
	T_TRUE(i > 1 && i + 1 < e.nlog);
	T_EQ(e.log[i].len, 3 + 8);
	T_EQ(e.log[i - 1].sid, UDS_SID_SECURITY_ACCESS);
	T_EQ(e.log[i + 1].sid, UDS_SID_ROUTINE_CONTROL);
	T_EQ(count_sid(&e, UDS_SID_WRITE_DATA_BY_IDENTIFIER), 1);
	v = uds_server_did(e.s, 0xF15A, &len);
	T_EQ(len, 8);
	T_EQ_MEM(v, "T1-26120", 8);
	expect_memory_is_image(&e, image, FOTA_ARRAY_SIZE(image));
	env_release(&e);
}

/* A refused fingerprint ends the sequence before anything is erased, naming the NRC. */
static void test_uds_prog__fingerprint_refused_names_the_nrc(void)
{
	static const uint8_t old[8] = "00000000";
	static const struct uds_did dids[] = { { 0xF15A, old, sizeof(old), true } };
	struct env e;
	struct uds_prog_cfg pc = full_cfg(&e);
	struct uds_server_cfg sc = ecu_cfg();
	struct uds_prog_result r;
	char msg[128];

	pc.fingerprint_did = 0xF15A;
	pc.fingerprint = (const uint8_t *)"T1-26120";
	pc.fingerprint_len = 8;
	sc.dids = dids;
	sc.ndids = 1;
	sc.faults.nrc_sid = UDS_SID_WRITE_DATA_BY_IDENTIFIER;
	sc.faults.nrc = UDS_NRC_SECURITY_ACCESS_DENIED;
	sc.faults.nrc_nth = 1;
	env_init(&e, &pc, &sc);
	T_OK(uds_prog_start(&e.p, image, FOTA_ARRAY_SIZE(image), e.now));
	T_ERR(run(&e), -EREMOTEIO);
	uds_prog_result(&e.p, &r);
	T_EQ(r.sid, UDS_SID_WRITE_DATA_BY_IDENTIFIER);
	T_EQ(r.step, UDS_PROG_STEP_FINGERPRINT);
	T_EQ_STR(uds_prog_strerror(&r, msg, sizeof(msg)),
		 "WriteFingerprint refused: securityAccessDenied (NRC 0x33)");
	T_EQ(count_sid(&e, UDS_SID_ROUTINE_CONTROL), 0);
	T_EQ(count_sid(&e, UDS_SID_REQUEST_DOWNLOAD), 0);
	env_release(&e);
}

static const uint8_t sw_ver[] = "2.1.0";
static const struct uds_did ident_dids[] = { { 0xF189, sw_ver, 5, false } };
static const uint16_t ident_list[] = { 0xF189, 0xF18C };

static void ident_env(struct env *e, struct uds_prog_cfg *pc, struct uds_server_cfg *sc,
		      const struct uds_prog_expect *x, size_t nx)
{
	*pc = full_cfg(e);
	*sc = ecu_cfg();
	pc->identify = ident_list;
	pc->nidentify = 2;
	pc->expect = x;
	pc->nexpect = nx;
	pc->identify_wait_ms = 2000;
	sc->dids = ident_dids;
	sc->ndids = 1;
	env_init(e, pc, sc);
}

/* 22 F1 89 F1 8C first (default session) and after the ECUReset; F18C not supported. */
static void test_uds_prog__identify_before_and_after(void)
{
	static const struct uds_prog_expect x[] = { { 0xF189, "2.1.0" } };
	struct env e;
	struct uds_prog_cfg pc;
	struct uds_server_cfg sc;
	const struct uds_rdbi *r;
	const uint8_t *d;

	ident_env(&e, &pc, &sc, x, 1);
	T_OK(uds_prog_start(&e.p, image, FOTA_ARRAY_SIZE(image), e.now));
	T_OK(run(&e));
	T_EQ(e.log[0].sid, UDS_SID_READ_DATA_BY_IDENTIFIER);
	T_EQ(e.log[0].len, 5);
	T_EQ(e.log[1].sid, UDS_SID_DIAGNOSTIC_SESSION_CONTROL);
	T_EQ(e.log[e.nlog - 2].sid, UDS_SID_ECU_RESET);
	T_EQ(e.log[e.nlog - 1].sid, UDS_SID_READ_DATA_BY_IDENTIFIER);
	T_EQ(count_sid(&e, UDS_SID_READ_DATA_BY_IDENTIFIER), 2);
	for (int after = 0; after < 2; after++) {
		r = uds_prog_identity(&e.p, after);
		T_TRUE(r != NULL);
		T_OK(uds_rdbi_result(r));
		T_EQ(uds_rdbi_item(r, 0, &d)->err, 0);
		T_EQ_MEM(d, "2.1.0", 5);
		T_EQ(uds_rdbi_item(r, 1, &d)->err, -ENOENT);
	}
	expect_memory_is_image(&e, image, FOTA_ARRAY_SIZE(image));
	env_release(&e);
}

/* A mismatch after the reset fails the sequence with the values, after programming. */
static void test_uds_prog__expect_mismatch(void)
{
	static const struct uds_prog_expect x[] = { { 0xF189, "2.2.0" } };
	struct env e;
	struct uds_prog_cfg pc;
	struct uds_server_cfg sc;
	struct uds_prog_result r;
	char msg[256];

	ident_env(&e, &pc, &sc, x, 1);
	T_OK(uds_prog_start(&e.p, image, FOTA_ARRAY_SIZE(image), e.now));
	T_ERR(run(&e), -EBADMSG);
	uds_prog_result(&e.p, &r);
	T_EQ(r.step, UDS_PROG_STEP_IDENTIFY_AFTER);
	T_EQ(r.sid, UDS_SID_READ_DATA_BY_IDENTIFIER);
	T_EQ_STR(uds_prog_strerror(&r, msg, sizeof(msg)),
		 "ECU reports F189 = 2.1.0, expected 2.2.0");
	T_TRUE(uds_server_app_valid(e.s));
	env_release(&e);
}

/* An expected DID the ECU does not support is a mismatch too. */
static void test_uds_prog__expect_unsupported(void)
{
	static const struct uds_prog_expect x[] = { { 0xF18C, "SN1" } };
	struct env e;
	struct uds_prog_cfg pc;
	struct uds_server_cfg sc;
	struct uds_prog_result r;
	char msg[256];

	ident_env(&e, &pc, &sc, x, 1);
	T_OK(uds_prog_start(&e.p, image, FOTA_ARRAY_SIZE(image), e.now));
	T_ERR(run(&e), -EBADMSG);
	uds_prog_result(&e.p, &r);
	T_EQ_STR(uds_prog_strerror(&r, msg, sizeof(msg)),
		 "ECU reports F18C = (not supported), expected SN1");
	env_release(&e);
}

/* The application does not answer the first read after the reset: asked again. */
static void test_uds_prog__identify_after_retries(void)
{
	static const struct uds_prog_expect x[] = { { 0xF189, "2.1.0" } };
	struct env e;
	struct uds_prog_cfg pc;
	struct uds_server_cfg sc;

	ident_env(&e, &pc, &sc, x, 1);
	env_release(&e);
	sc.faults.drop_sid = UDS_SID_READ_DATA_BY_IDENTIFIER;
	sc.faults.drop_nth = 2; /* the first read after the reset */
	env_init(&e, &pc, &sc);
	T_OK(uds_prog_start(&e.p, image, FOTA_ARRAY_SIZE(image), e.now));
	T_OK(run(&e));
	T_EQ(count_sid(&e, UDS_SID_READ_DATA_BY_IDENTIFIER), 3);
	env_release(&e);
}

/* Busy (NRC 0x22) after the reset: asked every 100 ms until the limit, then the mismatch. */
static void test_uds_prog__identify_after_busy_until_the_limit(void)
{
	static const struct uds_prog_expect x[] = { { 0xF189, "2.1.0" } };
	struct env e;
	struct uds_prog_cfg pc;
	struct uds_server_cfg sc;
	struct uds_prog_result r;
	char msg[256];
	fota_us t0;

	ident_env(&e, &pc, &sc, x, 1);
	env_release(&e);
	pc.identify_wait_ms = 500;
	sc.faults.nrc_sid = UDS_SID_READ_DATA_BY_IDENTIFIER;
	sc.faults.nrc = UDS_NRC_CONDITIONS_NOT_CORRECT;
	env_init(&e, &pc, &sc);
	t0 = e.now;
	T_OK(uds_prog_start(&e.p, image, FOTA_ARRAY_SIZE(image), e.now));
	T_ERR(run(&e), -EBADMSG);
	uds_prog_result(&e.p, &r);
	T_EQ_STR(uds_prog_strerror(&r, msg, sizeof(msg)),
		 "ECU reports F189 = (refused: conditionsNotCorrect, NRC 0x22), expected 2.1.0");
	/*
	 * Each read: 22 F189 F18C refused, then one DID per request (2 more);
	 * once before, then at 0, 100, ..., 500 ms after the reset.
	 */
	T_EQ(count_sid(&e, UDS_SID_READ_DATA_BY_IDENTIFIER), 3 * (1 + 6));
	T_TRUE(e.now - t0 >= FOTA_MS(500));
	env_release(&e);
}

static void test_uds_prog__without_erase_a_written_ecu_refuses(void)
{
	struct env e;
	struct uds_prog_cfg pc = full_cfg(&e);
	struct uds_server_cfg sc = ecu_cfg();
	struct uds_prog_result r;

	env_init(&e, &pc, &sc);
	T_OK(uds_prog_start(&e.p, image, 1, e.now));
	T_OK(run(&e));
	pc.erase = false;
	uds_prog_release(&e.p);
	uds_prog_init(&e.p, &pc, NULL);
	T_OK(uds_prog_start(&e.p, image, 1, e.now));
	T_ERR(run(&e), -EREMOTEIO);
	uds_prog_result(&e.p, &r);
	T_EQ(r.nrc, UDS_NRC_UPLOAD_DOWNLOAD_NOT_ACCEPTED);
	env_release(&e);
}

/* Feed one PDU to the engine and return the next request it sends. */
static size_t answer(struct uds_prog *p, const uint8_t *rsp, size_t n, const uint8_t **req)
{
	size_t len = 0;

	if (rsp)
		uds_prog_input(p, rsp, n, T0);
	if (!uds_prog_output(p, req, &len, T0))
		return 0;
	return len;
}

static void test_uds_prog__zero_seed_skips_the_key(void)
{
	struct uds_prog p;
	struct uds_prog_cfg pc = { .security_level = 0x11,
				   .compute_key = key_wrong,
				   .erase = true };
	static const uint8_t r_session[] = { 0x50, 0x02, 0x00, 0x32, 0x01, 0xF4 };
	static const uint8_t r_seed[] = { 0x67, 0x11, 0x00, 0x00, 0x00, 0x00 };
	const uint8_t *req;

	uds_prog_init(&p, &pc, NULL);
	T_OK(uds_prog_start(&p, image, 1, T0));
	T_EQ(answer(&p, NULL, 0, &req), 2);
	T_EQ(req[0], 0x10);
	T_EQ(answer(&p, r_session, sizeof(r_session), &req), 2);
	T_EQ(req[0], 0x27);
	T_EQ(req[1], 0x11);
	/* ISO 14229-1 §9.4: a zero seed means unlocked; the next request is the erase. */
	T_EQ(answer(&p, r_seed, sizeof(r_seed), &req), 4 + 1 + 8);
	T_EQ(req[0], 0x31);
	T_EQ(req[1], 0x01);
	T_EQ(req[2], 0xFF);
	T_EQ(req[3], 0x00);
	T_EQ(req[4], 0x44);
	T_EQ(uds_get_be(req + 5, 4), 0x08000000);
	T_EQ(uds_get_be(req + 9, 4), sizeof(img_a));
	uds_prog_release(&p);
}

/* A positive SecurityAccess answer without seed bytes is malformed, not "unlocked". */
static void test_uds_prog__seed_response_without_seed_fails(void)
{
	struct uds_prog p;
	struct uds_prog_cfg pc = { .security_level = 0x11, .compute_key = key_wrong };
	static const uint8_t r_session[] = { 0x50, 0x02, 0x00, 0x32, 0x01, 0xF4 };
	static const uint8_t r_seed[] = { 0x67, 0x11 };
	struct uds_prog_result res;
	const uint8_t *req;

	uds_prog_init(&p, &pc, NULL);
	T_OK(uds_prog_start(&p, image, 1, T0));
	T_EQ(answer(&p, NULL, 0, &req), 2);
	T_EQ(answer(&p, r_session, sizeof(r_session), &req), 2);
	T_EQ(req[0], 0x27);
	T_EQ(answer(&p, r_seed, sizeof(r_seed), &req), 0); /* no erase, no download */
	T_ERR(uds_prog_result(&p, &res), -EPROTO);
	T_EQ(res.step, UDS_PROG_STEP_REQUEST_SEED);
	uds_prog_release(&p);
}

/* compute_key may answer later (fota serve computes it in a worker thread). */
static int key_later(void *ctx, uint8_t level, const uint8_t *seed, size_t n, uint8_t *key,
		     size_t cap, size_t *klen)
{
	memcpy(ctx, seed, n);
	return -EINPROGRESS;
}

static void test_uds_prog__key_computed_later(void)
{
	struct uds_prog p;
	uint8_t seen[4];
	struct uds_prog_cfg pc = { .security_level = 0x11,
				   .compute_key = key_later,
				   .key_ctx = seen };
	static const uint8_t r_session[] = { 0x50, 0x02, 0x00, 0x32, 0x01, 0xF4 };
	static const uint8_t r_seed[] = { 0x67, 0x11, 0x12, 0x34, 0x56, 0x78 };
	static const uint8_t key[] = { 0xAA, 0xBB, 0xCC, 0xDD };
	struct uds_prog_result res;
	const uint8_t *req;

	uds_prog_init(&p, &pc, NULL);
	T_OK(uds_prog_start(&p, image, 1, T0));
	T_EQ(answer(&p, NULL, 0, &req), 2);
	T_EQ(answer(&p, r_session, sizeof(r_session), &req), 2);
	T_EQ(answer(&p, r_seed, sizeof(r_seed), &req), 0); /* nothing to send while computing */
	T_EQ_MEM(seen, r_seed + 2, 4);
	T_ERR(uds_prog_result(&p, &res), -EINPROGRESS);
	uds_prog_key_done(&p, 0, key, sizeof(key), T0);
	T_EQ(answer(&p, NULL, 0, &req), 6);
	T_EQ(req[0], 0x27);
	T_EQ(req[1], 0x12);
	T_EQ_MEM(req + 2, key, 4);
	uds_prog_release(&p);

	/* a failed computation fails at SendKey; a late key after cancel is ignored */
	uds_prog_init(&p, &pc, NULL);
	T_OK(uds_prog_start(&p, image, 1, T0));
	answer(&p, NULL, 0, &req);
	answer(&p, r_session, sizeof(r_session), &req);
	answer(&p, r_seed, sizeof(r_seed), &req);
	uds_prog_key_done(&p, -ETIMEDOUT, NULL, 0, T0);
	T_ERR(uds_prog_result(&p, &res), -ETIMEDOUT);
	T_EQ(res.step, UDS_PROG_STEP_SEND_KEY);
	uds_prog_release(&p);

	uds_prog_init(&p, &pc, NULL);
	T_OK(uds_prog_start(&p, image, 1, T0));
	answer(&p, NULL, 0, &req);
	answer(&p, r_session, sizeof(r_session), &req);
	answer(&p, r_seed, sizeof(r_seed), &req);
	uds_prog_cancel(&p);
	T_ERR(uds_prog_result(&p, &res), -ECANCELED);
	uds_prog_key_done(&p, 0, key, sizeof(key), T0);
	T_EQ(answer(&p, NULL, 0, &req), 0);
	uds_prog_release(&p);
}

static void test_uds_prog__start_rejects_bad_input(void)
{
	struct uds_prog p;
	struct uds_prog_cfg pc = { .security_level = 1 };
	struct uds_segment empty = { 0x1000, 0, img_a };
	struct uds_segment wrap = { 0xFFFFFF00, 0x200, img_a };

	uds_prog_init(&p, &pc, NULL);
	T_ERR(uds_prog_start(&p, image, 1, T0), -EINVAL); /* no compute_key */
	pc.security_level = 0;
	uds_prog_init(&p, &pc, NULL);
	T_ERR(uds_prog_start(&p, NULL, 0, T0), -EINVAL);
	T_ERR(uds_prog_start(&p, &empty, 1, T0), -EINVAL);
	T_ERR(uds_prog_start(&p, &wrap, 1, T0), -EINVAL);
	T_OK(uds_prog_start(&p, image, 1, T0));
	T_ERR(uds_prog_start(&p, image, 1, T0), -EALREADY);
	uds_prog_release(&p);
}

static const struct t_case cases[] = {
	T_CASE(uds_prog__multi_segment_image_lands_in_ecu_memory),
	T_CASE(uds_prog__invalid_key_is_reported_then_recovers),
	T_CASE(uds_prog__response_pending_storm_during_long_erase),
	T_CASE(uds_prog__pending_gap_above_p2star_times_out),
	T_CASE(uds_prog__lost_transfer_answer_is_retried_with_same_counter),
	T_CASE(uds_prog__slow_ecu_is_a_timeout),
	T_CASE(uds_prog__small_block_length_and_counter_wrap),
	T_CASE(uds_prog__wrong_block_counter_nrc_then_recovers),
	T_CASE(uds_prog__ecu_counter_bug_caught_before_success),
	T_CASE(uds_prog__ecu_reset_mid_transfer),
	T_CASE(uds_prog__cancel_mid_transfer),
	T_CASE(uds_prog__cancel_before_first_request),
	T_CASE(uds_prog__request_download_refused_names_the_nrc),
	T_CASE(uds_prog__fingerprint_after_unlock_before_erase),
	T_CASE(uds_prog__fingerprint_refused_names_the_nrc),
	T_CASE(uds_prog__identify_before_and_after),
	T_CASE(uds_prog__expect_mismatch),
	T_CASE(uds_prog__expect_unsupported),
	T_CASE(uds_prog__identify_after_retries),
	T_CASE(uds_prog__identify_after_busy_until_the_limit),
	T_CASE(uds_prog__without_erase_a_written_ecu_refuses),
	T_CASE(uds_prog__zero_seed_skips_the_key),
	T_CASE(uds_prog__seed_response_without_seed_fails),
	T_CASE(uds_prog__key_computed_later),
	T_CASE(uds_prog__start_rejects_bad_input),
};

int main(void)
{
	fill_image();
	return t_main(cases, FOTA_ARRAY_SIZE(cases));
}
