/*
 * dkim: DKIM signatures (RFC 6376, RFC 8463, RFC 8301).  See dkim.h.
 *
 * Canonical forms are never built in memory on the way to a hash: the
 * canonicalisers write pieces of the input (or a few constant bytes) to a
 * sink that gathers them in a small buffer and feeds the digest, so a
 * body is read once per (canonicalisation, hash, l=) and never copied.
 */
#define _GNU_SOURCE	/* memmem */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include "dkim.h"
#include "record.h"
#include "xalloc.h"

#define WSP(c)	((c) == ' ' || (c) == '\t')
#define FWS(c)	((c) == ' ' || (c) == '\t' || (c) == '\r' || (c) == '\n')
#define KEY_DER_MAX	(LIMIT_DKIM_KEY_BITS / 8 + 64)

static int
fail(char *err, size_t errsz, const char *fmt, const char *arg)
{
	if (errsz > 0)
		snprintf(err, errsz, fmt, arg);
	return -1;
}

const char *
dkim_result_str(enum dkim_res r)
{
	switch (r) {
	case DKIM_PASS:		return "pass";
	case DKIM_FAIL:		return "fail";
	case DKIM_NEUTRAL:	return "neutral";
	case DKIM_POLICY:	return "policy";
	case DKIM_TEMPERROR:	return "temperror";
	case DKIM_PERMERROR:	return "permerror";
	case DKIM_NONE:		break;
	}
	return "none";
}

const char *
dkim_alg_str(enum dkim_alg a)
{
	switch (a) {
	case DKIM_RSA_SHA1:		return "rsa-sha1";
	case DKIM_RSA_SHA256:		return "rsa-sha256";
	case DKIM_ED25519_SHA256:	break;
	}
	return "ed25519-sha256";
}

enum dkim_hash
dkim_alg_hash(enum dkim_alg a)
{
	return a == DKIM_RSA_SHA1 ? DKIM_SHA1 : DKIM_SHA256;
}

static const EVP_MD *
md_of(enum dkim_hash h)
{
	return h == DKIM_SHA1 ? EVP_sha1() : EVP_sha256();
}

static int
span_is(const struct dkim_span *s, const char *w)
{
	size_t n = strlen(w);

	return s->len == n && memcmp(s->p, w, n) == 0;
}

static int
span_icase(const struct dkim_span *s, const char *w)
{
	size_t n = strlen(w);

	return s->len == n && strncasecmp(s->p, w, n) == 0;
}

/*
 * Layer 1: parsers.
 */

