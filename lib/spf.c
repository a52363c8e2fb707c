/*
 * spf: Sender Policy Framework, RFC 7208.  See spf.h.
 *
 * A record is parsed whole before any of it is evaluated, so a syntax
 * error anywhere is a permerror whatever comes before it (4.6).  The
 * evaluation is check_host() as section 4 writes it, recursive through
 * include and redirect; the counters of 4.6.4 live in one struct check
 * for the whole of it, so loops end at the lookup limit.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include <jansson.h>

#include "dns.h"
#include "limit.h"
#include "log.h"
#include "record.h"
#include "spf.h"
#include "xalloc.h"

/* Macro-string flavours: where the string stands decides what it may
 * hold (RFC 7208 7.1, 6.2). */
enum mmode {
	M_DOMAIN,	/* domain-spec: letters slodiphv, no space */
	M_EXPLAIN,	/* explain-string: all letters, spaces */
	M_MODIFIER	/* unknown-modifier value: all letters, no space */
};

#define WINDOW	1024	/* bytes of a domain expansion kept, from the
			 * right: 253 are enough after the cut of 7.3 */

const char *
spf_result_str(enum spf_result r)
{
	switch (r) {
	case SPF_NONE:		return "none";
	case SPF_NEUTRAL:	return "neutral";
	case SPF_PASS:		return "pass";
	case SPF_FAIL:		return "fail";
	case SPF_SOFTFAIL:	return "softfail";
	case SPF_TEMPERROR:	return "temperror";
	case SPF_PERMERROR:	return "permerror";
	}
	return "unknown";
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
lower(int c)
{
	return c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c;
}

/* Case-insensitive comparison of n bytes at p with the word w. */
static int
word_eq(const char *p, size_t n, const char *w)
{
	size_t i;

	if (strlen(w) != n)
		return 0;
	for (i = 0; i < n; i++)
		if (lower((unsigned char)p[i]) != w[i])
			return 0;
	return 1;
}

static void
set_err(char *err, size_t errsz, const char *fmt, const char *what,
    size_t n)
{
	char esc[96];

	if (err == NULL || errsz == 0)
		return;
	if (what != NULL) {
		log_escape(esc, sizeof(esc), what, n);
		snprintf(err, errsz, fmt, esc);
	} else
		snprintf(err, errsz, "%s", fmt);
}

/*
 * Output of an expansion.  A domain keeps the right end (slide): what
 * 7.3 cuts is the left.  An explanation keeps the left end.
 */
struct out {
	char *buf;		/* NULL: only check the syntax */
	size_t size;		/* room, not counting a NUL */
	size_t len;
	int slide;
	int cut;
};

static void
out_putc(struct out *o, int c)
{
	size_t half;

	if (o->buf == NULL)
		return;
	if (o->len == o->size) {
		o->cut = 1;
		if (!o->slide || o->size < 2)
			return;
		half = o->size / 2;
		memmove(o->buf, o->buf + half, o->size - half);
		o->len -= half;
	}
	o->buf[o->len++] = (char)c;
}

static void
out_puts(struct out *o, const char *s)
{
	while (*s != '\0')
		out_putc(o, (unsigned char)*s++);
}

/* One byte of a macro value; upper-case letters URL-escape all but the
 * unreserved characters of RFC 3986 (7.3). */
static void
out_value(struct out *o, int c, int escape)
{
	static const char hex[] = "0123456789ABCDEF";

	if (!escape || is_alnum(c) || c == '-' || c == '.' || c == '_' ||
	    c == '~') {
		out_putc(o, c);
		return;
	}
	out_putc(o, '%');
	out_putc(o, hex[(c >> 4) & 0xf]);
	out_putc(o, hex[c & 0xf]);
}

/* The client's address: family and 4 or 16 bytes, an IPv4-mapped IPv6
 * address as IPv4.  -1 for another family or NULL. */
static int
client_addr(const struct sockaddr *sa, unsigned char ip[16])
{
	const struct sockaddr_in6 *s6;

	if (sa == NULL)
		return -1;
	if (sa->sa_family == AF_INET) {
		memcpy(ip, &((const struct sockaddr_in *)sa)->sin_addr, 4);
		return AF_INET;
	}
	if (sa->sa_family != AF_INET6)
		return -1;
	s6 = (const struct sockaddr_in6 *)sa;
	if (IN6_IS_ADDR_V4MAPPED(&s6->sin6_addr)) {
		memcpy(ip, s6->sin6_addr.s6_addr + 12, 4);
		return AF_INET;
	}
	memcpy(ip, s6->sin6_addr.s6_addr, 16);
	return AF_INET6;
}

/*
 * The value of a macro letter (lower case) as a pointer and length,
 * formatted into buf (size 80) where it is not a string of env.
 */
static const char *
macro_value(int letter, const struct spf_macro_env *env, char *buf,
    size_t *n)
{
	/* nibbles in lower case, as in the example of RFC 7208 7.4 and
	 * the names of RFC 3596 2.5 */
	static const char hex[] = "0123456789abcdef";
	const char *s = "", *at;
	unsigned char ip[16];
	int fam = client_addr(env->client, ip), i;
	size_t o;

	switch (letter) {
	case 's':
		s = env->sender != NULL ? env->sender : "";
		break;
	case 'l':
	case 'o':
		s = env->sender != NULL ? env->sender : "";
		at = strrchr(s, '@');
		if (letter == 'o') {
			s = at != NULL ? at + 1 : s;
			break;
		}
		if (at == NULL || at == s)
			s = "postmaster";
		else {
			*n = (size_t)(at - s);
			return s;
		}
		break;
	case 'd':
		s = env->domain != NULL ? env->domain : "";
		break;
	case 'h':
		s = env->helo != NULL ? env->helo : "";
		break;
	case 'p':
		s = env->ptr != NULL ? env->ptr : "unknown";
		break;
	case 'r':
		s = env->receiver != NULL ? env->receiver : "unknown";
		break;
	case 'v':
		s = fam == AF_INET6 ? "ip6" : "in-addr";
		break;
	case 't':
		snprintf(buf, 80, "%lld", (long long)env->now);
		s = buf;
		break;
	case 'i':
		if (fam == AF_INET)
			snprintf(buf, 80, "%u.%u.%u.%u", ip[0], ip[1], ip[2],
			    ip[3]);
		else if (fam == AF_INET6) {
			for (i = 0, o = 0; i < 16; i++) {
				buf[o++] = hex[ip[i] >> 4];
				buf[o++] = '.';
				buf[o++] = hex[ip[i] & 0xf];
				buf[o++] = i < 15 ? '.' : '\0';
			}
		} else
			buf[0] = '\0';
		s = buf;
		break;
	case 'c':
		if (fam == -1 || inet_ntop(fam, ip, buf, 80) == NULL)
			buf[0] = '\0';
		s = buf;
		break;
	}
	*n = strlen(s);
	return s;
}

static int
is_delim(int c, const char *delims)
{
	return strchr(delims, c) != NULL && c != '\0';
}

/*
 * Emit the value v (n bytes) split on delims, reversed if rev, its
 * right-hand keep parts (0: all) rejoined with "." (7.3).
 */
static void
emit_transformed(struct out *o, const char *v, size_t n, const char *delims,
    unsigned keep, int rev, int escape)
{
	size_t parts = 1, i, skip, k, pos, start;
	size_t j;

	for (i = 0; i < n; i++)
		if (is_delim((unsigned char)v[i], delims))
			parts++;
	k = keep == 0 || keep > parts ? parts : keep;
	if (!rev) {
		/* the last k parts, in order */
		skip = parts - k;
		for (i = 0; i < n && skip > 0; i++)
			if (is_delim((unsigned char)v[i], delims))
				skip--;
		for (; i < n; i++)
			out_value(o, is_delim((unsigned char)v[i], delims) ?
			    '.' : (unsigned char)v[i], escape);
		return;
	}
	/* reversed, the last k parts of that: parts k-1 down to 0 */
	for (pos = 0, j = 0; pos < n; pos++)
		if (is_delim((unsigned char)v[pos], delims) && ++j == k)
			break;
	for (j = k; j > 0; j--) {
		start = pos;
		while (start > 0 && !is_delim((unsigned char)v[start - 1],
		    delims))
			start--;
		for (i = start; i < pos; i++)
			out_value(o, (unsigned char)v[i], escape);
		if (j > 1) {
			out_value(o, '.', escape);
			pos = start - 1;
		}
	}
}

/*
 * Check (env NULL) or expand a macro-string of mode m.  *endmacro says
 * whether it ends with a macro-expand, *tail where its last run of
 * literal bytes starts (for the domain-end rule).  Returns 0, or -1 with
 * err set.
 */
static int
macro_run(const char *s, size_t n, enum mmode m,
    const struct spf_macro_env *env, struct out *o, int *endmacro,
    size_t *tail, char *err, size_t errsz)
{
	char buf[80], delims[8];
	const char *v;
	size_t i = 0, j, vn, nd;
	unsigned keep;
	int c, letter, rev;

	*endmacro = 0;
	*tail = 0;
	while (i < n) {
		c = (unsigned char)s[i];
		if (c != '%') {
			if (!(c > ' ' && c < 0x7f) && !(c == ' ' &&
			    m == M_EXPLAIN)) {
				set_err(err, errsz, "bad byte in \"%s\"", s, n);
				return -1;
			}
			if (*endmacro || i == 0)
				*tail = i;
			*endmacro = 0;
			out_putc(o, c);
			i++;
			continue;
		}
		if (i + 1 >= n) {
			set_err(err, errsz, "lone %% in \"%s\"", s, n);
			return -1;
		}
		c = (unsigned char)s[i + 1];
		if (c == '%' || c == '_' || c == '-') {
			out_puts(o, c == '%' ? "%" : c == '_' ? " " : "%20");
			i += 2;
			*endmacro = 1;
			*tail = i;
			continue;
		}
		if (c != '{' || i + 2 >= n) {
			set_err(err, errsz, "bad macro in \"%s\"", s, n);
			return -1;
		}
		letter = (unsigned char)s[i + 2];
		if (strchr(m == M_DOMAIN ? "slodiphv" : "slodiphvcrt",
		    lower(letter)) == NULL || letter == '\0') {
			set_err(err, errsz, "bad macro letter in \"%s\"", s, n);
			return -1;
		}
		j = i + 3;
		keep = 0;
		nd = 0;
		while (j < n && is_digit((unsigned char)s[j])) {
			if (keep < 1000)
				keep = keep * 10 + (unsigned)(s[j] - '0');
			j++;
			nd++;
		}
		if (nd > 0 && keep == 0) {
			set_err(err, errsz, "zero parts in macro in \"%s\"",
			    s, n);
			return -1;
		}
		rev = 0;
		if (j < n && lower((unsigned char)s[j]) == 'r') {
			rev = 1;
			j++;
		}
		nd = 0;
		while (j < n && strchr(".-+,/_=", s[j]) != NULL &&
		    s[j] != '\0') {
			if (nd < sizeof(delims) - 1 &&
			    memchr(delims, s[j], nd) == NULL)
				delims[nd++] = s[j];
			j++;
		}
		delims[nd] = '\0';
		if (nd == 0)
			strcpy(delims, ".");
		if (j >= n || s[j] != '}') {
			set_err(err, errsz, "bad macro in \"%s\"", s, n);
			return -1;
		}
		if (env != NULL) {
			v = macro_value(lower(letter), env, buf, &vn);
			emit_transformed(o, v, vn, delims, keep, rev,
			    letter >= 'A' && letter <= 'Z');
		}
		i = j + 1;
		*endmacro = 1;
		*tail = i;
	}
	return 0;
}

/* toplabel = ( *alphanum ALPHA *alphanum ) /
 *            ( 1*alphanum "-" *( alphanum / "-" ) alphanum ) */
static int
toplabel_ok(const char *p, size_t n)
{
	size_t i;
	int alpha = 0, dash = 0;

	if (n == 0)
		return 0;
	for (i = 0; i < n; i++) {
		if (p[i] == '-')
			dash = 1;
		else if (is_alpha((unsigned char)p[i]))
			alpha = 1;
		else if (!is_digit((unsigned char)p[i]))
			return 0;
	}
	if (!dash)
		return alpha;
	return n >= 3 && is_alnum((unsigned char)p[0]) &&
	    is_alnum((unsigned char)p[n - 1]);
}

/*
 * domain-spec = macro-string domain-end
 * domain-end  = ( "." toplabel [ "." ] ) / macro-expand
 */
static int
domain_spec_ok(const char *s, size_t n, char *err, size_t errsz)
{
	struct out o = { NULL, 0, 0, 0, 0 };
	size_t tail, end, dot;
	int endmacro;

	if (n == 0) {
		set_err(err, errsz, "empty domain-spec", NULL, 0);
		return -1;
	}
	if (macro_run(s, n, M_DOMAIN, NULL, &o, &endmacro, &tail, err,
	    errsz) == -1)
		return -1;
	if (endmacro)
		return 0;
	end = n;
	if (end > tail && s[end - 1] == '.')
		end--;
	for (dot = end; dot > tail && s[dot - 1] != '.'; dot--)
		;
	if (dot == tail || !toplabel_ok(s + dot, end - dot)) {
		set_err(err, errsz, "bad domain-spec \"%s\"", s, n);
		return -1;
	}
	return 0;
}

/* A CIDR length: "0", or 1-3 digits without a leading zero, at most max.
 * -1 if not. */
static int
cidr_len(const char *p, size_t n, int max)
{
	int v = 0;
	size_t i;

	if (n == 0 || n > 3 || (p[0] == '0' && n > 1))
		return -1;
	for (i = 0; i < n; i++) {
		if (!is_digit((unsigned char)p[i]))
			return -1;
		v = v * 10 + (p[i] - '0');
	}
	return v > max ? -1 : v;
}

/* The length of a run of digits ending at p + n, preceded by "/". */
static size_t
slash_digits(const char *p, size_t n)
{
	size_t d = 0;

	while (d < n && is_digit((unsigned char)p[n - 1 - d]))
		d++;
	if (d == 0 || d == n || p[n - 1 - d] != '/')
		return 0;
	return d;
}

/*
 * The arguments of a, mx: [ ":" domain-spec ] [ dual-cidr-length ],
 * with the CIDR lengths taken from the right, as a domain-spec may hold
 * "/" too.
 */
static int
parse_dual(const char *text, size_t a, size_t n, struct spf_term *t,
    char *err, size_t errsz)
{
	const char *p = text + a;
	size_t d;
	int v;

	t->cidr4 = 32;
	t->cidr6 = 128;
	if ((d = slash_digits(p, n)) > 0 && n - d >= 2 &&
	    p[n - d - 2] == '/') {
		if ((v = cidr_len(p + n - d, d, 128)) == -1) {
			set_err(err, errsz, "bad IPv6 CIDR length in \"%s\"",
			    p, n);
			return -1;
		}
		t->cidr6 = (unsigned char)v;
		n -= d + 2;
	}
	if ((d = slash_digits(p, n)) > 0) {
		if ((v = cidr_len(p + n - d, d, 32)) == -1) {
			set_err(err, errsz, "bad IPv4 CIDR length in \"%s\"",
			    p, n);
			return -1;
		}
		t->cidr4 = (unsigned char)v;
		n -= d + 1;
	}
	if (n == 0)
		return 0;
	if (p[0] != ':') {
		set_err(err, errsz, "bad arguments \"%s\"", p, n);
		return -1;
	}
	if (domain_spec_ok(p + 1, n - 1, err, errsz) == -1)
		return -1;
	t->arg = (unsigned short)(a + 1);
	t->arglen = (unsigned short)(n - 1);
	return 0;
}

/* ip4:ADDR[/LEN], ip6:ADDR[/LEN]; p points after the name. */
static int
parse_ip(const char *p, size_t n, int fam, struct spf_term *t, char *err,
    size_t errsz)
{
	char addr[INET6_ADDRSTRLEN + 1];
	const char *slash;
	size_t an;
	int v, max = fam == AF_INET ? 32 : 128;

	if (n < 2 || p[0] != ':') {
		set_err(err, errsz, "ip4: and ip6: need an address", NULL, 0);
		return -1;
	}
	p++;
	n--;
	slash = memchr(p, '/', n);
	an = slash != NULL ? (size_t)(slash - p) : n;
	if (an == 0 || an >= sizeof(addr) || memchr(p, '\0', an) != NULL)
		goto bad;
	memcpy(addr, p, an);
	addr[an] = '\0';
	/* inet_pton's IPv4 form is the strict dotted quad of 5.6 (four
	 * parts, no leading zeros). */
	if (inet_pton(fam, addr, t->addr) != 1)
		goto bad;
	if (slash == NULL)
		v = max;
	else if ((v = cidr_len(slash + 1, n - an - 1, max)) == -1) {
		set_err(err, errsz, "bad CIDR length in \"%s\"", p, n);
		return -1;
	}
	if (fam == AF_INET)
		t->cidr4 = (unsigned char)v;
	else
		t->cidr6 = (unsigned char)v;
	return 0;
bad:
	set_err(err, errsz, "bad address \"%s\"", p, n);
	return -1;
}

/* One mechanism (with its qualifier) at text + off, len bytes. */
static int
parse_mechanism(const char *text, size_t off, size_t len, struct spf_term *t,
    char *err, size_t errsz)
{
	const char *p = text + off;
	size_t i, rest;

	t->qualifier = '+';
	if (len > 0 && strchr("+-~?", p[0]) != NULL && p[0] != '\0') {
		t->qualifier = (unsigned char)p[0];
		p++;
		off++;
		len--;
	}
	for (i = 0; i < len && is_alnum((unsigned char)p[i]); i++)
		;
	rest = len - i;
	if (word_eq(p, i, "all")) {
		t->kind = SPF_K_ALL;
		if (rest != 0)
			goto bad;
		return 0;
	}
	if (word_eq(p, i, "include") || word_eq(p, i, "exists")) {
		t->kind = lower((unsigned char)p[0]) == 'i' ? SPF_K_INCLUDE :
		    SPF_K_EXISTS;
		if (rest == 0 || p[i] != ':') {
			set_err(err, errsz, "\"%s\" needs a domain", p, len);
			return -1;
		}
		if (domain_spec_ok(p + i + 1, rest - 1, err, errsz) == -1)
			return -1;
		t->arg = (unsigned short)(off + i + 1);
		t->arglen = (unsigned short)(rest - 1);
		return 0;
	}
	if (word_eq(p, i, "a") || word_eq(p, i, "mx")) {
		t->kind = i == 1 ? SPF_K_A : SPF_K_MX;
		return parse_dual(text, off + i, rest, t, err, errsz);
	}
	if (word_eq(p, i, "ptr")) {
		t->kind = SPF_K_PTR;
		if (rest == 0)
			return 0;
		if (p[i] != ':')
			goto bad;
		if (domain_spec_ok(p + i + 1, rest - 1, err, errsz) == -1)
			return -1;
		t->arg = (unsigned short)(off + i + 1);
		t->arglen = (unsigned short)(rest - 1);
		return 0;
	}
	if (word_eq(p, i, "ip4") || word_eq(p, i, "ip6")) {
		t->kind = p[2] == '4' ? SPF_K_IP4 : SPF_K_IP6;
		return parse_ip(p + i, rest, p[2] == '4' ? AF_INET : AF_INET6,
		    t, err, errsz);
	}
	set_err(err, errsz, "unknown mechanism \"%s\"", p, len);
	return -1;
bad:
	set_err(err, errsz, "bad mechanism \"%s\"", p, len);
	return -1;
}

/* name = ALPHA *( ALPHA / DIGIT / "-" / "_" / "." ), then "=": the
 * length of the name, or 0 if the term is not a modifier. */
static size_t
modifier_name(const char *p, size_t len)
{
	size_t i;

	if (len == 0 || !is_alpha((unsigned char)p[0]))
		return 0;
	for (i = 1; i < len; i++) {
		if (p[i] == '=')
			return i;
		if (!is_alnum((unsigned char)p[i]) && p[i] != '-' &&
		    p[i] != '_' && p[i] != '.')
			return 0;
	}
	return 0;
}

int
spf_is_record(const char *txt, size_t len)
{
	return len >= 6 && word_eq(txt, 6, "v=spf1") &&
	    (len == 6 || txt[6] == ' ');
}

int
spf_parse_record(const char *txt, size_t len, struct spf_record *r,
    char *err, size_t errsz)
{
	struct spf_term *t;
	size_t i = 6, start, nl, vn;
	const char *p;
	int *slot;

	if (err != NULL && errsz > 0)
		err[0] = '\0';
	memset(r, 0, sizeof(*r));
	r->redirect = r->exp = -1;
	if (!spf_is_record(txt, len)) {
		set_err(err, errsz, "not an SPF record", NULL, 0);
		return -1;
	}
	if (len > LIMIT_SPF_RECORD) {
		if (err != NULL && errsz > 0)
			snprintf(err, errsz, "record over %d bytes",
			    LIMIT_SPF_RECORD);
		return -1;
	}
	memcpy(r->text, txt, len);
	r->text[len] = '\0';
	r->len = len;
	for (;;) {
		while (i < len && txt[i] == ' ')
			i++;
		if (i >= len)
			break;
		start = i;
		while (i < len && txt[i] != ' ')
			i++;
		if (r->nterms == LIMIT_SPF_TERMS) {
			if (err != NULL && errsz > 0)
				snprintf(err, errsz, "more than %d terms",
				    LIMIT_SPF_TERMS);
			return -1;
		}
		t = &r->term[r->nterms];
		t->off = (unsigned short)start;
		t->len = (unsigned short)(i - start);
		p = txt + start;
		if ((nl = modifier_name(p, i - start)) == 0) {
			if (parse_mechanism(r->text, start, i - start, t, err,
			    errsz) == -1)
				return -1;
			r->nterms++;
			continue;
		}
		vn = i - start - nl - 1;
		t->arg = (unsigned short)(start + nl + 1);
		t->arglen = (unsigned short)vn;
		slot = NULL;
		if (word_eq(p, nl, "redirect")) {
			t->kind = SPF_K_REDIRECT;
			slot = &r->redirect;
		} else if (word_eq(p, nl, "exp")) {
			t->kind = SPF_K_EXP;
			slot = &r->exp;
		} else
			t->kind = SPF_K_UNKNOWN;
		if (slot != NULL) {
			if (*slot != -1) {
				set_err(err, errsz, "\"%s\" twice", p, nl);
				return -1;
			}
			*slot = r->nterms;
			if (domain_spec_ok(p + nl + 1, vn, err, errsz) == -1)
				return -1;
		} else {
			struct out o = { NULL, 0, 0, 0, 0 };
			size_t tail;
			int endmacro;

			if (macro_run(p + nl + 1, vn, M_MODIFIER, NULL, &o,
			    &endmacro, &tail, err, errsz) == -1)
				return -1;
		}
		r->nterms++;
	}
	return 0;
}

/*
 * A domain as bytes (what the macros give; the final dot aside): 1 to
 * 253 bytes, labels of 1 to 63.  Any byte but NUL may stand in a label
 * (RFC 2181 11); ask() escapes what lib/dns wants escaped.
 */
static int
name_ok(const char *s)
{
	size_t n = strlen(s), i, lab = 0;

	if (n > 0 && s[n - 1] == '.')
		n--;
	if (n == 0 || n > 253)
		return 0;
	for (i = 0; i < n; i++) {
		if (s[i] == '.') {
			if (lab == 0)
				return 0;
			lab = 0;
		} else if (++lab > 63)
			return 0;
	}
	return lab > 0;		/* "a.." has an empty last label */
}

int
spf_expand(const char *spec, size_t len, enum spf_expand_mode mode,
    const struct spf_macro_env *env, char *out, size_t outsz, char *err,
    size_t errsz)
{
	static const struct spf_macro_env none;
	char win[WINDOW];
	struct out o;
	size_t tail, n, cut;
	int endmacro;

	if (err != NULL && errsz > 0)
		err[0] = '\0';
	if (outsz == 0) {
		set_err(err, errsz, "no room", NULL, 0);
		return -1;
	}
	if (env == NULL)
		env = &none;
	if (mode == SPF_EXPAND_EXPLAIN) {
		o = (struct out){ out, outsz - 1, 0, 0, 0 };
		if (macro_run(spec, len, M_EXPLAIN, env, &o, &endmacro, &tail,
		    err, errsz) == -1) {
			out[0] = '\0';
			return -1;
		}
		out[o.len] = '\0';
		return (int)o.len;
	}
	o = (struct out){ win, sizeof(win), 0, 1, 0 };
	if (macro_run(spec, len, M_DOMAIN, env, &o, &endmacro, &tail, err,
	    errsz) == -1) {
		out[0] = '\0';
		return -1;
	}
	n = o.len;
	if (n > 0 && win[n - 1] == '.')
		n--;
	/* 7.3: cut whole labels from the left down to 253 bytes */
	cut = 0;
	while (n - cut > 253) {
		while (cut < n && win[cut] != '.')
			cut++;
		if (cut == n) {
			set_err(err, errsz, "expansion of \"%s\" has no label "
			    "to cut", spec, len);
			out[0] = '\0';
			return -1;
		}
		cut++;
	}
	if (n - cut >= outsz) {
		set_err(err, errsz, "no room", NULL, 0);
		out[0] = '\0';
		return -1;
	}
	memcpy(out, win + cut, n - cut);
	out[n - cut] = '\0';
	return (int)(n - cut);
}

/*
 * The evaluation.
 */

struct check {
	struct dns *dns;
	struct spf_response *resp;
	struct sockaddr_storage client;	/* as the macros see it */
	int family;
	unsigned char ip[16];
	const char *helo, *receiver;
	time_t now;
	int lookups, voids, queries;
	long long deadline;		/* ms, CLOCK_MONOTONIC */
	/* the validated names of the client (5.5), found once */
	int ptr_done;
	enum dns_status ptr_status;
	int nvalid;
	char valid[LIMIT_SPF_PTR][SPF_DOMAIN_MAX];
};

static long long
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void problem(struct check *, const char *, ...)
    __attribute__((format(printf, 2, 3)));

/* The first problem is the cause; later ones are its consequences. */
static void
problem(struct check *c, const char *fmt, ...)
{
	char buf[SPF_PROBLEM_MAX];
	va_list ap;

	if (c->resp->problem[0] != '\0')
		return;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	log_escape(c->resp->problem, sizeof(c->resp->problem), buf,
	    strlen(buf));
}

/* What a query's callback keeps of the answer. */
struct ask {
	struct check *c;
	enum dns_status status;
	const char *why;
	char whybuf[64];
	int nrr;
	/* A, AAAA: does an address match the client within cidr bits? */
	int cidr;
	int matched;
	/* TXT: spf 1 keeps SPF records, 0 any; the first kept, counted */
	int spf;
	int ntxt;
	char *txt;			/* LIMIT_SPF_RECORD + 1 bytes */
	size_t txtlen;
	int toolong;
	/* MX, PTR: the first names */
	char (*names)[SPF_DOMAIN_MAX];
	int maxnames, nnames;
};

static int
prefix_match(const unsigned char *a, const unsigned char *b, int bits)
{
	int bytes = bits / 8, rem = bits % 8;
	unsigned char mask;

	if (memcmp(a, b, (size_t)bytes) != 0)
		return 0;
	if (rem == 0)
		return 1;
	mask = (unsigned char)(0xff << (8 - rem));
	return (a[bytes] & mask) == (b[bytes] & mask);
}

static void
ask_cb(void *arg, const struct dns_answer *ans)
{
	struct ask *q = arg;
	const struct dns_rr *rr;
	int i;

	q->status = ans->status;
	q->nrr = ans->nrr;
	if (ans->why != NULL) {
		snprintf(q->whybuf, sizeof(q->whybuf), "%s", ans->why);
		q->why = q->whybuf;
	}
	for (i = 0; i < ans->nrr; i++) {
		rr = &ans->rr[i];
		switch (rr->type) {
		case DNS_T_A:
			if (q->c->family == AF_INET && prefix_match(q->c->ip,
			    (const unsigned char *)&rr->a, q->cidr))
				q->matched = 1;
			break;
		case DNS_T_AAAA:
			if (q->c->family == AF_INET6 && prefix_match(q->c->ip,
			    rr->aaaa.s6_addr, q->cidr))
				q->matched = 1;
			break;
		case DNS_T_TXT:
			if (q->spf && !spf_is_record((const char *)rr->data,
			    rr->len))
				break;
			if (q->ntxt++ > 0 || q->txt == NULL)
				break;
			if (rr->len > LIMIT_SPF_RECORD) {
				q->toolong = 1;
				break;
			}
			memcpy(q->txt, rr->data, rr->len);
			q->txt[rr->len] = '\0';
			q->txtlen = rr->len;
			break;
		case DNS_T_MX:
		case DNS_T_PTR:
			if (q->nnames < q->maxnames)
				snprintf(q->names[q->nnames++],
				    SPF_DOMAIN_MAX, "%s", rr->name);
			break;
		}
	}
}

/*
 * Ask name for type into q (filled by the caller beforehand).  Returns
 * 0 with q->status set, or -1 when name is one DNS cannot hold (EINVAL):
 * the caller takes it as nonexistent.  A query past the time limit of
 * the check is not sent and is a DNS_TEMPFAIL.
 */
static int
ask(struct check *c, const char *name, int type, struct ask *q)
{
	char text[SPF_DOMAIN_MAX * 4];
	size_t i, o = 0;

	q->c = c;
	q->status = DNS_TEMPFAIL;
	q->why = "no answer";
	if (!name_ok(name))
		return -1;
	/* lib/dns takes odd bytes as \DDD; name_ok bounds the length */
	for (i = 0; name[i] != '\0'; i++) {
		unsigned char b = (unsigned char)name[i];

		if (b <= ' ' || b >= 0x7f || b == '\\')
			o += (size_t)snprintf(text + o, sizeof(text) - o,
			    "\\%03u", b);
		else
			text[o++] = (char)b;
	}
	text[o] = '\0';
	if (now_ms() >= c->deadline) {
		q->why = "time limit of the check reached";
		return 0;
	}
	c->queries++;
	if (dns_query_sync(c->dns, text, type, ask_cb, q) == -1) {
		if (errno == EINVAL)
			return -1;
		q->status = DNS_TEMPFAIL;
		snprintf(q->whybuf, sizeof(q->whybuf), "%s", strerror(errno));
		q->why = q->whybuf;
	}
	return 0;
}

static const char *
type_str(int type)
{
	switch (type) {
	case DNS_T_A:		return "A";
	case DNS_T_AAAA:	return "AAAA";
	case DNS_T_MX:		return "MX";
	case DNS_T_PTR:		return "PTR";
	case DNS_T_TXT:		return "TXT";
	}
	return "?";
}

/*
 * A name from an answer (\DDD for odd bytes) back to bytes; -1 if it
 * holds what a name as bytes cannot (a dot or a NUL inside a label).
 */
static int
unescape_name(const char *in, char *out, size_t outsz)
{
	size_t o = 0;
	int v;

	while (*in != '\0') {
		if (in[0] == '\\') {
			if (!is_digit((unsigned char)in[1]) ||
			    !is_digit((unsigned char)in[2]) ||
			    !is_digit((unsigned char)in[3]))
				return -1;
			v = (in[1] - '0') * 100 + (in[2] - '0') * 10 +
			    (in[3] - '0');
			if (v == 0 || v == '.' || v > 255)
				return -1;
			in += 4;
		} else
			v = (unsigned char)*in++;
		if (o + 1 >= outsz)
			return -1;
		out[o++] = (char)v;
	}
	out[o] = '\0';
	return name_ok(out) ? 0 : -1;
}

/* a is b or a subdomain of b, case-insensitively, final dots aside. */
static int
name_within(const char *a, const char *b)
{
	size_t na = strlen(a), nb = strlen(b), i;

	if (na > 0 && a[na - 1] == '.')
		na--;
	if (nb > 0 && b[nb - 1] == '.')
		nb--;
	if (nb > na || nb == 0)
		return 0;
	for (i = 0; i < nb; i++)
		if (lower((unsigned char)a[na - nb + i]) !=
		    lower((unsigned char)b[i]))
			return 0;
	return na == nb || a[na - nb - 1] == '.';
}

static int
name_eq(const char *a, const char *b)
{
	size_t na = strlen(a), nb = strlen(b);

	if (na > 0 && a[na - 1] == '.')
		na--;
	if (nb > 0 && b[nb - 1] == '.')
		nb--;
	return na == nb && name_within(a, b);
}

/*
 * The validated names of the client (5.5): the first LIMIT_SPF_PTR PTR
 * names whose A or AAAA records hold its address; a failed address
 * lookup skips the name.  Done once per check.
 */
static void
ptr_fill(struct check *c)
{
	static const char hex[] = "0123456789abcdef";
	char rev[80], names[LIMIT_SPF_PTR][SPF_DOMAIN_MAX], name[SPF_DOMAIN_MAX];
	struct ask q;
	size_t o = 0;
	int i;

	if (c->ptr_done)
		return;
	c->ptr_done = 1;
	if (c->family == AF_INET)
		snprintf(rev, sizeof(rev), "%u.%u.%u.%u.in-addr.arpa",
		    c->ip[3], c->ip[2], c->ip[1], c->ip[0]);
	else {
		for (i = 15; i >= 0; i--) {
			rev[o++] = hex[c->ip[i] & 0xf];
			rev[o++] = '.';
			rev[o++] = hex[c->ip[i] >> 4];
			rev[o++] = '.';
		}
		memcpy(rev + o, "ip6.arpa", 9);
	}
	memset(&q, 0, sizeof(q));
	q.names = names;
	q.maxnames = LIMIT_SPF_PTR;
	if (ask(c, rev, DNS_T_PTR, &q) == -1)
		q.status = DNS_NXDOMAIN;
	c->ptr_status = q.status;
	for (i = 0; i < q.nnames; i++) {
		struct ask a;

		if (unescape_name(names[i], name, sizeof(name)) == -1)
			continue;
		memset(&a, 0, sizeof(a));
		a.cidr = c->family == AF_INET ? 32 : 128;
		if (ask(c, name, c->family == AF_INET ? DNS_T_A : DNS_T_AAAA,
		    &a) == -1 || a.status != DNS_OK || !a.matched)
			continue;
		memcpy(c->valid[c->nvalid++], name, sizeof(name));
	}
}

/* %{p} for domain (7.3): domain itself, else a subdomain of it, else
 * any validated name, else "unknown". */
static const char *
ptr_value(struct check *c, const char *domain)
{
	int i;

	ptr_fill(c);
	for (i = 0; i < c->nvalid; i++)
		if (name_eq(c->valid[i], domain))
			return c->valid[i];
	for (i = 0; i < c->nvalid; i++)
		if (name_within(c->valid[i], domain))
			return c->valid[i];
	return c->nvalid > 0 ? c->valid[0] : "unknown";
}

/* Does the macro-string use %{p}?  (Worth a look before the lookups.) */
static int
uses_p(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i + 2 < n; i++) {
		if (s[i] != '%')
			continue;
		if (s[i + 1] == '{' && lower((unsigned char)s[i + 2]) == 'p')
			return 1;
		i++;	/* %% %_ %- and the brace */
	}
	return 0;
}

