/*
 * mail-ls: list maildirs and message files as records; with --follow,
 * keep listing what arrives.  See mail-ls(1).
 *
 * The record of a file comes from envelope_read and envelope_record, the
 * code smtp-accept builds its own records with, so the record of a stored
 * message is the one smtp-accept printed when it took the message.
 */
#define _GNU_SOURCE	/* ppoll */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "envelope.h"
#include "limit.h"
#include "log.h"
#include "maildir.h"
#include "opts.h"
#include "record.h"
#include "xalloc.h"

static const char synopsis[] =
    "mail-ls [--follow] [--new-only] [--interval SECONDS] [--max-ids N] "
    "PATH...";

enum { O_FOLLOW = 256, O_NEW_ONLY, O_INTERVAL, O_MAX_IDS, O_HELP };

static const struct option longopts[] = {
	{ "follow", no_argument, NULL, O_FOLLOW },
	{ "new-only", no_argument, NULL, O_NEW_ONLY },
	{ "interval", required_argument, NULL, O_INTERVAL },
	{ "max-ids", required_argument, NULL, O_MAX_IDS },
	{ "help", no_argument, NULL, O_HELP },
	{ NULL, 0, NULL, 0 }
};

static volatile sig_atomic_t stop;	/* SIGTERM or SIGINT caught */
static volatile sig_atomic_t hup;	/* SIGHUP: rescan now */

/*
 * The ids already listed (or reported as unreadable), in a hash table
 * and in insertion order.  A rescan marks every id it meets with its
 * generation; after a complete rescan the ids of files no longer in any
 * maildir are dropped, so the set holds about what the maildirs hold.
 */
struct seen_entry {
	struct seen_entry *hnext;		/* bucket chain */
	struct seen_entry *older, *newer;	/* insertion order */
	unsigned long gen;	/* the last listing that met the file */
	int failed;		/* reported as unreadable, not listed */
	int alias;		/* the id in the relay block of a copy under
				 * another name: no file of this name met */
	char id[];
};

struct seen {
	struct seen_entry **bucket;
	size_t nbucket, n, max;
	struct seen_entry *oldest, *newest;
	unsigned long gen;
	int evicted;
};

struct arg {
	const char *name;	/* as given, for messages */
	char *real;		/* absolute, for records; NULL if unusable */
	int maildir;
	int wd[2];		/* inotify watches of new/ and cur/ */
};

struct ls {
	int follow, new_only;
	long long interval;
	struct seen seen;
	struct arg *args;
	size_t nargs;
	int ifd;		/* inotify, -1 without --follow */
	int status;		/* exit status so far: 0, 100 or 111 */
};

static const char *const subs[2] = { "new", "cur" };

static uint64_t
hash(const char *s)
{
	uint64_t h = 14695981039346656037ULL;	/* FNV-1a */

	for (; *s != '\0'; s++) {
		h ^= (unsigned char)*s;
		h *= 1099511628211ULL;
	}
	return h;
}

static struct seen_entry *
seen_find(const struct seen *s, const char *id)
{
	struct seen_entry *e;

	if (s->nbucket == 0)
		return NULL;
	for (e = s->bucket[hash(id) % s->nbucket]; e != NULL; e = e->hnext)
		if (strcmp(e->id, id) == 0)
			return e;
	return NULL;
}

static void
seen_remove(struct seen *s, struct seen_entry *e)
{
	struct seen_entry **p;

	for (p = &s->bucket[hash(e->id) % s->nbucket]; *p != e;
	    p = &(*p)->hnext)
		;
	*p = e->hnext;
	if (e->older != NULL)
		e->older->newer = e->newer;
	else
		s->oldest = e->newer;
	if (e->newer != NULL)
		e->newer->older = e->older;
	else
		s->newest = e->older;
	free(e);
	s->n--;
}

static void
seen_rehash(struct seen *s, size_t nbucket)
{
	struct seen_entry *e;
	size_t b;

	free(s->bucket);
	s->bucket = xcalloc(nbucket, sizeof(*s->bucket));
	s->nbucket = nbucket;
	for (e = s->oldest; e != NULL; e = e->newer) {
		b = hash(e->id) % nbucket;
		e->hnext = s->bucket[b];
		s->bucket[b] = e;
	}
}

