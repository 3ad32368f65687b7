
/*
 * kling: Kling AI's video API, both generations, on one adapter.
 *
 * api=jwt (default), the API with model_name in the body:
 *
 *   POST {url}/v1/videos/text2video            create, text only
 *   POST {url}/v1/videos/image2video           create, with an image
 *   GET  {url}/v1/videos/{endpoint}/{task_id}  status
 *
 *   Authorization: Bearer <JWT>, an HS256 token with header
 *   {"alg":"HS256","typ":"JWT"} and claims {"iss": access key,
 *   "exp": now + 1800, "nbf": now - 5}, signed with the secret key, as
 *   Kling's authentication page and its Python and Java samples make it.
 *   key_file/key_env hold the access key, secret_file/secret_env the
 *   secret key.  Each worker keeps its token in provider->state and signs
 *   a new one five minutes before the old one expires.
 *
 *   Body: model_name, prompt, negative_prompt, mode (std 720p, pro
 *   1080p; mode= or from the resolution), aspect_ratio (text2video only;
 *   16:9, 9:16, 1:1), duration as a string, image (image2video: a URL or
 *   raw base64 without the data: prefix).  Task status submitted,
 *   processing, succeed, failed; task_status_msg; the video at
 *   task_result.videos[0].url.  Which endpoint made the task is kept in
 *   provider_data: its status lives under the same path.
 *
 * api=key, the API with the model in the path (Kling's 2026 pages for
 * kling-2.6 and kling-3.0):
 *
 *   POST {url}/text-to-video/{model}   {prompt, settings{resolution,
 *                                      aspect_ratio, duration (int)}}
 *   POST {url}/image-to-video/{model}  {contents[{type:"prompt", text},
 *                                      {type:"first_frame", url}],
 *                                      settings{resolution, duration}}
 *   GET  {url}/tasks?task_ids={id}     data[]: status submitted,
 *                                      processing, succeeded, failed;
 *                                      message; outputs[type=video].url
 *
 *   Authorization: Bearer <API key> (key_file/key_env).  This API has no
 *   negative_prompt (the prompt carries negative wording): such a request
 *   is refused with a 400.
 *
 * url= is the host, e.g. https://api-singapore.klingai.com; the paths
 * above carry their own /v1 or none.
 *
 * Every answer is an envelope {code, message, request_id, data}; code 0
 * is success, anything else a failure even with HTTP 200.  The codes, as
 * Kling's error-code page lists them: 1000-1004 authentication, 1103 no
 * access to the model, 1100-1102 account (arrears, resource pack used
 * up), 1200-1203 invalid parameters, 1300/1301 platform or content
 * policy, 1302 rate, 1303 concurrency, 1304 IP whitelist, 5000-5002
 * server errors.  There is no progress and no cancel.
 *
 * Durations: "5" and "10" for the older models, 3 to 15 for Kling 3
 * (kling-v3*, kling-3.0*).
 *
 * Params: api=jwt|key, mode=std|pro (api=jwt only).
 */

#include "../mc_adapter.h"
#include "../mc_crypto.h"

#include <stdio.h>
#include <stdlib.h>


#define MC_KLING_TOKEN_TTL    1800      /* Kling's own samples: 30 min */
#define MC_KLING_TOKEN_RENEW  300       /* sign anew 5 min before expiry */
#define MC_KLING_TOKEN_NBF    5
#define MC_KLING_TOKEN_MAX    1024
#define MC_KLING_KEY_MAX      256


typedef enum {
    MC_KLING_JWT = 0,
    MC_KLING_KEY
} mc_kling_api_e;


typedef struct {
    mc_kling_api_e    api;
    const char       *mode;         /* NULL: from the resolution */
} mc_kling_conf_t;


/* a worker's token; freed with free() when the catalog goes */
typedef struct {
    int64_t           iat;
    int64_t           exp;
    char              token[MC_KLING_TOKEN_MAX];
} mc_kling_state_t;


static const char *const  mc_kling_params[] = {
    "api", "mode", NULL
};


static const char  *mc_kling_aspects[] = { "16:9", "9:16", "1:1" };


