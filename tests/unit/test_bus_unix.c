// SPDX-License-Identifier: MIT
/*
 * Unit tests of core/bus_unix.c: several members of one unix:DIR bus in one
 * process (each has its own socket, exactly as separate processes would):
 * delivery, no echo, order, filters, join and leave, a dead member's stale
 * socket, hostile datagrams, and a full receiver not blocking the sender.
 */
#include <dirent.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>
#include "core/bus.h"
#include "tests/unit/t.h"

static char top[64];
static char dir[256];
static char spec[300];

/* snprintf that must not truncate (test paths are short) */
#define FMT(buf, ...)                                                            \
	do {                                                                     \
		if (snprintf(buf, sizeof(buf), __VA_ARGS__) >= (int)sizeof(buf)) \
			abort();                                                 \
	} while (0)

static void fresh_dir(void)
{
	char tmpl[] = "/tmp/fota-bus-unix.XXXXXX";

	if (!mkdtemp(tmpl))
		abort();
	FMT(top, "%s", tmpl);
	/* a subdirectory that does not exist yet: bus_open creates it */
	snprintf(dir, sizeof(dir), "%s/bus", tmpl);
	snprintf(spec, sizeof(spec), "unix:%s", dir);
}

static void remove_dir(void)
{
	char cmd[600];

	FMT(cmd, "rm -rf '%s'", top);
	if (system(cmd) != 0)
		abort();
}

static int count_sockets(void)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	int n = 0;

	if (!d)
		return -1;
	while ((de = readdir(d)))
		if (strstr(de->d_name, ".sock"))
			n++;
	closedir(d);
	return n;
}

static struct bus *open_member(void)
{
	struct bus *b = NULL;
	char err[256];

	if (bus_open(&b, spec, NULL, err, sizeof(err)) < 0) {
		t_fail(__FILE__, __LINE__, "bus_open: %s", err);
		return NULL;
	}
	return b;
}

static struct bus_frame fr(const char *text)
{
	struct bus_frame f;

	if (bus_frame_parse(&f, text))
		abort();
	return f;
}

static const char *rx(struct bus *b)
{
	static char buf[4][BUS_FRAME_TEXT_MAX];
	static unsigned i;
	struct bus_frame f;

	if (bus_recv(b, &f) != 1)
		return "";
	bus_frame_format(buf[i % 4], sizeof(buf[0]), &f);
	return buf[i++ % 4];
}

#define SEND(b, text)                             \
	do {                                      \
		struct bus_frame t_f_ = fr(text); \
		T_OK(bus_send((b), &t_f_));       \
	} while (0)

static void test_bus_unix__two_members(void)
{
	struct bus *a, *b;

	fresh_dir();
	a = open_member();
	b = open_member();
	T_TRUE(a && b);
	if (!a || !b)
		return;
	T_EQ(count_sockets(), 2);
	T_TRUE(bus_fd(a) >= 0);
	T_EQ_STR(a->trace_if, "vbus0");
	SEND(a, "7E0#0210020000000000");
	T_EQ_STR(rx(b), "7E0#0210020000000000");
	T_EQ_STR(rx(a), ""); /* no echo */
	SEND(b, "18DA00F1#0322F190");
	T_EQ_STR(rx(a), "18DA00F1#0322F190");
	T_EQ_STR(rx(b), "");
	T_EQ(a->tx_frames, 1);
	T_EQ(a->rx_frames, 1);
	bus_close(a);
	T_EQ(count_sockets(), 1); /* a member removes its socket when it leaves */
	bus_close(b);
	T_EQ(count_sockets(), 0);
	remove_dir();
}

static void test_bus_unix__order_kept(void)
{
	struct bus *a, *b;
	struct bus_frame f = fr("7E0#21");
	unsigned i, got = 0, inorder = 1;

	fresh_dir();
	a = open_member();
	b = open_member();
	if (!a || !b)
		return;
	/* fewer than the socket queue holds (net.unix.max_dgram_qlen, 10) */
	for (i = 0; i < 10; i++) {
		f.data[0] = (uint8_t)(0x20 | (i & 0x0f));
		T_OK(bus_send(a, &f));
	}
	while (bus_recv(b, &f) == 1) {
		if (f.data[0] != (uint8_t)(0x20 | (got & 0x0f)))
			inorder = 0;
		got++;
	}
	T_EQ(got, 10);
	T_TRUE(inorder);
	bus_close(a);
	bus_close(b);
	remove_dir();
}

