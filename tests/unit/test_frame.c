// SPDX-License-Identifier: MIT
/*
 * Unit tests of core/frame.c: cansend syntax both ways, candump -l log lines
 * (byte-exact, as can-utils writes them), CAN FD DLC lengths, and rejection
 * of malformed text.
 */
#include <stdio.h>
#include "core/frame.h"
#include "tests/unit/t.h"

static const char *fmt(const struct bus_frame *f)
{
	static char buf[BUS_FRAME_TEXT_MAX];

	bus_frame_format(buf, sizeof(buf), f);
	return buf;
}

static void test_frame__classic_11bit(void)
{
	struct bus_frame f;
	const uint8_t d[] = { 0x02, 0x10, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00 };

	T_OK(bus_frame_parse(&f, "7E0#0210020000000000"));
	T_EQ(f.id, 0x7E0);
	T_EQ(f.flags, 0);
	T_EQ(f.len, 8);
	T_EQ_MEM(f.data, d, 8);
	T_EQ_STR(fmt(&f), "7E0#0210020000000000");
}

static void test_frame__lowercase_and_dots(void)
{
	struct bus_frame f;

	T_OK(bus_frame_parse(&f, "627#40.f3.5f.01"));
	T_EQ(f.id, 0x627);
	T_EQ(f.len, 4);
	T_EQ(f.data[1], 0xF3);
	T_EQ_STR(fmt(&f), "627#40F35F01");
}

static void test_frame__empty_data(void)
{
	struct bus_frame f;

	T_OK(bus_frame_parse(&f, "000#"));
	T_EQ(f.id, 0);
	T_EQ(f.len, 0);
	T_EQ_STR(fmt(&f), "000#");
}

static void test_frame__29bit(void)
{
	struct bus_frame f;

	T_OK(bus_frame_parse(&f, "18DA00F1#0322F190"));
	T_EQ(f.id, 0x18DA00F1);
	T_EQ(f.flags, BUS_FRAME_EFF);
	T_EQ(f.len, 4);
	T_EQ_STR(fmt(&f), "18DA00F1#0322F190");
	/* an 8-digit id below 0x800 is still a 29-bit frame */
	T_OK(bus_frame_parse(&f, "00000123#11"));
	T_EQ(f.flags, BUS_FRAME_EFF);
	T_EQ_STR(fmt(&f), "00000123#11");
}

static void test_frame__rtr(void)
{
	struct bus_frame f;

	T_OK(bus_frame_parse(&f, "123#R"));
	T_EQ(f.flags, BUS_FRAME_RTR);
	T_EQ(f.len, 0);
	T_EQ_STR(fmt(&f), "123#R");
	T_OK(bus_frame_parse(&f, "123#R3"));
	T_EQ(f.len, 3);
	T_EQ_STR(fmt(&f), "123#R3");
	T_ERR(bus_frame_parse(&f, "123#R9"), -EINVAL);
}

static void test_frame__fd(void)
{
	struct bus_frame f;
	char text[BUS_FRAME_TEXT_MAX] = "18DA00F1##1";
	size_t i;

	T_OK(bus_frame_parse(&f, "123##1AABBCC"));
	T_EQ(f.flags, BUS_FRAME_FD | BUS_FRAME_BRS);
	T_EQ(f.len, 3);
	T_EQ_STR(fmt(&f), "123##1AABBCC");
	T_OK(bus_frame_parse(&f, "123##0"));
	T_EQ(f.flags, BUS_FRAME_FD);
	T_EQ(f.len, 0);
	T_EQ_STR(fmt(&f), "123##0");
	T_OK(bus_frame_parse(&f, "123##3"));
	T_EQ(f.flags, BUS_FRAME_FD | BUS_FRAME_BRS | BUS_FRAME_ESI);
	/* 64 bytes, 29-bit: the longest text form fits BUS_FRAME_TEXT_MAX */
	for (i = 0; i < 64; i++)
		snprintf(text + strlen(text), sizeof(text) - strlen(text), "%02X", (unsigned)i);
	T_OK(bus_frame_parse(&f, text));
	T_EQ(f.len, 64);
	T_EQ(f.data[63], 63);
	T_EQ_STR(fmt(&f), text);
	/* 9 bytes is no FD length (DLC lengths: 8, 12, 16, ...) */
	T_ERR(bus_frame_parse(&f, "123##0112233445566778899"), -EINVAL);
	T_OK(bus_frame_parse(&f, "123##0112233445566778899AABBCC"));
	T_EQ(f.len, 12);
}

static void test_frame__invalid(void)
{
	static const char *const bad[] = {
		"",
		"#",
		"12#11",		  /* 2-digit id */
		"1234#11",		  /* 4-digit id */
		"800#11",		  /* 11-bit id out of range */
		"20000000#11",		  /* 29-bit id out of range */
		"123456789#11",		  /* 9 digits */
		"123",			  /* no # */
		"123#1",		  /* odd nibble */
		"123#112233445566778899", /* 9 bytes classic */
		"123#GG",		  /* not hex */
		"123#11 zz",		  /* trailing garbage */
		"123##G11",		  /* bad FD flags */
		"123##8",		  /* FD flag nibble out of range */
		"123#R#",
		"-23#11",
	};
	struct bus_frame f = { .id = 0x55 };
	size_t i;

	for (i = 0; i < FOTA_ARRAY_SIZE(bad); i++) {
		int ret = bus_frame_parse(&f, bad[i]);

		if (ret != -EINVAL)
			t_fail(__FILE__, __LINE__, "'%s' parsed (%d)", bad[i], ret);
	}
	T_EQ(f.id, 0x55); /* untouched on error */
	T_ERR(bus_frame_parse(&f, NULL), -EINVAL);
}

