// SPDX-License-Identifier: MIT
/*
 * fota serve: the TCU as a CANopen node. The wiring only: options,
 * configuration, the state directory (locked for the life of the process),
 * the bus, the start-up node-ID probe, the loop and its members, signals.
 *
 *   SDO server (CiA 301 §7.2.4.3) of the 0x5FF3 objects (sdo/fota_od.h)
 *   NMT slave and heartbeat producer (sdo/nmt.h)
 *   the TCU: update machine, reports, UDS job (cmd/serve_tcu.h)
 *   the inbox of requests (cmd/serve_inbox.h)
 *   the platform link over MQTT, when configured (cmd/serve_mqtt.h)
 *   two worker threads (core/worker.h): inbox files, seed/key computations
 *
 * Documented in man/fota-serve.1.
 */
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <unistd.h>
#include "cmd/cmd.h"
#include "cmd/common.h"
#include "cmd/serve_inbox.h"
#include "cmd/serve_mqtt.h"
#include "cmd/serve_tcu.h"
#include "core/bus.h"
#include "core/config.h"
#include "core/download.h"
#include "core/log.h"
#include "core/loop.h"
#include "core/notify.h"
#include "sdo/fota_od.h"
#include "sdo/nmt.h"
#include "sdo/sdo.h"
#include "sdo/server.h"

static const char *const serve_usage[] = {
	"fota serve [-b BUS] [-c FILE] [-n ID] [--state-dir DIR] [--trace FILE] [--syslog] [-v|-q]",
	NULL,
};

#define KEY_STATE_DIR FOTA_OPT_LONG(1)
#define KEY_SYSLOG    FOTA_OPT_LONG(2)

struct serve_args {
	const char *state_dir; /* --state-dir, or NULL: the configuration's */
	bool syslog;	       /* --syslog */
};

static const struct fota_opt serve_opts[] = {
	FOTA_OPT_BUS,
	FOTA_OPT_CONFIG,
	FOTA_OPT_NODE,
	FOTA_OPT_STRING(KEY_STATE_DIR, "state-dir", "DIR",
			"state directory: state file, inbox/, outbox/, done/ (default: config, "
			"/var/lib/fota)",
			FOTA_OPT_DIR, offsetof(struct serve_args, state_dir)),
	FOTA_OPT_TRACE,
	FOTA_OPT_FLAG(KEY_SYSLOG, "syslog", "log to syslog (daemon facility) instead of stderr",
		      offsetof(struct serve_args, syslog)),
	FOTA_OPT_VERBOSE,
	FOTA_OPT_QUIET,
	FOTA_OPT_END,
};

struct serve {
	struct fota_config cfg;
	struct serve_paths p;
	uint8_t node;
	struct loop loop;
	struct fota_od fo;
	struct sdo_server sdo;
	struct nmt_slave nmt;
	struct tcu t;
	struct inbox ib;
	struct serve_mqtt mq;	    /* the platform link, when platform: mqtt is configured */
	struct worker *w, *kw, *dw; /* inbox files; seed/key; downloads */
	struct fota_notify notify;  /* systemd: READY, STATUS, watchdog (core/notify.h) */
	int ino, lockfd;
	char why[96];
};

/* ---- the CANopen side: NMT and SDO (the rest of the node is its members) ---- */

static void node_reset(struct serve *s, fota_us now)
{
	struct sdo_server_cfg sc = { .node = s->node };

	s->fo.heartbeat_ms = s->cfg.tcu.heartbeat_ms; /* 0x1017 from the configuration */
	sdo_server_init(&s->sdo, &sc, &s->fo.od);     /* an open transfer is abandoned */
	nmt_boot(&s->nmt, s->fo.heartbeat_ms, now);
}

static void m_input(void *ctx, const struct bus_frame *f, fota_us now)
{
	struct serve *s = ctx;
	struct sdo_server_event ev;
	enum nmt_input_result r;

	if (f->flags & (BUS_FRAME_EFF | BUS_FRAME_RTR | BUS_FRAME_FD))
		return;
	if (f->id == NMT_COB) {
		r = nmt_input(&s->nmt, f);
		/*
		 * The update machine is the application: a reset of the node
		 * restarts communication (and 0x1017) but never interrupts a
		 * flash, which would leave the ECU half written.
		 */
		if (r == NMT_IN_RESET_NODE || r == NMT_IN_RESET_COMM) {
			fota_info("NMT reset %s: boot-up",
				  r == NMT_IN_RESET_NODE ? "node" : "communication");
			node_reset(s, now);
		}
		return;
	}
	if (f->id != SDO_COB_REQUEST + s->node || !nmt_sdo_allowed(&s->nmt))
		return; /* CiA 301 §7.3.2: no SDO in the stopped state */
	tcu_clock(&s->t, now);
	sdo_server_input(&s->sdo, f, now);
	while (sdo_server_take_event(&s->sdo, &ev) == 1)
		fota_step("SDO %s 0x%04x:%02x: %s", ev.write ? "write" : "read", ev.index, ev.sub,
			  ev.abort_code ? sdo_abort_str(ev.abort_code) : "ok");
	tcu_process(&s->t, now);
}

