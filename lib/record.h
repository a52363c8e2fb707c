/*
 * record: the JSON-lines record of sluice(7), read and written with
 * jansson.  One object per line.  A reader keeps every key it is given;
 * writers add theirs to the same object, so unknown keys pass through.
 */
#ifndef SLUICE_RECORD_H
#define SLUICE_RECORD_H

#include <jansson.h>
#include <stdio.h>

enum record_status {
	RECORD_OK,	/* *rec holds a new reference to an object */
	RECORD_EOF,
	RECORD_BAD,	/* a line that is not a record: record_error says
			 * why, record_raw gives the line */
	RECORD_ERR	/* read error, errno set */
};

struct record_reader;

/* A reader of records on fd, lines of at most max bytes; name (e.g.
 * "stdin") is used in error messages.  The fd stays open. */
struct record_reader *record_reader_new(int fd, const char *name,
    size_t max);
void record_reader_free(struct record_reader *);

/* The next record.  Blank lines are skipped. */
enum record_status record_next(struct record_reader *, json_t **rec);

/* Input read but not yet returned (poll the fd only when 0). */
size_t record_buffered(const struct record_reader *);

/* After RECORD_BAD: "NAME: line N: reason", valid until the next call. */
const char *record_error(const struct record_reader *);

/* After RECORD_BAD: the bad line (NULL if it was too long to keep) and
 * its length; valid until the next call. */
const char *record_raw(const struct record_reader *, size_t *len);

/*
 * Parse one record from a buffer.  Returns a new reference, or NULL with
 * the reason in err (size errsz).  Duplicate keys and non-objects are
 * errors.
 */
json_t *record_parse(const char *buf, size_t len, char *err, size_t errsz);

/* The record as one compact line ending in "\n", malloc'd, for one
 * write(2); *len set.  NULL only if jansson fails to encode. */
char *record_dumps(const json_t *rec, size_t *len);

/* Write the record as one line and flush.  0, or -1 with errno set. */
int record_write(FILE *out, const json_t *rec);

/*
 * A JSON string from n wire bytes: valid UTF-8 is kept, every other byte
 * and every control character but tab becomes the four characters \xNN.
 * Never NULL (out of memory exits 111).
 */
json_t *record_string(const void *bytes, size_t n);

/* record_string of a NUL-terminated string, or JSON null if s is NULL. */
json_t *record_str(const char *s);

/* The string value of key in obj, or NULL if absent or not a string. */
const char *record_get(const json_t *obj, const char *key);

#endif
