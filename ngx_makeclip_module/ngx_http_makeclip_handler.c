
/*
 * Copyright (C) makeclip authors
 *
 * The unified API's content handler: routes /v1/... requests to their
 * operations, authenticates the caller, reads bodies, answers in JSON.
 */


#include "ngx_http_makeclip.h"


typedef enum {
    NGX_HTTP_MAKECLIP_EP_UNKNOWN = 0,
    NGX_HTTP_MAKECLIP_EP_VIDEOS,
    NGX_HTTP_MAKECLIP_EP_VIDEO,
    NGX_HTTP_MAKECLIP_EP_CONTENT,
    NGX_HTTP_MAKECLIP_EP_CREDITS,
    NGX_HTTP_MAKECLIP_EP_MODELS
} ngx_http_makeclip_endpoint_e;


static ngx_http_makeclip_endpoint_e ngx_http_makeclip_parse_uri(
    ngx_http_request_t *r, ngx_str_t *id);
static ngx_int_t ngx_http_makeclip_authenticate(ngx_http_request_t *r,
    ngx_http_makeclip_ctx_t *ctx, ngx_int_t *rc);
static ngx_int_t ngx_http_makeclip_list(ngx_http_request_t *r,
    ngx_http_makeclip_ctx_t *ctx);
static ngx_int_t ngx_http_makeclip_credits(ngx_http_request_t *r,
    ngx_http_makeclip_ctx_t *ctx);
static ngx_int_t ngx_http_makeclip_models(ngx_http_request_t *r,
    ngx_http_makeclip_ctx_t *ctx);
static void ngx_http_makeclip_cleanup_ctx(void *data);
static ngx_int_t ngx_http_makeclip_request_body_filter(ngx_http_request_t *r,
    ngx_chain_t *in);


static ngx_http_request_body_filter_pt   ngx_http_next_request_body_filter;


