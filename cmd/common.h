// SPDX-License-Identifier: MIT
/*
 * Plumbing shared by the commands: the option parser that fills a command's
 * args from its table, the common options (-b -c -n -v -q --trace --json, and
 * -t --retries of the SDO commands), configuration and bus opening, with their
 * errors reported in the one message format and the one exit status of what
 * failed (core/err.h). Library code below it never prints.
 */
#ifndef FOTA_CMD_COMMON_H
#define FOTA_CMD_COMMON_H

#include <stdio.h>
#include "core/bus.h"
#include "core/config.h"
#include "cmd/cmd.h"
#include "hex/load.h"

struct bus;
struct bus_opts;
struct cfg_ecu;
struct fota_config;

struct cmd_ctx {
	const struct fota_cmd *cmd;
	struct fota_getopt getopt;
	const char *config_path; /* -c, or $FOTA_CONFIG; NULL: the search path */
	const char *bus_spec;	 /* -b, or $FOTA_BUS, or the config's bus */
	const char *trace_path;	 /* --trace */
	uint32_t node;		 /* -n; 0 = not given */
	uint32_t sdo_timeout_ms; /* -t */
	uint32_t sdo_retries;	 /* --retries */
	bool json;		 /* --json */
	bool json_printed;	 /* the command's JSON result is on stdout */
	bool json_on_failure;	 /* cmd_json_failure() applies (commands with --json) */
	int verbose;		 /* -v count; -1 for -q */
	uint64_t given;		 /* bit i: cmd->opts[i] was on the command line */
	enum bus_join join;	 /* unix: a client (default) or a member that makes DIR */
	struct bus *bus;
	FILE *trace;
};

/* Common options: same letters, names, help and place everywhere. */
#define FOTA_KEY_TRACE	 FOTA_OPT_LONG(90)
#define FOTA_KEY_JSON	 FOTA_OPT_LONG(91)
#define FOTA_KEY_BITRATE FOTA_OPT_LONG(92)
#define FOTA_KEY_FD	 FOTA_OPT_LONG(93)

#define CMD_CTX_OPT(k, name, a, h, fl, field)                             \
	{                                                                 \
		.key = (k), .long_name = (name), .arg = (a), .help = (h), \
		.flags = (fl) | FOTA_OPT_CTX, .type = FOTA_OPT_T_STRING,  \
		.off = offsetof(struct cmd_ctx, field)                    \
	}
#define FOTA_OPT_BUS                                                                          \
	CMD_CTX_OPT('b', "bus", "BUS",                                                        \
		    "CAN bus: interface (can0, vcan0) or unix:DIR; the bus is the first of: " \
		    "-b, $FOTA_BUS, the configuration's bus; there is no built-in bus",       \
		    FOTA_OPT_IFACE, bus_spec)
#define FOTA_OPT_CONFIG                                                        \
	CMD_CTX_OPT('c', "config", "FILE",                                     \
		    "configuration file (default: $FOTA_CONFIG, ./fota.yaml, " \
		    "$XDG_CONFIG_HOME/fota/fota.yaml, " CFG_DEFAULT_PATH ")",  \
		    FOTA_OPT_FILE, config_path)
#define FOTA_OPT_TRACE                               \
	CMD_CTX_OPT(FOTA_KEY_TRACE, "trace", "FILE", \
		    "log every CAN frame to FILE in candump -l format", FOTA_OPT_FILE, trace_path)
#define FOTA_OPT_NODE                                                              \
	{                                                                          \
		.key = 'n', .long_name = "node", .arg = "ID",                      \
		.help = "TCU CANopen node-ID, 1..127 (default: config, " FOTA_STR( \
			CFG_NODE_ID_DEFAULT) ")",                                  \
		.flags = FOTA_OPT_NUMBER | FOTA_OPT_CTX, .type = FOTA_OPT_T_U32,   \
		.off = offsetof(struct cmd_ctx, node), .min = 1, .max = 127        \
	}
