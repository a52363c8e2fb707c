/*
 * arc-tool: a test driver for lib/arc.
 *
 *   arc-tool verify --dns HOST:PORT [--now T] [--json] [FILE...]
 *	the chain of the message on stdin: "cv oldest-pass reason" (or its
 *	arc_json with --json); with FILEs one line per file,
 *	"FILE<TAB>cv<TAB>oldest-pass<TAB>reason".
 *   arc-tool seal --dns HOST:PORT --key FILE --selector S --domain D
 *	(--srv-id ID | --ar VALUE) [--headers LIST] [--now T] < msg
 *	the chain verified, then the message sealed: ARC-Seal,
 *	ARC-Message-Signature, ARC-Authentication-Results on top, CRLF line
 *	ends.  The AAR carries VALUE, or the results of every
 *	Authentication-Results of authserv-id ID merged into one, as the
 *	ValiMail suite makes it.  A chain not to be sealed: the message as
 *	it came and "arc-tool: not sealed: REASON" on stderr.
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
#include <strings.h>

#include "arc.h"
#include "authres.h"
#include "dkim.h"
#include "dns.h"
#include "limit.h"
#include "log.h"
#include "msg.h"
#include "xalloc.h"

static const char synopsis[] =
    "arc-tool verify --dns HOST:PORT [--now T] [--json] [FILE...]\n"
    "       arc-tool seal --dns HOST:PORT --key FILE --selector S "
    "--domain D (--srv-id ID | --ar VALUE) [--headers LIST] [--now T] "
    "< msg";

static const struct option longopts[] = {
	{ "dns", required_argument, NULL, 'D' },
	{ "now", required_argument, NULL, 'n' },
	{ "json", no_argument, NULL, 'j' },
	{ "key", required_argument, NULL, 'k' },
	{ "selector", required_argument, NULL, 's' },
	{ "domain", required_argument, NULL, 'd' },
	{ "headers", required_argument, NULL, 'h' },
	{ "srv-id", required_argument, NULL, 'i' },
	{ "ar", required_argument, NULL, 'a' },
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

/* "ID; results; results..." of every Authentication-Results of id. */
static char *
merged_ar(const struct msg *m, const char *id)
{
	size_t cap = strlen(id) + 8, len, k, n;
	char *out = xmalloc(cap), *v, *aid, *p;
	int any = 0;

	len = (size_t)snprintf(out, cap, "%s", id);
	for (k = 0; k < m->nf; k++) {
		if (!msg_field_is(&m->f[k], "Authentication-Results"))
			continue;
		v = msg_value(&m->f[k]);
		aid = authres_id_of(v);
		if (aid == NULL || strcasecmp(aid, id) != 0 ||
		    (p = strchr(v, ';')) == NULL) {
			free(aid);
			free(v);
			continue;
		}
		free(aid);
		for (p++; *p == ' ' || *p == '\t'; p++)
			;
		n = strlen(p);
		while (n > 0 && (p[n - 1] == ' ' || p[n - 1] == '\t' ||
		    p[n - 1] == ';'))
			n--;
		if (n > 0) {
			out = xreallocarray(out, cap += n + 2, 1);
			memcpy(out + len, "; ", 2);
			memcpy(out + len + 2, p, n);
			len += n + 2;
			out[len] = '\0';
			any = 1;
		}
		free(v);
	}
	if (!any) {
		out = xreallocarray(out, cap += 8, 1);
		memcpy(out + len, "; none", 7);
	}
	return out;
}

static void
print_result(const char *file, const struct arc_result *r, int json)
{
	char *line;

	if (json) {
		json_t *j = arc_json(r);

		line = json_dumps(j, JSON_COMPACT);
		printf("%s\n", line);
		free(line);
		json_decref(j);
		return;
	}
	if (file != NULL)
		printf("%s\t%s\t%d\t%s\n", file, arc_cv_str(r->cv),
		    r->oldest_pass, r->reason);
	else
		printf("%s %d %s\n", arc_cv_str(r->cv), r->oldest_pass,
		    r->reason);
}

int
main(int argc, char *argv[])
{
	struct arc_verify_opts vo;
	struct arc_seal_opts so;
	struct arc_result r;
	struct dkim_privkey *key = NULL;
	struct dns *dns;
	struct msg m;
	const char *cmd, *server = NULL, *keyfile = NULL, *srvid = NULL;
	const char *ar = NULL;
	char err[256], *f[3], *mar;
	int c, json = 0, k, rc;

	prog_init("arc-tool");
	if (argc < 2)
		usage();
	cmd = argv[1];
	argv++;
	argc--;
	arc_verify_opts_init(&vo);
	memset(&so, 0, sizeof(so));
	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (c) {
		case 'D': server = optarg; break;
		case 'n': vo.now = so.now = (time_t)num(optarg); break;
		case 'j': json = 1; break;
		case 'k': keyfile = optarg; break;
		case 's': so.selector = optarg; break;
		case 'd': so.domain = optarg; break;
		case 'h': so.headers = optarg; break;
		case 'i': srvid = optarg; break;
		case 'a': ar = optarg; break;
		default: usage();
		}
	}
	if (server == NULL)
		usage();
	if ((dns = dns_new(server, err, sizeof(err))) == NULL)
		die_temp("dns %s: %s", server, err);
	vo.dns = dns;
	if (strcmp(cmd, "verify") == 0) {
		if (optind == argc) {
			read_msg(&m);
			arc_verify(&m, &vo, &r);
			print_result(NULL, &r, json);
			arc_result_clear(&r);
			msg_free(&m);
		}
		for (k = optind; k < argc; k++) {
			if (msg_load(&m, argv[k], LIMIT_MESSAGE_SIZE, err,
			    sizeof(err)) == -1)
				die_perm("%s: %s", argv[k], err);
			arc_verify(&m, &vo, &r);
			print_result(argv[k], &r, json);
			arc_result_clear(&r);
			msg_free(&m);
		}
	} else if (strcmp(cmd, "seal") == 0) {
		if (optind != argc || keyfile == NULL || so.selector == NULL ||
		    so.domain == NULL || (srvid == NULL) == (ar == NULL))
			usage();
		if ((key = dkim_privkey_load(keyfile, err, sizeof(err))) ==
		    NULL)
			die_perm("%s: %s", keyfile, err);
		so.key = key;
		read_msg(&m);
		arc_verify(&m, &vo, &r);
		mar = ar != NULL ? xstrdup(ar) : merged_ar(&m, srvid);
		rc = arc_seal(&m, &r, mar, &so, f, err, sizeof(err));
		if (rc == -1)
			die_perm("seal: %s", err);
		if (rc == 1)
			fprintf(stderr, "arc-tool: not sealed: %s\n", err);
		for (k = 0; rc == 0 && k < 3; k++) {
			fputs(f[k], stdout);
			free(f[k]);
		}
		fwrite(m.buf, 1, m.len, stdout);
		free(mar);
		arc_result_clear(&r);
		msg_free(&m);
		dkim_privkey_free(key);
	} else
		usage();
	dns_free(dns);
	if (fflush(stdout) == EOF || ferror(stdout))
		die_temp("write stdout: %s", strerror(errno));
	return 0;
}
