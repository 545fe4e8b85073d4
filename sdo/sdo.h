// SPDX-License-Identifier: MIT
/*
 * CiA 301 SDO (service data object) frames: COB-IDs, command specifiers, the
 * abort codes with their standard values, and a stateless encoder/decoder of
 * the 8-byte frames (CiA 301 v4.2 §7.2.4.3: initiate/segment download and
 * upload, abort; block transfer is recognised but not implemented).
 */
#ifndef FOTA_SDO_SDO_H
#define FOTA_SDO_SDO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Default SDO COB-IDs (CiA 301 §7.3.5 pre-defined connection set). */
#define SDO_COB_REQUEST	 0x600u /* client -> server: 0x600 + node-ID */
#define SDO_COB_RESPONSE 0x580u /* server -> client: 0x580 + node-ID */
#define SDO_FRAME_LEN	 8u	/* every SDO frame has DLC 8 */
#define SDO_NODE_MIN	 1u
#define SDO_NODE_MAX	 127u

/* Command specifier: bits 7..5 of byte 0 (ccs from the client, scs from the server). */
enum sdo_ccs {
	SDO_CCS_DOWNLOAD_SEGMENT = 0,
	SDO_CCS_DOWNLOAD_INITIATE = 1,
	SDO_CCS_UPLOAD_INITIATE = 2,
	SDO_CCS_UPLOAD_SEGMENT = 3,
	SDO_CCS_ABORT = 4,
	SDO_CCS_BLOCK_UPLOAD = 5,
	SDO_CCS_BLOCK_DOWNLOAD = 6,
};

enum sdo_scs {
	SDO_SCS_UPLOAD_SEGMENT = 0,
	SDO_SCS_DOWNLOAD_SEGMENT = 1,
	SDO_SCS_UPLOAD_INITIATE = 2,
	SDO_SCS_DOWNLOAD_INITIATE = 3,
	SDO_SCS_ABORT = 4,
	SDO_SCS_BLOCK_DOWNLOAD = 5,
	SDO_SCS_BLOCK_UPLOAD = 6,
};

/* Bits of byte 0 (CiA 301 §7.2.4.3.3 ff.). */
#define SDO_CS_SHIFT  5
#define SDO_INIT_S    0x01u		   /* initiate: size indicated */
#define SDO_INIT_E    0x02u		   /* initiate: expedited transfer */
#define SDO_INIT_N(b) (((b) >> 2) & 0x03u) /* expedited: bytes of 4..7 without data */
#define SDO_SEG_C     0x01u		   /* segment: no more segments to follow */
#define SDO_SEG_N(b)  (((b) >> 1) & 0x07u) /* segment: bytes of 1..7 without data */
#define SDO_SEG_T     0x10u		   /* segment: toggle bit */

/* SDO abort codes (CiA 301 §7.2.4.3.17, table 22), real values. */
enum sdo_abort {
	SDO_ABORT_NONE = 0,
	SDO_ABORT_TOGGLE = 0x05030000,		   /* toggle bit not alternated */
	SDO_ABORT_TIMEOUT = 0x05040000,		   /* SDO protocol timed out */
	SDO_ABORT_CMD = 0x05040001,		   /* command specifier not valid or unknown */
	SDO_ABORT_BLOCK_SIZE = 0x05040002,	   /* invalid block size (block mode) */
	SDO_ABORT_SEQ_NO = 0x05040003,		   /* invalid sequence number (block mode) */
	SDO_ABORT_CRC = 0x05040004,		   /* CRC error (block mode) */
	SDO_ABORT_OUT_OF_MEMORY = 0x05040005,	   /* out of memory */
	SDO_ABORT_UNSUPPORTED_ACCESS = 0x06010000, /* unsupported access to an object */
	SDO_ABORT_WRITE_ONLY = 0x06010001,	   /* attempt to read a write-only object */
	SDO_ABORT_READ_ONLY = 0x06010002,	   /* attempt to write a read-only object */
	SDO_ABORT_NO_OBJECT = 0x06020000,	   /* object does not exist */
	SDO_ABORT_NO_MAP = 0x06040041,		   /* object cannot be mapped to the PDO */
	SDO_ABORT_MAP_LEN = 0x06040042,		   /* mapped objects exceed PDO length */
	SDO_ABORT_PARAM_INCOMPAT = 0x06040043,	   /* general parameter incompatibility */
	SDO_ABORT_DEVICE_INCOMPAT = 0x06040047,	   /* general internal incompatibility */
	SDO_ABORT_HARDWARE = 0x06060000,	   /* access failed due to a hardware error */
	SDO_ABORT_TYPE_MISMATCH = 0x06070010,	   /* data type / length does not match */
	SDO_ABORT_DATA_LONG = 0x06070012,	   /* length of service parameter too high */
	SDO_ABORT_DATA_SHORT = 0x06070013,	   /* length of service parameter too low */
	SDO_ABORT_NO_SUBINDEX = 0x06090011,	   /* sub-index does not exist */
	SDO_ABORT_VALUE_RANGE = 0x06090030,	   /* invalid value for parameter */
	SDO_ABORT_VALUE_HIGH = 0x06090031,	   /* value of parameter written too high */
	SDO_ABORT_VALUE_LOW = 0x06090032,	   /* value of parameter written too low */
	SDO_ABORT_MAX_LESS_MIN = 0x06090036,	   /* maximum value is less than minimum */
	SDO_ABORT_NO_RESOURCE = 0x060A0023,	   /* resource not available: SDO connection */
	SDO_ABORT_GENERAL = 0x08000000,		   /* general error */
	SDO_ABORT_DATA_TRANSFER = 0x08000020,	   /* data cannot be transferred or stored */
	SDO_ABORT_LOCAL_CONTROL = 0x08000021,	   /* ... because of local control */
	SDO_ABORT_DEVICE_STATE = 0x08000022,	   /* ... because of the present device state */
	SDO_ABORT_OD_GENERATION = 0x08000023,	   /* no object dictionary present */
	SDO_ABORT_NO_DATA = 0x08000024,		   /* no data available */
};

