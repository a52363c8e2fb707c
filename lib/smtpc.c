#define _GNU_SOURCE	/* memmem */
#include <sys/types.h>
#include <sys/socket.h>

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "cidr.h"
#include "envelope.h"
#include "smtpc.h"
#include "tls.h"
#include "xalloc.h"

#define RBUF		16384
#define LINE_MAX_	4096	/* a reply line; longer is cut */
#define REPLY_LINES	100	/* lines of one reply */
#define EXT_MAX		32

struct smtpc {
	const struct smtpc_conf *c;	/* &conf */
	struct smtpc_conf conf;		/* a copy: the caller's may go */
	int fd;
	SSL *ssl;
	int verified;
	char host[320];		/* "name[addr]:port" */
	char rbuf[RBUF];
	size_t rs, re;
	char ext[EXT_MAX][24];	/* EHLO keywords, upper case */
	int next;
	unsigned long long size_max;	/* SIZE n, 0 if none */
	int esmtp;
};

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static int
waitfd(int fd, short ev, double deadline)
{
	struct pollfd p = { fd, ev, 0 };
	double left;
	int r;

	for (;;) {
		left = deadline - now();
		if (left <= 0) {
			errno = ETIMEDOUT;
			return -1;
		}
		r = poll(&p, 1, (int)(left * 1000) + 1);
		if (r > 0)
			return 0;
		if (r == -1 && errno != EINTR)
			return -1;
	}
}

/* Read more bytes into rbuf.  0, or -1 with errno (0 at EOF). */
static int
fill(struct smtpc *s, double deadline)
{
	ssize_t n;

	if (s->rs > 0) {
		memmove(s->rbuf, s->rbuf + s->rs, s->re - s->rs);
		s->re -= s->rs;
		s->rs = 0;
	}
	if (s->re == RBUF) {
		errno = EMSGSIZE;
		return -1;
	}
	for (;;) {
		if (s->ssl != NULL) {
			int r = SSL_read(s->ssl, s->rbuf + s->re,
			    (int)(RBUF - s->re)), e;

			if (r > 0) {
				s->re += (size_t)r;
				return 0;
			}
			e = SSL_get_error(s->ssl, r);
			if (e == SSL_ERROR_WANT_READ) {
				if (waitfd(s->fd, POLLIN, deadline) == -1)
					return -1;
				continue;
			}
			if (e == SSL_ERROR_WANT_WRITE) {
				if (waitfd(s->fd, POLLOUT, deadline) == -1)
					return -1;
				continue;
			}
			ERR_clear_error();
			errno = (e == SSL_ERROR_ZERO_RETURN) ? 0 : EPROTO;
			return -1;
		}
		n = read(s->fd, s->rbuf + s->re, RBUF - s->re);
		if (n > 0) {
			s->re += (size_t)n;
			return 0;
		}
		if (n == 0) {
			errno = 0;
			return -1;
		}
		if (errno == EAGAIN || errno == EWOULDBLOCK) {
			if (waitfd(s->fd, POLLIN, deadline) == -1)
				return -1;
			continue;
		}
		if (errno != EINTR)
			return -1;
	}
}

static int
write_all(struct smtpc *s, const void *buf, size_t n, double deadline)
{
	const char *p = buf;
	ssize_t w;

	while (n > 0) {
		if (s->ssl != NULL) {
			int r = SSL_write(s->ssl, p, n > (1u << 30) ?
			    (1 << 30) : (int)n), e;

			if (r > 0) {
				p += r;
				n -= (size_t)r;
				continue;
			}
			e = SSL_get_error(s->ssl, r);
			if (e == SSL_ERROR_WANT_WRITE || e == SSL_ERROR_WANT_READ) {
				if (waitfd(s->fd, e == SSL_ERROR_WANT_WRITE ?
				    POLLOUT : POLLIN, deadline) == -1)
					return -1;
				continue;
			}
			ERR_clear_error();
			errno = EPROTO;
			return -1;
		}
		w = send(s->fd, p, n, MSG_NOSIGNAL);
		if (w > 0) {
			p += w;
			n -= (size_t)w;
			continue;
		}
		if (w == -1 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			if (waitfd(s->fd, POLLOUT, deadline) == -1)
				return -1;
			continue;
		}
		if (w == -1 && errno == EINTR)
			continue;
		return -1;
	}
	return 0;
}

