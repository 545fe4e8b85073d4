// SPDX-License-Identifier: MIT
/*
 * fota health: the OEM side's verdict on the flashed ECU (Checkpoint 2):
 * ecu_health_check (0x5FF3:0x60) = 0x01 ok / 0x02 fail, `2F F3 5F 60 01 00
 * 00 00`, accepted only while update_status is 0x10; and the verification
 * window, ecu_health_check_timeout (0x5FF3:0x62, UNSIGNED16 minutes, 0 =
 * wait forever), read or written (`2B F3 5F 62 ...`). Objects as in
 * the ECU FOTA CANopen Specification (DESIGN.md D4). Documented in man/fota-health.1.
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

static const char *const health_usage[] = {
	"fota health ok|fail [-b BUS] [-n ID] [-c FILE] [-t MS] [--retries N] [--json] [-v|-q]",
	"fota health --timeout [-b BUS] [-n ID] [-c FILE] [--json]",
	"fota health --set-timeout MIN [-b BUS] [-n ID] [-c FILE] [--json]",
	NULL,
};

#define KEY_TIMEOUT	FOTA_OPT_LONG(1)
#define KEY_SET_TIMEOUT FOTA_OPT_LONG(2)

struct health_args {
	bool read;	  /* --timeout: read the timeout */
	bool write;	  /* --set-timeout MIN, or the old --timeout=MIN */
	bool old_write;	  /* --timeout=MIN: still works, with a warning */
	const char *text; /* MIN as given */
	uint32_t minutes; /* MIN */
};

/* ecu_health_check_timeout is UNSIGNED16 minutes (ECU FOTA CANopen Specification). */
static int parse_minutes(struct health_args *a, const char *value, char *msg, size_t size)
{
	a->text = value;
	if (fota_parse_u32(value, 0, UINT16_MAX, &a->minutes))
		return fota_opt_error(msg, size, "invalid timeout '%s' (0..65535 minutes)", value);
	return 0;
}

static int opt_timeout(void *args, const char *value, char *msg, size_t size)
{
	struct health_args *a = args;

	if (!value) {
		a->read = true;
		return 0;
	}
	a->write = a->old_write = true;
	return parse_minutes(a, value, msg, size);
}

static int opt_set_timeout(void *args, const char *value, char *msg, size_t size)
{
	struct health_args *a = args;

	a->write = true;
	a->old_write = false;
	return parse_minutes(a, value, msg, size);
}

static const struct fota_opt health_opts[] = {
	FOTA_OPT_BUS,
	FOTA_OPT_NODE,
	FOTA_OPT_CONFIG,
	FOTA_OPT_TRACE,
	CMD_SDO_OPT_TIMEOUT,
	CMD_SDO_OPT_RETRIES,
	FOTA_OPT_JSON,
	FOTA_OPT_VERBOSE,
	FOTA_OPT_QUIET,
	FOTA_OPT_FN(KEY_TIMEOUT, "timeout", "MIN",
		    "show the health-check timeout (--timeout=MIN sets it: deprecated, use "
		    "--set-timeout)",
		    FOTA_OPT_OPTARG | FOTA_OPT_NUMBER, opt_timeout),
	FOTA_OPT_FN(KEY_SET_TIMEOUT, "set-timeout", "MIN",
		    "set the health-check timeout to MIN minutes, 0..65535 (0 = wait forever)",
		    FOTA_OPT_NUMBER, opt_set_timeout),
	FOTA_OPT_END,
};

static const char *const health_operands[] = {
	"ok\tverification passed: update_status 0x40",
	"fail\tverification failed: update_status 0x51",
	NULL,
};

static const struct cmd_sdo_verdict verdict_ok = {
	.sub = FOTA_SUB_ECU_HEALTH_CHECK,
	.value = UPD_HEALTH_OK,
	.expect_status = UPD_STATUS_SUCCESS,
	.done = "health verdict ok: the update is successful",
	.refused = "the TCU is not waiting for a health verdict",
};

static const struct cmd_sdo_verdict verdict_fail = {
	.sub = FOTA_SUB_ECU_HEALTH_CHECK,
	.value = UPD_HEALTH_FAIL,
	.expect_status = UPD_STATUS_VERIFY_FAILED,
	.done = "health verdict fail: the update is marked failed",
	.refused = "the TCU is not waiting for a health verdict",
};

