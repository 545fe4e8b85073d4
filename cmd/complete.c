// SPDX-License-Identifier: MIT
/*
 * fota __complete: the hidden helper behind the bash, zsh and fish shims in
 * completions/ (git's --git-completion-helper idea). It answers from the same
 * tables that drive parsing, so completion cannot drift from the binary.
 *
 *   fota __complete commands            NAME<TAB>SUMMARY per command
 *   fota __complete options CMD         --long per option of CMD (man check uses it)
 *   fota __complete values CMD          --long<TAB>WORD per word an option's value
 *                                       may be (man check)
 *   fota __complete words CWORD -- WORDS...
 *       candidates for WORDS[CWORD], one per line, "cand<TAB>description";
 *       each candidate is the whole word ("--bus=unix:"), so the shim cuts
 *       what its shell treats as a separate word (bash splits at = and :).
 *       A line ":files<TAB>PRE" or ":dirs<TAB>PRE" asks the shim to complete
 *       files or directories for the rest of the word after PRE ("--trace=",
 *       "unix:" or ""), in its shell's filename mode (a slash after a
 *       directory, no space). WORDS[0] is fota or fota-CMD; the words are
 *       as typed, not split at = or :.
 *
 * Which values an option takes comes from its table entry: FOTA_OPT_IFACE
 * (CAN interfaces, then unix:DIR), FOTA_OPT_ECU (names from the configuration
 * in effect), FOTA_OPT_FILE, FOTA_OPT_DIR, and fixed words (an arg "a|b|c",
 * or value_at()).
 */
#include <ctype.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cmd/cmd.h"
#include "cmd/common.h"

static const char *const complete_usage[] = {
	"fota __complete commands | options CMD | values CMD | words CWORD -- WORDS...",
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

void cmd_complete_buses(const char *net_dir, const char *pre, const char *cur)
{
	DIR *d;
	struct dirent *de;

	if (starts(cur, "unix:")) {
		printf(":dirs\t%sunix:\n", pre);
		return;
	}
	d = opendir(net_dir);
	while (d && (de = readdir(d))) {
		char path[512], type[16] = "";
		FILE *fp;

		if (de->d_name[0] == '.' || !starts(de->d_name, cur))
			continue;
		snprintf(path, sizeof(path), "%s/%s/type", net_dir, de->d_name);
		fp = fopen(path, "r");
		if (fp && fgets(type, sizeof(type), fp) && atoi(type) == 280)
			printf("%s%s\tCAN interface\n", pre, de->d_name);
		if (fp)
			fclose(fp);
	}
	if (d)
		closedir(d);
	if (starts("unix:", cur))
		printf("%sunix:\tvirtual bus in a directory\n", pre);
}

/* An arg "a|b|c" names the words the value may be: lowercase words only. */
static bool arg_is_words(const char *arg)
{
	if (!arg || !strchr(arg, '|'))
		return false;
	for (const char *p = arg; *p; p++)
		if (!islower((unsigned char)*p) && !isdigit((unsigned char)*p) && *p != '-' &&
		    *p != '|')
			return false;
	return true;
}

/* Call fn for each word o's value may be; false if it has no such list. */
static bool for_each_word(const struct fota_opt *o, void (*fn)(const char *w, size_t n, void *ctx),
			  void *ctx)
{
	const char *w;

	if (o->value_at) {
		for (size_t i = 0; (w = o->value_at(i)); i++)
			fn(w, strlen(w), ctx);
		return true;
	}
	if (!arg_is_words(o->arg))
		return false;
	for (w = o->arg; *w;) {
		size_t n = strcspn(w, "|");

		fn(w, n, ctx);
		w += n + (w[n] == '|');
	}
	return true;
}

struct word_ctx {
	const struct fota_opt *o;
	const char *pre, *cur;
};

static void print_word(const char *w, size_t n, void *ctx)
{
	const struct word_ctx *c = ctx;
	size_t len = strlen(c->cur);

	if (n >= len && !strncmp(w, c->cur, len))
		printf("%s%.*s\t%s\n", c->pre, (int)n, w, c->o->arg);
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

/* Candidates for o's value: the word holds pre ("--bus=" or ""), then cur. */
static void value_candidates(const struct fota_opt *o, const char *pre, const char *cur, int argc,
			     char **argv)
{
	struct word_ctx c = { o, pre, cur };

	if (o->flags & FOTA_OPT_IFACE)
		cmd_complete_buses("/sys/class/net", pre, cur);
	else if (o->flags & FOTA_OPT_ECU)
		cmd_complete_ecus(pre, cur, argc, argv);
	else if (o->flags & FOTA_OPT_DIR)
		printf(":dirs\t%s\n", pre);
	else if (o->flags & FOTA_OPT_FILE)
		printf(":files\t%s\n", pre);
	else
		for_each_word(o, print_word, &c);
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
		if (cword == 2 && !strcmp(argv[1], "help")) {
			list_commands(cur); /* fota help COMMAND */
			return 0;
		}
		cmd = fota_cmd_find(argv[1]);
		first = 2;
	}
	if (!cmd || (cmd->flags & FOTA_CMD_HIDDEN))
		return 0;
	for (int i = first; i < cword && i < argc; i++)
		if (!strcmp(argv[i], "--"))
			goto operands; /* options end at "--", as for getopt */
	if (cword > first) {
		const struct fota_opt *o = find_opt(cmd, argv[cword - 1]);

		if (o && o->arg && !(o->flags & FOTA_OPT_OPTARG)) {
			value_candidates(o, "", cur, argc, argv);
			return 0;
		}
	}
	if (cur[0] == '-') {
		if (starts(cur, "--") && strchr(cur, '=')) {
			size_t n = (size_t)(strchr(cur, '=') - cur) + 1;
			char name[64];
			const struct fota_opt *o;

			snprintf(name, sizeof(name), "%.*s", (int)n - 1, cur);
			o = find_opt(cmd, name);
			snprintf(name, sizeof(name), "%.*s", (int)n, cur);
			if (o && o->arg)
				value_candidates(o, name, cur + n, argc, argv);
			return 0;
		}
		list_options(cmd, cur, true);
		return 0;
	}
operands:
	for (const char *const *w = cmd->operands; w && *w; w++)
		if (starts(*w, cur) && strcspn(*w, "\t") >= strlen(cur))
			printf("%s%s\n", *w, strchr(*w, '\t') ? "" : "\t");
	if (cmd->operand_flags & FOTA_OPT_FILE)
		printf(":files\t\n");
	return 0;
}

static void print_value(const char *w, size_t n, void *ctx)
{
	printf("--%s\t%.*s\n", ((const struct fota_opt *)ctx)->long_name, (int)n, w);
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
	if (argc == 3 && !strcmp(argv[1], "values")) {
		cmd = fota_cmd_find(argv[2]);
		if (!cmd)
			return fota_usage_error(&cmd___complete, "no command '%s'", argv[2]);
		for (const struct fota_opt *o = cmd->opts; o && o->long_name; o++)
			if (!(o->flags & FOTA_OPT_HIDDEN))
				for_each_word(o, print_value, (void *)o);
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
