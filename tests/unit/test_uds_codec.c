// SPDX-License-Identifier: MIT
/*
 * UDS codec: NRC and service names (ISO 14229-1 Annex A.1, Table 23) and the
 * byte layouts of the messages the programmer and the ECU exchange.
 */
#include <errno.h>
#include <string.h>
#include "tests/unit/t.h"
#include "uds/uds.h"

static void test_uds_codec__nrc_names_are_the_standard_ones(void)
{
	static const struct {
		uint8_t nrc;
		const char *name;
	} t[] = {
		{ 0x10, "generalReject" },
		{ 0x11, "serviceNotSupported" },
		{ 0x12, "subFunctionNotSupported" },
		{ 0x13, "incorrectMessageLengthOrInvalidFormat" },
		{ 0x14, "responseTooLong" },
		{ 0x21, "busyRepeatRequest" },
		{ 0x22, "conditionsNotCorrect" },
		{ 0x24, "requestSequenceError" },
		{ 0x25, "noResponseFromSubnetComponent" },
		{ 0x26, "failurePreventsExecutionOfRequestedAction" },
		{ 0x31, "requestOutOfRange" },
		{ 0x33, "securityAccessDenied" },
		{ 0x35, "invalidKey" },
		{ 0x36, "exceededNumberOfAttempts" },
		{ 0x37, "requiredTimeDelayNotExpired" },
		{ 0x70, "uploadDownloadNotAccepted" },
		{ 0x71, "transferDataSuspended" },
		{ 0x72, "generalProgrammingFailure" },
		{ 0x73, "wrongBlockSequenceCounter" },
		{ 0x78, "requestCorrectlyReceived-ResponsePending" },
		{ 0x7E, "subFunctionNotSupportedInActiveSession" },
		{ 0x7F, "serviceNotSupportedInActiveSession" },
		{ 0x92, "voltageTooHigh" },
		{ 0x93, "voltageTooLow" },
		{ 0x40, "reservedByExtendedDataLinkSecurityDocument" },
		{ 0xF3, "vehicleManufacturerSpecificConditionsNotCorrect" },
		{ 0x01, "ISOSAEReserved" },
		{ 0xFF, "ISOSAEReserved" },
	};

	for (size_t i = 0; i < FOTA_ARRAY_SIZE(t); i++)
		T_EQ_STR(uds_nrc_str(t[i].nrc), t[i].name);
}

static void test_uds_codec__service_names(void)
{
	T_EQ_STR(uds_sid_str(0x34), "RequestDownload");
	T_EQ_STR(uds_sid_str(0x74), "RequestDownload");
	T_EQ_STR(uds_sid_str(0x36), "TransferData");
	T_EQ_STR(uds_sid_str(0x3E), "TesterPresent");
	T_EQ_STR(uds_sid_str(0x85), "ControlDTCSetting");
	T_EQ_STR(uds_sid_str(0xC5), "ControlDTCSetting");
	T_EQ_STR(uds_sid_str(0x10), "DiagnosticSessionControl");
	T_EQ_STR(uds_sid_str(0xAA), "unknown service");
}

static void test_uds_codec__nrc_errno(void)
{
	T_ERR(uds_nrc_errno(0x22), -EBUSY);
	T_ERR(uds_nrc_errno(0x21), -EBUSY);
	T_ERR(uds_nrc_errno(0x24), -EBUSY);
	T_ERR(uds_nrc_errno(0x70), -EREMOTEIO);
	T_ERR(uds_nrc_errno(0x35), -EREMOTEIO);
}

static void test_uds_codec__request_download_layout(void)
{
	uint8_t b[16];
	static const uint8_t want44[] = { 0x34, 0x00, 0x44, 0x08, 0x00, 0x00,
					  0x00, 0x00, 0x01, 0x00, 0x00 };
	static const uint8_t want24[] = { 0x34, 0x11, 0x24, 0x00, 0x01, 0x23, 0x45, 0x01, 0x00 };

	T_EQ(uds_encode_request_download(b, sizeof(b), 0x00, 0x44, 0x08000000, 0x10000), 11);
	T_EQ_MEM(b, want44, sizeof(want44));
	T_EQ(uds_encode_request_download(b, sizeof(b), 0x11, 0x24, 0x012345, 0x100), 9);
	T_EQ_MEM(b, want24, sizeof(want24));
	T_ERR(uds_encode_request_download(b, sizeof(b), 0, 0x22, 0x10000, 1), -ERANGE);
	T_ERR(uds_encode_request_download(b, sizeof(b), 0, 0x05, 0, 1), -EINVAL);
	T_ERR(uds_encode_request_download(b, sizeof(b), 0, 0x50, 0, 1), -EINVAL);
	T_ERR(uds_encode_request_download(b, 8, 0, 0x44, 0, 1), -EMSGSIZE);
}

static void test_uds_codec__addr_len_decode(void)
{
	static const uint8_t p[] = { 0x08, 0x00, 0x10, 0x00, 0x00, 0x00, 0x02, 0x00 };
	static const uint8_t wide[] = { 0x00, 0x00, 0x08, 0x00, 0x10, 0x00, 0x01 };
	static const uint8_t huge[] = { 0x01, 0x00, 0x00, 0x00, 0x00, 0x01 };
	uint32_t a, s;

	T_EQ(uds_decode_addr_len(p, sizeof(p), 0x44, &a, &s), 8);
	T_EQ(a, 0x08001000);
	T_EQ(s, 0x200);
	T_EQ(uds_decode_addr_len(wide, sizeof(wide), 0x16, &a, &s), 7);
	T_EQ(a, 0x08001000);
	T_EQ(s, 1);
	T_ERR(uds_decode_addr_len(huge, sizeof(huge), 0x15, &a, &s), -ERANGE);
	T_ERR(uds_decode_addr_len(p, 7, 0x44, &a, &s), -EMSGSIZE);
	T_ERR(uds_decode_addr_len(p, sizeof(p), 0x40, &a, &s), -EINVAL);
}

