/*
 * test_url: lib/url: extraction from text and HTML, normalisation, the
 * rules of url_check (each firing, and a clean twin not), and url_uribl
 * against a real NSD on loopback, started through tests/dns-server (run
 * from the top of the tree, as tests/check does).
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "dns.h"
#include "limit.h"
#include "lookalike.h"
#include "table.h"
#include "url.h"
#include "t.h"

/* Normalisation: input, the norm wanted (NULL: not a URL), host, host_u,
 * ip. */
static const struct {
	const char *in;
	const char *norm, *host, *host_u;
	int ip, userinfo;
} norms[] = {
	{ "http://Example.COM", "http://example.com/", "example.com", NULL,
	  0, 0 },
	{ "HTTPS://www.Example.com:443/a/b?c=D#E",
	  "https://www.example.com/a/b?c=D#E", "www.example.com", NULL, 0, 0 },
	{ "http://example.com:8080/", "http://example.com:8080/",
	  "example.com", NULL, 0, 0 },
	{ "http://example.com:0080/", "http://example.com/", "example.com",
	  NULL, 0, 0 },
	{ "http://example.com:99999/", NULL, NULL, NULL, 0, 0 },
	{ "http://example.com:8a/", NULL, NULL, NULL, 0, 0 },
	{ "http://example.com./x", "http://example.com/x", "example.com",
	  NULL, 0, 0 },
	{ "http://b\xc3\xbc" "cher.example/", "http://xn--bcher-kva.example/",
	  "xn--bcher-kva.example", "b\xc3\xbc" "cher.example", 0, 0 },
	{ "http://B\xc3\x9c" "CHER.example/", "http://xn--bcher-kva.example/",
	  "xn--bcher-kva.example", "b\xc3\xbc" "cher.example", 0, 0 },
	{ "http://xn--bcher-kva.example/", "http://xn--bcher-kva.example/",
	  "xn--bcher-kva.example", "b\xc3\xbc" "cher.example", 0, 0 },
	/* non-transitional: sharp s stays */
	{ "http://fa\xc3\x9f.example/", "http://xn--fa-hia.example/",
	  "xn--fa-hia.example", "fa\xc3\x9f.example", 0, 0 },
	/* ideographic full stop separates labels */
	{ "http://example\xe3\x80\x82" "com/", "http://example.com/",
	  "example.com", NULL, 0, 0 },
	{ "http://%65xample.com/", "http://example.com/", "example.com",
	  NULL, 0, 0 },
	{ "http://exa%2fmple.com/", NULL, NULL, NULL, 0, 0 },
	/* IDNA maps a fullwidth reverse solidus to "\\": refused after */
	{ "http://b\xef\xbc\xbc" "cher.example/", NULL, NULL, NULL, 0, 0 },
	{ "http://a..b.example/", NULL, NULL, NULL, 0, 0 },
	{ "http://a.example../", NULL, NULL, NULL, 0, 0 },
	{ "http://192.168.1.1/", "http://192.168.1.1/", "192.168.1.1", NULL,
	  4, 0 },
	{ "http://3232235777/", "http://192.168.1.1/", "192.168.1.1", NULL,
	  4, 0 },
	{ "http://0300.0250.1.1/", "http://192.168.1.1/", "192.168.1.1", NULL,
	  4, 0 },
	{ "http://0xc0a80101/", "http://192.168.1.1/", "192.168.1.1", NULL,
	  4, 0 },
	{ "http://0xC0.0xA8.1.1/", "http://192.168.1.1/", "192.168.1.1",
	  NULL, 4, 0 },
	{ "http://192.168.257/", "http://192.168.1.1/", "192.168.1.1", NULL,
	  4, 0 },
	{ "http://192.168.1.256/", NULL, NULL, NULL, 0, 0 },
	{ "http://1.2.3.4.5/", NULL, NULL, NULL, 0, 0 },
	{ "http://08.1.1.1/", NULL, NULL, NULL, 0, 0 },
	{ "http://4294967296/", NULL, NULL, NULL, 0, 0 },
	{ "http://1.2.3.example/", "http://1.2.3.example/", "1.2.3.example",
	  NULL, 0, 0 },
	{ "http://[2001:DB8::1]/x", "http://[2001:db8::1]/x",
	  "[2001:db8::1]", NULL, 6, 0 },
	{ "http://[2001:db8::1]:8080/", "http://[2001:db8::1]:8080/",
	  "[2001:db8::1]", NULL, 6, 0 },
	{ "http://[zz::1]/", NULL, NULL, NULL, 0, 0 },
	{ "http://[2001:db8::1/", NULL, NULL, NULL, 0, 0 },
	{ "http://paypal.com@evil.example/login",
	  "http://paypal.com@evil.example/login", "evil.example", NULL, 0, 1 },
	{ "http://a@b@evil.example/", "http://a@b@evil.example/",
	  "evil.example", NULL, 0, 1 },
	{ "http:\\\\evil.example\\a\\b?x\\y", "http://evil.example/a/b?x\\y",
	  "evil.example", NULL, 0, 0 },
	{ "http:evil.example/x", "http://evil.example/x", "evil.example",
	  NULL, 0, 0 },
	{ "//evil.example/x", "http://evil.example/x", "evil.example", NULL,
	  0, 0 },
	{ "  http://ex\tam\nple.com/a b  ", "http://example.com/a%20b",
	  "example.com", NULL, 0, 0 },
	{ "http://example.com/\xc3\xa9", "http://example.com/%C3%A9",
	  "example.com", NULL, 0, 0 },
	{ "http://under_score.example/", "http://under_score.example/",
	  "under_score.example", NULL, 0, 0 },
	{ "javascript:alert(1)", "javascript:alert(1)", NULL, NULL, 0, 0 },
	{ "JavaScript:alert(1)", "javascript:alert(1)", NULL, NULL, 0, 0 },
	{ "data:text/html;base64,PHNjcmlwdD4=",
	  "data:text/html;base64,PHNjcmlwdD4=", NULL, NULL, 0, 0 },
	{ "mailto:a@example.com", NULL, NULL, NULL, 0, 0 },
	{ "cid:part1", NULL, NULL, NULL, 0, 0 },
	{ "/relative/path", NULL, NULL, NULL, 0, 0 },
	{ "#top", NULL, NULL, NULL, 0, 0 },
	{ "http://", NULL, NULL, NULL, 0, 0 },
	{ "http:///", NULL, NULL, NULL, 0, 0 },
	{ "http://@/", NULL, NULL, NULL, 0, 0 },
	{ "", NULL, NULL, NULL, 0, 0 },
	{ "http://ex ample.com/", NULL, NULL, NULL, 0, 0 },
};

