# tests/t/lib.sh: the shell test harness, a small subset of git's test-lib.
# Each tNNNN-*.sh sets test_description, sources this file, runs tests with
# test_expect_success and ends with test_done. Output is TAP.
#
#   test_expect_success [PREREQ] 'title' 'body'   body runs in the scratch dir
#   test_expect_code N cmd...     run cmd, fail unless it exits N
#   test_cmp expect actual        diff -u
#   test_grep [-v] PATTERN FILE   grep -E, printing FILE when it fails
#   test_must_be_empty FILE
#   test_lazy_prereq NAME 'script'  / test_set_prereq NAME
#   bg_start NAME cmd...          run in the background, killed at test_done
#   bg_stop NAME                  SIGTERM, wait; returns its exit status
#   bg_end NAME                   stop NAME if it still runs (for test_when_finished)
#   test_when_finished 'cmd'      run cmd after the body, even when it failed
#   daemon NAME cmd...            a daemon that outlives the test body; NAME.pid, NAME.rc
#   ended NAME / ends_within NAME SIGNAL MS   its end, and its exit 0 within MS after SIGNAL
#   elapsed_ms T0                 milliseconds since T0=$(date +%s%N)
#   wait_until 'cmd' [SECONDS]    poll cmd until it succeeds (default 10 s)
#   bus_members                   sockets listening on $BUS (unix: or SocketCAN)
#   gen_hex BYTES SEED            a pseudo-random Intel HEX image at 0x08000000 (any size)
#
# Environment from the Makefile: FOTA_BINDIR (installed fota + fota-CMD links),
# FOTA_SRC (source tree), FOTA_BUILD (build tree). FOTA_TEST_BUS overrides the
# bus the end-to-end tests use (default: a fresh unix: bus in the scratch dir).
# FOTA_TEST_COMPRESSION=lz4|deflate runs every `fota flash` and `fota ecu`
# of a test (as fota CMD or fota-CMD) with --compression METHOD: the same
# tests, compressed downloads (t2001 runs t2000 so in make check).

: "${FOTA_SRC:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${FOTA_BUILD:=$FOTA_SRC/build}"
: "${FOTA_BINDIR:=$FOTA_BUILD/bin}"
FIXTURES=$FOTA_SRC/tests/fixtures
PATH=$FOTA_BINDIR:$FOTA_BUILD/tests:$PATH
export PATH FIXTURES FOTA_SRC FOTA_BUILD
unset FOTA_CONFIG FOTA_BUS FOTA_NODE
LC_ALL=C
export LC_ALL
# Debian's python3, where install-deps puts python3-intelhex and python3-yaml;
# not whatever python3 PATH finds first (a pyenv shim costs 9 s per start in
# the VM of tests/vm, /usr/bin/python3 0.7 s).
PYTHON=/usr/bin/python3

t_name=$(basename "$0" .sh)
TRASH=${TMPDIR:-/tmp}/fota-test.$t_name.$$
rm -rf "$TRASH" && mkdir -p "$TRASH" || exit 1
cd "$TRASH" || exit 1

# Wrappers first in PATH that add --compression to flash and ecu (exec: the
# same pid, the same argv[0] name in messages).
if [ -n "${FOTA_TEST_COMPRESSION:-}" ]; then
	mkdir -p "$TRASH/.compress" || exit 1
	cat >"$TRASH/.compress/fota" <<-EOF
	#!/bin/sh
	case "\$1" in flash|ecu)
		c=\$1
		shift
		exec "$FOTA_BINDIR/fota" "\$c" --compression "$FOTA_TEST_COMPRESSION" "\$@" ;;
	esac
	exec "$FOTA_BINDIR/fota" "\$@"
	EOF
	for t_c in flash ecu; do
		printf '#!/bin/sh\nexec "%s/fota-%s" --compression "%s" "$@"\n' \
			"$FOTA_BINDIR" "$t_c" "$FOTA_TEST_COMPRESSION" >"$TRASH/.compress/fota-$t_c"
	done
	chmod +x "$TRASH/.compress/"* || exit 1
	PATH=$TRASH/.compress:$PATH
