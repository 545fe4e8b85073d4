// SPDX-License-Identifier: MIT
/* The TCU of fota serve: update machine actions -> effects (cmd/serve_tcu.h). */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "cmd/cmd.h"
#include "cmd/common.h"
#include "cmd/serve_tcu.h"
#include "core/file.h"
#include "core/log.h"
#include "uds/job.h"
#include "uds/key.h"

/* ---- clock ---- */

uint32_t tcu_time_scale(void)
{
	const char *e = getenv("FOTA_TIME_SCALE");
	uint32_t v;

	if (!e || !*e)
		return 1;
	if (fota_parse_u32(e, 1, 100000, &v)) {
		fota_warn("FOTA_TIME_SCALE='%s' ignored (1..100000)", e);
		return 1;
	}
	if (v > 1)
		fota_warn("FOTA_TIME_SCALE=%" PRIu32 ": the update clock runs %" PRIu32
			  "x fast (for tests only)",
			  v, v);
	return v;
}

uint32_t tcu_wall(const struct tcu *t, fota_us now)
{
	uint64_t d = now >= t->mono0 ? now - t->mono0 : 0;

	return t->wall_fn() + (uint32_t)(d * (t->scale - 1) / FOTA_SEC(1));
}

void tcu_clock(struct tcu *t, fota_us now)
{
	upd_set_clock(&t->u, now, tcu_wall(t, now));
}

const char *tcu_current_id(const struct tcu *t)
{
	return t->u.update_request_id;
}

/* ---- the current request's report ---- */

/*
 * The current update's report is written in the loop, before the SDO answer
 * that follows the change goes out: a platform (or an HMI script) that sees
 * a final update_status finds the report final too.
 */
static void report_save(struct tcu *t)
{
	int err;

	if (!t->have_rep)
		return;
	err = cmd_serve_report_write(&t->rep, t->p->outbox);
	if (err)
		fota_error_errno(err, "%s/%s", t->p->outbox, t->rep.file);
}

/*
 * The move of the approved request to done/ costs two directory fsyncs: the
 * file worker does it. A power cut before it happens is mended at the
 * restart (a request with the current id moves to done/ then).
 */
struct movejob {
	char inbox[CFG_PATH_MAX + 16], done[CFG_PATH_MAX + 16], name[CMD_SERVE_NAME_MAX];
	int err;
};

static void movejob_run(void *arg, const atomic_bool *cancel)
{
	struct movejob *m = arg;

	m->err = cmd_serve_move_done(m->inbox, m->done, m->name);
}

static void movejob_done(void *ctx, void *arg, bool ran)
{
	struct movejob *m = arg;

	if (!ran)
		movejob_run(m, NULL); /* the worker stopped first: do it here */
	if (m->err)
		fota_warn("%s/%s: cannot move to %s: %s", m->inbox, m->name, m->done,
			  strerror(-m->err));
	free(m);
}

static void move_request_done(struct tcu *t)
{
	struct movejob *m = calloc(1, sizeof(*m));

	if (!m) {
		fota_error_errno(-ENOMEM, "%s/%s", t->p->inbox, t->req_name);
		return;
	}
	snprintf(m->inbox, sizeof(m->inbox), "%s", t->p->inbox);
	snprintf(m->done, sizeof(m->done), "%s", t->p->done);
	snprintf(m->name, sizeof(m->name), "%s", t->req_name);
	if (!t->filew || fota_worker_submit(t->filew, movejob_run, movejob_done, NULL, m, false)) {
		movejob_run(m, NULL);
		movejob_done(NULL, m, true);
	}
}

