// SPDX-License-Identifier: MIT
/*
 * fota serve: the TCU as a CANopen node. CiA 301 SDO server (§7.2.4.3) over
 * the 0x5FF3 table of ../shared/seeds/canopen-specification.txt (sdo/fota_od.h),
 * NMT slave (§7.2.8.3.2: boot-up, start/stop/pre-operational/reset) and
 * heartbeat producer (§7.2.8.3.2.4, object 0x1017), driving the update state
 * machine (core/update.h): update requests from STATE_DIR/inbox, reports to
 * STATE_DIR/outbox, the UDS programming job (uds/job.h) after approval.
 * Documented in man/fota-serve.1.
 */
#include <dirent.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "cmd/cmd.h"
#include "cmd/common.h"
#include "cmd/serve.h"
#include "core/file.h"
#include "core/bus.h"
#include "core/config.h"
#include "core/loop.h"
#include "core/notify.h"
#include "core/update.h"
#include "hex/image.h"
#include "sdo/fota_od.h"
#include "sdo/sdo.h"
#include "sdo/server.h"
#include "uds/job.h"
#include "uds/uds.h"

static const char *const serve_usage[] = {
	"fota serve [-b BUS] [-c FILE] [-n ID] [--state-dir DIR] [--trace FILE] [--syslog] [-v|-q]",
	NULL,
};

#define KEY_STATE_DIR FOTA_OPT_LONG(1)
#define KEY_SYSLOG    FOTA_OPT_LONG(2)

static const struct fota_opt serve_opts[] = {
	FOTA_OPT_BUS,
	FOTA_OPT_CONFIG,
	FOTA_OPT_NODE,
	{ KEY_STATE_DIR, "state-dir", "DIR",
	  "state directory: state file, inbox/, outbox/, done/ (default: config, /var/lib/fota)",
	  FOTA_OPT_DIR },
	FOTA_OPT_TRACE,
	{ KEY_SYSLOG, "syslog", NULL, "log to syslog (daemon facility) instead of stderr", 0 },
	FOTA_OPT_VERBOSE,
	FOTA_OPT_QUIET,
	FOTA_OPT_END,
};

/* NMT (CiA 301 §7.2.8.3.1): COB-ID 0x000, bytes: command specifier, node-ID (0 = all). */
#define NMT_COB		  0x000u
#define NMT_CS_START	  0x01u
#define NMT_CS_STOP	  0x02u
#define NMT_CS_PREOP	  0x80u
#define NMT_CS_RESET_NODE 0x81u
#define NMT_CS_RESET_COMM 0x82u
/* Error control COB-ID 0x700+node; the state byte of boot-up and heartbeat (§7.2.8.3.2). */
#define NMT_ERRCTL_COB	      0x700u
#define NMT_ST_BOOTUP	      0x00u
#define NMT_ST_STOPPED	      0x04u
#define NMT_ST_OPERATIONAL    0x05u
#define NMT_ST_PREOPERATIONAL 0x7Fu

#define SERVE_RESCAN_US FOTA_SEC(5) /* inotify fallback: full inbox rescan period */
#define SERVE_SETTLE_S	2	    /* a request that fails to parse this fresh may be mid-write */
#define SERVE_QUEUE	16

/* A request seen in the inbox and not yet offered (its pending report exists). */
struct queued {
	char name[CMD_SERVE_NAME_MAX];
	char id[CFG_UUID_LEN + 1]; /* "" if the file did not parse (yet) */
};

struct serve {
	struct fota_config cfg;
	char dir[CFG_PATH_MAX], inbox[CFG_PATH_MAX + 8], outbox[CFG_PATH_MAX + 8],
		done[CFG_PATH_MAX + 8];
	uint8_t node;
	struct loop loop;
	struct upd u;
	struct fota_od fo;
	struct sdo_server sdo;
	struct fota_notify notify; /* systemd: READY, STATUS, watchdog (core/notify.h) */

	/* NMT slave and heartbeat */
	uint8_t nmt;
	uint16_t hb_ms;
	fota_us hb_next;
	struct bus_frame q[SERVE_QUEUE]; /* our own frames: boot-up, heartbeat, switch */
	unsigned qhead, qn;

	/* wall clock seen by the update machine (FOTA_TIME_SCALE speeds it for tests) */
	fota_us mono0;
	uint32_t wall0;
	uint32_t scale;

	/* inbox */
	int ino;
	bool rescan;
	fota_us next_scan;
	struct queued *known;
	size_t nknown;

	/* the current update: offered, or running */
	bool have_pkg;
	struct cmd_serve_pkg pkg;
	char req_name[CMD_SERVE_NAME_MAX]; /* its file in the inbox, "" once approved */
	bool have_rep;
	struct cmd_serve_report rep;
	struct uds_job *job;
	enum upd_state seen; /* last state logged */
	unsigned pct_logged;
	char fail_reason[896]; /* why flashing failed (job result) */
	char cancel_reason[896];
	int save_err;
	int fatal;
};

/* ---- clock ---- */

static uint32_t serve_wall(const struct serve *s, fota_us now)
{
	uint64_t d = now >= s->mono0 ? now - s->mono0 : 0;

	return s->wall0 + (uint32_t)(d * s->scale / FOTA_SEC(1));
}

static void serve_clock(struct serve *s, fota_us now)
{
	upd_set_clock(&s->u, now, serve_wall(s, now));
}

/* ---- own frames ---- */

static void push_frame(struct serve *s, const struct bus_frame *f)
{
	if (s->qn == SERVE_QUEUE) {
		fota_warn("frame queue full: dropping frame 0x%03" PRIx32, f->id);
		return;
	}
	s->q[(s->qhead + s->qn) % SERVE_QUEUE] = *f;
	s->qn++;
}

static void push_errctl(struct serve *s, uint8_t state)
{
	struct bus_frame f = { .id = NMT_ERRCTL_COB + s->node, .len = 1 };

	f.data[0] = state;
	push_frame(s, &f);
}

