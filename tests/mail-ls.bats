#!/usr/bin/env bats
# mail-ls: maildirs and files as records, the same records smtp-accept
# prints, --follow with inotify and its rescans, and every error.
load helpers

# mkmd DIR: an empty maildir.
mkmd() {
	mkdir -p "$1/new" "$1/cur" "$1/tmp"
}

# The hand-made maildir of mail-ls-plain.jsonl, in $T/md.
plain_md() {
	mkmd "$T/md"
	cp "$DATA/mail-ls-plain.eml" "$T/md/new/1700000000.M1P1Q1.mx.example.test"
	cp "$DATA/mail-ls-plain.eml" "$T/md/new/hello.eml"
	touch -d @1700000099 "$T/md/new/hello.eml"
	cp "$DATA/mail-ls-plain.eml" "$T/md/cur/1700000050.M3P3Q3.mx.example.test:2,S"
	# never listed: dot names and tmp/
	cp "$DATA/mail-ls-plain.eml" "$T/md/new/.1700000002.M1P1Q1.x"
	cp "$DATA/mail-ls-plain.eml" "$T/md/tmp/1700000001.M1P1Q1.x"
}

send() {
	swaks --server "127.0.0.1:$PORT" --from a@example.org \
		--to "${1:-x@example.test}" "${@:2}" --silent 2
}

# lines FILE: how many lines it has (0 if it does not exist yet).
lines() {
	if [ -f "$1" ]; then wc -l <"$1"; else echo 0; fi
}

# has_lines FILE N: at least N lines.
has_lines() {
	[ "$(lines "$1")" -ge "$2" ]
}

# start_follow [OPTIONS...] PATH...: mail-ls --follow in the background,
# records in $T/out, stderr in $T/err.  Sets LS_PID.
start_follow() {
	mail-ls --follow "$@" >"$T/out" 2>"$T/err" &
	LS_PID=$!
	PIDS="$PIDS $LS_PID"
}

# stop_follow: SIGTERM; it must exit 0 with nothing on stderr.
stop_follow() {
	local rc=0
	kill -TERM "$LS_PID"
	wait "$LS_PID" || rc=$?
	if [ "$rc" -ne 0 ] || [ -s "$T/err" ]; then
		echo "mail-ls --follow exited $rc" >&2
		cat "$T/err" >&2
		return 1
	fi
}

@test "usage: a PATH is needed, bad values and options are usage errors" {
	run -100 --separate-stderr mail-ls
	[ "${stderr_lines[0]}" = "mail-ls: no PATH given" ]
	[ "${stderr_lines[1]}" = "usage: mail-ls [--follow] [--new-only] [--interval SECONDS] [--max-ids N] PATH..." ]
	[ -z "$output" ]
	run -100 --separate-stderr mail-ls --interval 0 "$T"
	[ "${stderr_lines[0]}" = "mail-ls: interval: 0 is not in 1..86400" ]
	run -100 --separate-stderr mail-ls --interval 5x "$T"
	[ "${stderr_lines[0]}" = "mail-ls: interval: not a number: 5x" ]
	run -100 --separate-stderr mail-ls --max-ids 0 "$T"
	[ "${stderr_lines[0]}" = "mail-ls: max-ids: 0 is not in 1..100000000" ]
	run -100 --separate-stderr mail-ls --bogus "$T"
	[ "${stderr_lines[0]}" = "mail-ls: bad option: --bogus" ]
	[ "${stderr_lines[1]}" = "usage: mail-ls [--follow] [--new-only] [--interval SECONDS] [--max-ids N] PATH..." ]
	run -100 --separate-stderr mail-ls "$T" --interval
	[ "${stderr_lines[0]}" = "mail-ls: --interval: missing argument" ]
	# nothing to follow
	run -100 --separate-stderr mail-ls --follow "$DATA/mail-ls-plain.eml"
	[ "${stderr_lines[0]}" = "mail-ls: --follow needs a maildir" ]
	[ -z "$output" ]
	run -0 --separate-stderr mail-ls --help
	[ "$output" = "usage: mail-ls [--follow] [--new-only] [--interval SECONDS] [--max-ids N] PATH..." ]
}

@test "the man page is lint clean and documents exactly the options of the code" {
	run -0 mandoc -Tlint -W warning "$TOP/man/mail-ls.1"
	[ -z "$output" ]
	code=$(sed -n 's/^\t{ "\([a-z-]*\)", .*/\1/p' "$TOP/tools/mail-ls.c" | sort)
	page=$(sed -n 's/^\.It Fl Fl \([a-z-]*\).*/\1/p' "$TOP/man/mail-ls.1" | sort)
	[ -n "$code" ]
	[ "$code" = "$page" ]
	# and the usage line, less --help, names the same ones
	usage=$(mail-ls --help | grep -o -- '--[a-z-]*' | sed 's/^--//' | sort)
	[ "$usage" = "$(echo "$code" | grep -vx help)" ]
}