static void
test_norm(void)
{
	struct url u;
	char name[300];
	size_t i;
	int r;

	for (i = 0; i < sizeof(norms) / sizeof(norms[0]); i++) {
		snprintf(name, sizeof(name), "parse %zu: %s", i, norms[i].in);
		r = url_parse(&u, norms[i].in, strlen(norms[i].in),
		    URL_HTML_HREF);
		if (norms[i].norm == NULL) {
			is_int(r, -1, name);
			if (r == 0) {
				printf("#   norm %s\n", u.norm);
				url_free(&u);
			}
			continue;
		}
		is_int(r, 0, name);
		if (r != 0)
			continue;
		is_str(u.norm, norms[i].norm, name);
		is_str(u.host, norms[i].host, name);
		is_str(u.host_u, norms[i].host_u, name);
		is_int(u.ip, norms[i].ip, name);
		is_int(u.userinfo, norms[i].userinfo, name);
		url_free(&u);
	}
	/* "www." is a URL in text only */
	r = url_parse(&u, "www.example.com", 15, URL_TEXT);
	is_int(r, 0, "www. in text");
	if (r == 0) {
		is_str(u.norm, "http://www.example.com/", "www. in text: norm");
		is_str(u.raw, "www.example.com", "www. in text: raw");
		url_free(&u);
	}
	is_int(url_parse(&u, "www.example.com", 15, URL_HTML_HREF), -1,
	    "www. in an href is relative");
}

/* Extraction: input, then the norms wanted (in order), separated by
 * spaces; text "~" for none. */
