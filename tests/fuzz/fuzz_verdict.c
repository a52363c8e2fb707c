/*
 * fuzz_verdict: lib/verdict's table parser on arbitrary bytes.  A table
 * either parses, and then gives every verdict a known action, or is
 * refused with a reason and leaves the table as it was.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "verdict.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const v[] = { "clean", "bulk", "spam", "spoof",
	    "suspicious", "malicious" };
	struct verdict_table t, before;
	char err[256];
	size_t i;

	verdict_default(&t);
	t.act[2] = VERDICT_DROP;
	before = t;
	err[0] = '\0';
	if (verdict_parse(&t, (const char *)data, size, err,
	    sizeof(err)) == -1) {
		if (err[0] == '\0' || memcmp(&t, &before, sizeof(t)) != 0)
			abort();
		return 0;
	}
	for (i = 0; i < 6; i++)
		if (verdict_action(&t, v[i]) > VERDICT_DROP)
			abort();
	return 0;
}
