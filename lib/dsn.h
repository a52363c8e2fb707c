/*
 * dsn: delivery status notifications (RFC 3464) for mail-pool, and the
 * rule that decides who may get one.  sluice sends no backscatter: a
 * DSN goes only to an envelope sender the record shows authenticated.
 *
 * The rule (dsn_authenticated): the envelope sender is not null and has
 * a domain D, and one of
 *
 *  - auth.spf.result is "pass" and auth.spf.domain is D;
 *  - an entry of auth.dkim has result "pass" and a d= aligned with D;
 *  - auth.dmarc.result is "pass" and auth.dmarc.domain is aligned with D;
 *
 * where X is aligned with D when X is D, or when both are the
 * Organizational Domain auth.dmarc.org_domain or below it (relaxed
 * alignment, with the Organizational Domain mail-auth found; without one,
 * only X = D).  Case is ignored, a trailing dot too.  A DMARC pass
 * alone is not enough: it vouches for the From field, not for the
 * envelope sender a DSN goes to.
 */
#ifndef SLUICE_DSN_H
#define SLUICE_DSN_H

#include <jansson.h>
#include <stddef.h>
#include <time.h>

/* 1 if a DSN may go to the record's envelope sender, 0 if not. */
int dsn_authenticated(const json_t *rec);

/*
 * The DSN for the message of a pool state st (pool.h) that failed
 * (reason "failed": the recipients of st.failed) or expired ("expired":
 * the recipients still pending, with their last results): a message of
 * header and body, LF line ends, From MAILER-DAEMON@hostname, To the
 * envelope sender, a multipart/report of a text part, a
 * message/delivery-status part (Reporting-MTA, Arrival-Date, then per
 * recipient Final-Recipient, Action failed, Status, Diagnostic-Code,
 * Last-Attempt-Date) and the original header (hdr, hdrlen bytes, may be
 * NULL) as text/rfc822-headers.  malloc'd (the caller frees), *len set.
 */
char *dsn_make(const json_t *st, const char *reason, const char *hostname,
    const char *hdr, size_t hdrlen, time_t now, size_t *len);

#endif