/* Copy the 0x5FF3 objects into the report and write it. */
static void report_sync(struct tcu *t)
{
	struct cmd_serve_report *r = &t->rep;
	const struct upd *u = &t->u;

	if (!t->have_rep)
		return;
	cmd_serve_report_set_str(r, "status",
				 u->state == UPD_ST_AVAILABLE ?
					 CMD_SERVE_PENDING :
					 cmd_serve_platform_status(u->update_status, true));
	cmd_serve_report_set_int(r, "update_status", u->update_status);
	cmd_serve_report_set_str(r, "update_status_text", upd_status_str(u->update_status));
	cmd_serve_report_set_int(r, "attempts", u->update_attempts_counter);
	cmd_serve_report_set_time(r, "update_available_time", u->update_available_time);
	cmd_serve_report_set_time(r, "update_start_time", u->update_start_time);
	cmd_serve_report_set_time(r, "update_end_time", u->update_end_time);
	cmd_serve_report_set_int(r, "update_progress", u->update_progress);
	report_save(t);
}

/* The current report from the outbox, or a new one. */
static void report_open(struct tcu *t, const char *id, const char *request_file, fota_us now)
{
	if (t->have_rep)
		cmd_serve_report_release(&t->rep);
	t->have_rep = !cmd_serve_report_load(&t->rep, t->p->outbox, id) ||
		      !cmd_serve_report_new(&t->rep, id, request_file, tcu_wall(t, now));
}

static void report_pkg(struct tcu *t)
{
	const struct cmd_serve_pkg *p = &t->pkg;

	if (!t->have_rep || !p->id_known)
		return;
	cmd_serve_report_set_str(&t->rep, "ecu", p->req.ecu);
	cmd_serve_report_set_str(&t->rep, "firmware", p->req.firmware);
	cmd_serve_report_set_str(&t->rep, "sha256", p->req.sha256_hex);
	if (p->req.version[0])
		cmd_serve_report_set_str(&t->rep, "version", p->req.version);
	json_object_object_add(t->rep.o, "signed", json_object_new_boolean(p->signed_ok));
	if (p->bytes)
		cmd_serve_report_set_int(&t->rep, "image_bytes", (int64_t)p->bytes);
}

/*
 * Rollback protection: the version of an update that ended successful is
 * the ECU's installed one. Taken from the report, which holds the ECU and
 * version also after a restart while waiting for the health check.
 * Written before the state file says 0x40: a cut in between errs on the
 * side of the higher version.
 */
static void record_version(struct tcu *t)
{
	json_object *e, *v;
	int err;

	if (!t->have_rep || !json_object_object_get_ex(t->rep.o, "ecu", &e) ||
	    !json_object_object_get_ex(t->rep.o, "version", &v) ||
	    !json_object_is_type(e, json_type_string) ||
	    !json_object_is_type(v, json_type_string) || !cfg_version_ok(json_object_get_string(v)))
		return;
	err = cmd_serve_version_raise(t->p->dir, json_object_get_string(e),
				      json_object_get_string(v));
	if (err)
		fota_error_errno(err, "%s/%s: cannot record version %s of ECU %s", t->p->dir,
				 CMD_SERVE_VERSIONS, json_object_get_string(v),
				 json_object_get_string(e));
}

static void report_log(struct tcu *t, fota_us now, const char *event, const char *msg)
{
	if (t->have_rep)
		cmd_serve_report_log(&t->rep, tcu_wall(t, now), event, NULL, -1, 0, msg);
}

static void report_reason(struct tcu *t, const char *reason)
{
	if (t->have_rep)
		cmd_serve_report_set_str(&t->rep, "reason", reason);
}

/* ---- the job ---- */

static void job_event(void *ctx, const struct uds_job_event *ev)
{
	struct tcu *t = ctx;
	const struct uds_prog_event *p = ev->prog;
	uint32_t wall = tcu_wall(t, ev->now);
	char msg[160];

	if (ev->type != UDS_JOB_EV_PROG || !p)
		return;
	switch (p->type) {
	case UDS_PROG_EV_STEP_DONE:
		if (p->err)
			snprintf(msg, sizeof(msg), "%s", p->nrc ? "refused" : strerror(-p->err));
		if (t->have_rep)
			cmd_serve_report_log(&t->rep, wall, p->err ? "step_failed" : "step",
					     uds_prog_step_str(p->step), p->segment, p->nrc,
					     p->err ? msg : NULL);
		fota_step("update %s: %s %s", tcu_current_id(t), uds_prog_step_str(p->step),
			  p->err ? "failed" : "ok");
		break;
	case UDS_PROG_EV_RETRY:
		snprintf(msg, sizeof(msg), "no response: block 0x%02x sent again (retry %u)",
			 p->bsc, p->attempt);
		if (t->have_rep)
			cmd_serve_report_log(&t->rep, wall, "retry", uds_prog_step_str(p->step),
					     p->segment, 0, msg);
		fota_warn("update %s: TransferData %s", tcu_current_id(t), msg);
		break;
	case UDS_PROG_EV_PROGRESS:
		if (p->total) {
			unsigned pct = (unsigned)(p->done * 100 / p->total);

			upd_set_progress(&t->u, pct, ev->now);
			if (pct / 10 > t->pct_logged / 10 && pct < 100) {
				t->pct_logged = pct;
				fota_info("update %s: flashing %u%%", tcu_current_id(t), pct);
			}
		}
		break;
	default:
		break;
	}
}

