// SPDX-License-Identifier: MIT
/*
 * The bus front end: bus_open() picks a backend from the spec string, and the
 * bus_send()/bus_recv() wrappers count frames and write the --trace file in
 * candump -l format, so a trace opens in can-utils (canplayer, log2asc).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "core/bus.h"

static const struct bus_backend *extra_backend; /* bus_add_backend() */

void bus_add_backend(const struct bus_backend *backend)
{
	extra_backend = backend;
}

static void set_err(char *err, size_t errsize, const char *spec, const char *msg)
{
	if (err && errsize)
		snprintf(err, errsize, "%s%s%s", spec, *spec ? ": " : "", msg);
}

int bus_spec_check(const char *spec, char *err, size_t errsize)
{
	if (err && errsize)
		err[0] = '\0';
	if (!spec || !*spec) {
		set_err(err, errsize, "", "no bus given");
		return -EINVAL;
	}
	if (!strncmp(spec, "unix:", 5)) {
		if (!spec[5]) {
			set_err(err, errsize, spec, "directory missing (unix:DIR)");
			return -EINVAL;
		}
	} else if (extra_backend &&
		   !strncmp(spec, extra_backend->prefix, strlen(extra_backend->prefix))) {
		return 0; /* the backend checks the rest */
	} else if (strchr(spec, ':') || strchr(spec, '/') || strlen(spec) >= 16) {
		set_err(err, errsize, spec,
			"not a bus (an interface name such as can0, or unix:DIR)");
		return -EINVAL;
	}
	return 0;
}

int bus_open(struct bus **bus, const char *spec, const struct bus_opts *opts, char *err,
	     size_t errsize)
{
	static const struct bus_opts defaults;
	int ret;

	*bus = NULL;
	if (!opts)
		opts = &defaults;
	ret = bus_spec_check(spec, err, errsize);
	if (ret)
		return ret;
	if (!strncmp(spec, "unix:", 5))
		ret = bus_unix_open(bus, spec + 5, opts, err, errsize);
	else if (extra_backend &&
		 !strncmp(spec, extra_backend->prefix, strlen(extra_backend->prefix)))
		ret = extra_backend->open(bus, spec + strlen(extra_backend->prefix), opts, err,
					  errsize);
	else
		ret = bus_socketcan_open(bus, spec, opts, err, errsize);
	if (ret == 0 && !(*bus)->trace_if[0])
		bus_set_trace_if(*bus, "vbus0");
	if (ret < 0) {
		*bus = NULL;
		if (err && errsize && !err[0])
			snprintf(err, errsize, "%s: %s", spec, strerror(-ret));
	}
	return ret;
}

void bus_close(struct bus *bus)
{
	if (bus)
		bus->ops->close(bus);
}

static uint64_t trace_time(struct bus *bus)
{
	struct timespec ts;

	if (bus->ops->trace_time)
		return bus->ops->trace_time(bus);
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

void bus_trace(struct bus *bus, const struct bus_frame *f)
{
	char line[BUS_FRAME_TEXT_MAX + 64];
	uint64_t t;
	int n;

	if (!bus->trace)
		return;
	t = trace_time(bus);
	n = bus_frame_format_log(line, sizeof(line), (int64_t)(t / 1000000u), (long)(t % 1000000u),
				 bus->trace_if[0] ? bus->trace_if : "can0", f);
	if (n > 0 && fwrite(line, 1, (size_t)n, bus->trace) != (size_t)n) {
		if (!bus->trace_err)
			bus->trace_err = errno ? -errno : -EIO;
		bus->trace_lost++;
	}
}

int bus_send(struct bus *bus, const struct bus_frame *f)
{
	int ret;

	if (!bus_frame_valid(f))
		return -EINVAL;
	if ((f->flags & BUS_FRAME_FD) && !bus->fd)
		return -EINVAL;
	ret = bus->ops->send(bus, f);
	if (ret < 0)
		return ret;
	bus->tx_frames++;
	bus_trace(bus, f);
	return 0;
}

int bus_flush(struct bus *bus)
{
	return bus->ops->flush ? bus->ops->flush(bus) : 0;
}

int bus_recv(struct bus *bus, struct bus_frame *f)
{
	int ret = bus->ops->recv(bus, f);

	if (ret <= 0)
		return ret;
	bus->rx_frames++;
	bus_trace(bus, f);
	return 1;
}

int bus_fd(struct bus *bus)
{
	return bus->ops->fd(bus);
}

int bus_tx_fd(struct bus *bus)
{
	return bus->ops->tx_fd ? bus->ops->tx_fd(bus) : bus->ops->fd(bus);
}

int bus_set_filter(struct bus *bus, const uint32_t *ids, size_t n)
{
	return bus->ops->set_filter(bus, ids, n);
}

void bus_set_trace(struct bus *bus, FILE *fp)
{
	bus->trace = fp;
}

void bus_set_trace_if(struct bus *bus, const char *ifname)
{
	snprintf(bus->trace_if, sizeof(bus->trace_if), "%.15s", ifname ? ifname : "");
}

const char *bus_state_name(enum bus_state st)
{
	switch (st) {
	case BUS_STATE_ERROR_ACTIVE:
		return "error-active";
	case BUS_STATE_ERROR_WARNING:
		return "error-warning";
	case BUS_STATE_ERROR_PASSIVE:
		return "error-passive";
	case BUS_STATE_BUS_OFF:
		return "bus-off";
	}
	return "unknown";
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return (x > y) - (x < y);
}

/* Sorted and without duplicates: a match is a binary search, also with 512 ids. */
int bus_soft_filter_set(struct bus_soft_filter *sf, const uint32_t *ids, size_t n)
{
	size_t i, k = 0;

	if (n > BUS_FILTER_MAX)
		return -EINVAL;
	for (i = 0; i < n; i++)
		sf->ids[i] = bus_filter_norm(ids[i]);
	qsort(sf->ids, n, sizeof(sf->ids[0]), cmp_u32);
	for (i = 0; i < n; i++)
		if (!k || sf->ids[k - 1] != sf->ids[i])
			sf->ids[k++] = sf->ids[i];
	sf->n = k;
	return 0;
}

bool bus_soft_filter_match(const struct bus_soft_filter *sf, const struct bus_frame *f)
{
	uint32_t key = bus_filter_key(f);

	if (!sf->n)
		return true;
	return bsearch(&key, sf->ids, sf->n, sizeof(sf->ids[0]), cmp_u32) != NULL;
}
