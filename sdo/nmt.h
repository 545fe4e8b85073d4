// SPDX-License-Identifier: MIT
/*
 * CiA 301 network management of a slave node, sans-I/O: the NMT state
 * machine (§7.2.8.3.1: start, stop, enter pre-operational, reset node, reset
 * communication; COB-ID 0x000), the boot-up message and the heartbeat
 * producer (§7.2.8.3.2: COB-ID 0x700 + node-ID, one state byte; period from
 * object 0x1017). Frames in, frames out, next deadline reported.
 *
 * And the start-up probe: CiA 301 node-IDs are unique on a network, so
 * before its boot-up message a node listens whether another one answers to
 * its ID (a boot-up or heartbeat on 0x700+ID, or an SDO response on
 * 0x580+ID to an upload of 0x1000 that the probe sends to 0x600+ID).
 */
#ifndef FOTA_SDO_NMT_H
#define FOTA_SDO_NMT_H

#include <stdbool.h>
#include <stdint.h>
#include "core/bus.h"
#include "core/loop.h"
#include "core/time.h"

#define NMT_COB		  0x000u
#define NMT_CS_START	  0x01u
#define NMT_CS_STOP	  0x02u
#define NMT_CS_PREOP	  0x80u
#define NMT_CS_RESET_NODE 0x81u
#define NMT_CS_RESET_COMM 0x82u
#define NMT_ERRCTL_COB	  0x700u /* + node-ID: boot-up and heartbeat */
/* the state byte of boot-up and heartbeat (§7.2.8.3.2) */
#define NMT_ST_BOOTUP	      0x00u
#define NMT_ST_STOPPED	      0x04u
#define NMT_ST_OPERATIONAL    0x05u
#define NMT_ST_PREOPERATIONAL 0x7Fu

#define NMT_PROBE_MS 500u /* how long the start-up probe listens */

enum nmt_input_result {
	NMT_IN_NONE,	   /* not for us, or no change */
	NMT_IN_STATE,	   /* start/stop/pre-operational applied */
	NMT_IN_RESET_NODE, /* reset node: the caller resets, then nmt_boot() */
	NMT_IN_RESET_COMM, /* reset communication: likewise */
};

struct nmt_slave {
	uint8_t node;
	uint8_t state;	 /* NMT_ST_* */
	uint16_t hb_ms;	 /* producer heartbeat time, 0 = off */
	fota_us hb_next; /* FOTA_NEVER when off */
	bool bootup;	 /* the boot-up message is still to be sent */
	bool beat;	 /* a heartbeat is due */
};

void nmt_init(struct nmt_slave *n, uint8_t node);
/* (Re)boot: boot-up message queued, pre-operational, heartbeat every hb_ms from now. */
void nmt_boot(struct nmt_slave *n, uint16_t hb_ms, fota_us now);
/* An NMT command frame (COB-ID 0x000; any other frame is ignored). */
enum nmt_input_result nmt_input(struct nmt_slave *n, const struct bus_frame *f);
/* 0x1017 written: the new period runs from now. */
void nmt_set_heartbeat(struct nmt_slave *n, uint16_t hb_ms, fota_us now);
void nmt_tick(struct nmt_slave *n, fota_us now);
/* 1 and *f: the boot-up message or a heartbeat to send now; 0: nothing. */
int nmt_output(struct nmt_slave *n, struct bus_frame *f);
fota_us nmt_deadline(const struct nmt_slave *n);
/* CiA 301 §7.3.2: no SDO in the stopped state. */
bool nmt_sdo_allowed(const struct nmt_slave *n);

/* ---- the start-up probe, a core/loop.h member ---- */
struct nmt_probe {
	uint8_t node;
	bool sent;
	fota_us end;	  /* set at the first tick */
	uint32_t ms;	  /* listening time */
	uint32_t seen_id; /* COB-ID of the first answer, 0 = none */
	bool over;	  /* the window has passed */
};

/* The member is done when another node answered (seen_id) or the window passed. */
void nmt_probe_init(struct nmt_probe *p, uint8_t node, uint32_t ms);
extern const struct loop_member_ops nmt_probe_ops;

#endif
