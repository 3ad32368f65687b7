
/*
 * runway: Runway's Developer API.
 *
 *   POST   {url}/v1/text_to_video    create without an image
 *   POST   {url}/v1/image_to_video   create with an image (promptImage)
 *   GET    {url}/v1/tasks/{id}       status
 *   DELETE {url}/v1/tasks/{id}       cancel: 204, no body
 *
 * url= is the host only, e.g. https://api.dev.runwayml.com.  Every call
 * carries "Authorization: Bearer <key>" and "X-Runway-Version: 2024-11-06"
 * (version= overrides it).  Bodies are camelCase: model, promptText,
 * promptImage (an https URL or a data: URL, sent as a plain string),
 * ratio as a "W:H" pixel string from the model's list, duration a JSON
 * number, seed an integer, negativePrompt.
 *
 * Tasks are PENDING and THROTTLED (queued: THROTTLED means the account is
 * at its concurrency limit, not an error), RUNNING with progress 0..1,
 * then SUCCEEDED with output[] URLs (they expire in 24-48 h), FAILED with
 * failure and failureCode, or CANCELLED.  Errors on 4xx are a JSON object
 * with an "error" string and, for validation, "issues".
 *
 * DELETE cancels a PENDING, THROTTLED or RUNNING task but deletes a
 * finished one with its output, so a cancel first reads the task and only
 * deletes one that is still running: a task that finished meanwhile keeps
 * its video and its charge.
 *
 * Checked in @runwayml/sdk (sdk-node, 4.12.0 and its history) and
 * docs.dev.runwayml.com:
 *   - gen4_turbo is image_to_video only; its duration is 2-10 (SDK 3.3.0
 *     text: "gen4_turbo must specify a duration of 2-10 seconds"); seed.
 *   - gen4.5: both endpoints, duration 2-10 required, text ratios
 *     1280:720 and 720:1280 only; seed.
 *   - veo3 (duration 8), veo3.1 and veo3.1_fast (4, 6, 8): four ratios,
 *     negativePrompt (added in SDK 4.9.1), no seed in any SDK version
 *     (the reference's "seed (4.x)" for veo3.1 is not borne out).
 *   - gen3a_turbo (SDK 3.x): image only, 5 or 10, 1280:768 and 768:1280.
 *   - gemini_omni_flash: 3-10 s, 1280:720 or 720:1280; happyhorse_1_0's
 *     image_to_video has no ratio (the image decides); seedance2* take
 *     an optional ratio from a long list.
 *   - 4xx bodies: "a JSON response with an error member with a
 *     human-readable explanation" (docs, API errors page); the SDK's
 *     DELETE accepts any content type and expects no body.
 * A model missing from the table is sent the request's own size as its
 * ratio and every field the request has; Runway judges it.
 *
 * Params: version= the X-Runway-Version value.
 */

#include "../mc_adapter.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>


#define MC_RUNWAY_VERSION   "2024-11-06"

#define MC_RUNWAY_T2V       0x01
#define MC_RUNWAY_I2V       0x02
#define MC_RUNWAY_SEED      0x04
#define MC_RUNWAY_NEGATIVE  0x08


typedef struct {
    const char          *name;
    unsigned             flags;
    const char *const   *t2v_ratios;    /* NULL: no ratio field */
    const char *const   *i2v_ratios;
    int                  min;           /* durations: a range ... */
    int                  max;
    const int           *durations;     /* ... or a list, 0 ends it */
} mc_runway_model_t;


typedef struct {
    const char          *version;
} mc_runway_conf_t;


static const char *const  mc_runway_params[] = {
    "version", NULL
};


static const char *const  mc_runway_ratios_gen4[] = {
    "1280:720", "720:1280", "1104:832", "832:1104", "960:960", "1584:672",
    NULL
};

static const char *const  mc_runway_ratios_wide[] = {
    "1280:720", "720:1280", NULL
};

static const char *const  mc_runway_ratios_veo[] = {
    "1280:720", "720:1280", "1080:1920", "1920:1080", NULL
};

