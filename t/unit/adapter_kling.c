
/*
 * The kling adapter's build and parse functions on Kling's documented
 * payloads, and its HS256 token: header, claims and signature checked
 * against a known answer (Python's hmac) and against an HMAC computed
 * here from SHA-256 alone, the per-worker cache and its renewal.
 */

#include "adapter_test.h"
#include "mc_crypto.h"


#define KL_URL  "https://api-singapore.klingai.com"
#define KL_AK   "AKtest123"
#define KL_SK   "SKsecret456"

/* python3: hmac.new(SK, header.claims, sha256) at now = 1764000000 */
#define KL_TOKEN_1764000000                                                  \
    "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9."                                  \
    "eyJpc3MiOiJBS3Rlc3QxMjMiLCJleHAiOjE3NjQwMDE4MDAsIm5iZiI6MTc2Mzk5OTk5NX0" \
    ".3JBPYSb0imRaCFoZlLEtS-Ylhn2oc_dZjOxiArUKLd0"

/* the same at now = 1764001500 */
#define KL_TOKEN_1764001500                                                  \
    "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9."                                  \
    "eyJpc3MiOiJBS3Rlc3QxMjMiLCJleHAiOjE3NjQwMDMzMDAsIm5iZiI6MTc2NDAwMTQ5NX0" \
    ".imZsexp01mp1-7rckXYKxabVuDeSKslKTkAYNOjyPoE"


/* base64url without padding to bytes, by way of the standard alphabet */

static size_t
b64url_decode(const char *s, size_t len, unsigned char *out)
{
    char    buf[1024];
    size_t  i, n;

    if (len + 4 > sizeof(buf)) {
        return 0;
    }

    for (i = 0; i < len; i++) {
        buf[i] = s[i] == '-' ? '+' : s[i] == '_' ? '/' : s[i];
    }

    while (i % 4) {
        buf[i++] = '=';
    }

    if (mc_base64_decode(out, &n, buf, i) != MC_OK) {
        return 0;
    }

    out[n] = '\0';
    return n;
}


/* RFC 2104 from SHA-256 alone, not from mc_hmac_sha256() */

static void
hmac_ref(const char *key, const char *msg, size_t len, unsigned char *out)
{
    size_t         i;
    mc_sha256_t    ctx;
    unsigned char  k[64], pad[64], inner[MC_SHA256_LEN];

    memset(k, 0, sizeof(k));
    memcpy(k, key, strlen(key));

    for (i = 0; i < 64; i++) {
        pad[i] = k[i] ^ 0x36;
    }

    mc_sha256_init(&ctx);
    mc_sha256_update(&ctx, pad, 64);
    mc_sha256_update(&ctx, msg, len);
    mc_sha256_final(&ctx, inner);

    for (i = 0; i < 64; i++) {
        pad[i] = k[i] ^ 0x5c;
    }

    mc_sha256_init(&ctx);
    mc_sha256_update(&ctx, pad, 64);
    mc_sha256_update(&ctx, inner, MC_SHA256_LEN);
    mc_sha256_final(&ctx, out);
}


static const char *
bearer(at_t *t)
{
    const char  *h;

    h = at_header(t, "Authorization");
    return (h && strncmp(h, "Bearer ", 7) == 0) ? h + 7 : "";
}


