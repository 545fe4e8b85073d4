// SPDX-License-Identifier: MIT
/*
 * Wire efficiency of `fota flash` (issue 3, "Proof"): the programming job
 * (uds/job.c) flashes a 1 MiB image into the simulated ECU (uds/server.c
 * behind its own ISO-TP channel) over the in-memory bus in virtual time, with
 * maxNumberOfBlockLength 4095 and an ECU that answers at once. Then:
 *
 *  - frames on the bus vs the ISO-TP minimum (ISO 15765-2, classic CAN,
 *    BS = 0): for every PDU of L bytes, 1 frame if L <= 7, else
 *    1 FF + ceil((L - 6) / 7) CFs + 1 FC from the receiver. Asserted equal.
 *  - projected bus time at 500 kbit/s and 1 Mbit/s from the frames' bit
 *    lengths. Classic data frame, 11-bit id, n data bytes (ISO 11898-1):
 *    SOF 1 + id 11 + RTR 1 + IDE 1 + r0 1 + DLC 4 + 8n + CRC 15 + CRC del 1
 *    + ACK 2 + EOF 7 = 44 + 8n, plus 3 bits intermission: 47 + 8n (111 for
 *    n = 8), without stuff bits; worst-case stuffing adds floor((34 + 8n - 1)
 *    / 4) bits (SOF to CRC, one stuff bit per 4 after the first 5). 29-bit:
 *    +20 bits.
 *  - the physical limit: the image bytes carried in full 8-byte frames of 7
 *    payload bytes each (ceil(size / 7) x 111 bits): ratio = projected / limit.
 *    Also against the raw payload (size x 8 bits) for information.
 *  - CPU time of each side: wall time spent inside each side's loop-member
 *    callbacks (monotonic clock; the run is CPU-bound and single-threaded in
 *    virtual time, so this is CPU), plus getrusage() of the whole process.
 *
 * Build and run with bench/flash.sh. Exit 1 if an assertion fails.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include "tests/sim/bus_mem.h"
#include "core/config.h"
#include "tests/sim/sim.h"
#include "uds/ecu.h"
#include "uds/isotp.h"
#include "uds/job.h"
#include "uds/key.h"
#include "uds/server.h"

#define IMAGE_SIZE (1u << 20)
#define BASE	   0x08000000u

static double mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* A loop member measured: every callback's time is added to *acc. */
struct timed {
	const struct loop_member_ops *ops;
	void *ctx;
	double acc;
};

static void t_input(void *c, const struct bus_frame *f, fota_us now)
{
	struct timed *t = c;
	double t0 = mono();

	t->ops->input(t->ctx, f, now);
	t->acc += mono() - t0;
}

static void t_tick(void *c, fota_us now)
{
	struct timed *t = c;
	double t0 = mono();

	t->ops->tick(t->ctx, now);
	t->acc += mono() - t0;
}

static int t_output(void *c, struct bus_frame *f, fota_us now)
{
	struct timed *t = c;
	double t0 = mono();
	int r = t->ops->output(t->ctx, f, now);

	t->acc += mono() - t0;
	return r;
}

static fota_us t_deadline(void *c)
{
	struct timed *t = c;
	double t0 = mono();
	fota_us d = t->ops->deadline(t->ctx);

	t->acc += mono() - t0;
	return d;
}

static bool t_done(void *c)
{
	struct timed *t = c;

	return t->ops->done ? t->ops->done(t->ctx) : false;
}

static const struct loop_member_ops timed_ops = {
	.input = t_input,
	.tick = t_tick,
	.output = t_output,
	.deadline = t_deadline,
	.done = t_done,
};

/* The simulated ECU: uds_server behind ISO-TP (uds/ecu.h), as `fota ecu` runs it. */
struct ecu {
	struct uds_server *s;
	struct isotp *tp;
	struct cfg_key key;
	struct uds_ecu side;
};

static int ecu_key(void *ctx, uint8_t level, const uint8_t *seed, size_t n, uint8_t *key,
		   size_t cap, size_t *klen)
{
	struct ecu *e = ctx;

	return uds_key_compute(&e->key, level, seed, n, key, cap, klen);
}

