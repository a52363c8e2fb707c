/*
 * auth: the work of mail-auth on one message: SPF for the MAIL FROM and
 * HELO identities, every DKIM signature, DMARC, ARC; the
 * Authentication-Results field for the downstream; the list of fields
 * that claim our authserv-id and must go.  See mail-auth(1) for the
 * record's auth object.
 *
 * A struct auth_conf is read-only once made and shared by every thread;
 * each thread has its own struct auth (its resolver).  No global state.
 */
#ifndef SLUICE_AUTH_H
#define SLUICE_AUTH_H

#include <signal.h>

#include <jansson.h>
#include <stddef.h>

#include "msg.h"

struct table;
struct dkim_privkey;

struct auth_conf {
	const char *authserv_id;	/* ours, in Authentication-Results */
	const char *dns;		/* HOST[:PORT], or NULL: resolv.conf */
	int lookback;			/* Received hops to look back */
	/* The envelope of a message with none (a file not from
	 * smtp-accept): NULL when not given. */
	const char *ip;
	const char *mail_from;
	const char *helo;
	long long max_size;		/* bytes of a message read */
	int sha1;			/* rsa-sha1 DKIM signatures pass */
	struct table *exempt;		/* domains whose DMARC reject --check
					 * does not enforce */
	/* DKIM signing (--sign): NULL key for none */
	const struct dkim_privkey *sign_key;
	const char *sign_domain;
	const char *sign_selector;
	const char *sign_headers;	/* h= as a colon list, or NULL */
	int sign_hc, sign_bc;		/* enum dkim_canon */
	/* ARC: sealers whose word overrides a DMARC fail (NULL: none),
	 * loaded from arc_trusted_path; each auth handle loads it again
	 * when *reload has changed since it last looked (SIGHUP) */
	struct table *arc_trusted;
	const char *arc_trusted_path;
	volatile sig_atomic_t *reload;
	/* ARC sealing (--arc-key): NULL key for none */
	const struct dkim_privkey *arc_key;
	const char *arc_domain;
	const char *arc_selector;
};

struct auth;

/* A thread's state, or NULL with the reason in err. */
struct auth *auth_new(const struct auth_conf *, char *err, size_t errsz);
void auth_free(struct auth *);

/* Once every handle is freed, at the end of the process: what the
 * reloads of --arc-trusted kept (the conf's own table is the caller's). */
void auth_fini(void);

/*
 * Authenticate the message m of record rec and add rec's "auth" object
 * (replacing one already there).  Returns 0, or -1 with the reason in
 * err (nothing added).
 */
int auth_message(struct auth *, json_t *rec, const struct msg *m,
    char *err, size_t errsz);

/* The same for the message file named by rec's "path". */
int auth_record(struct auth *, json_t *rec, char *err, size_t errsz);

/*
 * What smtp-accept's pre-queue check should answer for a record with an
 * auth object: 0 (accept), 100 (reject: DMARC says reject for a domain
 * not in the exemptions) or 111 (a temporary DNS failure kept DMARC from
 * an answer); text gets a reply text with its enhanced status code for
 * 100 and 111.
 */
int auth_verdict(const struct auth_conf *, const json_t *rec, char *text,
    size_t textsz);

/*
 * The client of a Received field's value, "from HELO (... [IP])" as
 * Postfix, Sendmail, OpenSMTPD, Exim and smtp-accept write it, or
 * "from HELO (IP)" as Exchange does: the address into ip (without
 * "IPv6:") and the HELO name into helo.  Returns 0, or -1 when the
 * value names no client address.
 */
int auth_received_client(const char *value, char *ip, size_t ipsz,
    char *helo, size_t helosz);

#endif
