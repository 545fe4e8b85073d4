#!/bin/sh
# tests/vm/smoke.sh: proves the VM's CAN path works before the suite relies
# on it: the vcan links exist with the right MTU, can-utils' cansend and
# candump meet on vcan0 (classic) and vcanfd0 (CAN FD), and the kernel's
# CAN_ISOTP moves a 5000-byte PDU between isotpsend and isotprecv (ISO
# 15765-2:2016 §9.6.3.1: a length above 4095 uses the escaped first frame).
# Background helpers run under timeout(1): lib.sh runs each test body in a
# subshell, so its test_done cannot kill what a body started.
# Needs vcan0, vcan1 and vcanfd0 (tests/vm/vcan-up.sh). Output is TAP.
test_description='the VM has real SocketCAN: vcan, can-utils, kernel ISO-TP'
. "$(cd "$(dirname "$0")/../t" && pwd)/lib.sh"

# wait_rcv DEV IDENT: until a socket of kind IDENT (raw, isotp) listens on DEV,
# so nothing is sent before the receiver is there.
wait_rcv()
{
	wait_until "cat /proc/net/can/rcvlist_* | grep -qE '^ +$1 .* $2\$'" 20
}

# bg_wait NAME: wait (20 s at most) for a bg_start process to end by itself.
bg_wait()
{
	wait_until "! kill -0 $(bg_pid "$1") 2>/dev/null" 20 && wait "$(bg_pid "$1")"
}

# The bytes 00 01 .. ff 00 01 .. for N bytes, as isotpsend reads them.
hex_bytes()
{
	awk -v n="$1" 'BEGIN { for (i = 0; i < n; i++) printf "%02X%s", i % 256, (i < n - 1 ? " " : "\n") }'
}

test_expect_success 'vcan0, vcan1 are classic CAN and vcanfd0 is CAN FD' '
	echo "16 16 72" >expect &&
	echo $(cat /sys/class/net/vcan0/mtu /sys/class/net/vcan1/mtu \
		/sys/class/net/vcanfd0/mtu) >actual &&
	test_cmp expect actual
'

test_expect_success 'candump on vcan0 sees the frame cansend puts there' '
	bg_start dump timeout 30 candump -L -n 1 vcan0 &&
	wait_rcv vcan0 raw &&
	cansend vcan0 123#DEADBEEF &&
	bg_wait dump &&
	sed "s/^([0-9.]*) //" dump.out >actual &&
	echo "vcan0 123#DEADBEEF" >expect &&
	test_cmp expect actual
'

test_expect_success 'a 64-byte CAN FD frame goes through vcanfd0' '
	data=$(hex_bytes 64 | tr -d " ") &&
	bg_start dump timeout 30 candump -L -n 1 vcanfd0 &&
	wait_rcv vcanfd0 raw &&
	cansend vcanfd0 "1F334455##1$data" &&
	bg_wait dump &&
	# flags: BRS as sent; this kernel also reports FDF (0x4)
	test_grep "^\([0-9.]*\) vcanfd0 1F334455##[15]$data\$" dump.out
'

# can-utils 2020.11's isotprecv prints nothing for a PDU of exactly its
# 5000-byte buffer (it checks nbytes < BUFSIZE), so the 5000-byte transfer is
# checked on the wire and by isotprecv's exit, and the printed round trip uses
# 4095 bytes, the largest length of an unescaped first frame. The capture
# gets a 4 MiB receive buffer (-r): vcan has no flow control, and a candump
# that falls behind the kernel's CFs under TCG drops them once the default
# buffer (a few hundred frames) is full.
test_expect_success 'kernel ISO-TP: isotpsend to isotprecv, 5000 bytes, BS 8' '
	hex_bytes 5000 >payload &&
	bg_start wire timeout 60 candump -r 4194304 -L vcan0 &&
	wait_rcv vcan0 raw &&
	bg_start recv timeout 30 isotprecv -s 7E8 -d 7E0 -b 8 vcan0 &&
	wait_rcv vcan0 isotp &&
	isotpsend -s 7E0 -d 7E8 vcan0 <payload &&
	bg_wait recv &&
	wait_until "test \$(wc -l <wire.out) -ge 805" 60 &&
	{ bg_stop wire || true; } &&
	sed "s/^([0-9.]*) //" wire.out >frames &&
	# escaped first frame: 10 00, the 32-bit length 0x1388, 2 data bytes
	test "$(head -1 frames)" = "vcan0 7E0#1000000013880001" &&
	# 714 consecutive frames; flow control (CTS, BS 8) after the FF and
	# after every 8th CF
	test "$(grep -c "^vcan0 7E0#2" frames)" = 714 &&
	test "$(grep -c "^vcan0 7E8#300800\$" frames)" = 90 &&
	# the data reassembled from the FF and the CFs is the payload
	awk -F"#" "/^vcan0 7E0#1/ { d = substr(\$2, 13) }
		/^vcan0 7E0#2/ { d = d substr(\$2, 3) }
		END { print substr(d, 1, 10000) }" frames >actual &&
	tr -d " " <payload >expect &&
	test_cmp expect actual
'

test_expect_success 'kernel ISO-TP: 4095 bytes with STmin 1 ms arrive intact' '
	hex_bytes 4095 >payload &&
	bg_start recv timeout 60 isotprecv -s 7E8 -d 7E0 -b 16 -m 1 vcan0 &&
	wait_rcv vcan0 isotp &&
	isotpsend -s 7E0 -d 7E8 vcan0 <payload &&
	bg_wait recv &&
	sed "s/ *\$//" recv.out >actual &&
	test_cmp payload actual
'

test_done
