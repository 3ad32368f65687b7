
/*
 * The fal adapter's build and parse functions on the payloads of fal's
 * queue documentation and clients: the endpoint id as the path, the
 * endpoint's own input, the URLs of the submit answer kept and used as
 * given, the three queue words, the result fetched after COMPLETED, the
 * two ways a COMPLETED can be a failure, and cancel.
 */

#include "adapter_test.h"


#define KLING  "fal-ai/kling-video/v2.1/master/text-to-video"

#define SUBMIT                                                               \
    "{\"status\":\"IN_QUEUE\","                                              \
    "\"request_id\":\"764cabcf-b745-4b3e-ae38-1200304cf45b\","               \
    "\"response_url\":\"https://queue.fal.run/fal-ai/kling-video/requests/"  \
        "764cabcf-b745-4b3e-ae38-1200304cf45b\","                            \
    "\"status_url\":\"https://queue.fal.run/fal-ai/kling-video/requests/"    \
        "764cabcf-b745-4b3e-ae38-1200304cf45b/status\","                     \
    "\"cancel_url\":\"https://queue.fal.run/fal-ai/kling-video/requests/"    \
        "764cabcf-b745-4b3e-ae38-1200304cf45b/cancel\","                     \
    "\"queue_position\":0}"

#define REQ_URL                                                              \
    "https://queue.fal.run/fal-ai/kling-video/requests/"                     \
    "764cabcf-b745-4b3e-ae38-1200304cf45b"


static int
create(at_t *t, const char *model, const char *json)
{
    if (at_request(t, json) != MC_OK) {
        return -100;
    }

    at_call(t, model);

    return t->provider->adapter->create_request(&t->call, &t->http);
}


static at_t *
refused(const char *args)
{
    at_t  *t;

    t = at_provider(args);
    if (t->provider == NULL) {
        at_free(t);
        return NULL;
    }

    return t;
}


