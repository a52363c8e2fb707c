/*
 * dsn: RFC 3464 notifications, and who may get one.  See dsn.h.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "dsn.h"
#include "log.h"
#include "record.h"
#include "xalloc.h"

/* a and b (lengths) the same domain, case and a trailing dot ignored */
static int
same_domain(const char *a, size_t al, const char *b, size_t bl)
{
	if (al > 0 && a[al - 1] == '.')
		al--;
	if (bl > 0 && b[bl - 1] == '.')
		bl--;
	return al == bl && al > 0 && strncasecmp(a, b, al) == 0;
}

/* d is org or below it (at a label boundary) */
static int
under(const char *d, const char *org)
{
	size_t dl = strlen(d), ol = strlen(org);

	if (ol > 0 && org[ol - 1] == '.')
		ol--;
	if (dl > 0 && d[dl - 1] == '.')
		dl--;
	if (ol == 0)
		return 0;
	if (same_domain(d, dl, org, ol))
		return 1;
	return dl > ol + 1 && d[dl - ol - 1] == '.' &&
	    strncasecmp(d + dl - ol, org, ol) == 0;
}

static int
aligned(const char *x, const char *d, const char *org)
{
	if (x == NULL)
		return 0;
	if (same_domain(x, strlen(x), d, strlen(d)))
		return 1;
	return org != NULL && under(x, org) && under(d, org);
}

int
dsn_authenticated(const json_t *rec)
{
	const json_t *auth = json_object_get(rec, "auth");
	const json_t *spf = json_object_get(auth, "spf");
	const json_t *dmarc = json_object_get(auth, "dmarc");
	const json_t *dkim = json_object_get(auth, "dkim"), *v;
	const char *from = record_get(json_object_get(rec, "envelope"),
	    "from");
	const char *at, *d, *org, *r;
	size_t i;

	if (from == NULL || (at = strrchr(from, '@')) == NULL ||
	    at[1] == '\0')
		return 0;
	d = at + 1;
	org = record_get(dmarc, "org_domain");
	r = record_get(spf, "result");
	if (r != NULL && strcmp(r, "pass") == 0 && record_get(spf, "domain") &&
	    same_domain(record_get(spf, "domain"),
	    strlen(record_get(spf, "domain")), d, strlen(d)))
		return 1;
	json_array_foreach(dkim, i, v) {
		r = record_get(v, "result");
		if (r != NULL && strcmp(r, "pass") == 0 &&
		    aligned(record_get(v, "d"), d, org))
			return 1;
	}
	r = record_get(dmarc, "result");
	if (r != NULL && strcmp(r, "pass") == 0 &&
	    aligned(record_get(dmarc, "domain"), d, org))
		return 1;
	return 0;
}

struct out {
	char *s;
	size_t len, cap;
};

static void __attribute__((format(printf, 2, 3)))
add(struct out *o, const char *fmt, ...)
{
	va_list ap;
	int n;

	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(o->s ? o->s + o->len : NULL, o->s ? o->cap -
		    o->len : 0, fmt, ap);
		va_end(ap);
		if (n < 0)
			bug("vsnprintf");
		if (o->s != NULL && (size_t)n < o->cap - o->len) {
			o->len += (size_t)n;
			return;
		}
		{
			size_t cap = o->cap ? o->cap * 2 : 4096;
			char *ns;

			while (cap < o->len + (size_t)n + 1)
				cap *= 2;
			ns = xmalloc(cap);
			if (o->s != NULL)
				memcpy(ns, o->s, o->len);
			free(o->s);
			o->s = ns;
			o->cap = cap;
		}
	}
}

/* A text of a reply made safe for a header line: printable ASCII,
 * at most 200 bytes. */
static void
clean(char *dst, size_t size, const char *s)
{
	size_t i, n = 0;

	for (i = 0; s != NULL && s[i] != '\0' && n + 1 < size && n < 200; i++)
		dst[n++] = (s[i] >= 32 && s[i] < 127) ? s[i] : ' ';
	dst[n] = '\0';
}

/* The status of a result: its enhanced code (mail-deliver's "enhanced",
 * or the start of its text), else one of its class; expired: 4.4.7. */
static void
status_of(char *buf, size_t size, const json_t *x, int expired)
{
	const char *t = record_get(x, "enhanced");
	json_int_t code = json_integer_value(json_object_get(x, "code"));
	unsigned a, b, c;
	int n = 0, k;

	if (expired) {
		snprintf(buf, size, "4.4.7");
		return;
	}
	/* mail-deliver's "enhanced", else the start of the text */
	for (k = 0; k < 2; k++, t = record_get(x, "text"))
		if (t != NULL && sscanf(t, "%1u.%3u.%3u%n", &a, &b, &c,
		    &n) == 3 && (a == 4 || a == 5) && (t[n] == ' ' ||
		    t[n] == '\0')) {
			snprintf(buf, size, "%u.%u.%u", a, b, c);
			return;
		}
	snprintf(buf, size, "%d.0.0", code >= 400 && code < 500 ? 4 : 5);
}

