// SPDX-License-Identifier: MIT
/*
 * One ECU programming job (see uds/job.h): bootloader switch frame, then the
 * UDS programming sequence (ISO 14229-1) over one ISO-TP channel
 * (ISO 15765-2), as a loop member on CAN frames.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "core/bus.h"
#include "hex/image.h"
#include "uds/isotp.h"
#include "uds/job.h"
#include "uds/key.h"

enum job_state {
	JOB_IDLE,
	JOB_SWITCH, /* switch frame to send */
	JOB_DELAY,  /* switch frame sent; waiting delay_ms */
	JOB_PROG,   /* the sequence runs */
	JOB_DONE,
};

struct uds_job {
	struct uds_job_cfg cfg;
	struct cfg_ecu ecu;
	struct isotp *tp;
	struct uds_prog prog;
	struct uds_prog_cfg pcfg;
	struct uds_client_cfg ccfg;
	struct uds_segment *seg;
	size_t nseg;
	struct uds_segment *erase;
	size_t nerase;
	enum job_state state;
	fota_us delay_until;
	bool tx_busy;	    /* a request PDU is in ISO-TP */
	int tx_err;	    /* ISO-TP error of the last request, or 0 */
	int rx_err;	    /* last ISO-TP receive error */
	char key_why[128];  /* why the key could not be computed (never key or seed bytes) */
	uint64_t tp_frames; /* functional TesterPresent frames sent */
	/*
	 * A key computed inside a pass (cmd:, lib:), handed over at a tick of a
	 * later pass: the tick of the same pass still has that pass's `now`.
	 */
	bool key_ready, key_same_pass;
	int key_err;
	uint8_t key_buf[UDS_KEY_MAX];
	size_t key_len;
	struct uds_job_result res;
};

static void collect(struct uds_job *j);

static int job_key(void *ctx, uint8_t level, const uint8_t *seed, size_t n, uint8_t *key,
		   size_t cap, size_t *klen)
{
	struct uds_job *j = ctx;

	j->key_why[0] = '\0';
	if (j->cfg.key_async)
		return j->cfg.key_async(j->cfg.key_async_ctx, &j->ecu.key, level, seed, n);
	if (j->ecu.key.kind == CFG_KEY_XOR)
		return uds_key_compute_detail(&j->ecu.key, level, seed, n, key, cap, klen,
					      j->key_why, sizeof(j->key_why));
	/*
	 * A cmd: program or a vendor library may take seconds, and the `now`
	 * of this pass is as old as that when the key would go out: its P2
	 * would start seconds in the past and expire at once. Compute it now,
	 * hand it over in a later pass, with the time of that pass.
	 */
	j->key_err =
		uds_key_compute_detail(&j->ecu.key, level, seed, n, j->key_buf, sizeof(j->key_buf),
				       &j->key_len, j->key_why, sizeof(j->key_why));
	j->key_ready = j->key_same_pass = true;
	return -EINPROGRESS;
}

void uds_job_key_done(struct uds_job *j, int err, const uint8_t *key, size_t klen, const char *why,
		      fota_us now)
{
	snprintf(j->key_why, sizeof(j->key_why), "%s", err && why ? why : "");
	uds_prog_key_done(&j->prog, err, key, klen, now);
	collect(j);
}

static void job_prog_event(void *ctx, const struct uds_prog_event *ev)
{
	struct uds_job *j = ctx;
	struct uds_job_event e = { .type = UDS_JOB_EV_PROG, .prog = ev, .now = ev->now };

	if (j->cfg.on_event)
		j->cfg.on_event(j->cfg.event_ctx, &e);
}

/* Erase ranges for scope "region": every region the image touches, whole. */
static int build_erase_ranges(struct uds_job *j)
{
	const struct cfg_ecu *e = &j->ecu;

	j->erase = calloc(e->nregions ? e->nregions : 1, sizeof(*j->erase));
	if (!j->erase)
		return -ENOMEM;
	for (size_t r = 0; r < e->nregions; r++) {
		uint64_t rs = e->regions[r].start, re = rs + e->regions[r].size;

		for (size_t i = 0; i < j->nseg; i++) {
			uint64_t ss = j->seg[i].addr, se = ss + j->seg[i].len;

			if (ss < re && se > rs) {
				j->erase[j->nerase].addr = (uint32_t)rs;
				j->erase[j->nerase].len = e->regions[r].size;
				j->erase[j->nerase].data = NULL;
				j->nerase++;
				break;
			}
		}
	}
	return 0;
}

