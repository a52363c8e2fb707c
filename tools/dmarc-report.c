/*
 * dmarc-report: DMARC aggregate reports (RFC 9990) from the records
 * mail-auth writes.  See dmarc-report(1).
 *
 * Records are read line by line (files, or stdin), those of the period
 * with a DMARC pass or fail and a policy record asking for reports
 * (auth.dmarc.published.rua) are grouped by policy domain, then by row:
 * source IP, disposition, aligned DKIM and SPF, the identifiers and the
 * raw DKIM and SPF results.  One XML report per policy domain goes to
 * stdout or to a file of --out.  A record that cannot be read is
 * reported with its line and counted; the others still make the reports,
 * and the exit status is 100 at the end.
 */
#define _XOPEN_SOURCE 700	/* strptime */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "limit.h"
#include "line.h"
#include "log.h"
#include "opts.h"
#include "xalloc.h"

static const char synopsis[] =
    "dmarc-report --org-name NAME --email ADDR [--extra-contact TEXT] "
    "[--receiver DOMAIN] [--begin TIME] [--end TIME] [--all] [--out DIR] "
    "[FILE ...]";

enum { O_ORG = 256, O_EMAIL, O_EXTRA, O_RECEIVER, O_BEGIN, O_END, O_ALL,
    O_OUT, O_HELP };

static const struct option longopts[] = {
	{ "org-name", required_argument, NULL, O_ORG },
	{ "email", required_argument, NULL, O_EMAIL },
	{ "extra-contact", required_argument, NULL, O_EXTRA },
	{ "receiver", required_argument, NULL, O_RECEIVER },
	{ "begin", required_argument, NULL, O_BEGIN },
	{ "end", required_argument, NULL, O_END },
	{ "all", no_argument, NULL, O_ALL },
	{ "out", required_argument, NULL, O_OUT },
	{ "help", no_argument, NULL, O_HELP },
	{ NULL, 0, NULL, 0 },
};

struct opts {
	const char *org, *email, *extra, *receiver, *out;
	long long begin, end;	/* [begin, end) in seconds */
	int all;		/* every record; begin/end from the data */
};

/* The reports being built: policy domain -> report. */
struct state {
	struct opts *o;
	json_t *reports;	/* domain -> {"published", "rows": {key: row}} */
	long long rows;		/* rows kept, all reports */
	long long dropped;	/* messages left out at LIMIT_DMARC_ROWS */
	long long bad;		/* records that could not be read */
	long long first, last;	/* received_at seen, for --all */
};

/* ------------------------------------------------------------------ */
/* Time                                                                */
/* ------------------------------------------------------------------ */

/*
 * RFC 3339 date-time in UTC ("2026-05-01T12:00:00Z", fractions and
 * "+00:00" accepted; other offsets applied), or seconds since the epoch.
 * Returns 0 and *t, or -1.
 */
static int
parse_time(const char *s, long long *t)
{
	struct tm tm;
	const char *p;
	char *end;
	long long v;
	int off = 0, sign;

	if (*s >= '0' && *s <= '9' && strchr(s, '-') == NULL) {
		errno = 0;
		v = strtoll(s, &end, 10);
		if (errno != 0 || *end != '\0' || v < 0)
			return -1;
		*t = v;
		return 0;
	}
	memset(&tm, 0, sizeof(tm));
	p = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
	if (p == NULL)
		return -1;
	if (*p == '.') {
		for (p++; *p >= '0' && *p <= '9'; p++)
			;
	}
	if (*p == 'Z' || *p == 'z')
		p++;
	else if (*p == '+' || *p == '-') {
		int hh, mm;

		sign = *p == '-' ? -1 : 1;
		if (sscanf(p + 1, "%2d:%2d", &hh, &mm) != 2 || strlen(p) != 6 ||
		    hh > 23 || mm > 59)
			return -1;
		off = sign * (hh * 3600 + mm * 60);
		p += 6;
	} else
		return -1;
	if (*p != '\0')
		return -1;
	*t = (long long)timegm(&tm) - off;
	return 0;
}

/* ------------------------------------------------------------------ */
/* Records                                                             */
/* ------------------------------------------------------------------ */

static const char *
str(json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);

	return json_is_string(v) ? json_string_value(v) : NULL;
}

