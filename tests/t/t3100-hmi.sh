#!/bin/sh
# SPDX-License-Identifier: MIT
test_description='fota status/approve/reject/health: the SDO frames on the bus, the sentences and exit statuses, against a scripted node and against fota serve'
. "$(dirname "$0")/lib.sh"

test_lazy_prereq SERVE 'fota serve --help'
test_lazy_prereq PYYAML '"$PYTHON" -c "import yaml"'

# now_ms: monotonic enough for elapsed-time checks
now_ms()
{
	echo $(($(date +%s%N) / 1000000))
}

# wait_members N: until N sockets listen on the bus (unix: or SocketCAN)
wait_members()
{
	wait_until "test \$(bus_members) -ge $1"
}

# fake_node SCRIPT [COBID]: a scripted SDO server in the background (fota-test
# dump --reply: the N-th request gets the second word of line N, "-" none);
# the requests it received are in dump.out.
fake_node()
{
	bg_start dump fota-test dump --reply "$1" -i "${2:-0x627}" "$BUS" &&
	wait_members 1
}

# node_done SCRIPT: stop the fake node; the requests must be the script's.
node_done()
{
	bg_stop dump
	cut -d" " -f1 "$1" >expect.req &&
	test_cmp expect.req dump.out
}

# ---- byte for byte against a scripted node ----

test_expect_success 'approve writes apply_update = 0x01: 627#2FF35F4001000000' '
	echo "627#2FF35F4001000000 5A7#60F35F4000000000" >script &&
	fake_node script &&
	fota approve -b "$BUS" 2>err &&
	node_done script &&
	test_grep "update approved" err
'

test_expect_success 'reject writes apply_update = 0x02' '
	echo "627#2FF35F4002000000 5A7#60F35F4000000000" >script &&
	fake_node script &&
	fota reject -b "$BUS" -q 2>err &&
	node_done script &&
	test_must_be_empty err
'

test_expect_success 'health ok / fail write ecu_health_check = 0x01 / 0x02' '
	cat >script <<-\EOF &&
	627#2FF35F6001000000 5A7#60F35F6000000000
	627#2FF35F6002000000 5A7#60F35F6000000000
	EOF
	fake_node script &&
	fota health ok -b "$BUS" &&
	fota health -b "$BUS" fail &&
	node_done script
'

test_expect_success 'health --timeout reads the UNSIGNED16, --set-timeout writes it as 2B F3 5F 62' '
	cat >script <<-\EOF &&
	627#40F35F6200000000 5A7#4BF35F620A000000
	627#2BF35F6205000000 5A7#60F35F6200000000
	627#2BF35F6200000000 5A7#60F35F6200000000
	627#40F35F6200000000 5A7#4BF35F6200000000
	EOF
	fake_node script &&
	fota health --timeout -b "$BUS" >out1 &&
	fota health --set-timeout 5 -b "$BUS" >out2 2>err2 &&
	fota health --timeout=0 -b "$BUS" 2>err0 &&
	fota health -b "$BUS" --timeout >out3 &&
	node_done script &&
	echo "ecu_health_check_timeout: 10 minutes" >expect &&
	test_cmp expect out1 &&
	test_must_be_empty out2 &&
	test_grep -v deprecated err2 &&
	test_grep "^fota health: warning: --timeout=0 is deprecated: use --set-timeout 0$" err0 &&
	echo "ecu_health_check_timeout: 0 disabled (wait forever)" >expect &&
	test_cmp expect out3
'

