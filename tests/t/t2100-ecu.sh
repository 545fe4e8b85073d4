#!/bin/sh
# SPDX-License-Identifier: MIT
test_description='fota ecu: the simulated ECU, byte for byte on $BUS, between processes'
. "$(dirname "$0")/lib.sh"

case "$BUS" in
unix:*) test_set_prereq UNIXBUS ;;
esac
busdir=${BUS#unix:}

members()
{
	bus_members
}

# Test bodies run in subshells: an ECU left running by a failed test is
# found through ecu.pids and stopped before the next one starts.
stop_leftovers()
{
	for p in $(cat "$TRASH/ecu.pids" 2>/dev/null); do
		kill "$p" 2>/dev/null
	done
	: >"$TRASH/ecu.pids"
	wait_until "test \$(members) -eq 0" 5 2>/dev/null
	return 0
}

# start_ecu NAME ARGS...: run fota ecu in the background until it listens.
start_ecu()
{
	n=$1
	shift
	stop_leftovers
	rm -f "$n.ready"
	bg_start "$n" fota ecu -b "$BUS" --ready-file "$n.ready" "$@" &&
	bg_pid "$n" >>"$TRASH/ecu.pids" &&
	wait_until "test -f $n.ready"
}

# xchg N FRAME...: send the frames, write the ECU's next N frames (0x7E8) to
# out; fails if they do not all come within $XT ms (default 5000). The ECU
# takes one request at a time (a second one meanwhile is answered 0x21), so
# send several frames only where no answer comes in between. One process
# listens, then sends: under TCG a request by hand must still follow the
# last answer within the ECU's N_Cr (1000 ms).
xchg()
{
	x_n=$1
	shift
	fota-test dump -i 0x7E8 -n "$x_n" -t "${XT:-5000}" "$BUS" "$@" >out
}

# expect_frames FRAME...: out holds exactly these frames.
expect_frames()
{
	printf "%s\n" "$@" >expect &&
	test_cmp expect out
}

test_expect_success 'starts, says where it listens, creates an erased memory file' '
	start_ecu ecu --memory mem.bin &&
	bg_stop ecu &&
	test_grep "^fota ecu: listening on $BUS \(request 0x7E0, response 0x7E8, functional 0x7DF\)$" ecu.err &&
	test $(wc -c <mem.bin) -eq 1048576 &&
	head -c 1048576 /dev/zero | tr "\000" "\377" >erased.bin &&
	cmp erased.bin mem.bin
'

test_expect_success 'DiagnosticSessionControl programming: 50 02 with P2 50 ms, P2* 5000 ms' '
	start_ecu ecu --memory mem.bin &&
	xchg 1 7E0#021002 &&
	expect_frames 7E8#065002003201F4CC &&
	bg_stop ecu
'

test_expect_success 'TesterPresent is answered; with suppressPosRsp it is not' '
	start_ecu ecu &&
	xchg 1 7E0#023E80 7E0#023E00 &&
	expect_frames 7E8#027E00CCCCCCCCCC &&
	bg_stop ecu
'

test_expect_success 'functional requests on 0x7DF: answered on 0x7E8, NRC 0x11/0x31 kept back, no FF' '
	start_ecu ecu &&
	xchg 1 7DF#023E80 7DF#0322ABCD 7DF#01BA 7DF#023E00 &&
	expect_frames 7E8#027E00CCCCCCCCCC &&
	xchg 1 7DF#021002 &&
	expect_frames 7E8#065002003201F4CC &&
	test_expect_code 1 fota-test dump -i 0x7E8 -n 1 -t 300 "$BUS" 7DF#1008223E00000000 \
		>out &&
	test_must_be_empty out &&
	bg_stop ecu
'

test_expect_success '--functional-id; 3E 80 keeps a --s3-restart session ECU in session' '
	# S3 3 s; 3E 80 on 0x7DE every second for 4 s keeps the session,
	# the ReadDataByIdentifier requests in between do not restart S3.
	start_ecu ecu --functional-id 0x7DE --s3 3000 --s3-restart session &&
	xchg 1 7E0#021003 &&
	xchg 1 7DE#023E80 7DF#023E00 7E0#0322F186 &&
	expect_frames 7E8#0462F18603CCCCCC &&
	for i in 1 2 3 4; do
		sleep 1 && fota-test send "$BUS" 7DE#023E80 || return 1
	done &&
	xchg 1 7E0#0322F186 &&
	expect_frames 7E8#0462F18603CCCCCC &&
	sleep 4 &&
	xchg 1 7E0#0322F186 &&
	expect_frames 7E8#0462F18601CCCCCC &&
	bg_stop ecu &&
	test_expect_code 2 fota ecu -b "$BUS" --functional-id 0x7E0 2>err &&
	test_grep "functional id equals the request or response id" err &&
	test_expect_code 2 fota ecu -b "$BUS" --s3-restart sometimes 2>err &&
	test_grep "invalid --s3-restart .sometimes. \(all or session\)" err
'

test_expect_success 'ReadDataByIdentifier F190: the VIN, segmented, after our flow control' '
	start_ecu ecu || return 1
	fota-test dump -i 0x7E8 -n 3 -t 5000 "$BUS" >out &
	pid=$! &&
	wait_until "test \$(members) -ge 2" &&
	fota-test send "$BUS" 7E0#0322F190 &&
	wait_until "grep -q ^7E8#1014 out" &&
	fota-test send "$BUS" 7E0#300000 &&
	wait $pid &&
	expect_frames 7E8#101462F19057464F 7E8#2154413030303030 7E8#2230303030303031 &&
	bg_stop ecu
'

test_expect_success 'ReadDataByIdentifier F186 gives the active session; unknown DID 0x31' '
	start_ecu ecu &&
	xchg 1 7E0#0322F186 &&
	expect_frames 7E8#0462F18601CCCCCC &&
	xchg 1 7E0#021002 &&
	xchg 1 7E0#0322F186 &&
	expect_frames 7E8#0462F18602CCCCCC &&
	xchg 1 7E0#03220001 &&
	expect_frames 7E8#037F2231CCCCCCCC &&
	bg_stop ecu
'

test_expect_success 'an unknown service is refused with serviceNotSupported (0x11)' '
	start_ecu ecu --memory mem.bin &&
	xchg 1 7E0#01BA &&
	expect_frames 7E8#037FBA11CCCCCCCC &&
	bg_stop ecu &&
	cmp erased.bin mem.bin
'

test_expect_success 'SecurityAccess in the default session: serviceNotSupportedInActiveSession' '
	start_ecu ecu &&
	xchg 1 7E0#022701 &&
	expect_frames 7E8#037F277FCCCCCCCC &&
	kill -INT $(bg_pid ecu) &&
	wait $(bg_pid ecu)
'

# unlock: seed from 67 01, key = seed XOR the default mask A5A5A5A5.
unlock()
{
	xchg 1 7E0#022701 &&
	test_grep "^7E8#066701[0-9A-F]{8}CC$" out &&
	seed=$(cut -c 11-18 out) &&
	key=$(printf "%08X" $((0x$seed ^ 0xA5A5A5A5))) &&
	echo "$seed $key" >>secrets &&
	xchg 1 7E0#062702$key &&
	expect_frames 7E8#026702CCCCCCCCCC
}

test_expect_success 'a download by hand: unlock with xor:A5A5A5A5, the block is on disk when acknowledged' '
	start_ecu ecu --memory mem.bin -v &&
	xchg 1 7E0#021002 &&
	xchg 1 7E0#022701 && seed=$(cut -c 11-18 out) &&
	bad=$(printf "%08X" $((0x$seed ^ 0x5A5A5A5A))) &&
	xchg 1 7E0#062702$bad &&
	expect_frames 7E8#037F2735CCCCCCCC &&
	unlock &&
	xchg 1 7E0#100B340044080000 &&
	expect_frames 7E8#300000CCCCCCCCCC &&
	xchg 1 7E0#210000000004 &&
	expect_frames 7E8#0474200FFFCCCCCC &&
	xchg 1 7E0#063601DEADBEEF &&
	expect_frames 7E8#027601CCCCCCCCCC &&
	xchg 1 7E0#0137 &&
	expect_frames 7E8#0177CCCCCCCCCCCC &&
	od -An -tx1 -N 5 mem.bin >head &&
	echo " de ad be ef ff" >want &&
	test_cmp want head &&
	test $(wc -c <mem.bin) -eq 1048576 &&
	bg_stop ecu
'

test_expect_success '-v logs requests and answers, never a seed or a key' '
	test_grep "request 36 01 DE AD BE EF: TransferData" ecu.err &&
	test_grep "response 67 01 \(seed, 4 bytes hidden\): SecurityAccess" ecu.err &&
	test_grep "request 27 02 \(key, 4 bytes hidden\)" ecu.err &&
	for x in $(cat secrets); do
		test_grep -v "$(echo $x | sed "s/../& /g; s/ \$//")" ecu.err || return 1
	done &&
	test_grep "response 7F 27 35: SecurityAccess: invalidKey" ecu.err
'

test_expect_success 'the memory is loaded at start: written flash is not erased, 0x70' '
	start_ecu ecu --memory mem.bin &&
	xchg 1 7E0#021002 &&
	unlock &&
	xchg 1 7E0#100B340044080000 &&
	xchg 1 7E0#210000000004 &&
	expect_frames 7E8#037F3470CCCCCCCC &&
	bg_stop ecu
'

test_expect_success 'a memory file of the wrong size: status 3, the file named' '
	head -c 1000 /dev/zero >short.bin &&
	test_expect_code 3 fota ecu -b "$BUS" --memory short.bin 2>err &&
	test_grep "^fota ecu: short.bin: 1000 bytes, but the regions span 1048576 bytes" err &&
	test $(wc -c <short.bin) -eq 1000 &&
	mkdir dir.bin &&
	test_expect_code 3 fota ecu -b "$BUS" --memory dir.bin 2>err &&
	test_grep "dir.bin: not a regular file" err
'

test_expect_success 'regions: the memory file spans lowest start to highest end' '
	start_ecu ecu --region 0x1000:0x100 --region 0x800:0x10 --memory two.bin &&
	test $(wc -c <two.bin) -eq 2304 &&
	bg_stop ecu
'

test_expect_success 'bootloader switch: programming refused (0x22) until the frame comes' '
	start_ecu ecu --bootloader-switch 700#0102 &&
	xchg 1 7E0#021002 &&
	expect_frames 7E8#037F1022CCCCCCCC &&
	fota-test send "$BUS" 700#0103 &&
	xchg 1 7E0#021002 &&
	expect_frames 7E8#037F1022CCCCCCCC &&
	fota-test send "$BUS" 700#0102 &&
	xchg 1 7E0#021002 &&
	expect_frames 7E8#065002003201F4CC &&
	bg_stop ecu &&
	test_grep "bootloader switch frame received" ecu.err
'

test_expect_success 'ids, P2 and P2*, DIDs from the command line' '
	start_ecu ecu --request-id 0x18DA10F1 --response-id 0x18DAF110 --p2 25 --p2-star 2000 \
		--did 0xF18C=hex:0102 --did F190=ABC &&
	test_grep "listening on .* \(request 0x18DA10F1, response 0x18DAF110, functional 0x18DB33F1\)" ecu.err ||
		return 1
	fota-test dump -i 0x18DAF110 -n 3 -t 5000 "$BUS" >out &
	pid=$! &&
	wait_until "test \$(members) -ge 2" &&
	fota-test send "$BUS" 18DA10F1#021003 &&
	wait_until "test \$(wc -l <out) -ge 1" &&
	fota-test send "$BUS" 18DA10F1#0322F18C &&
	wait_until "test \$(wc -l <out) -ge 2" &&
	fota-test send "$BUS" 18DA10F1#0322F190 &&
	wait $pid &&
	expect_frames 18DAF110#065003001900C8CC 18DAF110#0562F18C0102CCCC \
		18DAF110#0662F190414243CC &&
	bg_stop ecu
'

test_expect_success 'the ECU of a configuration file' '
	cat >fota.yaml <<-EOF &&
	bus: $BUS
	ecus:
	  - name: hydraulics
	    model: HX-200
	    request_id: 0x7E1
	    response_id: 0x7E9
	    bootloader_switch: { id: 0x701, data: "01" }
	    security: { level: 0x03, key: "xor:11" }
	    regions: [ { start: 0x0, size: 0x200 } ]
	    isotp: { padding: 0x55 }
	EOF
	stop_leftovers && rm -f ecu.ready &&
	bg_start ecu fota ecu -c fota.yaml -e hydraulics --memory hx.bin --ready-file ecu.ready &&
	bg_pid ecu >>ecu.pids &&
	wait_until "test -f ecu.ready" &&
	test_grep "\(request 0x7E1, response 0x7E9, functional 0x7DF\)" ecu.err &&
	test $(wc -c <hx.bin) -eq 512 || return 1
	fota-test dump -i 0x7E9 -n 3 -t 5000 "$BUS" >out &
	pid=$! &&
	wait_until "test \$(members) -ge 2" &&
	fota-test send "$BUS" 7E1#021002 &&
	wait_until "test \$(wc -l <out) -ge 1" &&
	fota-test send "$BUS" 701#01 7E1#021002 &&
	wait_until "test \$(wc -l <out) -ge 2" &&
	fota-test send "$BUS" 7E1#022703 &&
	wait $pid &&
	head -2 out >got &&
	printf "7E9#037F102255555555\n7E9#065002003201F455\n" >want &&
	test_cmp want got &&
	test_grep "^7E9#066703[0-9A-F]{8}55$" out &&
	bg_stop ecu &&
	test_expect_code 2 fota ecu -c fota.yaml -e nosuch 2>err &&
	test_grep "fota.yaml: no ECU named .nosuch." err
'

test_expect_success '--fail SERVICE:N=NRC refuses only that request' '
	start_ecu ecu --fail DiagnosticSessionControl:2=conditionsNotCorrect &&
	xchg 1 7E0#021003 && expect_frames 7E8#065003003201F4CC &&
	xchg 1 7E0#021003 && expect_frames 7E8#037F1022CCCCCCCC &&
	xchg 1 7E0#021003 && expect_frames 7E8#065003003201F4CC &&
	bg_stop ecu
'

test_expect_success '--fail by SID and number; --pending; --drop-response' '
	start_ecu ecu --fail 0x22=0x31 --pending TesterPresent=1 --drop-response TesterPresent:2 &&
	xchg 1 7E0#0322F190 && expect_frames 7E8#037F2231CCCCCCCC &&
	xchg 2 7E0#023E00 && expect_frames 7E8#037F3E78CCCCCCCC 7E8#027E00CCCCCCCCCC &&
	XT=1500 test_expect_code 1 xchg 1 7E0#023E00 && test_must_be_empty out &&
	xchg 2 7E0#023E00 && expect_frames 7E8#037F3E78CCCCCCCC 7E8#027E00CCCCCCCCCC &&
	bg_stop ecu
'

test_expect_success '--trace: every frame both ways in candump -l format' '
	start_ecu ecu --trace tr.log &&
	xchg 1 7E0#023E00 &&
	bg_stop ecu &&
	test_grep "^\([0-9]{10}\.[0-9]{6}\) [a-z0-9]+ 7E0#023E00$" tr.log &&
	test_grep "^\([0-9]{10}\.[0-9]{6}\) [a-z0-9]+ 7E8#027E00CCCCCCCCCC$" tr.log
'

test_expect_success '-q: no start line' '
	start_ecu ecu -q &&
	bg_stop ecu &&
	test_must_be_empty ecu.err
'

# bad PATTERN ARGS...: fota ecu ARGS exits 2 with PATTERN on stderr.
bad()
{
	b_pat=$1
	shift
	test_expect_code 2 fota ecu "$@" 2>err && test_grep "$b_pat" err
}

test_expect_success 'bad command lines: status 2 and what is wrong' '
	unset FOTA_BUS &&
	mkdir -p nocfg && (cd nocfg && test_expect_code 2 fota ecu 2>../err) &&
	test_grep "no bus" err &&
	bad "invalid region" -b "$BUS" --region 0x08000000 &&
	bad "overlap" -b "$BUS" --region 0x1000:0x100 --region 0x1080:0x10 &&
	bad "invalid --level" -b "$BUS" --level 2 &&
	bad "request and response ids are the same" -b "$BUS" --request-id 0x7E8 &&
	bad "11-bit or both 29-bit" -b "$BUS" --request-id 0x800 &&
	bad "invalid CAN id" -b "$BUS" --request-id 0x2000000000 &&
	bad "invalid --key" -b "$BUS" --key xor:ABC &&
	bad "invalid --bootloader-switch" -b "$BUS" --bootloader-switch nonsense &&
	bad "invalid --did" -b "$BUS" --did 0xFFFF=x &&
	bad "active session" -b "$BUS" --did 0xF186=x &&
	bad "invalid --block-length" -b "$BUS" --block-length 2 &&
	bad "unknown option" -b "$BUS" --bogus &&
	bad "unexpected argument" -b "$BUS" extra &&
	! test -e "$busdir/ecu.sock"
'

test_expect_success '--fail and the other faults: malformed values are usage errors' '
	bad "expected SERVICE\[:N\]=NRC" -b "$BUS" --fail RequestDownload &&
	bad "unknown service" -b "$BUS" --fail Bogus=0x70 &&
	bad "bad N" -b "$BUS" --fail RequestDownload:0=0x70 &&
	bad "not 0x78" -b "$BUS" --fail RequestDownload=0x78 &&
	bad "is not an NRC" -b "$BUS" --fail RequestDownload=0x100 &&
	bad "is not an NRC" -b "$BUS" --fail RequestDownload=noSuchName &&
	bad "given twice" -b "$BUS" --fail 0x34=0x70 --fail 0x36=0x72 &&
	bad "invalid --pending count" -b "$BUS" --pending 0 &&
	bad "unknown service" -b "$BUS" --pending Bogus=1 &&
	bad "invalid --drop-response" -b "$BUS" --drop-response 0 &&
	bad "invalid --wrong-counter" -b "$BUS" --wrong-counter x &&
	bad "invalid --reset-during-transfer" -b "$BUS" --reset-during-transfer 0
'

# A path under a regular file: no directory can be made there, not even by
# root (a missing directory would simply be created, parents included).
test_expect_success 'a bus that cannot be opened: status 4' '
	: >plain &&
	test_expect_code 4 fota ecu -b unix:$TRASH/plain/fota-bus 2>err &&
	test_grep "unix:$TRASH/plain/fota-bus: .*not a directory" err
'

stop_leftovers
test_done
