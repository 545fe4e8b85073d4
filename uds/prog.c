// SPDX-License-Identifier: MIT
/*
 * UDS programming-sequence engine (see uds/prog.h for the order of services).
 * ISO 14229-1 §14.4: TransferData blocks carry a blockSequenceCounter that
 * starts at 0x01 and wraps from 0xFF to 0x00; a block whose answer was lost is
 * sent again with the same counter, which the server acknowledges without
 * writing twice (§14.4.2.3).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>
#include "uds/key.h"
#include "uds/prog.h"

const char *uds_prog_step_str(enum uds_prog_step step)
{
	switch (step) {
	case UDS_PROG_STEP_NONE:
		return "None";
	case UDS_PROG_STEP_IDENTIFY_BEFORE:
		return "IdentifyBefore";
	case UDS_PROG_STEP_IDENTIFY_AFTER:
		return "IdentifyAfter";
	case UDS_PROG_STEP_EXTENDED_SESSION:
		return "ExtendedSession";
	case UDS_PROG_STEP_DTC_OFF:
		return "ControlDTCSetting";
	case UDS_PROG_STEP_COMM_CONTROL:
		return "CommunicationControl";
	case UDS_PROG_STEP_PROGRAMMING_SESSION:
		return "ProgrammingSession";
	case UDS_PROG_STEP_REQUEST_SEED:
		return "RequestSeed";
	case UDS_PROG_STEP_SEND_KEY:
		return "SendKey";
	case UDS_PROG_STEP_FINGERPRINT:
		return "WriteFingerprint";
	case UDS_PROG_STEP_ERASE:
		return "EraseMemory";
	case UDS_PROG_STEP_REQUEST_DOWNLOAD:
		return "RequestDownload";
	case UDS_PROG_STEP_TRANSFER_DATA:
		return "TransferData";
	case UDS_PROG_STEP_TRANSFER_EXIT:
		return "RequestTransferExit";
	case UDS_PROG_STEP_CHECK:
		return "CheckMemory";
	case UDS_PROG_STEP_RESET:
		return "ECUReset";
	case UDS_PROG_STEP_DONE:
		return "Done";
	}
	return "unknown step";
}

void uds_prog_init(struct uds_prog *p, const struct uds_prog_cfg *cfg,
		   const struct uds_client_cfg *ccfg)
{
	memset(p, 0, sizeof(*p));
	if (cfg)
		p->cfg = *cfg;
	if (!p->cfg.comm_control_type)
		p->cfg.comm_control_type = UDS_CC_DISABLE_RX_AND_TX;
	if (!p->cfg.comm_type)
		p->cfg.comm_type = UDS_CC_NORMAL_COMMUNICATION;
	if (!p->cfg.erase_routine)
		p->cfg.erase_routine = 0xFF00;
	if (!p->cfg.check_routine)
		p->cfg.check_routine = 0x0202;
	if (!p->cfg.alfid)
		p->cfg.alfid = 0x44;
	if (!p->cfg.erase_alfid)
		p->cfg.erase_alfid = p->cfg.alfid;
	if (!p->cfg.programming_session)
		p->cfg.programming_session = UDS_SESSION_PROGRAMMING;
	if (!p->cfg.transfer_retries)
		p->cfg.transfer_retries = 1;
	if (p->cfg.no_transfer_retry)
		p->cfg.transfer_retries = 0;
	uds_client_init(&p->client, ccfg);
	p->res.err = -ENOENT;
	p->res.segment = -1;
}

struct uds_client *uds_prog_client(struct uds_prog *p)
{
	return &p->client;
}

static bool per_segment(enum uds_prog_step s)
{
	return s == UDS_PROG_STEP_ERASE || s == UDS_PROG_STEP_REQUEST_DOWNLOAD ||
	       s == UDS_PROG_STEP_TRANSFER_DATA || s == UDS_PROG_STEP_TRANSFER_EXIT;
}

static void emit(struct uds_prog *p, struct uds_prog_event *ev, fota_us now)
{
	if (!p->cfg.on_event)
		return;
	ev->step = p->step;
	ev->segment = -1;
	if (p->step == UDS_PROG_STEP_ERASE && p->cfg.nerase_ranges) {
		ev->addr = p->cfg.erase_ranges[p->ierase].addr;
		ev->len = p->cfg.erase_ranges[p->ierase].len;
	} else if (per_segment(p->step) && p->iseg < p->nseg) {
		ev->segment = (int)p->iseg;
		ev->addr = p->seg[p->iseg].addr;
		ev->len = p->seg[p->iseg].len;
	}
	ev->now = now;
	p->cfg.on_event(p->cfg.event_ctx, ev);
}

static void emit_simple(struct uds_prog *p, enum uds_prog_event_type type, int err, uint8_t nrc,
			fota_us now)
{
	struct uds_prog_event ev = { .type = type, .err = err, .nrc = nrc };

	ev.pending = p->client.res.pending;
	emit(p, &ev, now);
}

static void fail(struct uds_prog *p, int err, uint8_t nrc, fota_us now, const char *msg)
{
	p->res.err = err;
	p->res.step = p->step;
	p->res.sid = p->buf ? p->buf[0] : 0;
	p->res.nrc = nrc;
	p->res.segment = per_segment(p->step) ? (int)p->iseg : -1;
	snprintf(p->res.msg, sizeof(p->res.msg), "%s", msg ? msg : "");
	p->running = false;
	emit_simple(p, UDS_PROG_EV_STEP_DONE, err, nrc, now);
}

static int reserve(struct uds_prog *p, size_t n)
{
	uint8_t *b;

	if (n <= p->buf_cap)
		return 0;
	b = realloc(p->buf, n);
	if (!b)
		return -ENOMEM;
	p->buf = b;
	p->buf_cap = n;
	return 0;
}

/* Send p->buf[0..len) as the request of step s. */
static void send_req(struct uds_prog *p, enum uds_prog_step s, size_t len, fota_us now)
{
	int err;

	p->step = s;
	if (p->cancel) {
		/* A safe point: the previous request is answered, the next not sent. */
		fail(p, -ECANCELED, 0, now, "cancelled");
		return;
	}
	if (s != UDS_PROG_STEP_TRANSFER_DATA || p->td_first)
		emit_simple(p, UDS_PROG_EV_STEP_START, 0, 0, now);
	p->td_first = false;
	err = uds_client_start(&p->client, p->buf, len, now);
	if (err)
		fail(p, err, 0, now, "request not accepted by the client");
}

