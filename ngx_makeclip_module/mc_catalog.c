
/*
 * The catalog: parsing of makeclip_provider, makeclip_model and
 * makeclip_plan arguments, and the lookups the request path needs.
 */

#include "mc_catalog.h"
#include "mc_adapter.h"

#include <stdio.h>
#include <stdlib.h>
#include <errno.h>
#include <ctype.h>
#include <fcntl.h>
#include <unistd.h>


#define MC_SECRET_MAX  8192


static int mc_split_kv(mc_pool_t *pool, const char *arg, char **key,
    char **value);
static char **mc_split_list(mc_pool_t *pool, const char *s, size_t *n);
static int mc_push(mc_pool_t *pool, void ***arr, size_t *n, void *item);
static char *mc_full_name(mc_catalog_t *cat, const char *name);
static int mc_parse_percent(const char *s, int *percent);
static int mc_parse_url(mc_provider_t *p, mc_pool_t *pool, const char *url,
    char *err, size_t errlen);


mc_catalog_t *
mc_catalog_create(void)
{
    mc_catalog_t  *cat;

    cat = calloc(1, sizeof(mc_catalog_t));
    if (cat == NULL) {
        return NULL;
    }

    cat->pool = mc_pool_create(16384);
    if (cat->pool == NULL) {
        free(cat);
        return NULL;
    }

    return cat;
}


void
mc_catalog_destroy(mc_catalog_t *cat)
{
    size_t  i;

    if (cat == NULL) {
        return;
    }

    /* adapters' per-process state (token caches) is malloc'd */
    for (i = 0; i < cat->nproviders; i++) {
        free(cat->providers[i]->state);
    }

    mc_pool_destroy(cat->pool);
    free(cat);
}