static int __attribute__((format(printf, 3, 4)))
sendf(struct smtpc *s, double deadline, const char *fmt, ...)
{
	char buf[2048];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(buf)) {
		errno = EMSGSIZE;
		return -1;
	}
	return write_all(s, buf, (size_t)n, deadline);
}

/* One line without its CRLF into line (cut at size - 1).  0, or -1. */
static int
read_line(struct smtpc *s, char *line, size_t size, double deadline)
{
	char *nl;
	size_t len, keep;

	for (;;) {
		nl = memchr(s->rbuf + s->rs, '\n', s->re - s->rs);
		if (nl != NULL)
			break;
		if (s->re - s->rs >= LINE_MAX_) {
			/* an endless line: keep its start, drop the rest */
			s->re = s->rs + LINE_MAX_ / 2;
		}
		if (fill(s, deadline) == -1)
			return -1;
	}
	len = (size_t)(nl - (s->rbuf + s->rs));
	keep = len;
	if (keep > 0 && s->rbuf[s->rs + keep - 1] == '\r')
		keep--;
	if (keep >= size)
		keep = size - 1;
	memcpy(line, s->rbuf + s->rs, keep);
	line[keep] = '\0';
	s->rs += len + 1;
	return 0;
}

/* A reply: its code, enhanced code and text.  0, or -1 (code 0). */
static int
read_reply(struct smtpc *s, struct smtpc_reply *r, double deadline,
    char exts[][24], int *next)
{
	char line[LINE_MAX_];
	size_t tl = 0;
	int i, code;

	memset(r, 0, sizeof(*r));
	for (i = 0; i < REPLY_LINES; i++) {
		const char *t;

		if (read_line(s, line, sizeof(line), deadline) == -1)
			return -1;
		if (strlen(line) < 3 || line[0] < '2' || line[0] > '5' ||
		    line[1] < '0' || line[1] > '9' || line[2] < '0' ||
		    line[2] > '9' || (line[3] != '\0' && line[3] != ' ' &&
		    line[3] != '-')) {
			errno = EPROTO;
			return -1;
		}
		code = (line[0] - '0') * 100 + (line[1] - '0') * 10 +
		    (line[2] - '0');
		if (r->code != 0 && code != r->code) {
			errno = EPROTO;
			return -1;
		}
		r->code = code;
		t = line[3] ? line + 4 : "";
		if (i == 0) {
			/* RFC 3463: class.subject.detail */
			size_t n = strspn(t, "0123456789.");

			if (n >= 5 && n < sizeof(r->enhanced) && t[0] ==
			    line[0] && t[1] == '.' && (t[n] == ' ' ||
			    t[n] == '\0')) {
				memcpy(r->enhanced, t, n);
				r->enhanced[n] = '\0';
				t += n + (t[n] == ' ');
			}
		} else if (exts != NULL && *next < EXT_MAX) {
			size_t k;

			for (k = 0; t[k] != '\0' && t[k] != ' ' && k < 23; k++)
				exts[*next][k] = (char)(t[k] >= 'a' &&
				    t[k] <= 'z' ? t[k] - 32 : t[k]);
			exts[*next][k] = '\0';
			(*next)++;
		}
		if (tl < sizeof(r->text) - 1)
			tl += (size_t)snprintf(r->text + tl, sizeof(r->text) -
			    tl, "%s%s", tl ? " " : "", t);
		if (line[3] != '-')
			return 0;
	}
	errno = EMSGSIZE;
	return -1;
}

int
smtpc_has(const struct smtpc *s, const char *ext)
{
	int i;

	for (i = 0; i < s->next; i++)
		if (strcasecmp(s->ext[i], ext) == 0)
			return 1;
	return 0;
}

