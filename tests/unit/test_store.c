/*
 * tests/unit/test_store.c -- the SQLite store against a file in a temporary
 * directory: persistence, schema, case-insensitive names, delegation round
 * trips and canonical order, keys, audit, outbox, replay cache,
 * transactions/savepoints, hostile names and texts (R15), and the admin
 * API's key removal, key counts and pages (paging, filters, cursors).
 */
#include <sqlite3.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/deleg.h"
#include "common/dname.h"
#include "common/err.h"
#include "common/log.h"
#include "store/db.h"
#include "store/store.h"
#include "tests/unit/unit.h"

static char tmpdir[] = "/tmp/test_store.XXXXXX";
static char dbpath[256];

/* Wire name from presentation text (the test's own literals). */
static const uint8_t *N(const char *s)
{
	static uint8_t ring[16][DNAME_MAX];
	static unsigned next;
	uint8_t *out = ring[next++ % 16];

	if (dname_from_str(s, out) <= 0) {
		fprintf(stderr, "bad test name %s\n", s);
		exit(2);
	}
	return out;
}

static struct drr mk_rr(const char *owner, uint16_t type, uint32_t ttl, const void *rd, size_t n)
{
	struct drr r;

	memset(&r, 0, sizeof(r));
	memcpy(r.owner, N(owner), dname_len(N(owner)));
	r.type = type;
	r.ttl = ttl;
	memcpy(r.rdata, rd, n);
	r.rdlen = (uint16_t)n;
	return r;
}

static struct drr mk_ns(const char *owner, const char *target, uint32_t ttl)
{
	const uint8_t *t = N(target);
	return mk_rr(owner, T_NS, ttl, t, dname_len(t));
}

static struct drr mk_a(const char *owner, uint8_t last)
{
	uint8_t a[4] = {192, 0, 2, last};
	return mk_rr(owner, T_A, 3600, a, 4);
}

static struct drr mk_aaaa(const char *owner, uint8_t last)
{
	uint8_t a[16] = {0x20, 0x01, 0x0d, 0xb8};
	a[15] = last;
	return mk_rr(owner, T_AAAA, 3600, a, 16);
}

static struct drr mk_ds(const char *owner, uint16_t tag, uint8_t fill)
{
	uint8_t d[36] = {(uint8_t)(tag >> 8), (uint8_t)tag, 13, 2};
	memset(d + 4, fill, 32);
	return mk_rr(owner, T_DS, 3600, d, sizeof(d));
}

static bool rr_bytes_equal(const struct drr *a, const struct drr *b)
{
	size_t la = dname_len(a->owner);
	return la == dname_len(b->owner) && memcmp(a->owner, b->owner, la) == 0 &&
	       a->type == b->type && a->ttl == b->ttl && a->rdlen == b->rdlen &&
	       memcmp(a->rdata, b->rdata, a->rdlen) == 0;
}

/* ---- raw access to the store, to see what it really wrote ---- */

/*
 * The store under test: the SQLite file dbpath, then (when DSYNC_TEST_PG
 * gives a libpq connection string) a PostgreSQL database, with the same
 * tests.  The raw helpers read it over a connection of their own.
 */
static char spec[1024];
static bool on_pg;

static int64_t raw_int(const char *sql)
{
	struct db *db;
	struct db_stmt *st;
	int64_t v = -999;

	if (db_open(spec, &db) != DS_OK)
		return v;
	if (db_prepare(db, sql, &st) == DS_OK) {
		if (db_step(st) == DB_ROW)
			v = db_col_null(st, 0) ? -1 : db_col_int64(st, 0);
		db_reset(st);
		db_finalize(st);
	}
	db_close(db);
	return v;
}

/* Run sql on a connection of its own (foreign keys enforced on SQLite). */
static int raw_exec(const char *sql)
{
	struct db *db;
	int rc = db_open(spec, &db);

	if (rc == DS_OK && !on_pg)
		rc = db_exec(db, "PRAGMA foreign_keys=ON");
	if (rc == DS_OK)
		rc = db_exec(db, sql);
	db_close(db);
	return rc;
}

static bool raw_has_text(const char *sql, const char *want)
{
	struct db *db;
	struct db_stmt *st;
	bool found = false;

	if (db_open(spec, &db) != DS_OK)
		return false;
	if (db_prepare(db, sql, &st) == DS_OK) {
		while (db_step(st) == DB_ROW) {
			const char *t = db_col_text(st, 0);
			if (t != NULL && strcmp(t, want) == 0)
				found = true;
		}
		db_reset(st);
		db_finalize(st);
	}
	db_close(db);
	return found;
}

/* An empty store: a new in-memory SQLite one, or the PostgreSQL database
 * with every table dropped. */
static int fresh(struct store **m)
{
	if (!on_pg)
		return store_open(":memory:", m);
	CHECK_EQ(raw_exec("DROP OWNED BY CURRENT_USER"), DS_OK);
	return store_open(spec, m);
}

/* ---- tests ---- */

static void test_open(struct store **s)
{
	struct stat sb;
	char dir[300];

	if (on_pg)
		CHECK_EQ(raw_exec("DROP OWNED BY CURRENT_USER"), DS_OK);
	CHECK_EQ(store_open(spec, s), DS_OK);
	CHECK(*s != NULL);
	CHECK_EQ(store_schema_version(*s), STORE_SCHEMA_VERSION);
	if (!on_pg) {
		CHECK_EQ(stat(dbpath, &sb), 0);
		CHECK_EQ(sb.st_mode & 0777, 0600);
		snprintf(dir, sizeof(dir), "%s/sub", tmpdir);
		CHECK_EQ(stat(dir, &sb), 0);
		CHECK(S_ISDIR(sb.st_mode));
	}
	CHECK_EQ(raw_int("SELECT version FROM schema_version"), STORE_SCHEMA_VERSION);
	CHECK_EQ(raw_int("SELECT count(*) FROM schema_version"), 1);
}

static int64_t zone_ex, child_ex;

static void test_zones_children(struct store *s)
{
	int64_t z1 = 0, z2 = 0, z3 = 0, c1 = 0, c2 = 0, c3 = 0, other = 0;

	CHECK_EQ(store_zone_find(s, N("example.com."), &z1), DS_ENOENT);
	CHECK_EQ(store_zone_ensure(s, N("Example.COM."), &z1), DS_OK);
	CHECK(z1 > 0);
	CHECK_EQ(store_zone_ensure(s, N("example.com."), &z2), DS_OK);
	CHECK_EQ(z2, z1);
	CHECK_EQ(store_zone_find(s, N("EXAMPLE.com."), &z3), DS_OK);
	CHECK_EQ(z3, z1);
	CHECK_EQ(store_zone_ensure(s, N("example.net."), &other), DS_OK);
	CHECK(other != z1);
	CHECK_EQ(raw_int("SELECT count(*) FROM zones"), 2);
	CHECK(raw_has_text("SELECT name_text FROM zones", "example.com."));

	CHECK_EQ(store_child_find(s, z1, N("child.example.com."), &c1), DS_ENOENT);
	CHECK_EQ(store_child_ensure(s, z1, N("Child.Example.com."), &c1), DS_OK);
	CHECK(c1 > 0);
	CHECK_EQ(store_child_ensure(s, z1, N("CHILD.example.COM."), &c2), DS_OK);
	CHECK_EQ(c2, c1);
	CHECK_EQ(store_child_find(s, z1, N("child.example.com."), &c3), DS_OK);
	CHECK_EQ(c3, c1);
	/* The same name under another zone is another child. */
	CHECK_EQ(store_child_ensure(s, other, N("child.example.com."), &c2), DS_OK);
	CHECK(c2 != c1);
	CHECK_EQ(store_child_find(s, z1, N("other.example.com."), &c3), DS_ENOENT);
	CHECK_EQ(raw_int("SELECT count(*) FROM children"), 2);
	/* each zone's children counted by the store */
	int64_t n = -1;
	CHECK_EQ(store_zone_children(s, N("example.com."), &n), DS_OK);
	CHECK_EQ(n, 1);
	CHECK_EQ(store_child_ensure(s, z1, N("two.example.com."), &c3), DS_OK);
	CHECK_EQ(store_zone_children(s, N("EXAMPLE.com."), &n), DS_OK);
	CHECK_EQ(n, 2);
	CHECK_EQ(store_child_delete(s, c3), DS_OK);
	CHECK_EQ(store_zone_children(s, N("example.com."), &n), DS_OK);
	CHECK_EQ(n, 1);
	CHECK_EQ(store_zone_ensure(s, N("empty."), &z3), DS_OK);
	CHECK_EQ(store_zone_children(s, N("empty."), &n), DS_OK);
	CHECK_EQ(n, 0);
	CHECK_EQ(store_zone_children(s, N("unknown."), &n), DS_ENOENT);
	zone_ex = z1;
	child_ex = c1;
}

/* got is d as loaded back: every record, in canonical order. */
static void deleg_check_loaded(const struct deleg *d, const struct deleg *got)
{
	CHECK_EQ(got->n, d->n);
	/* Every record comes back byte for byte (case as written). */
	for (size_t i = 0; i < d->n; i++) {
		bool found = false;
		for (size_t j = 0; j < got->n; j++)
			found = found || rr_bytes_equal(&d->rr[i], &got->rr[j]);
		CHECK(found);
	}
	/* Loaded in canonical order: owner, then type. */
	for (size_t j = 1; j < got->n; j++) {
		int c = dname_compare(got->rr[j - 1].owner, got->rr[j].owner);
		CHECK(c < 0 || (c == 0 && got->rr[j - 1].type <= got->rr[j].type));
	}
	CHECK_EQ(got->rr[0].type, T_NS);
	CHECK_EQ(got->rr[2].type, T_DS);
	CHECK_EQ(got->rr[3].type, T_A);
	CHECK_EQ(got->rr[4].type, T_AAAA);
}

static void test_deleg_roundtrip(struct store *s)
{
	static struct deleg d, got;
	struct drr ns_dup;

	memset(&d, 0, sizeof(d));
	{
		struct drr rrs[] = {
		    mk_ns("Child.example.com.", "NS1.Child.example.com.", 3600),
		    mk_ns("child.example.com.", "ns2.Provider.NET.", 3600),
		    mk_ds("child.example.com.", 12345, 0xab),
		    mk_a("NS1.child.example.com.", 1),
		    mk_aaaa("ns1.Child.example.com.", 1),
		};
		for (size_t i = 0; i < sizeof(rrs) / sizeof(rrs[0]); i++)
			CHECK_EQ(deleg_add(&d, &rrs[i]), DS_OK);
	}
	CHECK_EQ(store_deleg_write(s, child_ex, &d), DS_OK);
	CHECK_EQ(store_deleg_load(s, child_ex, &got), DS_OK);
	deleg_check_loaded(&d, &got);
	CHECK(raw_has_text("SELECT rdata_text FROM delegation", "NS1.Child.example.com."));
	CHECK(raw_has_text("SELECT owner_text FROM delegation", "NS1.child.example.com."));
	CHECK(raw_has_text("SELECT rdata_text FROM delegation WHERE type = 1", "192.0.2.1"));
	/* RDATA as received is kept only where it differs from its canonical
	 * form (v7): the two NS targets in mixed case */
	CHECK_EQ(raw_int("SELECT count(*) FROM delegation WHERE rdata IS NOT NULL"), 2);

	/* Replace: a smaller set. */
	d.n = 0;
	{
		struct drr ns = mk_ns("child.example.com.", "ns3.example.org.", 300);
		deleg_add(&d, &ns);
	}
	CHECK_EQ(store_deleg_write(s, child_ex, &d), DS_OK);
	CHECK_EQ(store_deleg_load(s, child_ex, &got), DS_OK);
	CHECK_EQ(got.n, 1);
	CHECK(rr_bytes_equal(&got.rr[0], &d.rr[0]));
	CHECK_EQ(raw_int("SELECT count(*) FROM delegation"), 1);

	/* The same RR twice (NS target differs in case only): stored once,
	 * the last TTL wins. */
	ns_dup = mk_ns("child.example.com.", "NS3.EXAMPLE.org.", 600);
	deleg_add(&d, &ns_dup);
	CHECK_EQ(store_deleg_write(s, child_ex, &d), DS_OK);
	CHECK_EQ(store_deleg_load(s, child_ex, &got), DS_OK);
	CHECK_EQ(got.n, 1);
	CHECK_EQ(got.rr[0].ttl, 600);
	CHECK(rr_bytes_equal(&got.rr[0], &ns_dup)); /* the target as last received */
	CHECK_EQ(raw_int("SELECT count(*) FROM delegation WHERE rdata IS NOT NULL"), 1);

	/* Malformed NS RDATA is refused and changes nothing. */
	{
		struct drr bad = mk_rr("child.example.com.", T_NS, 60,
				       "\x05"
				       "ab",
				       3);
		struct deleg *b = calloc(1, sizeof(*b));
		deleg_add(b, &bad);
		CHECK(store_deleg_write(s, child_ex, b) != DS_OK);
		free(b);
		CHECK_EQ(store_deleg_load(s, child_ex, &got), DS_OK);
		CHECK_EQ(got.n, 1);
	}

	/* Empty set; an unknown child loads empty. */
	d.n = 0;
	CHECK_EQ(store_deleg_write(s, child_ex, &d), DS_OK);
	CHECK_EQ(store_deleg_load(s, child_ex, &got), DS_OK);
	CHECK_EQ(got.n, 0);
	CHECK_EQ(store_deleg_load(s, 999999, &got), DS_OK);
	CHECK_EQ(got.n, 0);
}

/* The validation rows go with their keys (a, then b). */
static void validation_check_cascade(struct store *s, int64_t a, int64_t b)
{
	struct store_validation v;
	char sql[128];

	CHECK_EQ(raw_int("SELECT count(*) FROM validation"), 2);
	snprintf(sql, sizeof(sql), "DELETE FROM keys WHERE id = %lld", (long long)a);
	CHECK_EQ(raw_exec(sql), DS_OK);
	CHECK_EQ(raw_int("SELECT count(*) FROM validation"), 1);
	CHECK_EQ(store_validation_get(s, a, &v), DS_ENOENT);
	snprintf(sql, sizeof(sql), "DELETE FROM keys WHERE id = %lld", (long long)b);
	CHECK_EQ(raw_exec(sql), DS_OK);
	CHECK_EQ(raw_int("SELECT count(*) FROM validation"), 0);
}

/* RFC 4034 6.1's example, in canonical order (plus a name whose label
 * holds octet 0, which must sort before \001). */
static const char *const canon_children[] = {
    "a.example.",	"yljkjljk.a.example.", "Z.a.example.", "zABC.a.EXAMPLE.",  "z.example.",
    "\\000.z.example.", "\\001.z.example.",    "*.z.example.", "\\200.z.example.",
};
#define NCANON (sizeof(canon_children) / sizeof(canon_children[0]))

struct walk {
	size_t n;
	uint8_t child[64][DNAME_MAX];
	struct drr rr[64];
	int stop_after;
};

static int walk_cb(void *arg, const uint8_t *child, const struct drr *rr)
{
	struct walk *w = arg;

	if (w->n < 64) {
		memcpy(w->child[w->n], child, dname_len(child));
		w->rr[w->n] = *rr;
	}
	w->n++;
	if (w->stop_after > 0 && (int)w->n == w->stop_after)
		return 42;
	return 0;
}

