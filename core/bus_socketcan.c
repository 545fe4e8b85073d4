// SPDX-License-Identifier: MIT
/*
 * SocketCAN backend: one non-blocking CAN_RAW socket bound to an interface
 * (Linux Documentation/networking/can.rst, "RAW protocol sockets"). The only
 * file that includes <linux/can.h>: struct bus_frame <-> can(fd)_frame here.
 *
 * Receive filters use CAN_RAW_FILTER (done in the kernel). CAN FD is opt-in
 * (CAN_RAW_FD_FRAMES, interface MTU must be CANFD_MTU). Error frames are
 * subscribed (CAN_RAW_ERR_FILTER) and turned into bus->state (bus-off,
 * error-passive, ...) instead of being handed out as frames.
 */
#include <errno.h>
#include <net/if.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>
#include <linux/can.h>
#include <linux/can/error.h>
#include <linux/can/raw.h>
#include <linux/if_arp.h>
#include "core/bus.h"
#include "core/canif.h"
#include "core/err.h"

/*
 * Receive buffer asked for (the kernel doubles it for its bookkeeping). A
 * CAN frame costs one skb, about 1 KiB of buffer accounting, and the
 * default (net.core.rmem_default, 208 KiB) holds a few hundred: a burst on
 * vcan, which has no flow control, or a busy real bus while we are slow,
 * overflows it and the kernel drops frames silently. 2 MiB holds several
 * thousand: more than the longest ISO-TP block we ever leave unread.
 */
#define SC_RCVBUF (2 << 20)

/*
 * Frames per sendmmsg()/recvmmsg(). A block of consecutive frames the ISO-TP
 * engine releases in one pass (STmin 0) goes out in one system call instead
 * of one write() each; a receiver that wakes late reads what arrived
 * meanwhile in one call. 32 frames: 2.3 KiB of classic frames in flight,
 * and more than the 10 a typical tx queue holds.
 */
#define SC_BATCH 32

struct sc_bus {
	struct bus bus;
	int fd;
	char ifname[IFNAMSIZ];
	/* kept by send() until flush() (bus.send_batch) */
	struct canfd_frame tx[SC_BATCH];
	unsigned tx_len[SC_BATCH];
	unsigned ntx;
	/* read by one recvmmsg(), handed out one by one */
	struct canfd_frame rx[SC_BATCH];
	unsigned rx_len[SC_BATCH];
	unsigned nrx, rx_next;
	/*
	 * The filter again, in software: CAN_RAW_FILTER applies to frames that
	 * arrive after setsockopt(), not to those already queued since bind()
	 * (a client that sets its filter after opening would otherwise read
	 * another node's frame first; seen in t3000 under load).
	 */
	struct bus_soft_filter sf;
};

/* -EAGAIN, -ENOBUFS or -errno for a send that failed with errno e. */
static int send_errno(int e)
{
	/*
	 * EAGAIN: the socket's send buffer is full (POLLOUT signals room).
	 * ENOBUFS: the interface's tx queue is full; CAN_RAW does not block
	 * on it and POLLOUT stays set, so the caller retries after a pause.
	 */
	if (e == EWOULDBLOCK)
		return -EAGAIN;
	return -e;
}

/* All kept frames out with sendmmsg(), in order; what the queue refused stays. */
static int sc_flush(struct bus *bus)
{
	struct sc_bus *s = fota_container_of(bus, struct sc_bus, bus);
	struct mmsghdr msg[SC_BATCH];
	struct iovec iov[SC_BATCH];
	unsigned i;
	int n;

	while (s->ntx) {
		memset(msg, 0, sizeof(msg[0]) * s->ntx);
		for (i = 0; i < s->ntx; i++) {
			iov[i].iov_base = &s->tx[i];
			iov[i].iov_len = s->tx_len[i];
			msg[i].msg_hdr.msg_iov = &iov[i];
			msg[i].msg_hdr.msg_iovlen = 1;
		}
		n = sendmmsg(s->fd, msg, s->ntx, MSG_DONTWAIT);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return send_errno(errno);
		}
		/* a short count: the next frame failed; the next call says why */
		s->ntx -= (unsigned)n;
		memmove(&s->tx[0], &s->tx[n], sizeof(s->tx[0]) * s->ntx);
		memmove(&s->tx_len[0], &s->tx_len[n], sizeof(s->tx_len[0]) * s->ntx);
	}
	return 0;
}

