// SPDX-License-Identifier: MIT
/*
 * fota-test: a test-only helper for the shell tests (git's test-tool), built
 * as $(O)/tests/fota-test and never installed. cansend/candump for every bus
 * fota speaks, so the end-to-end tests can talk to `fota serve`/`fota ecu` on
 * a unix: bus the way the vcan tests use can-utils.
 *
 *   fota-test send [--fd] [--trace FILE] BUS FRAME...
 *	send each frame (cansend syntax) in order; exit 0, 2 bad frame, 4 no bus
 *   fota-test dump [--fd] [--trace FILE] [-n COUNT] [-t TIMEOUT_MS] [-i ID]... BUS [FRAME...]
 *	print received frames one per line ("7E0#0210..."), flushed at once;
 *	exit 0 after COUNT frames, 1 if TIMEOUT_MS passed first (without -n:
 *	0 at the timeout), 0 on SIGTERM/SIGINT; -i accepts only these ids.
 *	FRAMEs are sent once the receiver is open: a request and its answer
 *	in one process, with no wait for a listener (exit 2 bad frame).
 *	--reply SCRIPT makes it a scripted node: after the N-th frame it
 *	receives it sends the frames of line N of SCRIPT after its first word
 *	(up to 4, in order; "-" or none: no answer); the first words are for
 *	the test to compare with what was printed; exit 4 when an answer
 *	cannot be sent
 *   fota-test isotp-send [ISOTP-OPTS] BUS TX RX HEXFILE    (ids in hex)
 *	send one PDU with fota's user-space ISO-TP (uds/isotp.h): the bytes of
 *	HEXFILE ("-": stdin) as isotpsend reads them, hex pairs, blanks ignored;
 *	exit 0 once the last frame went out, 1 on an ISO-TP error or timeout
 *   fota-test isotp-recv [ISOTP-OPTS] [-n COUNT] BUS TX RX
 *	print received PDUs, one per line in isotprecv's format ("01 02 03")
 *	but without its trailing blank; exit 0 after COUNT PDUs (default 1), 1
 *	on an ISO-TP error (wrong SN, N_Cr) or after TIMEOUT_MS
 *	ISOTP-OPTS: --fd (CAN FD frames), --dl N (FD frame size, default 64),
 *	--bs N and --stmin N (the FC we send as receiver; STmin as the raw ISO
 *	byte, decimal or 0x..), --pad N (-1: minimal frames; default 0xCC),
 *	-t TIMEOUT_MS (default 10000), --trace FILE
 *   fota-test ifinfo BUS
 *	what libsocketcan reports for an interface (core/canif.h), one
 *	"key: value" per line; exit 0, or 4 with the reason
 *   fota-test notify-listen PATH
 *	the service manager's end of sd_notify (core/notify.h): bind a unix
 *	datagram socket at PATH ("@NAME": abstract) and print each assignment
 *	of each datagram received as "MS PID KEY=VALUE" (MS: milliseconds since
 *	the socket was bound, monotonic; PID: the sender's, from the kernel's
 *	credentials), flushed at once; exit 0 on SIGTERM/SIGINT, 1 if PATH
 *	cannot be bound
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include "core/bus.h"
#include "core/canif.h"
#include "core/hexstr.h"
#include "core/time.h"
#include "uds/isotp.h"

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static int usage(void)
{
	fputs("usage: fota-test send [--fd] [--trace FILE] BUS FRAME...\n"
	      "       fota-test dump [--fd] [--trace FILE] [-n COUNT] [-t TIMEOUT_MS] [-i ID]... "
	      "[--reply SCRIPT] BUS [FRAME...]\n"
	      "       fota-test isotp-send [--fd] [--dl N] [--bs N] [--stmin N] [--pad N] "
	      "[-t MS] BUS TX RX HEXFILE\n"
	      "       fota-test isotp-recv [--fd] [--dl N] [--bs N] [--stmin N] [--pad N] "
	      "[-t MS] [-n COUNT] BUS TX RX\n"
	      "       fota-test ifinfo BUS\n"
	      "       fota-test notify-listen PATH\n",
	      stderr);
	return 2;
}

struct common {
	struct bus_opts opts;
	const char *trace, *reply;
	FILE *tracefp;
	long count, timeout_ms;
	uint32_t ids[BUS_FILTER_MAX];
	size_t nids;
	struct isotp_cfg tp; /* isotp-send / isotp-recv */
};

