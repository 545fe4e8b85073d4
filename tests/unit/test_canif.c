// SPDX-License-Identifier: MIT
/*
 * Unit tests of core/canif.c and the SocketCAN bus_open() path, as far as a
 * machine without CAN interfaces allows: the errors must be the documented
 * codes with a clear sentence, and nothing may be printed. The vcan and real
 * controller paths run in the VM suite (make check-vcan).
 */
#include <stdio.h>
#include "core/bus.h"
#include "core/canif.h"
#include "tests/unit/t.h"

static void test_canif__no_such_interface(void)
{
	struct canif_info info;
	char err[128], kind[16];

	T_ERR(canif_get_info("fotanosuch0", &info, err, sizeof(err)), -ENODEV);
	T_EQ_STR(err, "fotanosuch0: no such CAN interface");
	T_ERR(canif_set_bitrate("fotanosuch0", 500000, 0, err, sizeof(err)), -ENODEV);
	T_EQ_STR(err, "fotanosuch0: no such CAN interface");
	T_ERR(canif_kind("fotanosuch0", kind, sizeof(kind)), -ENODEV);
	T_ERR(canif_get_info("../lo", &info, err, sizeof(err)), -ENODEV);
}

static void test_canif__not_a_can_interface(void)
{
	struct canif_info info;
	char err[128];

	/* every Linux machine has the loopback interface */
	T_ERR(canif_get_info("lo", &info, err, sizeof(err)), -ENODEV);
	T_EQ_STR(err, "lo: not a CAN interface");
	T_ERR(canif_set_restart_ms("lo", 100, err, sizeof(err)), -ENODEV);
	T_ERR(canif_restart("lo", err, sizeof(err)), -ENODEV);
}

static void test_canif__state_names(void)
{
	T_EQ_STR(canif_state_name(CANIF_STATE_BUS_OFF), "bus-off");
	T_EQ_STR(canif_state_name(CANIF_STATE_ERROR_PASSIVE), "error-passive");
	T_EQ_STR(canif_state_name(CANIF_STATE_STOPPED), "stopped");
	T_EQ_STR(canif_state_name((enum canif_state)99), "unknown");
	/* bus.h's states use the same numbers (the kernel's enum can_state) */
	T_EQ(BUS_STATE_BUS_OFF, CANIF_STATE_BUS_OFF);
	T_EQ(BUS_STATE_ERROR_PASSIVE, CANIF_STATE_ERROR_PASSIVE);
}

/* Here: no AF_CAN in the kernel. Elsewhere: AF_CAN but no such interface. */
static void test_canif__socketcan_open_errors(void)
{
	struct bus *b = (struct bus *)1;
	char err[256];
	int ret = bus_open(&b, "fotanosuch0", NULL, err, sizeof(err));

	T_TRUE(b == NULL);
	if (ret == -EAFNOSUPPORT)
		T_EQ_STR(err,
			 "fotanosuch0: kernel has no SocketCAN (AF_CAN); try 'modprobe can-raw', "
			 "or use a unix:DIR bus");
	else
		T_EQ_STR(err, "fotanosuch0: no such CAN interface");
	T_TRUE(ret == -EAFNOSUPPORT || ret == -ENODEV);
	T_ERR(bus_open(&b, "averyveryverylongname0", NULL, err, sizeof(err)), -EINVAL);
	T_ERR(bus_open(&b, "can0/x", NULL, err, sizeof(err)), -EINVAL);
}

/*
 * The kernel ISO-TP pacing on a real controller without tx echo rests on
 * these: 111 bits for a full 8-byte frame before stuffing (as in
 * bench/flash_wire.c), 24 stuff bits at most, 20 more for a 29-bit id.
 */
static void test_canif__frame_bits_worst(void)
{
	T_EQ(canif_frame_bits_worst(8, false), 135);
	T_EQ(canif_frame_bits_worst(0, false), 55);
	T_EQ(canif_frame_bits_worst(3, false), 85);
	T_EQ(canif_frame_bits_worst(8, true), 160);
}

/* Not an interface: -ENODEV, and no rate left behind. */
static void test_canif__tx_rate_no_interface(void)
{
	uint64_t rate = 7;

	T_ERR(canif_tx_rate("fotanosuch0", &rate), -ENODEV);
	T_EQ(rate, 0);
}

static const struct t_case cases[] = {
	T_CASE(canif__frame_bits_worst),  T_CASE(canif__tx_rate_no_interface),
	T_CASE(canif__no_such_interface), T_CASE(canif__not_a_can_interface),
	T_CASE(canif__state_names),	  T_CASE(canif__socketcan_open_errors),
};

int main(void)
{
	return t_main(cases, FOTA_ARRAY_SIZE(cases));
}
