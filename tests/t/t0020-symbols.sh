#!/bin/sh
test_description='every external symbol of libfota.a has a project prefix'
. "$(dirname "$0")/lib.sh"

test_expect_success 'no symbol outside the allowed prefixes (never can_)' '
	nm -g --defined-only "$FOTA_BUILD/libfota.a" | awk "NF == 3 { print \$3 }" |
		grep -v "^__odr_asan" | grep -v -E "^(fota|bus|canif|cfg|loop|upd|ihex|srec|img|isotp|uds|sdo|od|nmt|cmd)_" >bad || true
	test_must_be_empty bad
'

test_expect_success 'the in-memory test bus does not ship in the program' '
	nm "$FOTA_BINDIR/fota" >syms &&
	! grep -E " (bus_mem_|mem_open)" syms &&
	nm -g --defined-only "$FOTA_BUILD/libfota.a" >syms &&
	! grep " bus_mem_" syms
'

test_expect_success 'a mem: bus is refused like any spec that names no bus (status 2)' '
	test_expect_code 2 fota status -b mem:x 2>err &&
	echo "fota status: mem:x: not a bus (an interface name such as can0, or unix:DIR)" >expect &&
	test_cmp expect err
'

test_done