static void
macro_env(struct check *c, const char *domain, const char *spec, size_t n,
    struct spf_macro_env *env)
{
	memset(env, 0, sizeof(*env));
	env->client = (const struct sockaddr *)&c->client;
	env->sender = c->resp->sender;
	env->domain = domain;
	env->helo = c->helo;
	env->receiver = c->receiver;
	env->now = c->now;
	env->ptr = uses_p(spec, n) ? ptr_value(c, domain) : NULL;
}

/* The target-name of term t: its domain-spec expanded, or domain.
 * -1 if it cannot be asked for. */
static int
target(struct check *c, const struct spf_record *r, const struct spf_term *t,
    const char *domain, char out[SPF_DOMAIN_MAX])
{
	struct spf_macro_env env;
	char err[SPF_PROBLEM_MAX];

	if (t->arglen == 0) {
		snprintf(out, SPF_DOMAIN_MAX, "%s", domain);
		return 0;
	}
	macro_env(c, domain, r->text + t->arg, t->arglen, &env);
	if (spf_expand(r->text + t->arg, t->arglen, SPF_EXPAND_DOMAIN, &env,
	    out, SPF_DOMAIN_MAX, err, sizeof(err)) == -1)
		return -1;
	return name_ok(out) ? 0 : -1;
}

