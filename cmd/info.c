// SPDX-License-Identifier: MIT
/*
 * fota info: read an ECU's identification DIDs with ReadDataByIdentifier
 * (ISO 14229-1 §10.2; the DIDs of Annex C.1 by default, or --did lists),
 * several per request where the ECU allows it (uds/rdbi.h, uds/read.h).
 * Documented in man/fota-info.1 (its JSON keys are a stable interface).
 */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <json-c/json.h>
#include "cmd/cmd.h"
#include "cmd/common.h"
#include "core/bus.h"
#include "core/config.h"
#include "core/loop.h"
#include "uds/read.h"

static const char *const info_usage[] = {
	"fota info -b BUS (-c FILE -e NAME | --request-id ID --response-id ID) [--did LIST] [options]",
	NULL,
};

#define KEY_REQ_ID   FOTA_OPT_LONG(1)
#define KEY_RSP_ID   FOTA_OPT_LONG(2)
#define KEY_DID	     FOTA_OPT_LONG(3)
#define KEY_MAX_DIDS FOTA_OPT_LONG(4)

/* ISO 14229-1 Annex C.1: the identification DIDs read when no --did is given. */
static const uint16_t default_dids[] = {
	0xF187, 0xF188, 0xF189, 0xF18A, 0xF18B, 0xF18C, 0xF190,
	0xF191, 0xF192, 0xF193, 0xF194, 0xF195, 0xF197,
};

struct info_args {
	const char *ecu_name;
	struct fota_can_id req, rsp;
	uint16_t dids[UDS_RDBI_MAX];
	size_t ndids;
	uint32_t max_dids;
};

/* LIST: DIDs in hex (F190 or 0xF190), separated by commas; repeatable. */
static int opt_did(void *args, const char *value, char *msg, size_t size)
{
	struct info_args *a = args;

	return cmd_parse_dids("--did", value, a->dids, &a->ndids, UDS_RDBI_MAX, msg, size);
}

#define ARG(field) offsetof(struct info_args, field)

static const struct fota_opt info_opts[] = {
	FOTA_OPT_BUS,
	FOTA_OPT_CONFIG,
	FOTA_OPT_STRING('e', "ecu", "NAME", "the ECU of the configuration to read", FOTA_OPT_ECU,
			ARG(ecu_name)),
	FOTA_OPT_CAN_ID(KEY_REQ_ID, "request-id",
			"CAN id of requests to the ECU (0x7E0, 29-bit accepted)", ARG(req)),
	FOTA_OPT_CAN_ID(KEY_RSP_ID, "response-id", "CAN id of the ECU's responses (0x7E8)",
			ARG(rsp)),
	FOTA_OPT_FN(KEY_DID, "did", "LIST",
		    "DIDs to read, hex, comma-separated, repeatable (default: the identification "
		    "DIDs F187..F197)",
		    0, opt_did),
	FOTA_OPT_U32(KEY_MAX_DIDS, "max-dids", "N",
		     "DIDs per ReadDataByIdentifier request (default: all in one)", ARG(max_dids),
		     1, UDS_RDBI_MAX, NULL),
	FOTA_OPT_JSON,
	FOTA_OPT_TRACE,
	FOTA_OPT_VERBOSE,
	FOTA_OPT_QUIET,
	FOTA_OPT_END,
};

static int run_loop(struct cmd_ctx *ctx, struct uds_read *rd)
{
	static const int sigs[] = { SIGINT, SIGTERM };
	uint32_t filt = uds_read_rx_filter(rd);
	struct loop l;
	int err;

	err = bus_set_filter(ctx->bus, &filt, 1);
	if (err) {
		fota_error_errno(err, "%s: receive filter", ctx->bus->name);
		return err;
	}
	loop_init(&l, ctx->bus);
	err = loop_add(&l, &uds_read_member_ops, rd);
	if (!err)
		err = loop_catch_signals(&l, sigs, FOTA_ARRAY_SIZE(sigs));
	if (!err)
		err = uds_read_start(rd, fota_now());
	if (!err)
		err = loop_run(&l, FOTA_NEVER);
	loop_release(&l);
	if (err == -EINTR)
		err = -ECANCELED;
	return err;
}

