/*
 * arc: ARC chains verified and sealed (RFC 8617).  See arc.h.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "arc.h"
#include "dkim.h"
#include "record.h"
#include "xalloc.h"

enum { AAR, AMS, AS, NKIND };

static const char *const kind_name[NKIND] = {
	"ARC-Authentication-Results", "ARC-Message-Signature", "ARC-Seal"
};

/* The fields of a chain by instance: f[kind][i] is a field index or -1. */
struct chain {
	long f[NKIND][LIMIT_ARC_SETS + 1];
	int n;				/* the highest instance */
};

#define WSP(c)	((c) == ' ' || (c) == '\t' || (c) == '\r' || (c) == '\n')

const char *
arc_cv_str(enum arc_cv cv)
{
	switch (cv) {
	case ARC_PASS:
		return "pass";
	case ARC_FAIL:
		return "fail";
	default:
		return "none";
	}
}

void
arc_result_clear(struct arc_result *r)
{
	size_t k;

	for (k = 0; k < r->nset && k < LIMIT_ARC_SETS; k++) {
		free(r->set[k].aar);
		r->set[k].aar = NULL;
	}
	r->nset = 0;
}

void
arc_verify_opts_init(struct arc_verify_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->skew = LIMIT_DKIM_SKEW;
	o->min_bits = LIMIT_DKIM_MIN_BITS;
}

/* A decimal instance number, 1 to LIMIT_ARC_SETS; -1 if not one, 0 if
 * over the limit. */
static int
instance(const char *p, size_t len)
{
	size_t k;
	int n = 0;

	if (len == 0 || len > 3)
		return -1;
	for (k = 0; k < len; k++) {
		if (p[k] < '0' || p[k] > '9')
			return -1;
		n = n * 10 + (p[k] - '0');
	}
	if (n < 1)
		return -1;
	return n > LIMIT_ARC_SETS ? 0 : n;
}

/* The instance of an ARC-Authentication-Results value: "i=N;" first,
 * with whitespace around the tokens (RFC 8617 4.1.1). */
static int
aar_instance(const char *v, size_t len)
{
	size_t k = 0, s;

	while (k < len && WSP(v[k]))
		k++;
	if (k == len || v[k++] != 'i')
		return -1;
	while (k < len && WSP(v[k]))
		k++;
	if (k == len || v[k++] != '=')
		return -1;
	while (k < len && WSP(v[k]))
		k++;
	for (s = k; k < len && v[k] >= '0' && v[k] <= '9'; k++)
		;
	if (k == s)
		return -1;
	while (k < len && WSP(v[k]))
		k++;
	if (k == len || v[k] != ';')
		return -1;
	return instance(v + s, k - s == 0 ? 0 : (size_t)(k - s));
}

/* The i= of an ARC-Seal or ARC-Message-Signature value. */
static int
tag_instance(const char *v, size_t len)
{
	struct dkim_tag t[LIMIT_DKIM_TAGS];
	const struct dkim_tag *i;
	char err[64];
	size_t n;

	if (len > LIMIT_DKIM_FIELD ||
	    dkim_tags_parse(v, len, t, LIMIT_DKIM_TAGS, &n, err,
	    sizeof(err)) == -1 || (i = dkim_tag_find(t, n, "i")) == NULL)
		return -1;
	return instance(i->value.p, i->value.len);
}

/* A reason, cut to DKIM_REASON_MAX. */
static void
say(char *reason, const char *fmt, const char *kind, int i, const char *why)
{
	int n;

	n = snprintf(reason, DKIM_REASON_MAX, fmt, kind, i, why);
	if (n < 0)
		reason[0] = '\0';
}

/* 1 if the tag list v has an empty tag-spec (";;"), which RFC 6376 3.2
 * does not allow and lib/dkim skips: the ValiMail suite fails it. */
static int
empty_spec(const char *v, size_t len)
{
	size_t k = 0;
	int after = 1;		/* at the start or after a ";" */

	for (k = 0; k < len; k++) {
		if (WSP(v[k]))
			continue;
		if (v[k] == ';' && after)
			return 1;
		after = v[k] == ';';
	}
	return 0;
}

