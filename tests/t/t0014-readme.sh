#!/bin/sh
test_description='the README says how to run the build and read the man pages before installing'
. "$(dirname "$0")/lib.sh"

test_lazy_prereq MAN 'command -v man'

# The code block after "To use what `make` built", one command a line.
readme_block()
{
	awk '/^To use what `make` built/ { on = 1; next }
		on && /^    / { sub(/^    /, ""); print; seen = 1; next }
		on && seen { exit }' "$FOTA_SRC/README.md"
}

test_expect_success 'README: run the build from PATH, then its man page' '
	readme_block >block &&
	test_grep "^export PATH=.*build/bin" block &&
	test_grep "^man -l man/fota\.1" block
'

# In a tree laid out like the source tree after make: build/ and man/.
test_expect_success MAN 'README: those commands run the fresh build and show fota(1)' '
	readme_block >block &&
	mkdir src && ln -s "$FOTA_BUILD" src/build && ln -s "$FOTA_SRC/man" src/man &&
	(
		cd src &&
		grep "^export PATH=" ../block >setpath && . ./setpath &&
		test "$(command -v fota)" = "$PWD/build/bin/fota" &&
		test "$(command -v fota-flash)" = "$PWD/build/bin/fota-flash" &&
		fota-flash --help >../flash.help &&
		grep "^fota --help" ../block >../help.cmd && sh ../help.cmd >../help.out &&
		grep "^man -l" ../block >../man.cmd && MANPAGER=cat MANWIDTH=80 sh ../man.cmd >../man.out
	) &&
	test_grep "fota flash" flash.help &&
	test_grep "approve" help.out &&
	test_grep "^NAME" man.out &&
	test_grep "fota .* update ECU firmware" man.out
'

test_done
