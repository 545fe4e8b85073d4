// SPDX-License-Identifier: MIT
/*
 * `fota flash --isotp kernel`: the programming sequence (uds/prog.h) over the
 * kernel's ISO 15765-2 implementation (net/can/isotp.c, CAN_ISOTP socket).
 * The kernel does segmentation, flow control, STmin and padding; we hand it
 * whole PDUs. CAN_ISOTP_WAIT_TX_DONE makes write() return once the last
 * frame left, which is the T_Data.con that starts P2 (ISO 14229-2 §7.2).
 */
#include <errno.h>
#include <net/if.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <unistd.h>
#include <linux/can.h>
#include <linux/can/bcm.h>
#include <linux/can/isotp.h>
#include "cmd/cmd.h"
#include "cmd/isotp_kernel.h"
#include "core/bus.h"
#include "core/canif.h"
#include "core/log.h"
#include "uds/isotp.h"

/*
 * Functional TesterPresent with kernel ISO-TP: write() holds this thread
 * until a whole PDU has left, so the cyclic frame is handed to the kernel's
 * broadcast manager (CAN_BCM), which sends it every period on its own, also
 * between the consecutive frames of a long TransferData.
 */
struct bcm_tx {
	struct bcm_msg_head head;
	union {
		struct can_frame cf;
		struct canfd_frame fd;
	} f;
};

static int bcm_open(const char *ifname)
{
	struct sockaddr_can addr = { .can_family = AF_CAN };
	int s = socket(PF_CAN, SOCK_DGRAM | SOCK_CLOEXEC, CAN_BCM);

	if (s < 0)
		return -errno;
	addr.can_ifindex = (int)if_nametoindex(ifname);
	if (connect(s, (struct sockaddr *)&addr, sizeof(addr))) {
		int err = -errno;

		close(s);
		return err;
	}
	return s;
}

/* Start (period_ms > 0) or stop the cyclic frame f. 0 or -errno. */
static int bcm_cyclic(int s, const struct bus_frame *f, uint32_t period_ms)
{
	struct bcm_tx m;
	canid_t id = f->id | ((f->flags & BUS_FRAME_EFF) ? CAN_EFF_FLAG : 0);
	bool fd = f->flags & BUS_FRAME_FD;
	size_t n = sizeof(m.head) + (fd ? sizeof(m.f.fd) : sizeof(m.f.cf));

	memset(&m, 0, sizeof(m));
	m.head.can_id = id;
	m.head.flags = fd ? CAN_FD_FRAME : 0;
	if (!period_ms) {
		m.head.opcode = TX_DELETE;
		return write(s, &m, sizeof(m.head)) < 0 ? -errno : 0;
	}
	m.head.opcode = TX_SETUP;
	m.head.flags |= SETTIMER | STARTTIMER;
	m.head.ival2.tv_sec = period_ms / 1000;
	m.head.ival2.tv_usec = (long)(period_ms % 1000) * 1000;
	m.head.nframes = 1;
	if (fd) {
		m.f.fd.can_id = id;
		m.f.fd.len = f->len;
		memcpy(m.f.fd.data, f->data, f->len);
	} else {
		m.f.cf.can_id = id;
		m.f.cf.len = f->len;
		memcpy(m.f.cf.data, f->data, f->len);
	}
	return write(s, &m, n) < 0 ? -errno : 0;
}

/* linux/if.h's net_device_flags bit 18; glibc's net/if.h stops at IFF_DYNAMIC */
#ifndef IFF_ECHO
#define IFF_ECHO (1 << 18)
#endif

/*
 * The gap the kernel leaves between consecutive frames (CAN_ISOTP_OPTS
 * frame_txtime, ns; the receiver's STmin comes on top), so that it never
 * outruns the interface's transmit queue.
 *
 * The kernel's ISO-TP sends each consecutive frame when the previous one
 * comes back as its echo. A controller whose driver echoes (IFF_ECHO) does
 * so once the frame is on the wire: one frame in flight, the queue never
 * fills, and no gap is needed. Without IFF_ECHO (vcan, some serial
 * adapters) the CAN core echoes as soon as the frame is queued, the next
 * one follows at once, and a 10-frame queue (txqueuelen 10) overflows in
 * the first block: the kernel drops the frame (can_send -ENOBUFS), does not
 * resend it, and the transfer dies on N_Cr. There the gap is one frame's
 * time at the rate the interface drains: a rate-limiting root qdisc
 * (tbf: the skb's bytes at its rate), the controller's bitrate (worst-case
 * bit stuffing), whichever is slower. Neither known: no gap (an unshaped
 * vcan queues nothing). Returns CAN_ISOTP_FRAME_TXTIME_ZERO for "no gap".
 */