static const struct {
	int html;
	const char *in;
	const char *want;
} extracts[] = {
	{ 0, "see http://example.com/a.", "http://example.com/a" },
	{ 0, "see http://example.com/a, and https://b.example/?q=1!",
	  "http://example.com/a https://b.example/?q=1" },
	{ 0, "(http://example.com/a_(b)) and (www.example.org)",
	  "http://example.com/a_(b) http://www.example.org/" },
	{ 0, "[http://example.com/x]", "http://example.com/x" },
	{ 0, "<http://example.com/x>", "http://example.com/x" },
	{ 0, "\"http://example.com/x\"", "http://example.com/x" },
	{ 0, "'http://example.com/x';", "http://example.com/x" },
	{ 0, "HTTP://EXAMPLE.COM/X", "http://example.com/X" },
	{ 0, "ftp://files.example/f.zip", "ftp://files.example/f.zip" },
	{ 0, "xhttp://example.com/ nothttps://x.example", "~" },
	{ 0, "mail info@www.example.com now", "~" },
	{ 0, "a.www.example.com", "~" },
	{ 0, "http://example.com http://example.com/ HTTP://example.com:80",
	  "http://example.com/" },
	{ 0, "\xc2\xabhttp://example.com/x\xc2\xbb",
	  "http://example.com/x" },
	{ 0, "\xe2\x80\x9chttp://example.com/x\xe2\x80\x9d",
	  "http://example.com/x" },
	{ 0, "go http://b\xc3\xbc" "cher.example/\xc3\xa9 now",
	  "http://xn--bcher-kva.example/%C3%A9" },
	{ 0, "javascript:alert(1) data:text/html,x mailto:a@b.example", "~" },
	{ 0, "http://", "~" },
	{ 0, "www.", "~" },
	{ 0, "http://a.example\nhttp://b.example\r\nwww.c.example\t",
	  "http://a.example/ http://b.example/ http://www.c.example/" },
	{ 1, "<a href=\"http://example.com/a\">x</a>", "http://example.com/a" },
	{ 1, "<A HREF='http://example.com/a?x=1&amp;y=2'>x</A>",
	  "http://example.com/a?x=1&y=2" },
	{ 1, "<a href=http://example.com/u>x</a>", "http://example.com/u" },
	{ 1, "<a title=\"x>y\" href=\"http://example.com/t\">x</a>",
	  "http://example.com/t" },
	{ 1, "<a href=\"&#104;&#x74;tp://example.com/e\">x</a>",
	  "http://example.com/e" },
	{ 1, "<a href=\"&#106;avascript:alert(1)\">x</a>",
	  "javascript:alert(1)" },
	{ 1, "<a href=\"java\nscript:alert(1)\">x</a>", "javascript:alert(1)" },
	{ 1, "<a href=\"mailto:a@example.com\">x</a><a href=\"#top\">t</a>"
	  "<a href=\"/rel\">r</a><a href=\"cid:x\">c</a>", "~" },
	{ 1, "<area shape=rect href=\"http://example.com/area\">",
	  "http://example.com/area" },
	{ 1, "<img src=\"http://img.example/p.gif\" width=1>",
	  "http://img.example/p.gif" },
	{ 1, "<iframe src=\"//frame.example/\"></iframe>",
	  "http://frame.example/" },
	{ 1, "<script src=\"http://js.example/a.js\">if (a<b) "
	  "x='<a href=\"http://no.example/\">';</script>",
	  "http://js.example/a.js" },
	{ 1, "<style>a<b{}</style><form method=post "
	  "action=\"https://form.example/post\">",
	  "https://form.example/post" },
	{ 1, "<meta http-equiv=\"Refresh\" content=\"0; URL='http://meta."
	  "example/r'\">", "http://meta.example/r" },
	{ 1, "<meta http-equiv=refresh content=\"5;url=http://meta.example/"
	  "s\">", "http://meta.example/s" },
	{ 1, "<META HTTP-EQUIV=' rEfReSh ' CONTENT='1,URL=http://meta.example/"
	  "t'>", "http://meta.example/t" },
	{ 1, "<meta http-equiv=\"content-type\" content=\"text/html; "
	  "url=http://no.example/\">", "~" },
	{ 1, "<!-- <a href=\"http://no.example/\">x</a> -->"
	  "<a href=\"http://yes.example/\">y</a>", "http://yes.example/" },
	{ 1, "<p>visit http://text.example/ or www.w.example&period;</p>",
	  "http://text.example/ http://www.w.example/" },
	{ 1, "<p>http://a.example</p><p>next</p>", "http://a.example/" },
	{ 1, "<a href=\"http://a.example/\">http://shown.example/</a>",
	  "http://a.example/" },
	{ 1, "<a href=\"http://a.example/\" href=\"http://b.example/\">x</a>",
	  "http://a.example/" },
	{ 1, "<a href=\"http://a.example/", "http://a.example/" },
	{ 1, "<a href=", "~" },
	{ 1, "<", "~" },
	{ 1, "<!--", "~" },
	{ 1, "a < b > c &amp; &#xZZ; &#0; &#99999999999;", "~" },
	{ 1, "<a href=\"data:text/html,<script>x</script>\">x</a>",
	  "data:text/html,<script>x</script>" },
};

