// SPDX-License-Identifier: MIT
/* The worker thread of core/worker.h: a mutex, a condition, two lists, an eventfd. */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>
#include "core/worker.h"

struct job {
	struct job *next;
	worker_fn fn;
	worker_done_fn done;
	void *ctx, *arg;
};

struct worker {
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cv, idle;
	struct job *queue, **queue_tail; /* to run */
	struct job *fin, **fin_tail;	 /* ran, waiting for fota_worker_collect() */
	struct job *running;
	size_t pending;
	bool quit;
	atomic_bool cancel;
	int efd;
};

static void push(struct job ***tail, struct job *j)
{
	j->next = NULL;
	**tail = j;
	*tail = &j->next;
}

static void *thread_main(void *p)
{
	struct worker *w = p;
	struct job *j;
	uint64_t one = 1;

	pthread_mutex_lock(&w->mu);
	for (;;) {
		while (!w->queue && !w->quit)
			pthread_cond_wait(&w->cv, &w->mu);
		if (!w->queue)
			break;
		j = w->queue;
		w->queue = j->next;
		if (!w->queue)
			w->queue_tail = &w->queue;
		w->running = j;
		pthread_mutex_unlock(&w->mu);

		j->fn(j->arg, &w->cancel);

		pthread_mutex_lock(&w->mu);
		w->running = NULL;
		push(&w->fin_tail, j);
		pthread_cond_broadcast(&w->idle);
		/* an eventfd counter cannot overflow in practice; EAGAIN is harmless */
		if (write(w->efd, &one, sizeof(one)) < 0) {
		}
	}
	pthread_mutex_unlock(&w->mu);
	return NULL;
}

int fota_worker_start(struct worker **wp)
{
	struct worker *w = calloc(1, sizeof(*w));
	sigset_t all, old;
	int err;

	*wp = NULL;
	if (!w)
		return -ENOMEM;
	w->queue_tail = &w->queue;
	w->fin_tail = &w->fin;
	atomic_init(&w->cancel, false);
	w->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (w->efd < 0) {
		err = -errno;
		free(w);
		return err;
	}
	pthread_mutex_init(&w->mu, NULL);
	pthread_cond_init(&w->cv, NULL);
	pthread_cond_init(&w->idle, NULL);
	/*
	 * The thread takes no signals: a daemon receives SIGTERM through the
	 * loop's signalfd, and a thread that left it unblocked would take the
	 * default action (terminate) instead.
	 */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	err = pthread_create(&w->thread, NULL, thread_main, w);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (err) {
		close(w->efd);
		free(w);
		return -err;
	}
	*wp = w;
	return 0;
}

int fota_worker_fd(const struct worker *w)
{
	return w->efd;
}

int fota_worker_submit(struct worker *w, worker_fn fn, worker_done_fn done, void *ctx, void *arg,
		       bool urgent)
{
	struct job *j = calloc(1, sizeof(*j));

	if (!j)
		return -ENOMEM;
	j->fn = fn;
	j->done = done;
	j->ctx = ctx;
	j->arg = arg;
	pthread_mutex_lock(&w->mu);
	if (urgent && w->queue) {
		j->next = w->queue;
		w->queue = j;
	} else {
		push(&w->queue_tail, j);
	}
	w->pending++;
	pthread_cond_signal(&w->cv);
	pthread_mutex_unlock(&w->mu);
	return 0;
}

size_t fota_worker_collect(struct worker *w)
{
	struct job *list, *j;
	uint64_t cnt;
	size_t n = 0;

	if (read(w->efd, &cnt, sizeof(cnt)) < 0) {
		/* EAGAIN: nothing signalled; the list is checked anyway */
	}
	pthread_mutex_lock(&w->mu);
	list = w->fin;
	w->fin = NULL;
	w->fin_tail = &w->fin;
	pthread_mutex_unlock(&w->mu);
	while ((j = list)) {
		list = j->next;
		pthread_mutex_lock(&w->mu);
		w->pending--;
		pthread_mutex_unlock(&w->mu);
		j->done(j->ctx, j->arg, true);
		free(j);
		n++;
	}
	return n;
}

size_t fota_worker_pending(const struct worker *w)
{
	return w->pending;
}

int fota_worker_stop(struct worker *w, fota_us timeout)
{
	struct job *queued, *j;
	struct timespec ts;
	bool stuck = false;

	if (!w)
		return 0;
	pthread_mutex_lock(&w->mu);
	queued = w->queue;
	w->queue = NULL;
	w->queue_tail = &w->queue;
	w->quit = true;
	atomic_store(&w->cancel, true);
	pthread_cond_signal(&w->cv);
	clock_gettime(CLOCK_REALTIME, &ts); /* pthread_cond_timedwait's clock */
	ts.tv_sec += (time_t)(timeout / FOTA_SEC(1));
	ts.tv_nsec += (long)(timeout % FOTA_SEC(1)) * 1000;
	if (ts.tv_nsec >= 1000000000) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000;
	}
	while (w->running && !stuck)
		stuck = pthread_cond_timedwait(&w->idle, &w->mu, &ts) == ETIMEDOUT;
	pthread_mutex_unlock(&w->mu);
	while ((j = queued)) {
		queued = j->next;
		w->pending--;
		j->done(j->ctx, j->arg, false);
		free(j);
	}
	fota_worker_collect(w);
	if (stuck) {
		/* the thread still uses w: leave both to the process exit */
		pthread_detach(w->thread);
		return -ETIMEDOUT;
	}
	pthread_join(w->thread, NULL);
	close(w->efd);
	pthread_mutex_destroy(&w->mu);
	pthread_cond_destroy(&w->cv);
	pthread_cond_destroy(&w->idle);
	free(w);
	return 0;
}
