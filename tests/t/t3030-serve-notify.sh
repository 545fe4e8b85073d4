#!/bin/sh
# SPDX-License-Identifier: MIT
test_description='fota serve under a service manager: sd_notify READY, STATUS, WATCHDOG, STOPPING; the systemd unit'
. "$(dirname "$0")/lib.sh"

# Without systemd as PID 1: fota-test notify-listen plays its part and prints
# "MS PID KEY=VALUE" per assignment received. The protocol does not depend on
# the CAN bus, so this always runs on a unix: bus of its own (the VM stage,
# where timings are 15-40 times slower, does not pick it up).
VBUS=unix:$TRASH/vbus
ST=$TRASH/st
SOCK=$TRASH/notify.sock
PERIOD_MS=100 # WATCHDOG_USEC=200000: a ping every half of it

trap 'for f in "$TRASH"/*.pid; do [ -f "$f" ] && kill -CONT "$(cat "$f")" 2>/dev/null &&
	kill "$(cat "$f")" 2>/dev/null; done
	t_cleanup; [ -n "$FOTA_TEST_KEEP" ] || rm -rf "$TRASH"' EXIT

daemon() # daemon NAME cmd...
{
	t_name=$1
	shift
	"$@" >"$TRASH/$t_name.out" 2>>"$TRASH/$t_name.err" &
	echo $! >"$TRASH/$t_name.pid"
}

stop() # stop NAME [SIGNAL]
{
	t_p=$(cat "$TRASH/$1.pid") || return 1
	kill -"${2:-TERM}" "$t_p" 2>/dev/null
	rm -f "$TRASH/$1.pid"
	wait_until "! kill -0 $t_p" 10
}

listen() # listen NAME SOCKET
{
	daemon "$1" fota-test notify-listen "$2" &&
	case $2 in
	@*) sleep 0.3 ;; # an abstract name leaves no file to wait for
	*) wait_until "test -S $2" 5 ;;
	esac
}

# serve ENV...: fota serve with these variables, on VBUS, until stopped
serve()
{
	: >serve.err &&
	daemon serve env "$@" fota serve -c "$FOTA_SRC/examples/fota.yaml" -b "$VBUS" \
		--state-dir "$ST"
}

count() # count KEY=VALUE-REGEX FILE
{
	grep -c -E "^[0-9.]+ [0-9]+ $1\$" "$2"
}

# gaps FILE: the milliseconds between consecutive pings, one per line
gaps()
{
	awk '$3 == "WATCHDOG=1" { if (n++) printf "%.0f\n", $1 - t; t = $1 }' "$1"
}

test_expect_success 'READY=1 once, and then serve answers SDO at once' '
	listen notify "$SOCK" &&
	serve NOTIFY_SOCKET="$SOCK" WATCHDOG_USEC=200000 &&
	wait_until "count READY=1 notify.out" 10 &&
	fota status -b "$VBUS" >status.out &&
	test_grep "update_status" status.out &&
	test "$(count READY=1 notify.out)" = 1
'

test_expect_success 'every datagram comes from the main process (NotifyAccess=main)' '
	pid=$(cat serve.pid) &&
	test -s notify.out &&
	awk -v p="$pid" "\$2 != p" notify.out >others &&
	test_must_be_empty others
'

test_expect_success 'STATUS= with update_status comes before READY=1' '
	grep -v WATCHDOG=1 notify.out | head -2 | cut -d" " -f3- >first &&
	printf "STATUS=update_status 0x00: idle\nREADY=1\n" >expect &&
	test_cmp expect first
'

test_expect_success 'WATCHDOG=1 every 100 ms (WATCHDOG_USEC=200000), from the first loop pass' '
	sleep 1.5 &&
	gaps notify.out >gaps &&
	cat gaps | tr "\n" " " >&2 &&
	n=$(wc -l <gaps) && test "$n" -ge 8 &&
	median=$(sort -n gaps | awk "{ a[NR] = \$1 } END { print a[int((NR + 1) / 2)] }") &&
	echo "median gap $median ms" >&2 &&
	test "$median" -ge $((PERIOD_MS * 9 / 10)) && test "$median" -le $((PERIOD_MS * 3 / 2)) &&
	# never a burst, and never as late as the whole interval (systemd would kill)
	test "$(sort -n gaps | head -1)" -ge $((PERIOD_MS / 2)) &&
	test "$(sort -n gaps | tail -1)" -lt $((PERIOD_MS * 2))
