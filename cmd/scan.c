// SPDX-License-Identifier: MIT
/*
 * fota scan: what is on this bus. Wiring only: the UDS scan engine
 * (uds/scan.h: functional TesterPresent, physical probes, ReadDataByIdentifier
 * 0xF190/0xF189/0xF187 of each responder) and the CANopen one (sdo/scan.h:
 * 0x1000 and 0x1018 of a node range, boot-ups and heartbeats) run side by
 * side in one core/loop.h loop, with one receive filter for both; the
 * results become a table or JSON. Documented in man/fota-scan.1, whose JSON
 * keys and exit statuses are an interface.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <json-c/json.h>
#include "cmd/cmd.h"
#include "cmd/common.h"
#include "core/bus.h"
#include "core/config.h"
#include "core/loop.h"
#include "core/time.h"
#include "sdo/nmt.h"
#include "sdo/scan.h"
#include "sdo/sdo.h"
#include "uds/scan.h"
#include "uds/uds.h"

static const char *const scan_usage[] = {
	"fota scan [-b BUS] [--uds | --canopen] [--nodes FIRST-LAST] [--physical FIRST-LAST] "
	"[--extended] [--json]",
	"fota scan [-b BUS] [--window MS] [--timeout MS] [--limit MS] [--functional-id ID]",
	NULL,
};

#define KEY_UDS	     FOTA_OPT_LONG(1)
#define KEY_CANOPEN  FOTA_OPT_LONG(2)
#define KEY_NODES    FOTA_OPT_LONG(3)
#define KEY_PHYSICAL FOTA_OPT_LONG(4)
#define KEY_EXTENDED FOTA_OPT_LONG(5)
#define KEY_FUNC_ID  FOTA_OPT_LONG(6)
#define KEY_WINDOW   FOTA_OPT_LONG(7)
#define KEY_TIMEOUT  FOTA_OPT_LONG(8)
#define KEY_LIMIT    FOTA_OPT_LONG(9)

#define LIMIT_DEFAULT_MS 2000u

struct scan_args {
	bool uds, canopen, extended;
	uint32_t node_first, node_last;
	bool physical;
	struct fota_can_id phys_first, phys_last;
	struct fota_can_id func;
	uint32_t window_ms, timeout_ms, limit_ms;
};

/* "A-B" (or "A") into two strings; -EINVAL if it is neither. */
static int split_range(const char *value, char *a, char *b, size_t cap)
{
	const char *dash = strchr(value, '-');
	size_t n = dash ? (size_t)(dash - value) : strlen(value);

	if (!n || n >= cap || (dash && (!dash[1] || strlen(dash + 1) >= cap)))
		return -EINVAL;
	memcpy(a, value, n);
	a[n] = '\0';
	strcpy(b, dash ? dash + 1 : a);
	return 0;
}

static int opt_nodes(void *args, const char *value, char *msg, size_t size)
{
	struct scan_args *s = args;
	char a[32], b[32];

	if (split_range(value, a, b, sizeof(a)) ||
	    fota_parse_u32(a, SDO_NODE_MIN, SDO_NODE_MAX, &s->node_first) ||
	    fota_parse_u32(b, SDO_NODE_MIN, SDO_NODE_MAX, &s->node_last) ||
	    s->node_first > s->node_last)
		return fota_opt_error(msg, size,
				      "invalid --nodes '%s' (expected FIRST-LAST or ID, node-IDs "
				      "1..127)",
				      value);
	return 0;
}

static int opt_physical(void *args, const char *value, char *msg, size_t size)
{
	struct scan_args *s = args;
	char a[32], b[32];

	if (split_range(value, a, b, sizeof(a)) ||
	    fota_parse_can_id(a, &s->phys_first.id, &s->phys_first.eff) ||
	    fota_parse_can_id(b, &s->phys_last.id, &s->phys_last.eff))
		return fota_opt_error(
			msg, size,
			"invalid --physical '%s' (expected FIRST-LAST, CAN ids 0..0x1FFFFFFF)",
			value);
	s->physical = true;
	return 0;
}

