/*
 * tests/unit/test_api.c -- the admin API's tokens file: what is accepted
 * (comments, blank lines, CRLF), every refusal (fields, role, length,
 * characters, duplicates, mode, no token at all), and the lookup by token.
 * Also the key names every key route, `dsyncd key` and dsyncctl take
 * (keys/name.c): the forms, the refusals, an ambiguous tag.
 * The HTTP side is tested against the running daemon (tests/integration/15-api.sh).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "api/internal.h"
#include "backends/backend.h"
#include "common/dname.h"
#include "common/err.h"
#include "common/log.h"
#include "tests/unit/unit.h"

static char dir[] = "/tmp/dsyncd-test-api.XXXXXX";
static char path[256];

/* Write text to the tokens file with mode, then load it into out. */
static int load(const char *text, mode_t mode, struct api_tokens *out)
{
	FILE *f = fopen(path, "w");
	if (f == NULL)
		return -1;
	fputs(text, f);
	fclose(f);
	chmod(path, mode);
	return api_tokens_load(path, out);
}

static const char *A = "0123456789abcdef";	/* exactly 16 characters */
static const char *B = "fedcba9876543210-read"; /* another valid token */

static void test_good(void)
{
	struct api_tokens t = {0};
	char text[512];
	snprintf(text, sizeof(text),
		 "# comment line\n\n   \nalice admin %s   # trailing comment\r\n"
		 "\tgrafana\tread\t%s\n",
		 A, B);
	CHECK_EQ(load(text, 0600, &t), DS_OK);
	CHECK_EQ(t.n, 2);
	const struct api_token *a = api_tokens_find(&t, A, strlen(A));
	CHECK(a != NULL && strcmp(a->name, "alice") == 0 && a->role == API_ROLE_ADMIN);
	const struct api_token *b = api_tokens_find(&t, B, strlen(B));
	CHECK(b != NULL && strcmp(b->name, "grafana") == 0 && b->role == API_ROLE_READ);
	/* a prefix, a longer string, a different case: no match */
	CHECK(api_tokens_find(&t, A, strlen(A) - 1) == NULL);
	CHECK(api_tokens_find(&t, "0123456789abcdefX", 17) == NULL);
	CHECK(api_tokens_find(&t, "0123456789ABCDEF", 16) == NULL);
	CHECK(api_tokens_find(&t, "", 0) == NULL);
	api_tokens_clear(&t);
	CHECK_EQ(t.n, 0);
	CHECK(t.t == NULL);
	/* mode 0400 is fine too */
	snprintf(text, sizeof(text), "alice admin %s\n", A);
	CHECK_EQ(load(text, 0400, &t), DS_OK);
	CHECK_EQ(t.n, 1);
	api_tokens_clear(&t);
	chmod(path, 0600);
	CHECK(strcmp(api_role_str(API_ROLE_ADMIN), "admin") == 0);
	CHECK(strcmp(api_role_str(API_ROLE_READ), "read") == 0);
}

static void test_bad(void)
{
	struct api_tokens t = {0};
	char text[512];
	static const char *const lines[] = {
	    "alice admin",			  /* two fields */
	    "alice admin 0123456789abcdef extra", /* four fields */
	    "alice writer 0123456789abcdef",	  /* unknown role */
	    "alice admin 0123456789abcde",	  /* 15 characters */
	    "al/ice admin 0123456789abcdef",	  /* bad name */
	    "alice admin 0123456789abcdef\x7f",	  /* not printable */
	    "alice Admin 0123456789abcdef",	  /* roles are lower case */
	};
	for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
		snprintf(text, sizeof(text), "ok read %s\n%s\n", B, lines[i]);
		t = (struct api_tokens){.t = NULL, .n = 99};
		CHECK_EQ(load(text, 0600, &t), DS_ECONFIG);
		CHECK_EQ(t.n, 99); /* out untouched */
	}
	/* a token of 257 characters */
	char longtok[300];
	memset(longtok, 'x', 257);
	longtok[257] = '\0';
	snprintf(text, sizeof(text), "alice admin %s\n", longtok);
	CHECK_EQ(load(text, 0600, &t), DS_ECONFIG);
	/* duplicates: the same name, or the same token under two names */
	snprintf(text, sizeof(text), "alice admin %s\nalice read %s\n", A, B);
	CHECK_EQ(load(text, 0600, &t), DS_ECONFIG);
	snprintf(text, sizeof(text), "alice admin %s\nbob read %s\n", A, A);
	CHECK_EQ(load(text, 0600, &t), DS_ECONFIG);
	/* nothing but comments: no token is an error too */
	CHECK_EQ(load("# nobody\n\n", 0600, &t), DS_ECONFIG);
	/* group or others may read it */
	snprintf(text, sizeof(text), "alice admin %s\n", A);
	CHECK_EQ(load(text, 0640, &t), DS_ECONFIG);
	CHECK_EQ(load(text, 0604, &t), DS_ECONFIG);
	CHECK_EQ(load(text, 0660, &t), DS_ECONFIG);
	chmod(path, 0600);
	/* missing file, a folder */
	CHECK_EQ(api_tokens_load("/nonexistent/tokens", &t), DS_ECONFIG);
	CHECK_EQ(api_tokens_load(dir, &t), DS_ECONFIG);
}