'

test_expect_success 'a stopped loop (SIGSTOP) stops pinging; SIGCONT resumes' '
	pid=$(cat serve.pid) &&
	kill -STOP $pid &&
	sleep 0.2 &&
	before=$(count WATCHDOG=1 notify.out) &&
	sleep 0.8 &&
	after=$(count WATCHDOG=1 notify.out) &&
	kill -CONT $pid &&
	echo "pings while stopped: $((after - before))" >&2 &&
	test "$after" = "$before" &&
	wait_until "test \$(count WATCHDOG=1 notify.out) -ge $((after + 3))" 5 &&
	fota status -b "$VBUS" >/dev/null
'

test_expect_success 'STATUS= follows an offered update, then its cancellation' '
	gen_hex 4096 5 >fw.hex &&
	id=1b4e28ba-2fa1-41d2-883f-0016d3cca427 &&
	printf "id: %s\necu: hydraulics\nfirmware: %s\nsha256: %s\n" $id "$TRASH/fw.hex" \
		"$(sha256sum fw.hex | cut -d" " -f1)" >req.tmp &&
	mv req.tmp "$ST/inbox/$id.yaml" &&
	wait_until "count \"STATUS=update_status 0x00: idle; update offered\" notify.out" 10 &&
	fota reject -b "$VBUS" &&
	wait_until "count \"STATUS=update_status 0x60: update cancelled\" notify.out" 5
'

test_expect_success 'SIGTERM: STOPPING=1, then exit' '
	stop serve &&
	test_grep " STOPPING=1$" notify.out &&
	stop notify
'

test_expect_success 'without WATCHDOG_USEC no pings; an abstract socket name works' '
	abs=@fota-test-notify-$$ &&
	listen notify2 $abs &&
	serve NOTIFY_SOCKET=$abs &&
	wait_until "count READY=1 notify2.out" 10 &&
	sleep 0.5 &&
	test "$(count WATCHDOG=1 notify2.out)" = 0 &&
	test_grep "STATUS=update_status 0x60: update cancelled" notify2.out &&
	stop serve && stop notify2
'

test_expect_success 'a bad NOTIFY_SOCKET: one warning, serve runs on' '
	serve NOTIFY_SOCKET=relative/path &&
	wait_until "grep -q \"node 0x27 on\" serve.err" 10 &&
	fota status -b "$VBUS" >/dev/null &&
	test_grep "warning: NOTIFY_SOCKET: Invalid argument: ignored" serve.err &&
	stop serve
'

# ---- the unit that make install puts in $(SYSTEMDUNITDIR) ----

UNIT=$FOTA_BINDIR/../lib/systemd/system/fota-serve.service

test_expect_success 'the installed unit runs the installed fota-serve, Type=notify' '
	test -f "$UNIT" &&
	exec_start=$(sed -n "s/^ExecStart=//p" "$UNIT") &&
	bin=${exec_start%% *} &&
	case $FOTA_BINDIR in *"$(dirname "$bin")") ;; *) false ;; esac &&
	test -x "$FOTA_BINDIR/$(basename "$bin")" &&
	test_grep "^Type=notify$" "$UNIT" &&
	test_grep "^WatchdogSec=" "$UNIT" &&
	test_grep "^StateDirectory=fota$" "$UNIT"
'

test_lazy_prereq SYSTEMD_ANALYZE 'systemd-analyze --version'

# The unit as installed, its ExecStart pointed into the scratch install
# (verify checks that the program exists) and man pages looked up there.
test_expect_success SYSTEMD_ANALYZE 'systemd-analyze verify: no error, no warning' '
	sed "s|^ExecStart=[^ ]*/|ExecStart=$FOTA_BINDIR/|" "$UNIT" >fota-serve.service &&
	MANPATH=$FOTA_BINDIR/../share/man systemd-analyze verify ./fota-serve.service \
		>verify.out 2>&1 &&
	test_must_be_empty verify.out
'

test_done
