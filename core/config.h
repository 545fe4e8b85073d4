// SPDX-License-Identifier: MIT
/*
 * The configuration file (fota.yaml(5)): bus, TCU and the electronic
 * architecture (each ECU's ids, bootloader switch frame, security, memory
 * regions and UDS programming sequence), loaded with libyaml into plain
 * structs. Strict: an unknown or duplicate key, a missing required key, a
 * value of the wrong type or out of range is an error carrying the file and
 * the 1-based line:column of the offending node. Library code: never prints.
 */
#ifndef FOTA_CORE_CONFIG_H
#define FOTA_CORE_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "core/compress.h"
#include "core/frame.h"
#include "core/hexstr.h"
#include "core/sig.h"

/* The configuration file when neither -c nor $FOTA_CONFIG names one. */
#define CFG_DEFAULT_PATH "/etc/fota/fota.yaml"
/* tcu: node_id when not configured: "TCU node ID (default, CAN1)" of the vendor specification. */
#define CFG_NODE_ID_DEFAULT 0x27

#define CFG_NAME_MAX	64	   /* ECU name, brand, model: NUL included */
#define CFG_BUS_MAX	256	   /* bus spec: NUL included */
#define CFG_PATH_MAX	1024	   /* state_dir: NUL included */
#define CFG_REGIONS_MAX 16	   /* memory regions per ECU */
#define CFG_MAX_BYTES	(1u << 20) /* largest configuration or request file read */
/*
 * Deepest nesting of mappings and lists in a configuration or request file,
 * the top-level mapping being level 1 (fota.yaml needs 5). libyaml's parser
 * costs time quadratic in the depth, so a deeper document is refused at the
 * first level beyond, before any more of it is read.
 */
#define CFG_DEPTH_MAX 32

#define CFG_FIRMWARE_BYTES_DEFAULT ((uint64_t)1 << 28) /* tcu: max_firmware_bytes, 256 MiB */
#define CFG_FIRMWARE_BYTES_MAX	   ((uint64_t)1 << 40) /* its upper bound */
/*
 * The SDO client's timing (tcu: sdo_timeout_ms, sdo_retries), one range for
 * the configuration and the command line (-t, --retries of fota status,
 * approve, reject, health): above 10 minutes per answer or 100 repeats is a
 * typo, not a slow bus.
 */
#define CFG_SDO_TIMEOUT_MS_MAX 600000u
#define CFG_SDO_RETRIES_MAX    100u

/* Where and why loading failed. line/col are 1-based; 0 when there is no position. */
struct cfg_error {
	char file[256];
	unsigned line, col;
	char msg[160];
};

/* One memory region: [start, start + size), size > 0, end <= 2^32. */
struct cfg_region {
	uint32_t start;
	uint32_t size;
};

/* isotp: ISO-TP parameters for this ECU (ISO 15765-2). */
struct cfg_isotp {
	int padding; /* padding byte 0x00..0xFF; -1 = none (frames of minimal length). Default 0xCC */
	uint8_t block_size; /* BS we advertise when receiving. Default 0 */
	uint8_t stmin;	    /* STmin byte we advertise (raw ISO 15765-2 encoding). Default 0 */
	bool fd;	    /* CAN FD frames. Default false */
	uint8_t tx_dl; /* frame payload: 8, or with fd 8,12,16,20,24,32,48,64. Default 8 / 64 with fd */
};

/* timing: ISO 14229-2 and ISO 15765-2 timers, milliseconds. */
struct cfg_timing {
	uint32_t p2_ms;	     /* first response. Default 50 */
	uint32_t p2_star_ms; /* after each NRC 0x78 responsePending. Default 5000 */
	uint32_t s3_ms;	     /* server's session timeout. Default 5000 */
	uint32_t
		tester_present_ms; /* TesterPresent period when idle in a non-default session. Default 2000 */
	uint32_t n_bs_ms; /* wait for flow control. Default 1000 */
	uint32_t n_cr_ms; /* wait for the next consecutive frame. Default 1000 */
};

enum cfg_erase_scope {
	CFG_ERASE_REGION = 0,  /* every configured region the image touches, whole (default) */
	CFG_ERASE_SEGMENT = 1, /* exactly each image segment's address range */
};

enum cfg_erase_record {
	CFG_ERASE_RECORD_ADDRESS =
		0,		   /* option record: ALFID, memoryAddress, memorySize (default) */
	CFG_ERASE_RECORD_NONE = 1, /* no option record: one call erases everything */
};

enum cfg_reset {
	CFG_RESET_NONE = 0,
	CFG_RESET_HARD = 0x01,	     /* ECUReset hardReset (default) */
	CFG_RESET_KEY_OFF_ON = 0x02, /* keyOffOnReset */
	CFG_RESET_SOFT = 0x03,	     /* softReset */
};

