// SPDX-License-Identifier: MIT
/*
 * Unit tests of core/loop.c (the real-time driver) and tests/sim/sim.c (the
 * virtual-time one) with small hand-written members. The real loop is
 * checked for what it does, never for how fast: a peer is served from an
 * extra-fd callback in the same process, so nothing depends on scheduling.
 */
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include "tests/sim/bus_mem.h"
#include "core/loop.h"
#include "tests/sim/sim.h"
#include "tests/unit/t.h"

/* ---- a pinger: sends 7E0#<n> and waits for 7E8#<n+1>, `want` times ---- */

struct pinger {
	unsigned sent, got, want;
	bool waiting, bad_order;
	fota_us timeout_at, period;
	unsigned timeouts;
};

static void ping_input(void *ctx, const struct bus_frame *f, fota_us now)
{
	struct pinger *p = ctx;

	if (f->id != 0x7E8 || f->len != 1)
		return;
	if (f->data[0] != (uint8_t)(p->sent))
		p->bad_order = true;
	p->got++;
	p->waiting = false;
}

static void ping_tick(void *ctx, fota_us now)
{
	struct pinger *p = ctx;

	if (p->waiting && now >= p->timeout_at) {
		p->timeouts++;
		p->waiting = false;
	}
}

static int ping_output(void *ctx, struct bus_frame *f, fota_us now)
{
	struct pinger *p = ctx;

	if (p->waiting || p->sent == p->want)
		return 0;
	memset(f, 0, sizeof(*f));
	f->id = 0x7E0;
	f->len = 1;
	f->data[0] = (uint8_t)p->sent++;
	p->waiting = true;
	p->timeout_at = now + (p->period ? p->period : FOTA_MS(1000));
	return 1;
}

static fota_us ping_deadline(void *ctx)
{
	struct pinger *p = ctx;

	return p->waiting ? p->timeout_at : FOTA_NEVER;
}

static bool ping_done(void *ctx)
{
	struct pinger *p = ctx;

	return p->got + p->timeouts == p->want && !p->waiting;
}

static const struct loop_member_ops ping_ops = {
	.input = ping_input,
	.tick = ping_tick,
	.output = ping_output,
	.deadline = ping_deadline,
	.done = ping_done,
};

/* ---- an echo member (sim) / fd callback (loop): 7E0#n -> 7E8#n+1 ---- */

struct echo {
	struct bus_frame q[8];
	unsigned n;
	unsigned answered;
};

static void echo_input(void *ctx, const struct bus_frame *f, fota_us now)
{
	struct echo *e = ctx;

	if (f->id == 0x7E0 && e->n < 8) {
		e->q[e->n] = *f;
		e->q[e->n].id = 0x7E8;
		e->q[e->n].data[0]++;
		e->n++;
	}
}

static int echo_output(void *ctx, struct bus_frame *f, fota_us now)
{
	struct echo *e = ctx;

	if (!e->n)
		return 0;
	*f = e->q[0];
	memmove(e->q, e->q + 1, --e->n * sizeof(e->q[0]));
	e->answered++;
	return 1;
}

static const struct loop_member_ops echo_ops = {
	.input = echo_input,
	.output = echo_output,
};

struct echo_fd {
	struct bus *bus;
	struct echo e;
};

static int echo_fd_cb(void *ctx, int fd, short revents, fota_us now)
{
	struct echo_fd *x = ctx;
	struct bus_frame f;

	while (bus_recv(x->bus, &f) == 1)
		echo_input(&x->e, &f, now);
	while (echo_output(&x->e, &f, now) == 1)
		if (bus_send(x->bus, &f) < 0)
			return -EIO;
	return 0;
}

static char dir[64];

static void fresh_unix(char *spec, size_t size)
{
	snprintf(dir, sizeof(dir), "/tmp/fota-loop.XXXXXX");
	if (!mkdtemp(dir))
		abort();
	snprintf(spec, size, "unix:%s", dir);
}

static void remove_unix(void)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		abort();
}

