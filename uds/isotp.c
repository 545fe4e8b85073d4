// SPDX-License-Identifier: MIT
/*
 * ISO 15765-2:2016 transport protocol (ISO-TP), sans-I/O: segmentation (9.2,
 * 9.3), N_PCI encoding (9.6: SF incl. the CAN FD escape, FF incl. the 32-bit
 * escape, CF, FC with FS/BS/STmin), N_WFTmax (9.7), N_Bs/N_Cr timeouts (9.8.2)
 * and unexpected N_PDU handling (9.8.3), padding (10.4.2). Full duplex: the
 * sending and the receiving side of a channel are independent.
 *
 * Per frame the work is O(1): one memcpy of at most 64 bytes, no allocation.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "uds/isotp.h"

/* N_PCItype, high nibble of the first byte (9.6.1, Table 8) */
#define N_PCI_SF 0x0
#define N_PCI_FF 0x1
#define N_PCI_CF 0x2
#define N_PCI_FC 0x3

/* FlowStatus, low nibble of the FC's first byte (9.6.5.1, Table 18) */
#define FS_CTS	 0x0
#define FS_WAIT	 0x1
#define FS_OVFLW 0x2

#define FF_DL_12BIT_MAX 4095u /* above it the FF uses the escape (9.6.3.1) */
#define PAD_FD_DEFAULT	0xCC  /* 10.4.2.2: recommended fill value */

#define DEFAULT_N_BS_MS	  1000u
#define DEFAULT_N_CR_MS	  1000u
#define DEFAULT_WFT_MAX	  10u
#define DEFAULT_RX_MAX	  4095u
#define RX_BUF_INITIAL	  4095u /* grown further only when an FF announces more */
#define RX_BUF_SF_MIN	  64u	/* an SF always fits without growing */
#define STMIN_RESERVED_US 127000u

enum tx_state {
	TX_IDLE,
	TX_SF,	    /* SF queued, due at tx_due */
	TX_FF,	    /* FF queued, due at tx_due */
	TX_WAIT_FC, /* FF or a block sent; tx_due is the N_Bs deadline */
	TX_CF,	    /* sending CFs; tx_due is when the next one may go (STmin) */
};

struct isotp {
	struct isotp_cfg cfg;
	struct isotp_stats st;
	uint8_t sf_max;	     /* largest SF payload we send */
	uint8_t frame_flags; /* flags of every frame we send */

	/* sending side */
	enum tx_state tx_state;
	int tx_result;
	uint8_t *tx_buf;
	size_t tx_cap, tx_len, tx_pos;
	fota_us tx_due;
	uint32_t tx_gap_us; /* CF spacing for this transfer: peer's STmin, our floor */
	uint8_t tx_sn;
	uint8_t tx_bs;	  /* peer's BS, 0 = no further FC */
	uint8_t tx_block; /* CFs sent in the current block */
	uint8_t tx_wft;	  /* FC.WAIT received in a row */

	/* receiving side */
	bool rx_active; /* FF accepted, CFs expected */
	bool rx_ready;	/* a complete PDU waits in rx_buf */
	int rx_err;
	uint8_t *rx_buf;
	size_t rx_cap, rx_len, rx_pos;
	fota_us rx_deadline; /* N_Cr, when rx_active and no FC is queued */
	uint8_t rx_dl;	     /* RX_DL: CAN_DL of the FF (9.5.3) */
	uint8_t rx_sn;
	uint8_t rx_block;

	/* one FC of ours waiting for isotp_output() */
	bool fc_pending;
	uint8_t fc_fs;
	fota_us fc_due;
};

/* The CAN FD data lengths (ISO 11898-1 DLC 0..15). */
static const uint8_t fd_lens[] = { 0, 1, 2, 3, 4, 5, 6, 7, 8, 12, 16, 20, 24, 32, 48, 64 };

/* Round up to a CAN FD data length; the result is >= len for len <= 64. */
static uint8_t fd_round(size_t len)
{
	for (size_t i = 0; i < sizeof(fd_lens); i++)
		if (fd_lens[i] >= len)
			return fd_lens[i];
	return 64;
}

static bool fd_len_valid(size_t len)
{
	return len <= 64 && fd_round(len) == len;
}

