// SPDX-License-Identifier: MIT
/*
 * libFuzzer target: fota.yaml(5) configuration and request files are outside
 * input. Any bytes must load or fail with a positioned error, never crash or
 * leak, and a success must hold only values the schema allows.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "core/config.h"
#include "core/request.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fota_config cfg;
	struct cfg_request req;
	struct cfg_error err;
	char line[512];

	if (cfg_load_string((const char *)data, size, "fuzz.yaml", &cfg, &err) == 0) {
		if (cfg.tcu.node_id < 1 || cfg.tcu.node_id > 127)
			abort();
		if (cfg.tcu.max_firmware_bytes < 1 ||
		    cfg.tcu.max_firmware_bytes > CFG_FIRMWARE_BYTES_MAX)
			abort();
		for (size_t i = 0; i < cfg.necus; i++) {
			const struct cfg_ecu *e = &cfg.ecus[i];

			if (!e->nregions || e->nregions > CFG_REGIONS_MAX || !e->name[0])
				abort();
			if (cfg_find_ecu(&cfg, e->name) != e)
				abort();
			if (e->request_id > BUS_EFF_MASK || e->request_id == e->response_id)
				abort();
		}
		cfg_release(&cfg);
	} else {
		if (cfg.ecus || cfg.necus || !err.msg[0])
			abort();
		cfg_error_str(&err, line, sizeof(line));
	}
	if (cfg_load_request_string((const char *)data, size, "in/fuzz.yaml", &req, &err) == 0) {
		char id[CFG_UUID_LEN + 1];

		if (!cfg_uuid_v4_ok(req.id) || strlen(req.sha256_hex) != 64)
			abort();
		/* a request that loads: its peeked id is its id */
		if (!cfg_request_peek_id((const char *)data, size, id) || strcmp(id, req.id))
			abort();
	} else {
		char id[CFG_UUID_LEN + 1];
		bool found = cfg_request_peek_id((const char *)data, size, id);

		if (found != (id[0] != '\0') || (found && !cfg_uuid_v4_ok(id)))
			abort();
	}
	return 0;
}
