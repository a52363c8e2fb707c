#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "maildir.h"
#include "t.h"

static int
count(const char *dir, const char *sub)
{
	char path[512];
	struct dirent *de;
	DIR *d;
	int n = 0;

	snprintf(path, sizeof(path), "%s/%s", dir, sub);
	if ((d = opendir(path)) == NULL)
		return -1;
	while ((de = readdir(d)) != NULL)
		if (de->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

struct listed {
	int n;
	char names[8][MAILDIR_NAME_MAX + 8];
};

static int
collect(void *arg, const char *sub, const char *name)
{
	struct listed *l = arg;

	if (l->n < 8)
		snprintf(l->names[l->n], sizeof(l->names[0]), "%s/%s", sub,
		    name);
	l->n++;
	return 0;
}

static struct maildir *shared;

static void *
writer(void *arg)
{
	int i;

	(void)arg;
	for (i = 0; i < 50; i++)
		if (maildir_deliver(shared, "x\n", 2, NULL) == -1)
			return (void *)1;
	return NULL;
}

int
main(void)
{
	char tmpl[] = "/tmp/test_maildir.XXXXXX", *dir, path[512];
	char name[MAILDIR_NAME_MAX], name2[MAILDIR_NAME_MAX], id[64];
	struct maildir_file f;
	struct maildir *md;
	struct listed l = { 0 };
	struct stat st;
	pthread_t th[4];
	void *rv;
	int i, bad = 0;

	dir = mkdtemp(tmpl);
	snprintf(path, sizeof(path), "%s/md", dir);
	ok(maildir_open(path, 0) == NULL && errno == ENOENT,
	    "opening a missing maildir fails with ENOENT");
	md = maildir_open(path, 1);
	ok(md != NULL, "create and open");
	is_int(count(path, "tmp") + count(path, "new") + count(path, "cur"),
	    0, "all three subdirectories exist and are empty");

	ok(maildir_deliver(md, "hello\n", 6, name) == 0, "deliver");
	is_int(count(path, "new"), 1, "one file in new/");
	is_int(count(path, "tmp"), 0, "nothing left in tmp/");
	snprintf(path + strlen(path), sizeof(path) - strlen(path),
	    "/new/%s", name);
	ok(stat(path, &st) == 0 && st.st_size == 6 &&
	    (st.st_mode & 0777) == 0600, "file has the bytes, mode 0600");
	snprintf(path, sizeof(path), "%s/md", dir);
	ok(maildir_deliver(md, "two\n", 4, name2) == 0 &&
	    strcmp(name, name2) != 0, "second name differs");
	ok(strstr(name, ".M") != NULL && strstr(name, "P") != NULL &&
	    strstr(name, "Q") != NULL, "name has M, P and Q parts");

	ok(maildir_create(md, &f) == 0, "create a file");
	ok(f.unnamed, "on this filesystem it is unnamed (O_TMPFILE)");
	is_int(count(path, "tmp") + count(path, "new"), 2,
	    "no name for it anywhere yet");
	ok(maildir_write(&f, "abc\n", 4) == 0, "write it");
	{
		int rfd = maildir_reopen(&f);
		char back[8] = "";

		ok(rfd != -1 && pread(rfd, back, 4, 0) == 4 &&
		    memcmp(back, "abc\n", 4) == 0, "reopen reads it back");
		if (rfd != -1)
			close(rfd);
	}
	maildir_abort(&f);
	is_int(count(path, "tmp") + count(path, "new"), 2,
	    "abort leaves nothing");

	/* the classic way: a name in tmp/, renamed into new/ */
	maildir_use_tmp(md);
	ok(maildir_create(md, &f) == 0 && !f.unnamed, "create in tmp/");
	is_int(count(path, "tmp"), 1, "it sits in tmp/");
	ok(maildir_write(&f, "abc\n", 4) == 0, "write it");
	{
		int rfd = maildir_reopen(&f);
		char back[8] = "";

		ok(rfd != -1 && pread(rfd, back, 4, 0) == 4 &&
		    memcmp(back, "abc\n", 4) == 0, "reopen reads it back");
		if (rfd != -1)
			close(rfd);
	}
	ok(maildir_commit(&f) == 0, "commit by rename");
	is_int(count(path, "tmp"), 0, "tmp/ empty after the commit");
	is_int(count(path, "new"), 3, "in new/");
	ok(maildir_create(md, &f) == 0, "create in tmp/ again");
	maildir_abort(&f);
	is_int(count(path, "tmp"), 0, "abort removes it");

	/* list sees new/ and cur/, sorted, skips dot files */
	snprintf(path, sizeof(path), "%s/md/cur/1.x:2,S", dir);
	close(open(path, O_CREAT | O_WRONLY, 0600));
	snprintf(path, sizeof(path), "%s/md/new/.hidden", dir);
	close(open(path, O_CREAT | O_WRONLY, 0600));
	snprintf(path, sizeof(path), "%s/md", dir);
	ok(maildir_list(path, collect, &l) == 0, "list");
	is_int(l.n, 4, "four messages listed, dot file skipped");
	ok(strcmp(l.names[0], l.names[1]) < 0 &&
	    strncmp(l.names[0], "new/", 4) == 0, "new/ sorted first");
	is_str(l.names[3], "cur/1.x:2,S", "then cur/");

	ok(maildir_id("1.M2P3Q4.host:2,S", id, sizeof(id)) == 0,
	    "id of a name with flags");
	is_str(id, "1.M2P3Q4.host", "flags stripped");
	ok(maildir_id("a/b", id, sizeof(id)) == -1, "a slash is no name");
	ok(maildir_id(":2,", id, sizeof(id)) == -1, "empty id refused");

	/* Several threads commit at once: the group fsync of new/ serves
	 * them all and no name repeats. */
	shared = md;
	for (i = 0; i < 4; i++)
		pthread_create(&th[i], NULL, writer, NULL);
	for (i = 0; i < 4; i++) {
		pthread_join(th[i], &rv);
		bad += rv != NULL;
	}
	is_int(bad, 0, "200 deliveries from 4 threads succeed");
	is_int(count(path, "new"), 3 + 200, "all 200 are in new/");

	/* A commit into a maildir whose new/ is gone fails and cleans up. */
	ok(maildir_create(md, &f) == 0, "create before breaking new/");
	snprintf(path, sizeof(path), "rm -rf %s/md/new", dir);
	ok(system(path) == 0, "remove new/");
	ok(maildir_commit(&f) == -1, "commit fails");
	snprintf(path, sizeof(path), "%s/md", dir);
	is_int(count(path, "tmp"), 0, "failed commit leaves tmp/ clean");

	/* clean_tmp removes old junk only */
	snprintf(path, sizeof(path), "%s/md/tmp/old", dir);
	close(open(path, O_CREAT | O_WRONLY, 0600));
	{
		struct timespec ts[2] = { { 1000, 0 }, { 1000, 0 } };

		utimensat(AT_FDCWD, path, ts, 0);
	}
	snprintf(path, sizeof(path), "%s/md/tmp/young", dir);
	close(open(path, O_CREAT | O_WRONLY, 0600));
	snprintf(path, sizeof(path), "%s/md", dir);
	is_int(maildir_clean_tmp(path, 36 * 3600), 1, "one old tmp file removed");
	is_int(count(path, "tmp"), 1, "the young one stays");

	maildir_close(md);
	snprintf(path, sizeof(path), "rm -rf %s", dir);
	if (system(path) != 0)
		return 1;
	return t_done();
}