static void issue(struct uds_prog *p, enum uds_prog_step s, fota_us now);
static void first_step(struct uds_prog *p, fota_us now);

static void issue_transfer(struct uds_prog *p, fota_us now)
{
	const struct uds_segment *sg = &p->seg[p->iseg];
	uint32_t left = sg->len - p->offset;

	p->buf[0] = UDS_SID_TRANSFER_DATA;
	p->buf[1] = p->bsc;
	if (p->enc) {
		/* The next piece of the stream; a resend repeats p->buf as it is. */
		long n = fota_compress_enc_read(p->enc, p->buf + 2, p->block_data);

		if (n <= 0) {
			p->step = UDS_PROG_STEP_TRANSFER_DATA;
			fail(p, -EIO, 0, now, "compression failed");
			return;
		}
		p->chunk = (uint32_t)n;
	} else {
		p->chunk = left < p->block_data ? left : p->block_data;
		memcpy(p->buf + 2, sg->data + p->offset, p->chunk);
	}
	p->retries = 0;
	send_req(p, UDS_PROG_STEP_TRANSFER_DATA, 2 + (size_t)p->chunk, now);
}

static void issue(struct uds_prog *p, enum uds_prog_step s, fota_us now)
{
	const struct uds_segment *sg = p->iseg < p->nseg ? &p->seg[p->iseg] : NULL;
	uint8_t opt[16];
	int n = 0;

	switch (s) {
	case UDS_PROG_STEP_EXTENDED_SESSION:
		p->buf[0] = UDS_SID_DIAGNOSTIC_SESSION_CONTROL;
		p->buf[1] = UDS_SESSION_EXTENDED;
		n = 2;
		break;
	case UDS_PROG_STEP_DTC_OFF:
		p->buf[0] = UDS_SID_CONTROL_DTC_SETTING;
		p->buf[1] = UDS_DTC_SETTING_OFF;
		n = 2;
		break;
	case UDS_PROG_STEP_COMM_CONTROL:
		p->buf[0] = UDS_SID_COMMUNICATION_CONTROL;
		p->buf[1] = p->cfg.comm_control_type;
		p->buf[2] = p->cfg.comm_type;
		n = 3;
		break;
	case UDS_PROG_STEP_PROGRAMMING_SESSION:
		p->buf[0] = UDS_SID_DIAGNOSTIC_SESSION_CONTROL;
		p->buf[1] = p->cfg.programming_session;
		n = 2;
		break;
	case UDS_PROG_STEP_REQUEST_SEED:
		p->buf[0] = UDS_SID_SECURITY_ACCESS;
		p->buf[1] = p->cfg.security_level;
		n = 2;
		break;
	case UDS_PROG_STEP_FINGERPRINT:
		if (reserve(p, 3 + p->cfg.fingerprint_len)) {
			n = -ENOMEM;
			break;
		}
		p->buf[0] = UDS_SID_WRITE_DATA_BY_IDENTIFIER;
		uds_put_be(p->buf + 1, p->cfg.fingerprint_did, 2);
		memcpy(p->buf + 3, p->cfg.fingerprint, p->cfg.fingerprint_len);
		n = (int)(3 + p->cfg.fingerprint_len);
		break;
	case UDS_PROG_STEP_ERASE:
		if (p->cfg.nerase_ranges)
			sg = &p->cfg.erase_ranges[p->ierase];
		if (p->cfg.erase_no_record) {
			n = uds_encode_routine(p->buf, p->buf_cap, UDS_ROUTINE_START,
					       p->cfg.erase_routine, NULL, 0);
			break;
		}
		/* eraseMemory option record: alfid, memoryAddress, memorySize. */
		opt[0] = p->cfg.erase_alfid;
		n = uds_encode_addr_len(opt + 1, sizeof(opt) - 1, p->cfg.erase_alfid, sg->addr,
					sg->len);
		if (n < 0)
			break;
		n = uds_encode_routine(p->buf, p->buf_cap, UDS_ROUTINE_START, p->cfg.erase_routine,
				       opt, (size_t)n + 1);
		break;
	case UDS_PROG_STEP_REQUEST_DOWNLOAD:
		n = uds_encode_request_download(p->buf, p->buf_cap, p->cfg.dfi, p->cfg.alfid,
						sg->addr, sg->len);
		break;
	case UDS_PROG_STEP_TRANSFER_DATA:
		issue_transfer(p, now);
		return;
	case UDS_PROG_STEP_TRANSFER_EXIT:
		p->buf[0] = UDS_SID_REQUEST_TRANSFER_EXIT;
		n = 1;
		break;
	case UDS_PROG_STEP_CHECK:
		uds_put_be(opt, p->crc, 4);
		n = uds_encode_routine(p->buf, p->buf_cap, UDS_ROUTINE_START, p->cfg.check_routine,
				       opt, p->cfg.check_no_crc ? 0 : 4);
		break;
	case UDS_PROG_STEP_RESET:
		p->buf[0] = UDS_SID_ECU_RESET;
		p->buf[1] = p->cfg.reset_type;
		n = 2;
		break;
	default:
		break;
	}
	if (n <= 0) {
		p->step = s;
		fail(p, n < 0 ? n : -EINVAL, 0, now, "cannot encode the request");
		return;
	}
	send_req(p, s, (size_t)n, now);
}

