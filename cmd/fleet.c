// SPDX-License-Identifier: MIT
/*
 * fota fleet: watch TCUs through the broker (fota-mqtt(7)): their retained
 * status and online topics and the reports they publish. A live table on a
 * terminal, one line per event otherwise, NDJSON with --json; --wait ends
 * when every targeted TCU has a final result for the given request ids and
 * sums them up in the exit status. Documented in man/fota-fleet.1.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <json-c/json.h>
#include "cmd/cmd.h"
#include "cmd/common.h"
#include "cmd/mqtt_client.h"
#include "core/mqtt.h"
#include "core/request.h"

static const char *const fleet_usage[] = {
	"fota fleet [-c FILE] [(-t TCU_ID)... | --tcu-file FILE] [--id UUID]... [--json] "
	"[--wait] [--timeout SEC] [--session NAME] [--url URL] [--ca FILE] [--cert FILE] "
	"[--key FILE] [--client-id ID] [--prefix PREFIX] [-q]",
	NULL,
};

#define KEY_ID	    FOTA_OPT_LONG(1)
#define KEY_WAIT    FOTA_OPT_LONG(2)
#define KEY_SESSION FOTA_OPT_LONG(3)
#define IDS_MAX	    16
#define REDRAW_MS   250 /* the live table: at most 4 frames a second */
#define CONNECT_MS  10000

struct fleet_args {
	struct mqc_cli cli; /* first: mqc_opt_tcu() */
	const char *ids[IDS_MAX];
	size_t nids;
	bool wait;
	const char *session;
};

enum outcome {
	PENDING,
	SUCCEEDED,
	FAILED
};

struct tcu {
	char *id;
	int online; /* -1 not seen */
	int update_status;
	char status_text[48];
	int progress;
	char request[CFG_UUID_LEN + 1];
	char report[24]; /* the last report's status */
	int64_t last_ms; /* mqc_mono_ms() of its last event; 0 never */
	bool targeted;
	enum outcome outcome;
};

struct fleet {
	struct cmd_ctx *ctx;
	const struct fleet_args *a;
	char prefix[CFG_TOPIC_PREFIX_MAX];
	struct tcu *t;
	size_t n;
	bool table; /* a live table on a terminal */
	bool dirty;
	int64_t drawn_ms;
};

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	stop = sig;
}

static int opt_id(void *args, const char *value, char *msg, size_t size)
{
	struct fleet_args *a = args;

	if (!cfg_uuid_v4_ok(value))
		return fota_opt_error(msg, size, "invalid --id '%s' (a UUID version 4)", value);
	if (a->nids == IDS_MAX)
		return fota_opt_error(msg, size, "at most %d --id", IDS_MAX);
	a->ids[a->nids++] = value;
	return 0;
}

static const struct fota_opt fleet_opts[] = {
	FOTA_OPT_CONFIG,
	FOTA_OPT_FN(KEY_ID, "id", "UUID", "the request to follow, repeatable", 0, opt_id),
	FOTA_OPT_FLAG(KEY_WAIT, "wait",
		      "wait until every TCU given has a final result for the --id requests",
		      offsetof(struct fleet_args, wait)),
	FOTA_OPT_STRING(KEY_SESSION, "session", "NAME",
			"a persistent MQTT session with client id NAME", 0,
			offsetof(struct fleet_args, session)),
	MQC_OPTS(struct fleet_args),
	FOTA_OPT_JSON,
	FOTA_OPT_QUIET,
	FOTA_OPT_END,
};

static struct tcu *tcu_get(struct fleet *f, const char *id, bool add)
{
	struct tcu *t;

	for (size_t i = 0; i < f->n; i++)
		if (!strcmp(f->t[i].id, id))
			return &f->t[i];
	if (!add)
		return NULL;
	t = realloc(f->t, (f->n + 1) * sizeof(*t));
	if (!t)
		return NULL;
	f->t = t;
	t = &f->t[f->n];
	*t = (struct tcu){ .online = -1, .update_status = -1, .progress = -1 };
	t->id = strdup(id);
	if (!t->id)
		return NULL;
	f->n++;
	return t;
}

