// SPDX-License-Identifier: MIT
/*
 * The HMI/OEM commands' SDO plumbing (see cmd/sdo_common.h): one CiA 301 SDO
 * transfer at a time to 0x5FF3 of the TCU (ECU FOTA CANopen Specification,
 * DESIGN.md D4), retried after a timeout, and the TCU's answers
 * turned into one sentence and an exit status.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <json-c/json.h>
#include "cmd/sdo_common.h"
#include "core/bus.h"
#include "core/config.h"
#include "core/loop.h"
#include "core/update.h"
#include "sdo/fota_od.h"
#include "sdo/sdo.h"

void cmd_sdo_init(struct cmd_sdo *s, const struct fota_cmd *cmd)
{
	memset(s, 0, sizeof(*s));
	cmd_ctx_init(&s->ctx, cmd);
}

int cmd_sdo_open(struct cmd_sdo *s)
{
	struct cmd_ctx *ctx = &s->ctx;
	struct fota_config cfg;
	uint32_t resp;
	bool loaded;
	int rc, r;

	rc = cmd_load_config(ctx, &cfg, false);
	if (rc)
		return rc;
	loaded = cfg.source[0] != '\0';
	/* command line > configuration > default */
	s->node = (uint8_t)(ctx->node ? ctx->node : cfg.tcu.node_id);
	s->timeout_ms = SDO_CLIENT_TIMEOUT_MS;
	if (cmd_opt_given(ctx, 't'))
		s->timeout_ms = ctx->sdo_timeout_ms;
	else if (loaded && cfg.tcu.sdo_timeout_ms)
		s->timeout_ms = cfg.tcu.sdo_timeout_ms;
	s->retries = CMD_SDO_RETRIES_DEFAULT;
	if (cmd_opt_given(ctx, CMD_SDO_KEY_RETRIES))
		s->retries = ctx->sdo_retries;
	else if (loaded)
		s->retries = cfg.tcu.sdo_retries;
	snprintf(s->state_dir, sizeof(s->state_dir), "%s", cfg.tcu.state_dir);
	rc = cmd_open_bus(ctx, &cfg, NULL);
	cfg_release(&cfg);
	if (rc)
		return rc;
	/* Only the node's SDO responses: the bus may be busy with a flash session. */
	resp = SDO_COB_RESPONSE + s->node;
	r = bus_set_filter(ctx->bus, &resp, 1);
	if (r) {
		fota_error_errno(r, "%s: receive filter", ctx->bus->name);
		return fota_exit_status(FOTA_FAIL_RUN, r);
	}
	return FOTA_EXIT_OK;
}

int cmd_sdo_close(struct cmd_sdo *s)
{
	return cmd_ctx_release(&s->ctx);
}

/*
 * A late answer to an earlier, timed-out request would be taken for the answer
 * to the next one (or make the client abort it as unexpected): drop what is
 * queued before each request.
 */
static void drain(struct bus *bus)
{
	struct bus_frame f;

	while (bus_recv(bus, &f) == 1)
		;
}

static const char *object_name(uint8_t sub);

/* -v (fota(1)): one line per SDO transfer, whatever its end. */
static void log_transfer(const struct cmd_sdo *s, bool upload, uint8_t sub, size_t len, int err)
{
	char what[96], how[64];

	snprintf(what, sizeof(what), "SDO %s 0x%04X:0x%02X %s", upload ? "upload" : "download",
		 FOTA_OD_INDEX, sub, object_name(sub));
	if (!err)
		snprintf(how, sizeof(how), "%zu byte%s", len, len == 1 ? "" : "s");
	else if (err == -EBUSY || err == -EREMOTEIO)
		snprintf(how, sizeof(how), "refused: SDO abort 0x%08" PRIX32, s->res.abort_code);
	else if (err == -ETIMEDOUT)
		snprintf(how, sizeof(how), "no answer");
	else
		snprintf(how, sizeof(how), "%s", strerror(-err));
	fota_step("%s: node 0x%02x: %s: %s", s->ctx.bus->name, s->node, what, how);
}