cat >status.script <<\EOF
627#40F35F0100000000 5A7#4FF35F0101000000
627#40F35F0200000000 5A7#41F35F0224000000
627#6000000000000000 5A7#0033663262386331
627#7000000000000000 5A7#10652D396134642D
627#6000000000000000 5A7#00346537662D3862
627#7000000000000000 5A7#1032312D30633564
627#6000000000000000 5A7#0036653766386139
627#7000000000000000 5A7#1D30000000000000
627#40F35F0300000000 5A7#43F35F0303000000
627#40F35F0400000000 5A7#43F35F0400F15365
627#40F35F0500000000 5A7#43F35F05E0070000
627#40F35F5000000000 5A7#4FF35F5010000000
627#40F35F5100000000 5A7#4FF35F5164000000
627#40F35F5200000000 5A7#43F35F5264F15365
627#40F35F5300000000 5A7#43F35F5300000000
627#40F35F6200000000 5A7#4BF35F620A000000
EOF

test_expect_success 'status reads every object in sub-index order and decodes it' '
	fake_node status.script &&
	fota status -b "$BUS" >out &&
	node_done status.script &&
	cat >expect <<-\EOF &&
	update_available: 0x01 update available
	update_request_id: 3f2b8c1e-9a4d-4e7f-8b21-0c5d6e7f8a90
	update_attempts_counter: 3
	update_available_time: 1700000000 2023-11-14T22:13:20Z
	ecu_can_id: 0x7E0
	update_status: 0x10 waiting for OEM health verification
	update_progress: 100%
	update_start_time: 1700000100 2023-11-14T22:15:00Z
	update_end_time: 0 never
	ecu_health_check_timeout: 10 minutes
	EOF
	test_cmp expect out
'

test_expect_success PYYAML 'status output is YAML: one mapping, the names as keys' '
	"$PYTHON" -c "import sys, yaml; d = yaml.safe_load(open(\"out\")); \
		assert d[\"update_status\"] == \"0x10 waiting for OEM health verification\", d; \
		assert d[\"update_request_id\"] == \"3f2b8c1e-9a4d-4e7f-8b21-0c5d6e7f8a90\"; \
		assert len(d) == 10"
'

test_expect_success 'status --json: numbers, texts and ISO 8601 times' '
	fake_node status.script &&
	fota status --json -b "$BUS" >out.json &&
	node_done status.script &&
	"$PYTHON" -c "import json; d = json.load(open(\"out.json\")); \
		assert d[\"update_status\"] == 16 and d[\"final\"] is False, d; \
		assert d[\"update_status_text\"] == \"waiting for OEM health verification\"; \
		assert d[\"update_available_time_utc\"] == \"2023-11-14T22:13:20Z\"; \
		assert d[\"update_end_time_utc\"] is None and d[\"ecu_can_id\"] == 0x7E0; \
		assert d[\"node\"] == 0x27 and d[\"ecu_health_check_timeout\"] == 10"
'

test_expect_success '-n 0x10 moves the request to 0x610 and listens on 0x590' '
	echo "610#2FF35F4001000000 590#60F35F4000000000" >script &&
	fake_node script 0x610 &&
	fota approve -n 0x10 -b "$BUS" &&
	node_done script
'

test_expect_success 'a node from the configuration, its SDO timeout and retries' '
	cat >node.yaml <<-EOF &&
	bus: $BUS
	tcu:
	  node_id: 0x11
	  sdo_timeout_ms: 150
	  sdo_retries: 0
	EOF
	cat >script <<-\EOF &&
	611#40F35F0100000000 -
	611#80F35F0100000405 -
	EOF
	fake_node script 0x611 &&
	test_expect_code 4 fota status -c node.yaml 2>err &&
	node_done script &&
	echo "fota status: $BUS: node 0x11: no answer within 150 ms" >expect &&
	test_cmp expect err
'

test_expect_success 'abort 0x08000022 on approve: the TCU state explains it, status 5' '
	cat >script <<-\EOF &&
	627#2FF35F4001000000 5A7#80F35F4022000008
	627#40F35F0100000000 5A7#4FF35F0100000000
	627#40F35F5000000000 5A7#4FF35F5001000000
	EOF
	fake_node script &&
	test_expect_code 5 fota approve -b "$BUS" 2>err &&
	node_done script &&
	echo "fota approve: no update is available to approve: update_status is 0x01 flashing in progress (SDO abort 0x08000022)" >expect &&
	test_cmp expect err
