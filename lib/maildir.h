/*
 * maildir: the one place where sluice writes, commits and lists maildirs.
 *
 * A message is written to an unnamed file in new/ (O_TMPFILE), fsynced,
 * linked as new/NAME, and new/ fsynced; only then is it stored.  Where
 * the filesystem cannot make unnamed files, it is written to tmp/NAME,
 * fsynced and renamed into new/NAME (RENAME_NOREPLACE, or link and
 * unlink).  Either way no message is ever replaced and no name points at
 * data that is not on disk.  NAME is
 * "SECONDS.M<usec>P<pid>Q<counter>.HOST" (HOST with "/" and ":" escaped as
 * \057 and \072) and is the message's id everywhere.  The fsync of new/ is
 * shared between threads committing at the same time (a group commit): one
 * fsync covers every link made before it started.
 *
 * Functions returning int return 0 on success and -1 with errno set on
 * failure.  A struct maildir may be shared by threads, not by processes:
 * its unique names carry the pid of the process that opened it.
 */
#ifndef SLUICE_MAILDIR_H
#define SLUICE_MAILDIR_H

#include <stddef.h>
#include <sys/types.h>

#define MAILDIR_NAME_MAX 256

struct maildir;

struct maildir_file {
	struct maildir *md;
	int fd;
	int unnamed;			/* O_TMPFILE: no name until commit */
	char name[MAILDIR_NAME_MAX];	/* the unique name, the message id */
};

/* Create dir and its tmp/, new/ and cur/ where missing (mode 0700). */
int maildir_make(const char *dir);

/*
 * Open a maildir for writing and listing; with create, make it first.
 * Returns NULL with errno set on failure; free with maildir_close.
 */
struct maildir *maildir_open(const char *dir, int create);
void maildir_close(struct maildir *);
const char *maildir_path(const struct maildir *);

/* Write messages under a name in tmp/ from now on, not unnamed (for a
 * filesystem where unnamed files misbehave, and for tests). */
void maildir_use_tmp(struct maildir *);

/* A new unique name into buf (size >= MAILDIR_NAME_MAX). */
int maildir_unique(struct maildir *, char *buf, size_t size);

/* Open a new file for a message (0600): unnamed in new/, or in tmp/
 * under a unique name (O_EXCL); f->name is its name to come. */
int maildir_create(struct maildir *, struct maildir_file *);

/* Write all n bytes, retrying short writes. */
int maildir_write(struct maildir_file *, const void *buf, size_t n);

/*
 * Make the file durable and visible: fsync, name it in new/ (never
 * replacing a name there), close, fsync new/.  On failure nothing is left
 * in tmp/ or new/ and the fd is closed.  Either way the handle is
 * finished.
 */
int maildir_commit(struct maildir_file *);

/* Give up a file: close it and remove it. */
void maildir_abort(struct maildir_file *);

/* A new read-only descriptor of the file being written (for a check
 * that reads the message before the commit), or -1 with errno. */
int maildir_reopen(const struct maildir_file *);

/* Store n bytes as one message (create, write, commit); its name into
 * name (size >= MAILDIR_NAME_MAX) if name is not NULL. */
int maildir_deliver(struct maildir *, const void *buf, size_t n,
    char *name);

/*
 * Call fn for each message in new/ then cur/, sorted by name within each,
 * skipping names that start with ".".  sub is "new" or "cur".  A non-zero
 * return from fn stops the listing and is returned.  -1 with errno on a
 * directory error.
 */
int maildir_list(const char *dir,
    int (*fn)(void *arg, const char *sub, const char *name), void *arg);

/* Remove files in tmp/ not modified for age seconds; returns how many, or
 * -1 with errno. */
int maildir_clean_tmp(const char *dir, time_t age);

/*
 * The id of a maildir file name: the name without its ":2,FLAGS" (or
 * ",FLAGS") suffix.  Returns 0, or -1 (EINVAL) when it does not fit or the
 * name is empty or contains "/".
 */
int maildir_id(const char *name, char *id, size_t size);

#endif
