// SPDX-License-Identifier: MIT
/*
 * The TCU's object dictionary: the ECU FOTA objects under 0x5FF3 (ECU FOTA
 * CANopen Specification, DESIGN.md D4: sections "CANopen Address Reference"
 * and one per object) bound to a struct upd, plus the CiA 301 communication
 * objects generic tools look for (0x1000 device type, 0x1001 error register,
 * 0x1008 device name, 0x100A software version, 0x1017 producer heartbeat
 * time, 0x1018 identity). Write hooks turn SDO writes into update-machine
 * events and return abort 0x08000022 where the specification says so.
 */
#ifndef FOTA_SDO_FOTA_OD_H
#define FOTA_SDO_FOTA_OD_H

#include <stddef.h>
#include <stdint.h>
#include "core/time.h"
#include "core/update.h"
#include "sdo/od.h"

#define FOTA_OD_INDEX 0x5FF3u

/* The sub-indices of 0x5FF3; what each object is: FOTA_OD_OBJECTS below. */
enum fota_od_sub {
	FOTA_SUB_HIGHEST = 0x00,
	FOTA_SUB_UPDATE_AVAILABLE = 0x01,
	FOTA_SUB_UPDATE_REQUEST_ID = 0x02,
	FOTA_SUB_UPDATE_ATTEMPTS_COUNTER = 0x03,
	FOTA_SUB_UPDATE_AVAILABLE_TIME = 0x04,
	FOTA_SUB_ECU_CAN_ID = 0x05,
	FOTA_SUB_APPLY_UPDATE = 0x40,
	FOTA_SUB_UPDATE_STATUS = 0x50,
	FOTA_SUB_UPDATE_PROGRESS = 0x51,
	FOTA_SUB_UPDATE_START_TIME = 0x52,
	FOTA_SUB_UPDATE_END_TIME = 0x53,
	FOTA_SUB_ECU_HEALTH_CHECK = 0x60,
	FOTA_SUB_ECU_HEALTH_CHECK_TIMEOUT = 0x62,
};

/*
 * The node's objects, in (index, sub-index) order: the one list from which
 * the server's entries (struct fota_od), their number and the clients' table
 * fota_od_objects[] are generated (sdo/fota_od.c). A value column is an
 * expression of fo (struct fota_od *) and u (struct upd *): where the server
 * reads and stores the object; NULL for a write-only object, whose write
 * hook (a function of fota_od.c) does the work.
 *
 * FOTA_OD_COMM: the CiA 301 communication objects generic tools look for,
 *   X(index, sub-index, enum od_type, attributes, value); size is the value's.
 * FOTA_OD_OBJECTS: 0x5FF3 (ECU FOTA CANopen Specification, one section per
 *   object), X(sub-index, name as in the specification, enum od_type,
 *   attributes, size in bytes, value, write hook or NULL). Sub-index 0x00
 *   answers the highest sub-index of the list.
 */
#define FOTA_OD_COMM(X)                                                 \
	X(0x1000, 0, OD_U32, OD_R, &fo->device_type)                    \
	X(0x1001, 0, OD_U8, OD_R, &fo->error_register)                  \
	X(0x1008, 0, OD_VISIBLE_STRING, OD_R, &fo->device_name)         \
	X(0x100A, 0, OD_VISIBLE_STRING, OD_R, &fo->sw_version)          \
	X(0x1017, 0, OD_U16, OD_RW, &fo->heartbeat_ms)                  \
	X(0x1018, 0, OD_U8, OD_R, &fo->identity_count)                  \
	X(0x1018, 1, OD_U32, OD_R, &fo->identity[0]) /* vendor-ID */    \
	X(0x1018, 2, OD_U32, OD_R, &fo->identity[1]) /* product code */ \
	X(0x1018, 3, OD_U32, OD_R, &fo->identity[2]) /* revision */     \
	X(0x1018, 4, OD_U32, OD_R, &fo->identity[3]) /* serial number */

