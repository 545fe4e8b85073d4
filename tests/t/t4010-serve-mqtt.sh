#!/bin/sh
# SPDX-License-Identifier: MIT
# vcan: skip (the broker link: the same on every bus)
test_description='fota serve with the MQTT platform link: requests from the broker into the inbox, cleared once on disk; status, reports until PUBACK, online and last will'
. "$(dirname "$0")/lib.sh"
. "$FOTA_SRC/tests/t/lib-broker.sh"

ST=$TRASH/state
T=fota/tcu-a

cfg()
{
	cat <<EOF
tcu:
  node_id: 0x27
ecus:
  - name: hydraulics
    request_id: 0x7E0
    response_id: 0x7E8
    security: { level: 0x01, key: "xor:A5A5A5A5" }
    timing: { p2_ms: 2000 }
    regions:
      - { start: 0x08000000, size: 0x10000 }
EOF
	if [ "$1" = trust ]; then
		printf 'trust:\n  keys:\n    - { name: platform, file: k1.pub }\n'
	fi
	broker_mqtt_yaml tcu-a
}

# serve NAME [VAR=VALUE]: fota serve on $ST with the link
serve()
{
	daemon "$1" env $2 fota serve -c fota.yaml -b "$BUS" --state-dir "$ST" &&
	wait_until "grep -q \"on $BUS\" \"$TRASH/$1.err\" || test -f \"$TRASH/$1.rc\"" 10 &&
	grep -q "on $BUS" "$TRASH/$1.err"
}

field()
{
	timeout -k 2 10 fota status -b "$BUS" | sed -n "s/^$1: \([^ ]*\).*/\1/p"
}

# retained TOPIC: the retained payload of TOPIC (empty when there is none)
retained()
{
	broker_sub platform -q 1 -t "$1" -C 1 -W 2 -N 2>/dev/null
	true
}

# mk NAME [OPTIONS]: a request for fw.hex as NAME, its id in NAME.id
mk()
{
	m_n=$1
	shift
	fota request -c fota.yaml -e hydraulics --sw-version 2.1 -o "$m_n" "$@" fw.hex >"$m_n.id"
}

# pub NAME: publish request NAME retained, as the platform does
pub()
{
	broker_pub platform -q 1 -r -t "$T/request/$(cat "$1.id")" -f "$1"
}

# delivered ID WORD [SECONDS]: the platform's subscriber (psub: sub.out, then
# sub2.out after a broker restart) saw report/ID containing WORD
delivered()
{
	wait_until "cat sub.out sub2.out 2>/dev/null | awk '/^fota\\// { t = \$1 } t == \"$T/report/$1\" && /$2/ { f = 1 } END { exit !f }'" "${3:-10}"
}

test_expect_success BROKER 'setup: certificates, keys, firmware, a simulated ECU' '
	broker_pki platform tcu-a &&
	broker_start &&
	fota keygen k1 >/dev/null &&
	cfg trust >fota.yaml && cfg >notrust.yaml &&
	gen_hex 8192 7 >fw.hex &&
	daemon ecu fota ecu -c fota.yaml -e hydraulics -b "$BUS" --memory mem.bin \
		--ready-file ecu.ready &&
	wait_until "test -f ecu.ready" 10 &&
	daemon sub broker_sub_exec platform -c -i psub -q 1 -v -t "$T/#" &&
	wait_until "grep -q \"psub\" $BROKER_DIR/mosquitto.log" 10
'

test_expect_success BROKER 'platform: mqtt without trust: exit 3, one line naming the file' '
	test_expect_code 3 timeout 10 fota serve -c notrust.yaml -b "$BUS" --state-dir st0 2>err &&
	test "$(wc -l <err)" = 1 &&
	test_grep "notrust.yaml: platform: mqtt needs trust: keys and require_signature" err &&
	! test -e st0/outbox
'

