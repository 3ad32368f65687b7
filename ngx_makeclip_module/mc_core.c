
/*
 * makeclip core: memory, buffers, errors and small helpers.
 */

#include "mc_core.h"

#include <stdio.h>
#include <stdlib.h>
#include <errno.h>
#include <time.h>
#include <strings.h>
#include <sys/random.h>


struct mc_pool_block_s {
    mc_pool_block_t  *next;
    size_t            size;
    size_t            used;
    /* data follows, aligned */
};


#define MC_ALIGN(n)  (((n) + 15) & ~(size_t) 15)
#define MC_BLOCK_HDR MC_ALIGN(sizeof(mc_pool_block_t))


mc_pool_t *
mc_pool_create(size_t block_size)
{
    mc_pool_t  *pool;

    pool = calloc(1, sizeof(mc_pool_t));
    if (pool == NULL) {
        return NULL;
    }

    pool->block_size = block_size ? block_size : 4096;
    return pool;
}


void
mc_pool_destroy(mc_pool_t *pool)
{
    mc_pool_block_t  *b, *next;

    if (pool == NULL) {
        return;
    }

    for (b = pool->blocks; b; b = next) {
        next = b->next;
        free(b);
    }

    free(pool);
}


void *
mc_palloc(mc_pool_t *pool, size_t size)
{
    size_t            need, bsize;
    mc_pool_block_t  *b;

    need = MC_ALIGN(size ? size : 1);
    b = pool->blocks;

    if (b == NULL || b->size - b->used < need) {
        bsize = need > pool->block_size ? need : pool->block_size;

        b = malloc(MC_BLOCK_HDR + bsize);
        if (b == NULL) {
            return NULL;
        }

        b->size = bsize;
        b->used = 0;

        /*
         * an oversized block goes behind the current one so the space left
         * in the current block stays usable for small allocations
         */
        if (need > pool->block_size && pool->blocks) {
            b->next = pool->blocks->next;
            pool->blocks->next = b;

        } else {
            b->next = pool->blocks;
            pool->blocks = b;
        }
    }

    b->used += need;
    return (char *) b + MC_BLOCK_HDR + b->used - need;
}


void *
mc_pcalloc(mc_pool_t *pool, size_t size)
{
    void  *p;

    p = mc_palloc(pool, size);
    if (p) {
        memset(p, 0, size);
    }

    return p;
}


char *
mc_pstrndup(mc_pool_t *pool, const char *s, size_t len)
{
    char  *p;

    p = mc_palloc(pool, len + 1);
    if (p == NULL) {
        return NULL;
    }

    if (len) {
        memcpy(p, s, len);
    }

    p[len] = '\0';
    return p;
}


char *
mc_pstrdup(mc_pool_t *pool, const char *s)
{
    if (s == NULL) {
        return NULL;
    }

    return mc_pstrndup(pool, s, strlen(s));
}


char *
mc_pvsprintf(mc_pool_t *pool, const char *fmt, va_list args)
{
    int      n;
    char    *p;
    va_list  copy;

    va_copy(copy, args);
    n = vsnprintf(NULL, 0, fmt, copy);
    va_end(copy);

    if (n < 0) {
        return NULL;
    }

    p = mc_palloc(pool, (size_t) n + 1);
    if (p == NULL) {
        return NULL;
    }

    vsnprintf(p, (size_t) n + 1, fmt, args);
    return p;
}


char *
mc_psprintf(mc_pool_t *pool, const char *fmt, ...)
{
    char     *p;
    va_list   args;

    va_start(args, fmt);
    p = mc_pvsprintf(pool, fmt, args);
    va_end(args);

    return p;
}


void
mc_buf_init(mc_buf_t *b)
{
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
    b->failed = 0;
}


void
mc_buf_free(mc_buf_t *b)
{
    free(b->data);
    mc_buf_init(b);
}


int
mc_buf_reserve(mc_buf_t *b, size_t more)
{
    char    *p;
    size_t   cap;

    if (b->failed) {
        return MC_ERROR;
    }

    if (b->len + more + 1 <= b->cap) {
        return MC_OK;
    }

    cap = b->cap ? b->cap : 256;

    while (cap < b->len + more + 1) {
        cap *= 2;
    }

    p = realloc(b->data, cap);
    if (p == NULL) {
        b->failed = 1;
        return MC_ERROR;
    }

    b->data = p;
    b->cap = cap;
    return MC_OK;
}


int
mc_buf_add(mc_buf_t *b, const void *data, size_t len)
{
    if (mc_buf_reserve(b, len) != MC_OK) {
        return MC_ERROR;
    }

    if (len) {
        memcpy(b->data + b->len, data, len);
    }

    b->len += len;
    b->data[b->len] = '\0';
    return MC_OK;
}


int
mc_buf_adds(mc_buf_t *b, const char *s)
{
    return mc_buf_add(b, s, strlen(s));
}


int
mc_buf_printf(mc_buf_t *b, const char *fmt, ...)
{
    int      n;
    va_list  args;

    va_start(args, fmt);
    n = vsnprintf(NULL, 0, fmt, args);
    va_end(args);

    if (n < 0 || mc_buf_reserve(b, (size_t) n) != MC_OK) {
        b->failed = 1;
        return MC_ERROR;
    }

    va_start(args, fmt);
    vsnprintf(b->data + b->len, (size_t) n + 1, fmt, args);
    va_end(args);

    b->len += (size_t) n;
    return MC_OK;
}


