/*
 * smtpd: the ESMTP server of smtp-accept; see smtpd.h for the threads.
 *
 * A session is a state machine driven by its bufferevent's callbacks.
 * Input is processed in order, one command at a time; while a message is
 * being committed (or a reply delayed) reading stops, so pipelined
 * commands wait in the input buffer and their replies keep their order.
 */
#define _GNU_SOURCE	/* pipe2, pthread_tryjoin_np */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/wait.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <event2/thread.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include "cidr.h"
#include "dns.h"
#include "envelope.h"
#include "keytab.h"
#include "limit.h"
#include "log.h"
#include "maildir.h"
#include "proxy.h"
#include "record.h"
#include "smtp.h"
#include "smtpd.h"
#include "table.h"
#include "tls.h"
#include "xalloc.h"

extern char **environ;

#define WBUF_SIZE	65536	/* DATA bytes collected per write(2) */
#define CHECK_RECORD_MAX 120000	/* bytes of SLUICE_RECORD */
#define MAX_THREADS	64

/* Backpressure, worst first wins. */
enum level { LV_OK, LV_SLOW, LV_DEFER, LV_REFUSE };

/* What can be reloaded on SIGHUP; sessions hold a reference. */
struct policy {
	int refs;
	struct table *domains;
	struct table *partners;
	SSL_CTX *ssl;
};

struct session;

/* A message handed to the commit pool. */
struct job {
	struct session *s;
	struct worker *w;
	struct maildir_file mf;
	char *record;		/* the record line, "\n" included */
	size_t reclen;
	char *envrec;		/* for SLUICE_RECORD when record is too big */
	char reply[512];	/* the reply to the final dot */
	int accepted;
	struct job *next;
};

/*
 * Reverse names looked up lately, per worker: a direct-mapped cache, so
 * that a client that connects again and again does not cost a trip
 * through the resolver's thread each time.  Answers (a name, or none) are
 * kept PTR_CACHE_TTL seconds; temporary failures are not kept.
 */
#define PTR_CACHE_SLOTS	4096
#define PTR_CACHE_TTL	60
struct ptr_slot {
	char ip[64];
	char *name;		/* NULL: no confirmed name */
	time_t expires;		/* 0: empty */
};

struct worker {
	struct smtpd *srv;
	int idx;
	pthread_t th;
	struct event_base *base;
	struct evconnlistener *lis[SMTPD_MAX_LISTEN];
	int nlis;
	struct dns *dns;
	struct event *dns_ev, *dns_timer;
	struct event *done_ev, *stop_ev, *tick, *resume;
	time_t accept_warned;
	pthread_mutex_t mu;
	struct job *done;	/* jobs back from the pool */
	struct session *sessions;
	int nsessions;
	int stopping;
	char *line;		/* scratch for one command line */
	struct ptr_slot *ptr;	/* PTR_CACHE_SLOTS */
};

enum sstate {
	S_PROXY,	/* waiting for the PROXY header */
	S_GREET,	/* banner held: pre-greet watch, reverse DNS */
	S_CMD,		/* reading commands */
	S_DATA,		/* reading DATA */
	S_BDAT,		/* reading a BDAT chunk */
	S_COMMIT,	/* the pool has the message */
	S_PAUSE,	/* a reply is being delayed */
	S_TLS_WAIT,	/* flushing the 220 to STARTTLS */
	S_TLS,		/* TLS handshake */
	S_CLOSING	/* flushing the last reply */
};

struct session {
	struct worker *w;
	struct session *prev, *next;
	struct bufferevent *bev;
	int fd;
	int tls_bev;		/* bev is an OpenSSL one (owns the fd) */
	enum sstate st;
	struct policy *pol;
	struct sockaddr_storage peer;
	int counted_ip;		/* holds a place in the per-IP table */
	int normalize;		/* bare LF and CR normalised for this client */
	struct envelope env;	/* client facts and the transaction */
	int in_mail;		/* MAIL given */
	int bdat_mode;		/* the transaction uses BDAT */
	time_t start, cmd_start;
	unsigned ncmd, nerr, nmsg;

	/* greeting */
	struct event *timer;
	int greet_timer_done, ptr_done, dns_id, greeted_full;

	/* the message being received */
	struct maildir_file mf;
	int have_file;
	char *wbuf;
	size_t wlen;
	int werr;		/* errno of a failed write, or 0 */
	unsigned long long written;
	struct smtp_data dd;
	struct smtp_hdr *hdr;
	unsigned long long bdat_left;
	int bdat_last;
	const char *bdat_fail;	/* reply owed at the end of this chunk */

	struct job *job;	/* in the pool */
	int gone;		/* the client left while the pool had it */
	char *later;		/* a delayed reply */
	int close_after_later;
	int shutdown;		/* close after the transaction in hand */
};

struct smtpd {
	const struct smtpd_conf *c;
	char *spool;		/* absolute path */
	struct maildir *md;
	pthread_mutex_t polmu;
	struct policy *pol;
	struct cidr_list *proxy_from, *normalize;
	struct keytab *per_ip, *rcpt_rate, *greeted;
	int nworkers;
	struct worker *w;
	int fds[SMTPD_MAX_LISTEN][MAX_THREADS];
	int nfds;

	pthread_t pool[LIMIT_COMMIT_THREADS];
	int npool;
	pthread_mutex_t qmu;
	pthread_cond_t qcv;
	struct job *qhead, *qtail;
	int qstop;

	int level;		/* enum level, atomic */
	int level_disk;		/* the level comes from the disk */
	long long free_bytes;	/* atomic */
	int nconn;		/* atomic */
	int outfd;		/* records */
	pthread_mutex_t outmu;
	int out_failed;
	int ucspi;
	int ucspi_done;
	struct sockaddr_storage ucspi_peer;
	int ucspi_has_peer;
};

static double
now_d(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* ---- configuration ---------------------------------------------------- */

void
smtpd_conf_defaults(struct smtpd_conf *c)
{
	memset(c, 0, sizeof(*c));
	c->notify_fd = -1;
	c->check_timeout = LIMIT_CHECK_TIMEOUT;
	c->min_free = LIMIT_MIN_FREE;
	c->min_inodes = LIMIT_MIN_INODES;
	c->max_line = LIMIT_SMTP_LINE;
	c->max_data_line = LIMIT_DATA_LINE;
	c->max_size = LIMIT_MESSAGE_SIZE;
	c->max_rcpt = LIMIT_RCPT;
	c->max_messages = LIMIT_MESSAGES;
	c->max_commands = LIMIT_COMMANDS;
	c->max_errors = LIMIT_ERRORS;
	c->max_hops = LIMIT_HOPS;
	c->timeout = LIMIT_TIMEOUT;
	c->data_timeout = LIMIT_DATA_TIMEOUT;
	c->stress_timeout = LIMIT_STRESS_TIMEOUT;
	c->session_time = LIMIT_SESSION_TIME;
	c->max_conn = LIMIT_CONNECTIONS;
	c->max_conn_per_ip = LIMIT_CONN_PER_IP;
	c->rcpt_rate = LIMIT_RCPT_RATE;
	c->rcpt_rate_window = LIMIT_RCPT_RATE_WINDOW;
	c->greet_wait = LIMIT_GREET_WAIT;
}

static void
policy_unref(struct policy *p)
{
	if (p == NULL || __atomic_sub_fetch(&p->refs, 1, __ATOMIC_ACQ_REL) > 0)
		return;
	table_free(p->domains);
	table_free(p->partners);
	if (p->ssl)
		SSL_CTX_free(p->ssl);
	free(p);
}

static struct policy *
policy_load(const struct smtpd_conf *c, char *err, size_t errsz)
{
	struct policy *p = xcalloc(1, sizeof(*p));

	p->refs = 1;
	if ((p->domains = table_from_arg(c->domains, err, errsz)) == NULL)
		goto fail;
	if (c->tls_partners != NULL &&
	    (p->partners = table_load(c->tls_partners, err, errsz)) == NULL)
		goto fail;
	if (c->tls_cert != NULL &&
	    (p->ssl = tls_server_ctx(c->tls_cert, c->tls_key, err, errsz)) ==
	    NULL)
		goto fail;
	return p;
fail:
	policy_unref(p);
	return NULL;
}

static struct policy *
policy_get(struct smtpd *srv)
{
	struct policy *p;

	pthread_mutex_lock(&srv->polmu);
	p = srv->pol;
	__atomic_add_fetch(&p->refs, 1, __ATOMIC_ACQ_REL);
	pthread_mutex_unlock(&srv->polmu);
	return p;
}

static void
reload(struct smtpd *srv)
{
	char err[512];
	struct policy *p, *old;

	if ((p = policy_load(srv->c, err, sizeof(err))) == NULL) {
		log_warn("reload: %s: keeping the old tables and keys", err);
		return;
	}
	pthread_mutex_lock(&srv->polmu);
	old = srv->pol;
	srv->pol = p;
	pthread_mutex_unlock(&srv->polmu);
	policy_unref(old);
	log_info("reload: tables and keys reloaded");
}

/* idle() functions of the keytabs: may the entry go when the table is
 * full? */
static int
idle_never(const struct keytab_val *v, double now)
{
	(void)v;
	(void)now;
	return 0;
}

static int
idle_expired(const struct keytab_val *v, double now)
{
	return v->a < now;	/* a: expiry time */
}

struct smtpd *
smtpd_new(const struct smtpd_conf *c, char *err, size_t errsz)
{
	struct smtpd *srv = xcalloc(1, sizeof(*srv));
	long n;

	srv->c = c;
	srv->outfd = -1;
	pthread_mutex_init(&srv->polmu, NULL);
	pthread_mutex_init(&srv->qmu, NULL);
	pthread_cond_init(&srv->qcv, NULL);
	pthread_mutex_init(&srv->outmu, NULL);
	if ((srv->pol = policy_load(c, err, errsz)) == NULL)
		goto fail;
	srv->proxy_from = cidr_new();
	if (c->proxy_from != NULL && cidr_add_list(srv->proxy_from,
	    c->proxy_from, err, errsz) == -1)
		goto fail;
	srv->normalize = cidr_new();
	if (c->lf_normalize != NULL && cidr_add_list(srv->normalize,
	    c->lf_normalize, err, errsz) == -1)
		goto fail;
	srv->per_ip = keytab_new((size_t)c->max_conn + 16, idle_never);
	srv->rcpt_rate = keytab_new(200000, idle_expired);
	srv->greeted = keytab_new(100000, idle_expired);
	n = c->threads;
	if (n <= 0)
		n = sysconf(_SC_NPROCESSORS_ONLN);
	if (n < 1)
		n = 1;
	if (n > MAX_THREADS)
		n = MAX_THREADS;
	srv->nworkers = (int)n;
	return srv;
fail:
	smtpd_free(srv);
	return NULL;
}

/* ---- listening sockets ------------------------------------------------ */

static int
parse_hostport(const char *arg, char *host, size_t hsize, char *port,
    size_t psize)
{
	const char *colon;

	if (arg[0] == '[') {
		const char *end = strchr(arg, ']');

		if (end == NULL || end[1] != ':')
			return -1;
		snprintf(host, hsize, "%.*s", (int)(end - arg - 1), arg + 1);
		snprintf(port, psize, "%s", end + 2);
	} else {
		if ((colon = strrchr(arg, ':')) == NULL)
			return -1;
		snprintf(host, hsize, "%.*s", (int)(colon - arg), arg);
		snprintf(port, psize, "%s", colon + 1);
	}
	return host[0] && port[0] ? 0 : -1;
}

int
smtpd_bind(struct smtpd *srv, char *err, size_t errsz)
{
	struct addrinfo hints, *ai;
	char host[256], port[32];
	int i, t, fd, one = 1, r;

	for (i = 0; i < srv->c->nlisten; i++) {
		const char *a = srv->c->listen[i];

		if (parse_hostport(a, host, sizeof(host), port,
		    sizeof(port)) == -1) {
			snprintf(err, errsz, "listen %s: not ADDR:PORT", a);
			return -1;
		}
		memset(&hints, 0, sizeof(hints));
		hints.ai_socktype = SOCK_STREAM;
		hints.ai_flags = AI_PASSIVE | AI_NUMERICHOST | AI_NUMERICSERV;
		if ((r = getaddrinfo(host, port, &hints, &ai)) != 0) {
			snprintf(err, errsz, "listen %s: %s", a,
			    gai_strerror(r));
			return -1;
		}
		for (t = 0; t < srv->nworkers; t++) {
			fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK |
			    SOCK_CLOEXEC, 0);
			if (fd == -1 ||
			    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one,
			    sizeof(one)) == -1 ||
			    setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one,
			    sizeof(one)) == -1 ||
			    (ai->ai_family == AF_INET6 && setsockopt(fd,
			    IPPROTO_IPV6, IPV6_V6ONLY, &one,
			    sizeof(one)) == -1) ||
			    bind(fd, ai->ai_addr, ai->ai_addrlen) == -1 ||
			    listen(fd, 4096) == -1) {
				snprintf(err, errsz, "listen %s: %s", a,
				    strerror(errno));
				if (fd != -1)
					close(fd);
				freeaddrinfo(ai);
				return -1;
			}
			srv->fds[i][t] = fd;
		}
		freeaddrinfo(ai);
		srv->nfds = i + 1;
	}
	return 0;
}

