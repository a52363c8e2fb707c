/*
 * smtp-accept: take mail over SMTP into a maildir spool, durably.
 * See smtp-accept(1).
 */
#define _GNU_SOURCE	/* setgroups */
#include <errno.h>
#include <getopt.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "limit.h"
#include "log.h"
#include "opts.h"
#include "smtpd.h"

static const char synopsis[] =
    "smtp-accept --spool DIR --domains LIST|@FILE [--listen ADDR:PORT] "
    "[--records FILE] [--user NAME] [options]";

enum {
	O_LISTEN = 256, O_SPOOL, O_HOSTNAME, O_RECORDS, O_THREADS, O_NOTIFY,
	O_USER, O_DOMAINS, O_TLS_CERT, O_TLS_KEY, O_TLS_PARTNERS,
	O_REQUIRE_TLS, O_PROXY_FROM, O_LF_NORMALIZE, O_CHECK,
	O_CHECK_TIMEOUT, O_HIGH_WATER, O_MIN_FREE, O_MIN_INODES, O_DNS,
	O_MAX_LINE, O_MAX_DATA_LINE, O_MAX_SIZE, O_MAX_RCPT, O_MAX_MESSAGES,
	O_MAX_COMMANDS, O_MAX_ERRORS, O_MAX_HOPS, O_TIMEOUT, O_DATA_TIMEOUT,
	O_STRESS_TIMEOUT, O_SESSION_TIME, O_MAX_CONN, O_MAX_CONN_PER_IP,
	O_RCPT_RATE, O_GREET_WAIT, O_HELP
};

static const struct option longopts[] = {
	{ "listen", required_argument, NULL, O_LISTEN },
	{ "spool", required_argument, NULL, O_SPOOL },
	{ "hostname", required_argument, NULL, O_HOSTNAME },
	{ "records", required_argument, NULL, O_RECORDS },
	{ "threads", required_argument, NULL, O_THREADS },
	{ "notify", required_argument, NULL, O_NOTIFY },
	{ "user", required_argument, NULL, O_USER },
	{ "domains", required_argument, NULL, O_DOMAINS },
	{ "tls-cert", required_argument, NULL, O_TLS_CERT },
	{ "tls-key", required_argument, NULL, O_TLS_KEY },
	{ "tls-partners", required_argument, NULL, O_TLS_PARTNERS },
	{ "require-tls", no_argument, NULL, O_REQUIRE_TLS },
	{ "proxy-from", required_argument, NULL, O_PROXY_FROM },
	{ "lf-normalize", required_argument, NULL, O_LF_NORMALIZE },
	{ "check", required_argument, NULL, O_CHECK },
	{ "check-timeout", required_argument, NULL, O_CHECK_TIMEOUT },
	{ "high-water", required_argument, NULL, O_HIGH_WATER },
	{ "min-free", required_argument, NULL, O_MIN_FREE },
	{ "min-inodes", required_argument, NULL, O_MIN_INODES },
	{ "dns", required_argument, NULL, O_DNS },
	{ "max-line", required_argument, NULL, O_MAX_LINE },
	{ "max-data-line", required_argument, NULL, O_MAX_DATA_LINE },
	{ "max-size", required_argument, NULL, O_MAX_SIZE },
	{ "max-rcpt", required_argument, NULL, O_MAX_RCPT },
	{ "max-messages", required_argument, NULL, O_MAX_MESSAGES },
	{ "max-commands", required_argument, NULL, O_MAX_COMMANDS },
	{ "max-errors", required_argument, NULL, O_MAX_ERRORS },
	{ "max-hops", required_argument, NULL, O_MAX_HOPS },
	{ "timeout", required_argument, NULL, O_TIMEOUT },
	{ "data-timeout", required_argument, NULL, O_DATA_TIMEOUT },
	{ "stress-timeout", required_argument, NULL, O_STRESS_TIMEOUT },
	{ "session-time", required_argument, NULL, O_SESSION_TIME },
	{ "max-conn", required_argument, NULL, O_MAX_CONN },
	{ "max-conn-per-ip", required_argument, NULL, O_MAX_CONN_PER_IP },
	{ "rcpt-rate", required_argument, NULL, O_RCPT_RATE },
	{ "greet-wait", required_argument, NULL, O_GREET_WAIT },
	{ "help", no_argument, NULL, O_HELP },
	{ NULL, 0, NULL, 0 }
};

