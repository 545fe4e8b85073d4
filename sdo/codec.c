// SPDX-License-Identifier: MIT
/*
 * CiA 301 SDO frame codec (§7.2.4.3) and abort-code names (§7.2.4.3.17).
 * Pure functions over 8-byte buffers; the engines (client.c, server.c) carry
 * the state.
 */
#include <errno.h>
#include <string.h>
#include "sdo/sdo.h"

static const struct {
	uint32_t code;
	const char *str;
} sdo_abort_names[] = {
	{ SDO_ABORT_TOGGLE, "toggle bit not alternated" },
	{ SDO_ABORT_TIMEOUT, "SDO protocol timed out" },
	{ SDO_ABORT_CMD, "client/server command specifier not valid or unknown" },
	{ SDO_ABORT_BLOCK_SIZE, "invalid block size" },
	{ SDO_ABORT_SEQ_NO, "invalid sequence number" },
	{ SDO_ABORT_CRC, "CRC error" },
	{ SDO_ABORT_OUT_OF_MEMORY, "out of memory" },
	{ SDO_ABORT_UNSUPPORTED_ACCESS, "unsupported access to an object" },
	{ SDO_ABORT_WRITE_ONLY, "attempt to read a write-only object" },
	{ SDO_ABORT_READ_ONLY, "attempt to write a read-only object" },
	{ SDO_ABORT_NO_OBJECT, "object does not exist in the object dictionary" },
	{ SDO_ABORT_NO_MAP, "object cannot be mapped to the PDO" },
	{ SDO_ABORT_MAP_LEN, "mapped objects would exceed the PDO length" },
	{ SDO_ABORT_PARAM_INCOMPAT, "general parameter incompatibility" },
	{ SDO_ABORT_DEVICE_INCOMPAT, "general internal incompatibility in the device" },
	{ SDO_ABORT_HARDWARE, "access failed due to a hardware error" },
	{ SDO_ABORT_TYPE_MISMATCH,
	  "data type does not match, length of service parameter does not match" },
	{ SDO_ABORT_DATA_LONG, "data type does not match, length of service parameter too high" },
	{ SDO_ABORT_DATA_SHORT, "data type does not match, length of service parameter too low" },
	{ SDO_ABORT_NO_SUBINDEX, "sub-index does not exist" },
	{ SDO_ABORT_VALUE_RANGE, "invalid value for parameter" },
	{ SDO_ABORT_VALUE_HIGH, "value of parameter written too high" },
	{ SDO_ABORT_VALUE_LOW, "value of parameter written too low" },
	{ SDO_ABORT_MAX_LESS_MIN, "maximum value is less than minimum value" },
	{ SDO_ABORT_NO_RESOURCE, "resource not available: SDO connection" },
	{ SDO_ABORT_GENERAL, "general error" },
	{ SDO_ABORT_DATA_TRANSFER, "data cannot be transferred or stored to the application" },
	{ SDO_ABORT_LOCAL_CONTROL,
	  "data cannot be transferred or stored to the application because of local control" },
	{ SDO_ABORT_DEVICE_STATE,
	  "data cannot be transferred or stored to the application because of the present device state" },
	{ SDO_ABORT_OD_GENERATION,
	  "object dictionary dynamic generation failed or no object dictionary present" },
	{ SDO_ABORT_NO_DATA, "no data available" },
};

const char *sdo_abort_str(uint32_t code)
{
	for (size_t i = 0; i < sizeof(sdo_abort_names) / sizeof(sdo_abort_names[0]); i++)
		if (sdo_abort_names[i].code == code)
			return sdo_abort_names[i].str;
	return "unknown abort code";
}

static void get_mux(struct sdo_msg *m, const uint8_t d[8])
{
	m->index = (uint16_t)(d[1] | d[2] << 8);
	m->sub = d[3];
}

static void put_mux(uint8_t out[8], const struct sdo_msg *m)
{
	out[1] = (uint8_t)m->index;
	out[2] = (uint8_t)(m->index >> 8);
	out[3] = m->sub;
}

