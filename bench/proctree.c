/*
 * proctree: CPU time and memory of a process and all its descendants,
 * from /proc.
 *
 *   proctree [-m] PID
 *
 * Prints one line:
 *   procs=N cpu_s=S rss_kib=K [pss_kib=K]
 *
 * cpu_s sums utime+stime+cutime+cstime over the live processes of the
 * tree: a child that has exited and been reaped is in its parent's
 * cutime/cstime, one still alive is counted by itself, so nothing is
 * counted twice and work done by short-lived children (Postfix smtpd,
 * cleanup) is not lost.  rss_kib sums resident set sizes, which counts
 * shared pages once per process: with -m, pss_kib (from smaps_rollup)
 * shares them out instead, the fairer figure for multi-process servers.
 *
 * Exit: 0 done; 100 bad usage; 111 PID not found or /proc unreadable.
 */
#include <sys/types.h>

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct proc {
	long		 pid, ppid;
	unsigned long long ticks;
	long long	 rss_pages;
	int		 in_tree;
};

static int
read_stat(long pid, struct proc *p)
{
	char path[64], buf[1024], *q;
	unsigned long long ut, st;
	long long cut, cst, rss;
	long ppid;
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), "/proc/%ld/stat", pid);
	if ((f = fopen(path, "r")) == NULL)
		return -1;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	/* the command name may hold spaces and parentheses: skip to the last ')' */
	if ((q = strrchr(buf, ')')) == NULL)
		return -1;
	/* fields 3.. : state ppid pgrp session tty tpgid flags minflt
	 * cminflt majflt cmajflt utime stime cutime cstime priority nice
	 * threads itrealvalue starttime vsize rss */
	if (sscanf(q + 2, "%*c %ld %*d %*d %*d %*d %*u %*u %*u %*u %*u "
	    "%llu %llu %lld %lld %*d %*d %*d %*d %*u %*u %lld",
	    &ppid, &ut, &st, &cut, &cst, &rss) != 6)
		return -1;
	p->pid = pid;
	p->ppid = ppid;
	p->ticks = ut + st + (unsigned long long)(cut + cst);
	p->rss_pages = rss;
	return 0;
}

static long long
pss_kib(long pid)
{
	char path[64], line[256];
	long long v = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%ld/smaps_rollup", pid);
	if ((f = fopen(path, "r")) == NULL)
		return 0;
	while (fgets(line, sizeof(line), f) != NULL)
		if (strncmp(line, "Pss:", 4) == 0) {
			v = strtoll(line + 4, NULL, 10);
			break;
		}
	fclose(f);
	return v;
}

int
main(int argc, char *argv[])
{
	struct proc *ps = NULL, *np;
	size_t n = 0, cap = 0, i;
	struct dirent *de;
	long root, hz, pagekib, procs = 0;
	unsigned long long ticks = 0;
	long long rss = 0, pss = 0;
	int mem = 0, changed, c;
	char *end;
	DIR *d;

	while ((c = getopt(argc, argv, "m")) != -1) {
		if (c != 'm')
			goto usage;
		mem = 1;
	}
	if (argc - optind != 1)
		goto usage;
	errno = 0;
	root = strtol(argv[optind], &end, 10);
	if (errno != 0 || *end != '\0' || root <= 0)
		goto usage;
	hz = sysconf(_SC_CLK_TCK);
	pagekib = sysconf(_SC_PAGESIZE) / 1024;

	if ((d = opendir("/proc")) == NULL) {
		fprintf(stderr, "proctree: open /proc: %s\n", strerror(errno));
		return 111;
	}
	while ((de = readdir(d)) != NULL) {
		if (!isdigit((unsigned char)de->d_name[0]))
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 1024;
			if ((np = realloc(ps, cap * sizeof(*ps))) == NULL) {
				fprintf(stderr, "proctree: out of memory\n");
				return 111;
			}
			ps = np;
		}
		memset(&ps[n], 0, sizeof(ps[n]));
		if (read_stat(strtol(de->d_name, NULL, 10), &ps[n]) == 0)
			n++;	/* gone already: skip it */
	}
	closedir(d);

	for (i = 0; i < n; i++)
		if (ps[i].pid == root)
			ps[i].in_tree = 1;
	/* mark descendants until nothing changes (trees are shallow) */
	do {
		size_t j;

		changed = 0;
		for (i = 0; i < n; i++) {
			if (ps[i].in_tree)
				continue;
			for (j = 0; j < n; j++)
				if (ps[j].in_tree && ps[j].pid == ps[i].ppid) {
					ps[i].in_tree = changed = 1;
					break;
				}
		}
	} while (changed);

	for (i = 0; i < n; i++) {
		if (!ps[i].in_tree)
			continue;
		procs++;
		ticks += ps[i].ticks;
		rss += ps[i].rss_pages * pagekib;
		if (mem)
			pss += pss_kib(ps[i].pid);
	}
	free(ps);
	if (procs == 0) {
		fprintf(stderr, "proctree: no process %ld\n", root);
		return 111;
	}
	printf("procs=%ld cpu_s=%.2f rss_kib=%lld", procs,
	    (double)ticks / (double)hz, rss);
	if (mem)
		printf(" pss_kib=%lld", pss);
	printf("\n");
	if (fflush(stdout) == EOF || ferror(stdout))
		return 111;
	return 0;
usage:
	fprintf(stderr, "usage: proctree [-m] PID\n");
	return 100;
}
