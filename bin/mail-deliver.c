/*
 * mail-deliver: hand messages to the downstream over SMTP or LMTP, one
 * result record per message.  See mail-deliver(1).
 */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "deliver.h"
#include "limit.h"
#include "log.h"
#include "opts.h"
#include "record.h"

static const char synopsis[] =
    "mail-deliver --to HOST:PORT[,HOST:PORT...] | --mx [--port N] [--lmtp] "
    "[--tls none|may|encrypt|verify] [--ca FILE] [--tls-policy FILE] "
    "[options]";

enum {
	O_TO = 256, O_MX, O_PORT, O_LMTP, O_TLS, O_CA, O_TLS_POLICY, O_HELO, O_DNS,
	O_CONNECT_TIMEOUT, O_TIMEOUT, O_DATA_TIMEOUT, O_IDLE,
	O_MAX_MESSAGES, O_MAX_SIZE, O_HELP
};

static const struct option longopts[] = {
	{ "to", required_argument, NULL, O_TO },
	{ "mx", no_argument, NULL, O_MX },
	{ "port", required_argument, NULL, O_PORT },
	{ "lmtp", no_argument, NULL, O_LMTP },
	{ "tls", required_argument, NULL, O_TLS },
	{ "ca", required_argument, NULL, O_CA },
	{ "tls-policy", required_argument, NULL, O_TLS_POLICY },
	{ "helo", required_argument, NULL, O_HELO },
	{ "dns", required_argument, NULL, O_DNS },
	{ "connect-timeout", required_argument, NULL, O_CONNECT_TIMEOUT },
	{ "timeout", required_argument, NULL, O_TIMEOUT },
	{ "data-timeout", required_argument, NULL, O_DATA_TIMEOUT },
	{ "idle", required_argument, NULL, O_IDLE },
	{ "max-messages", required_argument, NULL, O_MAX_MESSAGES },
	{ "max-size", required_argument, NULL, O_MAX_SIZE },
	{ "help", no_argument, NULL, O_HELP },
	{ NULL, 0, NULL, 0 }
};

static volatile sig_atomic_t stop;

static void
on_term(int sig)
{
	(void)sig;
	stop = 1;
}

/* --to a:1,b:2 into the list. */
static void
parse_to(struct deliver_conf *c, char *arg)
{
	char *tok, *save, *colon;

	for (tok = strtok_r(arg, ",", &save); tok != NULL;
	    tok = strtok_r(NULL, ",", &save)) {
		if (c->nto == DELIVER_MAX_HOSTS)
			opts_usage("--to: at most %d hosts", DELIVER_MAX_HOSTS);
		colon = strrchr(tok, ':');
		if (colon == NULL || colon == tok || colon[1] == '\0')
			opts_usage("--to: not HOST:PORT: %s", tok);
		opts_num("to", colon + 1, 1, 65535);
		c->to[c->nto++] = tok;
	}
}