/* Boot-up (CiA 301 §7.2.8.3.2.5): after power-on and after each reset. */
static void nmt_boot(struct serve *s, fota_us now, bool reset_app)
{
	struct sdo_server_cfg sc = { .node = s->node };

	if (reset_app)
		s->fo.heartbeat_ms = s->cfg.tcu.heartbeat_ms;
	sdo_server_init(&s->sdo, &sc, &s->fo.od); /* an open transfer is abandoned */
	push_errctl(s, NMT_ST_BOOTUP);
	s->nmt = NMT_ST_PREOPERATIONAL;
	s->hb_ms = s->fo.heartbeat_ms;
	s->hb_next = s->hb_ms ? now + FOTA_MS(s->hb_ms) : FOTA_NEVER;
}

static void nmt_input(struct serve *s, const struct bus_frame *f, fota_us now)
{
	if (f->len != 2 || (f->data[1] != 0 && f->data[1] != s->node))
		return;
	switch (f->data[0]) {
	case NMT_CS_START:
		s->nmt = NMT_ST_OPERATIONAL;
		break;
	case NMT_CS_STOP:
		s->nmt = NMT_ST_STOPPED;
		break;
	case NMT_CS_PREOP:
		s->nmt = NMT_ST_PREOPERATIONAL;
		break;
	case NMT_CS_RESET_NODE:
	case NMT_CS_RESET_COMM:
		/*
		 * The update machine is the application; a reset of the node
		 * restarts communication (and 0x1017 from the configuration) but
		 * never interrupts a flash: the ECU would be left half written
		 * for no reason the specification gives.
		 */
		fota_info("NMT reset %s: boot-up",
			  f->data[0] == NMT_CS_RESET_NODE ? "node" : "communication");
		nmt_boot(s, now, true);
		return;
	default:
		return;
	}
	fota_debug("NMT state 0x%02x", s->nmt);
}

static void heartbeat(struct serve *s, fota_us now)
{
	if (s->fo.heartbeat_ms != s->hb_ms) { /* 0x1017 written */
		s->hb_ms = s->fo.heartbeat_ms;
		s->hb_next = s->hb_ms ? now + FOTA_MS(s->hb_ms) : FOTA_NEVER;
	}
	if (s->hb_ms && now >= s->hb_next) {
		push_errctl(s, s->nmt);
		s->hb_next += FOTA_MS(s->hb_ms);
		if (s->hb_next <= now)
			s->hb_next = now + FOTA_MS(s->hb_ms);
	}
}

/* ---- reports ---- */

static const char *cur_id(const struct serve *s)
{
	return s->u.update_request_id;
}

static void report_save(struct serve *s, struct cmd_serve_report *r)
{
	int err = cmd_serve_report_write(r, s->outbox);

	if (err)
		fota_error_errno(err, "%s/%s", s->outbox, r->file);
}

/* Copy the 0x5FF3 objects into the current report and write it. */
static void report_sync(struct serve *s)
{
	struct cmd_serve_report *r = &s->rep;
	const struct upd *u = &s->u;
	const char *txt = upd_status_str(u->update_status);

	if (!s->have_rep)
		return;
	cmd_serve_report_set_str(r, "status",
				 u->state == UPD_ST_AVAILABLE ?
					 CMD_SERVE_PENDING :
					 cmd_serve_platform_status(u->update_status, true));
	cmd_serve_report_set_int(r, "update_status", u->update_status);
	cmd_serve_report_set_str(r, "update_status_text", txt);
	cmd_serve_report_set_int(r, "attempts", u->update_attempts_counter);
	cmd_serve_report_set_time(r, "update_available_time", u->update_available_time);
	cmd_serve_report_set_time(r, "update_start_time", u->update_start_time);
	cmd_serve_report_set_time(r, "update_end_time", u->update_end_time);
	cmd_serve_report_set_int(r, "update_progress", u->update_progress);
	report_save(s, r);
}

/* The current report from the outbox, or a new one (restart, or first offer). */
static void report_open(struct serve *s, const char *id, const char *request_file, fota_us now)
{
	if (s->have_rep)
		cmd_serve_report_release(&s->rep);
	s->have_rep = false;
	if (!cmd_serve_report_load(&s->rep, s->outbox, id) ||
	    !cmd_serve_report_new(&s->rep, id, request_file, serve_wall(s, now)))
		s->have_rep = true;
}

static void report_pkg(struct cmd_serve_report *r, const struct cmd_serve_pkg *p)
{
	if (!p->id_known)
		return;
	cmd_serve_report_set_str(r, "ecu", p->req.ecu);
	cmd_serve_report_set_str(r, "firmware", p->req.firmware);
	cmd_serve_report_set_str(r, "sha256", p->req.sha256_hex);
	if (p->bytes)
		cmd_serve_report_set_int(r, "image_bytes", (int64_t)p->bytes);
}

static void current_log(struct serve *s, fota_us now, const char *event, const char *msg)
{
	if (s->have_rep)
		cmd_serve_report_log(&s->rep, serve_wall(s, now), event, NULL, -1, 0, msg);
}

/* ---- inbox ---- */

/*
 * inbox/NAME -> done/NAME, never replacing a request already archived there
 * (a reused file name gets done/NAME.1, .2, ...), and durable: both
 * directories are synced, so an approved request cannot reappear in the
 * inbox after a power loss.
 */
/* rename() that fails with EEXIST instead of replacing; 9p lacks the flag. */
static int move_noreplace(const char *from, const char *to)
{
	struct stat st;

	if (!renameat2(AT_FDCWD, from, AT_FDCWD, to, RENAME_NOREPLACE))
		return 0;
	if (errno != EINVAL && errno != ENOSYS)
		return -1;
	if (!lstat(to, &st)) {
		errno = EEXIST;
		return -1;
	}
	return rename(from, to);
}