static int
valid_ip(const char *s)
{
	unsigned char buf[16];

	return s != NULL && (inet_pton(AF_INET, s, buf) == 1 ||
	    inet_pton(AF_INET6, s, buf) == 1);
}

static int
is_one_of(const char *s, const char *const *words)
{
	for (; s != NULL && *words != NULL; words++)
		if (strcmp(s, *words) == 0)
			return 1;
	return 0;
}

static const char *const dispositions[] = { "none", "quarantine", "reject",
    NULL };
static const char *const spf_results[] = { "none", "neutral", "pass", "fail",
    "softfail", "temperror", "permerror", NULL };
static const char *const dkim_results[] = { "none", "pass", "fail",
    "policy", "neutral", "temperror", "permerror", NULL };

/* Append a field of a row key: its length, then the bytes, so that no
 * value can make two rows look alike. */
static void
key_add(char **key, size_t *len, size_t *cap, const char *s)
{
	char head[24];
	size_t n = strlen(s), h;

	h = (size_t)snprintf(head, sizeof(head), "%zu:", n);
	if (*len + h + n + 1 > *cap) {
		size_t ncap = (*len + h + n + 1) * 2;
		char *k = xmalloc(ncap);

		if (*len > 0)
			memcpy(k, *key, *len);
		free(*key);
		*key = k;
		*cap = ncap;
	}
	memcpy(*key + *len, head, h);
	memcpy(*key + *len + h, s, n);
	*len += h + n;
	(*key)[*len] = '\0';
}

/*
 * Take one record.  Returns 0 (used or not for the period or policy),
 * -1 with why set when it cannot be read.
 */
