// SPDX-License-Identifier: MIT
/*
 * The in-memory bus ("mem:NAME"), for unit tests: members of one named hub in
 * one process see each other's frames (never their own), in virtual time, with
 * fault injection and a record of every frame that crossed the hub. It is not
 * part of the fota program; the test harness (t_main) registers it with
 * bus_mem_register(), after which bus_open() takes "mem:NAME".
 *
 *	struct bus *a, *b;
 *	bus_open(&a, "mem:t", NULL, NULL, 0);	// hub "t" created on first use
 *	bus_open(&b, "mem:t", NULL, NULL, 0);
 *	struct bus_mem_hub *hub = bus_mem_hub(a);
 *	bus_mem_fault(hub, &(struct bus_mem_rule){ .fault = BUS_MEM_DROP, .nth = 3 });
 *	bus_mem_set_now(hub, FOTA_MS(10));
 *
 * The hub lives while it has members or holders (bus_mem_hub_hold()), so a
 * test can read the record after closing the buses. Not thread-safe.
 */
#ifndef FOTA_TESTS_SIM_BUS_MEM_H
#define FOTA_TESTS_SIM_BUS_MEM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "core/bus.h"
#include "core/time.h"

struct bus_mem_hub;

/* Let bus_open() open "mem:NAME" specs (bus_add_backend()). */
void bus_mem_register(void);

enum bus_mem_fault {
	BUS_MEM_DROP = 1, /* nobody receives the frame (lost on the wire) */
	BUS_MEM_DUP,	  /* every receiver gets it twice */
	BUS_MEM_DELAY,	  /* delivered at now + delay (later frames may overtake it) */
	BUS_MEM_CORRUPT,  /* data[byte] ^= mask as it crosses the wire */
	BUS_MEM_FAIL_SEND /* bus_send() returns err; nothing goes on the wire */
};

/*
 * A fault rule. It counts the frames it matches (every frame sent on the hub,
 * or only those with id/id_flags when match_id is set, or only those sent by
 * member `from` when from_set) and fires on the nth of them (1-based), or on
 * every one when nth == 0 (then at most `times` times if times > 0).
 */
struct bus_mem_rule {
	enum bus_mem_fault fault;
	uint64_t nth;
	uint32_t times;
	bool match_id;
	uint32_t id;
	uint8_t id_flags; /* BUS_FRAME_EFF or 0, compared when match_id */
	bool from_set;
	unsigned from; /* member index: order of bus_open() on the hub, from 0 */
	fota_us delay; /* BUS_MEM_DELAY */
	uint8_t byte;  /* BUS_MEM_CORRUPT: which data byte (wraps to len) */
	uint8_t mask;  /* BUS_MEM_CORRUPT: xor mask; 0 means 0xFF */
	int err;       /* BUS_MEM_FAIL_SEND: returned error; 0 means -EIO */
};

/* One entry of the record: a frame as it went onto the wire, and its fate. */
#define BUS_MEM_REC_DROPPED   0x01
#define BUS_MEM_REC_DUP	      0x02
#define BUS_MEM_REC_DELAYED   0x04
#define BUS_MEM_REC_CORRUPTED 0x08
#define BUS_MEM_REC_FAILED    0x10 /* send failed on purpose; not on the wire */

struct bus_mem_rec {
	fota_us t;	    /* virtual time of the send */
	unsigned from;	    /* member index of the sender */
	unsigned fate;	    /* BUS_MEM_REC_* */
	struct bus_frame f; /* after corruption */
};

/* The hub of a mem: bus (NULL if bus is not a mem: bus). */
struct bus_mem_hub *bus_mem_hub(struct bus *bus);
/* Find or create hub NAME and hold it (+1). NULL on allocation failure. */
struct bus_mem_hub *bus_mem_hub_hold(const char *name);
/* Drop a hold; the hub is freed when neither members nor holders remain. */
void bus_mem_hub_release(struct bus_mem_hub *hub);

/* This member's index on its hub (order of opening, from 0). */
unsigned bus_mem_member_index(struct bus *bus);

/* Virtual time: frames delayed until t are delivered once now >= t. */
void bus_mem_set_now(struct bus_mem_hub *hub, fota_us now);
fota_us bus_mem_now(const struct bus_mem_hub *hub);
/* Earliest pending delayed delivery after now, or FOTA_NEVER. */
fota_us bus_mem_next_delivery(const struct bus_mem_hub *hub);
/* Frames queued for any member (delivered or not yet due). */
size_t bus_mem_pending(const struct bus_mem_hub *hub);

/* Add a fault rule (copied). 0, -ENOMEM, -EINVAL (unknown fault). */
int bus_mem_fault(struct bus_mem_hub *hub, const struct bus_mem_rule *rule);
void bus_mem_clear_faults(struct bus_mem_hub *hub);

/* The record of every send on the hub, oldest first; valid until the next send. */
size_t bus_mem_record(const struct bus_mem_hub *hub, const struct bus_mem_rec **recs);
void bus_mem_clear_record(struct bus_mem_hub *hub);
/* Recording is on by default; benches of big transfers may turn it off. */
void bus_mem_set_recording(struct bus_mem_hub *hub, bool on);

#endif
