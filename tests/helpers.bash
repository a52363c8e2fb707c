# helpers.bash: what every bats test of sluice loads.
#
#   SLUICE_BIN, SLUICE_TOOLS, SLUICE_TESTBIN  where the programs and the
#                             test drivers (tests/bin) are (tests/check sets them
#                             to the plain or the sanitizer build)
#   $T                        a scratch directory the test's programs may
#                             use even after dropping root (mode 755)
#   $DATA                     tests/data
#   as_user                   "--user nobody" when running as root
bats_require_minimum_version 1.5.0

TOP=$(cd "$BATS_TEST_DIRNAME/.." && pwd)
: "${SLUICE_BIN:=$TOP/bin}"
: "${SLUICE_TOOLS:=$TOP/tools}"
: "${SLUICE_TESTBIN:=$TOP/tests/bin}"
# /usr/bin first: Debian's python3 starts in a tenth of the time of a
# pyenv shim, and the tests start it often
PATH=$SLUICE_BIN:$SLUICE_TOOLS:/usr/bin:/usr/sbin:$PATH
DATA=$TOP/tests/data
export LC_ALL=C
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:exitcode=99}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1:exitcode=99}

if [ "$(id -u)" -eq 0 ]; then
	as_user="--user nobody"
	run_user=nobody
else
	as_user=""
	run_user=$(id -un)
fi

setup() {
	T=$(mktemp -d /tmp/sluice-test.XXXXXX)
	chmod 755 "$T"
	[ "$(id -u)" -eq 0 ] && chown "$run_user" "$T"
	PIDS=""
	if declare -F setup_more >/dev/null; then setup_more; fi
}

teardown() {
	local p
	if declare -F teardown_more >/dev/null; then teardown_more; fi
	for p in $PIDS; do
		kill "$p" 2>/dev/null || true
	done
	for p in $PIDS; do
		wait_gone "$p" 10 || kill -9 "$p" 2>/dev/null || true
	done
	[ -n "${T:-}" ] && rm -rf "$T"
}

# free_port: a TCP port nobody listens on now.
free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# wait_port PORT [SECONDS]: until something accepts on 127.0.0.1:PORT.
wait_port() {
	local i n=$(( ${2:-10} * 20 ))
	for ((i = 0; i < n; i++)); do
		if (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; then
			return 0
		fi
		sleep 0.05
	done
	echo "nothing listens on port $1" >&2
	return 1
}

# wait_gone PID [SECONDS]: until the process has exited.
wait_gone() {
	local i n=$(( ${2:-10} * 20 ))
	for ((i = 0; i < n; i++)); do
		kill -0 "$1" 2>/dev/null || return 0
		sleep 0.05
	done
	return 1
}

# wait_for CMD...: until the command succeeds (10 s).
wait_for() {
	local i
	for ((i = 0; i < 200; i++)); do
		"$@" && return 0
		sleep 0.05
	done
	echo "gave up waiting for: $*" >&2
	return 1
}

# start_accept [OPTIONS...]: smtp-accept listening on $PORT with the spool
# $T/spool, records in $T/records, stderr in $T/log; relay domain
# example.test unless --domains is given.  Sets ACCEPT_PID.
start_accept() {
	local domains="--domains example.test" a
	for a in "$@"; do
		case $a in --domains*) domains="" ;; esac
	done
	PORT=$(free_port)
	# shellcheck disable=SC2086
	smtp-accept --listen "127.0.0.1:$PORT" --spool "$T/spool" \
		--hostname mx.example.test $domains $as_user \
		--greet-wait 0 --dns none "$@" >"$T/records" 2>"$T/log" &
	ACCEPT_PID=$!
	PIDS="$PIDS $ACCEPT_PID"
	wait_port "$PORT" || { cat "$T/log" >&2; return 1; }
}

# stop_accept: SIGTERM, wait, and check that it exited 0.
stop_accept() {
	local rc=0
	kill -TERM "$ACCEPT_PID"
	wait "$ACCEPT_PID" || rc=$?
	if [ "$rc" -ne 0 ]; then
		echo "smtp-accept exited $rc" >&2
		cat "$T/log" >&2
		return 1
	fi
}

# spooled: the number of messages in $T/spool/new.
spooled() {
	find "$T/spool/new" -type f | wc -l
}

# make_cert: a self-signed certificate for mx.example.test in $T.
make_cert() {
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
		-keyout "$T/key.pem" -out "$T/cert.pem" -days 2 \
		-subj /CN=mx.example.test 2>/dev/null
	chmod 644 "$T/key.pem"
}

# smtp_chat PORT: send stdin raw (printf escapes already applied) to the
# server and print what it answers, with a pause for the replies.
smtp_chat() {
	python3 "$TOP/tests/smtpchat.py" "$@"
}

# jfield FILE KEY.PATH [N]: the value at KEY.PATH (dots; numbers index
# arrays) in line N (from 0) of the JSON-lines FILE; strings bare, other
# values as compact JSON; "MISSING" when the path is not there.
jfield() {
	python3 -c 'import json,sys
for i, line in enumerate(open(sys.argv[1], encoding="utf-8")):
    if i == int(sys.argv[3]):
        v = json.loads(line)
        try:
            for k in sys.argv[2].split("."):
                v = v[int(k)] if isinstance(v, list) else v[k]
        except (KeyError, IndexError, TypeError):
            print("MISSING")
            sys.exit(0)
        print(json.dumps(v, separators=(",", ":"), ensure_ascii=False) if not isinstance(v, str) else v)' "$1" "$2" "${3:-0}"
}
