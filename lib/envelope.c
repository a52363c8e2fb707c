#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "envelope.h"
#include "line.h"
#include "record.h"
#include "xalloc.h"

void
envelope_init(struct envelope *e)
{
	memset(e, 0, sizeof(*e));
}

void
envelope_set(char **field, const char *value)
{
	free(*field);
	*field = value ? xstrdup(value) : NULL;
}

void
envelope_reset_mail(struct envelope *e)
{
	size_t i;

	envelope_set(&e->from, NULL);
	envelope_set(&e->mail_params, NULL);
	for (i = 0; i < e->nrcpt; i++) {
		free(e->rcpt[i].addr);
		free(e->rcpt[i].params);
	}
	free(e->rcpt);
	e->rcpt = NULL;
	e->nrcpt = e->caprcpt = 0;
	for (i = 0; i < SMTP_HDR_NFIELDS; i++)
		envelope_set(&e->hdr[i], NULL);
	e->id[0] = '\0';
	envelope_set(&e->path, NULL);
	e->size = 0;
}

void
envelope_clear(struct envelope *e)
{
	envelope_reset_mail(e);
	free(e->helo);
	free(e->ptr);
	envelope_init(e);
}

void
envelope_add_rcpt(struct envelope *e, const char *addr, const char *params)
{
	if (e->nrcpt == e->caprcpt) {
		e->caprcpt = e->caprcpt ? e->caprcpt * 2 : 4;
		e->rcpt = xreallocarray(e->rcpt, e->caprcpt, sizeof(*e->rcpt));
	}
	e->rcpt[e->nrcpt].addr = xstrdup(addr);
	e->rcpt[e->nrcpt].params = params ? xstrdup(params) : NULL;
	e->nrcpt++;
}

char *
envelope_params(const struct smtp_cmd *cmd)
{
	size_t n = 0, o = 0;
	char *s;
	int i;

	if (cmd->nparams == 0)
		return NULL;
	for (i = 0; i < cmd->nparams; i++)
		n += strlen(cmd->params[i].key) + 2 +
		    (cmd->params[i].value ? strlen(cmd->params[i].value) : 0);
	s = xmalloc(n + 1);
	for (i = 0; i < cmd->nparams; i++) {
		const struct smtp_param *p = &cmd->params[i];

		o += (size_t)snprintf(s + o, n + 1 - o, "%s%s%s%s",
		    i ? " " : "", p->key, p->value ? "=" : "",
		    p->value ? p->value : "");
	}
	return s;
}

/* The latest time RFC 3339 can write: 9999-12-31T23:59:59Z. */
#define TIME_MAX 253402300799LL

