// SPDX-License-Identifier: MIT
/* The MQTT platform link of fota serve: cmd/serve_mqtt.h, man/fota-mqtt.7. */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <json-c/json.h>
#include <mosquitto.h>
#include <openssl/rand.h>
#include "cmd/sdo_common.h"
#include "cmd/serve_inbox.h"
#include "cmd/serve_mqtt.h"
#include "core/file.h"
#include "core/log.h"
#include "core/request.h"
#include "sdo/fota_od.h"

#define QOS		1
#define REPORT_MAX	(4u << 20)   /* a report larger than this is not one of ours */
#define RESCAN_US	FOTA_SEC(30) /* outbox rescan without inotify events */
#define TICK_US		FOTA_SEC(1)  /* keepalive bookkeeping (mosquitto_loop_misc) */
#define PROGRESS_GAP_US FOTA_SEC(1)  /* update_progress alone: at most once a second */

static int sock_cb(void *ctx, int fd, short revents, fota_us now);

/* A report published and waiting for its PUBACK. */
struct mqtt_pending {
	int mid;
	char name[MQTT_NAME_MAX];
	uint8_t sha[32];
};

static const char *url(const struct serve_mqtt *m)
{
	return m->cfg->platform.mqtt.url;
}

static void topic(const struct serve_mqtt *m, char *buf, size_t size, const char *leaf)
{
	const struct cfg_mqtt *c = &m->cfg->platform.mqtt;

	fota_mqtt_topic(buf, size, c->topic_prefix, c->client_id, leaf);
}

static int publish(struct serve_mqtt *m, const char *leaf, const void *data, size_t len,
		   bool retain, int *mid)
{
	char t[MQTT_TOPIC_MAX];

	topic(m, t, sizeof(t), leaf);
	return mosquitto_publish(m->mosq, mid, t, (int)len, data, QOS, retain);
}

/* ---- the connection ---- */

static void link_down(struct serve_mqtt *m, const char *why)
{
	uint32_t ms;

	if (!m->connected && !m->connecting)
		return;
	ms = fota_mqtt_backoff_ms(m->attempt++, m->rnd = m->rnd * 1103515245u + 12345u);
	if (m->connected)
		fota_warn("mqtt: disconnected from %s: %s; reconnecting in %.1f s", url(m), why,
			  ms / 1000.0);
	else
		fota_warn("mqtt: cannot connect to %s: %s; retrying in %.1f s", url(m), why,
			  ms / 1000.0);
	m->connected = m->connecting = false;
	m->npend = 0; /* sent again after the reconnect: their PUBACK may never come */
	m->next_try = fota_now() + FOTA_MS(ms);
	loop_fd_update(m->loop, sock_cb, m, -1, 0);
}

static void try_connect(struct serve_mqtt *m, fota_us now)
{
	const struct cfg_mqtt *c = &m->cfg->platform.mqtt;
	int rc;

	m->connecting = true;
	m->connect_by = now + FOTA_SEC(10 + c->keepalive_s);
	rc = mosquitto_connect_async(m->mosq, c->host, c->port, (int)c->keepalive_s);
	if (rc != MOSQ_ERR_SUCCESS)
		link_down(m, rc == MOSQ_ERR_ERRNO ? strerror(errno) : mosquitto_strerror(rc));
}

/* ---- status ---- */

static void status_now(const struct tcu *t, struct serve_mqtt_status *s)
{
	const struct upd *u = &t->u;

	memset(s, 0, sizeof(*s));
	s->available = u->update_available;
	s->status = u->update_status;
	s->progress = u->update_progress;
	snprintf(s->id, sizeof(s->id), "%s", u->update_request_id);
	s->attempts = u->update_attempts_counter;
	s->available_time = u->update_available_time;
	s->can_id = u->ecu_can_id;
	s->start_time = u->update_start_time;
	s->end_time = u->update_end_time;
	s->health_timeout = u->ecu_health_check_timeout;
}