static int
alpha(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static int
digit(int c)
{
	return c >= '0' && c <= '9';
}

int
dkim_tags_parse(const char *s, size_t len, struct dkim_tag *tags,
    size_t max, size_t *n, char *err, size_t errsz)
{
	size_t i = 0, k, nt = 0, ns, ve;
	unsigned char c;

	*n = 0;
	for (;;) {
		while (i < len && FWS(s[i]))
			i++;
		if (i == len)
			break;
		if (s[i] == ';') {
			i++;
			continue;
		}
		if (!alpha((unsigned char)s[i]))
			return fail(err, errsz, "bad tag name%s", "");
		ns = i;
		while (i < len && (alpha((unsigned char)s[i]) ||
		    digit((unsigned char)s[i]) || s[i] == '_'))
			i++;
		if (nt == max)
			return fail(err, errsz, "too many tags%s", "");
		tags[nt].name.p = s + ns;
		tags[nt].name.len = i - ns;
		while (i < len && FWS(s[i]))
			i++;
		if (i == len || s[i] != '=')
			return fail(err, errsz, "missing = in tag list%s", "");
		tags[nt].vstart = ++i;
		while (i < len && FWS(s[i]))
			i++;
		tags[nt].value.p = s + i;
		for (ve = i; i < len && s[i] != ';'; i++) {
			c = (unsigned char)s[i];
			if (c == 127 || (c < 32 && !FWS(c)))
				return fail(err, errsz,
				    "control character in tag value%s", "");
			if (!FWS(c))
				ve = i + 1;
		}
		tags[nt].value.len = ve > (size_t)(tags[nt].value.p - s) ?
		    ve - (size_t)(tags[nt].value.p - s) : 0;
		tags[nt].vend = i;
		for (k = 0; k < nt; k++)
			if (tags[k].name.len == tags[nt].name.len &&
			    memcmp(tags[k].name.p, tags[nt].name.p,
			    tags[k].name.len) == 0) {
				if (errsz > 0)
					snprintf(err, errsz,
					    "duplicate tag %.*s",
					    (int)(tags[nt].name.len > 20 ? 20 :
					    tags[nt].name.len),
					    tags[nt].name.p);
				return -1;
			}
		nt++;
		if (i < len)
			i++;	/* the ";" */
	}
	*n = nt;
	return 0;
}

const struct dkim_tag *
dkim_tag_find(const struct dkim_tag *tags, size_t n, const char *name)
{
	size_t k;

	for (k = 0; k < n; k++)
		if (span_is(&tags[k].name, name))
			return &tags[k];
	return NULL;
}

static int
b64val(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

int
dkim_base64_decode(const char *s, size_t len, unsigned char *out,
    size_t outmax, size_t *outlen)
{
	unsigned int acc = 0;
	int bits = 0, pad = 0, v;
	size_t i, o = 0, nd = 0;

	*outlen = 0;
	for (i = 0; i < len; i++) {
		if (FWS(s[i]))
			continue;
		if (s[i] == '=') {
			if (++pad > 2)
				return -1;
			continue;
		}
		if (pad || (v = b64val((unsigned char)s[i])) < 0)
			return -1;
		nd++;
		acc = ((acc << 6) | (unsigned int)v) & 0xffffff;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			if (o == outmax)
				return -1;
			out[o++] = (unsigned char)(acc >> bits);
		}
	}
	/* a lone character in the last quantum is no byte; padding must
	 * fill the quantum it ends */
	if (nd % 4 == 1 || (pad && (nd + (size_t)pad) % 4 != 0))
		return -1;
	*outlen = o;
	return 0;
}

char *
dkim_base64_encode(const unsigned char *p, size_t n)
{
	char *out;
	size_t i, o = 0;
	static const char tab[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	unsigned int v;

	out = xmalloc((n + 2) / 3 * 4 + 1);
	for (i = 0; i + 2 < n; i += 3) {
		v = (unsigned int)p[i] << 16 | (unsigned int)p[i + 1] << 8 |
		    p[i + 2];
		out[o++] = tab[v >> 18];
		out[o++] = tab[(v >> 12) & 63];
		out[o++] = tab[(v >> 6) & 63];
		out[o++] = tab[v & 63];
	}
	if (i < n) {
		v = (unsigned int)p[i] << 16;
		if (i + 1 < n)
			v |= (unsigned int)p[i + 1] << 8;
		out[o++] = tab[v >> 18];
		out[o++] = tab[(v >> 12) & 63];
		out[o++] = i + 1 < n ? tab[(v >> 6) & 63] : '=';
		out[o++] = '=';
	}
	out[o] = '\0';
	return out;
}

/* A domain name or a selector: labels of letters, digits, "-" and "_",
 * 1 to 63 bytes each, at most 253 in all. */
static int
name_ok(const struct dkim_span *v)
{
	size_t i, lab = 0;
	unsigned char c;

	if (v->len == 0 || v->len > 253)
		return 0;
	for (i = 0; i < v->len; i++) {
		c = (unsigned char)v->p[i];
		if (c == '.') {
			if (lab == 0)
				return 0;
			lab = 0;
			continue;
		}
		if (!alpha(c) && !digit(c) && c != '-' && c != '_')
			return 0;
		if (++lab > 63)
			return 0;
	}
	return lab > 0;
}

int
dkim_name_ok(const char *p, size_t len)
{
	struct dkim_span v = { p, len };

	return name_ok(&v);
}

static void
span_copy(char *dst, size_t dstsz, const struct dkim_span *v)
{
	size_t n = v->len < dstsz - 1 ? v->len : dstsz - 1;

	memcpy(dst, v->p, n);
	dst[n] = '\0';
}

/* A decimal number; too big saturates at LLONG_MAX.  -1 if not one. */
static long long
number(const struct dkim_span *v)
{
	unsigned long long n = 0;
	size_t i;

	if (v->len == 0)
		return -1;
	for (i = 0; i < v->len; i++) {
		if (!digit((unsigned char)v->p[i]))
			return -1;
		if (n <= LLONG_MAX)
			n = n * 10 + (unsigned long long)(v->p[i] - '0');
	}
	return n > LLONG_MAX ? LLONG_MAX : (long long)n;
}

/* The next item of a colon list, trimmed; 0 at the end. */
static int
next_item(const struct dkim_span *list, size_t *pos, struct dkim_span *item)
{
	size_t i = *pos, s, e;

	if (i > list->len)
		return 0;
	for (s = i; i < list->len && list->p[i] != ':'; i++)
		;
	*pos = i + 1;
	e = i;
	while (s < e && FWS(list->p[s]))
		s++;
	while (e > s && FWS(list->p[e - 1]))
		e--;
	item->p = list->p + s;
	item->len = e - s;
	return 1;
}

static int
parse_canon(const struct dkim_span *v, enum dkim_canon *hc,
    enum dkim_canon *bc)
{
	struct dkim_span a = *v, b = { "simple", 6 };
	const char *slash = memchr(v->p, '/', v->len);

	if (slash != NULL) {
		a.len = (size_t)(slash - v->p);
		b.p = slash + 1;
		b.len = v->len - a.len - 1;
	}
	if (span_is(&a, "simple"))
		*hc = DKIM_SIMPLE;
	else if (span_is(&a, "relaxed"))
		*hc = DKIM_RELAXED;
	else
		return -1;
	if (span_is(&b, "simple"))
		*bc = DKIM_SIMPLE;
	else if (span_is(&b, "relaxed"))
		*bc = DKIM_RELAXED;
	else
		return -1;
	return 0;
}

/* Is the domain dom (len n) d or a subdomain of it? */
static int
within(const char *dom, size_t n, const char *d)
{
	size_t dl = strlen(d);

	if (n == dl)
		return strncasecmp(dom, d, n) == 0;
	return n > dl && dom[n - dl - 1] == '.' &&
	    strncasecmp(dom + n - dl, d, dl) == 0;
}

static int
sig_ident(struct dkim_sig *sig, const struct dkim_span *v, char *err,
    size_t errsz)
{
	struct dkim_span dom;
	const char *at = NULL;
	size_t i;

	for (i = 0; i < v->len; i++) {
		if (v->p[i] == '@')
			at = v->p + i;
		if (FWS(v->p[i]))
			return fail(err, errsz, "bad i=%s", "");
	}
	if (at == NULL)
		return fail(err, errsz, "bad i=%s", "");
	if (v->len >= sizeof(sig->i))
		return fail(err, errsz, "i= too long%s", "");
	dom.p = at + 1;
	dom.len = v->len - (size_t)(dom.p - v->p);
	if (!name_ok(&dom))
		return fail(err, errsz, "bad i=%s", "");
	if (!within(dom.p, dom.len, sig->d))
		return fail(err, errsz, "i= not in d=%s", "");
	span_copy(sig->i, sizeof(sig->i), v);
	return 0;
}

static int
sig_headers(struct dkim_sig *sig, const struct dkim_span *v, int ams,
    char *err, size_t errsz)
{
	struct dkim_span it;
	size_t pos = 0, i;
	int from = 0;

	sig->nh = 0;
	/* an AMS may sign no field at all (RFC 8617 4.1.2 asks for none) */
	if (ams && v->len == 0)
		return 0;
	while (next_item(v, &pos, &it)) {
		if (it.len == 0 && ams) {
			/* "from::to": a name no field has (the ValiMail
			 * suite passes it) */
			if (sig->nh == LIMIT_DKIM_HEADERS)
				return fail(err, errsz, "too many names in "
				    "h=%s", "");
			sig->h[sig->nh++] = it;
			continue;
		}
		if (it.len == 0)
			return fail(err, errsz, "bad h=%s", "");
		for (i = 0; i < it.len; i++)
			if ((unsigned char)it.p[i] <= 32 ||
			    (unsigned char)it.p[i] >= 127)
				return fail(err, errsz, "bad h=%s", "");
		if (sig->nh == LIMIT_DKIM_HEADERS)
			return fail(err, errsz, "too many names in h=%s", "");
		if (span_icase(&it, "from"))
			from = 1;
		sig->h[sig->nh++] = it;
	}
	if (!from && !ams)
		return fail(err, errsz, "From not signed%s", "");
	return 0;
}

static const struct dkim_tag *
need(const struct dkim_tag *t, size_t n, const char *name, char *err,
    size_t errsz)
{
	const struct dkim_tag *g = dkim_tag_find(t, n, name);

	if (g == NULL)
		fail(err, errsz, "missing tag %s", name);
	return g;
}

int
dkim_sig_parse(struct dkim_sig *sig, const char *value, size_t len,
    int flags, char *err, size_t errsz)
{
	struct dkim_tag t[LIMIT_DKIM_TAGS];
	const struct dkim_tag *a, *b, *bh, *d, *h, *s, *g;
	struct dkim_span it;
	size_t n, i, k, pos;
	int ams = flags & DKIM_SIG_AMS, dns = 0;

	memset(sig, 0, offsetof(struct dkim_sig, h));
	sig->bstart = sig->bend = 0;
	sig->l = sig->t = sig->x = -1;
	/* an AMS without c= is relaxed/relaxed, as dkimpy and the ValiMail
	 * suite have it (RFC 8617 says only relaxed is used by ARC sealers) */
	if (ams)
		sig->hc = sig->bc = DKIM_RELAXED;
	if (len > LIMIT_DKIM_FIELD)
		return fail(err, errsz, "signature too long%s", "");
	if (dkim_tags_parse(value, len, t, LIMIT_DKIM_TAGS, &n, err,
	    errsz) == -1)
		return -1;
	/* the names first: a result can say who signed even when the
	 * rest is bad */
	if ((d = need(t, n, "d", err, errsz)) == NULL)
		return -1;
	if (!name_ok(&d->value))
		return fail(err, errsz, "bad d=%s", "");
	span_copy(sig->d, sizeof(sig->d), &d->value);
	if ((s = need(t, n, "s", err, errsz)) == NULL)
		return -1;
	if (!name_ok(&s->value) || s->value.len + d->value.len +
	    sizeof("._domainkey.") - 1 > 253)
		return fail(err, errsz, "bad s=%s", "");
	span_copy(sig->s, sizeof(sig->s), &s->value);
	if ((b = need(t, n, "b", err, errsz)) == NULL)
		return -1;
	for (i = 0, k = 0; i < b->value.len && k < DKIM_BPREFIX; i++)
		if (!FWS(b->value.p[i]))
			sig->bprefix[k++] = b->value.p[i];
	sig->bprefix[k] = '\0';
	sig->bstart = b->vstart;
	sig->bend = b->vend;

	if (ams) {
		if ((g = need(t, n, "i", err, errsz)) == NULL)
			return -1;
		sig->instance = (int)number(&g->value);
		if (sig->instance < 1 || sig->instance > 50)
			return fail(err, errsz, "bad i=%s", "");
	} else {
		if ((g = need(t, n, "v", err, errsz)) == NULL)
			return -1;
		if (!span_is(&g->value, "1"))
			return fail(err, errsz, "bad v=%s", "");
		if ((g = dkim_tag_find(t, n, "i")) != NULL) {
			if (sig_ident(sig, &g->value, err, errsz) == -1)
				return -1;
		} else
			snprintf(sig->i, sizeof(sig->i), "@%s", sig->d);
	}
	if ((a = need(t, n, "a", err, errsz)) == NULL)
		return -1;
	if (span_is(&a->value, "rsa-sha256"))
		sig->alg = DKIM_RSA_SHA256;
	else if (span_is(&a->value, "ed25519-sha256"))
		sig->alg = DKIM_ED25519_SHA256;
	else if (span_is(&a->value, "rsa-sha1"))
		sig->alg = DKIM_RSA_SHA1;
	else
		return fail(err, errsz, "unknown algorithm%s", "");
	if ((g = dkim_tag_find(t, n, "c")) != NULL &&
	    parse_canon(&g->value, &sig->hc, &sig->bc) == -1)
		return fail(err, errsz, "bad c=%s", "");
	if ((g = dkim_tag_find(t, n, "q")) != NULL) {
		pos = 0;
		while (next_item(&g->value, &pos, &it))
			if (span_is(&it, "dns/txt"))
				dns = 1;
		if (!dns)
			return fail(err, errsz, "unsupported q=%s", "");
	}
	if ((h = need(t, n, "h", err, errsz)) == NULL)
		return -1;
	if (sig_headers(sig, &h->value, ams, err, errsz) == -1)
		return -1;
	if ((bh = need(t, n, "bh", err, errsz)) == NULL)
		return -1;
	if (dkim_base64_decode(bh->value.p, bh->value.len, sig->bh,
	    sizeof(sig->bh), &sig->bhlen) == -1 || sig->bhlen == 0)
		return fail(err, errsz, "bad bh=%s", "");
	if (dkim_base64_decode(b->value.p, b->value.len, sig->b,
	    sizeof(sig->b), &sig->blen) == -1 || sig->blen == 0)
		return fail(err, errsz, "bad b=%s", "");
	if ((g = dkim_tag_find(t, n, "l")) != NULL &&
	    (sig->l = number(&g->value)) < 0)
		return fail(err, errsz, "bad l=%s", "");
	if ((g = dkim_tag_find(t, n, "t")) != NULL &&
	    (sig->t = number(&g->value)) < 0)
		return fail(err, errsz, "bad t=%s", "");
	if ((g = dkim_tag_find(t, n, "x")) != NULL &&
	    (sig->x = number(&g->value)) < 0)
		return fail(err, errsz, "bad x=%s", "");
	if (sig->x >= 0 && sig->t >= 0 && sig->x < sig->t)
		return fail(err, errsz, "x= before t=%s", "");
	return 0;
}

void
dkim_key_clear(struct dkim_key *k)
{
	EVP_PKEY_free(k->pkey);
	memset(k, 0, sizeof(*k));
}

static EVP_PKEY *
rsa_pubkey(const unsigned char *der, size_t len)
{
	const unsigned char *p = der;
	EVP_PKEY *pk;

	if ((pk = d2i_PUBKEY(NULL, &p, (long)len)) != NULL) {
		if (EVP_PKEY_get_base_id(pk) == EVP_PKEY_RSA &&
		    p == der + len)
			return pk;
		EVP_PKEY_free(pk);
		return NULL;
	}
	/* a bare RSAPublicKey, as some publish */
	p = der;
	pk = d2i_PublicKey(EVP_PKEY_RSA, NULL, &p, (long)len);
	if (pk != NULL && p != der + len) {
		EVP_PKEY_free(pk);
		pk = NULL;
	}
	return pk;
}

int
dkim_key_parse(struct dkim_key *k, const char *txt, size_t len, char *err,
    size_t errsz)
{
	struct dkim_tag t[LIMIT_DKIM_TAGS];
	const struct dkim_tag *g;
	struct dkim_span it;
	unsigned char der[KEY_DER_MAX];
	size_t n, pos, dlen;
	int ok;

	memset(k, 0, sizeof(*k));
	k->hashes = 1 << DKIM_SHA1 | 1 << DKIM_SHA256;
	if (len > LIMIT_DKIM_FIELD)
		return fail(err, errsz, "key record too long%s", "");
	if (dkim_tags_parse(txt, len, t, LIMIT_DKIM_TAGS, &n, err,
	    errsz) == -1)
		return -1;
	if ((g = dkim_tag_find(t, n, "v")) != NULL &&
	    (g != &t[0] || !span_is(&g->value, "DKIM1")))
		return fail(err, errsz, "bad v=%s", "");
	if ((g = dkim_tag_find(t, n, "k")) != NULL) {
		if (span_is(&g->value, "ed25519"))
			k->type = DKIM_K_ED25519;
		else if (!span_is(&g->value, "rsa"))
			return fail(err, errsz, "unknown key type%s", "");
	}
	if ((g = dkim_tag_find(t, n, "h")) != NULL) {
		k->hashes = 0;
		pos = 0;
		while (next_item(&g->value, &pos, &it))
			if (span_is(&it, "sha1"))
				k->hashes |= 1 << DKIM_SHA1;
			else if (span_is(&it, "sha256"))
				k->hashes |= 1 << DKIM_SHA256;
	}
	if ((g = dkim_tag_find(t, n, "s")) != NULL) {
		ok = 0;
		pos = 0;
		while (next_item(&g->value, &pos, &it))
			if (span_is(&it, "email") || span_is(&it, "*"))
				ok = 1;
		if (!ok)
			return fail(err, errsz, "key not for email%s", "");
	}
	if ((g = dkim_tag_find(t, n, "t")) != NULL) {
		pos = 0;
		while (next_item(&g->value, &pos, &it))
			if (span_is(&it, "y"))
				k->testing = 1;
			else if (span_is(&it, "s"))
				k->strict = 1;
	}
	if ((g = dkim_tag_find(t, n, "p")) == NULL)
		return fail(err, errsz, "missing tag p%s", "");
	if (g->value.len == 0)
		return fail(err, errsz, "key revoked%s", "");
	if (dkim_base64_decode(g->value.p, g->value.len, der, sizeof(der),
	    &dlen) == -1)
		return fail(err, errsz, "bad key%s", "");
	if (k->type == DKIM_K_ED25519) {
		if (dlen != 32 || (k->pkey = EVP_PKEY_new_raw_public_key(
		    EVP_PKEY_ED25519, NULL, der, dlen)) == NULL)
			return fail(err, errsz, "bad key%s", "");
		k->bits = 256;
		return 0;
	}
	if ((k->pkey = rsa_pubkey(der, dlen)) == NULL)
		return fail(err, errsz, "bad key%s", "");
	k->bits = EVP_PKEY_get_bits(k->pkey);
	if (k->bits > LIMIT_DKIM_KEY_BITS) {
		dkim_key_clear(k);
		return fail(err, errsz, "key too large%s", "");
	}
	return 0;
}

/*
 * Layer 2: canonicalisation, into a sink.
 */

struct sink {
	EVP_MD_CTX *md;			/* hash into this, or */
	char *out;			/* append here */
	size_t outlen, outcap;
	unsigned long long total;	/* bytes put */
	unsigned long long passed;	/* bytes passed on */
	unsigned long long limit;	/* at most this many */
	size_t nbuf;
	char buf[8192];
};

static void
sink_init(struct sink *s, EVP_MD_CTX *md, long long limit)
{
	s->md = md;
	s->out = NULL;
	s->outlen = s->outcap = 0;
	s->total = s->passed = 0;
	s->limit = limit < 0 ? ULLONG_MAX : (unsigned long long)limit;
	s->nbuf = 0;
}

static void
sink_flush(struct sink *s)
{
	if (s->md != NULL && s->nbuf > 0)
		EVP_DigestUpdate(s->md, s->buf, s->nbuf);
	s->nbuf = 0;
}

static void
put(struct sink *s, const char *p, size_t n)
{
	unsigned long long room;

	s->total += n;
	if (s->passed >= s->limit || n == 0)
		return;
	room = s->limit - s->passed;
	if (n > room)
		n = (size_t)room;
	s->passed += n;
	if (s->md == NULL) {
		if (s->outcap - s->outlen < n + 1) {
			s->outcap = (s->outlen + n + 1) * 2;
			s->out = xreallocarray(s->out, s->outcap, 1);
		}
		memcpy(s->out + s->outlen, p, n);
		s->outlen += n;
		s->out[s->outlen] = '\0';
		return;
	}
	if (n > sizeof(s->buf) - s->nbuf) {
		sink_flush(s);
		if (n >= sizeof(s->buf)) {
			EVP_DigestUpdate(s->md, p, n);
			return;
		}
	}
	memcpy(s->buf + s->nbuf, p, n);
	s->nbuf += n;
}

static void
canon_header(struct sink *s, enum dkim_canon c, const char *raw, size_t len,
    int crlf)
{
	const char *end = raw + len, *colon, *ne, *p, *q;
	char low[64];
	size_t k;
	int ws = 0, started = 0;

	if (len >= 2 && end[-2] == '\r' && end[-1] == '\n')
		end -= 2;
	if (c == DKIM_SIMPLE) {
		put(s, raw, (size_t)(end - raw));
		if (crlf)
			put(s, "\r\n", 2);
		return;
	}
	colon = memchr(raw, ':', (size_t)(end - raw));
	ne = colon != NULL ? colon : end;
	while (ne > raw && FWS(ne[-1]))
		ne--;
	for (p = raw; p < ne; ) {
		for (k = 0; k < sizeof(low) && p < ne; k++, p++)
			low[k] = (*p >= 'A' && *p <= 'Z') ? *p + 32 : *p;
		put(s, low, k);
	}
	put(s, ":", 1);
	for (p = colon != NULL ? colon + 1 : end; p < end; ) {
		if (*p == '\r' && p + 1 < end && p[1] == '\n') {
			p += 2;
			continue;
		}
		if (WSP(*p)) {
			ws = 1;
			p++;
			continue;
		}
		for (q = p; q < end && !WSP(*q) && *q != '\r'; q++)
			;
		if (q == p)
			q++;	/* a lone CR */
		if (ws && started)
			put(s, " ", 1);
		put(s, p, (size_t)(q - p));
		started = 1;
		ws = 0;
		p = q;
	}
	if (crlf)
		put(s, "\r\n", 2);
}

static void
canon_body(struct sink *s, enum dkim_canon c, const char *p, size_t len)
{
	const char *end = p + len, *eol, *next, *e, *q;
	size_t blank = 0;

	if (c == DKIM_SIMPLE) {
		while (end - p >= 2 && end[-2] == '\r' && end[-1] == '\n')
			end -= 2;
		put(s, p, (size_t)(end - p));
		put(s, "\r\n", 2);
		return;
	}
	while (p < end) {
		eol = memmem(p, (size_t)(end - p), "\r\n", 2);
		next = eol != NULL ? eol + 2 : end;
		e = eol != NULL ? eol : end;
		while (e > p && WSP(e[-1]))
			e--;
		if (e == p) {
			blank++;	/* held back: it may end the body */
			p = next;
			continue;
		}
		for (; blank > 0; blank--)
			put(s, "\r\n", 2);
		while (p < e) {
			for (q = p; q < e && !WSP(*q); q++)
				;
			put(s, p, (size_t)(q - p));
			if (q < e) {
				put(s, " ", 1);
				while (q < e && WSP(*q))
					q++;
			}
			p = q;
		}
		put(s, "\r\n", 2);
		p = next;
	}
}

char *
dkim_canon_header(enum dkim_canon c, const char *raw, size_t len,
    size_t *outlen)
{
	struct sink s;

	sink_init(&s, NULL, -1);
	canon_header(&s, c, raw, len, 1);
	*outlen = s.outlen;
	return s.out;
}

char *
dkim_canon_body(enum dkim_canon c, const char *body, size_t len,
    size_t *outlen)
{
	struct sink s;

	sink_init(&s, NULL, -1);
	canon_body(&s, c, body, len);
	*outlen = s.outlen;
	return s.out != NULL ? s.out : xstrdup("");
}

static EVP_MD_CTX *
md_new(enum dkim_hash h)
{
	EVP_MD_CTX *md = EVP_MD_CTX_new();

	if (md == NULL || EVP_DigestInit_ex(md, md_of(h), NULL) != 1) {
		fprintf(stderr, "dkim: digest init failed\n");
		exit(111);
	}
	return md;
}

static void
md_done(EVP_MD_CTX *md, unsigned char *out, size_t *outlen)
{
	unsigned int n = 0;

	EVP_DigestFinal_ex(md, out, &n);
	*outlen = n;
	EVP_MD_CTX_free(md);
}

void
dkim_body_hash(enum dkim_hash h, enum dkim_canon c, const char *body,
    size_t len, long long l, unsigned char *out, size_t *outlen,
    unsigned long long *canonlen)
{
	struct sink *s = xmalloc(sizeof(*s));

	sink_init(s, md_new(h), l);
	canon_body(s, c, body != NULL ? body : "", body != NULL ? len : 0);
	sink_flush(s);
	md_done(s->md, out, outlen);
	*canonlen = s->total;
	free(s);
}

void
dkim_select_fields(const struct msg *m, const struct dkim_span *names,
    size_t n, long exclude, const struct msg_field **out)
{
	long cur[LIMIT_DKIM_HEADERS];
	size_t k, j;
	long i;

	for (k = 0; k < n && k < LIMIT_DKIM_HEADERS; k++) {
		/* a name met before goes on upwards from where it was */
		i = (long)m->nf - 1;
		for (j = k; j-- > 0; )
			if (names[j].len == names[k].len &&
			    strncasecmp(names[j].p, names[k].p,
			    names[k].len) == 0) {
				i = cur[j] - 1;
				break;
			}
		for (; i >= 0; i--)
			if (i != exclude && m->f[i].namelen == names[k].len &&
			    strncasecmp(m->f[i].name, names[k].p,
			    names[k].len) == 0)
				break;
		cur[k] = i;
		out[k] = i >= 0 ? &m->f[i] : NULL;
	}
}

void
dkim_header_hash(enum dkim_hash h, enum dkim_canon hc,
    const struct msg_field *const *f, size_t n, const char *sig,
    size_t siglen, size_t bstart, size_t bend, unsigned char *out,
    size_t *outlen)
{
	struct sink *s = xmalloc(sizeof(*s));
	char *tmp;
	size_t k;

	sink_init(s, md_new(h), -1);
	for (k = 0; k < n; k++)
		if (f[k] != NULL)
			canon_header(s, hc, f[k]->raw, f[k]->rawlen, 1);
	if (bend > siglen)
		bend = siglen;
	if (bstart > bend)
		bstart = bend;
	tmp = xmalloc(siglen - (bend - bstart) + 1);
	memcpy(tmp, sig, bstart);
	memcpy(tmp + bstart, sig + bend, siglen - bend);
	canon_header(s, hc, tmp, siglen - (bend - bstart), 0);
	free(tmp);
	sink_flush(s);
	md_done(s->md, out, outlen);
	free(s);
}

/*
 * Keys and signatures.
 */

struct dkim_privkey {
	EVP_PKEY *pkey;
	enum dkim_alg alg;
	int bits;
};

static int
no_passphrase(char *buf, int size, int rw, void *u)
{
	(void)buf;
	(void)size;
	(void)rw;
	(void)u;
	return -1;
}

struct dkim_privkey *
dkim_privkey_parse(const void *buf, size_t len, char *err, size_t errsz)
{
	struct dkim_privkey *k;
	unsigned char seed[64];
	EVP_PKEY *pk = NULL;
	size_t n;
	BIO *bio;

	if (len > 64 * 1024) {
		fail(err, errsz, "key file too big%s", "");
		return NULL;
	}
	if (memmem(buf, len, "-----BEGIN", 10) != NULL) {
		if ((bio = BIO_new_mem_buf(buf, (int)len)) == NULL) {
			fail(err, errsz, "out of memory%s", "");
			return NULL;
		}
		pk = PEM_read_bio_PrivateKey(bio, NULL, no_passphrase, NULL);
		BIO_free(bio);
	} else if (dkim_base64_decode(buf, len, seed, sizeof(seed),
	    &n) == 0 && n == 32)
		pk = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL,
		    seed, 32);
	if (pk == NULL) {
		fail(err, errsz, "not a private key (PEM RSA or Ed25519, "
		    "unencrypted, or an Ed25519 seed in base64)%s", "");
		return NULL;
	}
	k = xcalloc(1, sizeof(*k));
	k->pkey = pk;
	k->bits = EVP_PKEY_get_bits(pk);
	switch (EVP_PKEY_get_base_id(pk)) {
	case EVP_PKEY_RSA:
		k->alg = DKIM_RSA_SHA256;
		if (k->bits < LIMIT_DKIM_MIN_BITS ||
		    k->bits > LIMIT_DKIM_KEY_BITS) {
			fail(err, errsz, "RSA key size not within 1024 to "
			    "8192 bits%s", "");
			dkim_privkey_free(k);
			return NULL;
		}
		break;
	case EVP_PKEY_ED25519:
		k->alg = DKIM_ED25519_SHA256;
		break;
	default:
		fail(err, errsz, "not an RSA or Ed25519 key%s", "");
		dkim_privkey_free(k);
		return NULL;
	}
	return k;
}

struct dkim_privkey *
dkim_privkey_load(const char *path, char *err, size_t errsz)
{
	struct dkim_privkey *k;
	char buf[64 * 1024 + 1];
	ssize_t r;
	size_t n = 0;
	int fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		fail(err, errsz, "%s", strerror(errno));
		return NULL;
	}
	while (n < sizeof(buf) &&
	    (r = read(fd, buf + n, sizeof(buf) - n)) != 0) {
		if (r == -1) {
			if (errno == EINTR)
				continue;
			fail(err, errsz, "%s", strerror(errno));
			close(fd);
			return NULL;
		}
		n += (size_t)r;
	}
	close(fd);
	k = dkim_privkey_parse(buf, n, err, errsz);
	OPENSSL_cleanse(buf, sizeof(buf));
	return k;
}