/* A seed/key computation in the key worker: a cmd: program may run for seconds. */
struct keyjob {
	struct tcu *t;
	unsigned gen;
	const struct cfg_key *key; /* the configuration's: read-only while serve runs */
	uint8_t level;
	uint8_t seed[UDS_KEY_MAX], out[UDS_KEY_MAX];
	size_t n, klen;
	int err;
	char why[128];
};

static void key_run(void *arg, const atomic_bool *cancel)
{
	struct keyjob *k = arg;

	k->err = uds_key_compute_detail(k->key, k->level, k->seed, k->n, k->out, sizeof(k->out),
					&k->klen, k->why, sizeof(k->why));
}

static void key_done(void *ctx, void *arg, bool ran)
{
	struct keyjob *k = arg;
	struct tcu *t = k->t;
	fota_us now = fota_now();

	if (ran && t->job && k->gen == t->job_gen) {
		tcu_clock(t, now);
		uds_job_key_done(t->job, k->err, k->out, k->klen, k->why, now);
		tcu_process(t, now);
	}
	memset(k, 0, sizeof(*k)); /* no key bytes left behind */
	free(k);
}

static int key_async(void *ctx, const struct cfg_key *key, uint8_t level, const uint8_t *seed,
		     size_t n)
{
	struct tcu *t = ctx;
	struct keyjob *k;

	if (n > UDS_KEY_MAX)
		return -EINVAL;
	k = calloc(1, sizeof(*k));
	if (!k)
		return -ENOMEM;
	k->t = t;
	k->gen = t->job_gen;
	k->key = key;
	k->level = level;
	k->n = n;
	memcpy(k->seed, seed, n);
	if (fota_worker_submit(t->keyw, key_run, key_done, t, k, true)) {
		free(k);
		return -ENOMEM;
	}
	return -EINPROGRESS;
}

static void flash_failed(struct tcu *t, const char *why, fota_us now)
{
	snprintf(t->fail_reason, sizeof(t->fail_reason), "%s", why);
	upd_handle(&t->u, UPD_EV_FLASH_FAILED, now);
}

static void job_start(struct tcu *t, fota_us now)
{
	struct uds_job_cfg jc = {
		.ecu = t->pkg.ecu,
		.img = &t->pkg.img,
		.bootloader_switch = false, /* sent by us on approval, delay kept by the machine */
		.keep_running = true,
		.on_event = job_event,
		.event_ctx = t,
		.key_async = t->keyw ? key_async : NULL,
		.key_async_ctx = t,
	};
	struct uds_job_result res = { 0 };
	int err;

	if (t->have_pkg) {
		const struct cfg_request *rq = &t->pkg.req;

		memcpy(t->ident, t->pkg.ecu->identify, t->pkg.ecu->nidentify * sizeof(t->ident[0]));
		t->nident = t->pkg.ecu->nidentify;
		for (size_t i = 0; i < rq->nexpect; i++) {
			size_t k = 0;

			while (k < t->nident && t->ident[k] != rq->expect[i].did)
				k++;
			if (k == t->nident)
				t->ident[t->nident++] = rq->expect[i].did;
			t->expect[i].did = rq->expect[i].did;
			t->expect[i].value = rq->expect[i].value;
		}
		jc.identify = t->ident;
		jc.nidentify = t->nident;
		jc.expect = t->expect;
		jc.nexpect = rq->nexpect;
	}
	if (!t->have_pkg) {
		if (t->resuming) {
			t->start_pending = true; /* the package is still being verified */
			return;
		}
		flash_failed(t, "no firmware loaded", now);
		return;
	}
	t->job_gen++;
	err = uds_job_new(&t->job, &jc, &res);
	if (!err) {
		err = uds_job_start(t->job, now);
		if (err)
			snprintf(res.msg, sizeof(res.msg), "cannot start: %s", strerror(-err));
	}
	if (err) {
		flash_failed(t, res.msg[0] ? res.msg : strerror(-err), now);
		return;
	}
	t->pct_logged = 0;
	fota_info("update %s: programming ECU %s (UDS on 0x%03" PRIx32 "/0x%03" PRIx32 ")",
		  tcu_current_id(t), t->pkg.ecu->name, t->pkg.ecu->request_id,
		  t->pkg.ecu->response_id);
}

