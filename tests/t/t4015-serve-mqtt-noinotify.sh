#!/bin/sh
# SPDX-License-Identifier: MIT
# vcan: skip (the broker link: the same on every bus)
test_description='fota serve without inotify: a request from the broker is taken at once, not at the next inbox rescan'
. "$(dirname "$0")/lib.sh"
. "$FOTA_SRC/tests/t/lib-broker.sh"

# inotify instances are limited per user (fs.inotify.max_user_instances,
# 128 by default): a host running many TCUs, or a container, runs out, and
# serve falls back to rescanning its inbox every 5 s. A request that came
# over MQTT was written by serve itself: it must not wait for that rescan.
ST=$TRASH/state

test_expect_success BROKER 'setup: a broker, a trusted key, a TCU' '
	broker_pki platform tcu-a &&
	broker_start &&
	fota keygen k1 >/dev/null &&
	gen_hex 256 3 >fw.hex &&
	cat >fota.yaml <<-CFG &&
	tcu:
	  node_id: 0x27
	ecus:
	  - name: hydraulics
	    request_id: 0x7E0
	    response_id: 0x7E8
	    security: { level: 0x01, key: "xor:A5A5A5A5" }
	    regions:
	      - { start: 0x08000000, size: 0x10000 }
	trust:
	  keys:
	    - { name: platform, file: k1.pub }
	CFG
	broker_mqtt_yaml tcu-a >>fota.yaml
'

# hog.py FILE: holds every inotify instance this user may still open (FILE
# says how many) until killed
cat >hog.py <<'PY'
import ctypes, sys, time
libc = ctypes.CDLL(None, use_errno=True)
fds = []
while len(fds) < 100000:
    fd = libc.inotify_init()
    if fd < 0:
        break
    fds.append(fd)
open(sys.argv[1], "w").write("%d\n" % len(fds))
time.sleep(120)
PY

test_expect_success BROKER 'serve started while no inotify instance is left says so' '
	daemon hog "$PYTHON" hog.py hog.full &&
	wait_until "test -s hog.full" 10 &&
	daemon serve fota serve -c fota.yaml -b "$BUS" --state-dir "$ST" &&
	wait_until "grep -q \"on $BUS\" \"$TRASH/serve.err\" || test -f \"$TRASH/serve.rc\"" 10 &&
	kill "$(cat hog.pid)" && ended hog &&
	test_grep "inbox: inotify unavailable, rescanning every 5 s" "$TRASH/serve.err" &&
	wait_until "grep -q \"mqtt: connected\" \"$TRASH/serve.err\"" 10
'

test_expect_success BROKER 'a request published on the broker is queued within 1 s of its intake' '
	fota request -c fota.yaml -e hydraulics --sw-version 2.1 --sign k1.key -o req fw.hex >id &&
	broker_pub platform -q 1 -r -t "fota/tcu-a/request/$(cat id)" -f req &&
	wait_until "grep -q \"request $(cat id) received\" \"$TRASH/serve.err\"" 10 &&
	wait_until "grep -q \"update $(cat id): queued\" \"$TRASH/serve.err\"" 1 ||
		{ cat "$TRASH/serve.err" >&2; return 1; }
'

test_expect_success BROKER 'serve ends cleanly on SIGTERM' '
	kill -TERM "$(cat "$TRASH/serve.pid")" &&
	wait_until "test -f \"$TRASH/serve.rc\"" 10 && ended serve &&
	test "$(cat "$TRASH/serve.rc")" = 0
'

test_done
