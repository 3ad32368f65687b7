
/*
 * The seedance adapter's build and parse functions on the payloads of
 * BytePlus ModelArk's video generation API and the Ark SDK: the content
 * list, top-level resolution, ratio, integer duration and seed, every
 * task status, the error object, and the cancel that only a queued task
 * allows.
 */

#include "adapter_test.h"


#define MODEL  "seedance-1-0-pro-250528"
#define TASKS  "https://ark.ap-southeast.bytepluses.com/api/v3/contents/"    \
               "generations/tasks"


static int
create(at_t *t, const char *json)
{
    if (at_request(t, json) != MC_OK) {
        return -100;
    }

    at_call(t, MODEL);

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
    json_t              *b, *item;
    at_t                *t;
    const mc_adapter_t  *a;

    setenv("ARK_KEY_T", "ark-0123456789abcdef", 1);

    t = at_provider("sd adapter=seedance "
                    "url=https://ark.ap-southeast.bytepluses.com "
                    "key_env=ARK_KEY_T");
    ok(t->provider != NULL, "provider from directive arguments");
    a = t->provider->adapter;

    ok((a->features & MC_FEAT_IMAGE) == MC_FEAT_IMAGE,
       "takes image URLs and data: URLs");
    ok(a->features & MC_FEAT_SEED, "takes a seed");
    ok(!(a->features & MC_FEAT_NEGATIVE), "no negative prompt");
    ok(a->features & MC_FEAT_CANCEL, "can cancel");
    ok(a->content_request == NULL, "video URLs are presigned");

    ok(refused("sd adapter=seedance url=https://ark.ap-southeast.bytepluses"
               ".com"), "no key: refused at nginx -t");
    ok(refused("sd adapter=seedance url=https://ark.ap-southeast.bytepluses"
               ".com/api/v3 key_env=ARK_KEY_T"),
       "url= with /api/v3: refused, the adapter adds it");
    ok(refused("sd adapter=seedance url=https://ark.ap-southeast.bytepluses"
               ".com key_env=ARK_KEY_T watermark=yes"), "watermark=yes");

    /* text to video */
    rc = create(t, "{\"prompt\":\"a cat surfing\",\"seconds\":5,"
                "\"size\":\"1280x720\",\"seed\":42}");
    is_int(rc, MC_CALL_SEND, "create is one call");
    is_str(t->http.method, "POST", "POST");
    is_str(t->http.url, TASKS, "to /api/v3/contents/generations/tasks");
    is_str(at_header(t, "Authorization"), "Bearer ark-0123456789abcdef",
           "Bearer ARK key");
    is_str(at_header(t, "Content-Type"), "application/json", "JSON");

    b = at_body(t);
    is_int(json_object_size(b), 6, "six fields");
    is_str(mc_json_str(b, "model"), MODEL, "model");
    is_int(json_array_size(json_object_get(b, "content")), 1,
           "content: the text only");
    is_str(mc_json_path_str(b, "content.0.type"), "text", "type text");
    is_str(mc_json_path_str(b, "content.0.text"), "a cat surfing", "text");
    is_str(mc_json_str(b, "resolution"), "720p", "resolution 720p");
    is_str(mc_json_str(b, "ratio"), "16:9", "ratio 16:9");
    ok(json_is_integer(json_object_get(b, "duration")), "duration an int");
    is_int(json_integer_value(json_object_get(b, "duration")), 5, "5");
    ok(json_is_integer(json_object_get(b, "seed")), "seed an int");
    is_int(json_integer_value(json_object_get(b, "seed")), 42, "42");

    /* a ratio Seedance lacks: the nearest it has */
    rc = create(t, "{\"prompt\":\"x\",\"size\":\"1080x1920\"}");
    b = at_body(t);
    is_str(mc_json_str(b, "ratio"), "9:16", "9:16");
    is_str(mc_json_str(b, "resolution"), "1080p", "1080p");

    rc = create(t, "{\"prompt\":\"x\",\"size\":\"2560x1080\"}");
    b = at_body(t);
    is_str(mc_json_str(b, "ratio"), "21:9", "64:27 is nearest 21:9");

    rc = create(t, "{\"prompt\":\"x\",\"size\":\"854x480\"}");
    b = at_body(t);
    is_str(mc_json_str(b, "resolution"), "480p", "480p");

    rc = create(t, "{\"prompt\":\"x\",\"size\":\"2560x1440\"}");
    is_int(rc, MC_CALL_DONE, "1440p: not sent");
    is_int(t->call.result.fail, MC_FAIL_INPUT, "the client's input");
    is_str(t->call.result.fail_reason, "resolution 1440p is not available "
           "at Seedance; allowed: 480p, 720p, 1080p.", "listing the allowed");

    /* image to video */
    rc = create(t, "{\"prompt\":\"move\","
                "\"image_url\":\"https://example.com/first.png\"}");
    is_int(rc, MC_CALL_SEND, "image create");
    b = at_body(t);
    is_int(json_array_size(json_object_get(b, "content")), 2,
           "text and image");
    item = json_array_get(json_object_get(b, "content"), 1);
    is_str(mc_json_str(item, "type"), "image_url", "type image_url");
    is_str(mc_json_path_str(item, "image_url.url"),
           "https://example.com/first.png", "image_url.url");
    is_str(mc_json_str(item, "role"), "first_frame", "role first_frame");
    is_str(mc_json_str(b, "ratio"), "adaptive",
           "no shape asked: the image's (adaptive)");

    rc = create(t, "{\"prompt\":\"move\",\"aspect_ratio\":\"1:1\","
                "\"image_url\":\"data:image/png;base64,iVBORw0KGgo=\"}");
    b = at_body(t);
    is_str(mc_json_path_str(b, "content.1.image_url.url"),
           "data:image/png;base64,iVBORw0KGgo=", "a data: URL as given");
    is_str(mc_json_str(b, "ratio"), "1:1", "an asked ratio is kept");

    /* the create answer */
    at_call(t, MODEL);
    rc = at_reply(t, a->create_reply, 200,
                  "{\"id\":\"cgt-20250331175019-68d9t\"}");
    is_int(rc, MC_CALL_DONE, "answered");
    is_str(t->call.result.provider_task_id, "cgt-20250331175019-68d9t", "id");
    is_int(t->call.result.status, MC_TASK_QUEUED, "queued");

    at_call(t, MODEL);
    at_reply(t, a->create_reply, 400,
             "{\"error\":{\"code\":\"InvalidParameter\",\"message\":"
             "\"The parameter `duration` specified in the request is not "
             "valid\",\"param\":\"duration\",\"type\":\"BadRequest\"}}");
    is_int(t->call.result.fail, MC_FAIL_INPUT, "400: the client's input");
    is_str(t->call.result.fail_reason, "The parameter `duration` specified "
           "in the request is not valid", "with Seedance's message");

    at_call(t, MODEL);
    at_reply(t, a->create_reply, 200,
             "{\"error\":{\"code\":\"InputTextSensitiveContentDetected\","
             "\"message\":\"The request failed because the input text may "
             "contain sensitive information.\"}}");
    is_int(t->call.result.fail, MC_FAIL_INPUT, "an error object in a 200");

    at_call(t, MODEL);
    at_reply(t, a->create_reply, 200, "{}");
    is_int(t->call.result.fail, MC_FAIL_PROTOCOL, "no id");

    at_call(t, MODEL);
    at_reply(t, a->create_reply, 401,
             "{\"error\":{\"code\":\"AuthenticationError\",\"message\":"
             "\"The API key ark-0123456789abcdef is invalid\"}}");
    is_int(t->call.result.fail, MC_FAIL_AUTH, "401");
    ok(strstr(t->call.result.fail_reason, "ark-") == NULL, "no key echoed");

    at_call(t, MODEL);
    at_reply(t, a->create_reply, 429, "{}");
    is_int(t->call.result.fail, MC_FAIL_RETRY, "429 retries");

    /* status */
    t->task.provider_task_id = "cgt-20250331175019-68d9t";

    at_call(t, MODEL);
    rc = a->status_request(&t->call, &t->http);
    is_int(rc, MC_CALL_SEND, "status is a call");
    is_str(t->http.method, "GET", "GET");
    is_str(t->http.url, TASKS "/cgt-20250331175019-68d9t", "tasks/{id}");
    is_str(at_header(t, "Authorization"), "Bearer ark-0123456789abcdef",
           "with the key");

    at_reply(t, a->status_reply, 200,
             "{\"id\":\"cgt-1\",\"model\":\"" MODEL "\",\"status\":\"queued\","
             "\"created_at\":1743414619,\"updated_at\":1743414619}");
    is_int(t->call.result.status, MC_TASK_QUEUED, "queued");

    at_call(t, MODEL);
    at_reply(t, a->status_reply, 200, "{\"id\":\"cgt-1\",\"status\":"
             "\"running\"}");
    is_int(t->call.result.status, MC_TASK_IN_PROGRESS, "running");

    at_call(t, MODEL);
    at_reply(t, a->status_reply, 200,
             "{\"id\":\"cgt-1\",\"model\":\"" MODEL "\",\"status\":"
             "\"succeeded\",\"content\":{\"video_url\":\"https://ark-content"
             "-generation-ap-southeast-1.tos-ap-southeast-1.volces.com/x.mp4"
             "?X-Tos-Signature=abc\"},\"usage\":{\"completion_tokens\":246840,"
             "\"total_tokens\":246840},\"seed\":42,\"resolution\":\"720p\","
             "\"ratio\":\"16:9\",\"duration\":5,\"framespersecond\":24}");
    is_int(t->call.result.status, MC_TASK_COMPLETED, "succeeded: completed");
    is_str(t->call.result.video_url, "https://ark-content-generation-ap-"
           "southeast-1.tos-ap-southeast-1.volces.com/x.mp4?X-Tos-Signature"
           "=abc", "content.video_url");

    at_call(t, MODEL);
    at_reply(t, a->status_reply, 200,
             "{\"id\":\"cgt-1\",\"status\":\"failed\",\"error\":{\"code\":"
             "\"OutputVideoSensitiveContentDetected\",\"message\":\"The "
             "request failed because the output video may contain sensitive "
             "information.\"}}");
    is_int(t->call.result.status, MC_TASK_FAILED, "failed");
    is_str(t->call.result.error_code, "OutputVideoSensitiveContentDetected",
           "error.code");
    ok(strstr(t->call.result.error_message, "sensitive") != NULL,
       "error.message");

    at_call(t, MODEL);
    at_reply(t, a->status_reply, 200, "{\"id\":\"cgt-1\",\"status\":"
             "\"cancelled\"}");
    is_int(t->call.result.status, MC_TASK_FAILED, "cancelled: failed");
    is_str(t->call.result.error_code, "canceled", "code canceled");

    at_call(t, MODEL);
    at_reply(t, a->status_reply, 200, "{\"id\":\"cgt-1\",\"status\":"
             "\"expired\"}");
    is_int(t->call.result.status, MC_TASK_FAILED, "expired: failed");
    is_str(t->call.result.error_code, "expired", "code expired");

    at_call(t, MODEL);
    at_reply(t, a->status_reply, 200, "{\"id\":\"cgt-1\",\"status\":"
             "\"succeeded\",\"content\":{}}");
    is_str(t->call.result.error_code, "no_video", "succeeded, no URL");

    at_call(t, MODEL);
    at_reply(t, a->status_reply, 200, "{\"id\":\"cgt-1\",\"status\":"
             "\"paused\"}");
    is_int(t->call.result.fail, MC_FAIL_PROTOCOL, "an unknown word");

    at_call(t, MODEL);
    at_reply(t, a->status_reply, 404, "{\"error\":{\"code\":\"NotFound\"}}");
    is_str(t->call.result.error_code, "provider_lost", "404: lost");

    at_call(t, MODEL);
    at_reply(t, a->status_reply, 200, "<html>");
    is_int(t->call.result.fail, MC_FAIL_PROTOCOL, "not JSON");

    /* cancel: the task is read, and deleted only while queued */
    at_call(t, MODEL);
    rc = a->cancel_request(&t->call, &t->http);
    is_int(rc, MC_CALL_SEND, "cancel starts with a read");
    is_str(t->http.method, "GET", "GET");
    is_str(t->http.url, TASKS "/cgt-20250331175019-68d9t", "tasks/{id}");

    rc = at_reply(t, a->cancel_reply, 200, "{\"id\":\"cgt-1\",\"status\":"
                  "\"queued\"}");
    is_int(rc, MC_CALL_SEND, "queued: deleted");
    is_str(t->http.method, "DELETE", "DELETE");
    is_str(t->http.url, TASKS "/cgt-20250331175019-68d9t", "tasks/{id}");
    is_str(at_header(t, "Authorization"), "Bearer ark-0123456789abcdef",
           "with the key");

    rc = at_reply(t, a->cancel_reply, 200, "{}");
    is_int(rc, MC_CALL_DONE, "the queued task is cancelled");
    is_int(t->call.result.fail, MC_FAIL_NONE, "no failure");
    is_str(t->call.result.error_code, "canceled", "canceled");

    at_call(t, MODEL);
    rc = at_reply(t, a->cancel_reply, 200, "{\"id\":\"cgt-1\",\"status\":"
                  "\"running\"}");
    is_int(rc, MC_CALL_DONE, "running: no DELETE");
    is_int(t->call.result.fail, MC_FAIL_UNSUPPORTED, "the cancel fails");
    ok(strstr(t->call.result.fail_reason, "running") != NULL, "and says so");

    at_call(t, MODEL);
    rc = at_reply(t, a->cancel_reply, 200,
                  "{\"id\":\"cgt-1\",\"status\":\"succeeded\",\"content\":"
                  "{\"video_url\":\"https://x.example/v.mp4\"}}");
    is_int(rc, MC_CALL_DONE, "finished: no DELETE, which would delete it");
    is_int(t->call.result.fail, MC_FAIL_NONE, "no failure");
    is_int(t->call.result.status, MC_TASK_COMPLETED, "the video is kept");
    is_str(t->call.result.video_url, "https://x.example/v.mp4", "its URL");

    at_call(t, MODEL);
    at_reply(t, a->cancel_reply, 200, "{\"id\":\"cgt-1\",\"status\":"
             "\"queued\"}");
    rc = at_reply(t, a->cancel_reply, 400,
                  "{\"error\":{\"code\":\"InvalidParameter\",\"message\":"
                  "\"task cannot be cancelled\"}}");
    is_int(rc, MC_CALL_SEND, "a refused DELETE: read again");
    is_str(t->http.method, "GET", "GET");
    at_reply(t, a->cancel_reply, 200, "{\"id\":\"cgt-1\",\"status\":"
             "\"running\"}");
    is_int(t->call.result.fail, MC_FAIL_UNSUPPORTED,
           "it started meanwhile: the cancel fails");

    at_call(t, MODEL);
    at_reply(t, a->cancel_reply, 200, "{\"id\":\"cgt-1\",\"status\":"
             "\"failed\",\"error\":{\"code\":\"X\",\"message\":\"y\"}}");
    is_int(t->call.result.fail, MC_FAIL_NONE, "failed before the cancel");
    is_int(t->call.result.status, MC_TASK_FAILED, "stays failed");

    at_call(t, MODEL);
    at_reply(t, a->cancel_reply, 404, "{}");
    is_str(t->call.result.error_code, "canceled", "unknown: nothing runs");

    at_free(t);
    return done_testing();
}
