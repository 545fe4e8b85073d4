// SPDX-License-Identifier: MIT
/*
 * Integration: the programming job of `fota flash` / `fota serve` (uds/job.c:
 * ISO-TP + UDS programming sequence + seed/key) against the simulated ECU
 * (uds/server.c behind its own ISO-TP channel), frame by frame over the
 * in-memory bus in virtual time (tests/sim). A multi-segment image must land
 * in ECU memory byte for byte; each fault (lost flow control, NRC 0x78 storm,
 * invalid key, small block length, STmin pacing, cancel) ends with the right
 * outcome and an ECU that takes a clean second attempt.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "tests/sim/bus_mem.h"
#include "core/config.h"
#include "tests/sim/sim.h"
#include "tests/unit/t.h"
#include "uds/ecu.h"
#include "uds/isotp.h"
#include "uds/job.h"
#include "uds/key.h"
#include "uds/server.h"

#define T0 FOTA_SEC(1000)

/* ---- the simulated ECU: uds_server behind ISO-TP (uds/ecu.h) ---- */

struct ecu {
	struct uds_server *s;
	struct isotp *tp;
	struct cfg_key key;
	struct uds_ecu side; /* uds/ecu.h: the server behind ISO-TP, a loop member */
};

static int ecu_key(void *ctx, uint8_t level, const uint8_t *seed, size_t n, uint8_t *key,
		   size_t cap, size_t *klen)
{
	struct ecu *e = ctx;

	return uds_key_compute(&e->key, level, seed, n, key, cap, klen);
}

/* The ECU never has a response ISO-TP refuses: that would be a bug here. */
static void ecu_send_refused(void *ctx, int err, size_t len)
{
	T_OK(err);
}

/* ---- fixture ---- */

static const struct uds_region regions[] = {
	{ 0x08000000, 0x10000 },
	{ 0x08020000, 0x8000 },
};

static uint8_t img_a[10000], img_b[300], img_c[5000];
static struct ihex_segment segs[] = {
	{ 0x08000000, sizeof(img_a), img_a },
	{ 0x08008000, sizeof(img_b), img_b },
	{ 0x08020100, sizeof(img_c), img_c },
};
static struct ihex_image image;

struct env {
	struct sim sim;
	struct bus *tester_bus, *ecu_bus;
	struct ecu ecu;
	struct cfg_ecu cfg;
	struct uds_job *job;
	unsigned n_progress, n_retry, n_pending, n_switch;
	unsigned cancel_at; /* cancel on this PROGRESS event */
};

static void on_event(void *ctx, const struct uds_job_event *ev)
{
	struct env *e = ctx;

	if (ev->type == UDS_JOB_EV_SWITCH_SENT) {
		e->n_switch++;
		return;
	}
	switch (ev->prog->type) {
	case UDS_PROG_EV_PROGRESS:
		e->n_progress++;
		if (e->cancel_at && e->n_progress == e->cancel_at)
			uds_job_cancel(e->job);
		break;
	case UDS_PROG_EV_RETRY:
		e->n_retry++;
		break;
	case UDS_PROG_EV_PENDING:
		e->n_pending += ev->prog->pending;
		break;
	default:
		break;
	}
}

static void ecu_cfg_default(struct cfg_ecu *c)
{
	cfg_ecu_defaults(c);
	strcpy(c->name, "hydraulics");
	c->request_id = 0x7E0;
	c->response_id = 0x7E8;
	c->has_security = true;
	c->security_level = 0x01;
	T_OK(cfg_key_parse("xor:A5A5A5A5", &c->key, NULL, 0));
	for (size_t i = 0; i < FOTA_ARRAY_SIZE(regions); i++) {
		c->regions[i].start = regions[i].start;
		c->regions[i].size = regions[i].size;
	}
	c->nregions = FOTA_ARRAY_SIZE(regions);
}

static struct uds_server_cfg server_cfg(struct env *e)
{
	struct uds_server_cfg sc = {
		.regions = regions,
		.nregions = FOTA_ARRAY_SIZE(regions),
		.security_level = 0x01,
		.compute_key = ecu_key,
		.key_ctx = &e->ecu,
		.seed_of_seeds = 7,
	};
	return sc;
}

