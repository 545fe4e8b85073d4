// SPDX-License-Identifier: MIT
/*
 * ISO 14229-1:2013 (UDS) constants and pure codecs: service identifiers,
 * negative response codes with their standard names (Annex A.1), and the
 * encoders/decoders the client, the programming sequence and the server
 * share. No state, no I/O: plain functions over byte buffers.
 */
#ifndef FOTA_UDS_UDS_H
#define FOTA_UDS_UDS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Service identifiers (ISO 14229-1 Table 23); positive response SID = SID + 0x40. */
enum uds_sid {
	UDS_SID_DIAGNOSTIC_SESSION_CONTROL = 0x10,
	UDS_SID_ECU_RESET = 0x11,
	UDS_SID_CLEAR_DIAGNOSTIC_INFORMATION = 0x14,
	UDS_SID_READ_DTC_INFORMATION = 0x19,
	UDS_SID_READ_DATA_BY_IDENTIFIER = 0x22,
	UDS_SID_READ_MEMORY_BY_ADDRESS = 0x23,
	UDS_SID_SECURITY_ACCESS = 0x27,
	UDS_SID_COMMUNICATION_CONTROL = 0x28,
	UDS_SID_WRITE_DATA_BY_IDENTIFIER = 0x2E,
	UDS_SID_ROUTINE_CONTROL = 0x31,
	UDS_SID_REQUEST_DOWNLOAD = 0x34,
	UDS_SID_REQUEST_UPLOAD = 0x35,
	UDS_SID_TRANSFER_DATA = 0x36,
	UDS_SID_REQUEST_TRANSFER_EXIT = 0x37,
	UDS_SID_TESTER_PRESENT = 0x3E,
	UDS_SID_NEGATIVE_RESPONSE = 0x7F,
	UDS_SID_CONTROL_DTC_SETTING = 0x85,
};

#define UDS_POSITIVE_RESPONSE_OFFSET 0x40
/* suppressPosRspMsgIndicationBit, bit 7 of the sub-function byte (ISO 14229-1 §8.2.2). */
#define UDS_SUPPRESS_POS_RSP 0x80

/* Negative response codes (ISO 14229-1 Annex A.1, Table A.1), real values. */
enum uds_nrc {
	UDS_NRC_POSITIVE_RESPONSE = 0x00,
	UDS_NRC_GENERAL_REJECT = 0x10,
	UDS_NRC_SERVICE_NOT_SUPPORTED = 0x11,
	UDS_NRC_SUB_FUNCTION_NOT_SUPPORTED = 0x12,
	UDS_NRC_INCORRECT_MESSAGE_LENGTH_OR_INVALID_FORMAT = 0x13,
	UDS_NRC_RESPONSE_TOO_LONG = 0x14,
	UDS_NRC_BUSY_REPEAT_REQUEST = 0x21,
	UDS_NRC_CONDITIONS_NOT_CORRECT = 0x22,
	UDS_NRC_REQUEST_SEQUENCE_ERROR = 0x24,
	UDS_NRC_NO_RESPONSE_FROM_SUBNET_COMPONENT = 0x25,
	UDS_NRC_FAILURE_PREVENTS_EXECUTION_OF_REQUESTED_ACTION = 0x26,
	UDS_NRC_REQUEST_OUT_OF_RANGE = 0x31,
	UDS_NRC_SECURITY_ACCESS_DENIED = 0x33,
	UDS_NRC_AUTHENTICATION_REQUIRED = 0x34,
	UDS_NRC_INVALID_KEY = 0x35,
	UDS_NRC_EXCEEDED_NUMBER_OF_ATTEMPTS = 0x36,
	UDS_NRC_REQUIRED_TIME_DELAY_NOT_EXPIRED = 0x37,
	UDS_NRC_SECURE_DATA_TRANSMISSION_REQUIRED = 0x38,
	UDS_NRC_SECURE_DATA_TRANSMISSION_NOT_ALLOWED = 0x39,
	UDS_NRC_SECURE_DATA_VERIFICATION_FAILED = 0x3A,
	UDS_NRC_UPLOAD_DOWNLOAD_NOT_ACCEPTED = 0x70,
	UDS_NRC_TRANSFER_DATA_SUSPENDED = 0x71,
	UDS_NRC_GENERAL_PROGRAMMING_FAILURE = 0x72,
	UDS_NRC_WRONG_BLOCK_SEQUENCE_COUNTER = 0x73,
	UDS_NRC_REQUEST_CORRECTLY_RECEIVED_RESPONSE_PENDING = 0x78,
	UDS_NRC_SUB_FUNCTION_NOT_SUPPORTED_IN_ACTIVE_SESSION = 0x7E,
	UDS_NRC_SERVICE_NOT_SUPPORTED_IN_ACTIVE_SESSION = 0x7F,
	UDS_NRC_RPM_TOO_HIGH = 0x81,
	UDS_NRC_RPM_TOO_LOW = 0x82,
	UDS_NRC_ENGINE_IS_RUNNING = 0x83,
	UDS_NRC_ENGINE_IS_NOT_RUNNING = 0x84,
	UDS_NRC_ENGINE_RUN_TIME_TOO_LOW = 0x85,
	UDS_NRC_TEMPERATURE_TOO_HIGH = 0x86,
	UDS_NRC_TEMPERATURE_TOO_LOW = 0x87,
	UDS_NRC_VEHICLE_SPEED_TOO_HIGH = 0x88,
	UDS_NRC_VEHICLE_SPEED_TOO_LOW = 0x89,
	UDS_NRC_THROTTLE_PEDAL_TOO_HIGH = 0x8A,
	UDS_NRC_THROTTLE_PEDAL_TOO_LOW = 0x8B,
	UDS_NRC_TRANSMISSION_RANGE_NOT_IN_NEUTRAL = 0x8C,
	UDS_NRC_TRANSMISSION_RANGE_NOT_IN_GEAR = 0x8D,
	UDS_NRC_BRAKE_SWITCHES_NOT_CLOSED = 0x8F,
	UDS_NRC_SHIFTER_LEVER_NOT_IN_PARK = 0x90,
	UDS_NRC_TORQUE_CONVERTER_CLUTCH_LOCKED = 0x91,
	UDS_NRC_VOLTAGE_TOO_HIGH = 0x92,
	UDS_NRC_VOLTAGE_TOO_LOW = 0x93,
	UDS_NRC_RESOURCE_TEMPORARILY_NOT_AVAILABLE = 0x94,
};

