// SPDX-License-Identifier: MIT
/*
 * The platform side's MQTT client (cmd/mqtt_client.h). One thread: the
 * commands call mqc_step(), which runs mosquitto_loop() for a bounded time,
 * so every wait has a deadline and a broker that never answers ends as a
 * timeout, not a hang. The connect is asynchronous for the same reason: a
 * TCP connect to a silent host would otherwise block for minutes.
 */
#include <errno.h>
#include <poll.h>
#include <sys/socket.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <mosquitto.h>
#include <mqtt_protocol.h>
#include <unistd.h>
#include "cmd/common.h"
#include "cmd/mqtt_client.h"
#include "core/mqtt.h"

struct mqc_pub {
	int mid;
	int state; /* 0 in flight, 1 acknowledged, -EACCES refused */
	int rc;	   /* the PUBACK's reason code */
};

struct mqc {
	struct mosquitto *m;
	struct mqc_opts o;
	mqc_msg_fn *fn;
	void *user;
	int connack; /* -1 waiting, else the CONNACK reason code */
	bool lost;
	int lost_rc;
	struct mqc_pub *pubs;
	size_t npubs, cap;
};

int64_t mqc_unix_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t mqc_mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void on_connect(struct mosquitto *m, void *u, int rc, int flags,
		       const mosquitto_property *props)
{
	struct mqc *c = u;

	(void)m;
	(void)flags;
	(void)props;
	c->connack = rc;
}

static void on_disconnect(struct mosquitto *m, void *u, int rc, const mosquitto_property *props)
{
	struct mqc *c = u;

	(void)m;
	(void)props;
	c->lost = true;
	c->lost_rc = rc;
}

static void on_publish(struct mosquitto *m, void *u, int mid, int rc,
		       const mosquitto_property *props)
{
	struct mqc *c = u;

	(void)m;
	(void)props;
	for (size_t i = 0; i < c->npubs; i++) {
		if (c->pubs[i].mid != mid || c->pubs[i].state)
			continue;
		c->pubs[i].rc = rc;
		/* MQTT v5 3.4.2.1: reason codes 0x80 and above are failures */
		c->pubs[i].state = rc >= 0x80 ? -EACCES : 1;
		return;
	}
}

static void on_message(struct mosquitto *m, void *u, const struct mosquitto_message *msg,
		       const mosquitto_property *props)
{
	struct mqc *c = u;

	(void)m;
	(void)props;
	if (c->fn)
		c->fn(c->user, msg->topic, msg->payload,
		      msg->payloadlen > 0 ? (size_t)msg->payloadlen : 0, msg->retain);
}

struct mqc *mqc_new(const struct mqc_opts *o, mqc_msg_fn *fn, void *user, char *why, size_t size)
{
	struct mqc *c = calloc(1, sizeof(*c));
	int rc;

	if (!c) {
		snprintf(why, size, "%s", strerror(ENOMEM));
		return NULL;
	}
	mosquitto_lib_init();
	c->o = *o;
	c->fn = fn;
	c->user = user;
	c->connack = -1;
	c->m = mosquitto_new(o->client_id && *o->client_id ? o->client_id : NULL,
			     o->client_id && *o->client_id ? o->clean : true, c);
	if (!c->m) {
		snprintf(why, size, "cannot create an MQTT client: %s", strerror(errno));
		free(c);
		return NULL;
	}
	mosquitto_int_option(c->m, MOSQ_OPT_PROTOCOL_VERSION, MQTT_PROTOCOL_V5);
	mosquitto_connect_v5_callback_set(c->m, on_connect);
	mosquitto_disconnect_v5_callback_set(c->m, on_disconnect);
	mosquitto_publish_v5_callback_set(c->m, on_publish);
	mosquitto_message_v5_callback_set(c->m, on_message);
	if (o->tls) {
		const char *ca = o->ca && *o->ca ? o->ca : NULL;
		const char *cert = o->cert && *o->cert ? o->cert : NULL;
		const char *key = o->key && *o->key ? o->key : NULL;

		/* no CA file: the system's store, as fota.yaml(5) PLATFORM says */
		if (!ca)
			mosquitto_int_option(c->m, MOSQ_OPT_TLS_USE_OS_CERTS, 1);
		rc = mosquitto_tls_set(c->m, ca, ca ? NULL : "/etc/ssl/certs", cert, key, NULL);
		if (rc != MOSQ_ERR_SUCCESS) {
			snprintf(why, size, "TLS files (ca %s, cert %s, key %s): %s",
				 ca ? ca : "system", cert ? cert : "none", key ? key : "none",
				 rc == MOSQ_ERR_ERRNO ? strerror(errno) : mosquitto_strerror(rc));
			mqc_free(c);
			return NULL;
		}
	}
	return c;
}

