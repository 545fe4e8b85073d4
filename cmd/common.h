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
struct bus_opts;
struct fota_config;

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
/* Close the trace file and the bus opened by cmd_ctx_open_bus() (if any). */
void cmd_ctx_release(struct cmd_ctx *ctx);

/*
 * Load the configuration into *cfg (cfg_init() defaults first): -c FILE or
 * $FOTA_CONFIG if given (then it must exist), else /etc/fota/fota.yaml when it
 * exists. With required set, a missing default file is an error too.
 * Reports errors ("FILE:LINE:COL: msg"). Returns 0, or -errno to pass to
 * fota_exit_code() (-EBADMSG / -ENOENT: 3). *cfg is then empty (cfg_init()).
 * On success the caller cfg_release()s it.
 */
int cmd_ctx_load_config(struct cmd_ctx *ctx, struct fota_config *cfg, bool required);

/*
 * Open ctx->bus: -b BUS, $FOTA_BUS, else cfg->bus (cfg may be NULL). opts may
 * be NULL (then the config's fd/bitrate apply). Opens --trace FILE first (for
 * writing, truncated) and traces every frame in candump -l format. Reports
 * errors ("BUS: reason"). Returns 0; -EINVAL (no bus given, reported with
 * the usage lines; or a malformed spec: exit 2); -ENODEV-like -errno for a bus that cannot
 * be opened (fota_exit_code(): 4; a missing unix: directory is -ENODEV too);
 * -errno from fopen for the trace file (exit 1).
 */
int cmd_ctx_open_bus(struct cmd_ctx *ctx, const struct fota_config *cfg,
		     const struct bus_opts *opts);

/*
 * The reason a bus error ended the work, for a message "BUS: reason": when err
 * is -ENETDOWN and the controller is bus-off (error frames, bus->state), say
 * so ("controller is bus-off (Network is down)"); otherwise strerror(-err).
 * Writes into buf and returns it.
 */
const char *cmd_bus_strerror(const struct bus *bus, int err, char *buf, size_t size);

/* Completion of ECU names from the configuration named in WORDS (-c), if any. */
void cmd_complete_ecus(const char *cur, int argc, char **argv);

#endif
