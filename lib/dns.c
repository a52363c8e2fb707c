#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <search.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unbound.h>

#include "dns.h"
#include "log.h"
#include "xalloc.h"

#define RCODE_NOERROR	0
#define RCODE_SERVFAIL	2
#define RCODE_NXDOMAIN	3
#define CLASS_IN	1

/*
 * Every query and FCrDNS lookup the caller can cancel starts with a
 * handle, found by id in a tsearch(3) tree.
 */
enum { H_QUERY, H_PTR };

struct handle {
	int id;
	int kind;
};

struct query {
	struct handle h;		/* h.id is 0 for a step of a ptrjob */
	struct dns *dns;
	int ubid;			/* libunbound's id */
	long long deadline;		/* ms, CLOCK_MONOTONIC */
	struct query *prev, *next;	/* dns->head: by deadline */
	char *name;
	int rrtype;
	dns_cb *cb;
	void *arg;
};

enum { FWD_PENDING, FWD_YES, FWD_NO, FWD_TEMP };

struct ptrjob;

struct fwd {
	struct ptrjob *job;
	struct query *q;		/* while pending */
	int state;
	char name[DNS_NAME_MAX];
};

struct ptrjob {
	struct handle h;
	struct dns *dns;
	struct ptrjob *prev, *next;	/* dns->jobs */
	int family;			/* AF_INET, AF_INET6 */
	unsigned char addr[16];
	dns_ptr_cb *cb;
	void *arg;
	struct query *ptrq;		/* the PTR query while pending */
	int n;
	struct fwd fwd[DNS_PTR_MAX];
};

struct dns {
	struct ub_ctx *ctx;
	int timeout;
	int started;			/* libunbound's thread runs */
	int next_id;
	int count;			/* handles in ids */
	void *ids;
	struct query *head, *tail;	/* every query at libunbound */
	struct ptrjob *jobs;
};

static long long
now_ms(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_MONOTONIC, &ts) == -1)
		return 0;	/* cannot fail with a valid clock id */
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int
handle_cmp(const void *a, const void *b)
{
	int x = ((const struct handle *)a)->id;
	int y = ((const struct handle *)b)->id;

	return x < y ? -1 : x > y;
}

static struct handle *
handle_find(const struct dns *d, int id)
{
	struct handle key = { id, 0 };
	void *node;

	if (id <= 0)
		return NULL;
	node = tfind(&key, &d->ids, handle_cmp);
	return node != NULL ? *(struct handle **)node : NULL;
}

/* Give h a fresh id and enter it in the tree. */
static void
handle_add(struct dns *d, struct handle *h)
{
	do {
		h->id = d->next_id;
		d->next_id = d->next_id == INT_MAX ? 1 : d->next_id + 1;
	} while (handle_find(d, h->id) != NULL);
	if (tsearch(h, &d->ids, handle_cmp) == NULL)
		die_temp("out of memory");
	d->count++;
}

static void
handle_remove(struct dns *d, struct handle *h)
{
	if (h->id > 0 && tdelete(h, &d->ids, handle_cmp) != NULL)
		d->count--;
	h->id = 0;
}

/*
 * Options.  libunbound answers about 100 special-use zones itself
 * (RFC 6303, 6761, 7686).  Most are reverse zones of private and
 * documentation ranges, which a site's resolver may well serve (mail
 * clients on 10.0.0.0/8 have PTR records there): unblock-lan-zones hands
 * them to the server.  test. and home.arpa. stay even then; declaring them
 * transparent lets them through too ("local-zone: NAME nodefault" through
 * ub_ctx_set_option is stored with its type word and never matches, in
 * 1.17).  infra-keep-probing: with a single forwarder, a server marked
 * down after a few timeouts would otherwise fail every query at once
 * until the next probe.
 */
static const char *const options[][2] = {
	{ "do-not-query-localhost:", "no" },
	{ "unblock-lan-zones:", "yes" },
	{ "local-zone:", "test. transparent" },
	{ "local-zone:", "home.arpa. transparent" },
	{ "infra-keep-probing:", "yes" },
};

