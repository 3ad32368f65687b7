
/*
 * wan: Alibaba's Wan (Tongyi Wanxiang) video models on DashScope / Model
 * Studio.
 *
 *   POST {url}/api/v1/services/aigc/video-generation/video-synthesis
 *                                          create, with X-DashScope-Async
 *   GET  {url}/api/v1/tasks/{task_id}      status
 *   POST {url}/api/v1/tasks/{task_id}/cancel
 *                                          cancel (PENDING tasks only)
 *
 * url= is the host only: https://dashscope-intl.aliyuncs.com (Singapore),
 * https://dashscope.aliyuncs.com (Beijing), https://dashscope-us...
 * (Virginia) or a workspace host https://{WorkspaceId}.<region>.maas.
 * aliyuncs.com; the adapter adds /api/v1 (a url= ending in /api/v1 is
 * refused at nginx -t).  The model, the key and the host must be of the
 * same region.  Auth: "Authorization: Bearer sk-...".  The create must
 * carry "X-DashScope-Async: enable": without it DashScope answers
 * "current user api does not support synchronous calls".
 *
 * Body, as the Model Studio references document it and the dashscope SDK
 * (VideoSynthesis) names it:
 *   {"model", "input": {"prompt", "negative_prompt", "img_url"},
 *    "parameters": {"size" | "resolution", "duration", "seed",
 *                   "prompt_extend", "watermark"}}
 * Text-to-video gives "size" as "W*H" with an asterisk, one of the
 * documented 13 (480P: 832*480 480*832 624*624; 720P: 1280*720 720*1280
 * 960*960 1088*832 832*1088; 1080P: 1920*1080 1080*1920 1440*1440
 * 1632*1248 1248*1632; each model takes some of them); image-to-video
 * gives "resolution" as "480P", "720P" or "1080P" and the video takes
 * the image's shape.  Others are refused with a 400 listing the allowed
 * values.  Durations vary by model (3-5 s for 2.1 turbo, 5 for 2.2, 5 or
 * 10 for 2.5, 2-15 for 2.6): the operator lists them with seconds=; note
 * that DashScope accepts an unsupported duration and fails the task
 * later, so list them right.  The SDK's deprecated input.extend_prompt
 * is not sent; parameters.prompt_extend replaces it.
 *
 * img_url: a public http(s) URL or a "data:{MIME};base64,..." string
 * (Model Studio's image-to-video reference, both documented) [V].
 *
 * Status words: PENDING, RUNNING, SUSPENDED, SUCCEEDED (output.video_url,
 * a signed OSS URL valid 24 hours, no credentials needed), FAILED
 * (output.code, output.message), CANCELED, UNKNOWN (the task does not
 * exist, or its id expired after 24 hours) [V SDK TaskStatus, doc].
 * SUSPENDED is a queued task held back; UNKNOWN is a failure.  No
 * progress figure.  Errors: {"request_id", "code", "message"}, e.g. 400
 * InvalidParameter, 401 InvalidApiKey, 429 Throttling [V doc example for
 * InvalidApiKey; others S].
 *
 * Cancel works on PENDING tasks only [V doc]; the refusal's exact shape
 * is not documented [U], so any refusal leads to a read of the task: if
 * it has finished meanwhile, that outcome stands (a completed video is
 * kept and charged); if it still runs, the cancel fails (the client gets
 * 502 cancel_failed) and the task runs on, to be charged if it succeeds.
 *
 * Params: prompt_extend=true|false and watermark=true|false, sent only
 * when set (DashScope's defaults: true and false).
 */

#include "../mc_adapter.h"

#include <stdio.h>


#define MC_WAN_CREATE  "/api/v1/services/aigc/video-generation/video-synthesis"


static int mc_wan_init(mc_provider_t *p, mc_pool_t *pool, char *err,
    size_t errlen);
static int mc_wan_create_request(mc_call_t *c, mc_http_req_t *req);
static int mc_wan_create_reply(mc_call_t *c, const mc_http_resp_t *resp,
    mc_http_req_t *next);
static int mc_wan_status_request(mc_call_t *c, mc_http_req_t *req);
static int mc_wan_status_reply(mc_call_t *c, const mc_http_resp_t *resp,
    mc_http_req_t *next);
static int mc_wan_cancel_request(mc_call_t *c, mc_http_req_t *req);
static int mc_wan_cancel_reply(mc_call_t *c, const mc_http_resp_t *resp,
    mc_http_req_t *next);
static int mc_wan_task(mc_call_t *c, json_t *j);
static int mc_wan_call(mc_call_t *c, mc_http_req_t *req, const char *method,
    const char *suffix);