static void test_bus_unix__three_members_join_leave(void)
{
	struct bus *a, *b, *c;

	fresh_dir();
	a = open_member();
	b = open_member();
	if (!a || !b)
		return;
	SEND(a, "100#01");
	T_EQ_STR(rx(b), "100#01");
	c = open_member(); /* joins late: sees what is sent from now on */
	if (!c)
		return;
	T_EQ_STR(rx(c), "");
	SEND(a, "100#02");
	T_EQ_STR(rx(b), "100#02");
	T_EQ_STR(rx(c), "100#02");
	SEND(c, "200#03");
	T_EQ_STR(rx(a), "200#03");
	T_EQ_STR(rx(b), "200#03");
	bus_close(b); /* leaves: the others carry on */
	SEND(a, "100#04");
	T_EQ_STR(rx(c), "100#04");
	SEND(c, "200#05");
	T_EQ_STR(rx(a), "200#05");
	T_EQ(a->tx_dropped, 0);
	bus_close(a);
	bus_close(c);
	remove_dir();
}

static void test_bus_unix__filter(void)
{
	struct bus *a, *b;
	const uint32_t ids[] = { 0x7E8, 0x18DAF100 };

	fresh_dir();
	a = open_member();
	b = open_member();
	if (!a || !b)
		return;
	T_OK(bus_set_filter(b, ids, 2));
	SEND(a, "7E0#01");
	SEND(a, "7E8#02");
	SEND(a, "000007E8#03");
	SEND(a, "18DAF100#04");
	T_EQ_STR(rx(b), "7E8#02");
	T_EQ_STR(rx(b), "18DAF100#04");
	T_EQ_STR(rx(b), "");
	bus_close(a);
	bus_close(b);
	remove_dir();
}

static void test_bus_unix__fd_frames_only_to_fd_members(void)
{
	struct bus *a, *b, *c = NULL;
	struct bus_opts o = { .fd = true };
	struct bus_frame f = fr("123##1"
				"00112233445566778899AABB");

	fresh_dir();
	a = open_member();
	b = open_member();
	T_OK(bus_open(&c, spec, &o, NULL, 0));
	if (!a || !b || !c)
		return;
	T_OK(bus_send(c, &f));
	T_EQ_STR(rx(a), ""); /* a classic member does not see CAN FD frames */
	bus_set_filter(b, NULL, 0);
	bus_close(b);
	b = NULL;
	bus_close(a);
	T_OK(bus_open(&a, spec, &o, NULL, 0));
	T_OK(bus_send(c, &f));
	T_EQ_STR(rx(a), "123##100112233445566778899AABB");
	bus_close(a);
	bus_close(c);
	remove_dir();
}

/* A socket file left by a member that died (never closed its bus). */
static void make_stale_socket(const char *name)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_DGRAM, 0);

	FMT(sa.sun_path, "%s/%s", dir, name);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		abort();
	close(fd); /* the file stays, nobody is bound to it */
}

static void test_bus_unix__stale_socket_removed(void)
{
	struct bus *a, *b;

	fresh_dir();
	a = open_member();
	if (!a)
		return;
	make_stale_socket("99999.deadbeefdeadbeef.sock");
	T_EQ(count_sockets(), 2);
	b = open_member(); /* its scan finds the dead one and removes it */
	if (!b)
		return;
	T_EQ(count_sockets(), 2);
	make_stale_socket("99998.deadbeefdeadbeef.sock");
	SEND(a, "123#01"); /* a's rescan (inotify) meets it */
	T_EQ(count_sockets(), 2);
	T_EQ_STR(rx(b), "123#01");
	bus_close(a);
	bus_close(b);
	remove_dir();
}