/* "HOST[:PORT]" or "[V6]:PORT" into libunbound's "HOST@PORT". */
static int
parse_server(const char *s, char *out, size_t outsz)
{
	char host[INET6_ADDRSTRLEN], *end;
	const char *port = NULL, *p;
	unsigned char buf[16];
	size_t n;
	long v;
	int v6 = 0;

	if (s[0] == '[') {
		if ((p = strchr(s, ']')) == NULL)
			return -1;
		n = (size_t)(p - s - 1);
		if (n >= sizeof(host))
			return -1;
		memcpy(host, s + 1, n);
		host[n] = '\0';
		if (p[1] == ':')
			port = p + 2;
		else if (p[1] != '\0')
			return -1;
		v6 = 1;
	} else {
		p = strchr(s, ':');
		n = p != NULL ? (size_t)(p - s) : strlen(s);
		if (n >= sizeof(host))
			return -1;
		memcpy(host, s, n);
		host[n] = '\0';
		if (p != NULL)
			port = p + 1;
	}
	if (inet_pton(v6 ? AF_INET6 : AF_INET, host, buf) != 1)
		return -1;
	if (port == NULL)
		v = 53;
	else {
		if (*port < '0' || *port > '9')
			return -1;
		errno = 0;
		v = strtol(port, &end, 10);
		if (errno != 0 || *end != '\0' || v < 1 || v > 65535)
			return -1;
	}
	if ((size_t)snprintf(out, outsz, "%s@%ld", host, v) >= outsz)
		return -1;
	return 0;
}

/*
 * ub_ctx_create seeds libunbound's random numbers through state shared
 * by the whole process: two threads making their resolvers at once
 * abort on a mutex inside it (seen in mail-auth's workers), so
 * resolvers are made one at a time.
 */
static pthread_mutex_t create_mu = PTHREAD_MUTEX_INITIALIZER;

struct dns *
dns_new(const char *server, char *err, size_t errsz)
{
	struct dns *d;
	char fwd[INET6_ADDRSTRLEN + 8];
	size_t i;
	int r, e;

	if (server != NULL && parse_server(server, fwd, sizeof(fwd)) == -1) {
		snprintf(err, errsz, "bad server address: %s (want "
		    "IPV4[:PORT] or [IPV6][:PORT])", server);
		return NULL;
	}
	d = xcalloc(1, sizeof(*d));
	d->timeout = DNS_TIMEOUT;
	d->next_id = 1;
	pthread_mutex_lock(&create_mu);
	d->ctx = ub_ctx_create();
	e = errno;
	pthread_mutex_unlock(&create_mu);
	if (d->ctx == NULL) {
		snprintf(err, errsz, "create resolver: %s", strerror(e));
		free(d);
		return NULL;
	}
	if ((r = ub_ctx_async(d->ctx, 1)) != 0) {
		snprintf(err, errsz, "resolver threads: %s", ub_strerror(r));
		goto fail;
	}
	for (i = 0; i < sizeof(options) / sizeof(options[0]); i++) {
		r = ub_ctx_set_option(d->ctx, options[i][0], options[i][1]);
		if (r != 0) {
			snprintf(err, errsz, "resolver option %s %s: %s",
			    options[i][0], options[i][1], ub_strerror(r));
			goto fail;
		}
	}
	if (server != NULL) {
		if ((r = ub_ctx_set_fwd(d->ctx, fwd)) != 0) {
			snprintf(err, errsz, "resolver forward to %s: %s",
			    server, ub_strerror(r));
			goto fail;
		}
	} else if ((r = ub_ctx_resolvconf(d->ctx, NULL)) != 0) {
		e = errno;
		/* No file: the local server, as resolv.conf(5) says (and
		 * libunbound does for a file without servers). */
		if (r == UB_READFILE && e == ENOENT)
			r = ub_ctx_set_fwd(d->ctx, "127.0.0.1");
		if (r != 0) {
			snprintf(err, errsz, "read /etc/resolv.conf: %s",
			    r == UB_READFILE ? strerror(e) : ub_strerror(r));
			goto fail;
		}
	}
	/*
	 * Apply the configuration now rather than at the first query
	 * (removing a zone that is not there does just that): its errors
	 * belong here, and it sets libunbound's process-wide log state,
	 * which had better happen in the thread that calls dns_new than
	 * in several event-loop threads at once.
	 */
	if ((r = ub_ctx_zone_remove(d->ctx, "no-such-zone.invalid.")) != 0) {
		snprintf(err, errsz, "resolver setup: %s", ub_strerror(r));
		goto fail;
	}
	return d;
fail:
	ub_ctx_delete(d->ctx);
	free(d);
	return NULL;
}