static int
mc_kling_init(mc_provider_t *p, mc_pool_t *pool, char *err, size_t errlen)
{
    const char       *v;
    mc_kling_conf_t  *conf;

    conf = mc_pcalloc(pool, sizeof(mc_kling_conf_t));
    if (conf == NULL) {
        snprintf(err, errlen, "out of memory");
        return MC_ERROR;
    }

    v = mc_provider_param(p, "api");

    if (v == NULL || strcmp(v, "jwt") == 0) {
        conf->api = MC_KLING_JWT;

    } else if (strcmp(v, "key") == 0) {
        conf->api = MC_KLING_KEY;

    } else {
        snprintf(err, errlen, "invalid api \"%s\": jwt or key", v);
        return MC_ERROR;
    }

    v = mc_provider_param(p, "mode");

    if (v) {
        if (conf->api != MC_KLING_JWT) {
            snprintf(err, errlen, "mode= is for api=jwt; api=key takes the "
                     "resolution from the request");
            return MC_ERROR;
        }

        if (strcmp(v, "std") != 0 && strcmp(v, "pro") != 0) {
            snprintf(err, errlen, "invalid mode \"%s\": std or pro", v);
            return MC_ERROR;
        }

        conf->mode = v;
    }

    if (p->key == NULL) {
        snprintf(err, errlen, "provider \"%s\" needs key_file= or key_env= "
                 "with the %s", p->name,
                 conf->api == MC_KLING_JWT ? "access key" : "API key");
        return MC_ERROR;
    }

    if (conf->api == MC_KLING_JWT) {
        if (p->secret == NULL) {
            snprintf(err, errlen, "provider \"%s\" needs secret_file= or "
                     "secret_env= with the secret key that signs its "
                     "tokens", p->name);
            return MC_ERROR;
        }

        if (strlen(p->key) > MC_KLING_KEY_MAX) {
            snprintf(err, errlen, "provider \"%s\": the access key is "
                     "longer than %d characters", p->name, MC_KLING_KEY_MAX);
            return MC_ERROR;
        }

    } else if (p->secret) {
        snprintf(err, errlen, "provider \"%s\": api=key takes no secret; "
                 "the API key goes in key_file= or key_env=", p->name);
        return MC_ERROR;
    }

    /* the API-key API has no negative prompt: the gateway refuses one
     * for this provider before charging */
    if (conf->api == MC_KLING_KEY) {
        p->features &= ~MC_FEAT_NEGATIVE;
    }

    p->conf = conf;
    return MC_OK;
}


/* header.claims.signature, all base64url without padding */

static int
mc_kling_sign(mc_provider_t *p, int64_t now, mc_kling_state_t *st)
{
    char            *claims;
    size_t           n, clen;
    json_t          *j;
    unsigned char    mac[MC_SHA256_LEN];

    static const char  header[] = "{\"alg\":\"HS256\",\"typ\":\"JWT\"}";

    j = json_pack("{s:s, s:I, s:I}", "iss", p->key,
                  "exp", (json_int_t) (now + MC_KLING_TOKEN_TTL),
                  "nbf", (json_int_t) (now - MC_KLING_TOKEN_NBF));
    if (j == NULL) {
        return MC_ERROR;
    }

    claims = json_dumps(j, JSON_COMPACT);
    json_decref(j);

    if (claims == NULL) {
        return MC_ERROR;
    }

    clen = strlen(claims);

    if (mc_base64_encoded_len(sizeof(header) - 1) + mc_base64_encoded_len(clen)
        + mc_base64_encoded_len(MC_SHA256_LEN) + 3 > sizeof(st->token))
    {
        free(claims);
        return MC_ERROR;
    }

    mc_base64_encode(st->token, (const unsigned char *) header,
                     sizeof(header) - 1, 1);
    n = strlen(st->token);
    st->token[n++] = '.';

    mc_base64_encode(st->token + n, (const unsigned char *) claims, clen, 1);
    n += strlen(st->token + n);
    free(claims);

    mc_hmac_sha256(p->secret, strlen(p->secret), st->token, n, mac);

    st->token[n++] = '.';
    mc_base64_encode(st->token + n, mac, MC_SHA256_LEN, 1);

    st->iat = now;
    st->exp = now + MC_KLING_TOKEN_TTL;

    return MC_OK;
}


/*
 * The worker's token, signed anew when it has less than five minutes
 * left or was made at a time later than now (the clock went back).
 */

