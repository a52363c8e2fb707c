/*
 * mail-poolctl: look at a pool of mail-pool(1) and act on it: list,
 * qshape, hold, unhold, release, flush, delete, pause, resume.  See
 * mail-poolctl(1).
 *
 * Looking needs no lock: states are replaced by rename.  Acting goes
 * through the pool's lock: if no mail-pool holds it, the command is
 * applied here (lib/poolctl); if one does, the command is handed to it
 * as a file in pool/ctl/new and its reply waited for.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "envelope.h"
#include "limit.h"
#include "log.h"
#include "maildir.h"
#include "opts.h"
#include "pool.h"
#include "poolctl.h"
#include "record.h"
#include "xalloc.h"

static const char synopsis[] =
    "mail-poolctl --pool DIR [--quarantine DIR] [--quarantined] [--json] "
    "[--rate N/TIME] [--wait TIME] COMMAND [ARG...]";

enum {
	O_POOL = 256, O_QUARANTINE, O_QUARANTINED, O_JSON, O_RATE, O_WAIT,
	O_HELP
};

static const struct option longopts[] = {
	{ "pool", required_argument, NULL, O_POOL },
	{ "quarantine", required_argument, NULL, O_QUARANTINE },
	{ "quarantined", no_argument, NULL, O_QUARANTINED },
	{ "json", no_argument, NULL, O_JSON },
	{ "rate", required_argument, NULL, O_RATE },
	{ "wait", required_argument, NULL, O_WAIT },
	{ "help", no_argument, NULL, O_HELP },
	{ NULL, 0, NULL, 0 }
};

/* qshape's buckets: minutes, from each to the next; the last open */
static const int bucket[] = { 0, 5, 10, 20, 40, 80, 160, 320, 640, 1280 };
#define NBUCKETS (int)(sizeof(bucket) / sizeof(bucket[0]))

struct opts {
	const char *pool, *quarantine;
	int quarantined, json;
	double rate;
	long long wait;
};

struct look {
	const char *dir;
	time_t now, paused;
	int list;
	long long count[NBUCKETS], total;
};

static struct opts o;

/* One message of the pool (or the quarantine): a line, or a count. */
static int
look_one(void *arg, const char *sub, const char *name)
{
	struct look *l = arg;
	char id[MAILDIR_NAME_MAX], err[512], next[32], path[PATH_MAX];
	const json_t *rec, *to, *pend, *last, *x;
	json_t *st, *out, *rcpt;
	long long age, mins;
	struct stat sb;
	size_t i;
	int b;

	if (maildir_id(name, id, sizeof(id)) == -1)
		return 0;
	if ((st = pool_state_at(l->dir, id, err, sizeof(err))) == NULL) {
		/* gone since the listing, or no state yet: not ours to fix */
		if (errno != ENOENT)
			log_warn("%s: %s", id, err);
		return 0;
	}
	age = (long long)l->now -
	    json_integer_value(json_object_get(st, "pooled_at")) -
	    json_integer_value(json_object_get(st, "frozen"));
	/* a pause going on does not count either */
	if (l->paused != 0)
		age -= (long long)l->now - (l->paused > json_integer_value(
		    json_object_get(st, "pooled_at")) ? l->paused :
		    json_integer_value(json_object_get(st, "pooled_at")));
	if (age < 0)
		age = 0;
	if (!l->list) {
		mins = age / 60;
		for (b = NBUCKETS - 1; b > 0 && mins < bucket[b]; b--)
			;
		l->count[b]++;
		l->total++;
		json_decref(st);
		return 0;
	}
	rec = json_object_get(st, "record");
	to = json_object_get(json_object_get(rec, "envelope"), "to");
	pend = json_object_get(st, "pending");
	rcpt = json_array();
	json_array_foreach(pend, i, x)
		json_array_append(rcpt, json_array_get(to,
		    (size_t)json_integer_value(x)));
	last = json_array_get(json_object_get(st, "last"), 0);
	if (last == NULL)
		last = json_array_get(json_object_get(st, "failed"), 0);
	envelope_time((time_t)json_integer_value(json_object_get(st, "next")),
	    next, sizeof(next));
	snprintf(path, sizeof(path), "%s/%s/%s", l->dir, sub, name);
	out = json_pack("{s:s, s:O, s:o, s:I, s:I, s:I, s:s, s:s, s:b}",
	    "id", id,
	    "from", json_object_get(json_object_get(rec, "envelope"), "from"),
	    "to", rcpt,
	    "age", (json_int_t)age,
	    "size", (json_int_t)(stat(path, &sb) == 0 ? sb.st_size : 0),
	    "attempts", json_integer_value(json_object_get(st, "attempts")),
	    "next", next, "route", POOL_ROUTE,
	    "held", json_is_true(json_object_get(st, "held")));
	if (out == NULL)
		bug("json_pack of a list line");
	if (last != NULL)
		json_object_set_new(out, "last_reply", json_pack("{s:O, s:O}",
		    "code", json_object_get(last, "code") ?
		    json_object_get(last, "code") : json_null(),
		    "text", json_object_get(last, "text") ?
		    json_object_get(last, "text") : json_null()));
	else
		json_object_set_new(out, "last_reply", json_null());
	if (record_get(st, "reason") != NULL)
		json_object_set_new(out, "reason",
		    json_string(record_get(st, "reason")));
	if (record_write(stdout, out) == -1)
		die_temp("write stdout: %s", strerror(errno));
	json_decref(out);
	json_decref(st);
	return 0;
}

