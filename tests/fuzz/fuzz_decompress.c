// SPDX-License-Identifier: MIT
/*
 * libFuzzer target for the ECU side of compressed downloads (core/compress.c
 * decoder, as uds/server.c drives it). Input: a control byte, the announced
 * memorySize (2 bytes, little-endian, 0..65535), then the compressed
 * stream. The control byte picks the method (bit 0) and the TransferData
 * block size the stream is cut into (bits 5-7). Besides "no crash, no leak, no UB" it checks what the ECU
 * relies on: not a byte written outside the announced range, an error
 * sticks, complete means exactly memorySize bytes out. Then the input's
 * bytes are compressed with the tester's encoder and must decompress to
 * themselves.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "core/compress.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define GUARD 64

static void decode(enum fota_compress_method m, const uint8_t *z, size_t zn, size_t cap, size_t blk)
{
	struct fota_compress_dec *d = fota_compress_dec_new(m);
	uint8_t *buf = malloc(cap + 2 * GUARD);
	int err = 0;

	if (!d || !buf)
		abort();
	memset(buf, 0xA5, cap + 2 * GUARD);
	if (fota_compress_dec_start(d, buf + GUARD, cap))
		abort();
	for (size_t off = 0; off < zn; off += blk) {
		int e = fota_compress_dec_write(d, z + off, zn - off < blk ? zn - off : blk);

		if (err && e != err)
			abort(); /* the stream is dead: the same error every time */
		if (e && e != -EBADMSG && e != -EOVERFLOW)
			abort();
		err = e;
		if (fota_compress_dec_produced(d) > cap)
			abort();
	}
	for (size_t i = 0; i < GUARD; i++)
		if (buf[i] != 0xA5 || buf[GUARD + cap + i] != 0xA5)
			abort();
	if (fota_compress_dec_complete(d) && (err || fota_compress_dec_produced(d) != cap))
		abort();
	fota_compress_dec_free(d);
	free(buf);
}

static void round_trip(enum fota_compress_method m, const uint8_t *in, size_t n, size_t blk)
{
	struct fota_compress_enc *e = fota_compress_enc_new(m, 1);
	struct fota_compress_dec *d = fota_compress_dec_new(m);
	uint8_t *out = malloc(n + 1), z[512];
	long zn;

	if (!e || !d || !out || fota_compress_enc_start(e, in, n) ||
	    fota_compress_dec_start(d, out, n))
		abort();
	do {
		zn = fota_compress_enc_read(e, z, blk < sizeof(z) ? blk : sizeof(z));
		if (zn < 0 || fota_compress_dec_write(d, z, (size_t)zn))
			abort();
	} while (zn > 0);
	if (!fota_compress_enc_done(e) || !fota_compress_dec_complete(d) || memcmp(out, in, n))
		abort();
	fota_compress_enc_free(e);
	fota_compress_dec_free(d);
	free(out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const size_t blocks[8] = { 1, 2, 7, 64, 253, 4093, 4095, 65536 };
	enum fota_compress_method m;
	size_t cap, blk;

	if (size < 3)
		return 0;
	m = data[0] & 1 ? COMPRESS_DEFLATE : COMPRESS_LZ4;
	cap = (size_t)data[1] | (size_t)data[2] << 8;
	blk = blocks[data[0] >> 5];
	decode(m, data + 3, size - 3, cap, blk);
	round_trip(m, data + 3, size - 3, blk);
	return 0;
}
