/*
 * tests/unit/test_store.c -- the SQLite store against a file in a temporary
 * directory: persistence, schema, case-insensitive names, delegation round
 * trips and canonical order, keys, audit, outbox, replay cache,
 * transactions/savepoints, hostile names and texts (R15).
 */
#include <sqlite3.h>
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

/* ---- raw access to the file, to see what the store really wrote ---- */

static int64_t raw_int(const char *sql)
{
	sqlite3 *db;
	sqlite3_stmt *st;
	int64_t v = -999;

	if (sqlite3_open_v2(dbpath, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK)
		return v;
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK) {
		if (sqlite3_step(st) == SQLITE_ROW)
			v = sqlite3_column_type(st, 0) == SQLITE_NULL ? -1
								      : sqlite3_column_int64(st, 0);
		sqlite3_finalize(st);
	}
	sqlite3_close(db);
	return v;
}

/* Run sql on a connection of its own, with foreign keys enforced. */
static int raw_exec(const char *sql)
{
	sqlite3 *db;
	int rc = sqlite3_open(dbpath, &db);
	if (rc == SQLITE_OK)
		rc = sqlite3_exec(db, "PRAGMA foreign_keys=ON", NULL, NULL, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_exec(db, sql, NULL, NULL, NULL);
	sqlite3_close(db);
	return rc;
}

static bool raw_has_text(const char *sql, const char *want)
{
	sqlite3 *db;
	sqlite3_stmt *st;
	bool found = false;

	if (sqlite3_open_v2(dbpath, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK)
		return false;
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK) {
		while (sqlite3_step(st) == SQLITE_ROW) {
			const unsigned char *t = sqlite3_column_text(st, 0);
			if (t != NULL && strcmp((const char *)t, want) == 0)
				found = true;
		}
		sqlite3_finalize(st);
	}
	sqlite3_close(db);
	return found;
}

/* ---- tests ---- */

static void test_open(struct store **s)
{
	struct stat sb;
	char dir[300];

	CHECK_EQ(store_open(dbpath, s), DS_OK);
	CHECK(*s != NULL);
	CHECK_EQ(store_schema_version(*s), STORE_SCHEMA_VERSION);
	CHECK_EQ(store_schema_version(*s), 2);
	CHECK_EQ(stat(dbpath, &sb), 0);
	CHECK_EQ(sb.st_mode & 0777, 0600);
	snprintf(dir, sizeof(dir), "%s/sub", tmpdir);
	CHECK_EQ(stat(dir, &sb), 0);
	CHECK(S_ISDIR(sb.st_mode));
	CHECK_EQ(raw_int("SELECT version FROM schema_version"), 2);
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
	zone_ex = z1;
	child_ex = c1;
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
	CHECK_EQ(got.n, d.n);
	/* Every record comes back byte for byte (case as written). */
	for (size_t i = 0; i < d.n; i++) {
		bool found = false;
		for (size_t j = 0; j < got.n; j++)
			found = found || rr_bytes_equal(&d.rr[i], &got.rr[j]);
		CHECK(found);
	}
	/* Loaded in canonical order: owner, then type. */
	for (size_t j = 1; j < got.n; j++) {
		int c = dname_compare(got.rr[j - 1].owner, got.rr[j].owner);
		CHECK(c < 0 || (c == 0 && got.rr[j - 1].type <= got.rr[j].type));
	}
	CHECK_EQ(got.rr[0].type, T_NS);
	CHECK_EQ(got.rr[2].type, T_DS);
	CHECK_EQ(got.rr[3].type, T_A);
	CHECK_EQ(got.rr[4].type, T_AAAA);
	CHECK(raw_has_text("SELECT rdata_text FROM delegation", "NS1.Child.example.com."));
	CHECK(raw_has_text("SELECT owner_text FROM delegation", "NS1.child.example.com."));
	CHECK(raw_has_text("SELECT rdata_text FROM delegation WHERE type = 1", "192.0.2.1"));

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
	/* the rows go with their keys */
	char sql[128];
	CHECK_EQ(raw_int("SELECT count(*) FROM validation"), 2);
	snprintf(sql, sizeof(sql), "DELETE FROM keys WHERE id = %lld", (long long)a.id);
	CHECK_EQ(raw_exec(sql), SQLITE_OK);
	CHECK_EQ(raw_int("SELECT count(*) FROM validation"), 1);
	CHECK_EQ(store_validation_get(s, a.id, &v), DS_ENOENT);
	snprintf(sql, sizeof(sql), "DELETE FROM keys WHERE id = %lld", (long long)b.id);
	CHECK_EQ(raw_exec(sql), SQLITE_OK);
	CHECK_EQ(raw_int("SELECT count(*) FROM validation"), 0);
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

static void test_replay(struct store *s)
{
	uint8_t d1[32], d2[32];
	struct replay_walk w;

	memset(d1, 0x11, 32);
	memset(d2, 0x22, 32);
	CHECK_EQ(store_replay_add(s, d1, 100, RC_NOERROR), DS_OK);
	CHECK_EQ(store_replay_add(s, d2, 200, RC_REFUSED), DS_OK);
	/* Seen again: first RCODE stays, expiry grows. */
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
	CHECK_EQ(store_open(dbpath, s), DS_OK);
	if (*s == NULL)
		return;
	CHECK_EQ(store_schema_version(*s), 2);
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

/* A version-1 file (before the validation table) is migrated on open. */
static void test_migrate_v1(void)
{
	char path[300];
	struct store *s = NULL;
	sqlite3 *db;
	int64_t zid;

	snprintf(path, sizeof(path), "%s/v1.db", tmpdir);
	CHECK_EQ(store_open(path, &s), DS_OK);
	CHECK_EQ(store_zone_ensure(s, N("kept."), &zid), DS_OK);
	store_close(s);
	s = NULL;
	CHECK_EQ(sqlite3_open(path, &db), SQLITE_OK);
	CHECK_EQ(sqlite3_exec(db, "DROP TABLE validation; UPDATE schema_version SET version = 1",
			      NULL, NULL, NULL),
		 SQLITE_OK);
	sqlite3_close(db);
	CHECK_EQ(store_open(path, &s), DS_OK);
	CHECK_EQ(store_schema_version(s), 2);
	CHECK_EQ(store_zone_find(s, N("kept."), &zid), DS_OK);
	CHECK_EQ(store_validation_next_time(s, &zid), DS_ENOENT); /* the table is back, empty */
	store_close(s);
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
	CHECK_EQ(store_open(":memory:", &m), DS_OK);
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

int main(void)
{
	struct store *s = NULL;
	char cmd[400];

	log_init("test_store", false, LOG_WARNING);
	if (mkdtemp(tmpdir) == NULL) {
		perror("mkdtemp");
		return 2;
	}
	snprintf(dbpath, sizeof(dbpath), "%s/sub/store.db", tmpdir);

	test_open(&s);
	if (s == NULL)
		UNIT_DONE("test_store");
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
	test_newer_schema_refused();
	test_migrate_v1();
	test_history_purge();
	if (s != NULL)
		timing(s);
	store_close(s);
	store_close(NULL);

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", tmpdir);
	UNIT_DONE("test_store");
}