static const char *const  mc_runway_ratios_gen3[] = {
    "1280:768", "768:1280", NULL
};

static const char *const  mc_runway_ratios_happyhorse[] = {
    "1280:720", "720:1280", "960:960", "1108:832", "832:1108", "1920:1080",
    "1080:1920", "1440:1440", "1662:1248", "1248:1662", NULL
};

static const char *const  mc_runway_ratios_seedance[] = {
    "992:432", "864:496", "752:560", "640:640", "560:752", "496:864",
    "1470:630", "1280:720", "1112:834", "960:960", "834:1112", "720:1280",
    "2206:946", "1920:1080", "1664:1248", "1440:1440", "1248:1664",
    "1080:1920", "3840:1646", "3840:2160", "3840:2880", "3840:3840",
    "2880:3840", "2160:3840", NULL
};

static const int  mc_runway_veo3_seconds[] = { 8, 0 };
static const int  mc_runway_veo31_seconds[] = { 4, 6, 8, 0 };
static const int  mc_runway_gen3_seconds[] = { 5, 10, 0 };


static const mc_runway_model_t  mc_runway_models[] = {
    { "gen4.5", MC_RUNWAY_T2V | MC_RUNWAY_I2V | MC_RUNWAY_SEED,
      mc_runway_ratios_wide, mc_runway_ratios_gen4, 2, 10, NULL },
    { "gen4_turbo", MC_RUNWAY_I2V | MC_RUNWAY_SEED,
      NULL, mc_runway_ratios_gen4, 2, 10, NULL },
    { "gen3a_turbo", MC_RUNWAY_I2V | MC_RUNWAY_SEED,
      NULL, mc_runway_ratios_gen3, 0, 0, mc_runway_gen3_seconds },
    { "veo3", MC_RUNWAY_T2V | MC_RUNWAY_I2V | MC_RUNWAY_NEGATIVE,
      mc_runway_ratios_veo, mc_runway_ratios_veo, 0, 0,
      mc_runway_veo3_seconds },
    { "veo3.1", MC_RUNWAY_T2V | MC_RUNWAY_I2V | MC_RUNWAY_NEGATIVE,
      mc_runway_ratios_veo, mc_runway_ratios_veo, 0, 0,
      mc_runway_veo31_seconds },
    { "veo3.1_fast", MC_RUNWAY_T2V | MC_RUNWAY_I2V | MC_RUNWAY_NEGATIVE,
      mc_runway_ratios_veo, mc_runway_ratios_veo, 0, 0,
      mc_runway_veo31_seconds },
    { "gemini_omni_flash", MC_RUNWAY_T2V | MC_RUNWAY_I2V,
      mc_runway_ratios_wide, mc_runway_ratios_wide, 3, 10, NULL },
    { "happyhorse_1_0", MC_RUNWAY_T2V | MC_RUNWAY_I2V,
      mc_runway_ratios_happyhorse, NULL, 0, 0, NULL },
    { "seedance2", MC_RUNWAY_T2V | MC_RUNWAY_I2V,
      mc_runway_ratios_seedance, mc_runway_ratios_seedance, 0, 0, NULL },
    { "seedance2_fast", MC_RUNWAY_T2V | MC_RUNWAY_I2V,
      mc_runway_ratios_seedance, mc_runway_ratios_seedance, 0, 0, NULL },
    { "seedance2_mini", MC_RUNWAY_T2V | MC_RUNWAY_I2V,
      mc_runway_ratios_seedance, mc_runway_ratios_seedance, 0, 0, NULL }
};


static int mc_runway_init(mc_provider_t *p, mc_pool_t *pool, char *err,
    size_t errlen);
static const mc_runway_model_t *mc_runway_model(const char *name);
static int mc_runway_headers(mc_call_t *c, mc_http_req_t *req);
static int mc_runway_check_seconds(mc_call_t *c, const mc_runway_model_t *m);
static const char *mc_runway_ratio(const char *const *list, int width,
    int height);
