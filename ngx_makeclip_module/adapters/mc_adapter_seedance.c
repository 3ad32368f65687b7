
/*
 * seedance: ByteDance Seedance on BytePlus ModelArk (and Volcengine Ark,
 * which speaks the same API).
 *
 *   POST   {url}/api/v3/contents/generations/tasks        create
 *   GET    {url}/api/v3/contents/generations/tasks/{id}   status
 *   DELETE {url}/api/v3/contents/generations/tasks/{id}   cancel
 *
 * url= is the host only, e.g. https://ark.ap-southeast.bytepluses.com or
 * https://ark.cn-beijing.volces.com: the adapter adds /api/v3, so that
 * the documented paths appear whole here (a url= ending in /api/v3 is
 * refused at nginx -t).  Auth: "Authorization: Bearer <ARK API key>".
 *
 * The create body is what the Ark SDK's content_generation.tasks.create()
 * sends (volcengine-python-sdk, volcenginesdkarkruntime): model, content
 * [{type:"text", text}, {type:"image_url", image_url:{url},
 * role:"first_frame"}], and the top-level resolution ("480p", "720p",
 * "1080p"), ratio ("16:9", "4:3", "1:1", "3:4", "9:16", "21:9", or
 * "adaptive"), duration (an integer) and seed (an integer).  The older
 * "--rs 720p --dur 5" switches inside the text are not used.
 *
 * The ratio is the listed one nearest to the requested size; an image
 * job whose client named no size or aspect ratio gets "adaptive", the
 * documented image-to-video default (the video takes the image's shape).
 * A resolution outside the three is refused with a 400 listing them.
 * Durations vary by model (2-12 s for 1.0 pro, 4-12 for 1.5 pro, 4-15 for
 * 2.0): the operator lists the model's with makeclip_model seconds=, and
 * Seedance itself answers 400 to the rest.  No negative prompt.
 *
 * Status words: queued, running, succeeded (content.video_url, a presigned
 * URL valid about 24 hours, no credentials needed), failed (error{code,
 * message}), cancelled, expired.  No progress figure.
 *
 * Cancel: DELETE cancels a queued task (it becomes cancelled), deletes
 * the record of a finished one, and is refused for a running one, so the
 * adapter reads the task first.  Queued: DELETE.  Finished: that outcome
 * stands (a completed video is kept and charged).  Running (or refused
 * because it started meanwhile): the cancel fails, the client gets 502
 * cancel_failed, and the task runs on, to be charged when it completes.
 *
 * Facts checked: paths, body fields and types, task object (status,
 * error, content.video_url) in the Ark SDK [V]; the DELETE table per
 * status and data: URLs for image_url.url ("URL or Base64 encoding",
 * data:image/<format>;base64,...) in BytePlus's ModelArk video API pages
 * [V excerpts]; "expired" from the same pages [S].  Not verified: the
 * HTTP status and error code of a refused DELETE, so any refusal leads to
 * a second read.  Errors are {"error": {code, message, param,
 * type}}.
 *
 * Params: watermark=true|false (sent only when set).
 */

#include "../mc_adapter.h"

#include <stdio.h>


#define MC_SEEDANCE_TASKS  "/api/v3/contents/generations/tasks"


static int mc_seedance_init(mc_provider_t *p, mc_pool_t *pool, char *err,
    size_t errlen);
static int mc_seedance_create_request(mc_call_t *c, mc_http_req_t *req);
static int mc_seedance_create_reply(mc_call_t *c, const mc_http_resp_t *resp,
    mc_http_req_t *next);
static int mc_seedance_status_request(mc_call_t *c, mc_http_req_t *req);
static int mc_seedance_status_reply(mc_call_t *c, const mc_http_resp_t *resp,
    mc_http_req_t *next);
static int mc_seedance_cancel_request(mc_call_t *c, mc_http_req_t *req);
static int mc_seedance_cancel_reply(mc_call_t *c, const mc_http_resp_t *resp,
    mc_http_req_t *next);
static int mc_seedance_task(mc_call_t *c, json_t *j);
static int mc_seedance_call(mc_call_t *c, mc_http_req_t *req,
    const char *method);
static const char *mc_seedance_error(mc_call_t *c, json_t *j);


static const char *const  mc_seedance_params[] = {
    "watermark", NULL
};

static const char  *mc_seedance_ratios[] = {
    "16:9", "4:3", "1:1", "3:4", "9:16", "21:9"
};


static int
mc_seedance_init(mc_provider_t *p, mc_pool_t *pool, char *err,
    size_t errlen)
{
    size_t       len;
    const char  *v;

    if (p->key == NULL) {
        snprintf(err, errlen, "provider \"%s\" needs key_file= or key_env= "
                 "with the ModelArk API key", p->name);
        return MC_ERROR;
    }

    len = p->base_url ? strlen(p->base_url) : 0;

    if (len >= 7 && strcmp(p->base_url + len - 7, "/api/v3") == 0) {
        snprintf(err, errlen, "url= of provider \"%s\" is the host only: "
                 "the adapter adds /api/v3", p->name);
        return MC_ERROR;
    }

    v = mc_provider_param(p, "watermark");

    if (v && strcmp(v, "true") != 0 && strcmp(v, "false") != 0) {
        snprintf(err, errlen, "invalid watermark \"%s\": expected true or "
                 "false", v);
        return MC_ERROR;
    }

    return MC_OK;
}


