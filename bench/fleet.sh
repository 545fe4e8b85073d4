#!/bin/sh
# SPDX-License-Identifier: MIT
# bench/fleet.sh: one update campaign over MQTT (issue 14), outside make
# check. For each N (default 50 and 200): one mosquitto with TLS client
# certificates and examples/mosquitto/acl (tests/t/lib-broker.sh), N pairs
# of `fota serve` + `fota ecu`, each on its own unix: bus and state directory
# with its own certificate; `fota fleet --json --wait` follows the campaign
# while `fota publish` sends one signed request to all N and an operator per
# TCU approves the offer and reports the health check passed. Measures
#   wall     from publish to the end of fleet --wait (all N successful)
#   broker   mosquitto's CPU time over the campaign (utime + stime of
#            /proc/PID/stat), and as a percentage of one core
#   latency  p50 and p99 of latency_ms of the status events fleet --json
#            printed during the campaign: arrival at fota fleet minus the
#            time_ms serve put in the status when it saw the change
#
#   sh bench/fleet.sh            # N = 50 and 200
#   sh bench/fleet.sh 10         # a quick try
#
# Builds a plain -O2 tree in build-bench/ (O=... to change). Needs mosquitto,
# mosquitto-clients, openssl. Prints the machine and a Markdown table for
# bench/README.md; exit 1 when the campaign did not end with N successes.
# Needs serve's MQTT link (fota-mqtt(7)); without it, it says so and stops.
set -eu

SRC=$(cd "$(dirname "$0")/.." && pwd)
O=${O:-$SRC/build-bench}
SIZES=${*:-50 200}
PYTHON=/usr/bin/python3

echo "building $O (plain -O2, no sanitizers)" >&2
make -C "$SRC" --no-print-directory -j2 O="$O" CFLAGS='-O2 -g' SANITIZE= "$O/fota" >/dev/null
mkdir -p "$O/bench-bin"
ln -sf "$O/fota" "$O/bench-bin/fota"
PATH=$O/bench-bin:$PATH
export PATH

WORK=$(mktemp -d "${TMPDIR:-/tmp}/fota-bench-fleet.XXXXXX")
PIDS=""
cleanup()
{
	c_rc=$?
	for p in $PIDS; do kill "$p" 2>/dev/null || true; done
	sleep 1
	for p in $PIDS; do kill -9 "$p" 2>/dev/null || true; done
	# set -e stops at the first failing step: say so, and keep its files
	if [ "$c_rc" != 0 ]; then
		echo "bench/fleet.sh: stopped with status $c_rc; files kept in $WORK" >&2
	else
		rm -rf "$WORK"
	fi
}
trap cleanup EXIT INT TERM

# the little of tests/t/lib.sh that lib-broker.sh uses
test_lazy_prereq() { :; }
wait_until()
{
	w_i=0
	while [ "$w_i" -lt $((${2:-10} * 20)) ]; do
		if eval "$1" >/dev/null 2>&1; then return 0; fi
		sleep 0.05
		w_i=$((w_i + 1))
	done
	return 1
}
daemon()
{
	d_n=$1
	shift
	"$@" >"$TRASH/$d_n.out" 2>"$TRASH/$d_n.err" </dev/null &
	echo $! >"$TRASH/$d_n.pid"
	PIDS="$PIDS $!"
}
ended() { :; }

now_ms() { echo $(($(date +%s%N) / 1000000)); }
# cpu_ticks PID: utime + stime of the process, in clock ticks
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }

tcu_cfg()
{
	cat <<EOF
bus: unix:$TRASH/$1/bus
tcu: { node_id: 0x27, state_dir: $TRASH/$1/state }
ecus:
  - name: hydraulics
    request_id: 0x7E0
    response_id: 0x7E8
    bootloader_switch: { id: 0x700, data: "01 02", delay_ms: 50 }
    security: { level: 0x01, key: "xor:A5A5A5A5" }
    timing: { p2_ms: 1000 }
    regions:
      - { start: 0x08000000, size: 0x10000 }
trust:
  keys:
    - { name: platform, file: $TRASH/k1.pub }
EOF
	broker_mqtt_yaml "$1"
}

operator()
{
	o_b="unix:$TRASH/$1/bus"
	fota status -b "$o_b" --wait=available --timeout 600 -q >/dev/null &&
	fota approve -b "$o_b" -q &&
	fota status -b "$o_b" --wait=waiting --timeout 600 -q >/dev/null &&
	fota health -b "$o_b" -q ok
}

# a firmware image of 512 bytes at 0x08000000
hex512()
{
	$PYTHON - <<'EOF'
import random
r = random.Random(5)
print(":020000040800F2")
for a in range(0, 512, 16):
    d = bytes(r.randrange(256) for _ in range(16))
    rec = bytes([16, a >> 8, a & 0xFF, 0]) + d
    print(":" + rec.hex().upper() + "%02X" % (-sum(rec) & 0xFF))
print(":00000001FF")
EOF
}

