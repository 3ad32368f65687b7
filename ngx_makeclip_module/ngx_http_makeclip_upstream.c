
/*
 * Copyright (C) makeclip authors
 *
 * Outbound calls made inside a client request: each adapter call becomes
 * an in-memory subrequest to an internal location that proxy_passes to
 * the provider (conf/makeclip_proxy.conf), so nginx's own non-blocking
 * client does the work: keepalive, TLS, resolver, timeouts.
 *
 * The answer is captured by this module's own header and body filters,
 * not by NGX_HTTP_SUBREQUEST_IN_MEMORY: in nginx an in-memory subrequest
 * whose answer outgrows subrequest_output_buffer_size breaks the client's
 * connection, while a provider's oversized answer must only fail the call.
 *
 * An operation (create, status, cancel) is a short sequence of calls the
 * adapter drives; when it ends, ctx->done runs.  ctx->done may run before
 * ngx_http_makeclip_op_start() returns (no network needed) or later from
 * the parent's write event handler, after the subrequest finished.
 */


#include "ngx_http_makeclip.h"


static void ngx_http_makeclip_op_step(ngx_http_request_t *r,
    ngx_http_makeclip_ctx_t *ctx, int rc);
static ngx_int_t ngx_http_makeclip_send(ngx_http_request_t *r,
    ngx_http_makeclip_ctx_t *ctx);
static ngx_int_t ngx_http_makeclip_sr_done(ngx_http_request_t *sr,
    void *data, ngx_int_t rc);
static void ngx_http_makeclip_wake(ngx_http_request_t *r);
static void ngx_http_makeclip_deadline(ngx_event_t *ev);
static ngx_int_t ngx_http_makeclip_upstream_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data);
static ngx_table_elt_t *ngx_http_makeclip_find_header(ngx_list_t *headers,
    const char *name);
static ngx_int_t ngx_http_makeclip_capture_header_filter(
    ngx_http_request_t *r);
static ngx_int_t ngx_http_makeclip_capture_body_filter(ngx_http_request_t *r,
    ngx_chain_t *in);


static ngx_http_output_header_filter_pt  ngx_http_next_header_filter;
static ngx_http_output_body_filter_pt    ngx_http_next_body_filter;


static ngx_str_t  ngx_http_makeclip_methods[] = {
    ngx_string("GET"),
    ngx_string("POST"),
    ngx_string("PUT"),
    ngx_string("DELETE"),
    ngx_string("PATCH")
};

static ngx_uint_t  ngx_http_makeclip_method_ids[] = {
    NGX_HTTP_GET,
    NGX_HTTP_POST,
    NGX_HTTP_PUT,
    NGX_HTTP_DELETE,
    NGX_HTTP_PATCH
};


/* an adapter call about ctx's request and task, to provider p */

void
ngx_http_makeclip_call_init(ngx_http_makeclip_ctx_t *ctx, mc_provider_t *p,
    const char *model_id)
{
    ngx_memzero(&ctx->call, sizeof(mc_call_t));

    ctx->call.pool = ctx->pool;
    ctx->call.provider = p;
    ctx->call.model_id = model_id;
    ctx->call.req = &ctx->req;
    ctx->call.task = &ctx->task;
    ctx->call.result.progress = -1;
}


ngx_int_t
ngx_http_makeclip_op_start(ngx_http_request_t *r,
    ngx_http_makeclip_ctx_t *ctx, ngx_http_makeclip_op_e op,
    ngx_http_makeclip_done_pt done)
{
    int                     rc;
    mc_adapter_request_pt   start;
    const mc_adapter_t     *a;

    a = ctx->call.provider->adapter;

    ctx->op = op;
    ctx->done = done;
    ctx->call.step = 0;
    ctx->call.now = ngx_http_makeclip_now();
    ngx_memzero(&ctx->call.result, sizeof(mc_result_t));
    ctx->call.result.progress = -1;

    switch (op) {
    case NGX_HTTP_MAKECLIP_OP_CREATE:
        start = a->create_request;
        break;
    case NGX_HTTP_MAKECLIP_OP_STATUS:
        start = a->status_request;
        break;
    default:
        start = a->cancel_request;
        break;
    }

    if (start == NULL) {
        mc_result_fail(&ctx->call, MC_FAIL_UNSUPPORTED, 0,
                       "the adapter has no such operation");
        done(r, ctx);
        return NGX_OK;
    }

    mc_http_req_init(&ctx->hreq, "GET", NULL);

    rc = start(&ctx->call, &ctx->hreq);

    ngx_http_makeclip_op_step(r, ctx, rc);

    return NGX_OK;
}


