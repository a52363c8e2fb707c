#!/usr/bin/env bats
# mail-auth.bats: mail-auth against a real DNS server (nsd on loopback)
# serving the SPF, DKIM and DMARC records of tests/data/auth.
load helpers

setup_file() {
	local d=$BATS_FILE_TMPDIR/dns
	mkdir -p "$d"
	cp "$TOP"/tests/data/auth/*.zone "$d/"
	DNSPORT=$(free_port)
	"$TOP/tests/dns-server" start "$d" "$DNSPORT" "$d"/*.zone >/dev/null
	export DNSPORT
}

teardown_file() {
	"$TOP/tests/dns-server" stop "$BATS_FILE_TMPDIR/dns"
}

A=$TOP/tests/data/auth

# auth ARGS...: mail-auth with the test resolver, records into $T/out.
auth() {
	run --separate-stderr mail-auth --dns "127.0.0.1:$DNSPORT" \
	    --authserv-id mx.sluice.test "$@"
	printf '%s\n' "$output" >"$T/out"
}

f() { jfield "$T/out" "$@"; }

@test "usage: bad values are errors, exit 100" {
	run -100 --separate-stderr mail-auth --lookback-hops x
	[[ "$stderr" == *"mail-auth: "* ]]
	run -100 --separate-stderr mail-auth --exempt a.example
	[ "${stderr_lines[0]}" = "mail-auth: --exempt goes with --check" ]
	run -100 --separate-stderr mail-auth --bogus
	run -0 mail-auth --help
	[[ "$output" == "usage: mail-auth "* ]]
}

@test "a file with the envelope of the flags: SPF pass, one record" {
	auth --ip 192.0.2.1 --mail-from a@example.org --helo mx.example.org "$A/plain.eml"
	[ "$status" -eq 0 ]
	[ "${#lines[@]}" -eq 1 ]
	[ "$(f auth.spf.result)" = pass ]
	[ "$(f auth.spf.domain)" = example.org ]
	[ "$(f auth.spf.identity)" = mailfrom ]
	[ "$(f auth.spf.mechanism)" = "ip4:192.0.2.0/24" ]
	[ "$(f auth.spf.helo.result)" = pass ]
	[ "$(f auth.spf.helo.domain)" = mx.example.org ]
	[[ "$(f auth.authentication_results)" == "mx.sluice.test;"*"spf=pass smtp.mailfrom=a@example.org"* ]]
	[ "$(f path)" = "$A/plain.eml" ]
}

@test "SPF fail, softfail, permerror, IPv6, HELO identity for <>" {
	auth --ip 203.0.113.9 --mail-from a@example.org --helo mx.example.org "$A/plain.eml"
	[ "$(f auth.spf.result)" = fail ]
	[ "$(f auth.spf.mechanism)" = "-all" ]
	[ "$(f auth.spf.helo.result)" = fail ]
	auth --ip 203.0.113.9 --mail-from a@soft.example.org --helo x "$A/plain.eml"
	[ "$(f auth.spf.result)" = softfail ]
	auth --ip 192.0.2.1 --mail-from a@broken.example.org --helo x "$A/plain.eml"
	[ "$(f auth.spf.result)" = permerror ]
	[[ "$(f auth.spf.problem)" == *"broken.example.org"* ]]
	auth --ip 192.0.2.1 --mail-from a@loop.example.org --helo x "$A/plain.eml"
	[ "$(f auth.spf.result)" = permerror ]
	auth --ip 2001:db8::25 --mail-from a@example.org --helo x "$A/plain.eml"
	[ "$(f auth.spf.result)" = pass ]
	auth --ip 192.0.2.1 --mail-from '' --helo mx.example.org "$A/plain.eml"
	[ "$(f auth.spf.result)" = pass ]
	[ "$(f auth.spf.identity)" = helo ]
	[[ "$(f auth.authentication_results)" == *"spf=pass smtp.helo=mx.example.org"* ]]
	auth --ip 192.0.2.1 --mail-from a@nxdomain.example.org --helo x "$A/plain.eml"
	[ "$(f auth.spf.result)" = none ]
}

@test "no client address: SPF none with the reason" {
	auth "$A/plain.eml"
	[ "$status" -eq 0 ]
	[ "$(f auth.spf.result)" = none ]
	[ "$(f auth.spf.reason)" = "client address unknown" ]
	auth --ip not-an-ip "$A/plain.eml"
	[ "$(f auth.spf.reason)" = "client address is not an IP address" ]
}

@test "--lookback-hops: the client of the right Received hop" {
	auth --ip 198.51.100.7 --mail-from a@example.org --helo gw.example.net "$A/gateway.eml"
	[ "$(f auth.spf.result)" = fail ]
	auth --lookback-hops 2 --ip 198.51.100.7 --mail-from a@example.org --helo gw.example.net "$A/gateway.eml"
	[ "$(f auth.spf.result)" = pass ]
	[ "$(f auth.client.ip)" = 192.0.2.1 ]
	[ "$(f auth.client.helo)" = mx.example.org ]
	[ "$(f auth.client.hop)" = 2 ]
	auth --lookback-hops 3 --ip 198.51.100.7 --mail-from a@example.org "$A/gateway.eml"
	[ "$(f auth.spf.result)" = none ]
	[ "$(f auth.spf.reason)" = "no Received hop 3" ]
}

@test "Authentication-Results claiming our authserv-id are listed for removal" {
	auth --ip 192.0.2.1 --mail-from a@example.org "$A/claimed.eml"
	[ "$(f auth.remove)" = '[{"field":"Authentication-Results","index":0},{"field":"Authentication-Results","index":2}]' ]
	auth --ip 192.0.2.1 --mail-from a@example.org "$A/plain.eml"
	[ "$(f auth.remove)" = '[]' ]
}

@test "records from smtp-accept on stdin: the client of the record, input order kept" {
	local i
	mkdir -p "$T/spool/new" "$T/spool/cur" "$T/spool/tmp"
	for i in $(seq 1 40); do
		{
			printf 'X-Sluice-Id: m%02d\nX-Sluice-Received-At: 2026-11-23T10:00:00Z\n' "$i"
			if [ $((i % 2)) -eq 0 ]; then ip=192.0.2.9; else ip=203.0.113.9; fi
			printf 'X-Sluice-Client: ip=%s port=25 helo=mx.example.org\n' "$ip"
			printf 'X-Sluice-Mail-From: <a@example.org>\nX-Sluice-Rcpt-To: <b@example.net>\n'
			printf 'Received: from mx.example.org (unknown [%s])\n\tby mx.sluice.test (sluice) with ESMTP id m%02d; Mon, 23 Nov 2026 10:00:00 +0000\n' "$ip" "$i"
			cat "$A/plain.eml"
		} >"$T/spool/new/m$i"
	done
	mail-ls "$T/spool" | sort >"$T/records"
	run --separate-stderr bash -c "mail-auth --dns 127.0.0.1:$DNSPORT --authserv-id mx.sluice.test --threads 8 <'$T/records' >'$T/out'"
	[ "$status" -eq 0 ]
	[ "$(wc -l <"$T/out")" -eq 40 ]
	for i in $(seq 0 39); do
		[ "$(f id "$i")" = "$(jfield "$T/records" id "$i")" ]
	done
	[ "$(grep -c '"spf":{"result":"pass"' "$T/out")" -eq 20 ]
	[ "$(grep -c '"spf":{"result":"fail"' "$T/out")" -eq 20 ]
	# the same from the maildir given as an argument
	run --separate-stderr bash -c "mail-auth --dns 127.0.0.1:$DNSPORT --authserv-id mx.sluice.test '$T/spool' >'$T/out2'"
	[ "$status" -eq 0 ]
	[ "$(wc -l <"$T/out2")" -eq 40 ]
}

@test "a record goes out when it is done, while its input stays open" {
	local pid fd
	mail-ls "$A/plain.eml" >"$T/rec"
	mkfifo "$T/in"
	mail-auth --dns "127.0.0.1:$DNSPORT" --authserv-id mx.sluice.test \
	    <"$T/in" >"$T/out" 2>"$T/err" &
	pid=$!
	exec {fd}>"$T/in"	# not 3: bats's own
	cat "$T/rec" >&"$fd"
	# the writer of the stream is still there: the record must not wait
	# for more input or for its end
	wait_for test -s "$T/out"
	[ "$(wc -l <"$T/out")" -eq 1 ]
	[ "$(f id)" = "$(jfield "$T/rec" id)" ]
	cat "$T/rec" >&"$fd"
	nlines() { [ "$(wc -l <"$T/out")" -eq "$1" ]; }
	wait_for nlines 2
	exec {fd}>&-
	wait "$pid"
}

@test "a bad line on stdin is reported and passed on; a missing file keeps its record" {
	printf '%s\n' 'not json' '{"id":"x","path":"/nonexistent/x"}' >"$T/in"
	run --separate-stderr bash -c "mail-auth --dns 127.0.0.1:$DNSPORT <'$T/in' >'$T/out'"
	[ "$status" -eq 0 ]
	[ "$(sed -n 1p "$T/out")" = "not json" ]
	[ "$(f id 1)" = x ]
	[ "$(f auth 1)" = MISSING ]
	[[ "$stderr" == *"mail-auth: stdin: line 1: "* ]]
	[[ "$stderr" == *"mail-auth: x: "*"/nonexistent/x"* ]]
}

# sign KEY SELECTOR [CANON] < message: the message with the DKIM-Signature
# mail-auth made for it, in $T/signed.eml
sign() {
	local canon=${3:-relaxed/relaxed}
	auth --ip 192.0.2.1 --mail-from a@example.org --sign "$A/$1" \
	    --sign-domain example.org --sign-selector "$2" --sign-canon "$canon" "$4"
	[ "$status" -eq 0 ]
	{ f auth.headers.0; cat "$4"; } >"$T/signed.eml"
}

@test "DKIM: what --sign makes verifies (rsa-sha256, ed25519-sha256, four canonicalisations); DMARC aligned" {
	local k s c
	for k in rsa ed; do
		for c in relaxed/relaxed relaxed/simple simple/relaxed simple/simple; do
			sign "$k.key" "$k" "$c" "$A/plain.eml"
			head -1 "$T/signed.eml" | grep -q '^DKIM-Signature: v=1; a='
			s=$([ $k = rsa ] && echo rsa-sha256 || echo ed25519-sha256)
			auth --ip 203.0.113.9 --mail-from a@example.org "$T/signed.eml"
			[ "$status" -eq 0 ] || { echo "k=$k c=$c status=$status stderr=$stderr"; false; }
			[ "$(f auth.spf.result)" = fail ]
			[ "$(f auth.dkim.0.result)" = pass ]
			[ "$(f auth.dkim.0.d)" = example.org ]
			[ "$(f auth.dkim.0.s)" = "$k" ]
			[ "$(f auth.dkim.0.a)" = "$s" ]
			[ "$(f auth.dmarc.result)" = pass ]
			[ "$(f auth.dmarc.dkim_aligned)" = true ]
			[ "$(f auth.dmarc.spf_aligned)" = false ]
			[ "$(f auth.dmarc.disposition)" = none ]
			[[ "$(f auth.authentication_results)" == *"dkim=pass header.d=example.org header.s=$k header.b="* ]]
			[[ "$(f auth.authentication_results)" == *"dmarc=pass header.from=example.org"* ]]
		done
	done
}

@test "DKIM: a changed body byte or signed header fails; DMARC then says reject" {
	sign rsa.key rsa relaxed/relaxed "$A/plain.eml"
	sed 's/Hello Bob\./Hello Bob!/' "$T/signed.eml" >"$T/body.eml"
	auth --ip 203.0.113.9 --mail-from a@example.org "$T/body.eml"
	[ "$(f auth.dkim.0.result)" = fail ]
	[[ "$(f auth.dkim.0.reason)" == *"body"* ]]
	[ "$(f auth.dmarc.result)" = fail ]
	[ "$(f auth.dmarc.policy)" = reject ]
	[ "$(f auth.dmarc.disposition)" = reject ]
	sed 's/^Subject: hello/Subject: hellO/' "$T/signed.eml" >"$T/subj.eml"
	auth --ip 203.0.113.9 --mail-from a@example.org "$T/subj.eml"
	[ "$(f auth.dkim.0.result)" = fail ]
	# an unsigned field added on top does not matter
	{ echo "X-Added: yes"; cat "$T/signed.eml"; } >"$T/added.eml"
	auth --ip 203.0.113.9 --mail-from a@example.org "$T/added.eml"
	[ "$(f auth.dkim.0.result)" = pass ]
	# no signature: dkim=none, SPF aligned pass is enough for DMARC
	auth --ip 192.0.2.1 --mail-from a@example.org "$A/plain.eml"
	[ "$(f auth.dkim)" = "[]" ]
	[[ "$(f auth.authentication_results)" == *"dkim=none"* ]]
	[ "$(f auth.dmarc.result)" = pass ]
	[ "$(f auth.dmarc.spf_aligned)" = true ]
}

@test "--check: DMARC reject is 100 with its text, exempt and quarantine 0, DNS failure 111" {
	run --separate-stderr mail-auth --check --dns "127.0.0.1:$DNSPORT" --ip 203.0.113.9 --mail-from a@example.org <"$A/plain.eml"
	[ "$status" -eq 100 ]
	[ "$stderr" = "5.7.1 DMARC policy of example.org says reject" ]
	[ "$(echo "$output" | jq -r .auth.dmarc.result)" = fail ]
	run --separate-stderr mail-auth --check --exempt .org,example.org --dns "127.0.0.1:$DNSPORT" --ip 203.0.113.9 --mail-from a@example.org <"$A/plain.eml"
	[ "$status" -eq 0 ]
	sed 's/^From: .*/From: <a@q.example.org>/' "$A/plain.eml" >"$T/q.eml"
	run --separate-stderr mail-auth --check --dns "127.0.0.1:$DNSPORT" --ip 203.0.113.9 --mail-from a@q.example.org "$T/q.eml"
	[ "$status" -eq 0 ]
	[ "$(echo "$output" | jq -r .auth.dmarc.disposition)" = quarantine ]
	sed 's/^From: .*/From: <a@t.example.org>/' "$A/plain.eml" >"$T/t.eml"
	run --separate-stderr mail-auth --check --dns "127.0.0.1:$DNSPORT" --ip 203.0.113.9 --mail-from a@t.example.org "$T/t.eml"
	[ "$status" -eq 0 ]
	[ "$(echo "$output" | jq -r .auth.dmarc.policy)" = reject ]
	[ "$(echo "$output" | jq -r .auth.dmarc.disposition)" = quarantine ]
	[ "$(echo "$output" | jq -r .auth.dmarc.testing)" = true ]
	# the client of SLUICE_RECORD, as smtp-accept sets it
	rec='{"id":"x","path":"/nonexistent","client":{"ip":"192.0.2.1","helo":"mx.example.org"},"envelope":{"from":"a@example.org","to":["b@example.net"]}}'
	run --separate-stderr env SLUICE_RECORD="$rec" mail-auth --check --dns "127.0.0.1:$DNSPORT" <"$A/plain.eml"
	[ "$status" -eq 0 ]
	[ "$(echo "$output" | jq -r .auth.spf.result)" = pass ]
	[ "$(echo "$output" | jq -r .id)" = x ]
	# no DNS server at all
	run --separate-stderr mail-auth --check --dns "127.0.0.1:$(free_port)" --ip 203.0.113.9 --mail-from a@example.org <"$A/plain.eml"
	[ "$status" -eq 111 ]
	[[ "$stderr" == "4.7.5 "* ]]
}