static int sc_send(struct bus *bus, const struct bus_frame *f)
{
	struct sc_bus *s = fota_container_of(bus, struct sc_bus, bus);
	struct canfd_frame cf;
	size_t mtu = CAN_MTU;
	ssize_t n;
	int ret;

	memset(&cf, 0, sizeof(cf));
	cf.can_id = f->id;
	if (f->flags & BUS_FRAME_EFF)
		cf.can_id |= CAN_EFF_FLAG;
	if (f->flags & BUS_FRAME_RTR)
		cf.can_id |= CAN_RTR_FLAG;
	cf.len = f->len;
	memcpy(cf.data, f->data, f->len);
	if (f->flags & BUS_FRAME_FD) {
		mtu = CANFD_MTU;
		if (f->flags & BUS_FRAME_BRS)
			cf.flags |= CANFD_BRS;
		if (f->flags & BUS_FRAME_ESI)
			cf.flags |= CANFD_ESI;
	}
	if (bus->send_batch) {
		/* a full batch goes out first; a frame that finds no room is refused */
		if (s->ntx == SC_BATCH && (ret = sc_flush(bus)) < 0 && s->ntx == SC_BATCH)
			return ret;
		s->tx[s->ntx] = cf;
		s->tx_len[s->ntx++] = (unsigned)mtu;
		return 0;
	}
	if (s->ntx && (ret = sc_flush(bus)) < 0)
		return ret; /* kept frames first: the order on the bus is the order sent */
	n = write(s->fd, &cf, mtu);
	if (n == (ssize_t)mtu)
		return 0;
	if (n >= 0)
		return -EIO;
	return send_errno(errno);
}

/*
 * A large receive buffer: SO_RCVBUFFORCE passes net.core.rmem_max when we
 * have CAP_NET_ADMIN; else SO_RCVBUF, which the kernel caps at rmem_max.
 * Not fatal: the default buffer works, only bursts may lose frames.
 */
static void set_rcvbuf(int fd)
{
	int size = SC_RCVBUF;

	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof(size)) < 0)
		(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
}

/* CAN_ERR_* frames (linux/can/error.h) -> controller state, never a frame. */
static void error_frame(struct sc_bus *s, const struct can_frame *cf)
{
	enum bus_state st = s->bus.state;

	s->bus.err_frames++;
	if (cf->can_id & CAN_ERR_BUSOFF)
		st = BUS_STATE_BUS_OFF;
	else if (cf->can_id & CAN_ERR_RESTARTED)
		st = BUS_STATE_ERROR_ACTIVE;
	if (cf->can_id & CAN_ERR_CRTL) {
		uint8_t d = cf->data[1];

		if (d & (CAN_ERR_CRTL_RX_PASSIVE | CAN_ERR_CRTL_TX_PASSIVE))
			st = BUS_STATE_ERROR_PASSIVE;
		else if (d & (CAN_ERR_CRTL_RX_WARNING | CAN_ERR_CRTL_TX_WARNING))
			st = BUS_STATE_ERROR_WARNING;
		else if (d & CAN_ERR_CRTL_ACTIVE)
			st = BUS_STATE_ERROR_ACTIVE;
	}
	if (st != s->bus.state) {
		s->bus.state = st;
		s->bus.state_seq++;
	}
}

/* Refill the receive batch: 1 frames read, 0 none pending, -errno. */
static int rx_fill(struct sc_bus *s)
{
	struct mmsghdr msg[SC_BATCH];
	struct iovec iov[SC_BATCH];
	unsigned i;
	int n;

	memset(msg, 0, sizeof(msg));
	for (i = 0; i < SC_BATCH; i++) {
		iov[i].iov_base = &s->rx[i];
		iov[i].iov_len = sizeof(s->rx[i]);
		msg[i].msg_hdr.msg_iov = &iov[i];
		msg[i].msg_hdr.msg_iovlen = 1;
	}
	for (;;) {
		n = recvmmsg(s->fd, msg, SC_BATCH, MSG_DONTWAIT, NULL);
		if (n >= 0)
			break;
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN || errno == EWOULDBLOCK)
			return 0;
		/* ENETDOWN: interface went down; a real condition for the caller */
		return -errno;
	}
	for (i = 0; i < (unsigned)n; i++)
		s->rx_len[i] = msg[i].msg_len;
	s->nrx = (unsigned)n;
	s->rx_next = 0;
	return n > 0;
}

