// SPDX-License-Identifier: MIT
/*
 * CAN controller settings and state (see core/canif.h): libsocketcan for the
 * classic calls, and one small rtnetlink request of our own where libsocketcan
 * 0.0.12 has no call (link kind; CAN FD data bit timing, IFLA_CAN_DATA_BITTIMING).
 *
 * libsocketcan reports failures with perror()/fprintf(stderr); library code
 * here must not print, so its calls run with stderr pointed at /dev/null and
 * the reason comes back through errno into err.
 */
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <linux/can/netlink.h>
#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/pkt_sched.h>
#include <linux/rtnetlink.h>
#include <libsocketcan.h>
#include "core/canif.h"

#define NL_BUF 8192

const char *canif_state_name(enum canif_state st)
{
	static const char *const names[] = {
		"error-active", "error-warning", "error-passive", "bus-off",
		"stopped",	"sleeping",	 "unknown",
	};

	if ((unsigned)st < sizeof(names) / sizeof(names[0]))
		return names[st];
	return "unknown";
}

static void seterr(char *err, size_t errsize, const char *ifname, const char *msg)
{
	if (err && errsize)
		snprintf(err, errsize, "%s: %s", ifname, msg);
}

/* Run libsocketcan quietly: stderr to /dev/null for the duration. */
static int quiet_begin(void)
{
	int null, saved;

	fflush(stderr);
	saved = dup(STDERR_FILENO);
	null = open("/dev/null", O_WRONLY | O_CLOEXEC);
	if (saved >= 0 && null >= 0)
		dup2(null, STDERR_FILENO);
	if (null >= 0)
		close(null);
	return saved;
}

static void quiet_end(int saved)
{
	int e = errno;

	if (saved >= 0) {
		fflush(stderr);
		dup2(saved, STDERR_FILENO);
		close(saved);
	}
	errno = e;
}

/* ---- a minimal rtnetlink client ---- */

/* A request: nlmsghdr + ifinfomsg + attributes, in one aligned buffer. */
struct nl_req {
	char buf[1024] __attribute__((aligned(NLMSG_ALIGNTO)));
};

static struct nlmsghdr *nl_link_req(struct nl_req *req, unsigned short type, unsigned short flags,
				    unsigned idx)
{
	struct nlmsghdr *n = (struct nlmsghdr *)req->buf;
	struct ifinfomsg *i = NLMSG_DATA(n);

	memset(req, 0, sizeof(*req));
	n->nlmsg_len = NLMSG_LENGTH(sizeof(struct ifinfomsg));
	n->nlmsg_type = type;
	n->nlmsg_flags = flags;
	i->ifi_family = AF_UNSPEC;
	i->ifi_index = (int)idx;
	return n;
}

static struct rtattr *nl_add(struct nlmsghdr *n, unsigned short type, const void *data, size_t len)
{
	struct rtattr *rta = (struct rtattr *)((char *)n + NLMSG_ALIGN(n->nlmsg_len));

	rta->rta_type = type;
	rta->rta_len = (unsigned short)RTA_LENGTH(len);
	if (len)
		memcpy(RTA_DATA(rta), data, len);
	n->nlmsg_len = NLMSG_ALIGN(n->nlmsg_len) + RTA_ALIGN(rta->rta_len);
	return rta;
}

static void nl_end(struct nlmsghdr *n, struct rtattr *nest)
{
	nest->rta_len = (unsigned short)((char *)n + n->nlmsg_len - (char *)nest);
}

/*
 * Send one request; on success copy the first non-error reply into out (if
 * given). Returns 0 or -errno (from the kernel's NLMSG_ERROR).
 */
static int nl_talk(struct nlmsghdr *req, char *out, size_t outsize, size_t *outlen)
{
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
	char buf[NL_BUF] __attribute__((aligned(4)));
	struct timeval tmo = { .tv_sec = 2 };
	struct nlmsghdr *h;
	ssize_t n;
	int fd, ret = -EPROTO;

	fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	if (fd < 0)
		return -errno;
	/* a request the kernel does not answer must not hang the caller */
	(void)setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tmo, sizeof(tmo));
	req->nlmsg_seq = 1;
	if (sendto(fd, req, req->nlmsg_len, 0, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		ret = -errno;
		goto out;
	}
	n = recv(fd, buf, sizeof(buf), 0);
	if (n < 0) {
		ret = -errno;
		goto out;
	}
	for (h = (struct nlmsghdr *)buf; NLMSG_OK(h, (unsigned)n); h = NLMSG_NEXT(h, n)) {
		if (h->nlmsg_type == NLMSG_ERROR) {
			struct nlmsgerr *e = NLMSG_DATA(h);

			ret = e->error;
			break;
		}
		if (out && h->nlmsg_len <= outsize) {
			memcpy(out, h, h->nlmsg_len);
			*outlen = h->nlmsg_len;
			ret = 0;
			break;
		}
	}
out:
	close(fd);
	return ret;
}