static void mc_wan_fail(mc_call_t *c, int status, json_t *j);
static const char *mc_wan_error(mc_call_t *c, json_t *j);
static int mc_wan_bool_param(mc_provider_t *p, const char *name, char *err,
    size_t errlen);


static const char *const  mc_wan_params[] = {
    "prompt_extend", "watermark", NULL
};

static const char *const  mc_wan_sizes[] = {
    "832*480", "480*832", "624*624",
    "1280*720", "720*1280", "960*960", "1088*832", "832*1088",
    "1920*1080", "1080*1920", "1440*1440", "1632*1248", "1248*1632"
};


static int
mc_wan_init(mc_provider_t *p, mc_pool_t *pool, char *err, size_t errlen)
{
    size_t  len;

    if (p->key == NULL) {
        snprintf(err, errlen, "provider \"%s\" needs key_file= or key_env= "
                 "with the DashScope API key", p->name);
        return MC_ERROR;
    }

    len = p->base_url ? strlen(p->base_url) : 0;

    if (len >= 7 && strcmp(p->base_url + len - 7, "/api/v1") == 0) {
        snprintf(err, errlen, "url= of provider \"%s\" is the host only: "
                 "the adapter adds /api/v1", p->name);
        return MC_ERROR;
    }

    if (mc_wan_bool_param(p, "prompt_extend", err, errlen) != MC_OK
        || mc_wan_bool_param(p, "watermark", err, errlen) != MC_OK)
    {
        return MC_ERROR;
    }

    return MC_OK;
}


static int
mc_wan_bool_param(mc_provider_t *p, const char *name, char *err,
    size_t errlen)
{
    const char  *v;

    v = mc_provider_param(p, name);

    if (v && strcmp(v, "true") != 0 && strcmp(v, "false") != 0) {
        snprintf(err, errlen, "invalid %s \"%s\": expected true or false",
                 name, v);
        return MC_ERROR;
    }

    return MC_OK;
}


static int
mc_wan_create_request(mc_call_t *c, mc_http_req_t *req)
{
    char                  *size;
    size_t                 i, n;
    json_t                *body, *input, *params;
    const char            *res, *v;
    const mc_video_req_t  *r;

    r = c->req;
    size = NULL;
    res = NULL;

    if (r->image_url) {
        switch (r->resolution) {
        case 480:
            res = "480P";
            break;
        case 720:
            res = "720P";
            break;
        case 1080:
            res = "1080P";
            break;
        default:
            mc_result_fail(c, MC_FAIL_INPUT, 400, "resolution %dp is not "
                           "available at Wan; allowed: 480p, 720p, 1080p.",
                           r->resolution);
            return MC_CALL_DONE;
        }

    } else {
        size = mc_psprintf(c->pool, "%d*%d", r->width, r->height);
        if (size == NULL) {
            return MC_ERROR;
        }

        n = sizeof(mc_wan_sizes) / sizeof(mc_wan_sizes[0]);

        for (i = 0; i < n; i++) {
            if (strcmp(mc_wan_sizes[i], size) == 0) {
                break;
            }
        }

        if (i == n) {
            mc_result_fail(c, MC_FAIL_INPUT, 400, "size %dx%d is not "
                           "available at Wan; allowed: 832x480, 480x832, "
                           "624x624, 1280x720, 720x1280, 960x960, 1088x832, "
                           "832x1088, 1920x1080, 1080x1920, 1440x1440, "
                           "1632x1248, 1248x1632.", r->width, r->height);
            return MC_CALL_DONE;
        }
    }

    input = json_object();
    json_object_set_new(input, "prompt", json_string(r->prompt));

    if (r->negative_prompt && r->negative_prompt[0]) {
        json_object_set_new(input, "negative_prompt",
                            json_string(r->negative_prompt));
    }

    if (r->image_url) {
        json_object_set_new(input, "img_url", json_string(r->image_url));
    }

    params = json_object();

    if (size) {
        json_object_set_new(params, "size", json_string(size));

    } else {
        json_object_set_new(params, "resolution", json_string(res));
    }

    json_object_set_new(params, "duration", json_integer(r->seconds));

    if (r->has_seed) {
        json_object_set_new(params, "seed", json_integer(r->seed));
    }

    v = mc_provider_param(c->provider, "prompt_extend");
    if (v) {
        json_object_set_new(params, "prompt_extend",
                            json_boolean(strcmp(v, "true") == 0));
    }

    v = mc_provider_param(c->provider, "watermark");
    if (v) {
        json_object_set_new(params, "watermark",
                            json_boolean(strcmp(v, "true") == 0));
    }

    body = json_object();
    json_object_set_new(body, "model", json_string(c->model_id));
    json_object_set_new(body, "input", input);
    json_object_set_new(body, "parameters", params);

    mc_http_req_init(req, "POST", mc_provider_url(c, MC_WAN_CREATE));

    if (req->url == NULL
        || mc_http_req_header(req, "Authorization",
                              mc_bearer(c, c->provider->key)) != MC_OK
        || mc_http_req_header(req, "X-DashScope-Async", "enable") != MC_OK)
    {
        json_decref(body);
        return MC_ERROR;
    }

    if (mc_http_req_json(c, req, body) != MC_OK) {
        return MC_ERROR;
    }

    return MC_CALL_SEND;
}


