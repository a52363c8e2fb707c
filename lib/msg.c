#define _GNU_SOURCE	/* memmem */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "msg.h"
#include "xalloc.h"

static int
fail(char *err, size_t errsz, int e, const char *why)
{
	snprintf(err, errsz, "%s", why);
	errno = e;
	return -1;
}

/* A field name: printable ASCII but ":" (RFC 5322 3.6.8), then optional
 * blanks (obs-fws) and the colon.  Returns the length to the colon, or 0. */
static size_t
name_len(const char *p, const char *end, size_t *colon)
{
	const char *q = p;

	while (q < end && *q > 32 && *q < 127 && *q != ':')
		q++;
	if (q == p)
		return 0;
	*colon = (size_t)(q - p);
	while (q < end && (*q == ' ' || *q == '\t'))
		q++;
	if (q >= end || *q != ':')
		return 0;
	return (size_t)(q - p);
}

/* The end of the field starting at p (a CRLF not followed by WSP; the
 * CRLF not included), or end. */
static const char *
field_end(const char *p, const char *end)
{
	const char *q, *e;

	for (q = p; ; q = e + 2) {
		e = memmem(q, (size_t)(end - q), "\r\n", 2);
		if (e == NULL)
			return end;
		if (e + 2 >= end || (e[2] != ' ' && e[2] != '\t'))
			return e;
	}
}

/* The start of the line after the field ending at e. */
static const char *
after(const char *e, const char *end)
{
	return e < end ? e + 2 : end;
}

/* Skip the relay block (X-Sluice- fields from the first line, one of
 * them X-Sluice-Id) and the Received field of smtp-accept after it. */
static const char *
skip_relay(struct msg *m, const char *end)
{
	const char *p = m->buf;
	size_t colon;
	int have_id = 0;

	while (p < end && name_len(p, end, &colon) != 0 && colon > 9 &&
	    strncasecmp(p, "X-Sluice-", 9) == 0) {
		if (colon == 11 && strncasecmp(p, "X-Sluice-Id", 11) == 0)
			have_id = 1;
		p = after(field_end(p, end), end);
	}
	if (!have_id)
		return m->buf;
	if (p < end && name_len(p, end, &colon) != 0 && colon == 8 &&
	    strncasecmp(p, "Received", 8) == 0)
		p = after(field_end(p, end), end);
	m->relay = m->buf;
	m->relaylen = (size_t)(p - m->buf);
	return p;
}

/* Split buf into the relay block, the fields and the body. */
static void
split(struct msg *m)
{
	const char *end = m->buf + m->len, *p = skip_relay(m, end), *e;
	size_t cap = 0, nl, colon;
	struct msg_field *f;

	while (p < end) {
		if (end - p >= 2 && p[0] == '\r' && p[1] == '\n') {
			m->body = p + 2;
			m->bodylen = (size_t)(end - p - 2);
			return;
		}
		if ((nl = name_len(p, end, &colon)) == 0) {
			/* not a field: the header ends here, no empty line */
			m->bad_header = 1;
			m->body = p;
			m->bodylen = (size_t)(end - p);
			return;
		}
		e = field_end(p, end);
		if (m->nf == cap) {
			cap = cap ? cap * 2 : 32;
			m->f = xreallocarray(m->f, cap, sizeof(*m->f));
		}
		f = &m->f[m->nf++];
		f->raw = p;
		f->name = p;
		f->namelen = colon;
		f->value = p + nl + 1;
		f->valuelen = (size_t)(e - f->value);
		p = after(e, end);
		f->rawlen = (size_t)(p - f->raw);
	}
}

