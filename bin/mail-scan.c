/*
 * mail-scan: MIME, attachments and archives on a stream of records or on
 * message files; each record goes on with a scan object.  See
 * mail-scan(1).
 */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "filter.h"
#include "limit.h"
#include "log.h"
#include "opts.h"
#include "scan.h"

static const char synopsis[] =
    "mail-scan [--hash-blocklist FILE] [--protect-domains FILE] "
    "[--own-domains FILE] [--protect-names FILE] [--shorteners FILE] "
    "[--domain-blocklist FILE] [--freemail FILE] [--rules FILE] "
    "[--uribl ZONE] [--dnsbl ZONE] [--dns HOST[:PORT]] [--bec-score N] "
    "[--spam-score N] "
    "[--suspicious-score N] [--malicious-score N] [--max-depth N] "
    "[--max-parts N] [--max-decoded SIZE] [--max-archive-depth N] "
    "[--max-archive-members N] [--max-expand SIZE] [--max-ratio N] "
    "[--max-size SIZE] [path ...]";

static volatile sig_atomic_t reload_gen;

static void
on_hup(int sig)
{
	(void)sig;
	reload_gen++;
}

enum {
	O_BLOCKLIST = 256, O_SPAM, O_SUSPICIOUS, O_MALICIOUS, O_DEPTH,
	O_PARTS, O_DECODED, O_ADEPTH, O_AMEMBERS, O_EXPAND, O_RATIO, O_SIZE,
	O_PROTECT, O_OWN, O_NAMES, O_SHORT, O_DOMBLOCK, O_FREEMAIL, O_RULES,
	O_URIBL, O_DNSBL, O_DNS, O_BEC, O_HELP
};

#define ZONES_MAX	20	/* --uribl, --dnsbl each */

static const struct option longopts[] = {
	{ "hash-blocklist", required_argument, NULL, O_BLOCKLIST },
	{ "spam-score", required_argument, NULL, O_SPAM },
	{ "suspicious-score", required_argument, NULL, O_SUSPICIOUS },
	{ "malicious-score", required_argument, NULL, O_MALICIOUS },
	{ "max-depth", required_argument, NULL, O_DEPTH },
	{ "max-parts", required_argument, NULL, O_PARTS },
	{ "max-decoded", required_argument, NULL, O_DECODED },
	{ "max-archive-depth", required_argument, NULL, O_ADEPTH },
	{ "max-archive-members", required_argument, NULL, O_AMEMBERS },
	{ "max-expand", required_argument, NULL, O_EXPAND },
	{ "max-ratio", required_argument, NULL, O_RATIO },
	{ "max-size", required_argument, NULL, O_SIZE },
	{ "protect-domains", required_argument, NULL, O_PROTECT },
	{ "own-domains", required_argument, NULL, O_OWN },
	{ "protect-names", required_argument, NULL, O_NAMES },
	{ "shorteners", required_argument, NULL, O_SHORT },
	{ "domain-blocklist", required_argument, NULL, O_DOMBLOCK },
	{ "freemail", required_argument, NULL, O_FREEMAIL },
	{ "rules", required_argument, NULL, O_RULES },
	{ "uribl", required_argument, NULL, O_URIBL },
	{ "dnsbl", required_argument, NULL, O_DNSBL },
	{ "dns", required_argument, NULL, O_DNS },
	{ "bec-score", required_argument, NULL, O_BEC },
	{ "help", no_argument, NULL, O_HELP },
	{ NULL, 0, NULL, 0 }
};

static void *
thread_init(void *arg, char *err, size_t errsz)
{
	return scan_new(arg, err, errsz);
}

static void
thread_fini(void *state)
{
	scan_free(state);
}

static int
work(void *state, json_t *rec, void *arg, char *err, size_t errsz)
{
	(void)arg;
	return scan_record(state, rec, err, errsz);
}

