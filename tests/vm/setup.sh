#!/bin/sh
# tests/vm/setup.sh: install what `make check-vcan` needs on a Debian host:
# QEMU (TCG), Debian's own kernel with its modules (vcan, can-isotp, 9p),
# busybox-static for the VM's init, and the CAN tools the tests talk to.
# Idempotent and quiet: when everything is there it returns at once.
#
# tiny-initramfs satisfies the kernel package's linux-initramfs-tool
# dependency; initramfs-tools would pull udev and spend half a minute building
# an initrd in /boot that run.sh never uses (it builds its own).
set -e

PKGS="qemu-system-x86 linux-image-amd64 tiny-initramfs busybox-static can-utils iproute2 kmod cpio gzip xz-utils zstd"

missing=
for p in $PKGS; do
	st=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
	[ "$st" = "install ok installed" ] || missing="$missing $p"
done
[ -n "$missing" ] || exit 0

if [ "$(id -u)" -ne 0 ]; then
	SUDO=sudo
	command -v sudo >/dev/null || {
		echo "tests/vm/setup.sh: need root to install:$missing" >&2
		exit 1
	}
else
	SUDO=
fi
echo "  SETUP   apt-get install$missing"
export DEBIAN_FRONTEND=noninteractive
log=${TMPDIR:-/tmp}/fota-vm-setup.$$.log
# An old or empty package list makes install fail; refresh once and retry.
if ! $SUDO apt-get install -y -q --no-install-recommends $missing >"$log" 2>&1; then
	$SUDO apt-get update -q >>"$log" 2>&1 || true
	if ! $SUDO apt-get install -y -q --no-install-recommends $missing >>"$log" 2>&1; then
		tail -20 "$log" >&2
		echo "tests/vm/setup.sh: apt-get install failed (log: $log)" >&2
		exit 1
	fi
fi
rm -f "$log"
