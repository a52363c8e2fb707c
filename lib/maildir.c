#define _GNU_SOURCE	/* renameat2 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "limit.h"
#include "maildir.h"
#include "xalloc.h"

struct maildir {
	char *path;
	int tmpfd;		/* directory fds, for *at() calls and fsync */
	int newfd;
	char host[128];		/* escaped host name for unique names */
	int tmpfile;		/* O_TMPFILE in new/ and linkat work here */
	pid_t pid;		/* of the process that opened it */
	uint64_t counter;	/* atomic */

	/* Group commit of new/: links are numbered; an fsync that started
	 * after link N makes links up to N durable. */
	pthread_mutex_t mu;
	pthread_cond_t cv;
	uint64_t linked;	/* number of the last link */
	uint64_t synced;	/* links durable up to this number */
	int syncing;		/* an fsync of new/ is running */
	int syncerr;		/* errno of the last failed fsync, or 0 */
};

static int
mkdir_if(const char *path)
{
	if (mkdir(path, 0700) == -1 && errno != EEXIST)
		return -1;
	return 0;
}

int
maildir_make(const char *dir)
{
	static const char *const subs[] = { "tmp", "new", "cur" };
	char path[4096];
	size_t i;

	if (mkdir_if(dir) == -1)
		return -1;
	for (i = 0; i < 3; i++) {
		if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir,
		    subs[i]) >= sizeof(path)) {
			errno = ENAMETOOLONG;
			return -1;
		}
		if (mkdir_if(path) == -1)
			return -1;
	}
	return 0;
}

static void
escape_host(char *dst, size_t size)
{
	char raw[64], *o = dst;
	size_t i;

	if (gethostname(raw, sizeof(raw)) == -1)
		strcpy(raw, "localhost");
	raw[sizeof(raw) - 1] = '\0';
	for (i = 0; raw[i] != '\0' && (size_t)(o - dst) + 5 < size; i++) {
		if (raw[i] == '/') {
			memcpy(o, "\\057", 4);
			o += 4;
		} else if (raw[i] == ':') {
			memcpy(o, "\\072", 4);
			o += 4;
		} else
			*o++ = raw[i];
	}
	*o = '\0';
}

static int
opendir_fd(const char *dir, const char *sub)
{
	char path[4096];

	if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, sub) >=
	    sizeof(path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
}

/* Give the unnamed file fd the name name in new/: through /proc, which
 * any user may do (AT_EMPTY_PATH would need CAP_DAC_READ_SEARCH). */
static int
link_tmpfile(struct maildir *md, int fd, const char *name)
{
	char proc[64];

	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
	return linkat(AT_FDCWD, proc, md->newfd, name, AT_SYMLINK_FOLLOW);
}

/*
 * Can files be made unnamed in new/ (O_TMPFILE) and named there later?
 * On ext4 here that commits about half again as many messages a second
 * as a name in tmp/ renamed into new/: one directory operation a
 * message, not two.  Not every filesystem can (NFS), and the naming
 * needs /proc: try once, with a name no reader looks at.
 */
static int
probe_tmpfile(struct maildir *md)
{
	char name[64];
	int fd, ok;

	fd = openat(md->newfd, ".", O_TMPFILE | O_WRONLY | O_CLOEXEC, 0600);
	if (fd == -1)
		return 0;
	snprintf(name, sizeof(name), ".probe.%ld", (long)getpid());
	unlinkat(md->newfd, name, 0);
	ok = link_tmpfile(md, fd, name) == 0;
	if (ok)
		unlinkat(md->newfd, name, 0);
	close(fd);
	return ok;
}

struct maildir *
maildir_open(const char *dir, int create)
{
	struct maildir *md;
	int e;

	if (create && maildir_make(dir) == -1)
		return NULL;
	md = xcalloc(1, sizeof(*md));
	md->path = xstrdup(dir);
	md->tmpfd = md->newfd = -1;
	if ((md->tmpfd = opendir_fd(dir, "tmp")) == -1 ||
	    (md->newfd = opendir_fd(dir, "new")) == -1)
		goto fail;
	escape_host(md->host, sizeof(md->host));
	md->tmpfile = probe_tmpfile(md);
	md->pid = getpid();
	pthread_mutex_init(&md->mu, NULL);
	pthread_cond_init(&md->cv, NULL);
	return md;
fail:
	e = errno;
	if (md->tmpfd != -1)
		close(md->tmpfd);
	free(md->path);
	free(md);
	errno = e;
	return NULL;
}

