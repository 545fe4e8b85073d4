#!/bin/sh
# tests/vm/check-vcan.sh [--asan SAN_BUILD] [--results DIR] BUILD: the work of
# `make check-vcan` and of make check's VM stage.
#
# Runs tests/vm/suite.sh against BUILD (the smoke test and every bus test,
# or FOTA_VCAN_TESTS) and, with --asan, a second suite against the sanitized
# SAN_BUILD: the tests that exist for SocketCAN (FOTA_VCAN_ASAN_TESTS,
# default t0100 and t5000), so the SocketCAN backend, kernel ISO-TP and
# libsocketcan code also run under ASan+UBSan. On a host whose kernel has
# vcan (vcan0 exists, or as root vcan-up.sh can make it) they run here, one
# after the other. Otherwise setup.sh installs the VM's packages and each
# suite runs in its own throwaway QEMU VM (run.sh), both at once: one core
# each, and each VM has its own vcan0.
#
# TAP goes to DIR (default BUILD/results) as vcan-NAME.tap and, for the
# sanitized suite, vcan-asan-NAME.tap; a VM or setup failure is recorded
# there as a failed test. Prints the "vcan: N passed, N failed" line over
# both. Exit 0 when all passed.
#
# tests/vm/check-vcan.sh --status [--results DIR] BUILD: no output; exit 0
# when the last run's vcan-*.tap files hold passes and no failure.
status_only=
san=
results=
while [ $# -gt 1 ]; do
	case $1 in
	--status) status_only=1; shift ;;
	--asan) san=$(cd "$2" && pwd) || exit 2; shift 2 ;;
	--results) results=$2; shift 2 ;;
	*) break ;;
	esac
done
build=$(cd "${1:?usage: check-vcan.sh [--status] [--asan SAN_BUILD] [--results DIR] BUILD}" &&
	pwd) || exit 2
vm=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$vm/../.." && pwd)
results=${results:-$build/results}
mkdir -p "$results" && results=$(cd "$results" && pwd) || exit 2
asan_tests=${FOTA_VCAN_ASAN_TESTS:-tests/t/t0100-bus.sh tests/t/t5000-vcan.sh}

count()
{
	cat "$results"/vcan-*.tap 2>/dev/null | grep -E "$1" | grep "$2" '# *SKIP'
}

# ran TAG RC: suite.sh exits 0 (all passed) or 1 (a test failed, in its TAP);
# anything else means the suite did not run (a directory it could not reach,
# a VM that did not finish), which must count as a failure too.
ran()
{
	case $2 in
	0 | 1) ;;
	*) echo "not ok 1 - the $1 suite did not run (exit $2)" >"$results/$1-vm.tap" ;;
	esac
}

# in_vm BUILD TAG [TESTS]: suite.sh in a VM.
in_vm()
{
	v_share=
	for d in "$1" "$results"; do
		case $d/ in
		"$src"/*) ;;
		*) v_share="$v_share -s $d" ;;
		esac
	done
	# shellcheck disable=SC2086
	(cd "$src" && FOTA_VCAN_TESTS=${3:-$FOTA_VCAN_TESTS} \
		"$vm/run.sh" -b "$1" $v_share -- tests/vm/suite.sh "$1" "$results" "$2")
	ran "$2" $?
}

if [ -z "$status_only" ]; then
	rm -f "$results"/vcan-*.tap "$results"/vcan-*.err "$results"/vcan-*.log
	if [ -e /sys/class/net/vcan0 ] ||
		{ [ "$(id -u)" -eq 0 ] && "$vm/vcan-up.sh" >/dev/null 2>&1; }; then
		echo "  VCAN    on this host's kernel ($(uname -r))"
		"$vm/suite.sh" "$build" "$results" vcan
		ran vcan $?
		if [ -n "$san" ]; then
			echo "  VCAN    ASan+UBSan build"
			FOTA_VCAN_TESTS=$asan_tests "$vm/suite.sh" "$san" "$results" vcan-asan
			ran vcan-asan $?
		fi
	elif ! "$vm/setup.sh"; then
		echo "not ok 1 - tests/vm/setup.sh could not install the VM's packages" \
			>"$results/vcan-vm.tap"
	else
		if [ -n "$san" ]; then
			echo "  VCAN    ASan+UBSan build in a second QEMU VM (output after the first)"
			in_vm "$san" vcan-asan "$asan_tests" >"$results/vcan-asan.log" 2>&1 &
			san_pid=$!
		fi
		echo "  VCAN    in a QEMU VM (TCG): this kernel has no vcan"
		in_vm "$build" vcan
		if [ -n "$san" ]; then
			wait "$san_pid"
			echo "  VCAN    ASan+UBSan build:"
			cat "$results/vcan-asan.log"
		fi
	fi
fi

pass=$(count '^ok ' -vc)
skip=$(count '^ok ' -c)
failed=$(count '^not ok ' -vc)
if [ -z "$status_only" ]; then
	if [ "$skip" -gt 0 ]; then
		echo "vcan: $pass passed, $failed failed, $skip skipped"
	else
		echo "vcan: $pass passed, $failed failed"
	fi
fi
[ "$failed" -eq 0 ] && [ "$pass" -gt 0 ]