static void job_poll(struct tcu *t, fota_us now)
{
	struct uds_job_result res;
	int r;

	if (!t->job || t->u.state != UPD_ST_FLASHING)
		return;
	r = uds_job_result(t->job, &res);
	if (r == -EINPROGRESS || r == -ENOENT)
		return;
	if (t->nident && t->have_rep)
		json_object_object_add(t->rep.o, "identify",
				       cmd_identity_json(uds_job_identity(t->job, false),
							 uds_job_identity(t->job, true), t->ident,
							 t->nident));
	if (r == 0)
		upd_handle(&t->u, UPD_EV_FLASH_OK, now);
	else
		flash_failed(t, res.msg[0] ? res.msg : strerror(-r), now);
}

/*
 * What an update leaves when it ends: its parsed image (maybe hundreds of
 * MB to give back) and its private firmware copy (as large, to unlink).
 * Both are slow enough to show in SDO response times, so the file worker
 * does them when there is one.
 */
struct leftovers {
	struct cmd_serve_pkg pkg;
	bool have_pkg;
	char copy[CFG_PATH_MAX + 64], dir[CFG_PATH_MAX + 16];
};

static void leftovers_run(void *arg, const atomic_bool *cancel)
{
	struct leftovers *l = arg;

	if (l->have_pkg)
		cmd_serve_pkg_release(&l->pkg);
	l->have_pkg = false;
	if (l->copy[0] && !unlink(l->copy))
		fota_fsync_dir(l->dir);
}

static void leftovers_done(void *ctx, void *arg, bool ran)
{
	if (!ran)
		leftovers_run(arg, NULL); /* the worker stopped first: do it here */
	free(arg);
}

/* The current update's package and private copy, released and removed. */
static void drop_files(struct tcu *t)
{
	struct leftovers *l = calloc(1, sizeof(*l));
	struct leftovers here = { 0 };

	if (!l)
		l = &here;
	l->pkg = t->pkg;
	l->have_pkg = t->have_pkg;
	t->have_pkg = false;
	memset(&t->pkg, 0, sizeof(t->pkg));
	if (tcu_current_id(t)[0])
		snprintf(l->copy, sizeof(l->copy), "%s/%s", t->p->firmware, tcu_current_id(t));
	snprintf(l->dir, sizeof(l->dir), "%s", t->p->firmware);
	if (l != &here && t->filew &&
	    !fota_worker_submit(t->filew, leftovers_run, leftovers_done, NULL, l, false))
		return;
	leftovers_run(l, NULL);
	if (l != &here)
		free(l);
}

static void drop_current(struct tcu *t)
{
	if (t->job) {
		uds_job_free(t->job);
		t->job = NULL;
	}
	t->req_name[0] = '\0';
	drop_files(t); /* the copy is not needed past the final status */
}

/* ---- actions ---- */

