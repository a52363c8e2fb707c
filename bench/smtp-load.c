/*
 * smtp-load: an SMTP load generator for the intake benchmark.
 *
 * One thread, one epoll loop, nonblocking sockets and nonblocking
 * OpenSSL: on a 2-core machine a thread per session would spend the
 * CPU the server under test needs on context switches.  Each session
 * connects, reads the banner, says EHLO (STARTTLS and EHLO again when
 * asked), sends messages, QUITs and connects again.
 *
 * What is measured, and how:
 *   - A message counts as accepted only on a 2xx reply to the final dot.
 *   - The final dot goes in the same write as the last body bytes, and
 *     TCP_NODELAY is set, so no delayed-ACK stall is measured.
 *   - MAIL, RCPT and DATA go in one write when the server offers
 *     PIPELINING (RFC 2920), unless --no-pipelining.
 *   - Latency: from the moment the last byte of the message (with its
 *     dot) is handed to the kernel to the reply; also connect() to
 *     banner, which shows listen-queue drops and greeting delays.
 *   - TLS handshakes are full ones: no session is ever resumed, as
 *     with distinct senders on the internet.
 *
 * --idle N opens N connections, -s of them at a time, takes each past
 * its banner and EHLO, prints "ready open=N" when all are open (or
 * when --timeout has passed) and holds them until SIGTERM or SIGINT.
 *
 * Output: one JSON object on stdout at the end.  --mark CMD runs CMD
 * with /bin/sh at the start and at the end of the measured window,
 * with BENCH_MARK=start or end in its environment, so a caller can
 * sample the server's CPU time exactly over the window.
 *
 * Exit: 0 done (even with SMTP errors: they are data, in the output);
 * 100 bad usage; 111 no memory, no TLS context, or epoll failure.
 */
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/types.h>

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#define LIMIT_LINE	4096		/* one reply line */
#define LIMIT_ERRKINDS	32		/* distinct error keys kept */
#define LIMIT_SAMPLES	(16 * 1024 * 1024)

enum state {
	S_FREE,		/* no connection */
	S_CONNECT,	/* connect() in progress */
	S_BANNER,
	S_EHLO,
	S_STARTTLS,
	S_HANDSHAKE,
	S_EHLO2,	/* EHLO after STARTTLS */
	S_MAIL,		/* waiting for the MAIL reply (no pipelining) */
	S_RCPT,
	S_DATA,
	S_PIPE,		/* waiting for MAIL, RCPT and DATA replies */
	S_DOT,		/* waiting for the reply to the final dot */
	S_QUIT,
	S_IDLE,		/* --idle: open, holding */
};

struct sess {
	int		 fd;
	SSL		*ssl;
	enum state	 st;
	uint32_t	 evmask;	/* what epoll watches now */
	int		 ssl_wants_write;
	/* input: bytes not yet parsed into lines */
	char		 in[LIMIT_LINE + 1];
	size_t		 inlen;
	/* output: a pointer into a buffer that outlives the write */
	const char	*out;
	size_t		 outlen;
	int		 out_is_msg;	/* the message with its dot */
	/* the reply being read (multi-line) */
	int		 ehlo_pipelining;
	int		 ehlo_starttls;
	int		 pipe_left;	/* replies still due in S_PIPE */
	int		 pipe_bad;	/* first bad code in the group */
	int		 nmsg;		/* messages done on this connection */
	int		 counted_conn;
	double		 t_connect;
	double		 t_dot;
	double		 deadline;
};

struct opts {
	const char	*target;
	struct sockaddr_in addr;
	int		 sessions;
	int		 per_conn;
	long		 count;		/* 0: run for seconds */
	double		 seconds;
	double		 warmup;
	size_t		 size;
	int		 starttls;
	int		 pipelining;
	long		 idle;
	double		 timeout;
	double		 ramp_max;
	const char	*mark;
	const char	*helo;
	const char	*from;
	const char	*to;
};

struct samples {
	float		*v;
	size_t		 n, cap;
};

static const char *progname = "smtp-load";
static volatile sig_atomic_t got_signal;

static struct opts o;
static struct sess *ss;
static int ep = -1;
static SSL_CTX *ctx;
static char *msg;		/* the message, dot-stuffed, with its final dot */
static size_t msglen;
static char txn[1024];		/* MAIL, RCPT, DATA */
static size_t txn_mail_len, txn_rcpt_len, txn_data_len;
static char ehlo[300];

