// SPDX-License-Identifier: MIT
/*
 * Compressed downloads on the wire (issue 12, part 2): each HEX file of the
 * command line (the corpus of bench/corpus.sh) is flashed by the
 * programming job (uds/job.c) into the simulated ECU (uds/server.c, which
 * decompresses and verifies) over the in-memory bus in virtual time, once
 * per method: none, lz4, deflate (their default levels; maxNumberOfBlockLength
 * 4095, classic CAN, 11-bit ids, BS 0, STmin 0, an ECU that answers at once).
 * Per image and method:
 *
 *  - size: the image's data bytes; compressed: the sum of its segments'
 *    streams (what TransferData carries);
 *  - frames: every frame of the session on the bus (both directions, session
 *    setup to reset), the functional TesterPresent left out;
 *  - projected time at 500 kbit/s: the frames' bits without stuffing,
 *    47 + 8n bits per classic data frame of n bytes (bench/flash_wire.c), / bitrate;
 *  - the raw limit: the uncompressed image in full 8-byte frames of 7 payload
 *    bytes, ceil(size / 7) x 111 bits / bitrate; ratio = projected / limit;
 *  - CPU of compression: the encoder alone over the image, repeated for at
 *    least 0.2 s, CLOCK_PROCESS_CPUTIME_ID, in ms per MiB of image.
 *
 * The sums over the corpus give the goal's figures: projected / limit at
 * most 0.6, compression CPU under 50 ms per MiB. Exit 1 if the ECU's memory
 * differs from an image, or if no method meets both goals.
 *
 *   sh bench/compress.sh        # builds the corpus and this tool, runs it
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "tests/sim/bus_mem.h"
#include "core/compress.h"
#include "core/config.h"
#include "hex/image.h"
#include "hex/load.h"
#include "tests/sim/sim.h"
#include "uds/ecu.h"
#include "uds/isotp.h"
#include "uds/job.h"
#include "uds/key.h"
#include "uds/server.h"

#define RATE	 500000.0
#define NMETHODS 3

static const enum fota_compress_method methods[NMETHODS] = { COMPRESS_NONE, COMPRESS_LZ4,
							     COMPRESS_DEFLATE };

struct ecu {
	struct uds_server *s;
	struct isotp *tp;
	struct cfg_key key;
	struct uds_ecu side;
};

struct result {
	uint64_t sent, frames, bits;
	double cpu_ms;
};

static int ecu_key(void *ctx, uint8_t level, const uint8_t *seed, size_t n, uint8_t *key,
		   size_t cap, size_t *klen)
{
	struct ecu *e = ctx;

	return uds_key_compute(&e->key, level, seed, n, key, cap, klen);
}

static double cpu_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The streams' total length, and the encoder's CPU per MiB of image. */
static int compress_cost(const struct ihex_image *img, enum fota_compress_method m, uint64_t size,
			 struct result *r)
{
	static uint8_t buf[65536];
	struct fota_compress_enc *e = fota_compress_enc_new(m, -1);
	double t0 = cpu_now(), t;
	unsigned rounds = 0;

	if (!e)
		return -1;
	do {
		r->sent = 0;
		for (size_t i = 0; i < img->nseg; i++) {
			long n;

			if (fota_compress_enc_start(e, img->seg[i].data, img->seg[i].len))
				return -1;
			while ((n = fota_compress_enc_read(e, buf, sizeof(buf))) > 0)
				r->sent += (uint64_t)n;
			if (n < 0)
				return -1;
		}
		rounds++;
		t = cpu_now() - t0;
	} while (t < 0.2);
	r->cpu_ms = t * 1e3 / rounds / ((double)size / (1 << 20));
	fota_compress_enc_free(e);
	return 0;
}