static int num(const char *s, long lo, long hi, long *v)
{
	char *end;

	errno = 0;
	*v = strtol(s, &end, 0);
	return errno || *end || end == s || *v < lo || *v > hi ? -1 : 0;
}

static int parse(int argc, char **argv, struct common *c)
{
	static const struct option longopts[] = {
		{ "fd", no_argument, NULL, 'F' },
		{ "trace", required_argument, NULL, 'T' },
		{ "dl", required_argument, NULL, 'D' },
		{ "bs", required_argument, NULL, 'B' },
		{ "stmin", required_argument, NULL, 'S' },
		{ "pad", required_argument, NULL, 'P' },
		{ "reply", required_argument, NULL, 'R' },
		{ NULL, 0, NULL, 0 },
	};
	char *end;
	long v;
	int opt;

	c->count = -1;
	c->timeout_ms = -1;
	c->tp.pad = 0xCC;
	optind = 1;
	while ((opt = getopt_long(argc, argv, "+n:t:i:", longopts, NULL)) != -1) {
		switch (opt) {
		case 'F':
			c->opts.fd = true;
			break;
		case 'T':
			c->trace = optarg;
			break;
		case 'R':
			c->reply = optarg;
			break;
		case 'D':
			if (num(optarg, 8, 64, &v) < 0)
				return -1;
			c->tp.tx_dl = (uint8_t)v;
			break;
		case 'B':
			if (num(optarg, 0, 255, &v) < 0)
				return -1;
			c->tp.bs = (uint8_t)v;
			break;
		case 'S':
			if (num(optarg, 0, 255, &v) < 0)
				return -1;
			c->tp.stmin = (uint8_t)v;
			break;
		case 'P':
			if (num(optarg, -1, 255, &v) < 0)
				return -1;
			c->tp.pad = (int)v;
			break;
		case 'n':
			c->count = strtol(optarg, &end, 0);
			if (*end || c->count < 0)
				return -1;
			break;
		case 't':
			c->timeout_ms = strtol(optarg, &end, 0);
			if (*end || c->timeout_ms < 0)
				return -1;
			break;
		case 'i':
			if (c->nids == BUS_FILTER_MAX)
				return -1;
			c->ids[c->nids++] = (uint32_t)strtoul(optarg, &end, 0);
			if (*end)
				return -1;
			break;
		default:
			return -1;
		}
	}
	return optind;
}

static struct bus *open_bus(const char *spec, struct common *c)
{
	struct bus *bus;
	char err[256];

	if (bus_open(&bus, spec, &c->opts, err, sizeof(err)) < 0) {
		fprintf(stderr, "fota-test: %s\n", err);
		return NULL;
	}
	if (c->trace) {
		c->tracefp = fopen(c->trace, "a");
		if (!c->tracefp) {
			fprintf(stderr, "fota-test: %s: %s\n", c->trace, strerror(errno));
			bus_close(bus);
			return NULL;
		}
		setvbuf(c->tracefp, NULL, _IOLBF, 0);
		bus_set_trace(bus, c->tracefp);
	}
	return bus;
}

static void close_bus(struct bus *bus, struct common *c)
{
	bus_close(bus);
	if (c->tracefp)
		fclose(c->tracefp);
}

/* Parse n frames in cansend syntax into *frames (freed by the caller); 0 or 2. */
static int parse_frames(struct bus_frame **frames, int n, char **text)
{
	int i;

	*frames = calloc(n ? (size_t)n : 1, sizeof(**frames));
	if (!*frames)
		return 1;
	for (i = 0; i < n; i++) {
		if (bus_frame_parse(&(*frames)[i], text[i]) < 0) {
			fprintf(stderr, "fota-test: '%s': not a frame (cansend syntax)\n", text[i]);
			return 2;
		}
	}
	return 0;
}