'

test_expect_success 'abort 0x08000022 on health: not waiting for a verdict, status 5, --json result' '
	cat >script <<-\EOF &&
	627#2FF35F6001000000 5A7#80F35F6022000008
	627#40F35F0100000000 5A7#4FF35F0100000000
	627#40F35F5000000000 5A7#4FF35F5001000000
	EOF
	fake_node script &&
	test_expect_code 5 fota health ok --json -b "$BUS" >out.json 2>err &&
	node_done script &&
	echo "fota health: the TCU is not waiting for a health verdict: update_status is 0x01 flashing in progress (SDO abort 0x08000022)" >expect &&
	test_cmp expect err &&
	"$PYTHON" -c "import json; d = json.load(open(\"out.json\")); \
		assert d[\"ok\"] is False and d[\"exit_status\"] == 5, d; \
		assert d[\"abort_code\"] == 0x08000022 and d[\"update_status\"] == 1; \
		assert d[\"object\"] == \"ecu_health_check\" and d[\"value\"] == 1"
'

test_expect_success 'another abort: object, abort name and code, status 1' '
	echo "627#2FF35F4001000000 5A7#80F35F4030000906" >script &&
	fake_node script &&
	test_expect_code 1 fota approve -b "$BUS" 2>err &&
	node_done script &&
	echo "fota approve: node 0x27: writing apply_update (0x5FF3:0x40) refused: invalid value for parameter (SDO abort 0x06090030)" >expect &&
	test_cmp expect err
'

# The SDO timeout for this test: the first attempt's answer is lost, so the
# whole test waits one timeout. The scripted node answers within a millisecond
# on the host; under TCG (tests/vm sets FOTA_VM) give it a second.
LOST_T=300
[ -z "${FOTA_VM:-}" ] || LOST_T=1000
test_expect_success 'a lost answer: the repeat is refused, but the state shows the approval was taken' '
	cat >script <<-\EOF &&
	627#2FF35F4001000000 -
	627#80F35F4000000405 -
	627#2FF35F4001000000 5A7#80F35F4022000008
	627#40F35F0100000000 5A7#4FF35F0100000000
	627#40F35F5000000000 5A7#4FF35F5001000000
	EOF
	fake_node script &&
	fota approve -t $LOST_T -b "$BUS" 2>err &&
	node_done script &&
	test_grep "earlier attempt was lost; update_status 0x01 shows that the TCU took it" err
'

test_expect_success 'answers to another client of the channel are ignored, no abort sent' '
	# approve writes 5FF3:40 while an HMI polls 5FF3:50 and the OEM writes
	# :60: the server answers all of them on 0x5A7, the others first.
	cat >script <<-\EOF &&
	627#2FF35F4001000000 5A7#4FF35F5010000000 5A7#80F35F6022000008 5A7#60F35F4000000000
	EOF
	fake_node script &&
	{ fota approve -b "$BUS" 2>err; rc=$?; } &&
	node_done script &&
	test_grep "update approved" err &&
	test $rc = 0
'

test_expect_success 'a short answer for a UINT16 is a protocol error, status 1' '
	echo "627#40F35F6200000000 5A7#4FF35F6205000000" >script &&
	fake_node script &&
	test_expect_code 1 fota health --timeout -b "$BUS" 2>err &&
	node_done script &&
	test_grep "reading ecu_health_check_timeout \(0x5FF3:0x62\): answer of 1 byte, expected 2" err
'

