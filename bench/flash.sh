#!/bin/sh
# SPDX-License-Identifier: MIT
# bench/flash.sh: the wire-efficiency proof of `fota flash` (issue 3):
# 1 MiB image, maxNumberOfBlockLength 4095, frame count vs the ISO-TP minimum,
# projected bus time vs the physical limit at 500 kbit/s and 1 Mbit/s, CPU
# time per MiB on each side. See bench/flash_wire.c for the formulas.
#
#   sh bench/flash.sh        # builds an -O2 tree in build-bench/ (O=... to change)
set -eu
SRC=$(cd "$(dirname "$0")/.." && pwd)
O=${O:-$SRC/build-bench}
cd "$SRC"
make -s O="$O" "$O/libfota.a" "$O/tests/sim/sim.o" "$O/tests/sim/bus_mem.o" >/dev/null
FLAGS=$(pkg-config --cflags --libs yaml-0.1 libsocketcan json-c zlib liblz4 libcrypto)
cc -O2 -std=c11 -D_GNU_SOURCE -I. -o "$O/flash_wire" bench/flash_wire.c \
	"$O/tests/sim/sim.o" "$O/tests/sim/bus_mem.o" "$O/libfota.a" $FLAGS -ldl
lscpu | sed -n 's/^Model name: *//p'
"$O/flash_wire"