/* counters */
static int measuring;		/* inside the measured window */
static int stopping;		/* no new messages or connections */
static double t_window0, t_window1;
static long accepted;		/* 2xx after the dot, in the window */
static long accepted_total;	/* same, at any time */
static long started_total;	/* messages whose DATA was sent */
static long conns;		/* banners received, in the window */
static long conns_total;
static long handshakes;
static long idle_open;
static long idle_lost;		/* idle connections the server closed */
static struct samples lat_dot, lat_conn;
static double warmed;		/* seconds from start to the window */
static struct {
	char	 key[24];
	long	 n;
} errs[LIMIT_ERRKINDS];
static long errs_other;
static long errs_total;		/* failures at any time */

static void
die(int code, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", progname);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(code);
}

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void
sample(struct samples *s, double v)
{
	float *nv;
	size_t ncap;

	if (!measuring)
		return;
	if (s->n == s->cap) {
		if (s->cap >= LIMIT_SAMPLES)
			return;
		ncap = s->cap ? s->cap * 2 : 65536;
		if ((nv = realloc(s->v, ncap * sizeof(*nv))) == NULL)
			die(111, "out of memory");
		s->v = nv;
		s->cap = ncap;
	}
	s->v[s->n++] = (float)v;
}

static int
cmpf(const void *a, const void *b)
{
	float x = *(const float *)a, y = *(const float *)b;

	return (x > y) - (x < y);
}

/* The p-th percentile in milliseconds, nearest rank; -1 without samples. */
static double
pct(struct samples *s, double p)
{
	size_t i;

	if (s->n == 0)
		return -1;
	i = (size_t)ceil(p / 100.0 * s->n);
	if (i > 0)
		i--;
	if (i >= s->n)
		i = s->n - 1;
	return s->v[i] * 1000.0;
}

static void
err_count(const char *key)
{
	int i;

	errs_total++;
	if (!measuring)
		return;
	for (i = 0; i < LIMIT_ERRKINDS && errs[i].key[0] != '\0'; i++)
		if (strcmp(errs[i].key, key) == 0) {
			errs[i].n++;
			return;
		}
	if (i == LIMIT_ERRKINDS) {
		errs_other++;
		return;
	}
	snprintf(errs[i].key, sizeof(errs[i].key), "%s", key);
	errs[i].n = 1;
}

static void
watch(struct sess *s, uint32_t mask)
{
	struct epoll_event ev;

	if (s->evmask == mask)
		return;
	memset(&ev, 0, sizeof(ev));
	ev.events = mask;
	ev.data.ptr = s;
	if (epoll_ctl(ep, s->evmask == 0 ? EPOLL_CTL_ADD : EPOLL_CTL_MOD,
	    s->fd, &ev) == -1)
		die(111, "epoll_ctl: %s", strerror(errno));
	s->evmask = mask;
}

static void sess_start(struct sess *);

/* Drop the connection; start another unless we are stopping. */
static void
sess_close(struct sess *s)
{
	if (s->ssl != NULL) {
		SSL_free(s->ssl);
		s->ssl = NULL;
	}
	if (s->fd != -1) {
		close(s->fd);	/* closing removes it from the epoll set */
		s->fd = -1;
	}
	s->evmask = 0;
	if (s->st == S_IDLE) {
		idle_open--;
		idle_lost++;
	}
	s->st = S_FREE;
	if (!stopping)
		sess_start(s);
}

static void
sess_fail(struct sess *s, const char *key)
{
	err_count(key);
	sess_close(s);
}

static void
sess_start(struct sess *s)
{
	int fd, one = 1;

	memset(s, 0, sizeof(*s));
	s->fd = -1;
	s->st = S_FREE;
	/* with a count, each failure uses up one message of it */
	if (o.count > 0 && !o.idle && started_total + errs_total >= o.count)
		return;
	if ((fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0)) == -1) {
		err_count("socket");
		return;
	}
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	s->fd = fd;
	s->t_connect = now();
	s->deadline = s->t_connect + o.timeout;
	if (connect(fd, (struct sockaddr *)&o.addr, sizeof(o.addr)) == -1 &&
	    errno != EINPROGRESS) {
		/* e.g. EADDRNOTAVAIL: out of local ports */
		char key[24];

		snprintf(key, sizeof(key), "connect-%d", errno);
		sess_fail(s, key);
		return;
	}
	s->st = S_CONNECT;
	watch(s, EPOLLOUT);
}

