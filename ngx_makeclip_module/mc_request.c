
/*
 * The unified create request: parsing (JSON and multipart) and
 * validation against the model and the plan.
 */

#include "mc_request.h"
#include "mc_multipart.h"
#include "mc_crypto.h"

#include <stdio.h>
#include <stdlib.h>
#include <math.h>
#include <strings.h>


#define MC_METADATA_KEYS     16
#define MC_METADATA_KEY_MAX  64
#define MC_METADATA_VAL_MAX  512
#define MC_URL_MAX           4096
#define MC_DIMENSION_MAX     8192


static int mc_request_from_object(mc_pool_t *pool, mc_video_req_t *req,
    mc_error_t *err);
static int mc_get_string(json_t *root, const char *name, size_t max,
    const char **out, mc_error_t *err);
static int mc_get_seconds(json_t *root, int *out, mc_error_t *err);
static int mc_parse_wxh(const char *s, char sep, int *w, int *h);
static int mc_check_image_url(mc_video_req_t *req, const char *url,
    const char *param, mc_error_t *err);
static int mc_check_metadata(json_t *md, mc_error_t *err);
static int mc_pick_seconds(mc_model_t *m, mc_video_req_t *req,
    mc_error_t *err);
static int mc_pick_size(mc_pool_t *pool, mc_model_t *m, mc_video_req_t *req,
    mc_error_t *err);
static void mc_size_list(mc_model_t *m, char *buf, size_t len);


int
mc_request_parse_json(mc_pool_t *pool, const char *body, size_t len,
    mc_video_req_t *req, mc_error_t *err)
{
    json_t        *root;
    json_error_t   je;

    memset(req, 0, sizeof(mc_video_req_t));

    if (len == 0) {
        mc_error_set(err, 400, MC_ERR_INVALID, "invalid_json", NULL,
                     "The request body is empty; send a JSON object.");
        return MC_ERROR;
    }

    root = json_loadb(body, len, JSON_REJECT_DUPLICATES, &je);

    if (root == NULL) {
        mc_error_set(err, 400, MC_ERR_INVALID, "invalid_json", NULL,
                     "We could not parse the JSON body of your request: "
                     "%s (line %d, column %d).", je.text, je.line,
                     je.column);
        return MC_ERROR;
    }

    if (!json_is_object(root)) {
        json_decref(root);
        mc_error_set(err, 400, MC_ERR_INVALID, "invalid_json", NULL,
                     "The request body must be a JSON object.");
        return MC_ERROR;
    }

    req->raw = root;

    return mc_request_from_object(pool, req, err);
}