mc_provider_t *
mc_catalog_add_provider(mc_catalog_t *cat, char **argv, size_t argc,
    const char *where, char *err, size_t errlen)
{
    char                *k, *v, *key_file, *key_env, *secret_file;
    char                *secret_env, *url;
    size_t               i, j;
    mc_pool_t           *pool;
    mc_param_t          *prm;
    mc_provider_t       *p;
    const char *const   *names;

    pool = cat->pool;

    if (argc < 2) {
        snprintf(err, errlen, "a provider needs a name and adapter=");
        return NULL;
    }

    if (mc_catalog_provider(cat, argv[0])) {
        snprintf(err, errlen, "duplicate provider \"%s\"", argv[0]);
        return NULL;
    }

    p = mc_pcalloc(pool, sizeof(mc_provider_t));
    if (p == NULL) {
        goto nomem;
    }

    p->name = mc_pstrdup(pool, argv[0]);
    p->where = mc_pstrdup(pool, where);
    p->timeout = 60000;
    p->location = "/_makeclip/proxy";
    p->params = mc_pcalloc(pool, argc * sizeof(mc_param_t));

    if (p->name == NULL || p->where == NULL || p->params == NULL) {
        goto nomem;
    }

    key_file = key_env = secret_file = secret_env = url = NULL;

    for (i = 1; i < argc; i++) {
        if (mc_split_kv(pool, argv[i], &k, &v) != MC_OK) {
            snprintf(err, errlen, "invalid parameter \"%s\"", argv[i]);
            return NULL;
        }

        if (strcmp(k, "adapter") == 0) {
            p->adapter = mc_adapter_find(v);
            if (p->adapter == NULL) {
                snprintf(err, errlen, "unknown adapter \"%s\"", v);
                return NULL;
            }

        } else if (strcmp(k, "url") == 0) {
            url = v;

        } else if (strcmp(k, "upstream") == 0) {
            p->upstream = mc_pstrdup(pool, v);

        } else if (strcmp(k, "key_file") == 0) {
            key_file = v;

        } else if (strcmp(k, "key_env") == 0) {
            key_env = v;

        } else if (strcmp(k, "secret_file") == 0) {
            secret_file = v;

        } else if (strcmp(k, "secret_env") == 0) {
            secret_env = v;

        } else if (strcmp(k, "timeout") == 0) {
            if (mc_parse_duration(v, &p->timeout) != MC_OK
                || p->timeout <= 0)
            {
                snprintf(err, errlen, "invalid timeout \"%s\"", v);
                return NULL;
            }

        } else if (strcmp(k, "location") == 0) {
            if (v[0] != '/') {
                snprintf(err, errlen, "location \"%s\" must start with /",
                         v);
                return NULL;
            }
            p->location = mc_pstrdup(pool, v);

        } else {
            prm = &p->params[p->nparams++];
            prm->name = mc_pstrdup(pool, k);
            prm->value = mc_pstrdup(pool, v);
        }
    }

    if (p->adapter == NULL) {
        snprintf(err, errlen, "provider \"%s\" has no adapter=", p->name);
        return NULL;
    }

    for (i = 0; i < p->nparams; i++) {
        names = p->adapter->params;

        for (j = 0; names && names[j]; j++) {
            if (strcmp(names[j], p->params[i].name) == 0) {
                break;
            }
        }

        if (names == NULL || names[j] == NULL) {
            snprintf(err, errlen, "invalid parameter \"%s\" for adapter "
                     "\"%s\"", p->params[i].name, p->adapter->name);
            return NULL;
        }
    }

    if (url) {
        if (mc_parse_url(p, pool, url, err, errlen) != MC_OK) {
            return NULL;
        }

        p->proxy_base = p->base_url;

        if (p->upstream) {
            /* scheme://upstream/prefix: connect to the group, keep the
             * path prefix of url= */
            v = strstr(p->base_url, "://") + 3;
            p->proxy_base = mc_psprintf(pool, "%.*s%s%s",
                                        (int) (v - p->base_url), p->base_url,
                                        p->upstream, v + strlen(p->host));
            if (p->proxy_base == NULL) {
                goto nomem;
            }
        }

    } else if (p->upstream) {
        snprintf(err, errlen, "upstream= needs url= for the host name");
        return NULL;

    } else if (!(p->adapter->features & MC_FEAT_LOCAL)) {
        snprintf(err, errlen, "provider \"%s\" needs url=", p->name);
        return NULL;
    }

    if (key_file && key_env) {
        snprintf(err, errlen, "key_file= and key_env= are exclusive");
        return NULL;
    }

    if (key_file) {
        p->key = mc_read_secret_file(pool, mc_full_name(cat, key_file),
                                     err, errlen);
        if (p->key == NULL) {
            return NULL;
        }

    } else if (key_env) {
        /* read from the master's environment while the config is parsed */
        v = getenv(key_env);
        if (v == NULL || *v == '\0') {
            snprintf(err, errlen, "environment variable \"%s\" is not set",
                     key_env);
            return NULL;
        }
        p->key = mc_pstrdup(pool, v);
    }

    if (secret_file && secret_env) {
        snprintf(err, errlen, "secret_file= and secret_env= are exclusive");
        return NULL;
    }

    if (secret_file) {
        p->secret = mc_read_secret_file(pool,
                                        mc_full_name(cat, secret_file),
                                        err, errlen);
        if (p->secret == NULL) {
            return NULL;
        }

    } else if (secret_env) {
        v = getenv(secret_env);
        if (v == NULL || *v == '\0') {
            snprintf(err, errlen, "environment variable \"%s\" is not set",
                     secret_env);
            return NULL;
        }
        p->secret = mc_pstrdup(pool, v);
    }

    /* an adapter's init may narrow what this provider can do (an
     * endpoint without seeds) */
    p->features = p->adapter->features;

    if (p->adapter->init_provider
        && p->adapter->init_provider(p, pool, err, errlen) != MC_OK)
    {
        return NULL;
    }

    if (mc_push(pool, (void ***) &cat->providers, &cat->nproviders, p)
        != MC_OK)
    {
        goto nomem;
    }

    return p;

nomem:

    snprintf(err, errlen, "out of memory");
    return NULL;
}


