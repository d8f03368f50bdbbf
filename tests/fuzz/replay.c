/*
 * tests/fuzz/replay.c -- runs a fuzz target's LLVMFuzzerTestOneInput() over
 * every file of the given corpus directories (or single files), without
 * libFuzzer, so `make test` replays the corpus with gcc + ASan + UBSan.
 *
 * Each input runs in a child process, so one crash is counted and the rest
 * still run.  Ends with "<program>: N passed, N failed" and exits
 * non-zero on any failure.
 */
#include <dirent.h>
#include <errno.h>
#include <stdbool.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tests/fuzz/fuzz.h"

static int passed, failed;

/* Whole file in an exact-size heap block (so ASan sees reads past the end). */
static uint8_t *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (f == NULL)
		return NULL;
	size_t cap = 4096, n = 0;
	uint8_t *buf = malloc(cap);
	while (buf != NULL) {
		size_t got = fread(buf + n, 1, cap - n, f);
		n += got;
		if (n < cap)
			break;
		uint8_t *b = realloc(buf, cap * 2);
		if (b == NULL) {
			free(buf);
			buf = NULL;
			break;
		}
		buf = b;
		cap *= 2;
	}
	bool err = ferror(f);
	fclose(f);
	if (buf == NULL || err) {
		free(buf);
		return NULL;
	}
	uint8_t *exact = malloc(n ? n : 1);
	if (exact != NULL)
		memcpy(exact, buf, n);
	free(buf);
	*len = n;
	return exact;
}

static void run_one(const char *path)
{
	fflush(stdout);
	pid_t pid = fork();
	if (pid < 0) {
		perror("fork");
		failed++;
		return;
	}
	if (pid == 0) {
		size_t len = 0;
		uint8_t *data = slurp(path, &len);
		if (data == NULL) {
			fprintf(stderr, "replay: cannot read %s: %s\n", path, strerror(errno));
			_exit(2);
		}
		LLVMFuzzerTestOneInput(data, len);
		free(data);
		exit(0); /* exit(), not _exit(): LeakSanitizer runs at exit */
	}
	int st;
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	if (WIFEXITED(st) && WEXITSTATUS(st) == 0) {
		passed++;
	} else {
		failed++;
		if (WIFSIGNALED(st))
			fprintf(stderr, "replay: FAILED %s (signal %d)\n", path, WTERMSIG(st));
		else
			fprintf(stderr, "replay: FAILED %s (exit %d)\n", path, WEXITSTATUS(st));
	}
}

static int by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void run_dir(const char *dir)
{
	DIR *d = opendir(dir);
	if (d == NULL) {
		fprintf(stderr, "replay: cannot open %s: %s\n", dir, strerror(errno));
		failed++;
		return;
	}
	char **names = NULL;
	size_t n = 0, cap = 0;
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		if (n == cap) {
			cap = cap ? 2 * cap : 64;
			char **nn = realloc(names, cap * sizeof(*names));
			if (nn == NULL)
				break;
			names = nn;
		}
		size_t l = strlen(dir) + strlen(e->d_name) + 2;
		names[n] = malloc(l);
		if (names[n] == NULL)
			break;
		snprintf(names[n], l, "%s/%s", dir, e->d_name);
		n++;
	}
	closedir(d);
	qsort(names, n, sizeof(*names), by_name);
	for (size_t i = 0; i < n; i++) {
		struct stat sb;
		if (stat(names[i], &sb) == 0 && S_ISREG(sb.st_mode))
			run_one(names[i]);
		free(names[i]);
	}
	free(names);
}

int main(int argc, char **argv)
{
	const char *self = strrchr(argv[0], '/') ? strrchr(argv[0], '/') + 1 : argv[0];
	if (argc < 2) {
		fprintf(stderr, "usage: %s corpus-dir-or-file...\n", self);
		return 2;
	}
	for (int i = 1; i < argc; i++) {
		struct stat sb;
		if (stat(argv[i], &sb) == 0 && S_ISDIR(sb.st_mode))
			run_dir(argv[i]);
		else
			run_one(argv[i]);
	}
	printf("%s: %d passed, %d failed\n", self, passed, failed);
	return failed ? 1 : 0;
}
