// SPDX-License-Identifier: MIT
/*
 * The update state machine (core/update.c) against the ECU FOTA
 * specification: every state x every event from an expectation matrix
 * written here independently of the implementation's table, timers in
 * virtual time (a 10-minute health timeout costs nothing), and the state file:
 * round trip, corrupt files, restarts mid-flash and mid-verification.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "core/update.h"
#include "tests/unit/t.h"

#define T0    FOTA_SEC(5000)
#define WALL0 1700000000u
#define UUID1 "3f1c2a4e-8b7d-4c2e-9f10-5a6b7c8d9e0f"
#define UUID2 "a1b2c3d4-0000-4000-8000-000000000002"
#define DELAY 5000u /* bootloader delay, ms */

static void fresh(struct upd *u)
{
	upd_init(u);
	upd_set_clock(u, T0, WALL0);
}

/* Drive a fresh machine into st through the public events. */
static void reach(struct upd *u, enum upd_state st)
{
	fresh(u);
	if (st == UPD_ST_IDLE)
		return;
	T_OK(upd_offer(u, UUID1, 0x701, DELAY, T0));
	if (st == UPD_ST_AVAILABLE)
		return;
	if (st == UPD_ST_CANCELLED) {
		T_OK(upd_handle(u, UPD_EV_REJECT, T0));
		return;
	}
	T_OK(upd_handle(u, UPD_EV_APPROVE, T0));
	if (st == UPD_ST_BOOTLOADER)
		return;
	T_OK(upd_handle(u, UPD_EV_BOOT_DELAY_ELAPSED, T0));
	if (st == UPD_ST_FLASHING)
		return;
	if (st == UPD_ST_FLASH_FAILED) {
		T_OK(upd_handle(u, UPD_EV_FLASH_FAILED, T0));
		return;
	}
	T_OK(upd_handle(u, UPD_EV_FLASH_OK, T0));
	if (st == UPD_ST_VERIFY)
		return;
	T_OK(upd_handle(u,
			st == UPD_ST_SUCCESS	   ? UPD_EV_HEALTH_OK :
			st == UPD_ST_VERIFY_FAILED ? UPD_EV_HEALTH_FAIL :
						     UPD_EV_HEALTH_TIMEOUT,
			T0));
}

static int fire(struct upd *u, enum upd_event ev, fota_us now)
{
	if (ev == UPD_EV_OFFER)
		return upd_offer(u, UUID2, 0x702, DELAY, now);
	if (ev == UPD_EV_FLASH_PROGRESS)
		return upd_set_progress(u, 42, now);
	return upd_handle(u, ev, now);
}

#define X  (-1) /* refused: -EBUSY, nothing changes (SDO abort 0x08000022 for writes) */
#define I  UPD_ST_IDLE
#define A  UPD_ST_AVAILABLE
#define B  UPD_ST_BOOTLOADER
#define F  UPD_ST_FLASHING
#define V  UPD_ST_VERIFY
#define S  UPD_ST_SUCCESS
#define FF UPD_ST_FLASH_FAILED
#define VF UPD_ST_VERIFY_FAILED
#define VT UPD_ST_VERIFY_TIMEOUT
#define C  UPD_ST_CANCELLED

/*
 * From the specification: offers from Idle and final states only; approve,
 * reject and remote cancel only while Update Available ("0x60 only reachable
 * from Update Available"); verdicts only at 0x10; flashing failures include
 * the bootloader transition; restarts: flashing -> 0x50, the rest kept.
 */
static const int expect[UPD_ST_COUNT][UPD_EV_COUNT] = {
	/*          offer appr rej canc delay prog ok  fail hok hfail hto boot */
	[I] = { A, X, X, X, X, X, X, X, X, X, X, I },
	[A] = { X, B, C, C, X, X, X, X, X, X, X, A },
	[B] = { X, X, X, X, F, X, X, FF, X, X, X, FF },
	[F] = { X, X, X, X, X, F, V, FF, X, X, X, FF },
	[V] = { X, X, X, X, X, X, X, X, S, VF, VT, V },
	[S] = { A, X, X, X, X, X, X, X, X, X, X, S },
	[FF] = { A, X, X, X, X, X, X, X, X, X, X, FF },
	[VF] = { A, X, X, X, X, X, X, X, X, X, X, VF },
	[VT] = { A, X, X, X, X, X, X, X, X, X, X, VT },
	[C] = { A, X, X, X, X, X, X, X, X, X, X, C },
};