static int mc_runway_create_request(mc_call_t *c, mc_http_req_t *req);
static const char *mc_runway_error(mc_call_t *c, json_t *j);
static int mc_runway_create_reply(mc_call_t *c, const mc_http_resp_t *resp,
    mc_http_req_t *next);
static int mc_runway_task(mc_call_t *c, json_t *j);
static int mc_runway_status_request(mc_call_t *c, mc_http_req_t *req);
static int mc_runway_status_reply(mc_call_t *c, const mc_http_resp_t *resp,
    mc_http_req_t *next);
static int mc_runway_cancel_request(mc_call_t *c, mc_http_req_t *req);
static int mc_runway_cancel_reply(mc_call_t *c, const mc_http_resp_t *resp,
    mc_http_req_t *next);


static int
mc_runway_init(mc_provider_t *p, mc_pool_t *pool, char *err, size_t errlen)
{
    const char        *v;
    mc_runway_conf_t  *conf;

    if (p->key == NULL) {
        snprintf(err, errlen, "provider \"%s\" needs key_file= or key_env= "
                 "with a Runway API secret", p->name);
        return MC_ERROR;
    }

    conf = mc_pcalloc(pool, sizeof(mc_runway_conf_t));
    if (conf == NULL) {
        snprintf(err, errlen, "out of memory");
        return MC_ERROR;
    }

    conf->version = MC_RUNWAY_VERSION;

    v = mc_provider_param(p, "version");
    if (v) {
        /* a date, as Runway names its API versions */
        if (strlen(v) != 10 || v[4] != '-' || v[7] != '-'
            || strspn(v, "0123456789-") != 10)
        {
            snprintf(err, errlen, "invalid version \"%s\": a date such as "
                     "%s", v, MC_RUNWAY_VERSION);
            return MC_ERROR;
        }

        conf->version = v;
    }

    p->conf = conf;
    return MC_OK;
}


static const mc_runway_model_t *
mc_runway_model(const char *name)
{
    size_t  i;

    for (i = 0; i < sizeof(mc_runway_models) / sizeof(mc_runway_models[0]);
         i++)
    {
        if (strcmp(mc_runway_models[i].name, name) == 0) {
            return &mc_runway_models[i];
        }
    }

    return NULL;
}


static int
mc_runway_headers(mc_call_t *c, mc_http_req_t *req)
{
    mc_runway_conf_t  *conf;

    conf = c->provider->conf;

    if (mc_http_req_header(req, "Authorization",
                           mc_bearer(c, c->provider->key)) != MC_OK
        || mc_http_req_header(req, "X-Runway-Version", conf->version)
           != MC_OK)
    {
        return MC_ERROR;
    }

    return MC_OK;
}


/* a duration the model cannot make is the client's 400, with the list */

static int
mc_runway_check_seconds(mc_call_t *c, const mc_runway_model_t *m)
{
    int          s;
    char         list[64];
    size_t       i, n;
    const int   *d;

    s = c->req->seconds;

    if (m->durations) {
        for (d = m->durations; *d; d++) {
            if (*d == s) {
                return MC_OK;
            }
        }

        n = 0;
        list[0] = '\0';

        for (i = 0; m->durations[i] && n + 8 < sizeof(list); i++) {
            n += (size_t) snprintf(list + n, sizeof(list) - n, "%s%d",
                                   i ? ", " : "", m->durations[i]);
        }

        mc_result_fail(c, MC_FAIL_INPUT, 400, "seconds %d is not available "
                       "for Runway's %s; allowed: %s.", s, m->name, list);
        return MC_ERROR;
    }

    if (m->max && (s < m->min || s > m->max)) {
        mc_result_fail(c, MC_FAIL_INPUT, 400, "seconds %d is not available "
                       "for Runway's %s; allowed: %d to %d.", s, m->name,
                       m->min, m->max);
        return MC_ERROR;
    }

    return MC_OK;
}


