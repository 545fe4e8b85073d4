// SPDX-License-Identifier: MIT
/*
 * One ECU programming job: the composite engine `fota flash` runs on its own
 * and `fota serve` runs after Checkpoint 1. It glues, on CAN frames:
 *
 *   [bootloader switch frame, then delay_ms]   (opt-in)
 *   ISO-TP channel (ISO 15765-2, uds/isotp.h) from the ECU's ids and isotp:
 *   UDS programming sequence + client (ISO 14229-1/-2, uds/prog.h)
 *   seed/key through the ECU's configured algorithm (uds/key.h)
 *
 * built from a struct cfg_ecu (core/config.h) and an Intel HEX image. Sans-I/O:
 * it is a core/loop.h member (uds_job_member_ops), so a real loop or the
 * virtual-time runner of the tests drives it. Never prints.
 *
 * Timing (ISO 14229-2 §7.2): P2 runs from the confirmation that the request's
 * last frame left (T_Data.con), not from the first frame, so STmin pacing of a
 * long TransferData never eats into P2. If ISO-TP cannot send a request (no
 * flow control: N_Bs), the request counts as unanswered: TransferData is
 * retried with the same block counter, other steps fail with -ETIMEDOUT.
 */
#ifndef FOTA_UDS_JOB_H
#define FOTA_UDS_JOB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "core/config.h"
#include "core/loop.h"
#include "core/time.h"
#include "hex/ihex.h"
#include "uds/prog.h"

struct uds_job; /* private */
struct cfg_key;

enum uds_job_event_type {
	UDS_JOB_EV_SWITCH_SENT = 1, /* bootloader switch frame went out; waiting delay_ms */
	UDS_JOB_EV_PROG,	    /* an event of the programming sequence: see ev->prog */
};

struct uds_job_event {
	enum uds_job_event_type type;
	const struct uds_prog_event *prog; /* UDS_JOB_EV_PROG only */
	fota_us now;
};

struct uds_job_cfg {
	const struct cfg_ecu *ecu;    /* copied */
	const struct ihex_image *img; /* NOT copied: keep it until the job is freed */
	bool bootloader_switch;	      /* send ecu->bootloader_switch first (if it has one) */
	uint32_t block_length;	      /* cap on maxNumberOfBlockLength; 0 = ecu->sequence's */
	bool keep_running;	      /* the member never reports done (serve: loop goes on) */
	uint32_t wait_ecu_ms;	      /* repeat the first request until the ECU answers (prog.h) */
	uint32_t isotp_rx_max;	      /* largest response PDU; 0 = 4095 */
	/*
	 * Identification DIDs read before and after programming, and values
	 * expected after it (uds/prog.h). NULL/0: ecu->identify, nothing
	 * expected. Not copied: keep them until the job is freed.
	 */
	const uint16_t *identify;
	size_t nidentify;
	const struct uds_prog_expect *expect;
	size_t nexpect;
	/* Called synchronously from the job's calls; may be NULL. */
	void (*on_event)(void *ctx, const struct uds_job_event *ev);
	void *event_ctx;
	/*
	 * Optional: compute the SecurityAccess key elsewhere (fota serve: in
	 * its worker thread, since a `cmd:` program may run for seconds).
	 * Called with the seed (copy it); return -EINPROGRESS and hand the
	 * key over later with uds_job_key_done(), or a -errno to fail at once.
	 * NULL: computed synchronously with uds_key_compute_detail().
	 */
	int (*key_async)(void *ctx, const struct cfg_key *key, uint8_t level, const uint8_t *seed,
			 size_t n);
	void *key_async_ctx;
};

/* The outcome. */
struct uds_job_result {
	int err;		     /* -EINPROGRESS, 0, or -errno (see uds_job_result()) */
	struct uds_prog_result prog; /* step, SID, NRC, segment of a sequence failure */
	int isotp_err;		     /* transport error of the failing request, or 0 */
	char msg[192];		     /* one line for the user: "RequestDownload refused: ..." */
};