void
dkim_privkey_free(struct dkim_privkey *k)
{
	if (k == NULL)
		return;
	EVP_PKEY_free(k->pkey);
	free(k);
}

enum dkim_alg
dkim_privkey_alg(const struct dkim_privkey *k)
{
	return k->alg;
}

int
dkim_privkey_bits(const struct dkim_privkey *k)
{
	return k->bits;
}

EVP_PKEY *
dkim_privkey_pkey(const struct dkim_privkey *k)
{
	return k->pkey;
}

char *
dkim_privkey_record(const struct dkim_privkey *k)
{
	unsigned char raw[32], *der = NULL;
	char *b64, *rec;
	size_t n = sizeof(raw), sz;
	int dl;

	if (k->alg == DKIM_ED25519_SHA256) {
		if (EVP_PKEY_get_raw_public_key(k->pkey, raw, &n) != 1)
			return NULL;
		b64 = dkim_base64_encode(raw, n);
	} else {
		if ((dl = i2d_PUBKEY(k->pkey, &der)) <= 0)
			return NULL;
		b64 = dkim_base64_encode(der, (size_t)dl);
		OPENSSL_free(der);
	}
	sz = strlen(b64) + 32;
	rec = xmalloc(sz);
	snprintf(rec, sz, "v=DKIM1; k=%s; p=%s",
	    k->alg == DKIM_ED25519_SHA256 ? "ed25519" : "rsa", b64);
	free(b64);
	return rec;
}

