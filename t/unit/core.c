
/*
 * The nginx-free core: memory, parsing helpers, crypto, multipart, the
 * unified request, the catalog and its prices, routing, task records.
 */

#include "tap.h"
#include "mc_core.h"
#include "mc_crypto.h"
#include "mc_multipart.h"
#include "mc_request.h"
#include "mc_catalog.h"
#include "mc_route.h"
#include "mc_task.h"

#include <strings.h>


static mc_catalog_t *
catalog(void)
{
    size_t         i;
    char           err[512];
    mc_catalog_t  *cat;

    static const char  *lines[][12] = {
        { "sbx", "adapter=sandbox", NULL },
        { "v", "price=10", "seconds=4,8", "sizes=1280x720,720x1280,"
          "1920x1080", "resolutions=720p:1,1080p:1.5", "to=sbx", NULL },
        { "near", "price=3", "seconds=5,10", "seconds_policy=nearest",
          "to=sbx:near-id", NULL },
        { "any", "price=1", "to=sbx", NULL },
    };

    cat = mc_catalog_create();

    mc_catalog_add_provider(cat, (char **) lines[0], 2, "t:1", err,
                            sizeof(err));

    for (i = 1; i < 4; i++) {
        size_t n = 0;
        while (lines[i][n]) {
            n++;
        }

        if (mc_catalog_add_model(cat, (char **) lines[i], n, "t:2", err,
                                 sizeof(err)) == NULL)
        {
            printf("# model: %s\n", err);
        }
    }

    return cat;
}


static void
test_helpers(void)
{
    int64_t     n;
    mc_msec_t   ms;
    size_t      sz;
    mc_pool_t  *pool;
    mc_buf_t    b;
    char       *p;

    pool = mc_pool_create(64);
    p = mc_palloc(pool, 10000);
    ok(p != NULL, "a block larger than the pool's block size");
    memset(p, 1, 10000);
    is_str(mc_psprintf(pool, "%s-%d", "a", 7), "a-7", "psprintf");
    mc_pool_destroy(pool);

    mc_buf_init(&b);
    for (int i = 0; i < 1000; i++) {
        mc_buf_adds(&b, "0123456789");
    }
    is_int(b.len, 10000, "buf grows");
    mc_buf_free(&b);

    ok(mc_wildcard_match("veo-*", "veo-3.1"), "wildcard prefix");
    ok(mc_wildcard_match("*", "anything"), "wildcard all");
    ok(!mc_wildcard_match("kling-*-pro", "kling-2-std"), "wildcard miss");
    ok(mc_wildcard_match("a*b*c", "aXbYc"), "two stars");

    ok(mc_parse_int("1234", 4, &n) == MC_OK && n == 1234, "parse_int");
    ok(mc_parse_int("12a", 3, &n) == MC_ERROR, "parse_int refuses junk");
    ok(mc_parse_int("", 0, &n) == MC_ERROR, "parse_int refuses empty");

    ok(mc_parse_duration("1500ms", &ms) == MC_OK && ms == 1500, "1500ms");
    ok(mc_parse_duration("2m", &ms) == MC_OK && ms == 120000, "2m");
    ok(mc_parse_duration("30", &ms) == MC_OK && ms == 30000, "bare seconds");
    ok(mc_parse_duration("3x", &ms) == MC_ERROR, "bad unit");
    ok(mc_parse_size("16m", &sz) == MC_OK && sz == 16 * 1024 * 1024, "16m");

    is_int(mc_resolution_parse("1080p"), 1080, "1080p");
    is_int(mc_resolution_parse("4k"), 2160, "4k");
    is_int(mc_resolution_parse("720"), -1, "720 without p");
    is_str(mc_resolution_name(2160), "4k", "2160 is 4k");
}