/* Count a term that asks DNS; -1 (permerror) past the limit. */
static int
count_lookup(struct check *c, const char *domain)
{
	if (++c->lookups <= LIMIT_SPF_LOOKUPS)
		return 0;
	problem(c, "%s: more than %d DNS lookups", domain, LIMIT_SPF_LOOKUPS);
	return -1;
}

/* Count a void lookup; -1 (permerror) past the limit. */
static int
count_void(struct check *c, const char *name)
{
	if (++c->voids <= LIMIT_SPF_VOID)
		return 0;
	problem(c, "%s: more than %d void lookups", name, LIMIT_SPF_VOID);
	return -1;
}

static enum spf_result check_host(struct check *, const char *, int, int);

/* Outcome of one mechanism: no match, match, or a result to end with. */
#define NOMATCH	0
#define MATCH	1
#define ERROR	2

/*
 * The outcome of a query that did not answer DNS_OK: no match when there
 * is no record (a void lookup when counted, RFC 7208 4.6.4), a temperror
 * for a failure.
 */
static int
not_found(struct check *c, const struct ask *q, int type, const char *name,
    int counted, enum spf_result *res)
{
	if (q->status == DNS_NXDOMAIN || q->status == DNS_NODATA) {
		if (counted && count_void(c, name) == -1) {
			*res = SPF_PERMERROR;
			return ERROR;
		}
		return NOMATCH;
	}
	problem(c, "%s %s: %s", type_str(type), name, q->why);
	*res = SPF_TEMPERROR;
	return ERROR;
}

