// SPDX-License-Identifier: MIT
/*
 * UDS client engine: P2 and P2* timing (ISO 14229-2 §7.2), response matching,
 * suppressPosRspMsgIndicationBit, and TesterPresent keep-alive, all asserted
 * on the virtual clock.
 */
#include <errno.h>
#include <string.h>
#include "tests/unit/t.h"
#include "uds/client.h"

#define T0 FOTA_SEC(100)

static const struct uds_client_cfg cfg = {
	.p2_ms = 150,
	.p2_star_ms = 5050,
	.tester_present_ms = 2000,
};

/* Start req and take it from output() at `now`. */
static void send(struct uds_client *c, const uint8_t *req, size_t n, fota_us now)
{
	const uint8_t *pdu;
	size_t len;

	T_OK(uds_client_start(c, req, n, now));
	T_EQ(uds_client_output(c, &pdu, &len, now), 1);
	T_EQ(len, n);
	T_TRUE(pdu == req);
}

static void test_uds_client__p2_expires_without_answer(void)
{
	struct uds_client c;
	static const uint8_t req[] = { 0x10, 0x02 };

	uds_client_init(&c, &cfg);
	send(&c, req, sizeof(req), T0);
	T_EQ_U64(uds_client_deadline(&c), T0 + FOTA_MS(150));
	uds_client_tick(&c, T0 + FOTA_MS(150) - 1);
	T_ERR(uds_client_result(&c, NULL), -EINPROGRESS);
	uds_client_tick(&c, T0 + FOTA_MS(150));
	T_ERR(uds_client_result(&c, NULL), -ETIMEDOUT);
	T_TRUE(uds_client_idle(&c));
}

static void test_uds_client__p2_restarts_on_transmit_confirmation(void)
{
	struct uds_client c;
	static const uint8_t req[] = { 0x36, 0x01, 0xAA };

	uds_client_init(&c, &cfg);
	send(&c, req, sizeof(req), T0);
	uds_client_sent(&c, T0 + FOTA_MS(80)); /* long multi-frame request */
	T_EQ_U64(uds_client_deadline(&c), T0 + FOTA_MS(230));
}

static void test_uds_client__each_response_pending_rearms_p2star(void)
{
	struct uds_client c;
	struct uds_result r;
	static const uint8_t req[] = { 0x31, 0x01, 0xFF, 0x00 };
	static const uint8_t pend[] = { 0x7F, 0x31, 0x78 };
	static const uint8_t ok[] = { 0x71, 0x01, 0xFF, 0x00, 0x00 };
	fota_us t = T0 + FOTA_MS(40);

	uds_client_init(&c, &cfg);
	send(&c, req, sizeof(req), T0);
	/* 20 x 0x78, each just inside P2*: 100 s in all, no overall cut-off. */
	for (int i = 0; i < 20; i++) {
		uds_client_input(&c, pend, sizeof(pend), t);
		T_EQ_U64(uds_client_deadline(&c), t + FOTA_MS(5050));
		uds_client_tick(&c, t + FOTA_MS(5050) - 1);
		T_ERR(uds_client_result(&c, NULL), -EINPROGRESS);
		t += FOTA_MS(5000);
	}
	uds_client_input(&c, ok, sizeof(ok), t);
	T_OK(uds_client_result(&c, &r));
	T_EQ(r.pending, 20);
	T_EQ(r.len, sizeof(ok));
	T_EQ_MEM(r.rsp, ok, sizeof(ok));
	T_EQ(r.sid, 0x31);
}

static void test_uds_client__p2star_expires_after_last_pending(void)
{
	struct uds_client c;
	static const uint8_t req[] = { 0x37 };
	static const uint8_t pend[] = { 0x7F, 0x37, 0x78 };

	uds_client_init(&c, &cfg);
	send(&c, req, sizeof(req), T0);
	uds_client_input(&c, pend, sizeof(pend), T0 + FOTA_MS(10));
	uds_client_tick(&c, T0 + FOTA_MS(10) + FOTA_MS(5050));
	T_ERR(uds_client_result(&c, NULL), -ETIMEDOUT);
}

