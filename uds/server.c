// SPDX-License-Identifier: MIT
/*
 * UDS server engine: a simulated ECU bootloader (see uds/server.h). Session
 * rules follow ISO 14229-1 §9.2 (any session change re-locks security and
 * ends a download), security §9.4, routines §13.2, the download services
 * §14.2/§14.4/§14.6; S3 and the response-pending timing ISO 14229-2 §7.
 * Requests are handled when they arrive; the answer is scheduled (after
 * optional NRC 0x78 repeats and an injected delay) and leaves through
 * uds_server_output().
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>
#include "core/file.h"
#include "uds/server.h"

#define RSP_MAX	   1024
#define MAX_RANGES 64
#define SEED_MAX   32
#define SPAN_MAX   (1u << 30)

struct range {
	uint32_t addr, len;
};

struct uds_server {
	struct uds_server_cfg cfg;
	struct uds_region *regions;
	struct uds_did *dids;
	uint8_t *did_data;

	uint8_t *mem;
	uint32_t base;
	size_t span;
	bool dirty;

	uint8_t session;
	bool unlocked, seed_sent, in_boot, app_valid;
	uint8_t seed[SEED_MAX];
	unsigned attempts;
	fota_us delay_until;
	fota_us last_activity; /* S3 reference */
	uint64_t prng;
	unsigned resets;

	/* Download in progress (§14.2-§14.6). */
	bool dl_active, got_block;
	uint32_t dl_addr, dl_size, dl_done;
	struct fota_compress_dec *dec; /* the download's stream (cfg.compression), or NULL: plain */
	bool dl_compressed;
	uint8_t bsc_last;
	struct range ranges[MAX_RANGES]; /* downloads since the session began, for the check */
	size_t nranges;

	/* Fault counters. */
	unsigned n_nrc, n_pending, n_drop, n_td;

	/* The scheduled answer. */
	bool job;
	uint8_t job_sid;
	unsigned job_pending;
	fota_us job_next;
	uint8_t rsp[RSP_MAX];
	size_t rsp_len;
	bool busy_due;
	uint8_t busy[3];
	uint8_t pend[3];
};

static bool range_in_region(const struct uds_server *s, uint32_t addr, uint32_t len)
{
	for (size_t i = 0; i < s->cfg.nregions; i++) {
		const struct uds_region *r = &s->regions[i];

		if (addr >= r->start && (uint64_t)addr + len <= (uint64_t)r->start + r->size)
			return true;
	}
	return false;
}

static uint8_t *at(struct uds_server *s, uint32_t addr)
{
	return s->mem + (addr - s->base);
}

int uds_server_new(struct uds_server **sp, const struct uds_server_cfg *cfg)
{
	struct uds_server *s;
	uint64_t lo = UINT64_MAX, hi = 0;
	size_t i, j, dlen = 0;

	*sp = NULL;
	if (!cfg || !cfg->regions || !cfg->nregions)
		return -EINVAL;
	for (i = 0; i < cfg->nregions; i++) {
		uint64_t a = cfg->regions[i].start, e = a + cfg->regions[i].size;

		if (!cfg->regions[i].size || e > 1ull << 32)
			return -EINVAL;
		for (j = 0; j < i; j++) {
			uint64_t b = cfg->regions[j].start, f = b + cfg->regions[j].size;

			if (a < f && b < e)
				return -EINVAL;
		}
		lo = a < lo ? a : lo;
		hi = e > hi ? e : hi;
	}
	if (hi - lo > SPAN_MAX)
		return -EINVAL;
	if (cfg->compression != COMPRESS_NONE && !(cfg->compression_dfi & 0xF0))
		return -EINVAL;
	if (cfg->seed_len > SEED_MAX ||
	    (cfg->security_level && (!cfg->compute_key || !(cfg->security_level & 1))))
		return -EINVAL;
	for (i = 0; i < cfg->ndids; i++) {
		if (!cfg->dids[i].len || cfg->dids[i].len > 64 || !cfg->dids[i].data)
			return -EINVAL;
		dlen += cfg->dids[i].len;
	}
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->cfg = *cfg;
	s->regions = calloc(cfg->nregions, sizeof(*s->regions));
	s->dids = calloc(cfg->ndids + 1, sizeof(*s->dids));
	s->did_data = malloc(dlen + 1);
	s->span = (size_t)(hi - lo);
	s->mem = malloc(s->span);
	if (!s->regions || !s->dids || !s->did_data || !s->mem) {
		uds_server_free(s);
		return -ENOMEM;
	}
	memcpy(s->regions, cfg->regions, cfg->nregions * sizeof(*s->regions));
	s->cfg.regions = s->regions;
	for (i = 0, dlen = 0; i < cfg->ndids; i++) {
		memcpy(s->did_data + dlen, cfg->dids[i].data, cfg->dids[i].len);
		s->dids[i] = cfg->dids[i];
		s->dids[i].data = s->did_data + dlen;
		dlen += cfg->dids[i].len;
	}
	s->cfg.dids = s->dids;
	s->base = (uint32_t)lo;
	memset(s->mem, 0xFF, s->span);

	if (!s->cfg.max_block_len)
		s->cfg.max_block_len = 4095;
	if (s->cfg.max_block_len < 3)
		s->cfg.max_block_len = 3;
	if (!s->cfg.p2_ms)
		s->cfg.p2_ms = 50;
	if (!s->cfg.p2_star_ms)
		s->cfg.p2_star_ms = 5000;
	if (!s->cfg.s3_ms)
		s->cfg.s3_ms = 5000;
	if (!s->cfg.pending_interval_ms)
		s->cfg.pending_interval_ms = 1000;
	if (!s->cfg.seed_len)
		s->cfg.seed_len = 4;
	if (!s->cfg.max_attempts)
		s->cfg.max_attempts = 3;
	if (!s->cfg.attempt_delay_ms)
		s->cfg.attempt_delay_ms = 10000;
	if (!s->cfg.erase_routine)
		s->cfg.erase_routine = 0xFF00;
	if (!s->cfg.check_routine)
		s->cfg.check_routine = 0x0202;
	s->prng = cfg->seed_of_seeds ? cfg->seed_of_seeds : 0x9E3779B97F4A7C15ull;
	s->session = UDS_SESSION_DEFAULT;
	s->in_boot = !cfg->require_bootloader;
	*sp = s;
	return 0;
}