int
main(int argc, char *argv[])
{
	static char host[256];
	struct deliver_conf c;
	struct deliver *d;
	struct record_reader *rr;
	struct sigaction sa;
	char err[512];
	int ch, idle = 30, status = 0;
	json_t *rec;

	prog_init("mail-deliver");
	opts_set_usage(synopsis);
	memset(&c, 0, sizeof(c));
	c.smtp.tls = SMTPC_TLS_MAY;
	c.smtp.connect_timeout = 30;
	c.smtp.command_timeout = 300;
	c.smtp.data_timeout = 600;
	c.max_messages = 1000;
	c.port = 25;
	c.max_size = LIMIT_MESSAGE_SIZE * 2;
	while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		const char *o = opts_name(longopts, ch);

		switch (ch) {
		case O_TO: parse_to(&c, optarg); break;
		case O_MX: c.mx = 1; break;
		case O_PORT:
			c.port = (int)opts_num(o, optarg, 1, 65535);
			break;
		case O_LMTP: c.smtp.lmtp = 1; break;
		case O_TLS:
			if (strcmp(optarg, "none") == 0)
				c.smtp.tls = SMTPC_TLS_NONE;
			else if (strcmp(optarg, "may") == 0)
				c.smtp.tls = SMTPC_TLS_MAY;
			else if (strcmp(optarg, "encrypt") == 0)
				c.smtp.tls = SMTPC_TLS_ENCRYPT;
			else if (strcmp(optarg, "verify") == 0)
				c.smtp.tls = SMTPC_TLS_VERIFY;
			else
				opts_usage("--tls: none, may, encrypt or "
				    "verify, not %s", optarg);
			break;
		case O_CA: c.ca = optarg; break;
		case O_TLS_POLICY: c.tls_policy = optarg; break;
		case O_HELO: c.smtp.helo = optarg; break;
		case O_DNS: c.dns = optarg; break;
		case O_CONNECT_TIMEOUT:
			c.smtp.connect_timeout = (int)opts_duration(o, optarg,
			    1, 3600);
			break;
		case O_TIMEOUT:
			c.smtp.command_timeout = (int)opts_duration(o, optarg,
			    1, 3600);
			break;
		case O_DATA_TIMEOUT:
			c.smtp.data_timeout = (int)opts_duration(o, optarg,
			    1, 7200);
			break;
		case O_IDLE:
			idle = (int)opts_duration(o, optarg, 0, 3600);
			break;
		case O_MAX_MESSAGES:
			c.max_messages = (int)opts_num(o, optarg, 1, 1000000);
			break;
		case O_MAX_SIZE:
			c.max_size = (unsigned long long)opts_size(o, optarg,
			    1024, 1LL << 40);
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
	if ((c.nto == 0) == (c.mx == 0))
		opts_usage("give either --to or --mx");
	if (c.smtp.lmtp && c.mx)
		opts_usage("--lmtp goes with --to");
	if (c.smtp.helo == NULL) {
		if (gethostname(host, sizeof(host)) == -1)
			die_temp("gethostname: %s", strerror(errno));
		host[sizeof(host) - 1] = '\0';
		c.smtp.helo = host;
	}
	signal(SIGPIPE, SIG_IGN);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_term;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);

	if ((d = deliver_new(&c, err, sizeof(err))) == NULL)
		die_perm("%s", err);
	rr = record_reader_new(0, "stdin", LIMIT_RECORD);
	while (!stop) {
		struct pollfd p = { 0, POLLIN, 0 };
		enum record_status rs;
		int pr;

		/* an idle connection is closed after --idle seconds */
		pr = record_buffered(rr) > 0 ? 1 :
		    poll(&p, 1, idle > 0 ? idle * 1000 : -1);
		if (pr == -1 && errno == EINTR)
			continue;
		if (pr == 0) {
			deliver_idle(d);
			continue;
		}
		rs = record_next(rr, &rec);
		if (rs == RECORD_EOF)
			break;
		if (rs == RECORD_ERR) {
			log_info("read stdin: %s", strerror(errno));
			status = 111;
			break;
		}
		if (rs == RECORD_BAD) {
			size_t n;
			const char *raw = record_raw(rr, &n);

			/* reported, and passed on as it came */
			log_info("%s", record_error(rr));
			if (raw != NULL && (fwrite(raw, 1, n, stdout) != n ||
			    putchar('\n') == EOF || fflush(stdout) == EOF)) {
				log_info("write stdout: %s", strerror(errno));
				status = 111;
				break;
			}
			continue;
		}
		if (deliver_one(d, rec, err, sizeof(err)) == -1)
			log_info("%s: %s", record_get(rec, "id") ?
			    record_get(rec, "id") : "?", err);
		else {
			json_t *del = json_object_get(rec, "delivery");

			log_info("%s: %s host=%s", record_get(rec, "id") ?
			    record_get(rec, "id") : "?",
			    record_get(del, "status"),
			    record_get(del, "host") ? record_get(del, "host") :
			    "none");
		}
		if (record_write(stdout, rec) == -1) {
			log_info("write stdout: %s", strerror(errno));
			json_decref(rec);
			status = 111;
			break;
		}
		json_decref(rec);
	}
	record_reader_free(rr);
	deliver_free(d);
	return status;
}