static unsigned bits_nostuff(const struct bus_frame *f)
{
	return 47 + 8u * f->len + ((f->flags & BUS_FRAME_EFF) ? 20 : 0);
}

static unsigned bits_stuffed(const struct bus_frame *f)
{
	unsigned region = 34 + 8u * f->len + ((f->flags & BUS_FRAME_EFF) ? 20 : 0);

	return bits_nostuff(f) + (region - 1) / 4;
}

static int check(bool ok, const char *what)
{
	printf("%-58s %s\n", what, ok ? "ok" : "FAILED");
	return ok ? 0 : 1;
}

int main(void)
{
	static const struct uds_region region = { BASE, IMAGE_SIZE };
	struct isotp_cfg tc = { .tx_id = 0x7E8, .rx_id = 0x7E0, .pad = 0xCC };
	struct uds_server_cfg sc = {
		.regions = &region,
		.nregions = 1,
		.max_block_len = 4095,
		.security_level = 0x01,
		.compute_key = ecu_key,
		.seed_of_seeds = 3,
	};
	struct ihex_segment seg = { BASE, IMAGE_SIZE, NULL };
	struct ihex_image img;
	struct cfg_ecu ec;
	struct ecu ecu = { 0 };
	struct uds_job *job;
	struct uds_job_result jr;
	struct timed tt = { 0 }, te = { 0 };
	struct bus *bt, *be;
	struct sim s;
	struct rusage ru0, ru1;
	const struct bus_mem_rec *rec;
	size_t n;
	uint64_t min_frames = 0, tx_frames = 0, rx_frames = 0, tp_frames = 0, bits = 0,
		 bits_worst = 0;
	uint32_t x = 1;
	double wall0, wall, cpu, limit_bits, raw_bits;
	int fails = 0;
	uint8_t *data = malloc(IMAGE_SIZE);

	for (size_t i = 0; i < IMAGE_SIZE; i++) {
		x = x * 1103515245u + 12345u;
		data[i] = (uint8_t)(x >> 16);
	}
	seg.data = data;
	bus_mem_register();
	ihex_image_init(&img);
	img.seg = &seg;
	img.nseg = 1;

	cfg_ecu_defaults(&ec);
	strcpy(ec.name, "bench");
	ec.request_id = 0x7E0;
	ec.response_id = 0x7E8;
	ec.has_security = true;
	ec.security_level = 1;
	cfg_key_parse("xor:A5A5A5A5", &ec.key, NULL, 0);
	cfg_key_parse("xor:A5A5A5A5", &ecu.key, NULL, 0);
	ec.regions[0].start = BASE;
	ec.regions[0].size = IMAGE_SIZE;
	ec.nregions = 1;
	sc.key_ctx = &ecu;

	if (sim_init(&s, "bench", FOTA_SEC(1)) || bus_open(&bt, "mem:bench", NULL, NULL, 0) ||
	    bus_open(&be, "mem:bench", NULL, NULL, 0) || uds_server_new(&ecu.s, &sc) ||
	    !(ecu.tp = isotp_new(&tc)) ||
	    uds_job_new(&job, &(struct uds_job_cfg){ .ecu = &ec, .img = &img }, &jr)) {
		fprintf(stderr, "setup failed: %s\n", jr.msg);
		return 2;
	}
	tt = (struct timed){ &uds_job_member_ops, job, 0 };
	uds_ecu_init(&ecu.side, ecu.s, ecu.tp, NULL);
	te = (struct timed){ &uds_ecu_member_ops, &ecu.side, 0 };
	sim_add(&s, bt, &timed_ops, &tt);
	sim_add(&s, be, &timed_ops, &te);

	getrusage(RUSAGE_SELF, &ru0);
	wall0 = mono();
	uds_job_start(job, sim_now(&s));
	if (sim_run(&s, FOTA_SEC(3600)) || uds_job_result(job, &jr)) {
		fprintf(stderr, "flash failed: %s\n", jr.msg);
		return 2;
	}
	wall = mono() - wall0;
	getrusage(RUSAGE_SELF, &ru1);
	cpu = (double)(ru1.ru_utime.tv_sec - ru0.ru_utime.tv_sec + ru1.ru_stime.tv_sec -
		       ru0.ru_stime.tv_sec) +
	      (double)(ru1.ru_utime.tv_usec - ru0.ru_utime.tv_usec + ru1.ru_stime.tv_usec -
		       ru0.ru_stime.tv_usec) /
		      1e6;

	{
		uint32_t base;
		size_t span;
		const uint8_t *mem = uds_server_memory(ecu.s, &base, &span);

		fails += check(span == IMAGE_SIZE && !memcmp(mem, data, IMAGE_SIZE),
			       "ECU memory equals the 1 MiB image");
	}

	/* The ISO-TP minimum for the PDUs that crossed the bus, from the record. */
	n = bus_mem_record(s.hub, &rec);
	for (size_t i = 0; i < n; i++) {
		const struct bus_frame *f = &rec[i].f;
		unsigned pci = f->data[0] >> 4;

		if (f->id == cfg_ecu_functional_id(&ec)) {
			tp_frames++; /* the cyclic TesterPresent: not part of the transfer */
			continue;
		}
		if (rec[i].from == 0)
			tx_frames++;
		else
			rx_frames++;
		bits += bits_nostuff(f);
		bits_worst += bits_stuffed(f);
		if (pci == 0) {
			min_frames += 1;
		} else if (pci == 1) {
			uint32_t L = ((f->data[0] & 0x0F) << 8) | f->data[1];

			min_frames += 1 + (L - 6 + 6) / 7 + 1; /* FF + CFs + FC */
		}
	}
	limit_bits = (double)((IMAGE_SIZE + 6) / 7) * 111.0;
	raw_bits = (double)IMAGE_SIZE * 8.0;

	printf("image                     %u bytes, maxNumberOfBlockLength 4095, BS 0, STmin 0\n",
	       IMAGE_SIZE);
	n -= tp_frames;
	printf("frames on the bus         %zu (tester %" PRIu64 ", ECU %" PRIu64 ")\n", n,
	       tx_frames, rx_frames);
	printf("functional TesterPresent  %" PRIu64 " (apart: on 0x%" PRIX32 ")\n", tp_frames,
	       cfg_ecu_functional_id(&ec));
	printf("ISO-TP minimum            %" PRIu64 "\n", min_frames);
	fails += check(n == min_frames, "frame count equals the ISO-TP minimum");
	for (int k = 0; k < 2; k++) {
		double rate = k ? 1e6 : 5e5;
		double t = (double)bits / rate, tw = (double)bits_worst / rate;
		double lim = limit_bits / rate, raw = raw_bits / rate;

		printf("%4.0f kbit/s: projected %.3f s (worst-case stuffing %.3f s); "
		       "limit %.3f s -> ratio %.4f; raw payload %.3f s -> ratio %.3f\n",
		       rate / 1e3, t, tw, lim, t / lim, raw, t / raw);
	}
	fails += check((double)bits / limit_bits <= 1.03, "within 3% of the physical limit");
	printf("virtual flash time        %.3f s (ECU answers at once; frames take no time)\n",
	       (double)(sim_now(&s) - FOTA_SEC(1)) / 1e6);
	printf("CPU tester (job)          %.3f s/MiB\n", tt.acc);
	printf("CPU ECU (server+isotp)    %.3f s/MiB\n", te.acc);
	printf("CPU process (getrusage)   %.3f s (wall %.3f s; rest = mem: bus + sim + record)\n",
	       cpu, wall);
	fails += check(tt.acc < 0.02 * ((double)bits / 1e6),
		       "tester CPU < 2% of the 1 Mbit/s bus time");

	uds_job_free(job);
	isotp_free(ecu.tp);
	uds_server_free(ecu.s);
	bus_close(bt);
	bus_close(be);
	sim_release(&s);
	free(data);
	return fails ? 1 : 0;
}
