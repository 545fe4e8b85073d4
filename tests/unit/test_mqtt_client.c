// SPDX-License-Identifier: MIT
/*
 * cmd/mqtt_client.c: the broker URL of --url (fota publish, fota fleet),
 * hostile text from a command line.
 */
#include <errno.h>
#include <string.h>
#include "cmd/mqtt_client.h"
#include "tests/unit/t.h"

static void test_mqtt_client__url(void)
{
	struct mqc_opts o;

	memset(&o, 0, sizeof(o));
	T_OK(mqc_parse_url("mqtts://broker.example.com", &o));
	T_EQ_STR(o.host, "broker.example.com");
	T_EQ(o.port, 8883);
	T_TRUE(o.tls);
	T_OK(mqc_parse_url("mqtt://127.0.0.1:1884", &o));
	T_EQ_STR(o.host, "127.0.0.1");
	T_EQ(o.port, 1884);
	T_TRUE(!o.tls);
	T_OK(mqc_parse_url("mqtts://[::1]:65535", &o));
	T_EQ_STR(o.host, "::1");
	T_EQ(o.port, 65535);
	T_OK(mqc_parse_url("mqtt://h", &o));
	T_EQ(o.port, 1883);
}

static void test_mqtt_client__bad_url(void)
{
	static const char *const bad[] = {
		"",
		"broker:8883",
		"http://broker",
		"mqtts://",
		"mqtts://:8883",
		"mqtts://h:0",
		"mqtts://h:65536",
		"mqtts://h:",
		"mqtts://h:+1",
		"mqtts://h:1x",
		"mqtts://h/path",
		"mqtts://user@h",
		"mqtts://h:1/x",
		"mqtts://[::1",
		"mqtts://[::1]x",
		"mqtts://[]:1",
	};
	struct mqc_opts o;

	for (size_t i = 0; i < FOTA_ARRAY_SIZE(bad); i++)
		if (mqc_parse_url(bad[i], &o) != -EINVAL)
			t_fail(__FILE__, __LINE__, "'%s' accepted", bad[i]);
}

static const struct t_case cases[] = {
	T_CASE(mqtt_client__url),
	T_CASE(mqtt_client__bad_url),
};

int main(void)
{
	return t_main(cases, FOTA_ARRAY_SIZE(cases));
}