int
mc_request_parse_multipart(mc_pool_t *pool, const char *body, size_t len,
    const char *content_type, mc_video_req_t *req, mc_error_t *err)
{
    int         rc, files;
    char       *url, *name;
    size_t      pos, n;
    json_t     *root;
    mc_str_t    boundary;
    mc_part_t   part;

    memset(req, 0, sizeof(mc_video_req_t));

    if (mc_multipart_boundary(content_type, strlen(content_type), &boundary)
        != MC_OK)
    {
        mc_error_set(err, 400, MC_ERR_INVALID, "invalid_multipart", NULL,
                     "The multipart/form-data body has no usable boundary.");
        return MC_ERROR;
    }

    root = json_object();
    if (root == NULL) {
        goto nomem;
    }

    req->raw = root;
    pos = 0;
    files = 0;

    for ( ;; ) {
        rc = mc_multipart_next(body, len, boundary, &pos, &part);

        if (rc == MC_DECLINED) {
            break;
        }

        if (rc != MC_OK) {
            mc_error_set(err, 400, MC_ERR_INVALID, "invalid_multipart", NULL,
                         "The multipart/form-data body is malformed.");
            return MC_ERROR;
        }

        name = mc_pstrndup(pool, part.name.data, part.name.len);
        if (name == NULL) {
            goto nomem;
        }

        if (json_object_get(root, name)) {
            mc_error_set(err, 400, MC_ERR_INVALID, "duplicate_field", name,
                         "The field '%s' appears more than once.", name);
            return MC_ERROR;
        }

        if (part.filename.data) {
            /* an uploaded image becomes a data: URL, the one image shape
             * every adapter accepts */
            if (strcmp(name, "input_reference") != 0 || ++files > 1) {
                mc_error_set(err, 400, MC_ERR_INVALID, "unexpected_file",
                             name, "Only one file, input_reference, may be "
                             "uploaded.");
                return MC_ERROR;
            }

            if (part.content_type.len < 7
                || strncasecmp(part.content_type.data, "image/", 6) != 0)
            {
                mc_error_set(err, 400, MC_ERR_INVALID, "invalid_image",
                             name, "input_reference must be an image "
                             "(image/png, image/jpeg or image/webp).");
                return MC_ERROR;
            }

            if (part.data.len == 0) {
                mc_error_set(err, 400, MC_ERR_INVALID, "invalid_image",
                             name, "input_reference is empty.");
                return MC_ERROR;
            }

            n = part.content_type.len + 13
                + mc_base64_encoded_len(part.data.len) + 1;

            url = mc_palloc(pool, n);
            if (url == NULL) {
                goto nomem;
            }

            n = (size_t) snprintf(url, n, "data:%.*s;base64,",
                                  (int) part.content_type.len,
                                  part.content_type.data);
            mc_base64_encode(url + n, (const unsigned char *) part.data.data,
                             part.data.len, 0);

            if (json_object_set_new(root, "image_url", json_string(url))
                != 0)
            {
                goto nomem;
            }

            continue;
        }

        if (json_object_set_new(root, name,
                                json_stringn(part.data.data, part.data.len))
            != 0)
        {
            mc_error_set(err, 400, MC_ERR_INVALID, "invalid_field", name,
                         "The field '%s' is not valid UTF-8.", name);
            return MC_ERROR;
        }
    }

    /* multipart carries only strings: the fields that are not strings in
     * JSON are converted where it is unambiguous */
    {
        json_t      *v;
        const char  *s;
        int64_t      num;

        v = json_object_get(root, "seed");
        s = json_is_string(v) ? json_string_value(v) : NULL;
        if (s && mc_parse_int(s, strlen(s), &num) == MC_OK) {
            json_object_set_new(root, "seed", json_integer(num));
        }

        v = json_object_get(root, "dry_run");
        s = json_is_string(v) ? json_string_value(v) : NULL;
        if (s && (strcmp(s, "true") == 0 || strcmp(s, "false") == 0)) {
            json_object_set_new(root, "dry_run", json_boolean(s[0] == 't'));
        }
    }

    return mc_request_from_object(pool, req, err);

nomem:

    mc_error_set(err, 500, MC_ERR_SERVER, "internal_error", NULL,
                 "Out of memory.");
    return MC_ERROR;
}


void
mc_request_free(mc_video_req_t *req)
{
    if (req->raw) {
        json_decref(req->raw);
        req->raw = NULL;
    }
}


