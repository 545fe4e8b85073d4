#!/bin/sh
# SPDX-License-Identifier: MIT
# vcan: skip (files and the event loop of serve: the same on every bus; too slow under TCG)
test_description='fota serve: hostile request files are refused while SDO keeps answering; the firmware is read once'
. "$(dirname "$0")/lib.sh"

# The config of t3000: short bootloader delay, a 64 KiB region; P2 of 1 s,
# so that no flash fails because a busy machine answered late.
cat >fota.yaml <<EOF
tcu:
  node_id: 0x27
  health_check_timeout_min: 10
ecus:
  - name: hydraulics
    request_id: 0x7E0
    response_id: 0x7E8
    bootloader_switch: { id: 0x700, data: "01 02", delay_ms: 50 }
    security: { level: 0x01, key: "xor:A5A5A5A5" }
    timing: { p2_ms: 1000 }
    regions:
      - { start: 0x08000000, size: 0x10000 }
EOF


# st [OPTIONS]: one `fota status`, a single attempt of 500 ms per object
st()
{
	timeout -k 2 10 fota status -b "$BUS" --retries=0 -t 500 "$@"
}

# field NAME: the raw value of one status line (update_available, ...)
field()
{
	timeout -k 2 10 fota status -b "$BUS" | sed -n "s/^$1: \([^ ]*\).*/\1/p"
}

# serve NAME [OPTIONS]: serve with the state directory $TRASH/NAME on $BUS.
# Each test has its own; a serve a failed test left running (hung, today)
# is killed first, so that one test's hang is not the next one's failure.
serve()
{
	s_n=$1
	shift
	for s_p in $(cat "$TRASH/serves" 2>/dev/null); do
		test -f "$TRASH/$s_p.rc" || kill -9 "$(cat "$TRASH/$s_p.pid")"
		ended "$s_p"
	done
	echo "$s_n" >>"$TRASH/serves"
	daemon "$s_n" fota serve -c fota.yaml -b "$BUS" --state-dir "$TRASH/$s_n" "$@" &&
	wait_until "grep -q \"on $BUS\" \"$TRASH/$s_n.err\" || test -f \"$TRASH/$s_n.rc\"" 10 &&
	grep -q "on $BUS" "$TRASH/$s_n.err" ||
	{ echo "serve $s_n did not start:" && cat "$TRASH/$s_n.err"; false; }
}

uuid()
{
	printf '1b4e28ba-2fa1-41d2-883f-%012d' "$1"
}

# req DIR NAME ID FIRMWARE [SHA256 [TOUCH]]: write a request, give it the
# mtime TOUCH (touch -d) if set, and rename it into DIR/inbox/NAME
req()
{
	r_sha=${5:-$(sha256sum "$4" | cut -d" " -f1)}
	printf "id: %s\necu: hydraulics\nfirmware: %s\nsha256: %s\n" "$3" "$4" "$r_sha" \
		>"$TRASH/req.tmp" &&
	drop "$1" "$2" "$6"
}

# drop DIR NAME [TOUCH]: move $TRASH/req.tmp into DIR/inbox/NAME
drop()
{
	if [ -n "$3" ]; then touch -d "$3" "$TRASH/req.tmp" || return 1; fi
	mv "$TRASH/req.tmp" "$TRASH/$1/inbox/$2"
}

# A file that does not parse is looked at again while it is fresh (it may
# still be being written); the tests that time its rejection date it a
# minute back, so that the bound is about serve and not about that wait.
OLD='1 minute ago'

# poll_status UNTIL SECONDS [INTERVAL]: a single-attempt status every
# INTERVAL seconds (default 0.1) until the shell condition UNTIL holds
# (tested after each status; its output is in st.out) or, with UNTIL empty,
# for SECONDS. Fails if one status failed, or UNTIL is still false at the end.
poll_status()
{
	p_t0=$(date +%s%N) p_n=0 p_bad=0 p_ok=0
	while :; do
		if ! st >st.out 2>st.err; then
			p_bad=$((p_bad + 1))
			test $p_bad = 1 && sed "s/^/poll $((p_n + 1)): /" st.err
		fi
		p_n=$((p_n + 1))
		if [ -n "$1" ] && eval "$1" >/dev/null 2>&1; then
			p_ok=1
			break
		fi
		if [ "$(elapsed_ms $p_t0)" -ge $(($2 * 1000)) ]; then
			test -n "$1" || p_ok=1
			break
		fi
		sleep "${3:-0.1}"
	done
	echo "poll_status: $p_bad of $p_n failed; after $(elapsed_ms $p_t0) ms '${1:-}' $(
		test $p_ok = 1 && echo holds || echo is false)"
	test $p_bad = 0 && test $p_ok = 1
}

