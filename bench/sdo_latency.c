// SPDX-License-Identifier: MIT
/*
 * sdo_latency: response time of a CANopen SDO server (`fota serve`), as an
 * HMI polling it sees it. One request at a time: an SDO expedited upload
 * request (CiA 301 §7.2.4.3.6, initiate upload, byte 0 = 0x40) to
 * 0x600 + NODE for 0x5FF3:SUB, then the wait for the server's answer on
 * 0x580 + NODE. Requests start on a fixed grid of INTERVAL; one still
 * unanswered when its slot comes delays the next to the first free slot (no
 * burst to catch up).
 *
 *   latency  = the monotonic time (CLOCK_MONOTONIC, core/time.h) from just
 *              before bus_send() of the request to bus_recv() of the answer
 *              whose multiplexer (index, sub) is the request's. The unix:
 *              backend may wait in bus_send() for a peer whose queue is full
 *              (core/bus_unix.c, 100 ms per peer at most): that counts.
 *   lost     = requests with no answer within TIMEOUT. An answer that still
 *              comes is counted as late, with its real delay (late_max), and
 *              is never taken for the answer to a later request: SUB cycles
 *              through a list of readable sub-indices (default ten), a late
 *              answer is matched to the oldest lost request with its sub, and
 *              once a later request is answered the lost ones before it are
 *              given up (a server answers in order).
 *   p50, p99, max = nearest rank over all requests (rank ceil(p/100 x N)),
 *              a lost request ranking above every answered one; a statistic
 *              that falls on a lost request is printed ">TIMEOUT" (null in
 *              JSON).
 *   aborts   = answers that were SDO aborts (answered, but not a value).
 *
 * It never waits longer than TIMEOUT for one answer (plus the bounded wait of
 * bus_send() above), and stops after COUNT requests, after SECONDS, or on
 * SIGINT/SIGTERM; the request in flight then still gets its TIMEOUT.
 *
 *   sdo_latency [-n NODE] [-c COUNT] [-T SECONDS] [-i INTERVAL_MS] [-t TIMEOUT_MS]
 *               [-s SUB[,SUB]...] [--json] BUS
 *
 * BUS is a bus_open() spec (unix:DIR, can0, vcan0). Exit 0 after printing,
 * 2 on a usage error, 4 when the bus cannot be opened, 1 when it fails later.
 * Built by `make bench-tools` as $(O)/bench/sdo_latency; run by bench/serve.sh.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <json-c/json.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "core/bus.h"
#include "core/config.h"
#include "core/time.h"
#include "sdo/fota_od.h"
#include "sdo/sdo.h"

#define LOST	  UINT64_MAX /* latency of a request left unanswered */
#define MAX_SUBS  32
#define LOST_FIFO 256 /* lost requests remembered to match late answers */

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

struct args {
	const char *bus;
	unsigned node;
	long count;	   /* -1: no limit */
	double seconds;	   /* 0: no limit */
	unsigned interval; /* ms */
	unsigned timeout;  /* ms */
	uint8_t subs[MAX_SUBS];
	size_t nsubs;
	bool json;
};

/* A lost request, kept until its late answer comes (or forever). */
struct lost {
	uint8_t sub;
	fota_us sent;
};

struct run {
	struct bus *bus;
	uint64_t *lat; /* per request, us; LOST when unanswered */
	size_t n, cap;
	struct lost fifo[LOST_FIFO];
	size_t nfifo;
	uint64_t late, late_max, aborts;
};

static int usage(void)
{
	fputs("usage: sdo_latency [-n NODE] [-c COUNT] [-T SECONDS] [-i INTERVAL_MS] "
	      "[-t TIMEOUT_MS] [-s SUB[,SUB]...] [--json] BUS\n",
	      stderr);
	return 2;
}

static int num(const char *s, long lo, long hi, long *v)
{
	char *end;

	errno = 0;
	*v = strtol(s, &end, 0);
	return errno || *end || end == s || *v < lo || *v > hi ? -1 : 0;
}

static int parse_subs(struct args *a, const char *s)
{
	char buf[256], *save = NULL, *tok;
	long v;

	if (snprintf(buf, sizeof(buf), "%s", s) >= (int)sizeof(buf))
		return -1;
	a->nsubs = 0;
	for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		if (a->nsubs == MAX_SUBS || num(tok, 0, 0xFF, &v) < 0)
			return -1;
		a->subs[a->nsubs++] = (uint8_t)v;
	}
	return a->nsubs ? 0 : -1;
}

