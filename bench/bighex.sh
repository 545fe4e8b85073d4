#!/bin/sh
# SPDX-License-Identifier: MIT
# bench/bighex.sh OUT [SEGMENT_MIB]: write a big Intel HEX file for the
# benches, as objcopy writes them (16-byte records, extended linear
# addresses): four segments of SEGMENT_MIB MiB (default 16, 1..63) of random
# bytes (srec_cat -random), at
#   0x08000000, 0x08000000 + (SEGMENT_MIB + 1) MiB, 0x10000000, 0xF0000000.
# Each MiB of image is about 2.88 MB of HEX text (44 characters per 16 bytes):
# 16 gives 184.6 MB (bench/hexinfo.sh), 18 gives 207.6 MB (bench/serve.sh).
# Needs srecord.
set -eu
if [ $# -lt 1 ] || [ $# -gt 2 ]; then
	echo "usage: bighex.sh OUT [SEGMENT_MIB]" >&2
	exit 2
fi
out=$1
mib=${2:-16}
case "$mib" in '' | *[!0-9]*) echo "bighex.sh: SEGMENT_MIB '$mib': not a number" >&2; exit 2 ;; esac
if [ "$mib" -lt 1 ] || [ "$mib" -gt 63 ]; then
	echo "bighex.sh: SEGMENT_MIB $mib: 1..63" >&2
	exit 2
fi
size=$((mib << 20))
a0=$((0x08000000)) a1=$((0x08000000 + ((mib + 1) << 20))) a2=$((0x10000000)) a3=$((0xF0000000))
seg()
{
	printf -- '-generate 0x%08x 0x%08x -random ' "$1" $(($1 + size))
}
# shellcheck disable=SC2046 # seg prints several words on purpose
srec_cat $(seg $a0) $(seg $a1) $(seg $a2) $(seg $a3) -o "$out" -intel -output_block_size=16
