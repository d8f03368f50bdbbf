/*
 * tests/tools/inproc.h -- one request through the receiver on the calling
 * thread, for the in-process decision tests (tests/unit/test_pipeline.c)
 * and the fuzz target (tests/fuzz/fuzz_pipeline.c).
 *
 * A job for an exact-size copy of the bytes (ASan sees any read past them),
 * from 127.0.<net>.1 port 40000, goes through the steps the I/O thread, a
 * verification worker and the commit thread run: pipeline_receive,
 * pipeline_verify, pipeline_commit_batch, respond_build, respond_sign,
 * pipeline_log.  Returns the job (the caller reads the decision and the
 * answer, then job_free()s it), NULL when out of memory.  inproc_conf_open()
 * opens the configuration file both write.
 */
#ifndef DS_TESTS_TOOLS_INPROC_H
#define DS_TESTS_TOOLS_INPROC_H

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "receiver/internal.h"

/* The receiver's parts as daemon/ builds them, without sockets or threads:
 * the store at cfg's store.path, the configuration's keys in it, the key
 * cache, the receiver. */
struct inproc {
	struct store *store;
	struct keycache *keys;
	struct receiver *r;
};

static inline void inproc_close(struct inproc *p)
{
	receiver_free(p->r);
	keycache_free(p->keys);
	store_close(p->store);
	memset(p, 0, sizeof(*p));
}

static inline int inproc_open(const struct cfg *c, struct inproc *p)
{
	memset(p, 0, sizeof(*p));
	int rc = store_open(c->store_path, &p->store);
	if (rc == DS_OK)
		rc = keycache_new(&p->keys);
	if (rc == DS_OK)
		rc = keys_load(c, p->store, p->keys); /* as the daemon starts */
	struct receiver_env env = {.store = p->store, .keys = p->keys};
	if (rc == DS_OK)
		rc = receiver_core_new(c, &env, &p->r);
	if (rc != DS_OK)
		inproc_close(p);
	return rc;
}

static inline struct job *inproc_run(struct receiver *r, const uint8_t *msg, size_t len, bool tcp,
				     unsigned net)
{
	struct job *j = job_new(len);
	if (j == NULL)
		return NULL;
	memcpy(j->req, msg, len);
	j->tcp = tcp;
	struct sockaddr_in *sin = (struct sockaddr_in *)&j->peer;
	sin->sin_family = AF_INET;
	sin->sin_port = htons(40000);
	sin->sin_addr.s_addr = htonl(0x7f000001u + ((net & 0xff) << 8));
	j->peerlen = sizeof(*sin);
	snprintf(j->client, sizeof(j->client), "127.0.%u.1#40000", net & 0xff);
	clock_gettime(CLOCK_REALTIME, &j->t_recv);

	pipeline_receive(r, j);
	if (j->stage == JOB_VERIFY)
		pipeline_verify(r, j);
	if (j->stage == JOB_COMMIT || j->audit) {
		j->next = NULL;
		pipeline_commit_batch(r, j);
	}
	respond_build(j);
	respond_sign(r, j);
	pipeline_log(r, j);
	return j;
}

/* dir/dsyncd.conf (its name into path) opened for writing; aborts when it cannot. */
static inline FILE *inproc_conf_open(const char *dir, char *path, size_t cap)
{
	snprintf(path, cap, "%s/dsyncd.conf", dir);
	FILE *f = fopen(path, "w");
	if (f == NULL)
		abort();
	return f;
}

#endif
