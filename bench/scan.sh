#!/bin/sh
# SPDX-License-Identifier: MIT
# bench/scan.sh: how long `fota scan` takes with its default ranges (UDS
# functional 0x7DF, CANopen node-IDs 1-127) on an otherwise idle bus, with
# the devices of a small bench on it: `fota serve` (node 0x27) and two
# simulated ECUs (0x7E0/0x7E8 with a VIN, a version and a part number;
# 0x7E1/0x7E9). Issue 10's target: under 3 s.
#
#   sh bench/scan.sh                  # a fresh unix: bus
#   BUS=vcan0 sh bench/scan.sh        # SocketCAN, e.g. in the VM:
#   tests/vm/run.sh -b build -- env BUS=vcan0 FOTA=$PWD/build/fota sh bench/scan.sh
#
# RUNS (default 10) scans, each checked to have found all three devices;
# prints min / median / max wall time in ms and exits 1 when one scan missed
# a device. FOTA names the binary (default build/fota; `make` first).
set -eu

SRC=$(cd "$(dirname "$0")/.." && pwd)
FOTA=${FOTA:-$SRC/build/fota}
RUNS=${RUNS:-10}
TMP=$(mktemp -d)
BUS=${BUS:-unix:$TMP/bus}
PIDS=

cleanup()
{
	for p in $PIDS; do kill "$p" 2>/dev/null || :; done
	wait 2>/dev/null || :
	rm -rf "$TMP"
}
trap cleanup EXIT INT TERM

[ -x "$FOTA" ] || { echo "bench/scan.sh: $FOTA: build it first (make)" >&2; exit 2; }
case $BUS in unix:*) mkdir -p "${BUS#unix:}" ;; esac

cat >"$TMP/fota.yaml" <<EOF
tcu:
  node_id: 0x27
ecus:
  - name: e
    request_id: 0x7E0
    response_id: 0x7E8
    regions:
      - { start: 0x08000000, size: 0x10000 }
EOF

"$FOTA" serve -b "$BUS" -c "$TMP/fota.yaml" --state-dir "$TMP/st" 2>"$TMP/serve.err" &
PIDS="$PIDS $!"
"$FOTA" ecu -b "$BUS" --did F189=1.4.2 --ready-file "$TMP/e1.ready" 2>/dev/null &
PIDS="$PIDS $!"
"$FOTA" ecu -b "$BUS" --request-id 0x7E1 --response-id 0x7E9 \
	--ready-file "$TMP/e2.ready" 2>/dev/null &
PIDS="$PIDS $!"
i=0
until [ -e "$TMP/e1.ready" ] && [ -e "$TMP/e2.ready" ] &&
	"$FOTA" status -b "$BUS" >/dev/null 2>&1; do
	i=$((i + 1))
	[ $i -lt 300 ] || { echo "bench/scan.sh: the bench did not come up" >&2; cat "$TMP/serve.err" >&2; exit 1; }
	sleep 0.1
done

: >"$TMP/times"
n=0
while [ $n -lt "$RUNS" ]; do
	t0=$(date +%s%N)
	"$FOTA" scan -b "$BUS" >"$TMP/out"
	t1=$(date +%s%N)
	for want in 'uds      0x7E8' 'uds      0x7E9' 'canopen  0x27'; do
		grep -q "^$want" "$TMP/out" || {
			echo "bench/scan.sh: scan $n missed '$want':" >&2
			cat "$TMP/out" >&2
			exit 1
		}
	done
	echo $(((t1 - t0) / 1000000)) >>"$TMP/times"
	n=$((n + 1))
done

echo "machine: $(nproc) CPU, $(sed -n 's/^model name[^:]*: //p' /proc/cpuinfo | head -1), $(uname -r)"
echo "bus: $BUS, $RUNS scans, defaults (UDS 0x7DF + CANopen 1-127)"
sort -n "$TMP/times" | awk '{ t[NR] = $1 } END {
	printf "fota scan wall ms: min %d, median %d, max %d\n", t[1], t[int((NR + 1) / 2)], t[NR] }'
cat "$TMP/out"