static int move_done(struct serve *s, const char *name)
{
	char from[CFG_PATH_MAX + CMD_SERVE_NAME_MAX + 16],
		to[CFG_PATH_MAX + CMD_SERVE_NAME_MAX + 32];
	int err = 0;

	snprintf(from, sizeof(from), "%s/%s", s->inbox, name);
	snprintf(to, sizeof(to), "%s/%s", s->done, name);
	for (unsigned n = 1; move_noreplace(from, to); n++) {
		if (errno == EEXIST && n < 1000) {
			snprintf(to, sizeof(to), "%s/%s.%u", s->done, name, n);
			continue;
		}
		if (errno == ENOENT)
			return 0;
		err = -errno;
		fota_warn("%s: cannot move to %s: %s", from, s->done, strerror(errno));
		return err;
	}
	fota_fsync_dir(s->done);
	fota_fsync_dir(s->inbox);
	return 0;
}

static bool inbox_has(const struct serve *s, const char *name)
{
	char p[CFG_PATH_MAX + CMD_SERVE_NAME_MAX + 16];
	struct stat st;

	snprintf(p, sizeof(p), "%s/%s", s->inbox, name);
	return stat(p, &st) == 0;
}

static struct queued *known_find(struct serve *s, const char *name)
{
	for (size_t i = 0; i < s->nknown; i++)
		if (!strcmp(s->known[i].name, name))
			return &s->known[i];
	return NULL;
}

static void known_del(struct serve *s, struct queued *q)
{
	size_t i = (size_t)(q - s->known);

	memmove(q, q + 1, (s->nknown - i - 1) * sizeof(*q));
	s->nknown--;
}

static void known_add(struct serve *s, const char *name, const char *id)
{
	struct queued *nk = realloc(s->known, (s->nknown + 1) * sizeof(*nk));

	if (!nk)
		return; /* then it is simply looked at again on the next scan */
	s->known = nk;
	snprintf(nk[s->nknown].name, sizeof(nk[s->nknown].name), "%s", name);
	snprintf(nk[s->nknown].id, sizeof(nk[s->nknown].id), "%s", id ? id : "");
	s->nknown++;
}

/*
 * Has this request id been handled already? Its report says so (anything but
 * pending), or it is the update the objects describe. Request ids are UUIDs:
 * a second request with one is a platform error, and re-running it would
 * overwrite the first one's report.
 */
static bool id_handled(struct serve *s, const char *id)
{
	struct cmd_serve_report r;
	const char *st;
	bool handled = false;

	if (s->u.state != UPD_ST_IDLE && !strcmp(id, cur_id(s)))
		return true;
	if (cmd_serve_report_load(&r, s->outbox, id))
		return false;
	st = cmd_serve_report_status(&r);
	handled = !st || strcmp(st, CMD_SERVE_PENDING);
	cmd_serve_report_release(&r);
	return handled;
}

static bool fresh_file(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && time(NULL) - st.st_mtime < SERVE_SETTLE_S;
}

/*
 * A request that failed verification: report failed with the reason, file
 * moved to done/. Never offered, so no 0x5FF3 object changes.
 */
static void reject_package(struct serve *s, const char *name, const struct cmd_serve_pkg *p,
			   const char *why, fota_us now)
{
	struct cmd_serve_report r;
	const char *id = p->id_known ? p->req.id : NULL;
	uint32_t wall = serve_wall(s, now);

	fota_error("update %s: not offered: %s", id ? id : name, why);
	if ((id && cmd_serve_report_load(&r, s->outbox, id)) || !id) {
		if (cmd_serve_report_new(&r, id, name, wall))
			return;
	}
	report_pkg(&r, p);
	cmd_serve_report_set_str(&r, "status", CMD_SERVE_FAILED);
	cmd_serve_report_set_str(&r, "reason", why);
	cmd_serve_report_log(&r, wall, "rejected", NULL, -1, 0, why);
	report_save(s, &r);
	cmd_serve_report_release(&r);
	move_done(s, name);
}

/* Withdrawn before it was offered: file removed, or a cancel file. */
static void withdraw_queued(struct serve *s, struct queued *q, const char *how, fota_us now)
{
	struct cmd_serve_report r;

	fota_info("update %s: withdrawn before it was offered (%s)", q->id[0] ? q->id : q->name,
		  how);
	if (q->id[0] && !cmd_serve_report_load(&r, s->outbox, q->id)) {
		cmd_serve_report_set_str(&r, "status", CMD_SERVE_CANCELLED);
		cmd_serve_report_set_str(&r, "reason", how);
		cmd_serve_report_log(&r, serve_wall(s, now), "withdrawn", NULL, -1, 0, how);
		report_save(s, &r);
		cmd_serve_report_release(&r);
	}
	move_done(s, q->name);
	known_del(s, q);
}

/* First sight of a request file: verify early so a bad package is reported at once. */
static void first_sight(struct serve *s, const char *name, fota_us now)
{
	char path[CFG_PATH_MAX + CMD_SERVE_NAME_MAX + 16], why[768];
	struct cmd_serve_pkg p;
	struct cmd_serve_report r;
	int err;

	snprintf(path, sizeof(path), "%s/%s", s->inbox, name);
	err = cmd_serve_verify(path, &s->cfg, &p, why, sizeof(why));
	if (err == -ENOENT && !p.id_known)
		return; /* gone meanwhile */
	if (err && !p.id_known && fresh_file(path)) {
		s->rescan = true; /* maybe still being written: look again */
		return;
	}
	if (p.id_known && id_handled(s, p.req.id)) {
		fota_error("update %s: %s: request id already handled; moved to %s", p.req.id, name,
			   s->done);
		if (!err)
			cmd_serve_pkg_release(&p);
		move_done(s, name);
		return;
	}
	if (err) {
		reject_package(s, name, &p, why, now);
		return;
	}
	fota_info("update %s: queued (ecu %s, %" PRIu64 " bytes, %s)", p.req.id, p.req.ecu, p.bytes,
		  name);
	if (cmd_serve_report_new(&r, p.req.id, name, serve_wall(s, now)) == 0) {
		report_pkg(&r, &p);
		cmd_serve_report_log(&r, serve_wall(s, now), "received", NULL, -1, 0, NULL);
		report_save(s, &r);
		cmd_serve_report_release(&r);
	}
	known_add(s, name, p.req.id);
	cmd_serve_pkg_release(&p);
}

