// SPDX-License-Identifier: MIT
/*
 * fota request: write an update request (fota.yaml(5), REQUEST FILES) for a
 * firmware file and an ECU, so nobody computes a digest or a UUID by hand: a
 * fresh UUID version 4 (RFC 4122 §4.4, from OpenSSL's RAND_bytes), the
 * SHA-256 of the file's bytes (what `fota hexinfo` labels "sha256 file"), the
 * firmware's absolute path, and the optional base: and expect: keys. The
 * firmware is parsed first (cmd_load_image) and, when a configuration is in
 * effect, the ECU must be one of it and the image must lie in its regions:
 * `fota serve` would refuse the request otherwise. The text written is
 * parsed back with core/request.c before it goes anywhere. Output: stdout,
 * -o FILE or --inbox DIR (DIR/ID.yaml), both written atomically (core/file.h).
 * Documented in man/fota-request.1.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <openssl/rand.h>
#include "cmd/cmd.h"
#include "cmd/common.h"
#include "cmd/sign.h"
#include "core/config.h"
#include "core/file.h"
#include "core/request.h"
#include "hex/ihex.h"
#include "hex/image.h"
#include "hex/load.h"

static const char *const request_usage[] = {
	"fota request -e NAME [-c FILE] [--base ADDR] [--expect DID=VALUE]... [--id UUID] "
	"[--sw-version VER] [--expires TIME] [--not-before TIME] [--allow-downgrade] "
	"[--sign KEY]... [-o FILE | --inbox DIR] [-q] FILE[@ADDR]",
	NULL,
};

#define KEY_BASE	  FOTA_OPT_LONG(1)
#define KEY_EXPECT	  FOTA_OPT_LONG(2)
#define KEY_ID		  FOTA_OPT_LONG(3)
#define KEY_INBOX	  FOTA_OPT_LONG(4)
#define KEY_SWVER	  FOTA_OPT_LONG(5)
#define KEY_EXPIRE	  FOTA_OPT_LONG(6)
#define KEY_NOTBEF	  FOTA_OPT_LONG(7)
#define KEY_DOWN	  FOTA_OPT_LONG(8)
#define KEY_SIGN	  FOTA_OPT_LONG(9)
#define KEY_URL		  FOTA_OPT_LONG(10)
#define EXPIRES_DEFAULT_S (7 * 86400) /* --sign without --expires: a week */

struct request_args {
	const char *ecu;
	uint32_t base;
	const char *id;
	const char *output;
	const char *inbox;
	struct cfg_expect expect[CFG_EXPECT_MAX];
	size_t nexpect;
	const char *version;
	int64_t expires, not_before;
	bool allow_downgrade;
	const char *keys[CMD_SIGN_KEYS_MAX];
	size_t nkeys;
	const char *url;
};

#define ARG(f) offsetof(struct request_args, f)

/* DID=VALUE, as fota flash --expect takes it. */
static int opt_expect(void *args, const char *value, char *msg, size_t size)
{
	struct request_args *a = args;
	const char *eq = strchr(value, '=');
	char did[16];
	uint16_t d[1];
	size_t n = 0;

	if (a->nexpect == CFG_EXPECT_MAX)
		return fota_opt_error(msg, size, "at most %d --expect", CFG_EXPECT_MAX);
	if (!eq || eq == value || (size_t)(eq - value) >= sizeof(did) || !eq[1] ||
	    strlen(eq + 1) >= sizeof(a->expect[0].value))
		return fota_opt_error(msg, size, "invalid --expect '%s' (DID=VALUE)", value);
	memcpy(did, value, (size_t)(eq - value));
	did[eq - value] = '\0';
	if (cmd_parse_dids("--expect", did, d, &n, 1, msg, size))
		return -EINVAL;
	for (size_t i = 0; i < a->nexpect; i++)
		if (a->expect[i].did == d[0])
			return fota_opt_error(msg, size, "--expect %04X given twice", d[0]);
	a->expect[a->nexpect].did = d[0];
	snprintf(a->expect[a->nexpect].value, sizeof(a->expect[0].value), "%s", eq + 1);
	a->nexpect++;
	return 0;
}

