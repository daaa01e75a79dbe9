/* check_models.c - placeholder, filled next. */
#include <check.h>
#include <stdlib.h>

int main(void)
{
    return EXIT_SUCCESS;
}