test_expect_success 'no node: the request, our timeout abort, status 4 after timeout x (retries + 1)' '
	bg_start dump fota-test dump -i 0x627 "$BUS" &&
	wait_members 1 &&
	t0=$(now_ms) &&
	test_expect_code 4 fota approve -b "$BUS" -t 300 --retries 1 2>err &&
	t1=$(now_ms) &&
	bg_stop dump &&
	echo "fota approve: $BUS: node 0x27: no answer within 300 ms (2 attempts)" >expect &&
	test_cmp expect err &&
	cat >expect <<-\EOF &&
	627#2FF35F4001000000
	627#80F35F4000000405
	627#2FF35F4001000000
	627#80F35F4000000405
	EOF
	test_cmp expect dump.out &&
	echo "elapsed $((t1 - t0)) ms" &&
	test $((t1 - t0)) -ge 600 && test $((t1 - t0)) -lt 2000
'

test_expect_success 'no node, default timing: 1000 ms x 3 attempts' '
	bg_start silent fota-test dump "$BUS" &&
	wait_members 1 &&
	t0=$(now_ms) &&
	test_expect_code 4 fota status -b "$BUS" 2>err &&
	t1=$(now_ms) &&
	bg_stop silent &&
	echo "fota status: $BUS: node 0x27: no answer within 1000 ms (3 attempts)" >expect &&
	test_cmp expect err &&
	echo "elapsed $((t1 - t0)) ms" &&
	test $((t1 - t0)) -ge 3000 && test $((t1 - t0)) -lt 4500
'

test_expect_success 'usage errors: status 2, before anything is sent' '
	test_expect_code 2 fota health -b "$BUS" 2>err &&
	test_grep "expected a verdict: ok or fail" err &&
	test_expect_code 2 fota health maybe -b "$BUS" 2>err &&
	test_grep "unknown verdict .maybe." err &&
	test_expect_code 2 fota health ok --set-timeout 5 -b "$BUS" 2>err &&
	test_expect_code 2 fota health --set-timeout 65536 -b "$BUS" 2>err &&
	test_expect_code 2 fota status --wait=busy -b "$BUS" 2>err &&
	test_grep "unknown state .busy." err &&
	test_expect_code 2 fota status --timeout 5 -b "$BUS" 2>err &&
	test_grep "need --wait" err &&
	test_expect_code 2 fota approve -t 0 -b "$BUS" 2>err &&
	test_expect_code 2 fota approve --retries=x -b "$BUS" 2>err &&
	test_expect_code 2 fota approve extra -b "$BUS" 2>err &&
	test_expect_code 2 fota approve 2>err &&
	test_grep "no bus given" err
'

# ---- against fota serve (and fota ecu for whole cycles) ----

# Under TCG (tests/vm sets FOTA_VM) processes run 15-40x slower and the ECU's
# answer to a TransferData can miss P2 = 50 ms: there both sides take 1 s.
VM_TIMING=${FOTA_VM:+'timing: { p2_ms: 1000 }'}
cat >tcu.yaml <<EOF
bus: $BUS
tcu:
  node_id: 0x27
  state_dir: $TRASH/state
ecus:
  - name: hydraulics
    request_id: 0x7E0
    response_id: 0x7E8
    $VM_TIMING
    regions:
      - { start: 0x08000000, size: 0x100000 }
EOF
mkdir -p state

# request ID: drop an update request for the ECU into the inbox (atomically)
request()
{
	mkdir -p state/inbox &&
	cp "$FIXTURES/hex/two-seg.hex" fw.hex &&
	sha=$(sha256sum fw.hex | cut -d" " -f1) &&
	printf "id: %s\necu: hydraulics\nfirmware: %s\nsha256: %s\n" "$1" "$TRASH/fw.hex" "$sha" \
		>state/inbox/.req.tmp &&
	mv state/inbox/.req.tmp "state/inbox/$1.yaml"
}

# Started here, not inside a test (a test body is a subshell): test_done stops them.
if t_have_prereq SERVE; then
	bg_start serve fota serve -c tcu.yaml
	bg_start ecu fota ecu -c tcu.yaml -e hydraulics --level 0 --ready-file ecu.ready
fi