static int
mc_request_from_object(mc_pool_t *pool, mc_video_req_t *req, mc_error_t *err)
{
    int          w, h;
    json_t      *root, *v, *ir;
    const char  *s, *image;

    root = req->raw;

    if (mc_get_string(root, "model", MC_NAME_MAX * 4, &req->model, err)
        != MC_OK
        || mc_get_string(root, "prompt", MC_PROMPT_MAX, &req->prompt, err)
           != MC_OK
        || mc_get_string(root, "negative_prompt", MC_PROMPT_MAX,
                         &req->negative_prompt, err) != MC_OK
        || mc_get_string(root, "template", MC_NAME_MAX, &req->template_name,
                         err) != MC_OK
        || mc_get_string(root, "callback_url", MC_URL_MAX,
                         &req->callback_url, err) != MC_OK
        || mc_get_seconds(root, &req->seconds, err) != MC_OK)
    {
        return MC_ERROR;
    }

    if (mc_get_string(root, "tier", MC_NAME_MAX, &req->tier, err) != MC_OK) {
        return MC_ERROR;
    }

    if (req->tier == NULL
        && mc_get_string(root, "quality", MC_NAME_MAX, &req->tier, err)
           != MC_OK)
    {
        return MC_ERROR;
    }

    if (req->prompt == NULL || req->prompt[0] == '\0') {
        mc_error_set(err, 400, MC_ERR_INVALID, "missing_required_parameter",
                     "prompt", "Missing required parameter: 'prompt'.");
        return MC_ERROR;
    }

    if (req->callback_url
        && !mc_str_has_prefix(req->callback_url, "https://")
        && !mc_str_has_prefix(req->callback_url, "http://"))
    {
        mc_error_set(err, 400, MC_ERR_INVALID, "invalid_url", "callback_url",
                     "callback_url must be an http:// or https:// URL.");
        return MC_ERROR;
    }

    if (mc_get_string(root, "size", 32, &s, err) != MC_OK) {
        return MC_ERROR;
    }

    if (s) {
        if (mc_parse_wxh(s, 'x', &w, &h) != MC_OK) {
            mc_error_set(err, 400, MC_ERR_INVALID, "invalid_size", "size",
                         "Invalid size '%s': expected WIDTHxHEIGHT, "
                         "e.g. 1280x720.", s);
            return MC_ERROR;
        }

        req->width = w;
        req->height = h;
        req->size = mc_psprintf(pool, "%dx%d", w, h);
    }

    if (mc_get_string(root, "aspect_ratio", 16, &s, err) != MC_OK) {
        return MC_ERROR;
    }

    if (s) {
        if (mc_parse_wxh(s, ':', &w, &h) != MC_OK || w > 100 || h > 100) {
            mc_error_set(err, 400, MC_ERR_INVALID, "invalid_aspect_ratio",
                         "aspect_ratio", "Invalid aspect_ratio '%s': "
                         "expected W:H, e.g. 16:9.", s);
            return MC_ERROR;
        }

        req->aspect_ratio = mc_psprintf(pool, "%d:%d", w, h);
    }

    if (mc_get_string(root, "resolution", 16, &s, err) != MC_OK) {
        return MC_ERROR;
    }

    if (s) {
        req->resolution = mc_resolution_parse(s);
        if (req->resolution <= 0) {
            mc_error_set(err, 400, MC_ERR_INVALID, "invalid_resolution",
                         "resolution", "Invalid resolution '%s': expected "
                         "e.g. 720p, 1080p or 4k.", s);
            return MC_ERROR;
        }
    }

    /* image input: image_url, or OpenAI's input_reference as a URL
     * string or as {"image_url": ...} */
    image = NULL;

    if (mc_get_string(root, "image_url", (size_t) -1, &image, err)
        != MC_OK)
    {
        return MC_ERROR;
    }

    ir = json_object_get(root, "input_reference");

    if (ir && !json_is_null(ir)) {
        if (image) {
            mc_error_set(err, 400, MC_ERR_INVALID, "conflicting_parameters",
                         "input_reference", "Send either image_url or "
                         "input_reference, not both.");
            return MC_ERROR;
        }

        if (json_is_string(ir)) {
            image = json_string_value(ir);

        } else if (json_is_object(ir)
                   && json_is_string(json_object_get(ir, "image_url")))
        {
            image = json_string_value(json_object_get(ir, "image_url"));

        } else if (json_is_object(ir) && json_object_get(ir, "file_id")) {
            mc_error_set(err, 400, MC_ERR_INVALID, "unsupported_parameter",
                         "input_reference", "input_reference.file_id is not "
                         "supported; send image_url or upload the image.");
            return MC_ERROR;

        } else {
            mc_error_set(err, 400, MC_ERR_INVALID, "invalid_type",
                         "input_reference", "input_reference must be an "
                         "object with image_url, or an uploaded file.");
            return MC_ERROR;
        }
    }

    if (image && mc_check_image_url(req, image, "image_url", err) != MC_OK) {
        return MC_ERROR;
    }

    v = json_object_get(root, "seed");

    if (v && !json_is_null(v)) {
        if (!json_is_integer(v) || json_integer_value(v) < 0
            || json_integer_value(v) > 4294967295LL)
        {
            mc_error_set(err, 400, MC_ERR_INVALID, "invalid_seed", "seed",
                         "seed must be an integer from 0 to 4294967295.");
            return MC_ERROR;
        }

        req->seed = json_integer_value(v);
        req->has_seed = 1;
    }

    v = json_object_get(root, "dry_run");

    if (v && !json_is_null(v)) {
        if (!json_is_boolean(v)) {
            mc_error_set(err, 400, MC_ERR_INVALID, "invalid_type", "dry_run",
                         "dry_run must be true or false.");
            return MC_ERROR;
        }
        req->dry_run = json_is_true(v);
    }

    v = json_object_get(root, "metadata");

    if (v && !json_is_null(v)) {
        if (mc_check_metadata(v, err) != MC_OK) {
            return MC_ERROR;
        }
        req->metadata = v;
    }

    return MC_OK;
}