static void new_job(struct env *e, uint32_t block_length)
{
	struct uds_job_cfg jc = {
		.ecu = &e->cfg,
		.img = &image,
		.block_length = block_length,
		.on_event = on_event,
		.event_ctx = e,
	};
	struct uds_job_result r;

	uds_job_free(e->job);
	T_OK(uds_job_new(&e->job, &jc, &r));
	e->sim.n = 0; /* members again: the job's pointer changed */
	T_OK(sim_add(&e->sim, e->tester_bus, &uds_job_member_ops, e->job));
	T_OK(sim_add(&e->sim, e->ecu_bus, &uds_ecu_member_ops, &e->ecu.side));
}

static void env_init(struct env *e, const struct uds_server_cfg *sc, uint8_t ecu_stmin)
{
	struct isotp_cfg tc = { .tx_id = 0x7E8, .rx_id = 0x7E0, .pad = 0xCC, .stmin = ecu_stmin };

	memset(e, 0, sizeof(*e));
	T_OK(sim_init(&e->sim, "flash", T0));
	T_OK(bus_open(&e->tester_bus, "mem:flash", NULL, NULL, 0));
	T_OK(bus_open(&e->ecu_bus, "mem:flash", NULL, NULL, 0));
	T_OK(cfg_key_parse("xor:A5A5A5A5", &e->ecu.key, NULL, 0));
	T_OK(uds_server_new(&e->ecu.s, sc));
	e->ecu.tp = isotp_new(&tc);
	T_TRUE(e->ecu.tp != NULL);
	uds_ecu_init(&e->ecu.side, e->ecu.s, e->ecu.tp,
		     &(struct uds_ecu_hooks){ .send_refused = ecu_send_refused });
	ecu_cfg_default(&e->cfg);
	new_job(e, 0);
}

static void env_release(struct env *e)
{
	uds_job_free(e->job);
	isotp_free(e->ecu.tp);
	uds_server_free(e->ecu.s);
	bus_close(e->tester_bus);
	bus_close(e->ecu_bus);
	sim_release(&e->sim);
}

static int run_job(struct env *e, struct uds_job_result *r)
{
	T_OK(uds_job_start(e->job, sim_now(&e->sim)));
	T_OK(sim_run(&e->sim, FOTA_SEC(600)));
	return uds_job_result(e->job, r);
}

static void expect_memory_is_image(struct env *e)
{
	uint32_t base;
	size_t span, bad = 0;
	const uint8_t *mem = uds_server_memory(e->ecu.s, &base, &span);
	uint8_t *want = malloc(span);

	memset(want, 0xFF, span);
	for (size_t i = 0; i < image.nseg; i++)
		memcpy(want + (image.seg[i].addr - base), image.seg[i].data, image.seg[i].len);
	for (size_t i = 0; i < span; i++)
		bad += mem[i] != want[i];
	T_EQ(bad, 0);
	free(want);
}

static void expect_clean_second_attempt(struct env *e)
{
	struct uds_job_result r;

	bus_mem_clear_faults(e->sim.hub);
	T_OK(run_job(e, &r));
	T_EQ_STR(r.msg, "success");
	expect_memory_is_image(e);
	T_TRUE(uds_server_app_valid(e->ecu.s));
}

/* Frames of one id from the record, with their times. */
static size_t frames_of(struct env *e, uint32_t id, const struct bus_mem_rec **out, size_t cap)
{
	const struct bus_mem_rec *rec;
	size_t n = bus_mem_record(e->sim.hub, &rec), k = 0;

	for (size_t i = 0; i < n && k < cap; i++)
		if (rec[i].f.id == id && !(rec[i].fate & BUS_MEM_REC_FAILED))
			out[k++] = &rec[i];
	return k;
}

static const struct bus_mem_rec *tx[20000];

/* ---- cases ---- */

