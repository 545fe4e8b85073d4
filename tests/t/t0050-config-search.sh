#!/bin/sh
test_description='the configuration search path: -c, $FOTA_CONFIG, ./fota.yaml, $XDG_CONFIG_HOME, /etc; and the bus precedence'
. "$(dirname "$0")/lib.sh"

# cfg FILE ECU [BUS]: a configuration with one ECU named ECU (and bus: BUS).
cfg()
{
	mkdir -p "$(dirname "$1")" &&
	{
		test -z "$3" || echo "bus: $3"
		printf "ecus:\n  - name: %s\n    request_id: 0x7E0\n    response_id: 0x7E8\n" "$2"
		printf "    regions:\n      - { start: 0x08000000, size: 0x1000 }\n"
	} >"$1"
}

# cfg_used: the file fota flash -e read (its "no ECU named" error names it).
cfg_used()
{
	test_expect_code 2 fota flash -e probe -b nosuch0 fw.hex 2>err &&
	sed -n "s/^fota flash: \(.*\): no ECU named .probe.*/\1/p" err
}

test_expect_success 'setup' '
	gen_hex 16 1 >fw.hex &&
	cfg etc-like.yaml etc &&
	cfg "$XDG_CONFIG_HOME/fota/fota.yaml" xdg &&
	cfg fota.yaml cwd &&
	cfg env.yaml env &&
	cfg opt.yaml opt
'

test_expect_success '-c wins over $FOTA_CONFIG, which wins over the search path' '
	test "$(FOTA_CONFIG=env.yaml cfg_used)" = env.yaml &&
	test_expect_code 2 env FOTA_CONFIG=env.yaml fota flash -c opt.yaml -e probe -b nosuch0 \
		fw.hex 2>err &&
	test_grep "^fota flash: opt.yaml: no ECU named" err
'

test_expect_success './fota.yaml comes first in the search path' '
	test "$(cfg_used)" = ./fota.yaml
'

test_expect_success 'then $XDG_CONFIG_HOME/fota/fota.yaml' '
	mkdir sub && cd sub &&
	test "$(cfg_used)" = "$XDG_CONFIG_HOME/fota/fota.yaml"
'

test_expect_success 'then ~/.config/fota/fota.yaml when XDG_CONFIG_HOME is unset or relative' '
	cfg home/.config/fota/fota.yaml home &&
	mkdir -p sub && cd sub &&
	test "$(HOME=$TRASH/home XDG_CONFIG_HOME= cfg_used)" = "$TRASH/home/.config/fota/fota.yaml" &&
	test "$(HOME=$TRASH/home XDG_CONFIG_HOME=rel cfg_used)" = "$TRASH/home/.config/fota/fota.yaml"
'

test_expect_success 'fota serve without any configuration: one line naming the paths, exit 3' '
	mkdir -p empty && cd empty &&
	test_expect_code 3 env HOME=$TRASH/nohome XDG_CONFIG_HOME=$TRASH/noxdg \
		fota serve -b "$BUS" --state-dir "$TRASH/st" 2>err &&
	test $(wc -l <err) -eq 1 &&
	grep -F "no configuration: no -c FILE, no \$FOTA_CONFIG, and none of ./fota.yaml, $TRASH/noxdg/fota/fota.yaml, /etc/fota/fota.yaml exists" err &&
	! test -e "$TRASH/st"
'

test_expect_success 'the bus: -b, then $FOTA_BUS, then the configuration'"'"'s bus:' '
	cfg withbus.yaml x nosuchcfg0 &&
	test_expect_code 4 fota status -c withbus.yaml 2>err &&
	test_grep "nosuchcfg0" err &&
	test_expect_code 4 env FOTA_BUS=nosuchenv0 fota status -c withbus.yaml 2>err &&
	test_grep "nosuchenv0" err &&
	test_expect_code 4 env FOTA_BUS=nosuchenv0 fota status -c withbus.yaml -b nosuchopt0 2>err &&
	test_grep "nosuchopt0" err
'

test_expect_success 'fota(1), fota.yaml(5) and --help state the same order' '
	for p in fota.1 fota.yaml.5; do
		tr "\n" " " <"$FOTA_SRC/man/$p" >flat &&
		grep -q "Ev FOTA_CONFIG , else the first of .Pa ./fota.yaml , .Pa \$XDG_CONFIG_HOME/fota/fota.yaml" flat ||
		{ echo "$p: config order" >&2; return 1; }
		grep -q "The bus is the first of: .Fl b , .Ev FOTA_BUS , the configuration.s .Cm bus" flat || { echo "$p: bus order" >&2; return 1; }
	done &&
	fota status --help >help &&
	grep -F "default: \$FOTA_CONFIG, ./fota.yaml, \$XDG_CONFIG_HOME/fota/fota.yaml, /etc/fota/fota.yaml)" help &&
	grep "the bus is the first of: -b, .FOTA_BUS, the configuration.s bus" help
'

test_done