test_expect_success BROKER 'broker unreachable at start: serve runs, the folder inbox works, it retries' '
	broker_kill TERM &&
	serve s1 &&
	wait_until "test \$(grep -c \"mqtt: cannot connect to\" s1.err) -ge 2" 10 &&
	test_grep "retrying in [0-9.]+ s" s1.err &&
	test_grep "cannot connect to mqtts://127.0.0.1:[0-9]+: refused, or closed before the CONNACK; retrying" s1.err &&
	: "retrying a refused TLS connect does not spin: under 0.5 s of CPU in 2 s" &&
	c0=$(awk "{ print \$14 + \$15 }" /proc/$(cat s1.pid)/stat) && sleep 2 &&
	c1=$(awk "{ print \$14 + \$15 }" /proc/$(cat s1.pid)/stat) &&
	echo "serve CPU while the broker is down: $((c1 - c0)) ticks in 2 s" &&
	test $((c1 - c0)) -lt $(($(getconf CLK_TCK) / 2)) &&
	mk bare.yaml && cp bare.yaml "$ST/inbox/$(cat bare.yaml.id).yaml" &&
	wait_until "grep -q reason_code $ST/outbox/$(cat bare.yaml.id).json" 10 &&
	test_grep "\"reason_code\": \"unsigned\"" $ST/outbox/$(cat bare.yaml.id).json &&
	! test -f "$TRASH/s1.rc"
'

test_expect_success BROKER 'undelivered reports survive a restart of serve: delivered once the broker is back' '
	ends_within s1 TERM 1500 &&
	serve s2 &&
	broker_start &&
	wait_until "grep -q \"mqtt: connected to\" s2.err" 10 &&
	delivered "$(cat bare.yaml.id)" unsigned 10 &&
	test "$(retained $T/online)" = true &&
	test_grep "^[0-9a-f]{64} $(cat bare.yaml.id).json$" $ST/mqtt-delivered
'

test_expect_success BROKER 'one TCU end to end: published, in the inbox, cleared, offered, flashed, reported' '
	mk r1.yaml --sign k1.key && id=$(cat r1.yaml.id) &&
	pub r1.yaml &&
	wait_until "test -f $ST/outbox/$id.json" 10 &&
	test_grep "mqtt: request $id received \\([0-9]+ bytes\\)" s2.err &&
	test -z "$(retained "$T/request/$id")" &&
	wait_until "retained $T/status | grep -q \"\\\"update_available\\\":1\"" 10 &&
	retained $T/status >status.json &&
	test_grep "\"tcu\":\"tcu-a\"" status.json && test_grep "\"time_ms\":[0-9]{13}" status.json &&
	test_grep "\"update_request_id\":\"$id\"" status.json &&
	! grep -q "\"bus\"" status.json &&
	fota approve -b "$BUS" &&
	wait_until "test \"\$(field update_status)\" = 0x10" 30 &&
	fota health ok -b "$BUS" &&
	wait_until "retained $T/status | grep -q \"\\\"update_status\\\":64\"" 10 &&
	retained $T/status >final.json &&
	test_grep "\"final\":true" final.json && test_grep "\"update_progress\":100" final.json &&
	delivered "$id" "\"status\": \"successful\"" &&
	! grep -q "replayed" sub.out
'

test_expect_success BROKER 'TCU offline while the request is published: it arrives when serve starts' '
	ends_within s2 TERM 1500 &&
	test "$(retained $T/online)" = false &&
	mk r2.yaml --sign k1.key && id=$(cat r2.yaml.id) &&
	pub r2.yaml &&
	serve s3 &&
	wait_until "test -f $ST/outbox/$id.json" 10 &&
	test -z "$(retained "$T/request/$id")" &&
	wait_until "test \"\$(field update_available)\" = 0x01" 10 &&
	delivered "$id" "\"status\": \"pending\"" &&
	fota reject -b "$BUS" &&
	delivered "$id" "\"status\": \"cancelled\""
'

test_expect_success BROKER 'serve killed after the fsync, before the clear: in the inbox once, handled once' '
	ends_within s3 TERM 1500 &&
	serve s4 FOTA_TEST_FAILPOINT=mqtt-after-fsync &&
	mk r3.yaml --sign k1.key && id=$(cat r3.yaml.id) &&
	pub r3.yaml &&
	wait_until "test -f \"$TRASH/s4.rc\"" 10 && ended s4 &&
	test "$(cat s4.rc)" = 137 &&
	test_cmp r3.yaml "$ST/inbox/$id.yaml" &&
	retained "$T/request/$id" >still && test_cmp r3.yaml still &&
	serve s5 &&
	wait_until "grep -q \"request $id received again: known already, cleared\" s5.err" 10 &&
	test -z "$(retained "$T/request/$id")" &&
	wait_until "test \"\$(field update_available)\" = 0x01" 10 &&
	test "$(ls $ST/inbox $ST/done | grep -c "$id")" = 1 &&
	delivered "$id" "\"status\": \"pending\"" &&
	! grep -q replayed "$ST/outbox/$id.json" &&
	fota reject -b "$BUS" &&
	delivered "$id" "\"status\": \"cancelled\"" &&
	! grep -q "replayed" sub.out
