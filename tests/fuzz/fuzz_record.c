/*
 * fuzz_record: lib/record on arbitrary bytes.
 *
 *  - The input as a file (a memfd) read by record_reader to its end, with
 *    a small and a large line limit: a bad line has a "NAME: line N: "
 *    error and is handed back no longer than the limit; a good record
 *    dumps to one line that parses back to an equal object.
 *  - record_string of the input: a JSON string that json_dumps encodes
 *    and that decodes back to the same string.
 */
#define _GNU_SOURCE		/* memfd_create */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <jansson.h>

#include "record.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
read_all(int fd, size_t max)
{
	struct record_reader *rr;
	enum record_status st;
	json_t *rec, *back;
	const char *raw, *err;
	char *line, why[512];
	size_t n, len, count = 0;

	if (lseek(fd, 0, SEEK_SET) != 0)
		abort();
	rr = record_reader_new(fd, "fuzz", max);
	while ((st = record_next(rr, &rec)) != RECORD_EOF) {
		if (++count > 10000000)
			abort();	/* no progress */
		switch (st) {
		case RECORD_OK:
			if (!json_is_object(rec))
				abort();
			line = record_dumps(rec, &len);
			if (line == NULL || len < 3 || line[len - 1] != '\n' ||
			    memchr(line, '\n', len - 1) != NULL ||
			    strlen(line) != len)
				abort();
			back = record_parse(line, len - 1, why, sizeof(why));
			if (back == NULL || !json_equal(rec, back))
				abort();
			json_decref(back);
			free(line);
			json_decref(rec);
			break;
		case RECORD_BAD:
			err = record_error(rr);
			if (err == NULL || strncmp(err, "fuzz: line ", 11) != 0)
				abort();
			raw = record_raw(rr, &n);
			if (raw != NULL && (n > max || memchr(raw, '\n', n)))
				abort();
			break;
		case RECORD_ERR:
		default:
			abort();
		}
	}
	record_reader_free(rr);
}

static void
check_string(const uint8_t *data, size_t size)
{
	json_t *j = record_string(data, size), *back;
	const char *s;
	char *dump;
	size_t i, n;

	if (!json_is_string(j))
		abort();
	s = json_string_value(j);
	n = json_string_length(j);
	/* no NUL and no control but tab survives */
	for (i = 0; i < n; i++)
		if (((unsigned char)s[i] < 0x20 && s[i] != '\t') ||
		    s[i] == 0x7f)
			abort();
	if (n > 4 * size)
		abort();
	dump = json_dumps(j, JSON_ENCODE_ANY | JSON_COMPACT);
	if (dump == NULL)
		abort();
	back = json_loads(dump, JSON_DECODE_ANY, NULL);
	if (back == NULL || !json_equal(j, back))
		abort();
	json_decref(back);
	free(dump);
	json_decref(j);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int fd = memfd_create("fuzz_record", MFD_CLOEXEC);

	if (fd == -1)
		abort();
	if (size > 0 && write(fd, data, size) != (ssize_t)size)
		abort();
	read_all(fd, 64);
	read_all(fd, 1 << 16);
	close(fd);
	check_string(data, size);
	return 0;
}
