
/*
 * sandbox: a provider that needs no network.  A task waits in the queue,
 * runs with rising progress and completes with a small video file served
 * by the gateway, all on the clock, so the default configuration works
 * offline and every endpoint can be tried at once.
 *
 * Outcomes on demand, from the prompt or the provider model id:
 *   "[fail]"   or model sandbox-fail     the task fails while running
 *   "[reject]"                           the create is rejected (400)
 *   "[error]"                            the create fails like a 503,
 *                                        so routing falls back
 */

#include "../mc_adapter.h"

#include <stdio.h>
#include <stdlib.h>


typedef struct {
    mc_msec_t    queue;
    mc_msec_t    run;
    const char  *video;
} mc_sandbox_conf_t;


static const char *const  mc_sandbox_params[] = {
    "queue", "run", "video", NULL
};


static int
mc_sandbox_init(mc_provider_t *p, mc_pool_t *pool, char *err, size_t errlen)
{
    const char         *v;
    mc_sandbox_conf_t  *conf;

    conf = mc_pcalloc(pool, sizeof(mc_sandbox_conf_t));
    if (conf == NULL) {
        snprintf(err, errlen, "out of memory");
        return MC_ERROR;
    }

    conf->queue = 1000;
    conf->run = 4000;
    conf->video = "conf/sandbox.mp4";

    v = mc_provider_param(p, "queue");
    if (v && mc_parse_duration(v, &conf->queue) != MC_OK) {
        snprintf(err, errlen, "invalid queue \"%s\"", v);
        return MC_ERROR;
    }

    v = mc_provider_param(p, "run");
    if (v && (mc_parse_duration(v, &conf->run) != MC_OK || conf->run <= 0)) {
        snprintf(err, errlen, "invalid run \"%s\"", v);
        return MC_ERROR;
    }

    v = mc_provider_param(p, "video");
    if (v) {
        conf->video = v;
    }

    p->conf = conf;
    return MC_OK;
}


static int
mc_sandbox_create_request(mc_call_t *c, mc_http_req_t *req)
{
    char          id[MC_ID_LEN + 1];
    int           fail;
    const char   *prompt;

    prompt = c->req->prompt;

    if (strstr(prompt, "[reject]")) {
        mc_result_fail(c, MC_FAIL_INPUT, 400,
                       "The sandbox rejected the prompt.");
        return MC_CALL_DONE;
    }

    if (strstr(prompt, "[error]")) {
        mc_result_fail(c, MC_FAIL_RETRY, 503, "HTTP 503");
        return MC_CALL_DONE;
    }

    fail = strstr(prompt, "[fail]") != NULL
           || strcmp(c->model_id, "sandbox-fail") == 0;

    if (mc_new_id(id, sizeof(id), "sbx_") != MC_OK) {
        mc_result_fail(c, MC_FAIL_RETRY, 0, "no randomness");
        return MC_CALL_DONE;
    }

    c->result.provider_task_id = mc_pstrdup(c->pool, id);
    c->result.provider_data = fail ? "{\"fail\":true}" : "{}";
    mc_result_state(c, MC_TASK_QUEUED, 0);

    return MC_CALL_DONE;
}


static int
mc_sandbox_status_request(mc_call_t *c, mc_http_req_t *req)
{
    mc_msec_t           elapsed;
    const mc_task_t    *t;
    mc_sandbox_conf_t  *conf;

    conf = c->provider->conf;
    t = c->task;
    elapsed = c->now - t->created_at;

    if (elapsed < conf->queue) {
        mc_result_state(c, MC_TASK_QUEUED, 0);

    } else if (elapsed < conf->queue + conf->run) {
        mc_result_state(c, MC_TASK_IN_PROGRESS,
                        (int) ((elapsed - conf->queue) * 100 / conf->run));

    } else if (t->provider_data && strstr(t->provider_data, "\"fail\"")) {
        mc_result_task_failed(c, "generation_failed",
                              "The sandbox was asked to fail this task.");

    } else {
        mc_result_state(c, MC_TASK_COMPLETED, 100);
        c->result.video_url = "sandbox:video";
    }

    return MC_CALL_DONE;
}


static int
mc_sandbox_cancel_request(mc_call_t *c, mc_http_req_t *req)
{
    mc_result_task_failed(c, "canceled", "The task was canceled.");
    return MC_CALL_DONE;
}


static int
mc_sandbox_content_request(mc_call_t *c, mc_http_req_t *req)
{
    mc_sandbox_conf_t  *conf;

    conf = c->provider->conf;
    c->result.local_file = conf->video;

    return MC_CALL_DONE;
}


static const mc_adapter_t  mc_adapter_sandbox = {
    "sandbox",
    MC_FEAT_LOCAL | MC_FEAT_IMAGE | MC_FEAT_SEED | MC_FEAT_NEGATIVE
        | MC_FEAT_CANCEL,
    mc_sandbox_params,
    mc_sandbox_init,
    mc_sandbox_create_request,
    NULL,
    mc_sandbox_status_request,
    NULL,
    mc_sandbox_cancel_request,
    NULL,
    mc_sandbox_content_request
};

MC_ADAPTER_REGISTER(mc_adapter_sandbox);
