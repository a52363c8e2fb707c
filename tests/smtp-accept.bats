#!/usr/bin/env bats
# smtp-accept: real clients (swaks, smtplib, curl, smtp-source, tcpserver),
# raw sessions for the attacks, each limit, crashes and a full disk.
load helpers

# the first record's field (jq-less: python)
field() {
	python3 -c 'import json,sys
for i, line in enumerate(open(sys.argv[1])):
    if i == int(sys.argv[3]):
        v = json.loads(line)
        for k in sys.argv[2].split("."):
            v = v[int(k)] if isinstance(v, list) else v[k]
        print(json.dumps(v, separators=(",", ":"), ensure_ascii=False) if not isinstance(v, str) else v)' "$T/records" "$1" "${2:-0}"
}

setup_more() {
	TLS="--tls-cert $T/cert.pem --tls-key $T/key.pem"
}

send() {
	swaks --server "127.0.0.1:$PORT" --from a@example.org \
		--to "${1:-b@example.test}" "${@:2}" --silent 2
}

@test "usage: --spool and --domains are required, bad values are usage errors" {
	run -100 --separate-stderr smtp-accept --domains x.test
	[ "${stderr_lines[0]}" = "smtp-accept: --spool is required" ]
	[[ "${stderr_lines[1]}" == "usage: smtp-accept --spool DIR"* ]]
	run -100 --separate-stderr smtp-accept --spool "$T/s"
	[ "${stderr_lines[0]}" = "smtp-accept: --domains is required (the relay domains)" ]
	run -100 --separate-stderr smtp-accept --spool "$T/s" --domains x --max-rcpt 0
	[ "${stderr_lines[0]}" = "smtp-accept: max-rcpt: 0 is not in 1..100000" ]
	run -100 --separate-stderr smtp-accept --spool "$T/s" --domains x --bogus
	run -100 --separate-stderr smtp-accept --spool "$T/s" --domains @/nonexistent $as_user
	[[ "${stderr_lines[0]}" == "smtp-accept: /nonexistent: "* ]]
}

@test "as root, --user is required: it never talks SMTP as root" {
	[ "$(id -u)" -eq 0 ] || skip "needs root"
	run -100 --separate-stderr smtp-accept --spool "$T/s" --domains x.test --listen 127.0.0.1:1
	[ "$stderr" = "smtp-accept: refusing to talk SMTP as root: give --user NAME" ]
}

@test "swaks: stored durably in new/, one record, one log line" {
	start_accept
	run send b@example.test --h-Subject "hello there"
	[ "$status" -eq 0 ]
	[ "$(spooled)" -eq 1 ]
	id=$(ls "$T/spool/new")
	[ "$(field id)" = "$id" ]
	[ "$(field path)" = "$(realpath "$T/spool")/new/$id" ]
	[ "$(field envelope.from)" = "a@example.org" ]
	[ "$(field envelope.to.0)" = "b@example.test" ]
	[ "$(field client.ip)" = "127.0.0.1" ]
	[ "$(field headers.subject)" = "hello there" ]
	[ "$(field tls)" = "null" ]
	[ "$(field size)" = "$(stat -c %s "$T/spool/new/$id")" ]
	grep -q "^smtp-accept: $id: accepted from=<a@example.org> rcpts=1 size=" "$T/log"
	# the stored form: relay block, our Received, the message, LF ends
	head -1 "$T/spool/new/$id" | grep -qx "X-Sluice-Id: $id"
	grep -q "^Received: from .*(unknown \[127.0.0.1\])$" "$T/spool/new/$id"
	grep -q "^	by mx.example.test (sluice) with ESMTP id $id$" "$T/spool/new/$id"
	! grep -q $'\r' "$T/spool/new/$id"
	[ -z "$(ls "$T/spool/tmp")" ]
	stop_accept
}

@test "STARTTLS with swaks: TLS 1.3 and 1.2 facts in the record and Received" {
	make_cert
	start_accept $TLS --tls-key "$T/key.pem"
	run send b@example.test -tls
	[ "$status" -eq 0 ]
	[ "$(field tls.version)" = "TLSv1.3" ]
	[ "$(field tls.bits)" -ge 128 ]
	run send b@example.test -tls --tls-protocol tlsv1_2
	[ "$status" -eq 0 ]
	[ "$(field tls.version 1)" = "TLSv1.2" ]
	id=$(field id 1)
	grep -q "with ESMTPS id $id" "$T/spool/new/$id"
	grep -q "X-Sluice-TLS: version=TLSv1.2 cipher=" "$T/spool/new/$id"
	stop_accept
}

@test "TLS 1.1 is refused: 1.2 is the floor" {
	make_cert
	start_accept $TLS
	run bash -c "printf 'QUIT\r\n' | timeout 10 openssl s_client -quiet -starttls smtp -tls1_1 -cipher DEFAULT@SECLEVEL=0 -connect 127.0.0.1:$PORT 2>&1"
	[[ "$output" == *"alert"* || "$output" == *"unsupported protocol"* || "$output" == *"no protocols available"* ]]
	[ "$(spooled)" -eq 0 ]
	stop_accept
}

@test "smtplib: SMTPUTF8, 8BITMIME and the DSN parameters kept in the envelope" {
	start_accept
	python3 - "$PORT" <<'PY'
import smtplib, sys
s = smtplib.SMTP("127.0.0.1", int(sys.argv[1]))
s.ehlo("client.example.org")
msg = "From: Jos\u00e9 <jose@example.org>\r\nSubject: caf\u00e9\r\n\r\nna\u00efve\r\n".encode()
s.sendmail("jos\u00e9@example.org", ["b@example.test", "c@example.test"], msg,
    mail_options=["SMTPUTF8", "BODY=8BITMIME", "RET=HDRS", "ENVID=abc+2Bd"],
    rcpt_options=["NOTIFY=SUCCESS,FAILURE", "ORCPT=rfc822;b@example.test"])
s.quit()
PY
	[ "$(field envelope.from)" = "josé@example.org" ]
	[ "$(field envelope.params.mail.RET)" = "HDRS" ]
	[ "$(field envelope.params.mail.ENVID)" = "abc+2Bd" ]
	[ "$(field envelope.params.mail.SMTPUTF8)" = "true" ]
	[ "$(field envelope.params.mail.BODY)" = "8BITMIME" ]
	[ "$(field envelope.params.rcpt.1.NOTIFY)" = "SUCCESS,FAILURE" ]
	[ "$(field envelope.params.rcpt.0.ORCPT)" = "rfc822;b@example.test" ]
	[ "$(field headers.subject)" = "café" ]
	[ "$(field client.helo)" = "client.example.org" ]
	id=$(field id)
	grep -q "with UTF8SMTP id $id" "$T/spool/new/$id"
	stop_accept
}

