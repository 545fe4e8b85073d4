// SPDX-License-Identifier: MIT
/*
 * Unit tests of the HMI commands' pure helpers (cmd/sdo_common.h): the
 * --wait state names, the exit status of each final update_status, the
 * decoded values `fota status` prints (they must stay valid YAML plain
 * scalars) and the quoting of strings from the wire.
 */
#include <string.h>
#include "cmd/sdo_common.h"
#include "core/update.h"
#include "sdo/fota_od.h"
#include "tests/unit/t.h"

static void test_hmi__wait_state_names(void)
{
	int st = -1;

	T_OK(cmd_wait_state_parse("waiting", &st));
	T_EQ(st, 0x10);
	T_OK(cmd_wait_state_parse("available", &st));
	T_EQ(st, CMD_WAIT_AVAILABLE);
	T_OK(cmd_wait_state_parse("success", &st));
	T_EQ(st, 0x40);
	T_OK(cmd_wait_state_parse("cancelled", &st));
	T_EQ(st, 0x60);
	T_OK(cmd_wait_state_parse("verification-timeout", &st));
	T_EQ(st, 0x52);
	T_OK(cmd_wait_state_parse("idle", &st));
	T_EQ(st, 0x00);
	T_EQ_STR(cmd_wait_state_name(0x51), "verification-failed");
	T_EQ_STR(cmd_wait_state_name(CMD_WAIT_AVAILABLE), "available");
	T_TRUE(cmd_wait_state_name(0x02) == NULL);
}

static void test_hmi__wait_state_values(void)
{
	int st = -1;

	T_OK(cmd_wait_state_parse("0x10", &st));
	T_EQ(st, 0x10);
	T_OK(cmd_wait_state_parse("0x52", &st));
	T_EQ(st, 0x52);
	T_OK(cmd_wait_state_parse("64", &st)); /* decimal 64 = 0x40 */
	T_EQ(st, 0x40);
	T_OK(cmd_wait_state_parse("0", &st));
	T_EQ(st, 0x00);
}

static void test_hmi__wait_state_rejects(void)
{
	int st = 7;

	/* "10" is decimal ten, not 0x10: no such status, so no silent surprise. */
	T_ERR(cmd_wait_state_parse("10", &st), -EINVAL);
	T_ERR(cmd_wait_state_parse("0x02", &st), -EINVAL);
	T_ERR(cmd_wait_state_parse("0x110", &st), -EINVAL);
	T_ERR(cmd_wait_state_parse("Waiting", &st), -EINVAL);
	T_ERR(cmd_wait_state_parse("", &st), -EINVAL);
	T_ERR(cmd_wait_state_parse(NULL, &st), -EINVAL);
	T_ERR(cmd_wait_state_parse("-1", &st), -EINVAL);
	T_EQ(st, 7); /* untouched on error */
}

static void test_hmi__status_exit(void)
{
	T_EQ(cmd_status_exit(UPD_STATUS_SUCCESS), FOTA_EXIT_OK);
	T_EQ(cmd_status_exit(UPD_STATUS_FLASH_FAILED), FOTA_EXIT_FAIL);
	T_EQ(cmd_status_exit(UPD_STATUS_VERIFY_FAILED), FOTA_EXIT_FAIL);
	T_EQ(cmd_status_exit(UPD_STATUS_VERIFY_TIMEOUT), FOTA_EXIT_FAIL);
	T_EQ(cmd_status_exit(UPD_STATUS_CANCELLED), FOTA_EXIT_STATE);
	T_EQ(cmd_status_exit(0x7f), FOTA_EXIT_FAIL); /* undefined final value */
}

static void test_hmi__value_text(void)
{
	char b[80];

	T_EQ_STR(cmd_sdo_value_text(FOTA_SUB_UPDATE_STATUS, 0x10, b, sizeof(b)),
		 "0x10 waiting for OEM health verification");
	T_EQ_STR(cmd_sdo_value_text(FOTA_SUB_UPDATE_STATUS, 0x33, b, sizeof(b)),
		 "0x33 (undefined value)");
	T_EQ_STR(cmd_sdo_value_text(FOTA_SUB_UPDATE_AVAILABLE, 1, b, sizeof(b)),
		 "0x01 update available");
	T_EQ_STR(cmd_sdo_value_text(FOTA_SUB_UPDATE_AVAILABLE, 0, b, sizeof(b)),
		 "0x00 no update available");
	T_EQ_STR(cmd_sdo_value_text(FOTA_SUB_UPDATE_AVAILABLE_TIME, 1700000000, b, sizeof(b)),
		 "1700000000 2023-11-14T22:13:20Z");
	T_EQ_STR(cmd_sdo_value_text(FOTA_SUB_UPDATE_END_TIME, 0, b, sizeof(b)), "0 never");
	T_EQ_STR(cmd_sdo_value_text(FOTA_SUB_UPDATE_START_TIME, 0xFFFFFFFFu, b, sizeof(b)),
		 "4294967295 2106-02-07T06:28:15Z");
	T_EQ_STR(cmd_sdo_value_text(FOTA_SUB_ECU_CAN_ID, 0x701, b, sizeof(b)), "0x701");
	T_EQ_STR(cmd_sdo_value_text(FOTA_SUB_ECU_CAN_ID, 0x18DA00F1, b, sizeof(b)), "0x18DA00F1");
	T_EQ_STR(cmd_sdo_value_text(FOTA_SUB_UPDATE_PROGRESS, 37, b, sizeof(b)), "37%");
	T_EQ_STR(cmd_sdo_value_text(FOTA_SUB_ECU_HEALTH_CHECK_TIMEOUT, 10, b, sizeof(b)),
		 "10 minutes");
	T_EQ_STR(cmd_sdo_value_text(FOTA_SUB_ECU_HEALTH_CHECK_TIMEOUT, 1, b, sizeof(b)),
		 "1 minute");
	T_EQ_STR(cmd_sdo_value_text(FOTA_SUB_ECU_HEALTH_CHECK_TIMEOUT, 0, b, sizeof(b)),
		 "0 disabled (wait forever)");
	T_EQ_STR(cmd_sdo_value_text(FOTA_SUB_UPDATE_ATTEMPTS_COUNTER, 4000000000u, b, sizeof(b)),
		 "4000000000");
}

