/*
 * rules: mail-scan's --rules file, header and body patterns in PCRE2.
 *
 * One rule a line; "#" at the start of a line (after blanks) makes it a
 * comment, blank lines are skipped:
 *
 *	ID SCORE TARGET /REGEX/FLAGS DESCRIPTION
 *
 * ID is 1 to 64 of A-Z a-z 0-9 _ . - and unique in the file; SCORE an
 * integer from -100 to 100; TARGET is "body" (each text part, decoded to
 * UTF-8, HTML as its source) or "header:NAME" (each field called NAME,
 * unfolded, RFC 2047 words decoded); the regex runs from the first "/"
 * to the next "/" not escaped by a backslash (a "\/" stays in the
 * pattern, where PCRE2 reads it as "/"); FLAGS are any of i (caseless),
 * m (multiline), s (dot matches newline) and x (extended); DESCRIPTION is
 * the rest of the line, not empty.  Patterns are UTF-8 and match UTF-8
 * (invalid sequences in the subject never match).
 *
 * Every match runs under a match limit (LIMIT_RULE_MATCH), a depth limit
 * (LIMIT_RULE_DEPTH) and a heap limit (LIMIT_RULE_HEAP): a pattern that
 * would run away stops there, and counts as not matching (rules_over
 * counts how often).  A subject is cut to LIMIT_RULE_SUBJECT bytes.
 *
 * A struct rules is read-only once loaded: matches may run in several
 * threads at once.  Reload on SIGHUP by loading anew.
 */
#ifndef SLUICE_RULES_H
#define SLUICE_RULES_H

#include <stddef.h>

#define RULES_ID_MAX	64	/* bytes of a rule's id */

struct rules;

/*
 * Load the rules of the file at path.  Returns them (free with
 * rules_free), or NULL with the reason in err (size errsz): "PATH: No
 * such file or directory" for a file that cannot be read,
 * "PATH:LINE: reason" for a bad line.  Out of memory exits 111.
 */
struct rules *rules_load(const char *path, char *err, size_t errsz);

/* The same from len bytes in memory; name stands for the file in err. */
struct rules *rules_parse(const char *buf, size_t len, const char *name,
    char *err, size_t errsz);

void rules_free(struct rules *);

/* The number of rules. */
size_t rules_count(const struct rules *);

/*
 * How a match reports: the rule's id, score and description, valid
 * while the rules live.
 */
typedef void rules_hit_fn(void *arg, const char *id, int score,
    const char *desc);

/*
 * Run the rules of TARGET header:NAME (name of namelen bytes, ASCII case
 * ignored) on value, or the body rules on a text part, calling hit once
 * per rule that matches and that seen (rules_count bytes, zeroed by the
 * caller for each message; NULL: no memory) has not marked; the rule is
 * then marked.  Returns the number of matches stopped by a limit.
 */
int rules_header(const struct rules *, const char *name, size_t namelen,
    const char *value, size_t len, unsigned char *seen, rules_hit_fn *hit,
    void *arg);
int rules_body(const struct rules *, const char *text, size_t len,
    unsigned char *seen, rules_hit_fn *hit, void *arg);

#endif