static void add_time(json_object *o, const char *key, uint32_t v)
{
	char k[64], buf[32];

	json_object_object_add(o, key, json_object_new_int64(v));
	snprintf(k, sizeof(k), "%s_utc", key);
	json_object_object_add(o, k,
			       v ? json_object_new_string(cmd_iso8601(v, buf, sizeof(buf))) : NULL);
}

/* The keys of `fota status --json` but bus and last_rejection, with tcu and time_ms. */
static void status_publish(struct serve_mqtt *m, const struct serve_mqtt_status *s)
{
	json_object *o = json_object_new_object();
	const char *txt = upd_status_str(s->status);
	struct timespec ts;
	const char *text;

	clock_gettime(CLOCK_REALTIME, &ts);
	json_object_object_add(o, "tcu", json_object_new_string(m->cfg->platform.mqtt.client_id));
	json_object_object_add(o, "node", json_object_new_int(m->cfg->tcu.node_id));
	json_object_object_add(o, "update_available", json_object_new_int(s->available));
	json_object_object_add(o, "update_request_id", json_object_new_string(s->id));
	json_object_object_add(o, "update_attempts_counter", json_object_new_int64(s->attempts));
	add_time(o, "update_available_time", s->available_time);
	json_object_object_add(o, "ecu_can_id", json_object_new_int64(s->can_id));
	json_object_object_add(o, "update_status", json_object_new_int(s->status));
	json_object_object_add(o, "update_status_text", txt ? json_object_new_string(txt) : NULL);
	json_object_object_add(o, "final", json_object_new_boolean(upd_status_final(s->status)));
	json_object_object_add(o, "update_progress", json_object_new_int(s->progress));
	add_time(o, "update_start_time", s->start_time);
	add_time(o, "update_end_time", s->end_time);
	json_object_object_add(o, "ecu_health_check_timeout",
			       json_object_new_int(s->health_timeout));
	json_object_object_add(
		o, "time_ms",
		json_object_new_int64((int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000));
	text = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
							 JSON_C_TO_STRING_NOSLASHESCAPE);
	if (publish(m, "status", text, strlen(text), true, NULL) == MOSQ_ERR_SUCCESS) {
		m->last = *s;
		m->status_sent = true;
		m->status_at = m->now;
	}
	json_object_put(o);
}

/* On change; a change of update_progress alone at most once per PROGRESS_GAP_US. */
static void status_check(struct serve_mqtt *m)
{
	struct serve_mqtt_status s, cmp;

	status_now(m->t, &s);
	if (m->status_sent && !memcmp(&s, &m->last, sizeof(s)))
		return;
	cmp = s;
	cmp.progress = m->last.progress;
	if (m->status_sent && !memcmp(&cmp, &m->last, sizeof(s)) &&
	    m->now < m->status_at + PROGRESS_GAP_US)
		return;
	status_publish(m, &s);
}

/* ---- reports ---- */

static int read_small(const char *path, char **out, size_t *len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	struct stat st;
	ssize_t r;

	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) || !S_ISREG(st.st_mode) || st.st_size > (off_t)REPORT_MAX) {
		close(fd);
		return -EFBIG;
	}
	*out = malloc((size_t)st.st_size + 1);
	if (!*out) {
		close(fd);
		return -ENOMEM;
	}
	r = read(fd, *out, (size_t)st.st_size);
	close(fd);
	if (r != st.st_size) {
		free(*out);
		return -EIO;
	}
	*len = (size_t)r;
	return 0;
}

static bool pending(const struct serve_mqtt *m, const char *name, const uint8_t sha[32])
{
	for (size_t i = 0; i < m->npend; i++)
		if (!strcmp(m->pend[i].name, name) && !memcmp(m->pend[i].sha, sha, 32))
			return true;
	return false;
}

