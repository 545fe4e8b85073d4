// SPDX-License-Identifier: MIT
/*
 * The only CAN I/O boundary. A bus is a small vtable; backends embed struct bus
 * as their first member. Chosen by a spec string:
 *   "can0", "vcan0", any other name   SocketCAN CAN_RAW (core/bus_socketcan.c)
 *   "unix:DIR"                        virtual bus of several processes over Unix
 *                                     datagram sockets in DIR (core/bus_unix.c)
 *   "mem:NAME"                        in-process hub for tests, with fault
 *                                     injection and virtual time (core/bus_mem.c)
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

struct bus_ops {
	/* 0, -EAGAIN (tx queue full: try again after poll), or -errno. */
	int (*send)(struct bus *bus, const struct bus_frame *f);
	/* 1 frame read, 0 none pending, or -errno. Never blocks. */
	int (*recv)(struct bus *bus, struct bus_frame *f);
	/* A pollable fd (POLLIN when a frame may be pending), or -1 (mem). */
	int (*fd)(struct bus *bus);
	/* Accept only these ids (exact match, EFF flag respected); n == 0: all. */
	int (*set_filter)(struct bus *bus, const uint32_t *ids, size_t n);
	void (*close)(struct bus *bus);
};

/* Options for bus_open(). Zeroed means: classic CAN, no bitrate change. */
struct bus_opts {
	bool fd;	       /* allow CAN FD frames (SocketCAN: CAN_RAW_FD_FRAMES) */
	uint32_t bitrate;      /* socketcan: set nominal bitrate via libsocketcan; 0 = leave */
	uint32_t data_bitrate; /* socketcan FD: data bitrate; 0 = leave */
};

struct bus {
	const struct bus_ops *ops;
	char name[64];	   /* "can0", "mem:ecu", "unix:/tmp/b": used in messages */
	FILE *trace;	   /* if set, every frame sent/received as a candump -l line */
	char trace_if[16]; /* interface name written in trace lines */
	/* stats, for benches and --verbose */
	uint64_t tx_frames, rx_frames;
};

/*
 * Open a bus from its spec. On failure returns -errno and, if err/errsize are
 * given, a one-line reason without prefix ("unix:/x: No such file or directory").
 *   -ENODEV     no such CAN interface
 *   -EAFNOSUPPORT  kernel without AF_CAN
 *   -ENETDOWN   interface is down
 *   -EINVAL     malformed spec
 */
int bus_open(struct bus **bus, const char *spec, const struct bus_opts *opts, char *err,
	     size_t errsize);
void bus_close(struct bus *bus);

/* These call the backend and write the trace line (if tracing). */
int bus_send(struct bus *bus, const struct bus_frame *f);
int bus_recv(struct bus *bus, struct bus_frame *f);
int bus_fd(struct bus *bus);
int bus_set_filter(struct bus *bus, const uint32_t *ids, size_t n);

/*
 * Trace every frame in candump log format to fp (not closed by the bus):
 * "(1700000000.123456) can0 7E0#0210020000000000\n". Wall-clock timestamps.
 */
void bus_set_trace(struct bus *bus, FILE *fp);

#endif
