// SPDX-License-Identifier: MIT
/*
 * CAN frame text forms, as can-utils writes and reads them (lib.c of
 * can-utils: cansend's argument syntax and candump -l log lines), and the
 * CAN FD length/DLC table of ISO 11898-1:2015 (DLC 9..15 = 12..64 bytes).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include "core/frame.h"
#include "core/hexstr.h"

static const uint8_t fd_lens[] = { 0, 1, 2, 3, 4, 5, 6, 7, 8, 12, 16, 20, 24, 32, 48, 64 };

uint8_t bus_frame_fd_len(size_t len)
{
	size_t i;

	for (i = 0; i < sizeof(fd_lens); i++)
		if (fd_lens[i] >= len)
			return fd_lens[i];
	return 64;
}

uint8_t bus_frame_len_to_dlc(uint8_t len)
{
	uint8_t i;

	for (i = 0; i < sizeof(fd_lens); i++)
		if (fd_lens[i] >= len)
			return i;
	return 15;
}

uint8_t bus_frame_dlc_to_len(uint8_t dlc)
{
	return fd_lens[dlc & 0x0f];
}

int bus_frame_len_ok(const struct bus_frame *f)
{
	if (!(f->flags & BUS_FRAME_FD))
		return f->len <= 8;
	return f->len <= 64 && bus_frame_fd_len(f->len) == f->len;
}

int bus_frame_valid(const struct bus_frame *f)
{
	const uint8_t known =
		BUS_FRAME_EFF | BUS_FRAME_FD | BUS_FRAME_BRS | BUS_FRAME_RTR | BUS_FRAME_ESI;

	if (f->flags & ~known)
		return 0;
	if (f->id > ((f->flags & BUS_FRAME_EFF) ? BUS_EFF_MASK : BUS_SFF_MASK))
		return 0;
	/* RTR exists only in classic frames; BRS/ESI only in FD frames. */
	if ((f->flags & BUS_FRAME_FD) && (f->flags & BUS_FRAME_RTR))
		return 0;
	if (!(f->flags & BUS_FRAME_FD) && (f->flags & (BUS_FRAME_BRS | BUS_FRAME_ESI)))
		return 0;
	return bus_frame_len_ok(f);
}

/*
 * cansend syntax (can-utils lib.c parse_canframe):
 *   <id>#<data>          classic; id 3 hex digits (11-bit) or 8 (29-bit)
 *   <id>#R[<len>]        classic remote frame, optional length digit 0..8
 *   <id>##<flags><data>  CAN FD; flags one hex digit (1 = BRS, 2 = ESI)
 * data: up to 8 (64) bytes as hex pairs, each optionally preceded by '.'.
 * We also stop at end of string or a trailing newline/whitespace.
 */
int bus_frame_parse(struct bus_frame *f, const char *text)
{
	struct bus_frame out;
	const char *p = text;
	size_t idlen = 0, max;
	uint32_t id = 0;
	int v, hi, lo;

	memset(&out, 0, sizeof(out));
	if (!text)
		return -EINVAL;
	while ((v = fota_hexval((unsigned char)*p)) >= 0) {
		if (++idlen > 8)
			return -EINVAL;
		id = id << 4 | (uint32_t)v;
		p++;
	}
	if (*p != '#')
		return -EINVAL;
	if (idlen == 3) {
		if (id > BUS_SFF_MASK)
			return -EINVAL;
	} else if (idlen == 8) {
		if (id > BUS_EFF_MASK)
			return -EINVAL;
		out.flags |= BUS_FRAME_EFF;
	} else {
		return -EINVAL;
	}
	out.id = id;
	p++;

	max = 8;
	if (*p == '#') {
		p++;
		v = fota_hexval((unsigned char)*p);
		if (v < 0 || (v & ~0x7)) /* 4 = FDF: implied, accepted */
			return -EINVAL;
		out.flags |= BUS_FRAME_FD;
		if (v & 0x1)
			out.flags |= BUS_FRAME_BRS;
		if (v & 0x2)
			out.flags |= BUS_FRAME_ESI;
		p++;
		max = 64;
	} else if (*p == 'R' || *p == 'r') {
		out.flags |= BUS_FRAME_RTR;
		p++;
		v = fota_hexval((unsigned char)*p);
		if (v >= 0) {
			if (v > 8)
				return -EINVAL;
			out.len = (uint8_t)v;
			p++;
		}
		goto tail;
	}

	for (;;) {
		if (*p == '.')
			p++;
		hi = fota_hexval((unsigned char)p[0]);
		if (hi < 0)
			break;
		lo = fota_hexval((unsigned char)p[1]);
		if (lo < 0 || out.len >= max)
			return -EINVAL;
		out.data[out.len++] = (uint8_t)(hi << 4 | lo);
		p += 2;
	}
tail:
	while (*p == '\n' || *p == '\r' || *p == ' ' || *p == '\t')
		p++;
	if (*p)
		return -EINVAL;
	if (!bus_frame_len_ok(&out))
		return -EINVAL;
	*f = out;
	return 0;
}

