// SPDX-License-Identifier: MIT
/*
 * "unix:DIR": a virtual CAN bus shared by several processes through Unix
 * datagram sockets in DIR, for machines without kernel CAN (CI, containers).
 * No daemon: every member binds its own socket file DIR/<pid>.<random>.sock
 * and sends each frame to every other member's socket, so each member sees
 * every frame of the others, never its own, as with SocketCAN's defaults.
 *
 * Members are found by scanning DIR; an inotify watch on DIR tells a sender
 * when to scan again (a member joined or left). Each peer gets its own
 * socket connect()ed to it: the kernel then skips the path lookup per frame,
 * keeps per-sender order, and lets poll(POLLOUT) wait for that one peer.
 *
 * Back-pressure: a Unix datagram socket queues only net.unix.max_dgram_qlen
 * (default 10) datagrams; beyond that send() says EAGAIN. A real CAN bus has
 * no back-pressure, but ISO-TP with BS=0 sends hundreds of frames in a burst,
 * so a sender waits (poll POLLOUT) up to send_wait_us (default 100 ms) for a
 * slow receiver to drain. A receiver still full after that is marked
 * congested and its frames are dropped (counted in tx_dropped) without
 * waiting until it accepts one again, so one stopped process cannot stall the
 * bus for everyone.
 *
 * A socket file whose owner died (SIGKILL) refuses connections; the member
 * that meets ECONNREFUSED removes it. Names carry a random part, so a file
 * refusing connections can never belong to a live newcomer.
 *
 * Wire format of one datagram (8 + len bytes, little endian):
 *   [0] version (1)  [1] BUS_FRAME_* flags  [2] len  [3] 0  [4..7] id  [8..] data
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>
#include "core/bus.h"
#include "core/file.h"
#include "core/err.h"
#include "core/time.h"

#define UNIX_WIRE_VERSION 1
#define UNIX_WIRE_HDR	  8
#define UNIX_SUFFIX	  ".sock"
#define UNIX_BUF_BYTES	  (1 << 20)
#define UNIX_WAIT_US	  100000u

struct unix_peer {
	char name[64];
	int fd;
	bool congested;
	bool seen;	/* scan bookkeeping */
	bool has_retry; /* got the frame that is being sent again (send_nowait) */
};

struct unix_bus {
	struct bus bus;
	int fd;	   /* our bound socket: receive */
	int ino;   /* inotify on the directory, or -1 */
	DIR *dir;  /* for scans */
	int dirfd; /* dirfd(dir) */
	char dirpath[sizeof(((struct sockaddr_un *)0)->sun_path)];
	char self[64];
	struct unix_peer *peers;
	size_t npeers, cappeers;
	bool rescan;
	uint32_t wait_us;
	/* send_nowait: the frame some members' full queues refused, sent again */
	bool retry;
	uint8_t retry_buf[UNIX_WIRE_HDR + 64];
	size_t retry_len;
	fota_us retry_since;
	int wait_fd; /* the first member with a full queue, for bus_tx_fd() */
	struct bus_soft_filter filter;
};

static int err_out(char *err, size_t errsize, int ret, const char *dir, const char *what)
{
	if (err && errsize)
		snprintf(err, errsize, "unix:%s: %s: %s", dir, what, strerror(-ret));
	return ret;
}

/*
 * sun_path holds 107 characters. A long DIR is reached through our open
 * directory fd instead (/proc/self/fd/N/name), which Linux resolves.
 */
static int peer_addr(const struct unix_bus *u, const char *name, struct sockaddr_un *sa)
{
	int n;

	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	n = snprintf(sa->sun_path, sizeof(sa->sun_path), "%s/%s", u->dirpath, name);
	if (n < 0 || (size_t)n >= sizeof(sa->sun_path))
		return -ENAMETOOLONG;
	return 0;
}

static void peer_drop(struct unix_bus *u, size_t i)
{
	close(u->peers[i].fd);
	u->peers[i] = u->peers[--u->npeers];
}