static void test_loop__ping_pong_over_unix(void)
{
	char spec[80];
	struct bus *a, *b;
	struct pinger p = { .want = 50 };
	struct echo_fd peer = { 0 };
	struct loop l;

	fresh_unix(spec, sizeof(spec));
	T_OK(bus_open(&a, spec, NULL, NULL, 0));
	T_OK(bus_open(&b, spec, NULL, NULL, 0));
	peer.bus = b;
	loop_init(&l, a);
	T_OK(loop_add(&l, &ping_ops, &p));
	T_OK(loop_add_fd(&l, bus_fd(b), POLLIN, echo_fd_cb, &peer));
	T_OK(loop_run(&l, FOTA_SEC(30)));
	T_EQ(p.got, 50);
	T_EQ(p.timeouts, 0);
	T_TRUE(!p.bad_order);
	T_EQ(a->tx_frames, 50);
	T_EQ(a->rx_frames, 50);
	T_EQ(peer.e.answered, 50);
	loop_release(&l);
	bus_close(a);
	bus_close(b);
	remove_unix();
}

static void test_loop__deadline_fires(void)
{
	struct bus *a;
	struct pinger p = { .want = 1, .period = FOTA_MS(2) }; /* nobody answers */
	struct loop l;

	T_OK(bus_open(&a, "mem:lp1", NULL, NULL, 0));
	loop_init(&l, a);
	T_OK(loop_add(&l, &ping_ops, &p));
	T_OK(loop_run(&l, FOTA_SEC(30)));
	T_EQ(p.timeouts, 1);
	T_TRUE(l.now >= p.timeout_at);
	loop_release(&l);
	bus_close(a);
}

static void test_loop__timeout(void)
{
	struct bus *a;
	struct loop l;
	struct echo e = { 0 };

	T_OK(bus_open(&a, "mem:lp2", NULL, NULL, 0));
	loop_init(&l, a);
	T_OK(loop_add(&l, &echo_ops, &e)); /* never done, no deadline */
	T_ERR(loop_run(&l, FOTA_MS(1)), -ETIMEDOUT);
	T_EQ_U64(loop_next_deadline(&l), FOTA_NEVER);
	loop_release(&l);
	bus_close(a);
}

static void raise_usr1(void *ctx, fota_us now)
{
	int *n = ctx;

	if ((*n)++ == 0)
		raise(SIGUSR1);
}

static void test_loop__signal_ends_run(void)
{
	static const struct loop_member_ops ops = { .tick = raise_usr1 };
	const int sigs[] = { SIGUSR1 };
	struct bus *a;
	struct loop l;
	int n = 0;
	sigset_t cur;

	T_OK(bus_open(&a, "mem:lp3", NULL, NULL, 0));
	loop_init(&l, a);
	T_OK(loop_add(&l, &ops, &n));
	T_OK(loop_catch_signals(&l, sigs, 1));
	T_ERR(loop_run(&l, FOTA_SEC(30)), -EINTR);
	T_EQ(l.signo, SIGUSR1);
	loop_release(&l);
	sigprocmask(SIG_SETMASK, NULL, &cur);
	T_TRUE(!sigismember(&cur, SIGUSR1)); /* mask restored */
	bus_close(a);
}

struct fd_stop {
	int fds[2];
	int calls;
	int ret;
};

static int fd_stop_cb(void *ctx, int fd, short revents, fota_us now)
{
	struct fd_stop *s = ctx;
	char c;

	s->calls++;
	if (read(fd, &c, 1) != 1)
		return -EIO;
	return s->ret;
}

static void test_loop__fd_callback_ends_run(void)
{
	struct bus *a;
	struct loop l;
	struct fd_stop s = { .ret = 1 };
	struct echo e = { 0 };

	T_OK(bus_open(&a, "mem:lp4", NULL, NULL, 0));
	T_OK(pipe(s.fds));
	loop_init(&l, a);
	T_OK(loop_add(&l, &echo_ops, &e));
	T_OK(loop_add_fd(&l, s.fds[0], POLLIN, fd_stop_cb, &s));
	T_TRUE(write(s.fds[1], "x", 1) == 1);
	T_OK(loop_run(&l, FOTA_SEC(30)));
	T_EQ(s.calls, 1);
	s.ret = -EBADMSG;
	T_TRUE(write(s.fds[1], "x", 1) == 1);
	T_ERR(loop_run(&l, FOTA_SEC(30)), -EBADMSG);
	close(s.fds[0]);
	close(s.fds[1]);
	loop_release(&l);
	bus_close(a);
}

