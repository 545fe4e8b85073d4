// SPDX-License-Identifier: MIT
/*
 * Reading a DID list (uds/rdbi.c + uds/client.c) against the simulated ECU
 * (uds/server.c), PDU to PDU in virtual time: the multi-DID request bytes,
 * NRC 0x31 and left-out DIDs as "not supported", the fall-back to one DID per
 * request, answers that cannot be split, other NRCs, and a silent ECU.
 */
#include <errno.h>
#include <string.h>
#include "tests/unit/t.h"
#include "uds/rdbi.h"
#include "uds/server.h"

#define T0 FOTA_SEC(100)

static const struct uds_region region = { 0x1000, 0x400 };

struct env {
	struct uds_client c;
	struct uds_rdbi r;
	struct uds_server *s;
	fota_us now;
	uint8_t first[80]; /* the first request PDU */
	size_t first_len;
};

static void env_init(struct env *e, const struct uds_did *d, size_t nd, unsigned max_dids,
		     const struct uds_server_faults *f)
{
	struct uds_server_cfg sc = {
		.regions = &region,
		.nregions = 1,
		.dids = d,
		.ndids = nd,
		.max_dids = max_dids,
	};

	memset(e, 0, sizeof(*e));
	if (f)
		sc.faults = *f;
	T_OK(uds_server_new(&e->s, &sc));
	uds_client_init(&e->c, NULL);
	e->now = T0;
}

/* Run until the read ends; returns its result. */
static int run(struct env *e, const uint16_t *dids, size_t n, unsigned per)
{
	const uint8_t *pdu;
	size_t len;
	int err;

	T_OK(uds_rdbi_start(&e->r, &e->c, dids, n, per, e->now));
	for (int guard = 0; guard < 1000; guard++) {
		err = uds_rdbi_result(&e->r);
		if (err != -EINPROGRESS)
			return err;
		if (uds_rdbi_output(&e->r, &pdu, &len, e->now) == 1) {
			if (!e->first_len) {
				memcpy(e->first, pdu, len);
				e->first_len = len;
			}
			uds_server_input(e->s, pdu, len, e->now);
			continue;
		}
		if (uds_server_output(e->s, &pdu, &len, e->now) == 1) {
			uds_rdbi_input(&e->r, pdu, len, e->now);
			continue;
		}
		e->now = fota_min_deadline(uds_rdbi_deadline(&e->r), uds_server_deadline(e->s));
		uds_server_tick(e->s, e->now);
		uds_rdbi_tick(&e->r, e->now);
	}
	T_TRUE(!"read did not end");
	return -EIO;
}

static void item_is(struct env *e, size_t i, int err, const char *data)
{
	const uint8_t *d;
	const struct uds_rdbi_item *it = uds_rdbi_item(&e->r, i, &d);

	T_EQ(it->err, err);
	if (data) {
		T_EQ(it->len, strlen(data));
		if (d && it->len == strlen(data))
			T_EQ_MEM(d, data, it->len);
	}
}

static const uint8_t vin[] = "WFOTA000000000001", sw[] = "2.1.0", sn[] = "SN42";
static const struct uds_did idents[] = {
	{ UDS_DID_VIN, vin, 17, false },
	{ 0xF189, sw, 5, false },
	{ UDS_DID_ECU_SERIAL_NUMBER, sn, 4, false },
};

/* One request 22 F1 90 F1 87 F1 89 F1 8C; F187 left out of the answer: not supported. */
static void test_rdbi__several_per_request(void)
{
	static const uint16_t want[] = { 0xF190, 0xF187, 0xF189, 0xF18C };
	struct env e;

	env_init(&e, idents, 3, 0, NULL);
	T_OK(run(&e, want, 4, 0));
	T_EQ(e.first_len, 9);
	T_EQ_MEM(e.first, "\x22\xF1\x90\xF1\x87\xF1\x89\xF1\x8C", 9);
	T_EQ(e.r.requests, 1);
	item_is(&e, 0, 0, "WFOTA000000000001");
	item_is(&e, 1, -ENOENT, NULL);
	item_is(&e, 2, 0, "2.1.0");
	item_is(&e, 3, 0, "SN42");
	uds_server_free(e.s);
}

