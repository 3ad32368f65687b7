
/*
 * Copyright (C) makeclip authors
 *
 * The nginx glue of makeclip: configuration, handlers, outbound calls.
 * The gateway's logic lives in the mc_* core; these files only connect it
 * to nginx's requests, subrequests, variables and events.
 */

#ifndef _NGX_HTTP_MAKECLIP_H_INCLUDED_
#define _NGX_HTTP_MAKECLIP_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "mc_core.h"
#include "mc_catalog.h"
#include "mc_request.h"
#include "mc_route.h"
#include "mc_task.h"
#include "mc_adapter.h"
#include "mc_store.h"


#define NGX_HTTP_MAKECLIP_SYNC_OFF       0
#define NGX_HTTP_MAKECLIP_SYNC_INTERVAL  1
#define NGX_HTTP_MAKECLIP_SYNC_COMMIT    2

#define NGX_HTTP_MAKECLIP_AUTH_KEY       0
#define NGX_HTTP_MAKECLIP_AUTH_VARIABLE  1

#define NGX_HTTP_MAKECLIP_CONTENT_PROXY     0
#define NGX_HTTP_MAKECLIP_CONTENT_REDIRECT  1

#define NGX_HTTP_MAKECLIP_LIST_MAX       100


/* ngx_http_makeclip_store.c: a worker's group commit, a held response */
typedef struct ngx_http_makeclip_sync_s  ngx_http_makeclip_sync_t;
typedef struct ngx_http_makeclip_hold_s  ngx_http_makeclip_hold_t;


typedef struct {
    mc_catalog_t                 *catalog;

    ngx_str_t                     store_path;
    size_t                        map_size;
    size_t                        max_map_size;
    ngx_uint_t                    sync;
    ngx_msec_t                    sync_interval;
    ngx_uint_t                    max_readers;

    mc_store_t                   *store;        /* per worker process */
    ngx_event_t                   sync_event;
    ngx_event_t                   reader_event;
    ngx_uint_t                    sync_pending;
    ngx_http_makeclip_sync_t     *sync_state;   /* per worker process */
#if (NGX_THREADS)
    ngx_thread_pool_t            *thread_pool;
    ngx_str_t                     thread_pool_name;
    ngx_thread_task_t            *sync_task;
#endif

    /* every makeclip_route set, to resolve once the catalog is complete */
    ngx_array_t                   route_sets;   /* of mc_routes_t * */
    ngx_uint_t                    enabled;      /* any makeclip_api */
} ngx_http_makeclip_main_conf_t;


typedef struct {
    ngx_uint_t                    handler;      /* api, admin or none */
    mc_routes_t                  *routes;

    ngx_uint_t                    auth;
    ngx_http_complex_value_t     *account_var;
    ngx_http_complex_value_t     *plan_var;
    ngx_str_t                     admin_token;

    ngx_str_t                     default_model;
    ngx_msec_t                    poll_interval;
    ngx_msec_t                    idempotency_ttl;
    ngx_msec_t                    submit_timeout;
    ngx_msec_t                    task_timeout;
    ngx_uint_t                    reject_log_level;
    ngx_uint_t                    content;
    ngx_str_t                     content_location;
    size_t                        max_body_size;
} ngx_http_makeclip_loc_conf_t;


typedef struct ngx_http_makeclip_ctx_s  ngx_http_makeclip_ctx_t;

typedef void (*ngx_http_makeclip_done_pt)(ngx_http_request_t *r,
    ngx_http_makeclip_ctx_t *ctx);


typedef enum {
    NGX_HTTP_MAKECLIP_OP_CREATE = 0,
    NGX_HTTP_MAKECLIP_OP_STATUS,
    NGX_HTTP_MAKECLIP_OP_CANCEL
} ngx_http_makeclip_op_e;


/* one outbound call in flight: what the proxy location's variables read */
typedef struct {
    ngx_str_t                     url;
    ngx_str_t                     host;
} ngx_http_makeclip_upstream_t;


struct ngx_http_makeclip_ctx_s {
    ngx_http_request_t           *request;
    mc_pool_t                    *pool;         /* freed by pool cleanup */

    ngx_str_t                     body;         /* the client's, flattened */
    off_t                         body_received;
    mc_video_req_t                req;
    mc_account_t                  account;
    mc_plan_t                    *plan;
    ngx_str_t                     plan_name;
    mc_model_t                   *model;

    mc_task_t                     task;
    unsigned                      have_task:1;

    mc_target_t                  *targets;
    size_t                        ntargets;
    size_t                        target;
    mc_fail_e                     last_fail;
    int                           last_status;

    /* the adapter operation in progress */
    ngx_http_makeclip_op_e        op;
    mc_call_t                     call;
    mc_http_req_t                 hreq;
    ngx_http_makeclip_done_pt     done;
    ngx_http_makeclip_upstream_t  upstream;
    ngx_event_t                   deadline;

