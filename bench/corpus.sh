#!/bin/sh
# SPDX-License-Identifier: MIT
# bench/corpus.sh: the firmware corpus of the compression bench (issue 12),
# as Intel HEX files in build/corpus/ (O=DIR to change; kept between runs).
# Real microcontroller firmware, no random data:
#  - Cortex-M images compiled from this project's protocol code with Debian's
#    gcc-arm-none-eabi and libnewlib-arm-none-eabi (bench/fw/main.c: the UDS
#    bootloader on an M4, the CANopen node on an M0, the UDS tester on an M7),
#  - firmware Debian ships, built from source: firmware-ath9k-htc (the
#    Xtensa firmware of Atheros USB Wi-Fi adapters) and sigrok-firmware-fx2lafw
#    (8051 code of Cypress FX2 logic analysers),
# each converted to HEX at 0x08000000 with objcopy.
# Installs those four packages with apt-get (as root, or via sudo) when
# missing: a bench-only setup, not part of tests/install-deps.sh.
#
#   sh bench/corpus.sh        # prints the HEX files, one a line
set -eu
SRC=$(cd "$(dirname "$0")/.." && pwd)
OUT=${O:-$SRC/build}/corpus
PKGS="gcc-arm-none-eabi libnewlib-arm-none-eabi firmware-ath9k-htc sigrok-firmware-fx2lafw"

missing=
for p in $PKGS; do
	dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed' ||
		missing="$missing $p"
done
if [ -n "$missing" ]; then
	SUDO=
	[ "$(id -u)" -eq 0 ] || SUDO=sudo
	echo "corpus: apt-get install$missing" >&2
	$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
		$missing >&2 || {
		$SUDO apt-get update -qq >&2
		$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
			--no-install-recommends $missing >&2
	}
fi
mkdir -p "$OUT"

# A raw binary as Intel HEX at 0x08000000.
tohex()
{
	[ -s "$2" ] || objcopy -I binary -O ihex --change-addresses 0x08000000 "$1" "$2"
	echo "$2"
}

# fw NAME CPU DEFINE SOURCES...: one Cortex-M image of bench/fw/main.c and the sources.
fw()
{
	name=$1 cpu=$2 def=$3
	shift 3
	hex=$OUT/$name.hex
	if [ ! -s "$hex" ] || [ -n "$(find "$SRC/bench/fw" "$@" -newer "$hex" 2>/dev/null)" ]; then
		(cd "$SRC" && arm-none-eabi-gcc -mcpu="$cpu" -mthumb -Os -g0 -std=c11 \
			-D_GNU_SOURCE -D"$def" -DEREMOTEIO=121 -Ibench/fw -I. \
			-ffunction-sections -fdata-sections -Wno-implicit-function-declaration \
			--specs=nano.specs --specs=nosys.specs -nostartfiles -Tbench/fw/fw.ld \
			-Wl,--gc-sections -o "$OUT/$name.elf" bench/fw/main.c "$@" -lc -lnosys)
		arm-none-eabi-objcopy -O ihex "$OUT/$name.elf" "$hex"
	fi
	echo "$hex"
}

fw uds-bootloader-m4 cortex-m4 FW_UDS uds/server.c uds/ecu.c uds/isotp.c uds/codec.c \
	core/frame.c core/file.c
fw canopen-node-m0 cortex-m0 FW_SDO sdo/server.c sdo/od.c sdo/codec.c sdo/fota_od.c \
	sdo/nmt.c core/update.c core/frame.c core/file.c
fw uds-tester-m7 cortex-m7 FW_TESTER uds/prog.c uds/client.c uds/rdbi.c uds/isotp.c \
	uds/codec.c core/frame.c
for f in /lib/firmware/ath9k_htc/htc_9271-1.4.0.fw /lib/firmware/ath9k_htc/htc_7010-1.4.0.fw \
	/usr/share/sigrok-firmware/fx2lafw-saleae-logic.fw \
	/usr/share/sigrok-firmware/fx2lafw-hantek-6022be.fw \
	/usr/share/sigrok-firmware/fx2lafw-cypress-fx2.fw; do
	tohex "$f" "$OUT/$(basename "$f" .fw).hex"
done
