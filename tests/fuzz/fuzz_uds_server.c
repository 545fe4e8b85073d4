// SPDX-License-Identifier: MIT
/*
 * libFuzzer target for uds/server.c (the simulated ECU behind `fota ecu`):
 * arbitrary request PDUs with time jumps in between, every answer also fed
 * to a uds_client waiting on the same service. Invariants: no crash or
 * sanitizer report, every answer non-empty and either 7F <sid> <nrc> or the
 * request's SID + 0x40, gaps between regions never written, deadlines not in
 * the past once the output is drained.
 *
 * Input: 1 config byte (fault knobs), then records <len> <dt ms> <pdu...>.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "uds/client.h"
#include "uds/server.h"

static const struct uds_region regions[] = {
	{ 0x00001000, 0x200 }, { 0x00001400, 0x100 }, /* gap 0x1200-0x13FF must stay 0xFF */
};

static const uint8_t vin[] = "FUZZVIN0123456789";
static const struct uds_did dids[] = { { UDS_DID_VIN, vin, 17, true } };

static int key_xor(void *ctx, uint8_t level, const uint8_t *seed, size_t n, uint8_t *key,
		   size_t cap, size_t *klen)
{
	for (size_t i = 0; i < n; i++)
		key[i] = seed[i] ^ 0x5A;
	*klen = n;
	return 0;
}

static void check(int cond)
{
	if (!cond)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct uds_server_cfg cfg = {
		.regions = regions,
		.nregions = 2,
		.max_block_len = 34,
		.security_level = 0x01,
		.compute_key = key_xor,
		.seed_of_seeds = 1,
		.seed_len = 2,
		.dids = dids,
		.ndids = 1,
		.erase_pending = 1,
	};
	struct uds_client client;
	struct uds_server *s;
	fota_us now = FOTA_SEC(1);
	const uint8_t *mem;
	uint32_t base;
	size_t span;

	if (size < 1)
		return 0;
	cfg.faults.accept_wrong_bsc = data[0] & 1;
	cfg.faults.bsc_skip_nth = (data[0] >> 1) & 3;
	cfg.faults.reset_nth_transfer = (data[0] >> 3) & 3;
	cfg.faults.drop_nth = (data[0] >> 5) & 1;
	cfg.faults.delay_ms = (data[0] >> 6) * 20u;
	data++;
	size--;
	if (uds_server_new(&s, &cfg))
		abort();
	uds_client_init(&client, NULL);
	while (size >= 2) {
		size_t len = data[0], dt = data[1];
		const uint8_t *pdu;
		size_t olen;

		data += 2;
		size -= 2;
		if (len > size)
			len = size;
		now += FOTA_MS(dt * 10);
		uds_server_tick(s, now);
		uds_client_tick(&client, now);
		if (len) {
			/* The client only arms its timers and matching; the PDU is ours. */
			if (uds_client_idle(&client))
				uds_client_start(&client, data, len, now);
			uds_client_output(&client, &pdu, &olen, now);
			uds_server_input(s, data, len, now);
		}
		for (int guard = 0; guard < 64; guard++) {
			fota_us d = uds_server_deadline(s);

			if (uds_server_output(s, &pdu, &olen, now) == 1) {
				check(olen >= 1);
				if (pdu[0] == UDS_SID_NEGATIVE_RESPONSE)
					check(olen == 3 && len && pdu[1] == data[0]);
				else
					check(len && pdu[0] == (uint8_t)(data[0] + 0x40));
				uds_client_input(&client, pdu, olen, now);
				continue;
			}
			if (d == FOTA_NEVER || d > now + FOTA_SEC(2))
				break;
			check(d >= now || d == 0);
			now = d > now ? d : now;
			uds_server_tick(s, now);
		}
		data += len;
		size -= len;
	}
	mem = uds_server_memory(s, &base, &span);
	check(base == 0x1000 && span == 0x500);
	for (size_t i = 0x200; i < 0x400; i++)
		check(mem[i] == 0xFF);
	uds_server_free(s);
	return 0;
}
