
/*
 * Helpers for adapter unit tests: a provider from directive arguments, a
 * unified request from JSON, and calls with canned provider answers, so
 * each adapter's build and parse functions run on the documented example
 * payloads without nginx or a network.
 */

#ifndef _MC_ADAPTER_TEST_H_INCLUDED_
#define _MC_ADAPTER_TEST_H_INCLUDED_


#include "tap.h"
#include "mc_adapter.h"
#include "mc_catalog.h"
#include "mc_request.h"

#include <strings.h>


typedef struct {
    mc_catalog_t    *cat;
    mc_provider_t   *provider;
    mc_pool_t       *pool;
    mc_video_req_t   req;
    mc_task_t        task;
    mc_call_t        call;
    mc_http_req_t    http;
    json_t          *body;      /* the last built request's JSON body */
} at_t;


/* "name adapter=x url=... key_env=..." as one string */
static at_t *
at_provider(const char *args)
{
    at_t    *t;
    char    *copy, *argv[32], err[512];
    size_t   argc;

    t = calloc(1, sizeof(at_t));
    t->cat = mc_catalog_create();
    t->pool = mc_pool_create(4096);

    copy = strdup(args);
    argc = 0;

    for (char *p = strtok(copy, " "); p && argc < 32; p = strtok(NULL, " ")) {
        argv[argc++] = p;
    }

    t->provider = mc_catalog_add_provider(t->cat, argv, argc, "test:1", err,
                                          sizeof(err));
    if (t->provider == NULL) {
        printf("# provider: %s\n", err);
    }

    free(copy);
    return t;
}


/* a validated unified request from its JSON (model and plan checks off) */
static int
at_request(at_t *t, const char *json)
{
    char        model[] = "m", price[] = "price=1";
    char       *argv[2];
    mc_error_t  err;

    argv[0] = model;
    argv[1] = price;

    if (mc_catalog_model(t->cat, "m") == NULL) {
        char  e[256];
        mc_catalog_add_model(t->cat, argv, 2, "test:1", e, sizeof(e));
    }

    mc_request_free(&t->req);

    if (mc_request_parse_json(t->pool, json, strlen(json), &t->req, &err)
        != MC_OK)
    {
        printf("# request: %s\n", err.message);
        return MC_ERROR;
    }

    t->req.model = "m";

    if (mc_request_validate(t->pool, &t->req, t->cat, NULL, NULL, &err)
        != MC_OK)
    {
        printf("# request: %s\n", err.message);
        return MC_ERROR;
    }

    return MC_OK;
}


static void
at_call(at_t *t, const char *model_id)
{
    memset(&t->call, 0, sizeof(mc_call_t));
    t->call.pool = t->pool;
    t->call.provider = t->provider;
    t->call.model_id = model_id;
    t->call.req = &t->req;
    t->call.task = &t->task;
    t->call.now = 1764000000000LL;
    t->call.result.progress = -1;

    mc_http_req_init(&t->http, "GET", NULL);

    json_decref(t->body);
    t->body = NULL;
}


/* after a build: the request's JSON body, parsed */
static json_t *
at_body(at_t *t)
{
    json_decref(t->body);
    t->body = t->http.body ? json_loadb(t->http.body, t->http.body_len, 0,
                                        NULL)
                           : NULL;
    return t->body;
}


static const char *
at_header(at_t *t, const char *name)
{
    size_t  i;

    for (i = 0; i < t->http.nheaders; i++) {
        if (strcasecmp(t->http.headers[i].name, name) == 0) {
            return t->http.headers[i].value;
        }
    }

    return NULL;
}


/* feeds a canned answer to a reply handler the way the glue does */
static int
at_reply(at_t *t, mc_adapter_reply_pt reply, int status, const char *body)
{
    int             rc;
    mc_http_resp_t  resp;

    memset(&resp, 0, sizeof(resp));
    resp.transport = MC_TRANSPORT_OK;
    resp.status = status;
    resp.body = body;
    resp.body_len = body ? strlen(body) : 0;

    rc = mc_adapter_common_reply(&t->call, &resp);
    if (rc == MC_CALL_DONE) {
        return rc;
    }

    mc_http_req_init(&t->http, "GET", NULL);

    return reply(&t->call, &resp, &t->http);
}


static void
at_free(at_t *t)
{
    json_decref(t->body);
    mc_request_free(&t->req);
    mc_pool_destroy(t->pool);
    mc_catalog_destroy(t->cat);
    free(t);
}


#endif /* _MC_ADAPTER_TEST_H_INCLUDED_ */
