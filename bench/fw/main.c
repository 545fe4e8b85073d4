// SPDX-License-Identifier: MIT
/*
 * bench/fw/main.c: the bare-metal main of the corpus firmware (bench/corpus.sh):
 * this project's protocol engines on a Cortex-M, fed from a made-up CAN
 * controller's registers. It is never run; it exists so that the images are
 * real compiled microcontroller code of realistic size and shape, not random
 * bytes. FW_UDS: the UDS bootloader (uds/server.c behind ISO-TP); FW_SDO: the
 * CANopen side (SDO server over the 0x5FF3 objects, NMT); FW_TESTER: the UDS
 * programming sequence (client side).
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>
#include "core/frame.h"
#include "core/loop.h"

/* The made-up CAN controller: a receive and a transmit mailbox, a tick counter. */
struct can_regs {
	volatile uint32_t rx_id, rx_len, rx_data[16], rx_full;
	volatile uint32_t tx_id, tx_len, tx_data[16], tx_empty;
	volatile uint32_t ticks_us;
};
#define CAN ((struct can_regs *)0x40006400u)

static int can_read(struct bus_frame *f)
{
	if (!CAN->rx_full)
		return 0;
	f->id = CAN->rx_id;
	f->len = (uint8_t)(CAN->rx_len & 0x7F);
	f->flags = 0;
	memcpy(f->data, (const void *)CAN->rx_data, f->len > 64 ? 64 : f->len);
	CAN->rx_full = 0;
	return 1;
}

static void can_write(const struct bus_frame *f)
{
	while (!CAN->tx_empty)
		;
	CAN->tx_id = f->id;
	CAN->tx_len = f->len;
	memcpy((void *)CAN->tx_data, f->data, f->len);
	CAN->tx_empty = 0;
}

/* Run one loop member forever on the controller. */
static void run(const struct loop_member_ops *ops, void *ctx)
{
	for (;;) {
		struct bus_frame f;
		fota_us now = CAN->ticks_us;

		while (can_read(&f))
			ops->input(ctx, &f, now);
		ops->tick(ctx, now);
		while (ops->output(ctx, &f, now) == 1)
			can_write(&f);
	}
}

/* CRC-32 (IEEE 802.3, reflected), as zlib's crc32() computes it. */
unsigned long crc32(unsigned long crc, const unsigned char *buf, unsigned int len)
{
	uint32_t c = ~(uint32_t)crc;

	if (!buf)
		return 0;
	while (len--) {
		c ^= *buf++;
		for (int k = 0; k < 8; k++)
			c = (c >> 1) ^ (0xEDB88320u & (0u - (c & 1)));
	}
	return ~c;
}

/* No file system and no real-time clock on this target. */
int fsync(int fd)
{
	errno = ENOSYS;
	return -1;
}

#if defined(FW_UDS)
#include "uds/ecu.h"
#include "uds/isotp.h"
#include "uds/server.h"

/* No compressed downloads in this bootloader: the decoder is not linked. */
struct fota_compress_dec *fota_compress_dec_new(enum fota_compress_method m)
{
	return NULL;
}
void fota_compress_dec_free(struct fota_compress_dec *d)
{
}
int fota_compress_dec_start(struct fota_compress_dec *d, uint8_t *dst, size_t cap)
{
	return -ENOMEM;
}
int fota_compress_dec_write(struct fota_compress_dec *d, const uint8_t *in, size_t n)
{
	return -EBADMSG;
}
bool fota_compress_dec_complete(const struct fota_compress_dec *d)
{
	return false;
}
size_t fota_compress_dec_produced(const struct fota_compress_dec *d)
{
	return 0;
}

static int xor_key(void *ctx, uint8_t level, const uint8_t *seed, size_t n, uint8_t *key,
		   size_t cap, size_t *klen)
{
	for (size_t i = 0; i < n && i < cap; i++)
		key[i] = seed[i] ^ 0xA5;
	*klen = n;
	return 0;
}

int main(void)
{
	static const struct uds_region region = { 0x08020000, 0x20000 };
	struct uds_server_cfg sc = {
		.regions = &region, .nregions = 1, .security_level = 1, .compute_key = xor_key
	};
	struct isotp_cfg tc = { .tx_id = 0x7E8, .rx_id = 0x7E0, .pad = 0xCC };
	static struct uds_ecu e;
	struct uds_server *s;
	struct isotp *tp = isotp_new(&tc);

	if (uds_server_new(&s, &sc) || !tp)
		return 1;
	uds_ecu_init(&e, s, tp, NULL);
	uds_ecu_set_functional(&e, 0x7DF, false);
	run(&uds_ecu_member_ops, &e);
	return 0;
}
#elif defined(FW_SDO)
#include "core/update.h"
#include "sdo/fota_od.h"
#include "sdo/nmt.h"
#include "sdo/server.h"

