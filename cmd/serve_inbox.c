// SPDX-License-Identifier: MIT
/* The inbox pipeline of fota serve (cmd/serve_inbox.h). */
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "cmd/serve_inbox.h"
#include "core/download.h"
#include "core/file.h"
#include "core/log.h"

enum entry_state {
	E_NEW,	   /* listed, to be examined */
	E_BUSY,	   /* a worker job has it */
	E_QUEUED,  /* examined: waiting to be offered */
	E_OFFERED, /* the TCU's current request */
	E_DONE,	   /* rejected or a duplicate: moved away, waiting to leave the listing */
};

struct inbox_entry {
	char name[CMD_SERVE_NAME_MAX];
	char id[CFG_UUID_LEN + 1];
	int64_t mtime_ns;
	enum entry_state st;
	fota_us first_seen, retry_at;
	unsigned tries;
	bool cancelled; /* a cancel file named it before it was examined */
};

/* ---- worker jobs: they touch only the job and the read-only inbox fields ---- */

enum ijob_kind {
	IJ_SCAN,
	IJ_EXAMINE,
	IJ_PREPARE,
	IJ_WITHDRAW,
	IJ_RESUME,
	IJ_SWEEP,
	IJ_DOWNLOAD,
};
enum ijob_result {
	IR_QUEUED,   /* examined and queued */
	IR_OK,	     /* prepared or resumed: pkg filled */
	IR_REJECTED, /* verification failed: reported, moved to done/ */
	IR_RETRY,    /* does not parse yet, may still be being written */
	IR_GONE,     /* the file disappeared */
	IR_DUP,	     /* the id was handled already: moved to done/ */
	IR_CURRENT,  /* the offered update's own request file */
	IR_NOTFOUND, /* resume: no request with that id in the inbox */
	IR_DOWNLOAD, /* examine: checked, its firmware_url is to be downloaded first */
};

struct ijob {
	enum ijob_kind kind;
	const struct inbox *ib;
	char name[CMD_SERVE_NAME_MAX];
	char id[CFG_UUID_LEN + 1];	   /* the request's, or the current update's */
	char cur_name[CMD_SERVE_NAME_MAX]; /* EXAMINE: the current update's file */
	char reason[128];		   /* WITHDRAW */
	uint32_t wall;			   /* report times */
	bool final;			   /* EXAMINE: no more retries */
	bool cur_offered;		   /* EXAMINE: the current update is offered */
	char (*keep)[CFG_UUID_LEN + 1];	   /* SWEEP: the firmware copies still needed */
	size_t nkeep;
	enum ijob_result r;
	const char *code; /* a rejection's reason_code (CMD_SERVE_R_*), or NULL */
	char why[768];
	struct cfg_request req; /* EXAMINE: the parsed request */
	uint64_t bytes;
	struct cmd_serve_pkg pkg; /* PREPARE, RESUME */
	struct cmd_serve_entry *list;
	size_t nlist;
	char (*cancels)[CMD_SERVE_NAME_MAX];
	size_t ncancels;
	fota_us last_progress; /* DOWNLOAD: the report's download object last written */
};

static int name_cmp(const void *a, const void *b)
{
	return strcmp(((const struct cmd_serve_entry *)a)->name,
		      ((const struct cmd_serve_entry *)b)->name);
}

static void scan_run(struct ijob *j)
{
	const char *dir = j->ib->p->inbox;
	struct dirent *de;
	DIR *d;

	int err = cmd_serve_inbox_list(dir, &j->list, &j->nlist);

	if (err) {
		snprintf(j->why, sizeof(j->why), "%.600s: %s", dir, strerror(-err));
		j->r = IR_GONE;
		return;
	}
	if (j->nlist)
		qsort(j->list, j->nlist, sizeof(*j->list), name_cmp);
	d = opendir(dir);
	if (!d)
		return;
	while ((de = readdir(d))) {
		size_t l = strlen(de->d_name);
		void *nc;

		if (de->d_name[0] == '.' || l <= 7 || l - 7 >= CMD_SERVE_NAME_MAX ||
		    strcmp(de->d_name + l - 7, ".cancel"))
			continue;
		nc = realloc(j->cancels, (j->ncancels + 1) * sizeof(*j->cancels));
		if (!nc)
			break;
		j->cancels = nc;
		snprintf(j->cancels[j->ncancels++], CMD_SERVE_NAME_MAX, "%.*s", (int)(l - 7),
			 de->d_name);
		unlinkat(dirfd(d), de->d_name, 0);
	}
	closedir(d);
}

static void copy_path(const struct ijob *j, const char *id, char *out, size_t size)
{
	snprintf(out, size, "%s/%s", j->ib->p->firmware, id);
}

/*
 * A new report for ID that keeps the log of ID's earlier report, if any (a
 * rejection that a corrected request with the same id follows): the
 * platform sees the whole story in one file.
 */
static int report_new_keep_log(struct ijob *j, struct cmd_serve_report *r, const char *id)
{
	struct cmd_serve_report old;
	json_object *log;
	int err = cmd_serve_report_new(r, id, j->name, j->wall);

	if (err || !id || cmd_serve_report_load(&old, j->ib->p->outbox, id))
		return err;
	if (json_object_object_get_ex(old.o, "log", &log) &&
	    json_object_is_type(log, json_type_array))
		json_object_object_add(r->o, "log", json_object_get(log));
	cmd_serve_report_release(&old);
	return 0;
}