@test "a maildir made by hand: new/ then cur/, sorted, ids from names, client null" {
	plain_md
	run -0 --separate-stderr mail-ls "$T/md"
	[ -z "$stderr" ]
	[ "$output" = "$(sed "s|@MD@|$T/md|g" "$DATA/mail-ls-plain.jsonl")" ]
	# --new-only: the two of new/
	run -0 --separate-stderr mail-ls --new-only "$T/md"
	[ -z "$stderr" ]
	[ "$output" = "$(sed "s|@MD@|$T/md|g" "$DATA/mail-ls-plain.jsonl" | head -2)" ]
	# a relative PATH still gives absolute paths
	run -0 --separate-stderr bash -c 'cd "$1" && mail-ls md/' _ "$T"
	[ "$output" = "$(sed "s|@MD@|$T/md|g" "$DATA/mail-ls-plain.jsonl")" ]
	# an empty maildir: nothing, and success
	mkmd "$T/empty"
	run -0 --separate-stderr mail-ls "$T/empty"
	[ -z "$output" ] && [ -z "$stderr" ]
}

@test "messages from smtp-accept: the records equal, byte for byte, what smtp-accept printed" {
	make_cert
	start_accept --tls-cert "$T/cert.pem" --tls-key "$T/key.pem"
	run -0 send x@example.test --h-Subject "plain one"
	run -0 send x@example.test,y@example.test --h-Subject "two recipients"
	run -0 send x@example.test -tls --h-Subject "over TLS"
	run -0 send x@example.test --from "" --h-Subject "null sender"
	stop_accept
	[ "$(spooled)" -eq 4 ]
	[ "$(lines "$T/records")" -eq 4 ]
	run -0 --separate-stderr mail-ls "$T/spool"
	[ -z "$stderr" ]
	[ "${#lines[@]}" -eq 4 ]
	# mail-ls sorts by name, smtp-accept prints in commit order
	[ "$(printf '%s\n' "$output" | sort)" = "$(sort "$T/records")" ]
	grep -q '"tls":{"version":"TLSv1.3"' "$T/records"
	grep -q '"to":\["x@example.test","y@example.test"\]' "$T/records"
}

@test "a message file as PATH, relative or not, gives smtp-accept's record" {
	start_accept
	run -0 send
	stop_accept
	id=$(ls "$T/spool/new")
	run -0 --separate-stderr mail-ls "$T/spool/new/$id"
	[ -z "$stderr" ]
	[ "$output" = "$(cat "$T/records")" ]
	run -0 --separate-stderr bash -c 'cd "$1/spool" && mail-ls "new/$2"' _ "$T" "$id"
	[ "$output" = "$(cat "$T/records")" ]
	# a file and a maildir together, in the order given
	plain_md
	run -0 --separate-stderr mail-ls "$T/spool/new/$id" "$T/md"
	[ "${#lines[@]}" -eq 4 ]
	[ "${lines[0]}" = "$(cat "$T/records")" ]
	[[ "${lines[1]}" == '{"id":"1700000000.M1P1Q1.mx.example.test",'* ]]
}

@test "a copy of a stored message under another name: one id, one record, a warning" {
	start_accept
	run -0 send
	stop_accept
	id=$(ls "$T/spool/new")
	# the copy sorts first (older seconds), then the original
	cp "$T/spool/new/$id" "$T/spool/new/1000000000.M1P1Q1.copy"
	run -0 --separate-stderr mail-ls "$T/spool"
	[ "${#lines[@]}" -eq 1 ]
	[[ "${lines[0]}" == "{\"id\":\"$id\",\"path\":\"$T/spool/new/1000000000.M1P1Q1.copy\","* ]]
	[ "$stderr" = "mail-ls: warning: $T/spool/new/$id: id $id already listed: not listed again" ]
	# the copy sorts last
	mv "$T/spool/new/1000000000.M1P1Q1.copy" "$T/spool/new/9000000000.M1P1Q1.copy"
	run -0 --separate-stderr mail-ls "$T/spool"
	[ "$output" = "$(cat "$T/records")" ]
	[ "$stderr" = "mail-ls: warning: $T/spool/new/9000000000.M1P1Q1.copy: id $id already listed: not listed again" ]
}