static int
mc_seedance_create_request(mc_call_t *c, mc_http_req_t *req)
{
    json_t                *body, *content, *image;
    const char            *ratio, *res, *v;
    const mc_video_req_t  *r;

    r = c->req;

    switch (r->resolution) {
    case 480:
        res = "480p";
        break;
    case 720:
        res = "720p";
        break;
    case 1080:
        res = "1080p";
        break;
    default:
        mc_result_fail(c, MC_FAIL_INPUT, 400, "resolution %dp is not "
                       "available at Seedance; allowed: 480p, 720p, 1080p.",
                       r->resolution);
        return MC_CALL_DONE;
    }

    if (r->image_url
        && mc_request_field(c->pool, r, "size") == NULL
        && mc_request_field(c->pool, r, "aspect_ratio") == NULL)
    {
        ratio = "adaptive";

    } else {
        ratio = mc_nearest_aspect(r->width, r->height, mc_seedance_ratios,
                                  sizeof(mc_seedance_ratios)
                                  / sizeof(mc_seedance_ratios[0]));
        if (ratio == NULL) {
            mc_result_fail(c, MC_FAIL_INPUT, 400, "size %s has no aspect "
                           "ratio Seedance makes", r->size ? r->size : "");
            return MC_CALL_DONE;
        }
    }

    content = json_array();
    json_array_append_new(content, json_pack("{s:s, s:s}", "type", "text",
                                             "text", r->prompt));

    if (r->image_url) {
        image = json_pack("{s:s, s:{s:s}, s:s}", "type", "image_url",
                          "image_url", "url", r->image_url,
                          "role", "first_frame");
        json_array_append_new(content, image);
    }

    body = json_object();
    json_object_set_new(body, "model", json_string(c->model_id));
    json_object_set_new(body, "content", content);
    json_object_set_new(body, "resolution", json_string(res));
    json_object_set_new(body, "ratio", json_string(ratio));
    json_object_set_new(body, "duration", json_integer(r->seconds));

    if (r->has_seed) {
        json_object_set_new(body, "seed", json_integer(r->seed));
    }

    v = mc_provider_param(c->provider, "watermark");
    if (v) {
        json_object_set_new(body, "watermark",
                            json_boolean(strcmp(v, "true") == 0));
    }

    mc_http_req_init(req, "POST", mc_provider_url(c, MC_SEEDANCE_TASKS));

    if (req->url == NULL
        || mc_http_req_header(req, "Authorization",
                              mc_bearer(c, c->provider->key)) != MC_OK)
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
mc_seedance_create_reply(mc_call_t *c, const mc_http_resp_t *resp,
    mc_http_req_t *next)
{
    json_t      *j;
    const char  *id;

    j = mc_reply_json(c, resp);

    /* an error object is an error whatever the HTTP status says */
    if (resp->status >= 400 || (j && json_object_get(j, "error")
                                && !json_is_null(json_object_get(j, "error"))))
    {
        mc_result_rejected(c, resp->status >= 400 ? resp->status : 400,
                           j ? mc_seedance_error(c, j) : NULL);
        json_decref(j);
        return MC_CALL_DONE;
    }

    if (j == NULL) {
        return MC_CALL_DONE;
    }

    id = mc_json_str(j, "id");

    if (id == NULL || id[0] == '\0') {
        mc_result_fail(c, MC_FAIL_PROTOCOL, resp->status, "a create answer "
                       "without id");
        json_decref(j);
        return MC_CALL_DONE;
    }

    c->result.provider_task_id = mc_result_str(c, id);
    mc_result_state(c, MC_TASK_QUEUED, -1);

    json_decref(j);
    return MC_CALL_DONE;
}


static int
mc_seedance_status_request(mc_call_t *c, mc_http_req_t *req)
{
    return mc_seedance_call(c, req, "GET");
}


static int
mc_seedance_status_reply(mc_call_t *c, const mc_http_resp_t *resp,
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
        msg = j ? mc_seedance_error(c, j) : NULL;
        mc_result_fail(c, MC_FAIL_PROTOCOL, resp->status, "status HTTP %d: "
                       "%s", resp->status, msg ? msg : "no reason given");
        json_decref(j);
        return MC_CALL_DONE;
    }

    if (j == NULL) {
        return MC_CALL_DONE;
    }

    rc = mc_seedance_task(c, j);
    json_decref(j);

    return rc;
}


