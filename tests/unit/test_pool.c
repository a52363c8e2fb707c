/*
 * test_pool: the pool's store: header edits, adding, duplicates, load
 * with lost and orphan states, results, dead letters, the lock, and the
 * state parser's refusals.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pool.h"
#include "record.h"
#include "t.h"

static const char stored[] =
    "X-Sluice-Id: 1700000000.M1P1Q1.mx\n"
    "X-Sluice-Received-At: 2023-11-14T22:13:20Z\n"
    "X-Sluice-Client: ip=192.0.2.1 port=1 helo=a.example\n"
    "X-Sluice-Mail-From: <a@a.example>\n"
    "X-Sluice-Rcpt-To: <b@b.example>\n"
    "X-Sluice-Rcpt-To: <c@b.example>\n"
    "Received: from a.example\n\tby mx; Tue, 14 Nov 2023 22:13:20 +0000\n"
    "Authentication-Results: mx; spf=pass (forged)\n"
    "From: <a@a.example>\n"
    "Subject: hi\n"
    "\n"
    "body\n";

static char *
slurp(const char *path)
{
	static char buf[65536];
	ssize_t n;
	int fd = open(path, O_RDONLY);

	if (fd == -1)
		return NULL;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n < 0)
		return NULL;
	buf[n] = '\0';
	return buf;
}

static void
put(const char *path, const char *s)
{
	FILE *f = fopen(path, "w");

	fputs(s, f);
	fclose(f);
}

static int
exists(const char *dir, const char *sub, const char *name)
{
	char p[1024];
	struct stat sb;

	snprintf(p, sizeof(p), "%s/%s/%s", dir, sub, name);
	return stat(p, &sb) == 0;
}

static json_t *
rec_for(const char *spool, const char *id)
{
	char path[1024];
	json_t *r;

	snprintf(path, sizeof(path), "%s/new/%s", spool, id);
	r = json_pack("{s:s, s:s, s:{s:s, s:[s, s]}, s:{s:s, s:[{s:s, s:i}]}}",
	    "id", id, "path", path,
	    "envelope", "from", "a@a.example", "to", "b@b.example",
	    "c@b.example",
	    "auth", "authentication_results",
	    "mx;\n\tspf=pass smtp.mailfrom=a.example",
	    "remove", "field", "Authentication-Results", "index", 0);
	return r;
}

static void
count_failed(void *arg, const char *id, const char *why)
{
	(void)id;
	(void)why;
	(*(int *)arg)++;
}

static void
test_edit(void)
{
	char *out, err[256];
	size_t len;
	json_t *auth;

	ok(pool_edit(stored, strlen(stored), NULL, NULL, &out, &len, err,
	    sizeof(err)) == 0 && len == strlen(stored) &&
	    memcmp(out, stored, len) == 0, "edit: no auth, no change");
	free(out);

	auth = json_pack("{s:s, s:[s], s:[{s:s, s:i}]}",
	    "authentication_results", "mx;\n\tspf=pass",
	    "headers", "X-Verdict: clean",
	    "remove", "field", "authentication-results", "index", 0);
	ok(pool_edit(stored, strlen(stored), auth, NULL, &out, &len, err,
	    sizeof(err)) == 0, "edit: A-R added, claimed field removed");
	ok(strstr(out, "Received: from a.example\n\tby mx; Tue, 14 Nov 2023 "
	    "22:13:20 +0000\nAuthentication-Results: mx;\n\tspf=pass\n"
	    "X-Verdict: clean\nFrom: <a@a.example>\n") != NULL,
	    "edit: the new fields below Received, in order, LF ends");
	ok(strstr(out, "forged") == NULL, "edit: the forged one is gone");
	ok(strncmp(out, "X-Sluice-Id: 1700000000.M1P1Q1.mx\n", 34) == 0,
	    "edit: the relay block stays on top");
	ok(len > 5 && strcmp(out + len - 6, "\nbody\n") == 0,
	    "edit: the body as it was");
	ok(strchr(out, '\r') == NULL, "edit: no CR");
	free(out);
	json_decref(auth);

	/* refusals */
	auth = json_pack("{s:[{s:s, s:i}]}", "remove", "field", "From",
	    "index", 0);
	ok(pool_edit(stored, strlen(stored), auth, NULL, &out, &len, err,
	    sizeof(err)) == -1, "edit: a removal naming another field fails");
	is_str(err, "auth.remove 0: the message has no field From at index 0",
	    "edit: and says why");
	json_decref(auth);
	auth = json_pack("{s:[{s:s, s:i}]}", "remove", "field", "Subject",
	    "index", 99);
	ok(pool_edit(stored, strlen(stored), auth, NULL, &out, &len, err,
	    sizeof(err)) == -1, "edit: an index out of range fails");
	json_decref(auth);
	auth = json_pack("{s:s}", "authentication_results",
	    "mx; spf=pass\nX-Injected: yes");
	ok(pool_edit(stored, strlen(stored), auth, NULL, &out, &len, err,
	    sizeof(err)) == -1, "edit: an unfolded LF in A-R fails");
	json_decref(auth);
	auth = json_pack("{s:s}", "authentication_results", "mx; a\r\n\tb");
	ok(pool_edit(stored, strlen(stored), auth, NULL, &out, &len, err,
	    sizeof(err)) == -1, "edit: a CR in A-R fails");
	json_decref(auth);
	auth = json_pack("{s:[s]}", "headers", "No colon here");
	ok(pool_edit(stored, strlen(stored), auth, NULL, &out, &len, err,
	    sizeof(err)) == -1, "edit: a header without a name fails");
	json_decref(auth);
	auth = json_pack("{s:i}", "remove", 3);
	ok(pool_edit(stored, strlen(stored), auth, NULL, &out, &len, err,
	    sizeof(err)) == -1, "edit: remove not an array fails");
	json_decref(auth);

	/* scan's fields after auth's; both removals on the same indices */
	{
		json_t *scan = json_pack("{s:s, s:[s], s:[{s:s, s:i}]}",
		    "verdict", "spam", "headers",
		    "X-Sluice-Verdict: spam score=9",
		    "remove", "field", "Subject", "index", 2);

		auth = json_pack("{s:s, s:[{s:s, s:i}]}",
		    "authentication_results", "mx; spf=pass",
		    "remove", "field", "Authentication-Results", "index", 0);
		ok(pool_edit(stored, strlen(stored), auth, scan, &out, &len,
		    err, sizeof(err)) == 0, "edit: with scan");
		ok(strstr(out, "\nAuthentication-Results: mx; spf=pass\n"
		    "X-Sluice-Verdict: spam score=9\nFrom: <a@a.example>\n"
		    "\nbody\n") != NULL,
		    "edit: scan headers after auth's; both fields dropped");
		free(out);
		json_decref(scan);
		scan = json_pack("{s:[{s:s, s:i}]}", "remove", "field",
		    "From", "index", 2);
		ok(pool_edit(stored, strlen(stored), auth, scan, &out, &len,
		    err, sizeof(err)) == -1, "edit: a bad scan.remove fails");
		is_str(err, "scan.remove 0: the message has no field From at "
		    "index 2", "edit: and names scan");
		json_decref(scan);
		scan = json_pack("{s:[s]}", "headers", "X-Bad: a\nb");
		ok(pool_edit(stored, strlen(stored), NULL, scan, &out, &len,
		    err, sizeof(err)) == -1,
		    "edit: an unfolded LF in scan.headers fails");
		json_decref(scan);
		json_decref(auth);
	}

	/* a message without a relay block: the fields go on top */
	auth = json_pack("{s:s}", "authentication_results", "mx; none");
	ok(pool_edit("Subject: x\n\nb\n", 14, auth, NULL, &out, &len, err,
	    sizeof(err)) == 0 && strcmp(out, "Authentication-Results: mx; "
	    "none\nSubject: x\n\nb\n") == 0, "edit: no relay block: on top");
	free(out);
	json_decref(auth);
}

