#!/bin/sh
# SPDX-License-Identifier: MIT
# vcan: skip (files and signatures: the same on every bus)
test_description='fota serve with trust: a signed request is flashed; forged, stale and replayed ones are refused and nothing reaches the ECU'
. "$(dirname "$0")/lib.sh"

ST=$TRASH/state

# cfg THRESHOLD: the configuration with keys k1 and k2 trusted
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
      - { start: 0x08000000, size: 0x10000 }
trust:
  threshold: $1
  keys:
    - { name: platform, file: k1.pub }
    - { name: release, file: k2.pub }
EOF
}

# field NAME: the raw value of one status line (update_available, ...)
field()
{
	timeout -k 2 10 fota status -b "$BUS" | sed -n "s/^$1: \([^ ]*\).*/\1/p"
}

# serve NAME CONFIG [VAR=VALUE]: fota serve on $ST, every frame it sends or sees in NAME.trace
serve()
{
	daemon "$1" env $3 fota serve -c "$2" -b "$BUS" --state-dir "$ST" --trace "$TRASH/$1.trace" &&
	wait_until "grep -q \"on $BUS\" \"$TRASH/$1.err\" || test -f \"$TRASH/$1.rc\"" 10 &&
	grep -q "on $BUS" "$TRASH/$1.err"
}

# refused ID CODE REASON: the request ID was refused with reason_code CODE, never offered
refused()
{
	wait_until "grep -q '\"status\": \"failed\"' $ST/outbox/$1.json" 10 &&
	test_grep "^  \"reason_code\": \"$2\"" $ST/outbox/$1.json &&
	test_grep "^  \"reason\": \".*$3" $ST/outbox/$1.json &&
	! grep -q '"event": "offered"' $ST/outbox/$1.json &&
	test "$(field update_available)" = 0x00
}

# the ECU's physical request id and the bootloader switch frame, in candump -l lines
ecu_frames()
{
	grep -c -E " (7E0|700)#" "$1" || true
}

# osign BODY KEY: BODY's signature line by KEY, made with the openssl tool alone
# (an independent signer: the envelope is plain bytes, RFC 8032 Ed25519)
osign()
{
	o_id=$(openssl pkey -in "$2" -pubout -outform DER | tail -c 32 | openssl dgst -sha256 -r |
		cut -c1-16) &&
	o_sig=$(openssl pkeyutl -sign -inkey "$2" -rawin -in "$1" | od -An -v -tx1 | tr -d " \n") &&
	printf "#fota-sig ed25519 %s %s\n" "$o_id" "$o_sig"
}

test_expect_success 'keygen: a 0600 private key, a public key, the key id on stdout' '
	fota keygen k1 >id1 &&
	test "$(stat -c %a k1.key)" = 600 &&
	test_grep "^-----BEGIN PRIVATE KEY-----" k1.key &&
	test_grep "^-----BEGIN PUBLIC KEY-----" k1.pub &&
	test_grep "^[0-9a-f]{16}$" id1 &&
	fota keygen k2 >id2 && fota keygen evil >id3 &&
	! test_cmp id1 id2
'

test_expect_success 'keygen never overwrites a key, and writes no half pair' '
	cp k1.key k1.key.orig &&
	test_expect_code 1 fota keygen k1 2>err &&
	test_grep "k1.key: exists already" err &&
	test_cmp k1.key.orig k1.key &&
	fota keygen x >/dev/null && rm x.key && cp x.pub x.pub.orig &&
	test_expect_code 1 fota keygen x 2>err &&
	test_grep "x.pub: exists already" err &&
	! test -e x.key && test_cmp x.pub.orig x.pub
'

test_expect_success 'request --sign: needs --sw-version, a future --expires, a private key' '
	gen_hex 256 3 >small.hex &&
	test_expect_code 2 fota request -e hydraulics --sign k1.key small.hex 2>err &&
	test_grep "needs --sw-version" err &&
	test_expect_code 2 fota request -e hydraulics --sw-version 1 --expires 2020-01-01T00:00:00Z \
		--sign k1.key small.hex 2>err &&
	test_grep "that time has passed" err &&
	test_expect_code 2 fota request -e hydraulics --sw-version 1.x small.hex 2>err &&
	test_grep "invalid --sw-version" err &&
	test_expect_code 2 fota request -e hydraulics --expires tomorrow small.hex 2>err &&
	test_grep "invalid --expires" err &&
	test_expect_code 3 fota request -e hydraulics --sw-version 1 --sign k1.pub small.hex \
		>out 2>err &&
	test_grep "k1.pub: not an unencrypted PEM private key" err && test_must_be_empty out &&
	fota request -e hydraulics --sw-version 1.2 --expires +2h --not-before +1h \
		--allow-downgrade --sign k1.key small.hex >r.yaml 2>/dev/null &&
	test_grep "^version: \"1.2\"$" r.yaml && test_grep "^size: [0-9]+$" r.yaml &&
	test_grep "^expires: 20[0-9-]+T[0-9:]+Z$" r.yaml && test_grep "^not_before: " r.yaml &&
	test_grep "^allow_downgrade: true$" r.yaml &&
	test_grep "^#fota-sig ed25519 $(cat id1) [0-9a-f]{128}$" r.yaml &&
	test "$(tail -n 1 r.yaml | cut -c1-9)" = "#fota-sig"