static int peer_connect(struct unix_bus *u, const char *name)
{
	struct sockaddr_un sa;
	struct unix_peer *p;
	int fd, size = UNIX_BUF_BYTES;

	if (peer_addr(u, name, &sa) < 0)
		return 0;
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof(size));
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int e = errno;

		close(fd);
		/* nobody is bound there: the owner died without cleaning up */
		if (e == ECONNREFUSED)
			unlinkat(u->dirfd, name, 0);
		return 0; /* ENOENT etc.: it left while we looked */
	}
	if (u->npeers == u->cappeers) {
		size_t cap = u->cappeers ? u->cappeers * 2 : 8;

		p = realloc(u->peers, cap * sizeof(*p));
		if (!p) {
			close(fd);
			return -ENOMEM;
		}
		u->peers = p;
		u->cappeers = cap;
	}
	p = &u->peers[u->npeers++];
	memset(p, 0, sizeof(*p));
	memcpy(p->name, name, strlen(name) + 1); /* scan() checked the length */
	p->fd = fd;
	p->seen = true;
	return 0;
}

static int scan(struct unix_bus *u)
{
	struct dirent *de;
	size_t i, len, sl = strlen(UNIX_SUFFIX);
	int ret = 0;

	u->rescan = false;
	for (i = 0; i < u->npeers; i++)
		u->peers[i].seen = false;
	rewinddir(u->dir);
	while ((de = readdir(u->dir))) {
		len = strlen(de->d_name);
		if (len <= sl || len >= sizeof(u->peers[0].name) ||
		    strcmp(de->d_name + len - sl, UNIX_SUFFIX) || !strcmp(de->d_name, u->self))
			continue;
		for (i = 0; i < u->npeers; i++)
			if (!strcmp(u->peers[i].name, de->d_name))
				break;
		if (i < u->npeers) {
			u->peers[i].seen = true;
			continue;
		}
		ret = peer_connect(u, de->d_name);
		if (ret < 0)
			break;
	}
	for (i = u->npeers; i-- > 0;)
		if (!u->peers[i].seen)
			peer_drop(u, i);
	return ret;
}

/* Has anyone joined or left since the last scan? (one read() when not) */
static void check_dir(struct unix_bus *u)
{
	char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));

	if (u->ino < 0) {
		u->rescan = true; /* no inotify: scan on every send */
		return;
	}
	while (read(u->ino, buf, sizeof(buf)) > 0)
		u->rescan = true;
}

/*
 * Deliver to one peer. 0 (sent, or dropped for a congested peer), -EAGAIN
 * (send_nowait: its queue is full, try again later), -ECONNREFUSED (gone).
 * start: when this frame first met a full queue (0: not yet), kept across
 * the loop's retries so that the congestion limit counts from then.
 */
static int send_peer(struct unix_bus *u, size_t i, const uint8_t *buf, size_t len, fota_us *start)
{
	struct unix_peer *p = &u->peers[i];
	fota_us now;
	struct pollfd pfd;

	for (;;) {
		if (send(p->fd, buf, len, MSG_DONTWAIT | MSG_NOSIGNAL) >= 0) {
			p->congested = false;
			return 0;
		}
		switch (errno) {
		case EINTR:
			continue;
		case EAGAIN:
			break;
		case ECONNREFUSED:
		case ECONNRESET:
		case ENOTCONN:
		case EPIPE:
		case ENOENT:
			/* the peer closed; rescan to see whether the file is stale */
			u->rescan = true;
			return -ECONNREFUSED;
		default:
			u->bus.tx_dropped++;
			return 0;
		}
		if (p->congested)
			goto drop;
		now = fota_now();
		if (!*start)
			*start = now;
		if (now - *start >= u->wait_us) {
			p->congested = true;
			goto drop;
		}
		if (u->bus.send_nowait)
			return -EAGAIN;
		pfd.fd = p->fd;
		pfd.events = POLLOUT;
		poll(&pfd, 1, (int)((u->wait_us - (now - *start) + 999) / 1000));
	}
drop:
	u->bus.tx_dropped++;
	return 0;
}

