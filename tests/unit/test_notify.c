// SPDX-License-Identifier: MIT
/*
 * Unit tests of core/notify.c against a real unix datagram socket that the
 * test binds, as systemd does, with $NOTIFY_SOCKET pointing at it. The
 * watchdog member runs in virtual time (tests/sim): a recorder member beside
 * it drains the socket at every instant, so each ping is seen at the virtual
 * time it was sent.
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include "tests/sim/bus_mem.h"
#include "core/notify.h"
#include "tests/sim/sim.h"
#include "tests/unit/t.h"

struct listener {
	int fd;
	char path[64];
};

/* Bind the receiving end: a path under /tmp, or an abstract name ("@..."). */
static void listen_on(struct listener *l, bool abstract)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	socklen_t len;
	int on = 1;

	if (abstract)
		snprintf(l->path, sizeof(l->path), "@fota-test-notify-%d", (int)getpid());
	else
		snprintf(l->path, sizeof(l->path), "/tmp/fota-test-notify-%d.sock", (int)getpid());
	memcpy(a.sun_path, l->path, strlen(l->path));
	if (abstract)
		a.sun_path[0] = '\0';
	else
		unlink(l->path);
	len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + strlen(l->path));
	l->fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (l->fd < 0 || bind(l->fd, (struct sockaddr *)&a, len) < 0 ||
	    setsockopt(l->fd, SOL_SOCKET, SO_PASSCRED, &on, sizeof(on)) < 0)
		abort();
	setenv("NOTIFY_SOCKET", l->path, 1);
	unsetenv("WATCHDOG_USEC");
	unsetenv("WATCHDOG_PID");
}

static void listen_end(struct listener *l)
{
	close(l->fd);
	if (l->path[0] == '/')
		unlink(l->path);
}

/*
 * The next datagram, without waiting (a local unix sendto() has queued it
 * before it returns): 1 and buf filled, 0 if none. The sender must be this
 * process: systemd's NotifyAccess=main checks the same credentials.
 */
static int take(struct listener *l, char *buf, size_t size)
{
	union {
		struct cmsghdr h;
		char b[CMSG_SPACE(sizeof(struct ucred))];
	} c;
	struct iovec iov = { .iov_base = buf, .iov_len = size - 1 };
	struct msghdr m = {
		.msg_iov = &iov, .msg_iovlen = 1, .msg_control = &c, .msg_controllen = sizeof(c)
	};
	struct cmsghdr *h;
	ssize_t r = recvmsg(l->fd, &m, MSG_DONTWAIT);

	if (r < 0) {
		T_EQ(errno, EAGAIN);
		return 0;
	}
	buf[r] = '\0';
	h = CMSG_FIRSTHDR(&m);
	T_TRUE(h && h->cmsg_type == SCM_CREDENTIALS);
	if (h && h->cmsg_type == SCM_CREDENTIALS) {
		struct ucred cr;

		memcpy(&cr, CMSG_DATA(h), sizeof(cr));
		T_EQ(cr.pid, getpid());
	}
	return 1;
}

#define T_TAKE(l, want)                                     \
	do {                                                \
		char t_buf_[512] = "";                      \
		T_EQ(take((l), t_buf_, sizeof(t_buf_)), 1); \
		T_EQ_STR(t_buf_, want);                     \
	} while (0)
#define T_NONE(l)                                           \
	do {                                                \
		char t_buf_[512] = "";                      \
		T_EQ(take((l), t_buf_, sizeof(t_buf_)), 0); \
	} while (0)

static void check_messages(bool abstract)
{
	struct listener l;
	struct fota_notify n;

	listen_on(&l, abstract);
	T_OK(fota_notify_init(&n));
	T_TRUE(n.on);
	T_TRUE(!fota_notify_watchdog(&n));
	/* taken out of the environment: a cmd: key program does not inherit it */
	T_TRUE(!getenv("NOTIFY_SOCKET"));
	T_OK(fota_notify_status(&n, "update_status 0x%02x: %s", 0x10,
				"waiting for OEM health verification"));
	T_OK(fota_notify_ready(&n));
	T_TAKE(&l, "STATUS=update_status 0x10: waiting for OEM health verification");
	T_TAKE(&l, "READY=1");
	T_NONE(&l);
	T_OK(fota_notify_stopping(&n));
	T_TAKE(&l, "STOPPING=1");
	T_EQ(n.sent, 3);
	T_EQ(n.failed, 0);
	fota_notify_release(&n);
	listen_end(&l);
}

