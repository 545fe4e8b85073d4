// SPDX-License-Identifier: MIT
/*
 * core/sig.c: Ed25519 through the calls fota uses, checked against the test
 * vectors of RFC 8032 §7.1; key files (PEM, raw hex); the signature envelope
 * of a request file; the k-of-n policy and its reasons.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "core/hexstr.h"
#include "core/sig.h"
#include "tests/unit/t.h"

struct vec {
	const char *seed, *pub, *msg, *sig;
};

/* RFC 8032 §7.1, TEST 1, 2 and 3 */
static const struct vec vecs[] = {
	{ "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
	  "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a", "",
	  "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e06522490155"
	  "5fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b" },
	{ "4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb",
	  "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c", "72",
	  "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da"
	  "085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00" },
	{ "c5aa8df43f9f837bedb7442f31dcb7b166d38535076f094b85ce3a2e0b4458f7",
	  "fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025", "af82",
	  "6291d657deec24024827e69c3abe01a30ce548a284743a445e3680d7db5ac3ac"
	  "18ff9b538d16f290ae67f760984dc6594a7c15e9716ed28dc027beceea1ec40a" },
};

static size_t unhex(const char *s, uint8_t *out, size_t cap)
{
	size_t n = 0;

	if (fota_hex_bytes(s, strlen(s), "", out, cap, &n))
		abort();
	return n;
}

static void test_sig__rfc8032_vectors(void)
{
	for (size_t i = 0; i < FOTA_ARRAY_SIZE(vecs); i++) {
		uint8_t seed[32], pub[32], msg[8], sig[64], got[64];
		struct sig_pub p;
		size_t mlen;

		unhex(vecs[i].seed, seed, sizeof(seed));
		unhex(vecs[i].pub, pub, sizeof(pub));
		mlen = unhex(vecs[i].msg, msg, sizeof(msg));
		unhex(vecs[i].sig, sig, sizeof(sig));
		T_OK(fota_sig_public(seed, &p));
		T_EQ_MEM(p.key, pub, 32);
		T_OK(fota_sig_sign(seed, msg, mlen, got));
		T_EQ_MEM(got, sig, 64);
		T_TRUE(fota_sig_verify(pub, msg, mlen, sig));
		/* any flipped bit of the message or of the signature: refused */
		msg[0] ^= 1;
		T_TRUE(!fota_sig_verify(pub, msg, mlen ? mlen : 1, sig));
		msg[0] ^= 1;
		for (size_t b = 0; b < 64; b += 13) {
			sig[b] ^= 0x40;
			T_TRUE(!fota_sig_verify(pub, msg, mlen, sig));
			sig[b] ^= 0x40;
		}
		/* under another vector's key: refused */
		unhex(vecs[(i + 1) % FOTA_ARRAY_SIZE(vecs)].pub, pub, sizeof(pub));
		T_TRUE(!fota_sig_verify(pub, msg, mlen, sig));
	}
}

static void test_sig__key_id(void)
{
	struct sig_pub p;

	/* the first 8 bytes of SHA-256 of the raw key: sha256(d75a98...511a) */
	unhex(vecs[0].pub, p.key, 32);
	fota_sig_key_id(&p);
	T_EQ(strlen(p.id), SIG_KEYID_LEN);
	T_EQ_STR(p.id, "21fe31dfa154a261");
}

