/*
 * mail-pool: the durable pool between the checks and the downstream:
 * records in, messages kept in the pool, handed to delivery workers at
 * the rate the downstream takes, retried, expired.  See mail-pool(1).
 */
#define _GNU_SOURCE		/* pipe2 */
#include <errno.h>
#include <limits.h>
#include <fcntl.h>
#include <getopt.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cidr.h"
#include "dsn.h"
#include "envelope.h"
#include "fair.h"
#include "limit.h"
#include "log.h"
#include "maildir.h"
#include "opts.h"
#include "pool.h"
#include "poolctl.h"
#include "record.h"
#include "release.h"
#include "table.h"
#include "verdict.h"
#include "watch.h"
#include "xalloc.h"

static const char synopsis[] =
    "mail-pool --pool DIR --deliver COMMAND [--dead DIR] [--max-age TIME] "
    "[--max-workers N] [--max-rate N/TIME] [--probe-interval TIME] "
    "[--retry-min TIME] [--retry-max TIME] [--timeout TIME] "
    "[--high-water FILE] [--high-water-size SIZE] [--metrics FILE] "
    "[--policy FILE] [--quarantine DIR] [--partners FILE] "
    "[--spike-factor N] [--spike-min N/TIME] [--spike-window TIME] "
    "[--spike-baseline TIME] [--stall-time TIME] [--notify COMMAND] "
    "[--notify-timeout TIME]";

enum {
	O_POOL = 256, O_DELIVER, O_DEAD, O_MAX_AGE, O_MAX_WORKERS, O_MAX_RATE,
	O_PROBE_INTERVAL, O_RETRY_MIN, O_RETRY_MAX, O_TIMEOUT, O_HIGH_WATER,
	O_HIGH_WATER_SIZE, O_METRICS, O_POLICY, O_QUARANTINE, O_PARTNERS,
	O_SPIKE_FACTOR, O_SPIKE_MIN, O_SPIKE_WINDOW, O_SPIKE_BASELINE,
	O_STALL_TIME, O_NOTIFY, O_NOTIFY_TIMEOUT, O_HELP
};

static const struct option longopts[] = {
	{ "pool", required_argument, NULL, O_POOL },
	{ "deliver", required_argument, NULL, O_DELIVER },
	{ "dead", required_argument, NULL, O_DEAD },
	{ "max-age", required_argument, NULL, O_MAX_AGE },
	{ "max-workers", required_argument, NULL, O_MAX_WORKERS },
	{ "max-rate", required_argument, NULL, O_MAX_RATE },
	{ "probe-interval", required_argument, NULL, O_PROBE_INTERVAL },
	{ "retry-min", required_argument, NULL, O_RETRY_MIN },
	{ "retry-max", required_argument, NULL, O_RETRY_MAX },
	{ "timeout", required_argument, NULL, O_TIMEOUT },
	{ "high-water", required_argument, NULL, O_HIGH_WATER },
	{ "high-water-size", required_argument, NULL, O_HIGH_WATER_SIZE },
	{ "metrics", required_argument, NULL, O_METRICS },
	{ "policy", required_argument, NULL, O_POLICY },
	{ "quarantine", required_argument, NULL, O_QUARANTINE },
	{ "partners", required_argument, NULL, O_PARTNERS },
	{ "spike-factor", required_argument, NULL, O_SPIKE_FACTOR },
	{ "spike-min", required_argument, NULL, O_SPIKE_MIN },
	{ "spike-window", required_argument, NULL, O_SPIKE_WINDOW },
	{ "spike-baseline", required_argument, NULL, O_SPIKE_BASELINE },
	{ "stall-time", required_argument, NULL, O_STALL_TIME },
	{ "notify", required_argument, NULL, O_NOTIFY },
	{ "notify-timeout", required_argument, NULL, O_NOTIFY_TIMEOUT },
	{ "help", no_argument, NULL, O_HELP },
	{ NULL, 0, NULL, 0 }
};

#define ROUTE		"deliver"	/* the one route, for now */
#define METRICS_EVERY	5		/* seconds */
#define CTL_EVERY	0.2		/* seconds between looks at ctl/new */

struct opts {
	const char *pool, *deliver, *dead, *high_water, *metrics;
	const char *policy, *quarantine, *partners, *notify;
	long long spike_factor, spike_window, spike_baseline, stall_time;
	long long notify_timeout;
	double spike_min;
	long long max_age, probe_interval, retry_min, retry_max, timeout;
	long long high_water_size;
	int max_workers;
	double max_rate;
};

struct worker {
	pid_t pid;
	int in, out;		/* its stdin, its stdout */
	struct record_reader *rr;
	struct pool_msg *msg;	/* in flight, or NULL */
	unsigned long seq;
	double sent, idle_since;
};

struct counters {
	unsigned long long pooled, duplicates, delivered, deferred, failed;
	unsigned long long expired, quarantined, dropped, spikes, stalls;
	unsigned long long notify_failed, dsn, dsn_refused;
};

struct notifier {
	pid_t pid;
	double deadline;
	int killed;
};

static struct opts o;
static struct pool *pool;
static struct release *rel;
static struct worker workers[LIMIT_POOL_WORKERS];
static int nworkers, in_flight, high_on, spawn_fails;
static double spawn_after;
static struct counters cnt;
static struct verdict_table policy;
static struct table *partners;		/* domains and networks, or NULL */
static struct fair *fair;
static struct watch *watch;
static struct notifier notifiers[LIMIT_POOL_NOTIFY];
static int nnotify;
static char hostname[256];
static size_t ndue, nwaiting;		/* due now, and waiting at all
					 * (not held, route not paused), at
					 * the last tick */
static volatile sig_atomic_t got_term, got_hup;

static void
on_term(int sig)
{
	(void)sig;
	got_term = 1;
}

static void
on_hup(int sig)
{
	(void)sig;
	got_hup = 1;
}

static double
mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* One event line on stdout: {"event": NAME, "at": TIME, ...}. */
static void
event(const char *name, const char *id, const char *key, json_t *val)
{
	char at[32];
	json_t *e = json_object();

	envelope_time(time(NULL), at, sizeof(at));
	json_object_set_new(e, "event", json_string(name));
	json_object_set_new(e, "at", json_string(at));
	if (id != NULL)
		json_object_set_new(e, "id", json_string(id));
	else
		json_object_set_new(e, "route", json_string(ROUTE));
	if (key != NULL)
		json_object_set(e, key, val);
	if (record_write(stdout, e) == -1)
		die_temp("write stdout: %s", strerror(errno));
	json_decref(e);
}

/* ---- high water, metrics ---- */