/* The request's keys in its report; a downloaded firmware is named by its URL. */
static void report_request(struct cmd_serve_report *r, const struct cfg_request *req)
{
	cmd_serve_report_set_str(r, "ecu", req->ecu);
	if (req->firmware_url[0])
		cmd_serve_report_set_str(r, "firmware_url", req->firmware_url);
	else
		cmd_serve_report_set_str(r, "firmware", req->firmware);
	cmd_serve_report_set_str(r, "sha256", req->sha256_hex);
}

/*
 * A report for a request that is not (or no longer) offered: failed or
 * cancelled. FRESH: the request was just examined (a new report, the log of
 * an earlier rejection of the same id kept); else ID's report is updated.
 */
static void report_final(struct ijob *j, const char *id, const char *status, const char *event,
			 const char *reason, const struct cfg_request *req, uint64_t bytes,
			 bool fresh)
{
	struct cmd_serve_report r;

	if (fresh || !id || cmd_serve_report_load(&r, j->ib->p->outbox, id)) {
		if (report_new_keep_log(j, &r, id))
			return;
	}
	if (req)
		report_request(&r, req);
	if (bytes)
		cmd_serve_report_set_int(&r, "image_bytes", (int64_t)bytes);
	cmd_serve_report_set_str(&r, "status", status);
	cmd_serve_report_set_str(&r, "reason", reason);
	if (j->code)
		cmd_serve_report_set_str(&r, "reason_code", j->code);
	cmd_serve_report_log(&r, j->wall, event, NULL, -1, 0, reason);
	if (cmd_serve_report_write(&r, j->ib->p->outbox))
		snprintf(j->why + strlen(j->why), sizeof(j->why) - strlen(j->why),
			 " (and the report could not be written: %s)", strerror(errno));
	cmd_serve_report_release(&r);
}

static void move_done(struct ijob *j)
{
	int err = cmd_serve_move_done(j->ib->p->inbox, j->ib->p->done, j->name);

	if (err)
		snprintf(j->why + strlen(j->why), sizeof(j->why) - strlen(j->why),
			 " (and it could not be moved to %s: %s)", j->ib->p->done, strerror(-err));
}

/*
 * Refuse request file j->name: reported failed (outbox/ID.json when its id
 * is known, else outbox/rejected-NAME.json), any private copy removed, the
 * file moved to done/. REQ (may be NULL) fills the report's request keys;
 * FRESH as for report_final().
 */
static void reject(struct ijob *j, const char *id, const struct cfg_request *req, bool fresh)
{
	char copy[CFG_PATH_MAX + 64];

	report_final(j, id, CMD_SERVE_FAILED, "rejected", j->why, req, 0, fresh);
	cmd_serve_last_rejection_write(j->ib->p->dir, id, j->name, j->why, j->wall);
	if (id) {
		copy_path(j, id, copy, sizeof(copy));
		unlink(copy);
	}
	move_done(j);
	j->r = IR_REJECTED;
}

/* Verify inbox/NAME, reading the firmware from its private copy when there is one. */
static int verify(struct ijob *j, struct cmd_serve_pkg *pkg, const char *id,
		  const atomic_bool *cancel)
{
	char path[CFG_PATH_MAX + CMD_SERVE_NAME_MAX + 16], copy[CFG_PATH_MAX + 64];
	struct cmd_serve_verify_opts o = { .max_bytes = j->ib->max_bytes,
					   .cancel = cancel,
					   .state_dir = j->ib->p->dir,
					   .now_wall = j->wall };
	struct stat st;
	int err;

	snprintf(path, sizeof(path), "%s/%s", j->ib->p->inbox, j->name);
	copy_path(j, id, copy, sizeof(copy));
	if (!stat(copy, &st))
		o.source = copy;
	else
		o.copy_dir = j->ib->p->firmware;
	err = cmd_serve_verify(path, j->ib->cfg, &o, pkg, j->why, sizeof(j->why));
	j->code = err ? pkg->reject_code : NULL;
	return err;
}

/* Written within the settle time (a future modification time counts as now)? */
static bool fresh(const struct ijob *j, const char *path)
{
	struct stat st;

	return !stat(path, &st) && (int64_t)j->wall - (int64_t)st.st_mtime < SERVE_SETTLE_MS / 1000;
}

/*
 * Is ID used up for request file j->name? It is when it is the current
 * update's, or when it has a report other than a rejection: it was queued,
 * offered or ended, and running it again would replay it. A rejected id
 * (the request never reached the TCU: wrong digest, missing firmware, a
 * key wrong) is free again. *requeue: ID's report is this very file's and
 * still pending (queued before a restart), so it is free too.
 */
