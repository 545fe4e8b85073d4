// SPDX-License-Identifier: MIT
/*
 * core/compress.c: the streams of compressed downloads. Round trips in
 * blocks of every awkward size, and the hostile streams an ECU must stop:
 * truncated, corrupt, longer than announced (a zip bomb), bytes after the
 * end, an LZ4 frame asking for big block buffers.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <lz4frame.h>
#include <zlib.h>
#include "core/compress.h"
#include "tests/unit/t.h"

static const enum fota_compress_method methods[] = { COMPRESS_LZ4, COMPRESS_DEFLATE };

/* Firmware-like bytes: repeated instruction patterns, tables, some noise, erased gaps. */
static uint8_t *firmware(size_t n, unsigned seed)
{
	uint8_t *b = malloc(n);
	uint32_t x = seed * 2654435761u + 1;

	for (size_t i = 0; i < n; i++) {
		x = x * 1103515245u + 12345u;
		if ((i / 4096) % 5 == 4)
			b[i] = 0xFF;
		else if ((x >> 24) < 40)
			b[i] = (uint8_t)(x >> 16);
		else
			b[i] = (uint8_t)("\x00\xb5\x80\xb0\x01\x46\x02\x4b\x70\x47"[i % 10] +
					 (i >> 12));
	}
	return b;
}

/* The whole stream of in[0..n), read in blocks of blk bytes. *len its length; malloc'd. */
static uint8_t *compress_all(enum fota_compress_method m, int level, const uint8_t *in, size_t n,
			     size_t blk, size_t *len)
{
	struct fota_compress_enc *e = fota_compress_enc_new(m, level);
	size_t cap = n + n / 8 + 2 * blk + 1024, used = 0;
	uint8_t *out = malloc(cap);
	long r;

	T_TRUE(e != NULL);
	T_OK(fota_compress_enc_start(e, in, n));
	while (!fota_compress_enc_done(e)) {
		T_TRUE(used + blk <= cap);
		r = fota_compress_enc_read(e, out + used, blk);
		T_TRUE(r > 0);
		/* only the last block of a stream is short */
		if ((size_t)r < blk)
			T_TRUE(fota_compress_enc_done(e));
		used += (size_t)r;
	}
	T_EQ(fota_compress_enc_read(e, out, blk), 0);
	T_EQ(fota_compress_enc_consumed(e), n);
	fota_compress_enc_free(e);
	*len = used;
	return out;
}

/* Feed z[0..zn) in blocks of blk into a decoder for cap bytes; the first error or 0. */
static int decompress_blocks(enum fota_compress_method m, const uint8_t *z, size_t zn, size_t blk,
			     uint8_t *dst, size_t cap, bool *complete)
{
	struct fota_compress_dec *d = fota_compress_dec_new(m);
	int err = 0;

	T_TRUE(d != NULL);
	T_OK(fota_compress_dec_start(d, dst, cap));
	for (size_t off = 0; off < zn && !err; off += blk)
		err = fota_compress_dec_write(d, z + off, zn - off < blk ? zn - off : blk);
	*complete = fota_compress_dec_complete(d);
	fota_compress_dec_free(d);
	return err;
}

static void test_compress__round_trip(void)
{
	static const size_t sizes[] = { 1, 100, 65536, 65537, 300000 };
	static const size_t blocks[] = { 1, 7, 4093, 65536 };

	for (size_t mi = 0; mi < 2; mi++)
		for (size_t si = 0; si < 5; si++) {
			size_t n = sizes[si], zn;
			uint8_t *in = firmware(n, (unsigned)si), *out = malloc(n + 16);
			uint8_t *z = compress_all(methods[mi], -1, in, n, 4093, &zn);
			bool complete;

			for (size_t bi = 0; bi < 4; bi++) {
				if (blocks[bi] == 1 && n > 70000)
					continue; /* a byte at a time: slow and says nothing new */
				memset(out, 0xA5, n + 16);
				T_OK(decompress_blocks(methods[mi], z, zn, blocks[bi], out, n,
						       &complete));
				T_TRUE(complete);
				T_EQ_MEM(out, in, n);
				/* nothing written past the range */
				T_EQ_MEM(out + n, "\xa5\xa5\xa5\xa5\xa5\xa5\xa5\xa5", 8);
			}
			if (n >= 65536)
				T_TRUE(zn < n * 7 / 10); /* the data compresses */
			free(in);
			free(out);
			free(z);
		}
}

