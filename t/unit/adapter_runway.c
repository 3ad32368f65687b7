
/*
 * The runway adapter's build and parse functions on the payloads of
 * Runway's API reference and @runwayml/sdk: the endpoint chosen by the
 * image, camelCase fields, ratios from each model's list, the durations
 * a model can make, task states, failures and the two-step cancel.
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
    const char          *png;
    const mc_adapter_t  *a;

    setenv("RW_KEY", "key_0123456789abcdef", 1);

    t = at_provider("rw adapter=runway url=https://api.dev.runwayml.com "
                    "key_env=RW_KEY");
    ok(t->provider != NULL, "provider from directive arguments");
    a = t->provider->adapter;

    ok(a->features & MC_FEAT_IMAGE_URL, "takes image URLs");
    ok(a->features & MC_FEAT_IMAGE_DATA, "takes data: URLs");
    ok(a->features & MC_FEAT_SEED, "takes a seed");
    ok(a->features & MC_FEAT_NEGATIVE, "takes a negative prompt");
    ok(a->features & MC_FEAT_CANCEL, "can cancel");
    ok(a->content_request == NULL, "output URLs need no credentials");

    /* configuration */
    bad = at_provider("rw adapter=runway url=https://api.dev.runwayml.com");
    ok(bad->provider == NULL, "no key: refused at nginx -t");
    at_free(bad);

    bad = at_provider("rw adapter=runway url=https://api.dev.runwayml.com "
                      "key_env=RW_KEY version=latest");
    ok(bad->provider == NULL, "a version that is not a date is refused");
    at_free(bad);

    bad = at_provider("rw adapter=runway url=https://api.dev.runwayml.com "
                      "key_env=RW_KEY ratio=16:9");
    ok(bad->provider == NULL, "an unknown param is refused");
    at_free(bad);

    /* text to video, gen4.5 */
    rc = create(t, "gen4.5", "{\"prompt\":\"a fox in snow\",\"seconds\":5,"
                             "\"size\":\"1280x720\",\"seed\":42}");
    is_int(rc, MC_CALL_SEND, "create is one call");
    is_str(t->http.method, "POST", "POST");
    is_str(t->http.url, "https://api.dev.runwayml.com/v1/text_to_video",
           "no image: /v1/text_to_video");
    is_str(at_header(t, "Authorization"), "Bearer key_0123456789abcdef",
           "Bearer key");
    is_str(at_header(t, "X-Runway-Version"), "2024-11-06",
           "X-Runway-Version 2024-11-06");
    is_str(at_header(t, "Content-Type"), "application/json", "JSON");

    b = at_body(t);
    is_str(mc_json_str(b, "model"), "gen4.5", "model");
    is_str(mc_json_str(b, "promptText"), "a fox in snow", "promptText");
    is_str(mc_json_str(b, "ratio"), "1280:720", "ratio in pixels");
    ok(json_is_integer(json_object_get(b, "duration")), "duration a number");
    is_int(json_integer_value(json_object_get(b, "duration")), 5,
           "duration 5");
    is_int(json_integer_value(json_object_get(b, "seed")), 42, "seed");
    ok(json_object_get(b, "promptImage") == NULL, "no promptImage");
    is_int(json_object_size(b), 5, "nothing else");

    /* gen4.5 text: only two ratios; a square request gets the nearest */
    rc = create(t, "gen4.5", "{\"prompt\":\"x\",\"seconds\":5,"
                             "\"size\":\"720x1280\"}");
    is_str(mc_json_str(at_body(t), "ratio"), "720:1280", "portrait");

    /* image to video, gen4_turbo */
    rc = create(t, "gen4_turbo", "{\"prompt\":\"she turns\",\"seconds\":10,"
                                 "\"size\":\"960x960\",\"image_url\":"
                                 "\"https://cdn.example.com/a.png\"}");
    is_int(rc, MC_CALL_SEND, "image create");
    is_str(t->http.url, "https://api.dev.runwayml.com/v1/image_to_video",
           "an image: /v1/image_to_video");
    b = at_body(t);
    is_str(mc_json_str(b, "promptImage"), "https://cdn.example.com/a.png",
           "promptImage as a string");
    is_str(mc_json_str(b, "ratio"), "960:960", "square");
    is_int(json_integer_value(json_object_get(b, "duration")), 10,
           "duration 10");

    /* 4:3 maps to 1104:832 */
    rc = create(t, "gen4_turbo", "{\"prompt\":\"x\",\"seconds\":5,"
                                 "\"size\":\"1024x768\",\"image_url\":"
                                 "\"https://cdn.example.com/a.png\"}");
    is_str(mc_json_str(at_body(t), "ratio"), "1104:832", "4:3 is 1104:832");

    /* a data: URL goes as it is */
    png = "data:image/png;base64,iVBORw0KGgo=";
    rc = create(t, "gen4_turbo", "{\"prompt\":\"x\",\"seconds\":5,"
                                 "\"image_url\":"
                                 "\"data:image/png;base64,iVBORw0KGgo=\"}");
    is_str(mc_json_str(at_body(t), "promptImage"), png, "data: URL");

    /* gen4_turbo has no text_to_video */
    rc = create(t, "gen4_turbo", "{\"prompt\":\"no image\",\"seconds\":5}");
    is_int(rc, MC_CALL_DONE, "no call");
    is_int(t->call.result.fail, MC_FAIL_INPUT, "text-only gen4_turbo is 400");
    is_int(t->call.result.http_status, 400, "HTTP 400");
    ok(strstr(t->call.result.fail_reason, "from an image only") != NULL,
       "says it needs an image");
    ok(t->http.url == NULL, "nothing built");

    /* veo3.1: 4, 6 or 8 seconds; 1080p picks 1920:1080 */
    rc = create(t, "veo3.1", "{\"prompt\":\"x\",\"seconds\":6,"
                             "\"size\":\"1920x1080\","
                             "\"negative_prompt\":\"blur\"}");
    is_int(rc, MC_CALL_SEND, "veo3.1 create");
    b = at_body(t);
    is_str(mc_json_str(b, "ratio"), "1920:1080", "1080p: 1920:1080");
    is_str(mc_json_str(b, "negativePrompt"), "blur", "negativePrompt");

    rc = create(t, "veo3.1", "{\"prompt\":\"x\",\"seconds\":6,"
                             "\"size\":\"1280x720\"}");
    is_str(mc_json_str(at_body(t), "ratio"), "1280:720", "720p: 1280:720");

    rc = create(t, "veo3.1", "{\"prompt\":\"x\",\"seconds\":5}");
    is_int(t->call.result.fail, MC_FAIL_INPUT, "5 s on veo3.1 is 400");
    ok(strstr(t->call.result.fail_reason, "allowed: 4, 6, 8") != NULL,
       "lists 4, 6, 8");

    rc = create(t, "veo3", "{\"prompt\":\"x\",\"seconds\":4}");
    ok(strstr(t->call.result.fail_reason, "allowed: 8") != NULL,
       "veo3 is 8 s only");

    rc = create(t, "gen4.5", "{\"prompt\":\"x\",\"seconds\":12}");
    ok(t->call.result.fail == MC_FAIL_INPUT
       && strstr(t->call.result.fail_reason, "allowed: 2 to 10") != NULL,
       "gen4.5 is 2 to 10 s");

    rc = create(t, "veo3.1", "{\"prompt\":\"x\",\"seconds\":4,\"seed\":1}");
    ok(t->call.result.fail == MC_FAIL_INPUT
       && strstr(t->call.result.fail_reason, "no seed") != NULL,
       "veo3.1 takes no seed");

    rc = create(t, "gen4.5", "{\"prompt\":\"x\",\"seconds\":4,"
                             "\"negative_prompt\":\"n\"}");
    ok(t->call.result.fail == MC_FAIL_INPUT
       && strstr(t->call.result.fail_reason, "negative_prompt") != NULL,
       "gen4.5 takes no negative prompt");

    /* happyhorse's image_to_video follows the image: no ratio */
    rc = create(t, "happyhorse_1_0", "{\"prompt\":\"x\",\"seconds\":5,"
                                     "\"image_url\":\"https://c/i.png\"}");
    ok(json_object_get(at_body(t), "ratio") == NULL,
       "no ratio where the image decides");

    /* a model not in the table: the request's own size */
    rc = create(t, "gen5_future", "{\"prompt\":\"x\",\"seconds\":7,"
                                  "\"size\":\"1280x720\",\"seed\":3}");
    is_int(rc, MC_CALL_SEND, "an unknown model is sent");
    b = at_body(t);
    is_str(mc_json_str(b, "ratio"), "1280:720", "with the request's size");
    is_int(json_integer_value(json_object_get(b, "duration")), 7,
           "and its duration");

    /* the create answer */
    at_call(t, "gen4.5");
    rc = at_reply(t, a->create_reply, 200,
                  "{\"id\":\"17f20503-6c24-4c16-946b-35dbbce2af2f\"}");
    is_int(rc, MC_CALL_DONE, "create reply done");
    is_str(t->call.result.provider_task_id,
           "17f20503-6c24-4c16-946b-35dbbce2af2f", "task id");
    ok(t->call.result.has_state, "has a state");
    is_int(t->call.result.status, MC_TASK_QUEUED, "a new task is queued");

    at_call(t, "gen4.5");
    at_reply(t, a->create_reply, 400,
             "{\"error\":\"Validation of body failed\",\"issues\":"
             "[{\"code\":\"invalid_enum_value\",\"message\":\"Invalid enum "
             "value. Expected '1280:720' | '720:1280'\",\"path\":"
             "[\"ratio\"]}]}");
    is_int(t->call.result.fail, MC_FAIL_INPUT, "400 is an input error");
    is_str(t->call.result.fail_reason,
           "Validation of body failed (ratio): Invalid enum value. Expected "
           "'1280:720' | '720:1280'", "error, path and issue");

    at_call(t, "gen4.5");
    at_reply(t, a->create_reply, 400,
             "{\"error\":\"Invalid asset aspect ratio. width / height ratio "
             "must be between 0.5 and 2.\"}");
    is_str(t->call.result.fail_reason, "Invalid asset aspect ratio. width / "
           "height ratio must be between 0.5 and 2.", "a plain error");

    at_call(t, "gen4.5");
    at_reply(t, a->create_reply, 401,
             "{\"error\":\"Invalid API key: key_0123456789abcdef\"}");
    is_int(t->call.result.fail, MC_FAIL_AUTH, "401 is the gateway's");
    ok(strstr(t->call.result.fail_reason, "key_0123") == NULL,
       "the key is not repeated");

    at_call(t, "gen4.5");
    at_reply(t, a->create_reply, 429, "{\"error\":\"Too many requests\"}");
    is_int(t->call.result.fail, MC_FAIL_RETRY, "429 is retryable");

    at_call(t, "gen4.5");
    at_reply(t, a->create_reply, 200, "{\"error\":\"You do not have enough "
                                      "credits to run this task.\"}");
    is_int(t->call.result.fail, MC_FAIL_INPUT,
           "an error under 200 is still an error");
    ok(t->call.result.provider_task_id == NULL, "and no task");

    at_call(t, "gen4.5");
    at_reply(t, a->create_reply, 200, "{}");
    is_int(t->call.result.fail, MC_FAIL_PROTOCOL, "no id: protocol error");

    at_call(t, "gen4.5");
    at_reply(t, a->create_reply, 200, "not json");
    is_int(t->call.result.fail, MC_FAIL_PROTOCOL, "not JSON: protocol error");

    /* status */
    t->task.provider_task_id = "17f20503";

    at_call(t, "gen4.5");
    rc = a->status_request(&t->call, &t->http);
    is_int(rc, MC_CALL_SEND, "status is one call");
    is_str(t->http.method, "GET", "GET");
    is_str(t->http.url, "https://api.dev.runwayml.com/v1/tasks/17f20503",
           "GET /v1/tasks/{id}");
    is_str(at_header(t, "X-Runway-Version"), "2024-11-06", "with version");

    at_reply(t, a->status_reply, 200,
             "{\"id\":\"17f20503\",\"createdAt\":\"2024-06-27T19:49:32.334Z\","
             "\"status\":\"PENDING\"}");
    is_int(t->call.result.status, MC_TASK_QUEUED, "PENDING is queued");

    at_call(t, "gen4.5");
    at_reply(t, a->status_reply, 200,
             "{\"id\":\"17f20503\",\"createdAt\":\"2024-06-27T19:49:32.334Z\","
             "\"status\":\"THROTTLED\"}");
    is_int(t->call.result.status, MC_TASK_QUEUED, "THROTTLED is queued");
    is_int(t->call.result.fail, MC_FAIL_NONE, "and no error");

    at_call(t, "gen4.5");
    at_reply(t, a->status_reply, 200,
             "{\"id\":\"17f20503\",\"createdAt\":\"2024-06-27T19:49:32.334Z\","
             "\"status\":\"RUNNING\",\"progress\":0.35}");
    is_int(t->call.result.status, MC_TASK_IN_PROGRESS, "RUNNING");
    is_int(t->call.result.progress, 35, "progress 0.35 is 35");

    at_call(t, "gen4.5");
    at_reply(t, a->status_reply, 200,
             "{\"id\":\"17f20503\",\"status\":\"RUNNING\"}");
    is_int(t->call.result.progress, -1, "no progress reported");

    at_call(t, "gen4.5");
    at_reply(t, a->status_reply, 200,
             "{\"id\":\"17f20503\",\"createdAt\":\"2024-06-27T19:49:32.334Z\","
             "\"status\":\"SUCCEEDED\",\"output\":[\"https://dnznrvs05pmza."
             "cloudfront.net/17f20503.mp4?_jwt=abc\"]}");
    is_int(t->call.result.status, MC_TASK_COMPLETED, "SUCCEEDED");
    is_str(t->call.result.video_url,
           "https://dnznrvs05pmza.cloudfront.net/17f20503.mp4?_jwt=abc",
           "output[0]");

    at_call(t, "gen4.5");
    at_reply(t, a->status_reply, 200,
             "{\"id\":\"17f20503\",\"status\":\"SUCCEEDED\",\"output\":[]}");
    is_int(t->call.result.status, MC_TASK_FAILED, "SUCCEEDED without output");
    is_str(t->call.result.error_code, "no_output", "is no_output");

    at_call(t, "gen4.5");
    at_reply(t, a->status_reply, 200,
             "{\"id\":\"17f20503\",\"status\":\"FAILED\",\"failure\":"
             "\"Input image failed content moderation\",\"failureCode\":"
             "\"SAFETY.INPUT.IMAGE\"}");
    is_int(t->call.result.status, MC_TASK_FAILED, "FAILED");
    is_str(t->call.result.error_code, "SAFETY.INPUT.IMAGE", "failureCode");
    is_str(t->call.result.error_message,
           "Input image failed content moderation", "failure");

    at_call(t, "gen4.5");
    at_reply(t, a->status_reply, 200,
             "{\"id\":\"17f20503\",\"status\":\"FAILED\",\"failure\":"
             "\"An unexpected error occurred\"}");
    is_str(t->call.result.error_code, "generation_failed",
           "FAILED without failureCode");

    at_call(t, "gen4.5");
    at_reply(t, a->status_reply, 200,
             "{\"id\":\"17f20503\",\"status\":\"CANCELLED\"}");
    is_int(t->call.result.status, MC_TASK_FAILED, "CANCELLED is failed");
    is_str(t->call.result.error_code, "canceled", "with code canceled");

    at_call(t, "gen4.5");
    at_reply(t, a->status_reply, 200,
             "{\"id\":\"17f20503\",\"status\":\"PAUSED\"}");
    is_int(t->call.result.fail, MC_FAIL_PROTOCOL, "an unknown word is an error");
    ok(!t->call.result.has_state, "and no state");

    at_call(t, "gen4.5");
    at_reply(t, a->status_reply, 404, "{\"error\":\"Not found\"}");
    is_int(t->call.result.status, MC_TASK_FAILED, "404: the task is gone");
    is_str(t->call.result.error_code, "provider_lost", "provider_lost");

    at_call(t, "gen4.5");
    at_reply(t, a->status_reply, 503, "");
    is_int(t->call.result.fail, MC_FAIL_RETRY, "503 on a poll");
    ok(!t->call.result.has_state, "keeps the stored state");

    /* cancel: read first, DELETE only a running task */
    at_call(t, "gen4.5");
    rc = a->cancel_request(&t->call, &t->http);
    is_int(rc, MC_CALL_SEND, "cancel starts");
    is_str(t->http.method, "GET", "by reading the task");
    is_str(t->http.url, "https://api.dev.runwayml.com/v1/tasks/17f20503",
           "GET /v1/tasks/{id}");

    rc = at_reply(t, a->cancel_reply, 200,
                  "{\"id\":\"17f20503\",\"status\":\"RUNNING\","
                  "\"progress\":0.5}");
    is_int(rc, MC_CALL_SEND, "running: a second call");
    is_str(t->http.method, "DELETE", "DELETE");
    is_str(t->http.url, "https://api.dev.runwayml.com/v1/tasks/17f20503",
           "DELETE /v1/tasks/{id}");
    is_str(at_header(t, "Authorization"), "Bearer key_0123456789abcdef",
           "with the key");
    is_str(at_header(t, "X-Runway-Version"), "2024-11-06", "and version");
    ok(t->http.body == NULL, "no body");
    ok(!t->call.result.has_state, "no state yet");

    rc = at_reply(t, a->cancel_reply, 204, NULL);
    is_int(rc, MC_CALL_DONE, "204 ends it");
    is_int(t->call.result.status, MC_TASK_FAILED, "canceled task");
    is_str(t->call.result.error_code, "canceled", "code canceled");

    at_call(t, "gen4.5");
    a->cancel_request(&t->call, &t->http);
    rc = at_reply(t, a->cancel_reply, 200,
                  "{\"id\":\"17f20503\",\"status\":\"SUCCEEDED\","
                  "\"output\":[\"https://cdn.runway/v.mp4\"]}");
    is_int(rc, MC_CALL_DONE, "finished meanwhile: no DELETE");
    is_int(t->call.result.status, MC_TASK_COMPLETED, "it is completed");
    is_str(t->call.result.video_url, "https://cdn.runway/v.mp4",
           "with its video");

    at_call(t, "gen4.5");
    a->cancel_request(&t->call, &t->http);
    at_reply(t, a->cancel_reply, 200,
             "{\"id\":\"17f20503\",\"status\":\"THROTTLED\"}");
    rc = at_reply(t, a->cancel_reply, 500, "");
    is_int(t->call.result.fail, MC_FAIL_RETRY, "a DELETE that fails fails");

    at_free(t);

    /* version= */
    t = at_provider("rw adapter=runway url=https://api.dev.runwayml.com "
                    "key_env=RW_KEY version=2025-09-01");
    ok(t->provider != NULL, "version= accepted");
    create(t, "gen4.5", "{\"prompt\":\"x\",\"seconds\":5}");
    is_str(at_header(t, "X-Runway-Version"), "2025-09-01",
           "version= overrides the header");
    at_free(t);

    return done_testing();
}
