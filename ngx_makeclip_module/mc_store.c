
/*
 * The LMDB store.
 *
 * Named databases:
 *   accounts     account id                      -> account JSON
 *   keys         sha256(key) hex                 -> {account, id, created_at}
 *   tasks        task id                         -> task JSON
 *   acct_tasks   account \0 be64(created) id     -> ""
 *   ledger       be64(seq)                       -> entry JSON
 *   acct_ledger  account \0 be64(seq)            -> ""
 *   idem         account \0 idempotency key      -> {task, hash, at, exp}
 *   idem_exp     be64(exp) account \0 key        -> ""
 *   meta         name                            -> value
 *
 * Ledger sequence numbers run 1, 2, 3, ... without gaps and entries are
 * never changed or removed; an entry's time never goes back from the one
 * before, so a time range is a range of sequence numbers.
 *
 * Writes go through mc_write(): one transaction, all or nothing; when
 * the map is full it grows (up to max_map_size) and the write runs once
 * more.  New reservations leave room in the map for the settles and
 * refunds of every task still running, so a full map stops new work
 * and never strands credits.
 */

#include "mc_store.h"
#include "mc_crypto.h"

#include <stdio.h>
#include <stdlib.h>
#include <errno.h>
#include <time.h>
#include <pthread.h>
#include <sys/stat.h>
#include <lmdb.h>


#define MC_STORE_VERSION     1

/* map room a reservation leaves: fixed pages, and per running task
 * enough for its settle or refund (entry, index keys, page overhead) */
#define MC_ROOM_PAGES        16
#define MC_ROOM_PER_TASK     1024

#define MC_AUDIT_MAX         100     /* problems listed in full */


struct mc_store_s {
    MDB_env          *env;
    MDB_dbi           accounts;
    MDB_dbi           keys;
    MDB_dbi           tasks;
    MDB_dbi           acct_tasks;
    MDB_dbi           ledger;
    MDB_dbi           acct_ledger;
    MDB_dbi           idem;
    MDB_dbi           idem_exp;
    MDB_dbi           meta;
    size_t            psize;
    size_t            map_max;
    unsigned          read_only:1;

    /* read transactions on other threads (the audit) forbid remapping */
    pthread_mutex_t   lock;
    unsigned          thread_txns;

    mc_store_log_pt   log;
    void             *log_data;

    int               last_rc;      /* LMDB's code for the last failure */
    char              err[256];
    char              sync_err[128];
};


typedef int (*mc_write_pt)(mc_store_t *st, MDB_txn *txn, void *data);


static int mc_write(mc_store_t *st, mc_write_pt body, void *data);
static int mc_store_grow(mc_store_t *st);
static int mc_set_mapsize(mc_store_t *st, size_t size);
static int mc_room(mc_store_t *st, MDB_txn *txn, int64_t running);
static int mc_store_fail(mc_store_t *st, const char *what, int rc);
static int mc_txn_begin(mc_store_t *st, unsigned flags, MDB_txn **txn);
static int mc_txn_commit(mc_store_t *st, MDB_txn *txn);
static json_t *mc_get_json(MDB_txn *txn, MDB_dbi dbi, const void *key,
    size_t klen, int *rc);
static int mc_put_json(mc_store_t *st, MDB_txn *txn, MDB_dbi dbi,
    const void *key, size_t klen, json_t *value);
static int mc_put_empty(mc_store_t *st, MDB_txn *txn, MDB_dbi dbi,
    const void *key, size_t klen, const char *what);
static int mc_meta_get(MDB_txn *txn, MDB_dbi meta, const char *name,
    uint64_t *v);
static int mc_meta_put(mc_store_t *st, MDB_txn *txn, const char *name,
    uint64_t v);
static int mc_account_read(mc_store_t *st, MDB_txn *txn, const char *id,
    mc_account_t *a);
static int mc_account_write(mc_store_t *st, MDB_txn *txn,
    const mc_account_t *a);
static int mc_ledger_append(mc_store_t *st, MDB_txn *txn,
    const mc_account_t *a, mc_ledger_type_e type, int64_t amount,
    const char *task, const char *reason, const char *actor, mc_msec_t now,
    int64_t *seq_out);
static int mc_credit_apply(mc_store_t *st, MDB_txn *txn, mc_account_t *a,
    mc_credit_t *c);
static size_t mc_pair_key(char *buf, size_t size, const char *a,
    const void *b, size_t blen);
static size_t mc_task_key(char *buf, size_t size, const char *account,
    mc_msec_t created, const char *id);
static void mc_be64(unsigned char *p, uint64_t v);
static uint64_t mc_get_be64(const unsigned char *p);
static int mc_account_from_json(json_t *j, mc_account_t *a);
static int mc_valid_name(const char *s);


static const char  *mc_ledger_names[] = {
    "grant", "adjust", "reserve", "settle", "refund", "expire"
};


int
mc_store_open(mc_store_t **stp, const char *path, const mc_store_opts_t *o,
    char *err, size_t errlen)
{
    int           rc;
    char          ver[16];
    MDB_val       k, v;
    MDB_txn      *txn;
    MDB_stat      ms;
    unsigned      flags, dflags;
    mc_store_t   *st;
    MDB_envinfo   info;

    st = calloc(1, sizeof(mc_store_t));
    if (st == NULL) {
        snprintf(err, errlen, "out of memory");
        return MC_ERROR;
    }

    if (pthread_mutex_init(&st->lock, NULL) != 0) {
        snprintf(err, errlen, "pthread_mutex_init() failed");
        free(st);
        return MC_ERROR;
    }

    st->read_only = o->read_only;

    if (!o->read_only && mkdir(path, 0700) == -1 && errno != EEXIST) {
        snprintf(err, errlen, "mkdir(\"%s\") failed: %s", path,
                 strerror(errno));
        pthread_mutex_destroy(&st->lock);
        free(st);
        return MC_ERROR;
    }

    rc = mdb_env_create(&st->env);
    if (rc != 0) {
        snprintf(err, errlen, "mdb_env_create() failed: %s",
                 mdb_strerror(rc));
        pthread_mutex_destroy(&st->lock);
        free(st);
        return MC_ERROR;
    }

    mdb_env_set_maxdbs(st->env, 16);
    mdb_env_set_maxreaders(st->env, o->max_readers ? o->max_readers : 126);

    if (o->map_size) {
        rc = mdb_env_set_mapsize(st->env, o->map_size);
        if (rc != 0) {
            snprintf(err, errlen, "mdb_env_set_mapsize() failed: %s",
                     mdb_strerror(rc));
            goto failed;
        }
    }

    /*
     * MDB_NOTLS: read transactions belong to the transaction object, not
     * to a thread, so an audit on a thread never confuses LMDB's reader
     * table
     */
    flags = MDB_NOTLS;

    if (o->nosync) {
        flags |= MDB_NOSYNC;
    }

    if (o->read_only) {
        flags |= MDB_RDONLY;
    }

    rc = mdb_env_open(st->env, path, flags, 0600);
    if (rc != 0) {
        snprintf(err, errlen, "mdb_env_open(\"%s\") failed: %s", path,
                 mdb_strerror(rc));
        goto failed;
    }

    mdb_env_stat(st->env, &ms);
    st->psize = ms.ms_psize;

    /*
     * the map another process grew stays grown: take the size the file
     * records when it is larger than the configured one
     */
    if (o->map_size && mdb_env_set_mapsize(st->env, 0) == 0) {
        mdb_env_info(st->env, &info);

        if (info.me_mapsize < o->map_size) {
            mdb_env_set_mapsize(st->env, o->map_size);
        }
    }

    mdb_env_info(st->env, &info);
    st->map_max = o->max_map_size > info.me_mapsize ? o->max_map_size
                                                    : info.me_mapsize;

    rc = mdb_txn_begin(st->env, NULL, o->read_only ? MDB_RDONLY : 0, &txn);
    if (rc != 0) {
        snprintf(err, errlen, "mdb_txn_begin() failed: %s", mdb_strerror(rc));
        goto failed;
    }

    dflags = o->read_only ? 0 : MDB_CREATE;

    if ((rc = mdb_dbi_open(txn, "accounts", dflags, &st->accounts)) != 0
        || (rc = mdb_dbi_open(txn, "keys", dflags, &st->keys)) != 0
        || (rc = mdb_dbi_open(txn, "tasks", dflags, &st->tasks)) != 0
        || (rc = mdb_dbi_open(txn, "acct_tasks", dflags, &st->acct_tasks))
           != 0
        || (rc = mdb_dbi_open(txn, "ledger", dflags, &st->ledger)) != 0
        || (rc = mdb_dbi_open(txn, "acct_ledger", dflags, &st->acct_ledger))
           != 0
        || (rc = mdb_dbi_open(txn, "idem", dflags, &st->idem)) != 0
        || (rc = mdb_dbi_open(txn, "idem_exp", dflags, &st->idem_exp)) != 0
        || (rc = mdb_dbi_open(txn, "meta", dflags, &st->meta)) != 0)
    {
        mdb_txn_abort(txn);
        snprintf(err, errlen, "mdb_dbi_open() failed: %s%s", mdb_strerror(rc),
                 o->read_only ? " (has the store been created?)" : "");
        goto failed;
    }

    k.mv_data = "version";
    k.mv_size = 7;

    rc = mdb_get(txn, st->meta, &k, &v);

    if (rc == MDB_NOTFOUND && !o->read_only) {
        snprintf(ver, sizeof(ver), "%d", MC_STORE_VERSION);
        v.mv_data = ver;
        v.mv_size = strlen(ver);
        rc = mdb_put(txn, st->meta, &k, &v, 0);

    } else if (rc == 0) {
        if (v.mv_size >= sizeof(ver)) {
            v.mv_size = sizeof(ver) - 1;
        }
        memcpy(ver, v.mv_data, v.mv_size);
        ver[v.mv_size] = '\0';

        if (atoi(ver) > MC_STORE_VERSION) {
            mdb_txn_abort(txn);
            snprintf(err, errlen, "store \"%s\" has format %s, newer than "
                     "this build understands (%d)", path, ver,
                     MC_STORE_VERSION);
            goto failed;
        }
    }

    if (rc != 0 && rc != MDB_NOTFOUND) {
        mdb_txn_abort(txn);
        snprintf(err, errlen, "store metadata: %s", mdb_strerror(rc));
        goto failed;
    }

    rc = mdb_txn_commit(txn);
    if (rc != 0) {
        snprintf(err, errlen, "mdb_txn_commit() failed: %s%s",
                 mdb_strerror(rc), rc == MDB_MAP_FULL
                 ? " (raise map_size= of \"makeclip_store\")" : "");
        goto failed;
    }

    *stp = st;
    return MC_OK;

failed:

    mdb_env_close(st->env);
    pthread_mutex_destroy(&st->lock);
    free(st);
    return MC_ERROR;
}


void
mc_store_close(mc_store_t *st)
{
    if (st == NULL) {
        return;
    }

    mdb_env_close(st->env);
    pthread_mutex_destroy(&st->lock);
    free(st);
}


const char *
mc_store_error(mc_store_t *st)
{
    return st->err;
}


void
mc_store_set_logger(mc_store_t *st, mc_store_log_pt log, void *data)
{
    st->log = log;
    st->log_data = data;
}


int
mc_store_sync(mc_store_t *st)
{
    int  rc;

    /* its own message: a sync runs on a thread beside other failures */
    rc = mdb_env_sync(st->env, 1);
    if (rc != 0) {
        snprintf(st->sync_err, sizeof(st->sync_err),
                 "mdb_env_sync() failed: %s", mdb_strerror(rc));
        return MC_ERROR;
    }

    return MC_OK;
}


const char *
mc_store_sync_error(mc_store_t *st)
{
    return st->sync_err;
}


uint64_t
mc_store_txnid(mc_store_t *st)
{
    MDB_envinfo  info;

    mdb_env_info(st->env, &info);

    return (uint64_t) info.me_last_txnid;
}


int
mc_store_reader_check(mc_store_t *st, int *dead)
{
    int  rc;

    rc = mdb_reader_check(st->env, dead);
    if (rc != 0) {
        return mc_store_fail(st, "mdb_reader_check()", rc);
    }

    return MC_OK;
}


static int
mc_resize_body(mc_store_t *st, MDB_txn *txn, void *data)
{
    /* the new size is recorded for other processes by a commit that
     * writes something */
    return mc_meta_put(st, txn, "resized_at", (uint64_t) mc_now_msec());
}


