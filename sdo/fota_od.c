// SPDX-License-Identifier: MIT
/*
 * The TCU object dictionary (see fota_od.h): 0x5FF3 per the ECU FOTA CANopen
 * specification, bound to the update machine of core/update.c, and the CiA
 * 301 §7.5.2 communication objects 0x1000, 0x1001, 0x1008, 0x100A, 0x1017,
 * 0x1018.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include "sdo/fota_od.h"
#include "sdo/sdo.h"

#ifndef FOTA_VERSION
#define FOTA_VERSION "0"
#endif

#define OBJECT(sub, name, type, attr, size, value, on_write) { sub, name, type, attr, size },
const struct fota_od_object fota_od_objects[] = { FOTA_OD_OBJECTS(OBJECT) };
#undef OBJECT
const size_t fota_od_nobjects = sizeof(fota_od_objects) / sizeof(fota_od_objects[0]);

const struct fota_od_object *fota_od_object(uint8_t sub)
{
	for (size_t i = 0; i < fota_od_nobjects; i++)
		if (fota_od_objects[i].sub == sub)
			return &fota_od_objects[i];
	return NULL;
}

/* A refused event is the "present device state" abort ("SDO Abort Conditions"). */
static uint32_t event_abort(struct fota_od *fo, enum upd_event ev, fota_us now)
{
	return upd_handle(fo->u, ev, now) ? SDO_ABORT_DEVICE_STATE : 0;
}

/*
 * "Writing a non-zero value while update_available != 0x01 causes the TCU to
 * return SDO abort 0x08000022" (apply_update), and likewise for
 * ecu_health_check outside update_status 0x10: the state is checked before the
 * value, so an out-of-range value in a forbidden state gets the state abort
 * too. Only where the write is allowed does a bad value get 0x06090030.
 */
static uint32_t write_apply_update(const struct od_entry *e, const void *buf, size_t len, void *ctx,
				   fota_us now)
{
	struct fota_od *fo = ctx;

	switch (*(const uint8_t *)buf) {
	case UPD_APPLY_NONE:
		return 0; /* "Writing 0x00 is always permitted regardless of state and has no effect." */
	case UPD_APPLY_APPROVE:
		return event_abort(ctx, UPD_EV_APPROVE, now);
	case UPD_APPLY_REJECT:
		return event_abort(ctx, UPD_EV_REJECT, now);
	}
	return fo->u->update_available == 0x01 ? SDO_ABORT_VALUE_RANGE : SDO_ABORT_DEVICE_STATE;
}

static uint32_t write_health_check(const struct od_entry *e, const void *buf, size_t len, void *ctx,
				   fota_us now)
{
	struct fota_od *fo = ctx;

	switch (*(const uint8_t *)buf) {
	case UPD_HEALTH_NONE:
		return 0; /* "0x00: No effect" */
	case UPD_HEALTH_OK:
		return event_abort(ctx, UPD_EV_HEALTH_OK, now);
	case UPD_HEALTH_FAIL:
		return event_abort(ctx, UPD_EV_HEALTH_FAIL, now);
	}
	return fo->u->update_status == UPD_STATUS_VERIFYING ? SDO_ABORT_VALUE_RANGE :
							      SDO_ABORT_DEVICE_STATE;
}

static uint32_t write_health_timeout(const struct od_entry *e, const void *buf, size_t len,
				     void *ctx, fota_us now)
{
	struct fota_od *fo = ctx;

	upd_set_health_timeout(fo->u, (uint16_t)od_value(e, buf), now);
	return 0;
}

int fota_od_init(struct fota_od *fo, struct upd *u, const struct fota_od_identity *id)
{
	static const struct fota_od_identity none;
	struct od_entry *e;
	size_t n = 0;

	if (!id)
		id = &none;
	memset(fo, 0, sizeof(*fo));
	fo->u = u;
	fo->device_type = id->device_type;
	snprintf(fo->device_name, sizeof(fo->device_name), "%s",
		 id->device_name ? id->device_name : "fota");
	snprintf(fo->sw_version, sizeof(fo->sw_version), "%s",
		 id->sw_version ? id->sw_version : FOTA_VERSION);
	fo->identity_count = 4;
	fo->identity[0] = id->vendor_id;
	fo->identity[1] = id->product_code;
	fo->identity[2] = id->revision;
	fo->identity[3] = id->serial;
	fo->highest_sub = fota_od_objects[fota_od_nobjects - 1].sub;

	e = fo->entries;
#define COMM(i, s, t, a, value)                      \
	e[n++] = (struct od_entry){ .index = (i),    \
				    .sub = (s),      \
				    .type = (t),     \
				    .attr = (a),     \
				    .data = (value), \
				    .size = sizeof(*(value)) };
#define OBJECT(s, name, t, a, sz, value, write)             \
	e[n++] = (struct od_entry){ .index = FOTA_OD_INDEX, \
				    .sub = (s),             \
				    .type = (t),            \
				    .attr = (a),            \
				    .size = (sz),           \
				    .data = (value),        \
				    .on_write = (write) };
	FOTA_OD_COMM(COMM)
	FOTA_OD_OBJECTS(OBJECT)
#undef COMM
#undef OBJECT
	return od_init(&fo->od, fo->entries, n, fo);
}
