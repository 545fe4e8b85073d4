// SPDX-License-Identifier: MIT
/*
 * ECU FOTA update state machine (object 0x5FF3) and its state file. The
 * transition table below is the vendor's ECU FOTA CANopen Specification
 * (DESIGN.md D4); each row names the section it implements. Anything not in the table is refused with -EBUSY, which the SDO
 * layer turns into abort 0x08000022 ("SDO Abort Conditions").
 */
#include <ctype.h>
#include <stdarg.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "core/file.h"
#include "core/update.h"

/* Effects on the object values, applied by the machine itself. */
#define FX_OFFER    0x01u /* new request: identification + timestamps overwritten, counter +1 */
#define FX_TAKEN    0x02u /* update_available back to 0x00 */
#define FX_START    0x04u /* start time, progress 0, bootloader delay starts */
#define FX_PROGRESS 0x08u /* update_progress from the event argument */
#define FX_VERIFY   0x10u /* progress 100, verification start, health deadline */
#define FX_END	    0x20u /* end time; timers stop */
#define FX_REARM    0x40u /* restart while verifying: health timer from the persisted deadline */

struct upd_row {
	uint8_t from;	  /* enum upd_state */
	uint8_t ev;	  /* enum upd_event */
	uint8_t to;	  /* enum upd_state */
	uint8_t fx;	  /* FX_* */
	uint8_t act;	  /* UPD_ACT_* */
	const char *spec; /* section of the specification */
};

#define ACT_FINAL (UPD_ACT_PERSIST | UPD_ACT_REPORT | UPD_ACT_FINISHED)
#define ACT_OFFER (UPD_ACT_PERSIST | UPD_ACT_REPORT)