static uint32_t frame_gap_ns(int s, const char *ifname, const struct cfg_ecu *ecu)
{
	struct canif_info info;
	struct ifreq ifr;
	uint64_t rate = 0, ns = 0;
	unsigned dlen = ecu->isotp.fd ? (ecu->isotp.tx_dl ? ecu->isotp.tx_dl : 64) : 8;

	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	if (ioctl(s, SIOCGIFFLAGS, &ifr) == 0 && (ifr.ifr_flags & IFF_ECHO))
		return CAN_ISOTP_FRAME_TXTIME_ZERO;
	if (canif_tx_rate(ifname, &rate) == 0 && rate)
		ns = ((ecu->isotp.fd ? CANFD_MTU : CAN_MTU) * 1000000000ull + rate - 1) / rate;
	if (canif_get_info(ifname, &info, NULL, 0) == 0 && info.bitrate) {
		/* CAN FD: the whole frame at the nominal rate, an upper bound */
		uint64_t wire = (canif_frame_bits_worst(dlen, ecu->extended) * 1000000000ull +
				 info.bitrate - 1) /
				info.bitrate;

		if (wire > ns)
			ns = wire;
	}
	if (!ns)
		return CAN_ISOTP_FRAME_TXTIME_ZERO;
	if (ns > UINT32_MAX - 1)
		ns = UINT32_MAX - 1;
	fota_debug("%s: no tx echo from the driver: kernel ISO-TP paced at %llu us per frame",
		   ifname, (unsigned long long)(ns / 1000));
	return (uint32_t)ns;
}

/* Configure and bind the socket; -errno with the reason reported. */
static int open_socket(const char *ifname, const struct cfg_ecu *ecu)
{
	struct can_isotp_options o = { 0 };
	struct can_isotp_fc_options fc = { 0 };
	struct sockaddr_can addr = { 0 };
	uint32_t eff = ecu->extended ? CAN_EFF_FLAG : 0;
	int s, err;

	s = socket(PF_CAN, SOCK_DGRAM | SOCK_CLOEXEC, CAN_ISOTP);
	if (s < 0) {
		err = -errno;
		fota_error("%s: kernel ISO-TP not available: %s", ifname, strerror(-err));
		return err == -EINVAL ? -EPROTONOSUPPORT : err;
	}
	o.flags = CAN_ISOTP_WAIT_TX_DONE;
	if (ecu->isotp.padding >= 0) {
		/* ISO 15765-2:2016 §10.4.2: pad every frame to its full length. */
		o.flags |= CAN_ISOTP_TX_PADDING | CAN_ISOTP_RX_PADDING;
		o.txpad_content = (uint8_t)ecu->isotp.padding;
		o.rxpad_content = (uint8_t)ecu->isotp.padding;
	}
	o.frame_txtime = frame_gap_ns(s, ifname, ecu);
	fc.bs = ecu->isotp.block_size;
	fc.stmin = ecu->isotp.stmin;
	fc.wftmax = 0;
	if (setsockopt(s, SOL_CAN_ISOTP, CAN_ISOTP_OPTS, &o, sizeof(o)) ||
	    setsockopt(s, SOL_CAN_ISOTP, CAN_ISOTP_RECV_FC, &fc, sizeof(fc)))
		goto fail;
	if (ecu->isotp.fd) {
		struct can_isotp_ll_options ll = {
			.mtu = CANFD_MTU,
			.tx_dl = ecu->isotp.tx_dl ? ecu->isotp.tx_dl : 64,
			.tx_flags = CANFD_BRS,
		};

		if (setsockopt(s, SOL_CAN_ISOTP, CAN_ISOTP_LL_OPTS, &ll, sizeof(ll)))
			goto fail;
	}
	addr.can_family = AF_CAN;
	addr.can_ifindex = (int)if_nametoindex(ifname);
	if (!addr.can_ifindex) {
		err = -ENODEV;
		fota_error("%s: %s", ifname, strerror(ENODEV));
		close(s);
		return err;
	}
	addr.can_addr.tp.tx_id = ecu->request_id | eff;
	addr.can_addr.tp.rx_id = ecu->response_id | eff;
	if (bind(s, (struct sockaddr *)&addr, sizeof(addr)))
		goto fail;
	return s;
fail:
	err = -errno;
	fota_error("%s: kernel ISO-TP setup: %s", ifname, strerror(-err));
	close(s);
	return err;
}

static int wait_ms(fota_us deadline, fota_us now)
{
	if (deadline == FOTA_NEVER)
		return -1;
	if (deadline <= now)
		return 0;
	return (int)((deadline - now + 999) / 1000);
}

