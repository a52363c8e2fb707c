#!/usr/bin/env bats
# dmarc-report: RFC 9990 aggregate reports from mail-auth records.
load helpers

XSD=$TOP/tests/data/dmarc/aggregate.xsd

# rec ID TIME IP DOMAIN POLICY_DOMAIN RESULT DISPOSITION DKIM_AL SPF_AL [T] [RUA]
rec() {
	local t=${10:-n} rua=${11-'"mailto:agg@'$5'"'}
	local testing=false
	[ "$t" = y ] && testing=true
	printf '{"id":"%s","received_at":"%s","client":{"ip":"%s"},"auth":{"spf":{"result":"pass","domain":"bounce.%s","identity":"mailfrom"},"dkim":[{"result":"fail","d":"other.example","s":"s2"},{"result":"pass","d":"%s","s":"s1"}],"dmarc":{"result":"%s","domain":"%s","policy_domain":"%s","org_domain":"%s","policy":"reject","disposition":"%s","source":"p","testing":%s,"spf_aligned":%s,"dkim_aligned":%s,"dkim_domain":null,"reason":"x","published":{"adkim":"r","aspf":"s","p":"reject","sp":"quarantine","np":"reject","psd":"u","t":"%s","fo":"1","rua":[%s]}}}}\n' \
	    "$1" "$2" "$3" "$4" "$4" "$6" "$4" "$5" "$5" "$7" "$testing" "$9" "$8" "$t" "$rua"
}

records() {
	{
		rec a1 2026-05-01T01:00:00Z 192.0.2.1 own.example own.example pass none true true
		rec a2 2026-05-01T02:00:00Z 192.0.2.1 own.example own.example pass none true true
		rec a3 2026-05-01T03:00:00Z 2001:db8::1 sub.own.example own.example fail reject false false
		rec a4 2026-05-01T04:00:00Z 192.0.2.9 test.example test.example fail quarantine false false y
		rec a5 2026-05-02T04:00:00Z 192.0.2.1 own.example own.example pass none true true
		rec a6 2026-05-01T05:00:00Z 192.0.2.1 norua.example norua.example fail reject false false n ''
		rec a7 2026-05-01T06:00:00Z 192.0.2.1 own.example own.example none none false false
	} >"$T/in.jsonl"
}

