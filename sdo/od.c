// SPDX-License-Identifier: MIT
/*
 * Object dictionary lookup and default access (see od.h). CiA 301 §7.4;
 * abort codes of §7.2.4.3.17. The table is small and hand-written, so a
 * binary search over a sorted array is all the structure it needs.
 */
#include <errno.h>
#include <string.h>
#include "sdo/od.h"
#include "sdo/sdo.h"

static int mux_cmp(uint16_t ai, uint8_t as, uint16_t bi, uint8_t bs)
{
	if (ai != bi)
		return ai < bi ? -1 : 1;
	if (as != bs)
		return as < bs ? -1 : 1;
	return 0;
}

bool od_type_fixed(uint16_t type)
{
	return type == OD_U8 || type == OD_U16 || type == OD_U32;
}

static int entry_ok(const struct od_entry *e)
{
	if (e->size == 0)
		return 0;
	switch (e->type) {
	case OD_U8:
		if (e->size != 1)
			return 0;
		break;
	case OD_U16:
		if (e->size != 2)
			return 0;
		break;
	case OD_U32:
		if (e->size != 4)
			return 0;
		break;
	case OD_VISIBLE_STRING:
		break;
	default:
		return 0;
	}
	if ((e->attr & OD_R) && !e->data && !e->on_read)
		return 0;
	if ((e->attr & OD_W) && !e->data && !e->on_write)
		return 0;
	return 1;
}

int od_init(struct od *od, const struct od_entry *entries, size_t n, void *ctx)
{
	for (size_t i = 0; i < n; i++) {
		if (!entry_ok(&entries[i]))
			return -EINVAL;
		if (i && mux_cmp(entries[i - 1].index, entries[i - 1].sub, entries[i].index,
				 entries[i].sub) >= 0)
			return -EINVAL;
	}
	od->entries = entries;
	od->n = n;
	od->ctx = ctx;
	return 0;
}

const struct od_entry *od_find(const struct od *od, uint16_t index, uint8_t sub, uint32_t *abort)
{
	size_t lo = 0, hi = od->n;

	/* Lower bound of (index, sub): first entry not less than it. */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const struct od_entry *e = &od->entries[mid];

		if (mux_cmp(e->index, e->sub, index, sub) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < od->n && od->entries[lo].index == index && od->entries[lo].sub == sub)
		return &od->entries[lo];
	if (abort) {
		/* The index exists if a neighbour of the insertion point carries it. */
		bool known = (lo < od->n && od->entries[lo].index == index) ||
			     (lo > 0 && od->entries[lo - 1].index == index);
		*abort = known ? SDO_ABORT_NO_SUBINDEX : SDO_ABORT_NO_OBJECT;
	}
	return NULL;
}

uint32_t od_value(const struct od_entry *e, const void *buf)
{
	const uint8_t *p = buf;
	uint32_t v = 0;

	for (size_t i = 0; i < e->size && i < 4; i++)
		v |= (uint32_t)p[i] << (8 * i);
	return v;
}

static void load_native(const struct od_entry *e, uint8_t *out)
{
	uint32_t v = 0;

	switch (e->type) {
	case OD_U8:
		v = *(const uint8_t *)e->data;
		break;
	case OD_U16:
		v = *(const uint16_t *)e->data;
		break;
	case OD_U32:
		v = *(const uint32_t *)e->data;
		break;
	}
	for (size_t i = 0; i < e->size; i++)
		out[i] = (uint8_t)(v >> (8 * i));
}

static void store_native(const struct od_entry *e, const void *buf, size_t len)
{
	uint32_t v = od_value(e, buf);

	switch (e->type) {
	case OD_U8:
		*(uint8_t *)e->data = (uint8_t)v;
		break;
	case OD_U16:
		*(uint16_t *)e->data = (uint16_t)v;
		break;
	case OD_U32:
		*(uint32_t *)e->data = v;
		break;
	case OD_VISIBLE_STRING:
		memset(e->data, 0, e->size);
		memcpy(e->data, buf, len);
		break;
	}
}

uint32_t od_read(const struct od *od, const struct od_entry *e, void *buf, size_t cap, size_t *len)
{
	size_t n;

	if (!(e->attr & OD_R))
		return SDO_ABORT_WRITE_ONLY;
	if (e->on_read)
		return e->on_read(e, buf, cap, len, od->ctx);
	n = e->type == OD_VISIBLE_STRING ? strnlen(e->data, e->size) : e->size;
	if (n > cap)
		return SDO_ABORT_OUT_OF_MEMORY;
	if (e->type == OD_VISIBLE_STRING)
		memcpy(buf, e->data, n);
	else
		load_native(e, buf);
	*len = n;
	return 0;
}

uint32_t od_write(const struct od *od, const struct od_entry *e, const void *buf, size_t len,
		  fota_us now)
{
	if (!(e->attr & OD_W))
		return SDO_ABORT_READ_ONLY;
	if (len > e->size)
		return SDO_ABORT_DATA_LONG;
	if (od_type_fixed(e->type) && len < e->size)
		return SDO_ABORT_DATA_SHORT;
	if (e->on_write)
		return e->on_write(e, buf, len, od->ctx, now);
	store_native(e, buf, len);
	return 0;
}