static const int status_of[UPD_ST_COUNT] = {
	[I] = 0x00, [A] = -1,	 [B] = 0x01,  [F] = 0x01,  [V] = 0x10,
	[S] = 0x40, [FF] = 0x50, [VF] = 0x51, [VT] = 0x52, [C] = 0x60,
};

static void test_update__every_state_every_event(void)
{
	struct upd u, before;

	for (int st = 0; st < UPD_ST_COUNT; st++) {
		for (int ev = 0; ev < UPD_EV_COUNT; ev++) {
			int want = expect[st][ev], err;

			reach(&u, (enum upd_state)st);
			upd_take_actions(&u);
			before = u;
			err = fire(&u, (enum upd_event)ev, T0 + FOTA_SEC(1));
			if (want == X) {
				if (err != -EBUSY || memcmp(&u, &before, sizeof(u)))
					t_fail(__FILE__, __LINE__,
					       "%s + %s: expected refusal, got %d",
					       upd_state_name(st), upd_event_name(ev), err);
				continue;
			}
			if (err || (int)u.state != want) {
				t_fail(__FILE__, __LINE__, "%s + %s: expected %s, got %d / %s",
				       upd_state_name(st), upd_event_name(ev), upd_state_name(want),
				       err, upd_state_name(u.state));
				continue;
			}
			/* update_status: per target state; Update Available keeps the old one */
			if (u.update_status !=
			    (status_of[want] < 0 ? before.update_status : status_of[want]))
				t_fail(__FILE__, __LINE__, "%s + %s: update_status 0x%02x",
				       upd_state_name(st), upd_event_name(ev), u.update_status);
			/* update_end_time set exactly on entering a final state */
			if (upd_status_final(u.update_status) && u.state != before.state &&
			    u.state != A && u.update_end_time != WALL0 + 1)
				t_fail(__FILE__, __LINE__, "%s + %s: end time %u",
				       upd_state_name(st), upd_event_name(ev), u.update_end_time);
		}
	}
}

static void test_update__status_values(void)
{
	T_EQ(UPD_STATUS_IDLE, 0x00);
	T_EQ(UPD_STATUS_FLASHING, 0x01);
	T_EQ(UPD_STATUS_VERIFYING, 0x10);
	T_EQ(UPD_STATUS_SUCCESS, 0x40);
	T_EQ(UPD_STATUS_FLASH_FAILED, 0x50);
	T_EQ(UPD_STATUS_VERIFY_FAILED, 0x51);
	T_EQ(UPD_STATUS_VERIFY_TIMEOUT, 0x52);
	T_EQ(UPD_STATUS_CANCELLED, 0x60);
	T_EQ_STR(upd_status_str(0x10), "waiting for OEM health verification");
	T_TRUE(upd_status_str(0x02) == NULL);
	T_TRUE(upd_status_final(0x40) && !upd_status_final(0x10));
}

static void test_update__offer_sets_objects(void)
{
	struct upd u;
	unsigned act;

	fresh(&u);
	T_EQ(u.ecu_health_check_timeout, 10);
	T_OK(upd_offer(&u, UUID1, 0x701, DELAY, T0 + FOTA_SEC(3)));
	act = upd_take_actions(&u);
	T_EQ(act, UPD_ACT_PERSIST | UPD_ACT_REPORT);
	T_EQ(u.update_available, 1);
	T_EQ(u.update_status, 0x00);
	T_EQ(u.update_attempts_counter, 1);
	T_EQ_STR(u.update_request_id, UUID1);
	T_EQ(u.ecu_can_id, 0x701);
	T_EQ(u.update_available_time, WALL0 + 3);
	T_ERR(upd_offer(&u, UUID2, 0x702, DELAY, T0), -EBUSY); /* one offered at a time */
	T_EQ(u.update_attempts_counter, 1);
	T_EQ_STR(u.update_request_id, UUID1);
	T_ERR(upd_handle(&u, UPD_EV_OFFER, T0), -EINVAL);

	/* after a final state: identification and timestamps overwritten, status kept */
	reach(&u, UPD_ST_SUCCESS);
	T_TRUE(u.update_start_time && u.update_end_time);
	T_OK(upd_offer(&u, UUID2, 0x702, DELAY, T0 + FOTA_SEC(60)));
	T_EQ(u.update_attempts_counter, 2);
	T_EQ_STR(u.update_request_id, UUID2);
	T_EQ(u.ecu_can_id, 0x702);
	T_EQ(u.update_available_time, WALL0 + 60);
	T_EQ(u.update_start_time, 0);
	T_EQ(u.update_end_time, 0);
	T_EQ(u.update_progress, 0);
	T_EQ(u.update_status, 0x40); /* "remains stored until the next update is initiated" */

	fresh(&u);
	T_ERR(upd_offer(&u, "", 1, 0, T0), -EINVAL);
	T_ERR(upd_offer(&u, "has space", 1, 0, T0), -EINVAL);
	T_ERR(upd_offer(&u, UUID1 "x", 1, 0, T0), -EINVAL); /* 37 characters */
	T_EQ(u.update_attempts_counter, 0);
}