static void
test_crypto(void)
{
    char           hex[65], b64[64];
    unsigned char  md[32], raw[32];
    size_t         n;

    mc_sha256_hex("abc", 3, hex);
    is_str(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
           "SHA-256 of abc (FIPS 180-2)");

    mc_sha256_hex("", 0, hex);
    is_str(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
           "SHA-256 of nothing");

    mc_sha256_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", 56,
                  hex);
    is_str(hex, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1",
           "SHA-256 of the two-block vector");

    /* RFC 4231 test case 2 */
    mc_hmac_sha256("Jefe", 4, "what do ya want for nothing?", 28, md);
    mc_hex(hex, md, 32);
    is_str(hex, "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",
           "HMAC-SHA-256, RFC 4231 case 2");

    mc_base64_encode(b64, (const unsigned char *) "foobar", 6, 0);
    is_str(b64, "Zm9vYmFy", "base64 foobar");
    mc_base64_encode(b64, (const unsigned char *) "fo", 2, 0);
    is_str(b64, "Zm8=", "base64 with padding");
    mc_base64_encode(b64, (const unsigned char *) "\xfb\xff", 2, 1);
    is_str(b64, "-_8", "base64url without padding");

    ok(mc_base64_decode(raw, &n, "Zm9vYg==", 8) == MC_OK && n == 4
       && memcmp(raw, "foob", 4) == 0, "base64 decode");
    ok(mc_base64_valid("Zm9v!mFy", 8) == MC_ERROR, "base64 refuses junk");
    ok(mc_base64_valid("Zm9", 3) == MC_ERROR, "base64 refuses a bad length");
}


static void
test_multipart(void)
{
    size_t      pos;
    mc_str_t    bd;
    mc_part_t   part;
    int         rc;

    static const char  body[] =
        "--XyZ\r\n"
        "Content-Disposition: form-data; name=\"prompt\"\r\n\r\n"
        "a boat\r\n"
        "--XyZ\r\n"
        "Content-Disposition: form-data; name=\"input_reference\"; "
        "filename=\"a.png\"\r\n"
        "Content-Type: image/png\r\n\r\n"
        "\x89PNG\r\n--Xy\r\n"
        "--XyZ--\r\n";

    ok(mc_multipart_boundary("multipart/form-data; boundary=XyZ", 33, &bd)
       == MC_OK && bd.len == 3, "boundary");
    ok(mc_multipart_boundary("multipart/form-data; boundary=\"XyZ\"", 35, &bd)
       == MC_OK && bd.len == 3, "quoted boundary");
    ok(mc_multipart_boundary("application/json", 16, &bd) == MC_ERROR,
       "not multipart");

    mc_multipart_boundary("multipart/form-data; boundary=XyZ", 33, &bd);
    pos = 0;

    rc = mc_multipart_next(body, sizeof(body) - 1, bd, &pos, &part);
    ok(rc == MC_OK && part.name.len == 6
       && memcmp(part.name.data, "prompt", 6) == 0, "first part: prompt");
    ok(part.data.len == 6 && memcmp(part.data.data, "a boat", 6) == 0,
       "its value");
    ok(part.filename.data == NULL, "no filename");

    rc = mc_multipart_next(body, sizeof(body) - 1, bd, &pos, &part);
    ok(rc == MC_OK && part.filename.len == 5, "second part: a file");
    ok(part.data.len == 10, "binary data with a near-boundary inside");
    ok(part.content_type.len == 9, "its content type");

    rc = mc_multipart_next(body, sizeof(body) - 1, bd, &pos, &part);
    is_int(rc, MC_DECLINED, "the closing delimiter");

    pos = 0;
    rc = mc_multipart_next("--XyZ\r\nno headers end", 21, bd, &pos, &part);
    is_int(rc, MC_ERROR, "truncated part");
}


