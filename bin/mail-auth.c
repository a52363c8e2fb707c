/*
 * mail-auth: SPF, DKIM, DMARC and ARC on a stream of records or on
 * message files; each record goes on with an auth object.  See
 * mail-auth(1).
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "auth.h"
#include "dkim.h"
#include "filter.h"
#include "limit.h"
#include "log.h"
#include "msg.h"
#include "opts.h"
#include "record.h"
#include "table.h"
#include "xalloc.h"

static const char synopsis[] =
    "mail-auth [--authserv-id NAME] [--dns HOST[:PORT]] "
    "[--lookback-hops N] [--ip ADDR] [--mail-from ADDR] [--helo NAME] "
    "[--check [--exempt TABLE]] [--sign KEY --sign-domain D "
    "--sign-selector S] [--arc-trusted FILE] [--arc-key KEY --arc-domain D "
    "--arc-selector S] [options] [path ...]";

/* "relaxed/simple" into the two canonicalisations; 0 if it is one. */
static int
parse_canon(const char *s, int *hc, int *bc)
{
	const char *slash = strchr(s, '/');
	size_t n = slash ? (size_t)(slash - s) : strlen(s);
	const char *b = slash ? slash + 1 : "simple";

	if (n == 7 && strncmp(s, "relaxed", 7) == 0)
		*hc = DKIM_RELAXED;
	else if (n == 6 && strncmp(s, "simple", 6) == 0)
		*hc = DKIM_SIMPLE;
	else
		return -1;
	if (strcmp(b, "relaxed") == 0)
		*bc = DKIM_RELAXED;
	else if (strcmp(b, "simple") == 0)
		*bc = DKIM_SIMPLE;
	else
		return -1;
	return 0;
}

static volatile sig_atomic_t reload_gen;

static void
on_hup(int sig)
{
	(void)sig;
	reload_gen++;
}

enum {
	O_AUTHSERV_ID = 256, O_DNS, O_LOOKBACK, O_IP, O_MAIL_FROM, O_HELO,
	O_CHECK, O_EXEMPT, O_THREADS, O_WINDOW, O_MAX_SIZE, O_SHA1, O_SIGN,
	O_SIGN_DOMAIN, O_SIGN_SELECTOR, O_SIGN_HEADERS, O_SIGN_CANON,
	O_ARC_TRUSTED, O_ARC_KEY, O_ARC_DOMAIN, O_ARC_SELECTOR, O_HELP
};

static const struct option longopts[] = {
	{ "authserv-id", required_argument, NULL, O_AUTHSERV_ID },
	{ "dns", required_argument, NULL, O_DNS },
	{ "lookback-hops", required_argument, NULL, O_LOOKBACK },
	{ "ip", required_argument, NULL, O_IP },
	{ "mail-from", required_argument, NULL, O_MAIL_FROM },
	{ "helo", required_argument, NULL, O_HELO },
	{ "check", no_argument, NULL, O_CHECK },
	{ "exempt", required_argument, NULL, O_EXEMPT },
	{ "threads", required_argument, NULL, O_THREADS },
	{ "window", required_argument, NULL, O_WINDOW },
	{ "max-size", required_argument, NULL, O_MAX_SIZE },
	{ "allow-sha1", no_argument, NULL, O_SHA1 },
	{ "sign", required_argument, NULL, O_SIGN },
	{ "sign-domain", required_argument, NULL, O_SIGN_DOMAIN },
	{ "sign-selector", required_argument, NULL, O_SIGN_SELECTOR },
	{ "sign-headers", required_argument, NULL, O_SIGN_HEADERS },
	{ "sign-canon", required_argument, NULL, O_SIGN_CANON },
	{ "arc-trusted", required_argument, NULL, O_ARC_TRUSTED },
	{ "arc-key", required_argument, NULL, O_ARC_KEY },
	{ "arc-domain", required_argument, NULL, O_ARC_DOMAIN },
	{ "arc-selector", required_argument, NULL, O_ARC_SELECTOR },
	{ "help", no_argument, NULL, O_HELP },
	{ NULL, 0, NULL, 0 }
};