@test "a missing PATH is reported, the others are listed, exit 111" {
	plain_md
	run -111 --separate-stderr mail-ls "$T/nope" "$T/md"
	[ "$stderr" = "mail-ls: $T/nope: No such file or directory" ]
	[ "${#lines[@]}" -eq 3 ]
	# a directory that is not a maildir
	mkdir -p "$T/notmd/new"
	run -111 --separate-stderr mail-ls "$T/notmd" "$T/md"
	[ "$stderr" = "mail-ls: $T/notmd/cur: No such file or directory" ]
	[ "${#lines[@]}" -eq 3 ]
	# neither a file nor a directory: permanent
	run -100 --separate-stderr mail-ls /dev/null "$T/md"
	[ "$stderr" = "mail-ls: /dev/null: not a regular file or maildir" ]
	[ "${#lines[@]}" -eq 3 ]
	# under --follow a bad PATH stops it before it lists anything
	run -111 --separate-stderr mail-ls --follow "$T/md" "$T/nope"
	[ "$stderr" = "mail-ls: $T/nope: No such file or directory" ]
	[ -z "$output" ]
}

@test "stdout on /dev/full is a temporary error, and says so" {
	plain_md
	run -111 --separate-stderr bash -c 'mail-ls "$1" >/dev/full' _ "$T/md"
	[ "$stderr" = "mail-ls: write stdout: No space left on device" ]
	run -111 --separate-stderr bash -c 'mail-ls --follow "$1" >/dev/full' _ "$T/md"
	[ "$stderr" = "mail-ls: write stdout: No space left on device" ]
	# a reader gone from the pipe: not a silent death by SIGPIPE
	run -111 --separate-stderr python3 -c '
import os, subprocess, sys
r, w = os.pipe()
os.close(r)
sys.exit(subprocess.call(sys.argv[1:], stdout=w))' mail-ls "$T/md"
	[ "$stderr" = "mail-ls: write stdout: Broken pipe" ]
}

@test "a broken relay block is reported with its reason, the message gets no record, exit 100" {
	plain_md
	bad=1700000100.M2P2Q2.mx.example.test
	cp "$DATA/mail-ls-badblock.eml" "$T/md/new/$bad"
	run -100 --separate-stderr mail-ls "$T/md"
	[ "$stderr" = "mail-ls: $T/md/new/$bad: bad X-Sluice-Received-At" ]
	[ "$output" = "$(sed "s|@MD@|$T/md|g" "$DATA/mail-ls-plain.jsonl")" ]
	# the file stays where it is
	[ -f "$T/md/new/$bad" ]
	# as a PATH of its own, the same
	run -100 --separate-stderr mail-ls "$DATA/mail-ls-badblock.eml"
	[ "$stderr" = "mail-ls: $DATA/mail-ls-badblock.eml: bad X-Sluice-Received-At" ]
	[ -z "$output" ]
	# a temporary error wins over a permanent one
	run -111 --separate-stderr mail-ls "$T/md" "$T/nope"
	[ "${#stderr_lines[@]}" -eq 2 ]
}

@test "a FIFO in new/ is reported, not opened (it would block), exit 100" {
	plain_md
	mkfifo "$T/md/new/1700000003.M1P1Q1.fifo"
	run -100 --separate-stderr timeout 10 mail-ls "$T/md"
	[ "$stderr" = "mail-ls: $T/md/new/1700000003.M1P1Q1.fifo: not a regular file" ]
	[ "${#lines[@]}" -eq 3 ]
}

@test "--follow: arrivals are listed once each, in order; rescans add no duplicates" {
	start_accept
	run -0 send x@example.test --h-Subject "before"
	start_follow --interval 1 "$T/spool"
	wait_for has_lines "$T/out" 1
	run -0 send x@example.test --h-Subject "after one"
	wait_for has_lines "$T/out" 2
	run -0 send x@example.test --h-Subject "after two"
	wait_for has_lines "$T/out" 3
	# a message moved to cur/ is the same id: not listed again
	id=$(ls "$T/spool/new" | head -1)
	mv "$T/spool/new/$id" "$T/spool/cur/$id:2,S"
	# dot names and tmp/ are never listed
	cp "$DATA/mail-ls-plain.eml" "$T/spool/new/.1700000004.M1P1Q1.x"
	cp "$DATA/mail-ls-plain.eml" "$T/spool/tmp/1700000005.M1P1Q1.x"
	# at least two rescans, and SIGHUP asks for one more
	sleep 2.5
	kill -HUP "$LS_PID"
	sleep 0.5
	stop_accept
	stop_follow
	[ "$(lines "$T/out")" -eq 3 ]
	[ "$(sort -u "$T/out" | wc -l)" -eq 3 ]
	# in arrival order, the very lines smtp-accept printed
	[ "$(cat "$T/out")" = "$(cat "$T/records")" ]
}

