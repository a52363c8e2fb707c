#!/usr/bin/env bats
# fuzz.bats: each libFuzzer target of tests/fuzz/ for a few seconds on a
# copy of its seed corpus, and tests/fuzz/run.  The targets carry their
# own ASan and UBSan, so tests/check runs this file in its plain pass only.
bats_require_minimum_version 1.5.0
load helpers

setup_file() {
	local log=$BATS_FILE_TMPDIR/build.log

	make -s -C "$TOP" fuzz-build >"$log" 2>&1 || {
		tail -30 "$log" >&2
		return 1
	}
}

# fuzz NAME: fuzz_NAME for 5 seconds on a copy of its corpus in $T; a crash
# input is kept in build/fuzz/crash/NAME/.
fuzz() {
	local name=$1 crash=$TOP/build/fuzz/crash/$1

	mkdir -p "$crash" "$T/corpus"
	cp -R "$TOP/tests/fuzz/corpus/$name/." "$T/corpus/"
	run "$TOP/build/fuzz/tests/fuzz/fuzz_$name" -max_total_time=5 \
		-rss_limit_mb=2048 -timeout=10 -artifact_prefix="$crash/" \
		"$T/corpus"
	if [ "$status" -ne 0 ]; then
		echo "$output" | tail -60
		return 1
	fi
	# it did run: libFuzzer's last line is "Done N runs in S second(s)"
	[[ "$output" == *"Done "*" runs in "* ]]
}

@test "fuzz_proxy: 5 seconds find nothing" {
	fuzz proxy
}

@test "fuzz_smtp: 5 seconds find nothing" {
	fuzz smtp
}

@test "fuzz_record: 5 seconds find nothing" {
	fuzz record
}

@test "fuzz_envelope: 5 seconds find nothing" {
	fuzz envelope
}

@test "fuzz_dkim: 5 seconds find nothing" {
	fuzz dkim
}

@test "fuzz_spf: 5 seconds find nothing" {
	fuzz spf
}

@test "fuzz_dmarc: 5 seconds find nothing" {
	fuzz dmarc
}

@test "fuzz_pool: 5 seconds find nothing" {
	fuzz pool
}

@test "fuzz_url: 5 seconds find nothing" {
	fuzz url
}

@test "fuzz_arc: 5 seconds find nothing" {
	fuzz arc
}

@test "fuzz_mime: 5 seconds find nothing" {
	fuzz mime
}

@test "fuzz_rules: 5 seconds find nothing" {
	fuzz rules
}

@test "fuzz_scan: 5 seconds find nothing" {
	fuzz scan
}

@test "fuzz_verdict: 5 seconds find nothing" {
	fuzz verdict
}

@test "fuzz_ctl: 5 seconds find nothing" {
	fuzz ctl
}

@test "every fuzz target has a test and a corpus" {
	local f name
	for f in "$TOP"/tests/fuzz/fuzz_*.c; do
		name=${f##*/fuzz_}
		name=${name%.c}
		grep -q "^@test \"fuzz_$name: " "$BATS_TEST_FILENAME" ||
			{ echo "no test for fuzz_$name"; return 1; }
		[ -n "$(ls -A "$TOP/tests/fuzz/corpus/$name")" ] ||
			{ echo "no corpus for fuzz_$name"; return 1; }
		[ "$(ls -A "$TOP/tests/fuzz/corpus/$name" | wc -l)" -lt 30 ] ||
			{ echo "corpus of fuzz_$name over 29 files"; return 1; }
	done
}

@test "tests/fuzz/run: bad usage exits 100" {
	run -100 --separate-stderr "$TOP/tests/fuzz/run"
	[ "$stderr" = "usage: tests/fuzz/run SECONDS [NAME...]" ]
	run -100 --separate-stderr "$TOP/tests/fuzz/run" 1s
	[ "$stderr" = "usage: tests/fuzz/run SECONDS [NAME...]" ]
	run -100 "$TOP/tests/fuzz/run" 0
}

@test "tests/fuzz/run: an unknown target exits 111" {
	run -111 --separate-stderr "$TOP/tests/fuzz/run" 1 nosuch
	[ "$stderr" = "fuzz_nosuch: missing build/fuzz/tests/fuzz/fuzz_nosuch: run make fuzz-build" ]
}

@test "tests/fuzz/run: one line per target with the executions" {
	run -0 "$TOP/tests/fuzz/run" 1 proxy
	[[ "$output" =~ ^fuzz_proxy:\ ok,\ [1-9][0-9]*\ executions\ in\ 1s,\ corpus\ [0-9]+\ files$ ]]
}
