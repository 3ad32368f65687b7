
/*
 * Copyright (C) makeclip authors
 *
 * The admin API (makeclip_admin): accounts, API keys, credits, the
 * ledger, tasks, the audit and store figures, in JSON, behind a Bearer
 * token (makeclip_admin_token) and whatever allow/deny the location has.
 *
 *   GET    .../accounts                     list (after=, limit=)
 *   POST   .../accounts                     {id, plan, credits?, reason?}
 *   GET    .../accounts/{id}                balance, reserved, plan, totals
 *   PATCH  .../accounts/{id}                {plan?, disabled?}
 *   GET    .../accounts/{id}/keys           key ids
 *   POST   .../accounts/{id}/keys           a new key, shown once
 *   DELETE .../accounts/{id}/keys/{key_id}
 *   POST   .../accounts/{id}/grant          {amount, reason}
 *   POST   .../accounts/{id}/adjust         {amount (signed), reason}
 *   POST   .../accounts/{id}/expire         {amount | "all", reason}
 *   GET    .../accounts/{id}/tasks          (after=, limit=, order=)
 *   GET    .../accounts/{id}/ledger         (since=, until=, before=,
 *   GET    .../ledger                        after=, limit=, order=,
 *                                            account=)
 *   GET    .../audit                        the books, on a thread
 *   GET    .../stats                        store and worker figures
 */


#include "ngx_http_makeclip.h"
#include "mc_crypto.h"


#define NGX_HTTP_MAKECLIP_ADMIN_BODY_MAX   65536
#define NGX_HTTP_MAKECLIP_ADMIN_LIST_MAX   1000
#define NGX_HTTP_MAKECLIP_ADMIN_SEGS       4


typedef enum {
    NGX_HTTP_MAKECLIP_ADM_UNKNOWN = 0,
    NGX_HTTP_MAKECLIP_ADM_ACCOUNTS,         /* accounts */
    NGX_HTTP_MAKECLIP_ADM_ACCOUNT,          /* accounts/{id} */
    NGX_HTTP_MAKECLIP_ADM_KEYS,             /* accounts/{id}/keys */
    NGX_HTTP_MAKECLIP_ADM_KEY,              /* accounts/{id}/keys/{kid} */
    NGX_HTTP_MAKECLIP_ADM_GRANT,
    NGX_HTTP_MAKECLIP_ADM_ADJUST,
    NGX_HTTP_MAKECLIP_ADM_EXPIRE,
    NGX_HTTP_MAKECLIP_ADM_TASKS,
    NGX_HTTP_MAKECLIP_ADM_ACCOUNT_LEDGER,
    NGX_HTTP_MAKECLIP_ADM_LEDGER,           /* ledger */
    NGX_HTTP_MAKECLIP_ADM_AUDIT,
    NGX_HTTP_MAKECLIP_ADM_STATS
} ngx_http_makeclip_admin_ep_e;


typedef struct {
    ngx_http_makeclip_admin_ep_e   ep;
    char                          *account;     /* NUL-terminated */
    char                          *key_id;
    ngx_uint_t                     methods;     /* the ones it takes */
    ngx_uint_t                     body;        /* methods with a body */
} ngx_http_makeclip_admin_route_t;


#if (NGX_THREADS)
typedef struct {
    ngx_http_request_t            *request;
    mc_store_t                    *store;
    json_t                        *report;
    char                           err[256];
} ngx_http_makeclip_audit_t;
#endif


static ngx_int_t ngx_http_makeclip_admin_route(ngx_http_request_t *r,
    ngx_http_makeclip_ctx_t *ctx, ngx_http_makeclip_admin_route_t *rt,
    ngx_int_t *rc);
static ngx_int_t ngx_http_makeclip_admin_auth(ngx_http_request_t *r,
    ngx_int_t *rc);
static void ngx_http_makeclip_admin_body(ngx_http_request_t *r);
static ngx_int_t ngx_http_makeclip_admin_dispatch(ngx_http_request_t *r,
    ngx_http_makeclip_ctx_t *ctx, ngx_http_makeclip_admin_route_t *rt,
    json_t *body);
static ngx_int_t ngx_http_makeclip_admin_create_account(
    ngx_http_request_t *r, ngx_http_makeclip_ctx_t *ctx, json_t *body);
static ngx_int_t ngx_http_makeclip_admin_accounts(ngx_http_request_t *r,
    ngx_http_makeclip_ctx_t *ctx);
static ngx_int_t ngx_http_makeclip_admin_account(ngx_http_request_t *r,
    const char *id, ngx_uint_t status);
static ngx_int_t ngx_http_makeclip_admin_update(ngx_http_request_t *r,
    ngx_http_makeclip_admin_route_t *rt, json_t *body);
static ngx_int_t ngx_http_makeclip_admin_keys(ngx_http_request_t *r,
    ngx_http_makeclip_admin_route_t *rt);
static ngx_int_t ngx_http_makeclip_admin_key_add(ngx_http_request_t *r,
    ngx_http_makeclip_admin_route_t *rt, json_t *body);
static ngx_int_t ngx_http_makeclip_admin_key_revoke(ngx_http_request_t *r,
    ngx_http_makeclip_admin_route_t *rt);
static ngx_int_t ngx_http_makeclip_admin_credit(ngx_http_request_t *r,
    ngx_http_makeclip_admin_route_t *rt, json_t *body);
static ngx_int_t ngx_http_makeclip_admin_tasks(ngx_http_request_t *r,
    ngx_http_makeclip_ctx_t *ctx, ngx_http_makeclip_admin_route_t *rt);
static ngx_int_t ngx_http_makeclip_admin_ledger(ngx_http_request_t *r,
    ngx_http_makeclip_ctx_t *ctx, const char *account);
static ngx_int_t ngx_http_makeclip_admin_audit(ngx_http_request_t *r);
#if (NGX_THREADS)
static void ngx_http_makeclip_audit_thread(void *data, ngx_log_t *log);
static void ngx_http_makeclip_audit_done(ngx_event_t *ev);
#endif
static ngx_int_t ngx_http_makeclip_admin_send_audit(ngx_http_request_t *r,
    json_t *report, const char *err);
static ngx_int_t ngx_http_makeclip_admin_stats(ngx_http_request_t *r);
static ngx_int_t ngx_http_makeclip_admin_invalid(ngx_http_request_t *r,
    const char *param, const char *message);
static ngx_int_t ngx_http_makeclip_admin_not_found(ngx_http_request_t *r,
    const char *what);
static ngx_int_t ngx_http_makeclip_admin_arg(ngx_http_request_t *r,
    ngx_http_makeclip_ctx_t *ctx, const char *name, char **value);
