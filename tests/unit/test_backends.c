/*
 * tests/unit/test_backends.c -- registry, backend_run, null, zonefile and
 * exec backends.  Works in a fresh directory under /tmp (removed at the end).
 */
#include <dirent.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "backends/backend.h"
#include "backends/exec.h"
#include "backends/powerdns.h"
#include "backends/zonefile.h"
#include "common/dname.h"
#include "common/err.h"
#include "common/log.h"
#include "common/rrtext.h"
#include "common/zonefile.h"
#include "tests/unit/unit.h"

static char tmpdir[256];

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static char *tpath(const char *name)
{
	static char buf[4][512];
	static int i;
	i = (i + 1) % 4;
	snprintf(buf[i], sizeof(buf[i]), "%s/%s", tmpdir, name);
	return buf[i];
}

/* Whole file as a string (works for /proc files too); NULL if absent. */
static char *slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	char *p = NULL;
	size_t len = 0, cap = 0, r;
	if (f == NULL)
		return NULL;
	do {
		if (len + 4096 + 1 > cap) {
			cap = cap ? cap * 2 : 8192;
			p = realloc(p, cap);
			if (p == NULL)
				abort();
		}
		r = fread(p + len, 1, cap - len - 1, f);
		len += r;
	} while (r > 0);
	p[len] = '\0';
	fclose(f);
	return p;
}

static void spit(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	if (f == NULL)
		abort();
	fputs(text, f);
	fclose(f);
}

static bool exists(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0;
}

/* Files in tmpdir whose name starts with prefix and is not in allowed. */
static int stray_files(const char *prefix, const char *const allowed[])
{
	DIR *d = opendir(tmpdir);
	struct dirent *e;
	int n = 0;
	while ((e = readdir(d)) != NULL) {
		bool ok = false;
		if (strncmp(e->d_name, prefix, strlen(prefix)) != 0)
			continue;
		for (size_t i = 0; allowed[i] != NULL; i++)
			if (strcmp(e->d_name, allowed[i]) == 0)
				ok = true;
		if (!ok) {
			fprintf(stderr, "stray file %s\n", e->d_name);
			n++;
		}
	}
	closedir(d);
	return n;
}

static int open_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	int n = 0;
	while (d != NULL && readdir(d) != NULL)
		n++;
	if (d != NULL)
		closedir(d);
	return n;
}

/* ------------------------------------------------------------------------ */

static void test_registry(void)
{
	const struct backend_ops *z = backend_find("zonefile"), *n = backend_find("null");
	CHECK(z != NULL && strcmp(z->type->name, "zonefile") == 0);
	CHECK(n != NULL && strcmp(n->type->name, "null") == 0);
	CHECK(z != n);
	CHECK(backend_find("exec") != NULL && backend_find("exec") != z);
	CHECK(backend_find("nope") == NULL);
	CHECK(backend_find("") == NULL);
	CHECK(backend_find("Zonefile") == NULL);
	CHECK(backend_find(NULL) == NULL);
}

static int empty_walk(void *ctx, backend_rr_cb cb, void *arg)
{
	(void)ctx;
	(void)cb;
	(void)arg;
	return 0;
}

static void test_null(void)
{
	struct cfg_backend bc = {.type = "null"};
	struct backend *b = NULL;
	char err[256];
	uint8_t zone[DNAME_MAX];
	struct backend_change ch[2] = {{zone, "+ a.example. 3600 IN NS ns.\n"},
				       {zone, "- b.example. 3600 IN NS ns.\n"}};
	struct backend_batch batch = {
	    .zone = zone, .changes = ch, .nchanges = 2, .foreach_rr = empty_walk};

	dname_from_str("example.", zone);
	CHECK_EQ(backend_new(&bc, NULL, &b, err, sizeof(err)), DS_OK);
	CHECK(b != NULL);
	if (b == NULL)
		return;
	CHECK(strcmp(backend_name(b), "null") == 0);
	CHECK_EQ(backend_delivered(b), 0);
	CHECK_EQ(backend_deliver(b, &batch, err, sizeof(err)), DS_OK);
	CHECK_EQ(backend_deliver(b, &batch, err, sizeof(err)), DS_OK);
	CHECK_EQ(backend_delivered(b), 2);
	backend_free(b);
	backend_free(NULL);

	/* a name of its own (settings of other backends are refused by config:
	 * null declares none) */
	bc.name = "dry-run";
	CHECK_EQ(backend_new(&bc, NULL, &b, err, sizeof(err)), DS_OK);
	CHECK(b != NULL && strcmp(backend_name(b), "dry-run") == 0);
	backend_free(b);

	/* unknown type */
	struct cfg_backend bu = {.type = "carrier-pigeon"};
	CHECK_EQ(backend_new(&bu, NULL, &b, err, sizeof(err)), DS_ECONFIG);
	CHECK(b == NULL);
	CHECK(strstr(err, "carrier-pigeon") != NULL);
}

/* ------------------------------------------------------------------------ */

struct run_case {
	const char *what;
	const char *argv[8];
	unsigned timeout;
	int rc;
	const char *in_err[3]; /* substrings the error text must contain */
};

static const struct run_case run_cases[] = {
    {"true", {"/bin/true"}, 5, DS_OK, {NULL}},
    {"PATH search", {"true"}, 5, DS_OK, {NULL}},
    {"false", {"/bin/false"}, 5, DS_ECHILD, {"command /bin/false exited with status 1"}},
    {"PATH search, resolved path reported",
     {"false"},
     5,
     DS_ECHILD,
     {"/false exited with status 1"}},
    {"missing absolute",
     {"/nonexistent/dsync-nope"},
     5,
     DS_ECHILD,
     {"/nonexistent/dsync-nope", "not found"}},
    {"missing in PATH",
     {"dsync-no-such-program"},
     5,
     DS_ECHILD,
     {"dsync-no-such-program", "not found"}},
    {"not executable", {"/etc/passwd"}, 5, DS_ECHILD, {"/etc/passwd", "denied"}},
    {"output captured, status",
     {"/bin/sh", "-c", "echo out-text; echo err-text >&2; exit 3"},
     5,
     DS_ECHILD,
     {"exited with status 3", "out-text", "err-text"}},
    {"signal", {"/bin/sh", "-c", "kill -TERM $$"}, 5, DS_ECHILD, {"killed by signal 15"}},
    {"stdin is /dev/null", {"/bin/sh", "-c", "cat; exit 4"}, 5, DS_ECHILD, {"status 4"}},
    {"arguments reach the program literally",
     {"/bin/sh", "-c", "printf '[%s]' \"$@\"; exit 1", "sh", "$(id)", "a b;c", "`id` *"},
     5,
     DS_ECHILD,
     {"[$(id)][a b;c][`id` *]"}},
};

/* Each case of run_cases: the status and what the error text says. */
static void run_check_cases(void)
{
	char err[512];

	for (size_t i = 0; i < sizeof(run_cases) / sizeof(run_cases[0]); i++) {
		const struct run_case *c = &run_cases[i];
		int rc = backend_run((char *const *)c->argv, c->timeout, err, sizeof(err));
		if (rc != c->rc)
			fprintf(stderr, "run case \"%s\": rc %d, err \"%s\"\n", c->what, rc, err);
		CHECK_EQ(rc, c->rc);
		for (size_t k = 0; k < 3 && c->in_err[k] != NULL; k++) {
			if (strstr(err, c->in_err[k]) == NULL)
				fprintf(stderr, "run case \"%s\": \"%s\" not in \"%s\"\n", c->what,
					c->in_err[k], err);
			CHECK(strstr(err, c->in_err[k]) != NULL);
		}
	}
}