static const char *
mc_kling_token(mc_call_t *c)
{
    int64_t            now;
    mc_provider_t     *p;
    mc_kling_state_t  *st;

    p = c->provider;
    now = c->now / 1000;
    st = p->state;

    if (st == NULL) {
        st = calloc(1, sizeof(mc_kling_state_t));
        if (st == NULL) {
            return NULL;
        }

        p->state = st;
    }

    if (st->token[0] == '\0' || now < st->iat
        || now >= st->exp - MC_KLING_TOKEN_RENEW)
    {
        if (mc_kling_sign(p, now, st) != MC_OK) {
            st->token[0] = '\0';
            return NULL;
        }
    }

    return st->token;
}


static int
mc_kling_headers(mc_call_t *c, mc_http_req_t *req)
{
    const char       *token;
    mc_kling_conf_t  *conf;

    conf = c->provider->conf;

    token = conf->api == MC_KLING_KEY ? c->provider->key : mc_kling_token(c);
    if (token == NULL) {
        return MC_ERROR;
    }

    /* mc_bearer() copies: a later renewal cannot change a built call */
    return mc_http_req_header(req, "Authorization", mc_bearer(c, token));
}


/* ids and model names go into URLs as they are */

static int
mc_kling_id_ok(const char *s)
{
    const char  *p;

    if (s == NULL || s[0] == '\0' || strlen(s) > 128) {
        return 0;
    }

    for (p = s; *p; p++) {
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z')
              || (*p >= '0' && *p <= '9') || *p == '-' || *p == '_'
              || *p == '.'))
        {
            return 0;
        }
    }

    return 1;
}


static int
mc_kling_seconds(mc_call_t *c)
{
    int          v3;
    const char  *m;

    m = c->model_id;
    v3 = strstr(m, "v3") != NULL || strstr(m, "3.0") != NULL;

    if (v3 ? (c->req->seconds >= 3 && c->req->seconds <= 15)
           : (c->req->seconds == 5 || c->req->seconds == 10))
    {
        return MC_OK;
    }

    mc_result_fail(c, MC_FAIL_INPUT, 400, "seconds %d is not available for "
                   "%s; allowed: %s", c->req->seconds, m,
                   v3 ? "3 to 15" : "5, 10");

    return MC_ERROR;
}


/* the image as Kling takes it: a URL, or bare base64 */

static const char *
mc_kling_image(mc_call_t *c)
{
    size_t       mime_len;
    const char  *mime, *b64;

    if (mc_data_url_split(c->req->image_url, &mime, &mime_len, &b64)
        != MC_OK)
    {
        return c->req->image_url;
    }

    return b64;
}


static int
mc_kling_create_jwt(mc_call_t *c, mc_http_req_t *req)
{
    int                    i2v;
    json_t                *body;
    const char            *mode, *endpoint;
    mc_kling_conf_t       *conf;
    const mc_video_req_t  *r;

    r = c->req;
    conf = c->provider->conf;
    i2v = r->image_url != NULL;
    endpoint = i2v ? "image2video" : "text2video";

    mode = conf->mode;

    if (mode == NULL) {
        if (r->resolution == 720) {
            mode = "std";

        } else if (r->resolution == 1080) {
            mode = "pro";

        } else {
            mc_result_fail(c, MC_FAIL_INPUT, 400, "resolution %dp is not "
                           "available for %s; allowed: 720p, 1080p",
                           r->resolution, c->model_id);
            return MC_CALL_DONE;
        }
    }

    body = json_object();
    if (body == NULL) {
        return MC_ERROR;
    }

    json_object_set_new(body, "model_name", json_string(c->model_id));

    if (i2v) {
        json_object_set_new(body, "image", json_string(mc_kling_image(c)));
    }

    json_object_set_new(body, "prompt", json_string(r->prompt));

    if (r->negative_prompt && r->negative_prompt[0]) {
        json_object_set_new(body, "negative_prompt",
                            json_string(r->negative_prompt));
    }

    json_object_set_new(body, "mode", json_string(mode));

    if (!i2v) {
        /* image2video takes the shape of the image */
        json_object_set_new(body, "aspect_ratio",
                            json_string(mc_nearest_aspect(r->width,
                                                          r->height,
                                                          mc_kling_aspects,
                                                          3)));
    }

    json_object_set_new(body, "duration", json_sprintf("%d", r->seconds));

    c->result.provider_data = mc_psprintf(c->pool, "{\"endpoint\":\"%s\"}",
                                          endpoint);

    mc_http_req_init(req, "POST", mc_provider_url(c, "/v1/videos/%s",
                                                  endpoint));

    if (req->url == NULL || c->result.provider_data == NULL
        || mc_kling_headers(c, req) != MC_OK
        || mc_http_req_json(c, req, body) != MC_OK)
    {
        return MC_ERROR;
    }

    return MC_CALL_SEND;
}


