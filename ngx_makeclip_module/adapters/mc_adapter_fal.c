
/*
 * fal: the fal.ai queue, in front of many video model endpoints (Kling,
 * Veo, Pika, Wan, MiniMax, ...), each with its own input.
 *
 *   POST {url}/{endpoint_id}   submit; the body is the endpoint's input
 *                              itself; the answer names the request and
 *                              the URLs to follow it
 *   GET  status_url            IN_QUEUE (queue_position), IN_PROGRESS,
 *                              COMPLETED
 *   GET  response_url          the endpoint's output: video.url
 *   PUT  cancel_url            cancel
 *
 * url= is https://queue.fal.run; a target's model id is the endpoint id,
 * sub-paths included (to=fal:fal-ai/kling-video/v2.1/master/text-to-video).
 * Auth is "Authorization: Key <FAL_KEY>", and every call says "Accept:
 * application/json"; the submit also carries x-fal-queue-priority, which
 * the official client always sends ("normal" unless told otherwise).
 *
 * The status, result and cancel URLs are kept with the task and used as
 * given, never rebuilt: fal builds them from the endpoint's owner and
 * alias only, without the sub-path (@fal-ai/client queue.ts, fal_client
 * client.py).  The gateway reaches them through its proxy location, so
 * they must lie under url=; an answer pointing elsewhere is refused
 * rather than sending the key to another host.
 *
 * Input: prompt; duration as the endpoint wants it (duration_format=);
 * aspect_ratio ("16:9"), snapped to the endpoint's list when
 * aspect_ratios= names it, and sent for an image-to-video job only when
 * the client asked for a shape, since those endpoints take the image's;
 * resolution ("720p") when resolution=on; image_url, an https URL or a
 * data: URL as the client gave it; negative_prompt and seed when given.
 *
 * Facts checked (docs.fal.ai, @fal-ai/client 1.x, fal_client):
 * - data URIs: fal's model pages say a file input may be a base64 data
 *   URI that the API decodes; the newer CDN page says "some models also
 *   accept data URIs".  The current JS client no longer uploads data URIs
 *   itself: it sends them as they are.  An endpoint that refuses one
 *   answers 422, which the client gets as a 400.
 * - a failed job still ends COMPLETED: its status may carry error and
 *   error_type (fal_client's Completed has both), and the result GET
 *   answers with an HTTP error, 422 {"detail": [{loc, msg, type}]} for
 *   model errors.  A failed result with a 5xx status (fal's request
 *   errors: request_timeout, runner_disconnected, ...) is not seen by
 *   adapters: the gateway counts it as a failed poll and asks again.
 * - cancel: 202 {"status": "CANCELLATION_REQUESTED"}, 400
 *   {"status": "ALREADY_COMPLETED"}, 404 {"status": "NOT_FOUND"}
 *   (the status words are in fal's cancel reference; the HTTP statuses
 *   from a third-party copy of it, not verified).  A queued request is
 *   removed; a running one gets a signal its app may ignore.
 * - no progress figure: IN_QUEUE has queue_position only.
 *
 * Params:
 *   duration_format=plain|seconds_suffix|none   "5" (default), "8s", or
 *                                               no duration field
 *   aspect_ratios=16:9,9:16,1:1|none            the endpoint's list
 *   resolution=on|off                           send "720p" (off)
 *   seed=on|off, negative_prompt=on|off         off: the endpoint lacks
 *                                               the field, refuse (on)
 *   priority=normal|low                         x-fal-queue-priority
 *
 * Endpoints differ: declare one provider per family of endpoints that
 * share these settings.
 */

#include "../mc_adapter.h"

#include <stdio.h>
#include <stdlib.h>


#define MC_FAL_DURATION_PLAIN   0
#define MC_FAL_DURATION_SUFFIX  1
#define MC_FAL_DURATION_NONE    2

#define MC_FAL_ASPECTS_MAX      16


typedef struct {
    int           duration;
    const char   *aspects[MC_FAL_ASPECTS_MAX];
    size_t        naspects;
    const char   *priority;
    unsigned      no_aspect:1;
    unsigned      resolution:1;
    unsigned      no_seed:1;
    unsigned      no_negative:1;
} mc_fal_conf_t;


