#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cidr.h"
#include "limit.h"
#include "line.h"
#include "table.h"
#include "xalloc.h"

#define WHY_MAX	300	/* the reason for a bad entry */

/* A key: its hash and where it starts in the pool, plus one (0 marks an
 * empty slot).  Keys are NUL-terminated in the pool, lowercased. */
struct slot {
	uint64_t hash;
	size_t ref;
};

struct table {
	struct slot *slot;	/* open addressing, linear probing */
	size_t cap;		/* a power of two, or 0 */
	size_t nkeys;
	char *pool;
	size_t poollen, poolcap;
	struct cidr_list *nets;
};

static void __attribute__((format(printf, 3, 4)))
say(char *err, size_t errsz, const char *fmt, ...)
{
	va_list ap;

	if (errsz == 0)
		return;
	va_start(ap, fmt);
	(void)vsnprintf(err, errsz, fmt, ap);	/* cut is fine */
	va_end(ap);
}

static unsigned char
lower(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') ? (unsigned char)(c - 'A' + 'a') : c;
}

/* FNV-1a of the lowercased bytes, then mixed so that the low bits used
 * to pick a slot depend on all of them. */
static uint64_t
hash(const char *s, size_t n)
{
	uint64_t h = 0xcbf29ce484222325ULL;
	size_t i;

	for (i = 0; i < n; i++)
		h = (h ^ lower((unsigned char)s[i])) * 0x100000001b3ULL;
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ULL;
	h ^= h >> 33;
	return h;
}

/* Is the stored key k (lowercase, NUL-terminated) the n bytes at s? */
static int
same(const char *k, const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if ((unsigned char)k[i] != lower((unsigned char)s[i]) ||
		    k[i] == '\0')
			return 0;
	return k[n] == '\0';
}

static int
find(const struct table *t, const char *s, size_t n)
{
	uint64_t h;
	size_t i;

	if (t == NULL || t->cap == 0)
		return 0;
	h = hash(s, n);
	for (i = h & (t->cap - 1); t->slot[i].ref != 0;
	    i = (i + 1) & (t->cap - 1))
		if (t->slot[i].hash == h &&
		    same(t->pool + t->slot[i].ref - 1, s, n))
			return 1;
	return 0;
}

static void
place(struct slot *slot, size_t cap, const struct slot *k)
{
	size_t i;

	for (i = k->hash & (cap - 1); slot[i].ref != 0; i = (i + 1) & (cap - 1))
		;
	slot[i] = *k;
}

/* Add the n bytes at s as a key, lowercased. */
static void
add_key(struct table *t, const char *s, size_t n)
{
	struct slot k, *slot;
	size_t i, cap;

	if (find(t, s, n))
		return;
	/* keep the load at most one half */
	if ((t->nkeys + 1) * 2 > t->cap) {
		cap = t->cap ? t->cap * 2 : 64;
		slot = xcalloc(cap, sizeof(*slot));
		for (i = 0; i < t->cap; i++)
			if (t->slot[i].ref != 0)
				place(slot, cap, &t->slot[i]);
		free(t->slot);
		t->slot = slot;
		t->cap = cap;
	}
	if (t->poolcap - t->poollen < n + 1) {
		cap = t->poolcap ? t->poolcap : 4096;
		while (cap - t->poollen < n + 1)
			cap *= 2;
		t->pool = xreallocarray(t->pool, cap, 1);
		t->poolcap = cap;
	}
	for (i = 0; i < n; i++)
		t->pool[t->poollen + i] = (char)lower((unsigned char)s[i]);
	t->pool[t->poollen + n] = '\0';
	k.hash = hash(s, n);
	k.ref = t->poollen + 1;
	t->poollen += n + 1;
	place(t->slot, t->cap, &k);
	t->nkeys++;
}

