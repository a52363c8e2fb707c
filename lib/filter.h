/*
 * filter: the driver of a record filter (mail-auth, mail-scan): records
 * in, each given to a work function on a pool of threads, records out in
 * input order.
 *
 * Input is records on standard input (JSON-lines), or paths given as
 * arguments: a maildir (its new/ and cur/) or a message file, each turned
 * into its record as mail-ls(1) would (envelope_read, envelope_record).
 * A line on stdin that is no record is reported with its line number and
 * passed on as it is, so the next stage sees it too; it is never dropped.
 *
 * Work runs on threads so that one message waiting on DNS does not hold
 * the stream: at most `window` records are in flight, and each is written
 * once all before it are.
 */
#ifndef SLUICE_FILTER_H
#define SLUICE_FILTER_H

#include <jansson.h>
#include <stdio.h>

struct filter_ops {
	/* Per-thread state (a resolver...), or NULL on failure with the
	 * reason in err; NULL init means no state. */
	void *(*thread_init)(void *arg, char *err, size_t errsz);
	void (*thread_fini)(void *state);
	/*
	 * Work on one record: add the stage's key to rec.  Return 0, or -1
	 * with a reason in err: the record then goes on unchanged and the
	 * reason is logged as "prog: ID: reason" (the message stays in its
	 * maildir; the stage that pools it decides).
	 */
	int (*work)(void *state, json_t *rec, void *arg, char *err,
	    size_t errsz);
	void *arg;
};

struct filter_conf {
	int threads;		/* workers; 0: 4 per CPU */
	int window;		/* records in flight; 0: 8 per thread */
	FILE *out;		/* stdout */
};

/*
 * Run the filter over paths (npaths > 0) or standard input.  Returns the
 * exit status: 0, 111 when the output failed or a path could not be
 * read (after going on with the rest), 100 for a path that is neither a
 * maildir nor a message file.
 */
int filter_run(const struct filter_conf *, const struct filter_ops *,
    char **paths, int npaths);

#endif
