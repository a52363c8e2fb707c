#include <pthread.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "keytab.h"
#include "xalloc.h"

struct slot {
	char *key;		/* NULL: empty */
	uint32_t hash;
	struct keytab_val v;
};

struct keytab {
	pthread_mutex_t mu;
	struct slot *slots;
	size_t cap;		/* power of two, > max * 4 / 3 */
	size_t max, count;
	int (*idle)(const struct keytab_val *, double);
};

static uint32_t
fnv1a(const char *s)
{
	uint32_t h = 2166136261u;

	while (*s != '\0') {
		h ^= (unsigned char)*s++;
		h *= 16777619u;
	}
	return h;
}

struct keytab *
keytab_new(size_t max, int (*idle)(const struct keytab_val *, double))
{
	struct keytab *t = xcalloc(1, sizeof(*t));

	t->max = max ? max : 1;
	t->cap = 16;
	while (t->cap < t->max + t->max / 3 + 1)
		t->cap *= 2;
	t->slots = xcalloc(t->cap, sizeof(*t->slots));
	t->idle = idle;
	pthread_mutex_init(&t->mu, NULL);
	return t;
}

void
keytab_free(struct keytab *t)
{
	size_t i;

	if (t == NULL)
		return;
	for (i = 0; i < t->cap; i++)
		free(t->slots[i].key);
	free(t->slots);
	pthread_mutex_destroy(&t->mu);
	free(t);
}

/* Remove slot i and close the gap (backward-shift deletion, so lookups
 * never need tombstones). */
static void
remove_at(struct keytab *t, size_t i)
{
	size_t mask = t->cap - 1, j = i, k;

	free(t->slots[i].key);
	t->slots[i].key = NULL;
	t->count--;
	for (;;) {
		j = (j + 1) & mask;
		if (t->slots[j].key == NULL)
			return;
		k = t->slots[j].hash & mask;
		/* Leave slot j where it is if its home lies cyclically in
		 * (i, j]; otherwise move it into the gap at i. */
		if (i <= j ? (i < k && k <= j) : (i < k || k <= j))
			continue;
		t->slots[i] = t->slots[j];
		t->slots[j].key = NULL;
		i = j;
	}
}

static void
purge(struct keytab *t, double now)
{
	size_t i = 0;

	if (t->idle == NULL)
		return;
	while (i < t->cap) {
		if (t->slots[i].key != NULL && t->idle(&t->slots[i].v, now))
			remove_at(t, i);	/* re-examine slot i */
		else
			i++;
	}
}

int
keytab_update(struct keytab *t, const char *key, double now,
    int (*fn)(struct keytab_val *, int, void *), void *arg)
{
	char k[KEYTAB_KEY];
	size_t mask = t->cap - 1, i;
	uint32_t h;
	int isnew = 0, r;

	snprintf(k, sizeof(k), "%s", key);
	h = fnv1a(k);
	pthread_mutex_lock(&t->mu);
	for (i = h & mask; t->slots[i].key != NULL; i = (i + 1) & mask)
		if (t->slots[i].hash == h && strcmp(t->slots[i].key, k) == 0)
			break;
	if (t->slots[i].key == NULL) {
		if (t->count >= t->max) {
			purge(t, now);
			if (t->count >= t->max) {
				pthread_mutex_unlock(&t->mu);
				return -1;
			}
			for (i = h & mask; t->slots[i].key != NULL;
			    i = (i + 1) & mask)
				;
		}
		t->slots[i].key = xstrdup(k);
		t->slots[i].hash = h;
		memset(&t->slots[i].v, 0, sizeof(t->slots[i].v));
		t->count++;
		isnew = 1;
	}
	r = fn(&t->slots[i].v, isnew, arg);
	if (r == 0)
		remove_at(t, i);
	pthread_mutex_unlock(&t->mu);
	return r;
}

size_t
keytab_count(struct keytab *t)
{
	size_t n;

	pthread_mutex_lock(&t->mu);
	n = t->count;
	pthread_mutex_unlock(&t->mu);
	return n;
}