static void *
thread_init(void *arg, char *err, size_t errsz)
{
	return auth_new(arg, err, errsz);
}

static void
thread_fini(void *state)
{
	auth_free(state);
}

static int
work(void *state, json_t *rec, void *arg, char *err, size_t errsz)
{
	(void)arg;
	return auth_record(state, rec, err, errsz);
}

/*
 * --check: the message on standard input (or the one path), its record
 * in SLUICE_RECORD (else the envelope of the flags); the record with its
 * auth object on standard output, the reply text on standard error, and
 * the verdict as the exit status.
 */
static int
check(const struct auth_conf *c, char **paths, int npaths)
{
	const char *env = getenv("SLUICE_RECORD");
	struct auth *a;
	struct msg m;
	char err[512], text[300];
	json_t *rec;
	int r;

	if (npaths > 1)
		opts_usage("--check takes at most one message");
	if (env != NULL && *env != '\0') {
		rec = record_parse(env, strlen(env), err, sizeof(err));
		if (rec == NULL)
			die_perm("SLUICE_RECORD: %s", err);
		/* the message is read here, not from the path named */
	} else
		rec = json_pack("{s:n, s:n}", "client", "envelope");
	if (npaths == 1)
		r = msg_load(&m, paths[0], (size_t)c->max_size, err,
		    sizeof(err));
	else
		r = msg_read(&m, 0, (size_t)c->max_size, err, sizeof(err));
	if (r == -1) {
		json_decref(rec);
		if (errno == E2BIG)
			die_perm("%s: %s", npaths == 1 ? paths[0] : "stdin",
			    err);
		die_temp("%s: %s", npaths == 1 ? paths[0] : "read stdin",
		    err);
	}
	if ((a = auth_new(c, err, sizeof(err))) == NULL)
		die_temp("%s", err);
	r = auth_message(a, rec, &m, err, sizeof(err));
	msg_free(&m);
	auth_free(a);
	if (r == -1)
		die_temp("%s", err);
	r = auth_verdict(c, rec, text, sizeof(text));
	if (record_write(stdout, rec) == -1 && errno != EPIPE) {
		json_decref(rec);
		die_temp("write stdout: %s", strerror(errno));
	}
	json_decref(rec);
	if (r != 0)
		fprintf(stderr, "%s\n", text);
	return r;
}