static void
check_token(const char *token, long long now)
{
    char           *dot1, *dot2, *copy;
    size_t          n;
    json_t         *j;
    unsigned char   buf[512], mac[MC_SHA256_LEN], got[MC_SHA256_LEN + 4];

    copy = strdup(token);
    dot1 = strchr(copy, '.');
    dot2 = dot1 ? strchr(dot1 + 1, '.') : NULL;

    ok(dot1 && dot2, "three parts");
    if (dot1 == NULL || dot2 == NULL) {
        free(copy);
        return;
    }

    n = b64url_decode(copy, (size_t) (dot1 - copy), buf);
    j = json_loadb((char *) buf, n, 0, NULL);
    is_str(mc_json_str(j, "alg"), "HS256", "header alg HS256");
    is_str(mc_json_str(j, "typ"), "JWT", "header typ JWT");
    is_int(json_object_size(j), 2, "nothing else in the header");
    json_decref(j);

    n = b64url_decode(dot1 + 1, (size_t) (dot2 - dot1 - 1), buf);
    j = json_loadb((char *) buf, n, 0, NULL);
    is_str(mc_json_str(j, "iss"), KL_AK, "iss is the access key");
    is_int(json_integer_value(json_object_get(j, "exp")), now + 1800,
           "exp is now + 1800");
    is_int(json_integer_value(json_object_get(j, "nbf")), now - 5,
           "nbf is now - 5");
    is_int(json_object_size(j), 3, "nothing else in the claims");
    json_decref(j);

    hmac_ref(KL_SK, copy, (size_t) (dot2 - copy), mac);
    n = b64url_decode(dot2 + 1, strlen(dot2 + 1), got);
    ok(n == MC_SHA256_LEN && memcmp(got, mac, MC_SHA256_LEN) == 0,
       "the signature is HMAC-SHA256(secret key, header.claims)");
    ok(strchr(token, '=') == NULL && strchr(token, '+') == NULL
       && strchr(token, '/') == NULL, "base64url without padding");

    free(copy);
}


