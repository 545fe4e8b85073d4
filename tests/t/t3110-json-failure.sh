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

test_expect_success 'flash --dry-run --json: one plan object' '
	fota flash --dry-run --json --request-id 0x7E0 --response-id 0x7E8 fw.hex >out &&
	"$PYTHON" -c "
import json
lines = open(\"out\").read().splitlines()
assert len(lines) == 1, lines
p = json.loads(lines[0])
assert p[\"event\"] == \"plan\" and p[\"request_id\"] == 0x7E0, p
assert p[\"download\"] == [{\"address\": 0x08000000, \"length\": 300, \"blocks\": None, \"block_bytes\": None}], p
assert p[\"check\"][\"routine\"] == 0x0202 and isinstance(p[\"check\"][\"crc32\"], int), p
assert p[\"reset\"] == 1 and p[\"security\"] is None, p
"
'

test_done
