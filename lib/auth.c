/*
 * auth: SPF, DKIM, DMARC and ARC on one message.  See auth.h.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <pthread.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "arc.h"
#include "auth.h"
#include "authres.h"
#include "dkim.h"
#include "dmarc.h"
#include "dns.h"
#include "limit.h"
#include "log.h"
#include "record.h"
#include "spf.h"
#include "table.h"
#include "xalloc.h"

struct auth {
	const struct auth_conf *c;
	struct dns *dns;
	struct trust *trust;	/* for the message in hand, or NULL */
};

/* What the checks work from: the client and the envelope. */
struct client {
	char ip[64];		/* "" when unknown */
	char helo[256];
	char mail_from[SPF_SENDER_MAX];
	int have_from;		/* mail_from is known ("" for <>) */
	int hop;		/* the Received hop it came from, or 0 */
	char problem[128];	/* why there is no client */
	struct sockaddr_storage ss;
};

struct auth *
auth_new(const struct auth_conf *c, char *err, size_t errsz)
{
	struct auth *a = xcalloc(1, sizeof(*a));

	a->c = c;
	a->dns = dns_new(c->dns, err, errsz);
	if (a->dns == NULL) {
		free(a);
		return NULL;
	}
	return a;
}

/*
 * --arc-trusted as it is now, shared by every handle (thread): SIGHUP
 * loads it again once, for all; a message holds a reference to the
 * table it started with, so a reload never frees one in use.
 */
struct trust {
	struct table *t;
	int refs;
	int owned;		/* loaded here, not the conf's */
};
static pthread_mutex_t trust_mu = PTHREAD_MUTEX_INITIALIZER;
static struct trust *trust_cur;
static sig_atomic_t trust_gen;

static void
trust_drop(struct trust *tr)
{
	if (tr == NULL || --tr->refs > 0)
		return;
	if (tr->owned)
		table_free(tr->t);
	free(tr);
}

/* A reference to the trusted sealers now, loading them again after a
 * SIGHUP; a table that does not load keeps the one in use. */
static struct trust *
trust_take(const struct auth_conf *c)
{
	struct trust *tr;
	struct table *t;
	char err[512];

	if (c->arc_trusted == NULL)
		return NULL;
	pthread_mutex_lock(&trust_mu);
	if (trust_cur == NULL) {
		trust_cur = xcalloc(1, sizeof(*trust_cur));
		trust_cur->t = c->arc_trusted;
		trust_cur->refs = 1;
		trust_gen = c->reload != NULL ? *c->reload : 0;
	}
	if (c->reload != NULL && *c->reload != trust_gen &&
	    c->arc_trusted_path != NULL) {
		trust_gen = *c->reload;
		if ((t = table_load(c->arc_trusted_path, err,
		    sizeof(err))) == NULL)
			log_warn("reload --arc-trusted: %s (the old table "
			    "stays)", err);
		else {
			tr = xcalloc(1, sizeof(*tr));
			tr->t = t;
			tr->refs = 1;
			tr->owned = 1;
			trust_drop(trust_cur);
			trust_cur = tr;
		}
	}
	tr = trust_cur;
	tr->refs++;
	pthread_mutex_unlock(&trust_mu);
	return tr;
}

static void
trust_give(struct trust *tr)
{
	pthread_mutex_lock(&trust_mu);
	trust_drop(tr);
	pthread_mutex_unlock(&trust_mu);
}

/* The end of the process: the last reference. */
void
auth_fini(void)
{
	pthread_mutex_lock(&trust_mu);
	trust_drop(trust_cur);
	trust_cur = NULL;
	pthread_mutex_unlock(&trust_mu);
}

/* The sealers trusted for the message in hand. */
static const struct table *
trusted(const struct auth *a)
{
	return a->trust != NULL ? a->trust->t : NULL;
}

void
auth_free(struct auth *a)
{
	if (a == NULL)
		return;
	dns_free(a->dns);
	free(a);
}

/* Copy at most n bytes of s into dst (size dstsz), NUL-terminated. */
static void
copy(char *dst, size_t dstsz, const char *s, size_t n)
{
	if (n >= dstsz)
		n = dstsz - 1;
	memcpy(dst, s, n);
	dst[n] = '\0';
}