'

test_expect_success 'setup: firmware images, simulated ECU, fota serve trusting k1 and k2' '
	cfg 1 >fota.yaml && cfg 2 >fota2.yaml &&
	gen_hex 8192 7 >fw.hex &&
	fota hexinfo --bin=fw.bin --range=0x08000000-0x0800ffff fw.hex &&
	gen_hex 8192 8 >fw2.hex &&
	fota hexinfo --bin=fw2.bin --range=0x08000000-0x0800ffff fw2.hex &&
	daemon ecu fota ecu -c fota.yaml -e hydraulics -b "$BUS" --memory mem.bin \
		--ready-file ecu.ready &&
	wait_until "test -f ecu.ready" 10 &&
	serve s1 fota.yaml &&
	test_grep "trust: 2 keys \\(.* \\(platform\\), .* \\(release\\)\\), threshold 1, signatures required" s1.err &&
	if test -f $ST/state; then cp $ST/state state.backup; fi
'

test_expect_success 'a signed request is offered, flashed, and its version recorded' '
	cp fw.hex fw-a.hex &&
	fota request -c fota.yaml -e hydraulics --sw-version 2.0 --sign k1.key \
		--inbox $ST/inbox fw-a.hex >ok.id &&
	ok=$(cat ok.id) &&
	wait_until "test \"\$(field update_available)\" = 0x01" 10 &&
	test_grep "^  \"signed\": true" $ST/outbox/$ok.json &&
	test_grep "^  \"version\": \"2.0\"" $ST/outbox/$ok.json &&
	fota approve -b "$BUS" &&
	wait_until "test \"\$(field update_status)\" = 0x10" 30 &&
	cmp mem.bin fw.bin &&
	fota health ok -b "$BUS" &&
	test "$(field update_status)" = 0x40 &&
	test_grep "^hydraulics 2.0$" $ST/versions &&
	ecu_frames s1.trace >frames.before && test "$(cat frames.before)" -gt 0
'

# mk NAME [OPTIONS]: a request for fw.hex signed by k1 (version 2.1), written to NAME
mk()
{
	m_n=$1
	shift
	fota request -c fota.yaml -e hydraulics --sw-version 2.1 -o "$m_n" "$@" fw.hex >"$m_n.id"
}

# put NAME: into the inbox under its id
put()
{
	cp "$1" "$ST/inbox/.tmp" && mv "$ST/inbox/.tmp" "$ST/inbox/$(cat "$1.id").yaml"
}

test_expect_success 'a flipped byte in the signed request: bad signature' '
	mk flip.yaml --sign k1.key &&
	sed "s/^version: \"2.1\"/version: \"2.2\"/" flip.yaml >flip.new && mv flip.new flip.yaml &&
	put flip.yaml &&
	refused "$(cat flip.yaml.id)" bad_signature "bad signature: the signature by key $(cat id1) \\(platform\\)"
'

test_expect_success 'a flipped byte in the firmware: refused before any byte is flashed' '
	cp fw.hex fw-flip.hex &&
	fota request -c fota.yaml -e hydraulics --sw-version 2.1 --sign k1.key -o fwflip.yaml \
		fw-flip.hex >fwflip.yaml.id &&
	awk "NR == 2 { c = substr(\$0, 12, 1); \$0 = substr(\$0, 1, 11) (c == \"0\" ? \"1\" : \"0\") substr(\$0, 13) } 1" \
		fw-flip.hex >t.hex && mv t.hex fw-flip.hex &&
	! cmp -s fw.hex fw-flip.hex &&
	put fwflip.yaml &&
	refused "$(cat fwflip.yaml.id)" sha256_mismatch "sha256 mismatch"
'

test_expect_success 'signed by a key the TCU does not trust: unknown key' '
	mk evil.yaml --sign evil.key && put evil.yaml &&
	refused "$(cat evil.yaml.id)" unknown_key "unknown key: signed by key $(cat id3)"
'

test_expect_success 'no signature at all (the signature missing): unsigned' '
	mk bare.yaml && ! grep -q "^#fota-sig" bare.yaml && put bare.yaml &&
	refused "$(cat bare.yaml.id)" unsigned "not signed"
'

test_expect_success 'a line after the signatures: the whole file refused, malformed' '
	mk tail.yaml --sign k1.key && echo "firmware: /dev/zero" >>tail.yaml && put tail.yaml &&
	refused "$(cat tail.yaml.id)" malformed_signature "nothing but signature lines"
'

test_expect_success 'a signature by a trusted key over an expired request: expired' '
	mk exp.yaml --expires +1d &&
	sed "s/^expires: .*/expires: 2026-01-01T00:00:00Z/" exp.yaml >exp.body &&
	test_grep "^expires: 2026-01-01T00:00:00Z" exp.body &&
	{ cat exp.body; osign exp.body k1.key; } >exp.yaml &&
	put exp.yaml &&
	refused "$(cat exp.yaml.id)" expired "expired at 2026-01-01T00:00:00Z"