static int transfer(struct cmd_sdo *s, bool upload, uint8_t sub, void *buf, size_t cap,
		    const void *data, size_t len)
{
	const struct sdo_client_cfg ccfg = { .node = s->node, .timeout_ms = s->timeout_ms };
	struct sdo_client c;
	struct loop l;
	int err;

	memset(&s->res, 0, sizeof(s->res));
	for (s->attempts = 0;;) {
		drain(s->ctx.bus);
		err = sdo_client_init(&c, &ccfg);
		if (err)
			return err;
		if (upload)
			err = sdo_client_upload(&c, FOTA_OD_INDEX, sub, buf, cap, fota_now());
		else
			err = sdo_client_download(&c, FOTA_OD_INDEX, sub, data, len, fota_now());
		if (err)
			return err;
		s->attempts++;
		loop_init(&l, s->ctx.bus);
		err = loop_add(&l, &sdo_client_loop_ops, &c);
		if (!err)
			err = loop_run(&l, FOTA_NEVER);
		loop_release(&l);
		if (err)
			return err; /* the bus failed: nothing to retry */
		err = sdo_client_result(&c, &s->res);
		if (err != -ETIMEDOUT || s->attempts > s->retries) {
			log_transfer(s, upload, sub, upload ? s->res.len : len, err);
			return err;
		}
		fota_debug("%s: node 0x%02x: no answer to 0x%04X:0x%02X, sending again",
			   s->ctx.bus->name, s->node, FOTA_OD_INDEX, sub);
	}
}

int cmd_sdo_idle(struct cmd_sdo *s, fota_us duration)
{
	struct loop l;
	int err;

	loop_init(&l, s->ctx.bus); /* no members: the loop only reads */
	err = loop_run(&l, duration);
	loop_release(&l);
	return err == -ETIMEDOUT ? 0 : err;
}

int cmd_sdo_upload(struct cmd_sdo *s, uint8_t sub, void *buf, size_t cap, size_t *len)
{
	int err = transfer(s, true, sub, buf, cap, NULL, 0);

	*len = err ? 0 : s->res.len;
	return err;
}

int cmd_sdo_download(struct cmd_sdo *s, uint8_t sub, const void *data, size_t len)
{
	return transfer(s, false, sub, NULL, 0, data, len);
}

static size_t object_size(uint8_t sub)
{
	const struct fota_od_object *o = fota_od_object(sub);

	return o ? o->size : 4;
}

int cmd_sdo_read_uint(struct cmd_sdo *s, uint8_t sub, uint32_t *v)
{
	uint8_t b[4] = { 0 };
	size_t len, size = object_size(sub);
	int err;

	*v = 0;
	err = cmd_sdo_upload(s, sub, b, sizeof(b), &len);
	if (err)
		return err;
	/*
	 * An expedited answer without size indication carries 4 bytes and the
	 * reader knows the type (CiA 301 §7.2.4.3.6): take the object's bytes.
	 * Fewer bytes than the type is a broken answer.
	 */
	if (len < size || size > 4) {
		s->res.len = len;
		return -EPROTO;
	}
	for (size_t i = 0; i < size; i++)
		*v |= (uint32_t)b[i] << (8 * i);
	return 0;
}

int cmd_sdo_write_uint(struct cmd_sdo *s, uint8_t sub, uint32_t v)
{
	uint8_t b[4];
	size_t size = object_size(sub);

	sdo_put_le32(b, v);
	return cmd_sdo_download(s, sub, b, size > 4 ? 4 : size);
}

static const char *object_name(uint8_t sub)
{
	const struct fota_od_object *o = fota_od_object(sub);

	return o ? o->name : "object";
}

