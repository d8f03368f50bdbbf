/*
 * daemon/storecmd.c -- `dsyncd store-copy`: the store moved between engines.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include "common/err.h"
#include "config/config.h"
#include "daemon/commands.h"
#include "store/store.h"

#define PG_FILE "postgresql-file:"

/*
 * A store named on the command line, as store_open() takes it: a SQLite
 * file, "postgresql:" and a connection string, or "postgresql-file:" and a
 * file holding one (so that no password shows in the process list).
 * malloc'd; NULL after saying why on out.
 */
static char *store_arg(const char *arg, FILE *out)
{
	char why[4200];

	if (strncmp(arg, PG_FILE, strlen(PG_FILE)) != 0)
		return strdup(arg);
	char *conninfo = cfg_conninfo_file(arg + strlen(PG_FILE), why, sizeof(why));
	if (conninfo == NULL) {
		fprintf(out, "store-copy: %s\n", why);
		return NULL;
	}
	size_t n = strlen(STORE_PG_PREFIX) + strlen(conninfo) + 1;
	char *spec = malloc(n);
	if (spec != NULL)
		snprintf(spec, n, "%s%s", STORE_PG_PREFIX, conninfo);
	free(conninfo);
	return spec;
}

int daemon_store_copy_command(const struct cfg *cfg, int argc, char **argv, FILE *out)
{
	const char *from = NULL, *to = NULL;
	char *fspec = NULL, *tspec = NULL;
	int rc;

	for (int i = 0; i + 1 < argc; i += 2) {
		if (strcmp(argv[i], "--from") == 0 && from == NULL)
			from = argv[i + 1];
		else if (strcmp(argv[i], "--to") == 0 && to == NULL)
			to = argv[i + 1];
		else
			return EX_USAGE;
	}
	if (argc % 2 != 0 || to == NULL)
		return EX_USAGE;
	/* without --from: the configured store */
	fspec = from != NULL ? store_arg(from, out) : strdup(cfg->store_spec);
	tspec = store_arg(to, out);
	if (fspec == NULL || tspec == NULL)
		rc = DS_ECONFIG;
	else if (strcmp(fspec, tspec) == 0)
		rc = DS_EINVAL;
	else
		rc = store_copy(fspec, tspec, out);
	if (rc == DS_EEXIST)
		rc = DS_EREFUSED; /* it ran, and the stores differ */
	free(fspec);
	free(tspec);
	return ds_exit_status(rc);
}
