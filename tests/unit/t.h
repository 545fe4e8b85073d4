// SPDX-License-Identifier: MIT
/*
 * The unit-test harness: TAP output ("ok 3 - isotp__fc_timeout"), a failing
 * check prints both values and file:line as a TAP comment. A test file lists
 * its tests in a table and calls t_main():
 *
 *	static const struct t_case cases[] = { T_CASE(ihex__eof_required), ... };
 *	int main(void) { return t_main(cases, FOTA_ARRAY_SIZE(cases)); }
 */
#ifndef FOTA_TESTS_T_H
#define FOTA_TESTS_T_H

#include <inttypes.h>
#include <stddef.h>
#include <stdint.h>
#include "core/err.h"

struct t_case {
	const char *name;
	void (*fn)(void);
};

#define T_CASE(name)               \
	{                          \
#name, test_##name \
	}

int t_main(const struct t_case *cases, size_t n);

/* Internal: record one failed check (the test goes on; it is reported "not ok"). */
void t_fail(const char *file, int line, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
void t_fail_mem(const char *file, int line, const char *expr, const void *a, const void *b,
		size_t n);

/* expr must be 0 (the library convention for success). */
#define T_OK(expr)                                                                           \
	do {                                                                                 \
		long long t_v_ = (long long)(expr);                                          \
		if (t_v_ != 0)                                                               \
			t_fail(__FILE__, __LINE__, "%s: expected 0, got %lld", #expr, t_v_); \
	} while (0)

#define T_TRUE(expr)                                                            \
	do {                                                                    \
		if (!(expr))                                                    \
			t_fail(__FILE__, __LINE__, "%s: expected true", #expr); \
	} while (0)

#define T_EQ(a, b)                                                                                 \
	do {                                                                                       \
		long long t_a_ = (long long)(a), t_b_ = (long long)(b);                            \
		if (t_a_ != t_b_)                                                                  \
			t_fail(__FILE__, __LINE__, "%s == %s: %lld (0x%llx) != %lld (0x%llx)", #a, \
			       #b, t_a_, (unsigned long long)t_a_, t_b_,                           \
			       (unsigned long long)t_b_);                                          \
	} while (0)

/* For 64-bit unsigned values such as fota_us deadlines. */
#define T_EQ_U64(a, b)                                                                          \
	do {                                                                                    \
		uint64_t t_a_ = (uint64_t)(a), t_b_ = (uint64_t)(b);                            \
		if (t_a_ != t_b_)                                                               \
			t_fail(__FILE__, __LINE__, "%s == %s: %" PRIu64 " != %" PRIu64, #a, #b, \
			       t_a_, t_b_);                                                     \
	} while (0)

#define T_ERR(expr, err) T_EQ(expr, err)

#define T_EQ_STR(a, b)                                                                   \
	do {                                                                             \
		const char *t_a_ = (a), *t_b_ = (b);                                     \
		if (!t_a_ || !t_b_ || strcmp(t_a_, t_b_) != 0)                           \
			t_fail(__FILE__, __LINE__, "%s == %s: \"%s\" != \"%s\"", #a, #b, \
			       t_a_ ? t_a_ : "(null)", t_b_ ? t_b_ : "(null)");          \
	} while (0)

#define T_EQ_MEM(a, b, n)                                                  \
	do {                                                               \
		if (memcmp((a), (b), (n)) != 0)                            \
			t_fail_mem(__FILE__, __LINE__, #a, (a), (b), (n)); \
	} while (0)

#include <string.h>

#endif
