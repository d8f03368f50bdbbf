/*
 * backends/zonefile.c -- the "zonefile" backend: writes the zone's whole
 * delegation data as a zone file fragment (for $INCLUDE), or a complete
 * zone from a template, then runs an optional reload command.
 *
 * Every delivery renders a full snapshot, so delivering the same batch
 * twice (after a crash, or a retry) gives the same file: the backend is
 * idempotent.  The output carries nothing volatile except the serial in
 * template mode, so an unchanged snapshot is recognised by comparing bytes
 * and neither rewritten nor reloaded.  See doc/backends.md.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "backends/backend.h"
#include "common/axfr.h"
#include "common/dnsq.h"
#include "common/zonefile.h"
#include "backends/zonefile.h"
#include "common/dname.h"
#include "common/err.h"
#include "common/file.h"
#include "common/log.h"
#include "common/rrtext.h"
#include "common/vec.h"

#define ZF_PLACE_DELEG "{{DELEGATIONS}}"
#define ZF_PLACE_SERIAL "{{SERIAL}}"
#define ZF_TEMPLATE_MAX (16u << 20) /* bytes of template we are willing to read */
#define ZF_OUTPUT_MAX (1024u << 20) /* larger existing output: just rewrite */

struct zf_state {
	uint8_t origin[DNAME_MAX];     /* the zone */
	struct sockaddr_storage check; /* check-server, when check_set */
	bool check_set;
	char *path;
	char *tmpl;	   /* template file, or NULL */
	char *serial_path; /* "<path>.serial" */
	char **reload;	   /* NULL-terminated argv copy, or NULL */
	unsigned timeout;
	/*
	 * The file may hold data the name server has not loaded: set when a
	 * write starts, cleared by a successful reload.  Starts true because
	 * a crash may have come between a write and its reload.
	 */
	bool reload_pending;
};

/* ------------------------------------------------------------------------ */
/* growing text buffer                                                      */

struct zf_buf {
	char *p;
	size_t len, cap;
	bool oom;
};

static void zf_add(struct zf_buf *b, const char *s, size_t n)
{
	if (b->oom)
		return;
	char *p = vec_grow(b->p, &b->cap, b->len + n + 1, 1, 4096);
	if (p == NULL) {
		b->oom = true;
		return;
	}
	b->p = p;
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

static void zf_adds(struct zf_buf *b, const char *s)
{
	zf_add(b, s, strlen(s));
}

static void zf_buf_free(struct zf_buf *b)
{
	free(b->p);
	memset(b, 0, sizeof(*b));
}

/* ------------------------------------------------------------------------ */
/* files                                                                    */

/* Read a whole file into *out (NUL-terminated).  DS_ENOENT if absent. */
static int zf_read_file(const char *path, size_t max, char **out, size_t *outlen)
{
	struct zf_buf b = {0};
	char chunk[65536];
	int fd, rc = DS_OK;

	*out = NULL;
	*outlen = 0;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	for (;;) {
		ssize_t r = read(fd, chunk, sizeof(chunk));
		if (r < 0) {
			if (errno == EINTR)
				continue;
			rc = -errno;
			break;
		}
		if (r == 0)
			break;
		if (b.len + (size_t)r > max) {
			rc = DS_ELIMIT;
			break;
		}
		zf_add(&b, chunk, (size_t)r);
		if (b.oom) {
			rc = DS_ENOMEM;
			break;
		}
	}
	close(fd);
	if (rc != DS_OK) {
		zf_buf_free(&b);
		return rc;
	}
	if (b.p == NULL) {
		b.p = calloc(1, 1);
		if (b.p == NULL)
			return DS_ENOMEM;
	}
	*out = b.p;
	*outlen = b.len;
	return DS_OK;
}

/*
 * Replace path atomically with data: a temporary file in the same
 * directory, written and fsync'd, mode 0644, renamed over path, then the
 * directory fsync'd so the rename itself survives a crash.
 */
static int zf_write_atomic(const char *path, const char *data, size_t len, char *err, size_t errlen)
{
	size_t plen = strlen(path);
	char *tmp = malloc(plen + 8), *dir = NULL;
	const char *what = "create temporary file";
	int fd = -1, dfd, rc = DS_OK;
	size_t off = 0;

	if (tmp == NULL)
		return DS_ENOMEM;
	memcpy(tmp, path, plen);
	memcpy(tmp + plen, ".XXXXXX", 8);
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0) {
		rc = -errno;
		goto fail_notmp;
	}
	what = "chmod";
	if (fchmod(fd, 0644) != 0)
		goto fail;
	what = "write";
	while (off < len) {
		ssize_t w = write(fd, data + off, len - off);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			goto fail;
		}
		off += (size_t)w;
	}
	what = "fsync";
	if (fsync(fd) != 0)
		goto fail;
	what = "close";
	rc = close(fd);
	fd = -1;
	if (rc != 0)
		goto fail;
	what = "rename";
	if (rename(tmp, path) != 0)
		goto fail;
	free(tmp);

	dir = file_dirname(path);
	if (dir == NULL)
		return DS_ENOMEM;
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0 || fsync(dfd) != 0) {
		rc = -errno;
		snprintf(err, errlen, "fsync directory %s: %s", dir, strerror(-rc));
		if (dfd >= 0)
			close(dfd);
		free(dir);
		return rc;
	}
	close(dfd);
	free(dir);
	return DS_OK;