static int
take(struct state *st, json_t *rec, char *why, size_t whysz)
{
	json_t *auth, *dmarc, *pub, *rua, *spf, *dkim, *client, *rep, *rows;
	json_t *row, *sigs, *sig;
	const char *ip, *at, *res, *pd, *hf, *disp, *spf_dom = "", *spf_res;
	const char *scope = "mfrom", *id;
	long long t;
	char *key = NULL;
	size_t klen = 0, kcap = 0, i, nsig;
	int dkim_al, spf_al, testing;

	id = str(rec, "id");
	at = str(rec, "received_at");
	client = json_object_get(rec, "client");
	ip = json_is_object(client) ? str(client, "ip") : NULL;
	auth = json_object_get(rec, "auth");
	dmarc = json_is_object(auth) ? json_object_get(auth, "dmarc") : NULL;
	if (id == NULL) {
		snprintf(why, whysz, "no \"id\"");
		return -1;
	}
	if (at == NULL || parse_time(at, &t) == -1) {
		snprintf(why, whysz, "%s: no RFC 3339 \"received_at\"", id);
		return -1;
	}
	if (!json_is_object(dmarc) || (res = str(dmarc, "result")) == NULL) {
		snprintf(why, whysz, "%s: no \"auth.dmarc.result\"", id);
		return -1;
	}
	if (!st->o->all && (t < st->o->begin || t >= st->o->end))
		return 0;
	/* Reports are about the messages DMARC was applied to: a pass or
	 * a fail under a record that asks for them. */
	if (strcmp(res, "pass") != 0 && strcmp(res, "fail") != 0)
		return 0;
	pd = str(dmarc, "policy_domain");
	pub = json_object_get(dmarc, "published");
	rua = json_is_object(pub) ? json_object_get(pub, "rua") : NULL;
	if (pd == NULL || !json_is_array(rua) || json_array_size(rua) == 0)
		return 0;
	if (!valid_ip(ip)) {
		snprintf(why, whysz, "%s: no IP address at \"client.ip\"", id);
		return -1;
	}
	hf = str(dmarc, "domain");
	disp = str(dmarc, "disposition");
	if (hf == NULL || !is_one_of(disp, dispositions) ||
	    !is_one_of(str(pub, "p"), dispositions) ||
	    !is_one_of(str(pub, "sp"), dispositions)) {
		snprintf(why, whysz, "%s: \"auth.dmarc\" lacks domain, "
		    "disposition or published p and sp", id);
		return -1;
	}
	dkim_al = json_is_true(json_object_get(dmarc, "dkim_aligned"));
	spf_al = json_is_true(json_object_get(dmarc, "spf_aligned"));
	testing = json_is_true(json_object_get(dmarc, "testing"));

	spf = json_object_get(auth, "spf");
	spf_res = "none";
	if (json_is_object(spf)) {
		if (str(spf, "domain") != NULL)
			spf_dom = str(spf, "domain");
		if (str(spf, "result") != NULL)
			spf_res = str(spf, "result");
		if (str(spf, "identity") != NULL &&
		    strcmp(str(spf, "identity"), "helo") == 0)
			scope = "helo";
	}
	if (!is_one_of(spf_res, spf_results)) {
		snprintf(why, whysz, "%s: SPF result is no RFC 8601 word", id);
		return -1;
	}
	dkim = json_object_get(auth, "dkim");
	if (dkim != NULL && !json_is_array(dkim)) {
		snprintf(why, whysz, "%s: \"auth.dkim\" is not an array", id);
		return -1;
	}
	/* The signatures of the row, at most LIMIT_DMARC_SIGS: passes
	 * first (RFC 9990 2.1.2), in the order given. */
	sigs = json_array();
	for (int pass = 1; pass >= 0; pass--)
		json_array_foreach(dkim, i, sig) {
			const char *d = str(sig, "d"), *r = str(sig, "result");

			if (d == NULL || !is_one_of(r, dkim_results)) {
				snprintf(why, whysz, "%s: a DKIM result without "
				    "d= or an RFC 8601 word", id);
				json_decref(sigs);
				return -1;
			}
			if ((strcmp(r, "pass") == 0) != pass ||
			    json_array_size(sigs) >= LIMIT_DMARC_SIGS)
				continue;
			json_array_append_new(sigs, json_pack("{s:s, s:s, s:s}",
			    "domain", d, "selector",
			    str(sig, "s") != NULL ? str(sig, "s") : "",
			    "result", r));
		}

	key_add(&key, &klen, &kcap, ip);
	key_add(&key, &klen, &kcap, disp);
	key_add(&key, &klen, &kcap, dkim_al ? "pass" : "fail");
	key_add(&key, &klen, &kcap, spf_al ? "pass" : "fail");
	key_add(&key, &klen, &kcap, testing ? "t" : "");
	key_add(&key, &klen, &kcap, hf);
	key_add(&key, &klen, &kcap, spf_dom);
	key_add(&key, &klen, &kcap, scope);
	key_add(&key, &klen, &kcap, spf_res);
	nsig = json_array_size(sigs);
	for (i = 0; i < nsig; i++) {
		sig = json_array_get(sigs, i);
		key_add(&key, &klen, &kcap, str(sig, "domain"));
		key_add(&key, &klen, &kcap, str(sig, "selector"));
		key_add(&key, &klen, &kcap, str(sig, "result"));
	}

	if ((rep = json_object_get(st->reports, pd)) == NULL) {
		rep = json_pack("{s:O, s:{}}", "published", pub, "rows");
		json_object_set_new(st->reports, pd, rep);
	} else	/* the last configuration seen (RFC 9990 2.1) */
		json_object_set(rep, "published", pub);
	rows = json_object_get(rep, "rows");
	if ((row = json_object_get(rows, key)) != NULL) {
		json_object_set_new(row, "count", json_integer(
		    json_integer_value(json_object_get(row, "count")) + 1));
		json_decref(sigs);
	} else if (st->rows >= LIMIT_DMARC_ROWS) {
		st->dropped++;
		json_decref(sigs);
	} else {
		row = json_pack("{s:s, s:I, s:s, s:s, s:s, s:b, s:s, s:s, "
		    "s:s, s:s, s:o}", "ip", ip, "count", (json_int_t)1,
		    "disposition", disp, "dkim", dkim_al ? "pass" : "fail",
		    "spf", spf_al ? "pass" : "fail", "testing", testing,
		    "header_from", hf, "envelope_from", spf_dom,
		    "spf_scope", scope, "spf_result", spf_res, "sigs", sigs);
		json_object_set_new(rows, key, row);
		st->rows++;
	}
	free(key);
	if (st->first == -1 || t < st->first)
		st->first = t;
	if (t > st->last)
		st->last = t;
	return 0;
}