@test "--check under smtp-accept: 550 for DMARC reject, 250 for a pass" {
	printf '#!/bin/sh\nexec %s --check --dns 127.0.0.1:%s --authserv-id mx.sluice.test\n' "$(command -v mail-auth)" "$DNSPORT" >"$T/check"
	chmod 755 "$T/check"
	start_accept --check "$T/check"
	# 127.0.0.1 is not in example.org's SPF and nothing is signed
	run swaks --server "127.0.0.1:$PORT" --from a@example.org --to b@example.test --data "$A/plain.eml"
	[[ "$output" == *"550 5.7.1 DMARC policy of example.org says reject"* ]]
	sign rsa.key rsa relaxed/relaxed "$A/plain.eml"
	run swaks --server "127.0.0.1:$PORT" --from a@example.org --to b@example.test --data "$T/signed.eml"
	[[ "$output" == *"<-  250 "* ]]
	[ "$(spooled)" -eq 1 ]
	stop_accept
}

# forward ARGS...: mail-auth at a forwarder fwd.example that sees an SPF
# pass and seals with example.org's rsa key; the message it passes on (its
# Authentication-Results and auth.headers on top, as mail-pool writes it)
# into $T/sealed.eml.
forward() {
	auth --authserv-id fwd.example --ip 192.0.2.1 --mail-from a@example.org \
	    --arc-key "$A/rsa.key" --arc-domain example.org --arc-selector rsa "$@"
	[ "$status" -eq 0 ]
	{ printf 'Authentication-Results: %s\n' "$(f auth.authentication_results)"
	  jq -r '.auth.headers[]' "$T/out"
	  cat "$A/plain.eml"; } >"$T/sealed.eml"
}

