// SPDX-License-Identifier: MIT
/*
 * The only CAN I/O boundary. A bus is a small vtable; backends embed struct bus
 * as their first member. Chosen by a spec string:
 *   "can0", "vcan0", any other name   SocketCAN CAN_RAW (core/bus_socketcan.c)
 *   "unix:DIR"                        virtual bus of several processes over Unix
 *                                     datagram sockets in DIR (core/bus_unix.c)
 * and, in the unit tests only, "mem:NAME": an in-process hub with fault
 * injection and virtual time (tests/sim/bus_mem.h, added with bus_add_backend()).
 * Like SocketCAN with default options, a member never receives its own frames
 * and receives every frame of every other member (subject to its filter).
 */
#ifndef FOTA_CORE_BUS_H
#define FOTA_CORE_BUS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include "core/frame.h"
#include "core/time.h"

struct bus;

#define BUS_FILTER_EFF 0x80000000u
/*
 * Ids in one receive filter: SocketCAN's CAN_RAW_FILTER_MAX. A scan of every
 * CANopen node-ID listens on 254 ids (0x580+n, 0x700+n), plus the UDS ones.
 */
#define BUS_FILTER_MAX 512

/* The filter key of a frame: id, with BUS_FILTER_EFF for 29-bit frames. */
static inline uint32_t bus_filter_key(const struct bus_frame *f)
{
	return f->id | ((f->flags & BUS_FRAME_EFF) ? BUS_FILTER_EFF : 0);
}

/* Normalize a filter id as given by a user (29-bit if flagged or above 0x7FF). */
static inline uint32_t bus_filter_norm(uint32_t id)
{
	if ((id & BUS_FILTER_EFF) || id > BUS_SFF_MASK)
		return (id & BUS_EFF_MASK) | BUS_FILTER_EFF;
	return id;
}

struct bus_ops {
	/* 0, -EAGAIN (tx queue full: try again after poll), or -errno. */
	int (*send)(struct bus *bus, const struct bus_frame *f);
	/* 1 frame read, 0 none pending, or -errno. Never blocks. */
	int (*recv)(struct bus *bus, struct bus_frame *f);
	/* A pollable fd (POLLIN when a frame may be pending), or -1 (mem). */
	int (*fd)(struct bus *bus);
	/*
	 * Accept only these ids (exact match, EFF flag respected); n == 0: all.
	 * A 29-bit id is given as id | BUS_FILTER_EFF (ids above 0x7FF are
	 * 29-bit anyway). At most BUS_FILTER_MAX ids; -EINVAL beyond.
	 */
	int (*set_filter)(struct bus *bus, const uint32_t *ids, size_t n);
	void (*close)(struct bus *bus);
	/*
	 * Optional: the time stamp for trace lines, in microseconds since the
	 * epoch. NULL: the wall clock. The mem backend returns its virtual
	 * time so that traces of simulated runs are reproducible.
	 */
	uint64_t (*trace_time)(struct bus *bus);
	/*
	 * Optional: after send() said -EAGAIN, the fd whose POLLOUT says it
	 * may be tried again. NULL: fd().
	 */
	int (*tx_fd)(struct bus *bus);
	/*
	 * Optional: with bus->send_batch set, send() may keep frames and hand
	 * them to the kernel together here (socketcan: one sendmmsg). 0 all
	 * sent, -EAGAIN/-ENOBUFS some are still kept (try again as after
	 * send()), -errno.
	 */
	int (*flush)(struct bus *bus);
};

/*
 * Controller state, as reported by error frames (SocketCAN CAN_ERR_CRTL /
 * CAN_ERR_BUSOFF / CAN_ERR_RESTARTED; ISO 11898-1 fault confinement). The
 * values are the kernel's enum can_state numbering.
 */
enum bus_state {
	BUS_STATE_ERROR_ACTIVE = 0,  /* normal */
	BUS_STATE_ERROR_WARNING = 1, /* an error counter reached 96 */
	BUS_STATE_ERROR_PASSIVE = 2, /* an error counter reached 128 */
	BUS_STATE_BUS_OFF = 3,	     /* tx error counter reached 256: controller off the bus */
};

/* "error-active", "error-warning", "error-passive", "bus-off". */
const char *bus_state_name(enum bus_state st);

/*
 * How a process joins a unix: bus. A long-running member (fota serve, fota
 * ecu) makes the directory; a client talks to members that are there: a
 * directory that does not exist, or holds no live member, is "no other
 * member" at once (-ENOTCONN) instead of a timeout later, and nothing is
 * left behind. BUS_JOIN_EXISTING is for a client that waits for a member
 * to come (fota flash --wait-ecu): the directory must exist, may be empty.
 */
enum bus_join {
	BUS_JOIN_MAKE = 0,
	BUS_JOIN_EXISTING,
	BUS_JOIN_PEER,
};

/* Options for bus_open(). Zeroed means: classic CAN, no bitrate change, a member. */
struct bus_opts {
	bool fd;	       /* allow CAN FD frames (SocketCAN: CAN_RAW_FD_FRAMES) */
	uint32_t bitrate;      /* socketcan: set nominal bitrate via libsocketcan; 0 = leave */
	uint32_t data_bitrate; /* socketcan FD: data bitrate; 0 = leave */
	enum bus_join join;    /* unix: only */
};

