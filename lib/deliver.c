#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <openssl/ssl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "deliver.h"
#include "dns.h"
#include "envelope.h"
#include "limit.h"
#include "line.h"
#include "log.h"
#include "record.h"
#include "tls.h"
#include "xalloc.h"

#define MX_MAX 10	/* MX hosts tried per domain */

struct policy_entry {
	char *dest;	/* "host:port", "host" or "domain" (lower case) */
	enum smtpc_tls tls;
	char *name;	/* the name to check, or NULL */
};

struct deliver {
	const struct deliver_conf *c;
	SSL_CTX *ssl;
	struct policy_entry *pol;
	size_t npol;
	struct dns *dns;
	struct smtpc *conn;
	char dest[300];		/* what conn is connected to */
	int tls;		/* the policy conn was opened with */
	int on_conn;		/* messages carried by conn */
	int dirty;		/* conn needs RSET before the next MAIL */
};

static int
parse_policy(const char *word, enum smtpc_tls *t)
{
	if (strcmp(word, "none") == 0)
		*t = SMTPC_TLS_NONE;
	else if (strcmp(word, "may") == 0)
		*t = SMTPC_TLS_MAY;
	else if (strcmp(word, "encrypt") == 0)
		*t = SMTPC_TLS_ENCRYPT;
	else if (strcmp(word, "verify") == 0)
		*t = SMTPC_TLS_VERIFY;
	else
		return -1;
	return 0;
}

/* "destination policy [name]" per line, # comments. */
static int
load_policy(struct deliver *d, const char *path, char *err, size_t errsz)
{
	struct line_reader *lr;
	char *line, dest[300], word[32], name[300];
	size_t len, cap = 0;
	int fd, n, r = 0;
	enum line_status st;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		snprintf(err, errsz, "%s: %s", path, strerror(errno));
		return -1;
	}
	lr = line_new(fd, LIMIT_TABLE_LINE);
	while ((st = line_next(lr, &line, &len)) != LINE_EOF) {
		char *hash;

		if (st != LINE_OK) {
			snprintf(err, errsz, "%s: line %lu: %s", path,
			    line_number(lr), st == LINE_LONG ? "too long" :
			    strerror(errno));
			r = -1;
			break;
		}
		if ((hash = strchr(line, '#')) != NULL)
			*hash = '\0';
		name[0] = '\0';
		n = sscanf(line, "%299s %31s %299s", dest, word, name);
		if (n <= 0)
			continue;
		if (n < 2 || d->npol == 100000) {
			snprintf(err, errsz, "%s: line %lu: want "
			    "\"destination policy [name]\"", path,
			    line_number(lr));
			r = -1;
			break;
		}
		if (d->npol == cap) {
			cap = cap ? cap * 2 : 16;
			d->pol = xreallocarray(d->pol, cap, sizeof(*d->pol));
		}
		if (parse_policy(word, &d->pol[d->npol].tls) == -1) {
			snprintf(err, errsz, "%s: line %lu: unknown policy %s "
			    "(none, may, encrypt, verify)", path,
			    line_number(lr), word);
			r = -1;
			break;
		}
		for (n = 0; dest[n] != '\0'; n++)
			if (dest[n] >= 'A' && dest[n] <= 'Z')
				dest[n] += 32;
		d->pol[d->npol].dest = xstrdup(dest);
		d->pol[d->npol].name = name[0] ? xstrdup(name) : NULL;
		d->npol++;
	}
	line_free(lr);
	close(fd);
	return r;
}

