#include <arpa/inet.h>
#include <errno.h>
#include <idn2.h>
#include <libpsl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unicode/uspoof.h>

#include "dns.h"
#include "limit.h"
#include "lookalike.h"
#include "table.h"
#include "url.h"
#include "xalloc.h"

#define HOST_MAX	254	/* an ASCII host, NUL included */
#define DETAIL_MAX	600

struct url_ctx {
	psl_ctx_t *psl;
	USpoofChecker *spoof;
};

/* A growing byte string; the caller bounds what goes in. */
struct buf {
	char *p;
	size_t n, cap;
};

static void
buf_addn(struct buf *b, const char *s, size_t n)
{
	size_t cap;

	if (b->cap - b->n < n + 1) {
		cap = b->cap ? b->cap : 64;
		while (cap - b->n < n + 1) {
			if (__builtin_mul_overflow(cap, 2, &cap))
				abort();
		}
		b->p = xreallocarray(b->p, cap, 1);
		b->cap = cap;
	}
	memcpy(b->p + b->n, s, n);
	b->n += n;
	b->p[b->n] = '\0';
}

static void
buf_add(struct buf *b, char c)
{
	buf_addn(b, &c, 1);
}

static int
lower(int c)
{
	return (c >= 'A' && c <= 'Z') ? c - 'A' + 'a' : c;
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

static int
is_alnum(int c)
{
	return is_alpha(c) || is_digit(c);
}

static int
is_xdigit(int c)
{
	return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

static int
xval(int c)
{
	if (is_digit(c))
		return c - '0';
	return lower(c) - 'a' + 10;
}

/* Case-insensitive prefix match of the NUL-terminated lower-case p. */
static int
prefix(const char *s, size_t n, const char *p)
{
	size_t i;

	for (i = 0; p[i] != '\0'; i++)
		if (i >= n || lower((unsigned char)s[i]) != p[i])
			return 0;
	return 1;
}

/*
 * The IPv4 parser of the WHATWG URL standard: one to four parts, each
 * decimal, octal (leading 0) or hex (0x); the last fills the bytes left.
 * Returns 0 with the address in out, or -1.
 */
static int
parse_ipv4(const char *h, unsigned char out[4])
{
	uint64_t part[4], v;
	int np = 0, i, base, digits;
	const char *p = h;

	for (;;) {
		if (np == 4)
			return -1;
		base = 10;
		if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X')) {
			base = 16;
			p += 2;
		} else if (p[0] == '0' && is_digit(p[1])) {
			base = 8;
			p++;
		}
		v = 0;
		digits = 0;
		for (; *p != '\0' && *p != '.'; p++) {
			int d;

			if (base == 16 && is_xdigit((unsigned char)*p))
				d = xval((unsigned char)*p);
			else if (is_digit((unsigned char)*p) &&
			    *p - '0' < base)
				d = *p - '0';
			else
				return -1;
			v = v * (uint64_t)base + (uint64_t)d;
			if (v > 0xffffffffULL)
				return -1;
			digits++;
		}
		/* "0x" alone is 0, as the standard says */
		if (digits == 0 && base != 16)
			return -1;
		part[np++] = v;
		if (*p == '\0')
			break;
		p++;
		if (*p == '\0')
			break;	/* one final dot was removed already */
	}
	for (i = 0; i < np - 1; i++)
		if (part[i] > 255)
			return -1;
	if (part[np - 1] >= (1ULL << (8 * (5 - np))))
		return -1;
	v = part[np - 1];
	for (i = 0; i < np - 1; i++)
		v += part[i] << (8 * (3 - i));
	out[0] = (unsigned char)(v >> 24);
	out[1] = (unsigned char)(v >> 16);
	out[2] = (unsigned char)(v >> 8);
	out[3] = (unsigned char)v;
	return 0;
}

/* Whether the last label of h is a number (digits, or 0x and hex). */
static int
ends_in_number(const char *h)
{
	const char *l = strrchr(h, '.'), *p;

	l = l ? l + 1 : h;
	if (*l == '\0')
		return 0;
	if (l[0] == '0' && (l[1] == 'x' || l[1] == 'X')) {
		for (p = l + 2; *p != '\0'; p++)
			if (!is_xdigit((unsigned char)*p))
				return 0;
		return 1;
	}
	for (p = l; *p != '\0'; p++)
		if (!is_digit((unsigned char)*p))
			return 0;
	return 1;
}

static int
has_alabel(const char *h)
{
	const char *p = h;

	for (;;) {
		if (prefix(p, strlen(p), "xn--"))
			return 1;
		if ((p = strchr(p, '.')) == NULL)
			return 0;
		p++;
	}
}

/* Bytes that may not appear in a host (WHATWG forbidden host code
 * points, and every control and blank). */
static int
forbidden_host(unsigned char c)
{
	return c <= 0x20 || c == 0x7f || strchr("#%/:<>?@[\\]^|", c) != NULL;
}

/* Whether a host has an empty label ("", "a..b", ".a", "a."): it names
 * nothing, and idn2 lets some through. */
static int
empty_label(const char *h)
{
	size_t n = strlen(h);

	return n == 0 || h[0] == '.' || h[n - 1] == '.' ||
	    strstr(h, "..") != NULL;
}

/* Labels of letters, digits, "-" and "_", none empty. */
static int
ldh(const char *h)
{
	const char *p;

	for (p = h; *p != '\0'; p++)
		if (*p == '.') {
			if (p == h || p[1] == '.' || p[1] == '\0')
				return 0;
		} else if (!is_alnum((unsigned char)*p) && *p != '-' &&
		    *p != '_')
			return 0;
	return p != h;
}

/*
 * The host of n bytes at s, percent-decoded, to ASCII (IDNA) or an
 * address.  Returns 0 with u->host, u->host_u and u->ip set, or -1.
 */
static int
norm_host(struct url *u, const char *s, size_t n)
{
	struct buf b = { 0 };
	char *ascii = NULL, *uni = NULL;
	unsigned char a4[4];
	struct in6_addr a6;
	char tmp[INET6_ADDRSTRLEN + 2];
	size_t i;
	int nonascii = 0, rc;

	if (n >= 2 && s[0] == '[' && s[n - 1] == ']') {
		if (n - 2 >= INET6_ADDRSTRLEN)
			return -1;
		memcpy(tmp, s + 1, n - 2);
		tmp[n - 2] = '\0';
		if (inet_pton(AF_INET6, tmp, &a6) != 1)
			return -1;
		if (inet_ntop(AF_INET6, &a6, tmp + 1, sizeof(tmp) - 2) == NULL)
			return -1;
		tmp[0] = '[';
		n = strlen(tmp);
		tmp[n] = ']';		/* room: INET6_ADDRSTRLEN + 2 */
		tmp[n + 1] = '\0';
		u->host = xstrdup(tmp);
		u->ip = 6;
		return 0;
	}
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '%' && i + 2 < n && is_xdigit((unsigned char)s[i + 1]) &&
		    is_xdigit((unsigned char)s[i + 2])) {
			c = (unsigned char)(xval((unsigned char)s[i + 1]) * 16 +
			    xval((unsigned char)s[i + 2]));
			i += 2;
		} else if (c == '%')
			goto bad;
		if (forbidden_host(c))
			goto bad;
		if (c >= 0x80)
			nonascii = 1;
		buf_add(&b, (char)lower(c));
	}
	if (b.n > 0 && b.p[b.n - 1] == '.')
		b.p[--b.n] = '\0';
	if (b.n >= 1024 || empty_label(b.p))
		goto bad;
	/* lower-case letters, digits, "-" and "_" without an A-label map
	 * to themselves, and idn2 takes its time to say so */
	if (ldh(b.p) && !has_alabel(b.p)) {
		rc = IDN2_OK;
		ascii = xstrdup(b.p);
	} else
		rc = idn2_to_ascii_8z(b.p, &ascii, IDN2_NONTRANSITIONAL |
		    IDN2_NFC_INPUT);
	if (rc != IDN2_OK) {
		ascii = NULL;
		if (nonascii)
			goto bad;
		/* ASCII IDNA refuses (a bad A-label, a label too long):
		 * kept as written if made of letters, digits, "-" and "_"
		 * in labels that are not empty, as browsers mostly do */
		if (!ldh(b.p))
			goto bad;
		ascii = xstrdup(b.p);
	} else {
		/* idn2 may hand back a final dot or upper case it kept */
		for (i = 0; ascii[i] != '\0'; i++)
			ascii[i] = (char)lower((unsigned char)ascii[i]);
		if (i > 0 && ascii[i - 1] == '.')
			ascii[i - 1] = '\0';
	}
	if (empty_label(ascii) || strlen(ascii) >= HOST_MAX)
		goto bad;
	/* again after IDNA: its mapping makes "\\" of a fullwidth reverse
	 * solidus, "/" of some compatibility forms */
	for (i = 0; ascii[i] != '\0'; i++)
		if (forbidden_host((unsigned char)ascii[i]) ||
		    (unsigned char)ascii[i] >= 0x80)
			goto bad;
	if (ends_in_number(ascii)) {
		if (parse_ipv4(ascii, a4) == -1)
			goto bad;
		if (inet_ntop(AF_INET, a4, tmp, sizeof(tmp)) == NULL)
			goto bad;
		free(ascii);
		free(b.p);
		u->host = xstrdup(tmp);
		u->ip = 4;
		return 0;
	}
	if (has_alabel(ascii) &&
	    idn2_to_unicode_8z8z(ascii, &uni, 0) == IDN2_OK) {
		u->host_u = xstrdup(uni);
		idn2_free(uni);
	}
	u->host = xstrdup(ascii);
	free(ascii);		/* both idn2's and ours come from malloc */
	free(b.p);
	return 0;
