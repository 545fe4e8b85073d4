// SPDX-License-Identifier: MIT
/*
 * A CANopen object dictionary after CANopenNode's idea: a hand-written table
 * of entries sorted by (index, sub-index), found by binary search, each with
 * access attributes, a CiA 301 data type and optional read/write hooks that
 * return real SDO abort codes (CiA 301 §7.4 object dictionary, §7.2.4.3.17
 * abort codes). Used by the SDO server (sdo/server.h).
 */
#ifndef FOTA_SDO_OD_H
#define FOTA_SDO_OD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "core/time.h"

/* CiA 301 §7.4.7.1 static data type indices (what 0x0005.. mean in an EDS). */
enum od_type {
	OD_U8 = 0x0005,		    /* UNSIGNED8 */
	OD_U16 = 0x0006,	    /* UNSIGNED16 */
	OD_U32 = 0x0007,	    /* UNSIGNED32 */
	OD_VISIBLE_STRING = 0x0009, /* VISIBLE_STRING, up to size bytes, NUL-padded */
};

/* Attributes. */
#define OD_R	   0x01u /* readable (SDO upload) */
#define OD_W	   0x02u /* writable (SDO download) */
#define OD_RW	   (OD_R | OD_W)
#define OD_PERSIST 0x04u /* kept across power cycles (documentation + tests; the owner saves it) */

struct od_entry;

/*
 * on_write: called instead of the default store, after the length check, with
 * the value as it came off the wire (little-endian, len bytes; od_value()
 * decodes numbers) and the time of the request (now: hooks raise timed events). Returns 0 to accept or a CiA 301 abort code
 * (enum sdo_abort), which the server sends unchanged. When it accepts, the
 * hook itself stores what it wants; e->data may be NULL.
 * on_read: called instead of the default load; writes at most cap bytes in
 * wire order to buf and their count to *len. Returns 0 or an abort code.
 * ctx is the od's ctx (od_init()).
 */
typedef uint32_t (*od_write_fn)(const struct od_entry *e, const void *buf, size_t len, void *ctx,
				fota_us now);
typedef uint32_t (*od_read_fn)(const struct od_entry *e, void *buf, size_t cap, size_t *len,
			       void *ctx);

struct od_entry {
	uint16_t index;
	uint8_t sub;
	uint8_t attr;  /* OD_R | OD_W | OD_PERSIST */
	uint16_t type; /* enum od_type */
	uint16_t size; /* bytes: 1/2/4 for numbers, capacity for strings */
	void *data; /* native-endian uint8_t/uint16_t/uint32_t, or char[size]; may be NULL with hooks */
	od_write_fn on_write; /* NULL: default store into data */
	od_read_fn on_read;   /* NULL: default load from data */
};

struct od {
	const struct od_entry *entries; /* sorted by (index, sub); not owned */
	size_t n;
	void *ctx; /* passed to the hooks */
};

#define od_for_each_entry(od, e) for ((e) = (od)->entries; (e) < (od)->entries + (od)->n; (e)++)

/*
 * Bind a table. Returns 0, or -EINVAL if the table is not strictly sorted by
 * (index, sub), an entry has no data and no hook for an access it allows, a
 * numeric size does not match its type, or a size is 0.
 */
int od_init(struct od *od, const struct od_entry *entries, size_t n, void *ctx);

/*
 * Find (index, sub). Returns the entry, or NULL with *abort set to
 * SDO_ABORT_NO_OBJECT (no entry with that index) or SDO_ABORT_NO_SUBINDEX
 * (the index exists, the sub-index does not). abort may be NULL.
 */
const struct od_entry *od_find(const struct od *od, uint16_t index, uint8_t sub, uint32_t *abort);

/*
 * Read the value in wire order into buf (cap bytes). Numbers are sent at their
 * full size; strings up to their first NUL (so a 36-character id reads as 36
 * bytes and an empty one as 0). Returns 0 or an abort code: SDO_ABORT_WRITE_ONLY
 * if the entry is not readable, SDO_ABORT_OUT_OF_MEMORY if cap is too small,
 * or what on_read returned.
 */
uint32_t od_read(const struct od *od, const struct od_entry *e, void *buf, size_t cap, size_t *len);

/*
 * Write len bytes in wire order. Checks, in this order: writable
 * (SDO_ABORT_READ_ONLY), length (numbers: exactly size, else
 * SDO_ABORT_DATA_LONG / SDO_ABORT_DATA_SHORT; strings: up to size, the rest
 * NUL-filled, else SDO_ABORT_DATA_LONG), then on_write or the default store.
 * Returns 0 or the abort code; nothing is stored on error. now goes to on_write.
 */
uint32_t od_write(const struct od *od, const struct od_entry *e, const void *buf, size_t len,
		  fota_us now);

/* Decode a little-endian number of the entry's size (1, 2 or 4 bytes) from buf. */
uint32_t od_value(const struct od_entry *e, const void *buf);

/* Is this a fixed-size (numeric) type, whose writes must match its size exactly? */
bool od_type_fixed(uint16_t type);

#endif
