// SPDX-License-Identifier: MIT
/* The pure parts of the MQTT platform link: core/mqtt.h. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/evp.h>
#include "core/file.h"
#include "core/hexstr.h"
#include "core/mqtt.h"

int fota_mqtt_parse_url(const char *url, struct fota_mqtt_url *u, const char **why)
{
	const char *p = url, *host, *end;
	size_t hlen;
	unsigned long port;
	char *e;

	memset(u, 0, sizeof(*u));
	if (!strncmp(p, "mqtts://", 8)) {
		u->tls = true;
		u->port = MQTTS_PORT;
		p += 8;
	} else if (!strncmp(p, "mqtt://", 7)) {
		u->port = MQTT_PORT;
		p += 7;
	} else {
		*why = "not mqtts://HOST[:PORT] or mqtt://HOST[:PORT]";
		return -EINVAL;
	}
	host = p;
	if (*p == '[') {
		if (!(end = strchr(p, ']'))) {
			*why = "no ']' after the IPv6 address";
			return -EINVAL;
		}
		host = p + 1;
		hlen = (size_t)(end - host);
		p = end + 1;
		if (memchr(host, '/', hlen) || memchr(host, '@', hlen) || memchr(host, ' ', hlen)) {
			*why = "not an IPv6 address in the brackets";
			return -EINVAL;
		}
	} else {
		p += strcspn(p, ":/?#@ ");
		hlen = (size_t)(p - host);
	}
	if (!hlen || hlen >= sizeof(u->host)) {
		*why = "no host";
		return -EINVAL;
	}
	memcpy(u->host, host, hlen);
	u->host[hlen] = '\0';
	for (size_t i = 0; i < hlen; i++)
		if ((unsigned char)u->host[i] <= ' ' || u->host[i] == 0x7F || u->host[i] == '[' ||
		    u->host[i] == ']') {
			*why = "not a host name or address";
			return -EINVAL;
		}
	if (*p == ':') {
		errno = 0;
		port = strtoul(p + 1, &e, 10);
		if (p[1] < '0' || p[1] > '9' || errno || port < 1 || port > 65535) {
			*why = "port is not 1..65535";
			return -EINVAL;
		}
		u->port = (uint16_t)port;
		p = e;
	}
	if (*p == '/' && p[1] == '\0')
		p++;
	if (*p) {
		*why = "nothing may follow HOST[:PORT] (user, path, query belong elsewhere)";
		return -EINVAL;
	}
	return 0;
}

int fota_mqtt_topic(char *buf, size_t size, const char *prefix, const char *tcu, const char *leaf)
{
	int n = snprintf(buf, size, "%s/%s/%s", prefix, tcu, leaf);

	if (n < 0 || (size_t)n >= size) {
		if (size)
			buf[0] = '\0';
		return -ENAMETOOLONG;
	}
	return 0;
}

/* topic starts with s followed by '/': the rest after the '/', else NULL */
static const char *level(const char *topic, const char *s)
{
	size_t n = strlen(s);

	if (!n || strncmp(topic, s, n) || topic[n] != '/')
		return NULL;
	return topic + n + 1;
}

const char *fota_mqtt_request_id(const char *topic, const char *prefix, const char *tcu)
{
	const char *p = level(topic, prefix);

	if (p)
		p = level(p, tcu);
	if (p)
		p = level(p, "request");
	if (!p || !*p || strchr(p, '/'))
		return NULL;
	return p;
}

int fota_mqtt_report_level(char *buf, size_t size, const char *name)
{
	size_t n = strlen(name);

	if (n <= 5 || name[0] == '.' || strcmp(name + n - 5, ".json") || n - 5 >= size)
		return -EINVAL;
	for (size_t i = 0; i < n - 5; i++)
		buf[i] = (name[i] == '+' || name[i] == '#') ? '_' : name[i];
	buf[n - 5] = '\0';
	return 0;
}

