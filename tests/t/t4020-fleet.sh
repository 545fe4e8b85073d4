#!/bin/sh
# SPDX-License-Identifier: MIT
# vcan: skip (MQTT only: no bus)
test_description='fota publish and fota fleet against a real broker: retained signed requests, status, reports, --wait'
. "$(dirname "$0")/lib.sh"
. "$FOTA_SRC/tests/t/lib-broker.sh"

# payload FILE: the bytes a subscriber as TCU tcu-x gets on fota/tcu-x/request/ID
got_request()
{
	broker_sub "$1" -q 1 -t "fota/$1/request/$2" -C 1 -W 5 -N -F "%p" >"$3"
}

# retained TCU ID: a new subscriber is handed the request as a retained message
retained()
{
	test "$(broker_sub "$1" -q 1 -t "fota/$1/request/$2" -C 1 -W 5 -F "%r")" = 1
}

# silent_listener: a TCP port on 127.0.0.1 that takes connections and never
# answers (a broker that hangs); prints its port
silent_listener()
{
	$PYTHON -u -c "import socket, time
s = socket.socket(); s.bind(('127.0.0.1', 0)); s.listen(5)
print(s.getsockname()[1])
c = s.accept(); time.sleep(30)"
}

# status TCU ID UPDATE_STATUS TEXT: what serve's link publishes (fota-mqtt(7))
status()
{
	printf '{"node":39,"update_available":1,"update_request_id":"%s","update_attempts_counter":1,"update_status":%d,"update_status_text":"%s","final":%s,"update_progress":100,"tcu":"%s","time_ms":%s}' \
		"$2" "$3" "$4" "$(test "$3" -ge 64 && echo true || echo false)" "$1" \
		"$(($(date +%s%N) / 1000000))"
}

test_expect_success BROKER 'setup: broker, certificates, a key, a request' '
	broker_pki platform tcu-a tcu-b tcu-c &&
	broker_start &&
	broker_mqtt_yaml platform >platform.yaml &&
	fota keygen k1 >k1.id &&
	gen_hex 256 3 >fw.hex &&
	fota request -e hydraulics --sw-version 1.0 --expires +2h fw.hex >req.yaml 2>/dev/null &&
	sed -n "s/^id: //p" req.yaml >id &&
	test -s id
'

test_expect_success BROKER 'publish to one TCU: the signed bytes, retained on fota/TCU/request/ID' '
	id=$(cat id) &&
	fota publish -c platform.yaml --sign k1.key -t tcu-a req.yaml >out 2>err &&
	printf "tcu-a\tfota/tcu-a/request/%s\tpublished\n" "$id" >expect &&
	test_cmp expect out &&
	got_request tcu-a "$id" got &&
	retained tcu-a "$id" &&
	head -n -1 got >body &&
	test_cmp req.yaml body &&
	tail -n 1 got >sigline &&
	test_grep "^#fota-sig ed25519 $(cat k1.id) [0-9a-f]{128}$" sigline &&
	$PYTHON -c "import sys; sys.stdout.buffer.write(bytes.fromhex(sys.argv[1]))" \
		"$(cut -d" " -f4 sigline)" >sig.bin &&
	openssl pkeyutl -verify -pubin -inkey k1.pub -rawin -in body -sigfile sig.bin >v &&
	test_grep "Signature Verified Successfully" v
'

test_expect_success BROKER 'publish to a list and to a file of ids: each TCU gets the same bytes' '
	id=$(cat id) &&
	fota publish -c platform.yaml --sign k1.key -t tcu-b -t tcu-a req.yaml >out &&
	test "$(cut -f1,3 out | tr "\t\n" ": ")" = "tcu-b:published tcu-a:published " &&
	printf "# the east region\ntcu-b\n\n  tcu-c  # spare\ntcu-b\n" >ids &&
	fota publish -c platform.yaml --sign k1.key --tcu-file ids req.yaml >out &&
	test "$(cut -f1 out | tr "\n" " ")" = "tcu-b tcu-c " &&
	got_request tcu-a "$id" a && got_request tcu-b "$id" b && got_request tcu-c "$id" c &&
	cmp a b && cmp b c && retained tcu-c "$id"
'

