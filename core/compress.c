// SPDX-License-Identifier: MIT
/*
 * Streaming compression for downloads (see core/compress.h) over liblz4's
 * frame API and zlib. The tester pulls compressed bytes a TransferData block
 * at a time; the ECU pushes each block's bytes into the decoder, which
 * writes straight into the announced memory range and refuses to write one
 * byte past it (a zip bomb ends there, with nothing outside the range
 * touched).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <lz4frame.h>
#include <zlib.h>
#include "core/compress.h"

/* Input handed to the codec per call: bounds the encoder's staging buffer. */
#define ENC_CHUNK (64 * 1024)
/* Where the decoder puts output that would pass the end: any byte there is an overflow. */
#define SCRATCH 16

static const char *const method_names[] = {
	[COMPRESS_NONE] = "none",
	[COMPRESS_LZ4] = "lz4",
	[COMPRESS_DEFLATE] = "deflate",
};

int fota_compress_method_parse(const char *s, enum fota_compress_method *m)
{
	for (size_t i = 0; i < sizeof(method_names) / sizeof(method_names[0]); i++)
		if (!strcmp(s, method_names[i])) {
			*m = (enum fota_compress_method)i;
			return 0;
		}
	return -EINVAL;
}

const char *fota_compress_method_str(enum fota_compress_method m)
{
	return (size_t)m < sizeof(method_names) / sizeof(method_names[0]) ? method_names[m] : "?";
}

uint8_t fota_compress_default_dfi(enum fota_compress_method m)
{
	return m == COMPRESS_LZ4     ? COMPRESS_DFI_LZ4 :
	       m == COMPRESS_DEFLATE ? COMPRESS_DFI_DEFLATE :
				       0;
}

int fota_compress_default_level(enum fota_compress_method m)
{
	/* Measured on the firmware corpus (bench/README.md): within 50 ms of CPU per MiB. */
	return m == COMPRESS_LZ4 ? 9 : m == COMPRESS_DEFLATE ? 6 : 0;
}

int fota_compress_max_level(enum fota_compress_method m)
{
	return m == COMPRESS_LZ4 ? LZ4F_compressionLevel_max() : m == COMPRESS_DEFLATE ? 9 : 0;
}

/* ---- encoder ---- */

struct fota_compress_enc {
	enum fota_compress_method m;
	int level;
	const uint8_t *in;
	size_t len, pos;
	bool begun, ended;
	/* lz4: compressed bytes not yet read */
	LZ4F_cctx *cctx;
	LZ4F_preferences_t prefs;
	uint8_t *stage;
	size_t stage_cap, stage_len, stage_off;
	/* deflate */
	z_stream z;
	bool z_init;
};

struct fota_compress_enc *fota_compress_enc_new(enum fota_compress_method m, int level)
{
	struct fota_compress_enc *e;

	if ((m != COMPRESS_LZ4 && m != COMPRESS_DEFLATE) || level > fota_compress_max_level(m)) {
		errno = EINVAL;
		return NULL;
	}
	e = calloc(1, sizeof(*e));
	if (!e)
		return NULL;
	e->m = m;
	e->level = level < 0 ? fota_compress_default_level(m) : level;
	if (m == COMPRESS_LZ4) {
		e->prefs.frameInfo.blockSizeID = LZ4F_max64KB;
		e->prefs.frameInfo.blockMode = LZ4F_blockLinked;
		e->prefs.frameInfo.contentChecksumFlag = LZ4F_contentChecksumEnabled;
		e->prefs.compressionLevel = e->level;
		e->stage_cap = LZ4F_compressBound(ENC_CHUNK, &e->prefs) + LZ4F_HEADER_SIZE_MAX;
		e->stage = malloc(e->stage_cap);
		if (!e->stage ||
		    LZ4F_isError(LZ4F_createCompressionContext(&e->cctx, LZ4F_VERSION)))
			goto fail;
	}
	return e;
fail:
	fota_compress_enc_free(e);
	errno = ENOMEM;
	return NULL;
}

void fota_compress_enc_free(struct fota_compress_enc *e)
{
	if (!e)
		return;
	if (e->cctx)
		LZ4F_freeCompressionContext(e->cctx);
	if (e->z_init)
		deflateEnd(&e->z);
	free(e->stage);
	free(e);
}

int fota_compress_enc_start(struct fota_compress_enc *e, const uint8_t *in, size_t len)
{
	e->in = in;
	e->len = len;
	e->pos = 0;
	e->begun = e->ended = false;
	e->stage_len = e->stage_off = 0;
	if (e->m == COMPRESS_LZ4) {
		e->prefs.frameInfo.contentSize = len; /* the decoder checks it at the end */
		return 0;
	}
	if (e->z_init) {
		if (deflateReset(&e->z) != Z_OK)
			return -ENOMEM;
	} else {
		memset(&e->z, 0, sizeof(e->z));
		if (deflateInit(&e->z, e->level) != Z_OK)
			return -ENOMEM;
		e->z_init = true;
	}
	return 0;
}

