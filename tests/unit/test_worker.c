// SPDX-License-Identifier: MIT
/*
 * Unit tests of core/worker.c: jobs run in order off the caller's thread,
 * results come back only through fota_worker_collect() (the loop's thread), an
 * urgent job overtakes the queue, and fota_worker_stop() cancels a running job,
 * drops queued ones and gives up on one that never returns.
 */
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <unistd.h>
#include "core/worker.h"
#include "tests/unit/t.h"

struct rec {
	int order[8];
	int n;
	int dropped;
};

struct item {
	struct rec *r;
	int tag;
	pthread_t ran_on;
	unsigned spin_ms; /* how long fn works, polling cancel each ms */
	bool cancelled;
};

static void item_fn(void *arg, const atomic_bool *cancel)
{
	struct item *it = arg;

	it->ran_on = pthread_self();
	for (unsigned i = 0; i < it->spin_ms; i++) {
		if (atomic_load(cancel)) {
			it->cancelled = true;
			return;
		}
		usleep(1000);
	}
}

static void item_done(void *ctx, void *arg, bool ran)
{
	struct item *it = arg;
	struct rec *r = ctx;

	if (ran)
		r->order[r->n++] = it->tag;
	else
		r->dropped++;
}

/* Wait (bounded) until the worker signals results, then collect. */
static size_t wait_collect(struct worker *w, size_t want)
{
	size_t got = 0;

	for (int i = 0; i < 500 && got < want; i++) {
		struct pollfd p = { .fd = fota_worker_fd(w), .events = POLLIN };

		if (poll(&p, 1, 10) > 0)
			got += fota_worker_collect(w);
	}
	return got;
}

static void test_worker__fifo_and_thread(void)
{
	struct worker *w;
	struct rec r = { 0 };
	struct item it[3] = { { .r = &r, .tag = 1 }, { .r = &r, .tag = 2 }, { .r = &r, .tag = 3 } };

	T_OK(fota_worker_start(&w));
	for (int i = 0; i < 3; i++)
		T_OK(fota_worker_submit(w, item_fn, item_done, &r, &it[i], false));
	T_EQ(fota_worker_pending(w), 3);
	T_EQ(r.n, 0); /* nothing is reported outside fota_worker_collect() */
	T_EQ(wait_collect(w, 3), 3);
	T_EQ(r.n, 3);
	T_EQ(r.order[0], 1);
	T_EQ(r.order[1], 2);
	T_EQ(r.order[2], 3);
	T_TRUE(!pthread_equal(it[0].ran_on, pthread_self()));
	T_EQ(fota_worker_pending(w), 0);
	T_OK(fota_worker_stop(w, FOTA_SEC(1)));
}

static void test_worker__urgent_overtakes_queue(void)
{
	struct worker *w;
	struct rec r = { 0 };
	struct item slow = { .r = &r, .tag = 1, .spin_ms = 100 }, a = { .r = &r, .tag = 2 },
		    b = { .r = &r, .tag = 3 }, key = { .r = &r, .tag = 9 };

	T_OK(fota_worker_start(&w));
	T_OK(fota_worker_submit(w, item_fn, item_done, &r, &slow, false));
	usleep(20000); /* slow is running */
	T_OK(fota_worker_submit(w, item_fn, item_done, &r, &a, false));
	T_OK(fota_worker_submit(w, item_fn, item_done, &r, &b, false));
	T_OK(fota_worker_submit(w, item_fn, item_done, &r, &key, true));
	T_EQ(wait_collect(w, 4), 4);
	T_EQ(r.order[0], 1);
	T_EQ(r.order[1], 9);
	T_EQ(r.order[2], 2);
	T_EQ(r.order[3], 3);
	T_OK(fota_worker_stop(w, FOTA_SEC(1)));
}

static void test_worker__stop_cancels_running_drops_queued(void)
{
	struct worker *w;
	struct rec r = { 0 };
	struct item busy = { .r = &r, .tag = 1, .spin_ms = 60000 }, q1 = { .r = &r, .tag = 2 },
		    q2 = { .r = &r, .tag = 3 };

	T_OK(fota_worker_start(&w));
	T_OK(fota_worker_submit(w, item_fn, item_done, &r, &busy, false));
	usleep(20000);
	T_OK(fota_worker_submit(w, item_fn, item_done, &r, &q1, false));
	T_OK(fota_worker_submit(w, item_fn, item_done, &r, &q2, false));
	T_OK(fota_worker_stop(w, FOTA_SEC(2)));
	T_TRUE(busy.cancelled);
	T_EQ(r.dropped, 2);
	T_EQ(r.n, 1); /* the cancelled job still reports, with its own result */
	T_EQ(r.order[0], 1);
}

/* A job that ignores cancel (a vendor key library): stop gives up in time. */
static void stubborn_fn(void *arg, const atomic_bool *cancel)
{
	volatile int *release = arg;

	while (!*release)
		usleep(1000);
}

static void stubborn_done(void *ctx, void *arg, bool ran)
{
}

static void test_worker__stop_gives_up_on_stuck_job(void)
{
	static volatile int release;
	struct worker *w;

	T_OK(fota_worker_start(&w));
	T_OK(fota_worker_submit(w, stubborn_fn, stubborn_done, NULL, (void *)&release, false));
	usleep(20000);
	T_EQ(fota_worker_stop(w, FOTA_MS(50)), -ETIMEDOUT);
	release = 1; /* let the detached thread end before the process does */
	usleep(20000);
}

static const struct t_case cases[] = {
	T_CASE(worker__fifo_and_thread),
	T_CASE(worker__urgent_overtakes_queue),
	T_CASE(worker__stop_cancels_running_drops_queued),
	T_CASE(worker__stop_gives_up_on_stuck_job),
};

int main(void)
{
	return t_main(cases, FOTA_ARRAY_SIZE(cases));
}