/* The ARC fields of m by instance; 0, or -1 with the reason. */
static int
collect(const struct msg *m, struct chain *c, char *reason)
{
	size_t k;
	int kind, i;

	memset(c->f, 0xff, sizeof(c->f));	/* all -1 */
	c->n = 0;
	for (k = 0; k < m->nf; k++) {
		const struct msg_field *f = &m->f[k];

		for (kind = 0; kind < NKIND; kind++)
			if (msg_field_is(f, kind_name[kind]))
				break;
		if (kind == NKIND)
			continue;
		if (kind == AAR)
			i = aar_instance(f->value, f->valuelen);
		else
			i = tag_instance(f->value, f->valuelen);
		if (i == -1) {
			snprintf(reason, DKIM_REASON_MAX,
			    "%s without a valid i=", kind_name[kind]);
			return -1;
		}
		if (i == 0) {
			snprintf(reason, DKIM_REASON_MAX, "%s over i=%d",
			    kind_name[kind], LIMIT_ARC_SETS);
			return -1;
		}
		if (c->f[kind][i] != -1) {
			snprintf(reason, DKIM_REASON_MAX, "two %s i=%d",
			    kind_name[kind], i);
			return -1;
		}
		c->f[kind][i] = (long)k;
		if (i > c->n)
			c->n = i;
	}
	return 0;
}

/* The key of s and d, through the function or DNS. */
static enum dkim_res
get_key(const struct arc_verify_opts *o, const char *s, const char *d,
    struct dkim_key *key, char *reason)
{
	if (o->key != NULL) {
		memset(key, 0, sizeof(*key));
		return o->key(o->keyarg, s, d, key, reason);
	}
	return dkim_key_lookup(o->dns, s, d, key, reason);
}

/* A tag's value as a string, cut to fit. */
static void
tag_copy(char *dst, size_t dstsz, const struct dkim_tag *t)
{
	size_t n = t->value.len < dstsz - 1 ? t->value.len : dstsz - 1;

	memcpy(dst, t->value.p, n);
	dst[n] = '\0';
}

static int
digits(const struct dkim_span *v)
{
	size_t k;

	if (v->len == 0 || v->len > 18)
		return 0;
	for (k = 0; k < v->len; k++)
		if (v->p[k] < '0' || v->p[k] > '9')
			return 0;
	return 1;
}

/*
 * The ARC-Seal of instance i: its tags (i, a, b, cv, d, s, [t], no h),
 * cv= none for i=1 and pass above, then its signature over the sets 1 to
 * i.  Fills st->d, s, cv.  0, or -1 with the reason.
 */