struct node {
	struct sdo_server srv;
	struct fota_od od;
	struct upd u;
};

static void n_input(void *ctx, const struct bus_frame *f, fota_us now)
{
	struct node *n = ctx;

	sdo_server_input(&n->srv, f, now);
}

static void n_tick(void *ctx, fota_us now)
{
	struct node *n = ctx;

	sdo_server_tick(&n->srv, now);
}

static int n_output(void *ctx, struct bus_frame *f, fota_us now)
{
	struct node *n = ctx;

	return sdo_server_output(&n->srv, f, now);
}

static fota_us n_deadline(void *ctx)
{
	struct node *n = ctx;

	return sdo_server_deadline(&n->srv);
}

static const struct loop_member_ops node_ops = { n_input, n_tick, n_output, n_deadline, NULL };

int main(void)
{
	static struct node n;
	struct fota_od_identity id = { 0 };
	struct sdo_server_cfg c = { .node = 0x27 };

	upd_init(&n.u);
	if (fota_od_init(&n.od, &n.u, &id) || sdo_server_init(&n.srv, &c, &n.od.od))
		return 1;
	run(&node_ops, &n);
	return 0;
}
#elif defined(FW_TESTER)
#include "uds/isotp.h"
#include "uds/prog.h"

static int xor_key(void *ctx, uint8_t level, const uint8_t *seed, size_t n, uint8_t *key,
		   size_t cap, size_t *klen)
{
	for (size_t i = 0; i < n && i < cap; i++)
		key[i] = seed[i] ^ 0xA5;
	*klen = n;
	return 0;
}

/* uds/key.c runs programs and loads libraries: not on this target; its one helper here. */
bool uds_seed_is_zero(const uint8_t *seed, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (seed[i])
			return false;
	return true;
}

/* No compression on this tester either. */
struct fota_compress_enc *fota_compress_enc_new(enum fota_compress_method m, int level)
{
	return NULL;
}
void fota_compress_enc_free(struct fota_compress_enc *e)
{
}
int fota_compress_enc_start(struct fota_compress_enc *e, const uint8_t *in, size_t len)
{
	return -ENOMEM;
}
long fota_compress_enc_read(struct fota_compress_enc *e, uint8_t *out, size_t cap)
{
	return -EIO;
}
bool fota_compress_enc_done(const struct fota_compress_enc *e)
{
	return true;
}
size_t fota_compress_enc_consumed(const struct fota_compress_enc *e)
{
	return 0;
}

int main(void)
{
	static const uint8_t app[] = "application image stored in external flash";
	struct uds_segment seg = { 0x08020000, sizeof(app), app };
	struct uds_prog_cfg pc = { .security_level = 1, .compute_key = xor_key, .check = true };
	struct isotp_cfg tc = { .tx_id = 0x7E0, .rx_id = 0x7E8, .pad = 0xCC };
	struct isotp *tp = isotp_new(&tc);
	static struct uds_prog p;
	const uint8_t *pdu;
	size_t len;

	uds_prog_init(&p, &pc, NULL);
	if (!tp || uds_prog_start(&p, &seg, 1, CAN->ticks_us))
		return 1;
	for (;;) {
		struct bus_frame f;
		fota_us now = CAN->ticks_us;

		while (can_read(&f)) {
			isotp_input(tp, &f, now);
			while (isotp_recv(tp, &pdu, &len) == 1)
				uds_prog_input(&p, pdu, len, now);
		}
		isotp_tick(tp, now);
		uds_prog_tick(&p, now);
		if (uds_prog_output(&p, &pdu, &len, now) == 1 && !isotp_send(tp, pdu, len, now))
			uds_prog_sent(&p, now);
		while (isotp_output(tp, &f, now) == 1)
			can_write(&f);
	}
}
#endif

/* The vector table and the reset handler: copy .data, clear .bss, run main. */
extern uint32_t _data, _edata, _data_load, _bss, _ebss, _stack;
void reset_handler(void);
void reset_handler(void)
{
	uint32_t *s = &_data_load, *d = &_data;

	while (d < &_edata)
		*d++ = *s++;
	for (d = &_bss; d < &_ebss; d++)
		*d = 0;
	main();
	for (;;)
		;
}

__attribute__((section(".vectors"), used)) static void *const vectors[] = {
	&_stack,
	(void *)reset_handler,
};
