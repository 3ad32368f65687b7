
/*
 * Copyright (C) makeclip authors
 *
 * The life of a task: create (validate, route, reserve, submit with
 * fallback), retrieve (poll when stale, settle or refund on the end) and
 * cancel.
 */


#include "ngx_http_makeclip.h"
#include "mc_crypto.h"


static ngx_int_t ngx_http_makeclip_create_start(ngx_http_request_t *r,
    ngx_http_makeclip_ctx_t *ctx);
static ngx_int_t ngx_http_makeclip_parse_body(ngx_http_request_t *r,
    ngx_http_makeclip_ctx_t *ctx, mc_error_t *err);
static ngx_int_t ngx_http_makeclip_dry_run(ngx_http_request_t *r,
    ngx_http_makeclip_ctx_t *ctx);
static void ngx_http_makeclip_try_target(ngx_http_request_t *r,
    ngx_http_makeclip_ctx_t *ctx);
static void ngx_http_makeclip_create_done(ngx_http_request_t *r,
    ngx_http_makeclip_ctx_t *ctx);
static ngx_int_t ngx_http_makeclip_create_failed(ngx_http_request_t *r,
    ngx_http_makeclip_ctx_t *ctx, mc_error_t *err, const char *code,
    const char *message);
static void ngx_http_makeclip_status_done(ngx_http_request_t *r,
    ngx_http_makeclip_ctx_t *ctx);
static void ngx_http_makeclip_cancel_done(ngx_http_request_t *r,
    ngx_http_makeclip_ctx_t *ctx);
static ngx_int_t ngx_http_makeclip_finish(ngx_http_request_t *r,
    ngx_http_makeclip_ctx_t *ctx, mc_task_status_e status, const char *code,
    const char *message);
static void ngx_http_makeclip_apply(ngx_http_makeclip_ctx_t *ctx,
    mc_result_t *res);
static ngx_int_t ngx_http_makeclip_send_task(ngx_http_request_t *r,
    ngx_http_makeclip_ctx_t *ctx, ngx_uint_t status);
static int ngx_http_makeclip_route_var(void *data, const mc_cond_t *c,
    mc_str_t *value);


/* POST /videos: the body has been read */

