#!/bin/sh
# SPDX-License-Identifier: MIT
test_description='fota serve: 50 update cycles, each cut by SIGKILL at a random instant'
. "$(dirname "$0")/lib.sh"

# tests/soak.py (make soak) with its own unix: bus in the scratch directory:
# it tests serve's state and files, which do not depend on the bus, and 50
# cycles under the emulation of tests/vm (FOTA_VM) would take many minutes.
test_lazy_prereq NOT_VM 'test -z "${FOTA_VM:-}"'

test_expect_success NOT_VM 'power cuts at 50 instants (seed 3040): no violation' '
	"$PYTHON" "$FOTA_SRC/tests/soak.py" --fota "$FOTA_BINDIR/fota" --seed 3040 -n 50 \
		--workdir "$TRASH/soak" >soak.out &&
	cat soak.out &&
	test_grep "^soak: seed 3040: 50 iterations, 50 restarts" soak.out &&
	test_grep "^  total +0$" soak.out
'

# Not a campaign that missed its target: some cuts hit a flash, and those
# updates ended as documented (0x50, "TCU restarted during flashing").
test_expect_success NOT_VM 'the cuts hit flashes and verifications' '
	test_grep "^  flashing +[1-9]" soak.out &&
	test_grep "^  verifying +[1-9]" soak.out &&
	test_grep "0x50 \(restart\) [1-9]" soak.out
'

test_done