/* Initiate download request and initiate upload response share this layout. */
static void get_initiate(struct sdo_msg *m, const uint8_t d[8])
{
	get_mux(m, d);
	m->expedited = d[0] & SDO_INIT_E;
	m->size_indicated = d[0] & SDO_INIT_S;
	if (m->expedited) {
		/* e=1, s=0: "d contains unspecified number of bytes" (4 at most). */
		m->len = m->size_indicated ? (uint8_t)(4 - SDO_INIT_N(d[0])) : 4;
		m->size = m->size_indicated ? m->len : 0;
		memcpy(m->data, d + 4, 4);
	} else {
		m->size = m->size_indicated ? sdo_get_le32(d + 4) : 0;
	}
}

static int put_initiate(uint8_t out[8], const struct sdo_msg *m)
{
	if (m->expedited) {
		if (m->len > 4 || (m->size_indicated && m->len == 0))
			return -EINVAL;
		out[0] |= SDO_INIT_E;
		if (m->size_indicated)
			out[0] |= (uint8_t)(SDO_INIT_S | (4 - m->len) << 2);
		memcpy(out + 4, m->data, m->len);
	} else if (m->size_indicated) {
		out[0] |= SDO_INIT_S;
		sdo_put_le32(out + 4, m->size);
	}
	put_mux(out, m);
	return 0;
}

static void get_segment(struct sdo_msg *m, const uint8_t d[8])
{
	m->toggle = d[0] & SDO_SEG_T;
	m->last = d[0] & SDO_SEG_C;
	m->len = (uint8_t)(7 - SDO_SEG_N(d[0]));
	memcpy(m->data, d + 1, 7);
}

static int put_segment(uint8_t out[8], const struct sdo_msg *m)
{
	if (m->len > 7)
		return -EINVAL;
	out[0] |= (uint8_t)((m->toggle ? SDO_SEG_T : 0) | (7 - m->len) << 1 |
			    (m->last ? SDO_SEG_C : 0));
	memcpy(out + 1, m->data, m->len);
	return 0;
}

int sdo_decode_request(struct sdo_msg *m, const uint8_t d[8])
{
	memset(m, 0, sizeof(*m));
	get_mux(m, d);
	switch (d[0] >> SDO_CS_SHIFT) {
	case SDO_CCS_DOWNLOAD_SEGMENT:
		m->kind = SDO_DOWNLOAD_SEG;
		get_segment(m, d);
		return 0;
	case SDO_CCS_DOWNLOAD_INITIATE:
		m->kind = SDO_INIT_DOWNLOAD;
		get_initiate(m, d);
		return 0;
	case SDO_CCS_UPLOAD_INITIATE:
		m->kind = SDO_INIT_UPLOAD;
		return 0;
	case SDO_CCS_UPLOAD_SEGMENT:
		m->kind = SDO_UPLOAD_SEG;
		m->toggle = d[0] & SDO_SEG_T;
		return 0;
	case SDO_CCS_ABORT:
		m->kind = SDO_ABORT;
		m->abort_code = sdo_get_le32(d + 4);
		return 0;
	case SDO_CCS_BLOCK_UPLOAD:
		m->kind = SDO_BLOCK_UPLOAD;
		return 0;
	case SDO_CCS_BLOCK_DOWNLOAD:
		m->kind = SDO_BLOCK_DOWNLOAD;
		return 0;
	default:
		return -EPROTO;
	}
}

int sdo_decode_response(struct sdo_msg *m, const uint8_t d[8])
{
	memset(m, 0, sizeof(*m));
	get_mux(m, d);
	switch (d[0] >> SDO_CS_SHIFT) {
	case SDO_SCS_UPLOAD_SEGMENT:
		m->kind = SDO_UPLOAD_SEG;
		get_segment(m, d);
		return 0;
	case SDO_SCS_DOWNLOAD_SEGMENT:
		m->kind = SDO_DOWNLOAD_SEG;
		m->toggle = d[0] & SDO_SEG_T;
		return 0;
	case SDO_SCS_UPLOAD_INITIATE:
		m->kind = SDO_INIT_UPLOAD;
		get_initiate(m, d);
		return 0;
	case SDO_SCS_DOWNLOAD_INITIATE:
		m->kind = SDO_INIT_DOWNLOAD;
		return 0;
	case SDO_SCS_ABORT:
		m->kind = SDO_ABORT;
		m->abort_code = sdo_get_le32(d + 4);
		return 0;
	case SDO_SCS_BLOCK_DOWNLOAD:
		m->kind = SDO_BLOCK_DOWNLOAD;
		return 0;
	case SDO_SCS_BLOCK_UPLOAD:
		m->kind = SDO_BLOCK_UPLOAD;
		return 0;
	default:
		return -EPROTO;
	}
}