/* One log line (and report entry) per state entered. */
static void log_state(struct tcu *t, fota_us now)
{
	const struct upd *u = &t->u;
	const char *id = tcu_current_id(t);
	char msg[384];

	if (u->state == t->seen)
		return;
	t->seen = u->state;
	switch (u->state) {
	case UPD_ST_BOOTLOADER:
		fota_info("update %s: approved", id);
		report_log(t, now, "approved", NULL);
		break;
	case UPD_ST_FLASHING:
		report_log(t, now, "flashing", NULL);
		break;
	case UPD_ST_VERIFY:
		if (u->ecu_health_check_timeout)
			snprintf(
				msg, sizeof(msg),
				"ECU flashed, waiting for OEM health verification (timeout %u min)",
				u->ecu_health_check_timeout);
		else
			snprintf(msg, sizeof(msg),
				 "ECU flashed, waiting for OEM health verification (no timeout)");
		fota_info("update %s: %s", id, msg);
		report_log(t, now, "flashed", msg);
		break;
	case UPD_ST_SUCCESS:
		fota_info("update %s: health check ok: update successful (0x40)", id);
		record_version(t);
		report_log(t, now, "health_ok", NULL);
		break;
	case UPD_ST_FLASH_FAILED:
		fota_error("update %s: %s: flashing failed (0x50)", id,
			   t->fail_reason[0] ? t->fail_reason : "unknown reason");
		report_log(t, now, "failed", t->fail_reason);
		report_reason(t, t->fail_reason);
		break;
	case UPD_ST_VERIFY_FAILED:
		fota_error("update %s: health check failed (0x51)", id);
		report_log(t, now, "health_fail", NULL);
		report_reason(t, "OEM health check failed");
		break;
	case UPD_ST_VERIFY_TIMEOUT:
		snprintf(msg, sizeof(msg), "no health check result within %u min",
			 u->ecu_health_check_timeout);
		fota_error("update %s: %s: verification timeout (0x52)", id, msg);
		report_log(t, now, "health_timeout", msg);
		report_reason(t, msg);
		break;
	case UPD_ST_CANCELLED:
		if (!t->cancel_reason[0])
			snprintf(t->cancel_reason, sizeof(t->cancel_reason),
				 "rejected by the operator (apply_update 0x02)");
		fota_info("update %s: %s: update cancelled (0x60)", id, t->cancel_reason);
		report_log(t, now, "cancelled", t->cancel_reason);
		report_reason(t, t->cancel_reason);
		break;
	default:
		break;
	}
}

void tcu_process(struct tcu *t, fota_us now)
{
	unsigned act;
	int err;

	job_poll(t, now);
	while ((act = upd_take_actions(&t->u)) != 0 || t->u.state != t->seen) {
		log_state(t, now);
		if (act & UPD_ACT_PERSIST) {
			err = upd_save(&t->u, t->p->dir);
			if (err && err != t->save_err)
				fota_error_errno(err, "%s/%s: cannot save the state", t->p->dir,
						 UPD_STATE_FILE);
			t->save_err = err;
		}
		if (act & UPD_ACT_BOOTLOADER_FRAME) {
			/* approved: the request is consumed, its removal no longer cancels */
			if (t->req_name[0])
				move_request_done(t);
			t->req_name[0] = '\0';
			if (t->have_pkg && t->pkg.ecu->has_bootloader_switch) {
				t->switch_pending = true;
				report_log(t, now, "bootloader_switch", NULL);
				fota_info(
					"update %s: bootloader switch frame sent, waiting %" PRIu32
					" ms",
					tcu_current_id(t), t->pkg.ecu->bootloader_switch_delay_ms);
			}
		}
		if (act & UPD_ACT_START_FLASH)
			job_start(t, now);
		if (act & UPD_ACT_FINISHED) {
			report_sync(t);
			drop_current(t);
			t->fail_reason[0] = t->cancel_reason[0] = '\0';
		} else if (act & UPD_ACT_REPORT) {
			report_sync(t);
		}
		job_poll(t, now);
	}
	/* SDO write hooks and offers change the objects before this runs: compare with what was told */
	if (t->on_status &&
	    (t->u.update_status != t->told_status || t->u.update_available != t->told_available)) {
		t->told_status = t->u.update_status;
		t->told_available = t->u.update_available;
		t->on_status(t->status_ctx, &t->u);
	}
}

