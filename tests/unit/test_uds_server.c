// SPDX-License-Identifier: MIT
/*
 * The simulated ECU (uds/server.c) request by request: sessions and S3,
 * SecurityAccess attempts and delay, download checks, block counter rules,
 * identification DIDs, and the memory file.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>
#include "tests/unit/t.h"
#include "uds/server.h"

#define T0 FOTA_SEC(50)

static int key_plus1(void *ctx, uint8_t level, const uint8_t *seed, size_t n, uint8_t *key,
		     size_t cap, size_t *klen)
{
	for (size_t i = 0; i < n; i++)
		key[i] = (uint8_t)(seed[i] + 1);
	*klen = n;
	return 0;
}

static const struct uds_region region = { 0x1000, 0x400 };
static const uint8_t vin[] = "WDB1234567890ABCD";
static const struct uds_did dids[] = { { UDS_DID_VIN, vin, 17, false } };

static struct uds_server *ecu(const struct uds_server_faults *f)
{
	struct uds_server *s;
	struct uds_server_cfg c = {
		.regions = &region,
		.nregions = 1,
		.max_block_len = 18,
		.security_level = 0x01,
		.compute_key = key_plus1,
		.seed_of_seeds = 7,
		.dids = dids,
		.ndids = 1,
	};

	if (f)
		c.faults = *f;
	T_OK(uds_server_new(&s, &c));
	return s;
}

/* Send a request; return the answer's length (0 = none) and copy it to out. */
static size_t req(struct uds_server *s, fota_us now, uint8_t *out, size_t n, ...)
{
	uint8_t r[64];
	const uint8_t *pdu;
	size_t len = 0;
	va_list ap;

	va_start(ap, n);
	for (size_t i = 0; i < n; i++)
		r[i] = (uint8_t)va_arg(ap, int);
	va_end(ap);
	uds_server_input(s, r, n, now);
	if (!uds_server_output(s, &pdu, &len, now))
		return 0;
	memcpy(out, pdu, len);
	return len;
}

#define NRC_IS(len, out, sid, nrc)    \
	do {                          \
		T_EQ(len, 3);         \
		T_EQ((out)[0], 0x7F); \
		T_EQ((out)[1], sid);  \
		T_EQ((out)[2], nrc);  \
	} while (0)

static void unlock(struct uds_server *s, fota_us now)
{
	uint8_t o[64];

	T_EQ(req(s, now, o, 2, 0x10, 0x02), 6);
	T_EQ(req(s, now, o, 2, 0x27, 0x01), 6);
	T_EQ(req(s, now, o, 6, 0x27, 0x02, o[2] + 1, o[3] + 1, o[4] + 1, o[5] + 1), 2);
	T_TRUE(uds_server_unlocked(s));
}

static void test_uds_server__security_attempts_and_delay(void)
{
	struct uds_server *s = ecu(NULL);
	uint8_t o[64];
	size_t n;

	n = req(s, T0, o, 2, 0x27, 0x01);
	NRC_IS(n, o, 0x27, UDS_NRC_SERVICE_NOT_SUPPORTED_IN_ACTIVE_SESSION);
	T_EQ(req(s, T0, o, 2, 0x10, 0x03), 6);
	n = req(s, T0, o, 3, 0x27, 0x02, 0x00);
	NRC_IS(n, o, 0x27, UDS_NRC_REQUEST_SEQUENCE_ERROR); /* no seed yet */
	for (int i = 0; i < 2; i++) {
		T_EQ(req(s, T0, o, 2, 0x27, 0x01), 6);
		n = req(s, T0, o, 6, 0x27, 0x02, 0, 0, 0, 0);
		NRC_IS(n, o, 0x27, UDS_NRC_INVALID_KEY);
	}
	T_EQ(req(s, T0, o, 2, 0x27, 0x01), 6);
	n = req(s, T0, o, 6, 0x27, 0x02, 0, 0, 0, 0);
	NRC_IS(n, o, 0x27, UDS_NRC_EXCEEDED_NUMBER_OF_ATTEMPTS);
	n = req(s, T0 + FOTA_MS(9999), o, 2, 0x27, 0x01);
	NRC_IS(n, o, 0x27, UDS_NRC_REQUIRED_TIME_DELAY_NOT_EXPIRED);
	/* After the delay a right key unlocks; then the seed is all zero. */
	T_EQ(req(s, T0 + FOTA_MS(10000), o, 2, 0x27, 0x01), 6);
	T_TRUE(o[2] | o[3] | o[4] | o[5]);
	T_EQ(req(s, T0 + FOTA_MS(10000), o, 6, 0x27, 0x02, o[2] + 1, o[3] + 1, o[4] + 1, o[5] + 1),
	     2);
	T_EQ(o[0], 0x67);
	T_EQ(req(s, T0 + FOTA_MS(10000), o, 2, 0x27, 0x01), 6);
	T_EQ(o[2] | o[3] | o[4] | o[5], 0);
	uds_server_free(s);
}