@test "a non-ASCII address without SMTPUTF8 is refused with 553 5.6.7" {
	start_accept
	run smtp_chat "$PORT" --step <<<$'EHLO c\r\nMAIL FROM:<jos\xc3\xa9@example.org>\r\nQUIT\r'
	[[ "$output" == *"553 5.6.7 Error: non-ASCII address needs SMTPUTF8"* ]]
	stop_accept
}

@test "curl's SMTP client" {
	start_accept
	printf 'Subject: via curl\r\n\r\nbody\r\n' >"$T/m"
	run curl -sS "smtp://127.0.0.1:$PORT" --mail-from a@example.org \
		--mail-rcpt b@example.test -T "$T/m"
	[ "$status" -eq 0 ]
	[ "$(field headers.subject)" = "via curl" ]
	stop_accept
}

@test "smtp-source: 300 messages on 10 sessions, one and many per connection, ids unique" {
	start_accept
	run smtp-source -s 10 -m 150 -l 2000 -f a@example.org -t b@example.test "127.0.0.1:$PORT"
	[ "$status" -eq 0 ]
	run smtp-source -d -s 10 -m 150 -l 2000 -f a@example.org -t b@example.test "127.0.0.1:$PORT"
	[ "$status" -eq 0 ]
	[ "$(spooled)" -eq 300 ]
	[ "$(wc -l <"$T/records")" -eq 300 ]
	[ "$(python3 -c 'import json,sys; print(len({json.loads(l)["id"] for l in open(sys.argv[1])}))' "$T/records")" -eq 300 ]
	stop_accept
}

@test "PIPELINING: a whole transaction in one write, replies in order" {
	start_accept
	run smtp_chat "$PORT" <<<$'EHLO c\r\nMAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.test>\r\nRCPT TO:<x@elsewhere.test>\r\nDATA\r\nSubject: p\r\n\r\nhi\r\n.\r\nNOOP\r\nQUIT\r'
	[[ "$output" == *"250 CHUNKING"*"250 2.1.0 Ok"*"250 2.1.5 Ok"*"550 5.7.1 Error: relay access denied"*"354 End data"*"250 2.0.0 Ok: queued as "*"250 2.0.0 Ok"*"221 2.0.0 Bye"* ]]
	[ "$(spooled)" -eq 1 ]
	[ "$(field envelope.to)" = '["b@example.test"]' ]
	stop_accept
}

@test "CHUNKING: BDAT chunks, no dot-unstuffing, BDAT 0 LAST" {
	start_accept
	run smtp_chat "$PORT" --step <<<$'EHLO c\r\nMAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.test>\r\nBDAT 21\r\nSubject: b\r\n\r\n..dot\r\nBDAT 5 LAST\r\nend\r\nQUIT\r'
	[[ "$output" == *"250 2.0.0 21 octets received"*"250 2.0.0 Ok: queued as"* ]]
	id=$(field id)
	tail -2 "$T/spool/new/$id" | diff - <(printf '..dot\nend\n')
	run smtp_chat "$PORT" --step <<<$'EHLO c\r\nMAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.test>\r\nBDAT 11\r\nSubject: \r\nBDAT 0 LAST\r\nQUIT\r'
	[[ "$output" == *"250 2.0.0 11 octets received"*"250 2.0.0 Ok: queued as"* ]]
	[ "$(spooled)" -eq 2 ]
	stop_accept
}

@test "BDAT without a transaction: the chunk is read, then refused" {
	start_accept
	run smtp_chat "$PORT" --step <<<$'EHLO c\r\nBDAT 6 LAST\r\nNOOP\r\nNOOP\r\nQUIT\r'
	# "NOOP\r\n" is the chunk, not a command
	[[ "$output" == *"503 5.5.1 Error: need MAIL command"*"250 2.0.0 Ok"*"221"* ]]
	[ "$(grep -c '250 2.0.0 Ok$' <<<"$output")" -eq 1 ]
	stop_accept
}

@test "relay control: only the relay domains; @FILE table with subdomains; postmaster" {
	printf '# relay domains\nexample.test\n.sub.example.net\n' >"$T/domains"
	start_accept --domains "@$T/domains"
	run smtp_chat "$PORT" --step <<<$'HELO c\r\nMAIL FROM:<>\r\nRCPT TO:<a@example.test>\r\nRCPT TO:<a@x.sub.example.net>\r\nRCPT TO:<a@sub.example.net>\r\nRCPT TO:<a@example.org>\r\nRCPT TO:<postmaster>\r\nQUIT\r'
	[ "$(grep -c '^250 2.1.5 Ok' <<<"$output")" -eq 3 ]
	[ "$(grep -c '^550 5.7.1 Error: relay access denied' <<<"$output")" -eq 2 ]
	grep -q "reject: RCPT from=<> to=<a@example.org>: relay access denied" "$T/log"
	stop_accept
}

@test "SMTP smuggling: bare LF in DATA is refused and starts nothing" {
	start_accept
	run smtp_chat "$PORT" <<<$'EHLO c\r\nMAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.test>\r\nDATA\r\nSubject: s\r\n\r\nhi\n.\r\nMAIL FROM:<evil@example.org>\r\nRCPT TO:<b@example.test>\r\nDATA\r\nSubject: smuggled\r\n\r\nx\r\n.\r\nQUIT\r'
	[[ "$output" == *"354"*"550 5.5.2 Error: bare CR or LF in message (RFC 5321 2.3.8)"*"221"* ]]
	[[ "$output" != *"queued"* ]]
	[ "$(spooled)" -eq 0 ]
	grep -q "reject: bare LF from=<a@example.org>" "$T/log"
	stop_accept
}

