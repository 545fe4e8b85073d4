#!/bin/sh
# SPDX-License-Identifier: MIT
# bench/hexinfo.sh: time `fota hexinfo` against srec_info and python3-intelhex
# on one generated Intel HEX file holding a 64 MiB image, after checking that
# fota reads it the same way (layout vs srec_info, CRC-32 vs srec_cat's
# -crc32-l-e, per-segment CRC-32 and SHA-256 vs Python's zlib/hashlib over
# srec_cat's binary output).
#
#   sh bench/hexinfo.sh            # builds an -O2 tree in build-bench/
#   BENCH_INTELHEX=0 sh bench/hexinfo.sh   # skip intelhex (slow, ~4 GB RAM)
#
# Needs: srecord, python3-intelhex, hyperfine, GNU time. Prints a Markdown
# table (mean wall time, HEX text throughput, peak RSS) for bench/README.md.
set -eu

SRC=$(cd "$(dirname "$0")/.." && pwd)
O=${O:-$SRC/build-bench}
PY=/usr/bin/python3
W=${BENCH_DIR:-${TMPDIR:-/tmp}/fota-bench.$$}
mkdir -p "$W"
trap 'rm -rf "$W"' EXIT

echo "building $O (plain -O2, no sanitizers)" >&2
make -C "$SRC" --no-print-directory O="$O" CFLAGS='-O2 -g' SANITIZE= "$O/fota" >/dev/null
FOTA=$O/fota
cd "$W"

# Four 16 MiB segments of random bytes under extended linear addresses,
# 16-byte records (objcopy's default for ihex).
echo "generating big.hex (64 MiB image)" >&2
sh "$SRC/bench/bighex.sh" big.hex 16
HEX_BYTES=$(stat -c %s big.hex)
IMG_BYTES=$((64 * 1024 * 1024))

# ---- same answers first -------------------------------------------------------
echo "cross-checking" >&2
"$FOTA" hexinfo --json big.hex >fota.json
srec_info big.hex -intel | sed -n 's/^\(Data: \)\{0,1\} *\([0-9A-F]*\) - \([0-9A-F]*\)$/\2 \3/p' |
	while read -r a b; do printf '%08x %08x\n' "0x$a" "0x$b"; done >srec.layout
$PY -c '
import json, sys
for s in json.load(open("fota.json"))["segments"]:
    print("%08x %08x" % (s["start"], s["end"]))' >fota.layout
cmp srec.layout fota.layout || { echo "layout differs from srec_info" >&2; exit 1; }

srec_cat big.hex -intel -crc32-l-e 0xfffffff0 -crop 0xfffffff0 0xfffffff4 \
	-offset -0xfffffff0 -o crc.bin -binary 2>/dev/null
srec_crc=$(od -An -tu4 crc.bin | tr -d ' ')
for r in $(cat srec.layout | tr ' ' ':'); do
	a=${r%:*} && b=${r#*:}
	srec_cat big.hex -intel -crop "0x$a" "$(printf '0x%x' $((0x$b + 1)))" -offset "-0x$a" \
		-o "seg-$a.bin" -binary
done
$PY - "$srec_crc" <<'EOF'
import glob, hashlib, json, sys, zlib
j = json.load(open("fota.json"))
img = b"".join(open(f, "rb").read() for f in sorted(glob.glob("seg-*.bin")))
segs = [open(f, "rb").read() for f in sorted(glob.glob("seg-*.bin"))]
assert [zlib.crc32(s) for s in segs] == [s["crc32"] for s in j["segments"]], "segment CRCs"
assert zlib.crc32(img) == j["crc32"] == int(sys.argv[1]), "image CRC"
assert hashlib.sha256(img).hexdigest() == j["sha256"], "SHA-256"
assert len(img) == j["total_bytes"] == 64 << 20
print("same layout, segment CRCs, image CRC (0x%08x) and SHA-256 as srecord + zlib/hashlib"
      % j["crc32"], file=sys.stderr)
EOF
rm -f seg-*.bin

# ---- time and memory ----------------------------------------------------------
echo "timing" >&2
hyperfine -N --warmup 1 --runs 10 --export-json fota.time "$FOTA hexinfo big.hex" >&2
hyperfine -N --warmup 1 --runs 3 --export-json srec.time "srec_info big.hex -intel" >&2
if [ "${BENCH_INTELHEX:-1}" != 0 ]; then
	hyperfine -N --runs 1 --export-json ih.time \
		"$PY -c 'import intelhex; intelhex.IntelHex(\"big.hex\").segments()'" >&2
fi

rss()
{
	/usr/bin/time -v "$@" 2>&1 >/dev/null | sed -n 's/.*Maximum resident set size (kbytes): //p'
}
fota_rss=$(rss "$FOTA" hexinfo big.hex)
srec_rss=$(rss srec_info big.hex -intel)
ih_rss=
if [ -f ih.time ]; then
	ih_rss=$(rss $PY -c 'import intelhex; intelhex.IntelHex("big.hex").segments()')
fi

$PY - "$HEX_BYTES" "$IMG_BYTES" "$fota_rss" "$srec_rss" "$ih_rss" <<'EOF'
import json, os, sys
hex_bytes, img_bytes = int(sys.argv[1]), int(sys.argv[2])
rss = {"fota.time": sys.argv[3], "srec.time": sys.argv[4], "ih.time": sys.argv[5]}
names = {"fota.time": "fota hexinfo", "srec.time": "srec_info 1.64",
         "ih.time": "python3-intelhex 2.3 (load + segments)"}
base = json.load(open("fota.time"))["results"][0]["mean"]
print("HEX file: %.1f MB (%d bytes), image: %d MiB, 4 segments, 16-byte records"
      % (hex_bytes / 1e6, hex_bytes, img_bytes >> 20))
print()
print("| tool | mean time (s) | HEX MB/s | vs fota | peak RSS (MiB) | RSS / image |")
print("|---|---:|---:|---:|---:|---:|")
for f in ("fota.time", "srec.time", "ih.time"):
    if not os.path.exists(f):
        continue
    r = json.load(open(f))["results"][0]
    kb = int(rss[f]) if rss[f] else 0
    print("| %s | %.3f ± %.3f | %.0f | %.1fx | %.1f | %.2f |" % (
        names[f], r["mean"], r["stddev"] or 0, hex_bytes / 1e6 / r["mean"], r["mean"] / base,
        kb / 1024, kb * 1024 / img_bytes))
EOF