int
mc_store_resize(mc_store_t *st, size_t size)
{
    int          rc;
    MDB_envinfo  info;

    mdb_env_info(st->env, &info);

    if (size < info.me_mapsize) {
        snprintf(st->err, sizeof(st->err), "the map is %zu bytes already; "
                 "it cannot shrink", (size_t) info.me_mapsize);
        return MC_DECLINED;
    }

    rc = mc_set_mapsize(st, size);
    if (rc != MC_OK) {
        return rc;
    }

    if (size > st->map_max) {
        st->map_max = size;
    }

    return mc_write(st, mc_resize_body, NULL);
}


/* writes */


/*
 * One write transaction around body; a full map grows (when allowed
 * and no other thread reads) and the body runs once more.  The body
 * returns MC_OK to commit, or the code to give back after an abort.
 */

static int
mc_write(mc_store_t *st, mc_write_pt body, void *data)
{
    int       rc, attempt;
    MDB_txn  *txn;

    for (attempt = 0; /* void */ ; attempt++) {

        if (mc_txn_begin(st, 0, &txn) != MC_OK) {
            return MC_ERROR;
        }

        st->last_rc = 0;

        rc = body(st, txn, data);

        if (rc == MC_OK) {
            rc = mc_txn_commit(st, txn);

        } else {
            mdb_txn_abort(txn);

            if (rc == MC_ERROR && st->last_rc == MDB_MAP_FULL) {
                rc = MC_STORE_FULL;
            }
        }

        if (rc != MC_STORE_FULL || attempt > 0 || mc_store_grow(st) != MC_OK)
        {
            return rc;
        }
    }
}


/* a larger map, when another process grew it or max_map_size allows */

static int
mc_store_grow(mc_store_t *st)
{
    char         msg[256];
    size_t       old, size;
    MDB_envinfo  info;

    mdb_env_info(st->env, &info);
    old = info.me_mapsize;

    /* another process may have grown the map already */
    if (mc_set_mapsize(st, 0) != MC_OK) {
        return MC_ERROR;
    }

    mdb_env_info(st->env, &info);

    if (info.me_mapsize > old) {
        return MC_OK;
    }

    if (old >= st->map_max) {
        if (info.me_mapsize < old) {
            mc_set_mapsize(st, old);
        }

        return MC_ERROR;
    }

    size = old * 2;

    if (size > st->map_max || size < old) {
        size = st->map_max;
    }

    size = (size + 1024 * 1024 - 1) & ~((size_t) 1024 * 1024 - 1);

    if (mc_set_mapsize(st, size) != MC_OK) {
        return MC_ERROR;
    }

    if (st->log) {
        snprintf(msg, sizeof(msg), "makeclip store: the map grew from %zuk "
                 "to %zuk (max_map_size=%zuk)", old / 1024, size / 1024,
                 st->map_max / 1024);
        st->log(st->log_data, msg);
    }

    return MC_OK;
}


/* LMDB remaps only when no transaction of this process is open */

static int
mc_set_mapsize(mc_store_t *st, size_t size)
{
    int  rc;

    pthread_mutex_lock(&st->lock);

    if (st->thread_txns) {
        pthread_mutex_unlock(&st->lock);
        snprintf(st->err, sizeof(st->err), "the map cannot change while "
                 "an audit reads it");
        return MC_ERROR;
    }

    rc = mdb_env_set_mapsize(st->env, size);

    pthread_mutex_unlock(&st->lock);

    if (rc != 0) {
        return mc_store_fail(st, "mdb_env_set_mapsize()", rc);
    }

    return MC_OK;
}


/*
 * Room for one more reservation: what the map has not used yet must
 * hold the settles or refunds of every task still running, so that a
 * full map refuses new work and never strands credits.
 */

static int
mc_room(mc_store_t *st, MDB_txn *txn, int64_t running)
{
    size_t       used, need;
    MDB_envinfo  info;

    mdb_env_info(st->env, &info);

    used = (info.me_last_pgno + 1) * st->psize;
    need = MC_ROOM_PAGES * st->psize
           + (size_t) (running + 1) * MC_ROOM_PER_TASK;

    if (used + need <= info.me_mapsize) {
        return MC_OK;
    }

    snprintf(st->err, sizeof(st->err), "the map is full: %zuk of %zuk "
             "used, %zuk kept for %lld running tasks", used / 1024,
             (size_t) info.me_mapsize / 1024, need / 1024,
             (long long) running);

    return MC_STORE_FULL;
}


/* accounts */


typedef struct {
    const char     *id;
    const char     *plan;
    mc_credit_t     credit;
} mc_account_create_t;


static int
mc_account_create_body(mc_store_t *st, MDB_txn *txn, void *data)
{
    int                   rc;
    mc_account_t          a;
    mc_account_create_t  *ac = data;

    rc = mc_account_read(st, txn, ac->id, &a);

    if (rc == MC_OK) {
        return MC_STORE_EXISTS;
    }

    if (rc != MC_NOT_FOUND) {
        return MC_ERROR;
    }

    memset(&a, 0, sizeof(mc_account_t));
    mc_strlcpy(a.id, ac->id, sizeof(a.id));
    mc_strlcpy(a.plan, ac->plan, sizeof(a.plan));
    a.created_at = ac->credit.now;

    if (ac->credit.amount > 0) {
        return mc_credit_apply(st, txn, &a, &ac->credit);
    }

    return mc_account_write(st, txn, &a);
}


int
mc_store_account_create(mc_store_t *st, const char *id, const char *plan,
    mc_msec_t now)
{
    return mc_store_account_create_ex(st, id, plan, 0, NULL, NULL, now);
}


int
mc_store_account_create_ex(mc_store_t *st, const char *id, const char *plan,
    int64_t credits, const char *reason, const char *actor, mc_msec_t now)
{
    mc_account_create_t  ac;

    if (!mc_valid_name(id) || !mc_valid_name(plan)) {
        snprintf(st->err, sizeof(st->err), "invalid account or plan name: "
                 "1 to %d of A-Z a-z 0-9 _ . - @", MC_NAME_MAX);
        return MC_DECLINED;
    }

    if (credits < 0 || credits > MC_CREDIT_MAX) {
        snprintf(st->err, sizeof(st->err), "invalid amount");
        return MC_DECLINED;
    }

    memset(&ac, 0, sizeof(ac));
    ac.id = id;
    ac.plan = plan;
    ac.credit.account = id;
    ac.credit.type = MC_LEDGER_GRANT;
    ac.credit.amount = credits;
    ac.credit.reason = reason;
    ac.credit.actor = actor;
    ac.credit.now = now;

    return mc_write(st, mc_account_create_body, &ac);
}


int
mc_store_account_get(mc_store_t *st, const char *id, mc_account_t *a)
{
    int       rc;
    MDB_txn  *txn;

    if (mc_txn_begin(st, MDB_RDONLY, &txn) != MC_OK) {
        return MC_ERROR;
    }

    rc = mc_account_read(st, txn, id, a);
    mdb_txn_abort(txn);

    return rc;
}


typedef struct {
    const char  *id;
    const char  *plan;
    int          disabled;
} mc_account_update_t;


static int
mc_account_update_body(mc_store_t *st, MDB_txn *txn, void *data)
{
    int                   rc;
    mc_account_t          a;
    mc_account_update_t  *au = data;

    rc = mc_account_read(st, txn, au->id, &a);
    if (rc != MC_OK) {
        return rc;
    }

    if (au->plan) {
        mc_strlcpy(a.plan, au->plan, sizeof(a.plan));
    }

    if (au->disabled >= 0) {
        a.disabled = au->disabled ? 1 : 0;
    }

    return mc_account_write(st, txn, &a);
}


int
mc_store_account_set_plan(mc_store_t *st, const char *id, const char *plan)
{
    mc_account_update_t  au;

    if (!mc_valid_name(plan)) {
        snprintf(st->err, sizeof(st->err), "invalid plan name");
        return MC_DECLINED;
    }

    au.id = id;
    au.plan = plan;
    au.disabled = -1;

    return mc_write(st, mc_account_update_body, &au);
}


int
mc_store_account_set_disabled(mc_store_t *st, const char *id, int disabled)
{
    return mc_store_account_update(st, id, NULL, disabled ? 1 : 0);
}


int
mc_store_account_update(mc_store_t *st, const char *id, const char *plan,
    int disabled)
{
    mc_account_update_t  au;

    if (plan && !mc_valid_name(plan)) {
        snprintf(st->err, sizeof(st->err), "invalid plan name");
        return MC_DECLINED;
    }

    au.id = id;
    au.plan = plan;
    au.disabled = disabled;

    return mc_write(st, mc_account_update_body, &au);
}


json_t *
mc_account_json(const mc_account_t *a)
{
    return json_pack("{s:s, s:s, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I,"
                     " s:b}",
                     "id", a->id, "plan", a->plan,
                     "balance", (json_int_t) a->balance,
                     "reserved", (json_int_t) a->reserved,
                     "granted", (json_int_t) a->granted,
                     "adjusted", (json_int_t) a->adjusted,
                     "expired", (json_int_t) a->expired,
                     "settled", (json_int_t) a->settled,
                     "active", (json_int_t) a->active,
                     "created_at", (json_int_t) a->created_at,
                     "disabled", a->disabled);
}


int
mc_store_valid_name(const char *s)
{
    return mc_valid_name(s);
}


json_t *
mc_store_accounts_json(mc_store_t *st, const char *after, size_t limit)
{
    int            rc;
    json_t        *arr, *j;
    MDB_val        k, v;
    MDB_txn       *txn;
    MDB_cursor    *cur;
    MDB_cursor_op  op;
    mc_account_t   a;

    if (mc_txn_begin(st, MDB_RDONLY, &txn) != MC_OK) {
        return NULL;
    }

    rc = mdb_cursor_open(txn, st->accounts, &cur);
    if (rc != 0) {
        mdb_txn_abort(txn);
        mc_store_fail(st, "mdb_cursor_open()", rc);
        return NULL;
    }

    arr = json_array();

    if (after) {
        k.mv_data = (void *) after;
        k.mv_size = strlen(after);
        op = MDB_SET_RANGE;

    } else {
        op = MDB_FIRST;
    }

    while (arr && json_array_size(arr) < limit
           && mdb_cursor_get(cur, &k, &v, op) == 0)
    {
        op = MDB_NEXT;

        if (after && k.mv_size == strlen(after)
            && memcmp(k.mv_data, after, k.mv_size) == 0)
        {
            continue;
        }

        j = json_loadb(v.mv_data, v.mv_size, 0, NULL);
        if (j && mc_account_from_json(j, &a) == MC_OK) {
            json_array_append_new(arr, mc_account_json(&a));
        }
        json_decref(j);
    }

    mdb_cursor_close(cur);
    mdb_txn_abort(txn);

    return arr;
}


/* API keys: only their SHA-256 is stored */


typedef struct {
    const char  *account;
    const char  *hash;
    mc_msec_t    now;
} mc_key_add_t;


static int
mc_key_add_body(mc_store_t *st, MDB_txn *txn, void *data)
{
    int            rc;
    json_t        *j;
    mc_account_t   a;
    mc_key_add_t  *ka = data;

    rc = mc_account_read(st, txn, ka->account, &a);
    if (rc != MC_OK) {
        return rc;
    }

    j = mc_get_json(txn, st->keys, ka->hash, 64, &rc);
    json_decref(j);

    if (rc == MC_OK) {
        return MC_STORE_EXISTS;
    }

    if (rc != MC_NOT_FOUND) {
        return MC_ERROR;
    }

    j = json_pack("{s:s, s:s#, s:I}", "account", ka->account, "id", ka->hash,
                  (int) MC_KEY_ID_LEN, "created_at", (json_int_t) ka->now);

    return mc_put_json(st, txn, st->keys, ka->hash, 64, j);
}


