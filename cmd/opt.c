// SPDX-License-Identifier: MIT
/*
 * The command table and the option parser it drives. fota_getopt() builds
 * getopt_long's struct option[] and optstring from the command's table, so the
 * table is the one truth for parsing, --help, completion and the man check.
 */
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cmd/cmd.h"
#include "core/hexstr.h"

#define FOTA_CMD(name) &cmd_##name,
const struct fota_cmd *const fota_cmds[] = {
#include "cmd/commands.h"
	&cmd___complete,
};
#undef FOTA_CMD
const size_t fota_ncmds = FOTA_ARRAY_SIZE(fota_cmds);

const struct fota_cmd *fota_cmd_find(const char *name)
{
	for (size_t i = 0; i < fota_ncmds; i++)
		if (!strcmp(fota_cmds[i]->name, name))
			return fota_cmds[i];
	return NULL;
}

#define MAX_OPTS 64

void fota_getopt_init(struct fota_getopt *g, const struct fota_cmd *cmd)
{
	memset(g, 0, sizeof(*g));
	g->cmd = cmd;
	g->ind = 1;
}

const struct fota_opt *fota_opt_find(const struct fota_cmd *cmd, int key)
{
	for (const struct fota_opt *o = cmd->opts; o && o->long_name; o++)
		if (o->key == key)
			return o;
	return NULL;
}

/* "-5", "-0x10": a negative number, which no fota option looks like. */
static bool negative_number(const char *s)
{
	return s[0] == '-' && isdigit((unsigned char)s[1]);
}

int fota_getopt(struct fota_getopt *g, int argc, char **argv)
{
	struct option lopts[MAX_OPTS + 2];
	char sopts[3 * MAX_OPTS + 4];
	const struct fota_cmd *cmd = g->cmd;
	size_t nl = 0, ns = 0;
	int c, idx = -1;

	sopts[ns++] = ':'; /* report a missing argument as ':' */
	for (const struct fota_opt *o = cmd->opts; o && o->long_name; o++) {
		bool opt_arg = o->flags & FOTA_OPT_OPTARG;

		if (nl == MAX_OPTS)
			FOTA_BUG("%s: more than %d options", cmd->name, MAX_OPTS);
		lopts[nl].name = o->long_name;
		lopts[nl].has_arg = !o->arg ? no_argument :
				    opt_arg ? optional_argument :
					      required_argument;
		lopts[nl].flag = NULL;
		lopts[nl].val = o->key;
		nl++;
		if (o->key > 0 && o->key < 0x100) {
			sopts[ns++] = (char)o->key;
			if (o->arg)
				sopts[ns++] = ':';
			if (o->arg && opt_arg)
				sopts[ns++] = ':';
		}
	}
	lopts[nl++] = (struct option){ "help", no_argument, NULL, 'h' };
	lopts[nl] = (struct option){ NULL, 0, NULL, 0 };
	sopts[ns++] = 'h';
	sopts[ns] = '\0';

	if (!g->started) {
		optind = 0; /* full reset of glibc's getopt state */
		g->started = 1;
	}
	opterr = 0;
	c = getopt_long(argc, argv, sopts, lopts, &idx);
	g->ind = optind;
	g->arg = optarg;
	if (c == -1)
		return -1;
	if (c == 'h' && !fota_opt_find(cmd, 'h')) {
		fota_print_help(cmd);
		return FOTA_GETOPT_HELP;
	}
	if (c == '?' || c == ':') {
		const char *bad = argv[optind - 1];
		const struct fota_opt *o = optopt ? fota_opt_find(cmd, optopt) : NULL;

		if (c == ':' && o)
			fota_usage_error(cmd, "option '%s' needs a value (%s)", bad, o->arg);
		else if (c == ':')
			fota_usage_error(cmd, "option '%s' needs a value", bad);
		else if (optopt && optopt < 0x100 && bad[0] == '-' && bad[1] != '-')
			fota_usage_error(cmd, "unknown option '-%c'", optopt);
		else if (optopt >= 0x100 ||
			 (bad[0] == '-' && bad[1] == '-' && strchr(bad, '=') && optopt))
			fota_usage_error(cmd, "option '%.*s' takes no value",
					 (int)strcspn(bad, "="), bad);
		else
			fota_usage_error(cmd, "unknown option '%s'", bad);
		return FOTA_GETOPT_ERROR;
	}
	/*
	 * An optional value is only ever given after '=' (git's rule,
	 * gitcli(7)): the next word is an operand, and the command says so
	 * when it does not expect one (g->bare_optarg, cmd_parse_options()).
	 * Only a negative number, which can be no option and no operand, is
	 * taken as the value, so that the option's own parser names it with
	 * its range ("invalid timeout '-1' (0..65535 minutes)").
	 */
	{
		const struct fota_opt *o = fota_opt_find(cmd, c);

		if (o && o->arg && (o->flags & FOTA_OPT_OPTARG) && !optarg) {
			if (optind < argc && negative_number(argv[optind])) {
				g->arg = argv[optind++];
				g->ind = optind;
			} else {
				g->bare_optarg = o;
				g->bare_next = optind < argc ? argv[optind] : NULL;
			}
		}
	}
	return c;
}

