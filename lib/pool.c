/*
 * pool: mail-pool's store of messages and their state.  See pool.h.
 */
#define _GNU_SOURCE		/* syncfs */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "envelope.h"
#include "limit.h"
#include "log.h"
#include "msg.h"
#include "pool.h"
#include "record.h"
#include "xalloc.h"

#define POOL_BUCKETS 4096
#define POOL_TIME_MAX (1LL << 40)	/* seconds in a state */
#define POOL_ATTEMPTS_MAX 1000000

struct pool {
	char *dir;
	int lockfd;
	unsigned long counter;		/* for tmp names */
	unsigned long long seq;		/* for index entries */
	struct pool_msg *buckets[POOL_BUCKETS];
	struct pool_msg *head;
	size_t count;
	unsigned long long bytes;
	time_t paused;			/* since when the route is, or 0 */
	/* group commit (pool_defer): files written to tmp, not yet synced
	 * nor named, in the order they were written */
	int defer;
	struct pool_msg *defer_msg;	/* the message being written */
	struct pending {
		char tmp[PATH_MAX], dst[PATH_MAX];
		int replace;
		int named;		/* pool_flush gave it its name */
		struct pool_msg *m;	/* the message it belongs to */
	} *pend;
	size_t npend, pendcap;
};

static void __attribute__((format(printf, 3, 4)))
seterr(char *err, size_t errsz, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errsz, fmt, ap);
	va_end(ap);
}

static unsigned
hash(const char *s)
{
	unsigned h = 2166136261u;

	for (; *s != '\0'; s++)
		h = (h ^ (unsigned char)*s) * 16777619u;
	return h % POOL_BUCKETS;
}

/* dir/sub/name into buf; -1 (ENAMETOOLONG) if it does not fit. */
static int
path3(char *buf, size_t size, const char *dir, const char *sub,
    const char *name)
{
	int n = snprintf(buf, size, "%s/%s/%s", dir, sub, name);

	if (n < 0 || (size_t)n >= size) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return 0;
}

static int
fsync_dir(const char *dir, const char *sub)
{
	char path[PATH_MAX];
	int fd, r, n;

	n = snprintf(path, sizeof(path), "%s/%s", dir, sub);
	if (n < 0 || (size_t)n >= sizeof(path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	if ((fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1)
		return -1;
	r = fsync(fd);
	if (close(fd) == -1)
		r = -1;
	return r;
}

/*
 * Write n bytes to dir/tmp, fsync, close; then rename (replace) or link
 * (never replacing: 1 if the name is taken) to dir/sub/name and fsync
 * dir/sub.  The tmp file is gone afterwards either way.  0, 1, or -1 with
 * errno and the failing step in err.
 */
static int
write_file(struct pool *p, const char *dir, const char *sub,
    const char *name, const void *buf, size_t n, int replace, char *err,
    size_t errsz)
{
	char tmp[PATH_MAX], dst[PATH_MAX], tname[64];
	const char *b = buf;
	ssize_t w;
	int fd, e, r = 0;

	snprintf(tname, sizeof(tname), "%ld.%lu.pool", (long)getpid(),
	    ++p->counter);
	if (path3(tmp, sizeof(tmp), dir, "tmp", tname) == -1 ||
	    path3(dst, sizeof(dst), dir, sub, name) == -1) {
		seterr(err, errsz, "%s/%s/%s: %s", dir, sub, name,
		    strerror(errno));
		return -1;
	}
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
	    0600)) == -1) {
		seterr(err, errsz, "open %s: %s", tmp, strerror(errno));
		return -1;
	}
	while (n > 0) {
		w = write(fd, b, n);
		if (w == -1 && errno == EINTR)
			continue;
		if (w <= 0) {
			if (w == 0)
				errno = EIO;
			seterr(err, errsz, "write %s: %s", tmp,
			    strerror(errno));
			goto fail;
		}
		b += w;
		n -= (size_t)w;
	}
	if (p->defer && strcmp(dir, p->dir) == 0) {
		/* named by pool_flush, after one sync of everything */
		struct pending *pd;

		if (close(fd) == -1) {
			fd = -1;
			seterr(err, errsz, "close %s: %s", tmp,
			    strerror(errno));
			goto fail;
		}
		if (p->npend == p->pendcap) {
			p->pendcap = p->pendcap ? p->pendcap * 2 : 64;
			p->pend = xreallocarray(p->pend, p->pendcap,
			    sizeof(*p->pend));
		}
		pd = &p->pend[p->npend++];
		memcpy(pd->tmp, tmp, sizeof(pd->tmp));
		memcpy(pd->dst, dst, sizeof(pd->dst));
		pd->replace = replace;
		pd->named = 0;
		pd->m = p->defer_msg;
		return 0;
	}
	/* the data on disk before any name points at it */
	if (fsync(fd) == -1) {
		seterr(err, errsz, "fsync %s: %s", tmp, strerror(errno));
		goto fail;
	}
	if (close(fd) == -1) {
		fd = -1;
		seterr(err, errsz, "close %s: %s", tmp, strerror(errno));
		goto fail;
	}
	fd = -1;
	if (replace) {
		if (rename(tmp, dst) == -1) {
			seterr(err, errsz, "rename %s to %s: %s", tmp, dst,
			    strerror(errno));
			goto fail;
		}
	} else {
		if (link(tmp, dst) == -1) {
			if (errno == EEXIST)
				r = 1;
			else {
				seterr(err, errsz, "link %s to %s: %s", tmp,
				    dst, strerror(errno));
				goto fail;
			}
		}
		unlink(tmp);
		if (r == 1)
			return 1;
	}
	/* the name on disk: only now is the file there after a crash */
	if (fsync_dir(dir, sub) == -1) {
		seterr(err, errsz, "fsync %s/%s: %s", dir, sub,
		    strerror(errno));
		return -1;
	}
	return 0;
fail:
	e = errno;
	if (fd != -1)
		close(fd);
	unlink(tmp);
	errno = e;
	return -1;
}

/* Read the whole file at path, at most max bytes; malloc'd, NUL added. */
static char *
read_file(const char *path, size_t max, size_t *len, char *err,
    size_t errsz)
{
	struct stat st;
	char *buf;
	size_t got = 0;
	ssize_t r;
	int fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) == -1) {
		seterr(err, errsz, "%s: %s", path, strerror(errno));
		return NULL;
	}
	if (fstat(fd, &st) == -1) {
		seterr(err, errsz, "%s: %s", path, strerror(errno));
		close(fd);
		return NULL;
	}
	if (!S_ISREG(st.st_mode)) {
		seterr(err, errsz, "%s: not a regular file", path);
		close(fd);
		return NULL;
	}
	if ((unsigned long long)st.st_size > max) {
		seterr(err, errsz, "%s: over %zu bytes", path, max);
		close(fd);
		return NULL;
	}
	buf = xmalloc((size_t)st.st_size + 1);
	while (got < (size_t)st.st_size) {
		r = read(fd, buf + got, (size_t)st.st_size - got);
		if (r == -1 && errno == EINTR)
			continue;
		if (r <= 0) {
			seterr(err, errsz, "read %s: %s", path,
			    r == 0 ? "file shrank" : strerror(errno));
			close(fd);
			free(buf);
			return NULL;
		}
		got += (size_t)r;
	}
	close(fd);
	buf[got] = '\0';
	*len = got;
	return buf;
}