#define CFG_KEY_MASK_MAX       256  /* longest xor mask, bytes */
#define CFG_KEY_PATH_MAX       1024 /* longest cmd:/lib: path, NUL included */
#define CFG_KEY_SYMBOL_MAX     128  /* longest lib: symbol, NUL included */
#define CFG_KEY_TIMEOUT_MS_DEF 5000 /* cmd: default time limit */
/* Hex bytes of an xor mask and of a cmd: program's key: white space or ':' between bytes. */
#define CFG_KEY_HEX_SEPS FOTA_HEX_SPACE ":"

enum cfg_key_kind {
	CFG_KEY_XOR = 1,
	CFG_KEY_CMD = 2,
	CFG_KEY_LIB = 3,
};

/*
 * security: key, the SecurityAccess seed -> key algorithm as parsed from its
 * spec string (uds/key.h computes keys with it):
 *   xor:HEX             key = seed XOR mask (mask repeated over the seed); benches
 *   cmd:PATH            run PATH (no shell) with argv SEEDHEX LEVEL; the key is
 *                       the hex on its stdout; killed after timeout_ms
 *   lib:PATH[:SYMBOL]   dlopen PATH and call SYMBOL (default GenerateKeyEx) with
 *                       the usual vendor signature (uds_generate_key_ex_fn)
 * Plain data, may be copied; nothing to release. The mask is a secret.
 */
struct cfg_key {
	enum cfg_key_kind kind;
	uint8_t mask[CFG_KEY_MASK_MAX];	 /* xor: the mask */
	size_t mask_len;		 /* xor: 1..CFG_KEY_MASK_MAX */
	char path[CFG_KEY_PATH_MAX];	 /* cmd:, lib: */
	char symbol[CFG_KEY_SYMBOL_MAX]; /* lib: entry point, default "GenerateKeyEx" */
	unsigned timeout_ms;		 /* cmd: kill the command after this (default 5000) */
	char variant[64];		 /* lib: iVariant argument (default "") */
};

/* sequence: the UDS programming sequence (ISO 14229-1 service numbers in comments). */
#define CFG_IDENTIFY_MAX    16 /* DIDs of `identify:` */
#define CFG_FINGERPRINT_MAX 64 /* bytes of a fingerprint record */

struct cfg_sequence {
	bool pre_programming;	     /* 0x10 0x03, 0x85 0x02, 0x28 0x03 0x01. Default false */
	uint8_t programming_session; /* 0x10 sub-function. Default 0x02 */
	bool erase;		     /* false: `erase: none`. Default true */
	uint16_t erase_routine;	     /* 0x31 0x01 RID. Default 0xFF00 */
	enum cfg_erase_scope erase_scope;
	enum cfg_erase_record erase_record;
	uint8_t address_and_length_format; /* 0x34 ALFID, nibbles 1..4. Default 0x44 */
	uint8_t data_format;		   /* 0x34 dataFormatIdentifier. Default 0x00 */
	uint32_t block_length;		   /* cap on maxNumberOfBlockLength; 0 = ECU's. Default 0 */
	uint8_t transfer_retries; /* repeats of a TransferData whose answer was lost. Default 2 */
	bool check;		  /* false: `check: none`. Default true */
	uint16_t check_routine;	  /* 0x31 0x01 RID. Default 0x0202 */
	bool check_crc;		  /* option record: CRC-32 (4 bytes, big-endian). Default true */
	enum cfg_reset reset;	  /* 0x11 sub-function. Default CFG_RESET_HARD */
	/* Fingerprint written by 0x2E after SecurityAccess; fingerprint[0] == 0: none. */
	uint16_t fingerprint_did; /* 0x0001..0xFFFE */
	char fingerprint[CFG_FINGERPRINT_MAX + 1];
};

/*
 * compression: how RequestDownload's data is compressed (fota.yaml(5)). One
 * stream per RequestDownload; memorySize and the check routine's CRC-32 are
 * of the uncompressed bytes, as they land in the ECU's memory.
 */
struct cfg_compression {
	enum fota_compress_method method; /* Default COMPRESS_NONE */
	uint8_t dfi; /* dataFormatIdentifier 0xN0. Default per method (0x10, 0x20) */
	int level;   /* encoder level; -1 = the method's default. Default -1 */
};

/* tester_present: how the tester keeps a non-default session open (uds/client.h). */
enum cfg_tester_present {
	CFG_TP_FUNCTIONAL = 0, /* 3E 80 every period on the functional id (default) */
	CFG_TP_PHYSICAL = 1,   /* every period on the physical id, between requests */
	CFG_TP_IDLE = 2,       /* after a period without requests */
	CFG_TP_OFF = 3,	       /* never */
};