fail:
	rc = -errno;
	if (fd >= 0)
		close(fd);
	unlink(tmp);
fail_notmp:
	snprintf(err, errlen, "%s %s: %s", what, tmp, strerror(-rc));
	free(tmp);
	return rc;
}

/* ------------------------------------------------------------------------ */
/* rendering                                                                */

struct zf_walk {
	struct zf_buf *out;
	uint8_t last[DNAME_MAX];
	bool have_last;
	char *err;
	size_t errlen;
};

static int zf_rr(void *arg, const uint8_t *child, const struct drr *rr)
{
	struct zf_walk *w = arg;
	char line[4096];
	int rc;

	if (!w->have_last || !dname_equal(w->last, child)) {
		char name[DNAME_STR_MAX];
		/* Escaped like any name in the file (R15), even in a comment. */
		rc = dname_to_str(child, name, sizeof(name));
		if (rc != DS_OK) {
			snprintf(w->err, w->errlen, "child name does not fit the output");
			return rc;
		}
		zf_adds(w->out, "\n; child ");
		zf_adds(w->out, name);
		zf_adds(w->out, "\n");
		memcpy(w->last, child, dname_len(child));
		w->have_last = true;
	}
	rc = rr_to_str(rr->owner, rr->ttl, rr->type, rr->rdata, rr->rdlen, line, sizeof(line));
	if (rc != DS_OK) {
		char name[DNAME_STR_MAX];
		dname_to_str(child, name, sizeof(name));
		snprintf(w->err, w->errlen, "cannot write a record of child %s (type %u): %s", name,
			 rr->type, ds_strerror(rc));
		return rc;
	}
	zf_adds(w->out, line);
	zf_adds(w->out, "\n");
	return w->out->oom ? DS_ENOMEM : DS_OK;
}

/* The delegation lines of the whole zone, after a header comment. */
static int zf_render_fragment(const struct backend_batch *b, bool in_template, struct zf_buf *out,
			      char *err, size_t errlen)
{
	char zone[DNAME_STR_MAX];
	struct zf_walk w = {.out = out, .err = err, .errlen = errlen};
	int rc;

	rc = dname_to_str(b->zone, zone, sizeof(zone));
	if (rc != DS_OK) {
		snprintf(err, errlen, "zone name too long");
		return rc;
	}
	zf_adds(out, in_template ? "; delegations generated by dsyncd for zone "
				 : "; generated by dsyncd for zone ");
	zf_adds(out, zone);
	zf_adds(out, in_template ? " -- edit the template, not these lines\n"
				 : " -- do not edit; $INCLUDE this file from the zone\n");
	rc = b->foreach_rr(b->ctx, zf_rr, &w);
	if (rc == DS_OK && out->oom)
		rc = DS_ENOMEM;
	if (rc != DS_OK && err[0] == '\0')
		snprintf(err, errlen, "reading the delegation data: %s", ds_strerror(rc));
	if (in_template && rc == DS_OK)
		zf_adds(out, "; end of delegations generated by dsyncd\n");
	return rc;
}

/* Strip blanks around a line for placeholder matching. */
static void zf_trim(const char **s, size_t *n)
{
	while (*n > 0 && ((*s)[0] == ' ' || (*s)[0] == '\t')) {
		(*s)++;
		(*n)--;
	}
	while (*n > 0 && ((*s)[*n - 1] == ' ' || (*s)[*n - 1] == '\t' || (*s)[*n - 1] == '\r'))
		(*n)--;
}

