/*
 * url: the URLs of a message, found in text and HTML, normalised, and
 * the reasons to distrust them.  sluice never rewrites a URL: this module
 * only reads them.
 *
 * Extraction.  url_extract_text finds, in UTF-8 text, URLs with the
 * schemes http, https and ftp ("scheme://..."), and bare hosts starting
 * with "www." (taken as http://).  A URL starts at a word boundary and
 * ends at a blank, a control character, one of < > " ` { } |, or a
 * Unicode space or quotation mark; then, as linkifiers do, trailing
 * . , : ; ! ? ' * are dropped, and a closing ) ] } that has no opening
 * one inside the URL.  mailto: and plain mail addresses are not URLs
 * here (the From and Reply-To checks of mail-scan look at addresses), nor
 * are data: and javascript: in text (no client makes them links).
 *
 * url_extract_html runs a small bounded tokenizer (not an HTML5 parser)
 * over HTML: a and area href, img src, iframe, frame and embed src,
 * script src, form action, and the URL in the content of a meta
 * http-equiv=refresh; entities are decoded (&amp; &lt; &gt; &quot;
 * &apos; &nbsp; &#N; &#xN;), tabs and newlines inside a URL removed and
 * blanks around it trimmed, as browsers do.  Comments are skipped, and so
 * is the content of script and style.  The visible text of an a element
 * becomes the URL's text; the text outside links is searched as
 * url_extract_text does.  In HTML, data:, javascript: and vbscript: URLs
 * are kept; other schemes (mailto:, cid:, tel:) and relative URLs are
 * not.  "//host/path" is taken as http.
 *
 * Normalisation.  The scheme and host are lower case; the host is
 * percent-decoded, mapped and converted to A-labels by IDNA (UTS #46
 * non-transitional, libidn2), its final dot removed; a host whose last
 * label is a number is an IPv4 address in any of the forms browsers take
 * (dotted, 3232235777, 0300.0250.1.1, 0xc0a80101, 192.168.257) and is
 * written dotted; an IPv6 literal is kept in brackets as written, lower
 * case.  The default port is dropped.  Userinfo is kept and noted.  The
 * rest (path, query, fragment) is kept with bytes outside printable
 * ASCII percent-encoded, so norm is always printable ASCII.  Identical
 * normalised URLs are kept once per set (the first link text that looks
 * like a host wins).
 *
 * Bounds: a set keeps LIMIT_URLS URLs and counts the rest in dropped;
 * each call reads at most LIMIT_URL_INPUT bytes (the set's truncated
 * flag says when input was left unread); a URL is cut to LIMIT_URL_LENGTH
 * bytes and a link text to LIMIT_URL_TEXT.  Out of memory exits 111 (xalloc).
 *
 * The rules of url_check, with their scores (the table below is written
 * for mail-scan(1) to copy):
 *
 *   rule              score  fires when
 *   url.ip_literal        2  the host is an IPv4 or IPv6 address
 *   url.punycode          1  the host has an A-label (xn--)
 *   url.mixed_script      4  a label of the host mixes scripts beyond
 *                            ICU's moderately restrictive level (Latin
 *                            with Cyrillic, say)
 *   url.text_mismatch     3  the link text is a URL or host whose
 *                            registrable domain is not the href's
 *   url.lookalike         5  the host looks like a protected domain
 *                            (see lookalike.h)
 *   url.shortener         1  the host is a URL shortener (built-in list
 *                            or the shortener table)
 *   url.data              3  a data: URL in a link, form, frame or meta
 *                            refresh, or any data: URL of HTML,
 *                            JavaScript or SVG
 *   url.javascript        4  a javascript: or vbscript: URL
 *   url.userinfo          3  the URL has userinfo
 *                            (http://paypal.com@evil.example/)
 *   url.blocklist        10  the host or a parent of it is in the block
 *                            list table
 *   url.uribl             5  a DNS URI block list lists the host's
 *                            registrable domain (or the IPv4 address)
 */
#ifndef SLUICE_URL_H
#define SLUICE_URL_H

#include <stddef.h>

/* Where a URL was found. */
#define URL_TEXT	0	/* plain text, or the text of an HTML part */
#define URL_HTML_HREF	1	/* a or area href */
#define URL_HTML_SRC	2	/* img src */
#define URL_HTML_FRAME	3	/* iframe, frame, embed src */
#define URL_HTML_SCRIPT	4	/* script src */
#define URL_HTML_FORM	5	/* form action */
#define URL_HTML_META	6	/* meta refresh */
#define URL_ATTACHMENT	7	/* set by the caller for an attachment's */

#define URL_SCORE_IP_LITERAL	2
#define URL_SCORE_PUNYCODE	1
#define URL_SCORE_MIXED_SCRIPT	4
#define URL_SCORE_TEXT_MISMATCH	3
#define URL_SCORE_LOOKALIKE	5
#define URL_SCORE_SHORTENER	1
#define URL_SCORE_DATA		3
#define URL_SCORE_JAVASCRIPT	4
#define URL_SCORE_USERINFO	3
#define URL_SCORE_BLOCKLIST	10
#define URL_SCORE_URIBL		5