/* "not supported", "refused: securityAccessDenied (NRC 0x33)", "longer than kept". */
static const char *outcome(const struct uds_rdbi_item *it, char *buf, size_t size)
{
	if (it->err == -ENOENT)
		return "not supported";
	if (it->err == -EMSGSIZE)
		return "too long to keep";
	snprintf(buf, size, "refused: %s (NRC 0x%02X)", uds_nrc_str(it->nrc), it->nrc);
	return buf;
}

static void print_text(const struct uds_rdbi *r)
{
	for (size_t i = 0; i < r->n; i++) {
		const uint8_t *d;
		const struct uds_rdbi_item *it = uds_rdbi_item(r, i, &d);
		const char *name = uds_did_name(it->did);
		char val[2 * UDS_CLIENT_RSP_MAX + 8], why[128];

		if (!it->err)
			uds_did_format(d, it->len, val, sizeof(val));
		else
			snprintf(val, sizeof(val), "(%s)", outcome(it, why, sizeof(why)));
		printf("%04X  %-44s  %s\n", it->did, name ? name : "-", val);
	}
}

static json_object *json_dids(const struct uds_rdbi *r)
{
	json_object *arr = json_object_new_array();

	for (size_t i = 0; i < r->n; i++) {
		const uint8_t *d;
		const struct uds_rdbi_item *it = uds_rdbi_item(r, i, &d);
		const char *name = uds_did_name(it->did);
		json_object *o = json_object_new_object();
		char id[8], val[2 * UDS_CLIENT_RSP_MAX + 8];

		snprintf(id, sizeof(id), "%04X", it->did);
		json_object_object_add(o, "did", json_object_new_string(id));
		json_object_object_add(o, "name", name ? json_object_new_string(name) : NULL);
		json_object_object_add(o, "supported", json_object_new_boolean(it->err != -ENOENT));
		if (!it->err) {
			bool text = uds_did_format(d, it->len, val, sizeof(val));

			json_object_object_add(o, "text",
					       text ? json_object_new_string(val) : NULL);
			/* The raw bytes always: the text drops padding. */
			val[0] = '\0';
			for (size_t k = 0; k < it->len; k++)
				snprintf(val + 2 * k, 3, "%02x", d[k]);
			json_object_object_add(o, "hex", json_object_new_string(val));
		} else if (it->nrc && it->err != -ENOENT) {
			json_object_object_add(o, "nrc", json_object_new_int(it->nrc));
			json_object_object_add(o, "nrc_name",
					       json_object_new_string(uds_nrc_str(it->nrc)));
		}
		json_object_array_add(arr, o);
	}
	return arr;
}

static int build_ecu(struct cmd_ctx *ctx, const struct info_args *a, const struct fota_config *cfg,
		     struct cfg_ecu *ecu, char *label, size_t size)
{
	bool has_req = cmd_opt_given(ctx, KEY_REQ_ID), has_rsp = cmd_opt_given(ctx, KEY_RSP_ID);

	if (a->ecu_name && (has_req || has_rsp))
		return fota_usage_error(&cmd_info,
					"--ecu and --request-id/--response-id exclude each other");
	if (!a->ecu_name && !(has_req && has_rsp))
		return fota_usage_error(&cmd_info,
					"give -e NAME, or both --request-id and --response-id");
	if (a->ecu_name) {
		const struct cfg_ecu *e;
		int rc = cmd_find_ecu(cfg, a->ecu_name, &e);

		if (rc)
			return rc;
		*ecu = *e;
		snprintf(label, size, "ecu '%s'", e->name);
		return 0;
	}
	if (a->req.eff != a->rsp.eff)
		return fota_usage_error(&cmd_info, "request and response ids must both be 11-bit "
						   "or both 29-bit");
	cfg_ecu_defaults(ecu);
	ecu->request_id = a->req.id;
	ecu->response_id = a->rsp.id;
	ecu->extended = a->req.eff;
	snprintf(ecu->name, sizeof(ecu->name), "0x%" PRIX32, a->req.id);
	snprintf(label, size, "ecu 0x%" PRIX32, a->req.id);
	return 0;
}