/* Is id a message id we may use as a file name? */
static int
valid_id(const char *id)
{
	char back[MAILDIR_NAME_MAX];

	if (id == NULL || id[0] == '\0' || id[0] == '.' ||
	    strlen(id) >= MAILDIR_NAME_MAX)
		return 0;
	if (maildir_id(id, back, sizeof(back)) == -1 || strcmp(back, id) != 0)
		return 0;
	return 1;
}

/* The record's path, if it names the file of its id in a new/ or cur/. */
static const char *
spool_path(const json_t *rec, char *err, size_t errsz)
{
	const char *id = record_get(rec, "id"), *path = record_get(rec, "path");
	const char *base, *dirend;
	char pid[MAILDIR_NAME_MAX];
	size_t dl;

	if (!valid_id(id)) {
		seterr(err, errsz, "bad id");
		return NULL;
	}
	if (path == NULL || strlen(path) >= PATH_MAX) {
		seterr(err, errsz, "no path");
		return NULL;
	}
	base = strrchr(path, '/');
	if (base == NULL || base == path) {
		seterr(err, errsz, "path %s is not in a maildir", path);
		return NULL;
	}
	if (maildir_id(base + 1, pid, sizeof(pid)) == -1 ||
	    strcmp(pid, id) != 0) {
		seterr(err, errsz, "path %s does not name id %s", path, id);
		return NULL;
	}
	for (dirend = base; dirend > path && dirend[-1] != '/'; dirend--)
		;
	dl = (size_t)(base - dirend);
	if (dl != 3 || (strncmp(dirend, "new", 3) != 0 &&
	    strncmp(dirend, "cur", 3) != 0)) {
		seterr(err, errsz, "path %s is not in a maildir's new or cur",
		    path);
		return NULL;
	}
	return path;
}

/* ---- the index ---- */

static void
index_add(struct pool *p, struct pool_msg *m)
{
	unsigned h = hash(m->id);

	m->hnext = p->buckets[h];
	p->buckets[h] = m;
	m->seq = ++p->seq;
	m->prev = NULL;
	m->next_msg = p->head;
	if (p->head != NULL)
		p->head->prev = m;
	p->head = m;
	p->count++;
	p->bytes += m->size;
}

static void
index_del(struct pool *p, struct pool_msg *m)
{
	struct pool_msg **pp;

	for (pp = &p->buckets[hash(m->id)]; *pp != NULL; pp = &(*pp)->hnext)
		if (*pp == m) {
			*pp = m->hnext;
			break;
		}
	if (m->prev != NULL)
		m->prev->next_msg = m->next_msg;
	else
		p->head = m->next_msg;
	if (m->next_msg != NULL)
		m->next_msg->prev = m->prev;
	p->count--;
	p->bytes -= m->size;
	free(m);
}

struct pool_msg *
pool_get(const struct pool *p, const char *id)
{
	struct pool_msg *m;

	for (m = p->buckets[hash(id)]; m != NULL; m = m->hnext)
		if (strcmp(m->id, id) == 0)
			return m;
	return NULL;
}

struct pool_msg *
pool_first(const struct pool *p)
{
	return p->head;
}

struct pool_msg *
pool_next(const struct pool_msg *m)
{
	return m->next_msg;
}

size_t
pool_count(const struct pool *p)
{
	return p->count;
}

unsigned long long
pool_bytes(const struct pool *p)
{
	return p->bytes;
}

const char *
pool_dir(const struct pool *p)
{
	return p->dir;
}

/* ---- open, load ---- */

static int
make_dirs(const char *dir, char *err, size_t errsz)
{
	char path[PATH_MAX];
	int n;

	if (maildir_make(dir) == -1) {
		seterr(err, errsz, "make maildir %s: %s", dir, strerror(errno));
		return -1;
	}
	n = snprintf(path, sizeof(path), "%s/state", dir);
	if (n < 0 || (size_t)n >= sizeof(path) ||
	    (mkdir(path, 0700) == -1 && errno != EEXIST)) {
		seterr(err, errsz, "mkdir %s/state: %s", dir,
		    n < 0 || (size_t)n >= sizeof(path) ?
		    strerror(ENAMETOOLONG) : strerror(errno));
		return -1;
	}
	return 0;
}

/* pool/ctl/{tmp,new,reply}: mail-poolctl's commands and their replies */
static int
make_ctl_dirs(const char *dir, char *err, size_t errsz)
{
	static const char *const sub[] = { "ctl", "ctl/tmp", "ctl/new",
	    "ctl/reply" };
	char path[PATH_MAX];
	size_t i;
	int n;

	for (i = 0; i < sizeof(sub) / sizeof(sub[0]); i++) {
		n = snprintf(path, sizeof(path), "%s/%s", dir, sub[i]);
		if (n < 0 || (size_t)n >= sizeof(path)) {
			seterr(err, errsz, "%s/%s: %s", dir, sub[i],
			    strerror(ENAMETOOLONG));
			return -1;
		}
		if (mkdir(path, 0700) == -1 && errno != EEXIST) {
			seterr(err, errsz, "mkdir %s: %s", path,
			    strerror(errno));
			return -1;
		}
	}
	return 0;
}

/* The time in pool/pause/ROUTE, or 0 if there is none (or it is bad:
 * a route is never stopped by a file we cannot read). */
static time_t
read_pause(const char *dir)
{
	char path[PATH_MAX], buf[32], *end;
	long long t;
	ssize_t n;
	int fd;

	if (path3(path, sizeof(path), dir, "pause", POOL_ROUTE) == -1 ||
	    (fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return 0;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	errno = 0;
	t = strtoll(buf, &end, 10);
	if (errno != 0 || end == buf || t <= 0 || t > POOL_TIME_MAX) {
		log_warn("%s: not a time: ignored", path);
		return 0;
	}
	return (time_t)t;
}

struct pool *
pool_open(const char *dir, char *err, size_t errsz)
{
	struct pool *p;
	char path[PATH_MAX], *abs;
	struct dirent *de;
	DIR *d;
	int fd;

	if (make_dirs(dir, err, errsz) == -1 || make_ctl_dirs(dir, err,
	    errsz) == -1)
		return NULL;
	if ((abs = realpath(dir, NULL)) == NULL) {
		seterr(err, errsz, "%s: %s", dir, strerror(errno));
		return NULL;
	}
	snprintf(path, sizeof(path), "%s/lock", abs);
	if ((fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600)) == -1) {
		seterr(err, errsz, "open %s: %s", path, strerror(errno));
		free(abs);
		return NULL;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) == -1) {
		int e = errno;

		seterr(err, errsz, "lock %s: %s", path, e == EWOULDBLOCK ?
		    "the pool is in use by another process" : strerror(e));
		close(fd);
		free(abs);
		errno = e;	/* EWOULDBLOCK tells mail-poolctl it runs */
		return NULL;
	}
	/* we own the pool: whatever is in tmp/ is a write that never
	 * finished */
	snprintf(path, sizeof(path), "%s/tmp", abs);
	if ((d = opendir(path)) != NULL) {
		while ((de = readdir(d)) != NULL) {
			char f[PATH_MAX];

			if (strcmp(de->d_name, ".") == 0 ||
			    strcmp(de->d_name, "..") == 0)
				continue;
			if (path3(f, sizeof(f), abs, "tmp", de->d_name) == 0)
				unlink(f);
		}
		closedir(d);
	}
	p = xcalloc(1, sizeof(*p));
	p->dir = abs;
	p->lockfd = fd;
	p->paused = read_pause(abs);
	return p;
}