ngx_int_t
ngx_http_makeclip_api_handler(ngx_http_request_t *r)
{
    ngx_int_t                      rc;
    ngx_str_t                      id;
    ngx_http_makeclip_ctx_t       *ctx;
    ngx_http_makeclip_loc_conf_t  *mlcf;
    ngx_http_makeclip_endpoint_e   ep;

    ngx_log_debug1(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "makeclip api handler \"%V\"", &r->uri);

    if (r != r->main) {
        return NGX_DECLINED;
    }

    mlcf = ngx_http_get_module_loc_conf(r, ngx_http_makeclip_module);

    ep = ngx_http_makeclip_parse_uri(r, &id);

    if (ep == NGX_HTTP_MAKECLIP_EP_UNKNOWN) {
        ngx_http_discard_request_body(r);
        return ngx_http_makeclip_error(r, NGX_HTTP_NOT_FOUND, MC_ERR_INVALID,
                                       "unknown_url", NULL,
                                       "Invalid URL: no such endpoint.");
    }

    if (!(r->method & (NGX_HTTP_GET|NGX_HTTP_HEAD))
        && !(r->method == NGX_HTTP_POST && ep == NGX_HTTP_MAKECLIP_EP_VIDEOS)
        && !(r->method == NGX_HTTP_DELETE && ep == NGX_HTTP_MAKECLIP_EP_VIDEO))
    {
        ngx_http_discard_request_body(r);
        return ngx_http_makeclip_error(r, NGX_HTTP_NOT_ALLOWED,
                                       MC_ERR_INVALID, "method_not_allowed",
                                       NULL, "This method is not allowed "
                                       "on this endpoint.");
    }

    if (ngx_http_makeclip_store(r) == NULL) {
        ngx_http_discard_request_body(r);
        return ngx_http_makeclip_store_error(r, MC_ERROR, "serving a request");
    }

    ctx = ngx_http_makeclip_create_ctx(r);
    if (ctx == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (ngx_http_makeclip_authenticate(r, ctx, &rc) != NGX_OK) {
        ngx_http_discard_request_body(r);
        return rc;
    }

    switch (ep) {

    case NGX_HTTP_MAKECLIP_EP_VIDEOS:
        if (r->method != NGX_HTTP_POST) {
            return ngx_http_makeclip_list(r, ctx);
        }

        if (r->headers_in.content_length_n > (off_t) mlcf->max_body_size) {
            ngx_http_discard_request_body(r);
            return ngx_http_makeclip_error(r,
                                      NGX_HTTP_REQUEST_ENTITY_TOO_LARGE,
                                      MC_ERR_INVALID, "request_too_large",
                                      NULL, "The request body is larger than "
                                      "this endpoint accepts.");
        }

        rc = ngx_http_read_client_request_body(r, ngx_http_makeclip_create);

        if (rc >= NGX_HTTP_SPECIAL_RESPONSE) {
            return rc;
        }

        return NGX_DONE;

    case NGX_HTTP_MAKECLIP_EP_VIDEO:
        if (ngx_http_discard_request_body(r) != NGX_OK) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        /* the operation may end later, after a call to the provider */
        r->main->count++;

        if (r->method == NGX_HTTP_DELETE) {
            rc = ngx_http_makeclip_cancel(r, ctx, &id);

        } else {
            rc = ngx_http_makeclip_retrieve(r, ctx, &id);
        }

        if (rc != NGX_DONE) {
            r->main->count--;
            return rc;
        }

        return NGX_DONE;

    case NGX_HTTP_MAKECLIP_EP_CONTENT:
        if (ngx_http_discard_request_body(r) != NGX_OK) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        return ngx_http_makeclip_content(r, ctx, &id);

    case NGX_HTTP_MAKECLIP_EP_CREDITS:
        ngx_http_discard_request_body(r);
        return ngx_http_makeclip_credits(r, ctx);

    default: /* NGX_HTTP_MAKECLIP_EP_MODELS */
        ngx_http_discard_request_body(r);
        return ngx_http_makeclip_models(r, ctx);
    }
}


/*
 * .../videos, .../videos/{id}, .../videos/{id}/content, .../credits and
 * .../models under whatever prefix the location has
 */

static ngx_http_makeclip_endpoint_e
ngx_http_makeclip_parse_uri(ngx_http_request_t *r, ngx_str_t *id)
{
    u_char  *p, *end, *last;

    end = r->uri.data + r->uri.len;

    while (end > r->uri.data && end[-1] == '/') {
        end--;
    }

    if (end - r->uri.data >= 8
        && ngx_strncmp(end - 8, "/credits", 8) == 0)
    {
        return NGX_HTTP_MAKECLIP_EP_CREDITS;
    }

    if (end - r->uri.data >= 7 && ngx_strncmp(end - 7, "/models", 7) == 0) {
        return NGX_HTTP_MAKECLIP_EP_MODELS;
    }

    p = ngx_strlcasestrn(r->uri.data, end, (u_char *) "/videos", 7 - 1);

    if (p == NULL) {
        return NGX_HTTP_MAKECLIP_EP_UNKNOWN;
    }

    p += 7;

    if (p == end) {
        return NGX_HTTP_MAKECLIP_EP_VIDEOS;
    }

    if (*p != '/') {
        return NGX_HTTP_MAKECLIP_EP_UNKNOWN;
    }

    p++;
    last = ngx_strlchr(p, end, '/');

    id->data = p;
    id->len = (last ? last : end) - p;

    if (id->len == 0 || id->len > MC_ID_LEN) {
        return NGX_HTTP_MAKECLIP_EP_UNKNOWN;
    }

    for (p = id->data; p < id->data + id->len; p++) {
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z')
              || (*p >= '0' && *p <= '9') || *p == '_' || *p == '-'))
        {
            return NGX_HTTP_MAKECLIP_EP_UNKNOWN;
        }
    }

    if (last == NULL) {
        return NGX_HTTP_MAKECLIP_EP_VIDEO;
    }

    if (end - last == 8 && ngx_strncmp(last, "/content", 8) == 0) {
        return NGX_HTTP_MAKECLIP_EP_CONTENT;
    }

    return NGX_HTTP_MAKECLIP_EP_UNKNOWN;
}


/*
 * Who is calling: an API key looked up in the store, or an account named
 * by a variable that a trusted layer (auth_request, a map) sets.
 */