static int
mc_parse_url(mc_provider_t *p, mc_pool_t *pool, const char *url, char *err,
    size_t errlen)
{
    size_t       len;
    const char  *host, *end;

    if (mc_str_has_prefix(url, "http://")) {
        host = url + 7;

    } else if (mc_str_has_prefix(url, "https://")) {
        host = url + 8;

    } else {
        snprintf(err, errlen, "url \"%s\" must start with http:// or "
                 "https://", url);
        return MC_ERROR;
    }

    end = host + strcspn(host, "/?#");

    if (end == host || *end == '?' || *end == '#') {
        snprintf(err, errlen, "invalid url \"%s\"", url);
        return MC_ERROR;
    }

    len = strlen(url);

    /* a trailing slash would double up with the adapters' paths */
    while (len && url[len - 1] == '/') {
        len--;
    }

    p->base_url = mc_pstrndup(pool, url, len);
    p->host = mc_pstrndup(pool, host, (size_t) (end - host));

    if (p->base_url == NULL || p->host == NULL) {
        snprintf(err, errlen, "out of memory");
        return MC_ERROR;
    }

    return MC_OK;
}


mc_model_t *
mc_catalog_add_model(mc_catalog_t *cat, char **argv, size_t argc,
    const char *where, char *err, size_t errlen)
{
    int             have_price;
    char           *k, *v, **items, *colon;
    size_t          i, j, n, len;
    int64_t         num;
    mc_pool_t      *pool;
    mc_model_t     *m;
    mc_res_price_t *rp;

    pool = cat->pool;

    if (argc < 2) {
        snprintf(err, errlen, "a model needs a name and price=");
        return NULL;
    }

    if (mc_catalog_model(cat, argv[0])) {
        snprintf(err, errlen, "duplicate model \"%s\"", argv[0]);
        return NULL;
    }

    m = mc_pcalloc(pool, sizeof(mc_model_t));
    if (m == NULL) {
        goto nomem;
    }

    m->name = mc_pstrdup(pool, argv[0]);
    m->where = mc_pstrdup(pool, where);
    m->max_seconds = MC_SECONDS_DEFAULT_MAX;
    have_price = 0;

    for (i = 1; i < argc; i++) {
        if (mc_split_kv(pool, argv[i], &k, &v) != MC_OK) {
            snprintf(err, errlen, "invalid parameter \"%s\"", argv[i]);
            return NULL;
        }

        if (strcmp(k, "price") == 0) {
            if (mc_parse_int(v, strlen(v), &m->price) != MC_OK) {
                snprintf(err, errlen, "invalid price \"%s\": credits per "
                         "second, a whole number", v);
                return NULL;
            }
            have_price = 1;

        } else if (strcmp(k, "to") == 0) {
            items = mc_split_list(pool, v, &n);
            if (items == NULL || n == 0) {
                snprintf(err, errlen, "invalid to=\"%s\"", v);
                return NULL;
            }

            m->targets = mc_pcalloc(pool, n * sizeof(mc_target_t));
            if (m->targets == NULL) {
                goto nomem;
            }

            for (j = 0; j < n; j++) {
                if (mc_target_parse(pool, items[j], strlen(items[j]),
                                    &m->targets[j], err, errlen)
                    != MC_OK)
                {
                    return NULL;
                }
            }

            m->ntargets = n;

        } else if (strcmp(k, "seconds") == 0) {
            items = mc_split_list(pool, v, &n);
            if (items == NULL || n == 0) {
                snprintf(err, errlen, "invalid seconds=\"%s\"", v);
                return NULL;
            }

            m->seconds = mc_palloc(pool, n * sizeof(int));
            if (m->seconds == NULL) {
                goto nomem;
            }

            for (j = 0; j < n; j++) {
                if (mc_parse_int(items[j], strlen(items[j]), &num) != MC_OK
                    || num < 1 || num > MC_SECONDS_MAX)
                {
                    snprintf(err, errlen, "invalid duration \"%s\" in "
                             "seconds=", items[j]);
                    return NULL;
                }
                m->seconds[j] = (int) num;
            }

            m->nseconds = n;

        } else if (strcmp(k, "default_seconds") == 0) {
            if (mc_parse_int(v, strlen(v), &num) != MC_OK || num < 1
                || num > MC_SECONDS_MAX)
            {
                snprintf(err, errlen, "invalid default_seconds \"%s\"", v);
                return NULL;
            }
            m->default_seconds = (int) num;

        } else if (strcmp(k, "max_seconds") == 0) {
            if (mc_parse_int(v, strlen(v), &num) != MC_OK || num < 1
                || num > MC_SECONDS_MAX)
            {
                snprintf(err, errlen, "invalid max_seconds \"%s\"", v);
                return NULL;
            }
            m->max_seconds = (int) num;

        } else if (strcmp(k, "seconds_policy") == 0) {
            if (strcmp(v, "nearest") == 0) {
                m->seconds_nearest = 1;

            } else if (strcmp(v, "reject") == 0) {
                m->seconds_nearest = 0;

            } else {
                snprintf(err, errlen, "invalid seconds_policy \"%s\": "
                         "\"reject\" or \"nearest\"", v);
                return NULL;
            }

        } else if (strcmp(k, "sizes") == 0) {
            m->sizes = mc_split_list(pool, v, &m->nsizes);
            if (m->sizes == NULL || m->nsizes == 0) {
                snprintf(err, errlen, "invalid sizes=\"%s\"", v);
                return NULL;
            }

            for (j = 0; j < m->nsizes; j++) {
                len = strspn(m->sizes[j], "0123456789");
                if (len == 0 || m->sizes[j][len] != 'x'
                    || strspn(m->sizes[j] + len + 1, "0123456789")
                       != strlen(m->sizes[j] + len + 1)
                    || m->sizes[j][len + 1] == '\0')
                {
                    snprintf(err, errlen, "invalid size \"%s\": WIDTHxHEIGHT",
                             m->sizes[j]);
                    return NULL;
                }
            }

        } else if (strcmp(k, "default_size") == 0) {
            m->default_size = mc_pstrdup(pool, v);

        } else if (strcmp(k, "resolutions") == 0) {
            items = mc_split_list(pool, v, &n);
            if (items == NULL || n == 0) {
                snprintf(err, errlen, "invalid resolutions=\"%s\"", v);
                return NULL;
            }

            m->res = mc_pcalloc(pool, n * sizeof(mc_res_price_t));
            if (m->res == NULL) {
                goto nomem;
            }

            for (j = 0; j < n; j++) {
                rp = &m->res[j];
                colon = strchr(items[j], ':');

                if (colon) {
                    *colon++ = '\0';
                    if (mc_parse_percent(colon, &rp->percent) != MC_OK) {
                        snprintf(err, errlen, "invalid multiplier \"%s\" "
                                 "in resolutions=", colon);
                        return NULL;
                    }

                } else {
                    rp->percent = 100;
                }

                rp->short_side = mc_resolution_parse(items[j]);
                if (rp->short_side <= 0) {
                    snprintf(err, errlen, "invalid resolution \"%s\", "
                             "e.g. 720p, 1080p, 4k", items[j]);
                    return NULL;
                }

                rp->name = items[j];
            }

            m->nres = n;

        } else {
            snprintf(err, errlen, "invalid parameter \"%s\"", argv[i]);
            return NULL;
        }
    }

    if (!have_price) {
        snprintf(err, errlen, "model \"%s\" has no price=", m->name);
        return NULL;
    }

    if (m->default_seconds && m->nseconds) {
        for (j = 0; j < m->nseconds; j++) {
            if (m->seconds[j] == m->default_seconds) {
                break;
            }
        }

        if (j == m->nseconds) {
            snprintf(err, errlen, "default_seconds=%d is not in seconds=",
                     m->default_seconds);
            return NULL;
        }
    }

    if (m->default_seconds == 0) {
        m->default_seconds = m->nseconds ? m->seconds[0] : 4;
    }

    if (m->default_size && m->nsizes) {
        for (j = 0; j < m->nsizes; j++) {
            if (strcmp(m->sizes[j], m->default_size) == 0) {
                break;
            }
        }

        if (j == m->nsizes) {
            snprintf(err, errlen, "default_size=%s is not in sizes=",
                     m->default_size);
            return NULL;
        }
    }

    if (m->default_size == NULL) {
        m->default_size = m->nsizes ? m->sizes[0] : "1280x720";
    }

    if (mc_push(pool, (void ***) &cat->models, &cat->nmodels, m) != MC_OK) {
        goto nomem;
    }

    return m;

nomem:

    snprintf(err, errlen, "out of memory");
    return NULL;
}


