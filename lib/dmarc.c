/*
 * dmarc: RFC 9989 policy records, the DNS Tree Walk, alignment.
 *
 * A check keeps its DNS answers in a small table of its own (struct ctx),
 * freed when it returns: the walks of the Author Domain and of the
 * identifiers share most of their names (_dmarc.example.com, _dmarc.com),
 * and each name is asked once per check.  libunbound's cache serves the
 * next message.
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <idn2.h>

#include "dmarc.h"
#include "dns.h"
#include "limit.h"
#include "log.h"
#include "msg.h"
#include "xalloc.h"

/* Names one check may ask about: LIMIT_DMARC_WALKS walks of at most
 * LIMIT_DMARC_WALK names each, and the Author Domain's existence. */
#define MAXQ	(LIMIT_DMARC_WALK * LIMIT_DMARC_WALKS + 1)

#define FROM_ADDR_MAX	1024	/* bytes of one addr-spec read from From */
#define FROM_DEPTH	32	/* nested comments in From */

/* ------------------------------------------------------------------ */
/* The record                                                          */
/* ------------------------------------------------------------------ */

static int
is_wsp(int c)
{
	return c == ' ' || c == '\t';
}

static int
is_alpha(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static int
is_digit(int c)
{
	return c >= '0' && c <= '9';
}

/* Note a syntax error: counted always, its text kept while it fits.
 * Bytes that are not printable ASCII are written \xNN. */
static void __attribute__((format(printf, 2, 3)))
note(struct dmarc_record *rec, const char *fmt, ...)
{
	char buf[128], esc[128];
	size_t o = strlen(rec->errors);
	va_list ap;

	rec->nerrors++;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	log_escape(esc, sizeof(esc), buf, strlen(buf));
	if (o + strlen(esc) + 3 >= sizeof(rec->errors))
		return;
	snprintf(rec->errors + o, sizeof(rec->errors) - o, "%s%s",
	    o > 0 ? "; " : "", esc);
}

/* Does the n-byte value equal word, ignoring ASCII case? */
static int
word_is(const unsigned char *v, size_t n, const char *word)
{
	return strlen(word) == n && strncasecmp((const char *)v, word, n) == 0;
}

static enum dmarc_policy
policy_value(struct dmarc_record *rec, const char *tag,
    const unsigned char *v, size_t n)
{
	if (word_is(v, n, "none"))
		return DMARC_POLICY_NONE;
	if (word_is(v, n, "quarantine"))
		return DMARC_POLICY_QUARANTINE;
	if (word_is(v, n, "reject"))
		return DMARC_POLICY_REJECT;
	note(rec, "%s=%.*s: not none, quarantine or reject", tag,
	    (int)(n > 32 ? 32 : n), (const char *)v);
	return DMARC_POLICY_INVALID;
}

/* One character of a URI (RFC 3986 2): unreserved, reserved or '%';
 * "," and "!" must be encoded in a DMARC URI (RFC 9989 4.8). */
static int
uri_char(int c)
{
	if (is_alpha(c) || is_digit(c))
		return 1;
	return c != '\0' && strchr("-._~:/?#[]@$&'()*+;=%", c) != NULL;
}

/* A dmarc-uri, with the obsolete "!size" suffix (RFC 9989 4.8) cut off
 * into *urilen.  Returns 1 if valid. */
static int
uri_valid(const unsigned char *u, size_t n, size_t *urilen)
{
	size_t i, bang = n;

	for (i = 0; i < n; i++)
		if (u[i] == '!') {
			bang = i;
			break;
		}
	if (bang < n) {
		/* obs-dmarc-report-size = "!" 1*DIGIT [ "k" / "m" / "g" / "t" ] */
		i = bang + 1;
		if (i >= n || !is_digit(u[i]))
			return 0;
		while (i < n && is_digit(u[i]))
			i++;
		if (i < n && strchr("kmgtKMGT", u[i]) != NULL)
			i++;
		if (i != n)
			return 0;
	}
	n = bang;
	/* scheme ":" then something */
	if (n == 0 || !is_alpha(u[0]))
		return 0;
	for (i = 1; i < n && u[i] != ':'; i++)
		if (!is_alpha(u[i]) && !is_digit(u[i]) &&
		    strchr("+-.", u[i]) == NULL)
			return 0;
	if (i >= n - 1 || u[i] != ':')
		return 0;
	for (i++; i < n; i++) {
		if (!uri_char(u[i]))
			return 0;
		if (u[i] == '%' && (i + 2 >= n ||
		    !strchr("0123456789abcdefABCDEF", u[i + 1]) ||
		    !strchr("0123456789abcdefABCDEF", u[i + 2]) ||
		    u[i + 1] == '\0' || u[i + 2] == '\0'))
			return 0;
	}
	*urilen = n;
	return 1;
}

/* rua= and ruf=: the valid URIs into out (size LIMIT_DMARC_RECORD, which
 * the whole record fits), "," between; *count of them. */
static void
uri_list(struct dmarc_record *rec, const char *tag, const unsigned char *v,
    size_t n, char *out, int *count)
{
	size_t i = 0, j, a, b, ulen, o = 0;

	*count = 0;
	out[0] = '\0';
	while (i <= n) {
		for (j = i; j < n && v[j] != ','; j++)
			;
		a = i;
		b = j;
		while (a < b && is_wsp(v[a]))
			a++;
		while (b > a && is_wsp(v[b - 1]))
			b--;
		if (a == b)
			note(rec, "%s=: empty URI", tag);
		else if (!uri_valid(v + a, b - a, &ulen))
			note(rec, "%s=: bad URI %.*s", tag,
			    (int)(b - a > 40 ? 40 : b - a), (const char *)v + a);
		else if (o + ulen + 2 < LIMIT_DMARC_RECORD) {
			if (o > 0)
				out[o++] = ',';
			memcpy(out + o, v + a, ulen);
			o += ulen;
			out[o] = '\0';
			(*count)++;
		}
		i = j + 1;
	}
}

/* fo=: colon-separated 0, 1, d, s; each at most once, 0 and 1 not both. */
static void
fo_value(struct dmarc_record *rec, const unsigned char *v, size_t n)
{
	char out[sizeof(rec->fo)];
	unsigned seen = 0, bit;
	size_t i = 0, o = 0;
	int c;

	while (i < n) {
		while (i < n && is_wsp(v[i]))
			i++;
		c = i < n ? v[i] : '\0';
		if (c == 'D')
			c = 'd';
		if (c == 'S')
			c = 's';
		if (c == '\0' || strchr("01ds", c) == NULL)
			goto bad;
		bit = c == '0' ? 1 : c == '1' ? 2 : c == 'd' ? 4 : 8;
		if (seen & bit)
			goto bad;
		seen |= bit;
		if (o + 3 > sizeof(out))
			goto bad;
		if (o > 0)
			out[o++] = ':';
		out[o++] = (char)c;
		for (i++; i < n && is_wsp(v[i]); i++)
			;
		if (i < n && v[i] != ':')
			goto bad;
		if (i < n && ++i == n)
			goto bad;	/* a final ':' */
	}
	if ((seen & 3) == 3 || o == 0)
		goto bad;
	out[o] = '\0';
	memcpy(rec->fo, out, o + 1);
	return;
bad:
	note(rec, "fo=%.*s: bad value", (int)(n > 32 ? 32 : n),
	    (const char *)v);
}

/* Tags with a meaning; the order of their bits in "seen". */
static const char *const known[] = {
	"v", "p", "sp", "np", "adkim", "aspf", "psd", "t", "pct", "fo",
	"rua", "ruf", "rf", "ri",
};

static void
tag(struct dmarc_record *rec, const unsigned char *name, size_t nlen,
    const unsigned char *v, size_t n, unsigned *seen)
{
	char t[8];
	size_t k, i;

	for (k = 0; k < sizeof(known) / sizeof(known[0]); k++)
		if (word_is(name, nlen, known[k]))
			break;
	if (k == sizeof(known) / sizeof(known[0]))
		return;		/* unknown tags MUST be ignored (4.7) */
	for (i = 0; i < nlen; i++)
		t[i] = (char)(name[i] | 0x20);
	t[nlen] = '\0';
	if (*seen & (1u << k)) {
		note(rec, "%s= given twice: the first one counts", t);
		return;
	}
	*seen |= 1u << k;
	if (strcmp(t, "p") == 0)
		rec->p = policy_value(rec, t, v, n);
	else if (strcmp(t, "sp") == 0)
		rec->sp = policy_value(rec, t, v, n);
	else if (strcmp(t, "np") == 0)
		rec->np = policy_value(rec, t, v, n);
	else if (strcmp(t, "adkim") == 0 || strcmp(t, "aspf") == 0) {
		enum dmarc_mode *m = t[1] == 'd' ? &rec->adkim : &rec->aspf;

		if (word_is(v, n, "r"))
			*m = DMARC_MODE_RELAXED;
		else if (word_is(v, n, "s"))
			*m = DMARC_MODE_STRICT;
		else
			note(rec, "%s=%.*s: not r or s", t,
			    (int)(n > 32 ? 32 : n), (const char *)v);
	} else if (strcmp(t, "psd") == 0) {
		if (word_is(v, n, "y"))
			rec->psd = DMARC_PSD_Y;
		else if (word_is(v, n, "n"))
			rec->psd = DMARC_PSD_N;
		else if (word_is(v, n, "u"))
			rec->psd = DMARC_PSD_U;
		else
			note(rec, "psd=%.*s: not y, n or u",
			    (int)(n > 32 ? 32 : n), (const char *)v);
	} else if (strcmp(t, "t") == 0) {
		if (word_is(v, n, "y"))
			rec->t_tag = 1;
		else if (word_is(v, n, "n"))
			rec->t_tag = 0;
		else
			note(rec, "t=%.*s: not y or n",
			    (int)(n > 32 ? 32 : n), (const char *)v);
	} else if (strcmp(t, "pct") == 0) {
		int val = 0;

		for (i = 0; i < n && i < 4 && is_digit(v[i]); i++)
			val = val * 10 + (v[i] - '0');
		if (n == 0 || i != n || n > 3 || val > 100)
			note(rec, "pct=%.*s: not 0 to 100",
			    (int)(n > 32 ? 32 : n), (const char *)v);
		else
			rec->pct = val;
	} else if (strcmp(t, "fo") == 0)
		fo_value(rec, v, n);
	else if (strcmp(t, "rua") == 0)
		uri_list(rec, t, v, n, rec->rua, &rec->nrua);
	else if (strcmp(t, "ruf") == 0)
		uri_list(rec, t, v, n, rec->ruf, &rec->nruf);
	else if (strcmp(t, "v") == 0)
		note(rec, "v= not first");
	/* rf= and ri= (RFC 7489, historic): accepted, not used. */
}

int
dmarc_parse_record(const void *txt, size_t len, struct dmarc_record *rec)
{
	const unsigned char *s = txt;
	size_t i = 0, a, b, e, nb;
	unsigned seen = 1;	/* v */

	memset(rec, 0, sizeof(*rec));
	rec->adkim = rec->aspf = DMARC_MODE_RELAXED;
	rec->psd = DMARC_PSD_U;
	rec->t_tag = -1;
	rec->pct = -1;
	memcpy(rec->fo, "0", 2);
	if (len > LIMIT_DMARC_RECORD) {
		note(rec, "record over %d bytes", LIMIT_DMARC_RECORD);
		return -1;
	}
	/* dmarc-version = "v" equals %s"DMARC1": the v tag first, its value
	 * case-sensitive (4.7); anything else is not a DMARC record. */
	if (len == 0 || (s[0] != 'v' && s[0] != 'V'))
		goto notdmarc;
	for (i = 1; i < len && is_wsp(s[i]); i++)
		;
	if (i == len || s[i] != '=')
		goto notdmarc;
	for (i++; i < len && is_wsp(s[i]); i++)
		;
	if (len - i < 6 || memcmp(s + i, "DMARC1", 6) != 0)
		goto notdmarc;
	for (i += 6; i < len && is_wsp(s[i]); i++)
		;
	if (i < len && s[i] != ';')
		goto notdmarc;

	/* dmarc-sep dmarc-tag ... [dmarc-sep]; each tag up to the next ';'
	 * (a value holds no ';'). */
	while (i < len) {
		i++;		/* the ';' */
		for (e = i; e < len && s[e] != ';'; e++)
			;
		a = i;
		b = e;
		i = e;
		while (a < b && is_wsp(s[a]))
			a++;
		while (b > a && is_wsp(s[b - 1]))
			b--;
		if (a == b)
			continue;	/* ";;" or a final ";" */
		for (nb = a; nb < b && is_alpha(s[nb]); nb++)
			;
		if (nb == a || nb - a > 5) {
			size_t eq;

			for (eq = a; eq < b && s[eq] != '='; eq++)
				;
			if (eq == b)
				note(rec, "%.*s: not a tag=value pair",
				    (int)(b - a > 32 ? 32 : b - a),
				    (const char *)s + a);
			else if (nb == a || nb < eq) {
				size_t k = nb;

				while (k < eq && is_wsp(s[k]))
					k++;
				if (k != eq || nb == a)
					note(rec, "%.*s: bad tag name",
					    (int)(eq - a > 32 ? 32 : eq - a),
					    (const char *)s + a);
			}
			/* a long alphabetic name: unknown, ignored */
			continue;
		}
		{
			size_t k = nb, v;

			while (k < b && is_wsp(s[k]))
				k++;
			if (k == b || s[k] != '=') {
				note(rec, "%.*s: not a tag=value pair",
				    (int)(b - a > 32 ? 32 : b - a),
				    (const char *)s + a);
				continue;
			}
			for (v = k + 1; v < b && is_wsp(s[v]); v++)
				;
			if (v == b) {
				note(rec, "%.*s=: empty value", (int)(nb - a),
				    (const char *)s + a);
				continue;
			}
			/* dmarc-value = %x20-3A / %x3C-7E (tab too: the
			 * lists take *WSP around ",") */
			for (k = v; k < b; k++)
				if ((s[k] < 0x20 && s[k] != '\t') || s[k] > 0x7e)
					break;
			if (k < b) {
				note(rec, "%.*s=: bad character", (int)(nb - a),
				    (const char *)s + a);
				continue;
			}
			tag(rec, s + a, nb - a, s + v, b - v, &seen);
		}
	}
	/* RFC 9989 A.6: t=y and t=n stand for the old pct=0 and pct=100;
	 * a record with only pct= is read that way (0 testing, else not). */
	if (rec->t_tag >= 0)
		rec->t = rec->t_tag;
	else
		rec->t = rec->pct == 0;
	return 0;
notdmarc:
	note(rec, "not a DMARC record (no v=DMARC1 first)");
	return -1;
}

/* ------------------------------------------------------------------ */
/* Names                                                               */
/* ------------------------------------------------------------------ */

/*
 * A domain as DMARC compares it: lower case, without a final dot;
 * letters, digits, '-' and '_', labels of 1 to 63, 253 at most.  Anything
 * else (U-labels, address literals) is no domain here.  Returns 0 or -1.
 */
static int
domain_norm(const char *in, char *out, size_t outsz)
{
	size_t n = strlen(in), i, label = 0;
	int c;

	if (n > 0 && in[n - 1] == '.')
		n--;
	if (n == 0 || n > 253 || n >= outsz)
		return -1;
	for (i = 0; i < n; i++) {
		c = (unsigned char)in[i];
		if (c == '.') {
			if (label == 0)
				return -1;
			label = 0;
		} else if (is_alpha(c) || is_digit(c) || c == '-' ||
		    c == '_') {
			if (++label > 63)
				return -1;
		} else
			return -1;
		out[i] = (char)(c >= 'A' && c <= 'Z' ? c | 0x20 : c);
	}
	if (label == 0)
		return -1;
	out[n] = '\0';
	return 0;
}

static int
nlabels(const char *d)
{
	int n = 1;

	for (; *d != '\0'; d++)
		n += *d == '.';
	return n;
}

/* The last n labels of d (all of d when it has no more). */
static const char *
suffix(const char *d, int n)
{
	int skip = nlabels(d) - n;

	while (skip-- > 0)
		d = strchr(d, '.') + 1;
	return d;
}

/* Is s, label for label, the end of d (or d itself)? */
static int
is_suffix(const char *s, const char *d)
{
	size_t ns = strlen(s), nd = strlen(d);

	if (ns > nd || strcmp(d + nd - ns, s) != 0)
		return 0;
	return ns == nd || d[nd - ns - 1] == '.';
}

/* ------------------------------------------------------------------ */
/* DNS                                                                 */
/* ------------------------------------------------------------------ */

/* One name's answer: _dmarc.NAME TXT, or NAME A for existence. */
struct entry {
	char name[DMARC_DOMAIN_MAX];
	int type;		/* DNS_T_TXT or DNS_T_A */
	enum dns_status st;
	int nvalid;		/* DMARC records in the answer */
	enum dmarc_psd psd;	/* of the one record */
	char *txt;		/* the one record, when nvalid is 1 */
	size_t txtlen;
	char why[64];		/* TEMPFAIL, PERMFAIL */
};

struct ctx {
	struct dns *dns;
	struct entry *e;
	int n;
	int queries;
	int walks;
	struct dmarc_record tmp;	/* scratch for parsing in answers */
};

static void
txt_cb(void *arg, const struct dns_answer *a)
{
	struct ctx *c = arg;
	struct entry *e = &c->e[c->n];
	int i;

	e->st = a->status;
	if (a->status == DNS_TEMPFAIL || a->status == DNS_PERMFAIL) {
		snprintf(e->why, sizeof(e->why), "%s",
		    a->why != NULL ? a->why : dns_status_str(a->status));
		return;
	}
	if (e->type != DNS_T_TXT)
		return;
	for (i = 0; i < a->nrr; i++) {
		const struct dns_rr *rr = &a->rr[i];

		if (rr->type != DNS_T_TXT ||
		    dmarc_parse_record(rr->data, rr->len, &c->tmp) == -1)
			continue;	/* other TXT records are discarded */
		if (++e->nvalid == 1) {
			e->psd = c->tmp.psd;
			e->txt = xmemdup(rr->data, rr->len);
			e->txtlen = rr->len;
		}
	}
	/* An answer cut at DNS_MAX_RECORDS may hide more records. */
	if (a->truncated && e->nvalid > 0)
		e->nvalid++;
	if (e->nvalid > 1) {
		free(e->txt);
		e->txt = NULL;
	}
}

/* The answer for name (type DNS_T_TXT: at _dmarc.name), asked once per
 * check. */
static struct entry *
lookup(struct ctx *c, const char *name, int type)
{
	char q[DNS_NAME_MAX + 8];
	struct entry *e;
	int i;

	for (i = 0; i < c->n; i++)
		if (c->e[i].type == type && strcmp(c->e[i].name, name) == 0)
			return &c->e[i];
	if (c->n == MAXQ)
		bug("dmarc: more than %d names in one check", MAXQ);
	e = &c->e[c->n];
	memset(e, 0, sizeof(*e));
	snprintf(e->name, sizeof(e->name), "%s", name);
	e->type = type;
	snprintf(q, sizeof(q), "%s%s", type == DNS_T_TXT ? "_dmarc." : "",
	    name);
	if (strlen(q) > 253) {
		/* "_dmarc." and a long name do not fit in a DNS name:
		 * nothing can be published there. */
		e->st = DNS_NXDOMAIN;
	} else {
		c->queries++;
		if (dns_query_sync(c->dns, q, type, txt_cb, c) == -1) {
			if (errno == EINVAL)
				e->st = DNS_NXDOMAIN;
			else {
				e->st = DNS_TEMPFAIL;
				snprintf(e->why, sizeof(e->why), "%s",
				    strerror(errno));
			}
		}
	}
	c->n++;
	return e;
}

static void
ctx_init(struct ctx *c, struct dns *dns)
{
	memset(c, 0, sizeof(*c));
	c->dns = dns;
	c->e = xcalloc(MAXQ, sizeof(*c->e));
}

static void
ctx_free(struct ctx *c)
{
	int i;

	for (i = 0; i < c->n; i++)
		free(c->e[i].txt);
	free(c->e);
}

/* ------------------------------------------------------------------ */
/* The DNS Tree Walk (RFC 9989 4.10)                                   */
/* ------------------------------------------------------------------ */

struct walk {
	enum dmarc_result err;	/* DMARC_NONE, or TEMPERROR / PERMERROR
				 * when a query failed: org unknown */
	struct entry *failed;	/* that query */
	int nfound;		/* names with one valid record, longest
				 * first */
	struct entry *found[LIMIT_DMARC_WALK];
	struct entry *stop;	/* the psd=y or psd=n record that ended it */
	char org[DMARC_DOMAIN_MAX];
};

/*
 * Walk from start: start itself, then labels off the left, jumping once
 * to the 7 rightmost when start has more than 8, up to the last label:
 * 8 queries at most.  A record with psd=y or psd=n ends it.  Then the
 * Organizational Domain, from the records found longest first (4.10.2):
 * psd=n names itself; psd=y, if not at start, names the domain one label
 * below it; otherwise the record with the fewest labels; none: start.
 */
static void
walk(struct ctx *c, const char *start, struct walk *w)
{
	const char *name = start;
	struct entry *e;
	int x = nlabels(start), k;

	memset(w, 0, sizeof(*w));
	c->walks++;
	for (;;) {
		e = lookup(c, name, DNS_T_TXT);
		if (e->st == DNS_TEMPFAIL || e->st == DNS_PERMFAIL) {
			w->err = e->st == DNS_TEMPFAIL ? DMARC_TEMPERROR :
			    DMARC_PERMERROR;
			w->failed = e;
			return;
		}
		if (e->nvalid == 1) {
			w->found[w->nfound++] = e;
			if (e->psd != DMARC_PSD_U) {
				w->stop = e;
				break;
			}
		}
		k = nlabels(name);
		if (k <= 1)
			break;
		if (name == start && x > LIMIT_DMARC_WALK)
			name = suffix(start, LIMIT_DMARC_WALK - 1);
		else
			name = suffix(name, k - 1);
	}
	if (w->stop != NULL && w->stop->psd == DMARC_PSD_N)
		name = w->stop->name;
	else if (w->stop != NULL && strcmp(w->stop->name, start) != 0)
		name = suffix(start, nlabels(w->stop->name) + 1);
	else if (w->nfound > 0)
		name = w->found[w->nfound - 1]->name;
	else
		name = start;
	snprintf(w->org, sizeof(w->org), "%s", name);
}

int
dmarc_org_domain(struct dns *dns, const char *domain, char *org,
    size_t orgsz)
{
	char d[DMARC_DOMAIN_MAX];
	struct ctx c;
	struct walk w;
	int ret = 0;

	if (domain == NULL || domain_norm(domain, d, sizeof(d)) == -1) {
		errno = EINVAL;
		return -1;
	}
	ctx_init(&c, dns);
	walk(&c, d, &w);
	if (w.err != DMARC_NONE) {
		errno = w.err == DMARC_TEMPERROR ? EAGAIN : EBADMSG;
		ret = -1;
	} else if ((size_t)snprintf(org, orgsz, "%s", w.org) >= orgsz) {
		errno = ERANGE;
		ret = -1;
	}
	ctx_free(&c);
	return ret;
}

/* ------------------------------------------------------------------ */
/* The check                                                           */
/* ------------------------------------------------------------------ */

struct check {
	struct ctx c;
	const char *author;
	int have_org;		/* org of the author walked */
	struct walk aw;		/* that walk */
	int limited;		/* an identifier left out: walk limit */
};

/* The Author Domain's Organizational Domain, walked once. */
static const struct walk *
author_org(struct check *k)
{
	if (!k->have_org) {
		walk(&k->c, k->author, &k->aw);
		k->have_org = 1;
	}
	return &k->aw;
}

enum { AL_NO, AL_YES, AL_TEMP, AL_PERM };

/* Is identifier id (normalized) aligned with the Author Domain? */
static int
aligned(struct check *k, const char *id, enum dmarc_mode mode)
{
	const struct walk *aw;
	struct walk w;

	if (strcmp(id, k->author) == 0)
		return AL_YES;
	if (mode == DMARC_MODE_STRICT)
		return AL_NO;
	aw = author_org(k);
	if (aw->err != DMARC_NONE)
		return aw->err == DMARC_TEMPERROR ? AL_TEMP : AL_PERM;
	/* The identifier's Organizational Domain is one of its suffixes:
	 * if the Author Domain's is not, they differ, and no walk is
	 * needed. */
	if (!is_suffix(aw->org, id))
		return AL_NO;
	if (k->c.walks >= LIMIT_DMARC_WALKS) {
		k->limited = 1;
		return AL_NO;
	}
	walk(&k->c, id, &w);
	if (w.err != DMARC_NONE)
		return w.err == DMARC_TEMPERROR ? AL_TEMP : AL_PERM;
	return strcmp(w.org, aw->org) == 0 ? AL_YES : AL_NO;
}

static int
is_word(const char *s, const char *word)
{
	return s != NULL && strcasecmp(s, word) == 0;
}

/* One mechanism's identifier: fold its outcome into *out. */
static void
align_one(struct check *k, const char *domain, const char *result,
    enum dmarc_mode mode, enum dmarc_align *out, int *perm, char *aligned_d)
{
	char d[DMARC_DOMAIN_MAX];
	int pass = is_word(result, "pass");
	int r;

	if (*out == DMARC_ALIGN_PASS)
		return;
	if (!pass && !is_word(result, "temperror"))
		return;		/* no authenticated identifier */
	if (domain == NULL || domain_norm(domain, d, sizeof(d)) == -1) {
		if (pass && *out == DMARC_ALIGN_NONE)
			*out = DMARC_ALIGN_FAIL;
		return;
	}
	r = aligned(k, d, mode);
	if (r == AL_YES && pass) {
		*out = DMARC_ALIGN_PASS;
		if (aligned_d != NULL)
			snprintf(aligned_d, DMARC_DOMAIN_MAX, "%s", d);
	} else if (r == AL_YES || r == AL_TEMP)
		/* a temperror that would align, or an alignment that DNS
		 * did not let us settle */
		*out = DMARC_ALIGN_TEMPERROR;
	else if (r == AL_PERM) {
		*perm = 1;
		if (*out == DMARC_ALIGN_NONE)
			*out = DMARC_ALIGN_FAIL;
	} else if (pass && *out == DMARC_ALIGN_NONE)
		*out = DMARC_ALIGN_FAIL;
}

static void __attribute__((format(printf, 2, 3)))
reason(struct dmarc_response *rs, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(rs->reason, sizeof(rs->reason), fmt, ap);
	va_end(ap);
}

static enum dmarc_policy
lower(enum dmarc_policy p)
{
	return p == DMARC_POLICY_REJECT ? DMARC_POLICY_QUARANTINE :
	    DMARC_POLICY_NONE;
}

static int
policy_set(enum dmarc_policy p)
{
	return p == DMARC_POLICY_NONE || p == DMARC_POLICY_QUARANTINE ||
	    p == DMARC_POLICY_REJECT;
}

int
dmarc_check(struct dns *dns, const struct dmarc_request *rq,
    struct dmarc_response *rs)
{
	struct check k;
	struct entry *pe, *ae;
	struct walk *w = NULL;
	enum dmarc_policy p, sp, np;
	int perm = 0, exists = -1, i;
	size_t j;

	if (rq == NULL || rs == NULL || rq->from_domain == NULL ||
	    (rq->dkim == NULL && rq->ndkim > 0)) {
		errno = EINVAL;
		return -1;
	}
	memset(rs, 0, sizeof(*rs));
	rs->disposition = DMARC_POLICY_NONE;	/* whatever the result */
	if (domain_norm(rq->from_domain, rs->domain, sizeof(rs->domain))
	    == -1) {
		rs->domain[0] = '\0';	/* a prefix may have been written */
		rs->result = DMARC_PERMERROR;
		log_escape(rs->reason, sizeof(rs->reason), "no Author Domain: ",
		    18);
		log_escape(rs->reason + strlen(rs->reason),
		    sizeof(rs->reason) - strlen(rs->reason), rq->from_domain,
		    strlen(rq->from_domain));
		if (rq->from_domain[0] == '\0')
			reason(rs, "no Author Domain");
		return 0;
	}
	memset(&k, 0, sizeof(k));
	ctx_init(&k.c, dns);
	k.author = rs->domain;

	/* Policy discovery (4.10.1): the Author Domain's own record, else
	 * the walk's Organizational Domain's, else its PSD's. */
	ae = pe = lookup(&k.c, rs->domain, DNS_T_TXT);
	if (pe->st == DNS_TEMPFAIL || pe->st == DNS_PERMFAIL) {
		rs->result = pe->st == DNS_TEMPFAIL ? DMARC_TEMPERROR :
		    DMARC_PERMERROR;
		reason(rs, "_dmarc.%s: %s", pe->name, pe->why);
		goto out;
	}
	if (pe->nvalid == 1) {
		rs->source = DMARC_SOURCE_P;
	} else {
		w = &k.aw;
		author_org(&k);
		if (w->err != DMARC_NONE) {
			rs->result = w->err;
			reason(rs, "_dmarc.%s: %s", w->failed->name,
			    w->failed->why);
			goto out;
		}
		if (w->nfound == 0) {
			rs->result = DMARC_NONE;
			if (ae->nvalid > 1)
				reason(rs, "%d records at _dmarc.%s: none "
				    "counts", ae->nvalid, ae->name);
			else
				reason(rs, "no policy record");
			goto out;
		}
		pe = NULL;
		for (i = 0; i < w->nfound; i++)
			if (strcmp(w->found[i]->name, w->org) == 0)
				pe = w->found[i];
		if (pe == NULL)		/* the PSD's (psd=y) */
			pe = w->stop != NULL ? w->stop :
			    w->found[w->nfound - 1];
		rs->source = DMARC_SOURCE_SP;
	}
	snprintf(rs->policy_domain, sizeof(rs->policy_domain), "%s",
	    pe->name);
	if (k.have_org && k.aw.err == DMARC_NONE)
		snprintf(rs->org_domain, sizeof(rs->org_domain), "%s",
		    k.aw.org);
	if (dmarc_parse_record(pe->txt, pe->txtlen, &rs->rec) == -1)
		bug("dmarc: record of _dmarc.%s no longer parses", pe->name);
	rs->have_record = 1;

	/* 4.10.1: without a valid p=, or with an sp= or np= not valid,
	 * the record counts as p=none if it has a valid rua=, else DMARC
	 * does not apply. */
	if (!policy_set(rs->rec.p) || rs->rec.sp == DMARC_POLICY_INVALID ||
	    rs->rec.np == DMARC_POLICY_INVALID) {
		if (rs->rec.nrua == 0) {
			rs->result = DMARC_NONE;
			rs->have_record = 0;
			rs->source = DMARC_SOURCE_NONE;
			reason(rs, "record at _dmarc.%s without a valid p= "
			    "and without rua=: DMARC does not apply",
			    pe->name);
			rs->policy_domain[0] = '\0';
			goto out;
		}
		p = sp = np = DMARC_POLICY_NONE;
	} else {
		p = rs->rec.p;
		sp = policy_set(rs->rec.sp) ? rs->rec.sp : p;
		np = policy_set(rs->rec.np) ? rs->rec.np : sp;
	}

	/* Alignment (4.4, 4.10.2): SPF, then DKIM, identical names first
	 * (no DNS), so that a walk is made only when it can matter. */
	rs->spf = DMARC_ALIGN_NONE;
	rs->dkim = DMARC_ALIGN_NONE;
	align_one(&k, rq->spf_domain, rq->spf_result, rs->rec.aspf, &rs->spf,
	    &perm, NULL);
	for (j = 0; j < rq->ndkim && rs->dkim != DMARC_ALIGN_PASS; j++) {
		char d[DMARC_DOMAIN_MAX];

		if (rq->dkim[j].d != NULL && is_word(rq->dkim[j].result,
		    "pass") && domain_norm(rq->dkim[j].d, d, sizeof(d)) == 0 &&
		    strcmp(d, rs->domain) == 0)
			align_one(&k, d, "pass", rs->rec.adkim, &rs->dkim,
			    &perm, rs->dkim_domain);
	}
	for (j = 0; j < rq->ndkim && rs->dkim != DMARC_ALIGN_PASS; j++)
		align_one(&k, rq->dkim[j].d, rq->dkim[j].result, rs->rec.adkim,
		    &rs->dkim, &perm, rs->dkim_domain);
	if (rs->org_domain[0] == '\0' && k.have_org && k.aw.err == DMARC_NONE)
		snprintf(rs->org_domain, sizeof(rs->org_domain), "%s",
		    k.aw.org);

	if (rs->spf == DMARC_ALIGN_PASS || rs->dkim == DMARC_ALIGN_PASS)
		rs->result = DMARC_PASS;
	else if (rs->spf == DMARC_ALIGN_TEMPERROR ||
	    rs->dkim == DMARC_ALIGN_TEMPERROR)
		rs->result = DMARC_TEMPERROR;
	else if (perm)
		rs->result = DMARC_PERMERROR;
	else
		rs->result = DMARC_FAIL;

	/* Which tag applies (4.10.1): p at the Author Domain; below, np
	 * for a non-existent Author Domain (NXDOMAIN, RFC 8020), sp for an
	 * existing one, p without them.  Existence is asked only when it
	 * changes the answer, and only the fail result needs it to be
	 * settled. */
	if (rs->source == DMARC_SOURCE_P)
		rs->policy = p;
	else {
		if (policy_set(rs->rec.np) && np != sp) {
			/* _dmarc.D answered with data or NODATA: the name
			 * exists, so does D (RFC 8020). */
			if (ae->st == DNS_OK || ae->st == DNS_NODATA)
				exists = 1;
			else {
				struct entry *x = lookup(&k.c, rs->domain,
				    DNS_T_A);

				if (x->st == DNS_NXDOMAIN)
					exists = 0;
				else if (x->st == DNS_OK || x->st == DNS_NODATA)
					exists = 1;
				else if (rs->result == DMARC_FAIL) {
					rs->result = x->st == DNS_TEMPFAIL ?
					    DMARC_TEMPERROR : DMARC_PERMERROR;
					reason(rs, "%s: %s", x->name, x->why);
				}
			}
		}
		if (exists == 0) {
			rs->source = DMARC_SOURCE_NP;
			rs->policy = np;
		} else if (policy_set(rs->rec.sp)) {
			rs->source = DMARC_SOURCE_SP;
			rs->policy = sp;
		} else {
			rs->source = DMARC_SOURCE_P;
			rs->policy = p;
		}
	}

	rs->disposition = DMARC_POLICY_NONE;
	if (rs->result == DMARC_FAIL) {
		rs->disposition = rs->policy;
		if (rs->rec.t && rs->policy != DMARC_POLICY_NONE) {
			rs->disposition = lower(rs->policy);
			rs->testing = 1;
		}
	}
	if (rs->reason[0] != '\0')
		goto out;
	switch (rs->result) {
	case DMARC_PASS:
		if (rs->dkim == DMARC_ALIGN_PASS)
			reason(rs, "aligned DKIM pass d=%s", rs->dkim_domain);
		else
			reason(rs, "aligned SPF pass");
		break;
	case DMARC_FAIL:
		reason(rs, "no aligned pass%s; %s=%s%s from _dmarc.%s",
		    k.limited ? " (identifiers over the walk limit left out)" :
		    "", dmarc_source_str(rs->source),
		    dmarc_policy_str(rs->policy), rs->testing ? " t=y" : "",
		    rs->policy_domain);
		break;
	case DMARC_TEMPERROR:
		reason(rs, "alignment not settled: DNS failure");
		break;
	default:
		reason(rs, "alignment not settled: bad DNS answer");
		break;
	}
out:
	rs->queries = k.c.queries;
	ctx_free(&k.c);
	return 0;
}

/* ------------------------------------------------------------------ */
/* The From field                                                      */
/* ------------------------------------------------------------------ */

/* A domain with U-labels (SMTPUTF8 mail: RFC 6532) into A-labels, in
 * place, as the DNS names its records (IDNA2008, with UTS #46 mapping,
 * non-transitional).  0, or -1 for a name IDNA refuses. */
static int
idna(char d[DMARC_DOMAIN_MAX])
{
	const unsigned char *p;
	char *a = NULL;
	size_t n;

	for (p = (const unsigned char *)d; *p != '\0' && *p < 0x80; p++)
		;
	if (*p == '\0')
		return 0;
	if (idn2_to_ascii_8z(d, &a, IDN2_NONTRANSITIONAL | IDN2_NFC_INPUT) !=
	    IDN2_OK)
		return -1;
	n = strlen(a);
	if (n == 0 || n > 253) {
		idn2_free(a);
		return -1;
	}
	for (p = (const unsigned char *)a; *p != '\0'; p++)
		d[p - (const unsigned char *)a] = (char)tolower(*p);
	d[n] = '\0';
	idn2_free(a);
	return 0;
}

/* Add the domain of addr-spec a (n bytes: quoted strings kept, comments
 * and spaces out) to dom.  Returns 0 (added or already there), 1 (no '@':
 * not an address), -1 (bad). */
static int
from_addr(const char *a, size_t n, char dom[][DMARC_DOMAIN_MAX], size_t max,
    size_t *nd, int *over)
{
	char d[DMARC_DOMAIN_MAX];
	size_t i, at = n, o = 0;
	int q = 0;

	for (i = 0; i < n; i++) {
		if (a[i] == '\\' && q)
			i++;
		else if (a[i] == '"')
			q = !q;
		else if (a[i] == '@' && !q)
			at = i;
	}
	if (at == n)
		return 1;
	if (at == 0)
		return -1;
	a += at + 1;
	n -= at + 1;
	if (n > 0 && a[n - 1] == '.')
		n--;
	if (n == 0 || n > 253 || a[0] == '[')
		return -1;	/* no domain, or a domain literal */
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)a[i];

		if (c == '.' && (i == 0 || a[i - 1] == '.'))
			return -1;
		if (c < 0x80 && !is_alpha(c) && !is_digit(c) &&
		    strchr(".-_!#$%&'*+/=?^`{|}~", c) == NULL)
			return -1;
		d[o++] = (char)(c >= 'A' && c <= 'Z' ? c | 0x20 : c);
	}
	d[o] = '\0';
	if (idna(d) == -1)
		return -1;
	o = strlen(d);
	for (i = 0; i < *nd; i++)
		if (strcmp(dom[i], d) == 0)
			return 0;
	if (*nd < max)
		memcpy(dom[(*nd)++], d, o + 1);
	else
		*over = 1;
	return 0;
}