static void test_bus_unix__hostile_datagrams_dropped(void)
{
	struct bus *a;
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	uint8_t bad1[] = { 1, 0, 9, 0, 0x23, 0x01, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9 }; /* len 9 */
	uint8_t bad2[] = { 1, 0, 1, 0, 0x00, 0x08, 0, 0, 0xAA }; /* 11-bit id 0x800 */
	uint8_t bad3[] = { 2, 0, 0, 0, 0x23, 0x01, 0, 0 };	 /* unknown version */
	uint8_t bad4[] = { 1, 0, 2, 0, 0x23, 0x01, 0, 0, 0xAA }; /* short */
	uint8_t good[] = { 1, 0, 1, 0, 0x23, 0x01, 0, 0, 0xAA };
	DIR *d;
	struct dirent *de;
	int fd = socket(AF_UNIX, SOCK_DGRAM, 0);

	fresh_dir();
	a = open_member();
	if (!a || fd < 0)
		return;
	d = opendir(dir);
	while ((de = readdir(d)))
		if (strstr(de->d_name, ".sock"))
			FMT(sa.sun_path, "%s/%s", dir, de->d_name);
	closedir(d);
	T_TRUE(sendto(fd, bad1, sizeof(bad1), 0, (struct sockaddr *)&sa, sizeof(sa)) > 0);
	T_TRUE(sendto(fd, bad2, sizeof(bad2), 0, (struct sockaddr *)&sa, sizeof(sa)) > 0);
	T_TRUE(sendto(fd, bad3, sizeof(bad3), 0, (struct sockaddr *)&sa, sizeof(sa)) > 0);
	T_TRUE(sendto(fd, bad4, sizeof(bad4), 0, (struct sockaddr *)&sa, sizeof(sa)) > 0);
	T_TRUE(sendto(fd, good, sizeof(good), 0, (struct sockaddr *)&sa, sizeof(sa)) > 0);
	T_EQ_STR(rx(a), "123#AA");
	T_EQ(a->rx_dropped, 4);
	close(fd);
	bus_close(a);
	remove_dir();
}

/*
 * A member that never reads: its queue fills; the sender waits at most the
 * configured time once, then drops frames for it without waiting, and
 * delivers again as soon as it reads.
 */
static void test_bus_unix__full_receiver_does_not_block(void)
{
	struct bus *a, *b;
	struct bus_frame f = fr("7E0#21");
	unsigned i, got = 0;

	fresh_dir();
	a = open_member();
	b = open_member();
	if (!a || !b)
		return;
	T_OK(bus_unix_set_send_wait(a, 1000)); /* 1 ms; the default is 100 ms */
	for (i = 0; i < 200; i++)
		T_OK(bus_send(a, &f));
	T_TRUE(a->tx_dropped > 0);
	T_TRUE(a->tx_dropped < 200);
	while (bus_recv(b, &f) == 1)
		got++;
	T_EQ(got + a->tx_dropped, 200);
	f.data[0] = 0x55;
	T_OK(bus_send(a, &f));
	T_EQ_STR(rx(b), "7E0#55");
	T_ERR(bus_unix_set_send_wait(NULL, 1), -EINVAL);
	bus_close(a);
	bus_close(b);
	remove_dir();
}

/*
 * For the loop (send_nowait): a member whose queue is full does not block
 * the sender; the others get the frame at once, -EAGAIN says to wait for
 * POLLOUT on bus_tx_fd(), and the frame sent again reaches only the member
 * that missed it: no member sees it twice.
 */
static void test_bus_unix__nowait_full_member_gets_the_frame_later(void)
{
	struct bus *a, *slow, *fast;
	struct bus_frame f = fr("7E0#01"), g;
	struct pollfd p;
	unsigned i, fast_got = 0, slow_got = 0;
	int r = 0;

	fresh_dir();
	a = open_member();
	slow = open_member();
	fast = open_member();
	if (!a || !slow || !fast)
		return;
	a->send_nowait = true;
	for (i = 0; i < 30 && (r = bus_send(a, &f)) == 0; i++) {
		while (bus_recv(fast, &g) == 1) /* fast keeps up, slow reads nothing */
			fast_got++;
		f.data[0]++;
	}
	T_ERR(r, -EAGAIN);
	T_TRUE(i >= 5 && i < 30);
	while (bus_recv(fast, &g) == 1)
		fast_got++;
	T_EQ(fast_got, i + 1); /* the refused frame reached fast already */
	T_EQ(a->tx_frames, i);
	p.fd = bus_tx_fd(a);
	p.events = POLLOUT;
	T_EQ(poll(&p, 1, 0), 0); /* slow's queue is still full */
	while (bus_recv(slow, &g) == 1)
		slow_got++;
	T_EQ(slow_got, i);
	T_EQ(poll(&p, 1, 1000), 1);
	T_OK(bus_send(a, &f)); /* again: to slow only */
	T_EQ(bus_recv(slow, &g), 1);
	T_EQ(g.data[0], f.data[0]);
	T_EQ(bus_recv(fast, &g), 0);
	T_EQ(a->tx_frames, i + 1);
	T_EQ(a->tx_dropped, 0);
	bus_close(a);
	bus_close(slow);
	bus_close(fast);
	remove_dir();
}