static void print_timeout(struct cmd_sdo *s, uint32_t minutes, bool written)
{
	char buf[64];

	if (s->ctx.json) {
		json_object *o = json_object_new_object();

		json_object_object_add(o, "bus", json_object_new_string(s->ctx.bus->name));
		json_object_object_add(o, "node", json_object_new_int(s->node));
		json_object_object_add(o, "ecu_health_check_timeout",
				       json_object_new_int64(minutes));
		json_object_object_add(o, "written", json_object_new_boolean(written));
		puts(json_object_to_json_string_ext(o, JSON_C_TO_STRING_SPACED |
							       JSON_C_TO_STRING_NOSLASHESCAPE));
		json_object_put(o);
		s->ctx.json_printed = true;
	} else if (!written) { /* -q is for stderr only */
		printf("ecu_health_check_timeout: %s\n",
		       cmd_sdo_value_text(FOTA_SUB_ECU_HEALTH_CHECK_TIMEOUT, minutes, buf,
					  sizeof(buf)));
	}
	if (written && minutes)
		fota_info("ecu_health_check_timeout set to %s",
			  cmd_sdo_value_text(FOTA_SUB_ECU_HEALTH_CHECK_TIMEOUT, minutes, buf,
					     sizeof(buf)));
	else if (written)
		fota_info(
			"ecu_health_check_timeout set to 0: the TCU waits for the verdict forever");
}

static int health_timeout(struct cmd_sdo *s, const struct health_args *a)
{
	uint32_t minutes;
	int err;

	if (!a->write) {
		err = cmd_sdo_read_uint(s, FOTA_SUB_ECU_HEALTH_CHECK_TIMEOUT, &minutes);
		if (err)
			return cmd_sdo_report(s, "reading", FOTA_SUB_ECU_HEALTH_CHECK_TIMEOUT, err);
		print_timeout(s, minutes, false);
		return FOTA_EXIT_OK;
	}
	err = cmd_sdo_write_uint(s, FOTA_SUB_ECU_HEALTH_CHECK_TIMEOUT, a->minutes);
	if (err)
		return cmd_sdo_report(s, "writing", FOTA_SUB_ECU_HEALTH_CHECK_TIMEOUT, err);
	print_timeout(s, a->minutes, true);
	return FOTA_EXIT_OK;
}

/*
 * The operand of a --timeout or --set-timeout command line is a mistake;
 * say which. Returns the usage error's status, or 0 if there is none.
 */
static int timeout_operand(const struct health_args *a, int n, char **argv)
{
	const char *opt = a->read ? "--timeout" : "--set-timeout";
	uint32_t v;

	if (a->read && a->write)
		return fota_usage_error(&cmd_health,
					"--timeout and --set-timeout exclude each other");
	if (!n)
		return 0;
	if (!strcmp(argv[0], "ok") || !strcmp(argv[0], "fail"))
		return fota_usage_error(&cmd_health, "%s takes no verdict; got '%s' as well", opt,
					argv[0]);
	if (a->write)
		return fota_usage_error(&cmd_health, "unexpected argument '%s'", argv[0]);
	/* `--timeout 5` set the timeout before --set-timeout: not a read now */
	if (fota_parse_u32(argv[0], 0, UINT16_MAX, &v))
		return fota_usage_error(&cmd_health, "invalid timeout '%s' (0..65535 minutes)",
					argv[0]);
	return fota_usage_error(&cmd_health,
				"--timeout takes no value after a space: --set-timeout %s sets the "
				"timeout",
				argv[0]);
}

static int run_health(int argc, char **argv)
{
	const struct cmd_sdo_verdict *v = NULL;
	struct health_args a = { 0 };
	struct cmd_sdo s;
	int n, rc;

	cmd_sdo_init(&s, &cmd_health);
	n = cmd_parse_options(&s.ctx, &a, argc, argv);
	if (a.read || a.write) {
		rc = timeout_operand(&a, n, argv);
		if (rc)
			return cmd_json_failure(&s.ctx, rc);
	}
	if (!a.read && !a.write && !n)
		return cmd_json_failure(
			&s.ctx, fota_usage_error(&cmd_health, "expected a verdict: ok or fail"));
	if (n && !strcmp(argv[0], "ok"))
		v = &verdict_ok;
	else if (n && !strcmp(argv[0], "fail"))
		v = &verdict_fail;
	else if (n)
		return cmd_json_failure(
			&s.ctx, fota_usage_error(&cmd_health, "unknown verdict '%s' (ok or fail)",
						 argv[0]));
	if (a.old_write)
		fota_warn("--timeout=%s is deprecated: use --set-timeout %s", a.text, a.text);

	rc = cmd_sdo_open(&s);
	if (!rc)
		rc = v ? cmd_sdo_verdict(&s, v) : health_timeout(&s, &a);
	return cmd_json_failure(&s.ctx, fota_exit_worst(rc, cmd_sdo_close(&s)));
}

const struct fota_cmd cmd_health = {
	.name = "health",
	.summary =
		"report the OEM health verdict on the flashed ECU (Checkpoint 2), or its timeout",
	.usage = health_usage,
	.opts = health_opts,
	.run = run_health,
	.operands = health_operands,
	.max_operands = 1,
};
