// SPDX-License-Identifier: MIT
/*
 * ISO-TP engine benchmark (uds/isotp.c): CPU time per MiB moved through two
 * engines back to back, and per side (sender alone, receiver alone), for
 * classic CAN and CAN FD, with UDS-sized PDUs (4095 bytes = a TransferData of
 * maxNumberOfBlockLength 4095). Also checks the frame count against the ISO-TP
 * minimum and projects the bus time from nominal frame bit lengths.
 * Not part of the build; run it by hand:
 *
 *   cc -O2 -std=c11 -D_GNU_SOURCE -I. bench/isotp_bench.c uds/isotp.c -o /tmp/isotp_bench
 *   /tmp/isotp_bench [MiB]
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "uds/isotp.h"

static double cpu_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/*
 * Nominal bits of a data frame without stuff bits, with the 3-bit
 * intermission: classic 11-bit 47 + 8n. CAN FD is left at the nominal
 * rate for all bits (no BRS), which overstates its time.
 */
static double frame_bits(const struct bus_frame *f)
{
	return 47.0 + 8.0 * f->len + ((f->flags & BUS_FRAME_FD) ? 20.0 : 0.0);
}

struct result {
	double cpu, bits;
	unsigned long long frames;
};

static struct result run_pair(const struct isotp_cfg *ca, const struct isotp_cfg *cb, size_t total,
			      size_t pdu_len)
{
	struct isotp *a = isotp_new(ca), *b = isotp_new(cb);
	uint8_t *pdu = malloc(pdu_len);
	struct result r = { 0 };
	struct bus_frame f;
	fota_us now = 1;
	size_t done = 0;
	double t0;

	for (size_t i = 0; i < pdu_len; i++)
		pdu[i] = (uint8_t)i;
	t0 = cpu_s();
	while (done < total) {
		const uint8_t *p;
		size_t n;
		int got = 0;

		isotp_send(a, pdu, pdu_len, now);
		while (!got) {
			int moved = 0;

			while (isotp_output(a, &f, now) == 1) {
				r.frames++;
				r.bits += frame_bits(&f);
				isotp_input(b, &f, now);
				if (isotp_recv(b, &p, &n) == 1)
					got = 1;
				moved = 1;
			}
			while (isotp_output(b, &f, now) == 1) {
				r.frames++;
				r.bits += frame_bits(&f);
				isotp_input(a, &f, now);
				moved = 1;
			}
			if (!moved) {
				if (isotp_deadline(a) == FOTA_NEVER) {
					fprintf(stderr, "isotp_bench: transfer stalled\n");
					exit(1);
				}
				now = isotp_deadline(a);
			}
		}
		done += pdu_len;
	}
	r.cpu = cpu_s() - t0;
	isotp_free(a);
	isotp_free(b);
	free(pdu);
	return r;
}

/* Sender alone: the peer's FC is a canned frame. */
static double run_tx(const struct isotp_cfg *ca, size_t total, size_t pdu_len)
{
	struct isotp *a = isotp_new(ca);
	uint8_t *pdu = calloc(1, pdu_len);
	struct bus_frame f, fc = { .id = ca->rx_id, .len = 3, .data = { 0x30, 0, 0 } };
	double t0 = cpu_s();

	for (size_t done = 0; done < total; done += pdu_len) {
		isotp_send(a, pdu, pdu_len, 1);
		while (isotp_tx_result(a) == -EINPROGRESS) {
			if (isotp_output(a, &f, 1) == 0)
				isotp_input(a, &fc, 1);
		}
	}
	t0 = cpu_s() - t0;
	isotp_free(a);
	free(pdu);
	return t0;
}

/* Receiver alone: the frames of one PDU, recorded once, fed again and again. */
static double run_rx(const struct isotp_cfg *ca, const struct isotp_cfg *cb, size_t total,
		     size_t pdu_len)
{
	struct isotp *a = isotp_new(ca), *b = isotp_new(cb);
	uint8_t *pdu = calloc(1, pdu_len);
	struct bus_frame *rec = malloc(sizeof(*rec) * (pdu_len + 8)), f;
	struct bus_frame fc = { .id = ca->rx_id, .len = 3, .data = { 0x30, 0, 0 } };
	size_t nrec = 0;
	double t0;

	isotp_send(a, pdu, pdu_len, 1);
	while (isotp_tx_result(a) == -EINPROGRESS) {
		if (isotp_output(a, &f, 1) == 1)
			rec[nrec++] = f;
		else
			isotp_input(a, &fc, 1);
	}
	t0 = cpu_s();
	for (size_t done = 0; done < total; done += pdu_len) {
		const uint8_t *p;
		size_t n;

		for (size_t i = 0; i < nrec; i++) {
			isotp_input(b, &rec[i], 1);
			if (i == 0)
				isotp_output(b, &f, 1); /* our FC */
		}
		if (isotp_recv(b, &p, &n) != 1 || n != pdu_len) {
			fprintf(stderr, "isotp_bench: receiver lost a PDU\n");
			exit(1);
		}
	}
	t0 = cpu_s() - t0;
	isotp_free(a);
	isotp_free(b);
	free(pdu);
	free(rec);
	return t0;
}

static void bench(const char *name, bool fd, uint8_t dl, size_t mib)
{
	struct isotp_cfg ca = {
		.tx_id = 0x7E0, .rx_id = 0x7E8, .pad = 0xCC, .fd = fd, .tx_dl = dl
	};
	struct isotp_cfg cb = {
		.tx_id = 0x7E8, .rx_id = 0x7E0, .pad = 0xCC, .fd = fd, .tx_dl = dl
	};
	size_t total = mib << 20, pdu = 4095, npdu = (total + pdu - 1) / pdu;
	size_t ncf = (pdu - (dl - 2u) + dl - 2u) / (dl - 1u);
	unsigned long long min = (unsigned long long)npdu * (1 + ncf + 1);
	struct result r = run_pair(&ca, &cb, npdu * pdu, pdu);
	double tx = run_tx(&ca, npdu * pdu, pdu), rx = run_rx(&ca, &cb, npdu * pdu, pdu);
	double mibs = (double)(npdu * pdu) / (1 << 20);

	printf("%-12s %8llu frames (minimum %llu)  both %6.1f ms/MiB  tx %6.1f  rx %6.1f"
	       "  bus@500k %5.1f s/MiB  @1M %5.1f s/MiB\n",
	       name, r.frames, min, r.cpu * 1e3 / mibs, tx * 1e3 / mibs, rx * 1e3 / mibs,
	       r.bits / 500e3 / mibs, r.bits / 1e6 / mibs);
}

int main(int argc, char **argv)
{
	size_t mib = argc > 1 ? strtoul(argv[1], NULL, 0) : 16;

	if (!mib)
		mib = 1;
	printf("isotp_bench: %zu MiB in 4095-byte PDUs, BS 0, STmin 0 "
	       "(bus time: nominal bits, no stuffing, no BRS)\n",
	       mib);
	bench("classic", false, 8, mib);
	bench("fd tx_dl 64", true, 64, mib);
	return 0;
}
