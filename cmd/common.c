// SPDX-License-Identifier: MIT
/*
 * Shared command plumbing (see cmd/common.h).
 */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <sys/un.h>
#include <json-c/json.h>
#include <openssl/evp.h>
#include "cmd/common.h"
#include "uds/rdbi.h"
#include "core/bus.h"
#include "core/canif.h"
#include "core/config.h"

void cmd_ctx_init(struct cmd_ctx *ctx, const struct fota_cmd *cmd)
{
	memset(ctx, 0, sizeof(*ctx));
	ctx->cmd = cmd;
	ctx->join = BUS_JOIN_PEER; /* fota serve and fota ecu make the bus */
	/* every command that has --json answers in JSON also when it fails */
	ctx->json_on_failure = fota_opt_find(cmd, FOTA_KEY_JSON) != NULL;
	fota_getopt_init(&ctx->getopt, cmd);
	ctx->config_path = getenv("FOTA_CONFIG");
	ctx->bus_spec = getenv("FOTA_BUS");
	if (ctx->config_path && !*ctx->config_path)
		ctx->config_path = NULL;
	if (ctx->bus_spec && !*ctx->bus_spec)
		ctx->bus_spec = NULL;
}

int cmd_opt_verbose(void *base, const char *value, char *msg, size_t size)
{
	struct cmd_ctx *ctx = base;

	if (ctx->verbose >= 0)
		ctx->verbose++;
	fota_log_set_level(ctx->verbose >= 2 ? FOTA_LOG_DEBUG :
			   ctx->verbose == 1 ? FOTA_LOG_STEP :
					       FOTA_LOG_WARN);
	return 0;
}

int cmd_opt_quiet(void *base, const char *value, char *msg, size_t size)
{
	struct cmd_ctx *ctx = base;

	ctx->verbose = -1;
	fota_log_set_level(FOTA_LOG_WARN); /* core/log.h: a warning is no information */
	return 0;
}

/* Store the value of option o; 0 or a usage error reported (FOTA_EXIT_USAGE). */
static int store(struct cmd_ctx *ctx, void *args, const struct fota_opt *o)
{
	void *base = o->flags & FOTA_OPT_CTX ? (void *)ctx : args;
	char msg[256];

	if (!base)
		FOTA_BUG("%s --%s: no args to store the value in", ctx->cmd->name, o->long_name);
	if (fota_opt_store(o, base, ctx->getopt.arg, msg, sizeof(msg)))
		return fota_usage_error(ctx->cmd, "%s", msg);
	ctx->given |= 1ull << (o - ctx->cmd->opts);
	return 0;
}

