#!/bin/sh
# SPDX-License-Identifier: MIT
# bench/compress.sh: compressed downloads over the firmware corpus (issue 12,
# part 2): per image its size, the compressed size per method, frames,
# projected time at 500 kbit/s and its ratio to the raw physical limit, and
# the tester's CPU for compression; then the sums. See bench/compress_wire.c
# for the formulas, bench/corpus.sh for the corpus (built once, cached in
# build/corpus/).
#
#   sh bench/compress.sh            # builds an -O2 tree in build-bench/ (O=... to change)
#   sh bench/compress.sh FILE.hex   # other images instead of the corpus
set -eu
SRC=$(cd "$(dirname "$0")/.." && pwd)
O=${O:-$SRC/build-bench}
cd "$SRC"
if [ $# -eq 0 ]; then
	set -- $(sh bench/corpus.sh)
fi
make -s O="$O" "$O/libfota.a" "$O/tests/sim/sim.o" "$O/tests/sim/bus_mem.o" >/dev/null
FLAGS=$(pkg-config --cflags --libs yaml-0.1 libsocketcan json-c zlib liblz4 libcrypto)
cc -O2 -std=c11 -D_GNU_SOURCE -I. -o "$O/compress_wire" bench/compress_wire.c \
	"$O/tests/sim/sim.o" "$O/tests/sim/bus_mem.o" "$O/libfota.a" $FLAGS -ldl
lscpu | sed -n 's/^Model name: *//p'
"$O/compress_wire" "$@"
