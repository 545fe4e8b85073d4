// SPDX-License-Identifier: MIT
/*
 * libFuzzer target for the frame text forms (core/frame.c): cansend syntax
 * and candump -l log lines. Besides "no crash, no UB" it checks what callers
 * rely on: an accepted frame is well formed, and formatting it and parsing
 * the text again gives the same frame (so traces and fixtures round-trip).
 */
#include <stdlib.h>
#include <string.h>
#include "core/frame.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void round_trip(const struct bus_frame *f)
{
	char text[BUS_FRAME_TEXT_MAX], line[BUS_FRAME_TEXT_MAX + 64];
	struct bus_frame g;
	int n;

	if (!bus_frame_valid(f))
		abort();
	n = bus_frame_format(text, sizeof(text), f);
	if (n <= 0 || (size_t)n >= sizeof(text))
		abort();
	if (bus_frame_parse(&g, text) != 0)
		abort();
	/* RTR frames carry a length but no data bytes */
	if (g.id != f->id || g.flags != f->flags || g.len != f->len ||
	    (!(f->flags & BUS_FRAME_RTR) && memcmp(g.data, f->data, f->len)))
		abort();
	bus_frame_format_log(line, sizeof(line), 1700000000, 123456, "can0", f);
	if (bus_frame_parse_log(line, &g, NULL, NULL, NULL, 0) != 0 || g.id != f->id)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1);
	struct bus_frame f;
	char ifname[16];

	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	if (bus_frame_parse(&f, text) == 0)
		round_trip(&f);
	if (bus_frame_parse_log(text, &f, NULL, NULL, ifname, sizeof(ifname)) == 0)
		round_trip(&f);
	free(text);
	return 0;
}
