#!/bin/sh
# SPDX-License-Identifier: MIT
test_description='fota serve: the TCU end to end with fota ecu on $BUS (unix: by default)'
. "$(dirname "$0")/lib.sh"

ST=$TRASH/st

# Under TCG (tests/vm sets FOTA_VM) processes run 15-40x slower and the ECU's
# answer to a TransferData can miss P2 = 50 ms: there both sides take 1 s from
# the configuration (the ECU announces it, the TCU waits that long).
VM_TIMING=${FOTA_VM:+'timing: { p2_ms: 1000 }'}

# A config of our own: short bootloader delay, a 64 KiB region.
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
    $VM_TIMING
    regions:
      - { start: 0x08000000, size: 0x10000 }
EOF

# sdo FRAMEDATA: send 627#FRAMEDATA, print the one answer on 0x5A7; 1 if
# none came within 3 s. One process that listens before it sends: no wait for
# a listener (under TCG each process start costs 30-100 ms).
sdo()
{
	fota-test dump -n 1 -t 3000 -i 0x5A7 "$BUS" "627#$1"
}

# rd SUB: the value of 0x5FF3:SUB (a number), decimal
rd()
{
	t_r=$(sdo "40F35F${1}00000000")
	t_d=${t_r#*#}
	case "$t_d" in 4[3-F]F35F*) ;; *) echo "rd $1: '$t_r'" >&2; return 1 ;; esac
	# bytes 4..7 of the answer, little-endian (CiA 301 expedited upload)
	t_v=${t_d#????????}
	t_b0=${t_v%??????} t_v=${t_v#??}
	t_b1=${t_v%????} t_v=${t_v#??}
	t_b2=${t_v%??} t_b3=${t_v#??}
	printf '%d\n' "0x$t_b3$t_b2$t_b1$t_b0"
}

# Daemons outlive the test (subshell) that starts them: pid files, not bg_start.
trap 'for f in "$TRASH"/*.pid; do [ -f "$f" ] && kill "$(cat "$f")" 2>/dev/null; done
	t_cleanup; [ -n "$FOTA_TEST_KEEP" ] || rm -rf "$TRASH"' EXIT

daemon() # daemon NAME cmd...
{
	t_name=$1
	shift
	"$@" >"$TRASH/$t_name.out" 2>>"$TRASH/$t_name.err" &
	echo $! >"$TRASH/$t_name.pid"
}

# stop NAME [SIGNAL]: signal it, wait until it is gone
stop()
{
	t_p=$(cat "$TRASH/$1.pid") || return 1
	kill -"${2:-TERM}" "$t_p" 2>/dev/null
	rm -f "$TRASH/$1.pid"
	wait_until "! kill -0 $t_p" 10
}

start_serve()
{
	: >serve.err &&
	daemon serve env FOTA_TIME_SCALE=${SCALE:-1} fota serve -c fota.yaml -b "$BUS" \
		--state-dir "$ST" "$@" &&
	wait_until 'grep "node 0x27 on" serve.err' 10
}

start_ecu()
{
	rm -f ecu.ready &&
	daemon ecu fota ecu -c fota.yaml -e hydraulics -b "$BUS" --memory mem.bin \
		--ready-file ecu.ready "$@" &&
	wait_until 'test -f ecu.ready' 10
}

# mkreq ID [SHA256]: drop a request for fw.hex into the inbox (atomically)
mkreq()
{
	t_sha=${2:-$(sha256sum fw.hex | cut -d" " -f1)}
	printf "id: %s\necu: hydraulics\nfirmware: %s\nsha256: %s\n" "$1" "$TRASH/fw.hex" \
		"$t_sha" >req.tmp &&
	mv req.tmp "$ST/inbox/$1.yaml"
}

uuid()
{
	printf '1b4e28ba-2fa1-41d2-883f-%012d' "$1"
}

wait_status()
{
	wait_until "test \"\$(rd 50)\" = $1" "${2:-15}"
}

test_expect_success 'setup: firmware image and simulated ECU' '
	gen_hex 8192 7 >fw.hex &&
	fota hexinfo --bin=fw.bin --range=0x08000000-0x0800ffff fw.hex &&
	start_ecu
'

test_expect_success 'boot-up message 0x727#00 at start' '
	n=$(bus_members)
	fota-test dump -n 1 -t 5000 -i 0x727 "$BUS" >boot.out &
	d=$!
	wait_until "test \$(bus_members) -gt $n" 5 &&
	start_serve &&
	wait $d &&
	echo "727#00" >expect &&
	test_cmp expect boot.out
'

test_expect_success 'apply_update with no update: abort 0x08000022, byte for byte' '
	sdo 2FF35F4001000000 >out &&
	echo "5A7#80F35F4022000008" >expect &&
	test_cmp expect out &&
	sdo 2FF35F6001000000 >out &&
	echo "5A7#80F35F6022000008" >expect &&
	test_cmp expect out
'

test_expect_success 'tampered firmware is never offered; its report says failed' '
	mkreq $(uuid 99) 0000000000000000000000000000000000000000000000000000000000000000 &&
	wait_until "test -f $ST/done/$(uuid 99).yaml" &&
	test "$(rd 01)" = 0 && test "$(rd 03)" = 0 &&
	r=$ST/outbox/$(uuid 99).json &&
	test_grep "\"status\": \"failed\"" $r &&
	test_grep "\"reason\": \".*sha256 mismatch" $r &&
	test_grep "\"update_status\": null" $r &&
	test_grep "sha256 mismatch" serve.err
'

test_expect_success 'the six frames of the specification example workflow' '
	mkreq $(uuid 1) &&
	wait_until "test \"\$(rd 01)\" = 1" &&
	sdo 40F35F0100000000 >out && echo "5A7#4FF35F0101000000" >expect && test_cmp expect out &&
	sdo 40F35F0300000000 >out && echo "5A7#43F35F0301000000" >expect && test_cmp expect out &&
	sdo 2FF35F4001000000 >out && echo "5A7#60F35F4000000000" >expect && test_cmp expect out &&
	wait_until "sdo 40F35F5000000000 | grep -x 5A7#4FF35F5010000000" 20 &&
	sdo 2FF35F6001000000 >out && echo "5A7#60F35F6000000000" >expect && test_cmp expect out &&
	sdo 40F35F5000000000 >out && echo "5A7#4FF35F5040000000" >expect && test_cmp expect out
'

test_expect_success 'after success: the ECU memory holds the image, the report is complete' '
	cmp mem.bin fw.bin &&
	test "$(rd 51)" = 100 &&
	r=$ST/outbox/$(uuid 1).json &&
	for k in id request_file ecu firmware sha256 image_bytes status reason update_status \
		update_status_text attempts received_time update_available_time \
		update_start_time update_end_time update_progress log; do
		test_grep "^  \"$k\": " $r || return 1
	done &&
	test_grep "\"status\": \"successful\"" $r &&
	test_grep "\"update_status\": 64" $r &&
	test_grep "\"image_bytes\": 8192" $r &&
	test_grep "\"step\": \"RequestDownload\"" $r &&
	test_grep "\"event\": \"health_ok\"" $r &&
	test -f $ST/done/$(uuid 1).yaml &&
	test_grep "update $(uuid 1): offered \(ecu hydraulics, 8192 bytes\)" serve.err &&
	test_grep "update $(uuid 1): approved" serve.err &&
	test_grep "ECU flashed, waiting for OEM health verification \(timeout 10 min\)" serve.err
'

test_expect_success 'a final state refuses apply_update and ecu_health_check (0x08000022)' '
	sdo 2FF35F4002000000 >out && echo "5A7#80F35F4022000008" >expect && test_cmp expect out &&
	sdo 2FF35F6002000000 >out && echo "5A7#80F35F6022000008" >expect && test_cmp expect out &&
	sdo 2FF35F4000000000 >out && echo "5A7#60F35F4000000000" >expect && test_cmp expect out
'

test_expect_success 'reject while offered: 0x60, counter 2, report cancelled' '
	mkreq $(uuid 2) &&
	wait_until "test \"\$(rd 01)\" = 1" &&
	test "$(rd 50)" = 64 &&
	test "$(rd 03)" = 2 &&
	sdo 2FF35F4002000000 >out && echo "5A7#60F35F4000000000" >expect && test_cmp expect out &&
	test "$(rd 50)" = 96 && test "$(rd 01)" = 0 &&
	test_grep "\"status\": \"cancelled\"" $ST/outbox/$(uuid 2).json
'

test_expect_success 'remote cancel: removing the offered request gives 0x60' '
	mkreq $(uuid 3) &&
	wait_until "test \"\$(rd 01)\" = 1" &&
	rm $ST/inbox/$(uuid 3).yaml &&
	wait_status 96 &&
	wait_until "grep -q \"cancelled remotely\" $ST/outbox/$(uuid 3).json"
'

test_expect_success 'health fail: 0x51' '
	mkreq $(uuid 4) &&
	wait_until "test \"\$(rd 01)\" = 1" &&
	sdo 2FF35F4001000000 >/dev/null &&
	wait_status 16 &&
	sdo 2FF35F6002000000 >out && echo "5A7#60F35F6000000000" >expect && test_cmp expect out &&
	test "$(rd 50)" = 81 &&
	test_grep "\"status\": \"failed\"" $ST/outbox/$(uuid 4).json
'

test_expect_success 'flashing failure from an injected NRC: 0x50 with the NRC by name' '
	stop ecu && start_ecu --fail=RequestDownload:1=0x70 &&
	mkreq $(uuid 5) &&
	wait_until "test \"\$(rd 01)\" = 1" &&
	sdo 2FF35F4001000000 >/dev/null &&
	wait_status 80 &&
	r=$ST/outbox/$(uuid 5).json &&
	test_grep "\"status\": \"failed\"" $r &&
	test_grep "\"nrc_name\": \"uploadDownloadNotAccepted\"" $r &&
	test_grep "RequestDownload refused: uploadDownloadNotAccepted \(NRC 0x70\): flashing failed \(0x50\)" serve.err
'

test_expect_success 'then a new request succeeds on the same ECU (counter one more)' '
	before=$(rd 03) &&
	mkreq $(uuid 6) &&
	wait_until "test \"\$(rd 01)\" = 1" &&
	test "$(rd 03)" = $((before + 1)) &&
	fota approve -b "$BUS" &&
	wait_status 16 &&
	fota health ok -b "$BUS" &&
	test "$(rd 50)" = 64 &&
	fota status -b "$BUS" --json >st.json &&
	test_grep "\"update_request_id\": \"$(uuid 6)\"" st.json
'

# mkreq_expect ID YAML: a request with `expect: YAML`
mkreq_expect()
{
	t_sha=$(sha256sum fw.hex | cut -d" " -f1)
	printf "id: %s\necu: hydraulics\nfirmware: %s\nsha256: %s\nexpect: %s\n" "$1" \
		"$TRASH/fw.hex" "$t_sha" "$2" >req.tmp &&
	mv req.tmp "$ST/inbox/$1.yaml"
}

test_expect_success 'expect: a mismatch after the reset is flashing failed (0x50), DIDs in the report' '
	stop ecu && start_ecu --did F189=2.1.0 &&
	mkreq_expect $(uuid 20) "{ F189: \"2.2.0\" }" &&
	wait_until "test \"\$(rd 01)\" = 1" &&
	sdo 2FF35F4001000000 >/dev/null &&
	wait_status 80 &&
	r=$ST/outbox/$(uuid 20).json &&
	test_grep "\"reason\": \"ECU reports F189 = 2.1.0, expected 2.2.0\"" $r &&
	"$PYTHON" -c "
import json
r = json.load(open(\"$r\"))
assert r[\"status\"] == \"failed\", r[\"status\"]
assert r[\"identify\"] == [{\"did\": \"F189\", \"name\": \"vehicleManufacturerECUSoftwareVersionNumber\",
                          \"before\": \"2.1.0\", \"after\": \"2.1.0\"}], r[\"identify\"]
" &&
	test_grep "ECU reports F189 = 2.1.0, expected 2.2.0: flashing failed \(0x50\)" serve.err
'

test_expect_success 'expect: the value reported: the update goes on to verification' '
	mkreq_expect $(uuid 21) "{ 0xF189: \"2.1.0\" }" &&
	wait_until "test \"\$(rd 01)\" = 1" &&
	sdo 2FF35F4001000000 >/dev/null &&
	wait_status 16 &&
	fota health ok -b "$BUS" &&
	test "$(rd 50)" = 64 &&
	test_grep "\"after\": \"2.1.0\"" $ST/outbox/$(uuid 21).json
'

test_expect_success 'kill -9 while offered: still offered after restart, counter unchanged' '
	mkreq $(uuid 7) &&
	wait_until "test \"\$(rd 01)\" = 1" &&
	n=$(rd 03) &&
	stop serve KILL && start_serve &&
	test "$(rd 01)" = 1 && test "$(rd 03)" = $n &&
	sdo 40F35F0200000000 >out && test_grep "^5A7#41F35F0224000000" out &&
	test_grep "still offered" serve.err
'

test_expect_success 'kill -9 while waiting for verification: deadline kept, health ok works' '
	sdo 2FF35F4001000000 >/dev/null &&
	wait_status 16 &&
	start=$(rd 52) &&
	stop serve KILL && start_serve &&
	test "$(rd 50)" = 16 && test "$(rd 52)" = $start &&
	sdo 2FF35F6001000000 >/dev/null &&
	test "$(rd 50)" = 64
'

test_expect_success 'kill -9 in a final state: objects read back' '
	for s in 01 03 04 05 50 52 53 62; do echo "$s $(rd $s)"; done >before &&
	stop serve KILL && start_serve &&
	for s in 01 03 04 05 50 52 53 62; do echo "$s $(rd $s)"; done >after &&
	test_cmp before after
'

# 128 blocks, each answered 20 ms late: the flash outlasts the reads that watch it.
test_expect_success 'kill -9 during flashing: 0x50 after restart, report updated' '
	stop ecu && start_ecu --block-length=66 --delay=20 &&
	mkreq $(uuid 8) &&
	wait_until "test \"\$(rd 01)\" = 1" &&
	sdo 2FF35F4001000000 >/dev/null &&
	wait_until "test \"\$(rd 51)\" -gt 0" 10 &&
	s=$(rd 50) && echo "update_status $s while flashing" && test "$s" = 1 &&
	stop serve KILL && start_serve &&
	s=$(rd 50) && echo "update_status $s after restart" && test "$s" = 80 &&
	r=$ST/outbox/$(uuid 8).json &&
	test_grep "\"status\": \"failed\"" $r &&
	test_grep "TCU restarted during flashing" $r
'

test_expect_success 'health timeout (FOTA_TIME_SCALE=60, 0x62 = 1 min): 0x52' '
	stop ecu && start_ecu && stop serve && SCALE=60 && start_serve &&
	sdo 2BF35F6201000000 >out && echo "5A7#60F35F6200000000" >expect && test_cmp expect out &&
	test "$(rd 62)" = 1 &&
	mkreq $(uuid 9) &&
	wait_until "test \"\$(rd 01)\" = 1" &&
	sdo 2FF35F4001000000 >/dev/null &&
	wait_status 82 20 &&
	r=$ST/outbox/$(uuid 9).json &&
	test_grep "\"event\": \"flashed\"" $r &&
	test_grep "\"event\": \"health_timeout\"" $r
'

test_expect_success 'NMT: a stopped node answers no SDO; reset node sends boot-up again' '
	test_expect_code 1 fota-test dump -n 1 -t 1500 -i 0x5A7 "$BUS" \
		000#0227 627#40F35F5000000000 >nmt.out &&
	test_must_be_empty nmt.out &&
	fota-test dump -n 1 -t 3000 -i 0x727 "$BUS" 000#8100 >nmt.out &&
	echo "727#00" >expect && test_cmp expect nmt.out &&
	test "$(rd 50)" = 82 &&
	test "$(rd 01)" = 0
'

# bg_end: a failure here must not leave serve holding the state directory's
# lock for the next test
test_expect_success 'SIGTERM: exit 0 with the state saved' '
	stop serve &&
	bg_start serve fota serve -c fota.yaml -b "$BUS" --state-dir "$ST" &&
	test_when_finished "bg_end serve" &&
	wait_until "grep \"node 0x27 on\" serve.err" 10 &&
	test "$(rd 50)" = 82 &&
	bg_stop serve &&
	test_grep "^update_status=0x52" $ST/state &&
	test_grep "^ecu_health_check_timeout=1$" $ST/state
'

# The start-up probe listens 500 ms for another node with our ID. A loaded
# machine can wake serve late at its end: here SIGSTOP for a second once the
# probe's request (627#40 00 10 00, sent as the probe starts) is on the bus.
# serve must still come up (it once exited with status 4 and no message).
test_expect_success 'a start-up probe woken late still ends in the boot-up' '
	n=$(bus_members) &&
	bg_start probe fota-test dump -n 1 -t 10000 -i 0x627 "$BUS" &&
	test_when_finished "bg_end probe" &&
	wait_until "test \$(bus_members) -gt $n" 5 &&
	bg_start serve fota serve -c fota.yaml -b "$BUS" --state-dir "$ST" &&
	test_when_finished "bg_end serve" &&
	wait_until "test -s probe.out" 10 &&
	kill -STOP $(bg_pid serve) &&
	sleep 1 &&
	kill -CONT $(bg_pid serve) &&
	echo "627#4000100000000000" >expect &&
	test_cmp expect probe.out &&
	wait_until "grep \"node 0x27 on\" serve.err" 10 &&
	test "$(rd 50)" = 82 &&
	bg_stop serve
'

test_expect_success 'a bad configuration: file:line:col, exit 3; no bus: exit 4' '
	printf "tcu:\n  node_id: 300\n" >bad.yaml &&
	test_expect_code 3 fota serve -c bad.yaml -b "$BUS" --state-dir "$ST" 2>err &&
	test_grep "bad.yaml:2:12: " err &&
	test_expect_code 4 fota serve -c fota.yaml -b fotanone0 --state-dir "$ST" 2>err
'

test_done