/*
 * Fill the template: the one "{{DELEGATIONS}}" line becomes frag, every
 * "{{SERIAL}}" becomes serial.  With out == NULL only checks the template.
 * *has_serial tells whether the output depends on the serial.
 */
static int zf_template_fill(const char *tpath, const char *t, size_t tlen, const char *frag,
			    size_t fraglen, uint32_t serial, struct zf_buf *out, bool *has_serial,
			    char *err, size_t errlen)
{
	size_t pos = 0, lineno = 0, found = 0, serial_len;
	char sbuf[16];

	snprintf(sbuf, sizeof(sbuf), "%" PRIu32, serial);
	serial_len = strlen(ZF_PLACE_SERIAL);
	*has_serial = false;
	if (memchr(t, '\0', tlen) != NULL) {
		snprintf(err, errlen, "template %s: contains a NUL byte", tpath);
		return DS_ECONFIG;
	}
	while (pos < tlen) {
		const char *line = t + pos, *nl = memchr(line, '\n', tlen - pos);
		size_t n = nl != NULL ? (size_t)(nl - line) : tlen - pos;
		const char *s = line;
		size_t sn = n;

		lineno++;
		pos += n + (nl != NULL ? 1 : 0);
		zf_trim(&s, &sn);
		if (sn == strlen(ZF_PLACE_DELEG) && memcmp(s, ZF_PLACE_DELEG, sn) == 0) {
			found++;
			if (out != NULL)
				zf_add(out, frag, fraglen);
			continue;
		}
		if (memmem(line, n, ZF_PLACE_DELEG, strlen(ZF_PLACE_DELEG)) != NULL) {
			snprintf(err, errlen, "template %s:%zu: %s must be alone on its line",
				 tpath, lineno, ZF_PLACE_DELEG);
			return DS_ECONFIG;
		}
		for (size_t i = 0; i < n;) {
			if (n - i >= serial_len &&
			    memcmp(line + i, ZF_PLACE_SERIAL, serial_len) == 0) {
				*has_serial = true;
				if (out != NULL)
					zf_adds(out, sbuf);
				i += serial_len;
				continue;
			}
			if (out != NULL)
				zf_add(out, line + i, 1);
			i++;
		}
		if (out != NULL)
			zf_add(out, "\n", 1);
	}
	if (found != 1) {
		snprintf(err, errlen, "template %s: needs exactly one %s line, found %zu", tpath,
			 ZF_PLACE_DELEG, found);
		return DS_ECONFIG;
	}
	if (out != NULL && out->oom)
		return DS_ENOMEM;
	return DS_OK;
}

static int zf_template_read(const char *tpath, char **t, size_t *tlen, char *err, size_t errlen)
{
	int rc = zf_read_file(tpath, ZF_TEMPLATE_MAX, t, tlen);
	if (rc != DS_OK)
		snprintf(err, errlen, "template %s: %s", tpath,
			 rc == DS_ELIMIT ? "too large" : ds_strerror(rc));
	return rc == DS_ENOENT ? DS_ECONFIG : rc;
}

/* ------------------------------------------------------------------------ */
/* serial sidecar                                                           */

/* The last serial written, 0 when there is no sidecar yet. */
static int zf_serial_read(const char *spath, uint32_t *serial, char *err, size_t errlen)
{
	char *text, *end;
	size_t len;
	unsigned long long v;
	int rc;

	*serial = 0;
	rc = zf_read_file(spath, 64, &text, &len);
	if (rc == DS_ENOENT)
		return DS_OK;
	if (rc != DS_OK) {
		snprintf(err, errlen, "serial file %s: %s", spath, ds_strerror(rc));
		return rc;
	}
	errno = 0;
	v = strtoull(text, &end, 10);
	while (*end == '\n' || *end == '\r' || *end == ' ')
		end++;
	if (end == text || *end != '\0' || errno != 0 || v > UINT32_MAX || text[0] == '-') {
		snprintf(err, errlen, "serial file %s: not a serial number", spath);
		free(text);
		return DS_EPARSE;
	}
	free(text);
	*serial = (uint32_t)v;
	return DS_OK;
}

/* max(prev + 1, now) in RFC 1982 serial number arithmetic. */
static uint32_t zf_serial_next(uint32_t prev, uint32_t now)
{
	if ((int32_t)(now - prev) > 0)
		return now;
	return prev + 1;
}

/* ------------------------------------------------------------------------ */
/* ops                                                                      */