@test "ARC: usage; no chain is arc=none" {
	run -100 --separate-stderr mail-auth --arc-key "$A/rsa.key"
	[ "${stderr_lines[0]}" = "mail-auth: --arc-key, --arc-domain and --arc-selector go together" ]
	run -100 --separate-stderr mail-auth --arc-trusted "$T/nonexistent" "$A/plain.eml"
	[ "$stderr" = "mail-auth: --arc-trusted: $T/nonexistent: No such file or directory" ]
	auth --ip 192.0.2.1 --mail-from a@example.org "$A/plain.eml"
	[ "$(f auth.arc)" = '{"result":"none","instances":0,"oldest_pass":null}' ]
	[[ "$(f auth.authentication_results)" == *"arc=none"* ]]
}

@test "ARC sealing: the three fields in auth.headers, over our Authentication-Results" {
	forward "$A/plain.eml"
	[ "$(f auth.arc.sealed)" = 1 ]
	[[ "$(f auth.headers.0)" == "ARC-Seal: a=rsa-sha256; b="*"cv=none; d=example.org; i=1; s=rsa; t="* ]]
	[[ "$(f auth.headers.1)" == "ARC-Message-Signature: a=rsa-sha256; b="*"c=relaxed/relaxed;"*"h=from:from:subject:subject:date:date:message-id:message-id:to:to; i=1;"*"s=rsa; t="* ]]
	[ "$(f auth.headers.2)" = "ARC-Authentication-Results: i=1; $(f auth.authentication_results)" ]
	[[ "$(f auth.headers.2)" == *"dmarc=pass header.from=example.org"* ]]
	# what mail-pool would pass on verifies, here and in dkimpy
	auth --ip 203.0.113.9 --mail-from a@example.org "$T/sealed.eml"
	[ "$(f auth.arc.result)" = pass ]
	[ "$(f auth.arc.instances)" = 1 ]
	[ "$(f auth.arc.oldest_pass)" = 1 ]
	[ "$(f auth.arc.sealers.0.d)" = example.org ]
	[ "$(f auth.arc.sealers.0.cv)" = none ]
	[[ "$(f auth.arc.sealers.0.aar)" == "fwd.example; spf=pass"* ]]
	[[ "$(f auth.authentication_results)" == *"arc=pass header.oldest-pass=1"* ]]
	sed 's/$/\r/' "$T/sealed.eml" >"$T/crlf.eml"
	run /usr/bin/python3 "$TOP/tests/dkimpy-tool" arc-verify "$DNSPORT" <"$T/crlf.eml"
	[ "$output" = "pass success" ]
	# with --sign too: the ARC set first, then the DKIM-Signature
	forward --sign "$A/ed.key" --sign-domain example.org --sign-selector ed "$A/plain.eml"
	[[ "$(f auth.headers.0)" == "ARC-Seal: "* ]]
	[[ "$(f auth.headers.3)" == "DKIM-Signature: "* ]]
	# a second hop seals i=2 with cv=pass
	auth --authserv-id mx.sluice.test --ip 203.0.113.9 --mail-from a@example.org \
	    --arc-key "$A/ed.key" --arc-domain example.org --arc-selector ed "$T/sealed.eml"
	[ "$(f auth.arc.sealed)" = 2 ]
	[[ "$(f auth.headers.0)" == "ARC-Seal: a=ed25519-sha256; b="*"cv=pass; d=example.org; i=2; s=ed"* ]]
}