struct deliver *
deliver_new(const struct deliver_conf *c, char *err, size_t errsz)
{
	struct deliver *d = xcalloc(1, sizeof(*d));
	char why[256];

	d->c = c;
	d->ssl = SSL_CTX_new(TLS_client_method());
	if (d->ssl == NULL) {
		snprintf(err, errsz, "SSL_CTX_new: %s", tls_errors(why,
		    sizeof(why)));
		goto fail;
	}
	SSL_CTX_set_options(d->ssl, SSL_OP_NO_COMPRESSION |
	    SSL_OP_NO_RENEGOTIATION);
	if (c->ca != NULL) {
		if (SSL_CTX_load_verify_locations(d->ssl, c->ca, NULL) != 1) {
			snprintf(err, errsz, "load CA file %s: %s", c->ca,
			    tls_errors(why, sizeof(why)));
			goto fail;
		}
	} else
		SSL_CTX_set_default_verify_paths(d->ssl);
	if (c->tls_policy != NULL && load_policy(d, c->tls_policy, err,
	    errsz) == -1)
		goto fail;
	if (c->mx && (d->dns = dns_new(c->dns, err, errsz)) == NULL)
		goto fail;
	return d;
fail:
	deliver_free(d);
	return NULL;
}

void
deliver_free(struct deliver *d)
{
	size_t i;

	if (d == NULL)
		return;
	smtpc_close(d->conn, 1);
	for (i = 0; i < d->npol; i++) {
		free(d->pol[i].dest);
		free(d->pol[i].name);
	}
	free(d->pol);
	dns_free(d->dns);
	if (d->ssl)
		SSL_CTX_free(d->ssl);
	free(d);
}

void
deliver_idle(struct deliver *d)
{
	smtpc_close(d->conn, 1);
	d->conn = NULL;
	d->dest[0] = '\0';
}

/* The TLS policy for a destination: "host:port", then "host", then
 * the domain (for MX routes); the default otherwise. */
static const struct policy_entry *
policy_for(const struct deliver *d, const char *hostport, const char *host,
    const char *domain)
{
	size_t i;
	const char *keys[3] = { hostport, host, domain };
	int k;

	for (k = 0; k < 3; k++)
		for (i = 0; keys[k] != NULL && i < d->npol; i++)
			if (strcasecmp(d->pol[i].dest, keys[k]) == 0)
				return &d->pol[i];
	return NULL;
}

/*
 * The message as it goes out: the relay block of smtp-accept dropped
 * (it names every recipient), LF turned into CRLF.  Sets *eightbit when
 * a byte is above 127.  NULL with the reason in err.
 */
static char *
load_wire(const char *path, unsigned long long max, size_t *len,
    int *eightbit, char *err, size_t errsz)
{
	struct stat st;
	char *raw, *out, *p, *end;
	size_t got = 0, lfs = 0, i, o = 0;
	ssize_t r;
	int fd, have_id = 0;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1 ||
	    fstat(fd, &st) == -1) {
		snprintf(err, errsz, "%s: %s", path, strerror(errno));
		if (fd != -1)
			close(fd);
		return NULL;
	}
	if ((unsigned long long)st.st_size > max) {
		snprintf(err, errsz, "%s: message too big", path);
		close(fd);
		return NULL;
	}
	raw = xmalloc((size_t)st.st_size + 1);
	while (got < (size_t)st.st_size) {
		r = read(fd, raw + got, (size_t)st.st_size - got);
		if (r == -1 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		got += (size_t)r;
	}
	close(fd);
	if (got < (size_t)st.st_size) {
		snprintf(err, errsz, "%s: short read", path);
		free(raw);
		return NULL;
	}
	/* the relay block: X-Sluice- fields from the first line, one of
	 * them X-Sluice-Id (see envelope.h) */
	p = raw;
	end = raw + got;
	while (p < end && end - p > 9 && strncasecmp(p, "X-Sluice-", 9) == 0) {
		if (end - p > 12 && strncasecmp(p, "X-Sluice-Id:", 12) == 0)
			have_id = 1;
		do {
			char *nl = memchr(p, '\n', (size_t)(end - p));

			p = nl ? nl + 1 : end;
		} while (p < end && (*p == ' ' || *p == '\t'));
	}
	if (!have_id)
		p = raw;
	*eightbit = 0;
	for (i = (size_t)(p - raw); i < got; i++) {
		if (raw[i] == '\n' && (i == 0 || raw[i - 1] != '\r'))
			lfs++;
		if ((unsigned char)raw[i] >= 0x80)
			*eightbit = 1;
	}
	out = xmalloc(got - (size_t)(p - raw) + lfs + 1);
	for (i = (size_t)(p - raw); i < got; i++) {
		if (raw[i] == '\n' && (i == 0 || raw[i - 1] != '\r'))
			out[o++] = '\r';
		out[o++] = raw[i];
	}
	out[o] = '\0';
	free(raw);
	*len = o;
	return out;
}