static void finish_done(struct uds_prog *p)
{
	p->step = UDS_PROG_STEP_DONE;
	p->res.err = 0;
	p->res.step = UDS_PROG_STEP_DONE;
	p->res.segment = -1;
	p->running = false;
}

static bool identifying(const struct uds_prog *p)
{
	return p->running && (p->step == UDS_PROG_STEP_IDENTIFY_BEFORE ||
			      p->step == UDS_PROG_STEP_IDENTIFY_AFTER);
}

/* (Re)start the identification read of the current identify step. */
static void start_ident(struct uds_prog *p, fota_us now)
{
	bool after = p->step == UDS_PROG_STEP_IDENTIFY_AFTER;
	int err;

	p->buf[0] = UDS_SID_READ_DATA_BY_IDENTIFIER;
	err = uds_rdbi_start(&p->ident[after], &p->client, p->cfg.identify, p->cfg.nidentify, 0,
			     now);
	if (err)
		fail(p, err, 0, now, "request not accepted by the client");
}

/* The sequence ended well: read the identification again, or done. */
static void finish_ok(struct uds_prog *p, fota_us now)
{
	if (!p->cfg.nidentify) {
		finish_done(p);
		return;
	}
	p->step = UDS_PROG_STEP_IDENTIFY_AFTER;
	p->ident_until = now + FOTA_MS(p->cfg.identify_wait_ms ? p->cfg.identify_wait_ms :
								 UDS_PROG_IDENTIFY_WAIT_MS);
	p->ident_tries = 0;
	p->ident_retry_at = 0;
	emit_simple(p, UDS_PROG_EV_STEP_START, 0, 0, now);
	start_ident(p, now);
}

/* The first step of segment p->iseg, or what follows the last segment. */
static void next_segment(struct uds_prog *p, fota_us now)
{
	bool by_range = p->cfg.erase && p->cfg.nerase_ranges;

	if (by_range && p->ierase < p->cfg.nerase_ranges) {
		issue(p, UDS_PROG_STEP_ERASE, now);
	} else if (p->iseg < p->nseg) {
		issue(p,
		      p->cfg.erase && !by_range ? UDS_PROG_STEP_ERASE :
						  UDS_PROG_STEP_REQUEST_DOWNLOAD,
		      now);
	} else if (p->cfg.check) {
		issue(p, UDS_PROG_STEP_CHECK, now);
	} else if (p->cfg.reset_type != UDS_RESET_NONE) {
		issue(p, UDS_PROG_STEP_RESET, now);
	} else {
		finish_ok(p, now);
	}
}

