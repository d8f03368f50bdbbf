/*
 * daemon/delegcmd.c -- `dsyncd delegation add|delete`: the operator's
 * delegation changes from the command line, keys/deleg_ops.c's as the
 * admin API's.  Audited with actor "dsyncd-cli", client "local".  The
 * change goes out through the outbox (a running dsyncd's outbox picks it
 * up at its next round); a running dsyncd stops honouring a deleted
 * child's keys on SIGHUP.
 */
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include "common/dname.h"
#include "common/err.h"
#include "daemon/commands.h"
#include "keys/deleg_ops.h"

#define USAGE                                                                                      \
	"usage: dsyncd delegation add CHILD [--ns NAME]... [--ds 'KEYTAG ALG TYPE DIGEST']...\n"   \
	"                  [--glue NAME ADDRESS]... [--reason TEXT]\n"                             \
	"       dsyncd delegation delete CHILD [--reason TEXT]\n"

/* The records and the reason of `delegation add` (pointers into argv). */
struct add_args {
	const char *ns[DELEG_MAX], *ds[DELEG_MAX], *gname[DELEG_MAX], *gaddr[DELEG_MAX];
	struct deleg_input in;
	const char *reason;
};

/* argv[0..argc) after CHILD; false (said on err) on a usage error. */
static bool parse_args(int argc, char **argv, bool add, struct add_args *a, FILE *err)
{
	for (int i = 0; i < argc; i++) {
		const char *o = argv[i];
		int need = strcmp(o, "--glue") == 0 ? 2 : 1;
		bool known =
		    strcmp(o, "--reason") == 0 ||
		    (add && (strcmp(o, "--ns") == 0 || strcmp(o, "--ds") == 0 || need == 2));
		if (!known || i + need >= argc) {
			fprintf(err, "delegation: %s %s\n%s",
				known ? "missing argument of" : "unknown", o, USAGE);
			return false;
		}
		if (a->in.nns == DELEG_MAX || a->in.nds == DELEG_MAX || a->in.nglue == DELEG_MAX) {
			fprintf(err, "delegation: more than %d records\n", DELEG_MAX);
			return false;
		}
		if (strcmp(o, "--reason") == 0)
			a->reason = argv[i + 1];
		else if (strcmp(o, "--ns") == 0)
			a->ns[a->in.nns++] = argv[i + 1];
		else if (strcmp(o, "--ds") == 0)
			a->ds[a->in.nds++] = argv[i + 1];
		else {
			a->gname[a->in.nglue] = argv[i + 1];
			a->gaddr[a->in.nglue++] = argv[i + 2];
		}
		i += need;
	}
	a->in.ns = a->ns;
	a->in.ds = a->ds;
	a->in.glue_name = a->gname;
	a->in.glue_addr = a->gaddr;
	return true;
}

/* The exit status of a change refused by the store's state (1) or failed
 * (EX_IOERR), said on out. */
static int failed(const struct deleg_op *op, int rc, FILE *out)
{
	if (rc == DS_EINVAL || rc == DS_EEXIST || rc == DS_ENOENT) {
		fprintf(out, "delegation: %s; nothing changed\n", op->why);
		return 1;
	}
	fprintf(out, "delegation: store error, nothing changed: %s\n", ds_strerror(rc));
	return EX_IOERR;
}

static int add(struct store *s, struct deleg_op *op, struct add_args *a, FILE *out)
{
	char zs[DNAME_STR_MAX];
	struct deleg *d = malloc(sizeof(*d));
	int rc = d ? deleg_op_records(&a->in, op, d) : DS_ENOMEM;
	if (rc == DS_EINVAL) {
		fprintf(out, "delegation: %s; nothing changed\n", op->why);
		free(d);
		return EX_DATAERR;
	}
	if (rc == DS_OK)
		rc = deleg_op_add(s, d, op);
	dname_to_str(op->zone->name, zs, sizeof(zs));
	if (rc == DS_OK)
		fprintf(out, "delegation: %s created in zone %s with %zu record(s)\n%s", op->name,
			zs, d->n, op->changes);
	free(d);
	return rc == DS_OK ? 0 : failed(op, rc, out);
}

static int delete (struct store *s, struct deleg_op *op, FILE *out)
{
	int rc = deleg_op_delete(s, op);
	if (rc == DS_OK)
		fprintf(out,
			"delegation: %s deleted with %zu key(s)%s\n%s"
			"send SIGHUP to a running dsyncd so that it stops honouring the keys\n",
			op->name, op->gone.n, op->changes[0] ? "; removed:" : "", op->changes);
	deleg_op_free(op);
	return rc == DS_OK ? 0 : failed(op, rc, out);
}

int daemon_delegation_command(const struct cfg *cfg, int argc, char **argv, FILE *out)
{
	bool is_add = argc >= 2 && strcmp(argv[0], "add") == 0;
	bool is_del = argc >= 2 && strcmp(argv[0], "delete") == 0;
	struct add_args *a = calloc(1, sizeof(*a));
	struct deleg_op *op = calloc(1, sizeof(*op));
	struct store *s = NULL;
	int ex = a && op ? 0 : EX_OSERR;
	if (ex == 0 && !is_add && !is_del) {
		fputs(USAGE, stderr);
		ex = EX_USAGE;
	} else if (ex == 0 && !parse_args(argc - 2, argv + 2, is_add, a, stderr)) {
		ex = EX_USAGE;
	}
	if (ex == 0) {
		op->actor = "dsyncd-cli";
		op->client = "local";
		op->request = is_add ? "delegation add" : "delegation delete";
		op->reason = a->reason;
		int rc = deleg_op_child(cfg, argv[1], op);
		if (rc != DS_OK) {
			fprintf(out, "delegation: %s; nothing changed\n", op->why);
			ex = EX_DATAERR;
		}
	}
	if (ex == 0 && store_open(cfg->store_spec, &s) != DS_OK) {
		fprintf(out, "delegation: cannot open the store %s\n", cfg->store_label);
		ex = EX_IOERR;
	}
	if (ex == 0)
		ex = is_add ? add(s, op, a, out) : delete (s, op, out);
	store_close(s);
	free(op);
	free(a);
	return ex;
}