void
ngx_http_makeclip_create(ngx_http_request_t *r)
{
    ngx_http_makeclip_ctx_t  *ctx;

    ctx = ngx_http_makeclip_get_ctx(r);

    if (ctx == NULL) {
        ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    ngx_http_finalize_request(r, ngx_http_makeclip_create_start(r, ctx));
}


static ngx_int_t
ngx_http_makeclip_create_start(ngx_http_request_t *r,
    ngx_http_makeclip_ctx_t *ctx)
{
    int                             rc;
    char                           *idem, hash[65], existing[MC_ID_LEN + 1];
    mc_task_t                      *t;
    mc_error_t                      err;
    ngx_str_t                       key;
    ngx_uint_t                      i;
    ngx_list_part_t                *part;
    ngx_table_elt_t                *h;
    size_t                          n;
    unsigned                        need, have, lacking;
    mc_target_t                    *targets;
    mc_route_ctx_t                  rctx;
    ngx_http_makeclip_loc_conf_t   *mlcf;
    ngx_http_makeclip_main_conf_t  *mmcf;

    mlcf = ngx_http_get_module_loc_conf(r, ngx_http_makeclip_module);
    mmcf = ngx_http_get_module_main_conf(r, ngx_http_makeclip_module);

    if (ctx->body_too_large) {
        return ngx_http_makeclip_error(r, NGX_HTTP_REQUEST_ENTITY_TOO_LARGE,
                                       MC_ERR_INVALID, "request_too_large",
                                       NULL, "The request body is larger "
                                       "than this endpoint accepts.");
    }

    if (ngx_http_makeclip_read_body(r, ctx) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    /* everything the client got wrong is answered before any charge */
    if (ngx_http_makeclip_parse_body(r, ctx, &err) != NGX_OK
        || mc_request_validate(ctx->pool, &ctx->req, mmcf->catalog, ctx->plan,
                               mlcf->default_model.len
                               ? mc_pstrndup(ctx->pool,
                                             (char *) mlcf->default_model.data,
                                             mlcf->default_model.len)
                               : NULL, &err)
           != MC_OK)
    {
        ngx_log_error(mlcf->reject_log_level, r->connection->log, 0,
                      "makeclip: create rejected for account \"%s\": %s",
                      ctx->account.id, err.message);

        return ngx_http_makeclip_send_error(r, &err);
    }

    ctx->model = ctx->req.catalog_model;

    ngx_memzero(&rctx, sizeof(mc_route_ctx_t));
    rctx.pool = ctx->pool;
    rctx.req = &ctx->req;
    rctx.plan = ctx->plan->name;
    rctx.account = ctx->account.id;
    rctx.var = ngx_http_makeclip_route_var;
    rctx.data = r;

    ctx->targets = mc_route_targets(mlcf->routes, &rctx, &ctx->ntargets);

    if (ctx->ntargets == 0) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "makeclip: no route for model \"%s\"",
                      ctx->model->name);

        return ngx_http_makeclip_error(r, NGX_HTTP_SERVICE_UNAVAILABLE,
                                       MC_ERR_SERVER, "no_route", "model",
                                       "No provider serves this model right "
                                       "now; nothing was charged.");
    }

    /* only the targets that can serve the request whole */
    need = mc_request_needs(&ctx->req);

    if (need) {
        targets = mc_palloc(ctx->pool, ctx->ntargets * sizeof(mc_target_t));
        if (targets == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        n = 0;
        lacking = 0;

        for (i = 0; i < ctx->ntargets; i++) {
            have = ctx->targets[i].provider->features;

            if ((have & need) == need) {
                targets[n++] = ctx->targets[i];

            } else {
                lacking |= need & ~have;
            }
        }

        if (n == 0) {
            mc_error_set(&err, 400, MC_ERR_INVALID, "unsupported_parameter",
                         NULL, "The model '%s' cannot take %s here.",
                         ctx->model->name,
                         mc_features_text(ctx->pool, lacking));

            ngx_log_error(mlcf->reject_log_level, r->connection->log, 0,
                          "makeclip: create rejected for account \"%s\": %s",
                          ctx->account.id, err.message);

            return ngx_http_makeclip_send_error(r, &err);
        }

        ctx->targets = targets;
        ctx->ntargets = n;
    }

    if (ctx->req.dry_run) {
        return ngx_http_makeclip_dry_run(r, ctx);
    }

    /* Idempotency-Key: the same key and body give back the same task */
    idem = NULL;
    key.len = 0;
    part = &r->headers_in.headers.part;
    h = part->elts;

    for (i = 0; /* void */ ; i++) {

        if (i >= part->nelts) {
            if (part->next == NULL) {
                break;
            }

            part = part->next;
            h = part->elts;
            i = 0;
        }

        if (h[i].key.len == 15
            && ngx_strncasecmp(h[i].key.data, (u_char *) "Idempotency-Key",
                               15) == 0)
        {
            key = h[i].value;
            break;
        }
    }

    if (key.len) {
        if (key.len > 255) {
            return ngx_http_makeclip_error(r, NGX_HTTP_BAD_REQUEST,
                                           MC_ERR_INVALID,
                                           "invalid_idempotency_key", NULL,
                                           "Idempotency-Key is longer than "
                                           "255 characters.");
        }

        idem = mc_pstrndup(ctx->pool, (char *) key.data, key.len);
        mc_sha256_hex(ctx->body.data, ctx->body.len, hash);
    }

    t = &ctx->task;
    ngx_memzero(t, sizeof(mc_task_t));

    if (mc_new_id(t->id, sizeof(t->id), "video_") != MC_OK) {
        ngx_log_error(NGX_LOG_ALERT, r->connection->log, ngx_errno,
                      "makeclip: getrandom() failed");
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    t->account = ctx->account.id;
    t->status = MC_TASK_SUBMITTING;
    t->model = ctx->model->name;
    t->prompt = ctx->req.prompt;
    t->seconds = ctx->req.seconds;
    t->size = ctx->req.size;
    t->callback_url = ctx->req.callback_url;
    t->metadata = ctx->req.metadata ? mc_json_dump(ctx->req.metadata) : NULL;
    t->idempotency_key = idem;
    t->credits = ctx->req.credits;
    t->created_at = ngx_http_makeclip_now();
    t->updated_at = t->created_at;
    t->polled_at = t->created_at;

    if (t->metadata) {
        /* mc_json_dump() mallocs; the task's strings live in the pool */
        char *md = (char *) t->metadata;
        t->metadata = mc_pstrdup(ctx->pool, md);
        free(md);
    }

    rc = mc_store_task_reserve(ngx_http_makeclip_store(r), t,
                               ctx->plan->max_active, idem, hash,
                               (mc_msec_t) mlcf->idempotency_ttl, existing);

    switch (rc) {

    case MC_OK:
        break;

    case MC_STORE_NO_FUNDS:
        ngx_log_error(mlcf->reject_log_level, r->connection->log, 0,
                      "makeclip: account \"%s\" has %L credits, the video "
                      "costs %L", ctx->account.id, ctx->account.balance,
                      t->credits);

        mc_error_set(&err, 402, MC_ERR_BILLING, "insufficient_credits",
                     NULL, "This video costs %lld credits; the balance is "
                     "too low.", (long long) t->credits);
        return ngx_http_makeclip_send_error(r, &err);

    case MC_STORE_BUSY:
        ngx_log_error(mlcf->reject_log_level, r->connection->log, 0,
                      "makeclip: account \"%s\" is at its active task limit",
                      ctx->account.id);

        mc_error_set(&err, 429, MC_ERR_RATE, "too_many_active_tasks", NULL,
                     "Plan '%s' allows %d videos in progress at once.",
                     ctx->plan->name, ctx->plan->max_active);
        return ngx_http_makeclip_send_error(r, &err);

    case MC_STORE_IDEM_SAME:
        if (mc_store_task_get(ngx_http_makeclip_store(r), ctx->pool, existing,
                              &ctx->task)
            != MC_OK)
        {
            return ngx_http_makeclip_store_error(r, MC_ERROR,
                                                 "reading a task");
        }

        ctx->have_task = 1;
        return ngx_http_makeclip_send_task(r, ctx, NGX_HTTP_OK);

    case MC_STORE_IDEM_CONFLICT:
        return ngx_http_makeclip_error(r, NGX_HTTP_CONFLICT,
                                       MC_ERR_CONFLICT,
                                       "idempotency_key_reused", NULL,
                                       "This Idempotency-Key was used with "
                                       "a different request body.");

    case MC_STORE_DISABLED:
        return ngx_http_makeclip_error(r, NGX_HTTP_FORBIDDEN,
                                       MC_ERR_PERMISSION, "account_disabled",
                                       NULL, "This account is disabled.");

    case MC_NOT_FOUND:
        return ngx_http_makeclip_error(r, NGX_HTTP_UNAUTHORIZED,
                                       MC_ERR_INVALID, "unknown_account",
                                       NULL, "The account is not known to "
                                       "the gateway.");

    default:
        return ngx_http_makeclip_store_error(r, rc, "reserving credits");
    }

    ngx_http_makeclip_store_committed(r);
    ctx->have_task = 1;

    ngx_log_debug3(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "makeclip task %s reserved %L credits, %uz targets",
                   t->id, t->credits, ctx->ntargets);

    /* the create ends in create_done, now or after the provider answers */
    r->main->count++;

    ctx->target = 0;
    ngx_http_makeclip_try_target(r, ctx);

    return NGX_DONE;
}


static ngx_int_t
ngx_http_makeclip_parse_body(ngx_http_request_t *r,
    ngx_http_makeclip_ctx_t *ctx, mc_error_t *err)
{
    int        rc;
    ngx_str_t  ct;

    ct.len = 0;

    if (r->headers_in.content_type) {
        ct = r->headers_in.content_type->value;
    }

    if (ct.len >= 19
        && ngx_strncasecmp(ct.data, (u_char *) "multipart/form-data", 19)
           == 0)
    {
        rc = mc_request_parse_multipart(ctx->pool, (char *) ctx->body.data,
                                        ctx->body.len,
                                        mc_pstrndup(ctx->pool,
                                                    (char *) ct.data, ct.len),
                                        &ctx->req, err);

    } else if (ct.len == 0
               || (ct.len >= 16
                   && ngx_strncasecmp(ct.data, (u_char *) "application/json",
                                      16) == 0))
    {
        rc = mc_request_parse_json(ctx->pool, (char *) ctx->body.data,
                                   ctx->body.len, &ctx->req, err);

    } else {
        mc_error_set(err, 415, MC_ERR_INVALID, "unsupported_media_type",
                     NULL, "Send application/json or multipart/form-data.");
        return NGX_ERROR;
    }

    return rc == MC_OK ? NGX_OK : NGX_ERROR;
}


/* "dry_run": true: the route and the price, nothing reserved */

static ngx_int_t
ngx_http_makeclip_dry_run(ngx_http_request_t *r, ngx_http_makeclip_ctx_t *ctx)
{
    size_t        i;
    json_t       *root, *route;
    mc_target_t  *t;

    route = json_array();

    for (i = 0; i < ctx->ntargets; i++) {
        t = &ctx->targets[i];
        json_array_append_new(route,
            json_pack("{s:s, s:s}", "provider", t->provider->name,
                      "model", t->model_id ? t->model_id : ctx->model->name));
    }

    root = json_object();
    json_object_set_new(root, "object", json_string("video.quote"));
    json_object_set_new(root, "dry_run", json_true());
    json_object_set_new(root, "model", json_string(ctx->model->name));
    json_object_set_new(root, "seconds", json_sprintf("%d",
                                                      ctx->req.seconds));
    json_object_set_new(root, "size", json_string(ctx->req.size));
    json_object_set_new(root, "credits", json_integer(ctx->req.credits));
    json_object_set_new(root, "balance", json_integer(ctx->account.balance));
    json_object_set_new(root, "affordable",
                        json_boolean(ctx->account.balance
                                     >= ctx->req.credits));
    json_object_set_new(root, "route", route);

    return ngx_http_makeclip_send_json(r, NGX_HTTP_OK, root);
}


static void
ngx_http_makeclip_try_target(ngx_http_request_t *r,
    ngx_http_makeclip_ctx_t *ctx)
{
    mc_target_t  *t;

    t = &ctx->targets[ctx->target];

    ngx_http_makeclip_call_init(ctx, t->provider,
                                t->model_id ? t->model_id : ctx->model->name);

    ngx_http_makeclip_op_start(r, ctx, NGX_HTTP_MAKECLIP_OP_CREATE,
                               ngx_http_makeclip_create_done);
}


static void
ngx_http_makeclip_create_done(ngx_http_request_t *r,
    ngx_http_makeclip_ctx_t *ctx)
{
    int           rc;
    mc_task_t    *t;
    mc_error_t    err;
    mc_result_t  *res;
    ngx_uint_t    status;

    res = &ctx->call.result;
    t = &ctx->task;

    if (res->fail == MC_FAIL_NONE
        && (res->provider_task_id == NULL || !res->has_state))
    {
        mc_result_fail(&ctx->call, MC_FAIL_PROTOCOL, res->http_status,
                       "the answer has no task id");
    }

    if (res->fail == MC_FAIL_NONE) {
        t->provider = ctx->call.provider->name;
        t->provider_model = ctx->call.model_id;
        t->provider_task_id = res->provider_task_id;
        t->provider_data = res->provider_data;
        t->status = MC_TASK_QUEUED;
        ngx_http_makeclip_apply(ctx, res);
        t->polled_at = ngx_http_makeclip_now();

        rc = mc_store_task_save(ngx_http_makeclip_store(r), ctx->pool, t,
                                t->polled_at, t);
        if (rc != MC_OK) {
            /*
             * the provider has the job but the store cannot say so: the
             * task stays "submitting" with its reservation, and the
             * submit timeout refunds it; the client must not be told
             * nothing was charged
             */
            ngx_log_error(NGX_LOG_CRIT, r->connection->log, 0,
                          "makeclip store failed recording task %s, which "
                          "provider \"%s\" accepted as \"%s\": %s", t->id,
                          t->provider, t->provider_task_id,
                          mc_store_error(ngx_http_makeclip_store(r)));

            mc_error_set(&err, 503, MC_ERR_SERVER, "store_unavailable", NULL,
                         "The video was submitted but the gateway could not "
                         "record it; its credits stay reserved as task %s "
                         "and are refunded if it cannot be recovered.",
                         t->id);

            ngx_http_finalize_request(r, ngx_http_makeclip_send_error(r,
                                                                      &err));
            return;
        }

        ngx_http_makeclip_store_committed(r);

        ngx_log_debug3(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                       "makeclip task %s submitted to %s as \"%s\"", t->id,
                       t->provider, t->provider_task_id);

        ngx_http_finalize_request(r,
            ngx_http_makeclip_send_task(r, ctx, NGX_HTTP_OK));
        return;
    }

    t->provider = ctx->call.provider->name;
    t->provider_model = ctx->call.model_id;

    if (res->fail == MC_FAIL_INPUT) {
        /* the provider says the input is wrong: another one would too */
        mc_error_set(&err, 400, MC_ERR_INVALID, "provider_rejected", NULL,
                     "The provider rejected the request: %s",
                     res->fail_reason ? res->fail_reason : "invalid input");

        ngx_http_finalize_request(r,
            ngx_http_makeclip_create_failed(r, ctx, &err, "provider_rejected",
                                            err.message));
        return;
    }

    ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                  "makeclip: provider \"%s\" failed task %s: %s%s",
                  ctx->call.provider->name, t->id,
                  res->fail_reason ? res->fail_reason : "failed",
                  ctx->target + 1 < ctx->ntargets ? ", trying the next" : "");

    /* the answer to the client reflects the last retryable failure: a
     * timeout (504), a rate limit (503), or anything else (502) */
    if (ctx->last_fail != MC_FAIL_RETRY || res->fail == MC_FAIL_RETRY) {
        ctx->last_fail = res->fail;
        ctx->last_status = res->timed_out ? NGX_HTTP_GATEWAY_TIME_OUT
                                          : res->http_status;
    }

    if (++ctx->target < ctx->ntargets) {
        /* the same reservation covers the next target */
        ngx_http_makeclip_try_target(r, ctx);
        return;
    }

    if (ctx->last_fail == MC_FAIL_RETRY
        && ctx->last_status == NGX_HTTP_GATEWAY_TIME_OUT)
    {
        status = NGX_HTTP_GATEWAY_TIME_OUT;

    } else if (ctx->last_fail == MC_FAIL_RETRY && ctx->last_status == 429) {
        status = NGX_HTTP_SERVICE_UNAVAILABLE;

    } else {
        status = NGX_HTTP_BAD_GATEWAY;
    }

    mc_error_set(&err, (int) status, MC_ERR_PROVIDER, "provider_unavailable",
                 NULL, "No provider could take the video right now; the "
                 "credits were refunded.");

    ngx_http_finalize_request(r,
        ngx_http_makeclip_create_failed(r, ctx, &err, "provider_unavailable",
                                        "No provider could take the video."));
}


/* a create that ends before any provider took it: refund, then answer */

static ngx_int_t
ngx_http_makeclip_create_failed(ngx_http_request_t *r,
    ngx_http_makeclip_ctx_t *ctx, mc_error_t *err, const char *code,
    const char *message)
{
    int         rc;
    mc_task_t  *t;

    t = &ctx->task;
    t->status = MC_TASK_FAILED;
    t->error_code = code;
    t->error_message = message;

    rc = mc_store_task_save(ngx_http_makeclip_store(r), ctx->pool, t,
                            ngx_http_makeclip_now(), t);
    if (rc != MC_OK) {
        return ngx_http_makeclip_store_error(r, rc, "refunding a task");
    }

    ngx_http_makeclip_store_committed(r);

    return ngx_http_makeclip_send_error(r, err);
}


/* GET /videos/{id} */

/*
 * The caller's task by id: NGX_OK when loaded; otherwise the answer (404
 * or a store error) has been sent and *rc is what to finalize with.
 */

ngx_int_t
ngx_http_makeclip_load_task(ngx_http_request_t *r,
    ngx_http_makeclip_ctx_t *ctx, ngx_str_t *id, ngx_int_t *rc)
{
    int    src;
    char  *tid;

    tid = mc_pstrndup(ctx->pool, (char *) id->data, id->len);

    src = mc_store_task_get(ngx_http_makeclip_store(r), ctx->pool, tid,
                            &ctx->task);

    /* another account's task is as unknown as a missing or deleted one */
    if (src == MC_NOT_FOUND
        || (src == MC_OK && (strcmp(ctx->task.account, ctx->account.id) != 0
                             || ctx->task.deleted_at)))
    {
        *rc = ngx_http_makeclip_error(r, NGX_HTTP_NOT_FOUND, MC_ERR_INVALID,
                                      "video_not_found", NULL,
                                      "No video with this id.");
        return NGX_DECLINED;
    }

    if (src != MC_OK) {
        *rc = ngx_http_makeclip_store_error(r, src, "reading a task");
        return NGX_DECLINED;
    }

    ctx->have_task = 1;

    return NGX_OK;
}


ngx_int_t
ngx_http_makeclip_retrieve(ngx_http_request_t *r,
    ngx_http_makeclip_ctx_t *ctx, ngx_str_t *id)
{
    int                             rc;
    mc_msec_t                       now;
    ngx_int_t                       nrc;
    mc_provider_t                  *p;
    ngx_http_makeclip_loc_conf_t   *mlcf;
    ngx_http_makeclip_main_conf_t  *mmcf;

    if (ngx_http_makeclip_load_task(r, ctx, id, &nrc) != NGX_OK) {
        return nrc;
    }

    mlcf = ngx_http_get_module_loc_conf(r, ngx_http_makeclip_module);
    mmcf = ngx_http_get_module_main_conf(r, ngx_http_makeclip_module);

    /* a finished task is answered from the store, no provider call */
    if (mc_task_is_terminal(ctx->task.status)) {
        return ngx_http_makeclip_send_task(r, ctx, NGX_HTTP_OK);
    }

    now = ngx_http_makeclip_now();

    if (ctx->task.status == MC_TASK_SUBMITTING) {
        if (now - ctx->task.created_at < (mc_msec_t) mlcf->submit_timeout) {
            return ngx_http_makeclip_send_task(r, ctx, NGX_HTTP_OK);
        }

        /* its create never finished (a worker died mid-call): no provider
         * task id to follow, so it is refunded */
        return ngx_http_makeclip_finish(r, ctx, MC_TASK_FAILED, "submit_lost",
                                        "The gateway lost the submission; "
                                        "the credits were refunded.");
    }

    if (mlcf->task_timeout
        && now - ctx->task.created_at > (mc_msec_t) mlcf->task_timeout)
    {
        /* a provider that never says the task ended must not hold the
         * credits for ever */
        ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                      "makeclip: task %s at \"%s\" did not finish within "
                      "makeclip_task_timeout, refunded", ctx->task.id,
                      ctx->task.provider ? ctx->task.provider : "");

        return ngx_http_makeclip_finish(r, ctx, MC_TASK_FAILED, "timed_out",
                                        "The provider did not finish the "
                                        "video in time; the credits were "
                                        "refunded.");
    }

    p = ctx->task.provider ? mc_catalog_provider(mmcf->catalog,
                                                 ctx->task.provider)
                           : NULL;

    if (p == NULL) {
        ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                      "makeclip: task %s belongs to provider \"%s\", which "
                      "is no longer configured", ctx->task.id,
                      ctx->task.provider ? ctx->task.provider : "");
        return ngx_http_makeclip_send_task(r, ctx, NGX_HTTP_OK);
    }

    /* the record just read is fresh enough: most reads end here */
    if (now - ctx->task.polled_at < (mc_msec_t) mlcf->poll_interval) {
        return ngx_http_makeclip_send_task(r, ctx, NGX_HTTP_OK);
    }

    /* one poll per staleness interval, whichever worker gets there */
    rc = mc_store_task_claim_poll(ngx_http_makeclip_store(r), ctx->task.id,
                                  now, (mc_msec_t) mlcf->poll_interval);

    if (rc == MC_DECLINED) {
        return ngx_http_makeclip_send_task(r, ctx, NGX_HTTP_OK);
    }

    if (rc != MC_OK) {
        return ngx_http_makeclip_store_error(r, rc, "claiming a poll");
    }

    ngx_http_makeclip_call_init(ctx, p, ctx->task.provider_model);

    ngx_http_makeclip_op_start(r, ctx, NGX_HTTP_MAKECLIP_OP_STATUS,
                               ngx_http_makeclip_status_done);

    return NGX_DONE;
}


