// SPDX-License-Identifier: MIT
/*
 * TAP runner for the unit tests (see t.h). Each case runs in order; a case
 * with any failed check is "not ok". Exit status 1 if any case failed.
 */
#include <stdarg.h>
#include <stdio.h>
#include "tests/sim/bus_mem.h"
#include "tests/unit/t.h"

static int t_failed_checks;

void t_fail(const char *file, int line, const char *fmt, ...)
{
	va_list ap;

	t_failed_checks++;
	printf("# %s:%d: ", file, line);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
}

static void hexline(const char *tag, const uint8_t *p, size_t n, size_t from)
{
	size_t i;

	printf("#   %s:", tag);
	for (i = from; i < n && i < from + 32; i++)
		printf(" %02x", p[i]);
	printf("%s\n", i < n ? " ..." : "");
}

void t_fail_mem(const char *file, int line, const char *expr, const void *a, const void *b,
		size_t n)
{
	const uint8_t *pa = a, *pb = b;
	size_t i = 0;

	while (i < n && pa[i] == pb[i])
		i++;
	t_fail(file, line, "%s: memory differs at byte %zu of %zu", expr, i, n);
	i = i >= 8 ? i - 8 : 0;
	hexline("got     ", pa, n, i);
	hexline("expected", pb, n, i);
}

int t_main(const struct t_case *cases, size_t n)
{
	int bad = 0;

	setvbuf(stdout, NULL, _IOLBF, 0);
	bus_mem_register();
	printf("1..%zu\n", n);
	for (size_t i = 0; i < n; i++) {
		t_failed_checks = 0;
		cases[i].fn();
		printf("%sok %zu - %s\n", t_failed_checks ? "not " : "", i + 1, cases[i].name);
		bad += t_failed_checks != 0;
	}
	return bad ? 1 : 0;
}
