/*
 * mime: the streaming MIME parser of mime.h.
 *
 * Input is cut into lines (at most LINE_MAX bytes: a longer line goes on
 * in pieces, and only the first piece may be a boundary).  The open
 * entities form a stack of nodes: the top one is in its header, its
 * body, or between the parts of its multipart.  A boundary line is
 * looked for in every open multipart from the innermost out, so that a
 * missing close delimiter ends the inner ones (as the mail readers do)
 * and a boundary only matches whole (an outer "a" does not take an
 * inner "ab").
 */
#include <ctype.h>
#include <errno.h>
#include <iconv.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "mime.h"
#include "xalloc.h"

#define LINE_MAX_	8192	/* bytes of a line handled at once */
#define BOUNDARY_MAX	200	/* RFC 2046 says 70; some send more */
#define PATH_MAX_	512	/* part path: depth is bounded before this */
#define SECTIONS_MAX	100	/* RFC 2231 continuations of one parameter */

enum node_kind { N_HEADER, N_LEAF, N_MULTI, N_MESSAGE, N_SKIP };
enum enc { E_IDENT, E_B64, E_QP, E_UU };

struct node {
	enum node_kind kind;
	int depth;
	int body_of_message;	/* the top entity, or a message/rfc822 body */
	int in_digest;		/* default type message/rfc822 */
	char *path;		/* prefix for the children */
	char *shown;		/* the path given to callbacks */
	/* header */
	char *hdr;
	size_t hdrlen, hdrcap;
	int hdr_full;
	int seen;		/* a line of it was read */
	/* part */
	struct mime_part p;
	char *type, *charset, *encoding, *disposition, *filename;
	int begun;
	/* multipart */
	char *boundary;
	size_t blen;
	int closed;
	long nchild;
	/* leaf */
	enum enc enc;
	unsigned int b64acc;
	int b64n, b64bad;
	int qpstate;		/* 0, 1 after '=', 2 after "=X", 3 "= " */
	char qpc;
	int qpbad;
	char eol[3];		/* the line end held back */
	iconv_t cd;
	char conv[16];		/* an incomplete character carried */
	size_t nconv;
	/* a uuencode block inside a text part */
	struct node *uu;
};

struct mime {
	struct mime_conf c;
	struct mime_ops o;
	struct node **st;
	size_t n, cap;
	char line[LINE_MAX_];
	size_t len;
	int midline;		/* the line in hand continues a longer one */
	long parts;
	unsigned long long decoded;
	int reported[MIME_NDEFECTS];
};

static const char *defect_names[MIME_NDEFECTS] = {
	"depth", "parts", "decoded", "header", "no_boundary", "unclosed",
	"base64", "quoted_printable", "charset", "encoding"
};

const char *
mime_defect_name(enum mime_defect d)
{
	return (unsigned)d < MIME_NDEFECTS ? defect_names[d] : "?";
}

static void __attribute__((format(printf, 3, 4)))
defect(struct mime *m, enum mime_defect d, const char *fmt, ...)
{
	char buf[256];
	va_list ap;

	/* each kind once a message: a reason, not a flood */
	if (m->reported[d]++)
		return;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (m->o.defect)
		m->o.defect(m->o.arg, d, buf);
}

/* ---- strings ---- */

static void
lower(char *s)
{
	for (; *s; s++)
		*s = (char)tolower((unsigned char)*s);
}

/* Append n bytes to a growing string (*p, *len, *cap). */
static void
sput(char **p, size_t *len, size_t *cap, const void *s, size_t n)
{
	if (*len + n + 1 > *cap) {
		size_t c = *cap ? *cap : 64;

		while (c < *len + n + 1)
			c *= 2;
		*p = xreallocarray(*p, c, 1);
		*cap = c;
	}
	memcpy(*p + *len, s, n);
	*len += n;
	(*p)[*len] = '\0';
}

/* n bytes in charset cs to UTF-8, appended; bad bytes become U+FFFD.
 * Returns -1 when iconv does not know cs (nothing appended). */
static int
to_utf8(const char *cs, const char *s, size_t n, char **p, size_t *len,
    size_t *cap)
{
	char csb[64], out[1024], *in = (char *)s, *o;
	size_t il = n, ol;
	iconv_t cd;

	snprintf(csb, sizeof(csb), "%s", cs);
	csb[strcspn(csb, "*")] = '\0';	/* RFC 2231 language */
	if (csb[0] == '\0' || strcasecmp(csb, "us-ascii") == 0)
		snprintf(csb, sizeof(csb), "UTF-8");
	if ((cd = iconv_open("UTF-8", csb)) == (iconv_t)-1)
		return -1;
	while (il > 0) {
		o = out;
		ol = sizeof(out);
		if (iconv(cd, &in, &il, &o, &ol) == (size_t)-1 &&
		    errno != E2BIG) {
			sput(p, len, cap, out, (size_t)(o - out));
			sput(p, len, cap, "\xef\xbf\xbd", 3);
			in++;
			il--;
			continue;
		}
		sput(p, len, cap, out, (size_t)(o - out));
	}
	iconv_close(cd);
	return 0;
}

static int
hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = tolower(c);
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

static int
b64val(int c)
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