static const struct upd_row upd_table[] = {
	/* A request reaches the TCU. From Idle, and from any final state. */
	{ UPD_ST_IDLE, UPD_EV_OFFER, UPD_ST_AVAILABLE, FX_OFFER, ACT_OFFER,
	  "State Overview: Update Available; update_attempts_counter; Update Identification Objects" },
	{ UPD_ST_SUCCESS, UPD_EV_OFFER, UPD_ST_AVAILABLE, FX_OFFER, ACT_OFFER,
	  "update_status Note: objects overwritten when the next update becomes available" },
	{ UPD_ST_FLASH_FAILED, UPD_EV_OFFER, UPD_ST_AVAILABLE, FX_OFFER, ACT_OFFER,
	  "update_status Note: final state stays until the next update" },
	{ UPD_ST_VERIFY_FAILED, UPD_EV_OFFER, UPD_ST_AVAILABLE, FX_OFFER, ACT_OFFER,
	  "update_status Note: final state stays until the next update" },
	{ UPD_ST_VERIFY_TIMEOUT, UPD_EV_OFFER, UPD_ST_AVAILABLE, FX_OFFER, ACT_OFFER,
	  "update_status Note: final state stays until the next update" },
	{ UPD_ST_CANCELLED, UPD_EV_OFFER, UPD_ST_AVAILABLE, FX_OFFER, ACT_OFFER,
	  "update_status Note: final state stays until the next update" },

	/* Checkpoint 1: the operator decides; the platform may withdraw. */
	{ UPD_ST_AVAILABLE, UPD_EV_APPROVE, UPD_ST_BOOTLOADER, FX_TAKEN | FX_START,
	  UPD_ACT_PERSIST | UPD_ACT_REPORT | UPD_ACT_BOOTLOADER_FRAME,
	  "apply_update 0x01: available -> 0x00, status 0x01, bootloader frame, delay; update_start_time" },
	{ UPD_ST_AVAILABLE, UPD_EV_REJECT, UPD_ST_CANCELLED, FX_TAKEN | FX_END, ACT_FINAL,
	  "apply_update 0x02; update_status: 0x60 only reachable from Update Available" },
	{ UPD_ST_AVAILABLE, UPD_EV_CANCEL, UPD_ST_CANCELLED, FX_TAKEN | FX_END, ACT_FINAL,
	  "update_available reset behavior: cancelled remotely via DataPortal" },

	/* Bootloader transition and flashing (both report 0x01). */
	{ UPD_ST_BOOTLOADER, UPD_EV_BOOT_DELAY_ELAPSED, UPD_ST_FLASHING, 0, UPD_ACT_START_FLASH,
	  "apply_update: waits the configured delay, then initiates the UDS programming session" },
	{ UPD_ST_BOOTLOADER, UPD_EV_FLASH_FAILED, UPD_ST_FLASH_FAILED, FX_END, ACT_FINAL,
	  "State Overview: Flashing Failed includes bootloader transition failures" },
	{ UPD_ST_FLASHING, UPD_EV_FLASH_PROGRESS, UPD_ST_FLASHING, FX_PROGRESS, 0,
	  "update_progress: starts incrementing after apply_update = 0x01" },
	{ UPD_ST_FLASHING, UPD_EV_FLASH_OK, UPD_ST_VERIFY, FX_VERIFY,
	  UPD_ACT_PERSIST | UPD_ACT_REPORT | UPD_ACT_HEALTH_TIMER,
	  "State Overview: Waiting for Verification 0x10; ecu_health_check_timeout starts" },
	{ UPD_ST_FLASHING, UPD_EV_FLASH_FAILED, UPD_ST_FLASH_FAILED, FX_END, ACT_FINAL,
	  "update_status 0x50 Flashing failed; update_end_time" },

	/* Checkpoint 2: the OEM's verdict, or its absence. */
	{ UPD_ST_VERIFY, UPD_EV_HEALTH_OK, UPD_ST_SUCCESS, FX_END, ACT_FINAL,
	  "ecu_health_check 0x01: update_status 0x40" },
	{ UPD_ST_VERIFY, UPD_EV_HEALTH_FAIL, UPD_ST_VERIFY_FAILED, FX_END, ACT_FINAL,
	  "ecu_health_check 0x02: update_status 0x51" },
	{ UPD_ST_VERIFY, UPD_EV_HEALTH_TIMEOUT, UPD_ST_VERIFY_TIMEOUT, FX_END, ACT_FINAL,
	  "ecu_health_check_timeout: no result within the period -> 0x52" },

	/*
	 * Power-up ("values are retained across power cycles"). A flash cannot
	 * resume after a restart: it ends as 0x50 and the ECU's bootloader stays
	 * reachable for a new request (issue 4). Verification resumes with the
	 * stored wall-clock deadline.
	 */
	{ UPD_ST_IDLE, UPD_EV_BOOT, UPD_ST_IDLE, 0, 0,
	  "Overview: objects retained across power cycles" },
	{ UPD_ST_AVAILABLE, UPD_EV_BOOT, UPD_ST_AVAILABLE, 0, 0,
	  "update_available: persistent, the offer survives a restart" },
	{ UPD_ST_BOOTLOADER, UPD_EV_BOOT, UPD_ST_FLASH_FAILED, FX_END, ACT_FINAL,
	  "restart during bootloader transition -> 0x50 (fota rule)" },
	{ UPD_ST_FLASHING, UPD_EV_BOOT, UPD_ST_FLASH_FAILED, FX_END, ACT_FINAL,
	  "restart during flashing -> 0x50 (fota rule)" },
	{ UPD_ST_VERIFY, UPD_EV_BOOT, UPD_ST_VERIFY, FX_REARM, UPD_ACT_HEALTH_TIMER,
	  "restart during verification keeps the health deadline (fota rule)" },
	{ UPD_ST_SUCCESS, UPD_EV_BOOT, UPD_ST_SUCCESS, 0, 0, "final states stay" },
	{ UPD_ST_FLASH_FAILED, UPD_EV_BOOT, UPD_ST_FLASH_FAILED, 0, 0, "final states stay" },
	{ UPD_ST_VERIFY_FAILED, UPD_EV_BOOT, UPD_ST_VERIFY_FAILED, 0, 0, "final states stay" },
	{ UPD_ST_VERIFY_TIMEOUT, UPD_EV_BOOT, UPD_ST_VERIFY_TIMEOUT, 0, 0, "final states stay" },
	{ UPD_ST_CANCELLED, UPD_EV_BOOT, UPD_ST_CANCELLED, 0, 0, "final states stay" },
};

