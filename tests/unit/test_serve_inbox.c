// SPDX-License-Identifier: MIT
/*
 * The inbox of fota serve (cmd/serve_inbox.c) with its real worker thread
 * over a scratch state directory: requests are queued and offered in
 * creation order whatever their names, a duplicate id is moved away without
 * touching the first one's report, a cancel file withdraws a queued request
 * (report, done/, private copy), a fresh unparseable file is looked at again
 * and rejected once it has settled, and a FIFO as firmware is refused
 * without blocking anyone.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "cmd/serve_inbox.h"
#include "tests/unit/t.h"

static const char cfg_text[] = "ecus:\n"
			       "  - name: hydraulics\n"
			       "    request_id: 0x7E0\n"
			       "    response_id: 0x7E8\n"
			       "    regions:\n"
			       "      - { start: 0x08000000, size: 0x100 }\n";
static const char hex_ok[] = ":020000040800F2\n"
			     ":10000000000102030405060708090A0B0C0D0E0F78\n"
			     ":00000001FF\n";

#define ID(n) "1b4e28ba-2fa1-41d2-883f-00000000000" #n

struct env {
	char dir[64];
	struct serve_paths p;
	struct fota_config cfg;
	struct worker *w;
	struct tcu t;
	struct inbox ib;
	char sha[65];
};

static void path_of(struct env *e, char *out, size_t n, const char *sub, const char *name)
{
	snprintf(out, n, "%s/%s/%s", e->dir, sub, name);
}

static void put(const char *path, const char *text, time_t mtime)
{
	char tmp[2048];
	FILE *f;

	snprintf(tmp, sizeof(tmp), "%s.part", path);
	f = fopen(tmp, "w");
	T_TRUE(f != NULL);
	fputs(text, f);
	fclose(f);
	if (mtime) {
		struct timespec ts[2] = { { mtime, 0 }, { mtime, 0 } };

		T_OK(utimensat(AT_FDCWD, tmp, ts, 0));
	}
	T_OK(rename(tmp, path));
}

static void put_req(struct env *e, const char *name, const char *id, const char *fw, time_t mtime)
{
	char path[2048], text[2304];

	snprintf(text, sizeof(text), "id: %s\necu: hydraulics\nfirmware: %s/%s\nsha256: %s\n", id,
		 e->dir, fw, e->sha);
	path_of(e, path, sizeof(path), "inbox", name);
	put(path, text, mtime);
}

static bool exists(struct env *e, const char *sub, const char *name)
{
	char path[2048];
	struct stat st;

	path_of(e, path, sizeof(path), sub, name);
	return stat(path, &st) == 0;
}

static const char *slurp(struct env *e, const char *sub, const char *name)
{
	static char buf[16384];
	char path[2048];
	size_t n = 0;
	FILE *f;

	path_of(e, path, sizeof(path), sub, name);
	buf[0] = '\0';
	f = fopen(path, "r");
	if (f) {
		n = fread(buf, 1, sizeof(buf) - 1, f);
		fclose(f);
	}
	buf[n] = '\0';
	return buf;
}

/* Run the inbox (tick, then results from the worker) until cond holds, at most secs. */

static void pump(struct env *e)
{
	struct pollfd p = { .fd = fota_worker_fd(e->w), .events = POLLIN };

	inbox_member_ops.tick(&e->ib, fota_now());
	if (poll(&p, 1, 20) > 0)
		fota_worker_collect(e->w);
}

/* A state directory whose last update, ID(9), ended 0x40. */
static void final_state(struct env *e)
{
	struct upd u;

	upd_init(&u);
	upd_set_clock(&u, FOTA_SEC(1), 1700000000u);
	T_OK(upd_offer(&u, ID(9), 0x7E0, 0, FOTA_SEC(1)));
	T_OK(upd_handle(&u, UPD_EV_APPROVE, FOTA_SEC(1)));
	upd_tick(&u, FOTA_SEC(2));
	T_OK(upd_handle(&u, UPD_EV_FLASH_OK, FOTA_SEC(3)));
	T_OK(upd_handle(&u, UPD_EV_HEALTH_OK, FOTA_SEC(4)));
	T_EQ(u.update_status, 0x40);
	T_OK(upd_save(&u, e->dir));
}

static void env_dirs(struct env *e)
{
	memset(e, 0, sizeof(*e));
	snprintf(e->dir, sizeof(e->dir), "/tmp/fota-test-inbox-XXXXXX");
	T_TRUE(mkdtemp(e->dir) != NULL);
	snprintf(e->p.dir, sizeof(e->p.dir), "%s", e->dir);
	snprintf(e->p.inbox, sizeof(e->p.inbox), "%s/inbox", e->dir);
	snprintf(e->p.outbox, sizeof(e->p.outbox), "%s/outbox", e->dir);
	snprintf(e->p.done, sizeof(e->p.done), "%s/done", e->dir);
	snprintf(e->p.firmware, sizeof(e->p.firmware), "%s/firmware", e->dir);
	T_OK(mkdir(e->p.inbox, 0700));
	T_OK(mkdir(e->p.outbox, 0700));
	T_OK(mkdir(e->p.done, 0700));
	T_OK(mkdir(e->p.firmware, 0700));
}

