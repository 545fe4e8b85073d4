// SPDX-License-Identifier: MIT
/* Ed25519 signatures, key files, the request envelope and the TCU policy (core/sig.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include "core/hexstr.h"
#include "core/sig.h"

#define KEY_FILE_MAX 65536

static void hex(char *out, const uint8_t *b, size_t n)
{
	static const char digits[] = "0123456789abcdef";

	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[b[i] >> 4];
		out[2 * i + 1] = digits[b[i] & 15];
	}
	out[2 * n] = '\0';
}

void fota_sig_key_id(struct sig_pub *pub)
{
	uint8_t d[32];
	unsigned int n = 0;

	/* SHA-256 cannot fail on a 32-byte buffer short of memory exhaustion; then the id is 0s */
	if (!EVP_Digest(pub->key, SIG_PUB_LEN, d, &n, EVP_sha256(), NULL))
		memset(d, 0, sizeof(d));
	hex(pub->id, d, SIG_KEYID_LEN / 2);
}

static EVP_PKEY *priv_pkey(const uint8_t seed[SIG_SEED_LEN])
{
	return EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, seed, SIG_SEED_LEN);
}

/* The raw public key of PK into pub, id included. 0 or -EIO. */
static int pub_of(EVP_PKEY *pk, struct sig_pub *pub)
{
	size_t n = SIG_PUB_LEN;

	if (EVP_PKEY_get_raw_public_key(pk, pub->key, &n) != 1 || n != SIG_PUB_LEN)
		return -EIO;
	fota_sig_key_id(pub);
	return 0;
}

int fota_sig_public(const uint8_t seed[SIG_SEED_LEN], struct sig_pub *pub)
{
	EVP_PKEY *pk = priv_pkey(seed);
	int err = pk ? pub_of(pk, pub) : -EIO;

	EVP_PKEY_free(pk);
	ERR_clear_error();
	return err;
}

int fota_sig_keygen(uint8_t seed[SIG_SEED_LEN], struct sig_pub *pub)
{
	EVP_PKEY *pk = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	size_t n = SIG_SEED_LEN;
	int err = -EIO;

	if (pk && EVP_PKEY_get_raw_private_key(pk, seed, &n) == 1 && n == SIG_SEED_LEN)
		err = pub_of(pk, pub);
	EVP_PKEY_free(pk);
	ERR_clear_error();
	return err;
}

int fota_sig_sign(const uint8_t seed[SIG_SEED_LEN], const void *msg, size_t len,
		  uint8_t sig[SIG_LEN])
{
	EVP_PKEY *pk = priv_pkey(seed);
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	size_t n = SIG_LEN;
	int err = -EIO;

	/* Ed25519 hashes internally: no digest is named (RFC 8032 §5.1.6, "pure") */
	if (pk && md && EVP_DigestSignInit(md, NULL, NULL, NULL, pk) == 1 &&
	    EVP_DigestSign(md, sig, &n, msg, len) == 1 && n == SIG_LEN)
		err = 0;
	EVP_MD_CTX_free(md);
	EVP_PKEY_free(pk);
	ERR_clear_error();
	return err;
}

bool fota_sig_verify(const uint8_t pub[SIG_PUB_LEN], const void *msg, size_t len,
		     const uint8_t sig[SIG_LEN])
{
	EVP_PKEY *pk = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, pub, SIG_PUB_LEN);
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	bool ok = pk && md && EVP_DigestVerifyInit(md, NULL, NULL, NULL, pk) == 1 &&
		  EVP_DigestVerify(md, sig, SIG_LEN, msg, len) == 1;

	EVP_MD_CTX_free(md);
	EVP_PKEY_free(pk);
	ERR_clear_error();
	return ok;
}

/* An encrypted PEM key must fail, not prompt on the terminal. */
static int no_passphrase(char *buf, int size, int rwflag, void *u)
{
	(void)buf, (void)size, (void)rwflag, (void)u;
	return -1;
}

static bool has_pem(const char *text, size_t len, const char *label)
{
	return memmem(text, len, label, strlen(label)) != NULL;
}