void uds_server_free(struct uds_server *s)
{
	if (!s)
		return;
	fota_compress_dec_free(s->dec);
	free(s->regions);
	free(s->dids);
	free(s->did_data);
	free(s->mem);
	free(s);
}

/* Leave the session: security locked, download abandoned (ISO 14229-1 §9.2.1). */
static void session_reset(struct uds_server *s, uint8_t session)
{
	s->session = session;
	s->unlocked = false;
	s->seed_sent = false;
	s->dl_active = false;
	s->nranges = 0;
}

static void do_reset(struct uds_server *s, fota_us now)
{
	session_reset(s, UDS_SESSION_DEFAULT);
	s->job = false;
	s->busy_due = false;
	/* A valid application starts; otherwise the bootloader stays in charge. */
	s->in_boot = !s->cfg.require_bootloader || !s->app_valid;
	s->last_activity = now;
}

void uds_server_enter_bootloader(struct uds_server *s, fota_us now)
{
	do_reset(s, now);
	s->in_boot = true;
}

/* xorshift64*: a reproducible seed sequence for tests. */
static uint64_t next_rand(struct uds_server *s)
{
	s->prng ^= s->prng >> 12;
	s->prng ^= s->prng << 25;
	s->prng ^= s->prng >> 27;
	return s->prng * 0x2545F4914F6CDD1Dull;
}

/* Handler output: a positive response in s->rsp (len > 0), nothing (0), or an NRC. */
struct answer {
	size_t len;
	uint8_t nrc;
};

#define NRC(code) ((struct answer){ 0, (code) })
#define POS(n)	  ((struct answer){ (n), 0 })

static struct answer h_session(struct uds_server *s, const uint8_t *req, size_t len)
{
	uint8_t sub = req[1] & 0x7F;
	struct uds_session_timing t = { s->cfg.p2_ms, s->cfg.p2_star_ms };

	if (len != 2)
		return NRC(UDS_NRC_INCORRECT_MESSAGE_LENGTH_OR_INVALID_FORMAT);
	if (sub != UDS_SESSION_DEFAULT && sub != UDS_SESSION_PROGRAMMING &&
	    sub != UDS_SESSION_EXTENDED)
		return NRC(UDS_NRC_SUB_FUNCTION_NOT_SUPPORTED);
	if (sub == UDS_SESSION_PROGRAMMING && !s->in_boot)
		return NRC(UDS_NRC_CONDITIONS_NOT_CORRECT);
	session_reset(s, sub);
	return POS((size_t)uds_encode_session_rsp(s->rsp, sizeof(s->rsp), sub, &t));
}

static struct answer h_reset(struct uds_server *s, const uint8_t *req, size_t len, fota_us now)
{
	uint8_t sub = req[1] & 0x7F;