'

test_expect_success 'not_before ahead: not yet valid' '
	mk early.yaml --not-before +1d --sign k1.key && put early.yaml &&
	refused "$(cat early.yaml.id)" not_yet_valid "not yet valid: not before "
'

test_expect_success 'a lower version than installed: rollback' '
	fota request -c fota.yaml -e hydraulics --sw-version 1.9 --sign k1.key -o old.yaml \
		fw.hex >old.yaml.id &&
	put old.yaml &&
	refused "$(cat old.yaml.id)" rollback "rollback: version 1.9 is lower than 2.0, installed on ECU hydraulics"
'

test_expect_success 'the flashed request dropped again: its id is never applied twice' '
	cp $ST/outbox/$(cat ok.id).json report.orig &&
	cp $ST/done/$(cat ok.id).yaml replay.tmp && mv replay.tmp $ST/inbox/replay.yaml &&
	wait_until "test -f $ST/done/replay.yaml" &&
	wait_until "grep -q \"replay.yaml: request id already handled\" s1.err" &&
	test_cmp report.orig $ST/outbox/$(cat ok.id).json &&
	test "$(field update_available)" = 0x00
'

test_expect_success 'nothing of the refused requests reached the ECU' '
	ecu_frames s1.trace >frames.after &&
	test_cmp frames.before frames.after &&
	test_expect_code 5 fota approve -b "$BUS" &&
	cmp mem.bin fw.bin
'

test_expect_success 'every refusal logged once, with key ids and no key or signature' '
	test "$(grep -c "not offered: bad signature" s1.err)" = 1 &&
	test "$(grep -c "not offered: unknown key" s1.err)" = 1 &&
	! grep -E "[0-9a-f]{64}" s1.err | grep -v "sha256 mismatch" &&
	! grep -q "BEGIN" s1.err
'

test_expect_success 'state file restored from a backup: a replay is still refused, rollback too' '
	ends_within s1 TERM 1500 &&
	if test -f state.backup; then cp state.backup $ST/state; else rm $ST/state; fi &&
	serve s2 fota.yaml &&
	cp $ST/done/$(cat ok.id).yaml replay.tmp && mv replay.tmp $ST/inbox/replay2.yaml &&
	wait_until "test -f $ST/done/replay2.yaml" &&
	wait_until "grep -q \"replay2.yaml: request id already handled\" s2.err" &&
	fota request -c fota.yaml -e hydraulics --sw-version 1.8 --sign k1.key -o old2.yaml \
		fw.hex >old2.yaml.id &&
	put old2.yaml &&
	refused "$(cat old2.yaml.id)" rollback "lower than 2.0" &&
	ends_within s2 TERM 1500
'

test_expect_success 'a clock earlier than the build: refused, the log and report say so' '
	serve s2c fota.yaml FOTA_CLOCK_FLOOR=2099-01-01T00:00:00Z &&
	mk clock.yaml --sign k1.key && put clock.yaml &&
	refused "$(cat clock.yaml.id)" clock_not_set "clock not set: the wall clock reads .*, before 2099-01-01T00:00:00Z" &&
	wait_until "grep -q \"not offered: clock not set\" s2c.err" &&
	ends_within s2c TERM 1500
'

test_expect_success 'threshold 2: one signature is not enough' '
	serve s3 fota2.yaml &&
	mk one.yaml --sign k1.key && put one.yaml &&
	refused "$(cat one.yaml.id)" threshold_not_met "1 of the 2"
'

test_expect_success 'threshold 2, signed by k1 then k2 (fota sign): offered; allow_downgrade lets 1.9 in' '
	fota request -c fota.yaml -e hydraulics --sw-version 1.9 --allow-downgrade --sign k1.key \
		-o two.yaml fw2.hex >two.yaml.id &&
	test_expect_code 3 fota sign -k k2.key bare.yaml 2>err &&
	fota sign -k k2.key two.yaml &&
	test "$(grep -c "^#fota-sig ed25519 " two.yaml)" = 2 &&
	fota sign -k k1.key two.yaml &&
	test "$(grep -c "^#fota-sig ed25519 " two.yaml)" = 2 &&
	cp fw2.hex fw2-orig.hex && put two.yaml &&
	wait_until "test \"\$(field update_available)\" = 0x01" 10 &&
	test_grep "^  \"signed\": true" $ST/outbox/$(cat two.yaml.id).json
'

test_expect_success 'the firmware swapped after verification: the verified bytes are flashed' '
	cp fw.hex fw2.hex &&
	fota approve -b "$BUS" &&
	wait_until "test \"\$(field update_status)\" = 0x10" 30 &&
	cmp mem.bin fw2.bin &&
	fota health ok -b "$BUS" &&
	test "$(field update_status)" = 0x40 &&
	test_grep "^hydraulics 2.0$" $ST/versions &&
	ends_within s3 TERM 1500
'

test_done
