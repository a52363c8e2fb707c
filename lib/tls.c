#include <openssl/err.h>
#include <openssl/ssl.h>
#include <stdio.h>
#include <string.h>

#include "tls.h"

const char *
tls_errors(char *buf, size_t size)
{
	unsigned long e;
	size_t o = 0;

	buf[0] = '\0';
	while ((e = ERR_get_error()) != 0) {
		char one[256];

		ERR_error_string_n(e, one, sizeof(one));
		if (o + strlen(one) + 3 < size)
			o += (size_t)snprintf(buf + o, size - o, "%s%s",
			    o ? "; " : "", one);
	}
	if (o == 0)
		snprintf(buf, size, "unknown TLS error");
	return buf;
}

SSL_CTX *
tls_server_ctx(const char *cert, const char *key, char *err, size_t errsz)
{
	char why[512];
	SSL_CTX *ctx;

	ERR_clear_error();
	if ((ctx = SSL_CTX_new(TLS_server_method())) == NULL) {
		snprintf(err, errsz, "SSL_CTX_new: %s",
		    tls_errors(why, sizeof(why)));
		return NULL;
	}
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION |
	    SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE);
	/* Idle sessions give their buffers back: thousands of TLS sessions
	 * waiting on slow clients must stay small. */
	SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
	SSL_CTX_set_session_id_context(ctx, (const unsigned char *)"sluice", 6);
	/* TLS 1.3 sends two tickets by default; an MTA that resumes keeps
	 * one per destination, and most do not resume at all */
	SSL_CTX_set_num_tickets(ctx, 1);
	if (SSL_CTX_use_certificate_chain_file(ctx, cert) != 1) {
		snprintf(err, errsz, "load certificate %s: %s", cert,
		    tls_errors(why, sizeof(why)));
		SSL_CTX_free(ctx);
		return NULL;
	}
	if (SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1) {
		snprintf(err, errsz, "load key %s: %s", key,
		    tls_errors(why, sizeof(why)));
		SSL_CTX_free(ctx);
		return NULL;
	}
	if (SSL_CTX_check_private_key(ctx) != 1) {
		snprintf(err, errsz, "key %s does not match certificate %s",
		    key, cert);
		ERR_clear_error();
		SSL_CTX_free(ctx);
		return NULL;
	}
	return ctx;
}

void
tls_facts(const SSL *ssl, char *version, size_t vsize, char *cipher,
    size_t csize, int *bits)
{
	const SSL_CIPHER *c = SSL_get_current_cipher(ssl);

	snprintf(version, vsize, "%s", SSL_get_version(ssl));
	snprintf(cipher, csize, "%s", c ? SSL_CIPHER_get_name(c) : "none");
	*bits = c ? SSL_CIPHER_get_bits(c, NULL) : 0;
}