void
pool_close(struct pool *p)
{
	struct pool_msg *m, *n;

	if (p == NULL)
		return;
	for (m = p->head; m != NULL; m = n) {
		n = m->next_msg;
		free(m);
	}
	close(p->lockfd);
	free(p->pend);
	free(p->dir);
	free(p);
}

static long long
get_int(const json_t *o, const char *key, int *ok)
{
	json_t *v = json_object_get(o, key);

	if (!json_is_integer(v)) {
		*ok = 0;
		return 0;
	}
	return json_integer_value(v);
}

json_t *
pool_state_parse(const char *buf, size_t len, char *err, size_t errsz)
{
	json_error_t je;
	json_t *st, *rec, *to, *pend, *v, *a;
	const char *id;
	unsigned char *seen = NULL;
	long long t;
	size_t i, nto;
	int ok = 1;

	if (len > LIMIT_POOL_STATE) {
		seterr(err, errsz, "state over %d bytes", LIMIT_POOL_STATE);
		return NULL;
	}
	st = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &je);
	if (st == NULL) {
		seterr(err, errsz, "state: line %d: %s", je.line, je.text);
		return NULL;
	}
	if (!json_is_object(st)) {
		seterr(err, errsz, "state: not an object");
		goto bad;
	}
	id = record_get(st, "id");
	if (!valid_id(id)) {
		seterr(err, errsz, "state: bad id");
		goto bad;
	}
	rec = json_object_get(st, "record");
	if (!json_is_object(rec) || record_get(rec, "id") == NULL ||
	    strcmp(record_get(rec, "id"), id) != 0) {
		seterr(err, errsz, "state: record missing or of another id");
		goto bad;
	}
	to = json_object_get(json_object_get(rec, "envelope"), "to");
	if (!json_is_array(to) || json_array_size(to) == 0 ||
	    json_array_size(to) > LIMIT_RCPT) {
		seterr(err, errsz, "state: record without recipients");
		goto bad;
	}
	nto = json_array_size(to);
	json_array_foreach(to, i, v)
		if (!json_is_string(v)) {
			seterr(err, errsz, "state: recipient %zu not a string",
			    i);
			goto bad;
		}
	t = get_int(st, "pooled_at", &ok);
	if (ok && (t < 0 || t > POOL_TIME_MAX))
		ok = 0;
	t = get_int(st, "next", &ok);
	if (ok && (t < 0 || t > POOL_TIME_MAX))
		ok = 0;
	t = get_int(st, "attempts", &ok);
	if (ok && (t < 0 || t > POOL_ATTEMPTS_MAX))
		ok = 0;
	if (!ok) {
		seterr(err, errsz, "state: pooled_at, next or attempts "
		    "missing or out of range");
		goto bad;
	}
	if (json_object_get(st, "frozen") != NULL) {
		t = get_int(st, "frozen", &ok);
		if (!ok || t < 0 || t > POOL_TIME_MAX) {
			seterr(err, errsz, "state: frozen not a time");
			goto bad;
		}
	}
	a = json_object_get(st, "held");
	if (a != NULL && !json_is_boolean(a)) {
		seterr(err, errsz, "state: held is not a boolean");
		goto bad;
	}
	pend = json_object_get(st, "pending");
	if (!json_is_array(pend) || json_array_size(pend) > nto) {
		seterr(err, errsz, "state: bad pending");
		goto bad;
	}
	seen = xcalloc(nto, 1);
	json_array_foreach(pend, i, v) {
		if (!json_is_integer(v) || json_integer_value(v) < 0 ||
		    json_integer_value(v) >= (json_int_t)nto ||
		    seen[json_integer_value(v)]) {
			seterr(err, errsz, "state: pending %zu: not a "
			    "recipient's index, or twice", i);
			goto bad;
		}
		seen[json_integer_value(v)] = 1;
	}
	a = json_object_get(st, "failed");
	if (a != NULL && !json_is_array(a)) {
		seterr(err, errsz, "state: failed is not an array");
		goto bad;
	}
	a = json_object_get(st, "last");
	if (a != NULL && !json_is_array(a)) {
		seterr(err, errsz, "state: last is not an array");
		goto bad;
	}
	free(seen);
	return st;
bad:
	free(seen);
	json_decref(st);
	return NULL;
}

static int
state_path(const struct pool *p, const char *id, char *buf, size_t size)
{
	return path3(buf, size, p->dir, "state", id);
}

json_t *
pool_state_at(const char *dir, const char *id, char *err, size_t errsz)
{
	char path[PATH_MAX], why[256];
	json_t *st;
	char *buf;
	size_t len;

	if (path3(path, sizeof(path), dir, "state", id) == -1) {
		seterr(err, errsz, "%s: state path too long", id);
		return NULL;
	}
	if ((buf = read_file(path, LIMIT_POOL_STATE, &len, err, errsz)) ==
	    NULL)
		return NULL;
	st = pool_state_parse(buf, len, why, sizeof(why));
	free(buf);
	if (st == NULL)
		seterr(err, errsz, "%s: %s", path, why);
	else if (strcmp(record_get(st, "id"), id) != 0) {
		seterr(err, errsz, "%s: state of another id", path);
		json_decref(st);
		st = NULL;
	}
	return st;
}

json_t *
pool_state_read(struct pool *p, const struct pool_msg *m, char *err,
    size_t errsz)
{
	return pool_state_at(p->dir, m->id, err, errsz);
}

/* The source key of a record: envelope.from's domain, lowercased; for
 * the null sender (or a from without a domain) the client's address. */
static void
set_source(struct pool_msg *m, const json_t *rec)
{
	const char *from = record_get(json_object_get(rec, "envelope"),
	    "from");
	const char *ip = record_get(json_object_get(rec, "client"), "ip");
	const char *at = from ? strrchr(from, '@') : NULL;
	size_t i;

	if (at != NULL && at[1] != '\0') {
		snprintf(m->source, sizeof(m->source), "%s", at + 1);
		for (i = 0; m->source[i] != '\0'; i++)
			if (m->source[i] >= 'A' && m->source[i] <= 'Z')
				m->source[i] += 'a' - 'A';
	} else
		snprintf(m->source, sizeof(m->source), "[%s]", ip ? ip : "");
	snprintf(m->ip, sizeof(m->ip), "%s", ip && strlen(ip) < sizeof(m->ip) ?
	    ip : "");
}

