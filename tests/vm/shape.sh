#!/bin/sh
# tests/vm/shape.sh IF BITRATE [TXQLEN]: make the vcan interface IF behave
# like a CAN bus of BITRATE bit/s with a driver transmit queue of TXQLEN
# frames (default 10, the common driver default), for the real-bus tests and
# bench/bus.sh. Creates IF (classic vcan, MTU 16) when it does not exist;
# needs root. `tests/vm/shape.sh IF off` removes the shaping.
#
# vcan has no bitrate: it hands every frame to its receivers at once. A
# token-bucket qdisc (tbf) as IF's root qdisc paces what leaves it instead,
# by skb bytes: one classic frame is one 16-byte struct can_frame. The tbf
# rate is chosen so that one such skb takes the wire time of one classic
# 8-byte data frame with an 11-bit id: 111 bit times (SOF 1, id 11, RTR,
# IDE, r0 3, DLC 4, data 64, CRC 15, CRC delimiter, ACK 2, EOF 7, and the
# 3-bit intermission), without stuff bits. So
#
#     tbf rate (bit/s) = BITRATE x 128 / 111
#
# and a frame-saturated shaped vcan moves frames exactly as fast as the
# physical limit of bench/bus.sh assumes. A real bus adds stuff bits, up to
# floor((34 + 64 - 1) / 4) = 24 for 8 data bytes (one per 4 bits after the
# first 5, SOF to CRC), 135 bit times in the worst case: a real bus is at
# most 135/111 = 1.22x slower than this shaping for full frames.
#
# The tbf queue limit is TXQLEN x 16 bytes: like a driver's tx queue, it
# holds TXQLEN frames, and a frame sent while it is full is refused
# (ENOBUFS to a CAN_RAW writer; dropped by the kernel's ISO-TP). burst is
# two frames (32 bytes), so the bucket never lets a burst through faster than
# the bus would.
set -e
dev=${1:?usage: shape.sh IF BITRATE|off [TXQLEN]}
rate=${2:?usage: shape.sh IF BITRATE|off [TXQLEN]}
txq=${3:-10}
modprobe -q sch_tbf 2>/dev/null || true
if [ "$rate" = off ]; then
	tc qdisc del dev "$dev" root 2>/dev/null || true
	exit 0
fi
if ! ip link show dev "$dev" >/dev/null 2>&1; then
	ip link add dev "$dev" type vcan
	ip link set dev "$dev" mtu 16
fi
ip link set dev "$dev" txqueuelen "$txq" up
tc qdisc replace dev "$dev" root tbf rate "$((rate * 128 / 111))bit" burst 32 \
	limit "$((txq * 16))"
