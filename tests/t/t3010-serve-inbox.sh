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

test_expect_success 'nothing was offered' '
	fota status -b "$BUS" --json >st.json &&
	test_grep "\"update_available\": 0" st.json
'

test_done