static bool id_taken(const struct ijob *j, const char *id, bool *requeue)
{
	struct cmd_serve_report rep;
	struct json_object *rf;
	const char *st;
	bool taken;
	int err;

	*requeue = false;
	if (!strcmp(id, j->id))
		return true;
	err = cmd_serve_report_load(&rep, j->ib->p->outbox, id);
	if (err == -ENOENT)
		return false;
	if (err)
		return true; /* a report we cannot read is left alone */
	st = cmd_serve_report_status(&rep);
	*requeue = st && !strcmp(st, CMD_SERVE_PENDING) &&
		   json_object_object_get_ex(rep.o, "request_file", &rf) &&
		   json_object_is_type(rf, json_type_string) &&
		   !strcmp(json_object_get_string(rf), j->name);
	taken = !*requeue && !cmd_serve_report_rejected(&rep);
	cmd_serve_report_release(&rep);
	return taken;
}

static void downloads_dir(const struct ijob *j, char *out, size_t size)
{
	snprintf(out, size, "%s/downloads", j->ib->p->dir);
}

static void part_path(const struct ijob *j, const char *id, char *out, size_t size)
{
	snprintf(out, size, "%s/downloads/%s.part", j->ib->p->dir, id);
}

/* The report's "download" object: what a platform sees of a download's progress. */
static void report_download(struct cmd_serve_report *r, uint64_t have, uint64_t total)
{
	json_object *o = json_object_new_object();

	if (!o)
		return;
	json_object_object_add(o, "bytes", json_object_new_int64((int64_t)have));
	json_object_object_add(o, "total", json_object_new_int64((int64_t)total));
	json_object_object_add(r->o, "download", o);
}

/*
 * A firmware_url request without its private copy yet: its signatures and
 * policy are checked first (no download for a request we would refuse),
 * then the report says "pending" with the bytes already in the .part, and
 * the download is handed to the download worker (IR_DOWNLOAD). true when the
 * job ends here (IR_DOWNLOAD or rejected).
 */
static bool needs_download(struct ijob *j, struct cmd_serve_pkg *pkg, const atomic_bool *cancel,
			   bool requeue)
{
	char path[CFG_PATH_MAX + CMD_SERVE_NAME_MAX + 16], copy[CFG_PATH_MAX + 64];
	struct cmd_serve_verify_opts o = { .cancel = cancel,
					   .state_dir = j->ib->p->dir,
					   .now_wall = j->wall,
					   .request_only = true };
	struct cmd_serve_pkg chk;
	struct cmd_serve_report rep;
	struct stat st;
	int err;

	copy_path(j, pkg->req.id, copy, sizeof(copy));
	if (!stat(copy, &st))
		return false; /* downloaded before: verified from the copy like any request */
	snprintf(path, sizeof(path), "%s/%s", j->ib->p->inbox, j->name);
	err = cmd_serve_verify(path, j->ib->cfg, &o, &chk, j->why, sizeof(j->why));
	if (err) {
		j->code = chk.reject_code;
		reject(j, pkg->req.id, &pkg->req, true);
		cmd_serve_pkg_release(&chk);
		return true;
	}
	cmd_serve_pkg_release(&chk);
	j->why[0] = '\0';
	if (requeue ? !cmd_serve_report_load(&rep, j->ib->p->outbox, pkg->req.id) :
		      !report_new_keep_log(j, &rep, pkg->req.id)) {
		part_path(j, pkg->req.id, path, sizeof(path));
		report_request(&rep, &pkg->req);
		report_download(&rep, fota_download_have(path), pkg->req.size);
		cmd_serve_report_log(&rep, j->wall, "downloading", NULL, -1, 0, NULL);
		err = cmd_serve_report_write(&rep, j->ib->p->outbox);
		if (err)
			snprintf(j->why, sizeof(j->why), "report not written: %s", strerror(-err));
		cmd_serve_report_release(&rep);
	}
	j->req = pkg->req;
	j->r = IR_DOWNLOAD;
	cmd_serve_pkg_release(pkg);
	return true;
}

/* From the download's thread: the report shows the bytes, at most once a second. */
static void download_progress(void *ctx, uint64_t have, uint64_t total)
{
	struct ijob *j = ctx;
	struct cmd_serve_report rep;
	fota_us now = fota_now();

	if (j->last_progress && now - j->last_progress < FOTA_SEC(1) && have < total)
		return;
	j->last_progress = now;
	if (cmd_serve_report_load(&rep, j->ib->p->outbox, j->req.id))
		return;
	report_download(&rep, have, total);
	cmd_serve_report_write(&rep, j->ib->p->outbox);
	cmd_serve_report_release(&rep);
}

/*
 * Download a firmware_url into STATE_DIR/downloads/ID.part, then (size and
 * SHA-256 right) rename it to the private copy STATE_DIR/firmware/ID, from
 * which the request is examined again like any other. A failure ends the
 * request as failed with the download's reason_code.
 */
