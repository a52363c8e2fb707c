/*
 * dns: the one resolver of sluice, on libunbound.
 *
 * A struct dns forwards every query to one server (--dns HOST[:PORT]) or
 * to the name servers of /etc/resolv.conf, with libunbound's cache (one
 * per handle).  Queries are asynchronous: libunbound resolves them in a
 * thread of its own (never a fork); dns_fd() turns readable when answers
 * are in and dns_process() runs their callbacks.  Each query has a
 * deadline (dns_set_timeout): one not answered by then completes with
 * DNS_TEMPFAIL when dns_process() next runs, so an event loop watches
 * dns_fd() and also arms a timer for dns_next_timeout() milliseconds,
 * again after each dns_process() and after starting a query.
 *
 * A struct dns belongs to one thread at a time (one per event-loop
 * thread).  dns_new and dns_free touch libunbound's process-wide state:
 * call them from one thread at a time (say, the main thread before it
 * starts the others).  Callbacks run in the handle's thread, only from
 * dns_process(), dns_wait() and dns_query_sync(), never from the call
 * that starts a query; they may start and cancel queries, but not free
 * the handle.
 *
 * Functions returning int return -1 with errno set on failure: EINVAL
 * for a name or address that can never be looked up (permanent), any
 * other errno is temporary.  No failure calls a callback.
 */
#ifndef SLUICE_DNS_H
#define SLUICE_DNS_H

#include <netinet/in.h>
#include <stddef.h>
#include <sys/socket.h>

#define DNS_MAX_RECORDS	100	/* records kept per answer */
#define DNS_NAME_MAX	256	/* a name as text, NUL included */
#define DNS_PTR_MAX	10	/* PTR names tried by dns_ptr_confirmed */
#define DNS_TIMEOUT	5000	/* default ms per query */

/* Record types (RFC 1035, 3596, 6698). */
#define DNS_T_A		1
#define DNS_T_NS	2
#define DNS_T_CNAME	5
#define DNS_T_SOA	6
#define DNS_T_PTR	12
#define DNS_T_MX	15
#define DNS_T_TXT	16
#define DNS_T_AAAA	28
#define DNS_T_TLSA	52

enum dns_status {
	DNS_OK,		/* one record or more */
	DNS_NXDOMAIN,	/* the name does not exist */
	DNS_NODATA,	/* the name exists, without records of the type */
	DNS_TEMPFAIL,	/* SERVFAIL or another error code, deadline passed,
			 * network or resolver failure: try again later */
	DNS_PERMFAIL	/* an answer that cannot be parsed, or a name in it
			 * longer than DNS_NAME_MAX - 1 as text */
};

/*
 * One record.  Names are text without the final dot (the root is "."),
 * with every byte but letters, digits, "-", "_", "*" and "/" written as
 * \DDD, so they are safe in logs and headers.
 */
struct dns_rr {
	int type;			/* DNS_T_* */
	struct in_addr a;		/* A */
	struct in6_addr aaaa;		/* AAAA */
	int pref;			/* MX: the preference */
	char name[DNS_NAME_MAX];	/* MX host, PTR, CNAME, NS target */
	/* TXT: the record's strings concatenated (RFC 7208 3.3, RFC 6376
	 * 3.6.2.2); any other type: the RDATA as received.  May contain
	 * NUL; a NUL follows the len bytes. */
	const unsigned char *data;
	size_t len;
};

/* An answer; it and all it points to live until the callback returns. */
struct dns_answer {
	enum dns_status status;
	int rrtype;			/* the type asked for */
	const char *qname;		/* the name asked for */
	/* the owner of the records after following CNAMEs (libunbound
	 * writes odd bytes as "?"), without the final dot: for display */
	const char *canonname;
	const struct dns_rr *rr;	/* in the order received */
	int nrr;			/* records in rr; 0 unless DNS_OK */
	int truncated;			/* the answer had more than
					 * DNS_MAX_RECORDS; the rest dropped */
	const char *why;		/* TEMPFAIL, PERMFAIL: a short reason */
};