uint32_t isotp_stmin_us(uint8_t stmin)
{
	if (stmin <= 0x7F)
		return (uint32_t)stmin * 1000u;
	if (stmin >= 0xF1 && stmin <= 0xF9)
		return (uint32_t)(stmin - 0xF0) * 100u;
	/*
	 * 9.6.5.4: a reserved STmin makes the sender use the longest defined
	 * value, 0x7F = 127 ms, for the rest of the transfer.
	 */
	return STMIN_RESERVED_US;
}

static int cfg_normalize(struct isotp_cfg *c)
{
	uint32_t id_mask = (c->id_flags & BUS_FRAME_EFF) ? BUS_EFF_MASK : BUS_SFF_MASK;

	if (c->tx_dl == 0)
		c->tx_dl = 8;
	if (c->fd ? (c->tx_dl < 8 || !fd_len_valid(c->tx_dl)) : c->tx_dl != 8)
		return -EINVAL;
	if (c->pad < -1 || c->pad > 0xFF)
		return -EINVAL;
	if ((c->tx_id & ~id_mask) || (c->rx_id & ~id_mask))
		return -EINVAL;
	c->id_flags &= BUS_FRAME_EFF;
	if (c->n_bs_ms == 0)
		c->n_bs_ms = DEFAULT_N_BS_MS;
	if (c->n_cr_ms == 0)
		c->n_cr_ms = DEFAULT_N_CR_MS;
	if (c->wft_max == 0)
		c->wft_max = DEFAULT_WFT_MAX;
	if (c->rx_max == 0)
		c->rx_max = DEFAULT_RX_MAX;
	if (c->rx_max > ISOTP_RX_MAX_LIMIT)
		return -EINVAL;
	return 0;
}

struct isotp *isotp_new(const struct isotp_cfg *cfg)
{
	struct isotp *tp = calloc(1, sizeof(*tp));
	size_t cap;
	int err;

	if (!tp) {
		errno = ENOMEM;
		return NULL;
	}
	tp->cfg = *cfg;
	err = cfg_normalize(&tp->cfg);
	if (err) {
		free(tp);
		errno = -err;
		return NULL;
	}
	cap = tp->cfg.rx_max < RX_BUF_INITIAL ? tp->cfg.rx_max : RX_BUF_INITIAL;
	if (cap < RX_BUF_SF_MIN)
		cap = RX_BUF_SF_MIN;
	tp->rx_buf = malloc(cap);
	if (!tp->rx_buf) {
		free(tp);
		errno = ENOMEM;
		return NULL;
	}
	tp->rx_cap = cap;
	tp->st.rx_buf_size = cap;
	/* 9.6.2.1: the SF_DL escape exists only for frames longer than 8 bytes. */
	tp->sf_max = tp->cfg.tx_dl > 8 ? tp->cfg.tx_dl - 2 : 7;
	tp->frame_flags = tp->cfg.id_flags | (tp->cfg.fd ? BUS_FRAME_FD : 0);
	return tp;
}

void isotp_free(struct isotp *tp)
{
	if (!tp)
		return;
	free(tp->tx_buf);
	free(tp->rx_buf);
	free(tp);
}

const struct isotp_cfg *isotp_cfg(const struct isotp *tp)
{
	return &tp->cfg;
}

void isotp_stats(const struct isotp *tp, struct isotp_stats *st)
{
	*st = tp->st;
}

void isotp_reset(struct isotp *tp)
{
	tp->tx_state = TX_IDLE;
	tp->tx_result = 0;
	tp->rx_active = false;
	tp->rx_ready = false;
	tp->rx_err = 0;
	tp->fc_pending = false;
}

/* ---- frame building ---------------------------------------------------- */

static void frame_start(const struct isotp *tp, struct bus_frame *f)
{
	f->id = tp->cfg.tx_id;
	f->flags = tp->frame_flags;
}

/*
 * `used` bytes of f->data are filled; set the frame length and the padding
 * (10.4.2). Classic CAN: 8 bytes with a pad byte, else just `used`. CAN FD:
 * the DLC can only express certain lengths, so anything above 8 is rounded
 * up and filled (0xCC when no pad byte is configured); with a pad byte short
 * frames are also padded to 8, as on classic CAN.
 */