static void download_run(struct ijob *j, const atomic_bool *cancel)
{
	const struct cfg_download *dc = &j->ib->cfg->platform.download;
	char dir[CFG_PATH_MAX + 16], part[CFG_PATH_MAX + 64], copy[CFG_PATH_MAX + 64];
	struct fota_download d = {
		.url = j->req.firmware_url,
		.ca = dc->ca,
		.part = part,
		.dest = copy,
		.size = j->req.size,
		.max_bytes = dc->max_bytes ? dc->max_bytes : j->ib->max_bytes,
		.stall_s = dc->stall_timeout_s,
		.connect_s = dc->connect_timeout_s,
		.cancel = cancel,
		.progress = download_progress,
		.ctx = j,
	};
	enum fota_dl_result res;
	int err;

	downloads_dir(j, dir, sizeof(dir));
	part_path(j, j->req.id, part, sizeof(part));
	copy_path(j, j->req.id, copy, sizeof(copy));
	memcpy(d.sha256, j->req.sha256, sizeof(d.sha256));
	err = fota_mkdir_p(dir, 0700);
	if (err) {
		snprintf(j->why, sizeof(j->why), "%.600s: %s", dir, strerror(-err));
		j->code = fota_download_code(FOTA_DL_LOCAL);
		reject(j, j->req.id, &j->req, false);
		return;
	}
	res = fota_download_run(&d, j->why, sizeof(j->why));
	j->bytes = fota_download_have(res == FOTA_DL_OK ? copy : part);
	if (res == FOTA_DL_OK) {
		struct cmd_serve_report rep;

		j->r = IR_OK;
		if (d.resumed_at)
			snprintf(j->why, sizeof(j->why), "resumed at byte %" PRIu64, d.resumed_at);
		if (!cmd_serve_report_load(&rep, j->ib->p->outbox, j->req.id)) {
			report_download(&rep, j->bytes, j->req.size);
			cmd_serve_report_set_int(&rep, "image_bytes", (int64_t)j->bytes);
			cmd_serve_report_log(&rep, j->wall, "downloaded", NULL, -1, 0,
					     j->why[0] ? j->why : NULL);
			cmd_serve_report_write(&rep, j->ib->p->outbox);
			cmd_serve_report_release(&rep);
		}
		return;
	}
	if (res == FOTA_DL_CANCELLED) {
		j->r = IR_RETRY;
		return;
	}
	j->code = fota_download_code(res);
	reject(j, j->req.id, &j->req, false);
}

static void examine_run(struct ijob *j, const atomic_bool *cancel)
{
	char path[CFG_PATH_MAX + CMD_SERVE_NAME_MAX + 16], why[sizeof(j->why)];
	struct cmd_serve_report rep;
	struct cmd_serve_pkg pkg;
	bool requeue = false;
	int err;

	snprintf(path, sizeof(path), "%s/%s", j->ib->p->inbox, j->name);
	memset(&pkg, 0, sizeof(pkg));
	err = cmd_serve_load_request(path, &pkg.req, j->why, sizeof(j->why));
	if (err == -ENOENT) {
		j->r = IR_GONE;
		return;
	}
	if (err) {
		if (!j->final && fresh(j, path)) {
			j->r = IR_RETRY;
			return;
		}
		if (strstr(j->why, "malformed signature block"))
			j->code = fota_sig_result_code(SIG_MALFORMED);
		/* reported under its id when that reads as a UUID, unless the id is used up */
		snprintf(j->req.id, sizeof(j->req.id), "%s", pkg.req.id);
		if (pkg.req.id[0] && id_taken(j, pkg.req.id, &requeue)) {
			snprintf(why, sizeof(why), "%s", j->why);
			snprintf(j->why, sizeof(j->why), "request id already handled (%.600s)",
				 why);
			move_done(j);
			j->r = IR_DUP;
			return;
		}
		reject(j, pkg.req.id[0] ? pkg.req.id : NULL, NULL, true);
		return;
	}
	pkg.id_known = true;
	j->req = pkg.req;
	/* the offered update's own file; once approved or ended it is done with */
	if (!strcmp(pkg.req.id, j->id) && j->cur_offered &&
	    (!j->cur_name[0] || !strcmp(j->cur_name, j->name))) {
		j->r = IR_CURRENT;
		return;
	}
	if (id_taken(j, pkg.req.id, &requeue)) {
		snprintf(j->why, sizeof(j->why), "request id already handled");
		move_done(j);
		j->r = IR_DUP;
		return;
	}
	if (pkg.req.firmware_url[0] && needs_download(j, &pkg, cancel, requeue))
		return;
	err = verify(j, &pkg, pkg.req.id, cancel);
	if (err) {
		reject(j, pkg.req.id, &pkg.req, true);
		return;
	}
	j->bytes = pkg.bytes;
	if (!requeue) {
		j->why[0] = '\0';
		if (!report_new_keep_log(j, &rep, pkg.req.id)) {
			report_request(&rep, &pkg.req);
			cmd_serve_report_set_int(&rep, "image_bytes", (int64_t)pkg.bytes);
			cmd_serve_report_log(&rep, j->wall, "received", NULL, -1, 0, NULL);
			err = cmd_serve_report_write(&rep, j->ib->p->outbox);
			if (err)
				snprintf(j->why, sizeof(j->why), "report not written: %s",
					 strerror(-err));
			cmd_serve_report_release(&rep);
		}
	}
	cmd_serve_pkg_release(&pkg);
	j->r = IR_QUEUED;
}