@test "ARC: a trusted sealer's dmarc=pass overrides a DMARC fail; an untrusted one does not" {
	forward "$A/plain.eml"
	echo "example.org  # our list server" >"$T/trusted"
	echo "lists.example.net" >"$T/untrusted"
	# the forward broke SPF and nothing is DKIM-signed: DMARC fails
	run --separate-stderr mail-auth --check --dns "127.0.0.1:$DNSPORT" \
	    --authserv-id mx.sluice.test --arc-trusted "$T/trusted" \
	    --ip 203.0.113.9 --mail-from a@example.org "$T/sealed.eml"
	[ "$status" -eq 0 ]
	[ -z "$stderr" ]
	printf '%s\n' "$output" >"$T/out"
	[ "$(f auth.dmarc.result)" = fail ]
	[ "$(f auth.dmarc.policy)" = reject ]
	[ "$(f auth.dmarc.disposition)" = none ]
	[ "$(f auth.dmarc.override)" = arc ]
	[ "$(f auth.dmarc.override_reason)" = trusted_forwarder ]
	[ "$(f auth.dmarc.override_sealer)" = '{"i":1,"d":"example.org"}' ]
	[[ "$(f auth.authentication_results)" == *'dmarc=fail reason="'*'overridden: trusted ARC sealer example.org i=1" header.from=example.org'* ]]
	run --separate-stderr mail-auth --check --dns "127.0.0.1:$DNSPORT" \
	    --arc-trusted "$T/untrusted" \
	    --ip 203.0.113.9 --mail-from a@example.org "$T/sealed.eml"
	[ "$status" -eq 100 ]
	[ "$stderr" = "5.7.1 DMARC policy of example.org says reject" ]
	printf '%s\n' "$output" >"$T/out"
	[ "$(f auth.arc.result)" = pass ]
	[ "$(f auth.dmarc.override)" = MISSING ]
	# a broken chain overrides nothing, trusted sealer or not
	sed 's/Hello Bob\./Hello Bob!/' "$T/sealed.eml" >"$T/broken.eml"
	run --separate-stderr mail-auth --check --dns "127.0.0.1:$DNSPORT" \
	    --arc-trusted "$T/trusted" \
	    --ip 203.0.113.9 --mail-from a@example.org "$T/broken.eml"
	[ "$status" -eq 100 ]
	printf '%s\n' "$output" >"$T/out"
	[ "$(f auth.arc.result)" = fail ]
	[ "$(f auth.arc.reason)" = "ARC-Message-Signature i=1: body hash mismatch" ]
	[ "$(f auth.arc.oldest_pass)" = null ]
	# a trusted sealer whose own check failed DMARC vouches for nothing
	auth --authserv-id fwd.example --ip 203.0.113.9 --mail-from a@example.org \
	    --arc-key "$A/rsa.key" --arc-domain example.org --arc-selector rsa "$A/plain.eml"
	{ printf 'Authentication-Results: %s\n' "$(f auth.authentication_results)"
	  jq -r '.auth.headers[]' "$T/out"; cat "$A/plain.eml"; } >"$T/failed.eml"
	run --separate-stderr mail-auth --check --dns "127.0.0.1:$DNSPORT" \
	    --arc-trusted "$T/trusted" \
	    --ip 203.0.113.9 --mail-from a@example.org "$T/failed.eml"
	[ "$status" -eq 100 ]
}