/* Valid UTF-8: no overlong forms, no surrogates, nothing past U+10FFFF. */
static int
utf8_ok(const unsigned char *s, size_t n)
{
	size_t i = 0, k, need;
	uint32_t c, min;

	while (i < n) {
		c = s[i];
		if (c < 0x80) {
			i++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf) {
			need = 1;
			c &= 0x1f;
			min = 0x80;
		} else if (c >= 0xe0 && c <= 0xef) {
			need = 2;
			c &= 0x0f;
			min = 0x800;
		} else if (c >= 0xf0 && c <= 0xf4) {
			need = 3;
			c &= 0x07;
			min = 0x10000;
		} else
			return 0;
		if (n - i - 1 < need)
			return 0;
		for (k = 1; k <= need; k++) {
			if ((s[i + k] & 0xc0) != 0x80)
				return 0;
			c = c << 6 | (s[i + k] & 0x3f);
		}
		if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
			return 0;
		i += need + 1;
	}
	return 1;
}

/* Does s look like an address or network, so that it must parse as one?
 * Hex digits, dots, colons and a "/" or ":" (IPv6, or a network); or
 * digits and dots and maybe "/" (IPv4). */
static int
looks_net(const char *s, size_t n)
{
	size_t i;
	int hex = 1, dec = 1, sep = 0, dot = 0;

	for (i = 0; i < n; i++) {
		char c = s[i];

		if (c == ':' || c == '/')
			sep = 1;
		if (c == '.')
			dot = 1;
		if (!((c >= '0' && c <= '9') || c == '.' || c == '/'))
			dec = 0;
		if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') ||
		    (c >= 'A' && c <= 'F') || c == '.' || c == ':' ||
		    c == '/'))
			hex = 0;
	}
	return (hex && sep) || (dec && dot);
}

/*
 * Add one entry: s is n bytes, trimmed, not empty, NUL-terminated at n,
 * with no NUL inside.  Returns 0, or -1 with the reason in why.
 */
static int
add_entry(struct table *t, const char *s, size_t n, char *why, size_t whysz)
{
	size_t i;

	if (table_count(t) >= LIMIT_TABLE_ENTRIES) {
		say(why, whysz, "more than %d entries", LIMIT_TABLE_ENTRIES);
		return -1;
	}
	for (i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f) {
			say(why, whysz, "control character 0x%02x",
			    (unsigned char)s[i]);
			return -1;
		}
	if (!utf8_ok((const unsigned char *)s, n)) {
		say(why, whysz, "invalid UTF-8");
		return -1;
	}
	if (looks_net(s, n))
		return cidr_add(t->nets, s, why, whysz);
	add_key(t, s, n);
	return 0;
}

static int
blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r';
}

/* Trim blanks from both ends of the n bytes at *s. */
static size_t
trim(char **s, size_t n)
{
	while (n > 0 && blank(**s)) {
		(*s)++;
		n--;
	}
	while (n > 0 && blank((*s)[n - 1]))
		n--;
	return n;
}

static struct table *
table_new(void)
{
	struct table *t = xcalloc(1, sizeof(*t));

	t->nets = cidr_new();
	return t;
}

void
table_free(struct table *t)
{
	if (t == NULL)
		return;
	free(t->slot);
	free(t->pool);
	cidr_free(t->nets);
	free(t);
}

