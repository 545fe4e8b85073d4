#!/bin/sh
test_description='completion as a person gets it: TAB in interactive bash and zsh on a pty, fish'
# vcan: skip (completion opens no bus; shells on a pty are the same there, only slower)
. "$(dirname "$0")/lib.sh"

# The completion files as installed (make install into the scratch prefix of
# make check-e2e, FOTA_BINDIR=PREFIX/bin), else the same layout made here
# from the source tree, as `make install` would.
SHARE=$(cd "$FOTA_BINDIR/.." 2>/dev/null && pwd)/share
if ! [ -f "$SHARE/bash-completion/completions/fota" ]; then
	SHARE=$TRASH/share
	mkdir -p "$SHARE/bash-completion/completions" "$SHARE/zsh/site-functions" \
		"$SHARE/fish/vendor_completions.d" &&
		cp "$FOTA_SRC/completions/fota.bash" "$SHARE/bash-completion/completions/fota" &&
		cp "$FOTA_SRC/completions/_fota" "$SHARE/zsh/site-functions/_fota" &&
		cp "$FOTA_SRC/completions/fota.fish" "$SHARE/fish/vendor_completions.d/fota.fish" &&
		for c in $(fota __complete commands | cut -f1); do
			ln -sf fota "$SHARE/bash-completion/completions/fota-$c" || exit 1
		done || exit 1
fi
BASH_COMPLETION=/usr/share/bash-completion/bash_completion
PTYKEYS="$PYTHON $FOTA_SRC/tests/helper/ptykeys.py --timeout 20 --"
# The shells' own files stay out: a home of their own, no history.
HOME=$TRASH
XDG_CONFIG_HOME=$TRASH/.config
XDG_DATA_HOME=$TRASH/.local/share
export HOME XDG_CONFIG_HOME XDG_DATA_HOME

test_lazy_prereq PTY '$PYTHON -c "import pty, select" && test -c /dev/ptmx'
test_lazy_prereq BASH 'command -v bash'
test_lazy_prereq BASHCOMP 'test -r $BASH_COMPLETION'
test_lazy_prereq ZSH 'command -v zsh'
test_lazy_prereq FISH 'command -v fish'
# A CAN interface (type 280, ARPHRD_CAN) in /sys/class/net, as in the VM.
test_lazy_prereq CANIF 'grep -lx 280 /sys/class/net/*/type'

# Each shell prints its command line as "\037LINE\036" on C-x C-p and empties
# it (tests/helper/ptykeys.py). bash-completion finds the installed file by
# itself when completion of fota is first asked for: XDG_DATA_DIRS, as for
# any prefix other than /usr.
cat >setup.bash <<EOF
PS1='\$ '
HISTFILE=
bind 'set bell-style none'
bind 'set completion-query-items 0'
bind 'set page-completions off'
bind -x '"\\C-x\\C-p": printf "\\037%s\\036" "\$READLINE_LINE"; READLINE_LINE=; READLINE_POINT=0'
XDG_DATA_DIRS=$SHARE
BASH_COMPLETION_USER_DIR=$TRASH/none
. $BASH_COMPLETION
printf '\\037READY\\036'
EOF
# Without bash-completion: the file alone, sourced.
sed -e "/^XDG_DATA_DIRS/d" -e "/^BASH_COMPLETION_USER_DIR/d" \
	-e "s|^\\. .*|. $SHARE/bash-completion/completions/fota|" setup.bash >setup.plain
cat >setup.zsh <<EOF
PS1='\$ '
fpath=($SHARE/zsh/site-functions \$fpath)
autoload -Uz compinit && compinit -u -D
_t_dump() { print -rn -- \$'\\037'"\$BUFFER"\$'\\036'; BUFFER=; CURSOR=0 }
zle -N _t_dump
bindkey '^X^P' _t_dump
printf '\\037READY\\036'
EOF

# tab SHELL: stdin has lines "KEYS|EXPECTED LINE|" (\t for TAB in KEYS); type
# each KEYS into an interactive SHELL (bash, plain: bash without
# bash-completion, zsh) and compare the command line it then holds. What
# the terminal showed (listings) is left in screen.
tab()
{
	cat >cases &&
	sed "s/|.*//" cases >keys &&
	sed "s/^[^|]*|//" cases >expect &&
	case $1 in
	bash) set -- setup.bash bash --norc -i ;;
	plain) set -- setup.plain bash --norc -i ;;
	zsh) set -- setup.zsh zsh -f -i ;;
	esac &&
	{ echo ". ./$1" && cat keys; } >script &&
	shift &&
	TERM=dumb $PTYKEYS "$@" <script >out &&
	cut -f1 out | sed "s/\$/|/" >actual &&
	cut -f2- out >screen &&
	test_cmp expect actual
}

