// SPDX-License-Identifier: MIT
/*
 * core/mqtt.c: topic names, the reconnect backoff and the delivery marks of
 * the MQTT platform link (man/fota-mqtt.7).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "core/mqtt.h"
#include "tests/unit/t.h"

static void test_mqtt__topic(void)
{
	char b[32];

	T_OK(fota_mqtt_topic(b, sizeof(b), "fota", "tcu-1", "report/abc"));
	T_EQ_STR(b, "fota/tcu-1/report/abc");
	T_ERR(fota_mqtt_topic(b, 12, "fota", "tcu-1", "status"), -ENAMETOOLONG);
	T_EQ_STR(b, "");
}

/* the configuration's url: and the commands' --url (fota.yaml(5) PLATFORM) */
static void test_mqtt__parse_url(void)
{
	static const struct {
		const char *url, *host;
		unsigned port;
		bool tls;
	} good[] = {
		{ "mqtts://broker.example.com", "broker.example.com", 8883, true },
		{ "mqtt://127.0.0.1", "127.0.0.1", 1883, false },
		{ "mqtt://127.0.0.1:1", "127.0.0.1", 1, false },
		{ "mqtts://[::1]:65535", "::1", 65535, true },
		{ "mqtts://[fe80::1%eth0]", "fe80::1%eth0", 8883, true },
		{ "mqtts://h/", "h", 8883, true },
		{ "mqtt://h:1884/", "h", 1884, false },
	};
	static const struct {
		const char *url, *why;
	} bad[] = {
		{ "", "not mqtts://" },
		{ "http://h", "not mqtts://" },
		{ "broker:8883", "not mqtts://" },
		{ "MQTTS://h", "not mqtts://" },
		{ "mqtts://", "no host" },
		{ "mqtts://:1883", "no host" },
		{ "mqtts://[]:1", "no host" },
		{ "mqtts://[::1", "no ']'" },
		{ "mqtts://[::1]x", "nothing may follow" },
		{ "mqtts://[a/b]", "not an IPv6" },
		{ "mqtts://h:0", "port is not" },
		{ "mqtts://h:65536", "port is not" },
		{ "mqtts://h:99999999999999999999", "port is not" },
		{ "mqtts://h:", "port is not" },
		{ "mqtts://h:+1", "port is not" },
		{ "mqtts://h:-1", "port is not" },
		{ "mqtts://h:1x", "nothing may follow" },
		{ "mqtts://h/path", "nothing may follow" },
		{ "mqtts://h:1/x", "nothing may follow" },
		{ "mqtts://h//", "nothing may follow" },
		{ "mqtts://user@h", "nothing may follow" },
		{ "mqtts://h?x=1", "nothing may follow" },
		{ "mqtts://h x", "nothing may follow" },
		{ "mqtts://a[b", "not a host" },
		{ "mqtts://a\tb", "not a host" },
		{ "mqtts://[::1\n]", "not a host" },
	};
	struct fota_mqtt_url u;
	const char *why;

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		why = NULL;
		T_OK(fota_mqtt_parse_url(good[i].url, &u, &why));
		T_EQ_STR(u.host, good[i].host);
		T_EQ(u.port, good[i].port);
		T_TRUE(u.tls == good[i].tls);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		why = NULL;
		if (fota_mqtt_parse_url(bad[i].url, &u, &why) != -EINVAL || !why ||
		    !strstr(why, bad[i].why))
			t_fail(__FILE__, __LINE__, "'%s': %s", bad[i].url, why ? why : "accepted");
	}
	/* a host name as long as the buffer does not fit */
	{
		char url[300] = "mqtt://";

		memset(url + 7, 'a', sizeof(u.host));
		url[7 + sizeof(u.host)] = '\0';
		T_TRUE(fota_mqtt_parse_url(url, &u, &why) == -EINVAL && strstr(why, "no host"));
	}
}

static void test_mqtt__request_id(void)
{
	const char *t = "fota/tcu-1/request/3f2b8c1e-9a4d-4e7f-8b21-0c5d6e7f8a90";

	T_EQ_STR(fota_mqtt_request_id(t, "fota", "tcu-1"), "3f2b8c1e-9a4d-4e7f-8b21-0c5d6e7f8a90");
	T_EQ_STR(fota_mqtt_request_id("a/b/c/tcu/request/x", "a/b/c", "tcu"), "x");
	/* another TCU, a TCU whose id starts like ours, another leaf, more levels, nothing */
	T_TRUE(!fota_mqtt_request_id("fota/tcu-2/request/x", "fota", "tcu-1"));
	T_TRUE(!fota_mqtt_request_id("fota/tcu-10/request/x", "fota", "tcu-1"));
	T_TRUE(!fota_mqtt_request_id("fota/tcu-1/status", "fota", "tcu-1"));
	T_TRUE(!fota_mqtt_request_id("fota/tcu-1/request/x/y", "fota", "tcu-1"));
	T_TRUE(!fota_mqtt_request_id("fota/tcu-1/request/", "fota", "tcu-1"));
	T_TRUE(!fota_mqtt_request_id("fota/tcu-1/request", "fota", "tcu-1"));
	T_TRUE(!fota_mqtt_request_id("fotax/tcu-1/request/x", "fota", "tcu-1"));
	T_TRUE(!fota_mqtt_request_id("", "fota", "tcu-1"));
}