static void test_update__approve_bootloader_delay_flash(void)
{
	struct upd u;
	unsigned act;

	reach(&u, UPD_ST_AVAILABLE);
	upd_take_actions(&u);
	T_EQ_U64(upd_deadline(&u), FOTA_NEVER);
	T_OK(upd_handle(&u, UPD_EV_APPROVE, T0 + FOTA_SEC(10)));
	act = upd_take_actions(&u);
	T_EQ(act, UPD_ACT_PERSIST | UPD_ACT_REPORT | UPD_ACT_BOOTLOADER_FRAME);
	T_EQ(u.update_available, 0);
	T_EQ(u.update_status, 0x01);
	T_EQ(u.update_start_time, WALL0 + 10);
	T_EQ_U64(upd_deadline(&u), T0 + FOTA_SEC(10) + FOTA_MS(DELAY));
	upd_tick(&u, T0 + FOTA_SEC(10) + FOTA_MS(DELAY) - 1);
	T_EQ(u.state, UPD_ST_BOOTLOADER);
	T_EQ(upd_take_actions(&u), 0);
	upd_tick(&u, T0 + FOTA_SEC(10) + FOTA_MS(DELAY));
	T_EQ(u.state, UPD_ST_FLASHING);
	T_EQ(upd_take_actions(&u), UPD_ACT_START_FLASH);
	T_EQ(u.update_status, 0x01);
	T_OK(upd_set_progress(&u, 37, T0));
	T_EQ(u.update_progress, 37);
	T_OK(upd_set_progress(&u, 250, T0));
	T_EQ(u.update_progress, 100);
	T_EQ(upd_take_actions(&u), 0); /* progress is not persistent */
}

/* ecu_health_check_timeout = 10 minutes, in virtual time. */
static void test_update__health_timeout_ten_minutes(void)
{
	struct upd u;
	fota_us t_ok = T0 + FOTA_SEC(100);

	reach(&u, UPD_ST_FLASHING);
	upd_take_actions(&u);
	T_OK(upd_handle(&u, UPD_EV_FLASH_OK, t_ok));
	T_EQ(upd_take_actions(&u), UPD_ACT_PERSIST | UPD_ACT_REPORT | UPD_ACT_HEALTH_TIMER);
	T_EQ(u.update_status, 0x10);
	T_EQ(u.update_progress, 100);
	T_EQ(u.health_deadline, WALL0 + 100 + 600);
	T_EQ_U64(upd_deadline(&u), t_ok + FOTA_SEC(600));
	upd_tick(&u, t_ok + FOTA_SEC(600) - 1);
	T_EQ(u.update_status, 0x10);
	upd_tick(&u, t_ok + FOTA_SEC(600));
	T_EQ(u.update_status, 0x52);
	T_EQ(u.update_end_time, WALL0 + 700);
	T_EQ(upd_take_actions(&u), UPD_ACT_PERSIST | UPD_ACT_REPORT | UPD_ACT_FINISHED);
	T_EQ_U64(upd_deadline(&u), FOTA_NEVER);
	T_ERR(upd_handle(&u, UPD_EV_HEALTH_OK, t_ok + FOTA_SEC(601)), -EBUSY);
}