/* The address lookup of a and of each MX name. */
static int
match_addr(struct check *c, const char *name, const struct spf_term *t,
    int is_void_term, enum spf_result *res)
{
	struct ask q;
	int type = c->family == AF_INET ? DNS_T_A : DNS_T_AAAA;

	memset(&q, 0, sizeof(q));
	q.cidr = c->family == AF_INET ? t->cidr4 : t->cidr6;
	if (ask(c, name, type, &q) == -1)
		return NOMATCH;
	if (q.status != DNS_OK)
		return not_found(c, &q, type, name, is_void_term, res);
	return q.matched ? MATCH : NOMATCH;
}

static int
mech_mx(struct check *c, const char *name, const struct spf_term *t,
    enum spf_result *res)
{
	char names[LIMIT_SPF_MX + 1][SPF_DOMAIN_MAX], host[SPF_DOMAIN_MAX];
	struct ask q;
	int i, m;

	memset(&q, 0, sizeof(q));
	q.names = names;
	q.maxnames = LIMIT_SPF_MX + 1;
	if (ask(c, name, DNS_T_MX, &q) == -1)
		return NOMATCH;
	if (q.status != DNS_OK)
		return not_found(c, &q, DNS_T_MX, name, 1, res);
	if (q.nrr > LIMIT_SPF_MX) {
		problem(c, "MX %s: more than %d names", name, LIMIT_SPF_MX);
		*res = SPF_PERMERROR;
		return ERROR;
	}
	for (i = 0; i < q.nnames; i++) {
		/* "." is a null MX (RFC 7505); odd names cannot match */
		if (unescape_name(names[i], host, sizeof(host)) == -1)
			continue;
		if ((m = match_addr(c, host, t, 0, res)) != NOMATCH)
			return m;
	}
	return NOMATCH;
}

