#!/bin/sh
# SPDX-License-Identifier: MIT
test_description='fota flash keeps the session open: cyclic TesterPresent, --wait-ecu, switch frame'
. "$(dirname "$0")/lib.sh"

busdir=${BUS#unix:}
case $BUS in
unix:* | mem:*) ;;
*) [ -e "/sys/class/net/$BUS" ] && command -v candump >/dev/null && test_set_prereq VCAN ;;
esac

members()
{
	bus_members
}

stop_leftovers()
{
	for p in $(cat "$TRASH/ecu.pids" 2>/dev/null); do
		kill "$p" 2>/dev/null
	done
	: >"$TRASH/ecu.pids"
	wait_until "test \$(members) -eq 0" 5 2>/dev/null
	return 0
}

# Under TCG (tests/vm) a 4 KiB TransferData may miss P2 = 50 ms: 1 s there.
SLOW_P2=${FOTA_VM:+--p2 1000}

start_ecu()
{
	n=$1
	shift
	stop_leftovers
	rm -f "$n.ready"
	bg_start "$n" fota ecu -b "$BUS" --ready-file "$n.ready" $SLOW_P2 "$@" &&
	bg_pid "$n" >>"$TRASH/ecu.pids" &&
	wait_until "test -f $n.ready"
}

# The ECU of the issue: S3 (1 s here, 5 s there) restarted only by 0x10 and
# 0x3E, and a flow control (BS 16, STmin 3 ms) that makes one 4095-byte
# TransferData take longer than S3.
STRICT="--s3 1000 --s3-restart session --fc-block-size 16 --fc-stmin 3"

test_expect_success 'setup: an 8 KiB image, a configuration with a 300 ms period' '
	mkdir -p "$busdir" 2>/dev/null; : &&
	gen_hex 8192 7 >fw.hex &&
	fota hexinfo --bin want.bin --fill 0xFF --range 0x08000000-0x080fffff fw.hex >/dev/null &&
	cat >fota.yaml <<-EOF
	bus: $BUS
	ecus:
	  - name: strict
	    request_id: 0x7E0
	    response_id: 0x7E8
	    security: { level: 0x01, key: "xor:A5A5A5A5" }
	    regions: [ { start: 0x08000000, size: 0x100000 } ]
	    timing: { s3_ms: 1000, tester_present_ms: 300 }
	  - name: switched
	    request_id: 0x7E1
	    response_id: 0x7E9
	    bootloader_switch: { id: 0x701, data: "01", delay_ms: 50 }
	    security: { level: 0x01, key: "xor:A5A5A5A5" }
	    regions: [ { start: 0x08000000, size: 0x100000 } ]
	EOF
'

test_expect_success 'functional (default): a download of more than 3 x S3 passes' '
	rm -f ecu.bin &&
	start_ecu ecu --memory ecu.bin $STRICT &&
	t0=$(date +%s%N) &&
	fota flash -c fota.yaml -e strict --trace trace.log fw.hex 2>err &&
	ms=$(elapsed_ms $t0) &&
	bg_stop ecu &&
	cmp want.bin ecu.bin &&
	echo "flash took $ms ms" >&2 &&
	test $ms -ge 3000
'

test_expect_success 'functional: 3E 80 single frames on 0x7DF every period, also mid-transfer' '
	grep " 7DF#" trace.log >tp.log &&
	! grep -v " 7DF#023E80CCCCCCCCCC$" tp.log &&
	n=$(wc -l <tp.log) &&
	echo "$n TesterPresent frames" >&2 &&
	test $n -ge 10 &&
	# at least one between two consecutive frames of one TransferData
	awk "/ 7E0#2/ { cf = 1; next } / 7DF#/ { if (cf) hit = 1; next } { cf = 0 } END { exit !hit }" trace.log &&
	# none on the physical id
	! grep " 7E0#023E80" trace.log
'