/* ---- records ---------------------------------------------------------- */

static void
write_record(struct smtpd *srv, const char *rec, size_t len, const char *id)
{
	size_t off = 0;
	ssize_t n;

	if (srv->outfd == -1)
		return;
	pthread_mutex_lock(&srv->outmu);
	while (off < len) {
		n = write(srv->outfd, rec + off, len - off);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0) {
			/* The message is stored; its record can be rebuilt
			 * from the spool (mail-ls).  Say so once. */
			if (!srv->out_failed)
				log_warn("%s: write record: %s (records can "
				    "be rebuilt with mail-ls)", id,
				    n == -1 ? strerror(errno) : "short write");
			srv->out_failed = 1;
			break;
		}
		off += (size_t)n;
	}
	pthread_mutex_unlock(&srv->outmu);
}

/* ---- backpressure ----------------------------------------------------- */

static const char *const level_names[] = { "normal", "slow", "defer",
    "refuse" };

/* Look at the spool's filesystem and the high-water flag. */
static void
level_update(struct smtpd *srv)
{
	const struct smtpd_conf *c = srv->c;
	struct statvfs sv;
	long long freeb = -1, inodes = -1;
	int disk = LV_OK, flag = LV_OK, lv, old;

	if (statvfs(srv->spool, &sv) == 0) {
		freeb = (long long)sv.f_bavail * (long long)sv.f_frsize;
		inodes = sv.f_files ? (long long)sv.f_favail : -1;
		if (freeb < c->min_free ||
		    (inodes >= 0 && inodes < c->min_inodes))
			disk = LV_REFUSE;
		else if (freeb < 2 * c->min_free ||
		    (inodes >= 0 && inodes < 2 * c->min_inodes))
			disk = LV_DEFER;
		else if (freeb < 4 * c->min_free ||
		    (inodes >= 0 && inodes < 4 * c->min_inodes))
			disk = LV_SLOW;
	}
	if (c->high_water != NULL) {
		int fd = open(c->high_water, O_RDONLY | O_CLOEXEC);

		if (fd != -1) {
			char word[16] = "";
			ssize_t n = read(fd, word, sizeof(word) - 1);

			close(fd);
			word[n > 0 ? n : 0] = '\0';
			if (strncmp(word, "slow", 4) == 0)
				flag = LV_SLOW;
			else if (strncmp(word, "refuse", 6) == 0)
				flag = LV_REFUSE;
			else
				flag = LV_DEFER;
		}
	}
	lv = disk > flag ? disk : flag;
	__atomic_store_n(&srv->free_bytes, freeb, __ATOMIC_RELAXED);
	__atomic_store_n(&srv->level_disk, disk >= flag && disk > LV_OK,
	    __ATOMIC_RELAXED);
	old = __atomic_exchange_n(&srv->level, lv, __ATOMIC_RELAXED);
	if (old != lv)
		log_info("spool: %s: free=%lldMiB inodes=%lld high-water=%s",
		    level_names[lv], freeb >= 0 ? freeb / 1048576 : -1, inodes,
		    flag ? level_names[flag] : "none");
}

static int
level_get(struct smtpd *srv)
{
	return __atomic_load_n(&srv->level, __ATOMIC_RELAXED);
}

/* The reply to a new transaction while deferring. */
static const char *
defer_text(struct smtpd *srv)
{
	if (__atomic_load_n(&srv->level_disk, __ATOMIC_RELAXED))
		return "452 4.3.1 Insufficient system storage";
	return "451 4.3.2 System busy, try again later";
}

/* ---- replies ---------------------------------------------------------- */

static void session_input(struct session *);
static void listeners_enable(struct worker *, int);
static void session_free(struct session *);
static void close_session(struct session *);
static void start_greeting(struct session *);
static void closing_cb(evutil_socket_t, short, void *);

static void __attribute__((format(printf, 2, 3)))
reply(struct session *s, const char *fmt, ...)
{
	struct evbuffer *out = bufferevent_get_output(s->bev);
	va_list ap;

	va_start(ap, fmt);
	evbuffer_add_vprintf(out, fmt, ap);
	va_end(ap);
	evbuffer_add(out, "\r\n", 2);
}

/* An address from the wire, escaped for a log line (buf: ESC_MAX). */
#define ESC_MAX (LIMIT_SMTP_PATH * 4 + 8)
static const char *
esc(char *buf, const char *addr)
{
	if (addr == NULL)
		addr = "";
	return log_escape(buf, ESC_MAX, addr, strlen(addr));
}

/* The client's address for logs. */
static const char *
who(const struct session *s)
{
	return s->env.ip[0] ? s->env.ip : "unknown";
}

static void
set_read_timeout(struct session *s, int secs)
{
	struct timeval tv = { secs, 0 };
	const struct smtpd_conf *c = s->w->srv->c;

	if (level_get(s->w->srv) >= LV_SLOW ||
	    __atomic_load_n(&s->w->srv->nconn, __ATOMIC_RELAXED) >
	    c->max_conn * 3 / 4) {
		if (tv.tv_sec > c->stress_timeout)
			tv.tv_sec = c->stress_timeout;
	}
	bufferevent_set_timeouts(s->bev, &tv, &tv);
}

static void
later_cb(evutil_socket_t fd, short what, void *arg)
{
	struct session *s = arg;

	(void)fd;
	(void)what;
	if (s->later == NULL)
		return;
	reply(s, "%s", s->later);
	free(s->later);
	s->later = NULL;
	if (s->close_after_later) {
		close_session(s);
		return;
	}
	s->st = S_CMD;
	bufferevent_enable(s->bev, EV_READ);
	session_input(s);
}

/* Send text after ms milliseconds, reading nothing meanwhile. */
static void
reply_later(struct session *s, int ms, const char *text, int then_close)
{
	struct timeval tv = { ms / 1000, (ms % 1000) * 1000 };

	free(s->later);
	s->later = xstrdup(text);
	s->close_after_later = then_close;
	s->st = S_PAUSE;
	bufferevent_disable(s->bev, EV_READ);
	event_del(s->timer);
	event_assign(s->timer, s->w->base, -1, 0, later_cb, s);
	event_add(s->timer, &tv);
}

/* An error reply: counted; past half the limit each costs a second,
 * past the limit the session ends. */
static void
reply_error(struct session *s, const char *text)
{
	const struct smtpd_conf *c = s->w->srv->c;

	s->nerr++;
	if ((int)s->nerr >= c->max_errors) {
		log_info("%s: too many errors (%u), disconnecting", who(s),
		    s->nerr);
		reply(s, "%s", text);
		reply(s, "421 4.7.0 %s Error: too many errors", c->hostname);
		close_session(s);
		return;
	}
	if ((int)s->nerr > c->max_errors / 2) {
		reply_later(s, 1000, text, 0);
		return;
	}
	reply(s, "%s", text);
}

/* ---- transactions ----------------------------------------------------- */

static void
drop_file(struct session *s)
{
	if (s->have_file)
		maildir_abort(&s->mf);
	s->have_file = 0;
	free(s->wbuf);
	s->wbuf = NULL;
	s->wlen = 0;
	free(s->hdr);
	s->hdr = NULL;
}

static void
reset_transaction(struct session *s)
{
	drop_file(s);
	envelope_reset_mail(&s->env);
	s->in_mail = 0;
	s->bdat_mode = 0;
	s->bdat_fail = NULL;
}

static void
flush_wbuf(struct session *s)
{
	if (s->wlen == 0)
		return;
	if (s->have_file && s->werr == 0 &&
	    maildir_write(&s->mf, s->wbuf, s->wlen) == -1)
		s->werr = errno;
	s->written += s->wlen;
	s->wlen = 0;
}

/* Open the spool file and write the relay header block (DATA or the
 * first BDAT).  0, or -1 (logged; the caller replies). */
static int
begin_message(struct session *s)
{
	struct smtpd *srv = s->w->srv;
	char *head;
	size_t len;

	if (maildir_create(srv->md, &s->mf) == -1) {
		log_warn("%s: create spool file in %s: %s", who(s),
		    srv->spool, strerror(errno));
		return -1;
	}
	s->have_file = 1;
	s->werr = 0;
	s->written = 0;
	snprintf(s->env.id, sizeof(s->env.id), "%s", s->mf.name);
	s->env.received = time(NULL);
	head = envelope_header(&s->env, srv->c->hostname, &len);
	s->wbuf = xmalloc(WBUF_SIZE);
	s->wlen = 0;
	if (len <= WBUF_SIZE / 2) {
		/* out with the first body bytes, in one write */
		memcpy(s->wbuf, head, len);
		s->wlen = len;
		s->written = 0;
	} else {
		if (maildir_write(&s->mf, head, len) == -1)
			s->werr = errno;
		s->written = len;
	}
	free(head);
	s->hdr = xmalloc(sizeof(*s->hdr));
	smtp_hdr_init(s->hdr);
	return 0;
}