/* update_status shown in each state; -1: unchanged ("update_status remains"). */
static const int16_t upd_state_status[UPD_ST_COUNT] = {
	[UPD_ST_IDLE] = UPD_STATUS_IDLE,
	[UPD_ST_AVAILABLE] = -1,
	[UPD_ST_BOOTLOADER] = UPD_STATUS_FLASHING,
	[UPD_ST_FLASHING] = UPD_STATUS_FLASHING,
	[UPD_ST_VERIFY] = UPD_STATUS_VERIFYING,
	[UPD_ST_SUCCESS] = UPD_STATUS_SUCCESS,
	[UPD_ST_FLASH_FAILED] = UPD_STATUS_FLASH_FAILED,
	[UPD_ST_VERIFY_FAILED] = UPD_STATUS_VERIFY_FAILED,
	[UPD_ST_VERIFY_TIMEOUT] = UPD_STATUS_VERIFY_TIMEOUT,
	[UPD_ST_CANCELLED] = UPD_STATUS_CANCELLED,
};

static const char *const upd_state_names[UPD_ST_COUNT] = {
	[UPD_ST_IDLE] = "idle",
	[UPD_ST_AVAILABLE] = "available",
	[UPD_ST_BOOTLOADER] = "bootloader",
	[UPD_ST_FLASHING] = "flashing",
	[UPD_ST_VERIFY] = "verify",
	[UPD_ST_SUCCESS] = "success",
	[UPD_ST_FLASH_FAILED] = "flash-failed",
	[UPD_ST_VERIFY_FAILED] = "verify-failed",
	[UPD_ST_VERIFY_TIMEOUT] = "verify-timeout",
	[UPD_ST_CANCELLED] = "cancelled",
};

static const char *const upd_event_names[UPD_EV_COUNT] = {
	[UPD_EV_OFFER] = "offer",
	[UPD_EV_APPROVE] = "approve",
	[UPD_EV_REJECT] = "reject",
	[UPD_EV_CANCEL] = "cancel",
	[UPD_EV_BOOT_DELAY_ELAPSED] = "boot-delay-elapsed",
	[UPD_EV_FLASH_PROGRESS] = "flash-progress",
	[UPD_EV_FLASH_OK] = "flash-ok",
	[UPD_EV_FLASH_FAILED] = "flash-failed",
	[UPD_EV_HEALTH_OK] = "health-ok",
	[UPD_EV_HEALTH_FAIL] = "health-fail",
	[UPD_EV_HEALTH_TIMEOUT] = "health-timeout",
	[UPD_EV_BOOT] = "boot",
};

const char *upd_state_name(enum upd_state st)
{
	return (unsigned)st < UPD_ST_COUNT ? upd_state_names[st] : "?";
}

const char *upd_event_name(enum upd_event ev)
{
	return (unsigned)ev < UPD_EV_COUNT ? upd_event_names[ev] : "?";
}

bool upd_status_final(uint8_t status)
{
	return status >= UPD_STATUS_FINAL_MIN;
}

const char *upd_status_str(uint8_t status)
{
	switch (status) {
	case UPD_STATUS_IDLE:
		return "idle";
	case UPD_STATUS_FLASHING:
		return "flashing in progress";
	case UPD_STATUS_VERIFYING:
		return "waiting for OEM health verification";
	case UPD_STATUS_SUCCESS:
		return "update successful";
	case UPD_STATUS_FLASH_FAILED:
		return "flashing failed";
	case UPD_STATUS_VERIFY_FAILED:
		return "health verification failed";
	case UPD_STATUS_VERIFY_TIMEOUT:
		return "verification timeout";
	case UPD_STATUS_CANCELLED:
		return "update cancelled";
	}
	return NULL;
}