static bool followed(const struct fleet *f, const char *id)
{
	if (!f->a->nids)
		return true;
	for (size_t i = 0; i < f->a->nids; i++)
		if (id && !strcasecmp(f->a->ids[i], id))
			return true;
	return false;
}

static const char *jstr(struct json_object *o, const char *key)
{
	struct json_object *v;

	if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

static bool jint(struct json_object *o, const char *key, int64_t *out)
{
	struct json_object *v;

	if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_int))
		return false;
	*out = json_object_get_int64(v);
	return true;
}

/* status: the 0x5FF3 objects as fota status --json has them, plus tcu and time_ms */
static void take_status(struct fleet *f, struct tcu *t, struct json_object *o)
{
	const char *s;
	int64_t v;

	if (jint(o, "update_status", &v) && v >= 0 && v <= 0xFF)
		t->update_status = (int)v;
	s = jstr(o, "update_status_text");
	snprintf(t->status_text, sizeof(t->status_text), "%s", s ? s : "");
	if (jint(o, "update_progress", &v) && v >= 0 && v <= 100)
		t->progress = (int)v;
	s = jstr(o, "update_request_id");
	snprintf(t->request, sizeof(t->request), "%s", s ? s : "");
	/* fota-status(1): final is update_status 0x40 or above; 0x40 is successful */
	if (f->a->nids && t->update_status >= 0x40 && followed(f, t->request) &&
	    t->outcome == PENDING)
		t->outcome = t->update_status == 0x40 ? SUCCEEDED : FAILED;
}

/* report: the outbox report (fota-serve(1)); status successful, failed, cancelled */
static void take_report(struct fleet *f, struct tcu *t, const char *rid, struct json_object *o)
{
	const char *s = jstr(o, "status"), *id = jstr(o, "id");

	snprintf(t->report, sizeof(t->report), "%s", s ? s : "?");
	if (!id)
		id = rid;
	if (!f->a->nids || !s || !followed(f, id) || t->outcome != PENDING)
		return;
	if (!strcmp(s, "successful"))
		t->outcome = SUCCEEDED;
	else if (!strcmp(s, "failed") || !strcmp(s, "cancelled"))
		t->outcome = FAILED;
}

static void draw_table(struct fleet *f, int64_t now)
{
	printf("\033[H\033[2J%-24s %-7s %-4s %-28s %4s %-36s %-12s %s\n", "TCU", "ONLINE", "ST",
	       "STATUS", "PROG", "REQUEST", "REPORT", "AGE");
	for (size_t i = 0; i < f->n; i++) {
		const struct tcu *t = &f->t[i];
		char st[16] = "-", prog[16] = "-", age[32] = "-";

		if (t->update_status >= 0)
			snprintf(st, sizeof(st), "%02X", (unsigned)t->update_status);
		if (t->progress >= 0)
			snprintf(prog, sizeof(prog), "%d%%", t->progress);
		if (t->last_ms)
			snprintf(age, sizeof(age), "%llds", (long long)((now - t->last_ms) / 1000));
		printf("%-24s %-7s %-4s %-28s %4s %-36s %-12s %s\n", t->id,
		       t->online < 0 ? "?" :
		       t->online     ? "yes" :
				       "no",
		       st, t->status_text[0] ? t->status_text : "-", prog,
		       t->request[0] ? t->request : "-", t->report[0] ? t->report : "-", age);
	}
	fflush(stdout);
	f->dirty = false;
	f->drawn_ms = now;
}

static void emit(struct fleet *f, const char *tcu, const char *kind, const char *rid,
		 struct json_object *payload, int64_t recv_ms)
{
	struct json_object *o;
	int64_t t;

