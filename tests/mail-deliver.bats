#!/usr/bin/env bats
# mail-deliver: into smtp-accept and Postfix's smtp-sink, real peers both.
load helpers

# a record for a stored message: from a spool made by smtp-accept
setup_more() {
	TLS="--tls-cert $T/cert.pem --tls-key $T/key.pem"
}

# downstream: a second smtp-accept, spool $T/down, records $T/down.rec
start_down() {
	DPORT=$(free_port)
	smtp-accept --listen "127.0.0.1:$DPORT" --spool "$T/down" \
		--hostname down.example.test --domains example.test $as_user \
		--greet-wait 0 --dns none --rcpt-rate 0 "$@" \
		>"$T/down.rec" 2>"$T/down.log" &
	DOWN_PID=$!
	PIDS="$PIDS $DOWN_PID"
	wait_port "$DPORT"
}

# sink: smtp-sink on $SPORT with its options; dumps under $T/dump
start_sink() {
	SPORT=$(free_port)
	mkdir -p "$T/dump"
	chmod 777 "$T/dump"
	smtp-sink -u nobody -d "$T/dump/%M." "$@" "127.0.0.1:$SPORT" 64 \
		2>"$T/sink.log" &
	PIDS="$PIDS $!"
	wait_port "$SPORT"
}

# a message into the upstream spool; its record in $T/records
queue() {
	swaks --server "127.0.0.1:$PORT" --from a@example.org --to "$1" \
		"${@:2}" --silent 2
}

dfield() {
	python3 -c 'import json,sys
for i, line in enumerate(open(sys.argv[1])):
    if i == int(sys.argv[3]):
        v = json.loads(line)
        for k in sys.argv[2].split("."):
            v = v[int(k)] if isinstance(v, list) else v[k]
        print(json.dumps(v, separators=(",", ":"), ensure_ascii=False) if not isinstance(v, str) else v)' "$T/out" "$1" "${2:-0}"
}

@test "usage: --to or --mx, not both; bad values" {
	run -100 --separate-stderr mail-deliver
	[ "${stderr_lines[0]}" = "mail-deliver: give either --to or --mx" ]
	run -100 --separate-stderr mail-deliver --to 127.0.0.1
	[ "${stderr_lines[0]}" = "mail-deliver: --to: not HOST:PORT: 127.0.0.1" ]
	run -100 --separate-stderr mail-deliver --to 127.0.0.1:25 --tls maybe
	[ "${stderr_lines[0]}" = "mail-deliver: --tls: none, may, encrypt or verify, not maybe" ]
	printf 'x.example bogus\n' >"$T/pol"
	run -100 --separate-stderr mail-deliver --to 127.0.0.1:25 --tls-policy "$T/pol"
	[ "${stderr_lines[0]}" = "mail-deliver: $T/pol: line 1: unknown policy bogus (none, may, encrypt, verify)" ]
}

@test "into smtp-accept: delivered, relay block left out, envelope and DSN kept, queue id read" {
	start_accept
	start_down
	python3 - "$PORT" <<'PY'
import smtplib, sys
s = smtplib.SMTP("127.0.0.1", int(sys.argv[1]))
s.sendmail("a@example.org", ["b@example.test", "c@example.test"],
    b"Subject: hi\r\n\r\n.leading dot\r\nbody\r\n",
    mail_options=["RET=HDRS", "ENVID=e1"], rcpt_options=["NOTIFY=FAILURE"])
s.quit()
PY
	run bash -c "mail-deliver --to 127.0.0.1:$DPORT --tls none <'$T/records' >'$T/out'"
	[ "$status" -eq 0 ]
	[ "$(dfield delivery.status)" = "delivered" ]
	[ "$(dfield delivery.rcpt.1.addr)" = "c@example.test" ]
	[ "$(dfield delivery.rcpt.0.code)" = "250" ]
	[ "$(dfield delivery.rcpt.0.enhanced)" = "2.0.0" ]
	did=$(ls "$T/down/new")
	[ "$(dfield delivery.rcpt.0.queue_id)" = "$did" ]
	[ "$(dfield delivery.host)" = "127.0.0.1[127.0.0.1]:$DPORT" ]
	[ "$(dfield delivery.tls)" = "null" ]
	# the downstream got the envelope with its DSN parameters
	python3 -c 'import json,sys; r=json.loads(open(sys.argv[1]).readline()); e=r["envelope"]; assert e["to"]==["b@example.test","c@example.test"] and e["params"]["mail"]["RET"]=="HDRS" and e["params"]["rcpt"][0]["NOTIFY"]=="FAILURE", e' "$T/down.rec"
	# one relay block only: the downstream's own; ours is gone
	[ "$(grep -c '^X-Sluice-Id:' "$T/down/new/$did")" -eq 1 ]
	uid=$(python3 -c 'import json,sys; print(json.loads(open(sys.argv[1]).readline())["id"])' "$T/records")
	grep -q "with ESMTP id $uid" "$T/down/new/$did"
	grep -qx ".leading dot" "$T/down/new/$did"
}