int sdo_encode_request(uint8_t out[8], const struct sdo_msg *m)
{
	memset(out, 0, 8);
	switch (m->kind) {
	case SDO_INIT_DOWNLOAD:
		out[0] = SDO_CCS_DOWNLOAD_INITIATE << SDO_CS_SHIFT;
		return put_initiate(out, m);
	case SDO_DOWNLOAD_SEG:
		out[0] = SDO_CCS_DOWNLOAD_SEGMENT << SDO_CS_SHIFT;
		return put_segment(out, m);
	case SDO_INIT_UPLOAD:
		out[0] = SDO_CCS_UPLOAD_INITIATE << SDO_CS_SHIFT;
		put_mux(out, m);
		return 0;
	case SDO_UPLOAD_SEG:
		out[0] = (uint8_t)(SDO_CCS_UPLOAD_SEGMENT << SDO_CS_SHIFT |
				   (m->toggle ? SDO_SEG_T : 0));
		return 0;
	case SDO_ABORT:
		sdo_encode_abort(out, m->index, m->sub, m->abort_code);
		return 0;
	case SDO_BLOCK_UPLOAD:
		out[0] = SDO_CCS_BLOCK_UPLOAD << SDO_CS_SHIFT;
		put_mux(out, m);
		return 0;
	case SDO_BLOCK_DOWNLOAD:
		out[0] = SDO_CCS_BLOCK_DOWNLOAD << SDO_CS_SHIFT;
		put_mux(out, m);
		return 0;
	}
	return -EINVAL;
}

int sdo_encode_response(uint8_t out[8], const struct sdo_msg *m)
{
	memset(out, 0, 8);
	switch (m->kind) {
	case SDO_INIT_DOWNLOAD:
		out[0] = SDO_SCS_DOWNLOAD_INITIATE << SDO_CS_SHIFT;
		put_mux(out, m);
		return 0;
	case SDO_DOWNLOAD_SEG:
		out[0] = (uint8_t)(SDO_SCS_DOWNLOAD_SEGMENT << SDO_CS_SHIFT |
				   (m->toggle ? SDO_SEG_T : 0));
		return 0;
	case SDO_INIT_UPLOAD:
		out[0] = SDO_SCS_UPLOAD_INITIATE << SDO_CS_SHIFT;
		return put_initiate(out, m);
	case SDO_UPLOAD_SEG:
		out[0] = SDO_SCS_UPLOAD_SEGMENT << SDO_CS_SHIFT;
		return put_segment(out, m);
	case SDO_ABORT:
		sdo_encode_abort(out, m->index, m->sub, m->abort_code);
		return 0;
	case SDO_BLOCK_UPLOAD:
		out[0] = SDO_SCS_BLOCK_UPLOAD << SDO_CS_SHIFT;
		put_mux(out, m);
		return 0;
	case SDO_BLOCK_DOWNLOAD:
		out[0] = SDO_SCS_BLOCK_DOWNLOAD << SDO_CS_SHIFT;
		put_mux(out, m);
		return 0;
	}
	return -EINVAL;
}

void sdo_encode_abort(uint8_t out[8], uint16_t index, uint8_t sub, uint32_t code)
{
	out[0] = SDO_CCS_ABORT << SDO_CS_SHIFT;
	out[1] = (uint8_t)index;
	out[2] = (uint8_t)(index >> 8);
	out[3] = sub;
	sdo_put_le32(out + 4, code);
}