static ngx_int_t ngx_http_makeclip_admin_limit(ngx_http_request_t *r,
    size_t max, size_t *limit, ngx_int_t *rc);
static const char *ngx_http_makeclip_admin_reason(json_t *body);
static char *ngx_http_makeclip_admin_actor(ngx_http_request_t *r,
    ngx_http_makeclip_ctx_t *ctx);
static int ngx_http_makeclip_admin_collect(json_t *entry, void *data);


ngx_int_t
ngx_http_makeclip_admin_handler(ngx_http_request_t *r)
{
    ngx_int_t                         rc;
    ngx_http_makeclip_ctx_t          *ctx;
    ngx_http_makeclip_admin_route_t   rt;

    ngx_log_debug1(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "makeclip admin handler \"%V\"", &r->uri);

    if (r != r->main) {
        return NGX_DECLINED;
    }

    /* the token first: nothing about the store to whoever lacks it */
    if (ngx_http_makeclip_admin_auth(r, &rc) != NGX_OK) {
        ngx_http_discard_request_body(r);
        return rc;
    }

    ctx = ngx_http_makeclip_create_ctx(r);
    if (ctx == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (ngx_http_makeclip_admin_route(r, ctx, &rt, &rc) != NGX_OK) {
        ngx_http_discard_request_body(r);
        return rc;
    }

    if (ngx_http_makeclip_store(r) == NULL) {
        ngx_http_discard_request_body(r);
        return ngx_http_makeclip_store_error(r, MC_ERROR,
                                             "serving an admin request");
    }

    if (r->method & rt.body) {
        if (r->headers_in.content_length_n
            > NGX_HTTP_MAKECLIP_ADMIN_BODY_MAX)
        {
            ngx_http_discard_request_body(r);
            return ngx_http_makeclip_error(r,
                                      NGX_HTTP_REQUEST_ENTITY_TOO_LARGE,
                                      MC_ERR_INVALID, "request_too_large",
                                      NULL, "An admin request body is at "
                                      "most 64k.");
        }

        rc = ngx_http_read_client_request_body(r,
                                               ngx_http_makeclip_admin_body);

        if (rc >= NGX_HTTP_SPECIAL_RESPONSE) {
            return rc;
        }

        return NGX_DONE;
    }

    if (ngx_http_discard_request_body(r) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_makeclip_admin_dispatch(r, ctx, &rt, NULL);
}


/*
 * The path after the location's prefix (or after the first segment
 * that names an admin resource, for a regex location), checked against
 * the method.  NGX_OK; or NGX_DECLINED when the error answer has been
 * sent and *rc is what to finalize with.
 */

static ngx_int_t
ngx_http_makeclip_admin_route(ngx_http_request_t *r,
    ngx_http_makeclip_ctx_t *ctx, ngx_http_makeclip_admin_route_t *rt,
    ngx_int_t *rc)
{
    u_char                    *p, *end, *start;
    ngx_str_t                  seg[NGX_HTTP_MAKECLIP_ADMIN_SEGS + 2];
    ngx_uint_t                 n, i, first;
    ngx_http_core_loc_conf_t  *clcf;

    ngx_memzero(rt, sizeof(ngx_http_makeclip_admin_route_t));

    clcf = ngx_http_get_module_loc_conf(r, ngx_http_core_module);

    p = r->uri.data;
    end = r->uri.data + r->uri.len;

    if (r->uri.len >= clcf->name.len
        && ngx_strncmp(r->uri.data, clcf->name.data, clcf->name.len) == 0)
    {
        p += clcf->name.len;
    }

    n = 0;

    while (p < end && n < NGX_HTTP_MAKECLIP_ADMIN_SEGS + 2) {
        while (p < end && *p == '/') {
            p++;
        }

        start = p;

        while (p < end && *p != '/') {
            p++;
        }

        if (p > start) {
            seg[n].data = start;
            seg[n].len = p - start;
            n++;
        }
    }

    for (first = 0; first < n; first++) {
        if ((seg[first].len == 8
             && ngx_strncmp(seg[first].data, "accounts", 8) == 0)
            || (seg[first].len == 6
                && ngx_strncmp(seg[first].data, "ledger", 6) == 0)
            || (seg[first].len == 5
                && (ngx_strncmp(seg[first].data, "audit", 5) == 0
                    || ngx_strncmp(seg[first].data, "stats", 5) == 0)))
        {
            break;
        }
    }

    n -= first;

    if (n == 0 || n > NGX_HTTP_MAKECLIP_ADMIN_SEGS) {
        goto unknown;
    }

    for (i = 0; i < n; i++) {
        seg[i] = seg[first + i];
    }

    if (seg[0].data[0] != 'a' || seg[0].len == 5) {
        /* ledger, audit, stats */
        if (n != 1) {
            goto unknown;
        }

        rt->methods = NGX_HTTP_GET|NGX_HTTP_HEAD;
        rt->ep = seg[0].data[0] == 'l' ? NGX_HTTP_MAKECLIP_ADM_LEDGER
                 : (seg[0].data[1] == 'u' ? NGX_HTTP_MAKECLIP_ADM_AUDIT
                                          : NGX_HTTP_MAKECLIP_ADM_STATS);
        goto method;
    }

    if (n == 1) {
        rt->ep = NGX_HTTP_MAKECLIP_ADM_ACCOUNTS;
        rt->methods = NGX_HTTP_GET|NGX_HTTP_HEAD|NGX_HTTP_POST;
        rt->body = NGX_HTTP_POST;
        goto method;
    }

    rt->account = mc_pstrndup(ctx->pool, (char *) seg[1].data, seg[1].len);

    if (rt->account == NULL) {
        *rc = NGX_HTTP_INTERNAL_SERVER_ERROR;
        return NGX_DECLINED;
    }

    if (!mc_store_valid_name(rt->account)) {
        *rc = ngx_http_makeclip_admin_not_found(r, "account");
        return NGX_DECLINED;
    }

    if (n == 2) {
        rt->ep = NGX_HTTP_MAKECLIP_ADM_ACCOUNT;
        rt->methods = NGX_HTTP_GET|NGX_HTTP_HEAD|NGX_HTTP_PATCH
                      |NGX_HTTP_POST;
        rt->body = NGX_HTTP_PATCH|NGX_HTTP_POST;
        goto method;
    }

#define SEG(s)  (seg[2].len == sizeof(s) - 1                                 \
                 && ngx_strncmp(seg[2].data, s, sizeof(s) - 1) == 0)

    if (SEG("keys")) {
        if (n == 4) {
            rt->ep = NGX_HTTP_MAKECLIP_ADM_KEY;
            rt->methods = NGX_HTTP_DELETE;
            rt->key_id = mc_pstrndup(ctx->pool, (char *) seg[3].data,
                                     seg[3].len);
            if (rt->key_id == NULL) {
                *rc = NGX_HTTP_INTERNAL_SERVER_ERROR;
                return NGX_DECLINED;
            }

            goto method;
        }

        rt->ep = NGX_HTTP_MAKECLIP_ADM_KEYS;
        rt->methods = NGX_HTTP_GET|NGX_HTTP_HEAD|NGX_HTTP_POST;
        rt->body = NGX_HTTP_POST;

    } else if (SEG("grant") || SEG("adjust") || SEG("expire")) {
        rt->ep = SEG("grant") ? NGX_HTTP_MAKECLIP_ADM_GRANT
                 : (SEG("adjust") ? NGX_HTTP_MAKECLIP_ADM_ADJUST
                                  : NGX_HTTP_MAKECLIP_ADM_EXPIRE);
        rt->methods = NGX_HTTP_POST;
        rt->body = NGX_HTTP_POST;

    } else if (SEG("tasks")) {
        rt->ep = NGX_HTTP_MAKECLIP_ADM_TASKS;
        rt->methods = NGX_HTTP_GET|NGX_HTTP_HEAD;

    } else if (SEG("ledger")) {
        rt->ep = NGX_HTTP_MAKECLIP_ADM_ACCOUNT_LEDGER;
        rt->methods = NGX_HTTP_GET|NGX_HTTP_HEAD;

    } else {
        goto unknown;
    }

#undef SEG

    if (n != 3) {
        goto unknown;
    }

method:

    if (r->method & rt->methods) {
        return NGX_OK;
    }

    *rc = ngx_http_makeclip_error(r, NGX_HTTP_NOT_ALLOWED, MC_ERR_INVALID,
                                  "method_not_allowed", NULL,
                                  "This method is not allowed on this "
                                  "admin endpoint.");
    return NGX_DECLINED;

unknown:

    *rc = ngx_http_makeclip_error(r, NGX_HTTP_NOT_FOUND, MC_ERR_INVALID,
                                  "unknown_url", NULL,
                                  "Invalid URL: no such admin endpoint.");
    return NGX_DECLINED;
}


/*
 * Authorization: Bearer <makeclip_admin_token>.  Both sides are hashed
 * first, so the comparison takes the same time whatever the length and
 * the content of what was sent.  NGX_DECLINED: answered, *rc to
 * finalize with.
 */

static ngx_int_t
ngx_http_makeclip_admin_auth(ngx_http_request_t *r, ngx_int_t *rc)
{
    ngx_str_t                      value;
    ngx_table_elt_t               *h;
    unsigned char                  want[MC_SHA256_LEN], got[MC_SHA256_LEN];
    ngx_http_makeclip_loc_conf_t  *mlcf;

    mlcf = ngx_http_get_module_loc_conf(r, ngx_http_makeclip_module);

    if (mlcf->admin_token.len == 0) {
        /* no token: allow/deny guard the location (warned at nginx -t) */
        return NGX_OK;
    }

    h = r->headers_in.authorization;
    ngx_str_null(&value);

    if (h && h->value.len > 7
        && ngx_strncasecmp(h->value.data, (u_char *) "Bearer ", 7) == 0)
    {
        value.data = h->value.data + 7;
        value.len = h->value.len - 7;

        while (value.len && value.data[0] == ' ') {
            value.data++;
            value.len--;
        }
    }

    mc_sha256(mlcf->admin_token.data, mlcf->admin_token.len, want);
    mc_sha256(value.data, value.len, got);

    if (value.len && mc_consttime_eq(want, got, MC_SHA256_LEN)) {
        return NGX_OK;
    }

    ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                  "makeclip admin: %s admin token",
                  value.len ? "wrong" : "no");

    r->headers_out.www_authenticate = ngx_list_push(&r->headers_out.headers);
    if (r->headers_out.www_authenticate == NULL) {
        *rc = NGX_HTTP_INTERNAL_SERVER_ERROR;
        return NGX_DECLINED;
    }

    r->headers_out.www_authenticate->hash = 1;
#if (nginx_version >= 1023000)
    r->headers_out.www_authenticate->next = NULL;
#endif
    ngx_str_set(&r->headers_out.www_authenticate->key, "WWW-Authenticate");
    ngx_str_set(&r->headers_out.www_authenticate->value,
                "Bearer realm=\"makeclip admin\"");

    *rc = ngx_http_makeclip_error(r, NGX_HTTP_UNAUTHORIZED, MC_ERR_INVALID,
                                  value.len ? "invalid_admin_token"
                                            : "missing_admin_token",
                                  NULL, "This admin endpoint needs the "
                                  "admin token: Authorization: Bearer "
                                  "<token>.");
    return NGX_DECLINED;
}