static int parse(int argc, char **argv, struct args *a)
{
	static const struct option longopts[] = {
		{ "json", no_argument, NULL, 'J' },
		{ NULL, 0, NULL, 0 },
	};
	/*
	 * The expedited (<= 4 bytes) readable subs of 0x5FF3 (fota-serve(1)),
	 * update_status first.
	 */
	static const uint8_t def_subs[] = {
		FOTA_SUB_UPDATE_STATUS,
		FOTA_SUB_UPDATE_PROGRESS,
		FOTA_SUB_UPDATE_AVAILABLE,
		FOTA_SUB_UPDATE_ATTEMPTS_COUNTER,
		FOTA_SUB_UPDATE_AVAILABLE_TIME,
		FOTA_SUB_ECU_CAN_ID,
		FOTA_SUB_UPDATE_START_TIME,
		FOTA_SUB_UPDATE_END_TIME,
		FOTA_SUB_ECU_HEALTH_CHECK_TIMEOUT,
		FOTA_SUB_HIGHEST,
	};
	char *end;
	long v;
	int opt;

	*a = (struct args){
		.node = CFG_NODE_ID_DEFAULT, .count = -1, .interval = 20, .timeout = 1000
	};
	memcpy(a->subs, def_subs, sizeof(def_subs));
	a->nsubs = sizeof(def_subs);
	while ((opt = getopt_long(argc, argv, "n:c:T:i:t:s:", longopts, NULL)) != -1) {
		switch (opt) {
		case 'n':
			if (num(optarg, SDO_NODE_MIN, SDO_NODE_MAX, &v) < 0)
				return -1;
			a->node = (unsigned)v;
			break;
		case 'c':
			if (num(optarg, 1, LONG_MAX, &a->count) < 0)
				return -1;
			break;
		case 'T':
			errno = 0;
			a->seconds = strtod(optarg, &end);
			if (errno || *end || end == optarg || !(a->seconds > 0 && a->seconds < 1e6))
				return -1;
			break;
		case 'i':
			if (num(optarg, 1, 60000, &v) < 0)
				return -1;
			a->interval = (unsigned)v;
			break;
		case 't':
			if (num(optarg, 1, 60000, &v) < 0)
				return -1;
			a->timeout = (unsigned)v;
			break;
		case 's':
			if (parse_subs(a, optarg) < 0)
				return -1;
			break;
		case 'J':
			a->json = true;
			break;
		default:
			return -1;
		}
	}
	if (optind != argc - 1)
		return -1;
	a->bus = argv[optind];
	return 0;
}

static int record(struct run *r, uint64_t us)
{
	if (r->n == r->cap) {
		size_t cap = r->cap ? 2 * r->cap : 1024;
		uint64_t *p = realloc(r->lat, cap * sizeof(*p));

		if (!p)
			return -ENOMEM;
		r->lat = p;
		r->cap = cap;
	}
	r->lat[r->n++] = us;
	return 0;
}

/*
 * The late answer of a lost request? Matched to the oldest lost request with
 * that sub: a server answers in order. 1 if it was one.
 */
static int late_answer(struct run *r, uint8_t sub, fota_us now)
{
	for (size_t i = 0; i < r->nfifo; i++) {
		if (r->fifo[i].sub != sub)
			continue;
		if (now - r->fifo[i].sent > r->late_max)
			r->late_max = now - r->fifo[i].sent;
		r->late++;
		memmove(&r->fifo[i], &r->fifo[i + 1], (r->nfifo - i - 1) * sizeof(r->fifo[0]));
		r->nfifo--;
		return 1;
	}
	return 0;
}

static void lost_push(struct run *r, uint8_t sub, fota_us sent)
{
	if (r->nfifo == LOST_FIFO) {
		memmove(&r->fifo[0], &r->fifo[1], (LOST_FIFO - 1) * sizeof(r->fifo[0]));
		r->nfifo--;
	}
	r->fifo[r->nfifo++] = (struct lost){ sub, sent };
}

static int send_request(struct run *r, const struct args *a, uint8_t sub)
{
	struct sdo_msg m = { .kind = SDO_INIT_UPLOAD, .index = FOTA_OD_INDEX, .sub = sub };
	struct bus_frame f = { .id = SDO_COB_REQUEST + a->node, .len = SDO_FRAME_LEN };
	int err;

	err = sdo_encode_request(f.data, &m);
	if (err)
		return err;
	while ((err = bus_send(r->bus, &f)) == -EAGAIN || err == -ENOBUFS) {
		struct pollfd p = { .fd = bus_fd(r->bus), .events = POLLOUT };

		poll(&p, 1, 1);
	}
	return err;
}

