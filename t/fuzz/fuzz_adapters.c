
/*
 * libFuzzer: every registered adapter's reply handlers on arbitrary
 * provider answers, with several HTTP statuses and call steps, as if a
 * provider (or anything pretending to be one) sent them.
 */

#include "mc_adapter.h"
#include "mc_catalog.h"

#include <stdio.h>
#include <stdlib.h>


#define MAX_PROVIDERS  32


static mc_catalog_t   *cat;
static mc_provider_t  *providers[MAX_PROVIDERS];
static size_t          nproviders;


static void
setup(void)
{
    char                 err[256], name[64], *argv[8];
    const mc_adapter_t  *a;

    setenv("FUZZ_KEY", "fuzz-key-0123456789", 1);
    setenv("FUZZ_SECRET", "fuzz-secret-0123456789", 1);

    cat = mc_catalog_create();

    for (a = mc_adapter_next(NULL); a && nproviders < MAX_PROVIDERS;
         a = mc_adapter_next(a))
    {
        snprintf(name, sizeof(name), "p%zu", nproviders);

        argv[0] = name;
        argv[1] = mc_psprintf(cat->pool, "adapter=%s", a->name);
        argv[2] = "url=https://provider.example/base";
        argv[3] = "key_env=FUZZ_KEY";
        argv[4] = "secret_env=FUZZ_SECRET";

        providers[nproviders] = mc_catalog_add_provider(cat, argv, 5, "f:1",
                                                        err, sizeof(err));
        if (providers[nproviders]) {
            nproviders++;
        }
    }
}


static void
run(mc_provider_t *p, mc_adapter_reply_pt reply, int status, int step,
    const char *body, size_t len)
{
    int              rc;
    mc_pool_t       *pool;
    mc_call_t        c;
    mc_task_t        t;
    mc_video_req_t   req;
    mc_http_req_t    next;
    mc_http_resp_t   resp;

    if (reply == NULL) {
        return;
    }

    pool = mc_pool_create(4096);

    memset(&req, 0, sizeof(req));
    req.prompt = "p";
    req.seconds = 5;
    req.width = 1280;
    req.height = 720;
    req.size = "1280x720";
    req.aspect_ratio = "16:9";
    req.resolution = 720;

    memset(&t, 0, sizeof(t));
    strcpy(t.id, "video_f");
    t.account = "a";
    t.provider_task_id = "task-1";
    t.provider_data = step ? "{\"status_url\":\"https://provider.example/"
                             "base/s\",\"response_url\":\"https://provider."
                             "example/base/r\",\"endpoint\":\"text2video\","
                             "\"file_id\":\"1\"}"
                           : NULL;
    t.created_at = 1;

    memset(&c, 0, sizeof(c));
    c.pool = pool;
    c.provider = p;
    c.model_id = "model";
    c.req = &req;
    c.task = &t;
    c.now = 1764000000000LL;
    c.step = step;
    c.result.progress = -1;

    memset(&resp, 0, sizeof(resp));
    resp.transport = MC_TRANSPORT_OK;
    resp.status = status;
    resp.body = body;
    resp.body_len = len;

    rc = mc_adapter_common_reply(&c, &resp);

    if (rc != MC_CALL_DONE) {
        mc_http_req_init(&next, "GET", NULL);
        reply(&c, &resp, &next);
    }

    mc_pool_destroy(pool);
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int          status, step;
    char        *body;
    size_t       i;
    const mc_adapter_t  *a;

    static const int  statuses[] = { 200, 201, 400, 404, 422 };

    if (cat == NULL) {
        setup();
    }

    if (size < 2) {
        return 0;
    }

    status = statuses[data[0] % 5];
    step = data[1] % 3;

    /* a NUL-terminated copy: adapters may treat bodies as C strings only
     * after mc_reply_json, but a copy keeps the fuzzer honest */
    body = malloc(size - 1);
    memcpy(body, data + 2, size - 2);
    body[size - 2] = '\0';

    for (i = 0; i < nproviders; i++) {
        a = providers[i]->adapter;
        run(providers[i], a->create_reply, status, step, body, size - 2);
        run(providers[i], a->status_reply, status, step, body, size - 2);
        run(providers[i], a->cancel_reply, status, step, body, size - 2);
    }

    free(body);
    return 0;
}
