// SPDX-License-Identifier: MIT
/*
 * The command layer's contract. Each command is one file cmd/NAME.c holding its
 * usage lines, option table, summary and run function, and defining one
 * non-static `const struct fota_cmd cmd_NAME`. cmd/commands.h is the one list of
 * commands: it feeds dispatch, --help, the fota-NAME symlinks, completion and
 * the man-page checks. Only this layer prints messages and picks exit codes,
 * each by what failed (fota_exit_status(), core/err.h).
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
#define FOTA_OPT_OPTARG 0x40u /* value optional: only as --opt=VAL; a next word is an operand */
#define FOTA_OPT_CTX	0x80u /* the value goes into struct cmd_ctx, not the command's args */

/* Keys for long-only options: values above any char. */
#define FOTA_OPT_LONG(n) (0x100 + (n))

/* Where an option's value goes (cmd_parse_options() in cmd/common.h). */
enum fota_opt_type {
	FOTA_OPT_T_NONE,   /* none: fota_getopt() returns the key to the command's own loop */
	FOTA_OPT_T_FLAG,   /* bool: true */
	FOTA_OPT_T_STRING, /* const char *: the value as given (NULL: an optional one absent) */
	FOTA_OPT_T_U32,	   /* uint32_t: decimal or 0x hex within [min, max] */
	FOTA_OPT_T_CAN_ID, /* struct fota_can_id, by fota_parse_can_id() */
	FOTA_OPT_T_FN,	   /* fn() parses the value itself */
};

/* A CAN id as given: 29-bit above 0x7FF or when written with 8 digits. */
struct fota_can_id {
	uint32_t id;
	bool eff;
};

/*
 * One option: its names and help (for parsing, --help, completion and the man
 * check) and where its value goes. The value lives in the command's own args
 * struct at off, or in struct cmd_ctx (cmd/common.h) with FOTA_OPT_CTX; the
 * last of repeated options wins.
 */
struct fota_opt {
	int key;	       /* 'b' for -b/--bus, or FOTA_OPT_LONG(n) for long-only */
	const char *long_name; /* "bus" */
	const char *arg;       /* "BUS", or NULL for a flag; "a|b|c": one of these words */
	const char *help;      /* one line, lowercase, no final period */
	unsigned flags;	       /* FOTA_OPT_* */
	enum fota_opt_type type;
	size_t off;	   /* offsetof() the value (all types but FOTA_OPT_T_FN) */
	uint32_t min, max; /* FOTA_OPT_T_U32: the range */
	const char *unit;  /* FOTA_OPT_T_U32: the range's unit in the error ("ms"), or NULL */
	/*
	 * FOTA_OPT_T_FN: parse value (NULL for an absent optional value) into
	 * base, the args struct (or struct cmd_ctx). Returns 0, or -EINVAL
	 * with the whole usage error in msg ("invalid --fail 'x' (expected
	 * SERVICE[:N]=NRC)"). Never prints.
	 */
	int (*fn)(void *base, const char *value, char *msg, size_t size);
	/*
	 * Optional: the i-th word the value may be (NULL after the last), for
	 * completion and the man check, where they are not written in arg
	 * ("STATE": idle, waiting, ...). An arg "a|b|c" needs none.
	 */
	const char *(*value_at)(size_t i);
};

#define FOTA_OPT_END \
	{            \
		0    \
	}

/* Table entries by type; o is offsetof(ARGS, FIELD) of the command's args struct. */
#define FOTA_OPT_FLAG(k, name, h, o)                                                              \
	{                                                                                         \
		.key = (k), .long_name = (name), .help = (h), .type = FOTA_OPT_T_FLAG, .off = (o) \
	}
#define FOTA_OPT_STRING(k, name, a, h, fl, o)                                            \
	{                                                                                \
		.key = (k), .long_name = (name), .arg = (a), .help = (h), .flags = (fl), \
		.type = FOTA_OPT_T_STRING, .off = (o)                                    \
	}
#define FOTA_OPT_U32(k, name, a, h, o, lo, hi, u)                                          \
	{                                                                                  \
		.key = (k), .long_name = (name), .arg = (a), .help = (h),                  \
		.flags = FOTA_OPT_NUMBER, .type = FOTA_OPT_T_U32, .off = (o), .min = (lo), \
		.max = (hi), .unit = (u)                                                   \
	}
