
/*
 * The adapter registry and what every adapter shares: request building,
 * reply classification, result setters.
 */

#include "mc_adapter.h"

#include <stdio.h>
#include <ctype.h>
#include <strings.h>


/*
 * MC_ADAPTER_REGISTER() puts a pointer into the "mc_adapters" section;
 * the linker provides the bounds of that section in the module and in
 * every other binary the core is linked into
 */
extern const mc_adapter_t *const  __start_mc_adapters[];
extern const mc_adapter_t *const  __stop_mc_adapters[];


const mc_adapter_t *
mc_adapter_find(const char *name)
{
    const mc_adapter_t *const  *a;

    for (a = __start_mc_adapters; a < __stop_mc_adapters; a++) {
        if (strcmp((*a)->name, name) == 0) {
            return *a;
        }
    }

    return NULL;
}


const mc_adapter_t *
mc_adapter_next(const mc_adapter_t *prev)
{
    const mc_adapter_t *const  *a;

    for (a = __start_mc_adapters; a < __stop_mc_adapters; a++) {
        if (prev == NULL) {
            return *a;
        }

        if (*a == prev) {
            prev = NULL;
        }
    }

    return NULL;
}


mc_fail_e
mc_adapter_classify(int status)
{
    if (status >= 200 && status < 300) {
        return MC_FAIL_NONE;
    }

    switch (status) {
    case 400:
    case 404:
    case 409:
    case 413:
    case 415:
    case 422:
        return MC_FAIL_INPUT;

    case 401:
    case 403:
        return MC_FAIL_AUTH;

    case 408:
    case 425:
    case 429:
        return MC_FAIL_RETRY;
    }

    if (status >= 500) {
        return MC_FAIL_RETRY;
    }

    return MC_FAIL_PROTOCOL;
}


int
mc_adapter_common_reply(mc_call_t *c, const mc_http_resp_t *resp)
{
    mc_fail_e  fail;

    c->step++;

    if (resp->transport == MC_TRANSPORT_TIMEOUT) {
        mc_result_fail(c, MC_FAIL_RETRY, 0, "timed out");
        c->result.timed_out = 1;
        return MC_CALL_DONE;
    }

    if (resp->transport != MC_TRANSPORT_OK) {
        mc_result_fail(c, MC_FAIL_RETRY, 0, "could not connect");
        return MC_CALL_DONE;
    }

    c->result.http_status = resp->status;

    fail = mc_adapter_classify(resp->status);

    /* 429 and 5xx carry nothing an adapter needs; 4xx bodies carry the
     * provider's explanation, which the adapter extracts */
    if (fail == MC_FAIL_RETRY) {
        mc_result_fail(c, MC_FAIL_RETRY, resp->status, "HTTP %d",
                       resp->status);
        return MC_CALL_DONE;
    }

    if (fail == MC_FAIL_AUTH) {
        /* the provider's text may echo the key: say nothing of it */
        mc_result_fail(c, MC_FAIL_AUTH, resp->status,
                       "the provider rejected the gateway's credentials "
                       "(HTTP %d)", resp->status);
        return MC_CALL_DONE;
    }

    if (fail == MC_FAIL_PROTOCOL) {
        mc_result_fail(c, MC_FAIL_PROTOCOL, resp->status,
                       "unexpected HTTP %d", resp->status);
        return MC_CALL_DONE;
    }

    return MC_DECLINED;
}


void
mc_http_req_init(mc_http_req_t *req, const char *method, const char *url)
{
    memset(req, 0, sizeof(mc_http_req_t));
    req->method = method;
    req->url = url;
}


int
mc_http_req_header(mc_http_req_t *req, const char *name, const char *value)
{
    if (req->nheaders == MC_HTTP_MAX_HEADERS || value == NULL) {
        return MC_ERROR;
    }

    req->headers[req->nheaders].name = name;
    req->headers[req->nheaders].value = value;
    req->nheaders++;

    return MC_OK;
}


int
mc_http_req_json(mc_call_t *c, mc_http_req_t *req, json_t *body)
{
    char  *s;

    if (body == NULL) {
        return MC_ERROR;
    }

    s = json_dumps(body, JSON_COMPACT);
    json_decref(body);

    if (s == NULL) {
        return MC_ERROR;
    }

    req->body_len = strlen(s);
    req->body = mc_pstrndup(c->pool, s, req->body_len);
    free(s);

    if (req->body == NULL) {
        return MC_ERROR;
    }

    return mc_http_req_header(req, "Content-Type", "application/json");
}


char *
mc_provider_url(mc_call_t *c, const char *fmt, ...)
{
    char     *path, *url;
    va_list   args;

    va_start(args, fmt);
    path = mc_pvsprintf(c->pool, fmt, args);
    va_end(args);

    if (path == NULL) {
        return NULL;
    }

    url = mc_psprintf(c->pool, "%s%s", c->provider->base_url, path);
    return url;
}


char *
mc_bearer(mc_call_t *c, const char *token)
{
    return mc_psprintf(c->pool, "Bearer %s", token ? token : "");
}


json_t *
mc_reply_json(mc_call_t *c, const mc_http_resp_t *resp)
{
    json_t  *j;

    j = resp->body_len ? json_loadb(resp->body, resp->body_len, 0, NULL)
                       : NULL;

    if (j == NULL) {
        mc_result_fail(c, MC_FAIL_PROTOCOL, resp->status,
                       "HTTP %d with a body that is not JSON", resp->status);
    }

    return j;
}