static void report_send(struct serve_mqtt *m, const char *name)
{
	char path[CFG_PATH_MAX + MQTT_NAME_MAX + 16], leaf[MQTT_NAME_MAX + 8] = "report/";
	uint8_t sha[32];
	size_t len = 0;
	char *data = NULL;
	int mid, rc;

	if (fota_mqtt_report_level(leaf + 7, sizeof(leaf) - 7, name) ||
	    strlen(name) >= MQTT_NAME_MAX)
		return;
	snprintf(path, sizeof(path), "%s/%s", m->p->outbox, name);
	if (read_small(path, &data, &len))
		return; /* gone or replaced meanwhile: the next scan sees it */
	fota_mqtt_sha256(data, len, sha);
	if (!fota_mqtt_marks_has(&m->marks, name, sha) && !pending(m, name, sha)) {
		rc = publish(m, leaf, data, len, false, &mid);
		if (rc == MOSQ_ERR_SUCCESS && m->npend == m->cappend) {
			size_t cap = m->cappend ? 2 * m->cappend : 16;
			struct mqtt_pending *np = realloc(m->pend, cap * sizeof(*np));

			if (np) {
				m->pend = np;
				m->cappend = cap;
			}
		}
		if (rc == MOSQ_ERR_SUCCESS && m->npend < m->cappend) {
			m->pend[m->npend].mid = mid;
			snprintf(m->pend[m->npend].name, MQTT_NAME_MAX, "%s", name);
			memcpy(m->pend[m->npend].sha, sha, 32);
			m->npend++;
		}
	}
	free(data);
}

/* Every report of the outbox whose bytes the broker has not acknowledged. */
static void outbox_scan(struct serve_mqtt *m)
{
	DIR *d = opendir(m->p->outbox);
	struct dirent *de;

	m->scan = false;
	m->next_scan = m->now + RESCAN_US;
	if (!d)
		return;
	while ((de = readdir(d)))
		report_send(m, de->d_name);
	closedir(d);
}

static bool report_exists(const char *name, void *ctx)
{
	const struct serve_mqtt *m = ctx;
	char path[CFG_PATH_MAX + MQTT_NAME_MAX + 16];

	snprintf(path, sizeof(path), "%s/%s", m->p->outbox, name);
	return access(path, F_OK) == 0;
}

/* ---- requests ---- */

/*
 * serve has this request already: in the inbox, or reported other than as
 * refused, or archived without a report. A refused request does not use its
 * id up (fota-serve(1)): a corrected one under the same id is taken, as the
 * folder inbox takes it.
 */
static bool known(const struct serve_mqtt *m, const char *id)
{
	char path[CFG_PATH_MAX + 64];
	struct cmd_serve_report rep;
	bool refused;
	int err;

	snprintf(path, sizeof(path), "%s/%s.yaml", m->p->inbox, id);
	if (!access(path, F_OK))
		return true;
	err = cmd_serve_report_load(&rep, m->p->outbox, id);
	if (!err) {
		refused = cmd_serve_report_rejected(&rep);
		cmd_serve_report_release(&rep);
		return !refused;
	}
	if (err != -ENOENT)
		return true; /* a report we cannot read: leave the id alone */
	snprintf(path, sizeof(path), "%s/%s.yaml", m->p->done, id);
	return !access(path, F_OK);
}

static void clear(struct serve_mqtt *m, const char *t)
{
	int rc = mosquitto_publish(m->mosq, NULL, t, 0, NULL, QOS, true);

	if (rc != MOSQ_ERR_SUCCESS)
		fota_warn("mqtt: cannot clear a request on the broker: %s", mosquitto_strerror(rc));
}

/* Test only (man/fota-mqtt.7): die where a power cut could hit. */
static void failpoint(const char *name)
{
	const char *f = getenv("FOTA_TEST_FAILPOINT");

	if (f && !strcmp(f, name)) {
		fota_warn("FOTA_TEST_FAILPOINT=%s: killed", name);
		raise(SIGKILL);
	}
}