/* runs an adapter's answer: another call, or the end of the operation */

static void
ngx_http_makeclip_op_step(ngx_http_request_t *r, ngx_http_makeclip_ctx_t *ctx,
    int rc)
{
    if (rc == MC_CALL_SEND) {
        if (ngx_http_makeclip_send(r, ctx) == NGX_OK) {
            return;
        }

        mc_result_fail(&ctx->call, MC_FAIL_RETRY, 0,
                       "could not start the call");

    } else if (rc != MC_CALL_DONE && ctx->call.result.fail == MC_FAIL_NONE) {
        mc_result_fail(&ctx->call, MC_FAIL_PROTOCOL, 0,
                       "the adapter could not build the call");
    }

    ctx->done(r, ctx);
}


static ngx_int_t
ngx_http_makeclip_send(ngx_http_request_t *r, ngx_http_makeclip_ctx_t *ctx)
{
    size_t                         len;
    ngx_buf_t                     *b;
    ngx_str_t                      uri;
    ngx_uint_t                     i, own;
    ngx_chain_t                   *cl;
    const char                    *host;
    mc_provider_t                 *p;
    mc_http_req_t                 *hreq;
    ngx_http_request_t            *sr;
    ngx_http_post_subrequest_t    *ps;
    ngx_http_request_body_t       *rb;

    p = ctx->call.provider;
    hreq = &ctx->hreq;

    if (hreq->url == NULL || p->base_url == NULL) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "makeclip: provider \"%s\" has no url", p->name);
        return NGX_ERROR;
    }

    /*
     * Adapters build URLs on the provider's base URL; nginx connects to
     * the proxy base (an upstream{} group when upstream= is set) and the
     * real host goes into Host and the TLS name.
     */
    len = ngx_strlen(p->base_url);
    own = (ngx_strncmp(hreq->url, p->base_url, len) == 0);

    if (own && p->proxy_base != p->base_url) {
        ctx->upstream.url.len = ngx_strlen(p->proxy_base)
                                + ngx_strlen(hreq->url + len);
        ctx->upstream.url.data = ngx_pnalloc(r->pool, ctx->upstream.url.len);
        if (ctx->upstream.url.data == NULL) {
            return NGX_ERROR;
        }

        ngx_sprintf(ctx->upstream.url.data, "%s%s", p->proxy_base,
                    hreq->url + len);

    } else {
        ctx->upstream.url.data = (u_char *) hreq->url;
        ctx->upstream.url.len = ngx_strlen(hreq->url);
    }

    if (own) {
        ctx->upstream.host.data = (u_char *) p->host;
        ctx->upstream.host.len = ngx_strlen(p->host);

    } else {
        /* a URL the provider handed out, on another host: its own name
         * goes into Host and TLS */
        host = ngx_strstr(hreq->url, "://");
        host = host ? host + 3 : hreq->url;

        ctx->upstream.host.data = (u_char *) host;
        ctx->upstream.host.len = strcspn(host, "/?#");
    }

    ps = ngx_palloc(r->pool, sizeof(ngx_http_post_subrequest_t));
    if (ps == NULL) {
        return NGX_ERROR;
    }

    ps->handler = ngx_http_makeclip_sr_done;
    ps->data = ctx;

    uri.data = (u_char *) p->location;
    uri.len = ngx_strlen(p->location);

    if (ngx_http_subrequest(r, &uri, NULL, &sr, ps,
                            NGX_HTTP_SUBREQUEST_WAITED)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    /* the variables of the proxy location and the capture filters find
     * the call here */
    ngx_http_set_ctx(sr, ctx, ngx_http_makeclip_module);

    /* file buffers are read back into memory before the body filters */
    sr->filter_need_in_memory = 1;

    ctx->capture.len = 0;
    ctx->capture_too_big = 0;

    for (i = 0; i < sizeof(ngx_http_makeclip_methods) / sizeof(ngx_str_t);
         i++)
    {
        if (ngx_strcmp(hreq->method, ngx_http_makeclip_methods[i].data)
            == 0)
        {
            sr->method = ngx_http_makeclip_method_ids[i];
            sr->method_name = ngx_http_makeclip_methods[i];
            break;
        }
    }

    /* a subrequest inherits the client's headers and body: replace both,
     * or the client's API key would travel to the provider */
    if (ngx_http_makeclip_set_outbound_headers(sr, hreq, 0) != NGX_OK) {
        return NGX_ERROR;
    }

    rb = ngx_pcalloc(r->pool, sizeof(ngx_http_request_body_t));
    if (rb == NULL) {
        return NGX_ERROR;
    }

    /* a POST without a body still says so: some front ends answer 411
     * to one without Content-Length */
    sr->headers_in.content_length_n =
        (sr->method & (NGX_HTTP_POST|NGX_HTTP_PUT|NGX_HTTP_PATCH)) ? 0 : -1;

    if (hreq->body) {
        b = ngx_calloc_buf(r->pool);
        cl = ngx_alloc_chain_link(r->pool);
        if (b == NULL || cl == NULL) {
            return NGX_ERROR;
        }

        b->pos = (u_char *) hreq->body;
        b->last = b->pos + hreq->body_len;
        b->start = b->pos;
        b->end = b->last;
        b->memory = 1;
        b->last_buf = 1;

        cl->buf = b;
        cl->next = NULL;

        rb->bufs = cl;
        sr->headers_in.content_length_n = hreq->body_len;
    }

    sr->request_body = rb;

    ctx->sr = sr;
    ctx->sr_done = 0;
    ctx->timed_out = 0;
    ctx->waiting = 1;

    r->write_event_handler = ngx_http_makeclip_wake;

    ctx->deadline.handler = ngx_http_makeclip_deadline;
    ctx->deadline.data = ctx;
    ctx->deadline.log = r->connection->log;

    if (ctx->deadline.timer_set) {
        ngx_del_timer(&ctx->deadline);
    }

    ngx_add_timer(&ctx->deadline, (ngx_msec_t) p->timeout);

    ngx_log_debug4(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "makeclip call %s %s \"%V\" step %d", p->name,
                   hreq->method, &uri, ctx->call.step);

    return NGX_OK;
}


