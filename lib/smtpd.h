/*
 * smtpd: the ESMTP server of smtp-accept.  It takes mail over SMTP (RFC
 * 5321, with PIPELINING, SIZE, 8BITMIME, SMTPUTF8, ENHANCEDSTATUSCODES,
 * STARTTLS, CHUNKING and DSN), stores each message durably in a maildir
 * spool, and writes one record per message.
 *
 * Threads: one event loop (libevent) per worker thread, each with its own
 * SO_REUSEPORT listening sockets and resolver; a pool of commit threads
 * that run the --check command and make each message durable (fsync,
 * link, fsync of new/ shared between concurrent commits) before the 250
 * goes out.  The main thread handles signals and watches the spool's
 * free space and the high-water flag.
 */
#ifndef SLUICE_SMTPD_H
#define SLUICE_SMTPD_H

#include <stddef.h>

#define SMTPD_MAX_LISTEN	8

struct smtpd_conf {
	const char *hostname;		/* banner and Received */
	const char *spool;		/* the spool maildir */
	const char *listen[SMTPD_MAX_LISTEN];
	int nlisten;
	const char *records;		/* UCSPI: records appended here */
	int threads;			/* event loops; 0: one per CPU */
	int notify_fd;			/* write "\n" when ready; -1 */

	/* policy */
	const char *domains;		/* "a,b" or "@FILE" */
	const char *tls_partners;	/* FILE or NULL */
	int require_tls;
	const char *tls_cert, *tls_key;
	const char *proxy_from;		/* CIDR list or NULL */
	const char *lf_normalize;	/* CIDR list or NULL */
	const char *check;		/* pre-queue command or NULL */
	int check_timeout;
	const char *high_water;		/* flag file or NULL */
	long long min_free;		/* bytes: refuse below this */
	long long min_inodes;
	const char *dns;		/* HOST[:PORT], "none", or NULL */

	/* limits */
	size_t max_line, max_data_line;
	long long max_size;
	int max_rcpt, max_messages, max_commands, max_errors, max_hops;
	int timeout, data_timeout, stress_timeout, session_time;
	int max_conn, max_conn_per_ip;
	long long rcpt_rate, rcpt_rate_window;
	int greet_wait;
};

/* Every field at its documented default. */
void smtpd_conf_defaults(struct smtpd_conf *);

struct smtpd;

/*
 * A server from a configuration: tables, TLS context and address lists
 * are loaded now (while the process may still read root-only files).
 * Returns NULL with the reason in err.  The conf must outlive the server.
 */
struct smtpd *smtpd_new(const struct smtpd_conf *, char *err, size_t errsz);

/* Bind the listening sockets of every --listen address, one per worker
 * thread (SO_REUSEPORT).  0, or -1 with the reason in err. */
int smtpd_bind(struct smtpd *, char *err, size_t errsz);

/*
 * Serve until SIGTERM or SIGINT (listener mode), or for the one session
 * on fds in and out (UCSPI mode: in >= 0).  Opens the spool first.
 * Returns the exit status: 0, or 111 when the spool cannot be opened.
 */
int smtpd_run(struct smtpd *, int in, int out);

void smtpd_free(struct smtpd *);

#endif