int
mc_store_key_add(mc_store_t *st, const char *account, const char *given,
    mc_msec_t now, char *key_out, size_t key_len, char *id_out)
{
    int            rc;
    char           hash[65], key[64];
    mc_key_add_t   ka;
    unsigned char  rnd[24];

    if (given) {
        if (strlen(given) < 16 || strlen(given) >= sizeof(key)) {
            snprintf(st->err, sizeof(st->err), "a key must be 16 to 63 "
                     "characters");
            return MC_DECLINED;
        }
        mc_strlcpy(key, given, sizeof(key));

    } else {
        if (mc_random_bytes(rnd, sizeof(rnd)) != MC_OK) {
            snprintf(st->err, sizeof(st->err), "getrandom() failed");
            return MC_ERROR;
        }
        memcpy(key, MC_KEY_PREFIX, sizeof(MC_KEY_PREFIX) - 1);
        mc_hex(key + sizeof(MC_KEY_PREFIX) - 1, rnd, sizeof(rnd));
    }

    if (strlen(key) >= key_len) {
        snprintf(st->err, sizeof(st->err), "no room for the key");
        return MC_ERROR;
    }

    mc_sha256_hex(key, strlen(key), hash);

    ka.account = account;
    ka.hash = hash;
    ka.now = now;

    rc = mc_write(st, mc_key_add_body, &ka);

    if (rc == MC_OK) {
        mc_strlcpy(key_out, key, key_len);
        memcpy(id_out, hash, MC_KEY_ID_LEN);
        id_out[MC_KEY_ID_LEN] = '\0';
    }

    return rc;
}


typedef struct {
    const char  *account;
    const char  *key_id;
} mc_key_revoke_t;


static int
mc_key_revoke_body(mc_store_t *st, MDB_txn *txn, void *data)
{
    int               rc, found;
    size_t            idlen;
    json_t           *j;
    MDB_val           k, v;
    MDB_cursor       *cur;
    const char       *acct;
    mc_key_revoke_t  *kr = data;

    rc = mdb_cursor_open(txn, st->keys, &cur);
    if (rc != 0) {
        return mc_store_fail(st, "mdb_cursor_open()", rc);
    }

    idlen = strlen(kr->key_id);
    k.mv_data = (void *) kr->key_id;
    k.mv_size = idlen;
    found = 0;

    /* keys are stored by hash; the id is a prefix of it */
    rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);

    while (rc == 0 && k.mv_size >= idlen
           && memcmp(k.mv_data, kr->key_id, idlen) == 0)
    {
        j = json_loadb(v.mv_data, v.mv_size, 0, NULL);
        acct = mc_json_str(j, "account");

        if (acct && (kr->account == NULL
                     || strcmp(acct, kr->account) == 0))
        {
            json_decref(j);

            rc = mdb_cursor_del(cur, 0);
            if (rc != 0) {
                mdb_cursor_close(cur);
                return mc_store_fail(st, "mdb_cursor_del()", rc);
            }

            found = 1;
            break;
        }

        json_decref(j);
        rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
    }

    mdb_cursor_close(cur);

    return found ? MC_OK : MC_NOT_FOUND;
}


int
mc_store_key_revoke(mc_store_t *st, const char *account, const char *key_id)
{
    size_t           i, len;
    mc_key_revoke_t  kr;

    len = strlen(key_id);

    if (len < 8 || len > 64) {
        snprintf(st->err, sizeof(st->err), "a key id has 8 to 64 hex "
                 "digits");
        return MC_DECLINED;
    }

    for (i = 0; i < len; i++) {
        if (!((key_id[i] >= '0' && key_id[i] <= '9')
              || (key_id[i] >= 'a' && key_id[i] <= 'f')))
        {
            snprintf(st->err, sizeof(st->err), "a key id has 8 to 64 hex "
                     "digits");
            return MC_DECLINED;
        }
    }

    kr.account = account;
    kr.key_id = key_id;

    return mc_write(st, mc_key_revoke_body, &kr);
}


int
mc_store_key_lookup(mc_store_t *st, const char *key, size_t len,
    mc_account_t *a)
{
    int          rc;
    char         hash[65];
    json_t      *j;
    MDB_txn     *txn;
    const char  *acct;

    mc_sha256_hex(key, len, hash);

    if (mc_txn_begin(st, MDB_RDONLY, &txn) != MC_OK) {
        return MC_ERROR;
    }

    j = mc_get_json(txn, st->keys, hash, 64, &rc);

    if (rc != MC_OK) {
        mdb_txn_abort(txn);
        return rc;
    }

    acct = mc_json_str(j, "account");
    rc = acct ? mc_account_read(st, txn, acct, a) : MC_NOT_FOUND;

    json_decref(j);
    mdb_txn_abort(txn);

    return rc;
}


json_t *
mc_store_keys_json(mc_store_t *st, const char *account)
{
    int          rc;
    json_t      *arr, *j;
    MDB_val      k, v;
    MDB_txn     *txn;
    MDB_cursor  *cur;
    const char  *acct;

    if (mc_txn_begin(st, MDB_RDONLY, &txn) != MC_OK) {
        return NULL;
    }

    rc = mdb_cursor_open(txn, st->keys, &cur);
    if (rc != 0) {
        mdb_txn_abort(txn);
        mc_store_fail(st, "mdb_cursor_open()", rc);
        return NULL;
    }

    arr = json_array();

    while (arr && mdb_cursor_get(cur, &k, &v, MDB_NEXT) == 0) {
        j = json_loadb(v.mv_data, v.mv_size, 0, NULL);
        acct = mc_json_str(j, "account");

        if (acct && (account == NULL || strcmp(acct, account) == 0)) {
            json_array_append(arr, j);
        }

        json_decref(j);
    }

    mdb_cursor_close(cur);
    mdb_txn_abort(txn);

    return arr;
}


/* credits */


/* one operator movement on an account read in this transaction */

static int
mc_credit_apply(mc_store_t *st, MDB_txn *txn, mc_account_t *a,
    mc_credit_t *c)
{
    int64_t  amount;

    amount = c->amount;

    switch (c->type) {

    case MC_LEDGER_GRANT:
        a->granted += amount;
        a->balance += amount;
        break;

    case MC_LEDGER_ADJUST:
        /* the available balance never goes below zero; what running
         * tasks hold is theirs */
        if (a->balance + amount < 0) {
            return MC_STORE_NO_FUNDS;
        }

        a->adjusted += amount;
        a->balance += amount;
        break;

    default: /* MC_LEDGER_EXPIRE */
        if (amount == MC_CREDIT_ALL) {
            amount = a->balance;
        }

        if (amount > a->balance) {
            return MC_STORE_NO_FUNDS;
        }

        if (amount == 0) {
            /* nothing to expire: no entry, the account unchanged */
            c->applied = 0;
            c->balance = a->balance;
            c->seq = 0;
            return MC_OK;
        }

        a->expired += amount;
        a->balance -= amount;
        break;
    }

    if (mc_account_write(st, txn, a) != MC_OK
        || mc_ledger_append(st, txn, a, c->type, amount, NULL, c->reason,
                            c->actor, c->now, &c->seq)
           != MC_OK)
    {
        return MC_ERROR;
    }

    c->applied = amount;
    c->balance = a->balance;

    return MC_OK;
}


static int
mc_credit_body(mc_store_t *st, MDB_txn *txn, void *data)
{
    int            rc;
    mc_credit_t   *c = data;
    mc_account_t   a;

    rc = mc_account_read(st, txn, c->account, &a);
    if (rc != MC_OK) {
        return rc;
    }

    return mc_credit_apply(st, txn, &a, c);
}


int
mc_store_credit_ex(mc_store_t *st, mc_credit_t *c)
{
    if ((c->type == MC_LEDGER_GRANT && c->amount <= 0)
        || (c->type == MC_LEDGER_ADJUST && c->amount == 0)
        || (c->type == MC_LEDGER_EXPIRE && c->amount <= 0
            && c->amount != MC_CREDIT_ALL)
        || (c->type != MC_LEDGER_GRANT && c->type != MC_LEDGER_ADJUST
            && c->type != MC_LEDGER_EXPIRE)
        || (c->amount != MC_CREDIT_ALL
            && (c->amount > MC_CREDIT_MAX || c->amount < -MC_CREDIT_MAX)))
    {
        snprintf(st->err, sizeof(st->err), "invalid amount");
        return MC_DECLINED;
    }

    if ((c->reason && strlen(c->reason) > 1024)
        || (c->actor && strlen(c->actor) > 256))
    {
        snprintf(st->err, sizeof(st->err), "the reason is longer than 1024 "
                 "characters");
        return MC_DECLINED;
    }

    c->applied = 0;
    c->balance = 0;
    c->seq = 0;

    return mc_write(st, mc_credit_body, c);
}


int
mc_store_credit(mc_store_t *st, const char *account, mc_ledger_type_e type,
    int64_t amount, const char *reason, mc_msec_t now, int64_t *balance_out)
{
    int          rc;
    mc_credit_t  c;

    memset(&c, 0, sizeof(c));
    c.account = account;
    c.type = type;
    c.amount = amount;
    c.reason = reason;
    c.now = now;

    rc = mc_store_credit_ex(st, &c);

    if (rc == MC_OK && balance_out) {
        *balance_out = c.balance;
    }

    return rc;
}


/* tasks */


typedef struct {
    mc_task_t    *task;
    int           max_active;
    const char   *idem_key;
    const char   *body_hash;
    mc_msec_t     idem_ttl;
    char         *existing_id;
} mc_reserve_t;


static int
mc_reserve_body(mc_store_t *st, MDB_txn *txn, void *data)
{
    int             rc;
    char            ikey[MC_NAME_MAX + 300], tkey[MC_NAME_MAX + 64];
    char            xkey[MC_NAME_MAX + 308];
    size_t          ilen, tlen;
    json_t         *j;
    MDB_val         k;
    uint64_t        running;
    mc_task_t      *t;
    mc_msec_t       exp;
    const char     *s;
    mc_account_t    a;
    mc_reserve_t   *rs = data;
    unsigned char   be[8];

    t = rs->task;
    ilen = 0;

    if (rs->idem_key) {
        ilen = mc_pair_key(ikey, sizeof(ikey), t->account, rs->idem_key,
                           strlen(rs->idem_key));
        if (ilen == 0) {
            snprintf(st->err, sizeof(st->err), "idempotency key too long");
            return MC_DECLINED;
        }

        j = mc_get_json(txn, st->idem, ikey, ilen, &rc);

        if (rc == MC_ERROR) {
            return MC_ERROR;
        }

        if (rc == MC_OK) {
            exp = json_integer_value(json_object_get(j, "exp"));
            if (exp == 0) {
                exp = json_integer_value(json_object_get(j, "at"))
                      + rs->idem_ttl;
            }

            if (exp > t->created_at) {
                s = mc_json_str(j, "hash");

                if (s && strcmp(s, rs->body_hash) == 0) {
                    s = mc_json_str(j, "task");
                    mc_strlcpy(rs->existing_id, s ? s : "", MC_ID_LEN + 1);
                    rc = MC_STORE_IDEM_SAME;

                } else {
                    rc = MC_STORE_IDEM_CONFLICT;
                }

                json_decref(j);
                return rc;
            }

            /* an expired key is used afresh: its old expiry goes */
            mc_be64((unsigned char *) xkey, (uint64_t) exp);
            memcpy(xkey + 8, ikey, ilen);

            k.mv_data = xkey;
            k.mv_size = ilen + 8;

            rc = mdb_del(txn, st->idem_exp, &k, NULL);

            json_decref(j);

            if (rc != 0 && rc != MDB_NOTFOUND) {
                return mc_store_fail(st, "mdb_del(idem_exp)", rc);
            }
        }
    }

    rc = mc_account_read(st, txn, t->account, &a);
    if (rc != MC_OK) {
        return rc;
    }

    if (a.disabled) {
        return MC_STORE_DISABLED;
    }

    if (rs->max_active > 0 && a.active >= rs->max_active) {
        return MC_STORE_BUSY;
    }

    if (t->credits < 0 || a.balance < t->credits) {
        return MC_STORE_NO_FUNDS;
    }

    if (mc_meta_get(txn, st->meta, "reserved_tasks", &running) == MC_ERROR) {
        return mc_store_fail(st, "reserved_tasks", MDB_CORRUPTED);
    }

    rc = mc_room(st, txn, (int64_t) running);
    if (rc != MC_OK) {
        return rc;
    }

    a.balance -= t->credits;
    a.reserved += t->credits;
    a.active++;

    t->charge = MC_CHARGE_RESERVED;

    tlen = mc_task_key(tkey, sizeof(tkey), t->account, t->created_at, t->id);
    if (tlen == 0) {
        snprintf(st->err, sizeof(st->err), "task id too long");
        return MC_ERROR;
    }

    if (mc_put_json(st, txn, st->tasks, t->id, strlen(t->id),
                    mc_task_to_json(t))
        != MC_OK
        || mc_put_empty(st, txn, st->acct_tasks, tkey, tlen, "acct_tasks")
           != MC_OK
        || mc_account_write(st, txn, &a) != MC_OK
        || mc_meta_put(st, txn, "reserved_tasks", running + 1) != MC_OK
        || mc_ledger_append(st, txn, &a, MC_LEDGER_RESERVE, t->credits,
                            t->id, NULL, NULL, t->created_at, NULL)
           != MC_OK)
    {
        return MC_ERROR;
    }

    if (rs->idem_key) {
        exp = t->created_at + rs->idem_ttl;

        j = json_pack("{s:s, s:s, s:I, s:I}", "task", t->id,
                      "hash", rs->body_hash, "at", (json_int_t) t->created_at,
                      "exp", (json_int_t) exp);

        mc_be64(be, (uint64_t) exp);
        memcpy(xkey, be, 8);
        memcpy(xkey + 8, ikey, ilen);

        if (mc_put_json(st, txn, st->idem, ikey, ilen, j) != MC_OK
            || mc_put_empty(st, txn, st->idem_exp, xkey, ilen + 8,
                            "idem_exp")
               != MC_OK)
        {
            return MC_ERROR;
        }
    }

    return MC_OK;
}


