#!/bin/sh
# SPDX-License-Identifier: MIT
# bench/bus.sh [BUILD]: wall flash time and CPU on a bitrate-shaped vcan
# (issue 12), in the QEMU VM of tests/vm (TCG) with vcanq0 shaped by
# tests/vm/shape.sh to each bitrate, txqueuelen 10. At each rate, 256 KiB:
#   user     fota flash (user-space ISO-TP) into fota ecu
#   kernel   fota flash --isotp kernel into the same fota ecu
#   isotp    can-utils isotpsend -> isotprecv -l, the same 262144 bytes as 64
#            PDUs of 4095 bytes and one of 64 (isotpsend holds 5000 at most),
#            one isotpsend per PDU, -t = the pacing fota uses (16 bytes at the
#            tbf rate); the kernel's own reference
# Printed per run: wall seconds, ratio to the physical limit
#   limit = ceil(262144 / 7) x 111 / bitrate  (full 8-byte frames of 7 payload
#   bytes, 111 bit times each without stuff bits; bench/README.md)
# the tester's CPU (user+sys of the process and its children, GNU time), the
# whole VM's CPU from /proc/stat deltas (user+nice+system+irq+softirq), both
# per MiB, and the VM's busy share of the wall time: above 90 % the run is
# CPU-bound (TCG emulates the CPU; tester, ECU and kernel share one vCPU).
#
#   sh bench/bus.sh                         # build/, all rates, about 6 min
#   FOTA_BENCH_RATES="125000 250000" FOTA_BENCH_MODES=user sh bench/bus.sh
#   FOTA_BENCH_REPEAT=3 sh bench/bus.sh     # each run 3 times
#   FOTA_BENCH_BEFORE=OLD/build/fota FOTA_BENCH_MODES="before user kernel isotp" sh bench/bus.sh
#                                   # "before": user-space flash with another fota binary
SRC=$(cd "$(dirname "$0")/.." && pwd)
SIZE=262144
if [ "${1:-}" != --inside ]; then
	b=$(cd "${1:-$SRC/build}" && pwd) || exit 2
	cd "$SRC" || exit 2
	mkdir -p "$b/bench-bus" &&
		(. tests/t/lib.sh >/dev/null && gen_hex $SIZE 23) >"$b/bench-bus/fw.hex" || exit 2
	echo "host: $(uptime)"
	exec tests/vm/run.sh -t "${FOTA_VM_TIMEOUT:-3000}" -b "$b" -- sh bench/bus.sh --inside "$b"
fi
b=$2
PATH=$b/bin:$PATH
IF=vcanq0
W=$(mktemp -d)
cd "$W" || exit 2
cp "$b/bench-bus/fw.hex" fw.hex || exit 2
# wait_until CMD SECONDS
wait_until()
{
	i=0
	while ! eval "$1"; do
		i=$((i + 1))
		[ $i -lt $(($2 * 20)) ] || return 1
		sleep 0.05
	done
}
awk 'BEGIN { for (i = 0; i < 4095; i++) printf "%02X%s", (i * 7) % 256, i < 4094 ? " " : "\n" }' >pdu.big
awk 'BEGIN { for (i = 0; i < 64; i++) printf "%02X%s", i, i < 63 ? " " : "\n" }' >pdu.small

busy() { awk '/^cpu / { print $2 + $3 + $4 + $7 + $8 + $9 }' /proc/stat; }
now() { date +%s%N; }

# run MODE RATE: one measured transfer; prints the result line
run()
{
	mode=$1 rate=$2
	gap=$((16 * 8 * 111 * 1000000000 / (rate * 128)))
	rm -f mem.bin ecu.ready tester.time
	if [ "$mode" = isotp ]; then
		isotprecv -l -s 7E8 -d 7E0 "$IF" >/dev/null &
	else
		fota ecu -b "$IF" --memory mem.bin --ready-file ecu.ready --p2 1000 2>/dev/null &
	fi
	ecu=$!
	wait_until "grep -q ' $IF .*\(isotp\|raw\)\$' /proc/net/can/rcvlist_* 2>/dev/null || test -f ecu.ready" 20
	sleep 0.5
	c0=$(busy) t0=$(now)
	case $mode in
	before) /usr/bin/time -f "%U %S" -o tester.time "$FOTA_BENCH_BEFORE" flash -b "$IF" \
		--request-id 0x7E0 --response-id 0x7E8 --key xor:A5A5A5A5 fw.hex 2>flash.err ;;
	user) /usr/bin/time -f "%U %S" -o tester.time fota flash -b "$IF" --request-id 0x7E0 \
		--response-id 0x7E8 --key xor:A5A5A5A5 fw.hex 2>flash.err ;;
	kernel) /usr/bin/time -f "%U %S" -o tester.time fota flash -b "$IF" --request-id 0x7E0 \
		--response-id 0x7E8 --key xor:A5A5A5A5 --isotp kernel fw.hex 2>flash.err ;;
	isotp) /usr/bin/time -f "%U %S" -o tester.time sh -c "
		i=0; while [ \$i -lt 64 ]; do isotpsend -t $gap -b -s 7E0 -d 7E8 $IF <pdu.big || exit 1
		i=\$((i + 1)); done; isotpsend -t $gap -b -s 7E0 -d 7E8 $IF <pdu.small" ;;
	esac
	rc=$?
	t1=$(now) c1=$(busy)
	[ $rc -eq 0 ] || sed "s/^/  $mode: /" flash.err 2>/dev/null | tail -3
	kill $ecu 2>/dev/null
	wait $ecu 2>/dev/null
	awk -v mode="$mode" -v rate="$rate" -v rc="$rc" -v t0="$t0" -v t1="$t1" -v c0="$c0" \
		-v c1="$c1" -v hz="$(getconf CLK_TCK)" -v size=$SIZE -v tt="$(cat tester.time 2>/dev/null | tail -1)" '
	BEGIN {
		wall = (t1 - t0) / 1e9; lim = int((size + 6) / 7) * 111 / rate
		mib = size / 1048576; split(tt, a, " "); tcpu = a[1] + a[2]
		vm = (c1 - c0) / hz; share = vm / wall
		printf "%-7s %7d  exit %d  wall %7.2f s  limit %6.2f s  ratio %5.2f  tester %6.2f s/MiB  VM %6.2f s/MiB  busy %3.0f %%%s\n",
			mode, rate, rc, wall, lim, wall / lim, tcpu / mib, vm / mib, 100 * share,
			(share > 0.9 ? "  CPU-bound" : "")
	}'
}

echo "VM: $(uname -r), $(nproc) vCPU; $(uptime)"
for rate in ${FOTA_BENCH_RATES:-125000 250000 500000 1000000}; do
	"$SRC/tests/vm/shape.sh" "$IF" "$rate" 10 || exit 1
	for mode in ${FOTA_BENCH_MODES:-user kernel isotp}; do
		r=0
		while [ $r -lt "${FOTA_BENCH_REPEAT:-1}" ]; do
			run "$mode" "$rate"
			r=$((r + 1))
		done
	done
	tc -s qdisc show dev "$IF" | sed -n 's/^ *Sent/  qdisc: sent/p'
done
ip link del dev "$IF"
rm -rf "$W"
