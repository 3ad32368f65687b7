
/*
 * Copyright (C) makeclip authors
 *
 * ngx_http_makeclip_module: directives and configuration.
 */


#include "ngx_http_makeclip.h"


#define NGX_HTTP_MAKECLIP_NONE   0
#define NGX_HTTP_MAKECLIP_API    1
#define NGX_HTTP_MAKECLIP_ADMIN  2

#define NGX_HTTP_MAKECLIP_MAX_ARGS  64


static ngx_int_t ngx_http_makeclip_preconfiguration(ngx_conf_t *cf);
static ngx_int_t ngx_http_makeclip_postconfiguration(ngx_conf_t *cf);
static void *ngx_http_makeclip_create_main_conf(ngx_conf_t *cf);
static char *ngx_http_makeclip_init_main_conf(ngx_conf_t *cf, void *conf);
static void *ngx_http_makeclip_create_loc_conf(ngx_conf_t *cf);
static char *ngx_http_makeclip_merge_loc_conf(ngx_conf_t *cf, void *parent,
    void *child);

static char *ngx_http_makeclip_store_directive(ngx_conf_t *cf,
    ngx_command_t *cmd, void *conf);
static char *ngx_http_makeclip_catalog_directive(ngx_conf_t *cf,
    ngx_command_t *cmd, void *conf);