static int mc_fal_init(mc_provider_t *p, mc_pool_t *pool, char *err,
    size_t errlen);
static int mc_fal_onoff(mc_provider_t *p, const char *name, int def,
    char *err, size_t errlen);
static int mc_fal_headers(mc_call_t *c, mc_http_req_t *req);
static int mc_fal_create_request(mc_call_t *c, mc_http_req_t *req);
static int mc_fal_create_reply(mc_call_t *c, const mc_http_resp_t *resp,
    mc_http_req_t *next);
static int mc_fal_status_request(mc_call_t *c, mc_http_req_t *req);
static int mc_fal_status_reply(mc_call_t *c, const mc_http_resp_t *resp,
    mc_http_req_t *next);
static int mc_fal_cancel_request(mc_call_t *c, mc_http_req_t *req);
static int mc_fal_cancel_reply(mc_call_t *c, const mc_http_resp_t *resp,
    mc_http_req_t *next);
static int mc_fal_state(mc_call_t *c, json_t *j, mc_http_req_t *next);
static int mc_fal_result(mc_call_t *c, const mc_http_resp_t *resp);
static int mc_fal_get(mc_call_t *c, mc_http_req_t *req, const char *method,
    const char *which);
static const char *mc_fal_error(mc_call_t *c, json_t *j);
static const char *mc_fal_own_url(mc_call_t *c, json_t *j,
    const char *name);


static const char *const  mc_fal_params[] = {
    "duration_format", "aspect_ratios", "resolution", "seed",
    "negative_prompt", "priority", NULL
};


static int
mc_fal_init(mc_provider_t *p, mc_pool_t *pool, char *err, size_t errlen)
{
    int             rc, w, h, n;
    char           *list, *s, *save;
    const char     *v;
    mc_fal_conf_t  *conf;

    if (p->key == NULL) {
        snprintf(err, errlen, "provider \"%s\" needs key_file= or key_env= "
                 "with the FAL_KEY", p->name);
        return MC_ERROR;
    }

    conf = mc_pcalloc(pool, sizeof(mc_fal_conf_t));
    if (conf == NULL) {
        snprintf(err, errlen, "out of memory");
        return MC_ERROR;
    }

    v = mc_provider_param(p, "duration_format");

    if (v == NULL || strcmp(v, "plain") == 0) {
        conf->duration = MC_FAL_DURATION_PLAIN;

    } else if (strcmp(v, "seconds_suffix") == 0) {
        conf->duration = MC_FAL_DURATION_SUFFIX;

    } else if (strcmp(v, "none") == 0) {
        conf->duration = MC_FAL_DURATION_NONE;

    } else {
        snprintf(err, errlen, "invalid duration_format \"%s\": expected "
                 "plain, seconds_suffix or none", v);
        return MC_ERROR;
    }

    v = mc_provider_param(p, "aspect_ratios");

    if (v && strcmp(v, "none") == 0) {
        conf->no_aspect = 1;

    } else if (v) {
        list = mc_pstrdup(pool, v);
        if (list == NULL) {
            snprintf(err, errlen, "out of memory");
            return MC_ERROR;
        }

        for (s = strtok_r(list, ",", &save);
             s;
             s = strtok_r(NULL, ",", &save))
        {
            n = 0;
            if (sscanf(s, "%d:%d%n", &w, &h, &n) != 2 || s[n] != '\0'
                || w <= 0 || h <= 0)
            {
                snprintf(err, errlen, "invalid aspect ratio \"%s\" in "
                         "aspect_ratios=", s);
                return MC_ERROR;
            }

            if (conf->naspects == MC_FAL_ASPECTS_MAX) {
                snprintf(err, errlen, "aspect_ratios= lists more than %d",
                         MC_FAL_ASPECTS_MAX);
                return MC_ERROR;
            }

            conf->aspects[conf->naspects++] = s;
        }

        if (conf->naspects == 0) {
            snprintf(err, errlen, "aspect_ratios= is empty");
            return MC_ERROR;
        }
    }

    rc = mc_fal_onoff(p, "resolution", 0, err, errlen);
    if (rc < 0) {
        return MC_ERROR;
    }
    conf->resolution = rc;

    rc = mc_fal_onoff(p, "seed", 1, err, errlen);
    if (rc < 0) {
        return MC_ERROR;
    }
    conf->no_seed = !rc;

    rc = mc_fal_onoff(p, "negative_prompt", 1, err, errlen);
    if (rc < 0) {
        return MC_ERROR;
    }
    conf->no_negative = !rc;

    /* the gateway then refuses such requests before charging anything */
    if (conf->no_seed) {
        p->features &= ~MC_FEAT_SEED;
    }

    if (conf->no_negative) {
        p->features &= ~MC_FEAT_NEGATIVE;
    }

    v = mc_provider_param(p, "priority");

    if (v && strcmp(v, "normal") != 0 && strcmp(v, "low") != 0) {
        snprintf(err, errlen, "invalid priority \"%s\": expected normal or "
                 "low", v);
        return MC_ERROR;
    }

    conf->priority = v ? v : "normal";

    p->conf = conf;
    return MC_OK;
}