static void
set_err(char *err, size_t errsz, const char *what, struct smtpc *s)
{
	snprintf(err, errsz, "%s: %s", what, errno == 0 ? "connection "
	    "closed" : errno == ETIMEDOUT ? "timed out" : errno == EPROTO ?
	    (s != NULL && s->ssl != NULL ? "TLS error" : "protocol error") :
	    strerror(errno));
}

/* EHLO (or LHLO), then HELO if EHLO is refused (not for LMTP). */
static int
hello(struct smtpc *s, struct smtpc_reply *r, char *err, size_t errsz)
{
	double dl = now() + s->c->command_timeout;
	int i;

	s->next = 0;
	s->size_max = 0;
	if (sendf(s, dl, "%s %s\r\n", s->c->lmtp ? "LHLO" : "EHLO",
	    s->c->helo) == -1 || read_reply(s, r, dl, s->ext, &s->next) == -1) {
		set_err(err, errsz, "EHLO", s);
		return -1;
	}
	if (r->code == 250) {
		s->esmtp = 1;
		for (i = 0; i < s->next; i++)
			if (strcmp(s->ext[i], "SIZE") == 0)
				break;
		/* SIZE's number is on its line, which we keep as text only:
		 * the limit is checked by the server anyway */
		return 0;
	}
	if (s->c->lmtp || r->code >= 500 || r->code < 400) {
		if (!s->c->lmtp && r->code >= 500) {
			dl = now() + s->c->command_timeout;
			if (sendf(s, dl, "HELO %s\r\n", s->c->helo) == -1 ||
			    read_reply(s, r, dl, NULL, NULL) == -1) {
				set_err(err, errsz, "HELO", s);
				return -1;
			}
			if (r->code == 250) {
				s->esmtp = 0;
				s->next = 0;
				return 0;
			}
		}
	}
	snprintf(err, errsz, "%s refused: %d %s", s->c->lmtp ? "LHLO" :
	    "EHLO", r->code, r->text);
	return -1;
}

static int
starttls(struct smtpc *s, const char *host, struct smtpc_reply *r,
    char *err, size_t errsz)
{
	double dl = now() + s->c->command_timeout;
	const char *name = s->c->verify_name ? s->c->verify_name : host;
	char why[256];
	int rr, e;

	if (sendf(s, dl, "STARTTLS\r\n") == -1 ||
	    read_reply(s, r, dl, NULL, NULL) == -1) {
		set_err(err, errsz, "STARTTLS", s);
		return -1;
	}
	if (r->code != 220) {
		snprintf(err, errsz, "STARTTLS refused: %d %s", r->code,
		    r->text);
		return -1;
	}
	if (s->re != s->rs) {
		/* bytes after the 220 came before TLS: not to be trusted */
		snprintf(err, errsz, "STARTTLS: data after the 220");
		return -1;
	}
	if ((s->ssl = SSL_new(s->c->ssl)) == NULL) {
		snprintf(err, errsz, "SSL_new: %s", tls_errors(why,
		    sizeof(why)));
		return -1;
	}
	SSL_set_fd(s->ssl, s->fd);
	{
		struct sockaddr_storage ss;

		/* SNI is a DNS name, never an address (RFC 6066 3) */
		if (cidr_parse_addr(name, &ss) == -1)
			SSL_set_tlsext_host_name(s->ssl, name);
	}
	if (s->c->tls == SMTPC_TLS_VERIFY) {
		SSL_set_verify(s->ssl, SSL_VERIFY_PEER, NULL);
		SSL_set1_host(s->ssl, name);
	} else
		SSL_set_verify(s->ssl, SSL_VERIFY_NONE, NULL);
	dl = now() + s->c->command_timeout;
	for (;;) {
		rr = SSL_connect(s->ssl);
		if (rr == 1)
			break;
		e = SSL_get_error(s->ssl, rr);
		if ((e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) &&
		    waitfd(s->fd, e == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT,
		    dl) == 0)
			continue;
		if (s->c->tls == SMTPC_TLS_VERIFY &&
		    SSL_get_verify_result(s->ssl) != X509_V_OK)
			snprintf(err, errsz, "TLS: certificate not verified "
			    "for %s: %s", name, X509_verify_cert_error_string(
			    SSL_get_verify_result(s->ssl)));
		else
			snprintf(err, errsz, "TLS handshake: %s",
			    e == SSL_ERROR_SSL ? tls_errors(why, sizeof(why)) :
			    errno == ETIMEDOUT ? "timed out" : "failed");
		ERR_clear_error();
		return -1;
	}
	s->verified = SSL_get_verify_result(s->ssl) == X509_V_OK &&
	    s->c->tls == SMTPC_TLS_VERIFY;
	return hello(s, r, err, errsz);
}

