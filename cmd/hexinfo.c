// SPDX-License-Identifier: MIT
/*
 * fota hexinfo: show what an Intel HEX file holds before it goes near an ECU:
 * segments, gaps, start address, CRC-32 per segment and image, SHA-256; or
 * write it as a flat binary. Loader: hex/ihex.c (Intel HEX records 00-05).
 * Documented in man/fota-hexinfo.1, whose JSON keys are a stable interface.
 */
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <json-c/json.h>
#include "cmd/cmd.h"
#include "core/file.h"
#include "cmd/common.h"
#include "hex/ihex.h"
#include "hex/image.h"

static const char *const hexinfo_usage[] = {
	"fota hexinfo [--json] [--format=ihex|srec|bin] FILE[@ADDR]...",
	"fota hexinfo --bin=OUT [--fill=BYTE] [--range=START-END] [--json] FILE[@ADDR]",
	NULL,
};

#define KEY_BIN	   FOTA_OPT_LONG(1)
#define KEY_FILL   FOTA_OPT_LONG(2)
#define KEY_RANGE  FOTA_OPT_LONG(3)
#define KEY_FORMAT FOTA_OPT_LONG(4)

struct bin_opts {
	enum img_format format;
	const char *path; /* NULL: no --bin */
	uint32_t fill;	  /* 0..0xff */
	bool has_range;
	uint32_t first, last;
};

static int opt_range(void *args, const char *value, char *msg, size_t size)
{
	struct bin_opts *b = args;
	const char *dash = strchr(value, '-');
	char a[32];
	uint64_t x, y;

	if (!dash || (size_t)(dash - value) >= sizeof(a))
		goto bad;
	memcpy(a, value, (size_t)(dash - value));
	a[dash - value] = '\0';
	if (fota_parse_u64(a, 0, UINT32_MAX, &x) || fota_parse_u64(dash + 1, 0, UINT32_MAX, &y) ||
	    x > y)
		goto bad;
	b->first = (uint32_t)x;
	b->last = (uint32_t)y;
	b->has_range = true;
	return 0;
bad:
	return fota_opt_error(
		msg, size, "invalid --range '%s' (expected START-END, START <= END <= 0xffffffff)",
		value);
}

static int opt_format(void *args, const char *value, char *msg, size_t size)
{
	struct bin_opts *b = args;

	if (img_format_parse(value, &b->format))
		return fota_opt_error(msg, size,
				      "invalid --format '%s' (expected ihex, srec, bin or auto)",
				      value);
	return 0;
}

static const struct fota_opt hexinfo_opts[] = {
	FOTA_OPT_FN(KEY_FORMAT, "format", "auto|ihex|srec|bin",
		    "read the files as this format (default: detected by content; a binary "
		    "needs FILE@ADDR)",
		    0, opt_format),
	FOTA_OPT_JSON,
	FOTA_OPT_STRING(KEY_BIN, "bin", "OUT",
			"also write the image as a flat binary to OUT (atomically)", FOTA_OPT_FILE,
			offsetof(struct bin_opts, path)),
	FOTA_OPT_U32(KEY_FILL, "fill", "BYTE", "value for the gaps in --bin output (default 0xff)",
		     offsetof(struct bin_opts, fill), 0, 0xff, NULL),
	FOTA_OPT_FN(KEY_RANGE, "range", "START-END",
		    "--bin covers addresses START to END inclusive (default: the image's span)",
		    FOTA_OPT_NUMBER, opt_range),
	FOTA_OPT_END,
};

static void report_warnings(const char *file, const struct ihex_image *img)
{
	for (size_t i = 0; i < img->nwarn; i++) {
		const struct ihex_warning *w = &img->warn[i];

		fota_warn("%s:%u: overlaps line %u with identical data at 0x%08" PRIx32
			  "-0x%08" PRIx32 " (%zu bytes)",
			  file, w->line, w->other_line, w->addr, (uint32_t)(w->addr + w->len - 1),
			  w->len);
	}
	if (img->nwarn_total > img->nwarn)
		fota_warn("%s: %zu more overlapping records not shown", file,
			  img->nwarn_total - img->nwarn);
}

/*
 * SHA-256 runs on a second thread while this one computes the CRCs: on a 64
 * MiB image that is a fifth of the command's time (bench/README.md).
 */
