#!/bin/sh
# vcan: skip (no node on the bus: the same on every bus)
test_description='--json: JSON on stdout also on failure, one shape; flash --dry-run --json'
. "$(dirname "$0")/lib.sh"

# json_fail FILE STATUS PATTERN: FILE is one JSON object, ok false, with the
# exit status and an error that matches PATTERN (a Python regular expression).
json_fail()
{
	"$PYTHON" - "$@" <<-\EOF
	import json, re, sys
	lines = open(sys.argv[1]).read().splitlines()
	assert len(lines) == 1, lines
	o = json.loads(lines[0])
	assert o["ok"] is False, o
	assert o["exit_status"] == int(sys.argv[2]), o
	assert re.search(sys.argv[3], o["error"]), o
	EOF
}

FAST="-t 100 --retries 0"

# A member that never answers: on a unix: bus without any, the commands
# would say "no other member" at once instead of waiting for an answer.
test_expect_success 'setup: a bus with no TCU' '
	mkdir bus && gen_hex 300 2 >fw.hex &&
	bg_start silent fota-test dump "$BUS" &&
	wait_until "test \$(bus_members) -ge 1"
'

test_expect_success 'status --json, no answer: exit 4 and the JSON error' '
	test_expect_code 4 fota status -b "$BUS" $FAST --json >out 2>err &&
	json_fail out 4 "node 0x27: no answer within 100 ms" &&
	test_grep "no answer within 100 ms" err
'

test_expect_success 'health --timeout --json, no answer: the same shape' '
	test_expect_code 4 fota health --timeout -b "$BUS" $FAST --json >out 2>err &&
	json_fail out 4 "no answer"
'

test_expect_success 'approve and reject --json, no answer: their object has the same keys' '
	test_expect_code 4 fota approve -b "$BUS" $FAST --json >out 2>err &&
	json_fail out 4 "no answer" &&
	test_expect_code 4 fota reject -b "$BUS" $FAST --json >out 2>err &&
	json_fail out 4 "no answer"
'

test_expect_success 'usage errors with --json: exit 2 and the JSON error' '
	test_expect_code 2 fota approve --json --bogus >out 2>err &&
	json_fail out 2 "unknown option .--bogus." &&
	test_expect_code 2 fota status --bogus --json >out 2>err &&
	json_fail out 2 "unknown option" &&
	test_expect_code 2 fota status --json --timeout 5 -b "$BUS" >out 2>err &&
	json_fail out 2 "--timeout and --interval need --wait" &&
	test_expect_code 2 fota health --json maybe -b "$BUS" >out 2>err &&
	json_fail out 2 "unknown verdict" &&
	test_expect_code 2 fota status --bogus >out 2>err &&
	test_must_be_empty out
'

test_expect_success 'a configuration that does not load, with --json: exit 3 and the JSON error' '
	test_expect_code 3 fota status -c nofile.yaml --json >out 2>err &&
	json_fail out 3 "nofile.yaml"
'

# json_lines FILE N: FILE has N lines, each a JSON object
json_lines()
{
	test "$(wc -l <"$1")" -eq "$2" &&
	"$PYTHON" -c "import json, sys; [json.loads(l) for l in open(sys.argv[1])]" "$1"
}

test_expect_success 'hexinfo --json: a bad file, a missing one, a usage error' '
	printf ":0300000001020\n" >bad.hex &&
	test_expect_code 3 fota hexinfo --json bad.hex >out 2>err &&
	json_fail out 3 "^bad.hex:1: " &&
	test_expect_code 3 fota hexinfo --json nofile.hex >out 2>err &&
	json_fail out 3 "nofile.hex: No such file" &&
	test_expect_code 2 fota hexinfo --json >out 2>err &&
	json_fail out 2 "no HEX file given" &&
	test_expect_code 2 fota hexinfo --json --fill=1 fw.hex >out 2>err &&
	json_fail out 2 "need --bin"
'

test_expect_success 'hexinfo --json, several files: one object each, the failed one in its place' '
	test_expect_code 3 fota hexinfo --json fw.hex bad.hex fw.hex >out 2>err &&
	json_lines out 3 &&
	sed -n 2p out >out2 &&
	json_fail out2 3 "^bad.hex:1: " &&
	sed -n 3p out | grep "\"total_bytes\": 300"