static int
seal_check(const struct msg *m, const struct chain *c, int i,
    const struct arc_verify_opts *o, struct arc_set *st, char *reason)
{
	const struct msg_field *f = &m->f[c->f[AS][i]];
	const struct msg_field *fl[3 * LIMIT_ARC_SETS];
	struct dkim_tag t[LIMIT_DKIM_TAGS];
	const struct dkim_tag *a, *b, *cv, *d, *s, *g;
	unsigned char sig[DKIM_SIG_MAX], dg[DKIM_DIGEST_MAX];
	struct dkim_key key;
	enum dkim_alg alg;
	size_t n, slen, dlen, nf = 0, off;
	char err[DKIM_REASON_MAX];
	int k;

	if (f->valuelen > LIMIT_DKIM_FIELD) {
		say(reason, "%s i=%d: %s", "ARC-Seal", i, "too long");
		return -1;
	}
	if (dkim_tags_parse(f->value, f->valuelen, t, LIMIT_DKIM_TAGS, &n,
	    err, sizeof(err)) == -1) {
		say(reason, "%s i=%d: %s", "ARC-Seal", i, err);
		return -1;
	}
	if (empty_spec(f->value, f->valuelen)) {
		say(reason, "%s i=%d: %s", "ARC-Seal", i, "empty tag");
		return -1;
	}
	a = dkim_tag_find(t, n, "a");
	b = dkim_tag_find(t, n, "b");
	cv = dkim_tag_find(t, n, "cv");
	d = dkim_tag_find(t, n, "d");
	s = dkim_tag_find(t, n, "s");
	if (d != NULL && dkim_name_ok(d->value.p, d->value.len))
		tag_copy(st->d, sizeof(st->d), d);
	if (s != NULL && dkim_name_ok(s->value.p, s->value.len))
		tag_copy(st->s, sizeof(st->s), s);
	if (cv != NULL)
		tag_copy(st->cv, sizeof(st->cv), cv);
	if (a == NULL || b == NULL || cv == NULL || d == NULL || s == NULL) {
		say(reason, "%s i=%d: %s", "ARC-Seal", i, "missing tag");
		return -1;
	}
	if (dkim_tag_find(t, n, "h") != NULL) {
		say(reason, "%s i=%d: %s", "ARC-Seal", i, "h= in a seal");
		return -1;
	}
	if (st->d[0] == '\0' || st->s[0] == '\0') {
		say(reason, "%s i=%d: %s", "ARC-Seal", i, "bad d= or s=");
		return -1;
	}
	if ((g = dkim_tag_find(t, n, "t")) != NULL && !digits(&g->value)) {
		say(reason, "%s i=%d: %s", "ARC-Seal", i, "bad t=");
		return -1;
	}
	if (strcmp(st->cv, i == 1 ? "none" : "pass") != 0) {
		say(reason, "%s i=%d: %s", "ARC-Seal", i, i == 1 ?
		    "cv= not none" : "cv= not pass");
		return -1;
	}
	if (a->value.len == 10 && memcmp(a->value.p, "rsa-sha256", 10) == 0)
		alg = DKIM_RSA_SHA256;
	else if (a->value.len == 14 &&
	    memcmp(a->value.p, "ed25519-sha256", 14) == 0)
		alg = DKIM_ED25519_SHA256;
	else {
		/* rsa-sha1 included (RFC 8301) */
		say(reason, "%s i=%d: %s", "ARC-Seal", i,
		    "algorithm not accepted");
		return -1;
	}
	if (dkim_base64_decode(b->value.p, b->value.len, sig, sizeof(sig),
	    &slen) == -1 || slen == 0) {
		say(reason, "%s i=%d: %s", "ARC-Seal", i, "bad b=");
		return -1;
	}
	if (get_key(o, st->s, st->d, &key, err) != DKIM_PASS) {
		say(reason, "%s i=%d: %s", "ARC-Seal", i, err);
		return -1;
	}
	if ((alg == DKIM_ED25519_SHA256) != (key.type == DKIM_K_ED25519) ||
	    !(key.hashes & 1 << DKIM_SHA256)) {
		dkim_key_clear(&key);
		say(reason, "%s i=%d: %s", "ARC-Seal", i, "key not usable");
		return -1;
	}
	if (key.type == DKIM_K_RSA && key.bits < o->min_bits) {
		dkim_key_clear(&key);
		say(reason, "%s i=%d: %s", "ARC-Seal", i, "key too small");
		return -1;
	}
	/* AAR, AMS, AS of every instance up to i, the last AS without its
	 * b= value (RFC 8617 5.1.1) */
	for (k = 1; k <= i; k++) {
		fl[nf++] = &m->f[c->f[AAR][k]];
		fl[nf++] = &m->f[c->f[AMS][k]];
		if (k < i)
			fl[nf++] = &m->f[c->f[AS][k]];
	}
	off = (size_t)(f->value - f->raw);
	dkim_header_hash(DKIM_SHA256, DKIM_RELAXED, fl, nf, f->raw, f->rawlen,
	    off + b->vstart, off + b->vend, dg, &dlen);
	k = dkim_verify_digest(&key, alg, dg, dlen, sig, slen, err,
	    sizeof(err));
	dkim_key_clear(&key);
	if (k == -1) {
		say(reason, "%s i=%d: %s", "ARC-Seal", i, err);
		return -1;
	}
	return 0;
}

/* The ARC-Message-Signature of instance i, as DKIM checks a signature;
 * h= must not name ARC-Seal.  Returns the result, the reason in reason. */