static int
mech_ptr(struct check *c, const char *name, enum spf_result *res)
{
	int i;

	ptr_fill(c);
	if (c->ptr_status == DNS_NXDOMAIN || c->ptr_status == DNS_NODATA) {
		if (count_void(c, name) == -1) {
			*res = SPF_PERMERROR;
			return ERROR;
		}
		return NOMATCH;
	}
	for (i = 0; i < c->nvalid; i++)
		if (name_within(c->valid[i], name))
			return MATCH;
	return NOMATCH;
}

static int
mech_exists(struct check *c, const char *name, enum spf_result *res)
{
	struct ask q;

	memset(&q, 0, sizeof(q));
	q.cidr = 32;
	if (ask(c, name, DNS_T_A, &q) == -1)
		return NOMATCH;
	if (q.status != DNS_OK)
		return not_found(c, &q, DNS_T_A, name, 1, res);
	return MATCH;
}

static int
mech_include(struct check *c, const char *name, int depth,
    enum spf_result *res)
{
	switch (check_host(c, name, depth + 1, 0)) {
	case SPF_PASS:
		return MATCH;
	case SPF_FAIL:
	case SPF_SOFTFAIL:
	case SPF_NEUTRAL:
		return NOMATCH;
	case SPF_TEMPERROR:
		*res = SPF_TEMPERROR;
		return ERROR;
	case SPF_NONE:
		problem(c, "include:%s: no SPF record", name);
		*res = SPF_PERMERROR;
		return ERROR;
	default:
		*res = SPF_PERMERROR;
		return ERROR;
	}
}