static const char *
rcpt_status(const struct smtpc_rcpt *r)
{
	const struct smtpc_reply *x = r->rcpt.code / 100 == 2 ? &r->data :
	    &r->rcpt;

	if (x->code / 100 == 2)
		return "delivered";
	if (x->code / 100 == 5)
		return "failed";
	return "deferred";
}

/* Open (or keep) a connection to host:port under policy tls. */
static int
connect_to(struct deliver *d, const char *host, const char *name,
    const char *port, const char *domain, struct smtpc_reply *r, char *err,
    size_t errsz)
{
	char hostport[300], namedport[300];
	const struct policy_entry *pe;
	struct smtpc_conf sc = d->c->smtp;

	snprintf(hostport, sizeof(hostport), "%s:%s", host, port);
	snprintf(namedport, sizeof(namedport), "%s:%s", name, port);
	pe = policy_for(d, namedport, name, domain);
	if (pe == NULL)
		pe = policy_for(d, hostport, host, NULL);
	/* the name checked: the policy's, else the host's name (an MX
	 * host's, not its address) */
	sc.verify_name = name;
	if (pe != NULL) {
		sc.tls = pe->tls;
		if (pe->name != NULL)
			sc.verify_name = pe->name;
	}
	if (d->conn != NULL && strcasecmp(d->dest, hostport) == 0 &&
	    d->tls == (int)sc.tls && d->on_conn < d->c->max_messages) {
		if (!d->dirty || smtpc_rset(d->conn) == 0)
			return 0;
	}
	deliver_idle(d);
	sc.ssl = d->ssl;
	d->conn = smtpc_open(host, name, port, &sc, r, err, errsz);
	if (d->conn == NULL && sc.tls == SMTPC_TLS_MAY && r->code == 0 &&
	    strncmp(err, "TLS", 3) == 0) {
		/* opportunistic: a failed handshake goes on in plain, as
		 * Postfix does at level may */
		sc.tls = SMTPC_TLS_NONE;
		d->conn = smtpc_open(host, name, port, &sc, r, err, errsz);
	}
	if (d->conn == NULL)
		return -1;
	snprintf(d->dest, sizeof(d->dest), "%s", hostport);
	d->tls = (int)(pe != NULL ? pe->tls : d->c->smtp.tls);
	d->on_conn = 0;
	d->dirty = 0;
	return 0;
}

/* The hosts to try for a route: --to, or the MX hosts of domain (by
 * address, looked up through our resolver; name kept for TLS). */
struct route {
	char host[DELIVER_MAX_HOSTS > MX_MAX ? DELIVER_MAX_HOSTS : MX_MAX][256];
	char port[DELIVER_MAX_HOSTS > MX_MAX ? DELIVER_MAX_HOSTS : MX_MAX][8];
	char name[DELIVER_MAX_HOSTS > MX_MAX ? DELIVER_MAX_HOSTS : MX_MAX][256];
	int n;
	int null_mx;
	int tempfail;
};

struct mx_acc {
	struct route *rt;
	int pref[MX_MAX];
	enum dns_status st;
};

static void
mx_cb(void *arg, const struct dns_answer *a)
{
	struct mx_acc *m = arg;
	int i, j;

	m->st = a->status;
	for (i = 0; i < a->nrr && m->rt->n < MX_MAX; i++) {
		if (a->rr[i].type != DNS_T_MX)
			continue;
		if (strcmp(a->rr[i].name, ".") == 0 || a->rr[i].name[0] ==
		    '\0') {
			m->rt->null_mx = 1;	/* RFC 7505 */
			continue;
		}
		/* insertion by preference */
		for (j = m->rt->n; j > 0 && m->pref[j - 1] > a->rr[i].pref;
		    j--) {
			m->pref[j] = m->pref[j - 1];
			memcpy(m->rt->host[j], m->rt->host[j - 1], 256);
		}
		m->pref[j] = a->rr[i].pref;
		snprintf(m->rt->host[j], 256, "%s", a->rr[i].name);
		m->rt->n++;
	}
}