/* No argv; output made safe for logs; shell syntax in a name stays literal. */
static void run_check_args(void)
{
	char err[512];

	/* empty argv */
	{
		char *argv[] = {NULL};
		CHECK_EQ(backend_run(argv, 1, err, sizeof(err)), DS_EINVAL);
	}

	/* output is sanitised for logs: no newline or escape byte reaches err */
	{
		const char *argv[] = {"/bin/sh", "-c", "printf 'line1\\nline2\\033[31m\\n'; exit 1",
				      NULL};
		CHECK_EQ(backend_run((char *const *)argv, 5, err, sizeof(err)), DS_ECHILD);
		CHECK(strchr(err, '\n') == NULL);
		CHECK(strchr(err, '\033') == NULL);
		CHECK(strstr(err, "line1 line2?[31m") != NULL);
	}

	/* a file name full of shell syntax is created literally */
	{
		char name[512];
		snprintf(name, sizeof(name), "%s/$(id) `id` a;b|c&d >e", tmpdir);
		const char *argv[] = {"/usr/bin/touch", name, NULL};
		CHECK_EQ(backend_run((char *const *)argv, 5, err, sizeof(err)), DS_OK);
		CHECK(exists(name));
		unlink(name);
	}
}

/* Timeouts kill the command and its children, in bounded time. */
static void run_check_timeouts(void)
{
	char err[512];
	char script[600];

	/* timeout: killed, in bounded time, its own children too */
	{
		const char *argv[] = {"/bin/sleep", "30", NULL};
		double t0 = now_s();
		CHECK_EQ(backend_run((char *const *)argv, 1, err, sizeof(err)), DS_ECHILD);
		double dt = now_s() - t0;
		CHECK(dt >= 0.9 && dt < 4);
		CHECK(strstr(err, "timed out after 1 s") != NULL);
	}
	{
		snprintf(script, sizeof(script), "sleep 30 & echo $! > %s/grandchild; wait",
			 tmpdir);
		const char *argv[] = {"/bin/sh", "-c", script, NULL};
		double t0 = now_s();
		CHECK_EQ(backend_run((char *const *)argv, 1, err, sizeof(err)), DS_ECHILD);
		CHECK(now_s() - t0 < 4);
		char *pid = slurp(tpath("grandchild"));
		CHECK(pid != NULL);
		if (pid != NULL) {
			usleep(100 * 1000);
			char proc[64];
			snprintf(proc, sizeof(proc), "/proc/%d/stat", atoi(pid));
			char *st = slurp(proc);
			/* gone, or at most a zombie waiting for init */
			CHECK(st == NULL || strstr(st, ") Z ") != NULL);
			free(st);
			free(pid);
		}
		unlink(tpath("grandchild"));
	}
}

/* Pipes held open, lots of output, our descriptors: none hang or leak. */
static void run_check_pipes(void)
{
	char err[512];
	char script[600];

	/* a command that exits while its background child keeps the pipe open */
	{
		const char *argv[] = {"/bin/sh", "-c", "sleep 3 & exit 2", NULL};
		double t0 = now_s();
		CHECK_EQ(backend_run((char *const *)argv, 10, err, sizeof(err)), DS_ECHILD);
		CHECK(now_s() - t0 < 2);
		CHECK(strstr(err, "status 2") != NULL);
	}

	/* lots of output: no dead-lock on a full pipe, err stays bounded */
	{
		const char *argv[] = {"/bin/sh", "-c",
				      "head -c 1000000 /dev/zero | tr '\\0' x; exit 1", NULL};
		CHECK_EQ(backend_run((char *const *)argv, 10, err, sizeof(err)), DS_ECHILD);
		CHECK(strstr(err, "status 1: xxxx") != NULL);
		CHECK(strlen(err) < 300);
	}

	/* our descriptors do not leak into the child */
	{
		int fd = open("/dev/null", O_RDONLY);
		int high = dup2(fd, 57);
		snprintf(script, sizeof(script), "[ -e /proc/self/fd/%d ] && exit 5; exit 6", high);
		const char *argv[] = {"/bin/sh", "-c", script, NULL};
		CHECK_EQ(backend_run((char *const *)argv, 5, err, sizeof(err)), DS_ECHILD);
		CHECK(strstr(err, "status 6") != NULL);
		close(high);
		close(fd);
	}
}

static void test_run(void)
{
	run_check_cases();
	run_check_args();
	run_check_timeouts();
	run_check_pipes();
}

/* ------------------------------------------------------------------------ */
/* zonefile                                                                 */

struct fake_rr {
	uint8_t child[DNAME_MAX];
	struct drr rr;
};

struct fake_zone {
	struct fake_rr rr[16];
	size_t n;
	int fail; /* non-zero: the walk fails with this */
};

static int fake_walk(void *ctx, backend_rr_cb cb, void *arg)
{
	struct fake_zone *z = ctx;
	if (z->fail)
		return z->fail;
	for (size_t i = 0; i < z->n; i++) {
		int rc = cb(arg, z->rr[i].child, &z->rr[i].rr);
		if (rc != 0)
			return rc;
	}
	return 0;
}

/* Append a label (raw bytes) in front of a presentation-format parent. */
static void wire_name(uint8_t out[DNAME_MAX], const char *label, size_t llen, const char *parent)
{
	uint8_t p[DNAME_MAX];
	int n = dname_from_str(parent, p);
	if (n < 0 || llen + 1 + (size_t)n > DNAME_MAX)
		abort();
	out[0] = (uint8_t)llen;
	memcpy(out + 1, label, llen);
	memcpy(out + 1 + llen, p, (size_t)n);
}

static void add_rr(struct fake_zone *z, const uint8_t *child, const uint8_t *owner, uint16_t type,
		   const uint8_t *rdata, size_t rdlen)
{
	struct fake_rr *f = &z->rr[z->n++];
	memset(f, 0, sizeof(*f));
	memcpy(f->child, child, dname_len(child));
	memcpy(f->rr.owner, owner, dname_len(owner));
	f->rr.type = type;
	f->rr.ttl = 3600;
	f->rr.rdlen = (uint16_t)rdlen;
	memcpy(f->rr.rdata, rdata, rdlen);
}

/* The hostile label: every character a zone file gives a meaning to. */
static const char hostile[] = "h$@\"; x(\\)\n.evil 0 IN NS attacker.";

