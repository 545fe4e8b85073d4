// SPDX-License-Identifier: MIT
/*
 * The inbox of `fota serve`: update requests dropped as STATE_DIR/inbox/NAME.yaml
 * are listed, examined (parsed, checked against the configuration, the
 * firmware read once: hashed, parsed and copied to STATE_DIR/firmware/<id>),
 * reported ("received" or "rejected" in STATE_DIR/outbox/) and queued in
 * creation order; the oldest is prepared (its private copy verified and
 * parsed again) and offered when the TCU is free. Cancel files (NAME.cancel)
 * and removed files withdraw a request. A core/loop.h member.
 *
 * Every file operation runs in the worker thread (core/worker.h), one job
 * at a time; the loop only merges listings and hands results on, in bounded
 * work per pass, so no burst of files delays an SDO answer. A request that
 * does not parse yet but was written within the last SERVE_SETTLE_MS (it
 * may still be being written; a modification time in the future counts as
 * now) is looked at again with a growing delay, then rejected.
 */
#ifndef FOTA_CMD_SERVE_INBOX_H
#define FOTA_CMD_SERVE_INBOX_H

#include <stdbool.h>
#include <stddef.h>
#include "cmd/serve_tcu.h"
#include "core/loop.h"
#include "core/worker.h"

#define SERVE_RESCAN_US	  FOTA_SEC(5) /* inotify fallback: full rescan period */
#define SERVE_SCAN_GAP_US FOTA_MS(10) /* listings at most this often */
#define SERVE_SETTLE_MS	  2000u	      /* a fresh unparseable request may be mid-write */

struct inbox_entry;

struct inbox {
	const struct fota_config *cfg;
	const struct serve_paths *p;
	struct worker *w;
	struct worker *dw; /* downloads (firmware_url:); NULL: ib->w does them */
	struct tcu *t;
	uint64_t max_bytes;

	struct inbox_entry *e; /* sorted by name */
	size_t n, cap;
	bool rescan, scan_busy, examine_busy, prepare_busy, resume_sent;
	bool scanned, swept; /* listed once; orphan firmware copies removed once */
	fota_us next_scan, last_scan, resume_at;
};

void inbox_init(struct inbox *ib, const struct fota_config *cfg, const struct serve_paths *p,
		struct worker *w, struct tcu *t);
/* Something changed in the inbox (inotify): list it again soon. */
void inbox_poke(struct inbox *ib);
void inbox_release(struct inbox *ib);
/* Queued requests (examined, waiting to be offered), for tests and logs. */
size_t inbox_queued(const struct inbox *ib);

extern const struct loop_member_ops inbox_member_ops;

#endif
