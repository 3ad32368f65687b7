
/*
 * minimax: MiniMax Hailuo, the v1 video API.
 *
 *   POST {url}/v1/video_generation                  create (text and
 *                                                   image)
 *   GET  {url}/v1/query/video_generation?task_id=   status
 *   GET  {url}/v1/files/retrieve?file_id=           the download URL
 *
 * url= is the host: https://api.minimax.io, or https://api.minimaxi.com
 * for mainland China (the key belongs to one of them).  Bearer key.
 *
 * Body, as MiniMax's API reference and its MCP server send it: model,
 * prompt, duration (an integer: 6 or 10), resolution with an uppercase P
 * ("512P", "720P", "768P", "1080P"; which of them a model takes is
 * MiniMax's to say), first_frame_image (an https URL or a data: URL, as
 * given), prompt_optimizer (default true) and fast_pretreatment.  No
 * aspect ratio (text makes landscape, an image keeps its shape), no
 * seed, no negative prompt, no cancel.
 *
 * Many failures come back as HTTP 200 with base_resp.status_code != 0:
 * 1004 and 2049 are the key; 1002, 1039, 1041 and 2045 rate limits; 1000,
 * 1001, 1024 and 1033 MiniMax's own trouble; 1008 and 2056 an empty
 * balance or plan; 1026 and 1027 sensitive input or output; 2013 invalid
 * parameters; 1042 invisible characters.
 *
 * Status: Preparing and Queueing are queued, Processing in progress,
 * Fail failed, Success carries a file_id that one more call turns into
 * file.download_url.  The file_id is kept in provider_data, so when that
 * call fails for a passing reason the next poll goes straight to it.
 *
 * Params: prompt_optimizer=on|off (on), fast_pretreatment=on|off (off).
 */

#include "../mc_adapter.h"

#include <stdio.h>
#include <stdlib.h>


typedef struct {
    int                  prompt_optimizer;
    int                  fast_pretreatment;
} mc_minimax_conf_t;


static const char *const  mc_minimax_params[] = {
    "prompt_optimizer", "fast_pretreatment", NULL
};


static int
mc_minimax_flag(mc_provider_t *p, const char *name, int def, int *out,
    char *err, size_t errlen)
{
    const char  *v;

    v = mc_provider_param(p, name);

    if (v == NULL) {
        *out = def;

    } else if (strcmp(v, "on") == 0) {
        *out = 1;

    } else if (strcmp(v, "off") == 0) {
        *out = 0;

    } else {
        snprintf(err, errlen, "invalid %s \"%s\": on or off", name, v);
        return MC_ERROR;
    }

    return MC_OK;
}


static int
mc_minimax_init(mc_provider_t *p, mc_pool_t *pool, char *err, size_t errlen)
{
    mc_minimax_conf_t  *conf;

    if (p->key == NULL) {
        snprintf(err, errlen, "provider \"%s\" needs key_file= or key_env= "
                 "with a MiniMax API key", p->name);
        return MC_ERROR;
    }

    conf = mc_pcalloc(pool, sizeof(mc_minimax_conf_t));
    if (conf == NULL) {
        snprintf(err, errlen, "out of memory");
        return MC_ERROR;
    }

    if (mc_minimax_flag(p, "prompt_optimizer", 1, &conf->prompt_optimizer,
                        err, errlen) != MC_OK
        || mc_minimax_flag(p, "fast_pretreatment", 0,
                           &conf->fast_pretreatment, err, errlen) != MC_OK)
    {
        return MC_ERROR;
    }

    p->conf = conf;
    return MC_OK;
}


static int
mc_minimax_headers(mc_call_t *c, mc_http_req_t *req)
{
    return mc_http_req_header(req, "Authorization",
                              mc_bearer(c, c->provider->key));
}


/* task and file ids go into query strings as they are */

static int
mc_minimax_id_ok(const char *s)
{
    const char  *p;

    if (s == NULL || s[0] == '\0' || strlen(s) > 128) {
        return 0;
    }

    for (p = s; *p; p++) {
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z')
              || (*p >= '0' && *p <= '9') || *p == '-' || *p == '_'))
        {
            return 0;
        }
    }

    return 1;
}