int
dkim_sign_digest(const struct dkim_privkey *k, enum dkim_alg alg,
    const unsigned char *dg, size_t dlen, unsigned char *sig,
    size_t *siglen, char *err, size_t errsz)
{
	EVP_PKEY_CTX *pc;
	EVP_MD_CTX *mc;
	int ok = 0;

	*siglen = DKIM_SIG_MAX;
	if ((alg == DKIM_ED25519_SHA256) != (k->alg == DKIM_ED25519_SHA256))
		return fail(err, errsz, "key type mismatch%s", "");
	if (alg == DKIM_ED25519_SHA256) {
		if ((mc = EVP_MD_CTX_new()) == NULL)
			return fail(err, errsz, "out of memory%s", "");
		ok = EVP_DigestSignInit(mc, NULL, NULL, NULL, k->pkey) == 1 &&
		    EVP_DigestSign(mc, sig, siglen, dg, dlen) == 1;
		EVP_MD_CTX_free(mc);
	} else {
		if ((pc = EVP_PKEY_CTX_new(k->pkey, NULL)) == NULL)
			return fail(err, errsz, "out of memory%s", "");
		ok = EVP_PKEY_sign_init(pc) == 1 &&
		    EVP_PKEY_CTX_set_rsa_padding(pc, RSA_PKCS1_PADDING) == 1 &&
		    EVP_PKEY_CTX_set_signature_md(pc,
		    md_of(dkim_alg_hash(alg))) == 1 &&
		    EVP_PKEY_sign(pc, sig, siglen, dg, dlen) == 1;
		EVP_PKEY_CTX_free(pc);
	}
	if (!ok)
		return fail(err, errsz, "signing failed%s", "");
	return 0;
}