fi
# The configuration search path (fota(1), CONFIGURATION): no user's
# ~/.config/fota/fota.yaml in the tests; ./fota.yaml is the test's own.
XDG_CONFIG_HOME=$TRASH/.config
export XDG_CONFIG_HOME
: "${FOTA_TEST_BUS:=unix:$TRASH/bus}"
BUS=$FOTA_TEST_BUS
export BUS

t_count=0
t_fail=0
t_prereqs=" "

# t_started PID: the process's start time (clock ticks since boot, field 22
# of /proc/PID/stat; the comm before it may hold spaces and parentheses).
# A pid with another start time is another process.
t_started()
{
	sed 's/^.*) //' "/proc/$1/stat" 2>/dev/null | cut -d' ' -f20
}

# t_register PID: test_done signals PID, if it is still the same process.
t_register()
{
	t_st=$(t_started "$1")
	[ -z "$t_st" ] || echo "$1 $t_st" >>"$TRASH/.bgpids"
}

# t_ours PID START: PID is still the process registered with START
t_ours()
{
	[ "$(t_started "$1")" = "$2" ]
}

t_cleanup()
{
	# Bodies run in subshells, so their background pids are kept in a file,
	# each with its start time: a pid that ended long ago may belong to
	# another test's process now (t0001).
	[ -f "$TRASH/.bgpids" ] || return 0
	t_pids=$(cat "$TRASH/.bgpids")
	: >"$TRASH/.bgpids"
	echo "$t_pids" | while read -r p st; do
		[ -n "$p" ] && t_ours "$p" "$st" && kill "$p" 2>/dev/null
	done
	echo "$t_pids" | while read -r p st; do
		[ -n "$p" ] || continue
		t_i=0
		while t_ours "$p" "$st" && [ "$t_i" -lt 40 ]; do
			sleep 0.05
			t_i=$((t_i + 1))
		done
		t_ours "$p" "$st" && kill -9 "$p" 2>/dev/null
	done
	return 0
}
trap 't_cleanup; [ -n "$FOTA_TEST_KEEP" ] || rm -rf "$TRASH"' EXIT
trap 'exit 130' INT TERM

test_set_prereq()
{
	t_prereqs="$t_prereqs$1 "
}

test_lazy_prereq()
{
	eval "t_lazy_$1=\$2"
}

t_have_prereq()
{
	for p in $(echo "$1" | tr ',' ' '); do
		case "$t_prereqs" in *" $p "*) continue ;; esac
		eval "script=\${t_lazy_$p-}"
		if [ -n "$script" ] && (eval "$script") >/dev/null 2>&1; then
			test_set_prereq "$p"
			continue
		fi
		return 1
	done
	return 0
}

test_expect_success()
{
	prereq=
	if [ $# -eq 3 ]; then
		prereq=$1
		shift
	fi
	t_count=$((t_count + 1))
	if [ -n "$prereq" ] && ! t_have_prereq "$prereq"; then
		echo "ok $t_count # SKIP $1 (missing $prereq)"
		return 0
	fi
	echo "## $t_count: $1" >&2
	t_t0=$(date +%s%N)
	if (cd "$TRASH" && t_run_body "$2") >&2; then
		t_res="ok $t_count - $1"
	else
		t_fail=$((t_fail + 1))
		t_res="not ok $t_count - $1"
	fi
	# The time each test took, on stderr: where the suite's minutes go (the VM).
	echo "## $t_count: $(((($(date +%s%N) - t_t0) / 1000000))) ms" >&2
	echo "$t_res"
	case $t_res in not*)
		echo "$2" | sed 's/^/#	/'
		# what the daemons of the test said last: CI shows the TAP of a
		# failed file, and a failure seen only there needs its context
		for t_log in "$TRASH"/*.err; do
			[ -s "$t_log" ] || continue
			tail -n 8 "$t_log" | sed "s|^|#	${t_log##*/}: |"
		done
		;;
	esac
}

# t_run_body BODY: BODY (a function, so that its `return 1` ends only BODY),
# then the commands BODY gave test_when_finished, whatever BODY's result.
t_run_body()
{
	t_when_finished=:
	t_body "$1"
	t_ret=$?
	eval "$t_when_finished"
	return $t_ret
}

t_body()
{
	eval "$1"
}

# test_when_finished 'cmd': run cmd when the test body ends, passed or failed
# (the last registered first); the test fails if cmd fails. What a test
# starts is stopped by that test, so that its failure does not fail the next.
test_when_finished()
{
	t_when_finished="{ $*
} || t_ret=1
$t_when_finished"
}

