/*
 * fuzz_scan: lib/scan's file checks on arbitrary bytes.  The first byte
 * picks the file name (and so the rules of names); the rest is the file,
 * the one attachment of a message (binary, so lib/mime passes it as it
 * is), scanned with small limits: libmagic, the archive walk
 * (libarchive), TNEF, the PDF name scanner, the OLE and HTML searches,
 * the block list.  Besides the sanitizers, it checks that every scan
 * ends with a scan object and a verdict of the six.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "scan.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct scan *sc;
static struct scan_conf conf;
static char path[64];

static const char *const names[] = {
	"a.zip", "invoice.pdf", "report.doc", "fax.html", "winmail.dat",
	"a.pdf.exe", ("x\xe2\x80\xae" "fdp.js"), "disk.iso", "notes.one", "a.tgz"
};

static void
cleanup(void)
{
	unlink(path);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const verdicts[] = {
		"clean", "bulk", "spam", "spoof", "suspicious", "malicious"
	};
	char err[512];
	const char *v;
	json_t *rec;
	FILE *fp;
	size_t i;

	if (sc == NULL) {
		conf.max_depth = 8;
		conf.max_parts = 64;
		conf.max_decoded = 4 << 20;
		conf.max_archive_depth = 3;
		conf.max_archive_members = 64;
		conf.max_expand = 8 << 20;
		conf.max_ratio = 100;
		conf.max_size = 4 << 20;
		conf.spam_score = 5;
		conf.suspicious_score = 5;
		conf.malicious_score = 15;
		if ((sc = scan_new(&conf, err, sizeof(err))) == NULL) {
			fprintf(stderr, "%s\n", err);
			abort();
		}
		snprintf(path, sizeof(path), "/tmp/fuzz_scan.%ld",
		    (long)getpid());
		atexit(cleanup);
	}
	if (size < 1)
		return 0;
	if ((fp = fopen(path, "w")) == NULL)
		abort();
	fprintf(fp, "From: a@example.org\r\nContent-Type: "
	    "application/octet-stream\r\nContent-Disposition: attachment; "
	    "filename=\"%s\"\r\nContent-Transfer-Encoding: binary\r\n\r\n",
	    names[data[0] % (sizeof(names) / sizeof(names[0]))]);
	fwrite(data + 1, 1, size - 1, fp);
	if (fclose(fp) != 0)
		abort();
	rec = json_pack("{s:s, s:s}", "id", "fuzz", "path", path);
	if (scan_record(sc, rec, err, sizeof(err)) == -1)
		abort();
	v = json_string_value(json_object_get(json_object_get(rec, "scan"),
	    "verdict"));
	for (i = 0; v != NULL && i < 6; i++)
		if (strcmp(v, verdicts[i]) == 0)
			break;
	if (v == NULL || i == 6)
		abort();
	json_decref(rec);
	return 0;
}