static void test_uds_server__seeds_are_reproducible(void)
{
	struct uds_server *a = ecu(NULL), *b = ecu(NULL);
	uint8_t oa[64], ob[64];

	req(a, T0, oa, 2, 0x10, 0x02);
	req(b, T0, ob, 2, 0x10, 0x02);
	T_EQ(req(a, T0, oa, 2, 0x27, 0x01), 6);
	T_EQ(req(b, T0, ob, 2, 0x27, 0x01), 6);
	T_EQ_MEM(oa, ob, 6);
	uds_server_free(a);
	uds_server_free(b);
}

static void test_uds_server__s3_timeout_returns_to_default(void)
{
	struct uds_server *s = ecu(NULL);
	uint8_t o[64];

	unlock(s, T0);
	T_EQ_U64(uds_server_deadline(s), T0 + FOTA_MS(5000));
	T_EQ(req(s, T0 + FOTA_MS(4000), o, 2, 0x3E, 0x80), 0); /* suppressed, restarts S3 */
	uds_server_tick(s, T0 + FOTA_MS(8999));
	T_EQ(uds_server_session(s), UDS_SESSION_PROGRAMMING);
	uds_server_tick(s, T0 + FOTA_MS(9000));
	T_EQ(uds_server_session(s), UDS_SESSION_DEFAULT);
	T_TRUE(!uds_server_unlocked(s));
	uds_server_free(s);
}

static void test_uds_server__request_download_checks(void)
{
	struct uds_server *s = ecu(NULL);
	uint8_t o[64];
	size_t n;

	n = req(s, T0, o, 11, 0x34, 0, 0x44, 0, 0, 0x10, 0, 0, 0, 0, 0x10);
	NRC_IS(n, o, 0x34, UDS_NRC_SERVICE_NOT_SUPPORTED_IN_ACTIVE_SESSION); /* default session */
	req(s, T0, o, 2, 0x10, 0x02);
	n = req(s, T0, o, 11, 0x34, 0, 0x44, 0, 0, 0x10, 0, 0, 0, 0, 0x10);
	NRC_IS(n, o, 0x34, UDS_NRC_SECURITY_ACCESS_DENIED);
	unlock(s, T0);
	n = req(s, T0, o, 11, 0x34, 0, 0x44, 0, 0, 0x13, 0xF0, 0, 0, 0, 0x20);
	NRC_IS(n, o, 0x34, UDS_NRC_REQUEST_OUT_OF_RANGE); /* past the region end */
	n = req(s, T0, o, 10, 0x34, 0, 0x44, 0, 0, 0x10, 0, 0, 0, 0);
	NRC_IS(n, o, 0x34, UDS_NRC_INCORRECT_MESSAGE_LENGTH_OR_INVALID_FORMAT);
	n = req(s, T0, o, 11, 0x34, 0, 0x44, 0, 0, 0x10, 0, 0, 0, 0, 0x10);
	T_EQ(n, 4);
	T_EQ(o[0], 0x74);
	T_EQ(o[1], 0x20);
	T_EQ(uds_get_be(o + 2, 2), 18);
	n = req(s, T0, o, 11, 0x34, 0, 0x44, 0, 0, 0x11, 0, 0, 0, 0, 0x10);
	NRC_IS(n, o, 0x34, UDS_NRC_CONDITIONS_NOT_CORRECT); /* one already active */
	uds_server_free(s);
}

