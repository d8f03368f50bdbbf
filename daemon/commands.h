/*
 * daemon/commands.h -- the operator subcommands of dsyncd, each run once
 * against the configuration and the store (safe while the daemon runs: the
 * store serialises writers; a running daemon picks key changes up on
 * SIGHUP).
 */
#ifndef DS_DAEMON_COMMANDS_H
#define DS_DAEMON_COMMANDS_H

#include <stdbool.h>
#include <stdio.h>

#include "config/config.h"

/*
 * `dsyncd import [--dry-run] [--prune] ZONE FILE`: the delegations (NS, DS
 * and glue below the apex) of zone from its zone file into the store: the
 * file is read and checked whole first, then each child's data is replaced
 * by the file's in one transaction, changes queued in the outbox and
 * audited; stored children the file lacks are kept, or deleted with
 * --prune.  --dry-run prints the difference only.  A summary goes to out;
 * progress to stderr when it is a terminal.  Returns the exit status
 * (sysexits.h: EX_USAGE, EX_DATAERR for a bad or wrong file, EX_NOINPUT,
 * EX_IOERR for the store).
 */
int daemon_import_command(const struct cfg *cfg, int argc, char **argv, FILE *out);

/*
 * `dsyncd store-copy [--from STORE] --to STORE`: every row of the store
 * (the configured one without --from) into another, empty one, then both
 * compared table by table (store_copy).  STORE: a SQLite file,
 * postgresql:CONNINFO or postgresql-file:FILE.  Returns the exit status: 0,
 * 1 when the target is not empty or the copy differs, EX_USAGE, EX_CONFIG
 * (an unreadable connection file), EX_IOERR (a store).
 */
int daemon_store_copy_command(const struct cfg *cfg, int argc, char **argv, FILE *out);

/*
 * `dsyncd delegation add CHILD [--ns NAME]... [--ds TEXT]... [--glue NAME
 * ADDRESS]... [--reason TEXT]` and `dsyncd delegation delete CHILD
 * [--reason TEXT]` (keys/deleg_ops.h).  Returns the exit status: 0, 1 when
 * refused (the child exists, is unknown, or the configuration lists it),
 * EX_USAGE, EX_DATAERR (bad name or record), EX_IOERR (store).
 */
int daemon_delegation_command(const struct cfg *cfg, int argc, char **argv, FILE *out);

/*
 * `dsyncd key list` and `dsyncd key trust|revoke CHILD TAG`: the manual
 * bootstrap method.
 */
int daemon_key_command(const struct cfg *cfg, int argc, char **argv, FILE *out);

#endif
