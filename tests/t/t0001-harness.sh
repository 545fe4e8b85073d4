#!/bin/sh
# SPDX-License-Identifier: MIT
test_description='tests/t/lib.sh itself: what the other tests rely on when they wait'
. "$(dirname "$0")/lib.sh"

# A test that restarts a daemon waits for a line of its NAME.err. A line the
# previous run left there must not count: NAME.err holds nothing of it once
# bg_start or daemon returns, even when the new process has not opened its
# files yet. NAME.out as a FIFO without a reader holds the new process in its
# redirections (stdout is opened first), before it opens NAME.err: what a
# loaded machine does now and then to a fork, here every time.
test_expect_success 'bg_start: NAME.err holds no line of a previous run when it returns' '
	echo "ready" >x.err &&
	mkfifo x.out &&
	bg_start x true &&
	test_grep -v ready x.err
'

test_expect_success 'daemon: NAME.err holds no line of a previous run when it returns' '
	echo "ready" >y.err &&
	mkfifo y.out &&
	daemon y true &&
	test_grep -v ready y.err
'

# A test that starts a daemon stops it with test_when_finished: when the test
# fails half-way, the daemon does not hold what the next test needs (t3000:
# the state directory's lock).
cat >when.sh <<'EOF'
. "$FOTA_SRC/tests/t/lib.sh"
test_expect_success 'fails in a loop' '
	test_when_finished "echo first >>\"$LOG\"" &&
	test_when_finished "echo second >>\"$LOG\"" &&
	for i in 1 2; do
		false || return 1
	done &&
	echo body >>"$LOG"
'
test_expect_success 'passes, a cleanup fails' '
	test_when_finished "echo third >>\"$LOG\"; false" &&
	echo body2 >>"$LOG"
'
test_expect_success 'passes' '
	test_when_finished "echo fourth >>\"$LOG\""
'
test_done
EOF

test_expect_success 'test_when_finished: after the body, failed or not, last first' '
	LOG=$TRASH/log TMPDIR=$TRASH sh when.sh >tap 2>/dev/null
	test $? = 1 &&
	grep "ok [0-9]" tap >results &&
	printf "not ok 1 - fails in a loop\nnot ok 2 - passes, a cleanup fails\nok 3 - passes\n" >expect &&
	test_cmp expect results &&
	printf "second\nfirst\nbody2\nthird\nfourth\n" >expect &&
	test_cmp expect log
'

test_expect_success 'bg_end: stops what still runs; 0 when NAME has ended already' '
	bg_start s sleep 30 &&
	p=$(bg_pid s) &&
	bg_end s &&
	! kill -0 "$p" 2>/dev/null &&
	! grep -E "^$p( |\$)" "$TRASH/.bgpids" &&
	bg_end s &&
	bg_start t true &&
	bg_end t
'

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