test_expect_code()
{
	want=$1
	shift
	"$@"
	got=$?
	if [ "$got" -ne "$want" ]; then
		echo "test_expect_code: '$*' exited $got, expected $want" >&2
		return 1
	fi
	return 0
}

test_cmp()
{
	diff -u "$1" "$2" >&2
}

test_grep()
{
	neg=
	if [ "$1" = "-v" ]; then
		neg=1
		shift
	fi
	if [ -n "$neg" ]; then
		if grep -E -- "$1" "$2" >/dev/null; then
			echo "test_grep: '$1' unexpectedly found in $2:" >&2
			cat "$2" >&2
			return 1
		fi
		return 0
	fi
	if ! grep -E -- "$1" "$2" >/dev/null; then
		echo "test_grep: '$1' not found in $2:" >&2
		cat "$2" >&2
		return 1
	fi
}

test_must_be_empty()
{
	if [ -s "$1" ]; then
		echo "test_must_be_empty: $1 is not empty:" >&2
		cat "$1" >&2
		return 1
	fi
}

# t_fresh_logs NAME: remove NAME.out and NAME.err before NAME starts. The
# redirections of a command started with & happen in the child, whenever it
# runs: until then a test that waits for a line of NAME.err would find the
# line of the previous run of NAME (t3000: a restarted serve).
t_fresh_logs()
{
	rm -f "$TRASH/$1.out" "$TRASH/$1.err"
}

# bg_start NAME cmd...: stdout/stderr go to NAME.out / NAME.err in $TRASH.
bg_start()
{
	name=$1
	shift
	t_fresh_logs "$name"
	"$@" >"$TRASH/$name.out" 2>"$TRASH/$name.err" &
	eval "t_pid_$name=$!"
	t_register "$!"
}

t_forget()
{
	grep -v "^$1 " "$TRASH/.bgpids" >"$TRASH/.bgpids.new" 2>/dev/null
	mv "$TRASH/.bgpids.new" "$TRASH/.bgpids"
}

bg_pid()
{
	eval "echo \${t_pid_$1-}"
}

bg_stop()
{
	pid=$(bg_pid "$1")
	[ -n "$pid" ] || return 1
	kill "$pid" 2>/dev/null
	wait "$pid"
	rc=$?
	t_forget "$pid"
	eval "t_pid_$1="
	return $rc
}

# bg_kill9 NAME: SIGKILL, reap, forget.
bg_kill9()
{
	pid=$(bg_pid "$1")
	[ -n "$pid" ] || return 1
	kill -9 "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	t_forget "$pid"
	eval "t_pid_$1="
	return 0
}

# bg_end NAME: for test_when_finished, in the body that started NAME: if NAME
# still runs, SIGTERM, SIGKILL after 2 s; reap, forget. 0 also when NAME was
# stopped already. NAME is this shell's child: its pid stays its own until
# the wait, and an ended child (a zombie, "Z" in /proc/PID/stat) ran out.
bg_end()
{
	pid=$(bg_pid "$1")
	[ -n "$pid" ] || return 0
	kill "$pid" 2>/dev/null
	t_i=0
	while [ "$t_i" -lt 40 ]; do
		case $(sed 's/^.*) //' "/proc/$pid/stat" 2>/dev/null) in
		"" | Z*) break ;;
		esac
		sleep 0.05
		t_i=$((t_i + 1))
	done
	kill -9 "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	t_forget "$pid"
	eval "t_pid_$1="
	return 0
}

wait_until()
{
	t_secs=${2:-10}
	t_i=0
	while [ "$t_i" -lt $((t_secs * 20)) ]; do
		if eval "$1" >/dev/null 2>&1; then
			return 0
		fi
		sleep 0.05
		t_i=$((t_i + 1))
	done
	echo "wait_until: '$1' still false after ${t_secs}s" >&2
	return 1
}