int
main(void)
{
    int                  rc;
    json_t              *b;
    at_t                *t, *t2;
    const char          *tok1;
    const mc_adapter_t  *a;

    setenv("KL_AK", KL_AK, 1);
    setenv("KL_SK", KL_SK, 1);
    setenv("KL_API_KEY", "kling-api-key-xyz", 1);

    /* configuration */
    t2 = at_provider("k adapter=kling url=" KL_URL " key_env=KL_AK");
    ok(t2->provider == NULL, "the JWT API needs the secret key");
    at_free(t2);

    t2 = at_provider("k adapter=kling url=" KL_URL " key_env=KL_AK "
                     "secret_env=KL_SK api=v2");
    ok(t2->provider == NULL, "api= is jwt or key");
    at_free(t2);

    t2 = at_provider("k adapter=kling url=" KL_URL " key_env=KL_AK "
                     "secret_env=KL_SK mode=max");
    ok(t2->provider == NULL, "mode= is std or pro");
    at_free(t2);

    t2 = at_provider("k adapter=kling url=" KL_URL " key_env=KL_API_KEY "
                     "api=key mode=pro");
    ok(t2->provider == NULL, "mode= is not for api=key");
    at_free(t2);

    t2 = at_provider("k adapter=kling url=" KL_URL " key_env=KL_API_KEY "
                     "secret_env=KL_SK api=key");
    ok(t2->provider == NULL, "api=key takes no secret");
    at_free(t2);

    t = at_provider("kl adapter=kling url=" KL_URL " key_env=KL_AK "
                    "secret_env=KL_SK");
    ok(t->provider != NULL, "provider from directive arguments");
    a = t->provider->adapter;

    ok(a->features & MC_FEAT_IMAGE_URL, "takes an image URL");
    ok(a->features & MC_FEAT_IMAGE_DATA, "takes image data");
    ok(a->features & MC_FEAT_NEGATIVE, "takes a negative prompt");
    ok(!(a->features & MC_FEAT_SEED), "takes no seed");
    ok(a->cancel_request == NULL, "no cancel");
    ok(a->content_request == NULL, "the video URL needs no key");

    /* text to video, JWT API */
    at_request(t, "{\"prompt\":\"a cat surfing\",\"seconds\":5,"
                  "\"size\":\"1280x720\",\"negative_prompt\":\"blur\"}");
    at_call(t, "kling-v2-1-master");
    ok(t->provider->state == NULL, "no token before the first call");

    rc = a->create_request(&t->call, &t->http);
    is_int(rc, MC_CALL_SEND, "create is one call");
    is_str(t->http.method, "POST", "POST");
    is_str(t->http.url, KL_URL "/v1/videos/text2video", "text2video");

    tok1 = bearer(t);
    is_str(tok1, KL_TOKEN_1764000000, "the token Kling's sample would make");
    check_token(tok1, 1764000000);

    b = at_body(t);
    is_str(mc_json_str(b, "model_name"), "kling-v2-1-master", "model_name");
    is_str(mc_json_str(b, "prompt"), "a cat surfing", "prompt");
    is_str(mc_json_str(b, "negative_prompt"), "blur", "negative_prompt");
    is_str(mc_json_str(b, "mode"), "std", "720p is mode std");
    is_str(mc_json_str(b, "aspect_ratio"), "16:9", "aspect_ratio");
    ok(json_is_string(json_object_get(b, "duration")),
       "duration is a string");
    is_str(mc_json_str(b, "duration"), "5", "duration \"5\"");
    ok(json_object_get(b, "image") == NULL, "no image");
    is_int(json_object_size(b), 6, "nothing else");
    is_str(t->call.result.provider_data, "{\"endpoint\":\"text2video\"}",
           "the endpoint is kept with the task");

    /* the cache: the same token until five minutes before expiry */
    at_call(t, "kling-v2-1-master");
    t->call.now = (1764000000LL + 1499) * 1000;
    a->create_request(&t->call, &t->http);
    is_str(bearer(t), KL_TOKEN_1764000000, "reused 1499 s later");

    at_call(t, "kling-v2-1-master");
    t->call.now = (1764000000LL + 1500) * 1000;
    a->create_request(&t->call, &t->http);
    is_str(bearer(t), KL_TOKEN_1764001500,
           "renewed with 300 s left, signed at the new now");
    check_token(bearer(t), 1764001500);

    at_call(t, "kling-v2-1-master");
    t->call.now = 1764000100LL * 1000;
    a->create_request(&t->call, &t->http);
    check_token(bearer(t), 1764000100);
    ok(strcmp(bearer(t), KL_TOKEN_1764001500) != 0,
       "a clock that went back gets a token it can use");

    /* image to video: raw base64, 1080p is pro, no aspect_ratio */
    at_request(t, "{\"prompt\":\"wave\",\"seconds\":10,\"size\":\"1920x1080\","
                  "\"image_url\":\"data:image/jpeg;base64,/9j/4AAQ\"}");
    at_call(t, "kling-v2-1");
    rc = a->create_request(&t->call, &t->http);
    is_int(rc, MC_CALL_SEND, "image create is one call");
    is_str(t->http.url, KL_URL "/v1/videos/image2video", "image2video");
    b = at_body(t);
    is_str(mc_json_str(b, "image"), "/9j/4AAQ",
           "image as base64 without the data: prefix");
    is_str(mc_json_str(b, "mode"), "pro", "1080p is mode pro");
    is_str(mc_json_str(b, "duration"), "10", "duration \"10\"");
    ok(json_object_get(b, "aspect_ratio") == NULL,
       "image2video has no aspect_ratio");
    is_str(t->call.result.provider_data, "{\"endpoint\":\"image2video\"}",
           "image2video kept");

    at_request(t, "{\"prompt\":\"wave\",\"seconds\":5,"
                  "\"image_url\":\"https://x.example/a.png\"}");
    at_call(t, "kling-v2-1");
    a->create_request(&t->call, &t->http);
    b = at_body(t);
    is_str(mc_json_str(b, "image"), "https://x.example/a.png",
           "an image URL as is");

    /* durations */
    at_request(t, "{\"prompt\":\"x\",\"seconds\":8}");
    at_call(t, "kling-v2-1-master");
    rc = a->create_request(&t->call, &t->http);
    is_int(rc, MC_CALL_DONE, "8 s is not sent to kling-v2-1");
    is_int(t->call.result.fail, MC_FAIL_INPUT, "an input error");
    ok(strstr(t->call.result.fail_reason, "allowed: 5, 10") != NULL,
       "listing 5, 10: %s", t->call.result.fail_reason);

    at_request(t, "{\"prompt\":\"x\",\"seconds\":8,\"size\":\"720x1280\"}");
    at_call(t, "kling-v3");
    rc = a->create_request(&t->call, &t->http);
    is_int(rc, MC_CALL_SEND, "8 s is fine for kling-v3");
    b = at_body(t);
    is_str(mc_json_str(b, "duration"), "8", "duration \"8\"");
    is_str(mc_json_str(b, "aspect_ratio"), "9:16", "portrait");

    at_request(t, "{\"prompt\":\"x\",\"seconds\":5,\"size\":\"3840x2160\"}");
    at_call(t, "kling-v3");
    a->create_request(&t->call, &t->http);
    is_int(t->call.result.fail, MC_FAIL_INPUT, "4k has no mode");

    /* the create answer */
    at_request(t, "{\"prompt\":\"x\",\"seconds\":5}");
    at_call(t, "kling-v2-1-master");
    rc = at_reply(t, a->create_reply, 200,
                  "{\"code\":0,\"message\":\"SUCCEED\",\"request_id\":"
                  "\"5c4e-req\",\"data\":{\"task_id\":\"867211445617565743\","
                  "\"task_status\":\"submitted\",\"task_info\":{},"
                  "\"created_at\":1722769557708,"
                  "\"updated_at\":1722769557708}}");
    is_int(rc, MC_CALL_DONE, "create reply done");
    is_str(t->call.result.provider_task_id, "867211445617565743", "task_id");
    is_int(t->call.result.status, MC_TASK_QUEUED, "submitted is queued");

    at_call(t, "kling-v2-1-master");
    at_reply(t, a->create_reply, 200,
             "{\"code\":1303,\"message\":\"parallel task over resource pack "
             "limit\",\"request_id\":\"r\"}");
    is_int(t->call.result.fail, MC_FAIL_RETRY,
           "1303 at HTTP 200 is retryable");
    is_int(t->call.result.http_status, 429, "as a 429");

    at_call(t, "kling-v2-1-master");
    at_reply(t, a->create_reply, 200,
             "{\"code\":1102,\"message\":\"resource pack exhausted\"}");
    is_int(t->call.result.fail, MC_FAIL_RETRY,
           "1102 (resource pack) moves on");

    at_call(t, "kling-v2-1-master");
    at_reply(t, a->create_reply, 200,
             "{\"code\":1004,\"message\":\"Authorization has expired\"}");
    is_int(t->call.result.fail, MC_FAIL_AUTH, "1004 is auth");

    at_call(t, "kling-v2-1-master");
    at_reply(t, a->create_reply, 200,
             "{\"code\":1103,\"message\":\"no access\"}");
    is_int(t->call.result.fail, MC_FAIL_AUTH, "1103 is auth");

    at_call(t, "kling-v2-1-master");
    at_reply(t, a->create_reply, 400,
             "{\"code\":1201,\"message\":\"Invalid parameter: duration\","
             "\"request_id\":\"r\"}");
    is_int(t->call.result.fail, MC_FAIL_INPUT, "1201 is an input error");
    is_str(t->call.result.fail_reason, "Invalid parameter: duration",
           "with Kling's message");

    at_call(t, "kling-v2-1-master");
    at_reply(t, a->create_reply, 200,
             "{\"code\":1301,\"message\":\"risk control\"}");
    is_int(t->call.result.fail, MC_FAIL_INPUT,
           "1301 at HTTP 200 is an input error");
    is_int(t->call.result.http_status, 400, "as a 400");

    at_call(t, "kling-v2-1-master");
    at_reply(t, a->create_reply, 200,
             "{\"code\":5001,\"message\":\"maintenance\"}");
    is_int(t->call.result.fail, MC_FAIL_RETRY, "5001 is retryable");

    at_call(t, "kling-v2-1-master");
    at_reply(t, a->create_reply, 200, "{\"code\":0,\"data\":{}}");
    is_int(t->call.result.fail, MC_FAIL_PROTOCOL, "no task id");

    at_call(t, "kling-v2-1-master");
    at_reply(t, a->create_reply, 401,
             "{\"code\":1002,\"message\":\"Authorization is invalid\"}");
    is_int(t->call.result.fail, MC_FAIL_AUTH, "401 is auth");

    /* status */
    t->task.provider_task_id = "867211445617565743";
    t->task.provider_data = "{\"endpoint\":\"image2video\"}";

    at_call(t, "kling-v2-1");
    rc = a->status_request(&t->call, &t->http);
    is_int(rc, MC_CALL_SEND, "status is one call");
    is_str(t->http.url, KL_URL "/v1/videos/image2video/867211445617565743",
           "under the endpoint that made it");
    ok(bearer(t)[0] != '\0', "with a token");

    at_reply(t, a->status_reply, 200,
             "{\"code\":0,\"data\":{\"task_id\":\"867211445617565743\","
             "\"task_status\":\"processing\"}}");
    is_int(t->call.result.status, MC_TASK_IN_PROGRESS, "processing");

    at_call(t, "kling-v2-1");
    at_reply(t, a->status_reply, 200,
             "{\"code\":0,\"data\":{\"task_id\":\"867211445617565743\","
             "\"task_status\":\"succeed\",\"task_result\":{\"videos\":"
             "[{\"id\":\"v1\",\"url\":\"https://cdn.klingai.com/v1.mp4\","
             "\"duration\":\"5.1\"}]}}}");
    is_int(t->call.result.status, MC_TASK_COMPLETED, "succeed is completed");
    is_str(t->call.result.video_url, "https://cdn.klingai.com/v1.mp4",
           "videos[0].url");

    at_call(t, "kling-v2-1");
    at_reply(t, a->status_reply, 200,
             "{\"code\":0,\"data\":{\"task_id\":\"8\",\"task_status\":"
             "\"failed\",\"task_status_msg\":\"Failure to pass the risk "
             "control system\"}}");
    is_int(t->call.result.status, MC_TASK_FAILED, "failed");
    is_str(t->call.result.error_message,
           "Failure to pass the risk control system", "task_status_msg");

    at_call(t, "kling-v2-1");
    at_reply(t, a->status_reply, 200,
             "{\"code\":0,\"data\":{\"task_status\":\"succeeded\"}}");
    is_int(t->call.result.fail, MC_FAIL_PROTOCOL,
           "finished without a URL is an error");

    at_call(t, "kling-v2-1");
    at_reply(t, a->status_reply, 200,
             "{\"code\":0,\"data\":{\"task_status\":\"paused\"}}");
    is_int(t->call.result.fail, MC_FAIL_PROTOCOL, "an unknown word");

    t->task.provider_data = NULL;
    at_call(t, "kling-v2-1");
    a->status_request(&t->call, &t->http);
    is_str(t->http.url, KL_URL "/v1/videos/text2video/867211445617565743",
           "text2video without provider_data");

    at_free(t);

    /* the API-key API */
    t = at_provider("kk adapter=kling url=" KL_URL " key_env=KL_API_KEY "
                    "api=key");
    ok(t->provider != NULL, "api=key provider");
    a = t->provider->adapter;

    at_request(t, "{\"prompt\":\"a girl on a train\",\"seconds\":10,"
                  "\"size\":\"1080x1920\"}");
    at_call(t, "kling-2.6");
    rc = a->create_request(&t->call, &t->http);
    is_int(rc, MC_CALL_SEND, "create is one call");
    is_str(t->http.url, KL_URL "/text-to-video/kling-2.6", "model in the path");
    is_str(at_header(t, "Authorization"), "Bearer kling-api-key-xyz",
           "the API key as the bearer");
    ok(t->provider->state == NULL, "no token is made");
    b = at_body(t);
    is_str(mc_json_str(b, "prompt"), "a girl on a train", "prompt");
    ok(json_object_get(b, "model_name") == NULL, "no model_name");
    is_str(mc_json_path_str(b, "settings.resolution"), "1080p",
           "settings.resolution");
    is_str(mc_json_path_str(b, "settings.aspect_ratio"), "9:16",
           "settings.aspect_ratio");
    ok(json_is_integer(mc_json_path(b, "settings.duration")),
       "settings.duration is an integer");
    is_int(json_integer_value(mc_json_path(b, "settings.duration")), 10,
           "10");
    is_int(json_object_size(b), 2, "prompt and settings only");
    is_str(t->call.result.provider_data, "{\"api\":\"key\"}", "api kept");

    at_request(t, "{\"prompt\":\"go\",\"seconds\":12,"
                  "\"image_url\":\"data:image/png;base64,iVBORw0KGgo=\"}");
    at_call(t, "kling-3.0");
    rc = a->create_request(&t->call, &t->http);
    is_str(t->http.url, KL_URL "/image-to-video/kling-3.0", "image-to-video");
    b = at_body(t);
    is_str(mc_json_path_str(b, "contents.0.type"), "prompt", "prompt item");
    is_str(mc_json_path_str(b, "contents.0.text"), "go", "its text");
    is_str(mc_json_path_str(b, "contents.1.type"), "first_frame",
           "first_frame item");
    is_str(mc_json_path_str(b, "contents.1.url"), "iVBORw0KGgo=",
           "base64 in url");
    ok(mc_json_path(b, "settings.aspect_ratio") == NULL,
       "no aspect_ratio with an image");
    is_int(json_integer_value(mc_json_path(b, "settings.duration")), 12,
           "12 s on 3.0");

    at_request(t, "{\"prompt\":\"x\",\"seconds\":5,"
                  "\"negative_prompt\":\"blur\"}");
    at_call(t, "kling-2.6");
    rc = a->create_request(&t->call, &t->http);
    is_int(rc, MC_CALL_DONE, "negative_prompt is not sent");
    is_int(t->call.result.fail, MC_FAIL_INPUT, "it is a 400");

    at_request(t, "{\"prompt\":\"x\",\"seconds\":5}");
    at_call(t, "kling-2.6");
    at_reply(t, a->create_reply, 200,
             "{\"code\":0,\"message\":\"string\",\"request_id\":\"r\","
             "\"data\":{\"id\":\"893605946402811985\",\"status\":"
             "\"submitted\",\"create_time\":1781080778802}}");
    is_str(t->call.result.provider_task_id, "893605946402811985", "data.id");
    is_int(t->call.result.status, MC_TASK_QUEUED, "submitted");

    t->task.provider_task_id = "893605946402811985";
    t->task.provider_data = "{\"api\":\"key\"}";
    at_call(t, "kling-2.6");
    a->status_request(&t->call, &t->http);
    is_str(t->http.url, KL_URL "/tasks?task_ids=893605946402811985",
           "GET /tasks?task_ids=");

    at_reply(t, a->status_reply, 200,
             "{\"code\":0,\"data\":[{\"id\":\"893605946402811985\","
             "\"status\":\"succeeded\",\"outputs\":[{\"type\":\"image\","
             "\"url\":\"https://x/i.png\"},{\"type\":\"video\",\"id\":\"v\","
             "\"url\":\"https://x/v.mp4\",\"duration\":\"5\"}]}]}");
    is_int(t->call.result.status, MC_TASK_COMPLETED, "succeeded");
    is_str(t->call.result.video_url, "https://x/v.mp4",
           "the output of type video");

    at_call(t, "kling-2.6");
    at_reply(t, a->status_reply, 200,
             "{\"code\":0,\"data\":[{\"id\":\"893605946402811985\","
             "\"status\":\"failed\",\"message\":\"content risk\"}]}");
    is_int(t->call.result.status, MC_TASK_FAILED, "failed");
    is_str(t->call.result.error_message, "content risk", "message");

    at_call(t, "kling-2.6");
    at_reply(t, a->status_reply, 200, "{\"code\":0,\"data\":[]}");
    is_int(t->call.result.fail, MC_FAIL_PROTOCOL, "the task missing");

    t->task.provider_data = "{\"endpoint\":\"text2video\"}";
    at_call(t, "kling-2.6");
    rc = a->status_request(&t->call, &t->http);
    is_int(t->call.result.fail, MC_FAIL_PROTOCOL,
           "a JWT-API task is not polled with the API key");

    at_free(t);
    return done_testing();
}