/* diagnosticSessionType (ISO 14229-1 Table 25). */
enum uds_session {
	UDS_SESSION_DEFAULT = 0x01,
	UDS_SESSION_PROGRAMMING = 0x02,
	UDS_SESSION_EXTENDED = 0x03,
};

/* resetType (ISO 14229-1 Table 34); 0 is ours: "no reset at the end". */
enum uds_reset_type {
	UDS_RESET_NONE = 0x00,
	UDS_RESET_HARD = 0x01,
	UDS_RESET_KEY_OFF_ON = 0x02,
	UDS_RESET_SOFT = 0x03,
};

/* RoutineControl routineControlType (ISO 14229-1 Table 378). */
#define UDS_ROUTINE_START	    0x01
#define UDS_ROUTINE_STOP	    0x02
#define UDS_ROUTINE_REQUEST_RESULTS 0x03

/* ControlDTCSetting DTCSettingType (ISO 14229-1 Table 128). */
#define UDS_DTC_SETTING_ON  0x01
#define UDS_DTC_SETTING_OFF 0x02

/* CommunicationControl controlType (Table 54) and communicationType (Annex B.1). */
#define UDS_CC_ENABLE_RX_AND_TX	    0x00
#define UDS_CC_DISABLE_RX_AND_TX    0x03
#define UDS_CC_NORMAL_COMMUNICATION 0x01

/* Identification DIDs (ISO 14229-1 Annex C.1, Table C.1) used by the simulated ECU. */
#define UDS_DID_BOOT_SOFTWARE_ID	   0xF180
#define UDS_DID_APPLICATION_SOFTWARE_ID	   0xF181
#define UDS_DID_ACTIVE_DIAGNOSTIC_SESSION  0xF186
#define UDS_DID_SPARE_PART_NUMBER	   0xF187
#define UDS_DID_ECU_SOFTWARE_NUMBER	   0xF188
#define UDS_DID_ECU_SOFTWARE_VERSION	   0xF189
#define UDS_DID_SYSTEM_SUPPLIER_ID	   0xF18A
#define UDS_DID_ECU_MANUFACTURING_DATE	   0xF18B
#define UDS_DID_ECU_SERIAL_NUMBER	   0xF18C
#define UDS_DID_VIN			   0xF190
#define UDS_DID_ECU_HARDWARE_NUMBER	   0xF191
#define UDS_DID_SYSTEM_SUPPLIER_SW_VERSION 0xF195
#define UDS_DID_SYSTEM_NAME		   0xF197

/*
 * Standard camel-case name of an NRC ("uploadDownloadNotAccepted"). Values the
 * standard reserves give "ISOSAEReserved", 0x38-0x4F "reservedByExtendedDataLinkSecurityDocument",
 * 0xF0-0xFE "vehicleManufacturerSpecificConditionsNotCorrect". Never NULL.
 */
const char *uds_nrc_str(uint8_t nrc);

/* Service name of a request SID ("RequestDownload"); a response SID gives its request's name
 * ("RequestDownload" for 0x74). Unknown: "unknown service". Never NULL. */