static int
mechanism(struct check *c, const struct spf_record *r,
    const struct spf_term *t, const char *domain, int depth,
    enum spf_result *res)
{
	char name[SPF_DOMAIN_MAX];
	int k = t->kind;

	switch (k) {
	case SPF_K_ALL:
		return MATCH;
	case SPF_K_IP4:
		return c->family == AF_INET &&
		    prefix_match(c->ip, t->addr, t->cidr4) ? MATCH : NOMATCH;
	case SPF_K_IP6:
		return c->family == AF_INET6 &&
		    prefix_match(c->ip, t->addr, t->cidr6) ? MATCH : NOMATCH;
	}
	if (count_lookup(c, domain) == -1) {
		*res = SPF_PERMERROR;
		return ERROR;
	}
	if (target(c, r, t, domain, name) == -1) {
		if (k != SPF_K_INCLUDE)
			return NOMATCH;
		problem(c, "%s: include target %.*s is not a domain", domain,
		    (int)t->arglen, r->text + t->arg);
		*res = SPF_PERMERROR;
		return ERROR;
	}
	switch (k) {
	case SPF_K_A:
		return match_addr(c, name, t, 1, res);
	case SPF_K_MX:
		return mech_mx(c, name, t, res);
	case SPF_K_PTR:
		return mech_ptr(c, name, res);
	case SPF_K_EXISTS:
		return mech_exists(c, name, res);
	case SPF_K_INCLUDE:
		return mech_include(c, name, depth, res);
	}
	bug("spf: mechanism kind %d", k);
}

