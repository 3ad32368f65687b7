
/*
 * The replicate adapter's build and parse functions on the payloads of
 * Replicate's HTTP API and its official JavaScript client: the two create
 * paths, input names from params, prediction states, output as a string
 * or an array, progress from logs, problem+json errors and cancel.
 */

#include "adapter_test.h"


#define VERSION \
    "5c7d5dc6dd8bf75c1acaa8565735e7986bc5b66206b55cca93cb72c9bf15ccaa"


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
    json_t              *b, *in;
    at_t                *t, *bad;
    const mc_adapter_t  *a;

    setenv("REP_TOKEN", "r8_secret_token", 1);

    t = at_provider("rep adapter=replicate url=https://api.replicate.com/v1 "
                    "key_env=REP_TOKEN");
    ok(t->provider != NULL, "provider from directive arguments");
    a = t->provider->adapter;

    ok((a->features & MC_FEAT_IMAGE) == MC_FEAT_IMAGE,
       "images as URL and data");
    ok(a->features & MC_FEAT_SEED, "seed");
    ok(a->features & MC_FEAT_NEGATIVE, "negative prompt");
    ok(a->features & MC_FEAT_CANCEL, "cancel");
    ok(a->content_request == NULL, "output URLs need no credentials");

    bad = at_provider("rep adapter=replicate url=https://r/v1");
    ok(bad->provider == NULL, "no token: refused at nginx -t");
    at_free(bad);

    bad = at_provider("rep adapter=replicate url=https://r/v1 "
                      "key_env=REP_TOKEN image_field=first-frame");
    ok(bad->provider == NULL, "an input name that is no identifier");
    at_free(bad);

    bad = at_provider("rep adapter=replicate url=https://r/v1 "
                      "key_env=REP_TOKEN prompt_field=-");
    ok(bad->provider == NULL, "a model without a prompt is refused");
    at_free(bad);

    /* owner/name: the model's latest version */
    rc = create(t, "minimax/video-01",
                "{\"prompt\":\"a cat surfing\",\"seconds\":6,"
                "\"size\":\"1280x720\",\"seed\":7,"
                "\"negative_prompt\":\"blurry\"}");
    is_int(rc, MC_CALL_SEND, "create is one call");
    is_str(t->http.method, "POST", "POST");
    is_str(t->http.url,
           "https://api.replicate.com/v1/models/minimax/video-01/predictions",
           "POST /models/{owner}/{name}/predictions");
    is_str(at_header(t, "Authorization"), "Bearer r8_secret_token", "Bearer");
    is_str(at_header(t, "Content-Type"), "application/json", "JSON");
    ok(at_header(t, "Prefer") == NULL, "no Prefer: asynchronous");

    b = at_body(t);
    is_int(json_object_size(b), 1, "only input");
    in = json_object_get(b, "input");
    is_str(mc_json_str(in, "prompt"), "a cat surfing", "input.prompt");
    ok(json_is_integer(json_object_get(in, "duration")), "duration integer");
    is_int(json_integer_value(json_object_get(in, "duration")), 6,
           "input.duration");
    is_str(mc_json_str(in, "aspect_ratio"), "16:9", "input.aspect_ratio");
    is_int(json_integer_value(json_object_get(in, "seed")), 7, "input.seed");
    is_str(mc_json_str(in, "negative_prompt"), "blurry",
           "input.negative_prompt");
    ok(json_object_get(in, "resolution") == NULL, "no resolution by default");
    is_int(json_object_size(in), 5, "nothing else");

    /* owner/name:version goes to /predictions with the version */
    rc = create(t, "acme/vid:" VERSION,
                "{\"prompt\":\"x\",\"seconds\":5,\"image_url\":"
                "\"https://cdn.example.com/i.png\"}");
    is_int(rc, MC_CALL_SEND, "versioned create");
    is_str(t->http.url, "https://api.replicate.com/v1/predictions",
           "POST /predictions");
    b = at_body(t);
    is_str(mc_json_str(b, "version"), VERSION, "version, the id alone");
    is_str(mc_json_path_str(b, "input.image"),
           "https://cdn.example.com/i.png", "input.image");

    /* a bare version id too */
    rc = create(t, VERSION, "{\"prompt\":\"x\",\"seconds\":5}");
    is_str(t->http.url, "https://api.replicate.com/v1/predictions",
           "a bare version id");
    is_str(mc_json_str(at_body(t), "version"), VERSION, "its version");

    /* data: URLs go inline */
    rc = create(t, "minimax/video-01",
                "{\"prompt\":\"x\",\"seconds\":5,\"image_url\":"
                "\"data:image/png;base64,iVBORw0KGgo=\"}");
    is_str(mc_json_path_str(at_body(t), "input.image"),
           "data:image/png;base64,iVBORw0KGgo=", "a data: URL");

    /* model ids that are none of the three */
    rc = create(t, "just-a-name", "{\"prompt\":\"x\",\"seconds\":5}");
    is_int(rc, MC_CALL_DONE, "a bad model id: no call");
    is_int(t->call.result.fail, MC_FAIL_PROTOCOL,
           "the operator's mistake, not the client's");

    rc = create(t, "a/b/c", "{\"prompt\":\"x\",\"seconds\":5}");
    is_int(t->call.result.fail, MC_FAIL_PROTOCOL, "owner/name/extra");

    rc = create(t, "a/b?x=1", "{\"prompt\":\"x\",\"seconds\":5}");
    is_int(t->call.result.fail, MC_FAIL_PROTOCOL, "no query in the path");

    /* the create answer */
    at_call(t, "minimax/video-01");
    rc = at_reply(t, a->create_reply, 201,
                  "{\"id\":\"gm3qorzdhgbfurvjtvhg6dckhu\",\"model\":"
                  "\"minimax/video-01\",\"version\":\"dp-4d0ba2\",\"input\":"
                  "{\"prompt\":\"x\"},\"logs\":\"\",\"output\":null,"
                  "\"data_removed\":false,\"error\":null,\"status\":"
                  "\"starting\",\"created_at\":\"2024-12-10T12:00:00.1Z\","
                  "\"urls\":{\"cancel\":\"https://api.replicate.com/v1/"
                  "predictions/gm3qorzdhgbfurvjtvhg6dckhu/cancel\",\"get\":"
                  "\"https://api.replicate.com/v1/predictions/"
                  "gm3qorzdhgbfurvjtvhg6dckhu\"}}");
    is_int(rc, MC_CALL_DONE, "create reply done");
    is_str(t->call.result.provider_task_id, "gm3qorzdhgbfurvjtvhg6dckhu",
           "id");
    is_int(t->call.result.status, MC_TASK_QUEUED, "starting is queued");

    at_call(t, "minimax/video-01");
    at_reply(t, a->create_reply, 422,
             "{\"detail\":\"- input.duration: Must be one of: 6, 10\\n\","
             "\"status\":422,\"title\":\"Input validation failed\","
             "\"invalid_fields\":[{\"type\":\"enum\",\"field\":"
             "\"input.duration\",\"description\":\"Must be one of: 6, 10\"}]}");
    is_int(t->call.result.fail, MC_FAIL_INPUT, "422 is an input error");
    ok(strstr(t->call.result.fail_reason,
              "input.duration: Must be one of: 6, 10") != NULL,
       "with the detail");

    at_call(t, "minimax/video-01");
    at_reply(t, a->create_reply, 404,
             "{\"title\":\"Not found\",\"detail\":\"The requested resource "
             "could not be found.\",\"status\":404}");
    is_int(t->call.result.fail, MC_FAIL_INPUT, "an unknown model is a 404");

    at_call(t, "minimax/video-01");
    at_reply(t, a->create_reply, 401,
             "{\"title\":\"Unauthenticated\",\"detail\":\"You did not pass a "
             "valid authentication token\",\"status\":401}");
    is_int(t->call.result.fail, MC_FAIL_AUTH, "401 is the gateway's");
    ok(strstr(t->call.result.fail_reason, "r8_") == NULL, "no token");

    at_call(t, "minimax/video-01");
    at_reply(t, a->create_reply, 429,
             "{\"detail\":\"Request was throttled. Your rate limit resets in "
             "~30s.\",\"status\":429}");
    is_int(t->call.result.fail, MC_FAIL_RETRY, "429 is retryable");

    at_call(t, "minimax/video-01");
    at_reply(t, a->create_reply, 200,
             "{\"title\":\"Insufficient credit\",\"detail\":\"You have "
             "insufficient credit to run this model.\",\"status\":402}");
    is_int(t->call.result.fail, MC_FAIL_INPUT, "a problem under 200");
    is_str(t->call.result.fail_reason,
           "You have insufficient credit to run this model.", "its detail");

    /* status */
    t->task.provider_task_id = "gm3qorzdhgbfurvjtvhg6dckhu";

    at_call(t, "minimax/video-01");
    rc = a->status_request(&t->call, &t->http);
    is_int(rc, MC_CALL_SEND, "status is one call");
    is_str(t->http.method, "GET", "GET");
    is_str(t->http.url, "https://api.replicate.com/v1/predictions/"
                        "gm3qorzdhgbfurvjtvhg6dckhu", "GET /predictions/{id}");

    at_reply(t, a->status_reply, 200,
             "{\"id\":\"gm3q\",\"status\":\"processing\",\"logs\":"
             "\"Loading model\\n 10%|#         | 5/50 [00:01<00:09]\\n"
             " 44%|####4     | 22/50 [00:04<00:05]\\n\"}");
    is_int(t->call.result.status, MC_TASK_IN_PROGRESS, "processing");
    is_int(t->call.result.progress, 44, "the last progress line");

    at_call(t, "minimax/video-01");
    at_reply(t, a->status_reply, 200,
             "{\"id\":\"gm3q\",\"status\":\"processing\",\"logs\":"
             "\"  7%|\\u258b         | 7/100 [00:01<00:20]\\r"
             " 12%|\\u2588\\u258f        | 12/100 [00:02<00:19]\"}");
    is_int(t->call.result.progress, 12, "tqdm's carriage returns");

    at_call(t, "minimax/video-01");
    at_reply(t, a->status_reply, 200,
             "{\"id\":\"gm3q\",\"status\":\"processing\",\"logs\":"
             "\"Generating video... 50% done\\n\"}");
    is_int(t->call.result.progress, -1, "no bar, no progress");

    at_call(t, "minimax/video-01");
    at_reply(t, a->status_reply, 200,
             "{\"id\":\"gm3q\",\"status\":\"succeeded\",\"output\":"
             "\"https://replicate.delivery/xezq/abc/tmp.mp4\",\"error\":null,"
             "\"metrics\":{\"predict_time\":180.2}}");
    is_int(t->call.result.status, MC_TASK_COMPLETED, "succeeded");
    is_str(t->call.result.video_url,
           "https://replicate.delivery/xezq/abc/tmp.mp4", "output string");

    at_call(t, "minimax/video-01");
    at_reply(t, a->status_reply, 200,
             "{\"id\":\"gm3q\",\"status\":\"succeeded\",\"output\":"
             "[\"https://replicate.delivery/a.mp4\","
             "\"https://replicate.delivery/b.mp4\"]}");
    is_str(t->call.result.video_url, "https://replicate.delivery/a.mp4",
           "output array: the first");

    at_call(t, "minimax/video-01");
    at_reply(t, a->status_reply, 200,
             "{\"id\":\"gm3q\",\"status\":\"succeeded\",\"output\":null}");
    is_str(t->call.result.error_code, "no_output", "succeeded, no output");

    at_call(t, "minimax/video-01");
    at_reply(t, a->status_reply, 200,
             "{\"id\":\"gm3q\",\"status\":\"failed\",\"error\":"
             "\"CUDA out of memory\",\"output\":null}");
    is_int(t->call.result.status, MC_TASK_FAILED, "failed");
    is_str(t->call.result.error_code, "generation_failed", "code");
    is_str(t->call.result.error_message, "CUDA out of memory", "error");

    at_call(t, "minimax/video-01");
    at_reply(t, a->status_reply, 200,
             "{\"id\":\"gm3q\",\"status\":\"canceled\"}");
    is_int(t->call.result.status, MC_TASK_FAILED, "canceled is failed");
    is_str(t->call.result.error_code, "canceled", "code canceled");

    at_call(t, "minimax/video-01");
    at_reply(t, a->status_reply, 200,
             "{\"id\":\"gm3q\",\"status\":\"aborted\"}");
    is_int(t->call.result.status, MC_TASK_FAILED, "aborted is failed");
    is_str(t->call.result.error_code, "canceled", "code canceled");

    at_call(t, "minimax/video-01");
    at_reply(t, a->status_reply, 200,
             "{\"id\":\"gm3q\",\"status\":\"queued\"}");
    is_int(t->call.result.fail, MC_FAIL_PROTOCOL, "an unknown word");

    at_call(t, "minimax/video-01");
    at_reply(t, a->status_reply, 404,
             "{\"title\":\"Not found\",\"status\":404}");
    is_str(t->call.result.error_code, "provider_lost", "404: lost");

    /* cancel */
    at_call(t, "minimax/video-01");
    rc = a->cancel_request(&t->call, &t->http);
    is_int(rc, MC_CALL_SEND, "cancel is one call");
    is_str(t->http.method, "POST", "POST");
    is_str(t->http.url, "https://api.replicate.com/v1/predictions/"
                        "gm3qorzdhgbfurvjtvhg6dckhu/cancel",
           "POST /predictions/{id}/cancel");
    ok(t->http.body == NULL, "no body");
    is_str(at_header(t, "Authorization"), "Bearer r8_secret_token", "Bearer");

    rc = at_reply(t, a->cancel_reply, 200,
                  "{\"id\":\"gm3q\",\"status\":\"canceled\"}");
    is_int(rc, MC_CALL_DONE, "done");
    is_str(t->call.result.error_code, "canceled", "canceled");

    at_call(t, "minimax/video-01");
    a->cancel_request(&t->call, &t->http);
    at_reply(t, a->cancel_reply, 200,
             "{\"id\":\"gm3q\",\"status\":\"processing\"}");
    is_str(t->call.result.error_code, "canceled",
           "accepted while processing: canceled");

    at_call(t, "minimax/video-01");
    a->cancel_request(&t->call, &t->http);
    at_reply(t, a->cancel_reply, 200,
             "{\"id\":\"gm3q\",\"status\":\"succeeded\",\"output\":"
             "\"https://replicate.delivery/done.mp4\"}");
    is_int(t->call.result.status, MC_TASK_COMPLETED,
           "finished before the cancel: completed");

    at_free(t);

    /* the input names come from params */
    t = at_provider("rep adapter=replicate url=https://api.replicate.com/v1 "
                    "key_env=REP_TOKEN image_field=first_frame_image "
                    "duration_field=length aspect_field=- seed_field=- "
                    "resolution_field=resolution");
    ok(t->provider != NULL, "params");

    rc = create(t, "minimax/hailuo-02",
                "{\"prompt\":\"x\",\"seconds\":6,\"size\":\"1920x1080\","
                "\"image_url\":\"https://c/i.png\"}");
    in = json_object_get(at_body(t), "input");
    is_str(mc_json_str(in, "first_frame_image"), "https://c/i.png",
           "image_field=");
    is_int(json_integer_value(json_object_get(in, "length")), 6,
           "duration_field=");
    is_str(mc_json_str(in, "resolution"), "1080p", "resolution_field=");
    ok(json_object_get(in, "aspect_ratio") == NULL, "aspect_field=-");
    is_int(json_object_size(in), 4, "nothing else");

    rc = create(t, "minimax/hailuo-02",
                "{\"prompt\":\"x\",\"seconds\":6,\"seed\":1}");
    is_int(t->call.result.fail, MC_FAIL_INPUT, "seed_field=-: a seed is 400");
    ok(strstr(t->call.result.fail_reason, "no seed") != NULL, "says so");

    at_free(t);

    return done_testing();
}