/* Read some bytes; >0 read, 0 EOF, -1 error, -2 try later. */
static ssize_t
io_read(struct sess *s, char *buf, size_t n)
{
	ssize_t r;
	int e;

	if (s->ssl == NULL) {
		r = read(s->fd, buf, n);
		if (r == -1)
			return errno == EAGAIN || errno == EINTR ? -2 : -1;
		return r;
	}
	ERR_clear_error();
	r = SSL_read(s->ssl, buf, (int)n);
	if (r > 0)
		return r;
	e = SSL_get_error(s->ssl, (int)r);
	if (e == SSL_ERROR_WANT_READ)
		return -2;
	if (e == SSL_ERROR_WANT_WRITE) {
		s->ssl_wants_write = 1;
		return -2;
	}
	if (e == SSL_ERROR_ZERO_RETURN)
		return 0;
	return -1;
}

/* Write what is pending; 0 all written, 1 some left, -1 error. */
static int
io_flush(struct sess *s)
{
	ssize_t r;
	int e;

	while (s->outlen > 0) {
		if (s->ssl == NULL) {
			r = write(s->fd, s->out, s->outlen);
			if (r == -1) {
				if (errno == EAGAIN || errno == EINTR)
					return 1;
				return -1;
			}
		} else {
			ERR_clear_error();
			r = SSL_write(s->ssl, s->out, (int)s->outlen);
			if (r <= 0) {
				e = SSL_get_error(s->ssl, (int)r);
				if (e == SSL_ERROR_WANT_WRITE ||
				    e == SSL_ERROR_WANT_READ)
					return 1;
				return -1;
			}
		}
		s->out += r;
		s->outlen -= (size_t)r;
	}
	if (s->out_is_msg) {
		s->out_is_msg = 0;
		s->t_dot = now();
	}
	return 0;
}

static void
sess_send(struct sess *s, const char *p, size_t n, int is_msg)
{
	int r;

	s->out = p;
	s->outlen = n;
	s->out_is_msg = is_msg;
	r = io_flush(s);
	if (r == -1) {
		sess_fail(s, "write");
		return;
	}
	watch(s, EPOLLIN | (r == 1 ? EPOLLOUT : 0));
}

static void
send_txn(struct sess *s)
{
	if (stopping ||
	    (o.count > 0 && started_total + errs_total >= o.count)) {
		s->st = S_QUIT;
		sess_send(s, "QUIT\r\n", 6, 0);
		return;
	}
	started_total++;
	s->deadline = now() + o.timeout;
	if (o.pipelining && s->ehlo_pipelining) {
		s->st = S_PIPE;
		s->pipe_left = 3;
		s->pipe_bad = 0;
		sess_send(s, txn, txn_mail_len + txn_rcpt_len + txn_data_len, 0);
	} else {
		s->st = S_MAIL;
		sess_send(s, txn, txn_mail_len, 0);
	}
}

static void
send_ehlo(struct sess *s, enum state st)
{
	s->st = st;
	s->ehlo_pipelining = 0;
	s->ehlo_starttls = 0;
	sess_send(s, ehlo, strlen(ehlo), 0);
}

static void
handshake(struct sess *s)
{
	int r, e;

	ERR_clear_error();
	r = SSL_connect(s->ssl);
	if (r == 1) {
		if (measuring)
			handshakes++;
		send_ehlo(s, S_EHLO2);
		return;
	}
	e = SSL_get_error(s->ssl, r);
	if (e == SSL_ERROR_WANT_READ)
		watch(s, EPOLLIN);
	else if (e == SSL_ERROR_WANT_WRITE)
		watch(s, EPOLLOUT);
	else
		sess_fail(s, "tls-handshake");
}

static void
start_tls(struct sess *s)
{
	if ((s->ssl = SSL_new(ctx)) == NULL ||
	    SSL_set_fd(s->ssl, s->fd) != 1) {
		sess_fail(s, "tls-new");
		return;
	}
	SSL_set_tlsext_host_name(s->ssl, "bench.test");
	s->st = S_HANDSHAKE;
	handshake(s);
}