ngx_int_t
ngx_http_makeclip_set_outbound_headers(ngx_http_request_t *r,
    mc_http_req_t *hreq, ngx_uint_t keep_range)
{
    size_t            i;
    ngx_list_t        old;
    ngx_table_elt_t  *h, *src;

    old = r->headers_in.headers;

    if (ngx_list_init(&r->headers_in.headers, r->pool, 8,
                      sizeof(ngx_table_elt_t))
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    r->headers_in.content_type = NULL;
    r->headers_in.authorization = NULL;
    r->headers_in.chunked = 0;
    r->headers_in.content_length = NULL;

    if (keep_range) {
        /* a video player seeks with Range: keep it, drop the rest */
        static const char  *keep[] = { "Range", "If-Range" };

        for (i = 0; i < 2; i++) {
            src = ngx_http_makeclip_find_header(&old, keep[i]);
            if (src == NULL) {
                continue;
            }

            h = ngx_list_push(&r->headers_in.headers);
            if (h == NULL) {
                return NGX_ERROR;
            }

            *h = *src;
#if (nginx_version >= 1023000)
            h->next = NULL;
#endif
        }
    }

    for (i = 0; i < hreq->nheaders; i++) {
        h = ngx_list_push(&r->headers_in.headers);
        if (h == NULL) {
            return NGX_ERROR;
        }

        h->hash = 1;
        h->key.data = (u_char *) hreq->headers[i].name;
        h->key.len = ngx_strlen(h->key.data);
        h->value.data = (u_char *) hreq->headers[i].value;
        h->value.len = ngx_strlen(h->value.data);
        h->lowcase_key = ngx_pnalloc(r->pool, h->key.len);
        if (h->lowcase_key == NULL) {
            return NGX_ERROR;
        }
        ngx_strlow(h->lowcase_key, h->key.data, h->key.len);
#if (nginx_version >= 1023000)
        h->next = NULL;
#endif
    }

    return NGX_OK;
}


static ngx_table_elt_t *
ngx_http_makeclip_find_header(ngx_list_t *headers, const char *name)
{
    size_t            len;
    ngx_uint_t        i;
    ngx_list_part_t  *part;
    ngx_table_elt_t  *h;

    len = ngx_strlen(name);
    part = &headers->part;
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

        if (h[i].hash != 0 && h[i].key.len == len
            && ngx_strncasecmp(h[i].key.data, (u_char *) name, len) == 0)
        {
            return &h[i];
        }
    }

    return NULL;
}


