#!/usr/bin/env bats
# arc-conformance.bats: the ValiMail ARC suite (tests/data/arc-valimail,
# see SOURCE.md there) against lib/arc through tests/bin/arc-tool, each
# scenario's key records served by a real NSD on loopback (tests/arc-suite
# writes the zones and messages and compares the results): the chain
# validation status of all 171 validation cases, and the ARC-Seal,
# ARC-Message-Signature and ARC-Authentication-Results of the 17 signing
# cases, b= values included (RSASSA-PKCS1-v1_5 is deterministic).  The
# cases in tests/arc-conformance.exceptions are held to the cv given there
# instead, with the reason.  Then dkimpy's ARC (python3-dkim) and lib/arc
# seal in turn, each verifying what the other made.
bats_require_minimum_version 1.5.0
load helpers

VALID=$DATA/arc-valimail/arc-draft-validation-tests.yml
SIGN=$DATA/arc-valimail/arc-draft-sign-tests.yml
EXCEPT=$TOP/tests/arc-conformance.exceptions
SUITE=$TOP/tests/arc-suite

# serve FILE N: an NSD for scenario N's key records; sets port.
serve() {
	local zones pid

	mkdir -p "$T/zones"
	zones=$(python3 "$SUITE" zones "$1" "$2" "$T/zones")
	port=$(free_port)
	# shellcheck disable=SC2086
	pid=$("$TOP/tests/dns-server" start "$T/ns" "$port" $zones)
	PIDS="$PIDS $pid"
}

# scenario N: the validation cases of scenario N.
scenario() {
	local msgs

	serve "$VALID" "$1"
	mkdir -p "$T/msgs"
	msgs=$(python3 "$SUITE" messages "$VALID" "$1" "$T/msgs")
	# shellcheck disable=SC2086
	run --separate-stderr "$SLUICE_TESTBIN/arc-tool" verify \
		--dns "127.0.0.1:$port" $msgs
	if [ "$status" -ne 0 ] || [ -n "$stderr" ]; then
		echo "arc-tool exited $status: $stderr"
		return 1
	fi
	printf '%s\n' "$output" >"$T/got"
	run python3 "$SUITE" check "$VALID" "$1" "$T/got" "$EXCEPT"
	echo "$output" | grep -v '^ok '
	[ "$status" -eq 0 ]
}

# signing N: the signing cases of scenario N.
signing() {
	serve "$SIGN" "$1"
	run python3 "$SUITE" sign "$SIGN" "$1" "$SLUICE_TESTBIN/arc-tool" \
		"$port" "$T" "$EXCEPT"
	echo "$output" | grep -v '^ok '
	[ "$status" -eq 0 ]
}

@test "the suite has 10 + 2 scenarios and 171 + 17 cases, each run below" {
	run python3 "$SUITE" count "$VALID"
	[ "$output" = 10 ]
	run python3 "$SUITE" count "$SIGN"
	[ "$output" = 2 ]
	n=0
	for i in $(seq 0 9); do
		n=$((n + $(python3 "$SUITE" ncases "$VALID" "$i")))
	done
	[ "$n" -eq 171 ]
	n=$(( $(python3 "$SUITE" ncases "$SIGN" 0) + \
	    $(python3 "$SUITE" ncases "$SIGN" 1) ))
	[ "$n" -eq 17 ]
	c=$(grep -c '^@test "validation [0-9]*:' "$BATS_TEST_FILENAME")
	[ "$c" -eq 10 ]
	c=$(grep -c '^@test "signing [0-9]*:' "$BATS_TEST_FILENAME")
	[ "$c" -eq 2 ]
}

@test "each exception names a case and departs from its expectation" {
	run python3 "$SUITE" exceptions "$EXCEPT" "$VALID" "$SIGN"
	echo "$output"
	[ "$status" -eq 0 ]
}

@test "validation 0: chain validation" { scenario 0; }
@test "validation 1: AMS set structure" { scenario 1; }
@test "validation 2: ARC-Message-Signature format" { scenario 2; }
@test "validation 3: ARC-Message-Signature fields" { scenario 3; }
@test "validation 4: ARC-Seal set structure" { scenario 4; }
@test "validation 5: ARC-Seal format" { scenario 5; }
@test "validation 6: ARC-Seal fields" { scenario 6; }
@test "validation 7: AAR set structure" { scenario 7; }
@test "validation 8: ARC-Authentication-Results" { scenario 8; }
@test "validation 9: public key" { scenario 9; }
@test "signing 0: canonicalisation" { signing 0; }
@test "signing 1: existing seals, a failed chain, merged results" { signing 1; }