/* A stream read in blocks of other sizes than it was cut in decodes the same. */
static void test_compress__levels_and_blocks(void)
{
	size_t n = 200000, zn;
	uint8_t *in = firmware(n, 9), *out = malloc(n);

	for (size_t mi = 0; mi < 2; mi++) {
		int levels[] = { 0, 1, fota_compress_max_level(methods[mi]) };

		for (int li = 0; li < 3; li++) {
			uint8_t *z = compress_all(methods[mi], levels[li], in, n, 61, &zn);
			bool complete;

			T_OK(decompress_blocks(methods[mi], z, zn, 4095, out, n, &complete));
			T_TRUE(complete);
			T_EQ_MEM(out, in, n);
			free(z);
		}
	}
	T_TRUE(fota_compress_enc_new(COMPRESS_NONE, -1) == NULL);
	T_TRUE(fota_compress_enc_new(COMPRESS_DEFLATE, 10) == NULL);
	T_TRUE(fota_compress_dec_new(COMPRESS_NONE) == NULL);
	free(in);
	free(out);
}

/* An encoder and a decoder serve one stream after another (one per segment). */
static void test_compress__restart(void)
{
	uint8_t *a = firmware(5000, 1), *b = firmware(7000, 2), out[7000], z[16384];

	for (size_t mi = 0; mi < 2; mi++) {
		struct fota_compress_enc *e = fota_compress_enc_new(methods[mi], -1);
		struct fota_compress_dec *d = fota_compress_dec_new(methods[mi]);
		const uint8_t *src[2] = { a, b };
		size_t len[2] = { 5000, 7000 };

		for (int k = 0; k < 2; k++) {
			long zn;

			T_OK(fota_compress_enc_start(e, src[k], len[k]));
			zn = fota_compress_enc_read(e, z, sizeof(z));
			T_TRUE(zn > 0 && fota_compress_enc_done(e));
			T_OK(fota_compress_dec_start(d, out, len[k]));
			T_OK(fota_compress_dec_write(d, z, (size_t)zn));
			T_TRUE(fota_compress_dec_complete(d));
			T_EQ_MEM(out, src[k], len[k]);
		}
		fota_compress_enc_free(e);
		fota_compress_dec_free(d);
	}
	free(a);
	free(b);
}

/* Truncated anywhere: no error, never complete (the ECU refuses the exit). */
static void test_compress__truncated(void)
{
	size_t n = 70000, zn;
	uint8_t *in = firmware(n, 3), *out = malloc(n);

	for (size_t mi = 0; mi < 2; mi++) {
		uint8_t *z = compress_all(methods[mi], -1, in, n, 4093, &zn);
		size_t cuts[] = { 0, 1, 5, 6, 11, zn / 2, zn - 5, zn - 1 };

		for (size_t c = 0; c < 8; c++) {
			bool complete = true;

			T_OK(decompress_blocks(methods[mi], z, cuts[c], 4093, out, n, &complete));
			T_TRUE(!complete);
		}
		free(z);
	}
	free(in);
	free(out);
}