/* Send the frames in order, waiting out a full queue; 0 or 1. */
static int send_frames(struct bus *bus, const struct bus_frame *frames, int n)
{
	int i;

	for (i = 0; i < n; i++) {
		int e;

		while ((e = bus_send(bus, &frames[i])) == -EAGAIN || e == -ENOBUFS) {
			struct pollfd p = { .fd = bus_fd(bus), .events = POLLOUT };

			poll(&p, 1, 10);
		}
		if (e < 0) {
			fprintf(stderr, "fota-test: %s: send: %s\n", bus->name, strerror(-e));
			return 1;
		}
	}
	return 0;
}

static int cmd_send(int argc, char **argv)
{
	struct common c = { 0 };
	struct bus_frame *frames;
	struct bus *bus;
	int n, first = parse(argc, argv, &c), ret;

	if (first < 0 || argc - first < 2)
		return usage();
	n = argc - first - 1;
	ret = parse_frames(&frames, n, argv + first + 1);
	if (ret) {
		free(frames);
		return ret;
	}
	bus = open_bus(argv[first], &c);
	if (!bus) {
		free(frames);
		return 4;
	}
	ret = send_frames(bus, frames, n);
	close_bus(bus, &c);
	free(frames);
	return ret;
}

/* The answer to one received frame (line N of a --reply script). */
#define REPLY_MAX 4
struct reply {
	size_t n; /* 0: "-", or a line of one word */
	struct bus_frame f[REPLY_MAX];
};

/* Read a --reply script into *replies (freed by the caller); 0, or 1/2 with a message. */
static int parse_replies(const char *path, struct reply **replies, size_t *n)
{
	char *line = NULL;
	size_t cap = 0;
	int ret = 0;
	FILE *fp = fopen(path, "r");

	*replies = NULL;
	*n = 0;
	if (!fp) {
		fprintf(stderr, "fota-test: %s: %s\n", path, strerror(errno));
		return 2;
	}
	/* Whole lines of any length (a CAN FD frame is 140 characters and more). */
	while (getline(&line, &cap, fp) != -1) {
		static const char blanks[] = " \t\r\n";
		char *resp, *save = NULL;
		struct reply *r = realloc(*replies, (*n + 1) * sizeof(**replies));

		if (!r) {
			fprintf(stderr, "fota-test: %s: out of memory\n", path);
			ret = 1;
			break;
		}
		*replies = r;
		r = &r[(*n)++];
		r->n = 0;
		resp = strtok_r(line, blanks, &save) ? strtok_r(NULL, blanks, &save) : NULL;
		if (resp && !strcmp(resp, "-"))
			continue;
		for (; resp; resp = strtok_r(NULL, blanks, &save)) {
			bool full = r->n == REPLY_MAX;

			if (full || bus_frame_parse(&r->f[r->n++], resp) < 0) {
				fprintf(stderr, "fota-test: %s:%zu: '%s': %s\n", path, *n, resp,
					full ? "more than 4 answers" : "not a frame");
				ret = 2;
				break;
			}
		}
		if (ret)
			break;
	}
	free(line);
	fclose(fp);
	return ret;
}