static int unix_send(struct bus *bus, const struct bus_frame *f)
{
	struct unix_bus *u = fota_container_of(bus, struct unix_bus, bus);
	uint8_t buf[UNIX_WIRE_HDR + 64];
	size_t i, len = UNIX_WIRE_HDR + f->len;
	int ret;

	buf[0] = UNIX_WIRE_VERSION;
	buf[1] = f->flags;
	buf[2] = f->len;
	buf[3] = 0;
	buf[4] = (uint8_t)f->id;
	buf[5] = (uint8_t)(f->id >> 8);
	buf[6] = (uint8_t)(f->id >> 16);
	buf[7] = (uint8_t)(f->id >> 24);
	memcpy(buf + UNIX_WIRE_HDR, f->data, f->len);

	check_dir(u);
	if (u->rescan) {
		ret = scan(u);
		if (ret < 0)
			return ret;
	}
	/*
	 * With send_nowait, a full queue does not block the sender: the other
	 * members get the frame now, and -EAGAIN makes the loop wait for room
	 * in that member's queue (POLLOUT on bus_tx_fd(), reading the bus
	 * meanwhile) and send it again: then only to the members that did not
	 * get it yet.
	 */
	if (!u->retry || u->retry_len != len || memcmp(u->retry_buf, buf, len)) {
		u->retry = false;
		u->retry_since = 0;
		for (i = 0; i < u->npeers; i++)
			u->peers[i].has_retry = false;
	}
	ret = 0;
	for (i = u->npeers; i-- > 0;) {
		int r;

		if (u->retry && u->peers[i].has_retry)
			continue;
		r = send_peer(u, i, buf, len, &u->retry_since);
		if (r == -ECONNREFUSED)
			peer_drop(u, i); /* the next scan reconnects or removes a stale file */
		else if (r == -EAGAIN) {
			ret = -EAGAIN;
			u->wait_fd = u->peers[i].fd;
		} else
			u->peers[i].has_retry = true;
	}
	u->retry = ret != 0;
	if (u->retry) {
		memcpy(u->retry_buf, buf, len);
		u->retry_len = len;
	}
	return ret;
}

static int decode(const uint8_t *buf, size_t n, struct bus_frame *f)
{
	memset(f, 0, sizeof(*f));
	if (n < UNIX_WIRE_HDR || buf[0] != UNIX_WIRE_VERSION || buf[3] != 0)
		return -EPROTO;
	f->flags = buf[1];
	f->len = buf[2];
	f->id = (uint32_t)buf[4] | (uint32_t)buf[5] << 8 | (uint32_t)buf[6] << 16 |
		(uint32_t)buf[7] << 24;
	if (f->len > 64 || n != UNIX_WIRE_HDR + (size_t)f->len)
		return -EPROTO;
	memcpy(f->data, buf + UNIX_WIRE_HDR, f->len);
	return bus_frame_valid(f) ? 0 : -EPROTO;
}

static int unix_recv(struct bus *bus, struct bus_frame *f)
{
	struct unix_bus *u = fota_container_of(bus, struct unix_bus, bus);
	uint8_t buf[UNIX_WIRE_HDR + 64 + 1];
	ssize_t n;

	for (;;) {
		n = recv(u->fd, buf, sizeof(buf), MSG_DONTWAIT | MSG_TRUNC);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN)
				return 0;
			return -errno;
		}
		if ((size_t)n > sizeof(buf) || decode(buf, (size_t)n, f) < 0) {
			bus->rx_dropped++; /* not one of ours: ignore, as a CAN controller would */
			continue;
		}
		if ((f->flags & BUS_FRAME_FD) && !bus->fd)
			continue; /* classic-only member: CAN FD frames are not for it */
		if (!bus_soft_filter_match(&u->filter, f))
			continue;
		return 1;
	}
}

static int unix_fd(struct bus *bus)
{
	return fota_container_of(bus, struct unix_bus, bus)->fd;
}

static int unix_set_filter(struct bus *bus, const uint32_t *ids, size_t n)
{
	struct unix_bus *u = fota_container_of(bus, struct unix_bus, bus);

	return bus_soft_filter_set(&u->filter, ids, n);
}

static void unix_close(struct bus *bus)
{
	struct unix_bus *u = fota_container_of(bus, struct unix_bus, bus);

	while (u->npeers)
		peer_drop(u, u->npeers - 1);
	free(u->peers);
	if (u->fd >= 0) {
		close(u->fd);
		unlinkat(u->dirfd, u->self, 0);
	}
	if (u->ino >= 0)
		close(u->ino);
	if (u->dir)
		closedir(u->dir);
	free(u);
}

static int unix_tx_fd(struct bus *bus)
{
	struct unix_bus *u = fota_container_of(bus, struct unix_bus, bus);

	return u->retry ? u->wait_fd : u->fd;
}

static const struct bus_ops unix_ops = {
	.tx_fd = unix_tx_fd,
	.send = unix_send,
	.recv = unix_recv,
	.fd = unix_fd,
	.set_filter = unix_set_filter,
	.close = unix_close,
};

int bus_unix_set_send_wait(struct bus *bus, uint32_t wait_us)
{
	if (!bus || bus->ops != &unix_ops)
		return -EINVAL;
	fota_container_of(bus, struct unix_bus, bus)->wait_us = wait_us;
	return 0;
}