@test "SMTP smuggling: the other endings (\\n.\\n, \\r\\n.\\n, \\r.\\r) do not end DATA" {
	start_accept
	for end in $'\n.\n' $'\r\n.\n' $'\r.\r' $'\n.\r\n'; do
		run smtp_chat "$PORT" <<<"EHLO c"$'\r\nMAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.test>\r\nDATA\r\nSubject: s\r\n\r\nhi'"$end"$'NOOP\r\n\r\n.\r\nQUIT\r'
		[[ "$output" == *"550 5.5.2 Error: bare CR or LF"* ]]
		[[ "$output" != *"250 2.0.0 Ok"$'\n'* ]]
	done
	[ "$(spooled)" -eq 0 ]
	stop_accept
}

@test "--lf-normalize: a listed client's bare LF lines are stored, CRLF.CRLF still ends" {
	start_accept --lf-normalize 127.0.0.0/8
	run smtp_chat "$PORT" <<<$'EHLO c\nMAIL FROM:<a@example.org>\nRCPT TO:<b@example.test>\nDATA\nSubject: n\n\none\n.\ntwo\r\n.\r\nQUIT\r'
	[[ "$output" == *"250 2.0.0 Ok: queued as"* ]]
	id=$(field id)
	tail -3 "$T/spool/new/$id" | diff - <(printf 'one\n.\ntwo\n')
	stop_accept
}

@test "bare LF in a command: 500 5.5.2 and the session ends" {
	start_accept
	run smtp_chat "$PORT" <<<$'EHLO c\nNOOP\r\n'
	[ "$output" = $'220 mx.example.test ESMTP sluice\n500 5.5.2 Error: bare LF in command' ]
	stop_accept
}

@test "STARTTLS injection: what was pipelined after STARTTLS is discarded" {
	make_cert
	start_accept $TLS
	run python3 - "$PORT" <<'PY'
import socket, ssl, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
f = s.makefile("rb")
def reply():
    lines = []
    while True:
        l = f.readline().decode()
        lines.append(l.strip())
        if l[3:4] != "-":
            return lines
reply()
s.sendall(b"EHLO c\r\n"); reply()
s.sendall(b"STARTTLS\r\nRSET\r\nMAIL FROM:<injected@example.org>\r\n")
print(reply())
ctx = ssl.create_default_context(); ctx.check_hostname = False; ctx.verify_mode = ssl.CERT_NONE
t = ctx.wrap_socket(s, server_hostname="mx.example.test")
f = t.makefile("rb")
t.sendall(b"NOOP\r\n"); print(reply())
t.sendall(b"RCPT TO:<b@example.test>\r\n"); print(reply())
t.sendall(b"QUIT\r\n"); print(reply())
PY
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "['220 2.0.0 Ready to start TLS']" ]
	[ "${lines[1]}" = "['250 2.0.0 Ok']" ]
	# had the injected MAIL run, this RCPT would be accepted
	[ "${lines[2]}" = "['503 5.5.1 Error: need MAIL command']" ]
	grep -Eq "discarded [0-9]+ bytes pipelined after STARTTLS" "$T/log"
	stop_accept
}

@test "protocol errors: order of commands, unknown commands, HTTP on the port" {
	start_accept
	run smtp_chat "$PORT" --step <<<$'MAIL FROM:<a@example.org>\r\nEHLO c\r\nRCPT TO:<b@example.test>\r\nDATA\r\nMAIL FROM:<a@example.org>\r\nMAIL FROM:<a@example.org>\r\nDATA\r\nFROB\r\nVRFY x\r\nRSET\r\nQUIT\r'
	[[ "$output" == *"503 5.5.1 Error: send HELO/EHLO first"* ]]
	[[ "$output" == *"503 5.5.1 Error: need MAIL command"*"503 5.5.1 Error: need MAIL command"* ]]
	[[ "$output" == *"250 2.1.0 Ok"*"503 5.5.1 Error: nested MAIL command"* ]]
	[[ "$output" == *"554 5.5.1 Error: no valid recipients"* ]]
	[[ "$output" == *"500 5.5.1 Error: command not recognized"* ]]
	[[ "$output" == *"502 5.5.1 Error: VRFY command is disabled"* ]]
	run smtp_chat "$PORT" <<<$'GET / HTTP/1.0\r\n\r'
	[[ "$output" == *"521 5.5.1 Error: this is an SMTP server" ]]
	stop_accept
}

@test "header injection through the envelope cannot reach the stored header" {
	start_accept
	run smtp_chat "$PORT" --step <<<$'EHLO c\r\nMAIL FROM:<"a\rX-Evil: 1"@example.org>\r\nMAIL FROM:<"x> y"@example.org>\r\nRCPT TO:<b@example.test>\r\nDATA\r\nSubject: q\r\n\r\n.\r\nQUIT\r'
	[[ "$output" == *"500 5.5.2 Invalid character in command"* ]]
	[[ "$output" == *"queued as"* ]]
	id=$(field id)
	[ "$(field envelope.from)" = '"x> y"@example.org' ]
	grep -qx 'X-Sluice-Mail-From: <"x> y"@example.org>' "$T/spool/new/$id"
	! grep -q "X-Evil" "$T/spool/new/$id"
	stop_accept
}

@test "NUL bytes: refused in commands and in DATA" {
	start_accept
	run bash -c "printf 'EHLO c\r\nMAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.test>\r\nDATA\r\nSubject: n\r\n\r\na\0b\r\n.\r\nNO\0OP\r\nQUIT\r\n' | python3 '$TOP/tests/smtpchat.py' $PORT"
	[[ "$output" == *"550 5.6.0 Error: NUL byte in message"*"500 5.5.2 Invalid character in command"* ]]
	[ "$(spooled)" -eq 0 ]
	stop_accept
}