/* The fields of the index entry from a state. */
static void
from_state(struct pool_msg *m, const json_t *st)
{
	int ok = 1;

	m->pooled = (time_t)get_int(st, "pooled_at", &ok);
	m->next = (time_t)get_int(st, "next", &ok);
	m->attempts = (unsigned)get_int(st, "attempts", &ok);
	m->npending = json_array_size(json_object_get(st, "pending"));
	m->held = json_is_true(json_object_get(st, "held"));
	m->frozen = json_is_integer(json_object_get(st, "frozen")) ?
	    (time_t)json_integer_value(json_object_get(st, "frozen")) : 0;
	set_source(m, json_object_get(st, "record"));
}

int
pool_state_write(struct pool *p, struct pool_msg *m, const json_t *st,
    char *err, size_t errsz)
{
	char *buf;
	int r;

	buf = json_dumps(st, JSON_COMPACT);
	if (buf == NULL) {
		seterr(err, errsz, "%s: state not encoded", m->id);
		return -1;
	}
	r = write_file(p, p->dir, "state", m->id, buf, strlen(buf), 1, err,
	    errsz);
	free(buf);
	if (r == 0)
		from_state(m, st);
	return r;
}

/* A new state for rec (a copy is kept) with every recipient pending. */
static json_t *
new_state(const char *id, const json_t *rec, time_t now, char *err,
    size_t errsz)
{
	json_t *to = json_object_get(json_object_get(rec, "envelope"), "to");
	json_t *st, *pend, *v;
	size_t i;

	if (!json_is_array(to) || json_array_size(to) == 0 ||
	    json_array_size(to) > LIMIT_RCPT) {
		seterr(err, errsz, "no envelope recipients");
		return NULL;
	}
	json_array_foreach(to, i, v)
		if (!json_is_string(v)) {
			seterr(err, errsz, "envelope recipient %zu is not a "
			    "string", i);
			return NULL;
		}
	pend = json_array();
	for (i = 0; i < json_array_size(to); i++)
		json_array_append_new(pend, json_integer((json_int_t)i));
	st = json_object();
	json_object_set_new(st, "id", json_string(id));
	json_object_set_new(st, "pooled_at", json_integer(now));
	json_object_set_new(st, "next", json_integer(now));
	json_object_set_new(st, "attempts", json_integer(0));
	json_object_set_new(st, "pending", pend);
	json_object_set_new(st, "failed", json_array());
	json_object_set_new(st, "last", json_array());
	json_object_set_new(st, "record", json_deep_copy(rec));
	return st;
}

/* Rebuild the state of a pooled file whose state is lost. */
static json_t *
rebuild_state(struct pool *p, const char *id, const char *path,
    time_t now, char *err, size_t errsz)
{
	struct envelope e;
	char why[256];
	json_t *rec, *st;

	envelope_init(&e);
	if (envelope_read(&e, path, why, sizeof(why)) == -1) {
		seterr(err, errsz, "%s: %s", path, errno == EINVAL ? why :
		    strerror(errno));
		envelope_clear(&e);
		return NULL;
	}
	rec = envelope_record(&e);
	envelope_clear(&e);
	json_object_set_new(rec, "id", json_string(id));
	json_object_set_new(rec, "path", json_string(path));
	(void)p;
	st = new_state(id, rec, now, err, errsz);
	json_decref(rec);
	return st;
}

struct load_ctx {
	struct pool *p;
	time_t now;
	long n;
};

static int
load_one(void *arg, const char *sub, const char *name)
{
	struct load_ctx *c = arg;
	struct pool *p = c->p;
	struct pool_msg *m;
	struct stat sb;
	char path[PATH_MAX], id[MAILDIR_NAME_MAX], err[512];
	json_t *st;

	if (maildir_id(name, id, sizeof(id)) == -1 || !valid_id(id)) {
		log_warn("%s/%s/%s: not a message name: left alone", p->dir,
		    sub, name);
		return 0;
	}
	if (pool_get(p, id) != NULL)
		return 0;	/* loaded before (a rescan), or in new/ and cur/ */
	if (path3(path, sizeof(path), p->dir, sub, name) == -1 ||
	    stat(path, &sb) == -1) {
		log_warn("%s/%s/%s: %s", p->dir, sub, name, strerror(errno));
		return 0;
	}
	m = xcalloc(1, sizeof(*m));
	snprintf(m->id, sizeof(m->id), "%s", id);
	m->size = (unsigned long long)sb.st_size;
	if ((st = pool_state_read(p, m, err, sizeof(err))) == NULL) {
		log_warn("%s: state lost (%s): rebuilt from the message, "
		    "every recipient due", id, err);
		st = rebuild_state(p, id, path, c->now, err, sizeof(err));
		if (st == NULL || pool_state_write(p, m, st, err,
		    sizeof(err)) == -1) {
			log_warn("%s: no state: %s: left alone", id, err);
			json_decref(st);
			free(m);
			return 0;
		}
	}
	/* the path as it is now (the pool may have moved) */
	if (strcmp(record_get(json_object_get(st, "record"), "path") ?
	    record_get(json_object_get(st, "record"), "path") : "", path) !=
	    0) {
		json_object_set_new(json_object_get(st, "record"), "path",
		    json_string(path));
		if (pool_state_write(p, m, st, err, sizeof(err)) == -1)
			log_warn("%s: %s", id, err);
	}
	from_state(m, st);
	json_decref(st);
	index_add(p, m);
	c->n++;
	return 0;
}

long
pool_load(struct pool *p, time_t now, char *err, size_t errsz)
{
	struct load_ctx c = { p, now, 0 };
	char path[PATH_MAX];
	struct dirent *de;
	DIR *d;

	if (maildir_list(p->dir, load_one, &c) == -1) {
		seterr(err, errsz, "list %s: %s", p->dir, strerror(errno));
		return -1;
	}
	/* states without a message: a pooling or a removal cut short */
	snprintf(path, sizeof(path), "%s/state", p->dir);
	if ((d = opendir(path)) == NULL) {
		seterr(err, errsz, "%s: %s", path, strerror(errno));
		return -1;
	}
	while ((de = readdir(d)) != NULL) {
		char f[PATH_MAX];

		if (de->d_name[0] == '.' || pool_get(p, de->d_name) != NULL)
			continue;
		if (path3(f, sizeof(f), p->dir, "state", de->d_name) == 0)
			unlink(f);
	}
	closedir(d);
	return c.n;
}

/* ---- editing the header ---- */

struct buf {
	char *p;
	size_t len, cap;
};