static void test_uds_server__block_counter_rules(void)
{
	struct uds_server *s = ecu(NULL);
	const uint8_t *mem;
	uint8_t o[64];
	size_t n;
	uint32_t base;

	unlock(s, T0);
	T_EQ(req(s, T0, o, 11, 0x34, 0, 0x44, 0, 0, 0x10, 0, 0, 0, 0, 0x06), 4);
	n = req(s, T0, o, 4, 0x36, 0x02, 0xAA, 0xBB);
	NRC_IS(n, o, 0x36, UDS_NRC_WRONG_BLOCK_SEQUENCE_COUNTER);
	T_EQ(req(s, T0, o, 4, 0x36, 0x01, 0xAA, 0xBB), 2);
	T_EQ(o[1], 0x01);
	/* The same block again: acknowledged, not written a second time. */
	T_EQ(req(s, T0, o, 4, 0x36, 0x01, 0xAA, 0xBB), 2);
	n = req(s, T0, o, 1, 0x37);
	NRC_IS(n, o, 0x37, UDS_NRC_REQUEST_SEQUENCE_ERROR); /* 2 of 6 bytes */
	T_EQ(req(s, T0, o, 4, 0x36, 0x02, 0xCC, 0xDD), 2);
	n = req(s, T0, o, 5, 0x36, 0x03, 1, 2, 3);
	NRC_IS(n, o, 0x36, UDS_NRC_TRANSFER_DATA_SUSPENDED); /* 3 bytes, 2 left */
	T_EQ(req(s, T0, o, 4, 0x36, 0x03, 0xEE, 0xFF), 2);
	T_EQ(req(s, T0, o, 1, 0x37), 1);
	T_EQ(o[0], 0x77);
	mem = uds_server_memory(s, &base, NULL);
	T_EQ(base, 0x1000);
	T_EQ_MEM(mem, "\xAA\xBB\xCC\xDD\xEE\xFF\xFF", 7);
	n = req(s, T0, o, 4, 0x36, 0x04, 1, 2);
	NRC_IS(n, o, 0x36, UDS_NRC_REQUEST_SEQUENCE_ERROR);
	uds_server_free(s);
}

static void test_uds_server__transfer_longer_than_block_length(void)
{
	struct uds_server *s = ecu(NULL);
	uint8_t o[64], r[19] = { 0x36, 0x01 };
	const uint8_t *pdu;
	size_t len;

	unlock(s, T0);
	T_EQ(req(s, T0, o, 11, 0x34, 0, 0x44, 0, 0, 0x10, 0, 0, 0, 0, 0x40), 4);
	uds_server_input(s, r, sizeof(r), T0); /* 19 > maxNumberOfBlockLength 18 */
	T_EQ(uds_server_output(s, &pdu, &len, T0), 1);
	NRC_IS(len, pdu, 0x36, UDS_NRC_INCORRECT_MESSAGE_LENGTH_OR_INVALID_FORMAT);
	uds_server_free(s);
}

static void test_uds_server__identification_dids(void)
{
	struct uds_server *s = ecu(NULL);
	uint8_t o[64];
	size_t n;

	n = req(s, T0, o, 3, 0x22, 0xF1, 0x90);
	T_EQ(n, 3 + 17);
	T_EQ_MEM(o, "\x62\xF1\x90WDB1234567890ABCD", 20);
	n = req(s, T0, o, 5, 0x22, 0xF1, 0x86, 0xF1, 0x90);
	T_EQ(n, 1 + 3 + 2 + 17);
	T_EQ(o[3], UDS_SESSION_DEFAULT);
	n = req(s, T0, o, 3, 0x22, 0xF1, 0x87);
	NRC_IS(n, o, 0x22, UDS_NRC_REQUEST_OUT_OF_RANGE);
	n = req(s, T0, o, 2, 0x22, 0xF1);
	NRC_IS(n, o, 0x22, UDS_NRC_INCORRECT_MESSAGE_LENGTH_OR_INVALID_FORMAT);
	uds_server_free(s);
}

static const uint8_t fp0[9] = { 0 };

static struct uds_server *ecu_rw(unsigned max_dids, bool extended)
{
	static const uint8_t sw[] = "1.0";
	const struct uds_did d[] = {
		{ UDS_DID_VIN, vin, 17, false },
		{ 0xF189, sw, 3, false },
		{ 0xF15A, fp0, sizeof(fp0), true },
	};
	struct uds_server *s;
	struct uds_server_cfg c = {
		.regions = &region,
		.nregions = 1,
		.security_level = 0x01,
		.compute_key = key_plus1,
		.seed_of_seeds = 7,
		.dids = d,
		.ndids = 3,
		.max_dids = max_dids,
		.did_write_extended = extended,
	};

	T_OK(uds_server_new(&s, &c));
	return s;
}