campaign()
{
	n=$1
	TRASH=$WORK/n$n
	mkdir -p "$TRASH"
	cd "$TRASH"
	FOTA_SRC=$SRC
	. "$SRC/tests/t/lib-broker.sh"
	ids=$(seq -f "tcu-%03g" 1 "$n")
	echo "N=$n: certificates" >&2
	broker_pki platform $ids || { echo "N=$n: broker_pki failed" >&2; return 1; }
	broker_start || { echo "N=$n: mosquitto did not start" >&2; return 1; }
	broker_mqtt_yaml platform >platform.yaml
	printf '%s\n' $ids >fleet.txt
	fota keygen k1 >/dev/null 2>&1
	hex512 >fw.hex
	echo "N=$n: $n fota ecu + $n fota serve" >&2
	for t in $ids; do
		mkdir -p "$t/state"
		tcu_cfg "$t" >"$t/fota.yaml"
		daemon "ecu-$t" fota ecu -c "$t/fota.yaml" -e hydraulics --memory "$t/mem.bin" \
			--ready-file "$t/ecu.ready"
	done
	for t in $ids; do
		wait_until "test -f $t/ecu.ready" 60 || {
			echo "N=$n: fota ecu of $t not ready after 60 s" >&2
			cat "ecu-$t.err" >&2
			return 1
		}
	done
	for t in $ids; do daemon "serve-$t" fota serve -c "$t/fota.yaml"; done
	for t in $ids; do
		wait_until "grep -q ' on unix:' serve-$t.err" 60 || {
			cat "serve-$t.err" >&2
			return 1
		}
	done
	if ! broker_sub platform -q 1 -t "fota/$(echo "$ids" | head -n 1)/online" -C 1 -W 10 \
		2>/dev/null | grep -qx true; then
		echo "fota serve has no MQTT link here (no retained online true): no figures" >&2
		return 1
	fi
	fota request -c "$(echo "$ids" | head -n 1)/fota.yaml" -e hydraulics --sw-version 2.0 \
		--expires +2h "$TRASH/fw.hex" >campaign.yaml 2>/dev/null
	id=$(sed -n 's/^id: //p' campaign.yaml)
	bpid=$(cat broker.pid)
	fota fleet -c platform.yaml --tcu-file fleet.txt --id "$id" --wait --timeout 1200 \
		--json >fleet.out 2>fleet.err &
	fpid=$!
	sleep 1
	c0=$(cpu_ticks "$bpid")
	t0=$(now_ms)
	fota publish -c platform.yaml --sign k1.key --tcu-file fleet.txt -q campaign.yaml >publish.out
	ops=""
	for t in $ids; do
		operator "$t" >"$t/operator.log" 2>&1 &
		ops="$ops $!"
	done
	rc=0
	wait "$fpid" || rc=$?
	t1=$(now_ms)
	c1=$(cpu_ticks "$bpid")
	for p in $ops; do wait "$p" || true; done
	tail -n 1 fleet.out >&2
	[ "$rc" = 0 ] || { echo "N=$n: fleet --wait exit $rc" >&2; cat fleet.err >&2; return 1; }
	$PYTHON - "$n" "$t0" "$t1" "$c0" "$c1" "$(getconf CLK_TCK)" fleet.out <<'EOF'
import json, sys
n, t0, t1, c0, c1, hz = (int(x) for x in sys.argv[1:7])
lat = []
for line in open(sys.argv[7]):
    e = json.loads(line)
    # status changes of the campaign, not the retained ones of before it
    if e.get("kind") == "status" and "latency_ms" in e and e["payload"].get("time_ms", 0) >= t0:
        lat.append(e["latency_ms"])
lat.sort()
def pct(p):
    return lat[min(len(lat) - 1, int(p / 100 * len(lat)))] if lat else float("nan")
wall = (t1 - t0) / 1000
cpu = (c1 - c0) / hz
print("| %d | %.1f s | %.2f s (%.1f %% of a core) | %d | %s ms | %s ms |" %
      (n, wall, cpu, 100 * cpu / wall, len(lat), pct(50), pct(99)))
EOF
	for t in $ids; do
		kill "$(cat "serve-$t.pid")" "$(cat "ecu-$t.pid")" 2>/dev/null || true
	done
	broker_kill TERM >/dev/null 2>&1 || kill "$bpid"
	cd "$WORK"
}

echo "machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(nproc) cores, $(. /etc/os-release && echo "$PRETTY_NAME")"
echo
echo "| TCUs | campaign wall | broker CPU | status events | p50 latency | p99 latency |"
echo "|---|---|---|---|---|---|"
for n in $SIZES; do
	campaign "$n"
done
