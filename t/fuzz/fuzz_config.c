
/*
 * libFuzzer: directive arguments as an operator could write them, for
 * makeclip_provider, makeclip_model, makeclip_plan and makeclip_route.
 */

#include "mc_catalog.h"
#include "mc_route.h"

#include <stdlib.h>


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char           *copy, *argv[16], err[512];
    size_t          argc;
    mc_catalog_t   *cat;
    mc_routes_t    *routes;

    if (size < 1) {
        return 0;
    }

    copy = malloc(size + 1);
    memcpy(copy, data + 1, size - 1);
    copy[size - 1] = '\0';

    argc = 0;
    for (char *p = strtok(copy, " \t\n"); p && argc < 16;
         p = strtok(NULL, " \t\n"))
    {
        argv[argc++] = p;
    }

    cat = mc_catalog_create();
    routes = mc_routes_create();

    switch (data[0] % 4) {
    case 0:
        if (argc) {
            mc_catalog_add_provider(cat, argv, argc, "f:1", err, sizeof(err));
        }
        break;
    case 1:
        if (argc) {
            mc_catalog_add_model(cat, argv, argc, "f:1", err, sizeof(err));
        }
        break;
    case 2:
        if (argc) {
            mc_catalog_add_plan(cat, argv, argc, "f:1", err, sizeof(err));
        }
        break;
    default:
        mc_routes_add(routes, argv, argc, "f:1", err, sizeof(err));
        break;
    }

    mc_catalog_finalize(cat, err, sizeof(err));
    mc_routes_resolve(routes, cat, err, sizeof(err));

    mc_routes_destroy(routes);
    mc_catalog_destroy(cat);
    free(copy);

    return 0;
}