static void test_frame__trailing_newline(void)
{
	struct bus_frame f;

	T_OK(bus_frame_parse(&f, "7E8#0650\n"));
	T_EQ(f.len, 2);
}

static void test_frame__fd_len(void)
{
	T_EQ(bus_frame_fd_len(0), 0);
	T_EQ(bus_frame_fd_len(8), 8);
	T_EQ(bus_frame_fd_len(9), 12);
	T_EQ(bus_frame_fd_len(13), 16);
	T_EQ(bus_frame_fd_len(33), 48);
	T_EQ(bus_frame_fd_len(49), 64);
	T_EQ(bus_frame_fd_len(64), 64);
	T_EQ(bus_frame_fd_len(65), 64);
	T_EQ(bus_frame_len_to_dlc(12), 9);
	T_EQ(bus_frame_len_to_dlc(64), 15);
	T_EQ(bus_frame_len_to_dlc(5), 5);
	T_EQ(bus_frame_dlc_to_len(13), 32);
	T_EQ(bus_frame_dlc_to_len(15), 64);
}

static void test_frame__valid(void)
{
	struct bus_frame f = { .id = 0x7FF, .len = 8 };

	T_TRUE(bus_frame_valid(&f));
	f.id = 0x800;
	T_TRUE(!bus_frame_valid(&f));
	f.flags = BUS_FRAME_EFF;
	T_TRUE(bus_frame_valid(&f));
	f.flags = BUS_FRAME_BRS; /* BRS without FD */
	T_TRUE(!bus_frame_valid(&f));
	f.flags = BUS_FRAME_FD | BUS_FRAME_RTR | BUS_FRAME_EFF;
	T_TRUE(!bus_frame_valid(&f));
	f.flags = 0x80;
	T_TRUE(!bus_frame_valid(&f));
	f.flags = BUS_FRAME_FD | BUS_FRAME_EFF;
	f.len = 20;
	T_TRUE(bus_frame_valid(&f));
	f.len = 21;
	T_TRUE(!bus_frame_valid(&f));
}

static void test_frame__log_line(void)
{
	char line[256], ifname[16];
	struct bus_frame f;
	int64_t sec;
	long usec;

	T_OK(bus_frame_parse(&f, "7E0#0210020000000000"));
	bus_frame_format_log(line, sizeof(line), 1700000000, 123456, "can0", &f);
	T_EQ_STR(line, "(1700000000.123456) can0 7E0#0210020000000000\n");
	/* candump pads the seconds to 10 digits and the microseconds to 6 */
	bus_frame_format_log(line, sizeof(line), 12, 5, "vbus0", &f);
	T_EQ_STR(line, "(0000000012.000005) vbus0 7E0#0210020000000000\n");

	memset(&f, 0, sizeof(f));
	T_OK(bus_frame_parse_log("(1700000000.123456) vcan0 18DA00F1##1AABB\n", &f, &sec, &usec,
				 ifname, sizeof(ifname)));
	T_EQ(sec, 1700000000);
	T_EQ(usec, 123456);
	T_EQ_STR(ifname, "vcan0");
	T_EQ(f.id, 0x18DA00F1);
	T_EQ(f.flags, BUS_FRAME_EFF | BUS_FRAME_FD | BUS_FRAME_BRS);
	T_EQ(f.len, 2);
	T_ERR(bus_frame_parse_log("1700000000.1 can0 123#11", &f, NULL, NULL, NULL, 0), -EINVAL);
	T_ERR(bus_frame_parse_log("(1.000001) can0", &f, NULL, NULL, NULL, 0), -EINVAL);
	T_ERR(bus_frame_parse_log("(1.000001) can0 123#1", &f, NULL, NULL, NULL, 0), -EINVAL);
	T_ERR(bus_frame_parse_log("(1.000001) averyveryverylongifname 123#11", &f, NULL, NULL,
				  ifname, sizeof(ifname)),
	      -EINVAL);
}

static void test_frame__format_truncates_like_snprintf(void)
{
	struct bus_frame f;
	char small[6];

	T_OK(bus_frame_parse(&f, "7E0#0210"));
	T_EQ(bus_frame_format(small, sizeof(small), &f), 8);
	T_EQ_STR(small, "7E0#0");
}

static const struct t_case cases[] = {
	T_CASE(frame__classic_11bit), T_CASE(frame__lowercase_and_dots),
	T_CASE(frame__empty_data),    T_CASE(frame__29bit),
	T_CASE(frame__rtr),	      T_CASE(frame__fd),
	T_CASE(frame__invalid),	      T_CASE(frame__trailing_newline),
	T_CASE(frame__fd_len),	      T_CASE(frame__valid),
	T_CASE(frame__log_line),      T_CASE(frame__format_truncates_like_snprintf),
};

int main(void)
{
	return t_main(cases, FOTA_ARRAY_SIZE(cases));
}
