#!/bin/sh
# tests/vm/suite.sh BUILD [RESULTS [TAG]]: run the end-to-end suite on real
# SocketCAN, where vcan0 exists (inside the VM of run.sh, or a host whose
# kernel has vcan): tests/vm/smoke.sh first, then the tests/t/tNNNN-*.sh that
# use the bus (or all of them with FOTA_VCAN_TESTS=all, or the files it
# names) with FOTA_TEST_BUS=vcan0, against BUILD/bin (fota and its fota-CMD
# links). Each test's TAP goes to RESULTS/TAG-NAME.tap, its stderr to
# TAG-NAME.err (default BUILD/results, vcan). Exit 0 unless a test failed.
build=$(cd "$1" && pwd) || exit 2
src=$(cd "$(dirname "$0")/../.." && pwd)
results=${2:-$build/results}
tag=${3:-vcan}
mkdir -p "$results" && results=$(cd "$results" && pwd) || exit 2
cd "$src" || exit 2

FOTA_TEST_BUS=${FOTA_TEST_BUS:-vcan0}
FOTA_TEST_BUS2=${FOTA_TEST_BUS2:-vcan1}
FOTA_TEST_BUS_FD=${FOTA_TEST_BUS_FD:-vcanfd0}
FOTA_BUILD=$build
FOTA_SRC=$src
FOTA_BINDIR=$build/bin
export FOTA_TEST_BUS FOTA_TEST_BUS2 FOTA_TEST_BUS_FD FOTA_BUILD FOTA_SRC FOTA_BINDIR

# A test that never names the bus runs the same on any bus and is already
# run by check-e2e; under TCG it would only cost time (t1000-hexinfo: 5 s on
# the host, 73 s in the VM). So by default: the tests that use $BUS,
# FOTA_TEST_BUS* or the VCAN prerequisite. FOTA_VCAN_TESTS=all runs every one.
# A file with a line "# vcan: skip (reason)" uses the bus only to drive fota
# serve's files and loop, which run the same on every bus (t3021, t3022:
# hundreds of MB of HEX and thousands of requests, hours under TCG).
case ${FOTA_VCAN_TESTS:-} in
'') tests="tests/vm/smoke.sh $(grep -L '^# vcan: skip' $(grep -l -E \
	'[$]BUS|[$][{]BUS|FOTA_TEST_BUS|VCAN' tests/t/t[0-9]*.sh 2>/dev/null))" ;;
all) tests="tests/vm/smoke.sh $(ls tests/t/t[0-9]*.sh 2>/dev/null)" ;;
*) tests=$FOTA_VCAN_TESTS ;;
esac
fail=0
for t in $tests; do
	n=$(basename "$t" .sh)
	t0=$(date +%s.%N)
	sh "$t" >"$results/$tag-$n.tap" 2>"$results/$tag-$n.err"
	rc=$?
	echo "  VCAN    $n ($(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }') s)"
	if ! tests/tapcheck.sh "$results/$tag-$n.tap" "$rc"; then
		fail=1
		grep -v '^ok' "$results/$tag-$n.tap" | sed 's/^/    /'
		tail -30 "$results/$tag-$n.err" | sed 's/^/    /'
	fi
done
exit $fail