int
msg_parse(struct msg *m, const void *buf, size_t n, char *err, size_t errsz)
{
	const char *s = buf;
	size_t i, o = 0, extra = 0;

	memset(m, 0, sizeof(*m));
	for (i = 0; i < n; i++)
		if (s[i] == '\n' && (i == 0 || s[i - 1] != '\r'))
			extra++;
	if (__builtin_add_overflow(n, extra + 1, &i))
		return fail(err, errsz, E2BIG, "message too big");
	m->buf = xmalloc(n + extra + 1);
	for (i = 0; i < n; i++) {
		if (s[i] == '\n' && (i == 0 || s[i - 1] != '\r'))
			m->buf[o++] = '\r';
		m->buf[o++] = s[i];
	}
	m->buf[o] = '\0';
	m->len = o;
	split(m);
	return 0;
}

int
msg_load(struct msg *m, const char *path, size_t max, char *err,
    size_t errsz)
{
	struct stat st;
	char *raw;
	ssize_t r;
	size_t got = 0;
	int fd, e, ret;

	memset(m, 0, sizeof(*m));
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return fail(err, errsz, errno, strerror(errno));
	if (fstat(fd, &st) == -1) {
		e = errno;
		close(fd);
		return fail(err, errsz, e, strerror(e));
	}
	if (!S_ISREG(st.st_mode)) {
		close(fd);
		return fail(err, errsz, EINVAL, "not a regular file");
	}
	if ((unsigned long long)st.st_size > max) {
		close(fd);
		return fail(err, errsz, E2BIG, "message too big");
	}
	raw = xmalloc((size_t)st.st_size + 1);
	while (got < (size_t)st.st_size) {
		r = read(fd, raw + got, (size_t)st.st_size - got);
		if (r == -1 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		got += (size_t)r;
	}
	e = errno;
	close(fd);
	if (got < (size_t)st.st_size) {
		free(raw);
		return fail(err, errsz, got ? EIO : e, "short read");
	}
	ret = msg_parse(m, raw, got, err, errsz);
	free(raw);
	return ret;
}

int
msg_read(struct msg *m, int fd, size_t max, char *err, size_t errsz)
{
	char *buf = NULL;
	size_t len = 0, cap = 0;
	ssize_t n;
	int r, e;

	memset(m, 0, sizeof(*m));
	for (;;) {
		if (cap - len < 65536) {
			cap = cap ? cap * 2 : 1 << 20;
			buf = xreallocarray(buf, cap, 1);
		}
		n = read(fd, buf + len, cap - len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			e = errno;
			free(buf);
			return fail(err, errsz, e, strerror(e));
		}
		if (n == 0)
			break;
		len += (size_t)n;
		if (len > max) {
			free(buf);
			return fail(err, errsz, E2BIG, "message too big");
		}
	}
	r = msg_parse(m, buf, len, err, errsz);
	free(buf);
	return r;
}

void
msg_free(struct msg *m)
{
	free(m->buf);
	free(m->f);
	memset(m, 0, sizeof(*m));
}

int
msg_field_is(const struct msg_field *f, const char *name)
{
	size_t n = strlen(name);

	return f->namelen == n && strncasecmp(f->name, name, n) == 0;
}

long
msg_find(const struct msg *m, const char *name, long from, int dir)
{
	long i;

	for (i = from; i >= 0 && (size_t)i < m->nf; i += dir)
		if (msg_field_is(&m->f[i], name))
			return i;
	return -1;
}

size_t
msg_count(const struct msg *m, const char *name)
{
	size_t i, n = 0;

	for (i = 0; i < m->nf; i++)
		n += msg_field_is(&m->f[i], name);
	return n;
}

char *
msg_value(const struct msg_field *f)
{
	char *out = xmalloc(f->valuelen + 1);
	size_t i, o = 0;

	for (i = 0; i < f->valuelen; i++) {
		if (f->value[i] == '\r' && i + 1 < f->valuelen &&
		    f->value[i + 1] == '\n') {
			i++;
			continue;
		}
		out[o++] = f->value[i];
	}
	while (o > 0 && (out[o - 1] == ' ' || out[o - 1] == '\t'))
		o--;
	out[o] = '\0';
	i = strspn(out, " \t");
	if (i > 0)
		memmove(out, out + i, o - i + 1);
	return out;
}
