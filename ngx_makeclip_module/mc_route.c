
/*
 * Routing rules: parsing and evaluation.
 */

#include "mc_route.h"

#include <stdio.h>
#include <stdlib.h>


static int mc_cond_parse(mc_pool_t *pool, const char *arg, mc_cond_t *c,
    char *err, size_t errlen);
static int mc_cond_match(mc_cond_t *c, mc_route_ctx_t *ctx);
static const char *mc_field_value(mc_cond_t *c, mc_route_ctx_t *ctx,
    size_t *len);
static int mc_number(const char *s, size_t len, int64_t *n);
static int mc_regex_check(const char *re, char *err, size_t errlen);


mc_routes_t *
mc_routes_create(void)
{
    mc_routes_t  *routes;

    routes = calloc(1, sizeof(mc_routes_t));
    if (routes == NULL) {
        return NULL;
    }

    routes->pool = mc_pool_create(4096);
    if (routes->pool == NULL) {
        free(routes);
        return NULL;
    }

    return routes;
}


void
mc_routes_destroy(mc_routes_t *routes)
{
    size_t  i, j;

    if (routes == NULL) {
        return;
    }

    for (i = 0; i < routes->nrules; i++) {
        for (j = 0; j < routes->rules[i]->nconds; j++) {
            if (routes->rules[i]->conds[j].re) {
                regfree(routes->rules[i]->conds[j].re);
            }
        }
    }

    mc_pool_destroy(routes->pool);
    free(routes);
}


mc_rule_t *
mc_routes_add(mc_routes_t *routes, char **argv, size_t argc,
    const char *where, char *err, size_t errlen)
{
    char        *list, *item, *comma;
    size_t       i, n;
    mc_rule_t   *rule, **rules;
    mc_pool_t   *pool;

    pool = routes->pool;

    rule = mc_pcalloc(pool, sizeof(mc_rule_t));
    if (rule == NULL) {
        goto nomem;
    }

    rule->where = mc_pstrdup(pool, where);
    rule->conds = mc_pcalloc(pool, (argc ? argc : 1) * sizeof(mc_cond_t));

    if (rule->where == NULL || rule->conds == NULL) {
        goto nomem;
    }

    list = NULL;

    for (i = 0; i < argc; i++) {
        if (strncmp(argv[i], "to=", 3) == 0) {
            if (list) {
                snprintf(err, errlen, "duplicate \"to=\"");
                goto failed;
            }

            list = argv[i] + 3;
            continue;
        }

        if (mc_cond_parse(pool, argv[i], &rule->conds[rule->nconds], err,
                          errlen)
            != MC_OK)
        {
            goto failed;
        }

        rule->nconds++;
    }

    if (list == NULL || *list == '\0') {
        snprintf(err, errlen, "a route needs to=provider:model[,...]");
        goto failed;
    }

    n = 1;
    for (item = list; *item; item++) {
        n += (*item == ',');
    }

    rule->targets = mc_pcalloc(pool, n * sizeof(mc_target_t));
    if (rule->targets == NULL) {
        snprintf(err, errlen, "out of memory");
        goto failed;
    }

    for (item = list; ; item = comma + 1) {
        comma = strchr(item, ',');

        if (mc_target_parse(pool, item,
                            comma ? (size_t) (comma - item) : strlen(item),
                            &rule->targets[rule->ntargets], err, errlen)
            != MC_OK)
        {
            goto failed;
        }

        rule->ntargets++;

        if (comma == NULL) {
            break;
        }
    }

    rules = mc_palloc(pool, (routes->nrules + 1) * sizeof(mc_rule_t *));
    if (rules == NULL) {
        snprintf(err, errlen, "out of memory");
        goto failed;
    }

    if (routes->nrules) {
        memcpy(rules, routes->rules, routes->nrules * sizeof(mc_rule_t *));
    }

    rules[routes->nrules++] = rule;
    routes->rules = rules;

    return rule;

failed:

    /* a rule that is not kept must not keep its compiled expressions */
    for (i = 0; i < rule->nconds; i++) {
        if (rule->conds[i].re) {
            regfree(rule->conds[i].re);
        }
    }

    return NULL;

nomem:

    snprintf(err, errlen, "out of memory");
    return NULL;
}


int
mc_routes_resolve(mc_routes_t *routes, mc_catalog_t *cat, char *err,
    size_t errlen)
{
    char        msg[256];
    size_t      i;
    mc_rule_t  *rule;

    for (i = 0; i < routes->nrules; i++) {
        rule = routes->rules[i];

        if (mc_targets_resolve(cat, rule->targets, rule->ntargets, msg,
                               sizeof(msg))
            != MC_OK)
        {
            snprintf(err, errlen, "%s in %s", msg, rule->where);
            return MC_ERROR;
        }
    }

    return MC_OK;
}