/* The sentence for a failed transfer into buf; returns the exit status. */
static int error_text(struct cmd_sdo *s, const char *verb, uint8_t sub, int err, char *buf,
		      size_t size)
{
	const char *bus = s->ctx.bus ? s->ctx.bus->name : "bus";
	uint32_t code = s->res.abort_code;
	char why[96];

	switch (err) {
	case -ETIMEDOUT:
		if (s->attempts > 1)
			snprintf(buf, size,
				 "%s: node 0x%02x: no answer within %" PRIu32 " ms (%u attempts)",
				 bus, s->node, s->timeout_ms, s->attempts);
		else
			snprintf(buf, size, "%s: node 0x%02x: no answer within %" PRIu32 " ms", bus,
				 s->node, s->timeout_ms);
		break;
	case -EBUSY:
	case -EREMOTEIO:
		snprintf(buf, size,
			 "node 0x%02x: %s %s (0x%04X:0x%02X) refused: %s (SDO abort 0x%08" PRIX32
			 ")",
			 s->node, verb, object_name(sub), FOTA_OD_INDEX, sub, sdo_abort_str(code),
			 code);
		break;
	case -EPROTO:
		if (s->res.sent_abort)
			snprintf(buf, size,
				 "%s: node 0x%02x: %s %s (0x%04X:0x%02X): unexpected answer, "
				 "aborted the transfer with 0x%08" PRIX32 " (%s)",
				 bus, s->node, verb, object_name(sub), FOTA_OD_INDEX, sub,
				 s->res.sent_abort, sdo_abort_str(s->res.sent_abort));
		else
			snprintf(buf, size,
				 "%s: node 0x%02x: %s %s (0x%04X:0x%02X): answer of %zu byte%s, "
				 "expected %zu",
				 bus, s->node, verb, object_name(sub), FOTA_OD_INDEX, sub,
				 s->res.len, s->res.len == 1 ? "" : "s", object_size(sub));
		break;
	case -EMSGSIZE:
		snprintf(buf, size, "%s: node 0x%02x: %s %s (0x%04X:0x%02X): answer too long", bus,
			 s->node, verb, object_name(sub), FOTA_OD_INDEX, sub);
		break;
	default:
		cmd_bus_strerror(s->ctx.bus, err, why, sizeof(why));
		snprintf(buf, size, "%s: node 0x%02x: %s", bus, s->node, why);
	}
	return fota_exit_status(FOTA_FAIL_RUN, err);
}

int cmd_sdo_report(struct cmd_sdo *s, const char *verb, uint8_t sub, int err)
{
	char msg[512];
	int rc = error_text(s, verb, sub, err, msg, sizeof(msg));

	fota_error("%s", msg);
	return rc;
}

/*
 * Why did the TCU refuse a verdict with 0x08000022? Its state says, at the
 * cost of two short reads; if those fail, the plain sentence stands.
 */
static void explain_refusal(struct cmd_sdo *s, const struct cmd_sdo_verdict *v, bool have,
			    uint32_t avail, uint32_t status, char *buf, size_t size)
{
	const char *txt = upd_status_str((uint8_t)status);
	const char *tail = "(SDO abort 0x08000022)";

	if (!have)
		snprintf(buf, size, "%s %s", v->refused, tail);
	else if (v->sub == FOTA_SUB_ECU_HEALTH_CHECK && avail)
		snprintf(buf, size, "%s: an update is offered and not yet approved %s", v->refused,
			 tail);
	else if (v->sub == FOTA_SUB_APPLY_UPDATE && status == UPD_STATUS_IDLE && !avail)
		snprintf(buf, size, "%s %s", v->refused, tail);
	else
		snprintf(buf, size, "%s: update_status is 0x%02" PRIX32 " %s %s", v->refused,
			 status, txt ? txt : "(undefined value)", tail);
}

static void json_put_u32(json_object *o, const char *key, bool have, uint32_t v)
{
	json_object_object_add(o, key, have ? json_object_new_int64(v) : NULL);
}

