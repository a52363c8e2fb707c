#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "authres.h"
#include "xalloc.h"

struct authres {
	char *id;
	char **items;		/* "spf=pass smtp.mailfrom=a@b" */
	size_t n, cap;
	char *out, *outlf;
};

struct authres *
authres_new(const char *authserv_id)
{
	struct authres *a = xcalloc(1, sizeof(*a));

	a->id = xstrdup(authserv_id);
	return a;
}

void
authres_free(struct authres *a)
{
	size_t i;

	if (a == NULL)
		return;
	for (i = 0; i < a->n; i++)
		free(a->items[i]);
	free(a->items);
	free(a->id);
	free(a->out);
	free(a->outlf);
	free(a);
}

/* RFC 2045 token: printable ASCII but specials and space. */
static int
is_token(const char *s)
{
	if (*s == '\0')
		return 0;
	for (; *s != '\0'; s++)
		if ((unsigned char)*s <= 32 || (unsigned char)*s >= 127 ||
		    strchr("()<>@,;:\\\"/[]?=", *s) != NULL)
			return 0;
	return 1;
}

/* An RFC 8601 pvalue: a token, an address "local@domain" of tokens,
 * else a quoted string. */
static void
put_value(char **buf, size_t *len, size_t *cap, const char *v)
{
	const char *at = strrchr(v, '@');
	int plain = is_token(v);
	size_t need = strlen(v) * 2 + 3;
	char *o;

	if (!plain && at != NULL && at != v && at[1] != '\0') {
		char *local = xstrndup(v, (size_t)(at - v));

		plain = is_token(local) && is_token(at + 1);
		free(local);
	}
	if (*len + need + 1 > *cap) {
		*cap = (*len + need + 1) * 2;
		*buf = xreallocarray(*buf, *cap, 1);
	}
	o = *buf + *len;
	if (plain) {
		memcpy(o, v, strlen(v));
		o += strlen(v);
	} else {
		*o++ = '"';
		for (; *v != '\0'; v++) {
			if (*v == '"' || *v == '\\')
				*o++ = '\\';
			/* no line ends inside a header value */
			*o++ = (*v == '\r' || *v == '\n') ? ' ' : *v;
		}
		*o++ = '"';
	}
	*len = (size_t)(o - *buf);
	(*buf)[*len] = '\0';
}

static void
put(char **buf, size_t *len, size_t *cap, const char *s)
{
	size_t n = strlen(s);

	if (*len + n + 1 > *cap) {
		*cap = (*len + n + 1) * 2;
		*buf = xreallocarray(*buf, *cap, 1);
	}
	memcpy(*buf + *len, s, n + 1);
	*len += n;
}

void
authres_add(struct authres *a, const char *method, const char *result,
    const char *reason, ...)
{
	char *buf = NULL;
	size_t len = 0, cap = 0;
	const char *k, *v;
	va_list ap;

	put(&buf, &len, &cap, method);
	put(&buf, &len, &cap, "=");
	put(&buf, &len, &cap, result);
	if (reason != NULL && *reason != '\0') {
		put(&buf, &len, &cap, " reason=");
		/* always quoted: a reason is prose */
		put(&buf, &len, &cap, "\"");
		for (v = reason; *v != '\0'; v++) {
			char c[3] = { 0, 0, 0 };

			if (*v == '"' || *v == '\\')
				c[0] = '\\', c[1] = *v;
			else
				c[0] = (*v == '\r' || *v == '\n') ? ' ' : *v;
			put(&buf, &len, &cap, c);
		}
		put(&buf, &len, &cap, "\"");
	}
	va_start(ap, reason);
	while ((k = va_arg(ap, const char *)) != NULL) {
		v = va_arg(ap, const char *);
		if (v == NULL || *v == '\0')
			continue;
		put(&buf, &len, &cap, " ");
		put(&buf, &len, &cap, k);
		put(&buf, &len, &cap, "=");
		put_value(&buf, &len, &cap, v);
	}
	va_end(ap);
	if (a->n == a->cap) {
		a->cap = a->cap ? a->cap * 2 : 8;
		a->items = xreallocarray(a->items, a->cap, sizeof(*a->items));
	}
	a->items[a->n++] = buf;
}

static const char *
render(struct authres *a, const char *eol, char **out)
{
	char *buf = NULL;
	size_t len = 0, cap = 0, i;

	put(&buf, &len, &cap, a->id);
	if (a->n == 0)
		put(&buf, &len, &cap, "; none");
	for (i = 0; i < a->n; i++) {
		put(&buf, &len, &cap, ";");
		put(&buf, &len, &cap, eol);
		put(&buf, &len, &cap, "\t");
		put(&buf, &len, &cap, a->items[i]);
	}
	free(*out);
	*out = buf;
	return buf;
}

const char *
authres_value(struct authres *a)
{
	return render(a, "\r\n", &a->out);
}

const char *
authres_value_lf(struct authres *a)
{
	return render(a, "\n", &a->outlf);
}

/* Skip blanks, line ends and (nested) comments. */
static const char *
skip_cfws(const char *p)
{
	int depth;

	for (;;) {
		while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')
			p++;
		if (*p != '(')
			return p;
		for (depth = 0; *p != '\0'; p++) {
			if (*p == '\\' && p[1] != '\0')
				p++;
			else if (*p == '(')
				depth++;
			else if (*p == ')' && --depth == 0) {
				p++;
				break;
			}
		}
	}
}

char *
authres_id_of(const char *value)
{
	const char *p = skip_cfws(value), *start;

	if (*p == '"') {
		/* a quoted authserv-id (RFC 8601 2.2: value) */
		start = ++p;
		while (*p != '\0' && *p != '"')
			p += (*p == '\\' && p[1] != '\0') ? 2 : 1;
		if (*p != '"')
			return NULL;
		return xstrndup(start, (size_t)(p - start));
	}
	start = p;
	while (*p != '\0' && *p != ';' && *p != ' ' && *p != '\t' &&
	    *p != '\r' && *p != '\n' && *p != '(')
		p++;
	if (p == start)
		return NULL;
	return xstrndup(start, (size_t)(p - start));
}