/* Flash img with method m into a fresh simulated ECU; frames and bits of the session. */
static int flash(const struct ihex_image *img, enum fota_compress_method m, struct result *r)
{
	struct uds_region region;
	struct isotp_cfg tc = { .tx_id = 0x7E8, .rx_id = 0x7E0, .pad = 0xCC };
	struct uds_server_cfg sc = {
		.nregions = 1,
		.max_block_len = 4095,
		.security_level = 0x01,
		.compute_key = ecu_key,
		.seed_of_seeds = 3,
		.compression = m,
		.compression_dfi = fota_compress_default_dfi(m),
	};
	const struct ihex_segment *last = &img->seg[img->nseg - 1];
	struct cfg_ecu ec;
	struct ecu ecu = { 0 };
	struct uds_job *job;
	struct uds_job_result jr = { 0 };
	struct bus *bt, *be;
	struct sim s;
	const struct bus_mem_rec *rec;
	size_t n;
	int bad = 0;

	region.start = img->seg[0].addr & ~0xFFFu;
	region.size =
		(uint32_t)(((uint64_t)last->addr + last->len - region.start + 0xFFF) & ~0xFFFull);
	sc.regions = &region;
	cfg_ecu_defaults(&ec);
	strcpy(ec.name, "bench");
	ec.request_id = 0x7E0;
	ec.response_id = 0x7E8;
	ec.has_security = true;
	ec.security_level = 1;
	cfg_key_parse("xor:A5A5A5A5", &ec.key, NULL, 0);
	cfg_key_parse("xor:A5A5A5A5", &ecu.key, NULL, 0);
	ec.regions[0].start = region.start;
	ec.regions[0].size = region.size;
	ec.nregions = 1;
	ec.compression = (struct cfg_compression){ m, fota_compress_default_dfi(m), -1 };
	sc.key_ctx = &ecu;
	if (sim_init(&s, "zbench", FOTA_SEC(1)) || bus_open(&bt, "mem:zbench", NULL, NULL, 0) ||
	    bus_open(&be, "mem:zbench", NULL, NULL, 0) || uds_server_new(&ecu.s, &sc) ||
	    !(ecu.tp = isotp_new(&tc)) ||
	    uds_job_new(&job, &(struct uds_job_cfg){ .ecu = &ec, .img = img }, &jr)) {
		fprintf(stderr, "setup failed: %s\n", jr.msg);
		return -1;
	}
	uds_ecu_init(&ecu.side, ecu.s, ecu.tp, NULL);
	sim_add(&s, bt, &uds_job_member_ops, job);
	sim_add(&s, be, &uds_ecu_member_ops, &ecu.side);
	uds_job_start(job, sim_now(&s));
	if (sim_run(&s, FOTA_SEC(3600)) || uds_job_result(job, &jr)) {
		fprintf(stderr, "flash (%s) failed: %s\n", fota_compress_method_str(m), jr.msg);
		bad = 1;
	}
	for (size_t i = 0; i < img->nseg && !bad; i++) {
		uint32_t base;
		const uint8_t *mem = uds_server_memory(ecu.s, &base, NULL);

		bad = memcmp(mem + (img->seg[i].addr - base), img->seg[i].data, img->seg[i].len);
	}
	n = bus_mem_record(s.hub, &rec);
	r->frames = r->bits = 0;
	for (size_t i = 0; i < n; i++) {
		if (rec[i].f.id == cfg_ecu_functional_id(&ec))
			continue;
		r->frames++;
		r->bits += 47 + 8u * rec[i].f.len;
	}
	uds_job_free(job);
	isotp_free(ecu.tp);
	uds_server_free(ecu.s);
	bus_close(bt);
	bus_close(be);
	sim_release(&s);
	return bad ? -1 : 0;
}

static double limit_s(uint64_t size)
{
	return (double)((size + 6) / 7) * 111.0 / RATE;
}

int main(int argc, char **argv)
{
	struct result sum[NMETHODS] = { { 0 } };
	uint64_t total = 0;
	double sum_limit = 0;
	int fails = 0, met = 0;

	bus_mem_register();
	printf("%-26s %8s %-8s %8s %7s %9s %7s %9s\n", "image", "size", "method", "sent", "frames",
	       "time@500k", "ratio", "cpu ms/MiB");
	for (int a = 1; a < argc; a++) {
		struct ihex_image img;
		struct ihex_error err = { 0 };
		char *text;
		size_t len;
		uint64_t size;
		const char *name = strrchr(argv[a], '/') ? strrchr(argv[a], '/') + 1 : argv[a];

		if (img_read_file(argv[a], &text, &len) ||
		    img_parse(&img, text, len, IMG_FMT_AUTO, false, 0, NULL, &err) || !img.nseg) {
			fprintf(stderr, "%s: cannot load: %s\n", argv[a], err.msg);
			return 2;
		}
		free(text);
		size = ihex_image_size(&img);
		total += size;
		sum_limit += limit_s(size);
		for (int k = 0; k < NMETHODS; k++) {
			struct result r = { .sent = size };

			if ((methods[k] != COMPRESS_NONE &&
			     compress_cost(&img, methods[k], size, &r)) ||
			    flash(&img, methods[k], &r)) {
				fprintf(stderr, "%s: %s: FAILED\n", name,
					fota_compress_method_str(methods[k]));
				fails++;
				continue;
			}
			printf("%-26s %8" PRIu64 " %-8s %8" PRIu64 " %7" PRIu64
			       " %8.3fs %7.3f %9.1f\n",
			       k ? "" : name, size, fota_compress_method_str(methods[k]), r.sent,
			       r.frames, (double)r.bits / RATE,
			       (double)r.bits / RATE / limit_s(size), r.cpu_ms);
			sum[k].sent += r.sent;
			sum[k].frames += r.frames;
			sum[k].bits += r.bits;
			sum[k].cpu_ms +=
				r.cpu_ms * ((double)size / (1 << 20)); /* ms, for the mean */
		}
		ihex_release(&img);
	}
	printf("\ncorpus: %d images, %" PRIu64 " bytes; raw limit at 500 kbit/s %.3f s\n", argc - 1,
	       total, sum_limit);
	for (int k = 0; k < NMETHODS; k++) {
		double t = (double)sum[k].bits / RATE,
		       cpu = sum[k].cpu_ms / ((double)total / (1 << 20));
		bool ok = t / sum_limit <= 0.6 && cpu < 50;

		printf("%-8s sent %8" PRIu64 " (%.3f of the image), %7" PRIu64
		       " frames, %.3f s -> %.3f x the raw limit; compression %.1f ms CPU per MiB%s\n",
		       fota_compress_method_str(methods[k]), sum[k].sent,
		       (double)sum[k].sent / (double)total, sum[k].frames, t, t / sum_limit, cpu,
		       k ? (ok ? "  [goal met: <= 0.6x, < 50 ms/MiB]" : "  [goal NOT met]") : "");
		met += k && ok;
	}
	return fails || !met ? 1 : 0;
}
