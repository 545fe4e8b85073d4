// SPDX-License-Identifier: MIT
/*
 * fota publish: put an update request on the broker for one TCU, a list of
 * them or a file of ids (fota-mqtt(7)): the request file's exact bytes,
 * signed first in memory with each --sign key (cmd_sign_text(), the code of
 * fota sign), retained QoS 1 on PREFIX/TCU_ID/request/ID. Retained, so a
 * TCU that is offline now finds it when it subscribes; the TCU clears it
 * once the request is in its inbox. Every PUBACK is awaited: a broker that
 * refuses a topic (ACL) says so in the MQTT v5 PUBACK, and publish reports
 * it per TCU. Documented in man/fota-publish.1.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <json-c/json.h>
#include "cmd/cmd.h"
#include "cmd/common.h"
#include "cmd/mqtt_client.h"
#include "cmd/serve.h"
#include "cmd/sign.h"
#include "core/request.h"
#include "core/sig.h"

static const char *const publish_usage[] = {
	"fota publish [-c FILE] [--sign KEY]... [--unsigned] (-t TCU_ID)... [--tcu-file FILE] "
	"[--url URL] [--ca FILE] [--cert FILE] [--key FILE] [--client-id ID] [--prefix PREFIX] "
	"[--timeout SEC] [--json] [-q] REQUEST",
	NULL,
};

#define KEY_SIGN     FOTA_OPT_LONG(1)
#define KEY_UNSIGNED FOTA_OPT_LONG(2)
#define TIMEOUT_DEF  10

struct publish_args {
	struct mqc_cli cli; /* first: mqc_opt_tcu() */
	const char *keys[CMD_SIGN_KEYS_MAX];
	size_t nkeys;
	bool unsigned_ok;
};

static int opt_sign(void *args, const char *value, char *msg, size_t size)
{
	struct publish_args *a = args;

	if (a->nkeys == CMD_SIGN_KEYS_MAX)
		return fota_opt_error(msg, size, "at most %d --sign", CMD_SIGN_KEYS_MAX);
	a->keys[a->nkeys++] = value;
	return 0;
}

static const struct fota_opt publish_opts[] = {
	FOTA_OPT_CONFIG,
	FOTA_OPT_FN(KEY_SIGN, "sign", "KEY",
		    "sign with the private key file KEY before publishing, repeatable",
		    FOTA_OPT_FILE, opt_sign),
	FOTA_OPT_FLAG(KEY_UNSIGNED, "unsigned", "publish a request without signatures",
		      offsetof(struct publish_args, unsigned_ok)),
	MQC_OPTS(struct publish_args),
	FOTA_OPT_JSON,
	FOTA_OPT_QUIET,
	FOTA_OPT_END,
};

/* The bytes to publish: REQUEST checked, signed with the keys; *id its UUID. */
static int load_payload(const char *path, const struct publish_args *a, char **out, size_t *olen,
			char id[CFG_UUID_LEN + 1])
{
	struct cfg_request req;
	struct sig_envelope env;
	char *text = NULL, why[256];
	size_t len = 0;
	int rc, err = cmd_sign_read_request(path, &text, &len);

	if (err) {
		fota_error("%s: %s", path,
			   err == -EINVAL ? "not a regular file" :
			   err == -EFBIG  ? "larger than 64 KiB: not a request" :
					    strerror(-err));
		return FOTA_EXIT_DATA;
	}
	rc = cmd_sign_check_body(path, text, len, &req, a->nkeys > 0);
	if (!rc && !cfg_uuid_v4_ok(req.id)) {
		fota_error("%s: no id: a published request needs its UUID (fota request --id)",
			   path);
		rc = FOTA_EXIT_DATA;
	}
	if (!rc && fota_sig_envelope_split(text, len, &env, why, sizeof(why))) {
		fota_error("%s: malformed signature block: %s", path, why);
		rc = FOTA_EXIT_DATA;
	}
	if (!rc && !env.n && !a->nkeys && !a->unsigned_ok) {
		fota_error("%s: not signed, and a TCU refuses unsigned requests from the network: "
			   "give --sign KEY (or --unsigned)",
			   path);
		rc = FOTA_EXIT_DATA;
	}
	if (!rc) {
		snprintf(id, CFG_UUID_LEN + 1, "%s", req.id);
		if (a->nkeys)
			rc = cmd_sign_text(path, text, len, a->keys, a->nkeys, out, olen, NULL, 0);
		else {
			*out = text;
			*olen = len;
			text = NULL;
		}
	}
	/* serve drops a payload above this without a report (fota-mqtt(7), INTAKE) */
	if (!rc && *olen > CMD_SERVE_REQUEST_MAX) {
		fota_error("%s: %zu bytes once signed, more than the %u a TCU takes: "
			   "not published",
			   path, *olen, CMD_SERVE_REQUEST_MAX);
		free(*out);
		*out = NULL;
		rc = FOTA_EXIT_DATA;
	}
	free(text);
	return rc;
}