static void
bput(struct buf *b, const void *s, size_t n)
{
	size_t need;

	if (__builtin_add_overflow(b->len, n, &need))
		die_temp("out of memory");
	if (need + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 4096;
		char *np;

		while (cap < need + 1)
			if (__builtin_mul_overflow(cap, 2, &cap))
				die_temp("out of memory");
		np = xmalloc(cap);
		if (b->len > 0)
			memcpy(np, b->p, b->len);
		free(b->p);
		b->p = np;
		b->cap = cap;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

/* n bytes with each CRLF written as LF (msg.h made every LF a CRLF). */
static void
bput_lf(struct buf *b, const char *s, size_t n)
{
	size_t i, start = 0;

	for (i = 0; i + 1 < n; i++)
		if (s[i] == '\r' && s[i + 1] == '\n') {
			bput(b, s + start, i - start);
			start = i + 1;
			i++;
		}
	bput(b, s + start, n - start);
}

/*
 * A field value we may write: at most LIMIT_POOL_FIELD bytes, no NUL, no
 * CR, no control but tab, and each LF followed by a blank (a fold) and
 * not last.  Anything else could start a field of its own.
 */
static int
good_value(const char *v, size_t n)
{
	size_t i;

	if (n > LIMIT_POOL_FIELD)
		return 0;
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)v[i];

		if (c == '\n') {
			if (i + 1 >= n || (v[i + 1] != ' ' && v[i + 1] != '\t'))
				return 0;
		} else if ((c < 0x20 && c != '\t') || c == 0x7f)
			return 0;
	}
	return 1;
}

/* "Name: value": a name of printable ASCII but colon, then the value. */
static int
good_field(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n && s[i] != ':'; i++)
		if (s[i] < 33 || s[i] > 126)
			return 0;
	if (i == 0 || i >= n || i > 76)
		return 0;
	return good_value(s + i + 1, n - i - 1);
}

/* Mark the fields named by a remove array ({"field", "index"} objects)
 * of the object called what. */
static int
mark_drops(const struct msg *m, unsigned char *drop, const json_t *rm,
    const char *what, char *err, size_t errsz)
{
	json_t *v;
	size_t i;

	json_array_foreach(rm, i, v) {
		json_t *fi = json_object_get(v, "index");
		const char *name = record_get(v, "field");
		json_int_t k;

		if (!json_is_integer(fi) || name == NULL) {
			seterr(err, errsz, "%s.remove %zu: not "
			    "{\"field\", \"index\"}", what, i);
			return -1;
		}
		k = json_integer_value(fi);
		if (k < 0 || (size_t)k >= m->nf ||
		    !msg_field_is(&m->f[k], name)) {
			seterr(err, errsz, "%s.remove %zu: the message has no "
			    "field %s at index %lld", what, i, name,
			    (long long)k);
			return -1;
		}
		drop[k] = 1;
	}
	return 0;
}

/* The whole fields of a headers array, each on its line. */
static int
add_fields(struct buf *b, const json_t *hdrs, const char *what,
    size_t *nadd, char *err, size_t errsz)
{
	json_t *v;
	size_t i;

	json_array_foreach(hdrs, i, v) {
		if (!json_is_string(v) || !good_field(json_string_value(v),
		    json_string_length(v)) || ++*nadd > LIMIT_POOL_ADD) {
			seterr(err, errsz, "%s.headers %zu: not a header "
			    "field, or too many", what, i);
			return -1;
		}
		bput(b, json_string_value(v), json_string_length(v));
		bput(b, "\n", 1);
	}
	return 0;
}

int
pool_edit(const char *buf, size_t n, const json_t *auth, const json_t *scan,
    char **out, size_t *outlen, char *err, size_t errsz)
{
	struct msg m;
	struct buf b = { NULL, 0, 0 };
	unsigned char *drop = NULL;
	json_t *ar, *hdrs, *rm, *shdrs, *srm;
	char why[256];
	size_t i, nadd = 0;

	if (auth != NULL && !json_is_object(auth) && !json_is_null(auth)) {
		seterr(err, errsz, "auth is not an object");
		return -1;
	}
	if (scan != NULL && !json_is_object(scan) && !json_is_null(scan)) {
		seterr(err, errsz, "scan is not an object");
		return -1;
	}
	if (msg_parse(&m, buf, n, why, sizeof(why)) == -1) {
		seterr(err, errsz, "%s", why);
		return -1;
	}
	ar = json_object_get(auth, "authentication_results");
	hdrs = json_object_get(auth, "headers");
	rm = json_object_get(auth, "remove");
	shdrs = json_object_get(scan, "headers");
	srm = json_object_get(scan, "remove");
	if ((ar != NULL && !json_is_string(ar) && !json_is_null(ar)) ||
	    (hdrs != NULL && !json_is_array(hdrs)) ||
	    (rm != NULL && !json_is_array(rm))) {
		seterr(err, errsz, "auth: authentication_results, headers or "
		    "remove of the wrong type");
		goto fail;
	}
	if ((shdrs != NULL && !json_is_array(shdrs)) ||
	    (srm != NULL && !json_is_array(srm))) {
		seterr(err, errsz, "scan: headers or remove of the wrong "
		    "type");
		goto fail;
	}
	if (m.nf > 0)
		drop = xcalloc(m.nf, 1);
	/* both index the same original fields: the union goes */
	if (mark_drops(&m, drop, rm, "auth", err, errsz) == -1 ||
	    mark_drops(&m, drop, srm, "scan", err, errsz) == -1)
		goto fail;
	if (m.relay != NULL)
		bput_lf(&b, m.relay, m.relaylen);
	if (json_is_string(ar)) {
		const char *s = json_string_value(ar);
		size_t sl = json_string_length(ar);

		if (sl == 0 || !good_value(s, sl) || s[0] == '\n') {
			seterr(err, errsz, "auth.authentication_results: not a "
			    "field value");
			goto fail;
		}
		bput(&b, "Authentication-Results: ", 24);
		bput(&b, s, sl);
		bput(&b, "\n", 1);
		nadd++;
	}
	if (add_fields(&b, hdrs, "auth", &nadd, err, errsz) == -1 ||
	    add_fields(&b, shdrs, "scan", &nadd, err, errsz) == -1)
		goto fail;
	for (i = 0; i < m.nf; i++)
		if (!drop[i])
			bput_lf(&b, m.f[i].raw, m.f[i].rawlen);
	if (m.body != NULL) {
		if (!m.bad_header)
			bput(&b, "\n", 1);
		bput_lf(&b, m.body, m.bodylen);
	}
	if (b.p == NULL)
		bput(&b, "", 0);
	free(drop);
	msg_free(&m);
	*out = b.p;
	*outlen = b.len;
	return 0;
fail:
	free(drop);
	free(b.p);
	msg_free(&m);
	return -1;
}

/* ---- adding, removing ---- */

int
pool_add(struct pool *p, const json_t *rec, time_t now, size_t max, int tag,
    struct pool_msg **mp, char *err, size_t errsz)
{
	const char *id, *path;
	char dst[PATH_MAX], why[512], sp[PATH_MAX];
	struct pool_msg *m;
	struct stat sb;
	json_t *st = NULL, *scan = NULL;
	char *raw = NULL, *out = NULL;
	size_t len, outlen;
	int r;