static void test_sig__key_files(void)
{
	uint8_t seed[32], seed2[32];
	struct sig_pub p, q;
	char pem[1024], why[256], raw[80];

	T_OK(fota_sig_keygen(seed, &p));
	T_OK(fota_sig_pem_private(seed, pem, sizeof(pem)));
	T_TRUE(strstr(pem, "-----BEGIN PRIVATE KEY-----") != NULL);
	T_OK(fota_sig_parse_private(pem, strlen(pem), seed2, why, sizeof(why)));
	T_EQ_MEM(seed, seed2, 32);
	T_OK(fota_sig_pem_public(&p, pem, sizeof(pem)));
	T_TRUE(strstr(pem, "-----BEGIN PUBLIC KEY-----") != NULL);
	T_OK(fota_sig_parse_public(pem, strlen(pem), &q, why, sizeof(why)));
	T_EQ_MEM(p.key, q.key, 32);
	T_EQ_STR(p.id, q.id);

	/* raw: 64 hex digits, white space around */
	snprintf(raw, sizeof(raw), "  %s\n", vecs[1].pub);
	T_OK(fota_sig_parse_public(raw, strlen(raw), &q, why, sizeof(why)));
	T_EQ(q.key[0], 0x3d);
	T_ERR(fota_sig_parse_public(raw, 20, &q, why, sizeof(why)), -EINVAL);
	T_TRUE(strstr(why, "64 hex digits") != NULL);
	/* a public key is not a private key, and the reverse */
	T_ERR(fota_sig_parse_private(pem, strlen(pem), seed2, why, sizeof(why)), -EINVAL);
	T_OK(fota_sig_pem_private(seed, pem, sizeof(pem)));
	T_ERR(fota_sig_parse_public(pem, strlen(pem), &q, why, sizeof(why)), -EINVAL);
	T_ERR(fota_sig_parse_public("-----BEGIN PUBLIC KEY-----\nxx\n", 30, &q, why, sizeof(why)),
	      -EINVAL);
}

#define BODY "id: 1\necu: e\n"

static void test_sig__envelope(void)
{
	uint8_t seed[32];
	struct sig_envelope env;
	char text[1024], line[SIG_LINE_LEN + 1], why[256];

	unhex(vecs[0].seed, seed, 32);
	/* unsigned: all body */
	T_OK(fota_sig_envelope_split(BODY, strlen(BODY), &env, why, sizeof(why)));
	T_EQ(env.n, 0);
	T_EQ(env.body_len, strlen(BODY));

	T_OK(fota_sig_line(seed, BODY, strlen(BODY), line));
	T_EQ(strlen(line), SIG_LINE_LEN);
	snprintf(text, sizeof(text), "%s%s%s", BODY, line, line);
	T_OK(fota_sig_envelope_split(text, strlen(text), &env, why, sizeof(why)));
	T_EQ(env.n, 2);
	T_EQ(env.body_len, strlen(BODY));
	T_EQ_STR(env.e[0].id, "21fe31dfa154a261");
	{
		uint8_t pub[32];

		unhex(vecs[0].pub, pub, 32);
		T_TRUE(fota_sig_verify(pub, BODY, strlen(BODY), env.e[0].sig));
	}

	/* anything after the first signature line that is not one: the whole file refused */
	snprintf(text, sizeof(text), "%s%sextra: 1\n", BODY, line);
	T_ERR(fota_sig_envelope_split(text, strlen(text), &env, why, sizeof(why)), -EBADMSG);
	T_TRUE(strstr(why, "line 4") != NULL);
	/* a signature line without its newline, upper-case hex, a short signature */
	snprintf(text, sizeof(text), "%s%.*s", BODY, (int)SIG_LINE_LEN - 1, line);
	T_ERR(fota_sig_envelope_split(text, strlen(text), &env, why, sizeof(why)), -EBADMSG);
	snprintf(text, sizeof(text), "%s%s", BODY, line);
	text[strlen(BODY) + 20] = 'A';
	T_ERR(fota_sig_envelope_split(text, strlen(text), &env, why, sizeof(why)), -EBADMSG);
	snprintf(text, sizeof(text), "%s#fota-sig ed25519 21fe31dfa154a261 00\n", BODY);
	T_ERR(fota_sig_envelope_split(text, strlen(text), &env, why, sizeof(why)), -EBADMSG);
	/* the tag at the start of the file: an empty body */
	T_OK(fota_sig_envelope_split(line, strlen(line), &env, why, sizeof(why)));
	T_EQ(env.body_len, 0);
}