	if (len != 2)
		return NRC(UDS_NRC_INCORRECT_MESSAGE_LENGTH_OR_INVALID_FORMAT);
	if (sub < UDS_RESET_HARD || sub > UDS_RESET_SOFT)
		return NRC(UDS_NRC_SUB_FUNCTION_NOT_SUPPORTED);
	do_reset(s, now);
	s->resets++;
	s->rsp[0] = UDS_SID_ECU_RESET + UDS_POSITIVE_RESPONSE_OFFSET;
	s->rsp[1] = sub;
	return POS(2);
}

static struct answer h_security(struct uds_server *s, const uint8_t *req, size_t len, fota_us now)
{
	uint8_t sub = req[1] & 0x7F, level = s->cfg.security_level;
	uint8_t key[UDS_KEY_MAX];
	size_t klen = 0, n = s->cfg.seed_len, i;

	if (s->session == UDS_SESSION_DEFAULT)
		return NRC(UDS_NRC_SERVICE_NOT_SUPPORTED_IN_ACTIVE_SESSION);
	if (!level || (sub != level && sub != level + 1))
		return NRC(UDS_NRC_SUB_FUNCTION_NOT_SUPPORTED);
	s->rsp[0] = UDS_SID_SECURITY_ACCESS + UDS_POSITIVE_RESPONSE_OFFSET;
	s->rsp[1] = sub;
	if (sub == level) {
		if (len != 2)
			return NRC(UDS_NRC_INCORRECT_MESSAGE_LENGTH_OR_INVALID_FORMAT);
		if (now < s->delay_until)
			return NRC(UDS_NRC_REQUIRED_TIME_DELAY_NOT_EXPIRED);
		if (s->unlocked) {
			/* §9.4.2.2: already unlocked, the seed is all zero. */
			memset(s->rsp + 2, 0, n);
			return POS(2 + n);
		}
		do {
			for (i = 0; i < n; i++)
				s->seed[i] = (uint8_t)next_rand(s);
			for (i = 0; i < n && !s->seed[i]; i++)
				;
		} while (i == n);
		memcpy(s->rsp + 2, s->seed, n);
		s->seed_sent = true;
		return POS(2 + n);
	}
	if (!s->seed_sent)
		return NRC(UDS_NRC_REQUEST_SEQUENCE_ERROR);
	if (len < 3)
		return NRC(UDS_NRC_INCORRECT_MESSAGE_LENGTH_OR_INVALID_FORMAT);
	s->seed_sent = false; /* one key per seed */
	if (s->cfg.compute_key(s->cfg.key_ctx, level, s->seed, n, key, sizeof(key), &klen))
		return NRC(UDS_NRC_CONDITIONS_NOT_CORRECT);
	if (klen != len - 2 || memcmp(key, req + 2, klen)) {
		if (++s->attempts >= s->cfg.max_attempts) {
			s->attempts = 0;
			s->delay_until = now + FOTA_MS(s->cfg.attempt_delay_ms);
			return NRC(UDS_NRC_EXCEEDED_NUMBER_OF_ATTEMPTS);
		}
		return NRC(UDS_NRC_INVALID_KEY);
	}
	s->attempts = 0;
	s->unlocked = true;
	return POS(2);
}

static bool locked(const struct uds_server *s)
{
	return s->cfg.security_level && !s->unlocked;
}

static struct answer h_comm_control(struct uds_server *s, const uint8_t *req, size_t len)
{
	uint8_t sub = req[1] & 0x7F;

	if (s->session == UDS_SESSION_DEFAULT)
		return NRC(UDS_NRC_SERVICE_NOT_SUPPORTED_IN_ACTIVE_SESSION);
	if (len != 3)
		return NRC(UDS_NRC_INCORRECT_MESSAGE_LENGTH_OR_INVALID_FORMAT);
	if (sub > UDS_CC_DISABLE_RX_AND_TX)
		return NRC(UDS_NRC_SUB_FUNCTION_NOT_SUPPORTED);
	if ((req[2] & 0x03) == 0)
		return NRC(UDS_NRC_REQUEST_OUT_OF_RANGE);
	s->rsp[0] = UDS_SID_COMMUNICATION_CONTROL + UDS_POSITIVE_RESPONSE_OFFSET;
	s->rsp[1] = sub;
	return POS(2);
}

static struct answer h_dtc_setting(struct uds_server *s, const uint8_t *req, size_t len)
{
	uint8_t sub = req[1] & 0x7F;

	if (s->session == UDS_SESSION_DEFAULT)
		return NRC(UDS_NRC_SERVICE_NOT_SUPPORTED_IN_ACTIVE_SESSION);
	if (sub != UDS_DTC_SETTING_ON && sub != UDS_DTC_SETTING_OFF)
		return NRC(UDS_NRC_SUB_FUNCTION_NOT_SUPPORTED);
	s->rsp[0] = UDS_SID_CONTROL_DTC_SETTING + UDS_POSITIVE_RESPONSE_OFFSET;
	s->rsp[1] = sub;
	return POS(2);
}

