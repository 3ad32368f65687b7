
/*
 * replicate: Replicate's predictions API, for any video model it hosts.
 *
 *   POST {url}/models/{owner}/{name}/predictions   create, model owner/name
 *   POST {url}/predictions                         create, a version:
 *                                                  {"version": id, ...}
 *   GET  {url}/predictions/{id}                    status
 *   POST {url}/predictions/{id}/cancel             cancel
 *
 * url= includes the version: https://api.replicate.com/v1.  Every call
 * carries "Authorization: Bearer <token>".  The model id is the model,
 * "owner/name" (its latest version), or a version: "owner/name:<id>" or
 * the bare 64-hex <id>, which go to /predictions, the way the official
 * client's ModelVersionIdentifier.parse() and createPrediction() route
 * them.  The body is {"input": {...}} in the model's own input names; no
 * "Prefer: wait", so the create answers at once (201) with a prediction
 * that is starting.
 *
 * A prediction is starting, processing, succeeded (output: a URL, or an
 * array of them), failed (error: a string), canceled or aborted.  Progress
 * is read from the logs the way the client's parseProgressFromLogs() does:
 * the last "NN%|...| n/N" progress-bar line.  Errors are problem+json:
 * {"title", "detail", "status", "invalid_fields"}; 422 for invalid input.
 * Output files are public URLs (replicate.delivery) that Replicate deletes
 * an hour after an API prediction ends.
 *
 * Checked in replicate/replicate-javascript 1.4.0 (lib/predictions.js,
 * lib/identifier.js, lib/util.js, index.d.ts): the two create paths, the
 * status words, no body on cancel, and that file inputs may travel as
 * data: URLs (the "data-uri" file strategy), so images go as URL or data.
 *
 * Params, the model's input names (a name of "-" means the model has no
 * such input, and a request that needs it is refused):
 *   prompt_field=prompt  duration_field=duration  image_field=image
 *   aspect_field=aspect_ratio  seed_field=seed
 *   negative_field=negative_prompt  resolution_field=- (e.g. resolution,
 *   which then gets "720p", "1080p", ...)
 * The duration goes as an integer number of seconds.
 */

#include "../mc_adapter.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>


typedef struct {
    const char          *prompt;
    const char          *duration;
    const char          *image;
    const char          *aspect;
    const char          *seed;
    const char          *negative;
    const char          *resolution;
} mc_replicate_conf_t;


static const char *const  mc_replicate_params[] = {
    "prompt_field", "duration_field", "image_field", "aspect_field",
    "seed_field", "negative_field", "resolution_field", NULL
};


static int mc_replicate_init(mc_provider_t *p, mc_pool_t *pool, char *err,
    size_t errlen);
static int mc_replicate_field(mc_provider_t *p, const char *param,
    const char *def, const char **field, char *err, size_t errlen);
static int mc_replicate_headers(mc_call_t *c, mc_http_req_t *req);
static int mc_replicate_name_ok(const char *s, size_t len);
static int mc_replicate_create_request(mc_call_t *c, mc_http_req_t *req);
static const char *mc_replicate_error(json_t *j);
static int mc_replicate_progress(const char *logs);
static const char *mc_replicate_blanks(const char *p, const char *end);
static int mc_replicate_progress_line(const char *p, const char *end);
static int mc_replicate_prediction(mc_call_t *c, json_t *j);
static int mc_replicate_reply(mc_call_t *c, const mc_http_resp_t *resp,
    mc_http_req_t *next);
static int mc_replicate_status_request(mc_call_t *c, mc_http_req_t *req);
static int mc_replicate_status_reply(mc_call_t *c,
    const mc_http_resp_t *resp, mc_http_req_t *next);
static int mc_replicate_cancel_request(mc_call_t *c, mc_http_req_t *req);
static int mc_replicate_cancel_reply(mc_call_t *c,
    const mc_http_resp_t *resp, mc_http_req_t *next);


