/*
 * test_verdict: mail-pool's policy table: parsing, refusals, and the
 * verdict of a record.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "verdict.h"
#include "t.h"

static const char *
parse_err(const char *s)
{
	static char err[256];
	struct verdict_table t;

	verdict_default(&t);
	if (verdict_parse(&t, s, strlen(s), err, sizeof(err)) == 0)
		return "ok";
	return err;
}

static const char *
of(const char *json)
{
	json_error_t je;
	json_t *rec = json_loads(json, 0, &je);
	const char *v = verdict_of(rec);

	json_decref(rec);
	return v;
}

int
main(void)
{
	struct verdict_table t;
	const char *tab = "# sluice policy\n"
	    "spam tag\n"
	    "\tmalicious   quarantine # never\n"
	    "\n"
	    "bulk drop\r\n"
	    "spoof quarantine";
	char err[256], big[5000];

	verdict_default(&t);
	is_int(verdict_action(&t, "malicious"), VERDICT_DELIVER,
	    "default: everything delivered");
	ok(verdict_parse(&t, tab, strlen(tab), err, sizeof(err)) == 0,
	    "a table parses");
	is_int(verdict_action(&t, "spam"), VERDICT_TAG, "spam tag");
	is_int(verdict_action(&t, "malicious"), VERDICT_QUARANTINE,
	    "blanks and a comment around");
	is_int(verdict_action(&t, "bulk"), VERDICT_DROP, "a CR before LF");
	is_int(verdict_action(&t, "spoof"), VERDICT_QUARANTINE,
	    "a last line without LF");
	is_int(verdict_action(&t, "clean"), VERDICT_DELIVER,
	    "a verdict not given is delivered");
	is_int(verdict_action(&t, "nonsense"), VERDICT_DELIVER,
	    "an unknown verdict is suspicious (delivered here)");

	is_str(parse_err("spam\n"), "line 1: not a verdict and an action",
	    "one word");
	is_str(parse_err("\nspam tag now\n"),
	    "line 2: more than a verdict and an action", "three words");
	is_str(parse_err("ham deliver"), "line 1: unknown verdict ham",
	    "unknown verdict");
	is_str(parse_err("spam burn"), "line 1: unknown action burn",
	    "unknown action");
	is_str(parse_err("spam tag\nSPAM drop"),
	    "line 2: unknown verdict SPAM", "verdicts are lowercase");
	is_str(parse_err("spam tag\nspam drop"),
	    "line 2: verdict spam given twice", "twice");
	is_str(parse_err("spam\0 tag"), "line 1: not a verdict and an action",
	    "a NUL cuts (C string)");
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	is_str(parse_err(big), "line 1: over 4096 bytes", "a long line");
	is_str(parse_err("# only comments\n\n   \n"), "ok", "an empty table");

	verdict_default(&t);
	verdict_parse(&t, "spam drop", 9, err, sizeof(err));
	ok(verdict_parse(&t, "spam tag\nx y", 12, err, sizeof(err)) == -1 &&
	    verdict_action(&t, "spam") == VERDICT_DROP,
	    "a bad table leaves the old one");

	is_str(of("{\"id\":\"x\"}"), "clean", "no scan: clean");
	is_str(of("{\"scan\":null}"), "clean", "scan null: clean");
	is_str(of("{\"scan\":{\"verdict\":\"spam\"}}"), "spam", "spam");
	is_str(of("{\"scan\":{\"verdict\":\"malicious\"}}"), "malicious",
	    "malicious");
	is_str(of("{\"scan\":{}}"), "suspicious", "scan without verdict");
	is_str(of("{\"scan\":{\"verdict\":\"evil\"}}"), "suspicious",
	    "an unknown verdict");
	is_str(of("{\"scan\":{\"verdict\":3}}"), "suspicious",
	    "a verdict not a string");
	is_str(verdict_action_name(VERDICT_QUARANTINE), "quarantine",
	    "action names");

	return t_done();
}
