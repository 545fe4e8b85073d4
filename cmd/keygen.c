// SPDX-License-Identifier: MIT
/*
 * fota keygen: a new Ed25519 key pair for signing update requests
 * (core/sig.h): BASE.key, the private key (PEM PKCS#8, mode 0600) and
 * BASE.pub, the public key (PEM) a TCU lists under trust: keys: in
 * fota.yaml. Neither file is ever replaced: both names are checked first,
 * and each is created under a temporary name and linked into place
 * (core/file.h), so an existing key is never lost. The key id goes to
 * stdout. Documented in man/fota-keygen.1.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <openssl/crypto.h>
#include "cmd/cmd.h"
#include "cmd/common.h"
#include "core/file.h"
#include "core/sig.h"

static const char *const keygen_usage[] = {
	"fota keygen [-q] BASE",
	NULL,
};

static const struct fota_opt keygen_opts[] = {
	FOTA_OPT_QUIET,
	FOTA_OPT_END,
};

static int run_keygen(int argc, char **argv)
{
	char key[4096], pub[4096], pem[1024];
	uint8_t seed[SIG_SEED_LEN];
	struct sig_pub p;
	struct cmd_ctx ctx;
	struct stat st;
	int n, err;

	cmd_ctx_init(&ctx, &cmd_keygen);
	n = cmd_parse_options(&ctx, NULL, argc, argv);
	if (n != 1 || !argv[0][0])
		return fota_usage_error(&cmd_keygen, "give the BASE name of the key files");
	if ((size_t)snprintf(key, sizeof(key), "%s.key", argv[0]) >= sizeof(key) ||
	    (size_t)snprintf(pub, sizeof(pub), "%s.pub", argv[0]) >= sizeof(pub)) {
		fota_error("%s: %s", argv[0], strerror(ENAMETOOLONG));
		return fota_exit_status(FOTA_FAIL_USAGE, -ENAMETOOLONG);
	}
	/* both names free before anything is written: no half pair */
	for (const char *f = key; f; f = f == key ? pub : NULL) {
		if (!lstat(f, &st)) {
			fota_error("%s: exists already; a key is never overwritten", f);
			return fota_exit_status(FOTA_FAIL_OUTPUT, -EEXIST);
		}
	}
	if (fota_sig_keygen(seed, &p) || fota_sig_pem_private(seed, pem, sizeof(pem))) {
		OPENSSL_cleanse(seed, sizeof(seed));
		fota_error("cannot generate an Ed25519 key (OpenSSL)");
		return fota_exit_status(FOTA_FAIL_RUN, -EIO);
	}
	OPENSSL_cleanse(seed, sizeof(seed));
	err = fota_create_file_excl(key, pem, strlen(pem), 0600);
	OPENSSL_cleanse(pem, sizeof(pem));
	if (err) {
		fota_error_errno(err, "%s", key);
		return fota_exit_status(FOTA_FAIL_OUTPUT, err);
	}
	err = fota_sig_pem_public(&p, pem, sizeof(pem));
	if (!err)
		err = fota_create_file_excl(pub, pem, strlen(pem), 0644);
	if (err) {
		fota_error_errno(err, "%s", pub);
		unlink(key); /* ours, created above: a private key without its public key is of no use */
		return fota_exit_status(FOTA_FAIL_OUTPUT, err);
	}
	fota_info("%s: private key (keep it secret), %s: public key, key id %s", key, pub, p.id);
	printf("%s\n", p.id);
	return fota_finish_stdout(FOTA_EXIT_OK);
}

const struct fota_cmd cmd_keygen = {
	.name = "keygen",
	.summary = "create an Ed25519 key pair for signing update requests",
	.usage = keygen_usage,
	.opts = keygen_opts,
	.run = run_keygen,
	.operand_flags = FOTA_OPT_FILE,
	.max_operands = 1,
};