enum dmarc_from
dmarc_from_parse(const char *v, size_t len, char dom[][DMARC_DOMAIN_MAX],
    size_t max, size_t *n)
{
	char buf[FROM_ADDR_MAX];
	size_t i, o = 0;
	int depth = 0, q = 0, angle = 0, had_angle = 0, group = 0;
	int bad = 0, over = 0, r;
	unsigned char c;

	*n = 0;
	for (i = 0; i <= len && !bad; i++) {
		c = i < len ? (unsigned char)v[i] : '\0';
		if (depth > 0) {		/* in a comment */
			if (c == '\\' && i + 1 < len)
				i++;
			else if (c == '(') {
				if (++depth > FROM_DEPTH)
					bad = 1;
			} else if (c == ')')
				depth--;
			else if (c == '\0')
				bad = 1;
			continue;
		}
		if (q) {			/* in a quoted string */
			if (c == '\0') {
				bad = 1;
				continue;
			}
			if (!had_angle || angle) {
				if (o + 2 >= sizeof(buf)) {
					bad = 1;
					continue;
				}
				buf[o++] = (char)c;
				if (c == '\\' && i + 1 < len)
					buf[o++] = v[++i];
			} else if (c == '\\' && i + 1 < len)
				i++;
			if (c == '"')
				q = 0;
			continue;
		}
		switch (c) {
		case '(':
			depth = 1;
			break;
		case '"':
			q = 1;
			if (!had_angle || angle) {
				if (o + 1 >= sizeof(buf))
					bad = 1;
				else
					buf[o++] = '"';
			}
			break;
		case '<':
			if (angle)
				bad = 1;
			angle = had_angle = 1;
			o = 0;		/* the display name goes */
			break;
		case '>':
			if (!angle)
				bad = 1;
			angle = 0;
			break;
		case ':':
			if (angle)
				o = 0;		/* an obsolete route ends */
			else if (!had_angle && !group) {
				group = 1;	/* a group's display name */
				o = 0;
			} else
				bad = 1;
			break;
		case ',':
			if (angle)
				break;		/* inside an obsolete route */
			/* FALLTHROUGH */
		case ';':
		case '\0':
			if (angle) {
				bad = 1;
				break;
			}
			if (c == ';') {
				if (!group)
					bad = 1;
				group = 0;
			}
			if (o > 0 && (r = from_addr(buf, o, dom, max, n,
			    &over)) == -1)
				bad = 1;
			o = 0;
			had_angle = 0;
			break;
		case ' ': case '\t': case '\r': case '\n':
			break;
		default:
			if (had_angle && !angle) {
				bad = 1;	/* text after "<...>" */
				break;
			}
			if (o + 1 >= sizeof(buf))
				bad = 1;
			else
				buf[o++] = (char)c;
			break;
		}
	}
	if (bad)
		return DMARC_FROM_BAD;
	if (*n == 0)
		return DMARC_FROM_NONE;
	return *n > 1 || over ? DMARC_FROM_DOMAINS : DMARC_FROM_OK;
}

