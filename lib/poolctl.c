/*
 * poolctl: mail-poolctl's commands on a pool.  See poolctl.h.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "limit.h"
#include "log.h"
#include "pool.h"
#include "poolctl.h"
#include "record.h"
#include "xalloc.h"

#define NAME_MAX_CTL 128

static void __attribute__((format(printf, 3, 4)))
seterr(char *err, size_t errsz, const char *fmt, ...)
{
	va_list ap;

	if (errsz == 0)
		return;
	va_start(ap, fmt);
	(void)vsnprintf(err, errsz, fmt, ap);
	va_end(ap);
}

int
ctl_name_ok(const char *name)
{
	size_t i;

	if (name[0] == '\0' || name[0] == '.' || strlen(name) >= NAME_MAX_CTL)
		return 0;
	for (i = 0; name[i] != '\0'; i++)
		if (!((name[i] >= 'a' && name[i] <= 'z') ||
		    (name[i] >= 'A' && name[i] <= 'Z') ||
		    (name[i] >= '0' && name[i] <= '9') || name[i] == '.' ||
		    name[i] == '-'))
			return 0;
	return 1;
}

json_t *
ctl_parse(const char *buf, size_t len, char *err, size_t errsz)
{
	static const char *const with_ids[] = { "hold", "unhold", "release",
	    "delete" };
	json_error_t je;
	json_t *c, *ids, *rate, *v;
	const char *cmd;
	size_t i;
	int need_ids = 0;

	if (len > LIMIT_CTL_FILE) {
		seterr(err, errsz, "command over %d bytes", LIMIT_CTL_FILE);
		return NULL;
	}
	if ((c = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &je)) == NULL) {
		seterr(err, errsz, "command: %s", je.text);
		return NULL;
	}
	if (!json_is_object(c) || (cmd = record_get(c, "cmd")) == NULL) {
		seterr(err, errsz, "command: no cmd");
		goto bad;
	}
	for (i = 0; i < sizeof(with_ids) / sizeof(with_ids[0]); i++)
		if (strcmp(cmd, with_ids[i]) == 0)
			need_ids = 1;
	ids = json_object_get(c, "ids");
	rate = json_object_get(c, "rate");
	if (need_ids) {
		if (!json_is_array(ids) || json_array_size(ids) == 0 ||
		    json_array_size(ids) > LIMIT_CTL_IDS) {
			seterr(err, errsz, "command %s: ids: not 1 to %d ids",
			    cmd, LIMIT_CTL_IDS);
			goto bad;
		}
		json_array_foreach(ids, i, v)
			if (!json_is_string(v) || json_string_length(v) == 0 ||
			    json_string_length(v) >= 256 ||
			    strlen(json_string_value(v)) !=
			    json_string_length(v)) {
				seterr(err, errsz, "command %s: id %zu: not an "
				    "id", cmd, i);
				goto bad;
			}
	} else if (strcmp(cmd, "pause") == 0 || strcmp(cmd, "resume") == 0) {
		if (record_get(c, "route") == NULL) {
			seterr(err, errsz, "command %s: no route", cmd);
			goto bad;
		}
	} else if (strcmp(cmd, "flush") != 0) {
		seterr(err, errsz, "command: unknown cmd %.40s", cmd);
		goto bad;
	}
	if (rate != NULL && (!json_is_number(rate) ||
	    !(json_number_value(rate) > 0) ||
	    json_number_value(rate) > 1e6)) {
		seterr(err, errsz, "command %s: rate: not a number of "
		    "messages per second", cmd);
		goto bad;
	}
	return c;
bad:
	json_decref(c);
	return NULL;
}

static void
fail(json_t *errors, const char *id, const char *why, int temporary)
{
	json_array_append_new(errors, json_pack("{s:s, s:s, s:b}", "id", id,
	    "error", why, "temporary", temporary));
}

/* The k-th due time under rate (0: all now). */
static time_t
stagger(time_t now, size_t k, double rate)
{
	if (rate <= 0)
		return now;
	return now + (time_t)floor((double)k / rate);
}

