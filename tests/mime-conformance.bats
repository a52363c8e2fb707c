#!/usr/bin/env bats
# mime-conformance.bats: lib/mime (through tests/bin/mime-dump) on every
# MIME message of ../shared/conformance/mime-*: each parses to its end,
# every part that begins ends, and where a suite gives expectations (the
# CPython table of SOURCE.md) the tree agrees with them.
bats_require_minimum_version 1.5.0
load helpers

CONF=${SLUICE_CONFORMANCE:-$TOP/../../shared/conformance}
[ -d "$CONF" ] || CONF=/work/shared/conformance

# dump FILE [ARGS]: mime-dump's output in $T/out; fails unless it exits 0,
# ends with the parts line, and has as many ends as begins.
dump() {
	local f=$1
	shift
	"$SLUICE_TESTBIN/mime-dump" "$@" "$f" >"$T/out" 2>"$T/err" ||
		{ echo "$f: exit $?"; cat "$T/err"; return 1; }
	[ ! -s "$T/err" ] || { echo "$f: stderr"; cat "$T/err"; return 1; }
	tail -1 "$T/out" | grep -q '^parts [0-9]*$' ||
		{ echo "$f: no parts line"; return 1; }
	[ "$(grep -c '^begin ' "$T/out")" = "$(grep -c '^end ' "$T/out")" ] ||
		{ echo "$f: begins and ends differ"; return 1; }
}

# suite DIR: every message file under DIR parses, whole and a byte at a
# time, to the same tree.  Prints the number of files.
suite() {
	local f n=0
	while IFS= read -r f; do
		dump "$f" || return 1
		mv "$T/out" "$T/whole"
		dump "$f" -c 1 || return 1
		cmp -s "$T/whole" "$T/out" ||
			{ echo "$f: a byte at a time differs"; diff "$T/whole" "$T/out" | head; return 1; }
		n=$((n + 1))
	done < <(find "$1" -type f \( -name '*.eml' -o -name '*.raw' -o -name 'msg_*.txt' \) | sort)
	echo "$n"
}

@test "mime-cpython: all 47 messages parse" {
	run -0 suite "$CONF/mime-cpython"
	[ "${lines[-1]}" = 47 ]
}

@test "mime-enmime: all 90 messages parse" {
	run -0 suite "$CONF/mime-enmime"
	[ "${lines[-1]}" = 90 ]
}

@test "mime-nodemailer: all 10 messages parse" {
	run -0 suite "$CONF/mime-nodemailer"
	[ "${lines[-1]}" = 10 ]
}

@test "mime-stalwart-mailparser: all 43 messages parse" {
	run -0 suite "$CONF/mime-stalwart-mailparser"
	[ "${lines[-1]}" = 43 ]
}

# The CPython table: top-level type and the number of nodes.  Python
# parses message/delivery-status and message/external-body bodies as
# header blocks (a part each); lib/mime keeps them leaves, so msg_16,
# msg_36 and msg_43 count fewer.
@test "mime-cpython: types and part counts agree with Python's table" {
	local f top parts got gtop bad=0 n=0
	while IFS='|' read -r _ f top parts _; do
		f=${f//[\` ]/}
		top=${top// /}
		parts=${parts// /}
		case $f in msg_16.txt|msg_36.txt|msg_43.txt) continue ;; esac
		dump "$CONF/mime-cpython/$f"
		got=$(sed -n 's/^parts //p' "$T/out")
		gtop=$(grep -m1 '^begin ' "$T/out" | cut -d' ' -f3)
		n=$((n + 1))
		if [ "$got" != "$parts" ] || [ "$gtop" != "$top" ]; then
			echo "$f: want $top $parts, got $gtop $got"
			bad=1
		fi
	done < <(grep '^| `msg_' "$CONF/mime-cpython/SOURCE.md")
	[ "$bad" = 0 ]
	[ "$n" = 44 ]
}

@test "mime-cpython: the defects Python finds are found" {
	# no boundary in a multipart
	dump "$CONF/mime-cpython/msg_25.txt"
	grep -q '^defect no_boundary: ' "$T/out"
	dump "$CONF/mime-cpython/msg_41.txt"
	grep -q '^defect no_boundary: ' "$T/out"
	# a close boundary missing
	dump "$CONF/mime-cpython/msg_38.txt"
	grep -q '^defect unclosed: ' "$T/out"
	# a clean message has none
	dump "$CONF/mime-cpython/msg_02.txt"
	! grep -q '^defect ' "$T/out"
}

@test "mime-stalwart-mailparser: prefix boundaries and a reused boundary" {
	# a / ab: the inner multipart holds its part, nothing leaks
	dump "$CONF/mime-stalwart-mailparser/malformed/012.eml"
	grep -q '^begin 1.2.1 text/plain$' "$T/out"
	grep -q '^begin 2.1 text/plain$' "$T/out"
	grep -q '^defect unclosed: multipart 1 ' "$T/out"
}

@test "mime-nodemailer: an RFC 2047 name and the decoded sizes" {
	dump "$CONF/mime-nodemailer/nodemailer.eml"
	grep -q '^begin 1.3.3 image/gif name=nyan cat \\xe2\\x9c\\x94.gif disp=attachment$' "$T/out"
	grep -q '^end 1.3.3 size=29361$' "$T/out"
	# the root part is itself a base64 image
	dump "$CONF/mime-nodemailer/base64encodedroot.eml"
	grep -q '^begin 1 image/png' "$T/out"
	[ "$(grep -c '^begin ' "$T/out")" = 1 ]
}

@test "mime-nodemailer: 8-bit text in Latin-1 comes out as UTF-8" {
	dump "$CONF/mime-nodemailer/decoderended.eml" -t
	! grep -q '^text .*\\xef\\xbf\\xbd' "$T/out"
	grep -q '^text .*\\xc3' "$T/out"
}