static void test_flash__multi_segment_image_lands_in_ecu_memory(void)
{
	struct uds_server_cfg sc;
	struct env e;
	struct uds_job_result r;
	uint64_t done, total;
	size_t n;
	static const uint8_t session[8] = { 0x02, 0x10, 0x02, 0xCC, 0xCC, 0xCC, 0xCC, 0xCC };
	static const uint8_t seed_req[8] = { 0x02, 0x27, 0x01, 0xCC, 0xCC, 0xCC, 0xCC, 0xCC };
	/* erase region 0, whole (scope "region"): 31 01 FF00 44 08000000 00010000 */
	static const uint8_t erase_ff[8] = { 0x10, 0x0D, 0x31, 0x01, 0xFF, 0x00, 0x44, 0x08 };

	sc = server_cfg(&e);
	env_init(&e, &sc, 0);
	T_OK(run_job(&e, &r));
	T_EQ(r.err, 0);
	expect_memory_is_image(&e);
	uds_job_progress(e.job, &done, &total);
	T_EQ_U64(done, 15300);
	T_EQ_U64(total, 15300);
	T_EQ(uds_server_resets(e.ecu.s), 1);

	/* The first frames of the session, byte for byte (classic CAN, 0xCC padding). */
	n = frames_of(&e, 0x7E0, tx, FOTA_ARRAY_SIZE(tx));
	T_TRUE(n > 10);
	T_EQ(tx[0]->f.len, 8);
	T_EQ_MEM(tx[0]->f.data, session, 8);
	T_EQ_MEM(tx[1]->f.data, seed_req, 8);
	T_EQ(tx[2]->f.data[0], 0x06); /* 27 02 + 4 key bytes */
	T_EQ(tx[2]->f.data[1], 0x27);
	T_EQ(tx[2]->f.data[2], 0x02);
	T_EQ_MEM(tx[3]->f.data, erase_ff, 8);
	/* the last request: ECUReset hardReset */
	T_EQ(tx[n - 1]->f.data[0], 0x02);
	T_EQ(tx[n - 1]->f.data[1], 0x11);
	T_EQ(tx[n - 1]->f.data[2], 0x01);
	env_release(&e);
}

static void test_flash__lost_flow_control_is_retried(void)
{
	struct uds_server_cfg sc;
	struct env e;
	struct uds_job_result r;
	const struct bus_mem_rec *rec;
	size_t n, nth = 0, k = 0;

	/* Find the ECU's first flow control of a clean run, then drop it in a second. */
	sc = server_cfg(&e);
	env_init(&e, &sc, 0);
	T_OK(run_job(&e, &r));
	n = bus_mem_record(e.sim.hub, &rec);
	for (size_t i = 0, after_74 = 0; i < n && !nth; i++) {
		if (rec[i].f.id != 0x7E8)
			continue;
		k++;
		if (rec[i].f.data[1] == 0x74)
			after_74 = 1;
		if (after_74 && (rec[i].f.data[0] & 0xF0) == 0x30)
			nth = k;
	}
	T_TRUE(nth > 0);
	env_release(&e);

	env_init(&e, &sc, 0);
	T_OK(bus_mem_fault(e.sim.hub, &(struct bus_mem_rule){ .fault = BUS_MEM_DROP,
							      .nth = nth,
							      .match_id = true,
							      .id = 0x7E8 }));
	T_OK(run_job(&e, &r));
	T_EQ(e.n_retry, 1); /* same block, same counter */
	expect_memory_is_image(&e);
	env_release(&e);
}

static void test_flash__lost_flow_control_without_retries_times_out(void)
{
	struct uds_server_cfg sc;
	struct env e;
	struct uds_job_result r;

	sc = server_cfg(&e);
	env_init(&e, &sc, 0);
	e.cfg.sequence.transfer_retries = 0;
	new_job(&e, 0);
	/*
	 * The ECU's 10th frame is the flow control of the first TransferData:
	 * 50 (session), 67 (seed), 67 (key), FC 71 FC 71 (two region erases,
	 * 13-byte requests), FC 74 (11-byte RequestDownload), FC.
	 */
	T_OK(bus_mem_fault(e.sim.hub, &(struct bus_mem_rule){ .fault = BUS_MEM_DROP,
							      .nth = 10,
							      .match_id = true,
							      .id = 0x7E8 }));
	T_ERR(run_job(&e, &r), -ETIMEDOUT);
	T_EQ(r.prog.step, UDS_PROG_STEP_TRANSFER_DATA);
	T_EQ(r.isotp_err, -ETIMEDOUT);
	T_TRUE(strstr(r.msg, "TransferData") != NULL);
	T_TRUE(strstr(r.msg, "N_Bs") != NULL);
	e.cfg.sequence.transfer_retries = 2;
	new_job(&e, 0);
	expect_clean_second_attempt(&e);
	env_release(&e);
}

static void test_flash__response_pending_storm(void)
{
	struct uds_server_cfg sc;
	struct env e;
	struct uds_job_result r;
	fota_us t0;

	sc = server_cfg(&e);
	sc.faults.pending_sid = UDS_SID_ROUTINE_CONTROL; /* erase and check */
	sc.faults.pending_count = 30;
	sc.pending_interval_ms = 1000; /* 30 s of 0x78, each under P2* = 5 s */
	env_init(&e, &sc, 0);
	t0 = sim_now(&e.sim);
	T_OK(run_job(&e, &r));
	T_TRUE(e.n_pending >= 30);
	T_TRUE(sim_now(&e.sim) - t0 >= FOTA_SEC(30));
	expect_memory_is_image(&e);
	env_release(&e);
}

