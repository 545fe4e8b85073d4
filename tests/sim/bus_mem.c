// SPDX-License-Identifier: MIT
/*
 * In-memory CAN hub for unit tests ("mem:NAME"): see tests/sim/bus_mem.h.
 * Each member has a receive queue ordered by delivery time; a send appends a
 * copy to every other member's queue whose filter accepts it. Virtual time is
 * held by the hub and set by the test (or tests/sim/sim.c).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <stdio.h>
#include "core/err.h"
#include "tests/sim/bus_mem.h"

struct mem_item {
	fota_us at;
	struct bus_frame f;
};

struct mem_bus {
	struct bus bus;
	struct bus_mem_hub *hub;
	struct mem_bus *next;
	unsigned index;
	struct bus_soft_filter filter;
	struct mem_item *q; /* q[head..n) pending, sorted by .at (stable) */
	size_t head, n, cap;
};

struct mem_rule {
	struct bus_mem_rule r;
	uint64_t seen;
	uint32_t fired;
};

struct bus_mem_hub {
	char name[64];
	struct bus_mem_hub *next;
	unsigned holds;
	unsigned next_index;
	struct mem_bus *members;
	fota_us now;
	struct mem_rule *rules;
	size_t nrules;
	struct bus_mem_rec *rec;
	size_t nrec, caprec;
	bool no_record;
};

static struct bus_mem_hub *hubs;

static struct bus_mem_hub *hub_find(const char *name)
{
	struct bus_mem_hub *h;

	for (h = hubs; h; h = h->next)
		if (!strcmp(h->name, name))
			return h;
	h = calloc(1, sizeof(*h));
	if (!h)
		return NULL;
	snprintf(h->name, sizeof(h->name), "%s", name);
	h->next = hubs;
	hubs = h;
	return h;
}

static void hub_put(struct bus_mem_hub *hub)
{
	struct bus_mem_hub **pp;

	if (hub->holds || hub->members)
		return;
	for (pp = &hubs; *pp; pp = &(*pp)->next) {
		if (*pp == hub) {
			*pp = hub->next;
			break;
		}
	}
	free(hub->rules);
	free(hub->rec);
	free(hub);
}

struct bus_mem_hub *bus_mem_hub_hold(const char *name)
{
	struct bus_mem_hub *h = hub_find(name);

	if (h)
		h->holds++;
	return h;
}

void bus_mem_hub_release(struct bus_mem_hub *hub)
{
	if (!hub || !hub->holds)
		return;
	hub->holds--;
	hub_put(hub);
}

static int queue_push(struct mem_bus *m, fota_us at, const struct bus_frame *f)
{
	size_t pos;

	if (m->head && m->head == m->n)
		m->head = m->n = 0;
	if (m->n == m->cap) {
		if (m->head) {
			memmove(m->q, m->q + m->head, (m->n - m->head) * sizeof(*m->q));
			m->n -= m->head;
			m->head = 0;
		} else {
			size_t cap = m->cap ? m->cap * 2 : 64;
			struct mem_item *q = realloc(m->q, cap * sizeof(*q));

			if (!q)
				return -ENOMEM;
			m->q = q;
			m->cap = cap;
		}
	}
	/* stable insert: after every item due at or before `at` (usually the tail) */
	pos = m->n;
	while (pos > m->head && m->q[pos - 1].at > at)
		pos--;
	memmove(m->q + pos + 1, m->q + pos, (m->n - pos) * sizeof(*m->q));
	m->q[pos].at = at;
	m->q[pos].f = *f;
	m->n++;
	return 0;
}

static int record(struct bus_mem_hub *hub, unsigned from, unsigned fate, const struct bus_frame *f)
{
	struct bus_mem_rec *r;

	if (hub->no_record)
		return 0;
	if (hub->nrec == hub->caprec) {
		size_t cap = hub->caprec ? hub->caprec * 2 : 256;

		r = realloc(hub->rec, cap * sizeof(*r));
		if (!r)
			return -ENOMEM;
		hub->rec = r;
		hub->caprec = cap;
	}
	r = &hub->rec[hub->nrec++];
	r->t = hub->now;
	r->from = from;
	r->fate = fate;
	r->f = *f;
	return 0;
}

