/*
 * dkim-tool: a test driver for lib/dkim.
 *
 *   dkim-tool verify --dns HOST:PORT [--now T] [--sha1] [--json] < msg
 *	one line per signature, "result d s a reason" (or its dkim_json
 *	with --json); "none" when there is no signature.
 *   dkim-tool sign --key FILE --selector S --domain D
 *	[--canon H/B] [--headers LIST] [--identity I] [--length]
 *	[--now T] [--expire SECONDS] < msg
 *	the message with a DKIM-Signature on top, CRLF line ends.
 *
 * Exit 0, 100 on bad usage or a message or key that cannot be used, 111
 * on a resolver or I/O failure.
 */
#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dkim.h"
#include "dns.h"
#include "limit.h"
#include "log.h"
#include "msg.h"
#include "xalloc.h"

static const char synopsis[] =
    "dkim-tool verify --dns HOST:PORT [--now T] [--sha1] [--json] < msg\n"
    "       dkim-tool sign --key FILE --selector S --domain D "
    "[--canon H/B] [--headers LIST] [--identity I] [--length] [--now T] "
    "[--expire SECONDS] < msg";

static const struct option longopts[] = {
	{ "dns", required_argument, NULL, 'D' },
	{ "now", required_argument, NULL, 'n' },
	{ "sha1", no_argument, NULL, '1' },
	{ "json", no_argument, NULL, 'j' },
	{ "key", required_argument, NULL, 'k' },
	{ "selector", required_argument, NULL, 's' },
	{ "domain", required_argument, NULL, 'd' },
	{ "canon", required_argument, NULL, 'c' },
	{ "headers", required_argument, NULL, 'h' },
	{ "identity", required_argument, NULL, 'i' },
	{ "length", no_argument, NULL, 'l' },
	{ "expire", required_argument, NULL, 'x' },
	{ NULL, 0, NULL, 0 }
};

static void
usage(void)
{
	fprintf(stderr, "usage: %s\n", synopsis);
	exit(100);
}

static long long
num(const char *s)
{
	char *end;
	long long v;

	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v < 0)
		usage();
	return v;
}

static void
read_msg(struct msg *m)
{
	char err[128];

	if (msg_read(m, 0, LIMIT_MESSAGE_SIZE, err, sizeof(err)) == -1) {
		if (errno == E2BIG || errno == EINVAL)
			die_perm("stdin: %s", err);
		die_temp("read stdin: %s", err);
	}
}

static int
canon(const char *s, enum dkim_canon *c)
{
	if (strcmp(s, "simple") == 0)
		*c = DKIM_SIMPLE;
	else if (strcmp(s, "relaxed") == 0)
		*c = DKIM_RELAXED;
	else
		return -1;
	return 0;
}

int
main(int argc, char *argv[])
{
	struct dkim_result res[LIMIT_DKIM_SIGS + 1];
	struct dkim_verify_opts vo;
	struct dkim_sign_opts so;
	struct dkim_privkey *key;
	struct dns *dns;
	struct msg m;
	const char *cmd, *server = NULL, *keyfile = NULL;
	char err[256], *field, *slash, *line;
	size_t n, k;
	int c, json = 0;

	prog_init("dkim-tool");
	if (argc < 2)
		usage();
	cmd = argv[1];
	argv++;
	argc--;
	dkim_verify_opts_init(&vo);
	dkim_sign_opts_init(&so);
	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (c) {
		case 'D': server = optarg; break;
		case 'n': vo.now = so.now = (time_t)num(optarg); break;
		case '1': vo.sha1 = 1; break;
		case 'j': json = 1; break;
		case 'k': keyfile = optarg; break;
		case 's': so.selector = optarg; break;
		case 'd': so.domain = optarg; break;
		case 'h': so.headers = optarg; break;
		case 'i': so.identity = optarg; break;
		case 'l': so.length = 1; break;
		case 'x': so.expire = (long)num(optarg); break;
		case 'c':
			if ((slash = strchr(optarg, '/')) != NULL)
				*slash++ = '\0';
			if (canon(optarg, &so.hc) == -1 ||
			    canon(slash != NULL ? slash : "simple", &so.bc) == -1)
				usage();
			break;
		default: usage();
		}
	}
	if (optind != argc)
		usage();
	if (strcmp(cmd, "verify") == 0) {
		if (server == NULL)
			usage();
		if ((dns = dns_new(server, err, sizeof(err))) == NULL)
			die_temp("dns %s: %s", server, err);
		read_msg(&m);
		n = dkim_verify(&m, dns, &vo, res);
		if (n == 0)
			printf("none\n");
		for (k = 0; k < n; k++) {
			if (json) {
				json_t *j = dkim_json(&res[k]);

				line = json_dumps(j, JSON_COMPACT);
				printf("%s\n", line);
				free(line);
				json_decref(j);
				continue;
			}
			printf("%s %s %s %s %s\n", dkim_result_str(res[k].res),
			    res[k].d[0] ? res[k].d : "-",
			    res[k].s[0] ? res[k].s : "-",
			    res[k].a[0] ? res[k].a : "-", res[k].reason);
		}
		msg_free(&m);
		dns_free(dns);
	} else if (strcmp(cmd, "sign") == 0) {
		if (keyfile == NULL || so.selector == NULL || so.domain == NULL)
			usage();
		if ((key = dkim_privkey_load(keyfile, err, sizeof(err))) == NULL)
			die_perm("%s: %s", keyfile, err);
		read_msg(&m);
		if ((field = dkim_sign(&m, key, &so, err, sizeof(err))) == NULL)
			die_perm("sign: %s", err);
		fputs(field, stdout);
		fwrite(m.buf, 1, m.len, stdout);
		free(field);
		msg_free(&m);
		dkim_privkey_free(key);
	} else
		usage();
	if (fflush(stdout) == EOF || ferror(stdout))
		die_temp("write stdout: %s", strerror(errno));
	return 0;
}