/* SecurityAccess done (or none): the fingerprint if any, then the first segment. */
static void unlocked(struct uds_prog *p, fota_us now)
{
	if (p->cfg.fingerprint_len)
		issue(p, UDS_PROG_STEP_FINGERPRINT, now);
	else
		next_segment(p, now);
}

/* SendKey with the key computed (now, or later through uds_prog_key_done()). */
static void send_key(struct uds_prog *p, const uint8_t *key, size_t klen, fota_us now)
{
	if (reserve(p, 2 + klen)) {
		fail(p, -ENOMEM, 0, now, NULL);
		return;
	}
	p->buf[0] = UDS_SID_SECURITY_ACCESS;
	p->buf[1] = p->cfg.security_level + 1;
	memcpy(p->buf + 2, key, klen);
	send_req(p, UDS_PROG_STEP_SEND_KEY, 2 + klen, now);
}

static void key_failed(struct uds_prog *p, int err, fota_us now)
{
	p->buf[0] = UDS_SID_SECURITY_ACCESS;
	fail(p, err, 0, now, "cannot compute the key");
}

static void after_seed(struct uds_prog *p, const struct uds_result *r, fota_us now)
{
	uint8_t key[UDS_KEY_MAX];
	const uint8_t *seed;
	size_t n, klen = 0;
	int err;

	/*
	 * ISO 14229-1 §10.4.2: 67 <level> <securitySeed...>. A response with
	 * no seed bytes is malformed, not "unlocked": only a seed of zero
	 * bytes means the level is already unlocked (uds_seed_is_zero()).
	 */
	if (r->len < 3) {
		fail(p, -EPROTO, 0, now, "seed response has no seed");
		return;
	}
	seed = r->rsp + 2;
	n = r->len - 2;
	if (uds_seed_is_zero(seed, n)) {
		unlocked(p, now);
		return;
	}
	p->step = UDS_PROG_STEP_SEND_KEY;
	err = p->cfg.compute_key(p->cfg.key_ctx, p->cfg.security_level, seed, n, key, sizeof(key),
				 &klen);
	if (err == -EINPROGRESS) {
		p->key_wait = true; /* the caller computes it off the loop: uds_prog_key_done() */
		return;
	}
	if (!err && (klen == 0 || klen > sizeof(key)))
		err = -EINVAL;
	if (err) {
		key_failed(p, err, now);
		return;
	}
	send_key(p, key, klen, now);
	memset(key, 0, sizeof(key));
}

void uds_prog_key_done(struct uds_prog *p, int err, const uint8_t *key, size_t klen, fota_us now)
{
	if (!p->running || !p->key_wait)
		return;
	p->key_wait = false;
	if (p->cancel) {
		fail(p, -ECANCELED, 0, now, "cancelled");
		return;
	}
	if (!err && (klen == 0 || klen > UDS_KEY_MAX))
		err = -EINVAL;
	if (err) {
		key_failed(p, err, now);
		return;
	}
	send_key(p, key, klen, now);
}

/* The longest stream of a segment: its bytes, or the codecs' worst case on incompressible data. */
static uint32_t seg_stream_max(const struct uds_prog *p, const struct uds_segment *sg)
{
	uint64_t n = sg->len;

	if (p->cfg.compression != COMPRESS_NONE)
		n += n / 64 + 64;
	return n > UINT32_MAX ? UINT32_MAX : (uint32_t)n;
}

static void after_download(struct uds_prog *p, const struct uds_result *r, fota_us now)
{
	uint32_t max;

	if (uds_decode_request_download_rsp(r->rsp, r->len, &max)) {
		fail(p, -EPROTO, 0, now, "malformed RequestDownload response");
		return;
	}
	if (p->cfg.max_block_len && p->cfg.max_block_len < max)
		max = p->cfg.max_block_len;
	if (max < 3) {
		fail(p, -EMSGSIZE, 0, now, "block length leaves no room for data");
		return;
	}
	/* maxNumberOfBlockLength counts the SID and the counter (ISO 14229-1 §14.2.2.3). */
	p->block_data = max - 2;
	/* No block beyond what the segment needs (compressed: the codecs' worst case). */
	if (p->block_data > seg_stream_max(p, &p->seg[p->iseg]))
		p->block_data = seg_stream_max(p, &p->seg[p->iseg]);
	if (reserve(p, 2 + (size_t)p->block_data)) {
		fail(p, -ENOMEM, 0, now, NULL);
		return;
	}
	if (p->cfg.compression != COMPRESS_NONE) {
		int err = 0;

		if (!p->enc)
			p->enc =
				fota_compress_enc_new(p->cfg.compression, p->cfg.compression_level);
		if (!p->enc)
			err = -errno;
		else
			err = fota_compress_enc_start(p->enc, p->seg[p->iseg].data,
						      p->seg[p->iseg].len);
		if (err) {
			fail(p, err, 0, now, "cannot start the compressor");
			return;
		}
	}
	p->offset = 0;
	p->td_first = true;
	p->bsc = 1;
	issue(p, UDS_PROG_STEP_TRANSFER_DATA, now);
}