static const char *
state_err(const char *s)
{
	static char err[256];
	json_t *st = pool_state_parse(s, strlen(s), err, sizeof(err));

	if (st != NULL) {
		json_decref(st);
		return "ok";
	}
	return err;
}

static void
test_parse(void)
{
	const char *good = "{\"id\":\"1.M1P1Q1.h\",\"pooled_at\":1,"
	    "\"next\":2,\"attempts\":0,\"pending\":[1,0],\"failed\":[],"
	    "\"record\":{\"id\":\"1.M1P1Q1.h\",\"envelope\":{\"to\":"
	    "[\"a@x\",\"b@x\"]}}}";

	is_str(state_err(good), "ok", "state: a good one parses");
	is_str(state_err("{\"id\":\"1.M1P1Q1.h\"}"),
	    "state: record missing or of another id", "state: no record");
	is_str(state_err("[1]"), "state: not an object", "state: an array");
	is_str(state_err("{\"id\":\"../x\",\"record\":{}}"), "state: bad id",
	    "state: an id with a slash");
	is_str(state_err("{\"id\":\"1.M1P1Q1.h\",\"pooled_at\":1,"
	    "\"next\":2,\"attempts\":0,\"pending\":[2],\"record\":{\"id\":"
	    "\"1.M1P1Q1.h\",\"envelope\":{\"to\":[\"a@x\",\"b@x\"]}}}"),
	    "state: pending 0: not a recipient's index, or twice",
	    "state: an index out of range");
	is_str(state_err("{\"id\":\"1.M1P1Q1.h\",\"pooled_at\":1,"
	    "\"next\":2,\"attempts\":0,\"pending\":[0,0],\"record\":{\"id\":"
	    "\"1.M1P1Q1.h\",\"envelope\":{\"to\":[\"a@x\",\"b@x\"]}}}"),
	    "state: pending 1: not a recipient's index, or twice",
	    "state: an index twice");
	is_str(state_err("{\"id\":\"1.M1P1Q1.h\",\"pooled_at\":-1,"
	    "\"next\":2,\"attempts\":0,\"pending\":[],\"record\":{\"id\":"
	    "\"1.M1P1Q1.h\",\"envelope\":{\"to\":[\"a@x\"]}}}"),
	    "state: pooled_at, next or attempts missing or out of range",
	    "state: a negative time");
	is_str(state_err("{\"id\":\"1.M1P1Q1.h\",\"id\":\"2\"}"),
	    "state: line 1: duplicate object key near '\"id\"'",
	    "state: duplicate keys");
}