/*
 * The subrequest's end: called by nginx from ngx_http_finalize_request()
 * of the subrequest, possibly twice when nginx produces an error page for
 * it.  The answer is recorded and the parent is woken by nginx itself.
 */

static ngx_int_t
ngx_http_makeclip_sr_done(ngx_http_request_t *sr, void *data, ngx_int_t rc)
{
    ngx_http_makeclip_ctx_t *ctx = data;

    ngx_table_elt_t  *h;

    if (ctx->sr != sr || ctx->sr_done) {
        return NGX_OK;
    }

    ctx->sr_done = 1;

    if (ctx->deadline.timer_set) {
        ngx_del_timer(&ctx->deadline);
    }

    ngx_memzero(&ctx->resp, sizeof(mc_http_resp_t));

    if (ctx->timed_out || rc == NGX_HTTP_GATEWAY_TIME_OUT) {
        ctx->resp.transport = MC_TRANSPORT_TIMEOUT;

    } else if (ctx->capture_too_big) {
        ngx_log_error(NGX_LOG_ERR, sr->connection->log, 0,
                      "makeclip: provider \"%s\" answered with more than "
                      "subrequest_output_buffer_size allows",
                      ctx->call.provider->name);

        ctx->resp.transport = MC_TRANSPORT_ERROR;

    } else if (sr->upstream == NULL) {
        /* answered by nginx itself, not by a provider: the internal
         * location is missing or is not a proxy_pass */
        ngx_log_error(NGX_LOG_ERR, sr->connection->log, 0,
                      "makeclip: the location \"%V\" did not proxy the call "
                      "to provider \"%s\"; include makeclip_proxy.conf in "
                      "this server", &sr->uri, ctx->call.provider->name);

        ctx->resp.transport = MC_TRANSPORT_ERROR;

    } else if (rc == NGX_ERROR || rc >= NGX_HTTP_SPECIAL_RESPONSE
               || sr->headers_out.status == 0)
    {
        /* no answer: refused, reset, unresolvable */
        ctx->resp.transport = MC_TRANSPORT_ERROR;

    } else {
        ctx->resp.transport = MC_TRANSPORT_OK;
        ctx->resp.status = (int) sr->headers_out.status;
        ctx->resp.body = ctx->capture.data ? ctx->capture.data : "";
        ctx->resp.body_len = ctx->capture.len;

        h = ngx_http_makeclip_find_header(&sr->headers_out.headers,
                                          "Retry-After");
        if (h) {
            ctx->resp.retry_after = mc_pstrndup(ctx->pool,
                                                (char *) h->value.data,
                                                h->value.len);
        }
    }

    ngx_log_debug3(NGX_LOG_DEBUG_HTTP, sr->connection->log, 0,
                   "makeclip call done: rc %i status %d transport %d", rc,
                   ctx->resp.status, ctx->resp.transport);

    /* whatever happened to the call, the client's request goes on */
    return NGX_OK;
}


