/*
 * rules: the --rules file of mail-scan (rules.h).
 */
#define PCRE2_CODE_UNIT_WIDTH 8
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <pcre2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "limit.h"
#include "rules.h"
#include "xalloc.h"

struct rule {
	char id[RULES_ID_MAX + 1];
	int score;
	char *header;		/* field name, or NULL for body */
	char *desc;
	pcre2_code *re;
};

struct rules {
	struct rule *v;
	size_t n, cap;
	pcre2_match_context *mctx;
};

void
rules_free(struct rules *r)
{
	size_t i;

	if (r == NULL)
		return;
	for (i = 0; i < r->n; i++) {
		free(r->v[i].header);
		free(r->v[i].desc);
		pcre2_code_free(r->v[i].re);
	}
	free(r->v);
	pcre2_match_context_free(r->mctx);
	free(r);
}

size_t
rules_count(const struct rules *r)
{
	return r ? r->n : 0;
}

static int
is_blank(int c)
{
	return c == ' ' || c == '\t' || c == '\r';
}

/* The next blank-delimited word of *s (advanced) into w (size wsz);
 * its length, or -1 when too long. */
static int
word(const char **s, const char *e, char *w, size_t wsz)
{
	const char *p = *s;
	size_t n = 0;

	while (p < e && is_blank((unsigned char)*p))
		p++;
	while (p < e && !is_blank((unsigned char)*p)) {
		if (n + 1 >= wsz)
			return -1;
		w[n++] = *p++;
	}
	w[n] = '\0';
	*s = p;
	return (int)n;
}

/* One line (no newline) into r; 0, or -1 with the reason in why. */
static int
parse_line(struct rules *r, const char *s, const char *e, char *why,
    size_t whysz)
{
	char id[RULES_ID_MAX + 2], num[16], target[256 + 8];
	const char *re, *p;
	char *end, *pat;
	uint32_t opt = PCRE2_UTF | PCRE2_MATCH_INVALID_UTF;
	struct rule ru;
	size_t i, plen;
	long sc;
	int ec;
	PCRE2_SIZE eo;
	PCRE2_UCHAR msg[160];

	if (word(&s, e, id, sizeof(id)) < 0 || strlen(id) > RULES_ID_MAX) {
		snprintf(why, whysz, "id over %d bytes", RULES_ID_MAX);
		return -1;
	}
	for (i = 0; id[i]; i++)
		if (!isalnum((unsigned char)id[i]) && !strchr("_.-", id[i])) {
			snprintf(why, whysz, "id \"%.64s\": only letters, "
			    "digits, _ . -", id);
			return -1;
		}
	for (i = 0; i < r->n; i++)
		if (strcmp(r->v[i].id, id) == 0) {
			snprintf(why, whysz, "id %s given twice", id);
			return -1;
		}
	if (word(&s, e, num, sizeof(num)) <= 0) {
		snprintf(why, whysz, "no score");
		return -1;
	}
	errno = 0;
	sc = strtol(num, &end, 10);
	if (*end != '\0' || errno != 0 || sc < -100 || sc > 100) {
		snprintf(why, whysz, "score \"%.15s\": not an integer from "
		    "-100 to 100", num);
		return -1;
	}
	if (word(&s, e, target, sizeof(target)) <= 0) {
		snprintf(why, whysz, "no target (body or header:NAME)");
		return -1;
	}
	memset(&ru, 0, sizeof(ru));
	if (strncasecmp(target, "header:", 7) == 0 && target[7] != '\0') {
		for (i = 7; target[i]; i++)
			if (target[i] <= ' ' || target[i] > '~' ||
			    target[i] == ':') {
				snprintf(why, whysz, "target %.100s: not a "
				    "field name", target);
				return -1;
			}
	} else if (strcmp(target, "body") != 0) {
		snprintf(why, whysz, "target \"%.100s\": not body or "
		    "header:NAME", target);
		return -1;
	}
	while (s < e && is_blank((unsigned char)*s))
		s++;
	if (s == e || *s != '/') {
		snprintf(why, whysz, "no /regex/");
		return -1;
	}
	re = ++s;
	for (p = re; p < e && *p != '/'; p++)
		if (*p == '\\' && p + 1 < e)
			p++;
	if (p >= e) {
		snprintf(why, whysz, "regex not closed by /");
		return -1;
	}
	plen = (size_t)(p - re);
	for (s = p + 1; s < e && !is_blank((unsigned char)*s); s++)
		switch (*s) {
		case 'i': opt |= PCRE2_CASELESS; break;
		case 'm': opt |= PCRE2_MULTILINE; break;
		case 's': opt |= PCRE2_DOTALL; break;
		case 'x': opt |= PCRE2_EXTENDED; break;
		default:
			snprintf(why, whysz, "flag %c: not one of i m s x",
			    isprint((unsigned char)*s) ? *s : '?');
			return -1;
		}
	while (s < e && is_blank((unsigned char)*s))
		s++;
	while (e > s && is_blank((unsigned char)e[-1]))
		e--;
	if (s == e) {
		snprintf(why, whysz, "no description");
		return -1;
	}
	pat = xstrndup(re, plen);
	ru.re = pcre2_compile((PCRE2_SPTR)pat, plen, opt, &ec, &eo, NULL);
	free(pat);
	if (ru.re == NULL) {
		pcre2_get_error_message(ec, msg, sizeof(msg));
		snprintf(why, whysz, "regex at offset %zu: %s", (size_t)eo,
		    (char *)msg);
		return -1;
	}
	if (r->n >= LIMIT_RULES) {
		pcre2_code_free(ru.re);
		snprintf(why, whysz, "over %d rules", LIMIT_RULES);
		return -1;
	}
	memcpy(ru.id, id, strlen(id) + 1);
	ru.score = (int)sc;
	ru.header = target[0] == 'b' ? NULL : xstrdup(target + 7);
	ru.desc = xstrndup(s, (size_t)(e - s));
	if (r->n == r->cap) {
		r->cap = r->cap ? r->cap * 2 : 16;
		r->v = xreallocarray(r->v, r->cap, sizeof(*r->v));
	}
	r->v[r->n++] = ru;
	return 0;
}