/* Functional request ids (ISO 15765-4 / ISO 14229-2 addressing): 11-bit and 29-bit normal fixed. */
#define CFG_FUNCTIONAL_ID_11 0x7DFu
#define CFG_FUNCTIONAL_ID_29 0x18DB33F1u

struct cfg_ecu {
	char name[CFG_NAME_MAX];  /* [A-Za-z0-9_.-]+, unique */
	char brand[CFG_NAME_MAX]; /* "" when absent */
	char model[CFG_NAME_MAX]; /* "" when absent */
	uint32_t request_id;	  /* tester -> ECU */
	uint32_t response_id;	  /* ECU -> tester */
	bool extended;		  /* 29-bit ids (either id > 0x7FF, or `extended: true`) */
	bool has_functional_id;	  /* else CFG_FUNCTIONAL_ID_11 / _29 (cfg_ecu_functional_id()) */
	uint32_t functional_id;	  /* functional requests (TesterPresent), same kind as the ids */
	enum cfg_tester_present tester_present;

	bool has_bootloader_switch;
	struct bus_frame bootloader_switch; /* id, flags (EFF/FD), len, data */
	uint32_t bootloader_switch_delay_ms;

	bool has_security;	/* false: no SecurityAccess step */
	uint8_t security_level; /* requestSeed sub-function, odd 0x01..0x7D. Default 0x01 */
	char key_spec[CFG_KEY_PATH_MAX + 8]; /* as written (secret for xor:, never log it) */
	struct cfg_key key;		     /* parsed key_spec */

	struct cfg_region regions[CFG_REGIONS_MAX]; /* sorted by start, no overlap */
	size_t nregions;			    /* 1..CFG_REGIONS_MAX */

	struct cfg_isotp isotp;
	struct cfg_timing timing;
	struct cfg_sequence sequence;
	struct cfg_compression compression;

	/* Identification DIDs read before and after programming (`identify:`), no duplicates. */
	uint16_t identify[CFG_IDENTIFY_MAX];
	size_t nidentify; /* 0: none. Default 0 */
	uint32_t
		identify_wait_ms; /* after the reset, until the application answers. Default 10000 */
};

struct cfg_tcu {
	uint8_t node_id;		   /* CANopen node-ID 1..127. Default CFG_NODE_ID_DEFAULT */
	char state_dir[CFG_PATH_MAX];	   /* Default "/var/lib/fota" */
	uint16_t health_check_timeout_min; /* 0 = wait forever. Default 10 */
	uint16_t heartbeat_ms;		   /* producer heartbeat (0x1017); 0 = off. Default 0 */
	uint32_t sdo_timeout_ms;	   /* client side, per SDO request. Default 1000 */
	uint8_t sdo_retries;		   /* client side, retries after a timeout. Default 2 */
	/*
	 * Largest firmware file `fota serve` accepts in a request, bytes,
	 * 1..CFG_FIRMWARE_BYTES_MAX. Default CFG_FIRMWARE_BYTES_DEFAULT (256 MiB)
	 */
	uint64_t max_firmware_bytes;
};

/* trust: signed update requests (core/sig.h); fota.yaml(5), TRUST. */
#define CFG_TRUST_ECUS_MAX 64
struct cfg_trust_ecu {
	char ecu[CFG_NAME_MAX];
	uint32_t allowed; /* bit i: sig.keys[i] may sign this ECU's requests */
};

struct cfg_trust {
	struct sig_trust
		sig; /* keys (nkeys 0: no trust configured), threshold, require_signature */
	struct cfg_trust_ecu ecus[CFG_TRUST_ECUS_MAX]; /* trust: ecus: per-ECU signers */
	size_t necus;
};

/*
 * platform: the link to the fleet platform (fota.yaml(5), PLATFORM).
 * mqtt.url "" = no MQTT link (serve works on its folder inbox/outbox only).
 */
#define CFG_URL_MAX		 512
#define CFG_TOPIC_PREFIX_MAX	 128
#define CFG_MQTT_KEEPALIVE_DEF	 60u
#define CFG_DOWNLOAD_STALL_S_DEF 30u
#define CFG_DOWNLOAD_CONN_S_DEF	 20u