#define FOTA_OPT_JSON                                                                    \
	{                                                                                \
		.key = FOTA_KEY_JSON, .long_name = "json",                               \
		.help = "machine-readable JSON output on stdout", .flags = FOTA_OPT_CTX, \
		.type = FOTA_OPT_T_FLAG, .off = offsetof(struct cmd_ctx, json)           \
	}
#define FOTA_OPT_VERBOSE                                                              \
	{                                                                             \
		.key = 'v', .long_name = "verbose",                                   \
		.help = "each protocol step on stderr (-vv: details and frames too)", \
		.flags = FOTA_OPT_CTX, .type = FOTA_OPT_T_FN, .fn = cmd_opt_verbose   \
	}
#define FOTA_OPT_QUIET                                                            \
	{                                                                         \
		.key = 'q', .long_name = "quiet",                                 \
		.help = "no informational messages on stderr (stdout unchanged)", \
		.flags = FOTA_OPT_CTX, .type = FOTA_OPT_T_FN, .fn = cmd_opt_quiet \
	}
int cmd_opt_verbose(void *ctx, const char *value, char *msg, size_t size);
int cmd_opt_quiet(void *ctx, const char *value, char *msg, size_t size);

void cmd_ctx_init(struct cmd_ctx *ctx, const struct fota_cmd *cmd);

/*
 * With --json, a failure prints JSON on stdout too, one shape for every
 * command: {"ok": false, "error": "the error line", "exit_status": N}.
 * Returns rc; prints when ctx->json, rc is not 0 and the command printed no
 * JSON of its own (ctx->json_printed). ctx->json_on_failure is set by
 * cmd_ctx_init() for every command whose table has --json; a usage error
 * of such a command with --json anywhere on its command line prints it too.
 */
int cmd_json_failure(struct cmd_ctx *ctx, int rc);
/* That object for exit status rc and the last error logged, printed now. */
void cmd_json_error(int rc);

/*
 * Parse argv by ctx->cmd's option table, git's parse_options() way: each
 * value goes where its entry says, into args (the command's own struct; may
 * be NULL if no entry needs it) or into ctx. -h/--help prints the help and
 * exits 0. A usage error (unknown option, missing or invalid value, more
 * operands than cmd->max_operands) is reported and exits 2. Returns the
 * number of operands, moved to argv[0..n-1] (argv[n] is NULL).
 */
int cmd_parse_options(struct cmd_ctx *ctx, void *args, int argc, char **argv);

/* Was the option of key on the command line (after cmd_parse_options())? */
/*
 * Add the DIDs of LIST (hex, F190 or 0xF190, comma-separated) to dids[0..*n)
 * (at most max; a DID already there is skipped). 0, or -EINVAL with a
 * message for `opt` in msg.
 */
int cmd_parse_dids(const char *opt, const char *list, uint16_t *dids, size_t *n, size_t max,
		   char *msg, size_t size);

struct uds_rdbi;
struct json_object;

/*
 * The identification DIDs dids[0..n) read before and after programming
 * (either read may be NULL: not read): one line per DID on stdout
 * ("F189  name  2.0.0 -> 2.1.0"), or a JSON array of {did, name, before,
 * after} (values as text, null when not read or not supported).
 */
void cmd_identity_print(const struct uds_rdbi *before, const struct uds_rdbi *after,
			const uint16_t *dids, size_t n);
struct json_object *cmd_identity_json(const struct uds_rdbi *before, const struct uds_rdbi *after,
				      const uint16_t *dids, size_t n);

bool cmd_opt_given(const struct cmd_ctx *ctx, int key);

/*
 * The configuration search path (fota(1), FILES), used when neither -c nor
 * $FOTA_CONFIG names a file: ./fota.yaml, $XDG_CONFIG_HOME/fota/fota.yaml
 * (when $XDG_CONFIG_HOME is an absolute path, else $HOME/.config/fota/fota.yaml
 * when $HOME is), CFG_DEFAULT_PATH. The first that exists is THE
 * configuration; the others are not read. Fills out[0..n) and returns n.
 */
