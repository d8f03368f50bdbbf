/*
 * tools/cli.h -- what the command-line tools (dsyncctl, dsync-agent) share:
 * messages on stderr with the program's name, and numbers and times as the
 * user writes and reads them.
 */
#ifndef DS_TOOLS_CLI_H
#define DS_TOOLS_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

/* The program's name in messages; each program defines it. */
extern const char cli_prog[];

/* Print "PROG: MESSAGE" on stderr and return code (the exit status). */
int cli_fail(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Print "PROG: warning: MESSAGE" on stderr. */
void cli_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* A decimal number (as strtol reads it) from min to max, nothing after it. */
bool cli_num(const char *s, long min, long max, long *out);

/* t as UTC "2026-11-23T10:00:00Z"; false when it cannot be written so. */
bool cli_utc(time_t t, char *out, size_t outlen);

#endif