static void test_update__health_timeout_zero_and_changed(void)
{
	struct upd u;

	fresh(&u);
	upd_set_health_timeout(&u, 0, T0);
	T_EQ(upd_take_actions(&u), UPD_ACT_PERSIST);
	T_OK(upd_offer(&u, UUID1, 1, 0, T0));
	T_OK(upd_handle(&u, UPD_EV_APPROVE, T0));
	upd_tick(&u, T0);
	T_OK(upd_handle(&u, UPD_EV_FLASH_OK, T0));
	T_EQ_U64(upd_deadline(&u), FOTA_NEVER); /* 0 = wait forever */
	upd_tick(&u, T0 + FOTA_SEC(86400 * 60));
	T_EQ(u.update_status, 0x10);
	/* set while waiting: counted from entering 0x10 */
	upd_set_health_timeout(&u, 2, T0 + FOTA_SEC(10));
	T_EQ(u.health_deadline, WALL0 + 120);
	T_EQ_U64(upd_deadline(&u), T0 + FOTA_SEC(120));
	/* a deadline already behind us fires at the next tick */
	upd_set_clock(&u, T0 + FOTA_SEC(300), WALL0 + 300);
	T_EQ_U64(upd_deadline(&u), T0 + FOTA_SEC(120));
	upd_tick(&u, T0 + FOTA_SEC(300));
	T_EQ(u.update_status, 0x52);
}

/* ---- state file ------------------------------------------------------------------ */

static char dir[64];

static void mkdir_tmp(void)
{
	snprintf(dir, sizeof(dir), "/tmp/fota-test-update-XXXXXX");
	T_TRUE(mkdtemp(dir) != NULL);
}

static void rm_tmp(void)
{
	char p[128];

	snprintf(p, sizeof(p), "%s/state", dir);
	unlink(p);
	snprintf(p, sizeof(p), "%s/state.tmp", dir);
	unlink(p);
	rmdir(dir);
}

static void write_state(const char *text)
{
	char p[128];
	FILE *fp;

	snprintf(p, sizeof(p), "%s/state", dir);
	fp = fopen(p, "w");
	T_TRUE(fp != NULL);
	if (fp) {
		fputs(text, fp);
		fclose(fp);
	}
}

static void read_state(char *buf, size_t size)
{
	char p[128];
	FILE *fp;
	size_t n = 0;

	snprintf(p, sizeof(p), "%s/state", dir);
	fp = fopen(p, "r");
	T_TRUE(fp != NULL);
	if (fp) {
		n = fread(buf, 1, size - 1, fp);
		fclose(fp);
	}
	buf[n] = '\0';
}

static void test_update__persistence_round_trip(void)
{
	struct upd u, v;
	char text[1024], p[128];

	mkdir_tmp();
	reach(&u, UPD_ST_VERIFY);
	upd_set_health_timeout(&u, 30, T0);
	T_OK(upd_save(&u, dir));
	read_state(text, sizeof(text));
	T_EQ_STR(text, "# fota serve: persistent 0x5FF3 objects; replaced atomically, do not edit\n"
		       "format=1\n"
		       "update_available=0\n"
		       "update_request_id=" UUID1 "\n"
		       "update_attempts_counter=1\n"
		       "update_available_time=1700000000\n"
		       "ecu_can_id=0x701\n"
		       "update_status=0x10\n"
		       "update_start_time=1700000000\n"
		       "update_end_time=0\n"
		       "ecu_health_check_timeout=30\n"
		       "verify_start_time=1700000000\n"
		       "health_deadline=1700001800\n");
	snprintf(p, sizeof(p), "%s/state.tmp", dir);
	T_TRUE(access(p, F_OK) != 0); /* renamed, not left behind */

	fresh(&v);
	T_OK(upd_load(&v, dir, NULL));
	T_EQ(v.state, UPD_ST_VERIFY);
	T_EQ_STR(v.update_request_id, UUID1);
	T_EQ(v.update_attempts_counter, 1);
	T_EQ(v.ecu_can_id, 0x701);
	T_EQ(v.update_status, 0x10);
	T_EQ(v.update_start_time, u.update_start_time);
	T_EQ(v.ecu_health_check_timeout, 30);
	T_EQ(v.health_deadline, u.health_deadline);
	T_EQ(v.update_progress, 0); /* not persistent */
	rm_tmp();
}

