/*
 * tests/fuzz/fuzz_config.c -- the configuration loader (config/config.c,
 * cfg_load) on any text, with every backend type known
 * (backends_register), as dsyncd -n, dsyncd and a reload read the file;
 * then, for a configuration that loads, the start-up checks
 * (cfg_preflight), which change nothing.
 *
 * Loading runs each backend's init once, and the zonefile backend's init
 * removes stale temporary files next to its file.  So that no input can
 * reach anything outside the fuzzer's own temporary folder: the file is
 * written there, so cfg_load resolves the relative paths it holds against
 * that folder, and inputs holding a '/' (an absolute path, or a way up
 * with "../") or a libconfig "\x" escape (which could spell one) are
 * skipped.  (The process does not chdir: libFuzzer reads and writes its
 * corpus by relative paths.)  The folder holds a template, an API key file
 * and a file to @include for seeds to name; it goes when the process ends.
 *
 * Checked beyond what ASan and UBSan see: a refused configuration says why
 * (at least one line, each "file:line: message" or "file: message": a
 * value holding a newline does not split a message); a loaded one can be
 * held and freed twice (cfg_hold, cfg_free).
 */
#include <stdio.h>
#include <stdbool.h>
#include <string.h>
#include <unistd.h>

#include "backends/backend.h"
#include "common/err.h"
#include "config/config.h"
#include "tests/fuzz/fuzz.h"

static char dir[64];
static char path[96];
static FILE *devnull;

static void cleanup(void)
{
	fuzz_rmtree(dir);
}

static void put(const char *name, const char *text)
{
	char p[128];
	snprintf(p, sizeof(p), "%s/%s", dir, name);
	FILE *f = fopen(p, "w");
	if (f == NULL || fputs(text, f) < 0 || fclose(f) != 0)
		abort();
}

static void setup(void)
{
	fuzz_mkdtemp(dir, sizeof(dir), "dsyncd-fuzz-cfg");
	atexit(cleanup);
	snprintf(path, sizeof(path), "%s/dsyncd.conf", dir);
	backends_register();
	devnull = fopen("/dev/null", "w");
	if (devnull == NULL)
		abort();
	put("zone.tmpl", "$ORIGIN example.\n@ SOA ns1 hostmaster {{SERIAL}} 3600 600 86400 300\n"
			 "@ NS ns1\n{{DELEGATIONS}}\n");
	put("pdns.key", "0123456789abcdef\n");
	put("include.conf", "log = { level = \"debug\"; };\n");
}

/* A path could leave the folder: '/', or an escape that could make one. */
static bool unsafe(const uint8_t *data, size_t size)
{
	for (size_t i = 0; i < size; i++)
		if (data[i] == '/' ||
		    (data[i] == '\\' && i + 1 < size && (data[i + 1] == 'x' || data[i + 1] == 'X')))
			return true;
	return false;
}

/* Every line of the messages names a file ("file:line: message" or
 * "file: message"; the file, or one it includes as the @include names it). */
static void check_messages(const char *text, size_t len)
{
	FUZZ_ASSERT(len > 0 && text[len - 1] == '\n');
	for (const char *l = text; l < text + len; l = strchr(l, '\n') + 1) {
		const char *nl = strchr(l, '\n'), *colon = memchr(l, ':', (size_t)(nl - l));
		bool ok = colon != NULL && colon > l && memmem(l, (size_t)(nl - l), ": ", 2);
		if (!ok)
			fprintf(stderr, "message without its file: %.*s\n", (int)(nl - l), l);
		FUZZ_ASSERT(ok);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (path[0] == '\0')
		setup();
	if (size > 65536 || unsafe(data, size))
		return 0;
	FILE *f = fopen(path, "wb");
	FUZZ_ASSERT(f != NULL);
	FUZZ_ASSERT(fwrite(data, 1, size, f) == size && fclose(f) == 0);

	char *msg = NULL;
	size_t len = 0;
	FILE *err = open_memstream(&msg, &len);
	FUZZ_ASSERT(err != NULL);
	struct cfg *c = NULL;
	int rc = cfg_load(path, err, &c);
	FUZZ_ASSERT(fclose(err) == 0);
	FUZZ_ASSERT(rc == DS_OK || rc == DS_ECONFIG || rc == DS_ENOMEM);
	FUZZ_ASSERT((rc == DS_OK) == (c != NULL));
	if (rc == DS_ECONFIG)
		check_messages(msg, len);
	free(msg);
	if (c != NULL) {
		cfg_preflight(c, devnull);
		struct cfg *held = cfg_hold(c);
		cfg_free(c);
		FUZZ_ASSERT(held->nzones == 0 || held->zones != NULL);
		cfg_free(held);
	}
	return 0;
}
