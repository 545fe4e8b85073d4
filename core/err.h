// SPDX-License-Identifier: MIT
/*
 * Error conventions. Library code (core/ hex/ uds/ sdo/) returns 0 or a
 * negative errno; detail travels in result structs, never in globals. The
 * protocol meanings of the errno values we use are fixed here, and
 * fota_exit_status() maps what failed and its errno to the one exit-status
 * table documented in fota(1), EXIT STATUS. Keep the two in step.
 *
 *   -EINPROGRESS  engine still working (not an error)
 *   -EALREADY     X_start() while an operation runs (caller bug)
 *   -ETIMEDOUT    peer did not answer in time (N_Bs/N_Cr, P2/P2*, SDO timeout)
 *   -EPROTO       peer sent malformed or unexpected traffic
 *   -EBUSY        peer (or our FSM) refused because of its present state
 *                 (SDO 0x08000021/0x08000022, NRC 0x21/0x22/0x24)
 *   -EREMOTEIO    peer refused for another reason (detail: NRC / abort code)
 *   -EBADMSG      our input is malformed (HEX, YAML, request file)
 *   -EMSGSIZE     payload too large for the transport or the ECU block length
 *   -ECANCELED    we aborted (signal, reject during transfer)
 *   others        straight from system calls (-ENODEV, -ENETDOWN, -ENOENT...)
 */
#ifndef FOTA_CORE_ERR_H
#define FOTA_CORE_ERR_H

#include <errno.h>

enum fota_exit {
	FOTA_EXIT_OK = 0,	   /* success, --help, --version */
	FOTA_EXIT_FAIL = 1,	   /* operation ran and failed: NRC, abort, verify, protocol */
	FOTA_EXIT_USAGE = 2,	   /* bad command line */
	FOTA_EXIT_DATA = 3,	   /* bad input data: HEX, YAML, request; file missing */
	FOTA_EXIT_UNAVAILABLE = 4, /* peer or resource unreachable: no interface, timeout */
	FOTA_EXIT_STATE = 5,	   /* peer or FSM refused because of its present state */
	FOTA_EXIT_NOCMD = 127,	   /* fota-<unknown> symlink name */
};

/*
 * What failed. One errno means different things by where it came from:
 * -ENOENT from a configuration file is bad input data (3), from a unix: bus
 * directory an unreachable bus (4), from a --trace file a failed run (1). So
 * the exit status is a function of both, and this is the only place that
 * decides it.
 */
enum fota_fail {
	FOTA_FAIL_RUN,	  /* the work itself: bus traffic, a peer, an engine (errno decides) */
	FOTA_FAIL_USAGE,  /* the command line, $FOTA_BUS, $FOTA_CONFIG: 2 */
	FOTA_FAIL_INPUT,  /* a file read or its contents: configuration, HEX, request, state: 3 */
	FOTA_FAIL_OUTPUT, /* a file written: --trace, --bin, --memory, a report, stdout: 1 */
	FOTA_FAIL_BUS,	  /* opening the bus: 4; a spec that is no bus at all (-EINVAL): 2 */
};

/*
 * The exit status for err (0 or -errno) from what. Whatever failed, 0 is 0 and
 * -ENOMEM is 1. FOTA_FAIL_RUN: -EBUSY (the peer's state) 5; no answer, no
 * such or no working interface (-ETIMEDOUT, -ENODEV, -ENETDOWN, ...) 4;
 * anything else 1.
 */
int fota_exit_status(enum fota_fail what, int err);

/* The worse of two exit statuses (for commands that carry on over several inputs). */
int fota_exit_worst(int a, int b);

#define FOTA_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* The spelling of a macro's value as a string literal: FOTA_STR(0x27) is "0x27". */
#define FOTA_STR_(x) #x
#define FOTA_STR(x)  FOTA_STR_(x)

#define fota_container_of(ptr, type, member) \
	((type *)(void *)((char *)(ptr)-offsetof(type, member)))

/* An impossible state: print "fota: BUG: file:line: ..." and abort(). */
#define FOTA_BUG(...) fota_bug(__FILE__, __LINE__, __VA_ARGS__)
__attribute__((noreturn, format(printf, 3, 4))) void fota_bug(const char *file, int line,
							      const char *fmt, ...);

#endif