/* The counter's increment and update_available=1 are in the same atomic write. */
static void test_update__attempts_never_double_count(void)
{
	struct upd u, v;
	char text[1024];

	mkdir_tmp();
	fresh(&u);
	T_OK(upd_offer(&u, UUID1, 0x701, 0, T0));
	T_TRUE(upd_take_actions(&u) & UPD_ACT_PERSIST);
	T_OK(upd_save(&u, dir));
	read_state(text, sizeof(text));
	T_TRUE(strstr(text, "\nupdate_available=1\n") &&
	       strstr(text, "\nupdate_attempts_counter=1\n"));
	/* power cycle while offered: the offer survives, the same request is not counted again */
	fresh(&v);
	T_OK(upd_load(&v, dir, NULL));
	T_OK(upd_handle(&v, UPD_EV_BOOT, T0));
	T_EQ(v.state, UPD_ST_AVAILABLE);
	T_EQ(v.update_attempts_counter, 1);
	T_ERR(upd_offer(&v, UUID1, 0x701, 0, T0), -EBUSY);
	T_EQ(v.update_attempts_counter, 1);
	rm_tmp();
}

static void test_update__restart_mid_flash(void)
{
	struct upd u, v;

	mkdir_tmp();
	reach(&u, UPD_ST_FLASHING);
	T_OK(upd_set_progress(&u, 60, T0));
	T_OK(upd_save(&u, dir));
	/* kill -9, power back 2 minutes later */
	fresh(&v);
	upd_set_clock(&v, FOTA_SEC(1), WALL0 + 120);
	T_OK(upd_load(&v, dir, NULL));
	T_EQ(v.state, UPD_ST_FLASHING);
	T_OK(upd_handle(&v, UPD_EV_BOOT, FOTA_SEC(1)));
	T_EQ(v.state, UPD_ST_FLASH_FAILED);
	T_EQ(v.update_status, 0x50);
	T_EQ(v.update_end_time, WALL0 + 120);
	T_EQ(upd_take_actions(&v), UPD_ACT_PERSIST | UPD_ACT_REPORT | UPD_ACT_FINISHED);
	/* and the next request can be offered */
	T_OK(upd_offer(&v, UUID2, 0x701, 0, FOTA_SEC(2)));
	T_EQ(v.update_attempts_counter, 2);

	/* the same during the bootloader transition (saved status is 0x01 too) */
	reach(&u, UPD_ST_BOOTLOADER);
	T_OK(upd_save(&u, dir));
	fresh(&v);
	T_OK(upd_load(&v, dir, NULL));
	T_OK(upd_handle(&v, UPD_EV_BOOT, T0));
	T_EQ(v.update_status, 0x50);
	rm_tmp();
}

static void test_update__restart_mid_verification(void)
{
	struct upd u, v;

	mkdir_tmp();
	reach(&u, UPD_ST_VERIFY); /* deadline WALL0 + 600 */
	T_OK(upd_save(&u, dir));

	/* back after 5 minutes: deadline kept in wall-clock terms */
	fresh(&v);
	upd_set_clock(&v, FOTA_SEC(7), WALL0 + 300);
	T_OK(upd_load(&v, dir, NULL));
	T_OK(upd_handle(&v, UPD_EV_BOOT, FOTA_SEC(7)));
	T_EQ(upd_take_actions(&v), UPD_ACT_HEALTH_TIMER);
	upd_tick(&v, FOTA_SEC(7));
	T_EQ(v.update_status, 0x10);
	T_EQ_U64(upd_deadline(&v), FOTA_SEC(7) + FOTA_SEC(300));
	upd_tick(&v, FOTA_SEC(7) + FOTA_SEC(300));
	T_EQ(v.update_status, 0x52);

	/* back after an hour: expired meanwhile */
	fresh(&v);
	upd_set_clock(&v, FOTA_SEC(7), WALL0 + 3600);
	T_OK(upd_load(&v, dir, NULL));
	T_OK(upd_handle(&v, UPD_EV_BOOT, FOTA_SEC(7)));
	upd_tick(&v, FOTA_SEC(7));
	T_EQ(v.update_status, 0x52);
	T_EQ(v.update_end_time, WALL0 + 3600);
	T_TRUE(upd_take_actions(&v) & UPD_ACT_PERSIST);
	rm_tmp();
}

/*
 * A TCU boots without a time fix, so its wall clock steps (NTP) while an
 * update waits for the OEM: timestamps take the wall clock of the moment,
 * the health timeout runs on the monotonic clock and neither fires early
 * nor late because of the step.
 */