int
dkim_verify_digest(const struct dkim_key *k, enum dkim_alg alg,
    const unsigned char *dg, size_t dlen, const unsigned char *sig,
    size_t siglen, char *err, size_t errsz)
{
	EVP_PKEY_CTX *pc;
	EVP_MD_CTX *mc;
	int ok = 0;

	if ((alg == DKIM_ED25519_SHA256) != (k->type == DKIM_K_ED25519) ||
	    k->pkey == NULL)
		return fail(err, errsz, "key type mismatch%s", "");
	if (alg == DKIM_ED25519_SHA256) {
		if ((mc = EVP_MD_CTX_new()) == NULL)
			return fail(err, errsz, "out of memory%s", "");
		ok = EVP_DigestVerifyInit(mc, NULL, NULL, NULL,
		    k->pkey) == 1 &&
		    EVP_DigestVerify(mc, sig, siglen, dg, dlen) == 1;
		EVP_MD_CTX_free(mc);
	} else {
		if ((pc = EVP_PKEY_CTX_new(k->pkey, NULL)) == NULL)
			return fail(err, errsz, "out of memory%s", "");
		ok = EVP_PKEY_verify_init(pc) == 1 &&
		    EVP_PKEY_CTX_set_rsa_padding(pc, RSA_PKCS1_PADDING) == 1 &&
		    EVP_PKEY_CTX_set_signature_md(pc,
		    md_of(dkim_alg_hash(alg))) == 1 &&
		    EVP_PKEY_verify(pc, sig, siglen, dg, dlen) == 1;
		EVP_PKEY_CTX_free(pc);
	}
	if (!ok)
		return fail(err, errsz, "signature mismatch%s", "");
	return 0;
}