void upd_init(struct upd *u)
{
	memset(u, 0, sizeof(*u));
	u->state = UPD_ST_IDLE;
	u->update_status = UPD_STATUS_IDLE;
	u->ecu_health_check_timeout = UPD_HEALTH_TIMEOUT_DEFAULT_MIN;
	u->boot_deadline = FOTA_NEVER;
	u->health_mono = FOTA_NEVER;
}

static uint64_t upd_scale(const struct upd *u)
{
	return u->time_scale > 1 ? u->time_scale : 1;
}

/* Whole seconds from now until the monotonic deadline t, rounded up; 0 if past. */
static uint32_t secs_until(fota_us now, fota_us t)
{
	return t > now ? (uint32_t)((t - now + FOTA_SEC(1) - 1) / FOTA_SEC(1)) : 0;
}

void upd_set_clock(struct upd *u, fota_us now, uint32_t wall)
{
	int64_t shift;

	u->clock_mono = now;
	u->clock_wall = wall;
	if (u->state != UPD_ST_VERIFY || u->health_mono == FOTA_NEVER)
		return;
	/*
	 * The wall clock stepped (NTP after a boot without a time fix): the
	 * timer runs on, monotonic; the persisted wall-clock deadline (and the
	 * entry time it is counted from) moves with the clock, so a restart
	 * re-arms it with the time that was really left.
	 */
	shift = (int64_t)wall + (int64_t)(secs_until(now, u->health_mono) * upd_scale(u)) -
		(int64_t)u->health_deadline;
	if (shift >= -2 && shift <= 2)
		return;
	u->health_deadline = (uint32_t)((int64_t)u->health_deadline + shift);
	u->verify_start_time = (uint32_t)((int64_t)u->verify_start_time + shift);
	u->actions |= UPD_ACT_PERSIST;
}

uint32_t upd_wall(const struct upd *u, fota_us now)
{
	if (now >= u->clock_mono)
		return u->clock_wall + (uint32_t)((now - u->clock_mono) / FOTA_SEC(1));
	return u->clock_wall - (uint32_t)((u->clock_mono - now + FOTA_SEC(1) - 1) / FOTA_SEC(1));
}

void upd_set_time_scale(struct upd *u, uint32_t scale)
{
	u->time_scale = scale;
}

/*
 * The health timer: ecu_health_check_timeout minutes from entering 0x10, on
 * the monotonic clock (health_mono), persisted as the wall-clock deadline.
 */
static void arm_health(struct upd *u)
{
	int64_t end;

	if (!u->ecu_health_check_timeout) {
		u->health_deadline = 0;
		u->health_mono = FOTA_NEVER;
		return;
	}
	u->health_deadline = u->verify_start_time + (uint32_t)u->ecu_health_check_timeout * 60u;
	end = u->verify_start_mono +
	      (int64_t)(FOTA_SEC(u->ecu_health_check_timeout * 60u) / upd_scale(u));
	u->health_mono = end > 0 ? (fota_us)end : 0;
}

/*
 * After a restart: what was left of the persisted deadline by the wall clock,
 * never more than the whole timeout (a clock that went back, or is not set
 * yet, cannot stretch it) and never less than nothing.
 */
static void rearm_health(struct upd *u, fota_us now)
{
	uint32_t wall = upd_wall(u, now), full = (uint32_t)u->ecu_health_check_timeout * 60u;
	int64_t left;

	if (!u->ecu_health_check_timeout || !u->health_deadline) {
		u->health_mono = FOTA_NEVER;
		return;
	}
	left = (int64_t)u->health_deadline - wall;
	if (left < 0)
		left = 0;
	if (left > full)
		left = full;
	u->verify_start_mono = (int64_t)now + (int64_t)(FOTA_SEC(left) / upd_scale(u)) -
			       (int64_t)(FOTA_SEC(full) / upd_scale(u));
	u->health_mono = now + FOTA_SEC(left) / upd_scale(u);
}

