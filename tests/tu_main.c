/* tu_main.c - the one main() body of the check suites (STYLE.md, "Tests
 * (check)": each suite's <module>_suite() is run by tu_main), kept apart
 * from testutil.c so that the suites that build no model in C (the UI's,
 * the lessons', the scenario loader's) share it without linking the rest. */
#include "tu_main.h"

#include <stdlib.h>

int tu_main(Suite *s)
{
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
