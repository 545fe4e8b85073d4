// SPDX-License-Identifier: MIT
/*
 * fota approve: the operator approves the update the TCU offers (Checkpoint
 * 1): apply_update (0x5FF3:0x40) = 0x01 with an expedited SDO download,
 * `2F F3 5F 40 01 00 00 00` as in the specification's example workflow
 * (the ECU FOTA CANopen Specification (DESIGN.md D4), "apply_update"). Documented in
 * man/fota-approve.1.
 */
#include "cmd/cmd.h"
#include "cmd/sdo_common.h"
#include "core/update.h"
#include "sdo/fota_od.h"

static const char *const approve_usage[] = {
	"fota approve [-b BUS] [-n ID] [-c FILE] [-t MS] [--retries N] [--json] [-v|-q]",
	NULL,
};

static const struct fota_opt approve_opts[] = {
	FOTA_OPT_BUS,	     FOTA_OPT_NODE, FOTA_OPT_CONFIG,  FOTA_OPT_TRACE, CMD_SDO_OPT_TIMEOUT,
	CMD_SDO_OPT_RETRIES, FOTA_OPT_JSON, FOTA_OPT_VERBOSE, FOTA_OPT_QUIET, FOTA_OPT_END,
};

static const struct cmd_sdo_verdict approve = {
	.sub = FOTA_SUB_APPLY_UPDATE,
	.value = UPD_APPLY_APPROVE,
	.expect_status = UPD_STATUS_FLASHING,
	.done = "update approved: the TCU starts flashing",
	.refused = "no update is available to approve",
};

static int run_approve(int argc, char **argv)
{
	return cmd_sdo_run_write(&cmd_approve, &approve, argc, argv);
}

const struct fota_cmd cmd_approve = {
	.name = "approve",
	.summary = "approve the update the TCU is offering (Checkpoint 1)",
	.usage = approve_usage,
	.opts = approve_opts,
	.run = run_approve,
};