static void
queue_job(struct smtpd *srv, struct job *j)
{
	pthread_mutex_lock(&srv->qmu);
	j->next = NULL;
	if (srv->qtail)
		srv->qtail->next = j;
	else
		srv->qhead = j;
	srv->qtail = j;
	pthread_cond_signal(&srv->qcv);
	pthread_mutex_unlock(&srv->qmu);
}

/*
 * SLUICE_RECORD for a record too big for one environment variable (Linux
 * allows 128 KiB): the first recipients only, and "truncated": true in
 * the envelope.  Still valid JSON; the message on stdin is whole.
 */
static char *
check_record(const json_t *rec)
{
	json_t *copy = json_deep_copy(rec), *env, *to, *params, *rp;
	char *out;
	size_t len, keep = 100;

	env = json_object_get(copy, "envelope");
	to = json_object_get(env, "to");
	params = json_object_get(env, "params");
	rp = json_object_get(params, "rcpt");
	for (;;) {
		while (json_array_size(to) > keep)
			json_array_remove(to, json_array_size(to) - 1);
		while (json_array_size(rp) > keep)
			json_array_remove(rp, json_array_size(rp) - 1);
		json_object_set_new(env, "truncated", json_true());
		out = record_dumps(copy, &len);
		if (out == NULL || len <= CHECK_RECORD_MAX || keep == 0)
			break;
		free(out);
		keep /= 2;
	}
	json_decref(copy);
	return out;
}

/* The end of DATA or of the last BDAT chunk: judge, then commit. */
static void
end_message(struct session *s)
{
	struct smtpd *srv = s->w->srv;
	const struct smtpd_conf *c = srv->c;
	const char *why = NULL, *code = NULL;
	struct job *j;
	json_t *rec;
	char path[4096];
	int f = s->dd.flags, i;

	flush_wbuf(s);
	if (f & SMTP_DATA_BIG) {
		code = "552 5.3.4 Error: message file too big";
		why = "message too big";
	} else if (f & (SMTP_DATA_BARE_LF | SMTP_DATA_BARE_CR)) {
		code = "550 5.5.2 Error: bare CR or LF in message "
		    "(RFC 5321 2.3.8)";
		why = f & SMTP_DATA_BARE_LF ? "bare LF" : "bare CR";
	} else if (f & SMTP_DATA_NUL) {
		code = "550 5.6.0 Error: NUL byte in message";
		why = "NUL byte";
	} else if (f & SMTP_DATA_LONG) {
		code = "550 5.5.2 Error: message line too long";
		why = "line too long";
	} else if ((int)s->hdr->received >= c->max_hops) {
		code = "554 5.4.6 Error: too many hops";
		why = "too many Received fields";
	} else if (s->werr != 0) {
		log_warn("%s: write spool file %s: %s", who(s), s->mf.name,
		    strerror(s->werr));
		code = "451 4.3.0 Error: queue file write error";
		why = NULL;
	}
	if (code != NULL) {
		if (why != NULL)
		{
			char e1[ESC_MAX];

			log_info("%s: reject: %s from=<%s> rcpts=%zu", who(s),
			    why, esc(e1, s->env.from), s->env.nrcpt);
		}
		reset_transaction(s);
		s->st = S_CMD;
		reply_error(s, code);
		return;
	}
	for (i = 0; i < SMTP_HDR_NFIELDS; i++)
		envelope_set(&s->env.hdr[i], smtp_hdr_get(s->hdr, i));
	s->env.size = s->written;
	snprintf(path, sizeof(path), "%s/new/%s", srv->spool, s->mf.name);
	envelope_set(&s->env.path, path);
	s->env.relayed = 1;
	rec = envelope_record(&s->env);
	j = xcalloc(1, sizeof(*j));
	j->s = s;
	j->w = s->w;
	j->mf = s->mf;
	j->record = record_dumps(rec, &j->reclen);
	if (j->record == NULL)
		bug("record of %s cannot be encoded", s->mf.name);
	if (c->check != NULL && j->reclen > CHECK_RECORD_MAX)
		j->envrec = check_record(rec);
	json_decref(rec);
	s->have_file = 0;	/* the job owns it now */
	free(s->wbuf);
	s->wbuf = NULL;
	free(s->hdr);
	s->hdr = NULL;
	s->job = j;
	s->st = S_COMMIT;
	bufferevent_disable(s->bev, EV_READ);
	queue_job(srv, j);
}

/* ---- the commit pool -------------------------------------------------- */

/* Printable ASCII of the check's first stderr line, for a reply. */
static void
clean_text(char *s)
{
	char *o = s;

	for (; *s != '\0' && *s != '\n'; s++)
		*o++ = (*s >= 32 && *s < 127) ? *s : '?';
	*o = '\0';
}

/* Length of an enhanced status code "C.SSS.DDD" (RFC 3463) of class c
 * followed by a space at the start of s, or 0. */
static size_t
enhanced_code(const char *s, char c)
{
	size_t i = 2, n;
	int part;

	if (s[0] != c || s[1] != '.')
		return 0;
	for (part = 0; part < 2; part++) {
		for (n = 0; s[i] >= '0' && s[i] <= '9' && n < 3; n++)
			i++;
		if (n == 0 || s[i] != (part == 0 ? '.' : ' '))
			return 0;
		i++;
	}
	return i - 1;
}

/* "5.7.26 text" keeps its code if of the right class; else default. */
static void
check_reply(char *buf, size_t size, const char *code, const char *dflt,
    const char *text)
{
	if (enhanced_code(text, code[0]) > 0)
		snprintf(buf, size, "%.3s %.200s", dflt, text);
	else
		snprintf(buf, size, "%s %.200s", dflt, text[0] ? text :
		    (code[0] == '5' ? "Error: message rejected" :
		    "Error: try again later"));
}

/*
 * Run the --check command on the message: stdin the file, SLUICE_RECORD
 * the record.  Returns its exit status (0, 100, 111...), or -1 when it
 * could not run, timed out or died; text gets its first stderr line.
 */
static int
run_check(struct smtpd *srv, struct job *j, char *text, size_t tsize)
{
	const struct smtpd_conf *c = srv->c;
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t at;
	char *envrec, **envp, buf[1024];
	char *argv[] = { "sh", "-c", (char *)c->check, NULL };
	int msgfd, nul, pfd[2], status = 0, n = 0, r, k;
	size_t got = 0, i, nenv;
	double deadline;
	pid_t pid;

	text[0] = '\0';
	if ((msgfd = maildir_reopen(&j->mf)) == -1)
		return -1;
	if ((nul = open("/dev/null", O_WRONLY | O_CLOEXEC)) == -1) {
		close(msgfd);
		return -1;
	}
	if (pipe2(pfd, O_CLOEXEC) == -1) {
		close(msgfd);
		close(nul);
		return -1;
	}
	/* The environment with SLUICE_RECORD set; a record too big for one
	 * variable (Linux allows 128 KiB) is cut to its first line part. */
	for (nenv = 0; environ[nenv] != NULL; nenv++)
		;
	envp = xcalloc(nenv + 2, sizeof(*envp));
	for (i = 0, k = 0; i < nenv; i++)
		if (strncmp(environ[i], "SLUICE_RECORD=", 14) != 0)
			envp[k++] = environ[i];
	{
		const char *rs = j->envrec ? j->envrec : j->record;
		size_t rl = strlen(rs);

		envrec = xmalloc(rl + 16);
		/* without the record's final newline */
		snprintf(envrec, rl + 16, "SLUICE_RECORD=%.*s", (int)(rl - 1),
		    rs);
	}
	envp[k] = envrec;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, msgfd, 0);
	posix_spawn_file_actions_adddup2(&fa, nul, 1);
	posix_spawn_file_actions_adddup2(&fa, pfd[1], 2);
	posix_spawnattr_init(&at);
	/* its own process group, so that a timeout kills all it started */
	posix_spawnattr_setflags(&at, POSIX_SPAWN_SETPGROUP);
	posix_spawnattr_setpgroup(&at, 0);
	r = posix_spawn(&pid, "/bin/sh", &fa, &at, argv, envp);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&at);
	free(envrec);
	free(envp);
	close(msgfd);
	close(nul);
	close(pfd[1]);
	if (r != 0) {
		close(pfd[0]);
		errno = r;
		return -1;
	}
	/* Read stderr until EOF or the deadline. */
	deadline = now_d() + c->check_timeout;
	for (;;) {
		struct pollfd p = { pfd[0], POLLIN, 0 };
		double left = deadline - now_d();

		if (left <= 0) {
			kill(-pid, SIGKILL);
			n = -2;
			break;
		}
		r = poll(&p, 1, (int)(left * 1000) + 1);
		if (r == -1 && errno == EINTR)
			continue;
		if (r <= 0)
			continue;
		if (got < sizeof(buf) - 1) {
			ssize_t m = read(pfd[0], buf + got,
			    sizeof(buf) - 1 - got);

			if (m <= 0)
				break;
			got += (size_t)m;
		} else {
			char sink[4096];

			if (read(pfd[0], sink, sizeof(sink)) <= 0)
				break;
		}
	}
	close(pfd[0]);
	buf[got] = '\0';
	clean_text(buf);
	snprintf(text, tsize, "%.200s", buf);
	/* stderr closed: the command may live on; the deadline holds */
	for (;;) {
		pid_t w = waitpid(pid, &status, n == -2 ? 0 : WNOHANG);

		if (w == pid)
			break;
		if (w == -1 && errno != EINTR)
			break;
		if (w == 0) {
			struct timespec ms10 = { 0, 10000000 };

			if (now_d() >= deadline) {
				kill(-pid, SIGKILL);
				n = -2;
			} else
				nanosleep(&ms10, NULL);
		}
	}
	if (n == -2) {
		snprintf(text, tsize, "check timed out");
		return -1;
	}
	if (!WIFEXITED(status)) {
		snprintf(text, tsize, "check killed by signal %d",
		    WIFSIGNALED(status) ? WTERMSIG(status) : 0);
		return -1;
	}
	return WEXITSTATUS(status);
}