static void test_flash__invalid_key_then_right_key(void)
{
	struct uds_server_cfg sc;
	struct env e;
	struct uds_job_result r;

	sc = server_cfg(&e);
	env_init(&e, &sc, 0);
	T_OK(cfg_key_parse("xor:00000000", &e.cfg.key, NULL, 0));
	new_job(&e, 0);
	T_ERR(run_job(&e, &r), -EREMOTEIO);
	T_EQ(r.prog.step, UDS_PROG_STEP_SEND_KEY);
	T_EQ(r.prog.nrc, UDS_NRC_INVALID_KEY);
	T_EQ_STR(r.msg, "SendKey refused: invalidKey (NRC 0x35)");
	T_TRUE(!uds_server_unlocked(e.ecu.s));
	T_OK(cfg_key_parse("xor:A5A5A5A5", &e.cfg.key, NULL, 0));
	new_job(&e, 0);
	expect_clean_second_attempt(&e);
	env_release(&e);
}

static void test_flash__block_length_smaller_than_segment(void)
{
	struct uds_server_cfg sc;
	struct env e;
	struct uds_job_result r;
	size_t n, td = 0;

	sc = server_cfg(&e);
	env_init(&e, &sc, 0);
	new_job(&e, 100); /* 98 data bytes per TransferData */
	T_OK(run_job(&e, &r));
	expect_memory_is_image(&e);
	n = frames_of(&e, 0x7E0, tx, FOTA_ARRAY_SIZE(tx));
	for (size_t i = 0; i < n; i++) {
		const uint8_t *d = tx[i]->f.data;

		if ((d[0] & 0xF0) == 0x10 && d[2] == UDS_SID_TRANSFER_DATA) {
			T_TRUE((((d[0] & 0x0F) << 8) | d[1]) <= 100);
			td++;
		} else if ((d[0] & 0xF0) == 0x00 && d[1] == UDS_SID_TRANSFER_DATA) {
			td++; /* the 4- and 2-byte tails of segments a and c fit a SF */
		}
	}
	/* ceil(10000/98) + ceil(300/98) + ceil(5000/98) blocks */
	T_EQ(td, 103 + 4 + 52);
	T_EQ(e.n_progress, 103 + 4 + 52);
	env_release(&e);
}

static void test_flash__stmin_pacing_on_the_virtual_clock(void)
{
	struct uds_server_cfg sc;
	struct env e;
	struct uds_job_result r;
	size_t n, pairs = 0;
	fota_us min_gap = FOTA_NEVER;

	sc = server_cfg(&e);
	env_init(&e, &sc, 0x05); /* the ECU asks for 5 ms between CFs */
	T_OK(run_job(&e, &r));
	expect_memory_is_image(&e);
	n = frames_of(&e, 0x7E0, tx, FOTA_ARRAY_SIZE(tx));
	for (size_t i = 1; i < n; i++) {
		if ((tx[i]->f.data[0] & 0xF0) != 0x20 || (tx[i - 1]->f.data[0] & 0xF0) != 0x20)
			continue;
		pairs++;
		if (tx[i]->t - tx[i - 1]->t < min_gap)
			min_gap = tx[i]->t - tx[i - 1]->t;
	}
	T_TRUE(pairs > 1000);
	T_EQ_U64(min_gap, FOTA_MS(5));
	env_release(&e);
}

static void test_flash__cancel_mid_transfer(void)
{
	struct uds_server_cfg sc;
	struct env e;
	struct uds_job_result r;
	uint64_t done;

	sc = server_cfg(&e);
	env_init(&e, &sc, 0);
	e.cancel_at = 2;
	T_ERR(run_job(&e, &r), -ECANCELED);
	T_EQ(r.prog.step, UDS_PROG_STEP_TRANSFER_DATA);
	uds_job_progress(e.job, &done, NULL);
	T_EQ_U64(done, 2 * 4093);
	T_TRUE(!uds_server_app_valid(e.ecu.s));
	e.cancel_at = 0;
	expect_clean_second_attempt(&e);
	env_release(&e);
}