static void after_transfer(struct uds_prog *p, fota_us now)
{
	const struct uds_segment *sg = &p->seg[p->iseg];
	struct uds_prog_event ev = { .type = UDS_PROG_EV_PROGRESS };

	/* Compressed: the block carried what the encoder took until it was cut. */
	uint32_t took =
		p->enc ? (uint32_t)fota_compress_enc_consumed(p->enc) - p->offset : p->chunk;
	bool more = p->enc ? !fota_compress_enc_done(p->enc) : p->offset + took < sg->len;

	/* The CRC of the check routine is over the uncompressed bytes. */
	p->crc = (uint32_t)crc32(p->crc, sg->data + p->offset, took);
	p->offset += took;
	p->done += took;
	ev.bsc = p->bsc;
	ev.done = p->done;
	ev.total = p->total;
	emit(p, &ev, now);
	if (more) {
		p->bsc++; /* 0xFF wraps to 0x00 (ISO 14229-1 §14.4.2.1) */
		issue_transfer(p, now);
		return;
	}
	emit_simple(p, UDS_PROG_EV_STEP_DONE, 0, 0, now);
	issue(p, UDS_PROG_STEP_TRANSFER_EXIT, now);
}

/* The request of p->step was answered positively: go on. */
static void step_ok(struct uds_prog *p, const struct uds_result *r, fota_us now)
{
	if (p->step != UDS_PROG_STEP_TRANSFER_DATA)
		emit_simple(p, UDS_PROG_EV_STEP_DONE, 0, 0, now);
	switch (p->step) {
	case UDS_PROG_STEP_EXTENDED_SESSION:
		if (p->cfg.dtc_off) {
			issue(p, UDS_PROG_STEP_DTC_OFF, now);
			break;
		}
		/* fall through */
	case UDS_PROG_STEP_DTC_OFF:
		if (p->cfg.comm_control) {
			issue(p, UDS_PROG_STEP_COMM_CONTROL, now);
			break;
		}
		/* fall through */
	case UDS_PROG_STEP_COMM_CONTROL:
		issue(p, UDS_PROG_STEP_PROGRAMMING_SESSION, now);
		break;
	case UDS_PROG_STEP_PROGRAMMING_SESSION:
		if (p->cfg.security_level)
			issue(p, UDS_PROG_STEP_REQUEST_SEED, now);
		else
			unlocked(p, now);
		break;
	case UDS_PROG_STEP_REQUEST_SEED:
		after_seed(p, r, now);
		break;
	case UDS_PROG_STEP_SEND_KEY:
		unlocked(p, now);
		break;
	case UDS_PROG_STEP_FINGERPRINT:
		next_segment(p, now);
		break;
	case UDS_PROG_STEP_ERASE:
		if (p->cfg.nerase_ranges) {
			p->ierase++;
			next_segment(p, now);
		} else {
			issue(p, UDS_PROG_STEP_REQUEST_DOWNLOAD, now);
		}
		break;
	case UDS_PROG_STEP_REQUEST_DOWNLOAD:
		after_download(p, r, now);
		break;
	case UDS_PROG_STEP_TRANSFER_DATA:
		after_transfer(p, now);
		break;
	case UDS_PROG_STEP_TRANSFER_EXIT:
		p->iseg++;
		next_segment(p, now);
		break;
	case UDS_PROG_STEP_CHECK:
		/* routineStatusRecord: 0x00 = the ECU's CRC matches ours. */
		if (r->len >= 5 && r->rsp[4] != 0x00) {
			char msg[64];

			snprintf(msg, sizeof(msg),
				 "ECU reports CRC mismatch (routine status 0x%02x)", r->rsp[4]);
			fail(p, -EREMOTEIO, 0, now, msg);
			break;
		}
		if (p->cfg.reset_type != UDS_RESET_NONE)
			issue(p, UDS_PROG_STEP_RESET, now);
		else
			finish_ok(p, now);
		break;
	case UDS_PROG_STEP_RESET:
		finish_ok(p, now);
		break;
	default:
		break;
	}
}