void
envelope_time(time_t t, char *buf, size_t size)
{
	struct tm tm;

	if (t < 0)
		t = 0;
	if ((long long)t > TIME_MAX)
		t = (time_t)TIME_MAX;
	if (gmtime_r(&t, &tm) == NULL)
		memset(&tm, 0, sizeof(tm));
	strftime(buf, size, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

int
envelope_has_param(const char *params, const char *key)
{
	size_t n = strlen(key);
	const char *p = params;

	while (p != NULL && *p != '\0') {
		if (strncmp(p, key, n) == 0 && (p[n] == '\0' || p[n] == ' ' ||
		    p[n] == '='))
			return 1;
		p = strchr(p, ' ');
		if (p != NULL)
			p++;
	}
	return 0;
}

/* Growing output buffer for the header block. */
struct obuf {
	char *s;
	size_t len, cap;
};

static void
oput(struct obuf *b, const char *s, size_t n)
{
	if (b->len + n + 1 > b->cap) {
		while (b->len + n + 1 > b->cap)
			b->cap = b->cap ? b->cap * 2 : 1024;
		b->s = xreallocarray(b->s, b->cap, 1);
	}
	memcpy(b->s + b->len, s, n);
	b->len += n;
	b->s[b->len] = '\0';
}

static void __attribute__((format(printf, 2, 3)))
oprintf(struct obuf *b, const char *fmt, ...)
{
	char small[1024], *big;
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(small, sizeof(small), fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n < sizeof(small)) {
		oput(b, small, (size_t)n);
		return;
	}
	big = xmalloc((size_t)n + 1);
	va_start(ap, fmt);
	vsnprintf(big, (size_t)n + 1, fmt, ap);
	va_end(ap);
	oput(b, big, (size_t)n);
	free(big);
}

/* xtext (RFC 3461): bytes outside "!".."~", "+" and "=" as "+HH". */
static void
oxtext(struct obuf *b, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	const unsigned char *p;
	char e[3];

	for (p = (const unsigned char *)s; *p != '\0'; p++) {
		if (*p < 33 || *p > 126 || *p == '+' || *p == '=') {
			e[0] = '+';
			e[1] = hex[*p >> 4];
			e[2] = hex[*p & 15];
			oput(b, e, 3);
		} else
			oput(b, (const char *)p, 1);
	}
}

static int
hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Undo oxtext: "+HH" (upper-case hex, not 00) is the byte; anything else
 * stays as it is. */
static char *
xtext_decode(const char *s)
{
	char *out = xmalloc(strlen(s) + 1), *o = out;
	int hi, lo;

	for (; *s != '\0'; s++) {
		if (*s == '+' && (hi = hexval(s[1])) >= 0 &&
		    (lo = hexval(s[2])) >= 0 && (hi | lo) != 0) {
			*o++ = (char)(hi << 4 | lo);
			s += 2;
			continue;
		}
		*o++ = *s;
	}
	*o = '\0';
	return out;
}

char *
envelope_header(const struct envelope *e, const char *hostname, size_t *len)
{
	struct obuf b = { NULL, 0, 0 };
	char when[32], date[64];
	struct tm tm;
	size_t i;
	int v6 = strchr(e->ip, ':') != NULL;
	int utf8 = envelope_has_param(e->mail_params, "SMTPUTF8");

	envelope_time(e->received, when, sizeof(when));
	oprintf(&b, "X-Sluice-Id: %s\nX-Sluice-Received-At: %s\n", e->id,
	    when);
	oprintf(&b, "X-Sluice-Client: ip=%s port=%u", e->ip[0] ? e->ip :
	    "unknown", e->port);
	if (e->helo) {
		oput(&b, " helo=", 6);
		oxtext(&b, e->helo);
	}
	if (e->ptr) {
		oput(&b, " ptr=", 5);
		oxtext(&b, e->ptr);
	}
	oput(&b, "\n", 1);
	if (e->tls)
		oprintf(&b, "X-Sluice-TLS: version=%s cipher=%s bits=%d\n",
		    e->tls_version, e->tls_cipher, e->tls_bits);
	oprintf(&b, "X-Sluice-Mail-From: <%s>%s%s\n", e->from ? e->from : "",
	    e->mail_params ? " " : "", e->mail_params ? e->mail_params : "");
	for (i = 0; i < e->nrcpt; i++)
		oprintf(&b, "X-Sluice-Rcpt-To: <%s>%s%s\n", e->rcpt[i].addr,
		    e->rcpt[i].params ? " " : "",
		    e->rcpt[i].params ? e->rcpt[i].params : "");

	/* RFC 5321 4.4 trace field */
	oput(&b, "Received: from ", 15);
	oxtext(&b, e->helo ? e->helo : "unknown");
	oput(&b, " (", 2);
	oxtext(&b, e->ptr ? e->ptr : "unknown");
	oprintf(&b, " [%s%s])\n\tby %s (sluice) with %s%s id %s", v6 ? "IPv6:" :
	    "", e->ip[0] ? e->ip : "unknown", hostname,
	    utf8 ? "UTF8SMTP" : e->esmtp ? "ESMTP" : "SMTP",
	    e->tls ? "S" : "", e->id);
	if (e->tls)
		oprintf(&b, "\n\t(version=%s cipher=%s bits=%d)",
		    e->tls_version, e->tls_cipher, e->tls_bits);
	if (e->nrcpt == 1)
		oprintf(&b, "\n\tfor <%s>", e->rcpt[0].addr);
	gmtime_r(&e->received, &tm);
	strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S +0000", &tm);
	oprintf(&b, "; %s\n", date);
	*len = b.len;
	return b.s;
}

/* "<path> PARAMS": the path into *addr, params (or NULL) into *params. */
static int
split_path(const char *v, char **addr, char **params)
{
	const char *p, *end;

	if ((end = smtp_path_end(v)) == NULL)
		return -1;
	*addr = xstrndup(v + 1, (size_t)(end - v - 1));
	p = end + 1;
	while (*p == ' ')
		p++;
	*params = *p ? xstrdup(p) : NULL;
	return 0;
}

/* Parse "key=value key=value" of X-Sluice-Client and X-Sluice-TLS. */
static int
parse_kv(struct envelope *e, const char *v, int tls)
{
	char *copy = xstrdup(v), *tok, *save;
	int r = 0;

	for (tok = strtok_r(copy, " ", &save); tok != NULL;
	    tok = strtok_r(NULL, " ", &save)) {
		char *eq = strchr(tok, '=');

		if (eq == NULL) {
			r = -1;
			break;
		}
		*eq++ = '\0';
		if (!tls && strcmp(tok, "ip") == 0) {
			if (strcmp(eq, "unknown") != 0)
				snprintf(e->ip, sizeof(e->ip), "%s", eq);
		} else if (!tls && strcmp(tok, "port") == 0)
			e->port = (unsigned)strtoul(eq, NULL, 10);
		else if (!tls && strcmp(tok, "helo") == 0) {
			free(e->helo);
			e->helo = xtext_decode(eq);
		} else if (!tls && strcmp(tok, "ptr") == 0) {
			free(e->ptr);
			e->ptr = xtext_decode(eq);
		} else if (tls && strcmp(tok, "version") == 0)
			snprintf(e->tls_version, sizeof(e->tls_version), "%s",
			    eq);
		else if (tls && strcmp(tok, "cipher") == 0)
			snprintf(e->tls_cipher, sizeof(e->tls_cipher), "%s",
			    eq);
		else if (tls && strcmp(tok, "bits") == 0)
			e->tls_bits = (int)strtol(eq, NULL, 10);
		/* unknown keys: a later version's; ignored */
	}
	free(copy);
	return r;
}

static int
parse_time(const char *s, time_t *t)
{
	struct tm tm;
	char z = 0, extra;
	size_t i;

	memset(&tm, 0, sizeof(tm));
	/* exactly YYYY-MM-DDTHH:MM:SSZ, as envelope_time writes it */
	if (strlen(s) != 20)
		return -1;
	for (i = 0; i < 20; i++)
		if ((i == 4 || i == 7) ? s[i] != '-' : i == 10 ? s[i] != 'T' :
		    (i == 13 || i == 16) ? s[i] != ':' : i == 19 ? s[i] != 'Z' :
		    (s[i] < '0' || s[i] > '9'))
			return -1;
	if (sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d%c%c", &tm.tm_year, &tm.tm_mon,
	    &tm.tm_mday, &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &z,
	    &extra) != 7 || z != 'Z')
		return -1;
	if (tm.tm_year < 1970 || tm.tm_mon < 1 || tm.tm_mon > 12 ||
	    tm.tm_mday < 1 || tm.tm_mday > 31 || tm.tm_hour > 23 ||
	    tm.tm_min > 59 || tm.tm_sec > 60)
		return -1;
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	*t = timegm(&tm);
	return 0;
}

/* One relay field; 0, or -1 with why set. */
static int
relay_field(struct envelope *e, const char *name, const char *v, int *have_id,
    char *why, size_t whysize)
{
	char *addr, *params;

	if (strcasecmp(name, "X-Sluice-Id") == 0) {
		const char *p;

		for (p = v; *p != '\0'; p++)
			if (*p < 33 || *p > 126)
				break;
		if (*p != '\0' || maildir_id(v, e->id, sizeof(e->id)) == -1 ||
		    strcmp(v, e->id) != 0) {
			snprintf(why, whysize, "bad X-Sluice-Id");
			return -1;
		}
		*have_id = 1;
	} else if (strcasecmp(name, "X-Sluice-Received-At") == 0) {
		if (parse_time(v, &e->received) == -1) {
			snprintf(why, whysize, "bad X-Sluice-Received-At");
			return -1;
		}
	} else if (strcasecmp(name, "X-Sluice-Client") == 0) {
		if (parse_kv(e, v, 0) == -1) {
			snprintf(why, whysize, "bad X-Sluice-Client");
			return -1;
		}
	} else if (strcasecmp(name, "X-Sluice-TLS") == 0) {
		e->tls = 1;
		if (parse_kv(e, v, 1) == -1) {
			snprintf(why, whysize, "bad X-Sluice-TLS");
			return -1;
		}
	} else if (strcasecmp(name, "X-Sluice-Mail-From") == 0) {
		if (split_path(v, &addr, &params) == -1) {
			snprintf(why, whysize, "bad X-Sluice-Mail-From");
			return -1;
		}
		free(e->from);
		free(e->mail_params);
		e->from = addr;
		e->mail_params = params;
	} else if (strcasecmp(name, "X-Sluice-Rcpt-To") == 0) {
		if (split_path(v, &addr, &params) == -1) {
			snprintf(why, whysize, "bad X-Sluice-Rcpt-To");
			return -1;
		}
		envelope_add_rcpt(e, addr, params);
		free(addr);
		free(params);
	}
	return 0;
}

int
envelope_read(struct envelope *e, const char *path, char *why,
    size_t whysize)
{
	struct line_reader *lr;
	struct smtp_hdr *h;
	struct stat st;
	const char *base;
	char *line;
	size_t len, i;
	int fd, relay = 1, have_id = 0, r = 0, e2;
	enum line_status ls;

	why[0] = '\0';
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return -1;
	if (fstat(fd, &st) == -1) {
		e2 = errno;
		close(fd);
		errno = e2;
		return -1;
	}
	envelope_set(&e->path, path);
	e->size = (unsigned long long)st.st_size;
	h = xmalloc(sizeof(*h));
	smtp_hdr_init(h);
	lr = line_new(fd, LIMIT_DATA_LINE);
	while (!h->done) {
		ls = line_next(lr, &line, &len);
		if (ls == LINE_EOF)
			break;
		if (ls == LINE_ERR) {
			r = -1;
			break;
		}
		if (ls == LINE_LONG) {
			/* a long line ends what we read of the header */
			relay = 0;
			smtp_hdr_feed(h, "x\n\n", 3);
			continue;
		}
		if (len > 0 && line[len - 1] == '\r')
			line[--len] = '\0';
		/* Relay fields count only in the block at the very top:
		 * the first other line ends it for good. */
		if (relay && strncasecmp(line, "X-Sluice-", 9) != 0)
			relay = 0;
		if (relay && strlen(line) != len) {
			snprintf(why, whysize, "NUL byte in relay block");
			r = -1;
			errno = EINVAL;
			break;
		}
		if (relay) {
			char *colon = strchr(line, ':'), *v;

			if (colon != NULL) {
				*colon = '\0';
				for (v = colon + 1; *v == ' '; v++)
					;
				if (relay_field(e, line, v, &have_id, why,
				    whysize) == -1) {
					r = -1;
					errno = EINVAL;
					break;
				}
				continue;
			}
			snprintf(why, whysize, "relay field without colon");
			r = -1;
			errno = EINVAL;
			break;
		}
		smtp_hdr_feed(h, line, len);
		smtp_hdr_feed(h, "\n", 1);
	}
	e2 = errno;
	line_free(lr);
	close(fd);
	if (r == 0) {
		for (i = 0; i < SMTP_HDR_NFIELDS; i++)
			envelope_set(&e->hdr[i], smtp_hdr_get(h, i));
		e->relayed = have_id;
		if (!have_id) {
			base = strrchr(path, '/');
			base = base ? base + 1 : path;
			if (maildir_id(base, e->id, sizeof(e->id)) == -1)
				snprintf(e->id, sizeof(e->id), "%.200s", base);
			/* a maildir name starts with its delivery time */
			e->received = (time_t)strtoll(e->id, NULL, 10);
			if (e->received <= 0)
				e->received = st.st_mtime;
		}
	}
	free(h);
	errno = e2;
	return r;
}

/* {"KEY":"VALUE","SMTPUTF8":true} from "KEY=VALUE SMTPUTF8" */
static json_t *
params_object(const char *params)
{
	json_t *o = json_object();
	char *copy, *tok, *save;

	if (params == NULL)
		return o;
	copy = xstrdup(params);
	for (tok = strtok_r(copy, " ", &save); tok != NULL;
	    tok = strtok_r(NULL, " ", &save)) {
		char *eq = strchr(tok, '=');

		if (eq != NULL) {
			*eq++ = '\0';
			json_object_set_new(o, tok, record_str(eq));
		} else
			json_object_set_new(o, tok, json_true());
	}
	free(copy);
	return o;
}

json_t *
envelope_record(const struct envelope *e)
{
	static const char *const keys[SMTP_HDR_NFIELDS] = {
		"from", "subject", "message_id", "date"
	};
	json_t *rec, *client, *tls, *env, *to, *rp, *hdrs;
	char when[32];
	size_t i;

	envelope_time(e->received, when, sizeof(when));
	rec = json_object();
	json_object_set_new(rec, "id", record_str(e->id));
	json_object_set_new(rec, "path", record_str(e->path));
	json_object_set_new(rec, "received_at", json_string(when));
	json_object_set_new(rec, "size", json_integer((json_int_t)e->size));
	if (e->relayed) {
		client = json_object();
		json_object_set_new(client, "ip", e->ip[0] ?
		    json_string(e->ip) : json_null());
		json_object_set_new(client, "port", json_integer(e->port));
		json_object_set_new(client, "helo", record_str(e->helo));
		json_object_set_new(client, "ptr", record_str(e->ptr));
	} else
		client = json_null();
	json_object_set_new(rec, "client", client);
	if (e->tls) {
		tls = json_object();
		json_object_set_new(tls, "version",
		    record_str(e->tls_version));
		json_object_set_new(tls, "cipher", record_str(e->tls_cipher));
		json_object_set_new(tls, "bits", json_integer(e->tls_bits));
	} else
		tls = json_null();
	json_object_set_new(rec, "tls", tls);
	if (e->relayed && e->from != NULL) {
		env = json_object();
		to = json_array();
		rp = json_array();
		json_object_set_new(env, "from", record_str(e->from));
		for (i = 0; i < e->nrcpt; i++) {
			json_array_append_new(to, record_str(e->rcpt[i].addr));
			json_array_append_new(rp,
			    params_object(e->rcpt[i].params));
		}
		json_object_set_new(env, "to", to);
		json_object_set_new(env, "params", json_pack("{s:o,s:o}",
		    "mail", params_object(e->mail_params), "rcpt", rp));
	} else
		env = json_null();
	json_object_set_new(rec, "envelope", env);
	hdrs = json_object();
	for (i = 0; i < SMTP_HDR_NFIELDS; i++)
		json_object_set_new(hdrs, keys[i], record_str(e->hdr[i]));
	json_object_set_new(rec, "headers", hdrs);
	return rec;
}
