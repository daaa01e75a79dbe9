/* bench_engine.c - hand-off cost: raw semaphore ping-pong vs engine requests. */
#include <stdio.h>

int main(void)
{
    puts("bench_engine: being written");
    return 0;
}
