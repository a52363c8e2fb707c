#!/usr/bin/env bats
# mail-poolctl: on a running mail-pool (commands through pool/ctl) and on
# a stopped pool (applied under the lock).
load helpers
load pool

# ids of the records in file $1 (default $T/records)
ids_of() {
	python3 -c 'import json,sys
for l in open(sys.argv[1]): print(json.loads(l)["id"])' "${1:-$T/records}"
}

# field ID KEY: the value of KEY in the list line of ID
field() {
	mail-poolctl --pool "$T/pool" list | python3 -c 'import json,sys
for l in sys.stdin:
    r = json.loads(l)
    if r["id"] == sys.argv[1]: print(json.dumps(r[sys.argv[2]]))' "$1" "$2"
}

@test "usage: a command is needed; unknown commands and bad arguments exit 100" {
	run -100 --separate-stderr mail-poolctl --pool "$T/pool"
	[ "${stderr_lines[0]}" = "mail-poolctl: give a command" ]
	run -100 --separate-stderr mail-poolctl --pool "$T/pool" frob
	[ "${stderr_lines[0]}" = "mail-poolctl: unknown command: frob" ]
	run -100 --separate-stderr mail-poolctl --pool "$T/pool" hold
	[ "${stderr_lines[0]}" = "mail-poolctl: hold takes 1 to 1000 ids" ]
	run -100 --separate-stderr mail-poolctl --pool "$T/pool" pause
	[ "${stderr_lines[0]}" = "mail-poolctl: pause takes one ROUTE" ]
	run -111 --separate-stderr mail-poolctl --pool "$T/nopool" list
	[ "$stderr" = "mail-poolctl: $T/nopool/new: No such file or directory" ]
}

@test "running pool: pause holds everything back, list, hold, resume, qshape, release" {
	start_accept
	start_smtp_sink
	send 3
	mapfile -t ids < <(record_ids)
	mail-pool --pool "$T/pool" --deliver true </dev/null
	run -0 mail-poolctl --pool "$T/pool" pause deliver
	[ "$output" = '{"cmd":"pause","ok":true,"done":["deliver"],"errors":[]}' ]
	start_pool
	wait_until 20 has_events pooled 3
	sleep 1
	[ "$(distinct_at_sink)" -eq 0 ]
	run -0 mail-poolctl --pool "$T/pool" list
	[ "${#lines[@]}" -eq 3 ]
	python3 - "$output" <<'PY'
import json, sys
for l in sys.argv[1].splitlines():
    r = json.loads(l)
    assert r["from"] == "a@example.org", r
    assert r["to"] == ["b@example.test", "c@example.test"], r
    assert r["route"] == "deliver" and r["held"] is False, r
    assert r["attempts"] == 0 and r["size"] > 100 and r["age"] >= 0, r
    assert r["last_reply"] is None and r["next"].endswith("Z"), r
PY
	run -0 mail-poolctl --pool "$T/pool" hold "${ids[0]}"
	[ "$output" = "{\"cmd\":\"hold\",\"ok\":true,\"done\":[\"${ids[0]}\"],\"errors\":[]}" ]
	[ "$(field "${ids[0]}" held)" = true ]
	run -0 mail-poolctl --pool "$T/pool" resume deliver
	wait_until 30 arrived 2
	sleep 1
	[ "$(distinct_at_sink)" -eq 2 ]
	[ "$(pooled)" -eq 1 ]
	run -0 mail-poolctl --pool "$T/pool" qshape --json
	python3 -c 'import json,sys
q = json.loads(sys.argv[1])
assert q["buckets"] == [0, 5, 10, 20, 40, 80, 160, 320, 640, 1280], q
assert q["rows"][0] == {"route": "TOTAL", "total": 1, "counts": [1] + [0] * 9}, q
assert q["rows"][1]["route"] == "deliver", q' "$output"
	run -0 mail-poolctl --pool "$T/pool" qshape
	[ "${lines[1]}" = "     TOTAL      1      1      0      0      0      0      0      0      0      0      0" ]
	run -100 --separate-stderr mail-poolctl --pool "$T/pool" hold 1.M1P1Q1.nosuch
	[ "$stderr" = "mail-poolctl: warning: 1.M1P1Q1.nosuch: no such message" ]
	run -0 mail-poolctl --pool "$T/pool" release "${ids[0]}"
	wait_until 30 arrived 3
	wait_until 20 pool_empty
	stop_pool
	[ -z "$(at_sink | awk '$1 != 1')" ]
	grep -q '"event":"ctl","at":"[^"]*","cmd":"hold","ok":true' "$T/events"
	grep -qx "mail-pool: ctl resume: 1 done, 0 errors" "$T/pool.log"
	[ -z "$(find "$T/pool/ctl/new" "$T/pool/ctl/reply" -type f)" ]
}