bad:
	free(ascii);
	free(b.p);
	return -1;
}

/* Append n bytes, with those outside printable ASCII percent-encoded. */
static void
add_encoded(struct buf *b, const char *s, size_t n, int slashes)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t i;
	char e[3];

	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c <= 0x20 || c >= 0x7f) {
			e[0] = '%';
			e[1] = hex[c >> 4];
			e[2] = hex[c & 15];
			buf_addn(b, e, 3);
		} else if (c == '\\' && slashes)
			buf_add(b, '/');
		else
			buf_add(b, (char)c);
	}
}

static int
special(const char *scheme)
{
	return strcmp(scheme, "http") == 0 || strcmp(scheme, "https") == 0 ||
	    strcmp(scheme, "ftp") == 0;
}

static const char *
default_port(const char *scheme)
{
	if (strcmp(scheme, "http") == 0)
		return "80";
	if (strcmp(scheme, "https") == 0)
		return "443";
	return "21";
}

int
url_parse(struct url *out, const char *s0, size_t len, int source)
{
	struct url u;
	struct buf c = { 0 }, nb = { 0 };
	const char *s, *p, *e, *auth, *hp, *he, *at, *port = NULL, *q;
	size_t n, i, portlen = 0;
	char scheme[16];

	memset(&u, 0, sizeof(u));
	/* as browsers do: blanks and controls around go, tabs and line
	 * ends inside too */
	while (len > 0 && (unsigned char)*s0 <= 0x20) {
		s0++;
		len--;
	}
	while (len > 0 && (unsigned char)s0[len - 1] <= 0x20)
		len--;
	for (i = 0; i < len && c.n < LIMIT_URL_LENGTH; i++)
		if (s0[i] != '\t' && s0[i] != '\n' && s0[i] != '\r')
			buf_add(&c, s0[i]);
	if (c.n == 0)
		goto bad;
	s = c.p;
	n = c.n;

	/* the scheme */
	for (i = 0; i < n && i < sizeof(scheme) - 1 && (is_alnum((unsigned
	    char)s[i]) || s[i] == '+' || s[i] == '-' || s[i] == '.'); i++)
		scheme[i] = (char)lower((unsigned char)s[i]);
	scheme[i] = '\0';
	if (i > 0 && i < n && s[i] == ':' && is_alpha((unsigned char)s[0])) {
		p = s + i + 1;
	} else if (n >= 2 && s[0] == '/' && s[1] == '/') {
		memcpy(scheme, "http", 5);
		p = s;
	} else if (source == URL_TEXT && prefix(s, n, "www.")) {
		memcpy(scheme, "http", 5);
		p = s;
	} else
		goto bad;
	e = s + n;

	if (strcmp(scheme, "data") == 0 || strcmp(scheme, "javascript") == 0 ||
	    strcmp(scheme, "vbscript") == 0) {
		buf_addn(&nb, scheme, strlen(scheme));
		buf_add(&nb, ':');
		add_encoded(&nb, p, (size_t)(e - p), 0);
		goto done;
	}
	if (!special(scheme))
		goto bad;

	/* special schemes: any slashes, then the authority */
	while (p < e && (*p == '/' || *p == '\\'))
		p++;
	auth = p;
	while (p < e && *p != '/' && *p != '\\' && *p != '?' && *p != '#')
		p++;
	/* userinfo: up to the last "@" of the authority */
	hp = auth;
	for (at = auth; at < p; at++)
		if (*at == '@') {
			u.userinfo = 1;
			hp = at + 1;
		}
	if (hp < p && *hp == '[') {
		for (he = hp; he < p && *he != ']'; he++)
			;
		if (he == p)
			goto bad;
		he++;
		if (he < p && *he != ':')
			goto bad;
	} else
		for (he = hp; he < p && *he != ':'; he++)
			;
	if (he < p) {
		port = he + 1;
		portlen = (size_t)(p - port);
		for (q = port; q < p; q++)
			if (!is_digit((unsigned char)*q))
				goto bad;
		while (portlen > 1 && *port == '0') {
			port++;
			portlen--;
		}
		if (portlen > 5 || (portlen == 5 && strncmp(port, "65535",
		    5) > 0))
			goto bad;
	}
	if (he == hp || norm_host(&u, hp, (size_t)(he - hp)) == -1)
		goto bad;

	buf_addn(&nb, scheme, strlen(scheme));
	buf_addn(&nb, "://", 3);
	if (u.userinfo)
		add_encoded(&nb, auth, (size_t)(hp - auth), 0);
	buf_addn(&nb, u.host, strlen(u.host));
	if (port != NULL && portlen > 0 && !(strlen(default_port(scheme)) ==
	    portlen && memcmp(port, default_port(scheme), portlen) == 0)) {
		buf_add(&nb, ':');
		buf_addn(&nb, port, portlen);
	}
	if (p == e || *p == '?' || *p == '#')
		buf_add(&nb, '/');
	/* the path, with "\" read as "/"; then the query and fragment */
	for (q = p; q < e && *q != '?' && *q != '#'; q++)
		;
	add_encoded(&nb, p, (size_t)(q - p), 1);
	add_encoded(&nb, q, (size_t)(e - q), 0);
done:
	u.raw = c.p;
	u.norm = nb.p;
	u.scheme = xstrdup(scheme);
	u.source = source;
	*out = u;
	return 0;
bad:
	free(u.host);
	free(u.host_u);
	free(c.p);
	free(nb.p);
	return -1;
}