struct target {
	char topic[CFG_TOPIC_PREFIX_MAX + CFG_NAME_MAX + CFG_UUID_LEN + 16];
	int pub; /* mqc_publish() index, or -1 */
};

static void print_results(struct cmd_ctx *ctx, char **tcus, const struct target *t, size_t n,
			  const struct mqc *c, const char *id, const char *failure)
{
	struct json_object *o = NULL, *arr = NULL;

	if (ctx->json) {
		o = json_object_new_object();
		arr = json_object_new_array();
		json_object_object_add(o, "id", json_object_new_string(id));
	}
	for (size_t i = 0; i < n; i++) {
		int rc = 0, st = t[i].pub >= 0 ? mqc_pub_state(c, t[i].pub, &rc) : 0;
		char why[128];

		if (st == 1)
			snprintf(why, sizeof(why), "published");
		else if (st < 0)
			snprintf(why, sizeof(why), "refused by the broker: %s", mqc_reason(rc));
		else
			snprintf(why, sizeof(why), "not acknowledged: %s", failure);
		if (ctx->json) {
			struct json_object *e = json_object_new_object();

			json_object_object_add(e, "tcu", json_object_new_string(tcus[i]));
			json_object_object_add(e, "topic", json_object_new_string(t[i].topic));
			json_object_object_add(e, "published", json_object_new_boolean(st == 1));
			json_object_object_add(e, "error",
					       st == 1 ? NULL : json_object_new_string(why));
			json_object_array_add(arr, e);
		} else {
			printf("%s\t%s\t%s\n", tcus[i], t[i].topic, why);
		}
	}
	if (ctx->json) {
		json_object_object_add(o, "tcus", arr);
		printf("%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
		json_object_put(o);
		ctx->json_printed = true;
	}
}

/* Connect, publish to every target, wait for the PUBACKs until the deadline. */
static int publish_all(struct cmd_ctx *ctx, const struct mqc_opts *mo, int64_t deadline,
		       char **tcus, size_t n, const char *prefix, const char *id,
		       const char *payload, size_t len)
{
	struct target *t = calloc(n ? n : 1, sizeof(*t));
	char why[256] = "", failure[300] = "";
	struct mqc *c;
	size_t acked = 0, refused = 0;
	int err, rc;

	if (!t) {
		fota_error("%s", strerror(ENOMEM));
		return FOTA_EXIT_FAIL;
	}
	c = mqc_new(mo, NULL, NULL, why, sizeof(why));
	if (!c) {
		fota_error("%s", why);
		free(t);
		return FOTA_EXIT_DATA;
	}
	err = mqc_connect(c, deadline, why, sizeof(why));
	if (err) {
		fota_error("broker %s:%u: %s", mo->host, mo->port, why);
		mqc_free(c);
		free(t);
		return err == -EACCES ? FOTA_EXIT_FAIL : FOTA_EXIT_UNAVAILABLE;
	}
	for (size_t i = 0; i < n; i++) {
		snprintf(t[i].topic, sizeof(t[i].topic), "%s/%s/request/%s", prefix, tcus[i], id);
		t[i].pub = mqc_publish(c, t[i].topic, payload, len, true);
		if (t[i].pub < 0) {
			fota_error("%s: %s", t[i].topic, strerror(-t[i].pub));
			refused++;
		}
	}
	rc = 0;
	while (acked + refused < n) {
		int64_t left = deadline - mqc_mono_ms();

		acked = refused = 0;
		for (size_t i = 0; i < n; i++) {
			int st = t[i].pub >= 0 ? mqc_pub_state(c, t[i].pub, NULL) : -1;

			acked += st == 1;
			refused += st < 0;
		}
		if (acked + refused == n)
			break;
		if (left <= 0) {
			snprintf(failure, sizeof(failure), "no PUBACK within the timeout");
			rc = FOTA_EXIT_UNAVAILABLE;
			break;
		}
		if (mqc_step(c, left > 100 ? 100 : (int)left, why, sizeof(why))) {
			snprintf(failure, sizeof(failure), "connection lost: %s", why);
			rc = FOTA_EXIT_UNAVAILABLE;
			break;
		}
	}
	print_results(ctx, tcus, t, n, c, id, failure);
	if (rc)
		fota_error("broker %s:%u: %s (%zu of %zu published)", mo->host, mo->port, failure,
			   acked, n);
	else if (refused) {
		fota_error("broker %s:%u refused %zu of %zu publishes (ACL: is the certificate the "
			   "platform's?)",
			   mo->host, mo->port, refused, n);
		rc = FOTA_EXIT_FAIL;
	} else {
		fota_info("request %s published to %zu TCU%s", id, n, n == 1 ? "" : "s");
	}
	mqc_disconnect(c);
	mqc_free(c);
	free(t);
	return rc;
}

static int run_publish(int argc, char **argv)
{
	struct publish_args a = { 0 };
	struct fota_config cfg;
	struct cmd_ctx ctx;
	struct mqc_opts mo;
	char client_id[256], prefix[CFG_TOPIC_PREFIX_MAX], id[CFG_UUID_LEN + 1];
	char **tcus = NULL, *payload = NULL;
	size_t ntcus = 0, len = 0;
	int64_t deadline;
	int n, rc;

	cmd_ctx_init(&ctx, &cmd_publish);
	n = cmd_parse_options(&ctx, &a, argc, argv);
	if (n != 1) {
		free(a.cli.tcus);
		return cmd_json_failure(&ctx,
					fota_usage_error(&cmd_publish, "give one REQUEST file"));
	}
	if (!a.cli.ntcus && !a.cli.tcu_file) {
		free(a.cli.tcus);
		return cmd_json_failure(&ctx,
					fota_usage_error(&cmd_publish, "no TCU given (-t TCU_ID or "
								       "--tcu-file FILE)"));
	}
	if (a.nkeys && a.unsigned_ok) {
		free(a.cli.tcus);
		return cmd_json_failure(&ctx,
					fota_usage_error(&cmd_publish, "--sign and --unsigned "
								       "exclude each other"));
	}
	deadline = mqc_mono_ms() + 1000LL * (a.cli.timeout_s ? a.cli.timeout_s : TIMEOUT_DEF);
	rc = mqc_cli_resolve(&ctx, &a.cli, "publish", &cfg, &mo, client_id, sizeof(client_id),
			     prefix, sizeof(prefix));
	if (!rc) {
		rc = mqc_cli_tcus(&a.cli, &tcus, &ntcus);
		if (!rc && !ntcus) {
			fota_error("%s: no TCU id in it", a.cli.tcu_file);
			rc = FOTA_EXIT_DATA;
		}
		if (!rc)
			rc = load_payload(argv[0], &a, &payload, &len, id);
		if (!rc)
			rc = publish_all(&ctx, &mo, deadline, tcus, ntcus, prefix, id, payload,
					 len);
	}
	cfg_release(&cfg);
	free(payload);
	mqc_tcus_free(tcus, ntcus);
	free(a.cli.tcus);
	return fota_finish_stdout(cmd_json_failure(&ctx, rc));
}

const struct fota_cmd cmd_publish = {
	.name = "publish",
	.summary = "publish a signed update request to TCUs over MQTT",
	.usage = publish_usage,
	.opts = publish_opts,
	.run = run_publish,
	.operand_flags = FOTA_OPT_FILE,
	.max_operands = 1,
};