static void frame_finish(const struct isotp *tp, struct bus_frame *f, size_t used)
{
	size_t len = used;
	int fill = tp->cfg.pad;

	if (fill >= 0 && len < 8)
		len = 8;
	if (tp->cfg.fd) {
		len = fd_round(len);
		if (fill < 0)
			fill = PAD_FD_DEFAULT;
	}
	if (len > used)
		memset(f->data + used, fill, len - used);
	f->len = (uint8_t)len;
}

static void build_fc(struct isotp *tp, struct bus_frame *f)
{
	frame_start(tp, f);
	f->data[0] = (uint8_t)(N_PCI_FC << 4 | tp->fc_fs);
	/* 9.6.5.1: BS and STmin are meaningful only in CTS; send 0 otherwise. */
	f->data[1] = tp->fc_fs == FS_CTS ? tp->cfg.bs : 0;
	f->data[2] = tp->fc_fs == FS_CTS ? tp->cfg.stmin : 0;
	frame_finish(tp, f, 3);
}

/* An SF of n <= sf_max bytes into f (id and flags already set). */
static void fill_sf(const struct isotp *tp, struct bus_frame *f, const uint8_t *pdu, size_t n)
{
	size_t hdr;

	if (n <= 7) {
		f->data[0] = (uint8_t)(N_PCI_SF << 4 | n);
		hdr = 1;
	} else {
		/* 9.6.2.1: CAN_DL > 8, SF_DL = 0 escape, length in byte 2 */
		f->data[0] = N_PCI_SF << 4;
		f->data[1] = (uint8_t)n;
		hdr = 2;
	}
	memcpy(f->data + hdr, pdu, n);
	frame_finish(tp, f, hdr + n);
}

static void build_sf(struct isotp *tp, struct bus_frame *f)
{
	frame_start(tp, f);
	fill_sf(tp, f, tp->tx_buf, tp->tx_len);
}

int isotp_sf_frame(const struct isotp *tp, uint32_t id, const uint8_t *pdu, size_t len,
		   struct bus_frame *f)
{
	if (!len || len > tp->sf_max)
		return -EMSGSIZE;
	memset(f, 0, sizeof(*f));
	f->id = id;
	f->flags = tp->frame_flags;
	fill_sf(tp, f, pdu, len);
	return 0;
}

static void build_ff(struct isotp *tp, struct bus_frame *f)
{
	size_t len = tp->tx_len, hdr, n;

	frame_start(tp, f);
	if (len <= FF_DL_12BIT_MAX) {
		f->data[0] = (uint8_t)(N_PCI_FF << 4 | len >> 8);
		f->data[1] = (uint8_t)len;
		hdr = 2;
	} else {
		/* 9.6.3.1: FF_DL = 0 escape, 32-bit big-endian length follows */
		f->data[0] = N_PCI_FF << 4;
		f->data[1] = 0;
		f->data[2] = (uint8_t)(len >> 24);
		f->data[3] = (uint8_t)(len >> 16);
		f->data[4] = (uint8_t)(len >> 8);
		f->data[5] = (uint8_t)len;
		hdr = 6;
	}
	/* The FF always uses all of TX_DL (9.5.2); len > sf_max guarantees n < len. */
	n = tp->cfg.tx_dl - hdr;
	memcpy(f->data + hdr, tp->tx_buf, n);
	f->len = tp->cfg.tx_dl;
	tp->tx_pos = n;
}

static void build_cf(struct isotp *tp, struct bus_frame *f)
{
	size_t left = tp->tx_len - tp->tx_pos, n = tp->cfg.tx_dl - 1u;

	if (n > left)
		n = left;
	frame_start(tp, f);
	f->data[0] = (uint8_t)(N_PCI_CF << 4 | tp->tx_sn);
	memcpy(f->data + 1, tp->tx_buf + tp->tx_pos, n);
	frame_finish(tp, f, 1 + n);
	tp->tx_pos += n;
	tp->tx_sn = (tp->tx_sn + 1) & 0x0F; /* 9.6.4.3: 15 wraps to 0 */
}

/* ---- sending side ------------------------------------------------------- */

static void tx_finish(struct isotp *tp, int result)
{
	tp->tx_state = TX_IDLE;
	tp->tx_result = result;
	if (result == 0)
		tp->st.pdus_sent++;
}