/* No value text may hold what ends a YAML plain scalar early: ": " or " #". */
static void test_hmi__value_text_is_plain_yaml(void)
{
	static const uint32_t vals[] = { 0, 1, 2, 0x10, 0x40, 0x60, 0xff, 1700000000, 0xffffffffu };
	char b[80];

	for (size_t i = 0; i < fota_od_nobjects; i++) {
		for (size_t j = 0; j < FOTA_ARRAY_SIZE(vals); j++) {
			cmd_sdo_value_text(fota_od_objects[i].sub, vals[j], b, sizeof(b));
			T_TRUE(!strstr(b, ": ") && !strstr(b, " #"));
			T_TRUE(b[0] >= '0' && b[0] <= '9');
		}
	}
}

static void test_hmi__iso8601(void)
{
	char b[32];

	T_EQ_STR(cmd_iso8601(0, b, sizeof(b)), "1970-01-01T00:00:00Z");
	T_EQ_STR(cmd_iso8601(951782400, b, sizeof(b)), "2000-02-29T00:00:00Z");
}

static void test_hmi__yaml_scalar(void)
{
	const char *uuid = "3f2b8c1e-9a4d-4e7f-8b21-0c5d6e7f8a90";
	char b[160];

	T_EQ_STR(cmd_yaml_scalar(uuid, strlen(uuid), b, sizeof(b)), uuid);
	T_EQ_STR(cmd_yaml_scalar("", 0, b, sizeof(b)), "\"\"");
	/* YAML would read these as a bool, null or number: quoted. */
	T_EQ_STR(cmd_yaml_scalar("true", 4, b, sizeof(b)), "\"true\"");
	T_EQ_STR(cmd_yaml_scalar("~", 1, b, sizeof(b)), "\"~\"");
	T_EQ_STR(cmd_yaml_scalar("12", 2, b, sizeof(b)), "\"12\"");
	/* Hostile bytes from the wire: escaped, never raw. */
	T_EQ_STR(cmd_yaml_scalar("a: b #c", 7, b, sizeof(b)), "\"a: b #c\"");
	T_EQ_STR(cmd_yaml_scalar("q\"\\\n\x01\xff", 6, b, sizeof(b)),
		 "\"q\\\"\\\\\\x0a\\x01\\xff\"");
	/* 36 characters that are not hex: quoted. */
	T_EQ_STR(cmd_yaml_scalar("zzzzzzzz-zzzz-zzzz-zzzz-zzzzzzzzzzzz", 36, b, sizeof(b)),
		 "\"zzzzzzzz-zzzz-zzzz-zzzz-zzzzzzzzzzzz\"");
}

static void test_hmi__yaml_scalar_small_buffer(void)
{
	char b[8];

	/* Cut short but still closed: the line stays valid YAML. */
	T_EQ_STR(cmd_yaml_scalar("abcdefghij", 10, b, sizeof(b)), "\"abcde\"");
	T_EQ_STR(cmd_yaml_scalar("\x01\x02", 2, b, sizeof(b)), "\"\\x01\"");
	T_EQ_STR(cmd_yaml_scalar("abc", 3, b, 2), "");
}

static const struct t_case cases[] = {
	T_CASE(hmi__wait_state_names),
	T_CASE(hmi__wait_state_values),
	T_CASE(hmi__wait_state_rejects),
	T_CASE(hmi__status_exit),
	T_CASE(hmi__value_text),
	T_CASE(hmi__value_text_is_plain_yaml),
	T_CASE(hmi__iso8601),
	T_CASE(hmi__yaml_scalar),
	T_CASE(hmi__yaml_scalar_small_buffer),
};

int main(void)
{
	return t_main(cases, FOTA_ARRAY_SIZE(cases));
}