static void
rcpt_part(struct out *o, const char *addr, const json_t *x, int expired,
    const char *when)
{
	char st[16], text[256], a[256];
	json_int_t code = json_integer_value(json_object_get(x, "code"));

	clean(a, sizeof(a), addr);
	status_of(st, sizeof(st), x, expired);
	add(o, "\nFinal-Recipient: rfc822; %s\nAction: failed\nStatus: %s\n",
	    a, st);
	if (x != NULL && code >= 200 && code < 600) {
		clean(text, sizeof(text), record_get(x, "text"));
		add(o, "Diagnostic-Code: smtp; %lld %s%s%s\n", (long long)code,
		    record_get(x, "enhanced") ? st : "",
		    record_get(x, "enhanced") ? " " : "", text);
	}
	add(o, "Last-Attempt-Date: %s\n", when);
}

char *
dsn_make(const json_t *st, const char *reason, const char *hostname,
    const char *hdr, size_t hdrlen, time_t now, size_t *len)
{
	const json_t *rec = json_object_get(st, "record");
	const json_t *to = json_object_get(json_object_get(rec, "envelope"),
	    "to");
	const json_t *failed = json_object_get(st, "failed");
	const json_t *last = json_object_get(st, "last");
	const json_t *pend = json_object_get(st, "pending"), *v, *x;
	const char *from = record_get(json_object_get(rec, "envelope"),
	    "from");
	const char *id = record_get(st, "id");
	int expired = strcmp(reason, "expired") == 0;
	char date[64], when[64], arrival[64], sender[256], boundary[128];
	struct out o = { NULL, 0, 0 };
	struct tm tm;
	time_t pooled = (time_t)json_integer_value(json_object_get(st,
	    "pooled_at"));
	size_t i, k;

	gmtime_r(&now, &tm);
	strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S +0000", &tm);
	strftime(when, sizeof(when), "%a, %d %b %Y %H:%M:%S +0000", &tm);
	gmtime_r(&pooled, &tm);
	strftime(arrival, sizeof(arrival), "%a, %d %b %Y %H:%M:%S +0000", &tm);
	clean(sender, sizeof(sender), from);
	snprintf(boundary, sizeof(boundary), "%lld/%s", (long long)now,
	    hostname);
	add(&o, "From: Mail Delivery System <MAILER-DAEMON@%s>\n", hostname);
	add(&o, "To: <%s>\n", sender);
	add(&o, "Subject: Undelivered Mail Returned to Sender\n");
	add(&o, "Date: %s\n", date);
	add(&o, "Message-ID: <dsn.%s@%s>\n", id ? id : "x", hostname);
	add(&o, "Auto-Submitted: auto-replied\n");
	add(&o, "MIME-Version: 1.0\n");
	add(&o, "Content-Type: multipart/report; report-type=delivery-status;"
	    "\n\tboundary=\"%s\"\n\n", boundary);
	add(&o, "This is a MIME-encapsulated message.\n\n--%s\n", boundary);
	add(&o, "Content-Type: text/plain; charset=us-ascii\n\n");
	add(&o, "This is the mail system at host %s.\n\n", hostname);
	add(&o, expired ? "Your message could not be delivered in the time "
	    "allowed; the mail system\ngave up on these recipients:\n\n" :
	    "Your message could not be delivered to these recipients:\n\n");
	/* the per-recipient lines: the text part, then the report */
	if (expired) {
		json_array_foreach(pend, i, v) {
			char a[256];

			k = (size_t)json_integer_value(v);
			clean(a, sizeof(a), json_string_value(json_array_get(to,
			    k)));
			add(&o, "  <%s>\n", a);
		}
	} else {
		json_array_foreach(failed, i, x) {
			char a[256], t[256];

			clean(a, sizeof(a), record_get(x, "addr"));
			clean(t, sizeof(t), record_get(x, "text"));
			add(&o, "  <%s>: %lld %s\n", a, (long long)
			    json_integer_value(json_object_get(x, "code")), t);
		}
	}
	add(&o, "\n--%s\nContent-Type: message/delivery-status\n\n", boundary);
	add(&o, "Reporting-MTA: dns; %s\nArrival-Date: %s\n", hostname,
	    arrival);
	if (expired) {
		json_array_foreach(pend, i, v) {
			const char *addr;
			size_t j;

			k = (size_t)json_integer_value(v);
			addr = json_string_value(json_array_get(to, k));
			x = NULL;
			for (j = 0; j < json_array_size(last); j++)
				if (addr && record_get(json_array_get(last, j),
				    "addr") && strcmp(record_get(json_array_get(
				    last, j), "addr"), addr) == 0)
					x = json_array_get(last, j);
			rcpt_part(&o, addr, x, 1, when);
		}
	} else
		json_array_foreach(failed, i, x)
			rcpt_part(&o, record_get(x, "addr"), x, 0, when);
	add(&o, "\n--%s\nContent-Type: text/rfc822-headers\n\n", boundary);
	if (hdr != NULL && hdrlen > 0)
		add(&o, "%.*s%s", (int)hdrlen, hdr, hdr[hdrlen - 1] == '\n' ?
		    "" : "\n");
	add(&o, "\n--%s--\n", boundary);
	*len = o.len;
	return o.s;
}
