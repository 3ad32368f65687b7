
/*
 * The openai adapter's build and parse functions on OpenAI's documented
 * payloads.
 */

#include "adapter_test.h"


int
main(void)
{
    int                  rc;
    json_t              *b;
    at_t                *t;
    const mc_adapter_t  *a;

    setenv("OA_KEY", "sk-test", 1);

    t = at_provider("oa adapter=openai url=https://api.openai.com/v1/ "
                    "key_env=OA_KEY project=proj_1");
    ok(t->provider != NULL, "provider from directive arguments");
    is_str(t->provider->base_url, "https://api.openai.com/v1",
           "trailing slash dropped from url=");

    a = t->provider->adapter;

    /* create */
    at_request(t, "{\"prompt\":\"a fox\",\"seconds\":\"8\","
                  "\"size\":\"720x1280\",\"image_url\":\"https://x/y.png\"}");
    at_call(t, "sora-2");

    rc = a->create_request(&t->call, &t->http);
    is_int(rc, MC_CALL_SEND, "create is one call");
    is_str(t->http.method, "POST", "POST");
    is_str(t->http.url, "https://api.openai.com/v1/videos", "to /videos");
    is_str(at_header(t, "Authorization"), "Bearer sk-test", "Bearer key");
    is_str(at_header(t, "OpenAI-Project"), "proj_1", "project header");

    b = at_body(t);
    is_str(mc_json_str(b, "model"), "sora-2", "model");
    is_str(mc_json_str(b, "prompt"), "a fox", "prompt");
    is_str(mc_json_str(b, "seconds"), "8", "seconds as a string");
    is_str(mc_json_str(b, "size"), "720x1280", "size");
    is_str(mc_json_path_str(b, "input_reference.image_url"),
           "https://x/y.png", "input_reference.image_url");

    rc = at_reply(t, a->create_reply, 200,
                  "{\"id\":\"video_abc\",\"object\":\"video\","
                  "\"model\":\"sora-2\",\"status\":\"queued\","
                  "\"progress\":0,\"created_at\":1760000000}");
    is_int(rc, MC_CALL_DONE, "create reply done");
    is_str(t->call.result.provider_task_id, "video_abc", "task id");
    is_int(t->call.result.status, MC_TASK_QUEUED, "queued");

    at_call(t, "sora-2");
    rc = at_reply(t, a->create_reply, 400,
                  "{\"error\":{\"message\":\"Invalid value: '5'.\","
                  "\"type\":\"invalid_request_error\",\"param\":\"seconds\","
                  "\"code\":null}}");
    is_int(t->call.result.fail, MC_FAIL_INPUT, "400 is an input error");
    is_str(t->call.result.fail_reason, "Invalid value: '5'.",
           "with OpenAI's message");

    at_call(t, "sora-2");
    rc = at_reply(t, a->create_reply, 401,
                  "{\"error\":{\"message\":\"Incorrect API key provided: "
                  "sk-test\"}}");
    is_int(t->call.result.fail, MC_FAIL_AUTH, "401 is the gateway's fault");
    ok(strstr(t->call.result.fail_reason, "sk-test") == NULL,
       "the key is not repeated");

    at_call(t, "sora-2");
    at_reply(t, a->create_reply, 503, "");
    is_int(t->call.result.fail, MC_FAIL_RETRY, "503 is retryable");

    at_call(t, "sora-2");
    at_reply(t, a->create_reply, 200, "<html>");
    is_int(t->call.result.fail, MC_FAIL_PROTOCOL, "not JSON is a protocol error");

    /* status */
    t->task.provider_task_id = "video_abc";

    at_call(t, "sora-2");
    rc = a->status_request(&t->call, &t->http);
    is_int(rc, MC_CALL_SEND, "status is one call");
    is_str(t->http.url, "https://api.openai.com/v1/videos/video_abc",
           "GET /videos/{id}");

    at_reply(t, a->status_reply, 200,
             "{\"id\":\"video_abc\",\"status\":\"in_progress\","
             "\"progress\":42}");
    is_int(t->call.result.status, MC_TASK_IN_PROGRESS, "in_progress");
    is_int(t->call.result.progress, 42, "progress");

    at_call(t, "sora-2");
    at_reply(t, a->status_reply, 200,
             "{\"id\":\"video_abc\",\"status\":\"completed\","
             "\"progress\":100}");
    is_int(t->call.result.status, MC_TASK_COMPLETED, "completed");
    is_str(t->call.result.video_url,
           "https://api.openai.com/v1/videos/video_abc/content",
           "bytes at the content endpoint");

    at_call(t, "sora-2");
    at_reply(t, a->status_reply, 200,
             "{\"id\":\"video_abc\",\"status\":\"failed\","
             "\"error\":{\"code\":\"moderation_blocked\","
             "\"message\":\"blocked\"}}");
    is_int(t->call.result.status, MC_TASK_FAILED, "failed");
    is_str(t->call.result.error_code, "moderation_blocked", "error code");

    at_call(t, "sora-2");
    at_reply(t, a->status_reply, 200,
             "{\"id\":\"video_abc\",\"status\":\"paused\"}");
    is_int(t->call.result.fail, MC_FAIL_PROTOCOL, "an unknown word is an error");

    /* content */
    at_call(t, "sora-2");
    rc = a->content_request(&t->call, &t->http);
    is_int(rc, MC_CALL_SEND, "content is proxied");
    is_str(at_header(t, "Authorization"), "Bearer sk-test",
           "with the provider's key");

    ok(a->cancel_request == NULL, "no cancel");
    ok(!(a->features & MC_FEAT_SEED), "no seed");

    at_free(t);
    return done_testing();
}
