/*
 * fuzz_proxy: proxy_parse on arbitrary bytes.  Besides the sanitizers, it
 * checks what callers rely on: OK uses at least one byte and no more than
 * it was given, at most PROXY_MAX; the error is a NUL-terminated string;
 * a header parsed again alone gives the same answer.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proxy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct proxy_info info, again;
	enum proxy_status st;
	size_t used, used2;
	char err[64];

	st = proxy_parse(data, size, &used, &info, err, sizeof(err));
	if (memchr(err, '\0', sizeof(err)) == NULL)
		abort();
	switch (st) {
	case PROXY_OK:
		if (used == 0 || used > size || used > PROXY_MAX)
			abort();
		if (proxy_parse(data, used, &used2, &again, err,
		    sizeof(err)) != PROXY_OK || used2 != used ||
		    memcmp(&info, &again, sizeof(info)) != 0)
			abort();
		break;
	case PROXY_MORE:
		if (used != 0 || size >= PROXY_MAX)
			abort();
		break;
	case PROXY_BAD:
		if (used != 0 || err[0] == '\0')
			abort();
		break;
	default:
		abort();
	}
	return 0;
}