static int
connect_one(struct addrinfo *ai, double deadline)
{
	int fd, e, one = 1;
	socklen_t el = sizeof(e);

	fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0);
	if (fd == -1)
		return -1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (connect(fd, ai->ai_addr, ai->ai_addrlen) == -1) {
		if (errno != EINPROGRESS)
			goto fail;
		if (waitfd(fd, POLLOUT, deadline) == -1)
			goto fail;
		if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &el) == -1)
			goto fail;
		if (e != 0) {
			errno = e;
			goto fail;
		}
	}
	return fd;
fail:
	e = errno;
	close(fd);
	errno = e;
	return -1;
}

struct smtpc *
smtpc_open(const char *host, const char *name, const char *port,
    const struct smtpc_conf *c, struct smtpc_reply *r, char *err,
    size_t errsz)
{
	struct addrinfo hints, *res, *ai;
	struct smtpc *s;
	char addr[64];
	double dl;
	int g;

	memset(r, 0, sizeof(*r));
	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	if ((g = getaddrinfo(host, port, &hints, &res)) != 0) {
		snprintf(err, errsz, "%s: %s", host, gai_strerror(g));
		return NULL;
	}
	if (name == NULL)
		name = host;
	s = xcalloc(1, sizeof(*s));
	s->conf = *c;
	s->c = c = &s->conf;
	s->fd = -1;
	snprintf(err, errsz, "%s: no address", host);
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		dl = now() + c->connect_timeout;
		cidr_addr_text(ai->ai_addr, addr, sizeof(addr));
		if ((s->fd = connect_one(ai, dl)) == -1) {
			snprintf(err, errsz, "connect %s[%s]:%s: %s", name,
			    addr, port, errno == ETIMEDOUT ? "timed out" :
			    strerror(errno));
			continue;
		}
		snprintf(s->host, sizeof(s->host), "%s[%s]:%s", name, addr,
		    port);
		break;
	}
	freeaddrinfo(res);
	if (s->fd == -1) {
		free(s);
		return NULL;
	}
	dl = now() + c->command_timeout;
	if (read_reply(s, r, dl, NULL, NULL) == -1) {
		set_err(err, errsz, "banner", s);
		goto fail;
	}
	if (r->code != 220) {
		snprintf(err, errsz, "banner: %d %s", r->code, r->text);
		goto fail;
	}
	if (hello(s, r, err, errsz) == -1)
		goto fail;
	if (c->tls != SMTPC_TLS_NONE && c->ssl != NULL) {
		if (smtpc_has(s, "STARTTLS")) {
			if (starttls(s, name, r, err, errsz) == -1)
				goto fail;
		} else if (c->tls != SMTPC_TLS_MAY) {
			snprintf(err, errsz, "STARTTLS not offered by %s",
			    s->host);
			r->code = 0;	/* policy, not the server's word */
			goto fail;
		}
	}
	s->conf.verify_name = NULL;	/* the caller's string: used up */
	return s;
fail:
	smtpc_close(s, r->code != 0 && r->code != 421);
	return NULL;
}