static void
ngx_http_makeclip_status_done(ngx_http_request_t *r,
    ngx_http_makeclip_ctx_t *ctx)
{
    int           rc;
    mc_task_t    *t;
    mc_result_t  *res;

    res = &ctx->call.result;
    t = &ctx->task;

    if (res->fail != MC_FAIL_NONE || !res->has_state) {
        /* the provider could not tell: the stored state stands and the
         * next poll asks again */
        ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                      "makeclip: polling task %s at \"%s\" failed: %s",
                      t->id, ctx->call.provider->name,
                      res->fail_reason ? res->fail_reason : "no state");

        /* what the adapter learned before the failure (MiniMax's file
         * id) is kept, so the next poll need not ask again */
        if (res->provider_data
            && (t->provider_data == NULL
                || strcmp(res->provider_data, t->provider_data) != 0))
        {
            t->provider_data = res->provider_data;

            rc = mc_store_task_save(ngx_http_makeclip_store(r), ctx->pool,
                                    t, ngx_http_makeclip_now(), t);
            if (rc != MC_OK) {
                ngx_http_finalize_request(r,
                    ngx_http_makeclip_store_error(r, rc, "saving a task"));
                return;
            }

            ngx_http_makeclip_store_committed(r);
        }

        ngx_http_finalize_request(r,
            ngx_http_makeclip_send_task(r, ctx, NGX_HTTP_OK));
        return;
    }

    ngx_http_makeclip_apply(ctx, res);
    t->polled_at = ngx_http_makeclip_now();

    rc = mc_store_task_save(ngx_http_makeclip_store(r), ctx->pool, t,
                            t->polled_at, t);
    if (rc != MC_OK) {
        ngx_http_finalize_request(r,
            ngx_http_makeclip_store_error(r, rc, "saving a task"));
        return;
    }

    ngx_http_makeclip_store_committed(r);

    ngx_http_finalize_request(r,
        ngx_http_makeclip_send_task(r, ctx, NGX_HTTP_OK));
}


