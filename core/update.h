// SPDX-License-Identifier: MIT
/*
 * The ECU FOTA update state machine of the TCU (object 0x5FF3), as specified
 * in the vendor's ECU FOTA CANopen Specification (DESIGN.md D4), sections
 * "ECU FOTA State Machine" and the object sections. Pure and table-driven: events in, object values and
 * an action bitmask out, next deadline reported; the table in update.c cites
 * the specification section behind each row. Persistence of the persistent
 * objects in a small key=value state file written atomically.
 *
 * Time: `now` is monotonic (fota_us). Timestamps and the health deadline are
 * wall-clock UNIX seconds (UTC), derived from `now` through the reference the
 * caller gives with upd_set_clock(); in tests that reference is fixed, so a
 * health timeout of minutes passes in virtual time.
 *
 * Typical driver (fota serve):
 *	upd_init(&u); upd_load(&u, dir, &err); upd_set_clock(&u, now, wall);
 *	upd_handle(&u, UPD_EV_BOOT, now);
 *	loop: upd_set_clock(); upd_tick(&u, now); act = upd_take_actions(&u);
 *	      if (act & UPD_ACT_PERSIST) upd_save(&u, dir); ... sleep until upd_deadline()
 */
#ifndef FOTA_CORE_UPDATE_H
#define FOTA_CORE_UPDATE_H

#include <stdbool.h>
#include <stdint.h>
#include "core/time.h"

#define UPD_REQUEST_ID_LEN	       36u /* update_request_id: "STRING (36 characters)", UUID v4 */
#define UPD_HEALTH_TIMEOUT_DEFAULT_MIN 10u /* ecu_health_check_timeout "Default: 10 minutes" */
#define UPD_STATE_FILE		       "state"

/* update_status (0x5FF3:0x50) values, section "update_status". */
enum upd_status {
	UPD_STATUS_IDLE = 0x00, /* Idle (transient) */
	UPD_STATUS_FLASHING =
		0x01, /* Flashing in progress (transient; also bootloader transition) */
	UPD_STATUS_VERIFYING = 0x10,	  /* Waiting for OEM health verification (transient) */
	UPD_STATUS_SUCCESS = 0x40,	  /* Update successful (final) */
	UPD_STATUS_FLASH_FAILED = 0x50,	  /* Flashing failed (final) */
	UPD_STATUS_VERIFY_FAILED = 0x51,  /* Health verification failed (final) */
	UPD_STATUS_VERIFY_TIMEOUT = 0x52, /* Verification timeout (final) */
	UPD_STATUS_CANCELLED = 0x60,	  /* Update cancelled (final) */
};
#define UPD_STATUS_FINAL_MIN 0x40 /* "Values >= 0x40 are final states" */

/* apply_update (0x5FF3:0x40) and ecu_health_check (0x5FF3:0x60) values. */
enum upd_apply {
	UPD_APPLY_NONE = 0x00,
	UPD_APPLY_APPROVE = 0x01,
	UPD_APPLY_REJECT = 0x02,
};
enum upd_health {
	UPD_HEALTH_NONE = 0x00,
	UPD_HEALTH_OK = 0x01,
	UPD_HEALTH_FAIL = 0x02,
};

/* States of "State Overview" (two share update_status 0x01). */
enum upd_state {
	UPD_ST_IDLE,
	UPD_ST_AVAILABLE,  /* update_available = 1, update_status unchanged */
	UPD_ST_BOOTLOADER, /* bootloader frame sent, waiting the configured delay (0x01) */
	UPD_ST_FLASHING,   /* UDS programming running (0x01) */
	UPD_ST_VERIFY,	   /* 0x10 */
	UPD_ST_SUCCESS,	   /* 0x40 */
	UPD_ST_FLASH_FAILED,
	UPD_ST_VERIFY_FAILED,
	UPD_ST_VERIFY_TIMEOUT,
	UPD_ST_CANCELLED,
	UPD_ST_COUNT,
};

