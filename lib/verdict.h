/*
 * verdict: mail-pool's policy table, what to do with a message for each
 * scan verdict of mail-scan(1).  Plain text, one "VERDICT ACTION" a line,
 * blanks between and around, "#" to the end of the line a comment, blank
 * lines skipped; a line at most LIMIT_TABLE_LINE bytes, the file at most
 * LIMIT_VERDICT_FILE.  VERDICT is one of clean, bulk, spam, spoof,
 * suspicious, malicious; ACTION one of deliver, tag, quarantine, drop.
 * A verdict given twice is an error; one not given is delivered.
 *
 * A table is a plain struct the caller owns: reload by parsing into a new
 * one and copying it over the old when it parsed.
 */
#ifndef SLUICE_VERDICT_H
#define SLUICE_VERDICT_H

#include <jansson.h>
#include <stddef.h>

enum verdict_action {
	VERDICT_DELIVER,	/* as it is */
	VERDICT_TAG,		/* with scan.headers added */
	VERDICT_QUARANTINE,	/* into the quarantine, not delivered */
	VERDICT_DROP		/* removed, with an event */
};

#define VERDICT_N 6	/* clean bulk spam spoof suspicious malicious */

struct verdict_table {
	enum verdict_action act[VERDICT_N];
};

/* Every verdict delivered: the table without --policy. */
void verdict_default(struct verdict_table *);

/*
 * Parse len bytes of a table into t.  Returns 0, or -1 with "line N:
 * reason" in err (size errsz); t is then unchanged.
 */
int verdict_parse(struct verdict_table *t, const char *buf, size_t len,
    char *err, size_t errsz);

/* Read the file at path and parse it; -1 with "PATH: reason" in err. */
int verdict_load(struct verdict_table *t, const char *path, char *err,
    size_t errsz);

/*
 * The verdict of a record: scan.verdict when it is one of the six; a
 * record without scan (or with scan null) is "clean"; a scan without a
 * verdict, or with another one, is "suspicious" (a scanner we do not
 * understand is not a clean bill).  The returned string is static.
 */
const char *verdict_of(const json_t *rec);

/* What t says for the verdict (one of verdict_of's strings). */
enum verdict_action verdict_action(const struct verdict_table *t,
    const char *verdict);

/* "deliver", "tag", "quarantine", "drop". */
const char *verdict_action_name(enum verdict_action);

#endif