int bus_unix_socket_path(struct bus *bus, char *buf, size_t size)
{
	struct unix_bus *u;
	int n;

	if (!bus || bus->ops != &unix_ops)
		return -EINVAL;
	u = fota_container_of(bus, struct unix_bus, bus);
	n = snprintf(buf, size, "%s/%s", u->dirpath, u->self);
	return n < 0 || (size_t)n >= size ? -ENAMETOOLONG : 0;
}

static int no_member(char *err, size_t errsize, const char *dir)
{
	if (err && errsize)
		snprintf(err, errsize, "no other member on unix:%s", dir);
	return -ENOTCONN;
}

int bus_unix_open(struct bus **bus, const char *dir, const struct bus_opts *opts, char *err,
		  size_t errsize)
{
	struct sockaddr_un sa;
	struct unix_bus *u;
	struct stat st;
	uint64_t rnd = 0;
	int ret, size = UNIX_BUF_BYTES;

	u = calloc(1, sizeof(*u));
	if (!u)
		return -ENOMEM;
	u->fd = u->ino = -1;
	u->bus.ops = &unix_ops;
	u->bus.fd = opts->fd;
	u->wait_us = UNIX_WAIT_US;
	snprintf(u->bus.name, sizeof(u->bus.name), "unix:%s", dir);

	/* a client makes no directory: nobody is there to answer it */
	if (opts->join != BUS_JOIN_MAKE && stat(dir, &st) < 0 && errno == ENOENT) {
		ret = no_member(err, errsize, dir);
		goto fail;
	}
	ret = opts->join == BUS_JOIN_MAKE ? fota_mkdir_p(dir, 0777) : 0;
	if (ret < 0) {
		ret = err_out(err, errsize, ret, dir,
			      ret == -ENOTDIR ? "not a directory" : "cannot create directory");
		goto fail;
	}
	if (stat(dir, &st) < 0 || !S_ISDIR(st.st_mode)) {
		ret = err_out(err, errsize, -ENOTDIR, dir, "not a directory");
		goto fail;
	}
	u->dir = opendir(dir);
	if (!u->dir) {
		ret = err_out(err, errsize, -errno, dir, "cannot open directory");
		goto fail;
	}
	u->dirfd = dirfd(u->dir);
	/* short paths are used as given; long ones through the fd (see peer_addr) */
	if (strlen(dir) + 48 < sizeof(u->dirpath))
		snprintf(u->dirpath, sizeof(u->dirpath), "%s", dir);
	else
		snprintf(u->dirpath, sizeof(u->dirpath), "/proc/self/fd/%d", u->dirfd);

	u->ino = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (u->ino >= 0 &&
	    inotify_add_watch(u->ino, dir, IN_CREATE | IN_DELETE | IN_MOVED_FROM | IN_MOVED_TO) <
		    0) {
		close(u->ino);
		u->ino = -1;
	}

	if (getrandom(&rnd, sizeof(rnd), GRND_NONBLOCK) != sizeof(rnd))
		rnd ^= fota_now() * 0x9e3779b97f4a7c15ull ^ (uint64_t)(uintptr_t)u;
	snprintf(u->self, sizeof(u->self), "%ld.%016llx%s", (long)getpid(), (unsigned long long)rnd,
		 UNIX_SUFFIX);

	u->fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (u->fd < 0) {
		ret = err_out(err, errsize, -errno, dir, "socket");
		goto fail;
	}
	setsockopt(u->fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
	ret = peer_addr(u, u->self, &sa);
	if (ret < 0 || bind(u->fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		ret = err_out(err, errsize, ret < 0 ? ret : -errno, dir, "cannot bind a socket");
		close(u->fd);
		u->fd = -1;
		goto fail;
	}
	/* a member joining sees the others at once (it is on their next scan) */
	ret = scan(u);
	if (ret < 0) {
		err_out(err, errsize, ret, dir, "scan");
		goto fail;
	}
	/*
	 * Reliable at once: scan() connected to every socket file, and the
	 * file of a dead member refuses the connection (and is removed).
	 */
	if (opts->join == BUS_JOIN_PEER && !u->npeers) {
		ret = no_member(err, errsize, dir);
		goto fail;
	}
	*bus = &u->bus;
	return 0;
fail:
	unix_close(&u->bus);
	return ret;
}