enum dmarc_from
dmarc_from_msg(const struct msg *m, char dom[][DMARC_DOMAIN_MAX], size_t max,
    size_t *n)
{
	char one[LIMIT_DMARC_FROM][DMARC_DOMAIN_MAX];
	enum dmarc_from st, ret = DMARC_FROM_NONE;
	size_t k, i, got;
	long f;
	int fields = 0;
	char *val;

	*n = 0;
	for (f = msg_find(m, "From", 0, 1); f != -1;
	    f = f + 1 < (long)m->nf ? msg_find(m, "From", f + 1, 1) : -1) {
		fields++;
		val = msg_value(&m->f[f]);
		st = dmarc_from_parse(val, strlen(val), one, LIMIT_DMARC_FROM,
		    &got);
		free(val);
		if (st == DMARC_FROM_BAD)
			ret = DMARC_FROM_BAD;
		else if (st == DMARC_FROM_DOMAINS && ret != DMARC_FROM_BAD)
			ret = DMARC_FROM_DOMAINS;
		for (k = 0; k < got; k++) {
			for (i = 0; i < *n; i++)
				if (strcmp(dom[i], one[k]) == 0)
					break;
			if (i < *n)
				continue;
			if (*n < max)
				memcpy(dom[(*n)++], one[k], DMARC_DOMAIN_MAX);
			else if (ret != DMARC_FROM_BAD)
				ret = DMARC_FROM_DOMAINS;
		}
	}
	if (ret == DMARC_FROM_BAD)
		return ret;
	if (fields > 1)
		return DMARC_FROM_FIELDS;
	if (*n == 0)
		return DMARC_FROM_NONE;
	if (*n > 1)
		return DMARC_FROM_DOMAINS;
	return ret == DMARC_FROM_DOMAINS ? ret : DMARC_FROM_OK;
}

