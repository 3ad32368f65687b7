
/*
 * luma: Luma AI's Dream Machine API.
 *
 *   POST {url}/generations/video      create (201, the Generation object)
 *   GET  {url}/generations/{id}       status
 *
 * url= includes the version: https://api.lumalabs.ai/dream-machine/v1.
 * "Authorization: Bearer <key>".  The body: model (required: ray-2,
 * ray-flash-2), prompt, aspect_ratio (1:1, 16:9, 9:16, 4:3, 3:4, 21:9,
 * 9:21), duration as a string with its unit ("5s", "9s"), resolution
 * ("540p", "720p", "1080p", "4k"), keyframes.frame0 {"type": "image",
 * "url": ...} for an image.  A generation is queued, dreaming, completed
 * (assets.video) or failed (failure_reason); errors are {"detail": ...}.
 * There is no seed and no negative prompt.
 *
 * Checked in lumalabs/lumaai-node (1.21.0) and lumalabs/lumaai-api
 * (openapi.yaml):
 *   - create path: the SDK posts to /generations/video since 1.10.0, and
 *     the spec moved the create there in May 2025 ("fix path"); before,
 *     and in the docs' curl examples, it was POST /generations, which the
 *     spec now lists for GET (list) only.  create_path= sends the create
 *     elsewhere, e.g. create_path=/generations for a host that still
 *     takes the older path.
 *   - images: the spec types keyframes.frame0.url as a URI and the docs
 *     say "You should upload and use your own cdn image urls, currently
 *     this is the only way to pass an image": URLs only, no data: URLs.
 *   - DELETE /generations/{id} (204) is documented as "Remove a specific
 *     generation", with nothing about stopping one that is running, so it
 *     is not used as a cancel: the gateway stops following the task.
 *   - duration and resolution are open strings beside their enums; the
 *     adapter sends the documented values and refuses other durations
 *     (durations= lists them when a new model makes more).
 *
 * Params: create_path= (default /generations/video), durations= (seconds
 * the models make, default 5,9).
 */

#include "../mc_adapter.h"

#include <stdio.h>
#include <stdlib.h>
#include <strings.h>


#define MC_LUMA_MAX_DURATIONS  16


typedef struct {
    const char          *create_path;
    int                  durations[MC_LUMA_MAX_DURATIONS];
    size_t               ndurations;
} mc_luma_conf_t;


static const char *const  mc_luma_params[] = {
    "create_path", "durations", NULL
};


static const char *mc_luma_aspects[] = {
    "1:1", "16:9", "9:16", "4:3", "3:4", "21:9", "9:21"
};


static int mc_luma_init(mc_provider_t *p, mc_pool_t *pool, char *err,
    size_t errlen);
static int mc_luma_headers(mc_call_t *c, mc_http_req_t *req);
static const char *mc_luma_resolution(int short_side);
static int mc_luma_create_request(mc_call_t *c, mc_http_req_t *req);
static const char *mc_luma_error(json_t *j);
static int mc_luma_reply(mc_call_t *c, const mc_http_resp_t *resp,
    mc_http_req_t *next);
static int mc_luma_generation(mc_call_t *c, json_t *j);
static int mc_luma_status_request(mc_call_t *c, mc_http_req_t *req);
static int mc_luma_status_reply(mc_call_t *c, const mc_http_resp_t *resp,
    mc_http_req_t *next);