test_expect_success SERVE 'fota serve answers, fota ecu listens' '
	wait_until "test -f ecu.ready" &&
	wait_until "fota status -c tcu.yaml -q -t 200 --retries 0"
'

test_expect_success SERVE 'approve with nothing offered: the sentence and status 5' '
	test_expect_code 5 fota approve -c tcu.yaml 2>err &&
	echo "fota approve: no update is available to approve (SDO abort 0x08000022)" >expect &&
	test_cmp expect err &&
	test_expect_code 5 fota reject -c tcu.yaml 2>err &&
	echo "fota reject: no update is available to reject (SDO abort 0x08000022)" >expect &&
	test_cmp expect err &&
	test_expect_code 5 fota health ok -c tcu.yaml 2>err &&
	echo "fota health: the TCU is not waiting for a health verdict: update_status is 0x00 idle (SDO abort 0x08000022)" >expect &&
	test_cmp expect err
'

test_expect_success SERVE 'status of an idle TCU: every key, YAML and JSON' '
	fota status -c tcu.yaml >out &&
	cut -d: -f1 out >keys &&
	cat >expect <<-\EOF &&
	update_available
	update_request_id
	update_attempts_counter
	update_available_time
	ecu_can_id
	update_status
	update_progress
	update_start_time
	update_end_time
	ecu_health_check_timeout
	EOF
	test_cmp expect keys &&
	test_grep "^update_status: 0x00 idle$" out &&
	test_grep "^update_request_id: \"\"$" out &&
	test_grep "^update_start_time: 0 never$" out &&
	fota status -c tcu.yaml --json >out.json &&
	"$PYTHON" -m json.tool out.json >/dev/null &&
	test_grep "\"update_status_text\": \"idle\"" out.json
'

test_expect_success SERVE 'status -q: the values on stdout all the same, nothing on stderr' '
	fota status -c tcu.yaml -q >out 2>err &&
	test_grep "^update_status: 0x00 idle$" out &&
	test $(wc -l <out) -eq 10 &&
	test_must_be_empty err &&
	fota health --timeout -c tcu.yaml -q >out 2>err &&
	test_grep "^ecu_health_check_timeout: " out &&
	test_must_be_empty err
'

# -v is the same on every command: one line per protocol step (here an SDO
# transfer) on stderr; -vv adds the frames.
test_expect_success SERVE '-v: one line per SDO transfer on stderr (status, approve, reject, health)' '
	fota status -c tcu.yaml -v >out 2>err &&
	test $(grep -Ec "^fota status: $BUS: node 0x27: SDO upload 0x5FF3:0x[0-9A-F]{2} [a-z_]+: [0-9]+ bytes?$" err) -eq 10 &&
	test $(wc -l <err) -eq 10 &&
	test_grep "SDO upload 0x5FF3:0x50 update_status: 1 byte$" err &&
	test_expect_code 5 fota approve -c tcu.yaml -v 2>err &&
	test_grep "^fota approve: $BUS: node 0x27: SDO download 0x5FF3:0x40 apply_update: refused: SDO abort 0x08000022$" err &&
	test_grep "SDO upload 0x5FF3:0x50 update_status: 1 byte$" err &&
	test_expect_code 5 fota reject -c tcu.yaml -v 2>err &&
	test_grep "^fota reject: .*SDO download 0x5FF3:0x40 apply_update: refused" err &&
	test_expect_code 5 fota health ok -c tcu.yaml -v 2>err &&
	test_grep "^fota health: .*SDO download 0x5FF3:0x60 ecu_health_check: refused" err &&
	fota health --timeout -c tcu.yaml -v >out 2>err &&
	test_grep "^fota health: .*SDO upload 0x5FF3:0x62 ecu_health_check_timeout: 2 bytes$" err
'