static void process(struct serve *s, fota_us now);

/* Offer the oldest queued request (the objects are idle or final). */
static void offer_next(struct serve *s, const struct cmd_serve_entry *v, size_t n, fota_us now)
{
	char path[CFG_PATH_MAX + CMD_SERVE_NAME_MAX + 16], why[768];
	struct queued *q;
	uint32_t can_id;
	int err;

	for (size_t i = 0; i < n && !s->have_pkg; i++) {
		q = known_find(s, v[i].name);
		if (!q)
			continue;
		snprintf(path, sizeof(path), "%s/%s", s->inbox, v[i].name);
		/* verified again: the firmware may have changed while it waited */
		err = cmd_serve_verify(path, &s->cfg, &s->pkg, why, sizeof(why));
		if (err) {
			reject_package(s, v[i].name, &s->pkg, why, now);
			known_del(s, q);
			continue;
		}
		can_id = s->pkg.ecu->request_id | (s->pkg.ecu->extended ? 0x20000000u : 0);
		err = upd_offer(&s->u, s->pkg.req.id, can_id,
				s->pkg.ecu->has_bootloader_switch ?
					s->pkg.ecu->bootloader_switch_delay_ms :
					0,
				now);
		if (err) {
			fota_error("update %s: cannot offer: %s", s->pkg.req.id, strerror(-err));
			cmd_serve_pkg_release(&s->pkg);
			return;
		}
		s->have_pkg = true;
		snprintf(s->req_name, sizeof(s->req_name), "%s", v[i].name);
		known_del(s, q);
		report_open(s, s->pkg.req.id, v[i].name, now);
		report_pkg(&s->rep, &s->pkg);
		cmd_serve_report_set_str(&s->rep, "reason", NULL);
		fota_info("update %s: offered (ecu %s, %" PRIu64 " bytes)", s->pkg.req.id,
			  s->pkg.ecu->name, s->pkg.bytes);
		current_log(s, now, "offered", NULL);
		s->seen = UPD_ST_AVAILABLE;
		process(s, now);
	}
}

/* A cancel file NAME.cancel: NAME is a request id or a request file's name without .yaml. */
static void handle_cancel(struct serve *s, const char *base, fota_us now)
{
	char yaml[CMD_SERVE_NAME_MAX + 8], path[CFG_PATH_MAX + CMD_SERVE_NAME_MAX + 16];

	snprintf(yaml, sizeof(yaml), "%s.yaml", base);
	snprintf(path, sizeof(path), "%s/%s.cancel", s->inbox, base);
	unlink(path);
	if (s->have_pkg && (!strcmp(base, cur_id(s)) || !strcmp(yaml, s->req_name))) {
		if (s->u.state == UPD_ST_AVAILABLE) {
			snprintf(s->cancel_reason, sizeof(s->cancel_reason), "cancelled remotely");
			upd_handle(&s->u, UPD_EV_CANCEL, now);
		} else {
			fota_warn("update %s: cancel ignored: the update was already approved",
				  cur_id(s));
		}
		return;
	}
	for (size_t i = 0; i < s->nknown; i++) {
		if (!strcmp(s->known[i].id, base) || !strcmp(s->known[i].name, yaml)) {
			withdraw_queued(s, &s->known[i], "cancel file", now);
			return;
		}
	}
	fota_warn("%s.cancel: no pending request with that id or name", base);
}

static void scan(struct serve *s, fota_us now)
{
	struct cmd_serve_entry *v = NULL;
	DIR *d;
	struct dirent *de;
	size_t n = 0;
	int err;

	s->rescan = false;
	s->next_scan = now + SERVE_RESCAN_US;
	/* cancel files first: a request and its cancel may arrive together */
	d = opendir(s->inbox);
	if (d) {
		while ((de = readdir(d))) {
			size_t l = strlen(de->d_name);
			char base[CMD_SERVE_NAME_MAX];

			if (de->d_name[0] == '.' || l <= 7 || l - 7 >= sizeof(base) ||
			    strcmp(de->d_name + l - 7, ".cancel"))
				continue;
			snprintf(base, sizeof(base), "%.*s", (int)(l - 7), de->d_name);
			handle_cancel(s, base, now);
		}
		closedir(d);
	}
	/* the offered request removed from the inbox: remote cancel (only while offered) */
	if (s->have_pkg && s->req_name[0] && s->u.state == UPD_ST_AVAILABLE &&
	    !inbox_has(s, s->req_name)) {
		snprintf(s->cancel_reason, sizeof(s->cancel_reason),
			 "cancelled remotely (request file removed)");
		upd_handle(&s->u, UPD_EV_CANCEL, now);
	}
	process(s, now);

	err = cmd_serve_inbox_list(s->inbox, &v, &n);
	if (err) {
		fota_error_errno(err, "%s", s->inbox);
		return;
	}
	/* queued requests removed before they were offered */
	for (size_t i = 0; i < s->nknown;) {
		bool present = false;

		for (size_t j = 0; j < n && !present; j++)
			present = !strcmp(v[j].name, s->known[i].name);
		if (present)
			i++;
		else
			withdraw_queued(s, &s->known[i], "request file removed", now);
	}
	for (size_t i = 0; i < n; i++) {
		if (known_find(s, v[i].name) || (s->have_pkg && !strcmp(v[i].name, s->req_name)))
			continue;
		first_sight(s, v[i].name, now);
	}
	if (!s->have_pkg && s->u.state != UPD_ST_AVAILABLE &&
	    (s->u.state == UPD_ST_IDLE || upd_status_final(s->u.update_status)))
		offer_next(s, v, n, now);
	free(v);
}

