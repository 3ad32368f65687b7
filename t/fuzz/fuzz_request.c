
/*
 * libFuzzer: the unified create request, as JSON and as multipart, then
 * validated against a small catalog.
 */

#include "mc_request.h"
#include "mc_catalog.h"

#include <stdlib.h>


static mc_catalog_t  *cat;


static void
setup(void)
{
    char  err[256];
    char *p[] = { "s", "adapter=sandbox" };
    char *m[] = { "m", "price=3", "seconds=4,8", "sizes=1280x720,720x1280",
                  "resolutions=720p:1,1080p:1.5", "to=s" };
    char *n[] = { "n", "price=1", "seconds_policy=nearest", "to=s" };
    char *l[] = { "free", "models=m", "max_seconds=4",
                  "max_resolution=720p" };

    cat = mc_catalog_create();
    mc_catalog_add_provider(cat, p, 2, "f:1", err, sizeof(err));
    mc_catalog_add_model(cat, m, 6, "f:2", err, sizeof(err));
    mc_catalog_add_model(cat, n, 4, "f:3", err, sizeof(err));
    mc_catalog_add_plan(cat, l, 4, "f:4", err, sizeof(err));
    mc_catalog_finalize(cat, err, sizeof(err));
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    mc_pool_t       *pool;
    mc_error_t       err;
    mc_video_req_t   req;

    if (cat == NULL) {
        setup();
    }

    pool = mc_pool_create(4096);

    if (mc_request_parse_json(pool, (const char *) data, size, &req, &err)
        == MC_OK)
    {
        mc_request_validate(pool, &req, cat, mc_catalog_plan(cat, "free"),
                            "m", &err);
    }

    mc_request_free(&req);

    if (mc_request_parse_multipart(pool, (const char *) data, size,
                                   "multipart/form-data; boundary=b", &req,
                                   &err)
        == MC_OK)
    {
        mc_request_validate(pool, &req, cat, NULL, "n", &err);
    }

    mc_request_free(&req);
    mc_pool_destroy(pool);

    return 0;
}