static int
mc_kling_create_key(mc_call_t *c, mc_http_req_t *req)
{
    json_t                *body, *settings;
    const char            *res;
    const mc_video_req_t  *r;

    r = c->req;

    if (r->negative_prompt && r->negative_prompt[0]) {
        mc_result_fail(c, MC_FAIL_INPUT, 400, "negative_prompt is not "
                       "available for %s; describe what to avoid in the "
                       "prompt", c->model_id);
        return MC_CALL_DONE;
    }

    if (r->resolution != 720 && r->resolution != 1080
        && r->resolution != 2160)
    {
        mc_result_fail(c, MC_FAIL_INPUT, 400, "resolution %dp is not "
                       "available for %s; allowed: 720p, 1080p, 4k",
                       r->resolution, c->model_id);
        return MC_CALL_DONE;
    }

    res = mc_resolution_name(r->resolution);

    body = json_object();
    settings = json_object();

    if (body == NULL || settings == NULL) {
        json_decref(body);
        json_decref(settings);
        return MC_ERROR;
    }

    json_object_set_new(settings, "resolution", json_string(res));

    if (r->image_url) {
        json_object_set_new(body, "contents",
                            json_pack("[{s:s, s:s}, {s:s, s:s}]",
                                      "type", "prompt", "text", r->prompt,
                                      "type", "first_frame",
                                      "url", mc_kling_image(c)));

    } else {
        json_object_set_new(body, "prompt", json_string(r->prompt));
        json_object_set_new(settings, "aspect_ratio",
                            json_string(mc_nearest_aspect(r->width,
                                                          r->height,
                                                          mc_kling_aspects,
                                                          3)));
    }

    json_object_set_new(settings, "duration", json_integer(r->seconds));
    json_object_set_new(body, "settings", settings);

    c->result.provider_data = "{\"api\":\"key\"}";

    mc_http_req_init(req, "POST",
                     mc_provider_url(c, "/%s/%s",
                                     r->image_url ? "image-to-video"
                                                  : "text-to-video",
                                     c->model_id));

    if (req->url == NULL
        || mc_kling_headers(c, req) != MC_OK
        || mc_http_req_json(c, req, body) != MC_OK)
    {
        return MC_ERROR;
    }

    return MC_CALL_SEND;
}


static int
mc_kling_create_request(mc_call_t *c, mc_http_req_t *req)
{
    mc_kling_conf_t  *conf;

    conf = c->provider->conf;

    if (!mc_kling_id_ok(c->model_id)) {
        mc_result_fail(c, MC_FAIL_PROTOCOL, 0, "model id \"%.64s\" cannot "
                       "go into a Kling URL", c->model_id);
        return MC_CALL_DONE;
    }

    if (mc_kling_seconds(c) != MC_OK) {
        return MC_CALL_DONE;
    }

    return conf->api == MC_KLING_KEY ? mc_kling_create_key(c, req)
                                     : mc_kling_create_jwt(c, req);
}


/*
 * A failure code in Kling's envelope, whatever the HTTP status: the
 * class follows Kling's error-code table.
 */

static void
mc_kling_code_fail(mc_call_t *c, int status, json_int_t code,
    const char *message)
{
    const char  *msg;

    msg = mc_sanitize_message(c, message);
    if (msg == NULL || msg[0] == '\0') {
        msg = "the request was rejected";
    }

    if ((code >= 1000 && code <= 1004) || code == 1103) {
        mc_result_fail(c, MC_FAIL_AUTH, status, "the provider rejected the "
                       "gateway's credentials (code %d)", (int) code);

    } else if ((code >= 1100 && code <= 1102) || code == 1304) {
        /* the account, not the request: another target may serve */
        mc_result_fail(c, MC_FAIL_RETRY, 429, "account trouble at the "
                       "provider (code %d): %s", (int) code, msg);

    } else if ((code >= 1200 && code <= 1203) || code == 1300
               || code == 1301)
    {
        mc_result_fail(c, MC_FAIL_INPUT, status >= 400 ? status : 400, "%s",
                       msg);

    } else if (code == 1302 || code == 1303) {
        mc_result_fail(c, MC_FAIL_RETRY, 429, "rate or concurrency limit "
                       "(code %d)", (int) code);

    } else if (code >= 5000 && code <= 5002) {
        mc_result_fail(c, MC_FAIL_RETRY, status >= 500 ? status : 503,
                       "provider error (code %d)", (int) code);

    } else {
        mc_result_fail(c, MC_FAIL_PROTOCOL, status, "unknown code %d: %s",
                       (int) code, msg);
    }
}


