#!/bin/sh
# SPDX-License-Identifier: MIT
# vcan: skip (https and files: the same on every bus)
test_description='fota serve downloads a firmware_url over https: resumed with Range, bounded, verified; stalls, truncation, oversize, a wrong hash and a foreign certificate end as documented'
. "$(dirname "$0")/lib.sh"
. "$FOTA_SRC/tests/t/lib-broker.sh"

ST=$TRASH/state
WWW=$TRASH/www

test_lazy_prereq HTTPS 'command -v openssl && test -x /usr/bin/python3'

cfg()
{
	cat <<EOF
tcu:
  node_id: 0x27
ecus:
  - name: hydraulics
    request_id: 0x7E0
    response_id: 0x7E8
    bootloader_switch: { id: 0x700, data: "01 02", delay_ms: 50 }
    security: { level: 0x01, key: "xor:A5A5A5A5" }
    timing: { p2_ms: 1000 }
    regions:
      - { start: 0x08000000, size: 0x40000 }
trust:
  keys:
    - { name: platform, file: k1.pub }
platform:
  download:
    ca: $PKI/ca.crt
    max_bytes: 100000
    stall_timeout_s: 1
    connect_timeout_s: 5
EOF
}

field()
{
	timeout -k 2 10 fota status -b "$BUS" | sed -n "s/^$1: \([^ ]*\).*/\1/p"
}

# serve NAME: fota serve on $ST
serve()
{
	daemon "$1" fota serve -c fota.yaml -b "$BUS" --state-dir "$ST" &&
	wait_until "grep -q \"on $BUS\" \"$TRASH/$1.err\" || test -f \"$TRASH/$1.rc\"" 10 &&
	grep -q "on $BUS" "$TRASH/$1.err"
}

# https NAME PKIDIR: the test server for $WWW with PKIDIR's server certificate
https()
{
	daemon "$1" "$PYTHON" "$FOTA_SRC/tests/helper/https_server.py" "$WWW" "$2/server.crt" \
		"$2/server.key" "$TRASH/$1.port" "$TRASH/$1.log" &&
	wait_until "test -s \"$TRASH/$1.port\"" 10
}

url()
{
	echo "https://127.0.0.1:$(cat "$TRASH/${2:-web}.port")/$1"
}

# req FILE NAME [OPTIONS]: a signed request for local FILE served as NAME, into the inbox; its id on stdout
req()
{
	r_f=$1 r_n=$2
	shift 2
	fota request -c fota.yaml -e hydraulics --sw-version 2.1 --sign k1.key \
		--url "$(url "$r_n" "${R_SERVER:-web}")" --inbox "$ST/inbox" "$@" "$r_f" 2>/dev/null
}

# failed ID CODE REASON: the request ID ended failed with CODE, never offered, nothing left in downloads/
failed()
{
	wait_until "grep -q '\"status\": \"failed\"' $ST/outbox/$1.json" 40 &&
	test_grep "^  \"reason_code\": \"$2\"" $ST/outbox/$1.json &&
	test_grep "^  \"reason\": \".*$3" $ST/outbox/$1.json &&
	! grep -q '"event": "offered"' $ST/outbox/$1.json &&
	! test -e $ST/downloads/$1.part && ! test -e $ST/firmware/$1 &&
	test -e $ST/done/$1.yaml
}

# offered ID: the request was downloaded and offered; then rejected, to free the TCU
offered_then_reject()
{
	wait_until "test \"\$(field update_available)\" = 0x01" 30 &&
	test_grep '"event": "downloaded"' $ST/outbox/$1.json &&
	fota reject -b "$BUS" >/dev/null &&
	wait_until "grep -q '\"status\": \"cancelled\"' $ST/outbox/$1.json" 10 &&
	wait_until "test \"\$(field update_available)\" = 0x00" 10
}

fault()
{
	echo "$*" >"$WWW/.faults"
}

test_expect_success HTTPS 'setup: certificates, an https server, a simulated ECU, fota serve' '
	broker_pki &&
	(PKI=$TRASH/evil && broker_pki) &&
	mkdir -p "$WWW" &&
	fota keygen k1 >/dev/null &&
	cfg >fota.yaml &&
	gen_hex 8192 7 >fw.hex && cp fw.hex "$WWW/fw.hex" &&
	fota hexinfo --bin=fw.bin --range=0x08000000-0x0803ffff fw.hex &&
	gen_hex 8192 8 >other.hex && cp other.hex "$WWW/other.hex" &&
	test "$(stat -c %s fw.hex)" = "$(stat -c %s other.hex)" &&
	gen_hex 50000 9 >big.hex && cp big.hex "$WWW/big.hex" &&
	test "$(stat -c %s big.hex)" -gt 100000 &&
	: >"$WWW/.faults" &&
	https web "$PKI" &&
	https evil "$TRASH/evil" &&
	daemon ecu fota ecu -c fota.yaml -e hydraulics -b "$BUS" --memory mem.bin \
		--ready-file ecu.ready &&
	wait_until "test -f ecu.ready" 10 &&
	serve s1
'

test_expect_success HTTPS 'fota request --url: firmware_url with the local file'"'"'s digest and size' '
	fota request -c fota.yaml -e hydraulics --url https://h.example/fw.hex fw.hex >r.yaml \
		2>/dev/null &&
	test_grep "^firmware_url: \"https://h.example/fw.hex\"$" r.yaml &&
	! grep -q "^firmware:" r.yaml &&
	test_grep "^sha256: $(sha256sum <fw.hex | cut -c1-64)$" r.yaml &&
	test_grep "^size: $(stat -c %s fw.hex)$" r.yaml