static void zf_free(void *state)
{
	struct zf_state *st = state;

	if (st == NULL)
		return;
	free(st->path);
	free(st->tmpl);
	free(st->serial_path);
	if (st->reload != NULL)
		for (size_t i = 0; st->reload[i] != NULL; i++)
			free(st->reload[i]);
	free(st->reload);
	free(st);
}

/* Is name base + "." + the six characters mkostemp() puts in place of XXXXXX? */
static bool zf_is_temp_of(const char *name, const char *base)
{
	size_t bl = strlen(base);
	if (strncmp(name, base, bl) != 0 || name[bl] != '.' || strlen(name + bl + 1) != 6)
		return false;
	for (const char *p = name + bl + 1; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		      (*p >= '0' && *p <= '9')))
			return false;
	return true;
}

/*
 * Temporary files of zf_write_atomic() left by a process that was killed
 * between creating and renaming them (path.XXXXXX, path.serial.XXXXXX):
 * nobody else writes them, so they are removed when the backend starts.
 */
static void zf_remove_stale(const char *dir, const char *path)
{
	const char *slash = strrchr(path, '/');
	const char *base = slash ? slash + 1 : path;
	char serial[4096];
	snprintf(serial, sizeof(serial), "%s.serial", base);
	DIR *d = opendir(dir);
	if (d == NULL)
		return;
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		/* the sidecar itself, path.serial, has the shape of a temporary file */
		if (strcmp(e->d_name, serial) == 0 ||
		    (!zf_is_temp_of(e->d_name, base) && !zf_is_temp_of(e->d_name, serial)))
			continue;
		char full[8192];
		snprintf(full, sizeof(full), "%s/%s", dir, e->d_name);
		if (unlinkat(dirfd(d), e->d_name, 0) == 0)
			log_notice("removed %s, a temporary file left by an interrupted write",
				   full);
		else
			log_warning("cannot remove the stale temporary file %s: %s", full,
				    strerror(errno));
	}
	closedir(d);
}

/* check-server (may be NULL) into st; false with err when it is no address[@port]. */
static bool zf_check_server(struct zf_state *st, const char *server, const char *where, char *err,
			    size_t errlen)
{
	socklen_t len;
	if (server == NULL)
		return true;
	if (dnsq_addr_from_str(server, 53, &st->check, &len) != DS_OK) {
		snprintf(err, errlen, "%s: check-server \"%s\" is not an address[@port]", where,
			 server);
		return false;
	}
	st->check_set = true;
	return true;
}

static int zf_init(const struct cfg_backend *bc, const struct cfg_zone *zc, void **state, char *err,
		   size_t errlen)
{
	const char *where = bc->where != NULL ? bc->where : "zonefile backend";
	const struct zonefile_settings *set = bc->settings;
	struct zf_state *st;
	struct stat sb;
	char *dir;
	int rc;

	*state = NULL;
	if (set == NULL || set->path == NULL || set->path[0] == '\0') {
		snprintf(err, errlen, "%s: zonefile backend needs a path", where);
		return DS_ECONFIG;
	}
	dir = file_dirname(set->path);
	if (dir == NULL)
		return DS_ENOMEM;
	if (stat(dir, &sb) != 0 || !S_ISDIR(sb.st_mode)) {
		snprintf(err, errlen, "%s: directory %s of path does not exist", where, dir);
		free(dir);
		return DS_ECONFIG;
	}
	zf_remove_stale(dir, set->path);
	free(dir);

	st = calloc(1, sizeof(*st));
	if (st == NULL)
		return DS_ENOMEM;
	if (zc != NULL) /* (tests build backends without a zone) */
		memcpy(st->origin, zc->name, dname_len(zc->name));
	st->reload_pending = true;
	st->timeout = set->reload_timeout;
	if (!zf_check_server(st, set->check_server, where, err, errlen)) {
		free(st);
		return DS_ECONFIG;
	}
	st->path = strdup(set->path);
	st->serial_path = malloc(strlen(set->path) + sizeof(".serial"));
	if (st->path == NULL || st->serial_path == NULL)
		goto oom;
	sprintf(st->serial_path, "%s.serial", set->path);

	if (set->template_path != NULL && set->template_path[0] != '\0') {
		char *t, sub[512];
		size_t tlen;
		bool has_serial;

		st->tmpl = strdup(set->template_path);
		if (st->tmpl == NULL)
			goto oom;
		rc = zf_template_read(st->tmpl, &t, &tlen, sub, sizeof(sub));
		if (rc == DS_OK) {
			rc = zf_template_fill(st->tmpl, t, tlen, "", 0, 0, NULL, &has_serial, sub,
					      sizeof(sub));
			free(t);
		}
		if (rc != DS_OK) {
			snprintf(err, errlen, "%s: %s", where, sub);
			zf_free(st);
			return rc == DS_ENOMEM ? rc : DS_ECONFIG;
		}
	}

	if (set->reload != NULL && set->reload[0] != NULL) {
		size_t n = 0;
		while (set->reload[n] != NULL)
			n++;
		st->reload = calloc(n + 1, sizeof(char *));
		if (st->reload == NULL)
			goto oom;
		for (size_t i = 0; i < n; i++)
			if ((st->reload[i] = strdup(set->reload[i])) == NULL)
				goto oom;
	}
	*state = st;
	return DS_OK;
oom:
	zf_free(st);
	return DS_ENOMEM;
}

