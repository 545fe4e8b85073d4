#!/bin/sh
# install-deps.sh: the Debian packages fota needs to build and to run its
# tests (apt-get, as root). Idempotent and quiet when everything is there.
# systemd only for systemd-analyze (t3030 verifies the unit); it need not run.
# bash-completion, zsh and fish: t0040 types TAB into each shell on a pty.
# mosquitto, mosquitto-clients, openssl: a real broker with TLS for the platform
# link tests (t4xxx). jq: the man pages' examples (t0013) pipe JSON through it.
set -e
PKGS="build-essential pkg-config libyaml-dev libsocketcan-dev libjson-c-dev zlib1g-dev
liblz4-dev libssl-dev clang libclang-rt-14-dev clang-format mandoc srecord python3-intelhex python3-yaml jq
can-utils iproute2 binutils systemd bash-completion zsh fish
libmosquitto-dev libcurl4-openssl-dev mosquitto mosquitto-clients openssl"
missing=
for p in $PKGS; do
	dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed' ||
		missing="$missing $p"
done
[ -z "$missing" ] && exit 0
SUDO=
if [ "$(id -u)" -ne 0 ]; then
	if ! command -v sudo >/dev/null; then
		echo "install-deps: missing:$missing (run as root)" >&2
		exit 1
	fi
	SUDO=sudo
fi
echo "install-deps: apt-get install$missing"
$SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -qq
$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
	$missing >/dev/null