test_expect_success 'setup: directories, files, two configurations' '
	mkdir -p busdir/sub state traces firmware &&
	: >busfile.txt && : >firmware/app.hex && : >firmware/old.bin &&
	cat >conf.yaml <<-\EOF &&
	ecus:
	  - name: hydraulics
	    brand: ACME
	    model: HX-200
	    request_id: 0x7E0
	    response_id: 0x7E8
	    security: { level: 0x01, key: "xor:A5A5A5A5" }
	    regions: [ { start: 0x08000000, size: 0x100000 } ]
	  - name: brakes
	    request_id: 0x7E1
	    response_id: 0x7E9
	    security: { level: 0x01, key: "xor:A5A5A5A5" }
	    regions: [ { start: 0x08000000, size: 0x100000 } ]
	EOF
	fota flash -c conf.yaml -e brakes --dry-run firmware/app.hex 2>err;
	! grep "conf.yaml" err &&
	sed "s/brakes/steering/" conf.yaml >conf2.yaml
'

test_expect_success PTY,BASH,BASHCOMP 'bash: commands, options, fota-CMD links' '
	tab bash <<-\EOF
	fota fla\t|fota flash |
	fota flash --isot\t|fota flash --isotp=|
	fota flash --dry\t|fota flash --dry-run |
	fota-flash --dry\t|fota-flash --dry-run |
	fota help fla\t|fota help flash |
	fota flash -- --dr\t|fota flash -- --dr|
	EOF
'

test_expect_success PTY,BASH,BASHCOMP 'bash: --opt=<TAB> completes the value (= is a word break)' '
	tab bash <<-\EOF
	fota flash --trace=tr\t|fota flash --trace=traces/|
	fota flash --bus=u\t|fota flash --bus=unix:|
	fota flash -c conf.yaml --ecu=h\t|fota flash -c conf.yaml --ecu=hydraulics |
	fota serve --state-dir=st\t|fota serve --state-dir=state/|
	fota hexinfo --bin=firmware/o\t|fota hexinfo --bin=firmware/old.bin |
	fota flash --config=con\t\t|fota flash --config=conf|
	EOF
'

test_expect_success PTY,BASH,BASHCOMP 'bash: -b completes unix: without a space, then directories' '
	tab bash <<-\EOF &&
	fota flash -b u\t|fota flash -b unix:|
	fota flash -b unix:b\t|fota flash -b unix:busdir/|
	fota flash -b unix:busdir/\t|fota flash -b unix:busdir/sub/|
	fota flash --bus=unix:busd\t|fota flash --bus=unix:busdir/|
	fota status --bus unix:\t\t|fota status --bus unix:|
	EOF
	sed -n 5p screen >listing &&
	test_grep "busdir/" listing &&
	test_grep -v "busfile|conf" listing
'

