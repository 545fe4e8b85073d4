// SPDX-License-Identifier: MIT
/*
 * ReadDataByIdentifier over a list of DIDs (see uds/rdbi.h), ISO 14229-1
 * §10.2; identification DID names from Annex C.1 (Table C.1).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "uds/rdbi.h"

static const struct {
	uint16_t did;
	const char *name;
} did_names[] = {
	{ 0xF180, "bootSoftwareIdentification" },
	{ 0xF181, "applicationSoftwareIdentification" },
	{ 0xF182, "applicationDataIdentification" },
	{ 0xF183, "bootSoftwareFingerprint" },
	{ 0xF184, "applicationSoftwareFingerprint" },
	{ 0xF185, "applicationDataFingerprint" },
	{ 0xF186, "activeDiagnosticSession" },
	{ 0xF187, "vehicleManufacturerSparePartNumber" },
	{ 0xF188, "vehicleManufacturerECUSoftwareNumber" },
	{ 0xF189, "vehicleManufacturerECUSoftwareVersionNumber" },
	{ 0xF18A, "systemSupplierIdentifier" },
	{ 0xF18B, "ECUManufacturingDate" },
	{ 0xF18C, "ECUSerialNumber" },
	{ 0xF18D, "supportedFunctionalUnits" },
	{ 0xF18E, "vehicleManufacturerKitAssemblyPartNumber" },
	{ 0xF190, "VIN" },
	{ 0xF191, "vehicleManufacturerECUHardwareNumber" },
	{ 0xF192, "systemSupplierECUHardwareNumber" },
	{ 0xF193, "systemSupplierECUHardwareVersionNumber" },
	{ 0xF194, "systemSupplierECUSoftwareNumber" },
	{ 0xF195, "systemSupplierECUSoftwareVersionNumber" },
	{ 0xF196, "exhaustRegulationOrTypeApprovalNumber" },
	{ 0xF197, "systemNameOrEngineType" },
	{ 0xF198, "repairShopCodeOrTesterSerialNumber" },
	{ 0xF199, "programmingDate" },
	{ 0xF19A, "calibrationRepairShopCodeOrCalibrationEquipmentSerialNumber" },
	{ 0xF19B, "calibrationDate" },
	{ 0xF19C, "calibrationEquipmentSoftwareNumber" },
	{ 0xF19D, "ECUInstallationDate" },
	{ 0xF19E, "ODXFile" },
	{ 0xF19F, "entity" },
};

const char *uds_did_name(uint16_t did)
{
	for (size_t i = 0; i < sizeof(did_names) / sizeof(did_names[0]); i++)
		if (did_names[i].did == did)
			return did_names[i].name;
	return NULL;
}

bool uds_did_format(const uint8_t *data, size_t len, char *out, size_t size)
{
	static const char hex[] = "0123456789abcdef";
	size_t n = len, i, o = 0;
	bool text = true;

	if (!size)
		return false;
	/* Fixed-length fields are padded: NUL, space or erased flash (0xFF). */
	while (n && (data[n - 1] == 0x00 || data[n - 1] == ' ' || data[n - 1] == 0xFF))
		n--;
	for (i = 0; i < n && text; i++)
		text = data[i] >= 0x20 && data[i] < 0x7F;
	if (!n)
		text = false;
	if (text) {
		for (i = 0; i < n && o + 1 < size; i++)
			out[o++] = (char)data[i];
	} else {
		const char *p = "hex:";

		while (*p && o + 1 < size)
			out[o++] = *p++;
		for (i = 0; i < len && o + 2 < size; i++) {
			out[o++] = hex[data[i] >> 4];
			out[o++] = hex[data[i] & 15];
		}
	}
	out[o] = '\0';
	return text;
}

/*
 * The split with the most records, if only one split has that many. A table
 * over (position p, index j of the next DID that may come): W(p, j) for
 * body[p..L) starting with a record at p, T(p, j) for the best over every
 * record start e >= p (e = L: no more records). Each holds the most records
 * (-1: no split) and how many splits reach it (capped at 2). The last record
 * can always run to the end, swallowing later ones: taking the most records
 * is what makes a split meaningful at all.
 */
struct cell {
	int16_t best;
	uint8_t ways;
};

static void better(struct cell *a, struct cell b)
{
	if (b.best < 0 || b.best < a->best)
		return;
	if (b.best > a->best) {
		*a = b;
		return;
	}
	a->ways = (uint8_t)(a->ways + b.ways > 2 ? 2 : a->ways + b.ways);
}