static void
sess_idle_ready(struct sess *s)
{
	s->st = S_IDLE;
	s->deadline = 0;
	idle_open++;
	watch(s, EPOLLIN);
}

/* A whole reply has been read; its code is code, last line line. */
static void
on_reply(struct sess *s, int code)
{
	char key[24];
	double t = now();

	snprintf(key, sizeof(key), "%d", code);
	switch (s->st) {
	case S_BANNER:
		if (code != 220) {
			sess_fail(s, key);
			return;
		}
		sample(&lat_conn, t - s->t_connect);
		conns_total++;
		if (measuring)
			conns++;
		send_ehlo(s, S_EHLO);
		return;
	case S_EHLO:
	case S_EHLO2:
		if (code != 250) {
			sess_fail(s, key);
			return;
		}
		if (o.starttls && s->st == S_EHLO) {
			if (!s->ehlo_starttls) {
				sess_fail(s, "no-starttls");
				return;
			}
			s->st = S_STARTTLS;
			sess_send(s, "STARTTLS\r\n", 10, 0);
			return;
		}
		if (o.idle) {
			sess_idle_ready(s);
			return;
		}
		send_txn(s);
		return;
	case S_STARTTLS:
		if (code != 220) {
			sess_fail(s, key);
			return;
		}
		start_tls(s);
		return;
	case S_MAIL:
		if (code / 100 != 2) {
			sess_fail(s, key);
			return;
		}
		s->st = S_RCPT;
		sess_send(s, txn + txn_mail_len, txn_rcpt_len, 0);
		return;
	case S_RCPT:
		if (code / 100 != 2) {
			sess_fail(s, key);
			return;
		}
		s->st = S_DATA;
		sess_send(s, txn + txn_mail_len + txn_rcpt_len, txn_data_len, 0);
		return;
	case S_PIPE:
		s->pipe_left--;
		if (s->pipe_left > 0) {
			if (code / 100 != 2 && s->pipe_bad == 0)
				s->pipe_bad = code;
			return;
		}
		if (s->pipe_bad != 0) {
			snprintf(key, sizeof(key), "%d", s->pipe_bad);
			sess_fail(s, key);
			return;
		}
		/* the last reply of the group is DATA's */
		/* FALLTHROUGH */
	case S_DATA:
		if (code != 354) {
			sess_fail(s, key);
			return;
		}
		s->st = S_DOT;
		sess_send(s, msg, msglen, 1);
		return;
	case S_DOT:
		if (code / 100 != 2) {
			sess_fail(s, key);
			return;
		}
		accepted_total++;
		if (measuring) {
			accepted++;
			sample(&lat_dot, t - s->t_dot);
		}
		s->nmsg++;
		if (s->nmsg < o.per_conn) {
			send_txn(s);
			return;
		}
		s->st = S_QUIT;
		sess_send(s, "QUIT\r\n", 6, 0);
		return;
	case S_QUIT:
		sess_close(s);
		return;
	default:
		/* a reply nobody asked for, e.g. a 421 to an idle session */
		sess_fail(s, key);
		return;
	}
}

/* Parse complete lines in s->in; 0 on success, -1 when s was closed. */
static int
parse(struct sess *s)
{
	char *p, *nl;
	size_t used = 0;
	int code;

	for (;;) {
		p = s->in + used;
		nl = memchr(p, '\n', s->inlen - used);
		if (nl == NULL)
			break;
		used = (size_t)(nl - s->in) + 1;
		if (nl - p < 3 || p[0] < '1' || p[0] > '5' ||
		    p[1] < '0' || p[1] > '9' || p[2] < '0' || p[2] > '9') {
			sess_fail(s, "bad-reply");
			return -1;
		}
		code = (p[0] - '0') * 100 + (p[1] - '0') * 10 + (p[2] - '0');
		if (s->st == S_EHLO || s->st == S_EHLO2) {
			if (nl - p >= 14 &&
			    strncasecmp(p + 4, "PIPELINING", 10) == 0)
				s->ehlo_pipelining = 1;
			if (nl - p >= 12 &&
			    strncasecmp(p + 4, "STARTTLS", 8) == 0)
				s->ehlo_starttls = 1;
		}
		if (nl - p >= 4 && p[3] == '-')
			continue;
		/* the last line of a reply */
		on_reply(s, code);
		if (s->fd == -1 || s->st == S_FREE || s->st == S_CONNECT)
			return -1;
		if (s->st == S_HANDSHAKE) {
			/*
			 * Bytes after the 220 to STARTTLS would be a
			 * plaintext injection; there should be none.
			 */
			if (used != s->inlen) {
				sess_fail(s, "starttls-injection");
				return -1;
			}
			s->inlen = 0;
			return 0;
		}
	}
	if (used > 0) {
		memmove(s->in, s->in + used, s->inlen - used);
		s->inlen -= used;
	}
	if (s->inlen >= LIMIT_LINE) {
		sess_fail(s, "long-reply");
		return -1;
	}
	return 0;
}

