/*
 * tests/unit/test_keystate.c -- the key lifecycle table cell by cell, its
 * safety properties (exhaustively and by random walks), the KeyState code
 * mapping, and the KeyState option codec and option-list walker.
 */
#include <stdint.h>
#include <string.h>

#include "common/err.h"
#include "common/msg.h"
#include "keystate/keystate.h"
#include "tests/unit/unit.h"

#define NEV (KS_EV_AWAIT_OPERATOR + 1)
#define NSTATE (KEY_REVOKED + 1)
#define NROW (NSTATE + 1) /* row 0 = absent, row s + 1 = stored in state s */

/* expected cells: a key_state, or NO for "not allowed" */
#define NO (-1)
#define KN KEY_KNOWN
#define VA KEY_VALIDATING
#define TR KEY_TRUSTED
#define VF KEY_VALIDATION_FAILED
#define RF KEY_REFUSED
#define RV KEY_REVOKED

/*
 * The whole (exists, state) x event matrix, written out independently of the
 * implementation's table.  Columns in enum ks_event order:
 * upload, v-start, v-ok, v-fail, p-refuse, op-trust, op-revoke, rollover,
 * superseded, restart, await-operator.
 */
/* clang-format off */
static const int expect[NROW][NEV] = {
    /* absent     */ {KN, NO, NO, NO, NO, TR, NO, TR, NO, NO, NO},
    /* known      */ {KN, VA, TR, VF, RF, TR, RV, TR, RV, KN, NO},
    /* validating */ {VA, VA, TR, VF, RF, TR, RV, TR, RV, VA, KN},
    /* trusted    */ {TR, NO, NO, NO, NO, NO, RV, TR, RV, TR, NO},
    /* v-failed   */ {KN, NO, NO, NO, NO, TR, RV, TR, RV, VF, NO},
    /* refused    */ {KN, NO, NO, NO, NO, NO, RV, NO, RV, RF, NO},
    /* revoked    */ {KN, NO, NO, NO, NO, NO, NO, NO, NO, RV, NO},
};
/* clang-format on */

/* refusals that wrote *next anyway; checked once at the end */
static int next_touched;

/* ks_next on a matrix row: -1 when not allowed. */
static int step(int row, int ev)
{
	enum key_state next = (enum key_state)77; /* sentinel: must stay on refusal */
	bool ok = ks_next(row != 0, (enum key_state)(row ? row - 1 : 0), (enum ks_event)ev, &next);
	if (!ok) {
		if (next != (enum key_state)77)
			next_touched++;
		return NO;
	}
	return (int)next;
}

static bool grants_trust(int ev)
{
	return ev == KS_EV_VALIDATION_OK || ev == KS_EV_OPERATOR_TRUST || ev == KS_EV_ROLLOVER_ADD;
}

static void test_matrix(void)
{
	for (int r = 0; r < NROW; r++)
		for (int e = 0; e < NEV; e++) {
			int got = step(r, e);
			if (got != expect[r][e])
				fprintf(stderr, "cell row %d (%s) event %s: got %d want %d\n", r,
					r ? "stored" : "absent", ks_event_str((enum ks_event)e),
					got, expect[r][e]);
			CHECK_EQ(got, expect[r][e]);
		}

	/* exists=false ignores cur entirely */
	for (int s = 0; s < NSTATE + 3; s++)
		for (int e = 0; e < NEV; e++) {
			enum key_state n1 = KEY_REVOKED, n2 = KEY_REVOKED;
			bool a = ks_next(false, (enum key_state)s, (enum ks_event)e, &n1);
			bool b = ks_next(false, KEY_KNOWN, (enum ks_event)e, &n2);
			CHECK_EQ(a, b);
			CHECK_EQ(n1, n2);
		}

	/* values outside the enums are never allowed and leave *next alone */
	enum key_state n = KEY_KNOWN;
	CHECK(!ks_next(true, (enum key_state)6, KS_EV_UPLOAD, &n));
	CHECK(!ks_next(true, (enum key_state) - 1, KS_EV_RESTART, &n));
	CHECK(!ks_next(true, KEY_KNOWN, (enum ks_event)NEV, &n));
	CHECK(!ks_next(false, KEY_KNOWN, (enum ks_event) - 1, &n));
	CHECK(!ks_next(false, KEY_KNOWN, (enum ks_event)1000, &n));
	CHECK_EQ(n, KEY_KNOWN);

	/* next may be NULL: the answer alone */
	CHECK(ks_next(false, KEY_KNOWN, KS_EV_UPLOAD, NULL));
	CHECK(!ks_next(true, KEY_REVOKED, KS_EV_OPERATOR_TRUST, NULL));
}

