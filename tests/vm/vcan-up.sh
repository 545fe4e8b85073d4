#!/bin/sh
# tests/vm/vcan-up.sh: make the virtual CAN interfaces the end-to-end tests
# use, on this kernel: vcan0 and vcan1 (classic CAN, MTU 16) and vcanfd0
# (CAN FD capable, MTU 72). Loads the SocketCAN modules first (can, can-raw,
# can-bcm, can-gw, can-isotp, can-dev, vcan) where modprobe can. Links that
# already exist are left alone (only brought up). Needs root (CAP_NET_ADMIN).
# Exit 0 when all three are up, 1 otherwise (the reason on stderr).
modprobe -a -q can can-raw can-bcm can-gw can-isotp can-dev vcan 2>/dev/null

for spec in vcan0:16 vcan1:16 vcanfd0:72; do
	dev=${spec%:*}
	mtu=${spec#*:}
	if ! ip link show dev "$dev" >/dev/null 2>&1; then
		# A new link takes its MTU while still down (vcan refuses it when up).
		ip link add dev "$dev" type vcan && ip link set dev "$dev" mtu "$mtu" || {
			echo "vcan-up: cannot create $dev (no vcan in this kernel?)" >&2
			exit 1
		}
	fi
	ip link set dev "$dev" up || {
		echo "vcan-up: cannot bring up $dev" >&2
		exit 1
	}
done
exit 0
