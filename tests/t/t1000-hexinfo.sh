#!/bin/sh
# SPDX-License-Identifier: MIT
test_description='fota hexinfo: layout, errors, JSON, --bin; cross-checked with srecord and python3-intelhex'
. "$(dirname "$0")/lib.sh"

HEX=$FIXTURES/hex
PY=$PYTHON
SQ="'"
# Random layouts are reproducible: FOTA_TEST_SEED=N sh t1000-hexinfo.sh
SEED=${FOTA_TEST_SEED:-$(date +%s)}
echo "# random seed $SEED (FOTA_TEST_SEED to repeat)"

test_lazy_prereq SRECORD 'srec_cat --version && srec_info --version'
test_lazy_prereq INTELHEX '$PY -c "import intelhex"'

test_expect_success 'two segments: the table' '
	fota hexinfo "$HEX/two-seg.hex" >actual 2>err &&
	cat >expect <<-EOF &&
	$HEX/two-seg.hex:
	  format   ihex
	  segment  start       end              length  crc32
	  1        0x08000000  0x08003fff        16384  0x07b53787
	  gap      0x08004000  0x0800ffff        49152
	  2        0x08010000  0x0801007f          128  0xca6b83b9
	  total    2 segments, 16512 bytes; 1 gap, 49152 bytes
	  start    0x08000131 (linear)
	  crc32    0xba15385e
	  sha256   file  $(sha256sum <"$HEX/two-seg.hex" | cut -d" " -f1)  (an update request${SQ}s sha256)
	  sha256   image 74096a628a65ac29b8f07f78cda82df2fdb4766ace17faea20b7aad4fdf96752  (the data bytes)
	EOF
	test_cmp expect actual &&
	test_must_be_empty err
'

test_expect_success 'the file SHA-256 is the one an update request needs (sha256sum)' '
	fota hexinfo --json "$HEX/two-seg.hex" >fsha.json &&
	sha256sum <"$HEX/two-seg.hex" | cut -d" " -f1 >fsha.want &&
	$PY -c "import json; print(json.load(open(\"fsha.json\"))[\"file_sha256\"])" >fsha.got &&
	test_cmp fsha.want fsha.got &&
	fota hexinfo "$HEX/two-seg.hex" | sed -n "s/^  sha256   file  \([0-9a-f]*\) .*/\1/p" >fsha.got &&
	test_cmp fsha.want fsha.got
'

test_expect_success 'fota-hexinfo symlink gives the same output' '
	fota-hexinfo "$HEX/two-seg.hex" >actual2 &&
	test_cmp actual actual2
'

test_expect_success 'segment addressing (02/03), CRLF, lower case, out of order' '
	fota hexinfo --json "$HEX/segment-crlf.hex" >out.json &&
	$PY -c "
