#!/bin/sh
# SPDX-License-Identifier: MIT
# examples/demo.sh: one whole ECU FOTA update cycle on a virtual CAN bus
# (unix:DIR), with the shipped examples/fota.yaml plus a trust: section: a
# signing key (fota keygen), a simulated ECU (fota ecu), the TCU (fota serve)
# that flashes only signed requests, a forged request refused, a signed one
# offered, operator approval, flashing, the OEM health check, and the ECU
# memory compared with the image.
# Runs anywhere after `make` (no CAN hardware, no root): `make demo`, or
#   FOTA=build/fota sh examples/demo.sh
# Everything lives in a temporary directory removed at the end
# (DEMO_KEEP=1 keeps it).
set -eu

here=$(cd "$(dirname "$0")" && pwd)
FOTA=${FOTA:-fota}
case "$FOTA" in */*) FOTA=$(cd "$(dirname "$FOTA")" && pwd)/$(basename "$FOTA") ;; esac
dir=$(mktemp -d "${TMPDIR:-/tmp}/fota-demo.XXXXXX")
CONFIG=$dir/fota.yaml
BUS=unix:$dir/bus
STATE=$dir/state
. "$here/demo-lib.sh"

cd "$dir"
step "firmware: a 16 KiB Intel HEX image for ECU hydraulics at 0x08000000"
demo_hex 42 >hydraulics-2.1.hex
"$FOTA" hexinfo hydraulics-2.1.hex

step "platform signing key: fota keygen release (release.key stays with the platform)"
"$FOTA" keygen release
step "TCU configuration: examples/fota.yaml and a trust: section naming release.pub"
{ cat "$here/fota.yaml"; printf 'trust:\n  keys:\n    - { name: release, file: release.pub }\n'; } >fota.yaml
tail -3 fota.yaml

step "simulated ECU: fota ecu -c fota.yaml -e hydraulics -b $BUS --memory ecu-flash.bin"
"$FOTA" ecu -c "$CONFIG" -e hydraulics -b "$BUS" --memory ecu-flash.bin \
	--ready-file ecu.ready 2>ecu.log &
ecu_pid=$!
demo_bg $ecu_pid
until_ok 10 test -f ecu.ready

step "TCU: fota serve -c fota.yaml -b $BUS --state-dir $STATE"
"$FOTA" serve -c "$CONFIG" -b "$BUS" --state-dir "$STATE" 2>serve.log &
demo_bg $!
until_ok 10 grep -q "node 0x27 on" serve.log
"$FOTA" status -b "$BUS"

step "a forged request (unsigned, from whoever can write the inbox) is refused"
forged=0c1d2e3f-4a5b-4c6d-9e8f-0a1b2c3d4e5f
sha=$(sha256sum hydraulics-2.1.hex | cut -d' ' -f1)
printf 'id: %s\necu: hydraulics\nfirmware: %s\nsha256: %s\n' \
	"$forged" "$dir/hydraulics-2.1.hex" "$sha" >forged.yaml
mv forged.yaml "$STATE/inbox/$forged.yaml"
until_ok 10 grep -q '"reason_code"' "$STATE/outbox/$forged.json"
grep -E '"(status|reason|reason_code)"' "$STATE/outbox/$forged.json"

step "signed update request: fota request --sign release.key --inbox $STATE/inbox"
id=$("$FOTA" request -c fota.yaml -e hydraulics --sw-version 2.1.0 --sign release.key -q \
	--inbox "$STATE/inbox" hydraulics-2.1.hex)
cat "$STATE/inbox/$id.yaml"
"$FOTA" status -b "$BUS" --wait=available --id "$id" --state-dir "$STATE" --timeout 10

step "operator approves: fota approve (apply_update = 0x01)"
"$FOTA" approve -b "$BUS"

step "flashing: fota status --wait=waiting (update_status 0x10, OEM health verification)"
"$FOTA" status -b "$BUS" --wait=waiting --timeout 60

step "OEM application checks out: fota health ok (ecu_health_check = 0x01)"
"$FOTA" health ok -b "$BUS"

step "final status: fota status --wait (exit 0 for 0x40 update successful)"
"$FOTA" status -b "$BUS" --wait --timeout 10

step "ECU memory compared with the image"
"$FOTA" hexinfo --bin=expected.bin --range=0x08000000-0x080fffff hydraulics-2.1.hex >/dev/null
demo_stop "$ecu_pid"
cmp ecu-flash.bin expected.bin
echo "ecu-flash.bin equals the image (1 MiB region, gaps 0xFF)"

step "report written for the platform: $STATE/outbox/$id.json"
grep -E '"(status|update_status|attempts|version|signed)"' "$STATE/outbox/$id.json"

step "TCU log"
cat serve.log
echo
echo "demo: update cycle complete"
