// SPDX-License-Identifier: MIT
/*
 * Unit tests of the one option parser (cmd_parse_options(), cmd/common.h):
 * every value type lands where its table entry says, common options land in
 * the context, operands come back in front of argv, and each usage error ends
 * the process with status 2 (--help with 0) before the command runs.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include "cmd/common.h"
#include "tests/unit/t.h"

struct args {
	bool flag;
	const char *name;
	uint32_t count;
	struct fota_can_id id;
	unsigned calls;
	const char *last; /* the value fn() saw */
};

static int opt_fn(void *base, const char *value, char *msg, size_t size)
{
	struct args *a = base;

	if (value && !strcmp(value, "bad"))
		return fota_opt_error(msg, size, "--fn does not take '%s'", value);
	a->calls++;
	a->last = value;
	return 0;
}

#define K_FLAG	FOTA_OPT_LONG(1)
#define K_COUNT FOTA_OPT_LONG(2)
#define K_ID	FOTA_OPT_LONG(3)
#define K_FN	FOTA_OPT_LONG(4)

static const struct fota_opt test_opts[] = {
	FOTA_OPT_BUS,
	FOTA_OPT_NODE,
	FOTA_OPT_TRACE,
	FOTA_OPT_VERBOSE,
	FOTA_OPT_QUIET,
	FOTA_OPT_FLAG(K_FLAG, "flag", "a flag", offsetof(struct args, flag)),
	FOTA_OPT_STRING('s', "name", "NAME", "a string", 0, offsetof(struct args, name)),
	FOTA_OPT_U32(K_COUNT, "count", "N", "a number", offsetof(struct args, count), 10, 20, "ms"),
	FOTA_OPT_CAN_ID(K_ID, "id", "a CAN id", offsetof(struct args, id)),
	FOTA_OPT_FN(K_FN, "fn", "V", "a callback", FOTA_OPT_OPTARG, opt_fn),
	FOTA_OPT_END,
};

static const char *const test_usage[] = { "fota test [options] [FILE]", NULL };

static const struct fota_cmd cmd_test = {
	.name = "test",
	.summary = "test",
	.usage = test_usage,
	.opts = test_opts,
	.max_operands = 1,
};

/* argv as main() hands it over: writable, NULL-terminated. */
struct argv {
	char *v[16];
	char buf[512];
	int n;
};

static char **make_argv(struct argv *a, const char *const *words)
{
	size_t off = 0;

	memset(a, 0, sizeof(*a));
	for (; *words; words++) {
		size_t len = strlen(*words) + 1;

		memcpy(a->buf + off, *words, len);
		a->v[a->n++] = a->buf + off;
		off += len;
	}
	return a->v;
}

static int parse(struct cmd_ctx *ctx, void *args, struct argv *av, const char *const *words)
{
	make_argv(av, words);
	return cmd_parse_options(ctx, args, av->n, av->v);
}

#define PARSE(ctx, args, av, ...) \
	parse(ctx, args, av, (const char *const[]){ "test", __VA_ARGS__, NULL })

static void test_opt__values_land_in_their_place(void)
{
	struct cmd_ctx ctx;
	struct args a = { 0 };
	struct argv av;
	int n;

	cmd_ctx_init(&ctx, &cmd_test);
	n = PARSE(&ctx, &a, &av, "--flag", "-s", "x", "--count=15", "--id", "0x18DA10F1", "-b",
		  "unix:/tmp/b", "-n", "0x27", "--trace", "t.log", "fw.hex");
	T_EQ(n, 1);
	T_EQ_STR(av.v[0], "fw.hex");
	T_TRUE(av.v[1] == NULL);
	T_TRUE(a.flag);
	T_EQ_STR(a.name, "x");
	T_EQ(a.count, 15);
	T_EQ(a.id.id, 0x18DA10F1);
	T_TRUE(a.id.eff);
	T_EQ_STR(ctx.bus_spec, "unix:/tmp/b");
	T_EQ(ctx.node, 0x27);
	T_EQ_STR(ctx.trace_path, "t.log");
	T_TRUE(cmd_opt_given(&ctx, K_COUNT));
	T_TRUE(cmd_opt_given(&ctx, 'b'));
	T_TRUE(!cmd_opt_given(&ctx, K_FN));
	T_TRUE(!cmd_opt_given(&ctx, 'q'));
}

static void test_opt__last_value_wins_and_options_follow_operands(void)
{
	struct cmd_ctx ctx;
	struct args a = { 0 };
	struct argv av;
	int n;

	cmd_ctx_init(&ctx, &cmd_test);
	n = PARSE(&ctx, &a, &av, "fw.hex", "-s", "one", "--name=two", "--id", "0x7E0");
	T_EQ(n, 1);
	T_EQ_STR(av.v[0], "fw.hex");
	T_EQ_STR(a.name, "two");
	T_EQ(a.id.id, 0x7E0);
	T_TRUE(!a.id.eff);
}

static void test_opt__callback_with_optional_value(void)
{
	struct cmd_ctx ctx;
	struct args a = { 0 };
	struct argv av;

	cmd_ctx_init(&ctx, &cmd_test);
	/* the optional value only after '=': a next word, digits or not, is an operand */
	T_EQ(PARSE(&ctx, &a, &av, "--fn", "--fn=v", "--fn", "12"), 1);
	T_EQ(a.calls, 3);
	T_TRUE(a.last == NULL);
	T_EQ_STR(av.v[0], "12");
	T_TRUE(cmd_opt_given(&ctx, K_FN));
	/* a negative number is no option: the value, for fn() to judge */
	cmd_ctx_init(&ctx, &cmd_test);
	memset(&a, 0, sizeof(a));
	T_EQ(PARSE(&ctx, &a, &av, "--fn", "-3"), 0);
	T_EQ(a.calls, 1);
	T_EQ_STR(a.last, "-3");
}

