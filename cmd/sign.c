// SPDX-License-Identifier: MIT
/*
 * fota sign: add Ed25519 signatures (core/sig.h) to an update request
 * (fota.yaml(5), REQUEST FILES). Each -k KEY adds the line
 * "#fota-sig ed25519 KEYID SIGNATURE" over the request's body: the bytes
 * before its first signature line, so signers of a k-of-n threshold sign
 * one after the other. The body must load as a request with version: and
 * expires: (what fota serve demands of a signed request), not expired. The
 * file is replaced atomically, or written to -o FILE. Documented in
 * man/fota-sign.1.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <openssl/crypto.h>
#include "cmd/cmd.h"
#include "cmd/common.h"
#include "cmd/serve.h"
#include "cmd/sign.h"
#include "core/file.h"
#include "core/request.h"
#include "core/sig.h"

static const char *const sign_usage[] = {
	"fota sign -k KEY [-k KEY]... [-o FILE] [-q] REQUEST",
	NULL,
};

struct sign_args {
	const char *keys[CMD_SIGN_KEYS_MAX];
	size_t nkeys;
	const char *output;
};

#define ARG(f) offsetof(struct sign_args, f)

static int opt_key(void *args, const char *value, char *msg, size_t size)
{
	struct sign_args *a = args;

	if (a->nkeys == CMD_SIGN_KEYS_MAX)
		return fota_opt_error(msg, size, "at most %d -k", CMD_SIGN_KEYS_MAX);
	a->keys[a->nkeys++] = value;
	return 0;
}

static const struct fota_opt sign_opts[] = {
	FOTA_OPT_FN('k', "key", "KEY",
		    "sign with the private key file KEY (fota keygen), repeatable", FOTA_OPT_FILE,
		    opt_key),
	FOTA_OPT_STRING('o', "output", "FILE",
			"write the signed request to FILE (atomically), not over REQUEST",
			FOTA_OPT_FILE, ARG(output)),
	FOTA_OPT_QUIET,
	FOTA_OPT_END,
};

int cmd_sign_text(const char *name, const char *text, size_t len, const char *const *keys, size_t n,
		  char **out, size_t *outlen, char *ids, size_t idsize)
{
	struct sig_envelope env;
	char why[256], line[SIG_LINE_LEN + 1];
	uint8_t seed[SIG_SEED_LEN];
	size_t o = len, body;
	char *buf;

	if (ids && idsize)
		ids[0] = '\0';
	if (fota_sig_envelope_split(text, len, &env, why, sizeof(why))) {
		fota_error("%s: malformed signature block: %s", name, why);
		return FOTA_EXIT_DATA;
	}
	buf = malloc(len + 1 + n * SIG_LINE_LEN);
	if (!buf) {
		fota_error_errno(-ENOMEM, "%s", name);
		return FOTA_EXIT_FAIL;
	}
	memcpy(buf, text, len);
	/* an unsigned body gets its final newline: a signature line starts a line */
	if (!env.n && o && buf[o - 1] != '\n')
		buf[o++] = '\n';
	body = env.n ? env.body_len : o;
	for (size_t k = 0; k < n; k++) {
		struct sig_pub p;
		bool dup = false;
		int err = fota_sig_load_private(keys[k], seed, why, sizeof(why));

		if (!err)
			err = fota_sig_public(seed, &p);
		if (!err) {
			for (size_t i = 0; i < env.n && !dup; i++)
				dup = !strcmp(env.e[i].id, p.id);
			if (!dup && env.n == SIG_MAX) {
				snprintf(why, sizeof(why), "the request has %d signatures already",
					 SIG_MAX);
				err = -E2BIG;
			}
		}
		if (!err && !dup && fota_sig_line(seed, buf, body, line)) {
			snprintf(why, sizeof(why), "cannot sign (OpenSSL)");
			err = -EIO;
		}
		OPENSSL_cleanse(seed, sizeof(seed));
		if (err) {
			fota_error("%s: %s", keys[k], why);
			free(buf);
			return err == -EIO ? FOTA_EXIT_FAIL : FOTA_EXIT_DATA;
		}
		if (dup)
			continue;
		snprintf(env.e[env.n++].id, sizeof(env.e[0].id), "%s", p.id);
		memcpy(buf + o, line, SIG_LINE_LEN);
		o += SIG_LINE_LEN;
		if (ids && strlen(ids) + SIG_KEYID_LEN + 2 < idsize)
			snprintf(ids + strlen(ids), idsize - strlen(ids), "%s%s", ids[0] ? " " : "",
				 p.id);
	}
	*out = buf;
	*outlen = o;
	return 0;
}

