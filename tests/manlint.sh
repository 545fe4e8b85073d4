#!/bin/sh
# manlint.sh PAGE...: two TAP lines per man page: mandoc -Tlint at WARNING
# level must be silent (mandoc's STYLE notes aside), and the quotes must
# render balanced and unnested (tests/manquotes.pl: -Tlint accepts a nested
# .Ql). Exits 1 if any page fails.
here=$(dirname "$0")
n=0
bad=0
for p in "$@"; do
	n=$((n + 1))
	if [ ! -f "$p" ]; then
		echo "not ok $n - man lint: $p is missing"
		bad=1
		continue
	fi
	out=$(mandoc -Tlint -Wwarning "$p" 2>&1)
	if [ -z "$out" ]; then
		echo "ok $n - man lint: $p"
	else
		echo "not ok $n - man lint: $p"
		echo "$out" | sed 's/^/# /'
		bad=1
	fi
	n=$((n + 1))
	if out=$(perl "$here/manquotes.pl" "$p" 2>&1); then
		echo "ok $n - man quotes: $p"
	else
		echo "not ok $n - man quotes: $p"
		echo "$out" | sed 's/^/# /'
		bad=1
	fi
done
echo "1..$n"
exit $bad