static void on_message(struct mosquitto *mosq, void *obj, const struct mosquitto_message *msg)
{
	struct serve_mqtt *m = obj;
	const struct cfg_mqtt *c = &m->cfg->platform.mqtt;
	const char *rid = fota_mqtt_request_id(msg->topic, c->topic_prefix, c->client_id);
	char id[CFG_UUID_LEN + 1], path[CFG_PATH_MAX + 64];
	int err;

	if (!rid || msg->payloadlen <= 0)
		return; /* a cleared request (ours or the platform's), or not a request */
	if (!cfg_uuid_v4_ok(rid)) {
		fota_warn("mqtt: request with an ID that is not a UUID v4 (%zu characters): "
			  "dropped and cleared",
			  strlen(rid));
		clear(m, msg->topic);
		return;
	}
	for (size_t i = 0; i <= CFG_UUID_LEN; i++)
		id[i] = (char)tolower((unsigned char)rid[i]);
	if ((unsigned)msg->payloadlen > CMD_SERVE_REQUEST_MAX) {
		fota_warn("mqtt: request %s: %d bytes, more than %u: dropped and cleared", id,
			  msg->payloadlen, CMD_SERVE_REQUEST_MAX);
		clear(m, msg->topic);
		return;
	}
	if (known(m, id)) {
		fota_info("mqtt: request %s received again: known already, cleared", id);
		clear(m, msg->topic);
		return;
	}
	snprintf(path, sizeof(path), "%s/%s.yaml", m->p->inbox, id);
	err = fota_create_file_excl(path, msg->payload, (size_t)msg->payloadlen, 0644);
	if (err && err != -EEXIST) {
		/* not acknowledged: it stays on the broker and comes again after a reconnect */
		fota_error_errno(err, "mqtt: request %s: %s: kept on the broker", id, path);
		return;
	}
	failpoint("mqtt-after-fsync");
	fota_info("mqtt: request %s received (%d bytes) into %s; cleared on the broker", id,
		  msg->payloadlen, path);
	clear(m, msg->topic);
	/* without inotify (its instances are limited per user) the inbox would
	 * see it only at its next rescan */
	inbox_poke(m->ib);
}

/* ---- libmosquitto callbacks (all in the loop's thread) ---- */

static void on_connect(struct mosquitto *mosq, void *obj, int rc, int flags)
{
	struct serve_mqtt *m = obj;
	char t[MQTT_TOPIC_MAX];
	int r;

	if (rc) {
		link_down(m, mosquitto_connack_string(rc));
		return;
	}
	m->connected = true;
	m->connecting = false;
	m->attempt = 0;
	fota_info("mqtt: connected to %s as %s (%s)", url(m), m->cfg->platform.mqtt.client_id,
		  flags & 1 ? "session resumed" : "new session");
	/*
	 * Subscribing again on every connect makes the broker send the retained
	 * requests again (MQTT 3.1.1 §3.8.4): one that arrived before a crash
	 * but was never cleared is taken now.
	 */
	topic(m, t, sizeof(t), "request/+");
	if ((r = mosquitto_subscribe(m->mosq, NULL, t, QOS)) != MOSQ_ERR_SUCCESS)
		fota_warn("mqtt: cannot subscribe to %s: %s", t, mosquitto_strerror(r));
	publish(m, "online", "true", 4, true, NULL);
	m->status_sent = false;
	m->npend = 0;
	m->scan = true;
}

static void on_disconnect(struct mosquitto *mosq, void *obj, int rc)
{
	struct serve_mqtt *m = obj;

	if (m->connecting) { /* no CONNACK yet: refused, reset or no broker at all */
		link_down(m, rc == MOSQ_ERR_ERRNO ? strerror(errno) : "no connection");
		return;
	}
	link_down(m, rc == MOSQ_ERR_SUCCESS   ? "disconnected" :
		     rc == MOSQ_ERR_KEEPALIVE ? "no answer within the keepalive" :
		     rc == MOSQ_ERR_ERRNO     ? "connection lost" :
						mosquitto_strerror(rc));
}

static void on_publish(struct mosquitto *mosq, void *obj, int mid)
{
	struct serve_mqtt *m = obj;
	int err;

	if (mid == m->online_mid)
		m->online_acked = true;
	for (size_t i = 0; i < m->npend; i++) {
		if (m->pend[i].mid != mid)
			continue;
		if (fota_mqtt_marks_set(&m->marks, m->pend[i].name, m->pend[i].sha) ||
		    (err = fota_mqtt_marks_save(&m->marks, m->marks_path)))
			fota_warn("mqtt: %s: cannot record the delivery of %s: it will be sent "
				  "again",
				  m->marks_path, m->pend[i].name);
		else
			fota_info("mqtt: report %s delivered", m->pend[i].name);
		m->pend[i] = m->pend[--m->npend];
		return;
	}
}

