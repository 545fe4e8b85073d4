// SPDX-License-Identifier: MIT
/*
 * Atomic file replacement (see core/file.h): the write, fsync, rename,
 * fsync-the-directory sequence in one place.
 */
#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "core/file.h"

int fota_write_full(int fd, const void *buf, size_t len)
{
	const char *p = buf;

	while (len) {
		ssize_t w = write(fd, p, len);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += w;
		len -= (size_t)w;
	}
	return 0;
}

int fota_fsync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC), err = 0;

	if (fd < 0)
		return -errno;
	if (fsync(fd) < 0)
		err = -errno;
	close(fd);
	return err;
}

int fota_replace_file(const char *path, int (*fill)(int fd, void *ctx), void *ctx)
{
	size_t n = strlen(path);
	char *tmp = malloc(n + 5), *dir = strdup(path);
	int fd, err;

	if (!tmp || !dir) {
		free(tmp);
		free(dir);
		return -ENOMEM;
	}
	memcpy(tmp, path, n);
	memcpy(tmp + n, ".tmp", 5);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
	if (fd < 0) {
		err = -errno;
		goto out;
	}
	err = fill(fd, ctx);
	if (!err && fsync(fd) < 0)
		err = -errno;
	if (close(fd) < 0 && !err)
		err = -errno;
	if (!err && rename(tmp, path) < 0)
		err = -errno;
	if (err)
		unlink(tmp);
	else
		err = fota_fsync_dir(dirname(dir));
out:
	free(tmp);
	free(dir);
	return err;
}

struct buf {
	const void *data;
	size_t len;
};

static int fill_buf(int fd, void *ctx)
{
	const struct buf *b = ctx;

	return fota_write_full(fd, b->data, b->len);
}

int fota_write_file_atomic(const char *path, const void *data, size_t len)
{
	struct buf b = { data, len };

	return fota_replace_file(path, fill_buf, &b);
}

int fota_mkdir_p(const char *path, unsigned mode)
{
	char *p = strdup(path), *q;
	struct stat st;
	int err = 0;

	if (!p)
		return -ENOMEM;
	for (q = p + 1; !err; q++) {
		bool last = *q == '\0';

		if (*q != '/' && !last)
			continue;
		*q = '\0';
		if (mkdir(p, (mode_t)mode) < 0 && errno != EEXIST)
			err = -errno;
		else if (stat(p, &st) < 0)
			err = -errno;
		else if (!S_ISDIR(st.st_mode))
			err = -ENOTDIR;
		if (last)
			break;
		*q = '/';
	}
	free(p);
	return err;
}

int fota_create_file_excl(const char *path, const void *data, size_t len, unsigned mode)
{
	size_t n = strlen(path);
	char *tmp = malloc(n + 8), *dir = strdup(path);
	int fd, err;

	if (!tmp || !dir) {
		free(tmp);
		free(dir);
		return -ENOMEM;
	}
	memcpy(tmp, path, n);
	memcpy(tmp + n, ".XXXXXX", 8);
	/* mkstemp makes it 0600: a private key is never readable by others, not even briefly */
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0) {
		err = -errno;
		goto out;
	}
	err = fota_write_full(fd, data, len);
	if (!err && fchmod(fd, mode) < 0)
		err = -errno;
	if (!err && fsync(fd) < 0)
		err = -errno;
	if (close(fd) < 0 && !err)
		err = -errno;
	/* link(2), unlike rename(2), fails on an existing name: nothing is ever replaced */
	if (!err && link(tmp, path) < 0)
		err = -errno;
	unlink(tmp);
	if (!err)
		err = fota_fsync_dir(dirname(dir));
out:
	free(tmp);
	free(dir);
	return err;
}
