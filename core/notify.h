// SPDX-License-Identifier: MIT
/*
 * The service manager's notification protocol (systemd's sd_notify(3)), as
 * a daemon speaks it: newline-separated KEY=VALUE assignments, one datagram
 * per message, sent to the AF_UNIX datagram socket named by $NOTIFY_SOCKET
 * (an absolute path, or "@name" for the abstract namespace). The receiver
 * learns the sender's PID from the kernel (SCM_CREDENTIALS), which is what
 * NotifyAccess=main checks.
 *
 *	READY=1		start-up finished (Type=notify: the unit becomes active)
 *	STATUS=text	one line for `systemctl status`
 *	WATCHDOG=1	keep-alive; missing for WatchdogSec, the service is killed
 *	STOPPING=1	shutting down
 *
 * Without $NOTIFY_SOCKET (not started by systemd) every call does nothing and
 * returns 0. The watchdog is a loop member (core/loop.h): its pings come from
 * the loop's own tick, so a loop that blocks stops pinging and the manager
 * restarts the daemon, which is the point of the watchdog.
 *
 *	fota_notify_init(&n);			// once, before any thread starts
 *	fota_notify_status(&n, "update_status 0x%02x: %s", ...);
 *	fota_notify_ready(&n);
 *	loop_add(&loop, &fota_notify_member_ops, &n);
 *	... loop_run() ...
 *	fota_notify_stopping(&n); fota_notify_release(&n);
 */
#ifndef FOTA_CORE_NOTIFY_H
#define FOTA_CORE_NOTIFY_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/un.h>
#include "core/loop.h"
#include "core/time.h"

#define FOTA_NOTIFY_STATUS_MAX 256 /* longer STATUS= texts are cut */
/* The fastest ping, whatever WATCHDOG_USEC says: a loop never spins for it. */
#define FOTA_NOTIFY_PING_MIN FOTA_MS(1)

/* All zero is a valid "off" state: every call is then a no-op. */
struct fota_notify {
	bool on; /* $NOTIFY_SOCKET was usable */
	int fd;
	struct sockaddr_un addr;
	socklen_t addrlen;

	fota_us interval;  /* WATCHDOG_USEC for this process; 0: no watchdog */
	fota_us next_ping; /* 0 before the first tick: ping at once */

	char status[FOTA_NOTIFY_STATUS_MAX]; /* last STATUS= text sent */

	uint64_t sent, failed; /* datagrams */
	int last_err;	       /* -errno of the last failed send */
	const char *bad;       /* the variable fota_notify_init() refused, or NULL */
};

/*
 * Read $NOTIFY_SOCKET, and $WATCHDOG_USEC with $WATCHDOG_PID the way
 * sd_watchdog_enabled(3) does (a watchdog meant for another PID is not ours),
 * then remove the three from the environment so that child processes (cmd:
 * key programs) do not take them for theirs. Not thread-safe (unsetenv).
 * 0: on, or off because the variable is absent. -EINVAL, -ENAMETOOLONG
 * (NOTIFY_SOCKET), -EINVAL (a WATCHDOG_ variable that is no positive
 * number) or a socket() error: n->bad names the variable; a bad watchdog
 * variable leaves the notifications on and the watchdog off.
 */
int fota_notify_init(struct fota_notify *n);
void fota_notify_release(struct fota_notify *n);

/* Send msg as one datagram, never blocking. 0 (or off), -errno. */
int fota_notify_send(struct fota_notify *n, const char *msg);

int fota_notify_ready(struct fota_notify *n);
int fota_notify_stopping(struct fota_notify *n);

/*
 * STATUS=text, printf-style; sent only when the text differs from the last
 * one sent. A newline in text becomes a blank: it would start an assignment.
 */
__attribute__((format(printf, 2, 3))) int fota_notify_status(struct fota_notify *n, const char *fmt,
							     ...);

/* Is there a watchdog to ping (and so a deadline)? */
static inline bool fota_notify_watchdog(const struct fota_notify *n)
{
	return n->on && n->interval;
}

/*
 * The watchdog as a loop member: tick() sends WATCHDOG=1 when due, then
 * every interval/2 (sd_watchdog_enabled(3): "half the time"); deadline()
 * tells the loop when to wake for it. After a stall, one ping and the
 * period restarts: no burst.
 */
extern const struct loop_member_ops fota_notify_member_ops;

#endif