mc_rule_t *
mc_route_match(mc_routes_t *routes, mc_route_ctx_t *ctx)
{
    size_t      i, j;
    mc_rule_t  *rule;

    if (routes == NULL) {
        return NULL;
    }

    for (i = 0; i < routes->nrules; i++) {
        rule = routes->rules[i];

        for (j = 0; j < rule->nconds; j++) {
            if (!mc_cond_match(&rule->conds[j], ctx)) {
                break;
            }
        }

        if (j == rule->nconds) {
            return rule;
        }
    }

    return NULL;
}


mc_target_t *
mc_route_targets(mc_routes_t *routes, mc_route_ctx_t *ctx, size_t *n)
{
    mc_rule_t   *rule;
    mc_model_t  *m;

    rule = mc_route_match(routes, ctx);

    if (rule) {
        *n = rule->ntargets;
        return rule->targets;
    }

    m = ctx->req->catalog_model;

    if (m == NULL) {
        *n = 0;
        return NULL;
    }

    *n = m->ntargets;
    return m->targets;
}


static int
mc_cond_parse(mc_pool_t *pool, const char *arg, mc_cond_t *c, char *err,
    size_t errlen)
{
    int          rc;
    char        *value, *bar, **values;
    size_t       flen, i, n;
    const char  *op;

    flen = strcspn(arg, "!=<>~");
    op = arg + flen;

    if (flen == 0 || *op == '\0') {
        snprintf(err, errlen, "invalid condition \"%s\": field, operator "
                 "and value, e.g. seconds>6", arg);
        return MC_ERROR;
    }

    c->field = mc_pstrndup(pool, arg, flen);
    if (c->field == NULL) {
        goto nomem;
    }

    c->is_var = (c->field[0] == '$');

    if (c->is_var && flen == 1) {
        snprintf(err, errlen, "invalid variable in \"%s\"", arg);
        return MC_ERROR;
    }

    if (strncmp(op, "!=", 2) == 0) {
        c->op = MC_OP_NE;
        op += 2;

    } else if (strncmp(op, "!~", 2) == 0) {
        c->op = MC_OP_NRE;
        op += 2;

    } else if (strncmp(op, "<=", 2) == 0) {
        c->op = MC_OP_LE;
        op += 2;

    } else if (strncmp(op, ">=", 2) == 0) {
        c->op = MC_OP_GE;
        op += 2;

    } else if (*op == '=') {
        c->op = MC_OP_EQ;
        op++;

    } else if (*op == '~') {
        c->op = MC_OP_RE;
        op++;

    } else if (*op == '<') {
        c->op = MC_OP_LT;
        op++;

    } else if (*op == '>') {
        c->op = MC_OP_GT;
        op++;

    } else {
        snprintf(err, errlen, "invalid operator in \"%s\"", arg);
        return MC_ERROR;
    }

    if (*op == '\0' && c->op != MC_OP_EQ && c->op != MC_OP_NE) {
        snprintf(err, errlen, "no value in \"%s\"", arg);
        return MC_ERROR;
    }

    value = mc_pstrdup(pool, op);
    if (value == NULL) {
        goto nomem;
    }

    switch (c->op) {

    case MC_OP_EQ:
    case MC_OP_NE:
        n = 1;
        for (i = 0; value[i]; i++) {
            n += (value[i] == '|');
        }

        values = mc_palloc(pool, n * sizeof(char *));
        if (values == NULL) {
            goto nomem;
        }

        for (i = 0; i < n; i++) {
            bar = strchr(value, '|');
            if (bar) {
                *bar = '\0';
            }
            values[i] = value;
            value = bar ? bar + 1 : NULL;
        }

        c->values = values;
        c->nvalues = n;
        break;

    case MC_OP_RE:
    case MC_OP_NRE:
        if (mc_regex_check(value, err, errlen) != MC_OK) {
            return MC_ERROR;
        }

        c->re = mc_palloc(pool, sizeof(regex_t));
        if (c->re == NULL) {
            goto nomem;
        }

        rc = regcomp(c->re, value, REG_EXTENDED | REG_NOSUB);
        if (rc != 0) {
            c->re = NULL;
            snprintf(err, errlen, "invalid regular expression in \"%s\"",
                     arg);
            return MC_ERROR;
        }
        break;

    default:
        if (mc_number(value, strlen(value), &c->number) != MC_OK) {
            snprintf(err, errlen, "\"%s\" compares with a number or a "
                     "resolution such as 1080p", arg);
            return MC_ERROR;
        }
        break;
    }

    return MC_OK;

nomem:

    snprintf(err, errlen, "out of memory");
    return MC_ERROR;
}


