
/*
 * The provider adapter interface.
 *
 * An adapter turns unified operations into one provider's HTTP calls and
 * the provider's answers back into unified task states.  It never does
 * I/O: it describes a request (mc_http_req_t), the glue performs it
 * through an nginx subrequest (or libcurl from a timer) and hands the
 * answer back (mc_http_resp_t).  A reply handler may ask for a follow-up
 * call (MiniMax resolves a file id, fal fetches the result), so one
 * operation is a short sequence of calls:
 *
 *     rc = op_request(call, &req);            MC_CALL_SEND or MC_CALL_DONE
 *     while (rc == MC_CALL_SEND) {
 *         perform req, get resp;
 *         rc = op_reply(call, &resp, &req);   MC_CALL_SEND again or DONE
 *     }
 *     use call->result
 *
 * Adapters are registered by dropping a file into adapters/ that ends
 * with MC_ADAPTER_REGISTER(); nothing else in the tree lists them.
 */

#ifndef _MC_ADAPTER_H_INCLUDED_
#define _MC_ADAPTER_H_INCLUDED_


#include "mc_core.h"
#include "mc_catalog.h"
#include "mc_request.h"
#include "mc_task.h"


#define MC_CALL_DONE        0
#define MC_CALL_SEND        1

#define MC_HTTP_MAX_HEADERS 8


typedef struct {
    const char          *name;
    const char          *value;
} mc_header_t;


typedef struct {
    const char          *method;        /* "GET", "POST", ... */
    const char          *url;           /* absolute */
    mc_header_t          headers[MC_HTTP_MAX_HEADERS];
    size_t               nheaders;
    const char          *body;          /* NULL: no body */
    size_t               body_len;
} mc_http_req_t;


typedef enum {
    MC_TRANSPORT_OK = 0,
    MC_TRANSPORT_ERROR,                 /* connect refused, reset, DNS */
    MC_TRANSPORT_TIMEOUT
} mc_transport_e;


typedef struct {
    mc_transport_e       transport;
    int                  status;        /* HTTP status when transport OK */
    const char          *body;
    size_t               body_len;
    const char          *retry_after;   /* header value or NULL */
} mc_http_resp_t;


/*
 * How a failed call is handled: an input error goes back to the client
 * and stops; every other class moves on to the next target on create.
 */
typedef enum {
    MC_FAIL_NONE = 0,
    MC_FAIL_INPUT,          /* 400/422: the request itself is wrong */
    MC_FAIL_AUTH,           /* 401/403: the gateway's credentials */
    MC_FAIL_RETRY,          /* 429, 5xx, timeout, connect error */
    MC_FAIL_PROTOCOL,       /* an answer we cannot understand */
    MC_FAIL_UNSUPPORTED     /* the provider lacks the operation */
} mc_fail_e;


typedef struct {
    /* an operation's outcome */
    mc_fail_e            fail;
    int                  http_status;   /* the provider's, for logs */
    unsigned             timed_out:1;   /* the call got no answer in time */
    const char          *fail_reason;   /* for logs: sanitized, no keys */

    /* task state as the provider reports it */
    int                  has_state;
    mc_task_status_e     status;
    int                  progress;      /* -1: not reported */
    const char          *provider_task_id;
    const char          *provider_data; /* JSON kept with the task */
    const char          *video_url;
    const char          *error_code;    /* for failed tasks */
    const char          *error_message;

    /* content: a local file to serve instead of a proxied URL */
    const char          *local_file;
} mc_result_t;


typedef struct {
    mc_pool_t           *pool;          /* everything built lives here */
    mc_provider_t       *provider;
    const char          *model_id;      /* the provider's model */
    const mc_video_req_t *req;          /* create only */
    const mc_task_t     *task;          /* status, cancel, content */
    mc_msec_t            now;
    int                  step;          /* replies seen in this operation */
    mc_result_t          result;
} mc_call_t;


typedef int (*mc_adapter_request_pt)(mc_call_t *c, mc_http_req_t *req);
typedef int (*mc_adapter_reply_pt)(mc_call_t *c, const mc_http_resp_t *resp,
    mc_http_req_t *next);