static void test_flash__bootloader_switch_frame_first(void)
{
	struct uds_server_cfg sc;
	struct env e;
	struct uds_job_result r;
	const struct bus_mem_rec *rec;
	struct uds_job_cfg jc;

	sc = server_cfg(&e);
	env_init(&e, &sc, 0);
	e.cfg.has_bootloader_switch = true;
	e.cfg.bootloader_switch.id = 0x700;
	e.cfg.bootloader_switch.len = 2;
	e.cfg.bootloader_switch.data[0] = 0x01;
	e.cfg.bootloader_switch.data[1] = 0x02;
	e.cfg.bootloader_switch_delay_ms = 500;
	jc = (struct uds_job_cfg){ .ecu = &e.cfg,
				   .img = &image,
				   .bootloader_switch = true,
				   .on_event = on_event,
				   .event_ctx = &e };
	uds_job_free(e.job);
	T_OK(uds_job_new(&e.job, &jc, NULL));
	e.sim.n = 0;
	T_OK(sim_add(&e.sim, e.tester_bus, &uds_job_member_ops, e.job));
	T_OK(sim_add(&e.sim, e.ecu_bus, &uds_ecu_member_ops, &e.ecu.side));
	T_OK(run_job(&e, &r));
	T_EQ(e.n_switch, 1);
	T_TRUE(bus_mem_record(e.sim.hub, &rec) > 2);
	T_EQ(rec[0].f.id, 0x700);
	T_EQ(rec[0].f.len, 2);
	T_EQ(rec[1].f.id, 0x7E0);
	T_EQ_U64(rec[1].t - rec[0].t, FOTA_MS(500));
	env_release(&e);
}

static void test_flash__image_outside_regions_is_refused_before_any_frame(void)
{
	struct cfg_ecu c;
	struct uds_job *j;
	struct uds_job_result r;
	static uint8_t b[0x100];
	struct ihex_segment s = { 0x08100000, sizeof(b), b };
	struct ihex_image img;

	ecu_cfg_default(&c);
	ihex_image_init(&img);
	img.seg = &s;
	img.nseg = 1;
	T_ERR(uds_job_new(&j, &(struct uds_job_cfg){ .ecu = &c, .img = &img }, &r), -ERANGE);
	T_EQ_STR(r.msg, "0x08100000-0x081000ff is outside the ECU's memory regions");
}

/* ---- compressed downloads ---- */

/* Firmware-like: Thumb-ish code patterns, a table, erased 0xFF stretches. */
static uint8_t zimg_a[10000], zimg_b[300], zimg_c[5000];
static struct ihex_segment zsegs[] = {
	{ 0x08000000, sizeof(zimg_a), zimg_a },
	{ 0x08008000, sizeof(zimg_b), zimg_b },
	{ 0x08020100, sizeof(zimg_c), zimg_c },
};

static void fill_firmware(void)
{
	uint8_t *bufs[] = { zimg_a, zimg_b, zimg_c };
	size_t lens[] = { sizeof(zimg_a), sizeof(zimg_b), sizeof(zimg_c) };
	uint32_t x = 7;

	for (size_t b = 0; b < 3; b++)
		for (size_t i = 0; i < lens[b]; i++) {
			x = x * 1103515245u + 12345u;
			bufs[b][i] = (x >> 28) < 3 ?
					     (uint8_t)(x >> 16) :
					     (uint8_t)("\x00\xb5\x80\xb0\x01\x46\x70\x47"[i % 8] +
						       (i >> 10));
		}
}

/* The session for one method: frames on the tester's id, and the job's outcome. */
static size_t compressed_session(enum fota_compress_method m, uint8_t dfi,
				 const struct uds_server_faults *f, struct env *e)
{
	struct uds_server_cfg sc;
	struct uds_job_result r;
	uint64_t done, total;

	sc = server_cfg(e);
	sc.max_block_len = 1026;
	sc.compression = m;
	sc.compression_dfi = dfi;
	if (f)
		sc.faults = *f;
	env_init(e, &sc, 0);
	e->cfg.compression = (struct cfg_compression){ m, dfi, -1 };
	new_job(e, 0);
	T_OK(run_job(e, &r));
	T_EQ_STR(r.msg, "success");
	expect_memory_is_image(e);
	T_TRUE(uds_server_app_valid(e->ecu.s)); /* the check routine's CRC matched */
	uds_job_progress(e->job, &done, &total);
	T_EQ_U64(done, 15300); /* progress in image bytes */
	T_EQ_U64(total, 15300);
	return frames_of(e, 0x7E0, tx, FOTA_ARRAY_SIZE(tx));
}