static enum dkim_res
ams_check(const struct msg *m, const struct chain *c, int i,
    const struct arc_verify_opts *o, struct dkim_bhcache *cache,
    char *reason)
{
	size_t field = (size_t)c->f[AMS][i], k;
	const struct msg_field *f = &m->f[field];
	struct dkim_sig *sig = xmalloc(sizeof(*sig));
	struct dkim_verify_opts vo;
	struct dkim_result r;
	struct dkim_key key;
	time_t now = o->now != 0 ? o->now : time(NULL);
	char err[DKIM_REASON_MAX];
	enum dkim_res res = DKIM_PERMERROR;

	memset(&r, 0, sizeof(r));
	if (empty_spec(f->value, f->valuelen)) {
		say(reason, "%s i=%d: %s", "ARC-Message-Signature", i,
		    "empty tag");
		goto out;
	}
	if (dkim_sig_parse(sig, f->value, f->valuelen, DKIM_SIG_AMS, err,
	    sizeof(err)) == -1) {
		say(reason, "%s i=%d: %s", "ARC-Message-Signature", i, err);
		goto out;
	}
	for (k = 0; k < sig->nh; k++)
		if (sig->h[k].len == 8 &&
		    strncasecmp(sig->h[k].p, "ARC-Seal", 8) == 0) {
			say(reason, "%s i=%d: %s", "ARC-Message-Signature", i,
			    "h= names ARC-Seal");
			goto out;
		}
	if (sig->x >= 0 && (long long)now > sig->x) {
		res = DKIM_FAIL;
		say(reason, "%s i=%d: %s", "ARC-Message-Signature", i,
		    "signature expired");
		goto out;
	}
	if (sig->t >= 0 && sig->t > (long long)now + o->skew) {
		res = DKIM_FAIL;
		say(reason, "%s i=%d: %s", "ARC-Message-Signature", i,
		    "signature in the future");
		goto out;
	}
	if ((res = get_key(o, sig->s, sig->d, &key, err)) != DKIM_PASS) {
		say(reason, "%s i=%d: %s", "ARC-Message-Signature", i, err);
		goto out;
	}
	dkim_verify_opts_init(&vo);
	vo.min_bits = o->min_bits;
	res = dkim_sig_check(m, field, sig, &key, &vo, cache, &r);
	dkim_key_clear(&key);
	if (res != DKIM_PASS)
		say(reason, "%s i=%d: %s", "ARC-Message-Signature", i,
		    r.reason);
out:
	free(sig);
	return res;
}

/* The AAR's text after "i=N;", unfolded, trimmed, blanks squeezed. */
static char *
aar_text(const struct msg_field *f)
{
	char *v = msg_value(f), *p, *t;
	size_t n, k, o;

	p = strchr(v, ';');
	p = p != NULL ? p + 1 : v + strlen(v);
	while (WSP(*p))
		p++;
	n = strlen(p);
	if (n > LIMIT_ARC_AAR)
		n = LIMIT_ARC_AAR;
	t = xmalloc(n + 1);
	/* runs of blanks as one space */
	for (k = 0, o = 0; k < n; k++)
		if (!WSP(p[k]))
			t[o++] = p[k];
		else if (o > 0 && t[o - 1] != ' ')
			t[o++] = ' ';
	t[o] = '\0';
	free(v);
	return t;
}

static void
chain_fail(struct arc_result *r, const char *reason)
{
	r->cv = ARC_FAIL;
	r->oldest_pass = 0;
	if (reason != NULL)
		snprintf(r->reason, sizeof(r->reason), "%s", reason);
}

void
arc_verify(const struct msg *m, const struct arc_verify_opts *o,
    struct arc_result *r)
{
	struct chain *c = xmalloc(sizeof(*c));
	struct dkim_bhcache *cache = NULL;
	char reason[DKIM_REASON_MAX];
	int i, kind;