@test "limit: message size, announced (SIZE=) and actual" {
	start_accept --max-size 2K
	run smtp_chat "$PORT" --step <<<$'EHLO c\r\nMAIL FROM:<a@example.org> SIZE=4096\r\nQUIT\r'
	[[ "$output" == *"250-SIZE 2048"*"552 5.3.4 Message size exceeds fixed limit"* ]]
	big=$(head -c 3000 /dev/zero | tr '\0' x)
	run smtp_chat "$PORT" <<<"EHLO c"$'\r\nMAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.test>\r\nDATA\r\n\r\n'"$big"$'\r\n.\r\nQUIT\r'
	[[ "$output" == *"552 5.3.4 Error: message file too big"*"221"* ]]
	[ "$(spooled)" -eq 0 ]
	[ -z "$(ls "$T/spool/tmp")" ]
	stop_accept
}

@test "limit: recipients per message, messages per session, errors per session" {
	start_accept --max-rcpt 2 --max-messages 1 --max-errors 4
	run smtp_chat "$PORT" --step <<<$'EHLO c\r\nMAIL FROM:<a@example.org>\r\nRCPT TO:<a@example.test>\r\nRCPT TO:<b@example.test>\r\nRCPT TO:<c@example.test>\r\nDATA\r\n.\r\nMAIL FROM:<a@example.org>\r\nQUIT\r'
	[[ "$output" == *"452 4.5.3 Error: too many recipients"*"queued as"*"421 4.7.0 mx.example.test Error: too many messages in this session" ]]
	[ "$(field envelope.to)" = '["a@example.test","b@example.test"]' ]
	run smtp_chat "$PORT" --step <<<$'X\r\nX\r\nX\r\nX\r\nX\r\nQUIT\r'
	[ "$(grep -c '^500 5.5.1' <<<"$output")" -eq 4 ]
	[[ "$output" == *"421 4.7.0 mx.example.test Error: too many errors" ]]
	stop_accept
}

@test "limit: commands per session" {
	start_accept --max-commands 10
	run smtp_chat "$PORT" <<<$'NOOP\r\nNOOP\r\nNOOP\r\nNOOP\r\nNOOP\r\nNOOP\r\nNOOP\r\nNOOP\r\nNOOP\r\nNOOP\r\nNOOP\r\nNOOP\r'
	[ "$(grep -c '^250 2.0.0 Ok' <<<"$output")" -eq 10 ]
	[[ "$output" == *"421 4.7.0 mx.example.test Error: too many commands" ]]
	stop_accept
}

@test "limit: command line length: 500 5.5.2 and disconnect" {
	start_accept --max-line 512
	long=$(head -c 600 /dev/zero | tr '\0' a)
	run smtp_chat "$PORT" <<<"NOOP $long"$'\r\nNOOP\r'
	[[ "$output" == *"500 5.5.2 Error: line too long" ]]
	stop_accept
}

@test "limit: DATA line length" {
	start_accept --max-data-line 1000
	long=$(head -c 1200 /dev/zero | tr '\0' a)
	run smtp_chat "$PORT" <<<$'EHLO c\r\nMAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.test>\r\nDATA\r\n\r\n'"$long"$'\r\n.\r\nQUIT\r'
	[[ "$output" == *"550 5.5.2 Error: message line too long"* ]]
	stop_accept
}

@test "limit: hops (Received fields) for mail loops" {
	start_accept --max-hops 3
	run smtp_chat "$PORT" <<<$'EHLO c\r\nMAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.test>\r\nDATA\r\nReceived: a\r\nReceived: b\r\nReceived: c\r\n\r\nx\r\n.\r\nQUIT\r'
	[[ "$output" == *"554 5.4.6 Error: too many hops"* ]]
	stop_accept
}

@test "limit: command timeout and the slow drip" {
	start_accept --timeout 1 --session-time 3
	run smtp_chat "$PORT" --wait 5 </dev/null
	[[ "$output" == *"421 4.4.2 mx.example.test Error: timeout exceeded" ]]
	grep -q "127.0.0.1: timeout in command" "$T/log"
	# one byte every 0.5 s: each read is in time, the line never is
	run python3 - "$PORT" <<'PY'
import socket, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.recv(100)
t = time.time()
try:
    for c in b"NOOPNOOPNOOPNOOPNOOPNOOP":
        s.send(bytes([c])); time.sleep(0.5)
except OSError:
    pass
print(s.recv(200).decode().strip(), round(time.time() - t))
PY
	[[ "$output" == "421 4.4.2 mx.example.test Error: timeout exceeded"* ]]
	stop_accept
}

@test "limit: connections per client address and in total" {
	start_accept --max-conn-per-ip 2
	python3 - "$PORT" <<'PY'
import socket, sys
p = int(sys.argv[1])
a = [socket.create_connection(("127.0.0.1", p)) for _ in range(2)]
for s in a: assert s.recv(100).startswith(b"220 ")
c = socket.create_connection(("127.0.0.1", p))
r = c.recv(200)
assert r.startswith(b"421 4.7.0 mx.example.test Error: too many connections from your address"), r
PY
	stop_accept
	start_accept --max-conn 1
	python3 - "$PORT" <<'PY'
import socket, sys
p = int(sys.argv[1])
a = socket.create_connection(("127.0.0.1", p)); assert a.recv(100).startswith(b"220 ")
c = socket.create_connection(("127.0.0.1", p))
r = c.recv(200)
assert r.startswith(b"421 4.7.0 Error: too many connections"), r
PY
	stop_accept
}

@test "limit: per-recipient arrival rate blunts a mail bomb (421 4.7.0)" {
	start_accept --rcpt-rate 3/60
	for i in 1 2 3; do send b@example.test; done
	run smtp_chat "$PORT" --step <<<$'EHLO c\r\nMAIL FROM:<a@example.org>\r\nRCPT TO:<B@example.test>\r\nRCPT TO:<c@example.test>\r'
	[[ "$output" == *"421 4.7.0 mx.example.test Error: too much mail for this recipient, try again later" ]]
	send c@example.test
	[ "$(spooled)" -eq 4 ]
	stop_accept
}

