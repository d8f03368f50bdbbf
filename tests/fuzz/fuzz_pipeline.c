/*
 * tests/fuzz/fuzz_pipeline.c -- the whole decision path in process: message
 * bytes in; answer bytes, audit row and log lines out.  No sockets and no
 * threads: each input runs through the steps that the I/O thread, a
 * verification worker and the commit thread would run (pipeline_receive,
 * pipeline_verify, pipeline_commit_batch, respond_build/sign, pipeline_log)
 * on a receiver with an in-memory SQLite store.
 *
 * The parsers have targets of their own (fuzz_msg, fuzz_dname,
 * fuzz_rrtext); this one finds what goes wrong after a parse, failed or
 * not: the audit writer, the log line, the EDE text, the answer builder,
 * prerequisites, policy, key uploads and rollovers, KeyState inquiries.
 *
 * Input: one mode byte, then the message.  Mode bits 0-1: 0 the message as
 * it is; 1 signed (a SIG(0) appended) by c1.example.'s trusted key; 2
 * signed by c2.example.'s key (no key stored: an upload, if the message is
 * one); 3 signed by c1's second key (known after a rollover).  Bit 2: as if
 * over TCP.  Bits 3-4: which client /24 it comes from.  The keys are fixed
 * (pipeline_keys.h), so seeds can carry them.  FUZZ_VERBOSE=1 in the
 * environment prints every log line (what each input was answered).
 *
 * Checked for every input, beyond what ASan and UBSan see: the answer is a
 * well-formed DNS message with the request's ID and QR set; NOERROR to an
 * UPDATE only when its signature verified; every log line and the audit row
 * (request summary and reason) are printable ASCII (names are escaped,
 * R15), so no byte of the message, nor any byte beyond it, reaches them
 * raw.
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/dname.h"
#include "common/err.h"
#include "common/log.h"
#include "common/rrtext.h"
#include "receiver/internal.h"
#include "receiver/receiver.h"
#include "tests/fuzz/fuzz.h"
#include "tests/fuzz/pipeline_keys.h"
#include "tests/tools/inproc.h"
#include "backends/backend.h"

#define FP_RENEW 20000 /* inputs between two fresh receivers (bounded memory) */

static struct cfg *C;
static struct inproc P;
static struct receiver *R;
static struct sig0_key *K[FP_NKEYS];
static unsigned long runs;
static bool log_bad;
static char log_last[2048];

static bool printable(const char *s, bool newlines)
{
	for (; *s; s++)
		if (!((*s >= 0x20 && *s < 0x7f) || (newlines && *s == '\n')))
			return false;
	return true;
}

static void sink(void *arg, int prio, const char *line)
{
	(void)arg;
	(void)prio;
	if (getenv("FUZZ_VERBOSE"))
		fprintf(stderr, "log: %s\n", line);
	if (!printable(line, false)) {
		log_bad = true;
		snprintf(log_last, sizeof(log_last), "%s", line);
	}
}

static char dir[] = "/tmp/dsyncd-fuzz.XXXXXX";

/* The temporary folder goes with the process (replay runs one per input). */
static void cleanup(void)
{
	fuzz_rmtree(dir);
}