static struct answer h_tester_present(struct uds_server *s, const uint8_t *req, size_t len)
{
	if (len != 2)
		return NRC(UDS_NRC_INCORRECT_MESSAGE_LENGTH_OR_INVALID_FORMAT);
	if (req[1] & 0x7F)
		return NRC(UDS_NRC_SUB_FUNCTION_NOT_SUPPORTED);
	s->rsp[0] = UDS_SID_TESTER_PRESENT + UDS_POSITIVE_RESPONSE_OFFSET;
	s->rsp[1] = 0x00;
	return POS(2);
}

static struct answer h_read_did(struct uds_server *s, const uint8_t *req, size_t len)
{
	size_t n = 1, i, k;
	bool any = false;

	/* §10.2.4: a wrong length, or more DIDs than the server takes at once: 0x13. */
	if (len < 3 || (len - 1) % 2 || (s->cfg.max_dids && (len - 1) / 2 > s->cfg.max_dids))
		return NRC(UDS_NRC_INCORRECT_MESSAGE_LENGTH_OR_INVALID_FORMAT);
	s->rsp[0] = UDS_SID_READ_DATA_BY_IDENTIFIER + UDS_POSITIVE_RESPONSE_OFFSET;
	for (i = 1; i + 1 < len; i += 2) {
		uint16_t did = (uint16_t)uds_get_be(req + i, 2);
		const uint8_t *data = NULL;
		size_t dl = 0;

		if (did == UDS_DID_ACTIVE_DIAGNOSTIC_SESSION) {
			data = &s->session;
			dl = 1;
		}
		for (k = 0; k < s->cfg.ndids && !data; k++) {
			if (s->dids[k].did == did) {
				data = s->dids[k].data;
				dl = s->dids[k].len;
			}
		}
		if (!data)
			continue; /* §10.2.2: unsupported DIDs are left out */
		if (n + 2 + dl > sizeof(s->rsp))
			return NRC(UDS_NRC_RESPONSE_TOO_LONG);
		uds_put_be(s->rsp + n, did, 2);
		memcpy(s->rsp + n + 2, data, dl);
		n += 2 + dl;
		any = true;
	}
	return any ? POS(n) : NRC(UDS_NRC_REQUEST_OUT_OF_RANGE);
}

static struct uds_did *find_did(const struct uds_server *s, uint16_t did)
{
	for (size_t k = 0; k < s->cfg.ndids; k++)
		if (s->dids[k].did == did)
			return &s->dids[k];
	return NULL;
}

/*
 * WriteDataByIdentifier (ISO 14229-1 §10.7), checks in the order of the
 * general NRC handling (§7.5, Figure 5): the service in the default session
 * 0x7F (checked in input()), minimum length 0x13, a DID that is not
 * writable (or not in this session) 0x31, locked 0x33, a record of another
 * length than the DID's 0x13.
 */
static struct answer h_write_did(struct uds_server *s, const uint8_t *req, size_t len)
{
	struct uds_did *d;
	bool session_ok = s->session == UDS_SESSION_PROGRAMMING ||
			  (s->cfg.did_write_extended && s->session == UDS_SESSION_EXTENDED);

	if (len < 4)
		return NRC(UDS_NRC_INCORRECT_MESSAGE_LENGTH_OR_INVALID_FORMAT);
	d = find_did(s, (uint16_t)uds_get_be(req + 1, 2));
	if (!d || !d->writable || !session_ok)
		return NRC(UDS_NRC_REQUEST_OUT_OF_RANGE);
	if (locked(s))
		return NRC(UDS_NRC_SECURITY_ACCESS_DENIED);
	if (len - 3 != d->len)
		return NRC(UDS_NRC_INCORRECT_MESSAGE_LENGTH_OR_INVALID_FORMAT);
	/* d->data points into s->did_data, the server's own copy. */
	memcpy((uint8_t *)(uintptr_t)d->data, req + 3, d->len);
	s->rsp[0] = UDS_SID_WRITE_DATA_BY_IDENTIFIER + UDS_POSITIVE_RESPONSE_OFFSET;
	memcpy(s->rsp + 1, req + 1, 2);
	return POS(3);
}

const uint8_t *uds_server_did(const struct uds_server *s, uint16_t did, size_t *len)
{
	const struct uds_did *d = find_did(s, did);

	if (!d)
		return NULL;
	*len = d->len;
	return d->data;
}

static uint32_t ranges_crc(struct uds_server *s)
{
	uLong crc = crc32(0, NULL, 0);

	for (size_t i = 0; i < s->nranges; i++)
		crc = crc32(crc, at(s, s->ranges[i].addr), s->ranges[i].len);
	return (uint32_t)crc;
}