static int
mc_minimax_create_request(mc_call_t *c, mc_http_req_t *req)
{
    json_t                *body;
    const char            *res;
    mc_minimax_conf_t     *conf;
    const mc_video_req_t  *r;

    r = c->req;
    conf = c->provider->conf;

    if (r->seconds != 6 && r->seconds != 10) {
        mc_result_fail(c, MC_FAIL_INPUT, 400, "seconds %d is not available "
                       "for %s; allowed: 6, 10", r->seconds, c->model_id);
        return MC_CALL_DONE;
    }

    switch (r->resolution) {
    case 512:
        res = "512P";
        break;
    case 720:
        res = "720P";
        break;
    case 768:
        res = "768P";
        break;
    case 1080:
        res = "1080P";
        break;
    default:
        mc_result_fail(c, MC_FAIL_INPUT, 400, "resolution %dp is not "
                       "available for %s; allowed: 512P, 720P, 768P, 1080P",
                       r->resolution, c->model_id);
        return MC_CALL_DONE;
    }

    body = json_object();
    if (body == NULL) {
        return MC_ERROR;
    }

    json_object_set_new(body, "model", json_string(c->model_id));
    json_object_set_new(body, "prompt", json_string(r->prompt));
    json_object_set_new(body, "duration", json_integer(r->seconds));
    json_object_set_new(body, "resolution", json_string(res));
    json_object_set_new(body, "prompt_optimizer",
                        json_boolean(conf->prompt_optimizer));

    if (conf->fast_pretreatment) {
        json_object_set_new(body, "fast_pretreatment", json_true());
    }

    if (r->image_url) {
        /* MiniMax takes both shapes: a URL or a data: URL */
        json_object_set_new(body, "first_frame_image",
                            json_string(r->image_url));
    }

    mc_http_req_init(req, "POST", mc_provider_url(c, "/v1/video_generation"));

    if (req->url == NULL
        || mc_minimax_headers(c, req) != MC_OK
        || mc_http_req_json(c, req, body) != MC_OK)
    {
        return MC_ERROR;
    }

    return MC_CALL_SEND;
}


typedef enum {
    MC_MINIMAX_OK = 0,
    MC_MINIMAX_AUTH,
    MC_MINIMAX_RATE,
    MC_MINIMAX_TROUBLE,     /* MiniMax's own, or the account's */
    MC_MINIMAX_SENSITIVE,
    MC_MINIMAX_INPUT,
    MC_MINIMAX_UNKNOWN
} mc_minimax_class_e;


static mc_minimax_class_e
mc_minimax_class(json_int_t code)
{
    switch (code) {
    case 0:
        return MC_MINIMAX_OK;

    case 1004:
    case 2049:
        return MC_MINIMAX_AUTH;

    case 1002:
    case 1039:
    case 1041:
    case 2045:
        return MC_MINIMAX_RATE;

    case 1000:
    case 1001:
    case 1008:
    case 1024:
    case 1033:
    case 2038:
    case 2056:
        return MC_MINIMAX_TROUBLE;

    case 1026:
    case 1027:
        return MC_MINIMAX_SENSITIVE;

    case 1042:
    case 2013:
        return MC_MINIMAX_INPUT;
    }

    return MC_MINIMAX_UNKNOWN;
}


/* base_resp.status_code, or -1 when there is none */

static json_int_t
mc_minimax_code(json_t *j)
{
    json_t  *v;

    v = mc_json_path(j, "base_resp.status_code");

    return json_is_integer(v) ? json_integer_value(v) : -1;
}


/* a failed call (not a failed task) from base_resp */

static void
mc_minimax_fail(mc_call_t *c, int status, json_t *j)
{
    json_int_t   code;
    const char  *msg;

    code = mc_minimax_code(j);
    msg = mc_sanitize_message(c, mc_json_path_str(j, "base_resp.status_msg"));

    if (msg == NULL || msg[0] == '\0') {
        msg = "the request was rejected";
    }

    switch (mc_minimax_class(code)) {

    case MC_MINIMAX_AUTH:
        mc_result_fail(c, MC_FAIL_AUTH, status, "the provider rejected the "
                       "gateway's credentials (code %d)", (int) code);
        break;

    case MC_MINIMAX_RATE:
        mc_result_fail(c, MC_FAIL_RETRY, 429, "rate limited (code %d)",
                       (int) code);
        break;

    case MC_MINIMAX_TROUBLE:
        /* a balance or a fault at MiniMax: another target may serve */
        mc_result_fail(c, MC_FAIL_RETRY, status, "provider trouble "
                       "(code %d): %s", (int) code, msg);
        break;

    case MC_MINIMAX_SENSITIVE:
    case MC_MINIMAX_INPUT:
        mc_result_fail(c, MC_FAIL_INPUT, status >= 400 ? status : 400, "%s",
                       msg);
        break;

    default:
        if (status >= 400) {
            mc_result_fail(c, MC_FAIL_INPUT, status, "%s", msg);

        } else {
            mc_result_fail(c, MC_FAIL_PROTOCOL, status, "unknown code %d: "
                           "%s", (int) code, msg);
        }
    }
}