/* When the route was paused (pool/pause/ROUTE), or 0. */
static time_t
read_paused(void)
{
	char path[PATH_MAX], buf[32];
	long long t;
	FILE *f;

	snprintf(path, sizeof(path), "%s/pause/%s", o.pool, POOL_ROUTE);
	if ((f = fopen(path, "re")) == NULL)
		return 0;
	if (fgets(buf, sizeof(buf), f) == NULL ||
	    sscanf(buf, "%lld", &t) != 1 || t < 0)
		t = 0;
	fclose(f);
	return (time_t)t;
}

static void
look(const char *dir, int list)
{
	struct look l;
	struct stat sb;
	char path[PATH_MAX];
	int b;

	memset(&l, 0, sizeof(l));
	l.dir = dir;
	l.now = time(NULL);
	l.list = list;
	if (!o.quarantined)
		l.paused = read_paused();
	snprintf(path, sizeof(path), "%s/new", dir);
	if (stat(path, &sb) == -1) {
		if (errno == ENOENT && o.quarantined)
			goto out;	/* nothing quarantined yet */
		die_temp("%s: %s", path, strerror(errno));
	}
	if (maildir_list(dir, look_one, &l) == -1)
		die_temp("list %s: %s", dir, strerror(errno));
out:
	if (list)
		return;
	if (o.json) {
		json_t *c = json_array(), *bk = json_array(), *row;

		for (b = 0; b < NBUCKETS; b++) {
			json_array_append_new(c, json_integer(l.count[b]));
			json_array_append_new(bk, json_integer(bucket[b]));
		}
		/* one route: its row is the total's */
		row = json_pack("{s:o, s:[{s:s, s:I, s:O}, {s:s, s:I, s:O}]}",
		    "buckets", bk, "rows", "route", "TOTAL", "total",
		    (json_int_t)l.total, "counts", c, "route", POOL_ROUTE,
		    "total", (json_int_t)l.total, "counts", c);
		json_decref(c);
		if (record_write(stdout, row) == -1)
			die_temp("write stdout: %s", strerror(errno));
		json_decref(row);
		return;
	}
	printf("%10s %6s", "", "T");
	for (b = 0; b < NBUCKETS; b++) {
		char h[16];

		snprintf(h, sizeof(h), "%d%s", bucket[b],
		    b == NBUCKETS - 1 ? "+" : "");
		printf(" %6s", h);
	}
	printf("\n");
	for (int r = 0; r < 2; r++) {
		printf("%10s %6lld", r == 0 ? "TOTAL" : POOL_ROUTE, l.total);
		for (b = 0; b < NBUCKETS; b++)
			printf(" %6lld", l.count[b]);
		printf("\n");
	}
}