struct sha_job {
	const struct ihex_image *img;
	uint8_t sha[IHEX_SHA256_LEN];
	int err;
};

static void *sha_thread(void *arg)
{
	struct sha_job *job = arg;

	job->err = ihex_image_sha256(job->img, job->sha);
	return NULL;
}

static void sha_hex(char out[2 * IHEX_SHA256_LEN + 1], const uint8_t sha[IHEX_SHA256_LEN])
{
	for (int i = 0; i < IHEX_SHA256_LEN; i++)
		snprintf(out + 2 * i, 3, "%02x", sha[i]);
}

static uint32_t seg_last(const struct ihex_segment *s)
{
	return (uint32_t)(s->addr + (uint64_t)s->len - 1);
}

/* The S0 header as text when printable, else as hex digits. */
static void header_text(const struct ihex_image *img, char *out, size_t size, bool *printable)
{
	size_t o = 0;

	*printable = true;
	for (size_t i = 0; i < img->header_len; i++)
		if (img->header[i] < 0x20 || img->header[i] >= 0x7f)
			*printable = img->header[i] == 0 && i + 1 == img->header_len && *printable;
	for (size_t i = 0; i < img->header_len && o + 3 < size; i++) {
		if (*printable) {
			if (img->header[i])
				out[o++] = (char)img->header[i];
		} else {
			o += (size_t)snprintf(out + o, size - o, "%02x", img->header[i]);
		}
	}
	out[o] = '\0';
}

struct shas {
	const char *file;  /* of the file's bytes: what an update request's sha256 is */
	const char *image; /* of the image's data bytes, in address order */
	enum img_format format;
};

static void print_text(const char *file, const struct ihex_image *img, const uint32_t *crc,
		       uint32_t image_crc, const struct shas *sha)
{
	size_t ngaps = 0;
	uint64_t gap_bytes = 0;

	printf("%s:\n", file);
	printf("  format   %s\n", img_format_name(sha->format));
	if (img->has_header) {
		char h[2 * sizeof(img->header) + 1];
		bool p;

		header_text(img, h, sizeof(h), &p);
		printf(p ? "  header   \"%s\"\n" : "  header   %s (hex)\n", h);
	}
	printf("  %-8s %-11s %-11s %11s  %s\n", "segment", "start", "end", "length", "crc32");
	for (size_t i = 0; i < img->nseg; i++) {
		const struct ihex_segment *s = &img->seg[i];

		if (i > 0) {
			uint32_t from = seg_last(&img->seg[i - 1]) + 1;
			uint64_t len = s->addr - (uint64_t)from;

			printf("  %-8s 0x%08" PRIx32 "  0x%08" PRIx32 "  %11" PRIu64 "\n", "gap",
			       from, s->addr - 1, len);
			ngaps++;
			gap_bytes += len;
		}
		printf("  %-8zu 0x%08" PRIx32 "  0x%08" PRIx32 "  %11zu  0x%08" PRIx32 "\n", i + 1,
		       s->addr, seg_last(s), s->len, crc[i]);
	}
	printf("  total    %zu segment%s, %" PRIu64 " bytes; %zu gap%s, %" PRIu64 " bytes\n",
	       img->nseg, img->nseg == 1 ? "" : "s", ihex_image_size(img), ngaps,
	       ngaps == 1 ? "" : "s", gap_bytes);
	if (!img->has_start)
		printf("  start    none\n");
	else if (img->start_is_segment)
		printf("  start    %04" PRIx32 ":%04" PRIx32 " (segment CS:IP)\n", img->start >> 16,
		       img->start & 0xffff);
	else
		printf("  start    0x%08" PRIx32 " (linear)\n", img->start);
	printf("  crc32    0x%08" PRIx32 "\n", image_crc);
	printf("  sha256   file  %s  (an update request's sha256)\n", sha->file);
	printf("  sha256   image %s  (the data bytes)\n", sha->image);
}

static json_object *jrange(uint32_t start, uint32_t end, uint64_t len)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "start", json_object_new_int64(start));
	json_object_object_add(o, "end", json_object_new_int64(end));
	json_object_object_add(o, "length", json_object_new_int64((int64_t)len));
	return o;
}