	if ((path = spool_path(rec, err, errsz)) == NULL)
		return -1;
	id = record_get(rec, "id");
	if (pool_get(p, id) != NULL)
		return 1;
	if (path3(dst, sizeof(dst), p->dir, "new", id) == -1) {
		seterr(err, errsz, "%s: name too long", id);
		return -1;
	}
	if (lstat(dst, &sb) == 0)
		return 1;
	if ((raw = read_file(path, max, &len, err, errsz)) == NULL)
		return -1;
	/* scan.remove always; scan.headers only when tagging */
	scan = json_object_get(rec, "scan");
	if (!tag && json_is_object(scan) &&
	    json_object_get(scan, "headers") != NULL) {
		scan = json_copy(scan);
		json_object_del(scan, "headers");
	} else
		json_incref(scan);
	r = pool_edit(raw, len, json_object_get(rec, "auth"), scan, &out,
	    &outlen, why, sizeof(why));
	json_decref(scan);
	if (r == -1) {
		seterr(err, errsz, "%s", why);
		goto fail;
	}
	if ((st = new_state(id, rec, now, why, sizeof(why))) == NULL) {
		seterr(err, errsz, "%s", why);
		goto fail;
	}
	json_object_set_new(json_object_get(st, "record"), "path",
	    json_string(dst));
	json_object_set_new(json_object_get(st, "record"), "size",
	    json_integer((json_int_t)outlen));
	m = xcalloc(1, sizeof(*m));
	snprintf(m->id, sizeof(m->id), "%s", id);
	m->size = outlen;
	p->defer_msg = m;
	/* the state first: a state without its message is removed on load */
	if (pool_state_write(p, m, st, err, errsz) == -1) {
		free(m);
		goto fail;
	}
	r = write_file(p, p->dir, "new", id, out, outlen, 0, err, errsz);
	if (r != 0) {
		if (r == 1)
			seterr(err, errsz, "%s: already in %s/new", id, p->dir);
		if (state_path(p, id, sp, sizeof(sp)) == 0)
			unlink(sp);
		free(m);
		goto fail;
	}
	index_add(p, m);
	*mp = m;
	json_decref(st);
	free(raw);
	free(out);
	return 0;
fail:
	json_decref(st);
	free(raw);
	free(out);
	return -1;
}

void
pool_defer(struct pool *p, int on)
{
	p->defer = on;
}

/* Is m among the n of f? */
static int
among(struct pool_msg **f, size_t n, const struct pool_msg *m)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (f[i] == m)
			return 1;
	return 0;
}

int
pool_flush(struct pool *p, void (*failed)(void *, const char *,
    const char *), void *arg, char *err, size_t errsz)
{
	struct pool_msg **bad;
	char path[PATH_MAX], why[PATH_MAX + 64];
	size_t i, nbad = 0;
	int fd, r = 0, synced;

	if (p->npend == 0)
		return 0;
	bad = xcalloc(p->npend, sizeof(*bad));
	/* one sync for the data of every file written since the last
	 * flush, before any of them gets its name */
	synced = 0;
	if (path3(path, sizeof(path), p->dir, "tmp", "") == 0 &&
	    (fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) != -1) {
		synced = syncfs(fd) == 0;
		if (!synced)
			snprintf(why, sizeof(why), "syncfs %s: %s", path,
			    strerror(errno));
		close(fd);
	} else
		snprintf(why, sizeof(why), "open %s/tmp: %s", p->dir,
		    strerror(errno));
	for (i = 0; i < p->npend; i++) {
		struct pending *pd = &p->pend[i];

		if (!synced || among(bad, nbad, pd->m)) {
			unlink(pd->tmp);
			if (!among(bad, nbad, pd->m)) {
				bad[nbad++] = pd->m;
				failed(arg, pd->m->id, why);
			}
			continue;
		}
		if (pd->replace ? rename(pd->tmp, pd->dst) :
		    link(pd->tmp, pd->dst)) {
			snprintf(why, sizeof(why), "%s %s: %s", pd->replace ?
			    "rename to" : "link to", pd->dst, strerror(errno));
			unlink(pd->tmp);
			bad[nbad++] = pd->m;
			failed(arg, pd->m->id, why);
			continue;
		}
		pd->named = 1;
		if (!pd->replace)
			unlink(pd->tmp);
	}
	/* the names on disk; a failure here leaves the messages pooled
	 * (they may be there after a crash, or not): the caller keeps the
	 * spool copies, and a second record for one is a duplicate */
	if (fsync_dir(p->dir, "state") == -1 || fsync_dir(p->dir, "new") == -1) {
		seterr(err, errsz, "fsync %s: %s", p->dir, strerror(errno));
		r = -1;
	}
	/* what failed leaves none of the names it got, and no entry */
	for (i = 0; i < p->npend; i++)
		if (p->pend[i].named && among(bad, nbad, p->pend[i].m))
			unlink(p->pend[i].dst);
	for (i = 0; i < nbad; i++)
		index_del(p, bad[i]);
	free(bad);
	p->npend = 0;
	return r;
}

int
pool_unlink_spool_nosync(const json_t *rec, char *dir, size_t dirsz,
    char *err, size_t errsz)
{
	const char *path = spool_path(rec, err, errsz);
	const char *slash;

	if (path == NULL)
		return -1;
	if (unlink(path) == -1 && errno != ENOENT) {
		seterr(err, errsz, "unlink %s: %s", path, strerror(errno));
		return -1;
	}
	slash = strrchr(path, '/');
	snprintf(dir, dirsz, "%.*s", (int)(slash - path), path);
	return 0;
}

int
pool_sync_spool(const char *dir, char *err, size_t errsz)
{
	int fd;

	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1 ||
	    fsync(fd) == -1) {
		seterr(err, errsz, "fsync %s: %s", dir, strerror(errno));
		if (fd != -1)
			close(fd);
		return -1;
	}
	close(fd);
	return 0;
}

int
pool_unlink_spool(const json_t *rec, char *err, size_t errsz)
{
	char dir[PATH_MAX];

	if (pool_unlink_spool_nosync(rec, dir, sizeof(dir), err, errsz) == -1)
		return -1;
	return pool_sync_spool(dir, err, errsz);
}

static int
unlink_msg(struct pool *p, struct pool_msg *m, char *err, size_t errsz)
{
	char path[PATH_MAX];

	/* the message first: a state left alone is removed on load */
	if (path3(path, sizeof(path), p->dir, "new", m->id) == -1 ||
	    (unlink(path) == -1 && errno != ENOENT)) {
		seterr(err, errsz, "unlink %s: %s", path, strerror(errno));
		return -1;
	}
	if (path3(path, sizeof(path), p->dir, "cur", m->id) == 0)
		unlink(path);
	if (fsync_dir(p->dir, "new") == -1) {
		seterr(err, errsz, "fsync %s/new: %s", p->dir, strerror(errno));
		return -1;
	}
	if (state_path(p, m->id, path, sizeof(path)) == 0)
		unlink(path);
	return 0;
}