/* lz4: refill the staging buffer with the next piece of the frame. */
static int lz4_stage(struct fota_compress_enc *e)
{
	size_t r;

	e->stage_off = 0;
	if (!e->begun) {
		r = LZ4F_compressBegin(e->cctx, e->stage, e->stage_cap, &e->prefs);
		e->begun = true;
	} else if (e->pos < e->len) {
		size_t n = e->len - e->pos < ENC_CHUNK ? e->len - e->pos : ENC_CHUNK;

		r = LZ4F_compressUpdate(e->cctx, e->stage, e->stage_cap, e->in + e->pos, n, NULL);
		e->pos += n;
	} else {
		r = LZ4F_compressEnd(e->cctx, e->stage, e->stage_cap, NULL);
		e->ended = true;
	}
	if (LZ4F_isError(r))
		return -EIO;
	e->stage_len = r;
	return 0;
}

static long lz4_read(struct fota_compress_enc *e, uint8_t *out, size_t cap)
{
	size_t done = 0;

	while (done < cap) {
		size_t n = e->stage_len - e->stage_off;

		if (!n) {
			if (e->ended)
				break;
			if (lz4_stage(e))
				return -EIO;
			continue;
		}
		if (n > cap - done)
			n = cap - done;
		memcpy(out + done, e->stage + e->stage_off, n);
		e->stage_off += n;
		done += n;
	}
	return (long)done;
}

static long deflate_read(struct fota_compress_enc *e, uint8_t *out, size_t cap)
{
	e->z.next_out = out;
	e->z.avail_out = (uInt)cap;
	while (e->z.avail_out && !e->ended) {
		int flush, r;

		if (!e->z.avail_in && e->pos < e->len) {
			size_t n = e->len - e->pos < ENC_CHUNK ? e->len - e->pos : ENC_CHUNK;

			e->z.next_in = (Bytef *)(uintptr_t)(e->in + e->pos);
			e->z.avail_in = (uInt)n;
			e->pos += n;
		}
		flush = e->pos == e->len ? Z_FINISH : Z_NO_FLUSH;
		r = deflate(&e->z, flush);
		if (r == Z_STREAM_END)
			e->ended = true;
		else if (r != Z_OK && r != Z_BUF_ERROR)
			return -EIO;
	}
	return (long)(cap - e->z.avail_out);
}

long fota_compress_enc_read(struct fota_compress_enc *e, uint8_t *out, size_t cap)
{
	if (cap > 1u << 30)
		cap = 1u << 30;
	return e->m == COMPRESS_LZ4 ? lz4_read(e, out, cap) : deflate_read(e, out, cap);
}

bool fota_compress_enc_done(const struct fota_compress_enc *e)
{
	return e->ended && e->stage_off == e->stage_len;
}

size_t fota_compress_enc_consumed(const struct fota_compress_enc *e)
{
	return e->m == COMPRESS_DEFLATE ? e->pos - e->z.avail_in : e->pos;
}

/* ---- decoder ---- */

/* LZ4 frame header: magic (LE), FLG, BD (lz4 Frame format description §"Frame Descriptor"). */
#define LZ4_MAGIC 0x184D2204u
#define LZ4_HDR	  6

struct fota_compress_dec {
	enum fota_compress_method m;
	uint8_t *dst;
	size_t cap, produced;
	bool ended;
	int err;
	/* lz4 */
	LZ4F_dctx *dctx;
	uint8_t hdr[LZ4_HDR];
	size_t hdr_have;
	/* deflate */
	z_stream z;
	bool z_init;
};

struct fota_compress_dec *fota_compress_dec_new(enum fota_compress_method m)
{
	struct fota_compress_dec *d;

	if (m != COMPRESS_LZ4 && m != COMPRESS_DEFLATE) {
		errno = EINVAL;
		return NULL;
	}
	d = calloc(1, sizeof(*d));
	if (!d)
		return NULL;
	d->m = m;
	if (m == COMPRESS_LZ4 &&
	    LZ4F_isError(LZ4F_createDecompressionContext(&d->dctx, LZ4F_VERSION))) {
		free(d);
		errno = ENOMEM;
		return NULL;
	}
	return d;
}

void fota_compress_dec_free(struct fota_compress_dec *d)
{
	if (!d)
		return;
	if (d->dctx)
		LZ4F_freeDecompressionContext(d->dctx);
	if (d->z_init)
		inflateEnd(&d->z);
	free(d);
}

int fota_compress_dec_start(struct fota_compress_dec *d, uint8_t *dst, size_t cap)
{
	d->dst = dst;
	d->cap = cap;
	d->produced = 0;
	d->ended = false;
	d->err = 0;
	d->hdr_have = 0;
	if (d->m == COMPRESS_LZ4) {
		LZ4F_resetDecompressionContext(d->dctx);
		return 0;
	}
	if (d->z_init) {
		if (inflateReset(&d->z) != Z_OK)
			return -ENOMEM;
	} else {
		memset(&d->z, 0, sizeof(d->z));
		if (inflateInit(&d->z) != Z_OK) /* zlib format only: header and Adler-32 */
			return -ENOMEM;
		d->z_init = true;
	}
	return 0;
}