static char *ngx_http_makeclip_route(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_makeclip_auth(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_makeclip_handler_directive(ngx_conf_t *cf,
    ngx_command_t *cmd, void *conf);

static void ngx_http_makeclip_check_submit_timeout(ngx_conf_t *cf,
    ngx_http_makeclip_loc_conf_t *conf);
static void ngx_http_makeclip_cleanup_catalog(void *data);
static void ngx_http_makeclip_cleanup_routes(void *data);
static char *ngx_http_makeclip_args(ngx_conf_t *cf, char **argv,
    size_t *argc, char *where, size_t wlen);

static ngx_int_t ngx_http_makeclip_init_module(ngx_cycle_t *cycle);
static ngx_int_t ngx_http_makeclip_init_process(ngx_cycle_t *cycle);
static void ngx_http_makeclip_exit_process(ngx_cycle_t *cycle);


static ngx_conf_enum_t  ngx_http_makeclip_log_levels[] = {
    { ngx_string("info"), NGX_LOG_INFO },
    { ngx_string("notice"), NGX_LOG_NOTICE },
    { ngx_string("warn"), NGX_LOG_WARN },
    { ngx_string("error"), NGX_LOG_ERR },
    { ngx_null_string, 0 }
};


static ngx_conf_enum_t  ngx_http_makeclip_content_modes[] = {
    { ngx_string("proxy"), NGX_HTTP_MAKECLIP_CONTENT_PROXY },
    { ngx_string("redirect"), NGX_HTTP_MAKECLIP_CONTENT_REDIRECT },
    { ngx_null_string, 0 }
};


static ngx_command_t  ngx_http_makeclip_commands[] = {

    { ngx_string("makeclip_store"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_1MORE,
      ngx_http_makeclip_store_directive,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("makeclip_provider"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_2MORE,
      ngx_http_makeclip_catalog_directive,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("makeclip_model"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_2MORE,
      ngx_http_makeclip_catalog_directive,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("makeclip_plan"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_1MORE,
      ngx_http_makeclip_catalog_directive,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("makeclip_api"),
      NGX_HTTP_LOC_CONF|NGX_CONF_NOARGS,
      ngx_http_makeclip_handler_directive,
      NGX_HTTP_LOC_CONF_OFFSET,
      NGX_HTTP_MAKECLIP_API,
      NULL },

    { ngx_string("makeclip_admin"),
      NGX_HTTP_LOC_CONF|NGX_CONF_NOARGS,
      ngx_http_makeclip_handler_directive,
      NGX_HTTP_LOC_CONF_OFFSET,
      NGX_HTTP_MAKECLIP_ADMIN,
      NULL },

    { ngx_string("makeclip_admin_token"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_str_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_makeclip_loc_conf_t, admin_token),
      NULL },

    { ngx_string("makeclip_route"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_1MORE,
      ngx_http_makeclip_route,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("makeclip_auth"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE12,
      ngx_http_makeclip_auth,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("makeclip_default_model"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_str_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_makeclip_loc_conf_t, default_model),
      NULL },

    { ngx_string("makeclip_poll_interval"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_msec_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_makeclip_loc_conf_t, poll_interval),
      NULL },

    { ngx_string("makeclip_idempotency_ttl"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_msec_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_makeclip_loc_conf_t, idempotency_ttl),
      NULL },

    { ngx_string("makeclip_submit_timeout"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_msec_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_makeclip_loc_conf_t, submit_timeout),
      NULL },

    { ngx_string("makeclip_task_timeout"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_msec_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_makeclip_loc_conf_t, task_timeout),
      NULL },

    { ngx_string("makeclip_reject_log_level"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_enum_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_makeclip_loc_conf_t, reject_log_level),
      &ngx_http_makeclip_log_levels },

    { ngx_string("makeclip_content"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_enum_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_makeclip_loc_conf_t, content),
      &ngx_http_makeclip_content_modes },

    { ngx_string("makeclip_content_location"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_str_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_makeclip_loc_conf_t, content_location),
      NULL },

    { ngx_string("makeclip_max_body_size"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_size_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_makeclip_loc_conf_t, max_body_size),
      NULL },

      ngx_null_command
};


static ngx_http_module_t  ngx_http_makeclip_module_ctx = {
    ngx_http_makeclip_preconfiguration,    /* preconfiguration */
    ngx_http_makeclip_postconfiguration,   /* postconfiguration */

    ngx_http_makeclip_create_main_conf,    /* create main configuration */
    ngx_http_makeclip_init_main_conf,      /* init main configuration */

    NULL,                                  /* create server configuration */
    NULL,                                  /* merge server configuration */

    ngx_http_makeclip_create_loc_conf,     /* create location configuration */
    ngx_http_makeclip_merge_loc_conf       /* merge location configuration */
};


ngx_module_t  ngx_http_makeclip_module = {
    NGX_MODULE_V1,
    &ngx_http_makeclip_module_ctx,         /* module context */
    ngx_http_makeclip_commands,            /* module directives */
    NGX_HTTP_MODULE,                       /* module type */
    NULL,                                  /* init master */
    ngx_http_makeclip_init_module,         /* init module */
    ngx_http_makeclip_init_process,        /* init process */
    NULL,                                  /* init thread */
    NULL,                                  /* exit thread */
    ngx_http_makeclip_exit_process,        /* exit process */
    NULL,                                  /* exit master */
    NGX_MODULE_V1_PADDING
};


static ngx_int_t
ngx_http_makeclip_preconfiguration(ngx_conf_t *cf)
{
    if (ngx_http_makeclip_add_variables(cf) != NGX_OK) {
        return NGX_ERROR;
    }

    return ngx_http_makeclip_upstream_variables(cf);
}


static ngx_int_t
ngx_http_makeclip_postconfiguration(ngx_conf_t *cf)
{
    char                            err[NGX_MAX_CONF_ERRSTR];
    ngx_uint_t                      i;
    mc_routes_t                   **sets;
    ngx_http_makeclip_main_conf_t  *mmcf;

    mmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_makeclip_module);

    /* names that refer to other directives are resolved once all are
     * read; messages carry the file and line of the directive at fault */
    if (mc_catalog_finalize(mmcf->catalog, err, sizeof(err)) != MC_OK) {
        ngx_log_error(NGX_LOG_EMERG, cf->log, 0, "%s", err);
        return NGX_ERROR;
    }

    sets = mmcf->route_sets.elts;

    for (i = 0; i < mmcf->route_sets.nelts; i++) {
        if (mc_routes_resolve(sets[i], mmcf->catalog, err, sizeof(err))
            != MC_OK)
        {
            ngx_log_error(NGX_LOG_EMERG, cf->log, 0, "%s", err);
            return NGX_ERROR;
        }
    }

    if (mmcf->enabled && mmcf->store_path.data == NULL) {
        ngx_log_error(NGX_LOG_EMERG, cf->log, 0,
                      "\"makeclip_api\" and \"makeclip_admin\" need "
                      "\"makeclip_store\" in the http block");
        return NGX_ERROR;
    }

    if (ngx_http_makeclip_capture_filter_init(cf) != NGX_OK) {
        return NGX_ERROR;
    }

    if (ngx_http_makeclip_store_filter_init(cf) != NGX_OK) {
        return NGX_ERROR;
    }

    return ngx_http_makeclip_body_filter_init(cf);
}


static void *
ngx_http_makeclip_create_main_conf(ngx_conf_t *cf)
{
    ngx_str_t                      *prefix;
    ngx_pool_cleanup_t             *cln;
    ngx_http_makeclip_main_conf_t  *mmcf;

    mmcf = ngx_pcalloc(cf->pool, sizeof(ngx_http_makeclip_main_conf_t));
    if (mmcf == NULL) {
        return NULL;
    }

    /*
     * set by ngx_pcalloc():
     *
     *     mmcf->store_path = { 0, NULL };
     *     mmcf->store = NULL;
     *     mmcf->enabled = 0;
     */

    mmcf->map_size = NGX_CONF_UNSET_SIZE;
    mmcf->max_map_size = NGX_CONF_UNSET_SIZE;
    mmcf->sync = NGX_CONF_UNSET_UINT;
    mmcf->sync_interval = NGX_CONF_UNSET_MSEC;
    mmcf->max_readers = NGX_CONF_UNSET_UINT;

    mmcf->catalog = mc_catalog_create();
    if (mmcf->catalog == NULL) {
        return NULL;
    }

    cln = ngx_pool_cleanup_add(cf->pool, 0);
    if (cln == NULL) {
        mc_catalog_destroy(mmcf->catalog);
        return NULL;
    }

    cln->handler = ngx_http_makeclip_cleanup_catalog;
    cln->data = mmcf->catalog;

    prefix = &cf->cycle->conf_prefix;
    mmcf->catalog->conf_prefix = mc_pstrndup(mmcf->catalog->pool,
                                             (char *) prefix->data,
                                             prefix->len);

    if (ngx_array_init(&mmcf->route_sets, cf->pool, 4, sizeof(mc_routes_t *))
        != NGX_OK)
    {
        return NULL;
    }

    return mmcf;
}


static char *
ngx_http_makeclip_init_main_conf(ngx_conf_t *cf, void *conf)
{
    ngx_http_makeclip_main_conf_t  *mmcf = conf;

    ngx_conf_init_size_value(mmcf->map_size, 1024 * 1024 * 1024);
    ngx_conf_init_size_value(mmcf->max_map_size, mmcf->map_size);
    ngx_conf_init_uint_value(mmcf->sync, NGX_HTTP_MAKECLIP_SYNC_INTERVAL);
    ngx_conf_init_msec_value(mmcf->sync_interval, 1000);
    ngx_conf_init_uint_value(mmcf->max_readers, 126);

    return NGX_CONF_OK;
}


static void
ngx_http_makeclip_cleanup_catalog(void *data)
{
    mc_catalog_destroy(data);
}


static void *
ngx_http_makeclip_create_loc_conf(ngx_conf_t *cf)
{
    ngx_http_makeclip_loc_conf_t  *mlcf;

    mlcf = ngx_pcalloc(cf->pool, sizeof(ngx_http_makeclip_loc_conf_t));
    if (mlcf == NULL) {
        return NULL;
    }

    /*
     * set by ngx_pcalloc():
     *
     *     mlcf->handler = NGX_HTTP_MAKECLIP_NONE;
     *     mlcf->routes = NULL;
     *     mlcf->account_var = NULL;
     *     mlcf->plan_var = NULL;
     *     mlcf->admin_token = { 0, NULL };
     *     mlcf->default_model = { 0, NULL };
     *     mlcf->content_location = { 0, NULL };
     */

    mlcf->auth = NGX_CONF_UNSET_UINT;
    mlcf->poll_interval = NGX_CONF_UNSET_MSEC;
    mlcf->idempotency_ttl = NGX_CONF_UNSET_MSEC;
    mlcf->submit_timeout = NGX_CONF_UNSET_MSEC;
    mlcf->task_timeout = NGX_CONF_UNSET_MSEC;
    mlcf->reject_log_level = NGX_CONF_UNSET_UINT;
    mlcf->content = NGX_CONF_UNSET_UINT;
    mlcf->max_body_size = NGX_CONF_UNSET_SIZE;

    return mlcf;
}


static char *
ngx_http_makeclip_merge_loc_conf(ngx_conf_t *cf, void *parent, void *child)
{
    ngx_http_makeclip_loc_conf_t *prev = parent;
    ngx_http_makeclip_loc_conf_t *conf = child;

    ngx_http_core_loc_conf_t  *clcf;

    if (conf->routes == NULL) {
        conf->routes = prev->routes;
    }

    if (conf->auth == NGX_CONF_UNSET_UINT) {
        conf->auth = prev->auth;
        conf->account_var = prev->account_var;
        conf->plan_var = prev->plan_var;
    }

    ngx_conf_merge_uint_value(conf->auth, prev->auth,
                              NGX_HTTP_MAKECLIP_AUTH_KEY);

    ngx_conf_merge_str_value(conf->admin_token, prev->admin_token, "");
    ngx_conf_merge_str_value(conf->default_model, prev->default_model, "");
    ngx_conf_merge_msec_value(conf->poll_interval, prev->poll_interval, 2000);
    ngx_conf_merge_msec_value(conf->idempotency_ttl, prev->idempotency_ttl,
                              86400000);
    ngx_conf_merge_msec_value(conf->submit_timeout, prev->submit_timeout,
                              600000);
    ngx_conf_merge_msec_value(conf->task_timeout, prev->task_timeout,
                              86400000);
    ngx_conf_merge_uint_value(conf->reject_log_level, prev->reject_log_level,
                              NGX_LOG_INFO);
    ngx_conf_merge_uint_value(conf->content, prev->content,
                              NGX_HTTP_MAKECLIP_CONTENT_PROXY);
    ngx_conf_merge_str_value(conf->content_location, prev->content_location,
                             "/_makeclip/content");
    ngx_conf_merge_size_value(conf->max_body_size, prev->max_body_size,
                              32 * 1024 * 1024);

    if (conf->handler == NGX_HTTP_MAKECLIP_API) {
        ngx_http_makeclip_check_submit_timeout(cf, conf);

        /*
         * the API answers 413 in JSON, which nginx's own early check of
         * client_max_body_size cannot: makeclip_max_body_size rules here
         */
        clcf = ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module);
        clcf->client_max_body_size = 0;
    }

    if (conf->handler == NGX_HTTP_MAKECLIP_ADMIN
        && conf->admin_token.len == 0)
    {
        ngx_conf_log_error(NGX_LOG_WARN, cf, 0,
                           "\"makeclip_admin\" without "
                           "\"makeclip_admin_token\": protect it with "
                           "allow/deny");
    }

    return NGX_CONF_OK;
}


/*
 * A task still "submitting" after makeclip_submit_timeout is taken for
 * lost and refunded; a create that tries every provider in turn, each up
 * to its timeout=, must end before that, or a job a provider accepted
 * would be refunded and forgotten while its create still runs.
 */

static void
ngx_http_makeclip_check_submit_timeout(ngx_conf_t *cf,
    ngx_http_makeclip_loc_conf_t *conf)
{
    size_t                          i;
    ngx_msec_t                      sum;
    mc_catalog_t                   *cat;
    ngx_http_makeclip_main_conf_t  *mmcf;

    mmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_makeclip_module);
    cat = mmcf->catalog;

    sum = 0;

    for (i = 0; i < cat->nproviders; i++) {
        if (!(cat->providers[i]->features & MC_FEAT_LOCAL)) {
            sum += (ngx_msec_t) cat->providers[i]->timeout;
        }
    }

    if (sum >= conf->submit_timeout) {
        ngx_conf_log_error(NGX_LOG_WARN, cf, 0,
                           "makeclip_submit_timeout %Mms is not longer than "
                           "the providers' timeouts together (%Mms): a "
                           "create still trying them could be refunded as "
                           "lost", conf->submit_timeout, sum);
    }
}


/*
 * makeclip_store path [map_size=size] [sync=off|interval|commit]
 *                [sync_interval=time] [readers=number] [thread_pool=name]
 *                [max_map_size=size];
 */

static char *
ngx_http_makeclip_store_directive(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_http_makeclip_main_conf_t *mmcf = conf;

    ssize_t     size;
    ngx_int_t   n;
    ngx_str_t  *value, s;
    ngx_uint_t  i;

    if (mmcf->store_path.data) {
        return "is duplicate";
    }

    value = cf->args->elts;

    mmcf->store_path = value[1];

    if (ngx_conf_full_name(cf->cycle, &mmcf->store_path, 0) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    for (i = 2; i < cf->args->nelts; i++) {

        if (ngx_strncmp(value[i].data, "map_size=", 9) == 0) {
            s.data = value[i].data + 9;
            s.len = value[i].len - 9;

            size = ngx_parse_offset(&s);
            if (size == NGX_ERROR || size < 1024 * 1024) {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "invalid map_size \"%V\", at least 1m",
                                   &s);
                return NGX_CONF_ERROR;
            }

            mmcf->map_size = (size_t) size;
            continue;
        }

        if (ngx_strncmp(value[i].data, "sync=", 5) == 0) {
            s.data = value[i].data + 5;
            s.len = value[i].len - 5;

            if (s.len == 3 && ngx_strncmp(s.data, "off", 3) == 0) {
                mmcf->sync = NGX_HTTP_MAKECLIP_SYNC_OFF;

            } else if (s.len == 8 && ngx_strncmp(s.data, "interval", 8) == 0) {
                mmcf->sync = NGX_HTTP_MAKECLIP_SYNC_INTERVAL;

            } else if (s.len == 6 && ngx_strncmp(s.data, "commit", 6) == 0) {
                mmcf->sync = NGX_HTTP_MAKECLIP_SYNC_COMMIT;

            } else {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "invalid sync \"%V\": \"off\", "
                                   "\"interval\" or \"commit\"", &s);
                return NGX_CONF_ERROR;
            }

            continue;
        }

        if (ngx_strncmp(value[i].data, "sync_interval=", 14) == 0) {
            s.data = value[i].data + 14;
            s.len = value[i].len - 14;

            n = ngx_parse_time(&s, 0);
            if (n == NGX_ERROR || n == 0) {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "invalid sync_interval \"%V\"", &s);
                return NGX_CONF_ERROR;
            }

            mmcf->sync_interval = (ngx_msec_t) n;
            continue;
        }

        if (ngx_strncmp(value[i].data, "max_map_size=", 13) == 0) {
            s.data = value[i].data + 13;
            s.len = value[i].len - 13;

            size = ngx_parse_offset(&s);
            if (size == NGX_ERROR || size < 1024 * 1024) {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "invalid max_map_size \"%V\", at least "
                                   "1m", &s);
                return NGX_CONF_ERROR;
            }

            mmcf->max_map_size = (size_t) size;
            continue;
        }

        if (ngx_strncmp(value[i].data, "readers=", 8) == 0) {
            n = ngx_atoi(value[i].data + 8, value[i].len - 8);
            if (n == NGX_ERROR || n < 8 || n > 65536) {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "invalid readers \"%V\"", &value[i]);
                return NGX_CONF_ERROR;
            }

            mmcf->max_readers = (ngx_uint_t) n;
            continue;
        }

#if (NGX_THREADS)
        if (ngx_strncmp(value[i].data, "thread_pool=", 12) == 0) {
            mmcf->thread_pool_name.data = value[i].data + 12;
            mmcf->thread_pool_name.len = value[i].len - 12;
            continue;
        }
#endif

        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid parameter \"%V\"", &value[i]);
        return NGX_CONF_ERROR;
    }

#if (NGX_THREADS)
    /* syncs and the admin audit run on a thread pool, off the event
     * loop, whatever the sync mode */
    mmcf->thread_pool = ngx_thread_pool_add(cf,
                                            mmcf->thread_pool_name.len
                                            ? &mmcf->thread_pool_name
                                            : NULL);
    if (mmcf->thread_pool == NULL) {
        return NGX_CONF_ERROR;
    }
#endif

    return NGX_CONF_OK;
}


