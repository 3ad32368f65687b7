
/*
 * Copyright (C) makeclip authors
 *
 * The store's life in nginx: created and checked by the master, opened
 * again by every worker after fork (an LMDB environment must not cross
 * fork), synced on an interval off the event loop, and cleared of reader
 * slots that dead processes left behind.
 */


#include "ngx_http_makeclip.h"


#define NGX_HTTP_MAKECLIP_READER_CHECK  60000


static ngx_int_t ngx_http_makeclip_store_open(ngx_cycle_t *cycle,
    ngx_http_makeclip_main_conf_t *mmcf, mc_store_t **st);
static void ngx_http_makeclip_sync_handler(ngx_event_t *ev);
static void ngx_http_makeclip_reader_handler(ngx_event_t *ev);
#if (NGX_THREADS)
static void ngx_http_makeclip_sync_thread(void *data, ngx_log_t *log);
static void ngx_http_makeclip_sync_done(ngx_event_t *ev);
#endif


static ngx_http_makeclip_main_conf_t *
ngx_http_makeclip_cycle_conf(ngx_cycle_t *cycle)
{
    ngx_http_conf_ctx_t  *ctx;

    ctx = (ngx_http_conf_ctx_t *) ngx_get_conf(cycle->conf_ctx,
                                               ngx_http_module);
    if (ctx == NULL) {
        return NULL;
    }

    return ctx->main_conf[ngx_http_makeclip_module.ctx_index];
}


ngx_int_t
ngx_http_makeclip_store_init_module(ngx_cycle_t *cycle)
{
    u_char                          path[NGX_MAX_PATH];
    ngx_uint_t                      i;
    mc_store_t                     *st;
    ngx_core_conf_t                *ccf;
    ngx_http_makeclip_main_conf_t  *mmcf;

    static const char  *files[] = { "", "/data.mdb", "/lock.mdb" };

    mmcf = ngx_http_makeclip_cycle_conf(cycle);

    if (mmcf == NULL || mmcf->store_path.data == NULL) {
        return NGX_OK;
    }

    /* the master creates and checks the store, then lets it go */
    if (ngx_http_makeclip_store_open(cycle, mmcf, &st) != NGX_OK) {
        return NGX_ERROR;
    }

    mc_store_close(st);

    ccf = (ngx_core_conf_t *) ngx_get_conf(cycle->conf_ctx, ngx_core_module);

    if (geteuid() != 0 || ccf->user == (ngx_uid_t) NGX_CONF_UNSET_UINT) {
        return NGX_OK;
    }

    /* workers run as the configured user and must be able to write */
    for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
        ngx_snprintf(path, sizeof(path) - 1, "%V%s%Z", &mmcf->store_path,
                     files[i]);

        if (chown((char *) path, ccf->user, ccf->group) == -1) {
            ngx_log_error(NGX_LOG_EMERG, cycle->log, ngx_errno,
                          "chown(\"%s\", %d) failed", path, ccf->user);
            return NGX_ERROR;
        }
    }

    return NGX_OK;
}


ngx_int_t
ngx_http_makeclip_store_init_process(ngx_cycle_t *cycle)
{
    int                             dead;
    ngx_http_makeclip_main_conf_t  *mmcf;

    mmcf = ngx_http_makeclip_cycle_conf(cycle);

    if (mmcf == NULL || mmcf->store_path.data == NULL) {
        return NGX_OK;
    }

    if (ngx_process != NGX_PROCESS_WORKER
        && ngx_process != NGX_PROCESS_SINGLE)
    {
        return NGX_OK;
    }

    if (ngx_http_makeclip_store_open(cycle, mmcf, &mmcf->store) != NGX_OK) {
        /* a worker without its store answers 503 instead of exiting */
        mmcf->store = NULL;
        return NGX_OK;
    }

    if (mc_store_reader_check(mmcf->store, &dead) == MC_OK && dead) {
        ngx_log_error(NGX_LOG_NOTICE, cycle->log, 0,
                      "makeclip store: cleared %d stale reader slots", dead);
    }

    mmcf->reader_event.handler = ngx_http_makeclip_reader_handler;
    mmcf->reader_event.data = mmcf;
    mmcf->reader_event.log = cycle->log;
    mmcf->reader_event.cancelable = 1;

    ngx_add_timer(&mmcf->reader_event, NGX_HTTP_MAKECLIP_READER_CHECK);

    if (mmcf->sync == NGX_HTTP_MAKECLIP_SYNC_INTERVAL) {
        mmcf->sync_event.handler = ngx_http_makeclip_sync_handler;
        mmcf->sync_event.data = mmcf;
        mmcf->sync_event.log = cycle->log;
        mmcf->sync_event.cancelable = 1;

        ngx_add_timer(&mmcf->sync_event, mmcf->sync_interval);
    }

    return NGX_OK;
}