/*
 * Mark in seen every stored state reachable from the states from (through
 * allowed steps; with avoid_known, never through known).  Each step must
 * land in a stored state.
 */
static void reach(const int *from, int nfrom, bool avoid_known, bool seen[NSTATE])
{
	int queue[NSTATE], qh = 0, qt = 0;
	for (int i = 0; i < nfrom; i++)
		if (!seen[from[i]]) {
			seen[from[i]] = true;
			queue[qt++] = from[i];
		}
	while (qh < qt) {
		int s = queue[qh++];
		for (int e = 0; e < NEV; e++) {
			int t = step(s + 1, e);
			CHECK(t == NO || (t >= 0 && t < NSTATE));
			if (t == NO || (avoid_known && t == KN) || seen[t])
				continue;
			seen[t] = true;
			queue[qt++] = t;
		}
	}
}

/* Trust is entered only by the events that grant it, never from revoked. */
static void test_properties_trust(void)
{
	/* an upload never lowers a trusted key */
	enum key_state n = KEY_KNOWN;
	CHECK(ks_next(true, KEY_TRUSTED, KS_EV_UPLOAD, &n));
	CHECK_EQ(n, KEY_TRUSTED);

	/* every entry into trusted (from a different row) is by one of the
	 * three trust-granting events, and those events only ever lead to
	 * trusted when they are allowed */
	for (int r = 0; r < NROW; r++)
		for (int e = 0; e < NEV; e++) {
			int got = step(r, e);
			if (got == TR && r != TR + 1)
				CHECK(grants_trust(e));
			if (grants_trust(e) && got != NO)
				CHECK_EQ(got, TR);
		}

	/* a revoked key: no single event trusts it, only upload and restart
	 * apply, and the only way back to trusted goes through known */
	for (int e = 0; e < NEV; e++) {
		int got = step(RV + 1, e);
		CHECK(got != TR);
		CHECK(got == NO || e == KS_EV_UPLOAD || e == KS_EV_RESTART);
	}
	{
		/* states reachable from revoked without passing through known */
		bool seen[NSTATE] = {false};
		const int from[] = {RV};
		reach(from, 1, true, seen);
		CHECK(!seen[TR]);
	}
}

/* Restart keeps states; no event removes a key; every state can be reached. */
static void test_properties_store(void)
{

	/* restart keeps every stored state; nothing to restart when absent */
	for (int s = 0; s < NSTATE; s++)
		CHECK_EQ(step(s + 1, KS_EV_RESTART), s);
	CHECK_EQ(step(0, KS_EV_RESTART), NO);

	/* no event removes a key from the store: every allowed cell lands in
	 * a stored state; and every stored state is reachable from absent */
	{
		bool seen[NSTATE] = {false};
		int from[NEV], nfrom = 0;
		for (int e = 0; e < NEV; e++)
			if (step(0, e) != NO)
				from[nfrom++] = step(0, e);
		reach(from, nfrom, false, seen);
		for (int s = 0; s < NSTATE; s++)
			CHECK(seen[s]);
	}
}

/* Random walks can only reach trusted by the rules. */
static void test_properties_walks(void)
{

	/* random walks from absent: trusted is never reached unless the step
	 * that entered it was a trust-granting event, and a key that has been
	 * revoked is trusted again only after an upload made it known */
	uint64_t rng = 0x9e3779b97f4a7c15ULL;
	int entries = 0, bad = 0;
	for (int walk = 0; walk < 2000; walk++) {
		int row = 0; /* absent */
		bool revoked_since_upload = false;
		for (int i = 0; i < 200; i++) {
			rng = rng * 6364136223846793005ULL + 1442695040888963407ULL;
			int e = (int)((rng >> 33) % NEV);
			int t = step(row, e);
			if (t == NO)
				continue;
			if (t == TR && row != TR + 1) {
				entries++;
				if (!grants_trust(e) || revoked_since_upload)
					bad++;
			}
			if (t == RV)
				revoked_since_upload = true;
			if (e == KS_EV_UPLOAD && t == KN)
				revoked_since_upload = false;
			row = t + 1;
		}
	}
	CHECK(entries > 100); /* the walks did exercise the trust paths */
	CHECK_EQ(bad, 0);
}