@test "ARC: SIGHUP reads --arc-trusted again; a table that does not load keeps the old" {
	local pid fd
	forward "$A/plain.eml"
	echo "lists.example.net" >"$T/trusted"
	mail-ls "$T/sealed.eml" >"$T/rec"
	mkfifo "$T/in"
	mail-auth --dns "127.0.0.1:$DNSPORT" --authserv-id mx.sluice.test \
	    --arc-trusted "$T/trusted" --ip 203.0.113.9 \
	    --mail-from a@example.org <"$T/in" >"$T/out" 2>"$T/err" &
	pid=$!
	exec {fd}>"$T/in"
	nlines() { [ "$(wc -l <"$T/out")" -eq "$1" ]; }
	cat "$T/rec" >&"$fd"
	wait_for nlines 1
	[ "$(f auth.dmarc.result)" = fail ]
	[ "$(f auth.dmarc.override)" = MISSING ]
	# the sealer is trusted from the next message on
	echo "example.org" >"$T/trusted"
	kill -HUP "$pid"
	sleep 0.2	# the signal in before the record (not a timing test)
	cat "$T/rec" >&"$fd"
	wait_for nlines 2
	[ "$(f auth.dmarc.override 1)" = arc ]
	# a table gone: reported, the one in use stays
	rm "$T/trusted"
	kill -HUP "$pid"
	sleep 0.2
	cat "$T/rec" >&"$fd"
	wait_for nlines 3
	[ "$(f auth.dmarc.override 2)" = arc ]
	grep -q "reload --arc-trusted: .*No such file or directory (the old table stays)" "$T/err"
	exec {fd}>&-
	wait "$pid"
}