static void
test_extract(void)
{
	struct urlset set = { 0 };
	char name[300], got[2000];
	size_t i, j, off;

	for (i = 0; i < sizeof(extracts) / sizeof(extracts[0]); i++) {
		if (extracts[i].html)
			url_extract_html(&set, extracts[i].in,
			    strlen(extracts[i].in));
		else
			url_extract_text(&set, extracts[i].in,
			    strlen(extracts[i].in));
		off = 0;
		got[0] = '\0';
		for (j = 0; j < set.n && off < sizeof(got); j++)
			off += (size_t)snprintf(got + off, sizeof(got) - off,
			    "%s%s", j ? " " : "", set.v[j].norm);
		if (set.n == 0)
			snprintf(got, sizeof(got), "~");
		snprintf(name, sizeof(name), "extract %zu: %s", i,
		    extracts[i].in);
		is_str(got, extracts[i].want, name);
		urlset_free(&set);
	}
}

static void
test_html_details(void)
{
	struct urlset set = { 0 };
	const char *h;

	h = "<a href=\"http://a.example/\">  Click\n  <b>here</b>&nbsp;now "
	    "</a> <a href=\"http://a.example/\">www.shown.example</a>"
	    "<a href=\"http://b.example/\">b.example</a>"
	    "<img src=\"http://i.example/\"><iframe src=\"http://f.example/\">"
	    "<script src=\"http://s.example/\"></script>"
	    "<form action=\"http://fo.example/\"></form>"
	    "<meta http-equiv=refresh content=\"1;url=http://m.example/\">"
	    "text http://t.example/";
	url_extract_html(&set, h, strlen(h));
	is_int(set.n, 8, "html: eight URLs");
	if (set.n == 8) {
		is_str(set.v[0].text, "www.shown.example",
		    "html: a text that shows a host wins over one that does not");
		is_int(set.v[0].source, URL_HTML_HREF, "html: href source");
		is_str(set.v[1].text, "b.example", "html: link text");
		is_int(set.v[2].source, URL_HTML_SRC, "html: img source");
		is_str(set.v[2].text, NULL, "html: an img has no text");
		is_int(set.v[3].source, URL_HTML_FRAME, "html: iframe source");
		is_int(set.v[4].source, URL_HTML_SCRIPT, "html: script source");
		is_int(set.v[5].source, URL_HTML_FORM, "html: form source");
		is_int(set.v[6].source, URL_HTML_META, "html: meta source");
		is_int(set.v[7].source, URL_TEXT, "html: text source");
	}
	urlset_free(&set);

	h = "<a href=\"http://a.example/\">  Click\n  <b>here</b>&nbsp;now </a>";
	url_extract_html(&set, h, strlen(h));
	is_int(set.n, 1, "html: one link");
	if (set.n == 1)
		is_str(set.v[0].text, "Click here\xc2\xa0now",
		    "html: link text with blanks collapsed, entities decoded");
	urlset_free(&set);

	/* an unclosed a ends at the next a */
	h = "<a href=\"http://a.example/\">one<a href=\"http://b.example/\">two";
	url_extract_html(&set, h, strlen(h));
	is_int(set.n, 2, "html: two unclosed links");
	if (set.n == 2) {
		is_str(set.v[0].text, "one", "html: first text");
		is_str(set.v[1].text, "two", "html: second text");
	}
	urlset_free(&set);
}

