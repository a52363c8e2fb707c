#!/usr/bin/env bats
# mail-scan.bats: mail-scan on messages the tests make (tests/scan-corpus.py):
# each rule fires on its message and not on the clean twin; EICAR and
# Debian's clamav-testfiles found by hash inside nested archives; a zip
# bomb, a MIME nesting bomb and a 50 MB message each within a memory
# bound; the exit codes and messages of mail-scan(1).
bats_require_minimum_version 1.5.0
load helpers

EICAR_SHA=275a021bbfb6489e54d471899f7db9d1663fc695ec2fe2a2c4538aabf651fd0f
CLAMDIR=/usr/share/clamav-testfiles

S=$TOP/tests/data/scan

setup_file() {
	export CORPUS=$BATS_FILE_TMPDIR/corpus
	python3 "$BATS_TEST_DIRNAME/scan-corpus.py" "$CORPUS"
	echo "$EICAR_SHA" >"$BATS_FILE_TMPDIR/eicar.list"
	# the DNS block lists of tests/data/scan on a real server
	local d=$BATS_FILE_TMPDIR/dns
	mkdir -p "$d"
	cp "$TOP"/tests/data/scan/*.zone "$d/"
	DNSPORT=$(free_port)
	"$TOP/tests/dns-server" start "$d" "$DNSPORT" "$d"/*.zone \
	    servfail:down.test >/dev/null
	export DNSPORT
}

teardown_file() {
	"$TOP/tests/dns-server" stop "$BATS_FILE_TMPDIR/dns"
}

# scan FILE [OPTIONS]: mail-scan's record of FILE in $T/out.
scan() {
	local f=$1
	shift
	mail-scan "$@" "$f" >"$T/out"
}

# rules: the rule ids of the record in $T/out, sorted, one a line.
rules() {
	python3 -c 'import json,sys
r = json.load(open(sys.argv[1]))["scan"]
print("\n".join(sorted({x["rule"] for x in r["reasons"]})))' "$T/out"
}

# fires RULE [MESSAGE] [OPTIONS]: RULE is among the reasons of MESSAGE
# (default RULE.eml) and not among those of its twin.
fires() {
	local rule=$1 msg=${2:-$1}
	shift
	[ $# -gt 0 ] && shift
	scan "$CORPUS/$msg.eml" "$@"
	rules | grep -qx "$rule" || { echo "$rule: not on $msg"; rules; return 1; }
	scan "$CORPUS/$msg-twin.eml" "$@"
	if rules | grep -qx "$rule"; then
		echo "$rule: on the twin of $msg"
		return 1
	fi
	[ "$(jfield "$T/out" scan.verdict)" = clean ] ||
		{ echo "twin of $msg: $(jfield "$T/out" scan.verdict)"; return 1; }
}

# maxrss_kib CMD...: run CMD (stdout to $T/out) and print its peak
# resident set in KiB.
maxrss_kib() {
	python3 -c 'import resource, subprocess, sys
with open(sys.argv[1], "wb") as out:
    r = subprocess.run(sys.argv[2:], stdout=out)
if r.returncode != 0:
    sys.exit(r.returncode)
print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)' "$T/out" "$@"
}

# hup_twice MESSAGE EDIT ARGS...: mail-scan ARGS on a record of MESSAGE,
# then EDIT (shell words) and SIGHUP, then the same record again; the
# records in $T/live.out, stderr in $T/live.err.
hup_twice() {
	local msg=$1 edit=$2 pid
	shift 2
	mkfifo "$T/fifo"
	mail-scan "$@" <"$T/fifo" >"$T/live.out" 2>"$T/live.err" &
	pid=$!
	PIDS="$PIDS $pid"
	exec 5>"$T/fifo"
	printf '{"id":"1","path":"%s"}\n' "$msg" >&5
	wait_for grep -q '"id":"1"' "$T/live.out"
	eval "$edit"
	kill -HUP "$pid"
	printf '{"id":"2","path":"%s"}\n' "$msg" >&5
	exec 5>&-
	wait "$pid"
}

@test "each rule fires on its message and not on the twin" {
	local r
	for r in executable_disguised executable double_extension \
	    filename_rtlo script_file shortcut_file disk_image onenote_file \
	    office_macro pdf_javascript pdf_openaction pdf_launch \
	    html_smuggling archive_encrypted archive_password_in_text \
	    archive_depth bulk_header; do
		fires "$r"
	done
	fires office_macro office_macro_ole
	fires executable executable_uuencoded
	fires hash_blocklist hash_blocklist --hash-blocklist "$BATS_FILE_TMPDIR/eicar.list"
}

@test "what defeats scanning by design is at least suspicious, never clean" {
	local m
	for m in executable_disguised double_extension filename_rtlo \
	    html_smuggling archive_password_in_text archive_depth; do
		scan "$CORPUS/$m.eml"
		[ "$(jfield "$T/out" scan.verdict)" = suspicious ] ||
			{ echo "$m: $(jfield "$T/out" scan.verdict)"; return 1; }
	done
}

@test "EICAR inside a zip inside a zip: malicious, found at its member path" {
	scan "$CORPUS/hash_blocklist.eml" --hash-blocklist "$BATS_FILE_TMPDIR/eicar.list"
	[ "$(jfield "$T/out" scan.verdict)" = malicious ]
	[ "$(jfield "$T/out" scan.attachments.2.part)" = "2/inner.zip/eicar.txt" ]
	[ "$(jfield "$T/out" scan.attachments.2.sha256)" = "$EICAR_SHA" ]
	[ "$(jfield "$T/out" scan.attachments.2.attributes)" = '["blocklisted"]' ]
	[ "$(jfield "$T/out" scan.headers.0)" = "X-Sluice-Verdict: malicious score=100" ]
	[ "$(jfield "$T/out" scan.headers.1)" = "X-Sluice-Reasons: hash_blocklist" ]
}

@test "clamav-testfiles: clam.exe found by hash in every archive format and TNEF, and in a zip in a zip" {
	local f list=$T/clam.list
	sha256sum "$CLAMDIR/clam.exe" | cut -d' ' -f1 >"$list"
	for f in clam.zip clam.7z clam.tar.gz clam.cab clam.exe.bz2 \
	    clam.bz2.zip clam.newc.cpio clam.odc.cpio clam.tnef; do
		python3 - "$CLAMDIR/$f" "$T/m.eml" <<'PY'
import email.message, io, sys, zipfile
data = open(sys.argv[1], "rb").read()
b = io.BytesIO()
with zipfile.ZipFile(b, "w") as z:
    z.writestr("nested/" + sys.argv[1].rsplit("/", 1)[1], data)
m = email.message.EmailMessage()
m["From"] = "a@example.org"
m.set_content("see attached")
m.add_attachment(data, maintype="application", subtype="octet-stream",
                 filename=sys.argv[1].rsplit("/", 1)[1])
m.add_attachment(b.getvalue(), maintype="application", subtype="zip",
                 filename="wrapped.zip")
open(sys.argv[2], "wb").write(bytes(m))
PY
		scan "$T/m.eml" --hash-blocklist "$list"
		[ "$(jfield "$T/out" scan.verdict)" = malicious ] ||
			{ echo "$f: $(jfield "$T/out" scan.verdict)"; return 1; }
		# once as an attachment, once wrapped in wrapped.zip
		[ "$(rules)" = "$(printf 'executable\nhash_blocklist')" ] ||
			{ echo "$f:"; rules; return 1; }
		[ "$(grep -o '"rule":"hash_blocklist"' "$T/out" | wc -l)" = 2 ] ||
			{ echo "$f: not found twice"; return 1; }
		grep -q '"part":"3/nested/'"$f"'/' "$T/out" ||
			{ echo "$f: no member under 3/nested/$f/"; return 1; }
	done
}

@test "a zip bomb (10 GiB of zeros nested 42.zip-style) is a reason, within 64 MiB" {
	python3 - "$T/bomb.eml" <<'PY'
import email.message, io, sys, zipfile
def z(members):
    b = io.BytesIO()
    with zipfile.ZipFile(b, "w", zipfile.ZIP_DEFLATED) as f:
        for n, d in members:
            f.writestr(n, d)
    return b.getvalue()
# 16 MiB of zeros, then 16 of those, then 40 of those: 10 GiB
leaf = z([("zeros.bin", bytes(16 << 20))])
mid = z([("l%d.zip" % i, leaf) for i in range(16)])
top = z([("m%d.zip" % i, mid) for i in range(40)])
m = email.message.EmailMessage()
m["From"] = "a@example.org"
m.set_content("bomb")
m.add_attachment(top, maintype="application", subtype="zip",
                 filename="42.zip")
open(sys.argv[1], "wb").write(bytes(m))
PY
	export ASAN_OPTIONS="$ASAN_OPTIONS:quarantine_size_mb=4"
	run -0 maxrss_kib mail-scan "$T/bomb.eml"
	echo "max RSS ${output} KiB"
	[ "$output" -lt 65536 ]
	rules | grep -qx archive_bomb
	[ "$(jfield "$T/out" scan.verdict)" = suspicious ]
	[ "$(jfield "$T/out" scan.attributes)" = '["unscanned"]' ]
}

@test "a MIME nesting bomb (100000 levels) is a reason, within 64 MiB" {
	python3 -c 'import sys
n = 100000
with open(sys.argv[1], "w") as f:
    f.write("From: a@example.org\n")
    for i in range(n):
        f.write("Content-Type: multipart/mixed; boundary=b%d\n\n--b%d\n" % (i, i))
    f.write("Content-Type: text/plain\n\nbottom\n")' "$T/nest.eml"
	export ASAN_OPTIONS="$ASAN_OPTIONS:quarantine_size_mb=4"
	run -0 maxrss_kib mail-scan "$T/nest.eml"
	echo "max RSS ${output} KiB"
	[ "$output" -lt 65536 ]
	rules | grep -qx mime_depth
	[ "$(jfield "$T/out" scan.verdict)" = suspicious ]
	# the limit is a flag
	scan "$T/nest.eml" --max-depth 1000 --max-parts 1000000
	rules | grep -qx mime_depth
	grep -q 'nested past depth 1000' "$T/out"
}

@test "a 50 MB message scans within 64 MiB" {
	python3 - "$T/big.eml" <<'PY'
import email.message, os, sys
m = email.message.EmailMessage()
m["From"] = "a@example.org"
m.set_content("big")
m.add_attachment(os.urandom(24 << 20), maintype="application",
                 subtype="octet-stream", filename="a.bin")
m.add_attachment(os.urandom(12 << 20), maintype="application",
                 subtype="octet-stream", filename="b.bin")
open(sys.argv[1], "wb").write(bytes(m))
PY
	[ "$(stat -c %s "$T/big.eml")" -gt 50000000 ]
	export ASAN_OPTIONS="$ASAN_OPTIONS:quarantine_size_mb=4"
	run -0 maxrss_kib mail-scan "$T/big.eml"
	echo "max RSS ${output} KiB"
	[ "$output" -lt 65536 ]
	[ "$(jfield "$T/out" scan.attachments.0.size)" = $((24 << 20)) ]
	[ "$(jfield "$T/out" scan.attachments.1.size)" = $((12 << 20)) ]
	[ "$(jfield "$T/out" scan.verdict)" = clean ]
}

@test "the archive limits are flags: members, expand, ratio" {
	scan "$CORPUS/archive_depth.eml" --max-archive-depth 8
	! rules | grep -qx archive_depth
	scan "$CORPUS/archive_depth-twin.eml" --max-archive-depth 0
	rules | grep -qx archive_depth
	python3 -c 'import io, sys, zipfile, email.message
b = io.BytesIO()
with zipfile.ZipFile(b, "w", zipfile.ZIP_DEFLATED) as z:
    for i in range(20):
        z.writestr("f%d.txt" % i, bytes(300000))
m = email.message.EmailMessage()
m["From"] = "a@example.org"
m.set_content("x")
m.add_attachment(b.getvalue(), maintype="application", subtype="zip", filename="z.zip")
open(sys.argv[1], "wb").write(bytes(m))' "$T/z.eml"
	# zeros: each member expands a thousand times
	scan "$T/z.eml"
	[ "$(rules)" = archive_bomb ]
	grep -q 'expands over 100 times its size' "$T/out"
	scan "$T/z.eml" --max-ratio 100000
	[ "$(rules)" = "" ]
	[ "$(jfield "$T/out" scan.verdict)" = clean ]
	scan "$T/z.eml" --max-ratio 100000 --max-archive-members 5
	[ "$(rules)" = archive_members ]
	[ "$(jfield "$T/out" scan.attributes)" = '["unscanned"]' ]
	scan "$T/z.eml" --max-ratio 100000 --max-expand 1M
	[ "$(rules)" = archive_bomb ]
	grep -q 'over 1048576 bytes expanded' "$T/out"
}

@test "the password from the text opens the archive, whose members are then listed" {
	scan "$CORPUS/archive_password_in_text.eml"
	[ "$(jfield "$T/out" scan.attachments.1.part)" = "2/report.txt" ]
	[ "$(jfield "$T/out" scan.attachments.0.attributes)" = '["encrypted"]' ]
	scan "$CORPUS/archive_password_in_text-twin.eml"
	[ "$(jfield "$T/out" scan.attachments.1)" = MISSING ]
}

@test "X-Sluice- fields from outside are listed for removal" {
	scan "$CORPUS/remove.eml"
	[ "$(jfield "$T/out" scan.remove)" = '[{"field":"X-Sluice-Verdict","index":3},{"field":"X-Sluice-Reasons","index":4}]' ]
	[ "$(jfield "$T/out" scan.headers)" = '["X-Sluice-Verdict: clean score=0"]' ]
	scan "$CORPUS/bulk_header.eml"
	[ "$(jfield "$T/out" scan.remove)" = '[]' ]
}

@test "records on stdin: the auth object's DMARC fail is a spoof; unknown keys pass" {
	printf '{"id":"a","path":"%s","auth":{"dmarc":{"result":"fail","domain":"example.org"}},"x":1}\n' \
	    "$CORPUS/bulk_header-twin.eml" >"$T/in"
	run -0 --separate-stderr bash -c 'mail-scan <"$1" >"$2"' _ "$T/in" "$T/out"
	[ "$(jfield "$T/out" scan.verdict)" = spoof ]
	[ "$(jfield "$T/out" scan.reasons.0.detail)" = "DMARC fail for example.org" ]
	[ "$(jfield "$T/out" x)" = 1 ]
	[ "$(jfield "$T/out" auth.dmarc.result)" = fail ]
}

@test "a record whose message is gone goes on without scan, and says why" {
	printf '{"id":"gone","path":"%s/nosuch"}\n' "$T" >"$T/in"
	run -0 --separate-stderr bash -c 'mail-scan <"$1"' _ "$T/in"
	[ "$output" = "{\"id\":\"gone\",\"path\":\"$T/nosuch\"}" ]
	[ "$stderr" = "mail-scan: gone: open $T/nosuch: No such file or directory" ]
}

@test "the block list: bad lines are bad config; SIGHUP reads it again" {
	printf 'nothex\n' >"$T/bad.list"
	run -100 --separate-stderr mail-scan --hash-blocklist "$T/bad.list" "$CORPUS/remove.eml"
	[ "$stderr" = "mail-scan: $T/bad.list: line 1: not a SHA-256 in hex" ]
	run -100 --separate-stderr mail-scan --hash-blocklist "$T/none.list" "$CORPUS/remove.eml"
	[ "$stderr" = "mail-scan: $T/none.list: No such file or directory" ]

	printf '# empty for now\n\n' >"$T/live.list"
	# the list is read again before the next record
	hup_twice "$CORPUS/hash_blocklist.eml" \
	    'echo "$EICAR_SHA  # EICAR" >>"$T/live.list"' \
	    --hash-blocklist "$T/live.list"
	[ "$(cat "$T/live.err")" = "mail-scan: reload --hash-blocklist: 1 hashes" ]
	[ "$(jfield "$T/live.out" scan.verdict 0)" = clean ]
	[ "$(jfield "$T/live.out" scan.verdict 1)" = malicious ]
}

@test "bad usage exits 100 with the usage line" {
	run -100 --separate-stderr mail-scan --max-depth 0
	[ "${stderr_lines[0]}" = "mail-scan: --max-depth: 0 is out of range (1 to 1000)" ] ||
		[[ "${stderr_lines[0]}" == "mail-scan: "*max-depth* ]]
	[[ "${stderr_lines[1]}" == "usage: mail-scan [--hash-blocklist FILE]"* ]]
	run -100 --separate-stderr mail-scan --suspicious-score 20 --malicious-score 10
	[ "${stderr_lines[0]}" = "mail-scan: --suspicious-score is over --malicious-score" ]
	run -0 mail-scan --help
	[[ "$output" == "usage: mail-scan "* ]]
}

@test "a full disk on stdout is temporary, and says so" {
	run -111 --separate-stderr bash -c 'mail-scan "$1" >/dev/full' _ "$CORPUS/remove.eml"
	[ "$stderr" = "mail-scan: write stdout: No space left on device" ]
}

@test "every MIME message of ../shared/conformance scans, one record each" {
	local conf=${SLUICE_CONFORMANCE:-$TOP/../../shared/conformance}
	[ -d "$conf" ] || conf=/work/shared/conformance
	find "$conf"/mime-* -type f \( -name '*.eml' -o -name '*.raw' -o -name 'msg_*.txt' \) |
		sort >"$T/files"
	[ "$(wc -l <"$T/files")" = 190 ]
	run -0 --separate-stderr bash -c 'xargs -d "\n" mail-scan <"$1" >"$2"' _ "$T/files" "$T/out"
	[ "$stderr" = "" ]
	[ "$(wc -l <"$T/out")" = 190 ]
	[ "$(grep -c '"scan":{"verdict":"' "$T/out")" = 190 ]
}

# The tables of tests/data/scan, as the URL and BEC rules want them.
TABLES=(--protect-domains "$S/protect-domains" --own-domains "$S/own-domains"
    --protect-names "$S/protect-names" --domain-blocklist "$S/domain-blocklist"
    --rules "$S/rules")

@test "each URL, impersonation and spam rule fires on its message and not on the twin" {
	local r
	for r in url.ip_literal url.punycode url.mixed_script url.text_mismatch \
	    url.lookalike url.shortener url.data url.javascript url.userinfo \
	    url.blocklist bec.display_name bec.lookalike_from bec.reply_to \
	    bec.reply_to_freemail bec.urgency rules.cheap_meds \
	    rules.subject_winner bulk_sender; do
		fires "$r" "$r" "${TABLES[@]}"
	done
}

@test "URLs are listed with their host, where they were found, and the rules that fired" {
	scan "$CORPUS/url.lookalike.eml" "${TABLES[@]}"
	[ "$(jfield "$T/out" scan.urls)" = '[{"url":"https://www.paypa1.com/signin","host":"www.paypa1.com","source":"text","rules":["url.lookalike"]}]' ]
	[ "$(jfield "$T/out" scan.reasons.0.detail)" = "host www.paypa1.com looks like paypal.com (skeleton)" ]
	# phishing is at least suspicious, as is a block list hit
	[ "$(jfield "$T/out" scan.verdict)" = suspicious ]
	scan "$CORPUS/url.blocklist.eml" "${TABLES[@]}"
	[ "$(jfield "$T/out" scan.verdict)" = suspicious ]
	[ "$(jfield "$T/out" scan.urls.0.rules)" = '["url.blocklist"]' ]
	# the link text is kept out of the record; the href is the URL
	scan "$CORPUS/url.text_mismatch.eml"
	[ "$(jfield "$T/out" scan.urls.0.url)" = "http://evil.example/x" ]
	[ "$(jfield "$T/out" scan.urls.0.source)" = href ]
	# an IP literal alone is a reason, not a verdict
	scan "$CORPUS/url.ip_literal.eml"
	[ "$(jfield "$T/out" scan.verdict)" = clean ]
	[ "$(jfield "$T/out" scan.score)" = 2 ]
	# without --protect-domains no lookalike
	scan "$CORPUS/url.lookalike.eml"
	[ "$(jfield "$T/out" scan.urls.0.rules)" = '[]' ]
}

@test "URLs of text attachments and of HTML files sent as octets" {
	scan "$CORPUS/url_attachment.eml"
	[ "$(jfield "$T/out" scan.urls)" = '[{"url":"http://192.0.2.8/a","host":"192.0.2.8","source":"attachment","rules":["url.ip_literal"]},{"url":"http://192.0.2.9/b","host":"192.0.2.9","source":"attachment","rules":["url.ip_literal"]}]' ]
	scan "$CORPUS/url_attachment-twin.eml"
	[ "$(jfield "$T/out" scan.urls)" = '[]' ]
}

@test "BEC: a protected name from outside is bec and suspicious; from our own domain it is not" {
	scan "$CORPUS/bec.display_name.eml" "${TABLES[@]}"
	[ "$(jfield "$T/out" scan.verdict)" = suspicious ]
	[ "$(jfield "$T/out" scan.attributes)" = '["bec"]' ]
	[ "$(jfield "$T/out" scan.reasons.0.detail)" = '"Jane Doe" is protected, from freemail.example' ]
	scan "$CORPUS/bec.display_name-own.eml" "${TABLES[@]}"
	[ "$(jfield "$T/out" scan.verdict)" = clean ]
	[ "$(rules)" = "" ]
	# a name that only looks like it (a zero for an o)
	scan "$CORPUS/bec.display_name-lookalike.eml" "${TABLES[@]}"
	[ "$(rules)" = bec.display_name ]
	scan "$CORPUS/bec.lookalike_from.eml" "${TABLES[@]}"
	[ "$(jfield "$T/out" scan.reasons.0.detail)" = "s1uice.test looks like sluice.test (skeleton)" ]
	[ "$(jfield "$T/out" scan.verdict)" = suspicious ]
}

@test "BEC: urgency alone is a weak signal, never a verdict; with a free-mail Reply-To it adds up to --bec-score" {
	scan "$CORPUS/bec.urgency.eml" "${TABLES[@]}"
	[ "$(jfield "$T/out" scan.verdict)" = clean ]
	[ "$(jfield "$T/out" scan.attributes)" = '[]' ]
	[ "$(jfield "$T/out" scan.reasons.0.detail)" = '"wire transfer"' ]
	scan "$CORPUS/bec.reply_to_freemail.eml" "${TABLES[@]}"
	[ "$(jfield "$T/out" scan.verdict)" = clean ]
	scan "$CORPUS/bec.reply_to_freemail.eml" "${TABLES[@]}" --bec-score 3
	[ "$(jfield "$T/out" scan.verdict)" = suspicious ]
	[ "$(jfield "$T/out" scan.attributes)" = '["bec"]' ]
}

@test "BEC: a DMARC fail for our own domain is spoof_own; for another domain only dmarc_fail" {
	printf '{"id":"a","path":"%s","auth":{"dmarc":{"result":"fail","domain":"sluice.test"}}}\n' \
	    "$CORPUS/bulk_header-twin.eml" >"$T/in"
	printf '{"id":"b","path":"%s","auth":{"dmarc":{"result":"fail","domain":"example.org"}}}\n' \
	    "$CORPUS/bulk_header-twin.eml" >>"$T/in"
	run -0 --separate-stderr bash -c 'mail-scan "${@:3}" <"$1" >"$2"' _ "$T/in" "$T/out" "${TABLES[@]}"
	[ "$(jfield "$T/out" scan.reasons.1.rule 0)" = bec.spoof_own ]
	[ "$(jfield "$T/out" scan.reasons.1.detail 0)" = "DMARC fail for our own sluice.test" ]
	[ "$(jfield "$T/out" scan.verdict 0)" = suspicious ]
	[ "$(jfield "$T/out" scan.reasons 1)" = '[{"rule":"dmarc_fail","score":5,"detail":"DMARC fail for example.org"}]' ]
	[ "$(jfield "$T/out" scan.verdict 1)" = spoof ]
}

@test "spam: the rules file scores; a bulk sender is bulk" {
	scan "$CORPUS/rules.cheap_meds.eml" "${TABLES[@]}"
	[ "$(jfield "$T/out" scan.reasons)" = '[{"rule":"rules.cheap_meds","score":4,"detail":"Cheap meds in the text"}]' ]
	[ "$(jfield "$T/out" scan.verdict)" = clean ]
	scan "$CORPUS/rules.cheap_meds.eml" "${TABLES[@]}" --spam-score 4
	[ "$(jfield "$T/out" scan.verdict)" = spam ]
	scan "$CORPUS/bulk_sender.eml"
	[ "$(jfield "$T/out" scan.verdict)" = bulk ]
}

@test "the rules file: a bad line is exit 100 with FILE:LINE: reason" {
	local m=$CORPUS/remove.eml
	badrule() {
		printf '# rules\n\n%s\n' "$1" >"$T/r"
		run -100 --separate-stderr mail-scan --rules "$T/r" "$m"
		[ "$stderr" = "mail-scan: $T/r:3: $2" ] || { echo "$1: $stderr"; return 1; }
	}
	badrule 'a 1 body /x(/ d' "regex at offset 2: missing closing parenthesis"
	badrule 'a 1 body /x/q d' "flag q: not one of i m s x"
	badrule 'a 1 body /x d' "regex not closed by /"
	badrule 'a 1 body /x/' "no description"
	badrule 'a 101 body /x/ d' 'score "101": not an integer from -100 to 100'
	badrule 'a 1 subject /x/ d' 'target "subject": not body or header:NAME'
	badrule 'a 1 body x d' "no /regex/"
	badrule 'a$ 1 body /x/ d' 'id "a$": only letters, digits, _ . -'
	printf 'a 1 body /x/ d\na 2 body /y/ e\n' >"$T/r"
	run -100 --separate-stderr mail-scan --rules "$T/r" "$m"
	[ "$stderr" = "mail-scan: $T/r:2: id a given twice" ]
	run -100 --separate-stderr mail-scan --rules "$T/none" "$m"
	[ "$stderr" = "mail-scan: $T/none: No such file or directory" ]
}

@test "a runaway pattern stops at the match limit: no match, a warning, the record goes on" {
	run -0 --separate-stderr mail-scan --rules "$S/redos.rules" "$CORPUS/redos.eml"
	printf '%s\n' "$output" >"$T/out"
	[ "$(jfield "$T/out" scan.reasons)" = '[]' ]
	[ "$stderr" = "mail-scan: warning: redos.eml: a body rule stopped at its match limit" ]
}

@test "--uribl: a listed registrable domain or IPv4 address; 127.0.0.1 is a refusal" {
	local o=(--dns "127.0.0.1:$DNSPORT" --uribl uribl.test)
	fires url.uribl url.uribl "${o[@]}"
	scan "$CORPUS/url.uribl.eml" "${o[@]}"
	[ "$(jfield "$T/out" scan.urls.0.rules)" = '["url.uribl"]' ]
	[ "$(jfield "$T/out" scan.reasons.0.detail)" = "listed.example listed by uribl.test (127.0.0.2)" ]
	[ "$(jfield "$T/out" scan.verdict)" = suspicious ]
	scan "$CORPUS/url.ip_literal.eml" "${o[@]}"
	[ "$(rules)" = "$(printf 'url.ip_literal\nurl.uribl')" ]
	printf 'From: a@example.org\n\nhttp://www.refused.example/\n' >"$T/m.eml"
	scan "$T/m.eml" "${o[@]}"
	[ "$(rules)" = "" ]
}

@test "--dnsbl: the client IP, IPv4 and IPv6; refusals are no listing; a failed lookup says so" {
	local m=$CORPUS/bulk_header-twin.eml ip
	for ip in 192.0.2.99 192.0.2.1 192.0.2.2 192.0.2.50 2001:db8::99 2001:db8::1; do
		printf '{"id":"%s","path":"%s","client":{"ip":"%s"}}\n' "$ip" "$m" "$ip"
	done >"$T/in"
	run -0 --separate-stderr bash -c 'mail-scan --dns "127.0.0.1:$3" --dnsbl dnsbl.test <"$1" >"$2"' _ "$T/in" "$T/out" "$DNSPORT"
	[ "$stderr" = "" ]
	[ "$(jfield "$T/out" scan.reasons 0)" = '[{"rule":"dnsbl","score":5,"detail":"192.0.2.99 listed by dnsbl.test (127.0.0.2)"}]' ]
	[ "$(jfield "$T/out" scan.verdict 0)" = spam ]
	[ "$(jfield "$T/out" scan.reasons 1)" = '[]' ]
	[ "$(jfield "$T/out" scan.reasons 2)" = '[]' ]
	[ "$(jfield "$T/out" scan.reasons 3)" = '[]' ]
	[ "$(jfield "$T/out" scan.reasons.0.detail 4)" = "2001:db8::99 listed by dnsbl.test (127.0.0.3)" ]
	[ "$(jfield "$T/out" scan.reasons 5)" = '[]' ]
	head -1 "$T/in" >"$T/in1"
	run -0 --separate-stderr bash -c 'mail-scan --dns "127.0.0.1:$3" --dnsbl down.test <"$1" >"$2"' _ "$T/in1" "$T/out" "$DNSPORT"
	[ "$(jfield "$T/out" scan.reasons)" = '[{"rule":"dns_tempfail","score":0,"detail":"1 client block list lookups failed"}]' ]
	[ "$(jfield "$T/out" scan.verdict)" = clean ]
}

@test "the tables: a missing one is bad config; SIGHUP reads them again" {
	run -100 --separate-stderr mail-scan --protect-names "$T/none" "$CORPUS/remove.eml"
	[ "$stderr" = "mail-scan: $T/none: No such file or directory" ]
	printf '# nobody yet\n' >"$T/names"
	hup_twice "$CORPUS/bec.display_name.eml" 'echo "Jane Doe" >>"$T/names"' \
	    --protect-names "$T/names"
	[ "$(cat "$T/live.err")" = "mail-scan: reload tables: 0 rules, 0 protected domains, 1 protected names" ]
	[ "$(jfield "$T/live.out" scan.verdict 0)" = clean ]
	[ "$(jfield "$T/live.out" scan.verdict 1)" = suspicious ]
}
