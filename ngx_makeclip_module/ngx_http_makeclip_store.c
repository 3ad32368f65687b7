
/*
 * Copyright (C) makeclip authors
 *
 * The store's life in nginx: created and checked by the master, opened
 * again by every worker after fork (an LMDB environment must not cross
 * fork), made durable off the event loop, and cleared of reader slots
 * that dead processes left behind.
 *
 * Durability (makeclip_store sync=):
 *
 *   off        commits reach the page cache; the kernel writes them back
 *   interval   as off, plus an fdatasync() on a thread every interval
 *   commit     as off, but a response that follows a commit waits, held
 *              in this module's output filters, until an fdatasync()
 *              that started after the commit has returned.  The sync
 *              runs on nginx's thread pool; commits made while one runs
 *              share the next (group commit), so the event loop never
 *              waits for the disk.
 *
 * Worker processes open LMDB with MDB_NOSYNC in every mode: a commit
 * writes its pages with write(2) and never calls fsync(2) itself.
 */


#include "ngx_http_makeclip.h"


#define NGX_HTTP_MAKECLIP_READER_CHECK  60000
#define NGX_HTTP_MAKECLIP_SYNC_GUARD    60000
#define NGX_HTTP_MAKECLIP_IDEM_PURGE    1000
#define NGX_HTTP_MAKECLIP_FULL_LOG      60000


/* a worker's group commit */
struct ngx_http_makeclip_sync_s {
    ngx_http_makeclip_main_conf_t  *mmcf;
    ngx_log_t                      *log;

    ngx_uint_t                      commit_seq;   /* commits made */
    ngx_uint_t                      synced_seq;   /* commits on disk */
    ngx_uint_t                      target;       /* the running sync's */
    uint64_t                        target_txnid;
    uint64_t                        synced_txnid; /* the store's, on disk */
    int                             rc;           /* its outcome */
    ngx_msec_t                      started;
    unsigned                        running:1;

    ngx_queue_t                     waiting;      /* held responses */
    ngx_uint_t                      nwaiting;

    /* keeps a shutting-down worker until held responses are sent */
    ngx_event_t                     guard;

    /* figures for stats */
    ngx_uint_t                      syncs;
    ngx_uint_t                      held;
    ngx_uint_t                      batch_max;
    ngx_msec_t                      sync_ms_max;
    ngx_msec_t                      sync_ms_total;
    ngx_uint_t                      full_errors;
    ngx_uint_t                      full_unlogged;
    ngx_msec_t                      full_logged;  /* when, 0: never */
    ngx_uint_t                      store_errors;
};


/* a response held until its commits are on disk */
struct ngx_http_makeclip_hold_s {
    ngx_http_request_t             *request;
    ngx_uint_t                      seq;          /* its last commit */
    ngx_chain_t                    *out;
    ngx_queue_t                     queue;
    unsigned                        held:1;
};


static ngx_int_t ngx_http_makeclip_store_open(ngx_cycle_t *cycle,
    ngx_http_makeclip_main_conf_t *mmcf, mc_store_t **st);
static void ngx_http_makeclip_store_log(void *data, const char *msg);
static void ngx_http_makeclip_sync_handler(ngx_event_t *ev);
static void ngx_http_makeclip_reader_handler(ngx_event_t *ev);
static ngx_int_t ngx_http_makeclip_sync_start(
    ngx_http_makeclip_main_conf_t *mmcf);
static void ngx_http_makeclip_sync_finished(
    ngx_http_makeclip_main_conf_t *mmcf, int rc);
static void ngx_http_makeclip_sync_release(ngx_http_makeclip_sync_t *sy);
static void ngx_http_makeclip_sync_guard(ngx_event_t *ev);
static ngx_int_t ngx_http_makeclip_hold_header_filter(ngx_http_request_t *r);
static ngx_int_t ngx_http_makeclip_hold_body_filter(ngx_http_request_t *r,
    ngx_chain_t *in);
static void ngx_http_makeclip_hold_cleanup(void *data);
#if (NGX_THREADS)
static void ngx_http_makeclip_sync_thread(void *data, ngx_log_t *log);
static void ngx_http_makeclip_sync_done(ngx_event_t *ev);
#endif