/* A growing string. */
struct str {
	char *p;
	size_t len, cap;
};

static void
str_add(struct str *s, const char *p, size_t n)
{
	if (s->cap - s->len < n + 1) {
		s->cap = (s->len + n + 1) * 2;
		s->p = xreallocarray(s->p, s->cap, 1);
	}
	memcpy(s->p + s->len, p, n);
	s->len += n;
	s->p[s->len] = '\0';
}

#define FOLD	78

/* Append tag (n bytes) at column *col, folding before it if it does not
 * fit; h= (split) is folded after its colons. */
static void
fold_tag(struct str *s, size_t *col, const char *tag, size_t n, int split)
{
	size_t k, piece;

	if (*col + 1 + n + 1 > FOLD && *col > 1 && (!split ||
	    *col + 1 + 8 > FOLD)) {
		str_add(s, "\r\n\t", 3);
		*col = 1;
	} else {
		str_add(s, " ", 1);
		(*col)++;
	}
	if (!split) {
		str_add(s, tag, n);
		*col += n;
		return;
	}
	for (k = 0; k < n; k += piece) {
		for (piece = 0; k + piece < n && tag[k + piece] != ':'; piece++)
			;
		if (k + piece < n)
			piece++;
		if (*col + piece + 1 > FOLD && *col > 1) {
			str_add(s, "\r\n\t", 3);
			*col = 1;
		}
		str_add(s, tag + k, piece);
		*col += piece;
	}
}

/* Append the base64 b64 at column *col, folded at FOLD columns. */
static void
fold_b64(struct str *s, size_t *col, const char *b64)
{
	size_t k, piece, len = strlen(b64);

	for (k = 0; k < len; k += piece) {
		if (*col >= FOLD) {
			str_add(s, "\r\n\t", 3);
			*col = 1;
		}
		piece = FOLD - *col;
		if (piece > len - k)
			piece = len - k;
		str_add(s, b64 + k, piece);
		*col += piece;
	}
}

char *
dkim_sign_fields(const struct dkim_privkey *key, enum dkim_canon hc,
    const char *name, const char *const *tags, size_t ntags,
    const struct msg_field *const *f, size_t n, int flags, char *err,
    size_t errsz)
{
	struct str s = { NULL, 0, 0 }, out = { NULL, 0, 0 };
	unsigned char dg[DKIM_DIGEST_MAX], sig[DKIM_SIG_MAX];
	size_t dlen, slen, col, k, bat = 0, len;
	int hasb = 0;
	char *b64;

	str_add(&s, name, strlen(name));
	str_add(&s, ":", 1);
	col = s.len;
	for (k = 0; k < ntags; k++) {
		len = strlen(tags[k]);
		if (strcmp(tags[k], "b=") == 0 && !hasb) {
			fold_tag(&s, &col, tags[k], len, 0);
			bat = s.len;
			hasb = 1;
		} else {
			/* after b= a new line: the signature goes in
			 * before it without moving what was hashed; h=
			 * is split only when it cannot fit on a line */
			if (hasb && k > 0 && strcmp(tags[k - 1], "b=") == 0) {
				str_add(&s, "\r\n\t", 3);
				col = 1;
				str_add(&s, tags[k], len);
				col += len;
			} else
				fold_tag(&s, &col, tags[k], len,
				    strncmp(tags[k], "h=", 2) == 0 &&
				    len + 2 > FOLD);
		}
		if (k + 1 < ntags || !hasb) {
			str_add(&s, ";", 1);
			col++;
		}
	}
	if (!hasb) {
		fold_tag(&s, &col, "b=", 2, 0);
		bat = s.len;
	}
	dkim_header_hash(dkim_alg_hash(key->alg), hc, f, n, s.p, s.len,
	    bat, bat, dg, &dlen);
	if (dkim_sign_digest(key, key->alg, dg, dlen, sig, &slen, err,
	    errsz) == -1) {
		free(s.p);
		return NULL;
	}
	b64 = dkim_base64_encode(sig, slen);
	/* the column after "b=" */
	for (k = bat, col = 0; k > 0 && s.p[k - 1] != '\n'; k--)
		col++;
	str_add(&out, s.p, bat);
	if (flags & DKIM_FIELD_BWHOLE)
		str_add(&out, b64, strlen(b64));
	else
		fold_b64(&out, &col, b64);
	str_add(&out, s.p + bat, s.len - bat);
	str_add(&out, "\r\n", 2);
	free(b64);
	free(s.p);
	return out.p;
}

/*
 * Layer 3.
 */

void
dkim_verify_opts_init(struct dkim_verify_opts *o)
{
	o->now = 0;
	o->skew = LIMIT_DKIM_SKEW;
	o->min_bits = LIMIT_DKIM_MIN_BITS;
	o->sha1 = 0;
	o->max_sigs = LIMIT_DKIM_SIGS;
}

static enum dkim_res
result(struct dkim_result *r, enum dkim_res res, const char *reason)
{
	r->res = res;
	snprintf(r->reason, sizeof(r->reason), "%s", reason);
	return res;
}

