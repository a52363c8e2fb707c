/*
 * test_rules: lib/rules, the --rules file of mail-scan: the line format,
 * its errors with their line, header and body targets, flags, each rule
 * once a message, and the match limit.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rules.h"
#include "t.h"

static char got[1024];

static void
hit(void *arg, const char *id, int score, const char *desc)
{
	size_t l = strlen(got);

	(void)arg;
	snprintf(got + l, sizeof(got) - l, "%s%s=%d:%s", l ? " " : "", id,
	    score, desc);
}

static struct rules *
parse(const char *s, char *err, size_t errsz)
{
	return rules_parse(s, strlen(s), "r", err, errsz);
}

int
main(void)
{
	static const struct {
		const char *file, *err;
	} bad[] = {
		{ "a 1 body /x(/ d\n", "r:1: regex at offset 2: missing "
		    "closing parenthesis" },
		{ "# c\n\n  a 1 body /x/ d\nb 1 body /x/\n",
		    "r:4: no description" },
		{ "a 1 body /x/z d", "r:1: flag z: not one of i m s x" },
		{ "a 1 body /x\\/ d", "r:1: regex not closed by /" },
		{ "a -101 body /x/ d", "r:1: score \"-101\": not an integer "
		    "from -100 to 100" },
		{ "a 1x body /x/ d", "r:1: score \"1x\": not an integer from "
		    "-100 to 100" },
		{ "a", "r:1: no score" },
		{ "a 1", "r:1: no target (body or header:NAME)" },
		{ "a 1 header: /x/ d", "r:1: target \"header:\": not body or "
		    "header:NAME" },
		{ "a 1 header:Sub:ject /x/ d", "r:1: target header:Sub:ject: "
		    "not a field name" },
		{ "a 1 body x", "r:1: no /regex/" },
		{ "a/b 1 body /x/ d", "r:1: id \"a/b\": only letters, digits, "
		    "_ . -" },
		{ "a 1 body /x/ d\na 1 body /y/ e", "r:2: id a given twice" },
	};
	struct rules *r;
	unsigned char seen[8];
	char err[512];
	size_t i;
	int over;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		r = parse(bad[i].file, err, sizeof(err));
		ok(r == NULL, bad[i].err);
		is_str(err, bad[i].err, "its reason");
		rules_free(r);
	}

	/* PCRE2's own words change between its versions */
	ok(parse("a 1 body /\\p{Nope}/ d", err, sizeof(err)) == NULL,
	    "an unknown property");
	ok(strncmp(err, "r:1: regex at offset 8: ", 24) == 0,
	    "PCRE2's reason and offset");

	r = parse("# the rules\n"
	    "meds 4 body /cheap\\s+m[e3]ds/i Cheap meds  \r\n"
	    "win 3 header:subject /\\bwinner\\b/i A winner\n"
	    "slash 1 body /a\\/b/ a slash\n"
	    "neg -2 header:From /@example\\.org>$/ ours\n"
	    "dot 1 body /x.y/s dot all\n"
	    "cyr 2 body /\\p{Cyrillic}/ Cyrillic\n", err, sizeof(err));
	ok(r != NULL, "a good file loads");
	is_int(rules_count(r), 6, "six rules");

	got[0] = '\0';
	memset(seen, 0, sizeof(seen));
	rules_body(r, "Buy CHEAP  M3DS a/b x\ny", 23, seen, hit, NULL);
	is_str(got, "meds=4:Cheap meds slash=1:a slash dot=1:dot all",
	    "body rules, flags i and s, an escaped slash, blanks trimmed");
	got[0] = '\0';
	rules_body(r, "cheap meds again", 16, seen, hit, NULL);
	is_str(got, "", "a rule fires once a message");
	got[0] = '\0';
	rules_header(r, "SUBJECT", 7, "You are a Winner", 16, seen, hit, NULL);
	rules_header(r, "From", 4, "A <a@example.org>", 17, seen, hit, NULL);
	rules_header(r, "To", 2, "winner", 6, seen, hit, NULL);
	is_str(got, "win=3:A winner neg=-2:ours",
	    "header rules by field name, any case; negative scores");
	got[0] = '\0';
	rules_body(r, "\xd0\xb0 and \xff\xfe", 6, NULL, hit, NULL);
	is_str(got, "cyr=2:Cyrillic", "UTF-8 with invalid bytes still matches");
	rules_free(r);

	r = parse("runaway 5 body /^(a|a)+$/ runaway\n", err, sizeof(err));
	ok(r != NULL, "a runaway pattern loads");
	{
		char s[64];

		memset(s, 'a', 40);
		s[40] = 'b';
		got[0] = '\0';
		over = rules_body(r, s, 41, NULL, hit, NULL);
		is_int(over, 1, "it stops at the match limit");
		is_str(got, "", "and counts as no match");
		over = rules_body(r, s, 40, NULL, hit, NULL);
		is_int(over, 0, "a subject it matches fast");
		is_str(got, "runaway=5:runaway", "matches");
	}
	rules_free(r);

	err[0] = '\0';
	ok(rules_load("/nonexistent/rules", err, sizeof(err)) == NULL,
	    "a missing file");
	is_str(err, "/nonexistent/rules: No such file or directory",
	    "says so");
	return t_done();
}