/* The arguments of the events that have some, passed with the event. */
struct upd_args {
	const char *request_id; /* UPD_EV_OFFER */
	uint32_t ecu_can_id;	/* UPD_EV_OFFER */
	uint8_t progress;	/* UPD_EV_FLASH_PROGRESS */
};

static void apply_fx(struct upd *u, unsigned fx, const struct upd_args *a, fota_us now)
{
	uint32_t wall = upd_wall(u, now);

	if (fx & FX_OFFER) {
		/* "Increments each time update_available transitions from 0x00 to 0x01." */
		u->update_available = 1;
		u->update_attempts_counter++;
		snprintf(u->update_request_id, sizeof(u->update_request_id), "%s", a->request_id);
		u->ecu_can_id = a->ecu_can_id;
		u->update_available_time = wall;
		u->update_start_time = 0;
		u->update_end_time = 0;
		u->update_progress = 0;
		u->verify_start_time = 0;
		u->health_deadline = 0;
		u->health_mono = FOTA_NEVER;
	}
	if (fx & FX_TAKEN)
		u->update_available = 0;
	if (fx & FX_START) {
		u->update_start_time = wall;
		u->update_progress = 0;
		u->boot_deadline = now + FOTA_MS(u->boot_delay_ms);
	}
	if (fx & FX_PROGRESS)
		u->update_progress = a->progress;
	if (fx & FX_VERIFY) {
		u->update_progress = 100;
		u->verify_start_time = wall;
		u->verify_start_mono = (int64_t)now;
		arm_health(u);
	}
	if (fx & FX_REARM)
		rearm_health(u, now);
	if (fx & FX_END) {
		u->update_end_time = wall;
		u->health_deadline = 0;
		u->health_mono = FOTA_NEVER;
		u->boot_deadline = FOTA_NEVER;
	}
}

static int handle(struct upd *u, enum upd_event ev, const struct upd_args *a, fota_us now)
{
	static const struct upd_args none;

	if (!a) {
		if (ev == UPD_EV_OFFER || ev == UPD_EV_FLASH_PROGRESS)
			return -EINVAL; /* these need their arguments: upd_offer(), upd_set_progress() */
		a = &none;
	}
	for (size_t i = 0; i < sizeof(upd_table) / sizeof(upd_table[0]); i++) {
		const struct upd_row *r = &upd_table[i];

		if (r->from != u->state || r->ev != ev)
			continue;
		apply_fx(u, r->fx, a, now);
		if (r->to != UPD_ST_BOOTLOADER)
			u->boot_deadline = FOTA_NEVER;
		u->state = r->to;
		if (upd_state_status[r->to] >= 0)
			u->update_status = (uint8_t)upd_state_status[r->to];
		u->actions |= r->act;
		return 0;
	}
	return -EBUSY;
}

static bool request_id_ok(const char *id)
{
	size_t n = strlen(id);

	if (n == 0 || n > UPD_REQUEST_ID_LEN)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!isgraph((unsigned char)id[i]))
			return false;
	return true;
}

int upd_handle(struct upd *u, enum upd_event ev, fota_us now)
{
	return handle(u, ev, NULL, now);
}

int upd_offer(struct upd *u, const char *request_id, uint32_t ecu_can_id, uint32_t boot_delay_ms,
	      fota_us now)
{
	struct upd_args a = { .request_id = request_id, .ecu_can_id = ecu_can_id };
	uint32_t old_delay = u->boot_delay_ms;
	int err;

	if (!request_id || !request_id_ok(request_id))
		return -EINVAL;
	u->boot_delay_ms = boot_delay_ms;
	err = handle(u, UPD_EV_OFFER, &a, now);
	if (err)
		u->boot_delay_ms = old_delay; /* a refusal changes nothing */
	return err;
}

