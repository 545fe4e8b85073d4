// SPDX-License-Identifier: MIT
/*
 * Plumbing shared by the commands: the common options (-b -c -n -v -q --trace),
 * configuration and bus opening, with their errors reported in the one message
 * format. Everything here prints through core/log and returns exit-code-ready
 * errors; library code below it never prints.
 */
#ifndef FOTA_CMD_COMMON_H
#define FOTA_CMD_COMMON_H

#include <stdio.h>
#include "cmd/cmd.h"

struct bus;

struct cmd_ctx {
	const struct fota_cmd *cmd;
	struct fota_getopt getopt;
	const char *config_path; /* -c, or $FOTA_CONFIG; NULL: default if it exists */
	const char *bus_spec;	 /* -b, or $FOTA_BUS, or the config's bus */
	const char *trace_path;	 /* --trace */
	uint32_t node;		 /* -n; 0 = not given */
	bool json;		 /* --json */
	int verbose;		 /* -v count; -1 for -q */
	struct bus *bus;
	FILE *trace;
};

void cmd_ctx_init(struct cmd_ctx *ctx, const struct fota_cmd *cmd);
/*
 * Handle a common option key returned by fota_getopt(). Returns 0 if handled,
 * 1 if the key is not a common option, or FOTA_EXIT_USAGE after printing a
 * usage error for a bad value.
 */
int cmd_ctx_common_opt(struct cmd_ctx *ctx, int key);
void cmd_ctx_release(struct cmd_ctx *ctx);

/* Completion of ECU names from the configuration named in WORDS (-c), if any. */
void cmd_complete_ecus(const char *cur, int argc, char **argv);

#endif
