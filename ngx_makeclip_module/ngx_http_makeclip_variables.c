
/*
 * Copyright (C) makeclip authors
 *
 * $makeclip_* variables, for access logs and limit_req keys.
 */


#include "ngx_http_makeclip.h"


typedef enum {
    NGX_HTTP_MAKECLIP_VAR_TASK_ID = 0,
    NGX_HTTP_MAKECLIP_VAR_ACCOUNT,
    NGX_HTTP_MAKECLIP_VAR_PLAN,
    NGX_HTTP_MAKECLIP_VAR_MODEL,
    NGX_HTTP_MAKECLIP_VAR_PROVIDER,
    NGX_HTTP_MAKECLIP_VAR_CREDITS,
    NGX_HTTP_MAKECLIP_VAR_STATUS
} ngx_http_makeclip_var_e;


static ngx_int_t ngx_http_makeclip_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data);


static ngx_http_variable_t  ngx_http_makeclip_vars[] = {

    { ngx_string("makeclip_task_id"), NULL, ngx_http_makeclip_variable,
      NGX_HTTP_MAKECLIP_VAR_TASK_ID, NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("makeclip_account"), NULL, ngx_http_makeclip_variable,
      NGX_HTTP_MAKECLIP_VAR_ACCOUNT, NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("makeclip_plan"), NULL, ngx_http_makeclip_variable,
      NGX_HTTP_MAKECLIP_VAR_PLAN, NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("makeclip_model"), NULL, ngx_http_makeclip_variable,
      NGX_HTTP_MAKECLIP_VAR_MODEL, NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("makeclip_provider"), NULL, ngx_http_makeclip_variable,
      NGX_HTTP_MAKECLIP_VAR_PROVIDER, NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("makeclip_credits"), NULL, ngx_http_makeclip_variable,
      NGX_HTTP_MAKECLIP_VAR_CREDITS, NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("makeclip_status"), NULL, ngx_http_makeclip_variable,
      NGX_HTTP_MAKECLIP_VAR_STATUS, NGX_HTTP_VAR_NOCACHEABLE, 0 },

      ngx_http_null_variable
};


ngx_int_t
ngx_http_makeclip_add_variables(ngx_conf_t *cf)
{
    return ngx_http_makeclip_register_variables(cf, ngx_http_makeclip_vars);
}


ngx_int_t
ngx_http_makeclip_register_variables(ngx_conf_t *cf,
    ngx_http_variable_t *vars)
{
    ngx_http_variable_t  *var, *v;

    for (v = vars; v->name.len; v++) {
        var = ngx_http_add_variable(cf, &v->name, v->flags);
        if (var == NULL) {
            return NGX_ERROR;
        }

        var->get_handler = v->get_handler;
        var->data = v->data;
    }

    return NGX_OK;
}


static ngx_int_t
ngx_http_makeclip_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data)
{
    u_char                   *p;
    size_t                    len;
    const char               *s;
    ngx_http_makeclip_ctx_t  *ctx;

    ctx = ngx_http_makeclip_get_ctx(r->main);

    if (ctx == NULL) {
        v->not_found = 1;
        return NGX_OK;
    }

    s = NULL;
    len = 0;

    switch (data) {

    case NGX_HTTP_MAKECLIP_VAR_TASK_ID:
        s = ctx->have_task ? ctx->task.id : NULL;
        break;

    case NGX_HTTP_MAKECLIP_VAR_ACCOUNT:
        s = ctx->account.id[0] ? ctx->account.id : NULL;
        break;

    case NGX_HTTP_MAKECLIP_VAR_PLAN:
        if (ctx->plan_name.len) {
            v->data = ctx->plan_name.data;
            v->len = ctx->plan_name.len;
            goto found;
        }
        break;

    case NGX_HTTP_MAKECLIP_VAR_MODEL:
        s = ctx->have_task ? ctx->task.model
                           : (ctx->model ? ctx->model->name : NULL);
        break;

    case NGX_HTTP_MAKECLIP_VAR_PROVIDER:
        s = ctx->have_task ? ctx->task.provider : NULL;
        break;

    case NGX_HTTP_MAKECLIP_VAR_CREDITS:
        if (!ctx->have_task) {
            break;
        }

        p = ngx_pnalloc(r->pool, NGX_INT64_LEN);
        if (p == NULL) {
            return NGX_ERROR;
        }

        v->data = p;
        v->len = ngx_sprintf(p, "%L", ctx->task.credits) - p;
        goto found;

    default: /* NGX_HTTP_MAKECLIP_VAR_STATUS */
        s = ctx->have_task ? mc_task_public_status(ctx->task.status) : NULL;
        break;
    }

    if (s == NULL) {
        v->not_found = 1;
        return NGX_OK;
    }

    len = ngx_strlen(s);
    v->data = (u_char *) s;
    v->len = len;

found:

    v->valid = 1;
    v->no_cacheable = 0;
    v->not_found = 0;

    return NGX_OK;
}