/* ISO 14229-1 §10.2: several DIDs, the supported ones in request order, the rest left out. */
static void test_uds_server__rdbi_several_dids(void)
{
	struct uds_server *s = ecu_rw(0, false);
	uint8_t o[64];
	size_t n;

	n = req(s, T0, o, 7, 0x22, 0xF1, 0x87, 0xF1, 0x89, 0xF1, 0x90);
	T_EQ(n, 1 + 2 + 3 + 2 + 17);
	T_EQ_MEM(o,
		 "\x62\xF1\x89"
		 "1.0\xF1\x90WDB1234567890ABCD",
		 25);
	n = req(s, T0, o, 5, 0x22, 0xF1, 0x87, 0xF1, 0x88);
	NRC_IS(n, o, 0x22, UDS_NRC_REQUEST_OUT_OF_RANGE); /* none supported */
	n = req(s, T0, o, 4, 0x22, 0xF1, 0x89, 0xF1);
	NRC_IS(n, o, 0x22, UDS_NRC_INCORRECT_MESSAGE_LENGTH_OR_INVALID_FORMAT);
	uds_server_free(s);

	/* One DID per request: a second one is a malformed request (§10.2.4). */
	s = ecu_rw(1, false);
	n = req(s, T0, o, 5, 0x22, 0xF1, 0x89, 0xF1, 0x90);
	NRC_IS(n, o, 0x22, UDS_NRC_INCORRECT_MESSAGE_LENGTH_OR_INVALID_FORMAT);
	T_EQ(req(s, T0, o, 3, 0x22, 0xF1, 0x89), 6);
	uds_server_free(s);
}

/* ISO 14229-1 §10.7: WriteDataByIdentifier needs the unlocked programming session. */
static void test_uds_server__wdbi_rules(void)
{
	struct uds_server *s = ecu_rw(0, false);
	uint8_t o[64];
	const uint8_t *v;
	size_t n, vl;

	n = req(s, T0, o, 12, 0x2E, 0xF1, 0x5A, 1, 2, 3, 4, 5, 6, 7, 8, 9);
	NRC_IS(n, o, 0x2E, UDS_NRC_SERVICE_NOT_SUPPORTED_IN_ACTIVE_SESSION);
	T_EQ(req(s, T0, o, 2, 0x10, 0x03), 6);
	n = req(s, T0, o, 12, 0x2E, 0xF1, 0x5A, 1, 2, 3, 4, 5, 6, 7, 8, 9);
	NRC_IS(n, o, 0x2E, UDS_NRC_REQUEST_OUT_OF_RANGE); /* not in the extended session */
	T_EQ(req(s, T0, o, 2, 0x10, 0x02), 6);
	n = req(s, T0, o, 12, 0x2E, 0xF1, 0x5A, 1, 2, 3, 4, 5, 6, 7, 8, 9);
	NRC_IS(n, o, 0x2E, UDS_NRC_SECURITY_ACCESS_DENIED);
	unlock(s, T0);
	n = req(s, T0, o, 3, 0x2E, 0xF1, 0x5A);
	NRC_IS(n, o, 0x2E, UDS_NRC_INCORRECT_MESSAGE_LENGTH_OR_INVALID_FORMAT);
	n = req(s, T0, o, 4, 0x2E, 0xF1, 0x89, '2');
	NRC_IS(n, o, 0x2E, UDS_NRC_REQUEST_OUT_OF_RANGE); /* read-only */
	n = req(s, T0, o, 5, 0x2E, 0xF1, 0x5A, 1, 2);
	NRC_IS(n, o, 0x2E, UDS_NRC_INCORRECT_MESSAGE_LENGTH_OR_INVALID_FORMAT);
	v = uds_server_did(s, 0xF15A, &vl);
	T_EQ(vl, 9);
	T_EQ_MEM(v, fp0, 9);
	n = req(s, T0, o, 12, 0x2E, 0xF1, 0x5A, 1, 2, 3, 4, 5, 6, 7, 8, 9);
	T_EQ(n, 3);
	T_EQ_MEM(o, "\x6E\xF1\x5A", 3);
	T_EQ_MEM(uds_server_did(s, 0xF15A, &vl), "\x01\x02\x03\x04\x05\x06\x07\x08\x09", 9);
	n = req(s, T0, o, 3, 0x22, 0xF1, 0x5A);
	T_EQ(n, 12);
	T_EQ(o[11], 9);
	uds_server_free(s);

	/* did_write_extended: also in the extended session, still unlocked only. */
	s = ecu_rw(0, true);
	T_EQ(req(s, T0, o, 2, 0x10, 0x03), 6);
	n = req(s, T0, o, 12, 0x2E, 0xF1, 0x5A, 1, 2, 3, 4, 5, 6, 7, 8, 9);
	NRC_IS(n, o, 0x2E, UDS_NRC_SECURITY_ACCESS_DENIED);
	T_EQ(req(s, T0, o, 2, 0x27, 0x01), 6);
	T_EQ(req(s, T0, o, 6, 0x27, 0x02, o[2] + 1, o[3] + 1, o[4] + 1, o[5] + 1), 2);
	T_EQ(req(s, T0, o, 12, 0x2E, 0xF1, 0x5A, 1, 2, 3, 4, 5, 6, 7, 8, 9), 3);
	uds_server_free(s);
}