# absent FILE...: none of them exists (else the first is named)
absent()
{
	for a_f; do
		if test -e "$a_f"; then
			echo "$a_f: still there"
			return 1
		fi
	done
}

# gone FILE...: within 5 s none of them exists (else the first is named)
gone()
{
	wait_until "absent $*" 5 2>/dev/null || absent "$@"
}

# one_report DIR NAME STATUS WORDS: request file NAME has exactly one report
# in DIR/outbox, with that status and WORDS in its reason; NAME is in done/
one_report()
{
	wait_until "grep -qF '\"request_file\": \"$2\",' \"$TRASH/$1\"/outbox/*.json" 5
	o_r=$(grep -lF "\"request_file\": \"$2\"," "$TRASH/$1"/outbox/*.json 2>/dev/null)
	o_n=$(printf '%s' "$o_r" | grep -c .)
	if [ "$o_n" != 1 ]; then
		echo "one_report: $o_n reports for $2: $o_r"
		ls -la "$TRASH/$1/outbox"
		return 1
	fi
	test_grep "^  \"status\": \"$3\"" "$o_r" &&
	test_grep "^  \"reason\": \".*$4" "$o_r" &&
	test -f "$TRASH/$1/done/$2"
}

test_expect_success 'setup: firmware images, simulated ECU' '
	gen_hex 8192 7 >fw.hex &&
	fota hexinfo --bin=fw.bin --range=0x08000000-0x0800ffff fw.hex &&
	gen_hex 8192 8 >fw2.hex &&
	fota hexinfo --bin=fw2.bin --range=0x08000000-0x0800ffff fw2.hex &&
	daemon ecu fota ecu -c fota.yaml -e hydraulics -b "$BUS" --memory mem.bin \
		--ready-file ecu.ready &&
	wait_until "test -f ecu.ready" 10
'

test_expect_success 'firmware /dev/zero: failed "not a regular file" at once, SDO answered' '
	serve zero &&
	req zero $(uuid 1).yaml $(uuid 1) /dev/zero $(printf "%064d" 0) &&
	poll_status "test -f zero/done/$(uuid 1).yaml" 3 &&
	one_report zero $(uuid 1).yaml failed "not a regular file" &&
	st >/dev/null &&
	ends_within zero TERM 1500
'

test_expect_success 'firmware a FIFO: failed "not a regular file" at once, SDO answered' '
	mkfifo pipe &&
	serve fifo &&
	req fifo $(uuid 1).yaml $(uuid 1) "$TRASH/pipe" $(printf "%064d" 0) &&
	poll_status "test -f fifo/done/$(uuid 1).yaml" 3 &&
	one_report fifo $(uuid 1).yaml failed "not a regular file" &&
	st >/dev/null &&
	ends_within fifo TERM 1500
'

test_expect_success 'firmware over tcu.max_firmware_bytes: failed, the limit named' '
	sed "s/^tcu:\$/tcu:\n  max_firmware_bytes: 1000/" fota.yaml >limit.yaml &&
	test_grep "^  max_firmware_bytes: 1000" limit.yaml &&
	gen_hex 2000 3 >big.hex &&
	serve limit -c limit.yaml &&
	req limit $(uuid 1).yaml $(uuid 1) "$TRASH/big.hex" &&
	poll_status "test -f limit/done/$(uuid 1).yaml" 5 &&
	one_report limit $(uuid 1).yaml failed "max_firmware_bytes" &&
	test_grep "^update_available: 0x00" st.out &&
	ends_within limit TERM 1500
'

# A disk that fills up while the firmware is copied (a 64 KiB tmpfs on
# STATE_DIR/firmware; mounting needs root, as CI has).
test_lazy_prereq TMPFS '
	mkdir -p "$TRASH/tmpfs-probe" &&
	mount -t tmpfs -o size=64k tmpfs "$TRASH/tmpfs-probe" 2>/dev/null &&
	umount "$TRASH/tmpfs-probe"
'

test_expect_success TMPFS 'disk full while the firmware is copied: failed with the reason, nothing left' '
	mkdir -p full/firmware &&
	mount -t tmpfs -o size=64k tmpfs "$TRASH/full/firmware" &&
	gen_hex 60000 4 >fill.hex &&
	serve full &&
	req full $(uuid 1).yaml $(uuid 1) "$TRASH/fill.hex" &&
	poll_status "test -f full/done/$(uuid 1).yaml" 5 >/dev/null
	rc=$?
	ls -la full/firmware
	left=$(ls -A full/firmware)
	ends_within full TERM 1500
	umount "$TRASH/full/firmware" &&
	test $rc = 0 &&
	one_report full $(uuid 1).yaml failed "cannot keep a copy of the firmware.*No space left on device" &&
	test -z "$left"
'

test_expect_success 'a request nested 10000 levels deep: failed "nest" within 3 s, SDO answered' '
	serve deep &&
	{
		printf "id: " &&
		printf "%10000s" "" | tr " " "[" &&
		printf "%10000s" "" | tr " " "]" &&
		printf "\necu: hydraulics\nfirmware: %s\nsha256: %s\n" "$TRASH/fw.hex" \
			"$(sha256sum fw.hex | cut -d" " -f1)"
	} >req.tmp &&
	drop deep deep.yaml "$OLD" &&
	poll_status "test -f deep/done/deep.yaml" 3 &&
	one_report deep deep.yaml failed "nest" &&
	ends_within deep TERM 1500
'

LONG_BAD=$(printf "%250s" "" | tr " " "b").yaml
LONG_OK=$(printf "%250s" "" | tr " " "g").yaml

test_expect_success 'a request file name of 255 bytes that does not parse: one report, file in done/' '
	serve long &&
	printf "id: bad\n" >req.tmp &&
	drop long "$LONG_BAD" "$OLD" &&
	wait_until "test -f \"long/done/$LONG_BAD\" && ls long/outbox | grep -q ." 10 &&
	ls long/outbox >reports &&
	echo "outbox: $(cat reports)" &&
	test "$(grep -c . reports)" = 1 &&
	test_grep "^[^/]{1,250}\.json\$" reports &&
	one_report long "$LONG_BAD" failed ""
'

test_expect_success 'a parseable request with a 255-byte name is queued and offered' '
	req long "$LONG_OK" $(uuid 2) "$TRASH/fw.hex" &&
	wait_until "test \"\$(field update_available)\" = 0x01" 10 &&
	test_grep "^  \"request_file\": \"$LONG_OK\"," long/outbox/$(uuid 2).json &&
	ends_within long TERM 1500
'

test_expect_success 'a request file name that is not UTF-8: the report is valid JSON' '
	serve utf8 &&
	name=$(printf "bad\\377name.yaml") &&
	printf "id: bad\n" >req.tmp &&
	drop utf8 "$name" "$OLD" &&
	wait_until "test -f \"utf8/done/$name\" && ls utf8/outbox | grep -q ." 10 &&
	ls utf8/outbox >reports &&
	echo "outbox: $(cat reports)" &&
	test "$(grep -c "\.json\$" reports)" = 1 &&
	for r in utf8/outbox/*.json; do
		"$PYTHON" -c "import json, sys; json.load(open(sys.argv[1]))" "$r" || return 1
	done &&
	ends_within utf8 TERM 1500
'

test_expect_success 'temporary files a power cut left are removed at start; inbox/.* kept' '
	mkdir -p stale/outbox stale/inbox &&
	printf "{ \"id\": " >stale/outbox/$(uuid 3).json.tmp &&
	printf "update_sta" >stale/state.tmp &&
	printf "id: %s\n" $(uuid 4) >stale/inbox/.incoming.tmp &&
	serve stale &&
	gone stale/outbox/$(uuid 3).json.tmp stale/state.tmp &&
	test -f stale/inbox/.incoming.tmp &&
	ends_within stale TERM 1500
'

# read once: serve keeps the verified bytes in STATE_DIR/firmware/<id>
test_expect_success 'an offered update has its private copy of the firmware' '
	cp fw.hex fw-a.hex &&
	serve once &&
	req once $(uuid 5).yaml $(uuid 5) "$TRASH/fw-a.hex" &&
	wait_until "test \"\$(field update_available)\" = 0x01" 10 &&
	wait_until "test -f once/firmware/$(uuid 5)" 5 &&
	cmp fw.hex once/firmware/$(uuid 5)
'

test_expect_success 'the original removed after the offer: approve flashes the verified image' '
	rm -f fw-a.hex &&
	fota approve -b "$BUS" &&
	wait_until "test \"\$(field update_status)\" = 0x10" 30 &&
	cmp mem.bin fw.bin
'

test_expect_success 'the private copy is kept until the final status, then removed' '
	ls once/firmware >copies 2>&1
	fota health ok -b "$BUS" &&
	test "$(field update_status)" = 0x40 &&
	test_grep "^$(uuid 5)\$" copies &&
	test_grep "^  \"status\": \"successful\"" once/outbox/$(uuid 5).json &&
	gone once/firmware/$(uuid 5)
'

test_expect_success 'restart while offered with the original gone: still offered, flashed' '
	cp fw2.hex fw-b.hex &&
	req once $(uuid 6).yaml $(uuid 6) "$TRASH/fw-b.hex" &&
	wait_until "test \"\$(field update_available)\" = 0x01" 10 &&
	rm -f fw-b.hex &&
	ends_within once TERM 1500 &&
	serve once &&
	fota status -b "$BUS" >out &&
	test_grep "^update_available: 0x01" out &&
	test_grep "^update_request_id: $(uuid 6)" out &&
	fota approve -b "$BUS" &&
	wait_until "test \"\$(field update_status)\" = 0x10" 30 &&
	cmp mem.bin fw2.bin &&
	fota health ok -b "$BUS" &&
	ends_within once TERM 1500
'

# /proc/PID/stat fields 14 and 15 (utime, stime): 12 and 13 after "pid (comm) "
cpu_ticks()
{
	sed "s/.*) //" "/proc/$1/stat" | awk "{ print \$12 + \$13 }"
}

test_expect_success 'a fresh unparseable request and one dated in the future: no CPU spin' '
	serve spin &&
	sleep 1 &&
	pid=$(cat spin.pid) &&
	hz=$(getconf CLK_TCK) &&
	printf "id: [\n" >req.tmp && drop spin fresh.yaml &&
	printf "id: [\n" >req.tmp && drop spin future.yaml "+1 hour" &&
	t0=$(cpu_ticks $pid) &&
	sleep 3 &&
	t1=$(cpu_ticks $pid) &&
	echo "CPU over 3 s: $((t1 - t0)) ticks of 1/$hz s" &&
	test $(((t1 - t0) * 10)) -lt $((hz * 3)) &&
	wait_until "test -f spin/done/fresh.yaml && test -f spin/done/future.yaml" 7 &&
	one_report spin fresh.yaml failed "" &&
	one_report spin future.yaml failed "" &&
	ends_within spin TERM 1500
'

test_expect_success '2000 requests at once: every status answered, every request reported' '
	gen_hex 64 5 >small.hex &&
	sha=$(sha256sum small.hex | cut -d" " -f1) &&
	mkdir stage &&
	awk -v dir=stage -v fw="$TRASH/small.hex" -v sha=$sha "BEGIN {
		for (i = 1; i <= 2000; i++) {
			id = sprintf(\"7c9e6679-7425-40de-944b-%012d\", i);
			f = dir \"/\" id \".yaml\";
			printf \"id: %s\\necu: hydraulics\\nfirmware: %s\\nsha256: %s\\n\", id, fw, sha >f;
			close(f);
		}
	}" &&
	test $(ls stage | wc -l) = 2000 &&
	serve burst &&
	mv stage/* burst/inbox/ &&
	poll_status "" 5 &&
	wait_until "test \$(ls burst/outbox | grep -c \"\\.json\$\") = 2000" 240 &&
	test_grep "^  \"id\": \"7c9e6679-7425-40de-944b-000000002000\"" \
		burst/outbox/7c9e6679-7425-40de-944b-000000002000.json &&
	ends_within burst TERM 1500
'

test_done