static void prepare_run(struct ijob *j, const atomic_bool *cancel)
{
	if (verify(j, &j->pkg, j->id, cancel)) {
		if (j->pkg.id_known && strcmp(j->pkg.req.id, j->id)) {
			j->r = IR_RETRY; /* the file now holds another request: examine it anew */
			return;
		}
		if (!j->pkg.id_known && errno == ENOENT) {
			j->r = IR_GONE;
			return;
		}
		/* the queued id's report says why, even if the file no longer loads */
		reject(j, j->id, j->pkg.id_known ? &j->pkg.req : NULL, false);
		return;
	}
	if (strcmp(j->pkg.req.id, j->id)) {
		cmd_serve_pkg_release(&j->pkg);
		j->r = IR_RETRY;
		return;
	}
	j->r = IR_OK;
}

static void withdraw_run(struct ijob *j)
{
	char copy[CFG_PATH_MAX + 64];

	report_final(j, j->id, CMD_SERVE_CANCELLED, "withdrawn", j->reason, NULL, 0, false);
	copy_path(j, j->id, copy, sizeof(copy));
	unlink(copy);
	move_done(j);
}

/* After a restart with an update offered: find its request file again. */
static void resume_run(struct ijob *j, const atomic_bool *cancel)
{
	char path[CFG_PATH_MAX + CMD_SERVE_NAME_MAX + 16], why[768];
	struct cmd_serve_entry *v = NULL;
	struct cfg_request req;
	size_t n = 0;
	int err;

	j->r = IR_NOTFOUND;
	err = cmd_serve_inbox_list(j->ib->p->inbox, &v, &n);
	if (err) {
		/* an inbox that cannot be read says nothing about the request: look again */
		snprintf(j->why, sizeof(j->why), "%.600s: %s", j->ib->p->inbox, strerror(-err));
		j->r = IR_RETRY;
		return;
	}
	for (size_t i = 0; i < n; i++) {
		snprintf(path, sizeof(path), "%s/%s", j->ib->p->inbox, v[i].name);
		if (cmd_serve_load_request(path, &req, why, sizeof(why)) || strcmp(req.id, j->id))
			continue;
		snprintf(j->name, sizeof(j->name), "%s", v[i].name);
		j->r = verify(j, &j->pkg, j->id, cancel) ? IR_REJECTED : IR_OK;
		break;
	}
	free(v);
}

/*
 * Once after a start: firmware copies that no queued or offered request
 * needs (a power cut between the final state and the removal of the copy,
 * a request removed while serve was down) are removed.
 */
static void sweep_run(struct ijob *j)
{
	struct dirent *de;
	DIR *d = opendir(j->ib->p->firmware);
	size_t n = 0;

	if (!d)
		return;
	while ((de = readdir(d))) {
		bool keep = !cfg_uuid_v4_ok(de->d_name);

		for (size_t i = 0; i < j->nkeep && !keep; i++)
			keep = !strcmp(de->d_name, j->keep[i]);
		if (!keep && !unlinkat(dirfd(d), de->d_name, 0))
			n++;
	}
	closedir(d);
	if (n)
		fota_fsync_dir(j->ib->p->firmware);
	j->nlist = n;
}

static void ijob_run(void *arg, const atomic_bool *cancel)
{
	struct ijob *j = arg;

	switch (j->kind) {
	case IJ_SCAN:
		scan_run(j);
		break;
	case IJ_EXAMINE:
		examine_run(j, cancel);
		break;
	case IJ_PREPARE:
		prepare_run(j, cancel);
		break;
	case IJ_WITHDRAW:
		withdraw_run(j);
		break;
	case IJ_RESUME:
		resume_run(j, cancel);
		break;
	case IJ_SWEEP:
		sweep_run(j);
		break;
	case IJ_DOWNLOAD:
		download_run(j, cancel);
		break;
	}
}

/* ---- the loop's side ---- */

static struct inbox_entry *find(struct inbox *ib, const char *name)
{
	size_t lo = 0, hi = ib->n;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		int c = strcmp(ib->e[mid].name, name);

