/*
 * backends/powerdns.h -- the settings of the "powerdns" backend (its rows
 * are pdns_settings_rows[] in powerdns.c; config fills this struct from
 * them), and the document it sends, for the unit tests.
 */
#ifndef DS_BACKENDS_POWERDNS_H
#define DS_BACKENDS_POWERDNS_H

#include <stddef.h>

#include "backends/backend.h"

struct powerdns_settings {
	char *url;	    /* "http://127.0.0.1:8081", no path */
	char *api_key_file; /* the X-API-Key, mode 0600 or 0400 */
	char *server_id;    /* "localhost" */
	char *ca_file;	    /* CA bundle for https, or NULL */
	unsigned timeout;   /* seconds per request, 10 */
};

/*
 * The body of the PATCH for batch b: {"rrsets": [...]}, per child a
 * REPLACE (or DELETE) of its NS and DS RRsets and of the A and AAAA RRsets
 * of every glue name it has or had, from the store's current data.  On
 * DS_OK *text is compact JSON (malloc'd) and *nrrsets the number of RRsets
 * (0: nothing to send); otherwise err says why.
 */
int powerdns_document(const struct backend_batch *b, char **text, size_t *nrrsets, char *err,
		      size_t errlen);

#endif
