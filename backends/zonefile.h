/*
 * backends/zonefile.h -- the settings of the "zonefile" backend (its rows
 * are zf_settings[] in zonefile.c; config fills this struct from them).
 */
#ifndef DS_BACKENDS_ZONEFILE_H
#define DS_BACKENDS_ZONEFILE_H

struct zonefile_settings {
	char *path;		 /* the output file */
	char *template_path;	 /* a whole-zone template (NULL: write a fragment) */
	char **reload;		 /* argv of the reload command (NULL-terminated) or NULL */
	unsigned reload_timeout; /* seconds, 30 */
	char *check_server;	 /* "address[@port]" the drift check transfers the zone from */
};

#endif