/* Hand cmd to the running mail-pool and wait for its reply. */
static json_t *
send_running(const json_t *cmd)
{
	char name[128], tmp[PATH_MAX], dst[PATH_MAX], rpath[PATH_MAX];
	char buf[LIMIT_CTL_FILE + 1];
	struct timespec ts = { 0, 50 * 1000000 };
	json_error_t je;
	char *s = json_dumps(cmd, JSON_COMPACT);
	long long i, tries = o.wait * 20;
	json_t *reply;
	ssize_t got;
	size_t len;
	int fd, n;

	if (s == NULL)
		bug("json_dumps of a command");
	n = snprintf(name, sizeof(name), "%lld.%ld.%ld", (long long)time(NULL),
	    (long)getpid(), (long)(random() % 1000000));
	if (n < 0 || (size_t)n >= sizeof(name) ||
	    snprintf(tmp, sizeof(tmp), "%s/ctl/tmp/%s", o.pool, name) >=
	    (int)sizeof(tmp) ||
	    snprintf(dst, sizeof(dst), "%s/ctl/new/%s", o.pool, name) >=
	    (int)sizeof(dst) ||
	    snprintf(rpath, sizeof(rpath), "%s/ctl/reply/%s", o.pool, name) >=
	    (int)sizeof(rpath))
		die_perm("%s: name too long", o.pool);
	len = strlen(s);
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
	    0600)) == -1)
		die_temp("open %s: %s", tmp, strerror(errno));
	if (write(fd, s, len) != (ssize_t)len || fsync(fd) == -1 ||
	    close(fd) == -1) {
		unlink(tmp);
		die_temp("write %s: %s", tmp, strerror(errno));
	}
	free(s);
	if (rename(tmp, dst) == -1) {
		unlink(tmp);
		die_temp("rename %s to %s: %s", tmp, dst, strerror(errno));
	}
	for (i = 0; i < tries; i++) {
		if ((fd = open(rpath, O_RDONLY | O_CLOEXEC)) != -1) {
			got = read(fd, buf, sizeof(buf) - 1);
			close(fd);
			unlink(rpath);
			if (got < 0)
				die_temp("read %s: %s", rpath, strerror(errno));
			reply = json_loadb(buf, (size_t)got, 0, &je);
			if (reply == NULL)
				die_temp("%s: %s", rpath, je.text);
			return reply;
		}
		nanosleep(&ts, NULL);
	}
	die_temp("%s: mail-pool did not answer in %llds; the command stays "
	    "queued as %s", o.pool, o.wait, dst);
}

/* Apply cmd here, to a pool no one runs, under its lock. */
static json_t *
apply_stopped(struct pool *p, const json_t *cmd)
{
	char err[512];
	json_t *reply;

	if (pool_load(p, time(NULL), err, sizeof(err)) == -1)
		die_temp("%s", err);
	reply = ctl_apply(p, o.quarantine, cmd, time(NULL));
	pool_close(p);
	return reply;
}