mc_plan_t *
mc_catalog_add_plan(mc_catalog_t *cat, char **argv, size_t argc,
    const char *where, char *err, size_t errlen)
{
    char       *k, *v;
    size_t      i;
    int64_t     num;
    mc_pool_t  *pool;
    mc_plan_t  *plan;

    if (argc < 1) {
        snprintf(err, errlen, "a plan needs a name");
        return NULL;
    }

    if (mc_catalog_plan(cat, argv[0])) {
        snprintf(err, errlen, "duplicate plan \"%s\"", argv[0]);
        return NULL;
    }

    pool = cat->pool;

    plan = mc_pcalloc(pool, sizeof(mc_plan_t));
    if (plan == NULL) {
        goto nomem;
    }

    plan->name = mc_pstrdup(cat->pool, argv[0]);
    plan->where = mc_pstrdup(cat->pool, where);

    for (i = 1; i < argc; i++) {
        if (mc_split_kv(pool, argv[i], &k, &v) != MC_OK) {
            snprintf(err, errlen, "invalid parameter \"%s\"", argv[i]);
            return NULL;
        }

        if (strcmp(k, "models") == 0) {
            plan->models = mc_split_list(cat->pool, v, &plan->nmodels);
            if (plan->models == NULL || plan->nmodels == 0) {
                snprintf(err, errlen, "invalid models=\"%s\"", v);
                return NULL;
            }

        } else if (strcmp(k, "max_seconds") == 0) {
            if (mc_parse_int(v, strlen(v), &num) != MC_OK || num < 1
                || num > MC_SECONDS_MAX)
            {
                snprintf(err, errlen, "invalid max_seconds \"%s\"", v);
                return NULL;
            }
            plan->max_seconds = (int) num;

        } else if (strcmp(k, "max_resolution") == 0) {
            plan->max_resolution = mc_resolution_parse(v);
            if (plan->max_resolution <= 0) {
                snprintf(err, errlen, "invalid max_resolution \"%s\", "
                         "e.g. 720p, 1080p, 4k", v);
                return NULL;
            }

        } else if (strcmp(k, "max_active") == 0) {
            if (mc_parse_int(v, strlen(v), &num) != MC_OK || num < 1
                || num > 1000000)
            {
                snprintf(err, errlen, "invalid max_active \"%s\"", v);
                return NULL;
            }
            plan->max_active = (int) num;

        } else {
            snprintf(err, errlen, "invalid parameter \"%s\"", argv[i]);
            return NULL;
        }
    }

    if (plan->models == NULL) {
        plan->models = mc_split_list(cat->pool, "*", &plan->nmodels);
        if (plan->models == NULL) {
            goto nomem;
        }
    }

    if (mc_push(cat->pool, (void ***) &cat->plans, &cat->nplans, plan)
        != MC_OK)
    {
        goto nomem;
    }

    return plan;

nomem:

    snprintf(err, errlen, "out of memory");
    return NULL;
}


