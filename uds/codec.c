// SPDX-License-Identifier: MIT
/*
 * UDS codec: names of services and negative response codes (ISO 14229-1
 * Table 23 and Annex A.1) and the pure encoders/decoders of the messages the
 * programmer and the simulated ECU exchange (§9.2 session control, §14.2
 * RequestDownload, §13.2 RoutineControl). See uds/uds.h.
 */
#include <errno.h>
#include <string.h>
#include "uds/uds.h"

static const char *const nrc_names[256] = {
	[0x00] = "positiveResponse",
	[0x10] = "generalReject",
	[0x11] = "serviceNotSupported",
	[0x12] = "subFunctionNotSupported",
	[0x13] = "incorrectMessageLengthOrInvalidFormat",
	[0x14] = "responseTooLong",
	[0x21] = "busyRepeatRequest",
	[0x22] = "conditionsNotCorrect",
	[0x24] = "requestSequenceError",
	[0x25] = "noResponseFromSubnetComponent",
	[0x26] = "failurePreventsExecutionOfRequestedAction",
	[0x31] = "requestOutOfRange",
	[0x33] = "securityAccessDenied",
	[0x34] = "authenticationRequired",
	[0x35] = "invalidKey",
	[0x36] = "exceededNumberOfAttempts",
	[0x37] = "requiredTimeDelayNotExpired",
	[0x38] = "secureDataTransmissionRequired",
	[0x39] = "secureDataTransmissionNotAllowed",
	[0x3A] = "secureDataVerificationFailed",
	[0x70] = "uploadDownloadNotAccepted",
	[0x71] = "transferDataSuspended",
	[0x72] = "generalProgrammingFailure",
	[0x73] = "wrongBlockSequenceCounter",
	[0x78] = "requestCorrectlyReceived-ResponsePending",
	[0x7E] = "subFunctionNotSupportedInActiveSession",
	[0x7F] = "serviceNotSupportedInActiveSession",
	[0x81] = "rpmTooHigh",
	[0x82] = "rpmTooLow",
	[0x83] = "engineIsRunning",
	[0x84] = "engineIsNotRunning",
	[0x85] = "engineRunTimeTooLow",
	[0x86] = "temperatureTooHigh",
	[0x87] = "temperatureTooLow",
	[0x88] = "vehicleSpeedTooHigh",
	[0x89] = "vehicleSpeedTooLow",
	[0x8A] = "throttle/PedalTooHigh",
	[0x8B] = "throttle/PedalTooLow",
	[0x8C] = "transmissionRangeNotInNeutral",
	[0x8D] = "transmissionRangeNotInGear",
	[0x8F] = "brakeSwitch(es)NotClosed",
	[0x90] = "shifterLeverNotInPark",
	[0x91] = "torqueConverterClutchLocked",
	[0x92] = "voltageTooHigh",
	[0x93] = "voltageTooLow",
	[0x94] = "resourceTemporarilyNotAvailable",
};

const char *uds_nrc_str(uint8_t nrc)
{
	if (nrc_names[nrc])
		return nrc_names[nrc];
	if (nrc >= 0x38 && nrc <= 0x4F)
		return "reservedByExtendedDataLinkSecurityDocument";
	if (nrc >= 0xF0 && nrc <= 0xFE)
		return "vehicleManufacturerSpecificConditionsNotCorrect";
	return "ISOSAEReserved";
}