/* Remember id (not yet in the set); the oldest goes when it is full. */
static struct seen_entry *
seen_add(struct seen *s, const char *id, int failed)
{
	struct seen_entry *e;
	size_t len = strlen(id), b;

	if (s->n >= s->max) {
		seen_remove(s, s->oldest);
		s->evicted = 1;
	}
	if (s->n >= s->nbucket && s->nbucket < SIZE_MAX / 2)
		seen_rehash(s, s->nbucket ? s->nbucket * 2 : 1024);
	e = xmalloc(sizeof(*e) + len + 1);
	memcpy(e->id, id, len + 1);
	e->gen = s->gen;
	e->failed = failed;
	e->alias = 0;
	b = hash(id) % s->nbucket;
	e->hnext = s->bucket[b];
	s->bucket[b] = e;
	e->newer = NULL;
	e->older = s->newest;
	if (s->newest != NULL)
		s->newest->newer = e;
	else
		s->oldest = e;
	s->newest = e;
	s->n++;
	return e;
}

/* Forget the ids the listing of generation gen did not meet. */
static void
seen_sweep(struct seen *s, unsigned long gen)
{
	struct seen_entry *e, *next;

	for (e = s->oldest; e != NULL; e = next) {
		next = e->newer;
		if (e->gen != gen)
			seen_remove(s, e);
	}
}

static void
seen_free(struct seen *s)
{
	struct seen_entry *e, *next;

	for (e = s->oldest; e != NULL; e = next) {
		next = e->newer;
		free(e);
	}
	free(s->bucket);
	memset(s, 0, sizeof(*s));
}

static void
set_status(struct ls *ls, int code)
{
	if (code > ls->status)
		ls->status = code;
}

/*
 * A message that cannot be listed: report it, unless it was reported
 * before in this run (a follower retries it at each rescan; one line is
 * enough), and remember it.
 */
static void __attribute__((format(printf, 5, 6)))
fail(struct ls *ls, struct seen_entry *e, const char *key, int code,
    const char *fmt, ...)
{
	char buf[LOG_LINE_MAX];
	va_list ap;

	set_status(ls, code);
	if (e != NULL)
		return;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	log_info("%s", buf);
	if (key != NULL)
		seen_add(&ls->seen, key, 1);
}

/*
 * List one message file.  In a maildir (key set: the id its name gives)
 * a listed id is skipped without reading the file, and a file gone
 * before we read it has been moved on by another stage: nothing to say.
 * A file named on the command line (key NULL) is always read, and its
 * errors are always reported; shown is the name to report it under.
 */
static void
list_file(struct ls *ls, const char *path, const char *shown,
    const char *key)
{
	struct envelope env;
	struct seen_entry *e = NULL, *alias;
	struct stat st;
	json_t *rec;
	char why[256];
	int r;

	if (key != NULL && (e = seen_find(&ls->seen, key)) != NULL) {
		e->gen = ls->seen.gen;
		if (e->alias) {
			/* met as a copy first: that one was listed */
			e->alias = 0;
			log_warn("%s: id %s already listed: not listed again",
			    shown, key);
			return;
		}
		if (!e->failed)
			return;
	}
	if (stat(path, &st) == -1) {
		if (errno != ENOENT || key == NULL)
			fail(ls, e, key, 111, "%s: %s", shown,
			    strerror(errno));
		return;
	}
	/* Opening a FIFO would wait for a writer forever. */
	if (!S_ISREG(st.st_mode)) {
		fail(ls, e, key, 100, "%s: not a regular file", shown);
		return;
	}
	envelope_init(&env);
	if (envelope_read(&env, path, why, sizeof(why)) == -1) {
		if (errno == EINVAL && why[0] != '\0')
			fail(ls, e, key, 100, "%s: %s", shown, why);
		else if (errno != ENOENT || key == NULL)
			fail(ls, e, key, 111, "%s: %s", shown,
			    strerror(errno));
		envelope_clear(&env);
		return;
	}
	/* A copy of a message under another name: one id, one record. */
	if (key != NULL && strcmp(env.id, key) != 0 &&
	    (alias = seen_find(&ls->seen, env.id)) != NULL && !alias->failed) {
		log_warn("%s: id %s already listed: not listed again", shown,
		    env.id);
		alias->gen = ls->seen.gen;
	} else {
		rec = envelope_record(&env);
		r = record_write(stdout, rec);
		json_decref(rec);
		if (r == -1) {
			envelope_clear(&env);
			die_temp("write stdout: %s", strerror(errno));
		}
	}
	if (key != NULL) {
		if (e != NULL)
			e->failed = 0;
		else
			seen_add(&ls->seen, key, 0);
		if (strcmp(env.id, key) != 0 &&
		    seen_find(&ls->seen, env.id) == NULL)
			seen_add(&ls->seen, env.id, 0)->alias = 1;
	}
	envelope_clear(&env);
}

