#!/usr/bin/env bats
# dkim.bats: lib/dkim through tests/bin/dkim-tool against a real NSD on
# loopback serving the key records of the conformance data (dkimpy's and
# stalwart's) and of keys made here, cross-checked with dkimpy both ways.
bats_require_minimum_version 1.5.0
load helpers

CONF=/work/shared/conformance
PY=$CONF/dkim-dkimpy/data
SW=$CONF/auth-stalwart-mailauth/dkim

setup_file() {
	local z=$BATS_FILE_TMPDIR/zone

	mkdir -p "$z"
	export ZDIR=$z
	# keys of our own, for dkim-tool to sign with
	openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 \
		-out "$z/rsa.pem" 2>/dev/null
	openssl genpkey -algorithm ED25519 -out "$z/ed.pem" 2>/dev/null
	/usr/bin/python3 - "$z" "$PY" "$SW" <<'PY'
import base64, glob, os, subprocess, sys
z, py, sw = sys.argv[1:4]

def txt(name, value):
    value = value.strip()
    chunks = [value[i:i + 255] for i in range(0, len(value), 255)] or [""]
    q = " ".join('"%s"' % c.replace("\\", "\\\\").replace('"', '\\"')
                 for c in chunks)
    return "%s. IN TXT %s\n" % (name, q)

def der(pem, pub=True):
    return subprocess.run(["openssl", "pkey", "-in", pem, "-pubout",
                           "-outform", "DER"], check=True,
                          capture_output=True).stdout

out = ["$ORIGIN .\n$TTL 300\n",
       ". SOA ns.sluice.test. hostmaster.sluice.test. 1 3600 600 86400 300\n",
       ". NS ns.sluice.test.\n", "ns.sluice.test. A 127.0.0.1\n"]
for line in open(os.path.join(py, "..", "dns-records.zone")):
    if not line.startswith("$"):
        out.append(line)
def rec(f):
    return open(os.path.join(py, f)).read()
for sel, f in (("k2048", "2048_testkey_wo_markers.pub.txt"),
               ("pkcs8", "2048_testkey_PKCS8.key.pub.txt"),
               ("bare", "1024_testkey_wo_markers.pub.rsa.txt"),
               ("tlsrpt", "test_tlsrpt.txt"), ("badk", "badk.txt"),
               ("badversion", "badversion.txt"), ("bad", "test_bad.txt")):
    out.append(txt(sel + "._domainkey.example.com", rec(f)))
out.append(txt("revoked._domainkey.example.com", "v=DKIM1; k=rsa; p="))
out.append(txt("testing._domainkey.example.com",
               "v=DKIM1; t=y; " + rec("2048_testkey_wo_markers.pub.txt")[9:]))
out.append(txt("rsa._domainkey.sluice.test", "v=DKIM1; k=rsa; p=" +
               base64.b64encode(der(z + "/rsa.pem")).decode()))
out.append(txt("ed._domainkey.sluice.test", "v=DKIM1; k=ed25519; p=" +
               base64.b64encode(der(z + "/ed.pem")[-32:]).decode()))
for f in sorted(glob.glob(sw + "/*.txt")):
    data = open(f, "rb").read().decode("latin-1")
    head, _, msg = data.partition("\n\n")
    for line in head.splitlines():
        name, _, value = line.partition(" ")
        out.append(txt(name, value))
    with open(os.path.join(z, "sw-" + os.path.basename(f)[:-4] + ".eml"),
              "wb") as m:
        m.write(msg.encode("latin-1"))
open(os.path.join(z, "root.zone"), "w").write("".join(out))
PY
	DNSPORT=$(free_port)
	export DNSPORT
	"$TOP/tests/dns-server" start "$z/dns" "$DNSPORT" "$z/root.zone" \
		>/dev/null
}

teardown_file() {
	"$TOP/tests/dns-server" stop "$ZDIR/dns"
}

tool() {
	"$SLUICE_TESTBIN/dkim-tool" "$@"
}