struct table *
table_load(const char *path, char *err, size_t errsz)
{
	struct line_reader *r = NULL;
	struct table *t = NULL;
	enum line_status st;
	char why[WHY_MAX], *line, *hash_at;
	size_t len;
	int fd, saved = EINVAL;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		saved = errno;
		say(err, errsz, "%s: %s", path, strerror(saved));
		errno = saved;
		return NULL;
	}
	r = line_new(fd, LIMIT_TABLE_LINE);
	t = table_new();
	while ((st = line_next(r, &line, &len)) != LINE_EOF) {
		if (st == LINE_ERR) {
			saved = errno;
			say(err, errsz, "%s: %s", path, strerror(saved));
			goto fail;
		}
		saved = EINVAL;
		if (st == LINE_LONG) {
			say(err, errsz, "%s: line %lu: longer than %d bytes",
			    path, line_number(r), LIMIT_TABLE_LINE);
			goto fail;
		}
		if (memchr(line, '\0', len) != NULL) {
			say(err, errsz, "%s: line %lu: NUL byte", path,
			    line_number(r));
			goto fail;
		}
		if ((hash_at = memchr(line, '#', len)) != NULL)
			len = (size_t)(hash_at - line);
		if ((len = trim(&line, len)) == 0)
			continue;
		line[len] = '\0';
		if (add_entry(t, line, len, why, sizeof(why)) == -1) {
			say(err, errsz, "%s: line %lu: %s", path,
			    line_number(r), why);
			goto fail;
		}
	}
	line_free(r);
	r = NULL;
	if (close(fd) == -1) {
		saved = errno;
		fd = -1;
		say(err, errsz, "%s: %s", path, strerror(saved));
		goto fail;
	}
	return t;

fail:
	line_free(r);
	if (fd != -1)
		(void)close(fd);	/* read only: the error is reported */
	table_free(t);
	errno = saved;
	return NULL;
}

struct table *
table_from_list(const char *list, char *err, size_t errsz)
{
	struct table *t = table_new();
	const char *p = list, *end;
	char why[WHY_MAX], *item = NULL, *s;
	size_t nth, n;

	for (nth = 1; ; nth++) {
		end = strchr(p, ',');
		if (end == NULL)
			end = p + strlen(p);
		n = (size_t)(end - p);
		if (n > LIMIT_TABLE_LINE) {
			say(err, errsz, "entry %zu: longer than %d bytes", nth,
			    LIMIT_TABLE_LINE);
			goto fail;
		}
		if (item == NULL)
			item = xmalloc(LIMIT_TABLE_LINE + 1);
		memcpy(item, p, n);
		s = item;
		n = trim(&s, n);
		s[n] = '\0';
		if (n == 0) {
			/* a wholly blank list is an empty table */
			if (nth == 1 && *end == '\0')
				break;
			say(err, errsz, "entry %zu: empty", nth);
			goto fail;
		}
		if (add_entry(t, s, n, why, sizeof(why)) == -1) {
			say(err, errsz, "entry %zu: %s", nth, why);
			goto fail;
		}
		if (*end == '\0')
			break;
		p = end + 1;
	}
	free(item);
	return t;

fail:
	free(item);
	table_free(t);
	errno = EINVAL;
	return NULL;
}

struct table *
table_from_arg(const char *arg, char *err, size_t errsz)
{
	if (arg[0] == '@')
		return table_load(arg + 1, err, errsz);
	return table_from_list(arg, err, errsz);
}

size_t
table_count(const struct table *t)
{
	return t == NULL ? 0 : t->nkeys + cidr_count(t->nets);
}

int
table_has(const struct table *t, const char *key)
{
	return find(t, key, strlen(key));
}

int
table_has_domain(const struct table *t, const char *domain)
{
	size_t n = strlen(domain), i;

	if (n > 0 && domain[n - 1] == '.')
		n--;
	if (n == 0 || t == NULL)
		return 0;
	if (find(t, domain, n))
		return 1;
	/* ".parent" entries, nearest parent first */
	for (i = 0; i < n; i++)
		if (domain[i] == '.' && find(t, domain + i, n - i))
			return 1;
	return 0;
}

const char *
table_next_key(const struct table *t, size_t *pos)
{
	const char *k;

	if (t == NULL || *pos >= t->poollen)
		return NULL;
	k = t->pool + *pos;
	*pos += strlen(k) + 1;
	return k;
}

int
table_has_addr(const struct table *t, const struct sockaddr *sa)
{
	return t == NULL ? 0 : cidr_match(t->nets, sa);
}