int
mc_store_task_reserve(mc_store_t *st, mc_task_t *t, int max_active,
    const char *idem_key, const char *body_hash, mc_msec_t idem_ttl,
    char *existing_id)
{
    mc_reserve_t  rs;

    rs.task = t;
    rs.max_active = max_active;
    rs.idem_key = idem_key;
    rs.body_hash = body_hash;
    rs.idem_ttl = idem_ttl;
    rs.existing_id = existing_id;

    return mc_write(st, mc_reserve_body, &rs);
}


int
mc_store_task_get(mc_store_t *st, mc_pool_t *pool, const char *id,
    mc_task_t *t)
{
    int       rc;
    json_t   *j;
    MDB_txn  *txn;

    if (mc_txn_begin(st, MDB_RDONLY, &txn) != MC_OK) {
        return MC_ERROR;
    }

    j = mc_get_json(txn, st->tasks, id, strlen(id), &rc);
    mdb_txn_abort(txn);

    if (rc != MC_OK) {
        return rc;
    }

    rc = mc_task_from_json(pool, j, t);
    json_decref(j);

    if (rc != MC_OK) {
        snprintf(st->err, sizeof(st->err), "task \"%s\" is damaged", id);
        return MC_ERROR;
    }

    return MC_OK;
}


typedef struct {
    mc_pool_t        *pool;
    const mc_task_t  *task;
    mc_msec_t         now;
    mc_task_t         result;
} mc_task_save_t;


static int
mc_task_save_body(mc_store_t *st, MDB_txn *txn, void *data)
{
    int                rc;
    json_t            *j;
    uint64_t           running;
    mc_task_t          cur, next;
    mc_account_t       a;
    mc_task_save_t    *ts = data;
    mc_ledger_type_e   type;

    j = mc_get_json(txn, st->tasks, ts->task->id, strlen(ts->task->id), &rc);

    if (rc != MC_OK) {
        return rc;
    }

    rc = mc_task_from_json(ts->pool, j, &cur);
    json_decref(j);

    if (rc != MC_OK) {
        snprintf(st->err, sizeof(st->err), "task \"%s\" is damaged",
                 ts->task->id);
        return MC_ERROR;
    }

    if (mc_task_is_terminal(cur.status)) {
        /* another worker finished it first: its record stands */
        ts->result = cur;
        return MC_DECLINED;
    }

    /* the caller's view, with the fields only the store owns */
    next = *ts->task;
    next.account = cur.account;
    next.credits = cur.credits;
    next.charge = cur.charge;
    next.created_at = cur.created_at;
    next.idempotency_key = cur.idempotency_key;
    next.updated_at = ts->now;

    if (mc_task_is_terminal(next.status)) {
        if (next.completed_at == 0) {
            next.completed_at = ts->now;
        }

        if (cur.charge != MC_CHARGE_RESERVED) {
            snprintf(st->err, sizeof(st->err), "task \"%s\" ends without a "
                     "reservation (charge %s)", cur.id,
                     mc_charge_name(cur.charge));
            return MC_ERROR;
        }

        rc = mc_account_read(st, txn, cur.account, &a);
        if (rc != MC_OK) {
            snprintf(st->err, sizeof(st->err), "the account of task \"%s\" "
                     "cannot be read", cur.id);
            return MC_ERROR;
        }

        a.reserved -= cur.credits;
        a.active--;

        if (next.status == MC_TASK_COMPLETED) {
            a.settled += cur.credits;
            next.charge = MC_CHARGE_SETTLED;
            type = MC_LEDGER_SETTLE;

        } else {
            a.balance += cur.credits;
            next.charge = MC_CHARGE_REFUNDED;
            type = MC_LEDGER_REFUND;
        }

        if (a.reserved < 0 || a.active < 0) {
            snprintf(st->err, sizeof(st->err), "account \"%s\" would "
                     "hold negative reserved credits", a.id);
            return MC_ERROR;
        }

        if (mc_meta_get(txn, st->meta, "reserved_tasks", &running) != MC_OK
            || running == 0)
        {
            return mc_store_fail(st, "reserved_tasks", MDB_CORRUPTED);
        }

        if (mc_account_write(st, txn, &a) != MC_OK
            || mc_meta_put(st, txn, "reserved_tasks", running - 1) != MC_OK
            || mc_ledger_append(st, txn, &a, type, cur.credits, cur.id,
                                NULL, NULL, ts->now, NULL)
               != MC_OK)
        {
            return MC_ERROR;
        }
    }

    if (mc_put_json(st, txn, st->tasks, next.id, strlen(next.id),
                    mc_task_to_json(&next))
        != MC_OK)
    {
        return MC_ERROR;
    }

    ts->result = next;

    return MC_OK;
}


int
mc_store_task_save(mc_store_t *st, mc_pool_t *pool, const mc_task_t *t,
    mc_msec_t now, mc_task_t *out)
{
    int             rc;
    mc_task_save_t  ts;

    ts.pool = pool;
    ts.task = t;
    ts.now = now;

    rc = mc_write(st, mc_task_save_body, &ts);

    if (rc == MC_DECLINED) {
        /* already terminal: nothing written, the stored record given */
        rc = MC_OK;
    }

    if (rc == MC_OK) {
        *out = ts.result;
    }

    return rc;
}


typedef struct {
    const char  *id;
    mc_msec_t    now;
    mc_msec_t    stale;
} mc_claim_t;


static int
mc_claim_check(json_t *j, mc_claim_t *c)
{
    mc_msec_t    polled;
    const char  *status;

    status = mc_json_str(j, "status");
    polled = json_integer_value(json_object_get(j, "polled_at"));

    if (status == NULL || strcmp(status, "completed") == 0
        || strcmp(status, "failed") == 0 || c->now - polled < c->stale)
    {
        return MC_DECLINED;
    }

    return MC_OK;
}


static int
mc_claim_body(mc_store_t *st, MDB_txn *txn, void *data)
{
    int          rc;
    json_t      *j;
    mc_claim_t  *c = data;

    j = mc_get_json(txn, st->tasks, c->id, strlen(c->id), &rc);

    if (rc != MC_OK) {
        return rc;
    }

    rc = mc_claim_check(j, c);

    if (rc != MC_OK) {
        json_decref(j);
        return rc;
    }

    json_object_set_new(j, "polled_at", json_integer(c->now));

    return mc_put_json(st, txn, st->tasks, c->id, strlen(c->id), j);
}


typedef struct {
    const char  *id;
    mc_msec_t    now;
} mc_delete_t;


static int
mc_delete_body(mc_store_t *st, MDB_txn *txn, void *data)
{
    int           rc;
    json_t       *j;
    const char   *status;
    mc_delete_t  *d = data;

    j = mc_get_json(txn, st->tasks, d->id, strlen(d->id), &rc);

    if (rc != MC_OK) {
        return rc;
    }

    status = mc_json_str(j, "status");

    /* money moves only with the status; a deleted task's is final */
    if (status == NULL
        || (strcmp(status, "completed") != 0 && strcmp(status, "failed") != 0))
    {
        json_decref(j);
        return MC_DECLINED;
    }

    if (json_integer_value(json_object_get(j, "deleted_at")) == 0) {
        json_object_set_new(j, "deleted_at", json_integer(d->now));
    }

    return mc_put_json(st, txn, st->tasks, d->id, strlen(d->id), j);
}


int
mc_store_task_delete(mc_store_t *st, const char *id, mc_msec_t now)
{
    mc_delete_t  d;

    d.id = id;
    d.now = now;

    return mc_write(st, mc_delete_body, &d);
}


int
mc_store_task_claim_poll(mc_store_t *st, const char *id, mc_msec_t now,
    mc_msec_t stale)
{
    int          rc;
    json_t      *j;
    MDB_txn     *txn;
    mc_claim_t   c;

    c.id = id;
    c.now = now;
    c.stale = stale;

    /*
     * a read transaction first: most callers find the state fresh and
     * never take the write lock
     */
    if (mc_txn_begin(st, MDB_RDONLY, &txn) != MC_OK) {
        return MC_ERROR;
    }

    j = mc_get_json(txn, st->tasks, id, strlen(id), &rc);

    if (rc == MC_OK) {
        rc = mc_claim_check(j, &c);
    }

    json_decref(j);
    mdb_txn_abort(txn);

    if (rc != MC_OK) {
        return rc;
    }

    return mc_write(st, mc_claim_body, &c);
}


int
mc_store_task_list(mc_store_t *st, mc_pool_t *pool, const char *account,
    const char *after, size_t limit, int asc, mc_task_t *tasks, size_t *n,
    int *has_more)
{
    int            rc;
    char           prefix[MC_NAME_MAX + 2], key[MC_NAME_MAX + 64];
    size_t         plen, klen;
    json_t        *j;
    MDB_val        k, v;
    MDB_txn       *txn;
    MDB_cursor    *cur;
    mc_task_t      at;

    *n = 0;
    *has_more = 0;

    plen = mc_pair_key(prefix, sizeof(prefix), account, "", 0);
    if (plen == 0) {
        return MC_NOT_FOUND;
    }

    if (mc_txn_begin(st, MDB_RDONLY, &txn) != MC_OK) {
        return MC_ERROR;
    }

    rc = mdb_cursor_open(txn, st->acct_tasks, &cur);
    if (rc != 0) {
        mdb_txn_abort(txn);
        return mc_store_fail(st, "mdb_cursor_open()", rc);
    }

    /* position on the cursor task's own index key, or at an end */
    if (after) {
        j = mc_get_json(txn, st->tasks, after, strlen(after), &rc);

        if (rc != MC_OK || mc_task_from_json(pool, j, &at) != MC_OK
            || strcmp(at.account, account) != 0)
        {
            json_decref(j);
            mdb_cursor_close(cur);
            mdb_txn_abort(txn);
            return MC_NOT_FOUND;
        }

        json_decref(j);

        klen = mc_task_key(key, sizeof(key), account, at.created_at, at.id);

        k.mv_data = key;
        k.mv_size = klen;

        rc = mdb_cursor_get(cur, &k, &v, MDB_SET);
        if (rc == 0) {
            rc = mdb_cursor_get(cur, &k, &v, asc ? MDB_NEXT : MDB_PREV);
        }

    } else if (asc) {
        k.mv_data = prefix;
        k.mv_size = plen;
        rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);

    } else {
        /* the first key after this account's range, then one back */
        memcpy(key, prefix, plen);
        key[plen - 1] = '\x01';
        k.mv_data = key;
        k.mv_size = plen;

        rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
        rc = mdb_cursor_get(cur, &k, &v, rc == 0 ? MDB_PREV : MDB_LAST);
    }

    while (rc == 0) {
        if (k.mv_size < plen + 8 || memcmp(k.mv_data, prefix, plen) != 0) {
            break;
        }

        if (*n == limit) {
            *has_more = 1;
            break;
        }

        klen = k.mv_size - plen - 8;
        if (klen > MC_ID_LEN) {
            break;
        }

        memcpy(key, (char *) k.mv_data + plen + 8, klen);
        key[klen] = '\0';

        j = mc_get_json(txn, st->tasks, key, klen, &rc);

        if (rc == MC_OK && mc_task_from_json(pool, j, &tasks[*n]) == MC_OK) {
            (*n)++;
        }

        json_decref(j);

        rc = mdb_cursor_get(cur, &k, &v, asc ? MDB_NEXT : MDB_PREV);
    }

    mdb_cursor_close(cur);
    mdb_txn_abort(txn);

    return MC_OK;
}


