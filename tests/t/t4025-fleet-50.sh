#!/bin/sh
# SPDX-License-Identifier: MIT
# vcan: skip (50 unix: buses and a broker; no SocketCAN)
test_description='a campaign over MQTT: 50 fota serve + fota ecu pairs, one broker, fota publish, fota fleet --wait'
. "$(dirname "$0")/lib.sh"
. "$FOTA_SRC/tests/t/lib-broker.sh"

N=${FOTA_FLEET_N:-50}

# the TCU ids tcu-01 .. tcu-N, one a line
ids()
{
	seq -f "tcu-%02g" 1 "$N"
}

# tcu_cfg ID: the configuration of TCU ID: its bus, state, ECU, key, broker
tcu_cfg()
{
	cat <<EOF
bus: unix:$TRASH/$1/bus
tcu: { node_id: 0x27, state_dir: $TRASH/$1/state }
ecus:
  - name: hydraulics
    request_id: 0x7E0
    response_id: 0x7E8
    bootloader_switch: { id: 0x700, data: "01 02", delay_ms: 50 }
    security: { level: 0x01, key: "xor:A5A5A5A5" }
    timing: { p2_ms: 1000 }
    regions:
      - { start: 0x08000000, size: 0x10000 }
trust:
  keys:
    - { name: platform, file: $TRASH/k1.pub }
EOF
	broker_mqtt_yaml "$1"
}

# operator ID: what the operator does on TCU ID's bus: approve the offer, then
# report the health check passed (Checkpoints 1 and 2)
operator()
{
	o_b="unix:$TRASH/$1/bus"
	timeout -k 2 200 fota status -b "$o_b" --wait=available --timeout 180 -q >/dev/null &&
	fota approve -b "$o_b" -q &&
	timeout -k 2 200 fota status -b "$o_b" --wait=waiting --timeout 180 -q >/dev/null &&
	fota health -b "$o_b" -q ok
}

test_expect_success BROKER "setup: $N TCU certificates, the platform's, a broker, a signing key" '
	broker_pki platform $(ids) &&
	broker_start &&
	broker_mqtt_yaml platform >platform.yaml &&
	ids >fleet.txt &&
	fota keygen k1 >/dev/null &&
	gen_hex 512 5 >fw.hex &&
	fota hexinfo --bin=fw.bin --range=0x08000000-0x0800ffff fw.hex &&
	for t in $(ids); do
		mkdir -p "$t/state" && tcu_cfg "$t" >"$t/fota.yaml" || return 1
	done &&
	test "$(ls "$PKI"/tcu-*.crt | wc -l)" = "$N"
'

test_expect_success BROKER "$N fota ecu and $N fota serve start, each pair on its own bus" '
	for t in $(ids); do
		daemon "ecu-$t" fota ecu -c "$t/fota.yaml" -e hydraulics --memory "$t/mem.bin" \
			--ready-file "$t/ecu.ready" || { echo "ecu $t: no pid" >&2; return 1; }
	done &&
	for t in $(ids); do
		wait_until "test -f $t/ecu.ready" 60 || { echo "ecu $t: not ready" >&2; return 1; }
	done &&
	for t in $(ids); do
		daemon "serve-$t" fota serve -c "$t/fota.yaml" || { echo "serve $t: no pid" >&2; return 1; }
	done &&
	for t in $(ids); do
		wait_until "grep -q \" on unix:\" \"$TRASH/serve-$t.err\" || test -f \"$TRASH/serve-$t.rc\"" 60 &&
		! test -f "$TRASH/serve-$t.rc" || { cat "$TRASH/serve-$t.err" >&2; return 1; }
	done
'

test_expect_success BROKER "every serve is online on the broker: a retained true (fota-mqtt(7))" '
	broker_sub platform -q 1 -t "fota/+/online" -C "$N" -W 30 -F "%t %p" | sort >got &&
	ids | sed "s|.*|fota/&/online true|" >expect &&
	test_cmp expect got
'

test_expect_success BROKER "publish a signed request to all $N: every PUBACK, every topic" '
	fota request -c tcu-01/fota.yaml -e hydraulics --sw-version 2.0 --expires +2h \
		"$TRASH/fw.hex" >campaign.yaml 2>/dev/null &&
	sed -n "s/^id: //p" campaign.yaml >id &&
	fota publish -c platform.yaml --sign k1.key --tcu-file fleet.txt campaign.yaml >out &&
	test "$(grep -c "	published$" out)" = "$N" &&
	cut -f1 out >got && test_cmp fleet.txt got
'

test_expect_success BROKER "the campaign: approvals, health verdicts, fleet --wait: $N successes" '
	bg_start fleet fota fleet -c platform.yaml --tcu-file fleet.txt --id "$(cat id)" --wait \
		--timeout 300 --json &&
	for t in $(ids); do
		operator "$t" >"$t/operator.log" 2>&1 &
	done &&
	wait $(bg_pid fleet) &&
	test_grep "^\\{\"kind\":\"summary\",\"successful\":$N,\"failed\":0,\"pending\":0\\}$" \
		"$TRASH/fleet.out" &&
	for t in $(ids); do
		cmp "$t/mem.bin" fw.bin || return 1
	done
'

test_expect_success BROKER "all $N serve and $N ecu end cleanly on SIGTERM, no sanitizer report" '
	for t in $(ids); do
		kill -TERM "$(cat "$TRASH/serve-$t.pid")" "$(cat "$TRASH/ecu-$t.pid")" || return 1
	done &&
	for t in $(ids); do
		wait_until "test -f \"$TRASH/serve-$t.rc\" && test -f \"$TRASH/ecu-$t.rc\"" 30 &&
		ended "serve-$t" && ended "ecu-$t" &&
		test "$(cat "$TRASH/serve-$t.rc")" = 0 && test "$(cat "$TRASH/ecu-$t.rc")" = 0 ||
		{ cat "$TRASH/serve-$t.err" "$TRASH/ecu-$t.err" >&2; return 1; }
	done &&
	! grep -l "Sanitizer" "$TRASH"/serve-*.err "$TRASH"/ecu-*.err
'

test_done