static void test_uds_server__misc_services(void)
{
	struct uds_server *s = ecu(NULL);
	uint8_t o[64];
	size_t n;

	n = req(s, T0, o, 1, 0x99);
	NRC_IS(n, o, 0x99, UDS_NRC_SERVICE_NOT_SUPPORTED);
	n = req(s, T0, o, 2, 0x10, 0x05);
	NRC_IS(n, o, 0x10, UDS_NRC_SUB_FUNCTION_NOT_SUPPORTED);
	n = req(s, T0, o, 2, 0x85, 0x02);
	NRC_IS(n, o, 0x85, UDS_NRC_SERVICE_NOT_SUPPORTED_IN_ACTIVE_SESSION);
	T_EQ(req(s, T0, o, 2, 0x10, 0x83), 0); /* suppressed positive response */
	T_EQ(uds_server_session(s), UDS_SESSION_EXTENDED);
	T_EQ(req(s, T0, o, 2, 0x85, 0x02), 2);
	T_EQ(o[0], 0xC5);
	T_EQ(req(s, T0, o, 3, 0x28, 0x03, 0x01), 2);
	T_EQ(o[0], 0x68);
	T_EQ(req(s, T0, o, 2, 0x3E, 0x00), 2);
	T_EQ(o[0], 0x7E);
	T_EQ(req(s, T0, o, 2, 0x11, 0x01), 2);
	T_EQ(o[0], 0x51);
	T_EQ(uds_server_session(s), UDS_SESSION_DEFAULT);
	T_EQ(uds_server_resets(s), 1);
	uds_server_free(s);
}

static void test_uds_server__faults_pending_delay_busy(void)
{
	struct uds_server_faults f = {
		.pending_sid = 0x3E,
		.pending_count = 2,
		.delay_ms = 30,
	};
	struct uds_server *s = ecu(&f);
	static const uint8_t tp[] = { 0x3E, 0x00 };
	const uint8_t *pdu;
	size_t len;

	uds_server_input(s, tp, 2, T0);
	T_EQ(uds_server_output(s, &pdu, &len, T0 + FOTA_MS(29)), 0);
	T_EQ_U64(uds_server_deadline(s), T0 + FOTA_MS(30));
	T_EQ(uds_server_output(s, &pdu, &len, T0 + FOTA_MS(30)), 1);
	NRC_IS(len, pdu, 0x3E, 0x78);
	uds_server_input(s, tp, 2, T0 + FOTA_MS(40)); /* still working */
	T_EQ(uds_server_output(s, &pdu, &len, T0 + FOTA_MS(40)), 1);
	NRC_IS(len, pdu, 0x3E, UDS_NRC_BUSY_REPEAT_REQUEST);
	T_EQ(uds_server_output(s, &pdu, &len, T0 + FOTA_MS(1030)), 1);
	NRC_IS(len, pdu, 0x3E, 0x78);
	T_EQ(uds_server_output(s, &pdu, &len, T0 + FOTA_MS(2030)), 1);
	T_EQ(len, 2);
	T_EQ(pdu[0], 0x7E);
	uds_server_free(s);
}

static void test_uds_server__bootloader_switch_required(void)
{
	struct uds_server *s;
	struct uds_server_cfg c = { .regions = &region, .nregions = 1, .require_bootloader = true };
	uint8_t o[64];
	size_t n;

	T_OK(uds_server_new(&s, &c));
	T_TRUE(!uds_server_in_bootloader(s));
	n = req(s, T0, o, 2, 0x10, 0x02);
	NRC_IS(n, o, 0x10, UDS_NRC_CONDITIONS_NOT_CORRECT);
	uds_server_enter_bootloader(s, T0);
	T_EQ(req(s, T0, o, 2, 0x10, 0x02), 6);
	uds_server_free(s);
}