/* A socket replaced on reconnect: the entry starts unpolled (-1), then gets an fd. */
static void test_loop__fd_update(void)
{
	struct bus *a;
	struct loop l;
	struct fd_stop s = { .ret = 1 };

	T_OK(bus_open(&a, "mem:lp9", NULL, NULL, 0));
	T_OK(pipe(s.fds));
	loop_init(&l, a);
	T_OK(loop_add_fd(&l, -1, POLLIN, fd_stop_cb, &s));
	T_TRUE(write(s.fds[1], "x", 1) == 1);
	T_ERR(loop_run(&l, FOTA_MS(50)), -ETIMEDOUT); /* not polled */
	T_EQ(s.calls, 0);
	T_OK(loop_fd_update(&l, fd_stop_cb, &s, s.fds[0], POLLIN));
	T_OK(loop_run(&l, FOTA_SEC(30)));
	T_EQ(s.calls, 1);
	T_ERR(loop_fd_update(&l, fd_stop_cb, NULL, s.fds[0], POLLIN), -ENOENT);
	close(s.fds[0]);
	close(s.fds[1]);
	loop_release(&l);
	bus_close(a);
}

static void go_bus_off(void *ctx, fota_us now)
{
	struct bus *bus = ctx;

	if (bus->state != BUS_STATE_BUS_OFF) {
		bus->state = BUS_STATE_BUS_OFF;
		bus->state_seq++;
	}
}

static int state_seen;

static int state_cb(void *ctx, struct bus *bus, enum bus_state st)
{
	state_seen = (int)st;
	return -ECANCELED;
}

static void test_loop__bus_off_reported(void)
{
	static const struct loop_member_ops ops = { .tick = go_bus_off };
	struct bus *a;
	struct loop l;

	T_OK(bus_open(&a, "mem:lp5", NULL, NULL, 0));
	loop_init(&l, a);
	T_OK(loop_add(&l, &ops, a));
	T_ERR(loop_run(&l, FOTA_SEC(30)), -ENETDOWN); /* default: bus-off ends the run */
	T_EQ(l.bus_state, BUS_STATE_BUS_OFF);
	a->state = BUS_STATE_ERROR_ACTIVE;
	a->state_seq++;
	loop_set_bus_state_cb(&l, state_cb, NULL);
	T_ERR(loop_run(&l, FOTA_SEC(30)), -ECANCELED);
	T_EQ(state_seen, BUS_STATE_ERROR_ACTIVE);
	loop_release(&l);
	bus_close(a);
}

/* A refused send (-ENOBUFS) is kept and sent again first: nothing lost, order kept. */
static void test_loop__refused_send_retried_in_order(void)
{
	struct bus *a, *b;
	struct loop l;
	struct pinger p = { .want = 3, .period = FOTA_MS(2) };
	struct bus_frame f;
	char got[3] = { 0 };
	int n = 0;

	T_OK(bus_open(&a, "mem:lp6", NULL, NULL, 0));
	T_OK(bus_open(&b, "mem:lp6", NULL, NULL, 0));
	T_OK(bus_mem_fault(
		bus_mem_hub(a),
		&(struct bus_mem_rule){ .fault = BUS_MEM_FAIL_SEND, .nth = 2, .err = -ENOBUFS }));
	loop_init(&l, a);
	T_OK(loop_add(&l, &ping_ops, &p));
	T_OK(loop_run(&l, FOTA_SEC(30))); /* nobody answers: 3 timeouts */
	T_EQ(p.timeouts, 3);
	T_EQ(l.send_waits, 1);
	while (bus_recv(b, &f) == 1 && n < 3)
		got[n++] = (char)f.data[0];
	T_EQ(n, 3);
	T_EQ(got[0], 0);
	T_EQ(got[1], 1);
	T_EQ(got[2], 2);
	loop_release(&l);
	bus_close(a);
	bus_close(b);
}

/*
 * A burst (a 4095-byte TransferData is 586 frames) does not keep the loop
 * from reading the bus: a frame that arrives meanwhile is seen after at most
 * LOOP_PASS_FRAMES more frames of the burst, not after all of them.
 */
