// SPDX-License-Identifier: MIT
/*
 * Image input by format; see hex/load.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "hex/load.h"
#include "hex/srec.h"

static const char *const fmt_name[] = {
	[IMG_FMT_AUTO] = "auto",
	[IMG_FMT_IHEX] = "ihex",
	[IMG_FMT_SREC] = "srec",
	[IMG_FMT_BIN] = "bin",
};

const char *img_format_name(enum img_format f)
{
	return (unsigned)f < sizeof(fmt_name) / sizeof(fmt_name[0]) ? fmt_name[f] : "?";
}

int img_format_parse(const char *s, enum img_format *f)
{
	for (unsigned i = 0; i < sizeof(fmt_name) / sizeof(fmt_name[0]); i++) {
		if (!strcmp(s, fmt_name[i])) {
			*f = (enum img_format)i;
			return 0;
		}
	}
	return -EINVAL;
}

enum img_format img_format_detect(const char *buf, size_t len)
{
	size_t i = 0;

	while (i < len && (buf[i] == ' ' || buf[i] == '\t' || buf[i] == '\r' || buf[i] == '\n'))
		i++;
	if (i < len && buf[i] == ':')
		return IMG_FMT_IHEX;
	if (i + 1 < len && buf[i] == 'S' && buf[i + 1] >= '0' && buf[i + 1] <= '9')
		return IMG_FMT_SREC;
	return IMG_FMT_AUTO;
}

static int msg(struct ihex_error *err, int r, const char *text)
{
	if (err) {
		err->line = 0;
		snprintf(err->msg, sizeof(err->msg), "%s", text);
	}
	return r;
}

static int parse_bin(struct ihex_image *img, const char *buf, size_t len, uint32_t base,
		     struct ihex_error *err)
{
	uint8_t *data;

	ihex_image_init(img);
	if (len == 0)
		return 0;
	if ((uint64_t)base + len > (uint64_t)1 << 32) {
		if (err) {
			err->line = 0;
			snprintf(err->msg, sizeof(err->msg),
				 "binary of %zu bytes at 0x%08x runs past the 4 GiB address space",
				 len, (unsigned)base);
		}
		return -EBADMSG;
	}
	data = malloc(len);
	img->seg = malloc(sizeof(*img->seg));
	img->bufs_ = malloc(sizeof(*img->bufs_));
	if (!data || !img->seg || !img->bufs_) {
		free(data);
		ihex_release(img);
		return msg(err, -ENOMEM, strerror(ENOMEM));
	}
	memcpy(data, buf, len);
	img->bufs_[0] = data;
	img->nbufs_ = 1;
	img->seg[0] = (struct ihex_segment){ .addr = base, .len = len, .data = data };
	img->nseg = 1;
	return 0;
}

int img_parse(struct ihex_image *img, const char *buf, size_t len, enum img_format fmt,
	      bool has_base, uint32_t base, enum img_format *used, struct ihex_error *err)
{
	ihex_image_init(img);
	if (fmt == IMG_FMT_AUTO)
		fmt = has_base ? IMG_FMT_BIN : img_format_detect(buf, len);
	if (used)
		*used = fmt;
	switch (fmt) {
	case IMG_FMT_IHEX:
		if (has_base)
			return msg(err, -EINVAL, "a load address applies only to binary images");
		return ihex_parse(img, buf, len, err);
	case IMG_FMT_SREC:
		if (has_base)
			return msg(err, -EINVAL, "a load address applies only to binary images");
		return srec_parse(img, buf, len, err);
	case IMG_FMT_BIN:
		if (!has_base)
			return msg(err, -EINVAL, "a binary image needs a load address (FILE@ADDR)");
		return parse_bin(img, buf, len, base, err);
	default:
		return msg(err, -EBADMSG,
			   "unknown image format (neither Intel HEX ':' nor S-record 'S0'-'S9'; "
			   "for a binary give FILE@ADDR)");
	}
}

int img_split_arg(const char *arg, char *path, size_t size, bool *has_base, uint32_t *base)
{
	const char *at = strrchr(arg, '@');
	size_t plen = strlen(arg);
	char *end;

	*has_base = false;
	if (at && at[1] && at[1] != '-' && at[1] != '+' && at[1] != ' ') {
		unsigned long long v;

		bool hex = at[1] == '0' && (at[2] == 'x' || at[2] == 'X');

		errno = 0;
		v = strtoull(at + 1, &end, hex ? 16 : 10);
		if (!errno && !*end && v <= UINT32_MAX) {
			*has_base = true;
			*base = (uint32_t)v;
			plen = (size_t)(at - arg);
		}
	}
	if (plen >= size)
		return -ENAMETOOLONG;
	memcpy(path, arg, plen);
	path[plen] = '\0';
	return 0;
}

int img_read_file(const char *path, char **bufp, size_t *lenp)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	size_t len = 0, cap = 1 << 16;
	char *buf;

	if (fd < 0)
		return -errno;
	buf = malloc(cap);
	for (;;) {
		ssize_t n;

		if (!buf) {
			close(fd);
			return -ENOMEM;
		}
		if (cap - len < 2) {
			char *b = realloc(buf, cap * 2);

			if (!b) {
				free(buf);
				close(fd);
				return -ENOMEM;
			}
			buf = b;
			cap *= 2;
		}
		n = read(fd, buf + len, cap - len - 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int e = errno;

			free(buf);
			close(fd);
			return -e;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	close(fd);
	buf[len] = '\0';
	*bufp = buf;
	*lenp = len;
	return 0;
}