int fota_sig_parse_public(const char *text, size_t len, struct sig_pub *pub, char *why,
			  size_t whylen)
{
	size_t n = 0;

	memset(pub, 0, sizeof(*pub));
	if (has_pem(text, len, "-----BEGIN ")) {
		BIO *b = len <= KEY_FILE_MAX ? BIO_new_mem_buf(text, (int)len) : NULL;
		EVP_PKEY *pk = b ? PEM_read_bio_PUBKEY(b, NULL, no_passphrase, NULL) : NULL;
		int err = -EINVAL;

		if (!pk)
			snprintf(why, whylen, "not a PEM public key (-----BEGIN PUBLIC KEY-----)");
		else if (EVP_PKEY_get_id(pk) != EVP_PKEY_ED25519)
			snprintf(why, whylen, "not an Ed25519 key (%s)",
				 OBJ_nid2sn(EVP_PKEY_get_id(pk)));
		else if (pub_of(pk, pub))
			snprintf(why, whylen, "cannot read the public key");
		else
			err = 0;
		EVP_PKEY_free(pk);
		BIO_free(b);
		ERR_clear_error();
		return err;
	}
	if (fota_hex_bytes(text, len, FOTA_HEX_SPACE, pub->key, sizeof(pub->key), &n) ||
	    n != SIG_PUB_LEN) {
		memset(pub, 0, sizeof(*pub));
		snprintf(why, whylen, "not a public key: expected PEM or 64 hex digits");
		return -EINVAL;
	}
	fota_sig_key_id(pub);
	return 0;
}

int fota_sig_parse_private(const char *text, size_t len, uint8_t seed[SIG_SEED_LEN], char *why,
			   size_t whylen)
{
	BIO *b = len <= KEY_FILE_MAX ? BIO_new_mem_buf(text, (int)len) : NULL;
	EVP_PKEY *pk = b ? PEM_read_bio_PrivateKey(b, NULL, no_passphrase, NULL) : NULL;
	size_t n = SIG_SEED_LEN;
	int err = -EINVAL;

	if (!pk)
		snprintf(why, whylen,
			 "not an unencrypted PEM private key (-----BEGIN PRIVATE KEY-----)");
	else if (EVP_PKEY_get_id(pk) != EVP_PKEY_ED25519)
		snprintf(why, whylen, "not an Ed25519 key (%s)", OBJ_nid2sn(EVP_PKEY_get_id(pk)));
	else if (EVP_PKEY_get_raw_private_key(pk, seed, &n) != 1 || n != SIG_SEED_LEN)
		snprintf(why, whylen, "cannot read the private key");
	else
		err = 0;
	EVP_PKEY_free(pk);
	BIO_free(b);
	ERR_clear_error();
	return err;
}

/* A whole key file, NUL-terminated; *text malloc'd. */
static int read_key_file(const char *path, char **text, size_t *len, char *why, size_t whylen)
{
	struct stat st;
	char *b;
	ssize_t r;
	size_t n = 0;
	int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY), err;

	if (fd < 0) {
		err = -errno;
		snprintf(why, whylen, "%s", strerror(-err));
		return err;
	}
	if (fstat(fd, &st) || !S_ISREG(st.st_mode) || st.st_size > KEY_FILE_MAX) {
		close(fd);
		snprintf(why, whylen, "not a key file (a regular file of at most %d bytes)",
			 KEY_FILE_MAX);
		return -EINVAL;
	}
	b = malloc(KEY_FILE_MAX + 2);
	if (!b) {
		close(fd);
		snprintf(why, whylen, "%s", strerror(ENOMEM));
		return -ENOMEM;
	}
	while (n <= KEY_FILE_MAX && (r = read(fd, b + n, KEY_FILE_MAX + 1 - n)) != 0) {
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			err = -errno;
			snprintf(why, whylen, "%s", strerror(-err));
			free(b);
			close(fd);
			return err;
		}
		n += (size_t)r;
	}
	close(fd);
	if (n > KEY_FILE_MAX) {
		free(b);
		snprintf(why, whylen, "larger than %d bytes", KEY_FILE_MAX);
		return -EINVAL;
	}
	b[n] = '\0';
	*text = b;
	*len = n;
	return 0;
}