#define FOTA_OD_OBJECTS(X)                                                                         \
	X(FOTA_SUB_HIGHEST, "highest_sub_index", OD_U8, OD_R, 1, &fo->highest_sub, NULL)           \
	X(FOTA_SUB_UPDATE_AVAILABLE, "update_available", OD_U8, OD_R | OD_PERSIST, 1,              \
	  &u->update_available, NULL)                                                              \
	X(FOTA_SUB_UPDATE_REQUEST_ID, "update_request_id", OD_VISIBLE_STRING, OD_R | OD_PERSIST,   \
	  UPD_REQUEST_ID_LEN, &u->update_request_id, NULL)                                         \
	X(FOTA_SUB_UPDATE_ATTEMPTS_COUNTER, "update_attempts_counter", OD_U32, OD_R | OD_PERSIST,  \
	  4, &u->update_attempts_counter, NULL)                                                    \
	X(FOTA_SUB_UPDATE_AVAILABLE_TIME, "update_available_time", OD_U32, OD_R | OD_PERSIST, 4,   \
	  &u->update_available_time, NULL)                                                         \
	X(FOTA_SUB_ECU_CAN_ID, "ecu_can_id", OD_U32, OD_R | OD_PERSIST, 4, &u->ecu_can_id, NULL)   \
	X(FOTA_SUB_APPLY_UPDATE, "apply_update", OD_U8, OD_W, 1, NULL, write_apply_update)         \
	X(FOTA_SUB_UPDATE_STATUS, "update_status", OD_U8, OD_R | OD_PERSIST, 1, &u->update_status, \
	  NULL)                                                                                    \
	X(FOTA_SUB_UPDATE_PROGRESS, "update_progress", OD_U8, OD_R, 1, &u->update_progress, NULL)  \
	X(FOTA_SUB_UPDATE_START_TIME, "update_start_time", OD_U32, OD_R | OD_PERSIST, 4,           \
	  &u->update_start_time, NULL)                                                             \
	X(FOTA_SUB_UPDATE_END_TIME, "update_end_time", OD_U32, OD_R | OD_PERSIST, 4,               \
	  &u->update_end_time, NULL)                                                               \
	X(FOTA_SUB_ECU_HEALTH_CHECK, "ecu_health_check", OD_U8, OD_W, 1, NULL, write_health_check) \
	X(FOTA_SUB_ECU_HEALTH_CHECK_TIMEOUT, "ecu_health_check_timeout", OD_U16,                   \
	  OD_RW | OD_PERSIST, 2, &u->ecu_health_check_timeout, write_health_timeout)

#define FOTA_OD_COUNT_(...) +1
/* How many entries the server's table has: one per row of the two lists. */
#define FOTA_OD_NENTRIES (0 FOTA_OD_COMM(FOTA_OD_COUNT_) FOTA_OD_OBJECTS(FOTA_OD_COUNT_))

/*
 * The 0x5FF3 objects by name, in sub-index order, for clients (`fota status`
 * reads every readable one): sub-index, name as in the specification,
 * enum od_type, OD_R/OD_W/OD_PERSIST, size in bytes (FOTA_OD_OBJECTS).
 */
struct fota_od_object {
	uint8_t sub;
	const char *name;
	uint16_t type;
	uint8_t attr;
	uint16_t size;
};
extern const struct fota_od_object fota_od_objects[];
extern const size_t fota_od_nobjects;

/* Look up an object by sub-index; NULL if 0x5FF3 has no such sub-index. */
const struct fota_od_object *fota_od_object(uint8_t sub);

/* Identity the node reports (0x1000, 0x1008, 0x100A, 0x1018); zeroed = defaults. */
struct fota_od_identity {
	uint32_t device_type;	 /* 0x1000; default 0 (no device profile) */
	const char *device_name; /* 0x1008; NULL = "fota" */
	const char *sw_version;	 /* 0x100A; NULL = FOTA_VERSION */
	uint32_t vendor_id;	 /* 0x1018:01 */
	uint32_t product_code;	 /* 0x1018:02 */
	uint32_t revision;	 /* 0x1018:03 */
	uint32_t serial;	 /* 0x1018:04 */
};

struct fota_od {
	struct upd *u;
	uint32_t device_type;
	uint8_t error_register;
	char device_name[32];
	char sw_version[32];
	uint16_t heartbeat_ms; /* 0x1017, RW; the caller produces the heartbeat */
	uint8_t identity_count;
	uint32_t identity[4];
	uint8_t highest_sub; /* the last sub-index of FOTA_OD_OBJECTS */
	struct od_entry entries[FOTA_OD_NENTRIES];
	struct od od; /* give &fo->od to sdo_server_init() */
};

/*
 * Build the table bound to u (not copied: both must outlive the server).
 * id may be NULL. Returns 0 (or -EINVAL if the lists are not in order or an
 * entry is inconsistent, which is a bug caught by the unit tests).
 */
int fota_od_init(struct fota_od *fo, struct upd *u, const struct fota_od_identity *id);

/*
 * Write behaviour of the hooks (checked in this order; events are stamped
 * with the time of the SDO request, which comes with the write):
 *  apply_update / ecu_health_check: 0x00 accepted, no effect, in any state;
 *   values above 0x02 SDO_ABORT_VALUE_RANGE (0x06090030); 0x01/0x02 become
 *   UPD_EV_APPROVE/REJECT or UPD_EV_HEALTH_OK/FAIL, and a refused event
 *   becomes SDO_ABORT_DEVICE_STATE (0x08000022).
 *  ecu_health_check_timeout: any UINT16 accepted (upd_set_health_timeout()).
 *  0x1017 heartbeat time: any UINT16 stored.
 * Reads and writes of the other objects are plain. After each
 * sdo_server_input(), upd_take_actions() tells what the writes require.
 */

#endif