static void
ngx_http_makeclip_wake(ngx_http_request_t *r)
{
    int                       rc;
    mc_provider_t            *p;
    mc_adapter_reply_pt       reply;
    ngx_http_makeclip_ctx_t  *ctx;

    ctx = ngx_http_makeclip_get_ctx(r);

    if (ctx == NULL || !ctx->waiting || !ctx->sr_done) {
        return;
    }

    ctx->waiting = 0;
    ctx->sr = NULL;
    r->write_event_handler = ngx_http_request_empty_handler;

    p = ctx->call.provider;

    if (ctx->resp.transport != MC_TRANSPORT_OK) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "makeclip: provider \"%s\" %s", p->name,
                      ctx->resp.transport == MC_TRANSPORT_TIMEOUT
                      ? "timed out" : "could not be reached");
    }

    rc = mc_adapter_common_reply(&ctx->call, &ctx->resp);

    if (rc == MC_CALL_DONE) {
        ctx->done(r, ctx);
        return;
    }

    switch (ctx->op) {
    case NGX_HTTP_MAKECLIP_OP_CREATE:
        reply = p->adapter->create_reply;
        break;
    case NGX_HTTP_MAKECLIP_OP_STATUS:
        reply = p->adapter->status_reply;
        break;
    default:
        reply = p->adapter->cancel_reply;
        break;
    }

    if (reply == NULL) {
        mc_result_fail(&ctx->call, MC_FAIL_PROTOCOL, ctx->resp.status,
                       "no reply handler");
        ctx->done(r, ctx);
        return;
    }

    mc_http_req_init(&ctx->hreq, "GET", NULL);

    rc = reply(&ctx->call, &ctx->resp, &ctx->hreq);

    ngx_http_makeclip_op_step(r, ctx, rc);
}


/*
 * The provider's own deadline, shorter than the proxy location's
 * timeouts: the call in flight is made to time out the way nginx's
 * upstream times out a read, so the upstream ends it and cleans up.
 */

static void
ngx_http_makeclip_deadline(ngx_event_t *ev)
{
    ngx_connection_t         *c;
    ngx_http_upstream_t      *u;
    ngx_http_makeclip_ctx_t  *ctx;

    ctx = ev->data;

    if (ctx->sr == NULL || ctx->sr_done) {
        return;
    }

    ctx->timed_out = 1;

    u = ctx->sr->upstream;

    if (u == NULL || u->peer.connection == NULL) {
        /* not connected yet: the location's timeouts still bound it */
        return;
    }

    ngx_log_error(NGX_LOG_ERR, ev->log, 0,
                  "makeclip: provider \"%s\" took longer than its timeout",
                  ctx->call.provider->name);

    c = u->peer.connection;

    c->read->timedout = 1;

    if (c->read->timer_set) {
        ngx_del_timer(c->read);
    }

    ngx_post_event(c->read, &ngx_posted_events);
}


/* $makeclip_upstream_url and $makeclip_upstream_host, read by the
 * internal proxy locations */

static ngx_http_variable_t  ngx_http_makeclip_upstream_vars[] = {

    { ngx_string("makeclip_upstream_url"), NULL,
      ngx_http_makeclip_upstream_variable,
      offsetof(ngx_http_makeclip_upstream_t, url),
      NGX_HTTP_VAR_NOCACHEABLE|NGX_HTTP_VAR_NOHASH, 0 },

    { ngx_string("makeclip_upstream_host"), NULL,
      ngx_http_makeclip_upstream_variable,
      offsetof(ngx_http_makeclip_upstream_t, host),
      NGX_HTTP_VAR_NOCACHEABLE|NGX_HTTP_VAR_NOHASH, 0 },

      ngx_http_null_variable
};


ngx_int_t
ngx_http_makeclip_upstream_variables(ngx_conf_t *cf)
{
    return ngx_http_makeclip_register_variables(cf,
                                             ngx_http_makeclip_upstream_vars);
}


