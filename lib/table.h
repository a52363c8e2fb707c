/*
 * table: the plain-text tables of sluice(5): relay domains, partner TLS
 * policy (sender domains and client networks), protected names, block
 * lists.  One entry a line; "#" to the end of the line is a comment;
 * blanks (space, tab, CR) around an entry are trimmed; blank lines are
 * skipped.  Lines are at most LIMIT_TABLE_LINE bytes, tables at most
 * LIMIT_TABLE_ENTRIES entries.
 *
 * An entry that parses as an IP address or network ("192.0.2.0/24",
 * "2001:db8::1") goes into a cidr_list (see cidr.h for the rules); one
 * that only looks like one (hex digits, dots, colons and a "/" or ":", or
 * digits and dots) is an error rather than a key.  Any other entry is a
 * key: ASCII letters are lowercased, UTF-8 is kept as is, and control
 * characters or invalid UTF-8 are errors.  Keys are kept in a hash set
 * (open addressing), so loading and lookups stay fast with 100,000
 * entries and more.  Duplicates are kept once.
 *
 * A table is never changed after it is built: callers reload on SIGHUP by
 * building a new table and swapping it in, and lookups on one table may
 * run in several threads at once.  Every lookup takes NULL for an empty
 * table.
 */
#ifndef SLUICE_TABLE_H
#define SLUICE_TABLE_H

#include <stddef.h>
#include <sys/socket.h>

struct table;

/*
 * Load the table in the file at path, read with the line reader of
 * line.h.  Returns the table (free with table_free), or NULL with the
 * reason in err (size errsz, cut to fit): "PATH: No such file or
 * directory" (errno set too) for a file that cannot be opened or read,
 * "PATH: line N: reason" for a bad line (errno EINVAL).  Out of memory
 * exits 111.
 */
struct table *table_load(const char *path, char *err, size_t errsz);

/*
 * A table of the entries of a comma list, as given to a flag such as
 * --domains a.example,b.example: blanks around entries are allowed, an
 * empty entry is an error, a wholly blank list gives an empty table; no
 * comments.  Returns the table, or NULL with "entry N: reason" in err.
 */
struct table *table_from_list(const char *commalist, char *err,
    size_t errsz);

/* "@FILE" loads FILE (table_load), anything else is a comma list
 * (table_from_list).  Returns and fails as they do. */
struct table *table_from_arg(const char *arg, char *err, size_t errsz);

void table_free(struct table *);

/* The number of distinct entries, keys and networks. */
size_t table_count(const struct table *);

/* 1 if key is an entry (ASCII case ignored), 0 if not. */
int table_has(const struct table *, const char *key);

/*
 * 1 if the domain is an entry, or if a parent of it is an entry written
 * with a leading dot (".example.org" matches a.example.org and
 * b.a.example.org, but not example.org itself, as in Postfix); 0 if not.
 * One trailing dot of domain is ignored; ASCII case is ignored.
 */
int table_has_domain(const struct table *, const char *domain);

/*
 * The keys (not the networks) one by one, lowercased, in the order they
 * were first read: *pos is 0 for the first call and is advanced by each.
 * Returns the next key (the table's), or NULL after the last.
 */
const char *table_next_key(const struct table *, size_t *pos);

/* 1 if the address of sa is in one of the networks (cidr_match), 0 if
 * not. */
int table_has_addr(const struct table *, const struct sockaddr *sa);

#endif
