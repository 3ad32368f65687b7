
/*
 * The catalog: providers, public models with their prices, and plans, as
 * the operator declares them in nginx.conf.  Directive arguments are
 * parsed here, not in the glue, so nginx -t and the unit tests exercise
 * the same code.
 */

#ifndef _MC_CATALOG_H_INCLUDED_
#define _MC_CATALOG_H_INCLUDED_


#include "mc_core.h"


typedef struct mc_adapter_s  mc_adapter_t;


typedef struct {
    char                *name;
    char                *value;
} mc_param_t;


typedef struct {
    char                *name;
    const mc_adapter_t  *adapter;

    char                *base_url;      /* scheme://host[:port][/prefix] */
    char                *host;          /* Host header and TLS name */
    char                *upstream;      /* nginx upstream{} name, or NULL */
    char                *proxy_base;    /* base_url with the upstream's
                                           name for the host, or base_url */

    /* secrets: never logged, never rendered into a client response */
    char                *key;
    char                *secret;

    mc_msec_t            timeout;
    char                *location;      /* internal proxy location */
    unsigned             features;      /* MC_FEAT_*: the adapter's, as
                                           its init narrowed them */

    mc_param_t          *params;        /* adapter-specific key=value */
    size_t               nparams;

    void                *conf;          /* adapter's parsed params */
    void                *state;         /* adapter's per-process state */

    char                *where;         /* "file:line" of its directive */
} mc_provider_t;


typedef struct {
    mc_provider_t       *provider;
    char                *model_id;      /* the provider's own model name */
    char                *provider_name; /* until resolved at finalize */
    unsigned             weight;
} mc_target_t;


typedef struct {
    char                *name;          /* "1080p" */
    int                  short_side;    /* 1080 */
    int                  percent;       /* price multiplier, 150 = 1.5x */
} mc_res_price_t;


typedef struct {
    char                *name;
    int64_t              price;         /* credits per second of output */

    mc_res_price_t      *res;
    size_t               nres;

    int                 *seconds;       /* allowed durations, none = any */
    size_t               nseconds;
    int                  default_seconds;
    int                  max_seconds;
    unsigned             seconds_nearest:1;

    char               **sizes;         /* allowed "WxH", none = any */
    size_t               nsizes;
    char                *default_size;

    mc_target_t         *targets;       /* route when no rule matches */
    size_t               ntargets;

    char                *where;
} mc_model_t;


typedef struct {
    char                *name;
    char               **models;        /* patterns with '*' */
    size_t               nmodels;
    int                  max_seconds;   /* 0: no limit */
    int                  max_resolution;/* short side in pixels, 0: none */
    int                  max_active;    /* concurrent tasks, 0: no limit */
    char                *where;
} mc_plan_t;


typedef struct {
    mc_pool_t           *pool;
    char                *conf_prefix;   /* relative file names start here */

    mc_provider_t      **providers;
    size_t               nproviders;

    mc_model_t         **models;
    size_t               nmodels;

    mc_plan_t          **plans;
    size_t               nplans;
} mc_catalog_t;


mc_catalog_t *mc_catalog_create(void);
void mc_catalog_destroy(mc_catalog_t *cat);

/*
 * Each takes a directive's arguments (argv[0] is the first argument, not
 * the directive name) and "file:line" for later messages; on failure it
 * writes a message for nginx -t into err.
 */
mc_provider_t *mc_catalog_add_provider(mc_catalog_t *cat, char **argv,
    size_t argc, const char *where, char *err, size_t errlen);
mc_model_t *mc_catalog_add_model(mc_catalog_t *cat, char **argv,
    size_t argc, const char *where, char *err, size_t errlen);
mc_plan_t *mc_catalog_add_plan(mc_catalog_t *cat, char **argv, size_t argc,
    const char *where, char *err, size_t errlen);

/* resolves names across directives once all are read */
int mc_catalog_finalize(mc_catalog_t *cat, char *err, size_t errlen);

mc_provider_t *mc_catalog_provider(mc_catalog_t *cat, const char *name);
mc_model_t *mc_catalog_model(mc_catalog_t *cat, const char *name);
mc_plan_t *mc_catalog_plan(mc_catalog_t *cat, const char *name);

const char *mc_provider_param(mc_provider_t *p, const char *name);

/* "provider:model_id" or "provider" */
int mc_target_parse(mc_pool_t *pool, const char *s, size_t len,
    mc_target_t *t, char *err, size_t errlen);
int mc_targets_resolve(mc_catalog_t *cat, mc_target_t *t, size_t n,
    char *err, size_t errlen);

int mc_plan_allows_model(mc_plan_t *plan, const char *model);

/* "1080p" -> 1080, "4k" -> 2160; -1 when not a resolution */
int mc_resolution_parse(const char *s);
/* 1080 -> "1080p", 2160 -> "4k" (static storage) */
const char *mc_resolution_name(int short_side);

/* credits for a job: price * seconds * multiplier, rounded up */
int64_t mc_model_price(mc_model_t *m, int seconds, int short_side);

/* "60s", "500ms", "2m", "1h", bare numbers are seconds */
int mc_parse_duration(const char *s, mc_msec_t *ms);
/* "64m", "1g", "4096" (bytes) */
int mc_parse_size(const char *s, size_t *size);

/* reads a one-line secret, trailing whitespace removed */
char *mc_read_secret_file(mc_pool_t *pool, const char *path, char *err,
    size_t errlen);


#endif /* _MC_CATALOG_H_INCLUDED_ */