static int opt_id(void *args, const char *value, char *msg, size_t size)
{
	struct request_args *a = args;

	if (!cfg_uuid_v4_ok(value))
		return fota_opt_error(msg, size, "invalid --id '%s' (a UUID version 4)", value);
	a->id = value;
	return 0;
}

static int opt_version(void *args, const char *value, char *msg, size_t size)
{
	struct request_args *a = args;

	if (!cfg_version_ok(value))
		return fota_opt_error(msg, size,
				      "invalid --sw-version '%s' (numbers separated by dots, like "
				      "2.1.0)",
				      value);
	a->version = value;
	return 0;
}

/* An RFC 3339 UTC time, or +N followed by d, h or m: that long from now. */
static int parse_when(const char *opt, const char *value, int64_t *out, char *msg, size_t size)
{
	uint32_t n;
	char num[16];
	size_t l = strlen(value);
	int64_t unit;

	if (!cfg_time_parse(value, out))
		return 0;
	unit = l > 2 && value[l - 1] == 'd' ? 86400 :
	       l > 2 && value[l - 1] == 'h' ? 3600 :
	       l > 2 && value[l - 1] == 'm' ? 60 :
					      0;
	if (value[0] == '+' && unit && l - 2 < sizeof(num)) {
		memcpy(num, value + 1, l - 2);
		num[l - 2] = '\0';
		if (!fota_parse_u32(num, 1, 100000, &n)) {
			*out = (int64_t)time(NULL) + (int64_t)n * unit;
			return 0;
		}
	}
	return fota_opt_error(msg, size,
			      "invalid %s '%s' (a UTC time like 2026-12-31T23:59:59Z, or +7d, "
			      "+12h, +30m)",
			      opt, value);
}

static int opt_expires(void *args, const char *value, char *msg, size_t size)
{
	return parse_when("--expires", value, &((struct request_args *)args)->expires, msg, size);
}

static int opt_not_before(void *args, const char *value, char *msg, size_t size)
{
	return parse_when("--not-before", value, &((struct request_args *)args)->not_before, msg,
			  size);
}

static int opt_sign(void *args, const char *value, char *msg, size_t size)
{
	struct request_args *a = args;

	if (a->nkeys == CMD_SIGN_KEYS_MAX)
		return fota_opt_error(msg, size, "at most %d --sign", CMD_SIGN_KEYS_MAX);
	a->keys[a->nkeys++] = value;
	return 0;
}

/* --url: checked here as serve will check it, so a request we write is never refused for it */
static int opt_url(void *args, const char *value, char *msg, size_t size)
{
	char why[128];

	if (!cfg_url_https_ok(value, why, sizeof(why)))
		return fota_opt_error(msg, size, "invalid --url '%.200s': %s", value, why);
	((struct request_args *)args)->url = value;
	return 0;
}

static const struct fota_opt request_opts[] = {
	FOTA_OPT_STRING('e', "ecu", "NAME", "the ECU of the configuration the firmware is for",
			FOTA_OPT_ECU, ARG(ecu)),
	FOTA_OPT_CONFIG,
	FOTA_OPT_U32(KEY_BASE, "base", "ADDR", "the firmware is a raw binary loaded at ADDR",
		     ARG(base), 0, UINT32_MAX, NULL),
	FOTA_OPT_FN(KEY_EXPECT, "expect", "DID=VALUE",
		    "the ECU must report VALUE for DID after the update, repeatable", 0,
		    opt_expect),
	FOTA_OPT_FN(KEY_ID, "id", "UUID",
		    "use this request id (default: a new random UUID version 4)", 0, opt_id),
	FOTA_OPT_FN(KEY_SWVER, "sw-version", "VER",
		    "the firmware's version, for rollback protection (like 2.1.0)", 0, opt_version),
	FOTA_OPT_FN(KEY_EXPIRE, "expires", "TIME",
		    "refused from TIME on: UTC like 2026-12-31T23:59:59Z, or +7d, +12h, +30m", 0,
		    opt_expires),
	FOTA_OPT_FN(KEY_NOTBEF, "not-before", "TIME", "refused until TIME (as --expires)", 0,
		    opt_not_before),
	FOTA_OPT_FLAG(KEY_DOWN, "allow-downgrade",
		      "a version lower than the installed one may be flashed",
		      ARG(allow_downgrade)),
	FOTA_OPT_FN(KEY_SIGN, "sign", "KEY",
		    "sign with the private key file KEY (fota keygen), repeatable", FOTA_OPT_FILE,
		    opt_sign),
	FOTA_OPT_FN(KEY_URL, "url", "URL",
		    "serve downloads the firmware from URL (https://) instead of reading FILE", 0,
		    opt_url),
	FOTA_OPT_STRING('o', "output", "FILE", "write the request to FILE (atomically), not stdout",
			FOTA_OPT_FILE, ARG(output)),
	FOTA_OPT_STRING(KEY_INBOX, "inbox", "DIR",
			"write the request as DIR/ID.yaml (atomically), a fota serve inbox",
			FOTA_OPT_DIR, ARG(inbox)),
	FOTA_OPT_QUIET,
	FOTA_OPT_END,
};

