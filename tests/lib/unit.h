/*
 * unit.h — the shared main() of every libcheck unit-test program.
 *
 * A test file defines its suite and ends with TEST_MAIN(make_suite). The program
 * runs the suite (forked per test, so a crash fails one test, not the run) and
 * prints "SUMMARY <passed> <failed>" for tests/run.sh to add up.
 */
#ifndef MOAT_TESTS_UNIT_H
#define MOAT_TESTS_UNIT_H

#include <check.h>
#include <stdio.h>
#include <stdlib.h>

#define TEST_MAIN(make_suite)                                                                      \
    int main(void)                                                                                 \
    {                                                                                              \
        SRunner *sr = srunner_create(make_suite());                                                \
        srunner_run_all(sr, CK_NORMAL);                                                            \
        int run = srunner_ntests_run(sr);                                                          \
        int failed = srunner_ntests_failed(sr);                                                    \
        srunner_free(sr);                                                                          \
        printf("SUMMARY %d %d\n", run - failed, failed);                                           \
        return failed ? EXIT_FAILURE : EXIT_SUCCESS;                                               \
    }

#endif
