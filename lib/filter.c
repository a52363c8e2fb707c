#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "envelope.h"
#include "filter.h"
#include "limit.h"
#include "log.h"
#include "maildir.h"
#include "record.h"
#include "xalloc.h"

/* One item of the stream: a record to work on, or a line to pass on. */
struct item {
	json_t *rec;		/* NULL: pass raw on as it is */
	char *raw;
	size_t rawlen;
	int done;
	int failed;
	char why[256];
};

struct filter {
	const struct filter_conf *c;
	const struct filter_ops *ops;
	pthread_mutex_t mu;
	pthread_cond_t work_cv;	/* an item to take, or the end */
	pthread_cond_t done_cv;	/* an item finished, or the end */
	pthread_cond_t room_cv;	/* an item written: room in the window */
	struct item *ring;	/* window items, by sequence number */
	size_t window;
	unsigned long long head;	/* next to write */
	unsigned long long taken;	/* next to give a worker */
	unsigned long long tail;	/* next to fill */
	int end;
	int status;
	int out_failed;
};

static void *
worker(void *arg)
{
	struct filter *f = arg;
	char err[256];
	void *state = NULL;
	struct item *it;

	if (f->ops->thread_init != NULL) {
		state = f->ops->thread_init(f->ops->arg, err, sizeof(err));
		if (state == NULL)
			die_temp("%s", err);
	}
	pthread_mutex_lock(&f->mu);
	for (;;) {
		while (f->taken == f->tail && !f->end)
			pthread_cond_wait(&f->work_cv, &f->mu);
		if (f->taken == f->tail)
			break;
		it = &f->ring[f->taken % f->window];
		f->taken++;
		pthread_mutex_unlock(&f->mu);
		if (it->rec != NULL && f->ops->work(state, it->rec,
		    f->ops->arg, it->why, sizeof(it->why)) == -1)
			it->failed = 1;
		pthread_mutex_lock(&f->mu);
		it->done = 1;
		/* the writer takes it out at once */
		pthread_cond_broadcast(&f->done_cv);
	}
	pthread_mutex_unlock(&f->mu);
	if (f->ops->thread_fini != NULL && state != NULL)
		f->ops->thread_fini(state);
	return NULL;
}

/* Write the finished items at the head, in order.  Called locked. */
static void
drain(struct filter *f)
{
	struct item *it;
	char *s;
	size_t n;

	while (f->head != f->tail) {
		it = &f->ring[f->head % f->window];
		if (!it->done)
			return;
		if (it->failed)
			log_info("%s: %s", record_get(it->rec, "id") ?
			    record_get(it->rec, "id") : "?", it->why);
		if (it->rec != NULL) {
			s = record_dumps(it->rec, &n);
			if (s == NULL)
				bug("a record cannot be encoded");
		} else {
			s = it->raw;
			n = it->rawlen;
			it->raw = NULL;
		}
		if (!f->out_failed && (fwrite(s, 1, n, f->c->out) != n ||
		    (it->rec == NULL && fputc('\n', f->c->out) == EOF) ||
		    fflush(f->c->out) == EOF)) {
			log_info("write stdout: %s", strerror(errno));
			f->out_failed = 1;
			f->status = 111;
		}
		free(s);
		json_decref(it->rec);
		it->rec = NULL;
		it->done = 0;
		it->failed = 0;
		f->head++;
		pthread_cond_signal(&f->room_cv);
	}
}

/* The writer: each record goes out as soon as it and every record
 * before it are done, whether or not more input comes; a stream that
 * pauses (a pipeline between messages) is not held back. */
static void *
writer(void *arg)
{
	struct filter *f = arg;

	pthread_mutex_lock(&f->mu);
	for (;;) {
		drain(f);
		if (f->end && f->head == f->tail)
			break;
		pthread_cond_wait(&f->done_cv, &f->mu);
	}
	pthread_mutex_unlock(&f->mu);
	return NULL;
}

/* Put an item in the window, waiting for room. */
static void
push(struct filter *f, json_t *rec, char *raw, size_t rawlen)
{
	struct item *it;

	pthread_mutex_lock(&f->mu);
	while (f->tail - f->head == f->window)
		pthread_cond_wait(&f->room_cv, &f->mu);
	it = &f->ring[f->tail % f->window];
	it->rec = rec;
	it->raw = raw;
	it->rawlen = rawlen;
	/* a raw line needs no work, but goes through a worker all the same:
	 * a slot is reused only once its worker is done with it */
	it->done = 0;
	it->failed = 0;
	f->tail++;
	pthread_cond_signal(&f->work_cv);
	pthread_mutex_unlock(&f->mu);
}