static int inotify_cb(void *ctx, int fd, short revents, fota_us now)
{
	struct serve *s = ctx;
	char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));

	while (read(fd, buf, sizeof(buf)) > 0)
		;
	s->rescan = true;
	return 0;
}

/* ---- the flash job ---- */

static void job_event(void *ctx, const struct uds_job_event *ev)
{
	struct serve *s = ctx;
	const struct uds_prog_event *p = ev->prog;
	uint32_t wall = serve_wall(s, ev->now);
	char msg[160];

	if (ev->type != UDS_JOB_EV_PROG || !p)
		return;
	switch (p->type) {
	case UDS_PROG_EV_STEP_DONE:
		if (p->err)
			snprintf(msg, sizeof(msg), "%s", p->nrc ? "refused" : strerror(-p->err));
		if (s->have_rep)
			cmd_serve_report_log(&s->rep, wall, p->err ? "step_failed" : "step",
					     uds_prog_step_str(p->step), p->segment, p->nrc,
					     p->err ? msg : NULL);
		fota_debug("update %s: %s %s", cur_id(s), uds_prog_step_str(p->step),
			   p->err ? "failed" : "ok");
		break;
	case UDS_PROG_EV_RETRY:
		snprintf(msg, sizeof(msg), "no response: block 0x%02x sent again (retry %u)",
			 p->bsc, p->attempt);
		if (s->have_rep)
			cmd_serve_report_log(&s->rep, wall, "retry", uds_prog_step_str(p->step),
					     p->segment, 0, msg);
		fota_warn("update %s: TransferData %s", cur_id(s), msg);
		break;
	case UDS_PROG_EV_PROGRESS:
		if (p->total) {
			unsigned pct = (unsigned)(p->done * 100 / p->total);

			upd_set_progress(&s->u, pct, ev->now);
			if (pct / 10 > s->pct_logged / 10 && pct < 100) {
				s->pct_logged = pct;
				fota_info("update %s: flashing %u%%", cur_id(s), pct);
			}
		}
		break;
	default:
		break;
	}
}

static void job_start(struct serve *s, fota_us now)
{
	struct uds_job_cfg jc = {
		.ecu = s->pkg.ecu,
		.img = &s->pkg.img,
		.bootloader_switch = false, /* sent by us on approval, delay kept by core/update */
		.keep_running = true,
		.on_event = job_event,
		.event_ctx = s,
	};
	struct uds_job_result res = { 0 };
	int err;

	if (!s->have_pkg) {
		/* cannot happen: an approved update always has its package */
		snprintf(s->fail_reason, sizeof(s->fail_reason), "no firmware loaded");
		upd_handle(&s->u, UPD_EV_FLASH_FAILED, now);
		return;
	}
	err = uds_job_new(&s->job, &jc, &res);
	if (!err) {
		err = uds_job_start(s->job, now);
		if (err)
			snprintf(res.msg, sizeof(res.msg), "cannot start: %s", strerror(-err));
	}
	if (err) {
		snprintf(s->fail_reason, sizeof(s->fail_reason), "%s",
			 res.msg[0] ? res.msg : strerror(-err));
		upd_handle(&s->u, UPD_EV_FLASH_FAILED, now);
		return;
	}
	s->pct_logged = 0;
	fota_info("update %s: programming ECU %s (UDS on 0x%03" PRIx32 "/0x%03" PRIx32 ")",
		  cur_id(s), s->pkg.ecu->name, s->pkg.ecu->request_id, s->pkg.ecu->response_id);
}

static void job_poll(struct serve *s, fota_us now)
{
	struct uds_job_result res;
	int r;

	if (!s->job || s->u.state != UPD_ST_FLASHING)
		return;
	r = uds_job_result(s->job, &res);
	if (r == -EINPROGRESS || r == -ENOENT)
		return;
	if (r == 0) {
		upd_handle(&s->u, UPD_EV_FLASH_OK, now);
		return;
	}
	snprintf(s->fail_reason, sizeof(s->fail_reason), "%s", res.msg[0] ? res.msg : strerror(-r));
	upd_handle(&s->u, UPD_EV_FLASH_FAILED, now);
}

static void drop_current(struct serve *s)
{
	if (s->job) {
		uds_job_free(s->job);
		s->job = NULL;
	}
	if (s->have_pkg)
		cmd_serve_pkg_release(&s->pkg);
	s->have_pkg = false;
	s->req_name[0] = '\0';
}

/* ---- the state machine's actions ---- */