@test "one connection carries many messages; --idle closes it" {
	start_accept
	start_down
	for i in 1 2 3 4; do queue "u$i@example.test"; done
	run bash -c "mail-deliver --to 127.0.0.1:$DPORT --tls none <'$T/records' >'$T/out'"
	[ "$status" -eq 0 ]
	[ "$(python3 -c 'import json,sys; print(len({json.loads(l)["client"]["port"] for l in open(sys.argv[1])}))' "$T/down.rec")" -eq 1 ]
	[ "$(wc -l <"$T/down.rec")" -eq 4 ]
	# with --idle 1 and a pause, the next message comes on a new connection
	(head -1 "$T/records"; sleep 2.5; sed -n 2p "$T/records") |
		mail-deliver --to "127.0.0.1:$DPORT" --tls none --idle 1 >"$T/out"
	[ "$(python3 -c 'import json,sys; print(len({json.loads(l)["client"]["port"] for l in open(sys.argv[1])}))' "$T/down.rec")" -eq 3 ]
}

@test "STARTTLS: may uses it, verify checks chain and name, encrypt refuses plain" {
	make_cert
	start_accept
	start_down $TLS
	queue b@example.test
	run bash -c "mail-deliver --to 127.0.0.1:$DPORT <'$T/records' >'$T/out'"
	[ "$(dfield delivery.tls.version)" = "TLSv1.3" ]
	[ "$(dfield delivery.tls.verified)" = "false" ]
	# verify without the CA: deferred, nothing sent
	run bash -c "mail-deliver --to 127.0.0.1:$DPORT --tls verify <'$T/records' >'$T/out'"
	[ "$(dfield delivery.status)" = "deferred" ]
	[[ "$(dfield delivery.rcpt.0.text)" == "TLS: certificate not verified for 127.0.0.1"* ]]
	[ "$(dfield delivery.rcpt.0.code)" = "null" ]
	# with the CA and the certificate's name from the policy table
	printf '127.0.0.1:%s verify mx.example.test\n' "$DPORT" >"$T/pol"
	run bash -c "mail-deliver --to 127.0.0.1:$DPORT --ca '$T/cert.pem' --tls-policy '$T/pol' <'$T/records' >'$T/out'"
	[ "$(dfield delivery.status)" = "delivered" ]
	[ "$(dfield delivery.tls.verified)" = "true" ]
	# a wrong name fails
	printf '127.0.0.1:%s verify other.example.test\n' "$DPORT" >"$T/pol"
	run bash -c "mail-deliver --to 127.0.0.1:$DPORT --ca '$T/cert.pem' --tls-policy '$T/pol' <'$T/records' >'$T/out'"
	[ "$(dfield delivery.status)" = "deferred" ]
	# encrypt to a server without STARTTLS (smtp-sink has none)
	start_sink
	run bash -c "mail-deliver --to 127.0.0.1:$SPORT --tls encrypt <'$T/records' >'$T/out'"
	[ "$(dfield delivery.status)" = "deferred" ]
	[[ "$(dfield delivery.rcpt.0.text)" == "STARTTLS not offered by 127.0.0.1[127.0.0.1]:$SPORT" ]]
	[ -z "$(ls "$T/dump")" ]
}