int cmd_sign_read_request(const char *path, char **text, size_t *len)
{
	struct stat st;
	ssize_t r;
	size_t n = 0;
	char *b;
	int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY), err;

	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) || !S_ISREG(st.st_mode)) {
		close(fd);
		return -EINVAL;
	}
	b = malloc(CMD_SERVE_REQUEST_MAX + 2);
	if (!b) {
		close(fd);
		return -ENOMEM;
	}
	while (n <= CMD_SERVE_REQUEST_MAX &&
	       (r = read(fd, b + n, CMD_SERVE_REQUEST_MAX + 1 - n)) != 0) {
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			err = -errno;
			free(b);
			close(fd);
			return err;
		}
		n += (size_t)r;
	}
	close(fd);
	if (n > CMD_SERVE_REQUEST_MAX) {
		free(b);
		return -EFBIG;
	}
	b[n] = '\0';
	*text = b;
	*len = n;
	return 0;
}

int cmd_sign_check_body(const char *path, const char *text, size_t len, struct cfg_request *out,
			bool for_signing)
{
	struct sig_envelope env;
	struct cfg_request req;
	struct cfg_error cerr;
	char why[256], ebuf[512];

	if (fota_sig_envelope_split(text, len, &env, why, sizeof(why))) {
		fota_error("%s: malformed signature block: %s", path, why);
		return FOTA_EXIT_DATA;
	}
	if (cfg_load_request_string(text, env.body_len, path, &req, &cerr)) {
		fota_error("%s", cfg_error_str(&cerr, ebuf, sizeof(ebuf)));
		return FOTA_EXIT_DATA;
	}
	if (out)
		*out = req;
	if (!for_signing)
		return 0;
	if (!req.version[0] || !req.expires) {
		fota_error("%s: a signed request needs version: and expires: (fota request "
			   "--sw-version, --expires)",
			   path);
		return FOTA_EXIT_DATA;
	}
	if (req.expires <= (int64_t)time(NULL)) {
		cfg_time_str(req.expires, why, sizeof(why));
		fota_error("%s: expired at %s", path, why);
		return FOTA_EXIT_DATA;
	}
	return 0;
}

static int run_sign(int argc, char **argv)
{
	struct sign_args a = { 0 };
	struct cmd_ctx ctx;
	char *text = NULL, *out = NULL, ids[SIG_MAX * (SIG_KEYID_LEN + 1) + 1];
	const char *dest;
	size_t len = 0, olen = 0;
	int n, rc, err;

	cmd_ctx_init(&ctx, &cmd_sign);
	n = cmd_parse_options(&ctx, &a, argc, argv);
	if (n != 1)
		return fota_usage_error(&cmd_sign, "give one REQUEST file");
	if (!a.nkeys)
		return fota_usage_error(&cmd_sign, "no key given (-k KEY)");
	err = cmd_sign_read_request(argv[0], &text, &len);
	if (err) {
		fota_error("%s: %s", argv[0],
			   err == -EINVAL ? "not a regular file" :
			   err == -EFBIG  ? "larger than 64 KiB: not a request" :
					    strerror(-err));
		return fota_exit_status(FOTA_FAIL_INPUT, err == -EFBIG ? -EINVAL : err);
	}
	rc = cmd_sign_check_body(argv[0], text, len, NULL, true);
	if (!rc)
		rc = cmd_sign_text(argv[0], text, len, a.keys, a.nkeys, &out, &olen, ids,
				   sizeof(ids));
	free(text);
	if (rc)
		return rc;
	dest = a.output ? a.output : argv[0];
	err = fota_write_file_atomic(dest, out, olen);
	free(out);
	if (err) {
		fota_error_errno(err, "%s", dest);
		return fota_exit_status(FOTA_FAIL_OUTPUT, err);
	}
	if (ids[0])
		fota_info("%s: signed by key %s", dest, ids);
	else
		fota_info("%s: every key given had signed it already", dest);
	return FOTA_EXIT_OK;
}

const struct fota_cmd cmd_sign = {
	.name = "sign",
	.summary = "sign an update request with Ed25519 keys, for fota serve",
	.usage = sign_usage,
	.opts = sign_opts,
	.run = run_sign,
	.operand_flags = FOTA_OPT_FILE,
	.max_operands = 1,
};
