/*
 * scan: the work of mail-scan on one message: its MIME parts (lib/mime)
 * streamed from the file, every attachment typed by libmagic against its
 * declared type and its name, archives opened with libarchive (bounded
 * by depth, members, expanded bytes and ratio), Office macros, PDF
 * actions, HTML smuggling, script and shortcut files, SHA-256 against a
 * block list; the verdict from the reasons.  See mail-scan(1) for the
 * rules and sluice-record(5) for the scan object.
 *
 * A struct scan_conf is read-only once made; a struct scan is one
 * thread's state (its libmagic handle, its block list).  No global state.
 */
#ifndef SLUICE_SCAN_H
#define SLUICE_SCAN_H

#include <jansson.h>
#include <signal.h>
#include <stddef.h>

struct scan_conf {
	/* MIME */
	int max_depth;
	long max_parts;
	unsigned long long max_decoded;
	/* archives */
	int max_archive_depth;
	long max_archive_members;
	unsigned long long max_expand;	/* bytes expanded per message */
	long max_ratio;			/* expanded / archive bytes */
	long long max_size;		/* bytes of a message read */
	/* verdict thresholds (threat scores) */
	int spam_score;
	int suspicious_score;
	int malicious_score;
	const char *hash_blocklist;	/* file of SHA-256 hashes, or NULL */
	/* tables (table.h), each a file or NULL */
	const char *protect_domains;	/* domains lookalikes imitate */
	const char *own_domains;	/* ours: protected too */
	const char *shorteners;		/* more URL shortener hosts */
	const char *domain_blocklist;	/* URL hosts blocked */
	const char *protect_names;	/* display names of protected people */
	const char *freemail;		/* more free-mail domains */
	const char *rules;		/* header and body rules (rules.h) */
	/* DNS block lists: URI lists (url.h) and client IP lists */
	const char *const *uribl;
	size_t nuribl;
	const char *const *dnsbl;
	size_t ndnsbl;
	const char *dns;		/* HOST[:PORT], or NULL: resolv.conf */
	int bec_score;			/* BEC rules adding up to this: bec */
	/* bumped (by SIGHUP) to have the block list read again; NULL: never */
	volatile sig_atomic_t *reload;
};

/*
 * How a rule reports: its id, its score and a detail (UTF-8 or wire
 * bytes; escaped on the way into the record).  lib/url reports the same
 * way.
 */
typedef void scan_reason_fn(void *arg, const char *rule, int score,
    const char *detail);

struct scan;

/* A thread's state, or NULL with the reason in err (a block list or a
 * table that cannot be read, a bad rules file, libmagic without its
 * database, a resolver that cannot be made). */
struct scan *scan_new(const struct scan_conf *, char *err, size_t errsz);
void scan_free(struct scan *);

/*
 * Scan the message file named by rec's "path" and add rec's "scan"
 * object (replacing one already there).  Returns 0, or -1 with the
 * reason in err (nothing added): the file could not be read.
 */
int scan_record(struct scan *, json_t *rec, char *err, size_t errsz);

/*
 * Read the block list at path: one SHA-256 in hex a line, # comments,
 * blank lines.  Returns a sorted array of 32-byte hashes (malloc'd, the
 * caller frees) with *n set, or NULL with the reason in err.
 */
unsigned char *scan_blocklist_load(const char *path, size_t *n, char *err,
    size_t errsz);

#endif