void
ngx_http_makeclip_store_exit_process(ngx_cycle_t *cycle)
{
    ngx_http_makeclip_main_conf_t  *mmcf;

    mmcf = ngx_http_makeclip_cycle_conf(cycle);

    if (mmcf == NULL || mmcf->store == NULL) {
        return;
    }

    /* what this worker committed reaches the disk before it goes */
    if (mmcf->sync != NGX_HTTP_MAKECLIP_SYNC_OFF && mmcf->sync_pending
        && mc_store_sync(mmcf->store) != MC_OK)
    {
        ngx_log_error(NGX_LOG_CRIT, cycle->log, 0, "makeclip store: %s",
                      mc_store_error(mmcf->store));
    }

    mc_store_close(mmcf->store);
    mmcf->store = NULL;
}


static ngx_int_t
ngx_http_makeclip_store_open(ngx_cycle_t *cycle,
    ngx_http_makeclip_main_conf_t *mmcf, mc_store_t **st)
{
    char              err[512];
    u_char            path[NGX_MAX_PATH];
    mc_store_opts_t   opts;

    if (mmcf->store_path.len >= sizeof(path)) {
        ngx_log_error(NGX_LOG_EMERG, cycle->log, 0,
                      "makeclip store path is too long");
        return NGX_ERROR;
    }

    ngx_cpystrn(path, mmcf->store_path.data, mmcf->store_path.len + 1);

    ngx_memzero(&opts, sizeof(mc_store_opts_t));
    opts.map_size = mmcf->map_size;
    opts.max_readers = mmcf->max_readers;

    /* every mode but commit leaves the flush to the interval timer or
     * to the kernel; commit makes LMDB sync inside each commit */
    opts.nosync = (mmcf->sync != NGX_HTTP_MAKECLIP_SYNC_COMMIT);

    if (mc_store_open(st, (char *) path, &opts, err, sizeof(err)) != MC_OK) {
        ngx_log_error(NGX_LOG_EMERG, cycle->log, 0,
                      "makeclip store: %s", err);
        return NGX_ERROR;
    }

    return NGX_OK;
}


mc_store_t *
ngx_http_makeclip_store(ngx_http_request_t *r)
{
    ngx_http_makeclip_main_conf_t  *mmcf;

    mmcf = ngx_http_get_module_main_conf(r, ngx_http_makeclip_module);

    return mmcf->store;
}


void
ngx_http_makeclip_store_committed(ngx_http_request_t *r)
{
    ngx_http_makeclip_main_conf_t  *mmcf;

    mmcf = ngx_http_get_module_main_conf(r, ngx_http_makeclip_module);

    mmcf->sync_pending = 1;
}


/*
 * A store failure is logged once, with what to do about it, and the
 * client gets a clean 5xx; nothing was charged because the transaction
 * that would have charged was aborted.
 */