struct addr_acc {
	char addr[64];
	enum dns_status st;
};

static void
addr_cb(void *arg, const struct dns_answer *a)
{
	struct addr_acc *x = arg;
	int i;

	x->st = a->status;
	for (i = 0; i < a->nrr && x->addr[0] == '\0'; i++)
		if (a->rr[i].type == DNS_T_A)
			inet_ntop(AF_INET, &a->rr[i].a, x->addr,
			    sizeof(x->addr));
		else if (a->rr[i].type == DNS_T_AAAA)
			inet_ntop(AF_INET6, &a->rr[i].aaaa, x->addr,
			    sizeof(x->addr));
}

/* An address of name through our resolver (A, then AAAA), or "". */
static int
resolve(struct deliver *d, const char *name, char *addr, size_t size)
{
	struct addr_acc x;
	int t;

	for (t = 0; t < 2; t++) {
		memset(&x, 0, sizeof(x));
		if (dns_query_sync(d->dns, name, t ? DNS_T_AAAA : DNS_T_A,
		    addr_cb, &x) == -1)
			return -1;
		if (x.addr[0] != '\0') {
			snprintf(addr, size, "%s", x.addr);
			return 0;
		}
		if (x.st == DNS_TEMPFAIL)
			return -1;
	}
	return -1;
}

static void
route_for(struct deliver *d, const char *domain, struct route *rt)
{
	struct mx_acc m;
	char addr[64];
	int i, k;

	memset(rt, 0, sizeof(*rt));
	if (!d->c->mx) {
		for (i = 0; i < d->c->nto; i++) {
			const char *colon = strrchr(d->c->to[i], ':');

			snprintf(rt->host[i], 256, "%.*s", (int)(colon -
			    d->c->to[i]), d->c->to[i]);
			memcpy(rt->name[i], rt->host[i], 256);
			snprintf(rt->port[i], 8, "%s", colon + 1);
		}
		rt->n = d->c->nto;
		return;
	}
	memset(&m, 0, sizeof(m));
	m.rt = rt;
	if (dns_query_sync(d->dns, domain, DNS_T_MX, mx_cb, &m) == -1) {
		rt->tempfail = errno != EINVAL;
		return;
	}
	if (m.st == DNS_TEMPFAIL) {
		rt->tempfail = 1;
		return;
	}
	if (rt->n == 0 && !rt->null_mx && (m.st == DNS_NODATA ||
	    m.st == DNS_OK)) {
		/* no MX: the domain itself (RFC 5321 5.1) */
		snprintf(rt->host[0], 256, "%s", domain);
		rt->n = 1;
	}
	/* each MX host by address; those without one are dropped */
	for (i = k = 0; i < rt->n; i++) {
		if (resolve(d, rt->host[i], addr, sizeof(addr)) == -1)
			continue;
		memcpy(rt->name[k], rt->host[i], 256);
		snprintf(rt->host[k], 256, "%s", addr);
		snprintf(rt->port[k], 8, "%d", d->c->port);
		k++;
	}
	if (k == 0 && rt->n > 0)
		rt->tempfail = 1;
	rt->n = k;
}