import json, sys
j = json.load(open(\"out.json\"))
assert [(s[\"start\"], s[\"length\"]) for s in j[\"segments\"]] == [(0, 16), (0x10010, 16)], j
assert j[\"start_address\"] == {\"type\": \"segment\", \"cs\": 0x1000, \"ip\": 0x10, \"address\": 0x10010}, j
"
'

test_expect_success 'bad checksum: file:line, expected and found, exit 3' '
	test_expect_code 3 fota hexinfo "$HEX/bad-csum.hex" >out 2>err &&
	echo "fota hexinfo: $HEX/bad-csum.hex:4: record checksum mismatch (expected 0xd8, found 0xd9)" >expect &&
	test_cmp expect err &&
	test_must_be_empty out
'

test_expect_success 'the symlink names itself in messages' '
	test_expect_code 3 fota-hexinfo "$HEX/bad-csum.hex" 2>err &&
	test_grep "^fota-hexinfo: .*bad-csum.hex:4: record checksum mismatch" err
'

check_error()
{
	test_expect_code 3 fota hexinfo "$HEX/$1" >out 2>err &&
	test_grep "^fota hexinfo: $HEX/$1:$2: $3" err &&
	test_must_be_empty out
}

test_expect_success 'every malformed file is refused with its line' '
	check_error bad-char.hex 2 "invalid character .x. in column 16 \(expected a hex digit\)" &&
	check_error no-eof.hex 2 "missing end-of-file record" &&
	check_error after-eof.hex 4 "content after the end-of-file record \(line 2\)" &&
	check_error past-4g.hex 2 "data past the 4 GiB address space \(last byte at 0x100000007\)" &&
	check_error unknown-type.hex 2 "unknown record type 0x06 \(expected 00 to 05\)"
'

test_expect_success 'conflicting overlap names both lines, exit 3' '
	check_error overlap-conflict.hex 4 "data at 0x00000113 conflicts with line 2 \(0xee here, 0x03 there\)"
'

test_expect_success 'identical overlap: warnings with both lines, exit 0' '
	fota hexinfo --json "$HEX/overlap-same.hex" >out 2>err &&
	test_grep "warning: .*overlap-same.hex:3: overlaps line 1 with identical data at 0x00000108-0x0000010f" err &&
	test_grep "warning: .*overlap-same.hex:3: overlaps line 2 with identical data at 0x00000110-0x00000117" err &&
	$PY -c "
import json; j = json.load(open(\"out\"))
assert j[\"warnings\"] == 2 and j[\"total_bytes\"] == 32 and len(j[\"segments\"]) == 1, j"
'

test_expect_success 'several files: each failure reported, the others done, worst status' '
	test_expect_code 3 fota hexinfo "$HEX/two-seg.hex" missing.hex "$HEX/bad-csum.hex" \
		"$HEX/overlap-same.hex" >out 2>err &&
	test_grep "^fota hexinfo: missing.hex: No such file or directory$" err &&
	test_grep "bad-csum.hex:4: record checksum mismatch" err &&
	test $(grep -c "segment  start" out) = 2
'

test_expect_success 'usage errors exit 2' '
	test_expect_code 2 fota hexinfo 2>err &&
	test_grep "no HEX file given" err &&
	test_expect_code 2 fota hexinfo --fill=0x100 --bin=x.bin "$HEX/two-seg.hex" &&
	test_expect_code 2 fota hexinfo --range=0x10-0x0f --bin=x.bin "$HEX/two-seg.hex" &&
	test_expect_code 2 fota hexinfo --range=0-0x100000000 --bin=x.bin "$HEX/two-seg.hex" &&
	test_expect_code 2 fota hexinfo --fill=0 "$HEX/two-seg.hex" &&
	test_expect_code 2 fota hexinfo --bin=x.bin "$HEX/two-seg.hex" "$HEX/two-seg.hex" &&
	test_expect_code 2 fota hexinfo --bogus "$HEX/two-seg.hex" &&
	test ! -e x.bin
'

test_expect_success '--json: the documented keys' '
	fota hexinfo --json "$HEX/two-seg.hex" >out.json &&
	test $(wc -l <out.json) = 1 &&
	$PY -c "
import json
j = json.load(open(\"out.json\"))
assert sorted(j) == sorted([\"file\", \"segments\", \"gaps\", \"total_bytes\", \"start_address\",
                           \"crc32\", \"sha256\", \"warnings\", \"format\", \"header\",
                           \"file_sha256\", \"image_sha256\"]), sorted(j)
assert j[\"format\"] == \"ihex\" and j[\"header\"] is None, j
assert j[\"sha256\"] == j[\"image_sha256\"], j
assert j[\"segments\"] == [
    {\"start\": 0x08000000, \"end\": 0x08003fff, \"length\": 16384, \"crc32\": 0x07b53787},
    {\"start\": 0x08010000, \"end\": 0x0801007f, \"length\": 128, \"crc32\": 0xca6b83b9}], j
assert j[\"gaps\"] == [{\"start\": 0x08004000, \"end\": 0x0800ffff, \"length\": 49152}], j
assert j[\"start_address\"] == {\"type\": \"linear\", \"address\": 0x08000131}
assert j[\"total_bytes\"] == 16512 and j[\"crc32\"] == 0xba15385e and j[\"warnings\"] == 0
"
'

test_expect_success '--json with several files: one object per line' '
	fota hexinfo --json "$HEX/two-seg.hex" "$HEX/overlap-same.hex" >out.json 2>/dev/null &&
	test $(wc -l <out.json) = 2 &&
	$PY -c "
import json
for l in open(\"out.json\"): json.loads(l)
"
'

test_expect_success 'SHA-256 and CRC-32 match an independent computation' '
	$PY -c "
import hashlib, zlib
d = b\"fota\" * 4096 + b\"\\xa5\" * 128
print(hashlib.sha256(d).hexdigest(), \"%08x\" % zlib.crc32(d))
" >expect &&
	fota hexinfo --json "$HEX/two-seg.hex" | $PY -c "
import json, sys; j = json.load(sys.stdin); print(j[\"sha256\"], \"%08x\" % j[\"crc32\"])" >actual &&
	test_cmp expect actual
'

test_expect_success '--bin: flat image, gaps filled' '
	fota hexinfo --bin=out.bin --fill=0x00 "$HEX/segment-crlf.hex" >/dev/null &&
	$PY -c "
d = bytes(range(16)) + bytes(0x10010 - 16) + bytes(range(16))
open(\"expect.bin\", \"wb\").write(d)" &&
	cmp expect.bin out.bin &&
	ls out.bin* >files && test $(wc -l <files) = 1
'

test_expect_success '--bin --range: crops and pads, warns about what it left out' '
	fota hexinfo --bin=r.bin --range=0x08003ffe-0x08004001 "$HEX/two-seg.hex" >/dev/null 2>err &&
	printf "ta\377\377" >expect.bin &&
	cmp expect.bin r.bin &&
	test_grep "warning: r.bin: 16510 image bytes lie outside 0x08003ffe-0x08004001" err
'

test_expect_success '--bin: a bad input leaves an existing OUT alone' '
	echo old >keep.bin &&
	test_expect_code 3 fota hexinfo --bin=keep.bin "$HEX/bad-csum.hex" 2>/dev/null &&
	echo old >expect && test_cmp expect keep.bin
'

test_expect_success '--bin: unwritable OUT is exit 1, no temporary left' '
	test_expect_code 1 fota hexinfo --bin=nodir/x.bin "$HEX/two-seg.hex" >/dev/null 2>err &&
	test_grep "nodir/x.bin: No such file or directory" err
'

test_expect_success 'a write error on stdout is an error' '
	if [ -w /dev/full ]; then
		test_expect_code 1 fota hexinfo "$HEX/two-seg.hex" >/dev/full 2>err &&
		test_grep "write error" err
	fi
'

# ---- cross-checks against srecord and python3-intelhex ------------------------
# gen.py N: print an srec_cat command line for a random layout: 2..6 ranges,
# some adjacent (must merge), some across 64 KiB boundaries, record sizes and
# addressing mode (04 linear, or 02 segment below 1 MiB) random too.
cat >gen.py <<'EOF'
import random, sys
rnd = random.Random(int(sys.argv[1]))
segment_mode = rnd.random() < 0.3
limit = 0x100000 if segment_mode else 1 << 32
span = min(limit, 16 << 20)
base = 0 if segment_mode else rnd.randrange(0, limit - span, 0x100)
n = rnd.randint(2, 6)
cuts = sorted(rnd.sample(range(base, base + span, 4), 2 * n))
args = []
for i in range(n):
    a, b = cuts[2 * i], cuts[2 * i + 1]
    if i and rnd.random() < 0.3:
        a = prev  # adjacent to the previous range: one segment
    b = min(b, a + rnd.choice([1, 7, 300, 5000, 70000]))
    args += ["-generate", "0x%x" % a, "0x%x" % b, "-random"]
    prev = b
args += ["-o", "f.hex", "-intel", "-output_block_size=%d" % rnd.choice([7, 16, 32, 33, 255])]
if segment_mode:
    args += ["--address-length=3"]
print(" ".join(args))
EOF

# compare.py FILE JSON: segments, CRCs and SHA-256 of our JSON vs intelhex and zlib
cat >compare.py <<'EOF'
import hashlib, json, sys, zlib
from intelhex import IntelHex
ih = IntelHex(sys.argv[1])
j = json.load(open(sys.argv[2]))
theirs = [(a, b - a) for a, b in ih.segments()]
ours = [(s["start"], s["length"]) for s in j["segments"]]
assert ours == theirs, (ours, theirs)
img = b""
for (a, n), s in zip(theirs, j["segments"]):
    d = ih.tobinstr(start=a, size=n)
    assert zlib.crc32(d) == s["crc32"], hex(a)
    img += d
assert zlib.crc32(img) == j["crc32"]
assert hashlib.sha256(img).hexdigest() == j["sha256"]
assert len(img) == j["total_bytes"]
EOF

# srec_info's "Data:" ranges as "start end" lines (hex, inclusive)
srec_ranges()
{
	srec_info "$1" -intel | sed -n 's/^\(Data: \)\{0,1\} *\([0-9A-F]*\) - \([0-9A-F]*\)$/\2 \3/p' |
	while read a b; do printf "%08x %08x\n" 0x$a 0x$b; done
}

our_ranges()
{
	$PY -c "
import json, sys
for s in json.load(open(sys.argv[1]))[\"segments\"]: print(\"%08x %08x\" % (s[\"start\"], s[\"end\"]))" "$1"
}

test_expect_success SRECORD,INTELHEX 'random srec_cat layouts: same segments, bytes, CRC as srec_info, intelhex, zlib' '
	i=0 &&
	while [ $i -lt 6 ]; do
		args=$($PY gen.py $((SEED + i))) &&
		echo "# case $i: srec_cat $args" >&2 &&
		srec_cat $args &&
		fota hexinfo --json f.hex >f.json &&
		srec_ranges f.hex >theirs &&
		our_ranges f.json >ours &&
		test_cmp theirs ours &&
		$PY compare.py f.hex f.json &&
		srec_cat f.hex -intel -crc32-l-e 0xfffffff0 -crop 0xfffffff0 0xfffffff4 \
			-offset -0xfffffff0 -o crc.bin -binary 2>/dev/null &&
		od -An -tu4 crc.bin | tr -d " " >crc.srec &&
		$PY -c "import json; print(json.load(open(\"f.json\"))[\"crc32\"])" >crc.ours &&
		test_cmp crc.srec crc.ours || return 1
		i=$((i + 1))
	done
'

test_expect_success SRECORD,INTELHEX '--bin equals intelhex tobinfile and srec_cat -fill' '
	i=0 &&
	while [ $i -lt 3 ]; do
		args=$($PY gen.py $((SEED + 100 + i))) &&
		srec_cat $args &&
		fota hexinfo --bin=ours.bin --fill=0x5a f.hex >/dev/null &&
		$PY -c "
from intelhex import IntelHex
ih = IntelHex(\"f.hex\"); ih.padding = 0x5a; ih.tobinfile(\"theirs.bin\")" &&
		cmp ours.bin theirs.bin &&
		min=$(srec_ranges f.hex | head -1 | cut -d" " -f1) &&
		srec_cat "(" f.hex -intel -fill 0x5a -over f.hex -intel ")" -offset -0x$min \
			-o srec.bin -binary &&
		cmp ours.bin srec.bin || return 1
		i=$((i + 1))
	done
'

test_expect_success SRECORD 'a start linear address round-trips with srec_cat' '
	srec_cat -generate 0x08000000 0x08000100 -random -execution-start-address 0x08000131 \
		-o f.hex -intel &&
	fota hexinfo f.hex >out &&
	test_grep "start    0x08000131 \(linear\)" out
'

test_done