static void
read_input(struct state *st, int fd, const char *name)
{
	struct line_reader *lr = line_new(fd, LIMIT_RECORD);
	json_error_t jerr;
	char *line, why[256], esc[300];
	size_t len;
	json_t *rec;
	enum line_status ls;

	while ((ls = line_next(lr, &line, &len)) != LINE_EOF) {
		if (ls == LINE_ERR)
			die_temp("read %s: %s", name, strerror(errno));
		if (ls == LINE_LONG) {
			log_info("%s:%lu: record over %d bytes", name,
			    line_number(lr), LIMIT_RECORD);
			st->bad++;
			continue;
		}
		if (len == 0)
			continue;
		rec = json_loadb(line, len, JSON_REJECT_DUPLICATES, &jerr);
		if (rec == NULL || !json_is_object(rec)) {
			log_escape(esc, sizeof(esc), rec == NULL ? jerr.text :
			    "not a JSON object", strlen(rec == NULL ?
			    jerr.text : "not a JSON object"));
			log_info("%s:%lu: %s", name, line_number(lr), esc);
			json_decref(rec);
			st->bad++;
			continue;
		}
		if (take(st, rec, why, sizeof(why)) == -1) {
			log_escape(esc, sizeof(esc), why, strlen(why));
			log_info("%s:%lu: %s", name, line_number(lr), esc);
			st->bad++;
		}
		json_decref(rec);
	}
	line_free(lr);
}

/* ------------------------------------------------------------------ */
/* XML                                                                 */
/* ------------------------------------------------------------------ */

/* Text or attribute content: the five XML specials escaped, and the
 * control characters XML 1.0 forbids written as '?'.  The input is
 * valid UTF-8 (jansson checked it). */
static void
xml_text(FILE *f, const char *s)
{
	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;

		switch (c) {
		case '&': fputs("&amp;", f); break;
		case '<': fputs("&lt;", f); break;
		case '>': fputs("&gt;", f); break;
		case '"': fputs("&quot;", f); break;
		case '\'': fputs("&apos;", f); break;
		default:
			if (c < 0x20 && c != '\t' && c != '\n')
				putc('?', f);
			else
				putc(c, f);
		}
	}
}

static void
elem(FILE *f, int indent, const char *name, const char *value)
{
	fprintf(f, "%*s<%s>", indent, "", name);
	xml_text(f, value);
	fprintf(f, "</%s>\n", name);
}

/* A report's unique id: letters and digits (RFC 9990 filename ABNF), the
 * same for the same domain, period and reporter, so that a report sent
 * again has the name it had (RFC 9990 2.5.1). */
static void
unique_id(const struct opts *o, const char *domain, long long b, long long e,
    char *out, size_t sz)
{
	uint64_t h = 1469598103934665603ULL;
	char buf[64];
	const char *parts[4];
	size_t i;

	snprintf(buf, sizeof(buf), "%lld-%lld", b, e);
	parts[0] = o->org;
	parts[1] = o->email;
	parts[2] = domain;
	parts[3] = buf;
	for (i = 0; i < 4; i++) {
		const unsigned char *p = (const unsigned char *)parts[i];

		for (; *p != '\0'; p++)
			h = (h ^ *p) * 1099511628211ULL;
		h = (h ^ 0xff) * 1099511628211ULL;
	}
	snprintf(out, sz, "%016llx", (unsigned long long)h);
}