int
main(void)
{
    int                  rc;
    json_t              *b, *d;
    at_t                *t, *t2;
    const char          *png;
    const mc_adapter_t  *a;

    setenv("FAL_KEY_T", "fal-key-0123:secret", 1);

    t = at_provider("fal adapter=fal url=https://queue.fal.run "
                    "key_env=FAL_KEY_T");
    ok(t->provider != NULL, "provider from directive arguments");
    a = t->provider->adapter;

    ok((a->features & MC_FEAT_IMAGE) == MC_FEAT_IMAGE,
       "takes image URLs and data: URLs");
    ok(a->features & MC_FEAT_SEED, "takes a seed");
    ok(a->features & MC_FEAT_NEGATIVE, "takes a negative prompt");
    ok(a->features & MC_FEAT_CANCEL, "can cancel");
    ok(a->content_request == NULL, "fal's media URLs need no credentials");

    /* configuration checked at nginx -t */
    ok(refused("fal adapter=fal url=https://queue.fal.run") == NULL,
       "no key: refused");
    ok(refused("fal adapter=fal url=https://queue.fal.run key_env=FAL_KEY_T "
               "duration_format=ms") == NULL, "a bad duration_format");
    ok(refused("fal adapter=fal url=https://queue.fal.run key_env=FAL_KEY_T "
               "aspect_ratios=16:9,wide") == NULL, "a bad aspect ratio");
    ok(refused("fal adapter=fal url=https://queue.fal.run key_env=FAL_KEY_T "
               "priority=high") == NULL, "a bad priority");
    ok(refused("fal adapter=fal url=https://queue.fal.run key_env=FAL_KEY_T "
               "seed=maybe") == NULL, "seed= is on or off");
    ok(refused("fal adapter=fal url=https://queue.fal.run key_env=FAL_KEY_T "
               "cfg_scale=0.5") == NULL, "an unknown param");

    /* text to video, Kling's input on fal */
    rc = create(t, KLING, "{\"prompt\":\"a red fox\",\"seconds\":5,"
                "\"size\":\"1280x720\",\"negative_prompt\":\"blur\"}");
    is_int(rc, MC_CALL_SEND, "submit is one call");
    is_str(t->http.method, "POST", "POST");
    is_str(t->http.url, "https://queue.fal.run/" KLING,
           "to queue.fal.run/{endpoint_id}, sub-path and all");
    is_str(at_header(t, "Authorization"), "Key fal-key-0123:secret",
           "Authorization: Key, not Bearer");
    is_str(at_header(t, "Accept"), "application/json", "Accept: JSON");
    is_str(at_header(t, "x-fal-queue-priority"), "normal",
           "the priority the client sends");
    is_str(at_header(t, "Content-Type"), "application/json", "a JSON body");

    b = at_body(t);
    is_int(json_object_size(b), 4, "the input, no wrapper, four fields");
    is_str(mc_json_str(b, "prompt"), "a red fox", "prompt");
    ok(json_is_string(json_object_get(b, "duration")), "duration a string");
    is_str(mc_json_str(b, "duration"), "5", "duration \"5\"");
    is_str(mc_json_str(b, "aspect_ratio"), "16:9", "aspect_ratio");
    is_str(mc_json_str(b, "negative_prompt"), "blur", "negative_prompt");
    ok(json_object_get(b, "seed") == NULL, "no seed unless asked");

    /* seed as an integer */
    rc = create(t, KLING, "{\"prompt\":\"x\",\"seed\":42}");
    b = at_body(t);
    ok(json_is_integer(json_object_get(b, "seed")), "seed an integer");
    is_int(json_integer_value(json_object_get(b, "seed")), 42, "seed 42");

    /* an image as a data: URL; no shape asked: no aspect_ratio */
    png = "data:image/png;base64,iVBORw0KGgo=";
    rc = create(t, "fal-ai/kling-video/v2.1/master/image-to-video",
                "{\"prompt\":\"move\",\"image_url\":"
                "\"data:image/png;base64,iVBORw0KGgo=\"}");
    is_int(rc, MC_CALL_SEND, "image submit");
    b = at_body(t);
    is_str(mc_json_str(b, "image_url"), png, "image_url as given");
    ok(json_object_get(b, "aspect_ratio") == NULL,
       "an image job takes the image's shape");

    rc = create(t, "fal-ai/veo3/image-to-video",
                "{\"prompt\":\"move\",\"aspect_ratio\":\"9:16\","
                "\"image_url\":\"https://example.com/a.png\"}");
    b = at_body(t);
    is_str(mc_json_str(b, "aspect_ratio"), "9:16",
           "unless the client asked for one");
    is_str(mc_json_str(b, "image_url"), "https://example.com/a.png",
           "an https image URL");

    /* Veo on fal: "8s", a fixed ratio list, resolution */
    t2 = at_provider("fal2 adapter=fal url=https://queue.fal.run "
                     "key_env=FAL_KEY_T duration_format=seconds_suffix "
                     "aspect_ratios=16:9,9:16 resolution=on priority=low "
                     "negative_prompt=off seed=off");
    ok(t2->provider != NULL, "a second provider with params");

    rc = create(t2, "fal-ai/veo3", "{\"prompt\":\"x\",\"seconds\":8,"
                "\"size\":\"1920x1080\"}");
    is_int(rc, MC_CALL_SEND, "veo submit");
    b = at_body(t2);
    is_str(mc_json_str(b, "duration"), "8s", "duration \"8s\"");
    is_str(mc_json_str(b, "aspect_ratio"), "16:9", "aspect_ratio");
    is_str(mc_json_str(b, "resolution"), "1080p", "resolution from the size");
    is_str(at_header(t2, "x-fal-queue-priority"), "low", "priority=low");

    rc = create(t2, "fal-ai/veo3", "{\"prompt\":\"x\","
                "\"size\":\"1200x1920\"}");
    b = at_body(t2);
    is_str(mc_json_str(b, "aspect_ratio"), "9:16",
           "10:16 snapped to the nearest listed ratio");

    rc = create(t2, "fal-ai/veo3", "{\"prompt\":\"x\",\"seed\":1}");
    is_int(rc, MC_CALL_DONE, "seed=off: not sent");
    is_int(t2->call.result.fail, MC_FAIL_INPUT, "the client's input");
    is_str(t2->call.result.fail_reason,
           "the fal endpoint fal-ai/veo3 takes no seed", "and says why");

    rc = create(t2, "fal-ai/veo3", "{\"prompt\":\"x\","
                "\"negative_prompt\":\"blur\"}");
    is_int(t2->call.result.fail, MC_FAIL_INPUT,
           "negative_prompt=off: refused");

    rc = create(t2, "fal-ai/../admin", "{\"prompt\":\"x\"}");
    is_int(t2->call.result.fail, MC_FAIL_PROTOCOL,
           "an endpoint id that climbs out is not sent");
    at_free(t2);

    t2 = at_provider("fal3 adapter=fal url=https://queue.fal.run "
                     "key_env=FAL_KEY_T duration_format=none "
                     "aspect_ratios=none");
    rc = create(t2, "fal-ai/minimax/video-01", "{\"prompt\":\"x\"}");
    b = at_body(t2);
    is_int(json_object_size(b), 1, "duration_format=none, aspect none: "
           "the prompt alone");
    at_free(t2);

    /* the submit answer */
    rc = create(t, KLING, "{\"prompt\":\"x\"}");
    rc = at_reply(t, a->create_reply, 200, SUBMIT);
    is_int(rc, MC_CALL_DONE, "submit answered");
    is_int(t->call.result.fail, MC_FAIL_NONE, "accepted");
    is_str(t->call.result.provider_task_id,
           "764cabcf-b745-4b3e-ae38-1200304cf45b", "request_id");
    is_int(t->call.result.status, MC_TASK_QUEUED, "IN_QUEUE is queued");

    d = json_loads(t->call.result.provider_data, 0, NULL);
    ok(d != NULL, "provider_data is JSON");
    is_str(mc_json_str(d, "status_url"), REQ_URL "/status",
           "status_url kept as given");
    is_str(mc_json_str(d, "response_url"), REQ_URL, "response_url kept");
    is_str(mc_json_str(d, "cancel_url"), REQ_URL "/cancel",
           "cancel_url kept");
    json_decref(d);

    at_call(t, KLING);
    at_reply(t, a->create_reply, 200,
             "{\"request_id\":\"r1\",\"status_url\":\"https://evil.example/"
             "s\",\"response_url\":\"https://queue.fal.run/a/b/requests/r1\","
             "\"cancel_url\":\"https://queue.fal.run/a/b/requests/r1/c\"}");
    is_int(t->call.result.fail, MC_FAIL_PROTOCOL,
           "a URL off the provider's host is refused");

    at_call(t, KLING);
    at_reply(t, a->create_reply, 200,
             "{\"status_url\":\"https://queue.fal.run/a/b/requests/r1/s\"}");
    is_int(t->call.result.fail, MC_FAIL_PROTOCOL, "no request_id");

    at_call(t, KLING);
    at_reply(t, a->create_reply, 422,
             "{\"detail\":[{\"loc\":[\"body\",\"duration\"],"
             "\"msg\":\"unexpected value; permitted: '5', '10'\","
             "\"type\":\"value_error.const\"}]}");
    is_int(t->call.result.fail, MC_FAIL_INPUT, "422 is the client's input");
    is_str(t->call.result.fail_reason,
           "duration: unexpected value; permitted: '5', '10'",
           "with fal's field and message");

    at_call(t, KLING);
    at_reply(t, a->create_reply, 400, "{\"detail\":\"Invalid input\"}");
    is_str(t->call.result.fail_reason, "Invalid input", "a detail string");

    at_call(t, KLING);
    at_reply(t, a->create_reply, 401,
             "{\"detail\":\"Invalid key fal-key-0123:secret\"}");
    is_int(t->call.result.fail, MC_FAIL_AUTH, "401 is the gateway's");
    ok(strstr(t->call.result.fail_reason, "fal-key") == NULL,
       "the key is not repeated");

    at_call(t, KLING);
    at_reply(t, a->create_reply, 200, "not json");
    is_int(t->call.result.fail, MC_FAIL_PROTOCOL, "not JSON");

    /* status: the stored status_url, as is */
    t->task.provider_task_id = "764cabcf-b745-4b3e-ae38-1200304cf45b";
    t->task.provider_data = "{\"request_id\":\"764cabcf\","
                            "\"status_url\":\"" REQ_URL "/status\","
                            "\"response_url\":\"" REQ_URL "\","
                            "\"cancel_url\":\"" REQ_URL "/cancel\"}";

    at_call(t, KLING);
    rc = a->status_request(&t->call, &t->http);
    is_int(rc, MC_CALL_SEND, "status is a call");
    is_str(t->http.method, "GET", "GET");
    is_str(t->http.url, REQ_URL "/status",
           "the status_url, sub-path dropped as fal gave it");
    is_str(at_header(t, "Authorization"), "Key fal-key-0123:secret",
           "with the key");
    ok(t->http.body == NULL, "no body");

    at_reply(t, a->status_reply, 200,
             "{\"status\":\"IN_QUEUE\",\"queue_position\":3,"
             "\"response_url\":\"" REQ_URL "\"}");
    is_int(t->call.result.status, MC_TASK_QUEUED, "IN_QUEUE");

    at_call(t, KLING);
    rc = at_reply(t, a->status_reply, 200,
                  "{\"status\":\"IN_PROGRESS\",\"logs\":null,"
                  "\"response_url\":\"" REQ_URL "\"}");
    is_int(rc, MC_CALL_DONE, "IN_PROGRESS ends the poll");
    is_int(t->call.result.status, MC_TASK_IN_PROGRESS, "in_progress");

    at_call(t, KLING);
    rc = at_reply(t, a->status_reply, 200,
                  "{\"status\":\"COMPLETED\",\"logs\":null,"
                  "\"metrics\":{\"inference_time\":41.2},"
                  "\"response_url\":\"" REQ_URL "\"}");
    is_int(rc, MC_CALL_SEND, "COMPLETED: the result is fetched next");
    ok(!t->call.result.has_state, "no state before the result");
    is_str(t->http.method, "GET", "GET");
    is_str(t->http.url, REQ_URL, "the response_url");
    is_str(at_header(t, "Authorization"), "Key fal-key-0123:secret",
           "with the key");

    rc = at_reply(t, a->status_reply, 200,
                  "{\"video\":{\"url\":\"https://v3.fal.media/files/rabbit/"
                  "out.mp4\",\"content_type\":\"video/mp4\","
                  "\"file_name\":\"out.mp4\",\"file_size\":3149129}}");
    is_int(rc, MC_CALL_DONE, "the result ends the poll");
    is_int(t->call.result.status, MC_TASK_COMPLETED, "completed");
    is_int(t->call.result.progress, 100, "at 100");
    is_str(t->call.result.video_url,
           "https://v3.fal.media/files/rabbit/out.mp4", "video.url");

    /* a COMPLETED that failed: in the result */
    at_call(t, KLING);
    at_reply(t, a->status_reply, 200, "{\"status\":\"COMPLETED\"}");
    at_reply(t, a->status_reply, 422,
             "{\"detail\":[{\"loc\":[\"body\",\"prompt\"],"
             "\"msg\":\"The content could not be processed because it "
             "contained material flagged by a content checker.\","
             "\"type\":\"content_policy_violation\"}]}");
    is_int(t->call.result.fail, MC_FAIL_NONE, "the poll itself worked");
    is_int(t->call.result.status, MC_TASK_FAILED, "the task failed");
    is_str(t->call.result.error_code, "content_policy_violation",
           "code from the detail's type");
    ok(strstr(t->call.result.error_message, "content checker") != NULL,
       "message from the detail");

    /* ... or in the status */
    at_call(t, KLING);
    rc = at_reply(t, a->status_reply, 200,
                  "{\"status\":\"COMPLETED\",\"error\":\"Request timed out\","
                  "\"error_type\":\"request_timeout\"}");
    is_int(rc, MC_CALL_DONE, "an error in the status: no result fetched");
    is_int(t->call.result.status, MC_TASK_FAILED, "failed");
    is_str(t->call.result.error_code, "request_timeout", "error_type");
    is_str(t->call.result.error_message, "Request timed out", "error");

    at_call(t, KLING);
    at_reply(t, a->status_reply, 200, "{\"status\":\"COMPLETED\"}");
    at_reply(t, a->status_reply, 200, "{\"images\":[]}");
    is_int(t->call.result.status, MC_TASK_FAILED, "a result without video");
    is_str(t->call.result.error_code, "no_video", "no_video");

    at_call(t, KLING);
    at_reply(t, a->status_reply, 200, "{\"status\":\"PAUSED\"}");
    is_int(t->call.result.fail, MC_FAIL_PROTOCOL, "an unknown word");

    at_call(t, KLING);
    at_reply(t, a->status_reply, 404, "{\"detail\":\"Request not found\"}");
    is_int(t->call.result.status, MC_TASK_FAILED, "404: failed");
    is_str(t->call.result.error_code, "provider_lost", "provider_lost");

    at_call(t, KLING);
    at_reply(t, a->status_reply, 502, "");
    is_int(t->call.result.fail, MC_FAIL_RETRY, "502 is a failed poll");

    t->task.provider_data = "{\"status_url\":\"https://elsewhere/s\"}";
    at_call(t, KLING);
    rc = a->status_request(&t->call, &t->http);
    is_int(rc, MC_CALL_DONE, "a stored URL off the host is not called");
    is_int(t->call.result.fail, MC_FAIL_PROTOCOL, "protocol");

    t->task.provider_data = NULL;
    at_call(t, KLING);
    rc = a->status_request(&t->call, &t->http);
    is_int(t->call.result.fail, MC_FAIL_PROTOCOL, "no provider_data");

    /* cancel */
    t->task.provider_data = "{\"request_id\":\"764cabcf\","
                            "\"status_url\":\"" REQ_URL "/status\","
                            "\"response_url\":\"" REQ_URL "\","
                            "\"cancel_url\":\"" REQ_URL "/cancel\"}";

    at_call(t, KLING);
    rc = a->cancel_request(&t->call, &t->http);
    is_int(rc, MC_CALL_SEND, "cancel is a call");
    is_str(t->http.method, "PUT", "PUT");
    is_str(t->http.url, REQ_URL "/cancel", "the cancel_url");
    ok(t->http.body == NULL, "no body");

    rc = at_reply(t, a->cancel_reply, 202,
                  "{\"status\":\"CANCELLATION_REQUESTED\"}");
    is_int(rc, MC_CALL_DONE, "accepted");
    is_int(t->call.result.fail, MC_FAIL_NONE, "no failure");
    is_str(t->call.result.error_code, "canceled", "canceled");

    at_call(t, KLING);
    rc = at_reply(t, a->cancel_reply, 400,
                  "{\"status\":\"ALREADY_COMPLETED\"}");
    is_int(rc, MC_CALL_SEND, "already completed: its result is read");
    is_str(t->http.url, REQ_URL, "at the response_url");
    rc = at_reply(t, a->cancel_reply, 200,
                  "{\"video\":{\"url\":\"https://v3.fal.media/x.mp4\"}}");
    is_int(t->call.result.status, MC_TASK_COMPLETED,
           "a finished video is kept");
    is_str(t->call.result.video_url, "https://v3.fal.media/x.mp4", "its URL");

    at_call(t, KLING);
    at_reply(t, a->cancel_reply, 404, "{\"status\":\"NOT_FOUND\"}");
    is_str(t->call.result.error_code, "canceled",
           "NOT_FOUND: nothing runs, canceled");

    at_call(t, KLING);
    at_reply(t, a->cancel_reply, 409, "{\"detail\":\"conflict\"}");
    is_int(t->call.result.fail, MC_FAIL_PROTOCOL, "any other refusal fails");

    at_free(t);
    return done_testing();
}