int
mc_request_validate(mc_pool_t *pool, mc_video_req_t *req, mc_catalog_t *cat,
    mc_plan_t *plan, const char *default_model, mc_error_t *err)
{
    mc_model_t  *m;

    if (req->model == NULL || req->model[0] == '\0') {
        req->model = default_model;
    }

    if (req->model == NULL) {
        mc_error_set(err, 400, MC_ERR_INVALID, "missing_required_parameter",
                     "model", "Missing required parameter: 'model'.");
        return MC_ERROR;
    }

    m = mc_catalog_model(cat, req->model);

    if (m == NULL) {
        mc_error_set(err, 400, MC_ERR_INVALID, "model_not_found", "model",
                     "The model '%s' does not exist.", req->model);
        return MC_ERROR;
    }

    req->catalog_model = m;

    if (req->template_name) {
        mc_error_set(err, 400, MC_ERR_INVALID, "template_not_found",
                     "template", "The template '%s' does not exist.",
                     req->template_name);
        return MC_ERROR;
    }

    if (plan && !mc_plan_allows_model(plan, m->name)) {
        mc_error_set(err, 403, MC_ERR_PERMISSION, "model_not_allowed",
                     "model", "The model '%s' is not available on plan '%s'.",
                     m->name, plan->name);
        return MC_ERROR;
    }

    if (mc_pick_seconds(m, req, err) != MC_OK) {
        return MC_ERROR;
    }

    if (plan && plan->max_seconds && req->seconds > plan->max_seconds) {
        mc_error_set(err, 403, MC_ERR_PERMISSION, "duration_not_allowed",
                     "seconds", "seconds %d is above the %d allowed for plan "
                     "'%s'", req->seconds, plan->max_seconds, plan->name);
        return MC_ERROR;
    }

    if (mc_pick_size(pool, m, req, err) != MC_OK) {
        return MC_ERROR;
    }

    if (plan && plan->max_resolution
        && req->resolution > plan->max_resolution)
    {
        mc_error_set(err, 403, MC_ERR_PERMISSION, "resolution_not_allowed",
                     "size", "size %s is above the %dp allowed for plan '%s'",
                     req->size, plan->max_resolution, plan->name);
        return MC_ERROR;
    }

    req->credits = mc_model_price(m, req->seconds, req->resolution);

    return MC_OK;
}


static int
mc_pick_seconds(mc_model_t *m, mc_video_req_t *req, mc_error_t *err)
{
    int     best, d, bd;
    char    list[256];
    size_t  i, n;

    if (req->seconds == 0) {
        req->seconds = m->default_seconds;
        return MC_OK;
    }

    if (m->nseconds == 0) {
        if (req->seconds > m->max_seconds) {
            mc_error_set(err, 400, MC_ERR_INVALID, "invalid_seconds",
                         "seconds", "seconds %d is above the %d the model "
                         "'%s' can make.", req->seconds, m->max_seconds,
                         m->name);
            return MC_ERROR;
        }

        return MC_OK;
    }

    best = m->seconds[0];
    bd = abs(req->seconds - best);

    for (i = 0; i < m->nseconds; i++) {
        if (m->seconds[i] == req->seconds) {
            return MC_OK;
        }

        d = abs(req->seconds - m->seconds[i]);

        /* a tie goes to the shorter, cheaper video */
        if (d < bd || (d == bd && m->seconds[i] < best)) {
            best = m->seconds[i];
            bd = d;
        }
    }

    if (m->seconds_nearest) {
        req->seconds = best;
        return MC_OK;
    }

    n = 0;
    list[0] = '\0';

    for (i = 0; i < m->nseconds && n < sizeof(list) - 16; i++) {
        n += (size_t) snprintf(list + n, sizeof(list) - n, "%s%d",
                               i ? ", " : "", m->seconds[i]);
    }

    mc_error_set(err, 400, MC_ERR_INVALID, "invalid_seconds", "seconds",
                 "seconds %d is not available for model '%s'; allowed: %s.",
                 req->seconds, m->name, list);
    return MC_ERROR;
}