static int cmd_dump(int argc, char **argv)
{
	struct common c = { 0 };
	struct bus *bus;
	struct bus_frame f, *frames;
	struct reply *replies = NULL;
	size_t nreplies = 0;
	char text[BUS_FRAME_TEXT_MAX];
	fota_us end;
	long got = 0;
	int n, ret, first = parse(argc, argv, &c);

	if (first < 0 || argc - first < 1)
		return usage();
	if (c.reply && (ret = parse_replies(c.reply, &replies, &nreplies))) {
		free(replies);
		return ret;
	}
	n = argc - first - 1;
	ret = parse_frames(&frames, n, argv + first + 1);
	if (ret || !(bus = open_bus(argv[first], &c))) {
		free(frames);
		free(replies);
		return ret ? ret : 4;
	}
	if (c.nids && bus_set_filter(bus, c.ids, c.nids) < 0) {
		fprintf(stderr, "fota-test: bad filter\n");
		close_bus(bus, &c);
		free(frames);
		free(replies);
		return 2;
	}
	/* the receiver is open (and filtered) before the request goes out */
	ret = send_frames(bus, frames, n);
	free(frames);
	if (ret) {
		close_bus(bus, &c);
		free(replies);
		return ret;
	}
	end = c.timeout_ms < 0 ? FOTA_NEVER : fota_now() + FOTA_MS(c.timeout_ms);
	while (!stop && (c.count < 0 || got < c.count)) {
		struct pollfd p = { .fd = bus_fd(bus), .events = POLLIN };
		fota_us now = fota_now();
		int ms;

		while ((c.count < 0 || got < c.count) && bus_recv(bus, &f) == 1) {
			bus_frame_format(text, sizeof(text), &f);
			printf("%s\n", text);
			fflush(stdout);
			got++;
			/* the answer goes out after the request is printed (and so logged) */
			if ((size_t)got <= nreplies && replies[got - 1].n &&
			    send_frames(bus, replies[got - 1].f, (int)replies[got - 1].n)) {
				ret = 4; /* the bus failed; send_frames said why */
				stop = 1;
			}
		}
		if (c.count >= 0 && got >= c.count)
			break;
		if (now >= end)
			break;
		ms = end == FOTA_NEVER ? 1000 : (int)((end - now + 999) / 1000);
		poll(&p, 1, ms > 1000 ? 1000 : ms);
	}
	close_bus(bus, &c);
	free(replies);
	if (ret)
		return ret;
	if (c.count >= 0 && got < c.count && !stop)
		return 1;
	return 0;
}

/* A CAN id in hex, as can-utils write them ("7E0", "18DA10F1"). */
static int hexid(const char *s, long *v)
{
	char *end;

	errno = 0;
	*v = strtol(s, &end, 16);
	return errno || *end || end == s || *v < 0 || *v > 0x1FFFFFFF ? -1 : 0;
}

/* TX and RX of the isotp modes (hex); ids above 0x7FF are 29-bit. */
static int isotp_setup(struct common *c, char **ids)
{
	long tx, rx;

	if (hexid(ids[0], &tx) < 0 || hexid(ids[1], &rx) < 0)
		return -1;
	c->tp.tx_id = (uint32_t)tx;
	c->tp.rx_id = (uint32_t)rx;
	if (tx > 0x7FF || rx > 0x7FF)
		c->tp.id_flags = BUS_FRAME_EFF;
	c->tp.fd = c->opts.fd;
	if (!c->tp.fd)
		c->tp.tx_dl = 8;
	else if (!c->tp.tx_dl)
		c->tp.tx_dl = 64;
	c->tp.rx_max = 1u << 20;
	if (c->timeout_ms < 0)
		c->timeout_ms = 10000;
	return 0;
}

/*
 * Drive one channel until done() says so, the engine reports an error, or
 * the timeout. Returns 0, or -errno (-ETIMEDOUT for the overall timeout).
 */