static int
by_pooled(const void *a, const void *b)
{
	const struct pool_msg *x = *(struct pool_msg *const *)a;
	const struct pool_msg *y = *(struct pool_msg *const *)b;

	return x->pooled < y->pooled ? -1 : x->pooled > y->pooled;
}

json_t *
ctl_apply(struct pool *p, const char *qdir, const json_t *c, time_t now)
{
	const char *cmd = record_get(c, "cmd");
	const char *route = record_get(c, "route");
	json_t *ids = json_object_get(c, "ids");
	json_t *rate = json_object_get(c, "rate");
	double r = json_is_number(rate) ? json_number_value(rate) : 0;
	json_t *done = json_array(), *errors = json_array(), *v, *reply;
	struct pool_msg *m, **all;
	char err[512];
	size_t i, k = 0, n;

	if (strcmp(cmd, "pause") == 0 || strcmp(cmd, "resume") == 0) {
		if (pool_pause(p, route, cmd[0] == 'p', now, err,
		    sizeof(err)) == -1)
			fail(errors, route, err, errno != ENOENT);
		else
			json_array_append_new(done, json_string(route));
	} else if (strcmp(cmd, "flush") == 0) {
		/* oldest first, so that a rate lets the oldest go first */
		n = pool_count(p);
		all = xcalloc(n ? n : 1, sizeof(*all));
		for (i = 0, m = pool_first(p); m != NULL && i < n;
		    m = pool_next(m))
			if (!m->held && !m->in_flight && m->npending > 0)
				all[i++] = m;
		n = i;
		qsort(all, n, sizeof(*all), by_pooled);
		for (i = 0; i < n; i++) {
			if (pool_make_due(p, all[i], stagger(now, k, r), err,
			    sizeof(err)) == -1)
				fail(errors, all[i]->id, err, 1);
			else {
				k++;
				json_array_append_new(done,
				    json_string(all[i]->id));
			}
		}
		free(all);
	} else {
		json_array_foreach(ids, i, v) {
			const char *id = json_string_value(v);
			int ok = 0;

			m = pool_get(p, id);
			if (m != NULL && m->in_flight &&
			    strcmp(cmd, "delete") == 0) {
				fail(errors, id, "in flight: try again", 1);
				continue;
			}
			if (strcmp(cmd, "hold") == 0 && m != NULL)
				ok = pool_set_held(p, m, 1, err, sizeof(err));
			else if (strcmp(cmd, "unhold") == 0 && m != NULL)
				ok = pool_set_held(p, m, 0, err, sizeof(err));
			else if (strcmp(cmd, "release") == 0 && m != NULL)
				ok = pool_make_due(p, m, stagger(now, k, r), err,
				    sizeof(err));
			else if (strcmp(cmd, "release") == 0)
				ok = pool_unquarantine(p, qdir, id,
				    stagger(now, k, r), &m, err, sizeof(err));
			else if (strcmp(cmd, "delete") == 0 && m != NULL)
				ok = pool_remove(p, m, err, sizeof(err));
			else if (strcmp(cmd, "delete") == 0)
				ok = pool_unlink_quarantined(qdir, id, err,
				    sizeof(err));
			else {
				errno = ENOENT;
				snprintf(err, sizeof(err), "%s: not in the pool",
				    id);
				ok = -1;
			}
			if (ok == -1) {
				if (errno == ENOENT)
					snprintf(err, sizeof(err), "%s: no such "
					    "message", id);
				fail(errors, id, err, errno != ENOENT &&
				    errno != EINVAL && errno != EEXIST);
			} else {
				k++;
				json_array_append_new(done, json_string(id));
			}
		}
	}
	reply = json_pack("{s:s, s:b, s:o, s:o}", "cmd", cmd, "ok",
	    json_array_size(errors) == 0, "done", done, "errors", errors);
	return reply;
}

