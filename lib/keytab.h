/*
 * keytab: a bounded, thread-safe table from short string keys to two
 * numbers, for the counters smtp-accept keeps across sessions: sessions
 * per client address, a token bucket per recipient, the clients that
 * passed the pre-greet test.
 *
 * Open addressing with linear probing, a fixed capacity set at creation,
 * one mutex.  When the table is full, entries that the caller's idle()
 * function calls idle are dropped; if none are, the new key is not
 * tracked and keytab_update returns -1 (callers then let the client in:
 * a limit that cannot be counted must not refuse mail).
 */
#ifndef SLUICE_KEYTAB_H
#define SLUICE_KEYTAB_H

#include <stddef.h>

#define KEYTAB_KEY 256

struct keytab_val {
	double a;
	double b;
};

struct keytab;

/* A table of at most max entries; idle(v, now) says whether an entry may
 * be dropped (NULL: none may). */
struct keytab *keytab_new(size_t max,
    int (*idle)(const struct keytab_val *, double now));
void keytab_free(struct keytab *);

/*
 * Under the lock, find key (cut at KEYTAB_KEY - 1 bytes), creating it
 * zeroed when missing (*v then all zero and isnew set), and call fn on
 * its value.  If fn returns 0 the entry is removed afterwards.  Returns
 * fn's return, or -1 when the key could not be added.
 */
int keytab_update(struct keytab *, const char *key, double now,
    int (*fn)(struct keytab_val *v, int isnew, void *arg), void *arg);

/* Entries held. */
size_t keytab_count(struct keytab *);

#endif