static void test_event_str(void)
{
	static const char *const names[NEV] = {
	    "upload",	     "validation-start", "validation-ok",   "validation-fail",
	    "policy-refuse", "operator-trust",	 "operator-revoke", "rollover-add",
	    "superseded",    "restart",		 "await-operator",
	};
	for (int e = 0; e < NEV; e++)
		CHECK(strcmp(ks_event_str((enum ks_event)e), names[e]) == 0);
	CHECK(strcmp(ks_event_str((enum ks_event)NEV), "?") == 0);
	CHECK(strcmp(ks_event_str((enum ks_event) - 1), "?") == 0);
}

static void test_code_for(void)
{
	static const struct {
		bool exists;
		int st;
		bool manual;
		enum ks_code want;
	} t[] = {
	    {false, KEY_KNOWN, false, KS_UNKNOWN},
	    {false, KEY_TRUSTED, true, KS_UNKNOWN},
	    {false, 99, false, KS_UNKNOWN},
	    {true, KEY_KNOWN, false, KS_BOOTSTRAP_AUTO},
	    {true, KEY_KNOWN, true, KS_BOOTSTRAP_MANUAL},
	    {true, KEY_VALIDATING, false, KS_BOOTSTRAP_AUTO},
	    {true, KEY_VALIDATING, true, KS_BOOTSTRAP_AUTO},
	    {true, KEY_TRUSTED, false, KS_TRUSTED},
	    {true, KEY_TRUSTED, true, KS_TRUSTED},
	    {true, KEY_VALIDATION_FAILED, false, KS_VALIDATION_FAILED},
	    {true, KEY_VALIDATION_FAILED, true, KS_VALIDATION_FAILED},
	    {true, KEY_REFUSED, false, KS_REFUSED},
	    {true, KEY_REFUSED, true, KS_REFUSED},
	    {true, KEY_REVOKED, false, KS_UNKNOWN},
	    {true, KEY_REVOKED, true, KS_UNKNOWN},
	    {true, 6, false, KS_TEMPORARY_FAILURE},
	    {true, -1, true, KS_TEMPORARY_FAILURE},
	};
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		CHECK_EQ(ks_code_for(t[i].exists, (enum key_state)t[i].st, t[i].manual), t[i].want);

	/* the numbers on the wire (doc/protocol.md, KeyState option) */
	CHECK_EQ(KS_MALFORMED, 0);
	CHECK_EQ(KS_TEMPORARY_FAILURE, 1);
	CHECK_EQ(KS_INQUIRE_KEY, 2);
	CHECK_EQ(KS_TRUSTED, 4);
	CHECK_EQ(KS_UNKNOWN, 5);
	CHECK_EQ(KS_INVALID, 6);
	CHECK_EQ(KS_REFUSED, 7);
	CHECK_EQ(KS_VALIDATION_FAILED, 8);
	CHECK_EQ(KS_BOOTSTRAP_AUTO, 9);
	CHECK_EQ(KS_BOOTSTRAP_MANUAL, 10);
}

static bool opt_equal(const struct ks_opt *a, const struct ks_opt *b)
{
	return a->key_id == b->key_id && a->state == b->state && a->data == b->data &&
	       a->legacy == b->legacy && strcmp(a->text, b->text) == 0;
}