struct cfg_mqtt {
	char url[CFG_URL_MAX]; /* mqtts://HOST[:PORT] or mqtt://HOST[:PORT]; "" = off */
	/* parsed from url */
	char host[256];
	uint16_t port; /* default 8883 for mqtts, 1883 for mqtt */
	bool tls;      /* mqtts:// */
	/*
	 * The MQTT client id, and TCU_ID in every topic (PREFIX/TCU_ID/...):
	 * [A-Za-z0-9_.-]+. Required with url.
	 */
	char client_id[CFG_NAME_MAX];
	char topic_prefix
		[CFG_TOPIC_PREFIX_MAX]; /* no '+', '#', no leading/trailing '/'. Default "fota" */
	/* files, relative to the configuration file's directory; "" = none */
	char ca[CFG_PATH_MAX];	 /* CA certificates (PEM); "" = the system's (/etc/ssl/certs) */
	char cert[CFG_PATH_MAX]; /* client certificate (PEM); with key */
	char key[CFG_PATH_MAX];	 /* its private key (PEM); with cert */
	uint16_t keepalive_s;	 /* 5..65535. Default CFG_MQTT_KEEPALIVE_DEF */
};

struct cfg_download {
	char ca[CFG_PATH_MAX]; /* CA certificates for https:// firmware_url; "" = the system's */
	/* largest download, bytes; 0 = tcu: max_firmware_bytes. Default 0 */
	uint64_t max_bytes;
	uint32_t stall_timeout_s;   /* no byte for this long: the attempt fails. Default 30 */
	uint32_t connect_timeout_s; /* TCP + TLS handshake. Default 20 */
};

struct cfg_platform {
	struct cfg_mqtt mqtt;
	struct cfg_download download;
};

struct fota_config {
	char source[256];      /* file name as given, for messages */
	char bus[CFG_BUS_MAX]; /* "" when absent */
	uint32_t bitrate;      /* 0 = leave the interface as it is */
	uint32_t data_bitrate; /* FD data phase; 0 = leave */
	bool fd;	       /* open the bus for CAN FD */
	struct cfg_tcu tcu;
	struct cfg_ecu *ecus; /* malloc'd, file order */
	size_t necus;
	struct cfg_trust trust;
	struct cfg_platform platform;
};

/* The keys that may sign for ECU NAME: a bit per trust key (all: ~0u). */
uint32_t cfg_trust_allowed(const struct fota_config *cfg, const char *name);

/* A TCU id (mqtt client_id, topic level): [A-Za-z0-9_.-]+, not "." or "..". */
bool cfg_is_tcu_id(const char *s);

/* Fill *cfg with every default and no ECU (what an empty mapping loads as). */
void cfg_init(struct fota_config *cfg);

/*
 * Load PATH into *cfg (any previous content is overwritten, not released).
 * Returns 0; -EBADMSG with *err set (syntax, unknown key, bad value...);
 * -ENOENT/-EACCES/-EISDIR (err->line 0) when the file cannot be read;
 * -EFBIG above CFG_MAX_BYTES; -ENOMEM. On error *cfg holds nothing to release.
 */
int cfg_load_file(const char *path, struct fota_config *cfg, struct cfg_error *err);

/* The same loader over a buffer; NAME is the file name used in errors. */
int cfg_load_string(const char *text, size_t len, const char *name, struct fota_config *cfg,
		    struct cfg_error *err);

/* The ECU called NAME, or NULL. */
const struct cfg_ecu *cfg_find_ecu(const struct fota_config *cfg, const char *name);

/* Free what the loader allocated; *cfg is left as after cfg_init(). */
void cfg_release(struct fota_config *cfg);

/* "file:line:col: msg" (or "file: msg" without a position) into buf; returns buf. */
const char *cfg_error_str(const struct cfg_error *err, char *buf, size_t size);

/* Defaults of the per-ECU blocks, for --request-id/--response-id without a config. */
void cfg_ecu_defaults(struct cfg_ecu *ecu);

/* The ECU's functional request id: as configured, else 0x7DF or 0x18DB33F1 by its id kind. */
uint32_t cfg_ecu_functional_id(const struct cfg_ecu *ecu);

/* "functional", "physical", "idle", "off" -> 0 and *m; -EINVAL for another word. */
int cfg_tester_present_parse(const char *s, enum cfg_tester_present *m);
const char *cfg_tester_present_str(enum cfg_tester_present m);

/*
 * Parse a key spec (security: key, or a command's --key) into *key (zeroed
 * first; timeout_ms = CFG_KEY_TIMEOUT_MS_DEF). Does not touch the file
 * system: a missing program or library is found at compute time. Returns 0,
 * or -EINVAL with a one-line reason in err (if err is not NULL), e.g.
 * "xor mask: expected hex bytes". Never quotes the mask back.
 */
int cfg_key_parse(const char *spec, struct cfg_key *key, char *err, size_t errsize);

/* "xor", "cmd", "lib" (for messages). */
const char *cfg_key_kind_name(enum cfg_key_kind kind);

/* Is [start, start+len) inside one configured region of ECU? */
bool cfg_ecu_range_ok(const struct cfg_ecu *ecu, uint32_t start, uint64_t len);

#endif