static void test_foreach_order(struct store *s)
{
	static struct deleg d;
	static struct walk w;
	int64_t zid, cid;
	uint8_t lower[DNAME_MAX];

	CHECK_EQ(store_zone_ensure(s, N("example."), &zid), DS_OK);
	/* Insert in reverse order so the table order is not the answer. */
	for (size_t i = NCANON; i-- > 0;) {
		struct drr ns = mk_ns(canon_children[i], "ns.example.net.", 3600);
		CHECK_EQ(store_child_ensure(s, zid, N(canon_children[i]), &cid), DS_OK);
		d.n = 0;
		if (i == 0) {
			/* a.example.: glue, DS, two NS given out of order. */
			struct drr extra[] = {
			    mk_a("ns.a.example.", 7),
			    mk_ds("a.example.", 1, 0x11),
			    mk_ns("a.example.", "NS2.x.", 3600),
			    mk_ns("a.example.", "ns1.x.", 3600),
			    mk_aaaa("ns.a.example.", 7),
			    mk_a("b.ns.a.example.", 8),
			};
			for (size_t j = 0; j < sizeof(extra) / sizeof(extra[0]); j++)
				deleg_add(&d, &extra[j]);
		} else {
			deleg_add(&d, &ns);
		}
		CHECK_EQ(store_deleg_write(s, cid, &d), DS_OK);
	}
	memset(&w, 0, sizeof(w));
	CHECK_EQ(store_zone_deleg_foreach(s, N("EXAMPLE."), walk_cb, &w), DS_OK);
	CHECK_EQ(w.n, NCANON - 1 + 6);
	/* a.example. first: NS ns1.x., NS NS2.x., DS, then glue owners in
	 * canonical order (ns.a < b.ns.a), A before AAAA. */
	CHECK(dname_equal(w.child[0], N("a.example.")));
	CHECK_EQ(w.rr[0].type, T_NS);
	CHECK(dname_equal(w.rr[0].rdata, N("ns1.x.")));
	CHECK_EQ(w.rr[1].type, T_NS);
	CHECK(dname_equal(w.rr[1].rdata, N("ns2.x.")));
	CHECK(memcmp(w.rr[1].rdata, N("NS2.x."), 7) == 0); /* case as written */
	CHECK_EQ(w.rr[2].type, T_DS);
	CHECK(dname_equal(w.rr[3].owner, N("ns.a.example.")));
	CHECK_EQ(w.rr[3].type, T_A);
	CHECK(dname_equal(w.rr[4].owner, N("ns.a.example.")));
	CHECK_EQ(w.rr[4].type, T_AAAA);
	CHECK(dname_equal(w.rr[5].owner, N("b.ns.a.example.")));
	for (size_t i = 0; i < 6; i++)
		CHECK(dname_equal(w.child[i], N("a.example.")));
	/* Then the other children, exactly in RFC 4034 order, lower-cased. */
	for (size_t i = 1; i < NCANON && 5 + i < 64; i++) {
		dname_lower(lower, N(canon_children[i]));
		CHECK(memcmp(w.child[5 + i], lower, dname_len(lower)) == 0);
		CHECK(dname_compare(w.child[4 + i], w.child[5 + i]) < 0);
	}
	/* A non-zero callback result stops the walk and is returned. */
	memset(&w, 0, sizeof(w));
	w.stop_after = 3;
	CHECK_EQ(store_zone_deleg_foreach(s, N("example."), walk_cb, &w), 42);
	CHECK_EQ(w.n, 3);
	/* Unknown zone: no calls. */
	memset(&w, 0, sizeof(w));
	CHECK_EQ(store_zone_deleg_foreach(s, N("nowhere."), walk_cb, &w), DS_OK);
	CHECK_EQ(w.n, 0);
}

struct keywalk {
	int n;
	struct store_key k[4];
};

static int key_cb(void *arg, const struct store_key *k)
{
	struct keywalk *w = arg;

	if (w->n < 4)
		w->k[w->n] = *k;
	w->n++;
	return 0;
}

static void fill_key(struct store_key *k, uint8_t fill)
{
	memset(k, 0, sizeof(*k));
	k->child_id = child_ex;
	k->alg = ALG_ECDSAP256SHA256;
	k->tag = (uint16_t)(1000 + fill);
	k->flags = 0x0200;
	k->rdata[0] = 0x02;
	k->rdata[1] = 0x00;
	k->rdata[2] = 3;
	k->rdata[3] = ALG_ECDSAP256SHA256;
	memset(k->rdata + 4, fill, 64);
	k->rdlen = 68;
	k->state = KEY_KNOWN;
	snprintf(k->source, sizeof(k->source), "update");
}

static void test_keys(struct store *s)
{
	static struct store_key k1, k2, again;
	static struct keywalk w;
	static const struct {
		enum key_state st;
		const char *name;
	} names[] = {
	    {KEY_KNOWN, "known"},     {KEY_VALIDATING, "validating"},
	    {KEY_TRUSTED, "trusted"}, {KEY_VALIDATION_FAILED, "validation-failed"},
	    {KEY_REFUSED, "refused"}, {KEY_REVOKED, "revoked"},
	};

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		CHECK(strcmp(store_key_state_str(names[i].st), names[i].name) == 0);

	fill_key(&k1, 0x41);
	k1.created = k1.updated = 1000;
	CHECK_EQ(store_key_upsert(s, &k1), DS_OK);
	CHECK(k1.id > 0);
	CHECK_EQ(k1.created, 1000);
	/* Same (child, rdata): update, same id, created kept. */
	fill_key(&again, 0x41);
	again.state = KEY_TRUSTED;
	again.updated = 2000;
	snprintf(again.trust_method, sizeof(again.trust_method), "at-apex");
	snprintf(again.source, sizeof(again.source), "config dsyncd.conf:12");
	CHECK_EQ(store_key_upsert(s, &again), DS_OK);
	CHECK_EQ(again.id, k1.id);
	CHECK_EQ(again.created, 1000);
	fill_key(&k2, 0x42);
	CHECK_EQ(store_key_upsert(s, &k2), DS_OK);
	CHECK(k2.id > 0 && k2.id != k1.id);
	CHECK_EQ(raw_int("SELECT count(*) FROM keys"), 2);
	/* base64 of the public key field (64 x 'A' = 0x41) for operators. */
	CHECK(raw_has_text("SELECT public_key FROM keys WHERE key_tag = 1065",
			   "QUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFB"
			   "QUFBQUFBQUFBQUFBQUFBQQ=="));

	CHECK_EQ(store_key_set_state(s, k2.id, KEY_VALIDATING, "unsigned"), DS_OK);
	CHECK_EQ(store_key_set_state(s, k2.id, KEY_REFUSED, NULL), DS_OK);
	CHECK_EQ(store_key_set_state(s, 987654, KEY_TRUSTED, "manual"), DS_ENOENT);

	memset(&w, 0, sizeof(w));
	CHECK_EQ(store_keys_foreach(s, key_cb, &w), DS_OK);
	CHECK_EQ(w.n, 2);
	CHECK_EQ(w.k[0].id, k1.id);
	CHECK_EQ(w.k[0].state, KEY_TRUSTED);
	CHECK(strcmp(w.k[0].trust_method, "at-apex") == 0);
	CHECK(strcmp(w.k[0].source, "config dsyncd.conf:12") == 0);
	CHECK_EQ(w.k[0].alg, ALG_ECDSAP256SHA256);
	CHECK_EQ(w.k[0].tag, 1065);
	CHECK_EQ(w.k[0].flags, 0x0200);
	CHECK_EQ(w.k[0].rdlen, 68);
	CHECK(memcmp(w.k[0].rdata, k1.rdata, 68) == 0);
	CHECK_EQ(w.k[0].created, 1000);
	CHECK_EQ(w.k[0].updated, 2000);
	CHECK(memcmp(w.k[0].zone, N("example.com."), dname_len(N("example.com."))) == 0);
	CHECK(memcmp(w.k[0].owner, N("child.example.com."), dname_len(N("child.example.com."))) ==
	      0);
	CHECK_EQ(w.k[1].id, k2.id);
	CHECK_EQ(w.k[1].state, KEY_REFUSED);
	CHECK(strcmp(w.k[1].trust_method, "unsigned") == 0); /* NULL kept it */

	/* Bad arguments. */
	fill_key(&k2, 0x43);
	k2.rdlen = 3;
	CHECK_EQ(store_key_upsert(s, &k2), DS_EINVAL);
}

/* Bootstrap validations: queue, update, due order, next time, reset, cascade. */
static void test_validation(struct store *s)
{
	static struct store_key a, b, got;
	struct store_validation v, due[4];
	size_t n = 99;
	int64_t when = 0;

	fill_key(&a, 0x51);
	fill_key(&b, 0x52);
	CHECK_EQ(store_key_upsert(s, &a), DS_OK);
	CHECK_EQ(store_key_upsert(s, &b), DS_OK);
	CHECK_EQ(store_key_get(s, a.id, &got), DS_OK);
	CHECK_EQ(got.id, a.id);
	CHECK_EQ(got.rdlen, a.rdlen);
	CHECK(memcmp(got.rdata, a.rdata, a.rdlen) == 0);
	CHECK(memcmp(got.owner, N("child.example.com."), dname_len(N("child.example.com."))) == 0);
	CHECK_EQ(store_key_get(s, 987654, &got), DS_ENOENT);

	CHECK_EQ(store_validation_next_time(s, &when), DS_ENOENT);
	CHECK_EQ(store_validation_get(s, a.id, &v), DS_ENOENT);
	CHECK_EQ(store_validation_queue(s, a.id, 5000), DS_OK);
	CHECK_EQ(store_validation_queue(s, b.id, 4000), DS_OK);
	CHECK_EQ(store_validation_get(s, a.id, &v), DS_OK);
	CHECK_EQ(v.next_at, 5000);
	CHECK_EQ(v.attempts, 0);
	CHECK_EQ(v.rounds, 0);
	CHECK_EQ(v.started, 5000);
	CHECK_EQ(store_validation_next_time(s, &when), DS_OK);
	CHECK_EQ(when, 4000);
	CHECK_EQ(store_validation_pending(s, &when), DS_OK);
	CHECK_EQ(when, 2);
	CHECK_EQ(store_validation_due(s, 3999, 4, due, &n), DS_OK);
	CHECK_EQ(n, 0);
	CHECK_EQ(store_validation_due(s, 6000, 4, due, &n), DS_OK);
	CHECK_EQ(n, 2);
	CHECK_EQ(due[0].key_id, b.id); /* earliest first */
	CHECK_EQ(due[1].key_id, a.id);
	CHECK_EQ(store_validation_due(s, 6000, 1, due, &n), DS_OK);
	CHECK_EQ(n, 1);

	/* an attempt: counters, next time, result text (bound, not spliced) */
	v.attempts = 2;
	v.rounds = 1;
	v.next_at = 7000;
	v.updated = 5001;
	snprintf(v.last_result, sizeof(v.last_result), "at-apex: it's bogus'); DROP TABLE keys;--");
	CHECK_EQ(store_validation_update(s, &v), DS_OK);
	CHECK_EQ(store_validation_get(s, a.id, &v), DS_OK);
	CHECK_EQ(v.attempts, 2);
	CHECK_EQ(v.rounds, 1);
	CHECK_EQ(v.next_at, 7000);
	CHECK_EQ(v.updated, 5001);
	CHECK(strcmp(v.last_result, "at-apex: it's bogus'); DROP TABLE keys;--") == 0);
	/* ended: not due any more, but still readable */
	v.next_at = -1;
	CHECK_EQ(store_validation_update(s, &v), DS_OK);
	CHECK_EQ(store_validation_get(s, a.id, &v), DS_OK);
	CHECK_EQ(v.next_at, -1);
	CHECK_EQ(store_validation_due(s, 99999, 4, due, &n), DS_OK);
	CHECK_EQ(n, 1);
	CHECK_EQ(due[0].key_id, b.id);
	CHECK_EQ(store_validation_pending(s, &when), DS_OK);
	CHECK_EQ(when, 1); /* an ended validation is not pending */
	/* queued again (a new upload): counters reset */
	CHECK_EQ(store_validation_queue(s, a.id, 8000), DS_OK);
	CHECK_EQ(store_validation_get(s, a.id, &v), DS_OK);
	CHECK_EQ(v.next_at, 8000);
	CHECK_EQ(v.attempts, 0);
	CHECK_EQ(v.rounds, 0);
	CHECK(v.last_result[0] == '\0');
	v.key_id = 987654;
	CHECK_EQ(store_validation_update(s, &v), DS_ENOENT);
	validation_check_cascade(s, a.id, b.id);
}

static void test_audit(struct store *s)
{
	int64_t n = -1;
	struct audit_rec a = {
	    .time = 1700000000,
	    .client = "192.0.2.1#5353",
	    .zone = "example.com.",
	    .child = "child.example.com.",
	    .key_tag = -1,
	    .actor = "update",
	    .request = "add NS",
	    .result = "refused",
	    .rcode = RC_REFUSED,
	    .reason = "key not known",
	};

	CHECK_EQ(store_audit_count(s, &n), DS_OK);
	CHECK_EQ(n, 0);
	CHECK_EQ(store_audit_add(s, &a), DS_OK);
	a.key_tag = 4711;
	a.zone = NULL; /* may be NULL */
	a.result = "accepted";
	a.rcode = RC_NOERROR;
	CHECK_EQ(store_audit_add(s, &a), DS_OK);
	CHECK_EQ(store_audit_count(s, &n), DS_OK);
	CHECK_EQ(n, 2);
	CHECK_EQ(raw_int("SELECT count(*) FROM audit WHERE key_tag IS NULL"), 1);
	CHECK_EQ(raw_int("SELECT key_tag FROM audit WHERE result = 'accepted'"), 4711);
	CHECK_EQ(raw_int("SELECT count(*) FROM audit WHERE zone IS NULL"), 1);
}

/* A failed delivery waits for its next attempt; done ones leave the outbox. */
static void outbox_check_retries(struct store *s, int64_t first, int64_t second)
{
	struct outbox_item *it = NULL;
	size_t n = 99;
	int64_t cnt = -1, when = -1;

	/* A failure moves the first delivery to 1060. */
	CHECK_EQ(store_delivery_failed(s, first, 1001, 1060, "connection refused"), DS_OK);
	CHECK_EQ(store_outbox_due(s, 1059, 10, &it, &n), DS_OK);
	CHECK_EQ(n, 1);
	if (n == 1)
		CHECK_EQ(it[0].delivery_id, second);
	store_outbox_items_free(it, n);
	CHECK_EQ(store_outbox_due(s, 1060, 10, &it, &n), DS_OK);
	CHECK_EQ(n, 2);
	if (n == 2) {
		CHECK_EQ(it[0].delivery_id, first);
		CHECK_EQ(it[0].attempts, 1);
	}
	store_outbox_items_free(it, n);
	CHECK_EQ(store_outbox_pending(s, &cnt), DS_OK);
	CHECK_EQ(cnt, 2);

	CHECK_EQ(store_delivery_done(s, second, 1002), DS_OK);
	CHECK_EQ(store_outbox_pending(s, &cnt), DS_OK);
	CHECK_EQ(cnt, 1);
	CHECK_EQ(store_outbox_next_time(s, &when), DS_OK);
	CHECK_EQ(when, 1060);
	CHECK_EQ(store_delivery_failed(s, second, 1003, 2000, "x"), DS_ENOENT); /* done */
	CHECK_EQ(store_delivery_done(s, first, 1061), DS_OK);
	CHECK_EQ(store_outbox_pending(s, &cnt), DS_OK);
	CHECK_EQ(cnt, 0);
	CHECK_EQ(store_outbox_next_time(s, &when), DS_ENOENT);
	CHECK_EQ(store_outbox_due(s, 99999, 10, &it, &n), DS_OK);
	CHECK_EQ(n, 0);
	CHECK(it == NULL);
	CHECK_EQ(store_delivery_done(s, 424242, 1), DS_ENOENT);
	CHECK_EQ(raw_int("SELECT count(*) FROM delivery WHERE state = 'done' AND "
			 "delivered_at IS NOT NULL"),
		 2);
}

static void test_outbox(struct store *s)
{
	const char *const backends[] = {"null", "zonefile"};
	struct outbox_item *it = NULL;
	size_t n = 99;
	int64_t cid = 0, cnt = -1, when = -1, first, second;
	const char *changes = "+ child.example.com. 3600 IN NS ns1.example.net.\n";

	CHECK_EQ(store_outbox_next_time(s, &when), DS_ENOENT);
	CHECK_EQ(store_outbox_add(s, N("Example.com."), N("CHILD.example.com."), changes, backends,
				  2, 1000, &cid),
		 DS_OK);
	CHECK(cid > 0);
	CHECK_EQ(store_outbox_pending(s, &cnt), DS_OK);
	CHECK_EQ(cnt, 2);
	CHECK_EQ(store_outbox_next_time(s, &when), DS_OK);
	CHECK_EQ(when, 1000);

	CHECK_EQ(store_outbox_due(s, 999, 10, &it, &n), DS_OK);
	CHECK_EQ(n, 0);
	store_outbox_items_free(it, n);

	CHECK_EQ(store_outbox_due(s, 1000, 10, &it, &n), DS_OK);
	CHECK_EQ(n, 2);
	if (n != 2)
		return;
	CHECK_EQ(it[0].change_id, cid);
	CHECK_EQ(it[1].change_id, cid);
	CHECK(strcmp(it[0].backend, "null") == 0);
	CHECK(strcmp(it[1].backend, "zonefile") == 0);
	CHECK(strcmp(it[0].changes, changes) == 0);
	CHECK(memcmp(it[0].zone, N("example.com."), dname_len(N("example.com."))) == 0);
	CHECK(memcmp(it[0].child, N("child.example.com."), dname_len(N("child.example.com."))) ==
	      0);
	CHECK_EQ(it[0].attempts, 0);
	CHECK_EQ(it[0].created, 1000);
	first = it[0].delivery_id;
	second = it[1].delivery_id;
	store_outbox_items_free(it, n);

	/* max limits the batch. */
	CHECK_EQ(store_outbox_due(s, 1000, 1, &it, &n), DS_OK);
	CHECK_EQ(n, 1);
	store_outbox_items_free(it, n);

	outbox_check_retries(s, first, second);

	/* A backend name that would not fit outbox_item.backend. */
	{
		char longname[80];
		const char *const lb[] = {longname};
		memset(longname, 'b', sizeof(longname) - 1);
		longname[sizeof(longname) - 1] = '\0';
		CHECK_EQ(store_outbox_add(s, N("example.com."), N("child.example.com."), "x", lb, 1,
					  1, NULL),
			 DS_EINVAL);
	}
}