static struct answer h_routine(struct uds_server *s, const uint8_t *req, size_t len,
			       unsigned *pending)
{
	uint8_t type = req[1] & 0x7F;
	uint16_t rid;
	uint32_t addr, size;
	int n;

	if (len < 4)
		return NRC(UDS_NRC_INCORRECT_MESSAGE_LENGTH_OR_INVALID_FORMAT);
	rid = (uint16_t)uds_get_be(req + 2, 2);
	if (rid != s->cfg.erase_routine && rid != s->cfg.check_routine)
		return NRC(UDS_NRC_REQUEST_OUT_OF_RANGE);
	if (type != UDS_ROUTINE_START)
		return NRC(UDS_NRC_SUB_FUNCTION_NOT_SUPPORTED);
	if (s->session != UDS_SESSION_PROGRAMMING)
		return NRC(UDS_NRC_CONDITIONS_NOT_CORRECT);
	if (locked(s))
		return NRC(UDS_NRC_SECURITY_ACCESS_DENIED);
	memcpy(s->rsp, req, 4);
	s->rsp[0] = UDS_SID_ROUTINE_CONTROL + UDS_POSITIVE_RESPONSE_OFFSET;
	s->rsp[1] = type;
	if (rid == s->cfg.erase_routine) {
		if (len < 5)
			return NRC(UDS_NRC_INCORRECT_MESSAGE_LENGTH_OR_INVALID_FORMAT);
		n = uds_decode_addr_len(req + 5, len - 5, req[4], &addr, &size);
		if (n == -EMSGSIZE || (n > 0 && (size_t)n != len - 5))
			return NRC(UDS_NRC_INCORRECT_MESSAGE_LENGTH_OR_INVALID_FORMAT);
		if (n < 0 || !size || !range_in_region(s, addr, size))
			return NRC(UDS_NRC_REQUEST_OUT_OF_RANGE);
		if (s->dl_active)
			return NRC(UDS_NRC_CONDITIONS_NOT_CORRECT);
		memset(at(s, addr), 0xFF, size);
		s->app_valid = false;
		s->dirty = true;
		*pending = s->cfg.erase_pending;
		s->rsp[4] = 0x00;
		return POS(5);
	}
	if (len != 8)
		return NRC(UDS_NRC_INCORRECT_MESSAGE_LENGTH_OR_INVALID_FORMAT);
	if (s->dl_active || !s->nranges)
		return NRC(UDS_NRC_REQUEST_SEQUENCE_ERROR);
	if (ranges_crc(s) == uds_get_be(req + 4, 4)) {
		s->app_valid = true;
		s->rsp[4] = 0x00;
	} else {
		s->app_valid = false;
		s->rsp[4] = 0x01;
	}
	return POS(5);
}

static bool all_erased(struct uds_server *s, uint32_t addr, uint32_t size)
{
	const uint8_t *p = at(s, addr);

	for (uint32_t i = 0; i < size; i++)
		if (p[i] != 0xFF)
			return false;
	return true;
}

static struct answer h_download(struct uds_server *s, const uint8_t *req, size_t len)
{
	bool compressed;
	uint32_t addr, size;
	int n;

	if (len < 3)
		return NRC(UDS_NRC_INCORRECT_MESSAGE_LENGTH_OR_INVALID_FORMAT);
	if (s->dl_active)
		return NRC(UDS_NRC_CONDITIONS_NOT_CORRECT);
	if (locked(s))
		return NRC(UDS_NRC_SECURITY_ACCESS_DENIED);
	n = uds_decode_addr_len(req + 3, len - 3, req[2], &addr, &size);
	if (n == -EMSGSIZE || (n > 0 && (size_t)n != len - 3))
		return NRC(UDS_NRC_INCORRECT_MESSAGE_LENGTH_OR_INVALID_FORMAT);
	/* ISO 14229-1 §14.2.4: a dataFormatIdentifier the server does not know is out of range. */
	compressed = req[1] != 0x00 && s->cfg.compression != COMPRESS_NONE &&
		     req[1] == s->cfg.compression_dfi;
	if ((req[1] != 0x00 && !compressed) || n < 0 || !size || !range_in_region(s, addr, size))
		return NRC(UDS_NRC_REQUEST_OUT_OF_RANGE);
	if (!all_erased(s, addr, size))
		return NRC(UDS_NRC_UPLOAD_DOWNLOAD_NOT_ACCEPTED);
	if (compressed) {
		/* The stream decompresses straight into the range, never past it. */
		if (!s->dec)
			s->dec = fota_compress_dec_new(s->cfg.compression);
		if (!s->dec || fota_compress_dec_start(s->dec, at(s, addr), size))
			return NRC(UDS_NRC_UPLOAD_DOWNLOAD_NOT_ACCEPTED);
	}
	s->dl_compressed = compressed;
	s->dl_active = true;
	s->got_block = false;
	s->dl_addr = addr;
	s->dl_size = size;
	s->dl_done = 0;
	s->bsc_last = 0;
	return POS((size_t)uds_encode_request_download_rsp(s->rsp, sizeof(s->rsp),
							   s->cfg.max_block_len));
}