/*
 * exp= (6.2): one TXT record, its explain-string expanded.  Any trouble
 * (no record or several, a DNS error, bad syntax, a byte outside
 * printable ASCII) leaves no explanation.
 */
static void
explain(struct check *c, const struct spf_record *r, const char *domain)
{
	const struct spf_term *t = &r->term[r->exp];
	struct spf_macro_env env;
	char name[SPF_DOMAIN_MAX], err[SPF_PROBLEM_MAX], *txt;
	struct ask q;

	if (target(c, r, t, domain, name) == -1)
		return;
	txt = xmalloc(LIMIT_SPF_RECORD + 1);
	memset(&q, 0, sizeof(q));
	q.txt = txt;
	if (ask(c, name, DNS_T_TXT, &q) == 0 && q.status == DNS_OK &&
	    q.ntxt == 1 && !q.toolong) {
		macro_env(c, domain, txt, q.txtlen, &env);
		(void)spf_expand(txt, q.txtlen, SPF_EXPAND_EXPLAIN, &env,
		    c->resp->explanation, sizeof(c->resp->explanation), err,
		    sizeof(err));
	}
	free(txt);
}

/* The record of domain into r: SPF_PASS standing for found, or none,
 * temperror, permerror. */
static enum spf_result
fetch_record(struct check *c, const char *domain, struct spf_record *r)
{
	char err[SPF_PROBLEM_MAX];
	struct ask q;
	char *txt = xmalloc(LIMIT_SPF_RECORD + 1);
	enum spf_result res = SPF_PASS;

	memset(&q, 0, sizeof(q));
	q.spf = 1;
	q.txt = txt;
	if (ask(c, domain, DNS_T_TXT, &q) == -1) {
		res = SPF_NONE;
		goto out;
	}
	switch (q.status) {
	case DNS_OK:
		break;
	case DNS_NXDOMAIN:
	case DNS_NODATA:
		res = SPF_NONE;
		goto out;
	default:
		problem(c, "TXT %s: %s", domain, q.why);
		res = SPF_TEMPERROR;
		goto out;
	}
	if (q.ntxt == 0)
		res = SPF_NONE;
	else if (q.ntxt > 1) {
		problem(c, "%s: more than one SPF record", domain);
		res = SPF_PERMERROR;
	} else if (q.toolong) {
		problem(c, "%s: SPF record over %d bytes", domain,
		    LIMIT_SPF_RECORD);
		res = SPF_PERMERROR;
	} else if (spf_parse_record(txt, q.txtlen, r, err, sizeof(err)) ==
	    -1) {
		problem(c, "%s: %s", domain, err);
		res = SPF_PERMERROR;
	}
out:
	free(txt);
	return res;
}