static void test_notify__ready_status_stopping_path(void)
{
	check_messages(false);
}

static void test_notify__ready_status_stopping_abstract(void)
{
	check_messages(true);
}

/* A STATUS= is sent when it changes only, and a newline cannot start an assignment. */
static void test_notify__status_once_per_change_one_line(void)
{
	struct listener l;
	struct fota_notify n;

	listen_on(&l, false);
	T_OK(fota_notify_init(&n));
	T_OK(fota_notify_status(&n, "update_status 0x%02x: %s", 0, "idle"));
	T_OK(fota_notify_status(&n, "update_status 0x%02x: %s", 0, "idle"));
	T_TAKE(&l, "STATUS=update_status 0x00: idle");
	T_NONE(&l);
	T_OK(fota_notify_status(&n, "update %s offered", "x\nREADY=1"));
	T_TAKE(&l, "STATUS=update x READY=1 offered");
	T_OK(fota_notify_status(&n, "update_status 0x%02x: %s", 0, "idle"));
	T_TAKE(&l, "STATUS=update_status 0x00: idle");
	fota_notify_release(&n);
	listen_end(&l);
}

/* Nobody listening (the receiver went away): the error is returned and counted. */
static void test_notify__send_error_reported(void)
{
	struct listener l;
	struct fota_notify n;

	listen_on(&l, false);
	T_OK(fota_notify_init(&n));
	listen_end(&l);
	T_ERR(fota_notify_ready(&n), -ENOENT);
	T_EQ(n.failed, 1);
	T_EQ(n.last_err, -ENOENT);
	/* a STATUS that failed is sent again next time */
	T_TRUE(fota_notify_status(&n, "a") < 0);
	T_EQ(n.status[0], '\0');
	fota_notify_release(&n);
}

/*
 * A receiver that does not read: once its queue is full a send fails with
 * -EAGAIN at once; the event loop is never blocked by the manager. (If it
 * blocked, the alarm would end the test as a failure.)
 */
static void test_notify__full_receiver_never_blocks(void)
{
	struct listener l;
	struct fota_notify n;
	int err = 0;

	listen_on(&l, false);
	T_OK(fota_notify_init(&n));
	alarm(10);
	for (unsigned i = 0; i < 1000000 && !err; i++)
		err = fota_notify_send(&n, "WATCHDOG=1");
	alarm(0);
	T_ERR(err, -EAGAIN);
	T_EQ(n.failed, 1);
	T_TRUE(n.sent > 0);
	fota_notify_release(&n);
	listen_end(&l);
}

/* Without NOTIFY_SOCKET (or with a zeroed struct) everything is a no-op. */
static void test_notify__off_without_socket(void)
{
	struct fota_notify n, zero;

	unsetenv("NOTIFY_SOCKET");
	setenv("WATCHDOG_USEC", "200000", 1);
	T_OK(fota_notify_init(&n));
	T_TRUE(!n.on);
	T_TRUE(!fota_notify_watchdog(&n));
	T_OK(fota_notify_ready(&n));
	T_OK(fota_notify_status(&n, "x"));
	T_OK(fota_notify_stopping(&n));
	fota_notify_member_ops.tick(&n, 0);
	T_EQ_U64(fota_notify_member_ops.deadline(&n), FOTA_NEVER);
	T_EQ(n.sent + n.failed, 0);
	fota_notify_release(&n);
	memset(&zero, 0, sizeof(zero)); /* fd 0: never written to, never closed */
	T_OK(fota_notify_status(&zero, "x"));
	T_OK(fota_notify_ready(&zero));
	T_EQ(zero.sent + zero.failed, 0);
	fota_notify_release(&zero);
}