struct url {
	char *raw;	/* as found (entities decoded), cut to the limit */
	char *norm;	/* normalised, printable ASCII */
	char *scheme;	/* lower case, without ":" */
	char *host;	/* ASCII, lower case, A-labels, no final dot; an IPv4
			 * address dotted, an IPv6 one in brackets; NULL for
			 * data:, javascript: and a host IDNA refuses */
	char *host_u;	/* U-label form (UTF-8) when host has an A-label,
			 * else NULL */
	char *text;	/* the HTML link text, or NULL */
	int source;	/* URL_TEXT, URL_HTML_* */
	int ip;		/* 0, 4 or 6: the host is an IP literal */
	int userinfo;	/* 1: there was a userinfo part */
};

/* Zero-initialise ("struct urlset s = { 0 };"); free with urlset_free. */
struct urlset {
	struct url *v;
	size_t n, cap;
	size_t dropped;		/* URLs met once LIMIT_URLS were kept
				 * (each time met) */
	int truncated;		/* input over LIMIT_URL_INPUT left unread */
	size_t *idx, idxcap;	/* private: the norms hashed, for dedup */
};

/*
 * Add the URLs of len bytes of UTF-8 text (invalid UTF-8 is read as
 * bytes) or HTML to the set, with source URL_TEXT (a caller reading an
 * attachment may set the source of the URLs added after set->n as it was
 * before the call).  Nothing fails: the limits above apply.
 */
void url_extract_text(struct urlset *, const char *utf8, size_t len);
void url_extract_html(struct urlset *, const char *utf8, size_t len);

/* Free the URLs and reset the set to empty; the set itself is the
 * caller's. */
void urlset_free(struct urlset *);

/*
 * Parse and normalise one URL into u (the caller frees it with
 * url_free).  Returns 0, or -1 when s is not an absolute URL of a scheme
 * kept (see above) or has no host where one is needed; u is then
 * untouched.  url_extract_* use it; exposed for tests and mail-scan.
 */
int url_parse(struct url *u, const char *s, size_t len, int source);
void url_free(struct url *);

typedef void url_reason_fn(void *arg, const char *rule, int score,
    const char *detail);

struct table;
struct lookalike;
struct dns;
struct url_ctx;

/*
 * What url_check looks at.  Zero it, then url_policy_init; the tables
 * and the lookalike handle are the caller's and may be NULL (their rules
 * then never fire).  url_policy_init opens the Public Suffix List
 * (libpsl) and ICU's spoof checker, kept in ctx; it returns 0, or -1
 * with the reason in err (ICU failed: temporary).  url_policy_fini frees
 * ctx only.  A policy is read-only while checks run, in any number of
 * threads.
 */
struct url_policy {
	const struct table *shorteners;	/* more shortener hosts */
	const struct table *blocklist;	/* blocked domains: each matches
					 * itself and its subdomains */
	const struct lookalike *lookalike; /* protected domains */
	const char *const *uribl;	/* DNS URI block list zones */
	size_t nuribl;
	struct url_ctx *ctx;
};

int url_policy_init(struct url_policy *, char *err, size_t errsz);
void url_policy_fini(struct url_policy *);

/*
 * The registrable domain of an ASCII host (the Public Suffix List's
 * "example.co.uk" for "www.example.co.uk") into out (size outsz).
 * Returns 0, or -1 when the host is itself a public suffix, an IP
 * literal, or too long for out.
 */
int url_registrable(const struct url_policy *, const char *host, char *out,
    size_t outsz);

/*
 * Call reason(arg, rule, score, detail) once for each rule above but
 * url.uribl that u fires, in the order of the table.  detail is a short
 * printable ASCII phrase naming the host, valid during the call.
 */
void url_check(const struct url *, const struct url_policy *,
    url_reason_fn *reason, void *arg);

/*
 * url.uribl for a whole set: ask each zone of the policy about each
 * distinct registrable domain of the set's hosts (reversed octets for an
 * IPv4 address; IPv6 is not asked), at most LIMIT_URIBL_QUERIES queries,
 * all at once, and wait for their answers (each within the resolver's
 * timeout; other queries of the handle are processed meanwhile).  An A
 * record in 127.0.0.0/8 lists the name, but 127.0.0.1 and 127.255.255.x,
 * which the lists use to refuse a query.  reason gets "url.uribl" with
 * detail "NAME listed by ZONE (127.0.0.N)", once per name and zone.
 * Returns the number of lookups that failed temporarily (0 when all were
 * answered), or -1 with errno when the resolver failed.
 */
int url_uribl(struct dns *, const struct urlset *, const struct url_policy *,
    url_reason_fn *reason, void *arg);

#endif