/* Returns the answer; *reset set when the injected reset fault fires. */
static struct answer h_transfer(struct uds_server *s, const uint8_t *req, size_t len, bool *reset)
{
	uint8_t bsc;
	size_t n;

	if (len < 2)
		return NRC(UDS_NRC_INCORRECT_MESSAGE_LENGTH_OR_INVALID_FORMAT);
	if (!s->dl_active)
		return NRC(UDS_NRC_REQUEST_SEQUENCE_ERROR);
	s->n_td++;
	if (s->cfg.faults.reset_nth_transfer == s->n_td) {
		*reset = true;
		return POS(0);
	}
	bsc = req[1];
	n = len - 2;
	s->rsp[0] = UDS_SID_TRANSFER_DATA + UDS_POSITIVE_RESPONSE_OFFSET;
	s->rsp[1] = bsc;
	if (len > s->cfg.max_block_len)
		return NRC(UDS_NRC_INCORRECT_MESSAGE_LENGTH_OR_INVALID_FORMAT);
	if (!s->cfg.faults.accept_wrong_bsc) {
		/* §14.4.2.3: the previous block again means its answer was lost. */
		if (s->got_block && bsc == s->bsc_last)
			return POS(2);
		if (bsc != (uint8_t)(s->bsc_last + 1))
			return NRC(UDS_NRC_WRONG_BLOCK_SEQUENCE_COUNTER);
	}
	if (!n)
		return NRC(UDS_NRC_INCORRECT_MESSAGE_LENGTH_OR_INVALID_FORMAT);
	if (s->dl_compressed) {
		/*
		 * Corrupt, or more than memorySize once decompressed: the stream
		 * cannot go on, so the download ends here (ISO 14229-1 §14.4.4,
		 * transferDataSuspended: "the active transferData sequence shall
		 * be aborted").
		 */
		if (fota_compress_dec_write(s->dec, req + 2, n)) {
			s->dl_active = false;
			return NRC(UDS_NRC_TRANSFER_DATA_SUSPENDED);
		}
		s->dl_done = (uint32_t)fota_compress_dec_produced(s->dec);
	} else {
		if (n > s->dl_size - s->dl_done)
			return NRC(UDS_NRC_TRANSFER_DATA_SUSPENDED);
		memcpy(at(s, s->dl_addr + s->dl_done), req + 2, n);
		s->dl_done += (uint32_t)n;
	}
	s->bsc_last = bsc;
	s->got_block = true;
	if (s->cfg.faults.bsc_skip_nth == s->n_td)
		s->bsc_last += 2; /* the ECU lost count: neither next nor repeat matches */
	return POS(2);
}

static struct answer h_transfer_exit(struct uds_server *s, const uint8_t *req, size_t len)
{
	/* A compressed stream must also have reached its end (end mark, checksum). */
	if (!s->dl_active || s->dl_done != s->dl_size ||
	    (s->dl_compressed && !fota_compress_dec_complete(s->dec)))
		return NRC(UDS_NRC_REQUEST_SEQUENCE_ERROR);
	s->dl_active = false;
	s->dirty = true;
	if (s->nranges < MAX_RANGES)
		s->ranges[s->nranges++] = (struct range){ s->dl_addr, s->dl_size };
	s->rsp[0] = UDS_SID_REQUEST_TRANSFER_EXIT + UDS_POSITIVE_RESPONSE_OFFSET;
	return POS(1);
}

static bool nth_hit(unsigned nth, unsigned count)
{
	return nth == 0 || nth == count;
}

/*
 * S3server restarts on every request and response (ISO 14229-2 §7.5), or,
 * with s3_session_only, only on DiagnosticSessionControl and TesterPresent,
 * as some bootloaders do.
 */
static void s3_restart(struct uds_server *s, uint8_t sid, fota_us now)
{
	sid &= (uint8_t)~UDS_POSITIVE_RESPONSE_OFFSET;
	if (!s->cfg.s3_session_only || sid == UDS_SID_DIAGNOSTIC_SESSION_CONTROL ||
	    sid == UDS_SID_TESTER_PRESENT)
		s->last_activity = now;
}

