#!/bin/sh
test_description='one exit status per class of error, whatever the command'
. "$(dirname "$0")/lib.sh"

# fota(1) EXIT STATUS is one table for every command. Each class of error
# below is given to every command that takes the option it needs, and each
# must end the same way: the class's exit status, nothing on stdout, and one
# message line on stderr naming the culprit (a usage error adds the usage
# lines and the "see 'fota CMD --help'" hint, which name nothing).
#
#   class     status  why
#   trace         1  an output file that cannot be created: the run failed
#                    (3 is for input data; like --bin and stdout write errors)
#   ecu           2  -e names no ECU of the configuration: an invalid argument
#   config        3  -c FILE missing, a directory, or not valid YAML
#   config-bus    3  the configuration's own bus: line is no bus
#   bus-name      2  -b BUS is no bus spec at all (unix: without DIR, can/0)
#   bus-open      4  -b unix:DIR whose DIR cannot be made: unreachable (a path
#                    under a regular file, which not even root can create)
#   option        2  unknown option
#   missing-arg   2  an option's value missing
#   operand       2  one operand too many

cmds=$(fota __complete commands | cut -f1)

# The arguments a command needs to get as far as opening its bus.
base_args()
{
	case $1 in
	health) echo ok ;;
	flash | request) echo "-e hydraulics fw.hex" ;;
	info) echo "-e hydraulics" ;;
	hexinfo) echo "--bin out.bin fw.hex" ;;
	keygen) echo "newkey" ;;
	sign) echo "-k k.key r.yaml" ;;
	publish) echo "-t tcu-a r.yaml" ;;
	fleet) echo "-t tcu-a" ;;
	esac
}

takes()
{
	fota __complete options "$1" | grep -qx -- "$2"
}

# The first option of CMD that needs a value (shown as --name= by completion).
first_valued_option()
{
	fota __complete words 2 -- fota "$1" -- | cut -f1 | grep -m1 '=$' | tr -d =
}

# expect_error STATUS THING CMD ARGS...
expect_error()
{
	want=$1 thing=$2 cmd=$3
	shift 3
	fota "$cmd" "$@" </dev/null >out 2>err
	got=$?
	grep -Ev "^(usage: |   or: |see 'fota )" err >msg
	if [ "$got" -ne "$want" ]; then
		echo "fota $cmd $*: exit $got, expected $want" >&2
		cat err >&2
		return 1
	fi
	test_must_be_empty out &&
	if [ "$(wc -l <msg)" -ne 1 ]; then
		echo "fota $cmd $*: expected one message line on stderr:" >&2
		cat err >&2
		return 1
	fi &&
	test_grep "^fota $cmd: " msg &&
	if ! grep -qF -- "$thing" msg; then
		echo "fota $cmd $*: the message does not name '$thing':" >&2
		cat msg >&2
		return 1
	fi
}

test_expect_success 'setup: a configuration, a broken one, a HEX file' '
	cat >ok.yaml <<-\EOF &&
	bus: unix:bus
	tcu: { state_dir: state }
	ecus:
	  - name: hydraulics
	    request_id: 0x7E0
	    response_id: 0x7E8
	    security: { level: 0x01, key: "xor:A5A5A5A5" }
	    regions: [ { start: 0x08000000, size: 0x100000 } ]
	EOF
	printf "bus: [unix:bus\ntcu: { state_dir: state }\n" >bad.yaml &&
	sed "s/^bus: .*/bus: \"unix:\"/" ok.yaml >badbus.yaml &&
	mkdir confdir &&
	gen_hex 256 1 >fw.hex &&
	: >file
'

# class STATUS THING OPTION ARGS ('@' stands for the command's base_args)
while read -r class want thing opt args; do
	for cmd in $cmds; do
		[ "$opt" = - ] || takes "$cmd" "$opt" || continue
		a=$(echo "$args" | sed "s|@|$(base_args "$cmd")|; s/  */ /g; s/ $//")
		# a command without a bus (request) gets the rest of the line
		[ "$opt" = --bus ] || takes "$cmd" --bus || a=$(echo "$a" | sed "s/-b [^ ]* //")
		t=$thing
		if [ "$class" = missing-arg ]; then
			t=$(first_valued_option "$cmd")
			# a command without an option that takes a value (keygen) has no such error
			[ -n "$t" ] || continue
			a="$a $t"
		fi
		test_expect_success "$class: fota $cmd $a: exit $want" "
			expect_error $want '$t' $cmd $a
		"
	done
done <<EOF
trace       1 nodir/x      --trace  -c ok.yaml -b unix:bus --trace nodir/x @
ecu         2 nosuch       --ecu    -c ok.yaml -b unix:bus @ -e nosuch
config      3 nofile.yaml  --config -c nofile.yaml -b unix:bus @
config      3 confdir      --config -c confdir -b unix:bus @
config      3 bad.yaml:2:  --config -c bad.yaml -b unix:bus @
config-bus  3 badbus.yaml  --config -c badbus.yaml @
bus-name    2 unix:        --bus    -c ok.yaml -b unix: @
bus-name    2 can/0        --bus    -c ok.yaml -b can/0 @
bus-open    4 file/bus     --bus    -c ok.yaml -b unix:file/bus @
option      2 --nosuch     -        --nosuch @
missing-arg 2 -            -        @
operand     2 extra        -        @ extra
EOF

test_expect_success 'a HEX file that is not there: exit 3 in flash and hexinfo' '
	expect_error 3 nofile.hex hexinfo nofile.hex &&
	expect_error 3 nofile.hex flash -c ok.yaml -b unix:bus -e hydraulics nofile.hex
'

test_done
