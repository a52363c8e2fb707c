/*
 * dmarc-eval: a test driver for lib/dmarc.  Reads a message, takes the
 * SPF and DKIM outcomes as given, checks DMARC against a DNS server and
 * prints one JSON line:
 *
 *   {"from": "ok|none|fields|domains|bad", "domains": [...],
 *    "dmarc": <dmarc_json of the response to act on>}
 *
 * With several Author Domains each is checked and the strictest response
 * is printed (dmarc_strictest); without one, the check of "" gives the
 * permerror.
 *
 *   dmarc-eval -d HOST:PORT [-s DOMAIN:RESULT] [-k D:RESULT]... MESSAGE
 *
 * Exit 0, 100 on bad usage or an unreadable message, 111 when the
 * resolver cannot be set up.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "dmarc.h"
#include "dns.h"
#include "limit.h"
#include "log.h"
#include "msg.h"

#define MAXSIGS	16

static void
usage(void)
{
	fprintf(stderr, "usage: dmarc-eval -d HOST:PORT [-s DOMAIN:RESULT] "
	    "[-k D:RESULT]... MESSAGE\n");
	exit(100);
}

/* "NAME:RESULT" cut in two in place. */
static void
split(char *arg, const char **name, const char **result)
{
	char *c = strrchr(arg, ':');

	if (c == NULL)
		usage();
	*c = '\0';
	*name = arg;
	*result = c + 1;
}

int
main(int argc, char *argv[])
{
	char dom[LIMIT_DMARC_FROM][DMARC_DOMAIN_MAX], err[256];
	struct dmarc_response rs[LIMIT_DMARC_FROM];
	struct dmarc_dkim dk[MAXSIGS];
	struct dmarc_request rq;
	struct msg m;
	struct dns *d;
	enum dmarc_from st;
	const char *server = NULL;
	json_t *out, *doms, *j;
	size_t n, i, best;
	int c;

	prog_init("dmarc-eval");
	memset(&rq, 0, sizeof(rq));
	rq.dkim = dk;
	while ((c = getopt(argc, argv, "d:s:k:")) != -1) {
		switch (c) {
		case 'd':
			server = optarg;
			break;
		case 's':
			split(optarg, &rq.spf_domain, &rq.spf_result);
			break;
		case 'k':
			if (rq.ndkim == MAXSIGS)
				usage();
			split(optarg, &dk[rq.ndkim].d, &dk[rq.ndkim].result);
			rq.ndkim++;
			break;
		default:
			usage();
		}
	}
	if (server == NULL || argc - optind != 1)
		usage();
	if (msg_load(&m, argv[optind], LIMIT_MESSAGE_SIZE, err, sizeof(err)) == -1)
		die_perm("%s: %s", argv[optind], err);
	if ((d = dns_new(server, err, sizeof(err))) == NULL)
		die_temp("dns %s: %s", server, err);

	st = dmarc_from_msg(&m, dom, LIMIT_DMARC_FROM, &n);
	if (st == DMARC_FROM_BAD || n == 0) {
		rq.from_domain = "";
		n = 0;
		dmarc_check(d, &rq, &rs[0]);
		best = 0;
	} else {
		for (i = 0; i < n; i++) {
			rq.from_domain = dom[i];
			if (dmarc_check(d, &rq, &rs[i]) == -1)
				die_temp("dmarc_check %s failed", dom[i]);
		}
		best = dmarc_strictest(rs, n);
	}
	if ((doms = json_array()) == NULL)
		die_temp("out of memory");
	for (i = 0; i < n; i++)
		json_array_append_new(doms, json_string(dom[i]));
	if ((j = dmarc_json(&rs[best])) == NULL)
		die_temp("dmarc_json failed");
	out = json_pack("{s:s, s:o, s:o}", "from", dmarc_from_str(st),
	    "domains", doms, "dmarc", j);
	if (out == NULL || json_dumpf(out, stdout, JSON_COMPACT) == -1)
		die_temp("write stdout failed");
	putchar('\n');
	json_decref(out);
	dns_free(d);
	msg_free(&m);
	if (fflush(stdout) == EOF || ferror(stdout))
		die_temp("write stdout failed");
	return 0;
}