static void
commit_job(struct smtpd *srv, struct job *j)
{
	char text[256];
	int r;

	if (srv->c->check != NULL) {
		r = run_check(srv, j, text, sizeof(text));
		if (r != 0) {
			if (r == 100)
				check_reply(j->reply, sizeof(j->reply), "5",
				    "550 5.7.1", text);
			else if (r == 111)
				check_reply(j->reply, sizeof(j->reply), "4",
				    "451 4.7.1", text);
			else {
				log_warn("%s: check: %s", j->mf.name, r == -1 ?
				    text : "unexpected exit status");
				snprintf(j->reply, sizeof(j->reply),
				    "451 4.3.0 Error: message check failed");
			}
			log_info("%s: check: %s", j->mf.name, j->reply);
			maildir_abort(&j->mf);
			return;
		}
	}
	if (maildir_commit(&j->mf) == -1) {
		log_warn("%s: commit to %s/new: %s", j->mf.name, srv->spool,
		    strerror(errno));
		snprintf(j->reply, sizeof(j->reply),
		    "451 4.3.0 Error: queue file write error");
		return;
	}
	j->accepted = 1;
	write_record(srv, j->record, j->reclen, j->mf.name);
	snprintf(j->reply, sizeof(j->reply), "250 2.0.0 Ok: queued as %s",
	    j->mf.name);
}

static void *
pool_main(void *arg)
{
	struct smtpd *srv = arg;
	struct job *j;

	for (;;) {
		pthread_mutex_lock(&srv->qmu);
		while (srv->qhead == NULL && !srv->qstop)
			pthread_cond_wait(&srv->qcv, &srv->qmu);
		if (srv->qhead == NULL) {
			pthread_mutex_unlock(&srv->qmu);
			return NULL;
		}
		j = srv->qhead;
		srv->qhead = j->next;
		if (srv->qhead == NULL)
			srv->qtail = NULL;
		pthread_mutex_unlock(&srv->qmu);
		commit_job(srv, j);
		pthread_mutex_lock(&j->w->mu);
		j->next = j->w->done;
		j->w->done = j;
		pthread_mutex_unlock(&j->w->mu);
		event_active(j->w->done_ev, EV_READ, 0);
	}
}

/* In the worker: jobs back from the pool. */
static void
done_cb(evutil_socket_t fd, short what, void *arg)
{
	struct worker *w = arg;
	struct job *list, *j;
	struct session *s;

	(void)fd;
	(void)what;
	pthread_mutex_lock(&w->mu);
	list = w->done;
	w->done = NULL;
	pthread_mutex_unlock(&w->mu);
	while ((j = list) != NULL) {
		list = j->next;
		s = j->s;
		s->job = NULL;
		if (j->accepted) {
			char e1[ESC_MAX];

			log_info("%s: accepted from=<%s> rcpts=%zu size=%llu "
			    "client=%s%s%s", j->mf.name, esc(e1, s->env.from),
			    s->env.nrcpt, s->env.size, who(s),
			    s->env.tls ? " tls=" : "",
			    s->env.tls ? s->env.tls_version : "");
			s->nmsg++;
		}
		if (s->gone) {
			if (j->accepted)
				log_info("%s: client %s left before the reply",
				    j->mf.name, who(s));
			session_free(s);
		} else {
			reset_transaction(s);
			s->st = S_CMD;
			if (j->accepted)
				reply(s, "%s", j->reply);
			else
				reply_error(s, j->reply);
			if (s->st == S_CMD) {
				if (s->shutdown) {
					reply(s, "421 4.3.2 %s Service shutting "
					    "down", s->w->srv->c->hostname);
					close_session(s);
				} else {
					set_read_timeout(s, s->w->srv->c->timeout);
					s->cmd_start = time(NULL);
					bufferevent_enable(s->bev, EV_READ);
					session_input(s);
				}
			}
		}
		free(j->record);
		free(j->envrec);
		free(j);
	}
}

/* ---- commands --------------------------------------------------------- */

static const char *
domain_of(const char *addr)
{
	const char *at = strrchr(addr, '@');

	return at ? at + 1 : NULL;
}

static int
ip_count(struct keytab_val *v, int isnew, void *arg)
{
	int delta = *(int *)arg;

	(void)isnew;
	v->a += delta;
	return (int)v->a;
}

struct rate_arg {
	double now;
	double interval;	/* seconds per message at the sustained rate */
	double tolerance;	/* how far ahead of now the schedule may run */
};

/*
 * A per-recipient rate as a generic cell rate algorithm: a = the time the
 * recipient's schedule has reached.  Each message moves it one interval
 * on; a message that would push it more than the burst ahead of now is
 * over the rate.  An entry whose time has passed is a full bucket, and
 * may be dropped when the table is full (idle_expired).
 */
static int
rate_take(struct keytab_val *v, int isnew, void *arg)
{
	struct rate_arg *ra = arg;
	double tat = (isnew || v->a < ra->now) ? ra->now : v->a;

	if (tat - ra->now > ra->tolerance)
		return 2;	/* over the rate */
	v->a = tat + ra->interval;
	return 1;
}

static int
rcpt_rate_ok(struct session *s, const char *addr)
{
	const struct smtpd_conf *c = s->w->srv->c;
	struct rate_arg ra;
	char key[KEYTAB_KEY];
	size_t i;

	if (c->rcpt_rate <= 0)
		return 1;
	for (i = 0; addr[i] != '\0' && i < sizeof(key) - 1; i++)
		key[i] = (char)((addr[i] >= 'A' && addr[i] <= 'Z') ?
		    addr[i] + 32 : addr[i]);
	key[i] = '\0';
	ra.now = now_d();
	ra.interval = (double)c->rcpt_rate_window / (double)c->rcpt_rate;
	/* the whole allowance may come at once, then one per interval */
	ra.tolerance = ra.interval * (double)(c->rcpt_rate - 1);
	return keytab_update(s->w->srv->rcpt_rate, key, ra.now, rate_take,
	    &ra) != 2;
}

static void
cmd_ehlo(struct session *s, const struct smtp_cmd *cmd)
{
	const struct smtpd_conf *c = s->w->srv->c;
	struct evbuffer *out = bufferevent_get_output(s->bev);

	reset_transaction(s);
	envelope_set(&s->env.helo, cmd->arg);
	s->env.esmtp = cmd->verb == SMTP_EHLO;
	if (cmd->verb == SMTP_HELO) {
		reply(s, "250 %s", c->hostname);
		return;
	}
	evbuffer_add_printf(out, "250-%s\r\n250-PIPELINING\r\n"
	    "250-SIZE %lld\r\n", c->hostname, c->max_size);
	if (s->pol->ssl != NULL && !s->env.tls)
		evbuffer_add_printf(out, "250-STARTTLS\r\n");
	evbuffer_add_printf(out, "250-ENHANCEDSTATUSCODES\r\n250-8BITMIME\r\n"
	    "250-DSN\r\n250-SMTPUTF8\r\n250 CHUNKING\r\n");
}

static void
cmd_mail(struct session *s, const struct smtp_cmd *cmd)
{
	struct smtpd *srv = s->w->srv;
	const struct smtpd_conf *c = srv->c;
	const char *size = smtp_param(cmd, "SIZE"), *d;
	int lv = level_get(srv);
	char *params;

	if (s->env.helo == NULL) {
		reply_error(s, "503 5.5.1 Error: send HELO/EHLO first");
		return;
	}
	if (s->in_mail) {
		reply_error(s, "503 5.5.1 Error: nested MAIL command");
		return;
	}
	if ((int)s->nmsg >= c->max_messages) {
		log_info("%s: too many messages (%u), disconnecting", who(s),
		    s->nmsg);
		reply(s, "421 4.7.0 %s Error: too many messages in this "
		    "session", c->hostname);
		close_session(s);
		return;
	}
	if (lv >= LV_DEFER) {
		reply_error(s, defer_text(srv));
		return;
	}
	d = domain_of(cmd->path);
	if (!s->env.tls && (c->require_tls || (s->pol->partners != NULL &&
	    ((d != NULL && table_has_domain(s->pol->partners, d)) ||
	    table_has_addr(s->pol->partners,
	    (struct sockaddr *)&s->peer))))) {
		char e1[ESC_MAX];

		log_info("%s: reject: MAIL from=<%s>: TLS required", who(s),
		    esc(e1, cmd->path));
		reply_error(s, "530 5.7.0 Must issue a STARTTLS command first");
		return;
	}
	if (size != NULL) {
		unsigned long long n = strtoull(size, NULL, 10);
		long long freeb = __atomic_load_n(&srv->free_bytes,
		    __ATOMIC_RELAXED);

		if (n > (unsigned long long)c->max_size) {
			reply_error(s, "552 5.3.4 Message size exceeds fixed "
			    "limit");
			return;
		}
		if (freeb >= 0 && (long long)n > freeb - c->min_free) {
			reply_error(s, "452 4.3.1 Insufficient system storage");
			return;
		}
	}
	if (cmd->path_8bit && smtp_param(cmd, "SMTPUTF8") == NULL) {
		reply_error(s, "553 5.6.7 Error: non-ASCII address needs "
		    "SMTPUTF8");
		return;
	}
	envelope_set(&s->env.from, cmd->path);
	params = envelope_params(cmd);
	free(s->env.mail_params);
	s->env.mail_params = params;
	s->in_mail = 1;
	if (lv == LV_SLOW) {
		reply_later(s, 1000, "250 2.1.0 Ok", 0);
		return;
	}
	reply(s, "250 2.1.0 Ok");
}

static void
cmd_rcpt(struct session *s, const struct smtp_cmd *cmd)
{
	const struct smtpd_conf *c = s->w->srv->c;
	const char *d;
	char *params;
	size_t i;

	if (!s->in_mail) {
		reply_error(s, "503 5.5.1 Error: need MAIL command");
		return;
	}
	if ((int)s->env.nrcpt >= c->max_rcpt) {
		reply_error(s, "452 4.5.3 Error: too many recipients");
		return;
	}
	if (cmd->path_8bit &&
	    !envelope_has_param(s->env.mail_params, "SMTPUTF8")) {
		reply_error(s, "553 5.6.7 Error: non-ASCII address needs "
		    "SMTPUTF8");
		return;
	}
	d = domain_of(cmd->path);
	if (d != NULL && !table_has_domain(s->pol->domains, d)) {
		char e1[ESC_MAX], e2[ESC_MAX];

		log_info("%s: reject: RCPT from=<%s> to=<%s>: relay access "
		    "denied", who(s), esc(e1, s->env.from), esc(e2, cmd->path));
		reply_error(s, "550 5.7.1 Error: relay access denied");
		return;
	}
	for (i = 0; i < s->env.nrcpt; i++)
		if (strcasecmp(s->env.rcpt[i].addr, cmd->path) == 0) {
			reply(s, "250 2.1.5 Ok");	/* a repeat */
			return;
		}
	if (!rcpt_rate_ok(s, cmd->path)) {
		char e1[ESC_MAX], e2[ESC_MAX];

		log_info("%s: reject: RCPT from=<%s> to=<%s>: recipient rate "
		    "limit", who(s), esc(e1, s->env.from), esc(e2, cmd->path));
		reply(s, "421 4.7.0 %s Error: too much mail for this "
		    "recipient, try again later", c->hostname);
		close_session(s);
		return;
	}
	params = envelope_params(cmd);
	envelope_add_rcpt(&s->env, cmd->path, params);
	free(params);
	reply(s, "250 2.1.5 Ok");
}