static void test_notify__bad_socket_names(void)
{
	static const struct {
		const char *v;
		int err;
	} bad[] = {
		{ "", -EINVAL },  { "relative/path", -EINVAL }, { "@", -EINVAL },
		{ "/", -EINVAL }, { "vsock:2:1234", -EINVAL }, /* systemd >= 254 for VMs; not on a TCU */
	};
	char longname[200];
	struct fota_notify n;

	for (size_t i = 0; i < FOTA_ARRAY_SIZE(bad); i++) {
		setenv("NOTIFY_SOCKET", bad[i].v, 1);
		T_ERR(fota_notify_init(&n), bad[i].err);
		T_TRUE(!n.on);
		T_EQ_STR(n.bad, "NOTIFY_SOCKET");
		T_OK(fota_notify_ready(&n));
		fota_notify_release(&n);
	}
	memset(longname, 'x', sizeof(longname) - 1);
	longname[0] = '/';
	longname[sizeof(longname) - 1] = '\0';
	setenv("NOTIFY_SOCKET", longname, 1);
	T_ERR(fota_notify_init(&n), -ENAMETOOLONG);
	T_TRUE(!n.on);
	fota_notify_release(&n);
}

/* WATCHDOG_USEC and WATCHDOG_PID as sd_watchdog_enabled(3) reads them. */
static void test_notify__watchdog_env(void)
{
	static const char *const bad_usec[] = {
		"", "0", "-5", "abc", "12x", " 5", "99999999999999999999"
	};
	struct listener l;
	struct fota_notify n;
	char pid[32];

	listen_on(&l, false);
	setenv("WATCHDOG_USEC", "200000", 1);
	T_OK(fota_notify_init(&n));
	T_TRUE(fota_notify_watchdog(&n));
	T_EQ_U64(n.interval, 200000);
	T_TRUE(!getenv("WATCHDOG_USEC"));
	fota_notify_release(&n);

	snprintf(pid, sizeof(pid), "%d", (int)getpid());
	setenv("NOTIFY_SOCKET", l.path, 1);
	setenv("WATCHDOG_USEC", "200000", 1);
	setenv("WATCHDOG_PID", pid, 1);
	T_OK(fota_notify_init(&n));
	T_TRUE(fota_notify_watchdog(&n));
	T_TRUE(!getenv("WATCHDOG_PID"));
	fota_notify_release(&n);

	/* meant for another process: not ours, and not an error */
	snprintf(pid, sizeof(pid), "%d", (int)getpid() + 1);
	setenv("NOTIFY_SOCKET", l.path, 1);
	setenv("WATCHDOG_USEC", "200000", 1);
	setenv("WATCHDOG_PID", pid, 1);
	T_OK(fota_notify_init(&n));
	T_TRUE(n.on);
	T_TRUE(!fota_notify_watchdog(&n));
	fota_notify_release(&n);

	for (size_t i = 0; i < FOTA_ARRAY_SIZE(bad_usec); i++) {
		setenv("NOTIFY_SOCKET", l.path, 1);
		setenv("WATCHDOG_USEC", bad_usec[i], 1);
		T_ERR(fota_notify_init(&n), -EINVAL);
		T_EQ_STR(n.bad, "WATCHDOG_USEC");
		T_TRUE(n.on); /* READY and STATUS still go out */
		T_TRUE(!fota_notify_watchdog(&n));
		fota_notify_release(&n);
	}
	setenv("NOTIFY_SOCKET", l.path, 1);
	setenv("WATCHDOG_USEC", "200000", 1);
	setenv("WATCHDOG_PID", "0", 1);
	T_ERR(fota_notify_init(&n), -EINVAL);
	T_EQ_STR(n.bad, "WATCHDOG_PID");
	fota_notify_release(&n);
	T_NONE(&l);
	listen_end(&l);
}

/* ---- the watchdog member in virtual time ---- */

#define MAX_PINGS 64

struct recorder {
	struct listener *l;
	fota_us at[MAX_PINGS];
	unsigned n, other;
};

static void rec_tick(void *ctx, fota_us now)
{
	struct recorder *r = ctx;
	char buf[64];

	while (take(r->l, buf, sizeof(buf)) == 1) {
		if (strcmp(buf, "WATCHDOG=1"))
			r->other++;
		else if (r->n < MAX_PINGS)
			r->at[r->n++] = now;
	}
}

static const struct loop_member_ops rec_ops = { .tick = rec_tick };