int upd_set_progress(struct upd *u, unsigned percent, fota_us now)
{
	struct upd_args a = { .progress = (uint8_t)(percent > 100 ? 100 : percent) };

	return handle(u, UPD_EV_FLASH_PROGRESS, &a, now);
}

void upd_set_health_timeout(struct upd *u, uint16_t minutes, fota_us now)
{
	u->ecu_health_check_timeout = minutes;
	if (u->state == UPD_ST_VERIFY)
		arm_health(u);
	u->actions |= UPD_ACT_PERSIST;
}

void upd_set_boot_delay(struct upd *u, uint32_t ms)
{
	u->boot_delay_ms = ms;
}

void upd_tick(struct upd *u, fota_us now)
{
	if (u->state == UPD_ST_BOOTLOADER && now >= u->boot_deadline)
		upd_handle(u, UPD_EV_BOOT_DELAY_ELAPSED, now);
	if (u->state == UPD_ST_VERIFY && now >= u->health_mono)
		upd_handle(u, UPD_EV_HEALTH_TIMEOUT, now);
}

fota_us upd_deadline(const struct upd *u)
{
	if (u->state == UPD_ST_BOOTLOADER)
		return u->boot_deadline;
	if (u->state == UPD_ST_VERIFY)
		return u->health_mono;
	return FOTA_NEVER;
}

unsigned upd_take_actions(struct upd *u)
{
	unsigned a = u->actions;

	u->actions = 0;
	return a;
}

/* ---- state file ---------------------------------------------------------------- */

#define UPD_FORMAT   1
#define UPD_FILE_MAX 4096
#define UPD_PATH_MAX 4096

enum upd_key {
	K_FORMAT,
	K_AVAILABLE,
	K_REQUEST_ID,
	K_ATTEMPTS,
	K_AVAILABLE_TIME,
	K_ECU_CAN_ID,
	K_STATUS,
	K_START_TIME,
	K_END_TIME,
	K_HEALTH_TIMEOUT,
	K_VERIFY_START,
	K_HEALTH_DEADLINE,
	K_COUNT,
};

static const struct {
	const char *name;
	uint32_t max;
} upd_keys[K_COUNT] = {
	[K_FORMAT] = { "format", UPD_FORMAT },
	[K_AVAILABLE] = { "update_available", 1 },
	[K_REQUEST_ID] = { "update_request_id", 0 },
	[K_ATTEMPTS] = { "update_attempts_counter", UINT32_MAX },
	[K_AVAILABLE_TIME] = { "update_available_time", UINT32_MAX },
	[K_ECU_CAN_ID] = { "ecu_can_id", UINT32_MAX },
	[K_STATUS] = { "update_status", 0xff },
	[K_START_TIME] = { "update_start_time", UINT32_MAX },
	[K_END_TIME] = { "update_end_time", UINT32_MAX },
	[K_HEALTH_TIMEOUT] = { "ecu_health_check_timeout", UINT16_MAX },
	[K_VERIFY_START] = { "verify_start_time", UINT32_MAX },
	[K_HEALTH_DEADLINE] = { "health_deadline", UINT32_MAX },
};

static int join(char *buf, size_t size, const char *dir, const char *name)
{
	int n = snprintf(buf, size, "%s/%s", dir, name);

	return n < 0 || (size_t)n >= size ? -ENAMETOOLONG : 0;
}

