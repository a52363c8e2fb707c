/*
 * opts: option values.  Programs parse their flags with getopt_long(3) into
 * one struct owned by main; these helpers turn option arguments into
 * numbers with a range, and report bad usage the same way everywhere: the
 * message, the SYNOPSIS line, exit 100.
 */
#ifndef SLUICE_OPTS_H
#define SLUICE_OPTS_H

struct option;

/* The long name of the option whose val is c in the getopt_long table
 * opts, for messages; "?" if there is none. */
const char *opts_name(const struct option *opts, int c);

/* The usage line printed after a usage error, set by the program. */
void opts_set_usage(const char *synopsis);

/* "prog: msg", "usage: synopsis" on stderr, exit 100. */
void opts_usage(const char *fmt, ...)
    __attribute__((format(printf, 1, 2), noreturn));

/* A decimal integer in [min, max]; anything else is a usage error. */
long long opts_num(const char *opt, const char *arg, long long min,
    long long max);

/* A size: an integer with an optional K, M or G suffix (powers of 1024). */
long long opts_size(const char *opt, const char *arg, long long min,
    long long max);

/* A duration in seconds: an integer with an optional s, m, h or d suffix. */
long long opts_duration(const char *opt, const char *arg, long long min,
    long long max);

/*
 * A rate "N/DURATION" (e.g. 100/60 or 100/1m): sets *n and *secs.  "0"
 * alone means off (*n = 0).
 */
void opts_rate(const char *opt, const char *arg, long long *n,
    long long *secs);

#endif