int
main(int argc, char *argv[])
{
	struct scan_conf c;
	struct filter_conf fc;
	struct filter_ops ops;
	struct sigaction sa;
	struct scan *probe;
	static const char *uribl[ZONES_MAX], *dnsbl[ZONES_MAX];
	char err[512];
	int ch;

	prog_init("mail-scan");
	opts_set_usage(synopsis);
	memset(&c, 0, sizeof(c));
	memset(&fc, 0, sizeof(fc));
	c.max_depth = LIMIT_MIME_DEPTH;
	c.max_parts = LIMIT_MIME_PARTS;
	c.max_decoded = LIMIT_MIME_DECODED;
	c.max_archive_depth = LIMIT_ARCHIVE_DEPTH;
	c.max_archive_members = LIMIT_ARCHIVE_MEMBERS;
	c.max_expand = LIMIT_ARCHIVE_EXPAND;
	c.max_ratio = LIMIT_ARCHIVE_RATIO;
	c.max_size = LIMIT_SCAN_SIZE;
	c.spam_score = 5;
	c.suspicious_score = 5;
	c.malicious_score = 15;
	c.bec_score = 5;
	c.uribl = uribl;
	c.dnsbl = dnsbl;
	while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		const char *o = opts_name(longopts, ch);

		switch (ch) {
		case O_BLOCKLIST: c.hash_blocklist = optarg; break;
		case O_PROTECT: c.protect_domains = optarg; break;
		case O_OWN: c.own_domains = optarg; break;
		case O_NAMES: c.protect_names = optarg; break;
		case O_SHORT: c.shorteners = optarg; break;
		case O_DOMBLOCK: c.domain_blocklist = optarg; break;
		case O_FREEMAIL: c.freemail = optarg; break;
		case O_RULES: c.rules = optarg; break;
		case O_DNS: c.dns = optarg; break;
		case O_URIBL:
		case O_DNSBL:
			if ((ch == O_URIBL ? c.nuribl : c.ndnsbl) >= ZONES_MAX)
				opts_usage("%s: over %d zones", o, ZONES_MAX);
			if (*optarg == '\0' || strlen(optarg) > 200)
				opts_usage("%s: not a zone: %s", o, optarg);
			if (ch == O_URIBL)
				uribl[c.nuribl++] = optarg;
			else
				dnsbl[c.ndnsbl++] = optarg;
			break;
		case O_BEC:
			c.bec_score = (int)opts_num(o, optarg, 1, 10000);
			break;
		case O_SPAM:
			c.spam_score = (int)opts_num(o, optarg, 1, 10000);
			break;
		case O_SUSPICIOUS:
			c.suspicious_score = (int)opts_num(o, optarg, 1, 10000);
			break;
		case O_MALICIOUS:
			c.malicious_score = (int)opts_num(o, optarg, 1, 10000);
			break;
		case O_DEPTH:
			c.max_depth = (int)opts_num(o, optarg, 1, 1000);
			break;
		case O_PARTS:
			c.max_parts = (long)opts_num(o, optarg, 1, 1000000);
			break;
		case O_DECODED:
			c.max_decoded = (unsigned long long)opts_size(o, optarg,
			    1024, 1LL << 40);
			break;
		case O_ADEPTH:
			c.max_archive_depth = (int)opts_num(o, optarg, 0, 32);
			break;
		case O_AMEMBERS:
			c.max_archive_members = (long)opts_num(o, optarg, 1,
			    1000000);
			break;
		case O_EXPAND:
			c.max_expand = (unsigned long long)opts_size(o, optarg,
			    1024, 1LL << 40);
			break;
		case O_RATIO:
			c.max_ratio = (long)opts_num(o, optarg, 2, 1000000);
			break;
		case O_SIZE:
			c.max_size = opts_size(o, optarg, 1024, 1LL << 40);
			break;
		case O_HELP:
			printf("usage: %s\n", synopsis);
			return 0;
		default:
			opts_usage("unknown option");
		}
	}
	if (c.suspicious_score > c.malicious_score)
		opts_usage("--suspicious-score is over --malicious-score");
	c.reload = &reload_gen;
	/* a bad block list or a missing libmagic database is bad config:
	 * found now, not at the first message */
	if ((probe = scan_new(&c, err, sizeof(err))) == NULL)
		die_perm("%s", err);
	scan_free(probe);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_hup;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = SA_RESTART;
	sigaction(SIGHUP, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	/* one message at a time: a scan is CPU and memory, not waiting */
	fc.threads = 1;
	fc.window = 1;
	fc.out = stdout;
	memset(&ops, 0, sizeof(ops));
	ops.thread_init = thread_init;
	ops.thread_fini = thread_fini;
	ops.work = work;
	ops.arg = &c;
	return filter_run(&fc, &ops, argv + optind, argc - optind);
}
