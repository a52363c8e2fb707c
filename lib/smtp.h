/*
 * smtp: the SMTP server's parsers, free of I/O so that they can be tested
 * and fuzzed alone.
 *
 *  - smtp_parse: one command line into verb, argument, path and ESMTP
 *    parameters (RFC 5321 4.1, RFC 1870, 3030, 3461, 6152, 6531).
 *  - smtp_data: the DATA stream decoder: dot-unstuffing, the end of data,
 *    CRLF to LF (the maildir form), bare CR and LF, NUL, line length and
 *    message size, all byte by byte so that no line is ever buffered.
 *  - smtp_hdr: a scanner of the decoded header section that keeps the
 *    From, Subject, Message-ID and Date fields and counts Received.
 */
#ifndef SLUICE_SMTP_H
#define SLUICE_SMTP_H

#include <stddef.h>

#include "limit.h"

enum smtp_verb {
	SMTP_UNKNOWN, SMTP_HELO, SMTP_EHLO, SMTP_MAIL, SMTP_RCPT, SMTP_DATA,
	SMTP_BDAT, SMTP_RSET, SMTP_NOOP, SMTP_QUIT, SMTP_VRFY, SMTP_EXPN,
	SMTP_HELP, SMTP_STARTTLS, SMTP_AUTH,
	SMTP_FORBIDDEN		/* HTTP on the SMTP port: GET, POST, CONNECT */
};

struct smtp_param {
	const char *key;	/* upper-cased in place */
	const char *value;	/* NULL when the keyword has no "=value" */
};

struct smtp_cmd {
	enum smtp_verb verb;
	const char *arg;	/* HELO/EHLO name, BDAT size, VRFY text... */
	const char *path;	/* MAIL/RCPT address, no brackets; "" is <> */
	int path_8bit;		/* the path has bytes above 127 */
	struct smtp_param params[LIMIT_SMTP_PARAMS];
	int nparams;
	unsigned long long bdat_size;
	int bdat_last;
};

/*
 * Parse one command line (without its CRLF) in place: buf holds len
 * bytes and has room for one more (a NUL is written at buf[len]); it is
 * modified and the pointers in cmd point into it.  Returns 0, or -1 with
 * *reply set to a static reply line (code, enhanced code, text, no CRLF)
 * saying what is wrong.  SMTP_UNKNOWN is a successful parse.
 */
int smtp_parse(char *buf, size_t len, struct smtp_cmd *cmd,
    const char **reply);

/* The ">" that closes the path opening with "<" at p: quoted strings and
 * quoted pairs skipped.  NULL when there is none. */
const char *smtp_path_end(const char *p);

/* The value of parameter key (upper case) in cmd: its value, "" for a
 * keyword without value, NULL when absent. */
const char *smtp_param(const struct smtp_cmd *cmd, const char *key);

/* Is s (NUL-terminated) a domain name or an address literal as RFC 5321
 * allows after HELO, in a path, or as a relay domain? 8-bit labels are
 * allowed when utf8 is set (RFC 6531). */
int smtp_valid_domain(const char *s, int utf8);

/* The DATA decoder. */
enum {
	SMTP_DATA_BARE_LF = 1,	/* a LF without CR */
	SMTP_DATA_BARE_CR = 2,	/* a CR without LF */
	SMTP_DATA_NUL = 4,	/* a NUL byte */
	SMTP_DATA_LONG = 8,	/* a line longer than the limit */
	SMTP_DATA_BIG = 16	/* more than the size limit */
};

struct smtp_data {
	int state;
	int flags;		/* SMTP_DATA_* seen so far */
	int normalize;		/* bare CR and LF become line ends */
	int dot;		/* dot-stuffing (DATA), not BDAT */
	int prev_crlf;		/* the last line ended in a true CRLF */
	size_t line;		/* bytes in the current line so far */
	size_t max_line;
	unsigned long long size;	/* decoded bytes (CRLF counted as 2) */
	unsigned long long max_size;
	unsigned long long lines;
};

/* Start decoding a DATA (dot = 1) or BDAT (dot = 0) body. */
void smtp_data_init(struct smtp_data *, int dot, int normalize,
    size_t max_line, unsigned long long max_size);

/*
 * Decode up to n input bytes into out (room for outsize bytes; at least
 * 2).  Returns the input bytes consumed and sets *outlen; sets *done when
 * the end of data ("\r\n.\r\n", DATA only) was consumed.  Output stops
 * early when out is nearly full: call again with the rest.  Past the size
 * limit nothing more is written (SMTP_DATA_BIG is set) but input is still
 * consumed, so that the end of data is found.
 */
size_t smtp_data_feed(struct smtp_data *, const char *in, size_t n,
    char *out, size_t outsize, size_t *outlen, int *done);

/* BDAT: the end of the last chunk.  A CR pending there is a bare CR (or,
 * normalising, a line end): the bytes still owed go into out (room for
 * 2); returns their number. */
size_t smtp_data_finish(struct smtp_data *, char *out);

/* The header scanner. */
#define SMTP_HDR_VALUE 998	/* bytes kept of each remembered field */

enum smtp_hdr_field { SMTP_HDR_FROM, SMTP_HDR_SUBJECT, SMTP_HDR_MSGID,
    SMTP_HDR_DATE, SMTP_HDR_NFIELDS };

struct smtp_hdr {
	int state;
	int done;		/* the empty line after the header was seen */
	int field;		/* field of the current line, or -1 */
	int skip;		/* current field is a repeat: keep the first */
	int blank;		/* a blank after the name: only ":" may come */
	int toolong;		/* the name is longer than name[] */
	size_t namelen;
	char name[32];		/* the current field name, for matching */
	unsigned long long size;	/* bytes of the header section */
	unsigned received;	/* Received fields counted */
	char value[SMTP_HDR_NFIELDS][SMTP_HDR_VALUE + 1];
	size_t len[SMTP_HDR_NFIELDS];
	int seen[SMTP_HDR_NFIELDS];
};

void smtp_hdr_init(struct smtp_hdr *);

/* Feed decoded bytes (LF line ends).  Returns 1 once the header section
 * has ended (then the rest of the message may be skipped), else 0. */
int smtp_hdr_feed(struct smtp_hdr *, const char *buf, size_t n);

/* The unfolded value of field f with leading and trailing blanks removed,
 * NUL-terminated, or NULL if the message had no such field. */
const char *smtp_hdr_get(struct smtp_hdr *, enum smtp_hdr_field f);

#endif