/*
 * A short lowercase English description of an abort code ("object does not
 * exist in the object dictionary"), or "unknown abort code" for values CiA 301
 * does not define. Never NULL; static storage.
 */
const char *sdo_abort_str(uint32_t code);

/*
 * One SDO frame, decoded. Which fields mean something depends on kind:
 *   SDO_INIT_DOWNLOAD  request: mux, expedited, size_indicated, size, data/len
 *                      response: mux
 *   SDO_DOWNLOAD_SEG   request: toggle, last, data/len (0..7)
 *                      response: toggle
 *   SDO_INIT_UPLOAD    request: mux
 *                      response: mux, expedited, size_indicated, size, data/len
 *   SDO_UPLOAD_SEG     request: toggle
 *                      response: toggle, last, data/len (0..7)
 *   SDO_ABORT          mux, abort_code (both directions)
 *   SDO_BLOCK_UPLOAD, SDO_BLOCK_DOWNLOAD: mux only (we do not implement block
 *                      transfer; servers answer it with SDO_ABORT_CMD)
 * Expedited initiate: with size_indicated, len = 4 - n and size = len; without,
 * len = 4 and size = 0 (the receiver knows the object size). Segmented
 * initiate: len = 0, size = bytes 4..7 when size_indicated.
 */
enum sdo_kind {
	SDO_INIT_DOWNLOAD,
	SDO_DOWNLOAD_SEG,
	SDO_INIT_UPLOAD,
	SDO_UPLOAD_SEG,
	SDO_ABORT,
	SDO_BLOCK_UPLOAD,
	SDO_BLOCK_DOWNLOAD,
};

struct sdo_msg {
	enum sdo_kind kind;
	uint16_t index;
	uint8_t sub;
	bool expedited;
	bool size_indicated;
	bool toggle;
	bool last; /* segment: c bit, no more segments */
	uint32_t size;
	uint8_t len; /* valid bytes in data */
	uint8_t data[7];
	uint32_t abort_code;
};

/*
 * Decode 8 bytes sent by a client (request: ccs) or by a server (response:
 * scs). Returns 0, or -EPROTO when the command specifier is 7 (undefined in
 * CiA 301); *m then still holds the mux of bytes 1..3, so the caller can name
 * it in an abort. Callers check the DLC (SDO_FRAME_LEN) themselves.
 */
int sdo_decode_request(struct sdo_msg *m, const uint8_t d[8]);
int sdo_decode_response(struct sdo_msg *m, const uint8_t d[8]);

/*
 * Encode *m into 8 bytes (unused bytes are 0, as CiA 301 reserves them). The
 * fields used are those listed above for the direction. For expedited
 * initiates len must be 1..4 when size_indicated; segments carry 0..7 bytes.
 * Returns 0, or -EINVAL for a length the frame cannot carry.
 */
int sdo_encode_request(uint8_t out[8], const struct sdo_msg *m);
int sdo_encode_response(uint8_t out[8], const struct sdo_msg *m);

/* Build an abort frame (both directions use ccs = scs = 4). */
void sdo_encode_abort(uint8_t out[8], uint16_t index, uint8_t sub, uint32_t code);

/* Little-endian helpers (CANopen is little-endian on the wire). */
static inline uint32_t sdo_get_le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static inline void sdo_put_le32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

#endif