static void build_zone(struct fake_zone *z)
{
	uint8_t ok[DNAME_MAX], ns1[DNAME_MAX], other[DNAME_MAX], bad[DNAME_MAX], badns[DNAME_MAX];
	uint8_t a[4] = {192, 0, 2, 1}, a2[4] = {192, 0, 2, 66};
	uint8_t aaaa[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
	uint8_t ds[4 + 32] = {0x30, 0x39, 13, 2};

	for (int i = 0; i < 32; i++)
		ds[4 + i] = (uint8_t)(i * 7 + 1);
	memset(z, 0, sizeof(*z));
	dname_from_str("ok.example.", ok);
	dname_from_str("ns1.ok.example.", ns1);
	dname_from_str("ns.other.net.", other);
	wire_name(bad, hostile, sizeof(hostile) - 1, "example.");
	wire_name(badns, "ns", 2, "example.");
	/* badns = "ns." + bad */
	badns[0] = 2;
	memcpy(badns + 1, "ns", 2);
	memcpy(badns + 3, bad, dname_len(bad));

	add_rr(z, ok, ok, T_NS, ns1, dname_len(ns1));
	add_rr(z, ok, ok, T_NS, other, dname_len(other));
	add_rr(z, ok, ok, T_DS, ds, sizeof(ds));
	add_rr(z, ok, ns1, T_A, a, sizeof(a));
	add_rr(z, ok, ns1, T_AAAA, aaaa, sizeof(aaaa));
	add_rr(z, bad, bad, T_NS, badns, dname_len(badns));
	add_rr(z, bad, bad, T_DS, ds, sizeof(ds));
	add_rr(z, bad, badns, T_A, a2, sizeof(a2));
}

/* What zonefile_read gives back, to compare with what we wrote. */
struct readback {
	const struct fake_zone *z;
	size_t n, matched;
};

static int readback_cb(void *arg, const uint8_t *owner, uint16_t type, uint16_t rclass,
		       uint32_t ttl, const uint8_t *rdata, size_t rdlen)
{
	struct readback *r = arg;
	r->n++;
	for (size_t i = 0; i < r->z->n; i++) {
		const struct drr *d = &r->z->rr[i].rr;
		/* byte-exact owner and RDATA: the escaping round-trips */
		if (d->type == type && rclass == CLASS_IN && d->ttl == ttl &&
		    dname_len(d->owner) == dname_len(owner) &&
		    memcmp(d->owner, owner, dname_len(owner)) == 0 && d->rdlen == rdlen &&
		    memcmp(d->rdata, rdata, rdlen) == 0) {
			r->matched++;
			break;
		}
	}
	return 0;
}

static const char apex[] = "$ORIGIN example.\n"
			   "$TTL 3600\n"
			   "@ SOA ns.example. hostmaster.example. 1 3600 900 604800 300\n"
			   "@ NS ns.example.\n"
			   "ns A 192.0.2.53\n";

/*
 * Check a zone file with a real zone parser: kzonecheck if present, else
 * named-checkzone, else ldns-read-zone.  Returns -1 when none is installed.
 */
static int zone_check(const char *file)
{
	char cmd[1024];
	if (system("command -v kzonecheck >/dev/null 2>&1") == 0)
		snprintf(cmd, sizeof(cmd), "kzonecheck -o example. '%s' >&2", file);
	else if (system("command -v named-checkzone >/dev/null 2>&1") == 0)
		snprintf(cmd, sizeof(cmd), "named-checkzone -q example. '%s'", file);
	else if (system("command -v ldns-read-zone >/dev/null 2>&1") == 0)
		snprintf(cmd, sizeof(cmd), "ldns-read-zone -o example. '%s' >/dev/null", file);
	else
		return -1;
	int st = system(cmd);
	if (st != 0)
		fprintf(stderr, "zone check failed: %s\n", cmd);
	return st;
}

static void stat_of(const char *path, struct stat *st)
{
	memset(st, 0, sizeof(*st));
	stat(path, st);
}

static bool same_file(const struct stat *a, const struct stat *b)
{
	return a->st_ino == b->st_ino && a->st_mtim.tv_sec == b->st_mtim.tv_sec &&
	       a->st_mtim.tv_nsec == b->st_mtim.tv_nsec;
}

static void test_zonefile_init(void)
{
	struct backend *b = NULL;
	char err[512];
	struct {
		const char *what, *path, *tmpl_text;
		int rc;
		const char *in_err;
	} cases[] = {
	    {"no path", NULL, NULL, DS_ECONFIG, "needs a path"},
	    {"empty path", "", NULL, DS_ECONFIG, "needs a path"},
	    {"directory missing", "/nonexistent-dsync/x.zone", NULL, DS_ECONFIG, "does not exist"},
	    {"template missing", "out.zone", "", DS_ECONFIG, "template"},
	    {"template without placeholder", "out.zone", "@ SOA . . 1 2 3 4 5\n", DS_ECONFIG,
	     "found 0"},
	    {"template with two", "out.zone", "{{DELEGATIONS}}\n{{DELEGATIONS}}\n", DS_ECONFIG,
	     "found 2"},
	    {"placeholder not alone", "out.zone", "; {{DELEGATIONS}}\n", DS_ECONFIG,
	     "alone on its line"},
	    {"good template", "out.zone", "x\n  {{DELEGATIONS}}\t\r\ny {{SERIAL}}\n", DS_OK, NULL},
	    {"good fragment", "out.zone", NULL, DS_OK, NULL},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char path[512], tp[512];
		struct zonefile_settings zs = {.reload_timeout = 30};
		struct cfg_backend bc = {
		    .type = "zonefile", .where = "test.conf:7", .settings = &zs};
		if (cases[i].path != NULL && cases[i].path[0] != '\0' && cases[i].path[0] != '/')
			snprintf(path, sizeof(path), "%s/%s", tmpdir, cases[i].path);
		else
			snprintf(path, sizeof(path), "%s", cases[i].path ? cases[i].path : "");
		zs.path = cases[i].path ? path : NULL;
		if (cases[i].tmpl_text != NULL) {
			snprintf(tp, sizeof(tp), "%s/init.tmpl", tmpdir);
			unlink(tp);
			if (cases[i].tmpl_text[0] != '\0')
				spit(tp, cases[i].tmpl_text);
			zs.template_path = tp;
		}
		err[0] = '\0';
		int rc = backend_new(&bc, NULL, &b, err, sizeof(err));
		if (rc != cases[i].rc)
			fprintf(stderr, "init case \"%s\": rc %d err \"%s\"\n", cases[i].what, rc,
				err);
		CHECK_EQ(rc, cases[i].rc);
		if (cases[i].in_err != NULL) {
			CHECK(strstr(err, cases[i].in_err) != NULL);
			CHECK(strstr(err, "test.conf:7") != NULL);
		}
		CHECK((rc == DS_OK) == (b != NULL));
		backend_free(b);
		b = NULL;
	}
	unlink(tpath("init.tmpl"));
}

/* Temporary files left by a killed writer are removed when the backend
 * starts; other files whose names look alike stay. */
static void test_zonefile_stale_temp(void)
{
	char err[512], *out = strdup(tpath("stale.zone"));
	const char *stale[] = {"stale.zone.a1B2c3", "stale.zone.serial.ZZ99zz"};
	/* the serial sidecar has the shape of a temporary file but is kept */
	const char *keep[] = {"stale.zone.keep", "stale.zone.a1B2c3d", "stale.zone.ab-def",
			      "other.zone.a1B2c3", "stale.zone.serial"};
	struct zonefile_settings zs = {.path = out, .reload_timeout = 30};
	struct cfg_backend bc = {.type = "zonefile", .settings = &zs};
	struct backend *b = NULL;
	for (size_t i = 0; i < 2; i++)
		fclose(fopen(tpath(stale[i]), "w"));
	for (size_t i = 0; i < 5; i++)
		fclose(fopen(tpath(keep[i]), "w"));
	CHECK_EQ(backend_new(&bc, NULL, &b, err, sizeof(err)), DS_OK);
	for (size_t i = 0; i < 2; i++)
		CHECK(!exists(tpath(stale[i])));
	for (size_t i = 0; i < 5; i++) {
		CHECK(exists(tpath(keep[i])));
		unlink(tpath(keep[i]));
	}
	backend_free(b);
	free(out);
}

/* The fragment written for z: header, records, the hostile owner escaped. */
/* z built for zone example., and a backend made of bc (NULL when it cannot be). */
static struct backend *zone_backend(const struct cfg_backend *bc, struct fake_zone *z,
				    uint8_t *zone)
{
	struct backend *b = NULL;
	char err[512];
	dname_from_str("example.", zone);
	build_zone(z);
	CHECK_EQ(backend_new(bc, NULL, &b, err, sizeof(err)), DS_OK);
	return b;
}

static void fragment_check_text(const char *text, const struct fake_zone *z)
{
	char expect[2 * DNAME_STR_MAX + 64], name[DNAME_STR_MAX];

	CHECK(strncmp(text,
		      "; generated by dsyncd for zone example. -- do not edit; $INCLUDE this "
		      "file from the zone\n",
		      88) == 0);
	CHECK(strstr(text, "\n; child ok.example.\n") != NULL);
	CHECK(strstr(text, "\nok.example. 3600 IN NS ns1.ok.example.\n") != NULL);
	CHECK(strstr(text, "\nns1.ok.example. 3600 IN A 192.0.2.1\n") != NULL);
	CHECK(strstr(text, "\nns1.ok.example. 3600 IN AAAA 2001:db8::1\n") != NULL);
	CHECK(strstr(text, "\nok.example. 3600 IN DS 12345 13 2 ") != NULL);
	/* the hostile owner, escaped; a line of its own */
	dname_to_str(z->rr[5].rr.owner, name, sizeof(name));
	CHECK(strchr(name, '\n') == NULL);
	CHECK(strstr(name, "h\\$\\@\\\"\\;") != NULL);
	snprintf(expect, sizeof(expect), "\n%s 3600 IN NS ns.%s\n", name, name);
	CHECK(strstr(text, expect) != NULL);
	snprintf(expect, sizeof(expect), "\n; child %s\n", name);
	CHECK(strstr(text, expect) != NULL);
	/* the injection attempt inside the label did not become a record */
	CHECK(strstr(text, "\n.evil") == NULL && strstr(text, "\nevil") == NULL);
}

/* The fragment at out read back by a real parser, and $INCLUDEd by a zone checked. */
static void fragment_check_parsed(const char *out, const uint8_t *zone, struct fake_zone *z)
{
	/* read back with a real parser: every record exactly as given */
	{
		struct readback r = {.z = z};
		char why[512] = "";
		int rc = zonefile_read(out, zone, 0, readback_cb, &r, why, sizeof(why));
		if (rc != DS_OK)
			fprintf(stderr, "zonefile_read: %s\n", why);
		CHECK_EQ(rc, DS_OK);
		CHECK_EQ(r.n, z->n);
		CHECK_EQ(r.matched, z->n);
	}
	/* a zone that $INCLUDEs the fragment passes a zone checker */
	{
		char zf[4096];
		snprintf(zf, sizeof(zf), "%s$INCLUDE %s\n", apex, out);
		spit(tpath("example.zone"), zf);
		int rc = zone_check(tpath("example.zone"));
		if (rc < 0)
			printf("test_backends: no kzonecheck/named-checkzone/ldns-read-zone, "
			       "zone check skipped\n");
		else
			CHECK_EQ(rc, 0);
	}
}

/* Deliveries after the first: same data, changed data, a failing walk. */
static void fragment_check_changes(struct backend *b, const struct backend_batch *batch,
				   struct fake_zone *z, const char *out, const char *marker,
				   struct stat *st1)
{
	char err[512], *text;
	struct stat st2;

	/* the same data again: no rewrite, no reload */
	unlink(marker);
	CHECK_EQ(backend_deliver(b, batch, err, sizeof(err)), DS_OK);
	stat_of(out, &st2);
	CHECK(same_file(st1, &st2));
	CHECK(!exists(marker));

	/* changed data: rewritten and reloaded */
	z->n--; /* drop the hostile glue */
	CHECK_EQ(backend_deliver(b, batch, err, sizeof(err)), DS_OK);
	stat_of(out, &st2);
	CHECK(st1->st_ino != st2.st_ino);
	CHECK(exists(marker));
	text = slurp(out);
	CHECK(text != NULL && strstr(text, " IN A 192.0.2.66") == NULL);
	free(text);

	/* a failing walk changes nothing */
	unlink(marker);
	stat_of(out, st1);
	z->fail = DS_ESTORE;
	CHECK_EQ(backend_deliver(b, batch, err, sizeof(err)), DS_ESTORE);
	CHECK(err[0] != '\0');
	z->fail = 0;
	stat_of(out, &st2);
	CHECK(same_file(st1, &st2));
	CHECK(!exists(marker));
}

static void test_zonefile_fragment(void)
{
	struct fake_zone z;
	uint8_t zone[DNAME_MAX];
	char err[512], *text;
	char *marker = strdup(tpath("reloaded"));
	char *out = strdup(tpath("deleg.zone"));
	const char *reload[] = {"/usr/bin/touch", marker, NULL};
	struct zonefile_settings zs = {.path = out, .reload = (char **)reload, .reload_timeout = 5};
	struct cfg_backend bc = {.type = "zonefile", .settings = &zs};
	struct backend_batch batch = {.zone = zone, .foreach_rr = fake_walk, .ctx = &z};
	struct backend *b = NULL;
	struct stat st1, st2;

	b = zone_backend(&bc, &z, zone);
	if (b == NULL)
		goto done;
	CHECK_EQ(backend_deliver(b, &batch, err, sizeof(err)), DS_OK);
	CHECK(exists(marker));
	stat_of(out, &st1);
	CHECK_EQ(st1.st_mode & 07777, 0644);
	text = slurp(out);
	CHECK(text != NULL);
	if (text == NULL)
		goto done;
	fragment_check_text(text, &z);

	fragment_check_parsed(out, zone, &z);
	free(text);

	fragment_check_changes(b, &batch, &z, out, marker, &st1);

	/* the same file from a fresh instance: not rewritten, reloaded once (state unknown) */
	backend_free(b);
	b = NULL;
	CHECK_EQ(backend_new(&bc, NULL, &b, err, sizeof(err)), DS_OK);
	CHECK_EQ(backend_deliver(b, &batch, err, sizeof(err)), DS_OK);
	stat_of(out, &st2);
	CHECK(same_file(&st1, &st2));
	CHECK(exists(marker));
	unlink(marker);
	CHECK_EQ(backend_deliver(b, &batch, err, sizeof(err)), DS_OK);
	CHECK(!exists(marker));

	{
		const char *const allowed[] = {"deleg.zone", NULL};
		CHECK_EQ(stray_files("deleg.zone", allowed), 0);
	}
done:
	backend_free(b);
	unlink(out);
	unlink(tpath("example.zone"));
	free(out);
	free(marker);
}

static void test_zonefile_reload_failure(void)
{
	struct fake_zone z;
	uint8_t zone[DNAME_MAX];
	char err[512], script[1024];
	char *out = strdup(tpath("r.zone")), *flag = strdup(tpath("r.broken")),
	     *mark = strdup(tpath("r.done"));
	const char *reload[] = {"/bin/sh", "-c", script, NULL};
	struct zonefile_settings zs = {.path = out, .reload = (char **)reload, .reload_timeout = 5};
	struct cfg_backend bc = {.type = "zonefile", .settings = &zs};
	struct backend_batch batch = {.zone = zone, .foreach_rr = fake_walk, .ctx = &z};
	struct backend *b = NULL;
	struct stat st1, st2;

	snprintf(script, sizeof(script),
		 "if [ -e '%s' ]; then echo 'zone load failed'; exit 1; fi; touch '%s'", flag,
		 mark);
	b = zone_backend(&bc, &z, zone);
	if (b == NULL)
		goto done;

	spit(flag, "");
	CHECK_EQ(backend_deliver(b, &batch, err, sizeof(err)), DS_ECHILD);
	CHECK(strncmp(err, "reload command /bin/sh exited with status 1: zone load failed", 61) ==
	      0);
	CHECK(exists(out)); /* written, only the reload failed */
	CHECK(!exists(mark));
	CHECK_EQ(backend_delivered(b), 0);
	stat_of(out, &st1);

	/* retry with the same data: no rewrite, but the reload is tried again */
	CHECK_EQ(backend_deliver(b, &batch, err, sizeof(err)), DS_ECHILD);
	unlink(flag);
	CHECK_EQ(backend_deliver(b, &batch, err, sizeof(err)), DS_OK);
	CHECK(exists(mark));
	stat_of(out, &st2);
	CHECK(same_file(&st1, &st2));
	CHECK_EQ(backend_delivered(b), 1);

	/* reloaded now: an identical delivery does nothing */
	unlink(mark);
	CHECK_EQ(backend_deliver(b, &batch, err, sizeof(err)), DS_OK);
	CHECK(!exists(mark));

	/* reload command that does not exist */
	backend_free(b);
	b = NULL;
	const char *missing[] = {"/nonexistent/knotc", "zone-reload", NULL};
	zs.reload = (char **)missing;
	CHECK_EQ(backend_new(&bc, NULL, &b, err, sizeof(err)), DS_OK);
	CHECK_EQ(backend_deliver(b, &batch, err, sizeof(err)), DS_ECHILD);
	CHECK(strstr(err, "reload command /nonexistent/knotc: not found") != NULL);
done:
	backend_free(b);
	unlink(out);
	unlink(mark);
	unlink(flag);
	free(out);
	free(flag);
	free(mark);
}

static uint32_t serial_in(const char *text)
{
	const char *p = strstr(text, "hostmaster.example. ");
	return p != NULL ? (uint32_t)strtoul(p + 20, NULL, 10) : 0;
}

/* The first full zone from the template: its serial (0 when unreadable). */
static uint32_t template_check_first(const char *out, const char *sp, uint32_t now)
{
	char *text, *side;
	uint32_t s1;

	text = slurp(out);
	side = slurp(sp);
	CHECK(text != NULL && side != NULL);
	if (text == NULL || side == NULL)
		return 0;
	s1 = serial_in(text);
	CHECK(s1 >= now && s1 <= now + 5);
	CHECK_EQ(strtoul(side, NULL, 10), s1);
	CHECK(strstr(text, "{{") == NULL);
	{
		char again[64];
		snprintf(again, sizeof(again), "\n; %u again\n", s1);
		CHECK(strstr(text, again) != NULL);
	}
	CHECK(strstr(text, "\nok.example. 3600 IN NS ns1.ok.example.\n") != NULL);
	CHECK(strstr(text, "; generated by dsyncd for zone example. -- do not edit") == NULL);
	free(text);
	free(side);
	{
		int rc = zone_check(out);
		if (rc >= 0)
			CHECK_EQ(rc, 0);
	}
	return s1;
}

/* Changes raise the serial; an operator's serial is continued, a broken one refused. */
static void template_check_serials(struct backend *b, const struct backend_batch *batch,
				   struct fake_zone *z, const char *out, const char *sp,
				   uint32_t s1)
{
	char err[512], *text, *side;
	uint32_t s2, s3;

	/* change: serial goes up even within the same second */
	z->n--;
	CHECK_EQ(backend_deliver(b, batch, err, sizeof(err)), DS_OK);
	text = slurp(out);
	s2 = text ? serial_in(text) : 0;
	CHECK(s2 > s1);
	free(text);
	z->n--;
	CHECK_EQ(backend_deliver(b, batch, err, sizeof(err)), DS_OK);
	text = slurp(out);
	s3 = text ? serial_in(text) : 0;
	CHECK(s3 > s2);
	free(text);

	/* a date-style serial seeded by the operator is continued, not replaced */
	spit(sp, "2999123199\n");
	z->n--;
	CHECK_EQ(backend_deliver(b, batch, err, sizeof(err)), DS_OK);
	text = slurp(out);
	CHECK(text != NULL && serial_in(text) == 2999123200u);
	free(text);
	side = slurp(sp);
	CHECK(side != NULL && strcmp(side, "2999123200\n") == 0);
	free(side);

	/* a broken sidecar is an error, not a reset */
	spit(sp, "banana\n");
	z->n--;
	CHECK_EQ(backend_deliver(b, batch, err, sizeof(err)), DS_EPARSE);
	CHECK(strstr(err, "serial") != NULL);
	spit(sp, "2999123200\n");
}

static void test_zonefile_template(void)
{
	struct fake_zone z;
	uint8_t zone[DNAME_MAX];
	char err[512], *text;
	char *out = strdup(tpath("full.zone")), *tp = strdup(tpath("full.tmpl")),
	     *sp = strdup(tpath("full.zone.serial"));
	struct zonefile_settings zs = {.path = out, .template_path = tp, .reload_timeout = 30};
	struct cfg_backend bc = {.type = "zonefile", .settings = &zs};
	struct backend_batch batch = {.zone = zone, .foreach_rr = fake_walk, .ctx = &z};
	struct backend *b = NULL;
	struct stat st1, st2;
	uint32_t s1, now = (uint32_t)time(NULL);

	spit(tp, "$ORIGIN example.\n"
		 "$TTL 3600\n"
		 "@ SOA ns.example. hostmaster.example. {{SERIAL}} 3600 900 604800 300\n"
		 "@ NS ns.example.\n"
		 "ns A 192.0.2.53\n"
		 "{{DELEGATIONS}}\n"
		 "; {{SERIAL}} again\n");
	b = zone_backend(&bc, &z, zone);
	if (b == NULL)
		goto done;
	CHECK_EQ(backend_deliver(b, &batch, err, sizeof(err)), DS_OK);
	s1 = template_check_first(out, sp, now);
	if (s1 == 0)
		goto done;

	/* same data: nothing rewritten, serial kept */
	stat_of(out, &st1);
	CHECK_EQ(backend_deliver(b, &batch, err, sizeof(err)), DS_OK);
	stat_of(out, &st2);
	CHECK(same_file(&st1, &st2));

	template_check_serials(b, &batch, &z, out, sp, s1);

	/* the template is read per delivery: a broken edit is reported */
	spit(tp, "no placeholder\n");
	CHECK_EQ(backend_deliver(b, &batch, err, sizeof(err)), DS_ECONFIG);
	CHECK(strstr(err, "found 0") != NULL);

	/* without {{SERIAL}} no sidecar is kept */
	unlink(sp);
	spit(tp, "{{DELEGATIONS}}\n");
	CHECK_EQ(backend_deliver(b, &batch, err, sizeof(err)), DS_OK);
	CHECK(!exists(sp));
	text = slurp(out);
	CHECK(text != NULL && strncmp(text, "; delegations generated by dsyncd", 33) == 0);
	free(text);

	{
		const char *const allowed[] = {"full.zone", "full.zone.serial", NULL};
		CHECK_EQ(stray_files("full.zone", allowed), 0);
	}
done:
	backend_free(b);
	unlink(out);
	unlink(tp);
	unlink(sp);
	free(out);
	free(tp);
	free(sp);
}

/* ------------------------------------------------------------------------ */
/* run_program (common/run.c): what backend_run does not use                 */

#include "common/run.h"

/* run_program: input, separate stdout and stderr, environment, capture cap */
static void test_run_program(void)
{
	struct run_result r;

	/* input on stdin, stdout and stderr apart, the environment added to */
	{
		char *argv[] = {"sh", "-c", "cat; printf %s \"$DSYNC_T\" >&2", NULL};
		char *env[] = {"DSYNC_T=v1", NULL};
		struct run_spec sp = {.argv = argv,
				      .env = env,
				      .input = "in-text\n",
				      .input_len = 8,
				      .timeout_ms = 5000,
				      .capture_max = 64};
		CHECK_EQ(run_program(&sp, &r), DS_OK);
		CHECK_EQ(r.end, RUN_EXITED);
		CHECK_EQ(r.status, 0);
		CHECK_EQ(strcmp(r.error, ""), 0);
		CHECK(r.out != NULL && strcmp(r.out, "in-text\n") == 0);
		CHECK(r.err != NULL && strcmp(r.err, "v1") == 0);
		run_result_free(&r);
	}
	/* an added variable replaces the daemon's; argv[0] is still found in the daemon's PATH */
	{
		char *argv[] = {"sh", "-c", "printf %s \"$PATH\"", NULL};
		char *env[] = {"PATH=/nonexistent-dsync", NULL};
		struct run_spec sp = {.argv = argv, .env = env, .capture_max = 64};
		CHECK_EQ(run_program(&sp, &r), DS_OK);
		CHECK(r.out != NULL && strcmp(r.out, "/nonexistent-dsync") == 0);
		run_result_free(&r);
	}
	/* a failure's text ends with stderr only; the capture is capped */
	{
		char *argv[] = {"/bin/sh", "-c", "printf 0123456789abc; printf e-text >&2; exit 3",
				NULL};
		struct run_spec sp = {.argv = argv, .capture_max = 10};
		CHECK_EQ(run_program(&sp, &r), DS_ECHILD);
		CHECK_EQ(r.end, RUN_EXITED);
		CHECK_EQ(r.status, 3);
		CHECK(strstr(r.error, "exited with status 3: e-text") != NULL);
		CHECK(strstr(r.error, "0123") == NULL);
		CHECK_EQ(r.out_len, 10);
		CHECK(r.out != NULL && strcmp(r.out, "0123456789") == 0);
		run_result_free(&r);
	}
}

/* run_program: how a run ends (input unread, timeout in ms, signal, not found) */
static void test_run_program_ends(void)
{
	struct run_result r;
	static char big[1 << 20];
	memset(big, 'x', sizeof(big));

	/* a program that reads none of a large input: no SIGPIPE reaches us */
	{
		char *argv[] = {"/bin/true", NULL};
		struct run_spec sp = {.argv = argv, .input = big, .input_len = sizeof(big)};
		CHECK_EQ(run_program(&sp, &r), DS_OK);
		run_result_free(&r);
	}
	/* a timeout in milliseconds, a signal, a missing program */
	{
		char *argv[] = {"/bin/sleep", "5", NULL};
		struct run_spec sp = {.argv = argv, .timeout_ms = 300};
		double t0 = now_s();
		CHECK_EQ(run_program(&sp, &r), DS_ECHILD);
		CHECK(now_s() - t0 < 2);
		CHECK_EQ(r.end, RUN_TIMED_OUT);
		CHECK(strstr(r.error, "timed out after 300 ms") != NULL);
		run_result_free(&r);
	}
	{
		char *argv[] = {"/bin/sh", "-c", "kill -TERM $$", NULL};
		struct run_spec sp = {.argv = argv};
		CHECK_EQ(run_program(&sp, &r), DS_ECHILD);
		CHECK_EQ(r.end, RUN_SIGNALED);
		CHECK_EQ(r.status, 15);
		run_result_free(&r);
	}
	{
		char *argv[] = {"dsync-no-such-program", NULL};
		struct run_spec sp = {.argv = argv};
		CHECK_EQ(run_program(&sp, &r), DS_ECHILD);
		CHECK_EQ(r.end, RUN_FAILED);
		CHECK(strstr(r.error, "not found") != NULL);
		run_result_free(&r);
	}
}

/* ------------------------------------------------------------------------ */
/* exec                                                                     */

/* An exec backend named name running argv (timeout 5 s, 4096 bytes kept). */
static struct backend *exec_backend(struct exec_settings *set, char **argv, char **env,
				    const char *name)
{
	struct cfg_backend bc = {.type = "exec", .name = (char *)name, .settings = set};
	struct backend *b = NULL;
	char err[512];
	*set = (struct exec_settings){
	    .command = argv, .timeout = 5, .environment = env, .max_output = 4096};
	CHECK_EQ(backend_new(&bc, NULL, &b, err, sizeof(err)), DS_OK);
	return b;
}

/* The string at array[i] of obj's member key, or "" */
static const char *jstr_at(json_t *obj, const char *key, size_t i)
{
	const char *s = json_string_value(json_array_get(json_object_get(obj, key), i));
	return s != NULL ? s : "";
}

static size_t jlen(json_t *obj, const char *key)
{
	return json_array_size(json_object_get(obj, key));
}

/* The change of ok.example.: its lines split, its complete NS/DS/glue sets. */
static void exec_check_ok_child(json_t *c)
{
	CHECK(strcmp(json_string_value(json_object_get(c, "child")), "ok.example.") == 0);
	CHECK_EQ(jlen(c, "add"), 2);
	CHECK(strcmp(jstr_at(c, "add", 0), "ok.example. 3600 IN NS ns1.ok.example.") == 0);
	CHECK(strncmp(jstr_at(c, "add", 1), "ok.example. 3600 IN DS 12345 13 2 01080F", 40) == 0);
	CHECK_EQ(jlen(c, "remove"), 1);
	CHECK(strcmp(jstr_at(c, "remove", 0), "ok.example. 3600 IN NS ns.old.net.") == 0);
	CHECK(json_object_get(c, "truncated") == NULL);
	CHECK_EQ(jlen(c, "ns"), 2);
	CHECK(strcmp(jstr_at(c, "ns", 1), "ok.example. 3600 IN NS ns.other.net.") == 0);
	CHECK_EQ(jlen(c, "ds"), 1);
	CHECK(strncmp(jstr_at(c, "ds", 0), "ok.example. 3600 IN DS 12345 13 2 ", 34) == 0);
	CHECK_EQ(jlen(c, "glue"), 2);
	CHECK(strcmp(jstr_at(c, "glue", 0), "ns1.ok.example. 3600 IN A 192.0.2.1") == 0);
	CHECK(strcmp(jstr_at(c, "glue", 1), "ns1.ok.example. 3600 IN AAAA 2001:db8::1") == 0);
}

/* The document on the program's stdin: version, zone, backend, one entry per change. */
static void test_exec_document(void)
{
	struct exec_settings set;
	struct fake_zone z;
	uint8_t zone[DNAME_MAX], ok[DNAME_MAX], bad[DNAME_MAX];
	char script[600];
	snprintf(script, sizeof(script), "cat > %s", tpath("exec-doc.json"));
	char *argv[] = {"/bin/sh", "-c", script, NULL};
	struct backend *b = exec_backend(&set, argv, NULL, "epp");
	if (b == NULL)
		return;
	dname_from_str("example.", zone);
	dname_from_str("ok.example.", ok);
	build_zone(&z);
	memcpy(bad, z.rr[5].child, dname_len(z.rr[5].child));
	struct backend_change ch[2] = {{ok, "+ ok.example. 3600 IN NS ns1.ok.example.\n"
					    "+ ok.example. 3600 IN DS 12345 13 2 01080F\n"
					    "- ok.example. 3600 IN NS ns.old.net.\n"},
				       {bad, "+ x. 1 IN NS y.\n...\n"}};
	struct backend_batch batch = {
	    .zone = zone, .changes = ch, .nchanges = 2, .foreach_rr = fake_walk, .ctx = &z};
	char err[1400];
	CHECK_EQ(backend_deliver(b, &batch, err, sizeof(err)), DS_OK);
	json_error_t je;
	json_t *doc = json_load_file(tpath("exec-doc.json"), 0, &je);
	CHECK(doc != NULL);
	CHECK_EQ(json_integer_value(json_object_get(doc, "version")), 1);
	CHECK(strcmp(json_string_value(json_object_get(doc, "zone")), "example.") == 0);
	CHECK(strcmp(json_string_value(json_object_get(doc, "backend")), "epp") == 0);
	CHECK_EQ(jlen(doc, "changes"), 2);
	exec_check_ok_child(json_array_get(json_object_get(doc, "changes"), 0));
	/* the hostile child: escaped, its summary cut short, its own records only */
	json_t *c = json_array_get(json_object_get(doc, "changes"), 1);
	const char *child = json_string_value(json_object_get(c, "child"));
	CHECK(child != NULL && strchr(child, '\n') == NULL && strstr(child, "\\\"") != NULL);
	CHECK(json_is_true(json_object_get(c, "truncated")));
	CHECK_EQ(jlen(c, "add"), 1);
	CHECK_EQ(jlen(c, "remove"), 0);
	CHECK_EQ(jlen(c, "ns") * 100 + jlen(c, "ds") * 10 + jlen(c, "glue"), 111);
	json_decref(doc);
	/* a failing walk fails the delivery before the program runs */
	z.fail = DS_EIO;
	unlink(tpath("exec-doc.json"));
	CHECK(backend_deliver(b, &batch, err, sizeof(err)) != DS_OK);
	CHECK(strstr(err, "delegation data") != NULL);
	CHECK(!exists(tpath("exec-doc.json")));
	backend_free(b);
}

struct exec_end_case {
	const char *what;
	const char *script; /* run by /bin/sh -c */
	unsigned timeout, max_output;
	int rc;
	const char *in_err, *not_in_err;
};

static const struct exec_end_case exec_end_cases[] = {
    {"exit 0 is delivered", "cat >/dev/null; echo fine", 5, 4096, DS_OK, NULL, NULL},
    {"exit 3 fails with the output", "cat >/dev/null; echo out-text; echo err-text >&2; exit 3", 5,
     4096, DS_ECHILD, "exited with status 3: out-text err-text", NULL},
    {"output capped at max-output", "printf '0123456789abcdef\\001XYZ'; exit 1", 5, 16, DS_ECHILD,
     ": 0123456789abcdef", "XYZ"},
    {"control bytes replaced", "printf 'a\\033[1mb'; exit 1", 5, 4096, DS_ECHILD, ": a?[1mb", NULL},
    {"a timeout kills it", "sleep 10", 1, 4096, DS_ECHILD, "timed out after 1 s", NULL},
    {"a signal", "kill -KILL $$", 5, 4096, DS_ECHILD, "killed by signal 9", NULL},
};

/* How the program ends decides the delivery; its output is the error text. */
static void test_exec_ends(void)
{
	uint8_t zone[DNAME_MAX];
	struct backend_batch batch = {.zone = zone, .foreach_rr = empty_walk};
	char err[1400];

	dname_from_str("example.", zone);
	for (size_t i = 0; i < sizeof(exec_end_cases) / sizeof(exec_end_cases[0]); i++) {
		const struct exec_end_case *c = &exec_end_cases[i];
		struct exec_settings set;
		char *argv[] = {"/bin/sh", "-c", (char *)c->script, NULL};
		struct backend *b = exec_backend(&set, argv, NULL, NULL);
		if (b == NULL)
			continue;
		double t0 = now_s();
		set.timeout = c->timeout;
		set.max_output = c->max_output;
		backend_free(b);
		struct cfg_backend bc = {.type = "exec", .settings = &set};
		CHECK_EQ(backend_new(&bc, NULL, &b, err, sizeof(err)), DS_OK);
		int rc = backend_deliver(b, &batch, err, sizeof(err));
		if (rc != c->rc || (c->in_err && !strstr(err, c->in_err)) ||
		    (c->not_in_err && strstr(err, c->not_in_err)))
			fprintf(stderr, "exec case \"%s\": rc %d, err \"%s\"\n", c->what, rc, err);
		CHECK_EQ(rc, c->rc);
		CHECK(c->in_err == NULL || strstr(err, c->in_err) != NULL);
		CHECK(c->not_in_err == NULL || strstr(err, c->not_in_err) == NULL);
		CHECK(now_s() - t0 < c->timeout + 2);
		backend_free(b);
	}
	/* a program that is not there */
	struct exec_settings set;
	char *argv[] = {"/nonexistent/dsync-epp", NULL};
	struct backend *b = exec_backend(&set, argv, NULL, NULL);
	CHECK(b != NULL && backend_deliver(b, &batch, err, sizeof(err)) == DS_ECHILD);
	CHECK(strstr(err, "/nonexistent/dsync-epp: not found") != NULL);
	backend_free(b);
}

/* The program sees a minimal environment; bad settings are refused. */
static void test_exec_env(void)
{
	struct exec_settings set;
	uint8_t zone[DNAME_MAX];
	struct backend_batch batch = {.zone = zone, .foreach_rr = empty_walk};
	char script[600], err[1400];

	dname_from_str("example.", zone);
	setenv("DSYNC_SECRET", "leak", 1);
	snprintf(script, sizeof(script), "env | grep -v '^PWD=' | sort > %s", tpath("exec-env"));
	char *argv[] = {"/bin/sh", "-c", script, NULL}, *env[] = {"EPP_HOST=epp.example", NULL};
	struct backend *b = exec_backend(&set, argv, env, "registry");
	CHECK(b != NULL && backend_deliver(b, &batch, err, sizeof(err)) == DS_OK);
	char *text = slurp(tpath("exec-env"));
	CHECK(text != NULL && strcmp(text, "DSYNCD_BACKEND=registry\nDSYNCD_ZONE=example.\n"
					   "EPP_HOST=epp.example\nPATH=/usr/bin:/bin\n") == 0);
	free(text);
	unlink(tpath("exec-env"));
	backend_free(b);
	unsetenv("DSYNC_SECRET");

	static const char *const bad_argv0[] = {"./epp.py", "bin/epp"};
	static const char *const bad_env[] = {"NOVALUE", "=x", "1X=y", "A-B=c", "DSYNCD_ZONE=x"};
	struct cfg_backend bc = {.type = "exec", .where = "f:9", .settings = &set};
	set = (struct exec_settings){.timeout = 5};
	CHECK_EQ(backend_new(&bc, NULL, &b, err, sizeof(err)), DS_ECONFIG);
	CHECK(strstr(err, "f:9: exec backend needs a command") != NULL);
	for (size_t i = 0; i < 2; i++) {
		char *a[] = {(char *)bad_argv0[i], NULL};
		set.command = a;
		CHECK_EQ(backend_new(&bc, NULL, &b, err, sizeof(err)), DS_ECONFIG);
	}
	set.command = argv;
	for (size_t i = 0; i < sizeof(bad_env) / sizeof(bad_env[0]); i++) {
		char *e[] = {(char *)bad_env[i], NULL};
		set.environment = e;
		CHECK_EQ(backend_new(&bc, NULL, &b, err, sizeof(err)), DS_ECONFIG);
		CHECK(strstr(err, "NAME=value") != NULL);
	}
}

/* ------------------------------------------------------------------------ */
/* powerdns                                                                 */

/* child_deleg over a fake zone: the records of one child. */
static int fake_child_deleg(void *ctx, const uint8_t *child, struct deleg *out)
{
	struct fake_zone *z = ctx;
	out->n = 0;
	if (z->fail)
		return z->fail;
	for (size_t i = 0; i < z->n; i++)
		if (dname_equal(z->rr[i].child, child))
			out->rr[out->n++] = z->rr[i].rr;
	return DS_OK;
}

/* The PATCH document for the good child of the fake zone: NS, DS, glue. */
static const char pdns_ok_doc[] =
    "{\"rrsets\":["
    "{\"name\":\"ok.example.\",\"type\":\"NS\",\"ttl\":3600,\"changetype\":\"REPLACE\","
    "\"records\":[{\"content\":\"ns1.ok.example.\",\"disabled\":false},"
    "{\"content\":\"ns.other.net.\",\"disabled\":false}]},"
    "{\"name\":\"ok.example.\",\"type\":\"DS\",\"ttl\":3600,\"changetype\":\"REPLACE\","
    "\"records\":[{\"content\":\"12345 13 2 "
    "01080F161D242B323940474E555C636A71787F868D949BA2A9B0B7BEC5CCD3DA\",\"disabled\":false}]},"
    "{\"name\":\"ns2.ok.example.\",\"type\":\"A\",\"changetype\":\"DELETE\"},"
    "{\"name\":\"ns2.ok.example.\",\"type\":\"AAAA\",\"changetype\":\"DELETE\"},"
    "{\"name\":\"ns1.ok.example.\",\"type\":\"A\",\"ttl\":3600,\"changetype\":\"REPLACE\","
    "\"records\":[{\"content\":\"192.0.2.1\",\"disabled\":false}]},"
    "{\"name\":\"ns1.ok.example.\",\"type\":\"AAAA\",\"ttl\":3600,\"changetype\":\"REPLACE\","
    "\"records\":[{\"content\":\"2001:db8::1\",\"disabled\":false}]}"
    "]}";

/*
 * The document: per child its NS and DS, the A/AAAA of every glue name it
 * has or had (a name only the changes mention is deleted), each child once;
 * a child without records is deleted; a failing read fails it.
 */
static void test_powerdns_document(void)
{
	struct fake_zone z;
	uint8_t zone[DNAME_MAX], ok[DNAME_MAX], gone[DNAME_MAX];
	char *text = NULL, err[600];
	size_t n = 0;
	build_zone(&z);
	dname_from_str("example.", zone);
	dname_from_str("ok.example.", ok);
	dname_from_str("gone.example.", gone);
	struct backend_change ch[3] = {
	    {ok,
	     "- ns2.ok.example. 3600 IN A 192.0.2.9\n+ ok.example. 3600 IN NS ns1.ok.example.\n"},
	    {ok, "- ns.elsewhere.net. 3600 IN A 192.0.2.8\n"},
	    {gone, "- gone.example. 3600 IN NS ns.gone.net.\n"}};
	struct backend_batch b = {
	    .zone = zone, .changes = ch, .nchanges = 2, .child_deleg = fake_child_deleg, .ctx = &z};
	CHECK_EQ(powerdns_document(&b, &text, &n, err, sizeof(err)), DS_OK);
	CHECK_EQ(n, 6);
	CHECK(text != NULL && strcmp(text, pdns_ok_doc) == 0);
	if (text != NULL && strcmp(text, pdns_ok_doc) != 0)
		fprintf(stderr, "powerdns document: %s\n", text);
	free(text);
	/* a child that is gone: its NS and DS deleted */
	b.changes = &ch[2];
	b.nchanges = 1;
	CHECK_EQ(powerdns_document(&b, &text, &n, err, sizeof(err)), DS_OK);
	CHECK(text != NULL &&
	      strcmp(text, "{\"rrsets\":[{\"name\":\"gone.example.\",\"type\":\"NS\","
			   "\"changetype\":\"DELETE\"},{\"name\":\"gone.example.\",\"type\":"
			   "\"DS\",\"changetype\":\"DELETE\"}]}") == 0);
	free(text);
	/* the hostile child: its name escaped, one JSON string */
	uint8_t bad[DNAME_MAX];
	memcpy(bad, z.rr[5].child, dname_len(z.rr[5].child));
	struct backend_change hc = {bad, ""};
	b.changes = &hc;
	CHECK_EQ(powerdns_document(&b, &text, &n, err, sizeof(err)), DS_OK);
	json_t *doc = text != NULL ? json_loads(text, 0, NULL) : NULL;
	const char *name = json_string_value(
	    json_object_get(json_array_get(json_object_get(doc, "rrsets"), 0), "name"));
	CHECK(name != NULL && strchr(name, '\n') == NULL && strstr(name, "\\\"") != NULL);
	CHECK_EQ(n, 4);
	json_decref(doc);
	free(text);
	z.fail = DS_EIO;
	CHECK(powerdns_document(&b, &text, &n, err, sizeof(err)) != DS_OK);
	CHECK(text == NULL && strstr(err, "cannot read the delegation") != NULL);
}

struct pdns_bad_case {
	const char *url, *server_id, *key_text, *ca_file;
	unsigned mode;
	const char *in_err;
};

static const struct pdns_bad_case pdns_bad_cases[] = {
    {"ftp://127.0.0.1", NULL, "k3y", NULL, 0600, "needs a url"},
    {"http://", NULL, "k3y", NULL, 0600, "needs a url"},
    {"http://127.0.0.1:8081/?x=1", NULL, "k3y", NULL, 0600, "needs a url"},
    {"http://admin:pw@127.0.0.1:8081", NULL, "k3y", NULL, 0600, "needs a url"},
    {"http://127.0.0.1:8081", "local/host", "k3y", NULL, 0600, "is not a PowerDNS server id"},
    {"http://127.0.0.1:8081", NULL, "k3y\n", NULL, 0644,
     "has mode 0644, which gives group or others access; it must be 0600 or 0400"},
    {"http://127.0.0.1:8081", NULL, "k3y", NULL, 0640, "has mode 0640"},
    {"http://127.0.0.1:8081", NULL, "", NULL, 0600, "one word of printable ASCII"},
    {"http://127.0.0.1:8081", NULL, "two words", NULL, 0400, "one word of printable ASCII"},
    {"https://127.0.0.1:8081", NULL, "k3y", "/nonexistent/ca.pem", 0600, "cannot read the ca-file"},
};

/* Bad settings are refused at init, with the place and the reason. */
static void test_powerdns_settings(void)
{
	struct backend *b = NULL;
	char err[800];
	struct cfg_zone zc = {0};
	dname_from_str("example.", zc.name);
	CHECK(backend_find("powerdns") != NULL);
	for (size_t i = 0; i < sizeof(pdns_bad_cases) / sizeof(pdns_bad_cases[0]); i++) {
		const struct pdns_bad_case *c = &pdns_bad_cases[i];
		struct powerdns_settings set = {.url = (char *)c->url,
						.api_key_file = tpath("pdns.key"),
						.server_id = (char *)c->server_id,
						.ca_file = (char *)c->ca_file,
						.timeout = 10};
		struct cfg_backend bc = {.type = "powerdns", .where = "f:7", .settings = &set};
		spit(tpath("pdns.key"), c->key_text);
		chmod(tpath("pdns.key"), c->mode);
		CHECK_EQ(backend_new(&bc, &zc, &b, err, sizeof(err)), DS_ECONFIG);
		if (strstr(err, c->in_err) == NULL || strncmp(err, "f:7: ", 5) != 0)
			fprintf(stderr, "powerdns case %zu: \"%s\"\n", i, err);
		CHECK(strncmp(err, "f:7: ", 5) == 0 && strstr(err, c->in_err) != NULL);
	}
	unlink(tpath("pdns.key"));
}

/* No server: the delivery fails with the request in the text; the key stays out of it. */
static void test_powerdns_unreachable(void)
{
	struct fake_zone z;
	uint8_t ok[DNAME_MAX];
	char err[800];
	struct cfg_zone zc = {0};
	struct backend *b = NULL;
	struct powerdns_settings set = {.url = "http://127.0.0.1:1/",
					.api_key_file = tpath("pdns.key"),
					.server_id = "localhost",
					.timeout = 2};
	struct cfg_backend bc = {.type = "powerdns", .settings = &set};
	spit(tpath("pdns.key"), "s3cret-key\n");
	chmod(tpath("pdns.key"), 0600);
	dname_from_str("example.", zc.name);
	dname_from_str("ok.example.", ok);
	build_zone(&z);
	CHECK_EQ(backend_new(&bc, &zc, &b, err, sizeof(err)), DS_OK);
	struct backend_change ch = {ok, "+ ok.example. 3600 IN NS ns1.ok.example.\n"};
	struct backend_batch batch = {.zone = zc.name,
				      .changes = &ch,
				      .nchanges = 1,
				      .child_deleg = fake_child_deleg,
				      .ctx = &z};
	CHECK(b != NULL && backend_deliver(b, &batch, err, sizeof(err)) == DS_EIO);
	CHECK(strstr(err, "PATCH http://127.0.0.1:1/api/v1/servers/localhost/zones/example.: ") ==
	      err);
	CHECK(strstr(err, "s3cret") == NULL);
	backend_free(b);
	unlink(tpath("pdns.key"));
}

int main(void)
{
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/test_backends.XXXXXX");
	if (mkdtemp(tmpdir) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	log_init("test_backends", false, LOG_WARNING);

	test_registry();
	test_null();
	int fds = open_fds();
	test_run();
	test_run_program();
	test_run_program_ends();
	test_zonefile_init();
	test_zonefile_stale_temp();
	test_zonefile_fragment();
	test_zonefile_reload_failure();
	test_zonefile_template();
	test_exec_document();
	test_exec_ends();
	test_exec_env();
	test_powerdns_document();
	test_powerdns_settings();
	test_powerdns_unreachable();
	CHECK_EQ(open_fds(), fds); /* no descriptor leaked by the runner or the writer */

	if (rmdir(tmpdir) != 0)
		fprintf(stderr, "left files in %s\n", tmpdir);
	UNIT_DONE("test_backends");
}