/* RFC 4122 §4.4: 122 random bits, version nibble 4 (§4.1.3), variant 10xx (§4.1.1). */
static int new_uuid(char out[CFG_UUID_LEN + 1])
{
	uint8_t b[16];

	if (RAND_bytes(b, sizeof(b)) != 1)
		return -EIO;
	b[6] = (uint8_t)((b[6] & 0x0F) | 0x40);
	b[8] = (uint8_t)((b[8] & 0x3F) | 0x80);
	snprintf(out, CFG_UUID_LEN + 1,
		 "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0], b[1],
		 b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14],
		 b[15]);
	return 0;
}

/* S as a YAML double-quoted scalar (YAML 1.2 §7.3.1): quotes, backslashes, controls escaped. */
static void yaml_quoted(char **p, size_t *left, const char *s)
{
	int n;

#define PUT(...)                                      \
	do {                                          \
		n = snprintf(*p, *left, __VA_ARGS__); \
		if (n < 0 || (size_t)n >= *left) {    \
			*left = 0;                    \
			return;                       \
		}                                     \
		*p += n;                              \
		*left -= (size_t)n;                   \
	} while (0)
	PUT("\"");
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			PUT("\\%c", c);
		else if (c < 0x20 || c == 0x7f)
			PUT("\\x%02x", c);
		else
			PUT("%c", c);
	}
	PUT("\"");
#undef PUT
}

/* The request text; 0, or -ENAMETOOLONG when it does not fit. */
static int render(char *buf, size_t size, const char *id, const char *ecu, const char *firmware,
		  const char *sha, uint64_t fwsize, bool has_base, uint32_t base,
		  const struct request_args *a)
{
	char when[32];
	char *p = buf;
	size_t left = size;
	int n;

#define ADD(...)                                    \
	do {                                        \
		n = snprintf(p, left, __VA_ARGS__); \
		if (n < 0 || (size_t)n >= left)     \
			return -ENAMETOOLONG;       \
		p += n;                             \
		left -= (size_t)n;                  \
	} while (0)
	ADD("# update request for fota serve (fota.yaml(5), REQUEST FILES), by fota request\n");
	ADD("id: %s\n", id);
	ADD("ecu: ");
	yaml_quoted(&p, &left, ecu);
	ADD(a->url ? "\nfirmware_url: " : "\nfirmware: ");
	yaml_quoted(&p, &left, a->url ? a->url : firmware);
	ADD("\nsha256: %s\nsize: %" PRIu64 "\n", sha, fwsize);
	if (a->version)
		ADD("version: \"%s\"\n", a->version);
	if (a->expires) {
		cfg_time_str(a->expires, when, sizeof(when));
		ADD("expires: %s\n", when);
	}
	if (a->not_before) {
		cfg_time_str(a->not_before, when, sizeof(when));
		ADD("not_before: %s\n", when);
	}
	if (a->allow_downgrade)
		ADD("allow_downgrade: true\n");
	if (has_base)
		ADD("base: 0x%08" PRIx32 "\n", base);
	if (a->nexpect) {
		ADD("expect:\n");
		for (size_t i = 0; i < a->nexpect; i++) {
			ADD("  %04X: ", a->expect[i].did);
			yaml_quoted(&p, &left, a->expect[i].value);
			ADD("\n");
		}
	}
#undef ADD
	return left ? 0 : -ENAMETOOLONG;
}

