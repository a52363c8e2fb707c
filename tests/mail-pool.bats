#!/usr/bin/env bats
# mail-pool: smtp-accept feeds it, mail-deliver is its worker, Postfix's
# smtp-sink or tests/sink.py (throttling, holding) is the downstream.
load helpers
load pool

@test "usage: --pool and --deliver are needed; bad values" {
	run -100 --separate-stderr mail-pool --pool "$T/pool"
	[ "${stderr_lines[0]}" = "mail-pool: give --pool and --deliver" ]
	run -100 --separate-stderr mail-pool --pool "$T/p" --deliver true --max-workers 0
	[ "${stderr_lines[0]}" = "mail-pool: max-workers: 0 is not in 1..256" ]
	run -100 --separate-stderr mail-pool --pool "$T/p" --deliver true --retry-min 1h --retry-max 1m
	[ "${stderr_lines[0]}" = "mail-pool: --retry-max is less than --retry-min" ]
}

@test "pooled: A-R added, the claimed field removed, the spool copy removed only after the pool copy is durable" {
	start_accept
	send 1
	add_auth "$T/records" "$T/in"
	id=$(record_ids)
	# no downstream: the message stays in the pool
	# (LeakSanitizer cannot run under ptrace)
	ASAN_OPTIONS=detect_leaks=0:exitcode=99 \
		strace -f -y -o "$T/trace" -e trace=fsync,link,rename,unlink \
		mail-pool --pool "$T/pool" --retry-min 1m \
		--deliver "mail-deliver --to 127.0.0.1:$SPORT --tls none" \
		<"$T/in" >"$T/events" 2>"$T/pool.log" &
	POOL_PID=$!
	PIDS="$PIDS $POOL_PID"
	wait_until 20 has_events pooled 1
	wait_until 20 has_events deferred 1
	# SIGTERM to mail-pool, strace's child; strace exits as it does
	kill -TERM "$(pgrep -P "$POOL_PID" -x mail-pool)"
	wait "$POOL_PID"
	[ -f "$T/pool/new/$id" ]
	[ -f "$T/pool/state/$id" ]
	[ ! -e "$T/spool/new/$id" ]
	f=$T/pool/new/$id
	[ "$(grep -c '^Authentication-Results:' "$f")" -eq 1 ]
	grep -q '^Authentication-Results: mx.example.test;$' "$f"
	grep -q '^	spf=pass smtp.mailfrom=example.org$' "$f"
	! grep -q forged "$f"
	# right below smtp-accept's Received field, the relay block on top
	[ "$(head -1 "$f")" = "X-Sluice-Id: $id" ]
	[ "$(grep -A1 '^	by mx.example.test' "$f" | tail -1)" = "Authentication-Results: mx.example.test;" ]
	[ "$(grep -n '^Authentication-Results' "$f" | cut -d: -f1)" -eq \
		$(( $(grep -n "^Message-ID" "$f" | cut -d: -f1) - 2 )) ]
	# the order on disk: state renamed in, message linked in, new/
	# fsynced, and only then the spool copy unlinked
	st=$(grep -n "rename(.*/pool/state/$id\"" "$T/trace" | head -1 | cut -d: -f1)
	ln=$(grep -n "link(.*\"$T/pool/new/$id\"" "$T/trace" | head -1 | cut -d: -f1)
	fs=$(awk -v l="$ln" 'NR > l && /fsync\([0-9]+<[^>]*\/pool\/new>/ { print NR; exit }' "$T/trace")
	ul=$(grep -n "unlink(\"$T/spool/new/$id\")" "$T/trace" | head -1 | cut -d: -f1)
	[ -n "$st" ] && [ -n "$ln" ] && [ -n "$fs" ] && [ -n "$ul" ]
	[ "$st" -lt "$ln" ]
	[ "$ln" -lt "$fs" ]
	[ "$fs" -lt "$ul" ]
	grep -q "\"event\":\"pooled\".*\"id\":\"$id\"" "$T/events"
}