/*
 * Read every pending frame. Returns 1 when the answer to the request for
 * *sub came (*at is its time, *abort set if it was an abort), 0 if not (yet),
 * -errno on a bus error. sub NULL: no request in flight.
 */
static int drain(struct run *r, const uint8_t *sub, fota_us *at, bool *abort)
{
	struct bus_frame f;
	struct sdo_msg m;
	int got = 0, e;

	while ((e = bus_recv(r->bus, &f)) == 1) {
		fota_us t = fota_now();

		if (f.len != SDO_FRAME_LEN || sdo_decode_response(&m, f.data) < 0 ||
		    m.index != FOTA_OD_INDEX || (m.kind != SDO_INIT_UPLOAD && m.kind != SDO_ABORT))
			continue; /* some other client's transfer */
		if (late_answer(r, m.sub, t) || !sub || got || m.sub != *sub)
			continue;
		got = 1;
		*at = t;
		*abort = m.kind == SDO_ABORT;
	}
	return e < 0 ? e : got;
}

/* Read the bus until `until`, or until the answer when sub is set. As drain(). */
static int wait_bus(struct run *r, fota_us until, const uint8_t *sub, fota_us *at, bool *abort)
{
	for (;;) {
		fota_us now = fota_now();
		struct pollfd p = { .fd = bus_fd(r->bus), .events = POLLIN };
		int got = drain(r, sub, at, abort);

		if (got)
			return got;
		if (now >= until || (!sub && stop))
			return 0;
		if (poll(&p, 1, (int)((until - now + 999) / 1000)) < 0 && errno != EINTR)
			return -errno;
	}
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return (x > y) - (x < y);
}

/* Nearest rank: the value at rank ceil(p/100 x n), 1-based. */
static uint64_t rank(const uint64_t *sorted, size_t n, unsigned p)
{
	size_t k = (size_t)((n * p + 99) / 100);

	return sorted[k ? k - 1 : 0];
}

static void fmt_ms(char *buf, size_t size, uint64_t us, unsigned timeout)
{
	if (us == LOST)
		snprintf(buf, size, ">%u", timeout);
	else
		snprintf(buf, size, "%.3f", (double)us / 1000.0);
}

/* Milliseconds to the microsecond ("0.076"), or null for a lost request. */
static json_object *json_ms(uint64_t us)
{
	char buf[32];

	if (us == LOST)
		return NULL;
	snprintf(buf, sizeof(buf), "%.3f", (double)us / 1000.0);
	return json_object_new_double_s((double)us / 1000.0, buf);
}