static void
test_request(void)
{
    mc_pool_t       *pool;
    mc_catalog_t    *cat;
    mc_video_req_t   req;
    mc_error_t       err;
    mc_plan_t       *plan;
    char             e[256];

    char  *plan_args[] = { "free", "models=v", "max_seconds=4",
                           "max_resolution=720p" };

#define PARSE(json)                                                          \
    (mc_request_free(&req),                                                  \
     mc_request_parse_json(pool, json, strlen(json), &req, &err))

#define VALIDATE(p)                                                          \
    mc_request_validate(pool, &req, cat, p, NULL, &err)

    pool = mc_pool_create(4096);
    cat = catalog();
    memset(&req, 0, sizeof(req));

    plan = mc_catalog_add_plan(cat, plan_args, 4, "t:3", e, sizeof(e));
    ok(plan != NULL, "a plan");
    ok(mc_catalog_finalize(cat, e, sizeof(e)) == MC_OK, "catalog resolves");

    ok(PARSE("{\"model\":\"v\",\"prompt\":\"x\",\"seconds\":\"8\"}") == MC_OK
       && VALIDATE(NULL) == MC_OK, "a valid request");
    is_int(req.seconds, 8, "seconds from a string");
    is_str(req.size, "1280x720", "the model's default size");
    is_str(req.aspect_ratio, "16:9", "its aspect");
    is_int(req.resolution, 720, "its resolution");
    is_int(req.credits, 80, "8 s x 10");

    ok(PARSE("{\"model\":\"v\",\"prompt\":\"x\",\"seconds\":4,"
             "\"size\":\"1920x1080\"}") == MC_OK && VALIDATE(NULL) == MC_OK,
       "1080p");
    is_int(req.credits, 60, "4 s x 10 x 1.5");

    ok(PARSE("{\"model\":\"v\",\"prompt\":\"x\",\"aspect_ratio\":\"9:16\"}")
       == MC_OK && VALIDATE(NULL) == MC_OK, "from an aspect ratio");
    is_str(req.size, "720x1280", "the listed size of that shape");

    ok(PARSE("{\"model\":\"v\",\"prompt\":\"x\",\"seconds\":\"5\"}") == MC_OK
       && VALIDATE(NULL) == MC_ERROR, "5 s is not offered");
    is_int(err.status, 400, "400");
    ok(strstr(err.message, "allowed: 4, 8") != NULL, "lists what is");

    ok(PARSE("{\"model\":\"near\",\"prompt\":\"x\",\"seconds\":\"7\"}")
       == MC_OK && VALIDATE(NULL) == MC_OK, "nearest policy");
    is_int(req.seconds, 5, "7 goes to 5 (a tie goes to the shorter)");

    ok(PARSE("{\"model\":\"v\",\"prompt\":\"x\",\"seconds\":\"8\"}") == MC_OK
       && VALIDATE(plan) == MC_ERROR, "above the plan");
    is_int(err.status, 403, "403");
    is_str(err.code, "duration_not_allowed", "duration_not_allowed");
    is_str(err.message, "seconds 8 is above the 4 allowed for plan 'free'",
           "the message names the limit");

    ok(PARSE("{\"model\":\"v\",\"prompt\":\"x\",\"size\":\"1920x1080\"}")
       == MC_OK && VALIDATE(plan) == MC_ERROR, "resolution above the plan");
    is_str(err.code, "resolution_not_allowed", "resolution_not_allowed");

    ok(PARSE("{\"model\":\"any\",\"prompt\":\"x\"}") == MC_OK
       && VALIDATE(plan) == MC_ERROR, "a model outside the plan");
    is_str(err.code, "model_not_allowed", "model_not_allowed");

    ok(PARSE("{\"prompt\":\"x\"}") == MC_OK && VALIDATE(NULL) == MC_ERROR,
       "no model and no default");
    is_str(err.param, "model", "param model");

    ok(PARSE("{\"model\":\"nope\",\"prompt\":\"x\"}") == MC_OK
       && VALIDATE(NULL) == MC_ERROR, "unknown model");
    is_str(err.code, "model_not_found", "model_not_found");

    ok(PARSE("{\"model\":\"v\"}") == MC_ERROR, "no prompt");
    is_str(err.param, "prompt", "param prompt");
    ok(PARSE("[1]") == MC_ERROR && err.status == 400, "not an object");
    ok(PARSE("{\"prompt\":1}") == MC_ERROR, "prompt not a string");
    ok(PARSE("{\"prompt\":\"x\",\"prompt\":\"y\"}") == MC_ERROR,
       "duplicate keys");
    ok(PARSE("{\"prompt\":\"x\",\"seconds\":\"0\"}") == MC_ERROR,
       "zero seconds");
    ok(PARSE("{\"prompt\":\"x\",\"size\":\"1280*720\"}") == MC_ERROR,
       "size with the wrong separator");
    ok(PARSE("{\"prompt\":\"x\",\"seed\":-1}") == MC_ERROR, "negative seed");
    ok(PARSE("{\"prompt\":\"x\",\"seed\":42}") == MC_OK && req.has_seed
       && req.seed == 42, "seed");
    ok(PARSE("{\"prompt\":\"x\",\"image_url\":\"ftp://x\"}") == MC_ERROR,
       "an image URL must be http(s) or data:");
    ok(PARSE("{\"prompt\":\"x\",\"image_url\":\"data:image/png;base64,!!\"}")
       == MC_ERROR, "bad base64 in a data: URL");
    ok(PARSE("{\"prompt\":\"x\",\"input_reference\":"
             "{\"image_url\":\"https://a/b.png\"}}") == MC_OK
       && req.image_url && strcmp(req.image_url, "https://a/b.png") == 0,
       "input_reference.image_url");
    ok(PARSE("{\"prompt\":\"x\",\"input_reference\":{\"file_id\":\"f\"}}")
       == MC_ERROR, "file_id is refused clearly");
    ok(PARSE("{\"prompt\":\"x\",\"metadata\":{\"a\":1}}") == MC_ERROR,
       "metadata values are strings");
    ok(PARSE("{\"prompt\":\"x\",\"metadata\":{\"a\":\"b\"}}") == MC_OK
       && req.metadata, "metadata");
    ok(PARSE("{\"model\":\"v\",\"prompt\":\"x\",\"template\":\"t\"}") == MC_OK
       && VALIDATE(NULL) == MC_ERROR && strcmp(err.code, "template_not_found")
          == 0, "no template is defined");

    {
        static const char  mp[] =
            "--b\r\nContent-Disposition: form-data; name=\"prompt\"\r\n\r\n"
            "hi\r\n--b\r\nContent-Disposition: form-data; name=\"seconds\""
            "\r\n\r\n8\r\n--b\r\nContent-Disposition: form-data; "
            "name=\"input_reference\"; filename=\"x.png\"\r\nContent-Type: "
            "image/png\r\n\r\nPNG\r\n--b--\r\n";

        mc_request_free(&req);
        ok(mc_request_parse_multipart(pool, mp, sizeof(mp) - 1,
                                      "multipart/form-data; boundary=b", &req,
                                      &err) == MC_OK, "multipart request");
        is_str(req.prompt, "hi", "multipart prompt");
        is_int(req.seconds, 8, "multipart seconds");
        is_str(req.image_url, "data:image/png;base64,UE5H",
               "the upload as a data: URL");
    }

    is_str(mc_aspect_of(pool, 854, 480), "16:9", "854x480 is 16:9");
    is_str(mc_aspect_of(pool, 1792, 1024), "7:4", "1792x1024 reduces");

    {
        const char  *list[] = { "1280:720", "720:1280", "960:960" };
        is_str(mc_nearest_aspect(1920, 1080, list, 3), "1280:720",
               "nearest of a list");
        is_str(mc_nearest_aspect(1000, 1100, list, 3), "960:960",
               "nearly square");
    }

    mc_request_free(&req);
    mc_catalog_destroy(cat);
    mc_pool_destroy(pool);
}


