#!/bin/sh
test_description='every external symbol of libfota.a has a project prefix'
. "$(dirname "$0")/lib.sh"

test_expect_success 'no symbol outside the allowed prefixes (never can_)' '
	nm -g --defined-only "$FOTA_BUILD/libfota.a" | awk "NF == 3 { print \$3 }" |
		grep -v "^__odr_asan" | grep -v -E "^(fota|bus|canif|cfg|loop|upd|ihex|isotp|uds|sdo|od|cmd)_" >bad || true
	test_must_be_empty bad
'

test_done