static void test_write_golden(void)
{
	uint8_t buf[64];
	struct wbuf b;
	struct ks_opt o = {.key_id = 0x1234, .state = KS_TRUSTED, .data = 0};
	strcpy(o.text, "ok");
	wbuf_init(&b, buf, sizeof(buf));
	ks_opt_write(&b, 65002, &o);
	static const uint8_t want[] = {0xfd, 0xea, 0x00, 0x06, 0x12, 0x34, 0x04, 0x00, 'o', 'k'};
	CHECK_EQ(b.err, 0);
	CHECK_EQ(b.len, sizeof(want));
	CHECK(memcmp(buf, want, sizeof(want)) == 0);

	/* no text, KEY-DATA carried as given, the legacy flag does not matter:
	 * always the 4-byte form (D9) */
	struct ks_opt l = {.key_id = 0xffff, .state = KS_REFUSED, .data = 3, .legacy = true};
	wbuf_init(&b, buf, sizeof(buf));
	ks_opt_write(&b, 65002, &l);
	static const uint8_t want2[] = {0xfd, 0xea, 0x00, 0x04, 0xff, 0xff, 0x07, 0x03};
	CHECK_EQ(b.err, 0);
	CHECK_EQ(b.len, sizeof(want2));
	CHECK(memcmp(buf, want2, sizeof(want2)) == 0);

	/* appends after what is already in the buffer */
	wbuf_init(&b, buf, sizeof(buf));
	wbuf_u16(&b, 0xabcd);
	ks_opt_write(&b, 7, &o);
	CHECK_EQ(b.len, 2 + sizeof(want));
	CHECK_EQ(rd_u16(buf + 2), 7);
	CHECK(memcmp(buf + 4, want + 2, sizeof(want) - 2) == 0);
}

static void test_write_limits(void)
{
	uint8_t buf[300];
	struct wbuf b;
	struct ks_opt o = {.key_id = 1, .state = KS_BOOTSTRAP_AUTO};
	strcpy(o.text, "hello");
	size_t need = 8 + 5;

	/* all or nothing: every short buffer gets nothing and DS_ELIMIT */
	for (size_t cap = 0; cap < need; cap++) {
		memset(buf, 0x55, sizeof(buf));
		wbuf_init(&b, buf, cap);
		ks_opt_write(&b, 65002, &o);
		CHECK_EQ(b.err, DS_ELIMIT);
		CHECK_EQ(b.len, 0);
		CHECK_EQ(buf[0], 0x55);
	}
	wbuf_init(&b, buf, need);
	ks_opt_write(&b, 65002, &o);
	CHECK_EQ(b.err, 0);
	CHECK_EQ(b.len, need);

	/* a sticky earlier error: nothing more is written */
	wbuf_init(&b, buf, sizeof(buf));
	b.err = DS_ELIMIT;
	ks_opt_write(&b, 65002, &o);
	CHECK_EQ(b.len, 0);
	CHECK_EQ(b.err, DS_ELIMIT);

	/* a text without a NUL in its array: at most 255 bytes go out */
	struct ks_opt full = {.key_id = 2, .state = KS_INVALID, .data = 1};
	memset(full.text, 'a', sizeof(full.text));
	wbuf_init(&b, buf, sizeof(buf));
	ks_opt_write(&b, 65002, &full);
	CHECK_EQ(b.err, 0);
	CHECK_EQ(b.len, 8 + 255);
	CHECK_EQ(rd_u16(buf + 2), 4 + 255);
}

static void test_round_trip(void)
{
	struct ks_opt cases[5];
	memset(cases, 0, sizeof(cases));
	cases[0] = (struct ks_opt){.key_id = 0, .state = KS_MALFORMED};
	cases[1] = (struct ks_opt){.key_id = 12345, .state = KS_INQUIRE_KEY};
	cases[2] = (struct ks_opt){.key_id = 0xffff, .state = KS_REFUSED, .data = 0xfe};
	strcpy(cases[2].text, "algorithm 5 not accepted by policy");
	cases[3] = (struct ks_opt){.key_id = 40000, .state = 200, .data = 0};
	memset(cases[3].text, 'x', 255); /* the longest text that fits */
	cases[4] = (struct ks_opt){.key_id = 7, .state = KS_UNKNOWN};
	strcpy(cases[4].text, "\xc3\xa5 utf-8 bytes are copied as they are");

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint8_t buf[512];
		struct wbuf b;
		wbuf_init(&b, buf, sizeof(buf));
		ks_opt_write(&b, 65002, &cases[i]);
		CHECK_EQ(b.err, 0);

		/* the written bytes are an OPT option list of one option */
		size_t len = 99;
		const uint8_t *p = edns_opt_find(buf, b.len, 65002, &len);
		CHECK(p == buf + 4);
		CHECK_EQ(len, b.len - 4);

		struct ks_opt back;
		CHECK_EQ(ks_opt_parse(p, len, &back), DS_OK);
		CHECK(opt_equal(&back, &cases[i]));
		CHECK(!back.legacy);
	}
}

