/*
 * tests/unit/test_api.c -- the admin API's tokens file: what is accepted
 * (comments, blank lines, CRLF), every refusal (fields, role, length,
 * characters, duplicates, mode, no token at all), and the lookup by token.
 * The HTTP side is tested against the running daemon (tests/integration/15-api.sh).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "api/internal.h"
#include "common/err.h"
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

int main(void)
{
	if (mkdtemp(dir) == NULL)
		return 1;
	snprintf(path, sizeof(path), "%s/tokens", dir);
	test_good();
	test_bad();
	unlink(path);
	rmdir(dir);
	UNIT_DONE("test_api");
}