/* A trust of the three vector keys, named a, b, c. */
static void trust3(struct sig_trust *t, unsigned threshold)
{
	memset(t, 0, sizeof(*t));
	for (size_t i = 0; i < 3; i++) {
		unhex(vecs[i].pub, t->keys[i].key, 32);
		fota_sig_key_id(&t->keys[i]);
		snprintf(t->names[i], sizeof(t->names[i]), "%c", (char)('a' + i));
	}
	t->nkeys = 3;
	t->threshold = threshold;
	t->require_signature = true;
}

static enum sig_result check(const struct sig_trust *t, uint32_t allowed, const char *body,
			     const int *signers, size_t n, char *why)
{
	char text[2048] = "", line[SIG_LINE_LEN + 1];
	struct sig_envelope env;
	uint8_t seed[32];

	snprintf(text, sizeof(text), "%s", body);
	for (size_t i = 0; i < n; i++) {
		if (signers[i] < 0) { /* a key nobody trusts */
			memset(seed, 0x5a, 32);
		} else {
			unhex(vecs[signers[i]].seed, seed, 32);
		}
		T_OK(fota_sig_line(seed, BODY, strlen(BODY), line));
		strcat(text, line);
	}
	T_OK(fota_sig_envelope_split(text, strlen(text), &env, why, 256));
	return fota_sig_check(t, allowed, text, env.body_len, &env, why, 256);
}

static void test_sig__policy(void)
{
	struct sig_trust t;
	char why[256];

	trust3(&t, 1);
	T_EQ(check(&t, ~0u, BODY, NULL, 0, why), SIG_UNSIGNED);
	T_EQ(check(&t, ~0u, BODY, (int[]){ 0 }, 1, why), SIG_OK);
	T_EQ(check(&t, ~0u, BODY, (int[]){ -1 }, 1, why), SIG_UNKNOWN_KEY);
	T_TRUE(strstr(why, "unknown key") != NULL);
	/* a signature over other bytes (the body changed after signing) */
	T_EQ(check(&t, ~0u, "id: 2\necu: e\n", (int[]){ 1 }, 1, why), SIG_BAD);
	T_TRUE(strstr(why, "bad signature") && strstr(why, t.keys[1].id) && strstr(why, "(b)"));
	/* a bad one refuses even when a good one is there */
	T_EQ(check(&t, ~0u, "id: 2\necu: e\n", (int[]){ -1, 1 }, 2, why), SIG_BAD);

	trust3(&t, 2);
	T_EQ(check(&t, ~0u, BODY, (int[]){ 0 }, 1, why), SIG_THRESHOLD);
	T_TRUE(strstr(why, "1 of the 2") != NULL);
	/* the same key twice is one key */
	T_EQ(check(&t, ~0u, BODY, (int[]){ 2, 2 }, 2, why), SIG_THRESHOLD);
	T_EQ(check(&t, ~0u, BODY, (int[]){ 2, -1, 0 }, 3, why), SIG_OK);
	/* per ECU: only keys a and b may sign; c's signature counts for nothing */
	T_EQ(check(&t, 3u, BODY, (int[]){ 2, 0 }, 2, why), SIG_THRESHOLD);
	T_EQ(check(&t, 3u, BODY, (int[]){ 1, 0 }, 2, why), SIG_OK);
	T_EQ(check(&t, 1u, BODY, (int[]){ 2 }, 1, why), SIG_UNKNOWN_KEY);
	T_TRUE(strstr(why, "for this ECU") != NULL);
	T_EQ_STR(fota_sig_result_code(SIG_THRESHOLD), "threshold_not_met");
}

static const struct t_case cases[] = {
	T_CASE(sig__rfc8032_vectors), T_CASE(sig__key_id), T_CASE(sig__key_files),
	T_CASE(sig__envelope),	      T_CASE(sig__policy),
};

int main(void)
{
	return t_main(cases, FOTA_ARRAY_SIZE(cases));
}