/* the envelope; returns data, or NULL with the result set */

static json_t *
mc_kling_envelope(mc_call_t *c, const mc_http_resp_t *resp, json_t *j)
{
    json_t  *code, *data;

    code = json_object_get(j, "code");

    if (json_is_integer(code) && json_integer_value(code) != 0) {
        mc_kling_code_fail(c, resp->status, json_integer_value(code),
                           mc_json_str(j, "message"));
        return NULL;
    }

    if (resp->status >= 400) {
        mc_kling_code_fail(c, resp->status,
                           resp->status == 404 ? 1203 : 1200,
                           mc_json_str(j, "message"));
        return NULL;
    }

    data = json_object_get(j, "data");

    if (!json_is_integer(code) || data == NULL) {
        mc_result_fail(c, MC_FAIL_PROTOCOL, resp->status, "an answer "
                       "without code or data");
        return NULL;
    }

    return data;
}


static int
mc_kling_reply_json(mc_call_t *c, const mc_http_resp_t *resp, json_t **j)
{
    *j = mc_reply_json(c, resp);

    if (*j == NULL && resp->status >= 400) {
        /* a 4xx without Kling's envelope still says the input is bad */
        mc_result_fail(c, MC_FAIL_INPUT, resp->status, "the request was "
                       "rejected (HTTP %d)", resp->status);
    }

    return *j ? MC_OK : MC_ERROR;
}


/* the legacy API's task_status, and the new API's status */

static int
mc_kling_state(mc_call_t *c, const char *status, const char *message,
    const char *url)
{
    if (status == NULL) {
        mc_result_fail(c, MC_FAIL_PROTOCOL, 0, "a task without a status");

    } else if (strcmp(status, "submitted") == 0) {
        mc_result_state(c, MC_TASK_QUEUED, -1);

    } else if (strcmp(status, "processing") == 0) {
        mc_result_state(c, MC_TASK_IN_PROGRESS, -1);

    } else if (strcmp(status, "succeed") == 0
               || strcmp(status, "succeeded") == 0)
    {
        if (url == NULL || url[0] == '\0') {
            mc_result_fail(c, MC_FAIL_PROTOCOL, 0, "a finished task without "
                           "a video URL");
            return MC_CALL_DONE;
        }

        mc_result_state(c, MC_TASK_COMPLETED, 100);
        c->result.video_url = mc_result_str(c, url);

    } else if (strcmp(status, "failed") == 0) {
        mc_result_task_failed(c, "generation_failed",
                              (message && message[0]) ? message : NULL);

    } else {
        mc_result_fail(c, MC_FAIL_PROTOCOL, 0, "unknown status \"%.32s\"",
                       status);
    }

    return MC_CALL_DONE;
}


static int
mc_kling_create_reply(mc_call_t *c, const mc_http_resp_t *resp,
    mc_http_req_t *next)
{
    json_t           *j, *data, *id;
    const char       *status;
    mc_kling_conf_t  *conf;

    conf = c->provider->conf;

    if (mc_kling_reply_json(c, resp, &j) != MC_OK) {
        return MC_CALL_DONE;
    }

    data = mc_kling_envelope(c, resp, j);

    if (data) {
        if (conf->api == MC_KLING_KEY) {
            id = json_object_get(data, "id");
            status = mc_json_str(data, "status");

        } else {
            id = json_object_get(data, "task_id");
            status = mc_json_str(data, "task_status");
        }

        if (json_is_string(id) && mc_kling_id_ok(json_string_value(id))) {
            c->result.provider_task_id = mc_result_str(c,
                                                     json_string_value(id));
            mc_kling_state(c, status, NULL, NULL);

        } else {
            mc_result_fail(c, MC_FAIL_PROTOCOL, resp->status, "an answer "
                           "without a usable task id");
        }
    }

    json_decref(j);

    return MC_CALL_DONE;
}