static void set_msg(struct uds_job_result *res, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void set_msg(struct uds_job_result *res, const char *fmt, ...)
{
	va_list ap;

	if (!res)
		return;
	va_start(ap, fmt);
	vsnprintf(res->msg, sizeof(res->msg), fmt, ap);
	va_end(ap);
}

static int check_regions(const struct uds_job *j, struct uds_job_result *res)
{
	struct ihex_region reg[CFG_REGIONS_MAX];
	struct ihex_outside out;

	for (size_t i = 0; i < j->ecu.nregions; i++) {
		reg[i].addr = j->ecu.regions[i].start;
		reg[i].len = j->ecu.regions[i].size;
	}
	if (!ihex_image_check_regions(j->cfg.img, reg, j->ecu.nregions, &out))
		return 0;
	set_msg(res, "0x%08" PRIx32 "-0x%08" PRIx32 " is outside the ECU's memory regions",
		out.addr, (uint32_t)(out.addr + (uint64_t)out.len - 1));
	return -ERANGE;
}

static void setup_prog(struct uds_job *j)
{
	const struct cfg_ecu *e = &j->ecu;
	const struct cfg_sequence *sq = &e->sequence;
	struct uds_prog_cfg *c = &j->pcfg;

	memset(c, 0, sizeof(*c));
	c->extended_session = c->dtc_off = c->comm_control = sq->pre_programming;
	c->programming_session = sq->programming_session;
	if (e->has_security) {
		c->security_level = e->security_level;
		c->compute_key = job_key;
		c->key_ctx = j;
	}
	c->erase = sq->erase;
	c->erase_routine = sq->erase_routine;
	c->erase_no_record = sq->erase_record == CFG_ERASE_RECORD_NONE;
	if (sq->erase && sq->erase_scope == CFG_ERASE_REGION) {
		c->erase_ranges = j->erase;
		c->nerase_ranges = j->nerase;
	}
	c->alfid = sq->address_and_length_format;
	c->dfi = sq->data_format;
	if (e->compression.method != COMPRESS_NONE) {
		c->dfi = e->compression.dfi;
		c->compression = e->compression.method;
		c->compression_level = e->compression.level;
	}
	c->max_block_len = j->cfg.block_length ? j->cfg.block_length : sq->block_length;
	c->check = sq->check;
	c->check_routine = sq->check_routine;
	c->check_no_crc = !sq->check_crc;
	c->reset_type = (uint8_t)sq->reset;
	if (j->cfg.identify) {
		c->identify = j->cfg.identify;
		c->nidentify = j->cfg.nidentify;
	} else {
		c->identify = e->identify;
		c->nidentify = e->nidentify;
	}
	c->expect = j->cfg.expect;
	c->nexpect = j->cfg.nexpect;
	c->identify_wait_ms = e->identify_wait_ms;
	c->fingerprint_did = sq->fingerprint_did;
	c->fingerprint = (const uint8_t *)sq->fingerprint;
	c->fingerprint_len = strlen(sq->fingerprint);
	c->transfer_retries = sq->transfer_retries;
	c->wait_ecu_ms = j->cfg.wait_ecu_ms;
	c->no_transfer_retry = sq->transfer_retries == 0;
	c->on_event = job_prog_event;
	c->event_ctx = j;

	memset(&j->ccfg, 0, sizeof(j->ccfg));
	j->ccfg.p2_ms = e->timing.p2_ms;
	j->ccfg.p2_star_ms = e->timing.p2_star_ms;
	j->ccfg.tester_present_ms = e->timing.tester_present_ms;
	j->ccfg.tester_present = uds_job_tp_mode(e);
	/*
	 * ISO 14229-2 §7.2: P2client = P2server_max + ΔP2. The ECU states its
	 * own P2/P2* in the session response; the margin covers the transport
	 * (a multi-process unix: bus under load, a busy gateway).
	 */
	j->ccfg.adopt_session_timing = true;
	j->ccfg.timing_margin_ms = 25;
}

enum uds_tp_mode uds_job_tp_mode(const struct cfg_ecu *e)
{
	if (!e->timing.tester_present_ms) /* fota.yaml(5): 0 never sends it */
		return UDS_TP_OFF;
	switch (e->tester_present) {
	case CFG_TP_PHYSICAL:
		return UDS_TP_PHYSICAL;
	case CFG_TP_IDLE:
		return UDS_TP_IDLE;
	case CFG_TP_OFF:
		return UDS_TP_OFF;
	default:
		return UDS_TP_FUNCTIONAL;
	}
}

int uds_job_new(struct uds_job **jp, const struct uds_job_cfg *cfg, struct uds_job_result *res)
{
	struct isotp_cfg tc = { 0 };
	struct uds_job *j;
	int err;

	*jp = NULL;
	if (res) {
		memset(res, 0, sizeof(*res));
		res->err = -ENOENT;
	}
	if (!cfg || !cfg->ecu || !cfg->img || !cfg->img->nseg) {
		set_msg(res, "no ECU or an empty image");
		return -EINVAL;
	}
	j = calloc(1, sizeof(*j));
	if (!j)
		return -ENOMEM;
	j->cfg = *cfg;
	j->ecu = *cfg->ecu;
	j->cfg.ecu = &j->ecu;
	err = check_regions(j, res);
	if (err)
		goto fail;
	err = -ENOMEM;
	j->seg = calloc(cfg->img->nseg, sizeof(*j->seg));
	if (!j->seg)
		goto fail;
	for (size_t i = 0; i < cfg->img->nseg; i++) {
		j->seg[i].addr = cfg->img->seg[i].addr;
		j->seg[i].len = (uint32_t)cfg->img->seg[i].len;
		j->seg[i].data = cfg->img->seg[i].data;
	}
	j->nseg = cfg->img->nseg;
	if (build_erase_ranges(j))
		goto fail;

	tc.tx_id = j->ecu.request_id;
	tc.rx_id = j->ecu.response_id;
	tc.id_flags = j->ecu.extended ? BUS_FRAME_EFF : 0;
	tc.fd = j->ecu.isotp.fd;
	tc.tx_dl = j->ecu.isotp.tx_dl;
	tc.pad = j->ecu.isotp.padding;
	tc.bs = j->ecu.isotp.block_size;
	tc.stmin = j->ecu.isotp.stmin;
	tc.n_bs_ms = j->ecu.timing.n_bs_ms;
	tc.n_cr_ms = j->ecu.timing.n_cr_ms;
	tc.rx_max = cfg->isotp_rx_max ? cfg->isotp_rx_max : 4095;
	j->tp = isotp_new(&tc);
	if (!j->tp) {
		err = -errno;
		set_msg(res, "ISO-TP settings of ECU '%s' cannot work", j->ecu.name);
		goto fail;
	}
	setup_prog(j);
	uds_prog_init(&j->prog, &j->pcfg, &j->ccfg);
	j->state = JOB_IDLE;
	j->res.err = -ENOENT;
	*jp = j;
	return 0;
fail:
	uds_job_free(j);
	return err;
}

void uds_job_free(struct uds_job *j)
{
	if (!j)
		return;
	uds_prog_release(&j->prog);
	isotp_free(j->tp);
	free(j->seg);
	free(j->erase);
	free(j);
}

static int start_prog(struct uds_job *j, fota_us now)
{
	int err;

	j->state = JOB_PROG;
	err = uds_prog_start(&j->prog, j->seg, j->nseg, now);
	if (err) {
		j->state = JOB_DONE;
		j->res.err = err;
		snprintf(j->res.msg, sizeof(j->res.msg), "cannot start: %s", strerror(-err));
	}
	return err;
}

int uds_job_start(struct uds_job *j, fota_us now)
{
	if (uds_job_running(j))
		return -EALREADY;
	memset(&j->res, 0, sizeof(j->res));
	j->res.err = -EINPROGRESS;
	j->tx_busy = false;
	j->tx_err = j->rx_err = 0;
	isotp_reset(j->tp);
	uds_prog_release(&j->prog);
	/* A new attempt starts from the default session, as after a reset. */
	uds_prog_init(&j->prog, &j->pcfg, &j->ccfg);
	if (j->cfg.bootloader_switch && j->ecu.has_bootloader_switch) {
		j->state = JOB_SWITCH;
		return 0;
	}
	return start_prog(j, now);
}

void uds_job_cancel(struct uds_job *j)
{
	switch (j->state) {
	case JOB_SWITCH:
	case JOB_DELAY:
		j->state = JOB_DONE;
		j->res.err = -ECANCELED;
		snprintf(j->res.msg, sizeof(j->res.msg),
			 "cancelled before the programming session");
		break;
	case JOB_PROG:
		uds_prog_cancel(&j->prog);
		break;
	default:
		break;
	}
}

bool uds_job_running(const struct uds_job *j)
{
	return j->state != JOB_IDLE && j->state != JOB_DONE;
}

static const char *isotp_errstr(int err)
{
	switch (err) {
	case -ETIMEDOUT:
		return "no flow control from the ECU (N_Bs timeout)";
	case -EMSGSIZE:
		return "the ECU reported overflow (FC.OVFLW)";
	case -EPROTO:
		return "invalid flow control from the ECU";
	default:
		return strerror(-err);
	}
}

/* The sequence finished: fill the result once. */
static void collect(struct uds_job *j)
{
	int err;

	if (j->state != JOB_PROG)
		return;
	err = uds_prog_result(&j->prog, &j->res.prog);
	if (err == -EINPROGRESS)
		return;
	j->state = JOB_DONE;
	j->res.err = err;
	uds_prog_strerror(&j->res.prog, j->res.msg, sizeof(j->res.msg));
	if (err && j->res.prog.step == UDS_PROG_STEP_SEND_KEY && j->key_why[0]) {
		size_t n = strlen(j->res.msg);

		snprintf(j->res.msg + n, sizeof(j->res.msg) - n, ": %s", j->key_why);
	}
	if (err && j->res.prog.nrc == UDS_NRC_CONDITIONS_NOT_CORRECT && !j->cfg.bootloader_switch &&
	    (j->res.prog.step == UDS_PROG_STEP_PROGRAMMING_SESSION ||
	     j->res.prog.step == UDS_PROG_STEP_EXTENDED_SESSION)) {
		/* The usual cause: the ECU still runs its application. */
		size_t n = strlen(j->res.msg);

		snprintf(j->res.msg + n, sizeof(j->res.msg) - n,
			 "; no bootloader switch frame was sent%s",
			 j->ecu.has_bootloader_switch ? "" :
							" (none configured: bootloader_switch)");
	}
	if (err && j->res.prog.nrc == UDS_NRC_REQUEST_OUT_OF_RANGE &&
	    j->res.prog.step == UDS_PROG_STEP_REQUEST_DOWNLOAD && j->pcfg.compression) {
		/* The memory range was checked here already: the likelier cause is the method. */
		size_t n = strlen(j->res.msg);

		snprintf(j->res.msg + n, sizeof(j->res.msg) - n,
			 "; the ECU may not know dataFormatIdentifier 0x%02X (%s)", j->pcfg.dfi,
			 fota_compress_method_str(j->pcfg.compression));
	}
	if (err && j->tx_err) {
		size_t n = strlen(j->res.msg);

		j->res.isotp_err = j->tx_err;
		snprintf(j->res.msg + n, sizeof(j->res.msg) - n, " (ISO-TP: %s)",
			 isotp_errstr(j->tx_err));
	}
}

/* ISO-TP finished sending the request, or gave up: tell the client. */
static void check_tx(struct uds_job *j, fota_us now)
{
	int r;

	if (!j->tx_busy)
		return;
	r = isotp_tx_result(j->tp);
	if (r == -EINPROGRESS)
		return;
	j->tx_busy = false;
	j->tx_err = r;
	if (!r)
		uds_prog_sent(&j->prog, now); /* T_Data.con: P2 starts now */
					      /*
	 * On failure the client's P2 (armed when the PDU was handed over) has
	 * long passed: its tick below ends the request with -ETIMEDOUT, and
	 * TransferData is sent again with the same counter.
	 */
}

static void job_input(void *ctx, const struct bus_frame *f, fota_us now)
{
	struct uds_job *j = ctx;
	const uint8_t *pdu;
	size_t len;
	int e;

	if (j->state != JOB_PROG)
		return;
	isotp_input(j->tp, f, now);
	e = isotp_rx_error(j->tp);
	if (e)
		j->rx_err = e;
	check_tx(j, now);
	while (j->state == JOB_PROG && isotp_recv(j->tp, &pdu, &len) == 1) {
		uds_prog_input(&j->prog, pdu, len, now);
		collect(j);
	}
}

static void job_tick(void *ctx, fota_us now)
{
	struct uds_job *j = ctx;

	if (j->key_ready && j->key_same_pass) {
		j->key_same_pass = false; /* the next pass reads the clock again */
	} else if (j->key_ready) {
		char why[sizeof(j->key_why)];

		j->key_ready = false;
		snprintf(why, sizeof(why), "%s", j->key_why);
		uds_job_key_done(j, j->key_err, j->key_buf, j->key_len, why, now);
		memset(j->key_buf, 0, sizeof(j->key_buf));
	}
	if (j->state == JOB_DELAY && now >= j->delay_until) {
		start_prog(j, now);
		return;
	}
	if (j->state != JOB_PROG)
		return;
	isotp_tick(j->tp, now);
	check_tx(j, now);
	/* While a request is still leaving, its P2 has not started yet. */
	if (!j->tx_busy)
		uds_prog_tick(&j->prog, now);
	collect(j);
}

static int job_output(void *ctx, struct bus_frame *f, fota_us now)
{
	struct uds_job *j = ctx;
	const uint8_t *pdu;
	size_t len;

	if (j->state == JOB_SWITCH) {
		struct uds_job_event ev = { .type = UDS_JOB_EV_SWITCH_SENT, .now = now };

		*f = j->ecu.bootloader_switch;
		j->state = JOB_DELAY;
		j->delay_until = now + FOTA_MS(j->ecu.bootloader_switch_delay_ms);
		if (j->cfg.on_event)
			j->cfg.on_event(j->cfg.event_ctx, &ev);
		return 1;
	}
	if (j->state != JOB_PROG)
		return 0;
	if (uds_client_tp_due(uds_prog_client(&j->prog), now)) {
		/*
		 * Functional TesterPresent: one SF on another id, so it may go
		 * between the consecutive frames of a physical transfer
		 * (ISO 15765-2 keeps the channels apart by id).
		 */
		static const uint8_t tp[2] = { UDS_SID_TESTER_PRESENT, UDS_SUPPRESS_POS_RSP };

		uds_client_tp_sent(uds_prog_client(&j->prog), now);
		if (!isotp_sf_frame(j->tp, cfg_ecu_functional_id(&j->ecu), tp, sizeof(tp), f)) {
			j->tp_frames++;
			return 1;
		}
	}
	if (!j->tx_busy && uds_prog_output(&j->prog, &pdu, &len, now) == 1) {
		int err = isotp_send(j->tp, pdu, len, now);

		if (err) {
			/* Cannot happen with tx_busy tracked; treat as unsent (P2 runs out). */
			j->tx_err = err;
		} else {
			j->tx_busy = true;
			j->tx_err = 0;
		}
	}
	collect(j);
	if (isotp_output(j->tp, f, now) == 1) {
		check_tx(j, now);
		return 1;
	}
	check_tx(j, now);
	return 0;
}

static fota_us job_deadline(void *ctx)
{
	struct uds_job *j = ctx;
	fota_us d;

	switch (j->state) {
	case JOB_SWITCH:
		return 0;
	case JOB_DELAY:
		return j->delay_until;
	case JOB_PROG:
		if (j->key_ready)
			return 0;
		d = isotp_deadline(j->tp);
		if (!j->tx_busy)
			d = fota_min_deadline(d, uds_prog_deadline(&j->prog));
		return fota_min_deadline(d, uds_client_tp_deadline(&j->prog.client));
	default:
		return FOTA_NEVER;
	}
}

static bool job_done(void *ctx)
{
	struct uds_job *j = ctx;

	return !j->cfg.keep_running && j->state == JOB_DONE;
}

const struct loop_member_ops uds_job_member_ops = {
	.input = job_input,
	.tick = job_tick,
	.output = job_output,
	.deadline = job_deadline,
	.done = job_done,
};

int uds_job_result(const struct uds_job *j, struct uds_job_result *res)
{
	if (res)
		*res = j->res;
	return j->res.err;
}

void uds_job_progress(const struct uds_job *j, uint64_t *done, uint64_t *total)
{
	uint64_t t = 0;

	if (j->state == JOB_IDLE) {
		for (size_t i = 0; i < j->nseg; i++)
			t += j->seg[i].len;
		if (done)
			*done = 0;
		if (total)
			*total = t;
		return;
	}
	uds_prog_progress(&j->prog, done, total);
	if (total && !*total)
		for (size_t i = 0; i < j->nseg; i++)
			*total += j->seg[i].len;
}

const struct uds_prog_cfg *uds_job_prog_cfg(const struct uds_job *j)
{
	return &j->prog.cfg; /* with uds_prog_init()'s defaults filled in */
}

const struct uds_segment *uds_job_segments(const struct uds_job *j, size_t *n)
{
	*n = j->nseg;
	return j->seg;
}

const struct uds_segment *uds_job_erase_ranges(const struct uds_job *j, size_t *n)
{
	if (!j->pcfg.erase) {
		*n = 0;
		return NULL;
	}
	if (j->pcfg.nerase_ranges) {
		*n = j->pcfg.nerase_ranges;
		return j->pcfg.erase_ranges;
	}
	*n = j->nseg;
	return j->seg;
}

uint32_t uds_job_rx_filter(const struct uds_job *j)
{
	return bus_filter_norm(j->ecu.response_id | (j->ecu.extended ? BUS_FILTER_EFF : 0));
}

struct isotp *uds_job_isotp(struct uds_job *j)
{
	return j->tp;
}

uint64_t uds_job_tp_frames(const struct uds_job *j)
{
	return j->tp_frames;
}

const struct uds_rdbi *uds_job_identity(const struct uds_job *j, bool after)
{
	return uds_prog_identity(&j->prog, after);
}