static ngx_http_output_header_filter_pt  ngx_http_next_header_filter;
static ngx_http_output_body_filter_pt    ngx_http_next_body_filter;


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
    ngx_http_makeclip_sync_t       *sy;
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

    sy = ngx_pcalloc(cycle->pool, sizeof(ngx_http_makeclip_sync_t));
    if (sy == NULL) {
        return NGX_ERROR;
    }

    sy->mmcf = mmcf;
    sy->log = cycle->log;
    ngx_queue_init(&sy->waiting);

    sy->guard.handler = ngx_http_makeclip_sync_guard;
    sy->guard.data = sy;
    sy->guard.log = cycle->log;

    mmcf->sync_state = sy;

    if (ngx_http_makeclip_store_open(cycle, mmcf, &mmcf->store) != NGX_OK) {
        /* a worker without its store answers 503 instead of exiting */
        mmcf->store = NULL;
        return NGX_OK;
    }

    mc_store_set_logger(mmcf->store, ngx_http_makeclip_store_log,
                        cycle->log);

    if (mc_store_reader_check(mmcf->store, &dead) == MC_OK && dead) {
        ngx_log_error(NGX_LOG_NOTICE, cycle->log, 0,
                      "makeclip store: cleared %d stale reader slots", dead);
    }

    mmcf->reader_event.handler = ngx_http_makeclip_reader_handler;
    mmcf->reader_event.data = mmcf;
    mmcf->reader_event.log = cycle->log;
    mmcf->reader_event.cancelable = 1;

    ngx_add_timer(&mmcf->reader_event, NGX_HTTP_MAKECLIP_READER_CHECK);

    /*
     * sync=commit runs the interval sync too: commits made outside a
     * request (timers, the reconciler) have no answer to wait for, and
     * reach the disk within sync_interval all the same
     */
    if (mmcf->sync != NGX_HTTP_MAKECLIP_SYNC_OFF) {
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
    int                             rc;
    ngx_http_makeclip_sync_t       *sy;
    ngx_http_makeclip_main_conf_t  *mmcf;

    mmcf = ngx_http_makeclip_cycle_conf(cycle);

    if (mmcf == NULL || mmcf->store == NULL) {
        return;
    }

    sy = mmcf->sync_state;

    /* what this worker committed reaches the disk before it goes */
    if (mmcf->sync != NGX_HTTP_MAKECLIP_SYNC_OFF
        && (mmcf->sync_pending
            || (sy && mc_store_txnid(mmcf->store) != sy->synced_txnid)))
    {
        rc = mc_store_sync(mmcf->store);

        if (rc != MC_OK) {
            ngx_log_error(NGX_LOG_CRIT, cycle->log, 0,
                          "makeclip store: %s",
                          mc_store_sync_error(mmcf->store));
        }
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
    opts.max_map_size = mmcf->max_map_size;
    opts.max_readers = mmcf->max_readers;

    /*
     * no commit syncs inside LMDB, which would stall the event loop:
     * sync=commit syncs on a thread and holds the responses meanwhile;
     * only without threads does LMDB sync in the commit itself
     */
#if (NGX_THREADS)
    opts.nosync = 1;
#else
    opts.nosync = (mmcf->sync != NGX_HTTP_MAKECLIP_SYNC_COMMIT);
#endif

    if (mc_store_open(st, (char *) path, &opts, err, sizeof(err)) != MC_OK) {
        ngx_log_error(NGX_LOG_EMERG, cycle->log, 0,
                      "makeclip store: %s", err);
        return NGX_ERROR;
    }

    return NGX_OK;
}


static void
ngx_http_makeclip_store_log(void *data, const char *msg)
{
    ngx_log_t  *log = data;

    ngx_log_error(NGX_LOG_NOTICE, log, 0, "%s", msg);
}


mc_store_t *
ngx_http_makeclip_store(ngx_http_request_t *r)
{
    ngx_http_makeclip_main_conf_t  *mmcf;

    mmcf = ngx_http_get_module_main_conf(r, ngx_http_makeclip_module);

    return mmcf->store;
}


/*
 * Called after every commit a request makes.  With sync=commit the
 * request's response is held until a sync covers this commit; the sync
 * starts now, while the request goes on.
 */

void
ngx_http_makeclip_store_committed(ngx_http_request_t *r)
{
    ngx_pool_cleanup_t             *cln;
    ngx_http_makeclip_ctx_t        *ctx;
    ngx_http_makeclip_hold_t       *hold;
    ngx_http_makeclip_sync_t       *sy;
    ngx_http_makeclip_main_conf_t  *mmcf;

    mmcf = ngx_http_get_module_main_conf(r, ngx_http_makeclip_module);
    sy = mmcf->sync_state;

    mmcf->sync_pending = 1;

    if (sy == NULL) {
        return;
    }

    sy->commit_seq++;

    if (mmcf->sync != NGX_HTTP_MAKECLIP_SYNC_COMMIT) {
        return;
    }

    ctx = ngx_http_makeclip_get_ctx(r->main);

    if (ctx == NULL) {
        return;
    }

    hold = ctx->hold;

    if (hold == NULL) {
        hold = ngx_pcalloc(r->main->pool, sizeof(ngx_http_makeclip_hold_t));
        if (hold == NULL) {
            return;
        }

        /* a request freed while held (it cannot be, but) leaves the
         * queue with it */
        cln = ngx_pool_cleanup_add(r->main->pool, 0);
        if (cln == NULL) {
            return;
        }

        cln->handler = ngx_http_makeclip_hold_cleanup;
        cln->data = hold;

        hold->request = r->main;
        ctx->hold = hold;
    }

    hold->seq = sy->commit_seq;

    if (!sy->running) {
        (void) ngx_http_makeclip_sync_start(mmcf);
    }
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
    mc_store_t                     *st;
    ngx_http_makeclip_sync_t       *sy;
    ngx_http_makeclip_main_conf_t  *mmcf;

    mmcf = ngx_http_get_module_main_conf(r, ngx_http_makeclip_module);
    st = mmcf->store;
    sy = mmcf->sync_state;

    if (rc == MC_STORE_FULL) {
        /* one line a minute per worker, not one per refused request */
        if (sy == NULL || sy->full_logged == 0
            || ngx_current_msec - sy->full_logged
               >= NGX_HTTP_MAKECLIP_FULL_LOG)
        {
            ngx_log_error(NGX_LOG_CRIT, r->connection->log, 0,
                          "makeclip store is full while %s (%s; %ui more "
                          "refused since the last report): new work is "
                          "refused with 503, running tasks still settle; "
                          "raise max_map_size= (or map_size=) of "
                          "\"makeclip_store\" and reload, or run "
                          "\"makeclip resize <size>\"", what,
                          st ? mc_store_error(st) : "",
                          sy ? sy->full_unlogged : 0);
            if (sy) {
                sy->full_logged = ngx_current_msec ? ngx_current_msec : 1;
                sy->full_unlogged = 0;
            }

        } else {
            sy->full_unlogged++;
        }

        if (sy) {
            sy->full_errors++;
        }

        return ngx_http_makeclip_error(r, NGX_HTTP_SERVICE_UNAVAILABLE,
                                       MC_ERR_SERVER, "store_full", NULL,
                                       "The gateway cannot record new work "
                                       "right now; nothing was charged.");
    }

    if (sy) {
        sy->store_errors++;
    }

    ngx_log_error(NGX_LOG_CRIT, r->connection->log, 0,
                  "makeclip store failed while %s: %s", what,
                  st ? mc_store_error(st) : "the store is not open (see "
                  "the worker's start-up messages)");

    return ngx_http_makeclip_error(r, NGX_HTTP_SERVICE_UNAVAILABLE,
                                   MC_ERR_SERVER, "store_unavailable", NULL,
                                   "The gateway's store is unavailable; "
                                   "nothing was charged.");
}


/* this worker's durability figures, for the admin API's stats */

json_t *
ngx_http_makeclip_store_stats(ngx_http_request_t *r)
{
    json_t                         *o;
    ngx_http_makeclip_sync_t       *sy;
    ngx_http_makeclip_main_conf_t  *mmcf;

    static const char  *modes[] = { "off", "interval", "commit" };

    mmcf = ngx_http_get_module_main_conf(r, ngx_http_makeclip_module);
    sy = mmcf->sync_state;

    o = json_object();
    if (o == NULL || sy == NULL) {
        return o;
    }

    json_object_set_new(o, "pid", json_integer(ngx_pid));
    json_object_set_new(o, "sync", json_string(modes[mmcf->sync % 3]));
    json_object_set_new(o, "commits", json_integer(sy->commit_seq));
    json_object_set_new(o, "syncs", json_integer(sy->syncs));
    json_object_set_new(o, "sync_ms_max", json_integer(sy->sync_ms_max));
    json_object_set_new(o, "sync_ms_avg",
                        json_integer(sy->syncs ? sy->sync_ms_total
                                                 / sy->syncs : 0));
    json_object_set_new(o, "responses_held", json_integer(sy->held));
    json_object_set_new(o, "responses_waiting",
                        json_integer(sy->nwaiting));
    json_object_set_new(o, "group_max", json_integer(sy->batch_max));
    json_object_set_new(o, "store_full_errors",
                        json_integer(sy->full_errors));
    json_object_set_new(o, "store_errors", json_integer(sy->store_errors));

    return o;
}


/*
 * A sync on a thread each interval when the store has changed since the
 * last one, whoever changed it: fdatasync() flushes every process's
 * writes to the file, the page cache being one
 */

static void
ngx_http_makeclip_sync_handler(ngx_event_t *ev)
{
    ngx_http_makeclip_sync_t       *sy;
    ngx_http_makeclip_main_conf_t  *mmcf;

    mmcf = ev->data;
    sy = mmcf->sync_state;

    if (ngx_exiting || mmcf->store == NULL) {
        return;
    }

    if (mc_store_txnid(mmcf->store) != sy->synced_txnid && !sy->running) {
        mmcf->sync_pending = 0;

        if (ngx_http_makeclip_sync_start(mmcf) == NGX_OK) {
            /* the timer is armed again when the sync is done */
            return;
        }
    }

    ngx_add_timer(ev, mmcf->sync_interval);
}


/*
 * Starts an fdatasync() covering every commit made so far: on the
 * thread pool when there is one, inline (blocking, logged) when the
 * pool cannot take it.  NGX_OK: started (or done inline).
 */

static ngx_int_t
ngx_http_makeclip_sync_start(ngx_http_makeclip_main_conf_t *mmcf)
{
    int                        rc;
    ngx_http_makeclip_sync_t  *sy;
#if (NGX_THREADS)
    ngx_thread_task_t         *task;
#endif

    sy = mmcf->sync_state;

    sy->target = sy->commit_seq;
    sy->target_txnid = mc_store_txnid(mmcf->store);
    sy->running = 1;
    sy->started = ngx_current_msec;

    if (!sy->guard.timer_set && mmcf->sync == NGX_HTTP_MAKECLIP_SYNC_COMMIT)
    {
        ngx_add_timer(&sy->guard, NGX_HTTP_MAKECLIP_SYNC_GUARD);
    }

#if (NGX_THREADS)

    /* one task per worker, reused: one sync runs at a time */
    if (mmcf->sync_task == NULL) {
        mmcf->sync_task = ngx_thread_task_alloc(ngx_cycle->pool, 0);
    }

    task = mmcf->sync_task;

    if (task && mmcf->thread_pool) {
        task->ctx = mmcf;
        task->handler = ngx_http_makeclip_sync_thread;
        task->event.handler = ngx_http_makeclip_sync_done;
        task->event.data = mmcf;
        task->event.log = sy->log;

        if (ngx_thread_task_post(mmcf->thread_pool, task) == NGX_OK) {
            return NGX_OK;
        }
    }

    ngx_log_error(NGX_LOG_WARN, sy->log, 0,
                  "makeclip store: no thread for the sync, syncing in the "
                  "event loop");
#endif

    rc = mc_store_sync(mmcf->store);

    ngx_http_makeclip_sync_finished(mmcf, rc);

    return NGX_OK;
}


#if (NGX_THREADS)

static void
ngx_http_makeclip_sync_thread(void *data, ngx_log_t *log)
{
    ngx_http_makeclip_main_conf_t  *mmcf = data;

    ngx_http_makeclip_sync_t  *sy;

    sy = mmcf->sync_state;

    /*
     * mdb_env_sync() is fdatasync() on the data file: it takes no lock
     * that the event loop's transactions need, and the commits it covers
     * wrote their pages before it started
     */
    sy->rc = mc_store_sync(mmcf->store);
}


static void
ngx_http_makeclip_sync_done(ngx_event_t *ev)
{
    ngx_http_makeclip_main_conf_t  *mmcf;

    mmcf = ev->data;

    ngx_http_makeclip_sync_finished(mmcf, mmcf->sync_state->rc);
}

#endif


static void
ngx_http_makeclip_sync_finished(ngx_http_makeclip_main_conf_t *mmcf, int rc)
{
    ngx_msec_t                 ms;
    ngx_http_makeclip_sync_t  *sy;

    sy = mmcf->sync_state;

    ms = ngx_current_msec - sy->started;

    sy->running = 0;
    sy->syncs++;
    sy->sync_ms_total += ms;

    if (ms > sy->sync_ms_max) {
        sy->sync_ms_max = ms;
    }

    if (rc != MC_OK) {
        /*
         * the pages stay in the page cache and the responses go out: the
         * store says what it holds; whether the disk has it is unknown
         */
        ngx_log_error(NGX_LOG_CRIT, sy->log, 0,
                      "makeclip store: fdatasync() of the store failed: %s: "
                      "recent commits may not be on disk; check the disk "
                      "and the kernel log, then run \"makeclip audit\"",
                      mc_store_sync_error(mmcf->store));

    } else {
        sy->synced_txnid = sy->target_txnid;

        if (ms > 1000) {
            ngx_log_error(NGX_LOG_WARN, sy->log, 0,
                          "makeclip store: a sync took %M ms", ms);
        }
    }

    sy->synced_seq = sy->target;

    ngx_http_makeclip_sync_release(sy);

    /* commits made while it ran, for responses now waiting */
    if (sy->nwaiting && sy->commit_seq > sy->synced_seq) {
        (void) ngx_http_makeclip_sync_start(mmcf);

    } else if (sy->guard.timer_set) {
        ngx_del_timer(&sy->guard);
    }

    if (mmcf->sync != NGX_HTTP_MAKECLIP_SYNC_OFF
        && !ngx_exiting && mmcf->store && !mmcf->sync_event.timer_set)
    {
        ngx_add_timer(&mmcf->sync_event, mmcf->sync_interval);
    }
}


/* sends every held response whose commits are now on disk */

static void
ngx_http_makeclip_sync_release(ngx_http_makeclip_sync_t *sy)
{
    ngx_int_t                  rc;
    ngx_uint_t                 n;
    ngx_queue_t               *q, *next;
    ngx_connection_t          *c;
    ngx_http_request_t        *r;
    ngx_http_makeclip_hold_t  *hold;

    n = 0;

    for (q = ngx_queue_head(&sy->waiting);
         q != ngx_queue_sentinel(&sy->waiting);
         q = next)
    {
        next = ngx_queue_next(q);
        hold = ngx_queue_data(q, ngx_http_makeclip_hold_t, queue);

        if (hold->seq > sy->synced_seq) {
            continue;
        }

        ngx_queue_remove(q);
        sy->nwaiting--;
        hold->held = 0;
        n++;

        r = hold->request;
        c = r->connection;

        ngx_log_debug1(NGX_LOG_DEBUG_HTTP, c->log, 0,
                       "makeclip store: commit %ui on disk, response goes",
                       hold->seq);

        rc = ngx_http_next_header_filter(r);

        if (rc != NGX_ERROR && rc <= NGX_OK && !r->header_only) {
            rc = ngx_http_next_body_filter(r, hold->out);
        }

        hold->out = NULL;

        /* drops the reference taken when the response was held */
        ngx_http_finalize_request(r, rc);
        ngx_http_run_posted_requests(c);
    }

    if (n > sy->batch_max) {
        sy->batch_max = n;
    }
}


static void
ngx_http_makeclip_sync_guard(ngx_event_t *ev)
{
    ngx_http_makeclip_sync_t  *sy;

    sy = ev->data;

    if (sy->running) {
        ngx_log_error(NGX_LOG_WARN, ev->log, 0,
                      "makeclip store: a sync has run for %M ms, %ui "
                      "responses wait for it",
                      ngx_current_msec - sy->started, sy->nwaiting);

        ngx_add_timer(ev, NGX_HTTP_MAKECLIP_SYNC_GUARD);
    }
}


static void
ngx_http_makeclip_reader_handler(ngx_event_t *ev)
{
    int                             dead;
    size_t                          n;
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

    /* idempotency keys past their time, a bounded batch per round */
    if (mc_store_idem_purge(mmcf->store, ngx_http_makeclip_now(),
                            NGX_HTTP_MAKECLIP_IDEM_PURGE, &n)
        != MC_OK)
    {
        ngx_log_error(NGX_LOG_ERR, ev->log, 0,
                      "makeclip store: purging idempotency keys: %s",
                      mc_store_error(mmcf->store));

    } else if (n) {
        mmcf->sync_pending = 1;

        ngx_log_debug1(NGX_LOG_DEBUG_HTTP, ev->log, 0,
                       "makeclip store: %uz idempotency keys expired", n);
    }

    ngx_add_timer(ev, NGX_HTTP_MAKECLIP_READER_CHECK);
}


/* the output filters that hold a response until its commits are synced */

ngx_int_t
ngx_http_makeclip_store_filter_init(ngx_conf_t *cf)
{
    ngx_http_next_header_filter = ngx_http_top_header_filter;
    ngx_http_top_header_filter = ngx_http_makeclip_hold_header_filter;

    ngx_http_next_body_filter = ngx_http_top_body_filter;
    ngx_http_top_body_filter = ngx_http_makeclip_hold_body_filter;

    return NGX_OK;
}


static ngx_int_t
ngx_http_makeclip_hold_header_filter(ngx_http_request_t *r)
{
    ngx_http_makeclip_ctx_t        *ctx;
    ngx_http_makeclip_hold_t       *hold;
    ngx_http_makeclip_sync_t       *sy;
    ngx_http_makeclip_main_conf_t  *mmcf;

    if (r != r->main) {
        return ngx_http_next_header_filter(r);
    }

    ctx = ngx_http_get_module_ctx(r, ngx_http_makeclip_module);

    if (ctx == NULL || ctx->hold == NULL) {
        return ngx_http_next_header_filter(r);
    }

    mmcf = ngx_http_get_module_main_conf(r, ngx_http_makeclip_module);
    sy = mmcf->sync_state;
    hold = ctx->hold;

    if (hold->held) {
        /* a second response to a request whose first is held */
        ngx_log_error(NGX_LOG_ALERT, r->connection->log, 0,
                      "makeclip: a response is already held");
        return NGX_ERROR;
    }

    if (sy == NULL || hold->seq <= sy->synced_seq) {
        return ngx_http_next_header_filter(r);
    }

    /*
     * the header and the body wait here, as image_filter's do; the
     * request stays alive by one more reference, dropped on release
     */
    hold->held = 1;
    r->main->count++;

    ngx_queue_insert_tail(&sy->waiting, &hold->queue);
    sy->nwaiting++;
    sy->held++;

    if (!sy->running) {
        (void) ngx_http_makeclip_sync_start(mmcf);
    }

    return NGX_OK;
}


static ngx_int_t
ngx_http_makeclip_hold_body_filter(ngx_http_request_t *r, ngx_chain_t *in)
{
    ngx_http_makeclip_ctx_t  *ctx;

    if (r != r->main || in == NULL) {
        return ngx_http_next_body_filter(r, in);
    }

    ctx = ngx_http_get_module_ctx(r, ngx_http_makeclip_module);

    if (ctx == NULL || ctx->hold == NULL || !ctx->hold->held) {
        return ngx_http_next_body_filter(r, in);
    }

    if (ngx_chain_add_copy(r->pool, &ctx->hold->out, in) != NGX_OK) {
        return NGX_ERROR;
    }

    return NGX_OK;
}


static void
ngx_http_makeclip_hold_cleanup(void *data)
{
    ngx_http_makeclip_hold_t *hold = data;

    ngx_http_makeclip_sync_t       *sy;
    ngx_http_makeclip_main_conf_t  *mmcf;

    if (!hold->held) {
        return;
    }

    mmcf = ngx_http_get_module_main_conf(hold->request,
                                         ngx_http_makeclip_module);
    sy = mmcf->sync_state;

    ngx_queue_remove(&hold->queue);
    sy->nwaiting--;
    hold->held = 0;
}
