/*
 * verdict: mail-pool's policy table.  See verdict.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "limit.h"
#include "record.h"
#include "verdict.h"

static const char *const verdicts[VERDICT_N] = {
	"clean", "bulk", "spam", "spoof", "suspicious", "malicious"
};
static const char *const actions[] = {
	"deliver", "tag", "quarantine", "drop"
};
#define NACTIONS (sizeof(actions) / sizeof(actions[0]))
#define SUSPICIOUS 4

static void __attribute__((format(printf, 3, 4)))
seterr(char *err, size_t errsz, const char *fmt, ...)
{
	va_list ap;

	if (errsz == 0)
		return;
	va_start(ap, fmt);
	(void)vsnprintf(err, errsz, fmt, ap);	/* cut is fine */
	va_end(ap);
}

void
verdict_default(struct verdict_table *t)
{
	size_t i;

	for (i = 0; i < VERDICT_N; i++)
		t->act[i] = VERDICT_DELIVER;
}

static int
lookup(const char *const *names, size_t n, const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strlen(names[i]) == len && strncmp(names[i], s, len) == 0)
			return (int)i;
	return -1;
}

static int
blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r';
}

/* One line (no LF) into t; seen marks the verdicts given. */
static int
parse_line(struct verdict_table *t, unsigned char *seen, const char *s,
    size_t n, char *err, size_t errsz)
{
	const char *hash = memchr(s, '#', n);
	const char *w[3];
	size_t wl[3], nw = 0, i = 0;
	int v, a;

	if (hash != NULL)
		n = (size_t)(hash - s);
	while (i < n) {
		while (i < n && blank(s[i]))
			i++;
		if (i == n)
			break;
		if (nw == 2) {
			seterr(err, errsz, "more than a verdict and an action");
			return -1;
		}
		w[nw] = s + i;
		while (i < n && !blank(s[i]))
			i++;
		wl[nw] = (size_t)(s + i - w[nw]);
		nw++;
	}
	if (nw == 0)
		return 0;
	if (nw != 2) {
		seterr(err, errsz, "not a verdict and an action");
		return -1;
	}
	if ((v = lookup(verdicts, VERDICT_N, w[0], wl[0])) == -1) {
		seterr(err, errsz, "unknown verdict %.*s", (int)(wl[0] > 40 ?
		    40 : wl[0]), w[0]);
		return -1;
	}
	if ((a = lookup(actions, NACTIONS, w[1], wl[1])) == -1) {
		seterr(err, errsz, "unknown action %.*s", (int)(wl[1] > 40 ?
		    40 : wl[1]), w[1]);
		return -1;
	}
	if (seen[v]) {
		seterr(err, errsz, "verdict %s given twice", verdicts[v]);
		return -1;
	}
	seen[v] = 1;
	t->act[v] = (enum verdict_action)a;
	return 0;
}

int
verdict_parse(struct verdict_table *t, const char *buf, size_t len,
    char *err, size_t errsz)
{
	struct verdict_table nt;
	unsigned char seen[VERDICT_N] = { 0 };
	char why[128];
	size_t start = 0, lineno = 0;

	verdict_default(&nt);
	if (len > LIMIT_VERDICT_FILE) {
		seterr(err, errsz, "over %d bytes", LIMIT_VERDICT_FILE);
		return -1;
	}
	while (start < len) {
		const char *nl = memchr(buf + start, '\n', len - start);
		size_t end = nl ? (size_t)(nl - buf) : len;

		lineno++;
		if (end - start > LIMIT_TABLE_LINE) {
			seterr(err, errsz, "line %zu: over %d bytes", lineno,
			    LIMIT_TABLE_LINE);
			return -1;
		}
		if (memchr(buf + start, '\0', end - start) != NULL) {
			seterr(err, errsz, "line %zu: a NUL byte", lineno);
			return -1;
		}
		if (parse_line(&nt, seen, buf + start, end - start, why,
		    sizeof(why)) == -1) {
			seterr(err, errsz, "line %zu: %s", lineno, why);
			return -1;
		}
		start = end + 1;
	}
	*t = nt;
	return 0;
}

int
verdict_load(struct verdict_table *t, const char *path, char *err,
    size_t errsz)
{
	char buf[LIMIT_VERDICT_FILE + 1], why[256];
	size_t got = 0;
	ssize_t r;
	int fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		seterr(err, errsz, "%s: %s", path, strerror(errno));
		return -1;
	}
	/* one byte more than allowed: to tell a long file from a full one */
	while (got < sizeof(buf)) {
		r = read(fd, buf + got, sizeof(buf) - got);
		if (r == -1 && errno == EINTR)
			continue;
		if (r == -1) {
			seterr(err, errsz, "%s: %s", path, strerror(errno));
			close(fd);
			return -1;
		}
		if (r == 0)
			break;
		got += (size_t)r;
	}
	close(fd);
	if (verdict_parse(t, buf, got, why, sizeof(why)) == -1) {
		seterr(err, errsz, "%s: %s", path, why);
		return -1;
	}
	return 0;
}

const char *
verdict_of(const json_t *rec)
{
	const json_t *scan = json_object_get(rec, "scan");
	const char *v;
	int i;

	if (scan == NULL || json_is_null(scan))
		return verdicts[0];
	v = record_get(scan, "verdict");
	if (v == NULL ||
	    (i = lookup(verdicts, VERDICT_N, v, strlen(v))) == -1)
		return verdicts[SUSPICIOUS];
	return verdicts[i];
}

enum verdict_action
verdict_action(const struct verdict_table *t, const char *verdict)
{
	int i = lookup(verdicts, VERDICT_N, verdict, strlen(verdict));

	return t->act[i == -1 ? SUSPICIOUS : i];
}

const char *
verdict_action_name(enum verdict_action a)
{
	return (size_t)a < NACTIONS ? actions[a] : "?";
}