/* The first DID unsupported: the answer starts with the second (the client takes it). */
static void test_rdbi__first_unsupported(void)
{
	static const uint16_t want[] = { 0xF187, 0xF189 };
	struct env e;

	env_init(&e, idents, 3, 0, NULL);
	T_OK(run(&e, want, 2, 0));
	T_EQ(e.r.requests, 1);
	item_is(&e, 0, -ENOENT, NULL);
	item_is(&e, 1, 0, "2.1.0");
	uds_server_free(e.s);
}

/* None supported: NRC 0x31 to the whole request, every DID "not supported", no error. */
static void test_rdbi__none_supported(void)
{
	static const uint16_t want[] = { 0xF187, 0xF188 };
	struct env e;

	env_init(&e, idents, 3, 0, NULL);
	T_OK(run(&e, want, 2, 0));
	T_EQ(e.r.requests, 1);
	item_is(&e, 0, -ENOENT, NULL);
	T_EQ(e.r.it[0].nrc, 0);
	item_is(&e, 1, -ENOENT, NULL);
	uds_server_free(e.s);
}

/* An ECU that takes one DID per request answers 0x13: asked again one by one. */
static void test_rdbi__fallback_one_per_request(void)
{
	static const uint16_t want[] = { 0xF190, 0xF187, 0xF189 };
	struct env e;

	env_init(&e, idents, 3, 1, NULL);
	T_OK(run(&e, want, 3, 0));
	T_EQ(e.r.requests, 1 + 3);
	item_is(&e, 0, 0, "WFOTA000000000001");
	item_is(&e, 1, -ENOENT, NULL);
	T_EQ(e.r.it[1].nrc, UDS_NRC_REQUEST_OUT_OF_RANGE);
	item_is(&e, 2, 0, "2.1.0");
	uds_server_free(e.s);

	/* max_per_request 2: two requests, no fall-back. */
	env_init(&e, idents, 3, 0, NULL);
	T_OK(run(&e, want, 3, 2));
	T_EQ(e.r.requests, 2);
	T_EQ(e.first_len, 5);
	item_is(&e, 2, 0, "2.1.0");
	uds_server_free(e.s);
}

/* A record containing the next DID's bytes splits two ways: read one by one instead. */
static void test_rdbi__ambiguous_answer(void)
{
	static const uint8_t odd[] = { 'A', 'B', 0xF1, 0x8C, 'X' };
	static const uint8_t y[] = { 'Y' };
	const struct uds_did d[] = {
		{ UDS_DID_VIN, odd, sizeof(odd), false },
		{ UDS_DID_ECU_SERIAL_NUMBER, y, 1, false },
	};
	static const uint16_t want[] = { 0xF190, 0xF18C };
	struct env e;
	const uint8_t *data;

	env_init(&e, d, 2, 0, NULL);
	T_OK(run(&e, want, 2, 0));
	T_EQ(e.r.requests, 3);
	uds_rdbi_item(&e.r, 0, &data);
	T_EQ(e.r.it[0].len, 5);
	T_EQ_MEM(data, odd, 5);
	item_is(&e, 1, 0, "Y");
	uds_server_free(e.s);
}

static void test_rdbi__split(void)
{
	static const uint16_t dids[] = { 0xF190, 0xF187, 0xF189 };
	static const uint8_t ok[] = { 0x62, 0xF1, 0x90, 'a', 'b', 0xF1, 0x89, 'c' };
	static const uint8_t amb[] = { 0x62, 0xF1, 0x90, 'a', 0xF1, 0x89, 'b', 0xF1, 0x89, 'c' };
	static const uint8_t bad[] = { 0x62, 0xF1, 0x88, 'a', 0xF1, 0x90, 'b' }; /* not asked */
	static const uint8_t late[] = { 0x62, 0xF1, 0x89, 'a', 0xF1, 0x90, 'b' };
	static const uint8_t empty[] = { 0x62, 0xF1, 0x90, 0xF1, 0x89, 'c' };
	size_t off[3], len[3];
	bool found[3];

	T_OK(uds_rdbi_split(ok, sizeof(ok), dids, 3, off, len, found));
	T_TRUE(found[0] && !found[1] && found[2]);
	T_EQ(off[0], 3);
	T_EQ(len[0], 2);
	T_EQ(off[2], 7);
	T_EQ(len[2], 1);
	T_EQ(uds_rdbi_split(amb, sizeof(amb), dids, 3, off, len, found), -EAGAIN);
	T_EQ(uds_rdbi_split(bad, sizeof(bad), dids, 3, off, len, found), -EPROTO);
	/* Out of request order, F190 is data of F189 (the only split). */
	T_OK(uds_rdbi_split(late, sizeof(late), dids, 3, off, len, found));
	T_TRUE(!found[0] && found[2]);
	T_EQ(len[2], 4);
	/* F190 with F1 89 as its only data is no split: records have at least one byte. */
	T_OK(uds_rdbi_split(empty, sizeof(empty), dids, 3, off, len, found));
	T_TRUE(found[0] && !found[2]);
	T_EQ(len[0], 3);
	T_EQ(uds_rdbi_split(ok, 1, dids, 3, off, len, found), -EPROTO);
	T_EQ(uds_rdbi_split(ok, 4, dids, 3, off, len, found), 0);
	T_EQ(uds_rdbi_split(ok, 3, dids, 3, off, len, found), -EPROTO);
}