static void
on_event(struct sess *s, uint32_t ev)
{
	ssize_t r;
	int err = 0, f;
	socklen_t len = sizeof(err);

	if (s->st == S_CONNECT) {
		if (getsockopt(s->fd, SOL_SOCKET, SO_ERROR, &err, &len) == -1)
			err = errno;
		if (err != 0) {
			char key[24];

			snprintf(key, sizeof(key), "connect-%s",
			    err == ECONNREFUSED ? "refused" :
			    err == ETIMEDOUT ? "timeout" : "error");
			sess_fail(s, key);
			return;
		}
		s->st = S_BANNER;
		watch(s, EPOLLIN);
		return;
	}
	if (s->st == S_HANDSHAKE) {
		handshake(s);
		return;
	}
	if ((ev & EPOLLOUT) || s->ssl_wants_write) {
		s->ssl_wants_write = 0;
		f = io_flush(s);
		if (f == -1) {
			sess_fail(s, "write");
			return;
		}
		watch(s, EPOLLIN | (f == 1 ? EPOLLOUT : 0));
	}
	if (!(ev & (EPOLLIN | EPOLLHUP | EPOLLERR)))
		return;
	/* read until the socket (and OpenSSL's buffer) is empty */
	for (;;) {
		r = io_read(s, s->in + s->inlen, LIMIT_LINE - s->inlen);
		if (r == -2)
			break;
		if (r == 0 || r == -1) {
			if (s->st == S_QUIT) {
				sess_close(s);	/* no 221: still fine */
				return;
			}
			sess_fail(s, r == 0 ? "eof" : "read");
			return;
		}
		s->inlen += (size_t)r;
		if (parse(s) == -1)
			return;
		if (s->st == S_HANDSHAKE) {
			handshake(s);
			return;
		}
		if (s->ssl_wants_write)
			watch(s, EPOLLIN | EPOLLOUT);
	}
}

static void
check_timeouts(double t)
{
	int i;

	for (i = 0; i < o.sessions; i++)
		if (ss[i].st != S_FREE && ss[i].st != S_IDLE &&
		    ss[i].deadline > 0 && t > ss[i].deadline)
			sess_fail(&ss[i], "timeout");
}

static void
run_mark(const char *which)
{
	int r;

	if (o.mark == NULL)
		return;
	fflush(stdout);
	setenv("BENCH_MARK", which, 1);
	r = system(o.mark);
	if (r != 0)
		fprintf(stderr, "%s: warning: mark %s: status %d\n",
		    progname, which, r);
}

static void
on_signal(int sig)
{
	got_signal = sig;
}

