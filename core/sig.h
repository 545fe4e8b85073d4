// SPDX-License-Identifier: MIT
/*
 * Signed update requests (fota.yaml(5), TRUST and SIGNED REQUESTS): Ed25519
 * (RFC 8032, "pure" Ed25519 over the exact bytes) through OpenSSL 3's EVP,
 * key files, key ids, the signature envelope of a request file and the
 * k-of-n policy a TCU applies. Library code: never prints, never logs a key
 * or a signature (only key ids). fota keygen, fota sign, fota request --sign
 * and fota serve use it; a later fleet link can sign and check its messages
 * with the same calls.
 *
 * The envelope: a request file is its body (the YAML text, ending with a
 * newline) followed by zero or more signature lines
 *	#fota-sig ed25519 KEYID SIG\n
 * (KEYID 16, SIG 128 lowercase hex digits). The body is every byte before
 * the first line that starts with "#fota-sig"; what follows must be
 * signature lines and nothing else. Each signature covers the body's bytes
 * exactly, so no canonical form is needed, and a YAML reader sees the lines
 * as comments. Only the body is handed to the request parser.
 */
#ifndef FOTA_CORE_SIG_H
#define FOTA_CORE_SIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SIG_SEED_LEN  32 /* Ed25519 private key (the RFC 8032 seed) */
#define SIG_PUB_LEN   32
#define SIG_LEN	      64
#define SIG_KEYID_LEN 16 /* hex digits: the first 8 bytes of SHA-256(public key) */
#define SIG_MAX	      16 /* signature lines per request */
#define SIG_KEYS_MAX  16 /* trusted keys of a TCU */
#define SIG_LINE_TAG  "#fota-sig"
/* "#fota-sig ed25519 " KEYID " " SIG "\n" */
#define SIG_LINE_LEN (sizeof(SIG_LINE_TAG " ed25519 ") - 1 + SIG_KEYID_LEN + 1 + 2 * SIG_LEN + 1)

/* A public key and its id (lowercase hex, NUL-terminated). */
struct sig_pub {
	uint8_t key[SIG_PUB_LEN];
	char id[SIG_KEYID_LEN + 1];
};

/* A new key pair from the system's random generator. 0 or -EIO. */
int fota_sig_keygen(uint8_t seed[SIG_SEED_LEN], struct sig_pub *pub);
/* The public key of a private key. 0 or -EIO. */
int fota_sig_public(const uint8_t seed[SIG_SEED_LEN], struct sig_pub *pub);
/* Fill pub->id from pub->key. */
void fota_sig_key_id(struct sig_pub *pub);

/* Sign LEN bytes at MSG. 0 or -EIO. */
int fota_sig_sign(const uint8_t seed[SIG_SEED_LEN], const void *msg, size_t len,
		  uint8_t sig[SIG_LEN]);
/* Does SIG sign exactly MSG under PUB? */
bool fota_sig_verify(const uint8_t pub[SIG_PUB_LEN], const void *msg, size_t len,
		     const uint8_t sig[SIG_LEN]);

/*
 * Key files. A public key is PEM ("-----BEGIN PUBLIC KEY-----", the
 * SubjectPublicKeyInfo OpenSSL writes) or raw: 64 hex digits, white space
 * around allowed. A private key is PEM PKCS#8 ("-----BEGIN PRIVATE KEY-----",
 * unencrypted). 0, or -EINVAL with a one-line reason in why (never the key).
 */
int fota_sig_parse_public(const char *text, size_t len, struct sig_pub *pub, char *why,
			  size_t whylen);
int fota_sig_parse_private(const char *text, size_t len, uint8_t seed[SIG_SEED_LEN], char *why,
			   size_t whylen);
/* Read a key file of at most 64 KiB and parse it. 0, -errno (why set) or -EINVAL. */
int fota_sig_load_public(const char *path, struct sig_pub *pub, char *why, size_t whylen);
int fota_sig_load_private(const char *path, uint8_t seed[SIG_SEED_LEN], char *why, size_t whylen);
/* PEM text of a key, NUL-terminated, into buf. 0, -ENOSPC or -EIO. */
int fota_sig_pem_public(const struct sig_pub *pub, char *buf, size_t size);
int fota_sig_pem_private(const uint8_t seed[SIG_SEED_LEN], char *buf, size_t size);

/* ---- the envelope ---- */

struct sig_entry {
	char id[SIG_KEYID_LEN + 1];
	uint8_t sig[SIG_LEN];
};

struct sig_envelope {
	size_t body_len; /* the signed bytes: text[0, body_len) */
	struct sig_entry e[SIG_MAX];
	size_t n;
};

/*
 * Split TEXT into body and signature lines. 0, or -EBADMSG with a reason
 * naming the line ("line 9: not a signature line ..."): a malformed
 * signature block is refused as a whole.
 */
int fota_sig_envelope_split(const char *text, size_t len, struct sig_envelope *env, char *why,
			    size_t whylen);

/*
 * The signature line of BODY by SEED into line (SIG_LINE_LEN + 1 bytes,
 * NUL-terminated). 0 or -EIO.
 */
int fota_sig_line(const uint8_t seed[SIG_SEED_LEN], const void *body, size_t len,
		  char line[SIG_LINE_LEN + 1]);

/* ---- the TCU's policy ---- */

/* What a TCU trusts (fota.yaml(5), trust:). */
struct sig_trust {
	struct sig_pub keys[SIG_KEYS_MAX];
	char names[SIG_KEYS_MAX][64]; /* a label for logs, "" when unnamed */
	size_t nkeys;
	unsigned threshold;	/* distinct keys that must sign, 1..nkeys */
	bool require_signature; /* an unsigned request is refused */
};

/* Why a request is refused; SIG_OK when accepted. Stable names: fota_sig_result_code(). */
enum sig_result {
	SIG_OK = 0,
	SIG_UNSIGNED,	 /* no signature line, and signatures are required */
	SIG_BAD,	 /* a trusted key's signature does not verify the body */
	SIG_UNKNOWN_KEY, /* signed, but by no key trusted for this ECU */
	SIG_THRESHOLD,	 /* fewer distinct trusted keys than the threshold */
	SIG_MALFORMED,	 /* the signature block does not parse */
};

/*
 * Check the signatures of ENV over BODY against T. ALLOWED: bit i set when
 * t->keys[i] may sign for the request's ECU (all keys: ~0). A signature by a
 * trusted key that does not verify refuses the request (SIG_BAD), whatever
 * the other signatures say. Counts distinct keys. why gets a one-line
 * reason with key ids only.
 */
enum sig_result fota_sig_check(const struct sig_trust *t, uint32_t allowed, const void *body,
			       size_t len, const struct sig_envelope *env, char *why,
			       size_t whylen);

/* "unsigned", "bad_signature", "unknown_key", "threshold_not_met", "malformed_signature". */
const char *fota_sig_result_code(enum sig_result r);

#endif