# hop: the message in $T/in with an Authentication-Results of ID saying
# arc=CV on top, into $T/out.
ar_on_top() {
	{ printf 'Authentication-Results: %s; arc=%s\r\n' "$1" "$2"
	  cat "$T/in"; } >"$T/out"
}

dkimpy_seal() {
	ar_on_top "$1" "$2"
	/usr/bin/python3 "$TOP/tests/dkimpy-tool" arc-sign \
		"$DATA/auth/rsa.key" rsa example.org "$1" <"$T/out" >"$T/in"
}

we_seal() {
	"$SLUICE_TESTBIN/arc-tool" seal --dns "127.0.0.1:$port" \
		--key "$DATA/auth/$2.key" --selector "$2" --domain example.org \
		--ar "$1; arc=none" <"$T/in" >"$T/out"
	mv "$T/out" "$T/in"
}

start_ns() {
	port=$(free_port)
	pid=$("$TOP/tests/dns-server" start "$T/ns" "$port" \
		"$DATA/auth/example.org.zone")
	PIDS="$PIDS $pid"
	sed 's/$/\r/' "$DATA/auth/plain.eml" >"$T/in"
}

@test "dkimpy seals, we verify; we seal, dkimpy verifies; two hops each way" {
	start_ns
	dkimpy_seal hop1.example none
	run "$SLUICE_TESTBIN/arc-tool" verify --dns "127.0.0.1:$port" <"$T/in"
	[ "$output" = "pass 1 " ]
	we_seal hop2.example rsa
	grep -q '^ARC-Seal: a=rsa-sha256; b=' "$T/in"
	grep -q 'cv=pass; d=example.org; i=2; s=rsa' "$T/in"
	run /usr/bin/python3 "$TOP/tests/dkimpy-tool" arc-verify "$port" <"$T/in"
	[ "$output" = "pass success" ]
	dkimpy_seal hop3.example pass
	run "$SLUICE_TESTBIN/arc-tool" verify --dns "127.0.0.1:$port" <"$T/in"
	[ "$output" = "pass 1 " ]
	[ "$(grep -c '^ARC-Seal:' "$T/in")" -eq 3 ]
}

@test "we seal first, dkimpy seals second, both verify the chain" {
	start_ns
	we_seal hop1.example rsa
	grep -q 'cv=none; d=example.org; i=1; s=rsa' "$T/in"
	run /usr/bin/python3 "$TOP/tests/dkimpy-tool" arc-verify "$port" <"$T/in"
	[ "$output" = "pass success" ]
	dkimpy_seal hop2.example pass
	run "$SLUICE_TESTBIN/arc-tool" verify --dns "127.0.0.1:$port" <"$T/in"
	[ "$output" = "pass 1 " ]
	run /usr/bin/python3 "$TOP/tests/dkimpy-tool" arc-verify "$port" <"$T/in"
	[ "$output" = "pass success" ]
	# a changed body breaks the newest AMS for both
	sed -i 's/Hello Bob/Hello Eve/' "$T/in"
	run "$SLUICE_TESTBIN/arc-tool" verify --dns "127.0.0.1:$port" <"$T/in"
	[ "$output" = "fail 0 ARC-Message-Signature i=2: body hash mismatch" ]
	run /usr/bin/python3 "$TOP/tests/dkimpy-tool" arc-verify "$port" <"$T/in"
	[ "${output%% *}" = fail ]
}

@test "an ed25519 seal over an RSA one verifies (dkimpy's ARC has no ed25519)" {
	start_ns
	dkimpy_seal hop1.example none
	we_seal hop2.example ed
	grep -q '^ARC-Seal: a=ed25519-sha256; b=' "$T/in"
	run "$SLUICE_TESTBIN/arc-tool" verify --dns "127.0.0.1:$port" <"$T/in"
	[ "$output" = "pass 1 " ]
}
