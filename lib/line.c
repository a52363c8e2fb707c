#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "line.h"
#include "xalloc.h"

#define CHUNK 65536

struct line_reader {
	int fd;
	size_t max;
	char *buf;	/* max + 1 for the NUL, or CHUNK if larger */
	size_t cap;
	size_t start;	/* first byte not yet returned */
	size_t end;	/* one past the last byte read */
	unsigned long lineno;
	int eof;
};

struct line_reader *
line_new(int fd, size_t max)
{
	struct line_reader *r = xcalloc(1, sizeof(*r));

	r->fd = fd;
	r->max = max;
	r->cap = (max + 1 > CHUNK ? max + 1 : CHUNK);
	r->buf = xmalloc(r->cap);
	return r;
}

void
line_free(struct line_reader *r)
{
	if (r == NULL)
		return;
	free(r->buf);
	free(r);
}

size_t
line_buffered(const struct line_reader *r)
{
	return r->end - r->start;
}

unsigned long
line_number(const struct line_reader *r)
{
	return r->lineno;
}

/* Read more bytes after r->end; returns bytes read, 0 at EOF, -1 error. */
static ssize_t
fill(struct line_reader *r)
{
	ssize_t n;

	if (r->start > 0 && r->start == r->end)
		r->start = r->end = 0;
	if (r->end == r->cap) {
		memmove(r->buf, r->buf + r->start, r->end - r->start);
		r->end -= r->start;
		r->start = 0;
	}
	do
		n = read(r->fd, r->buf + r->end, r->cap - r->end);
	while (n == -1 && errno == EINTR);
	if (n > 0)
		r->end += (size_t)n;
	return n;
}

enum line_status
line_next(struct line_reader *r, char **line, size_t *len)
{
	size_t scanned = 0, skipped = 0;
	int skipping = 0;
	char *nl;
	ssize_t n;

	for (;;) {
		nl = memchr(r->buf + r->start + scanned, '\n',
		    r->end - r->start - scanned);
		if (nl != NULL) {
			size_t l = (size_t)(nl - (r->buf + r->start));

			r->lineno++;
			if (skipping || l > r->max) {
				*len = skipped + l;
				r->start += l + 1;
				return LINE_LONG;
			}
			*nl = '\0';
			*line = r->buf + r->start;
			*len = l;
			r->start += l + 1;
			return LINE_OK;
		}
		scanned = r->end - r->start;
		if (scanned > r->max) {
			/* Too long: drop what we hold and look for its end. */
			skipping = 1;
			skipped += scanned;
			r->start = r->end = 0;
			scanned = 0;
		}
		if (r->eof)
			n = 0;
		else if ((n = fill(r)) == -1)
			return LINE_ERR;
		if (n == 0) {
			r->eof = 1;
			if (r->end == r->start && !skipping)
				return LINE_EOF;
			r->lineno++;
			if (skipping) {
				*len = skipped + (r->end - r->start);
				r->start = r->end;
				return LINE_LONG;
			}
			/* a last line without "\n": room for the NUL is
			 * there, since it is at most max < cap bytes */
			if (r->end == r->cap) {
				memmove(r->buf, r->buf + r->start,
				    r->end - r->start);
				r->end -= r->start;
				r->start = 0;
			}
			r->buf[r->end] = '\0';
			*line = r->buf + r->start;
			*len = r->end - r->start;
			r->start = r->end;
			return LINE_OK;
		}
	}
}