/* Another NRC is that DID's refusal; a silent ECU ends the read with -ETIMEDOUT. */
static void test_rdbi__refusals_and_silence(void)
{
	static const uint16_t want[] = { 0xF190, 0xF189 };
	struct uds_server_faults f = { .nrc_sid = 0x22, .nrc = UDS_NRC_SECURITY_ACCESS_DENIED };
	struct env e;

	env_init(&e, idents, 3, 0, &f);
	T_OK(run(&e, want, 2, 0));
	T_EQ(e.r.requests, 3);
	item_is(&e, 0, -EREMOTEIO, NULL);
	T_EQ(e.r.it[0].nrc, UDS_NRC_SECURITY_ACCESS_DENIED);
	item_is(&e, 1, -EREMOTEIO, NULL);
	uds_server_free(e.s);

	f = (struct uds_server_faults){ .drop_sid = 0x22, .drop_nth = 1 };
	env_init(&e, idents, 3, 0, &f);
	T_EQ(run(&e, want, 2, 0), -ETIMEDOUT);
	T_EQ(e.now, T0 + FOTA_MS(150)); /* the client's default P2 */
	uds_server_free(e.s);
}

static void test_rdbi__start_checks(void)
{
	static const uint16_t dup[] = { 0xF190, 0xF190 };
	struct env e;

	env_init(&e, idents, 3, 0, NULL);
	T_EQ(uds_rdbi_result(&e.r), -ENOENT);
	T_EQ(uds_rdbi_start(&e.r, &e.c, dup, 2, 0, e.now), -EINVAL);
	T_EQ(uds_rdbi_start(&e.r, &e.c, dup, 0, 0, e.now), -EINVAL);
	T_EQ(uds_rdbi_start(&e.r, &e.c, dup, UDS_RDBI_MAX + 1, 0, e.now), -EINVAL);
	uds_server_free(e.s);
}

static void test_rdbi__format(void)
{
	char out[64];

	T_TRUE(uds_did_format((const uint8_t *)"2.1.0", 5, out, sizeof(out)));
	T_EQ(strcmp(out, "2.1.0"), 0);
	T_TRUE(uds_did_format((const uint8_t *)"AB  \0\xFF", 6, out, sizeof(out)));
	T_EQ(strcmp(out, "AB"), 0);
	T_TRUE(!uds_did_format((const uint8_t *)"\x01\xab", 2, out, sizeof(out)));
	T_EQ(strcmp(out, "hex:01ab"), 0);
	T_TRUE(!uds_did_format((const uint8_t *)"\0\0", 2, out, sizeof(out)));
	T_EQ(strcmp(out, "hex:0000"), 0);
	T_TRUE(!uds_did_format((const uint8_t *)"\x01\xab", 2, out, 6));
	T_EQ(strcmp(out, "hex:"), 0); /* whole bytes only */
	T_EQ(strcmp(uds_did_name(0xF189), "vehicleManufacturerECUSoftwareVersionNumber"), 0);
	T_TRUE(uds_did_name(0x1234) == NULL);
}

static const struct t_case cases[] = {
	T_CASE(rdbi__several_per_request),
	T_CASE(rdbi__first_unsupported),
	T_CASE(rdbi__none_supported),
	T_CASE(rdbi__fallback_one_per_request),
	T_CASE(rdbi__ambiguous_answer),
	T_CASE(rdbi__split),
	T_CASE(rdbi__refusals_and_silence),
	T_CASE(rdbi__start_checks),
	T_CASE(rdbi__format),
};

int main(void)
{
	return t_main(cases, FOTA_ARRAY_SIZE(cases));
}