struct burster {
	unsigned left, sent, sent_at_input;
	bool got_input;
	struct bus *peer; /* sends the request when 100 frames of the burst are out */
};

static void burst_input(void *ctx, const struct bus_frame *f, fota_us now)
{
	struct burster *b = ctx;

	if (f->id == 0x627 && !b->got_input) {
		b->got_input = true;
		b->sent_at_input = b->sent;
	}
}

static int burst_output(void *ctx, struct bus_frame *f, fota_us now)
{
	struct burster *b = ctx;

	if (!b->left)
		return 0;
	memset(f, 0, sizeof(*f));
	f->id = 0x7E0;
	f->len = 8;
	b->left--;
	if (++b->sent == 100) {
		struct bus_frame req = { .id = 0x627, .len = 8 };

		T_OK(bus_send(b->peer, &req));
	}
	return 1;
}

static bool burst_done(void *ctx)
{
	struct burster *b = ctx;

	return !b->left && b->got_input;
}

static const struct loop_member_ops burst_ops = {
	.input = burst_input,
	.output = burst_output,
	.done = burst_done,
};

static void test_loop__burst_yields_to_input(void)
{
	struct bus *a, *b;
	struct loop l;
	struct burster br = { .left = 586 };

	T_OK(bus_open(&a, "mem:lp7", NULL, NULL, 0));
	T_OK(bus_open(&b, "mem:lp7", NULL, NULL, 0));
	br.peer = b;
	loop_init(&l, a);
	T_OK(loop_add(&l, &burst_ops, &br));
	T_OK(loop_run(&l, FOTA_SEC(30)));
	T_TRUE(br.got_input);
	T_TRUE(br.sent_at_input <= 100 + LOOP_PASS_FRAMES);
	T_EQ(br.sent, 586);
	T_TRUE(l.passes >= 586 / LOOP_PASS_FRAMES);
	loop_release(&l);
	bus_close(a);
	bus_close(b);
}

static void test_loop__limits(void)
{
	struct loop l;
	size_t i;

	loop_init(&l, NULL);
	for (i = 0; i < LOOP_MAX_MEMBERS; i++)
		T_OK(loop_add(&l, &echo_ops, NULL));
	T_ERR(loop_add(&l, &echo_ops, NULL), -ENOSPC);
	for (i = 0; i < LOOP_MAX_FDS; i++)
		T_OK(loop_add_fd(&l, 0, POLLIN, fd_stop_cb, NULL));
	T_ERR(loop_add_fd(&l, 0, POLLIN, fd_stop_cb, NULL), -ENOSPC);
}

/* ---- sim ---------------------------------------------------------------- */

static void test_loop__sim_ping_pong(void)
{
	struct sim s;
	struct bus *a, *b;
	struct pinger p = { .want = 20 };
	struct echo e = { 0 };

	T_OK(sim_init(&s, "sim1", FOTA_SEC(1)));
	T_OK(bus_open(&a, "mem:sim1", NULL, NULL, 0));
	T_OK(bus_open(&b, "mem:sim1", NULL, NULL, 0));
	T_OK(sim_add(&s, a, &ping_ops, &p));
	T_OK(sim_add(&s, b, &echo_ops, &e));
	T_OK(sim_run(&s, FOTA_SEC(10)));
	T_EQ(p.got, 20);
	T_TRUE(!p.bad_order);
	T_EQ_U64(sim_now(&s), FOTA_SEC(1)); /* instant answers: no time passed */
	sim_release(&s);
	bus_close(a);
	bus_close(b);
}

