// SPDX-License-Identifier: MIT
/*
 * libFuzzer target for the topics fota serve receives (core/mqtt.c): a
 * broker may deliver any topic. Besides "no crash, no UB": an ID found is a
 * single non-empty level at the end of PREFIX/TCU/request/, and building the
 * request topic from it gives the input back. The same bytes as a broker
 * url (fota_mqtt_parse_url): a host found is non-empty, NUL-terminated
 * within its buffer, and without the characters that end one.
 */
#include <stdlib.h>
#include <string.h>
#include "core/mqtt.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char topic[MQTT_TOPIC_MAX], again[MQTT_TOPIC_MAX + 16], leaf[MQTT_TOPIC_MAX + 16];
	const char *id, *why;
	struct fota_mqtt_url u;

	if (size >= sizeof(topic))
		return 0;
	memcpy(topic, data, size);
	topic[size] = '\0';
	if (!fota_mqtt_parse_url(topic, &u, &why) &&
	    (!u.host[0] || strlen(u.host) >= sizeof(u.host) || strpbrk(u.host, "/@ ") || !u.port))
		abort();
	id = fota_mqtt_request_id(topic, "fota", "tcu-1");
	if (!id)
		return 0;
	if (!*id || strchr(id, '/') || id < topic || id > topic + strlen(topic))
		abort();
	strcpy(leaf, "request/");
	strcat(leaf, id);
	if (fota_mqtt_topic(again, sizeof(again), "fota", "tcu-1", leaf) || strcmp(again, topic))
		abort();
	return 0;
}