static void
body_hash_cached(const struct msg *m, const struct dkim_sig *sig,
    struct dkim_bhcache *c, unsigned char *dg, size_t *dlen,
    unsigned long long *canonlen)
{
	enum dkim_hash h = dkim_alg_hash(sig->alg);
	size_t k;

	for (k = 0; c != NULL && k < c->n; k++)
		if (c->e[k].c == sig->bc && c->e[k].h == h &&
		    c->e[k].l == sig->l) {
			memcpy(dg, c->e[k].dg, c->e[k].dlen);
			*dlen = c->e[k].dlen;
			*canonlen = c->e[k].canonlen;
			return;
		}
	dkim_body_hash(h, sig->bc, m->body, m->bodylen, sig->l, dg, dlen,
	    canonlen);
	if (c != NULL && c->n < sizeof(c->e) / sizeof(c->e[0])) {
		k = c->n++;
		c->e[k].c = sig->bc;
		c->e[k].h = h;
		c->e[k].l = sig->l;
		memcpy(c->e[k].dg, dg, *dlen);
		c->e[k].dlen = *dlen;
		c->e[k].canonlen = *canonlen;
	}
}

enum dkim_res
dkim_sig_check(const struct msg *m, size_t field, const struct dkim_sig *sig,
    const struct dkim_key *key, const struct dkim_verify_opts *o,
    struct dkim_bhcache *cache, struct dkim_result *r)
{
	const struct msg_field *sel[LIMIT_DKIM_HEADERS];
	const struct msg_field *f = &m->f[field];
	unsigned char dg[DKIM_DIGEST_MAX];
	unsigned long long canonlen;
	const char *at;
	size_t dlen, off;
	char err[64];

	r->bits = key->bits;
	r->testing = key->testing;
	if ((sig->alg == DKIM_ED25519_SHA256) != (key->type == DKIM_K_ED25519))
		return result(r, DKIM_PERMERROR, "key type mismatch");
	if (!(key->hashes & 1 << dkim_alg_hash(sig->alg)))
		return result(r, DKIM_PERMERROR, "hash not allowed by key");
	if (key->strict && sig->i[0] != '\0' &&
	    (at = strrchr(sig->i, '@')) != NULL &&
	    strcasecmp(at + 1, sig->d) != 0)
		return result(r, DKIM_PERMERROR, "i= domain not d= (t=s)");
	if (key->type == DKIM_K_RSA && key->bits < o->min_bits)
		return result(r, DKIM_FAIL, "key too small");
	body_hash_cached(m, sig, cache, dg, &dlen, &canonlen);
	if (sig->l >= 0 && (unsigned long long)sig->l > canonlen)
		return result(r, DKIM_FAIL, "l= beyond body");
	if (dlen != sig->bhlen || memcmp(dg, sig->bh, dlen) != 0)
		return result(r, DKIM_FAIL, "body hash mismatch");
	dkim_select_fields(m, sig->h, sig->nh, (long)field, sel);
	off = (size_t)(f->value - f->raw);
	dkim_header_hash(dkim_alg_hash(sig->alg), sig->hc, sel, sig->nh,
	    f->raw, f->rawlen, off + sig->bstart, off + sig->bend, dg, &dlen);
	if (dkim_verify_digest(key, sig->alg, dg, dlen, sig->b, sig->blen,
	    err, sizeof(err)) == -1)
		return result(r, DKIM_FAIL, err);
	if (sig->alg == DKIM_RSA_SHA1 && !o->sha1)
		return result(r, DKIM_POLICY, "rsa-sha1 not accepted");
	return result(r, DKIM_PASS, "");
}

struct lookup {
	struct dkim_key *key;
	enum dkim_res res;
	char *reason;
};

static void
lookup_cb(void *arg, const struct dns_answer *a)
{
	struct lookup *l = arg;
	char err[DKIM_REASON_MAX];
	int k;

	switch (a->status) {
	case DNS_OK:
		break;
	case DNS_TEMPFAIL:
		l->res = DKIM_TEMPERROR;
		snprintf(l->reason, DKIM_REASON_MAX, "key lookup failed");
		return;
	case DNS_NXDOMAIN:
	case DNS_NODATA:
		l->res = DKIM_PERMERROR;
		snprintf(l->reason, DKIM_REASON_MAX, "no key record");
		return;
	case DNS_PERMFAIL:
		l->res = DKIM_PERMERROR;
		snprintf(l->reason, DKIM_REASON_MAX, "bad key lookup answer");
		return;
	}
	l->res = DKIM_PERMERROR;
	snprintf(l->reason, DKIM_REASON_MAX, "no key record");
	for (k = 0; k < a->nrr; k++) {
		if (a->rr[k].type != DNS_T_TXT)
			continue;
		if (dkim_key_parse(l->key, (const char *)a->rr[k].data,
		    a->rr[k].len, err, sizeof(err)) == 0) {
			l->res = DKIM_PASS;
			l->reason[0] = '\0';
			return;
		}
		dkim_key_clear(l->key);
		if (strcmp(l->reason, "no key record") == 0)
			snprintf(l->reason, DKIM_REASON_MAX, "%s", err);
	}
}

enum dkim_res
dkim_key_lookup(struct dns *dns, const char *s, const char *d,
    struct dkim_key *key, char *reason)
{
	struct lookup l = { key, DKIM_TEMPERROR, reason };
	char name[DNS_NAME_MAX];
	int n;

	memset(key, 0, sizeof(*key));
	n = snprintf(name, sizeof(name), "%s._domainkey.%s", s, d);
	if (n < 0 || (size_t)n >= sizeof(name)) {
		snprintf(reason, DKIM_REASON_MAX, "key name too long");
		return DKIM_PERMERROR;
	}
	snprintf(reason, DKIM_REASON_MAX, "key lookup failed");
	if (dns == NULL)
		return DKIM_TEMPERROR;
	if (dns_query_sync(dns, name, DNS_T_TXT, lookup_cb, &l) == -1) {
		if (errno == EINVAL) {
			snprintf(reason, DKIM_REASON_MAX, "bad key name");
			return DKIM_PERMERROR;
		}
		return DKIM_TEMPERROR;
	}
	return l.res;
}

size_t
dkim_verify(const struct msg *m, struct dns *dns,
    const struct dkim_verify_opts *o, struct dkim_result *res)
{
	struct dkim_bhcache *cache = xcalloc(1, sizeof(*cache));
	struct dkim_sig *sig = xmalloc(sizeof(*sig));
	struct dkim_result *r;
	struct dkim_key key;
	size_t k, n = 0, extra = 0, max = o->max_sigs;
	time_t now = o->now != 0 ? o->now : time(NULL);
	char err[DKIM_REASON_MAX];

	if (max > LIMIT_DKIM_SIGS)
		max = LIMIT_DKIM_SIGS;
	for (k = 0; k < m->nf; k++) {
		if (!msg_field_is(&m->f[k], "DKIM-Signature"))
			continue;
		if (n == max) {
			extra++;
			continue;
		}
		r = &res[n++];
		memset(r, 0, sizeof(*r));
		r->field = k;
		r->a = "";
		if (dkim_sig_parse(sig, m->f[k].value, m->f[k].valuelen, 0, err,
		    sizeof(err)) == -1) {
			snprintf(r->d, sizeof(r->d), "%s", sig->d);
			snprintf(r->s, sizeof(r->s), "%s", sig->s);
			snprintf(r->b, sizeof(r->b), "%s", sig->bprefix);
			result(r, DKIM_PERMERROR, err);
			continue;
		}
		snprintf(r->d, sizeof(r->d), "%s", sig->d);
		snprintf(r->s, sizeof(r->s), "%s", sig->s);
		snprintf(r->i, sizeof(r->i), "%s", sig->i);
		snprintf(r->b, sizeof(r->b), "%s", sig->bprefix);
		r->a = dkim_alg_str(sig->alg);
		if (sig->x >= 0 && (long long)now > sig->x) {
			result(r, DKIM_FAIL, "signature expired");
			continue;
		}
		if (sig->t >= 0 && sig->t > (long long)now + o->skew) {
			result(r, DKIM_FAIL, "signature in the future");
			continue;
		}
		r->res = dkim_key_lookup(dns, sig->s, sig->d, &key, r->reason);
		if (r->res != DKIM_PASS)
			continue;
		dkim_sig_check(m, k, sig, &key, o, cache, r);
		dkim_key_clear(&key);
	}
	if (extra > 0) {
		r = &res[n++];
		memset(r, 0, sizeof(*r));
		r->a = "";
		r->res = DKIM_NEUTRAL;
		snprintf(r->reason, sizeof(r->reason),
		    "%zu more signatures not checked", extra);
	}
	free(sig);
	free(cache);
	return n;
}