/* Run the watchdog member and the recorder for `dur` of virtual time from `start`. */
static void run_sim(const char *hub, struct fota_notify *n, struct recorder *r, fota_us start,
		    fota_us dur)
{
	struct sim s;
	struct bus *b;
	char spec[32];

	snprintf(spec, sizeof(spec), "mem:%s", hub);
	T_OK(sim_init(&s, hub, start));
	T_OK(bus_open(&b, spec, NULL, NULL, 0));
	T_OK(sim_add(&s, b, &fota_notify_member_ops, n));
	T_OK(sim_add(&s, b, &rec_ops, r));
	T_ERR(sim_run(&s, dur), -ETIMEDOUT);
	sim_release(&s);
	bus_close(b);
}

static void test_notify__pings_at_half_the_interval(void)
{
	struct listener l;
	struct fota_notify n;
	struct recorder r = { .l = &l };

	listen_on(&l, false);
	setenv("WATCHDOG_USEC", "200000", 1);
	T_OK(fota_notify_init(&n));
	/* the first ping at once (the first tick), then every 100 ms */
	run_sim("wd1", &n, &r, FOTA_SEC(5), FOTA_SEC(1));
	T_EQ(r.n, 11);
	for (unsigned i = 0; i < r.n; i++)
		T_EQ_U64(r.at[i], FOTA_SEC(5) + i * FOTA_MS(100));
	T_EQ(r.other, 0);
	T_EQ_U64(fota_notify_member_ops.deadline(&n), FOTA_SEC(6) + FOTA_MS(100));
	fota_notify_release(&n);
	listen_end(&l);
}

static void test_notify__no_pings_without_interval(void)
{
	struct listener l;
	struct fota_notify n;
	struct recorder r = { .l = &l };

	listen_on(&l, false); /* NOTIFY_SOCKET, no WATCHDOG_USEC */
	T_OK(fota_notify_init(&n));
	T_EQ_U64(fota_notify_member_ops.deadline(&n), FOTA_NEVER);
	run_sim("wd2", &n, &r, 0, FOTA_SEC(10));
	T_EQ(r.n, 0);
	T_EQ(r.other, 0);
	fota_notify_release(&n);
	listen_end(&l);
}

/*
 * A loop that blocked: no tick, no ping. When it runs again it pings once and
 * the period starts over from there (no burst of the pings it missed).
 */
static void test_notify__stalled_loop_pings_once(void)
{
	struct listener l;
	struct fota_notify n;

	listen_on(&l, false);
	setenv("WATCHDOG_USEC", "200000", 1);
	T_OK(fota_notify_init(&n));
	fota_notify_member_ops.tick(&n, FOTA_MS(1000));
	T_TAKE(&l, "WATCHDOG=1");
	fota_notify_member_ops.tick(&n, FOTA_MS(1099)); /* not yet due */
	T_NONE(&l);
	fota_notify_member_ops.tick(&n, FOTA_MS(1750)); /* 650 ms late */
	T_TAKE(&l, "WATCHDOG=1");
	T_NONE(&l);
	T_EQ_U64(fota_notify_member_ops.deadline(&n), FOTA_MS(1850));
	fota_notify_release(&n);
	listen_end(&l);
}

/* An absurdly short WATCHDOG_USEC never makes the loop spin: 1 ms at least. */
static void test_notify__ping_period_floor(void)
{
	struct listener l;
	struct fota_notify n;
	struct recorder r = { .l = &l };

	listen_on(&l, false);
	setenv("WATCHDOG_USEC", "1", 1);
	T_OK(fota_notify_init(&n));
	run_sim("wd3", &n, &r, 0, FOTA_MS(10));
	T_EQ(r.n, 11);
	T_EQ_U64(r.at[10], FOTA_MS(10));
	fota_notify_release(&n);
	listen_end(&l);
}

static const struct t_case cases[] = {
	T_CASE(notify__ready_status_stopping_path),
	T_CASE(notify__ready_status_stopping_abstract),
	T_CASE(notify__status_once_per_change_one_line),
	T_CASE(notify__send_error_reported),
	T_CASE(notify__full_receiver_never_blocks),
	T_CASE(notify__off_without_socket),
	T_CASE(notify__bad_socket_names),
	T_CASE(notify__watchdog_env),
	T_CASE(notify__pings_at_half_the_interval),
	T_CASE(notify__no_pings_without_interval),
	T_CASE(notify__stalled_loop_pings_once),
	T_CASE(notify__ping_period_floor),
};

int main(void)
{
	return t_main(cases, FOTA_ARRAY_SIZE(cases));
}