/* One encoded word's text (B or Q) decoded into out (size >= n). */
static size_t
word_decode(int enc, const char *s, size_t n, char *out)
{
	size_t i, o = 0;
	unsigned int acc = 0;
	int k = 0, v;

	for (i = 0; i < n; i++) {
		if (enc == 'b') {
			if ((v = b64val((unsigned char)s[i])) < 0)
				continue;
			acc = acc << 6 | (unsigned)v;
			if (++k == 4) {
				out[o++] = (char)(acc >> 16);
				out[o++] = (char)(acc >> 8);
				out[o++] = (char)acc;
				acc = 0;
				k = 0;
			}
		} else if (s[i] == '_')
			out[o++] = ' ';
		else if (s[i] == '=' && i + 2 < n &&
		    hexval((unsigned char)s[i + 1]) >= 0 &&
		    hexval((unsigned char)s[i + 2]) >= 0) {
			out[o++] = (char)(hexval((unsigned char)s[i + 1]) * 16 +
			    hexval((unsigned char)s[i + 2]));
			i += 2;
		} else
			out[o++] = s[i];
	}
	if (enc == 'b' && k == 2)
		out[o++] = (char)(acc >> 4);
	else if (enc == 'b' && k == 3) {
		out[o++] = (char)(acc >> 10);
		out[o++] = (char)(acc >> 2);
	}
	return o;
}

/* An encoded word at s (n bytes left): its length, or 0. */
static size_t
word_at(const char *s, size_t n, const char **cs, size_t *cslen, int *enc,
    const char **txt, size_t *txtlen)
{
	size_t i = 2, j;

	if (n < 8 || s[0] != '=' || s[1] != '?')
		return 0;
	for (j = i; j < n && j < 80 && s[j] != '?' && s[j] != ' '; j++)
		;
	if (j >= n || s[j] != '?' || j == i)
		return 0;
	*cs = s + i;
	*cslen = j - i;
	if (j + 2 >= n || s[j + 2] != '?')
		return 0;
	*enc = tolower((unsigned char)s[j + 1]);
	if (*enc != 'b' && *enc != 'q')
		return 0;
	i = j + 3;
	for (j = i; j + 1 < n && !(s[j] == '?' && s[j + 1] == '='); j++)
		if (s[j] == '\n' || s[j] == '\r')
			return 0;
	if (j + 1 >= n)
		return 0;
	*txt = s + i;
	*txtlen = j - i;
	return j + 2;
}

char *
mime_decode_words(const char *s, size_t n)
{
	char *p = NULL, *buf, cs[64];
	size_t len = 0, cap = 0, i = 0, w, cslen, txtlen, gap = 0, k;
	const char *csp, *txt;
	int enc, prev_word = 0;

	sput(&p, &len, &cap, "", 0);
	while (i < n) {
		w = word_at(s + i, n - i, &csp, &cslen, &enc, &txt, &txtlen);
		if (w == 0) {
			if (s[i] == ' ' || s[i] == '\t' || s[i] == '\r' ||
			    s[i] == '\n') {
				/* held: dropped if an encoded word follows
				 * an encoded word */
				gap++;
				i++;
				continue;
			}
			if (gap > 0)
				sput(&p, &len, &cap, s + i - gap, gap);
			gap = 0;
			sput(&p, &len, &cap, s + i, 1);
			prev_word = 0;
			i++;
			continue;
		}
		if (gap > 0 && !prev_word)
			sput(&p, &len, &cap, s + i - gap, gap);
		gap = 0;
		buf = xmalloc(txtlen + 3);
		k = word_decode(enc, txt, txtlen, buf);
		snprintf(cs, sizeof(cs), "%.*s", (int)(cslen < 63 ? cslen : 63),
		    csp);
		if (to_utf8(cs, buf, k, &p, &len, &cap) == -1)
			to_utf8("windows-1252", buf, k, &p, &len, &cap);
		free(buf);
		prev_word = 1;
		i += w;
	}
	if (gap > 0)
		sput(&p, &len, &cap, s + n - gap, gap);
	return p;
}

static size_t utf8_len(const unsigned char *, size_t);

static int
valid_utf8(const char *s)
{
	size_t n = strlen(s), i = 0, k;

	while (i < n) {
		if ((k = utf8_len((const unsigned char *)s + i, n - i)) == 0)
			return 0;
		i += k;
	}
	return 1;
}

/* ---- parameters (RFC 2045 5.1, RFC 2231) ---- */