void cmd_json_error(int rc)
{
	json_object *o = json_object_new_object();

	if (!o)
		return;
	json_object_object_add(o, "ok", json_object_new_boolean(false));
	json_object_object_add(o, "error", json_object_new_string(fota_log_last_error()));
	json_object_object_add(o, "exit_status", json_object_new_int(rc));
	puts(json_object_to_json_string_ext(o, JSON_C_TO_STRING_SPACED |
						       JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(o);
}

int cmd_json_failure(struct cmd_ctx *ctx, int rc)
{
	if (!ctx->json_on_failure || !ctx->json || !rc || ctx->json_printed)
		return rc;
	cmd_json_error(rc);
	ctx->json_printed = true;
	return fota_finish_stdout(rc);
}

/* A usage error: with --json anywhere on the command line, the JSON too. */
static void usage_exit(struct cmd_ctx *ctx, int argc, char **argv)
{
	if (ctx->json_on_failure && fota_opt_find(ctx->cmd, FOTA_KEY_JSON))
		for (int i = 1; i < argc && strcmp(argv[i], "--"); i++)
			if (!strcmp(argv[i], "--json"))
				ctx->json = true;
	exit(cmd_json_failure(ctx, FOTA_EXIT_USAGE));
}

int cmd_parse_options(struct cmd_ctx *ctx, void *args, int argc, char **argv)
{
	const struct fota_cmd *cmd = ctx->cmd;
	struct fota_getopt *g = &ctx->getopt;
	int c, n;

	while ((c = fota_getopt(g, argc, argv)) != -1) {
		if (c == FOTA_GETOPT_HELP)
			exit(fota_finish_stdout(FOTA_EXIT_OK));
		if (c == FOTA_GETOPT_ERROR || store(ctx, args, fota_opt_find(cmd, c)))
			usage_exit(ctx, argc, argv);
	}
	n = argc - g->ind;
	if (cmd->max_operands != FOTA_OPERANDS_ANY && n > cmd->max_operands) {
		const char *w = argv[g->ind + cmd->max_operands];

		if (g->bare_optarg && w == g->bare_next)
			fota_usage_error(cmd,
					 "unexpected argument '%s' (an optional value follows =: "
					 "--%s=%s)",
					 w, g->bare_optarg->long_name, w);
		else
			fota_usage_error(cmd, "unexpected argument '%s'", w);
		usage_exit(ctx, argc, argv);
	}
	memmove(argv, argv + g->ind, (size_t)n * sizeof(*argv));
	argv[n] = NULL;
	return n;
}

int cmd_parse_dids(const char *opt, const char *list, uint16_t *dids, size_t *n, size_t max,
		   char *msg, size_t size)
{
	char buf[512], *tok, *save = NULL;

	if (strlen(list) >= sizeof(buf))
		return fota_opt_error(msg, size, "%s list too long", opt);
	strcpy(buf, list);
	for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		const char *p = tok;
		char *end = NULL;
		unsigned long v;
		size_t i;

		if (!strncasecmp(p, "0x", 2))
			p += 2;
		v = isxdigit((unsigned char)*p) ? strtoul(p, &end, 16) : 0;
		if (!v || *end || v > 0xFFFF)
			return fota_opt_error(msg, size,
					      "invalid DID '%s' in %s (hex, 0x0001..0xFFFF)", tok,
					      opt);
		for (i = 0; i < *n && dids[i] != v; i++)
			;
		if (i < *n)
			continue; /* asked once */
		if (*n == max)
			return fota_opt_error(msg, size, "more than %zu DIDs in %s", max, opt);
		dids[(*n)++] = (uint16_t)v;
	}
	if (!*n)
		return fota_opt_error(msg, size, "%s needs at least one DID", opt);
	return 0;
}

bool cmd_opt_given(const struct cmd_ctx *ctx, int key)
{
	const struct fota_opt *o = fota_opt_find(ctx->cmd, key);

	return o && (ctx->given & 1ull << (o - ctx->cmd->opts));
}

/*
 * The socket file of our unix: bus member, removed by a fatal signal: a
 * killed client leaves no file for the other members to trip over. Only
 * async-signal-safe calls in the handler; it then dies of the signal as
 * it would have.
 */
static char sock_path[sizeof(((struct sockaddr_un *)0)->sun_path) + 80];
static volatile sig_atomic_t sock_armed;

static void sock_cleanup(int sig)
{
	if (sock_armed)
		unlink(sock_path);
	signal(sig, SIG_DFL);
	raise(sig);
}

static void sock_arm(struct bus *bus)
{
	static const int sigs[] = { SIGINT, SIGTERM, SIGHUP };
	struct sigaction sa, old;

	if (bus_unix_socket_path(bus, sock_path, sizeof(sock_path)))
		return;
	sock_armed = 1;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = sock_cleanup;
	sigemptyset(&sa.sa_mask);
	for (size_t i = 0; i < FOTA_ARRAY_SIZE(sigs); i++) {
		/* a signal the caller ignores (nohup, a background job) stays ignored */
		if (sigaction(sigs[i], NULL, &old) || old.sa_handler == SIG_IGN)
			continue;
		sigaction(sigs[i], &sa, NULL);
	}
}

int cmd_ctx_release(struct cmd_ctx *ctx)
{
	int err = 0;
	uint64_t lost = 0;

	sock_armed = 0;
	if (ctx->bus) {
		/* the frames of -vv on stderr are no file the user asked for */
		err = ctx->trace ? ctx->bus->trace_err : 0;
		lost = ctx->bus->trace_lost;
		bus_close(ctx->bus);
	}
	ctx->bus = NULL;
	if (ctx->trace && fclose(ctx->trace) && !err)
		err = -errno;
	ctx->trace = NULL;
	if (!err)
		return FOTA_EXIT_OK;
	if (lost)
		fota_error("%s: %" PRIu64 " frames not traced: %s", ctx->trace_path, lost,
			   strerror(-err));
	else
		fota_error_errno(err, "%s", ctx->trace_path);
	return fota_exit_status(FOTA_FAIL_OUTPUT, err);
}

size_t cmd_config_search(char (*out)[CMD_CONFIG_PATH_MAX], size_t max)
{
	const char *xdg = getenv("XDG_CONFIG_HOME"), *home = getenv("HOME");
	size_t n = 0;

	if (n < max)
		snprintf(out[n++], CMD_CONFIG_PATH_MAX, "./fota.yaml");
	/* XDG Base Directory: a relative $XDG_CONFIG_HOME is invalid and ignored */
	if (n < max && xdg && xdg[0] == '/' &&
	    (size_t)snprintf(out[n], CMD_CONFIG_PATH_MAX, "%s/fota/fota.yaml", xdg) <
		    CMD_CONFIG_PATH_MAX)
		n++;
	else if (n < max && (!xdg || xdg[0] != '/') && home && home[0] == '/' &&
		 (size_t)snprintf(out[n], CMD_CONFIG_PATH_MAX, "%s/.config/fota/fota.yaml", home) <
			 CMD_CONFIG_PATH_MAX)
		n++;
	if (n < max)
		snprintf(out[n++], CMD_CONFIG_PATH_MAX, "%s", CFG_DEFAULT_PATH);
	return n;
}

/* The first file of the search path that exists, into out; false if none. */
static bool config_found(char out[CMD_CONFIG_PATH_MAX])
{
	char paths[CMD_CONFIG_SEARCH_MAX][CMD_CONFIG_PATH_MAX];
	size_t n = cmd_config_search(paths, CMD_CONFIG_SEARCH_MAX);

	for (size_t i = 0; i < n; i++) {
		if (!access(paths[i], F_OK)) {
			memcpy(out, paths[i], CMD_CONFIG_PATH_MAX);
			return true;
		}
	}
	return false;
}

void cmd_complete_ecus(const char *pre, const char *cur, int argc, char **argv)
{
	char found[CMD_CONFIG_PATH_MAX];
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
	if ((!path || !*path) && config_found(found))
		path = found;
	if (!path || !*path)
		return;
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
			printf("%s%s\t%s%s%s\n", pre, e->name, e->brand,
			       e->brand[0] && e->model[0] ? " " : "", e->model);
		else
			printf("%s%s\tECU\n", pre, e->name);
	}
	cfg_release(&cfg);
}

