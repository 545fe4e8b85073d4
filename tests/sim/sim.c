// SPDX-License-Identifier: MIT
/*
 * Virtual-time runner (see tests/sim/sim.h): pump frames between members over
 * the mem: hub until nothing moves, then jump the clock to the earliest
 * member deadline or delayed delivery.
 */
#include <errno.h>
#include <string.h>
#include "tests/sim/sim.h"

#define SIM_STALL_MAX 10000

int sim_init(struct sim *s, const char *hub, fota_us start)
{
	memset(s, 0, sizeof(*s));
	s->hub = bus_mem_hub_hold(hub);
	if (!s->hub)
		return -ENOMEM;
	s->now = start;
	bus_mem_set_now(s->hub, start);
	return 0;
}

void sim_release(struct sim *s)
{
	bus_mem_hub_release(s->hub);
	s->hub = NULL;
}

int sim_add(struct sim *s, struct bus *bus, const struct loop_member_ops *ops, void *ctx)
{
	if (s->n == SIM_MAX_MEMBERS)
		return -ENOSPC;
	if (bus_mem_hub(bus) != s->hub)
		return -EINVAL;
	memset(&s->members[s->n], 0, sizeof(s->members[0]));
	s->members[s->n].bus = bus;
	s->members[s->n].m.ops = ops;
	s->members[s->n].m.ctx = ctx;
	s->n++;
	return 0;
}

/* Is member i the first one on its bus (the one that reads it)? */
static bool first_on_bus(const struct sim *s, size_t i)
{
	size_t j;

	for (j = 0; j < i; j++)
		if (s->members[j].bus == s->members[i].bus)
			return false;
	return true;
}

static bool receive(struct sim *s)
{
	struct bus_frame f;
	bool moved = false;
	size_t i, j;

	for (i = 0; i < s->n; i++) {
		if (!first_on_bus(s, i))
			continue;
		while (bus_recv(s->members[i].bus, &f) > 0) {
			moved = true;
			for (j = i; j < s->n; j++) {
				const struct loop_member_ops *ops = s->members[j].m.ops;

				if (s->members[j].bus == s->members[i].bus && ops->input)
					ops->input(s->members[j].m.ctx, &f, s->now);
			}
		}
	}
	return moved;
}

/* false: the bus refused for now; keep the frame and stop this member's output */
static bool send(struct sim *s, struct sim_member *m, const struct bus_frame *f)
{
	int ret = bus_send(m->bus, f);

	if (ret == -EAGAIN || ret == -ENOBUFS) {
		m->pending = *f;
		m->has_pending = true;
		return false;
	}
	if (ret < 0) {
		s->send_errors++;
		s->last_send_err = ret;
	}
	return true;
}

static bool transmit(struct sim *s)
{
	struct bus_frame f;
	bool moved = false;
	size_t i;

	for (i = 0; i < s->n; i++) {
		struct sim_member *m = &s->members[i];
		const struct loop_member_ops *ops = m->m.ops;

		if (m->has_pending) {
			m->has_pending = false;
			moved = true;
			if (!send(s, m, &m->pending))
				continue;
		}
		if (!ops->output)
			continue;
		while (ops->output(m->m.ctx, &f, s->now) == 1) {
			moved = true;
			if (!send(s, m, &f))
				break;
		}
	}
	return moved;
}

static bool any_done(const struct sim *s)
{
	size_t i;

	for (i = 0; i < s->n; i++)
		if (s->members[i].m.ops->done && s->members[i].m.ops->done(s->members[i].m.ctx))
			return true;
	return false;
}

static fota_us next_event(const struct sim *s)
{
	fota_us next = bus_mem_next_delivery(s->hub);
	size_t i;

	for (i = 0; i < s->n; i++) {
		const struct loop_member_ops *ops = s->members[i].m.ops;

		if (ops->deadline)
			next = fota_min_deadline(next, ops->deadline(s->members[i].m.ctx));
		if (s->members[i].has_pending)
			next = fota_min_deadline(next, s->now + 1);
	}
	return next;
}

/* One instant: move frames until nothing moves. true if a member is done. */
static bool settle(struct sim *s)
{
	bool moved;
	size_t i;

	bus_mem_set_now(s->hub, s->now);
	do {
		s->passes++;
		moved = receive(s);
		for (i = 0; i < s->n; i++)
			if (s->members[i].m.ops->tick)
				s->members[i].m.ops->tick(s->members[i].m.ctx, s->now);
		moved |= transmit(s);
		if (any_done(s))
			return true;
	} while (moved);
	return false;
}

int sim_run(struct sim *s, fota_us duration)
{
	fota_us end = duration == FOTA_NEVER || s->now + duration < s->now ? FOTA_NEVER :
									     s->now + duration;
	unsigned stall = 0;
	fota_us next;

	for (;;) {
		if (settle(s))
			return 0;
		next = next_event(s);
		if (next <= s->now) {
			if (++stall > SIM_STALL_MAX)
				return -ELOOP;
			continue;
		}
		stall = 0;
		if (next > end) {
			if (s->now < end) {
				s->now = end;
				if (settle(s))
					return 0;
			}
			return -ETIMEDOUT;
		}
		s->now = next;
	}
}