static void test_parse(void)
{
	struct ks_opt o;

	/* legacy keystate-01: exactly 3 bytes, no KEY-DATA */
	static const uint8_t leg[] = {0x12, 0x34, 0x05};
	memset(&o, 0xaa, sizeof(o));
	CHECK_EQ(ks_opt_parse(leg, sizeof(leg), &o), DS_OK);
	CHECK_EQ(o.key_id, 0x1234);
	CHECK_EQ(o.state, 5);
	CHECK_EQ(o.data, 0);
	CHECK(o.legacy);
	CHECK_EQ(o.text[0], 0);

	/* the 4-byte form, no text */
	static const uint8_t four[] = {0x00, 0x01, 0x02, 0x09};
	memset(&o, 0xaa, sizeof(o));
	CHECK_EQ(ks_opt_parse(four, sizeof(four), &o), DS_OK);
	CHECK_EQ(o.key_id, 1);
	CHECK_EQ(o.state, 2);
	CHECK_EQ(o.data, 9);
	CHECK(!o.legacy);
	CHECK_EQ(o.text[0], 0);

	/* with text */
	static const uint8_t txt[] = {0xab, 0xcd, 0x08, 0x00, 'n', 'o', ' ', 'D', 'S'};
	CHECK_EQ(ks_opt_parse(txt, sizeof(txt), &o), DS_OK);
	CHECK_EQ(o.key_id, 0xabcd);
	CHECK_EQ(o.state, 8);
	CHECK(strcmp(o.text, "no DS") == 0);

	/* too short, or no bytes at all: malformed and *out cleared */
	for (size_t n = 0; n < 3; n++) {
		memset(&o, 0xaa, sizeof(o));
		CHECK_EQ(ks_opt_parse(leg, n, &o), DS_EMALF);
		CHECK_EQ(o.key_id, 0);
		CHECK_EQ(o.state, 0);
		CHECK(!o.legacy);
		CHECK_EQ(o.text[0], 0);
	}
	CHECK_EQ(ks_opt_parse(NULL, 4, &o), DS_EMALF);

	/* an oversized text is cut at 255 bytes and stays NUL-terminated */
	uint8_t big[4 + 1000];
	big[0] = 0x01;
	big[1] = 0x02;
	big[2] = KS_INVALID;
	big[3] = 4;
	for (size_t i = 4; i < sizeof(big); i++)
		big[i] = (uint8_t)('A' + i % 26);
	CHECK_EQ(ks_opt_parse(big, sizeof(big), &o), DS_OK);
	CHECK_EQ(strlen(o.text), 255);
	CHECK(memcmp(o.text, big + 4, 255) == 0);
	CHECK_EQ(o.data, 4);
	/* exactly 255 and 256 bytes of text */
	CHECK_EQ(ks_opt_parse(big, 4 + 255, &o), DS_OK);
	CHECK_EQ(strlen(o.text), 255);
	CHECK_EQ(ks_opt_parse(big, 4 + 256, &o), DS_OK);
	CHECK_EQ(strlen(o.text), 255);
	CHECK_EQ(ks_opt_parse(big, 4 + 254, &o), DS_OK);
	CHECK_EQ(strlen(o.text), 254);
}

/* edns_opt_find over list (n bytes) for code: at list + at (-1: NULL), len want. */
static const uint8_t *find_is(const uint8_t *list, size_t n, uint16_t code, long at, size_t want)
{
	size_t len = 7; /* must be overwritten */
	const uint8_t *p = edns_opt_find(list, n, code, &len);
	CHECK(p == (at < 0 ? NULL : list + at));
	CHECK_EQ(len, want);
	return p;
}

