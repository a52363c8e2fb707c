#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "record.h"
#include "t.h"

static int
feed(const char *s)
{
	int p[2];
	size_t n = strlen(s);

	if (pipe(p) == -1 || write(p[1], s, n) != (ssize_t)n)
		return -1;
	close(p[1]);
	return p[0];
}

int
main(void)
{
	struct record_reader *rr;
	json_t *rec, *j;
	const char *raw;
	size_t n;
	char *s;
	int fd;

	fd = feed("{\"id\":\"a\",\"x-unknown\":{\"k\":[1,2]}}\n"
	    "\n"
	    "{\"id\":\"b\",\"id\":\"c\"}\n"
	    "not json\n"
	    "[1,2]\n"
	    "{\"id\":\"d\"}\r\n"
	    "{\"id\":\"" "eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee\"}\n"
	    "{\"id\":\"f\"}");
	rr = record_reader_new(fd, "stdin", 64);
	is_int(record_next(rr, &rec), RECORD_OK, "a record");
	is_str(record_get(rec, "id"), "a", "its id");
	s = record_dumps(rec, &n);
	is_str(s, "{\"id\":\"a\",\"x-unknown\":{\"k\":[1,2]}}\n",
	    "unknown keys kept, in order, compact, one newline");
	free(s);
	json_decref(rec);
	is_int(record_next(rr, &rec), RECORD_BAD, "duplicate key is bad");
	is_str(record_error(rr),
	    "stdin: line 3: column 14: duplicate object key near '\"id\"'",
	    "error names the line (blank line counted)");
	raw = record_raw(rr, &n);
	ok(raw != NULL && n == 19 && memcmp(raw, "{\"id\":\"b\"", 9) == 0,
	    "bad line handed back whole");
	is_int(record_next(rr, &rec), RECORD_BAD, "garbage is bad");
	ok(strncmp(record_error(rr), "stdin: line 4: ", 15) == 0,
	    "garbage error has line 4");
	is_int(record_next(rr, &rec), RECORD_BAD, "array is bad");
	is_str(record_error(rr), "stdin: line 5: not a JSON object",
	    "array error");
	is_int(record_next(rr, &rec), RECORD_OK, "CRLF line is fine");
	is_str(record_get(rec, "id"), "d", "its id");
	json_decref(rec);
	is_int(record_next(rr, &rec), RECORD_BAD, "over-long line is bad");
	is_str(record_error(rr),
	    "stdin: line 7: record too long (66 bytes)", "too long error");
	is_int(record_next(rr, &rec), RECORD_OK, "last line without newline");
	json_decref(rec);
	is_int(record_next(rr, &rec), RECORD_EOF, "EOF");
	record_reader_free(rr);
	close(fd);

	j = record_string("a\xff" "b\r\n\x7f\tc\xc3\xa9\xe2\x82", 12);
	is_str(json_string_value(j), "a\\xffb\\x0d\\x0a\\x7f\tc\xc3\xa9\\xe2\\x82",
	    "invalid UTF-8 and controls escaped, valid UTF-8 kept");
	json_decref(j);
	j = record_string("\xc0\xaf\xed\xa0\x80\xf4\x90\x80\x80", 9);
	is_str(json_string_value(j),
	    "\\xc0\\xaf\\xed\\xa0\\x80\\xf4\\x90\\x80\\x80",
	    "overlong, surrogate, beyond U+10FFFF escaped");
	json_decref(j);
	j = record_string("a\0b", 3);
	is_str(json_string_value(j), "a\\x00b", "NUL escaped");
	json_decref(j);
	j = record_str(NULL);
	ok(json_is_null(j), "NULL string is JSON null");
	json_decref(j);

	j = json_pack("{s:s}", "id", "x");
	{
		FILE *full = fopen("/dev/full", "w");
		FILE *tmp = tmpfile();
		char back[32] = "";

		ok(full != NULL && record_write(full, j) == -1,
		    "write to a full device fails");
		ok(tmp != NULL && record_write(tmp, j) == 0, "write succeeds");
		if (tmp != NULL) {
			rewind(tmp);
			if (fgets(back, sizeof(back), tmp) == NULL)
				back[0] = '\0';
			fclose(tmp);
		}
		is_str(back, "{\"id\":\"x\"}\n", "written as one line");
		if (full != NULL)
			fclose(full);
	}
	json_decref(j);
	return t_done();
}
