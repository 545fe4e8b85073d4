// SPDX-License-Identifier: MIT
/*
 * libFuzzer target: a signed update request (core/sig.h envelope, then the
 * request parser over its body, then the k-of-n policy) is outside input.
 * Any bytes must split or fail with a reason, never crash or leak; a split
 * must be consistent (the body is a prefix, every signature line accounted
 * for), and the policy must answer without a trusted signature over these
 * exact bytes only what a forger could get: never SIG_OK.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "core/request.h"
#include "core/sig.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct sig_trust t;
	struct sig_envelope env;
	struct cfg_request req;
	struct cfg_error err;
	const char *text = (const char *)data;
	char why[256];

	if (!t.nkeys) {
		/* RFC 8032 §7.1 TEST 1's public key: nobody fuzzing has its seed in the input */
		static const uint8_t pub[32] = {
			0xd7, 0x5a, 0x98, 0x01, 0x82, 0xb1, 0x0a, 0xb7, 0xd5, 0x4b, 0xfe,
			0xd3, 0xc9, 0x64, 0x07, 0x3a, 0x0e, 0xe1, 0x72, 0xf3, 0xda, 0xa6,
			0x23, 0x25, 0xaf, 0x02, 0x1a, 0x68, 0xf7, 0x07, 0x51, 0x1a,
		};

		memcpy(t.keys[0].key, pub, 32);
		fota_sig_key_id(&t.keys[0]);
		t.nkeys = 1;
		t.threshold = 1;
		t.require_signature = true;
	}
	if (fota_sig_envelope_split(text, size, &env, why, sizeof(why))) {
		if (env.n || env.body_len != size || !why[0])
			abort();
		return 0;
	}
	if (env.body_len > size || env.n > SIG_MAX || size - env.body_len != env.n * SIG_LINE_LEN)
		abort();
	if (env.n && memcmp(text + env.body_len, SIG_LINE_TAG, sizeof(SIG_LINE_TAG) - 1))
		abort();
	if (cfg_load_request_string(text, env.body_len, "in/fuzz.yaml", &req, &err) == 0 &&
	    !cfg_uuid_v4_ok(req.id))
		abort();
	/* a fuzzer cannot forge TEST 1's key: the empty body is the one message it signed */
	if (fota_sig_check(&t, ~0u, text, env.body_len, &env, why, sizeof(why)) == SIG_OK &&
	    env.body_len != 0)
		abort();
	return 0;
}
