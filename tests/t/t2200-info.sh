#!/bin/sh
# SPDX-License-Identifier: MIT
test_description='fota info: identification DIDs from fota ecu, byte for byte on $BUS'
. "$(dirname "$0")/lib.sh"

busdir=${BUS#unix:}
IDS="--request-id 0x7E0 --response-id 0x7E8"

# Under TCG (tests/vm) the ECU may miss P2 = 50 ms; it then announces more,
# but fota info changes no session: give its P2 from a configuration.
if [ -n "$FOTA_VM" ]; then
	cat >slow.yaml <<-EOF
	ecus:
	  - name: sim
	    request_id: 0x7E0
	    response_id: 0x7E8
	    regions:
	      - { start: 0x08000000, size: 0x100000 }
	    timing:
	      p2_ms: 2000
	EOF
	IDS="-c slow.yaml -e sim"
fi

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

# start_ecu NAME ARGS...: fota ecu in the background until it listens.
start_ecu()
{
	n=$1
	shift
	stop_leftovers
	rm -f "$n.ready"
	bg_start "$n" fota ecu -b "$BUS" --ready-file "$n.ready" ${FOTA_VM:+--p2 1000} "$@" &&
	bg_pid "$n" >>"$TRASH/ecu.pids" &&
	wait_until "test -f $n.ready"
}

# The tester's frames (0x7E0) and the ECU's (0x7E8) of a trace, without time and interface.
frames()
{
	sed 's/^([0-9.]*) [^ ]* //' "$1"
}

test_expect_success 'setup' '
	mkdir -p "$busdir" 2>/dev/null; :
'

test_expect_success 'default identification DIDs: text, hex, not supported; one request' '
	start_ecu ecu --did F189=2.1.0 --did F18B=hex:20261203 &&
	fota info -b "$BUS" $IDS --trace t.log >out 2>err &&
	bg_stop ecu &&
	test_must_be_empty err &&
	test $(wc -l <out) -eq 13 &&
	test_grep "^F187  vehicleManufacturerSparePartNumber  *FOTA-SIM-0001$" out &&
	test_grep "^F188  vehicleManufacturerECUSoftwareNumber  *\(not supported\)$" out &&
	test_grep "^F189  vehicleManufacturerECUSoftwareVersionNumber  *2.1.0$" out &&
	test_grep "^F18B  ECUManufacturingDate  *hex:20261203$" out &&
	test_grep "^F190  VIN  *WFOTA000000000001$" out &&
	test_grep "^F197  systemNameOrEngineType  *\(not supported\)$" out &&
	frames t.log >f &&
	test $(grep -c "^7E0#1" f) -eq 1 &&
	test_grep "^7E0#101B22F187F188F1$" f
'

test_expect_success 'the multi-DID request PDU exactly: 22 F1 90 F1 87 F1 89' '
	start_ecu ecu --did F189=2.1.0 &&
	fota info -b "$BUS" $IDS --did F190,F187 --did 0xF189 --trace t.log >out &&
	bg_stop ecu &&
	frames t.log >f &&
	head -1 f >first &&
	echo "7E0#0722F190F187F189" >expect &&
	test_cmp expect first &&
	test $(grep -c "^7E0#0722" f) -eq 1 &&
	printf "%s\n" \
		"F190  VIN                                           WFOTA000000000001" \
		"F187  vehicleManufacturerSparePartNumber            FOTA-SIM-0001" \
		"F189  vehicleManufacturerECUSoftwareVersionNumber   2.1.0" >expect &&
	test_cmp expect out
'

test_expect_success 'NRC 0x31 is "not supported": exit 0, on the bus 7F 22 31' '
	start_ecu ecu &&
	fota info -b "$BUS" $IDS --did F15A --trace t.log >out 2>err &&
	bg_stop ecu &&
	test_must_be_empty err &&
	echo "F15A  -                                             (not supported)" >expect &&
	test_cmp expect out &&
	frames t.log >f &&
	test_grep "^7E0#0322F15ACCCCCCCC$" f &&
	test_grep "^7E8#037F2231CCCCCCCC$" f
'

test_expect_success '--json: values, not supported, request count' '
	start_ecu ecu --did F189=2.1.0 --did F18B=hex:20261203 &&
	fota info -b "$BUS" $IDS --did F189,F18B,F188 --json >out &&
	bg_stop ecu &&
	test $(wc -l <out) -eq 1 &&
	"$PYTHON" - <<-\PY
	import json
	o = json.load(open("out"))
	assert o["ok"] is True and o["exit"] == 0 and o["requests"] == 1, o
	assert o["ecu"] in ("0x7E0", "sim"), o
	d = o["dids"]
	assert [x["did"] for x in d] == ["F189", "F18B", "F188"], d
	assert d[0] == {"did": "F189", "name": "vehicleManufacturerECUSoftwareVersionNumber",
	                "supported": True, "text": "2.1.0", "hex": "322e312e30"}, d[0]
	assert d[1]["text"] is None and d[1]["hex"] == "20261203", d[1]
	assert d[2] == {"did": "F188", "name": "vehicleManufacturerECUSoftwareNumber",
	                "supported": False}, d[2]
	PY
'

test_expect_success 'an ECU taking one DID per request (0x13): asked again one by one' '
	start_ecu ecu --max-dids 1 --did F189=2.1.0 &&
	fota info -b "$BUS" $IDS --did F190,F187,F189 --json --trace t.log >out &&
	bg_stop ecu &&
	frames t.log >f &&
	test_grep "^7E8#037F2213CCCCCCCC$" f &&
	test_grep "^7E0#0322F190CCCCCCCC$" f &&
	test_grep "^7E0#0322F189CCCCCCCC$" f &&
	"$PYTHON" -c "
import json
o = json.load(open(\"out\"))
assert o[\"requests\"] == 4, o
assert [x.get(\"text\") for x in o[\"dids\"]] == [\"WFOTA000000000001\", \"FOTA-SIM-0001\", \"2.1.0\"], o
"
'

test_expect_success '--max-dids 2: two requests' '
	start_ecu ecu &&
	fota info -b "$BUS" $IDS --did F190,F187,F18C --max-dids 2 --trace t.log >out &&
	bg_stop ecu &&
	frames t.log >f &&
	test_grep "^7E0#0522F190F187CCCC$" f &&
	test_grep "^7E0#0322F18CCCCCCCCC$" f &&
	test $(wc -l <out) -eq 3
'

test_expect_success 'another NRC is that DID refused, the others still read' '
	start_ecu ecu --fail ReadDataByIdentifier:2=securityAccessDenied &&
	fota info -b "$BUS" $IDS --did F190,F187 --max-dids 1 >out 2>err &&
	bg_stop ecu &&
	test_must_be_empty err &&
	test_grep "^F190  VIN  *WFOTA000000000001$" out &&
	test_grep "^F187  vehicleManufacturerSparePartNumber  *\(refused: securityAccessDenied \(NRC 0x33\)\)$" out
'

test_expect_success 'no ECU: exit 4, "no response (timeout)"' '
	stop_leftovers &&
	bg_start silent fota-test dump "$BUS" &&
	wait_until "test \$(bus_members) -ge 1" &&
	test_expect_code 4 fota info -b "$BUS" $IDS --did F190 >out 2>err &&
	test_must_be_empty out &&
	test_grep "^fota info: ecu .*: ReadDataByIdentifier: no response \(timeout\)$" err &&
	test_expect_code 4 fota info -b "$BUS" $IDS --did F190 --json >out 2>err &&
	test_grep "\"ok\":false,\"exit\":4,\"error\":\"ReadDataByIdentifier: no response \(timeout\)\"" out &&
	bg_stop silent
'

# The fingerprint: a sequence key of the configuration, written by 0x2E after SecurityAccess.
fp_config()
{
	cat >fp.yaml <<-EOF
	ecus:
	  - name: sim
	    request_id: 0x7E0
	    response_id: 0x7E8
	    security: { level: 0x01, key: "xor:A5A5A5A5" }
	    ${FOTA_VM:+timing: { p2_ms: 2000 \}}
	    regions:
	      - { start: 0x08000000, size: 0x10000 }
	    sequence:
	      fingerprint: { did: 0xF15A, data: "T1-26120" }
	EOF
}

test_expect_success 'flash writes the fingerprint after SecurityAccess, before the erase' '
	fp_config &&
	gen_hex 2000 7 >fw.hex &&
	fota flash --dry-run -c fp.yaml -e sim fw.hex >plan &&
	test_grep "^  fingerprint         2e f15a \"T1-26120\"$" plan &&
	start_ecu ecu --write-did F15A=00000000 &&
	fota flash -q -c fp.yaml -e sim -b "$BUS" --trace t.log fw.hex 2>err &&
	test_must_be_empty err &&
	fota info -b "$BUS" $IDS --did F15A >out &&
	bg_stop ecu &&
	echo "F15A  -                                             T1-26120" >expect &&
	test_cmp expect out &&
	frames t.log | grep "^7E0#" | sed "s/CC*$//" >f &&
	grep -n "^7E0#10.*2EF15A\|^7E0#0.27\|^7E0#1.*3101FF00" f >order &&
	test_grep "^7E0#100B2EF15A54312D$" f &&
	sed -n 1p order | grep -q "27" &&
	sed -n 3p order | grep -q "2EF15A" &&
	sed -n 4p order | grep -q "3101FF00"
'

test_expect_success 'a refused fingerprint fails the flash with the NRC, nothing erased' '
	fp_config &&
	start_ecu ecu --write-did F15A=00000000 --fail WriteDataByIdentifier=securityAccessDenied &&
	test_expect_code 1 fota flash -c fp.yaml -e sim -b "$BUS" --trace t.log fw.hex 2>err &&
	bg_stop ecu &&
	test_grep "^fota flash: ecu .sim.: WriteFingerprint refused: securityAccessDenied \(NRC 0x33\)$" err &&
	frames t.log >f &&
	test_grep "^7E8#037F2E33" f &&
	! grep -q "3101FF00" f
'

test_expect_success 'flash --identify: before and after the reset, on stdout and in --json' '
	start_ecu ecu --did F189=2.1.0 &&
	fota flash -q -b "$BUS" $IDS --key xor:A5A5A5A5 --identify F189,F18C,F197 \
		--trace t.log fw.hex >out 2>err &&
	fota flash -b "$BUS" $IDS --key xor:A5A5A5A5 --identify F189 --expect F18C=SN000000000001 \
		--json fw.hex >events &&
	bg_stop ecu &&
	test_must_be_empty err &&
	printf "%s\n" \
		"F189  vehicleManufacturerECUSoftwareVersionNumber   2.1.0 -> 2.1.0" \
		"F18C  ECUSerialNumber                               SN000000000001 -> SN000000000001" \
		"F197  systemNameOrEngineType                        (not supported) -> (not supported)" >expect &&
	test_cmp expect out &&
	frames t.log | grep "^7E0#" >f &&
	head -1 f | grep -q "^7E0#0722F189F18CF197$" &&
	test $(grep -c "^7E0#0722F189F18CF197$" f) -eq 2 &&
	grep -n "^7E0#021101\|^7E0#0722F189" f | tail -2 | cut -d: -f2 >last &&
	printf "%s\n" "7E0#021101CCCCCCCCCC" "7E0#0722F189F18CF197" >expect &&
	test_cmp expect last &&
	tail -1 events >result &&
	"$PYTHON" - <<-\PY
	import json
	r = json.load(open("result"))
	assert r["event"] == "result" and r["ok"] is True and r["exit"] == 0, r
	assert r["identify"] == [
	    {"did": "F189", "name": "vehicleManufacturerECUSoftwareVersionNumber",
	     "before": "2.1.0", "after": "2.1.0"},
	    {"did": "F18C", "name": "ECUSerialNumber",
	     "before": "SN000000000001", "after": "SN000000000001"}], r["identify"]
	PY
'

test_expect_success 'flash --expect: a mismatch after the reset is a flash failure, exit 1' '
	start_ecu ecu --did F189=2.1.0 &&
	fota flash -q -b "$BUS" $IDS --key xor:A5A5A5A5 --expect F189=2.1.0 fw.hex >out 2>err &&
	test_must_be_empty err &&
	test_expect_code 1 fota flash -b "$BUS" $IDS --key xor:A5A5A5A5 --expect F189=2.2.0 \
		fw.hex >out 2>err &&
	test_expect_code 1 fota flash -b "$BUS" $IDS --key xor:A5A5A5A5 --expect F189=2.2.0 \
		--json fw.hex >events &&
	bg_stop ecu &&
	test_grep "^fota flash: ecu (0x7E0|.sim.): ECU reports F189 = 2.1.0, expected 2.2.0$" err &&
	test $(wc -l <err) -eq 1 &&
	echo "F189  vehicleManufacturerECUSoftwareVersionNumber   2.1.0 -> 2.1.0" >expect &&
	test_cmp expect out &&
	tail -1 events >result &&
	"$PYTHON" -c "
import json
r = json.load(open(\"result\"))
assert r[\"ok\"] is False and r[\"exit\"] == 1 and r[\"step\"] == \"IdentifyAfter\", r
assert r[\"error\"] == \"ECU reports F189 = 2.1.0, expected 2.2.0\", r
"
'

test_expect_success 'flash: the application missing its first answer after the reset is asked again' '
	start_ecu ecu --did F189=2.1.0 --drop-response ReadDataByIdentifier:2 &&
	fota flash -q -b "$BUS" $IDS --key xor:A5A5A5A5 --expect F189=2.1.0 --trace t.log \
		fw.hex >out 2>err &&
	bg_stop ecu &&
	test_must_be_empty err &&
	test $(frames t.log | grep -c "^7E0#0322F189") -eq 3
'

test_expect_success 'identify in the configuration; --expect and --identify on bad input: exit 2' '
	cat >id.yaml <<-EOF &&
	ecus:
	  - name: sim
	    request_id: 0x7E0
	    response_id: 0x7E8
	    security: { level: 0x01, key: "xor:A5A5A5A5" }
	    ${FOTA_VM:+timing: { p2_ms: 2000 \}}
	    regions:
	      - { start: 0x08000000, size: 0x10000 }
	    identify: [0xF189]
	    identify_wait_ms: 3000
	EOF
	start_ecu ecu --did F189=2.1.0 &&
	fota flash -c id.yaml -e sim -b "$BUS" fw.hex >out 2>err &&
	fota flash -c id.yaml -e sim -b "$BUS" --no-identify fw.hex >out2 2>err &&
	bg_stop ecu &&
	echo "F189  vehicleManufacturerECUSoftwareVersionNumber   2.1.0 -> 2.1.0" >expect &&
	test_cmp expect out &&
	test_must_be_empty out2 &&
	test_expect_code 2 fota flash -b "$BUS" $IDS --expect F189 fw.hex 2>err &&
	test_grep "invalid --expect .F189. \(DID=VALUE\)" err &&
	test_expect_code 2 fota flash -b "$BUS" $IDS --expect XYZ=1 fw.hex 2>err &&
	test_grep "invalid DID .XYZ. in --expect" err &&
	test_expect_code 2 fota flash -b "$BUS" $IDS --identify F189,G fw.hex 2>err &&
	test_expect_code 2 fota flash -b "$BUS" $IDS --no-identify --expect F189=1 fw.hex 2>err
'

test_expect_success 'bad command lines: exit 2 with the reason' '
	test_expect_code 2 fota info -b "$BUS" $IDS --did F190,XYZ 2>err &&
	test_grep "invalid DID .XYZ. in --did" err &&
	test_expect_code 2 fota info -b "$BUS" $IDS --did 10000 2>err &&
	test_expect_code 2 fota info -b "$BUS" --request-id 0x7E0 2>err &&
	test_grep "give -e NAME, or both --request-id and --response-id" err &&
	test_expect_code 2 fota info -b "$BUS" $IDS --max-dids 0 2>err
'

test_done