static void
write_report(FILE *f, const struct opts *o, const char *domain, json_t *rep,
    long long b, long long e, const char *uid)
{
	json_t *pub = json_object_get(rep, "published"), *row, *sig;
	const char *key, *fo;
	size_t i;
	char num[32];

	fprintf(f, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
	    "<feedback xmlns=\"urn:ietf:params:xml:ns:dmarc-2.0\">\n"
	    "  <version>1.0</version>\n  <report_metadata>\n");
	elem(f, 4, "org_name", o->org);
	elem(f, 4, "email", o->email);
	if (o->extra != NULL)
		elem(f, 4, "extra_contact_info", o->extra);
	elem(f, 4, "report_id", uid);
	fprintf(f, "    <date_range>\n      <begin>%lld</begin>\n"
	    "      <end>%lld</end>\n    </date_range>\n"
	    "  </report_metadata>\n  <policy_published>\n", b, e);
	elem(f, 4, "domain", domain);
	elem(f, 4, "discovery_method", "treewalk");
	elem(f, 4, "adkim", strcmp(str(pub, "adkim") != NULL ?
	    str(pub, "adkim") : "r", "s") == 0 ? "s" : "r");
	elem(f, 4, "aspf", strcmp(str(pub, "aspf") != NULL ?
	    str(pub, "aspf") : "r", "s") == 0 ? "s" : "r");
	elem(f, 4, "p", str(pub, "p"));
	elem(f, 4, "sp", str(pub, "sp"));
	elem(f, 4, "testing", str(pub, "t") != NULL &&
	    strcmp(str(pub, "t"), "y") == 0 ? "y" : "n");
	if ((fo = str(pub, "fo")) != NULL)
		elem(f, 4, "fo", fo);
	fprintf(f, "  </policy_published>\n");
	json_object_foreach(json_object_get(rep, "rows"), key, row) {
		fprintf(f, "  <record>\n    <row>\n");
		elem(f, 6, "source_ip", str(row, "ip"));
		snprintf(num, sizeof(num), "%lld", (long long)
		    json_integer_value(json_object_get(row, "count")));
		elem(f, 6, "count", num);
		fprintf(f, "      <policy_evaluated>\n");
		elem(f, 8, "disposition", str(row, "disposition"));
		elem(f, 8, "dkim", str(row, "dkim"));
		elem(f, 8, "spf", str(row, "spf"));
		if (json_is_true(json_object_get(row, "testing")))
			fprintf(f, "        <reason>\n          <type>"
			    "policy_test_mode</type>\n        </reason>\n");
		fprintf(f, "      </policy_evaluated>\n    </row>\n"
		    "    <identifiers>\n");
		elem(f, 6, "envelope_from", str(row, "envelope_from"));
		elem(f, 6, "header_from", str(row, "header_from"));
		fprintf(f, "    </identifiers>\n    <auth_results>\n");
		json_array_foreach(json_object_get(row, "sigs"), i, sig) {
			fprintf(f, "      <dkim>\n");
			elem(f, 8, "domain", str(sig, "domain"));
			elem(f, 8, "selector", str(sig, "selector"));
			elem(f, 8, "result", str(sig, "result"));
			fprintf(f, "      </dkim>\n");
		}
		fprintf(f, "      <spf>\n");
		elem(f, 8, "domain", str(row, "envelope_from"));
		elem(f, 8, "scope", str(row, "spf_scope"));
		elem(f, 8, "result", str(row, "spf_result"));
		fprintf(f, "      </spf>\n    </auth_results>\n  </record>\n");
	}
	fprintf(f, "</feedback>\n");
}

/* The receiver's domain for file names: --receiver, else the domain of
 * --email.  Letters, digits, '-' and '.' only: it is part of a path. */
static const char *
receiver(const struct opts *o)
{
	const char *r = o->receiver, *p;

	if (r == NULL && (r = strrchr(o->email, '@')) != NULL)
		r++;
	if (r == NULL || *r == '\0' || *r == '.')
		return NULL;
	for (p = r; *p != '\0'; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9') || *p == '-' || *p == '.'))
			return NULL;
	return r;
}

/* Policy domains go into file names: the same check. */
static int
safe_name(const char *s)
{
	if (*s == '\0' || *s == '.' || strlen(s) > 253)
		return 0;
	for (; *s != '\0'; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		    (*s >= '0' && *s <= '9') || *s == '-' || *s == '.' ||
		    *s == '_'))
			return 0;
	return 1;
}

/* Write a report file: a temporary name, fsync, rename; the directory
 * fsynced after. */
static void
write_file(const struct opts *o, const char *domain, json_t *rep,
    long long b, long long e)
{
	char uid[32], path[1024], tmp[1100];
	FILE *f;
	int fd;

	unique_id(o, domain, b, e, uid, sizeof(uid));
	if ((size_t)snprintf(path, sizeof(path), "%s/%s!%s!%lld!%lld!%s.xml",
	    o->out, receiver(o), domain, b, e, uid) >= sizeof(path))
		die_perm("%s: report name too long", domain);
	snprintf(tmp, sizeof(tmp), "%s/.tmp.%ld.%s", o->out, (long)getpid(),
	    uid);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd == -1 || (f = fdopen(fd, "w")) == NULL)
		die_temp("open %s: %s", tmp, strerror(errno));
	write_report(f, o, domain, rep, b, e, uid);
	if (fflush(f) == EOF || ferror(f) || fsync(fd) == -1) {
		unlink(tmp);
		die_temp("write %s: %s", tmp, strerror(errno));
	}
	if (fclose(f) == EOF) {
		unlink(tmp);
		die_temp("close %s: %s", tmp, strerror(errno));
	}
	if (rename(tmp, path) == -1) {
		unlink(tmp);
		die_temp("rename %s to %s: %s", tmp, path, strerror(errno));
	}
}

