/* main.c - placeholder until the CLI lands (issue 6). */
#include <stdio.h>

int main(void)
{
    fputs("gilsim: the command line is not built yet\n", stderr);
    return 1;
}