static void
test_catalog_errors(void)
{
    char           err[512];
    mc_catalog_t  *cat;

    char  *p1[] = { "x", "adapter=nope" };
    char  *p2[] = { "x", "adapter=openai", "url=https://a.example" };
    char  *p3[] = { "x", "adapter=openai", "url=ftp://a", "key_env=HOME" };
    char  *p4[] = { "x", "adapter=sandbox", "color=red" };
    char  *m1[] = { "m", "price=1.5" };
    char  *m2[] = { "m", "price=1", "seconds=4", "default_seconds=8" };
    char  *m3[] = { "m", "price=1", "to=ghost" };
    char  *m4[] = { "m", "price=1", "resolutions=720:1" };
    char  *l1[] = { "free", "models=missing" };

    cat = mc_catalog_create();

    ok(mc_catalog_add_provider(cat, p1, 2, "f:1", err, sizeof(err)) == NULL
       && strstr(err, "unknown adapter"), "unknown adapter: %s", err);
    ok(mc_catalog_add_provider(cat, p2, 3, "f:2", err, sizeof(err)) == NULL
       && strstr(err, "key_file"), "openai needs a key: %s", err);
    ok(mc_catalog_add_provider(cat, p3, 4, "f:3", err, sizeof(err)) == NULL
       && strstr(err, "http"), "url scheme: %s", err);
    ok(mc_catalog_add_provider(cat, p4, 3, "f:4", err, sizeof(err)) == NULL
       && strstr(err, "color"), "unknown adapter parameter: %s", err);
    ok(mc_catalog_add_model(cat, m1, 2, "f:5", err, sizeof(err)) == NULL,
       "prices are whole credits: %s", err);
    ok(mc_catalog_add_model(cat, m2, 4, "f:6", err, sizeof(err)) == NULL,
       "default outside the list: %s", err);
    ok(mc_catalog_add_model(cat, m4, 3, "f:7", err, sizeof(err)) == NULL,
       "a resolution needs p: %s", err);

    ok(mc_catalog_add_model(cat, m3, 3, "f:8", err, sizeof(err)) != NULL,
       "a target is resolved later");
    ok(mc_catalog_finalize(cat, err, sizeof(err)) == MC_ERROR
       && strstr(err, "unknown provider \"ghost\" in f:8"),
       "the message names the file and line: %s", err);

    mc_catalog_destroy(cat);

    cat = mc_catalog_create();
    mc_catalog_add_plan(cat, l1, 2, "f:9", err, sizeof(err));
    ok(mc_catalog_finalize(cat, err, sizeof(err)) == MC_ERROR
       && strstr(err, "f:9"), "unknown model in a plan: %s", err);
    mc_catalog_destroy(cat);
}