/* One log line (and report entry) per state entered. */
static void log_state(struct serve *s, fota_us now)
{
	const struct upd *u = &s->u;
	const char *id = cur_id(s);
	char msg[384];

	fota_notify_status(&s->notify, "update_status 0x%02x: %s%s", u->update_status,
			   upd_status_str(u->update_status),
			   u->update_available ? "; update offered" : "");
	if (u->state == s->seen)
		return;
	s->seen = u->state;
	switch (u->state) {
	case UPD_ST_BOOTLOADER:
		fota_info("update %s: approved", id);
		current_log(s, now, "approved", NULL);
		break;
	case UPD_ST_FLASHING:
		current_log(s, now, "flashing", NULL);
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
		current_log(s, now, "flashed", msg);
		break;
	case UPD_ST_SUCCESS:
		fota_info("update %s: health check ok: update successful (0x40)", id);
		current_log(s, now, "health_ok", NULL);
		break;
	case UPD_ST_FLASH_FAILED:
		fota_error("update %s: %s: flashing failed (0x50)", id,
			   s->fail_reason[0] ? s->fail_reason : "unknown reason");
		current_log(s, now, "failed", s->fail_reason);
		if (s->have_rep)
			cmd_serve_report_set_str(&s->rep, "reason", s->fail_reason);
		break;
	case UPD_ST_VERIFY_FAILED:
		fota_error("update %s: health check failed (0x51)", id);
		current_log(s, now, "health_fail", NULL);
		if (s->have_rep)
			cmd_serve_report_set_str(&s->rep, "reason", "OEM health check failed");
		break;
	case UPD_ST_VERIFY_TIMEOUT:
		snprintf(msg, sizeof(msg), "no health check result within %u min",
			 u->ecu_health_check_timeout);
		fota_error("update %s: %s: verification timeout (0x52)", id, msg);
		current_log(s, now, "health_timeout", msg);
		if (s->have_rep)
			cmd_serve_report_set_str(&s->rep, "reason", msg);
		break;
	case UPD_ST_CANCELLED:
		if (!s->cancel_reason[0])
			snprintf(s->cancel_reason, sizeof(s->cancel_reason),
				 "rejected by the operator (apply_update 0x02)");
		fota_info("update %s: %s: update cancelled (0x60)", id, s->cancel_reason);
		current_log(s, now, "cancelled", s->cancel_reason);
		if (s->have_rep)
			cmd_serve_report_set_str(&s->rep, "reason", s->cancel_reason);
		break;
	default:
		break;
	}
}

/* Run everything the machine asked for until it asks for nothing more. */
static void process(struct serve *s, fota_us now)
{
	unsigned act;
	int err;

	job_poll(s, now);
	while ((act = upd_take_actions(&s->u)) != 0 || s->u.state != s->seen) {
		log_state(s, now);
		if (act & UPD_ACT_PERSIST) {
			err = upd_save(&s->u, s->dir);
			if (err && err != s->save_err)
				fota_error_errno(err, "%s/%s: cannot save the state", s->dir,
						 UPD_STATE_FILE);
			s->save_err = err;
		}
		if (act & UPD_ACT_BOOTLOADER_FRAME) {
			/* approved: the request is consumed, its removal no longer cancels */
			if (s->req_name[0])
				move_done(s, s->req_name);
			s->req_name[0] = '\0';
			if (s->have_pkg && s->pkg.ecu->has_bootloader_switch) {
				push_frame(s, &s->pkg.ecu->bootloader_switch);
				current_log(s, now, "bootloader_switch", NULL);
				fota_info(
					"update %s: bootloader switch frame sent, waiting %" PRIu32
					" ms",
					cur_id(s), s->pkg.ecu->bootloader_switch_delay_ms);
			}
		}
		if (act & UPD_ACT_START_FLASH)
			job_start(s, now);
		if (act & UPD_ACT_FINISHED) {
			report_sync(s);
			drop_current(s);
			s->fail_reason[0] = s->cancel_reason[0] = '\0';
			s->rescan = true; /* the next request may be offered */
		} else if (act & UPD_ACT_REPORT) {
			report_sync(s);
		}
		job_poll(s, now);
	}
}

/* ---- loop member ---- */

static void m_input(void *ctx, const struct bus_frame *f, fota_us now)
{
	struct serve *s = ctx;
	struct sdo_server_event ev;

	serve_clock(s, now);
	if (f->flags & (BUS_FRAME_EFF | BUS_FRAME_RTR | BUS_FRAME_FD)) {
		/* not NMT/SDO: only the job may care (29-bit ECU ids) */
	} else if (f->id == NMT_COB) {
		nmt_input(s, f, now);
		return;
	} else if (f->id == SDO_COB_REQUEST + s->node) {
		if (s->nmt == NMT_ST_STOPPED)
			return; /* CiA 301 §7.3.2: no SDO in the stopped state */
		sdo_server_input(&s->sdo, f, now);
		while (sdo_server_take_event(&s->sdo, &ev) == 1)
			fota_debug("SDO %s 0x%04x:%02x: %s", ev.write ? "write" : "read", ev.index,
				   ev.sub, ev.abort_code ? sdo_abort_str(ev.abort_code) : "ok");
		process(s, now);
		return;
	}
	if (s->job) {
		uds_job_member_ops.input(s->job, f, now);
		process(s, now);
	}
}

static void m_tick(void *ctx, fota_us now)
{
	struct serve *s = ctx;

	serve_clock(s, now);
	sdo_server_tick(&s->sdo, now);
	if (s->job && uds_job_member_ops.tick)
		uds_job_member_ops.tick(s->job, now);
	upd_tick(&s->u, now);
	process(s, now);
	heartbeat(s, now);
	if (s->rescan || now >= s->next_scan)
		scan(s, now);
}

static int m_output(void *ctx, struct bus_frame *f, fota_us now)
{
	struct serve *s = ctx;

	if (s->qn) {
		*f = s->q[s->qhead];
		s->qhead = (s->qhead + 1) % SERVE_QUEUE;
		s->qn--;
		return 1;
	}
	if (sdo_server_output(&s->sdo, f, now) == 1)
		return 1;
	if (s->job && uds_job_member_ops.output(s->job, f, now) == 1)
		return 1;
	return 0;
}

static fota_us m_deadline(void *ctx)
{
	struct serve *s = ctx;
	fota_us d = fota_min_deadline(sdo_server_deadline(&s->sdo), s->hb_next);

	if (s->qn || s->rescan)
		return 0;
	d = fota_min_deadline(d, s->next_scan);
	if (s->job && uds_job_member_ops.deadline)
		d = fota_min_deadline(d, uds_job_member_ops.deadline(s->job));
	if (s->u.state == UPD_ST_VERIFY && s->u.health_deadline && s->scale > 1) {
		/* upd_deadline() assumes one wall second per second */
		uint32_t w = upd_wall(&s->u, s->u.clock_mono);
		uint64_t left = s->u.health_deadline > w ? s->u.health_deadline - w : 0;

		d = fota_min_deadline(d, s->u.clock_mono + FOTA_SEC(left) / s->scale);
	} else {
		d = fota_min_deadline(d, upd_deadline(&s->u));
	}
	return d;
}