int
mc_catalog_finalize(mc_catalog_t *cat, char *err, size_t errlen)
{
    size_t       i, j, k;
    char         msg[256];
    mc_model_t  *m;
    mc_plan_t   *plan;

    for (i = 0; i < cat->nmodels; i++) {
        m = cat->models[i];

        if (mc_targets_resolve(cat, m->targets, m->ntargets, msg,
                               sizeof(msg))
            != MC_OK)
        {
            snprintf(err, errlen, "%s in %s", msg, m->where);
            return MC_ERROR;
        }
    }

    for (i = 0; i < cat->nplans; i++) {
        plan = cat->plans[i];

        for (j = 0; j < plan->nmodels; j++) {
            if (strchr(plan->models[j], '*')) {
                continue;
            }

            for (k = 0; k < cat->nmodels; k++) {
                if (strcmp(cat->models[k]->name, plan->models[j]) == 0) {
                    break;
                }
            }

            if (k == cat->nmodels) {
                snprintf(err, errlen, "unknown model \"%s\" in plan \"%s\" "
                         "in %s", plan->models[j], plan->name, plan->where);
                return MC_ERROR;
            }
        }
    }

    return MC_OK;
}


int
mc_target_parse(mc_pool_t *pool, const char *s, size_t len, mc_target_t *t,
    char *err, size_t errlen)
{
    const char  *colon;

    memset(t, 0, sizeof(mc_target_t));
    t->weight = 1;

    colon = memchr(s, ':', len);

    if (colon == s || len == 0 || (colon && colon + 1 == s + len)) {
        snprintf(err, errlen, "invalid target \"%.*s\": provider:model",
                 (int) len, s);
        return MC_ERROR;
    }

    if (colon) {
        t->provider_name = mc_pstrndup(pool, s, (size_t) (colon - s));
        t->model_id = mc_pstrndup(pool, colon + 1,
                                  (size_t) (s + len - colon - 1));

    } else {
        t->provider_name = mc_pstrndup(pool, s, len);
        t->model_id = NULL;
    }

    if (t->provider_name == NULL || (colon && t->model_id == NULL)) {
        snprintf(err, errlen, "out of memory");
        return MC_ERROR;
    }

    return MC_OK;
}