static int
act(const char *cmdname, int argc, char *argv[])
{
	char err[512], path[PATH_MAX];
	json_t *cmd, *reply, *ids, *e;
	struct pool *p;
	struct stat sb;
	size_t i;
	int rc = 0, a;

	cmd = json_pack("{s:s}", "cmd", cmdname);
	if (strcmp(cmdname, "pause") == 0 || strcmp(cmdname, "resume") == 0) {
		if (argc != 1)
			opts_usage("%s takes one ROUTE", cmdname);
		json_object_set_new(cmd, "route", json_string(argv[0]));
	} else if (strcmp(cmdname, "flush") == 0) {
		if (argc != 0)
			opts_usage("flush takes no argument");
	} else {
		if (argc < 1 || argc > LIMIT_CTL_IDS)
			opts_usage("%s takes 1 to %d ids", cmdname,
			    LIMIT_CTL_IDS);
		ids = json_array();
		for (a = 0; a < argc; a++)
			json_array_append_new(ids, json_string(argv[a]));
		json_object_set_new(cmd, "ids", ids);
	}
	if (o.rate > 0)
		json_object_set_new(cmd, "rate", json_real(o.rate));
	/* check it as mail-pool would */
	{
		char *s = json_dumps(cmd, JSON_COMPACT);
		json_t *c = s ? ctl_parse(s, strlen(s), err, sizeof(err)) :
		    NULL;

		free(s);
		if (c == NULL)
			opts_usage("%s", err);
		json_decref(c);
	}
	snprintf(path, sizeof(path), "%s/new", o.pool);
	if (stat(path, &sb) == -1)
		die_temp("%s: %s", path, strerror(errno));
	if ((p = pool_open(o.pool, err, sizeof(err))) != NULL)
		reply = apply_stopped(p, cmd);
	else if (errno == EWOULDBLOCK)
		reply = send_running(cmd);
	else
		die_temp("%s", err);
	if (record_write(stdout, reply) == -1)
		die_temp("write stdout: %s", strerror(errno));
	json_array_foreach(json_object_get(reply, "errors"), i, e) {
		log_warn("%s", record_get(e, "error") ? record_get(e, "error") :
		    "?");
		if (json_is_true(json_object_get(e, "temporary")))
			rc = 111;
		else if (rc == 0)
			rc = 100;
	}
	json_decref(reply);
	json_decref(cmd);
	return rc;
}

int
main(int argc, char *argv[])
{
	static char qbuf[PATH_MAX];
	static const char *const acts[] = { "hold", "unhold", "release",
	    "flush", "delete", "pause", "resume" };
	long long n, secs;
	const char *cmd;
	size_t i;
	int ch, rc = 0;

	prog_init("mail-poolctl");
	opts_set_usage(synopsis);
	o.wait = 10;
	while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		const char *on = opts_name(longopts, ch);

		switch (ch) {
		case O_POOL: o.pool = optarg; break;
		case O_QUARANTINE: o.quarantine = optarg; break;
		case O_QUARANTINED: o.quarantined = 1; break;
		case O_JSON: o.json = 1; break;
		case O_RATE:
			opts_rate(on, optarg, &n, &secs);
			o.rate = n == 0 ? 0 : (double)n / (double)secs;
			break;
		case O_WAIT:
			o.wait = opts_duration(on, optarg, 1, 3600);
			break;
		case O_HELP:
			printf("usage: %s\n", synopsis);
			return 0;
		default:
			opts_usage("unknown option");
		}
	}
	if (o.pool == NULL)
		opts_usage("give --pool");
	if (optind >= argc)
		opts_usage("give a command");
	if (o.quarantine == NULL) {
		n = snprintf(qbuf, sizeof(qbuf), "%s/quarantine", o.pool);
		if (n < 0 || (size_t)n >= sizeof(qbuf))
			opts_usage("--pool: name too long");
		o.quarantine = qbuf;
	}
	srandom((unsigned)time(NULL) ^ (unsigned)getpid());
	cmd = argv[optind++];
	if (strcmp(cmd, "list") == 0 || strcmp(cmd, "qshape") == 0) {
		if (optind != argc)
			opts_usage("%s takes no argument", cmd);
		look(o.quarantined ? o.quarantine : o.pool,
		    strcmp(cmd, "list") == 0);
	} else {
		for (i = 0; i < sizeof(acts) / sizeof(acts[0]); i++)
			if (strcmp(cmd, acts[i]) == 0)
				break;
		if (i == sizeof(acts) / sizeof(acts[0]))
			opts_usage("unknown command: %s", cmd);
		rc = act(cmd, argc - optind, argv + optind);
	}
	if (fflush(stdout) == EOF || ferror(stdout) || fclose(stdout) == EOF)
		die_temp("write stdout: %s", strerror(errno));
	return rc;
}