static int
mc_wan_create_reply(mc_call_t *c, const mc_http_resp_t *resp,
    mc_http_req_t *next)
{
    int          rc;
    json_t      *j;
    const char  *id;

    j = mc_reply_json(c, resp);

    if (resp->status >= 400) {
        mc_wan_fail(c, resp->status, j);
        json_decref(j);
        return MC_CALL_DONE;
    }

    if (j == NULL) {
        return MC_CALL_DONE;
    }

    id = mc_json_path_str(j, "output.task_id");

    if (id == NULL || id[0] == '\0') {
        /* DashScope's error object in a 200 */
        if (mc_json_str(j, "code")) {
            mc_wan_fail(c, resp->status, j);

        } else {
            mc_result_fail(c, MC_FAIL_PROTOCOL, resp->status, "a create "
                           "answer without output.task_id");
        }

        json_decref(j);
        return MC_CALL_DONE;
    }

    c->result.provider_task_id = mc_result_str(c, id);

    rc = mc_wan_task(c, j);

    json_decref(j);
    return rc;
}


static int
mc_wan_status_request(mc_call_t *c, mc_http_req_t *req)
{
    return mc_wan_call(c, req, "GET", "");
}


static int
mc_wan_status_reply(mc_call_t *c, const mc_http_resp_t *resp,
    mc_http_req_t *next)
{
    int          rc;
    json_t      *j;
    const char  *msg;

    if (resp->status == 404) {
        mc_result_lost(c, "task");
        return MC_CALL_DONE;
    }

    j = mc_reply_json(c, resp);

    if (resp->status >= 400) {
        msg = j ? mc_wan_error(c, j) : NULL;
        mc_result_fail(c, MC_FAIL_PROTOCOL, resp->status, "status HTTP %d: "
                       "%s", resp->status, msg ? msg : "no reason given");
        json_decref(j);
        return MC_CALL_DONE;
    }

    if (j == NULL) {
        return MC_CALL_DONE;
    }

    if (json_object_get(j, "output") == NULL && mc_json_str(j, "code")) {
        msg = mc_wan_error(c, j);
        mc_result_fail(c, MC_FAIL_PROTOCOL, resp->status, "status: %s",
                       msg ? msg : "an error without a message");
        json_decref(j);
        return MC_CALL_DONE;
    }

    rc = mc_wan_task(c, j);
    json_decref(j);

    return rc;
}


/* output.task_status, as create, status and the cancel read show it */

static int
mc_wan_task(mc_call_t *c, json_t *j)
{
    const char  *status, *url;

    status = mc_json_path_str(j, "output.task_status");

    if (status == NULL) {
        mc_result_fail(c, MC_FAIL_PROTOCOL, 0, "a task without "
                       "output.task_status");
        return MC_CALL_DONE;
    }

    if (strcmp(status, "PENDING") == 0 || strcmp(status, "SUSPENDED") == 0) {
        mc_result_state(c, MC_TASK_QUEUED, -1);

    } else if (strcmp(status, "RUNNING") == 0) {
        mc_result_state(c, MC_TASK_IN_PROGRESS, -1);

    } else if (strcmp(status, "SUCCEEDED") == 0) {
        url = mc_json_path_str(j, "output.video_url");

        mc_result_completed(c, url);

    } else if (strcmp(status, "FAILED") == 0) {
        mc_result_task_failed(c, mc_json_path_str(j, "output.code"),
                              mc_json_path_str(j, "output.message"));

    } else if (strcmp(status, "CANCELED") == 0) {
        mc_result_canceled(c);

    } else if (strcmp(status, "UNKNOWN") == 0) {
        mc_result_task_failed(c, "provider_lost", "The provider no longer "
                              "knows this task (its id expires after 24 "
                              "hours).");

    } else {
        mc_result_fail(c, MC_FAIL_PROTOCOL, 0, "unknown status \"%.32s\"",
                       status);
    }

    return MC_CALL_DONE;
}


static int
mc_wan_cancel_request(mc_call_t *c, mc_http_req_t *req)
{
    return mc_wan_call(c, req, "POST", "/cancel");
}