static ngx_int_t
ngx_http_makeclip_authenticate(ngx_http_request_t *r,
    ngx_http_makeclip_ctx_t *ctx, ngx_int_t *rcp)
{
    int                            rc;
    ngx_str_t                      value, plan;
    ngx_table_elt_t               *h;
    mc_store_t                    *st;
    ngx_http_makeclip_loc_conf_t  *mlcf;
    ngx_http_makeclip_main_conf_t *mmcf;

    mlcf = ngx_http_get_module_loc_conf(r, ngx_http_makeclip_module);
    mmcf = ngx_http_get_module_main_conf(r, ngx_http_makeclip_module);
    st = mmcf->store;

    if (mlcf->auth == NGX_HTTP_MAKECLIP_AUTH_KEY) {
        h = r->headers_in.authorization;

        if (h == NULL || h->value.len <= 7
            || ngx_strncasecmp(h->value.data, (u_char *) "Bearer ", 7) != 0)
        {
            *rcp = ngx_http_makeclip_error(r, NGX_HTTP_UNAUTHORIZED,
                                           MC_ERR_INVALID, "missing_api_key",
                                           NULL, "You didn't provide an API "
                                           "key: send it as Authorization: "
                                           "Bearer <key>.");
            return NGX_DECLINED;
        }

        value.data = h->value.data + 7;
        value.len = h->value.len - 7;

        while (value.len && value.data[0] == ' ') {
            value.data++;
            value.len--;
        }

        rc = mc_store_key_lookup(st, (char *) value.data, value.len,
                                 &ctx->account);

        if (rc == MC_NOT_FOUND) {
            ngx_log_error(mlcf->reject_log_level, r->connection->log, 0,
                          "makeclip: unknown API key");

            *rcp = ngx_http_makeclip_error(r, NGX_HTTP_UNAUTHORIZED,
                                           MC_ERR_INVALID, "invalid_api_key",
                                           NULL, "Incorrect API key "
                                           "provided.");
            return NGX_DECLINED;
        }

        if (rc != MC_OK) {
            *rcp = ngx_http_makeclip_store_error(r, rc, "checking a key");
            return NGX_DECLINED;
        }

    } else {
        if (ngx_http_complex_value(r, mlcf->account_var, &value) != NGX_OK) {
            *rcp = NGX_HTTP_INTERNAL_SERVER_ERROR;
            return NGX_DECLINED;
        }

        if (value.len == 0 || value.len > MC_NAME_MAX) {
            *rcp = ngx_http_makeclip_error(r, NGX_HTTP_UNAUTHORIZED,
                                           MC_ERR_INVALID, "no_account", NULL,
                                           "The request carries no account.");
            return NGX_DECLINED;
        }

        rc = mc_store_account_get(st, mc_pstrndup(ctx->pool,
                                                  (char *) value.data,
                                                  value.len),
                                  &ctx->account);

        if (rc == MC_NOT_FOUND) {
            ngx_log_error(mlcf->reject_log_level, r->connection->log, 0,
                          "makeclip: unknown account \"%V\"", &value);

            *rcp = ngx_http_makeclip_error(r, NGX_HTTP_UNAUTHORIZED,
                                           MC_ERR_INVALID, "unknown_account",
                                           NULL, "The account is not known "
                                           "to the gateway.");
            return NGX_DECLINED;
        }

        if (rc != MC_OK) {
            *rcp = ngx_http_makeclip_store_error(r, rc, "reading an account");
            return NGX_DECLINED;
        }
    }

    if (ctx->account.disabled) {
        *rcp = ngx_http_makeclip_error(r, NGX_HTTP_FORBIDDEN,
                                       MC_ERR_PERMISSION, "account_disabled",
                                       NULL, "This account is disabled.");
        return NGX_DECLINED;
    }

    plan.data = (u_char *) ctx->account.plan;
    plan.len = ngx_strlen(ctx->account.plan);

    if (mlcf->plan_var) {
        if (ngx_http_complex_value(r, mlcf->plan_var, &value) != NGX_OK) {
            *rcp = NGX_HTTP_INTERNAL_SERVER_ERROR;
            return NGX_DECLINED;
        }

        if (value.len) {
            plan = value;
        }
    }

    ctx->plan_name = plan;
    ctx->plan = mc_catalog_plan(mmcf->catalog,
                                mc_pstrndup(ctx->pool, (char *) plan.data,
                                            plan.len));

    if (ctx->plan == NULL) {
        ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                      "makeclip: account \"%s\" has plan \"%V\", which no "
                      "\"makeclip_plan\" defines", ctx->account.id, &plan);

        *rcp = ngx_http_makeclip_error(r, NGX_HTTP_FORBIDDEN,
                                       MC_ERR_PERMISSION, "plan_not_found",
                                       NULL, "Your plan is not available on "
                                       "this gateway.");
        return NGX_DECLINED;
    }

    return NGX_OK;
}