static void m_tick(void *ctx, fota_us now)
{
	struct serve *s = ctx;

	sdo_server_tick(&s->sdo, now);
	if (s->fo.heartbeat_ms != s->nmt.hb_ms) /* 0x1017 written */
		nmt_set_heartbeat(&s->nmt, s->fo.heartbeat_ms, now);
	nmt_tick(&s->nmt, now);
}

static int m_output(void *ctx, struct bus_frame *f, fota_us now)
{
	struct serve *s = ctx;

	return nmt_output(&s->nmt, f) == 1 || sdo_server_output(&s->sdo, f, now) == 1;
}

static fota_us m_deadline(void *ctx)
{
	struct serve *s = ctx;

	return fota_min_deadline(sdo_server_deadline(&s->sdo), nmt_deadline(&s->nmt));
}

static const struct loop_member_ops node_ops = {
	.input = m_input,
	.tick = m_tick,
	.output = m_output,
	.deadline = m_deadline,
};

/* STATUS= for systemctl status: update_status, and whether an update is offered. */
static void notify_status(void *ctx, const struct upd *u)
{
	fota_notify_status(ctx, "update_status 0x%02x: %s%s", u->update_status,
			   upd_status_str(u->update_status),
			   u->update_available ? "; update offered" : "");
}

static int inotify_cb(void *ctx, int fd, short revents, fota_us now)
{
	char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));

	while (read(fd, buf, sizeof(buf)) > 0)
		;
	inbox_poke(ctx);
	return 0;
}

static int worker_cb(void *ctx, int fd, short revents, fota_us now)
{
	fota_worker_collect(ctx);
	return 0;
}

/* ---- start-up ---- */

/* CiA 301: node-IDs are unique. Listen for another node with ours before the boot-up. */
static int probe_node(struct serve *s, struct bus *bus)
{
	struct nmt_probe pr;
	struct loop l;
	int err;

	nmt_probe_init(&pr, s->node, NMT_PROBE_MS);
	loop_init(&l, bus);
	loop_add(&l, &nmt_probe_ops, &pr);
	/*
	 * No time limit of the loop's own: the probe ends itself NMT_PROBE_MS
	 * after it started, in the pass after its deadline, which reads the
	 * bus first. A limit just above that window made a late wake-up (a
	 * loaded machine) end the probe in -ETIMEDOUT, and serve exit 4.
	 */
	err = loop_run(&l, FOTA_NEVER);
	loop_release(&l);
	if (pr.seen_id) {
		fota_error("%s: node 0x%02x is already on the bus (it answered on 0x%03" PRIX32
			   "); CANopen node-IDs must be unique",
			   bus->name, s->node, pr.seen_id);
		return -EADDRINUSE;
	}
	return err;
}

static int serve_filters(struct serve *s, struct bus *bus)
{
	uint32_t ids[BUS_FILTER_MAX];
	size_t n = 0;

	ids[n++] = NMT_COB;
	ids[n++] = SDO_COB_REQUEST + s->node;
	for (size_t i = 0; i < s->cfg.necus && n < BUS_FILTER_MAX; i++)
		ids[n++] = bus_filter_norm(s->cfg.ecus[i].response_id |
					   (s->cfg.ecus[i].extended ? BUS_FILTER_EFF : 0));
	if (s->cfg.necus + 2 > BUS_FILTER_MAX)
		return 0; /* too many ECUs for a filter: take everything */
	return bus_set_filter(bus, ids, n);
}