/*
 * ISO 14229-1 §7.5: to a functionally addressed request the server does not
 * answer serviceNotSupported, subFunctionNotSupported, requestOutOfRange,
 * subFunctionNotSupportedInActiveSession or serviceNotSupportedInActiveSession.
 */
static bool functional_silent_nrc(uint8_t nrc)
{
	return nrc == UDS_NRC_SERVICE_NOT_SUPPORTED || nrc == UDS_NRC_SUB_FUNCTION_NOT_SUPPORTED ||
	       nrc == UDS_NRC_REQUEST_OUT_OF_RANGE ||
	       nrc == UDS_NRC_SUB_FUNCTION_NOT_SUPPORTED_IN_ACTIVE_SESSION ||
	       nrc == UDS_NRC_SERVICE_NOT_SUPPORTED_IN_ACTIVE_SESSION;
}

/* The download services: the programming session only. */
static bool programming_only(uint8_t sid)
{
	return sid == UDS_SID_REQUEST_DOWNLOAD || sid == UDS_SID_TRANSFER_DATA ||
	       sid == UDS_SID_REQUEST_TRANSFER_EXIT;
}

/* Services this server does not offer in the default session. */
static bool not_in_default(uint8_t sid)
{
	return sid == UDS_SID_WRITE_DATA_BY_IDENTIFIER;
}

static void input(struct uds_server *s, const uint8_t *req, size_t len, bool functional,
		  fota_us now)
{
	const struct uds_server_faults *f = &s->cfg.faults;
	struct answer a = { 0, 0 };
	unsigned pending = 0;
	bool reset = false, suppress;
	uint8_t sid;

	if (!len)
		return;
	sid = req[0];
	if (len == 2 && sid == UDS_SID_TESTER_PRESENT && req[1] == UDS_SUPPRESS_POS_RSP) {
		/* 3E 80, the keep-alive: no answer, also while busy with another request. */
		s3_restart(s, sid, now);
		return;
	}
	if (s->job) {
		/* Still working on the previous request. */
		uds_encode_negative(s->busy, sid, UDS_NRC_BUSY_REPEAT_REQUEST);
		s->busy_due = true;
		return;
	}
	s3_restart(s, sid, now);
	suppress = len >= 2 && uds_sid_has_subfunction(sid) && (req[1] & UDS_SUPPRESS_POS_RSP);
	if (programming_only(sid) && s->session != UDS_SESSION_PROGRAMMING) {
		/* ISO 14229-1 §7.5 (general server response behaviour): checked before the rest. */
		a = NRC(UDS_NRC_SERVICE_NOT_SUPPORTED_IN_ACTIVE_SESSION);
	} else if (not_in_default(sid) && s->session == UDS_SESSION_DEFAULT) {
		a = NRC(UDS_NRC_SERVICE_NOT_SUPPORTED_IN_ACTIVE_SESSION);
	} else if (uds_sid_has_subfunction(sid) && len < 2) {
		a = NRC(UDS_NRC_INCORRECT_MESSAGE_LENGTH_OR_INVALID_FORMAT);
	} else if (f->nrc && f->nrc_sid == sid && nth_hit(f->nrc_nth, ++s->n_nrc)) {
		a = NRC(f->nrc);
	} else {
		switch (sid) {
		case UDS_SID_DIAGNOSTIC_SESSION_CONTROL:
			a = h_session(s, req, len);
			break;
		case UDS_SID_ECU_RESET:
			a = h_reset(s, req, len, now);
			break;
		case UDS_SID_SECURITY_ACCESS:
			a = h_security(s, req, len, now);
			break;
		case UDS_SID_COMMUNICATION_CONTROL:
			a = h_comm_control(s, req, len);
			break;
		case UDS_SID_CONTROL_DTC_SETTING:
			a = h_dtc_setting(s, req, len);
			break;
		case UDS_SID_TESTER_PRESENT:
			a = h_tester_present(s, req, len);
			break;
		case UDS_SID_READ_DATA_BY_IDENTIFIER:
			a = h_read_did(s, req, len);
			break;
		case UDS_SID_WRITE_DATA_BY_IDENTIFIER:
			a = h_write_did(s, req, len);
			break;
		case UDS_SID_ROUTINE_CONTROL:
			a = h_routine(s, req, len, &pending);
			break;
		case UDS_SID_REQUEST_DOWNLOAD:
			a = h_download(s, req, len);
			break;
		case UDS_SID_TRANSFER_DATA:
			a = h_transfer(s, req, len, &reset);
			break;
		case UDS_SID_REQUEST_TRANSFER_EXIT:
			a = h_transfer_exit(s, req, len);
			break;
		default:
			a = NRC(UDS_NRC_SERVICE_NOT_SUPPORTED);
			break;
		}
	}
	if (reset) {
		do_reset(s, now); /* power lost mid-transfer: no answer */
		s->resets++;
		return;
	}
	if (a.nrc && functional && functional_silent_nrc(a.nrc)) {
		return;
	} else if (a.nrc) {
		s->rsp_len = uds_encode_negative(s->rsp, sid, a.nrc);
	} else if (suppress) {
		return; /* ISO 14229-1 §8.2.2 */
	} else {
		s->rsp_len = a.len;
	}
	if (!s->rsp_len)
		return;
	if (f->pending_count && (!f->pending_sid || f->pending_sid == sid) &&
	    nth_hit(f->pending_nth, ++s->n_pending))
		pending += f->pending_count;
	if (f->drop_nth && (!f->drop_sid || f->drop_sid == sid) && ++s->n_drop == f->drop_nth)
		return;
	s->job = true;
	s->job_sid = sid;
	s->job_pending = pending;
	s->job_next = now + FOTA_MS(f->delay_ms);
}

