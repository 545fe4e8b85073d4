#!/bin/sh
# SPDX-License-Identifier: MIT
test_description='a bitrate-shaped vcan with a 10-frame tx queue: fota flash, user and kernel ISO-TP (VCAN)'
# A real CAN interface sends at its bitrate from a short transmit queue
# (txqueuelen 10, the common driver default) and refuses frames when it is
# full. tests/vm/shape.sh gives a vcan that behaves so (a tbf qdisc); the
# test makes its own interface and removes it at the end, so the other VM
# tests keep their unshaped vcan0. Needs root (the VM runs tests as root).
. "$(dirname "$0")/lib.sh"

SHAPED=vcanq0
case $BUS in
unix:* | mem:*) ;;
*)
	if [ -e "/sys/class/net/$BUS" ] && [ "$(id -u)" = 0 ] && command -v tc >/dev/null &&
		"$FOTA_SRC/tests/vm/shape.sh" "$SHAPED" 500000 10; then
		test_set_prereq SHAPED
	fi
	;;
esac
IDS="--request-id 0x7E0 --response-id 0x7E8"
KEY="--key xor:A5A5A5A5"
# the ECU's answer time: 50 ms, 1 s under TCG (see t5000)
P2=50
[ -z "${FOTA_VM:-}" ] || P2=1000

# drops: the frames the shaped interface's queue refused so far
drops()
{
	tc -s qdisc show dev "$SHAPED" | sed -n 's/.*dropped \([0-9]*\).*/\1/p' | head -1
}

start_ecu()
{
	rm -f mem.bin ecu.ready &&
	bg_start ecu fota ecu -b "$SHAPED" --memory mem.bin --ready-file ecu.ready --p2 $P2 &&
	wait_until 'test -f ecu.ready' 20
}

test_expect_success SHAPED 'setup: 64 KiB image; the interface is shaped (tbf, limit 10 frames)' '
	gen_hex 65536 17 >fw.hex &&
	fota hexinfo --bin=want.bin --fill 0xFF --range=0x08000000-0x080fffff fw.hex >/dev/null &&
	tc qdisc show dev "$SHAPED" >qdisc &&
	test_grep "^qdisc tbf .* root .*rate 576576bit" qdisc &&
	test "$(cat /sys/class/net/$SHAPED/tx_queue_len)" -eq 10
'

test_expect_success SHAPED 'user-space ISO-TP at 500k, txqueuelen 10: memory equals the HEX' '
	start_ecu &&
	fota flash -q -b "$SHAPED" $IDS $KEY fw.hex 2>err &&
	bg_stop ecu &&
	cmp want.bin mem.bin &&
	test_must_be_empty err
'

test_expect_success SHAPED 'kernel ISO-TP at 500k, txqueuelen 10: memory equals the HEX, no frame dropped' '
	d0=$(drops) &&
	start_ecu &&
	fota flash -q -b "$SHAPED" $IDS $KEY --isotp kernel fw.hex 2>err &&
	bg_stop ecu &&
	cmp want.bin mem.bin &&
	test_must_be_empty err &&
	test "$(drops)" -eq "$d0"
'

test_expect_success SHAPED 'cleanup: the shaped interface is removed' '
	ip link del dev "$SHAPED"
'

test_done