static int
mc_minimax_create_reply(mc_call_t *c, const mc_http_resp_t *resp,
    mc_http_req_t *next)
{
    json_t      *j;
    const char  *id;

    j = mc_reply_json(c, resp);

    if (j == NULL) {
        if (resp->status >= 400) {
            mc_result_fail(c, MC_FAIL_INPUT, resp->status, "the request was "
                           "rejected (HTTP %d)", resp->status);
        }

        return MC_CALL_DONE;
    }

    if (resp->status >= 400 || mc_minimax_code(j) != 0) {
        mc_minimax_fail(c, resp->status, j);
        json_decref(j);
        return MC_CALL_DONE;
    }

    id = mc_json_str(j, "task_id");

    if (mc_minimax_id_ok(id)) {
        c->result.provider_task_id = mc_result_str(c, id);
        mc_result_state(c, MC_TASK_QUEUED, -1);

    } else {
        mc_result_fail(c, MC_FAIL_PROTOCOL, resp->status, "an answer "
                       "without a usable task_id");
    }

    json_decref(j);

    return MC_CALL_DONE;
}


static int
mc_minimax_retrieve(mc_call_t *c, mc_http_req_t *req, const char *file_id)
{
    mc_http_req_init(req, "GET",
                     mc_provider_url(c, "/v1/files/retrieve?file_id=%s",
                                     file_id));

    if (req->url == NULL || mc_minimax_headers(c, req) != MC_OK) {
        return MC_ERROR;
    }

    return MC_CALL_SEND;
}


/*
 * result.provider_data is set once a file id is known: then the answer
 * being read is the file's, not the task's.
 */

static int
mc_minimax_status_request(mc_call_t *c, mc_http_req_t *req)
{
    json_t      *pd;
    const char  *file_id;

    if (c->task->provider_data) {
        pd = json_loads(c->task->provider_data, 0, NULL);
        file_id = mc_json_str(pd, "file_id");

        if (mc_minimax_id_ok(file_id)) {
            c->result.provider_data = c->task->provider_data;
            file_id = mc_result_str(c, file_id);
            json_decref(pd);

            return mc_minimax_retrieve(c, req, file_id);
        }

        json_decref(pd);
    }

    if (!mc_minimax_id_ok(c->task->provider_task_id)) {
        mc_result_fail(c, MC_FAIL_PROTOCOL, 0, "the task has no task id");
        return MC_CALL_DONE;
    }

    mc_http_req_init(req, "GET",
                     mc_provider_url(c, "/v1/query/video_generation"
                                     "?task_id=%s",
                                     c->task->provider_task_id));

    if (req->url == NULL || mc_minimax_headers(c, req) != MC_OK) {
        return MC_ERROR;
    }

    return MC_CALL_SEND;
}