@test "one report per policy domain, rows grouped and counted, valid against the RFC 9990 schema" {
	records
	mkdir "$T/out"
	run -0 --separate-stderr dmarc-report --org-name 'Rx & <Co>' \
	    --email dmarc@rx.example --extra-contact 'call "us"' \
	    --begin 2026-05-01T00:00:00Z --end 2026-05-02T00:00:00Z \
	    --out "$T/out" "$T/in.jsonl"
	[ "$stderr" = "" ]
	run ls "$T/out"
	[ "${#lines[@]}" -eq 2 ]
	[[ ${lines[0]} =~ ^rx\.example!own\.example!1777593600!1777680000![0-9a-f]{16}\.xml$ ]]
	[[ ${lines[1]} =~ ^rx\.example!test\.example!1777593600!1777680000![0-9a-f]{16}\.xml$ ]]
	for f in "$T"/out/*.xml; do
		xmllint --noout --schema "$XSD" "$f"
	done
	/usr/bin/python3 - "$T"/out/rx.example\!own.example\!* <<'PY'
import sys, xml.etree.ElementTree as ET
ns = {"d": "urn:ietf:params:xml:ns:dmarc-2.0"}
r = ET.parse(sys.argv[1]).getroot()
assert r.find("d:report_metadata/d:org_name", ns).text == "Rx & <Co>"
assert r.find("d:report_metadata/d:extra_contact_info", ns).text == 'call "us"'
assert r.find("d:policy_published/d:domain", ns).text == "own.example"
assert r.find("d:policy_published/d:aspf", ns).text == "s"
assert r.find("d:policy_published/d:sp", ns).text == "quarantine"
recs = r.findall("d:record", ns)
assert len(recs) == 2, len(recs)
got = sorted((x.find("d:row/d:source_ip", ns).text, x.find("d:row/d:count", ns).text,
	x.find("d:row/d:policy_evaluated/d:disposition", ns).text,
	x.find("d:identifiers/d:header_from", ns).text) for x in recs)
assert got == [("192.0.2.1", "2", "none", "own.example"),
	("2001:db8::1", "1", "reject", "sub.own.example")], got
# passing signatures first
d = recs[0].findall("d:auth_results/d:dkim/d:result", ns)
assert [x.text for x in d] == ["pass", "fail"], [x.text for x in d]
assert recs[0].find("d:auth_results/d:spf/d:domain", ns).text == "bounce.own.example"
PY
	grep -q '<type>policy_test_mode</type>' "$T"/out/rx.example\!test.example\!*
}

@test "stdout by default; records outside the period, without rua or without a pass or fail are left out" {
	records
	run -0 --separate-stderr dmarc-report --org-name Rx --email d@rx.example \
	    --begin 1777593600 --end 1777680000 "$T/in.jsonl"
	[ "$(grep -c '<feedback' <<<"$output")" -eq 2 ]
	[ "$(grep -c '<record>' <<<"$output")" -eq 3 ]
	! grep -q norua <<<"$output"
	# --all takes a5 (next day) too: own.example rows 192.0.2.1 count 3
	run -0 dmarc-report --org-name Rx --email d@rx.example --all "$T/in.jsonl"
	grep -q '<count>3</count>' <<<"$output"
	grep -q '<end>1777694401</end>' <<<"$output"
}

@test "the same input gives the same report name (a report sent again keeps its name)" {
	records
	mkdir "$T/o1" "$T/o2"
	dmarc-report --org-name Rx --email d@rx.example --begin 2026-05-01T00:00:00Z --out "$T/o1" "$T/in.jsonl"
	dmarc-report --org-name Rx --email d@rx.example --begin 2026-05-01T00:00:00Z --out "$T/o2" <"$T/in.jsonl"
	[ "$(ls "$T/o1")" = "$(ls "$T/o2")" ]
	cmp "$T/o1/$(ls "$T/o1" | head -1)" "$T/o2/$(ls "$T/o2" | head -1)"
}

@test "bad lines: an error with the line number each, the good ones reported, exit 100" {
	records
	{
		head -2 "$T/in.jsonl"
		echo '{"id":"x",'
		echo '[1,2]'
		echo '{"id":"y","received_at":"yesterday","auth":{}}'
		rec z 2026-05-01T01:00:00Z not-an-ip own.example own.example pass none true true
		tail -n +3 "$T/in.jsonl"
	} >"$T/bad.jsonl"
	run -100 --separate-stderr dmarc-report --org-name Rx --email d@rx.example \
	    --begin 2026-05-01T00:00:00Z "$T/bad.jsonl"
	[ "${stderr_lines[0]}" = "dmarc-report: $T/bad.jsonl:3: '[' or '{' expected near end of file" ] ||
	    [[ ${stderr_lines[0]} == "dmarc-report: $T/bad.jsonl:3: "* ]]
	[ "${stderr_lines[1]}" = "dmarc-report: $T/bad.jsonl:4: not a JSON object" ]
	[ "${stderr_lines[2]}" = "dmarc-report: $T/bad.jsonl:5: y: no RFC 3339 \"received_at\"" ]
	[ "${stderr_lines[3]}" = "dmarc-report: $T/bad.jsonl:6: z: no IP address at \"client.ip\"" ]
	[ "${stderr_lines[4]}" = "dmarc-report: 4 bad records" ]
	[ "$(grep -c '<feedback' <<<"$output")" -eq 2 ]
	grep -q '<count>2</count>' <<<"$output"
}

@test "XML specials in the data are escaped and the report stays valid" {
	rec '<&>' 2026-05-01T01:00:00Z 192.0.2.1 'a<b>&c.example' 'own.example' pass none true true >"$T/x.jsonl"
	run -0 dmarc-report --org-name "O'Neil & Sons" --email 'd@rx.example' \
	    --begin 2026-05-01T00:00:00Z "$T/x.jsonl"
	printf '%s\n' "$output" >"$T/x.xml"
	xmllint --noout --schema "$XSD" "$T/x.xml"
	grep -q '<header_from>a&lt;b&gt;&amp;c.example</header_from>' "$T/x.xml"
	grep -q "<org_name>O&apos;Neil &amp; Sons</org_name>" "$T/x.xml"
}

@test "bad usage exits 100 with the synopsis; a full stdout exits 111" {
	run -100 --separate-stderr dmarc-report --email d@rx.example
	[ "${stderr_lines[0]}" = "dmarc-report: --org-name and --email are required" ]
	[[ ${stderr_lines[1]} == "usage: dmarc-report --org-name NAME"* ]]
	run -100 dmarc-report --org-name R --email d@rx.example --begin nonsense
	run -100 dmarc-report --org-name R --email d@rx.example --all --begin 0
	run -100 dmarc-report --org-name R --email nodomain --out "$T"
	records
	run -111 bash -c 'dmarc-report --org-name R --email d@rx.example --begin 2026-05-01T00:00:00Z "$1" >/dev/full' _ "$T/in.jsonl"
}