static int
transaction_ready(struct session *s)
{
	if (!s->in_mail) {
		reply_error(s, "503 5.5.1 Error: need MAIL command");
		return 0;
	}
	if (s->env.nrcpt == 0) {
		reply_error(s, "554 5.5.1 Error: no valid recipients");
		return 0;
	}
	if (level_get(s->w->srv) >= LV_DEFER) {
		reply_error(s, defer_text(s->w->srv));
		return 0;
	}
	return 1;
}

static void
cmd_data(struct session *s)
{
	const struct smtpd_conf *c = s->w->srv->c;

	if (s->bdat_mode) {
		reply_error(s, "503 5.5.1 Error: DATA after BDAT");
		return;
	}
	if (!transaction_ready(s))
		return;
	if (begin_message(s) == -1) {
		reset_transaction(s);
		reply_error(s, "451 4.3.0 Error: queue file write error");
		return;
	}
	smtp_data_init(&s->dd, 1, s->normalize, c->max_data_line,
	    (unsigned long long)c->max_size);
	reply(s, "354 End data with <CR><LF>.<CR><LF>");
	s->st = S_DATA;
	set_read_timeout(s, c->data_timeout);
}

static void
cmd_bdat(struct session *s, const struct smtp_cmd *cmd)
{
	const struct smtpd_conf *c = s->w->srv->c;

	s->bdat_left = cmd->bdat_size;
	s->bdat_last = cmd->bdat_last;
	s->st = S_BDAT;
	set_read_timeout(s, c->data_timeout);
	if (s->bdat_fail != NULL)
		return;		/* a failed transaction: read, then refuse */
	if (!s->bdat_mode) {
		if (!s->in_mail) {
			s->bdat_fail = "503 5.5.1 Error: need MAIL command";
			return;
		}
		if (s->env.nrcpt == 0) {
			s->bdat_fail = "554 5.5.1 Error: no valid recipients";
			return;
		}
		if (level_get(s->w->srv) >= LV_DEFER) {
			s->bdat_fail = defer_text(s->w->srv);
			return;
		}
		if (begin_message(s) == -1) {
			s->bdat_fail = "451 4.3.0 Error: queue file write error";
			return;
		}
		smtp_data_init(&s->dd, 0, s->normalize, c->max_data_line,
		    (unsigned long long)c->max_size);
		s->bdat_mode = 1;
	}
}

/* The end of a BDAT chunk. */
static void
bdat_chunk_done(struct session *s)
{
	const char *fail = s->bdat_fail;

	if (fail != NULL) {
		/* the transaction failed: it stays failed until RSET or
		 * a BDAT LAST, each chunk read and refused */
		if (s->bdat_last) {
			reset_transaction(s);
			s->bdat_fail = NULL;
		} else
			drop_file(s);
		s->st = S_CMD;
		set_read_timeout(s, s->w->srv->c->timeout);
		reply_error(s, fail);
		return;
	}
	if (s->bdat_last) {
		char tail[2];
		size_t n = smtp_data_finish(&s->dd, tail);

		if (n > 0 && WBUF_SIZE - s->wlen < n)
			flush_wbuf(s);
		memcpy(s->wbuf + s->wlen, tail, n);
		s->wlen += n;
		end_message(s);
		return;
	}
	s->st = S_CMD;
	set_read_timeout(s, s->w->srv->c->timeout);
	reply(s, "250 2.0.0 %llu octets received", s->dd.size);
}

static void
cmd_starttls(struct session *s)
{
	struct evbuffer *in = bufferevent_get_input(s->bev);
	size_t junk;

	if (s->pol->ssl == NULL) {
		reply_error(s, "454 4.7.0 TLS not available");
		return;
	}
	if (s->env.tls) {
		reply_error(s, "554 5.5.1 Error: TLS already active");
		return;
	}
	/* Whatever came after STARTTLS was sent before our 220: it is not
	 * part of the TLS session and must not be read as commands in it
	 * (CVE-2011-0411). */
	if ((junk = evbuffer_get_length(in)) > 0) {
		log_info("%s: discarded %zu bytes pipelined after STARTTLS",
		    who(s), junk);
		evbuffer_drain(in, junk);
	}
	reset_transaction(s);
	reply(s, "220 2.0.0 Ready to start TLS");
	s->st = S_TLS_WAIT;
	bufferevent_disable(s->bev, EV_READ);
}

static void
process_command(struct session *s, char *line, size_t len)
{
	const struct smtpd_conf *c = s->w->srv->c;
	struct smtp_cmd cmd;
	const char *err;

	if (++s->ncmd > (unsigned)c->max_commands) {
		log_info("%s: too many commands, disconnecting", who(s));
		reply(s, "421 4.7.0 %s Error: too many commands", c->hostname);
		close_session(s);
		return;
	}
	s->cmd_start = time(NULL);
	if (smtp_parse(line, len, &cmd, &err) == -1) {
		reply_error(s, err);
		return;
	}
	switch (cmd.verb) {
	case SMTP_HELO:
	case SMTP_EHLO:
		cmd_ehlo(s, &cmd);
		break;
	case SMTP_MAIL:
		cmd_mail(s, &cmd);
		break;
	case SMTP_RCPT:
		cmd_rcpt(s, &cmd);
		break;
	case SMTP_DATA:
		cmd_data(s);
		break;
	case SMTP_BDAT:
		cmd_bdat(s, &cmd);
		break;
	case SMTP_RSET:
		reset_transaction(s);
		reply(s, "250 2.0.0 Ok");
		break;
	case SMTP_NOOP:
		reply(s, "250 2.0.0 Ok");
		break;
	case SMTP_QUIT:
		reply(s, "221 2.0.0 Bye");
		close_session(s);
		break;
	case SMTP_STARTTLS:
		cmd_starttls(s);
		break;
	case SMTP_VRFY:
		reply(s, "502 5.5.1 Error: VRFY command is disabled");
		break;
	case SMTP_EXPN:
		reply(s, "502 5.5.1 Error: EXPN command is disabled");
		break;
	case SMTP_HELP:
		reply(s, "214 2.0.0 See RFC 5321");
		break;
	case SMTP_AUTH:
		reply_error(s, "503 5.5.1 Error: authentication not enabled");
		break;
	case SMTP_FORBIDDEN:
		log_info("%s: reject: HTTP command on SMTP port", who(s));
		reply(s, "521 5.5.1 Error: this is an SMTP server");
		close_session(s);
		break;
	case SMTP_UNKNOWN:
		reply_error(s, "500 5.5.1 Error: command not recognized");
		break;
	}
}

/* ---- input ------------------------------------------------------------ */

/* One command line from the input, if complete.  Returns 1 with the
 * line processed, 0 when more input is needed, -1 when the session is
 * closing. */
static int
input_command(struct session *s, struct evbuffer *in)
{
	const struct smtpd_conf *c = s->w->srv->c;
	struct evbuffer_ptr p;
	size_t eol, len, avail = evbuffer_get_length(in);
	char *line = s->w->line;

	p = evbuffer_search_eol(in, NULL, &eol, EVBUFFER_EOL_LF);
	if (p.pos == -1) {
		if (avail > c->max_line) {
			log_info("%s: command line too long", who(s));
			reply(s, "500 5.5.2 Error: line too long");
			close_session(s);
			return -1;
		}
		return 0;
	}
	len = (size_t)p.pos;
	if (len + 1 > c->max_line) {
		log_info("%s: command line too long", who(s));
		reply(s, "500 5.5.2 Error: line too long");
		close_session(s);
		return -1;
	}
	evbuffer_remove(in, line, len + 1);
	if (len > 0 && line[len - 1] == '\r')
		len--;
	else if (!s->normalize) {
		/* A bare LF ends no command here (SMTP smuggling). */
		log_info("%s: reject: bare LF in command", who(s));
		reply(s, "500 5.5.2 Error: bare LF in command");
		close_session(s);
		return -1;
	}
	process_command(s, line, len);
	return 1;
}

/* DATA or BDAT bytes.  Returns 1 when the body (or chunk) ended, else 0
 * (all input consumed). */
static int
input_body(struct session *s, struct evbuffer *in)
{
	struct evbuffer_iovec v[8];
	size_t outlen, take, total = 0;
	int n, i, done = 0;

	n = evbuffer_peek(in, -1, NULL, v, 8);
	for (i = 0; i < n && i < 8 && !done; i++) {
		const char *p = v[i].iov_base;
		size_t left = v[i].iov_len;

		if (s->st == S_BDAT && left > s->bdat_left)
			left = (size_t)s->bdat_left;
		while (left > 0 && !done) {
			if (WBUF_SIZE - s->wlen < 2)
				flush_wbuf(s);
			take = smtp_data_feed(&s->dd, p, left,
			    s->wbuf + s->wlen, WBUF_SIZE - s->wlen, &outlen,
			    &done);
			if (outlen > 0 && !s->hdr->done)
				smtp_hdr_feed(s->hdr, s->wbuf + s->wlen, outlen);
			s->wlen += outlen;
			p += take;
			left -= take;
			total += take;
			if (s->st == S_BDAT) {
				s->bdat_left -= take;
				if (s->bdat_left == 0)
					done = 1;
			}
		}
	}
	evbuffer_drain(in, total);
	return done;
}

/* BDAT of a failed transaction: read and discard the chunk. */
static int
discard_chunk(struct session *s, struct evbuffer *in)
{
	size_t avail = evbuffer_get_length(in);
	size_t take = avail < s->bdat_left ? avail : (size_t)s->bdat_left;

	evbuffer_drain(in, take);
	s->bdat_left -= take;
	return s->bdat_left == 0;
}

static void
session_input(struct session *s)
{
	struct evbuffer *in = bufferevent_get_input(s->bev);

	for (;;) {
		switch (s->st) {
		case S_CMD:
			if (evbuffer_get_length(in) == 0 ||
			    input_command(s, in) <= 0)
				return;
			break;
		case S_DATA:
			if (evbuffer_get_length(in) == 0)
				return;
			if (!input_body(s, in))
				return;
			s->st = S_CMD;
			set_read_timeout(s, s->w->srv->c->timeout);
			end_message(s);
			break;
		case S_BDAT:
			if (s->bdat_left > 0 && evbuffer_get_length(in) == 0)
				return;
			if (s->bdat_left > 0 && !(s->bdat_fail != NULL ?
			    discard_chunk(s, in) : input_body(s, in)))
				return;
			bdat_chunk_done(s);
			break;
		case S_GREET:
			if (evbuffer_get_length(in) == 0)
				return;
			log_info("%s: reject: talked before the greeting",
			    who(s));
			reply(s, "554 5.5.1 Error: talked before the greeting");
			close_session(s);
			return;
		default:
			return;
		}
	}
}

