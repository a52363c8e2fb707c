#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mime.h"
#include "t.h"
#include "xalloc.h"

/* What a parse gave: one line per event, the data and the text of the
 * last leaf. */
struct got {
	char ev[4096];
	char data[4096];
	size_t datalen;
	char text[4096];
	size_t textlen;
	int defects[MIME_NDEFECTS];
};

static void
add(struct got *g, const char *fmt, const char *a, const char *b)
{
	size_t l = strlen(g->ev);

	snprintf(g->ev + l, sizeof(g->ev) - l, fmt, a, b);
}

static void
on_begin(void *arg, const struct mime_part *p)
{
	struct got *g = arg;

	add(g, "<%s %s", p->path, p->type);
	if (p->filename)
		add(g, " %s%s", "name=", p->filename);
	add(g, "%s%s", ">", "");
	if (!p->container) {
		g->datalen = 0;
		g->textlen = 0;
	}
}

static void
on_data(void *arg, const struct mime_part *p, const void *s, size_t n)
{
	struct got *g = arg;

	(void)p;
	if (g->datalen + n < sizeof(g->data)) {
		memcpy(g->data + g->datalen, s, n);
		g->datalen += n;
	}
}

static void
on_text(void *arg, const struct mime_part *p, const char *s, size_t n)
{
	struct got *g = arg;

	(void)p;
	if (g->textlen + n < sizeof(g->text)) {
		memcpy(g->text + g->textlen, s, n);
		g->textlen += n;
	}
}

static void
on_defect(void *arg, enum mime_defect d, const char *detail)
{
	struct got *g = arg;

	(void)detail;
	g->defects[d]++;
}

/* Parse s pushing chunk bytes at a time. */
static void
parse(struct got *g, const char *s, size_t chunk, int depth, long parts)
{
	struct mime_conf c = { depth, parts, 1 << 20, 4096 };
	struct mime_ops o = { on_begin, on_data, on_text, NULL, on_defect, g };
	struct mime *m;
	size_t n = strlen(s), i;

	memset(g, 0, sizeof(*g));
	m = mime_new(&c, &o);
	for (i = 0; i < n; i += chunk)
		mime_push(m, s + i, n - i < chunk ? n - i : chunk);
	mime_finish(m);
	mime_free(m);
	g->data[g->datalen] = '\0';
	g->text[g->textlen] = '\0';
}