void
mc_error_set(mc_error_t *err, int status, const char *type, const char *code,
    const char *param, const char *fmt, ...)
{
    va_list  args;

    if (err == NULL) {
        return;
    }

    err->status = status;
    err->type = type;
    err->code = code;
    err->param = param;

    va_start(args, fmt);
    vsnprintf(err->message, sizeof(err->message), fmt, args);
    va_end(args);
}


char *
mc_error_json(const mc_error_t *err)
{
    char    *s;
    json_t  *root, *e;

    root = json_object();
    e = json_object();

    if (root == NULL || e == NULL) {
        json_decref(root);
        json_decref(e);
        return NULL;
    }

    json_object_set_new(e, "message", json_string(err->message));
    json_object_set_new(e, "type",
                        json_string(err->type ? err->type : MC_ERR_SERVER));
    json_object_set_new(e, "param",
                        err->param ? json_string(err->param) : json_null());
    json_object_set_new(e, "code",
                        err->code ? json_string(err->code) : json_null());
    json_object_set_new(root, "error", e);

    s = json_dumps(root, JSON_COMPACT);
    json_decref(root);
    return s;
}


mc_msec_t
mc_now_msec(void)
{
    struct timespec  ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (mc_msec_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}


int
mc_random_bytes(void *buf, size_t len)
{
    ssize_t   n;
    size_t    got;

    /*
     * getrandom() with no flags blocks only before the kernel's pool is
     * initialised at boot; afterwards it is a plain system call
     */
    for (got = 0; got < len; got += (size_t) n) {
        n = getrandom((char *) buf + got, len - got, 0);
        if (n < 0) {
            if (errno == EINTR) {
                n = 0;
                continue;
            }
            return MC_ERROR;
        }
    }

    return MC_OK;
}


void
mc_hex(char *dst, const unsigned char *src, size_t len)
{
    static const char  hex[] = "0123456789abcdef";
    size_t             i;

    for (i = 0; i < len; i++) {
        dst[2 * i] = hex[src[i] >> 4];
        dst[2 * i + 1] = hex[src[i] & 0xf];
    }

    dst[2 * len] = '\0';
}


int
mc_new_id(char *dst, size_t size, const char *prefix)
{
    size_t         plen;
    unsigned char  rnd[16];

    plen = strlen(prefix);

    if (size < plen + 2 * sizeof(rnd) + 1) {
        return MC_ERROR;
    }

    if (mc_random_bytes(rnd, sizeof(rnd)) != MC_OK) {
        return MC_ERROR;
    }

    memcpy(dst, prefix, plen);
    mc_hex(dst + plen, rnd, sizeof(rnd));
    return MC_OK;
}


int
mc_strieq(const char *a, const char *b)
{
    return strcasecmp(a, b) == 0;
}


int
mc_str_has_prefix(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}


int
mc_wildcard_match(const char *p, const char *s)
{
    const char  *star, *mark;

    star = NULL;
    mark = NULL;

    while (*s) {
        if (*p == '*') {
            star = p++;
            mark = s;

        } else if (*p == *s) {
            p++;
            s++;

        } else if (star) {
            p = star + 1;
            s = ++mark;

        } else {
            return 0;
        }
    }

    while (*p == '*') {
        p++;
    }

    return *p == '\0';
}


int
mc_parse_int(const char *s, size_t len, int64_t *out)
{
    size_t   i;
    int64_t  v;

    if (len == 0 || len > 18) {
        return MC_ERROR;
    }

    v = 0;

    for (i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9') {
            return MC_ERROR;
        }
        v = v * 10 + (s[i] - '0');
    }

    *out = v;
    return MC_OK;
}


size_t
mc_strlcpy(char *dst, const char *src, size_t size)
{
    size_t  n;

    n = strlen(src);

    if (size) {
        if (n >= size) {
            n = size - 1;
        }
        memcpy(dst, src, n);
        dst[n] = '\0';
    }

    return n;
}


const char *
mc_json_str(json_t *obj, const char *key)
{
    json_t  *v;

    if (!json_is_object(obj)) {
        return NULL;
    }

    v = json_object_get(obj, key);
    return json_is_string(v) ? json_string_value(v) : NULL;
}


/*
 * "a.b.0.c": object keys and array indexes separated by dots; enough for
 * the fixed places providers put their answers in
 */

json_t *
mc_json_path(json_t *root, const char *path)
{
    char         key[128];
    size_t       n;
    int64_t      idx;
    const char  *p, *dot;

    p = path;

    while (root && *p) {
        dot = strchr(p, '.');
        n = dot ? (size_t) (dot - p) : strlen(p);

        if (n >= sizeof(key)) {
            return NULL;
        }

        memcpy(key, p, n);
        key[n] = '\0';

        if (json_is_array(root)) {
            if (mc_parse_int(key, n, &idx) != MC_OK) {
                return NULL;
            }
            root = json_array_get(root, (size_t) idx);

        } else if (json_is_object(root)) {
            root = json_object_get(root, key);

        } else {
            return NULL;
        }

        p += n;
        if (*p == '.') {
            p++;
        }
    }

    return root;
}


const char *
mc_json_path_str(json_t *root, const char *path)
{
    json_t  *v;

    v = mc_json_path(root, path);
    return json_is_string(v) ? json_string_value(v) : NULL;
}


char *
mc_json_dump(json_t *j)
{
    return json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY);
}
