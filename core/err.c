// SPDX-License-Identifier: MIT
/*
 * (what failed, errno) -> exit status: the table of core/err.h and fota(1),
 * EXIT STATUS.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include "core/err.h"
#include "core/log.h"

int fota_exit_status(enum fota_fail what, int err)
{
	if (!err)
		return FOTA_EXIT_OK;
	if (err == -ENOMEM)
		return FOTA_EXIT_FAIL;
	switch (what) {
	case FOTA_FAIL_USAGE:
		return FOTA_EXIT_USAGE;
	case FOTA_FAIL_INPUT:
		return FOTA_EXIT_DATA;
	case FOTA_FAIL_OUTPUT:
		return FOTA_EXIT_FAIL;
	case FOTA_FAIL_BUS:
		return err == -EINVAL ? FOTA_EXIT_USAGE : FOTA_EXIT_UNAVAILABLE;
	case FOTA_FAIL_RUN:
		break;
	}
	switch (err) {
	case -ETIMEDOUT:
	case -ENODEV:
	case -ENETDOWN:
	case -ENXIO:
	case -EHOSTUNREACH:
	case -ECONNREFUSED:
	case -EAFNOSUPPORT:
	case -EPROTONOSUPPORT:
	case -ENOBUFS:
		return FOTA_EXIT_UNAVAILABLE;
	case -EBUSY:
		return FOTA_EXIT_STATE;
	default:
		return FOTA_EXIT_FAIL;
	}
}

/*
 * Severity order for "worst": a usage error trumps everything, then bad data,
 * unreachable, state, plain failure. 127 never comes from a command.
 */
int fota_exit_worst(int a, int b)
{
	static const int rank[] = {
		[FOTA_EXIT_OK] = 0,	     [FOTA_EXIT_FAIL] = 1, [FOTA_EXIT_STATE] = 2,
		[FOTA_EXIT_UNAVAILABLE] = 3, [FOTA_EXIT_DATA] = 4, [FOTA_EXIT_USAGE] = 5,
	};

	if (a < 0 || a > FOTA_EXIT_STATE)
		return a;
	if (b < 0 || b > FOTA_EXIT_STATE)
		return b;
	return rank[a] >= rank[b] ? a : b;
}

void fota_bug(const char *file, int line, const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	fota_error("BUG: %s:%d: %s", file, line, msg);
	abort();
}
