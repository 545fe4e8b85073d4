// SPDX-License-Identifier: MIT
/*
 * The platform link of `fota serve` over MQTT (man/fota-mqtt.7): requests
 * from PREFIX/TCU/request/ID into the inbox (then cleared on the broker),
 * outbox reports to report/ID until their PUBACK (marked in the state
 * directory), the 0x5FF3 objects to status, online and its last will.
 *
 * libmosquitto runs in non-blocking mode inside serve's loop: its socket is
 * one of the loop's fds (POLLOUT only while it has bytes queued), and the
 * member's tick calls mosquitto_loop_misc() (keepalive) and starts the
 * connection attempts. No thread: every callback runs in the loop's thread,
 * so the link reads the TCU's state and the outbox without locks. Only the
 * host name lookup of a connection attempt can block (getaddrinfo); a
 * numeric address or /etc/hosts does not.
 */
#ifndef FOTA_CMD_SERVE_MQTT_H
#define FOTA_CMD_SERVE_MQTT_H

#include <stdbool.h>
#include "cmd/serve.h"
#include "cmd/serve_tcu.h"
#include "core/loop.h"
#include "core/mqtt.h"

struct mosquitto;
struct mqtt_pending;
struct inbox;

struct serve_mqtt_status {
	uint8_t available, status, progress;
	char id[UPD_REQUEST_ID_LEN + 1];
	uint32_t attempts, available_time, can_id, start_time, end_time;
	uint16_t health_timeout;
};

struct serve_mqtt {
	const struct fota_config *cfg;
	const struct serve_paths *p;
	const struct tcu *t;
	struct loop *loop;
	struct mosquitto *mosq; /* NULL: no platform link configured */
	struct inbox *ib;	/* poked when a request is written: no wait for inotify */
	bool connected, connecting, scan;
	unsigned attempt;
	fota_us now, next_try, connect_by, next_scan, status_at;
	uint32_t rnd;
	int outino; /* inotify on outbox/ */
	char marks_path[CFG_PATH_MAX + 32];
	struct mqtt_marks marks;
	struct mqtt_pending *pend;
	size_t npend, cappend;
	struct serve_mqtt_status last; /* what the status topic says */
	bool status_sent;
	int online_mid;
	bool online_acked;
};

/*
 * Set up the link when cfg has platform: mqtt (else a no-op that adds
 * nothing): the client, its TLS files, its last will, the delivery marks
 * of STATE_DIR, a loop member and two fds. ib is poked when a request from
 * the broker is in the inbox. 0 or -errno (reported).
 */
int serve_mqtt_init(struct serve_mqtt *m, const struct fota_config *cfg,
		    const struct serve_paths *p, const struct tcu *t, struct inbox *ib,
		    struct loop *loop);
/* Stopping cleanly: online false, then disconnect (waits at most about 1 s). */
void serve_mqtt_stop(struct serve_mqtt *m);
void serve_mqtt_release(struct serve_mqtt *m);

#endif