static void test_loop__sim_jumps_to_deadlines(void)
{
	struct sim s;
	struct bus *a, *b;
	struct pinger p = { .want = 3, .period = FOTA_MS(250) };
	struct echo e = { 0 };
	struct bus_mem_hub *hub;
	const struct bus_mem_rec *rec;

	T_OK(sim_init(&s, "sim2", 0));
	T_OK(bus_open(&a, "mem:sim2", NULL, NULL, 0));
	T_OK(bus_open(&b, "mem:sim2", NULL, NULL, 0));
	hub = bus_mem_hub(a);
	/* the 1st request is lost, the 2nd answer arrives after 100 ms */
	T_OK(bus_mem_fault(hub, &(struct bus_mem_rule){ .fault = BUS_MEM_DROP, .nth = 1 }));
	T_OK(bus_mem_fault(hub, &(struct bus_mem_rule){ .fault = BUS_MEM_DELAY,
							.match_id = true,
							.id = 0x7E8,
							.nth = 1,
							.delay = FOTA_MS(100) }));
	T_OK(sim_add(&s, a, &ping_ops, &p));
	T_OK(sim_add(&s, b, &echo_ops, &e));
	T_OK(sim_run(&s, FOTA_SEC(10)));
	T_EQ(p.timeouts, 1);
	T_EQ(p.got, 2);
	/* 250 ms timeout, then 100 ms delayed answer, then an instant one */
	T_EQ_U64(sim_now(&s), FOTA_MS(350));
	T_EQ(bus_mem_record(hub, &rec), 5);
	T_EQ_U64(rec[0].t, 0);
	T_EQ(rec[0].fate, BUS_MEM_REC_DROPPED);
	T_EQ_U64(rec[1].t, FOTA_MS(250));
	T_EQ_U64(rec[2].t, FOTA_MS(250));
	T_EQ(rec[2].fate, BUS_MEM_REC_DELAYED);
	T_EQ_U64(rec[3].t, FOTA_MS(350));
	sim_release(&s);
	bus_close(a);
	bus_close(b);
}

static void test_loop__sim_timeout_and_shared_bus(void)
{
	struct sim s;
	struct bus *a, *b;
	struct pinger p = { .want = 1, .period = FOTA_SEC(5) };
	struct echo e1 = { 0 }, e2 = { 0 };
	struct bus *other;

	T_OK(sim_init(&s, "sim3", 0));
	T_OK(bus_open(&a, "mem:sim3", NULL, NULL, 0));
	T_OK(bus_open(&b, "mem:sim3", NULL, NULL, 0));
	T_OK(bus_open(&other, "mem:elsewhere", NULL, NULL, 0));
	T_ERR(sim_add(&s, other, &echo_ops, &e1), -EINVAL);
	/* two members on one bus both see every frame, as in one loop */
	T_OK(sim_add(&s, b, &echo_ops, &e1));
	T_OK(sim_add(&s, b, &echo_ops, &e2));
	T_OK(sim_add(&s, a, &ping_ops, &p));
	T_ERR(sim_run(&s, FOTA_MS(1)), -ETIMEDOUT);
	T_EQ_U64(sim_now(&s), FOTA_MS(1));
	T_EQ(e1.answered, 1);
	T_EQ(e2.answered, 1);
	T_EQ(p.got, 2); /* two answers to one request: the pinger is never done */
	sim_release(&s);
	bus_close(a);
	bus_close(b);
	bus_close(other);
}

/* An engine whose deadline stays in the past: the sim says so instead of spinning. */
static fota_us stuck_deadline(void *ctx)
{
	return 0;
}

static void test_loop__sim_detects_stuck_engine(void)
{
	static const struct loop_member_ops ops = { .deadline = stuck_deadline };
	struct sim s;
	struct bus *a;

	T_OK(sim_init(&s, "sim4", FOTA_MS(5)));
	T_OK(bus_open(&a, "mem:sim4", NULL, NULL, 0));
	T_OK(sim_add(&s, a, &ops, NULL));
	T_ERR(sim_run(&s, FOTA_SEC(1)), -ELOOP);
	sim_release(&s);
	bus_close(a);
}

static const struct t_case cases[] = {
	T_CASE(loop__ping_pong_over_unix),
	T_CASE(loop__deadline_fires),
	T_CASE(loop__timeout),
	T_CASE(loop__signal_ends_run),
	T_CASE(loop__fd_callback_ends_run),
	T_CASE(loop__bus_off_reported),
	T_CASE(loop__refused_send_retried_in_order),
	T_CASE(loop__burst_yields_to_input),
	T_CASE(loop__limits),
	T_CASE(loop__sim_ping_pong),
	T_CASE(loop__fd_update),
	T_CASE(loop__sim_jumps_to_deadlines),
	T_CASE(loop__sim_timeout_and_shared_bus),
	T_CASE(loop__sim_detects_stuck_engine),
};

int main(void)
{
	return t_main(cases, FOTA_ARRAY_SIZE(cases));
}