static void
test_limits(void)
{
	struct urlset set = { 0 };
	char *buf, *p;
	size_t i, n;

	/* LIMIT_URLS + 10 distinct URLs: the rest counted, not kept */
	n = (LIMIT_URLS + 10) * 32;
	buf = malloc(n);
	p = buf;
	for (i = 0; i < LIMIT_URLS + 10; i++)
		p += snprintf(p, 32, "http://h%zu.example/ ", i);
	url_extract_text(&set, buf, (size_t)(p - buf));
	is_int(set.n, LIMIT_URLS, "limit: LIMIT_URLS kept");
	is_int(set.dropped, 10, "limit: the rest counted as dropped");
	is_int(set.truncated, 0, "limit: not truncated");
	urlset_free(&set);
	free(buf);

	/* a URL over LIMIT_URL_LENGTH is cut, not lost */
	n = LIMIT_URL_LENGTH * 2;
	buf = malloc(n + 1);
	memcpy(buf, "http://long.example/", 20);
	memset(buf + 20, 'a', n - 20);
	buf[n] = '\0';
	url_extract_text(&set, buf, n);
	is_int(set.n, 1, "limit: a long URL kept");
	if (set.n == 1) {
		is_int(strlen(set.v[0].raw), LIMIT_URL_LENGTH,
		    "limit: cut to LIMIT_URL_LENGTH");
		is_str(set.v[0].host, "long.example", "limit: host of a long URL");
	}
	urlset_free(&set);
	free(buf);

	/* input past LIMIT_URL_INPUT is not read */
	n = LIMIT_URL_INPUT + 100;
	buf = malloc(n);
	memset(buf, ' ', n);
	memcpy(buf + LIMIT_URL_INPUT + 10, "http://late.example/", 20);
	url_extract_html(&set, buf, n);
	is_int(set.n, 0, "limit: nothing found past LIMIT_URL_INPUT");
	is_int(set.truncated, 1, "limit: truncated noted");
	urlset_free(&set);
	free(buf);
}

/* Reasons collected as "rule=score;" */
struct got {
	char s[2000];
	char detail[600];
};

static void
collect(void *arg, const char *rule, int score, const char *detail)
{
	struct got *g = arg;
	size_t n = strlen(g->s);

	snprintf(g->s + n, sizeof(g->s) - n, "%s=%d;", rule, score);
	snprintf(g->detail, sizeof(g->detail), "%s", detail);
}

