// SPDX-License-Identifier: MIT
/*
 * fota reject: the operator rejects the update the TCU offers (Checkpoint
 * 1): apply_update (0x5FF3:0x40) = 0x02 with an expedited SDO download,
 * `2F F3 5F 40 02 00 00 00`; only while the update is offered, before
 * approval (the ECU FOTA CANopen Specification (DESIGN.md D4), "apply_update",
 * "update_status"): the TCU then reports 0x60. Documented in man/fota-reject.1.
 */
#include "cmd/cmd.h"
#include "cmd/sdo_common.h"
#include "core/update.h"
#include "sdo/fota_od.h"

static const char *const reject_usage[] = {
	"fota reject [-b BUS] [-n ID] [-c FILE] [-t MS] [--retries N] [--json] [-v|-q]",
	NULL,
};

static const struct fota_opt reject_opts[] = {
	FOTA_OPT_BUS,	     FOTA_OPT_NODE, FOTA_OPT_CONFIG,  FOTA_OPT_TRACE, CMD_SDO_OPT_TIMEOUT,
	CMD_SDO_OPT_RETRIES, FOTA_OPT_JSON, FOTA_OPT_VERBOSE, FOTA_OPT_QUIET, FOTA_OPT_END,
};

static const struct cmd_sdo_verdict reject = {
	.sub = FOTA_SUB_APPLY_UPDATE,
	.value = UPD_APPLY_REJECT,
	.expect_status = UPD_STATUS_CANCELLED,
	.done = "update rejected: the TCU cancelled it",
	.refused = "no update is available to reject",
};

static int run_reject(int argc, char **argv)
{
	return cmd_sdo_run_write(&cmd_reject, &reject, argc, argv);
}

const struct fota_cmd cmd_reject = {
	.name = "reject",
	.summary = "reject the update the TCU is offering (Checkpoint 1)",
	.usage = reject_usage,
	.opts = reject_opts,
	.run = run_reject,
};
