/*
 * mime: a streaming MIME parser (RFC 2045-2049, 2047, 2231) that survives
 * anything.  Bytes are pushed in as they are read; parts are given to
 * callbacks as they are met: begin, the decoded octets (data), the same
 * as UTF-8 for text parts (text), end.  Nothing keeps the message or a
 * decoded part in memory: a line buffer, a header buffer per open part
 * and the stack of open multiparts are all it holds, each bounded.
 *
 * Malformed input is never an error: a missing, duplicate or nested
 * boundary, a multipart without one, bad base64 or quoted-printable, an
 * unknown charset are defects, reported through the defect callback,
 * and parsing goes on as the usual readers of mail would.  The limits on
 * depth, parts, decoded bytes and header size are defects too: past
 * them, parts are read over without callbacks.
 *
 * Part paths are IMAP's (RFC 3501 6.4.5): the children of a multipart
 * are "1", "2", nested "2.1"; the body of a message that is not a
 * multipart (the top level, or a message/rfc822 part) is its path + ".1"
 * ("1" at the top).  A multipart at the top level has the path "".
 */
#ifndef SLUICE_MIME_H
#define SLUICE_MIME_H

#include <stddef.h>

enum mime_defect {
	MIME_DEPTH,		/* nested past max_depth: not descended into */
	MIME_PARTS,		/* more than max_parts: the rest not given */
	MIME_DECODED,		/* more than max_decoded bytes: cut */
	MIME_HEADER,		/* a part header over max_header: cut */
	MIME_NO_BOUNDARY,	/* a multipart without a boundary: a leaf */
	MIME_UNCLOSED,		/* a multipart not closed by its boundary */
	MIME_BASE64,		/* bytes outside base64 in a base64 part */
	MIME_QP,		/* a bad = escape in quoted-printable */
	MIME_CHARSET,		/* a charset iconv does not know */
	MIME_ENCODING,		/* an unknown Content-Transfer-Encoding */
	MIME_NDEFECTS
};

struct mime_conf {
	int max_depth;			/* multipart and message nesting */
	long max_parts;			/* parts, containers included */
	unsigned long long max_decoded;	/* decoded bytes in all */
	size_t max_header;		/* bytes of one part header */
};

struct mime_part {
	const char *path;	/* see above */
	int depth;		/* containers above it */
	const char *type;	/* "text/plain", lower case */
	const char *charset;	/* lower case, "" when none */
	const char *encoding;	/* Content-Transfer-Encoding, lower case */
	const char *disposition;	/* "attachment", "inline" or "" */
	const char *filename;	/* UTF-8 (RFC 2047 and 2231 decoded) or NULL:
				 * Content-Disposition filename, else the
				 * Content-Type name, else a uuencode name */
	int container;		/* a multipart or message: no data */
	int uuencoded;		/* a uuencode block inside a text part */
	int text;		/* text callbacks come for it */
	unsigned long long size;	/* decoded bytes so far (all at end) */
};

struct mime_ops {
	void (*begin)(void *arg, const struct mime_part *);
	void (*data)(void *arg, const struct mime_part *, const void *,
	    size_t);
	void (*text)(void *arg, const struct mime_part *, const char *,
	    size_t);
	void (*end)(void *arg, const struct mime_part *);
	void (*defect)(void *arg, enum mime_defect, const char *detail);
	void *arg;
};

struct mime;

/* A parser; never NULL (out of memory exits 111).  The conf and ops are
 * copied. */
struct mime *mime_new(const struct mime_conf *, const struct mime_ops *);
/* Bytes of the message, in order, in pieces of any size. */
void mime_push(struct mime *, const void *, size_t);
/* The end of the message: every open part ends. */
void mime_finish(struct mime *);
void mime_free(struct mime *);

/* Parts begun so far (containers included). */
long mime_parts(const struct mime *);

/* The name of a defect ("depth", "parts", ...). */
const char *mime_defect_name(enum mime_defect);

/*
 * RFC 2047 encoded words in n bytes of a header value decoded to UTF-8,
 * the white space between two encoded words dropped.  A malloc'd string
 * the caller frees; never NULL.
 */
char *mime_decode_words(const char *s, size_t n);

/*
 * The parameter name of a Content-Type or Content-Disposition value,
 * RFC 2231 continuations and charsets joined and decoded, or a plain
 * value with RFC 2047 words decoded; UTF-8, malloc'd, or NULL when the
 * value has no such parameter.  *type (if not NULL) gets the value
 * before the first ';', trimmed and in lower case, malloc'd.
 */
char *mime_param(const char *value, const char *name, char **type);

#endif