static int isotp_run(struct bus *bus, struct isotp *tp, struct common *c, bool sending)
{
	fota_us end = fota_now() + FOTA_MS(c->timeout_ms);
	struct bus_frame f;
	long got = 0;
	int e;

	while (!stop) {
		fota_us now = fota_now(), dl;
		struct pollfd p = { .fd = bus_fd(bus), .events = POLLIN };
		const uint8_t *pdu;
		size_t len;

		while ((e = bus_recv(bus, &f)) == 1)
			isotp_input(tp, &f, fota_now());
		if (e < 0)
			return e;
		now = fota_now();
		isotp_tick(tp, now);
		while (isotp_output(tp, &f, now) == 1) {
			while ((e = bus_send(bus, &f)) == -EAGAIN || e == -ENOBUFS) {
				struct pollfd o = { .fd = bus_fd(bus), .events = POLLOUT };

				poll(&o, 1, 1);
			}
			if (e < 0)
				return e;
			now = fota_now();
		}
		if (sending) {
			e = isotp_tx_result(tp);
			if (e != -EINPROGRESS)
				return e;
		} else {
			while (isotp_recv(tp, &pdu, &len) == 1) {
				for (size_t i = 0; i < len; i++)
					printf("%02X%s", pdu[i], i + 1 < len ? " " : "\n");
				fflush(stdout);
				if (++got >= c->count)
					return 0;
			}
			e = isotp_rx_error(tp);
			if (e < 0)
				return e;
		}
		if (now >= end)
			return -ETIMEDOUT;
		dl = isotp_deadline(tp);
		if (dl > end)
			dl = end;
		p.events = POLLIN;
		poll(&p, 1, dl <= now ? 0 : (int)((dl - now + 999) / 1000));
	}
	return -EINTR;
}

/* HEXFILE's bytes: hex pairs, blanks and newlines between them ignored. */
static uint8_t *read_hex(const char *path, size_t *len)
{
	FILE *fp = strcmp(path, "-") ? fopen(path, "r") : stdin;
	size_t cap = 0, n = 0;
	uint8_t *buf = NULL;
	int ch, hi = -1;

	if (!fp) {
		fprintf(stderr, "fota-test: %s: %s\n", path, strerror(errno));
		return NULL;
	}
	while ((ch = fgetc(fp)) != EOF) {
		int d;

		if (ch == ' ' || ch == '\n' || ch == '\t' || ch == '\r')
			continue;
		d = fota_hexval(ch);
		if (d < 0)
			goto bad;
		if (hi < 0) {
			hi = d;
			continue;
		}
		if (n == cap) {
			uint8_t *nb = realloc(buf, cap ? cap * 2 : 4096);

			if (!nb)
				goto bad;
			buf = nb;
			cap = cap ? cap * 2 : 4096;
		}
		buf[n++] = (uint8_t)(hi << 4 | d);
		hi = -1;
	}
	if (hi >= 0 || n == 0)
		goto bad;
	if (fp != stdin)
		fclose(fp);
	*len = n;
	return buf;
bad:
	fprintf(stderr, "fota-test: %s: not hex bytes\n", path);
	if (fp != stdin)
		fclose(fp);
	free(buf);
	return NULL;
}

static int cmd_isotp(int argc, char **argv, bool sending)
{
	struct common c = { 0 };
	struct isotp *tp;
	struct bus *bus;
	uint8_t *data = NULL;
	size_t len = 0;
	int first = parse(argc, argv, &c), e;

	if (first < 0 || argc - first != (sending ? 4 : 3) || isotp_setup(&c, argv + first + 1) < 0)
		return usage();
	if (c.count < 0)
		c.count = 1;
	if (sending && !(data = read_hex(argv[first + 3], &len)))
		return 2;
	tp = isotp_new(&c.tp);
	if (!tp) {
		fprintf(stderr, "fota-test: bad ISO-TP settings: %s\n", strerror(errno));
		free(data);
		return 2;
	}
	bus = open_bus(argv[first], &c);
	if (!bus) {
		isotp_free(tp);
		free(data);
		return 4;
	}
	/* Only the peer's frames: a vcan bus carries whatever else runs. */
	bus_set_filter(bus, &c.tp.rx_id, 1);
	e = sending ? isotp_send(tp, data, len, fota_now()) : 0;
	if (!e)
		e = isotp_run(bus, tp, &c, sending);
	if (e < 0)
		fprintf(stderr, "fota-test: %s: ISO-TP %s: %s\n", argv[first],
			sending ? "send" : "receive", strerror(-e));
	close_bus(bus, &c);
	isotp_free(tp);
	free(data);
	return e < 0 ? 1 : 0;
}