static int
mc_replicate_init(mc_provider_t *p, mc_pool_t *pool, char *err,
    size_t errlen)
{
    mc_replicate_conf_t  *conf;

    if (p->key == NULL) {
        snprintf(err, errlen, "provider \"%s\" needs key_file= or key_env= "
                 "with a Replicate API token", p->name);
        return MC_ERROR;
    }

    conf = mc_pcalloc(pool, sizeof(mc_replicate_conf_t));
    if (conf == NULL) {
        snprintf(err, errlen, "out of memory");
        return MC_ERROR;
    }

    if (mc_replicate_field(p, "prompt_field", "prompt", &conf->prompt,
                           err, errlen) != MC_OK
        || mc_replicate_field(p, "duration_field", "duration",
                              &conf->duration, err, errlen) != MC_OK
        || mc_replicate_field(p, "image_field", "image", &conf->image,
                              err, errlen) != MC_OK
        || mc_replicate_field(p, "aspect_field", "aspect_ratio",
                              &conf->aspect, err, errlen) != MC_OK
        || mc_replicate_field(p, "seed_field", "seed", &conf->seed,
                              err, errlen) != MC_OK
        || mc_replicate_field(p, "negative_field", "negative_prompt",
                              &conf->negative, err, errlen) != MC_OK
        || mc_replicate_field(p, "resolution_field", "-",
                              &conf->resolution, err, errlen) != MC_OK)
    {
        return MC_ERROR;
    }

    if (conf->prompt == NULL) {
        snprintf(err, errlen, "prompt_field= cannot be \"-\": every video "
                 "model takes a prompt");
        return MC_ERROR;
    }

    p->conf = conf;
    return MC_OK;
}


/* an input name as Cog declares it: a Python identifier, or "-" */

static int
mc_replicate_field(mc_provider_t *p, const char *param, const char *def,
    const char **field, char *err, size_t errlen)
{
    const char  *v, *s;

    v = mc_provider_param(p, param);
    if (v == NULL) {
        v = def;
    }

    if (strcmp(v, "-") == 0) {
        *field = NULL;
        return MC_OK;
    }

    for (s = v; *s; s++) {
        if (!(isalnum((unsigned char) *s) || *s == '_')) {
            break;
        }
    }

    if (v[0] == '\0' || *s != '\0' || isdigit((unsigned char) v[0])) {
        snprintf(err, errlen, "invalid %s \"%s\": an input name such as "
                 "\"%s\", or \"-\" for none", param, v,
                 strcmp(def, "-") ? def : "resolution");
        return MC_ERROR;
    }

    *field = v;
    return MC_OK;
}


static int
mc_replicate_headers(mc_call_t *c, mc_http_req_t *req)
{
    return mc_http_req_header(req, "Authorization",
                              mc_bearer(c, c->provider->key));
}


/* an owner or model name that can go into a path as it is */

static int
mc_replicate_name_ok(const char *s, size_t len)
{
    size_t  i;

    if (len == 0) {
        return 0;
    }

    for (i = 0; i < len; i++) {
        if (!(isalnum((unsigned char) s[i]) || s[i] == '-' || s[i] == '_'
              || s[i] == '.'))
        {
            return 0;
        }
    }

    return 1;
}


static int
mc_replicate_create_request(mc_call_t *c, mc_http_req_t *req)
{
    json_t                *body, *input;
    size_t                 n;
    const char            *id, *slash, *colon, *version;
    mc_replicate_conf_t   *conf;
    const mc_video_req_t  *r;

    r = c->req;
    conf = c->provider->conf;
    id = c->model_id;

    if (r->image_url && conf->image == NULL) {
        mc_result_fail(c, MC_FAIL_INPUT, 400, "The model %s takes no image.",
                       id);
        return MC_CALL_DONE;
    }

    if (r->has_seed && conf->seed == NULL) {
        mc_result_fail(c, MC_FAIL_INPUT, 400, "The model %s takes no seed.",
                       id);
        return MC_CALL_DONE;
    }

    if (r->negative_prompt && r->negative_prompt[0]
        && conf->negative == NULL)
    {
        mc_result_fail(c, MC_FAIL_INPUT, 400, "The model %s takes no "
                       "negative_prompt.", id);
        return MC_CALL_DONE;
    }

    /* owner/name, owner/name:version, or a bare version id */
    slash = strchr(id, '/');
    colon = strchr(id, ':');
    version = NULL;

    if (slash) {
        n = colon ? (size_t) (colon - slash - 1) : strlen(slash + 1);

        if (!mc_replicate_name_ok(id, (size_t) (slash - id))
            || !mc_replicate_name_ok(slash + 1, n)
            || (colon && (colon < slash
                          || !mc_replicate_name_ok(colon + 1,
                                                   strlen(colon + 1)))))
        {
            goto bad_id;
        }

        version = colon ? colon + 1 : NULL;

    } else {
        n = strlen(id);

        if (n != 64 || strspn(id, "0123456789abcdef") != n) {
            goto bad_id;
        }

        version = id;
    }

    input = json_object();
    body = json_object();

    if (input == NULL || body == NULL) {
        json_decref(input);
        json_decref(body);
        return MC_ERROR;
    }

    json_object_set_new(input, conf->prompt, json_string(r->prompt));

    if (conf->duration) {
        json_object_set_new(input, conf->duration, json_integer(r->seconds));
    }

    if (conf->aspect && r->aspect_ratio) {
        json_object_set_new(input, conf->aspect,
                            json_string(r->aspect_ratio));
    }

    if (conf->resolution && r->resolution) {
        json_object_set_new(input, conf->resolution,
                            json_string(mc_resolution_name(r->resolution)));
    }

    if (r->image_url) {
        json_object_set_new(input, conf->image, json_string(r->image_url));
    }

    if (r->has_seed) {
        json_object_set_new(input, conf->seed, json_integer(r->seed));
    }

    if (r->negative_prompt && r->negative_prompt[0]) {
        json_object_set_new(input, conf->negative,
                            json_string(r->negative_prompt));
    }

    if (version) {
        json_object_set_new(body, "version", json_string(version));
        mc_http_req_init(req, "POST", mc_provider_url(c, "/predictions"));

    } else {
        mc_http_req_init(req, "POST",
                         mc_provider_url(c, "/models/%s/predictions", id));
    }

    json_object_set_new(body, "input", input);

    if (req->url == NULL
        || mc_replicate_headers(c, req) != MC_OK
        || mc_http_req_json(c, req, body) != MC_OK)
    {
        return MC_ERROR;
    }

    return MC_CALL_SEND;

bad_id:

    /* the operator's configuration, not the client's request */
    mc_result_fail(c, MC_FAIL_PROTOCOL, 0, "model id \"%.64s\" is not "
                   "owner/name, owner/name:version or a version id", id);
    return MC_CALL_DONE;
}