/* ------------------------------------------------------------------ */
/* JSON                                                                */
/* ------------------------------------------------------------------ */

/* A string, or null when empty. */
static json_t *
str_or_null(const char *s)
{
	return s[0] != '\0' ? json_string(s) : json_null();
}

static json_t *
published(const struct dmarc_response *rs)
{
	const struct dmarc_record *r = &rs->rec;
	enum dmarc_policy p, sp, np;
	json_t *o, *rua;
	const char *u, *c;

	if (policy_set(r->p) && r->sp != DMARC_POLICY_INVALID &&
	    r->np != DMARC_POLICY_INVALID) {
		p = r->p;
		sp = policy_set(r->sp) ? r->sp : p;
		np = policy_set(r->np) ? r->np : sp;
	} else
		p = sp = np = DMARC_POLICY_NONE;
	if ((rua = json_array()) == NULL)
		return NULL;
	for (u = r->rua; *u != '\0'; u = *c == ',' ? c + 1 : c) {
		c = strchr(u, ',');
		if (c == NULL)
			c = u + strlen(u);
		if (json_array_append_new(rua, json_stringn(u,
		    (size_t)(c - u))) == -1) {
			json_decref(rua);
			return NULL;
		}
	}
	o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s}",
	    "adkim", r->adkim == DMARC_MODE_STRICT ? "s" : "r",
	    "aspf", r->aspf == DMARC_MODE_STRICT ? "s" : "r",
	    "p", dmarc_policy_str(p), "sp", dmarc_policy_str(sp),
	    "np", dmarc_policy_str(np),
	    "psd", r->psd == DMARC_PSD_Y ? "y" : r->psd == DMARC_PSD_N ? "n" :
	    "u", "t", r->t ? "y" : "n");
	if (o == NULL ||
	    (r->pct >= 0 && json_object_set_new(o, "pct",
	    json_integer(r->pct)) == -1) ||
	    json_object_set_new(o, "fo", json_string(r->fo)) == -1 ||
	    json_object_set_new(o, "rua", rua) == -1) {
		json_decref(o);
		return NULL;
	}
	return o;
}

