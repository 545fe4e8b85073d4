// SPDX-License-Identifier: MIT
/*
 * A small blocking MQTT client over libmosquitto for the platform-side
 * commands (fota publish, fota fleet): connect with TLS client
 * certificates, publish QoS 1 and wait for the PUBACKs, subscribe and take
 * messages until a deadline. MQTT v5, so that a broker's refusal of a
 * publish (ACL) comes back as the PUBACK's reason code (MQTT v5 3.4.2.1)
 * instead of being dropped silently as v3.1.1 brokers must. The topics and
 * payloads are the contract of fota-mqtt(7).
 */
#ifndef FOTA_CMD_MQTT_CLIENT_H
#define FOTA_CMD_MQTT_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "cmd/cmd.h"
#include "core/config.h"

/* Where to connect and as whom: the config's platform.mqtt after the overrides. */
struct mqc_opts {
	char host[256];
	uint16_t port;
	bool tls;
	const char *ca, *cert, *key; /* NULL or "": none */
	const char *client_id;	     /* NULL: the library picks one */
	uint16_t keepalive_s;
	bool clean; /* clean session (false: a persistent one under client_id) */
};

/* A message arrived (payload not NUL-terminated; len may be 0). */
typedef void mqc_msg_fn(void *user, const char *topic, const void *payload, size_t len,
			bool retained);

struct mqc;

/* A client, not yet connected. NULL with the reason in why. */
struct mqc *mqc_new(const struct mqc_opts *o, mqc_msg_fn *fn, void *user, char *why, size_t size);
void mqc_free(struct mqc *c);

/*
 * Connect and wait for the CONNACK until deadline (fota_now_ms() clock).
 * 0; -ETIMEDOUT; -EACCES (the broker refused us, reason in why);
 * -ECONNREFUSED/-EHOSTUNREACH/...: the network, reason in why.
 */
int mqc_connect(struct mqc *c, int64_t deadline_ms, char *why, size_t size);

/* Queue a QoS 1 publish; returns its index for mqc_pub_state() (>= 0) or -errno. */
int mqc_publish(struct mqc *c, const char *topic, const void *payload, size_t len, bool retain);

/* Publish i: 0 in flight, 1 acknowledged, -EACCES refused (reason code in *rc). */
int mqc_pub_state(const struct mqc *c, int i, int *rc);

/* The text of an MQTT v5 reason code. */
const char *mqc_reason(int rc);

/* Subscribe QoS 1 to topic. 0 or -errno. */
int mqc_subscribe(struct mqc *c, const char *topic);

/*
 * Run the network for at most timeout_ms. 0; a negative errno when the
 * connection is lost (why says how).
 */
int mqc_step(struct mqc *c, int timeout_ms, char *why, size_t size);

/*
 * After a lost connection: connect again (as mqc_connect) and resubscribe
 * nothing: the caller subscribes again. Publishes not yet acknowledged
 * stay in flight (libmosquitto resends them on the new connection).
 */
int mqc_reconnect(struct mqc *c, int64_t deadline_ms, char *why, size_t size);

/* Send DISCONNECT (no last will) and let it go out. */
void mqc_disconnect(struct mqc *c);

/* Milliseconds since the UNIX epoch (the contract's time_ms). */
int64_t mqc_unix_ms(void);
/* A monotonic clock in milliseconds, for deadlines. */
int64_t mqc_mono_ms(void);

/* ---- the broker and TCU options shared by fota publish and fota fleet ---- */

#define MQC_KEY_URL	  FOTA_OPT_LONG(60)
#define MQC_KEY_CA	  FOTA_OPT_LONG(61)
#define MQC_KEY_CERT	  FOTA_OPT_LONG(62)
#define MQC_KEY_KEY	  FOTA_OPT_LONG(63)
#define MQC_KEY_CLIENT_ID FOTA_OPT_LONG(64)
#define MQC_KEY_PREFIX	  FOTA_OPT_LONG(65)
#define MQC_KEY_TCU_FILE  FOTA_OPT_LONG(66)
#define MQC_KEY_TIMEOUT	  FOTA_OPT_LONG(67)

