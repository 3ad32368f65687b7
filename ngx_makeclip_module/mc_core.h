
/*
 * makeclip core: the nginx-free part of the gateway.
 *
 * Everything with the mc_ prefix is plain C (libc, jansson, LMDB) so it
 * can be unit-tested, fuzzed and shared with the makeclip CLI.  The nginx
 * glue (ngx_http_makeclip_*) calls in; nothing here calls out to nginx.
 */

#ifndef _MC_CORE_H_INCLUDED_
#define _MC_CORE_H_INCLUDED_


#include <stddef.h>
#include <stdint.h>
#include <stdarg.h>
#include <string.h>
#include <jansson.h>


#define MC_OK          0
#define MC_ERROR      -1
#define MC_DECLINED   -2
#define MC_AGAIN      -3
#define MC_NOT_FOUND  -4


#define MC_ID_LEN       38          /* "video_" + 32 hex digits */
#define MC_NAME_MAX     64

#define MC_SECONDS_MAX          600     /* longest video anyone may ask */
#define MC_SECONDS_DEFAULT_MAX  60      /* a model without seconds= */


typedef int64_t  mc_msec_t;


/* a string that is not NUL-terminated, as nginx's ngx_str_t */
typedef struct {
    size_t       len;
    const char  *data;
} mc_str_t;

#define mc_str(s)        { sizeof(s) - 1, s }
#define mc_null_str      { 0, NULL }


/* arena allocator: one per request or per operation, freed at once */

typedef struct mc_pool_block_s  mc_pool_block_t;

typedef struct {
    mc_pool_block_t  *blocks;
    size_t            block_size;
} mc_pool_t;

mc_pool_t *mc_pool_create(size_t block_size);
void mc_pool_destroy(mc_pool_t *pool);
void *mc_palloc(mc_pool_t *pool, size_t size);
void *mc_pcalloc(mc_pool_t *pool, size_t size);
char *mc_pstrndup(mc_pool_t *pool, const char *s, size_t len);
char *mc_pstrdup(mc_pool_t *pool, const char *s);
char *mc_psprintf(mc_pool_t *pool, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
char *mc_pvsprintf(mc_pool_t *pool, const char *fmt, va_list args);


/* growable byte buffer backed by malloc */

typedef struct {
    char    *data;
    size_t   len;
    size_t   cap;
    int      failed;        /* an allocation failed: contents are partial */
} mc_buf_t;

void mc_buf_init(mc_buf_t *b);
void mc_buf_free(mc_buf_t *b);
int mc_buf_reserve(mc_buf_t *b, size_t more);
int mc_buf_add(mc_buf_t *b, const void *data, size_t len);
int mc_buf_adds(mc_buf_t *b, const char *s);
int mc_buf_printf(mc_buf_t *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));


/*
 * An error as the client sees it: OpenAI's error object plus the HTTP
 * status.  Messages are written for the caller and must never carry
 * provider credentials.
 */

typedef struct {
    int          status;
    const char  *type;
    const char  *code;
    const char  *param;
    char         message[512];
} mc_error_t;

#define MC_ERR_INVALID      "invalid_request_error"
#define MC_ERR_AUTH         "authentication_error"
#define MC_ERR_PERMISSION   "permission_error"
#define MC_ERR_NOT_FOUND    "not_found_error"
#define MC_ERR_BILLING      "insufficient_quota"
#define MC_ERR_RATE         "rate_limit_error"
#define MC_ERR_CONFLICT     "conflict_error"
#define MC_ERR_PROVIDER     "provider_error"
#define MC_ERR_SERVER       "server_error"

void mc_error_set(mc_error_t *err, int status, const char *type,
    const char *code, const char *param, const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));
/* renders {"error":{...}} into a malloc'd string */
char *mc_error_json(const mc_error_t *err);


/* helpers shared across the core */

mc_msec_t mc_now_msec(void);
int mc_random_bytes(void *buf, size_t len);
void mc_hex(char *dst, const unsigned char *src, size_t len);
int mc_new_id(char *dst, size_t size, const char *prefix);
int mc_strieq(const char *a, const char *b);
int mc_str_has_prefix(const char *s, const char *prefix);
/* matches a name against a pattern with '*' wildcards */
int mc_wildcard_match(const char *pattern, const char *name);
/* parses a non-negative decimal integer, the whole string */
int mc_parse_int(const char *s, size_t len, int64_t *out);
/* copies at most size-1 bytes and always terminates */
size_t mc_strlcpy(char *dst, const char *src, size_t size);


/* jansson helpers: tolerant getters returning NULL/default on mismatch */

const char *mc_json_str(json_t *obj, const char *key);
json_t *mc_json_path(json_t *root, const char *path);
const char *mc_json_path_str(json_t *root, const char *path);
char *mc_json_dump(json_t *j);     /* compact, malloc'd */


#endif /* _MC_CORE_H_INCLUDED_ */