'

test_expect_success 'hexinfo --bin --json, the output cannot be written: the failure object only' '
	test_expect_code 1 fota hexinfo --json --bin=nodir/out.bin fw.hex >out 2>err &&
	json_fail out 1 "nodir/out.bin: No such file" &&
	! test -e nodir
'

test_expect_success 'info --json: no ECU on the bus, no bus, a usage error' '
	test_expect_code 4 fota info -b "$BUS" --request-id 0x7E0 --response-id 0x7E8 --json >out 2>err &&
	json_fail out 4 "^ReadDataByIdentifier: no response" &&
	test_expect_code 2 fota info --request-id 0x7E0 --response-id 0x7E8 --json >out 2>err &&
	json_fail out 2 "no bus given" &&
	test_expect_code 2 fota info --json -b "$BUS" >out 2>err &&
	json_fail out 2 "give -e NAME" &&
	test_expect_code 3 fota info -c nofile.yaml -e x --json >out 2>err &&
	json_fail out 3 "nofile.yaml"
'

test_expect_success 'scan --json: usage error, a bus that cannot be opened' '
	test_expect_code 2 fota scan --json --uds --nodes 1-5 -b "$BUS" >out 2>err &&
	json_fail out 2 "--nodes with --uds" &&
	test_expect_code 2 fota scan --json >out 2>err &&
	json_fail out 2 "no bus given" &&
	test_expect_code 4 fota scan --json -b nosuchcan0 >out 2>err &&
	json_fail out 4 "nosuchcan0"
'

test_expect_success 'flash --json: usage error, bad image, image outside the ECU, no ECU' '
	ID="--request-id 0x7E0 --response-id 0x7E8" &&
	test_expect_code 2 fota flash --json $ID >out 2>err &&
	json_fail out 2 "no HEX file given" &&
	test_expect_code 3 fota flash --json -b "$BUS" $ID bad.hex >out 2>err &&
	json_fail out 3 "^bad.hex:1: " &&
	test_expect_code 3 fota flash --json -b "$BUS" $ID --region 0x0:0x100 fw.hex >out 2>err &&
	json_fail out 3 "fw.hex" &&
	test_expect_code 4 fota flash --json -b "$BUS" $ID fw.hex >out 2>err &&
	tail -1 out >last &&
	"$PYTHON" -c "
import json
o = json.loads(open(\"last\").read())
assert o[\"event\"] == \"result\" and o[\"ok\"] is False, o
assert o[\"exit_status\"] == o[\"exit\"] == 4 and \"no response\" in o[\"error\"], o
"
'

test_expect_success 'flash --dry-run --json, failures: the same shape' '
	test_expect_code 3 fota flash --dry-run --json --request-id 0x7E0 --response-id 0x7E8 bad.hex >out 2>err &&
	json_fail out 3 "^bad.hex:1: " &&
	test_expect_code 2 fota flash --dry-run --json --request-id 0x7E0 fw.hex >out 2>err &&
	json_fail out 2 "give -e NAME" &&
	test_expect_code 2 fota flash --dry-run --json --level=2 --request-id 0x7E0 --response-id 0x7E8 fw.hex >out 2>err &&
	json_fail out 2 "invalid --level .2."
'

test_expect_success 'flash --dry-run --json: one plan object' '
	fota flash --dry-run --json --request-id 0x7E0 --response-id 0x7E8 fw.hex >out &&
	"$PYTHON" -c "
import json
lines = open(\"out\").read().splitlines()
assert len(lines) == 1, lines
p = json.loads(lines[0])
assert p[\"event\"] == \"plan\" and p[\"request_id\"] == 0x7E0, p
assert p[\"download\"] == [{\"address\": 0x08000000, \"length\": 300, \"compressed_length\": None, \"blocks\": None, \"block_bytes\": None}], p
assert p[\"check\"][\"routine\"] == 0x0202 and isinstance(p[\"check\"][\"crc32\"], int), p
assert p[\"reset\"] == 1 and p[\"security\"] is None, p
"
'

test_done
