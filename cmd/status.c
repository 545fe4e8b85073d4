// SPDX-License-Identifier: MIT
/*
 * fota status: read every readable object of 0x5FF3 from the TCU with SDO
 * uploads and print them as `name: value meaning` lines (valid YAML) or JSON;
 * with --wait, poll update_status until a final state (>= 0x40) or a given
 * state, so that a pipeline can `fota approve && fota status --wait`.
 * Objects and states: the ECU FOTA CANopen Specification (DESIGN.md D4). Documented
 * in man/fota-status.1, whose JSON keys and exit statuses are an interface.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <json-c/json.h>
#include "cmd/cmd.h"
#include "cmd/common.h"
#include "cmd/sdo_common.h"
#include "cmd/serve.h"
#include "core/bus.h"
#include "core/update.h"
#include "sdo/fota_od.h"
#include "sdo/od.h"

static const char *const status_usage[] = {
	"fota status [-b BUS] [-n ID] [-c FILE] [--json] [-v|-q]",
	"fota status --wait[=STATE] [--timeout SEC] [--interval MS] [-b BUS] [-n ID] [--json]",
	"fota status --wait=available [--id UUID] [--state-dir DIR] [--timeout SEC] [-b BUS] "
	"[-n ID]",
	NULL,
};

#define KEY_WAIT     FOTA_OPT_LONG(1)
#define KEY_TIMEOUT  FOTA_OPT_LONG(2)
#define KEY_INTERVAL FOTA_OPT_LONG(3)
#define KEY_ID	     FOTA_OPT_LONG(4)
#define KEY_STATE    FOTA_OPT_LONG(5)

struct wait_opts {
	bool on;
	int state;	    /* -1: any final state; else a status byte or CMD_WAIT_AVAILABLE */
	uint32_t timeout_s; /* 0: none */
	uint32_t interval_ms;
	const char *id;	       /* --id: the request waited for */
	const char *state_dir; /* --state-dir */
};

static int opt_id(void *args, const char *value, char *msg, size_t size)
{
	struct wait_opts *w = args;

	if (!cfg_uuid_v4_ok(value))
		return fota_opt_error(msg, size, "invalid --id '%s' (a UUID version 4)", value);
	w->id = value;
	return 0;
}

static int opt_wait(void *args, const char *value, char *msg, size_t size)
{
	struct wait_opts *w = args;

	w->on = true;
	w->state = -1;
	if (value && cmd_wait_state_parse(value, &w->state))
		return fota_opt_error(
			msg, size,
			"unknown state '%s' (a name such as waiting or success, or a value such "
			"as 0x10)",
			value);
	return 0;
}

static const struct fota_opt status_opts[] = {
	FOTA_OPT_BUS,
	FOTA_OPT_NODE,
	FOTA_OPT_CONFIG,
	FOTA_OPT_TRACE,
	CMD_SDO_OPT_TIMEOUT,
	CMD_SDO_OPT_RETRIES,
	FOTA_OPT_JSON,
	FOTA_OPT_VERBOSE,
	FOTA_OPT_QUIET,
	FOTA_OPT_FN_WORDS(KEY_WAIT, "wait", "STATE",
			  "poll until a final state (>= 0x40), or until STATE (waiting, 0x10...)",
			  FOTA_OPT_OPTARG, opt_wait, cmd_wait_state_at),
	FOTA_OPT_U32(KEY_TIMEOUT, "timeout", "SEC",
		     "--wait gives up after SEC seconds (default: never)",
		     offsetof(struct wait_opts, timeout_s), 0, 30u * 24 * 3600, "s"),
	FOTA_OPT_U32(KEY_INTERVAL, "interval", "MS",
		     "--wait polls every MS milliseconds (default 500)",
		     offsetof(struct wait_opts, interval_ms), 10, 3600000, "ms"),
	FOTA_OPT_FN(KEY_ID, "id", "UUID",
		    "--wait=available waits for this request: offered, or refused by fota serve", 0,
		    opt_id),
	FOTA_OPT_STRING(KEY_STATE, "state-dir", "DIR",
			"fota serve's state directory on this machine, for refused requests "
			"(default: config, /var/lib/fota)",
			FOTA_OPT_DIR, offsetof(struct wait_opts, state_dir)),
	FOTA_OPT_END,
};