static void env_start(struct env *e)
{
	struct cfg_error cerr;
	char path[2048];
	uint8_t d[32];

	T_OK(cfg_load_string(cfg_text, sizeof(cfg_text) - 1, "fota.yaml", &e->cfg, &cerr));
	snprintf(path, sizeof(path), "%s/fw.hex", e->dir);
	put(path, hex_ok, 0);
	T_OK(cmd_serve_sha256_file(path, d));
	for (int i = 0; i < 32; i++)
		snprintf(e->sha + 2 * i, 3, "%02x", d[i]);
	T_OK(fota_worker_start(&e->w));
	tcu_init(&e->t, &e->cfg, &e->p, NULL, fota_now());
	T_OK(tcu_start(&e->t, fota_now()));
	inbox_init(&e->ib, &e->cfg, &e->p, e->w, &e->t);
}

static void env_init(struct env *e)
{
	env_dirs(e);
	env_start(e);
}

static void env_release(struct env *e)
{
	char cmd[128];

	T_OK(fota_worker_stop(e->w, FOTA_SEC(1)));
	inbox_release(&e->ib);
	tcu_release(&e->t);
	cfg_release(&e->cfg);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", e->dir);
	T_OK(system(cmd));
}

static void test_serve_inbox__creation_order_duplicates_cancel(void)
{
	struct env e;
	time_t t = time(NULL) - 100;

	env_init(&e);
	/* names in the opposite order of creation */
	put_req(&e, "c.yaml", ID(1), "fw.hex", t);
	put_req(&e, "b.yaml", ID(2), "fw.hex", t + 1);
	put_req(&e, "a.yaml", ID(3), "fw.hex", t + 2);
	for (int i = 0; i < 200 && strcmp(tcu_current_id(&e.t), ID(1)); i++)
		pump(&e);
	T_EQ_STR(tcu_current_id(&e.t), ID(1)); /* the oldest is offered first */
	T_EQ(e.t.u.update_available, 1);
	for (int i = 0; i < 200 && inbox_queued(&e.ib) < 2; i++)
		pump(&e);
	T_EQ(inbox_queued(&e.ib), 2);
	T_TRUE(exists(&e, "firmware", ID(2))); /* each verified firmware kept privately */
	T_TRUE(strstr(slurp(&e, "outbox", ID(2) ".json"), "\"event\": \"received\"") != NULL);

	/* the same id again under another name: moved away, the first report untouched */
	{
		char before[16384];

		snprintf(before, sizeof(before), "%s", slurp(&e, "outbox", ID(2) ".json"));
		put_req(&e, "dup.yaml", ID(2), "fw.hex", t + 3);
		inbox_poke(&e.ib);
		for (int i = 0; i < 200 && !exists(&e, "done", "dup.yaml"); i++)
			pump(&e);
		T_TRUE(exists(&e, "done", "dup.yaml"));
		T_EQ_STR(slurp(&e, "outbox", ID(2) ".json"), before);
		T_EQ(inbox_queued(&e.ib), 2);
	}

	/* a cancel file by id withdraws a queued request */
	{
		char path[2048];

		path_of(&e, path, sizeof(path), "inbox", ID(3) ".cancel");
		put(path, "", 0);
		inbox_poke(&e.ib);
		for (int i = 0; i < 200 && !exists(&e, "done", "a.yaml"); i++)
			pump(&e);
		T_TRUE(exists(&e, "done", "a.yaml"));
		for (int i = 0; i < 50 && inbox_queued(&e.ib) != 1; i++)
			pump(&e);
		T_EQ(inbox_queued(&e.ib), 1);
		T_TRUE(strstr(slurp(&e, "outbox", ID(3) ".json"), "\"status\": \"cancelled\"") !=
		       NULL);
		T_TRUE(!exists(&e, "firmware", ID(3)));
		T_TRUE(!exists(&e, "inbox", ID(3) ".cancel"));
	}
	env_release(&e);
}

