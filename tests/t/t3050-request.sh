#!/bin/sh
test_description='fota request: a correct update request for a firmware file, accepted by fota serve'
. "$(dirname "$0")/lib.sh"

CFG=$FOTA_SRC/examples/fota.yaml
ST=$TRASH/state
UUID4='^[0-9a-f]\{8\}-[0-9a-f]\{4\}-4[0-9a-f]\{3\}-[89ab][0-9a-f]\{3\}-[0-9a-f]\{12\}$'

test_expect_success 'setup: firmware images' '
	gen_hex 512 11 >fw.hex &&
	fota hexinfo --bin=fw.bin fw.hex >/dev/null &&
	printf ":020000040800F2\n:10000000000102030405060708090A0B0C0D0E0F78\n:0000\n" >bad.hex
'

test_expect_success 'stdout: a UUID v4, the file SHA-256 hexinfo shows, the absolute path' '
	fota request -c "$CFG" -e hydraulics fw.hex >req.yaml &&
	sed -n "s/^id: //p" req.yaml >id && grep "$UUID4" id &&
	sha=$(sha256sum fw.hex | cut -d" " -f1) &&
	test_grep "^sha256: $sha$" req.yaml &&
	fota hexinfo fw.hex >info && test_grep "sha256   file  $sha" info &&
	test_grep "^firmware: \"$TRASH/fw.hex\"$" req.yaml &&
	test_grep "^ecu: \"hydraulics\"$" req.yaml &&
	! grep -q "^base:" req.yaml &&
	fota request -c "$CFG" -e hydraulics fw.hex | sed -n "s/^id: //p" >id2 &&
	! test_cmp id id2
'

test_expect_success '--base and --expect are written as the request keys' '
	fota request -c "$CFG" -e hydraulics --base 0x08000000 --expect F189=2.1.0 \
		--expect "0xf190=say \"hi\"" fw.bin >req.yaml &&
	test_grep "^base: 0x08000000$" req.yaml &&
	test_grep "^  F189: \"2.1.0\"$" req.yaml &&
	test_grep "^  F190: \"say \\\\\"hi\\\\\"\"$" req.yaml &&
	fota request -c "$CFG" -e hydraulics fw.bin@0x08000000 >req2.yaml &&
	test_grep "^base: 0x08000000$" req2.yaml
'

test_expect_success 'usage errors: exit 2, nothing written' '
	test_expect_code 2 fota request -c "$CFG" fw.hex 2>err &&
	test_grep "no ECU given" err &&
	test_expect_code 2 fota request -c "$CFG" -e hydraulics 2>err &&
	test_expect_code 2 fota request -c "$CFG" -e hydraulics -o a.yaml --inbox . fw.hex &&
	test_expect_code 2 fota request -c "$CFG" -e hydraulics --id 1234 fw.hex 2>err &&
	test_grep "invalid --id" err &&
	test_expect_code 2 fota request -c "$CFG" -e hydraulics --expect F189 fw.hex &&
	test_expect_code 2 fota request -c "$CFG" -e nosuch -o out.yaml fw.hex 2>err &&
	test_grep "no ECU named .nosuch." err &&
	test_expect_code 2 fota request -c "$CFG" -e hydraulics --base 0x100 fw.bin@0x200 &&
	! test -e out.yaml && ! test -e a.yaml
'

test_expect_success 'the firmware is parsed: a bad file is exit 3 with its line' '
	test_expect_code 3 fota request -c "$CFG" -e hydraulics -o out.yaml bad.hex 2>err &&
	test_grep "bad.hex:3: " err &&
	test_expect_code 3 fota request -c "$CFG" -e hydraulics missing.hex 2>err &&
	test_grep "missing.hex: No such file" err &&
	test_expect_code 3 fota request -c "$CFG" -e hydraulics --base 0x100 fw.bin 2>err &&
	test_grep "outside the memory regions of ECU hydraulics" err &&
	! test -e out.yaml
'

test_expect_success 'no configuration: a warning, the request still written' '
	HOME=$TRASH/home XDG_CONFIG_HOME= fota request -e anything fw.hex >req.yaml 2>err &&
	test_grep "no configuration" err &&
	test_grep "^ecu: \"anything\"$" req.yaml
'

test_expect_success '-o FILE: written atomically, nothing else left' '
	mkdir o && fota request -c "$CFG" -e hydraulics -o o/r.yaml fw.hex 2>err &&
	test_grep "^fota request: o/r.yaml: request .* for ECU hydraulics" err &&
	ls o >list && echo r.yaml >expect && test_cmp expect list &&
	test_grep "^sha256: " o/r.yaml
'

test_expect_success 'setup: fota serve' '
	mkdir -p $ST/inbox &&
	bg_start serve fota serve -c "$CFG" -b "$BUS" --state-dir "$ST" &&
	wait_until "grep -q \"node 0x27 on\" serve.err"
'

test_expect_success '--inbox: fota serve offers the request' '
	fota request -c "$CFG" -e hydraulics --inbox $ST/inbox --expect F189=2.1.0 fw.hex \
		>id 2>err &&
	ls $ST/inbox | sed -n "s/\.yaml$//p" >expect && test_cmp expect id &&
	id=$(cat id) && echo "$id" | grep "$UUID4" &&
	test_grep "$ST/inbox/$id.yaml: request $id" err &&
	wait_until "fota status -b \"$BUS\" --json | grep -q \"update_available.: 1\"" &&
	test_grep "\"status\": \"pending\"" $ST/outbox/$id.json &&
	test_grep "\"sha256\": \"$(sha256sum fw.hex | cut -d" " -f1)\"" $ST/outbox/$id.json &&
	! grep rejected serve.err
'

test_expect_success '--inbox with a raw binary and --base: received and queued' '
	fota request -q -c "$CFG" -e hydraulics --inbox $ST/inbox --base 0x08000000 \
		--id 0c1d2e3f-4a5b-4c6d-9e8f-0a1b2c3d4e5f fw.bin 2>err &&
	test_must_be_empty err &&
	r=$ST/outbox/0c1d2e3f-4a5b-4c6d-9e8f-0a1b2c3d4e5f.json &&
	wait_until "test -f $r" &&
	test_grep "\"event\": \"received\"" $r &&
	test_grep "\"image_bytes\": 512" $r
'

test_expect_success '--inbox refuses to replace a request with the same id' '
	test_expect_code 1 fota request -c "$CFG" -e hydraulics --inbox $ST/inbox \
		--id 0C1D2E3F-4A5B-4C6D-9E8F-0A1B2C3D4E5F fw.hex 2>err &&
	test_grep "exists already" err
'

test_done