#define FOTA_OPT_CAN_ID(k, name, h, o)                                          \
	{                                                                       \
		.key = (k), .long_name = (name), .arg = "ID", .help = (h),      \
		.flags = FOTA_OPT_NUMBER, .type = FOTA_OPT_T_CAN_ID, .off = (o) \
	}
#define FOTA_OPT_FN(k, name, a, h, fl, f)                                                \
	{                                                                                \
		.key = (k), .long_name = (name), .arg = (a), .help = (h), .flags = (fl), \
		.type = FOTA_OPT_T_FN, .fn = (f)                                         \
	}
/* FOTA_OPT_FN whose value is one of the words value_at(0), value_at(1), ... */
#define FOTA_OPT_FN_WORDS(k, name, a, h, fl, f, v)                                       \
	{                                                                                \
		.key = (k), .long_name = (name), .arg = (a), .help = (h), .flags = (fl), \
		.type = FOTA_OPT_T_FN, .fn = (f), .value_at = (v)                        \
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
	const char *const *operands; /* fixed operand words for completion, "WORD<TAB>why" */
	unsigned operand_flags;	     /* FOTA_OPT_FILE if operands are files */
	int max_operands;	     /* more is a usage error; 0 by default, or FOTA_OPERANDS_ANY */
};

#define FOTA_OPERANDS_ANY (-1)

#define FOTA_CMD(name) extern const struct fota_cmd cmd_##name;
#include "cmd/commands.h"
extern const struct fota_cmd cmd___complete;
#undef FOTA_CMD

/* The table, sorted by name, built from cmd/commands.h (cmd/opt.c). */
extern const struct fota_cmd *const fota_cmds[];
extern const size_t fota_ncmds;
const struct fota_cmd *fota_cmd_find(const char *name);

/* ---- option parsing (cmd/opt.c; the commands call cmd_parse_options(), cmd/common.h) ---- */

#define FOTA_GETOPT_HELP  (-2) /* -h/--help: help printed to stdout; return FOTA_EXIT_OK */
#define FOTA_GETOPT_ERROR (-3) /* usage error printed to stderr; return FOTA_EXIT_USAGE */

struct fota_getopt {
	const struct fota_cmd *cmd;
	int ind;	 /* after the loop: index of the first operand */
	const char *arg; /* the current option's argument, or NULL */
	int started;
	/*
	 * The last option with an optional value given without one, and the
	 * word that followed it (NULL at the end): when that word turns out to
	 * be an unexpected operand, the error shows the '=' form.
	 */
	const struct fota_opt *bare_optarg;
	const char *bare_next;
};

void fota_getopt_init(struct fota_getopt *g, const struct fota_cmd *cmd);
/*
 * getopt_long driven by cmd->opts. Returns the option's key, -1 at the end of
 * options (operands start at g->ind, GNU permutation applies: options may
 * follow operands; "--" ends options), FOTA_GETOPT_HELP or FOTA_GETOPT_ERROR.
 */
int fota_getopt(struct fota_getopt *g, int argc, char **argv);

/* cmd's table entry for key, or NULL. */
const struct fota_opt *fota_opt_find(const struct fota_cmd *cmd, int key);

/*
 * Parse value as entry o says and store it into base (the args struct, or
 * struct cmd_ctx for FOTA_OPT_CTX). Returns 0, or -EINVAL with the usage
 * error in msg ("invalid --sdo-timeout '0' (1..600000 ms)"). Never prints.
 */
int fota_opt_store(const struct fota_opt *o, void *base, const char *value, char *msg, size_t size);

/* For FOTA_OPT_T_FN parsers: write the usage error into msg; returns -EINVAL. */
__attribute__((format(printf, 3, 4))) int fota_opt_error(char *msg, size_t size, const char *fmt,
							 ...);

/* Print cmd's --help to stdout. */
void fota_print_help(const struct fota_cmd *cmd);
/* One-line usage error + usage lines + "see 'fota CMD --help'" to stderr; returns 2. */
__attribute__((format(printf, 2, 3))) int fota_usage_error(const struct fota_cmd *cmd,
							   const char *fmt, ...);

/*
 * git's run_builtin() epilogue: flush stdout. Data that could not be written
 * is an error (reported; status 1 unless status is an error already), but a
 * reader that went away (EPIPE) is the reader's business. Returns the status.
 */
int fota_finish_stdout(int status);

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