static void
sync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd == -1 || fsync(fd) == -1)
		die_temp("fsync %s: %s", dir, strerror(errno));
	close(fd);
}

/* ------------------------------------------------------------------ */

static void
parse_opts(struct opts *o, int argc, char *argv[])
{
	int ch, have_begin = 0, have_end = 0;
	time_t now;

	opts_set_usage(synopsis);
	while ((ch = getopt_long(argc, argv, ":", longopts, NULL)) != -1) {
		switch (ch) {
		case O_ORG: o->org = optarg; break;
		case O_EMAIL: o->email = optarg; break;
		case O_EXTRA: o->extra = optarg; break;
		case O_RECEIVER: o->receiver = optarg; break;
		case O_OUT: o->out = optarg; break;
		case O_ALL: o->all = 1; break;
		case O_BEGIN:
			if (parse_time(optarg, &o->begin) == -1)
				opts_usage("--begin %s: not RFC 3339 or "
				    "seconds", optarg);
			have_begin = 1;
			break;
		case O_END:
			if (parse_time(optarg, &o->end) == -1)
				opts_usage("--end %s: not RFC 3339 or seconds",
				    optarg);
			have_end = 1;
			break;
		case O_HELP:
			printf("usage: %s\n", synopsis);
			exit(0);
		case ':':
			opts_usage("%s: missing argument", argv[optind - 1]);
		default:
			opts_usage("bad option: %s", argv[optind - 1]);
		}
	}
	if (o->org == NULL || o->email == NULL)
		opts_usage("--org-name and --email are required");
	if (o->all && (have_begin || have_end))
		opts_usage("--all excludes --begin and --end");
	if (o->out != NULL && receiver(o) == NULL)
		opts_usage("no receiver domain for file names: give "
		    "--receiver");
	/* The default period: yesterday, UTC. */
	now = time(NULL);
	if (!have_end)
		o->end = have_begin ? o->begin + 86400 :
		    (long long)now - (long long)now % 86400;
	if (!have_begin)
		o->begin = o->end - 86400;
	if (o->end <= o->begin)
		opts_usage("--end must come after --begin");
}

int
main(int argc, char *argv[])
{
	struct opts o;
	struct state st;
	const char *domain;
	json_t *rep;
	long long b, e;
	int i, fd;

	prog_init("dmarc-report");
	memset(&o, 0, sizeof(o));
	parse_opts(&o, argc, argv);
	memset(&st, 0, sizeof(st));
	st.o = &o;
	st.first = -1;
	if ((st.reports = json_object()) == NULL)
		die_temp("out of memory");

	if (optind == argc)
		read_input(&st, 0, "stdin");
	for (i = optind; i < argc; i++) {
		if ((fd = open(argv[i], O_RDONLY | O_CLOEXEC)) == -1)
			die_perm("open %s: %s", argv[i], strerror(errno));
		read_input(&st, fd, argv[i]);
		close(fd);
	}
	if (st.dropped > 0)
		log_warn("%lld messages left out: over %d rows",
		    st.dropped, LIMIT_DMARC_ROWS);

	b = o.all ? (st.first == -1 ? 0 : st.first) : o.begin;
	e = o.all ? st.last + 1 : o.end;
	json_object_foreach(st.reports, domain, rep) {
		if (o.out == NULL) {
			char uid[32];

			unique_id(&o, domain, b, e, uid, sizeof(uid));
			write_report(stdout, &o, domain, rep, b, e, uid);
		} else if (!safe_name(domain)) {
			char esc[300];

			log_escape(esc, sizeof(esc), domain, strlen(domain));
			log_info("%s: policy domain unfit for a file name", esc);
			st.bad++;
		} else
			write_file(&o, domain, rep, b, e);
	}
	if (o.out != NULL && json_object_size(st.reports) > 0)
		sync_dir(o.out);
	json_decref(st.reports);
	if (fflush(stdout) == EOF || ferror(stdout) || fclose(stdout) == EOF)
		die_temp("write stdout: %s", strerror(errno));
	if (st.bad > 0) {
		log_info("%lld bad records", st.bad);
		return 100;
	}
	return 0;
}
