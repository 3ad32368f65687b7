
/*
 * google: Veo through the Gemini API (generativelanguage.googleapis.com).
 *
 *   POST {url}/models/{model}:predictLongRunning     create
 *   GET  {url}/{operation name}                      status
 *   GET  {url}/files/{name}:download?alt=media       the MP4
 *
 * url= includes the API version, as the SDK's base URL plus apiVersion
 * does: url=https://generativelanguage.googleapis.com/v1beta.  Every call
 * carries the key in x-goog-api-key.
 *
 * The body is what @google/genai (converters/_models_converters.ts,
 * generateVideosParametersToMldev and generateVideosConfigToMldev) sends
 * in Gemini API mode: instances[0].prompt, instances[0].image =
 * {bytesBase64Encoded, mimeType} (inline bytes only: the SDK throws on
 * gcsUri), parameters.durationSeconds (a number), aspectRatio ("16:9",
 * "9:16"), resolution ("720p", "1080p", "4k"), negativePrompt and
 * personGeneration.  The SDK refuses seed in this mode, so no seed.
 *
 * The operation: no status word.  done absent or false is running; done
 * with error (google.rpc.Status) failed; done with
 * response.generateVideoResponse.generatedSamples[0].video.uri completed;
 * done with no samples and raiMediaFilteredCount > 0 was blocked by the
 * safety filters, with raiMediaFilteredReasons.  No progress, no cancel
 * (the SDK has none for video operations).
 *
 * The video URI needs the key too.  The SDK's downloader does not follow
 * it blindly: it takes the file name after "files/" and GETs
 * files/{name}:download?alt=media on its own base URL; so does this
 * adapter, and so the key never goes to a host the operator did not name.
 *
 * Facts checked for this adapter (see docs/providers/google.md):
 *   - durations: 4, 6, 8 for Veo 3.x; 5-8 for Veo 2 (Google's and
 *     resellers' parameter tables); Veo 2 has no resolution parameter
 *     and makes 720p only.
 *   - a wrong key is HTTP 400 INVALID_ARGUMENT with an ErrorInfo detail
 *     of reason API_KEY_INVALID (not 401), and a DebugInfo detail that
 *     echoes the key: it is an auth failure here, and no detail is read.
 *   - metadata.progressPercent appears only in third-party proxies and
 *     is not read.
 *
 * Params: person_generation=allow_all|allow_adult|dont_allow.
 */

#include "../mc_adapter.h"
#include "../mc_crypto.h"

#include <stdio.h>


static const char *const  mc_google_params[] = {
    "person_generation", NULL
};


static const char  *mc_google_aspects[] = { "16:9", "9:16" };


static int
mc_google_init(mc_provider_t *p, mc_pool_t *pool, char *err, size_t errlen)
{
    const char  *v, *path;

    if (p->key == NULL) {
        snprintf(err, errlen, "provider \"%s\" needs key_file= or key_env= "
                 "with a Gemini API key", p->name);
        return MC_ERROR;
    }

    /* the operation names the API returns are relative to the version */
    path = strstr(p->base_url, "://");
    path = path ? strchr(path + 3, '/') : NULL;

    if (path == NULL || path[1] == '\0') {
        snprintf(err, errlen, "provider \"%s\": url= must include the API "
                 "version, e.g. "
                 "https://generativelanguage.googleapis.com/v1beta",
                 p->name);
        return MC_ERROR;
    }

    v = mc_provider_param(p, "person_generation");
    if (v && strcmp(v, "allow_all") != 0 && strcmp(v, "allow_adult") != 0
        && strcmp(v, "dont_allow") != 0)
    {
        snprintf(err, errlen, "invalid person_generation \"%s\": "
                 "allow_all, allow_adult or dont_allow", v);
        return MC_ERROR;
    }

    return MC_OK;
}


static int
mc_google_headers(mc_call_t *c, mc_http_req_t *req)
{
    return mc_http_req_header(req, "x-goog-api-key", c->provider->key);
}


/* Veo 2 is 5 to 8 seconds at 720p; Veo 3.x is 4, 6 or 8 at up to 4k */

static int
mc_google_veo2(const char *model)
{
    return strncmp(model, "veo-2", 5) == 0;
}


