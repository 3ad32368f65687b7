
/*
 * The wan adapter's build and parse functions on the payloads of Model
 * Studio's Wan video references and the dashscope SDK: the async header,
 * input and parameters, "W*H" sizes for text-to-video and "720P" tiers
 * for image-to-video, every task_status, the error object, and the
 * cancel that only a PENDING task allows.
 */

#include "adapter_test.h"


#define T2V     "wan2.5-t2v-preview"
#define I2V     "wan2.5-i2v-preview"
#define HOST    "https://dashscope-intl.aliyuncs.com"
#define CREATE  HOST "/api/v1/services/aigc/video-generation/video-synthesis"
#define TASK    "0385dc79-5ff8-4d82-bcb6-4a8a4c2e8a7c"


static int
create(at_t *t, const char *model, const char *json)
{
    if (at_request(t, json) != MC_OK) {
        return -100;
    }

    at_call(t, model);

    return t->provider->adapter->create_request(&t->call, &t->http);
}


static int
refused(const char *args)
{
    at_t  *t;
    int    no;

    t = at_provider(args);
    no = (t->provider == NULL);
    at_free(t);

    return no;
}


int
main(void)
{
    int                  rc;
    json_t              *b, *in, *pa;
    at_t                *t;
    const mc_adapter_t  *a;

    setenv("DS_KEY_T", "sk-0123456789abcdef", 1);

    t = at_provider("wan adapter=wan url=" HOST " key_env=DS_KEY_T "
                    "prompt_extend=false");
    ok(t->provider != NULL, "provider from directive arguments");
    a = t->provider->adapter;

    ok((a->features & MC_FEAT_IMAGE) == MC_FEAT_IMAGE,
       "takes image URLs and data: URLs");
    ok(a->features & MC_FEAT_SEED, "takes a seed");
    ok(a->features & MC_FEAT_NEGATIVE, "takes a negative prompt");
    ok(a->features & MC_FEAT_CANCEL, "can cancel");
    ok(a->content_request == NULL, "video URLs are signed");

    ok(refused("wan adapter=wan url=" HOST), "no key: refused");
    ok(refused("wan adapter=wan url=" HOST "/api/v1 key_env=DS_KEY_T"),
       "url= with /api/v1: refused, the adapter adds it");
    ok(refused("wan adapter=wan url=" HOST " key_env=DS_KEY_T "
               "prompt_extend=on"), "prompt_extend is true or false");
    ok(refused("wan adapter=wan url=" HOST " key_env=DS_KEY_T "
               "watermark=1"), "watermark is true or false");

    /* text to video */
    rc = create(t, T2V, "{\"prompt\":\"a kitten running\",\"seconds\":5,"
                "\"size\":\"1280x720\",\"negative_prompt\":\"low quality\","
                "\"seed\":12345}");
    is_int(rc, MC_CALL_SEND, "create is one call");
    is_str(t->http.method, "POST", "POST");
    is_str(t->http.url, CREATE, "to the video-synthesis service");
    is_str(at_header(t, "Authorization"), "Bearer sk-0123456789abcdef",
           "Bearer key");
    is_str(at_header(t, "X-DashScope-Async"), "enable",
           "X-DashScope-Async: enable");
    is_str(at_header(t, "Content-Type"), "application/json", "JSON");

    b = at_body(t);
    in = json_object_get(b, "input");
    pa = json_object_get(b, "parameters");
    is_int(json_object_size(b), 3, "model, input, parameters");
    is_str(mc_json_str(b, "model"), T2V, "model");
    is_int(json_object_size(in), 2, "input: prompt, negative_prompt");
    is_str(mc_json_str(in, "prompt"), "a kitten running", "input.prompt");
    is_str(mc_json_str(in, "negative_prompt"), "low quality",
           "input.negative_prompt");
    is_int(json_object_size(pa), 4, "parameters: four");
    is_str(mc_json_str(pa, "size"), "1280*720", "size with an asterisk");
    ok(json_object_get(pa, "resolution") == NULL, "no resolution for t2v");
    ok(json_is_integer(json_object_get(pa, "duration")), "duration an int");
    is_int(json_integer_value(json_object_get(pa, "duration")), 5, "5");
    is_int(json_integer_value(json_object_get(pa, "seed")), 12345, "seed");
    ok(json_is_false(json_object_get(pa, "prompt_extend")),
       "prompt_extend=false as a boolean");

    rc = create(t, T2V, "{\"prompt\":\"x\",\"size\":\"1632x1248\"}");
    is_str(mc_json_str(json_object_get(at_body(t), "parameters"), "size"),
           "1632*1248", "a 1080P 4:3 size");

    rc = create(t, T2V, "{\"prompt\":\"x\",\"size\":\"1024x576\"}");
    is_int(rc, MC_CALL_DONE, "a size Wan lacks is not sent");
    is_int(t->call.result.fail, MC_FAIL_INPUT, "the client's input");
    ok(strstr(t->call.result.fail_reason, "allowed: 832x480") != NULL,
       "listing the allowed sizes");

    /* image to video */
    rc = create(t, I2V, "{\"prompt\":\"move\",\"size\":\"1920x1080\","
                "\"image_url\":\"https://cdn.example.com/wanx-demo-1.png\"}");
    is_int(rc, MC_CALL_SEND, "image create");
    b = at_body(t);
    in = json_object_get(b, "input");
    pa = json_object_get(b, "parameters");
    is_str(mc_json_str(in, "img_url"),
           "https://cdn.example.com/wanx-demo-1.png", "input.img_url");
    is_str(mc_json_str(pa, "resolution"), "1080P", "resolution 1080P");
    ok(json_object_get(pa, "size") == NULL, "no size for i2v");

    rc = create(t, I2V, "{\"prompt\":\"move\","
                "\"image_url\":\"data:image/jpeg;base64,/9j/4AAQ\"}");
    b = at_body(t);
    is_str(mc_json_path_str(b, "input.img_url"),
           "data:image/jpeg;base64,/9j/4AAQ", "a data: URL as given");
    is_str(mc_json_path_str(b, "parameters.resolution"), "720P",
           "the default size's tier");

    rc = create(t, I2V, "{\"prompt\":\"move\",\"size\":\"2560x1440\","
                "\"image_url\":\"https://cdn.example.com/a.png\"}");
    is_int(t->call.result.fail, MC_FAIL_INPUT, "1440p refused");
    is_str(t->call.result.fail_reason, "resolution 1440p is not available "
           "at Wan; allowed: 480p, 720p, 1080p.", "listing the tiers");

    /* the create answer */
    at_call(t, T2V);
    rc = at_reply(t, a->create_reply, 200,
                  "{\"output\":{\"task_status\":\"PENDING\",\"task_id\":\""
                  TASK "\"},\"request_id\":\"4909100c-7b5a-9f92-bfe5\"}");
    is_int(rc, MC_CALL_DONE, "answered");
    is_str(t->call.result.provider_task_id, TASK, "output.task_id");
    is_int(t->call.result.status, MC_TASK_QUEUED, "PENDING: queued");

    at_call(t, T2V);
    at_reply(t, a->create_reply, 400,
             "{\"request_id\":\"7438d53d\",\"code\":\"InvalidParameter\","
             "\"message\":\"size must be in 1080*1920,1920*1080\"}");
    is_int(t->call.result.fail, MC_FAIL_INPUT, "400: the client's input");
    is_str(t->call.result.fail_reason, "size must be in 1080*1920,1920*1080",
           "with DashScope's message");

    at_call(t, T2V);
    at_reply(t, a->create_reply, 401,
             "{\"request_id\":\"7438d53d\",\"code\":\"InvalidApiKey\","
             "\"message\":\"Invalid API-key provided.\"}");
    is_int(t->call.result.fail, MC_FAIL_AUTH, "401");

    at_call(t, T2V);
    at_reply(t, a->create_reply, 403,
             "{\"request_id\":\"7438d53d\",\"code\":\"AccessDenied\","
             "\"message\":\"current user api does not support synchronous "
             "calls\"}");
    is_int(t->call.result.fail, MC_FAIL_AUTH, "403 AccessDenied");

    at_call(t, T2V);
    at_reply(t, a->create_reply, 200,
             "{\"request_id\":\"1\",\"code\":\"Throttling.RateQuota\","
             "\"message\":\"Requests rate limit exceeded\"}");
    is_int(t->call.result.fail, MC_FAIL_RETRY, "a throttling code in a 200");

    at_call(t, T2V);
    at_reply(t, a->create_reply, 200,
             "{\"request_id\":\"1\",\"code\":\"DataInspectionFailed\","
             "\"message\":\"Input data may contain inappropriate content.\"}");
    is_int(t->call.result.fail, MC_FAIL_INPUT, "an input code in a 200");
    is_str(t->call.result.fail_reason, "Input data may contain "
           "inappropriate content.", "with its message");

    at_call(t, T2V);
    at_reply(t, a->create_reply, 200, "{\"request_id\":\"1\"}");
    is_int(t->call.result.fail, MC_FAIL_PROTOCOL, "no task id");

    /* status */
    t->task.provider_task_id = TASK;

    at_call(t, T2V);
    rc = a->status_request(&t->call, &t->http);
    is_int(rc, MC_CALL_SEND, "status is a call");
    is_str(t->http.method, "GET", "GET");
    is_str(t->http.url, HOST "/api/v1/tasks/" TASK, "/api/v1/tasks/{id}");
    is_str(at_header(t, "Authorization"), "Bearer sk-0123456789abcdef",
           "Bearer key");
    ok(at_header(t, "X-DashScope-Async") == NULL, "no async header");

    at_reply(t, a->status_reply, 200,
             "{\"request_id\":\"1\",\"output\":{\"task_id\":\"" TASK "\","
             "\"task_status\":\"PENDING\",\"submit_time\":"
             "\"2025-09-25 11:07:28.590\"}}");
    is_int(t->call.result.status, MC_TASK_QUEUED, "PENDING");

    at_call(t, T2V);
    at_reply(t, a->status_reply, 200, "{\"output\":{\"task_id\":\"" TASK
             "\",\"task_status\":\"SUSPENDED\"}}");
    is_int(t->call.result.status, MC_TASK_QUEUED, "SUSPENDED: queued");

    at_call(t, T2V);
    at_reply(t, a->status_reply, 200, "{\"output\":{\"task_id\":\"" TASK
             "\",\"task_status\":\"RUNNING\"}}");
    is_int(t->call.result.status, MC_TASK_IN_PROGRESS, "RUNNING");

    at_call(t, T2V);
    at_reply(t, a->status_reply, 200,
             "{\"request_id\":\"2ca1c497\",\"output\":{\"task_id\":\"" TASK
             "\",\"task_status\":\"SUCCEEDED\",\"submit_time\":"
             "\"2025-09-25 11:07:28.590\",\"scheduled_time\":"
             "\"2025-09-25 11:07:35.349\",\"end_time\":"
             "\"2025-09-25 11:17:11.650\",\"orig_prompt\":\"a kitten\","
             "\"video_url\":\"https://dashscope-result-sh.oss-cn-shanghai."
             "aliyuncs.com/xxx.mp4?Expires=xxx\"},\"usage\":{\"duration\":5,"
             "\"video_count\":1,\"SR\":720}}");
    is_int(t->call.result.status, MC_TASK_COMPLETED, "SUCCEEDED");
    is_str(t->call.result.video_url, "https://dashscope-result-sh.oss-cn-"
           "shanghai.aliyuncs.com/xxx.mp4?Expires=xxx", "output.video_url");

    at_call(t, T2V);
    at_reply(t, a->status_reply, 200,
             "{\"request_id\":\"e5d70b02\",\"output\":{\"task_id\":\"" TASK
             "\",\"task_status\":\"FAILED\",\"code\":\"InvalidParameter\","
             "\"message\":\"The size is not match\"}}");
    is_int(t->call.result.status, MC_TASK_FAILED, "FAILED");
    is_str(t->call.result.error_code, "InvalidParameter", "output.code");
    is_str(t->call.result.error_message, "The size is not match",
           "output.message");

    at_call(t, T2V);
    at_reply(t, a->status_reply, 200, "{\"output\":{\"task_id\":\"" TASK
             "\",\"task_status\":\"CANCELED\"}}");
    is_str(t->call.result.error_code, "canceled", "CANCELED: canceled");

    at_call(t, T2V);
    at_reply(t, a->status_reply, 200, "{\"request_id\":\"a4de7c32\","
             "\"output\":{\"task_id\":\"" TASK "\",\"task_status\":"
             "\"UNKNOWN\"}}");
    is_int(t->call.result.status, MC_TASK_FAILED, "UNKNOWN: failed");
    is_str(t->call.result.error_code, "provider_lost", "provider_lost");

    at_call(t, T2V);
    at_reply(t, a->status_reply, 200, "{\"output\":{\"task_status\":"
             "\"SUCCEEDED\"}}");
    is_str(t->call.result.error_code, "no_video", "SUCCEEDED without URL");

    at_call(t, T2V);
    at_reply(t, a->status_reply, 200, "{\"output\":{\"task_status\":"
             "\"DONE\"}}");
    is_int(t->call.result.fail, MC_FAIL_PROTOCOL, "an unknown word");

    at_call(t, T2V);
    at_reply(t, a->status_reply, 200, "{\"code\":\"InternalError\","
             "\"message\":\"oops\"}");
    is_int(t->call.result.fail, MC_FAIL_PROTOCOL,
           "an error object: a failed poll");

    /* cancel */
    at_call(t, T2V);
    rc = a->cancel_request(&t->call, &t->http);
    is_int(rc, MC_CALL_SEND, "cancel is a call");
    is_str(t->http.method, "POST", "POST");
    is_str(t->http.url, HOST "/api/v1/tasks/" TASK "/cancel",
           "/api/v1/tasks/{id}/cancel");
    ok(t->http.body == NULL, "no body");

    rc = at_reply(t, a->cancel_reply, 200, "{\"request_id\":\"1\"}");
    is_int(rc, MC_CALL_DONE, "a PENDING task is canceled");
    is_int(t->call.result.fail, MC_FAIL_NONE, "no failure");
    is_str(t->call.result.error_code, "canceled", "canceled");

    at_call(t, T2V);
    rc = at_reply(t, a->cancel_reply, 400,
                  "{\"request_id\":\"1\",\"code\":\"UnsupportedOperation\","
                  "\"message\":\"Failed to cancel the task, please confirm "
                  "if the task is in PENDING status.\"}");
    is_int(rc, MC_CALL_SEND, "refused: the task is read");
    is_str(t->http.url, HOST "/api/v1/tasks/" TASK, "the task");
    at_reply(t, a->cancel_reply, 200, "{\"output\":{\"task_id\":\"" TASK
             "\",\"task_status\":\"RUNNING\"}}");
    is_int(t->call.result.fail, MC_FAIL_UNSUPPORTED,
           "RUNNING: the cancel fails");

    at_call(t, T2V);
    rc = at_reply(t, a->cancel_reply, 200,
                  "{\"request_id\":\"1\",\"code\":\"UnsupportedOperation\","
                  "\"message\":\"not PENDING\"}");
    is_int(rc, MC_CALL_SEND, "an error object in a 200 is a refusal too");
    at_reply(t, a->cancel_reply, 200, "{\"output\":{\"task_id\":\"" TASK
             "\",\"task_status\":\"SUCCEEDED\",\"video_url\":"
             "\"https://x.example/v.mp4\"}}");
    is_int(t->call.result.fail, MC_FAIL_NONE, "finished meanwhile");
    is_int(t->call.result.status, MC_TASK_COMPLETED, "the video is kept");

    at_free(t);
    return done_testing();
}
