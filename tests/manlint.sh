#!/bin/sh
# manlint.sh PAGE...: one TAP line per man page: mandoc -Tlint at WARNING
# level must be silent (mandoc's STYLE notes aside).
n=0
for p in "$@"; do
	n=$((n + 1))
	if [ ! -f "$p" ]; then
		echo "not ok $n - man lint: $p is missing"
		continue
	fi
	out=$(mandoc -Tlint -Wwarning "$p" 2>&1)
	if [ -z "$out" ]; then
		echo "ok $n - man lint: $p"
	else
		echo "not ok $n - man lint: $p"
		echo "$out" | sed 's/^/# /'
	fi
done
echo "1..$n"