static int sc_recv(struct bus *bus, struct bus_frame *f)
{
	struct sc_bus *s = fota_container_of(bus, struct sc_bus, bus);
	struct canfd_frame cf;
	ssize_t n;
	int ret;

	for (;;) {
		if (s->rx_next == s->nrx && (ret = rx_fill(s)) <= 0)
			return ret;
		cf = s->rx[s->rx_next];
		n = (ssize_t)s->rx_len[s->rx_next++];
		if (n != CAN_MTU && n != CANFD_MTU)
			continue;
		if (cf.can_id & CAN_ERR_FLAG) {
			error_frame(s, (const struct can_frame *)&cf);
			continue;
		}
		memset(f, 0, sizeof(*f));
		if (cf.can_id & CAN_EFF_FLAG) {
			f->flags |= BUS_FRAME_EFF;
			f->id = cf.can_id & CAN_EFF_MASK;
		} else {
			f->id = cf.can_id & CAN_SFF_MASK;
		}
		if (n == CANFD_MTU) {
			f->flags |= BUS_FRAME_FD;
			if (cf.flags & CANFD_BRS)
				f->flags |= BUS_FRAME_BRS;
			if (cf.flags & CANFD_ESI)
				f->flags |= BUS_FRAME_ESI;
			f->len = cf.len > CANFD_MAX_DLEN ? CANFD_MAX_DLEN : cf.len;
		} else {
			if (cf.can_id & CAN_RTR_FLAG)
				f->flags |= BUS_FRAME_RTR;
			f->len = cf.len > CAN_MAX_DLEN ? CAN_MAX_DLEN : cf.len;
		}
		memcpy(f->data, cf.data, f->len);
		if (!bus_soft_filter_match(&s->sf, f))
			continue; /* queued before the filter was set */
		return 1;
	}
}

static int sc_fd(struct bus *bus)
{
	return fota_container_of(bus, struct sc_bus, bus)->fd;
}

static int sc_set_filter(struct bus *bus, const uint32_t *ids, size_t n)
{
	struct sc_bus *s = fota_container_of(bus, struct sc_bus, bus);
	struct can_filter flt[BUS_FILTER_MAX];
	size_t i;

	if (n > BUS_FILTER_MAX)
		return -EINVAL;
	if (bus_soft_filter_set(&s->sf, ids, n) < 0)
		return -EINVAL;
	if (n == 0) {
		/* the default: everything */
		flt[0].can_id = 0;
		flt[0].can_mask = 0;
		if (setsockopt(s->fd, SOL_CAN_RAW, CAN_RAW_FILTER, flt, sizeof(flt[0])) < 0)
			return -errno;
		return 0;
	}
	for (i = 0; i < n; i++) {
		uint32_t id = bus_filter_norm(ids[i]);

		/* exact id, frame format included; remote frames excluded */
		if (id & BUS_FILTER_EFF) {
			flt[i].can_id = (id & CAN_EFF_MASK) | CAN_EFF_FLAG;
			flt[i].can_mask = CAN_EFF_MASK | CAN_EFF_FLAG | CAN_RTR_FLAG;
		} else {
			flt[i].can_id = id;
			flt[i].can_mask = CAN_SFF_MASK | CAN_EFF_FLAG | CAN_RTR_FLAG;
		}
	}
	if (setsockopt(s->fd, SOL_CAN_RAW, CAN_RAW_FILTER, flt, (socklen_t)(n * sizeof(flt[0]))) <
	    0)
		return -errno;
	return 0;
}

static void sc_close(struct bus *bus)
{
	struct sc_bus *s = fota_container_of(bus, struct sc_bus, bus);

	if (s->fd >= 0) {
		(void)sc_flush(bus); /* what the loop kept, once more, best effort */
		close(s->fd);
	}
	free(s);
}

static const struct bus_ops sc_ops = {
	.send = sc_send,
	.recv = sc_recv,
	.fd = sc_fd,
	.set_filter = sc_set_filter,
	.close = sc_close,
	.flush = sc_flush,
};

/*
 * How long a full transmit queue takes to drain halfway: txqueuelen / 2
 * frames at the rate the interface sends, from a rate-limiting root qdisc
 * (tbf: 16 bytes per classic frame) or the controller's bitrate (111 bit
 * times per 8-byte frame, no stuffing: a retry rather early than late).
 * 0 when the rate is unknown (the loop's default pause then).
 */