json_t *
dmarc_json(const struct dmarc_response *rs)
{
	json_t *o, *pub;
	int rec = rs->have_record;

	if (rec) {
		if ((pub = published(rs)) == NULL)
			return NULL;
	} else
		pub = json_null();
	o = json_pack("{s:s, s:o, s:o, s:o, s:o, s:s, s:o, s:b, s:b, s:b, "
	    "s:o, s:s, s:o}",
	    "result", dmarc_result_str(rs->result),
	    "domain", str_or_null(rs->domain),
	    "policy_domain", str_or_null(rs->policy_domain),
	    "org_domain", str_or_null(rs->org_domain),
	    "policy", rec ? json_string(dmarc_policy_str(rs->policy)) :
	    json_null(),
	    "disposition", dmarc_policy_str(rs->disposition),
	    "source", rec ? json_string(dmarc_source_str(rs->source)) :
	    json_null(),
	    "testing", rs->testing,
	    "spf_aligned", rs->spf == DMARC_ALIGN_PASS,
	    "dkim_aligned", rs->dkim == DMARC_ALIGN_PASS,
	    "dkim_domain", str_or_null(rs->dkim_domain),
	    "reason", rs->reason,
	    "published", pub);
	return o;
}

/* ------------------------------------------------------------------ */
/* Words                                                               */
/* ------------------------------------------------------------------ */

