// SPDX-License-Identifier: MIT
/*
 * The poll() driver of the sans-I/O engines (see core/loop.h). ppoll() rather
 * than poll() because ISO-TP STmin goes down to 100 us (ISO 15765-2 9.6.5.4,
 * STmin 0xF1-0xF9) and poll() only sleeps in milliseconds.
 */
#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>
#include "core/loop.h"

#define LOOP_ENOBUFS_RETRY_US 1000u

void loop_init(struct loop *l, struct bus *bus)
{
	memset(l, 0, sizeof(*l));
	l->bus = bus;
	l->sigfd = -1;
	sigemptyset(&l->sigs);
	sigemptyset(&l->oldsigs);
	if (bus) {
		l->bus_state = bus->state;
		l->bus_state_seq = bus->state_seq;
		bus->send_nowait = true; /* the loop retries refused frames itself */
		bus->send_batch = true;	 /* and flushes the kept ones after each pass */
	}
}

void loop_release(struct loop *l)
{
	if (l->sigfd >= 0) {
		close(l->sigfd);
		sigprocmask(SIG_SETMASK, &l->oldsigs, NULL);
		l->sigfd = -1;
	}
}

int loop_add(struct loop *l, const struct loop_member_ops *ops, void *ctx)
{
	if (l->nmembers == LOOP_MAX_MEMBERS)
		return -ENOSPC;
	l->members[l->nmembers].ops = ops;
	l->members[l->nmembers].ctx = ctx;
	l->nmembers++;
	return 0;
}

int loop_add_fd(struct loop *l, int fd, short events, loop_fd_cb cb, void *ctx)
{
	if (l->nfds == LOOP_MAX_FDS)
		return -ENOSPC;
	l->fds[l->nfds].fd = fd;
	l->fds[l->nfds].events = events;
	l->fds[l->nfds].cb = cb;
	l->fds[l->nfds].ctx = ctx;
	l->nfds++;
	return 0;
}

int loop_fd_update(struct loop *l, loop_fd_cb cb, void *ctx, int fd, short events)
{
	for (size_t i = 0; i < l->nfds; i++)
		if (l->fds[i].cb == cb && l->fds[i].ctx == ctx) {
			l->fds[i].fd = fd;
			l->fds[i].events = events;
			return 0;
		}
	return -ENOENT;
}

void loop_set_bus_state_cb(struct loop *l, loop_bus_state_cb cb, void *ctx)
{
	l->bus_state_cb = cb;
	l->bus_state_ctx = ctx;
}

int loop_catch_signals(struct loop *l, const int *signals, size_t n)
{
	sigset_t set;
	size_t i;
	int fd;

	sigemptyset(&set);
	for (i = 0; i < n; i++)
		sigaddset(&set, signals[i]);
	if (l->sigfd < 0 && sigprocmask(SIG_BLOCK, &set, &l->oldsigs) < 0)
		return -errno;
	if (l->sigfd >= 0 && sigprocmask(SIG_BLOCK, &set, NULL) < 0)
		return -errno;
	for (i = 0; i < n; i++)
		sigaddset(&l->sigs, signals[i]);
	fd = signalfd(l->sigfd, &l->sigs, SFD_NONBLOCK | SFD_CLOEXEC);
	if (fd < 0)
		return -errno;
	l->sigfd = fd;
	return 0;
}

void loop_stop(struct loop *l)
{
	l->stop = true;
}

fota_us loop_next_deadline(const struct loop *l)
{
	fota_us d = FOTA_NEVER;
	size_t i;

	for (i = 0; i < l->nmembers; i++)
		if (l->members[i].ops->deadline)
			d = fota_min_deadline(d, l->members[i].ops->deadline(l->members[i].ctx));
	return d;
}

static int check_bus_state(struct loop *l)
{
	struct bus *bus = l->bus;

	if (bus->state_seq == l->bus_state_seq)
		return 0;
	l->bus_state_seq = bus->state_seq;
	l->bus_state = bus->state;
	if (l->bus_state_cb)
		return l->bus_state_cb(l->bus_state_ctx, bus, bus->state);
	return bus->state == BUS_STATE_BUS_OFF ? -ENETDOWN : 0;
}

static int receive(struct loop *l)
{
	struct bus_frame f;
	size_t i;
	int ret;

	while ((ret = bus_recv(l->bus, &f)) > 0)
		for (i = 0; i < l->nmembers; i++)
			if (l->members[i].ops->input)
				l->members[i].ops->input(l->members[i].ctx, &f, l->now);
	if (ret < 0)
		return ret;
	return check_bus_state(l);
}

/*
 * After -ENOBUFS (the interface's queue is full; CAN_RAW gives no POLLOUT
 * for it): the time for the queue to drain halfway when the backend knows
 * its rate, so that the bus neither idles nor is polled once per frame.
 */
static fota_us retry_us(const struct loop *l)
{
	return l->bus->tx_retry_us ? l->bus->tx_retry_us : LOOP_ENOBUFS_RETRY_US;
}

/* 1: sent (or nothing was pending); 0: still blocked; <0: error. */
static int send_one(struct loop *l, const struct bus_frame *f)
{
	int ret = bus_send(l->bus, f);

	if (ret == 0)
		return 1;
	if (ret == -EAGAIN || ret == -ENOBUFS) {
		if (f != &l->pending) {
			l->pending = *f;
			l->has_pending = true;
		}
		l->retry_at = ret == -ENOBUFS ? l->now + retry_us(l) : 0;
		l->send_waits++;
		return 0;
	}
	l->send_err = ret;
	return ret;
}

/*
 * The frames the backend kept (bus->send_batch) go out together. 1: all
 * out; 0: the queue is full, some still kept (retry as for a pending frame).
 */