static int run_info(int argc, char **argv)
{
	struct cmd_ctx ctx;
	struct info_args a = { 0 };
	struct fota_config cfg;
	struct cfg_ecu ecu;
	struct uds_read_cfg rc_ = { 0 };
	struct uds_read *rd = NULL;
	struct bus_opts bo = { 0 };
	char label[CFG_NAME_MAX + 16], msg[160];
	int rc, err;

	cmd_ctx_init(&ctx, &cmd_info);
	cmd_parse_options(&ctx, &a, argc, argv);
	rc = cmd_load_config(&ctx, &cfg, a.ecu_name != NULL);
	if (rc)
		return cmd_json_failure(&ctx, rc);
	rc = build_ecu(&ctx, &a, &cfg, &ecu, label, sizeof(label));
	if (rc)
		goto out_cfg;
	if (!a.ndids) {
		memcpy(a.dids, default_dids, sizeof(default_dids));
		a.ndids = FOTA_ARRAY_SIZE(default_dids);
	}
	rc_.ecu = &ecu;
	rc_.dids = a.dids;
	rc_.ndids = a.ndids;
	rc_.max_per_request = a.max_dids;
	err = uds_read_new(&rd, &rc_);
	if (err) {
		fota_error("%s: ISO-TP settings cannot work", label);
		rc = fota_exit_status(FOTA_FAIL_USAGE, err);
		goto out_cfg;
	}
	bo.fd = cfg.fd || ecu.isotp.fd;
	bo.bitrate = cfg.bitrate;
	bo.data_bitrate = cfg.data_bitrate;
	rc = cmd_open_bus(&ctx, &cfg, &bo);
	if (rc)
		goto out_rd;
	err = run_loop(&ctx, rd);
	if (err) {
		cmd_bus_strerror(ctx.bus, err, msg, sizeof(msg));
	} else {
		err = uds_read_result(rd, msg, sizeof(msg));
		if (err == -EINPROGRESS)
			err = -EIO;
	}
	rc = fota_exit_status(FOTA_FAIL_RUN, err);
	if (ctx.json) {
		json_object *o = json_object_new_object();

		json_object_object_add(o, "ecu", json_object_new_string(ecu.name));
		json_object_object_add(o, "ok", json_object_new_boolean(!err));
		json_object_object_add(o, "exit", json_object_new_int(rc));
		if (err)
			json_object_object_add(o, "error", json_object_new_string(msg));
		else
			json_object_object_add(o, "dids", json_dids(uds_read_rdbi(rd)));
		json_object_object_add(o, "requests",
				       json_object_new_int((int)uds_read_rdbi(rd)->requests));
		/* last, after the keys scripts already match: every failure object has it */
		json_object_object_add(o, "exit_status", json_object_new_int(rc));
		puts(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
							       JSON_C_TO_STRING_NOSLASHESCAPE));
		json_object_put(o);
		ctx.json_printed = true;
	} else if (!err) {
		print_text(uds_read_rdbi(rd));
	}
	if (err)
		fota_error("%s: %s", label, msg);
	else
		fota_step("%s: %u ReadDataByIdentifier requests", label,
			  uds_read_rdbi(rd)->requests);
	if (fflush(stdout) || ferror(stdout)) {
		fota_error_errno(-EIO, "stdout");
		rc = fota_exit_worst(rc, fota_exit_status(FOTA_FAIL_OUTPUT, -EIO));
	}
out_rd:
	uds_read_free(rd);
out_cfg:
	cfg_release(&cfg);
	return cmd_json_failure(&ctx, fota_exit_worst(rc, cmd_ctx_release(&ctx)));
}

const struct fota_cmd cmd_info = {
	.name = "info",
	.summary = "read an ECU's identification data (UDS ReadDataByIdentifier)",
	.usage = info_usage,
	.opts = info_opts,
	.run = run_info,
};
