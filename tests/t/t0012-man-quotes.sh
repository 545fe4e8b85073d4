#!/bin/sh
test_description='man pages render with balanced, unnested quotes'
. "$(dirname "$0")/lib.sh"

test_lazy_prereq MANDOC 'command -v mandoc'

# mandoc -Tlint accepts `.Pq Ql can0 , Ql vcan0`, which renders as
# (‘can0, ‘vcan0’’); tests/manquotes.pl checks what a reader sees.
test_expect_success MANDOC 'every page: quotes balanced and not nested' '
	for p in "$FOTA_SRC"/man/*.[1-8]; do
		perl "$FOTA_SRC/tests/manquotes.pl" "$p" || return 1
	done
'

page()
{
	printf '.Dd November 21, 2026\n.Dt T 1\n.Os\n.Sh NAME\n.Nm t\n.Nd t\n'
	printf '.Sh DESCRIPTION\n'
	printf '%s\n' "$@"
}

test_expect_success MANDOC 'the checker finds nested quotes and text quoted by mistake' '
	page "a bus" ".Pq Ql can0 , Ql vcan0" >nested.1 &&
	test_expect_code 1 perl "$FOTA_SRC/tests/manquotes.pl" nested.1 >out &&
	test_grep "quote ‘ opens inside" out &&
	page "a frame" ".Pq Ql 627#2B No for 5 minutes ." >no.1 &&
	test_expect_code 1 perl "$FOTA_SRC/tests/manquotes.pl" no.1 >out &&
	test_grep "no.1:9: No inside" out &&
	page "a bus" .Po ".Ql can0 ," ".Ql vcan0" .Pc "or" ".Ql unix: Ns Ar dir" >good.1 &&
	perl "$FOTA_SRC/tests/manquotes.pl" good.1 >out &&
	test_must_be_empty out
'

test_done