ngx_int_t
ngx_http_makeclip_store_error(ngx_http_request_t *r, int rc,
    const char *what)
{
    mc_store_t  *st;

    st = ngx_http_makeclip_store(r);

    if (rc == MC_STORE_FULL) {
        ngx_log_error(NGX_LOG_CRIT, r->connection->log, 0,
                      "makeclip store is full while %s: raise map_size= of "
                      "\"makeclip_store\" and reload", what);

        return ngx_http_makeclip_error(r, NGX_HTTP_SERVICE_UNAVAILABLE,
                                       MC_ERR_SERVER, "store_full", NULL,
                                       "The gateway cannot record new work "
                                       "right now; nothing was charged.");
    }

    ngx_log_error(NGX_LOG_CRIT, r->connection->log, 0,
                  "makeclip store failed while %s: %s", what,
                  st ? mc_store_error(st) : "the store is not open");

    return ngx_http_makeclip_error(r, NGX_HTTP_SERVICE_UNAVAILABLE,
                                   MC_ERR_SERVER, "store_unavailable", NULL,
                                   "The gateway's store is unavailable; "
                                   "nothing was charged.");
}


static void
ngx_http_makeclip_sync_handler(ngx_event_t *ev)
{
    ngx_http_makeclip_main_conf_t  *mmcf;
#if (NGX_THREADS)
    ngx_thread_task_t              *task;
#endif

    mmcf = ev->data;

    if (ngx_exiting || mmcf->store == NULL) {
        return;
    }

    if (mmcf->sync_pending) {
        mmcf->sync_pending = 0;

#if (NGX_THREADS)
        /* one task per worker, reused: the timer is armed again only
         * when the previous sync is done */
        if (mmcf->sync_task == NULL) {
            mmcf->sync_task = ngx_thread_task_alloc(ngx_cycle->pool, 0);
        }

        task = mmcf->sync_task;

        if (task) {
            task->ctx = mmcf;
            task->handler = ngx_http_makeclip_sync_thread;
            task->event.handler = ngx_http_makeclip_sync_done;
            task->event.data = mmcf;
            task->event.log = ev->log;

            if (ngx_thread_task_post(mmcf->thread_pool, task) == NGX_OK) {
                return;
            }
        }

        ngx_log_error(NGX_LOG_WARN, ev->log, 0,
                      "makeclip store: no thread for sync, syncing inline");
#endif

        if (mc_store_sync(mmcf->store) != MC_OK) {
            ngx_log_error(NGX_LOG_CRIT, ev->log, 0, "makeclip store: %s",
                          mc_store_error(mmcf->store));
        }
    }

    ngx_add_timer(ev, mmcf->sync_interval);
}


#if (NGX_THREADS)

static void
ngx_http_makeclip_sync_thread(void *data, ngx_log_t *log)
{
    ngx_http_makeclip_main_conf_t  *mmcf = data;

    /* mdb_env_sync() takes no lock the event loop's transactions need */
    if (mc_store_sync(mmcf->store) != MC_OK) {
        ngx_log_error(NGX_LOG_CRIT, log, 0, "makeclip store: %s",
                      mc_store_error(mmcf->store));
    }
}


static void
ngx_http_makeclip_sync_done(ngx_event_t *ev)
{
    ngx_http_makeclip_main_conf_t  *mmcf;

    mmcf = ev->data;

    if (!ngx_exiting && mmcf->store) {
        ngx_add_timer(&mmcf->sync_event, mmcf->sync_interval);
    }
}

#endif


static void
ngx_http_makeclip_reader_handler(ngx_event_t *ev)
{
    int                             dead;
    ngx_http_makeclip_main_conf_t  *mmcf;

    mmcf = ev->data;

    if (ngx_exiting || mmcf->store == NULL) {
        return;
    }

    if (mc_store_reader_check(mmcf->store, &dead) != MC_OK) {
        ngx_log_error(NGX_LOG_CRIT, ev->log, 0, "makeclip store: %s",
                      mc_store_error(mmcf->store));

    } else if (dead) {
        ngx_log_error(NGX_LOG_NOTICE, ev->log, 0,
                      "makeclip store: cleared %d stale reader slots", dead);
    }

    ngx_add_timer(ev, NGX_HTTP_MAKECLIP_READER_CHECK);
}
