// SPDX-License-Identifier: MIT
/*
 * The only clock readers in fota (see core/time.h).
 */
#include <time.h>
#include "core/time.h"

fota_us fota_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (fota_us)ts.tv_sec * 1000000u + (fota_us)ts.tv_nsec / 1000u;
}

uint32_t fota_wall_time(void)
{
	return (uint32_t)time(NULL);
}
