// SPDX-License-Identifier: MIT
/*
 * unix: bus throughput between two processes (core/bus_unix.c): a sender
 * pushes N classic 8-byte frames as fast as bus_send() takes them, a receiver
 * in another process drains them through poll() + bus_recv(), as the loop
 * does. Reports frames/s, the time a 1 MiB flash's worth of frames takes
 * (~150k frames of 7 payload bytes), frames dropped, and order errors.
 * A 1 Mbit/s CAN bus carries at most ~8,700 such frames/s.
 * Not part of the build; run it by hand (after make O=build-bus):
 *
 *   cc -O2 -std=c11 -D_GNU_SOURCE -I. bench/bus_unix_bench.c build-bus/libfota.a \
 *      $(pkg-config --libs libsocketcan) -o /tmp/bus_unix_bench
 *   /tmp/bus_unix_bench [FRAMES] [RECEIVERS]
 */
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "core/bus.h"
#include "core/time.h"

static int receiver(const char *spec, long n, int ready)
{
	struct bus *bus;
	struct bus_frame f;
	long got = 0, bad = 0;
	fota_us t0 = 0, last = 0;

	if (bus_open(&bus, spec, NULL, NULL, 0) < 0)
		return 1;
	if (write(ready, "r", 1) != 1)
		return 1;
	while (got < n) {
		struct pollfd p = { .fd = bus_fd(bus), .events = POLLIN };

		if (poll(&p, 1, 2000) == 0)
			break; /* the sender is done and frames were lost */
		while (bus_recv(bus, &f) == 1) {
			uint32_t seq;

			memcpy(&seq, f.data, 4);
			if (seq != (uint32_t)got + (uint32_t)bad)
				bad = (long)seq - got;
			if (!got)
				t0 = fota_now();
			got++;
			last = fota_now();
		}
	}
	printf("receiver: %ld frames in %.3f s, gaps %ld\n", got, (double)(last - t0) / 1e6, bad);
	fflush(stdout); /* the child leaves with _exit() */
	bus_close(bus);
	return 0;
}

int main(int argc, char **argv)
{
	long n = argc > 1 ? atol(argv[1]) : 300000;
	int nrx = argc > 2 ? atoi(argv[2]) : 1, i, pfd[2];
	char dir[] = "/tmp/fota-bench.XXXXXX", spec[64], cmd[128], c;
	struct bus *bus;
	struct bus_frame f = { .id = 0x7E0, .len = 8 };
	fota_us t0, t1;
	double cpu;
	struct timespec ts;

	if (!mkdtemp(dir) || pipe(pfd) < 0)
		return 1;
	snprintf(spec, sizeof(spec), "unix:%s", dir);
	for (i = 0; i < nrx; i++)
		if (fork() == 0)
			_exit(receiver(spec, n, pfd[1]));
	for (i = 0; i < nrx; i++)
		if (read(pfd[0], &c, 1) != 1)
			return 1;
	if (bus_open(&bus, spec, NULL, NULL, 0) < 0)
		return 1;
	t0 = fota_now();
	for (uint32_t s = 0; s < (uint32_t)n; s++) {
		memcpy(f.data, &s, 4);
		if (bus_send(bus, &f) < 0)
			return 1;
	}
	t1 = fota_now();
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	cpu = (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
	printf("sender: %ld frames to %d receiver(s) in %.3f s: %.0f frames/s, "
	       "%.2f s per 150k frames (1 MiB flash), CPU %.3f s, dropped %llu\n",
	       n, nrx, (double)(t1 - t0) / 1e6, (double)n * 1e6 / (double)(t1 - t0),
	       150000.0 * (double)(t1 - t0) / 1e6 / (double)n, cpu,
	       (unsigned long long)bus->tx_dropped);
	for (i = 0; i < nrx; i++)
		wait(NULL);
	bus_close(bus);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : 1;
}