static void test_update__wall_clock_step_while_verifying(void)
{
	struct upd u;
	const uint32_t boot_wall = 946684800u;	 /* 2000-01-01: no RTC, no fix yet */
	const uint32_t step = WALL0 - boot_wall; /* NTP sets the real time */

	upd_init(&u);
	upd_set_clock(&u, T0, boot_wall);
	T_OK(upd_offer(&u, UUID1, 1, 0, T0));
	T_OK(upd_handle(&u, UPD_EV_APPROVE, T0));
	upd_tick(&u, T0);
	T_OK(upd_handle(&u, UPD_EV_FLASH_OK, T0 + FOTA_SEC(10)));
	T_EQ(u.verify_start_time, boot_wall + 10);
	T_EQ_U64(upd_deadline(&u), T0 + FOTA_SEC(10 + 600));

	/* the step: 26 years forward, one second later */
	upd_set_clock(&u, T0 + FOTA_SEC(11), boot_wall + 11 + step);
	upd_tick(&u, T0 + FOTA_SEC(11));
	T_EQ(u.update_status, 0x10); /* not expired by the step */
	T_EQ_U64(upd_deadline(&u), T0 + FOTA_SEC(10 + 600));
	/* the persisted deadline follows the new clock: restart re-arms from it */
	T_EQ(u.health_deadline, boot_wall + 10 + 600 + step);
	upd_tick(&u, T0 + FOTA_SEC(10 + 600) - 1);
	T_EQ(u.update_status, 0x10);
	upd_tick(&u, T0 + FOTA_SEC(10 + 600));
	T_EQ(u.update_status, 0x52);
	T_EQ(u.update_end_time, boot_wall + step + 10 + 600); /* the wall clock of the moment */

	/* a step backwards does not make it wait longer either */
	upd_init(&u);
	upd_set_clock(&u, T0, WALL0);
	T_OK(upd_offer(&u, UUID1, 1, 0, T0));
	T_OK(upd_handle(&u, UPD_EV_APPROVE, T0));
	upd_tick(&u, T0);
	T_OK(upd_handle(&u, UPD_EV_FLASH_OK, T0));
	upd_set_clock(&u, T0 + FOTA_SEC(1), WALL0 - 86400);
	upd_tick(&u, T0 + FOTA_SEC(600));
	T_EQ(u.update_status, 0x52);
}

/* Restart while verifying, the wall clock not yet set: the whole timeout, never more. */
static void test_update__restart_verification_clock_unset(void)
{
	struct upd u, v;

	mkdir_tmp();
	reach(&u, UPD_ST_VERIFY); /* entered at WALL0, deadline WALL0 + 600 */
	T_OK(upd_save(&u, dir));
	fresh(&v);
	upd_set_clock(&v, FOTA_SEC(3), 946684800u); /* RTC lost: year 2000 */
	T_OK(upd_load(&v, dir, NULL));
	T_OK(upd_handle(&v, UPD_EV_BOOT, FOTA_SEC(3)));
	T_EQ_U64(upd_deadline(&v), FOTA_SEC(3) + FOTA_SEC(600));
	upd_tick(&v, FOTA_SEC(3) + FOTA_SEC(599));
	T_EQ(v.update_status, 0x10);
	upd_tick(&v, FOTA_SEC(3) + FOTA_SEC(600));
	T_EQ(v.update_status, 0x52);
	rm_tmp();
}

static const char good_state[] = "format=1\n"
				 "update_available=0\n"
				 "update_request_id=\n"
				 "update_attempts_counter=0\n"
				 "update_available_time=0\n"
				 "ecu_can_id=0\n"
				 "update_status=0x00\n"
				 "update_start_time=0\n"
				 "update_end_time=0\n"
				 "ecu_health_check_timeout=10\n"
				 "verify_start_time=0\n"
				 "health_deadline=0\n";

/* Replace line `line` (1-based) of good_state with repl (NULL: drop it). */
static void corrupt(char *out, size_t size, unsigned line, const char *repl)
{
	const char *p = good_state;
	unsigned n = 1;

	out[0] = '\0';
	while (*p) {
		const char *nl = strchr(p, '\n');

		if (n == line) {
			if (repl)
				strncat(out, repl, size - strlen(out) - 1);
		} else {
			strncat(out, p, (size_t)(nl - p + 1));
		}
		p = nl + 1;
		n++;
	}
}

