/*
 * smtpc: an SMTP and LMTP client for handing messages downstream
 * (mail-deliver).  One connection at a time, blocking, with a deadline on
 * every read and write; a connection carries many messages (RSET
 * between).  PIPELINING, SIZE, 8BITMIME, SMTPUTF8, DSN and CHUNKING are
 * used when the server offers them; STARTTLS by policy.
 */
#ifndef SLUICE_SMTPC_H
#define SLUICE_SMTPC_H

#include <openssl/ssl.h>
#include <stddef.h>

#define SMTPC_TEXT 512		/* bytes kept of a reply's text */

enum smtpc_tls {
	SMTPC_TLS_NONE,		/* never STARTTLS */
	SMTPC_TLS_MAY,		/* when offered; go on in plain otherwise */
	SMTPC_TLS_ENCRYPT,	/* required, certificate not checked */
	SMTPC_TLS_VERIFY	/* required, chain and name checked */
};

struct smtpc_conf {
	const char *helo;	/* our name in EHLO/LHLO */
	int lmtp;
	enum smtpc_tls tls;
	SSL_CTX *ssl;		/* client context (tls != NONE) */
	const char *verify_name;	/* name checked (VERIFY); NULL: host */
	int connect_timeout;	/* seconds */
	int command_timeout;	/* seconds per reply */
	int data_timeout;	/* seconds for the reply to the data */
};

struct smtpc_reply {
	int code;		/* 0: no reply (connection lost, timeout) */
	char enhanced[16];	/* "2.0.0" or "" */
	char text[SMTPC_TEXT];	/* the lines' text joined by " ", no code */
};

struct smtpc_rcpt {
	const char *addr;
	const char *params;	/* "NOTIFY=... ORCPT=..." or NULL */
	struct smtpc_reply rcpt;	/* reply to RCPT TO */
	struct smtpc_reply data;	/* reply to the data (LMTP: its own) */
	double latency;		/* seconds from MAIL to its final reply */
};

struct smtpc_msg {
	const char *from;	/* "" for <> */
	const char *params;	/* MAIL parameters as received, or NULL */
	struct smtpc_rcpt *rcpt;
	size_t nrcpt;
	const char *data;	/* the message, CRLF line ends, not stuffed */
	size_t len;
	int eightbit;		/* BODY=8BITMIME wanted */
	int utf8;		/* SMTPUTF8 wanted */
};

struct smtpc;

/*
 * Connect to host:port (every address of host in turn; name is what the
 * host is called, for results and TLS: an MX host's name when host is its
 * address; NULL: host), read the banner,
 * EHLO (or LHLO; HELO when EHLO is refused), STARTTLS as the policy says
 * and EHLO again.  Returns NULL with the reason in err and the server's
 * reply (code 0 if none) in *r: a 5xx banner is a permanent failure,
 * anything else temporary.
 */
struct smtpc *smtpc_open(const char *host, const char *name,
    const char *port, const struct smtpc_conf *, struct smtpc_reply *r,
    char *err, size_t errsz);

/*
 * One transaction: MAIL, RCPT for each recipient, DATA or BDAT; each
 * recipient's replies filled in.  Returns 0 when the connection can carry
 * another message, -1 when it is lost (the unanswered recipients have
 * code 0 and the reason in err).
 */
int smtpc_send(struct smtpc *, struct smtpc_msg *, char *err, size_t errsz);

/* RSET before the next message; -1 when the connection is lost. */
int smtpc_rset(struct smtpc *);

/* QUIT (if quit) and close; NULL is fine. */
void smtpc_close(struct smtpc *, int quit);

/* What the server said and how we talk: for results. */
const char *smtpc_host(const struct smtpc *);	/* "host[addr]:port" */
int smtpc_tls(const struct smtpc *, char *version, size_t vsize,
    char *cipher, size_t csize, int *bits, int *verified);
int smtpc_has(const struct smtpc *, const char *ext);	/* offered? */

/* The downstream's queue id in a 250 reply's text ("queued as X",
 * "id=X"...), into buf; "" when none is recognised. */
void smtpc_queue_id(const char *text, char *buf, size_t size);

#endif
