// SPDX-License-Identifier: MIT
/*
 * Diagnostics: "prefix: message\n" to stderr, formatted into one buffer and
 * written with one write(2) so lines from several processes never interleave
 * (serve, ecu and the client commands share a terminal or a journal).
 * Only cmd/ and the driver loop print; library code returns errors.
 */
#ifndef FOTA_CORE_LOG_H
#define FOTA_CORE_LOG_H

#include <stdarg.h>

/*
 * The one meaning of -q, -v and -vv on every command (fota(1), COMMON
 * OPTIONS): -q keeps errors and warnings (FOTA_LOG_WARN); the default adds
 * what a command reports of its own accord (FOTA_LOG_INFO); -v adds one
 * line per protocol step, a UDS service or an SDO transfer (FOTA_LOG_STEP);
 * -vv adds the details below a step and the frames (FOTA_LOG_DEBUG).
 * Standard output is never affected.
 */
enum fota_log_level {
	FOTA_LOG_ERROR = 0,
	FOTA_LOG_WARN = 1,
	FOTA_LOG_INFO = 2,
	FOTA_LOG_STEP = 3,
	FOTA_LOG_DEBUG = 4,
};

/* The prefix is the command as typed: "fota flash" or "fota-flash". Not copied. */
void fota_log_set_prefix(const char *prefix);
const char *fota_log_prefix(void);
/* Messages above this level are dropped. Default FOTA_LOG_INFO. */
void fota_log_set_level(enum fota_log_level level);
enum fota_log_level fota_log_level(void);
/* The text of the last error logged (no prefix), "" if none: for JSON error objects. */
const char *fota_log_last_error(void);
/* Send lines to syslog (LOG_DAEMON, ident = prefix) instead of stderr. */
void fota_log_use_syslog(int on);

__attribute__((format(printf, 2, 3))) void fota_log(enum fota_log_level level, const char *fmt,
						    ...);
__attribute__((format(printf, 2, 0))) void fota_vlog(enum fota_log_level level, const char *fmt,
						     va_list ap);

#define fota_error(...) fota_log(FOTA_LOG_ERROR, __VA_ARGS__)
#define fota_warn(...)	fota_log(FOTA_LOG_WARN, __VA_ARGS__)
#define fota_info(...)	fota_log(FOTA_LOG_INFO, __VA_ARGS__)
#define fota_step(...)	fota_log(FOTA_LOG_STEP, __VA_ARGS__)
#define fota_debug(...) fota_log(FOTA_LOG_DEBUG, __VA_ARGS__)

/* "prefix: message: strerror(-err)". err is a negative errno. */
__attribute__((format(printf, 2, 3))) void fota_error_errno(int err, const char *fmt, ...);

#endif