size_t
dmarc_strictest(const struct dmarc_response *rs, size_t n)
{
	static const int rank[] = {
		[DMARC_NONE] = 0, [DMARC_PASS] = 1, [DMARC_PERMERROR] = 2,
		[DMARC_TEMPERROR] = 3, [DMARC_FAIL] = 4,
	};
	size_t i, best = 0;
	int a, b;

	for (i = 1; i < n; i++) {
		a = rank[rs[i].result];
		b = rank[rs[best].result];
		if (a > b || (a == b && rs[i].result == DMARC_FAIL &&
		    rs[i].disposition > rs[best].disposition))
			best = i;
	}
	return best;
}

const char *
dmarc_result_str(enum dmarc_result r)
{
	switch (r) {
	case DMARC_PASS: return "pass";
	case DMARC_FAIL: return "fail";
	case DMARC_TEMPERROR: return "temperror";
	case DMARC_PERMERROR: return "permerror";
	case DMARC_NONE: break;
	}
	return "none";
}

const char *
dmarc_policy_str(enum dmarc_policy p)
{
	switch (p) {
	case DMARC_POLICY_NONE: return "none";
	case DMARC_POLICY_QUARANTINE: return "quarantine";
	case DMARC_POLICY_REJECT: return "reject";
	case DMARC_POLICY_INVALID: return "invalid";
	case DMARC_POLICY_UNSET: break;
	}
	return "";
}

const char *
dmarc_source_str(enum dmarc_source s)
{
	switch (s) {
	case DMARC_SOURCE_P: return "p";
	case DMARC_SOURCE_SP: return "sp";
	case DMARC_SOURCE_NP: return "np";
	case DMARC_SOURCE_NONE: break;
	}
	return "";
}

const char *
dmarc_align_str(enum dmarc_align a)
{
	switch (a) {
	case DMARC_ALIGN_PASS: return "pass";
	case DMARC_ALIGN_FAIL: return "fail";
	case DMARC_ALIGN_TEMPERROR: return "temperror";
	case DMARC_ALIGN_NONE: break;
	}
	return "none";
}

const char *
dmarc_from_str(enum dmarc_from f)
{
	switch (f) {
	case DMARC_FROM_OK: return "ok";
	case DMARC_FROM_FIELDS: return "fields";
	case DMARC_FROM_DOMAINS: return "domains";
	case DMARC_FROM_BAD: return "bad";
	case DMARC_FROM_NONE: break;
	}
	return "none";
}