bool tcu_offerable(const struct tcu *t)
{
	const struct upd *u = &t->u;

	return !t->have_pkg && !t->resuming && u->state != UPD_ST_AVAILABLE &&
	       (u->state == UPD_ST_IDLE || upd_status_final(u->update_status));
}

int tcu_offer(struct tcu *t, struct cmd_serve_pkg *pkg, const char *req_name, fota_us now)
{
	const struct cfg_ecu *e = pkg->ecu;
	uint32_t can_id = e->request_id | (e->extended ? 0x20000000u : 0);
	int err;

	tcu_clock(t, now);
	err = upd_offer(&t->u, pkg->req.id, can_id,
			e->has_bootloader_switch ? e->bootloader_switch_delay_ms : 0, now);
	if (err) {
		fota_error("update %s: cannot offer: %s", pkg->req.id, strerror(-err));
		return err;
	}
	t->pkg = *pkg;
	memset(pkg, 0, sizeof(*pkg));
	t->have_pkg = true;
	snprintf(t->req_name, sizeof(t->req_name), "%s", req_name);
	report_open(t, t->pkg.req.id, req_name, now);
	report_pkg(t);
	report_reason(t, NULL);
	fota_info("update %s: offered (ecu %s, %" PRIu64 " bytes)", t->pkg.req.id, e->name,
		  t->pkg.bytes);
	report_log(t, now, "offered", NULL);
	t->seen = UPD_ST_AVAILABLE;
	tcu_process(t, now);
	return 0;
}

void tcu_resume(struct tcu *t, struct cmd_serve_pkg *pkg, const char *req_name, fota_us now)
{
	t->resuming = false;
	t->pkg = *pkg;
	memset(pkg, 0, sizeof(*pkg));
	t->have_pkg = true;
	snprintf(t->req_name, sizeof(t->req_name), "%s", req_name);
	upd_set_boot_delay(&t->u, t->pkg.ecu->has_bootloader_switch ?
					  t->pkg.ecu->bootloader_switch_delay_ms :
					  0);
	report_pkg(t);
	fota_info("update %s: still offered (ecu %s, %" PRIu64 " bytes)", tcu_current_id(t),
		  t->pkg.ecu->name, t->pkg.bytes);
	if (t->start_pending) {
		/* approved while the package was being verified again */
		t->start_pending = false;
		t->req_name[0] = '\0';
		job_start(t, now);
	}
	tcu_process(t, now);
}

void tcu_cancel_offer(struct tcu *t, const char *reason, fota_us now)
{
	t->resuming = false;
	if (t->u.state != UPD_ST_AVAILABLE && !t->start_pending) {
		fota_warn("update %s: cancel ignored: the update was already approved",
			  tcu_current_id(t));
		return;
	}
	if (t->start_pending) {
		/* approved, but its package could not be verified again */
		t->start_pending = false;
		flash_failed(t, reason, now);
	} else {
		snprintf(t->cancel_reason, sizeof(t->cancel_reason), "%s", reason);
		upd_handle(&t->u, UPD_EV_CANCEL, now);
	}
	tcu_process(t, now);
}

void tcu_init(struct tcu *t, const struct fota_config *cfg, const struct serve_paths *p,
	      struct worker *keyw, fota_us now)
{
	memset(t, 0, sizeof(*t));
	t->cfg = cfg;
	t->p = p;
	t->keyw = keyw;
	t->wall_fn = fota_wall_time;
	t->mono0 = now;
	t->scale = 1;
	upd_init(&t->u);
}

