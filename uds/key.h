// SPDX-License-Identifier: MIT
/*
 * SecurityAccess (ISO 14229-1 §10.4, service 0x27): the key for a seed, by
 * the algorithm of a parsed key spec (struct cfg_key, core/config.h: xor:,
 * cmd:, lib:). Seeds and keys are 1..UDS_KEY_MAX bytes. Nothing here logs a
 * key or a seed.
 */
#ifndef FOTA_UDS_KEY_H
#define FOTA_UDS_KEY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "core/config.h"

#define UDS_KEY_MAX 256 /* longest seed or key, bytes */

/*
 * The industry's usual entry point (Vector's seed/key DLL interface): returns
 * 0 on success and writes *oActualKeyArraySize bytes to ioKeyArray.
 */
typedef int (*uds_generate_key_ex_fn)(const unsigned char *iSeedArray, unsigned int iSeedArraySize,
				      const unsigned int iSecurityLevel, const char *iVariant,
				      unsigned char *ioKeyArray, unsigned int iMaxKeyArraySize,
				      unsigned int *oActualKeyArraySize);

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
int uds_key_compute(const struct cfg_key *key, unsigned level, const uint8_t *seed, size_t seed_len,
		    uint8_t *out, size_t cap, size_t *out_len);
int uds_key_compute_detail(const struct cfg_key *key, unsigned level, const uint8_t *seed,
			   size_t seed_len, uint8_t *out, size_t cap, size_t *out_len, char *err,
			   size_t errsize);

/*
 * ISO 14229-1 §10.4.2: a seed of all zero bytes means the level is already
 * unlocked and no key is sent. An empty seed is not "zero".
 */
bool uds_seed_is_zero(const uint8_t *seed, size_t len);

#endif