const char *
smtpc_host(const struct smtpc *s)
{
	return s->host;
}

int
smtpc_tls(const struct smtpc *s, char *version, size_t vsize, char *cipher,
    size_t csize, int *bits, int *verified)
{
	if (s->ssl == NULL)
		return 0;
	tls_facts(s->ssl, version, vsize, cipher, csize, bits);
	*verified = s->verified;
	return 1;
}

/* The data dot-stuffed, ended by ".\r\n" after a CRLF. */
static int
write_data(struct smtpc *s, const char *d, size_t n, double deadline)
{
	const char *p = d, *end = d + n, *nl;

	while (p < end) {
		if (*p == '.' && write_all(s, ".", 1, deadline) == -1)
			return -1;
		nl = memmem(p, (size_t)(end - p), "\r\n", 2);
		nl = nl ? nl + 2 : end;
		if (write_all(s, p, (size_t)(nl - p), deadline) == -1)
			return -1;
		p = nl;
	}
	if (n > 0 && (n < 2 || d[n - 2] != '\r' || d[n - 1] != '\n'))
		return write_all(s, "\r\n.\r\n", 5, deadline);
	return write_all(s, ".\r\n", 3, deadline);
}

/* Parameters kept when the server offers their extension. */
static void
params_for(const struct smtpc *s, const char *in, const char *const *keys,
    char *out, size_t size)
{
	char *copy, *tok, *save;
	size_t o = 0;
	int i;

	out[0] = '\0';
	if (in == NULL || !smtpc_has(s, "DSN"))
		return;
	copy = xstrdup(in);
	for (tok = strtok_r(copy, " ", &save); tok != NULL;
	    tok = strtok_r(NULL, " ", &save))
		for (i = 0; keys[i] != NULL; i++)
			if (strncasecmp(tok, keys[i], strlen(keys[i])) == 0 &&
			    tok[strlen(keys[i])] == '=' && o + strlen(tok) + 2 <
			    size) {
				o += (size_t)snprintf(out + o, size - o, " %s",
				    tok);
				break;
			}
	free(copy);
}

/* Fill every recipient not yet answered with this failure. */
static void
fail_rest(struct smtpc_msg *m, int code, const char *enh, const char *text,
    int data)
{
	size_t i;

	for (i = 0; i < m->nrcpt; i++) {
		struct smtpc_reply *r = data ? &m->rcpt[i].data :
		    &m->rcpt[i].rcpt;

		if (data && m->rcpt[i].rcpt.code / 100 != 2)
			continue;
		if (r->code == 0) {
			r->code = code;
			snprintf(r->enhanced, sizeof(r->enhanced), "%s", enh);
			snprintf(r->text, sizeof(r->text), "%s", text);
		}
	}
}

/* The final replies to the data: one (SMTP) or one per accepted
 * recipient (LMTP, RFC 2033 4.2).  0, or -1 when the connection is lost. */
static int
read_final(struct smtpc *s, struct smtpc_msg *m, double t0, char *err,
    size_t errsz)
{
	struct smtpc_reply r;
	double dl = now() + s->c->data_timeout;
	size_t i;
	int got = 0;

	for (i = 0; i < m->nrcpt; i++) {
		if (m->rcpt[i].rcpt.code / 100 != 2)
			continue;
		if (!s->c->lmtp && got) {
			m->rcpt[i].data = r;
		} else {
			if (read_reply(s, &r, dl, NULL, NULL) == -1) {
				set_err(err, errsz, "reply to the data", s);
				return -1;
			}
			got = 1;
			m->rcpt[i].data = r;
		}
		m->rcpt[i].latency = now() - t0;
	}
	return 0;
}