static int cmd_ifinfo(int argc, char **argv)
{
	struct canif_info in;
	char err[256];

	if (argc != 2)
		return usage();
	if (canif_get_info(argv[1], &in, err, sizeof(err)) < 0) {
		fprintf(stderr, "fota-test: %s\n", err);
		return 4;
	}
	printf("kind: %s\nvirtual: %s\nstate: %s\nbitrate: %u\nrestart-ms: %u\n", in.kind,
	       in.virtual_can ? "yes" : "no", canif_state_name(in.state), in.bitrate,
	       in.restart_ms);
	if (in.has_berr)
		printf("txerr: %u\nrxerr: %u\n", in.txerr, in.rxerr);
	return 0;
}

static int notify_bind(const char *path)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	size_t len = strlen(path);
	int fd, on = 1;

	if (!len || len >= sizeof(a.sun_path)) {
		fprintf(stderr, "fota-test: %s: bad socket name\n", path);
		return -1;
	}
	memcpy(a.sun_path, path, len);
	if (path[0] == '@')
		a.sun_path[0] = '\0'; /* abstract: the length ends the name */
	else
		len++;
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0 ||
	    bind(fd, (struct sockaddr *)&a,
		 (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len)) ||
	    setsockopt(fd, SOL_SOCKET, SO_PASSCRED, &on, sizeof(on))) {
		fprintf(stderr, "fota-test: %s: %s\n", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

static int cmd_notify_listen(int argc, char **argv)
{
	union {
		struct cmsghdr h;
		char b[CMSG_SPACE(sizeof(struct ucred))];
	} c;
	char buf[4096];
	fota_us t0;
	int fd, ret = 0;

	if (argc != 2)
		return usage();
	fd = notify_bind(argv[1]);
	if (fd < 0)
		return 1;
	t0 = fota_now();
	while (!stop) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		struct iovec iov = { .iov_base = buf, .iov_len = sizeof(buf) - 1 };
		struct msghdr m = { .msg_iov = &iov,
				    .msg_iovlen = 1,
				    .msg_control = &c,
				    .msg_controllen = sizeof(c) };
		struct cmsghdr *h;
		struct ucred cr = { .pid = 0 };
		fota_us t;
		ssize_t r;

		if (poll(&p, 1, 200) <= 0)
			continue; /* a timeout, or a signal: look at stop */
		r = recvmsg(fd, &m, MSG_DONTWAIT);
		if (r < 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			fprintf(stderr, "fota-test: %s: %s\n", argv[1], strerror(errno));
			ret = 1;
			break;
		}
		t = fota_now() - t0;
		buf[r] = '\0';
		for (h = CMSG_FIRSTHDR(&m); h; h = CMSG_NXTHDR(&m, h))
			if (h->cmsg_level == SOL_SOCKET && h->cmsg_type == SCM_CREDENTIALS)
				memcpy(&cr, CMSG_DATA(h), sizeof(cr));
		for (char *line = strtok(buf, "\n"); line; line = strtok(NULL, "\n"))
			printf("%" PRIu64 ".%03u %d %s\n", t / 1000, (unsigned)(t % 1000),
			       (int)cr.pid, line);
		fflush(stdout);
	}
	close(fd);
	if (argv[1][0] != '@')
		unlink(argv[1]);
	return ret;
}

int main(int argc, char **argv)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	if (argc < 2)
		return usage();
	if (!strcmp(argv[1], "send"))
		return cmd_send(argc - 1, argv + 1);
	if (!strcmp(argv[1], "dump"))
		return cmd_dump(argc - 1, argv + 1);
	if (!strcmp(argv[1], "isotp-send"))
		return cmd_isotp(argc - 1, argv + 1, true);
	if (!strcmp(argv[1], "isotp-recv"))
		return cmd_isotp(argc - 1, argv + 1, false);
	if (!strcmp(argv[1], "ifinfo"))
		return cmd_ifinfo(argc - 1, argv + 1);
	if (!strcmp(argv[1], "notify-listen"))
		return cmd_notify_listen(argc - 1, argv + 1);
	return usage();
}
