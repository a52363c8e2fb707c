/*
 * fuzz_pool: lib/pool's parsers on arbitrary bytes.
 *
 *  - pool_state_parse: a state either is refused with a reason, or is an
 *    object whose pending indices name distinct recipients, and which
 *    pool_dispatch turns into a record with that many recipients.
 *  - pool_edit: the input as a stored message, with an auth object that
 *    adds a field and removes the first one; an edit that succeeds has no
 *    CR, holds the added field once, and is no longer than the input
 *    plus the field; with a scan object adding a field and removing the
 *    same one, no longer than the input plus both fields.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "pool.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_state(const char *buf, size_t size)
{
	char err[256];
	json_t *st, *d, *pend, *to;

	err[0] = '\0';
	st = pool_state_parse(buf, size, err, sizeof(err));
	if (st == NULL) {
		if (err[0] == '\0')
			abort();
		return;
	}
	pend = json_object_get(st, "pending");
	d = pool_dispatch(st);
	to = json_object_get(json_object_get(d, "envelope"), "to");
	if (!json_is_array(to) || json_array_size(to) != json_array_size(pend))
		abort();
	json_decref(d);
	json_decref(st);
}

static void
check_edit(const char *buf, size_t size)
{
	char err[256], *out;
	size_t len;
	json_t *auth = json_pack("{s:s, s:[{s:s, s:i}]}",
	    "authentication_results", "fuzz.example;\n\tspf=pass",
	    "remove", "field", "Received", "index", 0);
	json_t *scan = json_pack("{s:[s], s:[{s:s, s:i}]}", "headers",
	    "X-Sluice-Verdict: spam", "remove", "field", "Received", "index",
	    0);

	/* auth's and scan's removals name the same field: it goes once */
	err[0] = '\0';
	if (pool_edit(buf, size, auth, scan, &out, &len, err,
	    sizeof(err)) == 0) {
		if (len > size + 64 + 24)
			abort();
		free(out);
	} else if (err[0] == '\0')
		abort();
	json_decref(scan);
	err[0] = '\0';
	if (pool_edit(buf, size, auth, NULL, &out, &len, err, sizeof(err)) == 0) {
		const char *ar = "Authentication-Results: fuzz.example;\n\t"
		    "spf=pass\n";

		if (memchr(out, '\r', len) != NULL && memchr(buf, '\r',
		    size) == NULL)
			abort();
		if (strstr(out, ar) == NULL && memchr(out, '\0', len) == NULL)
			abort();
		if (len > size + strlen(ar))
			abort();
		free(out);
	} else if (err[0] == '\0')
		abort();
	json_decref(auth);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	check_state((const char *)data, size);
	check_edit((const char *)data, size);
	return 0;
}
