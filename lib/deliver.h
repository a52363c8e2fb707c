/*
 * deliver: one record in, its message handed to the downstream, the
 * record out with "delivery" added (mail-deliver(1)).  Keeps one
 * connection open between messages.
 */
#ifndef SLUICE_DELIVER_H
#define SLUICE_DELIVER_H

#include <jansson.h>

#include "smtpc.h"

#define DELIVER_MAX_HOSTS 16

struct deliver_conf {
	const char *to[DELIVER_MAX_HOSTS];	/* "host:port", in order */
	int nto;
	int mx;			/* route by the recipients' MX records */
	const char *dns;	/* for --mx: HOST[:PORT] or NULL */
	int port;		/* of MX hosts: 25 */
	struct smtpc_conf smtp;	/* lmtp, helo, TLS, timeouts */
	const char *ca;		/* CA file for verify, NULL: system */
	const char *tls_policy;	/* table "destination policy [name]" */
	int max_messages;	/* per connection */
	unsigned long long max_size;	/* bytes of a message file */
};

struct deliver;

/* NULL with the reason in err (bad CA file, bad policy table...). */
struct deliver *deliver_new(const struct deliver_conf *, char *err,
    size_t errsz);
void deliver_free(struct deliver *);

/*
 * Deliver the message of rec and add "delivery" to it.  Returns 0, or -1
 * with a reason in err for a record that cannot be worked on at all (no
 * path, no envelope): it then goes on without "delivery".
 */
int deliver_one(struct deliver *, json_t *rec, char *err, size_t errsz);

/* Close an idle connection (QUIT). */
void deliver_idle(struct deliver *);

#endif
