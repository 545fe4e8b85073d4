// SPDX-License-Identifier: MIT
/*
 * SecurityAccess (ISO 14229-1 §10.4, service 0x27) seed -> key algorithms,
 * chosen by a spec string:
 *   xor:HEX             key = seed XOR mask (mask repeated over the seed); benches
 *   cmd:PATH            run PATH (no shell) with argv SEEDHEX LEVEL; the key is
 *                       the hex on its stdout; killed after timeout_ms
 *   lib:PATH[:SYMBOL]   dlopen PATH and call SYMBOL (default GenerateKeyEx) with
 *                       the usual vendor signature (see uds_generate_key_ex_fn)
 * Seeds and keys are 1..UDS_KEY_MAX bytes. Nothing here logs a key or a seed.
 */
#ifndef FOTA_UDS_KEY_H
#define FOTA_UDS_KEY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define UDS_KEY_MAX	       256  /* longest seed, key or xor mask, bytes */
#define UDS_KEY_PATH_MAX       1024 /* longest cmd:/lib: path, NUL included */
#define UDS_KEY_SYMBOL_MAX     128  /* longest lib: symbol, NUL included */
#define UDS_KEY_TIMEOUT_MS_DEF 5000 /* cmd: default time limit */

enum uds_key_kind {
	UDS_KEY_XOR = 1,
	UDS_KEY_CMD = 2,
	UDS_KEY_LIB = 3,
};

/* A parsed spec: plain data, may be copied; nothing to release. */
struct uds_key {
	enum uds_key_kind kind;
	uint8_t mask[UDS_KEY_MAX];	 /* xor: the mask */
	size_t mask_len;		 /* xor: 1..UDS_KEY_MAX */
	char path[UDS_KEY_PATH_MAX];	 /* cmd:, lib: */
	char symbol[UDS_KEY_SYMBOL_MAX]; /* lib: entry point, default "GenerateKeyEx" */
	unsigned timeout_ms;		 /* cmd: kill the command after this (default 5000) */
	char variant[64];		 /* lib: iVariant argument (default "") */
};

/*
 * The industry's usual entry point (Vector's seed/key DLL interface): returns
 * 0 on success and writes *oActualKeyArraySize bytes to ioKeyArray.
 */
typedef int (*uds_generate_key_ex_fn)(const unsigned char *iSeedArray, unsigned int iSeedArraySize,
				      const unsigned int iSecurityLevel, const char *iVariant,
				      unsigned char *ioKeyArray, unsigned int iMaxKeyArraySize,
				      unsigned int *oActualKeyArraySize);

/*
 * Parse SPEC into *key (zeroed first; timeout_ms = 5000). Does not touch the
 * file system: a missing program or library is found at compute time.
 * Returns 0, or -EINVAL with a one-line reason in err (if err is not NULL),
 * e.g. "xor mask: odd number of hex digits". Never quotes the mask back.
 */
int uds_key_parse(const char *spec, struct uds_key *key, char *err, size_t errsize);

/*
 * Compute the key for SEED at security LEVEL (the requestSeed sub-function,
 * odd). Writes *out_len (1..cap) bytes to out. Blocks for cmd: (up to
 * timeout_ms) and for lib: (as long as the library takes).
 *   -EINVAL     seed_len 0 or above UDS_KEY_MAX
 *   -ENOENT     cmd:/lib: file missing (or not executable: -EACCES)
 *   -ELIBBAD    lib: cannot be loaded or has no such symbol
 *   -ETIMEDOUT  cmd: did not finish in time (it was killed)
 *   -EPROTO     cmd: exited non-zero, died, or printed no valid hex key;
 *               lib: returned non-zero or an empty key
 *   -EMSGSIZE   the key does not fit in cap bytes
 * The detail variant also writes a one-line reason (never key or seed bytes).
 */
int uds_key_compute(const struct uds_key *key, unsigned level, const uint8_t *seed, size_t seed_len,
		    uint8_t *out, size_t cap, size_t *out_len);
int uds_key_compute_detail(const struct uds_key *key, unsigned level, const uint8_t *seed,
			   size_t seed_len, uint8_t *out, size_t cap, size_t *out_len, char *err,
			   size_t errsize);

/*
 * ISO 14229-1 §10.4.2: a seed of all zero bytes means the level is already
 * unlocked and no key is sent. An empty seed is not "zero".
 */
bool uds_seed_is_zero(const uint8_t *seed, size_t len);

/* "xor", "cmd", "lib" (for messages). */
const char *uds_key_kind_name(enum uds_key_kind kind);

#endif