test_expect_success BROKER 'bad TCU ids and unsigned requests: exit 3, nothing published' '
	fota request -e hydraulics --sw-version 1.0 --expires +2h fw.hex >req2.yaml 2>/dev/null &&
	id2=$(sed -n "s/^id: //p" req2.yaml) &&
	test_expect_code 3 fota publish -c platform.yaml --sign k1.key -t tcu-a -t "tcu/b" \
		req2.yaml >out 2>err &&
	test_grep "tcu/b.: not a TCU id" err && test_must_be_empty out &&
	test_expect_code 3 fota publish -c platform.yaml --sign k1.key -t "+" req2.yaml 2>err &&
	printf "tcu-a\ntcu+b\n" >bad-ids &&
	test_expect_code 3 fota publish -c platform.yaml --sign k1.key --tcu-file bad-ids \
		req2.yaml 2>err &&
	test_grep "bad-ids:2: .tcu\\+b. is not a TCU id" err &&
	test_expect_code 3 fota publish -c platform.yaml -t tcu-a req2.yaml 2>err &&
	test_grep "not signed" err &&
	: "a request that fits 64 KiB but not once signed: serve would drop it" &&
	{ cat req2.yaml && printf "# %*s\n" $((65500 - $(wc -c <req2.yaml))) "" | tr " " x; } >big.yaml &&
	test "$(wc -c <big.yaml)" -le 65536 &&
	test_expect_code 3 fota publish -c platform.yaml --sign k1.key -t tcu-a big.yaml 2>err &&
	test_grep "big.yaml: [0-9]+ bytes once signed, more than the 65536 a TCU takes" err &&
	test_expect_code 2 fota publish -c platform.yaml --url "mqtts://u@127.0.0.1" --sign k1.key \
		-t tcu-a req2.yaml 2>err &&
	test_grep "invalid --url .mqtts://u@127.0.0.1.: nothing may follow HOST\[:PORT\]" err &&
	test_expect_code 2 fota fleet -c platform.yaml --url "mqtts://h:0" -t tcu-a 2>err &&
	test_grep "invalid --url .mqtts://h:0.: port is not 1..65535" err &&
	test_expect_code 27 broker_sub platform -q 1 -t "fota/+/request/$id2" -W 2 >got &&
	test_must_be_empty got
'

test_expect_success BROKER 'broker down or silent: exit 4 with the reason, within --timeout' '
	port=$(broker_free_port) &&
	test_expect_code 4 fota publish -c platform.yaml --url "mqtts://127.0.0.1:$port" \
		--sign k1.key -t tcu-a req.yaml 2>err &&
	test_grep "broker 127.0.0.1:$port: .*[Cc]onnection refused" err &&
	bg_start silent silent_listener &&
	wait_until "test -s \"$TRASH/silent.out\"" &&
	cp "$TRASH/silent.out" silent.port &&
	t0=$(date +%s%N) &&
	test_expect_code 4 fota publish -c platform.yaml --url "mqtts://127.0.0.1:$(cat silent.port)" \
		--timeout 2 --sign k1.key -t tcu-a req.yaml 2>err &&
	test "$(elapsed_ms $t0)" -lt 4000 &&
	test_grep "no answer from the broker" err
'

test_expect_success BROKER 'a TCU certificate cannot publish to another TCU: the broker refuses, exit 1' '
	fota request -e hydraulics --sw-version 1.0 --expires +2h fw.hex >req3.yaml 2>/dev/null &&
	id3=$(sed -n "s/^id: //p" req3.yaml) &&
	broker_mqtt_yaml tcu-a >tcu-a.yaml &&
	test_expect_code 1 fota publish -c tcu-a.yaml --sign k1.key -t tcu-b req3.yaml >out 2>err &&
	test_grep "refused by the broker: Not authorized" out &&
	test_grep "refused 1 of 1" err &&
	test_expect_code 27 broker_sub platform -q 1 -t "fota/tcu-b/request/$id3" -W 2 >got &&
	test_must_be_empty got
'

test_expect_success BROKER 'fleet --json: one object per status, report and online event' '
	id=$(cat id) &&
	broker_pub tcu-a -q 1 -r -t fota/tcu-a/status -m "$(status tcu-a "$id" 2 "update downloading")" &&
	broker_pub tcu-a -q 1 -r -t fota/tcu-a/online -m true &&
	bg_start fleet fota fleet -c platform.yaml -t tcu-a -t tcu-b --json --timeout 10 &&
	wait_until "grep -q \"\\\"kind\\\":\\\"online\\\"\" \"$TRASH/fleet.out\"" &&
	broker_pub tcu-b -q 1 -t "fota/tcu-b/report/$id" -m "{\"id\":\"$id\",\"status\":\"in progress\"}" &&
	broker_pub tcu-c -q 1 -r -t fota/tcu-c/online -m true &&
	wait_until "grep -q \"\\\"kind\\\":\\\"report\\\"\" \"$TRASH/fleet.out\"" &&
	bg_stop fleet &&
	ev="$TRASH/fleet.out" &&
	test_grep "^\\{\"tcu\":\"tcu-a\",\"kind\":\"status\",\"payload\":\\{.*\"update_status\":2,.*\"time_ms\":[0-9]+,\"latency_ms\":[0-9]+\\}$" "$ev" &&
	test_grep "^\\{\"tcu\":\"tcu-a\",\"kind\":\"online\",\"payload\":true,\"time_ms\":[0-9]+\\}$" "$ev" &&
	test_grep "^\\{\"tcu\":\"tcu-b\",\"kind\":\"report\",\"id\":\"$id\",\"payload\":\\{\"id\":\"$id\",\"status\":\"in progress\"\\},\"time_ms\":[0-9]+\\}$" "$ev" &&
	! grep -q tcu-c "$ev" &&
	test "$(wc -l <"$ev")" = 3
'