void
dns_set_timeout(struct dns *d, int ms)
{
	d->timeout = ms < 1 ? 1 : ms;
}

int
dns_fd(const struct dns *d)
{
	return ub_fd(d->ctx);
}

int
dns_pending(const struct dns *d)
{
	return d->count;
}

int
dns_next_timeout(const struct dns *d)
{
	long long left;

	if (d->head == NULL)
		return -1;
	left = d->head->deadline - now_ms();
	if (left < 0)
		return 0;
	return left > INT_MAX ? INT_MAX : (int)left;
}

const char *
dns_status_str(enum dns_status s)
{
	switch (s) {
	case DNS_OK:		return "ok";
	case DNS_NXDOMAIN:	return "nxdomain";
	case DNS_NODATA:	return "nodata";
	case DNS_TEMPFAIL:	return "tempfail";
	case DNS_PERMFAIL:	return "permfail";
	}
	return "unknown";
}

/* The pending list, sorted by deadline; new queries go near the tail. */
static void
pending_insert(struct dns *d, struct query *q)
{
	struct query *after = d->tail;

	while (after != NULL && after->deadline > q->deadline)
		after = after->prev;
	q->prev = after;
	q->next = after != NULL ? after->next : d->head;
	if (q->next != NULL)
		q->next->prev = q;
	else
		d->tail = q;
	if (after != NULL)
		after->next = q;
	else
		d->head = q;
}

static void
pending_remove(struct dns *d, struct query *q)
{
	if (q->prev != NULL)
		q->prev->next = q->next;
	else
		d->head = q->next;
	if (q->next != NULL)
		q->next->prev = q->prev;
	else
		d->tail = q->prev;
	q->prev = q->next = NULL;
}

static void
query_free(struct query *q)
{
	free(q->name);
	free(q);
}

/*
 * Take q off every list.  In thread mode ub_cancel only marks the query
 * (the resolver thread finishes it) and drops its answer unseen, so q
 * may be freed now.
 */
static void
query_detach(struct query *q, int cancel)
{
	struct dns *d = q->dns;

	if (cancel)
		(void)ub_cancel(d->ctx, q->ubid);
	pending_remove(d, q);
	handle_remove(d, &q->h);
}

/* A name libunbound can parse: printable ASCII, with any byte (space,
 * backslash, dot in a label...) written as \DDD, labels of 1 to 63
 * bytes, at most 253 bytes, a final dot allowed. */
static int
name_ok(const char *name)
{
	size_t len = strlen(name), lab = 0, n = 0, i;
	int v;

	if (len > 0 && name[len - 1] == '.')
		len--;
	if (len == 0)
		return 0;
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)name[i];

		if (c == '.') {
			if (lab == 0)
				return 0;
			lab = 0;
			n++;
			continue;
		}
		if (c <= ' ' || c >= 0x7f)
			return 0;
		if (c == '\\') {
			if (i + 3 >= len ||
			    name[i + 1] < '0' || name[i + 1] > '9' ||
			    name[i + 2] < '0' || name[i + 2] > '9' ||
			    name[i + 3] < '0' || name[i + 3] > '9')
				return 0;
			v = (name[i + 1] - '0') * 100 + (name[i + 2] - '0') * 10 +
			    (name[i + 3] - '0');
			if (v > 255)
				return 0;
			i += 3;
		}
		if (++lab > 63 || ++n > 253)
			return 0;
	}
	return 1;
}