void
url_free(struct url *u)
{
	free(u->raw);
	free(u->norm);
	free(u->scheme);
	free(u->host);
	free(u->host_u);
	free(u->text);
	memset(u, 0, sizeof(*u));
}

void
urlset_free(struct urlset *set)
{
	size_t i;

	for (i = 0; i < set->n; i++)
		url_free(&set->v[i]);
	free(set->v);
	free(set->idx);
	memset(set, 0, sizeof(*set));
}

static uint64_t
hash(const char *s)
{
	uint64_t h = 0xcbf29ce484222325ULL;

	for (; *s != '\0'; s++) {
		h ^= (unsigned char)*s;
		h *= 0x100000001b3ULL;
	}
	return h ^ (h >> 29);
}

/* The slot of norm in the set's index: where it is, or the empty one
 * where it would go.  The index has room (idxcap > 2 n). */
static size_t
slot(const struct urlset *set, const char *norm)
{
	size_t i = (size_t)hash(norm) & (set->idxcap - 1);

	while (set->idx[i] != 0 && strcmp(set->v[set->idx[i] - 1].norm,
	    norm) != 0)
		i = (i + 1) & (set->idxcap - 1);
	return i;
}

/* Add the URL at s; returns its index in the set (a new one or the one
 * it duplicates), or -1 (not a URL, or over the limit). */
static long
set_add(struct urlset *set, const char *s, size_t n, int source)
{
	struct url u;
	size_t i, k;

	if (url_parse(&u, s, n, source) == -1)
		return -1;
	if (set->idxcap == 0) {
		/* a power of two over twice LIMIT_URLS: never full */
		for (set->idxcap = 64; set->idxcap <= 2 * LIMIT_URLS;
		    set->idxcap *= 2)
			;
		set->idx = xcalloc(set->idxcap, sizeof(*set->idx));
	}
	k = slot(set, u.norm);
	if (set->idx[k] != 0) {
		url_free(&u);
		return (long)(set->idx[k] - 1);
	}
	if (set->n >= LIMIT_URLS) {
		set->dropped++;
		url_free(&u);
		return -1;
	}
	if (set->n == set->cap) {
		set->cap = set->cap ? set->cap * 2 : 16;
		set->v = xreallocarray(set->v, set->cap, sizeof(*set->v));
	}
	set->v[set->n++] = u;
	set->idx[k] = set->n;
	i = set->n - 1;
	return (long)i;
}

/*
 * Text
 */

/* Length of a UTF-8 sequence at s that ends a URL in text (a Unicode
 * space or quotation mark, an ideographic bracket), or 0. */
static size_t
unicode_stop(const unsigned char *s, size_t n)
{
	if (n >= 2 && s[0] == 0xc2 && (s[1] == 0xa0 || s[1] == 0xab ||
	    s[1] == 0xbb))
		return 2;
	if (n >= 3 && s[0] == 0xe2 && s[1] == 0x80 && s[2] >= 0x80 &&
	    s[2] <= 0xaf)
		return 3;	/* U+2000-U+202F: spaces, dashes, quotes */
	if (n >= 3 && s[0] == 0xe3 && s[1] == 0x80 && s[2] >= 0x80 &&
	    s[2] <= 0x91)
		return 3;	/* U+3000-U+3011: CJK space and punctuation */
	if (n >= 3 && s[0] == 0xef && s[1] == 0xbb && s[2] == 0xbf)
		return 3;	/* BOM */
	if (n >= 3 && s[0] == 0xef && s[1] == 0xbc && (s[2] == 0x88 ||
	    s[2] == 0x89 || s[2] == 0x8c))
		return 3;	/* fullwidth ( ) , */
	return 0;
}