static void
read_stdin(struct filter *f)
{
	struct record_reader *rr = record_reader_new(0, "stdin",
	    LIMIT_RECORD);
	const char *raw;
	json_t *rec;
	size_t n;

	for (;;) {
		switch (record_next(rr, &rec)) {
		case RECORD_OK:
			push(f, rec, NULL, 0);
			continue;
		case RECORD_BAD:
			log_info("%s", record_error(rr));
			raw = record_raw(rr, &n);
			/* passed on as it came; a line too long to keep is
			 * reported and cannot be passed on */
			if (raw != NULL)
				push(f, NULL, xmemdup(raw, n), n);
			else
				f->status = f->status ? f->status : 111;
			continue;
		case RECORD_ERR:
			log_info("read stdin: %s", strerror(errno));
			f->status = 111;
			break;
		case RECORD_EOF:
			break;
		}
		break;
	}
	record_reader_free(rr);
}

struct listing {
	struct filter *f;
	const char *dir;
};

/* The record of the message file at path, into the stream. */
static void
push_file(struct filter *f, const char *path)
{
	struct envelope e;
	char why[256];

	envelope_init(&e);
	if (envelope_read(&e, path, why, sizeof(why)) == -1) {
		if (why[0] != '\0') {
			log_info("%s: %s", path, why);
			if (f->status == 0)
				f->status = 100;
		} else if (errno != ENOENT) {
			log_info("%s: %s", path, strerror(errno));
			f->status = 111;
		}
		envelope_clear(&e);
		return;
	}
	push(f, envelope_record(&e), NULL, 0);
	envelope_clear(&e);
}

static int
list_one(void *arg, const char *sub, const char *name)
{
	struct listing *l = arg;
	char path[4096];

	if ((size_t)snprintf(path, sizeof(path), "%s/%s/%s", l->dir, sub,
	    name) < sizeof(path))
		push_file(l->f, path);
	return 0;
}

static void
read_path(struct filter *f, const char *arg)
{
	char real[4096], sub[4200];
	struct listing l;
	struct stat st;

	if (realpath(arg, real) == NULL || stat(real, &st) == -1) {
		log_info("%s: %s", arg, strerror(errno));
		f->status = 111;
		return;
	}
	if (S_ISREG(st.st_mode)) {
		push_file(f, real);
		return;
	}
	snprintf(sub, sizeof(sub), "%s/new", real);
	if (!S_ISDIR(st.st_mode) || stat(sub, &st) == -1 ||
	    !S_ISDIR(st.st_mode)) {
		log_info("%s: not a maildir or a message file", arg);
		if (f->status == 0)
			f->status = 100;
		return;
	}
	l.f = f;
	l.dir = real;
	if (maildir_list(real, list_one, &l) == -1) {
		log_info("%s: %s", arg, strerror(errno));
		f->status = 111;
	}
}

int
filter_run(const struct filter_conf *c, const struct filter_ops *ops,
    char **paths, int npaths)
{
	struct filter f;
	pthread_t *th, wr;
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	int nth = c->threads, i;

	memset(&f, 0, sizeof(f));
	f.c = c;
	f.ops = ops;
	if (nth <= 0)
		nth = (int)(ncpu > 0 ? ncpu * 4 : 4);
	f.window = (size_t)(c->window > 0 ? c->window : nth * 8);
	f.ring = xcalloc(f.window, sizeof(*f.ring));
	pthread_mutex_init(&f.mu, NULL);
	pthread_cond_init(&f.work_cv, NULL);
	pthread_cond_init(&f.done_cv, NULL);
	pthread_cond_init(&f.room_cv, NULL);
	th = xcalloc((size_t)nth, sizeof(*th));
	for (i = 0; i < nth; i++)
		if (pthread_create(&th[i], NULL, worker, &f) != 0)
			die_temp("pthread_create: out of resources");
	if (pthread_create(&wr, NULL, writer, &f) != 0)
		die_temp("pthread_create: out of resources");
	if (npaths == 0)
		read_stdin(&f);
	for (i = 0; i < npaths; i++)
		read_path(&f, paths[i]);
	pthread_mutex_lock(&f.mu);
	f.end = 1;
	pthread_cond_broadcast(&f.work_cv);
	pthread_cond_broadcast(&f.done_cv);
	pthread_mutex_unlock(&f.mu);
	for (i = 0; i < nth; i++)
		pthread_join(th[i], NULL);
	pthread_join(wr, NULL);
	free(th);
	free(f.ring);
	pthread_mutex_destroy(&f.mu);
	pthread_cond_destroy(&f.work_cv);
	pthread_cond_destroy(&f.done_cv);
	pthread_cond_destroy(&f.room_cv);
	return f.status;
}
