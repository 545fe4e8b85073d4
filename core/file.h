// SPDX-License-Identifier: MIT
/*
 * Files that must survive a crash: every persistent file fota writes (the
 * TCU's state, reports, the simulated ECU's flash, hexinfo --bin) is replaced
 * atomically: written to PATH.tmp, fsync, rename over PATH, fsync of the
 * directory. A kill at any instant leaves either the old or the new file.
 */
#ifndef FOTA_CORE_FILE_H
#define FOTA_CORE_FILE_H

#include <stddef.h>

/* write(2) all of buf, through EINTR and short writes. 0 or -errno. */
int fota_write_full(int fd, const void *buf, size_t len);

/* fsync a directory, so a rename in it is durable. 0 or -errno. */
int fota_fsync_dir(const char *dir);

/*
 * Replace path atomically with what fill() writes to the fd it is given
 * (mode 0666 less the umask). fill returns 0 or -errno. On any error path is
 * untouched, PATH.tmp is removed, and the -errno is returned.
 */
int fota_replace_file(const char *path, int (*fill)(int fd, void *ctx), void *ctx);

/*
 * mkdir -p: create path and any missing parents with mode (less the umask).
 * 0 if it exists as a directory afterwards, else -errno (-ENOTDIR if a
 * component is a file).
 */
int fota_mkdir_p(const char *path, unsigned mode);

/* fota_replace_file() with len bytes of data. */
int fota_write_file_atomic(const char *path, const void *data, size_t len);

/*
 * Create PATH with len bytes of data and the given mode, never replacing a
 * file: written to a private temporary name (mode 0600 until complete),
 * fsync'ed, then link(2)ed to PATH, the directory fsync'ed. 0, -EEXIST if
 * PATH exists (nothing changed), or -errno.
 */
int fota_create_file_excl(const char *path, const void *data, size_t len, unsigned mode);

#endif
