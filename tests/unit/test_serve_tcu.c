// SPDX-License-Identifier: MIT
/*
 * The TCU of fota serve (cmd/serve_tcu.c) in virtual time: a verified
 * package is offered, approved, the bootloader switch frame goes out, the
 * UDS job flashes a simulated ECU (uds/ecu.h) over the in-memory bus, the
 * machine waits for the OEM, and the files a platform reads (state file,
 * report, private firmware copy) say so at each step. The wall clock is
 * injected: an NTP step while waiting neither ends nor stretches the
 * health timeout, and the timestamps take the wall clock of the moment.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "cmd/serve_tcu.h"
#include "tests/sim/sim.h"
#include "tests/unit/t.h"
#include "uds/ecu.h"
#include "uds/isotp.h"
#include "uds/key.h"
#include "uds/server.h"

#define T0    FOTA_SEC(1000)
#define ID    "1b4e28ba-2fa1-41d2-883f-0016d3cca427"
#define WALL0 946684800u /* 2000-01-01: a TCU without a time fix */
#define STEP  (1700000000u - WALL0)

static const char cfg_text[] =
	"tcu: { health_check_timeout_min: 1 }\n"
	"ecus:\n"
	"  - name: hydraulics\n"
	"    request_id: 0x7E0\n"
	"    response_id: 0x7E8\n"
	"    bootloader_switch: { id: 0x700, data: \"01 02\", delay_ms: 500 }\n"
	"    security: { level: 0x01, key: \"xor:A5A5A5A5\" }\n"
	"    regions:\n"
	"      - { start: 0x08000000, size: 0x100 }\n";

/* 16 bytes at 0x08000000 */
static const char hex_ok[] = ":020000040800F2\n"
			     ":10000000000102030405060708090A0B0C0D0E0F78\n"
			     ":00000001FF\n";

static uint32_t wall_now = WALL0;

static uint32_t fake_wall(void)
{
	return wall_now;
}

/* ---- the ECU and a watcher of the bus ---- */

struct ecu {
	struct uds_server *s;
	struct isotp *tp;
	struct cfg_key key;
	struct uds_ecu side;
};

static int ecu_key(void *ctx, uint8_t level, const uint8_t *seed, size_t n, uint8_t *key,
		   size_t cap, size_t *klen)
{
	return uds_key_compute(&((struct ecu *)ctx)->key, level, seed, n, key, cap, klen);
}

struct watch {
	struct tcu *t;
	enum upd_state until;
	unsigned switch_frames;
};

static void watch_input(void *ctx, const struct bus_frame *f, fota_us now)
{
	struct watch *w = ctx;

	if (f->id == 0x700 && f->len == 2 && f->data[0] == 0x01 && f->data[1] == 0x02)
		w->switch_frames++;
}

static bool watch_done(void *ctx)
{
	struct watch *w = ctx;

	return w->t->u.state == w->until;
}

static const struct loop_member_ops watch_ops = { .input = watch_input, .done = watch_done };

/* ---- fixture ---- */

static char dir[64];
static struct serve_paths paths;

static void put(const char *name, const char *text)
{
	char p[256];
	FILE *f;

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	f = fopen(p, "w");
	T_TRUE(f != NULL);
	fputs(text, f);
	fclose(f);
}

static bool exists(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0;
}

static char *slurp(const char *path)
{
	static char buf[16384];
	FILE *f = fopen(path, "r");
	size_t n = 0;

	buf[0] = '\0';
	if (f) {
		n = fread(buf, 1, sizeof(buf) - 1, f);
		fclose(f);
	}
	buf[n] = '\0';
	return buf;
}