/* Check rules: a URL (with link text), its source, the rules wanted. */
static const struct {
	const char *url, *text;
	int source;
	const char *want;
} checks[] = {
	{ "http://example.com/", NULL, URL_TEXT, "" },
	{ "http://192.0.2.1/", NULL, URL_TEXT, "url.ip_literal=2;" },
	{ "http://3221225985/", NULL, URL_TEXT, "url.ip_literal=2;" },
	{ "http://[2001:db8::1]/", NULL, URL_TEXT, "url.ip_literal=2;" },
	{ "http://b\xc3\xbc" "cher.example/", NULL, URL_TEXT,
	  "url.punycode=1;" },
	{ "http://xn--bcher-kva.example/", NULL, URL_TEXT, "url.punycode=1;" },
	/* "p", Cyrillic "а", "ypal": a lookalike of paypal.com too */
	{ "http://p\xd0\xb0ypal.example/", NULL, URL_TEXT,
	  "url.punycode=1;url.mixed_script=4;url.lookalike=5;" },
	{ "http://p\xd0\xb0yp\xd0\xb0l.example/", NULL, URL_TEXT,
	  "url.punycode=1;url.mixed_script=4;url.lookalike=5;" },
	/* all Cyrillic: one script */
	{ "http://\xd0\xbf\xd1\x80\xd0\xb8\xd0\xbc\xd0\xb5\xd1\x80.example/",
	  NULL, URL_TEXT, "url.punycode=1;" },
	/* Latin with Han: allowed at the moderately restrictive level */
	{ "http://abc\xe4\xb8\xad\xe6\x96\x87.example/", NULL, URL_TEXT,
	  "url.punycode=1;" },
	{ "http://evil.example/", "www.paypal.com", URL_HTML_HREF,
	  "url.text_mismatch=3;" },
	{ "http://evil.example/", "https://paypal.com/login", URL_HTML_HREF,
	  "url.text_mismatch=3;" },
	{ "https://www.paypal.com/x", "paypal.com", URL_HTML_HREF, "" },
	{ "https://a.b.example.co.uk/x", "www.example.co.uk", URL_HTML_HREF,
	  "" },
	{ "https://a.example.co.uk/x", "www.other.co.uk", URL_HTML_HREF,
	  "url.text_mismatch=3;" },
	{ "http://evil.example/", "Click here", URL_HTML_HREF, "" },
	{ "http://evil.example/", "invoice.pdf", URL_HTML_HREF, "" },
	{ "http://evil.example/", "jane@paypal.com", URL_HTML_HREF, "" },
	{ "http://evil.example/", "version 1.2.3.4", URL_HTML_HREF, "" },
	{ "http://evil.example/", "1.2.3.4", URL_HTML_HREF, "" },
	{ "http://evil.example/", "http://1.2.3.4/", URL_HTML_HREF,
	  "url.text_mismatch=3;" },
	{ "http://evil.example/", "Read more...", URL_HTML_HREF, "" },
	{ "http://paypa1.com/", NULL, URL_TEXT, "url.lookalike=5;" },
	{ "http://www.paypal.com/", NULL, URL_TEXT, "" },
	{ "http://bit.ly/abc", NULL, URL_TEXT, "url.shortener=1;" },
	{ "http://www.bit.ly/abc", NULL, URL_TEXT, "url.shortener=1;" },
	{ "http://notbit.ly/abc", NULL, URL_TEXT, "" },
	{ "http://go.short.example/abc", NULL, URL_TEXT, "url.shortener=1;" },
	{ "http://short.example/abc", NULL, URL_TEXT, "url.shortener=1;" },
	{ "data:text/html;base64,PHNjcmlwdD4=", NULL, URL_HTML_HREF,
	  "url.data=3;" },
	{ "data:image/png;base64,iVBORw0KGgo=", NULL, URL_HTML_SRC, "" },
	{ "data:image/svg+xml,<svg/>", NULL, URL_HTML_SRC, "url.data=3;" },
	{ "data:image/png;base64,iVBORw0KGgo=", NULL, URL_HTML_FRAME,
	  "url.data=3;" },
	{ "javascript:alert(1)", NULL, URL_HTML_HREF, "url.javascript=4;" },
	{ "vbscript:msgbox(1)", NULL, URL_HTML_HREF, "url.javascript=4;" },
	{ "http://paypal.com@evil.example/", NULL, URL_TEXT,
	  "url.userinfo=3;" },
	{ "http://evil.example/a@b", NULL, URL_TEXT, "" },
	{ "http://bad.example/", NULL, URL_TEXT, "url.blocklist=10;" },
	{ "http://a.b.bad.example/", NULL, URL_TEXT, "url.blocklist=10;" },
	{ "http://notbad.example/", NULL, URL_TEXT, "" },
	{ "http://198.51.100.7/", NULL, URL_TEXT,
	  "url.ip_literal=2;url.blocklist=10;" },
	{ "http://203.0.113.9/", NULL, URL_TEXT,
	  "url.ip_literal=2;url.blocklist=10;" },
	{ "http://203.0.114.9/", NULL, URL_TEXT, "url.ip_literal=2;" },
	{ "http://user@bad.example/", "www.paypal.com", URL_HTML_HREF,
	  "url.text_mismatch=3;url.userinfo=3;url.blocklist=10;" },
};