/* ---- session lifetime ------------------------------------------------- */

static void
session_free(struct session *s)
{
	struct worker *w = s->w;
	struct smtpd *srv = w->srv;
	int delta = -1;

	if (s->job != NULL) {
		/* the pool has a message of ours: free when it is back */
		s->gone = 1;
		if (s->bev != NULL) {
			bufferevent_free(s->bev);
			if (!s->tls_bev)
				close(s->fd);
			s->bev = NULL;
		}
		return;
	}
	if (s->dns_id > 0 && w->dns != NULL)
		dns_cancel(w->dns, s->dns_id);
	drop_file(s);
	if (s->bev != NULL) {
		bufferevent_free(s->bev);
		if (!s->tls_bev)
			close(s->fd);
	}
	if (s->timer) {
		event_del(s->timer);
		free(s->timer);
	}
	if (s->counted_ip)
		keytab_update(srv->per_ip, s->env.ip, 0, ip_count, &delta);
	envelope_clear(&s->env);
	policy_unref(s->pol);
	free(s->later);
	if (s->prev)
		s->prev->next = s->next;
	else
		w->sessions = s->next;
	if (s->next)
		s->next->prev = s->prev;
	w->nsessions--;
	__atomic_sub_fetch(&srv->nconn, 1, __ATOMIC_RELAXED);
	free(s);
	if (srv->ucspi && w->nsessions == 0)
		event_base_loopexit(w->base, NULL);
	if (w->stopping && w->nsessions == 0)
		event_base_loopexit(w->base, NULL);
}

/* Flush what is owed, then free. */
static void
close_session(struct session *s)
{
	s->st = S_CLOSING;
	bufferevent_disable(s->bev, EV_READ);
	event_del(s->timer);
	event_assign(s->timer, s->w->base, -1, 0, closing_cb, s);
	/* the write callback frees the session once the output is out */
	if (evbuffer_get_length(bufferevent_get_output(s->bev)) == 0)
		event_active(s->timer, EV_TIMEOUT, 0);
	else {
		struct timeval tv = { 10, 0 };

		bufferevent_set_timeouts(s->bev, NULL, &tv);
	}
}

static void start_tls(struct session *);

static void
closing_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	session_free(arg);
}

static void
write_cb(struct bufferevent *bev, void *arg)
{
	struct session *s = arg;

	(void)bev;
	if (s->st == S_CLOSING)
		session_free(s);
	else if (s->st == S_TLS_WAIT)
		start_tls(s);
}

static void
event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct session *s = arg;
	const struct smtpd_conf *c = s->w->srv->c;

	(void)bev;
	if (what & BEV_EVENT_CONNECTED) {
		/* the TLS handshake is done */
		SSL *ssl = bufferevent_openssl_get_ssl(s->bev);

		s->env.tls = 1;
		tls_facts(ssl, s->env.tls_version, sizeof(s->env.tls_version),
		    s->env.tls_cipher, sizeof(s->env.tls_cipher),
		    &s->env.tls_bits);
		envelope_set(&s->env.helo, NULL);	/* RFC 3207 4.2 */
		s->st = S_CMD;
		s->cmd_start = time(NULL);
		set_read_timeout(s, c->timeout);
		session_input(s);
		return;
	}
	if (what & BEV_EVENT_TIMEOUT) {
		if (s->st == S_CLOSING) {
			session_free(s);
			return;
		}
		log_info("%s: timeout in %s", who(s), s->st == S_DATA ||
		    s->st == S_BDAT ? "message" : s->st == S_TLS ?
		    "TLS handshake" : "command");
		if (s->st != S_TLS)
			reply(s, "421 4.4.2 %s Error: timeout exceeded",
			    c->hostname);
		close_session(s);
		return;
	}
	if (what & BEV_EVENT_ERROR) {
		unsigned long e;
		char buf[256];

		if (s->st == S_TLS && (e = bufferevent_get_openssl_error(
		    s->bev)) != 0) {
			ERR_error_string_n(e, buf, sizeof(buf));
			log_info("%s: TLS handshake failed: %s", who(s), buf);
		}
	}
	if (s->in_mail && (s->st == S_DATA || s->st == S_BDAT))
	{
		char e1[ESC_MAX];

		log_info("%s: lost connection during message from=<%s>",
		    who(s), esc(e1, s->env.from));
	}
	session_free(s);
}

static void
read_cb(struct bufferevent *bev, void *arg)
{
	struct session *s = arg;

	(void)bev;
	if (s->st == S_PROXY) {
		struct evbuffer *in = bufferevent_get_input(s->bev);
		size_t n = evbuffer_get_length(in), used;
		struct proxy_info pi;
		char err[128];
		enum proxy_status ps;
		unsigned char *p;

		if (n > PROXY_MAX)
			n = PROXY_MAX;
		p = evbuffer_pullup(in, (ssize_t)n);
		ps = proxy_parse(p, n, &used, &pi, err, sizeof(err));
		if (ps == PROXY_MORE)
			return;
		if (ps == PROXY_BAD) {
			log_info("%s: reject: %s", who(s), err);
			session_free(s);
			return;
		}
		evbuffer_drain(in, used);
		if (!pi.local) {
			s->peer = pi.src;
			cidr_addr_text((struct sockaddr *)&s->peer, s->env.ip,
			    sizeof(s->env.ip));
			s->env.port = ntohs(s->peer.ss_family == AF_INET ?
			    ((struct sockaddr_in *)&s->peer)->sin_port :
			    ((struct sockaddr_in6 *)&s->peer)->sin6_port);
		}
		start_greeting(s);
		return;
	}
	session_input(s);
}

static void
start_tls(struct session *s)
{
	struct worker *w = s->w;
	struct bufferevent *tb;
	SSL *ssl;

	if ((ssl = SSL_new(s->pol->ssl)) == NULL) {
		log_warn("%s: SSL_new failed", who(s));
		close_session(s);
		return;
	}
	/* The plain bufferevent goes, and with it any bytes it read. */
	bufferevent_free(s->bev);
	s->bev = NULL;
	tb = bufferevent_openssl_socket_new(w->base, s->fd, ssl,
	    BUFFEREVENT_SSL_ACCEPTING, BEV_OPT_CLOSE_ON_FREE);
	if (tb == NULL) {
		SSL_free(ssl);
		close(s->fd);
		s->tls_bev = 1;
		log_warn("%s: cannot start TLS", who(s));
		session_free(s);
		return;
	}
	s->bev = tb;
	s->tls_bev = 1;
	bufferevent_openssl_set_allow_dirty_shutdown(tb, 1);
	bufferevent_setcb(tb, read_cb, write_cb, event_cb, s);
	s->st = S_TLS;
	set_read_timeout(s, w->srv->c->timeout);
	bufferevent_enable(tb, EV_READ | EV_WRITE);
}

static void
send_banner(struct session *s)
{
	const struct smtpd_conf *c = s->w->srv->c;

	reply(s, "220 %s ESMTP sluice", c->hostname);
	s->st = S_CMD;
	s->cmd_start = time(NULL);
	set_read_timeout(s, c->timeout);
	session_input(s);
}

static int
greet_mark(struct keytab_val *v, int isnew, void *arg)
{
	(void)isnew;
	v->a = *(double *)arg;
	return 1;
}

static int
greet_check(struct keytab_val *v, int isnew, void *arg)
{
	double now = *(double *)arg;

	if (isnew || v->a < now)
		return 0;	/* unknown or expired: remove */
	return 1;
}

static void
greet_progress(struct session *s)
{
	double exp;

	if (!s->greet_timer_done || !s->ptr_done || s->st != S_GREET)
		return;
	if (s->greeted_full == 0) {
		/* passed the pre-greet watch: remember for a day */
		exp = now_d() + 86400;
		keytab_update(s->w->srv->greeted, s->env.ip, exp, greet_mark,
		    &exp);
	}
	send_banner(s);
}

static void
greet_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct session *s = arg;

	(void)fd;
	(void)what;
	if (!s->greet_timer_done) {
		s->greet_timer_done = 1;
		if (!s->ptr_done) {
			/* rDNS still out: wait a little longer, no more */
			struct timeval tv = { LIMIT_DNS_WAIT, 0 };

			event_add(s->timer, &tv);
			return;
		}
	} else
		s->ptr_done = 1;	/* gave up waiting for rDNS */
	greet_progress(s);
}

static struct ptr_slot *
ptr_slot(struct worker *w, const char *ip)
{
	uint32_t h = 2166136261u;
	const char *p;

	for (p = ip; *p != '\0'; p++)
		h = (h ^ (unsigned char)*p) * 16777619u;
	return &w->ptr[h % PTR_CACHE_SLOTS];
}

static void
ptr_cb(void *arg, enum dns_status st, const char *name)
{
	struct session *s = arg;

	s->dns_id = 0;
	if (st == DNS_OK && name != NULL)
		envelope_set(&s->env.ptr, name);
	if (st != DNS_TEMPFAIL) {
		struct ptr_slot *ps = ptr_slot(s->w, s->env.ip);

		free(ps->name);
		snprintf(ps->ip, sizeof(ps->ip), "%s", s->env.ip);
		ps->name = (st == DNS_OK && name != NULL) ? xstrdup(name) :
		    NULL;
		ps->expires = time(NULL) + PTR_CACHE_TTL;
	}
	if (s->ptr_done)
		return;
	s->ptr_done = 1;
	greet_progress(s);
}

/* After the PROXY header (if any): limits, rDNS, pre-greet, banner. */
static void
start_greeting(struct session *s)
{
	struct worker *w = s->w;
	struct smtpd *srv = w->srv;
	const struct smtpd_conf *c = srv->c;
	double now = now_d();
	struct timeval tv;
	int one = 1, n;

	s->normalize = cidr_match(srv->normalize, (struct sockaddr *)&s->peer);
	if (level_get(srv) >= LV_REFUSE) {
		reply(s, "421 4.3.2 %s Service temporarily unavailable",
		    c->hostname);
		close_session(s);
		return;
	}
	if (s->env.ip[0]) {
		n = keytab_update(srv->per_ip, s->env.ip, now, ip_count, &one);
		if (n != -1)
			s->counted_ip = 1;
		if (n > c->max_conn_per_ip) {
			log_info("%s: reject: too many connections from this "
			    "address (%d)", who(s), n - 1);
			reply(s, "421 4.7.0 %s Error: too many connections "
			    "from your address", c->hostname);
			close_session(s);
			return;
		}
	}
	s->st = S_GREET;
	s->greet_timer_done = 1;
	s->ptr_done = 1;
	if (w->dns != NULL && s->peer.ss_family != AF_UNSPEC) {
		struct ptr_slot *ps = ptr_slot(w, s->env.ip);
		int id = 0;

		if (ps->expires > time(NULL) && strcmp(ps->ip, s->env.ip) == 0)
			envelope_set(&s->env.ptr, ps->name);
		else
			id = dns_ptr_confirmed(w->dns,
			    (struct sockaddr *)&s->peer, ptr_cb, s);
		if (id > 0) {
			s->dns_id = id;
			s->ptr_done = 0;
			event_active(w->dns_timer, EV_TIMEOUT, 0);
		}
	}
	s->greeted_full = 1;
	if (c->greet_wait > 0 && keytab_update(srv->greeted, s->env.ip, now,
	    greet_check, &now) != 1) {
		/* Unknown client: the first banner line now, the rest
		 * after the wait; a client talking before the end is a
		 * bot (as Postfix's postscreen), a real MTA waits. */
		s->greeted_full = 0;
		s->greet_timer_done = 0;
		evbuffer_add_printf(bufferevent_get_output(s->bev),
		    "220-%s ESMTP sluice\r\n", c->hostname);
	}
	if (!s->greet_timer_done || !s->ptr_done) {
		tv.tv_sec = s->greet_timer_done ? LIMIT_DNS_WAIT :
		    c->greet_wait;
		tv.tv_usec = 0;
		event_assign(s->timer, w->base, -1, 0, greet_timer_cb, s);
		event_add(s->timer, &tv);
		bufferevent_enable(s->bev, EV_READ | EV_WRITE);
		set_read_timeout(s, c->timeout);
		return;
	}
	bufferevent_enable(s->bev, EV_READ | EV_WRITE);
	send_banner(s);
}