int upd_save(const struct upd *u, const char *dir)
{
	char path[UPD_PATH_MAX], text[1024];
	int n, err;

	err = join(path, sizeof(path), dir, UPD_STATE_FILE);
	if (err)
		return err;
	n = snprintf(text, sizeof(text),
		     "# fota serve: persistent 0x5FF3 objects; replaced atomically, do not edit\n"
		     "format=%d\n"
		     "update_available=%u\n"
		     "update_request_id=%s\n"
		     "update_attempts_counter=%u\n"
		     "update_available_time=%u\n"
		     "ecu_can_id=0x%x\n"
		     "update_status=0x%02x\n"
		     "update_start_time=%u\n"
		     "update_end_time=%u\n"
		     "ecu_health_check_timeout=%u\n"
		     "verify_start_time=%u\n"
		     "health_deadline=%u\n",
		     UPD_FORMAT, u->update_available, u->update_request_id,
		     u->update_attempts_counter, u->update_available_time, u->ecu_can_id,
		     u->update_status, u->update_start_time, u->update_end_time,
		     u->ecu_health_check_timeout, u->verify_start_time, u->health_deadline);
	if (n < 0 || (size_t)n >= sizeof(text))
		return -EOVERFLOW;

	return fota_write_file_atomic(path, text, (size_t)n);
}

__attribute__((format(printf, 3, 4))) static int bad(struct upd_error *err, unsigned line,
						     const char *fmt, ...)
{
	va_list ap;

	if (err) {
		err->line = line;
		va_start(ap, fmt);
		vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
		va_end(ap);
	}
	return -EBADMSG;
}

/* Decimal or 0x hex, no sign, no spaces, within max. */
static int parse_uint(const char *s, uint32_t max, uint32_t *out)
{
	unsigned long long v;
	char *end;

	if (!isdigit((unsigned char)s[0]))
		return -1;
	errno = 0;
	v = strtoull(s, &end, s[0] == '0' && (s[1] == 'x' || s[1] == 'X') ? 16 : 10);
	if (errno || *end || v > max)
		return -1;
	*out = (uint32_t)v;
	return 0;
}

static int state_of(const struct upd *u, enum upd_state *st)
{
	if (u->update_available) {
		/* An offer is only made from Idle or a final state (see the table). */
		if (u->update_status != UPD_STATUS_IDLE && !upd_status_final(u->update_status))
			return -1;
		*st = UPD_ST_AVAILABLE;
		return 0;
	}
	switch (u->update_status) {
	case UPD_STATUS_IDLE:
		*st = UPD_ST_IDLE;
		return 0;
	case UPD_STATUS_FLASHING:
		*st = UPD_ST_FLASHING;
		return 0;
	case UPD_STATUS_VERIFYING:
		*st = UPD_ST_VERIFY;
		return 0;
	case UPD_STATUS_SUCCESS:
		*st = UPD_ST_SUCCESS;
		return 0;
	case UPD_STATUS_FLASH_FAILED:
		*st = UPD_ST_FLASH_FAILED;
		return 0;
	case UPD_STATUS_VERIFY_FAILED:
		*st = UPD_ST_VERIFY_FAILED;
		return 0;
	case UPD_STATUS_VERIFY_TIMEOUT:
		*st = UPD_ST_VERIFY_TIMEOUT;
		return 0;
	case UPD_STATUS_CANCELLED:
		*st = UPD_ST_CANCELLED;
		return 0;
	}
	return -1;
}

