// SPDX-License-Identifier: MIT
/*
 * fota __complete: the hidden helper behind the bash, zsh and fish shims in
 * completions/ (git's --git-completion-helper idea). It answers from the same
 * tables that drive parsing, so completion cannot drift from the binary.
 *
 *   fota __complete commands            NAME<TAB>SUMMARY per command
 *   fota __complete options CMD         --long per option of CMD (man check uses it)
 *   fota __complete words CWORD -- WORDS...
 *       candidates for WORDS[CWORD], one per line, "cand<TAB>description";
 *       a line ":files" or ":dirs" asks the shim for file/dir completion.
 *       WORDS[0] is fota or fota-CMD.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cmd/cmd.h"
#include "cmd/common.h"

static const char *const complete_usage[] = {
	"fota __complete commands | options CMD | words CWORD -- WORDS...",
	NULL,
};

static const struct fota_opt complete_opts[] = {
	FOTA_OPT_END,
};

static bool starts(const char *s, const char *prefix)
{
	return !strncmp(s, prefix, strlen(prefix));
}

static void list_commands(const char *cur)
{
	for (size_t i = 0; i < fota_ncmds; i++) {
		const struct fota_cmd *c = fota_cmds[i];

		if (!(c->flags & FOTA_CMD_HIDDEN) && starts(c->name, cur))
			printf("%s\t%s\n", c->name, c->summary);
	}
}

static void list_options(const struct fota_cmd *cmd, const char *cur, bool with_help)
{
	for (const struct fota_opt *o = cmd->opts; o && o->long_name; o++) {
		char name[64];

		if (o->flags & FOTA_OPT_HIDDEN)
			continue;
		snprintf(name, sizeof(name), "--%s%s", o->long_name,
			 o->arg && !(o->flags & FOTA_OPT_OPTARG) && with_help ? "=" : "");
		if (starts(name, cur))
			printf("%s%s%s\n", name, with_help ? "\t" : "", with_help ? o->help : "");
	}
	if (starts("--help", cur))
		printf("--help%s\n", with_help ? "\tshow this help and exit" : "");
}

/* CAN interfaces: /sys/class/net/NAME/type == 280 (ARPHRD_CAN). */
static void list_ifaces(const char *cur)
{
	DIR *d = opendir("/sys/class/net");
	struct dirent *de;

	while (d && (de = readdir(d))) {
		char path[512], type[16] = "";
		FILE *fp;

		if (de->d_name[0] == '.' || !starts(de->d_name, cur))
			continue;
		snprintf(path, sizeof(path), "/sys/class/net/%s/type", de->d_name);
		fp = fopen(path, "r");
		if (fp && fgets(type, sizeof(type), fp) && atoi(type) == 280)
			printf("%s\tCAN interface\n", de->d_name);
		if (fp)
			fclose(fp);
	}
	if (d)
		closedir(d);
	if (starts("unix:", cur))
		printf("unix:\tvirtual bus in a directory\n");
}

static const struct fota_opt *find_opt(const struct fota_cmd *cmd, const char *word)
{
	for (const struct fota_opt *o = cmd->opts; o && o->long_name; o++) {
		if (word[0] == '-' && word[1] == '-' && !strcmp(word + 2, o->long_name))
			return o;
		if (word[0] == '-' && word[1] == o->key && word[2] == '\0' && o->key < 0x100)
			return o;
	}
	return NULL;
}

static void value_candidates(const struct fota_opt *o, const char *cur, int argc, char **argv)
{
	if (o->flags & FOTA_OPT_IFACE)
		list_ifaces(cur);
	else if (o->flags & FOTA_OPT_ECU)
		cmd_complete_ecus(cur, argc, argv);
	else if (o->flags & FOTA_OPT_DIR)
		printf(":dirs\n");
	else if (o->flags & FOTA_OPT_FILE)
		printf(":files\n");
}

static int complete_words(int cword, int argc, char **argv)
{
	const char *w0 = argc > 0 ? argv[0] : "fota";
	const char *base = strrchr(w0, '/') ? strrchr(w0, '/') + 1 : w0;
	const char *cur = cword < argc ? argv[cword] : "";
	const struct fota_cmd *cmd;
	int first = 1; /* index of the first word after the command name */

	if (starts(base, "fota-")) {
		cmd = fota_cmd_find(base + 5);
	} else {
		if (cword <= 1) {
			list_commands(cur);
			return 0;
		}
		cmd = fota_cmd_find(argv[1]);
		first = 2;
	}
	if (!cmd || (cmd->flags & FOTA_CMD_HIDDEN))
		return 0;
	if (cword > first) {
		const struct fota_opt *o = find_opt(cmd, argv[cword - 1]);

		if (o && o->arg && !(o->flags & FOTA_OPT_OPTARG)) {
			value_candidates(o, cur, argc, argv);
			return 0;
		}
	}
	if (cur[0] == '-') {
		if (starts(cur, "--") && strchr(cur, '=')) {
			char name[64];
			const struct fota_opt *o;

			snprintf(name, sizeof(name), "%.*s", (int)(strchr(cur, '=') - cur), cur);
			o = find_opt(cmd, name);
			if (o && o->arg)
				value_candidates(o, strchr(cur, '=') + 1, argc, argv);
			return 0;
		}
		list_options(cmd, cur, true);
		return 0;
	}
	for (const char *const *w = cmd->operands; w && *w; w++)
		if (starts(*w, cur))
			printf("%s\n", *w);
	if (cmd->operand_flags & FOTA_OPT_FILE)
		printf(":files\n");
	return 0;
}

static int run_complete(int argc, char **argv)
{
	const struct fota_cmd *cmd;
	char *end;
	long cword;

	if (argc >= 2 && !strcmp(argv[1], "commands")) {
		list_commands(argc > 2 ? argv[2] : "");
		return 0;
	}
	if (argc == 3 && !strcmp(argv[1], "options")) {
		cmd = fota_cmd_find(argv[2]);
		if (!cmd)
			return fota_usage_error(&cmd___complete, "no command '%s'", argv[2]);
		list_options(cmd, "", false);
		return 0;
	}
	if (argc >= 4 && !strcmp(argv[1], "words") && !strcmp(argv[3], "--")) {
		cword = strtol(argv[2], &end, 10);
		if (*end || cword < 0)
			return fota_usage_error(&cmd___complete, "bad word index '%s'", argv[2]);
		return complete_words((int)cword, argc - 4, argv + 4);
	}
	return fota_usage_error(&cmd___complete, "unknown request");
}

const struct fota_cmd cmd___complete = {
	.name = "__complete",
	.summary = "answer shell completion requests (used by completions/)",
	.usage = complete_usage,
	.opts = complete_opts,
	.run = run_complete,
	.flags = FOTA_CMD_HIDDEN,
};
