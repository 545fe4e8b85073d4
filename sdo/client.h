// SPDX-License-Identifier: MIT
/*
 * CiA 301 SDO client engine (§7.2.4.3), sans-I/O: one upload or download at a
 * time to the default server SDO of a node (requests on 0x600+node, responses
 * on 0x580+node). Expedited when the data fits in 4 bytes, segmented
 * otherwise; toggle checking, a response timeout, aborts both ways. Block
 * transfer is not used. Retries are the caller's business.
 *
 *	sdo_client_init(&c, &cfg);
 *	sdo_client_upload(&c, 0x5FF3, 0x50, buf, sizeof(buf), now);
 *	while (sdo_client_result(&c, &res) == -EINPROGRESS) {
 *		drain sdo_client_output() to the bus, wait until a frame or
 *		sdo_client_deadline(), then sdo_client_input() / sdo_client_tick()
 *	}
 */
#ifndef FOTA_SDO_CLIENT_H
#define FOTA_SDO_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "core/frame.h"
#include "core/time.h"

#define SDO_CLIENT_TIMEOUT_MS 1000u /* default wait for each response */
#define SDO_CLIENT_MAX	      256u  /* largest download (the data is copied) */

struct sdo_client_cfg {
	uint8_t node;	     /* server node-ID 1..127 */
	uint32_t timeout_ms; /* per response; 0 = SDO_CLIENT_TIMEOUT_MS */
};

struct sdo_result {
	uint32_t abort_code; /* abort code the server sent, 0 if none */
	uint32_t sent_abort; /* abort code we sent (timeout, toggle, protocol), 0 if none */
	size_t len;	     /* upload: bytes stored in the caller's buffer; download: bytes sent */
};

enum sdo_client_state {
	SDO_CLIENT_IDLE,
	SDO_CLIENT_DL_INIT,
	SDO_CLIENT_DL_SEG,
	SDO_CLIENT_UL_INIT,
	SDO_CLIENT_UL_SEG,
	SDO_CLIENT_DONE,
};

/* Layout public so it can live on the stack; touch only through the functions. */
struct sdo_client {
	struct sdo_client_cfg cfg;
	enum sdo_client_state state;
	uint16_t index;
	uint8_t sub;
	bool toggle;
	bool size_indicated;
	uint32_t size;
	uint8_t tx[SDO_CLIENT_MAX];
	size_t tx_len, pos, seg_len;
	uint8_t *rx; /* caller's upload buffer */
	size_t rx_cap;
	fota_us deadline;
	int err;
	struct sdo_result res;
	bool out_pending;
	struct bus_frame out;
};

/* Returns 0, or -EINVAL if the node-ID is outside 1..127. */
int sdo_client_init(struct sdo_client *c, const struct sdo_client_cfg *cfg);

/*
 * Start reading (index, sub) into buf (cap bytes, owned by the caller, must
 * stay valid until the result is final). Returns 0, or -EALREADY while a
 * transfer runs. Allowed again after a final result.
 */
int sdo_client_upload(struct sdo_client *c, uint16_t index, uint8_t sub, void *buf, size_t cap,
		      fota_us now);

/*
 * Start writing len bytes (copied) to (index, sub), size indicated: expedited
 * for 1..4 bytes, segmented above. Returns 0, -EALREADY while a transfer
 * runs, -EMSGSIZE if len is 0 or above SDO_CLIENT_MAX.
 */
int sdo_client_download(struct sdo_client *c, uint16_t index, uint8_t sub, const void *data,
			size_t len, fota_us now);

/* A frame arrived; anything but a DLC-8 data frame on 0x580+node is ignored. */
void sdo_client_input(struct sdo_client *c, const struct bus_frame *f, fota_us now);

/* Time passed: no response by the deadline sends abort 0x05040000 and ends with -ETIMEDOUT. */
void sdo_client_tick(struct sdo_client *c, fota_us now);

/* 1 and *f filled when a frame (request or our abort) is to be sent now, else 0. */
int sdo_client_output(struct sdo_client *c, struct bus_frame *f, fota_us now);

/* When sdo_client_tick() next matters; FOTA_NEVER when no transfer waits. */
fota_us sdo_client_deadline(const struct sdo_client *c);

/*
 * The transfer's state, detail in *res (may be NULL):
 *   -EINPROGRESS  still running (also before any start: -EINPROGRESS is never
 *                 returned then; an idle client returns 0 with an empty res)
 *   0             done; res->len bytes moved
 *   -EBUSY        server aborted with 0x08000021 or 0x08000022 (its state)
 *   -EREMOTEIO    server aborted with another code (res->abort_code)
 *   -ETIMEDOUT    no response in time (we sent abort 0x05040000)
 *   -EPROTO       malformed/unexpected response or toggle error (we aborted,
 *                 res->sent_abort says with what)
 *   -EMSGSIZE     upload larger than the caller's buffer (we aborted 0x05040005)
 */
int sdo_client_result(const struct sdo_client *c, struct sdo_result *res);

/*
 * The client as a core/loop.h member (ctx = struct sdo_client *): done when
 * the result is final, after its last frame (an abort) has been output.
 */
struct loop_member_ops;
extern const struct loop_member_ops sdo_client_loop_ops;

#endif