static void print_json(const char *file, const struct ihex_image *img, const uint32_t *crc,
		       uint32_t image_crc, const struct shas *sha)
{
	json_object *o = json_object_new_object();
	json_object *segs = json_object_new_array();
	json_object *gaps = json_object_new_array();
	json_object *start = NULL;

	for (size_t i = 0; i < img->nseg; i++) {
		const struct ihex_segment *s = &img->seg[i];
		json_object *j = jrange(s->addr, seg_last(s), s->len);

		json_object_object_add(j, "crc32", json_object_new_int64(crc[i]));
		json_object_array_add(segs, j);
		if (i > 0) {
			uint32_t from = seg_last(&img->seg[i - 1]) + 1;

			json_object_array_add(gaps,
					      jrange(from, s->addr - 1, s->addr - (uint64_t)from));
		}
	}
	if (img->has_start) {
		start = json_object_new_object();
		json_object_object_add(
			start, "type",
			json_object_new_string(img->start_is_segment ? "segment" : "linear"));
		if (img->start_is_segment) {
			json_object_object_add(start, "cs", json_object_new_int(img->start >> 16));
			json_object_object_add(start, "ip",
					       json_object_new_int(img->start & 0xffff));
			json_object_object_add(start, "address",
					       json_object_new_int64((img->start >> 16) * 16 +
								     (img->start & 0xffff)));
		} else {
			json_object_object_add(start, "address", json_object_new_int64(img->start));
		}
	}
	json_object_object_add(o, "file", json_object_new_string(file));
	json_object_object_add(o, "segments", segs);
	json_object_object_add(o, "gaps", gaps);
	json_object_object_add(o, "total_bytes",
			       json_object_new_int64((int64_t)ihex_image_size(img)));
	json_object_object_add(o, "start_address", start);
	json_object_object_add(o, "crc32", json_object_new_int64(image_crc));
	json_object_object_add(o, "format", json_object_new_string(img_format_name(sha->format)));
	if (img->has_header) {
		char h[2 * sizeof(img->header) + 1], hx[2 * sizeof(img->header) + 1];

		header_text(img, h, sizeof(h), &(bool){ false });
		for (size_t i = 0; i < img->header_len; i++)
			snprintf(hx + 2 * i, 3, "%02x", img->header[i]);
		hx[2 * img->header_len] = '\0';
		json_object_object_add(o, "header", json_object_new_string(hx));
	} else {
		json_object_object_add(o, "header", NULL);
	}
	json_object_object_add(o, "sha256", json_object_new_string(sha->image));
	json_object_object_add(o, "image_sha256", json_object_new_string(sha->image));
	json_object_object_add(o, "file_sha256", json_object_new_string(sha->file));
	json_object_object_add(o, "warnings", json_object_new_int64((int64_t)img->nwarn_total));
	puts(json_object_to_json_string_ext(o, JSON_C_TO_STRING_SPACED |
						       JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(o);
}

struct bin_job {
	const struct ihex_image *img;
	uint32_t first, last;
	uint8_t fill;
	bool write; /* false: an empty image and no range make an empty file */
};

static int fill_bin(int fd, void *ctx)
{
	const struct bin_job *j = ctx;

	return j->write ? ihex_image_write_bin(j->img, fd, j->first, j->last, j->fill) : 0;
}

/* Write OUT atomically (core/file.h: tmp, fsync, rename, fsync of the directory). */
static int write_bin(const struct ihex_image *img, const struct bin_opts *b)
{
	struct bin_job j = { img, b->first, b->last, (uint8_t)b->fill, img->nseg || b->has_range };
	uint64_t outside = 0;
	int r;

	if (!b->has_range && img->nseg) {
		j.first = img->seg[0].addr;
		j.last = seg_last(&img->seg[img->nseg - 1]);
	}
	for (size_t i = 0; i < img->nseg; i++) {
		const struct ihex_segment *s = &img->seg[i];
		uint64_t a = s->addr, e = a + s->len;
		uint64_t lo = a > j.first ? a : j.first,
			 hi = e < (uint64_t)j.last + 1 ? e : (uint64_t)j.last + 1;

		outside += s->len - (hi > lo ? hi - lo : 0);
	}
	r = fota_replace_file(b->path, fill_bin, &j);
	if (r) {
		fota_error_errno(r, "%s", b->path);
		return fota_exit_status(FOTA_FAIL_OUTPUT, r);
	}
	if (outside)
		fota_warn("%s: %" PRIu64 " image bytes lie outside 0x%08" PRIx32 "-0x%08" PRIx32
			  " and were left out",
			  b->path, outside, j.first, j.last);
	return FOTA_EXIT_OK;
}

/* Report on one file; *printed tells whether a text report came before. */
static int hexinfo_file(const char *file, bool json, const struct bin_opts *bin, bool *printed)
{
	struct ihex_image img;
	struct sha_job job;
	pthread_t tid;
	bool threaded;
	char sha_txt[2 * IHEX_SHA256_LEN + 1], file_txt[2 * IHEX_SHA256_LEN + 1];
	uint8_t file_sha[IHEX_SHA256_LEN];
	struct shas shas;
	uint32_t *crc, image_crc = 0;
	int r;

	r = cmd_load_image(file, bin->format, &img, file_sha, &shas.format);
	if (r)
		return r;
	report_warnings(file, &img);
	/* One pass per segment for its CRC; the image CRC is combined from them. */
	job.img = &img;
	threaded = ihex_image_size(&img) >= (1u << 20) &&
		   !pthread_create(&tid, NULL, sha_thread, &job);
	crc = calloc(img.nseg ? img.nseg : 1, sizeof(*crc));
	for (size_t i = 0; crc && i < img.nseg; i++) {
		crc[i] = ihex_segment_crc32(&img.seg[i]);
		image_crc = i ? ihex_crc32_combine(image_crc, crc[i], img.seg[i].len) : crc[i];
	}
	if (threaded)
		pthread_join(tid, NULL);
	else
		sha_thread(&job);
	r = crc ? job.err : -ENOMEM;
	if (r) {
		fota_error_errno(r, "%s", file);
		free(crc);
		ihex_release(&img);
		return fota_exit_status(FOTA_FAIL_RUN, r);
	}
	sha_hex(sha_txt, job.sha);
	sha_hex(file_txt, file_sha);
	shas.file = file_txt;
	shas.image = sha_txt;
	r = FOTA_EXIT_OK;
	if (bin->path)
		r = write_bin(&img, bin);
	if (json && r) {
		/* the failure object alone (hexinfo_one()): one line per file */
	} else if (json) {
		print_json(file, &img, crc, image_crc, &shas);
	} else {
		if (*printed)
			putchar('\n');
		print_text(file, &img, crc, image_crc, &shas);
	}
	*printed = true;
	free(crc);
	ihex_release(&img);
	return r;
}

/*
 * hexinfo_file(), and with --json a line for every file: its object, or
 * the failure object.
 */
static int hexinfo_one(const char *file, bool json, const struct bin_opts *bin, bool *printed)
{
	int r = hexinfo_file(file, json, bin, printed);

	if (r && json)
		cmd_json_error(r);
	return r;
}

static int run_hexinfo(int argc, char **argv)
{
	struct cmd_ctx ctx;
	struct bin_opts bin = { .fill = 0xff };
	bool printed = false;
	int n, rc = FOTA_EXIT_OK;

	cmd_ctx_init(&ctx, &cmd_hexinfo);
	n = cmd_parse_options(&ctx, &bin, argc, argv);
	if (!n)
		return cmd_json_failure(&ctx, fota_usage_error(&cmd_hexinfo, "no HEX file given"));
	if (bin.path && n > 1)
		return cmd_json_failure(
			&ctx, fota_usage_error(&cmd_hexinfo,
					       "unexpected argument '%s' (--bin takes one FILE)",
					       argv[1]));
	if (!bin.path && (cmd_opt_given(&ctx, KEY_FILL) || bin.has_range))
		return cmd_json_failure(
			&ctx, fota_usage_error(&cmd_hexinfo, "--fill and --range need --bin"));

	for (int i = 0; i < n; i++)
		rc = fota_exit_worst(rc, hexinfo_one(argv[i], ctx.json, &bin, &printed));
	/* every file has had its line of JSON (hexinfo_one()) */
	return fota_exit_worst(rc, cmd_ctx_release(&ctx));
}

const struct fota_cmd cmd_hexinfo = {
	.name = "hexinfo",
	.summary = "show the segments, checksums and start address of firmware images",
	.usage = hexinfo_usage,
	.opts = hexinfo_opts,
	.run = run_hexinfo,
	.operand_flags = FOTA_OPT_FILE,
	.max_operands = FOTA_OPERANDS_ANY,
};
