// SPDX-License-Identifier: MIT
/*
 * sd_notify(3) spoken directly (see core/notify.h): one sendto() of a
 * datagram. Two choices differ from the obvious:
 *  - sendto() with the address every time, not connect(): when the manager
 *    re-executes itself (systemctl daemon-reexec) it binds the socket anew,
 *    and a connected socket would keep pointing at the old one.
 *  - MSG_DONTWAIT: a receiver whose queue is full makes the send fail with
 *    -EAGAIN instead of blocking the event loop; a lost ping is followed by
 *    the next one half an interval later.
 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "core/notify.h"

/* A positive decimal number that fits in 64 bits, nothing else (no sign, no blank). */
static int parse_pos_u64(const char *s, uint64_t *out)
{
	uint64_t v = 0;

	if (!*s)
		return -EINVAL;
	for (; *s; s++) {
		if (*s < '0' || *s > '9' || v > (UINT64_MAX - (uint64_t)(*s - '0')) / 10)
			return -EINVAL;
		v = v * 10 + (uint64_t)(*s - '0');
	}
	if (!v)
		return -EINVAL;
	*out = v;
	return 0;
}

static int set_address(struct fota_notify *n, const char *e)
{
	size_t len = strlen(e);

	if ((e[0] != '/' && e[0] != '@') || len < 2)
		return -EINVAL;
	if (len >= sizeof(n->addr.sun_path))
		return -ENAMETOOLONG;
	memset(&n->addr, 0, sizeof(n->addr));
	n->addr.sun_family = AF_UNIX;
	memcpy(n->addr.sun_path, e, len);
	if (e[0] == '@') {
		/* abstract: a leading NUL, and the length says where the name ends */
		n->addr.sun_path[0] = '\0';
		n->addrlen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len);
	} else {
		n->addrlen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len + 1);
	}
	return 0;
}

/* sd_watchdog_enabled(3): WATCHDOG_USEC, and WATCHDOG_PID if set must be ours. */
static int read_watchdog(struct fota_notify *n)
{
	const char *usec = getenv("WATCHDOG_USEC"), *pid = getenv("WATCHDOG_PID");
	uint64_t v, p;

	if (!usec)
		return 0;
	if (parse_pos_u64(usec, &v)) {
		n->bad = "WATCHDOG_USEC";
		return -EINVAL;
	}
	if (pid) {
		if (parse_pos_u64(pid, &p)) {
			n->bad = "WATCHDOG_PID";
			return -EINVAL;
		}
		if (p != (uint64_t)getpid())
			return 0; /* meant for another process (our parent's, say) */
	}
	n->interval = v;
	return 0;
}

int fota_notify_init(struct fota_notify *n)
{
	const char *e = getenv("NOTIFY_SOCKET");
	int err = 0;

	memset(n, 0, sizeof(*n));
	n->fd = -1;
	if (e) {
		err = set_address(n, e);
		if (!err) {
			n->fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
			if (n->fd < 0)
				err = -errno;
		}
		if (err)
			n->bad = "NOTIFY_SOCKET";
		else
			n->on = true;
	}
	if (n->on)
		err = read_watchdog(n);
	unsetenv("NOTIFY_SOCKET");
	unsetenv("WATCHDOG_USEC");
	unsetenv("WATCHDOG_PID");
	return err;
}

void fota_notify_release(struct fota_notify *n)
{
	if (n->on)
		close(n->fd);
	n->on = false;
	n->fd = -1;
}

int fota_notify_send(struct fota_notify *n, const char *msg)
{
	ssize_t r;

	if (!n->on)
		return 0;
	do
		r = sendto(n->fd, msg, strlen(msg), MSG_DONTWAIT | MSG_NOSIGNAL,
			   (const struct sockaddr *)&n->addr, n->addrlen);
	while (r < 0 && errno == EINTR);
	if (r < 0) {
		n->failed++;
		n->last_err = -errno;
		return n->last_err;
	}
	n->sent++;
	return 0;
}

int fota_notify_ready(struct fota_notify *n)
{
	return fota_notify_send(n, "READY=1");
}

int fota_notify_stopping(struct fota_notify *n)
{
	return fota_notify_send(n, "STOPPING=1");
}

int fota_notify_status(struct fota_notify *n, const char *fmt, ...)
{
	char msg[sizeof("STATUS=") - 1 + FOTA_NOTIFY_STATUS_MAX];
	char *text = msg + sizeof("STATUS=") - 1;
	va_list ap;
	int err;

	if (!n->on)
		return 0;
	memcpy(msg, "STATUS=", sizeof("STATUS=") - 1);
	va_start(ap, fmt);
	vsnprintf(text, FOTA_NOTIFY_STATUS_MAX, fmt, ap);
	va_end(ap);
	for (char *p = text; (p = strchr(p, '\n')) != NULL;)
		*p = ' ';
	if (!strcmp(text, n->status))
		return 0;
	err = fota_notify_send(n, msg);
	if (!err)
		memcpy(n->status, text, strlen(text) + 1);
	return err;
}

/* ---- the watchdog member ---- */

static void watchdog_tick(void *ctx, fota_us now)
{
	struct fota_notify *n = ctx;
	fota_us period;

	if (!fota_notify_watchdog(n) || now < n->next_ping)
		return;
	fota_notify_send(n, "WATCHDOG=1"); /* counted in n->failed; the next ping comes anyway */
	period = n->interval / 2 > FOTA_NOTIFY_PING_MIN ? n->interval / 2 : FOTA_NOTIFY_PING_MIN;
	n->next_ping = period > FOTA_NEVER - now ? FOTA_NEVER : now + period;
}

static fota_us watchdog_deadline(void *ctx)
{
	const struct fota_notify *n = ctx;

	return fota_notify_watchdog(n) ? n->next_ping : FOTA_NEVER;
}

const struct loop_member_ops fota_notify_member_ops = {
	.tick = watchdog_tick,
	.deadline = watchdog_deadline,
};
