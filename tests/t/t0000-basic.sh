#!/bin/sh
test_description='dispatch, help, version, exit codes, symlinks'
. "$(dirname "$0")/lib.sh"

cmds=$(fota __complete commands | cut -f1)

test_expect_success 'there are commands' '
	test -n "$cmds"
'

test_expect_success 'no arguments: overview on stderr, status 2' '
	test_expect_code 2 fota >out 2>err &&
	test_must_be_empty out &&
	test_grep "^usage: fota COMMAND" err
'

test_expect_success '--help, -h and help: overview on stdout listing every command' '
	fota --help >out 2>err &&
	test_must_be_empty err &&
	fota -h >out2 && fota help >out3 &&
	test_cmp out out2 && test_cmp out out3 &&
	for c in $cmds; do test_grep "^  $c " out || return 1; done
'

test_expect_success 'the hidden helper is not in the overview' '
	fota --help >out &&
	test_grep -v "__complete" out
'

test_expect_success '--version' '
	fota --version >out &&
	test_grep "^fota [0-9]+\.[0-9]+\.[0-9]+$" out &&
	fota -V >out2 && test_cmp out out2
'

test_expect_success 'every command: --help on stdout, exit 0, usage first' '
	for c in $cmds; do
		fota $c --help >out 2>err || return 1
		test_must_be_empty err || return 1
		head -1 out | grep "^usage: fota $c" >/dev/null || { echo "$c: bad first line" >&2; return 1; }
	done
'

test_expect_success 'every command: fota-CMD --help, fota help CMD and fota CMD --help agree' '
	for c in $cmds; do
		fota $c --help >a && fota-$c --help >b && fota help $c >c &&
		test_cmp a b && test_cmp a c || return 1
	done
'

test_expect_success 'every command: an unknown option is a usage error (2) with one clear line' '
	for c in $cmds; do
		test_expect_code 2 fota $c --no-such-option >out 2>err || return 1
		test_must_be_empty out || return 1
		head -1 err | grep "^fota $c: unknown option .--no-such-option.$" >/dev/null ||
			{ cat err >&2; return 1; }
		test_expect_code 2 fota-$c --no-such-option 2>err || return 1
		head -1 err | grep "^fota-$c: unknown option" >/dev/null || return 1
	done
'

test_expect_success 'unknown command: status 2 and a pointer to --help' '
	test_expect_code 2 fota flsh 2>err &&
	test_grep "^fota: .flsh. is not a fota command; see .fota --help.$" err
'

test_expect_success 'commands match exactly, never by prefix' '
	test_expect_code 2 fota hex --help 2>err &&
	test_grep "is not a fota command" err
'

test_expect_success 'unknown fota-NAME link: status 127' '
	ln -s "$FOTA_BINDIR/fota" fota-nosuch &&
	test_expect_code 127 ./fota-nosuch 2>err &&
	test_grep "^fota-nosuch: unknown fota command$" err
'

test_expect_success 'unknown global option: status 2' '
	test_expect_code 2 fota --frobnicate 2>err &&
	test_grep "unknown option" err
'

test_expect_success 'help for an unknown command: status 2' '
	test_expect_code 2 fota help nosuch 2>err &&
	test_grep "is not a fota command" err
'

test_expect_success 'a write error on stdout is an error (status 1), not silent success' '
	test -w /dev/full || return 0
	test_expect_code 1 fota --help >/dev/full 2>err &&
	test_grep "write error on standard output" err &&
	c=$(echo "$cmds" | head -1) &&
	test_expect_code 1 fota $c --help >/dev/full 2>err &&
	test_grep "^fota $c: write error on standard output" err
'

test_expect_success 'install created a fota-CMD link for every command' '
	for c in $cmds; do
		test -L "$FOTA_BINDIR/fota-$c" || { echo "no fota-$c" >&2; return 1; }
		test "$(readlink "$FOTA_BINDIR/fota-$c")" = fota || return 1
	done
'

test_done
