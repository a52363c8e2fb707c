/*
 * fair: round robin across the sources of messages (mail-pool's sender
 * domains), so that one source flooding the pool cannot delay the
 * others.  Each source has a stamp, the turn it was last served on
 * (0: never); the caller sends next a message of the source with the
 * lowest stamp, and stamps that source.  Sources with messages waiting
 * thus take turns, one message each, whatever their numbers.
 *
 * At most LIMIT_FAIR_SOURCES sources are remembered: past that the
 * stamps are all forgotten (every source is new again), which costs a
 * round of fairness, never a message.
 */
#ifndef SLUICE_FAIR_H
#define SLUICE_FAIR_H

struct fair;

/* A new, empty set (free with fair_free); out of memory exits 111. */
struct fair *fair_new(void);
void fair_free(struct fair *);

/* The stamp of key: the turn it was last served on, or 0. */
unsigned long long fair_last(const struct fair *, const char *key);

/* key is served now: it gets the next turn's stamp. */
void fair_served(struct fair *, const char *key);

/* How many sources are remembered. */
unsigned long fair_count(const struct fair *);

#endif