	if (f->table) {
		f->dirty = true;
		return;
	}
	if (!f->ctx->json) {
		printf("%s\t%s\t%s\n", tcu, rid ? rid : kind,
		       json_object_to_json_string_ext(payload, JSON_C_TO_STRING_PLAIN));
		fflush(stdout);
		return;
	}
	o = json_object_new_object();
	json_object_object_add(o, "tcu", json_object_new_string(tcu));
	json_object_object_add(o, "kind", json_object_new_string(kind));
	if (rid)
		json_object_object_add(o, "id", json_object_new_string(rid));
	json_object_object_add(o, "payload", json_object_get(payload));
	json_object_object_add(o, "time_ms", json_object_new_int64(recv_ms));
	if (!strcmp(kind, "status") && jint(payload, "time_ms", &t))
		json_object_object_add(o, "latency_ms", json_object_new_int64(recv_ms - t));
	printf("%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
	fflush(stdout);
	json_object_put(o);
}

static void on_msg(void *user, const char *topic, const void *payload, size_t len, bool retained)
{
	struct fleet *f = user;
	size_t pl = strlen(f->prefix);
	char tcu[CFG_NAME_MAX], kind[16], rid[128] = "";
	const char *p, *slash;
	struct json_object *o = NULL;
	struct tcu *t;
	int64_t now = mqc_unix_ms();

	(void)retained;
	if (!len) /* a cleared retained message */
		return;
	if (strncmp(topic, f->prefix, pl) || topic[pl] != '/')
		return;
	p = topic + pl + 1;
	slash = strchr(p, '/');
	if (!slash || (size_t)(slash - p) >= sizeof(tcu))
		return;
	memcpy(tcu, p, (size_t)(slash - p));
	tcu[slash - p] = '\0';
	p = slash + 1;
	if (!cfg_is_tcu_id(tcu))
		return;
	if (!strncmp(p, "report/", 7) && p[7] && strlen(p + 7) < sizeof(rid)) {
		snprintf(kind, sizeof(kind), "report");
		snprintf(rid, sizeof(rid), "%s", p + 7);
	} else if (!strcmp(p, "status") || !strcmp(p, "online")) {
		snprintf(kind, sizeof(kind), "%s", p);
	} else {
		return;
	}
	t = tcu_get(f, tcu, !f->a->cli.ntcus && !f->a->cli.tcu_file);
	if (!t)
		return;
	if (!strcmp(kind, "online")) {
		if (len == 4 && !memcmp(payload, "true", 4))
			o = json_object_new_boolean(1);
		else if (len == 5 && !memcmp(payload, "false", 5))
			o = json_object_new_boolean(0);
	} else {
		struct json_tokener *tok = json_tokener_new();

		if (tok && len < 1024 * 1024) {
			o = json_tokener_parse_ex(tok, payload, (int)len);
			if (json_tokener_get_error(tok) != json_tokener_success ||
			    json_tokener_get_parse_end(tok) != len ||
			    !json_object_is_type(o, json_type_object)) {
				json_object_put(o);
				o = NULL;
			}
		}
		json_tokener_free(tok);
	}
	if (!o) {
		fota_warn("%s: ignored: %s", topic,
			  !strcmp(kind, "online") ? "not true or false" : "not one JSON object");
		return;
	}
	t->last_ms = mqc_mono_ms();
	if (!strcmp(kind, "online"))
		t->online = json_object_get_boolean(o);
	else if (!strcmp(kind, "status"))
		take_status(f, t, o);
	else
		take_report(f, t, rid, o);
	emit(f, tcu, kind, rid[0] ? rid : NULL, o, now);
	json_object_put(o);
}

static int subscribe_all(struct fleet *f, struct mqc *c)
{
	static const char *const kinds[] = { "status", "report/+", "online" };
	char topic[CFG_TOPIC_PREFIX_MAX + CFG_NAME_MAX + 16];
	bool all = !f->a->cli.ntcus && !f->a->cli.tcu_file;

	for (size_t i = 0; i < (all ? 1 : f->n); i++)
		for (size_t k = 0; k < 3; k++) {
			snprintf(topic, sizeof(topic), "%s/%s/%s", f->prefix,
				 all ? "+" : f->t[i].id, kinds[k]);
			if (mqc_subscribe(c, topic)) {
				fota_error("%s: cannot subscribe", topic);
				return FOTA_EXIT_FAIL;
			}
		}
	return 0;
}

/*
 * The connection was lost: connect again with the serve link's backoff
 * (fota-mqtt(7), CONNECTION) until the deadline, then subscribe again. The
 * statuses are retained, so the broker sends each TCU's latest again: an
 * outcome reached meanwhile is not lost (a report is, without --session).
 * 0: connected; FOTA_EXIT_*: give up (refused, or stopped).
 */
static int reconnect(struct fleet *f, struct mqc *c, const struct mqc_opts *mo, int64_t deadline)
{
	char why[256];

	for (unsigned attempt = 0; !stop; attempt++) {
		int64_t now = mqc_mono_ms(), wake;
		uint32_t rnd;
		int err;

		/* each instance its own draw: fleets restarted together spread out */
		if (getentropy(&rnd, sizeof(rnd)))
			rnd = (uint32_t)getpid() ^ (uint32_t)now;
		wake = now + fota_mqtt_backoff_ms(attempt, rnd);
		if (wake > deadline)
			wake = deadline;
		while (!stop && (now = mqc_mono_ms()) < wake)
			usleep((useconds_t)((wake - now > 100 ? 100 : wake - now) * 1000));
		if (stop || now >= deadline)
			return 0; /* the caller's loop ends: timeout or signal */
		err = mqc_reconnect(c, now + CONNECT_MS < deadline ? now + CONNECT_MS : deadline,
				    why, sizeof(why));
		if (!err) {
			fota_info("broker %s:%u: reconnected", mo->host, mo->port);
			return subscribe_all(f, c);
		}
		if (err == -EACCES) {
			fota_error("broker %s:%u: %s", mo->host, mo->port, why);
			return FOTA_EXIT_FAIL;
		}
		fota_warn("broker %s:%u: %s; trying again", mo->host, mo->port, why);
	}
	return 0;
}

/* --wait: all targeted TCUs have an outcome; the summary and the exit status */
static bool all_done(const struct fleet *f)
{
	for (size_t i = 0; i < f->n; i++)
		if (f->t[i].outcome == PENDING)
			return false;
	return true;
}

static int summary(struct fleet *f, bool timed_out)
{
	size_t ok = 0, bad = 0, pending = 0;

	for (size_t i = 0; i < f->n; i++) {
		ok += f->t[i].outcome == SUCCEEDED;
		bad += f->t[i].outcome == FAILED;
		if (f->t[i].outcome == PENDING) {
			pending++;
			fota_error("%s: no final result (still pending)", f->t[i].id);
		} else if (f->t[i].outcome == FAILED) {
			fota_error("%s: failed (update_status %s, report %s)", f->t[i].id,
				   f->t[i].status_text[0] ? f->t[i].status_text : "-",
				   f->t[i].report[0] ? f->t[i].report : "-");
		}
	}
	if (f->ctx->json) {
		printf("{\"kind\":\"summary\",\"successful\":%zu,\"failed\":%zu,\"pending\":%zu}\n",
		       ok, bad, pending);
		f->ctx->json_printed = true;
	} else {
		printf("%zu successful, %zu failed, %zu pending of %zu TCUs\n", ok, bad, pending,
		       f->n);
	}
	return timed_out ? FOTA_EXIT_UNAVAILABLE : bad ? FOTA_EXIT_FAIL : FOTA_EXIT_OK;
}

static int watch(struct fleet *f, const struct mqc_opts *mo)
{
	const struct fleet_args *a = f->a;
	int64_t start = mqc_mono_ms(),
		deadline = a->cli.timeout_s ? start + 1000LL * a->cli.timeout_s : INT64_MAX;
	char why[256];
	struct mqc *c = mqc_new(mo, on_msg, f, why, sizeof(why));
	int rc, err;

	if (!c) {
		fota_error("%s", why);
		return FOTA_EXIT_DATA;
	}
	err = mqc_connect(c,
			  start + (a->cli.timeout_s && a->cli.timeout_s * 1000LL < CONNECT_MS ?
					   a->cli.timeout_s * 1000LL :
					   CONNECT_MS),
			  why, sizeof(why));
	if (err) {
		fota_error("broker %s:%u: %s", mo->host, mo->port, why);
		mqc_free(c);
		return err == -EACCES ? FOTA_EXIT_FAIL : FOTA_EXIT_UNAVAILABLE;
	}
	rc = subscribe_all(f, c);
	while (!rc && !stop) {
		int64_t now = mqc_mono_ms();

		if (a->wait && all_done(f))
			break;
		if (now >= deadline)
			break;
		if (f->table && (f->dirty || now - f->drawn_ms >= 1000) &&
		    now - f->drawn_ms >= REDRAW_MS)
			draw_table(f, now);
		if (mqc_step(c, (int)(deadline - now < REDRAW_MS ? deadline - now : REDRAW_MS), why,
			     sizeof(why))) {
			if (stop)
				break;
			fota_warn("broker %s:%u: %s; reconnecting", mo->host, mo->port, why);
			rc = reconnect(f, c, mo, deadline);
		}
	}
	if (f->table)
		draw_table(f, mqc_mono_ms());
	if (!rc && a->wait)
		rc = summary(f, !all_done(f));
	mqc_disconnect(c);
	mqc_free(c);
	return rc;
}

static int run_fleet(int argc, char **argv)
{
	struct fleet_args a = { 0 };
	struct fleet f = { 0 };
	struct fota_config cfg;
	struct cmd_ctx ctx;
	struct mqc_opts mo;
	struct sigaction sa = { .sa_handler = on_signal };
	char client_id[256];
	char **tcus = NULL;
	size_t ntcus = 0;
	int rc;

	cmd_ctx_init(&ctx, &cmd_fleet);
	if (cmd_parse_options(&ctx, &a, argc, argv) != 0) {
		free(a.cli.tcus);
		return cmd_json_failure(&ctx, fota_usage_error(&cmd_fleet, "no operands expected"));
	}
	if (a.wait && (!a.nids || (!a.cli.ntcus && !a.cli.tcu_file))) {
		free(a.cli.tcus);
		return cmd_json_failure(
			&ctx, fota_usage_error(&cmd_fleet, "--wait needs the TCUs (-t, "
							   "--tcu-file) and the requests (--id)"));
	}
	if (a.session && a.cli.client_id) {
		free(a.cli.tcus);
		return cmd_json_failure(&ctx, fota_usage_error(&cmd_fleet, "--session and "
									   "--client-id exclude "
									   "each other"));
	}
	f.ctx = &ctx;
	f.a = &a;
	rc = mqc_cli_resolve(&ctx, &a.cli, "fleet", &cfg, &mo, client_id, sizeof(client_id),
			     f.prefix, sizeof(f.prefix));
	if (!rc && a.session) {
		snprintf(client_id, sizeof(client_id), "%s", a.session);
		mo.clean = false;
	}
	if (!rc)
		rc = mqc_cli_tcus(&a.cli, &tcus, &ntcus);
	if (!rc && (a.cli.ntcus || a.cli.tcu_file) && !ntcus) {
		fota_error("%s: no TCU id in it", a.cli.tcu_file);
		rc = FOTA_EXIT_DATA;
	}
	for (size_t i = 0; !rc && i < ntcus; i++) {
		struct tcu *t = tcu_get(&f, tcus[i], true);

		if (!t) {
			fota_error("%s", strerror(ENOMEM));
			rc = FOTA_EXIT_FAIL;
		} else {
			t->targeted = true;
		}
	}
	if (!rc) {
		f.table = !ctx.json && isatty(STDOUT_FILENO);
		sigaction(SIGINT, &sa, NULL);
		sigaction(SIGTERM, &sa, NULL);
		rc = watch(&f, &mo);
	}
	cfg_release(&cfg);
	for (size_t i = 0; i < f.n; i++)
		free(f.t[i].id);
	free(f.t);
	mqc_tcus_free(tcus, ntcus);
	free(a.cli.tcus);
	return fota_finish_stdout(cmd_json_failure(&ctx, rc));
}

const struct fota_cmd cmd_fleet = {
	.name = "fleet",
	.summary = "watch the status and reports of TCUs over MQTT",
	.usage = fleet_usage,
	.opts = fleet_opts,
	.run = run_fleet,
};