void mqc_free(struct mqc *c)
{
	if (!c)
		return;
	mosquitto_destroy(c->m);
	free(c->pubs);
	free(c);
	mosquitto_lib_cleanup();
}

static const char *lost_str(int rc, char *why, size_t size)
{
	if (rc == MOSQ_ERR_ERRNO)
		snprintf(why, size, "%s", strerror(errno));
	else if (rc > 0 && rc < 0x80)
		snprintf(why, size, "%s", mosquitto_strerror(rc));
	else
		snprintf(why, size, "%s", mosquitto_reason_string(rc));
	/* "The connection was lost." ends a sentence; ours goes on */
	if (*why && why[strlen(why) - 1] == '.')
		why[strlen(why) - 1] = '\0';
	return why;
}

/*
 * A TCP connect that failed under TLS: libmosquitto 2.0 returns success from
 * mosquitto_connect_async() and then loops on a dead socket without an
 * error, so look at the socket: POLLERR or POLLHUP before any CONNACK.
 */
static bool socket_failed(struct mqc *c)
{
	struct pollfd p = { .fd = mosquitto_socket(c->m), .events = POLLOUT };
	struct sockaddr_storage sa;
	socklen_t l = sizeof(sa);

	if (p.fd < 0)
		return true;
	if (poll(&p, 1, 0) != 1 || !(p.revents & (POLLERR | POLLHUP)))
		return false;
	return getpeername(p.fd, (struct sockaddr *)&sa, &l) != 0;
}

int mqc_connect(struct mqc *c, int64_t deadline_ms, char *why, size_t size)
{
	int rc, err, connect_errno;

	errno = 0;
	rc = mosquitto_connect_async(c->m, c->o.host, c->o.port, c->o.keepalive_s);
	connect_errno = errno;
	if (rc != MOSQ_ERR_SUCCESS) {
		err = rc == MOSQ_ERR_ERRNO ? errno : ECONNREFUSED;
		if (rc == MOSQ_ERR_EAI)
			snprintf(why, size, "cannot resolve the host");
		else
			lost_str(rc, why, size);
		return -(err ? err : ECONNREFUSED);
	}
	while (c->connack < 0) {
		int64_t left = deadline_ms - mqc_mono_ms();

		if (left <= 0) {
			snprintf(why, size, "no answer from the broker");
			return -ETIMEDOUT;
		}
		rc = mosquitto_loop(c->m, left > 100 ? 100 : (int)left, 1);
		if (c->connack < 0 && socket_failed(c)) {
			err = connect_errno && connect_errno != EINPROGRESS ? connect_errno :
									      ECONNREFUSED;
			snprintf(why, size, "%s", strerror(err));
			return -err;
		}
		if (rc != MOSQ_ERR_SUCCESS || c->lost) {
			err = rc == MOSQ_ERR_ERRNO ? errno : 0;
			if (c->connack > 0)
				break;
			if (rc == MOSQ_ERR_TLS || (!err && rc == MOSQ_ERR_SUCCESS))
				snprintf(why, size,
					 "the connection was closed (TLS handshake "
					 "or certificate refused)");
			else
				lost_str(rc, why, size);
			return -(err ? err : ECONNRESET);
		}
	}
	if (c->connack) {
		snprintf(why, size, "the broker refused the connection: %s",
			 mosquitto_reason_string(c->connack));
		return -EACCES;
	}
	return 0;
}