/* A <domain> check_host() can start with (4.3): a name DNS can ask for,
 * of two labels or more, not a literal. */
static int
domain_ok(const char *d)
{
	const char *dot = strchr(d, '.');

	return name_ok(d) && d[0] != '[' && dot != NULL && dot[1] != '\0';
}

static void
copy_term(struct check *c, const struct spf_record *r,
    const struct spf_term *t, const char *domain)
{
	log_escape(c->resp->mechanism, sizeof(c->resp->mechanism),
	    r->text + t->off, t->len);
	snprintf(c->resp->mechanism_domain, sizeof(c->resp->mechanism_domain),
	    "%s", domain);
}

/*
 * check_host() of 4 for domain.  top: not inside an include, so the
 * record's mechanism and explanation are those of the result.
 */
static enum spf_result
check_host(struct check *c, const char *domain, int depth, int top)
{
	static const enum spf_result qual[] = {
		['+'] = SPF_PASS, ['-'] = SPF_FAIL, ['~'] = SPF_SOFTFAIL,
		['?'] = SPF_NEUTRAL,
	};
	struct spf_record *r;
	const struct spf_term *t;
	char name[SPF_DOMAIN_MAX];
	enum spf_result res;
	int i, m;

	if (!domain_ok(domain))
		return SPF_NONE;
	/* Each level costs a lookup first; this is a backstop. */
	if (depth > LIMIT_SPF_LOOKUPS + 1) {
		problem(c, "%s: nested too deep", domain);
		return SPF_PERMERROR;
	}
	r = xmalloc(sizeof(*r));
	if ((res = fetch_record(c, domain, r)) != SPF_PASS)
		goto out;
	for (i = 0; i < r->nterms; i++) {
		t = &r->term[i];
		if (t->kind >= SPF_K_REDIRECT)
			continue;
		m = mechanism(c, r, t, domain, depth, &res);
		if (m == ERROR)
			goto out;
		if (m == NOMATCH)
			continue;
		res = qual[t->qualifier];
		if (top) {
			copy_term(c, r, t, domain);
			if (res == SPF_FAIL && r->exp != -1)
				explain(c, r, domain);
		}
		goto out;
	}
	if (r->redirect == -1) {
		res = SPF_NEUTRAL;
		goto out;
	}
	/* 6.1: as if the target's record stood here, without our exp= */
	t = &r->term[r->redirect];
	if (count_lookup(c, domain) == -1) {
		res = SPF_PERMERROR;
		goto out;
	}
	if (target(c, r, t, domain, name) == -1 ||
	    (res = check_host(c, name, depth + 1, top)) == SPF_NONE) {
		problem(c, "%s: redirect=%.*s: no SPF record", domain,
		    (int)t->arglen, r->text + t->arg);
		res = SPF_PERMERROR;
	}
out:
	free(r);
	return res;
}

int
spf_check(struct dns *dns, const struct spf_request *req,
    enum spf_identity id, struct spf_response *resp)
{
	struct check *c;
	const char *sender = req->sender != NULL ? req->sender : "";
	const char *helo = req->helo != NULL ? req->helo : "";
	const char *at, *domain;
	size_t n;
	int local;

	memset(resp, 0, sizeof(*resp));
	c = xcalloc(1, sizeof(*c));
	c->dns = dns;
	c->resp = resp;
	c->helo = helo;
	c->receiver = req->receiver;
	c->now = req->now != 0 ? req->now : time(NULL);
	c->deadline = now_ms() + LIMIT_SPF_TIME * 1000LL;
	c->family = client_addr(req->client, c->ip);
	if (c->family == AF_INET) {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&c->client;

		s4->sin_family = AF_INET;
		memcpy(&s4->sin_addr, c->ip, 4);
	} else if (c->family == AF_INET6) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&c->client;

		s6->sin6_family = AF_INET6;
		memcpy(&s6->sin6_addr, c->ip, 16);
	}

	/* The identity (2.3, 2.4) and its <sender> (4.3). */
	if (id == SPF_HELO || sender[0] == '\0') {
		resp->identity = SPF_HELO;
		domain = helo;
		n = (size_t)snprintf(resp->sender, sizeof(resp->sender),
		    "postmaster@%s", helo);
	} else {
		resp->identity = SPF_MAILFROM;
		at = strrchr(sender, '@');
		domain = at != NULL ? at + 1 : sender;
		local = at != NULL && at > sender;
		n = (size_t)snprintf(resp->sender, sizeof(resp->sender),
		    "%.*s@%s", local ? (int)(at - sender) : 10,
		    local ? sender : "postmaster", domain);
	}
	snprintf(resp->domain, sizeof(resp->domain), "%s", domain);
	if (c->family == -1) {
		problem(c, "client address of family %d",
		    req->client != NULL ? req->client->sa_family : -1);
		resp->result = SPF_PERMERROR;
	} else if (n >= sizeof(resp->sender) ||
	    strlen(domain) >= sizeof(resp->domain))
		resp->result = SPF_NONE;	/* malformed (4.3) */
	else
		resp->result = check_host(c, resp->domain, 0, 1);
	resp->lookups = c->lookups;
	resp->void_lookups = c->voids;
	resp->queries = c->queries;
	free(c);
	return 0;
}

/* Add key: s unless s is empty. */
static void
json_add_str(json_t *o, const char *key, const char *s)
{
	if (s[0] != '\0' && json_object_set_new(o, key, record_str(s)) == -1)
		die_temp("spf: json: out of memory");
}

json_t *
spf_json(const struct spf_response *r)
{
	json_t *o;

	if ((o = json_object()) == NULL)
		die_temp("spf: json: out of memory");
	json_add_str(o, "result", spf_result_str(r->result));
	json_add_str(o, "domain", r->domain);
	json_add_str(o, "identity", r->identity == SPF_HELO ? "helo" :
	    "mailfrom");
	json_add_str(o, "mechanism", r->mechanism);
	json_add_str(o, "explanation", r->explanation);
	json_add_str(o, "problem", r->problem);
	if (json_object_set_new(o, "lookups", json_integer(r->lookups)) ==
	    -1 || json_object_set_new(o, "void_lookups",
	    json_integer(r->void_lookups)) == -1)
		die_temp("spf: json: out of memory");
	return o;
}