void
maildir_close(struct maildir *md)
{
	if (md == NULL)
		return;
	close(md->tmpfd);
	close(md->newfd);
	pthread_mutex_destroy(&md->mu);
	pthread_cond_destroy(&md->cv);
	free(md->path);
	free(md);
}

const char *
maildir_path(const struct maildir *md)
{
	return md->path;
}

void
maildir_use_tmp(struct maildir *md)
{
	md->tmpfile = 0;
}

int
maildir_unique(struct maildir *md, char *buf, size_t size)
{
	struct timeval tv;
	uint64_t q;

	gettimeofday(&tv, NULL);
	q = __atomic_add_fetch(&md->counter, 1, __ATOMIC_RELAXED);
	if ((size_t)snprintf(buf, size, "%lld.M%06ldP%ldQ%llu.%s",
	    (long long)tv.tv_sec, (long)tv.tv_usec, (long)md->pid,
	    (unsigned long long)q, md->host) >= size) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return 0;
}

int
maildir_create(struct maildir *md, struct maildir_file *f)
{
	int i;

	f->md = md;
	f->fd = -1;
	f->unnamed = 0;
	if (md->tmpfile) {
		if (maildir_unique(md, f->name, sizeof(f->name)) == -1)
			return -1;
		f->fd = openat(md->newfd, ".", O_TMPFILE | O_WRONLY |
		    O_CLOEXEC, 0600);
		if (f->fd == -1)
			return -1;
		f->unnamed = 1;
		return 0;
	}
	for (i = 0; i < LIMIT_MAILDIR_TRIES; i++) {
		if (maildir_unique(md, f->name, sizeof(f->name)) == -1)
			return -1;
		f->fd = openat(md->tmpfd, f->name,
		    O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
		if (f->fd != -1)
			return 0;
		if (errno != EEXIST)
			return -1;
	}
	errno = EEXIST;
	return -1;
}

int
maildir_write(struct maildir_file *f, const void *buf, size_t n)
{
	const char *p = buf;
	ssize_t w;

	while (n > 0) {
		w = write(f->fd, p, n);
		if (w == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

void
maildir_abort(struct maildir_file *f)
{
	int e = errno;

	if (f->fd != -1)
		close(f->fd);
	f->fd = -1;
	/* an unnamed file goes with its last descriptor */
	if (!f->unnamed)
		unlinkat(f->md->tmpfd, f->name, 0);
	errno = e;
}

/* fsync new/ so that every link numbered up to seq is durable. */
static int
sync_new(struct maildir *md, uint64_t seq)
{
	uint64_t upto;
	int err = 0;

	pthread_mutex_lock(&md->mu);
	while (md->synced < seq) {
		if (md->syncing) {
			pthread_cond_wait(&md->cv, &md->mu);
			continue;
		}
		/* Our fsync covers every link numbered so far. */
		upto = md->linked;
		md->syncing = 1;
		pthread_mutex_unlock(&md->mu);
		err = fsync(md->newfd) == -1 ? errno : 0;
		pthread_mutex_lock(&md->mu);
		md->syncing = 0;
		if (err == 0 && upto > md->synced)
			md->synced = upto;
		pthread_cond_broadcast(&md->cv);
		if (err != 0)
			break;
	}
	pthread_mutex_unlock(&md->mu);
	if (err != 0) {
		errno = err;
		return -1;
	}
	return 0;
}

int
maildir_commit(struct maildir_file *f)
{
	struct maildir *md = f->md;
	uint64_t seq;
	int fd = f->fd, e;

	f->fd = -1;
	/* The data must be on disk before any name points at it. */
	if (fsync(fd) == -1) {
		e = errno;
		close(fd);
		goto fail_tmp;
	}
	if (f->unnamed) {
		/* linkat never replaces a name that exists */
		if (link_tmpfile(md, fd, f->name) == -1) {
			e = errno;
			close(fd);
			goto fail_tmp;
		}
		if (close(fd) == -1) {
			e = errno;
			unlinkat(md->newfd, f->name, 0);
			goto fail_tmp;
		}
	} else {
		if (close(fd) == -1) {
			e = errno;
			goto fail_tmp;
		}
		/* Into new/ without ever replacing a message there: rename
		 * with RENAME_NOREPLACE; where the filesystem lacks it,
		 * link, which never replaces either, and unlink. */
		if (renameat2(md->tmpfd, f->name, md->newfd, f->name,
		    RENAME_NOREPLACE) == -1) {
			if (errno != EINVAL && errno != ENOSYS) {
				e = errno;
				goto fail_tmp;
			}
			if (linkat(md->tmpfd, f->name, md->newfd, f->name,
			    0) == -1) {
				e = errno;
				goto fail_tmp;
			}
			/* should the tmp name survive a crash, it is a
			 * second name of a stored message, removed after
			 * 36 hours */
			unlinkat(md->tmpfd, f->name, 0);
		}
	}
	pthread_mutex_lock(&md->mu);
	seq = ++md->linked;
	pthread_mutex_unlock(&md->mu);
	/* Only now is the new/ entry itself durable. */
	if (sync_new(md, seq) == -1) {
		e = errno;
		unlinkat(md->newfd, f->name, 0);
		errno = e;
		return -1;
	}
	return 0;
fail_tmp:
	if (!f->unnamed)
		unlinkat(md->tmpfd, f->name, 0);
	errno = e;
	return -1;
}

int
maildir_reopen(const struct maildir_file *f)
{
	char proc[64];

	if (f->unnamed) {
		snprintf(proc, sizeof(proc), "/proc/self/fd/%d", f->fd);
		return open(proc, O_RDONLY | O_CLOEXEC);
	}
	return openat(f->md->tmpfd, f->name, O_RDONLY | O_CLOEXEC);
}

int
maildir_deliver(struct maildir *md, const void *buf, size_t n, char *name)
{
	struct maildir_file f;

	if (maildir_create(md, &f) == -1)
		return -1;
	if (maildir_write(&f, buf, n) == -1) {
		maildir_abort(&f);
		return -1;
	}
	if (maildir_commit(&f) == -1)
		return -1;
	if (name != NULL)
		memcpy(name, f.name, strlen(f.name) + 1);
	return 0;
}

static int
cmpstr(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The names in dir/sub not starting with ".", sorted; NULL-terminated
 * array into *out, each name and the array to be freed by the caller. */
static int
read_names(const char *dir, const char *sub, char ***out, size_t *count)
{
	char path[4096];
	char **v = NULL;
	size_t n = 0, cap = 0;
	struct dirent *de;
	DIR *d;

	if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, sub) >=
	    sizeof(path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	if ((d = opendir(path)) == NULL)
		return -1;
	for (;;) {
		errno = 0;
		if ((de = readdir(d)) == NULL)
			break;
		if (de->d_name[0] == '.')
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 64;
			v = xreallocarray(v, cap, sizeof(*v));
		}
		v[n++] = xstrdup(de->d_name);
	}
	if (errno != 0) {
		int e = errno;

		closedir(d);
		while (n > 0)
			free(v[--n]);
		free(v);
		errno = e;
		return -1;
	}
	closedir(d);
	if (n > 0)
		qsort(v, n, sizeof(*v), cmpstr);
	*out = v;
	*count = n;
	return 0;
}

int
maildir_list(const char *dir,
    int (*fn)(void *arg, const char *sub, const char *name), void *arg)
{
	static const char *const subs[] = { "new", "cur" };
	char **v;
	size_t n, i, j;
	int r = 0;

	for (i = 0; i < 2; i++) {
		if (read_names(dir, subs[i], &v, &n) == -1)
			return -1;
		for (j = 0; j < n; j++) {
			if (r == 0)
				r = fn(arg, subs[i], v[j]);
			free(v[j]);
		}
		free(v);
		if (r != 0)
			return r;
	}
	return 0;
}

int
maildir_clean_tmp(const char *dir, time_t age)
{
	char **v;
	size_t n, i;
	struct stat st;
	time_t now = time(NULL);
	int fd, count = 0;

	if ((fd = opendir_fd(dir, "tmp")) == -1)
		return -1;
	if (read_names(dir, "tmp", &v, &n) == -1) {
		int e = errno;

		close(fd);
		errno = e;
		return -1;
	}
	for (i = 0; i < n; i++) {
		if (fstatat(fd, v[i], &st, AT_SYMLINK_NOFOLLOW) == 0 &&
		    S_ISREG(st.st_mode) && now - st.st_mtime > age &&
		    unlinkat(fd, v[i], 0) == 0)
			count++;
		free(v[i]);
	}
	free(v);
	close(fd);
	return count;
}

int
maildir_id(const char *name, char *id, size_t size)
{
	size_t n = strcspn(name, ":,");

	/* The id ends at the flags, ":2,..." (or ",..." where ":" is not
	 * allowed in names, as some maildir tools write). */
	if (n == 0 || n >= size || strchr(name, '/') != NULL) {
		errno = EINVAL;
		return -1;
	}
	memcpy(id, name, n);
	id[n] = '\0';
	return 0;
}