int
main(void)
{
	char dir[] = "/tmp/test_pool.XXXXXX", spool[256], pdir[256];
	char dead[256], path[1024], err[512], *s;
	const char *id = "1700000000.M1P1Q1.mx";
	struct pool *p, *p2;
	struct pool_msg *m, *m2;
	struct pool_outcome o;
	json_t *rec, *st, *d, *res;

	test_edit();
	test_parse();

	if (mkdtemp(dir) == NULL)
		return 1;
	snprintf(spool, sizeof(spool), "%s/spool", dir);
	snprintf(pdir, sizeof(pdir), "%s/pool", dir);
	snprintf(dead, sizeof(dead), "%s/dead", dir);
	snprintf(path, sizeof(path), "%s/new", spool);
	mkdir(spool, 0700);
	mkdir(path, 0700);
	snprintf(path, sizeof(path), "%s/new/%s", spool, id);
	put(path, stored);

	p = pool_open(pdir, err, sizeof(err));
	ok(p != NULL, "open makes the pool");
	ok(pool_open(pdir, err, sizeof(err)) == NULL, "a second open fails");
	ok(strstr(err, "in use by another process") != NULL,
	    "the lock says why");
	ok(exists(pdir, ".", "state") && exists(pdir, ".", "tmp"),
	    "state/ and tmp/ made");

	rec = rec_for(spool, id);
	is_int(pool_add(p, rec, 1000, 1 << 20, 0, &m, err, sizeof(err)), 0,
	    "add");
	ok(exists(pdir, "new", id) && exists(pdir, "state", id),
	    "add: the message and its state are in the pool");
	ok(exists(spool, "new", id), "add: the spool copy is left");
	snprintf(path, sizeof(path), "%s/new/%s", pdir, id);
	s = slurp(path);
	ok(s != NULL && strstr(s, "Authentication-Results: mx;\n\tspf=pass "
	    "smtp.mailfrom=a.example\nFrom:") != NULL &&
	    strstr(s, "forged") == NULL, "add: the pooled copy is edited");
	is_int(m->npending, 2, "add: two recipients pending");
	is_int(pool_count(p), 1, "add: one in the pool");
	is_int(pool_bytes(p), m->size, "add: its bytes counted");
	is_int(pool_add(p, rec, 1000, 1 << 20, 0, &m2, err, sizeof(err)), 1,
	    "add again: a duplicate");
	is_int(pool_unlink_spool(rec, err, sizeof(err)), 0, "unlink spool");
	ok(!exists(spool, "new", id), "the spool copy is gone");

	/* a record whose path is not its id's file is refused */
	json_object_set_new(rec, "path", json_string("/etc/passwd"));
	json_object_set_new(rec, "id", json_string("1.M2P2Q2.mx"));
	is_int(pool_add(p, rec, 1000, 1 << 20, 0, &m2, err, sizeof(err)), -1,
	    "add: a path that is not the id's is refused");
	is_str(err, "path /etc/passwd does not name id 1.M2P2Q2.mx",
	    "add: and says why");
	is_int(pool_unlink_spool(rec, err, sizeof(err)), -1,
	    "unlink spool: refused too");
	json_decref(rec);

	/* group commit: nothing named before the flush, all after; a
	 * message whose name is taken meanwhile fails alone */
	{
		const char *ids[3] = { "1700000001.M1P1Q1.mx",
		    "1700000002.M1P1Q1.mx", "1700000003.M1P1Q1.mx" };
		json_t *r3[3];
		const char *t;
		int i, nfail = 0;

		pool_defer(p, 1);
		for (i = 0; i < 3; i++) {
			snprintf(path, sizeof(path), "%s/new/%s", spool, ids[i]);
			put(path, stored);
			r3[i] = rec_for(spool, ids[i]);
			is_int(pool_add(p, r3[i], 1000, 1 << 20, 0, &m2, err,
			    sizeof(err)), 0, "deferred add");
		}
		ok(!exists(pdir, "new", ids[0]) && !exists(pdir, "state",
		    ids[2]), "deferred: nothing named before the flush");
		is_int(pool_count(p), 4, "deferred: in the index at once");
		is_int(pool_add(p, r3[1], 1000, 1 << 20, 0, &m2, err,
		    sizeof(err)), 1, "deferred: a second record for an id in "
		    "the batch is a duplicate");
		snprintf(path, sizeof(path), "%s/new/%s", pdir, ids[2]);
		put(path, "someone else's\n");
		is_int(pool_flush(p, count_failed, &nfail, err, sizeof(err)),
		    0, "flush");
		pool_defer(p, 0);
		is_int(nfail, 1, "flush: the message whose name was taken "
		    "failed");
		ok(exists(pdir, "new", ids[0]) && exists(pdir, "state",
		    ids[0]) && exists(pdir, "new", ids[1]) &&
		    exists(pdir, "state", ids[1]), "flush: the others named");
		ok(pool_get(p, ids[2]) == NULL && !exists(pdir, "state",
		    ids[2]), "flush: the failed one left no state and no entry");
		t = slurp(path);
		ok(t != NULL && strcmp(t, "someone else's\n") == 0,
		    "flush: the file that had the name is left alone");
		unlink(path);
		for (i = 0; i < 2; i++)
			is_int(pool_remove(p, pool_get(p, ids[i]), err,
			    sizeof(err)), 0, "remove the batch again");
		for (i = 0; i < 3; i++) {
			pool_unlink_spool(r3[i], err, sizeof(err));
			json_decref(r3[i]);
		}
		is_int(pool_count(p), 1, "one in the pool again");
	}

	/* dispatch: only pending recipients go */
	st = pool_state_read(p, m, err, sizeof(err));
	ok(st != NULL, "state read");
	d = pool_dispatch(st);
	is_str(json_string_value(json_array_get(json_object_get(
	    json_object_get(d, "envelope"), "to"), 1)), "c@b.example",
	    "dispatch: both recipients");
	snprintf(path, sizeof(path), "%s/new/%s", pool_dir(p), id);
	is_str(record_get(d, "path"), path, "dispatch: path is the pool copy");
	json_decref(d);

	/* a result: b delivered, c deferred */
	res = json_pack("{s:s, s:{s:s, s:[{s:s, s:s, s:i}, {s:s, s:s, s:i}]}}",
	    "id", id, "delivery", "status", "deferred", "rcpt",
	    "addr", "b@b.example", "status", "delivered", "code", 250,
	    "addr", "c@b.example", "status", "deferred", "code", 452);
	pool_apply(st, res, 1010, &o);
	is_int(json_array_size(o.delivered), 1, "apply: one delivered");
	is_int(json_array_size(o.deferred), 1, "apply: one deferred");
	is_int(o.answer, POOL_ANSWERED, "apply: the downstream answered");
	pool_outcome_free(&o);
	json_decref(res);
	pool_set_next(st, 2000);
	is_int(pool_state_write(p, m, st, err, sizeof(err)), 0, "state write");
	is_int(m->npending, 1, "one recipient left");
	is_int(m->next, 2000, "next from the state");
	is_int(m->attempts, 1, "one attempt");
	d = pool_dispatch(st);
	is_int(json_array_size(json_object_get(json_object_get(d,
	    "envelope"), "to")), 1, "dispatch: only c now");
	is_str(json_string_value(json_array_get(json_object_get(
	    json_object_get(d, "envelope"), "to"), 0)), "c@b.example",
	    "dispatch: c");
	json_decref(d);

	/* a result with a wrong address counts as deferred; no answer */
	res = json_pack("{s:{s:[{s:s, s:s, s:n}]}}", "delivery", "rcpt",
	    "addr", "x@b.example", "status", "delivered", "code");
	pool_apply(st, res, 1020, &o);
	is_int(json_array_size(o.deferred), 1,
	    "apply: a result for another address is no delivery");
	is_int(o.answer, POOL_NO_ANSWER, "apply: no code, no answer");
	pool_outcome_free(&o);
	json_decref(res);
	json_decref(st);

	/* reload: the state is read back */
	pool_close(p);
	p = pool_open(pdir, err, sizeof(err));
	is_int(pool_load(p, 3000, err, sizeof(err)), 1, "load: one message");
	m = pool_get(p, id);
	ok(m != NULL && m->npending == 1 && m->next == 2000 &&
	    m->attempts == 1, "load: its state as written");

	/* a lost state is rebuilt, an orphan state removed, tmp/ cleaned */
	pool_close(p);
	snprintf(path, sizeof(path), "%s/state/%s", pdir, id);
	put(path, "{garbage");
	snprintf(path, sizeof(path), "%s/state/2.M9P9Q9.mx", pdir);
	put(path, "{}");
	snprintf(path, sizeof(path), "%s/tmp/junk", pdir);
	put(path, "x");
	p = pool_open(pdir, err, sizeof(err));
	ok(!exists(pdir, "tmp", "junk"), "open: tmp/ cleaned");
	is_int(pool_load(p, 3000, err, sizeof(err)), 1, "load: still one");
	m = pool_get(p, id);
	ok(m != NULL && m->npending == 2 && m->next == 3000,
	    "load: a bad state rebuilt, every recipient due now");
	ok(!exists(pdir, "state", "2.M9P9Q9.mx"), "load: orphan state gone");
	st = pool_state_read(p, m, err, sizeof(err));
	ok(st != NULL && strcmp(json_string_value(json_array_get(
	    json_object_get(json_object_get(json_object_get(st, "record"),
	    "envelope"), "to"), 1)), "c@b.example") == 0,
	    "load: the rebuilt state has the envelope of the relay block");

	/* into the dead letters */
	is_int(pool_bury(p, m, st, dead, "expired", err, sizeof(err)), 0,
	    "bury");
	json_decref(st);
	ok(exists(dead, "new", id) && exists(dead, "state", id),
	    "bury: message and state in the dead letters");
	ok(!exists(pdir, "new", id) && !exists(pdir, "state", id),
	    "bury: gone from the pool");
	is_int(pool_count(p), 0, "bury: the pool is empty");
	snprintf(path, sizeof(path), "%s/state/%s", dead, id);
	s = slurp(path);
	ok(s != NULL && strstr(s, "\"reason\":\"expired\"") != NULL,
	    "bury: the reason is in the state");

	/* a second pool object sees the lock released on close */
	pool_close(p);
	p2 = pool_open(pdir, err, sizeof(err));
	ok(p2 != NULL, "the lock goes with close");
	pool_close(p2);
	{
		char cmd[1200];

		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
		if (system(cmd) != 0)
			return 1;
	}
	return t_done();
}