/*
 * Runway names sizes, not shapes: the listed "W:H" of the closest shape,
 * and of those (1280:720 and 1920:1080 are both 16:9) the one closest to
 * the requested height or width
 */

static const char *
mc_runway_ratio(const char *const *list, int width, int height)
{
    int          w, h, side, d, bd;
    double       r, q, bq;
    const char  *best;

    r = log((double) width / height);
    side = width < height ? width : height;
    best = NULL;
    bq = 0;
    bd = 0;

    for ( /* void */ ; *list; list++) {
        if (sscanf(*list, "%d:%d", &w, &h) != 2 || w <= 0 || h <= 0) {
            continue;
        }

        q = fabs(log((double) w / h) - r);
        d = abs((w < h ? w : h) - side);

        if (best == NULL || q < bq - 1e-3
            || (fabs(q - bq) <= 1e-3 && d < bd))
        {
            best = *list;
            bq = q;
            bd = d;
        }
    }

    return best;
}


static int
mc_runway_create_request(mc_call_t *c, mc_http_req_t *req)
{
    json_t                   *body;
    unsigned                  flags;
    const char               *ratio;
    const char *const        *ratios;
    const mc_video_req_t     *r;
    const mc_runway_model_t  *m;

    r = c->req;
    m = mc_runway_model(c->model_id);

    flags = m ? m->flags : MC_RUNWAY_T2V | MC_RUNWAY_I2V | MC_RUNWAY_SEED
                           | MC_RUNWAY_NEGATIVE;

    if (r->image_url == NULL && !(flags & MC_RUNWAY_T2V)) {
        mc_result_fail(c, MC_FAIL_INPUT, 400, "Runway's %s makes videos "
                       "from an image only: give image_url or "
                       "input_reference.", c->model_id);
        return MC_CALL_DONE;
    }

    if (r->image_url && !(flags & MC_RUNWAY_I2V)) {
        mc_result_fail(c, MC_FAIL_INPUT, 400, "Runway's %s takes no image.",
                       c->model_id);
        return MC_CALL_DONE;
    }

    if (r->has_seed && !(flags & MC_RUNWAY_SEED)) {
        mc_result_fail(c, MC_FAIL_INPUT, 400, "Runway's %s takes no seed.",
                       c->model_id);
        return MC_CALL_DONE;
    }

    if (r->negative_prompt && r->negative_prompt[0]
        && !(flags & MC_RUNWAY_NEGATIVE))
    {
        mc_result_fail(c, MC_FAIL_INPUT, 400, "Runway's %s takes no "
                       "negative_prompt.", c->model_id);
        return MC_CALL_DONE;
    }

    if (m && mc_runway_check_seconds(c, m) != MC_OK) {
        return MC_CALL_DONE;
    }

    if (m) {
        ratios = r->image_url ? m->i2v_ratios : m->t2v_ratios;
        ratio = ratios ? mc_runway_ratio(ratios, r->width, r->height) : NULL;

    } else {
        ratio = mc_psprintf(c->pool, "%d:%d", r->width, r->height);
    }

    body = json_object();
    if (body == NULL) {
        return MC_ERROR;
    }

    json_object_set_new(body, "model", json_string(c->model_id));

    if (r->prompt && r->prompt[0]) {
        json_object_set_new(body, "promptText", json_string(r->prompt));
    }

    if (r->image_url) {
        json_object_set_new(body, "promptImage", json_string(r->image_url));
    }

    if (ratio) {
        json_object_set_new(body, "ratio", json_string(ratio));
    }

    json_object_set_new(body, "duration", json_integer(r->seconds));

    if (r->has_seed) {
        json_object_set_new(body, "seed", json_integer(r->seed));
    }

    if (r->negative_prompt && r->negative_prompt[0]) {
        json_object_set_new(body, "negativePrompt",
                            json_string(r->negative_prompt));
    }

    mc_http_req_init(req, "POST",
                     mc_provider_url(c, r->image_url ? "/v1/image_to_video"
                                                     : "/v1/text_to_video"));

    if (req->url == NULL
        || mc_runway_headers(c, req) != MC_OK
        || mc_http_req_json(c, req, body) != MC_OK)
    {
        return MC_ERROR;
    }

    return MC_CALL_SEND;
}