static void test_serve_inbox__fresh_unparseable_settles_then_rejected(void)
{
	struct env e;
	fota_us start;
	int i;

	env_init(&e);
	start = fota_now();
	put_req(&e, "ok.yaml", ID(1), "fw.hex", 0); /* offered: the inbox is otherwise idle */
	{
		char path[2048];

		path_of(&e, path, sizeof(path), "inbox", "half.yaml");
		put(path, "id: [\n", time(NULL) + 3600); /* mid-write, clock skew: mtime ahead */
	}
	for (i = 0; i < 40; i++) /* 0.8 s: still looked at again, not rejected */
		pump(&e);
	T_TRUE(!exists(&e, "done", "half.yaml"));
	for (i = 0; i < 400 && !exists(&e, "done", "half.yaml"); i++)
		pump(&e);
	T_TRUE(exists(&e, "done", "half.yaml"));
	T_TRUE(fota_now() - start >= FOTA_MS(SERVE_SETTLE_MS));
	T_TRUE(fota_now() - start < FOTA_SEC(6)); /* a future mtime does not keep it fresh */
	T_TRUE(strstr(slurp(&e, "outbox", "rejected-half.json"), "\"status\": \"failed\"") != NULL);
	env_release(&e);
}

/*
 * A request with a readable id that is refused for another reason is
 * reported as outbox/ID.json; a rejection does not use the id up (the same
 * id with a corrected request is accepted, the log keeps the rejection),
 * but a finished update's id stays used up even by a malformed file.
 */
static void test_serve_inbox__rejection_reported_by_id_and_not_burnt(void)
{
	char path[2048], text[2304], good_sha[65];
	struct env e;
	time_t t = time(NULL) - 100;
	const char *rep;

	env_dirs(&e);
	final_state(&e);
	path_of(&e, path, sizeof(path), "outbox", ID(9) ".json");
	put(path, "{ \"id\": \"" ID(9) "\", \"status\": \"successful\", \"update_status\": 64 }\n",
	    0);
	env_start(&e);
	/* an unknown key: refused, but reported under its id */
	snprintf(text, sizeof(text),
		 "id: %s\necu: hydraulics\nfirmware: fw.hex\nsha256: %s\ncolour: red\n", ID(1),
		 e.sha);
	path_of(&e, path, sizeof(path), "inbox", "key.yaml");
	put(path, text, t);
	/* a malformed request with the finished update's id: its report untouched */
	path_of(&e, path, sizeof(path), "inbox", "old.yaml");
	put(path, "id: " ID(9) "\necu: hydraulics\n", t + 1);
	/* a wrong digest */
	snprintf(good_sha, sizeof(good_sha), "%s", e.sha);
	memset(e.sha, '0', 64);
	put_req(&e, "hash.yaml", ID(2), "fw.hex", t + 2);
	for (int i = 0;
	     i < 200 && !(exists(&e, "done", "key.yaml") && exists(&e, "done", "old.yaml") &&
			  exists(&e, "done", "hash.yaml"));
	     i++)
		pump(&e);
	rep = slurp(&e, "outbox", ID(1) ".json");
	T_TRUE(strstr(rep, "\"id\": \"" ID(1) "\"") != NULL);
	T_TRUE(strstr(rep, "\"status\": \"failed\"") != NULL);
	T_TRUE(strstr(rep, "colour") != NULL);
	T_TRUE(!exists(&e, "outbox", "rejected-key.json"));
	T_TRUE(!exists(&e, "outbox", "rejected-old.json"));
	T_TRUE(strstr(slurp(&e, "outbox", ID(9) ".json"), "\"status\": \"successful\"") != NULL);
	T_TRUE(strstr(slurp(&e, "outbox", ID(2) ".json"), "sha256 mismatch") != NULL);
	T_EQ(e.t.u.update_available, 0);
	/* the last refusal, for fota status on this machine */
	rep = slurp(&e, "", CMD_SERVE_LAST_REJECTION);
	T_TRUE(strstr(rep, "\"request_file\": \"hash.yaml\"") != NULL);
	T_TRUE(strstr(rep, "\"id\": \"" ID(2) "\"") != NULL);

	/* the same id, the digest corrected: accepted and offered */
	snprintf(e.sha, sizeof(e.sha), "%s", good_sha);
	put_req(&e, "hash2.yaml", ID(2), "fw.hex", 0);
	inbox_poke(&e.ib);
	for (int i = 0; i < 200 && strcmp(tcu_current_id(&e.t), ID(2)); i++)
		pump(&e);
	T_EQ_STR(tcu_current_id(&e.t), ID(2));
	T_EQ(e.t.u.update_available, 1);
	rep = slurp(&e, "outbox", ID(2) ".json");
	T_TRUE(strstr(rep, "\"status\": \"pending\"") != NULL);
	T_TRUE(strstr(rep, "\"event\": \"rejected\"") != NULL); /* the history kept */
	T_TRUE(strstr(rep, "\"event\": \"received\"") != NULL);
	T_TRUE(strstr(rep, "\"request_file\": \"hash2.yaml\"") != NULL);
	env_release(&e);
}