static int
mc_google_create_request(mc_call_t *c, mc_http_req_t *req)
{
    int                    veo2;
    size_t                 mime_len;
    json_t                *body, *inst, *par;
    const char            *res, *mime, *b64, *v;
    const mc_video_req_t  *r;

    r = c->req;
    veo2 = mc_google_veo2(c->model_id);

    if (veo2 ? (r->seconds < 5 || r->seconds > 8)
             : (r->seconds != 4 && r->seconds != 6 && r->seconds != 8))
    {
        mc_result_fail(c, MC_FAIL_INPUT, 400, "seconds %d is not available "
                       "for %s; allowed: %s", r->seconds, c->model_id,
                       veo2 ? "5, 6, 7, 8" : "4, 6, 8");
        return MC_CALL_DONE;
    }

    res = NULL;

    if (veo2) {
        if (r->resolution != 720) {
            mc_result_fail(c, MC_FAIL_INPUT, 400, "resolution %dp is not "
                           "available for %s; allowed: 720p", r->resolution,
                           c->model_id);
            return MC_CALL_DONE;
        }

    } else if (r->resolution == 720 || r->resolution == 1080
               || r->resolution == 2160)
    {
        res = mc_resolution_name(r->resolution);

    } else {
        mc_result_fail(c, MC_FAIL_INPUT, 400, "resolution %dp is not "
                       "available for %s; allowed: 720p, 1080p, 4k",
                       r->resolution, c->model_id);
        return MC_CALL_DONE;
    }

    inst = json_object();
    par = json_object();
    body = json_object();

    if (inst == NULL || par == NULL || body == NULL) {
        json_decref(inst);
        json_decref(par);
        json_decref(body);
        return MC_ERROR;
    }

    json_object_set_new(inst, "prompt", json_string(r->prompt));

    if (r->image_url) {
        /* the Gemini API takes inline bytes only; the gateway sends only
         * data: URLs here (no MC_FEAT_IMAGE_URL) */
        if (mc_data_url_split(r->image_url, &mime, &mime_len, &b64)
            != MC_OK
            || mc_base64_valid(b64, strlen(b64)) != MC_OK)
        {
            json_decref(inst);
            json_decref(par);
            json_decref(body);
            mc_result_fail(c, MC_FAIL_INPUT, 400, "Veo takes an image as "
                           "base64 data only");
            return MC_CALL_DONE;
        }

        json_object_set_new(inst, "image",
                            json_pack("{s:s, s:o}",
                                      "bytesBase64Encoded", b64,
                                      "mimeType",
                                      json_stringn(mime, mime_len)));
    }

    json_object_set_new(par, "durationSeconds", json_integer(r->seconds));
    json_object_set_new(par, "aspectRatio",
                        json_string(mc_nearest_aspect(r->width, r->height,
                                                      mc_google_aspects, 2)));
    if (res) {
        json_object_set_new(par, "resolution", json_string(res));
    }

    if (r->negative_prompt && r->negative_prompt[0]) {
        json_object_set_new(par, "negativePrompt",
                            json_string(r->negative_prompt));
    }

    v = mc_provider_param(c->provider, "person_generation");
    if (v) {
        json_object_set_new(par, "personGeneration", json_string(v));
    }

    json_object_set_new(body, "instances", json_pack("[o]", inst));
    json_object_set_new(body, "parameters", par);

    mc_http_req_init(req, "POST",
                     mc_provider_url(c, "/models/%s:predictLongRunning",
                                     c->model_id));

    if (req->url == NULL
        || mc_google_headers(c, req) != MC_OK
        || mc_http_req_json(c, req, body) != MC_OK)
    {
        return MC_ERROR;
    }

    return MC_CALL_SEND;
}


/*
 * Google's error envelope: {"error": {"code", "message", "status",
 * "details": [...]}}.  A bad key is a 400 whose ErrorInfo says
 * API_KEY_INVALID.
 */

static int
mc_google_key_invalid(json_t *j)
{
    size_t       i;
    json_t      *d, *item;
    const char  *reason;

    d = mc_json_path(j, "error.details");

    json_array_foreach(d, i, item) {
        reason = mc_json_str(item, "reason");
        if (reason && strcmp(reason, "API_KEY_INVALID") == 0) {
            return 1;
        }
    }

    return 0;
}


static int
mc_google_error(mc_call_t *c, const mc_http_resp_t *resp, json_t *j)
{
    if (j && mc_google_key_invalid(j)) {
        mc_result_fail(c, MC_FAIL_AUTH, resp->status,
                       "the provider rejected the gateway's credentials "
                       "(HTTP %d)", resp->status);
        return MC_CALL_DONE;
    }

    mc_result_rejected(c, resp->status,
                       j ? mc_json_path_str(j, "error.message") : NULL);

    return MC_CALL_DONE;
}


/* an operation name goes back into a URL path: only the name's own
 * characters, and no way out of the base URL */

static int
mc_google_name_ok(const char *s)
{
    const char  *p;

    if (s == NULL || s[0] == '\0' || s[0] == '/' || strlen(s) > 512
        || strstr(s, ".."))
    {
        return 0;
    }

    for (p = s; *p; p++) {
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z')
              || (*p >= '0' && *p <= '9') || *p == '-' || *p == '_'
              || *p == '.' || *p == '/'))
        {
            return 0;
        }
    }

    return 1;
}