const char *uds_sid_str(uint8_t sid);

/*
 * The errno meaning of an NRC (core/err.h): -EBUSY when the ECU refused because
 * of its present state (0x21 busyRepeatRequest, 0x22 conditionsNotCorrect,
 * 0x24 requestSequenceError, 0x37 requiredTimeDelayNotExpired), -EREMOTEIO otherwise.
 */
int uds_nrc_errno(uint8_t nrc);

/* True for SIDs whose byte 1 is a sub-function with the suppressPosRsp bit. */
bool uds_sid_has_subfunction(uint8_t sid);

/*
 * A negative response 7F <sid> <nrc>? Returns true and fills *sid and *nrc (either
 * may be NULL) if pdu is one (exactly 3 bytes; longer ones are accepted too).
 */
bool uds_is_negative(const uint8_t *pdu, size_t len, uint8_t *sid, uint8_t *nrc);

/* Write 7F sid nrc into buf (3 bytes). Returns 3. */
size_t uds_encode_negative(uint8_t *buf, uint8_t sid, uint8_t nrc);

/*
 * addressAndLengthFormatIdentifier (ISO 14229-1 §14.2, Table 394/H.1): the
 * high nibble is the number of memorySize bytes, the low nibble the number of
 * memoryAddress bytes. We support 1..4 bytes each (32-bit memory).
 */
bool uds_alfid_valid(uint8_t alfid);

/*
 * Big-endian memoryAddress then memorySize per alfid into buf. Returns the
 * number of bytes written, -EINVAL for an unsupported alfid, -ERANGE if addr
 * or size does not fit the given widths, -EMSGSIZE if cap is too small.
 */
int uds_encode_addr_len(uint8_t *buf, size_t cap, uint8_t alfid, uint32_t addr, uint32_t size);

/*
 * Parse memoryAddress and memorySize per alfid from p (n bytes available).
 * Widths up to 15 bytes are read; leading zero bytes beyond 4 are accepted.
 * Returns the bytes consumed, -EINVAL (alfid nibble 0), -EMSGSIZE (n too
 * short), -ERANGE (value above 32 bits).
 */
int uds_decode_addr_len(const uint8_t *p, size_t n, uint8_t alfid, uint32_t *addr, uint32_t *size);

/*
 * RequestDownload request: 34 <dataFormatIdentifier> <alfid> <addr> <size>.
 * Returns the length or a negative errno as uds_encode_addr_len().
 */
int uds_encode_request_download(uint8_t *buf, size_t cap, uint8_t dfi, uint8_t alfid, uint32_t addr,
				uint32_t size);

/*
 * RequestDownload positive response: 74 <lengthFormatIdentifier>
 * <maxNumberOfBlockLength>. The LFI's high nibble is the number of length
 * bytes (ISO 14229-1 Table 399). maxNumberOfBlockLength counts the whole
 * TransferData request, SID and counter included. Returns 0, -EPROTO if the
 * response is malformed or the value is below 3 (no room for one data byte);
 * values above 32 bits are clamped to UINT32_MAX.
 */
int uds_decode_request_download_rsp(const uint8_t *rsp, size_t len, uint32_t *max_block_len);

/* Encode that response with the smallest LFI (0x20 or 0x40). Returns the length (4 or 6). */
int uds_encode_request_download_rsp(uint8_t *buf, size_t cap, uint32_t max_block_len);

/* Session timing from a DiagnosticSessionControl response (ISO 14229-2 §7.2, Table 4). */
struct uds_session_timing {
	uint32_t p2_ms;	     /* P2server_max, 1 ms resolution on the wire */
	uint32_t p2_star_ms; /* P2*server_max, sent in 10 ms units */
};

/*
 * Positive DiagnosticSessionControl response: 50 <session> <P2 hi lo> <P2* in 10 ms, hi lo>.
 * Returns 0, -EPROTO if it is not one (too short, wrong SID).
 */
int uds_decode_session_rsp(const uint8_t *rsp, size_t len, uint8_t *session,
			   struct uds_session_timing *t);

/* Encode that response (6 bytes; P2* rounded up to 10 ms, both clamped to 16 bits). */
int uds_encode_session_rsp(uint8_t *buf, size_t cap, uint8_t session,
			   const struct uds_session_timing *t);

/*
 * RoutineControl request: 31 <type> <rid hi lo> <option record>. Returns the
 * length, -EMSGSIZE if cap is too small.
 */
int uds_encode_routine(uint8_t *buf, size_t cap, uint8_t type, uint16_t rid, const uint8_t *opt,
		       size_t optlen);

/* Store/load big-endian integers of 1..4 bytes. */
void uds_put_be(uint8_t *p, uint32_t v, unsigned n);
uint32_t uds_get_be(const uint8_t *p, unsigned n);

#endif
