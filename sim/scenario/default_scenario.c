/* default_scenario.c - scenarios/03-convoy.json, embedded by CMake. */
#include "gilsim/scenario.h"

static const unsigned char default_json[] = {
#include "default_scenario.inc"
};

const char *gs_scenario_default_json(void)
{
    return (const char *)default_json;
}