static void test_uds_server__bad_configs(void)
{
	struct uds_server *s;
	struct uds_region two[] = { { 0x1000, 0x100 }, { 0x10F0, 0x100 } };
	struct uds_server_cfg c = { .regions = two, .nregions = 2 };

	T_ERR(uds_server_new(&s, &c), -EINVAL); /* overlap */
	c.nregions = 0;
	T_ERR(uds_server_new(&s, &c), -EINVAL);
	c.nregions = 1;
	c.security_level = 1;
	T_ERR(uds_server_new(&s, &c), -EINVAL); /* no compute_key */
	c.compute_key = key_plus1;
	c.security_level = 2;
	T_ERR(uds_server_new(&s, &c), -EINVAL); /* even level */
	T_TRUE(s == NULL);
}

static void test_uds_server__memory_file_roundtrip(void)
{
	struct uds_server *a = ecu(NULL), *b = ecu(NULL);
	char dir[] = "/tmp/fota-uds-XXXXXX", path[64], tmp[80];
	const uint8_t *ma, *mb;
	uint8_t o[64];
	size_t len;
	FILE *f;

	T_TRUE(mkdtemp(dir) != NULL);
	snprintf(path, sizeof(path), "%s/flash.bin", dir);
	T_ERR(uds_server_load(a, path), -ENOENT);
	unlock(a, T0);
	T_EQ(req(a, T0, o, 11, 0x34, 0, 0x44, 0, 0, 0x12, 0, 0, 0, 0, 0x02), 4);
	T_EQ(req(a, T0, o, 4, 0x36, 0x01, 0x5A, 0xA5), 2);
	T_EQ(req(a, T0, o, 1, 0x37), 1);
	T_TRUE(uds_server_take_dirty(a));
	T_TRUE(!uds_server_take_dirty(a));
	T_OK(uds_server_save(a, path));
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	T_TRUE(access(tmp, F_OK) != 0);
	T_OK(uds_server_load(b, path));
	ma = uds_server_memory(a, NULL, &len);
	mb = uds_server_memory(b, NULL, NULL);
	T_EQ(len, 0x400);
	T_EQ_MEM(mb, ma, len);
	T_EQ(mb[0x200], 0x5A);
	/* A file of the wrong size is refused and leaves the memory erased. */
	f = fopen(path, "ab");
	fputc(0, f);
	fclose(f);
	uds_server_free(b);
	b = ecu(NULL);
	T_ERR(uds_server_load(b, path), -EBADMSG);
	T_EQ(uds_server_memory(b, NULL, NULL)[0x200], 0xFF);
	unlink(path);
	rmdir(dir);
	uds_server_free(a);
	uds_server_free(b);
}

/* ---- compressed downloads (dataFormatIdentifier 0x10 = lz4, 0x20 = deflate here) ---- */

static struct uds_server *ecu_z(enum fota_compress_method m, uint8_t dfi)
{
	struct uds_server *s;
	struct uds_server_cfg c = {
		.regions = &region,
		.nregions = 1,
		.max_block_len = 258,
		.compression = m,
		.compression_dfi = dfi,
	};

	T_OK(uds_server_new(&s, &c));
	return s;
}

/* Send pdu[0..n); the answer's length (0 = none), copied to out. */
static size_t send(struct uds_server *s, const uint8_t *pdu, size_t n, uint8_t *out)
{
	const uint8_t *r;
	size_t len = 0;

	uds_server_input(s, pdu, n, T0);
	if (!uds_server_output(s, &r, &len, T0))
		return 0;
	memcpy(out, r, len);
	return len;
}

/* Firmware-like content: compresses, but not to nothing. */
static void fw_bytes(uint8_t *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		b[i] = (i % 7 == 3) ? (uint8_t)(i * 13) :
				      (uint8_t) "\x00\xb5\x80\xb0\x70\x47"[i % 6];
}

/* The whole stream of in[0..n) with method m; *zn its length. */
static size_t zstream(enum fota_compress_method m, const uint8_t *in, size_t n, uint8_t *z,
		      size_t cap)
{
	struct fota_compress_enc *e = fota_compress_enc_new(m, -1);
	long zn;

	T_OK(fota_compress_enc_start(e, in, n));
	zn = fota_compress_enc_read(e, z, cap);
	T_TRUE(zn > 0 && fota_compress_enc_done(e));
	fota_compress_enc_free(e);
	return (size_t)zn;
}