int uds_rdbi_split(const uint8_t *rsp, size_t len, const uint16_t *dids, size_t n, size_t *off,
		   size_t *dlen, bool *found)
{
	const uint8_t *b;
	size_t L, cols = n + 1, p, j, k, e;
	struct cell *W, *T;
	int ret;

	if (len < 4 || !n)
		return -EPROTO; /* at least one record of one byte */
	b = rsp + 1;
	L = len - 1;
	W = calloc((L + 1) * cols, sizeof(*W));
	T = calloc((L + 1) * cols, sizeof(*T));
	if (!W || !T) {
		free(W);
		free(T);
		return -ENOMEM;
	}
#define AT(t, p, j) (t)[(size_t)(p)*cols + (j)]
	for (j = 0; j <= n; j++)
		AT(W, L, j) = AT(T, L, j) = (struct cell){ 0, 1 };
	for (p = L; p-- > 0;) {
		for (j = 0; j <= n; j++) {
			struct cell w = { -1, 0 };

			if (p + 3 <= L) {
				uint16_t at = (uint16_t)(b[p] << 8 | b[p + 1]);

				for (k = j; k < n; k++) {
					struct cell t = AT(T, p + 3, k + 1);

					if (dids[k] == at && t.best >= 0)
						better(&w, (struct cell){ (int16_t)(t.best + 1),
									  t.ways });
				}
			}
			AT(W, p, j) = w;
			better(&w, AT(T, p + 1, j));
			AT(T, p, j) = w;
		}
	}
	if (AT(W, 0, 0).best < 0 || AT(W, 0, 0).ways != 1) {
		ret = AT(W, 0, 0).best < 0 ? -EPROTO : -EAGAIN;
		goto out;
	}
	for (k = 0; k < n; k++)
		found[k] = false;
	/* Walk the one best split: at p the record of dids[k], up to the next record start e. */
	for (p = 0, j = 0; p < L;) {
		uint16_t at = (uint16_t)(b[p] << 8 | b[p + 1]);
		int16_t want = (int16_t)(AT(W, p, j).best - 1);

		for (k = j; k < n; k++)
			if (dids[k] == at && AT(T, p + 3, k + 1).best == want)
				break;
		for (e = p + 3; e < L && AT(W, e, k + 1).best != want; e++)
			;
		found[k] = true;
		off[k] = 1 + p + 2;
		dlen[k] = e - p - 2;
		p = e;
		j = k + 1;
	}
	ret = 0;
out:
#undef AT
	free(W);
	free(T);
	return ret;
}

static void finish(struct uds_rdbi *r, int err)
{
	r->running = false;
	r->err = err;
}

/* Ask the next batch, or finish. */
static void ask(struct uds_rdbi *r, fota_us now)
{
	size_t i, max = r->single ? 1 : r->max_per_request;

	while (r->next < r->n && r->it[r->next].err != -EINPROGRESS)
		r->next++;
	if (r->next == r->n) {
		finish(r, 0);
		return;
	}
	r->req[0] = UDS_SID_READ_DATA_BY_IDENTIFIER;
	for (i = 0; i < max && r->next + i < r->n; i++)
		uds_put_be(r->req + 1 + 2 * i, r->it[r->next + i].did, 2);
	r->batch = i;
	r->requests++;
	if (uds_client_start(r->client, r->req, 1 + 2 * i, now))
		finish(r, -EALREADY);
}

static void keep(struct uds_rdbi *r, struct uds_rdbi_item *it, const uint8_t *data, size_t len)
{
	if (len > sizeof(r->pool) - r->pool_used) {
		it->err = -EMSGSIZE;
		return;
	}
	memcpy(r->pool + r->pool_used, data, len);
	it->off = r->pool_used;
	it->len = len;
	it->err = 0;
	r->pool_used += len;
}

/* The batch was refused or unreadable as a whole: ask its DIDs one at a time. */
static void go_single(struct uds_rdbi *r)
{
	r->single = true;
}