int cmd_sdo_verdict(struct cmd_sdo *s, const struct cmd_sdo_verdict *v)
{
	struct sdo_result res;
	char msg[512] = "";
	uint32_t avail = 0, status = 0;
	bool have = false, have_status = false;
	unsigned attempts;
	int err, rc = FOTA_EXIT_OK;

	err = cmd_sdo_write_uint(s, v->sub, v->value);
	res = s->res;
	attempts = s->attempts;
	if (err == -EBUSY && res.abort_code == SDO_ABORT_DEVICE_STATE) {
		have = !cmd_sdo_read_uint(s, FOTA_SUB_UPDATE_AVAILABLE, &avail) &&
		       !cmd_sdo_read_uint(s, FOTA_SUB_UPDATE_STATUS, &status);
		have_status = have;
		if (attempts > 1 && have && !avail && status == v->expect_status) {
			/*
			 * An earlier attempt reached the TCU, its answer did not
			 * reach us, and the repeat found the state already changed.
			 */
			fota_warn(
				"the answer to an earlier attempt was lost; update_status 0x%02" PRIX32
				" shows that the TCU took it",
				status);
			err = 0;
		} else {
			explain_refusal(s, v, have, avail, status, msg, sizeof(msg));
			rc = FOTA_EXIT_STATE;
		}
	} else if (err) {
		s->res = res;
		s->attempts = attempts;
		rc = error_text(s, "writing", v->sub, err, msg, sizeof(msg));
	}
	if (!err) {
		fota_info("%s", v->done);
		if (s->ctx.json && !have_status)
			have_status = !cmd_sdo_read_uint(s, FOTA_SUB_UPDATE_STATUS, &status);
	} else {
		fota_error("%s", msg);
	}
	if (s->ctx.json) {
		json_object *o = json_object_new_object();

		json_object_object_add(o, "bus", json_object_new_string(s->ctx.bus->name));
		json_object_object_add(o, "node", json_object_new_int(s->node));
		json_object_object_add(o, "object", json_object_new_string(object_name(v->sub)));
		json_object_object_add(o, "index", json_object_new_int(FOTA_OD_INDEX));
		json_object_object_add(o, "sub", json_object_new_int(v->sub));
		json_object_object_add(o, "value", json_object_new_int(v->value));
		json_object_object_add(o, "ok", json_object_new_boolean(!err));
		json_object_object_add(o, "exit_status", json_object_new_int(rc));
		json_object_object_add(o, "error", err ? json_object_new_string(msg) : NULL);
		json_put_u32(o, "abort_code", res.abort_code != 0, res.abort_code);
		json_put_u32(o, "update_status", have_status, status);
		puts(json_object_to_json_string_ext(o, JSON_C_TO_STRING_SPACED |
							       JSON_C_TO_STRING_NOSLASHESCAPE));
		json_object_put(o);
		s->ctx.json_printed = true;
	}
	return rc;
}

/* ---- pure helpers ---- */

static const struct {
	const char *name;
	int state;
} wait_states[] = {
	{ "idle", UPD_STATUS_IDLE },
	{ "available", CMD_WAIT_AVAILABLE },
	{ "flashing", UPD_STATUS_FLASHING },
	{ "waiting", UPD_STATUS_VERIFYING },
	{ "success", UPD_STATUS_SUCCESS },
	{ "flashing-failed", UPD_STATUS_FLASH_FAILED },
	{ "verification-failed", UPD_STATUS_VERIFY_FAILED },
	{ "verification-timeout", UPD_STATUS_VERIFY_TIMEOUT },
	{ "cancelled", UPD_STATUS_CANCELLED },
};

int cmd_wait_state_parse(const char *s, int *state)
{
	uint32_t v;

	if (!s || !*s)
		return -EINVAL;
	for (size_t i = 0; i < FOTA_ARRAY_SIZE(wait_states); i++) {
		if (!strcmp(s, wait_states[i].name)) {
			*state = wait_states[i].state;
			return 0;
		}
	}
	/* Numbers as the specification writes them (0x10); decimal is accepted too. */
	if (fota_parse_u32(s, 0, 0xff, &v) || !upd_status_str((uint8_t)v))
		return -EINVAL;
	*state = (int)v;
	return 0;
}

const char *cmd_wait_state_name(int state)
{
	for (size_t i = 0; i < FOTA_ARRAY_SIZE(wait_states); i++)
		if (wait_states[i].state == state)
			return wait_states[i].name;
	return NULL;
}

const char *cmd_wait_state_at(size_t i)
{
	return i < FOTA_ARRAY_SIZE(wait_states) ? wait_states[i].name : NULL;
}

int cmd_status_exit(uint8_t status)
{
	switch (status) {
	case UPD_STATUS_SUCCESS:
		return FOTA_EXIT_OK;
	case UPD_STATUS_CANCELLED:
		return FOTA_EXIT_STATE;
	default:
		return FOTA_EXIT_FAIL;
	}
}