int canif_kind(const char *ifname, char *kind, size_t size)
{
	struct nl_req req;
	char reply[NL_BUF] __attribute__((aligned(4)));
	size_t len = 0;
	struct nlmsghdr *h = (struct nlmsghdr *)reply;
	struct rtattr *rta, *sub;
	unsigned idx = if_nametoindex(ifname);
	int attrlen, sublen, ret;

	if (!idx)
		return -ENODEV;
	ret = nl_talk(nl_link_req(&req, RTM_GETLINK, NLM_F_REQUEST, idx), reply, sizeof(reply),
		      &len);
	if (ret < 0)
		return ret;
	if (h->nlmsg_type != RTM_NEWLINK)
		return -EPROTO;
	kind[0] = '\0';
	attrlen = (int)h->nlmsg_len - (int)NLMSG_LENGTH(sizeof(struct ifinfomsg));
	for (rta = IFLA_RTA(NLMSG_DATA(h)); RTA_OK(rta, attrlen); rta = RTA_NEXT(rta, attrlen)) {
		if (rta->rta_type != IFLA_LINKINFO)
			continue;
		sublen = (int)RTA_PAYLOAD(rta);
		for (sub = RTA_DATA(rta); RTA_OK(sub, sublen); sub = RTA_NEXT(sub, sublen))
			if (sub->rta_type == IFLA_INFO_KIND)
				snprintf(kind, size, "%.*s", (int)RTA_PAYLOAD(sub),
					 (const char *)RTA_DATA(sub));
	}
	return 0;
}

int canif_tx_rate(const char *ifname, uint64_t *bytes_per_s)
{
	struct nl_req req;
	char reply[NL_BUF] __attribute__((aligned(4)));
	struct nlmsghdr *n = (struct nlmsghdr *)req.buf, *h = (struct nlmsghdr *)reply;
	struct tcmsg *t = NLMSG_DATA(n);
	struct rtattr *rta, *sub;
	unsigned idx = if_nametoindex(ifname);
	bool tbf = false;
	size_t len = 0;
	int attrlen, sublen, ret;

	*bytes_per_s = 0;
	if (!idx)
		return -ENODEV;
	/* RTM_GETQDISC with parent TC_H_ROOT and no handle: the root qdisc */
	memset(&req, 0, sizeof(req));
	n->nlmsg_len = NLMSG_LENGTH(sizeof(struct tcmsg));
	n->nlmsg_type = RTM_GETQDISC;
	/* the answer is a notification, unicast back only with NLM_F_ECHO */
	n->nlmsg_flags = NLM_F_REQUEST | NLM_F_ECHO;
	t->tcm_family = AF_UNSPEC;
	t->tcm_ifindex = (int)idx;
	t->tcm_parent = TC_H_ROOT;
	ret = nl_talk(n, reply, sizeof(reply), &len);
	if (ret == -ENOENT || ret == -EINVAL)
		return 0; /* no root qdisc to ask about: not rate-limited */
	if (ret < 0)
		return ret;
	if (h->nlmsg_type != RTM_NEWQDISC)
		return -EPROTO;
	attrlen = (int)h->nlmsg_len - (int)NLMSG_LENGTH(sizeof(struct tcmsg));
	for (rta = TCA_RTA(NLMSG_DATA(h)); RTA_OK(rta, attrlen); rta = RTA_NEXT(rta, attrlen)) {
		if (rta->rta_type == TCA_KIND)
			tbf = RTA_PAYLOAD(rta) >= 4 && !memcmp(RTA_DATA(rta), "tbf", 4);
		if (rta->rta_type != TCA_OPTIONS || !tbf)
			continue;
		sublen = (int)RTA_PAYLOAD(rta);
		for (sub = RTA_DATA(rta); RTA_OK(sub, sublen); sub = RTA_NEXT(sub, sublen)) {
			if (sub->rta_type == TCA_TBF_PARMS &&
			    RTA_PAYLOAD(sub) >= sizeof(struct tc_tbf_qopt) && !*bytes_per_s) {
				struct tc_tbf_qopt q;

				memcpy(&q, RTA_DATA(sub), sizeof(q));
				*bytes_per_s = q.rate.rate;
			}
			/* rates of 2^32 B/s and more come here, and the 32-bit field saturates */
			if (sub->rta_type == TCA_TBF_RATE64 && RTA_PAYLOAD(sub) >= sizeof(uint64_t))
				memcpy(bytes_per_s, RTA_DATA(sub), sizeof(uint64_t));
		}
	}
	return 0;
}