struct bus {
	const struct bus_ops *ops;
	char name[64];	     /* "can0", "mem:ecu", "unix:/tmp/b": used in messages */
	FILE *trace;	     /* if set, every frame sent/received as a candump -l line */
	int trace_err;	     /* the first write error of the trace (-errno), 0 if none */
	uint64_t trace_lost; /* trace lines not written */
	char trace_if[16];   /* interface name written in trace lines */
	/* stats, for benches and --verbose */
	uint64_t tx_frames, rx_frames;
	/*
	 * Set by the backend as error frames arrive (socketcan only; others
	 * stay ERROR_ACTIVE unless a test sets them). state_seq counts changes
	 * so a driver can notice one without comparing every time.
	 */
	enum bus_state state;
	uint32_t state_seq;
	uint64_t err_frames; /* error frames received (never handed out as frames) */
	uint64_t rx_dropped; /* malformed frames from outside, dropped (unix:) */
	uint64_t tx_dropped; /* unix: frames not delivered to a member whose queue stayed full */
	bool fd;	     /* CAN FD frames allowed (opts.fd was set and the backend can) */
	/*
	 * Set by core/loop.c: a receiver whose queue is full makes send()
	 * return -EAGAIN (the loop polls bus_tx_fd() for room, reading the bus
	 * meanwhile, and sends the frame again) instead of waiting inside send().
	 */
	bool send_nowait;
	/*
	 * Set by core/loop.c, which calls bus_flush() after each pass: send()
	 * may keep frames until then (order kept), to batch the system calls.
	 */
	bool send_batch;
	/*
	 * Set by the backend when it knows how fast its transmit queue drains:
	 * how long to wait after -ENOBUFS before the queue has room again
	 * (half the queue's frames at the drain rate). 0: unknown.
	 */
	uint32_t tx_retry_us;
};

/*
 * Open a bus from its spec. On failure returns -errno and, if err/errsize are
 * given, a one-line reason without prefix ("unix:/x: No such file or directory").
 *   -ENODEV     no such CAN interface
 *   -EAFNOSUPPORT  kernel without AF_CAN
 *   -ENETDOWN   interface is down
 *   -EINVAL     malformed spec (bus_spec_check())
 */
int bus_open(struct bus **bus, const char *spec, const struct bus_opts *opts, char *err,
	     size_t errsize);
void bus_close(struct bus *bus);

/*
 * Is spec a bus at all, before any attempt to open it: an interface name
 * (below IFNAMSIZ, no ':' or '/'), unix:DIR or mem:NAME? 0, or -EINVAL with
 * the reason in err ("unix:: directory missing (unix:DIR)").
 */
int bus_spec_check(const char *spec, char *err, size_t errsize);

/*
 * These call the backend and write the trace line (if tracing).
 * bus_send(): 0; -EINVAL for a malformed frame or an FD frame on a bus opened
 * without opts.fd; -EAGAIN (socket queue full: poll POLLOUT, retry);
 * -ENOBUFS (interface tx queue full: retry after a short pause; POLLOUT does
 * not signal it); -ENETDOWN / other -errno.
 * bus_recv(): 1 with *f filled, 0 nothing pending, -errno.
 */
int bus_send(struct bus *bus, const struct bus_frame *f);
/* Hand the frames send() kept to the kernel (see bus_ops.flush); 0 if none. */
int bus_flush(struct bus *bus);
int bus_recv(struct bus *bus, struct bus_frame *f);
int bus_fd(struct bus *bus);
/* After bus_send() said -EAGAIN: the fd to poll for POLLOUT before trying again. */
int bus_tx_fd(struct bus *bus);
int bus_set_filter(struct bus *bus, const uint32_t *ids, size_t n);

/*
 * Trace every frame in candump log format to fp (not closed by the bus):
 * "(1700000000.123456) can0 7E0#0210020000000000\n". Wall-clock timestamps.
 */
void bus_set_trace(struct bus *bus, FILE *fp);

/* The interface name written in trace lines (truncated to 15 characters). */
void bus_set_trace_if(struct bus *bus, const char *ifname);

/*
 * Write one trace line for f now, as bus_send()/bus_recv() do. For drivers
 * that move frames without the wrappers; a no-op when not tracing.
 */
void bus_trace(struct bus *bus, const struct bus_frame *f);

/* A filter done in software (mem:, unix:), shared by the backends. */
struct bus_soft_filter {
	uint32_t ids[BUS_FILTER_MAX]; /* normalized (bus_filter_norm), sorted, no duplicates */
	size_t n;		      /* 0: accept all */
};
int bus_soft_filter_set(struct bus_soft_filter *sf, const uint32_t *ids, size_t n);
bool bus_soft_filter_match(const struct bus_soft_filter *sf, const struct bus_frame *f);

/* Backend constructors, used by bus_open(); same return convention. */
int bus_socketcan_open(struct bus **bus, const char *ifname, const struct bus_opts *opts, char *err,
		       size_t errsize);
int bus_unix_open(struct bus **bus, const char *dir, const struct bus_opts *opts, char *err,
		  size_t errsize);
/*
 * unix: only: how long a send may wait for one member whose socket queue is
 * full before dropping the frame for it (default 100 ms; see bus_unix.c).
 */
int bus_unix_set_send_wait(struct bus *bus, uint32_t wait_us);
/*
 * unix: only: the path of this member's own socket file, for a signal
 * handler that removes it when the process is killed. 0, or -EINVAL for
 * another backend, -ENAMETOOLONG when size is too small.
 */
int bus_unix_socket_path(struct bus *bus, char *buf, size_t size);

/*
 * A backend that is not part of the program, added at run time: the unit
 * tests' in-memory hub registers "mem:" (tests/sim/bus_mem.h). bus_open()
 * gives it a spec that starts with prefix, less the prefix. One at a time: a
 * second call replaces the first. Without it, "mem:x" is refused like any
 * other spec that names no bus.
 */
struct bus_backend {
	const char *prefix; /* "mem:" */
	int (*open)(struct bus **bus, const char *arg, const struct bus_opts *opts, char *err,
		    size_t errsize);
};
void bus_add_backend(const struct bus_backend *backend);

#endif
