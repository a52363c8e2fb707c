#!/usr/bin/env bats
# man.bats: the man pages are clean mdoc and say what the code does.
#
# For each section-1 page man/NAME.1 whose program is bin/NAME.c or
# tools/NAME.c, the long options of the source's `struct option` array
# must be exactly the options the page lists (`.It Fl -name`), the page
# may name with `Fl` only options that some sluice program has, and the
# usage string `synopsis[]` of the source, like the page's SYNOPSIS, may
# name only options the program has.  An option added to the code and not
# to the page, or left in the page after it went from the code, fails.
#
# In mdoc a long option is `Fl -name` or `Fl Fl name` (both render
# --name); both are understood.  Options of
# programs that are not sluice's (tcpserver -c ...) are written with Fl
# and a short name, which these checks leave alone.

load helpers

# src_longopts FILE: the names of the { "name", ... } entries of the
# struct option array(s) in a C source, one a line, sorted.
src_longopts() {
	awk '/struct option [A-Za-z_0-9]*\[\] *=/ { on = 1 }
	     on { print }
	     on && /^[[:space:]]*};/ { on = 0 }' "$1" |
		grep -oE '\{[[:space:]]*"[^"]+"' |
		sed -E 's/^\{[[:space:]]*"//; s/"$//' | sort -u
}

# src_synopsis FILE: the usage string, `synopsis[] = "..." "...";`, with
# its pieces joined.  Empty if the source has none.
src_synopsis() {
	awk '/synopsis\[\][[:space:]]*=/ { on = 1 }
	     on { print }
	     on && /;[[:space:]]*$/ { exit }' "$1" |
		grep -oE '"([^"\\]|\\.)*"' | sed -E 's/^"//; s/"$//' | tr -d '\n'
}

# long_opts_in TEXT on stdin: the --name words, without the dashes.
long_opts_in() {
	grep -oE -- '--[A-Za-z0-9][A-Za-z0-9-]*' | sed 's/^--//' | sort -u
}

# man_flags PAGE [SECTION]: every long option the page names with Fl, in
# the whole page or in one section.  mdoc writes --name as `Fl -name` or
# as `Fl Fl name`; `Fl -a -b` names two.
man_flags() {
	awk -v sec="${2:-}" '
	    /^\.Sh / { cur = substr($0, 5) }
	    sec != "" && cur != sec { next }
	    /^\./ {
		for (i = 1; i <= NF; i++) {
			if ($i != "Fl" && $i != ".Fl")
				continue
			if ($(i + 1) == "Fl" && $(i + 2) ~ /^[A-Za-z0-9]/) {
				print $(i + 2)
				i += 2
				continue
			}
			for (j = i + 1; j <= NF && $j ~ /^-/; j++)
				print substr($j, 2)
		}
	    }' "$1" | sed -E 's/[^A-Za-z0-9-].*$//' | grep -E '^-?[A-Za-z0-9][A-Za-z0-9-]+$' |
		sort -u
}

# man_items PAGE: the options the page lists, `.It Fl -name` or
# `.It Fl Fl name`.
man_items() {
	awk '$1 == ".It" && $2 == "Fl" && $3 == "Fl" { print $4; next }
	     $1 == ".It" && $2 == "Fl" && $3 ~ /^-/ { print substr($3, 2) }' "$1" |
		sed -E 's/[^A-Za-z0-9-].*$//' | sort -u
}

