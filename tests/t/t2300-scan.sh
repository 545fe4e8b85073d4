#!/bin/sh
# SPDX-License-Identifier: MIT
test_description='fota scan: the UDS ECUs and CANopen nodes on $BUS (unix: by default)'
. "$(dirname "$0")/lib.sh"

ST=$TRASH/st

cat >fota.yaml <<EOF2
tcu:
  node_id: 0x27
ecus:
  - name: hydraulics
    request_id: 0x7E0
    response_id: 0x7E8
    regions:
      - { start: 0x08000000, size: 0x10000 }
EOF2

# start_ecu NAME ARGS...: fota ecu in the background until it listens
start_ecu()
{
	s_n=$1
	shift
	rm -f "$TRASH/$s_n.ready"
	daemon "$s_n" fota ecu -b "$BUS" --ready-file "$TRASH/$s_n.ready" "$@"
}

# the JSON without its elapsed_ms (a measured time)
nojtime()
{
	sed 's/, "elapsed_ms": [0-9]*//'
}

test_expect_success 'bad options: usage errors (exit 2), nothing sent' '
	test_expect_code 2 fota scan -b "$BUS" --nodes 0-5 2>err &&
	test_grep "invalid --nodes" err &&
	test_expect_code 2 fota scan -b "$BUS" --nodes 9-3 2>err &&
	test_expect_code 2 fota scan -b "$BUS" --physical 0x7E0 0x7E7 2>err &&
	test_expect_code 2 fota scan -b "$BUS" --physical nonsense 2>err &&
	test_grep "invalid --physical" err &&
	test_expect_code 2 fota scan -b "$BUS" --physical 0x7E7-0x7E0 2>err &&
	test_grep "first <= last" err &&
	test_expect_code 2 fota scan -b "$BUS" --functional-id 0x18DB33F1 2>err &&
	test_grep "29-bit: add --extended" err &&
	test_expect_code 2 fota scan -b "$BUS" --extended --physical 0x7E0-0x7E7 2>err &&
	test_expect_code 2 fota scan -b "$BUS" --uds --nodes 1-3 2>err &&
	test_expect_code 2 fota scan -b "$BUS" --canopen --extended 2>err &&
	test_expect_code 2 fota scan -b "$BUS" --window 0 2>err &&
	test_expect_code 2 fota scan -b "$BUS" --bogus 2>err
'

test_expect_success 'nothing on the bus: exit 0, no table, empty JSON lists' '
	bg_start silent fota-test dump "$BUS" &&
	wait_until "test \$(bus_members) -ge 1" &&
	fota scan -b "$BUS" --window 50 --timeout 20 >out 2>err &&
	test_must_be_empty out &&
	test_grep "nothing answered" err &&
	fota scan -b "$BUS" --window 50 --timeout 20 --json >out &&
	nojtime <out >got &&
	echo "{ \"bus\": \"$BUS\", \"uds\": [ ], \"canopen\": [ ] }" >expect &&
	test_cmp expect got &&
	bg_stop silent
'

test_expect_success 'start two ECUs (one deaf to functional requests) and a TCU' '
	start_ecu e1 --did F190=WVWZZZ1KZAW000001 --did F189=1.2.3 --did "F187=PN 42" &&
	start_ecu e2 --request-id 0x7E3 --response-id 0x7EB --no-functional --did F189=0.9 &&
	daemon serve fota serve -c fota.yaml -b "$BUS" --state-dir "$ST" &&
	wait_until "test -f e1.ready && test -f e2.ready" 10 &&
	wait_until "grep \"node 0x27 on\" serve.err" 10 &&
	test_grep "functional ignored" e2.err
'

test_expect_success 'functional only: the ECU that ignores 0x7DF is not found' '
	fota scan -b "$BUS" >out &&
	cat >expect <<-\EOF2 &&
	KIND     ID         ANSWERED
	uds      0x7E8      vin=WVWZZZ1KZAW000001 sw_version=1.2.3 part_number="PN 42"
	canopen  0x27       device_type=0x00000000 vendor_id=0x00000000 product_code=0x00000000 revision=0x00000000 serial=0x00000000
	EOF2
	test_cmp expect out