#define INTERVAL_DEFAULT_MS 500u
#define ID_CAP		    64u /* update_request_id is 36 characters; room for a longer one */

struct tcu_status {
	uint32_t v[256]; /* by sub-index */
	char id[ID_CAP + 1];
	size_t idlen;
};

static bool readable(const struct fota_od_object *o)
{
	return o->sub != FOTA_SUB_HIGHEST && (o->attr & OD_R);
}

/* Read every readable object in sub-index order; reports the first failure. */
static int read_all(struct cmd_sdo *s, struct tcu_status *st)
{
	int err;

	memset(st, 0, sizeof(*st));
	for (size_t i = 0; i < fota_od_nobjects; i++) {
		const struct fota_od_object *o = &fota_od_objects[i];

		if (!readable(o))
			continue;
		if (o->type == OD_VISIBLE_STRING) {
			err = cmd_sdo_upload(s, o->sub, st->id, ID_CAP, &st->idlen);
			/* VISIBLE_STRING may come NUL-padded: the text ends at the first NUL. */
			st->id[st->idlen] = '\0';
			st->idlen = strlen(st->id);
		} else {
			err = cmd_sdo_read_uint(s, o->sub, &st->v[o->sub]);
		}
		if (err)
			return cmd_sdo_report(s, "reading", o->sub, err);
	}
	return FOTA_EXIT_OK;
}

static void print_text(const struct tcu_status *st)
{
	char buf[4 * ID_CAP + 8];

	for (size_t i = 0; i < fota_od_nobjects; i++) {
		const struct fota_od_object *o = &fota_od_objects[i];

		if (!readable(o))
			continue;
		if (o->type == OD_VISIBLE_STRING)
			cmd_yaml_scalar(st->id, st->idlen, buf, sizeof(buf));
		else
			cmd_sdo_value_text(o->sub, st->v[o->sub], buf, sizeof(buf));
		printf("%s: %s\n", o->name, buf);
	}
}

static json_object *jtime(uint32_t t)
{
	char buf[32];

	return t ? json_object_new_string(cmd_iso8601(t, buf, sizeof(buf))) : NULL;
}

/*
 * The request fota serve refused last, from the state directory DIR when it
 * is on this machine: the bus has no object for it (a refused request never
 * reaches 0x5FF3). NULL (JSON null) when there is none or no such directory.
 */
static json_object *last_rejection(const char *dir)
{
	json_object *o = NULL, *t;
	char buf[32];

	if (!dir || cmd_serve_last_rejection_read(dir, &o))
		return NULL;
	if (json_object_object_get_ex(o, "time", &t) && json_object_is_type(t, json_type_int))
		json_object_object_add(
			o, "time_utc",
			json_object_new_string(
				cmd_iso8601((uint32_t)json_object_get_int64(t), buf, sizeof(buf))));
	return o;
}