/*
 * DELETE /videos/{id}: a running task is canceled at the provider where
 * the provider can, or no longer followed where it cannot; either way it
 * ends as failed with code "canceled" and its credits are refunded.  A
 * finished task is deleted: it disappears from the API, its ledger stays.
 */

ngx_int_t
ngx_http_makeclip_cancel(ngx_http_request_t *r, ngx_http_makeclip_ctx_t *ctx,
    ngx_str_t *id)
{
    int                             rc;
    json_t                         *root;
    ngx_int_t                       nrc;
    mc_provider_t                  *p;
    ngx_http_makeclip_main_conf_t  *mmcf;

    if (ngx_http_makeclip_load_task(r, ctx, id, &nrc) != NGX_OK) {
        return nrc;
    }

    mmcf = ngx_http_get_module_main_conf(r, ngx_http_makeclip_module);

    if (mc_task_is_terminal(ctx->task.status)) {
        /* OpenAI's delete: gone from the API, kept for the books */
        rc = mc_store_task_delete(ngx_http_makeclip_store(r), ctx->task.id,
                                  ngx_http_makeclip_now());
        if (rc != MC_OK) {
            return ngx_http_makeclip_store_error(r, rc, "deleting a task");
        }

        ngx_http_makeclip_store_committed(r);

        root = json_object();
        json_object_set_new(root, "id", json_string(ctx->task.id));
        json_object_set_new(root, "object", json_string("video.deleted"));
        json_object_set_new(root, "deleted", json_true());

        return ngx_http_makeclip_send_json(r, NGX_HTTP_OK, root);
    }

    p = ctx->task.provider ? mc_catalog_provider(mmcf->catalog,
                                                 ctx->task.provider)
                           : NULL;

    if (p == NULL || p->adapter->cancel_request == NULL
        || ctx->task.status == MC_TASK_SUBMITTING)
    {
        return ngx_http_makeclip_finish(r, ctx, MC_TASK_FAILED, "canceled",
                                        p && p->adapter->cancel_request
                                        ? "The task was canceled."
                                        : "The provider cannot cancel; the "
                                          "gateway stopped following this "
                                          "task and refunded it.");
    }

    ngx_http_makeclip_call_init(ctx, p, ctx->task.provider_model);

    ngx_http_makeclip_op_start(r, ctx, NGX_HTTP_MAKECLIP_OP_CANCEL,
                               ngx_http_makeclip_cancel_done);

    return NGX_DONE;
}