		if (!c)
			return &ib->e[mid];
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

static void drop(struct inbox *ib, struct inbox_entry *e)
{
	size_t i = (size_t)(e - ib->e);

	memmove(e, e + 1, (ib->n - i - 1) * sizeof(*e));
	ib->n--;
}

static void ijob_done(void *ctx, void *arg, bool ran);

static struct ijob *submit(struct inbox *ib, enum ijob_kind kind, const char *name, const char *id,
			   fota_us now)
{
	struct ijob *j = calloc(1, sizeof(*j));

	if (!j)
		return NULL;
	j->kind = kind;
	j->ib = ib;
	j->wall = tcu_wall(ib->t, now);
	snprintf(j->name, sizeof(j->name), "%s", name ? name : "");
	snprintf(j->id, sizeof(j->id), "%s", id ? id : "");
	if (fota_worker_submit(ib->w, ijob_run, ijob_done, ib, j, false)) {
		free(j);
		return NULL;
	}
	return j;
}

static void withdraw(struct inbox *ib, struct inbox_entry *e, const char *how, fota_us now)
{
	struct ijob *j;

	fota_info("update %s: withdrawn before it was offered (%s)", e->id[0] ? e->id : e->name,
		  how);
	j = submit(ib, IJ_WITHDRAW, e->name, e->id, now);
	if (j) {
		snprintf(j->reason, sizeof(j->reason), "%s", how);
		e->st = E_BUSY;
	}
}

static void handle_cancel(struct inbox *ib, const char *base, fota_us now)
{
	char yaml[CMD_SERVE_NAME_MAX + 8];
	struct tcu *t = ib->t;

	snprintf(yaml, sizeof(yaml), "%s.yaml", base);
	if ((t->have_pkg || t->resuming) &&
	    (!strcmp(base, tcu_current_id(t)) || !strcmp(yaml, t->req_name))) {
		tcu_cancel_offer(t, "cancelled remotely", now);
		return;
	}
	for (size_t i = 0; i < ib->n; i++) {
		struct inbox_entry *e = &ib->e[i];

		if (strcmp(e->id, base) && strcmp(e->name, yaml))
			continue;
		if (e->st == E_QUEUED)
			withdraw(ib, e, "cancel file", now);
		else if (e->st == E_NEW || e->st == E_BUSY)
			e->cancelled = true;
		return;
	}
	fota_warn("%s.cancel: no pending request with that id or name", base);
}

/* Merge a listing (sorted by name) into the entries (sorted by name). */
static void merge(struct inbox *ib, const struct cmd_serve_entry *v, size_t n, fota_us now)
{
	struct inbox_entry *old = ib->e, *ne;
	size_t nold = ib->n, i = 0, k = 0, m = 0;
	struct tcu *t = ib->t;

	ne = calloc(n + nold + 1, sizeof(*ne));
	if (!ne)
		return; /* looked at again at the next listing */
	while (i < nold || k < n) {
		int c = i == nold ? 1 : k == n ? -1 : strcmp(old[i].name, v[k].name);

		if (c < 0) { /* gone from the inbox */
			struct inbox_entry *e = &old[i++];

			if (e->st == E_QUEUED) {
				ne[m] = *e;
				withdraw(ib, &ne[m++], "request file removed", now);
			} else if (e->st == E_BUSY) {
				ne[m++] = *e; /* its job decides */
			} else if (e->st == E_OFFERED && t->u.state == UPD_ST_AVAILABLE &&
				   !strcmp(e->name, t->req_name)) {
				tcu_cancel_offer(t, "cancelled remotely (request file removed)",
						 now);
			}
			continue;
		}
		if (c == 0) {
			ne[m] = old[i++];
			ne[m].mtime_ns = v[k++].mtime_ns;
			/* the TCU let go of it (final status): examine again, it is a duplicate */
			if (ne[m].st == E_OFFERED && strcmp(ne[m].name, t->req_name))
				ne[m].st = E_NEW;
			m++;
			continue;
		}
		memset(&ne[m], 0, sizeof(ne[m]));
		snprintf(ne[m].name, sizeof(ne[m].name), "%s", v[k].name);
		ne[m].mtime_ns = v[k++].mtime_ns;
		ne[m].st = E_NEW;
		ne[m].first_seen = now;
		m++;
	}
	free(old);
	ib->e = ne;
	ib->n = m;
	ib->cap = n + nold + 1;
}

static void scan_done(struct inbox *ib, struct ijob *j, fota_us now)
{
	ib->scan_busy = false;
	ib->scanned = true;
	if (j->r == IR_GONE) {
		fota_error("%s", j->why);
		return;
	}
	for (size_t i = 0; i < j->ncancels; i++)
		handle_cancel(ib, j->cancels[i], now);
	merge(ib, j->list, j->nlist, now);
}

static void download_start(struct inbox *ib, const struct ijob *ej, struct inbox_entry *e,
			   fota_us now);

static void examine_done(struct inbox *ib, struct ijob *j, struct inbox_entry *e, fota_us now)
{
	ib->examine_busy = false;
	if (!e)
		return;
	switch (j->r) {
	case IR_QUEUED:
		e->st = E_QUEUED;
		snprintf(e->id, sizeof(e->id), "%s", j->req.id);
		fota_info("update %s: queued (ecu %s, %" PRIu64 " bytes, %s)", e->id, j->req.ecu,
			  j->bytes, e->name);
		if (j->why[0])
			fota_warn("update %s: %s", e->id, j->why);
		if (e->cancelled)
			withdraw(ib, e, "cancel file", now);
		break;
	case IR_REJECTED:
		fota_error("update %s: not offered: %s", j->req.id[0] ? j->req.id : e->name,
			   j->why);
		e->st = E_DONE;
		break;
	case IR_RETRY:
		e->st = E_NEW;
		e->tries++;
		e->retry_at = now + FOTA_MS(250u << (e->tries < 3 ? e->tries : 3));
		break;
	case IR_DUP:
		fota_error("update %s: %s: %s; moved to %s", j->req.id, e->name, j->why,
			   ib->p->done);
		e->st = E_DONE;
		break;
	case IR_CURRENT:
		e->st = E_OFFERED;
		break;
	case IR_DOWNLOAD:
		snprintf(e->id, sizeof(e->id), "%s", j->req.id);
		download_start(ib, j, e, now);
		break;
	default:
		drop(ib, e);
		break;
	}
}

/*
 * Hand the download to its own worker, so that a slow server never holds
 * up the inbox's other files (a second queued request is examined, a
 * cancel file is seen). The entry stays E_BUSY and its file in the inbox,
 * the durable queue, until the download ends.
 */
static void download_start(struct inbox *ib, const struct ijob *ej, struct inbox_entry *e,
			   fota_us now)
{
	struct ijob *j = calloc(1, sizeof(*j));

	e->st = E_NEW;
	e->tries++;
	e->retry_at = now + FOTA_SEC(1);
	if (!j)
		return;
	j->kind = IJ_DOWNLOAD;
	j->ib = ib;
	j->wall = tcu_wall(ib->t, now);
	j->req = ej->req;
	snprintf(j->name, sizeof(j->name), "%s", e->name);
	snprintf(j->id, sizeof(j->id), "%s", ej->req.id);
	if (fota_worker_submit(ib->dw ? ib->dw : ib->w, ijob_run, ijob_done, ib, j, false)) {
		free(j);
		return;
	}
	e->st = E_BUSY;
	fota_info("update %s: downloading %s (%" PRIu64 " bytes)", e->id, j->req.firmware_url,
		  j->req.size);
}

static void download_done(struct inbox *ib, struct ijob *j, struct inbox_entry *e, fota_us now)
{
	if (!e)
		return;
	switch (j->r) {
	case IR_OK:
		fota_info("update %s: downloaded %" PRIu64 " bytes%s%s", j->id, j->bytes,
			  j->why[0] ? ", " : "", j->why);
		e->st = E_NEW; /* examined again, from its private copy */
		e->retry_at = now;
		break;
	case IR_REJECTED:
		fota_error("update %s: not offered: %s", j->id, j->why);
		e->st = E_DONE;
		break;
	default:
		e->st = E_NEW;
		e->retry_at = now + FOTA_SEC(1);
		break;
	}
}

static void prepare_done(struct inbox *ib, struct ijob *j, struct inbox_entry *e, fota_us now)
{
	ib->prepare_busy = false;
	if (j->r == IR_OK) {
		if (e && tcu_offerable(ib->t) && !tcu_offer(ib->t, &j->pkg, j->name, now)) {
			e->st = E_OFFERED;
			return;
		}
		cmd_serve_pkg_release(&j->pkg);
		if (e)
			e->st = E_QUEUED;
		return;
	}
	if (!e)
		return;
	if (j->r == IR_REJECTED) {
		fota_error("update %s: not offered: %s", j->id, j->why);
		e->st = E_DONE;
	} else if (j->r == IR_RETRY) {
		e->st = E_NEW;
	} else {
		drop(ib, e);
	}
}

static void resume_done(struct inbox *ib, struct ijob *j, fota_us now)
{
	char why[896];
	struct inbox_entry *e;

	if (j->r == IR_OK) {
		tcu_resume(ib->t, &j->pkg, j->name, now);
		e = find(ib, j->name);
		if (e)
			e->st = E_OFFERED;
		return;
	}
	if (j->r == IR_RETRY) {
		fota_error("update %s: cannot look for its request: %s; trying again in %u s",
			   tcu_current_id(ib->t), j->why,
			   (unsigned)(SERVE_RESCAN_US / FOTA_SEC(1)));
		ib->resume_sent = false;
		ib->resume_at = now + SERVE_RESCAN_US;
		return;
	}
	if (j->r == IR_REJECTED)
		snprintf(why, sizeof(why), "package no longer valid: %s", j->why);
	else
		snprintf(why, sizeof(why),
			 "cancelled remotely (request withdrawn while the TCU was off)");
	tcu_cancel_offer(ib->t, why, now);
}

static void ijob_done(void *ctx, void *arg, bool ran)
{
	struct inbox *ib = ctx;
	struct ijob *j = arg;
	struct inbox_entry *e = j->name[0] ? find(ib, j->name) : NULL;
	fota_us now = fota_now();

	if (ran) {
		tcu_clock(ib->t, now);
		switch (j->kind) {
		case IJ_SCAN:
			scan_done(ib, j, now);
			break;
		case IJ_EXAMINE:
			examine_done(ib, j, e, now);
			break;
		case IJ_PREPARE:
			prepare_done(ib, j, e, now);
			break;
		case IJ_WITHDRAW:
			if (e)
				drop(ib, e);
			break;
		case IJ_RESUME:
			resume_done(ib, j, now);
			break;
		case IJ_DOWNLOAD:
			download_done(ib, j, e, now);
			break;
		case IJ_SWEEP:
			if (j->nlist)
				fota_info("%s: %zu firmware copies no request needs: removed",
					  ib->p->firmware, j->nlist);
			break;
		}
	}
	if (j->kind == IJ_PREPARE || j->kind == IJ_RESUME)
		cmd_serve_pkg_release(&j->pkg);
	if (j->kind != IJ_SWEEP)
		free(j->list);
	free(j->cancels);
	free(j->keep);
	free(j);
}

/* The oldest entry in state st (creation order: mtime, then name) that is due. */
static struct inbox_entry *oldest(struct inbox *ib, enum entry_state st, fota_us now)
{
	struct inbox_entry *best = NULL;