struct rules *
rules_parse(const char *buf, size_t len, const char *name, char *err,
    size_t errsz)
{
	struct rules *r = xcalloc(1, sizeof(*r));
	const char *s = buf, *e = buf + len, *nl, *p;
	size_t lineno = 0;
	char why[300];

	if ((r->mctx = pcre2_match_context_create(NULL)) == NULL) {
		snprintf(err, errsz, "%s: PCRE2: out of memory", name);
		goto fail;
	}
	pcre2_set_match_limit(r->mctx, LIMIT_RULE_MATCH);
	pcre2_set_depth_limit(r->mctx, LIMIT_RULE_DEPTH);
	pcre2_set_heap_limit(r->mctx, LIMIT_RULE_HEAP);
	while (s < e) {
		lineno++;
		if ((nl = memchr(s, '\n', (size_t)(e - s))) == NULL)
			nl = e;
		if (memchr(s, '\0', (size_t)(nl - s)) != NULL) {
			snprintf(err, errsz, "%s:%zu: a NUL byte", name,
			    lineno);
			goto fail;
		}
		if ((size_t)(nl - s) > LIMIT_TABLE_LINE) {
			snprintf(err, errsz, "%s:%zu: over %d bytes", name,
			    lineno, LIMIT_TABLE_LINE);
			goto fail;
		}
		for (p = s; p < nl && is_blank((unsigned char)*p); p++)
			;
		if (p < nl && *p != '#' && parse_line(r, p, nl, why,
		    sizeof(why)) == -1) {
			snprintf(err, errsz, "%s:%zu: %s", name, lineno, why);
			goto fail;
		}
		s = nl + (nl < e);
	}
	return r;
fail:
	rules_free(r);
	return NULL;
}

struct rules *
rules_load(const char *path, char *err, size_t errsz)
{
	struct rules *r;
	char *buf;
	size_t len = 0;
	ssize_t n;
	int fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		snprintf(err, errsz, "%s: %s", path, strerror(errno));
		return NULL;
	}
	buf = xmalloc(LIMIT_RULES_FILE + 1);
	for (;;) {
		n = read(fd, buf + len, LIMIT_RULES_FILE + 1 - len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			snprintf(err, errsz, "%s: %s", path, strerror(errno));
			goto fail;
		}
		if (n == 0)
			break;
		len += (size_t)n;
		if (len > LIMIT_RULES_FILE) {
			snprintf(err, errsz, "%s: over %d bytes", path,
			    LIMIT_RULES_FILE);
			goto fail;
		}
	}
	close(fd);
	r = rules_parse(buf, len, path, err, errsz);
	free(buf);
	return r;
fail:
	close(fd);
	free(buf);
	return NULL;
}

/* Rule i on the subject: 1 match, 0 none, -1 stopped by a limit. */
static int
run(const struct rules *r, size_t i, const char *s, size_t len)
{
	pcre2_match_data *md;
	int rc;

	if (len > LIMIT_RULE_SUBJECT)
		len = LIMIT_RULE_SUBJECT;
	if ((md = pcre2_match_data_create_from_pattern(r->v[i].re, NULL)) ==
	    NULL)
		return -1;
	rc = pcre2_match(r->v[i].re, (PCRE2_SPTR)s, len, 0, 0, md, r->mctx);
	pcre2_match_data_free(md);
	if (rc >= 0)
		return 1;
	if (rc == PCRE2_ERROR_NOMATCH)
		return 0;
	return -1;
}

static int
each(const struct rules *r, const char *name, size_t namelen,
    const char *s, size_t len, unsigned char *seen, rules_hit_fn *hit,
    void *arg)
{
	size_t i;
	int over = 0, m;

	if (r == NULL)
		return 0;
	for (i = 0; i < r->n; i++) {
		const struct rule *ru = &r->v[i];

		if (seen != NULL && seen[i])
			continue;
		if (name == NULL ? ru->header != NULL : ru->header == NULL ||
		    strlen(ru->header) != namelen ||
		    strncasecmp(ru->header, name, namelen) != 0)
			continue;
		if ((m = run(r, i, s, len)) == -1)
			over++;
		else if (m == 1) {
			if (seen != NULL)
				seen[i] = 1;
			hit(arg, ru->id, ru->score, ru->desc);
		}
	}
	return over;
}

int
rules_header(const struct rules *r, const char *name, size_t namelen,
    const char *value, size_t len, unsigned char *seen, rules_hit_fn *hit,
    void *arg)
{
	return each(r, name, namelen, value, len, seen, hit, arg);
}

int
rules_body(const struct rules *r, const char *text, size_t len,
    unsigned char *seen, rules_hit_fn *hit, void *arg)
{
	return each(r, NULL, 0, text, len, seen, hit, arg);
}