/* Look at the client after every input: act on a finished request. */
static void poll_client(struct uds_prog *p, fota_us now)
{
	struct uds_result r;
	bool was_first;
	int err;

	if (!p->running || p->key_wait)
		return; /* the seed's answer is handled; the key is not there yet */
	err = uds_client_result(&p->client, &r);
	if (err == -EINPROGRESS)
		return;
	if (r.pending) {
		struct uds_prog_event ev = { .type = UDS_PROG_EV_PENDING, .pending = r.pending };

		emit(p, &ev, now);
	}
	if (p->cancel) {
		fail(p, -ECANCELED, 0, now, "cancelled");
		return;
	}
	if (err == -ETIMEDOUT && p->first && now < p->t_start + FOTA_MS(p->cfg.wait_ecu_ms)) {
		/* Not listening yet: the same request again (P2 already passed). */
		p->first_tries++;
		err = uds_client_start(&p->client, p->client.req, p->client.req_len, now);
		if (err)
			fail(p, err, 0, now, "request not accepted by the client");
		return;
	}
	was_first = p->first;
	p->first = false;
	if (err == -ETIMEDOUT && p->step == UDS_PROG_STEP_TRANSFER_DATA &&
	    p->retries < p->cfg.transfer_retries) {
		struct uds_prog_event ev = { .type = UDS_PROG_EV_RETRY };

		/* Same block, same counter: the ECU acknowledges a repeat without rewriting. */
		p->retries++;
		ev.attempt = p->retries;
		ev.bsc = p->bsc;
		emit(p, &ev, now);
		err = uds_client_start(&p->client, p->buf, 2 + (size_t)p->chunk, now);
		if (err)
			fail(p, err, 0, now, "request not accepted by the client");
		return;
	}
	if (err) {
		char msg[64] = "";

		if (err == -ETIMEDOUT && p->step == UDS_PROG_STEP_TRANSFER_DATA && p->retries)
			snprintf(msg, sizeof(msg), "no response to block 0x%02x after %u retries",
				 p->bsc, p->retries);
		else if (err == -ETIMEDOUT && was_first && p->first_tries)
			snprintf(msg, sizeof(msg), "no response in %.1f s (%u tries)",
				 (double)(now - p->t_start) / 1e6, p->first_tries + 1);
		else if (err == -EPROTO)
			snprintf(msg, sizeof(msg), "unexpected response");
		fail(p, err, r.nrc, now, msg);
		return;
	}
	step_ok(p, &r, now);
}

int uds_prog_start(struct uds_prog *p, const struct uds_segment *seg, size_t nseg, fota_us now)
{
	uint64_t total = 0;

	if (p->running)
		return -EALREADY;
	if (!seg || !nseg || !uds_alfid_valid(p->cfg.alfid) ||
	    (p->cfg.erase && !uds_alfid_valid(p->cfg.erase_alfid)))
		return -EINVAL;
	if (p->cfg.security_level && (!p->cfg.compute_key || !(p->cfg.security_level & 1)))
		return -EINVAL;
	for (size_t i = 0; i < p->cfg.nerase_ranges; i++)
		if (!p->cfg.erase_ranges[i].len ||
		    (uint64_t)p->cfg.erase_ranges[i].addr + p->cfg.erase_ranges[i].len > 1ull << 32)
			return -EINVAL;
	for (size_t i = 0; i < nseg; i++) {
		if (!seg[i].len || !seg[i].data || (uint64_t)seg[i].addr + seg[i].len > 1ull << 32)
			return -EINVAL;
		total += seg[i].len;
	}
	if (p->cfg.nidentify > UDS_RDBI_MAX || (p->cfg.nidentify && !p->cfg.identify))
		return -EINVAL;
	for (size_t e = 0; e < p->cfg.nexpect; e++) {
		size_t i = 0;

		while (i < p->cfg.nidentify && p->cfg.identify[i] != p->cfg.expect[e].did)
			i++;
		if (i == p->cfg.nidentify || !p->cfg.expect[e].value)
			return -EINVAL;
	}
	if (reserve(p, 64))
		return -ENOMEM;
	p->seg = seg;
	p->nseg = nseg;
	p->iseg = 0;
	p->ierase = 0;
	p->total = total;
	p->done = 0;
	p->crc = (uint32_t)crc32(0, NULL, 0);
	p->cancel = false;
	p->running = true;
	p->key_wait = false;
	p->first = true;
	p->first_tries = 0;
	p->t_start = now;
	memset(&p->res, 0, sizeof(p->res));
	p->res.err = -EINPROGRESS;
	p->res.segment = -1;
	memset(p->ident_read, 0, sizeof(p->ident_read));
	p->ident_retry_at = 0;
	if (p->cfg.nidentify) {
		p->step = UDS_PROG_STEP_IDENTIFY_BEFORE;
		emit_simple(p, UDS_PROG_EV_STEP_START, 0, 0, now);
		start_ident(p, now);
		return 0;
	}
	first_step(p, now);
	return 0;
}

