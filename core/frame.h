// SPDX-License-Identifier: MIT
/*
 * One CAN frame, our own type (engines and tests stay free of <linux/can.h>;
 * conversion happens once, in core/bus_socketcan.c). The text forms are
 * can-utils': cansend's "123#DEADBEEF" / "18DA00F1#..." / "123##1AABB" (FD)
 * and candump -l's "(1700000000.123456) can0 7E0#0210020000000000".
 */
#ifndef FOTA_CORE_FRAME_H
#define FOTA_CORE_FRAME_H

#include <stddef.h>
#include <stdint.h>

#define BUS_FRAME_EFF 0x01 /* 29-bit identifier */
#define BUS_FRAME_FD  0x02 /* CAN FD frame (len up to 64) */
#define BUS_FRAME_BRS 0x04 /* FD bit-rate switch */
#define BUS_FRAME_RTR 0x08 /* classic remote frame */
#define BUS_FRAME_ESI 0x10 /* FD error state indicator */

#define BUS_SFF_MASK 0x000007ffu
#define BUS_EFF_MASK 0x1fffffffu

struct bus_frame {
	uint32_t id;   /* 11- or 29-bit identifier, no flag bits */
	uint8_t flags; /* BUS_FRAME_* */
	uint8_t len;   /* 0..8 classic, 0..64 FD (one of the FD DLC lengths) */
	uint8_t data[64];
};

/* Longest text form of a frame, NUL included (29-bit id, FD flags, 64 bytes). */
#define BUS_FRAME_TEXT_MAX 160

/*
 * Parse cansend syntax into *f. Returns 0, or -EINVAL for anything that is not
 * a valid frame (bad hex, id out of range, length over 8/64, FD length that is
 * no DLC value).
 */
int bus_frame_parse(struct bus_frame *f, const char *text);

/* Format as cansend syntax (uppercase hex). Returns the length, as snprintf. */
int bus_frame_format(char *buf, size_t size, const struct bus_frame *f);

/* Round an FD payload length up to the next valid DLC length (0..8,12,16,20,24,32,48,64). */
uint8_t bus_frame_fd_len(size_t len);

/* Is this a valid payload length for the frame's kind (classic or FD)? */
int bus_frame_len_ok(const struct bus_frame *f);

/* FD DLC code (0..15) for a payload length, rounding up; and back. */
uint8_t bus_frame_len_to_dlc(uint8_t len);
uint8_t bus_frame_dlc_to_len(uint8_t dlc);

/*
 * A whole frame is well formed: known flags only, id within 11/29 bits, RTR
 * only in classic frames, BRS/ESI only in FD frames, length valid. 1 or 0.
 * Backends check every frame from outside (unix: datagrams) with it.
 */
int bus_frame_valid(const struct bus_frame *f);

/*
 * One candump -l log line, newline included:
 * "(1700000000.123456) can0 7E0#0210020000000000\n". Returns as snprintf.
 */
int bus_frame_format_log(char *buf, size_t size, int64_t sec, long usec, const char *ifname,
			 const struct bus_frame *f);

/*
 * Parse a candump -l log line (as above; trailing newline allowed). Any of
 * sec, usec, ifname may be NULL. Returns 0 or -EINVAL.
 */
int bus_frame_parse_log(const char *line, struct bus_frame *f, int64_t *sec, long *usec,
			char *ifname, size_t ifsize);

#endif
