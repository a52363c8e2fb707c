/*
 * authres: the Authentication-Results header field (RFC 8601): written
 * by mail-auth for the downstream, read to find fields that claim our
 * authserv-id (which no one outside may add).
 */
#ifndef SLUICE_AUTHRES_H
#define SLUICE_AUTHRES_H

#include <stddef.h>

struct authres;

/* A field for authserv-id; free with authres_free. */
struct authres *authres_new(const char *authserv_id);
void authres_free(struct authres *);

/*
 * Add one result: method (spf, dkim, dmarc, arc...), its result word, an
 * optional reason (written as reason="..." with quotes escaped) and
 * property pairs ptype.property=value (e.g. "smtp.mailfrom", "a@b"),
 * NULL-terminated; values that are not RFC 2045 tokens are quoted.
 */
void authres_add(struct authres *, const char *method, const char *result,
    const char *reason, ...) __attribute__((sentinel));

/* The value of the field (without "Authentication-Results:"), folded
 * before each result: "id;\r\n\tspf=pass ...;\r\n\tdkim=..."; with no
 * result, "id; none".  Valid until the next change; owned by the struct. */
const char *authres_value(struct authres *);

/* The same folded with LF only (for records and the maildir form). */
const char *authres_value_lf(struct authres *);

/*
 * The authserv-id of a field's value (comments and blanks skipped, the
 * optional version dropped), malloc'd, or NULL if there is none.
 */
char *authres_id_of(const char *value);

#endif
