
/*
 * The google adapter's build and parse functions on the Gemini API's
 * documented payloads (Veo through predictLongRunning and operations).
 */

#include "adapter_test.h"


#define VEO_URL  "https://generativelanguage.googleapis.com/v1beta"
#define OP_NAME  "models/veo-3.1-generate-preview/operations/abc123"


int
main(void)
{
    int                  rc;
    json_t              *b;
    at_t                *t, *t2;
    const mc_adapter_t  *a;

    setenv("GEMINI_KEY", "AIzaTestKey123", 1);

    t = at_provider("veo adapter=google url=" VEO_URL "/ "
                    "key_env=GEMINI_KEY person_generation=allow_adult");
    ok(t->provider != NULL, "provider from directive arguments");
    a = t->provider->adapter;

    ok(a->features & MC_FEAT_IMAGE_DATA, "takes image bytes");
    ok(!(a->features & MC_FEAT_IMAGE_URL), "takes no image URL");
    ok(a->features & MC_FEAT_NEGATIVE, "takes a negative prompt");
    ok(!(a->features & MC_FEAT_SEED), "takes no seed");
    ok(a->cancel_request == NULL, "no cancel");
    ok(a->content_request != NULL, "content needs the key");

    /* configuration checks */
    t2 = at_provider("veo2 adapter=google "
                     "url=https://generativelanguage.googleapis.com "
                     "key_env=GEMINI_KEY");
    ok(t2->provider == NULL, "url= without the API version is refused");
    at_free(t2);

    t2 = at_provider("veo3 adapter=google url=" VEO_URL);
    ok(t2->provider == NULL, "no key is refused");
    at_free(t2);

    t2 = at_provider("veo4 adapter=google url=" VEO_URL
                     " key_env=GEMINI_KEY person_generation=everyone");
    ok(t2->provider == NULL, "a bad person_generation is refused");
    at_free(t2);

    /* text to video */
    at_request(t, "{\"prompt\":\"a red fox running through snow\","
                  "\"seconds\":8,\"size\":\"1920x1080\","
                  "\"negative_prompt\":\"blurry\"}");
    at_call(t, "veo-3.1-generate-preview");

    rc = a->create_request(&t->call, &t->http);
    is_int(rc, MC_CALL_SEND, "create is one call");
    is_str(t->http.method, "POST", "POST");
    is_str(t->http.url, VEO_URL "/models/veo-3.1-generate-preview"
                        ":predictLongRunning", "predictLongRunning");
    is_str(at_header(t, "x-goog-api-key"), "AIzaTestKey123",
           "x-goog-api-key");
    ok(at_header(t, "Authorization") == NULL, "no Authorization header");

    b = at_body(t);
    is_int(json_array_size(json_object_get(b, "instances")), 1,
           "one instance");
    is_str(mc_json_path_str(b, "instances.0.prompt"),
           "a red fox running through snow", "instances[0].prompt");
    ok(mc_json_path(b, "instances.0.image") == NULL, "no image");
    ok(json_is_integer(mc_json_path(b, "parameters.durationSeconds")),
       "durationSeconds is a number");
    is_int(json_integer_value(mc_json_path(b, "parameters.durationSeconds")),
           8, "durationSeconds 8");
    is_str(mc_json_path_str(b, "parameters.aspectRatio"), "16:9",
           "aspectRatio");
    is_str(mc_json_path_str(b, "parameters.resolution"), "1080p",
           "resolution");
    is_str(mc_json_path_str(b, "parameters.negativePrompt"), "blurry",
           "negativePrompt");
    is_str(mc_json_path_str(b, "parameters.personGeneration"), "allow_adult",
           "personGeneration from the provider's params");
    ok(mc_json_path(b, "parameters.seed") == NULL, "no seed");
    is_int(json_object_size(json_object_get(b, "parameters")), 5,
           "nothing else in parameters");

    /* image to video: inline bytes, portrait */
    at_request(t, "{\"prompt\":\"move\",\"seconds\":4,"
                  "\"size\":\"720x1280\","
                  "\"image_url\":\"data:image/png;base64,iVBORw0KGgo=\"}");
    at_call(t, "veo-3.1-fast-generate-preview");
    rc = a->create_request(&t->call, &t->http);
    is_int(rc, MC_CALL_SEND, "image create is one call");
    b = at_body(t);
    is_str(mc_json_path_str(b, "instances.0.image.bytesBase64Encoded"),
           "iVBORw0KGgo=", "bytesBase64Encoded without the data: prefix");
    is_str(mc_json_path_str(b, "instances.0.image.mimeType"), "image/png",
           "mimeType");
    is_str(mc_json_path_str(b, "parameters.aspectRatio"), "9:16",
           "portrait aspect");
    is_str(mc_json_path_str(b, "parameters.resolution"), "720p",
           "720p");
    ok(mc_json_path(b, "parameters.negativePrompt") == NULL,
       "no negativePrompt when none was asked");

    /* durations and resolutions Veo cannot make */
    at_request(t, "{\"prompt\":\"x\",\"seconds\":5}");
    at_call(t, "veo-3.1-generate-preview");
    rc = a->create_request(&t->call, &t->http);
    is_int(rc, MC_CALL_DONE, "5 s is not sent");
    is_int(t->call.result.fail, MC_FAIL_INPUT, "an input error");
    is_int(t->call.result.http_status, 400, "400");
    ok(strstr(t->call.result.fail_reason, "allowed: 4, 6, 8") != NULL,
       "listing the allowed values: %s", t->call.result.fail_reason);

    at_request(t, "{\"prompt\":\"x\",\"seconds\":5}");
    at_call(t, "veo-2.0-generate-001");
    rc = a->create_request(&t->call, &t->http);
    is_int(rc, MC_CALL_SEND, "5 s is fine for Veo 2");
    b = at_body(t);
    ok(mc_json_path(b, "parameters.resolution") == NULL,
       "Veo 2 gets no resolution");

    at_request(t, "{\"prompt\":\"x\",\"seconds\":8,\"size\":\"1920x1080\"}");
    at_call(t, "veo-2.0-generate-001");
    rc = a->create_request(&t->call, &t->http);
    is_int(t->call.result.fail, MC_FAIL_INPUT, "Veo 2 at 1080p is refused");

    at_request(t, "{\"prompt\":\"x\",\"seconds\":8,\"size\":\"854x480\"}");
    at_call(t, "veo-3.1-generate-preview");
    rc = a->create_request(&t->call, &t->http);
    is_int(t->call.result.fail, MC_FAIL_INPUT, "480p is refused");
    ok(strstr(t->call.result.fail_reason, "720p, 1080p, 4k") != NULL,
       "listing 720p, 1080p, 4k");

    at_request(t, "{\"prompt\":\"x\",\"seconds\":8,\"size\":\"3840x2160\"}");
    at_call(t, "veo-3.1-generate-preview");
    rc = a->create_request(&t->call, &t->http);
    b = at_body(t);
    is_str(mc_json_path_str(b, "parameters.resolution"), "4k", "4k");

    /* the operation */
    at_request(t, "{\"prompt\":\"x\",\"seconds\":8}");
    at_call(t, "veo-3.1-generate-preview");
    rc = at_reply(t, a->create_reply, 200,
                  "{\"name\":\"" OP_NAME "\",\"metadata\":{},"
                  "\"done\":false}");
    is_int(rc, MC_CALL_DONE, "create reply done");
    is_str(t->call.result.provider_task_id, OP_NAME,
           "the task id is the full operation name");
    is_int(t->call.result.status, MC_TASK_QUEUED, "queued");

    at_call(t, "veo-3.1-generate-preview");
    at_reply(t, a->create_reply, 200, "{\"name\":\"../../x\"}");
    is_int(t->call.result.fail, MC_FAIL_PROTOCOL,
           "an operation name that leaves the base URL is refused");

    at_call(t, "veo-3.1-generate-preview");
    at_reply(t, a->create_reply, 400,
             "{\"error\":{\"code\":400,\"message\":\"The prompt could not "
             "be submitted.\",\"status\":\"INVALID_ARGUMENT\"}}");
    is_int(t->call.result.fail, MC_FAIL_INPUT, "400 is an input error");
    is_str(t->call.result.fail_reason, "The prompt could not be submitted.",
           "with Google's message");

    at_call(t, "veo-3.1-generate-preview");
    at_reply(t, a->create_reply, 400,
             "{\"error\":{\"code\":400,\"message\":\"API key not valid. "
             "Please pass a valid API key.\",\"status\":\"INVALID_ARGUMENT\","
             "\"details\":[{\"@type\":\"type.googleapis.com/google.rpc."
             "ErrorInfo\",\"reason\":\"API_KEY_INVALID\",\"domain\":"
             "\"googleapis.com\"},{\"@type\":\"type.googleapis.com/google."
             "rpc.DebugInfo\",\"detail\":\"Invalid API key: "
             "AIzaTestKey123\"}]}}");
    is_int(t->call.result.fail, MC_FAIL_AUTH,
           "API_KEY_INVALID at 400 is the gateway's credentials");
    ok(strstr(t->call.result.fail_reason, "AIza") == NULL,
       "the key is not repeated");

    at_call(t, "veo-3.1-generate-preview");
    at_reply(t, a->create_reply, 403,
             "{\"error\":{\"code\":403,\"message\":\"Method doesn't allow "
             "unregistered callers\",\"status\":\"PERMISSION_DENIED\"}}");
    is_int(t->call.result.fail, MC_FAIL_AUTH, "403 is auth");

    at_call(t, "veo-3.1-generate-preview");
    at_reply(t, a->create_reply, 429,
             "{\"error\":{\"code\":429,\"message\":\"Resource has been "
             "exhausted\",\"status\":\"RESOURCE_EXHAUSTED\"}}");
    is_int(t->call.result.fail, MC_FAIL_RETRY, "429 is retryable");

    at_call(t, "veo-3.1-generate-preview");
    at_reply(t, a->create_reply, 200, "not json");
    is_int(t->call.result.fail, MC_FAIL_PROTOCOL, "not JSON is a protocol "
           "error");

    /* status */
    t->task.provider_task_id = OP_NAME;
    t->task.provider_video_url = NULL;

    at_call(t, "veo-3.1-generate-preview");
    rc = a->status_request(&t->call, &t->http);
    is_int(rc, MC_CALL_SEND, "status is one call");
    is_str(t->http.method, "GET", "GET");
    is_str(t->http.url, VEO_URL "/" OP_NAME, "GET /v1beta/{name}");
    is_str(at_header(t, "x-goog-api-key"), "AIzaTestKey123", "with the key");

    at_reply(t, a->status_reply, 200, "{\"name\":\"" OP_NAME "\"}");
    is_int(t->call.result.status, MC_TASK_IN_PROGRESS,
           "done absent: in progress");
    is_int(t->call.result.progress, -1, "no progress");

    at_call(t, "veo-3.1-generate-preview");
    at_reply(t, a->status_reply, 200,
             "{\"name\":\"" OP_NAME "\",\"done\":true,\"response\":"
             "{\"@type\":\"type.googleapis.com/google.ai.generativelanguage."
             "v1beta.PredictLongRunningResponse\",\"generateVideoResponse\":"
             "{\"generatedSamples\":[{\"video\":{\"uri\":\"https://"
             "generativelanguage.googleapis.com/v1beta/files/"
             "xyz789:download?alt=media\"}}]}}}");
    is_int(t->call.result.status, MC_TASK_COMPLETED, "done with a sample");
    is_str(t->call.result.video_url,
           "https://generativelanguage.googleapis.com/v1beta/files/"
           "xyz789:download?alt=media", "the video URI");

    at_call(t, "veo-3.1-generate-preview");
    at_reply(t, a->status_reply, 200,
             "{\"name\":\"" OP_NAME "\",\"done\":true,\"error\":"
             "{\"code\":13,\"message\":\"Video generation failed.\"}}");
    is_int(t->call.result.status, MC_TASK_FAILED, "done with an error");
    is_str(t->call.result.error_code, "generation_failed", "error code");
    is_str(t->call.result.error_message, "Video generation failed.",
           "Google's message");

    at_call(t, "veo-3.1-generate-preview");
    at_reply(t, a->status_reply, 200,
             "{\"name\":\"" OP_NAME "\",\"done\":true,\"response\":"
             "{\"generateVideoResponse\":{\"raiMediaFilteredCount\":1,"
             "\"raiMediaFilteredReasons\":[\"The prompt contains words "
             "that violate our usage guidelines.\"]}}}");
    is_int(t->call.result.status, MC_TASK_FAILED, "filtered: failed");
    is_str(t->call.result.error_code, "content_filtered", "content_filtered");
    ok(strstr(t->call.result.error_message, "violate our usage") != NULL,
       "with the filter's reason: %s", t->call.result.error_message);

    at_call(t, "veo-3.1-generate-preview");
    at_reply(t, a->status_reply, 200,
             "{\"name\":\"" OP_NAME "\",\"done\":true,\"response\":"
             "{\"generateVideoResponse\":{}}}");
    is_int(t->call.result.status, MC_TASK_FAILED,
           "done with nothing at all: failed");

    at_call(t, "veo-3.1-generate-preview");
    at_reply(t, a->status_reply, 404,
             "{\"error\":{\"code\":404,\"message\":\"Operation not found\","
             "\"status\":\"NOT_FOUND\"}}");
    is_int(t->call.result.status, MC_TASK_FAILED, "404: the task is lost");
    is_str(t->call.result.error_code, "provider_lost", "provider_lost");

    at_call(t, "veo-3.1-generate-preview");
    at_reply(t, a->status_reply, 503, "");
    is_int(t->call.result.fail, MC_FAIL_RETRY, "503 poll is retryable");

    /* content: the SDK's own download URL, with the key */
    t->task.provider_video_url = "https://generativelanguage.googleapis.com/"
                                 "v1beta/files/xyz789:download?alt=media";
    at_call(t, "veo-3.1-generate-preview");
    rc = a->content_request(&t->call, &t->http);
    is_int(rc, MC_CALL_SEND, "content is proxied");
    is_str(t->http.url, VEO_URL "/files/xyz789:download?alt=media",
           "files/{name}:download on the provider's base URL");
    is_str(at_header(t, "x-goog-api-key"), "AIzaTestKey123",
           "with the key");

    t->task.provider_video_url = "https://elsewhere.example/v.mp4";
    at_call(t, "veo-3.1-generate-preview");
    rc = a->content_request(&t->call, &t->http);
    is_int(rc, MC_CALL_SEND, "another URL is fetched");
    is_str(t->http.url, "https://elsewhere.example/v.mp4", "as given");
    ok(at_header(t, "x-goog-api-key") == NULL,
       "without the key to a host nobody named");

    at_free(t);
    return done_testing();
}
