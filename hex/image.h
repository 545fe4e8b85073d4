// SPDX-License-Identifier: MIT
/*
 * What the other modules need from a loaded image (hex/ihex.h): sizes,
 * CRC-32 (zlib, the ISO-HDLC/IEEE 802.3 CRC also used by srec_cat -crc32 and
 * Python's zlib.crc32), SHA-256 (OpenSSL EVP), flat binary export, a check that
 * every byte lies inside given memory regions, and iteration in blocks for
 * UDS TransferData (ISO 14229-1 §14.5). Never prints.
 */
#ifndef FOTA_HEX_IMAGE_H
#define FOTA_HEX_IMAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "hex/ihex.h"

#define IHEX_SHA256_LEN 32

/* Number of data bytes in the image (sum of the segment lengths, gaps excluded). */
uint64_t ihex_image_size(const struct ihex_image *img);

/* zlib CRC-32 of len bytes, continuing from crc (start with 0). */
uint32_t ihex_crc32(uint32_t crc, const uint8_t *data, size_t len);
/* The CRC-32 of A followed by B, from crc_a, crc_b and B's length (zlib
 * crc32_combine): the image CRC from the segment CRCs without a second pass. */
uint32_t ihex_crc32_combine(uint32_t crc_a, uint32_t crc_b, uint64_t len_b);
/* CRC-32 of one segment's bytes. */
uint32_t ihex_segment_crc32(const struct ihex_segment *s);
/* CRC-32 of the image: all segment bytes in address order, gaps skipped (not
 * filled). Equals the CRC of the concatenated segments; 0 for an empty image. */
uint32_t ihex_image_crc32(const struct ihex_image *img);

/* SHA-256 over the same bytes as ihex_image_crc32(). 0, or -ENOMEM / -EIO if
 * libcrypto fails. */
int ihex_image_sha256(const struct ihex_image *img, uint8_t out[IHEX_SHA256_LEN]);

/*
 * Write the flat binary of addresses first..last (inclusive) to fd: image
 * bytes where the image has data, fill elsewhere; image bytes outside the
 * range are left out. last >= first. Streams (no buffer of the range size).
 * Returns 0, or -errno from write(2) (the file is then incomplete; the caller
 * removes it).
 */
int ihex_image_write_bin(const struct ihex_image *img, int fd, uint32_t first, uint32_t last,
			 uint8_t fill);

/* A memory region of the target: addresses addr .. addr + len - 1. */
struct ihex_region {
	uint32_t addr;
	uint64_t len; /* up to 2^32 */
};

/* The first run of image bytes found outside every region. */
struct ihex_outside {
	size_t seg;    /* index of the segment holding it */
	uint32_t addr; /* first byte outside */
	size_t len;    /* bytes from addr up to the next region or the segment end */
};

/*
 * Check that every byte of the image lies inside the union of the n regions
 * (any order; adjacent or overlapping regions join, so a segment may span
 * several). Returns 0 when it does, -ERANGE when not, with the lowest such
 * run in *out (may be NULL).
 */
int ihex_image_check_regions(const struct ihex_image *img, const struct ihex_region *regions,
			     size_t n, struct ihex_outside *out);

/*
 * Walk the image in blocks of at most block_len bytes (e.g. the ECU's
 * maxNumberOfBlockLength minus the TransferData header). Blocks never cross a
 * segment boundary; each segment starts a new block. The image must outlive
 * the iterator and not change while it is used.
 *
 *	struct ihex_iter it;
 *	struct ihex_block b;
 *	ihex_iter_init(&it, img, 4093);
 *	while (ihex_iter_next(&it, &b))
 *		send(b.addr, b.data, b.len);
 */
struct ihex_iter {
	const struct ihex_image *img;
	size_t block_len;
	size_t seg; /* position: segment index and offset inside it */
	size_t off;
};

struct ihex_block {
	uint32_t addr;
	const uint8_t *data; /* points into the image */
	size_t len;	     /* 1..block_len */
	size_t seg;	     /* segment index */
	bool seg_first;	     /* first block of its segment */
};

/* block_len must be > 0. */
void ihex_iter_init(struct ihex_iter *it, const struct ihex_image *img, size_t block_len);
/* Fill *b with the next block and return true, or return false at the end. */
bool ihex_iter_next(struct ihex_iter *it, struct ihex_block *b);

#endif
