/*
 * common/file.h -- the checks dsyncd applies to the files and folders it is
 * configured with, shared by start-up and by the configuration check
 * (cfg_preflight): a secret file only its owner may read, a folder dsyncd
 * must write in.  Nothing here changes anything on disk.
 */
#ifndef DS_COMMON_FILE_H
#define DS_COMMON_FILE_H

#include <stdbool.h>
#include <stddef.h>

/*
 * The whole file at path, NUL-terminated, at most max bytes (*len set).  It
 * must be a regular file (not a symbolic link); secret: refused when group
 * or others may access it (as ssh refuses a private key with loose
 * permissions).  what names the file in the reason ("API tokens file").
 * NULL with why set ("PATH: the WHAT ...") on any failure.
 */
char *file_read_checked(const char *path, const char *what, bool secret, size_t max, size_t *len,
			char *why, size_t whylen);

/*
 * Can this process write files in the folder dir?  When dir does not exist
 * and may_create is set, can it be made (its parent exists and is
 * writable: one level, as the store and the receiver key folder make it)?
 * false with why set.
 */
bool file_dir_writable(const char *dir, bool may_create, char *why, size_t whylen);

/* The folder part of path ("." when it has none); malloc'd, NULL when out of memory. */
char *file_dirname(const char *path);

#endif