/*
 * The header decides the decoder's memory (its block buffers): only a plain
 * LZ4 frame, version 01, no dictionary, blocks of at most 64 KiB.
 */
static int lz4_check_header(const uint8_t *h)
{
	uint32_t magic =
		(uint32_t)h[0] | (uint32_t)h[1] << 8 | (uint32_t)h[2] << 16 | (uint32_t)h[3] << 24;
	unsigned flg = h[4], bd = h[5];

	if (magic != LZ4_MAGIC || (flg >> 6) != 1 || (flg & 0x01))
		return -EBADMSG;
	if (((bd >> 4) & 7) != 4) /* 4 = 64 KiB, the smallest the format has */
		return -EBADMSG;
	return 0;
}

/* Output room for the next call: the rest of dst, or the scratch that marks an overflow. */
static uint8_t *dec_room(struct fota_compress_dec *d, uint8_t *scratch, size_t *room)
{
	if (d->produced < d->cap) {
		*room = d->cap - d->produced;
		return d->dst + d->produced;
	}
	*room = SCRATCH;
	return scratch;
}

static int lz4_feed(struct fota_compress_dec *d, const uint8_t *in, size_t n, bool probe)
{
	uint8_t scratch[SCRATCH];

	while (n || probe) {
		size_t room, isz = n;
		uint8_t *o = dec_room(d, scratch, &room);
		size_t r;

		if (d->ended)
			return -EBADMSG; /* bytes after the end of the frame */
		r = LZ4F_decompress(d->dctx, o, &room, n ? in : scratch, &isz, NULL);
		if (LZ4F_isError(r))
			return -EBADMSG;
		if (o == scratch && room)
			return -EOVERFLOW;
		if (o != scratch)
			d->produced += room;
		if (isz) { /* in is NULL in a probe */
			in += isz;
			n -= isz;
		}
		if (r == 0)
			d->ended = true;
		if (probe)
			break;
		if (!isz && !room)
			return -EBADMSG; /* input left that the library does not take */
	}
	return 0;
}

static int lz4_write(struct fota_compress_dec *d, const uint8_t *in, size_t n)
{
	int err;

	while (d->hdr_have < LZ4_HDR && n) {
		d->hdr[d->hdr_have++] = *in++;
		n--;
		if (d->hdr_have == LZ4_HDR) {
			err = lz4_check_header(d->hdr);
			if (!err)
				err = lz4_feed(d, d->hdr, LZ4_HDR, false);
			if (err)
				return err;
		}
	}
	if (n) {
		err = lz4_feed(d, in, n, false);
		if (err)
			return err;
	}
	/* Full, and not at the end: whatever the decoder still holds is one byte too many. */
	if (d->hdr_have == LZ4_HDR && d->produced == d->cap && !d->ended)
		return lz4_feed(d, NULL, 0, true);
	return 0;
}

static int deflate_write(struct fota_compress_dec *d, const uint8_t *in, size_t n)
{
	uint8_t scratch[SCRATCH];

	d->z.next_in = (Bytef *)(uintptr_t)in;
	d->z.avail_in = (uInt)n;
	for (;;) {
		size_t room;
		uint8_t *o = dec_room(d, scratch, &room);
		uInt before_in = d->z.avail_in;
		int r;

		if (d->ended)
			return d->z.avail_in ? -EBADMSG : 0;
		d->z.next_out = o;
		d->z.avail_out = (uInt)room;
		r = inflate(&d->z, Z_NO_FLUSH);
		room -= d->z.avail_out;
		if (o == scratch && room)
			return -EOVERFLOW;
		if (o != scratch)
			d->produced += room;
		if (r == Z_STREAM_END) {
			d->ended = true;
			continue;
		}
		if (r == Z_MEM_ERROR)
			return -ENOMEM;
		if (r != Z_OK && r != Z_BUF_ERROR)
			return -EBADMSG; /* Z_DATA_ERROR, Z_NEED_DICT, Z_STREAM_ERROR */
		/* No progress: it needs more input (or, full, had nothing more to give). */
		if (!room && d->z.avail_in == before_in)
			return 0;
		if (!d->z.avail_in && o != scratch && d->z.avail_out)
			return 0;
	}
}

int fota_compress_dec_write(struct fota_compress_dec *d, const uint8_t *in, size_t n)
{
	if (d->err)
		return d->err;
	if (n > 1u << 30) {
		d->err = -EBADMSG;
		return d->err;
	}
	d->err = d->m == COMPRESS_LZ4 ? lz4_write(d, in, n) : deflate_write(d, in, n);
	return d->err;
}

bool fota_compress_dec_complete(const struct fota_compress_dec *d)
{
	return !d->err && d->ended && d->produced == d->cap;
}

size_t fota_compress_dec_produced(const struct fota_compress_dec *d)
{
	return d->produced;
}