/*
 * Room for the descriptors of --max-conn sessions: each has its socket
 * and, while a message comes in, its spool file.  Root may raise the
 * hard limit too; anyone may raise the soft one to the hard one.
 */
static void
raise_fd_limit(int max_conn)
{
	struct rlimit rl;
	rlim_t want = (rlim_t)max_conn * 2 + 256;

	if (getrlimit(RLIMIT_NOFILE, &rl) == -1)
		return;
	if (rl.rlim_max != RLIM_INFINITY && rl.rlim_max < want) {
		struct rlimit more = { want, want };

		if (setrlimit(RLIMIT_NOFILE, &more) == 0) {
			rl = more;
		}
	}
	if (rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur >= want)
		return;
	rl.rlim_cur = (rl.rlim_max == RLIM_INFINITY || rl.rlim_max > want) ?
	    want : rl.rlim_max;
	if (setrlimit(RLIMIT_NOFILE, &rl) == -1 ||
	    rl.rlim_cur < (rlim_t)max_conn + 64)
		log_warn("open files limited to %llu: fewer than --max-conn "
		    "%d sessions fit", (unsigned long long)rl.rlim_cur,
		    max_conn);
}

/* Drop root for good: the groups, the group, the user. */
static void
drop_privileges(const char *user)
{
	struct passwd *pw;

	errno = 0;
	if ((pw = getpwnam(user)) == NULL)
		die_perm("user %s: %s", user, errno ? strerror(errno) :
		    "no such user");
	if (geteuid() != 0) {
		/* not root: already someone; fine if it is this user */
		if (pw->pw_uid != geteuid())
			die_perm("--user %s: only root can become another "
			    "user", user);
		return;
	}
	if (setgroups(1, &pw->pw_gid) == -1 || setgid(pw->pw_gid) == -1 ||
	    setuid(pw->pw_uid) == -1)
		die_temp("become %s: %s", user, strerror(errno));
	if (setuid(0) == 0)
		bug("could regain root after dropping it");
}

