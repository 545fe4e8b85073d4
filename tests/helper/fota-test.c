// SPDX-License-Identifier: MIT
/*
 * fota-test: a test-only helper for the shell tests (git's test-tool), built
 * as $(O)/tests/fota-test and never installed. cansend/candump for every bus
 * fota speaks, so the end-to-end tests can talk to `fota serve`/`fota ecu` on
 * a unix: bus the way the vcan tests use can-utils.
 *
 *   fota-test send [--fd] [--trace FILE] BUS FRAME...
 *	send each frame (cansend syntax) in order; exit 0, 2 bad frame, 4 no bus
 *   fota-test dump [--fd] [--trace FILE] [-n COUNT] [-t TIMEOUT_MS] [-i ID]... BUS
 *	print received frames one per line ("7E0#0210..."), flushed at once;
 *	exit 0 after COUNT frames, 1 if TIMEOUT_MS passed first (without -n:
 *	0 at the timeout), 0 on SIGTERM/SIGINT; -i accepts only these ids
 */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "core/bus.h"
#include "core/time.h"

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static int usage(void)
{
	fputs("usage: fota-test send [--fd] [--trace FILE] BUS FRAME...\n"
	      "       fota-test dump [--fd] [--trace FILE] [-n COUNT] [-t TIMEOUT_MS] [-i ID]... "
	      "BUS\n",
	      stderr);
	return 2;
}

struct common {
	struct bus_opts opts;
	const char *trace;
	FILE *tracefp;
	long count, timeout_ms;
	uint32_t ids[BUS_FILTER_MAX];
	size_t nids;
};

static int parse(int argc, char **argv, struct common *c)
{
	static const struct option longopts[] = {
		{ "fd", no_argument, NULL, 'F' },
		{ "trace", required_argument, NULL, 'T' },
		{ NULL, 0, NULL, 0 },
	};
	char *end;
	int opt;

	c->count = -1;
	c->timeout_ms = -1;
	optind = 1;
	while ((opt = getopt_long(argc, argv, "+n:t:i:", longopts, NULL)) != -1) {
		switch (opt) {
		case 'F':
			c->opts.fd = true;
			break;
		case 'T':
			c->trace = optarg;
			break;
		case 'n':
			c->count = strtol(optarg, &end, 0);
			if (*end || c->count < 0)
				return -1;
			break;
		case 't':
			c->timeout_ms = strtol(optarg, &end, 0);
			if (*end || c->timeout_ms < 0)
				return -1;
			break;
		case 'i':
			if (c->nids == BUS_FILTER_MAX)
				return -1;
			c->ids[c->nids++] = (uint32_t)strtoul(optarg, &end, 0);
			if (*end)
				return -1;
			break;
		default:
			return -1;
		}
	}
	return optind;
}

static struct bus *open_bus(const char *spec, struct common *c)
{
	struct bus *bus;
	char err[256];

	if (bus_open(&bus, spec, &c->opts, err, sizeof(err)) < 0) {
		fprintf(stderr, "fota-test: %s\n", err);
		return NULL;
	}
	if (c->trace) {
		c->tracefp = fopen(c->trace, "a");
		if (!c->tracefp) {
			fprintf(stderr, "fota-test: %s: %s\n", c->trace, strerror(errno));
			bus_close(bus);
			return NULL;
		}
		setvbuf(c->tracefp, NULL, _IOLBF, 0);
		bus_set_trace(bus, c->tracefp);
	}
	return bus;
}

static void close_bus(struct bus *bus, struct common *c)
{
	bus_close(bus);
	if (c->tracefp)
		fclose(c->tracefp);
}

static int cmd_send(int argc, char **argv)
{
	struct common c = { 0 };
	struct bus_frame *frames;
	struct bus *bus;
	int i, n, first = parse(argc, argv, &c), ret = 0;

	if (first < 0 || argc - first < 2)
		return usage();
	n = argc - first - 1;
	frames = calloc((size_t)n, sizeof(*frames));
	if (!frames)
		return 1;
	for (i = 0; i < n; i++) {
		if (bus_frame_parse(&frames[i], argv[first + 1 + i]) < 0) {
			fprintf(stderr, "fota-test: '%s': not a frame (cansend syntax)\n",
				argv[first + 1 + i]);
			free(frames);
			return 2;
		}
	}
	bus = open_bus(argv[first], &c);
	if (!bus) {
		free(frames);
		return 4;
	}
	for (i = 0; i < n && !ret; i++) {
		int e;

		while ((e = bus_send(bus, &frames[i])) == -EAGAIN || e == -ENOBUFS) {
			struct pollfd p = { .fd = bus_fd(bus), .events = POLLOUT };

			poll(&p, 1, 10);
		}
		if (e < 0) {
			fprintf(stderr, "fota-test: %s: send: %s\n", argv[first], strerror(-e));
			ret = 1;
		}
	}
	close_bus(bus, &c);
	free(frames);
	return ret;
}

static int cmd_dump(int argc, char **argv)
{
	struct common c = { 0 };
	struct bus *bus;
	struct bus_frame f;
	char text[BUS_FRAME_TEXT_MAX];
	fota_us end;
	long got = 0;
	int first = parse(argc, argv, &c);

	if (first < 0 || argc - first != 1)
		return usage();
	bus = open_bus(argv[first], &c);
	if (!bus)
		return 4;
	if (c.nids && bus_set_filter(bus, c.ids, c.nids) < 0) {
		fprintf(stderr, "fota-test: bad filter\n");
		close_bus(bus, &c);
		return 2;
	}
	end = c.timeout_ms < 0 ? FOTA_NEVER : fota_now() + FOTA_MS(c.timeout_ms);
	while (!stop && (c.count < 0 || got < c.count)) {
		struct pollfd p = { .fd = bus_fd(bus), .events = POLLIN };
		fota_us now = fota_now();
		int ms;

		while ((c.count < 0 || got < c.count) && bus_recv(bus, &f) == 1) {
			bus_frame_format(text, sizeof(text), &f);
			printf("%s\n", text);
			fflush(stdout);
			got++;
		}
		if (c.count >= 0 && got >= c.count)
			break;
		if (now >= end)
			break;
		ms = end == FOTA_NEVER ? 1000 : (int)((end - now + 999) / 1000);
		poll(&p, 1, ms > 1000 ? 1000 : ms);
	}
	close_bus(bus, &c);
	if (c.count >= 0 && got < c.count && !stop)
		return 1;
	return 0;
}

int main(int argc, char **argv)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	if (argc < 2)
		return usage();
	if (!strcmp(argv[1], "send"))
		return cmd_send(argc - 1, argv + 1);
	if (!strcmp(argv[1], "dump"))
		return cmd_dump(argc - 1, argv + 1);
	return usage();
}