/* A new connection on fd from sa, in worker w. */
static void
session_new(struct worker *w, int fd, const struct sockaddr *sa,
    socklen_t salen)
{
	struct smtpd *srv = w->srv;
	const struct smtpd_conf *c = srv->c;
	struct session *s;
	int one = 1, n;

	n = __atomic_add_fetch(&srv->nconn, 1, __ATOMIC_RELAXED);
	if (n > c->max_conn) {
		static const char msg[] = "421 4.7.0 Error: too many "
		    "connections, try again later\r\n";

		static time_t last;
		time_t now = time(NULL);

		__atomic_sub_fetch(&srv->nconn, 1, __ATOMIC_RELAXED);
		if (__atomic_exchange_n(&last, now, __ATOMIC_RELAXED) != now)
			log_info("reject: too many connections (%d)",
			    c->max_conn);
		if (send(fd, msg, sizeof(msg) - 1, MSG_DONTWAIT |
		    MSG_NOSIGNAL) < 0) {
			/* nothing more to do for it */
		}
		close(fd);
		return;
	}
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	s = xcalloc(1, sizeof(*s));
	s->w = w;
	s->fd = fd;
	s->start = s->cmd_start = time(NULL);
	envelope_init(&s->env);
	if (sa != NULL && salen <= sizeof(s->peer)) {
		memcpy(&s->peer, sa, salen);
		cidr_addr_text(sa, s->env.ip, sizeof(s->env.ip));
		s->env.port = ntohs(sa->sa_family == AF_INET ?
		    ((const struct sockaddr_in *)sa)->sin_port :
		    ((const struct sockaddr_in6 *)sa)->sin6_port);
	} else
		s->peer.ss_family = AF_UNSPEC;
	s->pol = policy_get(srv);
	s->timer = xcalloc(1, event_get_struct_event_size());
	event_assign(s->timer, w->base, -1, 0, closing_cb, s);
	s->bev = bufferevent_socket_new(w->base, fd, 0);
	bufferevent_setcb(s->bev, read_cb, write_cb, event_cb, s);
	s->next = w->sessions;
	if (w->sessions)
		w->sessions->prev = s;
	w->sessions = s;
	w->nsessions++;
	if (sa != NULL && cidr_match(srv->proxy_from, sa)) {
		struct timeval tv = { LIMIT_PROXY_TIMEOUT, 0 };

		s->st = S_PROXY;
		bufferevent_set_timeouts(s->bev, &tv, &tv);
		bufferevent_enable(s->bev, EV_READ | EV_WRITE);
		return;
	}
	start_greeting(s);
}

/* ---- workers ---------------------------------------------------------- */

static void
accept_cb(struct evconnlistener *lis, evutil_socket_t fd,
    struct sockaddr *sa, int salen, void *arg)
{
	(void)lis;
	session_new(arg, fd, sa, (socklen_t)salen);
}

static void
accept_error_cb(struct evconnlistener *lis, void *arg)
{
	struct worker *w = arg;
	struct timeval tv = { 0, 100000 };
	int e = EVUTIL_SOCKET_ERROR();
	time_t now = time(NULL);

	(void)lis;
	/* EMFILE and friends: the connection stays in the backlog and the
	 * socket stays readable, so accepting again at once would spin.
	 * Pause all listeners of this worker a tenth of a second (a
	 * session may end meanwhile), and say so once a second. */
	if (w->accept_warned != now) {
		w->accept_warned = now;
		log_warn("accept: %s", evutil_socket_error_to_string(e));
	}
	listeners_enable(w, 0);
	event_add(w->resume, &tv);
}

static void
listeners_enable(struct worker *w, int on)
{
	int i;

	for (i = 0; i < w->nlis; i++)
		if (w->lis[i] != NULL) {
			if (on)
				evconnlistener_enable(w->lis[i]);
			else
				evconnlistener_disable(w->lis[i]);
		}
}

static void
resume_cb(evutil_socket_t fd, short what, void *arg)
{
	struct worker *w = arg;

	(void)fd;
	(void)what;
	if (!w->stopping)
		listeners_enable(w, 1);
}

static void
dns_rearm(struct worker *w)
{
	int ms = dns_next_timeout(w->dns);

	if (ms >= 0) {
		struct timeval tv = { ms / 1000, (ms % 1000) * 1000 + 1000 };

		event_add(w->dns_timer, &tv);
	} else
		event_del(w->dns_timer);
}

static void
dns_cb_ev(evutil_socket_t fd, short what, void *arg)
{
	struct worker *w = arg;

	(void)fd;
	(void)what;
	if (dns_process(w->dns) == -1 && errno != EAGAIN)
		log_warn("dns: %s", strerror(errno));
	dns_rearm(w);
}

/* Once a second: the deadlines no read timeout catches (a client that
 * drips a byte at a time), and the spool level (worker 0). */
static void
tick_cb(evutil_socket_t fd, short what, void *arg)
{
	struct worker *w = arg;
	const struct smtpd_conf *c = w->srv->c;
	struct session *s, *next;
	time_t now = time(NULL);

	(void)fd;
	(void)what;
	if (w->idx == 0)
		level_update(w->srv);
	for (s = w->sessions; s != NULL; s = next) {
		next = s->next;
		if (s->st == S_CLOSING || s->st == S_COMMIT || s->gone)
			continue;
		if (now - s->start > c->session_time) {
			log_info("%s: session time limit, disconnecting",
			    who(s));
			reply(s, "421 4.4.2 %s Error: session too long",
			    c->hostname);
			close_session(s);
		} else if (s->st == S_CMD && now - s->cmd_start > c->timeout &&
		    evbuffer_get_length(bufferevent_get_input(s->bev)) > 0) {
			log_info("%s: command not complete in %ds, "
			    "disconnecting", who(s), c->timeout);
			reply(s, "421 4.4.2 %s Error: timeout exceeded",
			    c->hostname);
			close_session(s);
		}
	}
}

/* SIGTERM reached this worker: take no new connections, end idle
 * sessions now and the others after the transaction in hand. */
static void
stop_cb(evutil_socket_t fd, short what, void *arg)
{
	struct worker *w = arg;
	struct session *s, *next;
	int i;

	(void)fd;
	(void)what;
	w->stopping = 1;
	for (i = 0; i < w->nlis; i++) {
		evconnlistener_free(w->lis[i]);
		w->lis[i] = NULL;
	}
	w->nlis = 0;
	for (s = w->sessions; s != NULL; s = next) {
		next = s->next;
		if (s->gone || s->st == S_CLOSING)
			continue;
		/* The message in hand is one whose data is coming or
		 * being committed; a transaction before DATA is not: the
		 * client will send it again. */
		if (s->st != S_DATA && s->st != S_BDAT && s->st != S_COMMIT) {
			if (s->st == S_CMD || s->st == S_GREET ||
			    s->st == S_PAUSE)
				reply(s, "421 4.3.2 %s Service shutting down",
				    w->srv->c->hostname);
			close_session(s);
		} else
			s->shutdown = 1;
	}
	if (w->nsessions == 0)
		event_base_loopexit(w->base, NULL);
}

static void *
worker_main(void *arg)
{
	struct worker *w = arg;

	event_base_dispatch(w->base);
	/* UCSPI: the one session is over; wake the main thread now
	 * rather than at its next second */
	if (w->srv->ucspi)
		kill(getpid(), SIGUSR1);
	return NULL;
}

static int
worker_init(struct smtpd *srv, struct worker *w, int idx, char *err,
    size_t errsz)
{
	const struct smtpd_conf *c = srv->c;
	struct timeval sec = { 1, 0 };
	int i;

	w->srv = srv;
	w->idx = idx;
	pthread_mutex_init(&w->mu, NULL);
	{
		struct event_config *cfg = event_config_new();

		/* coalesce the add and remove of one fd's events within a
		 * loop turn into one epoll_ctl, or none */
		event_config_set_flag(cfg,
		    EVENT_BASE_FLAG_EPOLL_USE_CHANGELIST);
		w->base = event_base_new_with_config(cfg);
		event_config_free(cfg);
	}
	if (w->base == NULL) {
		snprintf(err, errsz, "event_base_new failed");
		return -1;
	}
	w->line = xmalloc(c->max_line + 1);
	w->ptr = xcalloc(PTR_CACHE_SLOTS, sizeof(*w->ptr));
	w->done_ev = event_new(w->base, -1, EV_PERSIST, done_cb, w);
	w->stop_ev = event_new(w->base, -1, 0, stop_cb, w);
	w->tick = event_new(w->base, -1, EV_PERSIST, tick_cb, w);
	w->resume = event_new(w->base, -1, 0, resume_cb, w);
	event_add(w->tick, &sec);
	if (c->dns == NULL || strcmp(c->dns, "none") != 0) {
		if ((w->dns = dns_new(c->dns, err, errsz)) == NULL)
			return -1;
		dns_set_timeout(w->dns, 3000);
		w->dns_ev = event_new(w->base, dns_fd(w->dns),
		    EV_READ | EV_PERSIST, dns_cb_ev, w);
		w->dns_timer = event_new(w->base, -1, 0, dns_cb_ev, w);
		event_add(w->dns_ev, NULL);
	}
	for (i = 0; i < srv->nfds; i++) {
		w->lis[i] = evconnlistener_new(w->base, accept_cb, w,
		    LEV_OPT_CLOSE_ON_FREE, 0, srv->fds[i][idx]);
		if (w->lis[i] == NULL) {
			snprintf(err, errsz, "listener: %s", strerror(errno));
			return -1;
		}
		srv->fds[i][idx] = -1;	/* the listener owns it */
		evconnlistener_set_error_cb(w->lis[i], accept_error_cb);
		w->nlis++;
	}
	return 0;
}