int
pool_remove(struct pool *p, struct pool_msg *m, char *err, size_t errsz)
{
	if (unlink_msg(p, m, err, errsz) == -1)
		return -1;
	index_del(p, m);
	return 0;
}

int
pool_bury(struct pool *p, struct pool_msg *m, json_t *st, const char *dead,
    const char *reason, char *err, size_t errsz)
{
	char src[PATH_MAX], dst[PATH_MAX], *buf = NULL, *raw = NULL;
	size_t len;
	int r;

	if (make_dirs(dead, err, errsz) == -1)
		return -1;
	json_object_set_new(st, "reason", json_string(reason));
	if ((buf = json_dumps(st, JSON_COMPACT)) == NULL) {
		seterr(err, errsz, "%s: state not encoded", m->id);
		return -1;
	}
	/* the dead letter's state first, then its message (as in the pool) */
	r = write_file(p, dead, "state", m->id, buf, strlen(buf), 1, err,
	    errsz);
	free(buf);
	if (r == -1)
		return -1;
	if (path3(src, sizeof(src), p->dir, "new", m->id) == -1 ||
	    path3(dst, sizeof(dst), dead, "new", m->id) == -1) {
		seterr(err, errsz, "%s: name too long", m->id);
		return -1;
	}
	if (link(src, dst) == -1) {
		if (errno == EEXIST)
			r = 0;		/* buried before a crash */
		else if (errno == EXDEV) {
			/* another filesystem: a copy */
			raw = read_file(src, (size_t)LIMIT_POOL_MESSAGE +
			    LIMIT_POOL_ADD * (LIMIT_POOL_FIELD + 80), &len, err,
			    errsz);
			if (raw == NULL)
				return -1;
			r = write_file(p, dead, "new", m->id, raw, len, 0, err,
			    errsz);
			free(raw);
			if (r == -1)
				return -1;
		} else {
			seterr(err, errsz, "link %s to %s: %s", src, dst,
			    strerror(errno));
			return -1;
		}
	}
	if (fsync_dir(dead, "new") == -1) {
		seterr(err, errsz, "fsync %s/new: %s", dead, strerror(errno));
		return -1;
	}
	return pool_remove(p, m, err, errsz);
}

/* ---- dispatch and results ---- */

json_t *
pool_dispatch(const json_t *st)
{
	json_t *rec = json_deep_copy(json_object_get(st, "record"));
	json_t *env = json_object_get(rec, "envelope");
	json_t *to = json_object_get(env, "to");
	json_t *params = json_object_get(env, "params");
	json_t *prcpt = json_object_get(params, "rcpt");
	json_t *pend = json_object_get(st, "pending");
	json_t *nto = json_array(), *np = json_array(), *v;
	size_t i, k;

	json_array_foreach(pend, i, v) {
		k = (size_t)json_integer_value(v);
		json_array_append(nto, json_array_get(to, k));
		if (json_is_array(prcpt) && k < json_array_size(prcpt))
			json_array_append(np, json_array_get(prcpt, k));
	}
	json_object_set_new(env, "to", nto);
	if (json_is_array(prcpt) && json_array_size(prcpt) ==
	    json_array_size(to))
		json_object_set_new(params, "rcpt", np);
	else
		json_decref(np);
	return rec;
}

void
pool_apply(json_t *st, const json_t *result, time_t now,
    struct pool_outcome *o)
{
	json_t *to = json_object_get(json_object_get(json_object_get(st,
	    "record"), "envelope"), "to");
	json_t *pend = json_object_get(st, "pending");
	json_t *del = json_object_get(result, "delivery");
	json_t *rr = json_object_get(del, "rcpt");
	json_t *npend = json_array(), *last = json_array(), *v, *x;
	json_t *failed = json_object_get(st, "failed");
	int answered = 0, throttled = 0;
	size_t i;

	o->delivered = json_array();
	o->deferred = json_array();
	o->failed = json_array();
	if (!json_is_array(failed)) {
		failed = json_array();
		json_object_set_new(st, "failed", failed);
	}
	json_array_foreach(pend, i, v) {
		size_t k = (size_t)json_integer_value(v);
		const char *addr = json_string_value(json_array_get(to, k));
		json_t *code;
		const char *status, *raddr;

		x = json_is_array(rr) ? json_array_get(rr, i) : NULL;
		status = record_get(x, "status");
		raddr = record_get(x, "addr");
		code = json_object_get(x, "code");
		if (x == NULL || status == NULL || raddr == NULL ||
		    addr == NULL || strcmp(raddr, addr) != 0)
			status = "deferred";
		if (json_is_integer(code)) {
			json_int_t c = json_integer_value(code);

			if ((c >= 200 && c < 300) || (c >= 500 && c < 600))
				answered = 1;
			else if (c >= 400 && c < 500)
				throttled = 1;
		}
		if (strcmp(status, "delivered") == 0)
			json_array_append_new(o->delivered,
			    json_string(addr));
		else if (strcmp(status, "failed") == 0) {
			json_array_append_new(o->failed, json_string(addr));
			json_array_append(failed, x);
		} else {
			json_array_append(npend, v);
			json_array_append_new(o->deferred,
			    json_string(addr ? addr : "?"));
			if (x != NULL)
				json_array_append(last, x);
		}
	}
	json_object_set_new(st, "pending", npend);
	json_object_set_new(st, "last", last);
	json_object_set_new(st, "attempts", json_integer(
	    json_integer_value(json_object_get(st, "attempts")) + 1));
	json_object_set_new(st, "tried_at", json_integer(now));
	if (!json_is_array(rr))
		o->answer = POOL_NO_RESULT;
	else if (answered)
		o->answer = POOL_ANSWERED;
	else if (throttled)
		o->answer = POOL_THROTTLED;
	else
		o->answer = POOL_NO_ANSWER;
}

void
pool_outcome_free(struct pool_outcome *o)
{
	json_decref(o->delivered);
	json_decref(o->deferred);
	json_decref(o->failed);
	o->delivered = o->deferred = o->failed = NULL;
}

void
pool_set_next(json_t *st, time_t next)
{
	json_object_set_new(st, "next", json_integer(next));
}

/* ---- control ---- */

/* Read m's state, let fn change it, write it back. */
static int
change_state(struct pool *p, struct pool_msg *m, void (*fn)(json_t *,
    void *), void *arg, char *err, size_t errsz)
{
	json_t *st = pool_state_read(p, m, err, errsz);
	int r;

	if (st == NULL)
		return -1;
	fn(st, arg);
	r = pool_state_write(p, m, st, err, errsz);
	json_decref(st);
	return r;
}

static void
set_held(json_t *st, void *arg)
{
	json_object_set_new(st, "held", json_boolean(*(int *)arg));
}

int
pool_set_held(struct pool *p, struct pool_msg *m, int on, char *err,
    size_t errsz)
{
	return change_state(p, m, set_held, &on, err, errsz);
}