int
smtpc_send(struct smtpc *s, struct smtpc_msg *m, char *err, size_t errsz)
{
	static const char *const mailkeys[] = { "RET", "ENVID", NULL };
	static const char *const rcptkeys[] = { "NOTIFY", "ORCPT", NULL };
	const struct smtpc_conf *c = s->c;
	char mp[512], rp[600], *buf = NULL;
	size_t blen = 0, bcap = 0, i, accepted = 0;
	struct smtpc_reply mr, dr;
	int pipelining = smtpc_has(s, "PIPELINING");
	int chunking = smtpc_has(s, "CHUNKING");
	int data_sent = 0;
	double t0 = now(), dl;

	memset(&dr, 0, sizeof(dr));
	for (i = 0; i < m->nrcpt; i++) {
		memset(&m->rcpt[i].rcpt, 0, sizeof(m->rcpt[i].rcpt));
		memset(&m->rcpt[i].data, 0, sizeof(m->rcpt[i].data));
		m->rcpt[i].latency = 0;
	}
	if (m->utf8 && !smtpc_has(s, "SMTPUTF8")) {
		/* RFC 6531 3.4: no downgrade, so it cannot go this way */
		fail_rest(m, 553, "5.6.7", "the downstream lacks SMTPUTF8", 0);
		return 0;
	}
	params_for(s, m->params, mailkeys, mp, sizeof(mp));

	/* MAIL, every RCPT and (without CHUNKING) DATA: one write when
	 * the server pipelines, else one at a time. */
#define ADD(...) do {							\
	int n_ = snprintf(NULL, 0, __VA_ARGS__);			\
	if (blen + (size_t)n_ + 1 > bcap) {				\
		bcap = (blen + (size_t)n_ + 1) * 2;			\
		buf = xreallocarray(buf, bcap, 1);			\
	}								\
	blen += (size_t)snprintf(buf + blen, bcap - blen, __VA_ARGS__);	\
} while (0)
	ADD("MAIL FROM:<%s>", m->from);
	if (smtpc_has(s, "SIZE"))
		ADD(" SIZE=%zu", m->len);
	if (m->eightbit && smtpc_has(s, "8BITMIME"))
		ADD(" BODY=8BITMIME");
	if (m->utf8)
		ADD(" SMTPUTF8");
	ADD("%s\r\n", mp);
	dl = now() + c->command_timeout;
	if (!pipelining) {
		if (write_all(s, buf, blen, dl) == -1 ||
		    read_reply(s, &mr, dl, NULL, NULL) == -1)
			goto lost_mail;
		blen = 0;
		if (mr.code / 100 != 2) {
			fail_rest(m, mr.code, mr.enhanced, mr.text, 0);
			free(buf);
			return mr.code == 421 ? -1 : 0;
		}
	}
	for (i = 0; i < m->nrcpt; i++) {
		params_for(s, m->rcpt[i].params, rcptkeys, rp, sizeof(rp));
		ADD("RCPT TO:<%s>%s\r\n", m->rcpt[i].addr, rp);
		if (!pipelining) {
			dl = now() + c->command_timeout;
			if (write_all(s, buf, blen, dl) == -1 ||
			    read_reply(s, &m->rcpt[i].rcpt, dl, NULL,
			    NULL) == -1)
				goto lost_rcpt;
			blen = 0;
			if (m->rcpt[i].rcpt.code == 421)
				goto closed;
		}
	}
	if (pipelining) {
		if (!chunking)
			ADD("DATA\r\n");
		dl = now() + c->command_timeout;
		if (write_all(s, buf, blen, dl) == -1 ||
		    read_reply(s, &mr, dl, NULL, NULL) == -1)
			goto lost_mail;
		for (i = 0; i < m->nrcpt; i++)
			if (read_reply(s, &m->rcpt[i].rcpt, dl, NULL,
			    NULL) == -1)
				goto lost_rcpt;
		if (mr.code / 100 != 2)
			for (i = 0; i < m->nrcpt; i++)
				m->rcpt[i].rcpt = mr;
		if (!chunking) {
			if (read_reply(s, &dr, dl, NULL, NULL) == -1)
				goto lost_rcpt;
			data_sent = 1;
		}
		blen = 0;
	}