ngx_http_makeclip_ctx_t *
ngx_http_makeclip_create_ctx(ngx_http_request_t *r)
{
    ngx_pool_cleanup_t       *cln;
    ngx_http_makeclip_ctx_t  *ctx;

    ctx = ngx_pcalloc(r->pool, sizeof(ngx_http_makeclip_ctx_t));
    if (ctx == NULL) {
        return NULL;
    }

    ctx->request = r;

    ctx->pool = mc_pool_create(4096);
    if (ctx->pool == NULL) {
        return NULL;
    }

    /* the core's memory and JSON go when the request's pool goes, on
     * every path, client aborts included */
    cln = ngx_pool_cleanup_add(r->pool, 0);
    if (cln == NULL) {
        mc_pool_destroy(ctx->pool);
        return NULL;
    }

    cln->handler = ngx_http_makeclip_cleanup_ctx;
    cln->data = ctx;

    ngx_http_set_ctx(r, ctx, ngx_http_makeclip_module);

    return ctx;
}


static void
ngx_http_makeclip_cleanup_ctx(void *data)
{
    ngx_http_makeclip_ctx_t *ctx = data;

    if (ctx->deadline.timer_set) {
        ngx_del_timer(&ctx->deadline);
    }

    mc_request_free(&ctx->req);
    mc_buf_free(&ctx->capture);
    mc_pool_destroy(ctx->pool);
    ctx->pool = NULL;
}


/*
 * The module's context survives an internal redirect (which clears
 * r->ctx) through its pool cleanup entry, as the content location's
 * variables need it after the redirect.
 */

ngx_http_makeclip_ctx_t *
ngx_http_makeclip_get_ctx(ngx_http_request_t *r)
{
    ngx_pool_cleanup_t       *cln;
    ngx_http_makeclip_ctx_t  *ctx;

    ctx = ngx_http_get_module_ctx(r, ngx_http_makeclip_module);

    if (ctx || !r->internal) {
        return ctx;
    }

    for (cln = r->pool->cleanup; cln; cln = cln->next) {
        if (cln->handler == ngx_http_makeclip_cleanup_ctx) {
            ctx = cln->data;

            if (ctx->request == r->main) {
                ngx_http_set_ctx(r, ctx, ngx_http_makeclip_module);
                return ctx;
            }
        }
    }

    return NULL;
}


/* the body in one piece: it may have come in several buffers or have
 * been written to a temporary file */

ngx_int_t
ngx_http_makeclip_read_body(ngx_http_request_t *r,
    ngx_http_makeclip_ctx_t *ctx)
{
    off_t         len;
    u_char       *p;
    ssize_t       n;
    ngx_buf_t    *b;
    ngx_chain_t  *cl;

    ctx->body.len = 0;
    ctx->body.data = (u_char *) "";

    if (r->request_body == NULL || r->request_body->bufs == NULL) {
        return NGX_OK;
    }

    cl = r->request_body->bufs;

    if (cl->next == NULL && !cl->buf->in_file) {
        ctx->body.data = cl->buf->pos;
        ctx->body.len = cl->buf->last - cl->buf->pos;
        return NGX_OK;
    }

    len = 0;

    for (cl = r->request_body->bufs; cl; cl = cl->next) {
        b = cl->buf;
        len += b->in_file ? b->file_last - b->file_pos : b->last - b->pos;
    }

    p = ngx_pnalloc(r->pool, (size_t) len + 1);
    if (p == NULL) {
        return NGX_ERROR;
    }

    ctx->body.data = p;

    for (cl = r->request_body->bufs; cl; cl = cl->next) {
        b = cl->buf;

        if (b->in_file) {
            /* a file nginx itself just wrote, bounded by
             * makeclip_max_body_size: read back from the page cache */
            n = ngx_read_file(b->file, p, (size_t) (b->file_last
                                                    - b->file_pos),
                              b->file_pos);

            if (n != b->file_last - b->file_pos) {
                ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                              "makeclip: cannot read the request body "
                              "back from \"%V\"", &b->file->name);
                return NGX_ERROR;
            }

            p += n;

        } else {
            p = ngx_cpymem(p, b->pos, b->last - b->pos);
        }
    }

    ctx->body.len = p - ctx->body.data;

    return NGX_OK;
}


/*
 * A request body without Content-Length (chunked) is measured while it
 * is read: past makeclip_max_body_size it is consumed and dropped, and
 * the create answers 413 once the body has been read.
 */

