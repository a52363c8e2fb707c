/*
 * poolctl: the commands of mail-poolctl(1) on a pool, shared by
 * mail-poolctl (on a stopped pool, under its lock) and mail-pool (on its
 * own pool, for a running one).
 *
 * A command is one JSON object:
 *
 *   {"cmd": "hold" | "unhold" | "release" | "delete", "ids": [ID, ...]}
 *   {"cmd": "release", "ids": [...], "rate": N}
 *   {"cmd": "flush", "rate": N}
 *   {"cmd": "pause" | "resume", "route": ROUTE}
 *
 * rate (messages per second, optional) spreads what release and flush
 * make due: the k-th from 0 at now + floor(k / rate) seconds.
 *
 * A running mail-pool takes commands from files: mail-poolctl writes
 * pool/ctl/tmp/NAME, renames it to pool/ctl/new/NAME; mail-pool applies
 * it, writes its reply to pool/ctl/reply/NAME (tmp, rename), and removes
 * the command.  NAME is letters, digits, dots and hyphens.
 *
 * The reply: {"cmd": NAME, "ok": BOOL, "done": [ID or ROUTE...],
 * "errors": [{"id": ID, "error": TEXT, "temporary": BOOL}]}.
 */
#ifndef SLUICE_POOLCTL_H
#define SLUICE_POOLCTL_H

#include <jansson.h>
#include <stddef.h>
#include <time.h>

#include "pool.h"

/*
 * Parse and check len bytes of a command (at most LIMIT_CTL_FILE bytes,
 * at most LIMIT_CTL_IDS ids).  A new reference, or NULL with the reason
 * in err.
 */
json_t *ctl_parse(const char *buf, size_t len, char *err, size_t errsz);

/*
 * Apply a command (as ctl_parse returns it) to the pool p, whose
 * quarantine is qdir.  A message with a worker now (its in_flight mark)
 * is not deleted: a temporary error.  Returns the reply, a new reference.
 */
json_t *ctl_apply(struct pool *p, const char *qdir, const json_t *cmd,
    time_t now);

/*
 * Serve the commands waiting in p's ctl/new (at most LIMIT_CTL_PER_TICK),
 * oldest name first: apply each, write its reply, remove it, then call
 * done (if not NULL) with the command and the reply.  Returns how many
 * were served, or -1 with the reason in err if the directory cannot be
 * read.  A command that does not parse gets a reply with the error.
 */
int ctl_serve(struct pool *p, const char *qdir, time_t now,
    void (*done)(const json_t *cmd, const json_t *reply, void *arg),
    void *arg, char *err, size_t errsz);

/* Is name a command file's name (see above), 1 or 0? */
int ctl_name_ok(const char *name);

#endif
