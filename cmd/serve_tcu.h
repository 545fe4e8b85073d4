// SPDX-License-Identifier: MIT
/*
 * The TCU of `fota serve`: the update state machine (core/update.h) and the
 * effects of its actions: the state file (persist), the current request's
 * outbox report, the ECU's bootloader switch frame, the UDS programming job
 * (uds/job.h) with its seed/key computed in a worker thread, and the private
 * firmware copy removed at the final status. A core/loop.h member (the job's
 * frames and timers); the wiring is cmd/serve.c, the inbox cmd/serve_inbox.h.
 *
 * Clocks: engine time is monotonic; the wall clock (timestamps 0x04, 0x52,
 * 0x53 and the reports) is read when the event happens, through wall_fn, so
 * an NTP step after start reaches every timestamp. FOTA_TIME_SCALE (tests)
 * makes the health timer and the wall clock seen by the machine run fast.
 */
#ifndef FOTA_CMD_SERVE_TCU_H
#define FOTA_CMD_SERVE_TCU_H

#include <stdbool.h>
#include <stdint.h>
#include "cmd/serve.h"
#include "core/bus.h"
#include "core/loop.h"
#include "core/update.h"
#include "core/worker.h"
#include "uds/prog.h"

struct uds_job;

struct tcu {
	const struct fota_config *cfg;
	const struct serve_paths *p;
	struct worker *keyw;  /* seed/key computations */
	struct worker *filew; /* large files to drop (NULL: done in place) */
	struct upd u;

	uint32_t (*wall_fn)(void); /* fota_wall_time; tests inject a clock */
	fota_us mono0;
	uint32_t scale;

	bool have_pkg, resuming, start_pending;
	struct cmd_serve_pkg pkg;
	char req_name[CMD_SERVE_NAME_MAX]; /* its file in the inbox, "" once approved */
	bool have_rep;
	struct cmd_serve_report rep;
	struct uds_job *job;
	/* The job's identification DIDs (the ECU's and the request's expect:) and expectations. */
	uint16_t ident[CFG_IDENTIFY_MAX + CFG_EXPECT_MAX];
	size_t nident;
	struct uds_prog_expect expect[CFG_EXPECT_MAX];
	unsigned job_gen; /* a key that comes back for an older job is dropped */
	enum upd_state seen;
	unsigned pct_logged;
	char fail_reason[896], cancel_reason[896];
	int save_err;
	bool switch_pending;

	/* called when update_status or update_available changes (sd_notify STATUS); may be NULL */
	void (*on_status)(void *ctx, const struct upd *u);
	void *status_ctx;
	uint8_t told_status, told_available; /* what on_status last said */
};

/* FOTA_TIME_SCALE from the environment (tests only; warns): 1..100000, default 1. */
uint32_t tcu_time_scale(void);

void tcu_init(struct tcu *t, const struct fota_config *cfg, const struct serve_paths *p,
	      struct worker *keyw, fota_us now);
/* Set the machine's clock reference: wall clock read now. Call before feeding events. */
void tcu_clock(struct tcu *t, fota_us now);
/* The wall clock the machine sees now (UNIX s). */
uint32_t tcu_wall(const struct tcu *t, fota_us now);
/*
 * Load the state file and apply the restart rules. 0, or -errno with the
 * error reported (-EBADMSG: a corrupt state file). t->resuming is set when
 * an update is still offered: the inbox must hand its package back
 * (tcu_resume) or withdraw it (tcu_cancel_offer).
 */
int tcu_start(struct tcu *t, fota_us now);
/* Offer a verified package (taken over: pkg is cleared). 0 or -errno. */
int tcu_offer(struct tcu *t, struct cmd_serve_pkg *pkg, const char *req_name, fota_us now);
/* After a restart: the offered update's package again. */
void tcu_resume(struct tcu *t, struct cmd_serve_pkg *pkg, const char *req_name, fota_us now);
/* Withdraw the offered update (remote cancel). Ignored, with a warning, once approved. */
void tcu_cancel_offer(struct tcu *t, const char *reason, fota_us now);
/* Run the actions the machine asked for (after SDO writes, job events, timers). */
void tcu_process(struct tcu *t, fota_us now);
/* May the next request be offered? */
bool tcu_offerable(const struct tcu *t);
const char *tcu_current_id(const struct tcu *t);
/* Stopping (signal): an update being flashed ends as failed, with the reason. */
void tcu_stop(struct tcu *t, int signo, fota_us now);
void tcu_release(struct tcu *t);

extern const struct loop_member_ops tcu_member_ops;

#endif