/* the body has been read: parse it and run the operation */

static void
ngx_http_makeclip_admin_body(ngx_http_request_t *r)
{
    json_t                           *body;
    ngx_int_t                         rc;
    json_error_t                      jerr;
    ngx_http_makeclip_ctx_t          *ctx;
    ngx_http_makeclip_admin_route_t   rt;

    ctx = ngx_http_makeclip_get_ctx(r);

    if (ctx == NULL) {
        ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    if (ctx->body_too_large
        || ngx_http_makeclip_read_body(r, ctx) != NGX_OK
        || ctx->body.len > NGX_HTTP_MAKECLIP_ADMIN_BODY_MAX)
    {
        ngx_http_finalize_request(r,
            ngx_http_makeclip_error(r, NGX_HTTP_REQUEST_ENTITY_TOO_LARGE,
                                    MC_ERR_INVALID, "request_too_large",
                                    NULL, "An admin request body is at "
                                    "most 64k."));
        return;
    }

    if (ngx_http_makeclip_admin_route(r, ctx, &rt, &rc) != NGX_OK) {
        ngx_http_finalize_request(r, rc);
        return;
    }

    body = NULL;

    if (ctx->body.len) {
        body = json_loadb((char *) ctx->body.data, ctx->body.len, 0, &jerr);

        if (body == NULL || !json_is_object(body)) {
            json_decref(body);
            ngx_http_finalize_request(r,
                ngx_http_makeclip_error(r, NGX_HTTP_BAD_REQUEST,
                                        MC_ERR_INVALID, "invalid_json", NULL,
                                        "The body must be a JSON object."));
            return;
        }
    }

    if (body == NULL) {
        body = json_object();
        if (body == NULL) {
            ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
            return;
        }
    }

    rc = ngx_http_makeclip_admin_dispatch(r, ctx, &rt, body);
    json_decref(body);

    ngx_http_finalize_request(r, rc);
}


static ngx_int_t
ngx_http_makeclip_admin_dispatch(ngx_http_request_t *r,
    ngx_http_makeclip_ctx_t *ctx, ngx_http_makeclip_admin_route_t *rt,
    json_t *body)
{
    switch (rt->ep) {

    case NGX_HTTP_MAKECLIP_ADM_ACCOUNTS:
        if (r->method == NGX_HTTP_POST) {
            return ngx_http_makeclip_admin_create_account(r, ctx, body);
        }

        return ngx_http_makeclip_admin_accounts(r, ctx);

    case NGX_HTTP_MAKECLIP_ADM_ACCOUNT:
        if (body) {
            return ngx_http_makeclip_admin_update(r, rt, body);
        }

        return ngx_http_makeclip_admin_account(r, rt->account, NGX_HTTP_OK);

    case NGX_HTTP_MAKECLIP_ADM_KEYS:
        if (body) {
            return ngx_http_makeclip_admin_key_add(r, rt, body);
        }

        return ngx_http_makeclip_admin_keys(r, rt);

    case NGX_HTTP_MAKECLIP_ADM_KEY:
        return ngx_http_makeclip_admin_key_revoke(r, rt);

    case NGX_HTTP_MAKECLIP_ADM_GRANT:
    case NGX_HTTP_MAKECLIP_ADM_ADJUST:
    case NGX_HTTP_MAKECLIP_ADM_EXPIRE:
        return ngx_http_makeclip_admin_credit(r, rt, body);

    case NGX_HTTP_MAKECLIP_ADM_TASKS:
        return ngx_http_makeclip_admin_tasks(r, ctx, rt);

    case NGX_HTTP_MAKECLIP_ADM_ACCOUNT_LEDGER:
        return ngx_http_makeclip_admin_ledger(r, ctx, rt->account);

    case NGX_HTTP_MAKECLIP_ADM_LEDGER:
        return ngx_http_makeclip_admin_ledger(r, ctx, NULL);

    case NGX_HTTP_MAKECLIP_ADM_AUDIT:
        return ngx_http_makeclip_admin_audit(r);

    case NGX_HTTP_MAKECLIP_ADM_STATS:
        return ngx_http_makeclip_admin_stats(r);

    default:
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }
}


/* POST /accounts {id, plan, credits?, reason?} */

static ngx_int_t
ngx_http_makeclip_admin_create_account(ngx_http_request_t *r,
    ngx_http_makeclip_ctx_t *ctx, json_t *body)
{
    int                             rc;
    json_t                         *v;
    int64_t                         credits;
    const char                     *id, *plan, *reason;
    ngx_http_makeclip_main_conf_t  *mmcf;

    mmcf = ngx_http_get_module_main_conf(r, ngx_http_makeclip_module);

    id = mc_json_str(body, "id");
    plan = mc_json_str(body, "plan");
    v = json_object_get(body, "credits");
    credits = 0;

    if (id == NULL || !mc_store_valid_name(id)) {
        return ngx_http_makeclip_admin_invalid(r, "id", "id must be 1 to 64 "
                                               "of A-Z a-z 0-9 _ . - @.");
    }

    if (plan == NULL || mc_catalog_plan(mmcf->catalog, plan) == NULL) {
        return ngx_http_makeclip_admin_invalid(r, "plan", "plan must name a "
                                               "\"makeclip_plan\" of this "
                                               "gateway.");
    }

    if (v) {
        if (!json_is_integer(v) || json_integer_value(v) < 0
            || json_integer_value(v) > MC_CREDIT_MAX)
        {
            return ngx_http_makeclip_admin_invalid(r, "credits", "credits "
                                                   "must be a whole number "
                                                   "of 0 or more.");
        }

        credits = json_integer_value(v);
    }

    reason = ngx_http_makeclip_admin_reason(body);

    if (credits && reason == NULL) {
        reason = "initial credits";
    }

    rc = mc_store_account_create_ex(ngx_http_makeclip_store(r), id, plan,
                                    credits, reason,
                                    ngx_http_makeclip_admin_actor(r, ctx),
                                    ngx_http_makeclip_now());

    if (rc == MC_STORE_EXISTS) {
        return ngx_http_makeclip_error(r, NGX_HTTP_CONFLICT, MC_ERR_CONFLICT,
                                       "account_exists", "id",
                                       "An account with this id exists.");
    }

    if (rc == MC_DECLINED) {
        return ngx_http_makeclip_admin_invalid(r, NULL,
                   mc_store_error(ngx_http_makeclip_store(r)));
    }

    if (rc != MC_OK) {
        return ngx_http_makeclip_store_error(r, rc, "creating an account");
    }

    ngx_http_makeclip_store_committed(r);

    ngx_log_error(NGX_LOG_NOTICE, r->connection->log, 0,
                  "makeclip admin: account \"%s\" created, plan \"%s\", "
                  "%L credits", id, plan, credits);

    return ngx_http_makeclip_admin_account(r, id, NGX_HTTP_CREATED);
}


/* GET /accounts?after=&limit= */

static ngx_int_t
ngx_http_makeclip_admin_accounts(ngx_http_request_t *r,
    ngx_http_makeclip_ctx_t *ctx)
{
    char       *after;
    size_t      i, limit;
    json_t     *arr, *root, *a;
    ngx_int_t   rc;

    if (ngx_http_makeclip_admin_limit(r, NGX_HTTP_MAKECLIP_ADMIN_LIST_MAX,
                                      &limit, &rc)
        != NGX_OK)
    {
        return rc;
    }

    rc = ngx_http_makeclip_admin_arg(r, ctx, "after", &after);
    if (rc != NGX_OK) {
        return rc;
    }

    /* one more than asked tells whether there are more */
    arr = mc_store_accounts_json(ngx_http_makeclip_store(r), after,
                                 limit + 1);
    if (arr == NULL) {
        return ngx_http_makeclip_store_error(r, MC_ERROR,
                                             "listing accounts");
    }

    root = json_object();
    if (root == NULL) {
        json_decref(arr);
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    json_object_set_new(root, "has_more",
                        json_boolean(json_array_size(arr) > limit));

    if (json_array_size(arr) > limit) {
        json_array_remove(arr, limit);
    }

    json_array_foreach(arr, i, a) {
        json_object_set_new(a, "object", json_string("account"));
    }

    json_object_set_new(root, "object", json_string("list"));
    json_object_set_new(root, "last_id", json_array_size(arr)
                        ? json_incref(json_object_get(json_array_get(arr,
                                      json_array_size(arr) - 1), "id"))
                        : json_null());
    json_object_set_new(root, "data", arr);

    return ngx_http_makeclip_send_json(r, NGX_HTTP_OK, root);
}


/* GET /accounts/{id} */

static ngx_int_t
ngx_http_makeclip_admin_account(ngx_http_request_t *r, const char *id,
    ngx_uint_t status)
{
    int            rc;
    json_t        *j;
    mc_account_t   a;

    rc = mc_store_account_get(ngx_http_makeclip_store(r), id, &a);

    if (rc == MC_NOT_FOUND) {
        return ngx_http_makeclip_admin_not_found(r, "account");
    }

    if (rc != MC_OK) {
        return ngx_http_makeclip_store_error(r, rc, "reading an account");
    }

    j = mc_account_json(&a);
    if (j == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    json_object_set_new(j, "object", json_string("account"));

    return ngx_http_makeclip_send_json(r, status, j);
}


/* PATCH /accounts/{id} {plan?, disabled?} */

static ngx_int_t
ngx_http_makeclip_admin_update(ngx_http_request_t *r,
    ngx_http_makeclip_admin_route_t *rt, json_t *body)
{
    int                             rc;
    json_t                         *disabled;
    mc_store_t                     *st;
    const char                     *plan;
    ngx_http_makeclip_main_conf_t  *mmcf;

    mmcf = ngx_http_get_module_main_conf(r, ngx_http_makeclip_module);
    st = ngx_http_makeclip_store(r);

    plan = mc_json_str(body, "plan");
    disabled = json_object_get(body, "disabled");

    if (json_object_get(body, "plan")
        && (plan == NULL || mc_catalog_plan(mmcf->catalog, plan) == NULL))
    {
        return ngx_http_makeclip_admin_invalid(r, "plan", "plan must name a "
                                               "\"makeclip_plan\" of this "
                                               "gateway.");
    }

    if (disabled && !json_is_boolean(disabled)) {
        return ngx_http_makeclip_admin_invalid(r, "disabled", "disabled is "
                                               "true or false.");
    }

    if (plan == NULL && disabled == NULL) {
        return ngx_http_makeclip_admin_invalid(r, NULL, "Send plan, "
                                               "disabled or both.");
    }

    rc = mc_store_account_update(st, rt->account, plan,
                                 disabled ? json_is_true(disabled) : -1);

    if (rc == MC_NOT_FOUND) {
        return ngx_http_makeclip_admin_not_found(r, "account");
    }

    if (rc != MC_OK) {
        return ngx_http_makeclip_store_error(r, rc, "updating an account");
    }

    ngx_http_makeclip_store_committed(r);

    ngx_log_error(NGX_LOG_NOTICE, r->connection->log, 0,
                  "makeclip admin: account \"%s\" updated%s%s%s", rt->account,
                  plan ? ", plan " : "", plan ? plan : "",
                  disabled ? (json_is_true(disabled) ? ", disabled"
                                                     : ", enabled")
                           : "");

    return ngx_http_makeclip_admin_account(r, rt->account, NGX_HTTP_OK);
}


/* GET /accounts/{id}/keys: ids only, never keys or their hashes */

static ngx_int_t
ngx_http_makeclip_admin_keys(ngx_http_request_t *r,
    ngx_http_makeclip_admin_route_t *rt)
{
    int            rc;
    size_t         i;
    json_t        *arr, *root, *k;
    mc_account_t   a;

    rc = mc_store_account_get(ngx_http_makeclip_store(r), rt->account, &a);

    if (rc == MC_NOT_FOUND) {
        return ngx_http_makeclip_admin_not_found(r, "account");
    }

    if (rc != MC_OK) {
        return ngx_http_makeclip_store_error(r, rc, "reading an account");
    }

    arr = mc_store_keys_json(ngx_http_makeclip_store(r), rt->account);
    if (arr == NULL) {
        return ngx_http_makeclip_store_error(r, MC_ERROR, "listing keys");
    }

    json_array_foreach(arr, i, k) {
        json_object_set_new(k, "object", json_string("api_key"));
    }

    root = json_object();
    if (root == NULL) {
        json_decref(arr);
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    json_object_set_new(root, "object", json_string("list"));
    json_object_set_new(root, "data", arr);

    return ngx_http_makeclip_send_json(r, NGX_HTTP_OK, root);
}


/* POST /accounts/{id}/keys {key?}: the key is in this answer only */

static ngx_int_t
ngx_http_makeclip_admin_key_add(ngx_http_request_t *r,
    ngx_http_makeclip_admin_route_t *rt, json_t *body)
{
    int               rc;
    char              key[80], id[MC_KEY_ID_LEN + 1];
    json_t           *root;
    const char       *given;
    ngx_table_elt_t  *h;

    given = mc_json_str(body, "key");

    if (json_object_get(body, "key") && given == NULL) {
        return ngx_http_makeclip_admin_invalid(r, "key", "key must be a "
                                               "string.");
    }

    rc = mc_store_key_add(ngx_http_makeclip_store(r), rt->account, given,
                          ngx_http_makeclip_now(), key, sizeof(key), id);

    switch (rc) {

    case MC_OK:
        break;

    case MC_NOT_FOUND:
        return ngx_http_makeclip_admin_not_found(r, "account");

    case MC_STORE_EXISTS:
        return ngx_http_makeclip_error(r, NGX_HTTP_CONFLICT, MC_ERR_CONFLICT,
                                       "key_exists", "key",
                                       "This key is in use.");

    case MC_DECLINED:
        return ngx_http_makeclip_admin_invalid(r, "key", "A key must be 16 "
                                               "to 63 characters.");

    default:
        return ngx_http_makeclip_store_error(r, rc, "issuing a key");
    }

    ngx_http_makeclip_store_committed(r);

    ngx_log_error(NGX_LOG_NOTICE, r->connection->log, 0,
                  "makeclip admin: key %s issued for account \"%s\"", id,
                  rt->account);

    root = json_pack("{s:s, s:s, s:s, s:s, s:I}", "object", "api_key",
                     "id", id, "key", key, "account", rt->account,
                     "created_at", (json_int_t) ngx_http_makeclip_now());

    /* the key leaves the worker's memory with the answer */
    ngx_explicit_memzero(key, sizeof(key));

    /*
     * a secret in the answer: no cache may keep it (a plain header, as
     * headers_out.cache_control changed type in nginx 1.23)
     */
    h = ngx_list_push(&r->headers_out.headers);
    if (h == NULL) {
        json_decref(root);
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    h->hash = 1;
#if (nginx_version >= 1023000)
    h->next = NULL;
#endif
    ngx_str_set(&h->key, "Cache-Control");
    ngx_str_set(&h->value, "no-store");

    return ngx_http_makeclip_send_json(r, NGX_HTTP_CREATED, root);
}


/* DELETE /accounts/{id}/keys/{key_id} */

static ngx_int_t
ngx_http_makeclip_admin_key_revoke(ngx_http_request_t *r,
    ngx_http_makeclip_admin_route_t *rt)
{
    int  rc;

    rc = mc_store_key_revoke(ngx_http_makeclip_store(r), rt->account,
                             rt->key_id);

    if (rc == MC_NOT_FOUND || rc == MC_DECLINED) {
        return ngx_http_makeclip_admin_not_found(r, "key");
    }

    if (rc != MC_OK) {
        return ngx_http_makeclip_store_error(r, rc, "revoking a key");
    }

    ngx_http_makeclip_store_committed(r);

    ngx_log_error(NGX_LOG_NOTICE, r->connection->log, 0,
                  "makeclip admin: key %s of account \"%s\" revoked",
                  rt->key_id, rt->account);

    return ngx_http_makeclip_send_json(r, NGX_HTTP_OK,
               json_pack("{s:s, s:s, s:s, s:b}", "object", "api_key",
                         "id", rt->key_id, "account", rt->account,
                         "revoked", 1));
}


/* POST /accounts/{id}/grant|adjust|expire {amount, reason} */

static ngx_int_t
ngx_http_makeclip_admin_credit(ngx_http_request_t *r,
    ngx_http_makeclip_admin_route_t *rt, json_t *body)
{
    int                       rc;
    json_t                   *v;
    mc_credit_t               c;
    ngx_http_makeclip_ctx_t  *ctx;

    ctx = ngx_http_makeclip_get_ctx(r);

    ngx_memzero(&c, sizeof(mc_credit_t));
    c.account = rt->account;
    c.type = rt->ep == NGX_HTTP_MAKECLIP_ADM_GRANT ? MC_LEDGER_GRANT
             : (rt->ep == NGX_HTTP_MAKECLIP_ADM_ADJUST ? MC_LEDGER_ADJUST
                                                       : MC_LEDGER_EXPIRE);

    v = json_object_get(body, "amount");

    if (c.type == MC_LEDGER_EXPIRE && json_is_string(v)
        && ngx_strcmp(json_string_value(v), "all") == 0)
    {
        c.amount = MC_CREDIT_ALL;

    } else if (json_is_integer(v)
               && json_integer_value(v) <= MC_CREDIT_MAX
               && json_integer_value(v) >= -MC_CREDIT_MAX
               && (c.type == MC_LEDGER_ADJUST ? json_integer_value(v) != 0
                                              : json_integer_value(v) > 0))
    {
        c.amount = json_integer_value(v);

    } else {
        return ngx_http_makeclip_admin_invalid(r, "amount",
                   c.type == MC_LEDGER_ADJUST
                   ? "amount must be a whole number other than 0."
                   : (c.type == MC_LEDGER_GRANT
                      ? "amount must be a whole number above 0."
                      : "amount must be a whole number above 0, or "
                        "\"all\"."));
    }

    /* every operator movement says why, for whoever reads the ledger */
    c.reason = ngx_http_makeclip_admin_reason(body);

    if (c.reason == NULL) {
        return ngx_http_makeclip_admin_invalid(r, "reason", "reason must be "
                                               "a string of 1 to 1024 "
                                               "characters.");
    }

    c.actor = ngx_http_makeclip_admin_actor(r, ctx);
    c.now = ngx_http_makeclip_now();

    rc = mc_store_credit_ex(ngx_http_makeclip_store(r), &c);

    switch (rc) {

    case MC_OK:
        break;

    case MC_NOT_FOUND:
        return ngx_http_makeclip_admin_not_found(r, "account");

    case MC_STORE_NO_FUNDS:
        return ngx_http_makeclip_error(r, NGX_HTTP_CONFLICT, MC_ERR_CONFLICT,
                                       "insufficient_credits", "amount",
                                       "The available balance would go "
                                       "below zero; credits held by running "
                                       "tasks cannot be taken.");

    case MC_DECLINED:
        return ngx_http_makeclip_admin_invalid(r, NULL,
                   mc_store_error(ngx_http_makeclip_store(r)));

    default:
        return ngx_http_makeclip_store_error(r, rc, "moving credits");
    }

    if (c.seq) {
        ngx_http_makeclip_store_committed(r);

        ngx_log_error(NGX_LOG_NOTICE, r->connection->log, 0,
                      "makeclip admin: %s %L for account \"%s\", balance "
                      "%L, ledger entry %L", mc_ledger_type_name(c.type),
                      c.applied, rt->account, c.balance, c.seq);
    }

    return ngx_http_makeclip_send_json(r, NGX_HTTP_OK,
               json_pack("{s:s, s:s, s:s, s:I, s:I, s:o}", "object",
                         "credit", "account", rt->account, "type",
                         mc_ledger_type_name(c.type),
                         "amount", (json_int_t) c.applied,
                         "balance", (json_int_t) c.balance,
                         "seq", c.seq ? json_integer(c.seq) : json_null()));
}


/* GET /accounts/{id}/tasks?after=&limit=&order= */

static ngx_int_t
ngx_http_makeclip_admin_tasks(ngx_http_request_t *r,
    ngx_http_makeclip_ctx_t *ctx, ngx_http_makeclip_admin_route_t *rt)
{
    int            rc, more, asc;
    char          *after, *order;
    size_t         i, n, limit;
    json_t        *root, *data, *t;
    ngx_int_t      nrc;
    mc_task_t     *tasks;
    mc_account_t   a;

    if (ngx_http_makeclip_admin_limit(r, NGX_HTTP_MAKECLIP_LIST_MAX, &limit,
                                      &nrc)
        != NGX_OK)
    {
        return nrc;
    }

    if (ngx_http_makeclip_admin_arg(r, ctx, "after", &after) != NGX_OK
        || ngx_http_makeclip_admin_arg(r, ctx, "order", &order) != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    asc = 0;

    if (order) {
        if (ngx_strcmp(order, "asc") == 0) {
            asc = 1;

        } else if (ngx_strcmp(order, "desc") != 0) {
            return ngx_http_makeclip_admin_invalid(r, "order", "order must "
                                                   "be asc or desc.");
        }
    }

    rc = mc_store_account_get(ngx_http_makeclip_store(r), rt->account, &a);

    if (rc == MC_NOT_FOUND) {
        return ngx_http_makeclip_admin_not_found(r, "account");
    }

    if (rc != MC_OK) {
        return ngx_http_makeclip_store_error(r, rc, "reading an account");
    }

    tasks = mc_palloc(ctx->pool, limit * sizeof(mc_task_t));
    if (tasks == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    rc = mc_store_task_list(ngx_http_makeclip_store(r), ctx->pool,
                            rt->account, after, limit, asc, tasks, &n,
                            &more);

    if (rc == MC_NOT_FOUND) {
        return ngx_http_makeclip_admin_invalid(r, "after", "after must be a "
                                               "task id of this account.");
    }

    if (rc != MC_OK) {
        return ngx_http_makeclip_store_error(r, rc, "listing tasks");
    }

    data = json_array();
    if (data == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    for (i = 0; i < n; i++) {
        t = mc_task_to_json(&tasks[i]);
        if (t == NULL) {
            continue;
        }

        /* the adapter's private state is not the operator's business */
        json_object_del(t, "provider_data");
        json_object_set_new(t, "object", json_string("task"));
        json_array_append_new(data, t);
    }

    root = json_object();
    if (root == NULL) {
        json_decref(data);
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    json_object_set_new(root, "object", json_string("list"));
    json_object_set_new(root, "data", data);
    json_object_set_new(root, "has_more", json_boolean(more));
    json_object_set_new(root, "last_id", n ? json_string(tasks[n - 1].id)
                                           : json_null());

    return ngx_http_makeclip_send_json(r, NGX_HTTP_OK, root);
}


/* GET /ledger and /accounts/{id}/ledger: since=, until=, before=, after=,
 * limit=, order=, and account= on the first */

static ngx_int_t
ngx_http_makeclip_admin_ledger(ngx_http_request_t *r,
    ngx_http_makeclip_ctx_t *ctx, const char *account)
{
    int                 rc, more;
    char               *v;
    size_t              n;
    json_t             *root, *data, *last;
    int64_t             num;
    ngx_int_t           nrc;
    mc_account_t        a;
    mc_ledger_query_t   q;

    ngx_memzero(&q, sizeof(mc_ledger_query_t));

    if (ngx_http_makeclip_admin_limit(r, NGX_HTTP_MAKECLIP_ADMIN_LIST_MAX,
                                      &q.limit, &nrc)
        != NGX_OK)
    {
        return nrc;
    }

    if (account == NULL) {
        if (ngx_http_makeclip_admin_arg(r, ctx, "account", &v) != NGX_OK) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        if (v && !mc_store_valid_name(v)) {
            return ngx_http_makeclip_admin_invalid(r, "account", "account "
                                                   "is not a valid account "
                                                   "id.");
        }

        account = v;
    }

    q.account = account;

    if (ngx_http_makeclip_admin_arg(r, ctx, "since", &v) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (v && mc_parse_time(v, &q.since) != MC_OK) {
        return ngx_http_makeclip_admin_invalid(r, "since", "since is Unix "
                                               "seconds, <n>ms or an RFC "
                                               "3339 UTC time.");
    }

    if (ngx_http_makeclip_admin_arg(r, ctx, "until", &v) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (v && mc_parse_time(v, &q.until) != MC_OK) {
        return ngx_http_makeclip_admin_invalid(r, "until", "until is Unix "
                                               "seconds, <n>ms or an RFC "
                                               "3339 UTC time.");
    }

    if (ngx_http_makeclip_admin_arg(r, ctx, "before", &v) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (v) {
        if (mc_parse_int(v, ngx_strlen(v), &num) != MC_OK) {
            return ngx_http_makeclip_admin_invalid(r, "before", "before is "
                                                   "a ledger seq.");
        }

        q.before = num;
    }

    if (ngx_http_makeclip_admin_arg(r, ctx, "after", &v) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (v) {
        if (mc_parse_int(v, ngx_strlen(v), &num) != MC_OK) {
            return ngx_http_makeclip_admin_invalid(r, "after", "after is a "
                                                   "ledger seq.");
        }

        q.after = num;
    }

    if (ngx_http_makeclip_admin_arg(r, ctx, "order", &v) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (v) {
        if (ngx_strcmp(v, "asc") == 0) {
            q.asc = 1;

        } else if (ngx_strcmp(v, "desc") != 0) {
            return ngx_http_makeclip_admin_invalid(r, "order", "order must "
                                                   "be asc or desc.");
        }
    }

    if (account) {
        rc = mc_store_account_get(ngx_http_makeclip_store(r), account, &a);

        if (rc == MC_NOT_FOUND) {
            return ngx_http_makeclip_admin_not_found(r, "account");
        }

        if (rc != MC_OK) {
            return ngx_http_makeclip_store_error(r, rc,
                                                 "reading an account");
        }
    }

    data = json_array();
    if (data == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    rc = mc_store_ledger_each(ngx_http_makeclip_store(r), &q,
                              ngx_http_makeclip_admin_collect, data, &more);
    if (rc != MC_OK) {
        json_decref(data);
        return ngx_http_makeclip_store_error(r, rc, "reading the ledger");
    }

    root = json_object();
    if (root == NULL) {
        json_decref(data);
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    n = json_array_size(data);
    last = n ? json_object_get(json_array_get(data, n - 1), "seq") : NULL;

    json_object_set_new(root, "object", json_string("list"));
    json_object_set_new(root, "has_more", json_boolean(more));

    /* the next page: before= (newest first) or after= (oldest first) */
    json_object_set_new(root, "last_seq", last ? json_incref(last)
                                               : json_null());
    json_object_set_new(root, "data", data);

    return ngx_http_makeclip_send_json(r, NGX_HTTP_OK, root);
}


static int
ngx_http_makeclip_admin_collect(json_t *entry, void *data)
{
    return json_array_append(data, entry) == 0 ? MC_OK : MC_ERROR;
}


/*
 * GET /audit: a read of the whole store, on the thread pool so that a
 * large store does not stall the event loop; the request waits for it.
 */

static ngx_int_t
ngx_http_makeclip_admin_audit(ngx_http_request_t *r)
{
#if (NGX_THREADS)
    ngx_thread_task_t              *task;
    ngx_http_makeclip_audit_t      *au;
    ngx_http_makeclip_main_conf_t  *mmcf;

    mmcf = ngx_http_get_module_main_conf(r, ngx_http_makeclip_module);

    if (mmcf->thread_pool) {
        task = ngx_thread_task_alloc(r->pool,
                                     sizeof(ngx_http_makeclip_audit_t));
        if (task == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        au = task->ctx;
        au->request = r;
        au->store = mmcf->store;

        task->handler = ngx_http_makeclip_audit_thread;
        task->event.handler = ngx_http_makeclip_audit_done;
        task->event.data = au;
        task->event.log = r->connection->log;

        if (ngx_thread_task_post(mmcf->thread_pool, task) != NGX_OK) {
            return ngx_http_makeclip_error(r, NGX_HTTP_SERVICE_UNAVAILABLE,
                                           MC_ERR_SERVER, "busy", NULL,
                                           "No thread for the audit now; "
                                           "try again.");
        }

        /* the request lives, and cannot be torn down, until it is done */
        r->main->count++;
        r->main->blocked++;

        return NGX_DONE;
    }
#endif

    {
        char     err[256];
        json_t  *report;

        report = mc_store_audit(ngx_http_makeclip_store(r), err,
                                sizeof(err));

        return ngx_http_makeclip_admin_send_audit(r, report, err);
    }
}


#if (NGX_THREADS)

static void
ngx_http_makeclip_audit_thread(void *data, ngx_log_t *log)
{
    ngx_http_makeclip_audit_t *au = data;

    au->report = mc_store_audit(au->store, au->err, sizeof(au->err));
}


static void
ngx_http_makeclip_audit_done(ngx_event_t *ev)
{
    ngx_int_t                   rc;
    ngx_connection_t           *c;
    ngx_http_request_t         *r;
    ngx_http_makeclip_audit_t  *au;

    au = ev->data;
    r = au->request;
    c = r->connection;

    r->main->blocked--;

    rc = ngx_http_makeclip_admin_send_audit(r, au->report, au->err);

    ngx_http_finalize_request(r, rc);
    ngx_http_run_posted_requests(c);
}

#endif


static ngx_int_t
ngx_http_makeclip_admin_send_audit(ngx_http_request_t *r, json_t *report,
    const char *err)
{
    json_t  *problems;

    if (report == NULL) {
        ngx_log_error(NGX_LOG_CRIT, r->connection->log, 0,
                      "makeclip admin: the audit failed: %s", err);

        return ngx_http_makeclip_error(r, NGX_HTTP_SERVICE_UNAVAILABLE,
                                       MC_ERR_SERVER, "audit_failed", NULL,
                                       "The audit could not read the store; "
                                       "see the error log.");
    }

    if (!json_is_true(json_object_get(report, "clean"))) {
        problems = json_object_get(report, "problems");

        /* a failed audit is news for whoever watches the log */
        ngx_log_error(NGX_LOG_ALERT, r->connection->log, 0,
                      "makeclip audit: %L problems, the first: %s",
                      (int64_t) json_integer_value(json_object_get(report,
                                                   "problems_total")),
                      mc_json_str(json_array_get(problems, 0), "problem"));
    }

    json_object_set_new(report, "object", json_string("audit"));
    json_object_set_new(report, "checked_at",
                        json_integer(ngx_time()));

    return ngx_http_makeclip_send_json(r, NGX_HTTP_OK, report);
}


/* GET /stats: the store's figures and this worker's */

static ngx_int_t
ngx_http_makeclip_admin_stats(ngx_http_request_t *r)
{
    json_t  *root, *store;

    store = mc_store_stats(ngx_http_makeclip_store(r));
    if (store == NULL) {
        return ngx_http_makeclip_store_error(r, MC_ERROR, "reading stats");
    }

    root = json_object();
    if (root == NULL) {
        json_decref(store);
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    json_object_set_new(root, "object", json_string("stats"));
    json_object_set_new(root, "store", store);
    json_object_set_new(root, "worker", ngx_http_makeclip_store_stats(r));

    return ngx_http_makeclip_send_json(r, NGX_HTTP_OK, root);
}


/* helpers */


static ngx_int_t
ngx_http_makeclip_admin_invalid(ngx_http_request_t *r, const char *param,
    const char *message)
{
    return ngx_http_makeclip_error(r, NGX_HTTP_BAD_REQUEST, MC_ERR_INVALID,
                                   "invalid_request", param, message);
}


static ngx_int_t
ngx_http_makeclip_admin_not_found(ngx_http_request_t *r, const char *what)
{
    mc_error_t  err;

    mc_error_set(&err, NGX_HTTP_NOT_FOUND, MC_ERR_NOT_FOUND,
                 what[0] == 'a' ? "account_not_found" : "key_not_found",
                 NULL, "No such %s.", what);

    return ngx_http_makeclip_send_error(r, &err);
}


/* a query argument, unescaped and NUL-terminated; NULL when absent */

static ngx_int_t
ngx_http_makeclip_admin_arg(ngx_http_request_t *r,
    ngx_http_makeclip_ctx_t *ctx, const char *name, char **value)
{
    u_char     *dst, *src;
    ngx_str_t   v;

    *value = NULL;

    if (ngx_http_arg(r, (u_char *) name, ngx_strlen(name), &v) != NGX_OK
        || v.len == 0)
    {
        return NGX_OK;
    }

    dst = mc_palloc(ctx->pool, v.len + 1);
    if (dst == NULL) {
        return NGX_ERROR;
    }

    *value = (char *) dst;
    src = v.data;

    ngx_unescape_uri(&dst, &src, v.len, NGX_UNESCAPE_URI);
    *dst = '\0';

    return NGX_OK;
}


/* limit=: NGX_DECLINED when it is wrong and the answer is sent */

static ngx_int_t
ngx_http_makeclip_admin_limit(ngx_http_request_t *r, size_t max,
    size_t *limit, ngx_int_t *rc)
{
    ngx_int_t  n;
    ngx_str_t  v;
    u_char     msg[64];

    *limit = max < 100 ? max : 100;

    if (ngx_http_arg(r, (u_char *) "limit", 5, &v) != NGX_OK) {
        return NGX_OK;
    }

    n = ngx_atoi(v.data, v.len);

    if (n < 1 || (size_t) n > max) {
        ngx_snprintf(msg, sizeof(msg), "limit must be from 1 to %uz.%Z",
                     max);
        *rc = ngx_http_makeclip_admin_invalid(r, "limit", (char *) msg);
        return NGX_DECLINED;
    }

    *limit = (size_t) n;

    return NGX_OK;
}


static const char *
ngx_http_makeclip_admin_reason(json_t *body)
{
    const char  *s;

    s = mc_json_str(body, "reason");

    if (s == NULL || *s == '\0' || ngx_strlen(s) > 1024) {
        return NULL;
    }

    return s;
}


/* who moved the credits, for the ledger: the admin client's address */

static char *
ngx_http_makeclip_admin_actor(ngx_http_request_t *r,
    ngx_http_makeclip_ctx_t *ctx)
{
    ngx_str_t  *addr;

    addr = &r->connection->addr_text;

    return mc_psprintf(ctx->pool, "admin %.*s", (int) addr->len,
                       addr->data);
}