static void
build_message(void)
{
	static const char line[] =
	    "Lorem ipsum dolor sit amet, consectetur adipiscing elit, "
	    "sed do eiusmod tempor.\r\n";
	char hdr[512];
	size_t hl, ll = sizeof(line) - 1;
	int n;

	n = snprintf(hdr, sizeof(hdr),
	    "From: Load <%s>\r\n"
	    "To: Sink <%s>\r\n"
	    "Subject: smtp-load benchmark message\r\n"
	    "Date: Thu, 1 Jan 2026 00:00:00 +0000\r\n"
	    "Message-ID: <smtp-load@client.bench.test>\r\n"
	    "MIME-Version: 1.0\r\n"
	    "Content-Type: text/plain; charset=us-ascii\r\n"
	    "\r\n", o.from, o.to);
	if (n < 0 || (size_t)n >= sizeof(hdr))
		die(100, "addresses too long");
	hl = (size_t)n;
	if ((msg = malloc(o.size + hl + ll + 8)) == NULL)
		die(111, "out of memory");
	memcpy(msg, hdr, hl);
	msglen = hl;
	/* whole lines while they fit, then a shorter last line */
	while (msglen + ll <= o.size) {
		memcpy(msg + msglen, line, ll);
		msglen += ll;
	}
	if (msglen + 2 < o.size) {
		size_t k = o.size - msglen - 2;

		memcpy(msg + msglen, line, k);
		msglen += k;
		memcpy(msg + msglen, "\r\n", 2);
		msglen += 2;
	}
	/* the final dot goes in the same buffer, so the same write */
	memcpy(msg + msglen, ".\r\n", 3);
	msglen += 3;
}

static void
usage(void)
{
	fprintf(stderr,
	    "usage: smtp-load [-s sessions] [-m msgs-per-conn] [-n count | -t seconds]\n"
	    "                 [-w warmup-seconds] [-l size] [--starttls] [--no-pipelining]\n"
	    "                 [--idle N] [--timeout S] [--ramp-max S] [--mark CMD]\n"
	    "                 [--helo NAME] [--from ADDR] [--to ADDR] host:port\n");
	exit(100);
}

static long
num(const char *s, long lo, long hi, const char *what)
{
	char *end;
	long long v;

	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v < lo || v > hi) {
		fprintf(stderr, "%s: bad %s: %s\n", progname, what, s);
		usage();
	}
	return (long)v;
}

static double
fnum(const char *s, double lo, double hi, const char *what)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno != 0 || end == s || *end != '\0' || !(v >= lo && v <= hi)) {
		fprintf(stderr, "%s: bad %s: %s\n", progname, what, s);
		usage();
	}
	return v;
}