/* makeclip_provider, makeclip_model and makeclip_plan: parsed by the core */

static char *
ngx_http_makeclip_catalog_directive(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_http_makeclip_main_conf_t *mmcf = conf;

    char            *argv[NGX_HTTP_MAKECLIP_MAX_ARGS], *rv;
    char             err[NGX_MAX_CONF_ERRSTR], where[NGX_MAX_PATH + 32];
    size_t           argc;
    mc_provider_t   *p;

    rv = ngx_http_makeclip_args(cf, argv, &argc, where, sizeof(where));
    if (rv != NGX_CONF_OK) {
        return rv;
    }

    err[0] = '\0';

    switch (cmd->name.data[9]) {

    case 'p':
        if (cmd->name.len == sizeof("makeclip_plan") - 1) {
            if (mc_catalog_add_plan(mmcf->catalog, argv, argc, where, err,
                                    sizeof(err))
                == NULL)
            {
                goto failed;
            }
            break;
        }

        p = mc_catalog_add_provider(mmcf->catalog, argv, argc, where, err,
                                    sizeof(err));
        if (p == NULL) {
            goto failed;
        }

        if (p->base_url
            && ngx_http_makeclip_add_upstream(cf, p) != NGX_OK)
        {
            return NGX_CONF_ERROR;
        }

        break;

    default: /* 'm' */
        if (mc_catalog_add_model(mmcf->catalog, argv, argc, where, err,
                                 sizeof(err))
            == NULL)
        {
            goto failed;
        }
        break;
    }

    return NGX_CONF_OK;

failed:

    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "%s", err);
    return NGX_CONF_ERROR;
}