int isotp_send(struct isotp *tp, const uint8_t *pdu, size_t len, fota_us now)
{
	if (tp->tx_state != TX_IDLE)
		return -EALREADY;
	if (len == 0 || (uint64_t)len > UINT32_MAX)
		return -EMSGSIZE;
	if (len > tp->tx_cap) {
		uint8_t *b = realloc(tp->tx_buf, len);

		if (!b)
			return -ENOMEM;
		tp->tx_buf = b;
		tp->tx_cap = len;
	}
	memcpy(tp->tx_buf, pdu, len);
	tp->tx_len = len;
	tp->tx_pos = 0;
	tp->tx_result = -EINPROGRESS;
	tp->tx_state = len <= tp->sf_max ? TX_SF : TX_FF;
	tp->tx_due = now;
	return 0;
}

int isotp_tx_result(const struct isotp *tp)
{
	return tp->tx_result;
}

/* An FC from the peer while we wait for one (9.6.5). */
static void tx_on_fc(struct isotp *tp, const struct bus_frame *f, fota_us now)
{
	uint32_t gap;

	/* 9.8.3: an FC while not waiting for one is ignored. */
	if (tp->tx_state != TX_WAIT_FC || f->len < 3) {
		tp->st.frames_ignored++;
		return;
	}
	switch (f->data[0] & 0x0F) {
	case FS_CTS:
		tp->tx_bs = f->data[1];
		gap = isotp_stmin_us(f->data[2]);
		tp->tx_gap_us = gap > tp->cfg.stmin_tx_us ? gap : tp->cfg.stmin_tx_us;
		tp->tx_block = 0;
		tp->tx_wft = 0;
		tp->tx_state = TX_CF;
		/* STmin separates CFs; the first CF after an FC may go at once. */
		tp->tx_due = now;
		break;
	case FS_WAIT:
		tp->st.fc_wait_in++;
		/*
		 * Each FC.WAIT restarts N_Bs (9.8.2). The receiver is meant to
		 * stop at N_WFTmax (9.7); we bound it on our side too, so a peer
		 * that waits forever ends the transfer instead of hanging it.
		 */
		if (++tp->tx_wft > tp->cfg.wft_max)
			tx_finish(tp, -EPROTO);
		else
			tp->tx_due = now + FOTA_MS(tp->cfg.n_bs_ms);
		break;
	case FS_OVFLW:
		tx_finish(tp, -EMSGSIZE); /* N_BUFFER_OVFLW */
		break;
	default:
		tx_finish(tp, -EPROTO); /* 9.6.5.2: N_INVALID_FS aborts */
		break;
	}
}

/* ---- receiving side ----------------------------------------------------- */

static void rx_abort(struct isotp *tp, int err)
{
	tp->rx_active = false;
	tp->fc_pending = false;
	tp->rx_err = err;
	tp->st.rx_aborted++;
}

static void queue_fc(struct isotp *tp, uint8_t fs, fota_us now)
{
	tp->fc_pending = true;
	tp->fc_fs = fs;
	tp->fc_due = now;
}

/*
 * A valid SF or FF starts a new reception. 9.8.3: if one was in progress it
 * is terminated (N_UNEXP_PDU) and the new N_PDU processed as its start; a
 * completed PDU nobody took is overwritten.
 */
static void rx_begin(struct isotp *tp)
{
	if (tp->rx_active)
		rx_abort(tp, -EPROTO);
	if (tp->rx_ready) {
		tp->rx_ready = false;
		tp->st.rx_aborted++;
	}
	tp->fc_pending = false;
}

/* An SF's payload: its offset and SF_DL, or false for an invalid SF (9.6.2). */
static bool sf_payload(const struct bus_frame *f, size_t *hdr, size_t *dl)
{
	*hdr = 1;
	*dl = f->data[0] & 0x0F;
	if (f->len > 8) {
		/* 9.6.2.1: CAN_DL > 8 needs the escape; SF_DL is the next byte. */
		if (*dl != 0)
			return false;
		*dl = f->data[1];
		*hdr = 2;
	}
	/* 9.6.2.2: SF_DL 0 or beyond the frame's data: ignore the frame. */
	return *dl != 0 && *dl <= f->len - *hdr;
}

int isotp_sf_parse(const struct bus_frame *f, const uint8_t **pdu, size_t *len)
{
	size_t hdr, dl;

	if (!f->len || (f->flags & BUS_FRAME_RTR) ||
	    ((f->flags & BUS_FRAME_FD) ? !fd_len_valid(f->len) : f->len > 8) ||
	    f->data[0] >> 4 != N_PCI_SF || !sf_payload(f, &hdr, &dl))
		return 0;
	*pdu = f->data + hdr;
	*len = dl;
	return 1;
}