@test "a record whose edit does not fit its message is not pooled: the spool copy stays" {
	start_accept
	send 1
	id=$(record_ids)
	python3 -c 'import json,sys
r = json.loads(open(sys.argv[1]).readline())
r["auth"] = {"remove": [{"field": "Subject", "index": 2}]}
print(json.dumps(r))' "$T/records" >"$T/in"
	run -0 --separate-stderr mail-pool --pool "$T/pool" --deliver true <"$T/in"
	[ "$stderr" = "mail-pool: warning: $id: not pooled: auth.remove 0: the message has no field Subject at index 2" ]
	[ -f "$T/spool/new/$id" ]
	[ "$(pooled)" -eq 0 ]
	[ -z "$output" ]
}

@test "a duplicate id is dropped with a log line; the pool keeps one copy" {
	start_accept
	send 1
	id=$(record_ids)
	cp "$T/records" "$T/once"
	cat "$T/once" >>"$T/records"
	start_pool
	wait_until 20 has_events duplicate 1
	stop_pool
	[ "$(events pooled)" -eq 1 ]
	[ "$(events duplicate)" -eq 1 ]
	grep -qx "mail-pool: $id: duplicate, dropped" "$T/pool.log"
	[ "$(pooled)" -eq 1 ]
	[ ! -e "$T/spool/new/$id" ]
}

@test "restart reloads the pool and delivers it; every message once at smtp-sink" {
	start_accept
	send 5
	start_pool
	wait_until 20 has_events pooled 5
	stop_pool
	[ "$(pooled)" -eq 5 ]
	[ "$(find "$T/spool/new" -type f | wc -l)" -eq 0 ]
	start_smtp_sink
	# stdin at its end: the pool is delivered, then mail-pool exits 0
	run -0 --separate-stderr timeout 60 mail-pool --pool "$T/pool" \
		--deliver "mail-deliver --to 127.0.0.1:$SPORT --tls none" </dev/null
	[ "${stderr_lines[0]}" = "mail-pool: $T/pool: 5 messages reloaded" ]
	[ "$(pooled)" -eq 0 ]
	[ "$(find "$T/pool/state" -type f | wc -l)" -eq 0 ]
	[ "$(distinct_at_sink)" -eq 5 ]
	[ -z "$(at_sink | awk '$1 != 1')" ]
	# the relay block is not handed on
	! grep -rq '^X-Sluice-' "$T/dump"
	[ "$(printf '%s\n' "$output" | grep -c '"event":"delivered"')" -eq 5 ]
}

@test "a worker killed with kill -9 is restarted; its message is retried and arrives once" {
	start_accept
	start_py_sink --hold "$T/hold"
	touch "$T/hold"
	send 6
	start_pool --max-workers 2
	wait_until 30 grep -q '^held' "$T/sink.events"
	# the mail-deliver processes: children of the workers' shells
	victims=""
	for sh in $(pgrep -P "$POOL_PID"); do
		victims="$victims $(pgrep -P "$sh")"
	done
	[ -n "${victims// }" ]
	kill -9 $victims
	wait_until 20 grep -q "in flight: it is retried" "$T/pool.log"
	rm "$T/hold"
	wait_until 60 arrived 6
	wait_until 20 pool_empty
	stop_pool
	[ "$(distinct_at_sink)" -eq 6 ]
	[ -z "$(at_sink | awk '$1 != 1')" ]
}

@test "downstream down, then up: route-down, probes, route-up; every message once" {
	start_accept
	send 20
	start_pool --probe-interval 2
	wait_until 60 has_events route-down 1
	sleep 1
	start_smtp_sink
	wait_until 60 has_events route-up 1
	wait_until 60 arrived 20
	wait_until 20 pool_empty
	stop_pool
	[ "$(distinct_at_sink)" -eq 20 ]
	[ -z "$(at_sink | awk '$1 != 1')" ]
	grep -q '^mail-pool: route deliver: down, probing every 2s$' "$T/pool.log"
	grep -q '^mail-pool: route deliver: up$' "$T/pool.log"
}