static int
text_stop(unsigned char c)
{
	return c <= 0x20 || c == 0x7f || strchr("<>\"`{}|", c) != NULL;
}

/* Drop trailing punctuation, and closing brackets without an opening one
 * in the URL. */
static size_t
trim_tail(const char *s, size_t n)
{
	size_t i, open, close;
	char o;

	while (n > 0) {
		char c = s[n - 1];

		if (strchr(".,:;!?'*", c) != NULL) {
			n--;
			continue;
		}
		if (c == ')' || c == ']') {
			o = c == ')' ? '(' : '[';
			open = close = 0;
			for (i = 0; i < n; i++) {
				if (s[i] == o)
					open++;
				else if (s[i] == c)
					close++;
			}
			if (close > open) {
				n--;
				continue;
			}
		}
		break;
	}
	return n;
}

static void
extract_text(struct urlset *set, const char *s, size_t n, int source)
{
	size_t i = 0, j, k;
	unsigned char prev;

	while (i < n) {
		unsigned char c = (unsigned char)s[i];

		prev = i > 0 ? (unsigned char)s[i - 1] : ' ';
		if ((c != 'h' && c != 'H' && c != 'f' && c != 'F' &&
		    c != 'w' && c != 'W') || is_alnum(prev) ||
		    strchr("@./-_", prev) != NULL || prev == 0) {
			i++;
			continue;
		}
		if (!prefix(s + i, n - i, "http://") &&
		    !prefix(s + i, n - i, "https://") &&
		    !prefix(s + i, n - i, "ftp://") &&
		    !prefix(s + i, n - i, "www.")) {
			i++;
			continue;
		}
		for (j = i; j < n; j++) {
			if (text_stop((unsigned char)s[j]))
				break;
			if ((unsigned char)s[j] >= 0x80 &&
			    unicode_stop((const unsigned char *)s + j,
			    n - j) > 0)
				break;
		}
		k = trim_tail(s + i, j - i);
		if (k > 4)
			(void)set_add(set, s + i, k, source);
		i = j > i ? j : i + 1;
	}
}

void
url_extract_text(struct urlset *set, const char *s, size_t n)
{
	if (n > LIMIT_URL_INPUT) {
		n = LIMIT_URL_INPUT;
		set->truncated = 1;
	}
	extract_text(set, s, n, URL_TEXT);
}

/*
 * HTML
 */

