/*
 * pool: the store of mail-pool(1).  A pool is a maildir (DIR/new/ID, one
 * file per message, named by its id) with a state file per message
 * (DIR/state/ID: JSON, the record and what is left to do), and a lock
 * (DIR/lock) held by the one process that owns the pool.
 *
 * Every file is written to DIR/tmp, fsynced, then renamed (a state) or
 * linked (a message: a link never replaces) into place, and the directory
 * fsynced.  A message is pooled once its file is in new/; its state is
 * written just before, so a state without a message is an unfinished
 * pooling or removal and is removed on load, and a message without a
 * state (lost or unreadable) has its state rebuilt from the file (every
 * recipient due again: at least once).  A message leaves the pool file
 * first, state second.
 *
 * The state file, one JSON object:
 *
 *   {"id": ID, "pooled_at": SECONDS, "next": SECONDS, "attempts": N,
 *    "pending": [I, ...], "failed": [RESULT, ...], "last": [RESULT, ...],
 *    "record": RECORD}
 *
 * where I are indices into record.envelope.to of the recipients still to
 * deliver, RESULT the per-recipient results of mail-deliver(1) that
 * failed (5xx) or were last deferred, and RECORD the record as it came,
 * its path pointing at the pooled copy.
 *
 * The pool also keeps an index of its messages in memory (struct
 * pool_msg), which the caller reads and marks but never frees.
 *
 * Functions returning int return 0 on success and -1 with a reason in
 * err (size errsz) on failure, unless said otherwise.  Out of memory
 * exits 111.
 */
#ifndef SLUICE_POOL_H
#define SLUICE_POOL_H

#include <jansson.h>
#include <stddef.h>
#include <time.h>

#include "maildir.h"

struct pool;

/* The one route for now: every message goes to the --deliver command. */
#define POOL_ROUTE "deliver"
#define POOL_SOURCE_MAX 256	/* bytes of a source key, NUL included */

struct pool_msg {
	char id[MAILDIR_NAME_MAX];
	time_t pooled;		/* when it entered the pool */
	time_t next;		/* when it is due */
	unsigned attempts;
	unsigned long long size;	/* bytes of the pooled file */
	size_t npending;	/* recipients left */
	int held;		/* on hold: not sent, not expired */
	time_t frozen;		/* seconds its route was paused: not age */
	/* where it came from, for fairness: envelope.from's domain,
	 * lowercased, or for the null sender "[client.ip]" */
	char source[POOL_SOURCE_MAX];
	char ip[48];		/* client.ip, "" if none */
	unsigned long long seq;	/* order taken into the index: FIFO ties */
	/* the caller's marks */
	int partner;		/* 0 not looked up yet, 1 no, 2 a partner */
	int in_flight;		/* with a worker now */
	int route_deferred;	/* last deferred without an answer */
	/* the index's own */
	struct pool_msg *hnext, *prev, *next_msg;
};

/*
 * Open the pool at dir, making dir and its tmp/, new/, cur/ and state/
 * where missing, and lock it (another process holding it is an error).
 * Files left in tmp/ are removed.  NULL with the reason in err.
 */
struct pool *pool_open(const char *dir, char *err, size_t errsz);
void pool_close(struct pool *);
/* The pool's directory, absolute. */
const char *pool_dir(const struct pool *);

/*
 * Load the messages of new/ and cur/ not yet in the index: each with its
 * state, or a state rebuilt from the file (a warning is logged).  States
 * without a message are removed.  Returns the number of messages added,
 * or -1.  Called again, it picks up messages put into the pool by hand.
 */
long pool_load(struct pool *, time_t now, char *err, size_t errsz);

/* The message of id in the index, or NULL. */
struct pool_msg *pool_get(const struct pool *, const char *id);
/* The messages, in no order: first, then next until NULL. */
struct pool_msg *pool_first(const struct pool *);
struct pool_msg *pool_next(const struct pool_msg *);
/* How many, and their bytes. */
size_t pool_count(const struct pool *);
unsigned long long pool_bytes(const struct pool *);

