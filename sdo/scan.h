// SPDX-License-Identifier: MIT
/*
 * What CANopen nodes are on this bus (`fota scan`), sans-I/O: one SDO client
 * (sdo/client.h) per node-ID of a range, all at once. Each node gets an
 * upload of 0x1000 (device type); one that answers at all, even with an
 * abort, then gets 0x1018 sub-indexes 1..4 (vendor-ID, product code,
 * revision, serial number), one after the other: a node has one SDO request
 * outstanding at a time (CiA 301 §7.2.4.3, default SDO on 0x600/0x580 +
 * node-ID). The first requests go out spaced by gap_us, so 127 of them do not
 * arrive as one burst. Boot-up messages and heartbeats (0x700 + node-ID, one
 * state byte, CiA 301 §7.2.8.3.2) are recorded for as long as the scan runs,
 * and at least listen_ms.
 *
 * A node that does not answer its first request within timeout_ms is absent:
 * no abort goes to it (the 100-odd absent nodes of a range would otherwise
 * cost as many abort frames). A node that answered before gets the usual
 * abort 0x05040000 on a later timeout, and its remaining objects are not read.
 *
 *	sdo_scan_init(&s, &cfg);
 *	sdo_scan_start(&s, now);
 *	drive sdo_scan_loop_ops (done: every node finished, listen_ms over)
 *	for each node of s.nodes: sdo_scan_found(n)? report n->v[], n->hb_state
 *	sdo_scan_release(&s);
 */
#ifndef FOTA_SDO_SCAN_H
#define FOTA_SDO_SCAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "core/frame.h"
#include "core/time.h"
#include "sdo/client.h"

#define SDO_SCAN_TIMEOUT_MS 100u  /* default wait for each answer */
#define SDO_SCAN_GAP_US	    1000u /* default spacing of the first requests */

struct sdo_scan_cfg {
	uint8_t first, last; /* node-IDs, 1 <= first <= last <= 127 */
	uint32_t timeout_ms; /* per SDO answer; 0 = SDO_SCAN_TIMEOUT_MS */
	uint32_t gap_us;     /* between the first requests of two nodes; 0 = SDO_SCAN_GAP_US */
	uint32_t listen_ms;  /* listen at least this long (boot-up, heartbeat); 0 = not at all */
	uint32_t limit_ms;   /* everything ends by then; 0 = no limit */
};

/* The objects read, in order. */
enum sdo_scan_field {
	SDO_SCAN_DEVICE_TYPE,  /* 0x1000:00 */
	SDO_SCAN_VENDOR_ID,    /* 0x1018:01 */
	SDO_SCAN_PRODUCT_CODE, /* 0x1018:02 */
	SDO_SCAN_REVISION,     /* 0x1018:03 */
	SDO_SCAN_SERIAL,       /* 0x1018:04 */
	SDO_SCAN_NFIELDS,
};

/* Index and sub-index of a field. */
uint16_t sdo_scan_index(enum sdo_scan_field f);
uint8_t sdo_scan_sub(enum sdo_scan_field f);

struct sdo_scan_value {
	/*
	 * 0 with value; else what sdo_client_result() said (-ETIMEDOUT,
	 * -EREMOTEIO or -EBUSY with abort_code, -EPROTO, -EMSGSIZE for an
	 * answer above 4 bytes), or -ENODATA: not read (the node did not
	 * answer before, or the limit came first).
	 */
	int err;
	uint32_t value;
	uint32_t abort_code;
};

struct sdo_scan_node {
	uint8_t node;
	bool sdo;	  /* answered an SDO request (an abort counts) */
	bool bootup;	  /* sent its boot-up message during the scan */
	bool heartbeat;	  /* sent a heartbeat during the scan: hb_state */
	uint8_t hb_state; /* the last heartbeat's state (NMT_ST_*, sdo/nmt.h) */
	struct sdo_scan_value v[SDO_SCAN_NFIELDS];
	/* private */
	struct sdo_client c;
	uint8_t buf[4];
	uint8_t step; /* field being read; SDO_SCAN_NFIELDS: finished */
	bool active;  /* the client has the current field's request */
	fota_us start_at;
};

struct sdo_scan {
	struct sdo_scan_cfg cfg;
	struct sdo_scan_node *nodes; /* node-IDs first..last, in order */
	size_t n;
	fota_us listen_end, limit_end;
	size_t next_out; /* round robin of the output */
	bool started;
	bool listened; /* listen_ms is over */
	bool over;     /* the limit came */
};

/* Returns 0, -EINVAL for a bad range, -ENOMEM. */
int sdo_scan_init(struct sdo_scan *s, const struct sdo_scan_cfg *cfg);
void sdo_scan_release(struct sdo_scan *s);

/* Start now: the first request goes out at now, the others gap_us apart. */
void sdo_scan_start(struct sdo_scan *s, fota_us now);

void sdo_scan_input(struct sdo_scan *s, const struct bus_frame *f, fota_us now);
void sdo_scan_tick(struct sdo_scan *s, fota_us now);
int sdo_scan_output(struct sdo_scan *s, struct bus_frame *f, fota_us now);
fota_us sdo_scan_deadline(const struct sdo_scan *s);
/* Started, every node finished (its last frame out) and listen_ms over; or the limit. */
bool sdo_scan_done(const struct sdo_scan *s);

/* Did the node show itself: an SDO answer, a boot-up or a heartbeat? */
bool sdo_scan_found(const struct sdo_scan_node *n);

/*
 * The CAN ids the scan listens to (0x580 + node-ID and 0x700 + node-ID of
 * the range), for bus_set_filter(): the number written, at most cap.
 */
size_t sdo_scan_filter(const struct sdo_scan *s, uint32_t *ids, size_t cap);

/* core/loop.h member, ctx = struct sdo_scan *. */
struct loop_member_ops;
extern const struct loop_member_ops sdo_scan_loop_ops;

#endif
