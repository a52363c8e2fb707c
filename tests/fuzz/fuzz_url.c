/*
 * fuzz_url: lib/url and lib/lookalike on arbitrary bytes.
 *
 * The first byte picks text or HTML extraction; the rest is the input.
 *  - every URL kept has raw, norm and scheme; norm is printable ASCII
 *    and no longer than the limits allow; a host is lower case ASCII
 *    without a final dot; norms are distinct; the set is within
 *    LIMIT_URLS;
 *  - url_check on each URL (with protected domains, a block list and a
 *    shortener table) gives printable ASCII details and known rules;
 *  - url_parse of a URL's own norm gives the same norm (normalising is
 *    idempotent);
 *  - lookalike_domain and lookalike_name on the input as a string
 *    return a known reason, with a target exactly when not NONE.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "limit.h"
#include "lookalike.h"
#include "table.h"
#include "url.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct url_policy pol;
static struct table *protect, *names, *blk, *shorten;
static struct lookalike *lk;

static void
setup(void)
{
	char err[256];

	if (url_policy_init(&pol, err, sizeof(err)) == -1)
		abort();
	protect = table_from_list("paypal.com,microsoft.com,example.co.uk,"
	    "b\xc3\xbc" "cher.de", err, sizeof(err));
	names = table_from_list("Jane Doe,Robert Smith", err, sizeof(err));
	blk = table_from_list("bad.example,192.0.2.0/24", err, sizeof(err));
	shorten = table_from_list("short.example", err, sizeof(err));
	if (protect == NULL || names == NULL || blk == NULL || shorten == NULL)
		abort();
	if ((lk = lookalike_new(protect, names, err, sizeof(err))) == NULL)
		abort();
	pol.lookalike = lk;
	pol.blocklist = blk;
	pol.shorteners = shorten;
}

static void
reason(void *arg, const char *rule, int score, const char *detail)
{
	const char *p;

	(void)arg;
	if (strncmp(rule, "url.", 4) != 0 || score <= 0 || score > 10)
		abort();
	for (p = detail; *p != '\0'; p++)
		if ((unsigned char)*p < 0x20 || (unsigned char)*p >= 0x7f)
			abort();
}

static void
check_url(const struct url *u)
{
	struct url again;
	const char *p;

	if (u->raw == NULL || u->norm == NULL || u->scheme == NULL)
		abort();
	if (strlen(u->raw) > LIMIT_URL_LENGTH)
		abort();
	for (p = u->norm; *p != '\0'; p++)
		if ((unsigned char)*p <= 0x20 || (unsigned char)*p >= 0x7f)
			abort();
	if (u->host != NULL) {
		size_t n = strlen(u->host);

		if (n == 0 || u->host[n - 1] == '.')
			abort();
		for (p = u->host; *p != '\0'; p++)
			if ((*p >= 'A' && *p <= 'Z') ||
			    (unsigned char)*p >= 0x80)
				abort();
	}
	url_check(u, &pol, reason, NULL);
	if (url_parse(&again, u->norm, strlen(u->norm), u->source) == 0) {
		if (strlen(u->norm) < LIMIT_URL_LENGTH &&
		    strcmp(again.norm, u->norm) != 0)
			abort();
		url_free(&again);
	} else if (strlen(u->norm) < LIMIT_URL_LENGTH)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct urlset set = { 0 };
	const char *target;
	enum lookalike_why why;
	char *s;
	size_t i, j;

	if (lk == NULL)
		setup();
	if (size == 0)
		return 0;
	if (data[0] & 1)
		url_extract_html(&set, (const char *)data + 1, size - 1);
	else
		url_extract_text(&set, (const char *)data + 1, size - 1);
	if (set.n > LIMIT_URLS)
		abort();
	for (i = 0; i < set.n; i++) {
		check_url(&set.v[i]);
		for (j = 0; j < i; j++)
			if (strcmp(set.v[i].norm, set.v[j].norm) == 0)
				abort();
	}
	urlset_free(&set);

	s = malloc(size);
	memcpy(s, data + 1, size - 1);
	s[size - 1] = '\0';
	why = lookalike_domain(lk, s, &target);
	if (why > LOOKALIKE_EDIT || (why != LOOKALIKE_NONE) != (target != NULL))
		abort();
	why = lookalike_name(lk, s, &target);
	if (why > LOOKALIKE_EDIT || (why != LOOKALIKE_NONE) != (target != NULL))
		abort();
	free(s);
	return 0;
}