/* Against the configuration in effect: the ECU exists and holds the image. */
static int check_ecu(struct cmd_ctx *ctx, const char *name, const struct ihex_image *img,
		     const char *file)
{
	struct ihex_region reg[CFG_REGIONS_MAX];
	const struct cfg_ecu *ecu;
	struct ihex_outside out;
	struct fota_config cfg;
	int rc;

	rc = cmd_load_config(ctx, &cfg, false);
	if (rc)
		return rc;
	if (!cfg.source[0]) {
		fota_warn("no configuration: ECU name '%s' and memory regions not checked", name);
		return 0;
	}
	rc = cmd_find_ecu(&cfg, name, &ecu);
	if (rc)
		goto out;
	for (size_t i = 0; i < ecu->nregions; i++) {
		reg[i].addr = ecu->regions[i].start;
		reg[i].len = ecu->regions[i].size;
	}
	if (ihex_image_check_regions(img, reg, ecu->nregions, &out)) {
		fota_error("%s: bytes 0x%08" PRIx32 "-0x%08" PRIx32
			   " lie outside the memory regions of ECU %s (%s)",
			   file, out.addr, (uint32_t)(out.addr + out.len - 1), ecu->name,
			   cfg.source);
		rc = FOTA_EXIT_DATA;
	}
out:
	cfg_release(&cfg);
	return rc;
}