@test "pre-greet: a client talking before the banner is refused; a patient one passes" {
	start_accept --greet-wait 2
	run smtp_chat "$PORT" --early <<<$'EHLO bot\r'
	[ "$output" = $'220-mx.example.test ESMTP sluice\n554 5.5.1 Error: talked before the greeting' ]
	grep -q "reject: talked before the greeting" "$T/log"
	run smtp_chat "$PORT" --wait 4 --step <<<$'EHLO good\r\nQUIT\r'
	[[ "$output" == $'220-mx.example.test ESMTP sluice\n220 mx.example.test ESMTP sluice\n250-mx.example.test'* ]]
	# remembered: the next connection gets its banner at once
	run smtp_chat "$PORT" --wait 1 --step <<<$'QUIT\r'
	[ "$output" = $'220 mx.example.test ESMTP sluice\n221 2.0.0 Bye' ]
	stop_accept
}

@test "PROXY protocol v1 and v2 from a listed balancer; not from others" {
	start_accept --proxy-from 127.0.0.1/32
	run smtp_chat "$PORT" --early <<<$'PROXY TCP4 192.0.2.7 198.51.100.1 40000 25\r\nEHLO c\r\nMAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.test>\r\nDATA\r\n.\r\nQUIT\r'
	[[ "$output" == *"queued as"* ]]
	[ "$(field client.ip)" = "192.0.2.7" ]
	[ "$(field client.port)" = "40000" ]
	python3 - "$PORT" <<'PY'
import socket, struct, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
addr = socket.inet_pton(socket.AF_INET6, "2001:db8::5") + socket.inet_pton(socket.AF_INET6, "2001:db8::1") + struct.pack("!HH", 4444, 25)
s.sendall(b"\r\n\r\n\x00\r\nQUIT\n" + bytes([0x21, 0x21]) + struct.pack("!H", len(addr)) + addr)
f = s.makefile("rb")
assert f.readline().startswith(b"220 ")
for c in [b"EHLO c", b"MAIL FROM:<a@example.org>", b"RCPT TO:<b@example.test>", b"DATA"]:
    s.sendall(c + b"\r\n")
    while True:
        l = f.readline()
        if l[3:4] != b"-": break
s.sendall(b"x\r\n.\r\nQUIT\r\n")
assert f.readline().startswith(b"250 2.0.0 Ok: queued"), "not queued"
PY
	[ "$(field client.ip 1)" = "2001:db8::5" ]
	# the balancer must send the header
	run smtp_chat "$PORT" --early <<<$'EHLO c\r'
	[ -z "$output" ]
	grep -q "127.0.0.1: reject: not a PROXY protocol header" "$T/log"
	stop_accept
	# from an unlisted address, PROXY is just an unknown command
	start_accept
	run smtp_chat "$PORT" --step <<<$'PROXY TCP4 192.0.2.7 198.51.100.1 40000 25\r\nQUIT\r'
	[[ "$output" == *"500 5.5.1 Error: command not recognized"* ]]
	stop_accept
}

@test "per-partner TLS: listed senders and networks must use TLS (530 5.7.0 at MAIL)" {
	make_cert
	printf 'partner.example\n192.0.2.0/24\n' >"$T/partners"
	start_accept $TLS --tls-partners "$T/partners"
	run swaks --server "127.0.0.1:$PORT" --from a@partner.example --to b@example.test --silent 2
	[ "$status" -ne 0 ]
	[[ "$output" == *"530 5.7.0 Must issue a STARTTLS command first"* ]]
	send b@example.test
	swaks --server "127.0.0.1:$PORT" --from a@partner.example --to b@example.test -tls --silent 2
	[ "$(spooled)" -eq 2 ]
	grep -q "reject: MAIL from=<a@partner.example>: TLS required" "$T/log"
	stop_accept
	start_accept $TLS --require-tls
	run send b@example.test
	[[ "$output" == *"530 5.7.0"* ]]
	send b@example.test -tls
	stop_accept
}

@test "--check: exit 0, 100 and 111 map to 250, 550 and 451 with its text" {
	cat >"$T/check" <<'EOF2'
#!/bin/sh
cat >"$CHECKDIR/msg.$$"
printf '%s\n' "$SLUICE_RECORD" >"$CHECKDIR/rec.$$"
case $(grep '^Subject:' "$CHECKDIR/msg.$$") in
*reject*) echo "5.7.1 we do not want this" >&2; exit 100 ;;
*later*) echo "greylisted, come back" >&2; exit 111 ;;
*crash*) kill -9 $$ ;;
esac
exit 0
EOF2
	chmod 755 "$T/check"
	mkdir "$T/c"; chmod 777 "$T/c"
	CHECKDIR=$T/c start_accept --check "$T/check"
	send b@example.test --h-Subject ok
	run send b@example.test --h-Subject reject
	[[ "$output" == *"550 5.7.1 we do not want this"* ]]
	run send b@example.test --h-Subject later
	[[ "$output" == *"451 4.7.1 greylisted, come back"* ]]
	run send b@example.test --h-Subject crash
	[[ "$output" == *"451 4.3.0 Error: message check failed"* ]]
	[ "$(spooled)" -eq 1 ]
	[ -z "$(ls "$T/spool/tmp")" ]
	grep -l '^Subject: ok' "$T"/c/msg.* >/dev/null
	python3 -c 'import json,sys; r=json.loads(open(sys.argv[1]).read()); assert r["envelope"]["to"]==["b@example.test"], r' $(ls "$T"/c/rec.* | head -1)
	stop_accept
}

@test "--check that hangs is killed at its timeout: 451" {
	printf '#!/bin/sh\nsleep 30\n' >"$T/check"; chmod 755 "$T/check"
	start_accept --check "$T/check" --check-timeout 1
	run send b@example.test
	[[ "$output" == *"451 4.3.0 Error: message check failed"* ]]
	grep -q "check: check timed out" "$T/log"
	stop_accept
}

