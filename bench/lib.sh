# lib.sh: what the benchmark scripts share (sourced from the top of the
# tree).  say, die; bench_tools builds build/bench/smtp-load and proctree
# (LOAD, PTREE); kill_tree, wait_gone; pick_port (PICKED), wait_banner.
# shellcheck shell=bash

say() { printf 'bench: %s\n' "$*" >&2; }
die() { say "$*"; exit 111; }

# bench_tools: the load generator and the process-tree sampler.
bench_tools() {
	local p
	BB=$ROOT/build/bench
	LOAD=$BB/smtp-load
	PTREE=$BB/proctree
	mkdir -p "$BB" bench/results bench/.cache || die "mkdir build/bench"
	for p in smtp-load proctree; do
		if [ ! -x "$BB/$p" ] || [ "bench/$p.c" -nt "$BB/$p" ]; then
			cc -O2 -g -std=c11 -D_POSIX_C_SOURCE=200809L \
			    -D_DEFAULT_SOURCE -Wall -Wextra -Werror \
			    -o "$BB/$p" "bench/$p.c" -lssl -lcrypto -lm ||
			    die "cannot build bench/$p.c"
		fi
	done
}

# kill_tree PID SIG: signal PID and its descendants, by PID only.
kill_tree() {
	local all
	all=$(ps -e -o pid=,ppid= | awk -v r="$1" '
		{ par[$1] = $2; pids[NR] = $1 }
		END {
			keep[r] = 1
			do { n = 0
			     for (i in pids) { p = pids[i]
				if (!(p in keep) && (par[p] in keep)) { keep[p] = 1; n++ } }
			} while (n > 0)
			for (p in keep) print p
		}')
	# shellcheck disable=SC2086
	[ -n "$all" ] && kill -"$2" $all 2>/dev/null
	return 0
}

# wait_gone PID SECONDS: 0 once PID has exited.
wait_gone() {
	local i
	for ((i = 0; i < $2 * 10; i++)); do
		kill -0 "$1" 2>/dev/null || return 0
		sleep 0.1
	done
	return 1
}

# Ports: below the ephemeral range, so no client connection takes one.
read -r EPH_LO _ < /proc/sys/net/ipv4/ip_local_port_range
USED_PORTS=" "
PICKED=""
# pick_port: sets PICKED to a port nobody listens on.
pick_port() {
	local p i
	for ((i = 0; i < 200; i++)); do
		p=$((10000 + RANDOM % (EPH_LO - 10000)))
		case $USED_PORTS in *" $p "*) continue ;; esac
		# a refused connection means nobody listens there
		if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
			USED_PORTS="$USED_PORTS$p "
			PICKED=$p
			return 0
		fi
	done
	die "no free port"
}

# wait_banner PORT SECONDS: 0 once a 220 greeting comes.
wait_banner() {
	local i line
	for ((i = 0; i < $2 * 5; i++)); do
		if [ -n "$PID" ] && ! kill -0 "$PID" 2>/dev/null; then
			return 1
		fi
		if exec 3<>"/dev/tcp/127.0.0.1/$1"; then
			line=""
			read -r -t 5 line <&3
			exec 3>&-
			case $line in 220*) return 0 ;; esac
		fi 2>/dev/null
		sleep 0.2
	done
	return 1
}