static bool rule_matches(struct mem_rule *mr, const struct mem_bus *from, const struct bus_frame *f)
{
	const struct bus_mem_rule *r = &mr->r;

	if (r->match_id &&
	    (f->id != r->id || (f->flags & BUS_FRAME_EFF) != (r->id_flags & BUS_FRAME_EFF)))
		return false;
	if (r->from_set && from->index != r->from)
		return false;
	mr->seen++;
	if (r->nth)
		return mr->seen == r->nth;
	if (r->times && mr->fired >= r->times)
		return false;
	return true;
}

static int mem_send(struct bus *bus, const struct bus_frame *in)
{
	struct mem_bus *self = fota_container_of(bus, struct mem_bus, bus);
	struct bus_mem_hub *hub = self->hub;
	struct bus_frame f = *in;
	unsigned fate = 0, copies = 1;
	fota_us at = hub->now;
	struct mem_bus *m;
	size_t i;
	int ret;

	int fail = 0;

	/* every rule counts this frame, whatever the others do with it */
	for (i = 0; i < hub->nrules; i++) {
		struct mem_rule *mr = &hub->rules[i];

		if (!rule_matches(mr, self, in))
			continue;
		mr->fired++;
		switch (mr->r.fault) {
		case BUS_MEM_DROP:
			fate |= BUS_MEM_REC_DROPPED;
			break;
		case BUS_MEM_DUP:
			fate |= BUS_MEM_REC_DUP;
			copies = 2;
			break;
		case BUS_MEM_DELAY:
			fate |= BUS_MEM_REC_DELAYED;
			at = hub->now + mr->r.delay;
			break;
		case BUS_MEM_CORRUPT:
			if (f.len) {
				f.data[mr->r.byte % f.len] ^= mr->r.mask ? mr->r.mask : 0xff;
				fate |= BUS_MEM_REC_CORRUPTED;
			}
			break;
		case BUS_MEM_FAIL_SEND:
			if (!fail)
				fail = mr->r.err ? mr->r.err : -EIO;
			break;
		}
	}
	if (fail) {
		record(hub, self->index, BUS_MEM_REC_FAILED, in);
		return fail;
	}
	ret = record(hub, self->index, fate, &f);
	if (ret < 0)
		return ret;
	if (fate & BUS_MEM_REC_DROPPED)
		return 0;
	for (m = hub->members; m; m = m->next) {
		unsigned c;

		if (m == self || !bus_soft_filter_match(&m->filter, &f))
			continue;
		for (c = 0; c < copies; c++) {
			ret = queue_push(m, at, &f);
			if (ret < 0)
				return ret;
		}
	}
	return 0;
}

static int mem_recv(struct bus *bus, struct bus_frame *f)
{
	struct mem_bus *m = fota_container_of(bus, struct mem_bus, bus);

	if (m->head == m->n || m->q[m->head].at > m->hub->now)
		return 0;
	*f = m->q[m->head++].f;
	return 1;
}

static int mem_fd(struct bus *bus)
{
	return -1;
}

static int mem_set_filter(struct bus *bus, const uint32_t *ids, size_t n)
{
	struct mem_bus *m = fota_container_of(bus, struct mem_bus, bus);

	return bus_soft_filter_set(&m->filter, ids, n);
}

static uint64_t mem_trace_time(struct bus *bus)
{
	struct mem_bus *m = fota_container_of(bus, struct mem_bus, bus);

	return m->hub->now;
}