static void
test_check(void)
{
	struct url_policy pol;
	struct table *protect, *blk, *shorten;
	struct lookalike *lk;
	struct url u;
	struct got g;
	char err[256], name[300];
	size_t i;

	memset(&pol, 0, sizeof(pol));
	ok(url_policy_init(&pol, err, sizeof(err)) == 0, "url_policy_init");
	protect = table_from_list("paypal.com", err, sizeof(err));
	blk = table_from_list("bad.example,198.51.100.7,203.0.113.0/24", err,
	    sizeof(err));
	shorten = table_from_list("short.example", err, sizeof(err));
	lk = lookalike_new(protect, NULL, err, sizeof(err));
	ok(protect && blk && shorten && lk, "tables");
	pol.lookalike = lk;
	pol.blocklist = blk;
	pol.shorteners = shorten;

	for (i = 0; i < sizeof(checks) / sizeof(checks[0]); i++) {
		snprintf(name, sizeof(name), "check %zu: %s [%s]", i,
		    checks[i].url, checks[i].text ? checks[i].text : "");
		if (url_parse(&u, checks[i].url, strlen(checks[i].url),
		    checks[i].source) == -1) {
			ok(0, name);
			continue;
		}
		if (checks[i].text != NULL)
			u.text = strdup(checks[i].text);
		memset(&g, 0, sizeof(g));
		url_check(&u, &pol, collect, &g);
		is_str(g.s, checks[i].want, name);
		url_free(&u);
	}

	/* details */
	url_parse(&u, "http://paypa1.com/", 18, URL_TEXT);
	memset(&g, 0, sizeof(g));
	url_check(&u, &pol, collect, &g);
	is_str(g.detail, "host paypa1.com looks like paypal.com (skeleton)",
	    "detail: lookalike");
	url_free(&u);
	url_parse(&u, "http://evil.example/", 20, URL_HTML_HREF);
	u.text = strdup("www.p\xd0\xb0ypal.com");
	memset(&g, 0, sizeof(g));
	url_check(&u, &pol, collect, &g);
	is_str(g.s, "url.text_mismatch=3;", "text mismatch, IDN text");
	is_str(g.detail, "link text shows www.xn--pypal-4ve.com, link goes to "
	    "evil.example", "detail: text mismatch in ASCII");
	url_free(&u);

	/* no tables: only the table-free rules */
	pol.lookalike = NULL;
	pol.blocklist = NULL;
	pol.shorteners = NULL;
	url_parse(&u, "http://paypa1.com/", 18, URL_TEXT);
	memset(&g, 0, sizeof(g));
	url_check(&u, &pol, collect, &g);
	is_str(g.s, "", "no lookalike table: no url.lookalike");
	url_free(&u);
	url_parse(&u, "http://bad.example/", 19, URL_TEXT);
	memset(&g, 0, sizeof(g));
	url_check(&u, &pol, collect, &g);
	is_str(g.s, "", "no block list: no url.blocklist");
	url_free(&u);

	{
		char r[256];

		is_int(url_registrable(&pol, "www.example.co.uk", r,
		    sizeof(r)), 0, "registrable: co.uk");
		is_str(r, "example.co.uk", "registrable: example.co.uk");
		is_int(url_registrable(&pol, "co.uk", r, sizeof(r)), -1,
		    "registrable: a public suffix has none");
		is_int(url_registrable(&pol, "192.0.2.1", r, sizeof(r)), -1,
		    "registrable: an address has none");
		is_int(url_registrable(&pol, "www.example.com", r, 5), -1,
		    "registrable: no room");
	}

	lookalike_free(lk);
	table_free(protect);
	table_free(blk);
	table_free(shorten);
	url_policy_fini(&pol);
	url_policy_fini(&pol);	/* twice is fine */
}

/*
 * url_uribl against NSD on loopback.
 */

static char dir[64];

static const char zone_uribl[] =
    "$ORIGIN uribl.test.\n"
    "$TTL 300\n"
    "@\tSOA ns hostmaster 1 3600 600 86400 300\n"
    "@\tNS ns\n"
    "ns\tA 127.0.0.1\n"
    "evil.example\tA 127.0.0.2\n"
    "bad.co.uk\tA 127.0.0.4\n"
    "2.113.0.203\tA 127.0.0.2\n"
    "refused.example\tA 127.0.0.1\n"
    "error.example\tA 127.255.255.254\n"
    "public.example\tA 192.0.2.1\n"
    "txt.example\tTXT \"listed\"\n";

static const char zone_other[] =
    "$ORIGIN other.test.\n"
    "$TTL 300\n"
    "@\tSOA ns hostmaster 1 3600 600 86400 300\n"
    "@\tNS ns\n"
    "ns\tA 127.0.0.1\n"
    "evil.example\tA 127.0.1.3\n";

static int
write_file(const char *name, const char *text)
{
	char path[128];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if ((f = fopen(path, "w")) == NULL)
		return -1;
	fputs(text, f);
	return fclose(f);
}

static int
free_port(void)
{
	struct sockaddr_in sin;
	socklen_t len = sizeof(sin);
	int s, port = -1;

	if ((s = socket(AF_INET, SOCK_DGRAM, 0)) == -1)
		return -1;
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(s, (struct sockaddr *)&sin, sizeof(sin)) == 0 &&
	    getsockname(s, (struct sockaddr *)&sin, &len) == 0)
		port = ntohs(sin.sin_port);
	close(s);
	return port;
}