@test "kill -9 of mail-pool mid-run, restart: nothing lost, duplicates counted" {
	start_accept
	send 100
	start_smtp_sink
	start_pool --max-workers 4
	wait_until 60 arrived 15
	kill -9 "$POOL_PID"
	wait "$POOL_PID" || true
	start_pool --max-workers 4
	wait_until 90 arrived 100
	wait_until 30 pool_empty
	stop_pool
	[ "$(distinct_at_sink)" -eq 100 ]
	dups=$(at_sink | awk '$1 > 1 { d += $1 - 1 } END { print d + 0 }')
	echo "# kill -9 of mail-pool: 100 of 100 arrived, $dups duplicates" >&3
	# at-least-once: only what was in flight at the kill comes twice
	[ "$dups" -le 4 ]
}

@test "5xx: into the dead letters with the state; failed event" {
	start_accept
	start_smtp_sink -f RCPT
	send 1
	id=$(record_ids)
	start_pool
	wait_until 30 has_events failed 1
	wait_until 20 pool_empty
	stop_pool
	[ -f "$T/pool/dead/new/$id" ]
	python3 - "$T/pool/dead/state/$id" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
assert s["reason"] == "failed", s
assert s["pending"] == [], s
assert [f["addr"] for f in s["failed"]] == ["b@example.test", "c@example.test"], s
assert all(f["code"] // 100 == 5 for f in s["failed"]), s
PY
	[ "$(distinct_at_sink)" -eq 0 ]
}

@test "expiry: --max-age passes, the message goes to --dead" {
	start_accept
	send 1
	id=$(record_ids)
	start_pool --max-age 3 --dead "$T/dead"
	wait_until 30 has_events expired 1
	stop_pool
	[ -f "$T/dead/new/$id" ]
	grep -q '"reason":"expired"' "$T/dead/state/$id"
	[ "$(pooled)" -eq 0 ]
	grep -q "\"event\":\"expired\".*\"id\":\"$id\"" "$T/events"
}

@test "high water: the flag file comes past --high-water-size and goes below low water" {
	start_accept
	send 4
	start_pool --high-water "$T/hw" --high-water-size 2K
	wait_until 20 has_events pooled 4
	[ -f "$T/hw" ]
	grep -q "^mail-pool: high water: [0-9]* bytes pooled, $T/hw created$" "$T/pool.log"
	start_smtp_sink
	wait_until 60 pool_empty
	wait_until 10 test ! -e "$T/hw"
	grep -q "^mail-pool: low water: [0-9]* bytes pooled, $T/hw removed$" "$T/pool.log"
	stop_pool
}

@test "metrics: Prometheus text that parses, with the pool's figures" {
	start_accept
	send 3
	start_pool --metrics "$T/metrics"
	wait_until 20 has_events deferred 1
	# rewritten every 5 seconds
	wait_until 20 grep -q '^sluice_pool_deferred_total [1-9]' "$T/metrics"
	python3 - "$T/metrics" <<'PY'
import sys
from prometheus_client.parser import text_string_to_metric_families
v = {}
for fam in text_string_to_metric_families(open(sys.argv[1]).read()):
    for s in fam.samples:
        v[s.name] = (s.value, fam.type)
assert v["sluice_pool_messages"] == (3, "gauge"), v
assert v["sluice_pool_bytes"][0] > 300, v
assert v["sluice_pool_oldest_age_seconds"][0] >= 0, v
assert v["sluice_pool_pooled_total"] == (3, "counter"), v
assert v["sluice_pool_deferred_total"][0] >= 1, v
assert v["sluice_pool_delivered_total"][0] == 0, v
assert v["sluice_pool_route_concurrency"][0] >= 1, v
for k in ("sluice_pool_in_flight", "sluice_pool_failed_total",
          "sluice_pool_route_up", "sluice_pool_route_rate",
          "sluice_pool_expired_total", "sluice_pool_workers"):
    assert k in v, k
PY
	stop_pool
	[ ! -e "$T/metrics.tmp" ]
}

@test "release against a sink that answers 421 above 30/s: every message once, few 421s" {
	start_accept
	send 150
	start_py_sink --rate 30
	start_pool --max-workers 8 --metrics "$T/metrics"
	wait_until 100 arrived 150
	wait_until 20 pool_empty
	stop_pool
	[ "$(distinct_at_sink)" -eq 150 ]
	[ -z "$(at_sink | awk '$1 != 1')" ]
	n421=$(grep -c '^421$' "$T/sink.events" || true)
	echo "# 421 answers: $n421 for 150 messages" >&3
	# a controller that did not back off would see hundreds (it would
	# send as fast as the workers go, and 30 a second get through); the
	# few here are slow start overshooting once, and the messages in
	# flight when a cut comes
	[ "$n421" -lt 30 ]
	! grep -q '"event":"route-down"' "$T/events"
	# the rate it learnt is near the sink's, not far above
	rate=$(sed -n 's/^sluice_pool_route_rate{route="deliver"} //p' "$T/metrics")
	python3 -c "import sys; r = float(sys.argv[1]); assert 0 < r <= 60, r" "$rate"
}

@test "policy: clean delivered as is, spam tagged, malicious quarantined, bulk dropped" {
	start_accept
	start_smtp_sink
	send 4
	mapfile -t ids < <(record_ids)
	add_scan "$T/records" "$T/in" - spam malicious bulk
	printf '# test policy\nspam tag\nmalicious quarantine\nbulk   drop # gone\n' >"$T/policy"
	run -0 --separate-stderr timeout 60 mail-pool --pool "$T/pool" \
		--policy "$T/policy" \
		--deliver "mail-deliver --to 127.0.0.1:$SPORT --tls none" <"$T/in"
	printf '%s\n' "$stderr" >&2
	[ "$(distinct_at_sink)" -eq 2 ]
	# clean: no scan, nothing added
	f=$(dumped 0)
	! grep -q '^X-Sluice-Verdict' "$f"
	grep -q forged "$f"
	# spam: the scan header added, the forged field gone
	f=$(dumped 1)
	grep -qx 'X-Sluice-Verdict: spam score=7' "$f"
	! grep -q forged "$f"
	# malicious: in the quarantine with its state, edited, never delivered
	q=$T/pool/quarantine
	[ -f "$q/new/${ids[2]}" ]
	grep -qx 'X-Sluice-Verdict: malicious score=7' "$q/new/${ids[2]}"
	grep -q '"reason":"quarantine"' "$q/state/${ids[2]}"
	grep -q '"verdict":"malicious"' "$q/state/${ids[2]}"
	! dumped 2
	# bulk: gone, with an event
	! dumped 3
	[ ! -e "$T/spool/new/${ids[3]}" ]
	[ ! -e "$q/new/${ids[3]}" ]
	grep -q "\"event\":\"dropped\".*\"id\":\"${ids[3]}\",\"verdict\":\"bulk\"" <<<"$output"
	grep -q "\"event\":\"quarantined\".*\"id\":\"${ids[2]}\",\"verdict\":\"malicious\"" <<<"$output"
	grep -qx "mail-pool: ${ids[3]}: dropped verdict=bulk" <<<"$stderr"
	[ "$(pooled)" -eq 0 ]
	[ ! -e "$T/spool/new/${ids[2]}" ]
}

@test "policy: without --policy everything is delivered, untagged; a bad table is refused; SIGHUP reloads" {
	start_accept
	start_smtp_sink
	send 1
	add_scan "$T/records" "$T/in" malicious
	run -0 --separate-stderr timeout 60 mail-pool --pool "$T/pool" \
		--deliver "mail-deliver --to 127.0.0.1:$SPORT --tls none" <"$T/in"
	[ "$(distinct_at_sink)" -eq 1 ]
	! grep -rq '^X-Sluice-Verdict' "$T/dump"
	printf 'spam tag\nham deliver\n' >"$T/policy"
	run -100 --separate-stderr mail-pool --pool "$T/p2" --deliver true \
		--policy "$T/policy" </dev/null
	[ "$stderr" = "mail-pool: policy $T/policy: line 2: unknown verdict ham" ]
	# reload: drop, then (after SIGHUP) quarantine
	send 2 10
	add_scan <(tail -2 "$T/records") "$T/in2" malicious malicious
	mapfile -t ids < <(python3 -c 'import json,sys
for l in open(sys.argv[1]): print(json.loads(l)["id"])' "$T/in2")
	echo 'malicious drop' >"$T/policy"
	: >"$T/feed"
	mkfifo "$T/fifo2"
	tail -n +1 -f "$T/feed" >"$T/fifo2" 2>/dev/null &
	PIDS="$PIDS $!"
	mail-pool --pool "$T/pool" --policy "$T/policy" --deliver true \
		<"$T/fifo2" >>"$T/events" 2>>"$T/pool.log" &
	POOL_PID=$!
	PIDS="$PIDS $POOL_PID"
	head -1 "$T/in2" >>"$T/feed"
	wait_until 20 has_events dropped 1
	echo 'malicious quarantine' >"$T/policy"
	kill -HUP "$POOL_PID"
	wait_until 20 grep -q "^mail-pool: policy $T/policy: reloaded$" "$T/pool.log"
	tail -1 "$T/in2" >>"$T/feed"
	wait_until 20 has_events quarantined 1
	stop_pool
	grep -q "\"event\":\"dropped\".*\"id\":\"${ids[0]}\"" "$T/events"
	[ -f "$T/pool/quarantine/new/${ids[1]}" ]
}

# sink_order: the N of each "accepted <N@pool.test>" in the sink's log, in
# order
sink_order() {
	sed -n 's/^accepted <\([0-9]*\)@pool.test>/\1/p' "$T/sink.events"
}

@test "fairness: a flood from one domain does not hold back another; partners go first" {
	start_accept
	start_py_sink
	mail-pool --pool "$T/pool" --deliver true </dev/null
	mail-poolctl --pool "$T/pool" pause deliver
	printf '# partners\npartner.example\n192.0.2.0/24\n' >"$T/partners"
	start_pool --max-workers 1 --partners "$T/partners"
	FROM=x@flood.example send 40 0
	FROM=y@Other.example send 3 100
	FROM=z@partner.example send 2 200
	wait_until 30 has_events pooled 45
	mail-poolctl --pool "$T/pool" resume deliver
	wait_until 60 arrived 45
	wait_until 20 pool_empty
	stop_pool
	mapfile -t order < <(sink_order)
	echo "# delivery order: ${order[*]}" >&3
	[ "${#order[@]}" -eq 45 ]
	# the partner's two first
	[ "${order[0]}" -ge 200 ] && [ "${order[1]}" -ge 200 ]
	# then the flood and the other domain take turns: the other's three
	# within the next six, not after the forty of the flood
	for i in 100 101 102; do
		pos=$(printf '%s\n' "${order[@]}" | grep -nx "$i" | cut -d: -f1)
		[ "$pos" -le 8 ]
	done
	# and each source in the order it came
	flood=$(printf '%s\n' "${order[@]}" | awk '$1 < 100' | tr '\n' ' ')
	[ "$flood" = "$(seq 0 39 | tr '\n' ' ')" ]
}

# json_events NAME: the events NAME, one a line
json_events() {
	grep "\"event\":\"$1\"" "$T/events" || true
}

@test "spike: arrivals far above the baseline print a spike event and run --notify with it" {
	start_accept
	start_smtp_sink
	start_pool --spike-window 2s --spike-baseline 1h --spike-min 5/1s \
		--spike-factor 4 --notify "cat >>'$T/notified'" --metrics "$T/metrics"
	# the first window passes quiet: the baseline is 0
	sleep 3
	send 60
	wait_until 30 has_events spike 1
	wait_until 10 test -s "$T/notified"
	wait_until 60 arrived 60
	stop_pool
	python3 - "$T/events" "$T/notified" <<'PY'
import json, sys
ev = [json.loads(l) for l in open(sys.argv[1])]
sp = [e for e in ev if e["event"] == "spike"]
assert len(sp) == 1, sp
s = sp[0]
assert s["arrival_rate"] >= 5 and s["arrival_rate"] >= s["threshold"], s
assert s["arrival_baseline"] < 1, s
assert s["route"] == "deliver" and "delivery_rate" in s and "due" in s, s
n = [json.loads(l) for l in open(sys.argv[2])]
assert n[0] == s, (n, s)
PY
	grep -q '^mail-pool: spike: arrival [0-9.e+]*/s (baseline [0-9.e+-]*/s), delivery' "$T/pool.log"
	python3 - "$T/metrics" <<'PY'
import sys
from prometheus_client.parser import text_string_to_metric_families
v = {}
for fam in text_string_to_metric_families(open(sys.argv[1]).read()):
    for s in fam.samples:
        v[s.name] = s.value
assert v["sluice_pool_spikes_total"] == 1, v
assert v["sluice_pool_arrival_rate"] > 0, v
for k in ("sluice_pool_arrival_baseline", "sluice_pool_delivery_rate",
          "sluice_pool_delivery_baseline", "sluice_pool_held",
          "sluice_pool_route_paused", "sluice_pool_route_due",
          "sluice_pool_route_in_flight", "sluice_pool_quarantined_total",
          "sluice_pool_dropped_total", "sluice_pool_stalls_total",
          "sluice_pool_notify_failures_total"):
    assert k in v, k
PY
}

@test "stall: messages due and nothing delivered: a stall event, then stall-end; a hung --notify is killed, the pool goes on" {
	start_accept
	send 2
	start_pool --stall-time 2s --notify "cat >>'$T/notified'; sleep 60" \
		--notify-timeout 1s
	wait_until 30 has_events stall 1
	wait_until 10 grep -q '"event":"stall"' "$T/notified"
	wait_until 10 grep -q '^mail-pool: warning: notify: still running after 1s: killed$' "$T/pool.log"
	start_smtp_sink
	wait_until 60 arrived 2
	wait_until 30 has_events stall-end 1
	stop_pool
	s=$(json_events stall | head -1)
	python3 -c 'import json,sys; s = json.loads(sys.argv[1]); assert s["waiting"] == 2 and s["since_delivery"] >= 2, s' "$s"
}

# with_auth IN OUT AUTH_JSON: every record gets that auth object
with_auth() {
	python3 - "$@" <<'PY'
import json, sys
auth = json.loads(sys.argv[3])
with open(sys.argv[1]) as i, open(sys.argv[2], "w") as o:
    for l in i:
        r = json.loads(l)
        r["auth"] = auth
        o.write(json.dumps(r) + "\n")
PY
}

@test "DSN: a recipient failed, the sender authenticated by SPF: a multipart/report from <> through the same route" {
	start_accept
	mkdir "$T/sunk"
	start_py_sink --reject b@example.test --dump "$T/sunk"
	send 1
	id=$(record_ids)
	with_auth "$T/records" "$T/in" '{"spf": {"result": "pass", "domain": "Example.ORG"}}'
	run -0 --separate-stderr timeout 60 mail-pool --pool "$T/pool" \
		--deliver "mail-deliver --to 127.0.0.1:$SPORT --tls none" <"$T/in"
	# the message to c, then the DSN to a@example.org
	[ "$(ls "$T/sunk" | wc -l)" -eq 2 ]
	[ -f "$T/pool/dead/new/$id" ]
	dsn=$(grep -o "\"event\":\"dsn\",\"at\":\"[^\"]*\",\"id\":\"$id\",\"dsn\":\"[^\"]*\"" <<<"$output" | sed 's/.*"dsn":"//; s/"$//')
	[ -n "$dsn" ]
	grep -q "\"dsn\":\"$dsn\"" "$T/pool/dead/state/$id"
	grep -qx "mail-pool: $id: DSN $dsn to <a@example.org>" <<<"$stderr"
	python3 - "$T/sunk/2.eml" "$dsn" <<'PY'
import email, sys
from email import policy
raw = open(sys.argv[1], "rb").read()
first, rest = raw.split(b"\r\n", 1)
assert first == b"X-Sink-From: <>", first
m = email.message_from_bytes(rest, policy=policy.compat32)
assert m["To"] == "<a@example.org>", m["To"]
assert m.get_content_type() == "multipart/report", m.get_content_type()
assert m.get_param("report-type") == "delivery-status"
assert m["Auto-Submitted"] == "auto-replied"
assert "X-Sluice-" not in rest.decode(), "relay block leaked"
parts = m.get_payload()
assert [p.get_content_type() for p in parts] == [
    "text/plain", "message/delivery-status", "text/rfc822-headers"], parts
ds = parts[1].as_string()
for want in ("Reporting-MTA: dns;", "Final-Recipient: rfc822; b@example.test",
             "Action: failed", "Status: 5.1.1",
             "Diagnostic-Code: smtp; 550 5.1.1"):
    assert want in ds, (want, ds)
assert "c@example.test" not in ds, ds
h = parts[2].get_payload()
assert "Subject: m0" in h and "Message-ID: <0@pool.test>" in h, h
PY
	[ "$(pooled)" -eq 0 ]
}

@test "DSN: never to a sender not authenticated (no backscatter); expiry with an aligned DKIM pass gets one, status 4.4.7" {
	start_accept
	mkdir "$T/sunk"
	start_py_sink --reject b@example.test --reject c@example.test --dump "$T/sunk"
	send 2
	head -1 "$T/records" >"$T/r1"
	tail -1 "$T/records" >"$T/r2"
	with_auth "$T/r1" "$T/in" '{"spf": {"result": "fail", "domain": "example.org"}, "dkim": [{"result": "pass", "d": "elsewhere.example"}], "dmarc": {"result": "pass", "domain": "elsewhere.example"}}'
	id=$(record_ids | head -1)
	run -0 --separate-stderr timeout 60 mail-pool --pool "$T/pool" \
		--deliver "mail-deliver --to 127.0.0.1:$SPORT --tls none" <"$T/in"
	[ -f "$T/pool/dead/new/$id" ]
	[ -z "$(ls "$T/sunk")" ]
	! grep -q '"event":"dsn"' <<<"$output"
	grep -qx "mail-pool: $id: no DSN to <a@example.org>: the sender is not authenticated" <<<"$stderr"
	# expiry: nothing downstream, a DKIM pass for the sender's domain
	id=$(record_ids | tail -1)
	with_auth "$T/r2" "$T/in2" '{"dkim": [{"result": "pass", "d": "example.org"}]}'
	mail-pool --pool "$T/p2" --max-age 2 \
		--deliver "mail-deliver --to 127.0.0.1:$(free_port) --tls none" \
		<"$T/in2" >"$T/events2" 2>"$T/pool2.log" &
	POOL_PID=$!
	PIDS="$PIDS $POOL_PID"
	wait_until 30 test -f "$T/p2/dead/new/$id"
	wait_until 10 test -n "$(ls "$T/p2/new")"
	dsn=$(ls "$T/p2/new")
	grep -qx 'X-Sluice-Mail-From: <>' "$T/p2/new/$dsn"
	grep -qx 'X-Sluice-Rcpt-To: <a@example.org>' "$T/p2/new/$dsn"
	grep -qx 'Status: 4.4.7' "$T/p2/new/$dsn"
	[ "$(grep -c '^Final-Recipient: rfc822; ' "$T/p2/new/$dsn")" -eq 2 ]
	grep -q "\"dsn\":\"$dsn\"" "$T/p2/dead/state/$id"
	grep -q "\"event\":\"dsn\".*\"id\":\"$id\",\"dsn\":\"$dsn\"" "$T/events2"
	stop_pool
}
