/*
 * xalloc: allocation that cannot fail.  On failure it prints
 * "prog: out of memory" and exits 111 (temporary), as Postfix's mymalloc
 * does: a process without memory can do nothing useful for the message.
 * The caller frees every result with free().
 */
#ifndef SLUICE_XALLOC_H
#define SLUICE_XALLOC_H

#include <stddef.h>

void *xmalloc(size_t n);
void *xcalloc(size_t nmemb, size_t size);
/* Returns the new block; the old pointer is invalid after the call. */
void *xreallocarray(void *p, size_t nmemb, size_t size);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
/* A NUL-terminated copy of n bytes, which may contain NUL. */
char *xmemdup(const void *p, size_t n);

#endif