static int run_request(int argc, char **argv)
{
	struct request_args a = { 0 };
	char id[CFG_UUID_LEN + 1], path[CFG_PATH_MAX], abs[PATH_MAX], imgarg[CFG_PATH_MAX + 16];
	char sha[65], text[4096], out[PATH_MAX + CFG_UUID_LEN + 8], ebuf[512];
	uint8_t digest[32];
	struct cfg_request check;
	struct cfg_error cerr;
	struct ihex_image img;
	struct cmd_ctx ctx;
	struct stat st;
	bool has_base = false;
	uint32_t base = 0;
	int n, rc, err;

	cmd_ctx_init(&ctx, &cmd_request);
	n = cmd_parse_options(&ctx, &a, argc, argv);
	if (!n)
		return fota_usage_error(&cmd_request, "no firmware FILE given");
	if (!a.ecu || !*a.ecu)
		return fota_usage_error(&cmd_request, "no ECU given (-e NAME)");
	if (a.output && a.inbox)
		return fota_usage_error(&cmd_request, "-o and --inbox: give one");
	if (a.nkeys && !a.version)
		return fota_usage_error(
			&cmd_request, "a signed request needs --sw-version (rollback protection)");
	if (a.nkeys && !a.expires)
		a.expires = (int64_t)time(NULL) + EXPIRES_DEFAULT_S;
	if (a.expires && a.expires <= (int64_t)time(NULL))
		return fota_usage_error(&cmd_request, "--expires: that time has passed");
	if (a.expires && a.not_before && a.not_before >= a.expires)
		return fota_usage_error(&cmd_request, "--not-before: not before --expires");
	if (img_split_arg(argv[0], path, sizeof(path), &has_base, &base)) {
		fota_error("%s: %s", argv[0], strerror(ENAMETOOLONG));
		return fota_exit_status(FOTA_FAIL_INPUT, -ENAMETOOLONG);
	}
	if (has_base && cmd_opt_given(&ctx, KEY_BASE) && base != a.base)
		return fota_usage_error(&cmd_request, "%s and --base 0x%08" PRIx32 " disagree",
					argv[0], a.base);
	if (cmd_opt_given(&ctx, KEY_BASE)) {
		has_base = true;
		base = a.base;
	}
	if (a.inbox) {
		err = stat(a.inbox, &st) ? -errno : S_ISDIR(st.st_mode) ? 0 : -ENOTDIR;
		if (err) {
			fota_error_errno(err, "--inbox %s", a.inbox);
			return fota_exit_status(FOTA_FAIL_OUTPUT, err);
		}
	}

	/* the firmware parses as serve will parse it: same bytes, same base */
	if (has_base)
		snprintf(imgarg, sizeof(imgarg), "%s@0x%08" PRIx32, path, base);
	else
		snprintf(imgarg, sizeof(imgarg), "%s", path);
	rc = cmd_load_image(imgarg, IMG_FMT_AUTO, &img, digest, NULL);
	if (rc)
		return rc;
	if (!img.nseg) {
		fota_error("%s: no data records", path);
		ihex_release(&img);
		return FOTA_EXIT_DATA;
	}
	rc = check_ecu(&ctx, a.ecu, &img, path);
	ihex_release(&img);
	if (rc)
		return rc;

	/* the firmware by absolute path: the request is right wherever it is written */
	if (!realpath(path, abs)) {
		fota_error_errno(-errno, "%s", path);
		return fota_exit_status(FOTA_FAIL_INPUT, -errno);
	}
	for (int i = 0; i < 32; i++)
		snprintf(sha + 2 * i, 3, "%02x", digest[i]);
	if (a.id) {
		for (int i = 0; i <= CFG_UUID_LEN; i++)
			id[i] = (char)(a.id[i] >= 'A' && a.id[i] <= 'F' ? a.id[i] + 32 : a.id[i]);
	} else if (new_uuid(id)) {
		fota_error("cannot get random bytes for a UUID (OpenSSL RAND_bytes)");
		return fota_exit_status(FOTA_FAIL_RUN, -EIO);
	}
	if (stat(abs, &st)) {
		fota_error_errno(-errno, "%s", abs);
		return fota_exit_status(FOTA_FAIL_INPUT, -errno);
	}
	if (render(text, sizeof(text), id, a.ecu, abs, sha, (uint64_t)st.st_size, has_base, base,
		   &a)) {
		fota_error("%s: request too long", abs);
		return FOTA_EXIT_DATA;
	}
	/* what we write must load as a request, or it is not written */
	if (cfg_load_request_string(text, strlen(text), abs, &check, &cerr)) {
		fota_error("the request does not load: %s",
			   cfg_error_str(&cerr, ebuf, sizeof(ebuf)));
		return FOTA_EXIT_DATA;
	}

	if (a.nkeys) {
		char *signed_text;
		size_t slen;

		rc = cmd_sign_text(abs, text, strlen(text), a.keys, a.nkeys, &signed_text, &slen,
				   NULL, 0);
		if (rc)
			return rc;
		if (slen >= sizeof(text)) {
			free(signed_text);
			fota_error("%s: request too long", abs);
			return FOTA_EXIT_DATA;
		}
		memcpy(text, signed_text, slen);
		text[slen] = '\0';
		free(signed_text);
	}
	if (!a.output && !a.inbox) {
		fputs(text, stdout);
		return fota_finish_stdout(FOTA_EXIT_OK);
	}
	if (a.inbox) {
		snprintf(out, sizeof(out), "%s/%s.yaml", a.inbox, id);
		if (!lstat(out, &st)) {
			fota_error("%s: exists already: a request with id %s is in the inbox", out,
				   id);
			return fota_exit_status(FOTA_FAIL_OUTPUT, -EEXIST);
		}
	} else {
		snprintf(out, sizeof(out), "%s", a.output);
	}
	/* PATH.tmp then rename: fota serve ignores names not ending in .yaml */
	err = fota_write_file_atomic(out, text, strlen(text));
	if (err) {
		fota_error_errno(err, "%s", out);
		return fota_exit_status(FOTA_FAIL_OUTPUT, err);
	}
	fota_info("%s: request %s for ECU %s, firmware %s", out, id, a.ecu, abs);
	/* the id on stdout, for `fota status --wait=available --id` */
	printf("%s\n", id);
	return fota_finish_stdout(FOTA_EXIT_OK);
}

const struct fota_cmd cmd_request = {
	.name = "request",
	.summary = "write an update request for a firmware file, for fota serve",
	.usage = request_usage,
	.opts = request_opts,
	.run = run_request,
	.operand_flags = FOTA_OPT_FILE,
	.max_operands = 1,
};