/* The first request of the sequence proper. */
static void first_step(struct uds_prog *p, fota_us now)
{
	if (p->cfg.extended_session)
		issue(p, UDS_PROG_STEP_EXTENDED_SESSION, now);
	else if (p->cfg.dtc_off)
		issue(p, UDS_PROG_STEP_DTC_OFF, now);
	else if (p->cfg.comm_control)
		issue(p, UDS_PROG_STEP_COMM_CONTROL, now);
	else
		issue(p, UDS_PROG_STEP_PROGRAMMING_SESSION, now);
}

/* "ECU reports F189 = X, expected Y" for the first expected value that differs; false if none. */
static bool expect_mismatch(const struct uds_prog *p, char *msg, size_t size)
{
	const struct uds_rdbi *r = &p->ident[1];

	for (size_t e = 0; e < p->cfg.nexpect; e++) {
		const struct uds_prog_expect *x = &p->cfg.expect[e];
		char val[2 * UDS_CLIENT_RSP_MAX + 8] = "(not reported)";

		for (size_t i = 0; i < r->n; i++) {
			const uint8_t *d;
			const struct uds_rdbi_item *it = uds_rdbi_item(r, i, &d);

			if (it->did != x->did)
				continue;
			if (!it->err)
				uds_did_format(d, it->len, val, sizeof(val));
			else if (it->err == -ENOENT)
				snprintf(val, sizeof(val), "(not supported)");
			else if (it->nrc)
				snprintf(val, sizeof(val), "(refused: %s, NRC 0x%02X)",
					 uds_nrc_str(it->nrc), it->nrc);
			break;
		}
		if (strcmp(val, x->value)) {
			snprintf(msg, size, "ECU reports %04X = %s, expected %s", x->did, val,
				 x->value);
			return true;
		}
	}
	return false;
}

/* Busy answers while the application starts (ISO 14229-1 Table A.1: 0x21, 0x22). */
static bool ident_busy(const struct uds_rdbi *r)
{
	for (size_t i = 0; i < r->n; i++)
		if (r->it[i].nrc == UDS_NRC_BUSY_REPEAT_REQUEST ||
		    r->it[i].nrc == UDS_NRC_CONDITIONS_NOT_CORRECT)
			return true;
	return false;
}

/* After every call during an identify step: act on the read's end. */
static void poll_ident(struct uds_prog *p, fota_us now)
{
	bool after = p->step == UDS_PROG_STEP_IDENTIFY_AFTER;
	char msg[sizeof(p->res.msg)];
	int err;

	if (!identifying(p))
		return;
	if (p->ident_retry_at) {
		if (p->cancel) {
			fail(p, -ECANCELED, 0, now, "cancelled");
		} else if (now >= p->ident_retry_at) {
			p->ident_retry_at = 0;
			p->ident_tries++;
			start_ident(p, now);
		}
		return;
	}
	err = uds_rdbi_result(&p->ident[after]);
	if (err == -EINPROGRESS)
		return;
	if (p->cancel) {
		fail(p, -ECANCELED, 0, now, "cancelled");
		return;
	}
	if (!after) {
		/* Best effort: a bootloader may know none of them, or not answer. */
		p->ident_read[0] = true;
		emit_simple(p, UDS_PROG_EV_STEP_DONE, 0, 0, now);
		first_step(p, now);
		return;
	}
	/* The application may still be starting: ask again until ident_until. */
	if ((err == -ETIMEDOUT || (!err && ident_busy(&p->ident[1]))) && now < p->ident_until) {
		if (err == -ETIMEDOUT) {
			p->ident_tries++;
			start_ident(p, now); /* P2 has passed already */
		} else {
			p->ident_retry_at = now + FOTA_MS(100);
		}
		return;
	}
	p->ident_read[1] = true;
	if (err) {
		p->buf[0] = UDS_SID_READ_DATA_BY_IDENTIFIER;
		snprintf(msg, sizeof(msg), "no answer from the ECU after programming in %.1f s",
			 (double)(now -
				  (p->ident_until - FOTA_MS(p->cfg.identify_wait_ms ?
								    p->cfg.identify_wait_ms :
								    UDS_PROG_IDENTIFY_WAIT_MS))) /
				 1e6);
		fail(p, err, 0, now, msg);
		return;
	}
	if (expect_mismatch(p, msg, sizeof(msg))) {
		p->buf[0] = UDS_SID_READ_DATA_BY_IDENTIFIER;
		fail(p, -EBADMSG, 0, now, msg);
		return;
	}
	emit_simple(p, UDS_PROG_EV_STEP_DONE, 0, 0, now);
	finish_done(p);
}