static int
mc_pick_size(mc_pool_t *pool, mc_model_t *m, mc_video_req_t *req,
    mc_error_t *err)
{
    int          w, h, aw, ah, res;
    char         list[512];
    size_t       i;
    const char  *aspect;

    if (req->size == NULL) {
        if (req->aspect_ratio == NULL && req->resolution == 0) {
            req->size = m->default_size;

        } else {
            /* aspect ratio and resolution, each defaulting to the
             * model's default size */
            mc_parse_wxh(m->default_size, 'x', &w, &h);

            if (req->aspect_ratio) {
                mc_parse_wxh(req->aspect_ratio, ':', &aw, &ah);

            } else {
                aw = w;
                ah = h;
            }

            res = req->resolution ? req->resolution : (w < h ? w : h);

            if (aw >= ah) {
                h = res;
                w = (int) ((int64_t) res * aw / ah);

            } else {
                w = res;
                h = (int) ((int64_t) res * ah / aw);
            }

            /* even dimensions, as encoders want */
            w += w & 1;
            h += h & 1;

            req->size = mc_psprintf(pool, "%dx%d", w, h);

            /* a model with a fixed list: the listed size of that shape
             * closest in resolution */
            if (m->nsizes) {
                const char  *best = NULL;
                int          bd = 0, sw, sh, d;

                for (i = 0; i < m->nsizes; i++) {
                    mc_parse_wxh(m->sizes[i], 'x', &sw, &sh);
                    if ((int64_t) sw * ah != (int64_t) sh * aw
                        && strcmp(mc_aspect_of(pool, sw, sh),
                                  mc_aspect_of(pool, aw, ah)) != 0)
                    {
                        continue;
                    }

                    d = abs((sw < sh ? sw : sh) - res);
                    if (best == NULL || d < bd) {
                        best = m->sizes[i];
                        bd = d;
                    }
                }

                if (best) {
                    req->size = best;
                }
            }
        }

        if (req->size == NULL) {
            goto nomem;
        }
    }

    if (m->nsizes) {
        for (i = 0; i < m->nsizes; i++) {
            if (strcmp(m->sizes[i], req->size) == 0) {
                break;
            }
        }

        if (i == m->nsizes) {
            mc_size_list(m, list, sizeof(list));
            mc_error_set(err, 400, MC_ERR_INVALID, "invalid_size", "size",
                         "size %s is not available for model '%s'; "
                         "allowed: %s.", req->size, m->name, list);
            return MC_ERROR;
        }
    }

    if (mc_parse_wxh(req->size, 'x', &w, &h) != MC_OK) {
        mc_error_set(err, 400, MC_ERR_INVALID, "invalid_size", "size",
                     "Invalid size '%s'.", req->size);
        return MC_ERROR;
    }

    req->width = w;
    req->height = h;
    req->resolution = w < h ? w : h;

    aspect = mc_aspect_of(pool, w, h);
    if (aspect == NULL) {
        goto nomem;
    }

    if (req->aspect_ratio && strcmp(req->aspect_ratio, aspect) != 0) {
        /* an explicit ratio that the size contradicts is a mistake */
        mc_parse_wxh(req->aspect_ratio, ':', &aw, &ah);

        if ((int64_t) aw * h != (int64_t) ah * w) {
            mc_error_set(err, 400, MC_ERR_INVALID, "conflicting_parameters",
                         "aspect_ratio", "aspect_ratio %s does not match "
                         "size %s.", req->aspect_ratio, req->size);
            return MC_ERROR;
        }
    }

    req->aspect_ratio = aspect;
    return MC_OK;

nomem:

    mc_error_set(err, 500, MC_ERR_SERVER, "internal_error", NULL,
                 "Out of memory.");
    return MC_ERROR;
}


