// SPDX-License-Identifier: MIT
/*
 * One write(2) per diagnostic line (see core/log.h). Warnings say "warning:",
 * errors carry no tag: "fota hexinfo: fw.hex:57: record checksum mismatch".
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>
#include "core/log.h"

static const char *log_prefix = "fota";
static enum fota_log_level log_level = FOTA_LOG_INFO;
static int log_syslog;
static char last_error[1024]; /* the last error line, without prefix or newline */

const char *fota_log_last_error(void)
{
	return last_error;
}

void fota_log_set_prefix(const char *prefix)
{
	log_prefix = prefix;
}

const char *fota_log_prefix(void)
{
	return log_prefix;
}

void fota_log_set_level(enum fota_log_level level)
{
	log_level = level;
}

enum fota_log_level fota_log_level(void)
{
	return log_level;
}

void fota_log_use_syslog(int on)
{
	if (on && !log_syslog)
		openlog(log_prefix, LOG_PID, LOG_DAEMON);
	log_syslog = on;
}

__attribute__((format(printf, 3, 0))) static void
log_line(enum fota_log_level level, const char *tail, const char *fmt, va_list ap)
{
	static const int prio[] = { LOG_ERR, LOG_WARNING, LOG_INFO, LOG_INFO, LOG_DEBUG };
	char buf[1024];
	size_t n = 0, start;
	int r;

	if (level > log_level)
		return;
	if (!log_syslog) {
		r = snprintf(buf, sizeof(buf), "%s: %s", log_prefix,
			     level == FOTA_LOG_WARN ? "warning: " : "");
		n = r < 0 ? 0 : (size_t)r;
	}
	start = n < sizeof(buf) ? n : sizeof(buf) - 1;
	if (n < sizeof(buf)) {
		r = vsnprintf(buf + n, sizeof(buf) - n, fmt, ap);
		n += r < 0 ? 0 : (size_t)r;
	}
	if (tail && n < sizeof(buf)) {
		r = snprintf(buf + n, sizeof(buf) - n, ": %s", tail);
		n += r < 0 ? 0 : (size_t)r;
	}
	if (n > sizeof(buf) - 2)
		n = sizeof(buf) - 2; /* truncated: keep the newline */
	if (level == FOTA_LOG_ERROR)
		snprintf(last_error, sizeof(last_error), "%.*s", (int)(n - start), buf + start);
	if (log_syslog) {
		buf[n] = '\0';
		syslog(prio[level], "%s", buf);
		return;
	}
	buf[n++] = '\n';
	while (n) {
		ssize_t w = write(STDERR_FILENO, buf, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			break;
		n -= (size_t)w; /* a short write to a pipe: finish it (rare) */
		memmove(buf, buf + w, n);
	}
}

void fota_vlog(enum fota_log_level level, const char *fmt, va_list ap)
{
	int saved = errno;

	log_line(level, NULL, fmt, ap);
	errno = saved;
}

void fota_log(enum fota_log_level level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fota_vlog(level, fmt, ap);
	va_end(ap);
}

void fota_error_errno(int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_line(FOTA_LOG_ERROR, strerror(err < 0 ? -err : err), fmt, ap);
	va_end(ap);
}