static void
worker_fini(struct worker *w)
{
	struct job *j;
	int i;

	while (w->sessions != NULL)
		session_free(w->sessions);
	for (i = 0; i < w->nlis; i++)
		if (w->lis[i])
			evconnlistener_free(w->lis[i]);
	while ((j = w->done) != NULL) {
		w->done = j->next;
		free(j->record);
		free(j->envrec);
		free(j);
	}
	if (w->dns_ev)
		event_free(w->dns_ev);
	if (w->dns_timer)
		event_free(w->dns_timer);
	dns_free(w->dns);
	if (w->done_ev)
		event_free(w->done_ev);
	if (w->stop_ev)
		event_free(w->stop_ev);
	if (w->tick)
		event_free(w->tick);
	if (w->resume)
		event_free(w->resume);
	if (w->base)
		event_base_free(w->base);
	free(w->line);
	if (w->ptr != NULL)
		for (i = 0; i < PTR_CACHE_SLOTS; i++)
			free(w->ptr[i].name);
	free(w->ptr);
	pthread_mutex_destroy(&w->mu);
}

/* ---- UCSPI ------------------------------------------------------------ */

struct pump {
	int from, to;
	int shut;	/* shutdown(to, SHUT_WR) at EOF, else close */
};

static void *
pump_main(void *arg)
{
	struct pump *p = arg;
	char buf[16384];
	ssize_t n, w, off;

	for (;;) {
		n = read(p->from, buf, sizeof(buf));
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		for (off = 0; off < n; off += w) {
			w = write(p->to, buf + off, (size_t)(n - off));
			if (w == -1 && errno == EINTR) {
				w = 0;
				continue;
			}
			if (w <= 0)
				goto out;
		}
	}
out:
	if (p->shut)
		shutdown(p->to, SHUT_WR);
	else
		close(p->to);
	return NULL;
}

/* The session's fd: fd 0 itself when it is a socket that is also fd 1
 * (tcpserver, s6-tcpserver, inetd), else a socketpair with two threads
 * copying between it and fds 0 and 1 (pipes, files, tests).  *outpump
 * is the thread that copies to fd 1, to be joined so that the last
 * replies are out before the process exits. */
static int
ucspi_fd(int in, int out, pthread_t *outpump, int *have_outpump)
{
	static struct pump p1, p2;
	struct stat a, b;
	pthread_t t;
	int sp[2];

	*have_outpump = 0;

	if (fstat(in, &a) == 0 && fstat(out, &b) == 0 && S_ISSOCK(a.st_mode) &&
	    a.st_dev == b.st_dev && a.st_ino == b.st_ino) {
		int fl = fcntl(in, F_GETFL);

		fcntl(in, F_SETFL, fl | O_NONBLOCK);
		return dup(in);
	}
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp) == -1)
		return -1;
	p1.from = in;
	p1.to = sp[1];
	p1.shut = 1;
	p2.from = dup(sp[1]);
	p2.to = out;
	p2.shut = 0;
	if (pthread_create(&t, NULL, pump_main, &p1) != 0)
		return -1;
	pthread_detach(t);	/* may wait on fd 0 for ever */
	if (pthread_create(outpump, NULL, pump_main, &p2) != 0)
		return -1;
	*have_outpump = 1;
	fcntl(sp[0], F_SETFL, fcntl(sp[0], F_GETFL) | O_NONBLOCK);
	return sp[0];
}

/* The client of a UCSPI session from TCPREMOTEIP and TCPREMOTEPORT. */
static int
ucspi_peer(struct sockaddr_storage *ss)
{
	const char *ip = getenv("TCPREMOTEIP"), *port = getenv("TCPREMOTEPORT");
	unsigned long p = port ? strtoul(port, NULL, 10) : 0;

	if (ip == NULL || cidr_parse_addr(ip, ss) == -1)
		return -1;
	if (ss->ss_family == AF_INET)
		((struct sockaddr_in *)ss)->sin_port = htons((uint16_t)p);
	else
		((struct sockaddr_in6 *)ss)->sin6_port = htons((uint16_t)p);
	return 0;
}

/* ---- running ---------------------------------------------------------- */

static int
open_spool(struct smtpd *srv)
{
	char real[4096];
	int n;

	if ((srv->md = maildir_open(srv->c->spool, 1)) == NULL) {
		log_info("open spool %s: %s", srv->c->spool, strerror(errno));
		return -1;
	}
	if (realpath(srv->c->spool, real) == NULL) {
		log_info("realpath %s: %s", srv->c->spool, strerror(errno));
		return -1;
	}
	srv->spool = xstrdup(real);
	/* A crash mid-DATA leaves a file in tmp/ that nothing answered
	 * 250 for; it goes after 36 hours, as maildir readers do. */
	if ((n = maildir_clean_tmp(srv->spool, LIMIT_TMP_AGE)) > 0)
		log_info("spool: removed %d stale files from tmp/", n);
	return 0;
}

int
smtpd_run(struct smtpd *srv, int in, int out)
{
	const struct smtpd_conf *c = srv->c;
	char err[512];
	sigset_t set;
	pthread_t outpump;
	int i, sig, ret = 0, fd = -1, have_outpump = 0;
	struct timespec sec = { 1, 0 };

	signal(SIGPIPE, SIG_IGN);
	if (open_spool(srv) == -1)
		return 111;
	srv->ucspi = in >= 0;
	if (srv->ucspi) {
		srv->nworkers = 1;
		if (c->records != NULL &&
		    (srv->outfd = open(c->records, O_WRONLY | O_APPEND |
		    O_CREAT | O_CLOEXEC, 0644)) == -1) {
			log_info("open %s: %s", c->records, strerror(errno));
			return 111;
		}
	} else if (c->records != NULL) {
		if ((srv->outfd = open(c->records, O_WRONLY | O_APPEND |
		    O_CREAT | O_CLOEXEC, 0644)) == -1) {
			log_info("open %s: %s", c->records, strerror(errno));
			return 111;
		}
	} else
		srv->outfd = 1;
	level_update(srv);
	evthread_use_pthreads();
	/* Signals go to the main thread only. */
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGUSR1);
	pthread_sigmask(SIG_BLOCK, &set, NULL);

	srv->w = xcalloc((size_t)srv->nworkers, sizeof(*srv->w));
	for (i = 0; i < srv->nworkers; i++)
		if (worker_init(srv, &srv->w[i], i, err, sizeof(err)) == -1) {
			log_info("%s", err);
			srv->nworkers = i + 1;
			ret = 111;
			goto out;
		}
	srv->npool = LIMIT_COMMIT_THREADS;
	for (i = 0; i < srv->npool; i++)
		if (pthread_create(&srv->pool[i], NULL, pool_main, srv) != 0) {
			srv->npool = i;
			log_info("pthread_create: out of resources");
			ret = 111;
			goto out;
		}
	if (srv->ucspi) {
		struct sockaddr_storage ss;
		int have = ucspi_peer(&ss) == 0;

		if ((fd = ucspi_fd(in, out, &outpump, &have_outpump)) == -1) {
			log_info("ucspi: %s", strerror(errno));
			ret = 111;
			goto out;
		}
		session_new(&srv->w[0], fd, have ? (struct sockaddr *)&ss :
		    NULL, have ? (ss.ss_family == AF_INET ?
		    sizeof(struct sockaddr_in) : sizeof(struct sockaddr_in6)) :
		    0);
	}
	for (i = 0; i < srv->nworkers; i++)
		if (pthread_create(&srv->w[i].th, NULL, worker_main,
		    &srv->w[i]) != 0) {
			log_info("pthread_create: out of resources");
			srv->nworkers = i;
			ret = 111;
			goto out;
		}
	if (c->notify_fd >= 0) {
		if (write(c->notify_fd, "\n", 1) != 1)
			log_warn("notify fd %d: %s", c->notify_fd,
			    strerror(errno));
		close(c->notify_fd);
	}
	for (;;) {
		sig = sigtimedwait(&set, NULL, &sec);
		if (sig == SIGUSR1 && srv->ucspi) {
			/* the worker is ending with its one session */
			pthread_join(srv->w[0].th, NULL);
			srv->w[0].th = 0;
			break;
		}
		if (sig == SIGHUP)
			reload(srv);
		else if (sig == SIGTERM || sig == SIGINT) {
			log_info("%s: finishing the messages in hand",
			    sig == SIGTERM ? "SIGTERM" : "SIGINT");
			break;
		}
	}
out:
	/* Stop: each worker ends its sessions, then its loop. */
	for (i = 0; i < srv->nworkers; i++)
		if (srv->w[i].stop_ev && srv->w[i].th)
			event_active(srv->w[i].stop_ev, EV_READ, 0);
	for (i = 0; i < srv->nworkers; i++)
		if (srv->w[i].th) {
			pthread_join(srv->w[i].th, NULL);
			srv->w[i].th = 0;
		}
	pthread_mutex_lock(&srv->qmu);
	srv->qstop = 1;
	pthread_cond_broadcast(&srv->qcv);
	pthread_mutex_unlock(&srv->qmu);
	for (i = 0; i < srv->npool; i++)
		pthread_join(srv->pool[i], NULL);
	srv->npool = 0;
	/* Jobs finished after the loops stopped: their sessions go now. */
	for (i = 0; i < srv->nworkers; i++)
		done_cb(-1, 0, &srv->w[i]);
	if (have_outpump) {
		/* the session's socket is closed: the pump sees its end */
		for (i = 0; i < srv->nworkers; i++)
			worker_fini(&srv->w[i]);
		free(srv->w);
		srv->w = NULL;
		pthread_join(outpump, NULL);
	}
	return ret;
}

void
smtpd_free(struct smtpd *srv)
{
	int i, t;

	if (srv == NULL)
		return;
	if (srv->w != NULL) {
		for (i = 0; i < srv->nworkers; i++)
			worker_fini(&srv->w[i]);
		free(srv->w);
	}
	for (i = 0; i < srv->nfds; i++)
		for (t = 0; t < srv->nworkers; t++)
			if (srv->fds[i][t] > 0)
				close(srv->fds[i][t]);
	if (srv->outfd > 1)
		close(srv->outfd);
	policy_unref(srv->pol);
	cidr_free(srv->proxy_from);
	cidr_free(srv->normalize);
	keytab_free(srv->per_ip);
	keytab_free(srv->rcpt_rate);
	keytab_free(srv->greeted);
	maildir_close(srv->md);
	free(srv->spool);
	pthread_mutex_destroy(&srv->polmu);
	pthread_mutex_destroy(&srv->qmu);
	pthread_cond_destroy(&srv->qcv);
	pthread_mutex_destroy(&srv->outmu);
	free(srv);
}