	for (size_t i = 0; i < ib->n; i++) {
		struct inbox_entry *e = &ib->e[i];

		if (e->st != st || e->retry_at > now)
			continue;
		if (!best || e->mtime_ns < best->mtime_ns ||
		    (e->mtime_ns == best->mtime_ns && strcmp(e->name, best->name) < 0))
			best = e;
	}
	return best;
}

/* Every listed request examined (none new, none with a job under way)? */
static bool settled(const struct inbox *ib)
{
	for (size_t i = 0; i < ib->n; i++)
		if (ib->e[i].st == E_NEW || ib->e[i].st == E_BUSY)
			return false;
	return true;
}

static void sweep(struct inbox *ib, fota_us now)
{
	struct tcu *t = ib->t;
	struct ijob *j = calloc(1, sizeof(*j));
	size_t n = 0;

	if (!j)
		return;
	j->keep = calloc(ib->n + 1, sizeof(*j->keep));
	if (!j->keep) {
		free(j);
		return;
	}
	for (size_t i = 0; i < ib->n; i++)
		if (ib->e[i].st == E_QUEUED || ib->e[i].st == E_OFFERED)
			snprintf(j->keep[n++], sizeof(j->keep[0]), "%s", ib->e[i].id);
	if (t->u.state == UPD_ST_AVAILABLE)
		snprintf(j->keep[n++], sizeof(j->keep[0]), "%s", tcu_current_id(t));
	j->nkeep = n;
	j->kind = IJ_SWEEP;
	j->ib = ib;
	if (fota_worker_submit(ib->w, ijob_run, ijob_done, ib, j, false)) {
		free(j->keep);
		free(j);
		return;
	}
	ib->swept = true;
	(void)now;
}

static void m_tick(void *ctx, fota_us now)
{
	struct inbox *ib = ctx;
	struct inbox_entry *e;
	struct ijob *j;
	struct tcu *t = ib->t;

	if (t->resuming && !ib->resume_sent) {
		if (now < ib->resume_at)
			return;
		ib->resume_sent = submit(ib, IJ_RESUME, NULL, tcu_current_id(t), now) != NULL;
		return;
	}
	if ((ib->rescan || now >= ib->next_scan) && !ib->scan_busy &&
	    now >= ib->last_scan + SERVE_SCAN_GAP_US) {
		ib->scan_busy = submit(ib, IJ_SCAN, NULL, NULL, now) != NULL;
		ib->rescan = false;
		ib->last_scan = now;
		ib->next_scan = now + SERVE_RESCAN_US;
	}
	if (!ib->examine_busy && (e = oldest(ib, E_NEW, now))) {
		j = submit(ib, IJ_EXAMINE, e->name, tcu_current_id(t), now);
		if (j) {
			snprintf(j->cur_name, sizeof(j->cur_name), "%s",
				 t->resuming ? "" : t->req_name);
			j->cur_offered = t->resuming || t->u.state == UPD_ST_AVAILABLE;
			j->final = now >= e->first_seen + FOTA_MS(SERVE_SETTLE_MS);
			e->st = E_BUSY;
			ib->examine_busy = true;
		}
	}
	if (!ib->swept && ib->scanned && !ib->scan_busy && !t->resuming && settled(ib))
		sweep(ib, now);
	if (!ib->prepare_busy && tcu_offerable(t) && (e = oldest(ib, E_QUEUED, now))) {
		if (submit(ib, IJ_PREPARE, e->name, e->id, now)) {
			e->st = E_BUSY;
			ib->prepare_busy = true;
		}
	}
}

static fota_us m_deadline(void *ctx)
{
	struct inbox *ib = ctx;
	fota_us d = FOTA_NEVER;

	if (ib->t->resuming && !ib->resume_sent)
		return ib->resume_at;
	if (!ib->scan_busy)
		d = ib->rescan ? ib->last_scan + SERVE_SCAN_GAP_US : ib->next_scan;
	if (!ib->examine_busy)
		for (size_t i = 0; i < ib->n; i++)
			if (ib->e[i].st == E_NEW)
				d = fota_min_deadline(d, ib->e[i].retry_at);
	if (!ib->prepare_busy && tcu_offerable(ib->t))
		for (size_t i = 0; i < ib->n; i++)
			if (ib->e[i].st == E_QUEUED)
				return 0;
	return d;
}

const struct loop_member_ops inbox_member_ops = {
	.tick = m_tick,
	.deadline = m_deadline,
};

void inbox_init(struct inbox *ib, const struct fota_config *cfg, const struct serve_paths *p,
		struct worker *w, struct tcu *t)
{
	memset(ib, 0, sizeof(*ib));
	ib->cfg = cfg;
	ib->p = p;
	ib->w = w;
	ib->t = t;
	ib->max_bytes = cfg->tcu.max_firmware_bytes;
	ib->rescan = true;
}

void inbox_poke(struct inbox *ib)
{
	ib->rescan = true;
}

size_t inbox_queued(const struct inbox *ib)
{
	size_t n = 0;

	for (size_t i = 0; i < ib->n; i++)
		n += ib->e[i].st == E_QUEUED;
	return n;
}

void inbox_release(struct inbox *ib)
{
	free(ib->e);
	ib->e = NULL;
	ib->n = 0;
}