static void mem_close(struct bus *bus)
{
	struct mem_bus *m = fota_container_of(bus, struct mem_bus, bus);
	struct bus_mem_hub *hub = m->hub;
	struct mem_bus **pp;

	for (pp = &hub->members; *pp; pp = &(*pp)->next) {
		if (*pp == m) {
			*pp = m->next;
			break;
		}
	}
	free(m->q);
	free(m);
	hub_put(hub);
}

static const struct bus_ops mem_ops = {
	.send = mem_send,
	.recv = mem_recv,
	.fd = mem_fd,
	.set_filter = mem_set_filter,
	.close = mem_close,
	.trace_time = mem_trace_time,
};

static int mem_open(struct bus **bus, const char *name, const struct bus_opts *opts, char *err,
		    size_t errsize)
{
	struct bus_mem_hub *hub;
	struct mem_bus *m, **pp;

	if (!*name) {
		if (err && errsize)
			snprintf(err, errsize, "mem:: hub name missing (mem:NAME)");
		return -EINVAL;
	}
	m = calloc(1, sizeof(*m));
	hub = m ? hub_find(name) : NULL;
	if (!hub) {
		free(m);
		return -ENOMEM;
	}
	m->bus.ops = &mem_ops;
	snprintf(m->bus.name, sizeof(m->bus.name), "mem:%s", name);
	m->bus.fd = opts->fd;
	m->hub = hub;
	m->index = hub->next_index++;
	/* append, so members are visited in opening order */
	for (pp = &hub->members; *pp; pp = &(*pp)->next)
		;
	*pp = m;
	*bus = &m->bus;
	return 0;
}

void bus_mem_register(void)
{
	static const struct bus_backend mem = { "mem:", mem_open };

	bus_add_backend(&mem);
}

struct bus_mem_hub *bus_mem_hub(struct bus *bus)
{
	if (!bus || bus->ops != &mem_ops)
		return NULL;
	return fota_container_of(bus, struct mem_bus, bus)->hub;
}

unsigned bus_mem_member_index(struct bus *bus)
{
	return fota_container_of(bus, struct mem_bus, bus)->index;
}

void bus_mem_set_now(struct bus_mem_hub *hub, fota_us now)
{
	hub->now = now;
}

fota_us bus_mem_now(const struct bus_mem_hub *hub)
{
	return hub->now;
}

fota_us bus_mem_next_delivery(const struct bus_mem_hub *hub)
{
	fota_us next = FOTA_NEVER;
	const struct mem_bus *m;
	size_t i;

	for (m = hub->members; m; m = m->next)
		for (i = m->head; i < m->n; i++)
			if (m->q[i].at > hub->now) {
				next = fota_min_deadline(next, m->q[i].at);
				break;
			}
	return next;
}

size_t bus_mem_pending(const struct bus_mem_hub *hub)
{
	const struct mem_bus *m;
	size_t n = 0;

	for (m = hub->members; m; m = m->next)
		n += m->n - m->head;
	return n;
}

int bus_mem_fault(struct bus_mem_hub *hub, const struct bus_mem_rule *rule)
{
	struct mem_rule *r;

	if (rule->fault < BUS_MEM_DROP || rule->fault > BUS_MEM_FAIL_SEND)
		return -EINVAL;
	r = realloc(hub->rules, (hub->nrules + 1) * sizeof(*r));
	if (!r)
		return -ENOMEM;
	hub->rules = r;
	memset(&r[hub->nrules], 0, sizeof(*r));
	r[hub->nrules].r = *rule;
	hub->nrules++;
	return 0;
}

void bus_mem_clear_faults(struct bus_mem_hub *hub)
{
	free(hub->rules);
	hub->rules = NULL;
	hub->nrules = 0;
}

size_t bus_mem_record(const struct bus_mem_hub *hub, const struct bus_mem_rec **recs)
{
	*recs = hub->rec;
	return hub->nrec;
}

void bus_mem_clear_record(struct bus_mem_hub *hub)
{
	hub->nrec = 0;
}

void bus_mem_set_recording(struct bus_mem_hub *hub, bool on)
{
	hub->no_record = !on;
}