/* cmd_load_config() with -errno: -EBADMSG for a bus: that is no bus. */
static int load_config(struct cmd_ctx *ctx, struct fota_config *cfg, bool required)
{
	char found[CMD_CONFIG_PATH_MAX];
	const char *path = ctx->config_path;
	struct cfg_error err;
	char buf[512];
	int r;

	cfg_init(cfg);
	if (!path && config_found(found)) {
		path = found;
	} else if (!path) {
		char paths[CMD_CONFIG_SEARCH_MAX][CMD_CONFIG_PATH_MAX],
			list[4 * CMD_CONFIG_PATH_MAX];
		size_t n = cmd_config_search(paths, CMD_CONFIG_SEARCH_MAX), o = 0;

		if (!required)
			return 0; /* no configuration at all: built-in defaults */
		list[0] = '\0';
		for (size_t i = 0; i < n && o < sizeof(list); i++)
			o += (size_t)snprintf(list + o, sizeof(list) - o, "%s%s", i ? ", " : "",
					      paths[i]);
		fota_error("no configuration: no -c FILE, no $FOTA_CONFIG, and none of %s exists",
			   list);
		return -ENOENT;
	}
	r = cfg_load_file(path, cfg, &err);
	if (r) {
		if (r == -EBADMSG || err.line)
			fota_error("%s", cfg_error_str(&err, buf, sizeof(buf)));
		else
			fota_error_errno(r, "%s", path);
		cfg_init(cfg);
		return r;
	}
	/* Malformed like any other bad field, whether or not -b overrides it. */
	if (cfg->bus[0] && bus_spec_check(cfg->bus, buf, sizeof(buf))) {
		fota_error("%s: bus: %s", cfg->source, buf);
		cfg_release(cfg);
		return -EBADMSG;
	}
	return 0;
}

int cmd_load_config(struct cmd_ctx *ctx, struct fota_config *cfg, bool required)
{
	return fota_exit_status(FOTA_FAIL_INPUT, load_config(ctx, cfg, required));
}

/*
 * What a SocketCAN interface's controller reports (libsocketcan), once the
 * bus is open: a debug line (-vv), and a warning when the controller is
 * bus-off or error-passive, the cause users otherwise meet only as a
 * timeout. vcan has no controller and a failed query is no error: the
 * socket works either way.
 */
