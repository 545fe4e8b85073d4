// SPDX-License-Identifier: MIT
/*
 * Error conventions. Library code (core/ hex/ uds/ sdo/) returns 0 or a
 * negative errno; detail travels in result structs, never in globals. The
 * protocol meanings of the errno values we use are fixed here, and
 * fota_exit_code() maps them to the one exit-status table documented in
 * fota(1), EXIT STATUS. Keep the two in step.
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

/* Map a library error (0 or -errno) to an exit status from the table above. */
int fota_exit_code(int err);

/* The worse of two exit statuses (for commands that carry on over several inputs). */
int fota_exit_worst(int a, int b);

#define FOTA_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

#define fota_container_of(ptr, type, member) \
	((type *)(void *)((char *)(ptr)-offsetof(type, member)))

/* An impossible state: print "fota: BUG: file:line: ..." and abort(). */
#define FOTA_BUG(...) fota_bug(__FILE__, __LINE__, __VA_ARGS__)
__attribute__((noreturn, format(printf, 3, 4))) void fota_bug(const char *file, int line,
							      const char *fmt, ...);

#endif