struct replay_walk {
	int n;
	uint8_t d[4][32];
	int64_t exp[4];
	int rcode[4];
};

static int replay_cb(void *arg, const uint8_t digest[32], int64_t expires, int rcode)
{
	struct replay_walk *w = arg;

	if (w->n < 4) {
		memcpy(w->d[w->n], digest, 32);
		w->exp[w->n] = expires;
		w->rcode[w->n] = rcode;
	}
	w->n++;
	return 0;
}

/*
 * SQLite (one node, whose memory decides replays): rows in the order they
 * came, a digest stored again is a second row, walks give them in that
 * order and a look-up the first one's RCODE; expired rows are purged.
 */
static void test_replay_sqlite(struct store *s, const uint8_t d1[32], const uint8_t d2[32])
{
	struct replay_walk w;
	int rcode = -1;

	CHECK_EQ(store_replay_add(s, d1, 150, RC_SERVFAIL), DS_OK);
	CHECK_EQ(raw_int("SELECT count(*) FROM replay"), 3);
	memset(&w, 0, sizeof(w));
	CHECK_EQ(store_replay_foreach(s, 0, replay_cb, &w), DS_OK);
	CHECK_EQ(w.n, 3);
	if (w.n == 3) {
		CHECK(memcmp(w.d[0], d1, 32) == 0 && w.rcode[0] == RC_NOERROR && w.exp[0] == 100);
		CHECK(memcmp(w.d[1], d2, 32) == 0 && w.rcode[1] == RC_REFUSED);
		CHECK(memcmp(w.d[2], d1, 32) == 0 && w.rcode[2] == RC_SERVFAIL);
	}
	CHECK_EQ(store_replay_find(s, d1, 0, &rcode), DS_OK);
	CHECK_EQ(rcode, RC_NOERROR);
	CHECK_EQ(store_replay_purge(s, 160), DS_OK);
	CHECK_EQ(raw_int("SELECT count(*) FROM replay"), 1);
}

static void test_replay(struct store *s)
{
	uint8_t d1[32], d2[32];
	struct replay_walk w;

	memset(d1, 0x11, 32);
	memset(d2, 0x22, 32);
	CHECK_EQ(store_replay_add(s, d1, 100, RC_NOERROR), DS_OK);
	CHECK_EQ(store_replay_add(s, d2, 200, RC_REFUSED), DS_OK);
	if (!db_is_pg(store_db(s))) {
		test_replay_sqlite(s, d1, d2);
		return;
	}
	/* Seen again: first RCODE stays, expiry grows (the nodes of a shared
	 * store look digests up in it). */
	CHECK_EQ(store_replay_add(s, d1, 150, RC_SERVFAIL), DS_OK);
	CHECK_EQ(raw_int("SELECT count(*) FROM replay"), 2);

	memset(&w, 0, sizeof(w));
	CHECK_EQ(store_replay_foreach(s, 120, replay_cb, &w), DS_OK);
	CHECK_EQ(w.n, 2);
	for (int i = 0; i < 2 && i < w.n; i++) {
		if (memcmp(w.d[i], d1, 32) == 0) {
			CHECK_EQ(w.exp[i], 150);
			CHECK_EQ(w.rcode[i], RC_NOERROR);
		} else {
			CHECK(memcmp(w.d[i], d2, 32) == 0);
			CHECK_EQ(w.exp[i], 200);
			CHECK_EQ(w.rcode[i], RC_REFUSED);
		}
	}
	memset(&w, 0, sizeof(w));
	CHECK_EQ(store_replay_foreach(s, 150, replay_cb, &w), DS_OK); /* expires > now */
	CHECK_EQ(w.n, 1);
	CHECK(memcmp(w.d[0], d2, 32) == 0);
	CHECK_EQ(store_replay_purge(s, 160), DS_OK);
	CHECK_EQ(raw_int("SELECT count(*) FROM replay"), 1);
	memset(&w, 0, sizeof(w));
	CHECK_EQ(store_replay_foreach(s, 0, replay_cb, &w), DS_OK);
	CHECK_EQ(w.n, 1);
}

static void test_transactions(struct store *s)
{
	int64_t id, cid;
	static struct deleg d;

	/* Savepoints inside one group: a rolled-back UPDATE leaves the
	 * earlier writes and the later ones. */
	CHECK_EQ(store_begin(s), DS_OK);
	CHECK_EQ(store_zone_ensure(s, N("sp1."), &id), DS_OK);
	CHECK_EQ(store_savepoint(s), DS_OK);
	CHECK_EQ(store_zone_ensure(s, N("sp2."), &id), DS_OK);
	CHECK_EQ(store_rollback_to(s), DS_OK);
	CHECK_EQ(store_zone_find(s, N("sp2."), &id), DS_ENOENT);
	CHECK_EQ(store_zone_find(s, N("sp1."), &id), DS_OK);
	CHECK_EQ(store_savepoint(s), DS_OK);
	CHECK_EQ(store_zone_ensure(s, N("sp3."), &id), DS_OK);
	CHECK_EQ(store_release(s), DS_OK);
	CHECK_EQ(store_commit(s), DS_OK);
	CHECK_EQ(store_zone_find(s, N("sp1."), &id), DS_OK);
	CHECK_EQ(store_zone_find(s, N("sp2."), &id), DS_ENOENT);
	CHECK_EQ(store_zone_find(s, N("sp3."), &id), DS_OK);
	CHECK_EQ(raw_int("SELECT count(*) FROM zones WHERE name_text IN ('sp1.', 'sp3.')"), 2);

	/* A rollback leaves nothing. */
	CHECK_EQ(store_begin(s), DS_OK);
	CHECK_EQ(store_zone_ensure(s, N("rb."), &id), DS_OK);
	CHECK_EQ(store_child_ensure(s, id, N("c.rb."), &cid), DS_OK);
	{
		struct drr ns = mk_ns("c.rb.", "ns.rb.", 60);
		d.n = 0;
		deleg_add(&d, &ns);
	}
	CHECK_EQ(store_deleg_write(s, cid, &d), DS_OK);
	CHECK_EQ(store_rollback(s), DS_OK);
	CHECK_EQ(store_zone_find(s, N("rb."), &id), DS_ENOENT);
	CHECK_EQ(raw_int("SELECT count(*) FROM children WHERE name_text = 'c.rb.'"), 0);
	CHECK_EQ(raw_int("SELECT count(*) FROM delegation WHERE owner_text = 'c.rb.'"), 0);
	CHECK_EQ(store_rollback(s), DS_OK); /* none open: fine */
}

static void test_hostile(struct store *s)
{
	/* A label holding a quote, semicolon, space and parenthesis. */
	static const uint8_t evil[] = "\x1c"
				      "a'b;c\") DROP TABLE zones;--x"
				      "\x07"
				      "example"
				      "\x00";
	char text[DNAME_STR_MAX];
	uint8_t evil_lower[DNAME_MAX];
	const char *reason = "'); DROP TABLE audit; --";
	int64_t zid = 0, zid2 = 0, cid = 0, n;
	struct audit_rec a = {
	    .time = 1,
	    .client = "local",
	    .zone = "x'y",
	    .child = "\";",
	    .key_tag = 1,
	    .actor = "api:'",
	    .request = "r",
	    .result = "refused",
	    .rcode = 5,
	    .reason = reason,
	};
	const char *const backends[] = {"'; DELETE FROM delivery; --"};
	struct outbox_item *it = NULL;
	size_t cnt = 0;

	CHECK_EQ(dname_len(evil), sizeof(evil) - 1);
	CHECK_EQ(store_zone_ensure(s, evil, &zid), DS_OK);
	CHECK_EQ(store_zone_find(s, evil, &zid2), DS_OK);
	CHECK_EQ(zid2, zid);
	CHECK_EQ(store_child_ensure(s, zid, evil, &cid), DS_OK);
	/* Zone names are stored (and their text made) lower-case. */
	dname_lower(evil_lower, evil);
	CHECK_EQ(dname_to_str(evil_lower, text, sizeof(text)), DS_OK);
	CHECK(raw_has_text("SELECT name_text FROM zones", text));
	CHECK(raw_int("SELECT count(*) FROM zones") >= 3);
	CHECK_EQ(store_audit_count(s, &n), DS_OK);
	CHECK_EQ(store_audit_add(s, &a), DS_OK);
	CHECK(raw_has_text("SELECT reason FROM audit", reason));
	CHECK(raw_has_text("SELECT actor FROM audit", "api:'"));
	CHECK_EQ(raw_int("SELECT count(*) FROM audit"), n + 1);
	CHECK_EQ(store_outbox_add(s, evil, evil, reason, backends, 1, 5, NULL), DS_OK);
	CHECK_EQ(store_outbox_due(s, 5, 10, &it, &cnt), DS_OK);
	CHECK_EQ(cnt, 1);
	if (cnt == 1) {
		CHECK(strcmp(it[0].backend, backends[0]) == 0);
		CHECK(strcmp(it[0].changes, reason) == 0);
		CHECK(memcmp(it[0].zone, evil_lower, sizeof(evil) - 1) == 0);
		CHECK_EQ(store_delivery_done(s, it[0].delivery_id, 6), DS_OK);
	}
	store_outbox_items_free(it, cnt);
	CHECK_EQ(raw_int("SELECT count(*) FROM delivery"), 3);
}

static void test_reopen(struct store **s)
{
	static struct deleg got;
	int64_t zid, cid, n;
	struct keywalk w;

	store_close(*s);
	*s = NULL;
	CHECK_EQ(store_open(spec, s), DS_OK);
	if (*s == NULL)
		return;
	CHECK_EQ(store_schema_version(*s), STORE_SCHEMA_VERSION);
	CHECK_EQ(raw_int("SELECT count(*) FROM schema_version"), 1);
	CHECK_EQ(store_zone_find(*s, N("example."), &zid), DS_OK);
	CHECK_EQ(store_child_find(*s, zid, N("a.example."), &cid), DS_OK);
	CHECK_EQ(store_deleg_load(*s, cid, &got), DS_OK);
	CHECK_EQ(got.n, 6);
	CHECK_EQ(store_audit_count(*s, &n), DS_OK);
	CHECK_EQ(n, 3);
	memset(&w, 0, sizeof(w));
	CHECK_EQ(store_keys_foreach(*s, key_cb, &w), DS_OK);
	CHECK_EQ(w.n, 2);
	CHECK_EQ(store_zone_find(*s, N("sp3."), &zid), DS_OK);
}

/* A PostgreSQL store of a newer version than this build's is refused. */
static void test_pg_newer_schema_refused(void)
{
	struct store *s = NULL;

	CHECK_EQ(raw_exec("UPDATE schema_version SET version = 99"), DS_OK);
	fprintf(stderr, "(an error line \"schema version 99 is newer\" is expected next)\n");
	CHECK_EQ(store_open(spec, &s), DS_ESTORE);
	CHECK(s == NULL);
	CHECK_EQ(raw_exec("DROP OWNED BY CURRENT_USER"), DS_OK);
}

static void test_newer_schema_refused(void)
{
	char path[300];
	struct store *s = NULL;
	sqlite3 *db;

	snprintf(path, sizeof(path), "%s/newer.db", tmpdir);
	CHECK_EQ(store_open(path, &s), DS_OK);
	store_close(s);
	s = NULL;
	CHECK_EQ(sqlite3_open(path, &db), SQLITE_OK);
	CHECK_EQ(sqlite3_exec(db, "UPDATE schema_version SET version = 99", NULL, NULL, NULL),
		 SQLITE_OK);
	sqlite3_close(db);
	fprintf(stderr, "(an error line \"schema version 99 is newer\" is expected next)\n");
	CHECK_EQ(store_open(path, &s), DS_ESTORE);
	CHECK(s == NULL);
}

static off_t file_size(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 ? st.st_size : -1;
}

/*
 * Checkpoints run on the file's own thread: commits that fill the WAL past
 * 1000 pages wake it, it copies them into the database file (waited for,
 * 20 s at most), and closing the last connection stops it and removes the
 * WAL.
 */
static void test_background_checkpoint(void)
{
	char path[300], wal[320];
	struct db *db = NULL;
	struct db_stmt *st = NULL;

	snprintf(path, sizeof(path), "%s/ckpt.db", tmpdir);
	snprintf(wal, sizeof(wal), "%s-wal", path);
	CHECK_EQ(db_sqlite_open(path, &db), DS_OK);
	if (db == NULL)
		return;
	CHECK_EQ(db_exec(db, "CREATE TABLE t (b BLOB)"), DS_OK);
	CHECK_EQ(db_prepare(db, "INSERT INTO t VALUES (zeroblob(3000))", &st), DS_OK);
	for (int c = 0; st != NULL && c < 30; c++) { /* 30 commits of about 50 pages */
		CHECK_EQ(db_begin(db), DS_OK);
		for (int i = 0; i < 50; i++) {
			CHECK_EQ(db_step(st), DB_DONE);
			db_reset(st);
		}
		CHECK_EQ(db_exec(db, "COMMIT"), DS_OK);
	}
	db_finalize(st);
	off_t want = 1000 * 4096;
	for (int i = 0; i < 2000 && file_size(path) < want; i++)
		usleep(10000);
	CHECK(file_size(path) >= want);
	db_close(db);
	CHECK_EQ(file_size(wal), -1);
}

/*
 * A store file at tmpdir/name with zone "kept.", taken back to an older
 * schema by the SQL undo, then opened again: it must be migrated to the
 * current version with its data kept.  Returns the open store.
 */
static struct store *migrated(const char *name, const char *undo, char *path, size_t pathlen)
{
	struct store *s = NULL;
	sqlite3 *db;
	int64_t zid;