/* key_ref_parse: every accepted form, and what is not a key name. */
static void test_key_ref(void)
{
	struct key_ref r;
	char why[512];
	uint8_t n[DNAME_MAX];

	CHECK_EQ(key_ref_parse("17", &r, why, sizeof(why)), DS_OK);
	CHECK_EQ(r.id, 17);
	CHECK_EQ(key_ref_parse("child.example./12345", &r, why, sizeof(why)), DS_OK);
	CHECK_EQ(r.id, 0);
	CHECK_EQ(r.tag, 12345);
	CHECK_EQ(r.alg, -1);
	dname_from_str("child.example.", n);
	CHECK(dname_equal(r.child, n));
	/* no final dot, upper case: the same child */
	CHECK_EQ(key_ref_parse("CHILD.Example/7/15", &r, why, sizeof(why)), DS_OK);
	CHECK(dname_equal(r.child, n));
	CHECK_EQ(r.tag, 7);
	CHECK_EQ(r.alg, 15);
	/* a child whose name holds a '/' (RFC 2317) */
	CHECK_EQ(key_ref_parse("0/25.2.0.192.in-addr.arpa./300", &r, why, sizeof(why)), DS_OK);
	CHECK_EQ(r.tag, 300);
	CHECK_EQ(r.alg, -1);
	dname_from_str("0/25.2.0.192.in-addr.arpa.", n);
	CHECK(dname_equal(r.child, n));
	/* a last number above 255 is a tag, never an algorithm */
	CHECK_EQ(key_ref_parse("a.example./1/300", &r, why, sizeof(why)), DS_OK);
	CHECK_EQ(r.tag, 300);
	CHECK_EQ(r.alg, -1);
	static const char *const bad[] = {
	    "",	      "0",	  "abc",    "child.example.", "child.example./",
	    "/12345", "a./65536", "a./x12", "..bad/5",	      "-5",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		why[0] = '\0';
		CHECK_EQ(key_ref_parse(bad[i], &r, why, sizeof(why)), DS_EINVAL);
		CHECK(why[0] != '\0');
	}
}

static const char key_conf[] =
    "store = { path = \":memory:\"; };\n"
    "log = { level = \"err\"; };\n"
    "zones = ( { name = \"example.\"; backends = ( { type = \"null\"; } ); },\n"
    "  { name = \"sub.example.\"; backends = ( { type = \"null\"; } ); } );\n";

/* A key of child cid: tag, algorithm, state as given, its bytes from fill. */
static int64_t put_key(struct store *s, int64_t cid, uint16_t tag, uint8_t alg, uint8_t fill,
		       enum key_state st)
{
	struct store_key k;
	memset(&k, 0, sizeof(k));
	k.child_id = cid;
	k.alg = alg;
	k.tag = tag;
	k.flags = 0x0200;
	k.rdata[0] = 0x02;
	k.rdata[2] = 3;
	k.rdata[3] = alg;
	memset(k.rdata + 4, fill, 32);
	k.rdlen = 36;
	k.state = st;
	return store_key_upsert(s, &k) == DS_OK ? k.id : -1;
}