@test "smtp-sink: DATA with dot-stuffing when CHUNKING is not offered" {
	start_accept
	start_sink
	python3 - "$PORT" <<'PY'
import smtplib, sys
s = smtplib.SMTP("127.0.0.1", int(sys.argv[1]))
s.sendmail("a@example.org", ["b@example.test"], b"Subject: dots\r\n\r\n.one\r\n..two\r\n.\r\nend\r\n")
s.quit()
PY
	run bash -c "mail-deliver --to 127.0.0.1:$SPORT --tls none <'$T/records' >'$T/out'"
	[ "$(dfield delivery.status)" = "delivered" ]
	f=$(ls "$T"/dump/*)
	# the dump holds the message as received: stuffing undone by the sink
	grep -qx '.one' "$f"
	grep -qx '..two' "$f"
	grep -qx '.' "$f"
	grep -qx 'end' "$f"
}

@test "replies: 4xx deferred, 5xx failed, per recipient and at the data" {
	start_accept
	queue b@example.test
	start_sink -r RCPT
	run bash -c "mail-deliver --to 127.0.0.1:$SPORT --tls none <'$T/records' >'$T/out'"
	[ "$(dfield delivery.status)" = "deferred" ]
	[ "$(dfield delivery.rcpt.0.code)" = "450" ]
	[ "$(dfield delivery.rcpt.0.enhanced)" = "4.3.0" ]
	start_sink -f RCPT
	run bash -c "mail-deliver --to 127.0.0.1:$SPORT --tls none <'$T/records' >'$T/out'"
	[ "$(dfield delivery.status)" = "failed" ]
	[ "$(dfield delivery.rcpt.0.code)" = "500" ]
	start_sink -f .
	run bash -c "mail-deliver --to 127.0.0.1:$SPORT --tls none <'$T/records' >'$T/out'"
	[ "$(dfield delivery.status)" = "failed" ]
	[ "$(dfield delivery.rcpt.0.text)" = "Error: command failed" ]
	start_sink -r .
	run bash -c "mail-deliver --to 127.0.0.1:$SPORT --tls none <'$T/records' >'$T/out'"
	[ "$(dfield delivery.status)" = "deferred" ]
}

@test "LMTP: one reply per recipient after the data" {
	start_accept
	queue "b@example.test,c@example.test"
	start_sink -L
	run bash -c "mail-deliver --lmtp --to 127.0.0.1:$SPORT --tls none <'$T/records' >'$T/out'"
	[ "$(dfield delivery.status)" = "delivered" ]
	[ "$(dfield delivery.rcpt.1.code)" = "250" ]
	grep -q "LHLO" "$T/sink.log" || true
}

@test "failover: a dead host, then a good one; all dead is deferred" {
	start_accept
	start_down
	queue b@example.test
	dead=$(free_port)
	run bash -c "mail-deliver --to 127.0.0.1:$dead,127.0.0.1:$DPORT --tls none <'$T/records' >'$T/out'"
	[ "$(dfield delivery.status)" = "delivered" ]
	[ "$(dfield delivery.host)" = "127.0.0.1[127.0.0.1]:$DPORT" ]
	run bash -c "mail-deliver --to 127.0.0.1:$dead --tls none --connect-timeout 2 <'$T/records' >'$T/out'"
	[ "$(dfield delivery.status)" = "deferred" ]
	[ "$(dfield delivery.rcpt.0.code)" = "null" ]
	[[ "$(dfield delivery.rcpt.0.text)" == "connect 127.0.0.1[127.0.0.1]:$dead: Connection refused" ]]
	# a 421 banner is deferred, a 554 banner failed
	start_sink -Q CONNECT
	run bash -c "mail-deliver --to 127.0.0.1:$SPORT --tls none <'$T/records' >'$T/out'"
	[ "$(dfield delivery.status)" = "deferred" ]
	start_sink -f CONNECT
	run bash -c "mail-deliver --to 127.0.0.1:$SPORT --tls none <'$T/records' >'$T/out'"
	[ "$(dfield delivery.status)" = "failed" ]
}

@test "--mx: MX records through a real DNS server, null MX fails" {
	mkdir "$T/dns"
	dport=$(free_port)
	cat >"$T/dns/example.test.zone" <<'Z'
$ORIGIN example.test.
$TTL 300
@ SOA ns.example.test. hostmaster.example.test. 1 3600 600 86400 300
@ NS ns.example.test.
ns A 127.0.0.1
@ MX 10 mx1.example.test.
@ MX 20 mx2.example.test.
mx1 A 127.0.0.2
mx2 A 127.0.0.1
nullmx MX 0 .
Z
	"$TOP/tests/dns-server" start "$T/dns" "$dport" "$T/dns/example.test.zone" >/dev/null
	DNSDIR=$T/dns
	start_accept --domains example.test,nullmx.example.test
	start_down
	queue b@example.test
	queue x@nullmx.example.test
	# mx1 (127.0.0.2) has nothing on the port: mx2 takes it
	run bash -c "mail-deliver --mx --port $DPORT --dns 127.0.0.1:$dport --tls none --connect-timeout 2 <'$T/records' >'$T/out'"
	[ "$(dfield delivery.status 0)" = "delivered" ]
	[ "$(dfield delivery.host 0)" = "mx2.example.test[127.0.0.1]:$DPORT" ]
	[ "$(dfield delivery.status 1)" = "failed" ]
	[ "$(dfield delivery.rcpt.0.code 1)" = "556" ]
	[ "$(dfield delivery.rcpt.0.enhanced 1)" = "5.1.10" ]
}

teardown_more() {
	if [ -n "${DNSDIR:-}" ]; then
		"$TOP/tests/dns-server" stop "$DNSDIR" || true
	fi
}

@test "records that cannot be delivered go on; bad lines go on; a full stdout is 111" {
	start_accept
	start_down
	queue b@example.test
	printf '{"id":"x1","path":"/nonexistent","envelope":{"from":"a@b","to":["c@example.test"]}}\nnot json\n{"id":"x2"}\n' >"$T/in"
	cat "$T/records" >>"$T/in"
	run --separate-stderr bash -c "mail-deliver --to 127.0.0.1:$DPORT --tls none <'$T/in' >'$T/out'"
	[ "$status" -eq 0 ]
	[ "$(wc -l <"$T/out")" -eq 4 ]
	[ "$(sed -n 2p "$T/out")" = "not json" ]
	[ "$(sed -n 3p "$T/out")" = '{"id":"x2"}' ]
	[ "$(dfield delivery.status 3)" = "delivered" ]
	[[ "$stderr" == *"mail-deliver: x1: /nonexistent: No such file or directory"* ]]
	[[ "$stderr" == *"mail-deliver: stdin: line 2: "* ]]
	[[ "$stderr" == *"mail-deliver: x2: record without path"* ]]
	run -111 --separate-stderr bash -c "mail-deliver --to 127.0.0.1:$DPORT --tls none <'$T/records' >/dev/full"
	[ "${stderr_lines[-1]}" = "mail-deliver: write stdout: No space left on device" ]
}