int fota_sig_load_public(const char *path, struct sig_pub *pub, char *why, size_t whylen)
{
	char *text;
	size_t len;
	int err = read_key_file(path, &text, &len, why, whylen);

	if (err)
		return err;
	err = fota_sig_parse_public(text, len, pub, why, whylen);
	free(text);
	return err;
}

int fota_sig_load_private(const char *path, uint8_t seed[SIG_SEED_LEN], char *why, size_t whylen)
{
	char *text;
	size_t len;
	int err = read_key_file(path, &text, &len, why, whylen);

	if (err)
		return err;
	err = fota_sig_parse_private(text, len, seed, why, whylen);
	/* the file's text holds the key: wipe it before it goes back to the heap */
	OPENSSL_cleanse(text, len);
	free(text);
	return err;
}

/* PEM of PK by WRITE into buf. */
static int pem_out(EVP_PKEY *pk, bool private, char *buf, size_t size)
{
	BIO *b = BIO_new(BIO_s_mem());
	char *data;
	long n;
	int err = -EIO;

	if (pk && b &&
	    (private ? PEM_write_bio_PrivateKey(b, pk, NULL, NULL, 0, NULL, NULL) :
		       PEM_write_bio_PUBKEY(b, pk)) == 1) {
		n = BIO_get_mem_data(b, &data);
		if (n > 0 && (size_t)n < size) {
			memcpy(buf, data, (size_t)n);
			buf[n] = '\0';
			err = 0;
		} else {
			err = -ENOSPC;
		}
		OPENSSL_cleanse(data, n > 0 ? (size_t)n : 0);
	}
	BIO_free(b);
	ERR_clear_error();
	return err;
}

int fota_sig_pem_public(const struct sig_pub *pub, char *buf, size_t size)
{
	EVP_PKEY *pk = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, pub->key, SIG_PUB_LEN);
	int err = pem_out(pk, false, buf, size);

	EVP_PKEY_free(pk);
	return err;
}

int fota_sig_pem_private(const uint8_t seed[SIG_SEED_LEN], char *buf, size_t size)
{
	EVP_PKEY *pk = priv_pkey(seed);
	int err = pem_out(pk, true, buf, size);

	EVP_PKEY_free(pk);
	return err;
}

/* ---- the envelope ---- */

static bool lower_hex(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return true;
}

/* One signature line at P (LEN bytes, the newline included). */
static int parse_line(const char *p, size_t len, struct sig_entry *e)
{
	static const char tag[] = SIG_LINE_TAG " ed25519 ";
	const size_t tl = sizeof(tag) - 1;
	size_t n = 0;

	if (len != SIG_LINE_LEN || memcmp(p, tag, tl) || p[tl + SIG_KEYID_LEN] != ' ' ||
	    p[len - 1] != '\n' || !lower_hex(p + tl, SIG_KEYID_LEN) ||
	    !lower_hex(p + tl + SIG_KEYID_LEN + 1, 2 * SIG_LEN))
		return -EBADMSG;
	memcpy(e->id, p + tl, SIG_KEYID_LEN);
	e->id[SIG_KEYID_LEN] = '\0';
	if (fota_hex_bytes(p + tl + SIG_KEYID_LEN + 1, 2 * SIG_LEN, "", e->sig, SIG_LEN, &n) ||
	    n != SIG_LEN)
		return -EBADMSG;
	return 0;
}

