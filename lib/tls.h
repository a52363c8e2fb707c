/*
 * tls: OpenSSL contexts for sluice's servers and clients.  TLS 1.2 is the
 * floor; compression and renegotiation are off.
 */
#ifndef SLUICE_TLS_H
#define SLUICE_TLS_H

#include <openssl/ssl.h>
#include <stddef.h>

/*
 * A server context from a PEM certificate chain and key.  Returns NULL
 * with the reason in err (the file and OpenSSL's words).  Free with
 * SSL_CTX_free; SSL objects made from it hold their own reference, so a
 * reloaded context may replace it while sessions go on.
 */
SSL_CTX *tls_server_ctx(const char *cert, const char *key, char *err,
    size_t errsz);

/* The protocol version, cipher and secret bits of an established
 * connection. */
void tls_facts(const SSL *, char *version, size_t vsize, char *cipher,
    size_t csize, int *bits);

/* OpenSSL's error queue as one line into buf, and cleared. */
const char *tls_errors(char *buf, size_t size);

#endif