static void
mc_size_list(mc_model_t *m, char *buf, size_t len)
{
    size_t  i, n;

    n = 0;
    buf[0] = '\0';

    for (i = 0; i < m->nsizes && n + 24 < len; i++) {
        n += (size_t) snprintf(buf + n, len - n, "%s%s", i ? ", " : "",
                               m->sizes[i]);
    }
}


const char *
mc_request_field(mc_pool_t *pool, const mc_video_req_t *req,
    const char *name)
{
    json_t  *v;

    v = json_object_get(req->raw, name);

    if (json_is_string(v)) {
        return json_string_value(v);
    }

    if (json_is_integer(v)) {
        return mc_psprintf(pool, "%lld", (long long) json_integer_value(v));
    }

    if (json_is_boolean(v)) {
        return json_is_true(v) ? "true" : "false";
    }

    return NULL;
}


static const struct {
    int          w;
    int          h;
    const char  *name;
} mc_aspects[] = {
    { 16, 9, "16:9" }, { 9, 16, "9:16" }, { 1, 1, "1:1" },
    { 4, 3, "4:3" }, { 3, 4, "3:4" }, { 21, 9, "21:9" }, { 9, 21, "9:21" },
    { 3, 2, "3:2" }, { 2, 3, "2:3" }, { 4, 5, "4:5" }, { 5, 4, "5:4" }
};


const char *
mc_aspect_of(mc_pool_t *pool, int width, int height)
{
    int     a, b, t;
    size_t  i;
    double  r, q;

    if (width <= 0 || height <= 0) {
        return NULL;
    }

    r = (double) width / height;

    /* sizes such as 854x480 are 16:9 in everything but arithmetic */
    for (i = 0; i < sizeof(mc_aspects) / sizeof(mc_aspects[0]); i++) {
        q = (double) mc_aspects[i].w / mc_aspects[i].h;
        if (fabs(r / q - 1.0) < 0.01) {
            return mc_aspects[i].name;
        }
    }

    a = width;
    b = height;

    while (b) {
        t = a % b;
        a = b;
        b = t;
    }

    return mc_psprintf(pool, "%d:%d", width / a, height / a);
}


const char *
mc_nearest_aspect(int width, int height, const char **list, size_t n)
{
    int          w, h;
    size_t       i;
    double       r, d, bd;
    const char  *best;

    if (n == 0 || width <= 0 || height <= 0) {
        return NULL;
    }

    r = log((double) width / height);
    best = NULL;
    bd = 0;

    for (i = 0; i < n; i++) {
        if (mc_parse_wxh(list[i], ':', &w, &h) != MC_OK) {
            continue;
        }

        d = fabs(log((double) w / h) - r);

        if (best == NULL || d < bd) {
            best = list[i];
            bd = d;
        }
    }

    return best;
}


static int
mc_get_string(json_t *root, const char *name, size_t max, const char **out,
    mc_error_t *err)
{
    json_t  *v;

    *out = NULL;
    v = json_object_get(root, name);

    if (v == NULL || json_is_null(v)) {
        return MC_OK;
    }

    if (!json_is_string(v)) {
        mc_error_set(err, 400, MC_ERR_INVALID, "invalid_type", name,
                     "'%s' must be a string.", name);
        return MC_ERROR;
    }

    if (json_string_length(v) > max) {
        mc_error_set(err, 400, MC_ERR_INVALID, "string_above_max_length",
                     name, "'%s' is longer than %zu characters.", name, max);
        return MC_ERROR;
    }

    if (strlen(json_string_value(v)) != json_string_length(v)) {
        mc_error_set(err, 400, MC_ERR_INVALID, "invalid_value", name,
                     "'%s' must not contain NUL characters.", name);
        return MC_ERROR;
    }

    *out = json_string_value(v);
    return MC_OK;
}