enum upd_event {
	UPD_EV_OFFER,		   /* a new request is offered (use upd_offer()) */
	UPD_EV_APPROVE,		   /* apply_update = 0x01 */
	UPD_EV_REJECT,		   /* apply_update = 0x02 */
	UPD_EV_CANCEL,		   /* remote cancel (request withdrawn by the platform) */
	UPD_EV_BOOT_DELAY_ELAPSED, /* bootloader delay over (upd_tick() raises it) */
	UPD_EV_FLASH_PROGRESS,	   /* bytes acknowledged (use upd_set_progress()) */
	UPD_EV_FLASH_OK,	   /* programming sequence succeeded */
	UPD_EV_FLASH_FAILED,	   /* programming or bootloader transition failed */
	UPD_EV_HEALTH_OK,	   /* ecu_health_check = 0x01 */
	UPD_EV_HEALTH_FAIL,	   /* ecu_health_check = 0x02 */
	UPD_EV_HEALTH_TIMEOUT,	   /* ecu_health_check_timeout expired (upd_tick() raises it) */
	UPD_EV_BOOT,		   /* power-up after upd_load(): apply the restart rules */
	UPD_EV_COUNT,
};

/* What the caller must do after an event (upd_take_actions()). */
#define UPD_ACT_PERSIST		 0x01u /* upd_save() now: a persistent object changed */
#define UPD_ACT_BOOTLOADER_FRAME 0x02u /* send the ECU's bootloader switch frame, if configured */
#define UPD_ACT_START_FLASH	 0x04u /* start the UDS programming sequence */
#define UPD_ACT_HEALTH_TIMER	 0x08u /* verification began or resumed: health timer runs */
#define UPD_ACT_REPORT		 0x10u /* platform-visible change: rewrite the request's report */
#define UPD_ACT_FINISHED	 0x20u /* a final state was reached: the next request may be offered */

struct upd {
	/* 0x5FF3 object values (section per field in update.c's table) */
	uint8_t update_available; /* :01 */
	char update_request_id[UPD_REQUEST_ID_LEN +
			       1];	   /* :02, NUL-terminated, "" before any offer */
	uint32_t update_attempts_counter;  /* :03 */
	uint32_t update_available_time;	   /* :04, UNIX s */
	uint32_t ecu_can_id;		   /* :05 */
	uint8_t update_status;		   /* :50, enum upd_status */
	uint8_t update_progress;	   /* :51, percent, not persistent */
	uint32_t update_start_time;	   /* :52, UNIX s */
	uint32_t update_end_time;	   /* :53, UNIX s */
	uint16_t ecu_health_check_timeout; /* :62, minutes, 0 = forever */

	/* machine state */
	enum upd_state state;
	uint32_t verify_start_time; /* UNIX s when 0x10 was entered (persisted) */
	uint32_t health_deadline;   /* UNIX s, 0 = none (persisted: survives restarts) */
	fota_us health_mono;	    /* the health timer, monotonic; FOTA_NEVER if none */
	int64_t verify_start_mono;  /* monotonic time 0x10 was entered (re-derived on restart) */
	uint32_t time_scale;	    /* tests only: the health timer runs this many times fast */
	uint32_t boot_delay_ms;	    /* bootloader delay of the offered ECU (not persisted) */
	fota_us boot_deadline;	    /* end of the bootloader delay, FOTA_NEVER if none */
	unsigned actions;	    /* UPD_ACT_* accumulated until upd_take_actions() */

	/* wall-clock reference: at monotonic clock_mono the wall clock read clock_wall */
	fota_us clock_mono;
	uint32_t clock_wall;
};

struct upd_error {
	unsigned line; /* 1-based line of the state file, 0 if not about a line */
	char msg[112];
};

/* Factory state: Idle, nothing offered, counter 0, health timeout 10 minutes. */
void upd_init(struct upd *u);

/*
 * Tell the machine that at monotonic time now the wall clock reads wall (UNIX
 * seconds). Call once at start and whenever convenient (each loop turn) so
 * wall-clock steps are followed; tests call it once and let virtual time run.
 */
void upd_set_clock(struct upd *u, fota_us now, uint32_t wall);

/* Wall-clock UNIX seconds at monotonic time now, per the reference above. */
uint32_t upd_wall(const struct upd *u, fota_us now);