/* makeclip_route [condition ...] to=provider:model[,...]; */

static char *
ngx_http_makeclip_route(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_makeclip_loc_conf_t *mlcf = conf;

    char                            *argv[NGX_HTTP_MAKECLIP_MAX_ARGS], *rv;
    char                             err[NGX_MAX_CONF_ERRSTR];
    char                             where[NGX_MAX_PATH + 32];
    size_t                           argc, i;
    ngx_int_t                        index;
    ngx_str_t                        name;
    mc_rule_t                       *rule;
    mc_cond_t                       *c;
    mc_routes_t                    **set;
    ngx_pool_cleanup_t              *cln;
    ngx_http_makeclip_main_conf_t   *mmcf;

    if (mlcf->routes == NULL) {
        mlcf->routes = mc_routes_create();
        if (mlcf->routes == NULL) {
            return NGX_CONF_ERROR;
        }

        cln = ngx_pool_cleanup_add(cf->pool, 0);
        if (cln == NULL) {
            mc_routes_destroy(mlcf->routes);
            return NGX_CONF_ERROR;
        }

        cln->handler = ngx_http_makeclip_cleanup_routes;
        cln->data = mlcf->routes;

        mmcf = ngx_http_conf_get_module_main_conf(cf,
                                                  ngx_http_makeclip_module);

        set = ngx_array_push(&mmcf->route_sets);
        if (set == NULL) {
            return NGX_CONF_ERROR;
        }

        *set = mlcf->routes;
    }

    rv = ngx_http_makeclip_args(cf, argv, &argc, where, sizeof(where));
    if (rv != NGX_CONF_OK) {
        return rv;
    }

    rule = mc_routes_add(mlcf->routes, argv, argc, where, err, sizeof(err));
    if (rule == NULL) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "%s", err);
        return NGX_CONF_ERROR;
    }

    for (i = 0; i < rule->nconds; i++) {
        c = &rule->conds[i];

        if (!c->is_var) {
            continue;
        }

        name.data = (u_char *) c->field + 1;
        name.len = ngx_strlen(name.data);

        index = ngx_http_get_variable_index(cf, &name);
        if (index == NGX_ERROR) {
            return NGX_CONF_ERROR;
        }

        c->var_index = index;
    }

    return NGX_CONF_OK;
}


