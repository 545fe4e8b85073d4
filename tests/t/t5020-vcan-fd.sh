#!/bin/sh
# SPDX-License-Identifier: MIT
test_description='fota flash over CAN FD (vcanfd0, mtu 72, tx_dl 64): the ISO-TP minimum of frames, user and kernel ISO-TP (VCAN)'
# A flash over CAN FD with 64-byte frames must use the fewest frames ISO-TP
# allows for the data (ISO 15765-2:2016 9.6): every TransferData PDU in one
# first frame of 62 bytes (12-bit FF_DL) or 58 (escape FF_DL, 9.6.3.1) and
# consecutive frames of 63, only the last one short; a PDU up to 62 bytes
# in one single frame (escape SF_DL, 9.6.2.1). candump sees the wire, so
# the count holds for the kernel's CAN_ISOTP too (CAN_ISOTP_LL_OPTS mtu 72,
# tx_dl 64, padding to the DLC).
. "$(dirname "$0")/lib.sh"

BUSFD=${FOTA_TEST_BUS_FD:-vcanfd0}
case $BUS in
unix:* | mem:*) ;;
*)
	if [ "$(cat "/sys/class/net/$BUSFD/mtu" 2>/dev/null)" = 72 ] &&
		command -v candump >/dev/null; then
		test_set_prereq VCANFD
	fi
	;;
esac
# the ECU's answer time: 50 ms, 1 s under TCG (see t5000)
P2=50
[ -z "${FOTA_VM:-}" ] || P2=1000

# fd_frames LOG: "FRAMES MINIMUM BYTES PDUS" of the TransferData requests in
# a candump -L log of 7E0: the frames they took, the ISO-TP minimum for
# their lengths at tx_dl 64, their bytes (SID and counter included) and
# their number. A frame that is not 64 bytes long before the last of its PDU
# counts as an extra frame, so that short frames cannot go unnoticed.
fd_frames()
{
	awk '
	function hex(s, v, i) {
		for (i = 1; i <= length(s); i++) v = v * 16 + index("0123456789ABCDEF", substr(s, i, 1)) - 1
		return v
	}
	function ceil(x) { return x == int(x) ? x : int(x) + 1 }
	{
		d = $3; sub(/^[0-9A-F]+##[0-9A-F]/, "", d); sub(/^[0-9A-F]+#/, "", d)
		pci = substr(d, 1, 1)
		if (pci == "0") {
			in36 = 0
			if (substr(d, 2, 1) == "0") { len = hex(substr(d, 3, 2)); sid = substr(d, 5, 2) }
			else { len = hex(substr(d, 2, 1)); sid = substr(d, 3, 2) }
			if (sid == "36") { frames++; min++; bytes += len; pdus++ }
		} else if (pci == "1") {
			len = hex(substr(d, 2, 3)); ffd = 62; sid = substr(d, 5, 2)
			if (len == 0) { len = hex(substr(d, 5, 8)); ffd = 58; sid = substr(d, 13, 2) }
			in36 = sid == "36"
			if (in36) {
				frames++; pdus++; bytes += len; left = len - ffd
				min += 1 + ceil(left / 63)
				if (length(d) != 128) frames++
			}
		} else if (pci == "2" && in36) {
			frames++; left -= 63
			if (left > 0 && length(d) != 128) frames++
		}
	}
	END { printf "%d %d %d %d\n", frames, min, bytes, pdus }' "$1"
}

# raw_sockets: the CAN_RAW receivers on the FD interface
raw_sockets()
{
	cat /proc/net/can/rcvlist_* 2>/dev/null | grep -c " $BUSFD .*raw\$"
}

# flash_fd MODE: flash fw.hex over CAN FD into a fresh fota ecu; candump -L
# of 7E0 (the tester's frames) in dump.out, with a receive buffer large
# enough for the kernel's unpaced bursts under TCG
flash_fd()
{
	rm -f mem.bin ecu.ready &&
	bg_start ecu fota ecu -c fota.yaml -e fd --memory mem.bin --ready-file ecu.ready \
		--p2 $P2 &&
	wait_until 'test -f ecu.ready' 20 &&
	n0=$(raw_sockets) &&
	bg_start dump candump -d -r 8388608 -L "$BUSFD,7E0:7FF" &&
	wait_until "test \$(raw_sockets) -gt $n0" 20 &&
	fota flash -q -c fota.yaml -e fd $1 fw.hex 2>err
	rc=$?
	sleep 0.2
	bg_stop dump
	bg_stop ecu
	test $rc -eq 0 && test_must_be_empty err &&
	! grep DROPCOUNT dump.out # candump kept up: the count is complete
}

test_expect_success VCANFD 'setup: 64 KiB image; an FD ECU (isotp: fd, tx_dl 64)' '
	gen_hex 65536 29 >fw.hex &&
	fota hexinfo --bin=want.bin --fill 0xFF --range=0x08000000-0x080fffff fw.hex >/dev/null &&
	cat >fota.yaml <<-EOF
	bus: $BUSFD
	fd: true
	ecus:
	  - name: fd
	    request_id: 0x7E0
	    response_id: 0x7E8
	    security: { key: "xor:A5A5A5A5" }
	    regions: [ { start: 0x08000000, size: 0x100000 } ]
	    isotp: { fd: true, tx_dl: 64 }
	EOF
'

test_expect_success VCANFD 'user-space ISO-TP over CAN FD: memory equals the HEX, frames = the FD ISO-TP minimum' '
	flash_fd "" &&
	cmp want.bin mem.bin &&
	set -- $(fd_frames dump.out) &&
	echo "frames $1, minimum $2, bytes $3, PDUs $4" &&
	test "$4" -gt 1 &&
	test "$3" -eq $((65536 + 2 * $4)) &&
	test "$1" -eq "$2"
'

test_expect_success VCANFD 'kernel ISO-TP over CAN FD (ll_opts mtu 72, tx_dl 64): memory equals the HEX, frames = the minimum' '
	flash_fd "--isotp kernel" &&
	cmp want.bin mem.bin &&
	set -- $(fd_frames dump.out) &&
	echo "frames $1, minimum $2, bytes $3, PDUs $4" &&
	test "$4" -gt 1 &&
	test "$3" -eq $((65536 + 2 * $4)) &&
	test "$1" -eq "$2"
'

test_done
