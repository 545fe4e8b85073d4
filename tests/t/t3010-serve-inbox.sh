#!/bin/sh
test_description='fota serve: a bad request file never replaces an earlier report or archived request'
. "$(dirname "$0")/lib.sh"

ID=3f2b8c1e-9a4d-4e7f-8b21-0c5d6e7f8a90
ST=$TRASH/state

test_expect_success 'setup: an earlier update is archived and reported successful' '
	mkdir -p $ST/inbox $ST/outbox $ST/done &&
	printf "{ \"id\": \"%s\", \"status\": \"successful\", \"update_status\": 64 }\n" $ID \
		>$ST/outbox/$ID.json &&
	cp $ST/outbox/$ID.json report.orig &&
	printf "id: %s\necu: hydraulics\n" $ID >$ST/done/$ID.yaml &&
	cp $ST/done/$ID.yaml done.orig &&
	bg_start serve fota serve -c "$FOTA_SRC/examples/fota.yaml" -b "$BUS" --state-dir "$ST" &&
	wait_until "grep -q \"node 0x27 on\" serve.err"
'

test_expect_success 'a malformed request named after that update is rejected on its own' '
	printf "id: bad\n" >$ST/inbox/.tmp && mv $ST/inbox/.tmp $ST/inbox/$ID.yaml &&
	wait_until "test -f $ST/outbox/rejected-$ID.json" &&
	test_grep "\"status\": \"failed\"" $ST/outbox/rejected-$ID.json &&
	test_grep "not offered" serve.err
'

test_expect_success 'the earlier report and the archived request are untouched' '
	test_cmp report.orig $ST/outbox/$ID.json &&
	test_cmp done.orig $ST/done/$ID.yaml &&
	wait_until "test -f $ST/done/$ID.yaml.1" &&
	printf "id: bad\n" >expect && test_cmp expect $ST/done/$ID.yaml.1 &&
	! test -e $ST/inbox/$ID.yaml
'

test_expect_success 'a malformed request with that id (a UUID) leaves its report alone too' '
	printf "id: %s\necu: hydraulics\ncolour: red\n" $ID >$ST/inbox/.tmp &&
	mv $ST/inbox/.tmp $ST/inbox/again.yaml &&
	wait_until "test -f $ST/done/again.yaml" &&
	test_cmp report.orig $ST/outbox/$ID.json &&
	! test -e $ST/outbox/rejected-again.json &&
	test_grep "again.yaml: request id already handled" serve.err
'

ID2=0c1d2e3f-4a5b-4c6d-9e8f-0a1b2c3d4e5f
ID3=6a7b8c9d-0e1f-4a2b-ac3d-4e5f6a7b8c9d
ID4=9e8d7c6b-5a49-4838-b726-15f4e3d2c1b0
gen_hex 64 3 >fw.hex
sha=$(sha256sum fw.hex | cut -d" " -f1)

test_expect_success 'a request with an unknown key is reported under its id' '
	printf "id: %s\necu: hydraulics\nfirmware: %s\nsha256: %s\ncolour: red\n" \
		$ID2 "$TRASH/fw.hex" $sha >$ST/inbox/.tmp &&
	mv $ST/inbox/.tmp $ST/inbox/colour.yaml &&
	wait_until "test -f $ST/done/colour.yaml" &&
	wait_until "test -f $ST/outbox/$ID2.json" &&
	test_grep "\"id\": \"$ID2\"" $ST/outbox/$ID2.json &&
	test_grep "\"status\": \"failed\"" $ST/outbox/$ID2.json &&
	test_grep "\"reason\": \".*colour" $ST/outbox/$ID2.json &&
	! test -e $ST/outbox/rejected-colour.json
'

test_expect_success 'a request with a wrong digest is rejected under its id' '
	printf "id: %s\necu: hydraulics\nfirmware: %s\nsha256: %064d\n" \
		$ID3 "$TRASH/fw.hex" 0 >$ST/inbox/.tmp &&
	mv $ST/inbox/.tmp $ST/inbox/hash.yaml &&
	wait_until "test -f $ST/done/hash.yaml" &&
	test_grep "sha256 mismatch" $ST/outbox/$ID3.json
'

test_expect_success 'nothing was offered' '
	fota status -b "$BUS" --json >st.json &&
	test_grep "\"update_available\": 0" st.json
'

test_expect_success 'status --wait=available --id gives up on a refused request' '
	test_expect_code 3 fota status -b "$BUS" --wait=available --id $ID3 --state-dir $ST \
		--timeout 20 2>err &&
	test_grep "update request $ID3 was refused by fota serve: .*sha256 mismatch" err
'

test_expect_success 'status --wait=available --id: a newer inbox/ID.yaml is waited for' '
	cp -R $ST st2 &&
	cp $ST/done/hash.yaml st2/inbox/$ID3.yaml &&
	test_expect_code 4 fota status -b "$BUS" --wait=available --id $ID3 --state-dir st2 \
		--timeout 2 2>err &&
	test_grep "still 0x00" err
'

test_expect_success 'status --wait=available without --id: a refusal during the wait ends it' '
	{ fota status -b "$BUS" --wait=available --state-dir $ST --timeout 20 >out.w 2>err.w
	  echo $? >rc.w; } &
	wait_until "grep -q update_status err.w" &&
	printf "id: %s\necu: nosuch\nfirmware: fw.hex\nsha256: %s\n" $ID4 $sha >$ST/inbox/.tmp &&
	mv $ST/inbox/.tmp $ST/inbox/ecu.yaml &&
	wait_until "test -s rc.w" 25 &&
	echo 3 >expect && test_cmp expect rc.w &&
	test_grep "update request $ID4 \\(ecu.yaml\\) was refused by fota serve: unknown ECU" err.w
'

test_expect_success 'status --json shows the last refusal read from the state directory' '
	fota status -b "$BUS" --json --state-dir $ST >st.json &&
	test_grep "\"last_rejection\": { \"id\": \"$ID4\", \"request_file\": \"ecu.yaml\"" st.json &&
	fota status -b "$BUS" --json --state-dir $TRASH >st.json &&
	test_grep "\"last_rejection\": null" st.json
'

test_expect_success 'the same id with the digest corrected is accepted and offered' '
	printf "id: %s\necu: hydraulics\nfirmware: %s\nsha256: %s\n" \
		$ID3 "$TRASH/fw.hex" $sha >$ST/inbox/.tmp &&
	mv $ST/inbox/.tmp $ST/inbox/hash.yaml &&
	wait_until "fota status -b \"$BUS\" --json | grep -q \"update_available.: 1\"" &&
	test_grep "\"status\": \"pending\"" $ST/outbox/$ID3.json &&
	test_grep "\"event\": \"rejected\"" $ST/outbox/$ID3.json &&
	test_grep "\"event\": \"offered\"" $ST/outbox/$ID3.json
'

test_expect_success 'the same id with the unknown key removed is accepted, queued after it' '
	printf "id: %s\necu: hydraulics\nfirmware: %s\nsha256: %s\n" \
		$ID2 "$TRASH/fw.hex" $sha >$ST/inbox/.tmp &&
	mv $ST/inbox/.tmp $ST/inbox/colour.yaml &&
	wait_until "grep -q \"\\\"status\\\": \\\"pending\\\"\" $ST/outbox/$ID2.json" &&
	test_grep "\"event\": \"received\"" $ST/outbox/$ID2.json
'

test_done