static void setup(void)
{
	backends_register();
	char path[256], b64[4][128];
	if (mkdtemp(dir) == NULL)
		abort();
	atexit(cleanup);
	for (int i = 0; i < FP_NKEYS; i++) {
		uint8_t rd[FP_KEY_RDLEN], owner[DNAME_MAX];
		EVP_PKEY *pk = fp_key(i, rd);
		if (dname_from_str(fp_owner[i], owner) <= 0 ||
		    sig0_key_new_private(pk, owner, rd, sizeof(rd), &K[i], NULL, 0) != DS_OK ||
		    b64_encode(rd + 4, 32, b64[i], sizeof(b64[i])) < 0)
			abort(); /* K[i] owns pk now */
	}
	FILE *f = inproc_conf_open(dir, path, sizeof(path));
	/* limits high enough that the fuzzer reaches the decisions behind them */
	fprintf(f,
		"server = { listen = [ \"127.0.0.1\" ]; updates-per-source = 100000000;\n"
		"  updates-per-signer = 100000000; };\n"
		"store = { path = \"%s/unused.db\"; };\n"
		"log = { level = \"debug\"; };\n"
		"sig0 = { verify-budget = 0; };\n"
		"keystate = { inquiries-per-source = 1000000; };\n"
		"bootstrap = { uploads-per-child = 100000; uploads-per-source = 1000000; };\n"
		"receiver = { name = \"updater.example.\"; key-directory = \"%s/rkeys\";\n"
		"  sign-budget = 1000000; };\n"
		"zones = ( { name = \"example.\"; min-ns = 1; max-update-records = 16;\n"
		"  bootstrap-methods = [ \"manual\" ]; bootstrap-max-pending = 2;\n"
		"  children = ( { name = \"c1.example.\";\n"
		"    keys = ( \"c1.example. KEY 512 3 15 %s\" ); },\n"
		"    { name = \"c2.example.\"; } );\n"
		"  backends = ( { type = \"null\"; } ); } );\n",
		dir, dir, b64[FP_C1]);
	if (fclose(f) != 0 || cfg_load(path, stderr, &C) != DS_OK)
		abort();
	free(C->store_path);
	C->store_path = strdup(":memory:");
	log_init("fuzz", false, LOG_DEBUG);
	log_set_sink(sink, NULL);
}

static void renew(void)
{
	inproc_close(&P);
	R = NULL;
	if (inproc_open(C, &P) != DS_OK)
		abort();
	R = P.r;
}

/* The newest audit row's id; its texts are checked on the way. */
static int audit_cb(void *arg, const struct audit_row *row)
{
	*(int64_t *)arg = row->id;
	FUZZ_ASSERT(row->a.request == NULL || printable(row->a.request, false));
	FUZZ_ASSERT(row->a.reason == NULL || printable(row->a.reason, true));
	return DS_OK;
}

static int64_t audit_newest(void)
{
	int64_t id = 0;
	struct audit_filter f = {0};
	FUZZ_ASSERT(store_audit_page(R->store, &f, 0, 1, audit_cb, &id) == DS_OK);
	return id;
}

static void check_answer(const struct job *j)
{
	static struct msg am;
	FUZZ_ASSERT(j->resplen >= DNS_HDR_LEN && j->resplen <= sizeof(j->resp));
	FUZZ_ASSERT(j->resp[0] == j->req[0] && j->resp[1] == j->req[1]);
	FUZZ_ASSERT(j->resp[2] & 0x80);
	int rc = msg_parse(&am, j->resp, j->resplen);
	if (rc != DS_OK)
		fprintf(stderr, "answer does not parse: %s\n", am.why);
	FUZZ_ASSERT(rc == DS_OK);
	/* an UPDATE is acknowledged only when its signature verified (KeyState
	 * answers change nothing: a malformed inquiry is told so unsigned) */
	if (j->rcode == RC_NOERROR && j->m->opcode == OP_UPDATE)
		FUZZ_ASSERT(j->key != NULL || j->kind == MSG_UPLOAD);
	msg_clear(&am);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (C == NULL)
		setup();
	if (R == NULL || runs++ % FP_RENEW == 0)
		renew();
	if (size < 1 + DNS_HDR_LEN || size > 1 + 16384)
		return 0;
	unsigned mode = data[0];
	uint8_t buf[16384 + 1024];
	size_t len = size - 1;
	memcpy(buf, data + 1, len);
	if (mode & 3) {
		static const int signer[4] = {-1, FP_C1, FP_C2, FP_C3};
		uint32_t now = (uint32_t)time(NULL);
		if (sig0_sign(K[signer[mode & 3]], buf, &len, sizeof(buf), now - 10, now + 290,
			      NULL, 0) != DS_OK)
			return 0; /* no room for the signature */
	}
	int64_t before = audit_newest();
	struct job *j = inproc_run(R, buf, len, (mode & 4) != 0, (mode >> 3) & 3);
	FUZZ_ASSERT(j != NULL);

	check_answer(j);
	int64_t after = audit_newest();		 /* checks the newest row's texts */
	if (j->audit && j->rcode != RC_SERVFAIL) /* audited jobs were committed */
		FUZZ_ASSERT(after > before);
	if (log_bad)
		fprintf(stderr, "log line with raw bytes: %s\n", log_last);
	FUZZ_ASSERT(!log_bad);
	job_free(j);
	return 0;
}