static int
var_get(void *data, const mc_cond_t *c, mc_str_t *v)
{
    if (strcmp(c->field, "$region") == 0) {
        v->data = data;
        v->len = strlen(data);
        return MC_OK;
    }

    return MC_ERROR;
}


static void
test_routes(void)
{
    char            err[512];
    size_t          n;
    mc_pool_t      *pool;
    mc_catalog_t   *cat;
    mc_routes_t    *routes;
    mc_target_t    *t;
    mc_video_req_t  req;
    mc_error_t      e;
    mc_route_ctx_t  ctx;

    char  *r1[] = { "model=v", "seconds>4", "to=sbx:long" };
    char  *r2[] = { "$region=eu|uk", "to=sbx:eu" };
    char  *r3[] = { "resolution>=1080p", "image=yes", "to=sbx:hd-image" };
    char  *r4[] = { "style~^ani", "to=sbx:anime" };
    char  *bad1[] = { "seconds>x", "to=sbx" };
    char  *bad2[] = { "model=v" };
    char  *bad3[] = { "model~(", "to=sbx" };
    char  *bad4[] = { "model~a+++", "to=sbx" };
    char  *bad5[] = { "model~(ab){9}", "to=sbx" };

    pool = mc_pool_create(4096);
    cat = catalog();
    routes = mc_routes_create();

    ok(mc_routes_add(routes, r1, 3, "r:1", err, sizeof(err)) != NULL, "rule 1");
    ok(mc_routes_add(routes, r2, 2, "r:2", err, sizeof(err)) != NULL, "rule 2");
    ok(mc_routes_add(routes, r3, 3, "r:3", err, sizeof(err)) != NULL, "rule 3");
    ok(mc_routes_add(routes, r4, 2, "r:4", err, sizeof(err)) != NULL, "rule 4");
    ok(mc_routes_add(routes, bad1, 2, "r:5", err, sizeof(err)) == NULL,
       "a comparison needs a number: %s", err);
    ok(mc_routes_add(routes, bad2, 1, "r:6", err, sizeof(err)) == NULL,
       "a rule needs to=: %s", err);
    ok(mc_routes_add(routes, bad3, 2, "r:7", err, sizeof(err)) == NULL,
       "a bad regex: %s", err);
    ok(mc_routes_add(routes, bad4, 2, "r:8", err, sizeof(err)) == NULL,
       "stacked quantifiers: %s", err);
    ok(mc_routes_add(routes, bad5, 2, "r:9", err, sizeof(err)) == NULL,
       "intervals: %s", err);
    ok(mc_routes_resolve(routes, cat, err, sizeof(err)) == MC_OK, "resolved");

    memset(&req, 0, sizeof(req));
    memset(&ctx, 0, sizeof(ctx));
    ctx.pool = pool;
    ctx.req = &req;
    ctx.var = var_get;
    ctx.data = "us";

#define ROUTE(json)                                                          \
    (mc_request_free(&req),                                                  \
     mc_request_parse_json(pool, json, strlen(json), &req, &e),              \
     mc_request_validate(pool, &req, cat, NULL, NULL, &e),                   \
     mc_route_targets(routes, &ctx, &n))

    t = ROUTE("{\"model\":\"v\",\"prompt\":\"x\",\"seconds\":\"8\"}");
    ok(n == 1 && strcmp(t->model_id, "long") == 0, "first match wins");

    t = ROUTE("{\"model\":\"v\",\"prompt\":\"x\",\"seconds\":\"4\"}");
    ok(n == 1 && t->model_id == NULL, "no match: the model's own target");

    ctx.data = "uk";
    t = ROUTE("{\"model\":\"v\",\"prompt\":\"x\"}");
    ok(n == 1 && strcmp(t->model_id, "eu") == 0, "an nginx variable");
    ctx.data = "us";

    t = ROUTE("{\"model\":\"v\",\"prompt\":\"x\",\"size\":\"1920x1080\","
              "\"image_url\":\"https://a/b.png\"}");
    ok(n == 1 && strcmp(t->model_id, "hd-image") == 0,
       "resolution and image");

    t = ROUTE("{\"model\":\"v\",\"prompt\":\"x\",\"style\":\"anime\"}");
    ok(n == 1 && strcmp(t->model_id, "anime") == 0, "any plain field, regex");

    mc_request_free(&req);
    mc_routes_destroy(routes);
    mc_catalog_destroy(cat);
    mc_pool_destroy(pool);
}