static void
ngx_http_makeclip_cleanup_routes(void *data)
{
    mc_routes_destroy(data);
}


/* makeclip_auth api_key | $account [plan=$plan]; */

static char *
ngx_http_makeclip_auth(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_makeclip_loc_conf_t *mlcf = conf;

    ngx_str_t                         *value, s;
    ngx_http_compile_complex_value_t   ccv;

    if (mlcf->auth != NGX_CONF_UNSET_UINT) {
        return "is duplicate";
    }

    value = cf->args->elts;

    if (value[1].len == 7 && ngx_strncmp(value[1].data, "api_key", 7) == 0) {
        if (cf->args->nelts != 2) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "\"api_key\" takes no parameters");
            return NGX_CONF_ERROR;
        }

        mlcf->auth = NGX_HTTP_MAKECLIP_AUTH_KEY;
        return NGX_CONF_OK;
    }

    if (value[1].data[0] != '$') {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid value \"%V\": \"api_key\" or a variable",
                           &value[1]);
        return NGX_CONF_ERROR;
    }

    mlcf->auth = NGX_HTTP_MAKECLIP_AUTH_VARIABLE;

    mlcf->account_var = ngx_palloc(cf->pool,
                                   sizeof(ngx_http_complex_value_t));
    if (mlcf->account_var == NULL) {
        return NGX_CONF_ERROR;
    }

    ngx_memzero(&ccv, sizeof(ngx_http_compile_complex_value_t));

    ccv.cf = cf;
    ccv.value = &value[1];
    ccv.complex_value = mlcf->account_var;

    if (ngx_http_compile_complex_value(&ccv) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    if (cf->args->nelts == 3) {
        if (ngx_strncmp(value[2].data, "plan=", 5) != 0) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid parameter \"%V\"", &value[2]);
            return NGX_CONF_ERROR;
        }

        s.data = value[2].data + 5;
        s.len = value[2].len - 5;

        mlcf->plan_var = ngx_palloc(cf->pool,
                                    sizeof(ngx_http_complex_value_t));
        if (mlcf->plan_var == NULL) {
            return NGX_CONF_ERROR;
        }

        ngx_memzero(&ccv, sizeof(ngx_http_compile_complex_value_t));

        ccv.cf = cf;
        ccv.value = &s;
        ccv.complex_value = mlcf->plan_var;

        if (ngx_http_compile_complex_value(&ccv) != NGX_OK) {
            return NGX_CONF_ERROR;
        }
    }

    return NGX_CONF_OK;
}


