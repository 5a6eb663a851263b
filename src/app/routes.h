/* routes.h: THE route table, defined by the composition root (routes.c), which alone names the handlers. */
#ifndef TENANTRY_APP_ROUTES_H
#define TENANTRY_APP_ROUTES_H

#include <stddef.h>

#include "http/router.h"

extern const struct route routes[];
extern const size_t       nroutes;

#endif