static void rx_on_sf(struct isotp *tp, const struct bus_frame *f)
{
	size_t hdr, dl;

	if (!sf_payload(f, &hdr, &dl))
		goto ignore;
	rx_begin(tp);
	if (dl > tp->cfg.rx_max) {
		tp->rx_err = -EMSGSIZE; /* no FC for an SF: just drop it */
		tp->st.rx_aborted++;
		return;
	}
	memcpy(tp->rx_buf, f->data + hdr, dl);
	tp->rx_len = dl;
	tp->rx_ready = true;
	tp->st.pdus_received++;
	return;
ignore:
	tp->st.frames_ignored++;
}

static void rx_on_ff(struct isotp *tp, const struct bus_frame *f, fota_us now)
{
	size_t hdr = 2, dl, min_dl;

	/* 9.5.3: the FF fills RX_DL, which is at least 8. */
	if (f->len < 8)
		goto ignore;
	dl = (size_t)(f->data[0] & 0x0F) << 8 | f->data[1];
	if (dl == 0) {
		dl = (size_t)f->data[2] << 24 | (size_t)f->data[3] << 16 | (size_t)f->data[4] << 8 |
		     f->data[5];
		hdr = 6;
		/* 9.6.3.2: an escape FF announcing <= 4095 bytes is ignored. */
		if (dl <= FF_DL_12BIT_MAX)
			goto ignore;
	}
	/*
	 * 9.6.3.2: FF_DL below FF_DLmin (8 for RX_DL 8, else RX_DL - 1: what
	 * an SF of that DL could have carried) is invalid: ignore.
	 */
	min_dl = f->len == 8 ? 8 : f->len - 1u;
	if (dl < min_dl)
		goto ignore;
	rx_begin(tp);
	if (dl > tp->cfg.rx_max) {
		/* 9.6.5.1: FF_DL larger than our buffer: FC.OVFLW, no reception */
		tp->rx_err = -EMSGSIZE;
		tp->st.rx_aborted++;
		queue_fc(tp, FS_OVFLW, now);
		return;
	}
	if (dl > tp->rx_cap) {
		uint8_t *b = realloc(tp->rx_buf, dl);

		if (!b) {
			tp->rx_err = -ENOMEM;
			tp->st.rx_aborted++;
			queue_fc(tp, FS_OVFLW, now);
			return;
		}
		tp->rx_buf = b;
		tp->rx_cap = dl;
		tp->st.rx_buf_size = dl;
	}
	tp->rx_dl = f->len;
	tp->rx_len = dl;
	tp->rx_pos = f->len - hdr;
	memcpy(tp->rx_buf, f->data + hdr, tp->rx_pos);
	tp->rx_sn = 1;
	tp->rx_block = 0;
	tp->rx_active = true;
	queue_fc(tp, FS_CTS, now);
	return;
ignore:
	tp->st.frames_ignored++;
}

static void rx_on_cf(struct isotp *tp, const struct bus_frame *f, fota_us now)
{
	size_t left, n;

	/* 9.8.3: a CF while no reception is in progress is ignored. */
	if (!tp->rx_active)
		goto ignore;
	left = tp->rx_len - tp->rx_pos;
	n = tp->rx_dl - 1u;
	/*
	 * 9.5.3: every CF but the last has CAN_DL = RX_DL; the last one may be
	 * shorter but must hold the rest. Others are ignored (not aborted).
	 */
	if (left > n) {
		if (f->len != tp->rx_dl)
			goto ignore;
	} else {
		if (f->len > tp->rx_dl || f->len < left + 1)
			goto ignore;
		n = left;
	}
	if ((f->data[0] & 0x0F) != tp->rx_sn) {
		rx_abort(tp, -EPROTO); /* 9.6.4.3: N_WRONG_SN */
		return;
	}
	memcpy(tp->rx_buf + tp->rx_pos, f->data + 1, n);
	tp->rx_pos += n;
	tp->rx_sn = (tp->rx_sn + 1) & 0x0F;
	if (tp->rx_pos == tp->rx_len) {
		tp->rx_active = false;
		tp->rx_ready = true;
		tp->st.pdus_received++;
	} else if (tp->cfg.bs && ++tp->rx_block == tp->cfg.bs) {
		tp->rx_block = 0;
		queue_fc(tp, FS_CTS, now);
	} else {
		tp->rx_deadline = now + FOTA_MS(tp->cfg.n_cr_ms);
	}
	return;
ignore:
	tp->st.frames_ignored++;
}