static int
mc_seedance_task(mc_call_t *c, json_t *j)
{
    const char  *status, *url;

    status = mc_json_str(j, "status");

    if (status == NULL) {
        mc_result_fail(c, MC_FAIL_PROTOCOL, 0, "a task without status");
        return MC_CALL_DONE;
    }

    if (strcmp(status, "queued") == 0) {
        mc_result_state(c, MC_TASK_QUEUED, -1);

    } else if (strcmp(status, "running") == 0) {
        mc_result_state(c, MC_TASK_IN_PROGRESS, -1);

    } else if (strcmp(status, "succeeded") == 0) {
        url = mc_json_path_str(j, "content.video_url");

        mc_result_completed(c, url);

    } else if (strcmp(status, "failed") == 0) {
        mc_result_task_failed(c, mc_json_path_str(j, "error.code"),
                              mc_json_path_str(j, "error.message"));

    } else if (strcmp(status, "cancelled") == 0) {
        mc_result_canceled(c);

    } else if (strcmp(status, "expired") == 0) {
        mc_result_task_failed(c, "expired", "The task waited too long at "
                              "the provider and expired.");

    } else {
        mc_result_fail(c, MC_FAIL_PROTOCOL, 0, "unknown status \"%.32s\"",
                       status);
    }

    return MC_CALL_DONE;
}


/*
 * DELETE cancels a queued task but deletes the record of a finished one,
 * and answers both alike: the task is read first, and deleted only when
 * it is still queued.
 */

static int
mc_seedance_cancel_request(mc_call_t *c, mc_http_req_t *req)
{
    return mc_seedance_call(c, req, "GET");
}


static int
mc_seedance_cancel_reply(mc_call_t *c, const mc_http_resp_t *resp,
    mc_http_req_t *next)
{
    json_t  *j;

    if (c->step == 2) {
        /* the DELETE */
        if (resp->status < 300 || resp->status == 404) {
            mc_result_task_failed(c, "canceled", "The task was canceled.");
            return MC_CALL_DONE;
        }

        /* refused: it started meanwhile, or finished; read it again */
        return mc_seedance_call(c, next, "GET");
    }

    if (resp->status == 404) {
        /* a task Seedance does not know runs nowhere */
        mc_result_task_failed(c, "canceled", "The task was canceled.");
        return MC_CALL_DONE;
    }

    j = resp->status < 300 ? mc_reply_json(c, resp) : NULL;

    if (j == NULL) {
        mc_result_fail(c, MC_FAIL_PROTOCOL, resp->status, "the task could "
                       "not be read before canceling it");
        return MC_CALL_DONE;
    }

    mc_seedance_task(c, j);
    json_decref(j);

    if (c->result.fail != MC_FAIL_NONE || !c->result.has_state
        || mc_task_is_terminal(c->result.status))
    {
        /* finished: that outcome stands, a completed video is kept */
        return MC_CALL_DONE;
    }

    if (c->result.status == MC_TASK_QUEUED && c->step == 1) {
        c->result.has_state = 0;
        return mc_seedance_call(c, next, "DELETE");
    }

    mc_result_fail(c, MC_FAIL_UNSUPPORTED, resp->status, "Seedance cannot "
                   "cancel a running task; it runs to the end");

    return MC_CALL_DONE;
}


static int
mc_seedance_call(mc_call_t *c, mc_http_req_t *req, const char *method)
{
    const char  *id;

    id = c->task ? c->task->provider_task_id : NULL;

    if (id == NULL || id[0] == '\0' || id[strcspn(id, "/?#% ")] != '\0') {
        mc_result_fail(c, MC_FAIL_PROTOCOL, 0, "the task has no valid "
                       "Seedance id");
        return MC_CALL_DONE;
    }

    mc_http_req_init(req, method,
                     mc_provider_url(c, MC_SEEDANCE_TASKS "/%s", id));

    if (req->url == NULL
        || mc_http_req_header(req, "Authorization",
                              mc_bearer(c, c->provider->key)) != MC_OK)
    {
        return MC_ERROR;
    }

    return MC_CALL_SEND;
}


/* {"error": {"code", "message", "param", "type"}} */

static const char *
mc_seedance_error(mc_call_t *c, json_t *j)
{
    const char  *msg;

    msg = mc_json_path_str(j, "error.message");
    if (msg == NULL) {
        msg = mc_json_str(j, "message");
    }
    if (msg == NULL) {
        msg = mc_json_path_str(j, "error.code");
    }

    return mc_sanitize_message(c, msg);
}


static const mc_adapter_t  mc_adapter_seedance = {
    "seedance",
    MC_FEAT_IMAGE_URL | MC_FEAT_IMAGE_DATA | MC_FEAT_SEED | MC_FEAT_CANCEL,
    mc_seedance_params,
    mc_seedance_init,
    mc_seedance_create_request,
    mc_seedance_create_reply,
    mc_seedance_status_request,
    mc_seedance_status_reply,
    mc_seedance_cancel_request,
    mc_seedance_cancel_reply,
    NULL
};

MC_ADAPTER_REGISTER(mc_adapter_seedance);