/* Everything between the open bus and the end of the loop; returns the exit status. */
/* What the TCU trusts, by key id and name only: a key's bytes never go to a log. */
static void log_trust(const struct fota_config *cfg)
{
	const struct sig_trust *t = &cfg->trust.sig;
	char keys[SIG_KEYS_MAX * (SIG_KEYID_LEN + 72)] = "";
	size_t n = 0;

	if (!t->nkeys) {
		fota_info("trust: no keys configured: requests are not checked for signatures");
		return;
	}
	for (size_t i = 0; i < t->nkeys; i++)
		n += (size_t)snprintf(keys + n, sizeof(keys) - n, "%s%s%s%s%s", i ? ", " : "",
				      t->keys[i].id, t->names[i][0] ? " (" : "", t->names[i],
				      t->names[i][0] ? ")" : "");
	fota_info("trust: %zu key%s (%s), threshold %u, signatures %s", t->nkeys,
		  t->nkeys == 1 ? "" : "s", keys, t->threshold,
		  t->require_signature ? "required" : "checked when present");
}

static int serve_run(struct serve *s, struct cmd_ctx *ctx)
{
	static const int sigs[] = { SIGTERM, SIGINT };
	fota_us now;
	int err;

	err = probe_node(s, ctx->bus);
	if (err == -EADDRINUSE)
		return FOTA_EXIT_STATE;
	if (err) {
		fota_error("%s: node-ID probe: %s", ctx->bus->name,
			   cmd_bus_strerror(ctx->bus, err, s->why, sizeof(s->why)));
		return fota_exit_status(FOTA_FAIL_RUN, err);
	}
	/* before any thread or child: it removes the variables from the environment */
	if ((err = fota_notify_init(&s->notify)))
		fota_warn("%s: %s: ignored", s->notify.bad, strerror(-err));
	err = serve_filters(s, ctx->bus);
	if (err)
		fota_warn("%s: cannot set the receive filter: %s", ctx->bus->name, strerror(-err));
	/* libcurl's global state, before any thread that may download */
	if (fota_download_global_init())
		fota_warn("libcurl: global init failed: firmware_url requests will fail");
	if ((err = fota_worker_start(&s->w)) || (err = fota_worker_start(&s->kw)) ||
	    (err = fota_worker_start(&s->dw))) {
		fota_error_errno(err, "worker thread");
		return FOTA_EXIT_FAIL;
	}
	now = fota_now();
	tcu_init(&s->t, &s->cfg, &s->p, s->kw, now);
	s->t.filew = s->w;
	s->t.scale = tcu_time_scale();
	s->t.on_status = notify_status;
	s->t.status_ctx = &s->notify;
	if ((err = tcu_start(&s->t, now)))
		return fota_exit_status(FOTA_FAIL_INPUT, err); /* the state file */
	if (fota_od_init(&s->fo, &s->t.u, NULL))
		FOTA_BUG("object dictionary inconsistent");
	inbox_init(&s->ib, &s->cfg, &s->p, s->w, &s->t);
	s->ib.dw = s->dw;
	nmt_init(&s->nmt, s->node);
	node_reset(s, now);

	loop_init(&s->loop, ctx->bus);
	if (loop_add(&s->loop, &node_ops, s) || loop_add(&s->loop, &tcu_member_ops, &s->t) ||
	    loop_add(&s->loop, &inbox_member_ops, &s->ib) ||
	    loop_add(&s->loop, &fota_notify_member_ops, &s->notify) ||
	    loop_add_fd(&s->loop, fota_worker_fd(s->w), POLLIN, worker_cb, s->w) ||
	    loop_add_fd(&s->loop, fota_worker_fd(s->kw), POLLIN, worker_cb, s->kw) ||
	    loop_add_fd(&s->loop, fota_worker_fd(s->dw), POLLIN, worker_cb, s->dw))
		FOTA_BUG("too many loop members");
	s->ino = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (s->ino < 0 ||
	    inotify_add_watch(s->ino, s->p.inbox,
			      IN_CLOSE_WRITE | IN_MOVED_TO | IN_MOVED_FROM | IN_DELETE |
				      IN_CREATE) < 0 ||
	    loop_add_fd(&s->loop, s->ino, POLLIN, inotify_cb, &s->ib))
		fota_warn("%s: inotify unavailable, rescanning every %u s", s->p.inbox,
			  (unsigned)(SERVE_RESCAN_US / FOTA_SEC(1)));
	if ((err = serve_mqtt_init(&s->mq, &s->cfg, &s->p, &s->t, &s->ib, &s->loop)))
		return fota_exit_status(FOTA_FAIL_INPUT, err);
	err = loop_catch_signals(&s->loop, sigs, FOTA_ARRAY_SIZE(sigs));
	if (err)
		fota_warn("cannot catch signals: %s", strerror(-err));
	log_trust(&s->cfg);
	fota_info("node 0x%02x on %s, state %s, update_status 0x%02x", s->node, ctx->bus->name,
		  s->p.dir, s->t.u.update_status);
	notify_status(&s->notify, &s->t.u);
	if ((err = fota_notify_ready(&s->notify)))
		fota_warn("NOTIFY_SOCKET: %s", strerror(-err));

	err = loop_run(&s->loop, FOTA_NEVER);
	fota_notify_stopping(&s->notify);
	if (err == -EINTR) {
		fota_info("signal %d: stopping", s->loop.signo);
		tcu_stop(&s->t, s->loop.signo, fota_now());
		serve_mqtt_stop(&s->mq);
		return FOTA_EXIT_OK;
	}
	fota_error("%s: %s", ctx->bus->name,
		   cmd_bus_strerror(ctx->bus, err, s->why, sizeof(s->why)));
	return fota_exit_status(FOTA_FAIL_RUN, err);
}