/* 1 for on, 0 for off, -1 with err set */

static int
mc_fal_onoff(mc_provider_t *p, const char *name, int def, char *err,
    size_t errlen)
{
    const char  *v;

    v = mc_provider_param(p, name);

    if (v == NULL) {
        return def;
    }

    if (strcmp(v, "on") == 0) {
        return 1;
    }

    if (strcmp(v, "off") == 0) {
        return 0;
    }

    snprintf(err, errlen, "invalid %s \"%s\": expected on or off", name, v);
    return -1;
}


static int
mc_fal_headers(mc_call_t *c, mc_http_req_t *req)
{
    char  *auth;

    auth = mc_psprintf(c->pool, "Key %s", c->provider->key);

    if (mc_http_req_header(req, "Authorization", auth) != MC_OK
        || mc_http_req_header(req, "Accept", "application/json") != MC_OK)
    {
        return MC_ERROR;
    }

    return MC_OK;
}


static int
mc_fal_create_request(mc_call_t *c, mc_http_req_t *req)
{
    json_t                *body;
    const char            *aspect, *id;
    mc_fal_conf_t         *conf;
    const mc_video_req_t  *r;

    r = c->req;
    conf = c->provider->conf;
    id = c->model_id;

    /* the endpoint id becomes the path: keep it to what fal's ids are */
    if (id == NULL || id[0] == '\0' || id[0] == '/' || strstr(id, "..")
        || id[strcspn(id, "?#% \t\r\n")] != '\0')
    {
        mc_result_fail(c, MC_FAIL_PROTOCOL, 0, "invalid fal endpoint id "
                       "\"%.64s\"", id ? id : "");
        return MC_CALL_DONE;
    }

    if (r->has_seed && conf->no_seed) {
        mc_result_fail(c, MC_FAIL_INPUT, 400, "the fal endpoint %s takes no "
                       "seed", id);
        return MC_CALL_DONE;
    }

    if (r->negative_prompt && r->negative_prompt[0] && conf->no_negative) {
        mc_result_fail(c, MC_FAIL_INPUT, 400, "the fal endpoint %s takes no "
                       "negative_prompt", id);
        return MC_CALL_DONE;
    }

    body = json_object();
    if (body == NULL) {
        return MC_ERROR;
    }

    json_object_set_new(body, "prompt", json_string(r->prompt));

    if (conf->duration == MC_FAL_DURATION_PLAIN) {
        json_object_set_new(body, "duration",
                            json_sprintf("%d", r->seconds));

    } else if (conf->duration == MC_FAL_DURATION_SUFFIX) {
        json_object_set_new(body, "duration",
                            json_sprintf("%ds", r->seconds));
    }

    /*
     * image-to-video endpoints take the shape of the image and often have
     * no aspect_ratio field: send one only when the client asked for it
     */
    if (!conf->no_aspect
        && (r->image_url == NULL
            || mc_request_field(c->pool, r, "size")
            || mc_request_field(c->pool, r, "aspect_ratio")))
    {
        aspect = conf->naspects
                 ? mc_nearest_aspect(r->width, r->height, conf->aspects,
                                     conf->naspects)
                 : r->aspect_ratio;

        if (aspect) {
            json_object_set_new(body, "aspect_ratio", json_string(aspect));
        }
    }

    if (conf->resolution && r->resolution > 0) {
        json_object_set_new(body, "resolution",
                            json_string(mc_resolution_name(r->resolution)));
    }

    if (r->image_url) {
        json_object_set_new(body, "image_url", json_string(r->image_url));
    }

    if (r->negative_prompt && r->negative_prompt[0]) {
        json_object_set_new(body, "negative_prompt",
                            json_string(r->negative_prompt));
    }

    if (r->has_seed) {
        json_object_set_new(body, "seed", json_integer(r->seed));
    }

    mc_http_req_init(req, "POST", mc_provider_url(c, "/%s", id));

    if (req->url == NULL
        || mc_fal_headers(c, req) != MC_OK
        || mc_http_req_header(req, "x-fal-queue-priority", conf->priority)
           != MC_OK)
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
mc_fal_create_reply(mc_call_t *c, const mc_http_resp_t *resp,
    mc_http_req_t *next)
{
    int          rc;
    char        *data;
    json_t      *j, *keep;
    const char  *id, *status_url, *response_url, *cancel_url;

    j = mc_reply_json(c, resp);

    if (resp->status >= 400) {
        mc_result_rejected(c, resp->status, j ? mc_fal_error(c, j) : NULL);
        json_decref(j);
        return MC_CALL_DONE;
    }

    if (j == NULL) {
        return MC_CALL_DONE;
    }

    id = mc_json_str(j, "request_id");
    status_url = mc_fal_own_url(c, j, "status_url");
    response_url = mc_fal_own_url(c, j, "response_url");
    cancel_url = mc_fal_own_url(c, j, "cancel_url");

    if (id == NULL || id[0] == '\0') {
        mc_result_fail(c, MC_FAIL_PROTOCOL, resp->status,
                       "a submit answer without request_id");
        json_decref(j);
        return MC_CALL_DONE;
    }

    if (status_url == NULL || response_url == NULL || cancel_url == NULL) {
        if (c->result.fail == MC_FAIL_NONE) {
            mc_result_fail(c, MC_FAIL_PROTOCOL, resp->status,
                           "a submit answer without its status, response "
                           "and cancel URLs");
        }

        json_decref(j);
        return MC_CALL_DONE;
    }

    keep = json_pack("{s:s, s:s, s:s, s:s}", "request_id", id,
                     "status_url", status_url, "response_url", response_url,
                     "cancel_url", cancel_url);
    data = keep ? json_dumps(keep, JSON_COMPACT) : NULL;
    json_decref(keep);

    if (data == NULL) {
        json_decref(j);
        return MC_ERROR;
    }

    c->result.provider_task_id = mc_result_str(c, id);
    c->result.provider_data = mc_result_str(c, data);
    free(data);

    /* the submit answer is an IN_QUEUE status; older ones carry no status
     * at all */
    if (mc_json_str(j, "status") == NULL) {
        mc_result_state(c, MC_TASK_QUEUED, -1);
        rc = MC_CALL_DONE;

    } else {
        rc = mc_fal_state(c, j, NULL);
    }

    json_decref(j);
    return rc;
}


static int
mc_fal_status_request(mc_call_t *c, mc_http_req_t *req)
{
    return mc_fal_get(c, req, "GET", "status_url");
}


static int
mc_fal_status_reply(mc_call_t *c, const mc_http_resp_t *resp,
    mc_http_req_t *next)
{
    int          rc;
    json_t      *j;
    const char  *msg;

    /* the second answer of a poll is the result a COMPLETED led to */
    if (c->step > 1) {
        return mc_fal_result(c, resp);
    }

    if (resp->status == 404) {
        mc_result_lost(c, "request");
        return MC_CALL_DONE;
    }

    j = mc_reply_json(c, resp);

    if (resp->status >= 400) {
        msg = j ? mc_fal_error(c, j) : NULL;
        mc_result_fail(c, MC_FAIL_PROTOCOL, resp->status, "status HTTP %d: "
                       "%s", resp->status, msg ? msg : "no reason given");
        json_decref(j);
        return MC_CALL_DONE;
    }

    if (j == NULL) {
        return MC_CALL_DONE;
    }

    rc = mc_fal_state(c, j, next);
    json_decref(j);

    return rc;
}


/*
 * A queue status.  COMPLETED means the result is stored: with next, it is
 * fetched in a second call; without (a submit answer), the next poll
 * fetches it.
 */

static int
mc_fal_state(mc_call_t *c, json_t *j, mc_http_req_t *next)
{
    json_t      *v;
    const char  *status, *error;

    status = mc_json_str(j, "status");

    if (status == NULL) {
        mc_result_fail(c, MC_FAIL_PROTOCOL, 0, "a queue status without "
                       "status");
        return MC_CALL_DONE;
    }

    if (strcmp(status, "IN_QUEUE") == 0) {
        mc_result_state(c, MC_TASK_QUEUED, -1);
        return MC_CALL_DONE;
    }

    if (strcmp(status, "IN_PROGRESS") == 0) {
        mc_result_state(c, MC_TASK_IN_PROGRESS, -1);
        return MC_CALL_DONE;
    }

    if (strcmp(status, "COMPLETED") != 0) {
        mc_result_fail(c, MC_FAIL_PROTOCOL, 0, "unknown status \"%.32s\"",
                       status);
        return MC_CALL_DONE;
    }

    /* a failed request ends COMPLETED too; newer statuses say why */
    v = json_object_get(j, "error");

    if (v && !json_is_null(v)) {
        error = json_is_string(v) ? json_string_value(v) : NULL;
        mc_result_task_failed(c, mc_json_str(j, "error_type"), error);
        return MC_CALL_DONE;
    }

    if (next == NULL) {
        mc_result_state(c, MC_TASK_IN_PROGRESS, -1);
        return MC_CALL_DONE;
    }

    return mc_fal_get(c, next, "GET", "response_url");
}


/* the response_url answer: the endpoint's output, or why it failed */

static int
mc_fal_result(mc_call_t *c, const mc_http_resp_t *resp)
{
    json_t      *j;
    const char  *url, *msg, *code;

    j = mc_reply_json(c, resp);

    if (resp->status == 404) {
        mc_result_task_failed(c, "provider_lost", "The provider no longer "
                              "has this result.");
        json_decref(j);
        return MC_CALL_DONE;
    }

    if (resp->status >= 400) {
        /* the job ran and failed: validation, content policy, ... */
        msg = j ? mc_fal_error(c, j) : NULL;
        code = j ? mc_json_str(j, "error_type") : NULL;

        if (code == NULL && j) {
            code = mc_json_path_str(j, "detail.0.type");
        }

        mc_result_task_failed(c, code, msg);
        json_decref(j);
        return MC_CALL_DONE;
    }

    if (j == NULL) {
        return MC_CALL_DONE;
    }

    url = mc_json_path_str(j, "video.url");
    if (url == NULL) {
        url = mc_json_path_str(j, "videos.0.url");
    }

    mc_result_completed(c, url);

    json_decref(j);
    return MC_CALL_DONE;
}


static int
mc_fal_cancel_request(mc_call_t *c, mc_http_req_t *req)
{
    return mc_fal_get(c, req, "PUT", "cancel_url");
}


static int
mc_fal_cancel_reply(mc_call_t *c, const mc_http_resp_t *resp,
    mc_http_req_t *next)
{
    json_t      *j;
    const char  *status, *msg;

    if (c->step > 1) {
        /* it had completed: its result decides whether it is kept */
        return mc_fal_result(c, resp);
    }

    if (resp->status < 300 || resp->status == 404) {
        /* removed from the queue, or a running app signalled; a request
         * fal does not know runs nowhere either */
        mc_result_task_failed(c, "canceled", "The task was canceled.");
        return MC_CALL_DONE;
    }

    j = mc_reply_json(c, resp);
    status = j ? mc_json_str(j, "status") : NULL;

    if (status && strcmp(status, "ALREADY_COMPLETED") == 0) {
        json_decref(j);
        return mc_fal_get(c, next, "GET", "response_url");
    }

    msg = j ? mc_fal_error(c, j) : NULL;
    mc_result_fail(c, MC_FAIL_PROTOCOL, resp->status, "cancel HTTP %d: %s",
                   resp->status, msg ? msg : (status ? status : "refused"));
    json_decref(j);

    return MC_CALL_DONE;
}


/* a call to one of the URLs the submit answer gave */

static int
mc_fal_get(mc_call_t *c, mc_http_req_t *req, const char *method,
    const char *which)
{
    json_t      *data;
    const char  *url;

    data = c->task && c->task->provider_data
           ? json_loads(c->task->provider_data, 0, NULL) : NULL;

    url = data ? mc_fal_own_url(c, data, which) : NULL;
    json_decref(data);

    if (url == NULL) {
        mc_result_fail(c, MC_FAIL_PROTOCOL, 0, "the task has no %s", which);
        return MC_CALL_DONE;
    }

    mc_http_req_init(req, method, url);

    if (mc_fal_headers(c, req) != MC_OK) {
        return MC_ERROR;
    }

    return MC_CALL_SEND;
}


/* fal's errors: {"detail": "..."} or {"detail": [{loc, msg, type}]} */

static const char *
mc_fal_error(mc_call_t *c, json_t *j)
{
    json_t      *d, *loc, *last;
    const char  *msg, *field;

    d = json_object_get(j, "detail");

    if (json_is_string(d)) {
        return mc_sanitize_message(c, json_string_value(d));
    }

    if (json_is_array(d)) {
        msg = mc_json_path_str(d, "0.msg");
        loc = mc_json_path(d, "0.loc");
        last = json_is_array(loc) && json_array_size(loc)
               ? json_array_get(loc, json_array_size(loc) - 1) : NULL;
        field = json_is_string(last) ? json_string_value(last) : NULL;

        if (msg && field) {
            return mc_sanitize_message(c, mc_psprintf(c->pool, "%s: %s",
                                                      field, msg));
        }

        if (msg) {
            return mc_sanitize_message(c, msg);
        }
    }

    msg = mc_json_str(j, "message");
    if (msg == NULL) {
        msg = mc_json_str(j, "error");
    }
    if (msg == NULL) {
        msg = mc_json_str(j, "status");
    }

    return mc_sanitize_message(c, msg);
}


/*
 * A URL from a fal answer, copied into the call's pool, if it lies under
 * url=: the gateway connects to the provider's own host only, and the
 * key goes nowhere else.
 */

static const char *
mc_fal_own_url(mc_call_t *c, json_t *j, const char *name)
{
    size_t       len;
    const char  *url, *base;

    url = mc_json_str(j, name);
    base = c->provider->base_url;

    if (url == NULL || base == NULL) {
        return NULL;
    }

    len = strlen(base);

    if (strncmp(url, base, len) != 0 || url[len] != '/'
        || url[strcspn(url, " \t\r\n")] != '\0')
    {
        mc_result_fail(c, MC_FAIL_PROTOCOL, 0, "%s is not under the "
                       "provider's url=", name);
        return NULL;
    }

    return mc_result_str(c, url);
}


static const mc_adapter_t  mc_adapter_fal = {
    "fal",
    MC_FEAT_IMAGE_URL | MC_FEAT_IMAGE_DATA | MC_FEAT_SEED | MC_FEAT_NEGATIVE
        | MC_FEAT_CANCEL,
    mc_fal_params,
    mc_fal_init,
    mc_fal_create_request,
    mc_fal_create_reply,
    mc_fal_status_request,
    mc_fal_status_reply,
    mc_fal_cancel_request,
    mc_fal_cancel_reply,
    NULL
};

MC_ADAPTER_REGISTER(mc_adapter_fal);