int fota_sig_envelope_split(const char *text, size_t len, struct sig_envelope *env, char *why,
			    size_t whylen)
{
	const size_t tl = sizeof(SIG_LINE_TAG) - 1;
	size_t pos = 0, line = 1, start = len;

	memset(env, 0, sizeof(*env));
	/* the first line that starts with the tag ends the body */
	while (pos < len) {
		const char *nl = memchr(text + pos, '\n', len - pos);

		if (len - pos >= tl && !memcmp(text + pos, SIG_LINE_TAG, tl)) {
			start = pos;
			break;
		}
		if (!nl)
			break;
		pos = (size_t)(nl - text) + 1;
		line++;
	}
	env->body_len = start;
	for (pos = start; pos < len; line++) {
		const char *nl = memchr(text + pos, '\n', len - pos);
		size_t l = nl ? (size_t)(nl - text) + 1 - pos : len - pos;

		if (env->n == SIG_MAX) {
			snprintf(why, whylen, "line %zu: more than %d signatures", line, SIG_MAX);
			goto bad;
		}
		if (parse_line(text + pos, l, &env->e[env->n])) {
			snprintf(why, whylen,
				 "line %zu: not a signature line (" SIG_LINE_TAG
				 " ed25519 KEYID SIGNATURE, hex, then a newline); nothing but "
				 "signature lines may follow the first",
				 line);
			goto bad;
		}
		env->n++;
		pos += l;
	}
	return 0;
bad:
	memset(env, 0, sizeof(*env));
	env->body_len = len;
	return -EBADMSG;
}

int fota_sig_line(const uint8_t seed[SIG_SEED_LEN], const void *body, size_t len,
		  char line[SIG_LINE_LEN + 1])
{
	struct sig_pub pub;
	uint8_t sig[SIG_LEN];
	char sighex[2 * SIG_LEN + 1];

	if (fota_sig_public(seed, &pub) || fota_sig_sign(seed, body, len, sig))
		return -EIO;
	hex(sighex, sig, SIG_LEN);
	snprintf(line, SIG_LINE_LEN + 1, SIG_LINE_TAG " ed25519 %s %s\n", pub.id, sighex);
	return 0;
}

/* ---- policy ---- */

static const char *key_label(const struct sig_trust *t, size_t i, char *buf, size_t size)
{
	if (t->names[i][0])
		snprintf(buf, size, "%s (%s)", t->keys[i].id, t->names[i]);
	else
		snprintf(buf, size, "%s", t->keys[i].id);
	return buf;
}

enum sig_result fota_sig_check(const struct sig_trust *t, uint32_t allowed, const void *body,
			       size_t len, const struct sig_envelope *env, char *why, size_t whylen)
{
	uint32_t good = 0;
	unsigned ngood = 0, need = t->threshold ? t->threshold : 1;
	char label[96], other[SIG_KEYID_LEN + 1] = "";

	if (!env->n) {
		snprintf(why, whylen, "request not signed, and this TCU requires a signature");
		return SIG_UNSIGNED;
	}
	for (size_t k = 0; k < env->n; k++) {
		const struct sig_entry *e = &env->e[k];
		size_t i;

		for (i = 0; i < t->nkeys; i++)
			if (!strcmp(t->keys[i].id, e->id) && (allowed >> i & 1))
				break;
		if (i == t->nkeys) {
			snprintf(other, sizeof(other), "%s", e->id);
			continue;
		}
		if (!fota_sig_verify(t->keys[i].key, body, len, e->sig)) {
			snprintf(why, whylen,
				 "bad signature: the signature by key %s does not match the "
				 "request's bytes",
				 key_label(t, i, label, sizeof(label)));
			return SIG_BAD;
		}
		if (!(good >> i & 1))
			ngood++;
		good |= 1u << i;
	}
	if (ngood >= need)
		return SIG_OK;
	if (!ngood) {
		snprintf(why, whylen,
			 "unknown key: signed by key %s, which this TCU does not trust%s", other,
			 allowed == ~0u ? "" : " for this ECU");
		return SIG_UNKNOWN_KEY;
	}
	snprintf(why, whylen,
		 "threshold not met: %u of the %u distinct trusted keys required signed", ngood,
		 need);
	return SIG_THRESHOLD;
}

const char *fota_sig_result_code(enum sig_result r)
{
	switch (r) {
	case SIG_OK:
		return "ok";
	case SIG_UNSIGNED:
		return "unsigned";
	case SIG_BAD:
		return "bad_signature";
	case SIG_UNKNOWN_KEY:
		return "unknown_key";
	case SIG_THRESHOLD:
		return "threshold_not_met";
	case SIG_MALFORMED:
		return "malformed_signature";
	}
	return "?";
}