static void test_uds_client__negative_response_gives_nrc_and_errno(void)
{
	struct uds_client c;
	struct uds_result r;
	static const uint8_t req[] = { 0x34, 0x00, 0x44, 0, 0, 0, 0, 0, 0, 0, 1 };
	static const uint8_t nrc70[] = { 0x7F, 0x34, 0x70 };
	static const uint8_t nrc22[] = { 0x7F, 0x34, 0x22 };

	uds_client_init(&c, &cfg);
	send(&c, req, sizeof(req), T0);
	uds_client_input(&c, nrc70, sizeof(nrc70), T0 + 1);
	T_ERR(uds_client_result(&c, &r), -EREMOTEIO);
	T_EQ(r.nrc, 0x70);
	T_EQ(r.sid, 0x34);
	send(&c, req, sizeof(req), T0 + 2);
	uds_client_input(&c, nrc22, sizeof(nrc22), T0 + 3);
	T_ERR(uds_client_result(&c, &r), -EBUSY);
	T_EQ(r.nrc, 0x22);
}

static void test_uds_client__foreign_and_late_responses_are_ignored(void)
{
	struct uds_client c;
	struct uds_result r;
	static const uint8_t req[] = { 0x22, 0xF1, 0x90 };
	static const uint8_t other_sid[] = { 0x50, 0x02, 0, 0x32, 1, 0xF4 };
	static const uint8_t other_nrc[] = { 0x7F, 0x10, 0x22 };
	static const uint8_t other_did[] = { 0x62, 0xF1, 0x87, 'x' };
	static const uint8_t ok[] = { 0x62, 0xF1, 0x90, 'V', 'I', 'N' };

	uds_client_init(&c, &cfg);
	uds_client_input(&c, ok, sizeof(ok), T0); /* nothing in flight */
	T_ERR(uds_client_result(&c, NULL), -ENOENT);
	send(&c, req, sizeof(req), T0);
	uds_client_input(&c, other_sid, sizeof(other_sid), T0 + 1);
	uds_client_input(&c, other_nrc, sizeof(other_nrc), T0 + 1);
	uds_client_input(&c, other_did, sizeof(other_did), T0 + 1);
	T_ERR(uds_client_result(&c, NULL), -EINPROGRESS);
	T_EQ(uds_client_session(&c), UDS_SESSION_DEFAULT); /* the stray 0x50 changed nothing */
	uds_client_input(&c, ok, sizeof(ok), T0 + 2);
	T_OK(uds_client_result(&c, &r));
	T_EQ(r.len, 6);
}

static void test_uds_client__subfunction_echo_must_match(void)
{
	struct uds_client c;
	static const uint8_t req[] = { 0x27, 0x01 };
	static const uint8_t wrong[] = { 0x67, 0x03, 1, 2, 3, 4 };
	static const uint8_t ok[] = { 0x67, 0x01, 1, 2, 3, 4 };

	uds_client_init(&c, &cfg);
	send(&c, req, sizeof(req), T0);
	uds_client_input(&c, wrong, sizeof(wrong), T0 + 1);
	T_ERR(uds_client_result(&c, NULL), -EINPROGRESS);
	uds_client_input(&c, ok, sizeof(ok), T0 + 1);
	T_OK(uds_client_result(&c, NULL));
}

static void test_uds_client__transfer_counter_echo(void)
{
	struct uds_client c;
	static const uint8_t req[] = { 0x36, 0x05, 0xAA };
	static const uint8_t late[] = { 0x76, 0x04 };
	static const uint8_t bad[] = { 0x76, 0x09 };
	static const uint8_t ok[] = { 0x76, 0x05 };

	uds_client_init(&c, &cfg);
	send(&c, req, sizeof(req), T0);
	uds_client_input(&c, late, sizeof(late), T0 + 1); /* answer to a retried block */
	T_ERR(uds_client_result(&c, NULL), -EINPROGRESS);
	uds_client_input(&c, ok, sizeof(ok), T0 + 2);
	T_OK(uds_client_result(&c, NULL));
	send(&c, req, sizeof(req), T0 + 3);
	uds_client_input(&c, bad, sizeof(bad), T0 + 4);
	T_ERR(uds_client_result(&c, NULL), -EPROTO);
}

static void test_uds_client__suppressed_positive_response_completes_after_p2(void)
{
	struct uds_client c;
	struct uds_result r;
	static const uint8_t req[] = { 0x85, 0x82 };

	uds_client_init(&c, &cfg);
	send(&c, req, sizeof(req), T0);
	T_ERR(uds_client_result(&c, NULL), -EINPROGRESS);
	T_EQ_U64(uds_client_deadline(&c), T0 + FOTA_MS(cfg.p2_ms));
	uds_client_tick(&c, T0 + FOTA_MS(cfg.p2_ms));
	T_OK(uds_client_result(&c, &r));
	T_EQ(r.len, 0);
	T_TRUE(uds_client_idle(&c));
}

