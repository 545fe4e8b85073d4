#!/bin/sh
# SPDX-License-Identifier: MIT
test_description='the broker of the platform-link tests: TLS, client certificates, the example ACL'
. "$(dirname "$0")/lib.sh"
. "$FOTA_SRC/tests/t/lib-broker.sh"

test_expect_success BROKER 'setup: certificates and a broker with examples/mosquitto/acl' '
	broker_pki platform tcu-a tcu-b &&
	broker_start
'

test_expect_success BROKER 'a client without a certificate is refused' '
	! mosquitto_pub -h 127.0.0.1 -p "$(broker_port)" --cafile "$PKI/ca.crt" \
		-t fota/tcu-a/x -m 1 2>err &&
	test_grep "[Ee]rror|refused|lost|handshake" err
'

test_expect_success BROKER 'the platform publishes to a TCU, the TCU receives its request' '
	broker_pub platform -q 1 -r -t fota/tcu-a/request/r1 -m hello-a &&
	broker_sub tcu-a -q 1 -t "fota/tcu-a/request/#" -C 1 -W 5 -v >got &&
	echo "fota/tcu-a/request/r1 hello-a" >expect &&
	test_cmp expect got
'

test_expect_success BROKER 'TCU A cannot read B'"'"'s requests' '
	broker_pub platform -q 1 -r -t fota/tcu-b/request/r2 -m secret-b &&
	broker_sub tcu-b -q 1 -t "fota/tcu-b/request/#" -C 1 -W 5 >got-b &&
	test_grep "^secret-b$" got-b &&
	test_expect_code 27 broker_sub tcu-a -q 1 -t "fota/tcu-b/request/#" -t "fota/+/request/#" \
		-W 2 -v >got-a 2>err-a &&
	echo "fota/tcu-a/request/r1 hello-a" >expect &&
	test_cmp expect got-a
'

test_expect_success BROKER 'TCU A cannot publish B'"'"'s status; its own it can' '
	broker_pub tcu-a -q 1 -r -t fota/tcu-b/status -m forged &&
	broker_pub tcu-a -q 1 -r -t fota/tcu-a/status -m mine &&
	broker_sub platform -q 1 -t "fota/+/status" -W 2 -v >got 2>/dev/null
	echo "fota/tcu-a/status mine" >expect &&
	test_cmp expect got
'

test_expect_success BROKER 'a retained message survives the broker killed with SIGKILL' '
	broker_kill &&
	broker_start &&
	broker_sub tcu-a -q 1 -t fota/tcu-a/status -C 1 -W 5 >got &&
	echo mine >expect &&
	test_cmp expect got
'

test_done