/* The command-line side; each command's args struct starts with it. */
struct mqc_cli {
	const char *url, *ca, *cert, *key, *client_id, *prefix;
	const char *tcu_file;
	const char **tcus; /* -t, malloc'd */
	size_t ntcus;
	uint32_t timeout_s;
};

int mqc_opt_tcu(void *args, const char *value, char *msg, size_t size);

#define MQC_OPTS(T)                                                                               \
	FOTA_OPT_STRING(MQC_KEY_URL, "url", "URL",                                                \
			"broker mqtts://HOST[:PORT] or mqtt://HOST[:PORT] (default: "             \
			"platform: mqtt: url)",                                                   \
			0, offsetof(T, cli.url)),                                                 \
		FOTA_OPT_STRING(MQC_KEY_CA, "ca", "FILE",                                         \
				"CA certificates of the broker (default: platform: mqtt: ca)",    \
				FOTA_OPT_FILE, offsetof(T, cli.ca)),                              \
		FOTA_OPT_STRING(MQC_KEY_CERT, "cert", "FILE",                                     \
				"client certificate (default: platform: mqtt: cert)",             \
				FOTA_OPT_FILE, offsetof(T, cli.cert)),                            \
		FOTA_OPT_STRING(MQC_KEY_KEY, "key", "FILE",                                       \
				"its private key (default: platform: mqtt: key)", FOTA_OPT_FILE,  \
				offsetof(T, cli.key)),                                            \
		FOTA_OPT_STRING(MQC_KEY_CLIENT_ID, "client-id", "ID",                             \
				"MQTT client id (default: platform: mqtt: client_id, the "        \
				"command and the process id)",                                    \
				0, offsetof(T, cli.client_id)),                                   \
		FOTA_OPT_STRING(MQC_KEY_PREFIX, "prefix", "PREFIX",                               \
				"topic prefix (default: platform: mqtt: topic_prefix, fota)", 0,  \
				offsetof(T, cli.prefix)),                                         \
		FOTA_OPT_FN('t', "tcu", "TCU_ID", "a TCU by its id, repeatable", 0, mqc_opt_tcu), \
		FOTA_OPT_STRING(MQC_KEY_TCU_FILE, "tcu-file", "FILE",                             \
				"TCU ids, one a line ('#' comments)", FOTA_OPT_FILE,              \
				offsetof(T, cli.tcu_file)),                                       \
		FOTA_OPT_U32(MQC_KEY_TIMEOUT, "timeout", "SEC", "give up after SEC seconds",      \
			     offsetof(T, cli.timeout_s), 1, 86400, "s")

struct cmd_ctx;

/*
 * The broker settings: each option given, else the configuration's
 * platform.mqtt (cmd_load_config(), not required when --url is given).
 * The client id defaults to client_id-ROLE-PID (or fota-ROLE-PID), so
 * that publish and fleet of one operator run side by side. prefix gets the
 * topic prefix. Reports errors; returns 0 or an exit status.
 */
int mqc_cli_resolve(struct cmd_ctx *ctx, const struct mqc_cli *cli, const char *role,
		    struct fota_config *cfg, struct mqc_opts *o, char *client_id, size_t idsize,
		    char *prefix, size_t psize);

/*
 * The TCU ids of -t and --tcu-file, checked (cfg_is_tcu_id) and without
 * duplicates, into *ids (malloc'd array of malloc'd strings; *n of them).
 * A bad id is reported (with FILE:LINE) and is status 3.
 */
int mqc_cli_tcus(const struct mqc_cli *cli, char ***ids, size_t *n);
void mqc_tcus_free(char **ids, size_t n);

#endif
