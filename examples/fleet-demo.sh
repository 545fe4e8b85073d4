#!/bin/sh
# SPDX-License-Identifier: MIT
# examples/fleet-demo.sh: one update campaign over MQTT (fota-mqtt(7)) for a
# small fleet on this machine: a mosquitto broker with TLS client
# certificates and examples/mosquitto/acl, an HTTPS server holding the
# firmware, and TCUS (default 3) TCUs, each a `fota serve` with its own
# simulated ECU (`fota ecu`) on its own virtual bus (unix:DIR). The platform
# signs and publishes one request to all of them (`fota publish`) and follows
# the campaign (`fota fleet --wait`); each TCU downloads the firmware,
# offers it, and an operator per TCU approves it and reports the ECU healthy.
# Runs after `make` and tests/install-deps.sh (mosquitto, openssl, python3;
# no CAN hardware, no root): `make fleet-demo`, or
#   FOTA=build/fota TCUS=5 sh examples/fleet-demo.sh
# Everything lives in a temporary directory removed at the end
# (DEMO_KEEP=1 keeps it).
set -eu

here=$(cd "$(dirname "$0")" && pwd)
FOTA=${FOTA:-fota}
case "$FOTA" in */*) FOTA=$(cd "$(dirname "$FOTA")" && pwd)/$(basename "$FOTA") ;; esac
TCUS=${TCUS:-3}
dir=$(mktemp -d "${TMPDIR:-/tmp}/fota-fleet-demo.XXXXXX")
. "$here/demo-lib.sh"

# cert NAME SUBJECT EXTENSION: NAME.key and NAME.crt signed by the demo CA
cert()
{
	openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout "pki/$1.key" \
		-out "pki/$1.csr" -subj "$2" 2>/dev/null
	printf '%s\n' "$3" >"pki/$1.ext"
	openssl x509 -req -in "pki/$1.csr" -CA pki/ca.crt -CAkey pki/ca.key -CAcreateserial \
		-days 1 -extfile "pki/$1.ext" -out "pki/$1.crt" 2>/dev/null
	rm -f "pki/$1.csr" "pki/$1.ext"
}

free_port()
{
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

cd "$dir"
tcus=$(seq -f "tcu-%g" 1 "$TCUS")

step "certificates: a CA, the broker (localhost), the platform and $TCUS TCUs (CN = client id)"
mkdir pki
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
	-keyout pki/ca.key -out pki/ca.crt -days 1 -subj "/CN=fota demo CA" \
	-addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign \
	2>/dev/null
cert server /CN=localhost "subjectAltName=IP:127.0.0.1,DNS:localhost"
for n in platform $tcus; do
	cert "$n" "/CN=$n" extendedKeyUsage=clientAuth
done
ls pki/*.crt

port=$(free_port)
step "broker: mosquitto on 127.0.0.1:$port, examples/mosquitto/mosquitto.conf with this demo's paths"
mkdir broker
sed -e "s|^listener .*|listener $port 127.0.0.1|" \
	-e "s|^persistence_location .*|persistence_location $dir/broker/|" \
	-e "s|^cafile .*|cafile $dir/pki/ca.crt|" \
	-e "s|^certfile .*|certfile $dir/pki/server.crt|" \
	-e "s|^keyfile .*|keyfile $dir/pki/server.key|" \
	-e "s|^acl_file .*|acl_file $here/mosquitto/acl|" \
	"$here/mosquitto/mosquitto.conf" >broker/mosquitto.conf
printf 'user %s\nlog_dest file %s/broker/mosquitto.log\n' "$(id -un)" "$dir" >>broker/mosquitto.conf
mosquitto -c broker/mosquitto.conf 2>broker/err &
demo_bg $!
until_ok 10 grep -q "running" broker/mosquitto.log
grep -v "^#" broker/mosquitto.conf | grep .

step "firmware: a 16 KiB Intel HEX image for ECU hydraulics, on an HTTPS server"
mkdir www
demo_hex 7 >www/hydraulics-3.0.hex
python3 "$here/../tests/helper/https_server.py" www pki/server.crt pki/server.key https.port \
	https.log 2>https.err &
demo_bg $!
until_ok 10 test -s https.port
url=https://127.0.0.1:$(cat https.port)/hydraulics-3.0.hex
echo "$url"

step "platform signing key: fota keygen release"
"$FOTA" keygen release

step "$TCUS TCUs: fota ecu and fota serve each, examples/fota.yaml + trust: + platform:"
for t in $tcus; do
	mkdir "$t"
	{
		# p2_ms: TCUS simulated ECUs share this machine's CPU with their
		# TCUs and answer later than a real ECU's 50 ms
		sed -e "s|/tmp/fota-demo|$dir/$t|" -e "s|p2_ms: 50$|p2_ms: 1000|" "$here/fota.yaml"
		printf 'trust:\n  keys:\n    - { name: release, file: %s/release.pub }\n' "$dir"
		cat <<-EOF
		platform:
		  mqtt:
		    url: mqtts://127.0.0.1:$port
		    client_id: $t
		    ca: $dir/pki/ca.crt
		    cert: $dir/pki/$t.crt
		    key: $dir/pki/$t.key
		  download:
		    ca: $dir/pki/ca.crt
		    max_bytes: 1048576
		EOF
	} >"$t/fota.yaml"
	"$FOTA" ecu -c "$t/fota.yaml" -e hydraulics --memory "$t/ecu-flash.bin" \
		--ready-file "$t/ecu.ready" 2>"$t/ecu.log" &
	demo_bg $!
done
for t in $tcus; do until_ok 10 test -f "$t/ecu.ready"; done
for t in $tcus; do
	"$FOTA" serve -c "$t/fota.yaml" 2>"$t/serve.log" &
	demo_bg $!
done
for t in $tcus; do until_ok 10 grep -q "mqtt: connected" "$t/serve.log"; done
tail -n +1 tcu-1/fota.yaml | sed -n '/^platform:/,$p'
grep "mqtt" tcu-1/serve.log

step "the request: fota request --url (the TCUs download it), for all $TCUS TCUs"
"$FOTA" request -c tcu-1/fota.yaml -e hydraulics --sw-version 3.0.0 --expires +1h \
	--url "$url" www/hydraulics-3.0.hex >campaign.yaml
cat campaign.yaml
id=$(sed -n 's/^id: //p' campaign.yaml)
printf '%s\n' $tcus >fleet.txt
cat >platform.yaml <<EOF
platform:
  mqtt:
    url: mqtts://127.0.0.1:$port
    client_id: platform
    ca: $dir/pki/ca.crt
    cert: $dir/pki/platform.crt
    key: $dir/pki/platform.key
EOF

step "the platform follows the campaign: fota fleet --tcu-file fleet.txt --id $id --wait"
"$FOTA" fleet -c platform.yaml --tcu-file fleet.txt --id "$id" --wait --timeout 120 \
	>fleet.out 2>fleet.err &
fleet=$!

step "the platform signs and publishes: fota publish --sign release.key --tcu-file fleet.txt"
"$FOTA" publish -c platform.yaml --sign release.key --tcu-file fleet.txt campaign.yaml

step "on each machine: the offer (status available), operator approval, flash, health ok"
for t in $tcus; do
	b=unix:$dir/$t/bus
	(
		"$FOTA" status -b "$b" --wait=available --timeout 60 -q >/dev/null &&
		"$FOTA" approve -b "$b" -q &&
		"$FOTA" status -b "$b" --wait=waiting --timeout 60 -q >/dev/null &&
		"$FOTA" health ok -b "$b" -q &&
		echo "$t: approved, flashed, healthy"
	) &
done
wait_rc=0
wait "$fleet" || wait_rc=$?

step "fota fleet --wait: exit $wait_rc (0: every TCU successful); what it saw, status payloads shortened"
awk -F '\t' 'NF < 3 { print; next }
$2 == "status" {
	match($3, /"update_status_text":"[^"]*"/)
	t = substr($3, RSTART + 22, RLENGTH - 23)
	if ($3 ~ /"update_available":1/)
		t = t ", update offered"
	$3 = t
}
$2 ~ /^[0-9a-f-]+$/ {
	match($3, /"status":"[^"]*"/)
	$3 = $2 ": " substr($3, RSTART + 10, RLENGTH - 11)
	$2 = "report"
} { printf "%-6s %-8s %s\n", $1, $2, substr($3, 1, 60) }' fleet.out
cat fleet.err
[ "$wait_rc" = 0 ]

step "ECU memories compared with the image"
"$FOTA" hexinfo --bin=expected.bin --range=0x08000000-0x080fffff www/hydraulics-3.0.hex >/dev/null
for t in $tcus; do
	cmp "$t/ecu-flash.bin" expected.bin
	echo "$t/ecu-flash.bin equals the image"
done

step "what the HTTPS server saw (one download per TCU)"
cat https.log
echo
echo "demo: campaign complete on $TCUS TCUs"
