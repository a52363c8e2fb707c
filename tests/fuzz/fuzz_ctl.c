/*
 * fuzz_ctl: lib/poolctl's command parser on arbitrary bytes.  A command
 * either is refused with a reason, or has a cmd, and ids (1 to
 * LIMIT_CTL_IDS strings) where the cmd needs them.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "limit.h"
#include "poolctl.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[256];
	json_t *c, *ids, *cmd;
	const char *s;

	err[0] = '\0';
	c = ctl_parse((const char *)data, size, err, sizeof(err));
	if (c == NULL) {
		if (err[0] == '\0')
			abort();
		return 0;
	}
	cmd = json_object_get(c, "cmd");
	if (!json_is_string(cmd))
		abort();
	s = json_string_value(cmd);
	ids = json_object_get(c, "ids");
	if ((strcmp(s, "hold") == 0 || strcmp(s, "delete") == 0) &&
	    (!json_is_array(ids) || json_array_size(ids) == 0 ||
	    json_array_size(ids) > LIMIT_CTL_IDS))
		abort();
	json_decref(c);
	return 0;
}