static void
ngx_http_makeclip_cancel_done(ngx_http_request_t *r,
    ngx_http_makeclip_ctx_t *ctx)
{
    mc_error_t    err;
    mc_result_t  *res;

    res = &ctx->call.result;

    if (res->fail == MC_FAIL_INPUT || res->fail == MC_FAIL_UNSUPPORTED) {
        /* the provider will not stop this task (Seedance and Wan cancel
         * only queued tasks): it runs on and is paid for; saying "try
         * again" would be wrong */
        mc_error_set(&err, 409, MC_ERR_CONFLICT, "cancel_not_possible",
                     NULL, "The provider cannot cancel this task now: %s",
                     res->fail_reason ? res->fail_reason : "refused");

        ngx_http_finalize_request(r, ngx_http_makeclip_send_error(r, &err));
        return;
    }

    if (res->fail != MC_FAIL_NONE) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "makeclip: canceling task %s at \"%s\" failed: %s",
                      ctx->task.id, ctx->call.provider->name,
                      res->fail_reason ? res->fail_reason : "failed");

        ngx_http_finalize_request(r,
            ngx_http_makeclip_error(r, NGX_HTTP_BAD_GATEWAY, MC_ERR_PROVIDER,
                                    "cancel_failed", NULL,
                                    "The provider did not confirm the "
                                    "cancellation; try again."));
        return;
    }

    if (res->has_state && mc_task_is_terminal(res->status)
        && res->status == MC_TASK_COMPLETED)
    {
        /* it finished before the cancel arrived: it is kept and paid */
        ngx_http_makeclip_apply(ctx, res);
    }

    ngx_http_finalize_request(r,
        ngx_http_makeclip_finish(r, ctx, MC_TASK_FAILED, "canceled",
                                 "The task was canceled."));
}