uint32_t fota_mqtt_backoff_ms(unsigned attempt, uint32_t rnd)
{
	uint32_t base = MQTT_BACKOFF_MAX_MS, half;

	if (attempt < 6) /* 1, 2, 4, 8, 16, 32 s; then 60 */
		base = MQTT_BACKOFF_MIN_MS << attempt;
	if (base > MQTT_BACKOFF_MAX_MS)
		base = MQTT_BACKOFF_MAX_MS;
	half = base / 2;
	if (base == MQTT_BACKOFF_MIN_MS) /* never below the minimum */
		return base;
	return base - half + rnd % (half + 1);
}

void fota_mqtt_sha256(const void *data, size_t len, uint8_t out[32])
{
	unsigned n = 32;

	if (!EVP_Digest(data, len, out, &n, EVP_sha256(), NULL))
		memset(out, 0, 32);
}

static struct mqtt_mark *find(const struct mqtt_marks *mk, const char *name)
{
	for (size_t i = 0; i < mk->n; i++)
		if (!strcmp(mk->m[i].name, name))
			return &mk->m[i];
	return NULL;
}

bool fota_mqtt_marks_has(const struct mqtt_marks *mk, const char *name, const uint8_t sha[32])
{
	const struct mqtt_mark *m = find(mk, name);

	return m && !memcmp(m->sha, sha, 32);
}

int fota_mqtt_marks_set(struct mqtt_marks *mk, const char *name, const uint8_t sha[32])
{
	struct mqtt_mark *m = find(mk, name);

	if (strlen(name) >= MQTT_NAME_MAX || strchr(name, '\n'))
		return -ENAMETOOLONG;
	if (!m) {
		if (mk->n == mk->cap) {
			size_t cap = mk->cap ? mk->cap * 2 : 16;
			struct mqtt_mark *nm = realloc(mk->m, cap * sizeof(*nm));

			if (!nm)
				return -ENOMEM;
			mk->m = nm;
			mk->cap = cap;
		}
		m = &mk->m[mk->n++];
		snprintf(m->name, sizeof(m->name), "%s", name);
	}
	memcpy(m->sha, sha, 32);
	return 0;
}

int fota_mqtt_marks_load(struct mqtt_marks *mk, const char *path)
{
	char line[MQTT_NAME_MAX + 80];
	FILE *f = fopen(path, "re");
	int err = 0;

	if (!f)
		return errno == ENOENT ? 0 : -errno;
	while (!err && fgets(line, sizeof(line), f)) {
		uint8_t sha[32];
		size_t n = strlen(line), got = 0;

		if (n < 66 || line[n - 1] != '\n' || line[64] != ' ')
			continue; /* malformed or cut: forgetting a mark costs a duplicate only */
		line[n - 1] = '\0';
		if (fota_hex_bytes(line, 64, "", sha, sizeof(sha), &got) || got != 32)
			continue;
		err = fota_mqtt_marks_set(mk, line + 65, sha);
		if (err == -ENAMETOOLONG)
			err = 0;
	}
	fclose(f);
	return err;
}

void fota_mqtt_marks_prune(struct mqtt_marks *mk, bool (*keep)(const char *name, void *ctx),
			   void *ctx)
{
	size_t o = 0;

	for (size_t i = 0; i < mk->n; i++)
		if (keep(mk->m[i].name, ctx))
			mk->m[o++] = mk->m[i];
	mk->n = o;
}

int fota_mqtt_marks_save(const struct mqtt_marks *mk, const char *path)
{
	size_t cap = mk->n * (MQTT_NAME_MAX + 66) + 1, n = 0;
	char *text = malloc(cap);
	int err;

	if (!text)
		return -ENOMEM;
	for (size_t i = 0; i < mk->n; i++) {
		for (size_t j = 0; j < 32; j++)
			n += (size_t)snprintf(text + n, cap - n, "%02x", mk->m[i].sha[j]);
		n += (size_t)snprintf(text + n, cap - n, " %s\n", mk->m[i].name);
	}
	err = fota_write_file_atomic(path, text, n);
	free(text);
	return err;
}

void fota_mqtt_marks_release(struct mqtt_marks *mk)
{
	free(mk->m);
	memset(mk, 0, sizeof(*mk));
}