static int
mc_google_operation(mc_call_t *c, json_t *j, int created)
{
    size_t       i;
    json_t      *resp, *samples, *reasons, *v;
    mc_buf_t     b;
    const char  *name, *uri, *msg;

    name = mc_json_str(j, "name");

    if (!mc_google_name_ok(name)) {
        mc_result_fail(c, MC_FAIL_PROTOCOL, 0, "an operation without a "
                       "usable name");
        return MC_CALL_DONE;
    }

    c->result.provider_task_id = mc_result_str(c, name);

    if (!json_is_true(json_object_get(j, "done"))) {
        /* no queue position or progress: the first answer is queued,
         * every later one running */
        mc_result_state(c, created ? MC_TASK_QUEUED : MC_TASK_IN_PROGRESS,
                        -1);
        return MC_CALL_DONE;
    }

    if (json_is_object(json_object_get(j, "error"))) {
        msg = mc_json_path_str(j, "error.message");
        mc_result_task_failed(c, "generation_failed", msg);
        return MC_CALL_DONE;
    }

    resp = mc_json_path(j, "response.generateVideoResponse");
    samples = json_object_get(resp, "generatedSamples");
    uri = mc_json_path_str(samples, "0.video.uri");

    if (uri && uri[0]) {
        mc_result_state(c, MC_TASK_COMPLETED, 100);
        c->result.video_url = mc_result_str(c, uri);
        return MC_CALL_DONE;
    }

    v = json_object_get(resp, "raiMediaFilteredCount");

    if (json_is_integer(v) && json_integer_value(v) > 0) {
        mc_buf_init(&b);
        mc_buf_adds(&b, "Blocked by the provider's safety filters");

        reasons = json_object_get(resp, "raiMediaFilteredReasons");

        json_array_foreach(reasons, i, v) {
            if (json_is_string(v)) {
                mc_buf_printf(&b, "%s%s", i ? "; " : ": ",
                              json_string_value(v));
            }
        }

        mc_buf_adds(&b, ".");

        mc_result_task_failed(c, "content_filtered",
                              b.failed ? "Blocked by the provider's safety "
                                         "filters."
                                       : b.data);
        mc_buf_free(&b);
        return MC_CALL_DONE;
    }

    mc_result_task_failed(c, "generation_failed",
                          "The provider finished without a video.");

    return MC_CALL_DONE;
}


static int
mc_google_create_reply(mc_call_t *c, const mc_http_resp_t *resp,
    mc_http_req_t *next)
{
    int      rc;
    json_t  *j;

    j = mc_reply_json(c, resp);

    if (resp->status >= 400) {
        rc = mc_google_error(c, resp, j);
        json_decref(j);
        return rc;
    }

    if (j == NULL) {
        return MC_CALL_DONE;
    }

    rc = mc_google_operation(c, j, 1);
    json_decref(j);

    return rc;
}


static int
mc_google_status_request(mc_call_t *c, mc_http_req_t *req)
{
    if (!mc_google_name_ok(c->task->provider_task_id)) {
        mc_result_fail(c, MC_FAIL_PROTOCOL, 0, "the task has no operation "
                       "name");
        return MC_CALL_DONE;
    }

    mc_http_req_init(req, "GET",
                     mc_provider_url(c, "/%s", c->task->provider_task_id));

    if (req->url == NULL || mc_google_headers(c, req) != MC_OK) {
        return MC_ERROR;
    }

    return MC_CALL_SEND;
}


static int
mc_google_status_reply(mc_call_t *c, const mc_http_resp_t *resp,
    mc_http_req_t *next)
{
    int      rc;
    json_t  *j;

    if (resp->status == 404) {
        mc_result_lost(c, "video");
        return MC_CALL_DONE;
    }

    j = mc_reply_json(c, resp);

    if (resp->status >= 400) {
        rc = mc_google_error(c, resp, j);
        json_decref(j);
        return rc;
    }

    if (j == NULL) {
        return MC_CALL_DONE;
    }

    rc = mc_google_operation(c, j, 0);
    json_decref(j);

    return rc;
}


/*
 * As the SDK's downloader: the file name after "files/" (letters and
 * digits), fetched from the provider's own base URL with the key.  A URI
 * of another shape is fetched as given, without the key.
 */

static int
mc_google_content_request(mc_call_t *c, mc_http_req_t *req)
{
    size_t       n;
    const char  *uri, *name;

    uri = c->task->provider_video_url;

    if (uri == NULL) {
        return MC_ERROR;
    }

    name = strstr(uri, "files/");

    if (name == NULL) {
        mc_http_req_init(req, "GET", uri);
        return MC_CALL_SEND;
    }

    name += 6;

    for (n = 0; (name[n] >= 'a' && name[n] <= 'z')
                || (name[n] >= '0' && name[n] <= '9'); n++)
    {
        /* void */
    }

    if (n == 0) {
        mc_http_req_init(req, "GET", uri);
        return MC_CALL_SEND;
    }

    mc_http_req_init(req, "GET",
                     mc_provider_url(c, "/files/%.*s:download?alt=media",
                                     (int) n, name));

    if (req->url == NULL || mc_google_headers(c, req) != MC_OK) {
        return MC_ERROR;
    }

    return MC_CALL_SEND;
}


static const mc_adapter_t  mc_adapter_google = {
    "google",
    MC_FEAT_IMAGE_DATA|MC_FEAT_NEGATIVE,
    mc_google_params,
    mc_google_init,
    mc_google_create_request,
    mc_google_create_reply,
    mc_google_status_request,
    mc_google_status_reply,
    NULL,
    NULL,
    mc_google_content_request
};

MC_ADAPTER_REGISTER(mc_adapter_google);
