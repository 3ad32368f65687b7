
/*
 * Copyright (C) makeclip authors
 *
 * GET /videos/{id}/content: the finished video, never held in memory.
 * A provider URL is streamed through an internal redirect to the content
 * location (proxy_pass, with the provider's credentials where it wants
 * them, and the client's Range kept) or handed to the client as a 302; a
 * local file (the sandbox's) is sent the way the static module sends one.
 */


#include "ngx_http_makeclip.h"


static ngx_int_t ngx_http_makeclip_send_file(ngx_http_request_t *r,
    const char *name);


ngx_int_t
ngx_http_makeclip_content(ngx_http_request_t *r, ngx_http_makeclip_ctx_t *ctx,
    ngx_str_t *id)
{
    int                             rc;
    ngx_int_t                       nrc;
    ngx_str_t                       value, uri;
    const char                     *host, *end;
    mc_provider_t                  *p;
    ngx_table_elt_t                *h;
    ngx_http_makeclip_loc_conf_t   *mlcf;
    ngx_http_makeclip_main_conf_t  *mmcf;

    if (ngx_http_makeclip_load_task(r, ctx, id, &nrc) != NGX_OK) {
        return nrc;
    }

    mlcf = ngx_http_get_module_loc_conf(r, ngx_http_makeclip_module);
    mmcf = ngx_http_get_module_main_conf(r, ngx_http_makeclip_module);

    if (ngx_http_arg(r, (u_char *) "variant", 7, &value) == NGX_OK
        && !(value.len == 5 && ngx_strncmp(value.data, "video", 5) == 0))
    {
        return ngx_http_makeclip_error(r, NGX_HTTP_BAD_REQUEST,
                                       MC_ERR_INVALID, "unsupported_variant",
                                       "variant", "Only variant=video is "
                                       "available.");
    }

    if (ctx->task.status != MC_TASK_COMPLETED) {
        return ngx_http_makeclip_error(r, NGX_HTTP_BAD_REQUEST,
                                       MC_ERR_INVALID, "video_not_ready",
                                       NULL, "The video is not completed.");
    }

    p = ctx->task.provider ? mc_catalog_provider(mmcf->catalog,
                                                 ctx->task.provider)
                           : NULL;

    if (p == NULL) {
        return ngx_http_makeclip_error(r, NGX_HTTP_NOT_FOUND, MC_ERR_INVALID,
                                       "content_unavailable", NULL,
                                       "The video's provider is no longer "
                                       "configured.");
    }

    ngx_http_makeclip_call_init(ctx, p, ctx->task.provider_model);

    mc_http_req_init(&ctx->hreq, "GET", ctx->task.provider_video_url);

    if (p->adapter->content_request) {
        rc = p->adapter->content_request(&ctx->call, &ctx->hreq);

    } else {
        rc = ctx->task.provider_video_url ? MC_CALL_SEND : MC_ERROR;
    }

    if (rc == MC_CALL_DONE && ctx->call.result.local_file) {
        return ngx_http_makeclip_send_file(r, ctx->call.result.local_file);
    }

    if (rc != MC_CALL_SEND || ctx->hreq.url == NULL
        || (ngx_strncmp(ctx->hreq.url, "https://", 8) != 0
            && ngx_strncmp(ctx->hreq.url, "http://", 7) != 0))
    {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "makeclip: task %s has no video URL", ctx->task.id);

        return ngx_http_makeclip_error(r, NGX_HTTP_BAD_GATEWAY,
                                       MC_ERR_PROVIDER, "content_unavailable",
                                       NULL, "The provider gave no video for "
                                       "this task.");
    }

    if (mlcf->content == NGX_HTTP_MAKECLIP_CONTENT_REDIRECT
        && ctx->hreq.nheaders == 0)
    {
        /* a URL that needs no credentials can go to the client as is */
        ngx_http_clear_location(r);

        h = ngx_list_push(&r->headers_out.headers);
        if (h == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        h->hash = 1;
        ngx_str_set(&h->key, "Location");
        h->value.data = (u_char *) ctx->hreq.url;
        h->value.len = ngx_strlen(ctx->hreq.url);
#if (nginx_version >= 1023000)
        h->next = NULL;
#endif
        r->headers_out.location = h;

        return NGX_HTTP_MOVED_TEMPORARILY;
    }

    host = ngx_strstr(ctx->hreq.url, "://") + 3;
    end = host + strcspn(host, "/?#");

    ctx->upstream.url.data = (u_char *) ctx->hreq.url;
    ctx->upstream.url.len = ngx_strlen(ctx->hreq.url);
    ctx->upstream.host.data = (u_char *) host;
    ctx->upstream.host.len = end - host;

    if (ngx_http_makeclip_set_outbound_headers(r, &ctx->hreq, 1) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    uri = mlcf->content_location;

    ngx_log_debug2(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "makeclip content of %s through \"%V\"", ctx->task.id,
                   &uri);

    return ngx_http_internal_redirect(r, &uri, NULL);
}


static ngx_int_t
ngx_http_makeclip_send_file(ngx_http_request_t *r, const char *name)
{
    ngx_int_t                  rc;
    ngx_buf_t                 *b;
    ngx_str_t                  path;
    ngx_chain_t                out;
    ngx_open_file_info_t       of;
    ngx_http_core_loc_conf_t  *clcf;

    path.data = (u_char *) name;
    path.len = ngx_strlen(name);

    if (ngx_get_full_name(r->pool, (ngx_str_t *) &ngx_cycle->prefix, &path)
        != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    clcf = ngx_http_get_module_loc_conf(r, ngx_http_core_module);

    ngx_memzero(&of, sizeof(ngx_open_file_info_t));

    of.read_ahead = clcf->read_ahead;
    of.directio = clcf->directio;
    of.valid = clcf->open_file_cache_valid;
    of.min_uses = clcf->open_file_cache_min_uses;
    of.errors = clcf->open_file_cache_errors;
    of.events = clcf->open_file_cache_events;

    if (ngx_open_cached_file(clcf->open_file_cache, &path, &of, r->pool)
        != NGX_OK)
    {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, of.err,
                      "makeclip: %s \"%V\" failed", of.failed, &path);

        return ngx_http_makeclip_error(r, NGX_HTTP_NOT_FOUND, MC_ERR_INVALID,
                                       "content_unavailable", NULL,
                                       "The video file is missing.");
    }

    if (!of.is_file) {
        return ngx_http_makeclip_error(r, NGX_HTTP_NOT_FOUND, MC_ERR_INVALID,
                                       "content_unavailable", NULL,
                                       "The video file is missing.");
    }

    r->root_tested = !r->error_page;
    r->allow_ranges = 1;

    r->headers_out.status = NGX_HTTP_OK;
    r->headers_out.content_length_n = of.size;
    r->headers_out.last_modified_time = of.mtime;
    ngx_str_set(&r->headers_out.content_type, "video/mp4");
    r->headers_out.content_type_len = r->headers_out.content_type.len;

    if (ngx_http_set_etag(r) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    b = ngx_calloc_buf(r->pool);
    if (b == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    b->file = ngx_pcalloc(r->pool, sizeof(ngx_file_t));
    if (b->file == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    rc = ngx_http_send_header(r);

    if (rc == NGX_ERROR || rc > NGX_OK || r->header_only) {
        return rc;
    }

    b->file_pos = 0;
    b->file_last = of.size;

    b->in_file = b->file_last ? 1 : 0;
    b->last_buf = 1;
    b->last_in_chain = 1;

    b->file->fd = of.fd;
    b->file->name = path;
    b->file->log = r->connection->log;
    b->file->directio = of.is_directio;

    out.buf = b;
    out.next = NULL;

    return ngx_http_output_filter(r, &out);
}