int
main(int argc, char *argv[])
{
	static char host[256];
	struct auth_conf c;
	struct filter_conf fc;
	struct filter_ops ops;
	const char *exempt = NULL, *sign = NULL, *trusted = NULL;
	const char *arckey = NULL;
	struct dkim_privkey *key = NULL, *akey = NULL;
	char err[512];
	int ch, checking = 0, status;

	prog_init("mail-auth");
	opts_set_usage(synopsis);
	memset(&c, 0, sizeof(c));
	memset(&fc, 0, sizeof(fc));
	c.max_size = LIMIT_MESSAGE_SIZE * 2;
	c.sign_hc = c.sign_bc = DKIM_RELAXED;
	while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		const char *o = opts_name(longopts, ch);

		switch (ch) {
		case O_AUTHSERV_ID: c.authserv_id = optarg; break;
		case O_DNS: c.dns = optarg; break;
		case O_LOOKBACK:
			c.lookback = (int)opts_num(o, optarg, 0, 20);
			break;
		case O_IP: c.ip = optarg; break;
		case O_MAIL_FROM: c.mail_from = optarg; break;
		case O_HELO: c.helo = optarg; break;
		case O_CHECK: checking = 1; break;
		case O_EXEMPT: exempt = optarg; break;
		case O_THREADS:
			fc.threads = (int)opts_num(o, optarg, 1, 256);
			break;
		case O_WINDOW:
			fc.window = (int)opts_num(o, optarg, 1, 65536);
			break;
		case O_MAX_SIZE:
			c.max_size = opts_size(o, optarg, 1024, 1LL << 40);
			break;
		case O_SHA1: c.sha1 = 1; break;
		case O_SIGN: sign = optarg; break;
		case O_SIGN_DOMAIN: c.sign_domain = optarg; break;
		case O_SIGN_SELECTOR: c.sign_selector = optarg; break;
		case O_SIGN_HEADERS: c.sign_headers = optarg; break;
		case O_SIGN_CANON:
			if (parse_canon(optarg, &c.sign_hc, &c.sign_bc) == -1)
				opts_usage("--sign-canon: relaxed or simple, "
				    "header/body, not %s", optarg);
			break;
		case O_ARC_TRUSTED: trusted = optarg; break;
		case O_ARC_KEY: arckey = optarg; break;
		case O_ARC_DOMAIN: c.arc_domain = optarg; break;
		case O_ARC_SELECTOR: c.arc_selector = optarg; break;
		case O_HELP:
			printf("usage: %s\n", synopsis);
			return 0;
		default:
			opts_usage("unknown option");
		}
	}
	if (exempt != NULL && !checking)
		opts_usage("--exempt goes with --check");
	if ((sign != NULL) != (c.sign_domain != NULL) ||
	    (sign != NULL) != (c.sign_selector != NULL))
		opts_usage("--sign, --sign-domain and --sign-selector go "
		    "together");
	if ((arckey != NULL) != (c.arc_domain != NULL) ||
	    (arckey != NULL) != (c.arc_selector != NULL))
		opts_usage("--arc-key, --arc-domain and --arc-selector go "
		    "together");
	if (arckey != NULL) {
		if ((akey = dkim_privkey_load(arckey, err, sizeof(err))) ==
		    NULL)
			die_perm("--arc-key: %s", err);
		c.arc_key = akey;
	}
	if (trusted != NULL &&
	    (c.arc_trusted = table_load(trusted, err, sizeof(err))) == NULL)
		die_perm("--arc-trusted: %s", err);
	c.arc_trusted_path = trusted;
	c.reload = &reload_gen;
	if (sign != NULL) {
		if ((key = dkim_privkey_load(sign, err, sizeof(err))) == NULL)
			die_perm("--sign: %s", err);
		c.sign_key = key;
	}
	if (c.authserv_id == NULL) {
		if (gethostname(host, sizeof(host)) == -1)
			die_temp("gethostname: %s", strerror(errno));
		host[sizeof(host) - 1] = '\0';
		c.authserv_id = host;
	}
	if (exempt != NULL &&
	    (c.exempt = table_from_arg(exempt, err, sizeof(err))) == NULL)
		die_perm("--exempt: %s", err);
	signal(SIGPIPE, SIG_IGN);
	if (!checking) {
		struct sigaction sa;

		/* SIGHUP: the tables again (--arc-trusted) */
		memset(&sa, 0, sizeof(sa));
		sa.sa_handler = on_hup;
		sigemptyset(&sa.sa_mask);
		sa.sa_flags = SA_RESTART;
		sigaction(SIGHUP, &sa, NULL);
	}
	if (checking) {
		status = check(&c, argv + optind, argc - optind);
		table_free(c.exempt);
		auth_fini();
		table_free(c.arc_trusted);
		dkim_privkey_free(key);
		dkim_privkey_free(akey);
		return status;
	}
	fc.out = stdout;
	memset(&ops, 0, sizeof(ops));
	ops.thread_init = thread_init;
	ops.thread_fini = thread_fini;
	ops.work = work;
	ops.arg = &c;
	status = filter_run(&fc, &ops, argv + optind, argc - optind);
	table_free(c.exempt);
	auth_fini();
	table_free(c.arc_trusted);
	dkim_privkey_free(key);
	dkim_privkey_free(akey);
	return status;
}
