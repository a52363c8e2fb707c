/*
 * line: bounded line reading from a file descriptor.  A reader never grows
 * past its maximum: a longer line is reported as LINE_LONG and skipped to
 * its end, so the next call starts on the next line.
 */
#ifndef SLUICE_LINE_H
#define SLUICE_LINE_H

#include <stddef.h>

enum line_status {
	LINE_OK,	/* *line holds one line, without its "\n" */
	LINE_EOF,	/* end of input, nothing more */
	LINE_LONG,	/* a line longer than max, skipped; *len its length */
	LINE_ERR	/* read error, errno set */
};

struct line_reader;

/* A reader of fd for lines of at most max bytes.  Freed by line_free; the
 * fd stays open. */
struct line_reader *line_new(int fd, size_t max);
void line_free(struct line_reader *);

/*
 * The next line.  On LINE_OK *line points into the reader's buffer (valid
 * until the next call), NUL-terminated, *len its length without the "\n".
 * A last line without "\n" is returned as a line.  *lineno counts lines,
 * the long ones too.
 */
enum line_status line_next(struct line_reader *, char **line, size_t *len);

/* Bytes read but not yet returned: a caller that polls the fd first
 * must not wait while these hold a line. */
size_t line_buffered(const struct line_reader *);

/* The number of the line last returned, from 1. */
unsigned long line_number(const struct line_reader *);

#endif