int
mc_targets_resolve(mc_catalog_t *cat, mc_target_t *t, size_t n, char *err,
    size_t errlen)
{
    size_t  i;

    for (i = 0; i < n; i++) {
        if (t[i].provider) {
            continue;
        }

        t[i].provider = mc_catalog_provider(cat, t[i].provider_name);

        if (t[i].provider == NULL) {
            snprintf(err, errlen, "unknown provider \"%s\"",
                     t[i].provider_name);
            return MC_ERROR;
        }
    }

    return MC_OK;
}


mc_provider_t *
mc_catalog_provider(mc_catalog_t *cat, const char *name)
{
    size_t  i;

    for (i = 0; i < cat->nproviders; i++) {
        if (strcmp(cat->providers[i]->name, name) == 0) {
            return cat->providers[i];
        }
    }

    return NULL;
}


mc_model_t *
mc_catalog_model(mc_catalog_t *cat, const char *name)
{
    size_t  i;

    for (i = 0; i < cat->nmodels; i++) {
        if (strcmp(cat->models[i]->name, name) == 0) {
            return cat->models[i];
        }
    }

    return NULL;
}


mc_plan_t *
mc_catalog_plan(mc_catalog_t *cat, const char *name)
{
    size_t  i;

    for (i = 0; i < cat->nplans; i++) {
        if (strcmp(cat->plans[i]->name, name) == 0) {
            return cat->plans[i];
        }
    }

    return NULL;
}


const char *
mc_provider_param(mc_provider_t *p, const char *name)
{
    size_t  i;

    for (i = 0; i < p->nparams; i++) {
        if (strcmp(p->params[i].name, name) == 0) {
            return p->params[i].value;
        }
    }

    return NULL;
}


int
mc_plan_allows_model(mc_plan_t *plan, const char *model)
{
    size_t  i;

    for (i = 0; i < plan->nmodels; i++) {
        if (mc_wildcard_match(plan->models[i], model)) {
            return 1;
        }
    }

    return 0;
}