/* ends a task here (settling or refunding it) and answers with it */

static ngx_int_t
ngx_http_makeclip_finish(ngx_http_request_t *r, ngx_http_makeclip_ctx_t *ctx,
    mc_task_status_e status, const char *code, const char *message)
{
    int         rc;
    json_t     *root;
    mc_task_t  *t;

    t = &ctx->task;

    if (!mc_task_is_terminal(t->status)) {
        t->status = status;
        t->error_code = code;
        t->error_message = message;
    }

    rc = mc_store_task_save(ngx_http_makeclip_store(r), ctx->pool, t,
                            ngx_http_makeclip_now(), t);
    if (rc != MC_OK) {
        return ngx_http_makeclip_store_error(r, rc, "finishing a task");
    }

    ngx_http_makeclip_store_committed(r);

    if (r->method != NGX_HTTP_DELETE) {
        return ngx_http_makeclip_send_task(r, ctx, NGX_HTTP_OK);
    }

    root = ngx_http_makeclip_render_task(r, ctx, t);
    if (root == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    /* OpenAI's delete answer, with the task's final state beside it */
    json_object_set_new(root, "object", json_string("video.deleted"));
    json_object_set_new(root, "deleted", json_false());
    json_object_set_new(root, "canceled",
                        json_boolean(t->error_code
                                     && strcmp(t->error_code, "canceled")
                                        == 0));

    return ngx_http_makeclip_send_json(r, NGX_HTTP_OK, root);
}


/* the adapter's view of the task, onto the task */

static void
ngx_http_makeclip_apply(ngx_http_makeclip_ctx_t *ctx, mc_result_t *res)
{
    mc_task_t  *t;

    t = &ctx->task;

    if (res->has_state) {
        t->status = res->status;
    }

    if (res->progress >= 0) {
        t->progress = res->progress > 100 ? 100 : res->progress;
    }

    if (res->provider_data) {
        t->provider_data = res->provider_data;
    }

    if (res->video_url) {
        t->provider_video_url = res->video_url;
    }

    if (t->status == MC_TASK_FAILED) {
        t->error_code = res->error_code ? res->error_code
                                        : "generation_failed";
        t->error_message = res->error_message;
    }

    if (t->status == MC_TASK_COMPLETED) {
        t->progress = 100;
    }
}


static ngx_int_t
ngx_http_makeclip_send_task(ngx_http_request_t *r,
    ngx_http_makeclip_ctx_t *ctx, ngx_uint_t status)
{
    return ngx_http_makeclip_send_json(r, status,
               ngx_http_makeclip_render_task(r, ctx, &ctx->task));
}


static int
ngx_http_makeclip_route_var(void *data, const mc_cond_t *c, mc_str_t *value)
{
    ngx_http_request_t         *r = data;
    ngx_http_variable_value_t  *vv;

    vv = ngx_http_get_indexed_variable(r, (ngx_uint_t) c->var_index);

    if (vv == NULL || vv->not_found) {
        return MC_ERROR;
    }

    value->data = (const char *) vv->data;
    value->len = vv->len;

    return MC_OK;
}
