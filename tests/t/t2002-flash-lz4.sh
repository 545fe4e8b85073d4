#!/bin/sh
# SPDX-License-Identifier: MIT
# t2000's cases again, every download lz4-compressed: fota flash and fota ecu
# run with --compression lz4 (lib.sh, FOTA_TEST_COMPRESSION). Any other
# end-to-end test runs compressed the same way:
#   FOTA_TEST_COMPRESSION=deflate make check-e2e SHELL_TESTS=tests/t/t2010-flash-keepalive.sh
FOTA_TEST_COMPRESSION=${FOTA_TEST_COMPRESSION:-lz4}
export FOTA_TEST_COMPRESSION
. "$(dirname "$0")/t2000-flash.sh"
