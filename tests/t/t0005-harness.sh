#!/bin/sh
# SPDX-License-Identifier: MIT
test_description='the harness: test_done signals only processes the test started'
. "$(dirname "$0")/lib.sh"

# A daemon that has ended keeps its pid in lib.sh's list until test_done;
# the kernel may give that pid to any new process meanwhile (pid_max is
# 32768 here, and make check starts many thousands). A test_done that
# signals a bare pid then kills another test's fota serve: a failure of
# some other test, far from its cause. ns_last_pid (root) makes the reuse
# happen on purpose.
test_lazy_prereq NS_LAST_PID 'test -w /proc/sys/kernel/ns_last_pid'

test_expect_success NS_LAST_PID 'a pid reused after a daemon ended is not killed at test_done' '
	cat >inner.sh <<-\INNER &&
	. "$FOTA_SRC/tests/t/lib.sh"
	test_expect_success "a daemon ends; its pid goes to a stranger" "
		daemon short true &&
		wait_until \"test -f \$TRASH/short.rc\" 5 &&
		p=\$(cat \$TRASH/short.pid) && i=0 &&
		while [ \$i -lt 200 ]; do
			echo \$((p - 1)) >/proc/sys/kernel/ns_last_pid
			sleep 60 </dev/null >/dev/null 2>&1 &
			[ \$! = \$p ] && break
			kill \$!
			i=\$((i + 1))
		done &&
		test \$i -lt 200 &&
		echo \$p >\"\$OUTER/stranger\"
	"
	test_done
	INNER
	OUTER=$TRASH sh inner.sh >inner.out 2>&1 &&
	test -s stranger &&
	kill -0 "$(cat stranger)" &&
	kill "$(cat stranger)"
'

test_expect_success 'a daemon still running is killed at test_done' '
	cat >inner.sh <<-\INNER &&
	. "$FOTA_SRC/tests/t/lib.sh"
	test_expect_success "a daemon runs" "
		daemon long sleep 60 &&
		cp \$TRASH/long.pid \"\$OUTER/long\"
	"
	test_done
	INNER
	OUTER=$TRASH sh inner.sh >inner.out 2>&1 &&
	test -s long &&
	wait_until "! kill -0 $(cat long)" 5
'

test_done
