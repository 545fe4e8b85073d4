#!/bin/sh
# tests/vm/check-vcan.sh BUILD: the work of `make check-vcan`. Runs
# tests/vm/suite.sh on this host when its kernel has vcan (vcan0 exists, or as
# root vcan-up.sh can make it), else installs the VM's packages (setup.sh)
# and runs the suite in a throwaway QEMU VM (run.sh). Prints the VM suite's
# own "vcan: N passed, N failed" line over BUILD/results/vcan-*.tap; a VM or
# setup failure is recorded there as a failed test. Exit 0 when all passed.
#
# tests/vm/check-vcan.sh --status BUILD: no output; exit 0 when the last run's
# vcan-*.tap files hold passes and no failure.
status_only=
if [ "${1:-}" = --status ]; then
	status_only=1
	shift
fi
build=$(cd "${1:?usage: check-vcan.sh [--status] BUILD}" && pwd) || exit 2
vm=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$vm/../.." && pwd)
results=$build/results

count()
{
	cat "$results"/vcan-*.tap 2>/dev/null | grep -E "$1" | grep "$2" '# *SKIP'
}

if [ -z "$status_only" ]; then
	mkdir -p "$results" && rm -f "$results"/vcan-*.tap "$results"/vcan-*.err
	if [ -e /sys/class/net/vcan0 ] ||
		{ [ "$(id -u)" -eq 0 ] && "$vm/vcan-up.sh" >/dev/null 2>&1; }; then
		echo "  VCAN    on this host's kernel ($(uname -r))"
		"$vm/suite.sh" "$build"
	elif ! "$vm/setup.sh"; then
		echo "not ok 1 - tests/vm/setup.sh could not install the VM's packages" \
			>"$results/vcan-vm.tap"
	else
		case $build/ in
		"$src"/*) share= ;;
		*) share="-s $build" ;;
		esac
		echo "  VCAN    in a QEMU VM (TCG): this kernel has no vcan"
		# shellcheck disable=SC2086
		(cd "$src" && "$vm/run.sh" -b "$build" $share -- tests/vm/suite.sh "$build")
		rc=$?
		if [ "$rc" -ge 124 ]; then
			echo "not ok 1 - the VM did not finish the suite (run.sh exit $rc)" \
				>"$results/vcan-vm.tap"
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
