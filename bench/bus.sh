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
#   FOTA_BENCH_MODES="corpus user-lz4 user-deflate" sh bench/bus.sh
#                                   # the compression corpus (bench/corpus.sh) as one image,
#                                   # raw and compressed; the ratio is always to the raw
#                                   # limit of the uncompressed image
#   FOTA_BENCH_MODES="fd fd-kernel" sh bench/bus.sh
#                                   # CAN FD (vcanfd0, unshaped, tx_dl 64), once: the frames
#                                   # on the wire (candump) priced at 500k/2M against the FD
#                                   # physical limit (fd_bits below)
#   FOTA_BENCH_SPLIT=1 sh bench/bus.sh
#                                   # user-space modes keep a --trace and print where the
#                                   # wall time goes: setup (start to the first TransferData
#                                   # frame), transfer (to the last TransferData response),
#                                   # end (check, reset, exit); transfer ratio = transfer /
#                                   # the limit of the bytes on the bus
SRC=$(cd "$(dirname "$0")/.." && pwd)
SIZE=262144
if [ "${1:-}" != --inside ]; then
	b=$(cd "${1:-$SRC/build}" && pwd) || exit 2
	cd "$SRC" || exit 2
	mkdir -p "$b/bench-bus" &&
		(. tests/t/lib.sh >/dev/null && gen_hex $SIZE 23) >"$b/bench-bus/fw.hex" || exit 2
	case " ${FOTA_BENCH_MODES:-} " in
	*" corpus "* | *" user-lz4 "* | *" user-deflate "*)
		# the corpus images end to end, one image at 0x08000000
		for h in $(sh bench/corpus.sh); do
			objcopy -I ihex -O binary "$h" "$b/bench-bus/part.bin" &&
				cat "$b/bench-bus/part.bin" || exit 2
		done >"$b/bench-bus/corpus.bin" &&
			objcopy -I binary -O ihex --change-addresses 0x08000000 \
				"$b/bench-bus/corpus.bin" "$b/bench-bus/corpus.hex" || exit 2
		rm -f "$b/bench-bus/part.bin"
		echo "corpus: $(wc -c <"$b/bench-bus/corpus.bin") bytes (bench/corpus.sh, end to end)"
		;;
	esac
	echo "host: $(uptime)"
	exec tests/vm/run.sh -t "${FOTA_VM_TIMEOUT:-3000}" -b "$b" -- sh bench/bus.sh --inside "$b"
fi
b=$2
PATH=$b/bin:$PATH
IF=vcanq0
W=$(mktemp -d)
cd "$W" || exit 2
cp "$b/bench-bus/fw.hex" fw.hex || exit 2
[ ! -f "$b/bench-bus/corpus.hex" ] || cp "$b/bench-bus/corpus.hex" corpus.hex || exit 2
CORPUS_SIZE=$( (wc -c <"$b/bench-bus/corpus.bin") 2>/dev/null || echo 0)
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
	img=fw.hex size=$SIZE comp=
	case $mode in
	corpus) img=corpus.hex size=$CORPUS_SIZE ;;
	user-lz4 | user-deflate) img=corpus.hex size=$CORPUS_SIZE comp="--compression ${mode#user-}" ;;
	esac
	trace=
	case $mode in
	before | user | corpus | user-*) [ -z "${FOTA_BENCH_SPLIT:-}" ] || trace=--trace=trace.log ;;
	esac
	rm -f mem.bin ecu.ready tester.time trace.log
	if [ "$mode" = isotp ]; then
		isotprecv -l -s 7E8 -d 7E0 "$IF" >/dev/null &
	else
		fota ecu -b "$IF" --memory mem.bin --ready-file ecu.ready --p2 1000 $comp 2>/dev/null &
	fi
	ecu=$!
	# fota ecu: its ready file (its socket exists earlier, before it answers)
	if [ "$mode" = isotp ]; then
		wait_until "grep -q ' $IF .*isotp\$' /proc/net/can/rcvlist_* 2>/dev/null" 20
	else
		wait_until "test -f ecu.ready" 20
	fi
	sleep 0.5
	c0=$(busy) t0=$(now)
	case $mode in
	before) /usr/bin/time -f "%U %S" -o tester.time "$FOTA_BENCH_BEFORE" flash -b "$IF" \
		--request-id 0x7E0 --response-id 0x7E8 --key xor:A5A5A5A5 $trace fw.hex 2>flash.err ;;
	user | corpus | user-*) /usr/bin/time -f "%U %S" -o tester.time fota flash -b "$IF" \
		--request-id 0x7E0 --response-id 0x7E8 --key xor:A5A5A5A5 $comp $trace "$img" 2>flash.err ;;
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
		-v c1="$c1" -v hz="$(getconf CLK_TCK)" -v size="$size" -v tt="$(cat tester.time 2>/dev/null | tail -1)" '
	BEGIN {
		wall = (t1 - t0) / 1e9; lim = int((size + 6) / 7) * 111 / rate
		mib = size / 1048576; split(tt, a, " "); tcpu = a[1] + a[2]
		vm = (c1 - c0) / hz; share = vm / wall
		printf "%-7s %7d  exit %d  wall %7.2f s  limit %6.2f s  ratio %5.2f  tester %6.2f s/MiB  VM %6.2f s/MiB  busy %3.0f %%%s\n",
			mode, rate, rc, wall, lim, wall / lim, tcpu / mib, vm / mib, 100 * share,
			(share > 0.9 ? "  CPU-bound" : "")
	}'
	[ ! -s trace.log ] || split "$mode" "$rate" "$t0" "$t1" "$size"
}