test_expect_success PTY,BASH,BASHCOMP,CANIF 'bash: -b offers the CAN interfaces' '
	tab bash <<-\EOF &&
	fota status -b \t\t|fota status -b |
	EOF
	for f in $(grep -lx 280 /sys/class/net/*/type); do
		n=$(basename "$(dirname "$f")") &&
		test_grep "$n" screen || return 1
	done
'

test_expect_success PTY,BASH,BASHCOMP 'bash: directories in filename mode (a slash, no space)' '
	tab bash <<-EOF
	fota flash fi\t|fota flash firmware/|
	fota flash firmware/ap\t|fota flash firmware/app.hex |
	fota serve --state-dir st\t|fota serve --state-dir state/|
	fota flash ../$(basename "$TRASH")/fir\t|fota flash ../$(basename "$TRASH")/firmware/|
	EOF
'

test_expect_success PTY,BASH,BASHCOMP 'bash: state names of --wait=' '
	tab bash <<-\EOF &&
	fota status --wait=wa\t|fota status --wait=waiting |
	fota status --wait=verification-t\t|fota status --wait=verification-timeout |
	fota status --wait=\t\t|fota status --wait=|
	EOF
	for s in idle available waiting success cancelled; do
		test_grep " $s( |$)" screen || return 1
	done &&
	for s in $(fota __complete values status | sed -n "s/^--wait	//p"); do
		test_grep " $s( |$)" screen || return 1
	done
'

test_expect_success PTY,BASH,BASHCOMP 'bash: --isotp, --format and the other fixed value lists' '
	tab bash <<-\EOF
	fota flash --isotp=k\t|fota flash --isotp=kernel |
	fota flash --isotp u\t|fota flash --isotp user |
	fota flash --format=i\t|fota flash --format=ihex |
	fota hexinfo --format=s\t|fota hexinfo --format=srec |
	fota hexinfo --format b\t|fota hexinfo --format bin |
	fota flash --tester-present=ph\t|fota flash --tester-present=physical |
	fota ecu --s3-restart=se\t|fota ecu --s3-restart=session |
	EOF
'

test_expect_success PTY,BASH,BASHCOMP 'bash: ECU names from -c, then from $FOTA_CONFIG' '
	tab bash <<-\EOF &&
	fota flash -c conf.yaml -e \t\t|fota flash -c conf.yaml -e |
	fota flash -c conf.yaml -e hy\t|fota flash -c conf.yaml -e hydraulics |
	fota info --config conf.yaml --ecu b\t|fota info --config conf.yaml --ecu brakes |
	export FOTA_CONFIG=conf2.yaml\n||
	fota info -e s\t|fota info -e steering |
	fota info -c conf.yaml -e s\t|fota info -c conf.yaml -e s|
	EOF
	sed -n 1p screen >listing &&
	test_grep "brakes" listing && test_grep "hydraulics" listing
'

test_expect_success PTY,BASH,BASHCOMP 'bash: health verdicts' '
	tab bash <<-\EOF &&
	fota health \t\t|fota health |
	fota health o\t|fota health ok |
	fota-health f\t|fota-health fail |
	fota health --set\t|fota health --set-timeout=|
	fota health --tim\t|fota health --timeout |
	EOF
	sed -n 1p screen >listing &&
	test_grep "fail" listing && test_grep "ok" listing
'

test_expect_success PTY,BASH 'bash without bash-completion: the same file alone; no : in COMP_WORDBREAKS' '
	tab plain <<-\EOF
	fota fla\t|fota flash |
	fota flash --bus=u\t|fota flash --bus=unix:|
	fota flash -b unix:busd\t|fota flash -b unix:busdir/|
	fota status --wait=wa\t|fota status --wait=waiting |
	fota flash fi\t|fota flash firmware/|
	fota-health o\t|fota-health ok |
	COMP_WORDBREAKS=${COMP_WORDBREAKS//:}\n||
	fota flash -b unix:busd\t|fota flash -b unix:busdir/|
	fota flash --trace=fir\t|fota flash --trace=firmware/|
	fota flash fi\t|fota flash firmware/|
	EOF
'

test_expect_success PTY,ZSH 'zsh: commands, options, unix: (escaped for _describe), values, paths' '
	tab zsh <<-\EOF
	fota fla\t|fota flash |
	fota flash --isot\t|fota flash --isotp=|
	fota flash --dry\t|fota flash --dry-run |
	fota flash -b u\t|fota flash -b unix:|
	fota flash -b unix:busd\t|fota flash -b unix:busdir/|
	fota flash --bus=unix:busd\t|fota flash --bus=unix:busdir/|
	fota status --wait=wa\t|fota status --wait=waiting |
	fota flash --isotp=k\t|fota flash --isotp=kernel |
	fota flash -c conf.yaml -e hy\t|fota flash -c conf.yaml -e hydraulics |
	fota health o\t|fota health ok |
	fota-flash --dry\t|fota-flash --dry-run |
	fota flash fi\t|fota flash firmware/|
	fota flash --trace=fir\t|fota flash --trace=firmware/|
	fota serve --state-dir st\t|fota serve --state-dir state/|
	EOF
'

# fish answers `complete -C LINE` without a terminal.
fish_complete()
{
	fish -N -c "source $SHARE/fish/vendor_completions.d/fota.fish; complete -C '$1'" |
		cut -f1
}

test_expect_success FISH 'fish: commands, options, unix:, values, paths after --opt=' '
	fish_complete "fota fla" >out && echo flash >expect && test_cmp expect out &&
	fish_complete "fota flash --isot" >out && echo "--isotp=" >expect && test_cmp expect out &&
	fish_complete "fota flash -b u" >out && echo "unix:" >expect && test_cmp expect out &&
	fish_complete "fota flash -b unix:busd" >out && echo "unix:busdir/" >expect &&
	test_cmp expect out &&
	fish_complete "fota status --wait=wa" >out && echo "--wait=waiting" >expect &&
	test_cmp expect out &&
	fish_complete "fota flash -c conf.yaml -e hy" >out && echo hydraulics >expect &&
	test_cmp expect out &&
	fish_complete "fota-flash --dry" >out && echo "--dry-run" >expect && test_cmp expect out &&
	fish_complete "fota flash --trace=fir" >out && echo "--trace=firmware/" >expect &&
	test_cmp expect out &&
	fish_complete "fota serve --state-dir=st" >out && echo "--state-dir=state/" >expect &&
	test_cmp expect out
'

test_done
