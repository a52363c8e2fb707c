#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "line.h"
#include "t.h"

/* An unlinked temporary file holding s, open for reading at its start. */
static int
feed(const char *s, size_t n)
{
	FILE *f = tmpfile();
	int fd;

	if (f == NULL || fwrite(s, 1, n, f) != n || fflush(f) != 0)
		return -1;
	fd = dup(fileno(f));
	fclose(f);
	lseek(fd, 0, SEEK_SET);
	return fd;
}

int
main(void)
{
	struct line_reader *r;
	char *l;
	size_t n;
	int fd;
	char big[200000];

	fd = feed("ab\n\ncd", 6);
	r = line_new(fd, 10);
	is_int(line_next(r, &l, &n), LINE_OK, "first line");
	is_str(l, "ab", "first line text");
	is_int(line_next(r, &l, &n), LINE_OK, "empty line");
	is_int(n, 0, "empty line length");
	is_int(line_next(r, &l, &n), LINE_OK, "last line without newline");
	is_str(l, "cd", "last line text");
	is_int(line_number(r), 3, "three lines counted");
	is_int(line_next(r, &l, &n), LINE_EOF, "then EOF");
	line_free(r);
	close(fd);

	fd = feed("0123456789\n01234567890\nok\n", 27);
	r = line_new(fd, 10);
	is_int(line_next(r, &l, &n), LINE_OK, "line of exactly max");
	is_int(line_next(r, &l, &n), LINE_LONG, "line of max+1 is long");
	is_int(n, 11, "long line length reported");
	is_int(line_next(r, &l, &n), LINE_OK, "reading goes on after it");
	is_str(l, "ok", "next line intact");
	is_int(line_number(r), 3, "long line counted");
	line_free(r);
	close(fd);

	/* A line much longer than the buffer, then a good one. */
	memset(big, 'x', sizeof(big));
	big[sizeof(big) - 4] = '\n';
	memcpy(big + sizeof(big) - 3, "z\n", 2);
	fd = feed(big, sizeof(big) - 1);
	r = line_new(fd, 100);
	is_int(line_next(r, &l, &n), LINE_LONG, "huge line is long");
	is_int(n, sizeof(big) - 4, "huge line length");
	is_int(line_next(r, &l, &n), LINE_OK, "line after huge one");
	is_str(l, "z", "its text");
	is_int(line_next(r, &l, &n), LINE_EOF, "EOF");
	line_free(r);
	close(fd);

	fd = feed("a\0b\n", 4);
	r = line_new(fd, 10);
	is_int(line_next(r, &l, &n), LINE_OK, "line with a NUL byte");
	is_int(n, 3, "a NUL byte is a byte of the line");
	line_free(r);
	close(fd);

	/* A long last line without newline. */
	fd = feed("xxxxxxxxxxxxxxx", 15);
	r = line_new(fd, 10);
	is_int(line_next(r, &l, &n), LINE_LONG, "long unterminated line");
	is_int(line_next(r, &l, &n), LINE_EOF, "EOF after it");
	line_free(r);
	close(fd);

	r = line_new(-1, 10);
	is_int(line_next(r, &l, &n), LINE_ERR, "read error reported");
	line_free(r);
	return t_done();
}