static void ub_done(void *, int, struct ub_result *);

static struct query *
query_start(struct dns *d, const char *name, int rrtype, dns_cb *cb,
    void *arg)
{
	struct query *q;
	sigset_t all, old;
	int r, blocked = 0;

	if (!name_ok(name) || rrtype < 1 || rrtype > 65535) {
		errno = EINVAL;
		return NULL;
	}
	q = xcalloc(1, sizeof(*q));
	q->dns = d;
	q->name = xstrdup(name);
	q->rrtype = rrtype;
	q->cb = cb;
	q->arg = arg;
	/* The first query starts libunbound's thread: keep signals away
	 * from it, the program's handlers expect them in its own. */
	if (!d->started) {
		sigfillset(&all);
		blocked = pthread_sigmask(SIG_BLOCK, &all, &old) == 0;
	}
	r = ub_resolve_async(d->ctx, q->name, rrtype, CLASS_IN, q, ub_done,
	    &q->ubid);
	if (blocked)
		pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (r != 0) {
		query_free(q);
		errno = r == UB_NOMEM ? ENOMEM : r == UB_SYNTAX ? EINVAL : EIO;
		return NULL;
	}
	d->started = 1;
	q->deadline = now_ms() + d->timeout;
	pending_insert(d, q);
	return q;
}

int
dns_query(struct dns *d, const char *name, int rrtype, dns_cb *cb, void *arg)
{
	struct query *q;

	if ((q = query_start(d, name, rrtype, cb, arg)) == NULL)
		return -1;
	q->h.kind = H_QUERY;
	handle_add(d, &q->h);
	return q->h.id;
}

/*
 * A wire name (uncompressed, as libunbound hands RDATA over) at p, at
 * most len bytes, into text; *used is set to its wire length.  -1 if
 * malformed or too long as text.
 */