/* What one delivery writes: the fragment, and with a template the whole zone. */
struct zf_out {
	struct zf_buf frag, full;
	char *tmpl; /* the template's text */
	size_t tlen;
	uint32_t serial;  /* the serial the zone was rendered with */
	bool has_serial;  /* the template has the serial marker */
	const char *data; /* the file's bytes: frag or full */
	size_t datalen;
};

static void zf_out_free(struct zf_out *o)
{
	zf_buf_free(&o->frag);
	zf_buf_free(&o->full);
	free(o->tmpl);
}

/* The template filled with the fragment and serial, as the file's bytes. */
static int zf_fill(const struct zf_state *st, struct zf_out *o, uint32_t serial, char *err,
		   size_t errlen)
{
	zf_buf_free(&o->full);
	o->serial = serial;
	int rc = zf_template_fill(st->tmpl, o->tmpl, o->tlen, o->frag.p, o->frag.len, serial,
				  &o->full, &o->has_serial, err, errlen);
	if (rc == DS_OK) {
		o->data = o->full.p;
		o->datalen = o->full.len;
	}
	return rc;
}

/* Render the batch: the fragment, or the template filled with the previous serial. */
static int zf_render(const struct zf_state *st, const struct backend_batch *b, struct zf_out *o,
		     char *err, size_t errlen)
{
	uint32_t serial = 0;
	int rc = zf_render_fragment(b, st->tmpl != NULL, &o->frag, err, errlen);
	if (rc != DS_OK)
		return rc;
	o->data = o->frag.p;
	o->datalen = o->frag.len;
	if (st->tmpl == NULL)
		return DS_OK;
	/* Read on every delivery: the operator may edit the template. */
	rc = zf_template_read(st->tmpl, &o->tmpl, &o->tlen, err, errlen);
	if (rc == DS_OK)
		rc = zf_serial_read(st->serial_path, &serial, err, errlen);
	/* With the previous serial, an unchanged zone renders to the same bytes. */
	if (rc == DS_OK)
		rc = zf_fill(st, o, serial, err, errlen);
	return rc;
}

/* Does the file hold other bytes than o's (or is it missing, or too large)? */
static int zf_changed(const struct zf_state *st, const struct zf_out *o, bool *changed, char *err,
		      size_t errlen)
{
	char *cur = NULL;
	size_t curlen = 0;
	int rc = zf_read_file(st->path, ZF_OUTPUT_MAX, &cur, &curlen);
	if (rc != DS_OK && rc != DS_ENOENT && rc != DS_ELIMIT) {
		snprintf(err, errlen, "read %s: %s", st->path, ds_strerror(rc));
		free(cur);
		return rc;
	}
	*changed = rc != DS_OK || curlen != o->datalen || memcmp(cur, o->data, o->datalen) != 0;
	free(cur);
	return DS_OK;
}

/* Write the changed file; with a serial in the template, the next serial first. */
static int zf_write(struct zf_state *st, struct zf_out *o, char *err, size_t errlen)
{
	int rc;

	st->reload_pending = true;
	if (o->has_serial) {
		char sbuf[16];
		uint32_t serial = zf_serial_next(o->serial, (uint32_t)time(NULL));
		/*
		 * Sidecar first: a crash between the two writes then only
		 * skips a serial, it never reuses one for different data.
		 */
		snprintf(sbuf, sizeof(sbuf), "%" PRIu32 "\n", serial);
		rc = zf_write_atomic(st->serial_path, sbuf, strlen(sbuf), err, errlen);
		if (rc == DS_OK)
			rc = zf_fill(st, o, serial, err, errlen);
		if (rc != DS_OK)
			return rc;
	}
	rc = zf_write_atomic(st->path, o->data, o->datalen, err, errlen);
	if (rc == DS_OK)
		log_info("zonefile backend: wrote %s (%zu bytes)", st->path, o->datalen);
	return rc;
}