/* key_lookup and key_name against a store: one answer, none, several. */
static void test_key_lookup(void)
{
	struct cfg *c = NULL;
	struct store *s = NULL;
	static struct store_key k;
	char why[1024], cp[300], name[300];
	int64_t zid, cid, a, b, d, x;
	uint8_t n[DNAME_MAX];

	snprintf(cp, sizeof(cp), "%s/keys.conf", dir);
	FILE *f = fopen(cp, "w");
	if (f == NULL)
		return;
	fputs(key_conf, f);
	fclose(f);
	CHECK_EQ(cfg_load(cp, stderr, &c), DS_OK);
	CHECK_EQ(store_open(":memory:", &s), DS_OK);
	if (c == NULL || s == NULL)
		goto out;
	dname_from_str("example.", n);
	CHECK_EQ(store_zone_ensure(s, n, &zid), DS_OK);
	dname_from_str("c.example.", n);
	CHECK_EQ(store_child_ensure(s, zid, n, &cid), DS_OK);
	a = put_key(s, cid, 100, 13, 1, KEY_KNOWN);
	b = put_key(s, cid, 200, 13, 2, KEY_TRUSTED);
	d = put_key(s, cid, 200, 15, 3, KEY_VALIDATION_FAILED);
	x = put_key(s, cid, 300, 15, 4, KEY_KNOWN);
	put_key(s, cid, 300, 15, 5, KEY_KNOWN); /* same tag and algorithm as x */

	CHECK_EQ(key_lookup(c, s, "c.example./100", &k, why, sizeof(why)), DS_OK);
	CHECK_EQ(k.id, a);
	CHECK_EQ(key_name(s, &k, name, sizeof(name)), DS_OK);
	CHECK(strcmp(name, "c.example./100") == 0);
	snprintf(cp, sizeof(cp), "%lld", (long long)b);
	CHECK_EQ(key_lookup(c, s, cp, &k, why, sizeof(why)), DS_OK);
	CHECK_EQ(k.id, b);
	CHECK_EQ(key_name(s, &k, name, sizeof(name)), DS_OK);
	CHECK(strcmp(name, "c.example./200/13") == 0); /* its tag is shared */
	CHECK_EQ(key_lookup(c, s, "C.EXAMPLE/200/15", &k, why, sizeof(why)), DS_OK);
	CHECK_EQ(k.id, d);
	/* ambiguous: the candidates, each with its algorithm, id and state */
	CHECK_EQ(key_lookup(c, s, "c.example./200", &k, why, sizeof(why)), DS_EEXIST);
	snprintf(cp, sizeof(cp),
		 "key name \"c.example./200\" fits 2 keys: c.example./200/13 (id %lld, trusted), "
		 "c.example./200/15 (id %lld, validation-failed); name one as CHILD/TAG/ALG or by "
		 "its id",
		 (long long)b, (long long)d);
	CHECK(strcmp(why, cp) == 0);
	/* same tag and algorithm: only the id tells them apart */
	CHECK_EQ(key_lookup(c, s, "c.example./300/15", &k, why, sizeof(why)), DS_EEXIST);
	CHECK(strstr(why, "fits 2 keys") != NULL);
	snprintf(cp, sizeof(cp), "%lld", (long long)x);
	CHECK_EQ(key_lookup(c, s, cp, &k, why, sizeof(why)), DS_OK);
	/* none */
	CHECK_EQ(key_lookup(c, s, "c.example./999", &k, why, sizeof(why)), DS_ENOENT);
	CHECK(strcmp(why, "c.example. has no key with tag 999") == 0);
	CHECK_EQ(key_lookup(c, s, "c.example./200/8", &k, why, sizeof(why)), DS_ENOENT);
	CHECK(strcmp(why, "c.example. has no key with tag 200 and algorithm 8") == 0);
	CHECK_EQ(key_lookup(c, s, "other.example./100", &k, why, sizeof(why)), DS_ENOENT);
	CHECK(strcmp(why, "other.example. is not a delegation of zone example.") == 0);
	/* the most specific configured zone is the child's parent */
	CHECK_EQ(key_lookup(c, s, "c.sub.example./100", &k, why, sizeof(why)), DS_ENOENT);
	CHECK(strcmp(why, "c.sub.example. is not a delegation of zone sub.example.") == 0);
	CHECK_EQ(key_lookup(c, s, "c.example.net./100", &k, why, sizeof(why)), DS_ENOENT);
	CHECK(strcmp(why, "no configured zone is a parent of c.example.net.") == 0);
	CHECK_EQ(key_lookup(c, s, "424242", &k, why, sizeof(why)), DS_ENOENT);
	CHECK(strcmp(why, "no key with id 424242") == 0);
	CHECK_EQ(key_lookup(c, s, "nonsense", &k, why, sizeof(why)), DS_EINVAL);
out:
	store_close(s);
	cfg_free(c);
	unlink(cp);
}

int main(void)
{
	if (mkdtemp(dir) == NULL)
		return 1;
	snprintf(path, sizeof(path), "%s/tokens", dir);
	backends_register();
	log_init("test_api", false, LOG_ERR);
	test_good();
	test_bad();
	test_key_ref();
	test_key_lookup();
	unlink(path);
	rmdir(dir);
	UNIT_DONE("test_api");
}