const char *cmd_iso8601(uint32_t t, char *buf, size_t size)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (!gmtime_r(&tt, &tm) || !strftime(buf, size, "%Y-%m-%dT%H:%M:%SZ", &tm))
		snprintf(buf, size, "%" PRIu32, t);
	return buf;
}

const char *cmd_sdo_value_text(uint8_t sub, uint32_t v, char *buf, size_t size)
{
	const char *s;
	char t[32];

	switch (sub) {
	case FOTA_SUB_UPDATE_AVAILABLE:
		snprintf(buf, size, "0x%02" PRIX32 " %s", v,
			 v == 0 ? "no update available" :
			 v == 1 ? "update available" :
				  "(undefined value)");
		break;
	case FOTA_SUB_UPDATE_STATUS:
		s = v <= 0xff ? upd_status_str((uint8_t)v) : NULL;
		snprintf(buf, size, "0x%02" PRIX32 " %s", v, s ? s : "(undefined value)");
		break;
	case FOTA_SUB_UPDATE_AVAILABLE_TIME:
	case FOTA_SUB_UPDATE_START_TIME:
	case FOTA_SUB_UPDATE_END_TIME:
		snprintf(buf, size, "%" PRIu32 " %s", v,
			 v ? cmd_iso8601(v, t, sizeof(t)) : "never");
		break;
	case FOTA_SUB_ECU_CAN_ID:
		snprintf(buf, size, "0x%03" PRIX32, v);
		break;
	case FOTA_SUB_UPDATE_PROGRESS:
		snprintf(buf, size, "%" PRIu32 "%%", v);
		break;
	case FOTA_SUB_ECU_HEALTH_CHECK_TIMEOUT:
		if (v)
			snprintf(buf, size, "%" PRIu32 " minute%s", v, v == 1 ? "" : "s");
		else
			snprintf(buf, size, "0 disabled (wait forever)");
		break;
	default:
		snprintf(buf, size, "%" PRIu32, v);
		break;
	}
	return buf;
}

const char *cmd_yaml_scalar(const char *s, size_t len, char *buf, size_t size)
{
	size_t o = 0;
	bool plain = len == UPD_REQUEST_ID_LEN;

	if (!size)
		return buf;
	/*
	 * Plain only for what a request id should be, a UUID (hex digits and
	 * dashes, which YAML never reads as a number, bool or null); anything
	 * else from the wire is double-quoted and escaped.
	 */
	for (size_t i = 0; i < len && plain; i++) {
		unsigned char c = (unsigned char)s[i];

		plain = (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F') ||
			(c >= '0' && c <= '9') || c == '-';
	}
	if (plain && len < size) {
		memcpy(buf, s, len);
		buf[len] = '\0';
		return buf;
	}
	if (size < 3) {
		buf[0] = '\0';
		return buf;
	}
	buf[o++] = '"';
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		char esc[5];
		size_t n;

		if (c == '"' || c == '\\')
			n = (size_t)snprintf(esc, sizeof(esc), "\\%c", c);
		else if (c < 0x20 || c > 0x7e)
			n = (size_t)snprintf(esc, sizeof(esc), "\\x%02x", c);
		else
			n = (size_t)snprintf(esc, sizeof(esc), "%c", c);
		if (o + n + 2 > size)
			break;
		memcpy(buf + o, esc, n);
		o += n;
	}
	buf[o++] = '"';
	buf[o] = '\0';
	return buf;
}

int cmd_sdo_run_write(const struct fota_cmd *cmd, const struct cmd_sdo_verdict *v, int argc,
		      char **argv)
{
	struct cmd_sdo s;
	int rc;

	cmd_sdo_init(&s, cmd);
	cmd_parse_options(&s.ctx, NULL, argc, argv);
	rc = cmd_sdo_open(&s);
	if (!rc)
		rc = cmd_sdo_verdict(&s, v);
	return cmd_json_failure(&s.ctx, fota_exit_worst(rc, cmd_sdo_close(&s)));
}
