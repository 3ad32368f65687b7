
/*
 * The luma adapter's build and parse functions on the payloads of Luma's
 * Dream Machine API (openapi.yaml, lumaai SDK): the create path, duration
 * with its unit, aspect ratio and resolution spelling, keyframes, the
 * Generation object's states and failure reason.
 */

#include "adapter_test.h"


static int
create(at_t *t, const char *model, const char *json)
{
    if (at_request(t, json) != MC_OK) {
        return -100;
    }

    at_call(t, model);

    return t->provider->adapter->create_request(&t->call, &t->http);
}


int
main(void)
{
    int                  rc;
    json_t              *b;
    at_t                *t, *bad;
    const mc_adapter_t  *a;

    setenv("LUMA_KEY", "luma-secret-1", 1);

    t = at_provider("luma adapter=luma "
                    "url=https://api.lumalabs.ai/dream-machine/v1 "
                    "key_env=LUMA_KEY");
    ok(t->provider != NULL, "provider from directive arguments");
    a = t->provider->adapter;

    ok(a->features & MC_FEAT_IMAGE_URL, "takes image URLs");
    ok(!(a->features & MC_FEAT_IMAGE_DATA), "but no data: URLs");
    ok(!(a->features & MC_FEAT_SEED), "no seed");
    ok(!(a->features & MC_FEAT_NEGATIVE), "no negative prompt");
    ok(a->cancel_request == NULL && !(a->features & MC_FEAT_CANCEL),
       "no cancel");
    ok(a->content_request == NULL, "assets.video needs no credentials");

    bad = at_provider("luma adapter=luma url=https://api.lumalabs.ai/x");
    ok(bad->provider == NULL, "no key: refused at nginx -t");
    at_free(bad);

    bad = at_provider("luma adapter=luma url=https://api.lumalabs.ai/x "
                      "key_env=LUMA_KEY durations=5,nine");
    ok(bad->provider == NULL, "bad durations= refused");
    at_free(bad);

    bad = at_provider("luma adapter=luma url=https://api.lumalabs.ai/x "
                      "key_env=LUMA_KEY create_path=generations");
    ok(bad->provider == NULL, "a create_path= without / refused");
    at_free(bad);

    /* text to video */
    rc = create(t, "ray-2", "{\"prompt\":\"an old lady laughing underwater"
                            "\",\"seconds\":5,\"size\":\"1280x720\"}");
    is_int(rc, MC_CALL_SEND, "create is one call");
    is_str(t->http.method, "POST", "POST");
    is_str(t->http.url,
           "https://api.lumalabs.ai/dream-machine/v1/generations/video",
           "to /generations/video as the SDK does");
    is_str(at_header(t, "Authorization"), "Bearer luma-secret-1", "Bearer");
    is_str(at_header(t, "Content-Type"), "application/json", "JSON");

    b = at_body(t);
    is_str(mc_json_str(b, "model"), "ray-2", "model");
    is_str(mc_json_str(b, "prompt"), "an old lady laughing underwater",
           "prompt");
    is_str(mc_json_str(b, "duration"), "5s", "duration \"5s\", a string");
    is_str(mc_json_str(b, "aspect_ratio"), "16:9", "aspect_ratio");
    is_str(mc_json_str(b, "resolution"), "720p", "resolution");
    ok(json_object_get(b, "keyframes") == NULL, "no keyframes");
    is_int(json_object_size(b), 5, "nothing else");

    /* image to video, portrait, 1080p */
    rc = create(t, "ray-flash-2", "{\"prompt\":\"A tiger walking in snow\","
                                  "\"seconds\":9,\"size\":\"1080x1920\","
                                  "\"image_url\":\"https://storage.cdn-luma"
                                  ".com/a.jpg\"}");
    is_int(rc, MC_CALL_SEND, "image create");
    b = at_body(t);
    is_str(mc_json_str(b, "duration"), "9s", "9s");
    is_str(mc_json_str(b, "aspect_ratio"), "9:16", "9:16");
    is_str(mc_json_str(b, "resolution"), "1080p", "1080p");
    is_str(mc_json_path_str(b, "keyframes.frame0.type"), "image",
           "keyframes.frame0.type image");
    is_str(mc_json_path_str(b, "keyframes.frame0.url"),
           "https://storage.cdn-luma.com/a.jpg", "keyframes.frame0.url");

    /* nearest spellings */
    create(t, "ray-2", "{\"prompt\":\"x\",\"seconds\":5,"
                       "\"size\":\"3840x2160\"}");
    is_str(mc_json_str(at_body(t), "resolution"), "4k", "2160p is 4k");

    create(t, "ray-2", "{\"prompt\":\"x\",\"seconds\":5,"
                       "\"size\":\"960x540\"}");
    is_str(mc_json_str(at_body(t), "resolution"), "540p", "540p");

    create(t, "ray-2", "{\"prompt\":\"x\",\"seconds\":5,"
                       "\"size\":\"2560x1080\"}");
    is_str(mc_json_str(at_body(t), "aspect_ratio"), "21:9", "21:9");

    create(t, "ray-2", "{\"prompt\":\"x\",\"seconds\":5,"
                       "\"size\":\"1000x1000\"}");
    is_str(mc_json_str(at_body(t), "aspect_ratio"), "1:1", "square");

    create(t, "ray-2", "{\"prompt\":\"x\",\"seconds\":5,"
                       "\"size\":\"1200x1000\"}");
    is_str(mc_json_str(at_body(t), "aspect_ratio"), "4:3",
           "6:5 goes to the nearest, 4:3");

    /* durations: 5s and 9s */
    rc = create(t, "ray-2", "{\"prompt\":\"x\",\"seconds\":7}");
    is_int(rc, MC_CALL_DONE, "7 s: no call");
    is_int(t->call.result.fail, MC_FAIL_INPUT, "7 s is a 400");
    is_int(t->call.result.http_status, 400, "HTTP 400");
    ok(strstr(t->call.result.fail_reason, "allowed: 5, 9") != NULL,
       "lists 5, 9");

    /* a data: URL never leaves */
    rc = create(t, "ray-2", "{\"prompt\":\"x\",\"seconds\":5,\"image_url\":"
                            "\"data:image/png;base64,iVBORw0KGgo=\"}");
    is_int(t->call.result.fail, MC_FAIL_INPUT, "a data: URL is refused");
    ok(t->http.url == NULL, "nothing built");

    /* the create answer: 201 and the Generation */
    at_call(t, "ray-2");
    rc = at_reply(t, a->create_reply, 201,
                  "{\"id\":\"123e4567-e89b-12d3-a456-426614174000\","
                  "\"generation_type\":\"video\",\"state\":\"queued\","
                  "\"failure_reason\":null,\"created_at\":"
                  "\"2025-06-01T12:00:00Z\",\"assets\":null,\"model\":"
                  "\"ray-2\",\"request\":{\"prompt\":\"x\"}}");
    is_int(rc, MC_CALL_DONE, "create reply done");
    is_str(t->call.result.provider_task_id,
           "123e4567-e89b-12d3-a456-426614174000", "id");
    is_int(t->call.result.status, MC_TASK_QUEUED, "queued");

    at_call(t, "ray-2");
    at_reply(t, a->create_reply, 400,
             "{\"detail\":\"Invalid request: duration must be 5s or 9s\"}");
    is_int(t->call.result.fail, MC_FAIL_INPUT, "400 is an input error");
    is_str(t->call.result.fail_reason,
           "Invalid request: duration must be 5s or 9s", "detail");

    at_call(t, "ray-2");
    at_reply(t, a->create_reply, 422,
             "{\"detail\":[{\"loc\":[\"body\",\"model\"],\"msg\":\"field "
             "required\",\"type\":\"value_error.missing\"}]}");
    is_int(t->call.result.fail, MC_FAIL_INPUT, "422 is an input error");
    is_str(t->call.result.fail_reason, "field required", "a validation list");

    at_call(t, "ray-2");
    at_reply(t, a->create_reply, 401,
             "{\"detail\":\"Invalid API key is provided\"}");
    is_int(t->call.result.fail, MC_FAIL_AUTH, "401 is the gateway's");
    ok(strstr(t->call.result.fail_reason, "luma-secret") == NULL, "no key");

    at_call(t, "ray-2");
    at_reply(t, a->create_reply, 200, "{\"detail\":\"Insufficient credits\"}");
    is_int(t->call.result.fail, MC_FAIL_INPUT, "an error under 200");
    is_str(t->call.result.fail_reason, "Insufficient credits", "its text");

    at_call(t, "ray-2");
    at_reply(t, a->create_reply, 201, "{\"state\":\"queued\"}");
    is_int(t->call.result.fail, MC_FAIL_PROTOCOL, "no id: protocol error");

    at_call(t, "ray-2");
    at_reply(t, a->create_reply, 201, "[1,2");
    is_int(t->call.result.fail, MC_FAIL_PROTOCOL, "not JSON");

    /* status */
    t->task.provider_task_id = "123e4567";

    at_call(t, "ray-2");
    rc = a->status_request(&t->call, &t->http);
    is_int(rc, MC_CALL_SEND, "status is one call");
    is_str(t->http.method, "GET", "GET");
    is_str(t->http.url,
           "https://api.lumalabs.ai/dream-machine/v1/generations/123e4567",
           "GET /generations/{id}");
    is_str(at_header(t, "Authorization"), "Bearer luma-secret-1", "Bearer");

    at_reply(t, a->status_reply, 200,
             "{\"id\":\"123e4567\",\"state\":\"dreaming\",\"assets\":"
             "{\"progress_video\":\"https://storage.cdn-luma.com/p.mp4\"}}");
    is_int(t->call.result.status, MC_TASK_IN_PROGRESS, "dreaming");
    is_int(t->call.result.progress, -1, "no progress figure");

    at_call(t, "ray-2");
    at_reply(t, a->status_reply, 200,
             "{\"id\":\"123e4567\",\"state\":\"completed\",\"failure_reason\":"
             "null,\"assets\":{\"video\":\"https://storage.cdn-luma.com/"
             "dream_machine/v.mp4\",\"image\":null}}");
    is_int(t->call.result.status, MC_TASK_COMPLETED, "completed");
    is_str(t->call.result.video_url,
           "https://storage.cdn-luma.com/dream_machine/v.mp4", "assets.video");

    at_call(t, "ray-2");
    at_reply(t, a->status_reply, 200,
             "{\"id\":\"123e4567\",\"state\":\"completed\",\"assets\":{}}");
    is_str(t->call.result.error_code, "no_output",
           "completed without a video");

    at_call(t, "ray-2");
    at_reply(t, a->status_reply, 200,
             "{\"id\":\"123e4567\",\"state\":\"failed\",\"failure_reason\":"
             "\"Prompt not allowed because it contains a blocked word\"}");
    is_int(t->call.result.status, MC_TASK_FAILED, "failed");
    is_str(t->call.result.error_code, "generation_failed", "code");
    is_str(t->call.result.error_message,
           "Prompt not allowed because it contains a blocked word",
           "failure_reason");

    at_call(t, "ray-2");
    at_reply(t, a->status_reply, 200,
             "{\"id\":\"123e4567\",\"state\":\"pending\"}");
    is_int(t->call.result.fail, MC_FAIL_PROTOCOL, "an unknown word");

    at_call(t, "ray-2");
    at_reply(t, a->status_reply, 404, "{\"detail\":\"Generation not found\"}");
    is_str(t->call.result.error_code, "provider_lost", "404: lost");

    at_free(t);

    /* params */
    t = at_provider("luma adapter=luma url=https://luma.example/v1 "
                    "key_env=LUMA_KEY create_path=/generations "
                    "durations=5,9,10");
    ok(t->provider != NULL, "create_path= and durations=");
    rc = create(t, "ray-3", "{\"prompt\":\"x\",\"seconds\":10}");
    is_int(rc, MC_CALL_SEND, "10 s allowed by durations=");
    is_str(t->http.url, "https://luma.example/v1/generations",
           "the older create path");
    is_str(mc_json_str(at_body(t), "duration"), "10s", "10s");
    at_free(t);

    return done_testing();
}