static int print_json(const struct run *r, const struct args *a, uint64_t lost, uint64_t p50,
		      uint64_t p99, uint64_t max)
{
	json_object *o = json_object_new_object(), *subs = json_object_new_array();
	const char *s;
	int err = 0;

	if (!o || !subs) {
		json_object_put(o);
		json_object_put(subs);
		return -ENOMEM;
	}
	for (size_t i = 0; i < a->nsubs; i++)
		json_object_array_add(subs, json_object_new_int(a->subs[i]));
	json_object_object_add(o, "bus", json_object_new_string(a->bus));
	json_object_object_add(o, "node", json_object_new_int((int)a->node));
	json_object_object_add(o, "index", json_object_new_int(FOTA_OD_INDEX));
	json_object_object_add(o, "subs", subs);
	json_object_object_add(o, "interval_ms", json_object_new_int((int)a->interval));
	json_object_object_add(o, "timeout_ms", json_object_new_int((int)a->timeout));
	json_object_object_add(o, "requests", json_object_new_uint64(r->n));
	json_object_object_add(o, "answered", json_object_new_uint64(r->n - lost));
	json_object_object_add(o, "lost", json_object_new_uint64(lost));
	json_object_object_add(o, "late", json_object_new_uint64(r->late));
	json_object_object_add(o, "late_max_ms", r->late ? json_ms(r->late_max) : NULL);
	json_object_object_add(o, "aborts", json_object_new_uint64(r->aborts));
	json_object_object_add(o, "p50_ms", r->n ? json_ms(p50) : NULL);
	json_object_object_add(o, "p99_ms", r->n ? json_ms(p99) : NULL);
	json_object_object_add(o, "max_ms", r->n ? json_ms(max) : NULL);
	s = json_object_to_json_string_ext(o,
					   JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
	if (!s)
		err = -ENOMEM;
	else
		printf("%s\n", s);
	json_object_put(o);
	return err;
}

static void print_text(const struct run *r, const struct args *a, uint64_t lost, uint64_t p50,
		       uint64_t p99, uint64_t max)
{
	char s50[32], s99[32], smax[32];

	printf("%s node 0x%02X 0x%04X:", a->bus, a->node, FOTA_OD_INDEX);
	for (size_t i = 0; i < a->nsubs; i++)
		printf("%s0x%02X", i ? "," : "", a->subs[i]);
	printf(" every %u ms, timeout %u ms\n", a->interval, a->timeout);
	printf("requests %zu  answered %" PRIu64 "  lost %" PRIu64 "  late %" PRIu64, r->n,
	       r->n - lost, lost, r->late);
	if (r->late)
		printf(" (up to %.3f ms)", (double)r->late_max / 1000.0);
	printf("  aborts %" PRIu64 "\n", r->aborts);
	if (r->n) {
		fmt_ms(s50, sizeof(s50), p50, a->timeout);
		fmt_ms(s99, sizeof(s99), p99, a->timeout);
		fmt_ms(smax, sizeof(smax), max, a->timeout);
		printf("latency ms: p50 %s  p99 %s  max %s\n", s50, s99, smax);
	}
}

static int report(struct run *r, const struct args *a)
{
	uint64_t lost = 0, p50 = LOST, p99 = LOST, max = LOST;
	int err = 0;

	for (size_t i = 0; i < r->n; i++)
		lost += r->lat[i] == LOST;
	if (r->n) {
		qsort(r->lat, r->n, sizeof(*r->lat), cmp_u64);
		p50 = rank(r->lat, r->n, 50);
		p99 = rank(r->lat, r->n, 99);
		max = r->lat[r->n - 1];
	}
	if (a->json)
		err = print_json(r, a, lost, p50, p99, max);
	else
		print_text(r, a, lost, p50, p99, max);
	if (fflush(stdout) && !err)
		err = -errno;
	return err;
}

static int run(struct run *r, const struct args *a)
{
	fota_us start = fota_now(), end = FOTA_NEVER, slot = start;
	uint64_t k = 0;
	int err;

	if (a->seconds > 0)
		end = start + (fota_us)(a->seconds * 1e6);
	while (!stop && (a->count < 0 || (long)r->n < a->count)) {
		uint8_t sub = a->subs[k++ % a->nsubs];
		fota_us sent, at = 0;
		bool abort = false;

		if ((err = wait_bus(r, fota_min_deadline(slot, end), NULL, NULL, NULL)) < 0)
			return err;
		if (stop || fota_now() >= end)
			break;
		sent = fota_now();
		if ((err = send_request(r, a, sub)) < 0)
			return err;
		err = wait_bus(r, sent + FOTA_MS(a->timeout), &sub, &at, &abort);
		if (err < 0)
			return err;
		if (err) {
			/* answered in order: the lost requests before it will never be */
			r->nfifo = 0;
			r->aborts += abort;
			err = record(r, at - sent);
		} else {
			lost_push(r, sub, sent);
			err = record(r, LOST);
		}
		if (err)
			return err;
		/* the next free slot of the grid */
		slot = start +
		       ((fota_now() - start) / FOTA_MS(a->interval) + 1) * FOTA_MS(a->interval);
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct sigaction sa = { .sa_handler = on_signal };
	struct args a;
	struct run r = { 0 };
	char err[256];
	uint32_t id;
	int e;

	if (parse(argc, argv, &a) < 0)
		return usage();
	/* before the bus: once our socket is on it, a signal stops us cleanly */
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	if (bus_open(&r.bus, a.bus, NULL, err, sizeof(err)) < 0) {
		fprintf(stderr, "sdo_latency: %s\n", err);
		return 4;
	}
	id = SDO_COB_RESPONSE + a.node;
	if ((e = bus_set_filter(r.bus, &id, 1)) < 0) {
		fprintf(stderr, "sdo_latency: %s: filter: %s\n", a.bus, strerror(-e));
		bus_close(r.bus);
		return 1;
	}
	e = run(&r, &a);
	if (e < 0)
		fprintf(stderr, "sdo_latency: %s: %s\n", a.bus, strerror(-e));
	else if ((e = report(&r, &a)) < 0)
		fprintf(stderr, "sdo_latency: output: %s\n", strerror(-e));
	bus_close(r.bus);
	free(r.lat);
	return e < 0 ? 1 : 0;
}
