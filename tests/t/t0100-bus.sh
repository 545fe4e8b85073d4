#!/bin/sh
# SPDX-License-Identifier: MIT
test_description='the bus layer between processes: fota-test send/dump on $BUS (unix: by default)'
. "$(dirname "$0")/lib.sh"

case "$BUS" in
unix:*) test_set_prereq UNIXBUS ;;
esac
busdir=${BUS#unix:}

# wait_members N: N members have joined the bus (lib.sh's bus_members)
wait_members()
{
	wait_until "test \$(bus_members) -ge $1"
}

test_expect_success 'frames sent by one process are dumped by another, byte for byte' '
	bg_start dump fota-test dump -n 3 -t 10000 "$BUS" &&
	wait_members 1 &&
	fota-test send "$BUS" 7E0#0210020000000000 18DA00F1#0322F190 123#R &&
	bg_stop dump &&
	cat >expect <<-\EOF &&
	7E0#0210020000000000
	18DA00F1#0322F190
	123#R
	EOF
	test_cmp expect dump.out
'

test_expect_success 'every member sees every frame of the others, never its own' '
	bg_start d1 fota-test dump -n 2 -t 10000 "$BUS" &&
	bg_start d2 fota-test dump -n 2 -t 10000 "$BUS" &&
	wait_members 2 &&
	fota-test send "$BUS" 100#01 &&
	fota-test send "$BUS" 200#02 &&
	bg_stop d1 && bg_stop d2 &&
	printf "100#01\n200#02\n" >expect &&
	test_cmp expect d1.out &&
	test_cmp expect d2.out
'

test_expect_success 'a burst of 2000 frames (ISO-TP with BS=0) arrives complete and in order' '
	i=0 && : >frames &&
	while [ $i -lt 2000 ]; do
		printf "7E0#%02X%04X\n" $((0x20 + i % 16)) $i >>frames
		i=$((i + 1))
	done &&
	bg_start dump fota-test dump -n 2000 -t 20000 "$BUS" &&
	wait_members 1 &&
	fota-test send "$BUS" $(cat frames) &&
	bg_stop dump &&
	test_cmp frames dump.out
'

test_expect_success 'the receive filter keeps only the given ids (11- and 29-bit apart)' '
	bg_start dump fota-test dump -n 2 -t 10000 -i 0x7E8 -i 0x18DAF100 "$BUS" &&
	wait_members 1 &&
	fota-test send "$BUS" 7E0#01 000007E8#02 7E8#03 18DAF100#04 &&
	bg_stop dump &&
	printf "7E8#03\n18DAF100#04\n" >expect &&
	test_cmp expect dump.out
'

# CAN_RAW_FILTER acts on frames that arrive after it is set; a frame queued
# between bind() and setsockopt() must not reach a filtered reader either.
test_expect_success 'a reader opened during a flood of other ids reads none of them' '
	i=0 && flood= &&
	while [ $i -lt 100 ]; do flood="$flood 7E8#0276110000000000"; i=$((i + 1)); done &&
	(while [ ! -e flood.stop ]; do fota-test send "$BUS" $flood 2>/dev/null || sleep 0.01; done) &
	i=0 && : >seen &&
	while [ $i -lt 30 ]; do
		fota-test dump -n 1 -t 20 -i 0x5A7 "$BUS" >>seen
		i=$((i + 1))
	done
	touch flood.stop && wait &&
	test_must_be_empty seen
'

test_expect_success '--trace writes candump -l lines, sent and received' '
	bg_start dump fota-test dump -n 1 -t 10000 --trace rx.log "$BUS" &&
	wait_members 1 &&
	fota-test send --trace tx.log "$BUS" 7E0#0210020000000000 &&
	bg_stop dump &&
	test_grep "^\([0-9]{10}\.[0-9]{6}\) [a-z0-9]+ 7E0#0210020000000000$" tx.log &&
	test_grep "^\([0-9]{10}\.[0-9]{6}\) [a-z0-9]+ 7E0#0210020000000000$" rx.log &&
	test $(wc -l <tx.log) -eq 1
'

test_expect_success 'dump -n: status 1 when the frames do not come in time' '
	test_expect_code 1 fota-test dump -n 1 -t 100 "$BUS"
'

test_expect_success 'send: a malformed frame is refused before anything is sent' '
	test_expect_code 2 fota-test send "$BUS" 7E0#01 7E0#0 2>err &&
	test_grep "7E0#0.: not a frame" err
'

test_expect_success UNIXBUS 'a member killed with SIGKILL leaves a socket that the others remove' '
	bg_start dead fota-test dump "$BUS" &&
	dead=$(bg_pid dead) &&
	wait_until "ls \"$busdir\" | grep -q \"^$dead\\.\"" &&
	bg_kill9 dead &&
	ls "$busdir" | grep "^$dead\." &&
	bg_start live fota-test dump -n 1 -t 10000 "$BUS" &&
	live=$(bg_pid live) &&
	wait_until "ls \"$busdir\" | grep -q \"^$live\\.\"" &&
	fota-test send "$BUS" 321#AA &&
	bg_stop live &&
	echo 321#AA >expect &&
	test_cmp expect live.out &&
	! ls "$busdir" | grep "^$dead\."
'

test_expect_success UNIXBUS 'unix: on a path that is a file: clear error, status 4' '
	: >notadir &&
	test_expect_code 4 fota-test send "unix:$PWD/notadir" 123#00 2>err &&
	test_grep "notadir: not a directory" err
'

# Clients join a bus, members (serve, ecu) make it: a client alone on unix:DIR
# has nobody to talk to and says so at once, leaving nothing behind.
cat >nobus.yaml <<EOF
ecus:
  - name: e
    request_id: 0x7E0
    response_id: 0x7E8
    regions:
      - { start: 0x08000000, size: 0x1000 }
EOF
printf ':020000040800F2\n:0400000001020304F2\n:00000001FF\n' >tiny.hex

# client_cmds: one line per client command that talks to the bus
client_cmds()
{
	cat <<-\EOF
	status
	approve
	reject
	health ok
	flash -c nobus.yaml -e e --no-security tiny.hex
	info -c nobus.yaml -e e
	scan
	EOF
}

test_expect_success UNIXBUS 'clients on a unix: directory that does not exist: no member, status 4, no directory made' '
	client_cmds | while read -r c; do
		test_expect_code 4 fota $c -b "unix:$TRASH/none/bus" 2>err &&
		echo "fota ${c%% *}: no other member on unix:$TRASH/none/bus" >expect &&
		test_cmp expect err &&
		! test -e "$TRASH/none" || return 1
	done
'

# "At once": well below the 3 s a status without answer takes (1000 ms x 3).
test_expect_success UNIXBUS 'clients on a directory without members: the same at once, nothing left' '
	mkdir -p empty &&
	client_cmds | while read -r c; do
		t0=$(date +%s%N) &&
		test_expect_code 4 fota $c -b "unix:$TRASH/empty" 2>err &&
		echo "fota ${c%% *}: no other member on unix:$TRASH/empty" >expect &&
		test_cmp expect err &&
		echo "$c: $(elapsed_ms $t0) ms" &&
		test $(elapsed_ms $t0) -lt 2500 &&
		test -z "$(ls empty)" || return 1
	done
'

test_expect_success UNIXBUS 'the socket of a member killed by SIGKILL is no member' '
	mkdir -p stale &&
	bg_start dead fota-test dump "unix:$TRASH/stale" &&
	wait_until "test -n \"\$(ls stale)\"" &&
	bg_kill9 dead &&
	test_expect_code 4 fota status -b "unix:$TRASH/stale" 2>err &&
	test_grep "no other member on unix:" err &&
	test -z "$(ls stale)"
'

# sig_client SIG: a client waiting for a silent member, killed by SIG, leaves
# no socket behind. env --default-signal: a background job of a shell without
# job control starts with SIGINT ignored.
sig_client()
{
	bg_start silent fota-test dump "$BUS" &&
	wait_members 1 &&
	{ env --default-signal=INT fota status -b "$BUS" -t 20000 2>client.err & } &&
	client=$! &&
	wait_until "ls \"$busdir\" | grep -q \"^$client\\.\"" &&
	kill -"$1" $client &&
	{ wait $client; rc=$?; true; } &&
	echo "status ended with $rc" &&
	test $rc -ne 0 &&
	bg_stop silent &&
	! ls "$busdir" | grep "^$client\."
}

test_expect_success UNIXBUS 'a client killed by SIGTERM removes its socket' '
	sig_client TERM
'

test_expect_success UNIXBUS 'a client killed by SIGINT removes its socket' '
	sig_client INT
'

test_done
