// SPDX-License-Identifier: MIT
/*
 * fota status: read every readable object of 0x5FF3 from the TCU with SDO
 * uploads and print them as `name: value meaning` lines (valid YAML) or JSON;
 * with --wait, poll update_status until a final state (>= 0x40) or a given
 * state, so that a pipeline can `fota approve && fota status --wait`.
 * Objects and states: the ECU FOTA CANopen Specification (DESIGN.md D4). Documented
 * in man/fota-status.1, whose JSON keys and exit statuses are an interface.
 */
#include <stdio.h>
#include <string.h>
#include <json-c/json.h>
#include "cmd/cmd.h"
#include "cmd/common.h"
#include "cmd/sdo_common.h"
#include "core/bus.h"
#include "core/update.h"
#include "sdo/fota_od.h"
#include "sdo/od.h"

static const char *const status_usage[] = {
	"fota status [-b BUS] [-n ID] [-c FILE] [--json] [-q]",
	"fota status --wait[=STATE] [--timeout SEC] [--interval MS] [-b BUS] [-n ID] [--json]",
	NULL,
};

#define KEY_WAIT     FOTA_OPT_LONG(1)
#define KEY_TIMEOUT  FOTA_OPT_LONG(2)
#define KEY_INTERVAL FOTA_OPT_LONG(3)

struct wait_opts {
	bool on;
	int state;	    /* -1: any final state; else a status byte or CMD_WAIT_AVAILABLE */
	uint32_t timeout_s; /* 0: none */
	uint32_t interval_ms;
};

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

static void print_json(struct cmd_sdo *s, const struct tcu_status *st)
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
	puts(json_object_to_json_string_ext(o, JSON_C_TO_STRING_SPACED |
						       JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(o);
}

static int show(struct cmd_sdo *s)
{
	struct tcu_status st;
	int rc = read_all(s, &st);

	if (rc || s->ctx.verbose < 0)
		return rc;
	if (s->ctx.json)
		print_json(s, &st);
	else
		print_text(&st);
	return FOTA_EXIT_OK;
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
static int wait_for(struct cmd_sdo *s, const struct wait_opts *w, bool *ended)
{
	fota_us start = fota_now(), end = FOTA_NEVER, nap;
	uint32_t avail, status, progress = 0, last_avail = 2, last_status = 0x100, last_prog = 101;
	char want[64];
	int err;

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
		if (w->state == CMD_WAIT_AVAILABLE && avail)
			return FOTA_EXIT_OK;
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

	cmd_sdo_init(&s, &cmd_status);
	cmd_parse_options(&s.ctx, &w, argc, argv);
	if (!w.on && (cmd_opt_given(&s.ctx, KEY_TIMEOUT) || cmd_opt_given(&s.ctx, KEY_INTERVAL)))
		return fota_usage_error(&cmd_status, "--timeout and --interval need --wait");

	rc = cmd_sdo_open(&s);
	if (!rc && w.on)
		rc = wait_for(&s, &w, &ended);
	/* The whole picture at the end of a wait too (for the pipeline's log). */
	if (!rc || ended) {
		int r = show(&s);

		rc = rc ? rc : r;
	}
	return fota_exit_worst(rc, cmd_sdo_close(&s));
}

const struct fota_cmd cmd_status = {
	.name = "status",
	.summary = "show the TCU's update objects (0x5FF3), or wait for a state",
	.usage = status_usage,
	.opts = status_opts,
	.run = run_status,
};