int mqc_publish(struct mqc *c, const char *topic, const void *payload, size_t len, bool retain)
{
	int mid = 0, rc;

	if (len > INT32_MAX)
		return -EFBIG;
	if (c->npubs == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 16;
		struct mqc_pub *p = realloc(c->pubs, cap * sizeof(*p));

		if (!p)
			return -ENOMEM;
		c->pubs = p;
		c->cap = cap;
	}
	rc = mosquitto_publish_v5(c->m, &mid, topic, (int)len, payload, 1, retain, NULL);
	if (rc != MOSQ_ERR_SUCCESS)
		return rc == MOSQ_ERR_NOMEM ? -ENOMEM : -EINVAL;
	c->pubs[c->npubs] = (struct mqc_pub){ .mid = mid };
	return (int)c->npubs++;
}

int mqc_pub_state(const struct mqc *c, int i, int *rc)
{
	if (rc)
		*rc = c->pubs[i].rc;
	return c->pubs[i].state;
}

const char *mqc_reason(int rc)
{
	return mosquitto_reason_string(rc);
}

int mqc_subscribe(struct mqc *c, const char *topic)
{
	int rc = mosquitto_subscribe_v5(c->m, NULL, topic, 1, 0, NULL);

	return rc == MOSQ_ERR_SUCCESS ? 0 : rc == MOSQ_ERR_NOMEM ? -ENOMEM : -EINVAL;
}

int mqc_step(struct mqc *c, int timeout_ms, char *why, size_t size)
{
	int rc = mosquitto_loop(c->m, timeout_ms, 1);

	if (rc == MOSQ_ERR_SUCCESS && !c->lost)
		return 0;
	if (c->lost && c->lost_rc >= 0x80)
		snprintf(why, size, "the broker closed the connection: %s",
			 mosquitto_reason_string(c->lost_rc));
	else if (rc == MOSQ_ERR_SUCCESS)
		snprintf(why, size, "the broker closed the connection");
	else
		lost_str(rc, why, size);
	return -ECONNRESET;
}

int mqc_reconnect(struct mqc *c, int64_t deadline_ms, char *why, size_t size)
{
	c->connack = -1;
	c->lost = false;
	c->lost_rc = 0;
	return mqc_connect(c, deadline_ms, why, size);
}

void mqc_disconnect(struct mqc *c)
{
	mosquitto_disconnect_v5(c->m, 0, NULL);
	for (int i = 0; i < 5 && mosquitto_want_write(c->m); i++)
		mosquitto_loop(c->m, 10, 1);
}

int mqc_opt_tcu(void *args, const char *value, char *msg, size_t size)
{
	struct mqc_cli *cli = args; /* first member of every args struct */
	const char **t = realloc(cli->tcus, (cli->ntcus + 1) * sizeof(*t));

	if (!t)
		return fota_opt_error(msg, size, "out of memory");
	cli->tcus = t;
	cli->tcus[cli->ntcus++] = value;
	return 0;
}

int mqc_cli_resolve(struct cmd_ctx *ctx, const struct mqc_cli *cli, const char *role,
		    struct fota_config *cfg, struct mqc_opts *o, char *client_id, size_t idsize,
		    char *prefix, size_t psize)
{
	const struct cfg_mqtt *m = &cfg->platform.mqtt;
	struct fota_mqtt_url u;
	const char *url, *why;
	int rc = cmd_load_config(ctx, cfg, false);

	if (rc)
		return rc;
	url = cli->url ? cli->url : m->url;
	memset(o, 0, sizeof(*o));
	if (!url[0])
		return fota_usage_error(ctx->cmd, "no broker: give --url or platform: mqtt: url in "
						  "the configuration");
	if (fota_mqtt_parse_url(url, &u, &why))
		return fota_usage_error(ctx->cmd, "invalid --url '%s': %s", url, why);
	snprintf(o->host, sizeof(o->host), "%s", u.host);
	o->port = u.port;
	o->tls = u.tls;
	o->ca = cli->ca ? cli->ca : m->ca;
	o->cert = cli->cert ? cli->cert : m->cert;
	o->key = cli->key ? cli->key : m->key;
	if (!*o->cert != !*o->key)
		return fota_usage_error(ctx->cmd, "give the client certificate and its key "
						  "together (--cert, --key)");
	if (!o->tls && (*o->ca || *o->cert))
		return fota_usage_error(ctx->cmd, "certificates need an mqtts:// url");
	o->keepalive_s = m->keepalive_s ? m->keepalive_s : CFG_MQTT_KEEPALIVE_DEF;
	if (cli->client_id)
		snprintf(client_id, idsize, "%s", cli->client_id);
	else
		snprintf(client_id, idsize, "%s-%s-%ld", m->client_id[0] ? m->client_id : "fota",
			 role, (long)getpid());
	if (!client_id[0] || strlen(client_id) > 23 * 10)
		return fota_usage_error(ctx->cmd, "invalid --client-id '%s'", client_id);
	o->client_id = client_id;
	o->clean = true;
	prefix[0] = '\0';
	if (cli->prefix) {
		const char *p = cli->prefix;

		if (!*p || strpbrk(p, "+#") || *p == '/' || *p == '$' || p[strlen(p) - 1] == '/' ||
		    strstr(p, "//") || strlen(p) >= psize)
			return fota_usage_error(ctx->cmd,
						"invalid --prefix '%s' (no '+', '#', leading '$', "
						"empty level or leading/trailing '/')",
						p);
		snprintf(prefix, psize, "%s", p);
	} else {
		snprintf(prefix, psize, "%s", m->topic_prefix[0] ? m->topic_prefix : "fota");
	}
	return 0;
}

