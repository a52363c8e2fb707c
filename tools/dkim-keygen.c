/*
 * dkim-keygen: make a DKIM signing key and print the DNS record to
 * publish for it, or print the record of a key made before.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/pem.h>

#include "dkim.h"
#include "limit.h"
#include "log.h"

static const char synopsis[] =
    "dkim-keygen --key FILE --selector S --domain D "
    "[--type rsa|ed25519] [--bits N] [--force] [--print]";

static const struct option longopts[] = {
	{ "key", required_argument, NULL, 'k' },
	{ "selector", required_argument, NULL, 's' },
	{ "domain", required_argument, NULL, 'd' },
	{ "type", required_argument, NULL, 't' },
	{ "bits", required_argument, NULL, 'b' },
	{ "force", no_argument, NULL, 'f' },
	{ "print", no_argument, NULL, 'p' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 }
};

struct opts {
	const char *key, *selector, *domain;
	int ed25519, bits, force, print;
};

static void
usage(void)
{
	fprintf(stderr, "usage: %s\n", synopsis);
	exit(100);
}

static void
opts_parse(struct opts *o, int argc, char *argv[])
{
	char *end;
	long v;
	int c;

	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (c) {
		case 'k': o->key = optarg; break;
		case 's': o->selector = optarg; break;
		case 'd': o->domain = optarg; break;
		case 'f': o->force = 1; break;
		case 'p': o->print = 1; break;
		case 'h':
			printf("usage: %s\n", synopsis);
			exit(0);
		case 't':
			if (strcmp(optarg, "ed25519") == 0)
				o->ed25519 = 1;
			else if (strcmp(optarg, "rsa") != 0)
				die_perm("--type %s: rsa or ed25519", optarg);
			break;
		case 'b':
			errno = 0;
			v = strtol(optarg, &end, 10);
			if (errno != 0 || end == optarg || *end != '\0' ||
			    v < LIMIT_DKIM_MIN_BITS || v > LIMIT_DKIM_KEY_BITS)
				die_perm("--bits %s: from %d to %d", optarg,
				    LIMIT_DKIM_MIN_BITS, LIMIT_DKIM_KEY_BITS);
			o->bits = (int)v;
			break;
		default: usage();
		}
	}
	if (optind != argc || o->key == NULL || o->selector == NULL ||
	    o->domain == NULL)
		usage();
}

/* Write the key to path through a temporary file: link (never over an
 * existing key) or, with force, rename. */
static void
write_key(EVP_PKEY *pk, const char *path, int force)
{
	char tmp[4096];
	FILE *f;
	int fd, n;

	n = snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", path, (long)getpid());
	if (n < 0 || (size_t)n >= sizeof(tmp))
		die_perm("%s: name too long", path);
	if (!force && access(path, F_OK) == 0)
		die_perm("%s: exists (--force to replace it)", path);
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600)) ==
	    -1)
		die_temp("create %s: %s", tmp, strerror(errno));
	if ((f = fdopen(fd, "w")) == NULL) {
		unlink(tmp);
		die_temp("fdopen %s: %s", tmp, strerror(errno));
	}
	if (PEM_write_PrivateKey(f, pk, NULL, NULL, 0, NULL, NULL) != 1 ||
	    fflush(f) == EOF || fsync(fd) == -1) {
		unlink(tmp);
		die_temp("write %s: %s", tmp, strerror(errno));
	}
	if (fclose(f) == EOF) {
		unlink(tmp);
		die_temp("close %s: %s", tmp, strerror(errno));
	}
	if (force) {
		if (rename(tmp, path) == -1) {
			unlink(tmp);
			die_temp("rename %s to %s: %s", tmp, path,
			    strerror(errno));
		}
		return;
	}
	if (link(tmp, path) == -1) {
		int e = errno;

		unlink(tmp);
		if (e == EEXIST)
			die_perm("%s: exists (--force to replace it)", path);
		die_temp("link %s to %s: %s", tmp, path, strerror(e));
	}
	unlink(tmp);
}

/* name IN TXT "..." "...": the record in character-strings of at most
 * 255 bytes (RFC 1035 3.3.14). */
static void
print_record(const char *selector, const char *domain, const char *rec)
{
	size_t n = strlen(rec), k;

	printf("%s._domainkey.%s. IN TXT", selector, domain);
	for (k = 0; k < n; k += 255)
		printf(" \"%.*s\"", (int)(n - k < 255 ? n - k : 255), rec + k);
	printf("\n");
}

int
main(int argc, char *argv[])
{
	struct opts o = { NULL, NULL, NULL, 0, 2048, 0, 0 };
	struct dkim_privkey *key;
	EVP_PKEY *pk;
	char err[256], *rec;

	prog_init("dkim-keygen");
	opts_parse(&o, argc, argv);
	if (strchr(o.selector, '"') != NULL || strchr(o.domain, '"') != NULL ||
	    strpbrk(o.selector, " \t\\;") != NULL ||
	    strpbrk(o.domain, " \t\\;") != NULL || o.selector[0] == '\0' ||
	    o.domain[0] == '\0')
		die_perm("bad --selector or --domain");
	if (!o.print) {
		pk = o.ed25519 ? EVP_PKEY_Q_keygen(NULL, NULL, "ED25519") :
		    EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)o.bits);
		if (pk == NULL)
			die_temp("key generation failed");
		write_key(pk, o.key, o.force);
		EVP_PKEY_free(pk);
	}
	if ((key = dkim_privkey_load(o.key, err, sizeof(err))) == NULL)
		die_perm("%s: %s", o.key, err);
	if ((rec = dkim_privkey_record(key)) == NULL)
		die_temp("%s: cannot write the public key", o.key);
	print_record(o.selector, o.domain, rec);
	free(rec);
	dkim_privkey_free(key);
	if (fflush(stdout) == EOF || ferror(stdout) || fclose(stdout) == EOF)
		die_temp("write stdout: %s", strerror(errno));
	return 0;
}
