#!/bin/sh
# SPDX-License-Identifier: MIT
# vcan: skip (no bus traffic: unix: directories only)
test_description='configuration precedence: --help, every man page and fota.yaml(5) say it in the same words, and the code does it'
. "$(dirname "$0")/lib.sh"

test_lazy_prereq MANDOC 'command -v mandoc && command -v col'

MAN=$FOTA_SRC/man
cmds=$(fota __complete commands | cut -f1)

# The sentences, as a reader sees them (fota(1), CONFIGURATION).
BUS_ORDER="the bus is the first of: -b, FOTA_BUS, the configuration's bus; there is no built-in bus"
GENERAL="A setting given in more than one place is taken from the first of: the command-line option, the environment variable, the configuration file, the built-in default."

# render PAGE: its text on one line, blanks squeezed (no line breaks to split a sentence)
render()
{
	mandoc -T ascii -O width=1000 "$1" | col -b | tr -s " \t\n" "   "
}

test_expect_success MANDOC 'every page that names FOTA_BUS states the bus order in the same words' '
	n=0 &&
	for p in "$MAN"/*.[1-8]; do
		grep -q FOTA_BUS "$p" || continue
		n=$((n + 1))
		render "$p" >text &&
		grep -iqF "$BUS_ORDER." text || {
			echo "${p##*/}: not stated as \"$BUS_ORDER.\"" >&2
			return 1
		}
	done &&
	echo "$n pages" &&
	test $n -ge 11
'

test_expect_success 'every command with -b states it in --help, in the same words' '
	n=0 &&
	for c in $cmds; do
		fota $c --help >help &&
		grep -q -- "--bus" help || continue
		n=$((n + 1))
		tr -s " \n" "  " <help | sed "s/\\\$FOTA_BUS/FOTA_BUS/g" >text &&
		grep -iqF "$BUS_ORDER" text || {
			echo "fota $c --help: not stated as \"$BUS_ORDER\"" >&2
			return 1
		}
	done &&
	test $n -ge 9
'

test_expect_success MANDOC 'fota(1) and fota.yaml(5) state the general order in the same words' '
	for p in fota.1 fota.yaml.5; do
		render "$MAN/$p" >text &&
		grep -qF "$GENERAL" text || { echo "$p: not stated as \"$GENERAL\"" >&2; return 1; }
	done
'

# Which bus a client takes: on unix: directories without members, the error
# names the one it chose.
test_expect_success 'the code follows the order: -b, then FOTA_BUS, then the configuration' '
	echo "bus: unix:$TRASH/from-config" >fota.yaml &&
	test_expect_code 4 env FOTA_BUS="unix:$TRASH/from-env" fota status -b "unix:$TRASH/from-b" 2>err &&
	test_grep "no other member on unix:$TRASH/from-b$" err &&
	test_expect_code 4 env FOTA_BUS="unix:$TRASH/from-env" fota status 2>err &&
	test_grep "no other member on unix:$TRASH/from-env$" err &&
	test_expect_code 4 fota status 2>err &&
	test_grep "no other member on unix:$TRASH/from-config$" err &&
	rm fota.yaml &&
	test_expect_code 2 fota status 2>err &&
	test_grep "no bus given" err
'

test_done