static void print_json(struct cmd_sdo *s, const struct tcu_status *st, const char *dir)
{
	json_object *o = json_object_new_object();
	const char *txt = upd_status_str((uint8_t)st->v[FOTA_SUB_UPDATE_STATUS]);
	char id[ID_CAP + 1];

	/* VISIBLE_STRING is 0x20..0x7E; anything else would not be valid UTF-8 JSON. */
	for (size_t i = 0; i <= st->idlen; i++)
		id[i] = (i < st->idlen && (st->id[i] < 0x20 || st->id[i] > 0x7e)) ? '?' : st->id[i];

	json_object_object_add(o, "bus", json_object_new_string(s->ctx.bus->name));
	json_object_object_add(o, "node", json_object_new_int(s->node));
	for (size_t i = 0; i < fota_od_nobjects; i++) {
		const struct fota_od_object *d = &fota_od_objects[i];
		uint32_t v = st->v[d->sub];
		char key[64];

		if (!readable(d))
			continue;
		if (d->type == OD_VISIBLE_STRING) {
			json_object_object_add(o, d->name, json_object_new_string(id));
			continue;
		}
		json_object_object_add(o, d->name, json_object_new_int64(v));
		switch (d->sub) {
		case FOTA_SUB_UPDATE_STATUS:
			json_object_object_add(o, "update_status_text",
					       txt ? json_object_new_string(txt) : NULL);
			json_object_object_add(
				o, "final", json_object_new_boolean(upd_status_final((uint8_t)v)));
			break;
		case FOTA_SUB_UPDATE_AVAILABLE_TIME:
		case FOTA_SUB_UPDATE_START_TIME:
		case FOTA_SUB_UPDATE_END_TIME:
			snprintf(key, sizeof(key), "%s_utc", d->name);
			json_object_object_add(o, key, jtime(v));
			break;
		}
	}
	json_object_object_add(o, "last_rejection", last_rejection(dir));
	puts(json_object_to_json_string_ext(o, JSON_C_TO_STRING_SPACED |
						       JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(o);
	s->ctx.json_printed = true;
}

static int show(struct cmd_sdo *s, const char *dir)
{
	struct tcu_status st;
	int rc = read_all(s, &st);

	if (rc)
		return rc; /* -q is for stderr only: the values go out all the same */
	if (s->ctx.json)
		print_json(s, &st, dir);
	else
		print_text(&st);
	return FOTA_EXIT_OK;
}

/*
 * Has fota serve on this machine refused the request --wait=available waits
 * for? Read from its state directory DIR (NULL: none here). With --id: that
 * id's report (DIR/outbox/ID.json) is a refusal (failed, no update_status)
 * and no newer DIR/inbox/ID.yaml (a corrected request) waits to be examined.
 * Without: DIR/last-rejection.json was written since the wait began
 * (nanosecond modification times). The reason into why.
 */
static bool refused(const char *dir, const char *id, const struct timespec *since, char *why,
		    size_t size)
{
	char path[CFG_PATH_MAX + 64];
	json_object *o, *v;
	struct stat st;
	bool yes = false;

	if (!dir)
		return false;
	if (id) {
		struct cmd_serve_report r;
		char lower[CFG_UUID_LEN + 1];

		for (int i = 0; i <= CFG_UUID_LEN; i++)
			lower[i] = (char)(id[i] >= 'A' && id[i] <= 'F' ? id[i] + 32 : id[i]);
		snprintf(path, sizeof(path), "%s/outbox", dir);
		if (cmd_serve_report_load(&r, path, lower))
			return false;
		yes = cmd_serve_report_rejected(&r);
		/* a corrected request, inbox/ID.yaml, newer than the refusal: serve will look */
		if (yes) {
			struct stat rs, is;
			char rpath[CFG_PATH_MAX + 128], ipath[CFG_PATH_MAX + 128];

			snprintf(rpath, sizeof(rpath), "%s/outbox/%s.json", dir, lower);
			snprintf(ipath, sizeof(ipath), "%s/inbox/%s.yaml", dir, lower);
			if (!stat(rpath, &rs) && !stat(ipath, &is) &&
			    (is.st_mtim.tv_sec > rs.st_mtim.tv_sec ||
			     (is.st_mtim.tv_sec == rs.st_mtim.tv_sec &&
			      is.st_mtim.tv_nsec >= rs.st_mtim.tv_nsec)))
				yes = false;
		}
		if (yes)
			snprintf(why, size, "update request %s was refused by fota serve: %s",
				 lower,
				 json_object_object_get_ex(r.o, "reason", &v) && v ?
					 json_object_get_string(v) :
					 "(no reason given)");
		cmd_serve_report_release(&r);
		return yes;
	}
	snprintf(path, sizeof(path), "%s/%s", dir, CMD_SERVE_LAST_REJECTION);
	if (stat(path, &st) || st.st_mtim.tv_sec < since->tv_sec ||
	    (st.st_mtim.tv_sec == since->tv_sec && st.st_mtim.tv_nsec < since->tv_nsec) ||
	    cmd_serve_last_rejection_read(dir, &o))
		return false;
	snprintf(why, size, "update request %s (%s) was refused by fota serve: %s",
		 json_object_object_get_ex(o, "id", &v) && v ? json_object_get_string(v) :
							       "without id",
		 json_object_object_get_ex(o, "request_file", &v) && v ? json_object_get_string(v) :
									 "?",
		 json_object_object_get_ex(o, "reason", &v) && v ? json_object_get_string(v) :
								   "(no reason given)");
	json_object_put(o);
	return true;
}

static const char *status_name(uint32_t v)
{
	const char *t = upd_status_str((uint8_t)v);

	return t ? t : "(undefined value)";
}

/*
 * Poll update_available and update_status (and update_progress while
 * flashing) until the wait is over; each change goes to stderr (not with -q).
 * A final state ends every wait, as nothing changes after it until the next
 * update is offered; only --wait=available waits on through it. A final state
 * seen while update_available = 0x01 belongs to the previous update and does
 * not count.
 */
static int wait_for(struct cmd_sdo *s, const struct wait_opts *w, const char *dir, bool *ended)
{
	fota_us start = fota_now(), end = FOTA_NEVER, nap;
	uint32_t avail, status, progress = 0, last_avail = 2, last_status = 0x100, last_prog = 101;
	struct timespec since;
	char want[64], why[1024], cur[ID_CAP + 1] = "", last_cur[ID_CAP + 1] = "";
	bool mine = true;
	size_t len = 0;
	int err;

	clock_gettime(CLOCK_REALTIME, &since);
	*ended = false; /* true once the TCU answered and the wait ended by its state or time */
	if (w->timeout_s)
		end = start + FOTA_SEC(w->timeout_s);
	if (w->state == CMD_WAIT_AVAILABLE)
		snprintf(want, sizeof(want), "an update to be available");
	else if (w->state >= 0)
		snprintf(want, sizeof(want), "0x%02X %s", w->state,
			 status_name((uint32_t)w->state));
	for (;;) {
		fota_us now;

		err = cmd_sdo_read_uint(s, FOTA_SUB_UPDATE_AVAILABLE, &avail);
		if (err)
			return cmd_sdo_report(s, "reading", FOTA_SUB_UPDATE_AVAILABLE, err);
		err = cmd_sdo_read_uint(s, FOTA_SUB_UPDATE_STATUS, &status);
		if (err)
			return cmd_sdo_report(s, "reading", FOTA_SUB_UPDATE_STATUS, err);
		if (avail && w->id) {
			err = cmd_sdo_upload(s, FOTA_SUB_UPDATE_REQUEST_ID, cur, ID_CAP, &len);
			if (err)
				return cmd_sdo_report(s, "reading", FOTA_SUB_UPDATE_REQUEST_ID,
						      err);
			cur[len] = '\0';
			mine = !strcasecmp(cur, w->id);
			if (!mine && strcmp(cur, last_cur))
				fota_info("update %s is offered, not %s: waiting on", cur, w->id);
			snprintf(last_cur, sizeof(last_cur), "%s", cur);
		}
		if (!avail && status == UPD_STATUS_FLASHING) {
			err = cmd_sdo_read_uint(s, FOTA_SUB_UPDATE_PROGRESS, &progress);
			if (err)
				return cmd_sdo_report(s, "reading", FOTA_SUB_UPDATE_PROGRESS, err);
		}
		if (avail != last_avail || status != last_status ||
		    (status == UPD_STATUS_FLASHING && progress != last_prog)) {
			if (avail)
				fota_info("update available, waiting for approval");
			else if (status == UPD_STATUS_FLASHING)
				fota_info("update_status: 0x01 %s, %" PRIu32 "%%",
					  status_name(status), progress);
			else
				fota_info("update_status: 0x%02" PRIX32 " %s", status,
					  status_name(status));
			last_avail = avail;
			last_status = status;
			last_prog = progress;
		}

		*ended = true;
		if (w->state == CMD_WAIT_AVAILABLE && avail && mine)
			return FOTA_EXIT_OK;
		/* a refused request never becomes available: the bus cannot say so */
		if (w->state == CMD_WAIT_AVAILABLE &&
		    refused(dir, w->id, &since, why, sizeof(why))) {
			fota_error("%s", why);
			return FOTA_EXIT_DATA;
		}
		if (w->state >= 0 && w->state != CMD_WAIT_AVAILABLE && !avail &&
		    status == (uint32_t)w->state)
			return FOTA_EXIT_OK;
		if (!avail && upd_status_final((uint8_t)status) && w->state != CMD_WAIT_AVAILABLE) {
			int rc = cmd_status_exit((uint8_t)status);

			if (w->state < 0)
				return rc;
			fota_error("the update ended with update_status 0x%02" PRIX32
				   " %s before reaching %s",
				   status, status_name(status), want);
			return rc == FOTA_EXIT_OK ? FOTA_EXIT_FAIL : rc;
		}

		now = fota_now();
		if (now >= end) {
			if (avail)
				fota_error("an update is still waiting for approval after %" PRIu32
					   " s",
					   w->timeout_s);
			else
				fota_error("update_status is still 0x%02" PRIX32
					   " %s after %" PRIu32 " s",
					   status, status_name(status), w->timeout_s);
			return FOTA_EXIT_UNAVAILABLE;
		}
		*ended = false;
		nap = FOTA_MS(w->interval_ms);
		if (end != FOTA_NEVER && end - now < nap)
			nap = end - now;
		err = cmd_sdo_idle(s, nap);
		if (err)
			return cmd_sdo_report(s, "waiting on", FOTA_SUB_UPDATE_STATUS, err);
	}
}

static int run_status(int argc, char **argv)
{
	struct cmd_sdo s;
	struct wait_opts w = { .state = -1, .interval_ms = INTERVAL_DEFAULT_MS };
	bool ended = false;
	int rc;

	const char *dir = NULL;
	struct stat st;

	cmd_sdo_init(&s, &cmd_status);
	cmd_parse_options(&s.ctx, &w, argc, argv);
	if (!w.on && (cmd_opt_given(&s.ctx, KEY_TIMEOUT) || cmd_opt_given(&s.ctx, KEY_INTERVAL)))
		return cmd_json_failure(
			&s.ctx,
			fota_usage_error(&cmd_status, "--timeout and --interval need --wait"));
	if (w.id && (!w.on || w.state != CMD_WAIT_AVAILABLE))
		return cmd_json_failure(
			&s.ctx, fota_usage_error(&cmd_status, "--id needs --wait=available"));
	if (w.state_dir) {
		int err = stat(w.state_dir, &st) ? -errno : S_ISDIR(st.st_mode) ? 0 : -ENOTDIR;

		if (err) {
			fota_error_errno(err, "--state-dir %s", w.state_dir);
			return cmd_json_failure(&s.ctx, fota_exit_status(FOTA_FAIL_INPUT, err));
		}
	}

	rc = cmd_sdo_open(&s);
	/* fota serve's state directory, when it is on this machine */
	dir = w.state_dir ? w.state_dir : s.state_dir[0] ? s.state_dir : NULL;
	if (dir && (stat(dir, &st) || !S_ISDIR(st.st_mode)))
		dir = NULL;
	if (!rc && w.on)
		rc = wait_for(&s, &w, dir, &ended);
	/* The whole picture at the end of a wait too (for the pipeline's log). */
	if (!rc || ended) {
		int r = show(&s, dir);

		rc = rc ? rc : r;
	}
	return cmd_json_failure(&s.ctx, fota_exit_worst(rc, cmd_sdo_close(&s)));
}

const struct fota_cmd cmd_status = {
	.name = "status",
	.summary = "show the TCU's update objects (0x5FF3), or wait for a state",
	.usage = status_usage,
	.opts = status_opts,
	.run = run_status,
};