	memset(r, 0, sizeof(*r));
	r->cv = ARC_NONE;
	if (collect(m, c, reason) == -1) {
		/* what instance a sealer would follow: the highest read */
		r->n = c->n;
		chain_fail(r, reason);
		goto out;
	}
	r->n = c->n;
	if (c->n == 0)
		goto out;
	/* RFC 8617 5.2 step 2: a chain its newest sealer found failed */
	if (c->f[AS][c->n] != -1) {
		const struct msg_field *f = &m->f[c->f[AS][c->n]];
		struct dkim_tag t[LIMIT_DKIM_TAGS];
		const struct dkim_tag *cv;
		size_t n;

		if (dkim_tags_parse(f->value, f->valuelen, t, LIMIT_DKIM_TAGS,
		    &n, reason, sizeof(reason)) == 0 &&
		    (cv = dkim_tag_find(t, n, "cv")) != NULL &&
		    cv->value.len == 4 && memcmp(cv->value.p, "fail", 4) == 0) {
			r->top_fail = 1;
			chain_fail(r, "newest ARC-Seal says cv=fail");
			goto out;
		}
	}
	for (i = 1; i <= c->n; i++)
		for (kind = 0; kind < NKIND; kind++)
			if (c->f[kind][i] == -1) {
				say(reason, "%s i=%d: %s", kind_name[kind], i,
				    "missing");
				chain_fail(r, reason);
				goto out;
			}
	r->nset = (size_t)c->n;
	for (i = 1; i <= c->n; i++) {
		r->set[i - 1].i = i;
		r->set[i - 1].ams = DKIM_NONE;
		r->set[i - 1].aar = aar_text(&m->f[c->f[AAR][i]]);
	}
	cache = xcalloc(1, sizeof(*cache));
	/* step 3: the newest AMS */
	r->set[c->n - 1].ams = ams_check(m, c, c->n, o, cache, reason);
	if (r->set[c->n - 1].ams != DKIM_PASS) {
		chain_fail(r, reason);
		goto out;
	}
	/* step 6: every seal, newest first */
	for (i = c->n; i >= 1; i--)
		if (seal_check(m, c, i, o, &r->set[i - 1], reason) == -1) {
			chain_fail(r, reason);
			goto out;
		}
	/* steps 4 and 5: the oldest AMS that still verifies */
	r->cv = ARC_PASS;
	r->oldest_pass = c->n;
	for (i = c->n - 1; i >= 1; i--) {
		r->set[i - 1].ams = ams_check(m, c, i, o, cache, reason);
		if (r->set[i - 1].ams != DKIM_PASS)
			break;
		r->oldest_pass = i;
	}
out:
	free(cache);
	free(c);
}

json_t *
arc_json(const struct arc_result *r)
{
	json_t *o = json_object(), *list;
	size_t k;

	json_object_set_new(o, "result", json_string(arc_cv_str(r->cv)));
	json_object_set_new(o, "instances", json_integer(r->n));
	json_object_set_new(o, "oldest_pass", r->cv == ARC_PASS ?
	    json_integer(r->oldest_pass) : json_null());
	if (r->nset > 0) {
		list = json_array();
		for (k = 0; k < r->nset; k++) {
			const struct arc_set *st = &r->set[k];

			json_array_append_new(list, json_pack("{s:i, s:o, s:o, "
			    "s:o, s:o}", "i", st->i,
			    "d", record_str(st->d[0] ? st->d : NULL),
			    "s", record_str(st->s[0] ? st->s : NULL),
			    "cv", record_str(st->cv[0] ? st->cv : NULL),
			    "aar", record_str(st->aar)));
		}
		json_object_set_new(o, "sealers", list);
	}
	if (r->cv == ARC_FAIL)
		json_object_set_new(o, "reason", record_str(r->reason));
	return o;
}

/*
 * The results of an AAR: comments dropped, blanks around "=" dropped,
 * quotes removed, results split at ";" (not inside quotes), into a copy
 * of at most LIMIT_ARC_AAR bytes.
 */
static char *
aar_plain(const char *aar)
{
	size_t n = strnlen(aar, LIMIT_ARC_AAR), k, o = 0;
	char *t = xmalloc(n + 1);
	int depth = 0, quote = 0;

	for (k = 0; k < n; k++) {
		char ch = aar[k];

		if (ch == '\\' && k + 1 < n && (depth > 0 || quote)) {
			if (quote)
				t[o++] = aar[k + 1];
			k++;
			continue;
		}
		if (quote) {
			if (ch == '"')
				quote = 0;
			else
				t[o++] = ch == ';' ? ' ' : ch;
			continue;
		}
		if (ch == '(') {
			depth++;
			continue;
		}
		if (ch == ')' && depth > 0) {
			depth--;
			continue;
		}
		if (depth > 0)
			continue;
		if (ch == '"') {
			quote = 1;
			continue;
		}
		if (WSP(ch) && o > 0 && t[o - 1] == '=')
			continue;
		if (ch == '=')
			while (o > 0 && WSP(t[o - 1]))
				o--;
		t[o++] = WSP(ch) ? ' ' : ch;
	}
	t[o] = '\0';
	return t;
}

