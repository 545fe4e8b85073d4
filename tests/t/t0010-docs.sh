#!/bin/sh
test_description='man pages and completion agree with the option tables'
. "$(dirname "$0")/lib.sh"

cmds=$(fota __complete commands | cut -f1)
MAN=$FOTA_SRC/man

# The long options a page documents: the .It lines of its OPTIONS section.
page_options()
{
	sed -n '/^\.Sh OPTIONS/,/^\.Sh /p' "$1" | grep '^\.It ' |
		grep -o 'Fl \\-[a-z0-9-]*' | sed 's/^Fl \\/-/' | sort -u
}

test_expect_success 'every command has a man page named after its link' '
	for c in $cmds; do
		test -f "$MAN/fota-$c.1" || { echo "missing man/fota-$c.1" >&2; return 1; }
	done
'

test_expect_success 'NAME line of every page repeats the command summary' '
	fota __complete commands >summaries &&
	for c in $cmds; do
		want=$(grep "^$c	" summaries | cut -f2-)
		got=$(sed -n "s/^\.Nd //p" "$MAN/fota-$c.1")
		test "$want" = "$got" || { echo "$c: \"$got\" != \"$want\"" >&2; return 1; }
	done
'

test_expect_success 'every page documents exactly the options of its command' '
	for c in $cmds; do
		fota __complete options $c | sort -u >want.$c &&
		page_options "$MAN/fota-$c.1" >got.$c &&
		test_cmp want.$c got.$c || { echo "man/fota-$c.1 vs option table" >&2; return 1; }
	done
'

# The words an option's value may be (--isotp=user|kernel, the state names of
# --wait): each is on the command's page, marked up (Cm, Ar, Li, Ql or Sy),
# alone or in an a|b list.
test_expect_success 'every value word completion offers is on the man page' '
	for c in $cmds; do
		fota __complete values $c >values.$c &&
		while IFS="	" read -r o w; do
			grep -E "(Cm|Ar|Li|Ql|Sy) ([^ ]*\|)?$w(\|[^ ]*)?( |$)" "$MAN/fota-$c.1" \
				>/dev/null || { echo "man/fota-$c.1: no $o value $w" >&2; return 1; }
		done <values.$c || return 1
	done &&
	grep "^--wait	waiting$" values.status &&
	grep "^--isotp	kernel$" values.flash
'

test_expect_success 'every option has a help line in --help' '
	for c in $cmds; do
		fota $c --help >help.$c &&
		for o in $(fota __complete options $c); do
			grep -- "$o" help.$c >/dev/null || { echo "$c: $o not in --help" >&2; return 1; }
		done
	done
'

test_expect_success 'fota(1) lists every command and every page is in SEE ALSO' '
	for c in $cmds; do
		grep "^\.It Cm $c$" "$MAN/fota.1" >/dev/null || { echo "fota.1: no $c" >&2; return 1; }
		grep "^\.Xr fota-$c 1" "$MAN/fota.1" >/dev/null || return 1
	done
'

test_expect_success 'bash completion: command names, options, files' '
	command -v bash >/dev/null || return 0
	cat >comp.bash <<-EOF &&
	. "$FOTA_SRC/completions/fota.bash"
	COMP_WORDS=(fota he); COMP_CWORD=1; _fota; echo "\${COMPREPLY[*]}"
	c=\$(fota __complete commands | head -1 | cut -f1)
	COMP_WORDS=(fota \$c --he); COMP_CWORD=2; _fota; echo "\${COMPREPLY[*]}"
	COMP_WORDS=(fota-\$c --he); COMP_CWORD=1; _fota; echo "\${COMPREPLY[*]}"
	EOF
	bash comp.bash >out &&
	sed -n 1p out >line1 && sed -n 2p out >line2 && sed -n 3p out >line3 &&
	for c in $(echo "$cmds" | grep "^he"); do test_grep "$c" line1 || return 1; done &&
	test_grep "^--help$" line2 &&
	test_grep "^--help$" line3
'

test_expect_success 'completion offers CAN interfaces and unix: for --bus' '
	c=$(fota __complete commands | cut -f1 | while read c; do
		fota __complete options $c | grep -q "^--bus$" && echo $c; done | head -1)
	test -z "$c" && return 0
	fota __complete words 3 -- fota $c --bus "" >out &&
	test_grep "^unix:	" out &&
	fota __complete words 2 -- fota $c --bus=u >out &&
	test_grep "^--bus=unix:	" out &&
	fota __complete words 3 -- fota $c -b unix:/tmp >out &&
	printf ":dirs\tunix:\n" >expect &&
	test_cmp expect out
'

test_done