/* problem+json: {"title": ..., "detail": ..., "status": ...} */

static const char *
mc_replicate_error(json_t *j)
{
    const char  *s;

    s = mc_json_str(j, "detail");
    if (s == NULL || s[0] == '\0') {
        s = mc_json_str(j, "title");
    }
    if (s == NULL) {
        s = mc_json_path_str(j, "invalid_fields.0.description");
    }

    return s;
}


/*
 * The percentage of the last progress-bar line in the logs, as the
 * official client reads it: "  45%|####5     | 45/100 [00:09<00:11]"
 */

static int
mc_replicate_progress(const char *logs)
{
    int          pct;
    const char  *end, *line;

    end = logs + strlen(logs);

    while (end > logs) {
        line = end;
        while (line > logs && line[-1] != '\n' && line[-1] != '\r') {
            line--;
        }

        pct = mc_replicate_progress_line(line, end);
        if (pct >= 0) {
            return pct;
        }

        end = line > logs ? line - 1 : logs;
    }

    return -1;
}


static const char *
mc_replicate_blanks(const char *p, const char *end)
{
    while (p < end && (*p == ' ' || *p == '\t')) {
        p++;
    }

    return p;
}


static int
mc_replicate_progress_line(const char *p, const char *end)
{
    int          pct;
    const char  *bar;

    p = mc_replicate_blanks(p, end);

    if (p == end || !isdigit((unsigned char) *p)) {
        return -1;
    }

    for (pct = 0; p < end && isdigit((unsigned char) *p); p++) {
        if (pct > 100) {
            return -1;
        }

        pct = pct * 10 + (*p - '0');
    }

    if (pct > 100) {
        return -1;
    }

    p = mc_replicate_blanks(p, end);

    if (p == end || *p != '%') {
        return -1;
    }

    p = mc_replicate_blanks(p + 1, end);

    /* "|", at least one character of bar, "|" */
    if (end - p < 3 || *p != '|') {
        return -1;
    }

    bar = memchr(p + 2, '|', (size_t) (end - p - 2));
    if (bar == NULL) {
        return -1;
    }

    p = mc_replicate_blanks(bar + 1, end);

    if (p == end || !isdigit((unsigned char) *p)) {
        return -1;
    }

    while (p < end && isdigit((unsigned char) *p)) {
        p++;
    }

    if (end - p < 2 || *p != '/' || !isdigit((unsigned char) p[1])) {
        return -1;
    }

    return pct;
}


/* the prediction object, as create, status and cancel return it */

