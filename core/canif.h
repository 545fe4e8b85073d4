// SPDX-License-Identifier: MIT
/*
 * A CAN network interface's controller, through libsocketcan (netlink): link
 * state, bit rate, bus error counters, automatic restart after bus-off.
 * Returns 0 or -errno with a one-line reason in err (never prints; the
 * messages libsocketcan itself writes to stderr are kept off the terminal).
 */
#ifndef FOTA_CORE_CANIF_H
#define FOTA_CORE_CANIF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Controller states; the kernel's enum can_state numbering (linux/can/netlink.h). */
enum canif_state {
	CANIF_STATE_ERROR_ACTIVE = 0,
	CANIF_STATE_ERROR_WARNING = 1,
	CANIF_STATE_ERROR_PASSIVE = 2,
	CANIF_STATE_BUS_OFF = 3,
	CANIF_STATE_STOPPED = 4,
	CANIF_STATE_SLEEPING = 5,
	CANIF_STATE_UNKNOWN = 6, /* virtual interface, or the query failed */
};

struct canif_info {
	char kind[16];		/* netlink link kind: "can" (a controller), "vcan", "vxcan" */
	bool virtual_can;	/* no controller: no state, bit timing or counters */
	enum canif_state state; /* CANIF_STATE_UNKNOWN for virtual interfaces */
	uint32_t bitrate;	/* 0 if unknown */
	uint32_t sample_point;	/* tenths of a percent (875 = 87.5%), 0 if unknown */
	uint32_t restart_ms;	/* automatic restart after bus-off; 0 = off */
	uint16_t txerr, rxerr;	/* error counters; 0 if the driver does not report them */
	bool has_berr;		/* txerr/rxerr are valid */
};

/* "error-active", "error-warning", "error-passive", "bus-off", "stopped", "sleeping", "unknown" */
const char *canif_state_name(enum canif_state st);

/*
 * Link kind from netlink (IFLA_INFO_KIND): "can" for real controllers,
 * "vcan"/"vxcan" for virtual ones. 0, -ENODEV (no such interface),
 * -EAFNOSUPPORT/-errno (netlink failed).
 */
int canif_kind(const char *ifname, char *kind, size_t size);

/*
 * Query what the interface reports. On virtual interfaces succeeds with
 * virtual_can set and state UNKNOWN (a graceful answer, not an error).
 * -ENODEV: no such interface.
 */
int canif_get_info(const char *ifname, struct canif_info *info, char *err, size_t errsize);

/*
 * Set the nominal bit rate (and, for CAN FD, the data bit rate; 0 = leave):
 * link down, set, link up, as `ip link set IF type can bitrate N` needs.
 * -EOPNOTSUPP with "vcan0: interface has no bit timing (virtual CAN?)" on
 * vcan; -EPERM without CAP_NET_ADMIN; -EINVAL for a rate the controller
 * cannot do (the link is brought back up unchanged).
 */
int canif_set_bitrate(const char *ifname, uint32_t bitrate, uint32_t data_bitrate, char *err,
		      size_t errsize);

/* Automatic restart delay after bus-off (0 = manual restart). */
int canif_set_restart_ms(const char *ifname, uint32_t restart_ms, char *err, size_t errsize);

/*
 * The rate limit of the interface's root queueing discipline in bytes per
 * second (a token bucket, `tc qdisc add dev IF root tbf rate R ...`, as
 * tests/vm/shape.sh puts on vcan to give it a bitrate), into *bytes_per_s;
 * 0 there when the root qdisc is not rate-limited. 0 or -errno.
 */
int canif_tx_rate(const char *ifname, uint64_t *bytes_per_s);

/*
 * Bit times one classic CAN data frame of dlen bytes takes on the wire in
 * the worst case: every field from SOF to the end of frame, the 3-bit
 * intermission, and the most stuff bits the data can cause (one per 4 bits
 * after the first 5, SOF to CRC; ISO 11898-1 bit stuffing). 11-bit id:
 * 47 + 8 dlen + floor((33 + 8 dlen) / 4), 135 for 8 bytes; 29-bit id: 20
 * more before stuffing.
 */
unsigned canif_frame_bits_worst(unsigned dlen, bool eff);

/* Restart a controller that is bus-off (only when restart_ms is 0). */
int canif_restart(const char *ifname, char *err, size_t errsize);

#endif
