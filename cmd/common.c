// SPDX-License-Identifier: MIT
/*
 * Shared command plumbing (see cmd/common.h).
 */
#include <stdlib.h>
#include <string.h>
#include "cmd/common.h"

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
	/* Filled in with the configuration loader (core/config.c). */
	(void)cur;
	(void)argc;
	(void)argv;
}