static void
parse_opts(int argc, char *argv[])
{
	static const struct option lo[] = {
		{ "sessions", required_argument, NULL, 's' },
		{ "per-conn", required_argument, NULL, 'm' },
		{ "count", required_argument, NULL, 'n' },
		{ "seconds", required_argument, NULL, 't' },
		{ "warmup", required_argument, NULL, 'w' },
		{ "size", required_argument, NULL, 'l' },
		{ "starttls", no_argument, NULL, 'S' },
		{ "no-pipelining", no_argument, NULL, 'P' },
		{ "idle", required_argument, NULL, 'I' },
		{ "timeout", required_argument, NULL, 'T' },
		{ "ramp-max", required_argument, NULL, 'r' },
		{ "mark", required_argument, NULL, 'M' },
		{ "helo", required_argument, NULL, 'H' },
		{ "from", required_argument, NULL, 'F' },
		{ "to", required_argument, NULL, 'R' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	char host[256], *colon;
	int c;

	o.sessions = 20;
	o.per_conn = 1;
	o.seconds = 10;
	o.size = 10240;
	o.pipelining = 1;
	o.timeout = 60;
	o.ramp_max = 60;
	o.helo = "client.bench.test";
	o.from = "load@client.bench.test";
	o.to = "sink@bench.test";
	while ((c = getopt_long(argc, argv, "s:m:n:t:w:l:h", lo, NULL)) != -1) {
		switch (c) {
		case 's': o.sessions = (int)num(optarg, 1, 100000, "sessions"); break;
		case 'm': o.per_conn = (int)num(optarg, 1, 1000000, "messages per connection"); break;
		case 'n': o.count = num(optarg, 1, LONG_MAX, "count"); break;
		case 't': o.seconds = fnum(optarg, 0.1, 86400, "seconds"); break;
		case 'w': o.warmup = fnum(optarg, 0, 86400, "warm-up"); break;
		case 'l': o.size = (size_t)num(optarg, 512, 100L << 20, "size"); break;
		case 'S': o.starttls = 1; break;
		case 'P': o.pipelining = 0; break;
		case 'I': o.idle = num(optarg, 1, 1000000, "idle count"); break;
		case 'T': o.timeout = fnum(optarg, 0.1, 86400, "timeout"); break;
		case 'r': o.ramp_max = fnum(optarg, 0, 86400, "ramp-max"); break;
		case 'M': o.mark = optarg; break;
		case 'H': o.helo = optarg; break;
		case 'F': o.from = optarg; break;
		case 'R': o.to = optarg; break;
		default: usage();
		}
	}
	if (argc - optind != 1)
		usage();
	o.target = argv[optind];
	if (snprintf(host, sizeof(host), "%s", o.target) >= (int)sizeof(host) ||
	    (colon = strrchr(host, ':')) == NULL)
		usage();
	*colon = '\0';
	memset(&o.addr, 0, sizeof(o.addr));
	o.addr.sin_family = AF_INET;
	o.addr.sin_port = htons((uint16_t)num(colon + 1, 1, 65535, "port"));
	if (inet_pton(AF_INET, host, &o.addr.sin_addr) != 1) {
		fprintf(stderr, "%s: bad IPv4 address: %s\n", progname, host);
		usage();
	}
}

static void
print_result(double gen_cpu)
{
	double win = t_window1 - t_window0;
	int i;

	qsort(lat_dot.v, lat_dot.n, sizeof(float), cmpf);
	qsort(lat_conn.v, lat_conn.n, sizeof(float), cmpf);
	printf("{\"target\":\"%s\",\"sessions\":%d,\"per_conn\":%d,"
	    "\"size\":%zu,\"starttls\":%s,\"pipelining\":%s,",
	    o.target, o.sessions, o.per_conn, msglen - 3,
	    o.starttls ? "true" : "false", o.pipelining ? "true" : "false");
	if (o.idle)
		printf("\"idle\":%ld,\"open\":%ld,\"lost\":%ld,",
		    o.idle, idle_open, idle_lost);
	else
		printf("\"mode\":\"%s\",\"window_s\":%.3f,\"accepted\":%ld,"
		    "\"rate\":%.1f,\"accepted_total\":%ld,\"conns\":%ld,"
		    "\"tls_handshakes\":%ld,\"warmup_s\":%.3f,"
		    "\"lat_p50_ms\":%.3f,\"lat_p99_ms\":%.3f,",
		    o.count > 0 ? "count" : "seconds", win, accepted,
		    win > 0 ? accepted / win : 0.0, accepted_total, conns,
		    handshakes, warmed, pct(&lat_dot, 50), pct(&lat_dot, 99));
	printf("\"connect_p50_ms\":%.3f,\"connect_p99_ms\":%.3f,"
	    "\"gen_cpu_s\":%.3f,\"errors\":{",
	    pct(&lat_conn, 50), pct(&lat_conn, 99), gen_cpu);
	for (i = 0; i < LIMIT_ERRKINDS && errs[i].key[0] != '\0'; i++)
		printf("%s\"%s\":%ld", i ? "," : "", errs[i].key, errs[i].n);
	if (errs_other > 0)
		printf("%s\"other\":%ld", i ? "," : "", errs_other);
	printf("}}\n");
}

static double
cpu_self(void)
{
	struct rusage ru;

	if (getrusage(RUSAGE_SELF, &ru) == -1)
		return -1;
	return ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 +
	    ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
}

int
main(int argc, char *argv[])
{
	struct epoll_event evs[256];
	struct sigaction sa;
	struct rlimit rl;
	double t0, t, tlast = 0, cpu0 = 0;
	long i;
	int n, k, nslots, ready_said = 0;

	parse_opts(argc, argv);
	build_message();
	n = snprintf(txn, sizeof(txn), "MAIL FROM:<%s>\r\n", o.from);
	txn_mail_len = (size_t)n;
	n = snprintf(txn + txn_mail_len, sizeof(txn) - txn_mail_len,
	    "RCPT TO:<%s>\r\n", o.to);
	txn_rcpt_len = (size_t)n;
	memcpy(txn + txn_mail_len + txn_rcpt_len, "DATA\r\n", 6);
	txn_data_len = 6;
	snprintf(ehlo, sizeof(ehlo), "EHLO %s\r\n", o.helo);

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGUSR1, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	/* one descriptor per session, and some spare */
	nslots = o.idle ? (int)o.idle : o.sessions;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 &&
	    rl.rlim_cur < (rlim_t)nslots + 64) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
		if (rl.rlim_cur < (rlim_t)nslots + 64)
			die(111, "open files limit %lu is below %d: raise ulimit -n",
			    (unsigned long)rl.rlim_cur, nslots + 64);
	}

	if (o.starttls) {
		if ((ctx = SSL_CTX_new(TLS_client_method())) == NULL)
			die(111, "SSL_CTX_new failed");
		SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
		SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
		SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE |
		    SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
	}
	if ((ep = epoll_create1(EPOLL_CLOEXEC)) == -1)
		die(111, "epoll_create1: %s", strerror(errno));
	if ((ss = calloc((size_t)nslots, sizeof(*ss))) == NULL)
		die(111, "out of memory");

	t0 = now();
	if (o.idle) {
		/*
		 * Open the idle connections o.sessions at a time, as a
		 * crowd of clients arriving would, not all in one burst:
		 * the figure wanted is memory, not listen-queue drops.
		 */
		long next = 0, inflight = o.sessions;

		o.sessions = nslots;	/* for check_timeouts */
		measuring = 1;
		for (;;) {
			long busy = next - idle_open;

			while (next < o.idle && busy < inflight) {
				sess_start(&ss[next++]);
				busy++;
			}
			if (!ready_said && idle_open == o.idle) {
				printf("ready open=%ld\n", idle_open);
				fflush(stdout);
				ready_said = 1;
			}
			if (got_signal)
				break;
			if (!ready_said && now() - t0 > o.timeout) {
				/* could not open them all: say what we have */
				printf("ready open=%ld (of %ld)\n", idle_open,
				    o.idle);
				fflush(stdout);
				ready_said = 1;
			}
			n = epoll_wait(ep, evs, 256, 200);
			if (n == -1 && errno != EINTR)
				die(111, "epoll_wait: %s", strerror(errno));
			for (k = 0; k < n; k++)
				on_event(evs[k].data.ptr, evs[k].events);
			t = now();
			if (t - tlast > 1) {
				check_timeouts(t);
				tlast = t;
			}
		}
		stopping = 1;
		t_window0 = t_window1 = now();
		print_result(cpu_self());
		return 0;
	}

	for (i = 0; i < o.sessions; i++)
		sess_start(&ss[i]);
	if (o.warmup == 0) {
		run_mark("start");
		measuring = 1;
		t_window0 = now();
		cpu0 = cpu_self();
	}
	for (;;) {
		n = epoll_wait(ep, evs, 256, 100);
		if (n == -1 && errno != EINTR)
			die(111, "epoll_wait: %s", strerror(errno));
		for (k = 0; k < n; k++)
			on_event(evs[k].data.ptr, evs[k].events);
		t = now();
		/*
		 * The window opens after the warm-up, and once the server
		 * has greeted as many connections as there are sessions:
		 * a server that starts a process per session (Postfix) is
		 * measured when it has them, not while it forks them.
		 * Counting greetings, not sessions greeted, keeps a client
		 * whose SYN was dropped (and waits out its retransmits)
		 * from holding the window back.  --ramp-max bounds it.
		 */
		if (!measuring && t - t0 >= o.warmup &&
		    (o.count > 0 || conns_total >= o.sessions ||
		    t - t0 >= o.warmup + o.ramp_max)) {
			warmed = t - t0;
			run_mark("start");
			measuring = 1;
			t_window0 = now();
			cpu0 = cpu_self();
		}
		if (measuring) {
			if (o.count == 0 && t - t_window0 >= o.seconds)
				break;
			if (o.count > 0 && accepted >= o.count)
				break;
		}
		if (got_signal)
			break;
		if (t - tlast > 1) {
			check_timeouts(t);
			tlast = t;
		}
		if (o.count > 0) {
			/* all sent, all closed: done early (errors) */
			for (i = 0; i < o.sessions; i++)
				if (ss[i].st != S_FREE)
					break;
			if (i == o.sessions)
				break;
		}
	}
	t_window1 = now();
	measuring = 0;
	stopping = 1;
	cpu0 = cpu_self() - cpu0;
	run_mark("end");
	print_result(cpu0);
	/* leave the rest to exit(): the server sees the connections close */
	if (fflush(stdout) == EOF || ferror(stdout))
		die(111, "write stdout: %s", strerror(errno));
	return 0;
}