static const struct loop_member_ops serve_member_ops = {
	.input = m_input,
	.tick = m_tick,
	.output = m_output,
	.deadline = m_deadline,
};

/* ---- start-up ---- */

static int setup_dirs(struct serve *s)
{
	int err;

	snprintf(s->inbox, sizeof(s->inbox), "%s/inbox", s->dir);
	snprintf(s->outbox, sizeof(s->outbox), "%s/outbox", s->dir);
	snprintf(s->done, sizeof(s->done), "%s/done", s->dir);
	if ((err = fota_mkdir_p(s->inbox, 0755)) || (err = fota_mkdir_p(s->outbox, 0755)) ||
	    (err = fota_mkdir_p(s->done, 0755))) {
		fota_error_errno(err, "state directory %s", s->dir);
		return err;
	}
	return 0;
}

/* After a restart with an update offered: find its request again in the inbox. */
static void resume_offer(struct serve *s, fota_us now)
{
	struct cmd_serve_entry *v = NULL;
	char path[CFG_PATH_MAX + CMD_SERVE_NAME_MAX + 16], why[768];
	struct cmd_serve_pkg p;
	size_t n = 0;

	cmd_serve_inbox_list(s->inbox, &v, &n);
	for (size_t i = 0; i < n; i++) {
		struct cfg_request req;
		struct cfg_error e;

		snprintf(path, sizeof(path), "%s/%s", s->inbox, v[i].name);
		if (cfg_load_request(path, &req, &e) || strcmp(req.id, cur_id(s)))
			continue;
		snprintf(s->req_name, sizeof(s->req_name), "%s", v[i].name);
		if (cmd_serve_verify(path, &s->cfg, &p, why, sizeof(why))) {
			snprintf(s->cancel_reason, sizeof(s->cancel_reason),
				 "package no longer valid: %s", why);
			break;
		}
		s->pkg = p;
		s->have_pkg = true;
		upd_set_boot_delay(&s->u, p.ecu->has_bootloader_switch ?
						  p.ecu->bootloader_switch_delay_ms :
						  0);
		report_pkg(&s->rep, &s->pkg);
		fota_info("update %s: still offered (ecu %s, %" PRIu64 " bytes)", cur_id(s),
			  p.ecu->name, p.bytes);
		break;
	}
	free(v);
	if (!s->have_pkg) {
		if (!s->cancel_reason[0])
			snprintf(s->cancel_reason, sizeof(s->cancel_reason),
				 "cancelled remotely (request withdrawn while the TCU was off)");
		upd_handle(&s->u, UPD_EV_CANCEL, now);
	}
}

static int serve_start(struct serve *s, fota_us now)
{
	struct upd_error ue = { 0 };
	int err;

	upd_init(&s->u);
	err = upd_load(&s->u, s->dir, &ue);
	if (err == -EBADMSG) {
		fota_error("%s/%s:%u: %s", s->dir, UPD_STATE_FILE, ue.line, ue.msg);
		return err;
	}
	if (err && err != -ENOENT) {
		fota_error_errno(err, "%s/%s", s->dir, UPD_STATE_FILE);
		return err;
	}
	/* first start: 0x62 from the configuration; afterwards the state file's value */
	if (err == -ENOENT)
		s->u.ecu_health_check_timeout = s->cfg.tcu.health_check_timeout_min;
	serve_clock(s, now);
	s->seen = s->u.state;
	if (s->u.state != UPD_ST_IDLE && cur_id(s)[0])
		report_open(s, cur_id(s), NULL, now);
	if (s->u.state == UPD_ST_BOOTLOADER || s->u.state == UPD_ST_FLASHING) {
		snprintf(s->fail_reason, sizeof(s->fail_reason), "TCU restarted during %s",
			 s->u.state == UPD_ST_FLASHING ? "flashing" : "the bootloader transition");
		current_log(s, now, "restart", s->fail_reason);
	}
	upd_handle(&s->u, UPD_EV_BOOT, now);
	if (s->u.state == UPD_ST_AVAILABLE)
		resume_offer(s, now);
	else if (s->u.state == UPD_ST_VERIFY)
		fota_info("update %s: still waiting for OEM health verification", cur_id(s));
	process(s, now);
	return 0;
}

static int serve_filters(struct serve *s, struct bus *bus)
{
	uint32_t ids[BUS_FILTER_MAX];
	size_t n = 0;

	ids[n++] = NMT_COB;
	ids[n++] = SDO_COB_REQUEST + s->node;
	for (size_t i = 0; i < s->cfg.necus && n < BUS_FILTER_MAX; i++)
		ids[n++] = bus_filter_norm(s->cfg.ecus[i].response_id |
					   (s->cfg.ecus[i].extended ? BUS_FILTER_EFF : 0));
	if (s->cfg.necus + 2 > BUS_FILTER_MAX)
		return 0; /* too many ECUs for a filter: take everything */
	return bus_set_filter(bus, ids, n);
}

static uint32_t time_scale(void)
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