int
arc_aar_pass(const char *aar, const char *method, const char *prop,
    const char *domain)
{
	char *t = aar_plain(aar), *res, *rs, *tok, *ts, *v, *at;
	size_t ml = strlen(method), pl = strlen(prop);
	int found = 0, first = 1;

	for (res = strtok_r(t, ";", &rs); res != NULL && !found;
	    res = strtok_r(NULL, ";", &rs)) {
		int ok = 0, named = 0, match = 0;

		if (first) {		/* the authserv-id */
			first = 0;
			continue;
		}
		for (tok = strtok_r(res, " ", &ts); tok != NULL;
		    tok = strtok_r(NULL, " ", &ts)) {
			if (!ok && !named && strncasecmp(tok, method, ml) ==
			    0 && (tok[ml] == '=' || tok[ml] == '/')) {
				v = strchr(tok, '=');
				ok = v != NULL && strcasecmp(v + 1, "pass") == 0;
				if (!ok)
					break;
				named = 1;
				continue;
			}
			if (!named)
				break;
			if (strncasecmp(tok, prop, pl) == 0 && tok[pl] == '=') {
				v = tok + pl + 1;
				if ((at = strrchr(v, '@')) != NULL)
					v = at + 1;
				match = strcasecmp(v, domain) == 0 ? 1 : -1;
			}
		}
		if (ok && match == 1)
			found = 1;
	}
	free(t);
	return found;
}

/*
 * Sealing.
 */

/* A field made here as a struct msg_field (raw only is read by the
 * header hash). */
static void
as_field(struct msg_field *f, const char *raw)
{
	memset(f, 0, sizeof(*f));
	f->raw = raw;
	f->rawlen = strlen(raw);
}

/* Split a colon list into names; -1 on an empty name, an ARC field or
 * too many. */
static int
split_headers(const char *list, struct dkim_span *h, size_t *nh)
{
	const char *p = list, *e;
	int kind;

	*nh = 0;
	if (*list == '\0')
		return 0;
	for (;;) {
		for (e = p; *e != '\0' && *e != ':'; e++)
			;
		h[*nh].p = p;
		h[*nh].len = (size_t)(e - p);
		while (h[*nh].len > 0 && WSP(*h[*nh].p)) {
			h[*nh].p++;
			h[*nh].len--;
		}
		while (h[*nh].len > 0 && WSP(h[*nh].p[h[*nh].len - 1]))
			h[*nh].len--;
		if (h[*nh].len == 0 || memchr(h[*nh].p, ';', h[*nh].len))
			return -1;
		for (kind = 0; kind < NKIND; kind++)
			if (h[*nh].len == strlen(kind_name[kind]) &&
			    strncasecmp(h[*nh].p, kind_name[kind],
			    h[*nh].len) == 0)
				return -1;
		if (++*nh == LIMIT_DKIM_HEADERS && *e != '\0')
			return -1;
		if (*e == '\0')
			return 0;
		p = e + 1;
	}
}