static int
mc_replicate_prediction(mc_call_t *c, json_t *j)
{
    json_t      *out;
    const char  *id, *status, *url, *logs;

    id = mc_json_str(j, "id");
    status = mc_json_str(j, "status");

    if (id == NULL || id[0] == '\0' || status == NULL) {
        mc_result_fail(c, MC_FAIL_PROTOCOL, 0, "a prediction without id or "
                       "status");
        return MC_CALL_DONE;
    }

    c->result.provider_task_id = mc_result_str(c, id);
    logs = mc_json_str(j, "logs");

    if (strcmp(status, "starting") == 0) {
        mc_result_state(c, MC_TASK_QUEUED, 0);

    } else if (strcmp(status, "processing") == 0) {
        mc_result_state(c, MC_TASK_IN_PROGRESS,
                        logs ? mc_replicate_progress(logs) : -1);

    } else if (strcmp(status, "succeeded") == 0) {
        out = json_object_get(j, "output");

        if (json_is_array(out)) {
            out = json_array_get(out, 0);
        }

        url = json_is_string(out) ? json_string_value(out) : NULL;

        if (url == NULL || url[0] == '\0') {
            mc_result_task_failed(c, "no_output", "The provider finished "
                                  "without a video.");
            return MC_CALL_DONE;
        }

        mc_result_state(c, MC_TASK_COMPLETED, 100);
        c->result.video_url = mc_result_str(c, url);

    } else if (strcmp(status, "failed") == 0) {
        mc_result_task_failed(c, "generation_failed",
                              mc_json_str(j, "error"));

    } else if (strcmp(status, "canceled") == 0) {
        mc_result_task_failed(c, "canceled", "The prediction was canceled.");

    } else if (strcmp(status, "aborted") == 0) {
        /* ended by Replicate before it ran, e.g. past its deadline */
        mc_result_task_failed(c, "canceled", "The provider aborted the "
                              "prediction before it ran.");

    } else {
        mc_result_fail(c, MC_FAIL_PROTOCOL, 0, "unknown status \"%.32s\"",
                       status);
    }

    return MC_CALL_DONE;
}


static int
mc_replicate_reply(mc_call_t *c, const mc_http_resp_t *resp,
    mc_http_req_t *next)
{
    int          rc;
    json_t      *j;

    j = mc_reply_json(c, resp);

    if (resp->status >= 400) {
        mc_result_rejected(c, resp->status,
                           j ? mc_replicate_error(j) : NULL);
        json_decref(j);
        return MC_CALL_DONE;
    }

    if (j == NULL) {
        return MC_CALL_DONE;
    }

    if (!json_is_string(json_object_get(j, "status"))
        && mc_replicate_error(j))
    {
        /* a problem document under a success status */
        mc_result_rejected(c, resp->status, mc_replicate_error(j));
        json_decref(j);
        return MC_CALL_DONE;
    }

    rc = mc_replicate_prediction(c, j);
    json_decref(j);

    return rc;
}


static int
mc_replicate_status_request(mc_call_t *c, mc_http_req_t *req)
{
    mc_http_req_init(req, "GET",
                     mc_provider_url(c, "/predictions/%s",
                                     c->task->provider_task_id));

    if (req->url == NULL || mc_replicate_headers(c, req) != MC_OK) {
        return MC_ERROR;
    }

    return MC_CALL_SEND;
}


static int
mc_replicate_status_reply(mc_call_t *c, const mc_http_resp_t *resp,
    mc_http_req_t *next)
{
    if (resp->status == 404) {
        mc_result_lost(c, "prediction");
        return MC_CALL_DONE;
    }

    return mc_replicate_reply(c, resp, next);
}


static int
mc_replicate_cancel_request(mc_call_t *c, mc_http_req_t *req)
{
    /* no body, as the official client sends it */
    mc_http_req_init(req, "POST",
                     mc_provider_url(c, "/predictions/%s/cancel",
                                     c->task->provider_task_id));

    if (req->url == NULL || mc_replicate_headers(c, req) != MC_OK) {
        return MC_ERROR;
    }

    return MC_CALL_SEND;
}


static int
mc_replicate_cancel_reply(mc_call_t *c, const mc_http_resp_t *resp,
    mc_http_req_t *next)
{
    if (resp->status == 404) {
        mc_result_task_failed(c, "canceled", "The prediction was canceled.");
        return MC_CALL_DONE;
    }

    mc_replicate_reply(c, resp, next);

    if (c->result.fail == MC_FAIL_NONE
        && !mc_task_is_terminal(c->result.status))
    {
        /* accepted; the prediction stops on Replicate's side */
        mc_result_task_failed(c, "canceled", "The prediction was canceled.");
    }

    return MC_CALL_DONE;
}


static const mc_adapter_t  mc_adapter_replicate = {
    "replicate",
    MC_FEAT_IMAGE | MC_FEAT_SEED | MC_FEAT_NEGATIVE | MC_FEAT_CANCEL,
    mc_replicate_params,
    mc_replicate_init,
    mc_replicate_create_request,
    mc_replicate_reply,
    mc_replicate_status_request,
    mc_replicate_status_reply,
    mc_replicate_cancel_request,
    mc_replicate_cancel_reply,
    NULL
};

MC_ADAPTER_REGISTER(mc_adapter_replicate);