/* Deliver to the recipients rcpt[0..n) (one route) and fill them in. */
static void
transaction(struct deliver *d, struct smtpc_msg *m, const char *domain,
    char *host, size_t hostsize, char *why, size_t whysize)
{
	struct route rt;
	struct smtpc_reply r;
	char err[512] = "no route";
	int i;

	route_for(d, domain, &rt);
	if (rt.null_mx && rt.n == 0) {
		for (size_t k = 0; k < m->nrcpt; k++) {
			m->rcpt[k].rcpt.code = 556;
			snprintf(m->rcpt[k].rcpt.enhanced, 16, "5.1.10");
			snprintf(m->rcpt[k].rcpt.text, SMTPC_TEXT,
			    "domain %s accepts no mail (null MX)", domain);
		}
		return;
	}
	if (rt.tempfail)
		snprintf(err, sizeof(err), "MX lookup of %s failed", domain);
	for (i = 0; i < rt.n; i++) {
		if (connect_to(d, rt.host[i], rt.name[i], rt.port[i], domain,
		    &r, err, sizeof(err)) == -1) {
			if (r.code / 100 == 5 && rt.n == 1)
				break;	/* a 5xx banner of the only host */
			continue;
		}
		snprintf(host, hostsize, "%s", smtpc_host(d->conn));
		d->on_conn++;
		if (smtpc_send(d->conn, m, err, sizeof(err)) == -1) {
			/* lost: what was answered stands; the rest is
			 * deferred, and the next message reconnects */
			deliver_idle(d);
			snprintf(why, whysize, "%s", err);
			return;
		}
		d->dirty = 1;
		return;
	}
	snprintf(why, whysize, "%s", err);
	/* nobody took the message: a 5xx banner fails it, all else
	 * defers it */
	for (size_t k = 0; k < m->nrcpt; k++) {
		m->rcpt[k].rcpt = r;
		if (r.code / 100 != 5)
			m->rcpt[k].rcpt.code = 0;
	}
}

static json_t *
reply_json(const struct smtpc_rcpt *r, const char *host, const char *why)
{
	const struct smtpc_reply *x = r->rcpt.code / 100 == 2 ? &r->data :
	    &r->rcpt;
	char qid[128] = "";
	json_t *o = json_object();

	json_object_set_new(o, "addr", record_str(r->addr));
	json_object_set_new(o, "status", json_string(rcpt_status(r)));
	json_object_set_new(o, "code", x->code ? json_integer(x->code) :
	    json_null());
	json_object_set_new(o, "enhanced", x->enhanced[0] ?
	    json_string(x->enhanced) : json_null());
	json_object_set_new(o, "text", record_str(x->code ? x->text :
	    (why[0] ? why : "no reply")));
	json_object_set_new(o, "host", host[0] ? record_str(host) :
	    json_null());
	json_object_set_new(o, "latency_ms", json_integer((json_int_t)
	    (r->latency * 1000 + 0.5)));
	if (x->code / 100 == 2 && r->rcpt.code / 100 == 2)
		smtpc_queue_id(x->text, qid, sizeof(qid));
	json_object_set_new(o, "queue_id", qid[0] ? record_str(qid) :
	    json_null());
	return o;
}

