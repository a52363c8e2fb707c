#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "line.h"
#include "log.h"
#include "record.h"
#include "xalloc.h"

struct record_reader {
	struct line_reader *lr;
	char name[64];
	char err[512];
	const char *raw;
	size_t rawlen;
};

struct record_reader *
record_reader_new(int fd, const char *name, size_t max)
{
	struct record_reader *rr = xcalloc(1, sizeof(*rr));

	rr->lr = line_new(fd, max);
	snprintf(rr->name, sizeof(rr->name), "%s", name);
	return rr;
}

void
record_reader_free(struct record_reader *rr)
{
	if (rr == NULL)
		return;
	line_free(rr->lr);
	free(rr);
}

size_t
record_buffered(const struct record_reader *rr)
{
	return line_buffered(rr->lr);
}

const char *
record_error(const struct record_reader *rr)
{
	return rr->err;
}

const char *
record_raw(const struct record_reader *rr, size_t *len)
{
	*len = rr->rawlen;
	return rr->raw;
}

json_t *
record_parse(const char *buf, size_t len, char *err, size_t errsz)
{
	json_error_t je;
	json_t *rec;

	rec = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &je);
	if (rec == NULL) {
		snprintf(err, errsz, "column %d: %s", je.column, je.text);
		return NULL;
	}
	if (!json_is_object(rec)) {
		snprintf(err, errsz, "not a JSON object");
		json_decref(rec);
		return NULL;
	}
	return rec;
}

enum record_status
record_next(struct record_reader *rr, json_t **rec)
{
	char *line, why[400];
	size_t len;

	rr->raw = NULL;
	rr->rawlen = 0;
	for (;;) {
		switch (line_next(rr->lr, &line, &len)) {
		case LINE_EOF:
			return RECORD_EOF;
		case LINE_ERR:
			return RECORD_ERR;
		case LINE_LONG:
			snprintf(rr->err, sizeof(rr->err),
			    "%s: line %lu: record too long (%zu bytes)",
			    rr->name, line_number(rr->lr), len);
			rr->rawlen = len;
			return RECORD_BAD;
		case LINE_OK:
			break;
		}
		if (len > 0 && line[len - 1] == '\r')
			len--;
		if (strspn(line, " \t") >= len)
			continue;	/* blank */
		if ((*rec = record_parse(line, len, why, sizeof(why))) != NULL)
			return RECORD_OK;
		snprintf(rr->err, sizeof(rr->err), "%s: line %lu: %s",
		    rr->name, line_number(rr->lr), why);
		rr->raw = line;
		rr->rawlen = len;
		return RECORD_BAD;
	}
}

char *
record_dumps(const json_t *rec, size_t *len)
{
	char *s, *t;
	size_t n;

	s = json_dumps(rec, JSON_COMPACT |
	    JSON_PRESERVE_ORDER);
	if (s == NULL)
		return NULL;
	n = strlen(s);
	t = xmalloc(n + 2);
	memcpy(t, s, n);
	t[n] = '\n';
	t[n + 1] = '\0';
	free(s);
	*len = n + 1;
	return t;
}

int
record_write(FILE *out, const json_t *rec)
{
	char *s;
	size_t n;

	if ((s = record_dumps(rec, &n)) == NULL) {
		errno = EINVAL;
		return -1;
	}
	if (fwrite(s, 1, n, out) != n || fflush(out) == EOF) {
		free(s);
		return -1;
	}
	free(s);
	return 0;
}

/* Length of the valid UTF-8 sequence at s (at most n bytes), or 0. */
static size_t
utf8_len(const unsigned char *s, size_t n)
{
	unsigned int c = s[0], cp;
	size_t len, i;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		len = 2, cp = c & 0x1f;
	else if (c >= 0xe0 && c <= 0xef)
		len = 3, cp = c & 0x0f;
	else if (c >= 0xf0 && c <= 0xf4)
		len = 4, cp = c & 0x07;
	else
		return 0;
	if (len > n)
		return 0;
	for (i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	/* overlong forms, surrogates, beyond U+10FFFF */
	if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
	    (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
		return 0;
	return len;
}

json_t *
record_string(const void *bytes, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *s = bytes;
	size_t i = 0, o = 0, l, cap;
	char *buf;
	json_t *j;

	if (__builtin_mul_overflow(n, 4, &cap))
		die_temp("out of memory");
	buf = xmalloc(cap + 1);
	while (i < n) {
		l = utf8_len(s + i, n - i);
		if (l == 0 || (l == 1 && ((s[i] < 0x20 && s[i] != '\t') ||
		    s[i] == 0x7f))) {
			buf[o++] = '\\';
			buf[o++] = 'x';
			buf[o++] = hex[s[i] >> 4];
			buf[o++] = hex[s[i] & 15];
			i++;
			continue;
		}
		memcpy(buf + o, s + i, l);
		o += l;
		i += l;
	}
	j = json_stringn(buf, o);
	free(buf);
	if (j == NULL)
		die_temp("out of memory");
	return j;
}

json_t *
record_str(const char *s)
{
	if (s == NULL)
		return json_null();
	return record_string(s, strlen(s));
}

const char *
record_get(const json_t *obj, const char *key)
{
	return json_string_value(json_object_get(obj, key));
}