static long
server_start(int *port)
{
	char cmd[512], line[64];
	FILE *p;
	long pid = -1;
	int tries;

	for (tries = 0; tries < 5 && pid <= 0; tries++) {
		if ((*port = free_port()) == -1)
			continue;
		snprintf(cmd, sizeof(cmd), "tests/dns-server start %s/srv %d "
		    "%s/uribl.zone %s/other.zone servfail:broken.test", dir,
		    *port, dir, dir);
		if ((p = popen(cmd, "r")) == NULL)
			return -1;
		if (fgets(line, sizeof(line), p) != NULL)
			pid = strtol(line, NULL, 10);
		if (pclose(p) != 0)
			pid = -1;
	}
	return pid;
}

static void
test_uribl(struct dns *d)
{
	static const char *const zones[] = { "uribl.test", "other.test" };
	static const char *const broken[] = { "broken.test" };
	struct url_policy pol;
	struct urlset set = { 0 };
	struct got g;
	char err[256];
	const char *text;
	int r;

	memset(&pol, 0, sizeof(pol));
	if (url_policy_init(&pol, err, sizeof(err)) == -1) {
		ok(0, err);
		return;
	}
	text = "http://www.evil.example/a http://evil.example/b "
	    "http://x.bad.co.uk/ http://203.0.113.2/ http://clean.example/ "
	    "http://refused.example/ http://error.example/ "
	    "http://public.example/ http://txt.example/ http://[2001:db8::1]/";
	url_extract_text(&set, text, strlen(text));
	is_int(set.n, 10, "uribl: ten URLs");

	memset(&g, 0, sizeof(g));
	r = url_uribl(d, &set, &pol, collect, &g);
	is_int(r, 0, "uribl: no zone, no query");
	is_str(g.s, "", "uribl: no zone, no reason");

	pol.uribl = zones;
	pol.nuribl = 2;
	memset(&g, 0, sizeof(g));
	r = url_uribl(d, &set, &pol, collect, &g);
	is_int(r, 0, "uribl: all answered");
	is_str(g.s, "url.uribl=5;url.uribl=5;url.uribl=5;url.uribl=5;",
	    "uribl: evil twice (two zones), bad.co.uk, 203.0.113.2");
	is_str(g.detail, "2.113.0.203 listed by uribl.test (127.0.0.2)",
	    "uribl: the address asked reversed");

	pol.uribl = zones + 1;
	pol.nuribl = 1;
	memset(&g, 0, sizeof(g));
	r = url_uribl(d, &set, &pol, collect, &g);
	is_int(r, 0, "uribl: one zone answered");
	is_str(g.detail, "evil.example listed by other.test (127.0.1.3)",
	    "uribl: registrable domain, the zone and the answer");

	pol.uribl = broken;
	pol.nuribl = 1;
	memset(&g, 0, sizeof(g));
	r = url_uribl(d, &set, &pol, collect, &g);
	is_int(r, 8, "uribl: a failing zone: every lookup counted");
	is_str(g.s, "", "uribl: a failing zone lists nothing");

	urlset_free(&set);
	url_policy_fini(&pol);
}

int
main(void)
{
	struct dns *d;
	char cmd[256], srv[64], err[256];
	long pid;
	int port;

	test_norm();
	test_extract();
	test_html_details();
	test_limits();
	test_check();

	snprintf(dir, sizeof(dir), "/tmp/test_url.XXXXXX");
	if (mkdtemp(dir) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	if (write_file("uribl.zone", zone_uribl) == -1 ||
	    write_file("other.zone", zone_other) == -1) {
		perror("write zone");
		return 1;
	}
	pid = server_start(&port);
	ok(pid > 0, "dns-server started");
	if (pid <= 0)
		goto out;
	snprintf(srv, sizeof(srv), "127.0.0.1:%d", port);
	d = dns_new(srv, err, sizeof(err));
	ok(d != NULL, "resolver for the test server");
	if (d == NULL) {
		printf("# %s\n", err);
		goto stop;
	}
	dns_set_timeout(d, 2000);
	test_uribl(d);
	dns_free(d);
stop:
	snprintf(cmd, sizeof(cmd), "tests/dns-server stop %s/srv", dir);
	is_int(system(cmd), 0, "dns-server stopped");
out:
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd) != 0)
		printf("# %s failed\n", cmd);
	return t_done();
}