static char *
ngx_http_makeclip_handler_directive(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_http_makeclip_loc_conf_t *mlcf = conf;

    ngx_http_core_loc_conf_t       *clcf;
    ngx_http_makeclip_main_conf_t  *mmcf;

    if (mlcf->handler != NGX_HTTP_MAKECLIP_NONE) {
        return "is duplicate";
    }

    mlcf->handler = (ngx_uint_t) cmd->offset;

    clcf = ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module);
    mmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_makeclip_module);

    mmcf->enabled = 1;

    clcf->handler = (cmd->offset == NGX_HTTP_MAKECLIP_ADMIN)
                    ? ngx_http_makeclip_admin_handler
                    : ngx_http_makeclip_api_handler;

    return NGX_CONF_OK;
}


/*
 * The directive's arguments as C strings for the core, and "file:line"
 * for messages the core writes after the whole configuration is read.
 */

static char *
ngx_http_makeclip_args(ngx_conf_t *cf, char **argv, size_t *argc,
    char *where, size_t wlen)
{
    ngx_str_t   *value;
    ngx_uint_t   i;

    value = cf->args->elts;

    if (cf->args->nelts > NGX_HTTP_MAKECLIP_MAX_ARGS) {
        return "has too many parameters";
    }

    for (i = 1; i < cf->args->nelts; i++) {
        /* nginx's tokens are NUL-terminated copies in the config pool */
        if (ngx_strlen(value[i].data) != value[i].len) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid parameter \"%V\"", &value[i]);
            return NGX_CONF_ERROR;
        }

        argv[i - 1] = (char *) value[i].data;
    }

    *argc = cf->args->nelts - 1;

    ngx_snprintf((u_char *) where, wlen - 1, "%V:%ui%Z",
                 &cf->conf_file->file.name, cf->conf_file->line);
    where[wlen - 1] = '\0';

    return NGX_CONF_OK;
}


static ngx_int_t
ngx_http_makeclip_init_module(ngx_cycle_t *cycle)
{
    return ngx_http_makeclip_store_init_module(cycle);
}


static ngx_int_t
ngx_http_makeclip_init_process(ngx_cycle_t *cycle)
{
    return ngx_http_makeclip_store_init_process(cycle);
}


static void
ngx_http_makeclip_exit_process(ngx_cycle_t *cycle)
{
    ngx_http_makeclip_store_exit_process(cycle);
}