static void test_find(void)
{
	size_t len;
	const uint8_t *p;

	/* COOKIE (10, 8 bytes), KeyState (65002, 6 bytes), EDE (15, 2 bytes) */
	static const uint8_t list[] = {
	    0x00, 0x0a, 0x00, 0x08, 1,	  2,	3,   4,	  5,	6,    7,    8,	  0xfd, 0xea,
	    0x00, 0x06, 0x12, 0x34, 0x04, 0x00, 'h', 'i', 0x00, 0x0f, 0x00, 0x02, 0x00, 0x12,
	};
	find_is(list, sizeof(list), 65002, 16, 6);
	find_is(list, sizeof(list), 15, 26, 2);
	find_is(list, sizeof(list), 10, 4, 8);
	find_is(list, sizeof(list), 12, -1, 0);

	/* every prefix of the list: well formed exactly at option boundaries */
	for (size_t n = 0; n <= sizeof(list); n++) {
		bool boundary = n == 0 || n == 12 || n == 22 || n == sizeof(list);
		p = edns_opt_find(list, n, 65002, &len);
		if (!boundary) {
			CHECK(p == NULL);
			CHECK_EQ(len, SIZE_MAX);
		} else if (n >= 22) {
			CHECK(p == list + 16);
			CHECK_EQ(len, 6);
		} else {
			CHECK(p == NULL);
			CHECK_EQ(len, 0);
		}
	}

	/* the wanted option comes first, then an option runs past the end:
	 * the whole list is malformed */
	static const uint8_t tail[] = {0xfd, 0xea, 0x00, 0x03, 0x00, 0x01,
				       0x05, 0x00, 0x0c, 0x00, 0x10, 0x00};
	find_is(tail, sizeof(tail), 65002, -1, SIZE_MAX);
	/* a lone length that claims 65535 bytes */
	static const uint8_t huge[] = {0xfd, 0xea, 0xff, 0xff, 0x00};
	find_is(huge, sizeof(huge), 65002, -1, SIZE_MAX);

	/* zero-length options, the wanted one among them */
	static const uint8_t zeros[] = {0x00, 0x0c, 0x00, 0x00, /* PADDING, empty */
					0xfd, 0xea, 0x00, 0x00, /* KeyState, empty */
					0x00, 0x0c, 0x00, 0x00};
	p = find_is(zeros, sizeof(zeros), 65002, 8, 0);
	struct ks_opt o;
	CHECK_EQ(ks_opt_parse(p, 0, &o), DS_EMALF); /* found, but no payload */

	/* duplicates: the first one wins */
	static const uint8_t dup[] = {0xfd, 0xea, 0x00, 0x03, 0x00, 0x01, 0x02, 0xfd,
				      0xea, 0x00, 0x04, 0x00, 0x02, 0x04, 0x00};
	p = find_is(dup, sizeof(dup), 65002, 4, 3);
	CHECK_EQ(ks_opt_parse(p, 3, &o), DS_OK);
	CHECK(o.legacy);
	CHECK_EQ(o.key_id, 1);

	/* empty lists */
	find_is(list, 0, 65002, -1, 0);
	find_is(NULL, 0, 65002, -1, 0);
	find_is(NULL, 4, 65002, -1, SIZE_MAX);
}

/* A list built with the writer, several options, found by code. */
static void test_find_written(void)
{
	size_t len;
	const uint8_t *p;
	struct ks_opt o;
	uint8_t buf[128];
	struct wbuf b;
	struct ks_opt a = {.key_id = 11, .state = KS_INQUIRE_KEY};
	wbuf_init(&b, buf, sizeof(buf));
	wbuf_u16(&b, 10);
	wbuf_u16(&b, 0);
	ks_opt_write(&b, 65001, &a);
	a.key_id = 22;
	ks_opt_write(&b, 65002, &a);
	CHECK_EQ(b.err, 0);
	p = edns_opt_find(buf, b.len, 65002, &len);
	CHECK(p != NULL);
	CHECK_EQ(ks_opt_parse(p, len, &o), DS_OK);
	CHECK_EQ(o.key_id, 22);
	p = edns_opt_find(buf, b.len, 65001, &len);
	CHECK(p != NULL);
	CHECK_EQ(ks_opt_parse(p, len, &o), DS_OK);
	CHECK_EQ(o.key_id, 11);
}

int main(void)
{
	test_matrix();
	test_properties_trust();
	test_properties_store();
	test_properties_walks();
	test_event_str();
	test_code_for();
	test_write_golden();
	test_write_limits();
	test_round_trip();
	test_parse();
	test_find();
	test_find_written();
	CHECK_EQ(next_touched, 0);
	UNIT_DONE("test_keystate");
}