static void test_uds_codec__max_block_length_from_lfi(void)
{
	static const uint8_t r20[] = { 0x74, 0x20, 0x0F, 0xFF };
	static const uint8_t r40[] = { 0x74, 0x40, 0x00, 0x01, 0x00, 0x02 };
	static const uint8_t r10[] = { 0x74, 0x10, 0x82 };
	static const uint8_t r50[] = { 0x74, 0x50, 0x01, 0x00, 0x00, 0x00, 0x00 };
	static const uint8_t shortr[] = { 0x74, 0x20, 0x0F };
	static const uint8_t zero[] = { 0x74, 0x00 };
	static const uint8_t tiny[] = { 0x74, 0x10, 0x02 };
	uint8_t b[8];
	uint32_t m;

	T_OK(uds_decode_request_download_rsp(r20, sizeof(r20), &m));
	T_EQ(m, 4095);
	T_OK(uds_decode_request_download_rsp(r40, sizeof(r40), &m));
	T_EQ(m, 0x10002);
	T_OK(uds_decode_request_download_rsp(r10, sizeof(r10), &m));
	T_EQ(m, 0x82);
	T_OK(uds_decode_request_download_rsp(r50, sizeof(r50), &m));
	T_EQ(m, UINT32_MAX);
	T_ERR(uds_decode_request_download_rsp(shortr, sizeof(shortr), &m), -EPROTO);
	T_ERR(uds_decode_request_download_rsp(zero, sizeof(zero), &m), -EPROTO);
	T_ERR(uds_decode_request_download_rsp(tiny, sizeof(tiny), &m), -EPROTO);
	T_EQ(uds_encode_request_download_rsp(b, sizeof(b), 4095), 4);
	T_EQ_MEM(b, r20, 4);
	T_EQ(uds_encode_request_download_rsp(b, sizeof(b), 0x10002), 6);
	T_EQ_MEM(b, r40, 6);
}

static void test_uds_codec__session_timing_units(void)
{
	/* ISO 14229-2 Table 4: P2 in 1 ms, P2* in 10 ms. */
	static const uint8_t rsp[] = { 0x50, 0x02, 0x00, 0x32, 0x01, 0xF4 };
	struct uds_session_timing t, in = { 50, 5000 }, odd = { 70000, 5001 };
	uint8_t b[8], session;

	T_OK(uds_decode_session_rsp(rsp, sizeof(rsp), &session, &t));
	T_EQ(session, 2);
	T_EQ(t.p2_ms, 50);
	T_EQ(t.p2_star_ms, 5000);
	T_EQ(uds_encode_session_rsp(b, sizeof(b), 2, &in), 6);
	T_EQ_MEM(b, rsp, 6);
	uds_encode_session_rsp(b, sizeof(b), 3, &odd);
	T_EQ(uds_get_be(b + 2, 2), 0xFFFF);
	T_EQ(uds_get_be(b + 4, 2), 501); /* rounded up, never shorter */
	T_ERR(uds_decode_session_rsp(rsp, 4, &session, &t), -EPROTO);
	T_OK(uds_decode_session_rsp(rsp, 2, &session, NULL));
	T_ERR(uds_decode_session_rsp(rsp + 1, 5, &session, NULL), -EPROTO);
}

static void test_uds_codec__routine_and_negative(void)
{
	static const uint8_t crc[] = { 0xDE, 0xAD, 0xBE, 0xEF };
	static const uint8_t want[] = { 0x31, 0x01, 0x02, 0x02, 0xDE, 0xAD, 0xBE, 0xEF };
	uint8_t b[16], sid = 0, nrc = 0;

	T_EQ(uds_encode_routine(b, sizeof(b), 0x01, 0x0202, crc, 4), 8);
	T_EQ_MEM(b, want, 8);
	T_ERR(uds_encode_routine(b, 7, 0x01, 0x0202, crc, 4), -EMSGSIZE);
	T_EQ(uds_encode_negative(b, 0x36, 0x73), 3);
	T_TRUE(uds_is_negative(b, 3, &sid, &nrc));
	T_EQ(sid, 0x36);
	T_EQ(nrc, 0x73);
	T_TRUE(!uds_is_negative(b, 2, &sid, &nrc));
	T_TRUE(!uds_is_negative(want, 8, NULL, NULL));
}

static const struct t_case cases[] = {
	T_CASE(uds_codec__nrc_names_are_the_standard_ones),
	T_CASE(uds_codec__service_names),
	T_CASE(uds_codec__nrc_errno),
	T_CASE(uds_codec__request_download_layout),
	T_CASE(uds_codec__addr_len_decode),
	T_CASE(uds_codec__max_block_length_from_lfi),
	T_CASE(uds_codec__session_timing_units),
	T_CASE(uds_codec__routine_and_negative),
};

int main(void)
{
	return t_main(cases, FOTA_ARRAY_SIZE(cases));
}