/* ---- the loop member and fds ---- */

static void want(struct serve_mqtt *m)
{
	/* a socket left behind by a failed connect stays out of the poll set: it
	 * reports POLLERR/POLLHUP for ever, until the next attempt replaces it */
	int fd = m->connected || m->connecting ? mosquitto_socket(m->mosq) : -1;

	loop_fd_update(m->loop, sock_cb, m, fd,
		       fd < 0 ? 0 :
				(short)(POLLIN | (mosquitto_want_write(m->mosq) ? POLLOUT : 0)));
}

static void after(struct serve_mqtt *m, int rc)
{
	if (rc != MOSQ_ERR_SUCCESS && rc != MOSQ_ERR_NO_CONN && mosquitto_socket(m->mosq) < 0)
		link_down(m, rc == MOSQ_ERR_ERRNO ? strerror(errno) : mosquitto_strerror(rc));
}

static int sock_cb(void *ctx, int fd, short revents, fota_us now)
{
	struct serve_mqtt *m = ctx;
	int rc = MOSQ_ERR_SUCCESS;

	m->now = now;
	if (m->connecting && (revents & (POLLERR | POLLHUP))) {
		/*
		 * The connect failed, or the broker hung up before its CONNACK (a
		 * TLS alert, say). libmosquitto 2.0 does not notice on a TLS
		 * socket: its reads return success, its writes EPIPE, and the
		 * loop would spin until connect_by. Read what there is (an alert
		 * ends in on_disconnect), then give up on this attempt.
		 */
		int e = 0;
		socklen_t l = sizeof(e);

		if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &l))
			e = errno;
		if (revents & POLLIN)
			mosquitto_loop_read(m->mosq, 1);
		if (m->connecting)
			link_down(m, e ? strerror(e) : "refused, or closed before the CONNACK");
		want(m);
		return 0;
	}
	if (revents & (POLLIN | POLLERR | POLLHUP))
		rc = mosquitto_loop_read(m->mosq, 1);
	if (rc == MOSQ_ERR_SUCCESS && (revents & POLLOUT))
		rc = mosquitto_loop_write(m->mosq, 1);
	after(m, rc);
	want(m);
	return 0;
}

static int ino_cb(void *ctx, int fd, short revents, fota_us now)
{
	struct serve_mqtt *m = ctx;
	char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));

	while (read(fd, buf, sizeof(buf)) > 0)
		;
	m->scan = true;
	return 0;
}

static void m_tick(void *ctx, fota_us now)
{
	struct serve_mqtt *m = ctx;

	m->now = now;
	if (!m->connected && !m->connecting && now >= m->next_try)
		try_connect(m, now);
	if (m->connecting && now >= m->connect_by)
		link_down(m, "no answer in time");
	if (m->connected || m->connecting)
		after(m, mosquitto_loop_misc(m->mosq));
	if (m->connected) {
		status_check(m);
		if (m->scan || now >= m->next_scan)
			outbox_scan(m);
	}
	want(m);
}

static fota_us m_deadline(void *ctx)
{
	struct serve_mqtt *m = ctx;

	if (!m->connected && !m->connecting)
		return m->next_try;
	if (m->connected && m->scan)
		return m->now;
	/* keepalive, a progress change held back, the outbox rescan, connect timeout */
	return m->now + (m->connected ? PROGRESS_GAP_US / 4 : TICK_US);
}

static const struct loop_member_ops mqtt_ops = {
	.tick = m_tick,
	.deadline = m_deadline,
};

int serve_mqtt_init(struct serve_mqtt *m, const struct fota_config *cfg,
		    const struct serve_paths *p, const struct tcu *t, struct inbox *ib,
		    struct loop *loop)
{
	const struct cfg_mqtt *c = &cfg->platform.mqtt;
	char will[MQTT_TOPIC_MAX];
	int rc, err;