/* idempotency keys */


typedef struct {
    mc_msec_t   now;
    size_t      max;
    size_t      n;
} mc_purge_t;


static int
mc_purge_body(mc_store_t *st, MDB_txn *txn, void *data)
{
    int          rc;
    json_t      *j;
    MDB_val      k, v, ik;
    mc_msec_t    exp;
    MDB_cursor  *cur;
    mc_purge_t  *p = data;

    p->n = 0;

    rc = mdb_cursor_open(txn, st->idem_exp, &cur);
    if (rc != 0) {
        return mc_store_fail(st, "mdb_cursor_open()", rc);
    }

    rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST);

    while (rc == 0 && p->n < p->max && k.mv_size > 8
           && (mc_msec_t) mc_get_be64(k.mv_data) <= p->now)
    {
        ik.mv_data = (char *) k.mv_data + 8;
        ik.mv_size = k.mv_size - 8;

        /* the key itself goes only if this expiry is still its own */
        j = mc_get_json(txn, st->idem, ik.mv_data, ik.mv_size, &rc);
        exp = json_integer_value(json_object_get(j, "exp"));
        json_decref(j);

        if (rc == MC_OK && exp <= p->now) {
            rc = mdb_del(txn, st->idem, &ik, NULL);
            if (rc != 0) {
                mdb_cursor_close(cur);
                return mc_store_fail(st, "mdb_del(idem)", rc);
            }
        }

        rc = mdb_cursor_del(cur, 0);
        if (rc != 0) {
            mdb_cursor_close(cur);
            return mc_store_fail(st, "mdb_cursor_del(idem_exp)", rc);
        }

        p->n++;

        /* after a delete, the next item is where the cursor stands */
        rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
    }

    mdb_cursor_close(cur);

    return p->n ? MC_OK : MC_DECLINED;
}


int
mc_store_idem_purge(mc_store_t *st, mc_msec_t now, size_t max, size_t *n)
{
    int          rc;
    MDB_val      k, v;
    MDB_txn     *txn;
    MDB_cursor  *cur;
    mc_purge_t   p;

    *n = 0;

    /* a read first: usually nothing is due and no write lock is taken */
    if (mc_txn_begin(st, MDB_RDONLY, &txn) != MC_OK) {
        return MC_ERROR;
    }

    rc = mdb_cursor_open(txn, st->idem_exp, &cur);

    if (rc == 0) {
        rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST);

        if (rc == 0 && (k.mv_size <= 8
                        || (mc_msec_t) mc_get_be64(k.mv_data) > now))
        {
            rc = MDB_NOTFOUND;
        }

        mdb_cursor_close(cur);
    }

    mdb_txn_abort(txn);

    if (rc == MDB_NOTFOUND) {
        return MC_OK;
    }

    if (rc != 0) {
        return mc_store_fail(st, "idempotency keys", rc);
    }

    p.now = now;
    p.max = max;
    p.n = 0;

    rc = mc_write(st, mc_purge_body, &p);

    if (rc == MC_DECLINED) {
        rc = MC_OK;
    }

    if (rc == MC_OK) {
        *n = p.n;
    }

    return rc;
}


/* ledger */


const char *
mc_ledger_type_name(mc_ledger_type_e type)
{
    return (unsigned) type < 6 ? mc_ledger_names[type] : "unknown";
}


int
mc_ledger_type_from_name(const char *name, mc_ledger_type_e *type)
{
    int  i;

    for (i = 0; i < 6; i++) {
        if (strcmp(name, mc_ledger_names[i]) == 0) {
            *type = (mc_ledger_type_e) i;
            return MC_OK;
        }
    }

    return MC_ERROR;
}


static int
mc_ledger_append(mc_store_t *st, MDB_txn *txn, const mc_account_t *a,
    mc_ledger_type_e type, int64_t amount, const char *task,
    const char *reason, const char *actor, mc_msec_t now, int64_t *seq_out)
{
    int            rc;
    char           key[MC_NAME_MAX + 16];
    size_t         klen;
    json_t        *e;
    uint64_t       seq, last;
    unsigned char  be[8];

    rc = mc_meta_get(txn, st->meta, "ledger_seq", &seq);
    if (rc == MC_ERROR) {
        return mc_store_fail(st, "ledger sequence", MDB_CORRUPTED);
    }

    seq++;

    /* an entry's time never goes back, whichever worker's clock wrote
     * it, so that a time range is a range of sequence numbers */
    rc = mc_meta_get(txn, st->meta, "ledger_at", &last);
    if (rc == MC_ERROR) {
        return mc_store_fail(st, "ledger time", MDB_CORRUPTED);
    }

    if (now < (mc_msec_t) last) {
        now = (mc_msec_t) last;
    }

    if (mc_meta_put(st, txn, "ledger_seq", seq) != MC_OK
        || mc_meta_put(st, txn, "ledger_at", (uint64_t) now) != MC_OK)
    {
        return MC_ERROR;
    }

    e = json_pack("{s:I, s:I, s:s, s:s, s:I, s:I, s:I}",
                  "seq", (json_int_t) seq, "at", (json_int_t) now,
                  "account", a->id, "type", mc_ledger_type_name(type),
                  "amount", (json_int_t) amount,
                  "balance", (json_int_t) a->balance,
                  "reserved", (json_int_t) a->reserved);

    if (e && task) {
        json_object_set_new(e, "task", json_string(task));
    }

    if (e && reason) {
        json_object_set_new(e, "reason", json_string(reason));
    }

    if (e && actor) {
        json_object_set_new(e, "actor", json_string(actor));
    }

    mc_be64(be, seq);

    if (mc_put_json(st, txn, st->ledger, be, 8, e) != MC_OK) {
        return MC_ERROR;
    }

    klen = mc_pair_key(key, sizeof(key), a->id, be, 8);

    if (mc_put_empty(st, txn, st->acct_ledger, key, klen, "acct_ledger")
        != MC_OK)
    {
        return MC_ERROR;
    }

    if (seq_out) {
        *seq_out = (int64_t) seq;
    }

    return MC_OK;
}


static json_t *
mc_ledger_get(MDB_txn *txn, MDB_dbi ledger, uint64_t seq)
{
    MDB_val        k, v;
    unsigned char  be[8];

    mc_be64(be, seq);
    k.mv_data = be;
    k.mv_size = 8;

    if (mdb_get(txn, ledger, &k, &v) != 0) {
        return NULL;
    }

    return json_loadb(v.mv_data, v.mv_size, 0, NULL);
}


/* the first sequence number whose entry is at or after t: last + 1 when
 * none is; a binary search, as times never go back */

static int
mc_ledger_seek(MDB_txn *txn, MDB_dbi ledger, uint64_t last, mc_msec_t t,
    uint64_t *seq)
{
    json_t     *e;
    uint64_t    lo, hi, mid;
    mc_msec_t   at;

    lo = 1;
    hi = last + 1;

    while (lo < hi) {
        mid = lo + (hi - lo) / 2;

        e = mc_ledger_get(txn, ledger, mid);
        if (e == NULL) {
            return MC_ERROR;
        }

        at = json_integer_value(json_object_get(e, "at"));
        json_decref(e);

        if (at < t) {
            lo = mid + 1;

        } else {
            hi = mid;
        }
    }

    *seq = lo;

    return MC_OK;
}


int
mc_store_ledger_each(mc_store_t *st, const mc_ledger_query_t *q,
    mc_ledger_pt fn, void *data, int *more)
{
    int             rc, done;
    char            key[MC_NAME_MAX + 16];
    size_t          plen, count;
    json_t         *e;
    MDB_val         k, v;
    MDB_txn        *txn;
    uint64_t        lo, hi, last, seq, s;
    mc_msec_t       at;
    MDB_cursor     *cur;
    MDB_cursor_op   step;
    unsigned char   be[8];

    if (more) {
        *more = 0;
    }

    if (mc_txn_begin(st, MDB_RDONLY, &txn) != MC_OK) {
        return MC_ERROR;
    }

    if (mc_meta_get(txn, st->meta, "ledger_seq", &last) == MC_ERROR) {
        mdb_txn_abort(txn);
        return mc_store_fail(st, "ledger sequence", MDB_CORRUPTED);
    }

    /* the bounds as a range of sequence numbers */
    lo = 1;
    hi = last;

    if (q->after > 0 && (uint64_t) q->after + 1 > lo) {
        lo = (uint64_t) q->after + 1;
    }

    if (q->before > 0 && (uint64_t) q->before - 1 < hi) {
        hi = (uint64_t) q->before - 1;
    }

    rc = MC_OK;

    if (q->since > 0) {
        rc = mc_ledger_seek(txn, st->ledger, last, q->since, &s);
        if (rc == MC_OK && s > lo) {
            lo = s;
        }
    }

    if (rc == MC_OK && q->until > 0) {
        rc = mc_ledger_seek(txn, st->ledger, last, q->until, &s);
        if (rc == MC_OK && s - 1 < hi) {
            hi = s - 1;
        }
    }

    if (rc != MC_OK) {
        mdb_txn_abort(txn);
        snprintf(st->err, sizeof(st->err), "the ledger has a gap: run "
                 "\"makeclip audit\"");
        return MC_ERROR;
    }

    if (lo > hi || last == 0) {
        mdb_txn_abort(txn);
        return MC_OK;
    }

    plen = 0;

    if (q->account) {
        plen = mc_pair_key(key, sizeof(key) - 8, q->account, "", 0);
        if (plen == 0) {
            mdb_txn_abort(txn);
            return MC_OK;
        }
    }

    rc = mdb_cursor_open(txn, q->account ? st->acct_ledger : st->ledger,
                         &cur);
    if (rc != 0) {
        mdb_txn_abort(txn);
        return mc_store_fail(st, "mdb_cursor_open()", rc);
    }

    /* start at the first (or last) sequence number in range */
    mc_be64(be, q->asc ? lo : hi);
    memcpy(key + plen, be, 8);

    k.mv_data = q->account ? (void *) key : (void *) be;
    k.mv_size = plen + 8;

    rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);

    if (!q->asc) {
        if (rc == 0 && !(k.mv_size == plen + 8
                         && memcmp(k.mv_data, key, plen + 8) == 0))
        {
            rc = mdb_cursor_get(cur, &k, &v, MDB_PREV);

        } else if (rc == MDB_NOTFOUND) {
            rc = mdb_cursor_get(cur, &k, &v, MDB_LAST);
        }
    }

    step = q->asc ? MDB_NEXT : MDB_PREV;
    count = 0;
    done = 0;

    for ( /* void */ ; rc == 0 && !done;
         rc = mdb_cursor_get(cur, &k, &v, step))
    {
        if (k.mv_size != plen + 8
            || (plen && memcmp(k.mv_data, key, plen) != 0))
        {
            break;
        }

        seq = mc_get_be64((unsigned char *) k.mv_data + plen);

        if (seq < lo || seq > hi) {
            break;
        }

        e = q->account ? mc_ledger_get(txn, st->ledger, seq)
                       : json_loadb(v.mv_data, v.mv_size, 0, NULL);

        if (e == NULL) {
            continue;
        }

        at = json_integer_value(json_object_get(e, "at"));

        if ((q->since && at < q->since) || (q->until && at >= q->until)) {
            json_decref(e);
            continue;
        }

        if (q->limit && count == q->limit) {
            if (more) {
                *more = 1;
            }

            json_decref(e);
            break;
        }

        count++;

        if (fn(e, data) != MC_OK) {
            done = 1;
        }

        json_decref(e);
    }

    mdb_cursor_close(cur);
    mdb_txn_abort(txn);

    return MC_OK;
}


static int
mc_ledger_collect(json_t *entry, void *data)
{
    return json_array_append(data, entry) == 0 ? MC_OK : MC_ERROR;
}


json_t *
mc_store_ledger_json(mc_store_t *st, const char *account, int64_t before,
    size_t limit)
{
    json_t             *arr;
    mc_ledger_query_t   q;

    arr = json_array();
    if (arr == NULL) {
        return NULL;
    }

    if (limit == 0) {
        return arr;
    }

    memset(&q, 0, sizeof(q));
    q.account = account;
    q.before = before;
    q.limit = limit;

    if (mc_store_ledger_each(st, &q, mc_ledger_collect, arr, NULL) != MC_OK)
    {
        json_decref(arr);
        return NULL;
    }

    return arr;
}