static void report_controller(const struct bus *bus)
{
	struct canif_info in;
	char why[160] = "", sp[40] = "", errs[48] = "";

	if (strchr(bus->name, ':'))
		return; /* unix:DIR, mem:NAME */
	if (canif_get_info(bus->name, &in, why, sizeof(why)) < 0) {
		fota_debug("%s: no controller information: %s", bus->name, why);
		return;
	}
	if (in.virtual_can) {
		fota_debug("%s: virtual CAN (%s): no controller state or bit timing", bus->name,
			   in.kind);
		return;
	}
	/* what the driver does not report is left out, not printed as 0 */
	if (in.sample_point)
		snprintf(sp, sizeof(sp), ", sample point %" PRIu32 ".%" PRIu32 "%%",
			 in.sample_point / 10, in.sample_point % 10);
	if (in.has_berr)
		snprintf(errs, sizeof(errs), ", tx/rx errors %u/%u", in.txerr, in.rxerr);
	fota_debug("%s: controller %s, %" PRIu32 " bit/s%s, restart-ms %" PRIu32 "%s", bus->name,
		   canif_state_name(in.state), in.bitrate, sp, in.restart_ms, errs);
	if (in.state == CANIF_STATE_BUS_OFF && in.restart_ms)
		fota_warn("%s: controller is bus-off; it restarts itself after %" PRIu32 " ms",
			  bus->name, in.restart_ms);
	else if (in.state == CANIF_STATE_BUS_OFF)
		fota_warn("%s: controller is bus-off and restart-ms is 0: nothing is sent until "
			  "'ip link set %s type can restart'",
			  bus->name, bus->name);
	else if (in.state == CANIF_STATE_ERROR_PASSIVE)
		fota_warn("%s: controller is error-passive%s: check the bit rate, wiring and "
			  "termination",
			  bus->name, errs);
}

int cmd_find_ecu(const struct fota_config *cfg, const char *name, const struct cfg_ecu **ecu)
{
	*ecu = cfg_find_ecu(cfg, name);
	if (*ecu)
		return FOTA_EXIT_OK;
	fota_error("%s: no ECU named '%s'", cfg->source[0] ? cfg->source : "configuration", name);
	return fota_exit_status(FOTA_FAIL_USAGE, -ENOENT);
}

int cmd_open_bus(struct cmd_ctx *ctx, const struct fota_config *cfg, const struct bus_opts *opts)
{
	struct bus_opts o = { 0 };
	const char *spec = ctx->bus_spec;
	char why[256] = "";
	int r;

	if (!spec && cfg && cfg->bus[0])
		spec = cfg->bus;
	if (!spec)
		return fota_usage_error(ctx->cmd, "no bus given (-b BUS, $FOTA_BUS or 'bus:' in "
						  "the configuration)");
	if (opts) {
		o = *opts;
	} else if (cfg) {
		o.fd = cfg->fd;
		o.bitrate = cfg->bitrate;
		o.data_bitrate = cfg->data_bitrate;
	}
	o.join = ctx->join;
	if (ctx->trace_path && !ctx->trace) {
		ctx->trace = fopen(ctx->trace_path, "w");
		if (!ctx->trace) {
			r = -errno;
			fota_error_errno(r, "%s", ctx->trace_path);
			return fota_exit_status(FOTA_FAIL_OUTPUT, r);
		}
	}
	r = bus_open(&ctx->bus, spec, &o, why, sizeof(why));
	if (r) {
		ctx->bus = NULL;
		if (why[0])
			fota_error("%s", why);
		else
			fota_error_errno(r, "%s", spec);
		/* A bus that is not there is unreachable, whatever errno says. */
		return fota_exit_status(FOTA_FAIL_BUS, r);
	}
	sock_arm(ctx->bus);
	if (ctx->trace)
		bus_set_trace(ctx->bus, ctx->trace);
	else if (fota_log_level() >= FOTA_LOG_DEBUG)
		bus_set_trace(ctx->bus, stderr); /* -vv: the frames, unless --trace takes them */
	report_controller(ctx->bus);
	return FOTA_EXIT_OK;
}