dkimpy() {
	/usr/bin/python3 "$TOP/tests/dkimpy-tool" "$@"
}

# verify FILE [OPTIONS]: dkim-tool's lines for FILE
verify() {
	local f=$1
	shift
	tool verify --dns "127.0.0.1:$DNSPORT" "$@" <"$f"
}

@test "dkimpy's signed messages pass" {
	run -0 verify "$PY/rfc6376.signed.msg"
	[ "$output" = "pass football.example.com brisbane ed25519-sha256 
pass football.example.com test rsa-sha256 " ]
	run -0 verify "$PY/rfc6376.signed.rsa.msg"
	[ "$output" = "pass football.example.com test rsa-sha256 " ]
	run -0 verify "$PY/ed25519test2.msg"
	[ "$output" = "pass test.ex sed ed25519-sha256 " ]
	run -0 verify "$PY/test2.message"
	[ "$output" = "pass gmail.com 20120113 rsa-sha256 " ]
}

# Upstream fixes the clock at 1667843664, but 004's t=1667862801 is five
# hours after that: beyond our skew.  At 004's own t= all eight pass (005's
# x=1667930064 is later still).
@test "stalwart's six DKIM messages pass at their time (8 signatures)" {
	local f n=0
	for f in "$ZDIR"/sw-00?.eml; do
		run -0 verify "$f" --now 1667862801
		echo "$f: $output"
		while read -r res rest; do
			[ "$res" = pass ]
			n=$((n + 1))
		done <<<"$output"
	done
	[ "$n" -eq 8 ]
	run -0 verify "$ZDIR/sw-004.eml" --now 1667843664
	[ "$output" = "fail facebookmail.com s1024-2013-q3 rsa-sha256 signature in the future" ]
	# 005 carries x=1667930064: now it has expired
	run -0 verify "$ZDIR/sw-005.eml"
	[ "$output" = "fail topicbox.com sysmsg-1 rsa-sha256 signature expired" ]
	# and a t= ahead of the clock beyond the skew
	run -0 verify "$ZDIR/sw-005.eml" --now 1667843000
	[ "$output" = "fail topicbox.com sysmsg-1 rsa-sha256 signature in the future" ]
}

@test "a d= that is no domain is permerror, looked up nowhere" {
	run -0 verify "$PY/test.message.baddomain"
	[ "$output" = "permerror - - - bad d=" ]
}

@test "no signature: none; no key: permerror; no server: temperror" {
	run -0 verify "$PY/test.message"
	[ "$output" = none ]
	tool sign --key "$ZDIR/rsa.pem" --selector nosuch --domain sluice.test \
		<"$PY/test.message" >"$T/m"
	run -0 verify "$T/m"
	[ "$output" = "permerror sluice.test nosuch rsa-sha256 no key record" ]
	run -0 tool verify --dns "127.0.0.1:$(free_port)" <"$T/m"
	[ "$output" = "temperror sluice.test nosuch rsa-sha256 key lookup failed" ]
}

# dkimpy signs with KEY SEL DOMAIN CANON ALG, dkim-tool must say pass
dkimpy_signed() {
	dkimpy sign "$@" <"$PY/rfc6376.msg" >"$T/m"
	run -0 verify "$T/m"
	echo "$*: $output"
	[ "${output%% *}" = pass ]
}

@test "what dkimpy signs passes here: rsa-sha256, ed25519-sha256, four c= pairs" {
	local c
	for c in simple/simple simple/relaxed relaxed/simple relaxed/relaxed; do
		dkimpy_signed "$PY/2048_testkey.key" k2048 example.com $c rsa-sha256
		dkimpy_signed "$PY/ed25519test.key" ed25519 example.com $c ed25519-sha256
		dkimpy_signed "$PY/test.private" test example.com $c rsa-sha256
	done
}

@test "a bare RSAPublicKey in p= (PKCS#1, as some publish) passes, as in dkimpy" {
	dkimpy sign "$PY/1024_testkey.key" bare example.com relaxed/simple \
		<"$PY/test.message" >"$T/m"
	run -0 verify "$T/m"
	[ "$output" = "pass example.com bare rsa-sha256 " ]
	run -0 dkimpy verify "$DNSPORT" <"$T/m"
	[ "$output" = pass ]
}

@test "dkimpy's rsa-sha1 is policy, or pass with --sha1" {
	dkimpy sign "$PY/test.private" test example.com relaxed/relaxed \
		rsa-sha1 <"$PY/test.message" >"$T/m"
	run -0 verify "$T/m"
	[ "$output" = "policy example.com test rsa-sha1 rsa-sha1 not accepted" ]
	run -0 verify "$T/m" --sha1
	[ "$output" = "pass example.com test rsa-sha1 " ]
}

@test "what dkim-tool signs dkimpy verifies: rsa-2048, ed25519, four c= pairs" {
	local c k
	for c in simple/simple simple/relaxed relaxed/simple relaxed/relaxed; do
		for k in rsa ed; do
			tool sign --key "$ZDIR/$k.pem" --selector $k \
				--domain sluice.test --canon $c \
				<"$PY/message.mbox" >"$T/m"
			# message.mbox comes with a signature of its own
			# (kitterman.com, whose key is not served): ours is
			# the first
			run -0 dkimpy verify "$DNSPORT" <"$T/m"
			echo "$k $c: dkimpy $output"
			[ "${lines[0]}" = pass ]
			[ "${lines[1]}" = fail ]
			run -0 verify "$T/m"
			[ "${lines[0]}" = "pass sluice.test $k ${lines[0]#pass sluice.test $k }" ]
			[ "${lines[0]%% *}" = pass ]
			[ "${lines[1]}" = "permerror kitterman.com 2007-00 rsa-sha256 no key record" ]
		done
	done
	# and a key dkimpy keeps: the ed25519 seed, PKCS#8 RSA
	tool sign --key "$PY/ed25519test.key" --selector ed25519 \
		--domain example.com <"$PY/test.message" >"$T/m"
	run -0 dkimpy verify "$DNSPORT" <"$T/m"
	[ "$output" = pass ]
	tool sign --key "$PY/2048_testkey_PKCS8.key" --selector pkcs8 \
		--domain example.com <"$PY/test.message" >"$T/m"
	run -0 dkimpy verify "$DNSPORT" <"$T/m"
	[ "$output" = pass ]
}

# mutate CANON PYEXPR WANT: sign test.message with CANON, change it with
# the python expression (on bytes m), and expect WANT from both
mutate() {
	local canon=$1 expr=$2 want=$3 extra=${4:-}
	# shellcheck disable=SC2086
	tool sign --key "$ZDIR/rsa.pem" --selector rsa --domain sluice.test \
		--canon "$canon" $extra <"$PY/rfc6376.msg" >"$T/signed"
	/usr/bin/python3 -c "import sys; m = open(sys.argv[1], 'rb').read(); \
		m = $expr; sys.stdout.buffer.write(m)" "$T/signed" >"$T/m"
	run -0 verify "$T/m"
	echo "$canon $expr: sluice $output"
	[ "${output%% *}" = "${want%% *}" ]
	[ "$want" = "${want%% *}" ] || [[ "$output" == *"${want#* }" ]]
	run -0 dkimpy verify "$DNSPORT" <"$T/m"
	echo "$canon $expr: dkimpy $output"
	[ "$output" = "${want%% *}" ]
}

@test "mutations: one body byte fails, both canonicalisations" {
	mutate simple/simple "m.replace(b'lost the', b'lost thE')" \
		"fail body hash mismatch"
	mutate relaxed/relaxed "m.replace(b'lost the', b'lost thE')" \
		"fail body hash mismatch"
}

@test "mutations: a signed header's value fails" {
	mutate simple/simple "m.replace(b'dinner ready', b'dinner Ready')" \
		"fail signature mismatch"
	mutate relaxed/relaxed "m.replace(b'dinner ready', b'dinner Ready')" \
		"fail signature mismatch"
}

@test "mutations: whitespace in a header value fails simple, passes relaxed" {
	mutate simple/simple "m.replace(b'dinner ready', b'dinner  ready')" \
		"fail signature mismatch"
	mutate relaxed/simple "m.replace(b'dinner ready', b'dinner  ready')" \
		pass
}

@test "mutations: a trailing empty line passes" {
	mutate simple/simple "m + b'\r\n'" pass
	mutate relaxed/relaxed "m + b'\r\n\r\n'" pass
}

@test "mutations: an unsigned header added passes, a second From fails" {
	mutate relaxed/relaxed "m.replace(b'\r\nFrom:', b'\r\nX-Added: yes\r\nFrom:')" pass
	mutate relaxed/relaxed "m.replace(b'\r\nTo:', b'\r\nFrom: x@evil.test\r\nTo:')" \
		"fail signature mismatch"
}

@test "mutations: l= then a body appended passes; the body cut fails" {
	mutate relaxed/relaxed "m + b'P.S. appended\r\n'" pass --length
	mutate relaxed/relaxed "m.replace(b'Joe.\r\n', b'J\r\n')" \
		"fail l= beyond body" --length
}

@test "key records: revoked, not for email, unknown type, bad version, bad key, testing" {
	local s
	for s in revoked tlsrpt badk badversion bad testing; do
		dkimpy sign "$PY/test.private" "$s" example.com relaxed/relaxed \
			<"$PY/test.message" >"$T/m.$s"
	done
	run -0 verify "$T/m.revoked"
	[ "$output" = "permerror example.com revoked rsa-sha256 key revoked" ]
	run -0 verify "$T/m.tlsrpt"
	[ "$output" = "permerror example.com tlsrpt rsa-sha256 key not for email" ]
	run -0 verify "$T/m.badk"
	[ "$output" = "permerror example.com badk rsa-sha256 unknown key type" ]
	run -0 verify "$T/m.badversion"
	[ "$output" = "permerror example.com badversion rsa-sha256 bad v=" ]
	run -0 verify "$T/m.bad"
	[ "$output" = "permerror example.com bad rsa-sha256 bad key" ]
	for s in revoked tlsrpt badk badversion bad; do
		run -0 dkimpy verify "$DNSPORT" <"$T/m.$s"
		[ "$output" = fail ]
	done
	# t=y: signed with the 1024-bit key, record of the 2048-bit one
	run -0 verify "$T/m.testing"
	[ "$output" = "fail example.com testing rsa-sha256 signature mismatch" ]
	dkimpy sign "$PY/2048_testkey.key" testing example.com relaxed/relaxed \
		<"$PY/test.message" >"$T/m"
	run -0 tool verify --dns "127.0.0.1:$DNSPORT" --json <"$T/m"
	[[ "$output" == '{"result":"pass","d":"example.com","s":"testing","a":"rsa-sha256","i":"@example.com","b":"'*'","testing":true}' ]]
}

@test "more signatures than the limit: the rest is one neutral result" {
	local i
	cp "$PY/test.message" "$T/m"
	for i in $(seq 12); do
		tool sign --key "$ZDIR/ed.pem" --selector ed --domain sluice.test \
			<"$T/m" >"$T/m2"
		mv "$T/m2" "$T/m"
	done
	run -0 verify "$T/m"
	[ "${#lines[@]}" -eq 11 ]
	[ "$(grep -c '^pass sluice.test ed ed25519-sha256' <<<"$output")" -eq 10 ]
	[ "${lines[10]}" = "neutral - - - 2 more signatures not checked" ]
}

@test "sign: a message without From is refused, exit 100" {
	run -100 --separate-stderr tool sign --key "$ZDIR/rsa.pem" \
		--selector rsa --domain sluice.test <"$PY/test_nofrom.message"
	[ "$stderr" = "dkim-tool: sign: no From field" ]
}