/* {"error": "...", "issues": [{"message": "...", "path": [...]}]} */

static const char *
mc_runway_error(mc_call_t *c, json_t *j)
{
    json_t      *path, *v;
    size_t       i;
    mc_buf_t     b;
    const char  *err, *issue, *out;

    err = mc_json_str(j, "error");
    issue = mc_json_path_str(j, "issues.0.message");

    if (issue == NULL) {
        return err;
    }

    mc_buf_init(&b);
    mc_buf_printf(&b, "%s", err ? err : "Invalid input");

    path = mc_json_path(j, "issues.0.path");

    if (json_array_size(path)) {
        mc_buf_adds(&b, " (");

        json_array_foreach(path, i, v) {
            if (json_is_string(v)) {
                mc_buf_printf(&b, "%s%s", i ? "." : "", json_string_value(v));

            } else if (json_is_integer(v)) {
                mc_buf_printf(&b, "%s%lld", i ? "." : "",
                              (long long) json_integer_value(v));
            }
        }

        mc_buf_adds(&b, ")");
    }

    mc_buf_printf(&b, ": %s", issue);

    out = b.failed ? err : mc_pstrndup(c->pool, b.data, b.len);
    mc_buf_free(&b);

    return out;
}


static int
mc_runway_create_reply(mc_call_t *c, const mc_http_resp_t *resp,
    mc_http_req_t *next)
{
    json_t      *j;
    const char  *id, *msg;

    j = mc_reply_json(c, resp);

    if (resp->status >= 400) {
        mc_result_rejected(c, resp->status,
                           j ? mc_runway_error(c, j) : NULL);
        json_decref(j);
        return MC_CALL_DONE;
    }

    if (j == NULL) {
        return MC_CALL_DONE;
    }

    id = mc_json_str(j, "id");

    if (id == NULL || id[0] == '\0') {
        msg = mc_runway_error(c, j);
        mc_result_fail(c, msg ? MC_FAIL_INPUT : MC_FAIL_PROTOCOL,
                       resp->status, "%s",
                       msg ? mc_sanitize_message(c, msg)
                           : "an answer without a task id");
        json_decref(j);
        return MC_CALL_DONE;
    }

    /* a new task is PENDING; the answer holds only its id */
    c->result.provider_task_id = mc_result_str(c, id);
    mc_result_state(c, MC_TASK_QUEUED, 0);

    json_decref(j);
    return MC_CALL_DONE;
}


/* the task object, as GET /v1/tasks/{id} returns it */

static int
mc_runway_task(mc_call_t *c, json_t *j)
{
    json_t      *v;
    const char  *status, *url;

    status = mc_json_str(j, "status");

    if (status == NULL) {
        mc_result_fail(c, MC_FAIL_PROTOCOL, 0, "a task without a status");
        return MC_CALL_DONE;
    }

    if (strcmp(status, "PENDING") == 0 || strcmp(status, "THROTTLED") == 0) {
        mc_result_state(c, MC_TASK_QUEUED, 0);

    } else if (strcmp(status, "RUNNING") == 0) {
        v = json_object_get(j, "progress");
        mc_result_state(c, MC_TASK_IN_PROGRESS,
                        json_is_number(v)
                        ? (int) (json_number_value(v) * 100 + 0.5) : -1);

    } else if (strcmp(status, "SUCCEEDED") == 0) {
        url = mc_json_path_str(j, "output.0");

        if (url == NULL || url[0] == '\0') {
            mc_result_task_failed(c, "no_output", "The provider finished "
                                  "without a video.");
            return MC_CALL_DONE;
        }

        mc_result_state(c, MC_TASK_COMPLETED, 100);
        c->result.video_url = mc_result_str(c, url);

    } else if (strcmp(status, "FAILED") == 0) {
        mc_result_task_failed(c, mc_json_str(j, "failureCode"),
                              mc_json_str(j, "failure"));

    } else if (strcmp(status, "CANCELLED") == 0) {
        mc_result_canceled(c);

    } else {
        mc_result_fail(c, MC_FAIL_PROTOCOL, 0, "unknown status \"%.32s\"",
                       status);
    }

    return MC_CALL_DONE;
}


