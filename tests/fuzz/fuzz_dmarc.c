/*
 * fuzz_dmarc: the parsers of lib/dmarc on arbitrary bytes.
 *
 *  - dmarc_parse_record: returns 0 or -1; the strings it fills are
 *    NUL-terminated within their arrays, the enums in range, pct -1 or
 *    0-100; parsing is a function of the input (a second run agrees).
 *  - dmarc_from_parse: the domains are NUL-terminated, lower case, at most
 *    the room given, distinct, and their count fits the status.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dmarc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_record(const uint8_t *data, size_t size)
{
	struct dmarc_record a, b;
	int ra, rb;

	ra = dmarc_parse_record(data, size, &a);
	rb = dmarc_parse_record(data, size, &b);
	if (ra != rb || (ra != 0 && ra != -1))
		abort();
	if (memchr(a.rua, '\0', sizeof(a.rua)) == NULL ||
	    memchr(a.ruf, '\0', sizeof(a.ruf)) == NULL ||
	    memchr(a.fo, '\0', sizeof(a.fo)) == NULL ||
	    memchr(a.errors, '\0', sizeof(a.errors)) == NULL)
		abort();
	if (ra == 0 && (a.p > DMARC_POLICY_INVALID ||
	    a.sp > DMARC_POLICY_INVALID || a.np > DMARC_POLICY_INVALID ||
	    a.psd > DMARC_PSD_N || (a.t != 0 && a.t != 1) ||
	    a.pct < -1 || a.pct > 100 || a.nerrors < 0))
		abort();
	if (ra == 0 && (strcmp(a.rua, b.rua) != 0 || a.p != b.p ||
	    a.nerrors != b.nerrors))
		abort();
	if (ra == 0 && a.nrua == 0 && a.rua[0] != '\0')
		abort();
}

static void
check_from(const uint8_t *data, size_t size)
{
	char dom[3][DMARC_DOMAIN_MAX];
	enum dmarc_from st;
	size_t n, i, j;
	const char *p;

	memset(dom, 'x', sizeof(dom));
	st = dmarc_from_parse((const char *)data, size, dom, 3, &n);
	if (n > 3 || st > DMARC_FROM_BAD)
		abort();
	if (st == DMARC_FROM_BAD)
		return;
	if ((st == DMARC_FROM_NONE) != (n == 0) ||
	    (st == DMARC_FROM_OK && n != 1))
		abort();
	for (i = 0; i < n; i++) {
		if (memchr(dom[i], '\0', DMARC_DOMAIN_MAX) == NULL)
			abort();
		for (p = dom[i]; *p != '\0'; p++)
			if (*p >= 'A' && *p <= 'Z')
				abort();
		for (j = 0; j < i; j++)
			if (strcmp(dom[i], dom[j]) == 0)
				abort();
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	check_record(data, size);
	check_from(data, size);
	return 0;
}