@test "high-water flag: defer new transactions, refuse when it says so, resume when gone" {
	start_accept --high-water "$T/hw"
	touch "$T/hw"
	sleep 1.5
	run smtp_chat "$PORT" --step <<<$'EHLO c\r\nMAIL FROM:<a@example.org>\r\nQUIT\r'
	[[ "$output" == *"451 4.3.2 System busy, try again later"* ]]
	echo refuse >"$T/hw"
	sleep 1.5
	run smtp_chat "$PORT" --step <<<$'QUIT\r'
	[ "$output" = "421 4.3.2 mx.example.test Service temporarily unavailable" ]
	rm "$T/hw"
	sleep 1.5
	send b@example.test
	[ "$(spooled)" -eq 1 ]
	grep -q "spool: defer" "$T/log"
	grep -q "spool: refuse" "$T/log"
	grep -q "spool: normal" "$T/log"
	stop_accept
}

@test "a full spool filesystem: refuse below --min-free, 451 on a write error, nothing half-stored" {
	[ "$(id -u)" -eq 0 ] || skip "needs root to mount a tmpfs"
	mkdir "$T/fs"
	mount -t tmpfs -o size=4m,mode=0755 tmpfs "$T/fs"
	chown "$run_user" "$T/fs"
	FSMOUNT=$T/fs
	PORT=$(free_port)
	smtp-accept --listen "127.0.0.1:$PORT" --spool "$T/fs/spool" --domains example.test $as_user --greet-wait 0 --dns none --min-free 0 --hostname mx.example.test >"$T/records" 2>"$T/log" &
	ACCEPT_PID=$!; PIDS="$PIDS $ACCEPT_PID"
	wait_port "$PORT"
	# a message bigger than the space left: the write fails, 451
	big=$(head -c 5000000 /dev/zero | tr '\0' x | fold -w 900)
	run smtp_chat "$PORT" --wait 10 <<<$'EHLO c\r\nMAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.test>\r\nDATA\r\n\r\n'"${big//$'\n'/$'\r\n'}"$'\r\n.\r\nQUIT\r'
	[[ "$output" == *"451 4.3.0 Error: queue file write error"* ]]
	[ -z "$(ls "$T/fs/spool/new")" ]
	[ -z "$(ls "$T/fs/spool/tmp")" ]
	grep -q "No space left on device" "$T/log"
	stop_accept
	# with a reserve: deferred before the disk is full
	head -c 2500000 /dev/zero >"$T/fs/filler"
	smtp-accept --listen "127.0.0.1:$PORT" --spool "$T/fs/spool" --domains example.test $as_user --greet-wait 0 --dns none --min-free 1M --hostname mx.example.test >"$T/records" 2>"$T/log" &
	ACCEPT_PID=$!; PIDS="$PIDS $ACCEPT_PID"
	wait_port "$PORT"
	run smtp_chat "$PORT" --step <<<$'EHLO c\r\nMAIL FROM:<a@example.org>\r\nQUIT\r'
	[[ "$output" == *"452 4.3.1 Insufficient system storage"* ]]
	head -c 900000 /dev/zero >"$T/fs/filler2"
	sleep 1.5
	run smtp_chat "$PORT" --step <<<$'QUIT\r'
	[ "$output" = "421 4.3.2 mx.example.test Service temporarily unavailable" ]
	rm "$T/fs/filler" "$T/fs/filler2"
	sleep 1.5
	send b@example.test
	[ "$(find "$T/fs/spool/new" -type f | wc -l)" -eq 1 ]
	stop_accept
}

teardown_more() {
	if [ -n "${DNSDIR:-}" ]; then
		"$TOP/tests/dns-server" stop "$DNSDIR" || true
	fi
	if [ -n "${FSMOUNT:-}" ]; then
		kill "$ACCEPT_PID" 2>/dev/null; wait_gone "$ACCEPT_PID" 5 || true
		umount "$FSMOUNT" 2>/dev/null || umount -l "$FSMOUNT"
	fi
}

@test "kill -9 during DATA: nothing in new/, and the restarted server serves" {
	start_accept
	python3 - "$PORT" "$ACCEPT_PID" <<'PY'
import os, signal, socket, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
f = s.makefile("rb")
f.readline()
for c in [b"EHLO c", b"MAIL FROM:<a@example.org>", b"RCPT TO:<b@example.test>", b"DATA"]:
    s.sendall(c + b"\r\n")
    while f.readline()[3:4] == b"-": pass
s.sendall(b"Subject: half\r\n\r\n" + b"x" * 100000)
time.sleep(0.3)
os.kill(int(sys.argv[2]), signal.SIGKILL)
PY
	wait_gone "$ACCEPT_PID"
	[ "$(spooled)" -eq 0 ]
	start_accept
	send b@example.test
	[ "$(spooled)" -eq 1 ]
	stop_accept
}

@test "kill -9 right after 250: the message is whole in new/" {
	start_accept
	python3 - "$PORT" "$ACCEPT_PID" <<'PY'
import os, signal, socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
f = s.makefile("rb")
f.readline()
for c in [b"EHLO c", b"MAIL FROM:<a@example.org>", b"RCPT TO:<b@example.test>", b"DATA"]:
    s.sendall(c + b"\r\n")
    while f.readline()[3:4] == b"-": pass
s.sendall(b"Subject: whole\r\n\r\n" + b"y" * 60 + b"\r\n" * 3000 + b"the end\r\n.\r\n")
l = f.readline()
os.kill(int(sys.argv[2]), signal.SIGKILL)
assert l.startswith(b"250 2.0.0 Ok: queued as "), l
print(l.split()[-1].decode())
PY
	id=$(ls "$T/spool/new")
	[ "$(spooled)" -eq 1 ]
	tail -1 "$T/spool/new/$id" | grep -qx "the end"
	[ "$(field id)" = "$id" ]
}

@test "SIGTERM finishes the message in hand, then exits 0" {
	start_accept
	python3 - "$PORT" "$ACCEPT_PID" <<'PY'
import os, signal, socket, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
f = s.makefile("rb")
f.readline()
for c in [b"EHLO c", b"MAIL FROM:<a@example.org>", b"RCPT TO:<b@example.test>", b"DATA"]:
    s.sendall(c + b"\r\n")
    while f.readline()[3:4] == b"-": pass
s.sendall(b"Subject: in hand\r\n\r\nfirst half\r\n")
os.kill(int(sys.argv[2]), signal.SIGTERM)
time.sleep(0.5)
s.sendall(b"second half\r\n.\r\n")
l = f.readline(); assert l.startswith(b"250 2.0.0 Ok: queued"), l
l = f.readline(); assert l.startswith(b"421 4.3.2"), l
PY
	wait "$ACCEPT_PID"
	[ "$(spooled)" -eq 1 ]
}

