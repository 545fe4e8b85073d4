#!/bin/sh
# SPDX-License-Identifier: MIT
test_description='fota serve as a daemon: one instance per state directory and per node-ID, signals, a live trace'
. "$(dirname "$0")/lib.sh"

# Several serves, buses and state directories side by side: unix: buses are
# made up per test; on SocketCAN the second bus is FOTA_TEST_BUS2 (vcan1 in
# the VM of tests/vm), where the node-ID probe meets real CAN frames.
case $BUS in
unix:*) B2=unix:$TRASH/bus2 B3=unix:$TRASH/bus3 ;;
*) B2=${FOTA_TEST_BUS2:-} B3=${FOTA_TEST_BUS2:-} ;;
esac
[ -n "$B2" ] && test_set_prereq BUS2

CFG=$FOTA_SRC/examples/fota.yaml # node 0x27
ST1=$TRASH/st1

# st [OPTIONS]: one `fota status`, a single attempt of 500 ms per object
st()
{
	timeout -k 2 10 fota status -b "$BUS" --retries=0 -t 500 "$@"
}

# serve NAME STATE_DIR [OPTIONS]: start serve on $BUS, wait for it to run
serve()
{
	s_n=$1 s_d=$2
	shift 2
	daemon "$s_n" fota serve -c "$CFG" -b "$BUS" --state-dir "$s_d" "$@" &&
	wait_until "grep -q \"on $BUS\" \"$TRASH/$s_n.err\"" 10
}

test_expect_success 'setup: serve A on $BUS with a trace file' '
	serve A "$ST1" --trace "$TRASH/A.trc" &&
	st >out &&
	test_grep "^update_available: 0x00" out
'

# Every SDO request of a status and its answer are in the trace while serve
# still runs (the requests serve itself sent before, if any, aside).
test_expect_success 'the trace holds the answers of a status while serve runs' '
	q0=$(grep -c " 627#" A.trc)
	a0=$(grep -c " 5A7#" A.trc)
	st >/dev/null &&
	wait_until "test \$(grep -c \" 5A7#\" A.trc) -gt $a0 &&
		test \$((\$(grep -c \" 5A7#\" A.trc) - $a0)) -eq \$((\$(grep -c \" 627#\" A.trc) - $q0))" 2 ||
	{
		echo "627 lines: $q0 -> $(grep -c " 627#" A.trc), 5A7 lines: $a0 -> $(grep -c " 5A7#" A.trc)"
		false
	}
'

test_expect_success BUS2 'a second serve on the same state directory (other bus): exit 5, the holder named' '
	pid=$(cat A.pid) &&
	t0=$(date +%s%N) &&
	timeout -k 2 5 fota serve -c "$CFG" -b "$B2" --state-dir "$ST1" 2>err
	rc=$? ms=$(elapsed_ms $t0)
	echo "exit $rc after $ms ms; stderr:" && cat err &&
	test $rc = 5 && test "$ms" -le 2000 &&
	test "$(grep -i "lock" err | grep -cw "$pid")" = 1 &&
	test -f "$ST1/lock" &&
	st >out && test_grep "^update_available: 0x00" out
'

test_expect_success 'node 0x27 taken on the bus (other state dir): exit 5 with no boot-up' '
	n=$(bus_members)
	fota-test dump -t 4000 -i 0x727 "$BUS" >boot.out &
	d=$!
	wait_until "test \$(bus_members) -gt $n" 5 &&
	timeout -k 2 5 fota serve -c "$CFG" -b "$BUS" --state-dir "$TRASH/st2" 2>err
	rc=$?
	echo "exit $rc; stderr:" && cat err &&
	wait $d &&
	test $rc = 5 &&
	test_must_be_empty boot.out &&
	test_grep "node 0x27" err &&
	st >out && test_grep "^update_available: 0x00" out
'

test_expect_success 'node 0x28 on the same bus starts; both nodes answer' '
	serve B "$TRASH/st3" -n 0x28 &&
	st -n 0x28 >out28 && test_grep "^update_available: 0x00" out28 &&
	st -n 0x27 >out27 && test_grep "^update_available: 0x00" out27 &&
	ends_within B TERM 1500
'

# A heartbeat every 50 ms plus a process start: about every 100 ms.
test_expect_success BUS2 'a node sending heartbeats 0x727#05 every 100 ms: exit 5' '
	(while :; do fota-test send "$B3" 727#05; sleep 0.05; done) >/dev/null 2>&1 &
	hb=$!
	t_register $hb
	sleep 0.3 &&
	timeout -k 2 5 fota serve -c "$CFG" -b "$B3" --state-dir "$TRASH/st4" 2>err
	rc=$?
	kill $hb && t_forget $hb
	echo "exit $rc; stderr:" && cat err &&
	test $rc = 5 &&
	test_grep "node 0x27" err
'

test_expect_success 'a trace that cannot be written: status 1 and the file named, not silence' '
	test_expect_code 1 st --trace /dev/full >out 2>err &&
	test_grep "^update_available: 0x00" out &&
	test_grep "/dev/full" err &&
	serve F "$TRASH/stF" -n 0x29 --trace /dev/full &&
	st -n 0x29 >out && test_grep "^update_available: 0x00" out &&
	kill -TERM "$(cat F.pid)" && ended F &&
	test "$(cat F.rc)" = 1 &&
	test_grep "/dev/full: [0-9]* frames not traced" F.err
'

test_expect_success 'SIGTERM on an idle serve: exit 0 within 1 s' '
	ends_within A TERM 1500
'

test_expect_success 'a lock left by a SIGKILLed serve does not refuse the restart' '
	serve A "$ST1" &&
	kill -9 "$(cat A.pid)" &&
	ended A &&
	serve A "$ST1" &&
	st >out && test_grep "^update_available: 0x00" out
'

test_expect_success 'SIGINT on an idle serve: exit 0 within 1 s' '
	ends_within A INT 1500
'

test_done