/*
 * Build a job (idle until uds_job_start()). Checks the image against the
 * ECU's regions first. Returns 0 or:
 *   -EINVAL   no ecu or image, an empty image, an ISO-TP or sequence setting
 *             that cannot work (detail in res->msg if res is given)
 *   -ERANGE   image bytes outside every region of the ECU (res->msg names the
 *             first run: "0x08100000-0x081000ff is outside the ECU's memory regions")
 *   -ENOMEM
 */
int uds_job_new(struct uds_job **jp, const struct uds_job_cfg *cfg, struct uds_job_result *res);
void uds_job_free(struct uds_job *j);

/*
 * The key asked for through cfg.key_async: err 0 with key[0..klen), or the
 * -errno and a one-line reason (why, never key or seed bytes) that the
 * result's message carries. Ignored when no key is awaited.
 */
void uds_job_key_done(struct uds_job *j, int err, const uint8_t *key, size_t klen, const char *why,
		      fota_us now);

/*
 * Start (or start again after a finished attempt: a new job on the same
 * channel state). Returns 0, -EALREADY while running, or the errors of
 * uds_prog_start(). With a bootloader switch the first frame is the switch
 * frame, the programming session follows delay_ms later.
 */
int uds_job_start(struct uds_job *j, fota_us now);

/*
 * Stop at the next safe point (uds_prog_cancel()); during the bootloader
 * delay, at once. The result becomes -ECANCELED. No effect when finished.
 */
void uds_job_cancel(struct uds_job *j);

/*
 * -EINPROGRESS while running, -ENOENT before the first start; then 0 or:
 *   -ETIMEDOUT            no answer (P2/P2*, or ISO-TP N_Bs / N_Cr)
 *   -EREMOTEIO / -EBUSY   an NRC (res->prog.nrc, .sid, .step)
 *   -EPROTO -EMSGSIZE     malformed answers, block length too small
 *   -ECANCELED            uds_job_cancel()
 *   key errors            (uds/key.h) at step SendKey
 * res->msg is the line to show (via uds_prog_strerror(), plus transport detail).
 */
int uds_job_result(const struct uds_job *j, struct uds_job_result *res);

/* Bytes acknowledged by the ECU and the image's total (data bytes, gaps excluded). */
void uds_job_progress(const struct uds_job *j, uint64_t *done, uint64_t *total);

/* True while started and not finished. */
bool uds_job_running(const struct uds_job *j);

/*
 * The plan, for --dry-run and reports: the sequence settings the job runs
 * with, the segments (one per image segment) and the erase ranges (erase
 * scope "region": each region the image touches; "segment": the segments).
 * Pointers valid until uds_job_free().
 */
const struct uds_prog_cfg *uds_job_prog_cfg(const struct uds_job *j);
const struct uds_segment *uds_job_segments(const struct uds_job *j, size_t *n);
const struct uds_segment *uds_job_erase_ranges(const struct uds_job *j, size_t *n);

/* The identification read before (after = false) or after programming: see uds_prog_identity(). */
const struct uds_rdbi *uds_job_identity(const struct uds_job *j, bool after);

/* The response id as a bus filter key (bus_filter_norm()), for bus_set_filter(). */
uint32_t uds_job_rx_filter(const struct uds_job *j);

/* The channel's ISO-TP counters (frames in/out) for benches and --verbose. */
struct isotp *uds_job_isotp(struct uds_job *j);

/* Functional TesterPresent frames the job sent (they are not ISO-TP channel frames). */
uint64_t uds_job_tp_frames(const struct uds_job *j);

/* The client's keep-alive mode for the ECU (tester_present, and 0 ms = off). */
enum uds_tp_mode uds_job_tp_mode(const struct cfg_ecu *e);

/* The loop member: ctx is the struct uds_job *. */
extern const struct loop_member_ops uds_job_member_ops;

#endif
