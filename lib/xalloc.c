#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "xalloc.h"

static void __attribute__((noreturn))
oom(void)
{
	die_temp("out of memory");
}

void *
xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);

	if (p == NULL)
		oom();
	return p;
}

void *
xcalloc(size_t nmemb, size_t size)
{
	void *p = calloc(nmemb ? nmemb : 1, size ? size : 1);

	if (p == NULL)
		oom();
	return p;
}

void *
xreallocarray(void *p, size_t nmemb, size_t size)
{
	size_t n;
	void *q;

	if (__builtin_mul_overflow(nmemb, size, &n))
		oom();
	q = realloc(p, n ? n : 1);
	if (q == NULL)
		oom();
	return q;
}

char *
xstrdup(const char *s)
{
	return xmemdup(s, strlen(s));
}

char *
xstrndup(const char *s, size_t n)
{
	return xmemdup(s, strnlen(s, n));
}

char *
xmemdup(const void *p, size_t n)
{
	char *q;
	size_t m;

	if (__builtin_add_overflow(n, 1, &m))
		oom();
	q = xmalloc(m);
	memcpy(q, p, n);
	q[n] = '\0';
	return q;
}