/*
 * The message as pooled: buf (n bytes, a stored message as in
 * sluice-record(5)) with the fields the record's auth object asks for
 * added below the relay block and smtp-accept's Received field
 * (auth.authentication_results, then the "Name: value" strings of
 * auth.headers, in order) and those of auth.remove dropped: objects
 * {"field": NAME, "index": I}, I the index of the field among those
 * below the relay block (msg.h's m->f[I]), whose name must be NAME.
 * Then the fields of scan (mail-scan(1)'s object) the same way: the
 * strings of scan.headers added after auth's, the fields of scan.remove
 * (same shape, indices into the same original fields) dropped as well.
 * Lines end in LF.  auth and scan may be NULL (no change).  Returns 0
 * with *out malloc'd (the caller frees) and *outlen set, or -1 with the
 * reason.
 */
int pool_edit(const char *buf, size_t n, const json_t *auth,
    const json_t *scan, char **out, size_t *outlen, char *err, size_t errsz);

/*
 * Pool the message of rec: check that its id is a maildir name and that
 * its path names a file of that name in a new/ or cur/ directory, read
 * it (at most max bytes), edit it (pool_edit: scan.headers only if tag,
 * scan.remove always), write its state and then the message.  The spool copy is left to the caller to remove.  Returns
 * 0 with *m the new entry, 1 for an id already pooled (nothing written),
 * or -1 with the reason (nothing left behind).
 */
int pool_add(struct pool *, const json_t *rec, time_t now, size_t max,
    int tag, struct pool_msg **m, char *err, size_t errsz);

/*
 * Group commit.  After pool_defer(p, 1), pool_add writes the state and
 * the message of each record to the pool's tmp/ without syncing or
 * naming them (the entry is in the index at once); pool_flush then syncs
 * the file system once (syncfs), names every file (state renamed,
 * message linked, in the order written), and fsyncs state/ and new/
 * once: a batch of messages costs three syncs, not four each.  A message
 * whose file could not be named is reported through failed(arg, id,
 * why), leaves nothing behind and is out of the index.  pool_flush
 * returns 0, or -1 when the directories could not be synced (the
 * messages stay pooled, but the caller must keep their spool copies).
 * Nothing but pool_add may run between pool_defer(p, 1) and pool_flush:
 * a state not yet named cannot be read.
 */
void pool_defer(struct pool *, int on);
int pool_flush(struct pool *, void (*failed)(void *arg, const char *id,
    const char *why), void *arg, char *err, size_t errsz);

/*
 * Check a record's path against its id (as pool_add does) and remove the
 * file, then fsync its directory.  The _nosync form gives the directory
 * in dir instead, for the caller to fsync once for a batch with
 * pool_sync_spool.
 */
int pool_unlink_spool(const json_t *rec, char *err, size_t errsz);
int pool_unlink_spool_nosync(const json_t *rec, char *dir, size_t dirsz,
    char *err, size_t errsz);
int pool_sync_spool(const char *dir, char *err, size_t errsz);

/*
 * Parse and check a state file's bytes: an object of the form above,
 * indices in range and distinct, the record's id the state's.  Returns a
 * new reference, or NULL with the reason.
 */
json_t *pool_state_parse(const char *buf, size_t len, char *err,
    size_t errsz);

/* Read the state of m (a new reference), or NULL with the reason. */
json_t *pool_state_read(struct pool *, const struct pool_msg *m,
    char *err, size_t errsz);

/* Write the state of m (durably, replacing the old one), and update m's
 * next, attempts and npending from it. */
int pool_state_write(struct pool *, struct pool_msg *m, const json_t *state,
    char *err, size_t errsz);