/* dir/ctl/sub/name into buf. */
static int
ctl_path(char *buf, size_t size, const char *dir, const char *sub,
    const char *name)
{
	int n = snprintf(buf, size, "%s/ctl/%s/%s", dir, sub, name);

	return n < 0 || (size_t)n >= size ? -1 : 0;
}

static int
write_reply(const char *dir, const char *name, const json_t *reply,
    char *err, size_t errsz)
{
	char tmp[PATH_MAX], dst[PATH_MAX], tname[NAME_MAX_CTL + 16];
	char *s = json_dumps(reply, JSON_COMPACT);
	size_t len, off = 0;
	ssize_t w;
	int fd;

	snprintf(tname, sizeof(tname), "%s.reply", name);
	if (s == NULL || ctl_path(tmp, sizeof(tmp), dir, "tmp", tname) == -1 ||
	    ctl_path(dst, sizeof(dst), dir, "reply", name) == -1) {
		seterr(err, errsz, "reply %s: not written", name);
		free(s);
		return -1;
	}
	len = strlen(s);
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
	    0600)) == -1) {
		seterr(err, errsz, "open %s: %s", tmp, strerror(errno));
		free(s);
		return -1;
	}
	while (off < len) {
		w = write(fd, s + off, len - off);
		if (w == -1 && errno == EINTR)
			continue;
		if (w <= 0)
			break;
		off += (size_t)w;
	}
	free(s);
	/* the reply is only news: the command's effect is durable already,
	 * so no fsync here */
	if (off < len || close(fd) == -1 || rename(tmp, dst) == -1) {
		seterr(err, errsz, "write %s: %s", dst, strerror(errno));
		unlink(tmp);
		return -1;
	}
	return 0;
}

static int
by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int
ctl_serve(struct pool *p, const char *qdir, time_t now,
    void (*done)(const json_t *, const json_t *, void *), void *arg,
    char *err, size_t errsz)
{
	char path[PATH_MAX], why[512], *names[LIMIT_CTL_PER_TICK];
	char buf[LIMIT_CTL_FILE + 1];
	struct dirent *de;
	size_t n = 0, i;
	DIR *d;

	snprintf(path, sizeof(path), "%s/ctl/new", pool_dir(p));
	if ((d = opendir(path)) == NULL) {
		seterr(err, errsz, "%s: %s", path, strerror(errno));
		return -1;
	}
	while ((de = readdir(d)) != NULL && n < LIMIT_CTL_PER_TICK)
		if (ctl_name_ok(de->d_name))
			names[n++] = xstrdup(de->d_name);
	closedir(d);
	qsort(names, n, sizeof(names[0]), by_name);
	for (i = 0; i < n; i++) {
		json_t *c = NULL, *reply;
		ssize_t got = -1;
		int fd;

		if (ctl_path(path, sizeof(path), pool_dir(p), "new",
		    names[i]) == 0 &&
		    (fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) != -1) {
			got = read(fd, buf, sizeof(buf));
			close(fd);
		}
		if (got < 0)
			seterr(why, sizeof(why), "read %s: %s", path,
			    strerror(errno));
		else
			c = ctl_parse(buf, (size_t)got, why, sizeof(why));
		if (c != NULL)
			reply = ctl_apply(p, qdir, c, now);
		else
			reply = json_pack("{s:n, s:b, s:[], s:[{s:s, s:s, s:b}]}",
			    "cmd", "ok", 0, "done", "errors", "id", names[i],
			    "error", why, "temporary", 0);
		if (write_reply(pool_dir(p), names[i], reply, why,
		    sizeof(why)) == -1)
			log_warn("%s", why);
		if (unlink(path) == -1)
			log_warn("unlink %s: %s", path, strerror(errno));
		if (done != NULL)
			done(c, reply, arg);
		json_decref(reply);
		json_decref(c);
		free(names[i]);
	}
	return (int)n;
}
