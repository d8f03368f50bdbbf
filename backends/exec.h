/*
 * backends/exec.h -- the settings of the "exec" backend (its rows are
 * exec_settings_rows[] in exec.c; config fills this struct from them).
 */
#ifndef DS_BACKENDS_EXEC_H
#define DS_BACKENDS_EXEC_H

struct exec_settings {
	char **command;	     /* argv of the program (NULL-terminated) */
	unsigned timeout;    /* seconds, 30 */
	char **environment;  /* "NAME=value" entries added, or NULL */
	unsigned max_output; /* bytes of stdout and stderr kept, 4096 */
};

#endif