# split MODE RATE T0 T1 SIZE: the wall time of one traced run in three parts,
# from the trace's CLOCK_REALTIME stamps (the same clock as T0/T1): setup =
# start to the first TransferData (0x36) request frame, transfer = to the
# last TransferData response (0x76), end = the rest (RequestTransferExit,
# check, reset, exit). Transfer ratio: transfer / the limit of the frames of
# the data on the bus (ceil(data frames' payload / 7) x 111 bits, data =
# every 0x36 PDU's bytes as sent, compressed where it is).
split()
{
	awk -v mode="$1" -v rate="$2" -v t0="$3" -v t1="$4" -v size="$5" '
	function ts(s) { gsub(/[()]/, "", s); return s + 0 }
	function hex(s, v, i) {
		for (i = 1; i <= length(s); i++) v = v * 16 + index("0123456789ABCDEF", substr(s, i, 1)) - 1
		return v
	}
	$3 ~ /^7E0#(1[0-9A-F][0-9A-F][0-9A-F]36|0[0-9A-F]36)/ {
		if (!first) first = ts($1)
		if (resp) { r2ff += ts($1) - resp; nturn++; resp = 0 }
		ff = ts($1)
		if (substr($3, 5, 1) == "1") bytes += hex(substr($3, 6, 3))
		else bytes += hex(substr($3, 6, 1))
	}
	$3 ~ /^7E8#0[0-9A-F]76/ { last = resp = ts($1); if (lastcf) { cf2r += last - lastcf; lastcf = 0 } }
	$3 ~ /^7E8#3/ && ff { ff2fc += ts($1) - ff; ff = 0; fc = ts($1) }
	$3 ~ /^7E0#2/ { if (fc) { fc2cf += ts($1) - fc; fc = 0 } lastcf = ts($1) }
	END {
		if (!first || !last) { print "  split: no TransferData in the trace"; exit }
		s0 = t0 / 1e9; s1 = t1 / 1e9
		lim = int((bytes + 6) / 7) * 111 / rate
		printf "  split %-7s %7d  setup %6.2f s  transfer %7.2f s  end %5.2f s  transfer limit %6.2f s (%d PDU bytes)  transfer ratio %5.2f  whole-flash ratio to raw limit %5.2f\n",
			mode, rate, first - s0, last - first, s1 - last, lim, bytes, (last - first) / lim,
			(s1 - s0) / (int((size + 6) / 7) * 111 / rate)
		# the bus idles at each block turnaround for the reaction times of
		# tester and ECU; last CF -> response includes the drain of the
		# queue (10 frames) and the ECU writing the block
		if (nturn) printf "  turnaround per block (%d): response->FF %.1f ms  FF->FC %.1f ms  FC->CF %.1f ms  last CF->response %.1f ms (10 frames: %.1f ms); %.2f s in all\n",
			nturn, 1000 * r2ff / nturn, 1000 * ff2fc / nturn, 1000 * fc2cf / nturn,
			1000 * cf2r / nturn, 1110000 / rate, r2ff + ff2fc + fc2cf + cf2r
	}' trace.log
}

