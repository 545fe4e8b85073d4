// SPDX-License-Identifier: MIT
/*
 * Internal to core/config.c and core/request.c: a strict, table-driven walk of
 * libyaml documents. Each mapping is checked against a table of known keys
 * (unknown, duplicate and missing required keys are errors), scalars are
 * converted by type, and every error carries the node's 1-based line:column.
 */
#ifndef FOTA_CORE_CFG_YAML_H
#define FOTA_CORE_CFG_YAML_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <yaml.h>
#include "core/config.h"

struct cfg_doc {
	yaml_parser_t parser;
	yaml_document_t doc;
	bool parser_ok, doc_ok;
	const char *name;
	struct cfg_error *err;
};

enum cfg_ftype {
	CFG_F_U8,
	CFG_F_U16,
	CFG_F_U32,
	CFG_F_U64,
	CFG_F_BOOL,
	CFG_F_STR, /* char[size] at off */
	CFG_F_FN,  /* fn(doc, value node, obj) does the work */
};

#define CFG_FIELDS_MAX 32 /* keys per mapping table */
#define CFG_REQUIRED   0x01u
#define CFG_NONEMPTY   0x02u /* CFG_F_STR: "" is an error */

struct cfg_field {
	const char *key;
	enum cfg_ftype type;
	size_t off;
	size_t size;
	uint64_t min, max;
	int (*fn)(struct cfg_doc *d, yaml_node_t *v, void *obj);
	unsigned flags;
};

#define CFG_FIELD_NUM(k, t, st, m, lo, hi, fl)                                \
	{                                                                     \
		k, t, offsetof(st, m), sizeof(((st *)0)->m), lo, hi, NULL, fl \
	}
#define CFG_FIELD_U8(k, st, m, lo, hi)	CFG_FIELD_NUM(k, CFG_F_U8, st, m, lo, hi, 0)
#define CFG_FIELD_U16(k, st, m, lo, hi) CFG_FIELD_NUM(k, CFG_F_U16, st, m, lo, hi, 0)
#define CFG_FIELD_U32(k, st, m, lo, hi) CFG_FIELD_NUM(k, CFG_F_U32, st, m, lo, hi, 0)
#define CFG_FIELD_U64(k, st, m, lo, hi) CFG_FIELD_NUM(k, CFG_F_U64, st, m, lo, hi, 0)
#define CFG_FIELD_BOOL(k, st, m)	CFG_FIELD_NUM(k, CFG_F_BOOL, st, m, 0, 1, 0)
#define CFG_FIELD_STR(k, st, m, fl)	CFG_FIELD_NUM(k, CFG_F_STR, st, m, 0, 0, fl)
#define CFG_FIELD_FN(k, f, fl)                 \
	{                                      \
		k, CFG_F_FN, 0, 0, 0, 0, f, fl \
	}

/* Read a whole file (at most CFG_MAX_BYTES). 0 or -errno with err set (no position). */
int cfg_read_text(const char *path, char **text, size_t *len, struct cfg_error *err);

/* Parse TEXT as exactly one YAML document. 0, or -EBADMSG/-ENOMEM with err set. */
int cfg_doc_open(struct cfg_doc *d, const char *text, size_t len, const char *name,
		 struct cfg_error *err);
void cfg_doc_close(struct cfg_doc *d);
yaml_node_t *cfg_doc_root(struct cfg_doc *d);
yaml_node_t *cfg_doc_node(struct cfg_doc *d, int index);

/* Set err at NODE's position (or none if NULL); returns -EBADMSG. */
__attribute__((format(printf, 3, 4))) int cfg_fail(struct cfg_doc *d, const yaml_node_t *node,
						   const char *fmt, ...);

/*
 * Walk mapping MAP against FIELDS, storing into OBJ. If seen is not NULL it
 * receives each field's value node (NULL when absent), indexed like FIELDS.
 * WHAT names the mapping in "missing key" errors ("ECU", "tcu").
 */
int cfg_walk(struct cfg_doc *d, yaml_node_t *map, const struct cfg_field *fields, size_t n,
	     void *obj, yaml_node_t **seen, const char *what);

/* Scalar conversions; each fails with a positioned error. */
int cfg_get_u32(struct cfg_doc *d, yaml_node_t *v, uint32_t min, uint32_t max, uint32_t *out);
int cfg_get_u64(struct cfg_doc *d, yaml_node_t *v, uint64_t min, uint64_t max, uint64_t *out);
int cfg_get_bool(struct cfg_doc *d, yaml_node_t *v, bool *out);
int cfg_get_str(struct cfg_doc *d, yaml_node_t *v, char *buf, size_t size, bool nonempty);
/* Is V the plain scalar WORD (e.g. "none")? */
bool cfg_is_word(const yaml_node_t *v, const char *word);

#endif