int
main(int argc, char *argv[])
{
	static char host[256];
	struct smtpd_conf c;
	struct smtpd *srv;
	const char *user = NULL;
	char err[1024];
	int ch, r;

	prog_init("smtp-accept");
	opts_set_usage(synopsis);
	smtpd_conf_defaults(&c);
	while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		const char *o = opts_name(longopts, ch);

		switch (ch) {
		case O_LISTEN:
			if (c.nlisten == SMTPD_MAX_LISTEN)
				opts_usage("--listen: at most %d",
				    SMTPD_MAX_LISTEN);
			c.listen[c.nlisten++] = optarg;
			break;
		case O_SPOOL: c.spool = optarg; break;
		case O_HOSTNAME: c.hostname = optarg; break;
		case O_RECORDS: c.records = optarg; break;
		case O_THREADS:
			c.threads = (int)opts_num(o, optarg, 1, 64);
			break;
		case O_NOTIFY:
			c.notify_fd = (int)opts_num(o, optarg, 3, 1024);
			break;
		case O_USER: user = optarg; break;
		case O_DOMAINS: c.domains = optarg; break;
		case O_TLS_CERT: c.tls_cert = optarg; break;
		case O_TLS_KEY: c.tls_key = optarg; break;
		case O_TLS_PARTNERS: c.tls_partners = optarg; break;
		case O_REQUIRE_TLS: c.require_tls = 1; break;
		case O_PROXY_FROM: c.proxy_from = optarg; break;
		case O_LF_NORMALIZE: c.lf_normalize = optarg; break;
		case O_CHECK: c.check = optarg; break;
		case O_CHECK_TIMEOUT:
			c.check_timeout = (int)opts_duration(o, optarg, 1,
			    3600);
			break;
		case O_HIGH_WATER: c.high_water = optarg; break;
		case O_MIN_FREE:
			c.min_free = opts_size(o, optarg, 0, 1LL << 50);
			break;
		case O_MIN_INODES:
			c.min_inodes = opts_num(o, optarg, 0, 1LL << 40);
			break;
		case O_DNS: c.dns = optarg; break;
		case O_MAX_LINE:
			c.max_line = (size_t)opts_size(o, optarg, 512,
			    1048576);
			break;
		case O_MAX_DATA_LINE:
			c.max_data_line = (size_t)opts_size(o, optarg, 1000,
			    1LL << 30);
			break;
		case O_MAX_SIZE:
			c.max_size = opts_size(o, optarg, 1024, 1LL << 40);
			break;
		case O_MAX_RCPT:
			c.max_rcpt = (int)opts_num(o, optarg, 1, 100000);
			break;
		case O_MAX_MESSAGES:
			c.max_messages = (int)opts_num(o, optarg, 1, 1000000);
			break;
		case O_MAX_COMMANDS:
			c.max_commands = (int)opts_num(o, optarg, 10,
			    100000000);
			break;
		case O_MAX_ERRORS:
			c.max_errors = (int)opts_num(o, optarg, 1, 10000);
			break;
		case O_MAX_HOPS:
			c.max_hops = (int)opts_num(o, optarg, 1, 1000);
			break;
		case O_TIMEOUT:
			c.timeout = (int)opts_duration(o, optarg, 1, 86400);
			break;
		case O_DATA_TIMEOUT:
			c.data_timeout = (int)opts_duration(o, optarg, 1,
			    86400);
			break;
		case O_STRESS_TIMEOUT:
			c.stress_timeout = (int)opts_duration(o, optarg, 1,
			    86400);
			break;
		case O_SESSION_TIME:
			c.session_time = (int)opts_duration(o, optarg, 1,
			    7 * 86400);
			break;
		case O_MAX_CONN:
			c.max_conn = (int)opts_num(o, optarg, 1, 1000000);
			break;
		case O_MAX_CONN_PER_IP:
			c.max_conn_per_ip = (int)opts_num(o, optarg, 1,
			    1000000);
			break;
		case O_RCPT_RATE:
			opts_rate(o, optarg, &c.rcpt_rate, &c.rcpt_rate_window);
			break;
		case O_GREET_WAIT:
			c.greet_wait = (int)opts_duration(o, optarg, 0, 300);
			break;
		case O_HELP:
			printf("usage: %s\n", synopsis);
			return 0;
		default:
			opts_usage("unknown option");
		}
	}
	if (optind != argc)
		opts_usage("unexpected argument: %s", argv[optind]);
	if (c.spool == NULL)
		opts_usage("--spool is required");
	if (c.domains == NULL)
		opts_usage("--domains is required (the relay domains)");
	if (c.tls_key != NULL && c.tls_cert == NULL)
		opts_usage("--tls-key needs --tls-cert");
	if (c.tls_cert != NULL && c.tls_key == NULL)
		c.tls_key = c.tls_cert;
	if (c.require_tls && c.tls_cert == NULL)
		opts_usage("--require-tls needs --tls-cert");
	if (c.tls_partners != NULL && c.tls_cert == NULL)
		opts_usage("--tls-partners needs --tls-cert");
	if (c.nlisten == 0 && c.threads > 1)
		opts_usage("--threads needs --listen");
	if (c.hostname == NULL) {
		if (gethostname(host, sizeof(host)) == -1)
			die_temp("gethostname: %s", strerror(errno));
		host[sizeof(host) - 1] = '\0';
		c.hostname = host;
	}
	if (geteuid() == 0 && user == NULL)
		die_perm("refusing to talk SMTP as root: give --user NAME");

	if (c.nlisten > 0)
		raise_fd_limit(c.max_conn);
	if ((srv = smtpd_new(&c, err, sizeof(err))) == NULL)
		die_perm("%s", err);
	if (c.nlisten > 0 && smtpd_bind(srv, err, sizeof(err)) == -1) {
		smtpd_free(srv);
		die_temp("%s", err);
	}
	if (user != NULL)
		drop_privileges(user);
	r = smtpd_run(srv, c.nlisten > 0 ? -1 : 0, 1);
	smtpd_free(srv);
	return r;
}