#define CMD_CONFIG_PATH_MAX   4096
#define CMD_CONFIG_SEARCH_MAX 3
size_t cmd_config_search(char (*out)[CMD_CONFIG_PATH_MAX], size_t max);

/*
 * Load the configuration into *cfg (cfg_init() defaults first): -c FILE or
 * $FOTA_CONFIG if given (then it must exist), else the first file of
 * cmd_config_search() that exists. With required set, finding none is an
 * error too ("no configuration: ... none of PATHS exists", status 3). A
 * configuration whose bus: is no bus (bus_spec_check()) is malformed. Reports
 * the error ("FILE:LINE:COL: msg") and returns its exit status (3; 0 when
 * loaded), with *cfg empty (cfg_init()). On success the caller cfg_release()s it.
 */
int cmd_load_config(struct cmd_ctx *ctx, struct fota_config *cfg, bool required);

/*
 * The ECU named by -e NAME in cfg, into *ecu. A name the configuration does
 * not have is a bad command line: reported ("FILE: no ECU named 'x'"), exit
 * status 2. Returns 0 or that status.
 */
int cmd_find_ecu(const struct fota_config *cfg, const char *name, const struct cfg_ecu **ecu);

/*
 * Open ctx->bus: -b BUS, $FOTA_BUS, else cfg->bus (cfg may be NULL). opts may
 * be NULL (then the config's fd/bitrate apply); ctx->join says how to join a
 * unix: bus (a client: "no other member on unix:DIR", status 4, when nobody
 * is there), and a process killed by SIGINT, SIGTERM or SIGHUP removes its
 * socket file from DIR. Opens --trace FILE first (for
 * writing, truncated) and traces every frame in candump -l format. Reports
 * the error ("BUS: reason", "FILE: reason") and returns its exit status: 2
 * for no bus given or a spec that is no bus, 1 for a trace file that cannot
 * be created, 4 for a bus that cannot be opened.
 */
int cmd_open_bus(struct cmd_ctx *ctx, const struct fota_config *cfg, const struct bus_opts *opts);

/*
 * Close the trace file and the bus opened by cmd_open_bus() (if any). A
 * trace that could not be written completely (disk full) is reported and
 * its exit status (1) returned; else 0.
 */
int cmd_ctx_release(struct cmd_ctx *ctx);

/*
 * The reason a bus error ended the work, for a message "BUS: reason": when err
 * is -ENETDOWN and the controller is bus-off (error frames, bus->state), say
 * so ("controller is bus-off (Network is down)"); otherwise strerror(-err).
 * Writes into buf and returns it.
 */
const char *cmd_bus_strerror(const struct bus *bus, int err, char *buf, size_t size);

/*
 * Load a firmware image argument as the user gave it: "FILE" (format by
 * content, or fmt when not IMG_FMT_AUTO) or "FILE@ADDR" (a raw binary at
 * ADDR). Reads the file once; file_sha (may be NULL) gets the SHA-256 of its
 * bytes, *used the format. Errors are reported ("FILE:LINE: why") and
 * returned as an exit status; 0 on success (release img with ihex_release).
 */
int cmd_load_image(const char *arg, enum img_format fmt, struct ihex_image *img,
		   uint8_t file_sha[32], enum img_format *used);

/*
 * Completion of ECU names beginning with cur, from the configuration in effect
 * for WORDS (the last -c/--config, else $FOTA_CONFIG, else the default path):
 * "PRE""NAME<TAB>brand model" lines, pre being what the word holds before the
 * value ("--ecu=" or "").
 */
void cmd_complete_ecus(const char *pre, const char *cur, int argc, char **argv);
/*
 * Completion of a bus beginning with cur: the CAN interfaces in net_dir
 * (/sys/class/net: NAME/type holds 280, ARPHRD_CAN in <linux/if_arp.h>), then
 * "unix:"; after "unix:" a ":dirs<TAB>PREunix:" line (a directory follows).
 */
void cmd_complete_buses(const char *net_dir, const char *pre, const char *cur);

#endif
