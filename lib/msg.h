/*
 * msg: a message in memory, as the authentication checks want it: CRLF
 * line ends (the wire form that DKIM and ARC canonicalise), its header
 * fields raw and in order, its body.
 *
 * A message stored by smtp-accept begins with the relay header block
 * (X-Sluice- fields) and smtp-accept's own Received field; msg_load keeps
 * them apart (relay, relaylen) so that fields and body are the message
 * as the client sent it.
 */
#ifndef SLUICE_MSG_H
#define SLUICE_MSG_H

#include <stddef.h>

struct msg_field {
	const char *raw;	/* the whole field: name, colon, value, folded
				 * lines, and its final CRLF */
	size_t rawlen;
	const char *name;	/* the name as written (not NUL-terminated) */
	size_t namelen;
	const char *value;	/* after the colon, to the final CRLF (not
				 * included); folding CRLFs kept */
	size_t valuelen;
};

struct msg {
	char *buf;		/* the whole message, CRLF line ends, NUL */
	size_t len;
	const char *relay;	/* the relay block and our Received, or NULL */
	size_t relaylen;
	struct msg_field *f;	/* header fields below the relay block */
	size_t nf;
	const char *body;	/* after the empty line; NULL without one */
	size_t bodylen;
	int bad_header;		/* a header line that is no field was met:
				 * the header ended there (RFC 5322 3.5) */
};

/*
 * Read the message file at path (at most max bytes; more is E2BIG),
 * turning each lone LF into CRLF.  Returns 0, or -1 with errno set and a
 * reason in err.  Free with msg_free.
 */
int msg_load(struct msg *, const char *path, size_t max, char *err,
    size_t errsz);

/* The same from the file descriptor fd, read to its end (a pipe). */
int msg_read(struct msg *, int fd, size_t max, char *err, size_t errsz);

/* The same from n bytes in memory (copied). */
int msg_parse(struct msg *, const void *buf, size_t n, char *err,
    size_t errsz);

void msg_free(struct msg *);

/* Does field f have the name (ASCII case-insensitive)? */
int msg_field_is(const struct msg_field *f, const char *name);

/*
 * The index of the next field called name at or after from (dir 1) or at
 * or before from (dir -1); -1 when there is none.  DKIM's h= takes fields
 * from the bottom up: msg_find(m, name, m->nf - 1, -1).
 */
long msg_find(const struct msg *, const char *name, long from, int dir);

/* How many fields are called name. */
size_t msg_count(const struct msg *, const char *name);

/*
 * The value of field f unfolded (CRLF before WSP removed) and trimmed, as
 * a NUL-terminated malloc'd string (the caller frees).
 */
char *msg_value(const struct msg_field *f);

#endif