int
main(void)
{
	struct got g;
	char *s, *type, *big;
	size_t chunks[] = { 1, 3, 7, 4096 }, i, k;

	/* RFC 2047 */
	s = mime_decode_words("=?UTF-8?B?w6ljb2xl?=", 20);
	is_str(s, "\xc3\xa9" "cole", "2047: B in UTF-8");
	free(s);
	s = mime_decode_words("=?iso-8859-1?q?caf=E9_au_lait?=", 31);
	is_str(s, "caf\xc3\xa9 au lait", "2047: Q in Latin-1, _ a space");
	free(s);
	s = mime_decode_words("a =?utf-8?q?b?= =?utf-8?q?c?= d", 31);
	is_str(s, "a bc d", "2047: blanks between words go, others stay");
	free(s);
	s = mime_decode_words("=?bogus-cs?q?x=FF?=", 19);
	is_str(s, "x\xc3\xbf", "2047: an unknown charset read as "
	    "Windows-1252");
	free(s);
	s = mime_decode_words("=?UTF-8? Q?x?=", 14);
	is_str(s, "=?UTF-8? Q?x?=", "2047: a malformed word kept as it is");
	free(s);

	/* parameters, RFC 2231 */
	s = mime_param("Text/Plain ; charset=\"UTF-8\"", "charset", &type);
	is_str(type, "text/plain", "param: the type in lower case");
	is_str(s, "UTF-8", "param: a quoted value");
	free(s);
	free(type);
	s = mime_param("attachment; filename*0*=utf-8''%E2%80%AEcod; "
	    "filename*1=\"exe.pdf\"", "filename", NULL);
	is_str(s, "\xe2\x80\xae" "codexe.pdf", "2231: continuations and a "
	    "charset");
	free(s);
	s = mime_param("attachment; filename*=iso-8859-1'en'%E9t%E9.txt",
	    "filename", NULL);
	is_str(s, "\xc3\xa9t\xc3\xa9.txt", "2231: one extended value");
	free(s);
	s = mime_param("attachment; filename=\"=?utf-8?B?w6kuZXhl?=\"",
	    "filename", NULL);
	is_str(s, "\xc3\xa9.exe", "param: an encoded word in a quoted "
	    "value (not RFC, common)");
	free(s);
	s = mime_param("attachment; name=a; filename=\"unclosed", "filename",
	    NULL);
	is_str(s, "unclosed", "param: an unclosed quote runs to the end");
	free(s);
	s = mime_param("attachment; filename=\"caf\xe9.doc\"", "filename",
	    NULL);
	is_str(s, "caf\xc3\xa9.doc", "param: raw 8-bit read as Windows-1252");
	free(s);
	s = mime_param("attachment; filename=\"\xe7\xae\xa1.doc\"",
	    "filename", NULL);
	is_str(s, "\xe7\xae\xa1.doc", "param: raw UTF-8 kept");
	free(s);
	ok(mime_param("text/plain", "charset", NULL) == NULL,
	    "param: none is NULL");

	/* structure, at every chunk size */
	for (k = 0; k < sizeof(chunks) / sizeof(chunks[0]); k++) {
		char name[80];

		parse(&g, "Content-Type: multipart/mixed; boundary=a\r\n\r\n"
		    "preamble\r\n--a\r\nContent-Type: text/plain; "
		    "charset=iso-8859-1\r\nContent-Transfer-Encoding: "
		    "quoted-printable\r\n\r\ncaf=E9 =\r\nau lait\r\n--a\r\n"
		    "Content-Type: application/pdf; name=x.pdf\r\n"
		    "Content-Transfer-Encoding: base64\r\n\r\n"
		    "aGVs\r\nbG8=\r\n--a--\r\nepilogue\r\n", chunks[k], 10,
		    100);
		snprintf(name, sizeof(name), "tree, chunks of %zu", chunks[k]);
		is_str(g.ev, "< multipart/mixed><1 text/plain>"
		    "<2 application/pdf name=x.pdf>", name);
		is_str(g.data, "hello", "base64 decoded, line ends ignored");
		ok(g.defects[MIME_UNCLOSED] == 0, "closed: no defect");
	}
	parse(&g, "Content-Type: text/plain; charset=iso-8859-1\n"
	    "Content-Transfer-Encoding: quoted-printable\n\ncaf=E9 =\nau "
	    "lait=\n", 5, 10, 100);
	is_str(g.text, "caf\xc3\xa9 au lait", "QP: soft breaks, Latin-1 to "
	    "UTF-8");
	parse(&g, "Content-Transfer-Encoding: quoted-printable\n\n=ZZ=4\n",
	    4096, 10, 100);
	is_str(g.data, "=ZZ=4\n", "QP: bad escapes kept as they are");
	ok(g.defects[MIME_QP] == 1, "QP: a defect");
	parse(&g, "Content-Transfer-Encoding: base64\n\naGV*sbG8\n", 4096,
	    10, 100);
	is_str(g.data, "hello", "base64: garbage skipped");
	ok(g.defects[MIME_BASE64] == 1, "base64: a defect");

	/* a missing close: the outer boundary ends the inner part */
	parse(&g, "Content-Type: multipart/mixed; boundary=out\n\n--out\n"
	    "Content-Type: multipart/alternative; boundary=in\n\n--in\n\n"
	    "inner\n--out\n\nsecond\n--out--\n", 4096, 10, 100);
	is_str(g.ev, "< multipart/mixed><1 multipart/alternative>"
	    "<1.1 text/plain><2 text/plain>", "missing close: inner ended");
	ok(g.defects[MIME_UNCLOSED] == 1, "missing close: a defect");
	is_str(g.data, "second", "missing close: the line end before a "
	    "boundary is the boundary's");

	/* boundary "a" does not take "--ab" */
	parse(&g, "Content-Type: multipart/mixed; boundary=a\n\n--a\n"
	    "Content-Type: multipart/mixed; boundary=ab\n\n--ab\n\nx\n"
	    "--ab--\n--a--\n", 4096, 10, 100);
	is_str(g.ev, "< multipart/mixed><1 multipart/mixed><1.1 text/plain>",
	    "prefix boundaries kept apart");
	ok(g.defects[MIME_UNCLOSED] == 0, "prefix boundaries: no defect");

	/* message/rfc822 and a multipart without boundary */
	parse(&g, "Content-Type: message/rfc822\n\nSubject: x\n"
	    "Content-Type: multipart/mixed\n\nbody\n", 4096, 10, 100);
	is_str(g.ev, "< message/rfc822><1 multipart/mixed>",
	    "rfc822 body, a boundary-less multipart a leaf");
	ok(g.defects[MIME_NO_BOUNDARY] == 1, "no boundary: a defect");

	/* uuencode in text */
	parse(&g, "Subject: uu\n\nsee\nbegin 644 a.txt\n%:&5L;&\\*\n`\nend\n"
	    "", 4096, 10, 100);
	is_str(g.ev, "<1 text/plain><1.1 application/octet-stream "
	    "name=a.txt>", "uuencode: a part of its own");
	is_str(g.data, "hello\n", "uuencode: decoded");

	/* limits */
	big = xmalloc(200 * 60 + 100);
	big[0] = '\0';
	for (i = 0; i < 200; i++) {
		char l[80];

		snprintf(l, sizeof(l), "Content-Type: multipart/mixed; "
		    "boundary=b%zu\n\n--b%zu\n", i, i);
		strcat(big, l);
	}
	parse(&g, big, 4096, 50, 1000);
	ok(g.defects[MIME_DEPTH] == 1, "depth: over the limit is a defect");
	parse(&g, big, 4096, 500, 20);
	ok(g.defects[MIME_PARTS] == 1, "parts: over the limit is a defect");
	free(big);
	parse(&g, "Content-Type: text/plain; charset=no-such-charset\n\nx\n",
	    4096, 10, 100);
	ok(g.defects[MIME_CHARSET] == 1, "charset: unknown is a defect");
	is_str(g.text, "x\n", "charset: read as Windows-1252");
	parse(&g, "Content-Type: text/plain; charset=utf-8\n\n\xff\xc3\xa9\n",
	    1, 10, 100);
	is_str(g.text, "\xef\xbf\xbd\xc3\xa9\n", "UTF-8: a bad byte is "
	    "U+FFFD, a character cut between pushes kept whole");
	return t_done();
}