#define ARG(field) offsetof(struct scan_args, field)

static const struct fota_opt scan_opts[] = {
	FOTA_OPT_BUS,
	FOTA_OPT_CONFIG,
	FOTA_OPT_TRACE,
	FOTA_OPT_JSON,
	FOTA_OPT_VERBOSE,
	FOTA_OPT_QUIET,
	FOTA_OPT_FLAG(KEY_UDS, "uds", "only UDS: no CANopen requests", ARG(uds)),
	FOTA_OPT_FLAG(KEY_CANOPEN, "canopen", "only CANopen: no UDS requests", ARG(canopen)),
	FOTA_OPT_FN(KEY_NODES, "nodes", "FIRST-LAST", "CANopen node-IDs to ask (default 1-127)",
		    FOTA_OPT_NUMBER, opt_nodes),
	FOTA_OPT_FN(KEY_PHYSICAL, "physical", "FIRST-LAST",
		    "also probe these UDS request ids physically (0x7E0-0x7E7; 0x18DA00F1-"
		    "0x18DAFFF1)",
		    FOTA_OPT_NUMBER, opt_physical),
	FOTA_OPT_FLAG(KEY_EXTENDED, "extended",
		      "UDS with 29-bit normal fixed ids (0x18DB33F1, answers on 0x18DAF1xx)",
		      ARG(extended)),
	FOTA_OPT_CAN_ID(KEY_FUNC_ID, "functional-id",
			"UDS functional request id (default 0x7DF; 0x18DB33F1 with --extended)",
			ARG(func)),
	FOTA_OPT_U32(KEY_WINDOW, "window", "MS",
		     "collect TesterPresent answers and heartbeats for MS ms (default 300)",
		     ARG(window_ms), 10, 60000, "ms"),
	FOTA_OPT_U32(KEY_TIMEOUT, "timeout", "MS",
		     "wait MS ms for each SDO or ReadDataByIdentifier answer (default 100)",
		     ARG(timeout_ms), 1, 60000, "ms"),
	FOTA_OPT_U32(KEY_LIMIT, "limit", "MS", "end the whole scan after MS ms (default 2000)",
		     ARG(limit_ms), 10, 600000, "ms"),
	FOTA_OPT_END,
};

/* What UDS reads from each responder, and the JSON keys of the values. */
static const uint16_t scan_dids[] = { UDS_DID_VIN, UDS_DID_ECU_SOFTWARE_VERSION,
				      UDS_DID_SPARE_PART_NUMBER };
static const char *const did_keys[] = { "vin", "sw_version", "part_number" };

static const char *const field_keys[SDO_SCAN_NFIELDS] = {
	"device_type", "vendor_id", "product_code", "revision", "serial",
};

/* ---- the loop member: both engines, done when both are ---- */

struct scan {
	struct uds_scan *uds; /* NULL: not scanned */
	struct sdo_scan *co;  /* NULL: not scanned */
};

static void m_input(void *ctx, const struct bus_frame *f, fota_us now)
{
	struct scan *s = ctx;

	if (s->uds)
		uds_scan_input(s->uds, f, now);
	if (s->co)
		sdo_scan_input(s->co, f, now);
}

static void m_tick(void *ctx, fota_us now)
{
	struct scan *s = ctx;

	if (s->uds)
		uds_scan_tick(s->uds, now);
	if (s->co)
		sdo_scan_tick(s->co, now);
}

static int m_output(void *ctx, struct bus_frame *f, fota_us now)
{
	struct scan *s = ctx;

	if (s->uds && uds_scan_output(s->uds, f, now))
		return 1;
	return s->co && sdo_scan_output(s->co, f, now);
}

static fota_us m_deadline(void *ctx)
{
	struct scan *s = ctx;
	fota_us d = FOTA_NEVER;

	if (s->uds)
		d = uds_scan_deadline(s->uds);
	if (s->co)
		d = fota_min_deadline(d, sdo_scan_deadline(s->co));
	return d;
}