'

test_expect_success '--physical finds it; the table and the exact JSON' '
	t0=$(date +%s%N) &&
	fota scan -b "$BUS" --physical 0x7E0-0x7E7 >out &&
	ms=$(elapsed_ms $t0) &&
	echo "# default ranges (1-127, 0x7E0-0x7E7): $ms ms" &&
	cat >expect <<-\EOF2 &&
	KIND     ID         ANSWERED
	uds      0x7E8      vin=WVWZZZ1KZAW000001 sw_version=1.2.3 part_number="PN 42"
	uds      0x7EB      addressing=physical vin=WFOTA000000000001 sw_version=0.9 part_number=FOTA-SIM-0001
	canopen  0x27       device_type=0x00000000 vendor_id=0x00000000 product_code=0x00000000 revision=0x00000000 serial=0x00000000
	EOF2
	test_cmp expect out &&
	{ test -n "$FOTA_VM" || test "$ms" -lt 3000; } &&
	fota scan -b "$BUS" --physical 0x7E0-0x7E7 --json >out &&
	t=$(sed -n "s/.*\"elapsed_ms\": \([0-9]*\) }$/\1/p" out) &&
	test "$t" -le 2000 &&
	nojtime <out >got &&
	cat >expect <<-EOF2 &&
	{ "bus": "$BUS", "uds": [ { "request_id": 2016, "response_id": 2024, "extended": false, "functional": true, "tester_present_nrc": null, "vin": "WVWZZZ1KZAW000001", "sw_version": "1.2.3", "part_number": "PN 42", "errors": { } }, { "request_id": 2019, "response_id": 2027, "extended": false, "functional": false, "tester_present_nrc": null, "vin": "WFOTA000000000001", "sw_version": "0.9", "part_number": "FOTA-SIM-0001", "errors": { } } ], "canopen": [ { "node": 39, "sdo": true, "device_type": 0, "vendor_id": 0, "product_code": 0, "revision": 0, "serial": 0, "bootup": false, "heartbeat_state": null, "heartbeat": null, "errors": { } } ] }
	EOF2
	test_cmp expect got
'

test_expect_success '--uds and --canopen --nodes: one part only' '
	fota scan -b "$BUS" --uds --json >out &&
	nojtime <out >got &&
	test_grep "\"uds\": \[ { \"request_id\": 2016" got &&
	! grep canopen got &&
	fota scan -b "$BUS" --canopen --nodes 0x20-0x30 --json >out &&
	nojtime <out >got &&
	test_grep "\"canopen\": \[ { \"node\": 39" got &&
	! grep "\"uds\"" got &&
	fota scan -b "$BUS" --canopen --nodes 1-0x26 --json >out &&
	nojtime <out >got &&
	echo "{ \"bus\": \"$BUS\", \"canopen\": [ ] }" >expect &&
	test_cmp expect got
'

test_expect_success '29-bit normal fixed: 0x18DB33F1 and answers on 0x18DAF1xx' '
	start_ecu e3 --request-id 0x18DA10F1 --response-id 0x18DAF110 --did F190=VIN29BIT000000007 &&
	wait_until "test -f e3.ready" 10 &&
	fota scan -b "$BUS" --uds --extended >out &&
	cat >expect <<-\EOF2 &&
	KIND     ID         ANSWERED
	uds      0x18DAF110 vin=VIN29BIT000000007 sw_version=- part_number=FOTA-SIM-0001
	EOF2
	test_cmp expect out &&
	fota scan -b "$BUS" --uds --extended --json >out &&
	nojtime <out >got &&
	cat >expect <<-EOF2 &&
	{ "bus": "$BUS", "uds": [ { "request_id": 416944369, "response_id": 417001744, "extended": true, "functional": true, "tester_present_nrc": null, "vin": "VIN29BIT000000007", "sw_version": null, "part_number": "FOTA-SIM-0001", "errors": { "sw_version": "NRC 0x31 requestOutOfRange" } } ] }
	EOF2
	test_cmp expect got
'

test_done