    /* the last subrequest's outcome, set by its post handler */
    ngx_http_request_t           *sr;
    mc_buf_t                      capture;      /* its answer's body */
    mc_http_resp_t                resp;
    unsigned                      waiting:1;
    unsigned                      sr_done:1;
    unsigned                      timed_out:1;
    unsigned                      body_too_large:1;
    unsigned                      capture_too_big:1;

    /* for the access log */
    ngx_str_t                     var_task_id;

    /* set when the request committed and sync=commit holds its answer */
    ngx_http_makeclip_hold_t     *hold;
};


extern ngx_module_t  ngx_http_makeclip_module;


/* ngx_http_makeclip_handler.c */
ngx_int_t ngx_http_makeclip_api_handler(ngx_http_request_t *r);
ngx_int_t ngx_http_makeclip_send_json(ngx_http_request_t *r,
    ngx_uint_t status, json_t *body);
ngx_int_t ngx_http_makeclip_send_error(ngx_http_request_t *r,
    const mc_error_t *err);
ngx_int_t ngx_http_makeclip_error(ngx_http_request_t *r, ngx_uint_t status,
    const char *type, const char *code, const char *param,
    const char *message);
ngx_http_makeclip_ctx_t *ngx_http_makeclip_get_ctx(ngx_http_request_t *r);
ngx_http_makeclip_ctx_t *ngx_http_makeclip_create_ctx(ngx_http_request_t *r);
ngx_int_t ngx_http_makeclip_read_body(ngx_http_request_t *r,
    ngx_http_makeclip_ctx_t *ctx);
ngx_int_t ngx_http_makeclip_body_filter_init(ngx_conf_t *cf);
char *ngx_http_makeclip_content_url(ngx_http_request_t *r, mc_pool_t *pool,
    const char *task_id);
mc_msec_t ngx_http_makeclip_now(void);
json_t *ngx_http_makeclip_render_task(ngx_http_request_t *r,
    ngx_http_makeclip_ctx_t *ctx, const mc_task_t *t);

/* ngx_http_makeclip_task.c */
void ngx_http_makeclip_create(ngx_http_request_t *r);
ngx_int_t ngx_http_makeclip_retrieve(ngx_http_request_t *r,
    ngx_http_makeclip_ctx_t *ctx, ngx_str_t *id);
ngx_int_t ngx_http_makeclip_cancel(ngx_http_request_t *r,
    ngx_http_makeclip_ctx_t *ctx, ngx_str_t *id);
ngx_int_t ngx_http_makeclip_load_task(ngx_http_request_t *r,
    ngx_http_makeclip_ctx_t *ctx, ngx_str_t *id, ngx_int_t *rc);

/* ngx_http_makeclip_upstream.c */
void ngx_http_makeclip_call_init(ngx_http_makeclip_ctx_t *ctx,
    mc_provider_t *p, const char *model_id);
ngx_int_t ngx_http_makeclip_op_start(ngx_http_request_t *r,
    ngx_http_makeclip_ctx_t *ctx, ngx_http_makeclip_op_e op,
    ngx_http_makeclip_done_pt done);
ngx_int_t ngx_http_makeclip_set_outbound_headers(ngx_http_request_t *r,
    mc_http_req_t *hreq, ngx_uint_t keep_range);
ngx_int_t ngx_http_makeclip_upstream_variables(ngx_conf_t *cf);
ngx_int_t ngx_http_makeclip_capture_filter_init(ngx_conf_t *cf);
ngx_int_t ngx_http_makeclip_add_upstream(ngx_conf_t *cf, mc_provider_t *p);

/* ngx_http_makeclip_content.c */
ngx_int_t ngx_http_makeclip_content(ngx_http_request_t *r,
    ngx_http_makeclip_ctx_t *ctx, ngx_str_t *id);

/* ngx_http_makeclip_admin.c */
ngx_int_t ngx_http_makeclip_admin_handler(ngx_http_request_t *r);

/* ngx_http_makeclip_store.c */
ngx_int_t ngx_http_makeclip_store_init_module(ngx_cycle_t *cycle);
ngx_int_t ngx_http_makeclip_store_init_process(ngx_cycle_t *cycle);
void ngx_http_makeclip_store_exit_process(ngx_cycle_t *cycle);
void ngx_http_makeclip_store_committed(ngx_http_request_t *r);
mc_store_t *ngx_http_makeclip_store(ngx_http_request_t *r);
ngx_int_t ngx_http_makeclip_store_error(ngx_http_request_t *r, int rc,
    const char *what);
ngx_int_t ngx_http_makeclip_store_filter_init(ngx_conf_t *cf);
json_t *ngx_http_makeclip_store_stats(ngx_http_request_t *r);

/* ngx_http_makeclip_variables.c */
ngx_int_t ngx_http_makeclip_add_variables(ngx_conf_t *cf);
ngx_int_t ngx_http_makeclip_register_variables(ngx_conf_t *cf,
    ngx_http_variable_t *vars);


#endif /* _NGX_HTTP_MAKECLIP_H_INCLUDED_ */