static void test_serve_inbox__fifo_firmware_refused(void)
{
	struct env e;
	char path[2048];

	env_init(&e);
	snprintf(path, sizeof(path), "%s/fifo.hex", e.dir);
	T_OK(mkfifo(path, 0600));
	put_req(&e, "fifo.yaml", ID(1), "fifo.hex", 0);
	for (int i = 0; i < 200 && !exists(&e, "done", "fifo.yaml"); i++)
		pump(&e);
	T_TRUE(exists(&e, "done", "fifo.yaml"));
	T_TRUE(strstr(slurp(&e, "outbox", ID(1) ".json"), "not a regular file") != NULL);
	T_EQ(e.t.u.update_available, 0);
	env_release(&e);
}

/*
 * Power cuts found by the campaign (tests/soak.py): a cut between the final
 * state save and the report write left the report "in progress" for good;
 * one before the private copy's removal left the copy for good; one between
 * approval and the request's move to done/ left the request in the inbox.
 */
static void test_serve_inbox__restart_mends_what_a_power_cut_left(void)
{
	struct env e;
	char path[2048];

	env_dirs(&e);
	final_state(&e);
	path_of(&e, path, sizeof(path), "outbox", ID(9) ".json");
	put(path, "{ \"id\": \"" ID(9) "\", \"status\": \"in progress\", \"update_status\": 16 }\n",
	    0);
	path_of(&e, path, sizeof(path), "firmware", ID(9));
	put(path, hex_ok, 0); /* the finished update's copy */
	path_of(&e, path, sizeof(path), "firmware", ID(8));
	put(path, hex_ok, 0); /* a copy no request needs any more */
	env_start(&e);
	T_TRUE(strstr(slurp(&e, "outbox", ID(9) ".json"), "\"status\": \"successful\"") != NULL);
	T_TRUE(!exists(&e, "firmware", ID(9)));
	/* the approved request still in the inbox (id of the finished update) */
	put_req(&e, "approved.yaml", ID(9), "fw.hex", time(NULL) - 10);
	put_req(&e, "next.yaml", ID(1), "fw.hex", time(NULL) - 5);
	for (int i = 0; i < 200 && !(exists(&e, "done", "approved.yaml") &&
				     !exists(&e, "firmware", ID(8)) && e.t.u.update_available);
	     i++)
		pump(&e);
	T_TRUE(exists(&e, "done", "approved.yaml"));
	T_TRUE(!exists(&e, "inbox", "approved.yaml"));
	T_TRUE(!exists(&e, "firmware", ID(8)));
	T_EQ_STR(tcu_current_id(&e.t), ID(1)); /* the next one is offered */
	T_TRUE(exists(&e, "firmware", ID(1)));
	env_release(&e);
}

/* An offered update whose inbox cannot be read at a restart stays offered. */
static void test_serve_inbox__resume_waits_for_a_readable_inbox(void)
{
	struct env e;
	struct upd u;
	char path[2048], moved[2100];

	env_dirs(&e);
	upd_init(&u);
	upd_set_clock(&u, FOTA_SEC(1), 1700000000u);
	T_OK(upd_offer(&u, ID(5), 0x7E0, 0, FOTA_SEC(1)));
	T_OK(upd_save(&u, e.dir));
	path_of(&e, path, sizeof(path), "", "inbox");
	snprintf(moved, sizeof(moved), "%s.away", path);
	T_OK(rename(path, moved));
	put(path, "not a directory\n", 0);
	env_start(&e);
	T_TRUE(e.t.resuming);
	for (int i = 0; i < 20; i++)
		pump(&e);
	T_EQ(e.t.u.update_available, 1); /* not cancelled as withdrawn */
	T_EQ(e.t.u.update_status, 0x00);
	/* the inbox back, with the request and its firmware */
	T_OK(unlink(path));
	T_OK(rename(moved, path));
	put_req(&e, "r5.yaml", ID(5), "fw.hex", 0);
	e.ib.resume_at = 0; /* instead of waiting SERVE_RESCAN_US */
	for (int i = 0; i < 200 && e.t.resuming; i++)
		pump(&e);
	T_TRUE(!e.t.resuming);
	T_TRUE(e.t.have_pkg);
	T_EQ(e.t.u.update_available, 1);
	env_release(&e);
}

static const struct t_case cases[] = {
	T_CASE(serve_inbox__creation_order_duplicates_cancel),
	T_CASE(serve_inbox__fresh_unparseable_settles_then_rejected),
	T_CASE(serve_inbox__rejection_reported_by_id_and_not_burnt),
	T_CASE(serve_inbox__fifo_firmware_refused),
	T_CASE(serve_inbox__restart_mends_what_a_power_cut_left),
	T_CASE(serve_inbox__resume_waits_for_a_readable_inbox),
};

int main(void)
{
	return t_main(cases, FOTA_ARRAY_SIZE(cases));
}