static int run_serve(int argc, char **argv)
{
	static const int sigs[] = { SIGTERM, SIGINT };
	struct cmd_ctx ctx;
	struct serve *s;
	const char *state_dir = NULL;
	bool use_syslog = false;
	fota_us now;
	int c, err, rc = FOTA_EXIT_OK;

	cmd_ctx_init(&ctx, &cmd_serve);
	while ((c = fota_getopt(&ctx.getopt, argc, argv)) != -1) {
		switch (c) {
		case KEY_STATE_DIR:
			state_dir = ctx.getopt.arg;
			break;
		case KEY_SYSLOG:
			use_syslog = true;
			break;
		case FOTA_GETOPT_HELP:
			return FOTA_EXIT_OK;
		case FOTA_GETOPT_ERROR:
			return FOTA_EXIT_USAGE;
		default:
			if (cmd_ctx_common_opt(&ctx, c))
				return FOTA_EXIT_USAGE;
		}
	}
	if (ctx.getopt.ind < argc)
		return fota_usage_error(&cmd_serve, "unexpected operand '%s'",
					argv[ctx.getopt.ind]);
	if (use_syslog)
		fota_log_use_syslog(1);

	s = calloc(1, sizeof(*s));
	if (!s) {
		fota_error_errno(-ENOMEM, "serve");
		return FOTA_EXIT_FAIL;
	}
	s->ino = -1;
	err = cmd_ctx_load_config(&ctx, &s->cfg, true);
	if (err) {
		free(s);
		return fota_exit_code(err);
	}
	s->node = (uint8_t)(ctx.node ? ctx.node : s->cfg.tcu.node_id);
	snprintf(s->dir, sizeof(s->dir), "%s", state_dir ? state_dir : s->cfg.tcu.state_dir);
	s->scale = time_scale();
	now = fota_now();
	s->mono0 = now;
	s->wall0 = fota_wall_time();

	if (setup_dirs(s)) {
		rc = FOTA_EXIT_FAIL;
		goto out_cfg;
	}
	err = cmd_ctx_open_bus(&ctx, &s->cfg, NULL);
	if (err) {
		/* the trace file is opened first: no trace file means it failed */
		rc = err == -EINVAL		  ? FOTA_EXIT_USAGE :
		     ctx.trace_path && !ctx.trace ? FOTA_EXIT_FAIL :
						    FOTA_EXIT_UNAVAILABLE;
		goto out_cfg;
	}
	err = serve_filters(s, ctx.bus);
	if (err)
		fota_warn("%s: cannot set the receive filter: %s", ctx.bus->name, strerror(-err));

	upd_init(&s->u);
	if (fota_od_init(&s->fo, &s->u, NULL)) {
		fota_error("BUG: object dictionary inconsistent");
		rc = FOTA_EXIT_FAIL;
		goto out_bus;
	}
	err = serve_start(s, now);
	if (err) {
		rc = fota_exit_code(err);
		goto out_bus;
	}
	nmt_boot(s, now, true);

	loop_init(&s->loop, ctx.bus);
	loop_add(&s->loop, &serve_member_ops, s);
	s->ino = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (s->ino >= 0 && inotify_add_watch(s->ino, s->inbox,
					     IN_CLOSE_WRITE | IN_MOVED_TO | IN_MOVED_FROM |
						     IN_DELETE | IN_CREATE) >= 0)
		loop_add_fd(&s->loop, s->ino, POLLIN, inotify_cb, s);
	else
		fota_warn("%s: inotify unavailable, rescanning every %u s", s->inbox,
			  (unsigned)(SERVE_RESCAN_US / FOTA_SEC(1)));
	err = loop_catch_signals(&s->loop, sigs, FOTA_ARRAY_SIZE(sigs));
	if (err)
		fota_warn("cannot catch signals: %s", strerror(-err));
	s->rescan = true;
	fota_info("node 0x%02x on %s, state %s, update_status 0x%02x", s->node, ctx.bus->name,
		  s->dir, s->u.update_status);
	if ((err = fota_notify_init(&s->notify)))
		fota_warn("%s: %s: ignored", s->notify.bad, strerror(-err));
	log_state(s, now); /* the first STATUS= */
	if ((err = fota_notify_ready(&s->notify)))
		fota_warn("NOTIFY_SOCKET: %s", strerror(-err));
	loop_add(&s->loop, &fota_notify_member_ops, &s->notify);

	err = loop_run(&s->loop, FOTA_NEVER);
	fota_notify_stopping(&s->notify);
	now = fota_now();
	serve_clock(s, now);
	if (err == -EINTR) {
		fota_info("signal %d: stopping", s->loop.signo);
		if (s->u.state == UPD_ST_BOOTLOADER || s->u.state == UPD_ST_FLASHING) {
			if (s->job)
				uds_job_cancel(s->job);
			snprintf(s->fail_reason, sizeof(s->fail_reason),
				 "TCU stopped (signal %d) during flashing", s->loop.signo);
			upd_handle(&s->u, UPD_EV_FLASH_FAILED, now);
			process(s, now);
		}
		err = 0;
	} else if (err) {
		char why[96];

		fota_error("%s: %s", ctx.bus->name,
			   cmd_bus_strerror(ctx.bus, err, why, sizeof(why)));
		rc = fota_exit_code(err) == FOTA_EXIT_USAGE ? FOTA_EXIT_FAIL : fota_exit_code(err);
	}
	err = upd_save(&s->u, s->dir);
	if (err) {
		fota_error_errno(err, "%s/%s: cannot save the state", s->dir, UPD_STATE_FILE);
		rc = FOTA_EXIT_FAIL;
	}
	loop_release(&s->loop);
	fota_notify_release(&s->notify);
out_bus:
	drop_current(s);
	if (s->have_rep)
		cmd_serve_report_release(&s->rep);
	if (s->ino >= 0)
		close(s->ino);
	free(s->known);
out_cfg:
	cmd_ctx_release(&ctx);
	cfg_release(&s->cfg);
	free(s);
	return rc;
}

const struct fota_cmd cmd_serve = {
	.name = "serve",
	.summary = "run the TCU: CANopen SDO server of object 0x5FF3 and the update state machine",
	.usage = serve_usage,
	.opts = serve_opts,
	.run = run_serve,
	.help_tail = "Requests are read from DIR/inbox/*.yaml, reports written to "
		     "DIR/outbox/ID.json.\n"
		     "Stops on SIGTERM or SIGINT with the state saved.\n",
};