/* ISO 14229-1 §8.2.2: a negative response still comes with the bit set. */
static void test_uds_client__suppressed_request_still_reports_a_refusal(void)
{
	struct uds_client c;
	struct uds_result r;
	static const uint8_t req[] = { 0x85, 0x82 };
	static const uint8_t nrc[] = { 0x7F, 0x85, 0x22 };
	static const uint8_t pending[] = { 0x7F, 0x85, 0x78 };
	static const uint8_t pos[] = { 0xC5, 0x02 };

	uds_client_init(&c, &cfg);
	send(&c, req, sizeof(req), T0);
	uds_client_input(&c, nrc, sizeof(nrc), T0 + FOTA_MS(10));
	T_ERR(uds_client_result(&c, &r), -EBUSY);
	T_EQ(r.nrc, 0x22);

	/* after 0x78 the final (here positive) answer is awaited, not P2 */
	send(&c, req, sizeof(req), T0 + FOTA_MS(100));
	uds_client_input(&c, pending, sizeof(pending), T0 + FOTA_MS(110));
	uds_client_tick(&c, T0 + FOTA_MS(100 + cfg.p2_ms));
	T_ERR(uds_client_result(&c, NULL), -EINPROGRESS);
	uds_client_input(&c, pos, sizeof(pos), T0 + FOTA_MS(1000));
	T_OK(uds_client_result(&c, &r));
	T_EQ(r.pending, 1);
}

static void test_uds_client__busy_while_in_flight(void)
{
	struct uds_client c;
	static const uint8_t req[] = { 0x11, 0x01 };

	uds_client_init(&c, &cfg);
	T_OK(uds_client_start(&c, req, sizeof(req), T0));
	T_ERR(uds_client_start(&c, req, sizeof(req), T0), -EALREADY);
	T_ERR(uds_client_start(&c, req, 0, T0), -EALREADY);
	uds_client_cancel(&c);
	T_ERR(uds_client_result(&c, NULL), -ECANCELED);
	T_ERR(uds_client_start(&c, req, 0, T0), -EMSGSIZE);
}

static void test_uds_client__tester_present_when_idle_in_non_default_session(void)
{
	struct uds_client c;
	static const uint8_t req[] = { 0x10, 0x03 };
	static const uint8_t ok[] = { 0x50, 0x03, 0x00, 0x32, 0x01, 0xF4 };
	static const uint8_t rd[] = { 0x22, 0xF1, 0x86 };
	static const uint8_t rd_ok[] = { 0x62, 0xF1, 0x86, 0x03 };
	static const uint8_t reset[] = { 0x11, 0x01 };
	static const uint8_t reset_ok[] = { 0x51, 0x01 };
	const uint8_t *pdu;
	size_t len;
	fota_us t1 = T0 + FOTA_MS(20);

	uds_client_init(&c, &cfg);
	T_EQ_U64(uds_client_deadline(&c), FOTA_NEVER); /* default session: no keep-alive */
	send(&c, req, sizeof(req), T0);
	uds_client_input(&c, ok, sizeof(ok), t1);
	T_EQ(uds_client_session(&c), UDS_SESSION_EXTENDED);
	/* S3 keep-alive measured from the last request we sent. */
	T_EQ_U64(uds_client_deadline(&c), T0 + FOTA_MS(2000));
	T_EQ(uds_client_output(&c, &pdu, &len, T0 + FOTA_MS(2000) - 1), 0);
	T_EQ(uds_client_output(&c, &pdu, &len, T0 + FOTA_MS(2000)), 1);
	T_EQ(len, 2);
	T_EQ(pdu[0], 0x3E);
	T_EQ(pdu[1], 0x80);
	T_EQ(uds_client_output(&c, &pdu, &len, T0 + FOTA_MS(2000)), 0);
	T_EQ_U64(uds_client_deadline(&c), T0 + FOTA_MS(4000));
	T_EQ(uds_client_output(&c, &pdu, &len, T0 + FOTA_MS(4000)), 1);
	T_EQ(c.tp_sent, 2);

	/* Not while a request is in flight, even a long one. */
	send(&c, rd, sizeof(rd), T0 + FOTA_MS(5000));
	T_EQ(uds_client_output(&c, &pdu, &len, T0 + FOTA_MS(7100)), 0);
	uds_client_input(&c, rd_ok, sizeof(rd_ok), T0 + FOTA_MS(5100));
	T_EQ_U64(uds_client_deadline(&c), T0 + FOTA_MS(7000));

	/* After an ECUReset the ECU is back in default: keep-alive stops. */
	send(&c, reset, sizeof(reset), T0 + FOTA_MS(6000));
	uds_client_input(&c, reset_ok, sizeof(reset_ok), T0 + FOTA_MS(6010));
	T_EQ(uds_client_session(&c), UDS_SESSION_DEFAULT);
	T_EQ_U64(uds_client_deadline(&c), FOTA_NEVER);
	T_EQ(uds_client_output(&c, &pdu, &len, T0 + FOTA_SEC(60)), 0);
}