	memset(m, 0, sizeof(*m));
	m->outino = -1;
	if (!c->url[0])
		return 0;
	m->cfg = cfg;
	m->p = p;
	m->t = t;
	m->ib = ib;
	m->loop = loop;
	if (RAND_bytes((unsigned char *)&m->rnd, sizeof(m->rnd)) != 1)
		m->rnd = (uint32_t)getpid() ^ (uint32_t)fota_now();
	snprintf(m->marks_path, sizeof(m->marks_path), "%s/%s", p->dir, MQTT_MARKS_FILE);
	if ((err = fota_mqtt_marks_load(&m->marks, m->marks_path))) {
		fota_error_errno(err, "%s", m->marks_path);
		return err;
	}
	fota_mqtt_marks_prune(&m->marks, report_exists, m);
	mosquitto_lib_init();
	/* clean session off: requests published while the TCU is away wait on the broker */
	m->mosq = mosquitto_new(c->client_id, false, m);
	if (!m->mosq) {
		fota_error_errno(-errno, "mqtt: client");
		return -ENOMEM;
	}
	mosquitto_int_option(m->mosq, MOSQ_OPT_PROTOCOL_VERSION, MQTT_PROTOCOL_V311);
	if (c->tls) {
		rc = mosquitto_tls_set(
			m->mosq, c->ca[0] ? c->ca : NULL, c->ca[0] ? NULL : "/etc/ssl/certs",
			c->cert[0] ? c->cert : NULL, c->key[0] ? c->key : NULL, NULL);
		if (rc != MOSQ_ERR_SUCCESS) {
			fota_error("%s: platform: mqtt: TLS files: %s", cfg->source,
				   mosquitto_strerror(rc));
			return -EINVAL;
		}
	}
	fota_mqtt_topic(will, sizeof(will), c->topic_prefix, c->client_id, "online");
	mosquitto_will_set(m->mosq, will, 5, "false", QOS, true);
	mosquitto_connect_with_flags_callback_set(m->mosq, on_connect);
	mosquitto_disconnect_callback_set(m->mosq, on_disconnect);
	mosquitto_message_callback_set(m->mosq, on_message);
	mosquitto_publish_callback_set(m->mosq, on_publish);
	m->online_mid = -1;
	m->outino = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (m->outino >= 0 &&
	    inotify_add_watch(m->outino, p->outbox, IN_MOVED_TO | IN_CLOSE_WRITE) < 0) {
		close(m->outino);
		m->outino = -1;
	}
	if (loop_add(loop, &mqtt_ops, m) || loop_add_fd(loop, -1, 0, sock_cb, m) ||
	    (m->outino >= 0 && loop_add_fd(loop, m->outino, POLLIN, ino_cb, m)))
		return -ENOSPC;
	fota_info("mqtt: platform link to %s as %s, topics %s/%s/", c->url, c->client_id,
		  c->topic_prefix, c->client_id);
	return 0;
}

void serve_mqtt_stop(struct serve_mqtt *m)
{
	fota_us end = fota_now() + FOTA_SEC(1);

	if (!m->mosq || !m->connected)
		return;
	if (publish(m, "online", "false", 5, true, &m->online_mid) == MOSQ_ERR_SUCCESS)
		while (!m->online_acked && m->connected && fota_now() < end)
			if (mosquitto_loop(m->mosq, 100, 1) != MOSQ_ERR_SUCCESS)
				break;
	m->connected = false; /* the disconnect that follows is ours: no reconnect */
	mosquitto_disconnect(m->mosq);
	mosquitto_loop(m->mosq, 100, 1);
	fota_info("mqtt: disconnected from %s: stopping", url(m));
}

void serve_mqtt_release(struct serve_mqtt *m)
{
	if (m->mosq) {
		mosquitto_destroy(m->mosq);
		mosquitto_lib_cleanup();
	}
	if (m->outino >= 0)
		close(m->outino);
	fota_mqtt_marks_release(&m->marks);
	free(m->pend);
	memset(m, 0, sizeof(*m));
	m->outino = -1;
}
