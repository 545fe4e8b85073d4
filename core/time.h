// SPDX-License-Identifier: MIT
/*
 * Time for fota: monotonic microseconds. Engines never read a clock; they are
 * handed `now` and report their next deadline. fota_now() is the only reader,
 * used by core/loop.c and cmd/ (tests use a virtual clock instead).
 */
#ifndef FOTA_CORE_TIME_H
#define FOTA_CORE_TIME_H

#include <stdint.h>

typedef uint64_t fota_us; /* monotonic microseconds; 64 bits so nothing ever wraps */

#define FOTA_MS(ms) ((fota_us)(ms)*1000u)
#define FOTA_SEC(s) ((fota_us)(s)*1000000u)
#define FOTA_NEVER  UINT64_MAX /* "no deadline" */

/* CLOCK_MONOTONIC in microseconds. */
fota_us fota_now(void);

/* Wall clock, UNIX seconds UTC (CiA timestamp objects, reports). */
uint32_t fota_wall_time(void);

/* The earlier of two deadlines. */
static inline fota_us fota_min_deadline(fota_us a, fota_us b)
{
	return a < b ? a : b;
}

#endif
