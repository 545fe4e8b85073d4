#!/bin/sh
# tests/vm/run.sh: run one command on real SocketCAN inside a throwaway QEMU VM.
#
#   tests/vm/run.sh [-b BUILDDIR] [-s DIR]... [-t SECONDS] [--] CMD [ARG]...
#
# The VM boots Debian's own kernel (from /boot, the version of the running
# kernel when it is installed, else the newest linux-image-*-amd64) under TCG,
# with a tiny busybox initramfs built here and cached in BUILDDIR/vm. The
# host's root is shared read-only over virtio-9p under a tmpfs overlay, so
# /usr, /lib, can-utils, iproute2 and the project's binaries work inside; the
# source tree (and every -s DIR) is shared read-write at the same path. Inside,
# tests/vm/vcan-up.sh loads the CAN modules and makes vcan0, vcan1 (classic)
# and vcanfd0 (CAN FD, MTU 72) with the host's `ip`; then CMD runs as root in
# the current directory with PATH, LC_ALL, TZ, FOTA_*, *SAN_OPTIONS and
# FOTA_TEST_BUS=vcan0 exported. The VM powers off afterwards.
#
# CMD's stdout and stderr (merged) stream to our stdout. The exit status is
# CMD's, or 124 on timeout, 125 when the VM could not run it. Boot, run and
# total times go to stderr as one "vm:" line. No process is left behind.
#
# Environment: FOTA_VM_TIMEOUT (default 600 s), FOTA_VM_MEM (MiB, 1024),
# FOTA_VM_SMP (1), FOTA_VM_KERNEL (a vmlinuz path), FOTA_VM_BOOT (pvh|bzimage,
# default pvh when the unpacked ELF can be made), FOTA_VM_KEEP=1 keeps the job
# dir and console log. At most one VM per core runs at a time (locks in
# $TMPDIR; FOTA_VM_SLOTS).
set -u

me=tests/vm/run.sh
vmdir=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$vmdir/../.." && pwd)
build=${FOTA_BUILD:-$src/build}
shares=
timeout_s=${FOTA_VM_TIMEOUT:-600}
mem=${FOTA_VM_MEM:-1024}
smp=${FOTA_VM_SMP:-1}

die()
{
	echo "$me: $*" >&2
	exit 125
}

while [ $# -gt 0 ]; do
	case $1 in
	-b) build=$2; shift 2 ;;
	-s) shares="$shares
$(cd "$2" && pwd)" || die "no such directory: $2"; shift 2 ;;
	-t) timeout_s=$2; shift 2 ;;
	--) shift; break ;;
	-*) die "unknown option $1 (usage: $me [-b BUILDDIR] [-s DIR]... [-t SECONDS] [--] CMD...)" ;;
	*) break ;;
	esac