static void test_bus_unix__open_errors(void)
{
	struct bus *b = NULL;
	char err[256];
	FILE *fp;

	fresh_dir();
	T_TRUE(mkdir(dir, 0777) == 0);
	FMT(spec, "unix:%s/file", dir);
	FMT(err, "%s/file", dir);
	fp = fopen(err, "w");
	T_TRUE(fp != NULL);
	if (fp)
		fclose(fp);
	T_ERR(bus_open(&b, spec, NULL, err, sizeof(err)), -ENOTDIR);
	T_TRUE(strstr(err, "not a directory") != NULL);
	T_TRUE(strncmp(err, "unix:/tmp/", 10) == 0);
	T_ERR(bus_open(&b, "unix:/proc/no/such/dir", NULL, err, sizeof(err)), -ENOENT);
	T_TRUE(strstr(err, "cannot create directory") != NULL);
	/* missing parents are created, as for mkdir -p */
	FMT(spec, "unix:%s/a/b/c", dir);
	T_OK(bus_open(&b, spec, NULL, err, sizeof(err)));
	if (b)
		bus_close(b);
	remove_dir();
}

/* A client joins members that are there; it makes nothing and leaves nothing. */
static void test_bus_unix__client_needs_a_member(void)
{
	struct bus_opts peer = { .join = BUS_JOIN_PEER }, existing = { .join = BUS_JOIN_EXISTING };
	struct bus *a = NULL, *b = NULL;
	char err[256], path[300];
	struct stat st;

	fresh_dir();
	T_ERR(bus_open(&b, spec, &peer, err, sizeof(err)), -ENOTCONN);
	T_TRUE(strstr(err, "no other member on unix:/tmp/") != NULL);
	T_TRUE(stat(dir, &st) < 0);
	T_ERR(bus_open(&b, spec, &existing, err, sizeof(err)), -ENOTCONN);
	T_TRUE(stat(dir, &st) < 0);
	T_TRUE(mkdir(dir, 0777) == 0);
	T_ERR(bus_open(&b, spec, &peer, err, sizeof(err)), -ENOTCONN);
	T_EQ(count_sockets(), 0);
	/* the directory exists: one that waits for a member may join */
	T_OK(bus_open(&b, spec, &existing, err, sizeof(err)));
	T_EQ(count_sockets(), 1);
	bus_close(b);
	/* the socket file of a member that died is no member */
	make_stale_socket("99999.deadbeefdeadbeef.sock");
	T_ERR(bus_open(&b, spec, &peer, err, sizeof(err)), -ENOTCONN);
	T_EQ(count_sockets(), 0);
	a = open_member();
	T_OK(bus_open(&b, spec, &peer, err, sizeof(err)));
	if (a && b) {
		/* the path a signal handler removes is the member's socket */
		T_OK(bus_unix_socket_path(b, path, sizeof(path)));
		T_TRUE(stat(path, &st) == 0 && S_ISSOCK(st.st_mode));
		T_ERR(bus_unix_socket_path(b, path, 10), -ENAMETOOLONG);
		SEND(b, "123#01");
		T_EQ_STR(rx(a), "123#01");
	}
	bus_close(b);
	T_EQ(count_sockets(), 1);
	bus_close(a);
	remove_dir();
}

static void test_bus_unix__long_directory_name(void)
{
	struct bus *a, *b;
	char sub[200];

	fresh_dir();
	/* longer than a socket address can hold (107 characters) */
	memset(sub, 'x', 120);
	sub[120] = '\0';
	T_TRUE(mkdir(dir, 0777) == 0);
	FMT(spec, "unix:%s/%s", dir, sub);
	a = open_member();
	b = open_member();
	if (a && b) {
		SEND(a, "123#01");
		T_EQ_STR(rx(b), "123#01");
	}
	bus_close(a);
	bus_close(b);
	remove_dir();
}

static const struct t_case cases[] = {
	T_CASE(bus_unix__two_members),
	T_CASE(bus_unix__order_kept),
	T_CASE(bus_unix__three_members_join_leave),
	T_CASE(bus_unix__filter),
	T_CASE(bus_unix__fd_frames_only_to_fd_members),
	T_CASE(bus_unix__stale_socket_removed),
	T_CASE(bus_unix__hostile_datagrams_dropped),
	T_CASE(bus_unix__full_receiver_does_not_block),
	T_CASE(bus_unix__nowait_full_member_gets_the_frame_later),
	T_CASE(bus_unix__open_errors),
	T_CASE(bus_unix__client_needs_a_member),
	T_CASE(bus_unix__long_directory_name),
};

int main(void)
{
	return t_main(cases, FOTA_ARRAY_SIZE(cases));
}