@test "SIGHUP reloads the relay domains and the certificate" {
	make_cert
	echo example.test >"$T/domains"
	start_accept --domains "@$T/domains" $TLS
	run send b@other.test
	[[ "$output" == *"550 5.7.1"* ]]
	printf 'example.test\nother.test\n' >"$T/domains"
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
		-keyout "$T/key.pem" -out "$T/cert.pem" -days 2 -subj /CN=reloaded.example.test 2>/dev/null
	chmod 644 "$T/key.pem"
	kill -HUP "$ACCEPT_PID"
	wait_for grep -q "reload: tables and keys reloaded" "$T/log"
	send b@other.test
	run bash -c "printf 'QUIT\r\n' | openssl s_client -starttls smtp -connect 127.0.0.1:$PORT 2>/dev/null"
	[[ "$output" == *"CN = reloaded.example.test"* ]]
	# a broken table on reload: the old one stays, with a warning
	echo '192.0.2.1/8' >"$T/domains"
	kill -HUP "$ACCEPT_PID"
	wait_for grep -q "warning: reload: .*keeping the old tables" "$T/log"
	send b@other.test
	stop_accept
}

@test "UCSPI: one session on stdin/stdout, client from TCPREMOTEIP, records to --records" {
	printf 'EHLO c\r\nMAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.test>\r\nDATA\r\nSubject: u\r\n\r\nbody\r\n.\r\nQUIT\r\n' >"$T/in"
	run bash -c "TCPREMOTEIP=192.0.2.9 TCPREMOTEPORT=1234 smtp-accept --spool '$T/spool' --domains example.test --records '$T/records' --dns none --greet-wait 0 --hostname mx.example.test $as_user <'$T/in'"
	[ "$status" -eq 0 ]
	[[ "$output" == *"354 End data"*"250 2.0.0 Ok: queued as"*"221 2.0.0 Bye"* ]]
	[ "$(field client.ip)" = "192.0.2.9" ]
	[ "$(field client.port)" = "1234" ]
	[ "$(spooled)" -eq 1 ]
}

@test "UCSPI under tcpserver, with swaks" {
	PORT=$(free_port)
	tcpserver -R -H 127.0.0.1 "$PORT" smtp-accept --spool "$T/spool" --domains example.test --records "$T/records" --dns none --greet-wait 0 $as_user 2>"$T/log" &
	PIDS="$PIDS $!"
	wait_port "$PORT"
	send b@example.test
	send c@example.test
	[ "$(spooled)" -eq 2 ]
	[ "$(wc -l <"$T/records")" -eq 2 ]
	[ "$(field client.ip 1)" = "127.0.0.1" ]
}

@test "records on a full stdout: the message is stored and answered, a warning says so" {
	PORT=$(free_port)
	smtp-accept --listen "127.0.0.1:$PORT" --spool "$T/spool" --domains example.test $as_user --greet-wait 0 --dns none >/dev/full 2>"$T/log" &
	ACCEPT_PID=$!; PIDS="$PIDS $ACCEPT_PID"
	wait_port "$PORT"
	send b@example.test
	send b@example.test
	[ "$(spooled)" -eq 2 ]
	[ "$(grep -c 'write record: No space left on device' "$T/log")" -eq 1 ]
	stop_accept
}

@test "SO_REUSEPORT: two processes share one port, sharing nothing" {
	start_accept --threads 1
	smtp-accept --listen "127.0.0.1:$PORT" --spool "$T/spool2" --domains example.test $as_user --greet-wait 0 --dns none --threads 1 >"$T/records2" 2>"$T/log2" &
	PIDS="$PIDS $!"
	sleep 0.3
	run smtp-source -s 5 -m 60 -f a@example.org -t b@example.test "127.0.0.1:$PORT"
	[ "$status" -eq 0 ]
	a=$(find "$T/spool/new" -type f | wc -l)
	b=$(find "$T/spool2/new" -type f | wc -l)
	[ $((a + b)) -eq 60 ]
	[ "$a" -gt 0 ] && [ "$b" -gt 0 ]
	stop_accept
}

@test "reverse DNS: the forward-confirmed name of the client, through a real DNS server" {
	mkdir "$T/dns"
	cat >"$T/dns/example.net.zone" <<'Z'
$ORIGIN example.net.
$TTL 300
@ SOA ns.example.net. hostmaster.example.net. 1 3600 600 86400 300
@ NS ns.example.net.
ns A 127.0.0.1
mail A 192.0.2.7
liar A 192.0.2.99
Z
	cat >"$T/dns/2.0.192.in-addr.arpa.zone" <<'Z'
$ORIGIN 2.0.192.in-addr.arpa.
$TTL 300
@ SOA ns.example.net. hostmaster.example.net. 1 3600 600 86400 300
@ NS ns.example.net.
7 PTR mail.example.net.
8 PTR liar.example.net.
Z
	dport=$(free_port)
	"$TOP/tests/dns-server" start "$T/dns" "$dport" "$T/dns/example.net.zone" "$T/dns/2.0.192.in-addr.arpa.zone" >/dev/null
	DNSDIR=$T/dns
	start_accept --proxy-from 127.0.0.1 --dns "127.0.0.1:$dport"
	for ip in 192.0.2.7 192.0.2.8 192.0.2.9; do
		run smtp_chat "$PORT" --early <<<"PROXY TCP4 $ip 198.51.100.1 40000 25"$'\r\nEHLO c\r\nMAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.test>\r\nDATA\r\n.\r\nQUIT\r'
		[[ "$output" == *"queued as"* ]]
	done
	[ "$(field client.ptr 0)" = "mail.example.net" ]
	# a PTR whose name does not point back is not believed
	[ "$(field client.ptr 1)" = "null" ]
	[ "$(field client.ptr 2)" = "null" ]
	grep -q "(mail.example.net \[192.0.2.7\])" "$T/spool/new/$(field id 0)"
	grep -q "(unknown \[192.0.2.8\])" "$T/spool/new/$(field id 1)"
	stop_accept
	# a DNS server that does not answer: the banner comes anyway
	"$TOP/tests/dns-server" stop "$T/dns"
	DNSDIR=
	start_accept --proxy-from 127.0.0.1 --dns "127.0.0.1:$dport"
	run smtp_chat "$PORT" --early --wait 6 <<<$'PROXY TCP4 192.0.2.7 198.51.100.1 40000 25\r\nEHLO c\r\nQUIT\r'
	[[ "$output" == "220 mx.example.test ESMTP sluice"*"221 2.0.0 Bye" ]]
	stop_accept
}

