#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "opts.h"

static const char *usage_line = "";

void
opts_set_usage(const char *synopsis)
{
	usage_line = synopsis;
}

void
opts_usage(const char *fmt, ...)
{
	char buf[LOG_LINE_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	log_info("%s", buf);
	fprintf(stderr, "usage: %s\n", usage_line);
	exit(100);
}

static long long
scaled(const char *opt, const char *arg, long long min, long long max,
    const char *suffixes, const long long *mult)
{
	char *end;
	long long v, m = 1;
	const char *p;

	errno = 0;
	if (*arg == '\0' || *arg == ' ' || *arg == '+')
		opts_usage("%s: not a number: %s", opt, arg);
	v = strtoll(arg, &end, 10);
	if (errno == ERANGE)
		opts_usage("%s: out of range: %s", opt, arg);
	if (end == arg)
		opts_usage("%s: not a number: %s", opt, arg);
	if (*end != '\0') {
		if (suffixes == NULL || end[1] != '\0' ||
		    (p = strchr(suffixes, *end)) == NULL)
			opts_usage("%s: not a number: %s", opt, arg);
		m = mult[p - suffixes];
		if (__builtin_mul_overflow(v, m, &v))
			opts_usage("%s: out of range: %s", opt, arg);
	}
	if (v < min || v > max)
		opts_usage("%s: %s is not in %lld..%lld", opt, arg, min, max);
	return v;
}

long long
opts_num(const char *opt, const char *arg, long long min, long long max)
{
	return scaled(opt, arg, min, max, NULL, NULL);
}

long long
opts_size(const char *opt, const char *arg, long long min, long long max)
{
	static const long long mult[] = { 1024, 1024, 1048576, 1048576,
	    1073741824, 1073741824 };

	return scaled(opt, arg, min, max, "kKmMgG", mult);
}

long long
opts_duration(const char *opt, const char *arg, long long min, long long max)
{
	static const long long mult[] = { 1, 60, 3600, 86400 };

	return scaled(opt, arg, min, max, "smhd", mult);
}

void
opts_rate(const char *opt, const char *arg, long long *n, long long *secs)
{
	char num[32];
	const char *slash = strchr(arg, '/');
	size_t len;

	if (slash == NULL) {
		*n = opts_num(opt, arg, 0, 0);
		*secs = 1;
		return;
	}
	len = (size_t)(slash - arg);
	if (len == 0 || len >= sizeof(num))
		opts_usage("%s: not a rate (N/SECONDS): %s", opt, arg);
	memcpy(num, arg, len);
	num[len] = '\0';
	*n = opts_num(opt, num, 0, 1000000000);
	*secs = opts_duration(opt, slash + 1, 1, 366LL * 86400);
}

const char *
opts_name(const struct option *opts, int c)
{
	const struct option *o;

	for (o = opts; o->name != NULL; o++)
		if (o->val == c)
			return o->name;
	return "?";
}
