/*
 * fuzz_rules: lib/rules's parser of mail-scan's --rules file on arbitrary
 * bytes.  A file that loads is run, header and body rules, on the same
 * bytes as the subject: PCRE2 under the match, depth and heap limits.
 * Besides the sanitizers, it checks that a file that fails names its
 * line ("fuzz:N: ") and that each hit has an id and a description.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rules.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
hit(void *arg, const char *id, int score, const char *desc)
{
	(void)arg;
	if (id[0] == '\0' || desc[0] == '\0' || score < -100 || score > 100)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rules *r;
	unsigned char *seen;
	char err[512];

	if ((r = rules_parse((const char *)data, size, "fuzz", err,
	    sizeof(err))) == NULL) {
		if (strncmp(err, "fuzz:", 5) != 0)
			abort();
		return 0;
	}
	seen = calloc(rules_count(r) + 1, 1);
	if (seen == NULL)
		abort();
	rules_header(r, "Subject", 7, (const char *)data, size, seen, hit,
	    NULL);
	rules_body(r, (const char *)data, size, seen, hit, NULL);
	free(seen);
	rules_free(r);
	return 0;
}