const char *uds_sid_str(uint8_t sid)
{
	/* A positive response SID names its request's service. */
	if (sid >= 0x50 && sid <= 0x7E)
		sid -= UDS_POSITIVE_RESPONSE_OFFSET;
	else if (sid == 0xC5)
		sid = UDS_SID_CONTROL_DTC_SETTING;
	switch (sid) {
	case UDS_SID_DIAGNOSTIC_SESSION_CONTROL:
		return "DiagnosticSessionControl";
	case UDS_SID_ECU_RESET:
		return "ECUReset";
	case UDS_SID_CLEAR_DIAGNOSTIC_INFORMATION:
		return "ClearDiagnosticInformation";
	case UDS_SID_READ_DTC_INFORMATION:
		return "ReadDTCInformation";
	case UDS_SID_READ_DATA_BY_IDENTIFIER:
		return "ReadDataByIdentifier";
	case UDS_SID_READ_MEMORY_BY_ADDRESS:
		return "ReadMemoryByAddress";
	case UDS_SID_SECURITY_ACCESS:
		return "SecurityAccess";
	case UDS_SID_COMMUNICATION_CONTROL:
		return "CommunicationControl";
	case UDS_SID_WRITE_DATA_BY_IDENTIFIER:
		return "WriteDataByIdentifier";
	case UDS_SID_ROUTINE_CONTROL:
		return "RoutineControl";
	case UDS_SID_REQUEST_DOWNLOAD:
		return "RequestDownload";
	case UDS_SID_REQUEST_UPLOAD:
		return "RequestUpload";
	case UDS_SID_TRANSFER_DATA:
		return "TransferData";
	case UDS_SID_REQUEST_TRANSFER_EXIT:
		return "RequestTransferExit";
	case UDS_SID_TESTER_PRESENT:
		return "TesterPresent";
	case UDS_SID_NEGATIVE_RESPONSE:
		return "NegativeResponse";
	case UDS_SID_CONTROL_DTC_SETTING:
		return "ControlDTCSetting";
	default:
		return "unknown service";
	}
}

int uds_nrc_errno(uint8_t nrc)
{
	switch (nrc) {
	case UDS_NRC_BUSY_REPEAT_REQUEST:
	case UDS_NRC_CONDITIONS_NOT_CORRECT:
	case UDS_NRC_REQUEST_SEQUENCE_ERROR:
	case UDS_NRC_REQUIRED_TIME_DELAY_NOT_EXPIRED:
		return -EBUSY;
	default:
		return -EREMOTEIO;
	}
}

bool uds_sid_has_subfunction(uint8_t sid)
{
	switch (sid) {
	case UDS_SID_DIAGNOSTIC_SESSION_CONTROL:
	case UDS_SID_ECU_RESET:
	case UDS_SID_READ_DTC_INFORMATION:
	case UDS_SID_SECURITY_ACCESS:
	case UDS_SID_COMMUNICATION_CONTROL:
	case UDS_SID_ROUTINE_CONTROL:
	case UDS_SID_TESTER_PRESENT:
	case UDS_SID_CONTROL_DTC_SETTING:
		return true;
	default:
		return false;
	}
}

bool uds_is_negative(const uint8_t *pdu, size_t len, uint8_t *sid, uint8_t *nrc)
{
	if (len < 3 || pdu[0] != UDS_SID_NEGATIVE_RESPONSE)
		return false;
	if (sid)
		*sid = pdu[1];
	if (nrc)
		*nrc = pdu[2];
	return true;
}

size_t uds_encode_negative(uint8_t *buf, uint8_t sid, uint8_t nrc)
{
	buf[0] = UDS_SID_NEGATIVE_RESPONSE;
	buf[1] = sid;
	buf[2] = nrc;
	return 3;
}

void uds_put_be(uint8_t *p, uint32_t v, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		p[i] = (uint8_t)(v >> (8 * (n - 1 - i)));
}

uint32_t uds_get_be(const uint8_t *p, unsigned n)
{
	uint32_t v = 0;

	for (unsigned i = 0; i < n; i++)
		v = v << 8 | p[i];
	return v;
}

bool uds_alfid_valid(uint8_t alfid)
{
	unsigned a = alfid & 0x0F, s = alfid >> 4;

	return a >= 1 && a <= 4 && s >= 1 && s <= 4;
}

static bool fits(uint32_t v, unsigned n)
{
	return n >= 4 || v >> (8 * n) == 0;
}

int uds_encode_addr_len(uint8_t *buf, size_t cap, uint8_t alfid, uint32_t addr, uint32_t size)
{
	unsigned na = alfid & 0x0F, ns = alfid >> 4;

	if (!uds_alfid_valid(alfid))
		return -EINVAL;
	if (!fits(addr, na) || !fits(size, ns))
		return -ERANGE;
	if (cap < na + ns)
		return -EMSGSIZE;
	uds_put_be(buf, addr, na);
	uds_put_be(buf + na, size, ns);
	return (int)(na + ns);
}

/* Read an n-byte (n <= 15) big-endian value that must fit 32 bits. */
static int get_wide(const uint8_t *p, unsigned n, uint32_t *v)
{
	unsigned i;

	for (i = 0; i + 4 < n; i++)
		if (p[i])
			return -ERANGE;
	*v = uds_get_be(p + i, n - i);
	return 0;
}