@test "--follow: messages linked or renamed into new/ by hand; a file gone before it is read is no error" {
	plain_md
	start_follow --interval 1 "$T/md"
	wait_for has_lines "$T/out" 3
	cp "$DATA/mail-ls-plain.eml" "$T/md/tmp/1700000010.M1P1Q1.a"
	ln "$T/md/tmp/1700000010.M1P1Q1.a" "$T/md/new/1700000010.M1P1Q1.a"
	wait_for has_lines "$T/out" 4
	cp "$DATA/mail-ls-plain.eml" "$T/md/tmp/1700000011.M1P1Q1.b"
	mv "$T/md/tmp/1700000011.M1P1Q1.b" "$T/md/cur/1700000011.M1P1Q1.b:2,"
	wait_for has_lines "$T/out" 5
	# moved on by another stage before mail-ls reads it: nothing to say
	kill -STOP "$LS_PID"
	cp "$DATA/mail-ls-plain.eml" "$T/md/tmp/1700000012.M1P1Q1.c"
	mv "$T/md/tmp/1700000012.M1P1Q1.c" "$T/md/new/1700000012.M1P1Q1.c"
	rm "$T/md/new/1700000012.M1P1Q1.c"
	kill -CONT "$LS_PID"
	sleep 1.5
	stop_follow
	[ "$(lines "$T/out")" -eq 5 ]
	run -0 sed -n 's/^{"id":"\([^"]*\)".*/\1/p' "$T/out"
	[ "${lines[3]}" = 1700000010.M1P1Q1.a ]
	[ "${lines[4]}" = 1700000011.M1P1Q1.b ]
}

@test "--follow: an inotify queue overflow is caught up by a rescan, no message lost or doubled" {
	max=$(cat /proc/sys/fs/inotify/max_queued_events)
	[ "$max" -le 100000 ] || skip "max_queued_events is $max"
	n=$((max + 500))
	mkmd "$T/md"
	start_follow --interval 1h "$T/md"
	sleep 0.5
	# while it sleeps, more arrivals than the kernel queues events for
	kill -STOP "$LS_PID"
	python3 - "$T/md" "$n" <<-'EOF'
	import os, sys
	d, n = sys.argv[1], int(sys.argv[2])
	msg = b"From: a@example.org\nSubject: flood\n\nx\n"
	for i in range(n):
	    name = "%d.M%dP1Q1.flood" % (1700000000 + i, i)
	    with open(os.path.join(d, "tmp", name), "wb") as f:
	        f.write(msg)
	    os.rename(os.path.join(d, "tmp", name), os.path.join(d, "new", name))
	EOF
	kill -CONT "$LS_PID"
	# --interval 1h: only the overflow can have started the rescan
	wait_for has_lines "$T/out" "$n"
	sleep 0.5
	stop_follow
	[ "$(lines "$T/out")" -eq "$n" ]
	[ "$(sed 's/,.*//' "$T/out" | sort -u | wc -l)" -eq "$n" ]
}

@test "--follow --max-ids: beyond the limit records may repeat, and a warning says so" {
	plain_md
	mail-ls --follow --max-ids 1 --interval 1 "$T/md" >"$T/out" 2>"$T/err" &
	LS_PID=$!
	PIDS="$PIDS $LS_PID"
	wait_for grep -q "^mail-ls: warning: --max-ids 1 reached: records may repeat$" "$T/err"
	kill -TERM "$LS_PID"
	rc=0
	wait "$LS_PID" || rc=$?
	[ "$rc" -eq 0 ]
	[ "$(lines "$T/out")" -gt 3 ]
	[ "$(grep -vc "^mail-ls: warning: --max-ids 1 reached: records may repeat$" "$T/err")" -eq 0 ]
}

@test "--follow --new-only: cur/ is neither listed nor watched" {
	plain_md
	start_follow --new-only --interval 1 "$T/md"
	wait_for has_lines "$T/out" 2
	cp "$DATA/mail-ls-plain.eml" "$T/md/tmp/1700000020.M1P1Q1.c"
	mv "$T/md/tmp/1700000020.M1P1Q1.c" "$T/md/cur/1700000020.M1P1Q1.c:2,"
	cp "$DATA/mail-ls-plain.eml" "$T/md/tmp/1700000021.M1P1Q1.n"
	mv "$T/md/tmp/1700000021.M1P1Q1.n" "$T/md/new/1700000021.M1P1Q1.n"
	wait_for has_lines "$T/out" 3
	sleep 1.5
	stop_follow
	[ "$(lines "$T/out")" -eq 3 ]
	! grep -q '"path":"[^"]*/cur/' "$T/out"
}

@test "--follow: a watched directory that goes away ends it with 111" {
	plain_md
	start_follow --interval 1h "$T/md"
	wait_for has_lines "$T/out" 3
	rm -rf "$T/md/cur"
	rc=0
	wait "$LS_PID" || rc=$?
	[ "$rc" -eq 111 ]
	[ "$(cat "$T/err")" = "mail-ls: watch $T/md/cur: directory went away" ]
}