'

test_expect_success HTTPS 'an http:// URL is refused: by fota request, and by serve at parse' '
	test_expect_code 2 fota request -c fota.yaml -e hydraulics --url http://h/fw.hex fw.hex \
		2>err &&
	test_grep "invalid --url .*only https://" err &&
	fota request -c fota.yaml -e hydraulics --url "$(url fw.hex)" fw.hex >plain.yaml \
		2>/dev/null &&
	id=$(sed -n "s/^id: //p" plain.yaml) &&
	sed "/^#fota-sig/d; s|^firmware_url: .*|firmware_url: \"http://127.0.0.1/fw.hex\"|" \
		plain.yaml >"$ST/inbox/$id.yaml" &&
	wait_until "grep -q \"status.: .failed\" $ST/outbox/$id.json" 10 &&
	test_grep "firmware_url: only https://" $ST/outbox/$id.json &&
	! grep -q "GET" "$TRASH/web.log"
'

test_expect_success HTTPS 'a signed firmware_url request: downloaded, offered, approved, flashed' '
	id=$(req fw.hex fw.hex) &&
	wait_until "test \"\$(field update_available)\" = 0x01" 30 &&
	test_grep "^GET /fw.hex range=-$" "$TRASH/web.log" &&
	test_grep "\"firmware_url\": \"https://127.0.0.1:" $ST/outbox/$id.json &&
	test_grep "\"bytes\": $(stat -c %s fw.hex)" $ST/outbox/$id.json &&
	fota approve -b "$BUS" &&
	wait_until "test \"\$(field update_status)\" = 0x10" 30 &&
	cmp mem.bin fw.bin &&
	fota health ok -b "$BUS" &&
	wait_until "grep -q \"status.: .successful\" $ST/outbox/$id.json" 10 &&
	test -z "$(ls $ST/downloads)"
'

test_expect_success HTTPS 'a server that stalls: retried, then failed (download_failed)' '
	fault /fw.hex stall 0 &&
	id=$(req fw.hex fw.hex) &&
	failed $id download_failed "4 attempts" &&
	test "$(grep -c "^GET /fw.hex" "$TRASH/web.log")" = 5
'

test_expect_success HTTPS 'HTTP 404: failed at once (download_failed), no retry' '
	fault /fw.hex status 404 &&
	: >"$TRASH/web.log" &&
	id=$(req fw.hex fw.hex) &&
	failed $id download_failed "404" &&
	test "$(grep -c "^GET" "$TRASH/web.log")" = 1
'

test_expect_success HTTPS 'a connection closed after 1000 bytes: resumed with Range from there' '
	fault /fw.hex truncate 1000 &&
	: >"$TRASH/web.log" &&
	id=$(req fw.hex fw.hex) &&
	offered_then_reject $id &&
	test_grep "^GET /fw.hex range=-$" "$TRASH/web.log" &&
	test_grep "^GET /fw.hex range=bytes=1000-$" "$TRASH/web.log" &&
	test "$(grep -c "^GET" "$TRASH/web.log")" = 2
'

test_expect_success HTTPS 'size: above max_bytes: refused before a single request' '
	: >"$WWW/.faults" && : >"$TRASH/web.log" &&
	id=$(req big.hex big.hex) &&
	failed $id download_too_big "above the limit of 100000" &&
	test_must_be_empty "$TRASH/web.log"
'

test_expect_success HTTPS 'a server that sends more than size: cut off, nothing kept' '
	fault /fw.hex swap big.hex &&
	id=$(req fw.hex fw.hex) &&
	failed $id download_too_big "more than size:"
'

test_expect_success HTTPS 'a Content-Length above size: refused before the first byte is kept' '
	fault /fw.hex lie 50 &&
	id=$(req fw.hex fw.hex) &&
	failed $id download_too_big "more than size:"
'

test_expect_success HTTPS 'another file of the same size: sha256_mismatch, the partial removed' '
	fault /fw.hex swap other.hex &&
	id=$(req fw.hex fw.hex) &&
	failed $id sha256_mismatch "sha256 mismatch"
'

test_expect_success HTTPS 'a server certificate from another CA: tls, no request ever made' '
	: >"$WWW/.faults" &&
	id=$(R_SERVER=evil req fw.hex fw.hex) &&
	failed $id tls "TLS" &&
	! grep -q GET "$TRASH/evil.log"
'

test_expect_success HTTPS 'SIGTERM mid-download: out within 1 s, the .part kept' '
	fault /fw.hex stall 3000 &&
	id=$(req fw.hex fw.hex) && echo $id >kill.id &&
	wait_until "test \"\$(stat -c %s $ST/downloads/$id.part)\" -ge 3000" 20 &&
	ends_within s1 TERM 1500 &&
	test "$(stat -c %s $ST/downloads/$id.part)" -ge 3000
'

test_expect_success HTTPS 'SIGKILL mid-download, restart: resumed from the bytes there, flashed' '
	id=$(cat kill.id) &&
	serve s2 &&
	wait_until "grep -q \"range=bytes=[1-9]\" \"$TRASH/web.log\"" 20 &&
	kill -9 "$(cat "$TRASH/s2.pid")" && ended s2 &&
	have=$(stat -c %s $ST/downloads/$id.part) && test "$have" -gt 0 &&
	: >"$WWW/.faults" && : >"$TRASH/web.log" &&
	serve s3 &&
	offered_then_reject $id &&
	test_grep "^GET /fw.hex range=bytes=$have-$" "$TRASH/web.log" &&
	test "$(grep -c "^GET" "$TRASH/web.log")" = 1
'

test_done