static int
mc_luma_init(mc_provider_t *p, mc_pool_t *pool, char *err, size_t errlen)
{
    char            *end;
    long             n;
    const char      *v, *s;
    mc_luma_conf_t  *conf;

    if (p->key == NULL) {
        snprintf(err, errlen, "provider \"%s\" needs key_file= or key_env= "
                 "with a Luma API key", p->name);
        return MC_ERROR;
    }

    conf = mc_pcalloc(pool, sizeof(mc_luma_conf_t));
    if (conf == NULL) {
        snprintf(err, errlen, "out of memory");
        return MC_ERROR;
    }

    conf->create_path = "/generations/video";

    v = mc_provider_param(p, "create_path");
    if (v) {
        if (v[0] != '/' || strpbrk(v, " ?#%") != NULL) {
            snprintf(err, errlen, "invalid create_path \"%s\": a path such "
                     "as /generations/video", v);
            return MC_ERROR;
        }

        conf->create_path = v;
    }

    v = mc_provider_param(p, "durations");
    if (v == NULL) {
        v = "5,9";
    }

    for (s = v; *s; s = *end ? end + 1 : end) {
        n = strtol(s, &end, 10);

        if (end == s || (*end != ',' && *end != '\0') || n < 1
            || n > MC_SECONDS_MAX
            || conf->ndurations == MC_LUMA_MAX_DURATIONS)
        {
            snprintf(err, errlen, "invalid durations \"%s\": seconds such "
                     "as 5,9", v);
            return MC_ERROR;
        }

        conf->durations[conf->ndurations++] = (int) n;
    }

    if (conf->ndurations == 0) {
        snprintf(err, errlen, "invalid durations \"%s\"", v);
        return MC_ERROR;
    }

    p->conf = conf;
    return MC_OK;
}


static int
mc_luma_headers(mc_call_t *c, mc_http_req_t *req)
{
    if (mc_http_req_header(req, "Authorization",
                           mc_bearer(c, c->provider->key)) != MC_OK
        || mc_http_req_header(req, "Accept", "application/json") != MC_OK)
    {
        return MC_ERROR;
    }

    return MC_OK;
}


/* of Luma's four, the resolution closest to the requested short side */

static const char *
mc_luma_resolution(int short_side)
{
    size_t  i, best;

    static const struct {
        int          side;
        const char  *name;
    } res[] = {
        { 540, "540p" }, { 720, "720p" }, { 1080, "1080p" }, { 2160, "4k" }
    };

    best = 0;

    for (i = 1; i < sizeof(res) / sizeof(res[0]); i++) {
        if (abs(res[i].side - short_side) < abs(res[best].side - short_side))
        {
            best = i;
        }
    }

    return res[best].name;
}


static int
mc_luma_create_request(mc_call_t *c, mc_http_req_t *req)
{
    char                   list[128];
    json_t                *body;
    size_t                 i, n;
    const char            *aspect;
    mc_luma_conf_t        *conf;
    const mc_video_req_t  *r;

    r = c->req;
    conf = c->provider->conf;

    for (i = 0; i < conf->ndurations; i++) {
        if (conf->durations[i] == r->seconds) {
            break;
        }
    }

    if (i == conf->ndurations) {
        n = 0;
        list[0] = '\0';

        for (i = 0; i < conf->ndurations && n + 8 < sizeof(list); i++) {
            n += (size_t) snprintf(list + n, sizeof(list) - n, "%s%d",
                                   i ? ", " : "", conf->durations[i]);
        }

        mc_result_fail(c, MC_FAIL_INPUT, 400, "seconds %d is not available "
                       "at Luma; allowed: %s.", r->seconds, list);
        return MC_CALL_DONE;
    }

    if (r->image_url && strncasecmp(r->image_url, "data:", 5) == 0) {
        /* the gateway refuses these before charging; this is the guard */
        mc_result_fail(c, MC_FAIL_INPUT, 400, "Luma takes an image by URL "
                       "only.");
        return MC_CALL_DONE;
    }

    aspect = mc_nearest_aspect(r->width, r->height, mc_luma_aspects,
                               sizeof(mc_luma_aspects)
                               / sizeof(mc_luma_aspects[0]));

    body = json_object();
    if (body == NULL) {
        return MC_ERROR;
    }

    json_object_set_new(body, "model", json_string(c->model_id));
    json_object_set_new(body, "prompt", json_string(r->prompt));

    if (aspect) {
        json_object_set_new(body, "aspect_ratio", json_string(aspect));
    }

    json_object_set_new(body, "duration", json_sprintf("%ds", r->seconds));
    json_object_set_new(body, "resolution",
                        json_string(mc_luma_resolution(r->resolution)));

    if (r->image_url) {
        json_object_set_new(body, "keyframes",
                            json_pack("{s:{s:s,s:s}}", "frame0",
                                      "type", "image",
                                      "url", r->image_url));
    }

    mc_http_req_init(req, "POST", mc_provider_url(c, "%s",
                                                  conf->create_path));

    if (req->url == NULL
        || mc_luma_headers(c, req) != MC_OK
        || mc_http_req_json(c, req, body) != MC_OK)
    {
        return MC_ERROR;
    }

    return MC_CALL_SEND;
}


