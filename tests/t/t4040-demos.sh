#!/bin/sh
# SPDX-License-Identifier: MIT
# vcan: skip (the demos bring their own unix: buses)
test_description='the README examples: make demo and make fleet-demo, as a user runs them'
. "$(dirname "$0")/lib.sh"
. "$FOTA_SRC/tests/t/lib-broker.sh"

test_expect_success 'examples/demo.sh: one update cycle, the ECU memory equals the image' '
	TMPDIR=$TRASH FOTA=fota sh "$FOTA_SRC/examples/demo.sh" >out 2>&1 ||
		{ cat out >&2; return 1; }
	test_grep "^ecu-flash.bin equals the image" out &&
	test_grep "^demo: update cycle complete$" out &&
	! ls -d "$TRASH"/fota-demo.* 2>/dev/null
'

test_expect_success BROKER 'examples/fleet-demo.sh: 3 TCUs over MQTT, all successful, one download each' '
	TMPDIR=$TRASH FOTA=fota TCUS=3 sh "$FOTA_SRC/examples/fleet-demo.sh" >out 2>&1 ||
		{ cat out >&2; return 1; }
	test_grep "^==> fota fleet --wait: exit 0 " out &&
	test_grep "^3 successful, 0 failed, 0 pending of 3 TCUs$" out &&
	for t in tcu-1 tcu-2 tcu-3; do
		test_grep "^$t/ecu-flash.bin equals the image$" out || return 1
	done &&
	test "$(grep -c "^GET /hydraulics-3.0.hex range=-$" out)" = 3 &&
	test_grep "^demo: campaign complete on 3 TCUs$" out &&
	! ls -d "$TRASH"/fota-fleet-demo.* 2>/dev/null
'

test_done
