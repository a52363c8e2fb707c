/*
 * fair: round robin across sources.  See fair.h.
 */
#include <stdlib.h>
#include <string.h>

#include "fair.h"
#include "limit.h"
#include "xalloc.h"

#define FAIR_BUCKETS 4096

struct source {
	struct source *next;
	unsigned long long stamp;
	char key[];
};

struct fair {
	struct source *b[FAIR_BUCKETS];
	unsigned long long turn;
	unsigned long count;
};

static unsigned
hash(const char *s)
{
	unsigned h = 2166136261u;

	for (; *s != '\0'; s++)
		h = (h ^ (unsigned char)*s) * 16777619u;
	return h % FAIR_BUCKETS;
}

struct fair *
fair_new(void)
{
	return xcalloc(1, sizeof(struct fair));
}

static void
forget(struct fair *f)
{
	struct source *s, *n;
	size_t i;

	for (i = 0; i < FAIR_BUCKETS; i++) {
		for (s = f->b[i]; s != NULL; s = n) {
			n = s->next;
			free(s);
		}
		f->b[i] = NULL;
	}
	f->count = 0;
}

void
fair_free(struct fair *f)
{
	if (f == NULL)
		return;
	forget(f);
	free(f);
}

unsigned long long
fair_last(const struct fair *f, const char *key)
{
	const struct source *s;

	for (s = f->b[hash(key)]; s != NULL; s = s->next)
		if (strcmp(s->key, key) == 0)
			return s->stamp;
	return 0;
}

void
fair_served(struct fair *f, const char *key)
{
	unsigned h = hash(key);
	struct source *s;
	size_t len;

	for (s = f->b[h]; s != NULL; s = s->next)
		if (strcmp(s->key, key) == 0)
			break;
	if (s == NULL) {
		if (f->count >= LIMIT_FAIR_SOURCES) {
			forget(f);
			h = hash(key);
		}
		len = strlen(key);
		s = xmalloc(sizeof(*s) + len + 1);
		memcpy(s->key, key, len + 1);
		s->next = f->b[h];
		f->b[h] = s;
		f->count++;
	}
	s->stamp = ++f->turn;
}

unsigned long
fair_count(const struct fair *f)
{
	return f->count;
}
