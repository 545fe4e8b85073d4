#!/bin/sh
# SPDX-License-Identifier: MIT
# bench/serve.sh: how fast `fota serve` answers SDO while it works, and what
# it costs when idle (issue 9, items 3 and 4). Each situation gets a fresh
# unix: bus, a simulated ECU (fota ecu) and a fresh serve state directory;
# bench/sdo_latency polls 0x5FF3 one request at a time (every 20 ms, 1 s
# timeout) during:
#   idle    serve with nothing to do, BENCH_IDLE_SECONDS (default 10)
#   verify  serve verifying requests for a ~200 MB Intel HEX file (bench/bighex.sh,
#           4 x BENCH_VERIFY_MIB MiB, default 18: 72 MiB of image), one after
#           the other, BENCH_VERIFY_COUNT (default 3) of them: from the first
#           request's arrival in the inbox to the last one's offer
#           (update_available = 1), each cancelled (inbox/ID.cancel) once offered
#   flash   an approved update of BENCH_FLASH_KIB KiB (default 8192, the
#           ECU's whole region: some 600 requests, enough for a p99), from
#           approval to update_status 0x10
#   key     a `cmd:` seed/key program that sleeps 3 s before it answers, from
#           its start to its end
# and then measures
#   cpu     serve's CPU time (utime + stime of /proc/PID/stat, every thread)
#           over BENCH_CPU_SECONDS (default 60), as a percentage of one core,
#           with 1000 handled requests in done/ (their reports in outbox/) and
#           100 valid requests queued behind an offered one
#
#   sh bench/serve.sh [idle] [verify] [flash] [key] [cpu]   # default: all
#   BENCH_CPU_SECONDS=5 BENCH_VERIFY_MIB=2 sh bench/serve.sh   # a quick try
#
# Builds a plain -O2 tree in build-bench/ (O=... to change). Needs srecord.
# Prints the machine and one Markdown table for bench/README.md; exit 1 when a
# situation did not happen as described (serve died, the update failed, ...).
set -eu

SRC=$(cd "$(dirname "$0")/.." && pwd)
O=${O:-$SRC/build-bench}
INTERVAL_MS=20
TIMEOUT_MS=1000
IDLE_S=${BENCH_IDLE_SECONDS:-10}
CPU_S=${BENCH_CPU_SECONDS:-60}
VERIFY_MIB=${BENCH_VERIFY_MIB:-18}
VERIFY_COUNT=${BENCH_VERIFY_COUNT:-3}
FLASH_KIB=${BENCH_FLASH_KIB:-8192}
# the ECU's region: the flash image's size, at least 1 MiB
REGION=$(printf '0x%x' $(((FLASH_KIB > 1024 ? FLASH_KIB : 1024) * 1024)))
KEY_SLEEP_S=3
NODE=0x27

situations=${*:-idle verify flash key cpu}
for s in $situations; do
	case "$s" in
	idle | verify | flash | key | cpu) ;;
	*) echo "usage: serve.sh [idle] [verify] [flash] [key] [cpu]" >&2 && exit 2 ;;
	esac
done

echo "building $O (plain -O2, no sanitizers)" >&2
make -C "$SRC" --no-print-directory -j2 O="$O" CFLAGS='-O2 -g' SANITIZE= \
	"$O/fota" "$O/bench/sdo_latency" >/dev/null
FOTA=$O/fota
LAT=$O/bench/sdo_latency

