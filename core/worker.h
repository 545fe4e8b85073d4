// SPDX-License-Identifier: MIT
/*
 * A worker thread for the slow work of a daemon whose event loop must never
 * block: hashing and parsing a firmware file of hundreds of MB, listing an
 * inbox of thousands of files, a seed/key program that runs for seconds.
 *
 * One thread, one FIFO of jobs. A job's fn runs in the worker thread and
 * must touch only its own argument (and read-only shared data); its done
 * callback runs later in the loop's thread, from fota_worker_collect(), which the
 * loop calls when fota_worker_fd() is readable (core/loop.h loop_add_fd). So the
 * engines stay single-threaded: results come back as loop events.
 *
 * Why a thread and not a child process: a verified firmware image (parsed,
 * possibly hundreds of MB) must reach the loop, and a thread hands it over
 * by pointer; a child would have to serialise it. `cmd:` key programs are
 * child processes already (uds/key.c), run from the thread.
 *
 * Cancellation is cooperative: fn polls *cancel between chunks of work.
 */
#ifndef FOTA_CORE_WORKER_H
#define FOTA_CORE_WORKER_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include "core/time.h"

struct worker; /* private */

/* Runs in the worker thread. Stop early (and say so in arg) once *cancel is set. */
typedef void (*worker_fn)(void *arg, const atomic_bool *cancel);
/* Runs in the loop's thread, exactly once per submitted job that ran or was dropped. */
typedef void (*worker_done_fn)(void *ctx, void *arg, bool ran);

/* Start the thread. 0, -ENOMEM, or -errno from eventfd/pthread_create. */
int fota_worker_start(struct worker **wp);

/* Readable (POLLIN) when finished jobs wait for fota_worker_collect(). */
int fota_worker_fd(const struct worker *w);

/*
 * Queue a job: fn(arg) in the thread, then done(ctx, arg, true) in the loop.
 * urgent puts it at the head of the queue (it still waits for the running
 * job). 0 or -ENOMEM (nothing queued: the caller keeps arg).
 */
int fota_worker_submit(struct worker *w, worker_fn fn, worker_done_fn done, void *ctx, void *arg,
		       bool urgent);

/* Call done() for every finished job, in finishing order. Returns how many. */
size_t fota_worker_collect(struct worker *w);

/* Jobs submitted and not yet collected (queued, running or finished). */
size_t fota_worker_pending(const struct worker *w);

/*
 * Stop: drop the queued jobs (done(ctx, arg, false)), set the running job's
 * cancel flag and wait up to timeout for it; collect what finished. Then the
 * thread is joined and everything freed: 0. If the running job did not stop
 * in time (a vendor library that never returns), the thread is detached and
 * left to the process exit, its job's done() is never called: -ETIMEDOUT.
 */
int fota_worker_stop(struct worker *w, fota_us timeout);

#endif