static void
test_task(void)
{
    json_t      *j, *r;
    mc_pool_t   *pool;
    mc_task_t    t, back;

    pool = mc_pool_create(4096);
    memset(&t, 0, sizeof(t));

    strcpy(t.id, "video_0123");
    t.account = "acme";
    t.status = MC_TASK_FAILED;
    t.model = "v";
    t.seconds = 8;
    t.size = "1280x720";
    t.credits = 80;
    t.charge = MC_CHARGE_REFUNDED;
    t.created_at = 1764000000123LL;
    t.error_code = "canceled";
    t.metadata = "{\"k\":\"v\"}";

    j = mc_task_to_json(&t);
    ok(mc_task_from_json(pool, j, &back) == MC_OK, "round trip");
    is_str(back.account, "acme", "account");
    is_int(back.status, MC_TASK_FAILED, "status");
    is_int(back.charge, MC_CHARGE_REFUNDED, "charge");
    is_int(back.credits, 80, "credits");
    json_decref(j);

    r = mc_task_render(&t, "https://gw/v1/videos/video_0123/content");
    is_str(mc_json_str(r, "status"), "failed", "public status");
    is_str(mc_json_str(r, "seconds"), "8", "seconds as a string");
    is_int(json_integer_value(json_object_get(r, "created_at")), 1764000000,
           "created_at in seconds");
    is_str(mc_json_path_str(r, "error.code"), "canceled", "error.code");
    ok(json_is_null(mc_json_path(r, "output.video_url")),
       "no video URL unless completed");
    is_str(mc_json_path_str(r, "metadata.k"), "v", "metadata object");
    json_decref(r);

    t.status = MC_TASK_SUBMITTING;
    is_str(mc_task_public_status(t.status), "queued",
           "submitting shows as queued");

    mc_pool_destroy(pool);
}


int
main(void)
{
    test_helpers();
    test_crypto();
    test_multipart();
    test_request();
    test_catalog_errors();
    test_routes();
    test_task();

    return done_testing();
}