/*
 * lz4 and deflate: the image lands byte for byte in fewer frames;
 * RequestDownload names the method in dataFormatIdentifier and the
 * uncompressed size in memorySize.
 */
static void test_flash__compressed_download(void)
{
	static const enum fota_compress_method m[] = { COMPRESS_LZ4, COMPRESS_DEFLATE };
	static const uint8_t dfi[] = { 0x10, 0x20 };
	struct ihex_segment *saved = image.seg;
	struct env e;
	size_t plain, n;

	image.seg = zsegs;
	plain = compressed_session(COMPRESS_NONE, 0, NULL, &e);
	env_release(&e);
	for (int i = 0; i < 2; i++) {
		/* 34 dfi 44 08000000 00002710: a first frame of 11 bytes */
		const uint8_t rd[8] = { 0x10, 0x0B, 0x34, dfi[i], 0x44, 0x08, 0x00, 0x00 };
		bool seen = false;

		n = compressed_session(m[i], dfi[i], NULL, &e);
		T_TRUE(n < plain * 6 / 10);
		for (size_t k = 0; k + 1 < n && !seen; k++)
			if (!memcmp(tx[k]->f.data, rd, 8)) {
				seen = true;
				T_EQ_MEM(tx[k + 1]->f.data, "\x21\x00\x00\x00\x27\x10", 6);
			}
		T_TRUE(seen);
		env_release(&e);
	}
	image.seg = saved;
}

/* A lost TransferData answer: the same compressed block again, written once. */
static void test_flash__compressed_lost_answer(void)
{
	struct uds_server_faults f = { .drop_sid = 0x36, .drop_nth = 2 };
	struct ihex_segment *saved = image.seg;
	struct env e;

	image.seg = zsegs;
	compressed_session(COMPRESS_LZ4, 0x10, &f, &e);
	T_EQ(e.n_retry, 1);
	env_release(&e);
	compressed_session(COMPRESS_DEFLATE, 0x20, &f, &e);
	T_EQ(e.n_retry, 1);
	env_release(&e);
	image.seg = saved;
}

/* The ECU without the method: requestOutOfRange, and the message says why it may be. */
static void test_flash__compressed_unknown_to_the_ecu(void)
{
	struct uds_server_cfg sc;
	struct uds_job_result r;
	struct env e;

	sc = server_cfg(&e);
	env_init(&e, &sc, 0);
	e.cfg.compression = (struct cfg_compression){ COMPRESS_DEFLATE, 0x20, -1 };
	new_job(&e, 0);
	T_ERR(run_job(&e, &r), -EREMOTEIO);
	T_EQ_STR(r.msg, "RequestDownload refused: requestOutOfRange (NRC 0x31); the ECU may not "
			"know dataFormatIdentifier 0x20 (deflate)");
	env_release(&e);
}

static const struct t_case cases[] = {
	T_CASE(flash__compressed_download),
	T_CASE(flash__compressed_lost_answer),
	T_CASE(flash__compressed_unknown_to_the_ecu),
	T_CASE(flash__multi_segment_image_lands_in_ecu_memory),
	T_CASE(flash__lost_flow_control_is_retried),
	T_CASE(flash__lost_flow_control_without_retries_times_out),
	T_CASE(flash__response_pending_storm),
	T_CASE(flash__invalid_key_then_right_key),
	T_CASE(flash__block_length_smaller_than_segment),
	T_CASE(flash__stmin_pacing_on_the_virtual_clock),
	T_CASE(flash__cancel_mid_transfer),
	T_CASE(flash__bootloader_switch_frame_first),
	T_CASE(flash__image_outside_regions_is_refused_before_any_frame),
};

int main(void)
{
	uint32_t x = 4242;
	uint8_t *bufs[] = { img_a, img_b, img_c };
	size_t lens[] = { sizeof(img_a), sizeof(img_b), sizeof(img_c) };

	for (size_t b = 0; b < 3; b++)
		for (size_t i = 0; i < lens[b]; i++) {
			x = x * 1103515245u + 12345u;
			bufs[b][i] = (uint8_t)(x >> 16);
		}
	fill_firmware();
	ihex_image_init(&image);
	image.seg = segs;
	image.nseg = FOTA_ARRAY_SIZE(segs);
	return t_main(cases, FOTA_ARRAY_SIZE(cases));
}