int
arc_seal(const struct msg *m, const struct arc_result *r, const char *ar,
    const struct arc_seal_opts *o, char *out[3], char *err, size_t errsz)
{
	const struct msg_field *fl[3 * LIMIT_ARC_SETS + 2];
	const struct msg_field **sel = NULL;
	struct dkim_span *h = NULL;
	struct msg_field aarf, amsf;
	struct chain *c = NULL;
	unsigned char bh[DKIM_DIGEST_MAX];
	unsigned long long canonlen;
	time_t now = o->now != 0 ? o->now : time(NULL);
	const char *alg = dkim_alg_str(dkim_privkey_alg(o->key));
	char *hlist = NULL, *aar = NULL, *ams = NULL, *as = NULL, *b64;
	char tag[7][1024], why[DKIM_REASON_MAX];
	const char *tags[9];
	size_t nh, bhlen, nf = 0, k;
	int inst = r->n + 1, rc = -1, n;
	enum arc_cv cv = r->cv;

	out[0] = out[1] = out[2] = NULL;
	if (r->top_fail) {
		snprintf(err, errsz, "chain already failed (cv=fail)");
		return 1;
	}
	if (r->n >= LIMIT_ARC_SETS) {
		snprintf(err, errsz, "chain has %d instances",
		    LIMIT_ARC_SETS);
		return 1;
	}
	if (o->domain == NULL || !dkim_name_ok(o->domain,
	    strlen(o->domain))) {
		snprintf(err, errsz, "bad domain");
		return -1;
	}
	if (o->selector == NULL || !dkim_name_ok(o->selector,
	    strlen(o->selector)) ||
	    strlen(o->selector) + strlen(o->domain) + 12 > 253) {
		snprintf(err, errsz, "bad selector");
		return -1;
	}
	hlist = o->headers != NULL ? xstrdup(o->headers) :
	    dkim_sign_headers(m);
	h = xcalloc(LIMIT_DKIM_HEADERS, sizeof(*h));
	sel = xcalloc(LIMIT_DKIM_HEADERS, sizeof(*sel));
	if (split_headers(hlist, h, &nh) == -1) {
		snprintf(err, errsz, "bad header list");
		goto out;
	}

	/* ARC-Authentication-Results: i=N; our results */
	n = snprintf(NULL, 0, "ARC-Authentication-Results: i=%d; %s\r\n",
	    inst, ar);
	aar = xmalloc((size_t)n + 1);
	snprintf(aar, (size_t)n + 1, "ARC-Authentication-Results: i=%d; %s\r\n",
	    inst, ar);

	/* ARC-Message-Signature over the body and the fields of h= */
	dkim_body_hash(DKIM_SHA256, DKIM_RELAXED, m->body, m->bodylen, -1, bh,
	    &bhlen, &canonlen);
	b64 = dkim_base64_encode(bh, bhlen);
	snprintf(tag[0], sizeof(tag[0]), "a=%s", alg);
	snprintf(tag[1], sizeof(tag[1]), "bh=%s", b64);
	free(b64);
	snprintf(tag[2], sizeof(tag[2]), "c=relaxed/relaxed");
	snprintf(tag[3], sizeof(tag[3]), "d=%s", o->domain);
	snprintf(tag[5], sizeof(tag[5]), "i=%d", inst);
	snprintf(tag[6], sizeof(tag[6]), "s=%s", o->selector);
	k = 0;
	tags[k++] = tag[0];
	tags[k++] = "b=";
	tags[k++] = tag[1];
	tags[k++] = tag[2];
	tags[k++] = tag[3];
	{
		size_t hl = strlen(hlist) + 3;
		char *ht = xmalloc(hl);

		snprintf(ht, hl, "h=%s", hlist);
		tags[k++] = ht;
		tags[k++] = tag[5];
		tags[k++] = tag[6];
		snprintf(tag[4], sizeof(tag[4]), "t=%lld", (long long)now);
		tags[k++] = tag[4];
		dkim_select_fields(m, h, nh, -1, sel);
		ams = dkim_sign_fields(o->key, DKIM_RELAXED,
		    "ARC-Message-Signature", tags, k, sel, nh,
		    DKIM_FIELD_BWHOLE, why, sizeof(why));
		free(ht);
	}
	if (ams == NULL) {
		snprintf(err, errsz, "%s", why);
		goto out;
	}

	/* ARC-Seal over the chain and the new set; over the new set alone
	 * when the chain failed (RFC 8617 5.1.2) */
	if (cv == ARC_PASS) {
		c = xmalloc(sizeof(*c));
		if (collect(m, c, why) == -1 || c->n != r->n) {
			snprintf(err, errsz, "chain changed");
			goto out;
		}
		for (k = 1; k <= (size_t)r->n; k++) {
			fl[nf++] = &m->f[c->f[AAR][k]];
			fl[nf++] = &m->f[c->f[AMS][k]];
			fl[nf++] = &m->f[c->f[AS][k]];
		}
	}
	as_field(&aarf, aar);
	as_field(&amsf, ams);
	fl[nf++] = &aarf;
	fl[nf++] = &amsf;
	snprintf(tag[1], sizeof(tag[1]), "cv=%s", arc_cv_str(cv));
	k = 0;
	tags[k++] = tag[0];
	tags[k++] = "b=";
	tags[k++] = tag[1];
	tags[k++] = tag[3];
	tags[k++] = tag[5];
	tags[k++] = tag[6];
	tags[k++] = tag[4];
	as = dkim_sign_fields(o->key, DKIM_RELAXED, "ARC-Seal", tags, k, fl,
	    nf, 0, why, sizeof(why));
	if (as == NULL) {
		snprintf(err, errsz, "%s", why);
		goto out;
	}
	out[0] = as;
	out[1] = ams;
	out[2] = aar;
	as = ams = aar = NULL;
	rc = 0;
out:
	free(as);
	free(ams);
	free(aar);
	free(c);
	free(h);
	free(sel);
	free(hlist);
	return rc;
}
