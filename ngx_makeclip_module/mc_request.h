
/*
 * The unified create request (POST /v1/videos): OpenAI's Videos API
 * fields plus makeclip's, parsed from JSON or multipart/form-data and
 * validated against the model and the plan before anything is charged.
 */

#ifndef _MC_REQUEST_H_INCLUDED_
#define _MC_REQUEST_H_INCLUDED_


#include "mc_core.h"
#include "mc_catalog.h"


#define MC_PROMPT_MAX      32000


typedef struct {
    const char   *model;
    const char   *prompt;
    const char   *tier;
    const char   *negative_prompt;
    const char   *callback_url;
    const char   *template_name;

    int           seconds;          /* 0: not given */
    int           width;            /* 0: not given */
    int           height;
    const char   *size;             /* "WxH" as normalized */
    const char   *aspect_ratio;     /* "W:H" */
    int           resolution;       /* short side in pixels, 0: not given */

    /* image input: an https URL or a data: URL (uploads become data:);
     * mc_data_url_split() takes a data: URL apart */
    const char   *image_url;

    int64_t       seed;
    unsigned      has_seed:1;
    unsigned      dry_run:1;

    json_t       *metadata;         /* object, borrowed from raw */
    json_t       *raw;              /* the whole request as JSON, owned */

    mc_model_t   *catalog_model;    /* set by mc_request_validate */
    int64_t       credits;
} mc_video_req_t;


/* both take ownership of nothing; req->raw must be released with
 * mc_request_free() */
int mc_request_parse_json(mc_pool_t *pool, const char *body, size_t len,
    mc_video_req_t *req, mc_error_t *err);
int mc_request_parse_multipart(mc_pool_t *pool, const char *body,
    size_t len, const char *content_type, mc_video_req_t *req,
    mc_error_t *err);
void mc_request_free(mc_video_req_t *req);

/*
 * Fills defaults from the model, checks the model's and the plan's limits
 * and computes the price.  default_model is used when the request names
 * none (may be NULL).
 */
int mc_request_validate(mc_pool_t *pool, mc_video_req_t *req,
    mc_catalog_t *cat, mc_plan_t *plan, const char *default_model,
    mc_error_t *err);

/* a plain top-level field as a string, for routing conditions */
const char *mc_request_field(mc_pool_t *pool, const mc_video_req_t *req,
    const char *name);

/* "16:9" for 1280x720; the reduced ratio otherwise */
const char *mc_aspect_of(mc_pool_t *pool, int width, int height);
/* of the given "W:H" list, the closest to width/height */
const char *mc_nearest_aspect(int width, int height, const char **list,
    size_t n);


#endif /* _MC_REQUEST_H_INCLUDED_ */