static void answer_multi(struct uds_rdbi *r, const struct uds_result *res)
{
	uint16_t dids[UDS_RDBI_MAX] = { 0 };
	size_t off[UDS_RDBI_MAX], dlen[UDS_RDBI_MAX], i;
	bool found[UDS_RDBI_MAX];
	struct uds_rdbi_item *it = r->it + r->next;

	if (res->err == -EREMOTEIO && res->nrc == UDS_NRC_REQUEST_OUT_OF_RANGE) {
		for (i = 0; i < r->batch; i++)
			it[i].err = -ENOENT; /* §10.2: none of them is supported */
		return;
	}
	if (res->err) {
		go_single(r);
		return;
	}
	for (i = 0; i < r->batch; i++)
		dids[i] = it[i].did;
	if (uds_rdbi_split(res->rsp, res->len, dids, r->batch, off, dlen, found)) {
		go_single(r);
		return;
	}
	for (i = 0; i < r->batch; i++) {
		if (found[i])
			keep(r, &it[i], res->rsp + off[i], dlen[i]);
		else
			it[i].err = -ENOENT; /* §10.2.2: left out of the answer */
	}
}

static void answer_single(struct uds_rdbi *r, const struct uds_result *res)
{
	struct uds_rdbi_item *it = &r->it[r->next];

	if (res->err == -EREMOTEIO || res->err == -EBUSY) {
		it->nrc = res->nrc;
		it->err = res->nrc == UDS_NRC_REQUEST_OUT_OF_RANGE ? -ENOENT : res->err;
		return;
	}
	if (res->err == -EMSGSIZE) {
		it->err = -EMSGSIZE;
		return;
	}
	if (res->err) {
		finish(r, res->err);
		return;
	}
	if (res->len < 3 || uds_get_be(res->rsp + 1, 2) != it->did) {
		snprintf(r->msg, sizeof(r->msg), "ReadDataByIdentifier 0x%04X: malformed answer",
			 it->did);
		finish(r, -EPROTO);
		return;
	}
	keep(r, it, res->rsp + 3, res->len - 3);
}

/* The request in flight ended: take its answer, ask the next. */
static void advance(struct uds_rdbi *r, fota_us now)
{
	struct uds_result res;

	if (!r->running || uds_client_result(r->client, &res) == -EINPROGRESS)
		return;
	if (res.err == -ETIMEDOUT || res.err == -ECANCELED) {
		finish(r, res.err);
		return;
	}
	if (r->batch > 1)
		answer_multi(r, &res);
	else
		answer_single(r, &res);
	if (r->running)
		ask(r, now);
}

int uds_rdbi_start(struct uds_rdbi *r, struct uds_client *c, const uint16_t *dids, size_t n,
		   unsigned max_per_request, fota_us now)
{
	if (r->running || !uds_client_idle(c))
		return -EALREADY;
	if (!n || n > UDS_RDBI_MAX)
		return -EINVAL;
	for (size_t i = 0; i < n; i++)
		for (size_t k = 0; k < i; k++)
			if (dids[i] == dids[k])
				return -EINVAL;
	memset(r, 0, offsetof(struct uds_rdbi, req));
	r->client = c;
	r->max_per_request = max_per_request ? max_per_request : UDS_RDBI_MAX;
	r->n = n;
	r->pool_used = 0;
	for (size_t i = 0; i < n; i++) {
		r->it[i].did = dids[i];
		r->it[i].err = -EINPROGRESS;
	}
	r->running = true;
	r->err = -EINPROGRESS;
	ask(r, now);
	return 0;
}

void uds_rdbi_input(struct uds_rdbi *r, const uint8_t *pdu, size_t len, fota_us now)
{
	uds_client_input(r->client, pdu, len, now);
	advance(r, now);
}

void uds_rdbi_tick(struct uds_rdbi *r, fota_us now)
{
	uds_client_tick(r->client, now);
	advance(r, now);
}

int uds_rdbi_output(struct uds_rdbi *r, const uint8_t **pdu, size_t *len, fota_us now)
{
	return uds_client_output(r->client, pdu, len, now);
}

void uds_rdbi_sent(struct uds_rdbi *r, fota_us now)
{
	uds_client_sent(r->client, now);
}

fota_us uds_rdbi_deadline(const struct uds_rdbi *r)
{
	return uds_client_deadline(r->client);
}

int uds_rdbi_result(const struct uds_rdbi *r)
{
	if (!r->client)
		return -ENOENT;
	return r->running ? -EINPROGRESS : r->err;
}

void uds_rdbi_cancel(struct uds_rdbi *r)
{
	if (!r->running)
		return;
	uds_client_cancel(r->client);
	finish(r, -ECANCELED);
}

const struct uds_rdbi_item *uds_rdbi_item(const struct uds_rdbi *r, size_t i, const uint8_t **data)
{
	const struct uds_rdbi_item *it = &r->it[i];

	if (data)
		*data = it->err ? NULL : r->pool + it->off;
	return it;
}
