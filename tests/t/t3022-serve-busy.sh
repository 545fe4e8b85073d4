#!/bin/sh
# SPDX-License-Identifier: MIT
# vcan: skip (files and the event loop of serve: the same on every bus; too slow under TCG)
test_description='fota serve answers SDO at once while it verifies, flashes or waits for a key, and stops on SIGTERM'
. "$(dirname "$0")/lib.sh"

ST=$TRASH/st

# Two ECUs: hydraulics, simulated, flashed slowly with small images; and
# "big", never flashed, whose 96 MiB region takes the large request that
# keeps serve busy verifying. key.yaml differs only in the key program.
# P2 of 1 s: no flash fails because a busy machine answered late.
config()
{
	cat <<EOF
tcu:
  node_id: 0x27
  health_check_timeout_min: 10
ecus:
  - name: hydraulics
    request_id: 0x7E0
    response_id: 0x7E8
    bootloader_switch: { id: 0x700, data: "01 02", delay_ms: 50 }
    security: { level: 0x01, key: "$1" }
    timing: { p2_ms: 1000 }
    regions:
      - { start: 0x08000000, size: 0x10000 }
  - name: big
    request_id: 0x7E1
    response_id: 0x7E9
    regions:
      - { start: 0x08000000, size: 0x6000000 }
EOF
}
config xor:A5A5A5A5 >fota.yaml
config "cmd:$TRASH/slowkey" >key.yaml

# slowkey SEED LEVEL: the key of xor:A5A5A5A5, 3 s late. It leaves its pid
# (also its process group: serve starts it in a group of its own) and
# marks when it starts and ends, beside itself.
cat >slowkey <<'EOF'
#!/bin/sh
d=$(dirname "$0")
echo $$ >"$d/key.pid"
: >"$d/key.started"
sleep 3
s=$1 k=
while [ -n "$s" ]; do
	b=${s%"${s#??}"}
	s=${s#??}
	k=$k$(printf %02X $((0x$b ^ 0xA5)))
done
echo "$k"
: >"$d/key.done"
EOF
chmod +x slowkey


# ecu: (re)start the simulated ECU, slow: 128 blocks of 64 bytes for 8 KiB,
# each answered 20 ms late
ecu()
{
	if [ -f "$TRASH/ecu.pid" ] && ! [ -f "$TRASH/ecu.rc" ]; then
		kill "$(cat "$TRASH/ecu.pid")" && ended ecu
	fi
	rm -f "$TRASH/ecu.ready"
	daemon ecu fota ecu -c fota.yaml -e hydraulics -b "$BUS" --ready-file ecu.ready \
		--block-length=66 --delay=20 &&
	wait_until "test -f ecu.ready" 10
}

# serve [CONFIG]: (re)start serve on $BUS and $ST; one left running by a
# failed test is killed first
serve()
{
	if [ -f "$TRASH/serve.pid" ] && ! [ -f "$TRASH/serve.rc" ]; then
		kill -9 "$(cat "$TRASH/serve.pid")" && ended serve
	fi
	daemon serve fota serve -c "${1:-fota.yaml}" -b "$BUS" --state-dir "$ST" &&
	wait_until "grep -q \"on $BUS\" serve.err || test -f serve.rc" 10 &&
	grep -q "on $BUS" serve.err ||
	{ echo "serve did not start:" && cat serve.err; false; }
}

# st: one `fota status`, a single attempt of 500 ms per object
st()
{
	timeout -k 2 10 fota status -b "$BUS" --retries=0 -t 500 "$@"
}

# field NAME: the raw value of one status line (update_available, ...)
field()
{
	timeout -k 2 10 fota status -b "$BUS" | sed -n "s/^$1: \([^ ]*\).*/\1/p"
}

# poll_status UNTIL SECONDS: a single-attempt status every 50 ms until the
# shell condition UNTIL holds (tested after each status, whose output is in
# st.out). Fails if one status failed, or UNTIL is still false at the end.
poll_status()
{
	p_t0=$(date +%s%N) p_n=0 p_bad=0 p_ok=0
	while :; do
		if ! st >st.out 2>st.err; then
			p_bad=$((p_bad + 1))
			test $p_bad = 1 && sed "s/^/poll $((p_n + 1)): /" st.err
		fi
		p_n=$((p_n + 1))
		if eval "$1" >/dev/null 2>&1; then
			p_ok=1
			break
		fi
		test "$(elapsed_ms $p_t0)" -ge $(($2 * 1000)) && break
		sleep 0.05
	done
	echo "poll_status: $p_bad of $p_n failed; after $(elapsed_ms $p_t0) ms '$1' $(
		test $p_ok = 1 && echo holds || echo is false)"
	test $p_bad = 0 && test $p_ok = 1
}