int fota_opt_error(char *msg, size_t size, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, size, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

int fota_opt_store(const struct fota_opt *o, void *base, const char *value, char *msg, size_t size)
{
	void *p = (char *)base + o->off;

	msg[0] = '\0';
	if (!value && o->arg && o->type != FOTA_OPT_T_STRING && o->type != FOTA_OPT_T_FN)
		FOTA_BUG("--%s: an optional value is for FOTA_OPT_T_STRING or _FN", o->long_name);
	switch (o->type) {
	case FOTA_OPT_T_FLAG:
		*(bool *)p = true;
		return 0;
	case FOTA_OPT_T_STRING:
		*(const char **)p = value;
		return 0;
	case FOTA_OPT_T_U32:
		if (!fota_parse_u32(value, o->min, o->max, p))
			return 0;
		/* the whole range, also for an open-ended one: "99999999999" is not "3 or more" */
		return fota_opt_error(msg, size,
				      o->max == UINT32_MAX ?
					      "invalid --%s '%s' (%" PRIu32 "..0x%" PRIX32 "%s%s)" :
					      "invalid --%s '%s' (%" PRIu32 "..%" PRIu32 "%s%s)",
				      o->long_name, value, o->min, o->max, o->unit ? " " : "",
				      o->unit ? o->unit : "");
	case FOTA_OPT_T_CAN_ID: {
		struct fota_can_id *c = p;

		if (!fota_parse_can_id(value, &c->id, &c->eff))
			return 0;
		return fota_opt_error(msg, size, "invalid CAN id '%s' for --%s (up to 0x1FFFFFFF)",
				      value, o->long_name);
	}
	case FOTA_OPT_T_FN:
		if (!o->fn(base, value, msg, size))
			return 0;
		if (!msg[0])
			fota_opt_error(msg, size, "invalid --%s '%s'", o->long_name,
				       value ? value : "");
		return -EINVAL;
	case FOTA_OPT_T_NONE:
		break;
	}
	FOTA_BUG("--%s: no place for its value", o->long_name);
}

static void help_opt_line(FILE *fp, int key, const char *lname, const char *arg, unsigned flags,
			  const char *help)
{
	char left[64];
	int n;

	if (key > 0 && key < 0x100)
		n = snprintf(left, sizeof(left), "  -%c, --%s", key, lname);
	else
		n = snprintf(left, sizeof(left), "      --%s", lname);
	if (arg && n > 0 && (size_t)n < sizeof(left))
		snprintf(left + n, sizeof(left) - (size_t)n,
			 flags & FOTA_OPT_OPTARG ? "[=%s]" : "=%s", arg);
	if (strlen(left) < 26)
		fprintf(fp, "%-26s%s\n", left, help);
	else
		fprintf(fp, "%s\n%26s%s\n", left, "", help);
}

void fota_print_help(const struct fota_cmd *cmd)
{
	const char *const *u;
	const char *s = cmd->summary;

	for (u = cmd->usage; u && *u; u++)
		printf("%s %s\n", u == cmd->usage ? "usage:" : "   or:", *u);
	printf("\n%c%s.\n\n", toupper((unsigned char)s[0]), s + 1);
	for (const struct fota_opt *o = cmd->opts; o && o->long_name; o++)
		if (!(o->flags & FOTA_OPT_HIDDEN))
			help_opt_line(stdout, o->key, o->long_name, o->arg, o->flags, o->help);
	help_opt_line(stdout, 'h', "help", NULL, 0, "show this help and exit");
	if (cmd->help_tail)
		printf("\n%s", cmd->help_tail);
}

int fota_usage_error(const struct fota_cmd *cmd, const char *fmt, ...)
{
	char line[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	fota_error("%s", line);
	for (const char *const *u = cmd->usage; u && *u; u++)
		fprintf(stderr, "%s %s\n", u == cmd->usage ? "usage:" : "   or:", *u);
	fprintf(stderr, "see 'fota %s --help'\n", cmd->name);
	return FOTA_EXIT_USAGE;
}

int fota_finish_stdout(int status)
{
	if (fflush(stdout) == 0 && !ferror(stdout))
		return status;
	if (errno == EPIPE)
		return status;
	fota_error_errno(-errno, "write error on standard output");
	return status ? status : FOTA_EXIT_FAIL;
}

int fota_parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
	unsigned long long v;
	char *end;

	if (!s || !*s || *s == '-' || *s == '+' || isspace((unsigned char)*s))
		return -EINVAL;
	errno = 0;
	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		if (!isxdigit((unsigned char)s[2]))
			return -EINVAL;
		v = strtoull(s + 2, &end, 16);
	} else {
		v = strtoull(s, &end, 10);
	}
	if (errno || *end || v < min || v > max)
		return -EINVAL;
	*out = v;
	return 0;
}

int fota_parse_u32(const char *s, uint32_t min, uint32_t max, uint32_t *out)
{
	uint64_t v;
	int err = fota_parse_u64(s, min, max, &v);

	if (!err)
		*out = (uint32_t)v;
	return err;
}

int fota_parse_can_id(const char *s, uint32_t *id, bool *eff)
{
	int err = fota_parse_u32(s, 0, 0x1fffffff, id);

	if (!err)
		*eff = *id > 0x7ff || strlen(s) == 10; /* 0x0000007E0 style forces 29-bit */
	return err;
}

int fota_parse_hex_bytes(const char *s, uint8_t *buf, size_t cap, size_t *len)
{
	return fota_hex_bytes(s, strlen(s), " :.-", buf, cap, len) ? -EINVAL : 0;
}