/* TransferData blocks of up to 256 bytes from z; the first negative answer's NRC, or 0. */
static uint8_t transfer(struct uds_server *s, const uint8_t *z, size_t zn, uint8_t *bsc)
{
	uint8_t r[258], o[64];

	for (size_t off = 0; off < zn; off += 256) {
		size_t k = zn - off < 256 ? zn - off : 256, n;

		r[0] = 0x36;
		r[1] = ++*bsc;
		memcpy(r + 2, z + off, k);
		n = send(s, r, 2 + k, o);
		if (o[0] == 0x7F)
			return o[2];
		T_EQ(n, 2);
		/* the last block repeated (its answer lost): acknowledged, not fed again */
		if (off + k == zn)
			T_EQ(send(s, r, 2 + k, o), 2);
	}
	return 0;
}

static void test_uds_server__compressed_download(void)
{
	static const enum fota_compress_method m[] = { COMPRESS_LZ4, COMPRESS_DEFLATE };
	static const uint8_t dfi[] = { 0x10, 0x20 };
	uint8_t img[0x400], z[0x800], o[64], bsc;

	fw_bytes(img, sizeof(img));
	for (int i = 0; i < 2; i++) {
		struct uds_server *s = ecu_z(m[i], dfi[i]);
		uint8_t rd[] = { 0x34, dfi[i], 0x44, 0, 0, 0x10, 0, 0, 0, 0x04, 0 };
		uint8_t chk[8] = { 0x31, 0x01, 0x02, 0x02 };
		size_t zn = zstream(m[i], img, sizeof(img), z, sizeof(z));
		const uint8_t *mem;

		T_TRUE(zn > 256 && zn < sizeof(img)); /* several blocks, fewer bytes */
		T_EQ(req(s, T0, o, 2, 0x10, 0x02), 6);
		T_EQ(send(s, rd, sizeof(rd), o), 4);
		T_EQ(o[0], 0x74);
		bsc = 0;
		T_EQ(transfer(s, z, zn, &bsc), 0);
		T_EQ(req(s, T0, o, 1, 0x37), 1);
		mem = uds_server_memory(s, NULL, NULL);
		T_EQ_MEM(mem, img, sizeof(img));
		/* the check routine's CRC-32 is over the uncompressed bytes */
		uds_put_be(chk + 4, (uint32_t)crc32(0, img, sizeof(img)), 4);
		T_EQ(send(s, chk, sizeof(chk), o), 5);
		T_EQ(o[4], 0x00);
		T_TRUE(uds_server_app_valid(s));
		uds_server_free(s);
	}
}

/* A dataFormatIdentifier the ECU was not configured for: requestOutOfRange. */
static void test_uds_server__compressed_unknown_dfi(void)
{
	struct uds_server *s = ecu_z(COMPRESS_LZ4, 0x10), *plain = ecu_z(COMPRESS_NONE, 0);
	uint8_t rd[] = { 0x34, 0x20, 0x44, 0, 0, 0x10, 0, 0, 0, 0x04, 0 }, o[64];
	size_t n;

	T_EQ(req(s, T0, o, 2, 0x10, 0x02), 6);
	n = send(s, rd, sizeof(rd), o);
	NRC_IS(n, o, 0x34, UDS_NRC_REQUEST_OUT_OF_RANGE);
	rd[1] = 0x11; /* lz4 with an encryptingMethod */
	n = send(s, rd, sizeof(rd), o);
	NRC_IS(n, o, 0x34, UDS_NRC_REQUEST_OUT_OF_RANGE);
	rd[1] = 0x00; /* plain data: always */
	T_EQ(send(s, rd, sizeof(rd), o), 4);
	T_EQ(req(plain, T0, o, 2, 0x10, 0x02), 6);
	rd[1] = 0x10;
	n = send(plain, rd, sizeof(rd), o);
	NRC_IS(n, o, 0x34, UDS_NRC_REQUEST_OUT_OF_RANGE);
	uds_server_free(s);
	uds_server_free(plain);
}

/*
 * Hostile streams: a bomb (far more than memorySize once decompressed),
 * garbage, a stream cut short. transferDataSuspended and the download
 * aborted, or the exit refused; nothing written outside the announced range.
 */