'

test_expect_success BROKER 'hostile requests: oversized, not a UUID, not a request, unsigned' '
	big=$(cat /proc/sys/kernel/random/uuid) &&
	head -c 70000 /dev/zero | tr "\\0" a >big.yaml &&
	broker_pub platform -q 1 -r -t "$T/request/$big" -f big.yaml &&
	wait_until "grep -q \"request $big: 70000 bytes, more than 65536: dropped and cleared\" s5.err" 10 &&
	broker_pub platform -q 1 -r -t "$T/request/not-a-uuid" -m "id: x" &&
	wait_until "grep -q \"not a UUID v4 (10 characters): dropped and cleared\" s5.err" 10 &&
	test -z "$(retained "$T/request/not-a-uuid")" && test -z "$(retained "$T/request/$big")" &&
	! test -e "$ST/inbox/$big.yaml" && ! test -e "$ST/done/$big.yaml" &&
	junk=$(cat /proc/sys/kernel/random/uuid) &&
	broker_pub platform -q 1 -r -t "$T/request/$junk" -m "{[ not yaml" &&
	wait_until "test -f $ST/outbox/rejected-$junk.json" 10 &&
	delivered "rejected-$junk" "\"status\": \"failed\"" &&
	mk un.yaml && pub un.yaml &&
	delivered "$(cat un.yaml.id)" "\"reason_code\": \"unsigned\"" &&
	: "a refused request does not use its id up (fota-serve(1)): corrected, it is taken" &&
	mk fix.yaml --id "$(cat un.yaml.id)" --sign k1.key && pub fix.yaml &&
	wait_until "test \"\$(field update_available)\" = 0x01" 10 &&
	fota reject -b "$BUS" &&
	wait_until "test \"\$(field update_available)\" = 0x00" 10 &&
	! grep -q "{\\[ not yaml" s5.err && ! grep -q "aaaaaaaa" s5.err
'

test_expect_success BROKER 'broker killed mid-flash and down while the reports are written: nothing lost' '
	ends_within s5 TERM 1500 &&
	kill $(cat ecu.pid) && ended ecu &&
	daemon ecu2 fota ecu -c fota.yaml -e hydraulics -b "$BUS" --memory mem.bin --delay 400 \
		--ready-file ecu2.ready &&
	wait_until "test -f ecu2.ready" 10 &&
	serve s6 &&
	wait_until "grep -q \"mqtt: connected to\" s6.err" 10 &&
	gen_hex 60000 9 >fw.hex &&
	mk r4.yaml --sign k1.key && id=$(cat r4.yaml.id) &&
	pub r4.yaml &&
	wait_until "test \"\$(field update_available)\" = 0x01" 10 &&
	fota approve -b "$BUS" &&
	wait_until "test \"\$(field update_status)\" = 0x01" 10 &&
	broker_kill KILL &&
	wait_until "grep -q \"mqtt: disconnected from\" s6.err" 15 &&
	test "$(field update_status)" = 0x01 &&
	wait_until "test \"\$(field update_status)\" = 0x10" 60 &&
	fota health ok -b "$BUS" &&
	test_grep "\"status\": \"successful\"" $ST/outbox/$id.json &&
	t0=$(date +%s%N) && broker_start &&
	wait_until "test \$(grep -c \"mqtt: connected to\" s6.err) -ge 2" 70 &&
	echo "reconnect after the broker restart: $(elapsed_ms $t0) ms" &&
	wait_until "grep -q \"report $id.json delivered\" s6.err" 10 &&
	wait_until "test -f sub.rc" 5 && ended sub &&
	daemon sub2 broker_sub_exec platform -c -i psub -q 1 -v -t "$T/#" &&
	delivered "$id" "\"status\": \"successful\"" 20 &&
	fota hexinfo --bin=fw.bin --range=0x08000000-0x0800ffff fw.hex && cmp mem.bin fw.bin
'

test_expect_success BROKER 'serve killed with SIGKILL: the last will says offline' '
	test "$(retained $T/online)" = true &&
	kill -9 $(cat s6.pid) && ended s6 &&
	wait_until "test \"\$(retained $T/online)\" = false" 30
'

test_done
