#!/bin/sh
# SPDX-License-Identifier: MIT
test_description='compressed downloads: fota flash --compression / compression: against fota ecu on $BUS'
. "$(dirname "$0")/lib.sh"

IDS="--request-id 0x7E0 --response-id 0x7E8"
KEY="--key xor:A5A5A5A5"
unset FOTA_TEST_COMPRESSION # this file names the method of every run itself

# start_ecu NAME ARGS...: fota ecu in the background until it listens.
start_ecu()
{
	n=$1
	shift
	rm -f "$n.ready"
	bg_start "$n" fota ecu -b "$BUS" --ready-file "$n.ready" ${FOTA_VM:+--p2 1000} "$@" &&
	wait_until "test -f $n.ready"
}

# Frames the tester sent (request id 0x7E0) in a candump -l trace.
tx_frames()
{
	grep -c " 7E0#" "$1"
}

# Firmware-like, not random: code patterns, a constant table, erased gaps.
test_expect_success 'setup: a 96 KiB firmware-like image and its flat binary' '
	"$PYTHON" - <<-\PY &&
	import random
	random.seed(3)
	code = bytes.fromhex("80b500af784600f0 04f8bd4680bd7047 024b1a6801321a60 7047c046")
	data = bytearray()
	while len(data) < 96 * 1024:
	    r = random.random()
	    if r < 0.6:
	        data += code[random.randrange(8):]
	    elif r < 0.8:
	        data += random.randrange(1 << 32).to_bytes(4, "little") * 2
	    elif r < 0.95:
	        data += bytes(random.randrange(256) for _ in range(8))
	    else:
	        data += b"\xff" * 64
	data = bytes(data[:96 * 1024])
	def rec(addr, d, t=0):
	    b = [len(d), (addr >> 8) & 255, addr & 255, t] + list(d)
	    return ":" + "".join("%02X" % x for x in b) + "%02X" % ((-sum(b)) & 255)
	out, hi = [], None
	for o in range(0, len(data), 32):
	    a = 0x08000000 + o
	    if a >> 16 != hi:
	        hi = a >> 16
	        out.append(rec(0, [hi >> 8, hi & 255], 4))
	    out.append(rec(a & 0xFFFF, data[o:o + 32]))
	out.append(":00000001FF")
	open("fw.hex", "w").write("\n".join(out) + "\n")
	PY
	fota hexinfo --bin want.bin --fill 0xFF --range 0x08000000-0x080fffff fw.hex >/dev/null
'

test_expect_success 'plain: the reference frame count' '
	start_ecu ecu --memory plain.bin &&
	fota flash -b "$BUS" $IDS $KEY --trace plain.log fw.hex &&
	bg_stop ecu &&
	cmp want.bin plain.bin
'

for m in lz4 deflate; do
	test_expect_success "$m: memory equals the image, in under 0.6x the frames" '
		rm -f ecu.bin &&
		start_ecu ecu --memory ecu.bin --compression '$m' &&
		fota flash -b "$BUS" $IDS $KEY -q --compression '$m' --trace '$m'.log fw.hex 2>err &&
		bg_stop ecu &&
		test_must_be_empty err &&
		cmp want.bin ecu.bin &&
		plain=$(tx_frames plain.log) && z=$(tx_frames '$m'.log) &&
		echo "frames: plain $plain, '$m' $z" &&
		test $((z * 10)) -lt $((plain * 6))
	'
done

test_expect_success 'lz4: RequestDownload 34 10 with the uncompressed memorySize (0x18000)' '
	grep " 7E0#100B341044080000" lz4.log &&
	grep " 7E0#210000018000" lz4.log &&
	grep " 7E0#100B342044080000" deflate.log
'

test_expect_success 'the configuration: compression with its own dfi, on both sides' '
	cat >fota.yaml <<-EOF &&
	ecus:
	  - name: gearbox
	    request_id: 0x7E0
	    response_id: 0x7E8
	    security: { key: "xor:A5A5A5A5" }
	    regions: [ { start: 0x08000000, size: 0x100000 } ]
	    compression: { method: deflate, dfi: 0x80, level: 9 }
	EOF
	fota flash -c fota.yaml -e gearbox --dry-run --block-length 4095 fw.hex >plan &&
	test_grep "34 80 44 0x08000000 98304 bytes, deflate to [0-9]+: [0-9]+ TransferData blocks" plan &&
	rm -f ecu.bin &&
	start_ecu ecu -c fota.yaml -e gearbox --memory ecu.bin &&
	fota flash -b "$BUS" -c fota.yaml -e gearbox --trace conf.log fw.hex &&
	bg_stop ecu &&
	cmp want.bin ecu.bin &&
	grep -q " 7E0#100B348044080000" conf.log
'

test_expect_success 'an ECU without the method: NRC 0x31, status 1, the likely cause named' '
	rm -f ecu.bin &&
	start_ecu ecu --memory ecu.bin &&
	test_expect_code 1 fota flash -b "$BUS" $IDS $KEY --compression lz4 fw.hex 2>err &&
	bg_stop ecu &&
	test_grep "RequestDownload refused: requestOutOfRange \\(NRC 0x31\\); the ECU may not know dataFormatIdentifier 0x10 \\(lz4\\)" err
'

test_expect_success 'bad compression settings: status 2 or 3, file:line:col' '
	test_expect_code 2 fota flash $IDS --compression zstd --dry-run fw.hex 2>err &&
	test_grep "compression takes lz4, deflate or none" err &&
	sed "s/method: deflate, dfi: 0x80, level: 9/method: lz4, dfi: 0x11/" fota.yaml >bad.yaml &&
	test_expect_code 3 fota flash -c bad.yaml -e gearbox --dry-run fw.hex 2>err &&
	test_grep "bad.yaml:7:38: dfi 0x11: expected 0xN0" err
'

test_done