test_expect_success 'idle: the same ECU leaves the session mid-download (exit 1, NRC named)' '
	rm -f ecu.bin &&
	start_ecu ecu --memory ecu.bin $STRICT &&
	test_expect_code 1 fota flash -c fota.yaml -e strict --tester-present idle \
		--trace trace-idle.log fw.hex 2>err &&
	bg_stop ecu &&
	cat err >&2 &&
	test_grep "(TransferData|RequestTransferExit|RequestDownload) refused: serviceNotSupportedInActiveSession \(NRC 0x7F\)" err &&
	! grep -q " 7DF#" trace-idle.log
'

test_expect_success 'off: no TesterPresent at all, and the same failure' '
	start_ecu ecu $STRICT &&
	test_expect_code 1 fota flash -c fota.yaml -e strict --tester-present off \
		--trace trace-off.log fw.hex 2>err &&
	bg_stop ecu &&
	test_grep "NRC 0x7F" err &&
	! grep -q "#023E" trace-off.log
'

# The same ECU with 1 KiB TransferData blocks: each request is shorter than
# S3, the whole download is not.
SHORT="$STRICT --block-length 1026"

test_expect_success 'physical: 3E 80 between requests on 0x7E0 keeps it in session when requests are short' '
	rm -f ecu.bin &&
	start_ecu ecu --memory ecu.bin $SHORT &&
	fota flash -c fota.yaml -e strict --tester-present physical --trace trace-phys.log \
		fw.hex 2>err || { cat err >&2; return 1; }
	bg_stop ecu &&
	cmp want.bin ecu.bin &&
	grep -q " 7E0#023E80CCCCCCCCCC$" trace-phys.log &&
	! grep -q " 7DF#" trace-phys.log
'

test_expect_success 'idle fails against it' '
	start_ecu ecu $SHORT &&
	test_expect_code 1 fota flash -c fota.yaml -e strict --tester-present idle fw.hex 2>err &&
	bg_stop ecu &&
	test_grep "NRC 0x7F" err
'

test_expect_success 'an ISO 14229-2 ECU (S3 on every request, held during reception) needs no help' '
	rm -f ecu.bin &&
	start_ecu ecu --memory ecu.bin --s3 1000 --fc-block-size 16 --fc-stmin 3 &&
	fota flash -c fota.yaml -e strict --tester-present off fw.hex 2>err &&
	bg_stop ecu &&
	cmp want.bin ecu.bin
'

test_expect_success '--tester-present and --functional-id: bad values are usage errors' '
	test_expect_code 2 fota flash -c fota.yaml -e strict --tester-present sometimes fw.hex 2>err &&
	test_grep "invalid --tester-present .sometimes. \(functional, physical, idle or off\)" err &&
	test_expect_code 2 fota flash -c fota.yaml -e strict --functional-id 0x18DB33F1 fw.hex 2>err &&
	test_grep "functional-id: ecu .strict. uses 11-bit ids" err &&
	test_expect_code 2 fota flash -c fota.yaml -e strict --functional-id 0x7E8 fw.hex 2>err &&
	test_grep "functional id 0x7E8 equals the request or response id" err
'

test_expect_success '--functional-id: the frames go there' '
	start_ecu ecu $STRICT --functional-id 0x7DE &&
	fota flash -c fota.yaml -e strict --functional-id 0x7DE --trace trace-7de.log \
		fw.hex 2>err &&
	bg_stop ecu &&
	grep -q " 7DE#023E80" trace-7de.log &&
	! grep -q " 7DF#" trace-7de.log
'

test_expect_success '--wait-ecu: an ECU that starts late is waited for' '
	stop_leftovers &&
	rm -f ecu.bin late.ready &&
	( sleep 1 && exec fota ecu -b "$BUS" --ready-file late.ready --memory ecu.bin $SLOW_P2 ) \
		2>late.err &
	late=$! &&
	echo $late >>"$TRASH/ecu.pids" &&
	fota flash -b "$BUS" --request-id 0x7E0 --response-id 0x7E8 --key xor:A5A5A5A5 \
		--wait-ecu 20 fw.hex 2>err &&
	kill $late && wait $late;
	cmp want.bin ecu.bin
'