json_t *
dkim_json(const struct dkim_result *r)
{
	json_t *o = json_object();
	struct {
		const char *key, *val;
	} s[] = {
		{ "d", r->d }, { "s", r->s }, { "a", r->a }, { "i", r->i },
		{ "b", r->b }, { "reason", r->reason }
	};
	size_t k;

	if (o == NULL) {
		fprintf(stderr, "dkim: out of memory\n");
		exit(111);
	}
	json_object_set_new(o, "result", json_string(dkim_result_str(r->res)));
	for (k = 0; k < sizeof(s) / sizeof(s[0]); k++)
		if (s[k].val != NULL && s[k].val[0] != '\0')
			json_object_set_new(o, s[k].key, record_str(s[k].val));
	if (r->testing)
		json_object_set_new(o, "testing", json_true());
	return o;
}

/*
 * Signing.
 */

void
dkim_sign_opts_init(struct dkim_sign_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->hc = o->bc = DKIM_RELAXED;
}

/* h= for m: the names of DKIM_SIGN_HEADERS present, each once more than
 * it is present. */
static void
default_headers(const struct msg *m, struct str *h)
{
	struct dkim_span list = { DKIM_SIGN_HEADERS,
	    sizeof(DKIM_SIGN_HEADERS) - 1 }, it;
	char name[64];
	size_t pos = 0, c, j;

	while (next_item(&list, &pos, &it)) {
		span_copy(name, sizeof(name), &it);
		if ((c = msg_count(m, name)) == 0)
			continue;
		for (j = 0; j <= c; j++) {
			if (h->len > 0)
				str_add(h, ":", 1);
			str_add(h, it.p, it.len);
		}
	}
}

char *
dkim_sign_headers(const struct msg *m)
{
	struct str h = { NULL, 0, 0 };

	default_headers(m, &h);
	if (h.p == NULL)
		str_add(&h, "", 0);
	return h.p;
}

static const char *
canon_str(enum dkim_canon c)
{
	return c == DKIM_RELAXED ? "relaxed" : "simple";
}

char *
dkim_sign(const struct msg *m, const struct dkim_privkey *key,
    const struct dkim_sign_opts *o, char *err, size_t errsz)
{
	const struct msg_field *sel[LIMIT_DKIM_HEADERS];
	struct dkim_sig *hs = NULL;
	struct str h = { NULL, 0, 0 }, t[12];
	const char *tags[12];
	struct dkim_span dom, sl, hl;
	unsigned char bh[DKIM_DIGEST_MAX];
	unsigned long long canonlen;
	size_t nt = 0, k, bhlen, pos;
	time_t now = o->now != 0 ? o->now : time(NULL);
	char *b64, *field = NULL, num[32];
	int from = 0;

	memset(t, 0, sizeof(t));
	dom.p = o->domain != NULL ? o->domain : "";
	dom.len = strlen(dom.p);
	sl.p = o->selector != NULL ? o->selector : "";
	sl.len = strlen(sl.p);
	if (!name_ok(&dom)) {
		fail(err, errsz, "bad domain%s", "");
		return NULL;
	}
	if (!name_ok(&sl) || sl.len + dom.len + 12 > 253) {
		fail(err, errsz, "bad selector%s", "");
		return NULL;
	}
	if (msg_count(m, "From") == 0) {
		fail(err, errsz, "no From field%s", "");
		return NULL;
	}
	if (o->headers != NULL)
		str_add(&h, o->headers, strlen(o->headers));
	else
		default_headers(m, &h);
	hs = xmalloc(sizeof(*hs));
	hl.p = h.p != NULL ? h.p : "";
	hl.len = h.len;
	hs->nh = 0;
	pos = 0;
	while (next_item(&hl, &pos, &hs->h[hs->nh])) {
		if (hs->h[hs->nh].len == 0 || memchr(hs->h[hs->nh].p, ';',
		    hs->h[hs->nh].len) != NULL) {
			fail(err, errsz, "bad header list%s", "");
			goto out;
		}
		if (span_icase(&hs->h[hs->nh], "from"))
			from = 1;
		if (++hs->nh == LIMIT_DKIM_HEADERS)
			break;
	}
	if (!from) {
		fail(err, errsz, "From not in the header list%s", "");
		goto out;
	}
	dkim_body_hash(DKIM_SHA256, o->bc, m->body, m->bodylen, -1, bh,
	    &bhlen, &canonlen);

#define TAG(...) do {							\
	char tb_[1024];							\
	snprintf(tb_, sizeof(tb_), __VA_ARGS__);			\
	str_add(&t[nt], tb_, strlen(tb_));				\
	nt++;								\
} while (0)
	TAG("v=1");
	TAG("a=%s", dkim_alg_str(key->alg));
	TAG("c=%s/%s", canon_str(o->hc), canon_str(o->bc));
	TAG("d=%s", dom.p);
	TAG("s=%s", sl.p);
	if (o->identity != NULL) {
		struct dkim_sig chk;
		struct dkim_span iv = { o->identity, strlen(o->identity) };

		snprintf(chk.d, sizeof(chk.d), "%s", dom.p);
		if (sig_ident(&chk, &iv, err, errsz) == -1)
			goto out;
		TAG("i=%s", o->identity);
	}
	TAG("t=%lld", (long long)now);
	if (o->expire > 0)
		TAG("x=%lld", (long long)now + o->expire);
	if (o->length) {
		snprintf(num, sizeof(num), "%llu", canonlen);
		TAG("l=%s", num);
	}
	str_add(&t[nt], "h=", 2);
	str_add(&t[nt], hl.p, hl.len);
	nt++;
	b64 = dkim_base64_encode(bh, bhlen);
	TAG("bh=%s", b64);
	free(b64);
#undef TAG
	for (k = 0; k < nt; k++)
		tags[k] = t[k].p;
	dkim_select_fields(m, hs->h, hs->nh, -1, sel);
	field = dkim_sign_fields(key, o->hc, "DKIM-Signature", tags, nt, sel,
	    hs->nh, 0, err, errsz);
out:
	for (k = 0; k < sizeof(t) / sizeof(t[0]); k++)
		free(t[k].p);
	free(h.p);
	free(hs);
	return field;
}