static void
high_water(void)
{
	unsigned long long b = pool_bytes(pool);
	int fd;

	if (o.high_water == NULL)
		return;
	if (!high_on && b >= (unsigned long long)o.high_water_size) {
		fd = open(o.high_water, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
		if (fd == -1 || close(fd) == -1) {
			log_warn("create %s: %s", o.high_water,
			    strerror(errno));
			return;
		}
		high_on = 1;
		log_info("high water: %llu bytes pooled, %s created", b,
		    o.high_water);
	} else if (high_on &&
	    b < (unsigned long long)o.high_water_size / 4 * 3) {
		if (unlink(o.high_water) == -1 && errno != ENOENT) {
			log_warn("unlink %s: %s", o.high_water,
			    strerror(errno));
			return;
		}
		high_on = 0;
		log_info("low water: %llu bytes pooled, %s removed", b,
		    o.high_water);
	}
}

static void
metric(FILE *f, const char *name, const char *type, const char *help,
    const char *labels, double v)
{
	fprintf(f, "# HELP %s %s\n# TYPE %s %s\n%s%s %.15g\n", name, help,
	    name, type, name, labels, v);
}

static void
write_metrics(void)
{
	char tmp[4096];
	const char *rl = "{route=\"" ROUTE "\"}";
	struct pool_msg *m;
	time_t now = time(NULL), oldest = now;
	size_t held = 0;
	FILE *f;
	int n;

	if (o.metrics == NULL)
		return;
	for (m = pool_first(pool); m != NULL; m = pool_next(m)) {
		if (m->pooled < oldest)
			oldest = m->pooled;
		held += m->held;
	}
	n = snprintf(tmp, sizeof(tmp), "%s.tmp", o.metrics);
	if (n < 0 || (size_t)n >= sizeof(tmp) ||
	    (f = fopen(tmp, "we")) == NULL) {
		log_warn("open %s.tmp: %s", o.metrics, strerror(errno));
		return;
	}
	metric(f, "sluice_pool_messages", "gauge", "Messages in the pool.",
	    "", (double)pool_count(pool));
	metric(f, "sluice_pool_bytes", "gauge",
	    "Bytes of the messages in the pool.", "",
	    (double)pool_bytes(pool));
	metric(f, "sluice_pool_oldest_age_seconds", "gauge",
	    "Age of the oldest message in the pool.", "",
	    (double)(now - oldest));
	metric(f, "sluice_pool_in_flight", "gauge",
	    "Messages with a delivery worker now.", "", in_flight);
	metric(f, "sluice_pool_workers", "gauge", "Delivery workers running.",
	    "", nworkers);
	metric(f, "sluice_pool_high_water", "gauge",
	    "1 while the high-water flag file is there.", "", high_on);
	metric(f, "sluice_pool_pooled_total", "counter",
	    "Messages taken into the pool.", "", (double)cnt.pooled);
	metric(f, "sluice_pool_duplicates_total", "counter",
	    "Records of messages already pooled, dropped.", "",
	    (double)cnt.duplicates);
	metric(f, "sluice_pool_delivered_total", "counter",
	    "Recipients delivered.", "", (double)cnt.delivered);
	metric(f, "sluice_pool_deferred_total", "counter",
	    "Recipients deferred (each attempt).", "", (double)cnt.deferred);
	metric(f, "sluice_pool_failed_total", "counter",
	    "Recipients failed (5xx).", "", (double)cnt.failed);
	metric(f, "sluice_pool_expired_total", "counter",
	    "Messages expired into the dead letters.", "",
	    (double)cnt.expired);
	metric(f, "sluice_pool_quarantined_total", "counter",
	    "Messages put into the quarantine by the policy.", "",
	    (double)cnt.quarantined);
	metric(f, "sluice_pool_dropped_total", "counter",
	    "Messages dropped by the policy.", "", (double)cnt.dropped);
	metric(f, "sluice_pool_held", "gauge", "Messages on hold.", "",
	    (double)held);
	metric(f, "sluice_pool_arrival_rate", "gauge",
	    "Messages pooled per second (short average).", "",
	    watch_arrival_rate(watch));
	metric(f, "sluice_pool_arrival_baseline", "gauge",
	    "Messages pooled per second (baseline).", "",
	    watch_arrival_baseline(watch));
	metric(f, "sluice_pool_delivery_rate", "gauge",
	    "Messages delivered per second (short average).", "",
	    watch_delivery_rate(watch));
	metric(f, "sluice_pool_delivery_baseline", "gauge",
	    "Messages delivered per second (baseline).", "",
	    watch_delivery_baseline(watch));
	metric(f, "sluice_pool_spikes_total", "counter",
	    "Arrival spikes seen.", "", (double)cnt.spikes);
	metric(f, "sluice_pool_stalls_total", "counter",
	    "Delivery stalls seen.", "", (double)cnt.stalls);
	metric(f, "sluice_pool_notify_failures_total", "counter",
	    "Notifications not run, failed or killed.", "",
	    (double)cnt.notify_failed);
	metric(f, "sluice_pool_route_paused", "gauge",
	    "1 while the route is paused by mail-poolctl.", rl,
	    pool_paused(pool) != 0);
	metric(f, "sluice_pool_route_due", "gauge",
	    "Messages due on the route at the last look.", rl, (double)ndue);
	metric(f, "sluice_pool_route_in_flight", "gauge",
	    "Messages with a worker on the route now.", rl, in_flight);
	metric(f, "sluice_pool_route_up", "gauge",
	    "1 when the route is up, 0 when down.", rl,
	    release_down(rel) ? 0 : 1);
	metric(f, "sluice_pool_route_concurrency", "gauge",
	    "Messages the route may have in flight.", rl,
	    floor(release_window(rel)));
	metric(f, "sluice_pool_route_rate", "gauge",
	    "Messages per second the route may start.", rl,
	    release_rate(rel));
	if (ferror(f) | fflush(f) | fclose(f)) {
		log_warn("write %s.tmp: %s", o.metrics, strerror(errno));
		unlink(tmp);
		return;
	}
	if (rename(tmp, o.metrics) == -1) {
		log_warn("rename %s to %s: %s", tmp, o.metrics,
		    strerror(errno));
		unlink(tmp);
	}
}

/* ---- workers ---- */

/* In a child: signals as they were, a process group of its own (the
 * shell and what it starts go together), in and out as its stdin and
 * stdout, then /bin/sh -c cmd. */
static void __attribute__((noreturn))
child(int in, int out, const char *cmd)
{
	struct sigaction sa;
	sigset_t none;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_DFL;
	sigaction(SIGPIPE, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	setpgid(0, 0);
	if (dup2(in, 0) == -1 || dup2(out, 1) == -1)
		_exit(111);
	execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
	_exit(111);
}

static struct worker *
spawn(double now)
{
	struct worker *w;
	int in[2], out[2];
	pid_t pid;

	if (nworkers == o.max_workers || now < spawn_after)
		return NULL;
	if (pipe2(in, O_CLOEXEC) == -1)
		goto fail;
	if (pipe2(out, O_CLOEXEC) == -1) {
		close(in[0]);
		close(in[1]);
		goto fail;
	}
	if ((pid = fork()) == -1) {
		close(in[0]);
		close(in[1]);
		close(out[0]);
		close(out[1]);
		goto fail;
	}
	if (pid == 0)
		child(in[0], out[1], o.deliver);
	setpgid(pid, pid);
	close(in[0]);
	close(out[1]);
	w = &workers[nworkers++];
	memset(w, 0, sizeof(*w));
	w->pid = pid;
	w->in = in[1];
	w->out = out[0];
	w->rr = record_reader_new(w->out, "worker", LIMIT_RECORD);
	w->idle_since = now;
	return w;
fail:
	log_warn("start worker: %s", strerror(errno));
	spawn_after = now + 1;
	return NULL;
}

/* The worker is gone (it exited, its stdout ended) or is to go: its
 * message, if any, is due again now.  Only an idle worker is let go
 * gently (its stdin closed); the others are killed, the whole group, so
 * that no delivery of theirs can still finish. */
static void
worker_gone(struct worker *w, double now, const char *why)
{
	int i = (int)(w - workers);

	if (strcmp(why, "idle") != 0)
		kill(-w->pid, SIGKILL);

	if (w->msg != NULL) {
		log_warn("worker %ld %s with %s in flight: it is retried",
		    (long)w->pid, why, w->msg->id);
		w->msg->in_flight = 0;
		w->msg->next = time(NULL);
		release_lost(rel, w->seq);
		in_flight--;
		/* a worker that dies without delivering anything is not
		 * restarted at once: 1, 2, 4... up to 30 seconds */
		spawn_fails++;
		spawn_after = now + fmin(30, 0.5 * pow(2, spawn_fails));
	}
	close(w->in);
	close(w->out);
	record_reader_free(w->rr);
	workers[i] = workers[--nworkers];
}

/* ---- notifications ---- */

/*
 * Run --notify with the event on its stdin: /bin/sh -c, a process group
 * of its own, its stdout our stderr (our stdout is the events).  The
 * event (under PIPE_BUF) goes into the empty pipe in one write that
 * cannot block; the command gets --notify-timeout, then is killed.  At
 * most LIMIT_POOL_NOTIFY at once: past that an event is not notified.
 */
static void
notify(const char *line, size_t len, double now)
{
	struct notifier *n;
	int p[2];
	pid_t pid;

	if (o.notify == NULL)
		return;
	if (nnotify == LIMIT_POOL_NOTIFY || len > 4096) {
		cnt.notify_failed++;
		log_warn("notify: %s: not run", nnotify == LIMIT_POOL_NOTIFY ?
		    "too many still running" : "event too long");
		return;
	}
	if (pipe2(p, O_CLOEXEC) == -1) {
		cnt.notify_failed++;
		log_warn("notify: pipe: %s", strerror(errno));
		return;
	}
	if ((pid = fork()) == -1) {
		cnt.notify_failed++;
		log_warn("notify: fork: %s", strerror(errno));
		close(p[0]);
		close(p[1]);
		return;
	}
	if (pid == 0)
		child(p[0], 2, o.notify);
	setpgid(pid, pid);
	close(p[0]);
	if (fcntl(p[1], F_SETFL, O_NONBLOCK) == -1 ||
	    write(p[1], line, len) != (ssize_t)len)
		log_warn("notify: write the event: %s", strerror(errno));
	close(p[1]);
	n = &notifiers[nnotify++];
	n->pid = pid;
	n->deadline = now + (double)o.notify_timeout;
	n->killed = 0;
}

/* A notifier exited: 1 if pid was one. */
static int
notify_reaped(pid_t pid, int st)
{
	int i;

	for (i = 0; i < nnotify; i++)
		if (notifiers[i].pid == pid)
			break;
	if (i == nnotify)
		return 0;
	if (!notifiers[i].killed && (!WIFEXITED(st) || WEXITSTATUS(st) != 0)) {
		cnt.notify_failed++;
		if (WIFEXITED(st))
			log_warn("notify: exited %d", WEXITSTATUS(st));
		else
			log_warn("notify: killed by signal %d", WTERMSIG(st));
	}
	notifiers[i] = notifiers[--nnotify];
	return 1;
}

/* Notifiers past their time are killed (their group). */
static void
notify_watch(double now)
{
	int i;

	for (i = 0; i < nnotify; i++)
		if (!notifiers[i].killed && now >= notifiers[i].deadline) {
			kill(-notifiers[i].pid, SIGKILL);
			notifiers[i].killed = 1;
			cnt.notify_failed++;
			log_warn("notify: still running after %llds: killed",
			    o.notify_timeout);
		}
}

/* An alarm: the event on stdout, and to --notify. */
static void
alarm_event(enum watch_event ev, double now)
{
	static const char *const names[] = { NULL, "spike", "spike-end",
	    "stall", "stall-end" };
	char at[32], *line;
	size_t len;
	json_t *e;

	envelope_time(time(NULL), at, sizeof(at));
	e = json_pack("{s:s, s:s, s:s, s:f, s:f, s:f, s:f, s:I, s:I, s:I, "
	    "s:I}",
	    "event", names[ev], "at", at, "route", ROUTE,
	    "arrival_rate", round(watch_arrival_rate(watch) * 1000) / 1000,
	    "arrival_baseline",
	    round(watch_arrival_baseline(watch) * 1000) / 1000,
	    "delivery_rate", round(watch_delivery_rate(watch) * 1000) / 1000,
	    "threshold", round(watch_threshold(watch) * 1000) / 1000,
	    "due", (json_int_t)ndue,
	    "waiting", (json_int_t)nwaiting,
	    "pooled", (json_int_t)pool_count(pool),
	    "since_delivery", (json_int_t)watch_stalled_for(watch, now));
	if (e == NULL)
		bug("json_pack of an alarm");
	if (ev == WATCH_SPIKE)
		cnt.spikes++;
	if (ev == WATCH_STALL)
		cnt.stalls++;
	line = record_dumps(e, &len);
	if (line == NULL)
		bug("record_dumps of an alarm");
	if (fwrite(line, 1, len, stdout) != len || fflush(stdout) == EOF)
		die_temp("write stdout: %s", strerror(errno));
	log_info("%s: arrival %.3g/s (baseline %.3g/s), delivery %.3g/s, "
	    "%zu waiting", names[ev], watch_arrival_rate(watch),
	    watch_arrival_baseline(watch), watch_delivery_rate(watch),
	    nwaiting);
	notify(line, len, now);
	free(line);
	json_decref(e);
}

/* Once a second: how many are due, and what the rates say. */
static void
watch_pool(double now)
{
	struct pool_msg *m;
	time_t t = time(NULL);
	enum watch_event ev;

	ndue = nwaiting = 0;
	if (pool_paused(pool) == 0)
		for (m = pool_first(pool); m != NULL; m = pool_next(m))
			if (!m->held && m->npending > 0) {
				nwaiting++;
				ndue += m->next <= t;
			}
	/* a stall is mail waiting and none delivered: waiting for its
	 * retry counts, or an outage would never be one */
	if ((ev = watch_tick(watch, now, nwaiting)) != WATCH_NONE)
		alarm_event(ev, now);
}

/* Collect exited workers; one that exits while we count on it is gone. */
static void
reap(double now)
{
	int st, i;
	pid_t pid;

	while ((pid = waitpid(-1, &st, WNOHANG)) > 0) {
		if (notify_reaped(pid, st))
			continue;
		for (i = 0; i < nworkers; i++)
			if (workers[i].pid == pid)
				break;
		if (i == nworkers)
			continue;	/* let go or killed before */
		if (WIFSIGNALED(st))
			log_warn("worker %ld killed by signal %d", (long)pid,
			    WTERMSIG(st));
		else if (WIFEXITED(st))
			log_warn("worker %ld exited %d", (long)pid,
			    WEXITSTATUS(st));
		worker_gone(&workers[i], now, "exited");
	}
}

static int
write_all(int fd, const char *buf, size_t n)
{
	ssize_t w;

	while (n > 0) {
		w = write(fd, buf, n);
		if (w == -1 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		buf += w;
		n -= (size_t)w;
	}
	return 0;
}

/* ---- messages ---- */

static time_t
backoff(unsigned attempts)
{
	double d = (double)o.retry_min * pow(2, attempts > 30 ? 30 :
	    (double)attempts - 1);

	if (d > (double)o.retry_max)
		d = (double)o.retry_max;
	/* jitter: a quarter either way, so retries do not come in waves */
	d *= 0.75 + 0.5 * ((double)random() / RAND_MAX);
	return (time_t)(d < 1 ? 1 : d);
}

/* The header of the pooled message at path, without the relay block:
 * at most LIMIT_DSN_HEADER bytes, malloc'd, or NULL. */
static char *
orig_header(const char *path, size_t *len)
{
	char *buf = xmalloc(LIMIT_DSN_HEADER + 1), *p, *end, *nl;
	ssize_t n;
	size_t got = 0;
	int fd;

	if (path == NULL || (fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		free(buf);
		return NULL;
	}
	while (got < LIMIT_DSN_HEADER &&
	    (n = read(fd, buf + got, LIMIT_DSN_HEADER - got)) > 0)
		got += (size_t)n;
	close(fd);
	buf[got] = '\0';
	p = buf;
	end = buf + got;
	/* our relay block is ours: it does not go back out */
	while (p < end && strncasecmp(p, "X-Sluice-", 9) == 0) {
		do {
			nl = memchr(p, '\n', (size_t)(end - p));
			p = nl ? nl + 1 : end;
		} while (p < end && (*p == ' ' || *p == '\t'));
	}
	/* up to the blank line, or to a whole line within the bound */
	for (nl = p; nl < end; ) {
		char *e = memchr(nl, '\n', (size_t)(end - nl));

		if (e == NULL || e == nl)
			break;
		nl = e + 1;
	}
	*len = (size_t)(nl - p);
	memmove(buf, p, *len);
	return buf;
}

/*
 * A DSN to the sender of m (state st), which failed or expired, pooled
 * as a message of its own from <> (so no DSN is ever sent about it), if
 * the sender was authenticated (dsn.h) and none was sent yet; st then
 * says "dsn": its id, durably, before m goes on to the dead letters.
 */
static void
send_dsn(struct pool_msg *m, json_t *st, const char *reason)
{
	const json_t *rec = json_object_get(st, "record");
	const char *from = record_get(json_object_get(rec, "envelope"),
	    "from");
	char dir[4096], err[512], *hdr, *body, *head;
	size_t hlen = 0, blen, headlen;
	struct maildir_file f;
	struct maildir *md;
	struct envelope e;
	struct pool_msg *dm;
	json_t *drec, *ev;
	int r;

	if (json_object_get(st, "dsn") != NULL)
		return;
	if (!dsn_authenticated(rec)) {
		cnt.dsn_refused++;
		log_info("%s: no DSN to <%s>: the sender is not authenticated",
		    m->id, from ? from : "");
		return;
	}
	r = snprintf(dir, sizeof(dir), "%s/dsn", pool_dir(pool));
	if (r < 0 || (size_t)r >= sizeof(dir) ||
	    (md = maildir_open(dir, 1)) == NULL) {
		log_warn("%s: DSN: maildir %s: %s", m->id, dir,
		    strerror(errno));
		return;
	}
	maildir_use_tmp(md);
	if (maildir_create(md, &f) == -1) {
		log_warn("%s: DSN: create in %s: %s", m->id, dir,
		    strerror(errno));
		maildir_close(md);
		return;
	}
	hdr = orig_header(record_get(rec, "path"), &hlen);
	body = dsn_make(st, reason, hostname, hdr, hlen, time(NULL), &blen);
	free(hdr);
	envelope_init(&e);
	snprintf(e.id, sizeof(e.id), "%s", f.name);
	e.received = time(NULL);
	e.relayed = 1;
	envelope_set(&e.from, "");
	envelope_add_rcpt(&e, from, NULL);
	head = envelope_header(&e, hostname, &headlen);
	if (maildir_write(&f, head, headlen) == -1 ||
	    maildir_write(&f, body, blen) == -1 || maildir_commit(&f) == -1) {
		log_warn("%s: DSN: write in %s: %s", m->id, dir,
		    strerror(errno));
		maildir_abort(&f);
		goto out;
	}
	e.size = headlen + blen;
	drec = envelope_record(&e);
	json_object_set_new(drec, "id", json_string(f.name));
	r = snprintf(dir, sizeof(dir), "%s/dsn/new/%s", pool_dir(pool),
	    f.name);
	json_object_set_new(drec, "path", json_string(dir));
	r = pool_add(pool, drec, time(NULL), LIMIT_POOL_MESSAGE, 0, &dm, err,
	    sizeof(err));
	if (r == -1)
		log_warn("%s: DSN %s not pooled: %s", m->id, f.name, err);
	else {
		if (pool_unlink_spool(drec, err, sizeof(err)) == -1)
			log_warn("%s: %s", f.name, err);
		cnt.dsn++;
		json_object_set_new(st, "dsn", json_string(f.name));
		if (pool_state_write(pool, m, st, err, sizeof(err)) == -1)
			log_warn("%s: %s", m->id, err);
		log_info("%s: DSN %s to <%s>", m->id, f.name, from);
		ev = json_string(f.name);
		event("dsn", m->id, "dsn", ev);
		json_decref(ev);
		high_water();
	}
	json_decref(drec);
out:
	free(head);
	free(body);
	envelope_clear(&e);
	maildir_close(md);
}

/* Into the dead letters (m is freed); the event says why.  0, or -1
 * with m still in the pool.  A DSN first, where the sender may get one. */
static int
bury(struct pool_msg *m, json_t *st, const char *reason)
{
	char err[512], id[MAILDIR_NAME_MAX];

	if (strcmp(reason, "failed") == 0 || strcmp(reason, "expired") == 0)
		send_dsn(m, st, reason);
	snprintf(id, sizeof(id), "%s", m->id);
	if (pool_bury(pool, m, st, o.dead, reason, err, sizeof(err)) == -1) {
		log_warn("%s: into %s: %s", id, o.dead, err);
		return -1;
	}
	if (strcmp(reason, "expired") == 0) {
		cnt.expired++;
		event("expired", id, NULL, NULL);
	}
	high_water();
	return 0;
}

/* A message with no recipient left leaves the pool: removed, or into the
 * dead letters if one failed.  If that cannot be done now, its state says
 * so and it is tried again each second (and at the next start). */
static void
finish(struct pool_msg *m, json_t *st)
{
	char err[512];

	if (json_array_size(json_object_get(st, "failed")) > 0) {
		if (bury(m, st, "failed") == -1 &&
		    pool_state_write(pool, m, st, err, sizeof(err)) == -1)
			log_warn("%s: %s", m->id, err);
		return;
	}
	if (pool_remove(pool, m, err, sizeof(err)) == -1) {
		log_warn("%s: %s", m->id, err);
		if (pool_state_write(pool, m, st, err, sizeof(err)) == -1)
			log_warn("%s: %s", m->id, err);
		return;
	}
	high_water();
}

static void
expire(void)
{
	struct pool_msg *m, *n;
	time_t now = time(NULL);
	char err[512];
	json_t *st;

	for (m = pool_first(pool); m != NULL; m = n) {
		n = pool_next(m);
		/* held messages and those of a paused route do not age */
		if (m->in_flight || (m->npending > 0 && (m->held ||
		    pool_paused(pool) != 0 ||
		    pool_age(pool, m, now) < o.max_age)))
			continue;
		if ((st = pool_state_read(pool, m, err, sizeof(err))) == NULL) {
			log_warn("%s: %s", m->id, err);
			continue;
		}
		if (m->npending == 0)
			finish(m, st);
		else
			(void)bury(m, st, "expired");
		json_decref(st);
	}
}

/* The result of w's message. */
static void
result(struct worker *w, json_t *rec, double now)
{
	struct pool_msg *m = w->msg;
	struct pool_outcome oc;
	enum release_answer a;
	enum release_event ev;
	const char *id = record_get(rec, "id");
	time_t t = time(NULL);
	char err[512];
	json_t *st;

	if (m == NULL || id == NULL || strcmp(id, m->id) != 0) {
		log_warn("worker %ld: a result for %s, which it was not given",
		    (long)w->pid, id ? id : "no id");
		return;
	}
	w->msg = NULL;
	w->idle_since = now;
	m->in_flight = 0;
	in_flight--;
	spawn_fails = 0;
	if ((st = pool_state_read(pool, m, err, sizeof(err))) == NULL) {
		log_warn("%s: %s", m->id, err);
		m->next = t + backoff(m->attempts + 1);
		release_lost(rel, w->seq);
		return;
	}
	pool_apply(st, rec, t, &oc);
	if (oc.answer == POOL_NO_RESULT) {
		log_warn("%s: the worker's record has no delivery", m->id);
		release_lost(rel, w->seq);
	} else {
		a = oc.answer == POOL_ANSWERED ? RELEASE_OK :
		    oc.answer == POOL_THROTTLED ? RELEASE_THROTTLE :
		    RELEASE_FAIL;
		ev = release_answer(rel, now, w->seq, a);
		if (ev == RELEASE_DOWN) {
			log_info("route %s: down, probing every %llds", ROUTE,
			    o.probe_interval);
			event("route-down", NULL, NULL, NULL);
		} else if (ev == RELEASE_UP) {
			struct pool_msg *x;

			log_info("route %s: up", ROUTE);
			event("route-up", NULL, NULL, NULL);
			/* what waited on the route is due again */
			for (x = pool_first(pool); x != NULL; x = pool_next(x))
				if (x->route_deferred && x->next > t)
					x->next = t;
		}
	}
	cnt.delivered += json_array_size(oc.delivered);
	if (json_array_size(oc.delivered) > 0)
		watch_delivered(watch, 1);
	cnt.deferred += json_array_size(oc.deferred);
	cnt.failed += json_array_size(oc.failed);
	if (json_array_size(oc.delivered) > 0)
		event("delivered", m->id, "rcpt", oc.delivered);
	if (json_array_size(oc.failed) > 0)
		event("failed", m->id, "rcpt", oc.failed);
	if (json_array_size(json_object_get(st, "pending")) == 0)
		finish(m, st);
	else {
		time_t next = t + backoff(m->attempts + 1);
		char at[32];
		json_t *e;

		m->route_deferred = oc.answer != POOL_ANSWERED;
		pool_set_next(st, next);
		if (pool_state_write(pool, m, st, err, sizeof(err)) == -1) {
			log_warn("%s: %s", m->id, err);
			m->next = next;
		}
		envelope_time(next, at, sizeof(at));
		e = json_pack("{s:O, s:s, s:I}", "rcpt", oc.deferred,
		    "next", at, "attempts", (json_int_t)m->attempts);
		/* event() takes one key: the deferral carries three */
		{
			json_t *ev2 = json_object();
			char now_at[32];

			envelope_time(t, now_at, sizeof(now_at));
			json_object_set_new(ev2, "event",
			    json_string("deferred"));
			json_object_set_new(ev2, "at", json_string(now_at));
			json_object_set_new(ev2, "id", json_string(m->id));
			json_object_update(ev2, e);
			if (record_write(stdout, ev2) == -1)
				die_temp("write stdout: %s", strerror(errno));
			json_decref(ev2);
		}
		json_decref(e);
	}
	pool_outcome_free(&oc);
	json_decref(st);
}

/* Is m a partner's (its sender domain or client address in the
 * table)?  Looked up once, and again after a reload. */
static int
partner(struct pool_msg *m)
{
	struct sockaddr_storage ss;

	if (m->partner == 0) {
		m->partner = 1;
		if (partners != NULL && ((m->source[0] != '[' &&
		    table_has_domain(partners, m->source)) ||
		    (m->ip[0] != '\0' && cidr_parse_addr(m->ip, &ss) == 0 &&
		    table_has_addr(partners, (struct sockaddr *)&ss))))
			m->partner = 2;
	}
	return m->partner == 2;
}

/* Does a go before b?  Partners first; then the source whose turn came
 * longest ago (round robin across sources); then the one due first,
 * then the oldest. */
static int
before(struct pool_msg *a, struct pool_msg *b)
{
	unsigned long long ta, tb;
	int pa = partner(a), pb = partner(b);

	if (pa != pb)
		return pa;
	if (strcmp(a->source, b->source) != 0) {
		ta = fair_last(fair, a->source);
		tb = fair_last(fair, b->source);
		if (ta != tb)
			return ta < tb;
	}
	if (a->next != b->next)
		return a->next < b->next;
	if (a->pooled != b->pooled)
		return a->pooled < b->pooled;
	return a->seq < b->seq;
}

/* The message to send next: of the due ones, the first by before();
 * when the route is down, the probe: the one due soonest. */
static struct pool_msg *
pick(time_t now)
{
	struct pool_msg *m, *best = NULL;
	int down = release_down(rel);

	if (pool_paused(pool) != 0)
		return NULL;
	for (m = pool_first(pool); m != NULL; m = pool_next(m)) {
		if (m->in_flight || m->npending == 0 || m->held ||
		    (!down && m->next > now))
			continue;
		if (best == NULL)
			best = m;
		else if (down ? m->next < best->next ||
		    (m->next == best->next && m->pooled < best->pooled) :
		    before(m, best))
			best = m;
	}
	return best;
}

static void
dispatch(double now)
{
	struct pool_msg *m;
	struct worker *w;
	time_t t = time(NULL);
	char err[512], *line;
	size_t len;
	json_t *st, *d;
	int i;

	while ((m = pick(t)) != NULL && release_may_send(rel, now, in_flight)) {
		w = NULL;
		for (i = 0; i < nworkers; i++)
			if (workers[i].msg == NULL) {
				w = &workers[i];
				break;
			}
		if (w == NULL && (w = spawn(now)) == NULL)
			return;
		if ((st = pool_state_read(pool, m, err, sizeof(err))) == NULL) {
			log_warn("%s: %s", m->id, err);
			m->next = t + backoff(m->attempts + 1);
			continue;
		}
		d = pool_dispatch(st);
		json_decref(st);
		line = record_dumps(d, &len);
		json_decref(d);
		if (line == NULL)
			bug("record_dumps failed");
		m->in_flight = 1;
		fair_served(fair, m->source);
		w->msg = m;
		w->seq = release_sent(rel, now);
		w->sent = now;
		in_flight++;
		if (write_all(w->in, line, len) == -1)
			worker_gone(w, now, "stopped reading");
		free(line);
	}
}

/* Workers past --timeout are killed; idle ones beyond the window go. */
static void
watch_workers(double now)
{
	int i, want = (int)release_window(rel);

	for (i = 0; i < nworkers; i++) {
		struct worker *w = &workers[i];

		if (w->msg != NULL && now - w->sent > (double)o.timeout) {
			struct pool_msg *m = w->msg;

			log_warn("%s: worker %ld timed out: killed", m->id,
			    (long)w->pid);
			release_answer(rel, now, w->seq, RELEASE_FAIL);
			m->in_flight = 0;
			m->next = time(NULL) + backoff(m->attempts + 1);
			w->msg = NULL;
			in_flight--;
			worker_gone(w, now, "timed out");
			i--;
		} else if (w->msg == NULL && nworkers > (want < 1 ? 1 : want) &&
		    now - w->idle_since > 10) {
			worker_gone(w, now, "idle");
			i--;
		}
	}
}

static void
reload_partners(void)
{
	struct table *t;
	struct pool_msg *m;
	char err[512];

	if ((t = table_load(o.partners, err, sizeof(err))) == NULL) {
		log_warn("partners %s: the old table stays", err);
		return;
	}
	table_free(partners);
	partners = t;
	for (m = pool_first(pool); m != NULL; m = pool_next(m))
		m->partner = 0;
	log_info("partners %s: reloaded", o.partners);
}

/* A command of mail-poolctl served: an event, a line. */
static void
ctl_done(const json_t *cmd, const json_t *reply, void *arg)
{
	char at[32];
	json_t *e = json_object();

	(void)arg;
	(void)cmd;
	envelope_time(time(NULL), at, sizeof(at));
	json_object_set_new(e, "event", json_string("ctl"));
	json_object_set_new(e, "at", json_string(at));
	json_object_update(e, (json_t *)reply);
	if (record_write(stdout, e) == -1)
		die_temp("write stdout: %s", strerror(errno));
	json_decref(e);
	log_info("ctl %s: %zu done, %zu errors", record_get(reply, "cmd") ?
	    record_get(reply, "cmd") : "?",
	    json_array_size(json_object_get(reply, "done")),
	    json_array_size(json_object_get(reply, "errors")));
}

/*
 * Group commit: the records taken from one read of stdin (at most
 * LIMIT_POOL_BATCH) are pooled together, with one sync of the pool for
 * all (pool_defer, pool_flush); only then are their events written and
 * their spool copies removed, with one fsync of each spool directory.
 */
struct staged {
	json_t *rec;
	int dup;		/* already pooled: only the spool copy goes */
};
static struct staged *stg;
static size_t nstg, stgcap;

static void
flush_failed(void *arg, const char *id, const char *why)
{
	(void)arg;
	log_warn("%s: not pooled: %s", id, why);
}

static void
commit_batch(void)
{
	char err[512], dirs[8][PATH_MAX], dir[PATH_MAX];
	size_t i, k, ndirs = 0;
	int synced;
	json_t *sz;

	if (nstg == 0)
		return;
	synced = pool_flush(pool, flush_failed, NULL, err, sizeof(err)) == 0;
	if (!synced)
		log_warn("%s (the spool copies stay)", err);
	for (i = 0; i < nstg; i++) {
		const char *id = record_get(stg[i].rec, "id");
		struct pool_msg *m = pool_get(pool, id);

		if (m == NULL || !synced)
			goto next;	/* not pooled: the spool copy stays */
		if (stg[i].dup) {
			cnt.duplicates++;
			log_info("%s: duplicate, dropped", id);
			event("duplicate", id, NULL, NULL);
		} else {
			cnt.pooled++;
			watch_arrived(watch, 1);
			sz = json_integer((json_int_t)m->size);
			event("pooled", id, "size", sz);
			json_decref(sz);
		}
		/* the pool copy is durable: the spool copy goes */
		if (pool_unlink_spool_nosync(stg[i].rec, dir, sizeof(dir), err,
		    sizeof(err)) == -1) {
			log_warn("%s: %s", id, err);
			goto next;
		}
		for (k = 0; k < ndirs && strcmp(dirs[k], dir) != 0; k++)
			;
		if (k < ndirs)
			goto next;
		if (ndirs < 8)
			memcpy(dirs[ndirs++], dir, sizeof(dir));
		else if (pool_sync_spool(dir, err, sizeof(err)) == -1)
			log_warn("%s: %s", id, err);	/* many spools */
next:
		json_decref(stg[i].rec);
	}
	for (k = 0; k < ndirs; k++)
		if (pool_sync_spool(dirs[k], err, sizeof(err)) == -1)
			log_warn("%s", err);
	nstg = 0;
	high_water();
}

static void
stage(json_t *rec, int dup)
{
	if (nstg == stgcap) {
		stgcap = stgcap ? stgcap * 2 : 64;
		stg = xreallocarray(stg, stgcap, sizeof(*stg));
	}
	stg[nstg].rec = json_incref(rec);
	stg[nstg].dup = dup;
	nstg++;
}

/* A record from stdin: dropped, pooled, or pooled and quarantined as
 * the policy says for its verdict. */
static void
take(json_t *rec)
{
	struct pool_msg *m;
	const char *id = record_get(rec, "id");
	const char *verdict = verdict_of(rec);
	enum verdict_action act = verdict_action(&policy, verdict);
	char err[512];
	json_t *sz, *st;
	int r;

	if (act == VERDICT_DROP) {
		/* nothing to keep: the spool copy goes, the event says so */
		if (pool_unlink_spool(rec, err, sizeof(err)) == -1) {
			log_warn("%s: not dropped: %s", id ? id : "?", err);
			return;
		}
		cnt.dropped++;
		log_info("%s: dropped verdict=%s", id, verdict);
		sz = json_string(verdict);
		event("dropped", id, "verdict", sz);
		json_decref(sz);
		return;
	}
	if (act != VERDICT_QUARANTINE) {
		r = pool_add(pool, rec, time(NULL), LIMIT_POOL_MESSAGE,
		    act != VERDICT_DELIVER, &m, err, sizeof(err));
		if (r == -1)
			log_warn("%s: not pooled: %s", id ? id : "?", err);
		else
			stage(rec, r == 1);
		if (nstg >= LIMIT_POOL_BATCH)
			commit_batch();
		return;
	}
	/* quarantine: what is pooled so far first, then this one alone */
	commit_batch();
	pool_defer(pool, 0);
	r = pool_add(pool, rec, time(NULL), LIMIT_POOL_MESSAGE, 1, &m, err,
	    sizeof(err));
	if (r == -1) {
		log_warn("%s: not pooled: %s", id ? id : "?", err);
		goto out;
	}
	if (r == 1) {
		cnt.duplicates++;
		log_info("%s: duplicate, dropped", id);
		event("duplicate", id, NULL, NULL);
	} else {
		/* pooled first, so the quarantine gets the edited message and
		 * a state, by the same durable steps as the dead letters */
		if ((st = pool_state_read(pool, m, err, sizeof(err))) == NULL ||
		    pool_bury(pool, m, st, o.quarantine, "quarantine", err,
		    sizeof(err)) == -1) {
			/* it stays pooled, held: never delivered by mistake */
			log_warn("%s: into %s: %s: held in the pool", id,
			    o.quarantine, err);
			json_decref(st);
			goto out;
		}
		json_decref(st);
		cnt.quarantined++;
		log_info("%s: quarantined verdict=%s", id, verdict);
		sz = json_string(verdict);
		event("quarantined", id, "verdict", sz);
		json_decref(sz);
	}
	/* the pool copy is durable (or was already): the spool copy goes */
	if (pool_unlink_spool(rec, err, sizeof(err)) == -1)
		log_warn("%s: %s", id, err);
out:
	pool_defer(pool, 1);
}

static void
read_input(struct record_reader *rr, int *eof)
{
	enum record_status rs;
	json_t *rec;

	pool_defer(pool, 1);
	do {
		rs = record_next(rr, &rec);
		if (rs == RECORD_EOF) {
			*eof = 1;
			break;
		}
		if (rs == RECORD_ERR) {
			log_warn("read stdin: %s", strerror(errno));
			*eof = 1;
			break;
		}
		if (rs == RECORD_BAD) {
			/* the message stays in the spool */
			log_warn("%s", record_error(rr));
			continue;
		}
		take(rec);
		json_decref(rec);
	} while (record_buffered(rr) > 0);
	commit_batch();
	pool_defer(pool, 0);
}

static void
read_worker(struct worker *w, double now)
{
	enum record_status rs;
	json_t *rec;

	do {
		rs = record_next(w->rr, &rec);
		if (rs == RECORD_EOF || rs == RECORD_ERR) {
			worker_gone(w, now, "ended");
			return;
		}
		if (rs == RECORD_BAD) {
			log_warn("%s", record_error(w->rr));
			continue;
		}
		result(w, rec, now);
		json_decref(rec);
	} while (record_buffered(w->rr) > 0);
}

static void
parse_opts(int argc, char *argv[])
{
	long long n, secs;
	int ch;

	o.max_age = 7 * 86400;
	o.max_workers = 8;
	o.probe_interval = 30;
	o.retry_min = 60;
	o.retry_max = 3600;
	o.timeout = 1200;
	o.high_water_size = 1024LL * 1024 * 1024;
	o.spike_factor = 4;
	o.spike_min = 1;
	o.spike_window = 300;
	o.spike_baseline = 3600;
	o.stall_time = 300;
	o.notify_timeout = 10;
	while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		const char *on = opts_name(longopts, ch);

		switch (ch) {
		case O_POOL: o.pool = optarg; break;
		case O_DELIVER: o.deliver = optarg; break;
		case O_DEAD: o.dead = optarg; break;
		case O_MAX_AGE:
			o.max_age = opts_duration(on, optarg, 1, 3650LL * 86400);
			break;
		case O_MAX_WORKERS:
			o.max_workers = (int)opts_num(on, optarg, 1,
			    LIMIT_POOL_WORKERS);
			break;
		case O_MAX_RATE:
			opts_rate(on, optarg, &n, &secs);
			o.max_rate = n == 0 ? 0 : (double)n / (double)secs;
			break;
		case O_PROBE_INTERVAL:
			o.probe_interval = opts_duration(on, optarg, 1, 86400);
			break;
		case O_RETRY_MIN:
			o.retry_min = opts_duration(on, optarg, 1, 86400);
			break;
		case O_RETRY_MAX:
			o.retry_max = opts_duration(on, optarg, 1, 7 * 86400);
			break;
		case O_TIMEOUT:
			o.timeout = opts_duration(on, optarg, 1, 86400);
			break;
		case O_HIGH_WATER: o.high_water = optarg; break;
		case O_HIGH_WATER_SIZE:
			o.high_water_size = opts_size(on, optarg, 1, 1LL << 50);
			break;
		case O_METRICS: o.metrics = optarg; break;
		case O_POLICY: o.policy = optarg; break;
		case O_QUARANTINE: o.quarantine = optarg; break;
		case O_PARTNERS: o.partners = optarg; break;
		case O_SPIKE_FACTOR:
			o.spike_factor = opts_num(on, optarg, 2, 1000);
			break;
		case O_SPIKE_MIN:
			opts_rate(on, optarg, &n, &secs);
			o.spike_min = (double)n / (double)secs;
			break;
		case O_SPIKE_WINDOW:
			o.spike_window = opts_duration(on, optarg, 1, 86400);
			break;
		case O_SPIKE_BASELINE:
			o.spike_baseline = opts_duration(on, optarg, 1,
			    30 * 86400);
			break;
		case O_STALL_TIME:
			o.stall_time = opts_duration(on, optarg, 1, 86400);
			break;
		case O_NOTIFY: o.notify = optarg; break;
		case O_NOTIFY_TIMEOUT:
			o.notify_timeout = opts_duration(on, optarg, 1, 3600);
			break;
		case O_HELP:
			printf("usage: %s\n", synopsis);
			exit(0);
		default:
			opts_usage("unknown option");
		}
	}
	if (optind != argc)
		opts_usage("unexpected argument: %s", argv[optind]);
	if (o.pool == NULL || o.deliver == NULL)
		opts_usage("give --pool and --deliver");
	if (o.retry_max < o.retry_min)
		opts_usage("--retry-max is less than --retry-min");
	if (o.spike_baseline < o.spike_window)
		opts_usage("--spike-baseline is less than --spike-window");
}

int
main(int argc, char *argv[])
{
	static char deadbuf[4096], qbuf[4096];
	struct pollfd pfd[LIMIT_POOL_WORKERS + 1];
	struct worker *pw[LIMIT_POOL_WORKERS + 1];
	struct release_conf rc;
	struct record_reader *rr;
	struct sigaction sa;
	char err[512];
	double now, last_metrics = 0, last_expire = 0, stop_by = 0;
	double last_ctl = 0;
	int eof = 0, stopping = 0, i, n, r;
	long loaded;

	prog_init("mail-pool");
	if (gethostname(hostname, sizeof(hostname) - 1) == -1 ||
	    hostname[0] == '\0')
		snprintf(hostname, sizeof(hostname), "localhost");
	opts_set_usage(synopsis);
	parse_opts(argc, argv);
	if (o.dead == NULL) {
		r = snprintf(deadbuf, sizeof(deadbuf), "%s/dead", o.pool);
		if (r < 0 || (size_t)r >= sizeof(deadbuf))
			opts_usage("--pool: name too long");
		o.dead = deadbuf;
	}
	if (o.quarantine == NULL) {
		r = snprintf(qbuf, sizeof(qbuf), "%s/quarantine", o.pool);
		if (r < 0 || (size_t)r >= sizeof(qbuf))
			opts_usage("--pool: name too long");
		o.quarantine = qbuf;
	}
	if (o.partners != NULL &&
	    (partners = table_load(o.partners, err, sizeof(err))) == NULL)
		die_perm("partners %s", err);
	fair = fair_new();
	verdict_default(&policy);
	if (o.policy != NULL && verdict_load(&policy, o.policy, err,
	    sizeof(err)) == -1)
		die_perm("policy %s", err);
	srandom((unsigned)time(NULL) ^ (unsigned)getpid());
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);
	sa.sa_handler = on_term;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sa.sa_handler = on_hup;
	sigaction(SIGHUP, &sa, NULL);

	if ((pool = pool_open(o.pool, err, sizeof(err))) == NULL)
		die_temp("%s", err);
	if ((loaded = pool_load(pool, time(NULL), err, sizeof(err))) == -1)
		die_temp("%s", err);
	if (loaded > 0)
		log_info("%s: %ld messages reloaded", pool_dir(pool), loaded);
	if (o.high_water != NULL && access(o.high_water, F_OK) == 0)
		high_on = 1;
	high_water();
	now = mono();
	memset(&rc, 0, sizeof(rc));
	rc.max_window = o.max_workers;
	rc.max_rate = o.max_rate;
	rc.probe_interval = (double)o.probe_interval;
	rc.down_attempts = LIMIT_POOL_DOWN_ATTEMPTS;
	/* no answer for 10 seconds, or for a probe interval if shorter */
	rc.down_time = fmin(LIMIT_POOL_DOWN_TIME, (double)o.probe_interval);
	rel = release_new(&rc, now);
	{
		struct watch_conf wc;

		wc.factor = (double)o.spike_factor;
		wc.spike_min = o.spike_min;
		wc.window = (double)o.spike_window;
		wc.baseline = (double)o.spike_baseline;
		wc.stall_time = (double)o.stall_time;
		watch = watch_new(&wc, now);
	}
	rr = record_reader_new(0, "stdin", LIMIT_RECORD);

	for (;;) {
		double wait;
		time_t t;

		now = mono();
		reap(now);
		if (got_hup) {
			got_hup = 0;
			if ((loaded = pool_load(pool, time(NULL), err,
			    sizeof(err))) == -1)
				log_warn("%s", err);
			else if (loaded > 0)
				log_info("%s: %ld messages found", pool_dir(pool),
				    loaded);
			if (o.policy != NULL && verdict_load(&policy, o.policy,
			    err, sizeof(err)) == -1)
				log_warn("policy %s: the old table stays", err);
			else if (o.policy != NULL)
				log_info("policy %s: reloaded", o.policy);
			if (o.partners != NULL)
				reload_partners();
			if (o.high_water != NULL)
				high_on = access(o.high_water, F_OK) == 0;
			high_water();
			write_metrics();
		}
		if (got_term && !stopping) {
			/* no more input, no more deliveries; those in flight
			 * may finish */
			stopping = 1;
			stop_by = now + LIMIT_POOL_STOP;
		}
		if (stopping && (in_flight == 0 || now >= stop_by))
			break;
		if (eof && !stopping && pool_count(pool) == 0 &&
		    in_flight == 0)
			break;
		watch_workers(now);
		if (now - last_ctl >= CTL_EVERY) {
			if (ctl_serve(pool, o.quarantine, time(NULL), ctl_done,
			    NULL, err, sizeof(err)) == -1)
				log_warn("%s", err);
			else
				high_water();
			last_ctl = now;
		}
		if (now - last_expire >= 1) {
			expire();
			watch_pool(now);
			last_expire = now;
		}
		notify_watch(now);
		if (!stopping)
			dispatch(now);
		if (o.metrics != NULL && now - last_metrics >= METRICS_EVERY) {
			write_metrics();
			last_metrics = now;
		}

		/* wait: for input, results, the next due message, a look
		 * at ctl/new */
		wait = CTL_EVERY;
		if (!stopping) {
			t = time(NULL);
			if (pick(t) != NULL) {
				int idle = 0;

				for (i = 0; i < nworkers; i++)
					if (workers[i].msg == NULL)
						idle = 1;
				/* no worker to take it until spawn_after */
				if (!idle && now < spawn_after)
					wait = fmin(wait, spawn_after - now);
				else
					wait = fmin(wait, release_wait(rel, now,
					    in_flight));
			}
		}
		n = 0;
		if (!eof && !stopping) {
			pfd[n].fd = 0;
			pfd[n].events = POLLIN;
			pw[n++] = NULL;
		}
		for (i = 0; i < nworkers; i++) {
			pfd[n].fd = workers[i].out;
			pfd[n].events = POLLIN;
			pw[n++] = &workers[i];
		}
		r = poll(pfd, (nfds_t)n, (int)(wait * 1000) + 1);
		if (r == -1) {
			if (errno == EINTR)
				continue;
			die_temp("poll: %s", strerror(errno));
		}
		now = mono();
		/* workers from the last first: worker_gone moves the last
		 * into the place of the one gone */
		for (i = n - 1; i >= 0; i--) {
			if (pfd[i].revents == 0)
				continue;
			if (pw[i] == NULL)
				read_input(rr, &eof);
			else
				read_worker(pw[i], now);
		}
	}

	/* stop: the workers' stdin closed, they finish and exit */
	for (i = nworkers - 1; i >= 0; i--) {
		if (workers[i].msg != NULL)
			log_info("%s: still in flight at exit: stays in the "
			    "pool", workers[i].msg->id);
		workers[i].msg = NULL;
		close(workers[i].in);
		workers[i].in = -1;
	}
	for (i = 0; i < 50 && nworkers > 0; i++) {
		int j, st;

		for (j = nworkers - 1; j >= 0; j--)
			if (waitpid(workers[j].pid, &st, WNOHANG) ==
			    workers[j].pid) {
				close(workers[j].out);
				record_reader_free(workers[j].rr);
				workers[j] = workers[--nworkers];
			}
		if (nworkers > 0)
			usleep(100000);
	}
	for (i = 0; i < nworkers; i++) {
		kill(-workers[i].pid, SIGKILL);
		waitpid(workers[i].pid, NULL, 0);
		close(workers[i].out);
		record_reader_free(workers[i].rr);
	}
	write_metrics();
	record_reader_free(rr);
	/* notifiers: their time to finish, bounded, then killed */
	for (i = 0; i < 50 && nnotify > 0; i++) {
		reap(mono());
		notify_watch(mono());
		if (nnotify > 0)
			usleep(100000);
	}
	for (i = 0; i < nnotify; i++) {
		kill(-notifiers[i].pid, SIGKILL);
		waitpid(notifiers[i].pid, NULL, 0);
	}
	release_free(rel);
	watch_free(watch);
	fair_free(fair);
	table_free(partners);
	pool_close(pool);
	if (fflush(stdout) == EOF || ferror(stdout) || fclose(stdout) == EOF)
		die_temp("write stdout: %s", strerror(errno));
	return 0;
}