typedef void dns_cb(void *arg, const struct dns_answer *);
typedef void dns_ptr_cb(void *arg, enum dns_status, const char *name);

struct dns;

/*
 * A resolver forwarding to server, "HOST[:PORT]" with HOST an IPv4
 * address or an IPv6 address in brackets ("[::1]:5353"), or to the name
 * servers of /etc/resolv.conf when server is NULL.  Returns NULL with the
 * reason in err (size errsz) on failure; free with dns_free.
 *
 * libunbound answers some special-use names itself (localhost, the
 * loopback reverse zones, onion., invalid.); the private and
 * documentation reverse zones, home.arpa. and test. are asked of the
 * server like any other name.
 */
struct dns *dns_new(const char *server, char *err, size_t errsz);

/* Cancel every query without calling its callback, stop libunbound's
 * thread, free all.  NULL is fine. */
void dns_free(struct dns *);

/* Deadline in ms (at least 1) for queries started from now on. */
void dns_set_timeout(struct dns *, int ms);

/* The fd to watch for reading.  Owned by the handle. */
int dns_fd(const struct dns *);

/* Milliseconds until the earliest deadline (0: passed), -1 if no query
 * is pending: a poll() timeout. */
int dns_next_timeout(const struct dns *);

/* Queries (dns_query, dns_ptr_confirmed) not yet called back. */
int dns_pending(const struct dns *);

/*
 * Run the callbacks of the queries answered and of those past their
 * deadline (DNS_TEMPFAIL).  Never blocks.  Returns 0, or -1 (EPIPE)
 * when libunbound's thread is gone: the callbacks due have run, but no
 * answer will come again (dns_fd stays readable); free the handle.
 */
int dns_process(struct dns *);

/*
 * Ask for the records of rrtype at name (text, final dot optional; a
 * byte other than printable ASCII, backslash or a dot within a label
 * written \DDD).
 * Returns the query's id (> 0), or -1: EINVAL for a malformed name.
 * cb(arg, answer) is called exactly once, unless the query is cancelled
 * or the handle freed first.
 */
int dns_query(struct dns *, const char *name, int rrtype, dns_cb *cb,
    void *arg);

/* Forget a query (dns_query or dns_ptr_confirmed): its callback is never
 * called.  Unknown or finished ids are ignored. */
void dns_cancel(struct dns *, int id);

/*
 * Forward-confirmed reverse DNS, as Postfix names its clients: the PTR
 * names of sa's address (in-addr.arpa or ip6.arpa; an IPv4-mapped IPv6
 * address counts as IPv4), then the A or AAAA records of each of the
 * first DNS_PTR_MAX names, in parallel.  cb gets DNS_OK and the first
 * PTR name among whose addresses is sa's; else, with name NULL,
 * DNS_NXDOMAIN (no PTR name: the reverse name does not exist),
 * DNS_NODATA (no PTR record, or no name confirmed), DNS_TEMPFAIL (a
 * lookup failed temporarily and no name confirmed) or DNS_PERMFAIL (a
 * malformed PTR answer).  Each lookup has its own deadline, so the whole
 * takes at most twice the timeout.  Returns an id for dns_cancel, or -1:
 * EAFNOSUPPORT for a family other than AF_INET and AF_INET6.
 */
int dns_ptr_confirmed(struct dns *, const struct sockaddr *sa,
    dns_ptr_cb *cb, void *arg);

/*
 * Block until every pending query has been called back (each by its
 * deadline).  Returns 0, or -1 with errno if poll() or dns_process()
 * fails.
 */
int dns_wait(struct dns *);

/*
 * For programs without an event loop: dns_query, then block until its
 * callback has run (within the timeout).  Callbacks of other queries
 * answered meanwhile run too.  Returns 0 once cb has been called, or -1
 * with errno (EINVAL: malformed name) and cb not called.
 */
int dns_query_sync(struct dns *, const char *name, int rrtype, dns_cb *cb,
    void *arg);

/* "ok", "nxdomain", "nodata", "tempfail", "permfail": for logs. */
const char *dns_status_str(enum dns_status);

#endif