/* Run the reload command when the file may hold data not loaded yet. */
static int zf_reload(struct zf_state *st, char *err, size_t errlen)
{
	char sub[512];

	if (st->reload != NULL && st->reload_pending &&
	    backend_run(st->reload, st->timeout, sub, sizeof(sub)) != DS_OK) {
		snprintf(err, errlen, "reload %s", sub);
		return DS_ECHILD;
	}
	st->reload_pending = false;
	return DS_OK;
}

static int zf_deliver(void *state, const struct backend_batch *b, char *err, size_t errlen)
{
	struct zf_state *st = state;
	struct zf_out o = {0};
	bool changed = false;
	int rc;

	if (errlen > 0)
		err[0] = '\0';
	if (b == NULL || b->zone == NULL || b->foreach_rr == NULL) {
		snprintf(err, errlen, "incomplete batch");
		return DS_EINVAL;
	}
	rc = zf_render(st, b, &o, err, errlen);
	if (rc == DS_OK)
		rc = zf_changed(st, &o, &changed, err, errlen);
	if (rc == DS_OK && changed)
		rc = zf_write(st, &o, err, errlen);
	if (rc == DS_OK)
		rc = zf_reload(st, err, errlen);
	zf_out_free(&o);
	return rc;
}

static const struct cfg_setting zf_settings[] = {
    {"path", CFG_PATH, NULL, 0, 0, offsetof(struct zonefile_settings, path),
     "the file written: a fragment, or the whole zone with template"},
    {"template", CFG_PATH, NULL, 0, 0, offsetof(struct zonefile_settings, template_path),
     "a zone file with the marker where the delegations go"},
    {"reload", CFG_STRV, NULL, 1, 64, offsetof(struct zonefile_settings, reload),
     "a command run (execve) after each write"},
    {"reload-timeout", CFG_UINT, "30", 1, 3600, offsetof(struct zonefile_settings, reload_timeout),
     "seconds the reload may take"},
    {"check-server", CFG_STR, NULL, 0, 0, offsetof(struct zonefile_settings, check_server),
     "the name server (address[@port]) dsyncd check transfers the zone from"},
    {.name = NULL},
};

/*
 * What the name server serves: a zone transfer from check-server; without
 * one, what the file written holds (the server loads it from there).
 */
static int zf_fetch(void *state, zf_rr_cb cb, void *arg, char *err, size_t errlen)
{
	const struct zf_state *st = state;
	char why[512] = "";
	int rc;
	if (st->check_set)
		rc = axfr_fetch(&st->check, st->origin, NULL, st->timeout * 1000, cb, arg, why,
				sizeof(why));
	else
		rc = zonefile_read(st->path, st->origin, 0, cb, arg, why, sizeof(why));
	if (rc != DS_OK && st->check_set)
		snprintf(err, errlen, "check-server: %s", why[0] ? why : ds_strerror(rc));
	else if (rc != DS_OK) /* zonefile_read's reason names the file */
		snprintf(err, errlen, "%s", why[0] ? why : ds_strerror(rc));
	return rc;
}

/*
 * What zf_init cannot see: the folder of path must take the temporary file,
 * the rename and the serial file; the reload program must be there to run.
 */
static unsigned zf_preflight(const struct cfg_backend *bc, FILE *err)
{
	const struct zonefile_settings *set = bc->settings;
	char why[PATH_MAX + 256];
	unsigned n = 0;
	if (set == NULL || set->path == NULL)
		return 0; /* cfg_load reported it */
	char *dir = file_dirname(set->path);
	if (dir != NULL && !file_dir_writable(dir, false, why, sizeof(why))) {
		cfg_preflight_say(err, bc->where, "backend '%s': path: %s", bc->name, why);
		n++;
	}
	free(dir);
	if (set->reload != NULL && set->reload[0] != NULL)
		n += backend_preflight_program(bc, "reload", set->reload[0], err);
	return n;
}

BACKEND_DEFINE_WITH(zonefile, zf_settings, sizeof(struct zonefile_settings), .init = zf_init,
		    .free = zf_free, .deliver = zf_deliver, .fetch = zf_fetch, .snapshot = true,
		    .preflight = zf_preflight);