static void test_uds_server__compressed_hostile(void)
{
	static const enum fota_compress_method m[] = { COMPRESS_LZ4, COMPRESS_DEFLATE };
	static const uint8_t dfi[] = { 0x10, 0x20 };
	uint8_t *zeros = calloc(1, 1 << 20), z[0x4000], img[0x400], o[64], bsc;
	size_t zn, n;

	fw_bytes(img, sizeof(img));
	for (int i = 0; i < 2; i++) {
		struct uds_server *s = ecu_z(m[i], dfi[i]);
		/* 0x200 bytes announced at 0x1100: 0x1000-0x10FF and 0x1300- must stay erased */
		uint8_t rd[] = { 0x34, dfi[i], 0x44, 0, 0, 0x11, 0, 0, 0, 0x02, 0 };
		const uint8_t *mem;

		T_EQ(req(s, T0, o, 2, 0x10, 0x02), 6);
		/* a zip bomb: 1 MiB of zeros in a few hundred bytes */
		zn = zstream(m[i], zeros, 1 << 20, z, sizeof(z));
		T_TRUE(zn < 0x2000);
		T_EQ(send(s, rd, sizeof(rd), o), 4);
		bsc = 0;
		T_EQ(transfer(s, z, zn, &bsc), UDS_NRC_TRANSFER_DATA_SUSPENDED);
		n = req(s, T0, o, 3, 0x36, bsc + 1, 0);
		NRC_IS(n, o, 0x36, UDS_NRC_REQUEST_SEQUENCE_ERROR); /* aborted */
		mem = uds_server_memory(s, NULL, NULL);
		for (size_t k = 0; k < 0x400; k++)
			if ((k < 0x100 || k >= 0x300) && mem[k] != 0xFF)
				t_fail(__FILE__, __LINE__, "byte 0x%zx written: 0x%02x", k, mem[k]);
		T_EQ(req(s, T0, o, 1, 0x37), 3); /* no download active */

		/* garbage: not a stream of the method */
		T_EQ(send(s,
			  (const uint8_t[]){ 0x31, 0x01, 0xFF, 0x00, 0x44, 0, 0, 0x10, 0, 0, 0,
					     0x04, 0 },
			  13, o),
		     5);
		T_EQ(send(s, rd, sizeof(rd), o), 4);
		n = req(s, T0, o, 10, 0x36, 0x01, 'h', 'e', 'l', 'l', 'o', ' ', 'E', 'C');
		NRC_IS(n, o, 0x36, UDS_NRC_TRANSFER_DATA_SUSPENDED);

		/* cut short: every byte but the last; the exit is refused */
		zn = zstream(m[i], img, 0x200, z, sizeof(z));
		T_EQ(send(s,
			  (const uint8_t[]){ 0x31, 0x01, 0xFF, 0x00, 0x44, 0, 0, 0x10, 0, 0, 0,
					     0x04, 0 },
			  13, o),
		     5);
		T_EQ(send(s, rd, sizeof(rd), o), 4);
		bsc = 0;
		T_EQ(transfer(s, z, zn - 1, &bsc), 0);
		n = req(s, T0, o, 1, 0x37);
		NRC_IS(n, o, 0x37, UDS_NRC_REQUEST_SEQUENCE_ERROR);
		/* the last byte arrives: now it ends */
		T_EQ(req(s, T0, o, 3, 0x36, bsc + 1, z[zn - 1]), 2);
		T_EQ(req(s, T0, o, 1, 0x37), 1);
		mem = uds_server_memory(s, NULL, NULL);
		T_EQ_MEM(mem + 0x100, img, 0x200);
		uds_server_free(s);
	}
	free(zeros);
}

static const struct t_case cases[] = {
	T_CASE(uds_server__compressed_download),
	T_CASE(uds_server__compressed_unknown_dfi),
	T_CASE(uds_server__compressed_hostile),
	T_CASE(uds_server__security_attempts_and_delay),
	T_CASE(uds_server__seeds_are_reproducible),
	T_CASE(uds_server__s3_timeout_returns_to_default),
	T_CASE(uds_server__request_download_checks),
	T_CASE(uds_server__block_counter_rules),
	T_CASE(uds_server__transfer_longer_than_block_length),
	T_CASE(uds_server__identification_dids),
	T_CASE(uds_server__misc_services),
	T_CASE(uds_server__faults_pending_delay_busy),
	T_CASE(uds_server__bootloader_switch_required),
	T_CASE(uds_server__bad_configs),
	T_CASE(uds_server__rdbi_several_dids),
	T_CASE(uds_server__wdbi_rules),
	T_CASE(uds_server__memory_file_roundtrip),
};

int main(void)
{
	return t_main(cases, FOTA_ARRAY_SIZE(cases));
}
