/*
 * spf-eval: a test driver for lib/spf.
 *
 *   spf-eval --dns HOST:PORT [--timeout MS] [--receiver NAME] [--repeat N]
 *
 * Reads cases from stdin, one a line, fields separated by tabs:
 *
 *   NAME <TAB> IP <TAB> MAILFROM <TAB> HELO
 *
 * (MAILFROM may be empty: the HELO identity is checked then) and runs
 * spf_check for each with one struct dns for the whole run, printing
 *
 *   NAME <TAB> RESULT <TAB> EXPLANATION <TAB> PROBLEM
 *
 * with the explanation and the problem escaped as log_escape does.
 * --repeat N runs each case N times and prints it once (for bench/spf).
 * Exit 0, 100 on bad usage or a bad line, 111 when DNS cannot be set up
 * or stdout fails.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "dns.h"
#include "log.h"
#include "spf.h"

#define LINE_MAX_CASE	2048

static void
usage(void)
{
	fprintf(stderr, "usage: spf-eval --dns HOST:PORT [--timeout MS] "
	    "[--receiver NAME] [--repeat N]\n");
	exit(100);
}

static long
number(const char *s, long min, long max)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v < min || v > max)
		usage();
	return v;
}

/* Split line at tabs into f (n fields exactly); 0 or -1. */
static int
split(char *line, char **f, int n)
{
	int i;

	for (i = 0; i < n; i++) {
		f[i] = line;
		line = strchr(line, '\t');
		if (line == NULL)
			return i == n - 1 ? 0 : -1;
		*line++ = '\0';
	}
	return -1;
}

static int
address(const char *s, struct sockaddr_storage *ss)
{
	struct sockaddr_in *s4 = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;

	memset(ss, 0, sizeof(*ss));
	if (inet_pton(AF_INET, s, &s4->sin_addr) == 1) {
		s4->sin_family = AF_INET;
		return 0;
	}
	if (inet_pton(AF_INET6, s, &s6->sin6_addr) == 1) {
		s6->sin6_family = AF_INET6;
		return 0;
	}
	return -1;
}

int
main(int argc, char *argv[])
{
	const char *server = NULL, *receiver = NULL;
	char line[LINE_MAX_CASE], err[256], *f[4];
	char expl[SPF_EXPLANATION_MAX * 4], prob[SPF_PROBLEM_MAX * 4];
	struct sockaddr_storage ss;
	struct spf_request req;
	struct spf_response resp;
	struct dns *dns;
	long timeout = 0, repeat = 1, r;
	size_t n;
	int i, lineno = 0;

	prog_init("spf-eval");
	for (i = 1; i < argc; i++) {
		if (i + 1 >= argc)
			usage();
		if (strcmp(argv[i], "--dns") == 0)
			server = argv[++i];
		else if (strcmp(argv[i], "--timeout") == 0)
			timeout = number(argv[++i], 1, 600000);
		else if (strcmp(argv[i], "--receiver") == 0)
			receiver = argv[++i];
		else if (strcmp(argv[i], "--repeat") == 0)
			repeat = number(argv[++i], 1, 10000000);
		else
			usage();
	}
	if (server == NULL)
		usage();
	if ((dns = dns_new(server, err, sizeof(err))) == NULL)
		die_temp("dns %s: %s", server, err);
	if (timeout > 0)
		dns_set_timeout(dns, (int)timeout);
	while (fgets(line, sizeof(line), stdin) != NULL) {
		lineno++;
		n = strlen(line);
		if (n == 0 || line[n - 1] != '\n')
			die_perm("stdin: line %d: too long or unterminated",
			    lineno);
		line[n - 1] = '\0';
		if (split(line, f, 4) == -1)
			die_perm("stdin: line %d: want 4 fields", lineno);
		if (address(f[1], &ss) == -1)
			die_perm("stdin: line %d: bad address %s", lineno,
			    f[1]);
		memset(&req, 0, sizeof(req));
		req.client = (const struct sockaddr *)&ss;
		req.sender = f[2];
		req.helo = f[3];
		req.receiver = receiver;
		for (r = 0; r < repeat; r++)
			spf_check(dns, &req, SPF_MAILFROM, &resp);
		log_escape(expl, sizeof(expl), resp.explanation,
		    strlen(resp.explanation));
		log_escape(prob, sizeof(prob), resp.problem,
		    strlen(resp.problem));
		printf("%s\t%s\t%s\t%s\n", f[0], spf_result_str(resp.result),
		    expl, prob);
		if (fflush(stdout) == EOF)
			die_temp("write stdout: %s", strerror(errno));
	}
	if (ferror(stdin))
		die_temp("read stdin: %s", strerror(errno));
	dns_free(dns);
	if (fclose(stdout) == EOF)
		die_temp("write stdout: %s", strerror(errno));
	return 0;
}