ngx_int_t
ngx_http_makeclip_body_filter_init(ngx_conf_t *cf)
{
    ngx_http_next_request_body_filter = ngx_http_top_request_body_filter;
    ngx_http_top_request_body_filter = ngx_http_makeclip_request_body_filter;

    return NGX_OK;
}


static ngx_int_t
ngx_http_makeclip_request_body_filter(ngx_http_request_t *r, ngx_chain_t *in)
{
    ngx_buf_t                     *b;
    ngx_chain_t                   *cl, last;
    ngx_http_makeclip_ctx_t       *ctx;
    ngx_http_makeclip_loc_conf_t  *mlcf;

    ctx = ngx_http_get_module_ctx(r, ngx_http_makeclip_module);

    if (ctx == NULL || r != r->main) {
        return ngx_http_next_request_body_filter(r, in);
    }

    if (!ctx->body_too_large) {
        mlcf = ngx_http_get_module_loc_conf(r, ngx_http_makeclip_module);

        for (cl = in; cl; cl = cl->next) {
            ctx->body_received += ngx_buf_size(cl->buf);
        }

        if (ctx->body_received <= (off_t) mlcf->max_body_size) {
            return ngx_http_next_request_body_filter(r, in);
        }

        ctx->body_too_large = 1;
    }

    /* drop the data, keep the end: nginx's reader waits for last_buf */
    for (cl = in; cl; cl = cl->next) {
        cl->buf->pos = cl->buf->last;
        cl->buf->file_pos = cl->buf->file_last;

        if (cl->buf->last_buf) {
            b = ngx_calloc_buf(r->pool);
            if (b == NULL) {
                return NGX_HTTP_INTERNAL_SERVER_ERROR;
            }

            b->last_buf = 1;

            last.buf = b;
            last.next = NULL;

            return ngx_http_next_request_body_filter(r, &last);
        }
    }

    return NGX_OK;
}


/* answers */