static ngx_int_t
ngx_http_makeclip_upstream_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data)
{
    ngx_str_t                *s;
    ngx_http_makeclip_ctx_t  *ctx;

    ctx = ngx_http_makeclip_get_ctx(r);

    if (ctx == NULL) {
        v->not_found = 1;
        return NGX_OK;
    }

    s = (ngx_str_t *) ((char *) &ctx->upstream + data);

    if (s->data == NULL) {
        v->not_found = 1;
        return NGX_OK;
    }

    v->len = s->len;
    v->valid = 1;
    v->no_cacheable = 1;
    v->not_found = 0;
    v->data = s->data;

    return NGX_OK;
}


/*
 * Each provider's URL becomes an implicit upstream at configuration
 * time, as a static proxy_pass would make it, so that the variable
 * proxy_pass in the internal location finds it by host and port and
 * needs no resolver.  With upstream=, the named upstream{} is used.
 */

ngx_int_t
ngx_http_makeclip_add_upstream(ngx_conf_t *cf, mc_provider_t *p)
{
    size_t      skip;
    ngx_url_t   u;

    ngx_memzero(&u, sizeof(ngx_url_t));

    if (p->upstream) {
        u.url.data = (u_char *) p->upstream;
        u.url.len = ngx_strlen(p->upstream);
        u.no_resolve = 1;

    } else {
        skip = ngx_strncmp(p->base_url, "https://", 8) == 0 ? 8 : 7;

        u.url.data = (u_char *) p->base_url + skip;
        u.url.len = ngx_strlen(p->base_url) - skip;
        u.default_port = (skip == 8) ? 443 : 80;
        u.no_resolve = 1;
        u.uri_part = 1;
    }

    if (ngx_http_upstream_add(cf, &u, 0) == NULL) {
        return NGX_ERROR;
    }

    return NGX_OK;
}


/*
 * The capture filters: a call's answer goes into ctx->capture instead of
 * to the client, up to the proxy location's subrequest_output_buffer_size;
 * what is beyond is dropped and fails the call.
 */

ngx_int_t
ngx_http_makeclip_capture_filter_init(ngx_conf_t *cf)
{
    ngx_http_next_header_filter = ngx_http_top_header_filter;
    ngx_http_top_header_filter = ngx_http_makeclip_capture_header_filter;

    ngx_http_next_body_filter = ngx_http_top_body_filter;
    ngx_http_top_body_filter = ngx_http_makeclip_capture_body_filter;

    return NGX_OK;
}


static ngx_http_makeclip_ctx_t *
ngx_http_makeclip_capturing(ngx_http_request_t *r)
{
    ngx_http_makeclip_ctx_t  *ctx;

    if (r == r->main) {
        return NULL;
    }

    ctx = ngx_http_get_module_ctx(r, ngx_http_makeclip_module);

    return (ctx && ctx->sr == r && !ctx->sr_done) ? ctx : NULL;
}


static ngx_int_t
ngx_http_makeclip_capture_header_filter(ngx_http_request_t *r)
{
    if (ngx_http_makeclip_capturing(r) == NULL) {
        return ngx_http_next_header_filter(r);
    }

    /* the status and headers stay in r->headers_out for sr_done */
    return NGX_OK;
}


static ngx_int_t
ngx_http_makeclip_capture_body_filter(ngx_http_request_t *r, ngx_chain_t *in)
{
    size_t                     len;
    ngx_buf_t                 *b;
    ngx_chain_t               *cl;
    ngx_http_makeclip_ctx_t   *ctx;
    ngx_http_core_loc_conf_t  *clcf;

    ctx = ngx_http_makeclip_capturing(r);

    if (ctx == NULL) {
        return ngx_http_next_body_filter(r, in);
    }

    clcf = ngx_http_get_module_loc_conf(r, ngx_http_core_module);

    for (cl = in; cl; cl = cl->next) {
        b = cl->buf;

        if (ngx_buf_in_memory(b)) {
            len = b->last - b->pos;

            if (ctx->capture.len + len > clcf->subrequest_output_buffer_size) {
                ctx->capture_too_big = 1;

            } else if (!ctx->capture_too_big
                       && mc_buf_add(&ctx->capture, b->pos, len) != MC_OK)
            {
                return NGX_ERROR;
            }

            b->pos = b->last;
        }

        if (b->in_file) {
            b->file_pos = b->file_last;
        }
    }

    return NGX_OK;
}