static int
mc_wan_cancel_reply(mc_call_t *c, const mc_http_resp_t *resp,
    mc_http_req_t *next)
{
    int      rc, refused;
    json_t  *j;

    if (c->step == 1) {
        if (resp->status == 404) {
            /* a task DashScope does not know runs nowhere */
            mc_result_task_failed(c, "canceled", "The task was canceled.");
            return MC_CALL_DONE;
        }

        refused = 1;

        if (resp->status < 300) {
            /* a 200 carrying DashScope's error object is a refusal too */
            j = resp->body_len ? json_loadb(resp->body, resp->body_len, 0,
                                            NULL)
                               : NULL;
            refused = j && mc_json_str(j, "code") != NULL;
            json_decref(j);
        }

        if (!refused) {
            mc_result_task_failed(c, "canceled", "The task was canceled.");
            return MC_CALL_DONE;
        }

        /* refused: running, or finished meanwhile; the task says which */
        return mc_wan_call(c, next, "GET", "");
    }

    j = resp->status < 300 ? mc_reply_json(c, resp) : NULL;

    if (j == NULL) {
        mc_result_fail(c, MC_FAIL_PROTOCOL, resp->status, "DashScope refused "
                       "the cancel and the task could not be read");
        return MC_CALL_DONE;
    }

    rc = mc_wan_task(c, j);
    json_decref(j);

    if (c->result.fail == MC_FAIL_NONE && c->result.has_state
        && !mc_task_is_terminal(c->result.status))
    {
        mc_result_fail(c, MC_FAIL_UNSUPPORTED, resp->status, "DashScope "
                       "cancels PENDING tasks only; this one runs to the "
                       "end");
    }

    return rc;
}


static int
mc_wan_call(mc_call_t *c, mc_http_req_t *req, const char *method,
    const char *suffix)
{
    const char  *id;

    id = c->task ? c->task->provider_task_id : NULL;

    if (id == NULL || id[0] == '\0' || id[strcspn(id, "/?#% ")] != '\0') {
        mc_result_fail(c, MC_FAIL_PROTOCOL, 0, "the task has no valid "
                       "DashScope task id");
        return MC_CALL_DONE;
    }

    mc_http_req_init(req, method,
                     mc_provider_url(c, "/api/v1/tasks/%s%s", id, suffix));

    if (req->url == NULL
        || mc_http_req_header(req, "Authorization",
                              mc_bearer(c, c->provider->key)) != MC_OK)
    {
        return MC_ERROR;
    }

    return MC_CALL_SEND;
}


/*
 * A refused create.  The HTTP status classes most refusals; a 200 with
 * DashScope's error object is classed by its code.
 */

static void
mc_wan_fail(mc_call_t *c, int status, json_t *j)
{
    mc_fail_e    fail;
    const char  *code, *msg;

    code = j ? mc_json_str(j, "code") : NULL;
    msg = j ? mc_wan_error(c, j) : NULL;

    fail = MC_FAIL_INPUT;

    if (status < 400 && code) {
        if (mc_str_has_prefix(code, "Throttling")
            || strcmp(code, "InternalError") == 0
            || mc_str_has_prefix(code, "InternalError."))
        {
            fail = MC_FAIL_RETRY;

        } else if (strcmp(code, "InvalidApiKey") == 0
                   || strcmp(code, "AccessDenied") == 0
                   || mc_str_has_prefix(code, "AccessDenied."))
        {
            /* the message may echo the key: say nothing of it */
            mc_result_fail(c, MC_FAIL_AUTH, 401, "the provider rejected the "
                           "gateway's credentials (%.32s)", code);
            return;
        }
    }

    mc_result_fail(c, fail, status >= 400 ? status : 400, "%s",
                   msg ? msg : "the request was rejected");
}


/* {"request_id", "code", "message"} */

static const char *
mc_wan_error(mc_call_t *c, json_t *j)
{
    const char  *msg;

    msg = mc_json_str(j, "message");
    if (msg == NULL || msg[0] == '\0') {
        msg = mc_json_str(j, "code");
    }

    return mc_sanitize_message(c, msg);
}


static const mc_adapter_t  mc_adapter_wan = {
    "wan",
    MC_FEAT_IMAGE_URL | MC_FEAT_IMAGE_DATA | MC_FEAT_SEED | MC_FEAT_NEGATIVE
        | MC_FEAT_CANCEL,
    mc_wan_params,
    mc_wan_init,
    mc_wan_create_request,
    mc_wan_create_reply,
    mc_wan_status_request,
    mc_wan_status_reply,
    mc_wan_cancel_request,
    mc_wan_cancel_reply,
    NULL
};

MC_ADAPTER_REGISTER(mc_adapter_wan);