static uint32_t tx_retry_us(struct sc_bus *s)
{
	struct canif_info info;
	struct ifreq ifr;
	uint64_t rate = 0, frame_ns = 0, qlen = 10;

	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", s->ifname);
	if (ioctl(s->fd, SIOCGIFTXQLEN, &ifr) == 0 && ifr.ifr_qlen > 0)
		qlen = (uint64_t)ifr.ifr_qlen;
	if (canif_tx_rate(s->ifname, &rate) == 0 && rate)
		frame_ns = CAN_MTU * 1000000000ull / rate;
	if (!frame_ns && canif_get_info(s->ifname, &info, NULL, 0) == 0 && info.bitrate)
		frame_ns = 111 * 1000000000ull / info.bitrate;
	if (!frame_ns)
		return 0;
	frame_ns *= qlen / 2 ? qlen / 2 : 1;
	if (frame_ns < 50000)
		frame_ns = 50000; /* a queue that drains this fast hardly ever fills */
	if (frame_ns > 20000000)
		frame_ns = 20000000;
	return (uint32_t)(frame_ns / 1000);
}

static int fail(struct sc_bus *s, char *err, size_t errsize, int ret, const char *msg)
{
	if (err && errsize)
		snprintf(err, errsize, "%s: %s", s->ifname, msg ? msg : strerror(-ret));
	sc_close(&s->bus);
	return ret;
}

int bus_socketcan_open(struct bus **bus, const char *ifname, const struct bus_opts *opts, char *err,
		       size_t errsize)
{
	struct sockaddr_can addr;
	struct sc_bus *s;
	struct ifreq ifr;
	can_err_mask_t emask =
		CAN_ERR_TX_TIMEOUT | CAN_ERR_CRTL | CAN_ERR_BUSOFF | CAN_ERR_RESTARTED;
	int on = 1, ret;
	unsigned idx;

	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->fd = -1;
	s->bus.ops = &sc_ops;
	snprintf(s->ifname, sizeof(s->ifname), "%s", ifname);
	snprintf(s->bus.name, sizeof(s->bus.name), "%s", ifname);
	bus_set_trace_if(&s->bus, ifname);

	s->fd = socket(PF_CAN, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, CAN_RAW);
	if (s->fd < 0) {
		ret = -errno;
		if (ret == -EAFNOSUPPORT)
			return fail(s, err, errsize, ret,
				    "kernel has no SocketCAN (AF_CAN); try 'modprobe can-raw', or "
				    "use a unix:DIR bus");
		return fail(s, err, errsize, ret, NULL);
	}
	set_rcvbuf(s->fd);
	idx = if_nametoindex(ifname);
	if (!idx)
		return fail(s, err, errsize, -ENODEV, "no such CAN interface");
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	if (ioctl(s->fd, SIOCGIFHWADDR, &ifr) == 0 && ifr.ifr_hwaddr.sa_family != ARPHRD_CAN)
		return fail(s, err, errsize, -ENODEV, "not a CAN interface");

	if (opts->bitrate || opts->data_bitrate) {
		ret = canif_set_bitrate(ifname, opts->bitrate, opts->data_bitrate, err, errsize);
		if (ret < 0) {
			sc_close(&s->bus);
			return ret; /* err already says why */
		}
	}
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	if (ioctl(s->fd, SIOCGIFFLAGS, &ifr) == 0 && !(ifr.ifr_flags & IFF_UP)) {
		char msg[96];

		snprintf(msg, sizeof(msg), "interface is down (ip link set %s up)", ifname);
		return fail(s, err, errsize, -ENETDOWN, msg);
	}
	if (opts->fd) {
		memset(&ifr, 0, sizeof(ifr));
		snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
		if (ioctl(s->fd, SIOCGIFMTU, &ifr) < 0 || ifr.ifr_mtu != CANFD_MTU)
			return fail(s, err, errsize, -EOPNOTSUPP,
				    "interface is not in CAN FD mode (mtu is not 72)");
		if (setsockopt(s->fd, SOL_CAN_RAW, CAN_RAW_FD_FRAMES, &on, sizeof(on)) < 0)
			return fail(s, err, errsize, -errno, "cannot enable CAN FD frames");
		s->bus.fd = true;
	}
	if (setsockopt(s->fd, SOL_CAN_RAW, CAN_RAW_ERR_FILTER, &emask, sizeof(emask)) < 0)
		return fail(s, err, errsize, -errno, "cannot subscribe to error frames");

	memset(&addr, 0, sizeof(addr));
	addr.can_family = AF_CAN;
	addr.can_ifindex = (int)idx;
	if (bind(s->fd, (struct sockaddr *)&addr, sizeof(addr)) < 0)
		return fail(s, err, errsize, -errno, NULL);
	s->bus.tx_retry_us = tx_retry_us(s);
	*bus = &s->bus;
	return 0;
}
