// SPDX-License-Identifier: MIT
/*
 * Virtual-time runner for tests (DESIGN.md D2): the same members as
 * core/loop.h, over mem: buses, with the clock jumped straight to the next
 * deadline or delayed delivery. No sleeping, deterministic; a flash of
 * megabytes with realistic timings runs in milliseconds.
 *
 *	struct sim s;
 *	sim_init(&s, "flash", 0);
 *	bus_open(&tester, "mem:flash", NULL, NULL, 0);
 *	bus_open(&ecu, "mem:flash", NULL, NULL, 0);
 *	sim_add(&s, tester, &prog_member_ops, prog);
 *	sim_add(&s, ecu, &server_member_ops, server);
 *	T_OK(sim_run(&s, FOTA_SEC(60)));	// 0 once a member is done
 */
#ifndef FOTA_TESTS_SIM_H
#define FOTA_TESTS_SIM_H

#include "core/bus.h"
#include "tests/sim/bus_mem.h"
#include "core/loop.h"

#define SIM_MAX_MEMBERS 8

struct sim_member {
	struct bus *bus; /* several members may share a bus, as in one loop */
	struct loop_member m;
	struct bus_frame pending; /* refused with -EAGAIN: sent again first */
	bool has_pending;
};

struct sim {
	struct bus_mem_hub *hub; /* held */
	struct sim_member members[SIM_MAX_MEMBERS];
	size_t n;
	fota_us now;
	uint64_t passes;
	uint64_t send_errors; /* sends that failed (fault injection): the frame is lost */
	int last_send_err;
};

/* Hold hub NAME (created if needed) and set its clock to start. 0 or -ENOMEM. */
int sim_init(struct sim *s, const char *hub, fota_us start);
void sim_release(struct sim *s);

/* A member on bus (a mem: bus of the same hub). 0, -ENOSPC, -EINVAL (not that hub). */
int sim_add(struct sim *s, struct bus *bus, const struct loop_member_ops *ops, void *ctx);

/*
 * Run for at most duration of virtual time. 0 as soon as a member is done
 * (s->now is then the time it happened), -ETIMEDOUT when duration passed,
 * -ELOOP if the members keep asking for work at the same instant without
 * making progress (an engine bug: a deadline in the past that tick() does
 * not clear).
 */
int sim_run(struct sim *s, fota_us duration);

static inline fota_us sim_now(const struct sim *s)
{
	return s->now;
}

#endif
