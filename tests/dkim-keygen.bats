#!/usr/bin/env bats
# dkim-keygen.bats: keys made, written safely, and their records good
# enough for dkimpy to verify mail signed with them, served by a real NSD.
bats_require_minimum_version 1.5.0
load helpers

teardown_more() {
	if [ -n "${DNSDIR:-}" ]; then
		"$TOP/tests/dns-server" stop "$DNSDIR" || true
	fi
}

# serve RECORD-LINE...: a zone with the records, on $DNSPORT
serve() {
	mkdir -p "$T/dns"
	{
		printf '$ORIGIN example.test.\n$TTL 300\n'
		printf '@ SOA ns hostmaster 1 3600 600 86400 300\n@ NS ns\n'
		printf 'ns A 127.0.0.1\n'
		printf '%s\n' "$@"
	} >"$T/dns/example.test.zone"
	DNSPORT=$(free_port)
	"$TOP/tests/dns-server" start "$T/dns" "$DNSPORT" \
		"$T/dns/example.test.zone" >/dev/null
	DNSDIR=$T/dns
}

msg() {
	printf 'From: a@example.test\r\nTo: b@example.net\r\nSubject: hi\r\n'
	printf 'Date: Mon, 01 Jan 2024 00:00:00 +0000\r\n\r\nHello.\r\n'
}

@test "an RSA key: PEM, mode 0600, a record in 255-byte strings that dkimpy verifies" {
	run -0 --separate-stderr dkim-keygen --key "$T/k.pem" \
		--selector s1 --domain example.test
	rsa=$output
	[ "$(stat -c %a "$T/k.pem")" = 600 ]
	head -1 "$T/k.pem" | grep -q -- '-----BEGIN PRIVATE KEY-----'
	[ "$(openssl pkey -in "$T/k.pem" -noout -text | head -1)" = "Private-Key: (2048 bit, 2 primes)" ]
	[[ "$rsa" == 's1._domainkey.example.test. IN TXT "v=DKIM1; k=rsa; p=MIIBIjAN'* ]]
	# 2048 bits: the record is longer than 255 bytes, so two strings
	[[ "$rsa" =~ ^[^\"]*\"[^\"]{255}\"\ \"[^\"]+\"$ ]]
	run -0 dkim-keygen --key "$T/ed.pem" --selector s2 \
		--domain example.test --type ed25519
	ed=$output
	[[ "$ed" =~ ^s2._domainkey.example.test.\ IN\ TXT\ \"v=DKIM1\;\ k=ed25519\;\ p=[A-Za-z0-9+/]{43}=\"$ ]]
	serve "$rsa" "$ed"
	msg >"$T/m"
	"$SLUICE_TESTBIN/dkim-tool" sign --key "$T/k.pem" --selector s1 \
		--domain example.test <"$T/m" >"$T/m1"
	run -0 /usr/bin/python3 "$TOP/tests/dkimpy-tool" verify "$DNSPORT" <"$T/m1"
	[ "$output" = pass ]
	"$SLUICE_TESTBIN/dkim-tool" sign --key "$T/ed.pem" --selector s2 \
		--domain example.test <"$T/m" >"$T/m2"
	run -0 /usr/bin/python3 "$TOP/tests/dkimpy-tool" verify "$DNSPORT" <"$T/m2"
	[ "$output" = pass ]
	# and dkimpy signing with the key made here
	/usr/bin/python3 "$TOP/tests/dkimpy-tool" sign "$T/k.pem" s1 \
		example.test relaxed/relaxed <"$T/m" >"$T/m3"
	run -0 "$SLUICE_TESTBIN/dkim-tool" verify --dns "127.0.0.1:$DNSPORT" <"$T/m3"
	[ "$output" = "pass example.test s1 rsa-sha256 " ]
}

@test "--bits: 1024 made, under 1024 and over 8192 refused" {
	run -0 dkim-keygen --key "$T/k" --selector s --domain example.test \
		--bits 1024
	[ "$(openssl pkey -in "$T/k" -noout -text | head -1)" = "Private-Key: (1024 bit, 2 primes)" ]
	run -100 --separate-stderr dkim-keygen --key "$T/k2" --selector s \
		--domain example.test --bits 512
	[ "$stderr" = "dkim-keygen: --bits 512: from 1024 to 8192" ]
	[ ! -e "$T/k2" ]
	run -100 --separate-stderr dkim-keygen --key "$T/k2" --selector s \
		--domain example.test --bits 16384
	[ ! -e "$T/k2" ]
}

@test "an existing key is kept unless --force" {
	dkim-keygen --key "$T/k" --selector s --domain example.test \
		--type ed25519 >/dev/null
	cp "$T/k" "$T/k.orig"
	run -100 --separate-stderr dkim-keygen --key "$T/k" --selector s \
		--domain example.test --type ed25519
	[ "$stderr" = "dkim-keygen: $T/k: exists (--force to replace it)" ]
	cmp "$T/k" "$T/k.orig"
	run -0 dkim-keygen --key "$T/k" --selector s --domain example.test \
		--type ed25519 --force
	! cmp -s "$T/k" "$T/k.orig"
	[ "$(stat -c %a "$T/k")" = 600 ]
	[ -z "$(find "$T" -name 'k.tmp.*')" ]
}

@test "--print: the record of an existing key, the same as when made" {
	run -0 dkim-keygen --key "$T/k" --selector s --domain example.test
	made=$output
	run -0 dkim-keygen --print --key "$T/k" --selector s --domain example.test
	[ "$output" = "$made" ]
	# a key kept as dkimpy keeps it: an Ed25519 seed
	run -0 dkim-keygen --print --selector ed25519 --domain example.com \
		--key /work/shared/conformance/dkim-dkimpy/data/ed25519test.key
	[ "$output" = 'ed25519._domainkey.example.com. IN TXT "v=DKIM1; k=ed25519; p=yi50DjK5O9pqbFpNHklsv9lqaS0ArSYu02qp1S0DW1Y="' ]
	run -100 --separate-stderr dkim-keygen --print --key /dev/null \
		--selector s --domain example.test
	[[ "$stderr" == "dkim-keygen: /dev/null: not a private key"* ]]
}

@test "bad usage exits 100 with the synopsis" {
	run -100 --separate-stderr dkim-keygen --key "$T/k"
	[ "$stderr" = "usage: dkim-keygen --key FILE --selector S --domain D [--type rsa|ed25519] [--bits N] [--force] [--print]" ]
	run -100 --separate-stderr dkim-keygen --key "$T/k" --selector s \
		--domain example.test --type dsa
	[ "$stderr" = "dkim-keygen: --type dsa: rsa or ed25519" ]
	run -0 dkim-keygen --help
}

@test "a key directory that cannot be written is 111" {
	mkdir "$T/ro"
	chmod 555 "$T/ro"
	if [ "$(id -u)" -eq 0 ]; then
		run -111 --separate-stderr setpriv --reuid=nobody --regid=nogroup \
			--clear-groups "$SLUICE_TOOLS/dkim-keygen" --key "$T/ro/k" \
			--selector s --domain example.test
	else
		run -111 --separate-stderr dkim-keygen --key "$T/ro/k" \
			--selector s --domain example.test
	fi
	[[ "$stderr" == "dkim-keygen: create $T/ro/k.tmp."*": Permission denied" ]]
}