W=$(mktemp -d "${TMPDIR:-/tmp}/fota-bench-serve.XXXXXX")
pids=
cleanup()
{
	for p in $pids; do
		kill "$p" 2>/dev/null || true
	done
	wait 2>/dev/null || true
	if [ -n "${BENCH_KEEP:-}" ]; then
		echo "files kept in $W" >&2
	else
		rm -rf "$W"
	fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM
cd "$W"

die()
{
	echo "serve.sh: $*" >&2
	exit 1
}

now_ns()
{
	date +%s%N
}

# until_ok SECONDS CMD...: retry CMD every 20 ms
until_ok()
{
	t_end=$(($(now_ns) + $1 * 1000000000))
	shift
	until "$@" 2>/dev/null; do
		[ "$(now_ns)" -lt "$t_end" ] || return 1
		sleep 0.02
	done
}

# state KEY: a value of the persisted objects (STATE_DIR/state, key=value)
state()
{
	sed -n "s/^$1=//p" "$D/st/state" 2>/dev/null
}

state_is()
{
	[ "$(state "$1")" = "$2" ]
}

# offered ID: the update offered now is request ID
offered()
{
	state_is update_available 1 && state_is update_request_id "$1"
}

count() # DIR GLOB
{
	find "$1" -maxdepth 1 -type f -name "$2" | wc -l
}

at_least() # N DIR GLOB
{
	[ "$(count "$2" "$3")" -ge "$1" ]
}

# config KEY_SPEC REGION_LINES: the serve configuration of a situation
config()
{
	cat <<EOF
tcu:
  node_id: $NODE
ecus:
  - name: hydraulics
    request_id: 0x7E0
    response_id: 0x7E8
    bootloader_switch: { id: 0x700, data: "01 02", delay_ms: 50 }
    security: { level: 0x01, key: "$1", timeout_ms: 10000 }
    regions:
$2
EOF
}

SMALL_REGIONS="      - { start: 0x08000000, size: $REGION }"

# up NAME KEY_SPEC REGIONS: fresh directory, bus, ECU and serve for one situation
up()
{
	D=$W/$1
	BUS=unix:$D/bus
	mkdir -p "$D/bus"
	config "$2" "$3" >"$D/fota.yaml"
	# the ECU keeps its own region and the plain key: only serve is measured
	"$FOTA" ecu -c "$D/fota.yaml" -e hydraulics -b "$BUS" --region 0x08000000:$REGION \
		--key xor:A5A5A5A5 --ready-file "$D/ecu.ready" -q 2>"$D/ecu.err" &
	ecu_pid=$!
	pids="$pids $ecu_pid"
	until_ok 10 test -f "$D/ecu.ready" || die "$1: fota ecu did not start"
	"$FOTA" serve -c "$D/fota.yaml" -b "$BUS" --state-dir "$D/st" 2>"$D/serve.err" &
	serve_pid=$!
	pids="$pids $serve_pid"
	until_ok 10 grep -q "node $NODE on" "$D/serve.err" || die "$1: fota serve did not start"
}

down()
{
	kill -0 "$serve_pid" 2>/dev/null || die "$(basename "$D"): fota serve died: $(tail -3 "$D/serve.err")"
	kill "$serve_pid" "$ecu_pid"
	wait "$serve_pid" "$ecu_pid" || true
	pids=
}

# request ID FIRMWARE [SHA256] > FILE
request()
{
	printf 'id: %s\necu: hydraulics\nfirmware: %s\nsha256: %s\n' "$1" "$2" \
		"${3:-$(sha256sum "$2" | cut -d' ' -f1)}"
}

# drop ID FIRMWARE [SHA256]: into the inbox, atomically (rename)
drop()
{
	request "$@" >"$D/$1.yaml.tmp"
	mv "$D/$1.yaml.tmp" "$D/st/inbox/$1.yaml"
}

uuid()
{
	printf '%08x-2fa1-41d2-883f-%012d\n' "$1" "$2"
}

# lat_start: the latency tool in the background, on the bus once this returns
lat_start()
{
	"$LAT" --json -i $INTERVAL_MS -t $TIMEOUT_MS -n $NODE -T 600 "$BUS" >"$D/lat.json" &
	lat_pid=$!
	pids="$pids $lat_pid"
	until_ok 10 sh -c "ls '$D/bus' | grep -q '^$lat_pid\\.'" || die "sdo_latency did not start"
	lat_t0=$(now_ns)
}

# lat_stop SITUATION: stop it (the request in flight gets its timeout), one row
lat_stop()
{
	window_ms=$((($(now_ns) - lat_t0) / 1000000))
	kill -TERM "$lat_pid"
	wait "$lat_pid" || die "$1: sdo_latency failed"
	row "$1" "$window_ms" "$D/lat.json"
}

# jget KEY FILE: a number (or null) of sdo_latency's flat JSON object
jget()
{
	sed -n "s/.*\"$1\":\\([^,}]*\\).*/\\1/p" "$2"
}

# ms KEY JSON: a latency for the table; null (a lost request) is ">TIMEOUT"
ms()
{
	v=$(jget "$1" "$2")
	if [ "$v" = null ]; then echo ">$TIMEOUT_MS"; else printf '%.2f' "$v"; fi
}

# row SITUATION WINDOW_MS JSON: one line of the table, kept in rows
row()
{
	[ "$(jget aborts "$3")" = 0 ] || echo "$1: $(jget aborts "$3") SDO aborts" >&2
	late=$(jget late "$3")
	if [ "$late" = 0 ]; then
		late=
	else
		late=" ($late late, up to $(printf '%.0f' "$(jget late_max_ms "$3")") ms)"
	fi
	printf '| %s | %.2f | %s | %s%s | %s | %s | %s |\n' "$1" "$(echo "$2" | awk '{print $1/1000}')" \
		"$(jget requests "$3")" "$(jget lost "$3")" "$late" \
		"$(ms p50_ms "$3")" "$(ms p99_ms "$3")" "$(ms max_ms "$3")" >>"$W/rows"
	tail -1 "$W/rows" >&2
}

# ---- the firmware images ------------------------------------------------------
small_hex() # OUT KIB
{
	srec_cat -generate 0x08000000 $((0x08000000 + $2 * 1024)) -random \
		-o "$1" -intel -output_block_size=16
}

# ---- situations -----------------------------------------------------------------
run_idle()
{
	up idle xor:A5A5A5A5 "$SMALL_REGIONS"
	"$LAT" --json -i $INTERVAL_MS -t $TIMEOUT_MS -n $NODE -T "$IDLE_S" "$BUS" >"$D/lat.json"
	row idle $((IDLE_S * 1000)) "$D/lat.json"
	down
}

run_verify()
{
	seg=$((VERIFY_MIB << 20))
	echo "verify: generating big.hex (4 x $VERIFY_MIB MiB)" >&2
	sh "$SRC/bench/bighex.sh" "$W/big.hex" "$VERIFY_MIB"
	sha=$(sha256sum "$W/big.hex" | cut -d' ' -f1)
	echo "verify: big.hex is $(stat -c %s "$W/big.hex") bytes" >&2
	# bench/bighex.sh's four segments, in three regions
	up verify xor:A5A5A5A5 "$(printf '      - { start: 0x08000000, size: 0x%x }
      - { start: 0x10000000, size: 0x%x }
      - { start: 0xF0000000, size: 0x%x }' $((2 * seg + (1 << 20))) $seg $seg)"
	# VERIFY_COUNT requests for it, one after the other: each is verified,
	# offered, then cancelled by a cancel file so the next can be offered
	lat_start
	i=0
	while [ $i -lt "$VERIFY_COUNT" ]; do
		i=$((i + 1))
		id=$(uuid 0xb1 $i)
		drop "$id" "$W/big.hex" "$sha"
		until_ok 300 offered "$id" || die "verify: never offered: $(tail -3 "$D/serve.err")"
		: >"$D/st/inbox/$id.cancel"
		until_ok 30 state_is update_available 0 || die "verify: cancel ignored"
	done
	lat_stop verify
	down
	rm -f "$W/big.hex"
}

run_flash()
{
	small_hex "$W/flash.hex" "$FLASH_KIB"
	up flash xor:A5A5A5A5 "$SMALL_REGIONS"
	drop "$(uuid 0xf1 1)" "$W/flash.hex"
	until_ok 30 state_is update_available 1 || die "flash: never offered"
	"$FOTA" approve -b "$BUS" >/dev/null
	lat_start
	until_ok 120 sh -c "grep -q '^update_status=0x\(10\|50\)$' '$D/st/state'" ||
		die "flash: no end of flashing"
	lat_stop flash
	state_is update_status 0x10 || die "flash: update failed: $(tail -3 "$D/serve.err")"
	down
}

run_key()
{
	small_hex "$W/fw16.hex" 16
	# the ECU's key is seed XOR A5 (bytewise); we answer it after a sleep
	cat >"$W/slowkey" <<EOF
#!/bin/sh
: >"$W/key.start"
sleep $KEY_SLEEP_S
seed=\$1 key=
while [ -n "\$seed" ]; do
	b=\${seed%"\${seed#??}"} seed=\${seed#??}
	key=\$key\$(printf '%02X' \$((0x\$b ^ 0xA5)))
done
echo "\$key"
: >"$W/key.done"
EOF
	chmod +x "$W/slowkey"
	up key "cmd:$W/slowkey" "$SMALL_REGIONS"
	drop "$(uuid 0xe1 1)" "$W/fw16.hex"
	until_ok 30 state_is update_available 1 || die "key: never offered"
	"$FOTA" approve -b "$BUS" >/dev/null
	until_ok 30 test -f "$W/key.start" || die "key: the key program never started"
	lat_start
	until_ok 30 test -f "$W/key.done" || die "key: the key program never ended"
	lat_stop key
	# the flash goes on; its outcome is not part of the measurement, but say it
	until_ok 60 sh -c "grep -q '^update_status=0x\(10\|50\)$' '$D/st/state'" ||
		die "key: no end of flashing"
	state_is update_status 0x10 ||
		echo "key: after the key the update failed: $(grep -m1 'failed' "$D/serve.err")" >>"$W/notes"
	down
}

# utime + stime of a process (all its threads), in clock ticks
cpu_ticks()
{
	sed 's/.*) //' "/proc/$1/stat" | awk '{ print $12 + $13 }'
}

# time on a CPU of all its threads, in ns (/proc/PID/task/TID/schedstat, first field):
# the same quantity as utime + stime, without the tick's 10 ms granularity
cpu_ns()
{
	cat /proc/"$1"/task/*/schedstat 2>/dev/null | awk '{ n += $1 } END { printf "%d\n", n }'
}

# context switches of all its threads (each one a wakeup of a sleeping thread or a preemption)
ctx_switches()
{
	cat /proc/"$1"/task/*/status | awk '/ctxt_switches/ { n += $2 } END { print n }'
}

run_cpu()
{
	small_hex "$W/fw16.hex" 16
	up cpu xor:A5A5A5A5 "$SMALL_REGIONS"
	# 1000 handled: requests refused for a wrong SHA-256, report "failed" in outbox/
	mkdir "$D/new"
	i=0
	while [ $i -lt 1000 ]; do
		i=$((i + 1))
		request "$(uuid 0xd0 $i)" "$W/fw16.hex" \
			0000000000000000000000000000000000000000000000000000000000000000 \
			>"$D/new/$(uuid 0xd0 $i).yaml"
	done
	mv "$D/new/"*.yaml "$D/st/inbox/"
	until_ok 300 at_least 1000 "$D/st/done" '*.yaml' ||
		die "cpu: the 1000 refused requests did not reach done/"
	# one offered, then 100 queued behind it
	drop "$(uuid 0xc0 0)" "$W/fw16.hex"
	until_ok 30 state_is update_available 1 || die "cpu: never offered"
	i=0
	while [ $i -lt 100 ]; do
		i=$((i + 1))
		request "$(uuid 0xc0 $i)" "$W/fw16.hex" >"$D/new/$(uuid 0xc0 $i).yaml"
	done
	mv "$D/new/"*.yaml "$D/st/inbox/"
	until_ok 120 at_least 1101 "$D/st/outbox" '*.json' ||
		die "cpu: the 100 queued requests got no report"
	sleep 3 # let anything still pending settle
	done_n=$(count "$D/st/done" '*.yaml')
	out_n=$(count "$D/st/outbox" '*.json')
	in_n=$(count "$D/st/inbox" '*.yaml')
	hz=$(getconf CLK_TCK)
	t0=$(now_ns) c0=$(cpu_ticks "$serve_pid") r0=$(cpu_ns "$serve_pid")
	x0=$(ctx_switches "$serve_pid")
	sleep "$CPU_S"
	t1=$(now_ns) c1=$(cpu_ticks "$serve_pid") r1=$(cpu_ns "$serve_pid")
	x1=$(ctx_switches "$serve_pid")
	cpu_line=$(awk -v c=$((c1 - c0)) -v hz="$hz" -v ns=$((t1 - t0)) -v r=$((r1 - r0)) \
		-v x=$((x1 - x0)) -v d="$done_n" -v o="$out_n" -v q="$in_n" 'BEGIN {
		s = ns / 1e9
		printf "idle CPU of serve over %.1f s: %.3f %% of one core (utime+stime: %d " \
			"ticks of 1/%d s; schedstat: %.1f ms on CPU, %.4f %%), %.1f context " \
			"switches/s; state: %d requests in done/, %d reports in outbox/, %d " \
			"requests in inbox/ (1 offered, %d queued)\n",
			s, 100 * c / hz / s, c, hz, r / 1e6, 100 * r / ns, x / s, d, o, q, q - 1 }')
	echo "$cpu_line" >&2
	down
}

# ---- run ----------------------------------------------------------------------------
: >"$W/rows"
: >"$W/notes"
load=$(cut -d' ' -f1-3 /proc/loadavg)
for s in $situations; do
	echo "== $s" >&2
	"run_$s"
done

echo
echo "Machine: $(nproc) CPUs, $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)," \
	"$(uname -sr), load average $load at start; $(date -u +%Y-%m-%d)"
if [ -s "$W/rows" ]; then
	echo
	echo "SDO expedited upload of 0x5FF3 (bench/sdo_latency), one request at a time every" \
		"$INTERVAL_MS ms, lost = no answer within $TIMEOUT_MS ms:"
	echo
	echo "| situation | window (s) | samples | lost | p50 (ms) | p99 (ms) | max (ms) |"
	echo "|---|---:|---:|---:|---:|---:|---:|"
	cat "$W/rows"
fi
if [ -n "${cpu_line:-}" ]; then
	echo
	echo "$cpu_line"
fi
if [ -s "$W/notes" ]; then
	echo
	sed 's/^/note: /' "$W/notes"
fi