static void test_uds_client__no_tester_present_option(void)
{
	struct uds_client c;
	struct uds_client_cfg k = cfg;
	const uint8_t *pdu;
	size_t len;

	k.tester_present = UDS_TP_OFF;
	uds_client_init(&c, &k);
	uds_client_set_session(&c, UDS_SESSION_PROGRAMMING, T0);
	T_EQ_U64(uds_client_deadline(&c), FOTA_NEVER);
	T_EQ(uds_client_output(&c, &pdu, &len, T0 + FOTA_SEC(10)), 0);
}

static void test_uds_client__adopts_session_timing(void)
{
	struct uds_client c;
	struct uds_client_cfg k = cfg;
	static const uint8_t req[] = { 0x10, 0x02 };
	/* P2server_max 500 ms, P2*server_max 0x0BB8 x 10 ms = 30 s */
	static const uint8_t ok[] = { 0x50, 0x02, 0x01, 0xF4, 0x0B, 0xB8 };
	static const uint8_t pend[] = { 0x7F, 0x10, 0x78 };

	k.adopt_session_timing = true;
	k.timing_margin_ms = 50;
	uds_client_init(&c, &k);
	send(&c, req, sizeof(req), T0);
	uds_client_input(&c, ok, sizeof(ok), T0 + 1);
	send(&c, req, sizeof(req), T0 + 10);
	T_EQ_U64(uds_client_deadline(&c), T0 + 10 + FOTA_MS(550));
	uds_client_input(&c, pend, sizeof(pend), T0 + 20);
	T_EQ_U64(uds_client_deadline(&c), T0 + 20 + FOTA_MS(30050));
}

/* Functional mode: due every period from the session's start, whatever the client is doing. */
static void test_uds_client__functional_tester_present_is_cyclic(void)
{
	struct uds_client c;
	struct uds_client_cfg k = cfg;
	static const uint8_t req[] = { 0x10, 0x02 };
	static const uint8_t ok[] = { 0x50, 0x02, 0x00, 0x32, 0x01, 0xF4 };
	static const uint8_t td[] = { 0x36, 0x01, 0xAA };
	static const uint8_t reset_ok[] = { 0x51, 0x01 };
	static const uint8_t reset[] = { 0x11, 0x01 };
	const uint8_t *pdu;
	size_t len;
	fota_us t1 = T0 + FOTA_MS(10);

	k.tester_present = UDS_TP_FUNCTIONAL;
	k.tester_present_ms = 300;
	uds_client_init(&c, &k);
	send(&c, req, sizeof(req), T0);
	T_EQ_U64(uds_client_tp_deadline(&c), FOTA_NEVER); /* default session */
	uds_client_input(&c, ok, sizeof(ok), t1);
	T_EQ_U64(uds_client_tp_deadline(&c), t1 + FOTA_MS(300));
	T_TRUE(!uds_client_tp_due(&c, t1 + FOTA_MS(299)));
	/* Due while a request waits for its answer, and never through output(). */
	send(&c, td, sizeof(td), t1 + FOTA_MS(100));
	T_TRUE(uds_client_tp_due(&c, t1 + FOTA_MS(300)));
	T_EQ_U64(uds_client_deadline(&c), t1 + FOTA_MS(100) + FOTA_MS(150));
	uds_client_tp_sent(&c, t1 + FOTA_MS(300));
	T_EQ_U64(uds_client_tp_deadline(&c), t1 + FOTA_MS(600));
	T_EQ(c.tp_sent, 1);
	uds_client_tick(&c, t1 + FOTA_MS(400)); /* the TransferData times out */
	T_EQ(uds_client_output(&c, &pdu, &len, t1 + FOTA_SEC(5)), 0);
	/* The reset ends the session and the cycle. */
	send(&c, reset, sizeof(reset), t1 + FOTA_SEC(5));
	uds_client_input(&c, reset_ok, sizeof(reset_ok), t1 + FOTA_SEC(5));
	T_EQ_U64(uds_client_tp_deadline(&c), FOTA_NEVER);
	T_TRUE(!uds_client_tp_due(&c, t1 + FOTA_SEC(60)));
}