static void
add_utf8(struct buf *b, unsigned long cp)
{
	char u[4];

	if (cp == 0 || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		cp = 0xfffd;
	if (cp < 0x80) {
		buf_add(b, (char)cp);
	} else if (cp < 0x800) {
		u[0] = (char)(0xc0 | (cp >> 6));
		u[1] = (char)(0x80 | (cp & 0x3f));
		buf_addn(b, u, 2);
	} else if (cp < 0x10000) {
		u[0] = (char)(0xe0 | (cp >> 12));
		u[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		u[2] = (char)(0x80 | (cp & 0x3f));
		buf_addn(b, u, 3);
	} else {
		u[0] = (char)(0xf0 | (cp >> 18));
		u[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
		u[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
		u[3] = (char)(0x80 | (cp & 0x3f));
		buf_addn(b, u, 4);
	}
}

/* The entity at s (just after "&"): its length up to and with ";", the
 * code point in *cp; 0 when it is not one we know. */
static size_t
entity(const char *s, size_t n, unsigned long *cp)
{
	static const struct {
		const char *name;
		unsigned long cp;
	} named[] = {
		{ "amp;", '&' }, { "lt;", '<' }, { "gt;", '>' },
		{ "quot;", '"' }, { "apos;", '\'' }, { "nbsp;", 0xa0 },
		{ "sol;", '/' }, { "colon;", ':' }, { "period;", '.' },
		{ "commat;", '@' }, { "tab;", '\t' }, { "newline;", '\n' },
	};
	unsigned long v = 0;
	size_t i, k;
	int hex = 0;

	if (n > 0 && s[0] == '#') {
		i = 1;
		if (i < n && (s[i] == 'x' || s[i] == 'X')) {
			hex = 1;
			i++;
		}
		k = i;
		for (; i < n && (hex ? is_xdigit((unsigned char)s[i]) :
		    is_digit((unsigned char)s[i])); i++)
			if (v <= 0x10ffff)
				v = v * (hex ? 16 : 10) +
				    (unsigned long)xval((unsigned char)s[i]);
		if (i == k)
			return 0;
		*cp = v;
		/* the ";" is optional for numbers, as in browsers */
		return i < n && s[i] == ';' ? i + 1 : i;
	}
	for (k = 0; k < sizeof(named) / sizeof(named[0]); k++)
		if (prefix(s, n, named[k].name)) {
			*cp = named[k].cp;
			return strlen(named[k].name);
		}
	return 0;
}

/* Decode the entities of n bytes at s into b. */
static void
decode(struct buf *b, const char *s, size_t n)
{
	unsigned long cp;
	size_t i, k;

	for (i = 0; i < n; i++) {
		if (s[i] == '&' && (k = entity(s + i + 1, n - i - 1, &cp)) > 0) {
			add_utf8(b, cp);
			i += k;
		} else
			buf_add(b, s[i]);
	}
}

/* Visible text into b, blanks collapsed, at most max bytes. */
static void
add_text(struct buf *b, const char *s, size_t n, size_t max)
{
	struct buf d = { 0 };
	size_t i;

	decode(&d, s, n);
	for (i = 0; i < d.n && b->n < max; i++) {
		unsigned char c = (unsigned char)d.p[i];

		if (c <= 0x20) {
			if (b->n > 0 && b->p[b->n - 1] != ' ')
				buf_add(b, ' ');
		} else
			buf_add(b, (char)c);
	}
	free(d.p);
}

/* Whether a link text looks like a host or URL: a dot, no blank. */
static int
hostish(const char *t)
{
	return t != NULL && strchr(t, '.') != NULL && strchr(t, ' ') == NULL;
}

struct attr {
	const char *v;
	size_t n;
};

struct tag {
	char name[16];
	struct attr href, src, action, equiv, content;
};

/* Skip to the first case-insensitive "</name" from s; returns where the
 * closing tag starts, or e. */
static const char *
skip_raw(const char *s, const char *e, const char *name)
{
	size_t nl = strlen(name);

	for (; s < e; s++)
		if (s[0] == '<' && e - s > (long)nl + 1 && s[1] == '/' &&
		    prefix(s + 2, (size_t)(e - s - 2), name))
			return s;
	return e;
}

/* Read the tag at s (just after "<" and a letter); returns the end of
 * the tag (after ">", or e). */
static const char *
read_tag(const char *s, const char *e, struct tag *t)
{
	char an[16];
	size_t ni, ai;
	struct attr v, *slot;

	memset(t, 0, sizeof(*t));
	for (ni = 0; s < e && (is_alnum((unsigned char)*s) || *s == '-' ||
	    *s == ':'); s++)
		if (ni < sizeof(t->name) - 1)
			t->name[ni++] = (char)lower((unsigned char)*s);
		else
			t->name[0] = '?';	/* too long: no tag of ours */
	t->name[ni] = '\0';
	for (;;) {
		while (s < e && ((unsigned char)*s <= 0x20 || *s == '/'))
			s++;
		if (s >= e)
			return e;
		if (*s == '>')
			return s + 1;
		ai = 0;
		an[0] = '\0';
		for (; s < e && (unsigned char)*s > 0x20 && *s != '/' &&
		    *s != '>' && (*s != '=' || ai == 0); s++)
			if (ai < sizeof(an) - 1)
				an[ai++] = (char)lower((unsigned char)*s);
			else
				an[0] = '?';
		an[ai] = '\0';
		while (s < e && (unsigned char)*s <= 0x20)
			s++;
		v.v = NULL;
		v.n = 0;
		if (s < e && *s == '=') {
			s++;
			while (s < e && (unsigned char)*s <= 0x20)
				s++;
			if (s < e && (*s == '"' || *s == '\'')) {
				char qc = *s++;

				v.v = s;
				while (s < e && *s != qc)
					s++;
				v.n = (size_t)(s - v.v);
				if (s < e)
					s++;
			} else {
				v.v = s;
				while (s < e && (unsigned char)*s > 0x20 &&
				    *s != '>')
					s++;
				v.n = (size_t)(s - v.v);
			}
		}
		slot = NULL;
		if (strcmp(an, "href") == 0)
			slot = &t->href;
		else if (strcmp(an, "src") == 0)
			slot = &t->src;
		else if (strcmp(an, "action") == 0)
			slot = &t->action;
		else if (strcmp(an, "http-equiv") == 0)
			slot = &t->equiv;
		else if (strcmp(an, "content") == 0)
			slot = &t->content;
		/* the first of a name counts, as in browsers */
		if (slot != NULL && slot->v == NULL && v.v != NULL)
			*slot = v;
	}
}

/* Add the URL of an attribute value; returns as set_add does. */
static long
add_attr(struct urlset *set, const struct attr *a, int source)
{
	struct buf d = { 0 };
	long r;

	if (a->v == NULL)
		return -1;
	decode(&d, a->v, a->n > LIMIT_URL_LENGTH * 2 ? LIMIT_URL_LENGTH * 2 :
	    a->n);
	r = d.n > 0 ? set_add(set, d.p, d.n, source) : -1;
	free(d.p);
	return r;
}

/* meta refresh content: "5; url=http://..." (quotes optional). */
static void
add_refresh(struct urlset *set, const struct attr *a)
{
	struct buf d = { 0 };
	const char *p, *e;

	decode(&d, a->v, a->n > LIMIT_URL_LENGTH * 2 ? LIMIT_URL_LENGTH * 2 :
	    a->n);
	p = d.p ? d.p : "";
	e = p + d.n;
	while (p < e && (is_digit((unsigned char)*p) || *p == '.' ||
	    (unsigned char)*p <= 0x20))
		p++;
	if (p < e && (*p == ';' || *p == ','))
		p++;
	while (p < e && (unsigned char)*p <= 0x20)
		p++;
	if (prefix(p, (size_t)(e - p), "url")) {
		p += 3;
		while (p < e && (unsigned char)*p <= 0x20)
			p++;
		if (p < e && *p == '=') {
			p++;
			while (p < e && (unsigned char)*p <= 0x20)
				p++;
			if (p < e && (*p == '"' || *p == '\'')) {
				const char *q = memchr(p + 1, *p,
				    (size_t)(e - p - 1));

				p++;
				if (q != NULL)
					e = q;
			}
			(void)set_add(set, p, (size_t)(e - p), URL_HTML_META);
		}
	}
	free(d.p);
}

static void
set_text(struct urlset *set, long idx, struct buf *t)
{
	struct url *u;

	while (t->n > 0 && t->p[t->n - 1] == ' ')
		t->p[--t->n] = '\0';
	if (idx >= 0 && t->n > 0) {
		u = &set->v[idx];
		if (u->text == NULL) {
			u->text = xstrdup(t->p);
		} else if (!hostish(u->text) && hostish(t->p)) {
			free(u->text);
			u->text = xstrdup(t->p);
		}
	}
	free(t->p);
	memset(t, 0, sizeof(*t));
}

void
url_extract_html(struct urlset *set, const char *s, size_t n)
{
	struct buf text = { 0 }, link = { 0 };
	struct tag t;
	const char *p = s, *e, *q;
	long anchor = -1;
	int in_a = 0;

	if (n > LIMIT_URL_INPUT) {
		n = LIMIT_URL_INPUT;
		set->truncated = 1;
	}
	e = s + n;
	while (p < e) {
		q = memchr(p, '<', (size_t)(e - p));
		if (q == NULL)
			q = e;
		if (in_a)
			add_text(&link, p, (size_t)(q - p), LIMIT_URL_TEXT);
		else
			add_text(&text, p, (size_t)(q - p), SIZE_MAX);
		if (q == e)
			break;
		p = q + 1;
		if (p < e && *p == '!' && e - p >= 3 && p[1] == '-' &&
		    p[2] == '-') {
			q = p + 3;
			while (q < e && !(e - q >= 3 && memcmp(q, "-->", 3) == 0))
				q++;
			p = q < e ? q + 3 : e;
			continue;
		}
		if (p < e && (*p == '!' || *p == '?' || (*p == '/' &&
		    e - p > 1 && is_alpha((unsigned char)p[1])))) {
			int close_a = *p == '/' && (e - p == 2 ||
			    (e - p > 2 && !is_alnum((unsigned char)p[2]))) &&
			    (p[1] == 'a' || p[1] == 'A');

			q = memchr(p, '>', (size_t)(e - p));
			p = q ? q + 1 : e;
			if (close_a && in_a) {
				set_text(set, anchor, &link);
				in_a = 0;
				anchor = -1;
			}
			buf_add(&text, ' ');
			continue;
		}
		if (p >= e || !is_alpha((unsigned char)*p)) {
			if (in_a)
				add_text(&link, "<", 1, LIMIT_URL_TEXT);
			else
				buf_add(&text, '<');
			continue;
		}
		p = read_tag(p, e, &t);
		buf_add(&text, ' ');
		if (strcmp(t.name, "a") == 0) {
			if (in_a)
				set_text(set, anchor, &link);
			anchor = add_attr(set, &t.href, URL_HTML_HREF);
			in_a = 1;
		} else if (strcmp(t.name, "area") == 0) {
			(void)add_attr(set, &t.href, URL_HTML_HREF);
		} else if (strcmp(t.name, "img") == 0) {
			(void)add_attr(set, &t.src, URL_HTML_SRC);
		} else if (strcmp(t.name, "iframe") == 0 ||
		    strcmp(t.name, "frame") == 0 ||
		    strcmp(t.name, "embed") == 0) {
			(void)add_attr(set, &t.src, URL_HTML_FRAME);
		} else if (strcmp(t.name, "script") == 0) {
			(void)add_attr(set, &t.src, URL_HTML_SCRIPT);
			p = skip_raw(p, e, "script");
		} else if (strcmp(t.name, "style") == 0) {
			p = skip_raw(p, e, "style");
		} else if (strcmp(t.name, "form") == 0) {
			(void)add_attr(set, &t.action, URL_HTML_FORM);
		} else if (strcmp(t.name, "meta") == 0 && t.equiv.v != NULL &&
		    t.content.v != NULL) {
			struct buf eq = { 0 };

			add_text(&eq, t.equiv.v, t.equiv.n, 64);
			while (eq.n > 0 && eq.p[eq.n - 1] == ' ')
				eq.n--;
			if (eq.n == 7 && prefix(eq.p, eq.n, "refresh"))
				add_refresh(set, &t.content);
			free(eq.p);
		}
	}
	if (in_a)
		set_text(set, anchor, &link);
	free(link.p);
	if (text.n > 0)
		extract_text(set, text.p, text.n, URL_TEXT);
	free(text.p);
}

/*
 * Checks
 */

int
url_policy_init(struct url_policy *pol, char *err, size_t errsz)
{
	UErrorCode ue = U_ZERO_ERROR;
	struct url_ctx *c;

	c = xcalloc(1, sizeof(*c));
	/* the newer of the system's list and the one built into libpsl */
	if ((c->psl = psl_latest(NULL)) == NULL) {
		snprintf(err, errsz, "Public Suffix List: cannot load");
		free(c);
		return -1;
	}
	c->spoof = uspoof_open(&ue);
	if (U_SUCCESS(ue)) {
		uspoof_setChecks(c->spoof, USPOOF_RESTRICTION_LEVEL, &ue);
		uspoof_setRestrictionLevel(c->spoof,
		    USPOOF_MODERATELY_RESTRICTIVE);
	}
	if (U_FAILURE(ue)) {
		snprintf(err, errsz, "ICU spoof checker: %s", u_errorName(ue));
		uspoof_close(c->spoof);
		psl_free(c->psl);
		free(c);
		return -1;
	}
	pol->ctx = c;
	return 0;
}

void
url_policy_fini(struct url_policy *pol)
{
	if (pol->ctx == NULL)
		return;
	uspoof_close(pol->ctx->spoof);
	psl_free(pol->ctx->psl);
	free(pol->ctx);
	pol->ctx = NULL;
}

int
url_registrable(const struct url_policy *pol, const char *host, char *out,
    size_t outsz)
{
	const char *r;

	if (host == NULL || host[0] == '[' || ends_in_number(host))
		return -1;
	if ((r = psl_registrable_domain(pol->ctx->psl, host)) == NULL ||
	    strlen(r) >= outsz)
		return -1;
	memcpy(out, r, strlen(r) + 1);
	return 0;
}

static void __attribute__((format(printf, 5, 6)))
say(url_reason_fn *reason, void *arg, const char *rule, int score,
    const char *fmt, ...)
{
	char d[DETAIL_MAX];
	va_list ap;
	size_t i;

	va_start(ap, fmt);
	(void)vsnprintf(d, sizeof(d), fmt, ap);	/* cut is fine */
	va_end(ap);
	/* printable ASCII only: hosts are, link texts need not be */
	for (i = 0; d[i] != '\0'; i++)
		if ((unsigned char)d[i] < 0x20 || (unsigned char)d[i] >= 0x7f)
			d[i] = '?';
	reason(arg, rule, score, d);
}

/* The host of a link text that shows a URL or a domain, into h; 0 or -1. */
static int
text_host(const struct url_policy *pol, const char *text, char *h,
    size_t hsz)
{
	struct url t;
	struct buf b = { 0 };
	const char *s = text, *tld;
	size_t n = strlen(text);
	int has_scheme, r = -1;

	while (n > 0 && (unsigned char)*s <= 0x20) {
		s++;
		n--;
	}
	while (n > 0 && (unsigned char)s[n - 1] <= 0x20)
		n--;
	n = trim_tail(s, n);
	if (n == 0 || memchr(s, ' ', n) != NULL)
		return -1;
	has_scheme = prefix(s, n, "http://") || prefix(s, n, "https://") ||
	    prefix(s, n, "ftp://");
	if (!has_scheme) {
		/* "jane@example.com" shows an address, not a link */
		if (memchr(s, '@', n) != NULL || memchr(s, '.', n) == NULL)
			return -1;
		buf_addn(&b, "http://", 7);
	}
	buf_addn(&b, s, n);
	if (url_parse(&t, b.p, b.n, URL_HTML_HREF) == -1)
		goto out;
	if (t.ip != 0) {
		/* a bare "1.2.3.4" may be a version: only with a scheme */
		if (!has_scheme)
			goto done;
	} else {
		tld = strrchr(t.host, '.');
		if (tld == NULL && !has_scheme)
			goto done;
		/* a known top-level domain: "invoice.pdf" is a file name */
		if (!has_scheme && !psl_is_public_suffix2(pol->ctx->psl,
		    tld + 1, PSL_TYPE_ANY | PSL_TYPE_NO_STAR_RULE))
			goto done;
	}
	if (strlen(t.host) < hsz) {
		memcpy(h, t.host, strlen(t.host) + 1);
		r = 0;
	}
done:
	url_free(&t);
out:
	free(b.p);
	return r;
}

/* The registrable domain of host, or host itself (an address, or a
 * public suffix). */
static void
org(const struct url_policy *pol, const char *host, char *out, size_t outsz)
{
	if (url_registrable(pol, host, out, outsz) == -1)
		snprintf(out, outsz, "%s", host);
}

/* A built-in list of common URL shorteners (their own domains). */
static const char *const shorteners[] = {
	"adf.ly", "bit.do", "bit.ly", "bitly.com", "bl.ink", "buff.ly",
	"cutt.ly", "db.tt", "goo.gl", "is.gd", "lnkd.in", "ow.ly",
	"qrco.de", "rb.gy", "rebrand.ly", "s.id", "shorte.st",
	"shorturl.at", "t.co", "t.ly", "tiny.cc", "tinyurl.com", "trib.al",
	"u.to", "v.gd", "x.co", "y2u.be", "soo.gd", "clck.ru", "surl.li",
};

/* Whether host or a parent of it is name. */
static int
under(const char *host, const char *name)
{
	size_t h = strlen(host), n = strlen(name);

	return h == n ? strcmp(host, name) == 0 :
	    h > n && host[h - n - 1] == '.' && strcmp(host + h - n, name) == 0;
}

/* The entry of t that is host or a parent of it, or NULL. */
static const char *
table_parent(const struct table *t, const char *host)
{
	const char *p = host;

	if (t == NULL)
		return NULL;
	for (;;) {
		if (table_has(t, p))
			return p;
		if ((p = strchr(p, '.')) == NULL)
			return NULL;
		p++;
	}
}

static int
mixed_script(const struct url_policy *pol, const char *host_u)
{
	UErrorCode ue = U_ZERO_ERROR;
	const char *p = host_u, *dot;
	int32_t r;
	size_t n;

	while (*p != '\0') {
		dot = strchr(p, '.');
		n = dot ? (size_t)(dot - p) : strlen(p);
		ue = U_ZERO_ERROR;
		r = uspoof_checkUTF8(pol->ctx->spoof, p, (int32_t)n, NULL,
		    &ue);
		if (U_SUCCESS(ue) && (r & USPOOF_RESTRICTION_LEVEL))
			return 1;
		p += n;
		if (*p == '.')
			p++;
	}
	return 0;
}

static const char *
source_name(int source)
{
	switch (source) {
	case URL_HTML_HREF: return "a link";
	case URL_HTML_SRC: return "an image";
	case URL_HTML_FRAME: return "a frame";
	case URL_HTML_SCRIPT: return "a script";
	case URL_HTML_FORM: return "a form";
	case URL_HTML_META: return "a meta refresh";
	case URL_ATTACHMENT: return "an attachment";
	default: return "text";
	}
}

void
url_check(const struct url *u, const struct url_policy *pol,
    url_reason_fn *reason, void *arg)
{
	char th[HOST_MAX], a[HOST_MAX], b[HOST_MAX], mt[64];
	const char *h = u->host, *target, *hit;
	enum lookalike_why why;
	struct sockaddr_storage ss;
	size_t i;

	if (h != NULL && u->ip != 0)
		say(reason, arg, "url.ip_literal", URL_SCORE_IP_LITERAL,
		    "host %s is an IP address", h);
	if (h != NULL && u->ip == 0 && has_alabel(h))
		say(reason, arg, "url.punycode", URL_SCORE_PUNYCODE,
		    "host %s is an internationalised name", h);
	if (u->host_u != NULL && mixed_script(pol, u->host_u))
		say(reason, arg, "url.mixed_script", URL_SCORE_MIXED_SCRIPT,
		    "host %s mixes scripts", h);
	if (h != NULL && u->text != NULL &&
	    text_host(pol, u->text, th, sizeof(th)) == 0) {
		org(pol, th, a, sizeof(a));
		org(pol, h, b, sizeof(b));
		if (strcmp(a, b) != 0)
			say(reason, arg, "url.text_mismatch",
			    URL_SCORE_TEXT_MISMATCH,
			    "link text shows %s, link goes to %s", th, h);
	}
	if (h != NULL && u->ip == 0 && pol->lookalike != NULL &&
	    (why = lookalike_domain(pol->lookalike, h, &target)) !=
	    LOOKALIKE_NONE)
		say(reason, arg, "url.lookalike", URL_SCORE_LOOKALIKE,
		    "host %s looks like %s (%s)", h, target,
		    lookalike_why_str(why));
	if (h != NULL && u->ip == 0) {
		hit = NULL;
		for (i = 0; i < sizeof(shorteners) / sizeof(shorteners[0]);
		    i++)
			if (under(h, shorteners[i]))
				hit = shorteners[i];
		if (hit == NULL)
			hit = table_parent(pol->shorteners, h);
		if (hit != NULL)
			say(reason, arg, "url.shortener", URL_SCORE_SHORTENER,
			    "host %s is a URL shortener", h);
	}
	if (strcmp(u->scheme, "data") == 0) {
		const char *p = u->norm + 5;

		for (i = 0; p[i] != '\0' && p[i] != ';' && p[i] != ',' &&
		    i < sizeof(mt) - 1; i++)
			mt[i] = (char)lower((unsigned char)p[i]);
		mt[i] = '\0';
		if ((u->source != URL_HTML_SRC && u->source != URL_TEXT) ||
		    strcmp(mt, "text/html") == 0 ||
		    strcmp(mt, "application/xhtml+xml") == 0 ||
		    strcmp(mt, "image/svg+xml") == 0 ||
		    strcmp(mt, "text/javascript") == 0 ||
		    strcmp(mt, "application/javascript") == 0 ||
		    strcmp(mt, "application/x-javascript") == 0)
			say(reason, arg, "url.data", URL_SCORE_DATA,
			    "data: URL (%s) in %s", mt[0] ? mt : "text/plain",
			    source_name(u->source));
	}
	if (strcmp(u->scheme, "javascript") == 0 ||
	    strcmp(u->scheme, "vbscript") == 0)
		say(reason, arg, "url.javascript", URL_SCORE_JAVASCRIPT,
		    "%s: URL in %s", u->scheme, source_name(u->source));
	if (u->userinfo)
		say(reason, arg, "url.userinfo", URL_SCORE_USERINFO,
		    "userinfo before host %s", h ? h : "");
	if (h != NULL && pol->blocklist != NULL) {
		hit = NULL;
		memset(&ss, 0, sizeof(ss));
		if (u->ip == 4) {
			struct sockaddr_in *sin = (struct sockaddr_in *)&ss;

			sin->sin_family = AF_INET;
			if (inet_pton(AF_INET, h, &sin->sin_addr) == 1 &&
			    table_has_addr(pol->blocklist,
			    (struct sockaddr *)&ss))
				hit = h;
		} else if (u->ip == 6) {
			struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
			size_t n = strlen(h);

			s6->sin6_family = AF_INET6;
			snprintf(a, sizeof(a), "%.*s", (int)(n - 2), h + 1);
			if (inet_pton(AF_INET6, a, &s6->sin6_addr) == 1 &&
			    table_has_addr(pol->blocklist,
			    (struct sockaddr *)&ss))
				hit = h;
		} else
			hit = table_parent(pol->blocklist, h);
		if (hit != NULL)
			say(reason, arg, "url.blocklist", URL_SCORE_BLOCKLIST,
			    "host %s is blocked (%s)", h, hit);
	}
}

/*
 * DNS URI block lists
 */

struct uq {
	int id;		/* > 0 while pending */
	int done;
	enum dns_status st;
	char listed[INET_ADDRSTRLEN];	/* the answer listing it, or "" */
	int *pending;
	const char *name, *zone;
};

static void
uribl_cb(void *arg, const struct dns_answer *an)
{
	struct uq *q = arg;
	uint32_t a;
	int i;

	q->done = 1;
	q->id = 0;
	q->st = an->status;
	(*q->pending)--;
	for (i = 0; i < an->nrr; i++) {
		if (an->rr[i].type != DNS_T_A)
			continue;
		a = ntohl(an->rr[i].a.s_addr);
		/* 127.0.0.1 and 127.255.255.x: the list refuses the query */
		if ((a >> 24) != 127 || a == 0x7f000001 ||
		    (a >> 8) == 0x7fffff)
			continue;
		(void)inet_ntop(AF_INET, &an->rr[i].a, q->listed,
		    sizeof(q->listed));
		break;
	}
}

/* The name to ask about u, into out; 0 or -1 (nothing to ask). */
static int
uribl_name(const struct url_policy *pol, const struct url *u, char *out,
    size_t outsz)
{
	unsigned char a4[4];
	const char *p;

	if (u->host == NULL || u->ip == 6)
		return -1;
	if (u->ip == 4) {
		if (inet_pton(AF_INET, u->host, a4) != 1)
			return -1;
		snprintf(out, outsz, "%u.%u.%u.%u", a4[3], a4[2], a4[1], a4[0]);
		return 0;
	}
	if (url_registrable(pol, u->host, out, outsz) == -1)
		return -1;
	for (p = out; *p != '\0'; p++)
		if (!is_alnum((unsigned char)*p) && *p != '-' && *p != '_' &&
		    *p != '.')
			return -1;
	return 0;
}

int
url_uribl(struct dns *d, const struct urlset *set,
    const struct url_policy *pol, url_reason_fn *reason, void *arg)
{
	char (*names)[HOST_MAX] = NULL, qn[DNS_NAME_MAX], name[HOST_MAX];
	struct uq *q = NULL;
	struct pollfd pfd;
	size_t nn = 0, nq = 0, i, j, z;
	int pending = 0, failed = 0, r = -1, t, saved;

	if (pol->nuribl == 0 || set->n == 0)
		return 0;
	names = xcalloc(set->n, sizeof(*names));
	for (i = 0; i < set->n; i++) {
		if (uribl_name(pol, &set->v[i], name, sizeof(name)) == -1)
			continue;
		for (j = 0; j < nn && strcmp(names[j], name) != 0; j++)
			;
		if (j == nn)
			memcpy(names[nn++], name, sizeof(name));
	}
	q = xcalloc(LIMIT_URIBL_QUERIES, sizeof(*q));
	for (i = 0; i < nn; i++)
		for (z = 0; z < pol->nuribl && nq < LIMIT_URIBL_QUERIES; z++) {
			if ((size_t)snprintf(qn, sizeof(qn), "%s.%s", names[i],
			    pol->uribl[z]) >= sizeof(qn) - 1)
				continue;
			q[nq].pending = &pending;
			q[nq].name = names[i];
			q[nq].zone = pol->uribl[z];
			t = dns_query(d, qn, DNS_T_A, uribl_cb, &q[nq]);
			if (t == -1) {
				if (errno == EINVAL)
					continue;	/* never to be found */
				goto out;
			}
			q[nq].id = t;
			pending++;
			nq++;
		}
	while (pending > 0) {
		pfd.fd = dns_fd(d);
		pfd.events = POLLIN;
		t = dns_next_timeout(d);
		if (poll(&pfd, 1, t) == -1 && errno != EINTR)
			goto out;
		if (dns_process(d) == -1)
			goto out;
	}
	for (i = 0; i < nq; i++) {
		if (q[i].st == DNS_TEMPFAIL)
			failed++;
		if (q[i].listed[0] != '\0')
			say(reason, arg, "url.uribl", URL_SCORE_URIBL,
			    "%s listed by %s (%s)", q[i].name, q[i].zone,
			    q[i].listed);
	}
	r = failed;
out:
	saved = errno;
	for (i = 0; q != NULL && i < nq; i++)
		if (q[i].id > 0)
			dns_cancel(d, q[i].id);
	free(q);
	free(names);
	errno = saved;
	return r;
}