/*
 * What an adapter can do.  A create is sent only to targets whose adapter
 * can serve it whole (an image as a URL or as data, a seed, a negative
 * prompt); when none can, the client gets a 400 before any charge.
 */
#define MC_FEAT_IMAGE_URL       0x01    /* takes an https image URL */
#define MC_FEAT_IMAGE_DATA      0x02    /* takes an image as data/bytes */
#define MC_FEAT_SEED            0x04
#define MC_FEAT_NEGATIVE        0x08
#define MC_FEAT_CANCEL          0x10
#define MC_FEAT_LOCAL           0x20    /* needs no network at all */

#define MC_FEAT_IMAGE           (MC_FEAT_IMAGE_URL|MC_FEAT_IMAGE_DATA)

/* the features a request needs */
unsigned mc_request_needs(const mc_video_req_t *req);
/* "an image URL, a seed" for messages */
const char *mc_features_text(mc_pool_t *pool, unsigned features);


struct mc_adapter_s {
    const char              *name;
    unsigned                 features;
    const char *const       *params;    /* adapter-specific names, NULL end */

    /* config time: checks params and secrets; err for nginx -t */
    int                    (*init_provider)(mc_provider_t *p, mc_pool_t *pool,
                                            char *err, size_t errlen);

    mc_adapter_request_pt    create_request;
    mc_adapter_reply_pt      create_reply;
    mc_adapter_request_pt    status_request;
    mc_adapter_reply_pt      status_reply;
    mc_adapter_request_pt    cancel_request;  /* NULL: no cancel */
    mc_adapter_reply_pt      cancel_reply;
    mc_adapter_request_pt    content_request; /* NULL: GET video_url */
};


#define MC_ADAPTER_REGISTER(a)                                               \
    static const mc_adapter_t *const mc_adapter_entry_##a                    \
        __attribute__((used, section("mc_adapters"), aligned(sizeof(void *))))\
        = &a


const mc_adapter_t *mc_adapter_find(const char *name);
/* iteration over the registered adapters, NULL at the end */
const mc_adapter_t *mc_adapter_next(const mc_adapter_t *prev);

/* runs an operation's reply handler for a transport failure or a status
 * no adapter needs to look at, and classifies it; returns MC_CALL_DONE
 * when it did (the adapter's reply handler is then not called) */
int mc_adapter_common_reply(mc_call_t *c, const mc_http_resp_t *resp);
mc_fail_e mc_adapter_classify(int http_status);

/* helpers for building requests */
void mc_http_req_init(mc_http_req_t *req, const char *method,
    const char *url);
int mc_http_req_header(mc_http_req_t *req, const char *name,
    const char *value);
int mc_http_req_json(mc_call_t *c, mc_http_req_t *req, json_t *body);
/* base_url + path, path starting with '/' */
char *mc_provider_url(mc_call_t *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
char *mc_bearer(mc_call_t *c, const char *token);

/* parses resp as JSON; NULL (with result set to PROTOCOL) when it is not */
json_t *mc_reply_json(mc_call_t *c, const mc_http_resp_t *resp);

/* result setters; strings are copied into the call's pool */
void mc_result_fail(mc_call_t *c, mc_fail_e fail, int http_status,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));
void mc_result_state(mc_call_t *c, mc_task_status_e status, int progress);
void mc_result_task_failed(mc_call_t *c, const char *code,
    const char *message);
/* completed with the video's URL, or failed when it ended without one */
void mc_result_completed(mc_call_t *c, const char *video_url);
/* the provider canceled it: failed, code "canceled" */
void mc_result_canceled(mc_call_t *c);
/* the provider no longer knows the task ("task", "video", ...): it will
 * not finish */
void mc_result_lost(mc_call_t *c, const char *what);
/* the provider says the input is wrong: its message, sanitized, for the
 * client's 400 */
void mc_result_rejected(mc_call_t *c, int http_status, const char *message);
const char *mc_result_str(mc_call_t *c, const char *s);

/* a short, printable excerpt of a provider message for the client */
const char *mc_sanitize_message(mc_call_t *c, const char *msg);

/* "data:image/png;base64,...." split; returns MC_ERROR if not a data URL */
int mc_data_url_split(const char *url, const char **mime, size_t *mime_len,
    const char **b64);


#endif /* _MC_ADAPTER_H_INCLUDED_ */