/* Every single-byte corruption of a small stream: an error or an incomplete stream, never a crash. */
static void test_compress__corrupt(void)
{
	size_t n = 3000, zn;
	uint8_t *in = firmware(n, 4), *out = malloc(n);

	for (size_t mi = 0; mi < 2; mi++) {
		uint8_t *z = compress_all(methods[mi], -1, in, n, 4093, &zn);

		for (size_t i = 0; i < zn; i++) {
			bool complete;
			int err;

			z[i] ^= 0x5A;
			err = decompress_blocks(methods[mi], z, zn, 97, out, n, &complete);
			T_TRUE(err == 0 || err == -EBADMSG || err == -EOVERFLOW);
			/* the checksums (xxHash-32 of lz4, Adler-32 of zlib) catch what decodes */
			T_TRUE(err || !complete || !memcmp(out, in, n));
			z[i] ^= 0x5A;
		}
		free(z);
	}
	/* not a stream at all */
	for (size_t mi = 0; mi < 2; mi++) {
		bool complete;

		T_EQ(decompress_blocks(methods[mi], (const uint8_t *)"hello, ECU!", 11, 11, out, n,
				       &complete),
		     -EBADMSG);
	}
	free(in);
	free(out);
}

/*
 * A stream that decompresses to more than announced: -EOVERFLOW, not one
 * byte written past the range, and the error sticks.
 */
static void test_compress__bomb(void)
{
	size_t n = 1 << 20, zn;
	uint8_t *zeros = calloc(1, n), *out = malloc(4096 + 64);

	for (size_t mi = 0; mi < 2; mi++) {
		uint8_t *z = compress_all(methods[mi], -1, zeros, n, 4093, &zn);
		struct fota_compress_dec *d = fota_compress_dec_new(methods[mi]);
		int err = 0;

		T_TRUE(zn < 8192); /* 1 MiB of zeros in a few blocks */
		memset(out, 0xA5, 4096 + 64);
		T_OK(fota_compress_dec_start(d, out, 4096));
		for (size_t off = 0; off < zn && !err; off += 1000)
			err = fota_compress_dec_write(d, z + off,
						      zn - off < 1000 ? zn - off : 1000);
		T_EQ(err, -EOVERFLOW);
		T_EQ(fota_compress_dec_produced(d), 4096);
		T_EQ_MEM(out + 4096, "\xa5\xa5\xa5\xa5\xa5\xa5\xa5\xa5", 8);
		T_EQ(fota_compress_dec_write(d, z, 1), -EOVERFLOW);
		T_TRUE(!fota_compress_dec_complete(d));
		fota_compress_dec_free(d);
		free(z);
	}
	/* exactly one byte too many, announced one short */
	for (size_t mi = 0; mi < 2; mi++) {
		uint8_t *z = compress_all(methods[mi], -1, zeros, 4097, 4093, &zn);
		bool complete;

		T_EQ(decompress_blocks(methods[mi], z, zn, zn, out, 4096, &complete), -EOVERFLOW);
		free(z);
	}
	free(zeros);
	free(out);
}

/* Bytes after the end of the stream: -EBADMSG (the block is not what was compressed). */
static void test_compress__trailing(void)
{
	uint8_t *in = firmware(5000, 5), out[5000], z[8192];

	for (size_t mi = 0; mi < 2; mi++) {
		struct fota_compress_enc *e = fota_compress_enc_new(methods[mi], -1);
		struct fota_compress_dec *d = fota_compress_dec_new(methods[mi]);
		long zn;

		T_OK(fota_compress_enc_start(e, in, 5000));
		zn = fota_compress_enc_read(e, z, sizeof(z) - 4);
		memcpy(z + zn, "\x04\x22\x4d\x18", 4); /* another frame's magic */
		T_OK(fota_compress_dec_start(d, out, 5000));
		T_EQ(fota_compress_dec_write(d, z, (size_t)zn + 4), -EBADMSG);
		T_OK(fota_compress_dec_start(d, out, 5000));
		T_OK(fota_compress_dec_write(d, z, (size_t)zn));
		T_EQ(fota_compress_dec_write(d, z + zn, 1), -EBADMSG);
		fota_compress_enc_free(e);
		fota_compress_dec_free(d);
	}
	free(in);
}