static bool m_done(void *ctx)
{
	struct scan *s = ctx;

	return (!s->uds || uds_scan_done(s->uds)) && (!s->co || sdo_scan_done(s->co));
}

static const struct loop_member_ops scan_member_ops = {
	.input = m_input,
	.tick = m_tick,
	.output = m_output,
	.deadline = m_deadline,
	.done = m_done,
};

/* ---- values as text ---- */

/*
 * A DID's value: text when it is printable ASCII (the padding 0x00/0xFF at
 * its end left out), else "hex:" and its bytes, as fota ecu --did takes them.
 */
static const char *did_text(const struct uds_scan_did *d, char *buf, size_t size)
{
	size_t n = d->len < UDS_SCAN_DATA_MAX ? d->len : UDS_SCAN_DATA_MAX, k = 0;
	bool text = true;

	while (n && (d->data[n - 1] == 0x00 || d->data[n - 1] == 0xFF))
		n--;
	for (size_t i = 0; i < n; i++)
		text &= d->data[i] >= 0x20 && d->data[i] <= 0x7E;
	if (text && n) {
		snprintf(buf, size, "%.*s", (int)n, (const char *)d->data);
		return buf;
	}
	k = (size_t)snprintf(buf, size, "hex:");
	for (size_t i = 0; i < d->len && i < UDS_SCAN_DATA_MAX && k + 3 <= size; i++)
		k += (size_t)snprintf(buf + k, size - k, "%02X", d->data[i]);
	return buf;
}

static const char *did_error(const struct uds_scan_did *d, uint32_t timeout_ms, char *buf,
			     size_t size)
{
	if (d->err == -EREMOTEIO)
		snprintf(buf, size, "NRC 0x%02X %s", d->nrc, uds_nrc_str(d->nrc));
	else if (d->err == -ETIMEDOUT)
		snprintf(buf, size, "no answer within %" PRIu32 " ms", timeout_ms);
	else if (d->err == -ENODATA)
		snprintf(buf, size, "not asked: the scan's limit came first");
	else
		snprintf(buf, size, "%s", strerror(-d->err));
	return buf;
}

static const char *value_error(const struct sdo_scan_value *v, uint32_t timeout_ms, char *buf,
			       size_t size)
{
	switch (v->err) {
	case -EREMOTEIO:
	case -EBUSY:
		snprintf(buf, size, "abort 0x%08" PRIX32 " %s", v->abort_code,
			 sdo_abort_str(v->abort_code));
		break;
	case -ETIMEDOUT:
		snprintf(buf, size, "no answer within %" PRIu32 " ms", timeout_ms);
		break;
	case -ENODATA:
		snprintf(buf, size, "not read");
		break;
	case -EMSGSIZE:
		snprintf(buf, size, "answer longer than 4 bytes");
		break;
	default:
		snprintf(buf, size, "malformed answer");
		break;
	}
	return buf;
}

static const char *nmt_state_name(uint8_t st)
{
	switch (st) {
	case NMT_ST_STOPPED:
		return "stopped";
	case NMT_ST_OPERATIONAL:
		return "operational";
	case NMT_ST_PREOPERATIONAL:
		return "pre-operational";
	}
	return NULL;
}

static void fmt_id(char *buf, size_t cap, uint32_t id, bool eff)
{
	snprintf(buf, cap, eff ? "0x%08" PRIX32 : "0x%03" PRIX32, id);
}

/* ---- results, sorted ---- */

struct results {
	const struct uds_scan_ecu **ecus;
	size_t necus;
	const struct sdo_scan_node **nodes;
	size_t nnodes;
};

static int by_response_id(const void *a, const void *b)
{
	const struct uds_scan_ecu *x = *(const struct uds_scan_ecu *const *)a;
	const struct uds_scan_ecu *y = *(const struct uds_scan_ecu *const *)b;

	return (x->response_id > y->response_id) - (x->response_id < y->response_id);
}

