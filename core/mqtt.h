// SPDX-License-Identifier: MIT
/*
 * The pure parts of the MQTT platform link (man/fota-mqtt.7), shared by
 * `fota serve` (cmd/serve_mqtt.c) and the platform-side commands: topic
 * names, the reconnect backoff, and the delivery marks of reports. No
 * network and no libmosquitto here: unit-tested (tests/unit/test_mqtt.c),
 * the topic parser fuzzed (tests/fuzz/fuzz_mqtt_topic.c).
 *
 * Topics, PREFIX/TCU_ID/LEAF: request/ID (platform -> TCU, retained),
 * status (retained), report/ID, online (retained).
 */
#ifndef FOTA_CORE_MQTT_H
#define FOTA_CORE_MQTT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MQTT_PORT	    1883u /* mqtt:// default port (IANA) */
#define MQTTS_PORT	    8883u /* mqtts:// default port (IANA) */
#define MQTT_TOPIC_MAX	    1024u /* every topic fota builds fits (prefix 128 + id + name) */
#define MQTT_BACKOFF_MIN_MS 1000u
#define MQTT_BACKOFF_MAX_MS 60000u

/* A broker's address: mqtts://HOST[:PORT] or mqtt://HOST[:PORT]. */
struct fota_mqtt_url {
	char host[256]; /* a name, IPv4, or IPv6 without its brackets */
	uint16_t port;	/* 8883 for mqtts, 1883 for mqtt unless given (IANA) */
	bool tls;
};

/*
 * Parse url: the scheme, HOST (a name or IPv4 up to ':', '/', or [IPv6]),
 * an optional :PORT of 1..65535, an optional trailing '/', nothing else
 * (no user@, path, query: they have no meaning to an MQTT client). 0, or
 * -EINVAL with *why a short reason for the caller's one-line error. The
 * configuration (platform: mqtt: url) and the commands' --url share it.
 */
int fota_mqtt_parse_url(const char *url, struct fota_mqtt_url *u, const char **why);

/*
 * PREFIX/TCU/LEAF into buf; LEAF may itself hold '/' ("report/ID").
 * 0, or -ENAMETOOLONG when it does not fit (buf is then "").
 */
int fota_mqtt_topic(char *buf, size_t size, const char *prefix, const char *tcu, const char *leaf);

/*
 * The ID of a request topic PREFIX/TCU/request/ID: a pointer into topic, or
 * NULL when the topic is not one of TCU's request topics or ID is empty or
 * holds another level. Whether ID is a UUID is the caller's check.
 */
const char *fota_mqtt_request_id(const char *topic, const char *prefix, const char *tcu);

/*
 * A report file name of the outbox (ID.json, rejected-NAME.json) as a topic
 * level: ".json" removed, the MQTT wildcards '+' and '#' (never allowed in a
 * published topic, MQTT 3.1.1 §4.7.1) replaced by '_'. 0, or -EINVAL when
 * name is not a report's name (no .json, empty, hidden).
 */
int fota_mqtt_report_level(char *buf, size_t size, const char *name);

/*
 * The delay before reconnect attempt number attempt (0 = the first after a
 * loss): 1 s doubled per attempt up to 60 s, then drawn uniformly from its
 * upper half with rnd (any 32-bit random value) so a fleet that lost its
 * broker together does not come back together. Always 1000..60000 ms.
 */
uint32_t fota_mqtt_backoff_ms(unsigned attempt, uint32_t rnd);

/*
 * The delivery marks: which reports' bytes reached the broker (PUBACK), as
 * lines "SHA256HEX NAME\n" in one file of the state directory, replaced
 * atomically. A report whose bytes changed since has no mark: it is sent
 * again.
 */
#define MQTT_MARKS_FILE "mqtt-delivered"
#define MQTT_NAME_MAX	256

struct mqtt_mark {
	char name[MQTT_NAME_MAX];
	uint8_t sha[32];
};

struct mqtt_marks {
	struct mqtt_mark *m;
	size_t n, cap;
};

/*
 * Load PATH (a missing file is an empty set). Malformed lines are skipped
 * (a mark lost only costs a duplicate). 0 or -errno (-ENOMEM).
 */
int fota_mqtt_marks_load(struct mqtt_marks *mk, const char *path);
/* Does NAME have a mark with exactly these bytes' digest? */
bool fota_mqtt_marks_has(const struct mqtt_marks *mk, const char *name, const uint8_t sha[32]);
/* Set NAME's mark (replacing an older one). 0 or -ENOMEM, -ENAMETOOLONG. */
int fota_mqtt_marks_set(struct mqtt_marks *mk, const char *name, const uint8_t sha[32]);
/* Forget the marks whose name keep() refuses (reports gone from the outbox). */
void fota_mqtt_marks_prune(struct mqtt_marks *mk, bool (*keep)(const char *name, void *ctx),
			   void *ctx);
/* Write them to PATH atomically (core/file.h). 0 or -errno. */
int fota_mqtt_marks_save(const struct mqtt_marks *mk, const char *path);
void fota_mqtt_marks_release(struct mqtt_marks *mk);

/* SHA-256 of len bytes. */
void fota_mqtt_sha256(const void *data, size_t len, uint8_t out[32]);

#endif
