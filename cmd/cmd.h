// SPDX-License-Identifier: MIT
/*
 * The command layer's contract. Each command is one file cmd/NAME.c holding its
 * usage lines, option table, summary and run function, and defining one
 * non-static `const struct fota_cmd cmd_NAME`. cmd/commands.h is the one list of
 * commands: it feeds dispatch, --help, the fota-NAME symlinks, completion and
 * the man-page checks. Only this layer prints messages and picks exit codes.
 */
#ifndef FOTA_CMD_CMD_H
#define FOTA_CMD_CMD_H

#include <inttypes.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "core/err.h"
#include "core/log.h"

/* Option value kinds (for completion) and attributes. */
#define FOTA_OPT_FILE	0x01u /* value is a path: complete files */
#define FOTA_OPT_IFACE	0x02u /* value is a bus: complete CAN interfaces, unix: */
#define FOTA_OPT_ECU	0x04u /* value is an ECU name from the config */
#define FOTA_OPT_NUMBER 0x08u /* value is a number: nothing to complete */
#define FOTA_OPT_DIR	0x10u /* value is a directory */
#define FOTA_OPT_HIDDEN 0x20u /* parsed, but not in --help, completion or the man check */
#define FOTA_OPT_OPTARG 0x40u /* argument optional: --opt=VAL, or a next word of digits */

/* Keys for long-only options: values above any char. */
#define FOTA_OPT_LONG(n) (0x100 + (n))

struct fota_opt {
	int key;	       /* 'b' for -b/--bus, or FOTA_OPT_LONG(n) for long-only */
	const char *long_name; /* "bus" */
	const char *arg;       /* "BUS", or NULL for a flag */
	const char *help;      /* one line, lowercase, no final period */
	unsigned flags;	       /* FOTA_OPT_* */
};

#define FOTA_OPT_END                   \
	{                              \
		0, NULL, NULL, NULL, 0 \
	}

/* Common options: same letters, names and help everywhere. */
#define FOTA_KEY_TRACE	 FOTA_OPT_LONG(90)
#define FOTA_KEY_JSON	 FOTA_OPT_LONG(91)
#define FOTA_KEY_BITRATE FOTA_OPT_LONG(92)
#define FOTA_KEY_FD	 FOTA_OPT_LONG(93)
#define FOTA_OPT_BUS                                                                      \
	{                                                                                 \
		'b', "bus", "BUS",                                                        \
			"CAN bus: interface (can0, vcan0) or unix:DIR (default: config, " \
			"$FOTA_BUS)",                                                     \
			FOTA_OPT_IFACE                                                    \
	}
#define FOTA_OPT_CONFIG                                                                    \
	{                                                                                  \
		'c', "config", "FILE",                                                     \
			"configuration file (default: $FOTA_CONFIG, /etc/fota/fota.yaml)", \
			FOTA_OPT_FILE                                                      \
	}
#define FOTA_OPT_NODE                                                                     \
	{                                                                                 \
		'n', "node", "ID", "TCU CANopen node-ID, 1..127 (default: config, 0x27)", \
			FOTA_OPT_NUMBER                                                   \
	}
#define FOTA_OPT_TRACE                                                                    \
	{                                                                                 \
		FOTA_KEY_TRACE, "trace", "FILE",                                          \
			"log every CAN frame to FILE in candump -l format", FOTA_OPT_FILE \
	}
#define FOTA_OPT_JSON                                                                    \
	{                                                                                \
		FOTA_KEY_JSON, "json", NULL, "machine-readable JSON output on stdout", 0 \
	}
#define FOTA_OPT_VERBOSE                                                              \
	{                                                                             \
		'v', "verbose", NULL, "more messages on stderr (repeat for debug)", 0 \
	}
#define FOTA_OPT_QUIET                                         \
	{                                                      \
		'q', "quiet", NULL, "only errors on stderr", 0 \
	}

/* Commands flags. */
#define FOTA_CMD_HIDDEN 0x01u /* not in the overview, man check or completion (__complete) */

struct fota_cmd {
	const char *name;	     /* "approve": also the symlink suffix and man page name */
	const char *summary;	     /* one line: overview, man NAME, completion description */
	const char *const *usage;    /* NULL-terminated synopsis lines, "fota approve [-b BUS]" */
	const struct fota_opt *opts; /* terminated by FOTA_OPT_END */
	int (*run)(int argc, char **argv);
	unsigned flags;		     /* FOTA_CMD_* */
	const char *help_tail;	     /* optional text printed after the options in --help */
	const char *const *operands; /* fixed operand words for completion ("ok", "fail") */
	unsigned operand_flags;	     /* FOTA_OPT_FILE if operands are files */
};

#define FOTA_CMD(name) extern const struct fota_cmd cmd_##name;
#include "cmd/commands.h"
extern const struct fota_cmd cmd___complete;
#undef FOTA_CMD

/* The table, sorted by name, built from cmd/commands.h (cmd/opt.c). */
extern const struct fota_cmd *const fota_cmds[];
extern const size_t fota_ncmds;
const struct fota_cmd *fota_cmd_find(const char *name);

/* ---- option parsing (cmd/opt.c) ---- */

#define FOTA_GETOPT_HELP  (-2) /* -h/--help: help printed to stdout; return FOTA_EXIT_OK */
#define FOTA_GETOPT_ERROR (-3) /* usage error printed to stderr; return FOTA_EXIT_USAGE */

struct fota_getopt {
	const struct fota_cmd *cmd;
	int ind;	 /* after the loop: index of the first operand */
	const char *arg; /* the current option's argument, or NULL */
	int started;
};

void fota_getopt_init(struct fota_getopt *g, const struct fota_cmd *cmd);
/*
 * getopt_long driven by cmd->opts. Returns the option's key, -1 at the end of
 * options (operands start at g->ind, GNU permutation applies: options may
 * follow operands; "--" ends options), FOTA_GETOPT_HELP or FOTA_GETOPT_ERROR.
 */
int fota_getopt(struct fota_getopt *g, int argc, char **argv);

/* Print cmd's --help to stdout. */
void fota_print_help(const struct fota_cmd *cmd);
/* One-line usage error + usage lines + "see 'fota CMD --help'" to stderr; returns 2. */
__attribute__((format(printf, 2, 3))) int fota_usage_error(const struct fota_cmd *cmd,
							   const char *fmt, ...);

/* ---- value parsers: 0 or -EINVAL; never print ---- */

/* Unsigned integer in decimal or 0x hex, within [min, max]. */
int fota_parse_u32(const char *s, uint32_t min, uint32_t max, uint32_t *out);
int fota_parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out);
/* CAN id: 0x7E0, 2016; up to 0x7FF is 11-bit unless forced; above is 29-bit (*eff = true). */
int fota_parse_can_id(const char *s, uint32_t *id, bool *eff);
/* Hex bytes "01 02", "0102", "01:02" -> buf; *len set. -EINVAL on odd digits or overflow. */
int fota_parse_hex_bytes(const char *s, uint8_t *buf, size_t cap, size_t *len);

/* ---- output ---- */

/*
 * The message prefix as the user typed the command: "fota flash" or
 * "fota-flash" (set by main before run).
 */
const char *fota_prog(void);

#endif