@test "--check: a longer enhanced code is kept; the deadline holds after stderr closes" {
	printf '#!/bin/sh\necho "5.7.26 DMARC says no" >&2; exit 100\n' >"$T/check"
	chmod 755 "$T/check"
	start_accept --check "$T/check"
	run send b@example.test
	[[ "$output" == *"550 5.7.26 DMARC says no"* ]]
	stop_accept
	printf '#!/bin/sh\nexec 2>&-\nsleep 20\n' >"$T/check"
	start_accept --check "$T/check" --check-timeout 1
	SECONDS=0
	run send b@example.test
	[[ "$output" == *"451 4.3.0 Error: message check failed"* ]]
	[ "$SECONDS" -lt 10 ]
	[ "$(spooled)" -eq 0 ]
	stop_accept
}

@test "--check gets a valid, cut SLUICE_RECORD when the envelope is huge" {
	printf '#!/bin/sh\nprintf "%%s" "$SLUICE_RECORD" >"$CHECKDIR/rec"\n' >"$T/check"
	chmod 755 "$T/check"
	mkdir "$T/c"; chmod 777 "$T/c"
	CHECKDIR=$T/c start_accept --check "$T/check" --max-rcpt 2000
	python3 - "$PORT" <<'PY'
import smtplib, sys
s = smtplib.SMTP("127.0.0.1", int(sys.argv[1]))
rcpts = ["r%04d-%s@example.test" % (i, "x" * 54) for i in range(1900)]
s.sendmail("a@example.org", rcpts, b"Subject: many\r\n\r\nx\r\n")
s.quit()
PY
	python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); assert r["envelope"]["truncated"] is True and 0 < len(r["envelope"]["to"]) <= 100, r["envelope"].keys()' "$T/c/rec"
	[ "$(field envelope.to | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')" -eq 1900 ]
	stop_accept
}

@test "per-recipient rate: the allowance refills at the sustained rate" {
	# one more every 4 s: three sends take less than that even on a
	# loaded machine under the sanitizers
	start_accept --rcpt-rate 2/8
	send b@example.test
	send b@example.test
	run send b@example.test
	[[ "$output" == *"421 4.7.0"* ]]
	sleep 4.2
	send b@example.test
	[ "$(spooled)" -eq 3 ]
	stop_accept
}

@test "SIGTERM: a transaction before DATA is not waited for" {
	start_accept
	python3 - "$PORT" "$ACCEPT_PID" <<'PY'
import os, signal, socket, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
f = s.makefile("rb")
f.readline()
for c in [b"EHLO c", b"MAIL FROM:<a@example.org>"]:
    s.sendall(c + b"\r\n")
    while f.readline()[3:4] == b"-": pass
os.kill(int(sys.argv[2]), signal.SIGTERM)
l = f.readline(); assert l.startswith(b"421 4.3.2"), l
PY
	wait "$ACCEPT_PID"
}

@test "HELO gets SMTP in Received, EHLO ESMTP" {
	start_accept
	run smtp_chat "$PORT" --step <<<$'HELO old.example\r\nMAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.test>\r\nDATA\r\n.\r\nQUIT\r'
	[[ "$output" == *"queued as"* ]]
	grep -q "with SMTP id $(field id)" "$T/spool/new/$(field id)"
	stop_accept
}

@test "--user as a non-root user: fine for oneself, refused for another" {
	[ "$(id -u)" -eq 0 ] || skip "needs root to become nobody first"
	run -100 --separate-stderr setpriv --reuid=nobody --regid=nogroup --clear-groups smtp-accept --spool "$T/s" --domains example.test --user root
	[ "$stderr" = "smtp-accept: --user root: only root can become another user" ]
}

@test "limit: DATA timeout per read" {
	start_accept --data-timeout 1
	run smtp_chat "$PORT" --step --wait 4 <<<$'EHLO c\r\nMAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.test>\r\nDATA\r\nSubject: stalled\r'
	[[ "$output" == *"354 End data"*"421 4.4.2 mx.example.test Error: timeout exceeded" ]]
	grep -q "127.0.0.1: timeout in message" "$T/log"
	[ "$(spooled)" -eq 0 ]
	[ -z "$(ls "$T/spool/tmp")" ]
	stop_accept
}

@test "under stress (high-water says slow): MAIL replies slowed, timeouts shortened" {
	start_accept --high-water "$T/hw" --timeout 60 --stress-timeout 1
	echo slow >"$T/hw"
	sleep 1.5
	run python3 - "$PORT" <<'PY'
import socket, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
f = s.makefile("rb")
f.readline()
s.sendall(b"HELO c\r\n"); f.readline()
t = time.time()
s.sendall(b"MAIL FROM:<a@example.org>\r\n"); l = f.readline()
print(l.decode().strip(), "%.1f" % (time.time() - t))
t = time.time()
l = f.readline()
print(l.decode().strip(), "%.0f" % (time.time() - t))
PY
	[[ "${lines[0]}" == "250 2.1.0 Ok 1."* ]]
	# idle after it: the stress timeout (1 s), not the 60 s one
	[[ "${lines[1]}" == "421 4.4.2 mx.example.test Error: timeout exceeded "[12] ]]
	grep -q "spool: slow" "$T/log"
	stop_accept
}
