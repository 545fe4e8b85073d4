# SPDX-License-Identifier: MIT
# examples/demo-lib.sh: what examples/demo.sh and examples/fleet-demo.sh
# share, sourced once $dir (their scratch directory) exists: the processes
# to stop at the end, the directory kept (DEMO_KEEP=1) or removed, the step
# headings and the waits.

demo_pids=

# demo_bg PID: stop PID when the demo ends (the last started first)
demo_bg()
{
	demo_pids="$1 $demo_pids"
}

# demo_stop PID: stop PID now, and not again at the end
demo_stop()
{
	kill "$1" 2>/dev/null || true
	wait "$1" 2>/dev/null || true
	demo_pids=$(echo " $demo_pids " | sed "s/ $1 / /")
}

# under set -e: a process that dies of the signal makes wait return 143
demo_cleanup()
{
	for p in $demo_pids; do
		kill "$p" 2>/dev/null || true
		wait "$p" 2>/dev/null || true
	done
	if [ -n "${DEMO_KEEP:-}" ]; then
		echo "demo: files kept in $dir"
	else
		rm -rf "$dir"
	fi
}
trap demo_cleanup EXIT
trap 'exit 130' INT TERM

step()
{
	printf '\n==> %s\n' "$*"
}

# until_ok SECONDS CMD...: retry CMD every 0.2 s
until_ok()
{
	t=$(($1 * 5))
	shift
	while ! "$@" >/dev/null 2>&1; do
		t=$((t - 1))
		[ "$t" -gt 0 ] || { echo "demo: timed out waiting for: $*" >&2; return 1; }
		sleep 0.2
	done
}

# demo_hex SEED: 16 KiB of pseudo-random firmware at 0x08000000, Intel HEX
demo_hex()
{
	awk -v seed="$1" 'BEGIN {
		srand(seed); print ":020000040800F2";
		for (off = 0; off < 16384; off += 32) {
			s = 32 + int(off / 256) + off % 256; line = sprintf(":20%04X00", off);
			for (i = 0; i < 32; i++) { b = int(rand() * 256); s += b; line = line sprintf("%02X", b) }
			printf "%s%02X\n", line, (256 - s % 256) % 256;
		}
		print ":00000001FF";
	}'
}