int
mc_resolution_parse(const char *s)
{
    size_t   len;
    int64_t  n;

    len = strlen(s);

    if (len == 2 && (s[0] == '4' || s[0] == '8')
        && (s[1] == 'k' || s[1] == 'K'))
    {
        return s[0] == '4' ? 2160 : 4320;
    }

    if (len < 2 || (s[len - 1] != 'p' && s[len - 1] != 'P')) {
        return -1;
    }

    if (mc_parse_int(s, len - 1, &n) != MC_OK || n < 100 || n > 10000) {
        return -1;
    }

    return (int) n;
}


const char *
mc_resolution_name(int short_side)
{
    static char  buf[16];

    switch (short_side) {
    case 2160:
        return "4k";
    case 4320:
        return "8k";
    default:
        snprintf(buf, sizeof(buf), "%dp", short_side);
        return buf;
    }
}


int64_t
mc_model_price(mc_model_t *m, int seconds, int short_side)
{
    size_t   i;
    int      percent, best;
    int64_t  cents;

    percent = 100;
    best = 0;

    /*
     * the multiplier of the smallest configured resolution that covers the
     * requested one; above all of them, the largest
     */
    for (i = 0; i < m->nres; i++) {
        if (m->res[i].short_side >= short_side
            && (best == 0 || m->res[i].short_side < best))
        {
            best = m->res[i].short_side;
            percent = m->res[i].percent;
        }
    }

    if (best == 0) {
        for (i = 0; i < m->nres; i++) {
            if (m->res[i].short_side > best) {
                best = m->res[i].short_side;
                percent = m->res[i].percent;
            }
        }
    }

    cents = m->price * (int64_t) seconds * percent;

    return (cents + 99) / 100;
}


int
mc_parse_duration(const char *s, mc_msec_t *ms)
{
    size_t   len, digits;
    int64_t  n, unit;

    len = strlen(s);
    digits = strspn(s, "0123456789");

    if (digits == 0 || mc_parse_int(s, digits, &n) != MC_OK) {
        return MC_ERROR;
    }

    s += digits;
    len -= digits;

    if (len == 0 || strcmp(s, "s") == 0) {
        unit = 1000;

    } else if (strcmp(s, "ms") == 0) {
        unit = 1;

    } else if (strcmp(s, "m") == 0) {
        unit = 60000;

    } else if (strcmp(s, "h") == 0) {
        unit = 3600000;

    } else if (strcmp(s, "d") == 0) {
        unit = 86400000;

    } else {
        return MC_ERROR;
    }

    /* a year is enough for any timeout; more is a typo, not a wish */
    if (n > (int64_t) 366 * 86400000 / unit) {
        return MC_ERROR;
    }

    *ms = n * unit;
    return MC_OK;
}


int
mc_parse_size(const char *s, size_t *size)
{
    size_t   digits;
    int64_t  n, unit;

    digits = strspn(s, "0123456789");

    if (digits == 0 || mc_parse_int(s, digits, &n) != MC_OK) {
        return MC_ERROR;
    }

    s += digits;

    if (*s == '\0') {
        unit = 1;

    } else if (strcmp(s, "k") == 0 || strcmp(s, "K") == 0) {
        unit = 1024;

    } else if (strcmp(s, "m") == 0 || strcmp(s, "M") == 0) {
        unit = 1024 * 1024;

    } else if (strcmp(s, "g") == 0 || strcmp(s, "G") == 0) {
        unit = 1024 * 1024 * 1024;

    } else {
        return MC_ERROR;
    }

    if (n > ((int64_t) 1 << 50) / unit) {
        return MC_ERROR;
    }

    *size = (size_t) (n * unit);
    return MC_OK;
}