ngx_int_t
ngx_http_makeclip_send_json(ngx_http_request_t *r, ngx_uint_t status,
    json_t *body)
{
    char         *s;
    size_t        len;
    ngx_int_t     rc;
    ngx_buf_t    *b;
    ngx_chain_t   out;

    if (body == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    s = json_dumps(body, JSON_COMPACT);
    json_decref(body);

    if (s == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    len = ngx_strlen(s);

    b = ngx_create_temp_buf(r->pool, len + 1);
    if (b == NULL) {
        free(s);
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    b->last = ngx_cpymem(b->last, s, len);
    *b->last++ = '\n';
    free(s);

    b->last_buf = (r == r->main) ? 1 : 0;
    b->last_in_chain = 1;

    r->headers_out.status = status;
    r->headers_out.content_length_n = b->last - b->pos;
    ngx_str_set(&r->headers_out.content_type, "application/json");
    r->headers_out.content_type_len = r->headers_out.content_type.len;
    r->headers_out.content_type_lowcase = NULL;

    rc = ngx_http_send_header(r);

    if (rc == NGX_ERROR || rc > NGX_OK || r->header_only) {
        return rc;
    }

    out.buf = b;
    out.next = NULL;

    return ngx_http_output_filter(r, &out);
}


ngx_int_t
ngx_http_makeclip_send_error(ngx_http_request_t *r, const mc_error_t *err)
{
    json_t  *j;
    char    *s;

    s = mc_error_json(err);
    if (s == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    j = json_loads(s, 0, NULL);
    free(s);

    if (err->status == NGX_HTTP_NOT_ALLOWED) {
        /* nginx adds Allow only to its own pages */
        r->headers_out.status = NGX_HTTP_NOT_ALLOWED;
    }

    return ngx_http_makeclip_send_json(r, (ngx_uint_t) err->status, j);
}


ngx_int_t
ngx_http_makeclip_error(ngx_http_request_t *r, ngx_uint_t status,
    const char *type, const char *code, const char *param,
    const char *message)
{
    mc_error_t  err;

    mc_error_set(&err, (int) status, type, code, param, "%s", message);

    return ngx_http_makeclip_send_error(r, &err);
}


/* the URL the client fetches a finished video from: this gateway's own */

char *
ngx_http_makeclip_content_url(ngx_http_request_t *r, mc_pool_t *pool,
    const char *task_id)
{
    u_char     *p;
    ngx_str_t   host, prefix;

    /* Host as the client sent it, port included */
    if (r->headers_in.host && r->headers_in.host->value.len) {
        host = r->headers_in.host->value;

    } else if (r->headers_in.server.len) {
        host = r->headers_in.server;

    } else {
        host.data = (u_char *) "localhost";
        host.len = 9;
    }

    p = ngx_strlcasestrn(r->uri.data, r->uri.data + r->uri.len,
                         (u_char *) "/videos", 7 - 1);

    prefix.data = r->uri.data;
    prefix.len = p ? (size_t) (p - r->uri.data) : 0;

    return mc_psprintf(pool, "%s://%.*s%.*s/videos/%s/content",
#if (NGX_HTTP_SSL)
                       r->connection->ssl ? "https" : "http",
#else
                       "http",
#endif
                       (int) host.len, host.data, (int) prefix.len,
                       prefix.data, task_id);
}


json_t *
ngx_http_makeclip_render_task(ngx_http_request_t *r,
    ngx_http_makeclip_ctx_t *ctx, const mc_task_t *t)
{
    return mc_task_render(t, ngx_http_makeclip_content_url(r, ctx->pool,
                                                           t->id));
}


/* GET /videos?after=&limit=&order= */

static ngx_int_t
ngx_http_makeclip_list(ngx_http_request_t *r, ngx_http_makeclip_ctx_t *ctx)
{
    int          rc, has_more;
    char        *after;
    size_t       i, n, limit;
    json_t      *root, *data;
    ngx_int_t    num;
    ngx_str_t    value;
    mc_task_t   *tasks;

    limit = 20;
    after = NULL;

    if (ngx_http_arg(r, (u_char *) "limit", 5, &value) == NGX_OK) {
        num = ngx_atoi(value.data, value.len);

        if (num < 1 || num > NGX_HTTP_MAKECLIP_LIST_MAX) {
            return ngx_http_makeclip_error(r, NGX_HTTP_BAD_REQUEST,
                                           MC_ERR_INVALID, "invalid_limit",
                                           "limit", "limit must be from 1 "
                                           "to 100.");
        }

        limit = (size_t) num;
    }

    if (ngx_http_arg(r, (u_char *) "after", 5, &value) == NGX_OK
        && value.len)
    {
        if (value.len > MC_ID_LEN) {
            return ngx_http_makeclip_error(r, NGX_HTTP_BAD_REQUEST,
                                           MC_ERR_INVALID, "invalid_cursor",
                                           "after", "after must be a video "
                                           "id from an earlier page.");
        }

        after = mc_pstrndup(ctx->pool, (char *) value.data, value.len);
    }

    i = 0;

    if (ngx_http_arg(r, (u_char *) "order", 5, &value) == NGX_OK) {
        if (value.len == 3 && ngx_strncmp(value.data, "asc", 3) == 0) {
            i = 1;

        } else if (!(value.len == 4
                     && ngx_strncmp(value.data, "desc", 4) == 0))
        {
            return ngx_http_makeclip_error(r, NGX_HTTP_BAD_REQUEST,
                                           MC_ERR_INVALID, "invalid_order",
                                           "order", "order must be asc or "
                                           "desc.");
        }
    }

    tasks = mc_palloc(ctx->pool, limit * sizeof(mc_task_t));
    if (tasks == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    rc = mc_store_task_list(ngx_http_makeclip_store(r), ctx->pool,
                            ctx->account.id, after, limit, (int) i, tasks, &n,
                            &has_more);

    if (rc == MC_NOT_FOUND) {
        return ngx_http_makeclip_error(r, NGX_HTTP_BAD_REQUEST,
                                       MC_ERR_INVALID, "invalid_cursor",
                                       "after", "after must be a video id "
                                       "from an earlier page.");
    }

    if (rc != MC_OK) {
        return ngx_http_makeclip_store_error(r, rc, "listing tasks");
    }

    data = json_array();

    /* deleted tasks stay in the index for the books; the page skips them
     * and may come out shorter than the limit */
    for (i = 0; i < n; i++) {
        if (tasks[i].deleted_at == 0) {
            json_array_append_new(data,
                ngx_http_makeclip_render_task(r, ctx, &tasks[i]));
        }
    }

    root = json_object();
    json_object_set_new(root, "object", json_string("list"));
    json_object_set_new(root, "data", data);
    json_object_set_new(root, "first_id", n ? json_string(tasks[0].id)
                                            : json_null());
    json_object_set_new(root, "last_id", n ? json_string(tasks[n - 1].id)
                                           : json_null());
    json_object_set_new(root, "has_more", json_boolean(has_more));

    return ngx_http_makeclip_send_json(r, NGX_HTTP_OK, root);
}


/* GET /credits: balance, reserved and the latest ledger entries */

static ngx_int_t
ngx_http_makeclip_credits(ngx_http_request_t *r, ngx_http_makeclip_ctx_t *ctx)
{
    json_t     *root, *ledger;
    ngx_int_t   num;
    ngx_str_t   value;
    size_t      limit;

    limit = 20;

    if (ngx_http_arg(r, (u_char *) "limit", 5, &value) == NGX_OK) {
        num = ngx_atoi(value.data, value.len);

        if (num < 0 || num > NGX_HTTP_MAKECLIP_LIST_MAX) {
            return ngx_http_makeclip_error(r, NGX_HTTP_BAD_REQUEST,
                                           MC_ERR_INVALID, "invalid_limit",
                                           "limit", "limit must be from 0 "
                                           "to 100.");
        }

        limit = (size_t) num;
    }

    ledger = mc_store_ledger_json(ngx_http_makeclip_store(r), ctx->account.id,
                                  0, limit);
    if (ledger == NULL) {
        return ngx_http_makeclip_store_error(r, MC_ERROR, "reading the "
                                             "ledger");
    }

    root = json_object();
    json_object_set_new(root, "object", json_string("credits"));
    json_object_set_new(root, "account", json_string(ctx->account.id));
    json_object_set_new(root, "plan",
                        json_stringn((char *) ctx->plan_name.data,
                                     ctx->plan_name.len));
    json_object_set_new(root, "balance", json_integer(ctx->account.balance));
    json_object_set_new(root, "reserved",
                        json_integer(ctx->account.reserved));
    json_object_set_new(root, "ledger", ledger);

    return ngx_http_makeclip_send_json(r, NGX_HTTP_OK, root);
}


/* GET /models: what the caller's plan may use, with prices */

static ngx_int_t
ngx_http_makeclip_models(ngx_http_request_t *r, ngx_http_makeclip_ctx_t *ctx)
{
    size_t                          i, j;
    json_t                         *root, *data, *m, *a;
    mc_model_t                     *model;
    ngx_http_makeclip_main_conf_t  *mmcf;

    mmcf = ngx_http_get_module_main_conf(r, ngx_http_makeclip_module);

    data = json_array();

    for (i = 0; i < mmcf->catalog->nmodels; i++) {
        model = mmcf->catalog->models[i];

        if (!mc_plan_allows_model(ctx->plan, model->name)) {
            continue;
        }

        m = json_object();
        json_object_set_new(m, "id", json_string(model->name));
        json_object_set_new(m, "object", json_string("model"));
        json_object_set_new(m, "created", json_integer(0));
        json_object_set_new(m, "owned_by", json_string("makeclip"));
        json_object_set_new(m, "price_per_second",
                            json_integer(model->price));

        a = json_object();
        for (j = 0; j < model->nres; j++) {
            json_object_set_new(a, model->res[j].name,
                                json_real(model->res[j].percent / 100.0));
        }
        json_object_set_new(m, "resolution_multipliers", a);

        a = json_array();
        for (j = 0; j < model->nseconds; j++) {
            json_array_append_new(a, json_integer(model->seconds[j]));
        }
        json_object_set_new(m, "seconds", a);
        json_object_set_new(m, "default_seconds",
                            json_integer(model->default_seconds));

        a = json_array();
        for (j = 0; j < model->nsizes; j++) {
            json_array_append_new(a, json_string(model->sizes[j]));
        }
        json_object_set_new(m, "sizes", a);
        json_object_set_new(m, "default_size",
                            json_string(model->default_size));

        json_array_append_new(data, m);
    }

    root = json_object();
    json_object_set_new(root, "object", json_string("list"));
    json_object_set_new(root, "data", data);

    return ngx_http_makeclip_send_json(r, NGX_HTTP_OK, root);
}


mc_msec_t
ngx_http_makeclip_now(void)
{
    ngx_time_t  *tp;

    tp = ngx_timeofday();

    return (mc_msec_t) tp->sec * 1000 + tp->msec;
}
