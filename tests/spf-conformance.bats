#!/usr/bin/env bats
# spf-conformance.bats: every case of the OpenSPF suite for RFC 7208
# (rfc7208-tests.yml) against lib/spf, through tests/bin/spf-eval and a
# real NSD on loopback serving the scenario's zonedata (tests/spf-suite
# writes the zones and compares the results).  One test per scenario; a
# failing case is named with what was expected and what came.  The cases
# listed in tests/spf-conformance.exceptions are held to the outcome given
# there instead, with the reason.
bats_require_minimum_version 1.5.0
load helpers

SUITE=${SPF_SUITE:-$DATA/spf/rfc7208-tests.yml}
EXCEPT=$TOP/tests/spf-conformance.exceptions

# scenario N: serve scenario N, run its cases, check them.
scenario() {
	local n=$1 port zones pid

	mkdir -p "$T/zones"
	zones=$(python3 "$TOP/tests/spf-suite" zones "$SUITE" "$n" "$T/zones")
	python3 "$TOP/tests/spf-suite" cases "$SUITE" "$n" >"$T/cases"
	port=$(free_port)
	# shellcheck disable=SC2086
	pid=$("$TOP/tests/dns-server" start "$T/ns" "$port" $zones)
	PIDS="$PIDS $pid"
	# a fresh process: a fresh struct dns, an empty cache
	run --separate-stderr "$SLUICE_TESTBIN/spf-eval" \
		--dns "127.0.0.1:$port" --timeout 2000 <"$T/cases"
	kill "$pid"
	wait_gone "$pid"
	if [ "$status" -ne 0 ]; then
		echo "spf-eval exited $status: $stderr"
		return 1
	fi
	[ -z "$stderr" ] || { echo "spf-eval: $stderr"; return 1; }
	printf '%s\n' "$output" >"$T/got"
	run python3 "$TOP/tests/spf-suite" check "$SUITE" "$n" "$T/got" "$EXCEPT"
	echo "$output" | grep -v '^ok '
	[ "$status" -eq 0 ]
}

@test "the suite has 16 scenarios and 203 cases, each run below" {
	run python3 "$TOP/tests/spf-suite" count "$SUITE"
	[ "$status" -eq 0 ]
	[ "$output" = 16 ]
	n=0
	for i in $(seq 0 15); do
		c=$(python3 "$TOP/tests/spf-suite" cases "$SUITE" "$i" | wc -l)
		n=$((n + c))
	done
	[ "$n" -eq 203 ]
	# one @test per scenario: 0 to 15
	c=$(grep -c '^@test "scenario [0-9]*:' "$BATS_TEST_FILENAME")
	[ "$c" -eq 16 ]
}

@test "each exception names a case and departs from its expectation" {
	run python3 "$TOP/tests/spf-suite" exceptions "$SUITE" "$EXCEPT"
	echo "$output"
	[ "$status" -eq 0 ]
}

@test "scenario 0: initial processing" { scenario 0; }
@test "scenario 1: record lookup" { scenario 1; }
@test "scenario 2: selecting records" { scenario 2; }
@test "scenario 3: record evaluation" { scenario 3; }
@test "scenario 4: all mechanism syntax" { scenario 4; }
@test "scenario 5: ptr mechanism syntax" { scenario 5; }
@test "scenario 6: a mechanism syntax" { scenario 6; }
@test "scenario 7: include mechanism semantics and syntax" { scenario 7; }
@test "scenario 8: mx mechanism syntax" { scenario 8; }
@test "scenario 9: exists mechanism syntax" { scenario 9; }
@test "scenario 10: ip4 mechanism syntax" { scenario 10; }
@test "scenario 11: ip6 mechanism syntax" { scenario 11; }
@test "scenario 12: semantics of exp and other modifiers" { scenario 12; }
@test "scenario 13: macro expansion rules" { scenario 13; }
@test "scenario 14: processing limits" { scenario 14; }
@test "scenario 15: test cases from implementation bugs" { scenario 15; }