static int collect(const struct scan *s, struct results *r)
{
	memset(r, 0, sizeof(*r));
	if (s->uds && uds_scan_count(s->uds)) {
		r->ecus = calloc(uds_scan_count(s->uds), sizeof(*r->ecus));
		if (!r->ecus)
			return -ENOMEM;
		for (size_t i = 0; i < uds_scan_count(s->uds); i++)
			r->ecus[r->necus++] = uds_scan_ecu(s->uds, i);
		qsort(r->ecus, r->necus, sizeof(*r->ecus), by_response_id);
	}
	if (s->co) {
		r->nodes = calloc(s->co->n, sizeof(*r->nodes));
		if (!r->nodes)
			return -ENOMEM;
		for (size_t i = 0; i < s->co->n; i++)
			if (sdo_scan_found(&s->co->nodes[i]))
				r->nodes[r->nnodes++] = &s->co->nodes[i];
	}
	return 0;
}

/* ---- the table ---- */

/* A value in the table: bare when it has no blank or quote, else double-quoted. */
static void put_value(const char *key, const char *v)
{
	bool bare = *v && !strpbrk(v, " \"\\");

	if (bare) {
		printf(" %s=%s", key, v);
		return;
	}
	printf(" %s=\"", key);
	for (; *v; v++)
		printf(*v == '"' || *v == '\\' ? "\\%c" : "%c", *v);
	putchar('"');
}

static void print_table(const struct results *r)
{
	char id[16], buf[3 * UDS_SCAN_DATA_MAX + 8];

	printf("%-8s %-10s %s\n", "KIND", "ID", "ANSWERED");
	for (size_t i = 0; i < r->necus; i++) {
		const struct uds_scan_ecu *e = r->ecus[i];

		fmt_id(id, sizeof(id), e->response_id, e->extended);
		printf("%-8s %-10s", "uds", id);
		if (e->nrc)
			printf(" tester_present=0x%02X", e->nrc);
		if (!e->functional)
			printf(" addressing=physical");
		for (size_t k = 0; k < e->ndids; k++)
			put_value(did_keys[k],
				  e->did[k].err ? "-" : did_text(&e->did[k], buf, sizeof(buf)));
		putchar('\n');
	}
	for (size_t i = 0; i < r->nnodes; i++) {
		const struct sdo_scan_node *n = r->nodes[i];
		const char *st = n->heartbeat ? nmt_state_name(n->hb_state) : NULL;

		snprintf(id, sizeof(id), "0x%02X", n->node);
		printf("%-8s %-10s", "canopen", id);
		for (int k = 0; k < SDO_SCAN_NFIELDS; k++) {
			if (n->v[k].err)
				snprintf(buf, sizeof(buf), "-");
			else
				snprintf(buf, sizeof(buf), "0x%08" PRIX32, n->v[k].value);
			put_value(field_keys[k], buf);
		}
		if (n->heartbeat && st)
			printf(" state=%s", st);
		else if (n->heartbeat)
			printf(" state=0x%02X", n->hb_state);
		if (n->bootup)
			printf(" bootup=yes");
		putchar('\n');
	}
}

/* ---- JSON ---- */

static json_object *jstr(const char *s)
{
	return json_object_new_string(s);
}

static json_object *json_ecu(const struct uds_scan_ecu *e, uint32_t timeout_ms)
{
	json_object *o = json_object_new_object(), *errs = json_object_new_object();
	char buf[3 * UDS_SCAN_DATA_MAX + 8];

	json_object_object_add(o, "request_id", json_object_new_int64(e->request_id));
	json_object_object_add(o, "response_id", json_object_new_int64(e->response_id));
	json_object_object_add(o, "extended", json_object_new_boolean(e->extended));
	json_object_object_add(o, "functional", json_object_new_boolean(e->functional));
	json_object_object_add(o, "tester_present_nrc",
			       e->nrc ? json_object_new_int(e->nrc) : NULL);
	for (size_t k = 0; k < e->ndids; k++) {
		const struct uds_scan_did *d = &e->did[k];

		json_object_object_add(o, did_keys[k],
				       d->err ? NULL : jstr(did_text(d, buf, sizeof(buf))));
		if (d->err)
			json_object_object_add(errs, did_keys[k],
					       jstr(did_error(d, timeout_ms, buf, sizeof(buf))));
	}
	json_object_object_add(o, "errors", errs);
	return o;
}