char *
mc_read_secret_file(mc_pool_t *pool, const char *path, char *err,
    size_t errlen)
{
    int      fd;
    char     buf[MC_SECRET_MAX];
    ssize_t  n, total;

    if (path == NULL) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }

    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd == -1) {
        snprintf(err, errlen, "cannot open key file \"%s\": %s", path,
                 strerror(errno));
        return NULL;
    }

    total = 0;

    for ( ;; ) {
        n = read(fd, buf + total, sizeof(buf) - 1 - (size_t) total);
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            snprintf(err, errlen, "cannot read key file \"%s\": %s", path,
                     strerror(errno));
            close(fd);
            return NULL;
        }

        if (n == 0) {
            break;
        }

        total += n;

        if ((size_t) total >= sizeof(buf) - 1) {
            snprintf(err, errlen, "key file \"%s\" is too large", path);
            close(fd);
            return NULL;
        }
    }

    close(fd);

    while (total > 0 && isspace((unsigned char) buf[total - 1])) {
        total--;
    }

    if (total == 0) {
        snprintf(err, errlen, "key file \"%s\" is empty", path);
        return NULL;
    }

    if (memchr(buf, '\n', (size_t) total) || memchr(buf, '\0', (size_t) total))
    {
        snprintf(err, errlen, "key file \"%s\" must hold one line", path);
        return NULL;
    }

    return mc_pstrndup(pool, buf, (size_t) total);
}


static int
mc_split_kv(mc_pool_t *pool, const char *arg, char **key, char **value)
{
    char  *copy, *eq;

    /* split a copy: the caller keeps the whole argument for messages */
    copy = mc_pstrdup(pool, arg);
    if (copy == NULL) {
        return MC_ERROR;
    }

    eq = strchr(copy, '=');

    if (eq == NULL || eq == copy || eq[1] == '\0') {
        return MC_ERROR;
    }

    *eq = '\0';
    *key = copy;
    *value = eq + 1;

    return MC_OK;
}


static char **
mc_split_list(mc_pool_t *pool, const char *s, size_t *n)
{
    char        **items;
    size_t        count, i, len;
    const char   *p, *comma;

    count = 1;

    for (p = s; *p; p++) {
        if (*p == ',') {
            count++;
        }
    }

    items = mc_palloc(pool, count * sizeof(char *));
    if (items == NULL) {
        return NULL;
    }

    p = s;

    for (i = 0; i < count; i++) {
        comma = strchr(p, ',');
        len = comma ? (size_t) (comma - p) : strlen(p);

        if (len == 0) {
            return NULL;
        }

        items[i] = mc_pstrndup(pool, p, len);
        if (items[i] == NULL) {
            return NULL;
        }

        p += len + 1;
    }

    *n = count;
    return items;
}


static int
mc_push(mc_pool_t *pool, void ***arr, size_t *n, void *item)
{
    void  **a;

    /* config-time only, so a copy per push is fine */
    a = mc_palloc(pool, (*n + 1) * sizeof(void *));
    if (a == NULL) {
        return MC_ERROR;
    }

    if (*n) {
        memcpy(a, *arr, *n * sizeof(void *));
    }

    a[(*n)++] = item;
    *arr = a;
    return MC_OK;
}


static char *
mc_full_name(mc_catalog_t *cat, const char *name)
{
    if (name[0] == '/' || cat->conf_prefix == NULL) {
        return mc_pstrdup(cat->pool, name);
    }

    return mc_psprintf(cat->pool, "%s%s", cat->conf_prefix, name);
}


static int
mc_parse_percent(const char *s, int *percent)
{
    size_t       digits, frac;
    int64_t      whole, part;
    const char  *dot;

    /* "1.5" -> 150, "2" -> 200, "0.75" -> 75: exact, no floating point */
    digits = strspn(s, "0123456789");

    if (digits == 0 || mc_parse_int(s, digits, &whole) != MC_OK
        || whole > 1000)
    {
        return MC_ERROR;
    }

    dot = s + digits;
    part = 0;

    if (*dot == '.') {
        frac = strlen(dot + 1);

        if (frac == 0 || frac > 2
            || mc_parse_int(dot + 1, frac, &part) != MC_OK)
        {
            return MC_ERROR;
        }

        if (frac == 1) {
            part *= 10;
        }

    } else if (*dot != '\0') {
        return MC_ERROR;
    }

    *percent = (int) (whole * 100 + part);

    return *percent > 0 ? MC_OK : MC_ERROR;
}