int tcu_start(struct tcu *t, fota_us now)
{
	struct upd_error ue = { 0 };
	int err;

	upd_set_time_scale(&t->u, t->scale);
	err = upd_load(&t->u, t->p->dir, &ue);
	if (err == -EBADMSG) {
		fota_error("%s/%s:%u: %s", t->p->dir, UPD_STATE_FILE, ue.line, ue.msg);
		return err;
	}
	if (err && err != -ENOENT) {
		fota_error_errno(err, "%s/%s", t->p->dir, UPD_STATE_FILE);
		return err;
	}
	/* first start: 0x62 from the configuration; afterwards the state file's value */
	if (err == -ENOENT)
		t->u.ecu_health_check_timeout = t->cfg->tcu.health_check_timeout_min;
	tcu_clock(t, now);
	t->seen = t->u.state;
	if (t->u.state != UPD_ST_IDLE && tcu_current_id(t)[0])
		report_open(t, tcu_current_id(t), NULL, now);
	if (t->u.state == UPD_ST_BOOTLOADER || t->u.state == UPD_ST_FLASHING) {
		snprintf(t->fail_reason, sizeof(t->fail_reason), "TCU restarted during %s",
			 t->u.state == UPD_ST_FLASHING ? "flashing" : "the bootloader transition");
		report_log(t, now, "restart", t->fail_reason);
	}
	upd_handle(&t->u, UPD_EV_BOOT, now);
	/*
	 * A power cut between the state save and the report write leaves the
	 * report behind the state (say "in progress" at 0x40): bring it level.
	 * It is idempotent. Likewise the private copy of an update that ended.
	 */
	if (t->have_rep)
		report_sync(t);
	/* (while offered, update_status still shows the previous update's end) */
	if (t->u.state != UPD_ST_AVAILABLE &&
	    (t->u.state == UPD_ST_IDLE || upd_status_final(t->u.update_status)))
		drop_files(t);
	if (t->u.state == UPD_ST_AVAILABLE)
		t->resuming = true;
	else if (t->u.state == UPD_ST_VERIFY)
		fota_info("update %s: still waiting for OEM health verification",
			  tcu_current_id(t));
	tcu_process(t, now);
	return 0;
}

void tcu_stop(struct tcu *t, int signo, fota_us now)
{
	tcu_clock(t, now);
	if (t->u.state == UPD_ST_BOOTLOADER || t->u.state == UPD_ST_FLASHING) {
		char why[64];

		if (t->job)
			uds_job_cancel(t->job);
		snprintf(why, sizeof(why), "TCU stopped (signal %d) during flashing", signo);
		flash_failed(t, why, now);
	}
	tcu_process(t, now);
}

void tcu_release(struct tcu *t)
{
	if (t->job)
		uds_job_free(t->job);
	t->job = NULL;
	if (t->have_pkg)
		cmd_serve_pkg_release(&t->pkg);
	t->have_pkg = false;
	if (t->have_rep)
		cmd_serve_report_release(&t->rep);
	t->have_rep = false;
}

/* ---- loop member: the job's frames and the bootloader switch frame ---- */

static void m_input(void *ctx, const struct bus_frame *f, fota_us now)
{
	struct tcu *t = ctx;

	if (!t->job)
		return;
	tcu_clock(t, now);
	uds_job_member_ops.input(t->job, f, now);
	tcu_process(t, now);
}

static void m_tick(void *ctx, fota_us now)
{
	struct tcu *t = ctx;

	tcu_clock(t, now);
	if (t->job && uds_job_member_ops.tick)
		uds_job_member_ops.tick(t->job, now);
	upd_tick(&t->u, now);
	tcu_process(t, now);
}

static int m_output(void *ctx, struct bus_frame *f, fota_us now)
{
	struct tcu *t = ctx;

	if (t->switch_pending) {
		t->switch_pending = false;
		if (t->have_pkg) {
			*f = t->pkg.ecu->bootloader_switch;
			return 1;
		}
	}
	return t->job ? uds_job_member_ops.output(t->job, f, now) : 0;
}

static fota_us m_deadline(void *ctx)
{
	struct tcu *t = ctx;
	fota_us d = upd_deadline(&t->u);

	if (t->switch_pending)
		return 0;
	if (t->job && uds_job_member_ops.deadline)
		d = fota_min_deadline(d, uds_job_member_ops.deadline(t->job));
	return d;
}

const struct loop_member_ops tcu_member_ops = {
	.input = m_input,
	.tick = m_tick,
	.output = m_output,
	.deadline = m_deadline,
};