int bus_frame_format(char *buf, size_t size, const struct bus_frame *f)
{
	static const char hex[] = "0123456789ABCDEF";
	char tmp[BUS_FRAME_TEXT_MAX];
	size_t n = 0, i, len = f->len;

	if (f->flags & BUS_FRAME_EFF)
		n += (size_t)snprintf(tmp, sizeof(tmp), "%08X#", (unsigned)(f->id & BUS_EFF_MASK));
	else
		n += (size_t)snprintf(tmp, sizeof(tmp), "%03X#", (unsigned)(f->id & BUS_SFF_MASK));
	if (f->flags & BUS_FRAME_FD) {
		tmp[n++] = '#';
		tmp[n++] = hex[((f->flags & BUS_FRAME_BRS) ? 1 : 0) |
			       ((f->flags & BUS_FRAME_ESI) ? 2 : 0)];
		if (len > 64)
			len = 64;
	} else if (f->flags & BUS_FRAME_RTR) {
		/* can-utils prints the length digit only when it is not zero */
		tmp[n++] = 'R';
		if (len && len <= 8)
			tmp[n++] = hex[len];
		len = 0;
	} else if (len > 8) {
		len = 8;
	}
	for (i = 0; i < len; i++) {
		tmp[n++] = hex[f->data[i] >> 4];
		tmp[n++] = hex[f->data[i] & 0xf];
	}
	tmp[n] = '\0';
	return snprintf(buf, size, "%s", tmp);
}

int bus_frame_format_log(char *buf, size_t size, int64_t sec, long usec, const char *ifname,
			 const struct bus_frame *f)
{
	char fr[BUS_FRAME_TEXT_MAX];

	bus_frame_format(fr, sizeof(fr), f);
	/* candump.c: "(%010lld.%06ld) %*s %s" with the ifname unpadded in -l mode */
	return snprintf(buf, size, "(%010lld.%06ld) %s %s\n", (long long)sec, usec, ifname, fr);
}

int bus_frame_parse_log(const char *line, struct bus_frame *f, int64_t *sec, long *usec,
			char *ifname, size_t ifsize)
{
	long long s;
	long us;
	int n = 0;
	const char *p;
	size_t iflen;

	if (sscanf(line, "(%lld.%6ld) %n", &s, &us, &n) != 2 || n == 0 || s < 0 || us < 0)
		return -EINVAL;
	p = line + n;
	iflen = strcspn(p, " \t");
	if (iflen == 0 || p[iflen] == '\0')
		return -EINVAL;
	if (ifname) {
		if (iflen >= ifsize)
			return -EINVAL;
		memcpy(ifname, p, iflen);
		ifname[iflen] = '\0';
	}
	p += iflen;
	while (*p == ' ' || *p == '\t')
		p++;
	if (bus_frame_parse(f, p) < 0)
		return -EINVAL;
	if (sec)
		*sec = s;
	if (usec)
		*usec = us;
	return 0;
}