static int
mc_get_seconds(json_t *root, int *out, mc_error_t *err)
{
    json_t      *v;
    int64_t      n;
    const char  *s;

    *out = 0;
    v = json_object_get(root, "seconds");

    if (v == NULL || json_is_null(v)) {
        return MC_OK;
    }

    /* OpenAI sends a string ("8"); a number is accepted too */
    if (json_is_integer(v)) {
        n = json_integer_value(v);

    } else if (json_is_string(v)) {
        s = json_string_value(v);
        if (mc_parse_int(s, strlen(s), &n) != MC_OK) {
            goto invalid;
        }

    } else {
        goto invalid;
    }

    if (n < 1 || n > MC_SECONDS_MAX) {
        goto invalid;
    }

    *out = (int) n;
    return MC_OK;

invalid:

    mc_error_set(err, 400, MC_ERR_INVALID, "invalid_seconds", "seconds",
                 "seconds must be a whole number from 1 to %d, e.g. \"8\".",
                 MC_SECONDS_MAX);
    return MC_ERROR;
}


static int
mc_parse_wxh(const char *s, char sep, int *w, int *h)
{
    size_t       n;
    int64_t      a, b;
    const char  *p;

    p = strchr(s, sep);
    if (p == NULL) {
        return MC_ERROR;
    }

    n = (size_t) (p - s);

    if (mc_parse_int(s, n, &a) != MC_OK
        || mc_parse_int(p + 1, strlen(p + 1), &b) != MC_OK
        || a < 1 || b < 1 || a > MC_DIMENSION_MAX || b > MC_DIMENSION_MAX)
    {
        return MC_ERROR;
    }

    *w = (int) a;
    *h = (int) b;
    return MC_OK;
}


static int
mc_check_image_url(mc_video_req_t *req, const char *url, const char *param,
    mc_error_t *err)
{
    const char  *p, *comma;

    if (mc_str_has_prefix(url, "https://") || mc_str_has_prefix(url, "http://"))
    {
        if (strlen(url) > MC_URL_MAX) {
            mc_error_set(err, 400, MC_ERR_INVALID, "invalid_url", param,
                         "The image URL is longer than %d characters.",
                         MC_URL_MAX);
            return MC_ERROR;
        }

        req->image_url = url;
        return MC_OK;
    }

    if (strncasecmp(url, "data:", 5) != 0) {
        mc_error_set(err, 400, MC_ERR_INVALID, "invalid_url", param,
                     "The image must be an https:// URL or a data: URL.");
        return MC_ERROR;
    }

    p = url + 5;
    comma = strchr(p, ',');

    if (comma == NULL || comma - p < 14
        || strncasecmp(comma - 7, ";base64", 7) != 0
        || strncasecmp(p, "image/", 6) != 0)
    {
        mc_error_set(err, 400, MC_ERR_INVALID, "invalid_image", param,
                     "A data: URL image must be data:image/<type>;base64,...");
        return MC_ERROR;
    }

    if (comma[1] == '\0'
        || mc_base64_valid(comma + 1, strlen(comma + 1)) != MC_OK)
    {
        mc_error_set(err, 400, MC_ERR_INVALID, "invalid_image", param,
                     "The data: URL image is not valid base64.");
        return MC_ERROR;
    }

    req->image_url = url;
    return MC_OK;
}


static int
mc_check_metadata(json_t *md, mc_error_t *err)
{
    json_t      *v;
    const char  *k;

    if (!json_is_object(md)) {
        mc_error_set(err, 400, MC_ERR_INVALID, "invalid_type", "metadata",
                     "metadata must be an object of strings.");
        return MC_ERROR;
    }

    if (json_object_size(md) > MC_METADATA_KEYS) {
        mc_error_set(err, 400, MC_ERR_INVALID, "invalid_metadata",
                     "metadata", "metadata may hold at most %d keys.",
                     MC_METADATA_KEYS);
        return MC_ERROR;
    }

    json_object_foreach(md, k, v) {
        if (strlen(k) > MC_METADATA_KEY_MAX || !json_is_string(v)
            || json_string_length(v) > MC_METADATA_VAL_MAX)
        {
            mc_error_set(err, 400, MC_ERR_INVALID, "invalid_metadata",
                         "metadata", "metadata keys are at most %d "
                         "characters and values strings of at most %d.",
                         MC_METADATA_KEY_MAX, MC_METADATA_VAL_MAX);
            return MC_ERROR;
        }
    }

    return MC_OK;
}