test_expect_success '--wait-ecu: nobody answers: exit 4, how long and how many tries' '
	stop_leftovers &&
	test_expect_code 4 fota flash -b "$BUS" --request-id 0x7E0 --response-id 0x7E8 \
		--no-security --wait-ecu 1 fw.hex 2>err &&
	test_grep "ProgrammingSession: no response in 1\.[0-9] s \([0-9]+ tries\)" err &&
	bg_start silent fota-test dump "$BUS" &&
	wait_until "test \$(members) -ge 1" &&
	test_expect_code 4 fota flash -b "$BUS" --request-id 0x7E0 --response-id 0x7E8 \
		--no-security fw.hex 2>err &&
	bg_stop silent &&
	test_grep "ProgrammingSession: no response \(timeout\)" err
'

test_expect_success 'bootloader switch: sent by default with -e; NRC 0x22 without it says so' '
	rm -f ecu.bin &&
	start_ecu ecu -c fota.yaml -e switched --memory ecu.bin &&
	test_expect_code 5 fota flash -c fota.yaml -e switched --no-bootloader-switch \
		fw.hex 2>err &&
	test_grep "ProgrammingSession refused: conditionsNotCorrect \(NRC 0x22\); no bootloader switch frame was sent$" err &&
	fota flash -c fota.yaml -e switched --trace trace-sw.log fw.hex 2>err &&
	bg_stop ecu &&
	cmp want.bin ecu.bin &&
	head -1 trace-sw.log | grep -q " 701#01$" &&
	test_expect_code 2 fota flash -c fota.yaml -e switched --bootloader-switch \
		--no-bootloader-switch fw.hex 2>err
'

test_expect_success 'no switch configured: the hint says so' '
	start_ecu ecu --bootloader-switch 701#01 &&
	test_expect_code 5 fota flash -b "$BUS" --request-id 0x7E0 --response-id 0x7E8 \
		--key xor:A5A5A5A5 fw.hex 2>err &&
	bg_stop ecu &&
	test_grep "\(NRC 0x22\); no bootloader switch frame was sent \(none configured: bootloader_switch\)$" err
'

test_expect_success VCAN '--isotp kernel: CAN_BCM sends 3E 80 on 0x7DF all through the download' '
	rm -f ecu.bin &&
	start_ecu ecu --memory ecu.bin $STRICT || return 1
	fota-test dump -i 0x7DF -n 8 -t 30000 "$BUS" >bcm.log &
	dump=$!
	wait_until "test \$(members) -ge 2" &&
	fota flash -q -c fota.yaml -e strict --isotp kernel fw.hex 2>err ||
		{ cat err >&2; kill $dump; return 1; }
	wait $dump &&
	bg_stop ecu &&
	cmp want.bin ecu.bin &&
	test_must_be_empty err &&
	printf "7DF#023E80CCCCCCCCCC\n%.0s" 1 2 3 4 5 6 7 8 >want.tp &&
	test_cmp want.tp bcm.log
'

test_expect_success VCAN '--isotp kernel --tester-present idle: the same failure as in user space' '
	start_ecu ecu $STRICT &&
	test_expect_code 1 fota flash -c fota.yaml -e strict --isotp kernel --tester-present idle \
		fw.hex 2>err &&
	bg_stop ecu &&
	test_grep "NRC 0x7F" err
'

test_expect_success '--dry-run shows the keep-alive and the switch frame it will send' '
	fota flash --dry-run -c fota.yaml -e strict fw.hex >plan &&
	test_grep "^  keep-alive          3E 80 every 300 ms on 0x7DF \(functional\)$" plan &&
	fota flash --dry-run -c fota.yaml -e strict --tester-present physical fw.hex >plan &&
	test_grep "^  keep-alive          3E 80 every 300 ms between requests \(physical\)$" plan &&
	fota flash --dry-run -c fota.yaml -e switched fw.hex >plan &&
	test_grep "^  bootloader switch   701#01, then wait 50 ms$" plan &&
	fota flash --dry-run -c fota.yaml -e switched --no-bootloader-switch fw.hex >plan &&
	! grep -q "bootloader switch" plan
'

stop_leftovers
test_done