static void test_mqtt__report_level(void)
{
	char b[64];

	T_OK(fota_mqtt_report_level(b, sizeof(b), "3f2b8c1e.json"));
	T_EQ_STR(b, "3f2b8c1e");
	T_OK(fota_mqtt_report_level(b, sizeof(b), "rejected-a+b#c.json"));
	T_EQ_STR(b, "rejected-a_b_c");
	T_ERR(fota_mqtt_report_level(b, sizeof(b), ".json"), -EINVAL);
	T_ERR(fota_mqtt_report_level(b, sizeof(b), ".x.json"), -EINVAL);
	T_ERR(fota_mqtt_report_level(b, sizeof(b), "x.json.tmp"), -EINVAL);
	T_ERR(fota_mqtt_report_level(b, 4, "abcd.json"), -EINVAL);
}

static void test_mqtt__backoff(void)
{
	static const uint32_t base[] = { 1000, 2000, 4000, 8000, 16000, 32000, 60000, 60000 };

	for (unsigned a = 0; a < 40; a++) {
		uint32_t b = base[a < 7 ? a : 7];

		/* the extremes of the jitter: the upper half of the step, never under 1 s */
		T_EQ(fota_mqtt_backoff_ms(a, 0), a ? b - b / 2 : 1000);
		T_EQ(fota_mqtt_backoff_ms(a, b / 2), b);
		T_TRUE(fota_mqtt_backoff_ms(a, 0xffffffffu) >= 1000);
		T_TRUE(fota_mqtt_backoff_ms(a, 0xffffffffu) <= 60000);
	}
	/* jitter: two TCUs with different random draws wait differently */
	T_TRUE(fota_mqtt_backoff_ms(5, 1) != fota_mqtt_backoff_ms(5, 2));
}

static bool keep_a(const char *name, void *ctx)
{
	return name[0] == 'a';
}

static void test_mqtt__marks(void)
{
	char dir[] = "/tmp/test_mqtt.XXXXXX", path[64], text[512];
	struct mqtt_marks mk = { 0 }, back = { 0 };
	uint8_t s1[32], s2[32];
	FILE *f;
	size_t n;

	T_TRUE(mkdtemp(dir) != NULL);
	snprintf(path, sizeof(path), "%s/%s", dir, MQTT_MARKS_FILE);
	T_OK(fota_mqtt_marks_load(&mk, path)); /* none yet */
	T_EQ(mk.n, 0);
	fota_mqtt_sha256("one", 3, s1);
	fota_mqtt_sha256("two", 3, s2);
	T_OK(fota_mqtt_marks_set(&mk, "a.json", s1));
	T_OK(fota_mqtt_marks_set(&mk, "b.json", s1));
	T_TRUE(fota_mqtt_marks_has(&mk, "a.json", s1));
	T_TRUE(!fota_mqtt_marks_has(&mk, "a.json", s2)); /* rewritten: not delivered */
	T_OK(fota_mqtt_marks_set(&mk, "a.json", s2));	 /* replaced, not added */
	T_EQ(mk.n, 2);
	T_TRUE(fota_mqtt_marks_has(&mk, "a.json", s2));
	T_OK(fota_mqtt_marks_save(&mk, path));
	T_OK(fota_mqtt_marks_load(&back, path));
	T_EQ(back.n, 2);
	T_TRUE(fota_mqtt_marks_has(&back, "a.json", s2) &&
	       fota_mqtt_marks_has(&back, "b.json", s1));
	/* the file: one line per report, the digest first */
	f = fopen(path, "r");
	n = fread(text, 1, sizeof(text) - 1, f);
	fclose(f);
	text[n] = '\0';
	T_EQ(n, 2 * (64 + 1 + 6 + 1));
	T_TRUE(!strncmp(text,
			"3fc4ccfe745870e2c0d99f71f30ff0656c8dedd41cc1d7d3d376b0dbe685e2f3 a.json\n",
			64 + 8));
	fota_mqtt_marks_prune(&back, keep_a, NULL);
	T_EQ(back.n, 1);
	T_TRUE(!fota_mqtt_marks_has(&back, "b.json", s1));
	fota_mqtt_marks_release(&back);
	/* a damaged file: its good lines count, the rest is forgotten */
	f = fopen(path, "w");
	fprintf(f, "zz a.json\n%.64s c.json\n%.64s cut", text, text);
	fclose(f);
	T_OK(fota_mqtt_marks_load(&back, path));
	T_EQ(back.n, 1);
	T_TRUE(fota_mqtt_marks_has(&back, "c.json", s2));
	fota_mqtt_marks_release(&back);
	fota_mqtt_marks_release(&mk);
	unlink(path);
	rmdir(dir);
}

static const struct t_case cases[] = {
	T_CASE(mqtt__topic),	    T_CASE(mqtt__parse_url), T_CASE(mqtt__request_id),
	T_CASE(mqtt__report_level), T_CASE(mqtt__backoff),   T_CASE(mqtt__marks),
};

int main(void)
{
	return t_main(cases, FOTA_ARRAY_SIZE(cases));
}
