#!/bin/sh
# summary.sh DIR: count TAP results of a `make check` run and print the final
# line "N passed, N failed" (N skipped when tests were skipped). Exit 1 on any
# failure, or when nothing ran at all.
dir=$1
cat "$dir"/*.tap 2>/dev/null >"$dir/all.tmp"
pass=$(grep -E '^ok ' "$dir/all.tmp" | grep -vc '# *SKIP')
skip=$(grep -E '^ok ' "$dir/all.tmp" | grep -c '# *SKIP')
fail=$(grep -c '^not ok ' "$dir/all.tmp")
rm -f "$dir/all.tmp"
if [ "$fail" -gt 0 ]; then
	echo "failed:"
	grep -H '^not ok ' "$dir"/*.tap | sed "s|^$dir/||; s/^/  /"
fi
if [ "$skip" -gt 0 ]; then
	echo "$pass passed, $fail failed, $skip skipped"
else
	echo "$pass passed, $fail failed"
fi
[ "$fail" -eq 0 ] && [ "$pass" -gt 0 ]