static void
set_due(json_t *st, void *arg)
{
	json_object_set_new(st, "held", json_false());
	json_object_set_new(st, "next", json_integer(*(time_t *)arg));
}

int
pool_make_due(struct pool *p, struct pool_msg *m, time_t when, char *err,
    size_t errsz)
{
	return change_state(p, m, set_due, &when, err, errsz);
}

time_t
pool_paused(const struct pool *p)
{
	return p->paused;
}

time_t
pool_age(const struct pool *p, const struct pool_msg *m, time_t now)
{
	time_t age = now - m->pooled - m->frozen;

	/* a pause going on counts too, from when the message came */
	if (p->paused != 0)
		age -= now - (p->paused > m->pooled ? p->paused : m->pooled);
	return age < 0 ? 0 : age;
}

static void
add_frozen(json_t *st, void *arg)
{
	const time_t *a = arg;	/* now, paused since */
	json_int_t pooled = json_integer_value(json_object_get(st,
	    "pooled_at"));
	json_int_t from = a[1] > pooled ? a[1] : pooled;
	json_int_t f = json_integer_value(json_object_get(st, "frozen"));

	if (a[0] > from)
		f += a[0] - from;
	json_object_set_new(st, "frozen", json_integer(f));
}

int
pool_pause(struct pool *p, const char *route, int on, time_t now,
    char *err, size_t errsz)
{
	char path[PATH_MAX], buf[32];
	struct pool_msg *m;
	time_t a[2];

	if (strcmp(route, POOL_ROUTE) != 0) {
		seterr(err, errsz, "no route %s", route);
		errno = ENOENT;
		return -1;
	}
	if (path3(path, sizeof(path), p->dir, "pause", POOL_ROUTE) == -1) {
		seterr(err, errsz, "%s/pause: %s", p->dir, strerror(errno));
		return -1;
	}
	if (on) {
		if (p->paused != 0)
			return 0;
		snprintf(path, sizeof(path), "%s/pause", p->dir);
		if (mkdir(path, 0700) == -1 && errno != EEXIST) {
			seterr(err, errsz, "mkdir %s: %s", path,
			    strerror(errno));
			return -1;
		}
		snprintf(buf, sizeof(buf), "%lld\n", (long long)now);
		if (write_file(p, p->dir, "pause", POOL_ROUTE, buf, strlen(buf),
		    1, err, errsz) == -1)
			return -1;
		p->paused = now;
		return 0;
	}
	if (p->paused == 0)
		return 0;
	/* the time paused into each state first: a crash before the file
	 * goes only pauses longer */
	a[0] = now;
	a[1] = p->paused;
	for (m = p->head; m != NULL; m = m->next_msg)
		if (change_state(p, m, add_frozen, a, err, errsz) == -1)
			return -1;
	if (unlink(path) == -1 && errno != ENOENT) {
		seterr(err, errsz, "unlink %s: %s", path, strerror(errno));
		return -1;
	}
	if (fsync_dir(p->dir, "pause") == -1) {
		seterr(err, errsz, "fsync %s/pause: %s", p->dir,
		    strerror(errno));
		return -1;
	}
	p->paused = 0;
	return 0;
}

int
pool_unquarantine(struct pool *p, const char *qdir, const char *id,
    time_t when, struct pool_msg **mp, char *err, size_t errsz)
{
	char src[PATH_MAX], dst[PATH_MAX], *raw;
	struct pool_msg *m;
	struct stat sb;
	json_t *st;
	size_t len;
	int r;

	if (!valid_id(id)) {
		seterr(err, errsz, "bad id");
		errno = EINVAL;
		return -1;
	}
	if (pool_get(p, id) != NULL) {
		seterr(err, errsz, "%s: already in the pool", id);
		errno = EEXIST;
		return -1;
	}
	if (path3(src, sizeof(src), qdir, "new", id) == -1 ||
	    path3(dst, sizeof(dst), p->dir, "new", id) == -1) {
		seterr(err, errsz, "%s: name too long", id);
		return -1;
	}
	if (lstat(src, &sb) == -1) {
		seterr(err, errsz, "%s: not in the quarantine", id);
		errno = ENOENT;
		return -1;
	}
	if ((st = pool_state_at(qdir, id, err, errsz)) == NULL)
		return -1;
	json_object_del(st, "reason");
	json_object_set_new(st, "held", json_false());
	json_object_set_new(st, "released", json_true());
	json_object_set_new(st, "next", json_integer(when));
	json_object_set_new(json_object_get(st, "record"), "path",
	    json_string(dst));
	m = xcalloc(1, sizeof(*m));
	snprintf(m->id, sizeof(m->id), "%s", id);
	m->size = (unsigned long long)sb.st_size;
	/* as pool_add: the state, then the message */
	if (pool_state_write(p, m, st, err, errsz) == -1)
		goto fail;
	if (link(src, dst) == -1) {
		if (errno != EXDEV && errno != EEXIST) {
			seterr(err, errsz, "link %s to %s: %s", src, dst,
			    strerror(errno));
			goto fail;
		}
		if (errno == EXDEV) {
			raw = read_file(src, (size_t)LIMIT_POOL_MESSAGE +
			    LIMIT_POOL_ADD * (LIMIT_POOL_FIELD + 80), &len,
			    err, errsz);
			if (raw == NULL)
				goto fail;
			r = write_file(p, p->dir, "new", id, raw, len, 0, err,
			    errsz);
			free(raw);
			if (r == -1)
				goto fail;
		}
	}
	if (fsync_dir(p->dir, "new") == -1) {
		seterr(err, errsz, "fsync %s/new: %s", p->dir, strerror(errno));
		goto fail;
	}
	index_add(p, m);
	json_decref(st);
	*mp = m;
	/* in the pool for good: the quarantine's copy may go */
	if (pool_unlink_quarantined(qdir, id, err, errsz) == -1)
		log_warn("%s: %s", id, err);
	return 0;
fail:
	if (state_path(p, id, src, sizeof(src)) == 0)
		unlink(src);
	free(m);
	json_decref(st);
	return -1;
}

int
pool_unlink_quarantined(const char *qdir, const char *id, char *err,
    size_t errsz)
{
	char path[PATH_MAX];

	if (!valid_id(id)) {
		seterr(err, errsz, "bad id");
		errno = EINVAL;
		return -1;
	}
	if (path3(path, sizeof(path), qdir, "new", id) == -1 ||
	    unlink(path) == -1) {
		int e = errno;

		if (e == ENOENT)
			seterr(err, errsz, "%s: not in the quarantine", id);
		else
			seterr(err, errsz, "unlink %s: %s", path, strerror(e));
		errno = e;
		return -1;
	}
	if (fsync_dir(qdir, "new") == -1) {
		seterr(err, errsz, "fsync %s/new: %s", qdir, strerror(errno));
		return -1;
	}
	if (path3(path, sizeof(path), qdir, "state", id) == 0)
		unlink(path);
	return 0;
}