# every_longopt: the long options of all sluice programs.
every_longopt() {
	local f
	for f in "$TOP"/bin/*.c "$TOP"/tools/*.c; do
		[ -f "$f" ] && src_longopts "$f"
	done | sort -u
}

# check_page SRC PAGE: say every difference between the code and the page
# on stdout; status 1 if there is one.
check_page() {
	local src=$1 page=$2 bad=0 all syn o
	local code items flags synflags
	code=$(src_longopts "$src")
	items=$(man_items "$page")
	flags=$(man_flags "$page")
	synflags=$(man_flags "$page" SYNOPSIS)
	all=$(every_longopt; printf '%s\n' "$code")
	if [ -z "$code" ]; then
		echo "$src: no long options found in a struct option array"
		return 1
	fi
	for o in $(comm -23 <(printf '%s\n' "$code") <(printf '%s\n' "$items")); do
		echo "$page: --$o is in $src but not listed (.It Fl -$o)"
		bad=1
	done
	for o in $(comm -13 <(printf '%s\n' "$code") <(printf '%s\n' "$items")); do
		echo "$page: lists --$o, which $src does not have"
		bad=1
	done
	for o in $(comm -23 <(printf '%s\n' "$flags") <(printf '%s\n' "$all" | sort -u)); do
		echo "$page: names --$o (Fl -$o), which no sluice program has"
		bad=1
	done
	for o in $(comm -23 <(printf '%s\n' "$synflags") <(printf '%s\n' "$code")); do
		echo "$page: SYNOPSIS names --$o, which $src does not have"
		bad=1
	done
	syn=$(src_synopsis "$src")
	if [ -z "$syn" ]; then
		echo "$src: no usage string (static const char synopsis[])"
		bad=1
	fi
	for o in $(printf '%s\n' "$syn" | long_opts_in | comm -23 - <(printf '%s\n' "$code")); do
		echo "$src: the usage string names --$o, which is not an option"
		bad=1
	done
	return $bad
}

# pages_with_source: "SRC PAGE" for each section-1 page of a C program.
pages_with_source() {
	local page name
	for page in "$TOP"/man/*.1; do
		[ -f "$page" ] || continue
		name=$(basename "$page" .1)
		if [ -f "$TOP/bin/$name.c" ]; then
			echo "$TOP/bin/$name.c $page"
		elif [ -f "$TOP/tools/$name.c" ]; then
			echo "$TOP/tools/$name.c $page"
		fi
	done
}

@test "every man page is mandoc -Tlint -W warning clean" {
	local pages=("$TOP"/man/*.[157])
	[ -f "${pages[0]}" ]
	run --separate-stderr mandoc -Tlint -W warning "${pages[@]}"
	if [ -n "$output$stderr" ] || [ "$status" -ne 0 ]; then
		printf '%s\n' "$output" "$stderr"
		return 1
	fi
}

@test "smtp-accept.1, sluice-record.5 and sluice.7 exist" {
	[ -f "$TOP/man/smtp-accept.1" ]
	[ -f "$TOP/man/sluice-record.5" ]
	[ -f "$TOP/man/sluice.7" ]
}

@test "each program's page lists exactly the options of its code" {
	local src page n=0 fail=0
	while read -r src page; do
		n=$((n + 1))
		check_page "$src" "$page" || fail=1
	done < <(pages_with_source)
	[ "$n" -ge 1 ]
	[ "$fail" -eq 0 ]
}

@test "each program's page lists exit statuses 0, 100 and 111, not .Ex -std" {
	local src page fail=0 es
	while read -r src page; do
		es=$(awk '/^\.Sh / { on = ($0 == ".Sh EXIT STATUS") } on' "$page")
		for code in 0 100 111; do
			if ! printf '%s\n' "$es" | grep -qx "\.It $code"; then
				echo "$page: EXIT STATUS does not list $code"
				fail=1
			fi
		done
		if printf '%s\n' "$es" | grep -q '^\.Ex'; then
			echo "$page: EXIT STATUS uses .Ex"
			fail=1
		fi
	done < <(pages_with_source)
	[ "$fail" -eq 0 ]
}

@test "the check finds an option added to the code but not to the page" {
	cp "$TOP/man/smtp-accept.1" "$T/page.1"
	sed 's/{ "greet-wait", required_argument/{ "frobnicate", no_argument, NULL, 999 },\n&/' \
		"$TOP/bin/smtp-accept.c" >"$T/src.c"
	grep -q '"frobnicate"' "$T/src.c"
	run check_page "$T/src.c" "$T/page.1"
	[ "$status" -eq 1 ]
	[ "$output" = "$T/page.1: --frobnicate is in $T/src.c but not listed (.It Fl -frobnicate)" ]
}

@test "the check finds an option in the page that the code lacks" {
	cp "$TOP/bin/smtp-accept.c" "$T/src.c"
	sed 's/^\.It Fl -help$/.It Fl -frobnicate\nFrobnicate.\n&/' \
		"$TOP/man/smtp-accept.1" >"$T/page.1"
	run check_page "$T/src.c" "$T/page.1"
	[ "$status" -eq 1 ]
	[ "${lines[0]}" = "$T/page.1: lists --frobnicate, which $T/src.c does not have" ]
	[ "${lines[1]}" = "$T/page.1: names --frobnicate (Fl -frobnicate), which no sluice program has" ]
}

@test "the check finds a usage string naming an option that does not exist" {
	cp "$TOP/man/smtp-accept.1" "$T/page.1"
	sed 's/\[--records FILE\]/[--record FILE]/' "$TOP/bin/smtp-accept.c" >"$T/src.c"
	grep -q -- '--record FILE' "$T/src.c"
	run check_page "$T/src.c" "$T/page.1"
	[ "$status" -eq 1 ]
	[ "$output" = "$T/src.c: the usage string names --record, which is not an option" ]
}

@test "the check finds an option removed from the code but still listed" {
	# --require-tls gone from the code, left in the page.
	grep -v '"require-tls"' "$TOP/bin/smtp-accept.c" >"$T/src.c"
	cp "$TOP/man/smtp-accept.1" "$T/page.1"
	run check_page "$T/src.c" "$T/page.1"
	[ "$status" -eq 1 ]
	[ "${lines[0]}" = "$T/page.1: lists --require-tls, which $T/src.c does not have" ]
}

@test "the check reads both mdoc spellings of a long option" {
	cat >"$T/src.c" <<'SRC'
static const char synopsis[] = "prog [--alpha] [--beta N]";
static const struct option longopts[] = {
	{ "alpha", no_argument, NULL, 1 },
	{ "beta", required_argument, NULL, 2 },
	{ NULL, 0, NULL, 0 }
};
SRC
	printf '%s\n' .Sh SYNOPSIS '.Op Fl Fl alpha' '.Sh DESCRIPTION' \
		'.Bl -tag -width Ds' '.It Fl Fl alpha' '.It Fl -beta Ar n' .El \
		>"$T/page.1"
	run check_page "$T/src.c" "$T/page.1"
	[ "$status" -eq 0 ]
	sed -i '/It Fl Fl alpha/d' "$T/page.1"
	run check_page "$T/src.c" "$T/page.1"
	[ "$status" -eq 1 ]
	[ "$output" = "$T/page.1: --alpha is in $T/src.c but not listed (.It Fl -alpha)" ]
}
