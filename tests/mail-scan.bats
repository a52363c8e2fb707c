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

setup_file() {
	export CORPUS=$BATS_FILE_TMPDIR/corpus
	python3 "$BATS_TEST_DIRNAME/scan-corpus.py" "$CORPUS"
	echo "$EICAR_SHA" >"$BATS_FILE_TMPDIR/eicar.list"
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
	mkfifo "$T/fifo"
	mail-scan --hash-blocklist "$T/live.list" <"$T/fifo" >"$T/live.out" 2>"$T/live.err" &
	local pid=$!
	PIDS="$PIDS $pid"
	exec 5>"$T/fifo"
	printf '{"id":"1","path":"%s"}\n' "$CORPUS/hash_blocklist.eml" >&5
	wait_for grep -q '"id":"1"' "$T/live.out"
	echo "$EICAR_SHA  # EICAR" >>"$T/live.list"
	# the list is read again before the next record
	kill -HUP "$pid"
	printf '{"id":"2","path":"%s"}\n' "$CORPUS/hash_blocklist.eml" >&5
	exec 5>&-
	wait "$pid"
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