static int
name_text(const unsigned char *p, size_t len, size_t *used, char *out,
    size_t outsz)
{
	size_t i = 0, o = 0, lab;

	for (;;) {
		if (i >= len || i >= 255)
			return -1;
		lab = p[i++];
		if (lab == 0)
			break;
		if (lab > 63 || i + lab > len)
			return -1;
		if (o > 0)
			out[o++] = '.';
		for (; lab > 0; lab--, i++) {
			unsigned char c = p[i];
			int plain = (c >= 'a' && c <= 'z') ||
			    (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
			    c == '-' || c == '_' || c == '*' || c == '/';

			if (o + (plain ? 1 : 4) >= outsz)
				return -1;
			if (plain)
				out[o++] = (char)c;
			else
				o += (size_t)snprintf(out + o, outsz - o,
				    "\\%03u", c);
		}
		if (o + 1 >= outsz)
			return -1;
	}
	if (o == 0)
		out[o++] = '.';
	out[o] = '\0';
	*used = i;
	return 0;
}

/* Fill rr from one RDATA; data points into buf, which has room for len
 * + 1 bytes.  Returns 0, or -1 if malformed. */
static int
parse_rr(struct dns_rr *rr, int type, const unsigned char *p, size_t len,
    unsigned char *buf)
{
	size_t used, i, n;

	rr->type = type;
	rr->data = buf;
	switch (type) {
	case DNS_T_A:
		if (len != 4)
			return -1;
		memcpy(&rr->a, p, 4);
		break;
	case DNS_T_AAAA:
		if (len != 16)
			return -1;
		memcpy(&rr->aaaa, p, 16);
		break;
	case DNS_T_MX:
		if (len < 3)
			return -1;
		rr->pref = p[0] << 8 | p[1];
		if (name_text(p + 2, len - 2, &used, rr->name,
		    sizeof(rr->name)) == -1 || used != len - 2)
			return -1;
		break;
	case DNS_T_PTR:
	case DNS_T_CNAME:
	case DNS_T_NS:
		if (name_text(p, len, &used, rr->name,
		    sizeof(rr->name)) == -1 || used != len)
			return -1;
		break;
	case DNS_T_TXT:
		for (i = 0, n = 0; i < len; i += 1 + p[i]) {
			if (i + 1 + p[i] > len)
				return -1;
			memcpy(buf + n, p + i + 1, p[i]);
			n += p[i];
		}
		buf[n] = '\0';
		rr->len = n;
		return 0;
	}
	memcpy(buf, p, len);
	buf[len] = '\0';
	rr->len = len;
	return 0;
}

/* Call q's callback with the answer made of err and res, then free q. */
static void
complete(struct query *q, int err, struct ub_result *res, const char *why)
{
	struct dns_answer ans;
	struct dns_rr *rr = NULL;
	unsigned char *buf = NULL;
	char canon[DNS_NAME_MAX], whybuf[32];
	const char *cn;
	size_t total = 0, off = 0, n;
	int i, nrr = 0;

	memset(&ans, 0, sizeof(ans));
	ans.rrtype = q->rrtype;
	ans.qname = q->name;
	if (why != NULL) {
		ans.status = DNS_TEMPFAIL;
		ans.why = why;
	} else if (err != 0) {
		ans.status = DNS_TEMPFAIL;
		ans.why = ub_strerror(err);
	} else if (res->bogus) {
		ans.status = DNS_TEMPFAIL;
		ans.why = "DNSSEC validation failed";
	} else if (res->rcode == RCODE_NXDOMAIN)
		ans.status = DNS_NXDOMAIN;
	else if (res->rcode == RCODE_SERVFAIL) {
		ans.status = DNS_TEMPFAIL;
		ans.why = "server failure";
	} else if (res->rcode != RCODE_NOERROR) {
		ans.status = DNS_TEMPFAIL;
		snprintf(whybuf, sizeof(whybuf), "server error (rcode %d)",
		    res->rcode);
		ans.why = whybuf;
	} else if (!res->havedata || res->data == NULL ||
	    res->data[0] == NULL)
		ans.status = DNS_NODATA;
	else
		ans.status = DNS_OK;

	cn = res != NULL && res->canonname != NULL ? res->canonname : q->name;
	n = strlen(cn);
	if (n > 1 && cn[n - 1] == '.')
		n--;
	if (n >= sizeof(canon))
		n = sizeof(canon) - 1;
	memcpy(canon, cn, n);
	canon[n] = '\0';
	ans.canonname = canon;
	if (ans.status == DNS_OK) {
		for (nrr = 0; res->data[nrr] != NULL; nrr++) {
			if (nrr == DNS_MAX_RECORDS) {
				ans.truncated = 1;
				break;
			}
			total += (size_t)res->len[nrr] + 1;
		}
		rr = xcalloc((size_t)nrr, sizeof(*rr));
		buf = xmalloc(total);
		for (i = 0; i < nrr; i++) {
			if (parse_rr(&rr[i], q->rrtype,
			    (unsigned char *)res->data[i],
			    (size_t)res->len[i], buf + off) == -1) {
				ans.status = DNS_PERMFAIL;
				ans.why = "malformed answer";
				ans.truncated = 0;
				nrr = 0;
				break;
			}
			off += (size_t)res->len[i] + 1;
		}
		ans.rr = rr;
		ans.nrr = nrr;
	}
	q->cb(q->arg, &ans);
	free(rr);
	free(buf);
	query_free(q);
}

/* libunbound's callback, from ub_process in the caller's thread. */
static void
ub_done(void *arg, int err, struct ub_result *res)
{
	struct query *q = arg;

	query_detach(q, 0);
	complete(q, err, res, NULL);
	ub_resolve_free(res);
}

int
dns_process(struct dns *d)
{
	struct query *q;
	long long now;
	int r;

	/* Answers first: one that came in just in time wins. */
	r = ub_process(d->ctx);
	now = now_ms();
	while ((q = d->head) != NULL && q->deadline <= now) {
		query_detach(q, 1);
		complete(q, 0, NULL, "timed out");
	}
	if (r != 0) {
		errno = EPIPE;
		return -1;
	}
	return 0;
}

/* FCrDNS */

static void job_free(struct ptrjob *);

/* Decide when the names before the first confirmed one are all done. */
static void
job_check(struct ptrjob *job)
{
	enum dns_status st = DNS_NODATA;
	const char *name = NULL;
	dns_ptr_cb *cb = job->cb;
	void *arg = job->arg;
	char found[DNS_NAME_MAX];
	int i;

	for (i = 0; i < job->n; i++) {
		if (job->fwd[i].state == FWD_PENDING)
			return;
		if (job->fwd[i].state == FWD_YES) {
			memcpy(found, job->fwd[i].name, sizeof(found));
			name = found;
			st = DNS_OK;
			break;
		}
		if (job->fwd[i].state == FWD_TEMP)
			st = DNS_TEMPFAIL;
	}
	job_free(job);
	cb(arg, st, name);
}

static void
fwd_done(void *arg, const struct dns_answer *ans)
{
	struct fwd *f = arg;
	struct ptrjob *job = f->job;
	int i;

	f->q = NULL;
	f->state = ans->status == DNS_TEMPFAIL ? FWD_TEMP : FWD_NO;
	for (i = 0; i < ans->nrr; i++) {
		if (job->family == AF_INET && ans->rr[i].type == DNS_T_A &&
		    memcmp(&ans->rr[i].a, job->addr, 4) == 0)
			f->state = FWD_YES;
		if (job->family == AF_INET6 && ans->rr[i].type == DNS_T_AAAA &&
		    memcmp(&ans->rr[i].aaaa, job->addr, 16) == 0)
			f->state = FWD_YES;
	}
	job_check(job);
}

static void
ptr_done(void *arg, const struct dns_answer *ans)
{
	struct ptrjob *job = arg;
	struct fwd *f;
	dns_ptr_cb *cb = job->cb;
	void *cbarg = job->arg;
	int i;

	job->ptrq = NULL;
	if (ans->status != DNS_OK) {
		job_free(job);
		cb(cbarg, ans->status, NULL);
		return;
	}
	for (i = 0; i < ans->nrr && job->n < DNS_PTR_MAX; i++) {
		if (ans->rr[i].type != DNS_T_PTR)
			continue;
		f = &job->fwd[job->n++];
		f->job = job;
		memcpy(f->name, ans->rr[i].name, sizeof(f->name));
		f->q = query_start(job->dns, f->name,
		    job->family == AF_INET ? DNS_T_A : DNS_T_AAAA, fwd_done, f);
		if (f->q != NULL)
			f->state = FWD_PENDING;
		else
			/* a name we cannot ask about confirms nothing */
			f->state = errno == EINVAL ? FWD_NO : FWD_TEMP;
	}
	job_check(job);
}

static void
job_unlink(struct ptrjob *job)
{
	struct dns *d = job->dns;

	handle_remove(d, &job->h);
	if (job->prev != NULL)
		job->prev->next = job->next;
	else
		d->jobs = job->next;
	if (job->next != NULL)
		job->next->prev = job->prev;
}

/* Unlink and free job, cancelling its pending queries. */
static void
job_free(struct ptrjob *job)
{
	int i;

	if (job->ptrq != NULL) {
		query_detach(job->ptrq, 1);
		query_free(job->ptrq);
	}
	for (i = 0; i < job->n; i++)
		if (job->fwd[i].q != NULL) {
			query_detach(job->fwd[i].q, 1);
			query_free(job->fwd[i].q);
		}
	job_unlink(job);
	free(job);
}

int
dns_ptr_confirmed(struct dns *d, const struct sockaddr *sa, dns_ptr_cb *cb,
    void *arg)
{
	static const char hex[] = "0123456789abcdef";
	struct ptrjob *job;
	const unsigned char *a;
	char name[80], *o;
	int i;

	job = xcalloc(1, sizeof(*job));
	if (sa->sa_family == AF_INET) {
		job->family = AF_INET;
		memcpy(job->addr,
		    &((const struct sockaddr_in *)(const void *)sa)->sin_addr, 4);
	} else if (sa->sa_family == AF_INET6) {
		a = ((const struct sockaddr_in6 *)(const void *)sa)->
		    sin6_addr.s6_addr;
		if (IN6_IS_ADDR_V4MAPPED(
		    &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr)) {
			job->family = AF_INET;
			memcpy(job->addr, a + 12, 4);
		} else {
			job->family = AF_INET6;
			memcpy(job->addr, a, 16);
		}
	} else {
		free(job);
		errno = EAFNOSUPPORT;
		return -1;
	}
	a = job->addr;
	if (job->family == AF_INET)
		snprintf(name, sizeof(name), "%u.%u.%u.%u.in-addr.arpa",
		    a[3], a[2], a[1], a[0]);
	else {
		for (o = name, i = 15; i >= 0; i--) {
			*o++ = hex[a[i] & 0xf];
			*o++ = '.';
			*o++ = hex[a[i] >> 4];
			*o++ = '.';
		}
		memcpy(o, "ip6.arpa", 9);
	}
	job->dns = d;
	job->cb = cb;
	job->arg = arg;
	if ((job->ptrq = query_start(d, name, DNS_T_PTR, ptr_done, job)) ==
	    NULL) {
		free(job);
		return -1;
	}
	job->h.kind = H_PTR;
	handle_add(d, &job->h);
	job->next = d->jobs;
	if (d->jobs != NULL)
		d->jobs->prev = job;
	d->jobs = job;
	return job->h.id;
}

void
dns_cancel(struct dns *d, int id)
{
	struct handle *h;
	struct query *q;

	if ((h = handle_find(d, id)) == NULL)
		return;
	if (h->kind == H_PTR) {
		job_free((struct ptrjob *)(void *)h);
		return;
	}
	q = (struct query *)(void *)h;
	query_detach(q, 1);
	query_free(q);
}

/* Poll and process until id is done (0: until nothing is pending). */
static int
wait_for(struct dns *d, int id)
{
	struct pollfd pfd;

	while (id > 0 ? handle_find(d, id) != NULL : d->head != NULL) {
		pfd.fd = ub_fd(d->ctx);
		pfd.events = POLLIN;
		pfd.revents = 0;
		if (poll(&pfd, 1, dns_next_timeout(d)) == -1 && errno != EINTR)
			return -1;
		if (dns_process(d) == -1)
			return -1;
	}
	return 0;
}

int
dns_wait(struct dns *d)
{
	return wait_for(d, 0);
}

int
dns_query_sync(struct dns *d, const char *name, int rrtype, dns_cb *cb,
    void *arg)
{
	int id, e;

	if ((id = dns_query(d, name, rrtype, cb, arg)) == -1)
		return -1;
	if (wait_for(d, id) == -1) {
		e = errno;
		dns_cancel(d, id);
		errno = e;
		return -1;
	}
	return 0;
}

void
dns_free(struct dns *d)
{
	struct ptrjob *job;
	struct query *q;

	if (d == NULL)
		return;
	/* Stops the thread and drops answers in flight unseen. */
	ub_ctx_delete(d->ctx);
	while ((q = d->head) != NULL) {
		pending_remove(d, q);
		handle_remove(d, &q->h);
		query_free(q);
	}
	while ((job = d->jobs) != NULL) {
		job_unlink(job);
		free(job);
	}
	free(d);
}
