#!/bin/sh
# bench/vm-start.sh [BUILD [SAN_BUILD]]: what one process start costs inside
# the test VM (tests/vm, QEMU TCG) against the host: /bin/true, fota plain
# and fota with ASan+UBSan (make, and make O=build/san SANITIZE=...), and
# Debian's python3. Means of N runs (N=10). This is why make check's VM
# suite runs the plain build: the suite is mostly process starts.
cd "$(dirname "$0")/.." || exit 2
b=${1:-build}
s=${2:-$b/san}
n=${N:-10}
cat >"$b/vm-start.job" <<JOB
t() { s=\$(date +%s%N); i=0; while [ \$i -lt $n ]; do "\$@" >/dev/null 2>&1; i=\$((i+1)); done
	echo "\$(( (\$(date +%s%N) - s) / ($n * 1000000) )) ms  \$*"; }
t /bin/true
t $b/fota --version
t $s/fota --version
t /usr/bin/python3 -c pass
JOB
echo "host:"
sh "$b/vm-start.job"
echo "VM:"
tests/vm/run.sh -b "$b" -- sh "$b/vm-start.job"