const char *cmd_bus_strerror(const struct bus *bus, int err, char *buf, size_t size)
{
	if (err == -ENETDOWN && bus && bus->state == BUS_STATE_BUS_OFF)
		snprintf(buf, size, "controller is %s (%s)", bus_state_name(bus->state),
			 strerror(-err));
	else
		snprintf(buf, size, "%s", strerror(-err));
	return buf;
}

/* DID's value in a read, as uds_did_format() prints it, or why there is none. */
static const char *ident_value(const struct uds_rdbi *r, uint16_t did, char *buf, size_t size,
			       bool *has)
{
	*has = false;
	if (!r)
		return "(not read)";
	if (uds_rdbi_result(r))
		return "(no answer)";
	for (size_t i = 0; i < r->n; i++) {
		const uint8_t *d;
		const struct uds_rdbi_item *it = uds_rdbi_item(r, i, &d);

		if (it->did != did)
			continue;
		if (it->err == -ENOENT)
			return "(not supported)";
		if (it->err) {
			snprintf(buf, size, "(refused: NRC 0x%02X)", it->nrc);
			return buf;
		}
		uds_did_format(d, it->len, buf, size);
		*has = true;
		return buf;
	}
	return "(not read)";
}

void cmd_identity_print(const struct uds_rdbi *before, const struct uds_rdbi *after,
			const uint16_t *dids, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		const char *name = uds_did_name(dids[i]);
		char b[2 * UDS_CLIENT_RSP_MAX + 8], a[2 * UDS_CLIENT_RSP_MAX + 8];
		bool hb, ha;
		const char *vb = ident_value(before, dids[i], b, sizeof(b), &hb);
		const char *va = ident_value(after, dids[i], a, sizeof(a), &ha);

		printf("%04X  %-44s  %s -> %s\n", dids[i], name ? name : "-", vb, va);
	}
}

json_object *cmd_identity_json(const struct uds_rdbi *before, const struct uds_rdbi *after,
			       const uint16_t *dids, size_t n)
{
	json_object *arr = json_object_new_array();

	for (size_t i = 0; i < n; i++) {
		const char *name = uds_did_name(dids[i]);
		char b[2 * UDS_CLIENT_RSP_MAX + 8], a[2 * UDS_CLIENT_RSP_MAX + 8], id[8];
		bool hb, ha;
		const char *vb = ident_value(before, dids[i], b, sizeof(b), &hb);
		const char *va = ident_value(after, dids[i], a, sizeof(a), &ha);
		json_object *o = json_object_new_object();

		snprintf(id, sizeof(id), "%04X", dids[i]);
		json_object_object_add(o, "did", json_object_new_string(id));
		json_object_object_add(o, "name", name ? json_object_new_string(name) : NULL);
		json_object_object_add(o, "before", hb ? json_object_new_string(vb) : NULL);
		json_object_object_add(o, "after", ha ? json_object_new_string(va) : NULL);
		json_object_array_add(arr, o);
	}
	return arr;
}

int cmd_load_image(const char *arg, enum img_format fmt, struct ihex_image *img,
		   uint8_t file_sha[32], enum img_format *used)
{
	struct ihex_error err = { 0 };
	char path[4096], *buf = NULL;
	uint32_t base = 0;
	bool has_base = false;
	size_t len = 0;
	int r;

	ihex_image_init(img);
	if (img_split_arg(arg, path, sizeof(path), &has_base, &base)) {
		fota_error("%s: %s", arg, strerror(ENAMETOOLONG));
		return fota_exit_status(FOTA_FAIL_INPUT, -ENAMETOOLONG);
	}
	r = img_read_file(path, &buf, &len);
	if (r) {
		fota_error_errno(r, "%s", path);
		return fota_exit_status(FOTA_FAIL_INPUT, r);
	}
	if (file_sha) {
		unsigned int n = 0;

		if (!EVP_Digest(buf, len, file_sha, &n, EVP_sha256(), NULL) || n != 32) {
			free(buf);
			fota_error("%s: cannot compute SHA-256", path);
			return fota_exit_status(FOTA_FAIL_RUN, -EIO);
		}
	}
	r = img_parse(img, buf, len, fmt, has_base, base, used, &err);
	free(buf);
	if (r) {
		if (err.line)
			fota_error("%s:%u: %s", path, err.line, err.msg);
		else
			fota_error("%s: %s", path, err.msg);
		return r == -EINVAL ? fota_exit_status(FOTA_FAIL_USAGE, r) :
				      fota_exit_status(FOTA_FAIL_INPUT, r);
	}
	return 0;
}