static const char *
skip_cfws(const char *s)
{
	int depth;

	for (;;) {
		while (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n')
			s++;
		if (*s != '(')
			return s;
		for (depth = 0; *s; s++) {
			if (*s == '\\' && s[1] != '\0')
				s++;
			else if (*s == '(')
				depth++;
			else if (*s == ')' && --depth == 0) {
				s++;
				break;
			}
		}
	}
}

/* A token or quoted string at *sp into a malloc'd string; *sp moves. */
static char *
param_value(const char **sp)
{
	const char *s = *sp;
	char *p = NULL;
	size_t len = 0, cap = 0;

	sput(&p, &len, &cap, "", 0);
	if (*s == '"') {
		/* an unclosed quote runs to the end of the field */
		for (s++; *s && *s != '"'; s++) {
			if (*s == '\\' && s[1] != '\0')
				s++;
			sput(&p, &len, &cap, s, 1);
		}
		if (*s == '"')
			s++;
		while (*s && *s != ';')
			s++;
	} else {
		const char *e = s;

		while (*e && *e != ';')
			e++;
		while (e > s && (e[-1] == ' ' || e[-1] == '\t' ||
		    e[-1] == '\r' || e[-1] == '\n'))
			e--;
		sput(&p, &len, &cap, s, (size_t)(e - s));
		s = e;
		while (*s && *s != ';')
			s++;
	}
	*sp = s;
	return p;
}

/* %XX escapes of an RFC 2231 extended value, in place. */
static size_t
pct_decode(char *s)
{
	char *o = s;
	const char *i;

	for (i = s; *i; i++) {
		if (*i == '%' && hexval((unsigned char)i[1]) >= 0 &&
		    hexval((unsigned char)i[2]) >= 0) {
			*o++ = (char)(hexval((unsigned char)i[1]) * 16 +
			    hexval((unsigned char)i[2]));
			i += 2;
		} else
			*o++ = *i;
	}
	*o = '\0';
	return (size_t)(o - s);
}

char *
mime_param(const char *value, const char *name, char **type)
{
	const char *s = value, *e;
	char *plain = NULL, *whole = NULL, *sec[SECTIONS_MAX];
	int secext[SECTIONS_MAX], wholeext = 0, maxsec = -1, i;
	size_t nl = strlen(name);
	char *res = NULL, cs[64] = "";
	size_t len = 0, cap = 0;

	memset(sec, 0, sizeof(sec));
	memset(secext, 0, sizeof(secext));
	s = skip_cfws(s);
	e = s;
	while (*e && *e != ';')
		e++;
	if (type != NULL) {
		const char *t = e;

		while (t > s && (t[-1] == ' ' || t[-1] == '\t' ||
		    t[-1] == '\r' || t[-1] == '\n'))
			t--;
		*type = xstrndup(s, (size_t)(t - s));
		(*type)[strcspn(*type, " \t(")] = '\0';
		lower(*type);
	}
	s = e;
	while (*s == ';') {
		const char *ns, *ne, *star;
		char *v;
		int idx = -1, ext = 0;

		s = skip_cfws(s + 1);
		ns = s;
		while (*s && *s != '=' && *s != ';' && *s != ' ' && *s != '\t')
			s++;
		ne = s;
		s = skip_cfws(s);
		if (*s != '=') {
			while (*s && *s != ';')
				s++;
			continue;
		}
		s = skip_cfws(s + 1);
		v = param_value(&s);
		/* name, name*, name*N, name*N* */
		star = memchr(ns, '*', (size_t)(ne - ns));
		if ((size_t)((star ? star : ne) - ns) != nl ||
		    strncasecmp(ns, name, nl) != 0) {
			free(v);
			continue;
		}
		if (star != NULL) {
			const char *q = star + 1;

			if (q < ne && isdigit((unsigned char)*q)) {
				idx = 0;
				while (q < ne && isdigit((unsigned char)*q) &&
				    idx < 10000)
					idx = idx * 10 + (*q++ - '0');
			}
			if (q < ne && *q == '*')
				ext = 1;
			else if (idx < 0)
				ext = 1;	/* name* */
		}
		if (idx >= 0 && idx < SECTIONS_MAX && sec[idx] == NULL) {
			sec[idx] = v;
			secext[idx] = ext;
			if (idx > maxsec)
				maxsec = idx;
		} else if (idx < 0 && ext && whole == NULL) {
			whole = v;
			wholeext = 1;
		} else if (idx < 0 && !ext && plain == NULL)
			plain = v;	/* the first of duplicates counts */
		else
			free(v);
	}
	if (whole != NULL || sec[0] != NULL) {
		char *raw = NULL;
		size_t rl = 0, rc = 0;
		char *v = whole ? whole : sec[0];
		int ext0 = whole ? wholeext : secext[0];
		char *q1, *q2;

		sput(&raw, &rl, &rc, "", 0);
		if (ext0 && (q1 = strchr(v, '\'')) != NULL &&
		    (q2 = strchr(q1 + 1, '\'')) != NULL) {
			snprintf(cs, sizeof(cs), "%.*s", (int)(q1 - v < 63 ?
			    q1 - v : 63), v);
			memmove(v, q2 + 1, strlen(q2 + 1) + 1);
		}
		if (whole != NULL) {
			size_t k = pct_decode(whole);

			sput(&raw, &rl, &rc, whole, k);
		} else
			for (i = 0; i <= maxsec && sec[i] != NULL; i++) {
				size_t k = secext[i] ? pct_decode(sec[i]) :
				    strlen(sec[i]);

				sput(&raw, &rl, &rc, sec[i], k);
			}
		sput(&res, &len, &cap, "", 0);
		if (to_utf8(cs, raw, rl, &res, &len, &cap) == -1)
			to_utf8("windows-1252", raw, rl, &res, &len, &cap);
		free(raw);
	} else if (plain != NULL) {
		res = mime_decode_words(plain, strlen(plain));
		if (!valid_utf8(res)) {
			/* raw 8-bit in a header: most often Windows-1252 */
			char *r = NULL;
			size_t rl = 0, rc = 0;

			sput(&r, &rl, &rc, "", 0);
			to_utf8("windows-1252", res, strlen(res), &r, &rl, &rc);
			free(res);
			res = r;
		}
	}
	free(plain);
	free(whole);
	for (i = 0; i < SECTIONS_MAX; i++)
		free(sec[i]);
	return res;
}

/* ---- header fields of a part ---- */

/* The value of the first field called name in the unfolded header block
 * h (one field a line), or NULL; malloc'd. */
static char *
field(const char *h, const char *name)
{
	size_t nl = strlen(name);
	const char *l, *e, *c;

	for (l = h; *l; l = *e ? e + 1 : e) {
		e = strchr(l, '\n');
		if (e == NULL)
			e = l + strlen(l);
		if ((size_t)(e - l) <= nl || strncasecmp(l, name, nl) != 0)
			continue;
		for (c = l + nl; c < e && (*c == ' ' || *c == '\t'); c++)
			;
		if (c < e && *c == ':')
			return xstrndup(c + 1, (size_t)(e - c - 1));
	}
	return NULL;
}

/* ---- nodes ---- */

static struct node *
push_node(struct mime *m, const char *path, int depth, int bodyof,
    int digest)
{
	struct node *n = xcalloc(1, sizeof(*n));

	if (m->n == m->cap) {
		m->cap = m->cap ? m->cap * 2 : 16;
		m->st = xreallocarray(m->st, m->cap, sizeof(*m->st));
	}
	m->st[m->n++] = n;
	n->kind = N_HEADER;
	n->path = xstrdup(path);
	n->depth = depth;
	n->body_of_message = bodyof;
	n->in_digest = digest;
	n->cd = (iconv_t)-1;
	return n;
}

static void
free_node(struct node *n)
{
	if (n == NULL)
		return;
	if (n->cd != (iconv_t)-1)
		iconv_close(n->cd);
	free(n->path);
	free(n->shown);
	free(n->hdr);
	free(n->type);
	free(n->charset);
	free(n->encoding);
	free(n->disposition);
	free(n->filename);
	free(n->boundary);
	free_node(n->uu);
	free(n);
}

static char *
join(const char *a, const char *b)
{
	char *s;
	size_t n = strlen(a) + strlen(b) + 2;

	s = xmalloc(n);
	snprintf(s, n, "%s%s%s", a, *a ? "." : "", b);
	return s;
}

static void
fill_part(struct node *n)
{
	n->p.path = n->shown;
	n->p.depth = n->depth;
	n->p.type = n->type;
	n->p.charset = n->charset;
	n->p.encoding = n->encoding;
	n->p.disposition = n->disposition;
	n->p.filename = n->filename;
}

/* Length of the valid UTF-8 sequence at s (n bytes), or 0.  glibc's
 * iconv passes 5- and 6-byte forms through from "UTF-8": checked here. */
static size_t
utf8_len(const unsigned char *s, size_t n)
{
	size_t k, i;
	unsigned int c;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		k = 2;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		k = 3;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		k = 4;
	else
		return 0;
	if (n < k)
		return 0;
	c = s[0] & (0x3f >> (k - 1));
	for (i = 1; i < k; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		c = c << 6 | (s[i] & 0x3f);
	}
	if ((k == 3 && c < 0x800) || (k == 4 && (c < 0x10000 ||
	    c > 0x10ffff)) || (c >= 0xd800 && c <= 0xdfff))
		return 0;
	return k;
}

/* Converted text to the callback, every bad sequence U+FFFD. */
static void
text_out(struct mime *m, struct node *n, const char *s, size_t len)
{
	char out[1024];
	size_t i = 0, o = 0, k;

	while (i < len) {
		if (o > sizeof(out) - 4) {
			m->o.text(m->o.arg, &n->p, out, o);
			o = 0;
		}
		k = utf8_len((const unsigned char *)s + i, len - i);
		if (k == 0) {
			memcpy(out + o, "\xef\xbf\xbd", 3);
			o += 3;
			i++;
			continue;
		}
		memcpy(out + o, s + i, k);
		o += k;
		i += k;
	}
	if (o > 0)
		m->o.text(m->o.arg, &n->p, out, o);
}

/* Bytes decoded from leaf n: the limit, the callbacks, UTF-8. */
static void
emit(struct mime *m, struct node *n, const char *s, size_t len)
{
	char out[4 * 1024 + 64], *in, *o;
	size_t il, ol;

	if (len == 0)
		return;
	if (m->decoded + len > m->c.max_decoded) {
		defect(m, MIME_DECODED, "over %llu decoded bytes",
		    m->c.max_decoded);
		len = m->decoded < m->c.max_decoded ?
		    (size_t)(m->c.max_decoded - m->decoded) : 0;
		if (len == 0)
			return;
	}
	m->decoded += len;
	n->p.size += len;
	if (m->o.data)
		m->o.data(m->o.arg, &n->p, s, len);
	if (!n->p.text || m->o.text == NULL)
		return;
	while (len > 0) {
		size_t take = len, carry = n->nconv;
		char tmp[1024 + 16];

		/* the carried bytes of a character cut between pieces go
		 * first */
		if (take > 1024)
			take = 1024;
		memcpy(tmp, n->conv, carry);
		memcpy(tmp + carry, s, take);
		in = tmp;
		il = carry + take;
		s += take;
		len -= take;
		n->nconv = 0;
		while (il > 0) {
			o = out;
			ol = sizeof(out);
			if (iconv(n->cd, &in, &il, &o, &ol) != (size_t)-1) {
				text_out(m, n, out, (size_t)(o - out));
				break;
			}
			text_out(m, n, out, (size_t)(o - out));
			if (errno == E2BIG)
				continue;
			if (errno == EINVAL && il < sizeof(n->conv)) {
				memcpy(n->conv, in, il);
				n->nconv = il;
				break;
			}
			m->o.text(m->o.arg, &n->p, "\xef\xbf\xbd", 3);
			in++;
			il--;
		}
	}
}

static void
begin_part(struct mime *m, struct node *n)
{
	fill_part(n);
	n->begun = 1;
	if (m->o.begin)
		m->o.begin(m->o.arg, &n->p);
}

/* The bytes of an unfinished base64 quantum (padded or cut short) into
 * out (3 bytes); their count.  The quantum starts again. */
static size_t
b64_tail(struct node *n, char *out)
{
	size_t o = 0;

	if (n->b64n == 2)
		out[o++] = (char)(n->b64acc >> 4);
	else if (n->b64n == 3) {
		out[o++] = (char)(n->b64acc >> 10);
		out[o++] = (char)(n->b64acc >> 2);
	}
	n->b64n = 0;
	n->b64acc = 0;
	return o;
}

/* Decoder of a leaf: n bytes (line ends included) of transfer encoding. */
static void
decode(struct mime *m, struct node *n, const char *s, size_t len)
{
	char out[LINE_MAX_ + 16];
	size_t i, o = 0;
	int v;

	switch (n->enc) {
	case E_IDENT:
		emit(m, n, s, len);
		return;
	case E_B64:
		for (i = 0; i < len; i++) {
			unsigned char c = (unsigned char)s[i];

			if ((v = b64val(c)) < 0) {
				if (c == '=') {
					/* padding ends the quantum */
					o += b64_tail(n, out + o);
				} else if (c != '\r' && c != '\n' && c != ' ' &&
				    c != '\t' && !n->b64bad) {
					n->b64bad = 1;
					defect(m, MIME_BASE64, "part %.100s: bytes "
					    "outside base64", n->shown);
				}
				continue;
			}
			n->b64acc = n->b64acc << 6 | (unsigned)v;
			if (++n->b64n == 4) {
				out[o++] = (char)(n->b64acc >> 16);
				out[o++] = (char)(n->b64acc >> 8);
				out[o++] = (char)n->b64acc;
				n->b64n = 0;
				n->b64acc = 0;
			}
			if (o > sizeof(out) - 4) {
				emit(m, n, out, o);
				o = 0;
			}
		}
		break;
	case E_QP:
		for (i = 0; i < len; i++) {
			char c = s[i];

			if (o > sizeof(out) - 4) {
				emit(m, n, out, o);
				o = 0;
			}
			switch (n->qpstate) {
			case 0:
				if (c == '=')
					n->qpstate = 1;
				else
					out[o++] = c;
				break;
			case 1:
				if (hexval((unsigned char)c) >= 0) {
					n->qpc = c;
					n->qpstate = 2;
				} else if (c == '\n') {
					n->qpstate = 0;	/* soft break */
				} else if (c == '\r' || c == ' ' || c == '\t') {
					n->qpstate = 3;
				} else {
					/* "=" kept as it is */
					if (!n->qpbad++)
						defect(m, MIME_QP, "part %.100s: "
						    "bad = escape", n->shown);
					out[o++] = '=';
					out[o++] = c;
					n->qpstate = 0;
				}
				break;
			case 2:
				n->qpstate = 0;
				if (hexval((unsigned char)c) >= 0)
					out[o++] = (char)(hexval((unsigned char)
					    n->qpc) * 16 +
					    hexval((unsigned char)c));
				else {
					if (!n->qpbad++)
						defect(m, MIME_QP, "part %.100s: "
						    "bad = escape", n->shown);
					out[o++] = '=';
					out[o++] = n->qpc;
					if (c == '=')
						n->qpstate = 1;
					else
						out[o++] = c;
				}
				break;
			case 3:
				if (c == '\n')
					n->qpstate = 0;
				else if (c != '\r' && c != ' ' && c != '\t') {
					out[o++] = '=';
					out[o++] = c;
					n->qpstate = 0;
				}
				break;
			}
		}
		break;
	case E_UU:
		/* lines: a length character, then groups of four */
		if (len == 0 || s[0] == '\n' || s[0] == '\r' ||
		    (len >= 3 && strncmp(s, "end", 3) == 0) ||
		    (len >= 6 && strncmp(s, "begin ", 6) == 0))
			return;
		{
			size_t want = (size_t)((s[0] - ' ') & 63), k;
			unsigned char q[4];

			for (i = 1; i < len && o < want; i += 4) {
				for (k = 0; k < 4; k++)
					q[k] = (unsigned char)(((i + k < len ?
					    s[i + k] : ' ') - ' ') & 63);
				out[o++] = (char)(q[0] << 2 | q[1] >> 4);
				out[o++] = (char)(q[1] << 4 | q[2] >> 2);
				out[o++] = (char)(q[2] << 6 | q[3]);
			}
			if (o > want)
				o = want;
		}
		break;
	}
	emit(m, n, out, o);
}

static void
end_leaf(struct mime *m, struct node *n)
{
	if (n->enc == E_QP && n->qpstate == 1)
		emit(m, n, "=", 1);
	if (n->enc == E_B64 && n->b64n > 0) {
		/* a quantum without its padding: what it holds */
		char out[3];
		size_t o = b64_tail(n, out);

		emit(m, n, out, o);
	}
	if (n->nconv > 0 && n->p.text && m->o.text)
		m->o.text(m->o.arg, &n->p, "\xef\xbf\xbd", 3);
	n->nconv = 0;
}

static void header_done(struct mime *, struct node *);

/* End the node on top of the stack and pop it. */
static void
pop(struct mime *m)
{
	struct node *n = m->st[m->n - 1];

	if (n->kind == N_HEADER && !n->seen && n->depth > 0 &&
	    !n->body_of_message) {
		/* two boundaries in a row: no part between them, and
		 * no number taken */
		if (m->n >= 2 && m->st[m->n - 2]->kind == N_MULTI)
			m->st[m->n - 2]->nchild--;
	} else if (n->kind == N_HEADER) {
		header_done(m, n);	/* a part cut short in its header */
		if (m->st[m->n - 1] != n)
			pop(m);		/* the body it opened */
	}
	if (n->uu != NULL) {
		end_leaf(m, n->uu);
		if (m->o.end)
			m->o.end(m->o.arg, &n->uu->p);
	}
	if (n->kind == N_LEAF)
		end_leaf(m, n);
	if (n->kind == N_MULTI && !n->closed)
		defect(m, MIME_UNCLOSED, "multipart %.100s not closed by its "
		    "boundary", n->shown[0] ? n->shown : "(top)");
	if (n->begun && m->o.end)
		m->o.end(m->o.arg, &n->p);
	m->n--;
	free_node(n);
}

static int
is_text(const char *type)
{
	return strncmp(type, "text/", 5) == 0;
}

/* The header of n is complete: what the part is, and its begin. */
static void
header_done(struct mime *m, struct node *n)
{
	char *ct, *cd, *cte, *bnd = NULL, *t = NULL;
	const char *h = n->hdr ? n->hdr : "";

	ct = field(h, "Content-Type");
	cd = field(h, "Content-Disposition");
	cte = field(h, "Content-Transfer-Encoding");
	if (ct != NULL) {
		bnd = mime_param(ct, "boundary", &t);
		n->charset = mime_param(ct, "charset", NULL);
		n->filename = mime_param(ct, "name", NULL);
	}
	if (t == NULL || strchr(t, '/') == NULL || t[0] == '/') {
		free(t);
		t = xstrdup(n->in_digest ? "message/rfc822" : "text/plain");
	}
	n->type = t;
	if (n->charset == NULL)
		n->charset = xstrdup("");
	lower(n->charset);
	if (cd != NULL) {
		char *fn = mime_param(cd, "filename", &n->disposition);

		if (fn != NULL) {
			free(n->filename);
			n->filename = fn;
		}
	} else
		n->disposition = xstrdup("");
	if (cte != NULL) {
		char *e = mime_param(cte, "-", &n->encoding);

		free(e);
	} else
		n->encoding = xstrdup("");
	free(ct);
	free(cd);
	free(cte);
	free(n->hdr);
	n->hdr = NULL;
	n->hdrlen = n->hdrcap = 0;

	n->shown = n->body_of_message ? join(n->path, "1") : xstrdup(n->path);
	if (++m->parts > m->c.max_parts) {
		defect(m, MIME_PARTS, "over %ld parts", m->c.max_parts);
		n->kind = N_SKIP;
		free(bnd);
		return;
	}
	if (strncmp(t, "multipart/", 10) == 0 && bnd != NULL && *bnd != '\0' &&
	    strlen(bnd) <= BOUNDARY_MAX) {
		free(n->shown);
		n->shown = xstrdup(n->path);
		n->p.container = 1;
		if (n->depth + 1 > m->c.max_depth) {
			defect(m, MIME_DEPTH, "multipart %.100s nested past "
			    "depth %d", n->shown[0] ? n->shown : "(top)",
			    m->c.max_depth);
			n->p.container = 0;
			n->kind = N_SKIP;
			begin_part(m, n);
			free(bnd);
			return;
		}
		n->kind = N_MULTI;
		n->boundary = bnd;
		n->blen = strlen(bnd);
		begin_part(m, n);
		return;
	}
	if (strncmp(t, "multipart/", 10) == 0)
		defect(m, MIME_NO_BOUNDARY, "multipart %.100s without a usable "
		    "boundary", n->shown);
	free(bnd);
	if ((strcmp(t, "message/rfc822") == 0 ||
	    strcmp(t, "message/global") == 0) &&
	    (n->encoding[0] == '\0' || strcmp(n->encoding, "7bit") == 0 ||
	    strcmp(n->encoding, "8bit") == 0 ||
	    strcmp(n->encoding, "binary") == 0)) {
		free(n->shown);
		n->shown = xstrdup(n->path);
		n->p.container = 1;
		if (n->depth + 1 > m->c.max_depth) {
			defect(m, MIME_DEPTH, "message %.100s nested past "
			    "depth %d", n->shown, m->c.max_depth);
			n->p.container = 0;
			n->kind = N_SKIP;
			begin_part(m, n);
			return;
		}
		n->kind = N_MESSAGE;
		begin_part(m, n);
		push_node(m, n->shown, n->depth + 1, 1, 0);
		return;
	}
	n->kind = N_LEAF;
	if (strcmp(n->encoding, "base64") == 0)
		n->enc = E_B64;
	else if (strcmp(n->encoding, "quoted-printable") == 0)
		n->enc = E_QP;
	else if (strcmp(n->encoding, "x-uuencode") == 0 ||
	    strcmp(n->encoding, "x-uue") == 0 ||
	    strcmp(n->encoding, "uuencode") == 0)
		n->enc = E_UU;
	else {
		n->enc = E_IDENT;
		if (n->encoding[0] != '\0' && strcmp(n->encoding, "7bit") &&
		    strcmp(n->encoding, "8bit") &&
		    strcmp(n->encoding, "binary"))
			defect(m, MIME_ENCODING, "part %.100s: unknown "
			    "Content-Transfer-Encoding", n->shown);
	}
	if (is_text(t) && m->o.text != NULL) {
		const char *cs = n->charset;

		if (*cs == '\0' || strcmp(cs, "us-ascii") == 0)
			cs = "UTF-8";
		n->cd = iconv_open("UTF-8", cs);
		if (n->cd == (iconv_t)-1) {
			defect(m, MIME_CHARSET, "unknown charset %.60s", cs);
			n->cd = iconv_open("UTF-8", "WINDOWS-1252");
		}
		n->p.text = n->cd != (iconv_t)-1;
	}
	begin_part(m, n);
}

/* A header line of n (no line end). */
static void
header_line(struct mime *m, struct node *n, const char *s, size_t len)
{
	if (n->hdr_full)
		return;
	if (n->hdrlen + len + 1 > m->c.max_header) {
		n->hdr_full = 1;
		defect(m, MIME_HEADER, "a part header over %zu bytes",
		    m->c.max_header);
		return;
	}
	if (n->hdrlen > 0 && (s[0] == ' ' || s[0] == '\t'))
		n->hdrlen--;	/* unfold: the newline goes */
	sput(&n->hdr, &n->hdrlen, &n->hdrcap, s, len);
	sput(&n->hdr, &n->hdrlen, &n->hdrcap, "\n", 1);
}

/* Does the line look like a header field ("Name:") or a folded line? */
static int
fieldish(const char *s, size_t len, int first)
{
	size_t i;

	if (!first && len > 0 && (s[0] == ' ' || s[0] == '\t'))
		return 1;
	for (i = 0; i < len && s[i] > 32 && s[i] < 127 && s[i] != ':'; i++)
		;
	if (i == 0)
		return 0;
	while (i < len && (s[i] == ' ' || s[i] == '\t'))
		i++;
	return i < len && s[i] == ':';
}

/* "begin 644 name" */
static int
uu_begin(const char *s, size_t len, char *name, size_t namesz)
{
	size_t i = 6, k;

	if (len < 12 || strncmp(s, "begin ", 6) != 0)
		return 0;
	for (k = 0; i < len && s[i] >= '0' && s[i] <= '7'; i++, k++)
		;
	if (k < 3 || k > 4 || i >= len || s[i] != ' ')
		return 0;
	i++;
	k = len - i;
	if (k == 0 || k >= namesz)
		return 0;
	memcpy(name, s + i, k);
	name[k] = '\0';
	return 1;
}

/* A body line of leaf n: s without its end, eol the end ("" for a piece
 * of a longer line). */
static void
body_line(struct mime *m, struct node *n, const char *s, size_t len,
    const char *eol, int midline)
{
	char name[256];
	size_t l = len;

	while (l > 0 && s[l - 1] == '\r')
		l--;
	if (n->uu != NULL) {
		if (!midline && l == 3 && strncmp(s, "end", 3) == 0) {
			end_leaf(m, n->uu);
			if (m->o.end)
				m->o.end(m->o.arg, &n->uu->p);
			free_node(n->uu);
			n->uu = NULL;
			return;
		}
		if (!midline)
			decode(m, n->uu, s, l);
		return;
	}
	if (!midline && n->enc == E_IDENT && is_text(n->type) &&
	    uu_begin(s, l, name, sizeof(name)) && m->parts < m->c.max_parts) {
		struct node *u = xcalloc(1, sizeof(*u));
		char k[32];

		m->parts++;
		snprintf(k, sizeof(k), "%ld", ++n->nchild);
		u->shown = join(n->shown, k);
		u->kind = N_LEAF;
		u->enc = E_UU;
		u->depth = n->depth + 1;
		u->cd = (iconv_t)-1;
		u->type = xstrdup("application/octet-stream");
		u->charset = xstrdup("");
		u->encoding = xstrdup("x-uuencode");
		u->disposition = xstrdup("attachment");
		u->filename = xstrdup(name);
		u->p.uuencoded = 1;
		n->uu = u;
		begin_part(m, u);
		return;
	}
	if (n->eol[0] != '\0')
		decode(m, n, n->eol, strlen(n->eol));
	n->eol[0] = '\0';
	if (n->enc == E_UU) {
		if (!midline)
			decode(m, n, s, l);
		return;
	}
	decode(m, n, s, len);
	/* eol is "", "\n" or "\r\n" */
	memcpy(n->eol, eol, strlen(eol) + 1);
}

/* Is the line a boundary of an open multipart?  Its index, or -1;
 * *close set for a close delimiter. */
static long
boundary(struct mime *m, const char *s, size_t len, int *close)
{
	size_t i, k;

	if (len < 3 || s[0] != '-' || s[1] != '-')
		return -1;
	for (i = m->n; i-- > 0;) {
		struct node *n = m->st[i];

		if (n->kind != N_MULTI || len < 2 + n->blen ||
		    memcmp(s + 2, n->boundary, n->blen) != 0)
			continue;
		k = 2 + n->blen;
		*close = 0;
		if (len >= k + 2 && s[k] == '-' && s[k + 1] == '-') {
			*close = 1;
			k += 2;
		}
		while (k < len && (s[k] == ' ' || s[k] == '\t' ||
		    s[k] == '\r'))
			k++;
		if (k == len)
			return (long)i;
	}
	return -1;
}

static void
line(struct mime *m, const char *s, size_t len, const char *eol)
{
	struct node *n;
	long b;
	int close, midline = m->midline;
	size_t l = len;

	if (m->n == 0)
		return;		/* after the end of the top part */
	if (!midline && (b = boundary(m, s, len, &close)) >= 0) {
		struct node *mp;
		char k[32];

		while (m->n > (size_t)b + 1)
			pop(m);
		mp = m->st[b];
		if (close) {
			mp->closed = 1;
			return;
		}
		if (mp->closed)
			return;	/* after the close: epilogue */
		snprintf(k, sizeof(k), "%ld", ++mp->nchild);
		{
			char *p = join(mp->path, k);

			push_node(m, p, mp->depth + 1, 0,
			    strcmp(mp->type, "multipart/digest") == 0);
			free(p);
		}
		return;
	}
	n = m->st[m->n - 1];
	switch (n->kind) {
	case N_HEADER:
		n->seen = 1;
		while (l > 0 && s[l - 1] == '\r')
			l--;
		if (midline) {
			header_line(m, n, s, l);
			return;
		}
		if (l == 0) {
			header_done(m, n);
			return;
		}
		if (!fieldish(s, l, n->hdrlen == 0) &&
		    !(n->hdrlen == 0 && l >= 5 && strncmp(s, "From ", 5) == 0)) {
			/* no field: the header ends here and this is body */
			header_done(m, n);
			line(m, s, len, eol);
			return;
		}
		header_line(m, n, s, l);
		return;
	case N_LEAF:
		body_line(m, n, s, len, eol, midline);
		return;
	default:
		return;		/* preamble, epilogue, skipped */
	}
}

struct mime *
mime_new(const struct mime_conf *c, const struct mime_ops *o)
{
	struct mime *m = xcalloc(1, sizeof(*m));

	m->c = *c;
	m->o = *o;
	push_node(m, "", 0, 1, 0);
	return m;
}

void
mime_push(struct mime *m, const void *buf, size_t len)
{
	const char *s = buf, *nl;

	while (len > 0) {
		size_t room = sizeof(m->line) - m->len, take;

		nl = memchr(s, '\n', len);
		take = nl ? (size_t)(nl - s) : len;
		if (take > room)
			take = room;
		memcpy(m->line + m->len, s, take);
		m->len += take;
		s += take;
		len -= take;
		if (len > 0 && *s == '\n') {
			int cr = m->len > 0 && m->line[m->len - 1] == '\r';

			s++;
			len--;
			line(m, m->line, m->len - (size_t)cr, cr ? "\r\n" :
			    "\n");
			m->len = 0;
			m->midline = 0;
		} else if (m->len == sizeof(m->line)) {
			/* a long line: this piece now, no boundary after */
			line(m, m->line, m->len, "");
			m->len = 0;
			m->midline = 1;
		}
	}
}

void
mime_finish(struct mime *m)
{
	if (m->len > 0) {
		line(m, m->line, m->len, "");
		m->len = 0;
	}
	while (m->n > 0) {
		struct node *n = m->st[m->n - 1];

		/* the last line end belongs to the part at the end */
		if (n->kind == N_LEAF && n->uu == NULL && n->eol[0] != '\0') {
			decode(m, n, n->eol, strlen(n->eol));
			n->eol[0] = '\0';
		}
		pop(m);
	}
}

long
mime_parts(const struct mime *m)
{
	return m->parts;
}

void
mime_free(struct mime *m)
{
	if (m == NULL)
		return;
	while (m->n > 0)
		free_node(m->st[--m->n]);
	free(m->st);
	free(m);
}