	snprintf(path, pathlen, "%s/%s", tmpdir, name);
	CHECK_EQ(store_open(path, &s), DS_OK);
	CHECK_EQ(store_zone_ensure(s, N("kept."), &zid), DS_OK);
	store_close(s);
	s = NULL;
	CHECK_EQ(sqlite3_open(path, &db), SQLITE_OK);
	CHECK_EQ(sqlite3_exec(db, undo, NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	CHECK_EQ(store_open(path, &s), DS_OK);
	CHECK_EQ(store_schema_version(s), STORE_SCHEMA_VERSION);
	CHECK_EQ(store_zone_find(s, N("kept."), &zid), DS_OK);
	return s;
}

/* What version 5 added, dropped again. */
#define UNDO_V5                                                                                    \
	"DROP TRIGGER key_counts_insert; DROP TRIGGER key_counts_delete; "                         \
	"DROP TRIGGER key_counts_update; DROP TABLE key_counts; "

/* What version 7 changed, back in its version-6 form (rows kept). */
#define UNDO_V7                                                                                    \
	"CREATE TABLE d6 (id INTEGER PRIMARY KEY, child_id INTEGER NOT NULL REFERENCES "           \
	"children(id) ON DELETE CASCADE, owner BLOB NOT NULL, owner_canon BLOB NOT NULL, "         \
	"owner_key BLOB NOT NULL, owner_text TEXT NOT NULL, type INTEGER NOT NULL, "               \
	"ttl INTEGER NOT NULL, rdata BLOB NOT NULL, rdata_canon BLOB NOT NULL, "                   \
	"rdata_text TEXT NOT NULL, UNIQUE (child_id, owner_canon, type, rdata_canon)); "           \
	"INSERT INTO d6 (child_id, owner, owner_canon, owner_key, owner_text, type, ttl, rdata, "  \
	"rdata_canon, rdata_text) SELECT child_id, owner, lower(owner), owner_key, owner_text, "   \
	"type, ttl, coalesce(rdata, rdata_canon), rdata_canon, rdata_text FROM delegation; "       \
	"DROP TABLE delegation; ALTER TABLE d6 RENAME TO delegation; "                             \
	"CREATE UNIQUE INDEX delegation_order ON delegation (child_id, owner_key, type, "          \
	"rdata_canon); CREATE INDEX audit_child ON audit (child, time); DROP INDEX delivery_due; " \
	"CREATE INDEX delivery_due ON delivery (state, next_attempt); "

/* A version-1 file (before the validation table) is migrated on open. */
static void test_migrate_v1(void)
{
	char path[300];
	int64_t when;
	struct store *s = migrated(
	    "v1.db",
	    UNDO_V7 "DROP INDEX keys_waiting; " UNDO_V5
		    "DROP TABLE validation; DROP INDEX audit_child_id; DROP INDEX delivery_state; "
		    "DROP INDEX delivery_pending; DROP TABLE backend_status; "
		    "UPDATE schema_version SET version = 1",
	    path, sizeof(path));

	CHECK_EQ(store_validation_next_time(s, &when), DS_ENOENT); /* the table is back, empty */
	store_close(s);
}

/* A version-2 file (before the page indexes) is migrated on open. */
static void test_migrate_v2(void)
{
	char path[300];
	sqlite3 *db;
	sqlite3_stmt *st;
	int64_t n = -1;

	store_close(migrated(
	    "v2.db",
	    UNDO_V7 "DROP INDEX keys_waiting; ALTER TABLE validation DROP COLUMN methods; " UNDO_V5
		    "DROP INDEX audit_child_id; DROP INDEX delivery_state; "
		    "DROP INDEX delivery_pending; DROP TABLE backend_status; "
		    "UPDATE schema_version SET version = 2",
	    path, sizeof(path)));
	CHECK_EQ(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	CHECK_EQ(sqlite3_prepare_v2(db,
				    "SELECT count(*) FROM sqlite_master WHERE type = 'index' AND "
				    "name IN ('audit_child_id', 'delivery_state')",
				    -1, &st, NULL),
		 SQLITE_OK);
	if (sqlite3_step(st) == SQLITE_ROW)
		n = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(db);
	CHECK_EQ(n, 2);
}

/* A version-3 file (before delivery per backend) is migrated on open. */
static void test_migrate_v3(void)
{
	char path[300];
	static struct delivery_status st;
	struct store *s = migrated(
	    "v3.db",
	    UNDO_V7 "DROP INDEX keys_waiting; ALTER TABLE validation DROP COLUMN methods; " UNDO_V5
		    "DROP INDEX delivery_pending; DROP TABLE backend_status; "
		    "UPDATE schema_version SET version = 3",
	    path, sizeof(path));

	CHECK_EQ(store_backend_result(s, N("kept."), "null", 5, NULL), DS_OK);
	CHECK_EQ(store_delivery_status(s, N("kept."), "null", &st), DS_OK);
	CHECK_EQ(st.last_success, 5);
	store_close(s);
}

/* Whether the file at path has an index of that name. */
static bool has_index(const char *path, const char *name)
{
	sqlite3 *db;
	sqlite3_stmt *st;
	bool found = false;

	CHECK_EQ(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	CHECK_EQ(
	    sqlite3_prepare_v2(db, "SELECT 1 FROM sqlite_master WHERE type = 'index' AND name = ?1",
			       -1, &st, NULL),
	    SQLITE_OK);
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	found = sqlite3_step(st) == SQLITE_ROW;
	sqlite3_finalize(st);
	sqlite3_close(db);
	return found;
}

/* A version-5 file (before the queue of keys waiting for the operator) is
 * migrated on open: the index is made, and validation rows get the
 * methods their last result names. */
static void test_migrate_v5(void)
{
	char path[300];
	static struct store_validation v;
	int64_t n = -1;
	struct store *s = migrated(
	    "v5.db",
	    UNDO_V7 "DROP INDEX keys_waiting; ALTER TABLE validation DROP COLUMN methods; "
		    "INSERT INTO zones (id, name, name_text) VALUES (90, x'017800', 'x.'); "
		    "INSERT INTO children (id, zone_id, name, sort_key, name_text, created, "
		    "updated) VALUES (91, 90, x'0163017800', x'78006300', 'c.x.', 1, 1); "
		    "INSERT INTO keys (id, child_id, algorithm, key_tag, flags, rdata, "
		    "public_key, state, created, updated) VALUES (92, 91, 13, 7, 512, "
		    "x'02000300aa', 'qg==', 'validation-failed', 10, 20); "
		    "INSERT INTO validation (key_id, next_at, started, updated, last_result) "
		    "VALUES (92, NULL, 10, 20, 'failed after 2 attempt(s): at-apex: bogus; "
		    "unsigned: the child zone is signed'); "
		    "UPDATE schema_version SET version = 5",
	    path, sizeof(path));

	CHECK(has_index(path, "keys_waiting"));
	CHECK_EQ(store_validation_get(s, 92, &v), DS_OK);
	CHECK(strcmp(v.methods, "at-apex,unsigned") == 0);
	CHECK_EQ(store_waiting_count(s, &n), DS_OK);
	CHECK_EQ(n, 1);
	store_close(s);
}

/* A version-6 file (delegation with a rowid and two unique indexes) is
 * migrated on open: its records come back as they were received, the NS
 * target in its own case, and the indexes no statement reads are gone. */
static void test_migrate_v6(void)
{
	char path[300];
	static struct deleg got;
	static const uint8_t ns[] = {2, 'N', 'S', 1, 'X', 0},
			     ds[] = {0x12, 0x34, 13, 2, 0xaa, 0xbb};
	struct store *s = migrated(
	    "v6.db",
	    UNDO_V7 "INSERT INTO zones (id, name, name_text) VALUES (90, x'017800', 'x.'); "
		    "INSERT INTO children (id, zone_id, name, sort_key, name_text, created, "
		    "updated) VALUES (91, 90, x'0163017800', x'78006300', 'c.x.', 1, 1); "
		    "INSERT INTO delegation (child_id, owner, owner_canon, owner_key, owner_text, "
		    "type, ttl, rdata, rdata_canon, rdata_text) VALUES "
		    "(91, x'0143017800', x'0163017800', x'78006300', 'C.x.', 43, 60, "
		    "x'12340d02aabb', x'12340d02aabb', '4660 13 2 AABB'), "
		    "(91, x'0143017800', x'0163017800', x'78006300', 'C.x.', 2, 60, "
		    "x'024e53015800', x'026e73017800', 'NS.X.'); "
		    "UPDATE schema_version SET version = 6",
	    path, sizeof(path));

	CHECK_EQ(store_deleg_load(s, 91, &got), DS_OK);
	CHECK_EQ(got.n, 2);
	if (got.n == 2) {
		CHECK(got.rr[0].type == T_NS && got.rr[0].rdlen == sizeof(ns) &&
		      memcmp(got.rr[0].rdata, ns, sizeof(ns)) == 0);
		CHECK(got.rr[1].type == T_DS && got.rr[1].rdlen == sizeof(ds) &&
		      memcmp(got.rr[1].rdata, ds, sizeof(ds)) == 0 && got.rr[1].ttl == 60);
		CHECK(got.rr[1].owner[1] == 'C'); /* the owner as received */
	}
	store_close(s);
	CHECK(!has_index(path, "delegation_order"));
	CHECK(!has_index(path, "audit_child"));
	CHECK(has_index(path, "delivery_due"));
	CHECK(has_index(path, "audit_child_id"));
}

/* Collects the replay rows a walk hands over, in its order. */
struct replay_rows {
	int n;
	uint8_t first[3];
	int rcode[3];
};

static int replay_row_cb(void *arg, const uint8_t digest[32], int64_t expires, int rcode)
{
	struct replay_rows *r = arg;
	(void)expires;
	if (r->n < 3) {
		r->first[r->n] = digest[0];
		r->rcode[r->n] = rcode;
	}
	r->n++;
	return DS_OK;
}

/* A version-8 file (replay keyed by its digest) is migrated on open: the
 * rows are kept, oldest expiry first, in a table without the digest key;
 * a digest stored twice keeps its first RCODE when looked up. */
static void test_migrate_v8(void)
{
	char path[300];
	struct replay_rows got = {0};
	int rcode = -1;
	uint8_t d[32];
	struct store *s = migrated(
	    "v8.db",
	    "DROP TABLE replay; CREATE TABLE replay (digest BLOB PRIMARY KEY, expires INTEGER "
	    "NOT NULL, rcode INTEGER NOT NULL) WITHOUT ROWID; CREATE INDEX replay_expires ON "
	    "replay (expires); INSERT INTO replay VALUES "
	    "(x'0000000000000000000000000000000000000000000000000000000000000000', 4000000003, 5), "
	    "(x'0100000000000000000000000000000000000000000000000000000000000000', 4000000001, 0), "
	    "(x'0200000000000000000000000000000000000000000000000000000000000000', 4000000002, 9); "
	    "UPDATE schema_version SET version = 8",
	    path, sizeof(path));

	CHECK_EQ(store_replay_foreach(s, 1, replay_row_cb, &got), DS_OK);
	CHECK_EQ(got.n, 3);
	CHECK(got.first[0] == 1 && got.first[1] == 2 && got.first[2] == 0);
	CHECK(got.rcode[0] == 0 && got.rcode[1] == 9 && got.rcode[2] == 5);
	memset(d, 0, sizeof(d));
	d[0] = 2;
	CHECK_EQ(store_replay_add(s, d, 4000000009, 3), DS_OK);
	CHECK_EQ(store_replay_find(s, d, 1, &rcode), DS_OK);
	CHECK_EQ(rcode, 9);
	store_close(s);
	CHECK(has_index(path, "replay_expires"));
	CHECK(!has_index(path, "sqlite_autoindex_replay_1"));
}

/* ---- admin API: key removal, counts, pages (each on its own store) ---- */

static int64_t add_key(struct store *m, int64_t child_id, uint8_t fill, enum key_state st);
static void check_counts(struct store *m, const int64_t want[KEY_REVOKED + 1]);

/* A version-4 file (before the key counts) is migrated on open: its keys
 * are counted by state, and the counts follow every later change. */
static void test_migrate_v4(void)
{
	char path[300];
	struct store *s = NULL;
	sqlite3 *db;
	int64_t zid, cid, a;
	int64_t want[KEY_REVOKED + 1] = {0};

	snprintf(path, sizeof(path), "%s/v4.db", tmpdir);
	CHECK_EQ(store_open(path, &s), DS_OK);
	if (s == NULL)
		return;
	CHECK_EQ(store_zone_ensure(s, N("kept."), &zid), DS_OK);
	CHECK_EQ(store_child_ensure(s, zid, N("c.kept."), &cid), DS_OK);
	a = add_key(s, cid, 0x71, KEY_KNOWN);
	CHECK(add_key(s, cid, 0x72, KEY_KNOWN) > 0);
	CHECK(add_key(s, cid, 0x73, KEY_TRUSTED) > 0);
	store_close(s);
	s = NULL;
	CHECK_EQ(sqlite3_open(path, &db), SQLITE_OK);
	CHECK_EQ(sqlite3_exec(
		     db,
		     UNDO_V7
		     "DROP INDEX keys_waiting; ALTER TABLE validation DROP COLUMN methods; " UNDO_V5
		     "UPDATE schema_version SET version = 4",
		     NULL, NULL, NULL),
		 SQLITE_OK);
	sqlite3_close(db);
	CHECK_EQ(store_open(path, &s), DS_OK);
	if (s == NULL)
		return;
	CHECK_EQ(store_schema_version(s), STORE_SCHEMA_VERSION);
	want[KEY_KNOWN] = 2;
	want[KEY_TRUSTED] = 1;
	check_counts(s, want);
	CHECK_EQ(store_key_set_state(s, a, KEY_TRUSTED, "manual"), DS_OK);
	want[KEY_KNOWN] = 1;
	want[KEY_TRUSTED] = 2;
	check_counts(s, want);
	store_close(s);
}

#define PAGE_MAX 32

static int64_t add_key(struct store *m, int64_t child_id, uint8_t fill, enum key_state st)
{
	struct store_key k;

	fill_key(&k, fill);
	k.child_id = child_id;
	k.state = st;
	if (store_key_upsert(m, &k) != DS_OK)
		return -1;
	return k.id;
}

static void check_counts(struct store *m, const int64_t want[KEY_REVOKED + 1])
{
	int64_t got[KEY_REVOKED + 1];

	memset(got, 0xff, sizeof(got));
	CHECK_EQ(store_key_counts(m, got), DS_OK);
	for (int i = 0; i <= KEY_REVOKED; i++)
		CHECK_EQ(got[i], want[i]);
}

struct news {
	struct store_key_news v[16];
	size_t n;
};

static void news_cb(void *arg, const struct store_key_news *n)
{
	struct news *nw = arg;
	if (nw->n < 16)
		nw->v[nw->n++] = *n;
}

/* Wait (10 s at most) for announcements on w's descriptor into nw. */
static void news_wait(struct store *w, struct news *nw, size_t want)
{
	for (int i = 0; i < 100 && nw->n < want; i++) {
		int fd = -1;
		CHECK_EQ(store_keys_watch(w, &fd), DS_OK);
		struct pollfd p = {.fd = fd, .events = POLLIN};
		poll(&p, 1, 100);
		CHECK_EQ(store_keys_news(w, news_cb, nw), DS_OK);
	}
}

/* Leases, the replay look-up, and (shared stores) key announcements. */
static void test_nodes(void)
{
	struct store *m = NULL, *w = NULL;
	uint8_t d1[32] = {7};
	int rc = -1, fd = -1;
	int64_t zid, cid, k1;
	struct news nw = {0};

	CHECK_EQ(fresh(&m), DS_OK);
	if (m == NULL)
		return;
	CHECK_EQ(store_lease_take(m, "outbox example. zf", "n1", 100, 130), DS_OK);
	CHECK_EQ(store_lease_take(m, "outbox example. zf", "n2", 110, 140), DS_EEXIST);
	CHECK_EQ(store_lease_take(m, "outbox example. zf", "n1", 120, 150), DS_OK);
	CHECK_EQ(store_lease_take(m, "outbox example. zf", "n2", 149, 180), DS_EEXIST);
	CHECK_EQ(store_lease_take(m, "outbox example. zf", "n2", 150, 180), DS_OK);
	CHECK_EQ(store_lease_take(m, "outbox example. zf", "n1", 160, 190), DS_EEXIST);
	CHECK_EQ(store_lease_take(m, "bootstrap", "n1", 160, 190), DS_OK);
	CHECK_EQ(store_lease_drop(m, "outbox example. zf", "n1"), DS_OK); /* not n1's */
	CHECK_EQ(store_lease_take(m, "outbox example. zf", "n1", 161, 190), DS_EEXIST);
	CHECK_EQ(store_lease_drop(m, "outbox example. zf", "n2"), DS_OK);
	CHECK_EQ(store_lease_take(m, "outbox example. zf", "n1", 162, 190), DS_OK);
	if (on_pg) /* raw_int reads the file: not a :memory: store */
		CHECK_EQ(raw_int("SELECT count(*) FROM leases"), 2);

	CHECK_EQ(store_replay_find(m, d1, 100, &rc), DS_ENOENT);
	CHECK_EQ(store_replay_add(m, d1, 200, RC_REFUSED), DS_OK);
	CHECK_EQ(store_replay_find(m, d1, 200, &rc), DS_OK);
	CHECK_EQ(rc, RC_REFUSED);
	CHECK_EQ(store_replay_find(m, d1, 201, &rc), DS_ENOENT);

	CHECK_EQ(store_shared(m), on_pg);
	if (!on_pg) {
		CHECK_EQ(store_keys_watch(m, &fd), DS_ENOTSUP);
		store_close(m);
		return;
	}
	/* another node's connection hears of each key written and deleted */
	CHECK_EQ(store_open(spec, &w), DS_OK);
	CHECK_EQ(store_keys_watch(w, &fd), DS_OK);
	CHECK(fd >= 0);
	CHECK_EQ(store_zone_ensure(m, N("example."), &zid), DS_OK);
	CHECK_EQ(store_child_ensure(m, zid, N("c.example."), &cid), DS_OK);
	k1 = add_key(m, cid, 0x61, KEY_KNOWN);
	news_wait(w, &nw, 1);
	CHECK_EQ(nw.n, 1);
	CHECK(nw.v[0].what == KEY_NEWS_WRITTEN && nw.v[0].key_id == k1);
	/* in one transaction: announced once, at the commit */
	CHECK_EQ(store_begin(m), DS_OK);
	CHECK_EQ(store_key_set_state(m, k1, KEY_TRUSTED, "manual"), DS_OK);
	CHECK_EQ(store_key_set_state(m, k1, KEY_REVOKED, NULL), DS_OK);
	CHECK_EQ(store_keys_news(w, news_cb, &nw), DS_OK);
	CHECK_EQ(nw.n, 1);
	CHECK_EQ(store_commit(m), DS_OK);
	news_wait(w, &nw, 2);
	CHECK_EQ(nw.n, 2);
	CHECK(nw.v[1].what == KEY_NEWS_WRITTEN && nw.v[1].key_id == k1);
	/* a key deleted: its id, child, algorithm and tag */
	struct store_key got;
	CHECK_EQ(store_key_get(m, k1, &got), DS_OK);
	CHECK_EQ(store_key_delete(m, k1), DS_OK);
	news_wait(w, &nw, 3);
	CHECK_EQ(nw.n, 3);
	CHECK(nw.v[2].what == KEY_NEWS_DELETED && nw.v[2].key_id == k1);
	CHECK(dname_equal(nw.v[2].child, N("c.example.")));
	CHECK(nw.v[2].alg == got.alg && nw.v[2].tag == got.tag);
	/* a child deleted: each of its keys, announced before the child goes */
	int64_t k2 = add_key(m, cid, 0x62, KEY_TRUSTED), k3 = add_key(m, cid, 0x63, KEY_KNOWN);
	news_wait(w, &nw, 5);
	CHECK_EQ(store_child_delete(m, cid), DS_OK);
	news_wait(w, &nw, 7);
	CHECK_EQ(nw.n, 7);
	CHECK(nw.v[5].what == KEY_NEWS_DELETED && nw.v[6].what == KEY_NEWS_DELETED);
	CHECK((nw.v[5].key_id == k2 && nw.v[6].key_id == k3) ||
	      (nw.v[5].key_id == k3 && nw.v[6].key_id == k2));
	CHECK(dname_equal(nw.v[6].child, N("c.example.")));
	store_close(w);
	store_close(m);
}

static int stop_at_first(void *arg, const uint8_t *child, const struct drr *rr)
{
	(void)child;
	(void)rr;
	(*(int *)arg)++;
	return 7;
}

static int count_key(void *arg, const struct store_key *k)
{
	(void)k;
	(*(int *)arg)++;
	return 0;
}

/* A walk stopped at its first row leaves the connection usable (on
 * PostgreSQL these walks read one row at a time); a whole walk sees every
 * row, and a key walk inside a transaction sees its own writes. */
static void test_walk_stop(void)
{
	struct store *m = NULL;
	struct deleg d = {0};
	int64_t zid, cid, got;
	int n = 0, keys = 0;

	CHECK_EQ(fresh(&m), DS_OK);
	if (m == NULL)
		return;
	CHECK_EQ(store_zone_ensure(m, N("walk."), &zid), DS_OK);
	for (int i = 0; i < 50; i++) {
		char name[64];
		snprintf(name, sizeof(name), "c%d.walk.", i);
		d.n = 0;
		d.rr[d.n++] = mk_ns(name, "ns1.example.net.", 3600);
		d.rr[d.n++] = mk_ns(name, "ns2.example.net.", 3600);
		CHECK_EQ(store_child_ensure(m, zid, N(name), &cid), DS_OK);
		CHECK_EQ(store_deleg_write(m, cid, &d), DS_OK);
		add_key(m, cid, (uint8_t)(0x40 + i), KEY_TRUSTED);
	}
	CHECK_EQ(store_zone_deleg_foreach(m, N("walk."), stop_at_first, &n), 7);
	CHECK_EQ(n, 1);
	CHECK_EQ(store_zone_find(m, N("walk."), &got), DS_OK);
	CHECK_EQ(got, zid);
	CHECK_EQ(store_begin(m), DS_OK);
	add_key(m, cid, 0x7f, KEY_KNOWN);
	CHECK_EQ(store_keys_foreach(m, count_key, &keys), DS_OK);
	CHECK_EQ(keys, 51);
	CHECK_EQ(store_commit(m), DS_OK);
	store_close(m);
}

/* PostgreSQL: a session lost inside a transaction.  What the transaction
 * wrote is gone with it: its COMMIT must fail (not "succeed" in a new
 * session with nothing to commit), until ROLLBACK ends it; then the store
 * works again, on a new session. */
static void test_lost_session(void)
{
	struct store *m = NULL;
	char own[sizeof(spec) + 40];
	int64_t zid;

	if (!on_pg)
		return;
	/* a session of its own, found by its name */
	snprintf(own, sizeof(own), "%s application_name=lost-session", spec);
	CHECK_EQ(store_open(own, &m), DS_OK);
	if (m == NULL)
		return;
	CHECK_EQ(store_begin(m), DS_OK);
	CHECK_EQ(store_zone_ensure(m, N("lost."), &zid), DS_OK);
	CHECK_EQ(raw_exec("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
			  "WHERE application_name = 'lost-session'"),
		 DS_OK);
	fprintf(stderr, "(store errors about a lost connection are expected next)\n");
	CHECK(store_zone_ensure(m, N("after."), &zid) != DS_OK);
	CHECK(store_commit(m) != DS_OK);
	CHECK(store_zone_ensure(m, N("after."), &zid) != DS_OK); /* still refused */
	CHECK_EQ(store_rollback(m), DS_OK);
	CHECK_EQ(store_zone_find(m, N("lost."), &zid), DS_ENOENT);
	CHECK_EQ(store_zone_find(m, N("after."), &zid), DS_ENOENT);
	CHECK_EQ(store_begin(m), DS_OK);
	CHECK_EQ(store_zone_ensure(m, N("kept."), &zid), DS_OK);
	CHECK_EQ(store_commit(m), DS_OK);
	CHECK_EQ(store_zone_find(m, N("kept."), &zid), DS_OK);
	store_close(m);
}

static void test_key_delete_counts(void)
{
	struct store *m = NULL;
	struct store_key got;
	struct store_validation v;
	int64_t zid, cid, a, b, c, d, n = -1;
	int64_t want[KEY_REVOKED + 1] = {0};

	CHECK_EQ(fresh(&m), DS_OK);
	if (m == NULL)
		return;
	check_counts(m, want); /* no keys: every state 0 */
	CHECK_EQ(store_zone_ensure(m, N("example."), &zid), DS_OK);
	CHECK_EQ(store_child_ensure(m, zid, N("c.example."), &cid), DS_OK);
	a = add_key(m, cid, 0x61, KEY_KNOWN);
	b = add_key(m, cid, 0x62, KEY_KNOWN);
	c = add_key(m, cid, 0x63, KEY_TRUSTED);
	d = add_key(m, cid, 0x64, KEY_REVOKED);
	CHECK(a > 0 && b > 0 && c > 0 && d > 0);
	want[KEY_KNOWN] = 2;
	want[KEY_TRUSTED] = 1;
	want[KEY_REVOKED] = 1;
	check_counts(m, want);
	/* An upsert of the same key moves it, it is not counted twice. */
	CHECK_EQ(add_key(m, cid, 0x62, KEY_VALIDATING), b);
	CHECK_EQ(store_key_set_state(m, a, KEY_VALIDATION_FAILED, NULL), DS_OK);
	CHECK_EQ(add_key(m, cid, 0x65, KEY_REFUSED) > 0, 1);
	want[KEY_KNOWN] = 0;
	want[KEY_VALIDATING] = 1;
	want[KEY_VALIDATION_FAILED] = 1;
	want[KEY_REFUSED] = 1;
	check_counts(m, want);

	/* A key with a validation row: both go. */
	CHECK_EQ(store_validation_queue(m, b, 100), DS_OK);
	CHECK_EQ(store_validation_queue(m, c, 200), DS_OK);
	CHECK_EQ(store_validation_pending(m, &n), DS_OK);
	CHECK_EQ(n, 2);
	CHECK_EQ(store_key_delete(m, b), DS_OK);
	CHECK_EQ(store_key_get(m, b, &got), DS_ENOENT);
	CHECK_EQ(store_validation_get(m, b, &v), DS_ENOENT);
	CHECK_EQ(store_validation_pending(m, &n), DS_OK);
	CHECK_EQ(n, 1);
	CHECK_EQ(store_validation_get(m, c, &v), DS_OK); /* the other row stays */
	CHECK_EQ(store_key_get(m, c, &got), DS_OK);
	want[KEY_VALIDATING] = 0;
	check_counts(m, want);
	/* Again, and an id never used: DS_ENOENT. */
	CHECK_EQ(store_key_delete(m, b), DS_ENOENT);
	CHECK_EQ(store_key_delete(m, 987654), DS_ENOENT);
	/* A key without a validation row. */
	CHECK_EQ(store_key_delete(m, d), DS_OK);
	want[KEY_REVOKED] = 0;
	check_counts(m, want);
	/* Inside a rolled-back transaction the delete is undone. */
	CHECK_EQ(store_begin(m), DS_OK);
	CHECK_EQ(store_key_delete(m, c), DS_OK);
	CHECK_EQ(store_rollback(m), DS_OK);
	CHECK_EQ(store_key_get(m, c, &got), DS_OK);
	CHECK_EQ(store_validation_get(m, c, &v), DS_OK);
	check_counts(m, want);
	store_close(m);
}

struct child_page {
	size_t n;
	int stop_after;
	struct store_child_row r[PAGE_MAX];
};

/*
 * Keep row (size bytes) as rows[*n] while there is room and count it; stop
 * (the callback's value) once stop_after rows were seen, when that is set.
 */
static int page_keep(size_t *n, int stop_after, int stop, void *rows, const void *row, size_t size)
{
	if (*n < PAGE_MAX)
		memcpy((char *)rows + *n * size, row, size);
	(*n)++;
	return stop_after > 0 && (int)*n == stop_after ? stop : 0;
}

static int child_page_cb(void *arg, const struct store_child_row *c)
{
	struct child_page *p = arg;
	return page_keep(&p->n, p->stop_after, 7, p->r, c, sizeof(*c));
}

/* Cursors that are not the last row of a page. */
static void children_check_cursors(struct store *m)
{
	static struct child_page p;

	/* The cursor in another case; a cursor that is no child (between
	 * zABC.a.example. and z.example.); a cursor after the last. */
	memset(&p, 0, sizeof(p));
	CHECK_EQ(
	    store_children_page(m, N("EXAMPLE."), N("YLJKJLJK.A.Example."), 2, child_page_cb, &p),
	    DS_OK);
	CHECK_EQ(p.n, 2);
	CHECK(dname_equal(p.r[0].name, N("z.a.example.")));
	CHECK(dname_equal(p.r[1].name, N("zabc.a.example.")));
	memset(&p, 0, sizeof(p));
	CHECK_EQ(store_children_page(m, N("example."), N("zz.a.example."), 1, child_page_cb, &p),
		 DS_OK);
	CHECK_EQ(p.n, 1);
	CHECK(dname_equal(p.r[0].name, N("z.example.")));
	memset(&p, 0, sizeof(p));
	CHECK_EQ(store_children_page(m, N("example."), N("\\200.z.example."), 5, child_page_cb, &p),
		 DS_OK);
	CHECK_EQ(p.n, 0);
}

/* store_deleg_change: the delegation and its outbox rows, both or neither;
 * with next NULL the child goes, with its delegation, keys and validations. */
static void test_deleg_change(void)
{
	struct store *m = NULL;
	struct deleg *d = calloc(1, sizeof(*d)), *got = calloc(1, sizeof(*got));
	const char *b[] = {"one", "two"}, *toolong[] = {"x123456789012345678901234567890123456789"
							"0123456789012345678901234567890"};
	int64_t zid, cid, kid, chg = 0, n = -1;
	struct store_key k;

	CHECK_EQ(fresh(&m), DS_OK);
	if (m == NULL || d == NULL || got == NULL)
		goto out;
	CHECK_EQ(store_zone_ensure(m, N("example."), &zid), DS_OK);
	CHECK_EQ(store_child_ensure(m, zid, N("c.example."), &cid), DS_OK);
	d->rr[d->n++] = mk_ns("c.example.", "ns1.c.example.", 3600);
	d->rr[d->n++] = mk_a("ns1.c.example.", 1);
	CHECK_EQ(
	    store_deleg_change(m, N("example."), N("c.example."), cid, d, "+ x\n", b, 2, 100, &chg),
	    DS_OK);
	CHECK(chg > 0);
	CHECK_EQ(store_outbox_pending(m, &n), DS_OK);
	CHECK_EQ(n, 2);
	/* a backend name the outbox refuses: the delegation write is undone too */
	d->rr[d->n++] = mk_ns("c.example.", "ns2.example.net.", 3600);
	CHECK_EQ(store_deleg_change(m, N("example."), N("c.example."), cid, d, "+ y\n", toolong, 1,
				    100, &chg),
		 DS_EINVAL);
	CHECK_EQ(store_deleg_load(m, cid, got), DS_OK);
	CHECK_EQ(got->n, 2);
	/* the child deleted: delegation, keys, validations go; the outbox row stays */
	kid = add_key(m, cid, 0x41, KEY_TRUSTED);
	CHECK_EQ(store_validation_queue(m, kid, 5), DS_OK);
	CHECK_EQ(store_deleg_change(m, N("example."), N("c.example."), cid, NULL, "- x\n", b, 2,
				    101, &chg),
		 DS_OK);
	CHECK_EQ(store_child_find(m, zid, N("c.example."), &cid), DS_ENOENT);
	CHECK_EQ(store_deleg_load(m, cid, got), DS_OK);
	CHECK_EQ(got->n, 0);
	CHECK_EQ(store_key_get(m, kid, &k), DS_ENOENT);
	CHECK_EQ(store_validation_pending(m, &n), DS_OK);
	CHECK_EQ(n, 0);
	CHECK_EQ(store_outbox_pending(m, &n), DS_OK);
	CHECK_EQ(n, 4);
	CHECK_EQ(store_child_delete(m, cid), DS_ENOENT); /* gone already */
out:
	store_close(m);
	free(d);
	free(got);
}

static void test_children_page(void)
{
	struct store *m = NULL;
	static struct child_page p, all;
	uint8_t lower[DNAME_MAX];
	const uint8_t *cursor = NULL;
	int64_t zid, other, cid;
	int pages = 0;

	CHECK_EQ(fresh(&m), DS_OK);
	if (m == NULL)
		return;
	/* Unknown zone: DS_ENOENT, no calls. */
	memset(&p, 0, sizeof(p));
	CHECK_EQ(store_children_page(m, N("example."), NULL, 10, child_page_cb, &p), DS_ENOENT);
	CHECK_EQ(p.n, 0);
	CHECK_EQ(store_zone_ensure(m, N("example."), &zid), DS_OK);
	/* A known zone without children: no rows. */
	CHECK_EQ(store_children_page(m, N("Example."), NULL, 10, child_page_cb, &p), DS_OK);
	CHECK_EQ(p.n, 0);
	/* Inserted in reverse so that neither id nor insertion order is canonical;
	 * another zone's children must not show. */
	CHECK_EQ(store_zone_ensure(m, N("z.example."), &other), DS_OK);
	CHECK_EQ(store_child_ensure(m, other, N("b.z.example."), &cid), DS_OK);
	for (size_t i = NCANON; i-- > 0;)
		CHECK_EQ(store_child_ensure(m, zid, N(canon_children[i]), &cid), DS_OK);

	/* Pages of 2: 2 + 2 + 2 + 2 + 1, then an empty page. */
	memset(&all, 0, sizeof(all));
	for (int guard = 0; guard < 20; guard++) {
		memset(&p, 0, sizeof(p));
		CHECK_EQ(store_children_page(m, N("example."), cursor, 2, child_page_cb, &p),
			 DS_OK);
		CHECK(p.n <= 2);
		if (p.n == 0)
			break;
		pages++;
		for (size_t i = 0; i < p.n && all.n < PAGE_MAX; i++)
			all.r[all.n++] = p.r[i];
		cursor = all.r[all.n - 1].name;
	}
	CHECK_EQ(pages, 5);
	CHECK_EQ(all.n, NCANON);
	for (size_t i = 0; i < NCANON && i < all.n; i++) {
		dname_lower(lower, N(canon_children[i]));
		CHECK(dname_len(all.r[i].name) == dname_len(lower) &&
		      memcmp(all.r[i].name, lower, dname_len(lower)) == 0);
		CHECK(all.r[i].id > 0);
		CHECK(all.r[i].created > 0);
		CHECK(all.r[i].updated >= all.r[i].created);
	}
	children_check_cursors(m);
	/* limit 0: nothing; a callback's non-zero stops the walk. */
	CHECK_EQ(store_children_page(m, N("example."), NULL, 0, child_page_cb, &p), DS_OK);
	CHECK_EQ(p.n, 0);
	p.stop_after = 2;
	CHECK_EQ(store_children_page(m, N("example."), NULL, 100, child_page_cb, &p), 7);
	CHECK_EQ(p.n, 2);
	/* The other zone has its own one child. */
	memset(&p, 0, sizeof(p));
	CHECK_EQ(store_children_page(m, N("z.example."), NULL, 100, child_page_cb, &p), DS_OK);
	CHECK_EQ(p.n, 1);
	CHECK(dname_equal(p.r[0].name, N("b.z.example.")));
	/* Bad names. */
	CHECK_EQ(store_children_page(m, NULL, NULL, 1, child_page_cb, &p), DS_EINVAL);
	store_close(m);
}

struct val_page {
	size_t n;
	int stop_after;
	struct store_validation v[PAGE_MAX];
};

static int val_page_cb(void *arg, const struct store_validation *v)
{
	struct val_page *p = arg;
	return page_keep(&p->n, p->stop_after, 9, p->v, v, sizeof(*v));
}

/* Six keys of child cid in validation, one ended, one tried. */
static void val_fill(struct store *m, int64_t cid, int64_t k[6])
{
	struct store_validation v;

	for (int i = 0; i < 6; i++)
		k[i] = add_key(m, cid, (uint8_t)(0x70 + i), KEY_VALIDATING);
	/* next_at: k0 300, k1 100, k2 300 (tie: key id decides), k3 200,
	 * k4 ended (not pending), k5 100; k5 > k1 by id. */
	CHECK_EQ(store_validation_queue(m, k[0], 300), DS_OK);
	CHECK_EQ(store_validation_queue(m, k[1], 100), DS_OK);
	CHECK_EQ(store_validation_queue(m, k[2], 300), DS_OK);
	CHECK_EQ(store_validation_queue(m, k[3], 200), DS_OK);
	CHECK_EQ(store_validation_queue(m, k[4], 50), DS_OK);
	CHECK_EQ(store_validation_queue(m, k[5], 100), DS_OK);
	CHECK_EQ(store_validation_get(m, k[4], &v), DS_OK);
	v.next_at = -1;
	v.attempts = 3;
	snprintf(v.last_result, sizeof(v.last_result), "gave up");
	CHECK_EQ(store_validation_update(m, &v), DS_OK);
	CHECK_EQ(store_validation_get(m, k[3], &v), DS_OK);
	v.attempts = 2;
	v.rounds = 1;
	v.updated = 210;
	snprintf(v.last_result, sizeof(v.last_result), "at-ns: 1 of 2 agree");
	CHECK_EQ(store_validation_update(m, &v), DS_OK);
}

static void test_validations_page(void)
{
	struct store *m = NULL;
	static struct val_page p, all;
	int64_t zid, cid, k[6], after_at = 0, after_id = 0;
	int pages = 0;

	CHECK_EQ(fresh(&m), DS_OK);
	if (m == NULL)
		return;
	memset(&p, 0, sizeof(p));
	CHECK_EQ(store_validations_page(m, 0, 0, 10, val_page_cb, &p), DS_OK);
	CHECK_EQ(p.n, 0);
	CHECK_EQ(store_zone_ensure(m, N("example."), &zid), DS_OK);
	CHECK_EQ(store_child_ensure(m, zid, N("c.example."), &cid), DS_OK);
	val_fill(m, cid, k);

	memset(&all, 0, sizeof(all));
	for (int guard = 0; guard < 20; guard++) {
		memset(&p, 0, sizeof(p));
		CHECK_EQ(store_validations_page(m, after_at, after_id, 2, val_page_cb, &p), DS_OK);
		CHECK(p.n <= 2);
		if (p.n == 0)
			break;
		pages++;
		for (size_t i = 0; i < p.n && all.n < PAGE_MAX; i++)
			all.v[all.n++] = p.v[i];
		after_at = all.v[all.n - 1].next_at;
		after_id = all.v[all.n - 1].key_id;
	}
	CHECK_EQ(pages, 3);
	CHECK_EQ(all.n, 5);
	{
		const int64_t want_key[5] = {k[1], k[5], k[3], k[0], k[2]};
		const int64_t want_at[5] = {100, 100, 200, 300, 300};
		for (size_t i = 0; i < 5 && i < all.n; i++) {
			CHECK_EQ(all.v[i].key_id, want_key[i]);
			CHECK_EQ(all.v[i].next_at, want_at[i]);
		}
	}
	/* The row's fields come through. */
	CHECK_EQ(all.v[2].attempts, 2);
	CHECK_EQ(all.v[2].rounds, 1);
	CHECK_EQ(all.v[2].updated, 210);
	CHECK_EQ(all.v[2].started, 200);
	CHECK(strcmp(all.v[2].last_result, "at-ns: 1 of 2 agree") == 0);
	/* A cursor between the tie: (100, k1) gives k5 next; (300, k0) gives k2. */
	memset(&p, 0, sizeof(p));
	CHECK_EQ(store_validations_page(m, 100, k[1], 1, val_page_cb, &p), DS_OK);
	CHECK_EQ(p.n, 1);
	CHECK_EQ(p.v[0].key_id, k[5]);
	memset(&p, 0, sizeof(p));
	CHECK_EQ(store_validations_page(m, 300, k[0], 10, val_page_cb, &p), DS_OK);
	CHECK_EQ(p.n, 1);
	CHECK_EQ(p.v[0].key_id, k[2]);
	/* after_key_id 0 starts at the first whatever after_next_at says. */
	memset(&p, 0, sizeof(p));
	CHECK_EQ(store_validations_page(m, 999, 0, 1, val_page_cb, &p), DS_OK);
	CHECK_EQ(p.n, 1);
	CHECK_EQ(p.v[0].key_id, k[1]);
	/* Stop. */
	memset(&p, 0, sizeof(p));
	p.stop_after = 3;
	CHECK_EQ(store_validations_page(m, 0, 0, 10, val_page_cb, &p), 9);
	CHECK_EQ(p.n, 3);
	store_close(m);
}

struct audit_page {
	size_t n;
	int stop_after;
	int64_t id[PAGE_MAX];
	int64_t time[PAGE_MAX];
	int key_tag[PAGE_MAX];
	int rcode[PAGE_MAX];
	char child[PAGE_MAX][64];
	char zone[PAGE_MAX][64];
	char result[PAGE_MAX][32];
	char reason[PAGE_MAX][64];
	char client[PAGE_MAX][32];
	char actor[PAGE_MAX][32];
	char request[PAGE_MAX][32];
};

static int audit_page_cb(void *arg, const struct audit_row *r)
{
	struct audit_page *p = arg;

	if (p->n < PAGE_MAX) {
		size_t i = p->n;
		p->id[i] = r->id;
		p->time[i] = r->a.time;
		p->key_tag[i] = r->a.key_tag;
		p->rcode[i] = r->a.rcode;
		/* NULL strings shown as "(null)" so that tests can tell. */
		snprintf(p->child[i], 64, "%s", r->a.child ? r->a.child : "(null)");
		snprintf(p->zone[i], 64, "%s", r->a.zone ? r->a.zone : "(null)");
		snprintf(p->result[i], 32, "%s", r->a.result ? r->a.result : "(null)");
		snprintf(p->reason[i], 64, "%s", r->a.reason ? r->a.reason : "(null)");
		snprintf(p->client[i], 32, "%s", r->a.client ? r->a.client : "(null)");
		snprintf(p->actor[i], 32, "%s", r->a.actor ? r->a.actor : "(null)");
		snprintf(p->request[i], 32, "%s", r->a.request ? r->a.request : "(null)");
	}
	p->n++;
	return p->stop_after > 0 && (int)p->n == p->stop_after ? 11 : 0;
}

/* One page of at most limit rows after the id after: the rows' ids. */
typedef int (*page_fetch)(struct store *m, const void *filter, int64_t after, size_t limit,
			  size_t *n, int64_t ids[PAGE_MAX]);

/* A page_fetch's result: the store call's rc, the page's count and ids copied out. */
static int page_got(int rc, const size_t *pn, const int64_t pid[PAGE_MAX], size_t *n,
		    int64_t ids[PAGE_MAX])
{
	*n = *pn;
	memcpy(ids, pid, PAGE_MAX * sizeof(pid[0]));
	return rc;
}

/* All matching ids, newest first, paging with limit; returns the pages. */
static int page_ids(struct store *m, page_fetch fetch, const void *filter, size_t limit,
		    int64_t out[PAGE_MAX], size_t *n)
{
	int64_t after = 0, ids[PAGE_MAX];
	size_t got;
	int pages = 0;

	*n = 0;
	for (int guard = 0; guard < 40; guard++) {
		if (fetch(m, filter, after, limit, &got, ids) != DS_OK)
			return -1;
		if (got > limit)
			return -1;
		if (got == 0)
			break;
		pages++;
		for (size_t i = 0; i < got && *n < PAGE_MAX; i++)
			out[(*n)++] = ids[i];
		after = ids[got - 1];
	}
	return pages;
}

static int audit_fetch(struct store *m, const void *f, int64_t after, size_t limit, size_t *n,
		       int64_t ids[PAGE_MAX])
{
	static struct audit_page p;

	memset(&p, 0, sizeof(p));
	return page_got(store_audit_page(m, f, after, limit, audit_page_cb, &p), &p.n, p.id, n,
			ids);
}

static int audit_ids(struct store *m, const struct audit_filter *f, size_t limit,
		     int64_t out[PAGE_MAX], size_t *n)
{
	return page_ids(m, audit_fetch, f, limit, out, n);
}

#define IDS_ARE(got, ngot, ...)                                                                    \
	do {                                                                                       \
		const int64_t want_[] = {__VA_ARGS__};                                             \
		size_t nwant_ = sizeof(want_) / sizeof(want_[0]);                                  \
		CHECK_EQ(ngot, nwant_);                                                            \
		for (size_t i_ = 0; i_ < nwant_ && i_ < (ngot); i_++)                              \
			CHECK_EQ(got[i_], want_[i_]);                                              \
	} while (0)

/* ids 1..10 in this order */
static const struct {
	int64_t time;
	const char *child, *result;
} audit_rows[] = {
    {100, "Child.Example.", "accepted"},	/* 1 */
    {200, "other.example.", "refused"},		/* 2 */
    {300, "child.example.", "refused"},		/* 3 */
    {400, NULL, "formerr"},			/* 4 */
    {500, "CHILD.EXAMPLE.", "accepted"},	/* 5 */
    {600, "100%.example.", "accepted"},		/* 6 */
    {700, "100x.example.", "accepted"},		/* 7 */
    {800, "a_b.example.", "' OR 1=1 --"},	/* 8 */
    {900, "axb.example.", "accepted"},		/* 9 */
    {1000, "o'neil\\\"%_.example.", "refused"}, /* 10 */
};

/* One filter over audit_rows: the pages of limit rows, the ids newest first. */
static const struct audit_case {
	const char *child, *result;
	int64_t since, until;
	size_t limit;
	int pages;
	int64_t ids[11]; /* 0-terminated */
} audit_cases[] = {
    /* Child, in any case, with the final dot; pages of 2. */
    {"child.example.", NULL, 0, 0, 2, 2, {5, 3, 1}},
    {"cHiLd.ExAmPlE.", NULL, 0, 0, 2, 2, {5, 3, 1}},
    {"child.example", NULL, 0, 0, 2, 0, {0}}, /* without the dot: another name */
    {"", NULL, 0, 0, 2, 0, {0}},
    /* Result alone: exact, case counts. */
    {NULL, "accepted", 0, 0, 2, 3, {9, 7, 6, 5, 1}},
    {NULL, "Accepted", 0, 0, 2, 0, {0}},
    /* Time bounds alone, both inclusive. */
    {NULL, NULL, 300, 0, 2, 4, {10, 9, 8, 7, 6, 5, 4, 3}},
    {NULL, NULL, 0, 300, 2, 2, {3, 2, 1}},
    {NULL, NULL, 300, 300, 2, 1, {3}},
    {NULL, NULL, 301, 300, 2, 0, {0}}, /* since > until: nothing */
    /* Combined. */
    {"CHILD.example.", "accepted", 0, 0, 1, 2, {5, 1}},
    {"CHILD.example.", "accepted", 200, 0, 1, 1, {5}},
    {"CHILD.example.", "accepted", 200, 499, 1, 0, {0}},
    {"CHILD.example.", "refused", 200, 499, 1, 1, {3}},
    {NULL, "refused", 250, 0, 2, 1, {10, 3}},
    /* Hostile filters match literally: no wildcard, no quoting games. */
    {"100%.example.", NULL, 0, 0, 2, 1, {6}},
    {"a_b.example.", NULL, 0, 0, 2, 1, {8}},
    {"%", NULL, 0, 0, 2, 0, {0}},
    {"O'NEIL\\\"%_.example.", NULL, 0, 0, 2, 1, {10}},
    {"x' OR '1'='1", NULL, 0, 0, 2, 0, {0}},
    {NULL, "' OR 1=1 --", 0, 0, 2, 1, {8}},
    {NULL, "%", 0, 0, 2, 0, {0}},
};

static void audit_fill(struct store *m)
{
	for (size_t i = 0; i < sizeof(audit_rows) / sizeof(audit_rows[0]); i++) {
		struct audit_rec a = {.time = audit_rows[i].time,
				      .client = "192.0.2.7#53",
				      .zone = i == 1 ? NULL : "example.",
				      .child = audit_rows[i].child,
				      .key_tag = i == 0 ? 4242 : -1,
				      .actor = "update",
				      .request = "add NS",
				      .result = audit_rows[i].result,
				      .rcode = (int)i,
				      .reason = "why"};
		CHECK_EQ(store_audit_add(m, &a), DS_OK);
	}
}

/* Every field of a row comes through; NULL strings stay NULL. */
static void audit_check_fields(struct store *m)
{
	static struct audit_page p;

	memset(&p, 0, sizeof(p));
	CHECK_EQ(store_audit_page(m, NULL, 3, 2, audit_page_cb, &p), DS_OK);
	CHECK_EQ(p.n, 2);
	CHECK_EQ(p.id[0], 2);
	CHECK(strcmp(p.zone[0], "(null)") == 0);
	CHECK_EQ(p.key_tag[0], -1);
	CHECK_EQ(p.time[0], 200);
	CHECK_EQ(p.rcode[0], 1);
	CHECK(strcmp(p.child[0], "other.example.") == 0);
	CHECK(strcmp(p.result[0], "refused") == 0);
	CHECK_EQ(p.id[1], 1);
	CHECK_EQ(p.key_tag[1], 4242);
	CHECK(strcmp(p.child[1], "Child.Example.") == 0); /* case as written */
	CHECK(strcmp(p.zone[1], "example.") == 0);
	CHECK(strcmp(p.client[1], "192.0.2.7#53") == 0);
	CHECK(strcmp(p.actor[1], "update") == 0);
	CHECK(strcmp(p.request[1], "add NS") == 0);
	CHECK(strcmp(p.reason[1], "why") == 0);
	memset(&p, 0, sizeof(p));
	CHECK_EQ(store_audit_page(m, NULL, 5, 1, audit_page_cb, &p), DS_OK);
	CHECK_EQ(p.id[0], 4);
	CHECK(strcmp(p.child[0], "(null)") == 0);
}

static void audit_check_case(struct store *m, const struct audit_case *c)
{
	struct audit_filter f = {
	    .child = c->child, .result = c->result, .since = c->since, .until = c->until};
	int64_t ids[PAGE_MAX];
	size_t n, nwant = 0;

	CHECK_EQ(audit_ids(m, &f, c->limit, ids, &n), c->pages);
	while (c->ids[nwant] != 0)
		nwant++;
	CHECK_EQ(n, nwant);
	for (size_t i = 0; i < nwant && i < n; i++)
		CHECK_EQ(ids[i], c->ids[i]);
}

/* Cursors at the edges; limit 0; stop. */
static void audit_check_edges(struct store *m)
{
	static struct audit_page p;

	memset(&p, 0, sizeof(p));
	CHECK_EQ(store_audit_page(m, NULL, 1, 10, audit_page_cb, &p), DS_OK);
	CHECK_EQ(p.n, 0);
	CHECK_EQ(store_audit_page(m, NULL, 1000, 1, audit_page_cb, &p), DS_OK);
	CHECK_EQ(p.n, 1);
	CHECK_EQ(p.id[0], 10);
	memset(&p, 0, sizeof(p));
	CHECK_EQ(store_audit_page(m, NULL, 0, 0, audit_page_cb, &p), DS_OK);
	CHECK_EQ(p.n, 0);
	p.stop_after = 4;
	CHECK_EQ(store_audit_page(m, NULL, 0, 100, audit_page_cb, &p), 11);
	CHECK_EQ(p.n, 4);
}

struct waiting_page {
	size_t n;
	int stop_after;
	struct store_waiting w[PAGE_MAX];
};

static int waiting_cb(void *arg, const struct store_waiting *w)
{
	struct waiting_page *p = arg;
	return page_keep(&p->n, p->stop_after, 9, p->w, w, sizeof(*w));
}

/* A key of child cid with tag, state and updated time as given. */
static int64_t waiting_key(struct store *m, int64_t cid, uint8_t fill, uint16_t tag,
			   enum key_state st, int64_t updated)
{
	struct store_key k;

	fill_key(&k, fill);
	k.child_id = cid;
	k.tag = tag;
	k.state = st;
	k.created = 5;
	k.updated = updated;
	return store_key_upsert(m, &k) == DS_OK ? k.id : -1;
}

/* test_waiting_page, continued: leaving the queue, the tag check, stop. */
static void waiting_tail(struct store *m, int64_t a1, int64_t a3, int64_t b2)
{
	static struct waiting_page p;
	int64_t n = -1;

	/* a key trusted leaves the queue */
	CHECK_EQ(store_key_set_state(m, b2, KEY_TRUSTED, "manual"), DS_OK);
	CHECK_EQ(store_waiting_count(m, &n), DS_OK);
	CHECK_EQ(n, 3);
	/* the tag check of one key */
	{
		static struct store_key k;
		bool shared = false;
		CHECK_EQ(store_key_get(m, a1, &k), DS_OK);
		CHECK_EQ(store_key_tag_shared(m, &k, &shared), DS_OK);
		CHECK(shared);
		CHECK_EQ(store_key_get(m, a3, &k), DS_OK);
		CHECK_EQ(store_key_tag_shared(m, &k, &shared), DS_OK);
		CHECK(!shared);
	}
	/* stop */
	memset(&p, 0, sizeof(p));
	p.stop_after = 1;
	CHECK_EQ(store_waiting_page(m, 0, 0, 10, waiting_cb, &p), 9);
}

/* The keys waiting for the operator: one queue over the children, longest
 * waiting first, paged by (since, key id), with what the scheduler found. */
static void test_waiting_page(void)
{
	struct store *m = NULL;
	static struct waiting_page p;
	static struct store_validation v;
	int64_t zid, ca, cb, a1, a3, a4, b2, n = -1;

	CHECK_EQ(fresh(&m), DS_OK);
	if (m == NULL)
		return;
	CHECK_EQ(store_zone_ensure(m, N("example."), &zid), DS_OK);
	CHECK_EQ(store_child_ensure(m, zid, N("a.example."), &ca), DS_OK);
	CHECK_EQ(store_child_ensure(m, zid, N("b.example."), &cb), DS_OK);
	memset(&p, 0, sizeof(p));
	CHECK_EQ(store_waiting_page(m, 0, 0, 10, waiting_cb, &p), DS_OK);
	CHECK_EQ(p.n, 0);
	a1 = waiting_key(m, ca, 1, 100, KEY_KNOWN, 300);
	waiting_key(m, ca, 2, 200, KEY_TRUSTED, 100);
	a3 = waiting_key(m, ca, 3, 300, KEY_VALIDATION_FAILED, 200);
	a4 = waiting_key(m, ca, 4, 100, KEY_KNOWN, 300); /* a1's tag, another key */
	waiting_key(m, cb, 5, 500, KEY_VALIDATING, 50);
	b2 = waiting_key(m, cb, 6, 600, KEY_KNOWN, 250);
	waiting_key(m, cb, 7, 700, KEY_REVOKED, 10);
	CHECK_EQ(store_validation_queue(m, a3, 150), DS_OK);
	CHECK_EQ(store_validation_get(m, a3, &v), DS_OK);
	v.next_at = -1;
	v.attempts = 8;
	v.updated = 200;
	snprintf(v.methods, sizeof(v.methods), "at-ns");
	snprintf(v.last_result, sizeof(v.last_result), "failed after 8 attempt(s): at-ns: no KEY");
	CHECK_EQ(store_validation_update(m, &v), DS_OK);

	CHECK_EQ(store_waiting_count(m, &n), DS_OK);
	CHECK_EQ(n, 4);
	memset(&p, 0, sizeof(p));
	CHECK_EQ(store_waiting_page(m, 0, 0, 10, waiting_cb, &p), DS_OK);
	CHECK_EQ(p.n, 4);
	{
		const int64_t want[4] = {a3, b2, a1, a4};
		for (size_t i = 0; i < 4 && i < p.n; i++)
			CHECK_EQ(p.w[i].key_id, want[i]);
	}
	if (p.n == 4) {
		CHECK(dname_equal(p.w[0].child, N("a.example.")));
		CHECK(dname_equal(p.w[0].zone, N("example.")));
		CHECK(dname_equal(p.w[1].child, N("b.example.")));
		CHECK_EQ(p.w[0].state, KEY_VALIDATION_FAILED);
		CHECK_EQ(p.w[0].since, 200);
		CHECK_EQ(p.w[0].created, 5);
		CHECK_EQ(p.w[0].tag, 300);
		CHECK_EQ(p.w[0].alg, ALG_ECDSAP256SHA256);
		CHECK(p.w[0].validated);
		CHECK_EQ(p.w[0].attempts, 8);
		CHECK(strcmp(p.w[0].methods, "at-ns") == 0);
		CHECK(strcmp(p.w[0].last_result, "failed after 8 attempt(s): at-ns: no KEY") == 0);
		CHECK(!p.w[0].tag_shared);
		CHECK(!p.w[1].validated);
		CHECK_EQ(p.w[1].last_result[0], '\0');
		CHECK(!p.w[1].tag_shared);
		CHECK(p.w[2].tag_shared);
		CHECK(p.w[3].tag_shared);
	}
	/* pages of 2; a cursor inside the tie at 300 goes on by key id */
	memset(&p, 0, sizeof(p));
	CHECK_EQ(store_waiting_page(m, 250, b2, 2, waiting_cb, &p), DS_OK);
	CHECK_EQ(p.n, 2);
	CHECK_EQ(p.w[0].key_id, a1);
	memset(&p, 0, sizeof(p));
	CHECK_EQ(store_waiting_page(m, 300, a1, 2, waiting_cb, &p), DS_OK);
	CHECK_EQ(p.n, 1);
	CHECK_EQ(p.w[0].key_id, a4);
	waiting_tail(m, a1, a3, b2);
	store_close(m);
}

static void test_audit_page(void)
{
	struct store *m = NULL;
	struct audit_filter f;
	int64_t ids[PAGE_MAX];
	size_t n;

	CHECK_EQ(fresh(&m), DS_OK);
	if (m == NULL)
		return;
	/* Empty table: no rows, with or without filters. */
	memset(&f, 0, sizeof(f));
	CHECK_EQ(audit_ids(m, NULL, 2, ids, &n), 0);
	CHECK_EQ(n, 0);
	f.child = "child.example.";
	CHECK_EQ(audit_ids(m, &f, 2, ids, &n), 0);
	CHECK_EQ(n, 0);
	audit_fill(m);

	/* No filter: all, newest first, pages of 2 (5 pages). */
	CHECK_EQ(audit_ids(m, NULL, 2, ids, &n), 5);
	IDS_ARE(ids, n, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1);
	memset(&f, 0, sizeof(f));
	CHECK_EQ(audit_ids(m, &f, 3, ids, &n), 4);
	CHECK_EQ(n, 10);

	audit_check_fields(m);
	for (size_t i = 0; i < sizeof(audit_cases) / sizeof(audit_cases[0]); i++)
		audit_check_case(m, &audit_cases[i]);
	audit_check_edges(m);
	store_close(m);
}

struct deliv_page {
	size_t n;
	int stop_after;
	int64_t id[PAGE_MAX], change_id[PAGE_MAX], next_attempt[PAGE_MAX];
	int64_t last_attempt[PAGE_MAX], delivered_at[PAGE_MAX], created[PAGE_MAX];
	int attempts[PAGE_MAX];
	char zone[PAGE_MAX][32], child[PAGE_MAX][32], backend[PAGE_MAX][16];
	char state[PAGE_MAX][16], last_error[PAGE_MAX][32], changes[PAGE_MAX][64];
};

static int deliv_page_cb(void *arg, const struct delivery_row *d)
{
	struct deliv_page *p = arg;

	if (p->n < PAGE_MAX) {
		size_t i = p->n;
		p->id[i] = d->id;
		p->change_id[i] = d->change_id;
		p->next_attempt[i] = d->next_attempt;
		p->last_attempt[i] = d->last_attempt;
		p->delivered_at[i] = d->delivered_at;
		p->created[i] = d->created;
		p->attempts[i] = d->attempts;
		snprintf(p->zone[i], 32, "%s", d->zone);
		snprintf(p->child[i], 32, "%s", d->child);
		snprintf(p->backend[i], 16, "%s", d->backend);
		snprintf(p->state[i], 16, "%s", d->state);
		snprintf(p->last_error[i], 32, "%s", d->last_error ? d->last_error : "(null)");
		snprintf(p->changes[i], 64, "%s", d->changes);
	}
	p->n++;
	return p->stop_after > 0 && (int)p->n == p->stop_after ? 13 : 0;
}

static int deliv_fetch(struct store *m, const void *state, int64_t after, size_t limit, size_t *n,
		       int64_t ids[PAGE_MAX])
{
	static struct deliv_page p;

	memset(&p, 0, sizeof(p));
	return page_got(store_deliveries_page(m, state, after, limit, deliv_page_cb, &p), &p.n,
			p.id, n, ids);
}

static int deliv_ids(struct store *m, const char *state, size_t limit, int64_t out[PAGE_MAX],
		     size_t *n)
{
	return page_ids(m, deliv_fetch, state, limit, out, n);
}

/* Deliveries 1..6: change 1 -> 1, 2; change 2 -> 3, 4; change 3 -> 5, 6. */
static void deliv_fill(struct store *m, int64_t c[3])
{
	const char *const two[] = {"null", "zonefile"};

	CHECK_EQ(store_outbox_add(m, N("Example."), N("A.example."), "+ a\n", two, 2, 100, &c[0]),
		 DS_OK);
	CHECK_EQ(store_outbox_add(m, N("example."), N("b.example."), "+ b\n", two, 2, 200, &c[1]),
		 DS_OK);
	CHECK_EQ(store_outbox_add(m, N("example."), N("c.example."), "- c\n", two, 2, 300, &c[2]),
		 DS_OK);
	CHECK_EQ(store_delivery_done(m, 1, 110), DS_OK);
	CHECK_EQ(store_delivery_done(m, 4, 210), DS_OK);
	CHECK_EQ(store_delivery_failed(m, 2, 120, 5000, "connection refused"), DS_OK);
	CHECK_EQ(store_delivery_failed(m, 5, 310, 400, "timeout"), DS_OK);
	CHECK_EQ(store_delivery_done(m, 5, 400), DS_OK);
}

/* All, newest first, pages of 2; each state alone; no other state. */
static void deliv_check_lists(struct store *m)
{
	static struct deliv_page p;
	int64_t ids[PAGE_MAX];
	size_t n;

	CHECK_EQ(deliv_ids(m, NULL, 2, ids, &n), 3);
	IDS_ARE(ids, n, 6, 5, 4, 3, 2, 1);
	CHECK_EQ(deliv_ids(m, "pending", 2, ids, &n), 2);
	IDS_ARE(ids, n, 6, 3, 2);
	CHECK_EQ(deliv_ids(m, "done", 2, ids, &n), 2);
	IDS_ARE(ids, n, 5, 4, 1);
	CHECK_EQ(deliv_ids(m, "done", 1, ids, &n), 3);
	IDS_ARE(ids, n, 5, 4, 1);
	/* Any other state is refused, quotes and wildcards included. */
	memset(&p, 0, sizeof(p));
	CHECK_EQ(store_deliveries_page(m, "Pending", 0, 10, deliv_page_cb, &p), DS_EINVAL);
	CHECK_EQ(store_deliveries_page(m, "pending' OR '1'='1", 0, 10, deliv_page_cb, &p),
		 DS_EINVAL);
	CHECK_EQ(store_deliveries_page(m, "%", 0, 10, deliv_page_cb, &p), DS_EINVAL);
	CHECK_EQ(store_deliveries_page(m, "", 0, 10, deliv_page_cb, &p), DS_EINVAL);
	CHECK_EQ(p.n, 0);
}

/* Fields of a failed pending one (2), a done one (5), a never tried one (3). */
static void deliv_check_fields(struct store *m, const int64_t c[3])
{
	static struct deliv_page p;

	memset(&p, 0, sizeof(p));
	CHECK_EQ(store_deliveries_page(m, NULL, 3, 1, deliv_page_cb, &p), DS_OK);
	CHECK_EQ(p.n, 1);
	CHECK_EQ(p.id[0], 2);
	CHECK_EQ(p.change_id[0], c[0]);
	CHECK(strcmp(p.zone[0], "example.") == 0);
	CHECK(strcmp(p.child[0], "a.example.") == 0);
	CHECK(strcmp(p.backend[0], "zonefile") == 0);
	CHECK(strcmp(p.state[0], "pending") == 0);
	CHECK_EQ(p.attempts[0], 1);
	CHECK_EQ(p.next_attempt[0], 5000);
	CHECK_EQ(p.last_attempt[0], 120);
	CHECK_EQ(p.delivered_at[0], -1);
	CHECK(strcmp(p.last_error[0], "connection refused") == 0);
	CHECK(strcmp(p.changes[0], "+ a\n") == 0);
	CHECK_EQ(p.created[0], 100);
	memset(&p, 0, sizeof(p));
	CHECK_EQ(store_delivery_get(m, 5, deliv_page_cb, &p), DS_OK);
	CHECK_EQ(p.n, 1);
	CHECK_EQ(p.id[0], 5);
	CHECK_EQ(p.change_id[0], c[2]);
	CHECK(strcmp(p.state[0], "done") == 0);
	CHECK_EQ(p.attempts[0], 2);
	CHECK_EQ(p.delivered_at[0], 400);
	CHECK_EQ(p.last_attempt[0], 400);
	CHECK(strcmp(p.last_error[0], "(null)") == 0);
	CHECK(strcmp(p.changes[0], "- c\n") == 0);
	/* A never tried one: no last attempt, no error. */
	memset(&p, 0, sizeof(p));
	CHECK_EQ(store_delivery_get(m, 3, deliv_page_cb, &p), DS_OK);
	CHECK_EQ(p.change_id[0], c[1]);
	CHECK_EQ(p.attempts[0], 0);
	CHECK_EQ(p.last_attempt[0], -1);
	CHECK_EQ(p.delivered_at[0], -1);
	CHECK(strcmp(p.last_error[0], "(null)") == 0);
}

/* Unknown: DS_ENOENT, no call; the callback's value is returned; limit 0. */
static void deliv_check_stop(struct store *m)
{
	static struct deliv_page p;

	memset(&p, 0, sizeof(p));
	CHECK_EQ(store_delivery_get(m, 77, deliv_page_cb, &p), DS_ENOENT);
	CHECK_EQ(p.n, 0);
	p.stop_after = 1;
	CHECK_EQ(store_delivery_get(m, 1, deliv_page_cb, &p), 13);
	memset(&p, 0, sizeof(p));
	p.stop_after = 2;
	CHECK_EQ(store_deliveries_page(m, NULL, 0, 10, deliv_page_cb, &p), 13);
	CHECK_EQ(p.n, 2);
	memset(&p, 0, sizeof(p));
	CHECK_EQ(store_deliveries_page(m, NULL, 0, 0, deliv_page_cb, &p), DS_OK);
	CHECK_EQ(p.n, 0);
}

/* Retry: a pending one is due now, attempts and error kept; not a done one. */
static void deliv_check_retry(struct store *m)
{
	static struct deliv_page p;
	struct outbox_item *it = NULL;
	int64_t cnt = -1;
	size_t n;

	CHECK_EQ(store_outbox_due(m, 1000, 10, &it, &n), DS_OK);
	CHECK_EQ(n, 2); /* 3 and 6; 2 waits for 5000 */
	store_outbox_items_free(it, n);
	CHECK_EQ(store_delivery_retry(m, 2, 1000), DS_OK);
	CHECK_EQ(store_outbox_due(m, 1000, 10, &it, &n), DS_OK);
	CHECK_EQ(n, 3);
	if (n == 3) {
		CHECK_EQ(it[0].delivery_id, 2);
		CHECK_EQ(it[0].attempts, 1);
	}
	store_outbox_items_free(it, n);
	memset(&p, 0, sizeof(p));
	CHECK_EQ(store_delivery_get(m, 2, deliv_page_cb, &p), DS_OK);
	CHECK_EQ(p.next_attempt[0], 1000);
	CHECK_EQ(p.attempts[0], 1);
	CHECK_EQ(p.last_attempt[0], 120);
	CHECK(strcmp(p.last_error[0], "connection refused") == 0);
	CHECK(strcmp(p.state[0], "pending") == 0);
	/* A done one: DS_EEXIST, unchanged; an unknown one: DS_ENOENT. */
	CHECK_EQ(store_delivery_retry(m, 4, 1000), DS_EEXIST);
	memset(&p, 0, sizeof(p));
	CHECK_EQ(store_delivery_get(m, 4, deliv_page_cb, &p), DS_OK);
	CHECK(strcmp(p.state[0], "done") == 0);
	CHECK_EQ(p.next_attempt[0], 200);
	CHECK_EQ(p.delivered_at[0], 210);
	CHECK_EQ(store_delivery_retry(m, 77, 1000), DS_ENOENT);
	CHECK_EQ(store_outbox_pending(m, &cnt), DS_OK);
	CHECK_EQ(cnt, 3);
}

static void test_deliveries_page(void)
{
	struct store *m = NULL;
	static struct deliv_page p;
	int64_t ids[PAGE_MAX], c[3], na, nc;
	size_t n;

	CHECK_EQ(fresh(&m), DS_OK);
	if (m == NULL)
		return;
	CHECK_EQ(deliv_ids(m, NULL, 2, ids, &n), 0);
	CHECK_EQ(n, 0);
	CHECK_EQ(deliv_ids(m, "pending", 2, ids, &n), 0);
	deliv_fill(m, c);
	deliv_check_lists(m);
	deliv_check_fields(m, c);
	deliv_check_stop(m);
	deliv_check_retry(m);
	/* A purged change takes its deliveries out of the pages. */
	CHECK_EQ(store_delivery_done(m, 2, 1001), DS_OK);
	CHECK_EQ(store_history_purge(m, 150, 10, &na, &nc), DS_OK);
	CHECK_EQ(nc, 1);
	CHECK_EQ(deliv_ids(m, NULL, 4, ids, &n), 1);
	IDS_ARE(ids, n, 6, 5, 4, 3);
	memset(&p, 0, sizeof(p));
	CHECK_EQ(store_delivery_get(m, 1, deliv_page_cb, &p), DS_ENOENT);
	store_close(m);
}

/* The delivery ids of one (zone, backend) as store_outbox_pair gives them. */
static size_t pair_ids(struct store *m, const char *zone, const char *backend, size_t max,
		       int64_t ids[8], int64_t next[8])
{
	struct outbox_item *it = NULL;
	size_t n = 0;

	CHECK_EQ(store_outbox_pair(m, N(zone), backend, max, &it, &n), DS_OK);
	for (size_t i = 0; i < n && i < 8; i++) {
		ids[i] = it[i].delivery_id;
		next[i] = it[i].next_attempt;
	}
	store_outbox_items_free(it, n);
	return n;
}

/* Each (zone, backend) alone, in change order, due or not; a retry takes
 * the older ones of its pair along. */
static void pair_check_order(struct store *m)
{
	int64_t ids[8], next[8];

	CHECK_EQ(store_delivery_failed(m, 2, 110, 5000, "hang"), DS_OK);
	CHECK_EQ(store_delivery_failed(m, 4, 110, 5000, "hang"), DS_OK);
	CHECK_EQ(pair_ids(m, "EXAMPLE.", "slow", 10, ids, next), 3);
	IDS_ARE(ids, 3, 2, 4, 6);
	CHECK_EQ(next[0], 5000);
	CHECK_EQ(next[2], 300);
	CHECK_EQ(pair_ids(m, "example.", "slow", 2, ids, next), 2);
	CHECK_EQ(pair_ids(m, "example.", "null", 10, ids, next), 3);
	IDS_ARE(ids, 3, 1, 3, 5);
	CHECK_EQ(pair_ids(m, "other.", "slow", 10, ids, next), 1);
	CHECK_EQ(ids[0], 7);
	CHECK_EQ(pair_ids(m, "other.", "null", 10, ids, next), 0);
	CHECK_EQ(pair_ids(m, "example.", "slow", 0, ids, next), 0);

	CHECK_EQ(store_delivery_retry(m, 6, 1000), DS_OK);
	CHECK_EQ(pair_ids(m, "example.", "slow", 10, ids, next), 3);
	CHECK(next[0] == 1000 && next[1] == 1000 && next[2] == 1000);
	CHECK_EQ(pair_ids(m, "example.", "null", 10, ids, next), 3);
	CHECK(next[0] == 100 && next[1] == 200 && next[2] == 300);
	CHECK_EQ(pair_ids(m, "other.", "slow", 10, ids, next), 1);
	CHECK_EQ(next[0], 400);
}

/* Pending, the oldest, and the last success and failure of each pair. */
static void pair_check_status(struct store *m)
{
	static struct delivery_status st;

	CHECK_EQ(store_delivery_status(m, N("example."), "slow", &st), DS_OK);
	CHECK_EQ(st.pending, 3);
	CHECK_EQ(st.oldest_created, 100);
	CHECK_EQ(st.oldest_attempts, 1);
	CHECK_EQ(st.oldest_next_attempt, 1000);
	CHECK(st.last_success == -1 && st.last_failure == -1 && st.last_error[0] == '\0');

	CHECK_EQ(store_backend_result(m, N("Example."), "slow", 120, "hang"), DS_OK);
	CHECK_EQ(store_delivery_status(m, N("example."), "slow", &st), DS_OK);
	CHECK(st.last_success == -1 && st.last_failure == 120 &&
	      strcmp(st.last_error, "hang") == 0);
	CHECK_EQ(store_delivery_done(m, 2, 130), DS_OK);
	CHECK_EQ(store_backend_result(m, N("example."), "slow", 130, NULL), DS_OK);
	CHECK_EQ(store_delivery_status(m, N("example."), "slow", &st), DS_OK);
	CHECK(st.last_success == 130 && st.last_failure == 120 &&
	      strcmp(st.last_error, "hang") == 0);
	CHECK_EQ(st.pending, 2);
	CHECK_EQ(st.oldest_created, 200);
	CHECK_EQ(st.oldest_attempts, 1);

	/* another pair, and one with nothing at all */
	CHECK_EQ(store_delivery_status(m, N("example."), "null", &st), DS_OK);
	CHECK(st.pending == 3 && st.oldest_attempts == 0 && st.last_success == -1);
	CHECK_EQ(store_delivery_status(m, N("nowhere."), "null", &st), DS_OK);
	CHECK(st.pending == 0 && st.oldest_created == -1 && st.last_failure == -1);
	CHECK_EQ(store_delivery_status(m, N("example."), NULL, &st), DS_EINVAL);
}

static int pair_text(void *arg, const uint8_t *zone, const char *backend, int64_t n)
{
	char *out = arg, z[DNAME_STR_MAX];

	dname_to_str(zone, z, sizeof(z));
	snprintf(out + strlen(out), 200 - strlen(out), "%s/%s=%lld ", z, backend, (long long)n);
	return 0;
}

/* Every (zone, backend) with pending deliveries (in the order of the wire names). */
static void pair_check_pending(struct store *m)
{
	char got[200] = "";

	CHECK_EQ(store_outbox_pending_pairs(m, pair_text, got), DS_OK);
	CHECK(strcmp(got, "other./slow=1 example./null=3 example./slow=2 ") == 0);
}

/* Changes 1..3 of example. to null and slow, change 4 of other. to slow:
 * deliveries 1..7. */
static void test_outbox_pair(void)
{
	const char *const two[] = {"null", "slow"};
	struct store *m = NULL;

	CHECK_EQ(fresh(&m), DS_OK);
	if (m == NULL)
		return;
	CHECK_EQ(store_outbox_add(m, N("example."), N("a.example."), "+ a\n", two, 2, 100, NULL),
		 DS_OK);
	CHECK_EQ(store_outbox_add(m, N("example."), N("b.example."), "+ b\n", two, 2, 200, NULL),
		 DS_OK);
	CHECK_EQ(store_outbox_add(m, N("example."), N("c.example."), "+ c\n", two, 2, 300, NULL),
		 DS_OK);
	CHECK_EQ(store_outbox_add(m, N("other."), N("d.other."), "+ d\n", two + 1, 1, 400, NULL),
		 DS_OK);
	pair_check_order(m);
	pair_check_status(m);
	pair_check_pending(m);
	store_close(m);
}

static double now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* Not asserted: how long 1000 delegation writes take in one transaction. */
static void timing(struct store *s)
{
	static struct deleg d;
	char name[64], ns[64];
	int64_t zid, cid;
	double t0, t1, t2;
	int ok = 1;

	CHECK_EQ(store_zone_ensure(s, N("bench."), &zid), DS_OK);
	t0 = now_ms();
	CHECK_EQ(store_begin(s), DS_OK);
	for (int i = 0; i < 1000 && ok; i++) {
		snprintf(name, sizeof(name), "c%d.bench.", i);
		snprintf(ns, sizeof(ns), "ns.c%d.bench.", i);
		ok = store_child_ensure(s, zid, N(name), &cid) == DS_OK;
		d.n = 0;
		{
			struct drr rrs[] = {mk_ns(name, ns, 3600),
					    mk_ns(name, "ns.provider.net.", 3600),
					    mk_ds(name, (uint16_t)i, (uint8_t)i), mk_a(ns, 1)};
			for (size_t j = 0; j < 4; j++)
				deleg_add(&d, &rrs[j]);
		}
		ok = ok && store_deleg_write(s, cid, &d) == DS_OK;
	}
	t1 = now_ms();
	CHECK_EQ(store_commit(s), DS_OK);
	t2 = now_ms();
	CHECK(ok);
	printf("timing: 1000 child_ensure+deleg_write (4 RRs) in one transaction: %.1f ms, "
	       "commit %.1f ms\n",
	       t1 - t0, t2 - t1);
}

/* Retention: old audit rows and fully delivered old changes go, in slices. */
static void test_history_purge(void)
{
	struct store *m = NULL;
	const char *const one[] = {"zonefile"};
	int64_t cid, na = -1, nc = -1, cnt = -1;
	struct outbox_item *it = NULL;
	size_t n = 0;
	CHECK_EQ(fresh(&m), DS_OK);
	if (m == NULL)
		return;
	for (int i = 0; i < 7; i++) {
		struct audit_rec a = {.time = i < 5 ? 100 + i : 5000,
				      .client = "local",
				      .key_tag = -1,
				      .actor = "test",
				      .request = "r",
				      .result = "accepted",
				      .rcode = 0,
				      .reason = "x"};
		CHECK_EQ(store_audit_add(m, &a), DS_OK);
	}
	/* two old changes: one delivered, one still pending; one new delivered */
	CHECK_EQ(store_outbox_add(m, N("example."), N("a.example."), "+ x\n", one, 1, 100, &cid),
		 DS_OK);
	CHECK_EQ(store_outbox_due(m, 100, 10, &it, &n), DS_OK);
	CHECK_EQ(n, 1);
	if (n == 1)
		CHECK_EQ(store_delivery_done(m, it[0].delivery_id, 101), DS_OK);
	store_outbox_items_free(it, n);
	CHECK_EQ(store_outbox_add(m, N("example."), N("b.example."), "+ y\n", one, 1, 100, &cid),
		 DS_OK);
	CHECK_EQ(store_outbox_add(m, N("example."), N("c.example."), "+ z\n", one, 1, 6000, &cid),
		 DS_OK);

	/* slices of 2: the first call takes 2 of the 5 old audit rows */
	CHECK_EQ(store_history_purge(m, 1000, 2, &na, &nc), DS_OK);
	CHECK_EQ(na, 2);
	CHECK_EQ(nc, 1);
	CHECK_EQ(store_history_purge(m, 1000, 2, &na, &nc), DS_OK);
	CHECK_EQ(na, 2);
	CHECK_EQ(nc, 0); /* the pending change stays however old it is */
	CHECK_EQ(store_history_purge(m, 1000, 2, &na, &nc), DS_OK);
	CHECK_EQ(na, 1);
	CHECK_EQ(store_history_purge(m, 1000, 2, &na, &nc), DS_OK);
	CHECK_EQ(na, 0);
	CHECK_EQ(store_audit_count(m, &cnt), DS_OK);
	CHECK_EQ(cnt, 2);
	CHECK_EQ(store_outbox_pending(m, &cnt), DS_OK);
	CHECK_EQ(cnt, 2); /* b (old, pending) and c (new) */
	store_close(m);
}

/* UPDATEs per minute: the rows of UPDATEs in the range, per minute. */
struct minutes {
	size_t n;
	struct store_minute m[8];
};

static int minute_add(void *arg, const struct store_minute *m)
{
	struct minutes *l = arg;
	if (l->n == 8)
		return DS_ERANGE;
	l->m[l->n++] = *m;
	return DS_OK;
}

static void test_updates_per_minute(void)
{
	struct store *m = NULL;
	struct minutes l = {0};
	/* time, actor, result: two minutes inside the range, rows outside it */
	static const struct {
		int64_t t;
		const char *actor, *result;
	} rows[] = {
	    {1700000039, "update", "accepted"}, /* before the range */
	    {1700000040, "update", "accepted"}, {1700000041, "update", "refused"},
	    {1700000099, "update", "badsig"},	{1700000100, "update", "accepted"},
	    {1700000101, "api:ops", "trusted"}, /* not an UPDATE */
	    {1700000200, "update", "accepted"}, /* at until: outside */
	};

	CHECK_EQ(fresh(&m), DS_OK);
	if (m == NULL)
		return;
	CHECK_EQ(store_updates_per_minute(m, 0, 2000000000, minute_add, &l), DS_OK);
	CHECK_EQ(l.n, 0);
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct audit_rec a = {.time = rows[i].t,
				      .client = "local",
				      .key_tag = -1,
				      .actor = rows[i].actor,
				      .request = "r",
				      .result = rows[i].result,
				      .reason = ""};
		CHECK_EQ(store_audit_add(m, &a), DS_OK);
	}
	CHECK_EQ(store_updates_per_minute(m, 1700000040, 1700000200, minute_add, &l), DS_OK);
	CHECK_EQ(l.n, 2);
	CHECK_EQ(l.m[0].minute, 1700000040); /* a minute's first second */
	CHECK_EQ(l.m[0].accepted, 1);
	CHECK_EQ(l.m[0].refused, 2);
	CHECK_EQ(l.m[1].minute, 1700000100);
	CHECK_EQ(l.m[1].accepted, 1);
	CHECK_EQ(l.m[1].refused, 0);
	/* the callback's error stops the walk and is returned */
	l.n = 8;
	CHECK_EQ(store_updates_per_minute(m, 0, 2000000000, minute_add, &l), DS_ERANGE);
	CHECK_EQ(store_updates_per_minute(m, 10, 5, minute_add, &l), DS_EINVAL);
	CHECK_EQ(store_updates_per_minute(m, -1, 5, minute_add, &l), DS_EINVAL);
	store_close(m);
}

/* store_copy: every row of the suite's store (after the other tests) into a
 * new SQLite file, refused into a store that has rows, and store_compare
 * sees a changed row. */
static void test_copy(void)
{
	char to[300], out_buf[4096];
	FILE *out = fmemopen(out_buf, sizeof(out_buf), "w");
	struct store *a = NULL, *b = NULL;
	static int n;

	uint8_t dup[32];
	int rcode = -1;
	memset(dup, 0x33, sizeof(dup));
	/* SQLite keeps a digest stored twice as two rows: the copy takes the first */
	CHECK_EQ(store_open(spec, &a), DS_OK);
	if (a != NULL && !db_is_pg(store_db(a))) {
		CHECK_EQ(store_replay_add(a, dup, 4000000000, RC_NOERROR), DS_OK);
		CHECK_EQ(store_replay_add(a, dup, 4000000009, RC_REFUSED), DS_OK);
	}
	store_close(a);
	a = NULL;
	snprintf(to, sizeof(to), "%s/copy%d.db", tmpdir, n++);
	CHECK_EQ(store_copy(spec, to, out), DS_OK);
	CHECK_EQ(store_copy(spec, to, out), DS_EREFUSED);
	fclose(out);
	CHECK_EQ(store_open(to, &b), DS_OK);
	if (b != NULL && store_replay_find(b, dup, 0, &rcode) == DS_OK)
		CHECK_EQ(rcode, RC_NOERROR);
	store_close(b);
	b = NULL;
	CHECK(strstr(out_buf, "keys ") != NULL);
	CHECK(strstr(out_buf, "DIFFERENT") == NULL);
	CHECK(strstr(out_buf, "table is not empty; nothing copied") != NULL);
	CHECK_EQ(store_open(spec, &a), DS_OK);
	CHECK_EQ(store_open(to, &b), DS_OK);
	if (a == NULL || b == NULL)
		return;
	int64_t zid;
	CHECK_EQ(store_zone_ensure(b, N("only-in-the-copy."), &zid), DS_OK);
	out = fopen("/dev/null", "w");
	CHECK_EQ(store_compare(a, b, out), DS_EEXIST);
	fclose(out);
	store_close(a);
	store_close(b);
}

/* The tests of the store's interface, on the store named by spec. */
static void suite(void)
{
	struct store *s = NULL;

	test_open(&s);
	if (s == NULL)
		return;
	test_zones_children(s);
	test_deleg_roundtrip(s);
	test_foreach_order(s);
	test_keys(s);
	test_validation(s);
	test_audit(s);
	test_outbox(s);
	test_replay(s);
	test_transactions(s);
	test_hostile(s);
	test_reopen(&s);
	test_copy();
	test_history_purge();
	test_key_delete_counts();
	test_nodes();
	test_lost_session();
	test_walk_stop();
	test_deleg_change();
	test_children_page();
	test_validations_page();
	test_waiting_page();
	test_audit_page();
	test_deliveries_page();
	test_outbox_pair();
	test_updates_per_minute();
	if (s != NULL)
		timing(s);
	store_close(s);
}

int main(void)
{
	const char *pg = getenv("DSYNC_TEST_PG");
	char cmd[400];

	log_init("test_store", false, LOG_WARNING);
	if (mkdtemp(tmpdir) == NULL) {
		perror("mkdtemp");
		return 2;
	}
	snprintf(dbpath, sizeof(dbpath), "%s/sub/store.db", tmpdir);
	snprintf(spec, sizeof(spec), "%s", dbpath);
	fprintf(stderr, "== SQLite\n");
	suite();
	/* SQLite's own: its files, its migrations from older versions */
	test_newer_schema_refused();
	test_background_checkpoint();
	test_migrate_v1();
	test_migrate_v2();
	test_migrate_v3();
	test_migrate_v4();
	test_migrate_v5();
	test_migrate_v6();
	test_migrate_v8();
	store_close(NULL);
	if (pg != NULL && pg[0] != '\0') {
		fprintf(stderr, "== PostgreSQL\n");
		snprintf(spec, sizeof(spec), "postgresql:%s", pg);
		on_pg = true;
		suite();
		test_pg_newer_schema_refused();
	} else {
		printf("# PostgreSQL not tested: DSYNC_TEST_PG is not set\n");
	}

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", tmpdir);
	UNIT_DONE("test_store");
}