unsigned canif_frame_bits_worst(unsigned dlen, bool eff)
{
	/* SOF .. CRC: the region where stuffing applies */
	unsigned region = 34 + 8 * dlen + (eff ? 20 : 0);

	return 47 + 8 * dlen + (eff ? 20 : 0) + (region - 1) / 4;
}

/* ARPHRD_CAN (280) in /sys/class/net/IF/type: vcan and real controllers alike. */
static int is_can(const char *ifname)
{
	char path[64], buf[16];
	FILE *fp;
	int ok;

	if (strchr(ifname, '/') || strlen(ifname) >= IFNAMSIZ)
		return -ENODEV;
	snprintf(path, sizeof(path), "/sys/class/net/%s/type", ifname);
	fp = fopen(path, "re");
	if (!fp)
		return -ENODEV;
	ok = fgets(buf, sizeof(buf), fp) && atoi(buf) == 280;
	fclose(fp);
	return ok;
}

/* The checks every call shares: the interface exists and is CAN. */
static int check_can(const char *ifname, char *kind, size_t size, char *err, size_t errsize)
{
	int ret = is_can(ifname);

	if (ret < 0 || !if_nametoindex(ifname)) {
		seterr(err, errsize, ifname, "no such CAN interface");
		return -ENODEV;
	}
	if (!ret) {
		seterr(err, errsize, ifname, "not a CAN interface");
		return -ENODEV;
	}
	ret = canif_kind(ifname, kind, size);
	if (ret < 0) {
		seterr(err, errsize, ifname, strerror(-ret));
		return ret;
	}
	return 0;
}

static bool kind_is_virtual(const char *kind)
{
	return strcmp(kind, "can") != 0;
}

int canif_get_info(const char *ifname, struct canif_info *info, char *err, size_t errsize)
{
	struct can_bittiming bt;
	struct can_berr_counter bc;
	int state, saved, ret;
	__u32 restart_ms;

	memset(info, 0, sizeof(*info));
	info->state = CANIF_STATE_UNKNOWN;
	ret = check_can(ifname, info->kind, sizeof(info->kind), err, errsize);
	if (ret < 0)
		return ret;
	if (kind_is_virtual(info->kind)) {
		info->virtual_can = true; /* vcan: nothing to ask a controller */
		return 0;
	}
	saved = quiet_begin();
	if (can_get_state(ifname, &state) == 0 && state >= 0 && state < CANIF_STATE_UNKNOWN)
		info->state = (enum canif_state)state;
	if (can_get_bittiming(ifname, &bt) == 0) {
		info->bitrate = bt.bitrate;
		info->sample_point = bt.sample_point;
	}
	if (can_get_restart_ms(ifname, &restart_ms) == 0)
		info->restart_ms = restart_ms;
	if (can_get_berr_counter(ifname, &bc) == 0) {
		info->txerr = bc.txerr;
		info->rxerr = bc.rxerr;
		info->has_berr = true;
	}
	quiet_end(saved);
	return 0;
}

/* The check every setter shares: a real controller, else a clear sentence. */
static int need_controller(const char *ifname, char *err, size_t errsize)
{
	char kind[16];
	int ret = check_can(ifname, kind, sizeof(kind), err, errsize);

	if (ret < 0)
		return ret;
	if (kind_is_virtual(kind)) {
		seterr(err, errsize, ifname, "interface has no bit timing (virtual CAN?)");
		return -EOPNOTSUPP;
	}
	return 0;
}