int cmd_isotp_kernel_run(const char *ifname, const struct cfg_ecu *ecu, struct uds_job *job,
			 struct uds_job_result *res)
{
	struct uds_client_cfg cc = {
		.p2_ms = ecu->timing.p2_ms,
		.p2_star_ms = ecu->timing.p2_star_ms,
		.tester_present_ms = ecu->timing.tester_present_ms,
		.tester_present = uds_job_tp_mode(ecu),
		.adopt_session_timing = true,
		.timing_margin_ms = 25,
	};
	static uint8_t rx[UDS_CLIENT_RSP_MAX];
	const struct uds_segment *seg;
	struct uds_prog p;
	sigset_t sigs, old;
	size_t nseg;
	int s, sfd, err, bcm = -1;
	struct bus_frame tp_frame;
	bool tp_on = false;

	memset(res, 0, sizeof(*res));
	if (strchr(ifname, ':')) {
		fota_error("%s: kernel ISO-TP needs a SocketCAN interface (can0, vcan0)", ifname);
		return -EINVAL;
	}
	s = open_socket(ifname, ecu);
	if (s < 0)
		return s;
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGTERM);
	sigprocmask(SIG_BLOCK, &sigs, &old);
	sfd = signalfd(-1, &sigs, SFD_CLOEXEC | SFD_NONBLOCK);

	if (cc.tester_present == UDS_TP_FUNCTIONAL) {
		static const uint8_t tp[2] = { UDS_SID_TESTER_PRESENT, UDS_SUPPRESS_POS_RSP };

		bcm = bcm_open(ifname);
		if (bcm < 0 || isotp_sf_frame(uds_job_isotp(job), cfg_ecu_functional_id(ecu), tp,
					      sizeof(tp), &tp_frame)) {
			/* No can-bcm: the best the blocking socket allows. */
			fota_warn("%s: no CAN broadcast manager (%s): TesterPresent between "
				  "requests on the physical id",
				  ifname, strerror(bcm < 0 ? -bcm : EINVAL));
			if (bcm >= 0)
				close(bcm);
			bcm = -1;
			cc.tester_present = UDS_TP_PHYSICAL;
		}
	}

	/* The job's sequence settings and key, driven PDU by PDU. */
	seg = uds_job_segments(job, &nseg);
	uds_prog_init(&p, uds_job_prog_cfg(job), &cc);
	err = uds_prog_start(&p, seg, nseg, fota_now());
	while (!err && uds_prog_result(&p, NULL) == -EINPROGRESS) {
		struct pollfd pfd[2] = { { s, POLLIN, 0 }, { sfd, POLLIN, 0 } };
		const uint8_t *pdu;
		size_t len;
		fota_us now = fota_now();
		ssize_t n;
		bool tp_want =
			bcm >= 0 && uds_client_session(uds_prog_client(&p)) != UDS_SESSION_DEFAULT;

		if (tp_want != tp_on) {
			/* The session began (or ended): the kernel's cycle with it. */
			err = bcm_cyclic(bcm, &tp_frame,
					 tp_want ? ecu->timing.tester_present_ms : 0);
			if (err) {
				fota_error("%s: CAN_BCM: %s", ifname, strerror(-err));
				break;
			}
			tp_on = tp_want;
		}
		if (uds_prog_output(&p, &pdu, &len, now) == 1) {
			/* Blocks until the last frame left (WAIT_TX_DONE). */
			n = write(s, pdu, len);
			if (n == (ssize_t)len)
				uds_prog_sent(&p, fota_now());
			/* On failure (no FC: ECOMM) P2 runs out: retry or timeout. */
			continue;
		}
		if (poll(pfd, sfd >= 0 ? 2 : 1, wait_ms(uds_prog_deadline(&p), now)) < 0 &&
		    errno != EINTR) {
			err = -errno;
			break;
		}
		now = fota_now();
		if (sfd >= 0 && (pfd[1].revents & POLLIN)) {
			struct signalfd_siginfo si;

			if (read(sfd, &si, sizeof(si)) > 0)
				uds_prog_cancel(&p);
		}
		if (pfd[0].revents & POLLIN) {
			n = read(s, rx, sizeof(rx));
			if (n > 0)
				uds_prog_input(&p, rx, (size_t)n, now);
		}
		uds_prog_tick(&p, now);
	}
	if (!err)
		err = uds_prog_result(&p, &res->prog);
	res->err = err;
	uds_prog_strerror(&res->prog, res->msg, sizeof(res->msg));
	uds_prog_release(&p);
	if (bcm >= 0)
		close(bcm); /* ends the cycle */
	if (sfd >= 0)
		close(sfd);
	sigprocmask(SIG_SETMASK, &old, NULL);
	close(s);
	return err;
}