/* The message name in sub/ of a maildir. */
static void
list_name(struct ls *ls, const struct arg *a, int sub, const char *name)
{
	char path[PATH_MAX], key[MAILDIR_NAME_MAX];

	if (maildir_id(name, key, sizeof(key)) == -1)
		snprintf(key, sizeof(key), "%s", name);
	if ((size_t)snprintf(path, sizeof(path), "%s/%s/%s", a->real,
	    subs[sub], name) >= sizeof(path)) {
		fail(ls, seen_find(&ls->seen, key), key, 111, "%s/%s/%s: %s",
		    a->real, subs[sub], name, strerror(ENAMETOOLONG));
		return;
	}
	list_file(ls, path, path, key);
}

struct listing {
	struct ls *ls;
	const struct arg *a;
};

static int
list_one(void *arg, const char *sub, const char *name)
{
	struct listing *l = arg;
	int s = strcmp(sub, "new") == 0 ? 0 : 1;

	if (stop)
		return 1;
	/* maildir_list reads both; --new-only wants the first */
	if (s == 1 && l->ls->new_only)
		return 1;
	list_name(l->ls, l->a, s, name);
	return 0;
}

/* List a maildir; 0, or -1 (reported) when it could not be read. */
static int
list_maildir(struct ls *ls, const struct arg *a)
{
	struct listing l = { ls, a };

	if (maildir_list(a->real, list_one, &l) == -1) {
		log_info("list %s: %s", a->name, strerror(errno));
		set_status(ls, 111);
		return -1;
	}
	return 0;
}

/*
 * What an argument is: a maildir (a directory with new/ and cur/) or a
 * message file.  0, or -1 (reported, status set) when it is neither.
 */
static int
classify(struct ls *ls, struct arg *a)
{
	char real[PATH_MAX], sub[PATH_MAX];
	struct stat st;
	int i;

	if (realpath(a->name, real) == NULL || stat(real, &st) == -1) {
		log_info("%s: %s", a->name, strerror(errno));
		set_status(ls, 111);
		return -1;
	}
	if (S_ISDIR(st.st_mode)) {
		for (i = 0; i < 2; i++) {
			if ((size_t)snprintf(sub, sizeof(sub), "%s/%s", real,
			    subs[i]) >= sizeof(sub))
				errno = ENAMETOOLONG;
			else if (stat(sub, &st) == 0)
				errno = S_ISDIR(st.st_mode) ? 0 : ENOTDIR;
			if (errno != 0) {
				log_info("%s/%s: %s", a->name, subs[i],
				    strerror(errno));
				set_status(ls, 111);
				return -1;
			}
		}
		a->maildir = 1;
	} else if (!S_ISREG(st.st_mode)) {
		log_info("%s: not a regular file or maildir", a->name);
		set_status(ls, 100);
		return -1;
	}
	a->real = xstrdup(real);
	return 0;
}

static void
watch(struct ls *ls, struct arg *a)
{
	char path[PATH_MAX];
	int i;

	for (i = 0; i < (ls->new_only ? 1 : 2); i++) {
		/* classify checked the length */
		snprintf(path, sizeof(path), "%s/%s", a->real, subs[i]);
		/* new/ gets a message by link(2) (IN_CREATE) or rename(2)
		 * (IN_MOVED_TO); cur/ when a reader moves one there */
		a->wd[i] = inotify_add_watch(ls->ifd, path, IN_CREATE |
		    IN_MOVED_TO | IN_DELETE_SELF | IN_MOVE_SELF | IN_ONLYDIR);
		if (a->wd[i] == -1)
			die_temp("watch %s: %s", path, strerror(errno));
	}
}