done
[ $# -gt 0 ] || die "usage: $me [-b BUILDDIR] [-s DIR]... [-t SECONDS] [--] CMD..."

now()
{
	date +%s.%N
}
secs()
{
	awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", b - a }'
}
# One VM per core: TCG keeps a vCPU's core busy, and more VMs than cores
# would starve each other (and everyone's builds). A caller takes a free slot
# (a lock file per core, FOTA_VM_SLOTS overrides the count) or waits until
# one is free.
slots=${FOTA_VM_SLOTS:-$(nproc 2>/dev/null || echo 1)}
take_slot()
{
	slot=0
	while [ "$slot" -lt "$slots" ]; do
		exec 9>"${TMPDIR:-/tmp}/fota-vm.lock.$slot"
		flock -n 9 && return 0
		slot=$((slot + 1))
	done
	return 1
}
if ! take_slot; then
	echo "vm: waiting for one of $slots running fota VMs to finish" >&2
	waited=0
	until take_slot; do
		[ "$waited" -lt "$timeout_s" ] || die "the other VMs held their locks for ${timeout_s}s"
		sleep 1
		waited=$((waited + 1))
	done
fi
t0=$(now)

command -v qemu-system-x86_64 >/dev/null || die "qemu-system-x86_64 missing: run tests/vm/setup.sh"
[ -x /bin/busybox ] || die "busybox missing: run tests/vm/setup.sh"

# ---- the kernel ---------------------------------------------------------------
if [ -n "${FOTA_VM_KERNEL:-}" ]; then
	vmlinuz=$FOTA_VM_KERNEL
	kver=${vmlinuz##*/vmlinuz-}
elif [ -f "/boot/vmlinuz-$(uname -r)" ] && [ -d "/lib/modules/$(uname -r)/kernel/net/can" ]; then
	kver=$(uname -r)
	vmlinuz=/boot/vmlinuz-$kver
else
	# The running kernel is not Debian's (a container host): the newest
	# installed Debian kernel that has its modules.
	kver=$(for f in /boot/vmlinuz-*-amd64; do
		k=${f#/boot/vmlinuz-}
		[ -d "/lib/modules/$k/kernel/net/can" ] && echo "$k"
	done | sort -V | tail -1)
	[ -n "$kver" ] || die "no Debian kernel in /boot: run tests/vm/setup.sh"
	vmlinuz=/boot/vmlinuz-$kver
fi
[ -r "$vmlinuz" ] || die "cannot read $vmlinuz"
cache=$build/vm
mkdir -p "$cache" || die "cannot create $cache"

# ---- PVH: boot the unpacked ELF, skipping the decompressor (slow under TCG) ----
# The bzImage carries the compressed vmlinux after its setup code; find the
# first compressor magic, as the kernel's scripts/extract-vmlinux does, and
# unpack from there. QEMU boots an ELF with a PVH note directly.
unpack_vmlinux()
{
	for m in 'xz:\xfd7zXZ\x00' 'zstd:\x28\xb5\x2f\xfd' 'gzip:\x1f\x8b\x08' 'lzma:\x5d\x00\x00\x00'; do
		tool=${m%%:*}
		off=$(LC_ALL=C grep -aboP -m1 "${m#*:}" "$1" 2>/dev/null | head -1 | cut -d: -f1)
		[ -n "$off" ] || continue
		case $tool in
		xz) dec="xz -dcq" ;;
		zstd) dec="zstd -dcq" ;;
		gzip) dec="gzip -dcq" ;;
		lzma) dec="xz -dcq --format=lzma" ;;
		esac
		tail -c +"$((off + 1))" "$1" | $dec >"$2.tmp" 2>/dev/null
		if [ "$(head -c 4 "$2.tmp" | od -An -tx1 | tr -d ' ')" = 7f454c46 ]; then
			mv "$2.tmp" "$2"
			return 0
		fi
	done
	rm -f "$2.tmp"
	return 1
}

boot=${FOTA_VM_BOOT:-pvh}
kernel=$vmlinuz
if [ "$boot" = pvh ]; then
	key="$(stat -c '%s %Y' "$vmlinuz") $vmlinuz"
	elf=$cache/vmlinux-$kver
	if [ ! -s "$elf" ] || [ "$(cat "$elf.key" 2>/dev/null)" != "$key" ]; then
		if unpack_vmlinux "$vmlinuz" "$elf"; then
			echo "$key" >"$elf.key"
		else
			echo "$me: cannot unpack $vmlinuz, booting the bzImage" >&2
			boot=bzimage
		fi
	fi
	[ "$boot" = pvh ] && kernel=$elf
fi

# ---- the initramfs: busybox, the modules to reach the 9p root, /init ----------
# Uncompressed cpio: decompressing under TCG costs more than reading it.
early_mods=$(modprobe -S "$kver" --show-depends -a virtio_pci 9pnet_virtio 9p overlay 2>/dev/null |
	awk '$1 == "insmod" && !seen[$2]++ { print $2 }')
[ -n "$early_mods" ] || die "cannot resolve the virtio/9p modules of $kver"
initrd=$cache/initramfs-$kver.cpio
# shellcheck disable=SC2086 # module paths have no spaces
key=$( (echo "$kver"; stat -c '%n %s %Y' /bin/busybox "$vmdir/init" $early_mods) | cksum)
if [ ! -s "$initrd" ] || [ "$(cat "$initrd.key" 2>/dev/null)" != "$key" ]; then
	stage=$cache/initramfs.d
	rm -rf "$stage" && mkdir -p "$stage/bin" "$stage/mod" "$stage/proc" "$stage/sys" \
		"$stage/dev" || die "cannot stage the initramfs"
	cp /bin/busybox "$stage/bin/busybox"
	for a in $(/bin/busybox --list); do
		[ "$a" = busybox ] || ln -s busybox "$stage/bin/$a"
	done
	for m in $early_mods; do
		cp "$m" "$stage/mod/"
		echo "${m##*/}" >>"$stage/mod/order"
	done
	cp "$vmdir/init" "$stage/init" && chmod 0755 "$stage/init"
	(cd "$stage" && find . | LC_ALL=C sort | cpio -o -H newc --quiet) >"$initrd.tmp" &&
		mv "$initrd.tmp" "$initrd" || die "cannot write $initrd"
	echo "$key" >"$initrd.key"
	rm -rf "$stage"
fi

tc=$(now)

