// SPDX-License-Identifier: MIT
/*
 * CiA 301 SDO server engine (§7.2.4.3), sans-I/O: one default server SDO on
 * 0x600+node (requests) / 0x580+node (responses) over an object dictionary
 * (sdo/od.h). Expedited and segmented upload and download, toggle checking, the
 * SDO server timeout, and an abort with the standard code for every misuse.
 * Block transfer (ccs 5 and 6) is answered with SDO_ABORT_CMD, as CiA 301
 * allows a server without block support to do.
 *
 * Usage (the loop of core/loop.h or a test):
 *	sdo_server_init(&s, &cfg, &od);
 *	for each received frame:  sdo_server_input(&s, &f, now);
 *	when now >= sdo_server_deadline(&s):  sdo_server_tick(&s, now);
 *	while (sdo_server_output(&s, &f, now) == 1) bus_send(bus, &f);
 */
#ifndef FOTA_SDO_SERVER_H
#define FOTA_SDO_SERVER_H

#include <stdbool.h>
#include <stdint.h>
#include "core/frame.h"
#include "core/time.h"
#include "sdo/od.h"

#define SDO_SERVER_TIMEOUT_MS 1000u /* default; CiA 301 leaves the value to the device */
#define SDO_SERVER_BUF	      256u  /* largest object moved by segmented transfer */
#define SDO_SERVER_QUEUE      8u    /* responses/events held until output()/take_event() */

struct sdo_server_cfg {
	uint8_t node; /* CANopen node-ID 1..127 */
	uint32_t
		timeout_ms; /* segmented transfer: wait for the client's next segment; 0 = default */
};

/*
 * One finished SDO service, for the log of `fota serve` (optional to read).
 * abort_code is 0 when the transfer succeeded.
 */
struct sdo_server_event {
	bool write; /* download (true) or upload (false); aborts of unknown ccs count as upload */
	uint16_t index;
	uint8_t sub;
	uint32_t abort_code;
	uint32_t len; /* bytes moved */
};

enum sdo_server_state {
	SDO_SERVER_IDLE,
	SDO_SERVER_DOWNLOAD, /* segmented download in progress */
	SDO_SERVER_UPLOAD,   /* segmented upload in progress */
};

/* Layout public so it can live on the stack; touch only through the functions. */
struct sdo_server {
	struct sdo_server_cfg cfg;
	struct od *od;
	enum sdo_server_state state;
	const struct od_entry *entry;
	uint16_t index; /* mux of the current (or last) transfer */
	uint8_t sub;
	bool toggle; /* toggle bit expected in the next segment */
	bool size_indicated;
	uint32_t size;
	uint32_t pos, len;
	uint8_t buf[SDO_SERVER_BUF];
	fota_us deadline;
	struct bus_frame out[SDO_SERVER_QUEUE];
	unsigned out_head, out_n;
	struct sdo_server_event ev[SDO_SERVER_QUEUE];
	unsigned ev_head, ev_n;
};

/*
 * Set up a server for node cfg->node over od (not copied; it must outlive the
 * server). Write hooks get the time of the request with the write (od_write()).
 * Returns 0, or -EINVAL if the node-ID is
 * outside 1..127.
 */
int sdo_server_init(struct sdo_server *s, const struct sdo_server_cfg *cfg, struct od *od);

/*
 * A frame arrived. Only classic 11-bit data frames with id 0x600+node and DLC 8
 * are considered (CiA 301 fixes the SDO length at 8; other DLCs are ignored,
 * as CANopenNode does). Every request produces exactly one response or abort
 * on the output queue, except a client's abort, which is unconfirmed.
 * Behaviour worth knowing:
 *  - a new initiate while a segmented transfer runs abandons the old transfer
 *    silently (the client gave up on it) and serves the new one;
 *  - a segment request with no transfer, or of the other direction, gets
 *    SDO_ABORT_CMD naming the mux of the last request that carried one;
 *  - an unknown command specifier (7) or block transfer (5, 6) gets
 *    SDO_ABORT_CMD naming the frame's bytes 1..3 and ends any open transfer;
 *  - expedited download without size indication (e=1, s=0) writes the first
 *    `size` bytes of a number (CiA 301: "the server knows the size"); with size
 *    indicated the size must match: too many bytes SDO_ABORT_DATA_LONG, too few
 *    SDO_ABORT_DATA_SHORT; a segmented download whose total differs from the
 *    size it announced ends with SDO_ABORT_TYPE_MISMATCH;
 *  - an empty string is uploaded segmented with size 0 and one empty last
 *    segment (an expedited upload cannot say "0 bytes").
 */
void sdo_server_input(struct sdo_server *s, const struct bus_frame *f, fota_us now);

/* Time passed: a segmented transfer idle past its deadline is aborted (SDO_ABORT_TIMEOUT). */
void sdo_server_tick(struct sdo_server *s, fota_us now);

/* Next frame to send: 1 and *f filled, or 0 when nothing is queued. */
int sdo_server_output(struct sdo_server *s, struct bus_frame *f, fota_us now);

/* When sdo_server_tick() next matters; FOTA_NEVER when no transfer is open. */
fota_us sdo_server_deadline(const struct sdo_server *s);

/* Is no segmented transfer open? */
bool sdo_server_idle(const struct sdo_server *s);

/*
 * Oldest finished service not yet taken: 1 and *ev filled, or 0. The queue
 * keeps the newest SDO_SERVER_QUEUE events; older ones are dropped.
 */
int sdo_server_take_event(struct sdo_server *s, struct sdo_server_event *ev);

/* The server as a core/loop.h member (ctx = struct sdo_server *); never done. */
struct loop_member_ops;
extern const struct loop_member_ops sdo_server_loop_ops;

#endif