/* Physical mode: every period, before the next request, never while one is answered. */
static void test_uds_client__physical_tester_present_between_requests(void)
{
	struct uds_client c;
	struct uds_client_cfg k = cfg;
	static const uint8_t rd[] = { 0x22, 0xF1, 0x90 };
	static const uint8_t rd_ok[] = { 0x62, 0xF1, 0x90, 0x41 };
	const uint8_t *pdu;
	size_t len;

	k.tester_present = UDS_TP_PHYSICAL;
	k.tester_present_ms = 300;
	uds_client_init(&c, &k);
	uds_client_set_session(&c, UDS_SESSION_PROGRAMMING, T0);
	T_TRUE(!uds_client_tp_due(&c, T0 + FOTA_SEC(1))); /* not the caller's frame */
	/* Busy all the time: a request every 100 ms, still 3E 80 every 300 ms. */
	for (int i = 0; i < 3; i++) {
		fota_us t = T0 + FOTA_MS(100) * (fota_us)i;

		T_OK(uds_client_start(&c, rd, sizeof(rd), t));
		T_EQ(uds_client_output(&c, &pdu, &len, t), 1);
		T_EQ(pdu[0], 0x22);
		uds_client_input(&c, rd_ok, sizeof(rd_ok), t + FOTA_MS(5));
	}
	T_OK(uds_client_start(&c, rd, sizeof(rd), T0 + FOTA_MS(300)));
	T_EQ_U64(uds_client_deadline(&c), 0);
	T_EQ(uds_client_output(&c, &pdu, &len, T0 + FOTA_MS(300)), 1);
	T_EQ(len, 2);
	T_EQ(pdu[0], 0x3E);
	T_EQ(pdu[1], 0x80);
	T_EQ(uds_client_output(&c, &pdu, &len, T0 + FOTA_MS(301)), 1);
	T_EQ(pdu[0], 0x22); /* then the request */
	/* Not while its answer is awaited, however long. */
	T_EQ(uds_client_output(&c, &pdu, &len, T0 + FOTA_MS(650)), 0);
	T_EQ_U64(uds_client_deadline(&c), T0 + FOTA_MS(301) + FOTA_MS(150));
	uds_client_input(&c, rd_ok, sizeof(rd_ok), T0 + FOTA_MS(340));
	T_EQ_U64(uds_client_deadline(&c), T0 + FOTA_MS(600));
	T_EQ(uds_client_output(&c, &pdu, &len, T0 + FOTA_MS(600)), 1);
	T_EQ(pdu[0], 0x3E);
	T_EQ(c.tp_sent, 2);
}

static void test_uds_client__tester_present_mode_names(void)
{
	enum uds_tp_mode m;

	for (m = UDS_TP_IDLE; m <= UDS_TP_OFF; m++) {
		enum uds_tp_mode back;

		T_OK(uds_tp_mode_parse(uds_tp_mode_str(m), &back));
		T_EQ(back, m);
	}
	T_ERR(uds_tp_mode_parse("Functional", &m), -EINVAL);
	T_ERR(uds_tp_mode_parse("", &m), -EINVAL);
}

static const struct t_case cases[] = {
	T_CASE(uds_client__p2_expires_without_answer),
	T_CASE(uds_client__p2_restarts_on_transmit_confirmation),
	T_CASE(uds_client__each_response_pending_rearms_p2star),
	T_CASE(uds_client__p2star_expires_after_last_pending),
	T_CASE(uds_client__negative_response_gives_nrc_and_errno),
	T_CASE(uds_client__foreign_and_late_responses_are_ignored),
	T_CASE(uds_client__subfunction_echo_must_match),
	T_CASE(uds_client__transfer_counter_echo),
	T_CASE(uds_client__suppressed_positive_response_completes_after_p2),
	T_CASE(uds_client__suppressed_request_still_reports_a_refusal),
	T_CASE(uds_client__busy_while_in_flight),
	T_CASE(uds_client__tester_present_when_idle_in_non_default_session),
	T_CASE(uds_client__no_tester_present_option),
	T_CASE(uds_client__functional_tester_present_is_cyclic),
	T_CASE(uds_client__physical_tester_present_between_requests),
	T_CASE(uds_client__tester_present_mode_names),
	T_CASE(uds_client__adopts_session_timing),
};

int main(void)
{
	return t_main(cases, FOTA_ARRAY_SIZE(cases));
}
