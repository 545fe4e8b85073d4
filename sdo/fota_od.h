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

#define FOTA_OD_INDEX	    0x5FF3u
#define FOTA_OD_HIGHEST_SUB 0x62u /* sub-index 0x00 answers the highest sub-index */

enum fota_od_sub {
	FOTA_SUB_HIGHEST = 0x00,
	FOTA_SUB_UPDATE_AVAILABLE = 0x01,	  /* UINT8, R, persistent */
	FOTA_SUB_UPDATE_REQUEST_ID = 0x02,	  /* STRING(36), R, persistent */
	FOTA_SUB_UPDATE_ATTEMPTS_COUNTER = 0x03,  /* UINT32, R, persistent */
	FOTA_SUB_UPDATE_AVAILABLE_TIME = 0x04,	  /* UINT32, R, persistent */
	FOTA_SUB_ECU_CAN_ID = 0x05,		  /* UINT32, R, persistent */
	FOTA_SUB_APPLY_UPDATE = 0x40,		  /* UINT8, W */
	FOTA_SUB_UPDATE_STATUS = 0x50,		  /* UINT8, R, persistent */
	FOTA_SUB_UPDATE_PROGRESS = 0x51,	  /* UINT8, R */
	FOTA_SUB_UPDATE_START_TIME = 0x52,	  /* UINT32, R, persistent */
	FOTA_SUB_UPDATE_END_TIME = 0x53,	  /* UINT32, R, persistent */
	FOTA_SUB_ECU_HEALTH_CHECK = 0x60,	  /* UINT8, W */
	FOTA_SUB_ECU_HEALTH_CHECK_TIMEOUT = 0x62, /* UINT16 minutes, RW, persistent */
};

/*
 * The 0x5FF3 objects by name, in sub-index order, for clients (`fota status`
 * reads every readable one): sub-index, name as in the specification,
 * enum od_type, OD_R/OD_W/OD_PERSIST, size in bytes.
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

#define FOTA_OD_NENTRIES 23u

struct fota_od {
	struct upd *u;
	uint32_t device_type;
	uint8_t error_register;
	char device_name[32];
	char sw_version[32];
	uint16_t heartbeat_ms; /* 0x1017, RW; the caller produces the heartbeat */
	uint8_t identity_count;
	uint32_t identity[4];
	uint8_t highest_sub;
	struct od_entry entries[FOTA_OD_NENTRIES];
	struct od od; /* give &fo->od to sdo_server_init() */
};

/*
 * Build the table bound to u (not copied: both must outlive the server).
 * id may be NULL. Returns 0 (or -EINVAL if the built table is inconsistent,
 * which is a bug caught by the unit tests).
 */
int fota_od_init(struct fota_od *fo, struct upd *u, const struct fota_od_identity *id);

/*
 * Write behaviour of the hooks (checked in this order; events are stamped
 * with the time of the SDO request, od.now):
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