static int run_serve(int argc, char **argv)
{
	struct serve_args a = { 0 };
	struct cmd_ctx ctx;
	struct serve *s;
	int err, rc;

	cmd_ctx_init(&ctx, &cmd_serve);
	ctx.join = BUS_JOIN_MAKE; /* a long-running member: it makes unix:DIR */
	cmd_parse_options(&ctx, &a, argc, argv);
	if (a.syslog)
		fota_log_use_syslog(1);
	s = calloc(1, sizeof(*s));
	if (!s) {
		fota_error_errno(-ENOMEM, "serve");
		return FOTA_EXIT_FAIL;
	}
	s->ino = s->lockfd = -1;
	rc = cmd_load_config(&ctx, &s->cfg, true);
	if (rc) {
		free(s);
		return rc;
	}
	if (s->cfg.platform.mqtt.url[0] &&
	    (!s->cfg.trust.sig.nkeys || !s->cfg.trust.sig.require_signature)) {
		/* a request from the network must be signed: no link without trust */
		fota_error("%s: platform: mqtt needs trust: keys and require_signature: true "
			   "(requests from the network must be signed)",
			   s->cfg.source);
		cfg_release(&s->cfg);
		free(s);
		return FOTA_EXIT_DATA;
	}
	s->node = (uint8_t)(ctx.node ? ctx.node : s->cfg.tcu.node_id);
	snprintf(s->p.dir, sizeof(s->p.dir), "%s",
		 a.state_dir ? a.state_dir : s->cfg.tcu.state_dir);
	err = cmd_serve_open_state(&s->p, &s->lockfd);
	if (err) {
		rc = err == -EBUSY ? FOTA_EXIT_STATE : fota_exit_status(FOTA_FAIL_OUTPUT, err);
	} else {
		rc = cmd_open_bus(&ctx, &s->cfg, NULL);
		if (ctx.trace)
			setvbuf(ctx.trace, NULL, _IOLBF, 0); /* a crash keeps the last frames */
		if (!rc)
			rc = serve_run(s, &ctx);
	}
	if (s->loop.bus) { /* the state was loaded: keep it */
		err = upd_save(&s->t.u, s->p.dir);
		if (err) {
			fota_error_errno(err, "%s/%s: cannot save the state", s->p.dir,
					 UPD_STATE_FILE);
			rc = fota_exit_worst(rc, FOTA_EXIT_FAIL);
		}
	}
	/* a job that does not stop in time (a vendor key library) is left to the exit;
	 * a download polls its cancel flag every 100 ms: stopped first, all within 1 s */
	fota_worker_stop(s->dw, FOTA_MS(300));
	fota_worker_stop(s->w, FOTA_MS(500));
	fota_worker_stop(s->kw, FOTA_MS(500));
	if (s->loop.bus)
		loop_release(&s->loop);
	serve_mqtt_release(&s->mq);
	tcu_release(&s->t);
	inbox_release(&s->ib);
	if (s->ino >= 0)
		close(s->ino);
	if (s->lockfd >= 0)
		close(s->lockfd);
	fota_notify_release(&s->notify);
	rc = fota_exit_worst(rc, cmd_ctx_release(&ctx));
	cfg_release(&s->cfg);
	free(s);
	return rc;
}

const struct fota_cmd cmd_serve = {
	.name = "serve",
	.summary = "run the TCU: CANopen SDO server of object 0x5FF3 and the update state machine",
	.usage = serve_usage,
	.opts = serve_opts,
	.run = run_serve,
	.help_tail = "Requests are read from DIR/inbox/*.yaml, reports written to "
		     "DIR/outbox/ID.json.\n"
		     "Stops on SIGTERM or SIGINT with the state saved.\n",
};