/*
 * The record to hand a delivery worker: the state's record with
 * envelope.to (and envelope.params.rcpt) cut to the pending recipients.
 * A new reference.
 */
json_t *pool_dispatch(const json_t *state);

enum pool_answer {
	POOL_ANSWERED,	/* the downstream answered 2xx or 5xx */
	POOL_THROTTLED,	/* only 4xx answers */
	POOL_NO_ANSWER,	/* no reply at all: refused, timed out, lost */
	POOL_NO_RESULT	/* the result had no delivery (a bad record) */
};

struct pool_outcome {
	json_t *delivered, *deferred, *failed;	/* arrays of addresses */
	enum pool_answer answer;
};

/*
 * Apply a worker's result record to state: delivered and failed
 * recipients leave pending (failed ones go to "failed" with their
 * result), deferred ones stay (their results in "last"); attempts is
 * counted.  A result naming another recipient than the one at its place
 * counts as deferred.  o's arrays are new references (free with
 * pool_outcome_free).
 */
void pool_apply(json_t *state, const json_t *result, time_t now,
    struct pool_outcome *o);
void pool_outcome_free(struct pool_outcome *);

/* Set the state's next time.  */
void pool_set_next(json_t *state, time_t next);

/* Remove m: its file, then its state; m is freed. */
int pool_remove(struct pool *, struct pool_msg *m, char *err,
    size_t errsz);

/*
 * Move m into the dead-letter maildir dead (made where missing, with a
 * state/ beside new/): the state with "reason" added written to
 * dead/state/ID, the message linked (or copied) into dead/new/ID, both
 * fsynced, then m removed from the pool.  m is freed.
 */
int pool_bury(struct pool *, struct pool_msg *m, json_t *state,
    const char *dead, const char *reason, char *err, size_t errsz);

/*
 * The control operations of mail-poolctl(1), on the state of a message
 * or of the route; each writes the state durably first and updates the
 * index after.
 */

/* Hold (on 1) or let go (on 0) of m. */
int pool_set_held(struct pool *, struct pool_msg *m, int on, char *err,
    size_t errsz);

/* Make m due at when (and not held). */
int pool_make_due(struct pool *, struct pool_msg *m, time_t when,
    char *err, size_t errsz);

/*
 * Pause (on 1) or resume (on 0) route, which must be POOL_ROUTE: the
 * pause is a file, pool/pause/ROUTE, holding the time it began.  While a
 * route is paused nothing is sent on it and the age of its messages
 * stands still: resume adds the time paused to each message's "frozen"
 * seconds (from when it was pooled, if later).  Pausing a paused route
 * or resuming a running one does nothing.
 */
int pool_pause(struct pool *, const char *route, int on, time_t now,
    char *err, size_t errsz);

/* Since when the route has been paused, or 0 if it is not. */
time_t pool_paused(const struct pool *);

/* How long m has been in the pool, its route's pauses not counted. */
time_t pool_age(const struct pool *, const struct pool_msg *m, time_t now);

/*
 * Move the message id from the quarantine qdir back into the pool, due
 * at when: its state (without "reason", not held, "released" set so that
 * the policy is not asked again) into the pool, the message linked (or
 * copied) into new/, both fsynced, then the quarantine's copies removed.
 * 0 with *m its entry; -1 with errno ENOENT if there is no such
 * quarantined message, or another error.
 */
int pool_unquarantine(struct pool *, const char *qdir, const char *id,
    time_t when, struct pool_msg **m, char *err, size_t errsz);

/* Remove the message id from the quarantine qdir: message, then state.
 * -1 with errno ENOENT if there is none. */
int pool_unlink_quarantined(const char *qdir, const char *id, char *err,
    size_t errsz);

/* Read and parse the state file dir/state/id (a new reference), without
 * the pool's lock: states are replaced by rename, never rewritten. */
json_t *pool_state_at(const char *dir, const char *id, char *err,
    size_t errsz);

#endif