/*
 * Feed one event. Returns 0 when the table has a row for (state, event), with
 * the object values updated and actions added; -EBUSY when the event is not
 * allowed in the current state (nothing changes; for SDO writes this is abort
 * 0x08000022). Events with arguments go through the helpers below, which
 * pass them with the event (UPD_EV_OFFER or UPD_EV_FLASH_PROGRESS here
 * return -EINVAL).
 */
int upd_handle(struct upd *u, enum upd_event ev, fota_us now);

/*
 * UPD_EV_OFFER with its arguments: request_id (1..36 printable ASCII
 * characters, copied), the target ECU's CAN id, and the bootloader delay to
 * wait after approval. Returns 0, -EBUSY (an update is in progress or already
 * offered) or -EINVAL (bad request id).
 */
int upd_offer(struct upd *u, const char *request_id, uint32_t ecu_can_id, uint32_t boot_delay_ms,
	      fota_us now);

/* UPD_EV_FLASH_PROGRESS: percent (clamped to 100). 0 or -EBUSY when not flashing. */
int upd_set_progress(struct upd *u, unsigned percent, fota_us now);

/*
 * ecu_health_check_timeout written (minutes, 0 = wait forever). Always
 * accepted; while waiting for verification the deadline becomes the entry
 * time plus the new timeout (it may then expire at the next upd_tick()).
 */
void upd_set_health_timeout(struct upd *u, uint16_t minutes, fota_us now);

/* The bootloader delay to use on approval (after upd_load() of an offered update). */
void upd_set_boot_delay(struct upd *u, uint32_t ms);

/*
 * Tests only (FOTA_TIME_SCALE of fota serve): the health timer runs scale
 * times faster than the monotonic clock, so minutes pass in seconds.
 */
void upd_set_time_scale(struct upd *u, uint32_t scale);

/* Fire due timers: bootloader delay elapsed, health timeout. */
void upd_tick(struct upd *u, fota_us now);

/* When upd_tick() next matters (monotonic); FOTA_NEVER if no timer runs. */
fota_us upd_deadline(const struct upd *u);

/* The accumulated UPD_ACT_* bits, cleared. */
unsigned upd_take_actions(struct upd *u);

/* Is the status byte a final state (>= 0x40)? */
bool upd_status_final(uint8_t status);

/* "waiting for OEM health verification" etc., or NULL for a value the spec does not define. */
const char *upd_status_str(uint8_t status);

/* Short names for logs and the test table: "available", "approve". */
const char *upd_state_name(enum upd_state st);
const char *upd_event_name(enum upd_event ev);

/*
 * Write the persistent objects to DIR/state atomically: DIR/state.tmp is
 * written, fsync'ed and renamed over DIR/state, then DIR is fsync'ed, so a
 * crash at any instant leaves either the old or the new file. Returns 0 or
 * -errno (the old file is then untouched and state.tmp removed).
 *
 * Format (chosen over YAML: flat scalars only, so a strict line parser is
 * simpler and safer than a YAML event loop, and `cat` shows it):
 *	# comment lines and blank lines are ignored
 *	format=1
 *	update_available=1
 *	update_request_id=3f1c...  (empty allowed)
 *	... one line for each persistent object, plus verify_start_time and
 *	health_deadline (UNIX seconds, 0 = none). Numbers decimal or 0x hex.
 */
int upd_save(const struct upd *u, const char *dir);

/*
 * Read DIR/state into *u (the clock reference and boot delay are kept).
 * Strict: every key exactly once, nothing unknown, values in range and
 * consistent; otherwise -EBADMSG with err->line and err->msg ("unknown key
 * 'x'") and *u unchanged. -ENOENT when there is no state file (first start:
 * keep upd_init()'s factory state); other -errno from the system. After a
 * successful load, feed UPD_EV_BOOT: an update found in bootloader
 * transition or flashing ends as 0x50 (end time = now; the ECU's bootloader
 * stays reachable for a new request); one found waiting for verification
 * keeps its wall-clock health deadline, so the next upd_tick() ends it as
 * 0x52 if the deadline passed while the TCU was off.
 */
int upd_load(struct upd *u, const char *dir, struct upd_error *err);

#endif
