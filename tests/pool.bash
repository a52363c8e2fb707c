# pool.bash: what the tests of mail-pool and mail-poolctl share: sending
# through smtp-accept, the sinks, starting and stopping mail-pool.

# messages sent carry "Message-ID: <N@pool.test>"; the sinks keep them, and
# counting them at the sink says what arrived and how often

# send N [FIRST]: N messages to b@ and c@example.test through smtp-accept,
# from $FROM (default a@example.org)
send() {
	python3 - "$PORT" "$1" "${2:-0}" <<'PY'
import os, smtplib, sys
port, n, first = map(int, sys.argv[1:])
s = smtplib.SMTP("127.0.0.1", port)
for i in range(first, first + n):
    s.sendmail(os.environ.get("FROM", "a@example.org"),
        ["b@example.test", "c@example.test"],
        ("Message-ID: <%d@pool.test>\r\nSubject: m%d\r\n"
         "Authentication-Results: mx.example.test; spf=pass (forged)\r\n"
         "\r\nbody %d\r\n" % (i, i, i)).encode())
s.quit()
PY
}

# wait_until SECONDS CMD...: poll until CMD succeeds
wait_until() {
	local i n=$(($1 * 10))
	shift
	for ((i = 0; i < n; i++)); do
		"$@" && return 0
		sleep 0.1
	done
	echo "gave up waiting for: $*" >&2
	return 1
}

# the sinks, on $SPORT (chosen once per test, so a sink can come back)
setup_more() {
	SPORT=$(free_port)
	mkdir -p "$T/dump"
	chmod 777 "$T/dump"
}

start_smtp_sink() {
	smtp-sink -u nobody -d "$T/dump/%M." "$@" "127.0.0.1:$SPORT" 256 \
		2>>"$T/sink.log" &
	SINK_PID=$!
	PIDS="$PIDS $SINK_PID"
	wait_port "$SPORT"
}

start_py_sink() {
	python3 "$TOP/tests/sink.py" "$SPORT" --log "$T/sink.events" "$@" \
		2>>"$T/sink.log" &
	SINK_PID=$!
	PIDS="$PIDS $SINK_PID"
	wait_port "$SPORT"
}

# at_sink: "COUNT <N@pool.test>" per message arrived, sorted by id
at_sink() {
	{
		if [ -f "$T/sink.events" ]; then
			sed -n 's/^accepted //p' "$T/sink.events"
		fi
		find "$T/dump" -type f -exec grep -h -i -m1 '^Message-ID:' {} + |
			sed 's/^[^:]*: *//'
	} | tr -d '\r' | sort | uniq -c
}

# distinct_at_sink: how many different messages arrived
distinct_at_sink() {
	at_sink | wc -l
}

arrived() {
	[ "$(distinct_at_sink)" -ge "$1" ]
}

# start_pool [OPTIONS...]: mail-pool on the records of smtp-accept,
# followed as they come, pool $T/pool; events in $T/events, stderr in
# $T/pool.log.  Sets POOL_PID.
start_pool() {
	rm -f "$T/fifo"
	mkfifo "$T/fifo"
	tail -n +1 -f "$T/records" >"$T/fifo" 2>/dev/null &
	PIDS="$PIDS $!"
	mail-pool --pool "$T/pool" --retry-min 1 --retry-max 2 \
		--deliver "mail-deliver --to 127.0.0.1:$SPORT --tls none --idle 5 --connect-timeout 2" \
		"$@" <"$T/fifo" >>"$T/events" 2>>"$T/pool.log" &
	POOL_PID=$!
	PIDS="$PIDS $POOL_PID"
}

# stop_pool: SIGTERM, and it exits 0
stop_pool() {
	local rc=0
	kill -TERM "$POOL_PID"
	wait "$POOL_PID" || rc=$?
	if [ "$rc" -ne 0 ]; then
		echo "mail-pool exited $rc" >&2
		cat "$T/pool.log" >&2
		return 1
	fi
}

events() {
	grep -c "\"event\":\"$1\"" "$T/events" || true
}

has_events() {
	[ "$(events "$1")" -ge "$2" ]
}

pooled() {
	find "$T/pool/new" -type f 2>/dev/null | wc -l
}

pool_empty() {
	[ "$(pooled)" -eq 0 ]
}

# the ids of the records, in order
record_ids() {
	python3 -c 'import json,sys
for l in open(sys.argv[1]): print(json.loads(l)["id"])' "$T/records"
}

# add_auth IN OUT: records with an auth key: the A-R of mx.example.test,
# and the forged one (field 2 of each test message) removed
add_auth() {
	python3 - "$1" "$2" <<'PY'
import json, sys
with open(sys.argv[1]) as i, open(sys.argv[2], "w") as o:
    for l in i:
        r = json.loads(l)
        r["auth"] = {"authentication_results":
                     "mx.example.test;\n\tspf=pass smtp.mailfrom=example.org",
                     "remove": [{"field": "Authentication-Results",
                                 "index": 2}]}
        o.write(json.dumps(r) + "\n")
PY
}

# add_scan IN OUT V1 V2...: record i gets scan.verdict Vi ("-": no scan),
# with an X-Sluice-Verdict field to add and the forged A-R (field 2)
# removed by scan.remove
add_scan() {
	python3 - "$@" <<'PY'
import json, sys
src, dst, vs = sys.argv[1], sys.argv[2], sys.argv[3:]
with open(src) as i, open(dst, "w") as o:
    for l, v in zip(i, vs):
        r = json.loads(l)
        if v != "-":
            r["scan"] = {"verdict": v, "score": 7,
                         "headers": ["X-Sluice-Verdict: %s score=7" % v],
                         "remove": [{"field": "Authentication-Results",
                                     "index": 2}]}
        o.write(json.dumps(r) + "\n")
PY
}

# the dumped message of smtp-sink with Message-ID <N@pool.test>
dumped() {
	grep -l -r "^Message-ID: <$1@pool.test>" "$T/dump"
}
