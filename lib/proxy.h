/*
 * proxy: the HAProxy PROXY protocol, version 1 (text) and 2 (binary), as
 * smtp-accept reads it from a listed load balancer before its banner
 * (haproxy doc/proxy-protocol.txt).
 *
 * The caller reads bytes into a buffer and calls proxy_parse on all it
 * holds after each read, until PROXY_OK or PROXY_BAD.  A header never
 * needs more than PROXY_MAX bytes, so a buffer of that size that still
 * gets PROXY_MORE cannot happen; a caller that reads more than one header
 * keeps the bytes after *used for the SMTP session.  Nothing is allocated
 * and nothing is kept between calls.
 *
 * Accepted: v1 "PROXY TCP4|TCP6 SRC DST SPORT DPORT\r\n" with addresses
 * that inet_pton(3) takes for the family, ports 0..65535 in decimal with
 * no sign, blank or leading zero, single spaces, at most 107 bytes with the
 * CRLF; v1 "PROXY UNKNOWN...\r\n" (the rest of the line ignored); v2 with
 * version 2, command PROXY over TCP (INET or INET6, STREAM), or command
 * LOCAL with any valid family (the address block ignored, as the spec
 * says).  v2 TLVs after the addresses are skipped, but must fit the
 * header exactly.  Everything else is PROXY_BAD, as soon as the bytes seen
 * show it: a buffer whose first bytes match neither signature is bad at
 * once.
 */
#ifndef SLUICE_PROXY_H
#define SLUICE_PROXY_H

#include <stddef.h>
#include <sys/socket.h>

#include "limit.h"

#define PROXY_V1_MAX	107	/* v1 line with its CRLF */
#define PROXY_V2_HEAD	16	/* v2 fixed part */
#define PROXY_MAX	(PROXY_V2_HEAD + LIMIT_PROXY_V2)

enum proxy_status {
	PROXY_MORE,	/* a valid beginning: read more and call again */
	PROXY_OK,	/* *used bytes are the header, *info filled */
	PROXY_BAD	/* not a PROXY header: err says why */
};

struct proxy_info {
	int local;	/* v2 LOCAL or v1 UNKNOWN: keep the real peer;
			 * src and dst are then AF_UNSPEC */
	int version;	/* 1 or 2 */
	struct sockaddr_storage src;	/* AF_INET or AF_INET6, with port */
	struct sockaddr_storage dst;
};

/*
 * Parse the n bytes at buf.  PROXY_OK sets *used and *info; PROXY_BAD puts
 * a short reason in err (size errsz, cut to fit; no wire bytes are copied
 * into it), e.g. "PROXY v1: bad source port".  On PROXY_MORE and
 * PROXY_BAD, *used is 0 and *info is cleared.
 */
enum proxy_status proxy_parse(const void *buf, size_t n, size_t *used,
    struct proxy_info *info, char *err, size_t errsz);

#endif