/* the audit */


/* a string-keyed table of fixed-size values, for the audit's sums */

typedef struct {
    char       *key;
    void       *val;
} mc_hent_t;

typedef struct {
    mc_hent_t  *ents;
    size_t      n;
    size_t      cap;
    size_t      vsize;
    unsigned    failed:1;
} mc_hmap_t;


typedef struct {
    int64_t     sum[6];         /* by mc_ledger_type_e */
    int64_t     balance;        /* running, entry by entry */
    int64_t     reserved;
    int64_t     rec_reserved;   /* what the account record says */
    int64_t     rec_active;
    int64_t     task_credits;   /* held by its tasks in charge reserved */
    int64_t     task_count;
    unsigned    exists:1;
    unsigned    drift:1;
    unsigned    negative:1;
} mc_audit_acct_t;

typedef struct {
    const char *account;        /* a key of the accounts table */
    int64_t     reserve;
    int64_t     settle;
    int64_t     refund;
    unsigned    reserves:8;
    unsigned    settles:8;
    unsigned    refunds:8;
    unsigned    exists:1;
} mc_audit_task_t;

typedef struct {
    json_t     *problems;
    size_t      nproblems;
    mc_hmap_t   accts;
    mc_hmap_t   tasks;
} mc_audit_t;


static uint64_t
mc_hash(const char *s, size_t len)
{
    size_t    i;
    uint64_t  h;

    h = 14695981039346656037ULL;

    for (i = 0; i < len; i++) {
        h ^= (unsigned char) s[i];
        h *= 1099511628211ULL;
    }

    return h;
}


static void *
mc_hmap_get(mc_hmap_t *m, const char *key, size_t len, int create,
    const char **stored)
{
    size_t      i, j, cap;
    mc_hent_t  *ents, *e;

    if (m->cap) {
        for (i = mc_hash(key, len) & (m->cap - 1); /* void */ ;
             i = (i + 1) & (m->cap - 1))
        {
            e = &m->ents[i];

            if (e->key == NULL) {
                break;
            }

            if (strncmp(e->key, key, len) == 0 && e->key[len] == '\0') {
                if (stored) {
                    *stored = e->key;
                }
                return e->val;
            }
        }
    }

    if (!create) {
        return NULL;
    }

    if ((m->n + 1) * 2 > m->cap) {
        cap = m->cap ? m->cap * 2 : 1024;

        ents = calloc(cap, sizeof(mc_hent_t));
        if (ents == NULL) {
            m->failed = 1;
            return NULL;
        }

        for (j = 0; j < m->cap; j++) {
            if (m->ents[j].key == NULL) {
                continue;
            }

            for (i = mc_hash(m->ents[j].key, strlen(m->ents[j].key))
                     & (cap - 1);
                 ents[i].key;
                 i = (i + 1) & (cap - 1))
            {
                /* void */
            }

            ents[i] = m->ents[j];
        }

        free(m->ents);
        m->ents = ents;
        m->cap = cap;
    }

    for (i = mc_hash(key, len) & (m->cap - 1); m->ents[i].key;
         i = (i + 1) & (m->cap - 1))
    {
        /* void */
    }

    e = &m->ents[i];

    e->key = malloc(len + 1);
    e->val = calloc(1, m->vsize);

    if (e->key == NULL || e->val == NULL) {
        free(e->key);
        free(e->val);
        e->key = NULL;
        m->failed = 1;
        return NULL;
    }

    memcpy(e->key, key, len);
    e->key[len] = '\0';
    m->n++;

    if (stored) {
        *stored = e->key;
    }

    return e->val;
}


static void
mc_hmap_free(mc_hmap_t *m)
{
    size_t  i;

    for (i = 0; i < m->cap; i++) {
        free(m->ents[i].key);
        free(m->ents[i].val);
    }

    free(m->ents);
}


static void
mc_audit_problem(mc_audit_t *au, json_t *p)
{
    au->nproblems++;

    if (p && json_array_size(au->problems) < MC_AUDIT_MAX) {
        json_array_append_new(au->problems, p);

    } else {
        json_decref(p);
    }
}


/* pass 1: the ledger in order, each entry against the one before */

static int
mc_audit_ledger(mc_store_t *st, MDB_txn *txn, mc_audit_t *au,
    uint64_t *last)
{
    int                rc;
    json_t            *e;
    int64_t            amount;
    MDB_val            k, v;
    uint64_t           seq, expect;
    const char        *id, *tname, *task, *akey;
    MDB_cursor        *cur;
    mc_audit_acct_t   *ac;
    mc_audit_task_t   *tk;
    mc_ledger_type_e   type;

    rc = mdb_cursor_open(txn, st->ledger, &cur);
    if (rc != 0) {
        return rc;
    }

    expect = 1;

    while ((rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) == 0) {

        seq = k.mv_size == 8 ? mc_get_be64(k.mv_data) : 0;

        if (seq != expect) {
            mc_audit_problem(au, json_pack("{s:s, s:I, s:I}", "problem",
                                           "the ledger has a gap or a "
                                           "stray key", "expected_seq",
                                           (json_int_t) expect, "found_seq",
                                           (json_int_t) seq));
        }

        expect = seq + 1;

        e = json_loadb(v.mv_data, v.mv_size, 0, NULL);
        id = mc_json_str(e, "account");
        tname = mc_json_str(e, "type");
        task = mc_json_str(e, "task");
        amount = json_integer_value(json_object_get(e, "amount"));

        if (id == NULL || tname == NULL
            || mc_ledger_type_from_name(tname, &type) != MC_OK)
        {
            mc_audit_problem(au, json_pack("{s:s, s:I}", "problem",
                                           "damaged ledger entry", "seq",
                                           (json_int_t) seq));
            json_decref(e);
            continue;
        }

        ac = mc_hmap_get(&au->accts, id, strlen(id), 1, &akey);
        if (ac == NULL) {
            json_decref(e);
            break;
        }

        ac->sum[type] += amount;

        switch (type) {
        case MC_LEDGER_GRANT:
            ac->balance += amount;
            break;
        case MC_LEDGER_ADJUST:
            ac->balance += amount;
            break;
        case MC_LEDGER_EXPIRE:
            ac->balance -= amount;
            break;
        case MC_LEDGER_RESERVE:
            ac->balance -= amount;
            ac->reserved += amount;
            break;
        case MC_LEDGER_SETTLE:
            ac->reserved -= amount;
            break;
        case MC_LEDGER_REFUND:
            ac->reserved -= amount;
            ac->balance += amount;
            break;
        }

        if ((type == MC_LEDGER_GRANT || type == MC_LEDGER_EXPIRE)
            ? amount <= 0 : (type == MC_LEDGER_ADJUST ? amount == 0
                                                      : amount < 0))
        {
            mc_audit_problem(au, json_pack("{s:s, s:I, s:s, s:I}", "problem",
                                           "entry with an impossible amount",
                                           "seq", (json_int_t) seq, "type",
                                           tname, "amount",
                                           (json_int_t) amount));
        }

        /* each entry records the account after it: the running sums
         * must arrive there, or an entry is missing or was changed */
        if (!ac->drift
            && (ac->balance != json_integer_value(json_object_get(e,
                                                             "balance"))
                || ac->reserved != json_integer_value(json_object_get(e,
                                                             "reserved"))))
        {
            ac->drift = 1;
            mc_audit_problem(au, json_pack("{s:s, s:s, s:I, s:I, s:I, s:I,"
                                           " s:I}", "problem",
                                           "ledger entry does not follow "
                                           "from the ones before",
                                           "account", id,
                                           "seq", (json_int_t) seq,
                                           "balance", json_integer_value(
                                               json_object_get(e, "balance")),
                                           "expected_balance",
                                           (json_int_t) ac->balance,
                                           "reserved", json_integer_value(
                                               json_object_get(e, "reserved")),
                                           "expected_reserved",
                                           (json_int_t) ac->reserved));
        }

        if (!ac->negative && (ac->balance < 0 || ac->reserved < 0)) {
            ac->negative = 1;
            mc_audit_problem(au, json_pack("{s:s, s:s, s:I}", "problem",
                                           "balance or reserved below zero",
                                           "account", id, "seq",
                                           (json_int_t) seq));
        }

        if (type != MC_LEDGER_RESERVE && type != MC_LEDGER_SETTLE
            && type != MC_LEDGER_REFUND)
        {
            json_decref(e);
            continue;
        }

        if (task == NULL) {
            mc_audit_problem(au, json_pack("{s:s, s:I}", "problem",
                                           "reservation entry without a "
                                           "task", "seq", (json_int_t) seq));
            json_decref(e);
            continue;
        }

        tk = mc_hmap_get(&au->tasks, task, strlen(task), 1, NULL);
        if (tk == NULL) {
            json_decref(e);
            break;
        }

        if (tk->account == NULL) {
            tk->account = akey;

        } else if (strcmp(tk->account, id) != 0) {
            mc_audit_problem(au, json_pack("{s:s, s:s, s:I}", "problem",
                                           "a task's entries name two "
                                           "accounts", "task", task, "seq",
                                           (json_int_t) seq));
        }

        if (type == MC_LEDGER_RESERVE) {
            tk->reserve += amount;
            tk->reserves += tk->reserves < 255;

        } else {
            if (tk->reserves == 0) {
                mc_audit_problem(au, json_pack("{s:s, s:s, s:I}", "problem",
                                               "settled or refunded before "
                                               "it was reserved", "task",
                                               task, "seq",
                                               (json_int_t) seq));
            }

            if (type == MC_LEDGER_SETTLE) {
                tk->settle += amount;
                tk->settles += tk->settles < 255;

            } else {
                tk->refund += amount;
                tk->refunds += tk->refunds < 255;
            }
        }

        json_decref(e);
    }

    mdb_cursor_close(cur);

    *last = expect - 1;

    if (au->accts.failed || au->tasks.failed) {
        return ENOMEM;
    }

    return rc == MDB_NOTFOUND ? 0 : rc;
}


/* pass 2: the per-account index of the ledger, one key per entry */

static int
mc_audit_ledger_index(mc_store_t *st, MDB_txn *txn, mc_audit_t *au,
    uint64_t last)
{
    int          rc;
    json_t      *e;
    size_t       alen;
    MDB_val      k, v;
    uint64_t     seq, n;
    const char  *id;
    MDB_cursor  *cur;

    rc = mdb_cursor_open(txn, st->acct_ledger, &cur);
    if (rc != 0) {
        return rc;
    }

    n = 0;

    while ((rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) == 0) {
        n++;

        if (k.mv_size < 10) {
            mc_audit_problem(au, json_pack("{s:s}", "problem",
                                           "damaged account ledger key"));
            continue;
        }

        alen = k.mv_size - 9;
        seq = mc_get_be64((unsigned char *) k.mv_data + alen + 1);
        e = mc_ledger_get(txn, st->ledger, seq);
        id = mc_json_str(e, "account");

        if (id == NULL || strlen(id) != alen
            || memcmp(id, k.mv_data, alen) != 0)
        {
            mc_audit_problem(au, json_pack("{s:s, s:s#, s:I}", "problem",
                                           "account ledger key points to "
                                           "another account's entry",
                                           "account", k.mv_data, (int) alen,
                                           "seq", (json_int_t) seq));
        }

        json_decref(e);
    }

    mdb_cursor_close(cur);

    if (rc != MDB_NOTFOUND) {
        return rc;
    }

    if (n != last) {
        mc_audit_problem(au, json_pack("{s:s, s:I, s:I}", "problem",
                                       "the account ledger index does not "
                                       "list every entry once",
                                       "entries", (json_int_t) last,
                                       "index_keys", (json_int_t) n));
    }

    return 0;
}


/* pass 3: each account record against the sums of its entries */