# ---- the job: what /init mounts and runs ----------------------------------------
job=$(mktemp -d "${TMPDIR:-/tmp}/fota-vm.XXXXXX") || die "mktemp failed"
qpid=
cleanup()
{
	if [ -n "$qpid" ]; then
		kill "$qpid" 2>/dev/null
		wait "$qpid" 2>/dev/null
	fi
	[ -n "${FOTA_VM_KEEP:-}" ] || rm -rf "$job"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM HUP

q()
{
	printf "'%s'" "$(printf '%s' "$1" | sed "s/'/'\\\\''/g")"
}

virtfs="-virtfs local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap
-virtfs local,path=$job,mount_tag=job,security_model=none,multidevs=remap"
n=0
: >"$job/mounts"
for d in "$src" $shares; do
	[ -n "$d" ] || continue
	grep -qxF "rw$n $d" "$job/mounts" && continue
	echo "rw$n $d" >>"$job/mounts"
	virtfs="$virtfs
-virtfs local,path=$d,mount_tag=rw$n,security_model=none,multidevs=remap"
	n=$((n + 1))
done

{
	echo "# generated by $me"
	echo "export HOME=/root TERM=dumb FOTA_TEST_BUS=vcan0 FOTA_TEST_BUS2=vcan1 FOTA_TEST_BUS_FD=vcanfd0"
	echo "export FOTA_VM=1 FOTA_SRC=$(q "$src") FOTA_BUILD=$(q "$build")"
	for v in $(env | sed -n 's/^\(FOTA_[A-Za-z0-9_]*\)=.*/\1/p; s/^\([A-Z]*SAN_OPTIONS\)=.*/\1/p') \
		PATH LC_ALL LANG TZ; do
		case $v in
		FOTA_VM_* | FOTA_BUILD | FOTA_SRC | FOTA_TEST_BUS*) continue ;;
		esac
		eval "set_=\${$v+x}"
		[ -n "$set_" ] || continue
		eval "val=\$$v"
		echo "export $v=$(q "$val")"
	done
	echo "$(q "$vmdir/vcan-up.sh") || exit 125"
	echo "cd $(q "$PWD") || exit 125"
	printf 'set --'
	for a in "$@"; do
		printf ' %s' "$(q "$a")"
	done
	echo
	echo ': >/run/fota-vm/started'
	echo '"$@"'
} >"$job/cmd.sh"

# ---- boot ---------------------------------------------------------------------
# q35 without the i8042 controller and without the crypto self-tests boots
# faster under TCG; panic=-1 with -no-reboot turns a panic into a QEMU exit.
append="console=ttyS0 quiet loglevel=3 panic=-1 cryptomgr.notests=1 8250.nr_uarts=2 tsc=reliable no_timer_check mitigations=off"
# shellcheck disable=SC2086
timeout -k 5 "$timeout_s" qemu-system-x86_64 \
	-machine q35,accel=tcg,i8042=off -cpu ${FOTA_VM_CPU:-max} -smp "$smp" -m "$mem" \
	-nodefaults -no-user-config -display none -no-reboot \
	-kernel "$kernel" -initrd "$initrd" -append "$append" \
	-serial "file:$job/console.log" -chardev stdio,id=out,signal=off -serial chardev:out \
	$virtfs </dev/null &
qpid=$!

# Boot ends when the command starts: /init's job dir is shared with us.
tb=
while kill -0 "$qpid" 2>/dev/null; do
	if [ -e "$job/started" ]; then
		tb=$(now)
		break
	fi
	sleep 0.05
done
wait "$qpid"
qrc=$?
qpid=
t1=$(now)
# A command quicker than one poll: count it all as boot.
[ -z "$tb" ] && [ -e "$job/started" ] && tb=$t1

if [ "$qrc" -eq 124 ] || [ "$qrc" -eq 137 ]; then
	echo "$me: timed out after ${timeout_s}s; console:" >&2
	tail -20 "$job/console.log" | sed 's/^/  /' >&2
	exit 124
fi
if [ ! -s "$job/rc" ]; then
	echo "$me: the VM stopped without the command's exit status (qemu exit $qrc); console:" >&2
	tail -30 "$job/console.log" 2>/dev/null | sed 's/^/  /' >&2
	exit 125
fi
rc=$(cat "$job/rc")
if [ -n "$tb" ]; then
	prep=$(secs "$t0" "$tc")
	case $prep in 0.*) prep= ;; *) prep=" (kernel/initramfs cache made in $prep s)" ;; esac
	echo "vm: $kver ($boot, tcg, smp $smp): boot $(secs "$t0" "$tb") s$prep, command $(secs "$tb" "$t1") s, total $(secs "$t0" "$t1") s, exit $rc" >&2
fi
exit "$rc"