static int errno_msg(const char *ifname, const char *what, int e, char *err, size_t errsize)
{
	char msg[128];

	/* vcan answers EOPNOTSUPP to IFLA_CAN_* requests (rtnl_newlink: kind mismatch) */
	if (e == EOPNOTSUPP) {
		seterr(err, errsize, ifname, "interface has no bit timing (virtual CAN?)");
		return -e;
	}
	if (e == EPERM || e == EACCES)
		snprintf(msg, sizeof(msg), "%s: %s (needs CAP_NET_ADMIN)", what, strerror(e));
	else
		snprintf(msg, sizeof(msg), "%s: %s", what, strerror(e ? e : EIO));
	seterr(err, errsize, ifname, msg);
	return -(e ? e : EIO);
}

/* CAN FD: nominal + data bit timing + FD mode in one request (not in libsocketcan 0.0.12). */
static int set_fd_bittiming(const char *ifname, uint32_t bitrate, uint32_t data_bitrate)
{
	struct nl_req req;
	struct can_bittiming bt = { .bitrate = bitrate }, dbt = { .bitrate = data_bitrate };
	struct can_ctrlmode cm = { .mask = CAN_CTRLMODE_FD, .flags = CAN_CTRLMODE_FD };
	struct rtattr *li, *data;
	struct nlmsghdr *n;
	unsigned idx = if_nametoindex(ifname);

	if (!idx)
		return -ENODEV;
	n = nl_link_req(&req, RTM_NEWLINK, NLM_F_REQUEST | NLM_F_ACK, idx);
	li = nl_add(n, IFLA_LINKINFO, NULL, 0);
	nl_add(n, IFLA_INFO_KIND, "can", 3);
	data = nl_add(n, IFLA_INFO_DATA, NULL, 0);
	if (bitrate)
		nl_add(n, IFLA_CAN_BITTIMING, &bt, sizeof(bt));
	nl_add(n, IFLA_CAN_DATA_BITTIMING, &dbt, sizeof(dbt));
	nl_add(n, IFLA_CAN_CTRLMODE, &cm, sizeof(cm));
	nl_end(n, data);
	nl_end(n, li);
	return nl_talk(n, NULL, 0, NULL);
}

int canif_set_bitrate(const char *ifname, uint32_t bitrate, uint32_t data_bitrate, char *err,
		      size_t errsize)
{
	int ret, saved, e = 0;

	if (!bitrate && !data_bitrate)
		return 0;
	ret = need_controller(ifname, err, errsize);
	if (ret < 0)
		return ret;
	/* bit timing can only change while the link is down */
	saved = quiet_begin();
	if (can_do_stop(ifname) < 0) {
		e = errno;
		quiet_end(saved);
		return errno_msg(ifname, "cannot bring the link down", e, err, errsize);
	}
	if (data_bitrate) {
		ret = set_fd_bittiming(ifname, bitrate, data_bitrate);
		e = ret < 0 ? -ret : 0;
	} else if (can_set_bitrate(ifname, bitrate) < 0) {
		e = errno;
	}
	/* up again in any case, with the old timing if the new one was refused */
	if (can_do_start(ifname) < 0 && !e) {
		e = errno;
		quiet_end(saved);
		return errno_msg(ifname, "cannot bring the link up", e, err, errsize);
	}
	quiet_end(saved);
	if (e) {
		char what[96];

		if (data_bitrate)
			snprintf(what, sizeof(what), "cannot set bitrate %u / data bitrate %u",
				 bitrate, data_bitrate);
		else
			snprintf(what, sizeof(what), "cannot set bitrate %u", bitrate);
		return errno_msg(ifname, what, e, err, errsize);
	}
	return 0;
}

int canif_set_restart_ms(const char *ifname, uint32_t restart_ms, char *err, size_t errsize)
{
	int ret = need_controller(ifname, err, errsize), saved, e = 0;

	if (ret < 0)
		return ret;
	saved = quiet_begin();
	if (can_set_restart_ms(ifname, restart_ms) < 0)
		e = errno;
	quiet_end(saved);
	return e ? errno_msg(ifname, "cannot set restart-ms", e, err, errsize) : 0;
}

int canif_restart(const char *ifname, char *err, size_t errsize)
{
	int ret = need_controller(ifname, err, errsize), saved, e = 0;

	if (ret < 0)
		return ret;
	saved = quiet_begin();
	if (can_do_restart(ifname) < 0)
		e = errno;
	quiet_end(saved);
	return e ? errno_msg(ifname, "cannot restart (not bus-off, or restart-ms set)", e, err,
			     errsize) :
		   0;
}
