#!/bin/sh
# vcan: skip (command lines only: nothing is sent)
test_description='the command line: optional values after = only, messages that name option, value and range, fota help'
. "$(dirname "$0")/lib.sh"

# Every case below is a usage error found before any bus is opened: no -b is
# given, so a command line that parsed would end in "no bus given" instead.

test_expect_success 'an optional value follows =; a next word is an argument, with a hint' '
	test_expect_code 2 fota status --wait=waiting 2>err &&
	test_grep "no bus given" err &&
	test_expect_code 2 fota status --wait waiting 2>err &&
	test_grep "^fota status: unexpected argument .waiting. \(an optional value follows =: --wait=waiting\)$" err &&
	test_expect_code 2 fota status --wait -q 2>err &&
	test_grep "no bus given" err
'

test_expect_success 'the same rule for health --timeout: a number after a space is no value' '
	test_expect_code 2 fota health --timeout 5 2>err &&
	test_grep "^fota health: --timeout takes no value after a space: --set-timeout 5 sets the timeout$" err &&
	test_expect_code 2 fota health --timeout 2>err &&
	test_grep "no bus given" err
'

test_expect_success 'health --timeout/--set-timeout: a bad value names the timeout and its range' '
	for v in abc -1 65536 " 5" 0x1x; do
		test_expect_code 2 fota health --timeout "$v" >out 2>err &&
		test_grep "^fota health: invalid timeout .$v. \(0\.\.65535 minutes\)$" err &&
		test_grep "^usage: fota health" err &&
		test_must_be_empty out &&
		test_expect_code 2 fota health --set-timeout "$v" 2>err &&
		test_grep "^fota health: invalid timeout .$v. \(0\.\.65535 minutes\)$" err &&
		test_expect_code 2 fota health --set-timeout="$v" 2>err &&
		test_grep "^fota health: invalid timeout .$v. \(0\.\.65535 minutes\)$" err ||
		return 1
	done &&
	test_expect_code 2 fota health --set-timeout 2>err &&
	test_grep "option .--set-timeout. needs a value \(MIN\)" err &&
	test_expect_code 2 fota health --timeout ok 2>err &&
	test_grep "takes no verdict; got .ok. as well" err &&
	test_expect_code 2 fota health --set-timeout 5 fail 2>err &&
	test_grep "takes no verdict; got .fail. as well" err &&
	test_expect_code 2 fota health --set-timeout 5 --timeout 2>err &&
	test_grep "^fota health: --timeout and --set-timeout exclude each other$" err
'

# Numeric options: the command line, then the first line of the error.
cat >numeric <<\EOF
status -n 0|fota status: invalid --node '0' (1..127)
status --retries 101|fota status: invalid --retries '101' (0..100)
status --retries -1|fota status: invalid --retries '-1' (0..100)
status --wait --timeout=-1|fota status: invalid --timeout '-1' (0..2592000 s)
status --wait --interval 5|fota status: invalid --interval '5' (10..3600000 ms)
status --wait=-1|fota status: unknown state '-1' (a name such as waiting or success, or a value such as 0x10)
status --wait -1|fota status: unknown state '-1' (a name such as waiting or success, or a value such as 0x10)
reject -t -5|fota reject: invalid --sdo-timeout '-5' (1..600000 ms)
health --retries 1000|fota health: invalid --retries '1000' (0..100)
flash --block-length 99999999999|fota flash: invalid --block-length '99999999999' (3..0xFFFFFFFF)
flash --level 2|fota flash: invalid --level '2' (odd, 0x01..0x7d)
flash --wait-ecu -1|fota flash: invalid --wait-ecu '-1' (0..3600 s)
info --max-dids 0|fota info: invalid --max-dids '0' (1..32)
scan --timeout abc|fota scan: invalid --timeout 'abc' (1..60000 ms)
scan --physical 0x7E0-x|fota scan: invalid --physical '0x7E0-x' (expected FIRST-LAST, CAN ids 0..0x1FFFFFFF)
ecu --wrong-counter 0|fota ecu: invalid --wrong-counter '0' (1..0xFFFFFFFF)
hexinfo --fill 256 x.hex|fota hexinfo: invalid --fill '256' (0..255)
hexinfo --range 5-1 --bin=o x.hex|fota hexinfo: invalid --range '5-1' (expected START-END, START <= END <= 0xffffffff)
request --base 99999999999 -e x x.hex|fota request: invalid --base '99999999999' (0..0xFFFFFFFF)
EOF

test_expect_success 'numeric options: one line naming the option, the value and the range' '
	while IFS="|" read -r line msg; do
		test_expect_code 2 fota $line >out 2>err &&
		test_must_be_empty out &&
		echo "$msg" >expect &&
		head -1 err >got &&
		test_cmp expect got || { echo "for: fota $line" >&2; return 1; }
	done <numeric
'

test_expect_success 'fota help COMMAND, help help, --help COMMAND' '
	fota flash --help >expect &&
	fota help flash >out && test_cmp expect out &&
	fota --help flash >out && test_cmp expect out &&
	fota -h flash >out && test_cmp expect out &&
	fota help help >out &&
	test_grep "^usage: fota help \[COMMAND\]$" out &&
	fota --help >overview &&
	test_grep "^       fota --help \[COMMAND\] \| --version \| help \[COMMAND\]$" overview &&
	fota help --help >out2 && test_cmp out out2 &&
	test_expect_code 2 fota help flash extra >out 2>err &&
	test_must_be_empty out &&
	test_grep "^fota: help: too many arguments; see .fota --help.$" err &&
	test_expect_code 2 fota --help flash extra 2>err &&
	test_grep "too many arguments" err &&
	test_expect_code 2 fota --help nosuch 2>err &&
	test_grep "^fota: .nosuch. is not a fota command; see .fota --help.$" err
'

test_expect_success 'retries: 0..100 on the command line and in the configuration' '
	printf "tcu:\n  sdo_retries: 100\n" >ok.yaml &&
	test_expect_code 2 fota status -c ok.yaml 2>err &&
	test_grep "no bus given" err &&
	printf "tcu:\n  sdo_retries: 101\n" >bad.yaml &&
	test_expect_code 3 fota status -c bad.yaml 2>err &&
	test_grep "^fota status: bad.yaml:2:[0-9]*: sdo_retries: 101 out of range 0\.\.100$" err &&
	test_expect_code 2 fota status --retries 100 2>err &&
	test_grep "no bus given" err &&
	test_expect_code 2 fota status --retries 101 2>err &&
	test_grep "invalid --retries .101. \(0\.\.100\)" err &&
	sed -n "/^\.It Ic sdo_retries/,/^\.It/p" "$FOTA_SRC/man/fota.yaml.5" >doc &&
	test_grep "0 to 100" doc
'

test_done