int
deliver_one(struct deliver *d, json_t *rec, char *err, size_t errsz)
{
	const char *path = record_get(rec, "path");
	json_t *env = json_object_get(rec, "envelope"), *to, *params, *rp;
	json_t *del, *rcpts, *tls;
	struct smtpc_msg m;
	char *params_mail = NULL, **params_rcpt;
	char host[300] = "", why[512] = "", when[32];
	size_t i, n, j;
	int eightbit, delivered = 0, deferred = 0;

	if (path == NULL) {
		snprintf(err, errsz, "record without path");
		return -1;
	}
	to = json_object_get(env, "to");
	if (!json_is_object(env) || !json_is_array(to) ||
	    json_array_size(to) == 0 || record_get(env, "from") == NULL) {
		snprintf(err, errsz, "record without an envelope");
		return -1;
	}
	memset(&m, 0, sizeof(m));
	m.data = load_wire(path, d->c->max_size, &m.len, &eightbit, err,
	    errsz);
	if (m.data == NULL)
		return -1;
	params = json_object_get(env, "params");
	/* the MAIL parameters as text again */
	{
		json_t *mp = json_object_get(params, "mail"), *v;
		const char *k;
		size_t o = 0, cap = 256;

		params_mail = xcalloc(1, cap);
		json_object_foreach(mp, k, v) {
			const char *s = json_string_value(v);
			size_t need = strlen(k) + (s ? strlen(s) : 0) + 3;

			if (o + need >= cap) {
				cap = (o + need) * 2;
				params_mail = xreallocarray(params_mail, cap, 1);
			}
			o += (size_t)snprintf(params_mail + o, cap - o,
			    "%s%s%s%s", o ? " " : "", k, s ? "=" : "",
			    s ? s : "");
		}
	}
	m.from = record_get(env, "from");
	m.params = params_mail;
	m.utf8 = envelope_has_param(params_mail, "SMTPUTF8");
	m.eightbit = eightbit || strstr(params_mail, "BODY=8BITMIME") != NULL;
	n = json_array_size(to);
	m.rcpt = xcalloc(n, sizeof(*m.rcpt));
	params_rcpt = xcalloc(n, sizeof(*params_rcpt));
	rp = json_object_get(params, "rcpt");
	for (i = 0; i < n; i++) {
		json_t *p = json_array_get(rp, i), *v;
		const char *k;
		size_t o = 0;

		m.rcpt[i].addr = json_string_value(json_array_get(to, i));
		if (m.rcpt[i].addr == NULL)
			m.rcpt[i].addr = "";
		params_rcpt[i] = xcalloc(1, 1024);
		json_object_foreach(p, k, v)
			if (json_is_string(v) && o + strlen(k) +
			    strlen(json_string_value(v)) + 3 < 1024)
				o += (size_t)snprintf(params_rcpt[i] + o,
				    1024 - o, "%s%s=%s", o ? " " : "", k,
				    json_string_value(v));
		m.rcpt[i].params = params_rcpt[i][0] ? params_rcpt[i] : NULL;
	}
	m.nrcpt = n;
	if (!d->c->mx)
		transaction(d, &m, NULL, host, sizeof(host), why, sizeof(why));
	else {
		/* one transaction per recipient domain */
		for (i = 0; i < n; ) {
			const char *at = strrchr(m.rcpt[i].addr, '@');
			const char *dom = at ? at + 1 : "";
			struct smtpc_msg sub = m;

			for (j = i + 1; j < n; j++) {
				const char *a2 = strrchr(m.rcpt[j].addr, '@');

				if (strcasecmp(a2 ? a2 + 1 : "", dom) != 0)
					break;
			}
			sub.rcpt = m.rcpt + i;
			sub.nrcpt = j - i;
			transaction(d, &sub, dom, host, sizeof(host), why,
			    sizeof(why));
			i = j;
		}
	}
	rcpts = json_array();
	for (i = 0; i < n; i++) {
		const char *st = rcpt_status(&m.rcpt[i]);

		delivered += strcmp(st, "delivered") == 0;
		deferred += strcmp(st, "deferred") == 0;
		json_array_append_new(rcpts, reply_json(&m.rcpt[i], host, why));
	}
	del = json_object();
	json_object_set_new(del, "status", json_string(
	    (size_t)delivered == n ? "delivered" : deferred ? "deferred" :
	    "failed"));
	json_object_set_new(del, "host", host[0] ? record_str(host) :
	    json_null());
	envelope_time(time(NULL), when, sizeof(when));
	json_object_set_new(del, "at", json_string(when));
	tls = json_null();
	if (d->conn != NULL && host[0]) {
		char v[32], ciph[128];
		int bits, verified;

		if (smtpc_tls(d->conn, v, sizeof(v), ciph, sizeof(ciph), &bits,
		    &verified))
			tls = json_pack("{s:s,s:s,s:i,s:b}", "version", v,
			    "cipher", ciph, "bits", bits, "verified", verified);
	}
	json_object_set_new(del, "tls", tls);
	json_object_set_new(del, "rcpt", rcpts);
	json_object_set_new(rec, "delivery", del);
	for (i = 0; i < n; i++)
		free(params_rcpt[i]);
	free(params_rcpt);
	free(m.rcpt);
	free(params_mail);
	free((char *)m.data);
	return 0;
}