# gen_hex BYTES SEED: an Intel HEX image of BYTES pseudo-random bytes at 0x08000000
gen_hex()
{
	awk -v n="$1" -v seed="$2" 'BEGIN {
		srand(seed); print ":020000040800F2";
		for (off = 0; off < n; off += 32) {
			if (off > 0 && off % 65536 == 0) {
				# the next 64 KiB: extended linear address 0x0800 + off / 64 KiB
				hi = 2048 + off / 65536;
				printf ":02000004%04X%02X\n", hi, (256 - (6 + int(hi / 256) + hi % 256) % 256) % 256;
			}
			a = off % 65536;
			len = n - off < 32 ? n - off : 32;
			s = len + int(a / 256) + a % 256;
			line = sprintf(":%02X%04X00", len, a);
			for (i = 0; i < len; i++) {
				b = int(rand() * 256); s += b; line = line sprintf("%02X", b);
			}
			printf "%s%02X\n", line, (256 - s % 256) % 256;
		}
		print ":00000001FF";
	}'
}

# bus_members: how many sockets listen on $BUS, to wait for a receiver before
# sending. unix: counts the member sockets in its directory; on SocketCAN
# (vcan0, can0) the distinct CAN_RAW sockets of the interface in
# /proc/net/can/rcvlist_* (fota, fota-test and candump alike; the fifth
# column is the socket).
bus_members()
{
	case $BUS in
	unix:*) ls "${BUS#unix:}" 2>/dev/null | grep -c '\.sock$' ;;
	*) cat /proc/net/can/rcvlist_* 2>/dev/null |
		awk -v d="$BUS" '$1 == d && $NF == "raw" && !s[$5]++ { n++ } END { print n + 0 }' ;;
	esac
}

test_done()
{
	t_cleanup
	echo "1..$t_count"
	[ "$t_fail" -eq 0 ]
}

# daemon NAME cmd...: cmd in the background, its pid in NAME.pid and, once
# it has ended, its exit status in NAME.rc (a wrapper shell waits for it:
# daemons outlive the test body that starts them). The pid also goes to
# lib.sh's list, so test_done kills what is left (SIGKILL after 2 s).
daemon()
{
	d_n=$1
	shift
	rm -f "$TRASH/$d_n.pid" "$TRASH/$d_n.rc"
	t_fresh_logs "$d_n"
	(
		"$@" >"$TRASH/$d_n.out" 2>"$TRASH/$d_n.err" &
		echo $! >"$TRASH/$d_n.pid.new"
		mv "$TRASH/$d_n.pid.new" "$TRASH/$d_n.pid"
		wait $!
		echo $? >"$TRASH/$d_n.rc"
	) </dev/null >/dev/null 2>&1 &
	# the wrapper first: killed with cmd by test_done, it writes no
	# NAME.rc into the scratch directory lib.sh is removing
	echo $! >"$TRASH/$d_n.wpid"
	t_register $!
	wait_until "test -s \"$TRASH/$d_n.pid\"" 5 &&
	t_register "$(cat "$TRASH/$d_n.pid")"
}

# ended NAME: wait (5 s at most) for NAME.rc; then test_done no longer
# signals NAME's pids, which may belong to another process by then
ended()
{
	wait_until "test -f \"$TRASH/$1.rc\"" 5 || return 1
	for f_p in $(cat "$TRASH/$1.wpid" "$TRASH/$1.pid"); do
		t_forget "$f_p"
	done
}

# ends_within NAME SIGNAL MS: send SIGNAL; pass if NAME exits 0 within MS
# milliseconds. One still running 3 s later is killed (SIGKILL). serve must
# end within 1 s; the tests allow 1.5 s, for a sanitized build on a busy machine.
ends_within()
{
	e_p=$(cat "$TRASH/$1.pid") || return 1
	e_t0=$(date +%s%N)
	kill -"$2" "$e_p" || return 1
	if ! wait_until "test -f \"$TRASH/$1.rc\"" $(($3 / 1000 + 3)) 2>/dev/null; then
		echo "$1: still running $(($3 / 1000 + 3)) s after SIG$2; killed" >&2
		kill -9 "$e_p"
		ended "$1"
		return 1
	fi
	e_ms=$(elapsed_ms $e_t0)
	ended "$1" &&
	echo "$1: exit $(cat "$TRASH/$1.rc") ${e_ms} ms after SIG$2"
	test "$(cat "$TRASH/$1.rc")" = 0 && test "$e_ms" -le "$3"
}

elapsed_ms()
{
	echo $((($(date +%s%N) - $1) / 1000000))
}