uuid()
{
	printf '1b4e28ba-2fa1-41d2-883f-%012d' "$1"
}

# mkreq ID ECU FIRMWARE [DIR]: drop a request into the inbox (atomically),
# or into DIR
mkreq()
{
	printf "id: %s\necu: %s\nfirmware: %s\nsha256: %s\n" "$1" "$2" "$TRASH/$3" \
		"$(sha256sum "$3" | cut -d" " -f1)" >req.tmp &&
	mv req.tmp "${4:-$ST/inbox}/$1.yaml"
}

# big_hex BLOCKS: Intel HEX of BLOCKS x 64 KiB at 0x08000000, one
# extended linear address record per block (gen_hex stops at 64 KiB)
big_hex()
{
	gen_hex 65536 11 | sed '1d;$d' >blk.hex &&
	b_i=0 &&
	while [ $b_i -lt "$1" ]; do
		b_a=$((0x0800 + b_i))
		printf ":02000004%04X%02X\n" $b_a $(((256 - (6 + (b_a >> 8) + (b_a & 255)) % 256) % 256))
		cat blk.hex
		b_i=$((b_i + 1))
	done &&
	echo ":00000001FF" &&
	rm blk.hex
}

# A single-attempt status during each of these: the fix runs verification
# and the key program off the event loop. 1100 blocks: 171 MB of HEX,
# 69 MiB of image, about the issue's 200 MB request.
test_expect_success 'setup: a large request, small images, a slow ECU; idle serve answers' '
	big_hex 1100 >big.hex &&
	fota hexinfo big.hex >big.info &&
	test_grep "total +1 segment, 72089600 bytes" big.info &&
	gen_hex 8192 7 >fw.hex &&
	ecu &&
	serve &&
	st >out && test_grep "^update_available: 0x00" out
'

test_expect_success 'during verification of the large request: every status answered' '
	mkreq $(uuid 1) big big.hex &&
	poll_status "grep -q \"^update_available: 0x01\" st.out" 120 &&
	fota reject -b "$BUS" &&
	test "$(field update_status)" = 0x60
'

# Six large requests at once: verification lasts, however fast the machine.
test_expect_success 'SIGTERM during verification: exit 0 within 1 s' '
	mkdir -p stage &&
	for i in 21 22 23 24 25 26; do
		mkreq $(uuid $i) big big.hex stage || return 1
	done &&
	mv stage/*.yaml "$ST/inbox/" &&
	sleep 0.1 &&
	ends_within serve TERM 1500
'

test_expect_success 'during flashing: every status answered' '
	rm -rf "$ST" &&
	serve &&
	mkreq $(uuid 3) hydraulics fw.hex &&
	wait_until "test \"\$(field update_available)\" = 0x01" 10 &&
	fota approve -b "$BUS" &&
	poll_status "! grep -q \"^update_status: 0x01\" st.out" 60 &&
	test_grep "^update_status: 0x10" st.out &&
	fota health ok -b "$BUS"
'

test_expect_success 'SIGTERM during flashing: exit 0 within 1 s, the update ends as 0x50' '
	mkreq $(uuid 4) hydraulics fw.hex &&
	wait_until "test \"\$(field update_available)\" = 0x01" 10 &&
	fota approve -b "$BUS" &&
	wait_until "test \"\$(field update_progress)\" != 0%" 10 &&
	ends_within serve TERM 1500 &&
	test_grep "^update_status=0x50" "$ST/state"
'

test_expect_success 'while the cmd: key program takes 3 s: every status answered' '
	ecu &&
	serve key.yaml &&
	rm -f key.started key.done key.pid &&
	mkreq $(uuid 5) hydraulics fw.hex &&
	wait_until "test \"\$(field update_available)\" = 0x01" 10 &&
	fota approve -b "$BUS" &&
	wait_until "test -f key.started" 10 &&
	poll_status "test -f key.done" 15 &&
	wait_until "test \"\$(field update_status)\" = 0x10" 30 &&
	fota health ok -b "$BUS"
'

test_expect_success 'SIGTERM while the key program runs: exit 0 within 1 s' '
	rm -f key.started key.done key.pid &&
	mkreq $(uuid 6) hydraulics fw.hex &&
	wait_until "test \"\$(field update_available)\" = 0x01" 10 &&
	fota approve -b "$BUS" &&
	wait_until "test -f key.started && test -s key.pid" 10 &&
	ends_within serve TERM 1500
	rc=$?
	test -s key.pid && kill -9 -- -"$(cat key.pid)" 2>/dev/null
	test $rc = 0 &&
	test_grep "^update_status=0x50" "$ST/state"
'

test_done