static void test_opt__verbose_and_quiet(void)
{
	struct cmd_ctx ctx;
	struct argv av;

	/* -v: each protocol step; -vv: the details and frames too */
	cmd_ctx_init(&ctx, &cmd_test);
	T_EQ(PARSE(&ctx, NULL, &av, "-v"), 0);
	T_EQ(ctx.verbose, 1);
	T_EQ(fota_log_level(), FOTA_LOG_STEP);
	cmd_ctx_init(&ctx, &cmd_test);
	T_EQ(PARSE(&ctx, NULL, &av, "-v", "-v"), 0);
	T_EQ(ctx.verbose, 2);
	T_EQ(fota_log_level(), FOTA_LOG_DEBUG);
	/* -q: no information, but warnings and errors; it wins over -v */
	cmd_ctx_init(&ctx, &cmd_test);
	T_EQ(PARSE(&ctx, NULL, &av, "-q"), 0);
	T_EQ(ctx.verbose, -1);
	T_EQ(fota_log_level(), FOTA_LOG_WARN);
	cmd_ctx_init(&ctx, &cmd_test);
	T_EQ(PARSE(&ctx, NULL, &av, "-v", "-q", "-v"), 0);
	T_EQ(fota_log_level(), FOTA_LOG_WARN);
	fota_log_set_level(FOTA_LOG_INFO);
}

static void test_opt__store_says_what_is_wrong(void)
{
	const struct fota_opt *count = fota_opt_find(&cmd_test, K_COUNT);
	const struct fota_opt *id = fota_opt_find(&cmd_test, K_ID);
	const struct fota_opt *fn = fota_opt_find(&cmd_test, K_FN);
	struct args a = { 0 };
	char msg[128];

	T_ERR(fota_opt_store(count, &a, "21", msg, sizeof(msg)), -EINVAL);
	T_EQ_STR(msg, "invalid --count '21' (10..20 ms)");
	T_ERR(fota_opt_store(count, &a, "9", msg, sizeof(msg)), -EINVAL);
	T_ERR(fota_opt_store(count, &a, "1x", msg, sizeof(msg)), -EINVAL);
	T_EQ(a.count, 0);
	T_OK(fota_opt_store(count, &a, "0x14", msg, sizeof(msg)));
	T_EQ(a.count, 20);
	T_ERR(fota_opt_store(id, &a, "0x20000000", msg, sizeof(msg)), -EINVAL);
	T_EQ_STR(msg, "invalid CAN id '0x20000000' for --id (up to 0x1FFFFFFF)");
	T_ERR(fota_opt_store(fn, &a, "bad", msg, sizeof(msg)), -EINVAL);
	T_EQ_STR(msg, "--fn does not take 'bad'");
}

/* Run a parse in a child; its exit status, or -1 if it returned. */
static int exit_status(const char *const *words)
{
	pid_t pid;
	int st;

	fflush(NULL);
	pid = fork();
	if (pid == 0) {
		struct cmd_ctx ctx;
		struct args a = { 0 };
		struct argv av;

		if (!freopen("/dev/null", "w", stderr) || !freopen("/dev/null", "w", stdout))
			_exit(100);
		cmd_ctx_init(&ctx, &cmd_test);
		make_argv(&av, words);
		cmd_parse_options(&ctx, &a, av.n, av.v);
		_exit(99);
	}
	if (pid < 0 || waitpid(pid, &st, 0) != pid || !WIFEXITED(st))
		return -2;
	return WEXITSTATUS(st) == 99 ? -1 : WEXITSTATUS(st);
}

#define EXIT_OF(...) exit_status((const char *const[]){ "test", __VA_ARGS__, NULL })

static void test_opt__help_and_usage_errors_end_the_process(void)
{
	T_EQ(EXIT_OF("fw.hex"), -1);
	T_EQ(EXIT_OF("--help"), FOTA_EXIT_OK);
	T_EQ(EXIT_OF("-h", "--nosuch"), FOTA_EXIT_OK);
	T_EQ(EXIT_OF("--nosuch"), FOTA_EXIT_USAGE);
	T_EQ(EXIT_OF("-x"), FOTA_EXIT_USAGE);
	T_EQ(EXIT_OF("-s"), FOTA_EXIT_USAGE);		/* value missing */
	T_EQ(EXIT_OF("--flag=1"), FOTA_EXIT_USAGE);	/* a flag takes none */
	T_EQ(EXIT_OF("--count", "5"), FOTA_EXIT_USAGE); /* out of range */
	T_EQ(EXIT_OF("-n", "128"), FOTA_EXIT_USAGE);
	T_EQ(EXIT_OF("--fn=bad"), FOTA_EXIT_USAGE);
	T_EQ(EXIT_OF("a.hex", "b.hex"), FOTA_EXIT_USAGE); /* max_operands 1 */
	T_EQ(EXIT_OF("--", "-s"), -1);			  /* an operand after -- */
}

static const struct t_case cases[] = {
	T_CASE(opt__values_land_in_their_place),
	T_CASE(opt__last_value_wins_and_options_follow_operands),
	T_CASE(opt__callback_with_optional_value),
	T_CASE(opt__verbose_and_quiet),
	T_CASE(opt__store_says_what_is_wrong),
	T_CASE(opt__help_and_usage_errors_end_the_process),
};

int main(void)
{
	return t_main(cases, FOTA_ARRAY_SIZE(cases));
}