static int
is_space(int c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* An address literal as text into ip, "IPv6:" dropped; 0 if it is one. */
static int
take_ip(const char *s, size_t n, char *ip, size_t ipsz)
{
	char buf[64];
	unsigned char bin[16];

	if (n > 5 && strncasecmp(s, "IPv6:", 5) == 0) {
		s += 5;
		n -= 5;
	}
	if (n == 0 || n >= sizeof(buf))
		return -1;
	memcpy(buf, s, n);
	buf[n] = '\0';
	if (inet_pton(AF_INET, buf, bin) != 1 &&
	    inet_pton(AF_INET6, buf, bin) != 1)
		return -1;
	copy(ip, ipsz, buf, n);
	return 0;
}

int
auth_received_client(const char *v, char *ip, size_t ipsz, char *helo,
    size_t helosz)
{
	const char *p = v, *h, *e, *b, *k;
	int depth;

	while (is_space((unsigned char)*p))
		p++;
	if (strncasecmp(p, "from", 4) != 0 || !is_space((unsigned char)p[4]))
		return -1;
	p += 4;
	while (is_space((unsigned char)*p))
		p++;
	for (h = p; *p != '\0' && !is_space((unsigned char)*p) && *p != '(';
	    p++)
		;
	copy(helo, helosz, h, (size_t)(p - h));
	while (is_space((unsigned char)*p))
		p++;
	if (*p != '(') {
		/* "from [192.0.2.1] by ..." : the HELO was the literal */
		if (h[0] == '[' && p - h > 2)
			return take_ip(h + 1, (size_t)(p - h - 2), ip, ipsz);
		return -1;
	}
	/* the comment, nested ones included: the last [literal] in it,
	 * else a bare address word (Exchange: "(192.0.2.1)") */
	b = ++p;
	for (depth = 1; *p != '\0' && depth > 0; p++) {
		if (*p == '\\' && p[1] != '\0')
			p++;
		else if (*p == '(')
			depth++;
		else if (*p == ')')
			depth--;
	}
	if (depth != 0)
		return -1;
	e = p - 1;
	for (k = e; k > b; k--) {
		if (k[-1] == ']') {
			const char *o = k - 1;

			while (o > b && o[-1] != '[')
				o--;
			if (o > b && take_ip(o, (size_t)(k - 1 - o), ip,
			    ipsz) == 0)
				return 0;
			k = o;
		}
	}
	/* words of the comment, first to last */
	for (k = b; k < e; ) {
		const char *w;

		while (k < e && (is_space((unsigned char)*k) || *k == '(' ||
		    *k == ')'))
			k++;
		for (w = k; k < e && !is_space((unsigned char)*k) &&
		    *k != '(' && *k != ')'; k++)
			;
		if (k > w && take_ip(w, (size_t)(k - w), ip, ipsz) == 0)
			return 0;
	}
	return -1;
}

static int
set_addr(struct client *cl)
{
	struct sockaddr_in *s4 = (struct sockaddr_in *)&cl->ss;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&cl->ss;

	memset(&cl->ss, 0, sizeof(cl->ss));
	if (inet_pton(AF_INET, cl->ip, &s4->sin_addr) == 1) {
		s4->sin_family = AF_INET;
		return 0;
	}
	if (inet_pton(AF_INET6, cl->ip, &s6->sin6_addr) == 1) {
		s6->sin6_family = AF_INET6;
		return 0;
	}
	return -1;
}

/* The client and envelope of rec, or of the flags; then the Received
 * hop of --lookback-hops. */
static void
find_client(const struct auth *a, const json_t *rec, const struct msg *m,
    struct client *cl)
{
	const json_t *client = json_object_get(rec, "client");
	const json_t *env = json_object_get(rec, "envelope");
	const char *s;
	long i;
	int hop;

	memset(cl, 0, sizeof(*cl));
	if (json_is_object(env)) {
		if ((s = record_get(env, "from")) != NULL) {
			copy(cl->mail_from, sizeof(cl->mail_from), s,
			    strlen(s));
			cl->have_from = 1;
		}
		if (json_is_object(client)) {
			if ((s = record_get(client, "ip")) != NULL)
				copy(cl->ip, sizeof(cl->ip), s, strlen(s));
			if ((s = record_get(client, "helo")) != NULL)
				copy(cl->helo, sizeof(cl->helo), s,
				    strlen(s));
		}
	} else {
		if (a->c->ip != NULL)
			copy(cl->ip, sizeof(cl->ip), a->c->ip,
			    strlen(a->c->ip));
		if (a->c->helo != NULL)
			copy(cl->helo, sizeof(cl->helo), a->c->helo,
			    strlen(a->c->helo));
		if (a->c->mail_from != NULL) {
			copy(cl->mail_from, sizeof(cl->mail_from),
			    a->c->mail_from, strlen(a->c->mail_from));
			cl->have_from = 1;
		}
	}
	if (a->c->lookback > 0) {
		cl->hop = a->c->lookback;
		cl->ip[0] = cl->helo[0] = '\0';
		for (i = 0, hop = 0; i < (long)m->nf; i++) {
			char *v;
			int ok;

			if (!msg_field_is(&m->f[i], "Received") ||
			    ++hop < a->c->lookback)
				continue;
			v = msg_value(&m->f[i]);
			ok = auth_received_client(v, cl->ip, sizeof(cl->ip),
			    cl->helo, sizeof(cl->helo)) == 0;
			free(v);
			if (!ok) {
				cl->ip[0] = cl->helo[0] = '\0';
				snprintf(cl->problem, sizeof(cl->problem),
				    "Received hop %d names no client",
				    a->c->lookback);
			}
			break;
		}
		if (hop < a->c->lookback)
			snprintf(cl->problem, sizeof(cl->problem),
			    "no Received hop %d", a->c->lookback);
	}
	if (cl->ip[0] != '\0' && set_addr(cl) == -1) {
		snprintf(cl->problem, sizeof(cl->problem),
		    "client address is not an IP address");
		cl->ip[0] = '\0';
	}
	if (cl->ip[0] == '\0' && cl->problem[0] == '\0')
		snprintf(cl->problem, sizeof(cl->problem),
		    "client address unknown");
}

/* SPF of both identities into auth.spf. */
static void
do_spf(struct auth *a, const struct client *cl, json_t *auth,
    struct authres *ar, struct spf_response *mf)
{
	struct spf_request rq;
	struct spf_response helo;
	json_t *o, *h;

	memset(mf, 0, sizeof(*mf));
	if (cl->ip[0] == '\0') {
		mf->result = SPF_NONE;
		o = json_pack("{s:s, s:s}", "result", "none", "reason",
		    cl->problem);
		json_object_set_new(auth, "spf", o);
		authres_add(ar, "spf", "none", cl->problem, (char *)NULL);
		return;
	}
	memset(&rq, 0, sizeof(rq));
	rq.client = (const struct sockaddr *)&cl->ss;
	rq.sender = cl->mail_from;
	rq.helo = cl->helo;
	rq.receiver = a->c->authserv_id;
	spf_check(a->dns, &rq, SPF_MAILFROM, mf);
	o = spf_json(mf);
	json_object_set_new(o, "identity", json_string(
	    cl->mail_from[0] != '\0' ? "mailfrom" : "helo"));
	if (cl->helo[0] != '\0' && cl->helo[0] != '[') {
		spf_check(a->dns, &rq, SPF_HELO, &helo);
		h = spf_json(&helo);
		json_object_set_new(o, "helo", h);
	}
	json_object_set_new(auth, "spf", o);
	if (cl->mail_from[0] != '\0')
		authres_add(ar, "spf", spf_result_str(mf->result),
		    mf->problem[0] != '\0' ? mf->problem : NULL,
		    "smtp.mailfrom", cl->mail_from, (char *)NULL);
	else
		authres_add(ar, "spf", spf_result_str(mf->result),
		    mf->problem[0] != '\0' ? mf->problem : NULL,
		    "smtp.helo", cl->helo, (char *)NULL);
}

/* Every DKIM-Signature into auth.dkim; the results stay in res. */
static size_t
do_dkim(struct auth *a, const struct msg *m, json_t *auth,
    struct authres *ar, struct dkim_result *res)
{
	struct dkim_verify_opts vo;
	json_t *list = json_array();
	size_t n, i;

	dkim_verify_opts_init(&vo);
	vo.sha1 = a->c->sha1;
	n = dkim_verify(m, a->dns, &vo, res);
	for (i = 0; i < n; i++) {
		const struct dkim_result *r = &res[i];

		json_array_append_new(list, dkim_json(r));
		if (r->d[0] != '\0')
			authres_add(ar, "dkim", dkim_result_str(r->res),
			    r->reason[0] != '\0' ? r->reason : NULL,
			    "header.d", r->d, "header.s", r->s,
			    "header.b", r->b, (char *)NULL);
		else
			authres_add(ar, "dkim", dkim_result_str(r->res),
			    r->reason[0] != '\0' ? r->reason : NULL,
			    (char *)NULL);
	}
	if (n == 0)
		authres_add(ar, "dkim", "none", NULL, (char *)NULL);
	json_object_set_new(auth, "dkim", list);
	return n;
}

/* The ARC chain into auth.arc (sealing comes later: it needs the whole
 * Authentication-Results). */
static void
do_arc(struct auth *a, const struct msg *m, json_t *auth,
    struct authres *ar, struct arc_result *res)
{
	struct arc_verify_opts vo;
	char op[16];

	arc_verify_opts_init(&vo);
	vo.dns = a->dns;
	arc_verify(m, &vo, res);
	json_object_set_new(auth, "arc", arc_json(res));
	if (res->cv == ARC_PASS) {
		snprintf(op, sizeof(op), "%d", res->oldest_pass);
		authres_add(ar, "arc", "pass", NULL, "header.oldest-pass", op,
		    (char *)NULL);
	} else
		authres_add(ar, "arc", arc_cv_str(res->cv), res->cv ==
		    ARC_FAIL ? res->reason : NULL, (char *)NULL);
}

/*
 * A DMARC fail that a trusted ARC sealer vouches for (RFC 7489 7.2.3
 * trusted_forwarder, RFC 8617 7.2): the chain passes, and going down
 * from the newest instance through sealers of the --arc-trusted table
 * only, one of their ARC-Authentication-Results says dmarc=pass for the
 * author domain (header.from), or a DKIM pass of that very domain
 * (header.d), or SPF (smtp.mailfrom).  The instance, or 0.
 */
static int
arc_vouches(const struct auth *a, const struct arc_result *res,
    const char *domain)
{
	size_t k;

	if (trusted(a) == NULL || res->cv != ARC_PASS ||
	    domain[0] == '\0')
		return 0;
	for (k = res->nset; k-- > 0; ) {
		const struct arc_set *st = &res->set[k];

		if (st->d[0] == '\0' ||
		    !table_has_domain(trusted(a), st->d))
			return 0;
		if (st->aar == NULL)
			continue;
		if (arc_aar_pass(st->aar, "dmarc", "header.from", domain) ||
		    arc_aar_pass(st->aar, "dkim", "header.d", domain) ||
		    arc_aar_pass(st->aar, "spf", "smtp.mailfrom", domain))
			return st->i;
	}
	return 0;
}

/* DMARC for the Author Domain(s) into auth.dmarc. */
static void
do_dmarc(struct auth *a, const struct msg *m, const struct client *cl,
    const struct spf_response *spf, const struct dkim_result *dk,
    size_t ndk, const struct arc_result *arc, json_t *auth,
    struct authres *ar)
{
	char why[DMARC_REASON_MAX + DKIM_NAME_MAX + 64];
	json_t *o;
	int by = 0;
	char dom[LIMIT_DMARC_FROM][DMARC_DOMAIN_MAX];
	struct dmarc_response rs[LIMIT_DMARC_FROM];
	struct dmarc_dkim dd[LIMIT_DKIM_SIGS + 1];
	struct dmarc_request rq;
	enum dmarc_from fr;
	size_t nd = 0, i, k;

	memset(&rq, 0, sizeof(rq));
	if (cl->ip[0] != '\0') {
		rq.spf_domain = spf->domain;
		rq.spf_result = spf_result_str(spf->result);
	}
	for (i = 0; i < ndk && i < LIMIT_DKIM_SIGS + 1; i++) {
		dd[i].d = dk[i].d;
		dd[i].result = dkim_result_str(dk[i].res);
	}
	rq.dkim = dd;
	rq.ndkim = i;
	fr = dmarc_from_msg(m, dom, LIMIT_DMARC_FROM, &nd);
	if (nd == 0 || fr == DMARC_FROM_NONE || fr == DMARC_FROM_BAD) {
		memset(&rs[0], 0, sizeof(rs[0]));
		rs[0].result = DMARC_PERMERROR;
		snprintf(rs[0].reason, sizeof(rs[0].reason), "%s",
		    fr == DMARC_FROM_BAD ? "From address cannot be parsed" :
		    "no author domain in From");
		k = 0;
	} else {
		for (i = 0; i < nd; i++) {
			rq.from_domain = dom[i];
			dmarc_check(a->dns, &rq, &rs[i]);
		}
		k = dmarc_strictest(rs, nd);
	}
	snprintf(why, sizeof(why), "%s", rs[k].reason);
	if (rs[k].result == DMARC_FAIL &&
	    (by = arc_vouches(a, arc, rs[k].domain)) > 0) {
		rs[k].disposition = DMARC_POLICY_NONE;
		snprintf(why, sizeof(why), "%s%soverridden: trusted ARC sealer "
		    "%s i=%d", rs[k].reason, rs[k].reason[0] ? "; " : "",
		    arc->set[by - 1].d, by);
	}
	o = dmarc_json(&rs[k]);
	if (by > 0) {
		json_object_set_new(o, "override", json_string("arc"));
		json_object_set_new(o, "override_reason",
		    json_string("trusted_forwarder"));
		json_object_set_new(o, "override_sealer", json_pack("{s:i, "
		    "s:o}", "i", by, "d", record_str(arc->set[by - 1].d)));
	}
	json_object_set_new(auth, "dmarc", o);
	if (rs[k].domain[0] != '\0')
		authres_add(ar, "dmarc", dmarc_result_str(rs[k].result),
		    rs[k].result != DMARC_PASS && why[0] != '\0' ?
		    why : NULL, "header.from", rs[k].domain, (char *)NULL);
	else
		authres_add(ar, "dmarc", dmarc_result_str(rs[k].result),
		    rs[k].reason, (char *)NULL);
}

/* LF line ends, no final one: a field for auth.headers. */
static void
lf_only(char *f)
{
	char *p, *q;

	for (p = q = f; *p != '\0'; p++)
		if (!(p[0] == '\r' && p[1] == '\n'))
			*q++ = *p;
	while (q > f && q[-1] == '\n')
		q--;
	*q = '\0';
}

/* --sign: the DKIM-Signature field into auth.headers, LF line ends. */
static int
do_sign(struct auth *a, const struct msg *m, json_t *auth, char *err,
    size_t errsz)
{
	struct dkim_sign_opts so;
	char *f;

	dkim_sign_opts_init(&so);
	so.domain = a->c->sign_domain;
	so.selector = a->c->sign_selector;
	so.headers = a->c->sign_headers;
	so.hc = (enum dkim_canon)a->c->sign_hc;
	so.bc = (enum dkim_canon)a->c->sign_bc;
	if ((f = dkim_sign(m, a->c->sign_key, &so, err, errsz)) == NULL)
		return -1;
	lf_only(f);
	json_object_set_new(auth, "headers", json_pack("[s]", f));
	free(f);
	return 0;
}

/* --arc-key: the ARC set into auth.headers, before any DKIM-Signature;
 * auth.arc says "sealed" (the instance) or "seal_error". */
static void
do_seal(struct auth *a, const struct msg *m, const struct arc_result *res,
    struct authres *ar, json_t *auth)
{
	struct arc_seal_opts so;
	json_t *hdrs, *arc = json_object_get(auth, "arc");
	char *f[3], err[256];
	size_t k;
	int r;

	memset(&so, 0, sizeof(so));
	so.key = a->c->arc_key;
	so.domain = a->c->arc_domain;
	so.selector = a->c->arc_selector;
	r = arc_seal(m, res, authres_value(ar), &so, f, err, sizeof(err));
	if (r != 0) {
		json_object_set_new(arc, "seal_error", json_string(err));
		return;
	}
	if ((hdrs = json_object_get(auth, "headers")) == NULL) {
		hdrs = json_array();
		json_object_set_new(auth, "headers", hdrs);
	}
	for (k = 0; k < 3; k++) {
		lf_only(f[k]);
		json_array_insert_new(hdrs, k, json_string(f[k]));
		free(f[k]);
	}
	json_object_set_new(arc, "sealed", json_integer(res->n + 1));
}

/* The fields that claim our authserv-id: their indexes in auth.remove. */
static void
claimed(const struct auth *a, const struct msg *m, json_t *auth)
{
	json_t *list = json_array();
	size_t i;

	for (i = 0; i < m->nf; i++) {
		char *v, *id;

		if (!msg_field_is(&m->f[i], "Authentication-Results"))
			continue;
		v = msg_value(&m->f[i]);
		id = authres_id_of(v);
		if (id != NULL && strcasecmp(id, a->c->authserv_id) == 0)
			json_array_append_new(list, json_pack("{s:s, s:I}",
			    "field", "Authentication-Results", "index",
			    (json_int_t)i));
		free(id);
		free(v);
	}
	json_object_set_new(auth, "remove", list);
}

static int
message(struct auth *a, json_t *rec, const struct msg *m, char *err,
    size_t errsz)
{
	struct client cl;
	struct authres *ar;
	struct spf_response spf;
	struct dkim_result dk[LIMIT_DKIM_SIGS + 1];
	struct arc_result *arc = xmalloc(sizeof(*arc));
	size_t ndk;
	json_t *auth;

	find_client(a, rec, m, &cl);
	auth = json_object();
	ar = authres_new(a->c->authserv_id);
	if (cl.hop > 0) {
		json_t *c = json_pack("{s:i}", "hop", cl.hop);

		json_object_set_new(c, "ip", record_str(cl.ip[0] ? cl.ip :
		    NULL));
		json_object_set_new(c, "helo", record_str(cl.helo[0] ?
		    cl.helo : NULL));
		json_object_set_new(auth, "client", c);
	}
	do_spf(a, &cl, auth, ar, &spf);
	ndk = do_dkim(a, m, auth, ar, dk);
	do_arc(a, m, auth, ar, arc);
	do_dmarc(a, m, &cl, &spf, dk, ndk, arc, auth, ar);
	/* a message that cannot be signed goes on unsigned, with why */
	if (a->c->sign_key != NULL && do_sign(a, m, auth, err, errsz) == -1)
		json_object_set_new(auth, "sign_error", json_string(err));
	if (a->c->arc_key != NULL)
		do_seal(a, m, arc, ar, auth);
	arc_result_clear(arc);
	free(arc);
	json_object_set_new(auth, "authentication_results",
	    json_string(authres_value_lf(ar)));
	claimed(a, m, auth);
	authres_free(ar);
	json_object_set_new(rec, "auth", auth);
	return 0;
}

int
auth_message(struct auth *a, json_t *rec, const struct msg *m, char *err,
    size_t errsz)
{
	int r;

	a->trust = trust_take(a->c);
	r = message(a, rec, m, err, errsz);
	trust_give(a->trust);
	a->trust = NULL;
	return r;
}

int
auth_record(struct auth *a, json_t *rec, char *err, size_t errsz)
{
	const char *path = record_get(rec, "path");
	char why[256];
	struct msg m;
	int r;

	if (path == NULL) {
		snprintf(err, errsz, "record has no path");
		return -1;
	}
	if (msg_load(&m, path, (size_t)a->c->max_size, why, sizeof(why)) ==
	    -1) {
		snprintf(err, errsz, "%s: %s", path, why);
		return -1;
	}
	r = auth_message(a, rec, &m, err, errsz);
	msg_free(&m);
	return r;
}

int
auth_verdict(const struct auth_conf *c, const json_t *rec, char *text,
    size_t textsz)
{
	const json_t *dmarc = json_object_get(json_object_get(rec, "auth"),
	    "dmarc");
	const char *res, *disp, *dom;

	text[0] = '\0';
	if (!json_is_object(dmarc))
		return 0;
	res = record_get(dmarc, "result");
	disp = record_get(dmarc, "disposition");
	dom = record_get(dmarc, "domain");
	if (res == NULL)
		return 0;
	if (strcmp(res, "temperror") == 0) {
		snprintf(text, textsz, "4.7.5 DMARC: temporary DNS failure "
		    "for %s", dom ? dom : "the author domain");
		return 111;
	}
	if (strcmp(res, "fail") != 0 || disp == NULL ||
	    strcmp(disp, "reject") != 0)
		return 0;
	if (dom != NULL && table_has_domain(c->exempt, dom))
		return 0;
	snprintf(text, textsz, "5.7.1 DMARC policy of %s says reject",
	    dom ? dom : "the author domain");
	return 100;
}