test_expect_success SERVE '-vv: the frames too, in candump -l format' '
	fota status -c tcu.yaml -vv >out 2>err &&
	test_grep "SDO upload 0x5FF3:0x50 update_status" err &&
	test_grep "^\([0-9]+\.[0-9]{6}\) [a-z0-9]+ 627#40F35F5000000000$" err &&
	test_grep "^\([0-9]+\.[0-9]{6}\) [a-z0-9]+ 5A7#4FF35F50" err
'

test_expect_success SERVE 'health --set-timeout: written, read back, 0 = disabled, restored' '
	fota health --set-timeout 7 -c tcu.yaml 2>err &&
	test_grep "set to 7 minutes" err &&
	fota health --timeout -c tcu.yaml >out &&
	echo "ecu_health_check_timeout: 7 minutes" >expect &&
	test_cmp expect out &&
	fota health --set-timeout 0 -c tcu.yaml &&
	fota health --timeout --json -c tcu.yaml >out.json &&
	test_grep "\"ecu_health_check_timeout\": 0" out.json &&
	fota health --set-timeout 10 -c tcu.yaml &&
	fota status -c tcu.yaml >out &&
	test_grep "^ecu_health_check_timeout: 10 minutes$" out
'

test_expect_success SERVE 'a whole cycle: available, approve, waiting, health ok, status --wait = 0 at 0x40' '
	request 3f2b8c1e-9a4d-4e7f-8b21-0c5d6e7f8a90 &&
	fota status -c tcu.yaml -q --wait=available --interval 50 --timeout 20 &&
	fota approve -c tcu.yaml &&
	fota status -c tcu.yaml --wait=waiting --interval 50 --timeout 20 >out 2>err &&
	test_grep "^update_status: 0x10 waiting for OEM health verification$" out &&
	test_grep "^update_available: 0x00 no update available$" out &&
	fota health ok -c tcu.yaml &&
	fota status -c tcu.yaml --wait --interval 50 --timeout 20 >out &&
	test_grep "^update_status: 0x40 update successful$" out &&
	test_grep "^update_request_id: 3f2b8c1e-9a4d-4e7f-8b21-0c5d6e7f8a90$" out &&
	test_grep "^update_end_time: [0-9]+ [0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}Z$" out
'

test_expect_success SERVE 'approve && status --wait: health fail ends as 0x51, status 1' '
	request 8c0e5b3a-1f2d-4c6b-9a7e-5d4c3b2a1f0e &&
	fota status -c tcu.yaml -q --wait=available --interval 50 --timeout 20 &&
	fota approve -c tcu.yaml &&
	fota status -c tcu.yaml -q --wait=0x10 --interval 50 --timeout 20 &&
	fota health fail -c tcu.yaml &&
	test_expect_code 1 fota status -c tcu.yaml --wait --interval 50 --timeout 20 >out &&
	test_grep "^update_status: 0x51 health verification failed$" out
'

test_expect_success SERVE 'reject: 0x60, status --wait says cancelled (5); --wait=waiting cannot be reached' '
	request 0d1e2f3a-4b5c-4d6e-8f70-8192a3b4c5d6 &&
	fota status -c tcu.yaml -q --wait=available --interval 50 --timeout 20 &&
	fota reject -c tcu.yaml &&
	test_expect_code 5 fota status -c tcu.yaml -q --wait &&
	test_expect_code 5 fota status -c tcu.yaml --wait=waiting >out 2>err &&
	test_grep "ended with update_status 0x60 update cancelled before reaching 0x10" err &&
	test_grep "^update_status: 0x60 update cancelled$" out
'

test_expect_success SERVE 'status --wait --timeout: still waiting for approval, status 4' '
	request 1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d &&
	fota status -c tcu.yaml -q --wait=available --interval 50 --timeout 20 &&
	test_expect_code 4 fota status -c tcu.yaml -q --wait --interval 50 --timeout 1 2>err &&
	test_grep "an update is still waiting for approval after 1 s" err &&
	fota reject -c tcu.yaml
'

test_done
