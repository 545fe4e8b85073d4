#!/bin/sh
# tapcheck.sh FILE.tap EXIT-STATUS: make a TAP file honest about a run that
# crashed or stopped early. Appends a "not ok" line when the program exited
# non-zero without reporting a failure, or ran fewer tests than its plan.
# Exit 0 if the file has no failure, 1 otherwise.
f=$1 rc=$2
plan=$(sed -n 's/^1\.\.\([0-9][0-9]*\).*/\1/p' "$f" | head -1)
ran=$(grep -cE '^(not )?ok ' "$f")
bad=$(grep -c '^not ok ' "$f")
if [ -n "$plan" ] && [ "$ran" -lt "$plan" ]; then
	echo "not ok $((ran + 1)) - $(basename "$f" .tap): stopped after $ran of $plan tests (exit $rc)" >>"$f"
	exit 1
fi
if [ "$rc" -ne 0 ] && [ "$bad" -eq 0 ]; then
	echo "not ok $((ran + 1)) - $(basename "$f" .tap): exited $rc" >>"$f"
	exit 1
fi
[ "$bad" -eq 0 ]