static json_object *json_node(const struct sdo_scan_node *n, uint32_t timeout_ms)
{
	json_object *o = json_object_new_object(), *errs = json_object_new_object();
	const char *st = n->heartbeat ? nmt_state_name(n->hb_state) : NULL;
	char buf[128];

	json_object_object_add(o, "node", json_object_new_int(n->node));
	json_object_object_add(o, "sdo", json_object_new_boolean(n->sdo));
	for (int k = 0; k < SDO_SCAN_NFIELDS; k++) {
		const struct sdo_scan_value *v = &n->v[k];

		json_object_object_add(o, field_keys[k],
				       v->err ? NULL : json_object_new_int64(v->value));
		if (v->err)
			json_object_object_add(errs, field_keys[k],
					       jstr(value_error(v, timeout_ms, buf, sizeof(buf))));
	}
	json_object_object_add(o, "bootup", json_object_new_boolean(n->bootup));
	json_object_object_add(o, "heartbeat_state",
			       n->heartbeat ? json_object_new_int(n->hb_state) : NULL);
	json_object_object_add(o, "heartbeat", st ? jstr(st) : NULL);
	json_object_object_add(o, "errors", errs);
	return o;
}

static void print_json(const struct bus *bus, const struct scan *s, const struct results *r,
		       uint32_t timeout_ms, fota_us elapsed)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "bus", jstr(bus->name));
	if (s->uds) {
		json_object *a = json_object_new_array();

		for (size_t i = 0; i < r->necus; i++)
			json_object_array_add(a, json_ecu(r->ecus[i], timeout_ms));
		json_object_object_add(o, "uds", a);
	}
	if (s->co) {
		json_object *a = json_object_new_array();

		for (size_t i = 0; i < r->nnodes; i++)
			json_object_array_add(a, json_node(r->nodes[i], timeout_ms));
		json_object_object_add(o, "canopen", a);
	}
	json_object_object_add(o, "elapsed_ms", json_object_new_int64((int64_t)(elapsed / 1000)));
	puts(json_object_to_json_string_ext(o, JSON_C_TO_STRING_SPACED |
						       JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(o);
}

/* -v: what did not answer fully, one line each. */
static void report_gaps(const struct results *r, uint32_t timeout_ms)
{
	char id[16], buf[128];

	for (size_t i = 0; i < r->necus; i++) {
		const struct uds_scan_ecu *e = r->ecus[i];

		fmt_id(id, sizeof(id), e->response_id, e->extended);
		for (size_t k = 0; k < e->ndids; k++)
			if (e->did[k].err)
				fota_info("%s: 0x%04X %s: %s", id, e->did[k].did, did_keys[k],
					  did_error(&e->did[k], timeout_ms, buf, sizeof(buf)));
	}
	for (size_t i = 0; i < r->nnodes; i++) {
		const struct sdo_scan_node *n = r->nodes[i];

		for (int k = 0; k < SDO_SCAN_NFIELDS; k++)
			if (n->v[k].err && n->sdo)
				fota_info("node 0x%02X: 0x%04X:%02X %s: %s", n->node,
					  sdo_scan_index(k), sdo_scan_sub(k), field_keys[k],
					  value_error(&n->v[k], timeout_ms, buf, sizeof(buf)));
	}
}

/* ---- setup ---- */

static int check_args(const struct cmd_ctx *ctx, struct scan_args *a)
{
	if (cmd_opt_given(ctx, KEY_FUNC_ID) && a->func.eff != a->extended)
		return fota_usage_error(
			&cmd_scan, "--functional-id 0x%" PRIX32 " is %s", a->func.id,
			a->func.eff ? "29-bit: add --extended" : "11-bit: not with --extended");
	if (a->physical && (a->phys_first.eff != a->extended || a->phys_last.eff != a->extended))
		return fota_usage_error(&cmd_scan, "--physical: %s",
					a->extended ? "11-bit ids are not for --extended" :
						      "29-bit ids need --extended");
	if (!a->uds && !a->canopen)
		a->uds = a->canopen = true;
	if (!a->canopen && cmd_opt_given(ctx, KEY_NODES))
		return fota_usage_error(&cmd_scan, "--nodes with --uds: no CANopen scan");
	if (!a->uds && (a->physical || a->extended || cmd_opt_given(ctx, KEY_FUNC_ID)))
		return fota_usage_error(&cmd_scan, "--physical, --extended and --functional-id "
						   "are UDS options, not with --canopen");
	return 0;
}

static int new_engines(struct scan *s, const struct scan_args *a)
{
	struct uds_scan_cfg uc = {
		.extended = a->extended,
		.functional_id = a->func.id,
		.window_ms = a->window_ms,
		.timeout_ms = a->timeout_ms,
		.limit_ms = a->limit_ms,
		.dids = scan_dids,
		.ndids = FOTA_ARRAY_SIZE(scan_dids),
		.pad = 0xCC, /* ISO 15765-4: always 8 bytes; the configuration's default byte */
	};
	struct sdo_scan_cfg cc = {
		.first = (uint8_t)a->node_first,
		.last = (uint8_t)a->node_last,
		.timeout_ms = a->timeout_ms,
		.listen_ms = a->window_ms,
		.limit_ms = a->limit_ms,
	};
	int r;

	if (a->physical) {
		uc.phys_first = a->phys_first.id;
		uc.phys_last = a->phys_last.id;
	}
	if (a->uds) {
		r = uds_scan_new(&s->uds, &uc);
		if (r == -EINVAL)
			return fota_usage_error(&cmd_scan, "invalid --physical range: %s",
						a->extended ?
							"0x18DAxxF1 ids, first <= last" :
							"first <= last <= 0x7F7, at most 256 ids");
		if (r) {
			fota_error_errno(r, "cannot set up the UDS scan");
			return fota_exit_status(FOTA_FAIL_RUN, r);
		}
	}
	if (a->canopen) {
		s->co = calloc(1, sizeof(*s->co));
		r = s->co ? sdo_scan_init(s->co, &cc) : -ENOMEM;
		if (r) {
			fota_error_errno(r, "cannot set up the CANopen scan");
			return fota_exit_status(FOTA_FAIL_RUN, r);
		}
	}
	return 0;
}

/* One filter for both engines; above what a filter holds, none (and the engines sort). */
static int set_filter(struct bus *bus, const struct scan *s)
{
	uint32_t ids[2 * BUS_FILTER_MAX];
	size_t n = 0;
	int r;

	if (s->uds)
		n += uds_scan_filter(s->uds, ids + n, FOTA_ARRAY_SIZE(ids) - n);
	if (s->co)
		n += sdo_scan_filter(s->co, ids + n, FOTA_ARRAY_SIZE(ids) - n);
	if (n > BUS_FILTER_MAX) {
		fota_debug("%s: %zu ids to listen to, above %d: no receive filter", bus->name, n,
			   BUS_FILTER_MAX);
		return 0;
	}
	r = bus_set_filter(bus, ids, n);
	if (r) {
		fota_error_errno(r, "%s: cannot set the receive filter", bus->name);
		return fota_exit_status(FOTA_FAIL_RUN, r);
	}
	return 0;
}

static int run_scan(int argc, char **argv)
{
	struct scan_args a = { .node_first = SDO_NODE_MIN, .node_last = SDO_NODE_MAX };
	struct cmd_ctx ctx;
	struct fota_config cfg;
	struct scan s = { 0 };
	struct results res = { 0 };
	struct loop l;
	bool loop_ok = false, have_cfg = false;
	static const int sigs[] = { SIGTERM, SIGINT };
	fota_us t0, elapsed;
	char why[96];
	int r, rc;

	cmd_ctx_init(&ctx, &cmd_scan);
	cmd_parse_options(&ctx, &a, argc, argv);
	rc = check_args(&ctx, &a);
	if (rc)
		goto out;
	if (!a.window_ms)
		a.window_ms = UDS_SCAN_WINDOW_MS;
	if (!a.timeout_ms)
		a.timeout_ms = UDS_SCAN_TIMEOUT_MS;
	if (!a.limit_ms)
		a.limit_ms = LIMIT_DEFAULT_MS;
	rc = new_engines(&s, &a);
	if (rc)
		goto out;
	rc = cmd_load_config(&ctx, &cfg, false);
	if (rc)
		goto out;
	have_cfg = true;
	rc = cmd_open_bus(&ctx, &cfg, NULL);
	if (rc)
		goto out;
	rc = set_filter(ctx.bus, &s);
	if (rc)
		goto out;
	loop_init(&l, ctx.bus);
	loop_ok = true;
	r = loop_add(&l, &scan_member_ops, &s);
	if (!r)
		r = loop_catch_signals(&l, sigs, FOTA_ARRAY_SIZE(sigs));
	if (r) {
		fota_error_errno(r, "cannot set up the event loop");
		rc = fota_exit_status(FOTA_FAIL_RUN, r);
		goto out;
	}

	t0 = fota_now();
	if (s.uds)
		uds_scan_start(s.uds, t0);
	if (s.co)
		sdo_scan_start(s.co, t0);
	/* the engines end at the limit; the loop's own timeout is a safety net */
	r = loop_run(&l, FOTA_MS(a.limit_ms) + FOTA_SEC(1));
	elapsed = fota_now() - t0;
	if (r == -EINTR) {
		fota_error("%s: scan cancelled", strsignal(l.signo));
		rc = fota_exit_status(FOTA_FAIL_RUN, -ECANCELED);
		goto out;
	}
	if (r) {
		fota_error("%s: %s", ctx.bus->name, cmd_bus_strerror(ctx.bus, r, why, sizeof(why)));
		rc = fota_exit_status(FOTA_FAIL_RUN, r);
		goto out;
	}
	r = collect(&s, &res);
	if (r) {
		fota_error_errno(r, "scan results");
		rc = fota_exit_status(FOTA_FAIL_RUN, r);
		goto out;
	}
	if (ctx.verbose > 0)
		report_gaps(&res, a.timeout_ms);
	/* Nothing answering is an answer, not a failure: exit 0 (fota-scan(1)). */
	if (!res.necus && !res.nnodes)
		fota_info("%s: nothing answered within %" PRIu64 " ms", ctx.bus->name,
			  (uint64_t)(elapsed / 1000));
	else if (ctx.verbose > 0)
		fota_info("%s: %zu UDS responder(s), %zu CANopen node(s) in %" PRIu64
			  " ms, %" PRIu64 " frames sent",
			  ctx.bus->name, res.necus, res.nnodes, (uint64_t)(elapsed / 1000),
			  ctx.bus->tx_frames);
	if (ctx.json) {
		print_json(ctx.bus, &s, &res, a.timeout_ms, elapsed);
		ctx.json_printed = true;
	} else if (res.necus || res.nnodes) {
		print_table(&res);
	}
	rc = fota_finish_stdout(FOTA_EXIT_OK);
out:
	if (loop_ok)
		loop_release(&l);
	free(res.ecus);
	free(res.nodes);
	uds_scan_free(s.uds);
	if (s.co)
		sdo_scan_release(s.co);
	free(s.co);
	if (have_cfg)
		cfg_release(&cfg);
	return cmd_json_failure(&ctx, fota_exit_worst(rc, cmd_ctx_release(&ctx)));
}

const struct fota_cmd cmd_scan = {
	.name = "scan",
	.summary = "list the UDS ECUs and CANopen nodes that answer on a bus",
	.usage = scan_usage,
	.opts = scan_opts,
	.run = run_scan,
	.help_tail = "Exits 0 also when nothing answers: the JSON lists are then empty.\n",
};
