
/*
 * openai: OpenAI's Videos API, and any host that speaks it.
 *
 *   POST {url}/videos                 create (JSON; input_reference as
 *                                     {"image_url": ...}, data: URLs too)
 *   GET  {url}/videos/{id}            status
 *   GET  {url}/videos/{id}/content    the MP4, with the same credentials
 *
 * url= includes the version, e.g. https://api.openai.com/v1.  OpenAI has
 * announced the shutdown of its own Sora API; the adapter stays for the
 * many OpenAI-compatible video hosts.  There is no cancel for a running
 * job, no seed and no negative prompt.
 *
 * Params: organization= and project= add OpenAI-Organization and
 * OpenAI-Project headers.
 */

#include "../mc_adapter.h"

#include <stdio.h>


static const char *const  mc_openai_params[] = {
    "organization", "project", NULL
};


static int
mc_openai_init(mc_provider_t *p, mc_pool_t *pool, char *err, size_t errlen)
{
    if (p->key == NULL) {
        snprintf(err, errlen, "provider \"%s\" needs key_file= or key_env=",
                 p->name);
        return MC_ERROR;
    }

    return MC_OK;
}


static int
mc_openai_headers(mc_call_t *c, mc_http_req_t *req)
{
    const char  *v;

    if (mc_http_req_header(req, "Authorization",
                           mc_bearer(c, c->provider->key)) != MC_OK)
    {
        return MC_ERROR;
    }

    v = mc_provider_param(c->provider, "organization");
    if (v && mc_http_req_header(req, "OpenAI-Organization", v) != MC_OK) {
        return MC_ERROR;
    }

    v = mc_provider_param(c->provider, "project");
    if (v && mc_http_req_header(req, "OpenAI-Project", v) != MC_OK) {
        return MC_ERROR;
    }

    return MC_OK;
}


static int
mc_openai_create_request(mc_call_t *c, mc_http_req_t *req)
{
    json_t                *body;
    const mc_video_req_t  *r;

    r = c->req;

    body = json_object();
    json_object_set_new(body, "model", json_string(c->model_id));
    json_object_set_new(body, "prompt", json_string(r->prompt));
    json_object_set_new(body, "seconds", json_sprintf("%d", r->seconds));
    json_object_set_new(body, "size", json_string(r->size));

    if (r->image_url) {
        json_object_set_new(body, "input_reference",
                            json_pack("{s:s}", "image_url", r->image_url));
    }

    mc_http_req_init(req, "POST", mc_provider_url(c, "/videos"));

    if (mc_openai_headers(c, req) != MC_OK
        || mc_http_req_json(c, req, body) != MC_OK)
    {
        return MC_ERROR;
    }

    return MC_CALL_SEND;
}


/* OpenAI's own error object, or whatever a compatible host sends */

static const char *
mc_openai_error(json_t *j)
{
    const char  *s;

    s = mc_json_path_str(j, "error.message");
    if (s == NULL) {
        s = mc_json_str(j, "error");
    }
    if (s == NULL) {
        s = mc_json_str(j, "message");
    }

    return s;
}


/* the video object, as create and status both return it */

static int
mc_openai_video(mc_call_t *c, json_t *j)
{
    json_t      *v;
    const char  *status, *id;
    int          progress;

    id = mc_json_str(j, "id");
    status = mc_json_str(j, "status");

    if (id == NULL || status == NULL) {
        mc_result_fail(c, MC_FAIL_PROTOCOL, 0, "a video object without id "
                       "or status");
        return MC_CALL_DONE;
    }

    c->result.provider_task_id = mc_result_str(c, id);

    v = json_object_get(j, "progress");
    progress = json_is_number(v) ? (int) json_number_value(v) : -1;

    if (strcmp(status, "queued") == 0) {
        mc_result_state(c, MC_TASK_QUEUED, progress);

    } else if (strcmp(status, "in_progress") == 0) {
        mc_result_state(c, MC_TASK_IN_PROGRESS, progress);

    } else if (strcmp(status, "completed") == 0) {
        mc_result_state(c, MC_TASK_COMPLETED, 100);
        /* the bytes are at the content endpoint, not at a URL */
        c->result.video_url = mc_provider_url(c, "/videos/%s/content", id);

    } else if (strcmp(status, "failed") == 0) {
        mc_result_task_failed(c, mc_json_path_str(j, "error.code"),
                              mc_json_path_str(j, "error.message"));

    } else if (strcmp(status, "cancelled") == 0
               || strcmp(status, "canceled") == 0)
    {
        mc_result_canceled(c);

    } else {
        mc_result_fail(c, MC_FAIL_PROTOCOL, 0, "unknown status \"%.32s\"",
                       status);
    }

    return MC_CALL_DONE;
}


static int
mc_openai_reply(mc_call_t *c, const mc_http_resp_t *resp, mc_http_req_t *next)
{
    int          rc;
    json_t      *j;

    j = mc_reply_json(c, resp);

    if (resp->status >= 400) {
        mc_result_rejected(c, resp->status, j ? mc_openai_error(j) : NULL);
        json_decref(j);
        return MC_CALL_DONE;
    }

    if (j == NULL) {
        return MC_CALL_DONE;
    }

    rc = mc_openai_video(c, j);
    json_decref(j);

    return rc;
}


static int
mc_openai_status_request(mc_call_t *c, mc_http_req_t *req)
{
    mc_http_req_init(req, "GET",
                     mc_provider_url(c, "/videos/%s",
                                     c->task->provider_task_id));

    if (mc_openai_headers(c, req) != MC_OK) {
        return MC_ERROR;
    }

    return MC_CALL_SEND;
}


static int
mc_openai_status_reply(mc_call_t *c, const mc_http_resp_t *resp,
    mc_http_req_t *next)
{
    if (resp->status == 404) {
        /* the host no longer knows the video: it will not finish */
        mc_result_lost(c, "video");
        return MC_CALL_DONE;
    }

    return mc_openai_reply(c, resp, next);
}


static int
mc_openai_content_request(mc_call_t *c, mc_http_req_t *req)
{
    mc_http_req_init(req, "GET",
                     mc_provider_url(c, "/videos/%s/content",
                                     c->task->provider_task_id));

    if (mc_openai_headers(c, req) != MC_OK) {
        return MC_ERROR;
    }

    return MC_CALL_SEND;
}


static const mc_adapter_t  mc_adapter_openai = {
    "openai",
    MC_FEAT_IMAGE,
    mc_openai_params,
    mc_openai_init,
    mc_openai_create_request,
    mc_openai_reply,
    mc_openai_status_request,
    mc_openai_status_reply,
    NULL,
    NULL,
    mc_openai_content_request
};

MC_ADAPTER_REGISTER(mc_adapter_openai);