static int
mc_audit_accounts(mc_store_t *st, MDB_txn *txn, mc_audit_t *au,
    size_t *naccts)
{
    int               rc;
    json_t           *j;
    int64_t           bal, res;
    MDB_val           k, v;
    MDB_cursor       *cur;
    mc_account_t      a;
    mc_audit_acct_t  *ac;

    rc = mdb_cursor_open(txn, st->accounts, &cur);
    if (rc != 0) {
        return rc;
    }

    while ((rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) == 0) {
        (*naccts)++;

        j = json_loadb(v.mv_data, v.mv_size, 0, NULL);

        if (j == NULL || mc_account_from_json(j, &a) != MC_OK
            || strlen(a.id) != k.mv_size
            || memcmp(a.id, k.mv_data, k.mv_size) != 0)
        {
            mc_audit_problem(au, json_pack("{s:s, s:s#}", "problem",
                                           "damaged account", "account",
                                           k.mv_data, (int) k.mv_size));
            json_decref(j);
            continue;
        }

        json_decref(j);

        ac = mc_hmap_get(&au->accts, a.id, strlen(a.id), 1, NULL);
        if (ac == NULL) {
            break;
        }

        ac->exists = 1;
        ac->rec_reserved = a.reserved;
        ac->rec_active = a.active;

#define SUM(t)  ac->sum[t]

        bal = SUM(MC_LEDGER_GRANT) + SUM(MC_LEDGER_ADJUST)
              - SUM(MC_LEDGER_EXPIRE) - SUM(MC_LEDGER_RESERVE)
              + SUM(MC_LEDGER_REFUND);
        res = SUM(MC_LEDGER_RESERVE) - SUM(MC_LEDGER_SETTLE)
              - SUM(MC_LEDGER_REFUND);

        if (a.balance != bal || a.reserved != res
            || a.granted != SUM(MC_LEDGER_GRANT)
            || a.adjusted != SUM(MC_LEDGER_ADJUST)
            || a.expired != SUM(MC_LEDGER_EXPIRE)
            || a.settled != SUM(MC_LEDGER_SETTLE))
        {
            mc_audit_problem(au,
                json_pack("{s:s, s:s, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I,"
                          " s:I, s:I}",
                          "problem", "account does not match its ledger",
                          "account", a.id,
                          "balance", (json_int_t) a.balance,
                          "ledger_balance", (json_int_t) bal,
                          "reserved", (json_int_t) a.reserved,
                          "ledger_reserved", (json_int_t) res,
                          "granted", (json_int_t) a.granted,
                          "ledger_granted",
                          (json_int_t) SUM(MC_LEDGER_GRANT),
                          "settled", (json_int_t) a.settled,
                          "ledger_settled",
                          (json_int_t) SUM(MC_LEDGER_SETTLE),
                          "expired", (json_int_t) a.expired,
                          "ledger_expired",
                          (json_int_t) SUM(MC_LEDGER_EXPIRE)));
        }

#undef SUM

        if (a.balance < 0 || a.reserved < 0) {
            mc_audit_problem(au, json_pack("{s:s, s:s, s:I, s:I}", "problem",
                                           "account below zero", "account",
                                           a.id, "balance",
                                           (json_int_t) a.balance,
                                           "reserved",
                                           (json_int_t) a.reserved));
        }
    }

    mdb_cursor_close(cur);

    if (au->accts.failed) {
        return ENOMEM;
    }

    return rc == MDB_NOTFOUND ? 0 : rc;
}


/* pass 4: each task's charge state against its entries */

static int
mc_audit_tasks(mc_store_t *st, MDB_txn *txn, mc_audit_t *au,
    size_t *ntasks, uint64_t *running)
{
    int                rc;
    char               tkey[MC_NAME_MAX + 64];
    json_t            *e;
    size_t             tlen;
    int64_t            credits;
    MDB_val            k, v, ik, iv;
    mc_msec_t          created;
    const char        *id, *acct, *charge, *status, *why;
    MDB_cursor        *cur;
    mc_audit_acct_t   *ac;
    mc_audit_task_t   *tk, none;

    rc = mdb_cursor_open(txn, st->tasks, &cur);
    if (rc != 0) {
        return rc;
    }

    memset(&none, 0, sizeof(none));

    while ((rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) == 0) {
        (*ntasks)++;

        e = json_loadb(v.mv_data, v.mv_size, 0, NULL);
        id = mc_json_str(e, "id");
        acct = mc_json_str(e, "account");
        charge = mc_json_str(e, "charge");
        status = mc_json_str(e, "status");
        credits = json_integer_value(json_object_get(e, "credits"));
        created = json_integer_value(json_object_get(e, "created_at"));

        if (id == NULL || acct == NULL || charge == NULL || status == NULL
            || strlen(id) != k.mv_size || memcmp(id, k.mv_data, k.mv_size))
        {
            mc_audit_problem(au, json_pack("{s:s, s:s#}", "problem",
                                           "damaged task", "task", k.mv_data,
                                           (int) k.mv_size));
            json_decref(e);
            continue;
        }

        tk = mc_hmap_get(&au->tasks, id, strlen(id), 0, NULL);

        if (tk) {
            tk->exists = 1;

        } else {
            tk = &none;
        }

        ac = mc_hmap_get(&au->accts, acct, strlen(acct), 0, NULL);

        if (ac == NULL || !ac->exists) {
            mc_audit_problem(au, json_pack("{s:s, s:s, s:s}", "problem",
                                           "task of an unknown account",
                                           "task", id, "account", acct));
            ac = NULL;
        }

        why = NULL;

        if (tk->reserves != 1) {
            why = tk->reserves ? "the task has more than one reservation"
                               : "the task has no reservation";

        } else if (strcmp(tk->account, acct) != 0) {
            why = "the task's reservation belongs to another account";

        } else if (tk->reserve != credits) {
            why = "the reservation differs from the task's price";

        } else if (tk->settles && tk->refunds) {
            why = "the task was settled and refunded";

        } else if (tk->settles > 1 || tk->refunds > 1) {
            why = "the task was settled or refunded twice";

        } else if (strcmp(charge, "reserved") == 0) {
            if (tk->settles || tk->refunds) {
                why = "the task holds a reservation the ledger released";

            } else if (strcmp(status, "completed") == 0
                       || strcmp(status, "failed") == 0)
            {
                why = "a finished task still holds its reservation";

            } else if (ac) {
                ac->task_credits += credits;
                ac->task_count++;
                (*running)++;
            }

        } else if (strcmp(charge, "settled") == 0) {
            if (tk->settles != 1 || tk->settle != credits
                || strcmp(status, "completed") != 0)
            {
                why = "a settled task without one settle entry for its "
                      "price, or not completed";
            }

        } else if (strcmp(charge, "refunded") == 0) {
            if (tk->refunds != 1 || tk->refund != credits
                || strcmp(status, "failed") != 0)
            {
                why = "a refunded task without one refund entry for its "
                      "price, or not failed";
            }

        } else {
            why = "the task has no charge state";
        }

        if (why) {
            mc_audit_problem(au, json_pack("{s:s, s:s, s:s, s:s, s:I}",
                                           "problem", why, "task", id,
                                           "charge", charge, "status",
                                           status, "credits",
                                           (json_int_t) credits));
        }

        /* the account's task list has it */
        tlen = mc_task_key(tkey, sizeof(tkey), acct, created, id);
        ik.mv_data = tkey;
        ik.mv_size = tlen;

        if (tlen == 0 || mdb_get(txn, st->acct_tasks, &ik, &iv) != 0) {
            mc_audit_problem(au, json_pack("{s:s, s:s}", "problem",
                                           "task missing from its "
                                           "account's list", "task", id));
        }

        json_decref(e);
    }

    mdb_cursor_close(cur);

    return rc == MDB_NOTFOUND ? 0 : rc;
}


json_t *
mc_store_audit(mc_store_t *st, char *err, size_t errlen)
{
    int               rc;
    size_t            i, naccts, ntasks;
    json_t           *report;
    MDB_txn          *txn;
    MDB_stat          ms;
    uint64_t          last, counter, running;
    mc_audit_t        au;
    mc_audit_acct_t  *ac;
    mc_audit_task_t  *tk;

    memset(&au, 0, sizeof(au));
    au.accts.vsize = sizeof(mc_audit_acct_t);
    au.tasks.vsize = sizeof(mc_audit_task_t);

    au.problems = json_array();
    if (au.problems == NULL) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }

    /* one snapshot for every pass; on a thread, the map must not move */
    pthread_mutex_lock(&st->lock);
    st->thread_txns++;
    pthread_mutex_unlock(&st->lock);

    rc = mdb_txn_begin(st->env, NULL, MDB_RDONLY, &txn);

    if (rc != 0) {
        pthread_mutex_lock(&st->lock);
        st->thread_txns--;
        pthread_mutex_unlock(&st->lock);

        snprintf(err, errlen, "mdb_txn_begin() failed: %s%s",
                 mdb_strerror(rc), rc == MDB_MAP_RESIZED
                 ? " (the map grew meanwhile: run the audit again)" : "");
        json_decref(au.problems);
        return NULL;
    }

    last = 0;
    naccts = 0;
    ntasks = 0;
    running = 0;

    rc = mc_audit_ledger(st, txn, &au, &last);

    if (rc == 0) {
        rc = mc_audit_ledger_index(st, txn, &au, last);
    }

    if (rc == 0) {
        rc = mc_audit_accounts(st, txn, &au, &naccts);
    }

    if (rc == 0) {
        rc = mc_audit_tasks(st, txn, &au, &ntasks, &running);
    }

    if (rc == 0) {
        if (mc_meta_get(txn, st->meta, "ledger_seq", &counter) == MC_ERROR
            || counter != last)
        {
            mc_audit_problem(&au, json_pack("{s:s, s:I, s:I}", "problem",
                                       "the ledger's sequence counter is "
                                       "not its last entry", "counter",
                                       (json_int_t) counter, "last_seq",
                                       (json_int_t) last));
        }

        if (mc_meta_get(txn, st->meta, "reserved_tasks", &counter)
            == MC_ERROR
            || counter != running)
        {
            mc_audit_problem(&au, json_pack("{s:s, s:I, s:I}", "problem",
                                            "the count of running tasks is "
                                            "wrong", "counter",
                                            (json_int_t) counter, "tasks",
                                            (json_int_t) running));
        }

        if (mdb_stat(txn, st->acct_tasks, &ms) == 0
            && ms.ms_entries != ntasks)
        {
            mc_audit_problem(&au, json_pack("{s:s, s:I, s:I}", "problem",
                                            "account task lists do not list "
                                            "every task once", "tasks",
                                            (json_int_t) ntasks, "listed",
                                            (json_int_t) ms.ms_entries));
        }

        /* a reservation whose task is gone */
        for (i = 0; i < au.tasks.cap; i++) {
            tk = au.tasks.ents[i].val;

            if (au.tasks.ents[i].key && !tk->exists) {
                mc_audit_problem(&au, json_pack("{s:s, s:s, s:s}",
                                                "problem", "reservation "
                                                "without its task", "task",
                                                au.tasks.ents[i].key,
                                                "account", tk->account
                                                ? tk->account : ""));
            }
        }

        for (i = 0; i < au.accts.cap; i++) {
            ac = au.accts.ents[i].val;

            if (au.accts.ents[i].key == NULL) {
                continue;
            }

            if (!ac->exists) {
                mc_audit_problem(&au, json_pack("{s:s, s:s}", "problem",
                                                "ledger entries of an "
                                                "unknown account", "account",
                                                au.accts.ents[i].key));
                continue;
            }

            if (ac->rec_reserved != ac->task_credits
                || ac->rec_active != ac->task_count)
            {
                mc_audit_problem(&au,
                    json_pack("{s:s, s:s, s:I, s:I, s:I, s:I}", "problem",
                              "reserved credits do not match the tasks "
                              "holding them", "account",
                              au.accts.ents[i].key,
                              "reserved", (json_int_t) ac->rec_reserved,
                              "tasks_credits",
                              (json_int_t) ac->task_credits,
                              "active", (json_int_t) ac->rec_active,
                              "tasks_running", (json_int_t) ac->task_count));
            }
        }
    }

    mdb_txn_abort(txn);

    pthread_mutex_lock(&st->lock);
    st->thread_txns--;
    pthread_mutex_unlock(&st->lock);

    mc_hmap_free(&au.accts);
    mc_hmap_free(&au.tasks);

    if (rc != 0) {
        snprintf(err, errlen, "the audit could not read the store: %s",
                 rc == ENOMEM ? "out of memory" : mdb_strerror(rc));
        json_decref(au.problems);
        return NULL;
    }

    report = json_object();
    if (report == NULL) {
        snprintf(err, errlen, "out of memory");
        json_decref(au.problems);
        return NULL;
    }

    json_object_set_new(report, "clean", json_boolean(au.nproblems == 0));
    json_object_set_new(report, "problems", au.problems);
    json_object_set_new(report, "problems_total",
                        json_integer((json_int_t) au.nproblems));
    json_object_set_new(report, "accounts", json_integer(naccts));
    json_object_set_new(report, "tasks", json_integer(ntasks));
    json_object_set_new(report, "tasks_running", json_integer(running));
    json_object_set_new(report, "ledger_entries", json_integer(last));

    return report;
}


