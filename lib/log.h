/*
 * log: diagnostics on stderr, one line each, as "prog: context: reason".
 *
 * Every line is formatted into one buffer and written with one write(2), so
 * lines from several threads never interleave.  Lines are cut at
 * LOG_LINE_MAX bytes.  Nothing here allocates.
 */
#ifndef SLUICE_LOG_H
#define SLUICE_LOG_H

#include <stddef.h>

#define LOG_LINE_MAX 1000

/* The program name used as the prefix of every line; set by prog_init. */
extern const char *progname;

/*
 * Set the program name and make sure fds 0, 1 and 2 are open (on /dev/null
 * if they were closed), so that no file we open later lands on them.
 * Exits 111 if that fails.
 */
void prog_init(const char *name);

/* "prog: ..." */
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* "prog: warning: ..." */
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* "prog: ...", then exit 100 (permanent). */
void die_perm(const char *fmt, ...)
    __attribute__((format(printf, 1, 2), noreturn));
/* "prog: ...", then exit 111 (temporary). */
void die_temp(const char *fmt, ...)
    __attribute__((format(printf, 1, 2), noreturn));
/* "prog: bug: ...", then abort(): a can't-happen. */
void bug(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

/*
 * Copy n wire bytes into dst (size dstsz, always NUL-terminated) with every
 * byte outside printable ASCII, and the backslash, written as \xNN.  Returns
 * dst.  The result is cut (and ends in "...") when dst is too small.
 */
char *log_escape(char *dst, size_t dstsz, const void *src, size_t n);

#endif