static int
mc_minimax_task(mc_call_t *c, const mc_http_resp_t *resp, json_t *j,
    mc_http_req_t *next)
{
    char        *dump, num[32];
    json_t      *v;
    json_int_t   code;
    const char  *status, *file_id, *msg;

    status = mc_json_str(j, "status");
    code = mc_minimax_code(j);

    if (status == NULL) {
        if (code > 0) {
            mc_minimax_fail(c, resp->status, j);

        } else {
            mc_result_fail(c, MC_FAIL_PROTOCOL, resp->status, "a task "
                           "without a status");
        }

        return MC_CALL_DONE;
    }

    if (strcmp(status, "Preparing") == 0 || strcmp(status, "Queueing") == 0)
    {
        mc_result_state(c, MC_TASK_QUEUED, -1);
        return MC_CALL_DONE;
    }

    if (strcmp(status, "Processing") == 0) {
        mc_result_state(c, MC_TASK_IN_PROGRESS, -1);
        return MC_CALL_DONE;
    }

    if (strcmp(status, "Fail") == 0) {
        /* the reason, when there is one, is in base_resp */
        msg = code > 0 ? mc_json_path_str(j, "base_resp.status_msg") : NULL;

        mc_result_task_failed(c, mc_minimax_class(code)
                                 == MC_MINIMAX_SENSITIVE
                                 ? "content_filtered" : "generation_failed",
                              msg);
        return MC_CALL_DONE;
    }

    if (strcmp(status, "Success") != 0) {
        mc_result_fail(c, MC_FAIL_PROTOCOL, resp->status, "unknown status "
                       "\"%.32s\"", status);
        return MC_CALL_DONE;
    }

    /* the API reference shows file_id as a string; take a number too */
    v = json_object_get(j, "file_id");

    if (json_is_integer(v)) {
        snprintf(num, sizeof(num), "%lld", (long long) json_integer_value(v));
        file_id = num;

    } else {
        file_id = json_string_value(v);
    }

    if (!mc_minimax_id_ok(file_id)) {
        mc_result_fail(c, MC_FAIL_PROTOCOL, resp->status, "a finished task "
                       "without a usable file_id");
        return MC_CALL_DONE;
    }

    v = json_pack("{s:s}", "file_id", file_id);
    dump = v ? mc_json_dump(v) : NULL;
    json_decref(v);

    c->result.provider_data = mc_result_str(c, dump);
    free(dump);

    if (c->result.provider_data == NULL) {
        return MC_ERROR;
    }

    return mc_minimax_retrieve(c, next, mc_result_str(c, file_id));
}


static int
mc_minimax_file(mc_call_t *c, const mc_http_resp_t *resp, json_t *j)
{
    json_int_t   code;
    const char  *url;

    code = mc_minimax_code(j);

    if (code > 0) {
        if (mc_minimax_class(code) == MC_MINIMAX_RATE
            || mc_minimax_class(code) == MC_MINIMAX_TROUBLE)
        {
            /*
             * the video is made, its URL not yet to be had: keep the
             * file id (provider_data is set) and ask for it next time
             */
            mc_result_state(c, MC_TASK_IN_PROGRESS, -1);
            return MC_CALL_DONE;
        }

        mc_minimax_fail(c, resp->status, j);
        return MC_CALL_DONE;
    }

    url = mc_json_path_str(j, "file.download_url");

    if (url == NULL || url[0] == '\0') {
        mc_result_fail(c, MC_FAIL_PROTOCOL, resp->status, "a file without "
                       "download_url");
        return MC_CALL_DONE;
    }

    mc_result_state(c, MC_TASK_COMPLETED, 100);
    c->result.video_url = mc_result_str(c, url);

    return MC_CALL_DONE;
}


static int
mc_minimax_status_reply(mc_call_t *c, const mc_http_resp_t *resp,
    mc_http_req_t *next)
{
    int      rc;
    json_t  *j;

    j = mc_reply_json(c, resp);

    if (j == NULL) {
        if (resp->status >= 400) {
            mc_result_fail(c, MC_FAIL_INPUT, resp->status, "the request was "
                           "rejected (HTTP %d)", resp->status);
        }

        return MC_CALL_DONE;
    }

    if (resp->status >= 400) {
        mc_minimax_fail(c, resp->status, j);
        rc = MC_CALL_DONE;

    } else if (c->result.provider_data) {
        rc = mc_minimax_file(c, resp, j);

    } else {
        rc = mc_minimax_task(c, resp, j, next);
    }

    json_decref(j);

    return rc;
}


static const mc_adapter_t  mc_adapter_minimax = {
    "minimax",
    MC_FEAT_IMAGE_URL|MC_FEAT_IMAGE_DATA,
    mc_minimax_params,
    mc_minimax_init,
    mc_minimax_create_request,
    mc_minimax_create_reply,
    mc_minimax_status_request,
    mc_minimax_status_reply,
    NULL,
    NULL,
    NULL
};

MC_ADAPTER_REGISTER(mc_adapter_minimax);