json_t *
mc_store_stats(mc_store_t *st)
{
    size_t        i;
    json_t       *o;
    MDB_txn      *txn;
    MDB_stat      ms;
    uint64_t      v;
    MDB_envinfo   info;

    static const char  *names[] = {
        "accounts", "keys", "tasks", "acct_tasks", "ledger", "acct_ledger",
        "idem", "idem_exp", "meta"
    };

    if (mc_txn_begin(st, MDB_RDONLY, &txn) != MC_OK) {
        return NULL;
    }

    MDB_dbi  dbis[] = {
        st->accounts, st->keys, st->tasks, st->acct_tasks, st->ledger,
        st->acct_ledger, st->idem, st->idem_exp, st->meta
    };

    o = json_object();

    for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        if (mdb_stat(txn, dbis[i], &ms) == 0) {
            json_object_set_new(o, names[i], json_integer(ms.ms_entries));
        }
    }

    if (mc_meta_get(txn, st->meta, "ledger_seq", &v) != MC_ERROR) {
        json_object_set_new(o, "ledger_seq", json_integer((json_int_t) v));
    }

    if (mc_meta_get(txn, st->meta, "reserved_tasks", &v) != MC_ERROR) {
        json_object_set_new(o, "tasks_running",
                            json_integer((json_int_t) v));
    }

    mdb_env_info(st->env, &info);

    json_object_set_new(o, "page_size", json_integer(st->psize));
    json_object_set_new(o, "map_size", json_integer(info.me_mapsize));
    json_object_set_new(o, "max_map_size", json_integer(st->map_max));
    json_object_set_new(o, "map_used",
                        json_integer((json_int_t) (info.me_last_pgno + 1)
                                     * st->psize));
    json_object_set_new(o, "readers_max", json_integer(info.me_maxreaders));
    json_object_set_new(o, "readers_used", json_integer(info.me_numreaders));

    mdb_txn_abort(txn);

    return o;
}


int
mc_parse_time(const char *s, mc_msec_t *ms)
{
    int         n;
    char        z;
    size_t      len;
    int64_t     v;
    struct tm   tm;

    len = strlen(s);

    if (len > 2 && strcmp(s + len - 2, "ms") == 0) {
        if (mc_parse_int(s, len - 2, &v) != MC_OK) {
            return MC_ERROR;
        }

        *ms = v;
        return MC_OK;
    }

    if (mc_parse_int(s, len, &v) == MC_OK) {
        if (v > INT64_MAX / 1000) {
            return MC_ERROR;
        }

        *ms = v * 1000;
        return MC_OK;
    }

    /* an RFC 3339 date or UTC time, as exports and reports write them */
    memset(&tm, 0, sizeof(tm));
    n = 0;
    z = '\0';

    if (sscanf(s, "%4d-%2d-%2d%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
               &n) != 3
        || n != 10)
    {
        return MC_ERROR;
    }

    s += 10;

    if (*s == 'T' || *s == ' ') {
        n = 0;

        if (sscanf(s + 1, "%2d:%2d%n", &tm.tm_hour, &tm.tm_min, &n) != 2
            || n != 5)
        {
            return MC_ERROR;
        }

        s += 6;

        if (*s == ':') {
            n = 0;

            if (sscanf(s + 1, "%2d%n", &tm.tm_sec, &n) != 1 || n != 2) {
                return MC_ERROR;
            }

            s += 3;
        }

        z = *s;

        if (z == 'Z') {
            s++;
        }
    }

    if (*s != '\0' || tm.tm_mon < 1 || tm.tm_mon > 12 || tm.tm_mday < 1
        || tm.tm_mday > 31 || tm.tm_hour > 23 || tm.tm_min > 59
        || tm.tm_sec > 60)
    {
        return MC_ERROR;
    }

    tm.tm_year -= 1900;
    tm.tm_mon -= 1;

    *ms = (mc_msec_t) timegm(&tm) * 1000;

    return MC_OK;
}


/* internals */


static int
mc_store_fail(mc_store_t *st, const char *what, int rc)
{
    st->last_rc = rc;
    snprintf(st->err, sizeof(st->err), "%s failed: %s", what,
             mdb_strerror(rc));
    return MC_ERROR;
}


static int
mc_txn_begin(mc_store_t *st, unsigned flags, MDB_txn **txn)
{
    int  rc;

    if (st->read_only) {
        flags |= MDB_RDONLY;
    }

    rc = mdb_txn_begin(st->env, NULL, flags, txn);

    if (rc == MDB_MAP_RESIZED) {
        /* another process grew the map: adopt its size and go on */
        if (mc_set_mapsize(st, 0) != MC_OK) {
            return MC_ERROR;
        }

        rc = mdb_txn_begin(st->env, NULL, flags, txn);
    }

    if (rc != 0) {
        return mc_store_fail(st, "mdb_txn_begin()", rc);
    }

    return MC_OK;
}


static int
mc_txn_commit(mc_store_t *st, MDB_txn *txn)
{
    int  rc;

    rc = mdb_txn_commit(txn);

    if (rc != 0) {
        mc_store_fail(st, "mdb_txn_commit()", rc);
        return rc == MDB_MAP_FULL ? MC_STORE_FULL : MC_ERROR;
    }

    return MC_OK;
}


static json_t *
mc_get_json(MDB_txn *txn, MDB_dbi dbi, const void *key, size_t klen, int *rc)
{
    int       r;
    json_t   *j;
    MDB_val   k, v;

    k.mv_data = (void *) key;
    k.mv_size = klen;

    r = mdb_get(txn, dbi, &k, &v);

    if (r == MDB_NOTFOUND) {
        *rc = MC_NOT_FOUND;
        return NULL;
    }

    if (r != 0) {
        *rc = MC_ERROR;
        return NULL;
    }

    j = json_loadb(v.mv_data, v.mv_size, 0, NULL);
    *rc = j ? MC_OK : MC_ERROR;

    return j;
}


static int
mc_put_json(mc_store_t *st, MDB_txn *txn, MDB_dbi dbi, const void *key,
    size_t klen, json_t *value)
{
    int       rc;
    char     *s;
    MDB_val   k, v;

    if (value == NULL) {
        snprintf(st->err, sizeof(st->err), "out of memory");
        return MC_ERROR;
    }

    s = json_dumps(value, JSON_COMPACT);
    json_decref(value);

    if (s == NULL) {
        snprintf(st->err, sizeof(st->err), "out of memory");
        return MC_ERROR;
    }

    k.mv_data = (void *) key;
    k.mv_size = klen;
    v.mv_data = s;
    v.mv_size = strlen(s);

    rc = mdb_put(txn, dbi, &k, &v, 0);
    free(s);

    if (rc != 0) {
        return mc_store_fail(st, "mdb_put()", rc);
    }

    return MC_OK;
}


static int
mc_put_empty(mc_store_t *st, MDB_txn *txn, MDB_dbi dbi, const void *key,
    size_t klen, const char *what)
{
    int      rc;
    char     buf[64];
    MDB_val  k, v;

    k.mv_data = (void *) key;
    k.mv_size = klen;
    v.mv_data = "";
    v.mv_size = 0;

    rc = mdb_put(txn, dbi, &k, &v, 0);

    if (rc != 0) {
        snprintf(buf, sizeof(buf), "mdb_put(%s)", what);
        return mc_store_fail(st, buf, rc);
    }

    return MC_OK;
}


/* an unsigned counter in meta: MC_NOT_FOUND leaves *v at 0 */

static int
mc_meta_get(MDB_txn *txn, MDB_dbi meta, const char *name, uint64_t *v)
{
    int      rc;
    MDB_val  k, d;

    *v = 0;

    k.mv_data = (void *) name;
    k.mv_size = strlen(name);

    rc = mdb_get(txn, meta, &k, &d);

    if (rc == MDB_NOTFOUND) {
        return MC_NOT_FOUND;
    }

    if (rc != 0 || d.mv_size != 8) {
        return MC_ERROR;
    }

    *v = mc_get_be64(d.mv_data);

    return MC_OK;
}


static int
mc_meta_put(mc_store_t *st, MDB_txn *txn, const char *name, uint64_t v)
{
    int            rc;
    MDB_val        k, d;
    unsigned char  be[8];

    mc_be64(be, v);

    k.mv_data = (void *) name;
    k.mv_size = strlen(name);
    d.mv_data = be;
    d.mv_size = 8;

    rc = mdb_put(txn, st->meta, &k, &d, 0);
    if (rc != 0) {
        return mc_store_fail(st, "mdb_put(meta)", rc);
    }

    return MC_OK;
}


static int
mc_account_read(mc_store_t *st, MDB_txn *txn, const char *id,
    mc_account_t *a)
{
    int      rc;
    json_t  *j;

    j = mc_get_json(txn, st->accounts, id, strlen(id), &rc);

    if (rc == MC_ERROR) {
        snprintf(st->err, sizeof(st->err), "account \"%.64s\" cannot be "
                 "read", id);
    }

    if (rc != MC_OK) {
        return rc;
    }

    rc = mc_account_from_json(j, a);
    json_decref(j);

    return rc;
}


static int
mc_account_write(mc_store_t *st, MDB_txn *txn, const mc_account_t *a)
{
    return mc_put_json(st, txn, st->accounts, a->id, strlen(a->id),
                       mc_account_json(a));
}


static int
mc_account_from_json(json_t *j, mc_account_t *a)
{
    const char  *id, *plan;

    memset(a, 0, sizeof(mc_account_t));

    id = mc_json_str(j, "id");
    plan = mc_json_str(j, "plan");

    if (id == NULL || plan == NULL) {
        return MC_ERROR;
    }

    mc_strlcpy(a->id, id, sizeof(a->id));
    mc_strlcpy(a->plan, plan, sizeof(a->plan));

    a->balance = json_integer_value(json_object_get(j, "balance"));
    a->reserved = json_integer_value(json_object_get(j, "reserved"));
    a->granted = json_integer_value(json_object_get(j, "granted"));
    a->adjusted = json_integer_value(json_object_get(j, "adjusted"));
    a->expired = json_integer_value(json_object_get(j, "expired"));
    a->settled = json_integer_value(json_object_get(j, "settled"));
    a->active = json_integer_value(json_object_get(j, "active"));
    a->created_at = json_integer_value(json_object_get(j, "created_at"));
    a->disabled = json_is_true(json_object_get(j, "disabled"));

    return MC_OK;
}


/* "account" \0 <bytes>: account ids cannot hold NUL, so prefixes are
 * unambiguous; 0 when it does not fit */

static size_t
mc_pair_key(char *buf, size_t size, const char *a, const void *b,
    size_t blen)
{
    size_t  alen;

    alen = strlen(a);

    if (alen + 1 + blen > size) {
        return 0;
    }

    memcpy(buf, a, alen);
    buf[alen] = '\0';

    if (blen) {
        memcpy(buf + alen + 1, b, blen);
    }

    return alen + 1 + blen;
}


/* account \0 be64(created) id: an account's tasks in creation order */

static size_t
mc_task_key(char *buf, size_t size, const char *account, mc_msec_t created,
    const char *id)
{
    size_t         len, idlen;
    unsigned char  be[8];

    idlen = strlen(id);

    if (idlen > MC_ID_LEN || size < idlen) {
        return 0;
    }

    mc_be64(be, (uint64_t) created);

    len = mc_pair_key(buf, size - idlen, account, be, 8);
    if (len == 0) {
        return 0;
    }

    memcpy(buf + len, id, idlen);

    return len + idlen;
}


static void
mc_be64(unsigned char *p, uint64_t v)
{
    int  i;

    for (i = 7; i >= 0; i--) {
        p[i] = (unsigned char) v;
        v >>= 8;
    }
}


static uint64_t
mc_get_be64(const unsigned char *p)
{
    int       i;
    uint64_t  v;

    v = 0;

    for (i = 0; i < 8; i++) {
        v = (v << 8) | p[i];
    }

    return v;
}


static int
mc_valid_name(const char *s)
{
    size_t  n;

    n = strlen(s);

    if (n == 0 || n > MC_NAME_MAX) {
        return 0;
    }

    return strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                     "0123456789_.-@") == n;
}
