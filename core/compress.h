// SPDX-License-Identifier: MIT
/*
 * Compressed downloads: one compressed stream per RequestDownload, written
 * by the tester a TransferData block at a time and read back by the ECU a
 * block at a time, with bounded memory on both sides. The codecs are the
 * Debian libraries, not ours:
 *
 *   lz4      the LZ4 frame format (liblz4's lz4frame.h): 64 KiB linked
 *            blocks, content checksum (xxHash-32) at the end
 *   deflate  a zlib stream (RFC 1950: deflate, RFC 1951, plus Adler-32)
 *
 * The compressed stream decompresses to exactly the bytes of the memory
 * range that RequestDownload names: its memorySize is the uncompressed size
 * (fota.yaml(5), compression).
 */
#ifndef FOTA_CORE_COMPRESS_H
#define FOTA_CORE_COMPRESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum fota_compress_method {
	COMPRESS_NONE = 0,
	COMPRESS_LZ4 = 1,
	COMPRESS_DEFLATE = 2,
};

/* The dataFormatIdentifier used when the configuration names none (OEM-defined values). */
#define COMPRESS_DFI_LZ4     0x10
#define COMPRESS_DFI_DEFLATE 0x20

/* The largest LZ4 frame block the decoder accepts (its memory bound): 64 KiB. */
#define COMPRESS_LZ4_BLOCK_MAX (64 * 1024)

/* "none", "lz4", "deflate" -> 0 and *m; -EINVAL for another word. */
int fota_compress_method_parse(const char *s, enum fota_compress_method *m);
const char *fota_compress_method_str(enum fota_compress_method m);
/* The default dataFormatIdentifier of a method (0x00 for none). */
uint8_t fota_compress_default_dfi(enum fota_compress_method m);

/* Default and highest level per method (lz4: 0 fast, 3..12 HC; deflate 1..9). */
int fota_compress_default_level(enum fota_compress_method m);
int fota_compress_max_level(enum fota_compress_method m);

/* ---- the tester: streaming compression of one memory range ---- */

struct fota_compress_enc; /* private */

/* An encoder for method (not NONE) at level (-1: the method's default). NULL: errno. */
struct fota_compress_enc *fota_compress_enc_new(enum fota_compress_method m, int level);
void fota_compress_enc_free(struct fota_compress_enc *e);

/*
 * Begin a new stream over in[0..len) (not copied: keep it until the stream
 * is read to its end). Returns 0 or -ENOMEM.
 */
int fota_compress_enc_start(struct fota_compress_enc *e, const uint8_t *in, size_t len);

/*
 * The next compressed bytes of the stream into out[0..cap): fills out
 * completely unless the stream ends. Returns the byte count (0 once the
 * stream was read to its end) or -EIO (a library failure).
 */
long fota_compress_enc_read(struct fota_compress_enc *e, uint8_t *out, size_t cap);

/* True once every byte of the stream was read. */
bool fota_compress_enc_done(const struct fota_compress_enc *e);

/* Input bytes the encoder has taken so far (progress). */
size_t fota_compress_enc_consumed(const struct fota_compress_enc *e);

/* ---- the ECU: streaming decompression into a memory range ---- */

struct fota_compress_dec; /* private */

struct fota_compress_dec *fota_compress_dec_new(enum fota_compress_method m);
void fota_compress_dec_free(struct fota_compress_dec *d);

/* Begin a new stream that must decompress to exactly dst[0..cap). Returns 0 or -ENOMEM. */
int fota_compress_dec_start(struct fota_compress_dec *d, uint8_t *dst, size_t cap);

/*
 * The next compressed bytes in[0..n). Returns 0, or:
 *   -EOVERFLOW  the stream decompresses past cap (the announced memorySize)
 *   -EBADMSG    not a valid stream: bad header, corrupt data, checksum
 *               mismatch, an LZ4 block size above COMPRESS_LZ4_BLOCK_MAX,
 *               bytes after the end of the stream
 * After an error the stream is dead: every later write fails the same way.
 */
int fota_compress_dec_write(struct fota_compress_dec *d, const uint8_t *in, size_t n);

/* True when the stream ended (its end mark and checksum read) with exactly cap bytes out. */
bool fota_compress_dec_complete(const struct fota_compress_dec *d);

/* Bytes written into dst so far. */
size_t fota_compress_dec_produced(const struct fota_compress_dec *d);

#endif
