// SPDX-License-Identifier: MIT
/*
 * The driver loop (DESIGN.md D2): the one place that blocks. It feeds
 * the bus's frames and the time into sans-I/O engines ("members"), sends what
 * they output, and sleeps in ppoll() until the next frame, fd event, signal
 * or the earliest member deadline. Tests run the same members in virtual
 * time with tests/sim/sim.h instead.
 *
 * One pass: now = fota_now(); every received frame to every member's input
 * (each engine filters by CAN id); extra fd callbacks; every member's tick;
 * every member's output drained into bus_send(), at most LOOP_PASS_FRAMES
 * frames a pass (then another pass at once, so a long burst never keeps an
 * SDO request waiting); stop if a member is done.
 */
#ifndef FOTA_CORE_LOOP_H
#define FOTA_CORE_LOOP_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include "core/bus.h"
#include "core/time.h"

/*
 * A member: an engine seen through a vtable. Every callback is optional
 * (NULL): no input, no timers, no output, never done. ctx is the engine.
 */
struct loop_member_ops {
	void (*input)(void *ctx, const struct bus_frame *f, fota_us now);
	void (*tick)(void *ctx, fota_us now);
	/* 1 and *f filled: send it now (the engine counts it as sent); 0: nothing. */
	int (*output)(void *ctx, struct bus_frame *f, fota_us now);
	/* when tick()/output() next have work; FOTA_NEVER if none */
	fota_us (*deadline)(void *ctx);
	/* true: the loop returns 0 after this pass */
	bool (*done)(void *ctx);
};

struct loop_member {
	const struct loop_member_ops *ops;
	void *ctx;
};

/*
 * An extra fd (signalfd, inotify, a pipe...). cb returns 0 to go on, 1 to
 * make loop_run() return 0, or -errno to make it return that error.
 */
typedef int (*loop_fd_cb)(void *ctx, int fd, short revents, fota_us now);

/*
 * Bus controller state changed (bus->state). Return 0 to go on or -errno to
 * stop. Without a callback, bus-off stops the loop with -ENETDOWN and the
 * other states are recorded in loop->bus_state only.
 */
typedef int (*loop_bus_state_cb)(void *ctx, struct bus *bus, enum bus_state st);

#define LOOP_MAX_MEMBERS 8
#define LOOP_PASS_FRAMES 32 /* frames sent per pass before the bus is read again */
#define LOOP_MAX_FDS	 8

struct loop {
	struct bus *bus;
	struct loop_member members[LOOP_MAX_MEMBERS];
	size_t nmembers;
	struct {
		int fd;
		short events;
		loop_fd_cb cb;
		void *ctx;
	} fds[LOOP_MAX_FDS];
	size_t nfds;
	loop_bus_state_cb bus_state_cb;
	void *bus_state_ctx;

	/* signals that end loop_run() (-EINTR, signo set); see loop_catch_signals() */
	int sigfd;
	sigset_t sigs, oldsigs;
	int signo; /* the signal that ended the last loop_run(), or 0 */

	/* a frame the bus refused for now (-EAGAIN/-ENOBUFS): sent before any other */
	struct bus_frame pending;
	bool has_pending;
	bool flush_blocked; /* frames the backend kept could not all go out yet */
	fota_us retry_at;   /* -ENOBUFS: retry then (POLLOUT does not signal it) */

	bool stop;		     /* set by loop_stop() */
	bool more;		     /* the send budget of the pass ran out: another pass at once */
	enum bus_state bus_state;    /* last seen */
	uint32_t bus_state_seq;	     /* last seen bus->state_seq */
	fota_us now;		     /* time of the current pass */
	uint64_t passes, send_waits; /* statistics */
	int send_err;		     /* last send error that ended the loop (detail) */
};

/* Set up a loop on bus (not owned). No allocation. */
void loop_init(struct loop *l, struct bus *bus);
/* Release what loop_init/loop_catch_signals set up (signal mask restored). */
void loop_release(struct loop *l);

/* Add a member; members get input/tick/output in the order added. 0 or -ENOSPC. */
int loop_add(struct loop *l, const struct loop_member_ops *ops, void *ctx);
/* Watch fd for events (POLLIN...). 0 or -ENOSPC. */
int loop_add_fd(struct loop *l, int fd, short events, loop_fd_cb cb, void *ctx);
/*
 * Change the fd and events of the entry added with cb and ctx: a network
 * socket that is replaced on reconnect, or wants POLLOUT only while it has
 * bytes queued. fd -1 is not polled (poll(2) ignores negative fds). 0 or
 * -ENOENT.
 */
int loop_fd_update(struct loop *l, loop_fd_cb cb, void *ctx, int fd, short events);
void loop_set_bus_state_cb(struct loop *l, loop_bus_state_cb cb, void *ctx);

/*
 * Block these signals and deliver them through a signalfd: when one arrives,
 * loop_run() returns -EINTR with l->signo set. 0 or -errno.
 */
int loop_catch_signals(struct loop *l, const int *signals, size_t n);

/* From a callback: make loop_run() return 0 after this pass. */
void loop_stop(struct loop *l);

/*
 * Run until a member is done (0), loop_stop() (0), a signal (-EINTR), the
 * timeout (-ETIMEDOUT; FOTA_NEVER = none), a callback's error, or a bus
 * error (the -errno of bus_recv/bus_send; -ENETDOWN on bus-off, see above).
 * Can be called again after it returns.
 */
int loop_run(struct loop *l, fota_us timeout);

/* The earliest member deadline (FOTA_NEVER if none). */
fota_us loop_next_deadline(const struct loop *l);

#endif