/*
 * List every maildir again: the safety net for events inotify lost.
 * Maildirs were checked at start; one that cannot be listed now has gone
 * away under us, and a follower that cannot see its spool must say so
 * and let its supervisor retry.
 */
static void
rescan(struct ls *ls)
{
	size_t i;

	ls->seen.gen++;
	for (i = 0; i < ls->nargs && !stop; i++)
		if (ls->args[i].maildir && list_maildir(ls, &ls->args[i]) == -1)
			exit(111);
	if (!stop)
		seen_sweep(&ls->seen, ls->seen.gen);
}

/* Read what inotify has; *again set on a queue overflow. */
static void
read_events(struct ls *ls, int *again)
{
	char buf[65536]
	    __attribute__((aligned(__alignof__(struct inotify_event))));
	const struct inotify_event *ev;
	const struct arg *a;
	ssize_t n;
	char *p;
	size_t i;
	int s;

	while (!stop) {
		n = read(ls->ifd, buf, sizeof(buf));
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && errno == EAGAIN)
			return;
		if (n <= 0)
			die_temp("read inotify: %s", n == 0 ? "end of file" :
			    strerror(errno));
		for (p = buf; p < buf + n && !stop;
		    p += sizeof(*ev) + ev->len) {
			ev = (const struct inotify_event *)(void *)p;
			if (ev->mask & IN_Q_OVERFLOW) {
				*again = 1;
				continue;
			}
			for (a = NULL, s = 0, i = 0; i < ls->nargs; i++) {
				if (!ls->args[i].maildir)
					continue;
				s = ev->wd == ls->args[i].wd[0] ? 0 :
				    ev->wd == ls->args[i].wd[1] ? 1 : -1;
				if (s != -1) {
					a = &ls->args[i];
					break;
				}
			}
			if (a == NULL)
				continue;
			if (ev->mask & (IN_DELETE_SELF | IN_MOVE_SELF |
			    IN_IGNORED | IN_UNMOUNT))
				die_temp("watch %s/%s: directory went away",
				    a->real, subs[s]);
			if ((ev->mask & IN_ISDIR) || ev->len == 0 ||
			    ev->name[0] == '.' || ev->name[0] == '\0')
				continue;
			list_name(ls, a, s, ev->name);
		}
	}
}

static void
follow(struct ls *ls)
{
	struct timespec now, next, left;
	struct pollfd pfd;
	sigset_t block, old;
	int r, e, again = 0;

	pfd.fd = ls->ifd;
	pfd.events = POLLIN;
	sigemptyset(&block);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGHUP);
	clock_gettime(CLOCK_MONOTONIC, &next);
	next.tv_sec += ls->interval;
	while (!stop) {
		clock_gettime(CLOCK_MONOTONIC, &now);
		left.tv_sec = next.tv_sec - now.tv_sec;
		left.tv_nsec = next.tv_nsec - now.tv_nsec;
		if (left.tv_nsec < 0) {
			left.tv_nsec += 1000000000L;
			left.tv_sec--;
		}
		if (left.tv_sec < 0 || again || hup)
			left.tv_sec = left.tv_nsec = 0;
		/* Signals are let in only inside ppoll: one that comes
		 * after the test of stop still ends the wait. */
		sigprocmask(SIG_BLOCK, &block, &old);
		if (stop) {
			sigprocmask(SIG_SETMASK, &old, NULL);
			break;
		}
		r = ppoll(&pfd, 1, &left, &old);
		e = errno;
		sigprocmask(SIG_SETMASK, &old, NULL);
		if (r == -1 && e != EINTR)
			die_temp("poll: %s", strerror(e));
		if (r > 0)
			read_events(ls, &again);
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (!stop && (again || hup || now.tv_sec > next.tv_sec ||
		    (now.tv_sec == next.tv_sec &&
		    now.tv_nsec >= next.tv_nsec))) {
			again = 0;
			hup = 0;
			rescan(ls);
			if (ls->seen.evicted) {
				log_warn("--max-ids %zu reached: records may "
				    "repeat", ls->seen.max);
				ls->seen.evicted = 0;
			}
			clock_gettime(CLOCK_MONOTONIC, &next);
			next.tv_sec += ls->interval;
		}
	}
}

