/* gilsim.h - the whole public API. */
#ifndef GILSIM_GILSIM_H
#define GILSIM_GILSIM_H

#include "common.h"
#include "engine.h"
#include "exercise.h"
#include "explain.h"
#include "fit.h"
#include "export.h"
#include "model.h"
#include "record.h"
#include "scenario.h"
#include "stats.h"
#include "trace.h"
#include "units.h"

#endif
