// SPDX-License-Identifier: MIT
/*
 * Shared command plumbing (see cmd/common.h).
 */
#include <stdlib.h>
#include <string.h>
#include "cmd/common.h"
#include "core/config.h"

void cmd_ctx_init(struct cmd_ctx *ctx, const struct fota_cmd *cmd)
{
	memset(ctx, 0, sizeof(*ctx));
	ctx->cmd = cmd;
	fota_getopt_init(&ctx->getopt, cmd);
	ctx->config_path = getenv("FOTA_CONFIG");
	ctx->bus_spec = getenv("FOTA_BUS");
	if (ctx->config_path && !*ctx->config_path)
		ctx->config_path = NULL;
	if (ctx->bus_spec && !*ctx->bus_spec)
		ctx->bus_spec = NULL;
}

int cmd_ctx_common_opt(struct cmd_ctx *ctx, int key)
{
	const char *arg = ctx->getopt.arg;

	switch (key) {
	case 'b':
		ctx->bus_spec = arg;
		return 0;
	case 'c':
		ctx->config_path = arg;
		return 0;
	case 'n':
		if (fota_parse_u32(arg, 1, 127, &ctx->node))
			return fota_usage_error(ctx->cmd, "invalid node-ID '%s' (1..127)", arg);
		return 0;
	case FOTA_KEY_TRACE:
		ctx->trace_path = arg;
		return 0;
	case FOTA_KEY_JSON:
		ctx->json = true;
		return 0;
	case 'v':
		if (ctx->verbose >= 0)
			ctx->verbose++;
		fota_log_set_level(ctx->verbose >= 2 ? FOTA_LOG_DEBUG : FOTA_LOG_INFO);
		return 0;
	case 'q':
		ctx->verbose = -1;
		fota_log_set_level(FOTA_LOG_ERROR);
		return 0;
	}
	return 1;
}

void cmd_ctx_release(struct cmd_ctx *ctx)
{
	if (ctx->trace)
		fclose(ctx->trace);
	ctx->trace = NULL;
}

void cmd_complete_ecus(const char *cur, int argc, char **argv)
{
	const char *path = NULL;
	struct fota_config cfg;
	struct cfg_error err;
	char home[4096];

	/* The last -c/--config in the words wins, as it would on the command line. */
	for (int i = 1; i < argc; i++) {
		const char *w = argv[i];

		if (!strcmp(w, "--"))
			break;
		if ((!strcmp(w, "-c") || !strcmp(w, "--config")) && i + 1 < argc)
			path = argv[++i];
		else if (!strncmp(w, "--config=", 9))
			path = w + 9;
		else if (!strncmp(w, "-c", 2) && w[2])
			path = w + 2;
	}
	if (!path || !*path)
		path = getenv("FOTA_CONFIG");
	if (!path || !*path)
		path = "/etc/fota/fota.yaml";
	/* The shell has not expanded a tilde in a word still being typed. */
	if (!strncmp(path, "~/", 2) && getenv("HOME")) {
		snprintf(home, sizeof(home), "%s/%s", getenv("HOME"), path + 2);
		path = home;
	}
	/* Quietly: a broken configuration simply offers no names. */
	if (cfg_load_file(path, &cfg, &err))
		return;
	for (size_t i = 0; i < cfg.necus; i++) {
		const struct cfg_ecu *e = &cfg.ecus[i];

		if (strncmp(e->name, cur, strlen(cur)))
			continue;
		if (e->brand[0] || e->model[0])
			printf("%s\t%s%s%s\n", e->name, e->brand,
			       e->brand[0] && e->model[0] ? " " : "", e->model);
		else
			printf("%s\tECU\n", e->name);
	}
	cfg_release(&cfg);
}