static void
on_signal(int sig)
{
	if (sig == SIGHUP)
		hup = 1;
	else
		stop = sig;
}

static void
catch(int sig)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	/* a write to a slow pipe resumes; ppoll returns EINTR anyway */
	sa.sa_flags = SA_RESTART;
	sigemptyset(&sa.sa_mask);
	if (sigaction(sig, &sa, NULL) == -1)
		die_temp("sigaction: %s", strerror(errno));
}

int
main(int argc, char *argv[])
{
	struct ls ls;
	size_t i;
	int ch, bad = 0, nmaildir = 0, sig;

	prog_init("mail-ls");
	opts_set_usage(synopsis);
	memset(&ls, 0, sizeof(ls));
	ls.interval = LIMIT_LS_INTERVAL;
	ls.seen.max = LIMIT_LS_IDS;
	ls.ifd = -1;
	opterr = 0;	/* getopt's own lines would not be "mail-ls: ..." */
	while ((ch = getopt_long(argc, argv, ":", longopts, NULL)) != -1) {
		switch (ch) {
		case O_FOLLOW: ls.follow = 1; break;
		case O_NEW_ONLY: ls.new_only = 1; break;
		case O_INTERVAL:
			ls.interval = opts_duration("interval", optarg, 1,
			    86400);
			break;
		case O_MAX_IDS:
			ls.seen.max = (size_t)opts_num("max-ids", optarg, 1,
			    100000000);
			break;
		case O_HELP:
			printf("usage: %s\n", synopsis);
			return 0;
		case ':':
			opts_usage("%s: missing argument", argv[optind - 1]);
		default:
			if (optopt != 0 && optopt < 256)
				opts_usage("unknown option: -%c", optopt);
			opts_usage("bad option: %s", argv[optind - 1]);
		}
	}
	if (optind == argc)
		opts_usage("no PATH given");

	/* A record is written whole: a signal ends the run between two.
	 * A reader gone from a pipe is a write error like any other. */
	catch(SIGTERM);
	catch(SIGINT);
	if (ls.follow)
		catch(SIGHUP);
	signal(SIGPIPE, SIG_IGN);

	ls.nargs = (size_t)(argc - optind);
	ls.args = xcalloc(ls.nargs, sizeof(*ls.args));
	for (i = 0; i < ls.nargs; i++) {
		ls.args[i].name = argv[optind + (int)i];
		ls.args[i].wd[0] = ls.args[i].wd[1] = -1;
		if (classify(&ls, &ls.args[i]) == -1)
			bad = 1;
		else
			nmaildir += ls.args[i].maildir;
	}
	if (ls.follow) {
		/* A follower that cannot follow all it was told to is
		 * misconfigured: stop before listing anything. */
		if (bad)
			exit(ls.status);
		if (nmaildir == 0)
			opts_usage("--follow needs a maildir");
		/* Watch first, then list: what arrives in between is seen
		 * twice and listed once. */
		if ((ls.ifd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC)) == -1)
			die_temp("inotify: %s", strerror(errno));
		for (i = 0; i < ls.nargs; i++)
			if (ls.args[i].maildir)
				watch(&ls, &ls.args[i]);
	}

	ls.seen.gen = 1;
	for (i = 0; i < ls.nargs && !stop; i++) {
		if (ls.args[i].real == NULL)
			continue;
		if (ls.args[i].maildir) {
			if (list_maildir(&ls, &ls.args[i]) == -1 && ls.follow)
				exit(111);
		} else
			list_file(&ls, ls.args[i].real, ls.args[i].name, NULL);
	}
	if (ls.follow) {
		follow(&ls);
		ls.status = 0;
		if (close(ls.ifd) == -1)
			die_temp("close inotify: %s", strerror(errno));
	}

	sig = stop;
	seen_free(&ls.seen);
	for (i = 0; i < ls.nargs; i++)
		free(ls.args[i].real);
	free(ls.args);
	if (fclose(stdout) == EOF)
		die_temp("write stdout: %s", strerror(errno));
	if (sig != 0 && !ls.follow) {
		/* The listing is cut short: say so as the signal would. */
		signal(sig, SIG_DFL);
		raise(sig);
	}
	return ls.status;
}
