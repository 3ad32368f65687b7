
/*
 * Routing: makeclip_route rules, evaluated in order, first match wins.
 *
 *     makeclip_route model=veo-3* seconds>6 $http_x_region=eu
 *                    to=google:veo-3.1-generate-preview,runway:veo3.1;
 *
 * A condition is a field, an operator and a value: = and != (values
 * separated by |, '*' wildcards), ~ and !~ (POSIX extended regex), and
 * < <= > >= on numbers (resolutions such as 1080p count as numbers).
 * Fields are the request's (model, tier, seconds, size, resolution,
 * aspect_ratio, image, seed, negative_prompt, any other plain top-level
 * field), the caller's (plan, account) and nginx variables ($name).
 */

#ifndef _MC_ROUTE_H_INCLUDED_
#define _MC_ROUTE_H_INCLUDED_


#include <regex.h>

#include "mc_core.h"
#include "mc_catalog.h"
#include "mc_request.h"


typedef enum {
    MC_OP_EQ = 0,
    MC_OP_NE,
    MC_OP_RE,
    MC_OP_NRE,
    MC_OP_LT,
    MC_OP_LE,
    MC_OP_GT,
    MC_OP_GE
} mc_route_op_e;


typedef struct {
    char            *field;         /* "model", "$http_x_region", ... */
    int              is_var;
    intptr_t         var_index;     /* set by the glue for $variables */
    mc_route_op_e    op;
    char           **values;        /* alternatives for = and != */
    size_t           nvalues;
    int64_t          number;        /* for < <= > >= */
    regex_t         *re;
} mc_cond_t;


typedef struct {
    mc_cond_t       *conds;
    size_t           nconds;
    mc_target_t     *targets;
    size_t           ntargets;
    char            *where;
} mc_rule_t;


typedef struct {
    mc_pool_t       *pool;
    mc_rule_t      **rules;
    size_t           nrules;
} mc_routes_t;


typedef int (*mc_route_var_pt)(void *data, const mc_cond_t *c,
    mc_str_t *value);

typedef struct {
    mc_pool_t              *pool;
    const mc_video_req_t   *req;
    const char             *plan;
    const char             *account;
    mc_route_var_pt         var;
    void                   *data;
} mc_route_ctx_t;


mc_routes_t *mc_routes_create(void);
void mc_routes_destroy(mc_routes_t *routes);

mc_rule_t *mc_routes_add(mc_routes_t *routes, char **argv, size_t argc,
    const char *where, char *err, size_t errlen);
int mc_routes_resolve(mc_routes_t *routes, mc_catalog_t *cat, char *err,
    size_t errlen);

/* the first matching rule, or NULL */
mc_rule_t *mc_route_match(mc_routes_t *routes, mc_route_ctx_t *ctx);

/*
 * The ordered targets for a request: the first matching rule's, else the
 * model's own.  *n == 0 when there are none.
 */
mc_target_t *mc_route_targets(mc_routes_t *routes, mc_route_ctx_t *ctx,
    size_t *n);


#endif /* _MC_ROUTE_H_INCLUDED_ */