/* {"detail": "..."}, or a validation list [{"msg": ...}] */

static const char *
mc_luma_error(json_t *j)
{
    const char  *s;

    s = mc_json_str(j, "detail");
    if (s == NULL) {
        s = mc_json_path_str(j, "detail.0.msg");
    }
    if (s == NULL) {
        s = mc_json_str(j, "message");
    }

    return s;
}


/* the Generation object, as create and status both return it */

static int
mc_luma_generation(mc_call_t *c, json_t *j)
{
    const char  *id, *state, *url;

    id = mc_json_str(j, "id");
    state = mc_json_str(j, "state");

    if (id == NULL || id[0] == '\0' || state == NULL) {
        mc_result_fail(c, MC_FAIL_PROTOCOL, 0, "a generation without id or "
                       "state");
        return MC_CALL_DONE;
    }

    c->result.provider_task_id = mc_result_str(c, id);

    if (strcmp(state, "queued") == 0) {
        mc_result_state(c, MC_TASK_QUEUED, 0);

    } else if (strcmp(state, "dreaming") == 0) {
        /* Luma reports no progress figure */
        mc_result_state(c, MC_TASK_IN_PROGRESS, -1);

    } else if (strcmp(state, "completed") == 0) {
        url = mc_json_path_str(j, "assets.video");

        if (url == NULL || url[0] == '\0') {
            mc_result_task_failed(c, "no_output", "The provider finished "
                                  "without a video.");
            return MC_CALL_DONE;
        }

        mc_result_state(c, MC_TASK_COMPLETED, 100);
        c->result.video_url = mc_result_str(c, url);

    } else if (strcmp(state, "failed") == 0) {
        mc_result_task_failed(c, "generation_failed",
                              mc_json_str(j, "failure_reason"));

    } else {
        mc_result_fail(c, MC_FAIL_PROTOCOL, 0, "unknown state \"%.32s\"",
                       state);
    }

    return MC_CALL_DONE;
}


static int
mc_luma_reply(mc_call_t *c, const mc_http_resp_t *resp, mc_http_req_t *next)
{
    int          rc;
    json_t      *j;

    j = mc_reply_json(c, resp);

    if (resp->status >= 400) {
        mc_result_rejected(c, resp->status, j ? mc_luma_error(j) : NULL);
        json_decref(j);
        return MC_CALL_DONE;
    }

    if (j == NULL) {
        return MC_CALL_DONE;
    }

    if (!json_is_string(json_object_get(j, "state")) && mc_luma_error(j)) {
        /* an error object with a success status */
        mc_result_rejected(c, resp->status, mc_luma_error(j));
        json_decref(j);
        return MC_CALL_DONE;
    }

    rc = mc_luma_generation(c, j);
    json_decref(j);

    return rc;
}


static int
mc_luma_status_request(mc_call_t *c, mc_http_req_t *req)
{
    mc_http_req_init(req, "GET",
                     mc_provider_url(c, "/generations/%s",
                                     c->task->provider_task_id));

    if (req->url == NULL || mc_luma_headers(c, req) != MC_OK) {
        return MC_ERROR;
    }

    return MC_CALL_SEND;
}


static int
mc_luma_status_reply(mc_call_t *c, const mc_http_resp_t *resp,
    mc_http_req_t *next)
{
    if (resp->status == 404) {
        /* deleted at Luma: it will not finish */
        mc_result_lost(c, "generation");
        return MC_CALL_DONE;
    }

    return mc_luma_reply(c, resp, next);
}


static const mc_adapter_t  mc_adapter_luma = {
    "luma",
    MC_FEAT_IMAGE_URL,
    mc_luma_params,
    mc_luma_init,
    mc_luma_create_request,
    mc_luma_reply,
    mc_luma_status_request,
    mc_luma_status_reply,
    NULL,
    NULL,
    NULL
};

MC_ADAPTER_REGISTER(mc_adapter_luma);