/* One LZ4 frame with these preferences (LZ4F_compressFrame() would shrink the block size). */
static size_t lz4_frame(const LZ4F_preferences_t *p, const uint8_t *in, size_t n, uint8_t *z,
			size_t cap)
{
	LZ4F_cctx *c;
	size_t a, b, e;

	T_TRUE(!LZ4F_isError(LZ4F_createCompressionContext(&c, LZ4F_VERSION)));
	a = LZ4F_compressBegin(c, z, cap, p);
	b = LZ4F_compressUpdate(c, z + a, cap - a, in, n, NULL);
	e = LZ4F_compressEnd(c, z + a + b, cap - a - b, NULL);
	T_TRUE(!LZ4F_isError(a) && !LZ4F_isError(b) && !LZ4F_isError(e));
	LZ4F_freeCompressionContext(c);
	return a + b + e;
}

/* LZ4 frames the ECU refuses by their header: big blocks (memory), a dictionary, skippable. */
static void test_compress__lz4_header(void)
{
	uint8_t *in = firmware(10000, 6), out[10000];
	size_t zcap = 16 << 20;
	uint8_t *z = malloc(zcap);
	LZ4F_preferences_t p;
	size_t zn;
	bool complete;

	memset(&p, 0, sizeof(p));
	p.frameInfo.blockSizeID = LZ4F_max4MB;
	zn = lz4_frame(&p, in, 10000, z, zcap);
	T_EQ(z[5] >> 4, 7);
	T_EQ(decompress_blocks(COMPRESS_LZ4, z, zn, 3, out, 10000, &complete), -EBADMSG);
	/* the same with 64 KiB blocks, no checksum, independent blocks: accepted */
	p.frameInfo.blockSizeID = LZ4F_max64KB;
	p.frameInfo.blockMode = LZ4F_blockIndependent;
	zn = lz4_frame(&p, in, 10000, z, zcap);
	T_OK(decompress_blocks(COMPRESS_LZ4, z, zn, 3, out, 10000, &complete));
	T_TRUE(complete);
	T_EQ_MEM(out, in, 10000);
	z[4] |= 0x01; /* dictionary id flag */
	T_EQ(decompress_blocks(COMPRESS_LZ4, z, zn, zn, out, 10000, &complete), -EBADMSG);
	memcpy(z, "\x50\x2a\x4d\x18", 4); /* a skippable frame */
	T_EQ(decompress_blocks(COMPRESS_LZ4, z, zn, zn, out, 10000, &complete), -EBADMSG);
	free(in);
	free(z);
}

static void test_compress__names(void)
{
	enum fota_compress_method m;

	T_OK(fota_compress_method_parse("lz4", &m));
	T_EQ(m, COMPRESS_LZ4);
	T_OK(fota_compress_method_parse("deflate", &m));
	T_EQ(m, COMPRESS_DEFLATE);
	T_OK(fota_compress_method_parse("none", &m));
	T_EQ(m, COMPRESS_NONE);
	T_ERR(fota_compress_method_parse("zstd", &m), -EINVAL);
	T_EQ_STR(fota_compress_method_str(COMPRESS_DEFLATE), "deflate");
	T_EQ(fota_compress_default_dfi(COMPRESS_LZ4), 0x10);
	T_EQ(fota_compress_default_dfi(COMPRESS_DEFLATE), 0x20);
	T_EQ(fota_compress_default_dfi(COMPRESS_NONE), 0x00);
}

static const struct t_case cases[] = {
	T_CASE(compress__round_trip), T_CASE(compress__levels_and_blocks),
	T_CASE(compress__restart),    T_CASE(compress__truncated),
	T_CASE(compress__corrupt),    T_CASE(compress__bomb),
	T_CASE(compress__trailing),   T_CASE(compress__lz4_header),
	T_CASE(compress__names),
};

int main(void)
{
	return t_main(cases, FOTA_ARRAY_SIZE(cases));
}
