
/*
 * The minimax adapter's build and parse functions on MiniMax's documented
 * payloads: base_resp failures at HTTP 200, the status words, and the
 * file lookup that turns a file_id into a download URL.
 */

#include "adapter_test.h"


#define MM_URL  "https://api.minimax.io"


int
main(void)
{
    int                  rc;
    json_t              *b;
    at_t                *t, *t2;
    const mc_adapter_t  *a;

    setenv("MM_KEY", "mm-test-key", 1);

    t2 = at_provider("mm adapter=minimax url=" MM_URL);
    ok(t2->provider == NULL, "no key is refused");
    at_free(t2);

    t2 = at_provider("mm adapter=minimax url=" MM_URL " key_env=MM_KEY "
                     "prompt_optimizer=maybe");
    ok(t2->provider == NULL, "prompt_optimizer is on or off");
    at_free(t2);

    t = at_provider("mm adapter=minimax url=" MM_URL " key_env=MM_KEY");
    ok(t->provider != NULL, "provider from directive arguments");
    a = t->provider->adapter;

    ok(a->features & MC_FEAT_IMAGE_URL, "takes an image URL");
    ok(a->features & MC_FEAT_IMAGE_DATA, "takes image data");
    ok(!(a->features & MC_FEAT_SEED), "takes no seed");
    ok(!(a->features & MC_FEAT_NEGATIVE), "takes no negative prompt");
    ok(a->cancel_request == NULL, "no cancel");
    ok(a->content_request == NULL, "the download URL needs no key");

    /* create */
    at_request(t, "{\"prompt\":\"A stylish woman walks down a Tokyo street"
                  "\",\"seconds\":6,\"size\":\"1920x1080\"}");
    at_call(t, "MiniMax-Hailuo-2.3");
    rc = a->create_request(&t->call, &t->http);
    is_int(rc, MC_CALL_SEND, "create is one call");
    is_str(t->http.method, "POST", "POST");
    is_str(t->http.url, MM_URL "/v1/video_generation", "/v1/video_generation");
    is_str(at_header(t, "Authorization"), "Bearer mm-test-key", "Bearer key");

    b = at_body(t);
    is_str(mc_json_str(b, "model"), "MiniMax-Hailuo-2.3", "model");
    is_str(mc_json_str(b, "prompt"), "A stylish woman walks down a Tokyo "
           "street", "prompt");
    ok(json_is_integer(json_object_get(b, "duration")),
       "duration is an integer");
    is_int(json_integer_value(json_object_get(b, "duration")), 6, "6");
    is_str(mc_json_str(b, "resolution"), "1080P", "1080P, uppercase P");
    ok(json_is_true(json_object_get(b, "prompt_optimizer")),
       "prompt_optimizer true");
    ok(json_object_get(b, "fast_pretreatment") == NULL,
       "no fast_pretreatment unless asked");
    ok(json_object_get(b, "first_frame_image") == NULL, "no image");
    is_int(json_object_size(b), 5, "nothing else");

    at_request(t, "{\"prompt\":\"walk\",\"seconds\":10,\"size\":\"1366x768\","
                  "\"image_url\":\"data:image/jpeg;base64,/9j/4AAQ\"}");
    at_call(t, "MiniMax-Hailuo-2.3-Fast");
    a->create_request(&t->call, &t->http);
    b = at_body(t);
    is_str(mc_json_str(b, "first_frame_image"),
           "data:image/jpeg;base64,/9j/4AAQ", "a data: URL as is");
    is_str(mc_json_str(b, "resolution"), "768P", "768P");
    is_int(json_integer_value(json_object_get(b, "duration")), 10, "10");

    at_request(t, "{\"prompt\":\"walk\",\"seconds\":6,"
                  "\"image_url\":\"https://example.com/start.jpg\"}");
    at_call(t, "I2V-01");
    a->create_request(&t->call, &t->http);
    b = at_body(t);
    is_str(mc_json_str(b, "first_frame_image"),
           "https://example.com/start.jpg", "an image URL as is");
    is_str(mc_json_str(b, "resolution"), "720P", "720P");

    at_request(t, "{\"prompt\":\"x\",\"seconds\":5}");
    at_call(t, "MiniMax-Hailuo-02");
    rc = a->create_request(&t->call, &t->http);
    is_int(rc, MC_CALL_DONE, "5 s is not sent");
    is_int(t->call.result.fail, MC_FAIL_INPUT, "an input error");
    ok(strstr(t->call.result.fail_reason, "allowed: 6, 10") != NULL,
       "listing 6, 10: %s", t->call.result.fail_reason);

    at_request(t, "{\"prompt\":\"x\",\"seconds\":6,\"size\":\"3840x2160\"}");
    at_call(t, "MiniMax-Hailuo-02");
    rc = a->create_request(&t->call, &t->http);
    is_int(t->call.result.fail, MC_FAIL_INPUT, "4k is refused");
    ok(strstr(t->call.result.fail_reason, "512P, 720P, 768P, 1080P") != NULL,
       "listing the resolutions");

    /* the create answer */
    at_request(t, "{\"prompt\":\"x\",\"seconds\":6}");
    at_call(t, "MiniMax-Hailuo-02");
    rc = at_reply(t, a->create_reply, 200,
                  "{\"task_id\":\"106916112212032\",\"base_resp\":"
                  "{\"status_code\":0,\"status_msg\":\"success\"}}");
    is_int(rc, MC_CALL_DONE, "create reply done");
    is_str(t->call.result.provider_task_id, "106916112212032", "task_id");
    is_int(t->call.result.status, MC_TASK_QUEUED, "queued");

    at_call(t, "MiniMax-Hailuo-02");
    at_reply(t, a->create_reply, 200,
             "{\"task_id\":\"\",\"base_resp\":{\"status_code\":2013,"
             "\"status_msg\":\"invalid params, duration\"}}");
    is_int(t->call.result.fail, MC_FAIL_INPUT,
           "2013 at HTTP 200 is an input error");
    is_int(t->call.result.http_status, 400, "as a 400");
    is_str(t->call.result.fail_reason, "invalid params, duration",
           "with MiniMax's message");

    at_call(t, "MiniMax-Hailuo-02");
    at_reply(t, a->create_reply, 200,
             "{\"base_resp\":{\"status_code\":1026,\"status_msg\":"
             "\"input new_sensitive\"}}");
    is_int(t->call.result.fail, MC_FAIL_INPUT, "1026 is an input error");

    at_call(t, "MiniMax-Hailuo-02");
    at_reply(t, a->create_reply, 200,
             "{\"base_resp\":{\"status_code\":1002,\"status_msg\":"
             "\"rate limit exceeded\"}}");
    is_int(t->call.result.fail, MC_FAIL_RETRY, "1002 is retryable");
    is_int(t->call.result.http_status, 429, "as a 429");

    at_call(t, "MiniMax-Hailuo-02");
    at_reply(t, a->create_reply, 200,
             "{\"base_resp\":{\"status_code\":1039,\"status_msg\":"
             "\"token limit\"}}");
    is_int(t->call.result.fail, MC_FAIL_RETRY, "1039 is retryable");

    at_call(t, "MiniMax-Hailuo-02");
    at_reply(t, a->create_reply, 200,
             "{\"base_resp\":{\"status_code\":1008,\"status_msg\":"
             "\"insufficient balance\"}}");
    is_int(t->call.result.fail, MC_FAIL_RETRY,
           "1008 (balance) moves on to the next target");

    at_call(t, "MiniMax-Hailuo-02");
    at_reply(t, a->create_reply, 200,
             "{\"base_resp\":{\"status_code\":2049,\"status_msg\":"
             "\"invalid api key mm-test-key\"}}");
    is_int(t->call.result.fail, MC_FAIL_AUTH, "2049 is auth");
    ok(strstr(t->call.result.fail_reason, "mm-test-key") == NULL,
       "the key is not repeated");

    at_call(t, "MiniMax-Hailuo-02");
    at_reply(t, a->create_reply, 200,
             "{\"base_resp\":{\"status_code\":1004,\"status_msg\":"
             "\"login fail\"}}");
    is_int(t->call.result.fail, MC_FAIL_AUTH, "1004 is auth");

    at_call(t, "MiniMax-Hailuo-02");
    at_reply(t, a->create_reply, 200, "{\"task_id\":\"1\"}");
    is_int(t->call.result.fail, MC_FAIL_PROTOCOL,
           "no base_resp is not success");

    /* status */
    t->task.provider_task_id = "106916112212032";
    t->task.provider_data = NULL;

    at_call(t, "MiniMax-Hailuo-02");
    rc = a->status_request(&t->call, &t->http);
    is_int(rc, MC_CALL_SEND, "status is a call");
    is_str(t->http.url, MM_URL "/v1/query/video_generation"
                        "?task_id=106916112212032", "the query");
    is_str(at_header(t, "Authorization"), "Bearer mm-test-key", "Bearer");

    at_reply(t, a->status_reply, 200,
             "{\"task_id\":\"106916112212032\",\"status\":\"Preparing\","
             "\"file_id\":\"\",\"base_resp\":{\"status_code\":0,"
             "\"status_msg\":\"success\"}}");
    is_int(t->call.result.status, MC_TASK_QUEUED, "Preparing is queued");

    at_call(t, "MiniMax-Hailuo-02");
    at_reply(t, a->status_reply, 200,
             "{\"task_id\":\"1\",\"status\":\"Queueing\",\"base_resp\":"
             "{\"status_code\":0}}");
    is_int(t->call.result.status, MC_TASK_QUEUED, "Queueing is queued");

    at_call(t, "MiniMax-Hailuo-02");
    at_reply(t, a->status_reply, 200,
             "{\"task_id\":\"1\",\"status\":\"Processing\",\"base_resp\":"
             "{\"status_code\":0}}");
    is_int(t->call.result.status, MC_TASK_IN_PROGRESS, "Processing");

    at_call(t, "MiniMax-Hailuo-02");
    at_reply(t, a->status_reply, 200,
             "{\"task_id\":\"1\",\"status\":\"Fail\",\"base_resp\":"
             "{\"status_code\":1027,\"status_msg\":\"output new_sensitive"
             "\"}}");
    is_int(t->call.result.status, MC_TASK_FAILED, "Fail is failed");
    is_str(t->call.result.error_code, "content_filtered",
           "1027 is content_filtered");
    is_str(t->call.result.error_message, "output new_sensitive",
           "with the reason");

    at_call(t, "MiniMax-Hailuo-02");
    at_reply(t, a->status_reply, 200,
             "{\"task_id\":\"1\",\"status\":\"Fail\",\"base_resp\":"
             "{\"status_code\":0,\"status_msg\":\"success\"}}");
    is_int(t->call.result.status, MC_TASK_FAILED, "Fail without a reason");
    is_str(t->call.result.error_code, "generation_failed",
           "generation_failed");

    at_call(t, "MiniMax-Hailuo-02");
    at_reply(t, a->status_reply, 200,
             "{\"task_id\":\"1\",\"status\":\"Paused\",\"base_resp\":"
             "{\"status_code\":0}}");
    is_int(t->call.result.fail, MC_FAIL_PROTOCOL, "an unknown word");

    at_call(t, "MiniMax-Hailuo-02");
    at_reply(t, a->status_reply, 200,
             "{\"base_resp\":{\"status_code\":1002,\"status_msg\":\"rate\"}}");
    is_int(t->call.result.fail, MC_FAIL_RETRY, "a rate-limited poll");

    /* Success: one more call for the file */
    at_call(t, "MiniMax-Hailuo-02");
    rc = at_reply(t, a->status_reply, 200,
                  "{\"task_id\":\"106916112212032\",\"status\":\"Success\","
                  "\"file_id\":\"205258526306433\",\"video_width\":1920,"
                  "\"video_height\":1080,\"base_resp\":{\"status_code\":0,"
                  "\"status_msg\":\"success\"}}");
    is_int(rc, MC_CALL_SEND, "Success asks for the file");
    is_str(t->http.method, "GET", "GET");
    is_str(t->http.url, MM_URL "/v1/files/retrieve?file_id=205258526306433",
           "/v1/files/retrieve?file_id=");
    is_str(at_header(t, "Authorization"), "Bearer mm-test-key",
           "with the key");
    is_str(t->call.result.provider_data, "{\"file_id\":\"205258526306433\"}",
           "the file_id is kept");

    rc = at_reply(t, a->status_reply, 200,
                  "{\"file\":{\"file_id\":205258526306433,\"bytes\":5896337,"
                  "\"created_at\":1700469398,\"filename\":\"output.mp4\","
                  "\"purpose\":\"video_generation\",\"download_url\":"
                  "\"https://public-cdn-video-data-algeng.oss-cn-wulanchabu."
                  "aliyuncs.com/output.mp4?Expires=1\"},\"base_resp\":"
                  "{\"status_code\":0,\"status_msg\":\"success\"}}");
    is_int(rc, MC_CALL_DONE, "then done");
    is_int(t->call.step, 2, "two replies in the operation");
    is_int(t->call.result.status, MC_TASK_COMPLETED, "completed");
    is_str(t->call.result.video_url,
           "https://public-cdn-video-data-algeng.oss-cn-wulanchabu."
           "aliyuncs.com/output.mp4?Expires=1", "file.download_url");

    /* a file id given as a number */
    at_call(t, "MiniMax-Hailuo-02");
    at_reply(t, a->status_reply, 200,
             "{\"task_id\":\"1\",\"status\":\"Success\",\"file_id\":"
             "205258526306433,\"base_resp\":{\"status_code\":0}}");
    is_str(t->http.url, MM_URL "/v1/files/retrieve?file_id=205258526306433",
           "a numeric file_id");

    /* the lookup fails for a passing reason: the task stays running with
     * its file_id, and the next poll goes straight to the file */
    at_call(t, "MiniMax-Hailuo-02");
    at_reply(t, a->status_reply, 200,
             "{\"task_id\":\"1\",\"status\":\"Success\",\"file_id\":"
             "\"205258526306433\",\"base_resp\":{\"status_code\":0}}");
    rc = at_reply(t, a->status_reply, 200,
                  "{\"base_resp\":{\"status_code\":1000,\"status_msg\":"
                  "\"unknown error\"}}");
    is_int(t->call.result.fail, MC_FAIL_NONE, "not a failed call");
    is_int(t->call.result.status, MC_TASK_IN_PROGRESS, "still in progress");
    is_str(t->call.result.provider_data, "{\"file_id\":\"205258526306433\"}",
           "with the file_id to keep");

    t->task.provider_data = "{\"file_id\":\"205258526306433\"}";
    at_call(t, "MiniMax-Hailuo-02");
    rc = a->status_request(&t->call, &t->http);
    is_int(rc, MC_CALL_SEND, "the next poll");
    is_str(t->http.url, MM_URL "/v1/files/retrieve?file_id=205258526306433",
           "goes straight to the file");
    rc = at_reply(t, a->status_reply, 200,
                  "{\"file\":{\"download_url\":\"https://cdn/x.mp4\"},"
                  "\"base_resp\":{\"status_code\":0}}");
    is_int(t->call.result.status, MC_TASK_COMPLETED, "and completes");
    is_str(t->call.result.video_url, "https://cdn/x.mp4", "with the URL");

    at_call(t, "MiniMax-Hailuo-02");
    a->status_request(&t->call, &t->http);
    at_reply(t, a->status_reply, 200, "{\"file\":{},\"base_resp\":"
                                      "{\"status_code\":0}}");
    is_int(t->call.result.fail, MC_FAIL_PROTOCOL, "a file without a URL");

    at_call(t, "MiniMax-Hailuo-02");
    a->status_request(&t->call, &t->http);
    at_reply(t, a->status_reply, 502, "");
    is_int(t->call.result.fail, MC_FAIL_RETRY, "a 502 lookup is retryable");

    at_free(t);
    return done_testing();
}
