#!/bin/sh
# tests/vm/suite.sh BUILD: run the end-to-end suite on real SocketCAN, where
# vcan0 exists (inside the VM of run.sh, or a host whose kernel has vcan):
# tests/vm/smoke.sh first, then every tests/t/tNNNN-*.sh (or the files named
# in FOTA_VCAN_TESTS) with FOTA_TEST_BUS=vcan0, against the fota of
# BUILD/bin (fota and its fota-CMD links). Each test's TAP goes to BUILD/results/vcan-NAME.tap and its
# stderr to vcan-NAME.err. Exit 0 unless a test failed.
build=$(cd "$1" && pwd) || exit 2
src=$(cd "$(dirname "$0")/../.." && pwd)
results=$build/results
cd "$src" || exit 2
mkdir -p "$results" || exit 2

FOTA_TEST_BUS=${FOTA_TEST_BUS:-vcan0}
FOTA_TEST_BUS2=${FOTA_TEST_BUS2:-vcan1}
FOTA_TEST_BUS_FD=${FOTA_TEST_BUS_FD:-vcanfd0}
FOTA_BUILD=$build
FOTA_SRC=$src
FOTA_BINDIR=$build/bin
export FOTA_TEST_BUS FOTA_TEST_BUS2 FOTA_TEST_BUS_FD FOTA_BUILD FOTA_SRC FOTA_BINDIR

tests=${FOTA_VCAN_TESTS:-tests/vm/smoke.sh $(ls tests/t/t[0-9]*.sh 2>/dev/null)}
fail=0
for t in $tests; do
	n=$(basename "$t" .sh)
	t0=$(date +%s.%N)
	sh "$t" >"$results/vcan-$n.tap" 2>"$results/vcan-$n.err"
	rc=$?
	echo "  VCAN    $n ($(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }') s)"
	if ! tests/tapcheck.sh "$results/vcan-$n.tap" "$rc"; then
		fail=1
		grep -v '^ok' "$results/vcan-$n.tap" | sed 's/^/    /'
		tail -30 "$results/vcan-$n.err" | sed 's/^/    /'
	fi
done
exit $fail