static int
mc_cond_match(mc_cond_t *c, mc_route_ctx_t *ctx)
{
    int          hit;
    char        *s;
    size_t       i, len;
    int64_t      n;
    const char  *v;

    v = mc_field_value(c, ctx, &len);

    switch (c->op) {

    case MC_OP_EQ:
    case MC_OP_NE:
        hit = 0;

        if (v == NULL) {
            v = "";
            len = 0;
        }

        s = mc_pstrndup(ctx->pool, v, len);
        if (s == NULL) {
            return 0;
        }

        for (i = 0; i < c->nvalues; i++) {
            if (mc_wildcard_match(c->values[i], s)) {
                hit = 1;
                break;
            }
        }

        return c->op == MC_OP_EQ ? hit : !hit;

    case MC_OP_RE:
    case MC_OP_NRE:
        if (v == NULL) {
            return c->op == MC_OP_NRE;
        }

        s = mc_pstrndup(ctx->pool, v, len);
        if (s == NULL) {
            return 0;
        }

        hit = regexec(c->re, s, 0, NULL, 0) == 0;
        return c->op == MC_OP_RE ? hit : !hit;

    default:
        /* a missing or non-numeric value never satisfies a comparison */
        if (v == NULL || mc_number(v, len, &n) != MC_OK) {
            return 0;
        }

        switch (c->op) {
        case MC_OP_LT:
            return n < c->number;
        case MC_OP_LE:
            return n <= c->number;
        case MC_OP_GT:
            return n > c->number;
        default:
            return n >= c->number;
        }
    }
}


static const char *
mc_field_value(mc_cond_t *c, mc_route_ctx_t *ctx, size_t *len)
{
    mc_str_t               s;
    const char            *v;
    const mc_video_req_t  *req;

    req = ctx->req;
    v = NULL;

    if (c->is_var) {
        if (ctx->var == NULL || ctx->var(ctx->data, c, &s) != MC_OK) {
            return NULL;
        }

        *len = s.len;
        return s.data;
    }

    if (strcmp(c->field, "model") == 0) {
        v = req->model;

    } else if (strcmp(c->field, "tier") == 0) {
        v = req->tier;

    } else if (strcmp(c->field, "seconds") == 0) {
        v = req->seconds ? mc_psprintf(ctx->pool, "%d", req->seconds) : NULL;

    } else if (strcmp(c->field, "size") == 0) {
        v = req->size;

    } else if (strcmp(c->field, "resolution") == 0) {
        v = req->resolution ? mc_psprintf(ctx->pool, "%dp", req->resolution)
                            : NULL;

    } else if (strcmp(c->field, "aspect_ratio") == 0) {
        v = req->aspect_ratio;

    } else if (strcmp(c->field, "image") == 0) {
        v = req->image_url ? "yes" : "no";

    } else if (strcmp(c->field, "seed") == 0) {
        v = req->has_seed ? "yes" : "no";

    } else if (strcmp(c->field, "negative_prompt") == 0) {
        v = req->negative_prompt ? "yes" : "no";

    } else if (strcmp(c->field, "plan") == 0) {
        v = ctx->plan;

    } else if (strcmp(c->field, "account") == 0) {
        v = ctx->account;

    } else {
        v = mc_request_field(ctx->pool, req, c->field);
    }

    if (v) {
        *len = strlen(v);
    }

    return v;
}


static int
mc_number(const char *s, size_t len, int64_t *n)
{
    int   r;
    char  buf[16];

    if (mc_parse_int(s, len, n) == MC_OK) {
        return MC_OK;
    }

    if (len == 0 || len >= sizeof(buf)) {
        return MC_ERROR;
    }

    memcpy(buf, s, len);
    buf[len] = '\0';

    r = mc_resolution_parse(buf);
    if (r <= 0) {
        return MC_ERROR;
    }

    *n = r;
    return MC_OK;
}


/*
 * glibc's regcomp() copies a subexpression once per repetition, so
 * stacked quantifiers ("a+++"), interval expressions ("(a{99}){99}") and
 * deep nesting make it take time and memory exponential in the pattern;
 * a typo in nginx.conf must not do that to nginx -t.  Conditions need
 * none of them.
 */

static int
mc_regex_check(const char *re, char *err, size_t errlen)
{
    int          quant, nquant;
    const char  *p;

    if (strlen(re) > 256) {
        snprintf(err, errlen, "regular expression longer than 256 "
                 "characters");
        return MC_ERROR;
    }

    quant = 0;
    nquant = 0;

    for (p = re; *p; p++) {
        if (*p == '\\' && p[1]) {
            p++;
            quant = 0;
            continue;
        }

        if (*p == '{') {
            snprintf(err, errlen, "interval expressions {m,n} are not "
                     "supported in regular expressions of makeclip_route");
            return MC_ERROR;
        }

        if (*p == '*' || *p == '+' || *p == '?') {
            if (quant) {
                snprintf(err, errlen, "repeated quantifiers are not "
                         "supported in regular expressions of "
                         "makeclip_route");
                return MC_ERROR;
            }

            /* nested groups double the copies at each level: a bound on
             * the quantifiers bounds the whole */
            if (++nquant > 16) {
                snprintf(err, errlen, "more than 16 quantifiers in a "
                         "regular expression of makeclip_route");
                return MC_ERROR;
            }

            quant = 1;
            continue;
        }

        quant = 0;
    }

    return MC_OK;
}