static void test_update__corrupt_state_file(void)
{
	static const struct {
		unsigned line;
		const char *repl;
		unsigned err_line;
		const char *msg;
	} cases[] = {
		{ 2, "update_availble=0\n", 2, "unknown key 'update_availble'" },
		{ 2, "update_available=2\n", 2, "invalid value '2' for update_available (0..1)" },
		{ 4, "update_attempts_counter=-1\n", 4,
		  "invalid value '-1' for update_attempts_counter (0..4294967295)" },
		{ 4, "update_attempts_counter= 1\n", 4,
		  "invalid value ' 1' for update_attempts_counter (0..4294967295)" },
		{ 4, "update_attempts_counter=4294967296\n", 4,
		  "invalid value '4294967296' for update_attempts_counter (0..4294967295)" },
		{ 10, "ecu_health_check_timeout=65536\n", 10,
		  "invalid value '65536' for ecu_health_check_timeout (0..65535)" },
		{ 7, "update_status=0x02\n", 7, "update_status 0x02 is not a defined value" },
		{ 3, "update_request_id=not a uuid\n", 3,
		  "update_request_id has a non-printable character" },
		{ 3, "update_request_id=" UUID1 "0\n", 3,
		  "update_request_id longer than 36 characters" },
		{ 5, "garbage\n", 5, "expected key=value" },
		{ 6, "format=1\n", 6, "duplicate key 'format' (first on line 1)" },
		{ 12, NULL, 0, "missing key 'health_deadline'" },
		{ 12, "health_deadline=0", 12, "last line has no newline (file truncated?)" },
		{ 12, "health_deadline=5\n", 12,
		  "health_deadline set while not waiting for verification" },
		{ 2, "update_available=1\n", 3, "update offered without update_request_id" },
	};
	struct upd u, before;
	struct upd_error err;
	char text[1024];

	mkdir_tmp();
	write_state(good_state);
	fresh(&u);
	T_OK(upd_load(&u, dir, &err));
	for (size_t i = 0; i < FOTA_ARRAY_SIZE(cases); i++) {
		corrupt(text, sizeof(text), cases[i].line, cases[i].repl);
		write_state(text);
		reach(&u, UPD_ST_VERIFY);
		before = u;
		T_ERR(upd_load(&u, dir, &err), -EBADMSG);
		T_EQ(err.line, cases[i].err_line);
		T_EQ_STR(err.msg, cases[i].msg);
		T_TRUE(memcmp(&u, &before, sizeof(u)) == 0); /* no partial state */
	}
	/* status 0x10 with update_available=1 cannot happen */
	write_state(
		"format=1\nupdate_available=1\nupdate_request_id=x\nupdate_attempts_counter=1\n"
		"update_available_time=0\necu_can_id=0\nupdate_status=0x10\nupdate_start_time=0\n"
		"update_end_time=0\necu_health_check_timeout=10\nverify_start_time=0\n"
		"health_deadline=0\n");
	T_ERR(upd_load(&u, dir, &err), -EBADMSG);
	T_EQ(err.line, 2);
	T_EQ_STR(err.msg, "update_available=1 is impossible with update_status 0x10");
	{
		char p[128];
		FILE *fp;

		snprintf(p, sizeof(p), "%s/state", dir);
		fp = fopen(p, "w");
		if (fp) {
			fwrite("format=1\n\0x\n", 1, 13, fp);
			fclose(fp);
		}
	}
	T_ERR(upd_load(&u, dir, &err), -EBADMSG);
	T_EQ_STR(err.msg, "file contains a NUL byte");
	rm_tmp();
	/* no state file: first start */
	T_ERR(upd_load(&u, "/nonexistent-fota-dir", &err), -ENOENT);
}

static void test_update__save_errors(void)
{
	struct upd u;

	fresh(&u);
	T_ERR(upd_save(&u, "/nonexistent-fota-dir"), -ENOENT);
}

static const struct t_case cases[] = {
	T_CASE(update__every_state_every_event),
	T_CASE(update__status_values),
	T_CASE(update__offer_sets_objects),
	T_CASE(update__approve_bootloader_delay_flash),
	T_CASE(update__health_timeout_ten_minutes),
	T_CASE(update__health_timeout_zero_and_changed),
	T_CASE(update__wall_clock_step_while_verifying),
	T_CASE(update__restart_verification_clock_unset),
	T_CASE(update__persistence_round_trip),
	T_CASE(update__attempts_never_double_count),
	T_CASE(update__restart_mid_flash),
	T_CASE(update__restart_mid_verification),
	T_CASE(update__corrupt_state_file),
	T_CASE(update__save_errors),
};

int main(void)
{
	return t_main(cases, FOTA_ARRAY_SIZE(cases));
}