int isotp_recv(struct isotp *tp, const uint8_t **pdu, size_t *len)
{
	if (!tp->rx_ready)
		return 0;
	tp->rx_ready = false;
	*pdu = tp->rx_buf;
	*len = tp->rx_len;
	return 1;
}

int isotp_rx_error(struct isotp *tp)
{
	int err = tp->rx_err;

	tp->rx_err = 0;
	return err;
}

bool isotp_rx_busy(const struct isotp *tp)
{
	return tp->rx_active;
}

/* ---- time and the frame pump -------------------------------------------- */

void isotp_tick(struct isotp *tp, fota_us now)
{
	/* 9.8.2: N_Bs expired: abort the transfer (N_TIMEOUT_Bs) */
	if (tp->tx_state == TX_WAIT_FC && now >= tp->tx_due)
		tx_finish(tp, -ETIMEDOUT);
	/* N_Cr runs from our FC (or the last CF) to the next CF (N_TIMEOUT_Cr) */
	if (tp->rx_active && !tp->fc_pending && now >= tp->rx_deadline)
		rx_abort(tp, -ETIMEDOUT);
}

void isotp_input(struct isotp *tp, const struct bus_frame *f, fota_us now)
{
	isotp_tick(tp, now);
	if (f->id != tp->cfg.rx_id || (f->flags & BUS_FRAME_EFF) != tp->cfg.id_flags ||
	    (f->flags & BUS_FRAME_RTR))
		return;
	tp->st.frames_in++;
	if (f->len == 0 || ((f->flags & BUS_FRAME_FD) ? !fd_len_valid(f->len) : f->len > 8)) {
		tp->st.frames_ignored++;
		return;
	}
	switch (f->data[0] >> 4) {
	case N_PCI_SF:
		rx_on_sf(tp, f);
		break;
	case N_PCI_FF:
		rx_on_ff(tp, f, now);
		break;
	case N_PCI_CF:
		rx_on_cf(tp, f, now);
		break;
	case N_PCI_FC:
		tx_on_fc(tp, f, now);
		break;
	default:
		tp->st.frames_ignored++; /* 9.8.3: unknown N_PCItype */
		break;
	}
}

int isotp_output(struct isotp *tp, struct bus_frame *f, fota_us now)
{
	isotp_tick(tp, now);
	/* Our FC first, so the peer's transfer never waits behind ours. */
	if (tp->fc_pending) {
		build_fc(tp, f);
		tp->fc_pending = false;
		if (tp->rx_active)
			tp->rx_deadline = now + FOTA_MS(tp->cfg.n_cr_ms);
		tp->st.frames_out++;
		return 1;
	}
	switch (tp->tx_state) {
	case TX_SF:
		build_sf(tp, f);
		tx_finish(tp, 0);
		break;
	case TX_FF:
		build_ff(tp, f);
		tp->tx_sn = 1;
		tp->tx_state = TX_WAIT_FC;
		tp->tx_due = now + FOTA_MS(tp->cfg.n_bs_ms);
		break;
	case TX_CF:
		if (now < tp->tx_due)
			return 0;
		build_cf(tp, f);
		if (tp->tx_pos == tp->tx_len) {
			tx_finish(tp, 0);
		} else if (tp->tx_bs && ++tp->tx_block == tp->tx_bs) {
			tp->tx_state = TX_WAIT_FC;
			tp->tx_due = now + FOTA_MS(tp->cfg.n_bs_ms);
		} else {
			tp->tx_due = now + tp->tx_gap_us;
		}
		break;
	default:
		return 0;
	}
	tp->st.frames_out++;
	return 1;
}

fota_us isotp_deadline(const struct isotp *tp)
{
	fota_us d = FOTA_NEVER;

	if (tp->fc_pending)
		d = tp->fc_due;
	else if (tp->rx_active)
		d = tp->rx_deadline;
	if (tp->tx_state != TX_IDLE)
		d = fota_min_deadline(d, tp->tx_due);
	return d;
}