test_expect_success BROKER 'fleet: a payload outside the contract is skipped with its topic named' '
	bg_start hostile fota fleet -c platform.yaml -t tcu-c --json --timeout 10 &&
	wait_until "grep -q \"tcu-c.*online\" \"$TRASH/hostile.out\"" &&
	broker_pub tcu-c -q 1 -t fota/tcu-c/status -m "{\"update_status\": 2" &&
	broker_pub tcu-c -q 1 -t fota/tcu-c/online -m maybe &&
	broker_pub tcu-c -q 1 -t fota/tcu-c/report/x -m "[1]" &&
	broker_pub tcu-c -q 1 -t fota/tcu-c/online -m false &&
	wait_until "grep -q payload.:false \"$TRASH/hostile.out\"" &&
	bg_stop hostile &&
	test_grep "fota/tcu-c/status: ignored: not one JSON object" "$TRASH/hostile.err" &&
	test_grep "fota/tcu-c/online: ignored: not true or false" "$TRASH/hostile.err" &&
	test_grep "fota/tcu-c/report/x: ignored: not one JSON object" "$TRASH/hostile.err" &&
	test "$(wc -l <"$TRASH/hostile.out")" = 2
'

test_expect_success BROKER 'fleet --wait: exit 0 when every TCU succeeded' '
	fota request -e hydraulics --sw-version 1.0 --expires +2h fw.hex >w1.yaml 2>/dev/null &&
	w1=$(sed -n "s/^id: //p" w1.yaml) &&
	bg_start wait1 fota fleet -c platform.yaml -t tcu-a -t tcu-b --id "$w1" --wait --timeout 20 &&
	sleep 1 &&
	broker_pub tcu-a -q 1 -r -t fota/tcu-a/status -m "$(status tcu-a "$w1" 3 "update in progress")" &&
	broker_pub tcu-a -q 1 -r -t fota/tcu-a/status -m "$(status tcu-a "$w1" 64 "update successful")" &&
	broker_pub tcu-b -q 1 -t "fota/tcu-b/report/$w1" -m "{\"id\":\"$w1\",\"status\":\"successful\"}" &&
	wait $(bg_pid wait1) &&
	test_grep "^2 successful, 0 failed, 0 pending of 2 TCUs$" "$TRASH/wait1.out"
'

test_expect_success BROKER 'fleet --wait: exit 1 when one failed; a retained final status counts' '
	fota request -e hydraulics --sw-version 1.0 --expires +2h fw.hex >w2.yaml 2>/dev/null &&
	w2=$(sed -n "s/^id: //p" w2.yaml) &&
	broker_pub tcu-a -q 1 -r -t fota/tcu-a/status -m "$(status tcu-a "$w2" 64 "update successful")" &&
	bg_start wait2 fota fleet -c platform.yaml -t tcu-a -t tcu-b --id "$w2" --wait --timeout 20 --json &&
	sleep 1 &&
	broker_pub tcu-b -q 1 -t "fota/tcu-b/report/$w2" -m "{\"id\":\"$w2\",\"status\":\"failed\",\"reason\":\"bad crc\"}" &&
	test_expect_code 1 wait $(bg_pid wait2) &&
	test_grep "^\\{\"kind\":\"summary\",\"successful\":1,\"failed\":1,\"pending\":0\\}$" "$TRASH/wait2.out" &&
	test_grep "tcu-b: failed" "$TRASH/wait2.err"
'

test_expect_success BROKER 'fleet --wait: exit 4 on timeout, naming the TCU still pending' '
	id=$(cat id) &&
	t0=$(date +%s%N) &&
	test_expect_code 4 fota fleet -c platform.yaml -t tcu-a -t tcu-c --id "$id" --wait \
		--timeout 2 >out 2>err &&
	test "$(elapsed_ms $t0)" -lt 5000 &&
	test_grep "tcu-c: no final result" err &&
	test_grep "tcu-a: no final result" err &&
	test_grep "^0 successful, 0 failed, 2 pending of 2 TCUs$" out
'

test_expect_success BROKER 'fleet --wait survives a broker restart: reconnects, retained statuses count' '
	fota request -e hydraulics --sw-version 1.0 --expires +2h fw.hex >w3.yaml 2>/dev/null &&
	w3=$(sed -n "s/^id: //p" w3.yaml) &&
	bg_start wait3 fota fleet -c platform.yaml -t tcu-a -t tcu-b --id "$w3" --wait --timeout 60 &&
	sleep 1 &&
	broker_pub tcu-a -q 1 -r -t fota/tcu-a/status -m "$(status tcu-a "$w3" 64 "update successful")" &&
	broker_kill KILL &&
	broker_start &&
	broker_pub tcu-b -q 1 -r -t fota/tcu-b/status -m "$(status tcu-b "$w3" 64 "update successful")" &&
	wait $(bg_pid wait3) &&
	test_grep "^2 successful, 0 failed, 0 pending of 2 TCUs$" "$TRASH/wait3.out" &&
	test_grep "^fota fleet: warning: broker 127.0.0.1:[0-9]+: The connection was lost; reconnecting$" \
		"$TRASH/wait3.err" &&
	test_grep "^fota fleet: broker 127.0.0.1:[0-9]+: reconnected$" "$TRASH/wait3.err"
'

test_done