static int
mc_kling_status_request(mc_call_t *c, mc_http_req_t *req)
{
    int               key;
    json_t           *pd;
    const char       *id, *endpoint, *api;
    mc_kling_conf_t  *conf;

    conf = c->provider->conf;
    id = c->task->provider_task_id;

    if (!mc_kling_id_ok(id)) {
        mc_result_fail(c, MC_FAIL_PROTOCOL, 0, "the task has no task id");
        return MC_CALL_DONE;
    }

    pd = c->task->provider_data
         ? json_loads(c->task->provider_data, 0, NULL) : NULL;

    api = mc_json_str(pd, "api");
    endpoint = mc_json_str(pd, "endpoint");

    /* the task says which API made it: a JWT-API task has an endpoint */
    key = api ? strcmp(api, "key") == 0
              : endpoint ? 0 : conf->api == MC_KLING_KEY;

    if (key != (conf->api == MC_KLING_KEY)) {
        json_decref(pd);
        mc_result_fail(c, MC_FAIL_PROTOCOL, 0, "the task was made through "
                       "the other Kling API (api= changed)");
        return MC_CALL_DONE;
    }

    if (key) {
        mc_http_req_init(req, "GET",
                         mc_provider_url(c, "/tasks?task_ids=%s", id));

    } else {
        if (endpoint == NULL || strcmp(endpoint, "image2video") != 0) {
            endpoint = "text2video";
        }

        mc_http_req_init(req, "GET",
                         mc_provider_url(c, "/v1/videos/%s/%s", endpoint, id));
    }

    json_decref(pd);

    if (req->url == NULL || mc_kling_headers(c, req) != MC_OK) {
        return MC_ERROR;
    }

    return MC_CALL_SEND;
}


static void
mc_kling_status_key(mc_call_t *c, json_t *data)
{
    size_t       i, k;
    json_t      *item, *task, *out;
    const char  *id, *type, *url;

    task = NULL;

    json_array_foreach(data, i, item) {
        id = mc_json_str(item, "id");
        if (id && strcmp(id, c->task->provider_task_id) == 0) {
            task = item;
            break;
        }
    }

    if (task == NULL) {
        mc_result_fail(c, MC_FAIL_PROTOCOL, 0, "the task is not in the "
                       "answer");
        return;
    }

    url = NULL;

    json_array_foreach(json_object_get(task, "outputs"), k, out) {
        type = mc_json_str(out, "type");
        if (type && strcmp(type, "video") == 0) {
            url = mc_json_str(out, "url");
            break;
        }
    }

    mc_kling_state(c, mc_json_str(task, "status"),
                   mc_json_str(task, "message"), url);
}


static int
mc_kling_status_reply(mc_call_t *c, const mc_http_resp_t *resp,
    mc_http_req_t *next)
{
    json_t           *j, *data;
    mc_kling_conf_t  *conf;

    conf = c->provider->conf;

    if (resp->status == 404) {
        mc_result_lost(c, "video");
        return MC_CALL_DONE;
    }

    if (mc_kling_reply_json(c, resp, &j) != MC_OK) {
        return MC_CALL_DONE;
    }

    data = mc_kling_envelope(c, resp, j);

    if (data) {
        if (conf->api == MC_KLING_KEY) {
            mc_kling_status_key(c, data);

        } else {
            mc_kling_state(c, mc_json_str(data, "task_status"),
                           mc_json_str(data, "task_status_msg"),
                           mc_json_path_str(data,
                                            "task_result.videos.0.url"));
        }
    }

    json_decref(j);

    return MC_CALL_DONE;
}


static const mc_adapter_t  mc_adapter_kling = {
    "kling",
    MC_FEAT_IMAGE_URL|MC_FEAT_IMAGE_DATA|MC_FEAT_NEGATIVE,
    mc_kling_params,
    mc_kling_init,
    mc_kling_create_request,
    mc_kling_create_reply,
    mc_kling_status_request,
    mc_kling_status_reply,
    NULL,
    NULL,
    NULL
};

MC_ADAPTER_REGISTER(mc_adapter_kling);