@test "stopped pool: quarantine listed, one deleted, one released into the pool and delivered tagged" {
	start_accept
	start_smtp_sink
	send 2
	mapfile -t ids < <(record_ids)
	add_scan "$T/records" "$T/in" malicious malicious
	echo 'malicious quarantine' >"$T/policy"
	run -0 timeout 60 mail-pool --pool "$T/pool" --policy "$T/policy" \
		--deliver true <"$T/in"
	run -0 mail-poolctl --pool "$T/pool" list --quarantined
	[ "${#lines[@]}" -eq 2 ]
	[[ "${lines[0]}" == *'"reason":"quarantine"'* ]]
	run -0 mail-poolctl --pool "$T/pool" delete "${ids[1]}"
	[ ! -e "$T/pool/quarantine/new/${ids[1]}" ]
	[ ! -e "$T/pool/quarantine/state/${ids[1]}" ]
	run -0 mail-poolctl --pool "$T/pool" release "${ids[0]}"
	[ -f "$T/pool/new/${ids[0]}" ]
	[ ! -e "$T/pool/quarantine/new/${ids[0]}" ]
	grep -q '"released":true' "$T/pool/state/${ids[0]}"
	run -100 --separate-stderr mail-poolctl --pool "$T/pool" release "${ids[1]}"
	[ "$stderr" = "mail-poolctl: warning: ${ids[1]}: no such message" ]
	# the pool delivers it (the policy is not asked again)
	run -0 timeout 60 mail-pool --pool "$T/pool" --policy "$T/policy" \
		--deliver "mail-deliver --to 127.0.0.1:$SPORT --tls none" </dev/null
	[ "$(distinct_at_sink)" -eq 1 ]
	grep -rqx 'X-Sluice-Verdict: malicious score=7' "$T/dump"
}

@test "a paused route's messages do not age: they expire --max-age after the resume" {
	start_accept
	send 3
	mail-pool --pool "$T/pool" --deliver true </dev/null
	mail-poolctl --pool "$T/pool" pause deliver
	start_pool --max-age 3 --retry-min 1h --retry-max 2h --dead "$T/dead"
	wait_until 20 has_events pooled 3
	sleep 4
	[ "$(events expired)" -eq 0 ]
	id=$(record_ids | head -1)
	[ "$(field "$id" age)" -le 1 ]
	run -0 mail-poolctl --pool "$T/pool" resume deliver
	wait_until 30 has_events expired 3
	stop_pool
	# the clock stood still for the pause (4 s and more)
	python3 -c 'import json,sys; s = json.load(open(sys.argv[1])); assert s["frozen"] >= 3, s' "$T/dead/state/$id"
	r=$(grep -n '"cmd":"resume"' "$T/events" | cut -d: -f1)
	e=$(grep -n '"event":"expired"' "$T/events" | head -1 | cut -d: -f1)
	[ "$r" -lt "$e" ]
}

@test "flush with --rate: deferred messages are all due again and delivered" {
	start_accept
	send 3
	start_pool --retry-min 1h --retry-max 2h
	wait_until 30 has_events deferred 3
	start_smtp_sink
	sleep 1
	[ "$(distinct_at_sink)" -eq 0 ]
	run -0 mail-poolctl --pool "$T/pool" flush --rate 2/1s
	python3 -c 'import json,sys; r = json.loads(sys.argv[1]); assert r["ok"] and len(r["done"]) == 3, r' "$output"
	wait_until 30 arrived 3
	wait_until 20 pool_empty
	stop_pool
	[ -z "$(at_sink | awk '$1 != 1')" ]
}