static int parse_state(struct upd *u, char *text, struct upd_error *err)
{
	unsigned seen[K_COUNT] = { 0 };
	uint32_t val[K_COUNT] = { 0 };
	unsigned line = 0;
	char *p = text, *nl, *eq;
	int k;

	while (*p) {
		line++;
		nl = strchr(p, '\n');
		if (!nl)
			return bad(err, line, "last line has no newline (file truncated?)");
		*nl = '\0';
		if (*p == '\0' || *p == '#')
			goto next;
		eq = strchr(p, '=');
		if (!eq)
			return bad(err, line, "expected key=value");
		*eq = '\0';
		for (k = 0; k < K_COUNT; k++)
			if (!strcmp(p, upd_keys[k].name))
				break;
		if (k == K_COUNT)
			return bad(err, line, "unknown key '%.40s'", p);
		if (seen[k])
			return bad(err, line, "duplicate key '%s' (first on line %u)",
				   upd_keys[k].name, seen[k]);
		seen[k] = line;
		if (k == K_REQUEST_ID) {
			size_t n = strlen(eq + 1);

			if (n > UPD_REQUEST_ID_LEN)
				return bad(err, line, "update_request_id longer than %u characters",
					   UPD_REQUEST_ID_LEN);
			for (size_t i = 0; i < n; i++)
				if (!isgraph((unsigned char)eq[1 + i]))
					return bad(
						err, line,
						"update_request_id has a non-printable character");
			memcpy(u->update_request_id, eq + 1, n + 1);
		} else if (parse_uint(eq + 1, upd_keys[k].max, &val[k])) {
			return bad(err, line, "invalid value '%.32s' for %s (0..%u)", eq + 1,
				   upd_keys[k].name, upd_keys[k].max);
		}
next:
		p = nl + 1;
	}
	for (k = 0; k < K_COUNT; k++)
		if (!seen[k])
			return bad(err, 0, "missing key '%s'", upd_keys[k].name);

	u->update_available = (uint8_t)val[K_AVAILABLE];
	u->update_attempts_counter = val[K_ATTEMPTS];
	u->update_available_time = val[K_AVAILABLE_TIME];
	u->ecu_can_id = val[K_ECU_CAN_ID];
	u->update_status = (uint8_t)val[K_STATUS];
	u->update_start_time = val[K_START_TIME];
	u->update_end_time = val[K_END_TIME];
	u->ecu_health_check_timeout = (uint16_t)val[K_HEALTH_TIMEOUT];
	u->verify_start_time = val[K_VERIFY_START];
	u->health_deadline = val[K_HEALTH_DEADLINE];
	if (!upd_status_str(u->update_status))
		return bad(err, seen[K_STATUS], "update_status 0x%02x is not a defined value",
			   u->update_status);
	if (state_of(u, &u->state))
		return bad(err, seen[K_AVAILABLE],
			   "update_available=1 is impossible with update_status 0x%02x",
			   u->update_status);
	if (u->health_deadline && u->state != UPD_ST_VERIFY)
		return bad(err, seen[K_HEALTH_DEADLINE],
			   "health_deadline set while not waiting for verification");
	if (u->update_available && !u->update_request_id[0])
		return bad(err, seen[K_REQUEST_ID], "update offered without update_request_id");
	return 0;
}

int upd_load(struct upd *u, const char *dir, struct upd_error *err)
{
	char path[UPD_PATH_MAX], text[UPD_FILE_MAX + 1];
	struct upd tmp;
	size_t len = 0;
	ssize_t n;
	int fd, e;

	if (err) {
		err->line = 0;
		err->msg[0] = '\0';
	}
	e = join(path, sizeof(path), dir, UPD_STATE_FILE);
	if (e)
		return e;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	while ((n = read(fd, text + len, sizeof(text) - 1 - len)) != 0) {
		if (n < 0) {
			if (errno == EINTR)
				continue;
			e = -errno;
			close(fd);
			return e;
		}
		len += (size_t)n;
		if (len == sizeof(text) - 1) {
			close(fd);
			return bad(err, 0, "file larger than %d bytes", UPD_FILE_MAX);
		}
	}
	close(fd);
	text[len] = '\0';
	if (strlen(text) != len)
		return bad(err, 0, "file contains a NUL byte");

	/* Parse into a copy so a bad file leaves *u untouched. */
	tmp = *u;
	tmp.update_request_id[0] = '\0';
	e = parse_state(&tmp, text, err);
	if (e)
		return e;
	tmp.update_progress = 0; /* not persistent */
	tmp.boot_deadline = FOTA_NEVER;
	tmp.health_mono = FOTA_NEVER; /* re-armed by UPD_EV_BOOT */
	tmp.actions = 0;
	*u = tmp;
	return 0;
}