int uds_decode_addr_len(const uint8_t *p, size_t n, uint8_t alfid, uint32_t *addr, uint32_t *size)
{
	unsigned na = alfid & 0x0F, ns = alfid >> 4;

	if (!na || !ns)
		return -EINVAL;
	if (n < na + ns)
		return -EMSGSIZE;
	if (get_wide(p, na, addr) || get_wide(p + na, ns, size))
		return -ERANGE;
	return (int)(na + ns);
}

int uds_encode_request_download(uint8_t *buf, size_t cap, uint8_t dfi, uint8_t alfid, uint32_t addr,
				uint32_t size)
{
	int n;

	if (cap < 3)
		return -EMSGSIZE;
	buf[0] = UDS_SID_REQUEST_DOWNLOAD;
	buf[1] = dfi;
	buf[2] = alfid;
	n = uds_encode_addr_len(buf + 3, cap - 3, alfid, addr, size);
	return n < 0 ? n : n + 3;
}

int uds_decode_request_download_rsp(const uint8_t *rsp, size_t len, uint32_t *max_block_len)
{
	unsigned n, i;
	uint64_t v = 0;

	if (len < 2 || rsp[0] != UDS_SID_REQUEST_DOWNLOAD + UDS_POSITIVE_RESPONSE_OFFSET)
		return -EPROTO;
	n = rsp[1] >> 4; /* lengthFormatIdentifier, Table 399: low nibble reserved */
	if (n == 0 || len < 2 + n)
		return -EPROTO;
	for (i = 0; i < n; i++) {
		v = v << 8 | rsp[2 + i];
		if (v > UINT32_MAX)
			v = UINT32_MAX + 1ull; /* saturate, keep shifting harmlessly */
	}
	if (v < 3)
		return -EPROTO;
	*max_block_len = v > UINT32_MAX ? UINT32_MAX : (uint32_t)v;
	return 0;
}

int uds_encode_request_download_rsp(uint8_t *buf, size_t cap, uint32_t max_block_len)
{
	unsigned n = max_block_len > 0xFFFF ? 4 : 2;

	if (cap < 2 + n)
		return -EMSGSIZE;
	buf[0] = UDS_SID_REQUEST_DOWNLOAD + UDS_POSITIVE_RESPONSE_OFFSET;
	buf[1] = (uint8_t)(n << 4);
	uds_put_be(buf + 2, max_block_len, n);
	return (int)(2 + n);
}

int uds_decode_session_rsp(const uint8_t *rsp, size_t len, uint8_t *session,
			   struct uds_session_timing *t)
{
	if (len < 2 || rsp[0] != UDS_SID_DIAGNOSTIC_SESSION_CONTROL + UDS_POSITIVE_RESPONSE_OFFSET)
		return -EPROTO;
	if (session)
		*session = rsp[1] & 0x7F;
	if (!t)
		return 0;
	/* sessionParameterRecord (ISO 14229-2 Table 4): P2 in 1 ms, P2* in 10 ms. */
	if (len < 6)
		return -EPROTO;
	t->p2_ms = uds_get_be(rsp + 2, 2);
	t->p2_star_ms = uds_get_be(rsp + 4, 2) * 10u;
	return 0;
}

int uds_encode_session_rsp(uint8_t *buf, size_t cap, uint8_t session,
			   const struct uds_session_timing *t)
{
	uint32_t p2 = t->p2_ms, p2s = (t->p2_star_ms + 9) / 10;

	if (cap < 6)
		return -EMSGSIZE;
	buf[0] = UDS_SID_DIAGNOSTIC_SESSION_CONTROL + UDS_POSITIVE_RESPONSE_OFFSET;
	buf[1] = session;
	uds_put_be(buf + 2, p2 > 0xFFFF ? 0xFFFF : p2, 2);
	uds_put_be(buf + 4, p2s > 0xFFFF ? 0xFFFF : p2s, 2);
	return 6;
}

int uds_encode_routine(uint8_t *buf, size_t cap, uint8_t type, uint16_t rid, const uint8_t *opt,
		       size_t optlen)
{
	if (cap < 4 + optlen)
		return -EMSGSIZE;
	buf[0] = UDS_SID_ROUTINE_CONTROL;
	buf[1] = type;
	uds_put_be(buf + 2, rid, 2);
	if (optlen)
		memcpy(buf + 4, opt, optlen);
	return (int)(4 + optlen);
}
