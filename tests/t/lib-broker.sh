# tests/t/lib-broker.sh: a real MQTT broker for the platform-link tests,
# sourced after lib.sh. mosquitto on a free loopback port, TLS with client
# certificates made here by openssl, the certificate's CN as user name and
# examples/mosquitto/acl (each TCU only its own topics).
#
#   broker_pki NAME...      CA, server certificate (127.0.0.1, localhost) and
#                           one client certificate per NAME (CN=NAME) in
#                           $TRASH/pki: NAME.crt, NAME.key, ca.crt
#   broker_start            start mosquitto (daemon "broker") on a free port, the
#                           same one again after broker_kill; its data kept in
#                           $TRASH/broker across restarts
#   broker_port, broker_url its port; mqtts://127.0.0.1:PORT (test bodies run in
#                           subshells: the port lives in $TRASH/broker/port)
#   broker_kill [SIGNAL]    stop it (default SIGKILL) and wait until it is gone
#   broker_pub NAME ARGS... mosquitto_pub as NAME (its certificate)
#   broker_sub NAME ARGS... mosquitto_sub as NAME
#   broker_mqtt_yaml NAME   the platform: mqtt: lines of fota.yaml for TCU NAME

test_lazy_prereq BROKER 'command -v mosquitto && command -v mosquitto_pub && command -v openssl'

BROKER_DIR=$TRASH/broker
PKI=$TRASH/pki

# a free TCP port on 127.0.0.1 (the kernel's pick; free again at once)
broker_free_port()
{
	$PYTHON -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

broker_pki()
{
	mkdir -p "$PKI" && (
		cd "$PKI" &&
		openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
			-keyout ca.key -out ca.crt -days 2 -subj "/CN=fota test CA" \
			-addext basicConstraints=critical,CA:TRUE \
			-addext keyUsage=critical,keyCertSign,cRLSign 2>/dev/null &&
		b_cert server "/CN=localhost" \
			"subjectAltName=IP:127.0.0.1,IP:::1,DNS:localhost" &&
		for b_n in "$@"; do
			b_cert "$b_n" "/CN=$b_n" "extendedKeyUsage=clientAuth" || return 1
		done
	)
}

# b_cert NAME SUBJECT EXTENSION: NAME.key + NAME.crt signed by the CA (in $PKI)
b_cert()
{
	openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout "$1.key" \
		-out "$1.csr" -subj "$2" 2>/dev/null &&
	printf '%s\n' "$3" >"$1.ext" &&
	openssl x509 -req -in "$1.csr" -CA ca.crt -CAkey ca.key -CAcreateserial -days 2 \
		-extfile "$1.ext" -out "$1.crt" 2>/dev/null &&
	rm -f "$1.csr" "$1.ext"
}

broker_start()
{
	mkdir -p "$BROKER_DIR" &&
	{ [ -s "$BROKER_DIR/port" ] || broker_free_port >"$BROKER_DIR/port"; } &&
	b_port=$(broker_port) &&
	sed "s/^# *Change.*//" "$FOTA_SRC/examples/mosquitto/acl" >"$BROKER_DIR/acl" &&
	cat >"$BROKER_DIR/mosquitto.conf" <<-B_EOF &&
	per_listener_settings false
	user $(id -un)
	persistence true
	persistence_location $BROKER_DIR/
	autosave_on_changes true
	autosave_interval 1
	log_dest file $BROKER_DIR/mosquitto.log
	log_type all
	listener $b_port 127.0.0.1
	cafile $PKI/ca.crt
	certfile $PKI/server.crt
	keyfile $PKI/server.key
	require_certificate true
	use_identity_as_username true
	acl_file $BROKER_DIR/acl
	B_EOF
	daemon broker mosquitto -c "$BROKER_DIR/mosquitto.conf" &&
	wait_until "grep -q 'mosquitto version .* running' '$BROKER_DIR/mosquitto.log'" 10 || {
		cat "$TRASH/broker.err" "$BROKER_DIR/mosquitto.log" >&2
		return 1
	}
}

broker_port()
{
	cat "$BROKER_DIR/port"
}

broker_url()
{
	echo "mqtts://127.0.0.1:$(broker_port)"
}

broker_kill()
{
	b_p=$(cat "$TRASH/broker.pid") || return 1
	kill -"${1:-KILL}" "$b_p" 2>/dev/null
	wait_until "! kill -0 $b_p" 10 &&
	ended broker &&
	# the log line broker_start waits for, from the next start only
	mv "$BROKER_DIR/mosquitto.log" "$BROKER_DIR/mosquitto.log.$(date +%s%N)"
}

broker_pub()
{
	b_n=$1
	shift
	mosquitto_pub -h 127.0.0.1 -p "$(broker_port)" --cafile "$PKI/ca.crt" \
		--cert "$PKI/$b_n.crt" --key "$PKI/$b_n.key" -i "pub-$b_n-$$" "$@"
}

broker_sub()
{
	(broker_sub_exec "$@")
}

# broker_sub_exec NAME ARGS...: broker_sub for `daemon`: mosquitto_sub
# replaces the background shell, so NAME.pid is its pid and test_done stops
# it (a shell's pid left mosquitto_sub running after the test, holding the
# test runner's pipes open: make check never ended)
broker_sub_exec()
{
	b_n=$1
	shift
	exec mosquitto_sub -h 127.0.0.1 -p "$(broker_port)" --cafile "$PKI/ca.crt" \
		--cert "$PKI/$b_n.crt" --key "$PKI/$b_n.key" -i "sub-$b_n-$$" "$@"
}

broker_mqtt_yaml()
{
	cat <<-B_EOF
	platform:
	  mqtt:
	    url: $(broker_url)
	    client_id: $1
	    ca: $PKI/ca.crt
	    cert: $PKI/$1.crt
	    key: $PKI/$1.key
	    keepalive: 5
	B_EOF
}
