/*
 * envelope: what smtp-accept knows of a message besides its content, and
 * its two forms: the relay header block at the top of the stored message,
 * and the record of sluice-record(5).
 *
 * The stored message starts with the relay header block, then our
 * Received field, then the message as received (LF line ends):
 *
 *   X-Sluice-Id: ID
 *   X-Sluice-Received-At: 2026-11-23T14:03:00Z
 *   X-Sluice-Client: ip=192.0.2.1 port=54321 helo=mx.example ptr=mx.example
 *   X-Sluice-TLS: version=TLSv1.3 cipher=TLS_AES_256_GCM_SHA384 bits=256
 *   X-Sluice-Mail-From: <a@b.example> BODY=8BITMIME
 *   X-Sluice-Rcpt-To: <c@d.example> NOTIFY=SUCCESS,FAILURE
 *   Received: from mx.example (mx.example [192.0.2.1]) by ...
 *
 * so that the file alone rebuilds its record (envelope_read).  Only the
 * X-Sluice- fields of the block that starts on the first line count:
 * fields of that name further down came from the sender and mean
 * nothing.
 */
#ifndef SLUICE_ENVELOPE_H
#define SLUICE_ENVELOPE_H

#include <jansson.h>
#include <stddef.h>
#include <time.h>

#include "maildir.h"
#include "smtp.h"

struct envelope_rcpt {
	char *addr;		/* without brackets */
	char *params;		/* "KEY=VALUE KEY" or NULL */
};

struct envelope {
	char id[MAILDIR_NAME_MAX];
	char *path;		/* the message file */
	time_t received;
	int relayed;		/* the file has a relay header block */
	int esmtp;		/* the client said EHLO (for Received) */

	char ip[64];		/* client address, "" if unknown */
	unsigned port;
	char *helo;		/* as sent, NULL if none */
	char *ptr;		/* confirmed reverse name, NULL if none */

	int tls;		/* TLS facts below are set */
	char tls_version[32];
	char tls_cipher[128];
	int tls_bits;

	char *from;		/* "" for <>, NULL when there is no envelope */
	char *mail_params;	/* "BODY=8BITMIME SMTPUTF8" or NULL */
	struct envelope_rcpt *rcpt;
	size_t nrcpt, caprcpt;

	char *hdr[SMTP_HDR_NFIELDS];	/* From, Subject, Message-ID, Date */
	unsigned long long size;	/* bytes of the message file */
};

void envelope_init(struct envelope *);
/* Free what the envelope holds (not the struct) and make it empty. */
void envelope_clear(struct envelope *);
/* Drop the transaction (sender, recipients, headers), keep the client. */
void envelope_reset_mail(struct envelope *);

/* Set fields (copies are made; NULL clears). */
void envelope_set(char **field, const char *value);
void envelope_add_rcpt(struct envelope *, const char *addr,
    const char *params);
/* "KEY=VALUE KEY" from the parameters of a parsed command, or NULL. */
char *envelope_params(const struct smtp_cmd *);

/*
 * The relay header block and our Received field, as LF-terminated lines,
 * malloc'd; *len set.  hostname names us in Received.
 */
char *envelope_header(const struct envelope *, const char *hostname,
    size_t *len);

/*
 * Rebuild an envelope from a message file: the relay header block if
 * there is one, and the message's own From, Subject, Message-ID and Date.
 * The id comes from the block, else from the file name.  Returns 0, or -1
 * with errno set (a file that cannot be read) or EINVAL with why set (a
 * broken relay block).
 */
int envelope_read(struct envelope *, const char *path, char *why,
    size_t whysize);

/* The record of the message (sluice-record(5)); a new reference. */
json_t *envelope_record(const struct envelope *);

/* RFC 3339 UTC, "2026-11-23T14:03:00Z", into buf (size >= 21); times
 * before 1970 or after 9999 are clamped to those years. */
void envelope_time(time_t t, char *buf, size_t size);

/* Does the parameter string ("KEY=VALUE KEY") hold key? */
int envelope_has_param(const char *params, const char *key);

#endif