static void test_serve_tcu__whole_cycle_and_clock_step(void)
{
	struct fota_config cfg;
	struct cfg_error cerr;
	struct cmd_serve_pkg pkg;
	struct cmd_serve_verify_opts vo = { .max_bytes = 1u << 20 };
	struct tcu t;
	struct ecu e;
	struct watch w = { .t = &t };
	struct sim sim;
	struct bus *tb, *eb, *wb;
	struct isotp_cfg tc = { .tx_id = 0x7E8, .rx_id = 0x7E0, .pad = 0xCC };
	static const struct uds_region reg[] = { { 0x08000000, 0x100 } };
	struct uds_server_cfg sc = { .regions = reg,
				     .nregions = 1,
				     .security_level = 0x01,
				     .compute_key = ecu_key,
				     .key_ctx = &e,
				     .seed_of_seeds = 3 };
	char sha[65], req[2304], why[768], path[2048];
	const uint8_t *mem;
	uint32_t base;
	size_t span;
	fota_us now;

	snprintf(dir, sizeof(dir), "/tmp/fota-test-tcu-XXXXXX");
	T_TRUE(mkdtemp(dir) != NULL);
	snprintf(paths.dir, sizeof(paths.dir), "%s", dir);
	snprintf(paths.inbox, sizeof(paths.inbox), "%s/inbox", dir);
	snprintf(paths.outbox, sizeof(paths.outbox), "%s/outbox", dir);
	snprintf(paths.done, sizeof(paths.done), "%s/done", dir);
	snprintf(paths.firmware, sizeof(paths.firmware), "%s/firmware", dir);
	T_OK(mkdir(paths.inbox, 0700));
	T_OK(mkdir(paths.outbox, 0700));
	T_OK(mkdir(paths.done, 0700));
	T_OK(mkdir(paths.firmware, 0700));
	T_OK(cfg_load_string(cfg_text, sizeof(cfg_text) - 1, "fota.yaml", &cfg, &cerr));

	/* a verified package, its private copy kept */
	put("fw.hex", hex_ok);
	snprintf(path, sizeof(path), "%s/fw.hex", dir);
	{
		uint8_t d[32];

		T_OK(cmd_serve_sha256_file(path, d));
		for (int i = 0; i < 32; i++)
			snprintf(sha + 2 * i, 3, "%02x", d[i]);
	}
	snprintf(req, sizeof(req), "id: %s\necu: hydraulics\nfirmware: %s\nsha256: %s\n", ID, path,
		 sha);
	put("inbox/r.yaml", req);
	vo.copy_dir = paths.firmware;
	snprintf(path, sizeof(path), "%s/r.yaml", paths.inbox);
	T_OK(cmd_serve_verify(path, &cfg, &vo, &pkg, why, sizeof(why)));
	snprintf(path, sizeof(path), "%s/" ID, paths.firmware);
	T_TRUE(exists(path));

	/* the bus: TCU, ECU, watcher */
	T_OK(sim_init(&sim, "tcu", T0));
	T_OK(bus_open(&tb, "mem:tcu", NULL, NULL, 0));
	T_OK(bus_open(&eb, "mem:tcu", NULL, NULL, 0));
	T_OK(bus_open(&wb, "mem:tcu", NULL, NULL, 0));
	T_OK(cfg_key_parse("xor:A5A5A5A5", &e.key, NULL, 0));
	T_OK(uds_server_new(&e.s, &sc));
	e.tp = isotp_new(&tc);
	uds_ecu_init(&e.side, e.s, e.tp, NULL);

	tcu_init(&t, &cfg, &paths, NULL, T0);
	t.wall_fn = fake_wall;
	T_ERR(tcu_start(&t, T0), 0);
	T_EQ(t.u.ecu_health_check_timeout, 1); /* first start: from the configuration */
	T_OK(tcu_offer(&t, &pkg, "r.yaml", T0));
	T_EQ(t.u.update_available, 1);
	snprintf(path, sizeof(path), "%s/state", dir);
	T_TRUE(strstr(slurp(path), "update_available=1\n") != NULL); /* persisted */

	T_OK(sim_add(&sim, tb, &tcu_member_ops, &t));
	T_OK(sim_add(&sim, eb, &uds_ecu_member_ops, &e.side));
	T_OK(sim_add(&sim, wb, &watch_ops, &w));

	/* Checkpoint 1: approve; the request leaves the inbox */
	tcu_clock(&t, T0);
	T_OK(upd_handle(&t.u, UPD_EV_APPROVE, T0));
	tcu_process(&t, T0);
	snprintf(path, sizeof(path), "%s/r.yaml", paths.done);
	T_TRUE(exists(path));
	w.until = UPD_ST_VERIFY;
	T_OK(sim_run(&sim, FOTA_SEC(60)));
	T_EQ(w.switch_frames, 1);
	T_EQ(t.u.update_status, 0x10);
	T_TRUE(sim_now(&sim) >= T0 + FOTA_MS(500)); /* the bootloader delay was kept */
	mem = uds_server_memory(e.s, &base, &span);
	T_EQ(base, 0x08000000);
	for (unsigned i = 0; i < 16; i++)
		T_EQ(mem[i], i);
	snprintf(path, sizeof(path), "%s/%s.json", paths.outbox, ID);
	T_TRUE(strstr(slurp(path), "\"status\": \"in progress\"") != NULL);
	T_TRUE(strstr(slurp(path), "\"event\": \"flashed\"") != NULL);

	/* NTP steps the wall clock by 24 years while the machine waits */
	now = sim_now(&sim);
	wall_now += STEP;
	w.until = UPD_ST_VERIFY_TIMEOUT;
	T_OK(sim_run(&sim, FOTA_SEC(120)));
	T_EQ(t.u.update_status, 0x52);
	T_EQ_U64(sim_now(&sim), now + FOTA_SEC(60)); /* neither early nor late */
	/* the wall clock is read when the event happens (the fake one stands still) */
	T_EQ(t.u.update_end_time, wall_now);
	T_TRUE(t.u.update_start_time < WALL0 + 10);
	T_TRUE(strstr(slurp(path), "\"status\": \"failed\"") != NULL);
	/* the private copy is gone with the final status */
	snprintf(path, sizeof(path), "%s/" ID, paths.firmware);
	T_TRUE(!exists(path));

	tcu_release(&t);
	uds_server_free(e.s);
	isotp_free(e.tp);
	bus_close(tb);
	bus_close(eb);
	bus_close(wb);
	sim_release(&sim);
	cfg_release(&cfg);
	{
		char cmd[128];

		snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
		T_OK(system(cmd));
	}
}

static const struct t_case cases[] = {
	T_CASE(serve_tcu__whole_cycle_and_clock_step),
};

int main(void)
{
	return t_main(cases, FOTA_ARRAY_SIZE(cases));
}
