#!/usr/bin/env bats
# relay.bats: the whole relay, pipelines/relay and pipelines/run (make
# run), from SMTP in to a downstream gateway: a second smtp-accept that
# stores what it is given.  DNS is nsd on loopback with the zone of
# tests/data/auth.
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

# downstream: the gateway, storing into $T/inbox; sets DOWN.
downstream() {
	DOWN=$(free_port)
	smtp-accept --listen "127.0.0.1:$DOWN" --spool "$T/inbox" \
	    --hostname gw.example.test --domains example.test $as_user \
	    --greet-wait 0 --dns none >/dev/null 2>"$T/gw.log" &
	PIDS="$PIDS $!"
	wait_port "$DOWN"
}

# relay: pipelines/relay in the background on $PORT, everything under
# $T/var; sets RELAY_PID.
relay() {
	PORT=$(free_port)
	SLUICE_VAR=$T/var SLUICE_LISTEN=127.0.0.1:$PORT \
	SLUICE_DOWNSTREAM=127.0.0.1:$DOWN SLUICE_DNS=127.0.0.1:$DNSPORT \
	SLUICE_HOSTNAME=mx.sluice.test \
	SLUICE_ACCEPT_FLAGS="--greet-wait 0 --dns none" \
	SLUICE_POOL_FLAGS="--retry-min 1s --retry-max 2s" \
	    "$TOP/pipelines/relay" >>"$T/events" 2>>"$T/relay.log" &
	RELAY_PID=$!
	PIDS="$PIDS $RELAY_PID"
	wait_port "$PORT" || { cat "$T/relay.log" >&2; return 1; }
}

send() {
	swaks --server "127.0.0.1:$PORT" --from "a@example.org" \
	    --to "you@example.test" --header "Message-Id: <$1@example.org>" \
	    --header "Subject: $1" >/dev/null
}

delivered() { find "$T/inbox/new" -type f 2>/dev/null | wc -l; }
n_delivered() { [ "$(delivered)" -eq "$1" ]; }

@test "relay: SMTP in, Authentication-Results added, delivered downstream; spool and pool emptied" {
	local f
	downstream
	relay
	send m1
	send m2
	send m3
	wait_for n_delivered 3
	for f in "$T"/inbox/new/*; do
		grep -q '^Authentication-Results: mx.sluice.test;' "$f"
		grep -q 'spf=' "$f"
	done
	[ "$(grep -l 'Subject: m2' "$T"/inbox/new/* | wc -l)" -eq 1 ]
	nothing_left() {
		[ -z "$(ls "$T/var/spool/new")" ] && [ -z "$(ls "$T/var/pool/new")" ]
	}
	wait_for nothing_left
	# the intake's records went to its log, the pool's events to stdout
	[ "$(wc -l <"$T/var/log/accept.jsonl")" -eq 3 ]
	kill -TERM "$RELAY_PID"
	wait "$RELAY_PID"
}

@test "relay: a stage killed stops the relay; pooled and spooled messages are delivered once after a restart" {
	local n rc
	DOWN=$(free_port)	# the gateway is down to begin with
	relay
	send a1
	in_pool() { [ "$(ls "$T/var/pool/new" | wc -l)" -eq 1 ]; }
	wait_for in_pool
	# a message answered 250 that no later stage has taken yet
	kill -STOP "$(pgrep -f "mail-auth --authserv-id mx.sluice.test" | head -1)"
	send a2
	in_spool() { [ "$(ls "$T/var/spool/new" | wc -l)" -eq 1 ]; }
	wait_for in_spool
	kill -9 "$(pgrep -f "mail-pool --pool $T/var/pool")"
	# the relay stops all its stages, the stopped one too, and says so
	rc=0
	wait "$RELAY_PID" || rc=$?
	[ "$rc" -ne 0 ]
	grep -q "a stage ended" "$T/relay.log"
	gone() { ! pgrep -f "$T/var" >/dev/null; }
	wait_for gone
	downstream
	relay
	send a3
	wait_for n_delivered 3
	for n in a1 a2 a3; do
		[ "$(grep -l "Subject: $n\$" "$T"/inbox/new/* | wc -l)" -eq 1 ]
	done
	kill -TERM "$RELAY_PID"
	wait "$RELAY_PID"
}

@test "make run: the relay on its embedded default, with a stand-in gateway" {
	local p i
	PORT=$(free_port)
	i=$(free_port)
	SLUICE_VAR=$T/var SLUICE_LISTEN=127.0.0.1:$PORT SLUICE_INBOX_LISTEN=127.0.0.1:$i \
	SLUICE_DNS=127.0.0.1:$DNSPORT SLUICE_ACCEPT_FLAGS="--greet-wait 0 --dns none" \
	    "$TOP/pipelines/run" >"$T/events" 2>"$T/run.log" &
	p=$!
	PIDS="$PIDS $p"
	wait_port "$PORT" || { cat "$T/run.log" >&2; false; }
	swaks --server "127.0.0.1:$PORT" --to you@example.test --from a@example.org -tls >/dev/null
	arrived() { [ "$(ls "$T/var/inbox/new" | wc -l)" -eq 1 ]; }
	wait_for arrived
	grep -q "^Authentication-Results: " "$T"/var/inbox/new/*
	# the client's STARTTLS, as the relay's Received field says
	grep -q "^	by .* with ESMTPS id " "$T"/var/inbox/new/*
	# SIGTERM stops every stage and the stand-in
	kill -TERM "$p"
	wait "$p"
	gone() { ! pgrep -f "$T/var" >/dev/null; }
	wait_for gone
}
