/*
 * fuzz_envelope: envelope_read of an arbitrary file, then envelope_record.
 * The file is written to a private temporary directory under a name made
 * from the first bytes of the input (so that ids taken from file names are
 * fuzzed too).  Besides the sanitizers (LeakSanitizer included): a failure
 * is -1 with errno set, a broken relay block says why, the record dumps,
 * and a relayed envelope makes a header block that reads back with the
 * same id and recipients.
 */
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "envelope.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char dir[64];

static void
cleanup(void)
{
	if (dir[0] != '\0')
		rmdir(dir);
}

static void
put(const char *path, const void *p, size_t n)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

	if (fd == -1 || (n > 0 && write(fd, p, n) != (ssize_t)n) ||
	    close(fd) == -1)
		abort();
}

static int
has_control(const char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return 1;
	return 0;
}

static void
record_ok(const struct envelope *e)
{
	json_t *rec = envelope_record(e);
	char *s;

	if (rec == NULL)
		abort();
	s = json_dumps(rec, JSON_COMPACT);
	if (s == NULL)
		abort();
	free(s);
	json_decref(rec);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char alphabet[] = "0123456789.:,-_abcdefxyzMPQ";
	struct envelope e, again;
	char path[256], why[128];
	size_t i, o, n, hlen;
	char *hdr;
	int rc;

	if (dir[0] == '\0') {
		snprintf(dir, sizeof(dir), "%s", "/tmp/fuzz_envelope.XXXXXX");
		if (mkdtemp(dir) == NULL)
			abort();
		atexit(cleanup);
	}
	o = (size_t)snprintf(path, sizeof(path), "%s/", dir);
	/* not "", "." or "..": those names get an "n" first */
	if (size == 0 || alphabet[data[0] % (sizeof(alphabet) - 1)] == '.')
		path[o++] = 'n';
	for (i = 0; i < size && i < 24; i++)
		path[o++] = alphabet[data[i] % (sizeof(alphabet) - 1)];
	path[o] = '\0';
	put(path, data, size);

	envelope_init(&e);
	errno = 0;
	rc = envelope_read(&e, path, why, sizeof(why));
	if (rc == -1 && errno == 0)
		abort();
	if (rc == -1 && errno == EINVAL && why[0] == '\0')
		abort();
	if (rc == 0 && why[0] != '\0')
		abort();
	record_ok(&e);

	/* An id with a control byte is refused by envelope_read. */
	if (rc == 0 && e.relayed && has_control(e.id))
		abort();
	/* A rewritten line is one space longer: stay clear of the limit. */
	if (rc == 0 && e.relayed && size < LIMIT_DATA_LINE - 100) {
		hdr = envelope_header(&e, "fuzz.example", &hlen);
		if (hdr == NULL || strlen(hdr) != hlen)
			abort();
		put(path, hdr, hlen);
		free(hdr);
		envelope_init(&again);
		rc = envelope_read(&again, path, why, sizeof(why));
		/* the time may not survive (it is checked loosely); the id
		 * and the recipients must */
		if (rc == 0 && (!again.relayed ||
		    strcmp(again.id, e.id) != 0 || again.nrcpt != e.nrcpt))
			abort();
		if (rc == 0) {
			for (n = 0; n < e.nrcpt; n++)
				if (strcmp(again.rcpt[n].addr,
				    e.rcpt[n].addr) != 0)
					abort();
			record_ok(&again);
		}
		envelope_clear(&again);
	}
	envelope_clear(&e);
	unlink(path);
	return 0;
}