static int
mc_runway_status_request(mc_call_t *c, mc_http_req_t *req)
{
    mc_http_req_init(req, "GET",
                     mc_provider_url(c, "/v1/tasks/%s",
                                     c->task->provider_task_id));

    if (req->url == NULL || mc_runway_headers(c, req) != MC_OK) {
        return MC_ERROR;
    }

    return MC_CALL_SEND;
}


static int
mc_runway_status_reply(mc_call_t *c, const mc_http_resp_t *resp,
    mc_http_req_t *next)
{
    int          rc;
    json_t      *j;
    const char  *msg;

    if (resp->status == 404) {
        /* deleted or expired at Runway: it will not finish */
        mc_result_lost(c, "task");
        return MC_CALL_DONE;
    }

    j = mc_reply_json(c, resp);

    if (resp->status >= 400) {
        msg = mc_sanitize_message(c, j ? mc_runway_error(c, j) : NULL);
        mc_result_fail(c, MC_FAIL_PROTOCOL, resp->status, "HTTP %d: %s",
                       resp->status, msg ? msg : "no explanation");
        json_decref(j);
        return MC_CALL_DONE;
    }

    if (j == NULL) {
        return MC_CALL_DONE;
    }

    rc = mc_runway_task(c, j);
    json_decref(j);

    return rc;
}


/* step one of a cancel: where the task stands */

static int
mc_runway_cancel_request(mc_call_t *c, mc_http_req_t *req)
{
    return mc_runway_status_request(c, req);
}


static int
mc_runway_cancel_reply(mc_call_t *c, const mc_http_resp_t *resp,
    mc_http_req_t *next)
{
    if (c->step == 1) {
        if (resp->status == 404) {
            mc_result_task_failed(c, "canceled", "The task was canceled.");
            return MC_CALL_DONE;
        }

        mc_runway_status_reply(c, resp, next);

        if (c->result.fail != MC_FAIL_NONE
            || mc_task_is_terminal(c->result.status))
        {
            /* finished meanwhile: nothing to cancel, nothing to delete */
            return MC_CALL_DONE;
        }

        memset(&c->result, 0, sizeof(mc_result_t));
        c->result.progress = -1;

        mc_http_req_init(next, "DELETE",
                         mc_provider_url(c, "/v1/tasks/%s",
                                         c->task->provider_task_id));

        if (next->url == NULL
            || mc_runway_headers(c, next) != MC_OK
            || mc_http_req_header(next, "Accept", "*/*") != MC_OK)
        {
            return MC_ERROR;
        }

        return MC_CALL_SEND;
    }

    if (resp->status == 204 || resp->status == 200 || resp->status == 404) {
        mc_result_task_failed(c, "canceled", "The task was canceled.");
        return MC_CALL_DONE;
    }

    mc_result_fail(c, MC_FAIL_PROTOCOL, resp->status, "cancel answered "
                   "HTTP %d", resp->status);
    return MC_CALL_DONE;
}


static const mc_adapter_t  mc_adapter_runway = {
    "runway",
    MC_FEAT_IMAGE | MC_FEAT_SEED | MC_FEAT_NEGATIVE | MC_FEAT_CANCEL,
    mc_runway_params,
    mc_runway_init,
    mc_runway_create_request,
    mc_runway_create_reply,
    mc_runway_status_request,
    mc_runway_status_reply,
    mc_runway_cancel_request,
    mc_runway_cancel_reply,
    NULL
};

MC_ADAPTER_REGISTER(mc_adapter_runway);