# fd MODE: 256 KiB over CAN FD (vcanfd0, tx_dl 64, no shaping: vcan has no
# data phase to shape), every frame of both directions from candump, priced
# without dynamic stuff bits (as the 111 of a classic frame) for an 11-bit
# id and n data bytes:
#   nominal bits  = 17 (SOF, id 11, RRS, IDE, FDF, res, BRS)
#                 + 12 (ACK slot, ACK delimiter, EOF 7, intermission 3)   = 29
#   data bits(n)  = 1 (ESI) + 4 (DLC) + 8n + 4 (stuff count) + CRC
#                   + fixed stuff bits + 1 (CRC delimiter),
#                   CRC 17 and 6 fixed stuff bits for n <= 16, else CRC 21 and 7
#   (ISO 11898-1:2015 10.4.2); 64 bytes: 29 nominal + 550 data bits
#   time = sum over frames of 29 / nominal + data bits / data rate
#   FD limit = ceil(262144 / 63) x (29 / 500k + 550 / 2M)  (consecutive frames
#   of 63 payload bytes), 4162 x 333 us = 1.386 s; classic at 500k: 8.31 s.
fd()
{
	mode=$1
	kern=
	[ "$mode" = fd-kernel ] && kern="--isotp kernel"
	cat >fd.yaml <<-EOF
	bus: vcanfd0
	fd: true
	ecus:
	  - name: fd
	    request_id: 0x7E0
	    response_id: 0x7E8
	    security: { key: "xor:A5A5A5A5" }
	    regions: [ { start: 0x08000000, size: 0x100000 } ]
	    isotp: { fd: true, tx_dl: 64 }
	    timing: { p2_ms: 1000 }
	EOF
	rm -f mem.bin ecu.ready
	fota ecu -c fd.yaml -e fd --memory mem.bin --ready-file ecu.ready 2>/dev/null &
	ecu=$!
	wait_until "test -f ecu.ready" 20
	candump -d -r 8388608 -L vcanfd0 >fd.log &
	dump=$!
	sleep 1
	fota flash -q -c fd.yaml -e fd $kern fw.hex 2>flash.err
	rc=$?
	sleep 0.3
	kill $dump $ecu 2>/dev/null
	wait $dump $ecu 2>/dev/null
	[ $rc -eq 0 ] || sed "s/^/  $mode: /" flash.err | tail -3
	awk -v mode="$mode" -v rc="$rc" -v size=$SIZE '
	function dbits(n) { return 1 + 4 + 8 * n + 4 + (n <= 16 ? 17 + 6 : 21 + 7) + 1 }
	/DROPCOUNT/ { drops = 1; next }
	{
		d = $3; sub(/^[0-9A-F]+##[0-9A-F]/, "", d); sub(/^[0-9A-F]+#/, "", d)
		n = length(d) / 2; frames++; nom += 29; dat += dbits(n)
		if (n == 64) full++
	}
	END {
		t = nom / 500000 + dat / 2000000
		lim = int((size + 62) / 63) * (29 / 500000 + dbits(64) / 2000000)
		printf "%-9s 500k/2M  exit %d  frames %d (%d of 64 bytes)  projected %6.3f s  FD limit %6.3f s  ratio %5.3f\n",
			mode, rc, frames, full, t, lim, t / lim
		if (drops) print "  candump dropped frames: the count is low"
	}' fd.log
}

echo "VM: $(uname -r), $(nproc) vCPU; $(uptime)"
modes=
for mode in ${FOTA_BENCH_MODES:-user kernel isotp}; do
	case $mode in
	fd | fd-kernel) fd "$mode" ;;
	*) modes="$modes $mode" ;;
	esac
done
[ -n "$modes" ] || FOTA_BENCH_RATES=none
for rate in ${FOTA_BENCH_RATES:-125000 250000 500000 1000000}; do
	[ "$rate" != none ] || break
	"$SRC/tests/vm/shape.sh" "$IF" "$rate" 10 || exit 1
	for mode in $modes; do
		r=0
		while [ $r -lt "${FOTA_BENCH_REPEAT:-1}" ]; do
			run "$mode" "$rate"
			r=$((r + 1))
		done
	done
	tc -s qdisc show dev "$IF" | sed -n 's/^ *Sent/  qdisc: sent/p'
done
ip link del dev "$IF" 2>/dev/null
rm -rf "$W"