void mqc_tcus_free(char **ids, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(ids[i]);
	free(ids);
}

static int tcus_add(char ***ids, size_t *n, const char *id)
{
	char **t;

	for (size_t i = 0; i < *n; i++)
		if (!strcmp((*ids)[i], id))
			return 0;
	t = realloc(*ids, (*n + 1) * sizeof(*t));
	if (!t)
		return -ENOMEM;
	*ids = t;
	t[*n] = strdup(id);
	if (!t[*n])
		return -ENOMEM;
	(*n)++;
	return 0;
}

static int tcus_file(const char *path, char ***ids, size_t *n)
{
	FILE *f = fopen(path, "re");
	char *line = NULL, *s, *e;
	size_t cap = 0, lineno = 0;
	int rc = 0;

	if (!f) {
		fota_error("%s: %s", path, strerror(errno));
		return FOTA_EXIT_DATA;
	}
	while (!rc && getline(&line, &cap, f) >= 0) {
		lineno++;
		s = line;
		if ((e = strchr(s, '#')))
			*e = '\0';
		while (*s == ' ' || *s == '\t')
			s++;
		e = s + strlen(s);
		while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\n' || e[-1] == '\r'))
			*--e = '\0';
		if (!*s)
			continue;
		if (!cfg_is_tcu_id(s)) {
			fota_error("%s:%zu: '%s' is not a TCU id ([A-Za-z0-9_.-]+)", path, lineno,
				   s);
			rc = FOTA_EXIT_DATA;
		} else if (tcus_add(ids, n, s)) {
			fota_error("%s: %s", path, strerror(ENOMEM));
			rc = FOTA_EXIT_FAIL;
		}
	}
	if (!rc && ferror(f)) {
		fota_error("%s: %s", path, strerror(errno));
		rc = FOTA_EXIT_DATA;
	}
	free(line);
	fclose(f);
	return rc;
}

int mqc_cli_tcus(const struct mqc_cli *cli, char ***ids, size_t *n)
{
	int rc = 0;

	*ids = NULL;
	*n = 0;
	for (size_t i = 0; i < cli->ntcus && !rc; i++) {
		if (!cfg_is_tcu_id(cli->tcus[i])) {
			fota_error("-t '%s': not a TCU id ([A-Za-z0-9_.-]+, no '/', '+' or '#')",
				   cli->tcus[i]);
			rc = FOTA_EXIT_DATA;
		} else if (tcus_add(ids, n, cli->tcus[i])) {
			fota_error("%s", strerror(ENOMEM));
			rc = FOTA_EXIT_FAIL;
		}
	}
	if (!rc && cli->tcu_file)
		rc = tcus_file(cli->tcu_file, ids, n);
	if (rc) {
		mqc_tcus_free(*ids, *n);
		*ids = NULL;
		*n = 0;
	}
	return rc;
}
