// SPDX-License-Identifier: MIT
/*
 * Unit tests of the one mapping from what failed to the exit status
 * (fota_exit_status(), core/err.h), row by row of fota(1) EXIT STATUS: the
 * same errno gives a different status by where it came from.
 */
#include "core/err.h"
#include "tests/unit/t.h"

static void test_err__same_errno_by_what_failed(void)
{
	T_EQ(fota_exit_status(FOTA_FAIL_INPUT, -ENOENT), FOTA_EXIT_DATA);      /* -c missing */
	T_EQ(fota_exit_status(FOTA_FAIL_BUS, -ENOENT), FOTA_EXIT_UNAVAILABLE); /* unix:DIR */
	T_EQ(fota_exit_status(FOTA_FAIL_OUTPUT, -ENOENT), FOTA_EXIT_FAIL);     /* --trace */
	T_EQ(fota_exit_status(FOTA_FAIL_USAGE, -ENOENT), FOTA_EXIT_USAGE);     /* -e nosuch */
	T_EQ(fota_exit_status(FOTA_FAIL_RUN, -ENOENT), FOTA_EXIT_FAIL);
}

static void test_err__every_class(void)
{
	static const enum fota_fail all[] = { FOTA_FAIL_RUN, FOTA_FAIL_USAGE, FOTA_FAIL_INPUT,
					      FOTA_FAIL_OUTPUT, FOTA_FAIL_BUS };

	for (size_t i = 0; i < FOTA_ARRAY_SIZE(all); i++) {
		T_EQ(fota_exit_status(all[i], 0), FOTA_EXIT_OK);
		T_EQ(fota_exit_status(all[i], -ENOMEM), FOTA_EXIT_FAIL);
	}
	T_EQ(fota_exit_status(FOTA_FAIL_INPUT, -EBADMSG), FOTA_EXIT_DATA);
	T_EQ(fota_exit_status(FOTA_FAIL_INPUT, -EACCES), FOTA_EXIT_DATA);
	T_EQ(fota_exit_status(FOTA_FAIL_OUTPUT, -ENOSPC), FOTA_EXIT_FAIL);
	T_EQ(fota_exit_status(FOTA_FAIL_BUS, -EINVAL), FOTA_EXIT_USAGE); /* no bus at all */
	T_EQ(fota_exit_status(FOTA_FAIL_BUS, -ENODEV), FOTA_EXIT_UNAVAILABLE);
	T_EQ(fota_exit_status(FOTA_FAIL_BUS, -EACCES), FOTA_EXIT_UNAVAILABLE);
}

static void test_err__the_run_by_errno(void)
{
	T_EQ(fota_exit_status(FOTA_FAIL_RUN, -ETIMEDOUT), FOTA_EXIT_UNAVAILABLE);
	T_EQ(fota_exit_status(FOTA_FAIL_RUN, -ENETDOWN), FOTA_EXIT_UNAVAILABLE);
	T_EQ(fota_exit_status(FOTA_FAIL_RUN, -ENODEV), FOTA_EXIT_UNAVAILABLE);
	T_EQ(fota_exit_status(FOTA_FAIL_RUN, -EBUSY), FOTA_EXIT_STATE);
	T_EQ(fota_exit_status(FOTA_FAIL_RUN, -EREMOTEIO), FOTA_EXIT_FAIL);
	T_EQ(fota_exit_status(FOTA_FAIL_RUN, -EPROTO), FOTA_EXIT_FAIL);
	T_EQ(fota_exit_status(FOTA_FAIL_RUN, -ECANCELED), FOTA_EXIT_FAIL);
	T_EQ(fota_exit_status(FOTA_FAIL_RUN, -EINVAL), FOTA_EXIT_FAIL);
	T_EQ(fota_exit_status(FOTA_FAIL_RUN, -EBADMSG), FOTA_EXIT_FAIL);
}

static const struct t_case cases[] = {
	T_CASE(err__same_errno_by_what_failed),
	T_CASE(err__every_class),
	T_CASE(err__the_run_by_errno),
};

int main(void)
{
	return t_main(cases, FOTA_ARRAY_SIZE(cases));
}
