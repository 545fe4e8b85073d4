// SPDX-License-Identifier: MIT
/*
 * main(): busybox-style dispatch. `fota CMD ARGS` and `fota-CMD ARGS` (argv[0],
 * via the installed symlinks) run the same code with the same argv[0]-relative
 * view: every command sees its own name in argv[0]. Exact names only, never
 * prefixes: adding a command must never change what an old script means.
 * Documented in man/fota.1.
 */
#include <libgen.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "cmd/cmd.h"

static char prog[64] = "fota";

const char *fota_prog(void)
{
	return prog;
}

static void overview(FILE *fp)
{
	fprintf(fp, "usage: fota COMMAND [ARGS]\n"
		    "   or: fota-COMMAND [ARGS]\n"
		    "       fota --help [COMMAND] | --version | help [COMMAND]\n\n"
		    "Update ECU firmware over CAN: a TCU (CANopen SDO object 0x5FF3 and its\n"
		    "update state machine) and a UDS (ISO 14229) programmer over ISO-TP.\n\n"
		    "Commands:\n");
	for (size_t i = 0; i < fota_ncmds; i++)
		if (!(fota_cmds[i]->flags & FOTA_CMD_HIDDEN))
			fprintf(fp, "  %-10s %s\n", fota_cmds[i]->name, fota_cmds[i]->summary);
	fprintf(fp, "\nSee 'fota COMMAND --help' and man fota-COMMAND for each command.\n");
}

static const char help_usage[] =
	"usage: fota help [COMMAND]\n"
	"   or: fota --help [COMMAND]\n\n"
	"Show the list of commands, or the help of COMMAND (the same as 'fota COMMAND --help').\n";

/* argv[0] is "help", "--help" or "-h"; at most one more word, a command. */
static int help(int argc, char **argv)
{
	const struct fota_cmd *cmd;
	const char *name = argc > 1 ? argv[1] : NULL;

	if (argc > 2) {
		fota_error("%s: too many arguments; see 'fota --help'", argv[0]);
		return FOTA_EXIT_USAGE;
	}
	if (!name) {
		overview(stdout);
		return fota_finish_stdout(FOTA_EXIT_OK);
	}
	if (!strcmp(name, "help") || !strcmp(name, "--help") || !strcmp(name, "-h")) {
		fputs(help_usage, stdout);
		return fota_finish_stdout(FOTA_EXIT_OK);
	}
	cmd = fota_cmd_find(name);
	if (!cmd || (cmd->flags & FOTA_CMD_HIDDEN)) {
		fota_error("'%s' is not a fota command; see 'fota --help'", name);
		return FOTA_EXIT_USAGE;
	}
	fota_print_help(cmd);
	return fota_finish_stdout(FOTA_EXIT_OK);
}

static int run(const struct fota_cmd *cmd, int argc, char **argv)
{
	fota_log_set_prefix(prog);
	return fota_finish_stdout(cmd->run(argc, argv));
}

int main(int argc, char **argv)
{
	const char *self = argc > 0 && argv[0] ? argv[0] : "fota";
	const struct fota_cmd *cmd;
	char buf[256];

	signal(SIGPIPE, SIG_IGN); /* EPIPE is reported by the write, not by death */
	snprintf(buf, sizeof(buf), "%s", self);
	self = basename(buf);

	if (!strncmp(self, "fota-", 5)) {
		snprintf(prog, sizeof(prog), "%s", self);
		cmd = fota_cmd_find(self + 5);
		if (!cmd || (cmd->flags & FOTA_CMD_HIDDEN)) {
			fota_log_set_prefix(prog);
			fota_error("unknown fota command");
			return FOTA_EXIT_NOCMD;
		}
		return run(cmd, argc, argv);
	}

	fota_log_set_prefix("fota");
	if (argc < 2) {
		overview(stderr);
		return FOTA_EXIT_USAGE;
	}
	if (!strcmp(argv[1], "-V") || !strcmp(argv[1], "--version")) {
		printf("fota %s\n", FOTA_VERSION);
		return fota_finish_stdout(FOTA_EXIT_OK);
	}
	/* fota help [COMMAND], and fota --help [COMMAND] the same */
	if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help") || !strcmp(argv[1], "help"))
		return help(argc - 1, argv + 1);
	if (argv[1][0] == '-') {
		fota_error("unknown option '%s'; see 'fota --help'", argv[1]);
		return FOTA_EXIT_USAGE;
	}
	cmd = fota_cmd_find(argv[1]);
	if (!cmd) {
		fota_error("'%s' is not a fota command; see 'fota --help'", argv[1]);
		return FOTA_EXIT_USAGE;
	}
	snprintf(prog, sizeof(prog), "fota %s", cmd->name);
	return run(cmd, argc - 1, argv + 1);
}