#undef ADD
	free(buf);
	buf = NULL;
	for (i = 0; i < m->nrcpt; i++)
		if (m->rcpt[i].rcpt.code / 100 == 2)
			accepted++;
	if (accepted == 0) {
		if (data_sent && dr.code == 354) {
			/* a server that takes DATA with no recipient: the
			 * only way out is to hang up */
			snprintf(err, errsz, "DATA accepted without a "
			    "recipient");
			return -1;
		}
		return 0;
	}
	dl = now() + c->data_timeout;
	if (chunking) {
		char head[64];

		snprintf(head, sizeof(head), "BDAT %zu LAST\r\n", m->len);
		if (write_all(s, head, strlen(head), dl) == -1 ||
		    write_all(s, m->data, m->len, dl) == -1)
			goto lost_data;
	} else {
		if (!data_sent) {
			dl = now() + c->command_timeout;
			if (write_all(s, "DATA\r\n", 6, dl) == -1 ||
			    read_reply(s, &dr, dl, NULL, NULL) == -1)
				goto lost_data;
		}
		if (dr.code != 354) {
			for (i = 0; i < m->nrcpt; i++)
				if (m->rcpt[i].rcpt.code / 100 == 2)
					m->rcpt[i].data = dr;
			return dr.code == 421 ? -1 : 0;
		}
		dl = now() + c->data_timeout;
		if (write_data(s, m->data, m->len, dl) == -1)
			goto lost_data;
	}
	if (read_final(s, m, t0, err, errsz) == -1)
		goto lost_final;
	for (i = 0; i < m->nrcpt; i++)
		if (m->rcpt[i].data.code == 421)
			return -1;
	return 0;
closed:
	free(buf);
	snprintf(err, errsz, "server closing: %s", m->rcpt[i].rcpt.text);
	fail_rest(m, 0, "", "connection closed", 0);
	return -1;
lost_mail:
	set_err(err, errsz, "MAIL", s);
	free(buf);
	return -1;
lost_rcpt:
	set_err(err, errsz, "RCPT", s);
	free(buf);
	return -1;
lost_data:
	set_err(err, errsz, "DATA", s);
	return -1;
lost_final:
	return -1;
}

int
smtpc_rset(struct smtpc *s)
{
	struct smtpc_reply r;
	double dl = now() + s->c->command_timeout;

	if (sendf(s, dl, "RSET\r\n") == -1 || read_reply(s, &r, dl, NULL,
	    NULL) == -1 || r.code != 250)
		return -1;
	return 0;
}

void
smtpc_close(struct smtpc *s, int quit)
{
	struct smtpc_reply r;
	double dl;

	if (s == NULL)
		return;
	if (quit && s->fd != -1) {
		dl = now() + 5;
		if (sendf(s, dl, "QUIT\r\n") == 0)
			read_reply(s, &r, dl, NULL, NULL);
	}
	if (s->ssl != NULL) {
		SSL_shutdown(s->ssl);
		SSL_free(s->ssl);
	}
	if (s->fd != -1)
		close(s->fd);
	free(s);
}

void
smtpc_queue_id(const char *text, char *buf, size_t size)
{
	static const char *const marks[] = { "queued as ", "id=",
	    "InternalId=", "Queued (", NULL };
	const char *p;
	size_t n;
	int i;

	buf[0] = '\0';
	for (i = 0; marks[i] != NULL; i++) {
		if ((p = strcasestr(text, marks[i])) == NULL)
			continue;
		p += strlen(marks[i]);
		n = strcspn(p, " ,;)]>");
		if (n > 0 && n < size) {
			memcpy(buf, p, n);
			buf[n] = '\0';
			return;
		}
	}
	/* "<id> Message accepted for delivery" (OpenSMTPD, sendmail) */
	if ((p = strcasestr(text, " Message accepted")) != NULL) {
		const char *q = p;

		while (q > text && q[-1] != ' ')
			q--;
		n = (size_t)(p - q);
		if (n > 0 && n < size) {
			memcpy(buf, q, n);
			buf[n] = '\0';
		}
	}
}