void
mc_result_fail(mc_call_t *c, mc_fail_e fail, int http_status,
    const char *fmt, ...)
{
    va_list  args;

    c->result.fail = fail;

    if (http_status) {
        c->result.http_status = http_status;
    }

    va_start(args, fmt);
    c->result.fail_reason = mc_pvsprintf(c->pool, fmt, args);
    va_end(args);
}


void
mc_result_state(mc_call_t *c, mc_task_status_e status, int progress)
{
    c->result.has_state = 1;
    c->result.status = status;
    c->result.progress = progress;
}


void
mc_result_task_failed(mc_call_t *c, const char *code, const char *message)
{
    mc_result_state(c, MC_TASK_FAILED, -1);
    c->result.error_code = mc_pstrdup(c->pool, code ? code
                                                    : "generation_failed");
    c->result.error_message = mc_sanitize_message(c, message
                                  ? message
                                  : "The provider could not make the video.");
}


void
mc_result_completed(mc_call_t *c, const char *video_url)
{
    if (video_url == NULL || video_url[0] == '\0') {
        mc_result_task_failed(c, "no_video", "The provider finished without "
                              "a video.");
        return;
    }

    mc_result_state(c, MC_TASK_COMPLETED, 100);
    c->result.video_url = mc_pstrdup(c->pool, video_url);
}


void
mc_result_canceled(mc_call_t *c)
{
    mc_result_task_failed(c, "canceled", "The provider canceled the task.");
}


void
mc_result_lost(mc_call_t *c, const char *what)
{
    mc_result_task_failed(c, "provider_lost",
                          mc_psprintf(c->pool, "The provider no longer knows "
                                      "this %s.", what));
}


void
mc_result_rejected(mc_call_t *c, int http_status, const char *message)
{
    const char  *msg;

    msg = mc_sanitize_message(c, message);

    mc_result_fail(c, MC_FAIL_INPUT, http_status, "%s",
                   msg ? msg : "the request was rejected");
}


const char *
mc_result_str(mc_call_t *c, const char *s)
{
    return s ? mc_pstrdup(c->pool, s) : NULL;
}


/*
 * Provider messages reach clients; keep them short and printable, and
 * drop anything that looks like a credential a provider might echo back.
 */

const char *
mc_sanitize_message(mc_call_t *c, const char *msg)
{
    char        *out;
    size_t       i, n, len;
    const char  *p;

    if (msg == NULL) {
        return NULL;
    }

    len = strlen(msg);
    if (len > 300) {
        len = 300;
    }

    out = mc_palloc(c->pool, len + 4);
    if (out == NULL) {
        return NULL;
    }

    for (i = 0, n = 0; i < len; i++) {
        out[n++] = (msg[i] >= 0x20 && msg[i] != 0x7f) ? msg[i] : ' ';
    }

    out[n] = '\0';

    if (strlen(msg) > len) {
        memcpy(out + n, "...", 4);
    }

    /* a secret the gateway holds must not come back out of it */
    if ((c->provider->key && c->provider->key[0]
         && strstr(msg, c->provider->key))
        || (c->provider->secret && c->provider->secret[0]
            && strstr(msg, c->provider->secret)))
    {
        return "The provider rejected the request.";
    }

    for (p = out; *p; p++) {
        if (strncasecmp(p, "bearer ", 7) == 0) {
            return "The provider rejected the request.";
        }
    }

    return out;
}


int
mc_data_url_split(const char *url, const char **mime, size_t *mime_len,
    const char **b64)
{
    const char  *p, *comma;

    if (strncasecmp(url, "data:", 5) != 0) {
        return MC_ERROR;
    }

    p = url + 5;
    comma = strchr(p, ',');

    if (comma == NULL || comma - p < 7
        || strncasecmp(comma - 7, ";base64", 7) != 0)
    {
        return MC_ERROR;
    }

    *mime = p;
    *mime_len = (size_t) (comma - 7 - p);
    *b64 = comma + 1;

    return MC_OK;
}


unsigned
mc_request_needs(const mc_video_req_t *req)
{
    unsigned  need;

    need = 0;

    if (req->image_url) {
        need |= strncasecmp(req->image_url, "data:", 5) == 0
                ? MC_FEAT_IMAGE_DATA : MC_FEAT_IMAGE_URL;
    }

    if (req->has_seed) {
        need |= MC_FEAT_SEED;
    }

    if (req->negative_prompt && req->negative_prompt[0]) {
        need |= MC_FEAT_NEGATIVE;
    }

    return need;
}


const char *
mc_features_text(mc_pool_t *pool, unsigned f)
{
    const char  *s;

    s = mc_psprintf(pool, "%s%s%s%s",
                    (f & MC_FEAT_IMAGE_URL) ? ", an image URL" : "",
                    (f & MC_FEAT_IMAGE_DATA) ? ", an uploaded image" : "",
                    (f & MC_FEAT_SEED) ? ", seed" : "",
                    (f & MC_FEAT_NEGATIVE) ? ", negative_prompt" : "");

    /* each part starts with ", " */
    return (s && s[0]) ? s + 2 : "this request";
}
