/*
 * tests/fuzz/fuzz_api_body.c -- the admin API's request bodies, checked as
 * the write handlers check them (api/api.c api_body_json, api/writes.c),
 * without an HTTP server or a store: the JSON object and its fields, the
 * "reason" of trust/revoke/delete, the KEY record of a key upload
 * (POST /api/v1/children/{child}/keys: presentation form through ldns,
 * then the key itself), and the child name and "ns"/"ds"/"glue" arrays of
 * a new delegation (POST /api/v1/children/{child}: keys/deleg_ops.c and
 * the zone's policy).
 *
 * Input: one byte that picks the request (0 a reason, 1 a key upload for
 * c1.example., 2 a delegation, 3 a body of no known shape); for a
 * delegation, the child's name up to the first newline; then the body.
 *
 * Checked beyond what ASan and UBSan see: a refusal is answered with
 * 400, 404 or 500 and {"error": "..."} in printable ASCII; an acceptance
 * leaves no answer; an accepted key is a KEY record of the child with its
 * algorithm and tag; an accepted delegation holds at most DELEG_MAX
 * records, all at the child or below it.
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "api/internal.h"
#include "backends/backend.h"
#include "common/deleg.h"
#include "common/dname.h"
#include "common/err.h"
#include "keys/deleg_ops.h"
#include "sig0/sig0.h"
#include "tests/fuzz/fuzz.h"

static struct cfg *C;
static char dir[] = "/tmp/dsyncd-fuzz-api.XXXXXX";

static void cleanup(void)
{
	fuzz_rmtree(dir);
}

static void setup(void)
{
	char path[128];
	backends_register();
	if (mkdtemp(dir) == NULL)
		abort();
	atexit(cleanup);
	snprintf(path, sizeof(path), "%s/dsyncd.conf", dir);
	FILE *f = fopen(path, "w");
	if (f == NULL)
		abort();
	fprintf(
	    f,
	    "zones = ( { name = \"example.\"; min-ns = 1;\n"
	    "  children = ( { name = \"c1.example.\"; } );\n"
	    "  backends = ( { type = \"null\"; } ); },\n"
	    "  { name = \"sub.example.\"; max-ds = 2; backends = ( { type = \"null\"; } ); } );\n");
	if (fclose(f) != 0 || cfg_load(path, stderr, &C) != DS_OK)
		abort();
}

/* The answer is a refusal in JSON, printable. */
static void check_refusal(const struct api_req *q)
{
	FUZZ_ASSERT(q->status == 400 || q->status == 404 || q->status == 415 || q->status == 500);
	FUZZ_ASSERT(q->out != NULL && q->outlen == strlen(q->out));
	for (size_t i = 0; i + 1 < q->outlen; i++)
		FUZZ_ASSERT(q->out[i] >= 0x20 && q->out[i] < 0x7f);
	json_error_t e;
	json_t *v = json_loadb(q->out, q->outlen, 0, &e);
	FUZZ_ASSERT(v != NULL && json_is_string(json_object_get(v, "error")));
	json_decref(v);
}

static void key_upload(struct api_req *q)
{
	const struct cfg_zone *z = &C->zones[0];
	const uint8_t *child = C->zones[0].children[0].name;
	struct store_key *k = calloc(1, sizeof(*k));
	char reason[300];
	FUZZ_ASSERT(k != NULL);
	if (api_key_check(q, z, child, k, reason, sizeof(reason))) {
		FUZZ_ASSERT(q->status == 0);
		FUZZ_ASSERT(k->rdlen >= 4 && k->alg == k->rdata[3]);
		FUZZ_ASSERT(k->tag == sig0_rdata_tag(k->rdata, k->rdlen));
	} else {
		check_refusal(q);
	}
	free(k);
}

static void delegation(struct api_req *q)
{
	static const char *const fields[] = {"ns:a", "ds:a", "glue:a", "reason:s", NULL};
	char reason[256];
	json_t *b = api_body_json(q, fields, false);
	struct deleg_op *op = b ? api_child_op(q, b, reason, sizeof(reason)) : NULL;
	struct deleg *d = op ? malloc(sizeof(*d)) : NULL;
	if (d != NULL) {
		int rc = api_child_records(q, b, op, d);
		if (rc == DS_OK) {
			FUZZ_ASSERT(q->status == 0 && d->n <= DELEG_MAX);
			for (size_t i = 0; i < d->n; i++)
				FUZZ_ASSERT(dname_is_sub(d->rr[i].owner, op->child));
		} else if (q->status == 0) {
			FUZZ_ASSERT(rc == DS_EINVAL && op->why[0] != '\0');
		}
	}
	if (q->status != 0)
		check_refusal(q);
	else
		FUZZ_ASSERT(op != NULL);
	free(d);
	free(op);
	json_decref(b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (C == NULL)
		setup();
	if (size < 1 || size > 65536)
		return 0;
	struct api_req q = {.cfg = C, .method = "POST"};
	snprintf(q.actor, sizeof(q.actor), "api:fuzz");
	snprintf(q.client, sizeof(q.client), "127.0.0.1");
	char name[256] = "";
	const uint8_t *body = data + 1;
	size_t len = size - 1;
	if (data[0] % 4 == 2) {
		const uint8_t *nl = memchr(body, '\n', len);
		size_t nlen = nl ? (size_t)(nl - body) : len;
		if (nlen >= sizeof(name))
			return 0;
		memcpy(name, body, nlen);
		name[nlen] = '\0';
		body += nl ? nlen + 1 : nlen;
		len -= nl ? nlen + 1 : nlen;
	}
	q.param[0] = name;
	q.body = malloc(len ? len : 1); /* exact size: ASan sees any read past it */
	FUZZ_ASSERT(q.body != NULL);
	memcpy(q.body, body, len);
	q.len = q.cap = len;

	char out[300];
	static const char *const any[] = {"key:s", "ns:a", "reason:s", NULL};
	json_t *v;
	switch (data[0] % 4) {
	case 0:
		if (!api_body_reason(&q, out, sizeof(out), "through the admin API"))
			check_refusal(&q);
		else
			FUZZ_ASSERT(q.status == 0 &&
				    strncmp(out, "through the admin API", 21) == 0);
		break;
	case 1:
		key_upload(&q);
		break;
	case 2:
		delegation(&q);
		break;
	default:
		v = api_body_json(&q, any, data[0] & 4);
		if (v == NULL)
			check_refusal(&q);
		FUZZ_ASSERT(v == NULL || (q.status == 0 && json_is_object(v)));
		json_decref(v);
	}
	free(q.out);
	free(q.body);
	return 0;
}