static int flush(struct loop *l)
{
	int ret = bus_flush(l->bus);

	l->flush_blocked = false;
	if (ret == 0)
		return 1;
	if (ret == -EAGAIN || ret == -ENOBUFS) {
		l->flush_blocked = true;
		l->retry_at = ret == -ENOBUFS ? l->now + retry_us(l) : 0;
		l->send_waits++;
		return 0;
	}
	l->send_err = ret;
	return ret;
}

static int transmit(struct loop *l)
{
	struct bus_frame f;
	size_t i, sent = 0;
	int ret;

	l->more = false;
	if (l->flush_blocked) {
		if (l->retry_at > l->now)
			return 0;
		ret = flush(l);
		if (ret <= 0)
			return ret;
	}
	if (l->has_pending) {
		if (l->retry_at > l->now)
			return 0;
		ret = send_one(l, &l->pending);
		if (ret <= 0)
			return ret;
		l->has_pending = false;
	}
	for (i = 0; i < l->nmembers; i++) {
		const struct loop_member_ops *ops = l->members[i].ops;

		if (!ops->output)
			continue;
		while (ops->output(l->members[i].ctx, &f, l->now) == 1) {
			ret = send_one(l, &f);
			if (ret <= 0)
				return ret;
			/*
			 * A 4095-byte TransferData is 586 frames: sent in one
			 * pass, an SDO request waits behind all of them. Read
			 * the bus again after LOOP_PASS_FRAMES; the members
			 * earlier in the list (the SDO server) go first again.
			 */
			if (++sent == LOOP_PASS_FRAMES) {
				l->more = true;
				return flush(l) < 0 ? l->send_err : 0;
			}
		}
	}
	return flush(l) < 0 ? l->send_err : 0;
}

static bool any_done(const struct loop *l)
{
	size_t i;

	for (i = 0; i < l->nmembers; i++)
		if (l->members[i].ops->done && l->members[i].ops->done(l->members[i].ctx))
			return true;
	return false;
}

static int read_signal(struct loop *l)
{
	struct signalfd_siginfo si;

	if (read(l->sigfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		l->signo = (int)si.ssi_signo;
		return -EINTR;
	}
	return 0;
}

int loop_run(struct loop *l, fota_us timeout)
{
	struct pollfd pfd[LOOP_MAX_FDS + 3];
	fota_us end, wake;
	struct timespec ts;
	size_t i, n, sigi;
	int ret, busfd = bus_fd(l->bus);

	l->stop = false;
	l->signo = 0;
	l->now = fota_now();
	end = timeout == FOTA_NEVER ? FOTA_NEVER : l->now + timeout;
	for (;;) {
		l->passes++;
		ret = receive(l);
		if (ret < 0)
			return ret;
		for (i = 0; i < l->nmembers; i++)
			if (l->members[i].ops->tick)
				l->members[i].ops->tick(l->members[i].ctx, l->now);
		ret = transmit(l);
		if (ret < 0)
			return ret;
		ret = check_bus_state(l); /* a send may have told the backend too */
		if (ret < 0)
			return ret;
		if (l->stop || any_done(l))
			return 0;

		wake = l->more ? l->now : loop_next_deadline(l);
		if (l->has_pending || l->flush_blocked) {
			/*
			 * The bus refused a frame: the engine's deadline is
			 * most likely the next frame it wants to send, due
			 * now. Waking for it would spin until the queue has
			 * room; the retry time (or POLLOUT) says when, and
			 * every later deadline is looked at again then.
			 */
			wake = l->retry_at ? l->retry_at : l->now + LOOP_ENOBUFS_RETRY_US;
		}
		wake = fota_min_deadline(wake, end);
		n = 0;
		pfd[n].fd = busfd;
		pfd[n].events = POLLIN;
		n++;
		for (i = 0; i < l->nfds; i++, n++) {
			pfd[n].fd = l->fds[i].fd;
			pfd[n].events = l->fds[i].events;
		}
		sigi = n;
		if (l->sigfd >= 0) {
			pfd[n].fd = l->sigfd;
			pfd[n].events = POLLIN;
			n++;
		}
		if ((l->has_pending || l->flush_blocked) && !l->retry_at) {
			/* room to send again: on the bus fd, or where the backend says */
			int txfd = bus_tx_fd(l->bus);

			if (txfd == busfd) {
				pfd[0].events |= POLLOUT;
			} else if (txfd >= 0) {
				pfd[n].fd = txfd;
				pfd[n].events = POLLOUT;
				n++;
			}
		}
		l->now = fota_now();
		if (wake != FOTA_NEVER) {
			fota_us d = wake > l->now ? wake - l->now : 0;

			ts.tv_sec = (time_t)(d / 1000000u);
			ts.tv_nsec = (long)(d % 1000000u) * 1000;
		}
		ret = ppoll(pfd, n, wake == FOTA_NEVER ? NULL : &ts, NULL);
		if (ret < 0 && errno != EINTR)
			return -errno;
		l->now = fota_now();
		if (ret > 0) {
			if (pfd[0].revents & (POLLERR | POLLNVAL))
				return -EIO;
			for (i = 0; i < l->nfds; i++) {
				short rev = pfd[1 + i].revents;

				if (!rev)
					continue;
				ret = l->fds[i].cb(l->fds[i].ctx, l->fds[i].fd, rev, l->now);
				if (ret < 0)
					return ret;
				if (ret > 0)
					l->stop = true;
			}
			if (l->sigfd >= 0 && pfd[sigi].revents) {
				ret = read_signal(l);
				if (ret < 0)
					return ret;
			}
		}
		if (l->stop)
			return 0;
		if (l->now >= end)
			return -ETIMEDOUT;
	}
}