const struct uds_rdbi *uds_prog_identity(const struct uds_prog *p, bool after)
{
	return p->ident_read[after] ? &p->ident[after] : NULL;
}

void uds_prog_input(struct uds_prog *p, const uint8_t *pdu, size_t len, fota_us now)
{
	if (identifying(p)) {
		if (!p->ident_retry_at)
			uds_rdbi_input(&p->ident[p->step == UDS_PROG_STEP_IDENTIFY_AFTER], pdu, len,
				       now);
		poll_ident(p, now);
		return;
	}
	uds_client_input(&p->client, pdu, len, now);
	poll_client(p, now);
}

void uds_prog_tick(struct uds_prog *p, fota_us now)
{
	if (identifying(p)) {
		if (!p->ident_retry_at)
			uds_rdbi_tick(&p->ident[p->step == UDS_PROG_STEP_IDENTIFY_AFTER], now);
		poll_ident(p, now);
		return;
	}
	uds_client_tick(&p->client, now);
	poll_client(p, now);
}

int uds_prog_output(struct uds_prog *p, const uint8_t **pdu, size_t *len, fota_us now)
{
	int r;

	if (!p->running)
		return 0;
	if (identifying(p)) {
		r = p->ident_retry_at ?
			    0 :
			    uds_rdbi_output(&p->ident[p->step == UDS_PROG_STEP_IDENTIFY_AFTER], pdu,
					    len, now);
		poll_ident(p, now);
		return r;
	}
	r = uds_client_output(&p->client, pdu, len, now);
	poll_client(p, now);
	return r;
}

void uds_prog_sent(struct uds_prog *p, fota_us now)
{
	if (identifying(p))
		uds_rdbi_sent(&p->ident[p->step == UDS_PROG_STEP_IDENTIFY_AFTER], now);
	else
		uds_client_sent(&p->client, now);
}

fota_us uds_prog_deadline(const struct uds_prog *p)
{
	if (!p->running)
		return FOTA_NEVER;
	if (identifying(p))
		return p->ident_retry_at ?
			       p->ident_retry_at :
			       uds_rdbi_deadline(
				       &p->ident[p->step == UDS_PROG_STEP_IDENTIFY_AFTER]);
	return uds_client_deadline(&p->client);
}

int uds_prog_result(const struct uds_prog *p, struct uds_prog_result *res)
{
	if (res)
		*res = p->res;
	return p->res.err;
}

const char *uds_prog_strerror(const struct uds_prog_result *r, char *buf, size_t size)
{
	const char *step = uds_prog_step_str(r->step);

	if (r->err == 0)
		snprintf(buf, size, "success");
	else if (r->err == -EBADMSG && r->step == UDS_PROG_STEP_IDENTIFY_AFTER)
		snprintf(buf, size, "%s", r->msg); /* ECU reports F189 = X, expected Y */
	else if (r->nrc)
		snprintf(buf, size, "%s refused: %s (NRC 0x%02X)", step, uds_nrc_str(r->nrc),
			 r->nrc);
	else if (r->err == -ETIMEDOUT && !r->msg[0])
		snprintf(buf, size, "%s: no response (timeout)", step);
	else if (r->msg[0])
		snprintf(buf, size, "%s: %s", step, r->msg);
	else
		snprintf(buf, size, "%s: %s", step, strerror(-r->err));
	return buf;
}

void uds_prog_progress(const struct uds_prog *p, uint64_t *done, uint64_t *total)
{
	if (done)
		*done = p->done;
	if (total)
		*total = p->total;
}

void uds_prog_cancel(struct uds_prog *p)
{
	if (!p->running)
		return;
	p->cancel = true;
	if (p->key_wait) {
		/* Waiting for a key: nothing outstanding, stop here. */
		p->key_wait = false;
		fail(p, -ECANCELED, 0, 0, "cancelled");
	} else if (identifying(p) && p->ident_retry_at) {
		p->ident_retry_at = 0;
		fail(p, -ECANCELED, 0, 0, "cancelled");
	} else if (p->client.state == UDS_CLIENT_SEND) {
		/* Nothing on the wire yet: stop right here. */
		uds_client_cancel(&p->client);
		fail(p, -ECANCELED, 0, 0, "cancelled");
	}
}

void uds_prog_release(struct uds_prog *p)
{
	fota_compress_enc_free(p->enc);
	p->enc = NULL;
	free(p->buf);
	p->buf = NULL;
	p->buf_cap = 0;
	p->running = false;
}