void uds_server_input(struct uds_server *s, const uint8_t *req, size_t len, fota_us now)
{
	input(s, req, len, false, now);
}

void uds_server_input_functional(struct uds_server *s, const uint8_t *req, size_t len, fota_us now)
{
	input(s, req, len, true, now);
}

void uds_server_rx_busy(struct uds_server *s, fota_us now)
{
	if (!s->cfg.s3_session_only)
		s->last_activity = now;
}

int uds_server_output(struct uds_server *s, const uint8_t **pdu, size_t *len, fota_us now)
{
	if (s->busy_due) {
		s->busy_due = false;
		*pdu = s->busy;
		*len = sizeof(s->busy);
		return 1;
	}
	if (!s->job || now < s->job_next)
		return 0;
	s3_restart(s, s->job_sid, now);
	if (s->job_pending) {
		/* ISO 14229-1 §8.7.4: requestCorrectlyReceived-ResponsePending. */
		s->job_pending--;
		s->job_next = now + FOTA_MS(s->cfg.pending_interval_ms);
		*pdu = s->pend;
		*len = uds_encode_negative(s->pend, s->job_sid,
					   UDS_NRC_REQUEST_CORRECTLY_RECEIVED_RESPONSE_PENDING);
		return 1;
	}
	s->job = false;
	*pdu = s->rsp;
	*len = s->rsp_len;
	return 1;
}

static fota_us s3_expiry(const struct uds_server *s)
{
	if (s->session == UDS_SESSION_DEFAULT || s->job)
		return FOTA_NEVER;
	return s->last_activity + FOTA_MS(s->cfg.s3_ms);
}

void uds_server_tick(struct uds_server *s, fota_us now)
{
	/* ISO 14229-2 §7.5: S3server expiry returns to the default session. */
	if (now >= s3_expiry(s))
		session_reset(s, UDS_SESSION_DEFAULT);
}

fota_us uds_server_deadline(const struct uds_server *s)
{
	fota_us d = s3_expiry(s);

	if (s->busy_due)
		return 0;
	if (s->job)
		d = fota_min_deadline(d, s->job_next);
	return d;
}

uint8_t uds_server_session(const struct uds_server *s)
{
	return s->session;
}

bool uds_server_unlocked(const struct uds_server *s)
{
	return s->unlocked;
}

bool uds_server_in_bootloader(const struct uds_server *s)
{
	return s->in_boot;
}

bool uds_server_app_valid(const struct uds_server *s)
{
	return s->app_valid;
}

unsigned uds_server_resets(const struct uds_server *s)
{
	return s->resets;
}

const uint8_t *uds_server_memory(const struct uds_server *s, uint32_t *base, size_t *len)
{
	if (base)
		*base = s->base;
	if (len)
		*len = s->span;
	return s->mem;
}

bool uds_server_take_dirty(struct uds_server *s)
{
	bool d = s->dirty;

	s->dirty = false;
	return d;
}

int uds_server_load(struct uds_server *s, const char *path)
{
	struct stat st;
	size_t got = 0;
	int fd, err = 0;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0) {
		err = -errno;
	} else if (!S_ISREG(st.st_mode) || (uint64_t)st.st_size != s->span) {
		err = -EBADMSG;
	}
	while (!err && got < s->span) {
		ssize_t r = read(fd, s->mem + got, s->span - got);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			err = r < 0 ? -errno : -EBADMSG;
		else
			got += (size_t)r;
	}
	close(fd);
	if (err && got)
		memset(s->mem, 0xFF, s->span); /* no partial state */
	return err;
}

int uds_server_save(const struct uds_server *s, const char *path)
{
	return fota_write_file_atomic(path, s->mem, s->span);
}
