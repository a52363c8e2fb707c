/*
 * t.h: a few TAP helpers for the C unit tests of lib/.  Each test program
 * prints "ok N - name" or "not ok N - name" per check and a plan at the
 * end; tests/check counts them.
 */
#ifndef SLUICE_T_H
#define SLUICE_T_H

#include <stdio.h>
#include <string.h>

static int t_n, t_failed;

static void __attribute__((unused))
t_ok(int cond, const char *name, const char *file, int line)
{
	t_n++;
	if (cond)
		printf("ok %d - %s\n", t_n, name);
	else {
		t_failed++;
		printf("not ok %d - %s\n#   at %s:%d\n", t_n, name, file, line);
	}
}

#define ok(cond, name) t_ok((cond) != 0, (name), __FILE__, __LINE__)

#define is_int(got, want, name) do {					\
	long long g_ = (long long)(got), w_ = (long long)(want);	\
	t_ok(g_ == w_, (name), __FILE__, __LINE__);			\
	if (g_ != w_)							\
		printf("#   got %lld, want %lld\n", g_, w_);		\
} while (0)

#define is_str(got, want, name) do {					\
	const char *g_ = (got), *w_ = (want);				\
	int same_ = (g_ == NULL && w_ == NULL) ||			\
	    (g_ != NULL && w_ != NULL && strcmp(g_, w_) == 0);		\
	t_ok(same_, (name), __FILE__, __LINE__);			\
	if (!same_)							\
		printf("#   got \"%s\", want \"%s\"\n",			\
		    g_ ? g_ : "(null)", w_ ? w_ : "(null)");		\
} while (0)

static int __attribute__((unused))
t_done(void)
{
	printf("1..%d\n", t_n);
	return t_failed ? 1 : 0;
}

#endif
