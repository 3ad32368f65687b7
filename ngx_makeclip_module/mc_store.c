
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
 *   idem         account \0 idempotency key      -> {task, hash, at}
 *   meta         name                            -> value
 */

#include "mc_store.h"
#include "mc_crypto.h"

#include <stdio.h>
#include <stdlib.h>
#include <errno.h>
#include <sys/stat.h>
#include <lmdb.h>


#define MC_STORE_VERSION  1


struct mc_store_s {
    MDB_env     *env;
    MDB_dbi      accounts;
    MDB_dbi      keys;
    MDB_dbi      tasks;
    MDB_dbi      acct_tasks;
    MDB_dbi      ledger;
    MDB_dbi      acct_ledger;
    MDB_dbi      idem;
    MDB_dbi      meta;
    unsigned     read_only:1;
    int          last_rc;           /* LMDB's code for the last failure */
    char         err[256];
};


static int mc_store_fail(mc_store_t *st, const char *what, int rc);
static int mc_store_rc(mc_store_t *st);
static int mc_txn_begin(mc_store_t *st, unsigned flags, MDB_txn **txn);
static int mc_txn_commit(mc_store_t *st, MDB_txn *txn);
static json_t *mc_get_json(MDB_txn *txn, MDB_dbi dbi, const void *key,
    size_t klen, int *rc);
static int mc_put_json(mc_store_t *st, MDB_txn *txn, MDB_dbi dbi,
    const void *key, size_t klen, json_t *value);
static int mc_account_read(mc_store_t *st, MDB_txn *txn, const char *id,
    mc_account_t *a);
static int mc_account_write(mc_store_t *st, MDB_txn *txn,
    const mc_account_t *a);
static int mc_ledger_append(mc_store_t *st, MDB_txn *txn,
    const mc_account_t *a, mc_ledger_type_e type, int64_t amount,
    const char *task, const char *reason, mc_msec_t now);
static size_t mc_pair_key(char *buf, size_t size, const char *a,
    const void *b, size_t blen);
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
    unsigned      flags, dflags;
    mc_store_t   *st;

    st = calloc(1, sizeof(mc_store_t));
    if (st == NULL) {
        snprintf(err, errlen, "out of memory");
        return MC_ERROR;
    }

    st->read_only = o->read_only;

    if (!o->read_only && mkdir(path, 0700) == -1 && errno != EEXIST) {
        snprintf(err, errlen, "mkdir(\"%s\") failed: %s", path,
                 strerror(errno));
        free(st);
        return MC_ERROR;
    }

    rc = mdb_env_create(&st->env);
    if (rc != 0) {
        snprintf(err, errlen, "mdb_env_create() failed: %s",
                 mdb_strerror(rc));
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
     * to a thread, so a sync thread never confuses LMDB's reader table
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
        snprintf(err, errlen, "mdb_txn_commit() failed: %s",
                 mdb_strerror(rc));
        goto failed;
    }

    *stp = st;
    return MC_OK;

failed:

    mdb_env_close(st->env);
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
    free(st);
}


const char *
mc_store_error(mc_store_t *st)
{
    return st->err;
}


int
mc_store_sync(mc_store_t *st)
{
    int  rc;

    rc = mdb_env_sync(st->env, 1);
    if (rc != 0) {
        return mc_store_fail(st, "mdb_env_sync()", rc);
    }

    return MC_OK;
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


/* accounts */


int
mc_store_account_create(mc_store_t *st, const char *id, const char *plan,
    mc_msec_t now)
{
    int            rc;
    MDB_txn       *txn;
    mc_account_t   a;

    if (!mc_valid_name(id) || !mc_valid_name(plan)) {
        snprintf(st->err, sizeof(st->err), "invalid account or plan name");
        return MC_DECLINED;
    }

    if (mc_txn_begin(st, 0, &txn) != MC_OK) {
        return MC_ERROR;
    }

    rc = mc_account_read(st, txn, id, &a);

    if (rc == MC_OK) {
        mdb_txn_abort(txn);
        return MC_STORE_EXISTS;
    }

    if (rc != MC_NOT_FOUND) {
        mdb_txn_abort(txn);
        return MC_ERROR;
    }

    memset(&a, 0, sizeof(mc_account_t));
    mc_strlcpy(a.id, id, sizeof(a.id));
    mc_strlcpy(a.plan, plan, sizeof(a.plan));
    a.created_at = now;

    if (mc_account_write(st, txn, &a) != MC_OK) {
        mdb_txn_abort(txn);
        return mc_store_rc(st);
    }

    return mc_txn_commit(st, txn);
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


static int
mc_account_update(mc_store_t *st, const char *id, const char *plan,
    int disabled)
{
    int            rc;
    MDB_txn       *txn;
    mc_account_t   a;

    if (mc_txn_begin(st, 0, &txn) != MC_OK) {
        return MC_ERROR;
    }

    rc = mc_account_read(st, txn, id, &a);

    if (rc != MC_OK) {
        mdb_txn_abort(txn);
        return rc;
    }

    if (plan) {
        mc_strlcpy(a.plan, plan, sizeof(a.plan));
    }

    if (disabled >= 0) {
        a.disabled = disabled ? 1 : 0;
    }

    if (mc_account_write(st, txn, &a) != MC_OK) {
        mdb_txn_abort(txn);
        return MC_ERROR;
    }

    return mc_txn_commit(st, txn);
}


int
mc_store_account_set_plan(mc_store_t *st, const char *id, const char *plan)
{
    if (!mc_valid_name(plan)) {
        snprintf(st->err, sizeof(st->err), "invalid plan name");
        return MC_DECLINED;
    }

    return mc_account_update(st, id, plan, -1);
}


int
mc_store_account_set_disabled(mc_store_t *st, const char *id, int disabled)
{
    return mc_account_update(st, id, NULL, disabled);
}


json_t *
mc_account_json(const mc_account_t *a)
{
    return json_pack("{s:s, s:s, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:b}",
                     "id", a->id, "plan", a->plan,
                     "balance", (json_int_t) a->balance,
                     "reserved", (json_int_t) a->reserved,
                     "granted", (json_int_t) a->granted,
                     "adjusted", (json_int_t) a->adjusted,
                     "settled", (json_int_t) a->settled,
                     "active", (json_int_t) a->active,
                     "created_at", (json_int_t) a->created_at,
                     "disabled", a->disabled);
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


int
mc_store_key_add(mc_store_t *st, const char *account, const char *given,
    mc_msec_t now, char *key_out, size_t key_len, char *id_out)
{
    int            rc;
    char           hash[65], key[64];
    json_t        *j;
    MDB_txn       *txn;
    unsigned char  rnd[24];
    mc_account_t   a;

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

    mc_sha256_hex(key, strlen(key), hash);

    if (mc_txn_begin(st, 0, &txn) != MC_OK) {
        return MC_ERROR;
    }

    rc = mc_account_read(st, txn, account, &a);
    if (rc != MC_OK) {
        mdb_txn_abort(txn);
        return rc;
    }

    j = mc_get_json(txn, st->keys, hash, 64, &rc);
    json_decref(j);

    if (rc == MC_OK) {
        mdb_txn_abort(txn);
        return MC_STORE_EXISTS;
    }

    j = json_pack("{s:s, s:s#, s:I}", "account", account, "id", hash,
                  (int) MC_KEY_ID_LEN, "created_at", (json_int_t) now);

    if (mc_put_json(st, txn, st->keys, hash, 64, j) != MC_OK) {
        mdb_txn_abort(txn);
        return MC_ERROR;
    }

    rc = mc_txn_commit(st, txn);

    if (rc == MC_OK) {
        mc_strlcpy(key_out, key, key_len);
        memcpy(id_out, hash, MC_KEY_ID_LEN);
        id_out[MC_KEY_ID_LEN] = '\0';
    }

    return rc;
}


int
mc_store_key_revoke(mc_store_t *st, const char *account, const char *key_id)
{
    int          rc, found;
    MDB_val      k, v;
    MDB_txn     *txn;
    MDB_cursor  *cur;
    const char  *acct;
    json_t      *j;

    if (strlen(key_id) < 8) {
        snprintf(st->err, sizeof(st->err), "a key id has at least 8 hex "
                 "digits");
        return MC_DECLINED;
    }

    if (mc_txn_begin(st, 0, &txn) != MC_OK) {
        return MC_ERROR;
    }

    rc = mdb_cursor_open(txn, st->keys, &cur);
    if (rc != 0) {
        mdb_txn_abort(txn);
        return mc_store_fail(st, "mdb_cursor_open()", rc);
    }

    k.mv_data = (void *) key_id;
    k.mv_size = strlen(key_id);
    found = 0;

    /* keys are stored by hash; the id is a prefix of it */
    rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);

    while (rc == 0 && k.mv_size >= strlen(key_id)
           && memcmp(k.mv_data, key_id, strlen(key_id)) == 0)
    {
        j = json_loadb(v.mv_data, v.mv_size, 0, NULL);
        acct = mc_json_str(j, "account");

        if (acct && (account == NULL || strcmp(acct, account) == 0)) {
            rc = mdb_cursor_del(cur, 0);
            json_decref(j);

            if (rc != 0) {
                mdb_cursor_close(cur);
                mdb_txn_abort(txn);
                return mc_store_fail(st, "mdb_cursor_del()", rc);
            }

            found++;
            break;
        }

        json_decref(j);
        rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
    }

    mdb_cursor_close(cur);

    if (!found) {
        mdb_txn_abort(txn);
        return MC_NOT_FOUND;
    }

    return mc_txn_commit(st, txn);
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


int
mc_store_credit(mc_store_t *st, const char *account, mc_ledger_type_e type,
    int64_t amount, const char *reason, mc_msec_t now, int64_t *balance_out)
{
    int            rc;
    MDB_txn       *txn;
    mc_account_t   a;

    if ((type == MC_LEDGER_GRANT && amount <= 0)
        || (type == MC_LEDGER_ADJUST && amount == 0)
        || (type != MC_LEDGER_GRANT && type != MC_LEDGER_ADJUST)
        || amount > (int64_t) 1 << 52 || amount < -((int64_t) 1 << 52))
    {
        snprintf(st->err, sizeof(st->err), "invalid amount");
        return MC_DECLINED;
    }

    if (mc_txn_begin(st, 0, &txn) != MC_OK) {
        return MC_ERROR;
    }

    rc = mc_account_read(st, txn, account, &a);
    if (rc != MC_OK) {
        mdb_txn_abort(txn);
        return rc;
    }

    if (a.balance + amount < 0) {
        mdb_txn_abort(txn);
        return MC_STORE_NO_FUNDS;
    }

    a.balance += amount;

    if (type == MC_LEDGER_GRANT) {
        a.granted += amount;

    } else {
        a.adjusted += amount;
    }

    if (mc_account_write(st, txn, &a) != MC_OK
        || mc_ledger_append(st, txn, &a, type, amount, NULL, reason, now)
           != MC_OK)
    {
        mdb_txn_abort(txn);
        return MC_ERROR;
    }

    rc = mc_txn_commit(st, txn);

    if (rc == MC_OK && balance_out) {
        *balance_out = a.balance;
    }

    return rc;
}


/* tasks */


int
mc_store_task_reserve(mc_store_t *st, mc_task_t *t, int max_active,
    const char *idem_key, const char *body_hash, mc_msec_t idem_ttl,
    char *existing_id)
{
    int            rc;
    char           ikey[MC_NAME_MAX + 300], tkey[MC_NAME_MAX + 64];
    size_t         ilen, tlen;
    json_t        *j;
    MDB_val        k, v;
    MDB_txn       *txn;
    const char    *s;
    mc_account_t   a;
    unsigned char  be[8];

    ilen = 0;

    if (mc_txn_begin(st, 0, &txn) != MC_OK) {
        return MC_ERROR;
    }

    if (idem_key) {
        ilen = mc_pair_key(ikey, sizeof(ikey), t->account, idem_key,
                           strlen(idem_key));
        if (ilen == 0) {
            mdb_txn_abort(txn);
            snprintf(st->err, sizeof(st->err), "idempotency key too long");
            return MC_DECLINED;
        }

        j = mc_get_json(txn, st->idem, ikey, ilen, &rc);

        if (rc == MC_OK
            && json_integer_value(json_object_get(j, "at")) + idem_ttl
               > t->created_at)
        {
            s = mc_json_str(j, "hash");

            if (s && strcmp(s, body_hash) == 0) {
                s = mc_json_str(j, "task");
                mc_strlcpy(existing_id, s ? s : "", MC_ID_LEN + 1);
                rc = MC_STORE_IDEM_SAME;

            } else {
                rc = MC_STORE_IDEM_CONFLICT;
            }

            json_decref(j);
            mdb_txn_abort(txn);
            return rc;
        }

        json_decref(j);

        if (rc == MC_ERROR) {
            mdb_txn_abort(txn);
            return MC_ERROR;
        }
    }

    rc = mc_account_read(st, txn, t->account, &a);
    if (rc != MC_OK) {
        mdb_txn_abort(txn);
        return rc;
    }

    if (a.disabled) {
        mdb_txn_abort(txn);
        return MC_STORE_DISABLED;
    }

    if (max_active > 0 && a.active >= max_active) {
        mdb_txn_abort(txn);
        return MC_STORE_BUSY;
    }

    if (a.balance < t->credits) {
        mdb_txn_abort(txn);
        return MC_STORE_NO_FUNDS;
    }

    a.balance -= t->credits;
    a.reserved += t->credits;
    a.active++;

    t->charge = MC_CHARGE_RESERVED;

    j = mc_task_to_json(t);

    mc_be64(be, (uint64_t) t->created_at);
    tlen = mc_pair_key(tkey, sizeof(tkey) - MC_ID_LEN, t->account, be, 8);
    memcpy(tkey + tlen, t->id, strlen(t->id));
    tlen += strlen(t->id);

    k.mv_data = tkey;
    k.mv_size = tlen;
    v.mv_data = "";
    v.mv_size = 0;

    if (mc_put_json(st, txn, st->tasks, t->id, strlen(t->id), j) != MC_OK
        || (rc = mdb_put(txn, st->acct_tasks, &k, &v, 0),
            rc != 0 && mc_store_fail(st, "mdb_put(acct_tasks)", rc))
        || mc_account_write(st, txn, &a) != MC_OK
        || mc_ledger_append(st, txn, &a, MC_LEDGER_RESERVE, t->credits,
                            t->id, NULL, t->created_at) != MC_OK)
    {
        mdb_txn_abort(txn);
        return mc_store_rc(st);
    }

    if (idem_key) {
        j = json_pack("{s:s, s:s, s:I}", "task", t->id, "hash", body_hash,
                      "at", (json_int_t) t->created_at);

        if (mc_put_json(st, txn, st->idem, ikey, ilen, j) != MC_OK) {
            mdb_txn_abort(txn);
            return mc_store_rc(st);
        }
    }

    return mc_txn_commit(st, txn);
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


int
mc_store_task_save(mc_store_t *st, mc_pool_t *pool, const mc_task_t *t,
    mc_msec_t now, mc_task_t *out)
{
    int                rc;
    json_t            *j;
    MDB_txn           *txn;
    mc_task_t          cur, next;
    mc_account_t       a;
    mc_ledger_type_e   type;

    if (mc_txn_begin(st, 0, &txn) != MC_OK) {
        return MC_ERROR;
    }

    j = mc_get_json(txn, st->tasks, t->id, strlen(t->id), &rc);

    if (rc != MC_OK) {
        mdb_txn_abort(txn);
        return rc;
    }

    rc = mc_task_from_json(pool, j, &cur);
    json_decref(j);

    if (rc != MC_OK) {
        mdb_txn_abort(txn);
        snprintf(st->err, sizeof(st->err), "task \"%s\" is damaged", t->id);
        return MC_ERROR;
    }

    if (mc_task_is_terminal(cur.status)) {
        /* another worker finished it first: its record stands */
        mdb_txn_abort(txn);
        *out = cur;
        return MC_OK;
    }

    /* the caller's view, with the money fields only the store owns */
    next = *t;
    next.account = cur.account;
    next.credits = cur.credits;
    next.charge = cur.charge;
    next.created_at = cur.created_at;
    next.updated_at = now;

    if (mc_task_is_terminal(next.status)) {
        if (next.completed_at == 0) {
            next.completed_at = now;
        }

        if (cur.charge == MC_CHARGE_RESERVED) {
            rc = mc_account_read(st, txn, cur.account, &a);
            if (rc != MC_OK) {
                mdb_txn_abort(txn);
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
                mdb_txn_abort(txn);
                snprintf(st->err, sizeof(st->err), "account \"%s\" would "
                         "hold negative reserved credits", a.id);
                return MC_ERROR;
            }

            if (mc_account_write(st, txn, &a) != MC_OK
                || mc_ledger_append(st, txn, &a, type, cur.credits, cur.id,
                                    NULL, now) != MC_OK)
            {
                mdb_txn_abort(txn);
                return MC_ERROR;
            }
        }
    }

    j = mc_task_to_json(&next);

    if (mc_put_json(st, txn, st->tasks, next.id, strlen(next.id), j)
        != MC_OK)
    {
        mdb_txn_abort(txn);
        return MC_ERROR;
    }

    rc = mc_txn_commit(st, txn);

    if (rc == MC_OK) {
        *out = next;
    }

    return rc;
}


int
mc_store_task_claim_poll(mc_store_t *st, const char *id, mc_msec_t now,
    mc_msec_t stale)
{
    int        rc, pass;
    json_t    *j;
    MDB_txn   *txn;
    mc_msec_t  polled;
    const char *status;

    /*
     * a read transaction first: most callers find the state fresh and
     * never take the write lock
     */
    for (pass = 0; pass < 2; pass++) {
        if (mc_txn_begin(st, pass ? 0 : MDB_RDONLY, &txn) != MC_OK) {
            return MC_ERROR;
        }

        j = mc_get_json(txn, st->tasks, id, strlen(id), &rc);

        if (rc != MC_OK) {
            mdb_txn_abort(txn);
            return rc;
        }

        status = mc_json_str(j, "status");
        polled = json_integer_value(json_object_get(j, "polled_at"));

        if (status == NULL || strcmp(status, "completed") == 0
            || strcmp(status, "failed") == 0 || now - polled < stale)
        {
            json_decref(j);
            mdb_txn_abort(txn);
            return MC_DECLINED;
        }

        if (pass == 0) {
            json_decref(j);
            mdb_txn_abort(txn);
            continue;
        }

        json_object_set_new(j, "polled_at", json_integer(now));

        if (mc_put_json(st, txn, st->tasks, id, strlen(id), j) != MC_OK) {
            mdb_txn_abort(txn);
            return MC_ERROR;
        }

        return mc_txn_commit(st, txn);
    }

    return MC_DECLINED;
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
    unsigned char  be[8];

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

        mc_be64(be, (uint64_t) at.created_at);
        klen = mc_pair_key(key, sizeof(key) - MC_ID_LEN, account, be, 8);
        memcpy(key + klen, at.id, strlen(at.id));
        klen += strlen(at.id);

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


/* ledger */


const char *
mc_ledger_type_name(mc_ledger_type_e type)
{
    return (unsigned) type < 6 ? mc_ledger_names[type] : "unknown";
}


static int
mc_ledger_append(mc_store_t *st, MDB_txn *txn, const mc_account_t *a,
    mc_ledger_type_e type, int64_t amount, const char *task,
    const char *reason, mc_msec_t now)
{
    int            rc;
    char           key[MC_NAME_MAX + 16];
    size_t         klen;
    uint64_t       seq;
    json_t        *e;
    MDB_val        k, v;
    unsigned char  be[8];

    k.mv_data = "ledger_seq";
    k.mv_size = 10;

    rc = mdb_get(txn, st->meta, &k, &v);

    if (rc == 0 && v.mv_size == 8) {
        seq = mc_get_be64(v.mv_data) + 1;

    } else if (rc == MDB_NOTFOUND) {
        seq = 1;

    } else {
        return mc_store_fail(st, "ledger sequence", rc ? rc : MDB_CORRUPTED);
    }

    mc_be64(be, seq);
    v.mv_data = be;
    v.mv_size = 8;

    rc = mdb_put(txn, st->meta, &k, &v, 0);
    if (rc != 0) {
        return mc_store_fail(st, "mdb_put(meta)", rc);
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

    if (mc_put_json(st, txn, st->ledger, be, 8, e) != MC_OK) {
        return MC_ERROR;
    }

    klen = mc_pair_key(key, sizeof(key), a->id, be, 8);

    k.mv_data = key;
    k.mv_size = klen;
    v.mv_data = "";
    v.mv_size = 0;

    rc = mdb_put(txn, st->acct_ledger, &k, &v, 0);
    if (rc != 0) {
        return mc_store_fail(st, "mdb_put(acct_ledger)", rc);
    }

    return MC_OK;
}


json_t *
mc_store_ledger_json(mc_store_t *st, const char *account, int64_t before,
    size_t limit)
{
    int            rc;
    char           key[MC_NAME_MAX + 16];
    size_t         plen;
    json_t        *arr, *e;
    MDB_val        k, v, lk, lv;
    MDB_dbi        dbi;
    MDB_txn       *txn;
    MDB_cursor    *cur;
    unsigned char  be[8];

    if (mc_txn_begin(st, MDB_RDONLY, &txn) != MC_OK) {
        return NULL;
    }

    dbi = account ? st->acct_ledger : st->ledger;

    rc = mdb_cursor_open(txn, dbi, &cur);
    if (rc != 0) {
        mdb_txn_abort(txn);
        mc_store_fail(st, "mdb_cursor_open()", rc);
        return NULL;
    }

    mc_be64(be, before > 0 ? (uint64_t) before : UINT64_MAX);
    plen = 0;

    if (account) {
        plen = mc_pair_key(key, sizeof(key), account, "", 0);
        memcpy(key + plen, be, 8);
        k.mv_data = key;
        k.mv_size = plen + 8;

    } else {
        k.mv_data = be;
        k.mv_size = 8;
    }

    /* newest first: the first key at or after "before", then back */
    rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
    rc = mdb_cursor_get(cur, &k, &v, rc == 0 ? MDB_PREV : MDB_LAST);

    arr = json_array();

    while (rc == 0 && arr && json_array_size(arr) < limit) {
        if (account) {
            if (k.mv_size != plen + 8 || memcmp(k.mv_data, key, plen) != 0) {
                break;
            }

            lk.mv_data = (char *) k.mv_data + plen;
            lk.mv_size = 8;

            if (mdb_get(txn, st->ledger, &lk, &lv) != 0) {
                break;
            }

        } else {
            lv = v;
        }

        e = json_loadb(lv.mv_data, lv.mv_size, 0, NULL);
        if (e) {
            json_array_append_new(arr, e);
        }

        rc = mdb_cursor_get(cur, &k, &v, MDB_PREV);
    }

    mdb_cursor_close(cur);
    mdb_txn_abort(txn);

    return arr;
}


json_t *
mc_store_audit(mc_store_t *st)
{
    int            rc;
    json_t        *problems, *e, *sums, *s, *acct;
    MDB_val        k, v;
    MDB_txn       *txn;
    MDB_cursor    *cur;
    const char    *id, *type, *charge;
    int64_t        amount, exp_balance, exp_reserved;
    mc_account_t   a;

    if (mc_txn_begin(st, MDB_RDONLY, &txn) != MC_OK) {
        return NULL;
    }

    problems = json_array();
    sums = json_object();

    /* one pass over the ledger: per-account sums by type */
    rc = mdb_cursor_open(txn, st->ledger, &cur);

    while (rc == 0 && mdb_cursor_get(cur, &k, &v, MDB_NEXT) == 0) {
        e = json_loadb(v.mv_data, v.mv_size, 0, NULL);
        id = mc_json_str(e, "account");
        type = mc_json_str(e, "type");
        amount = json_integer_value(json_object_get(e, "amount"));

        if (id && type) {
            s = json_object_get(sums, id);
            if (s == NULL) {
                s = json_object();
                json_object_set_new(sums, id, s);
            }

            json_object_set_new(s, type, json_integer(
                json_integer_value(json_object_get(s, type)) + amount));
        }

        json_decref(e);
    }

    if (rc == 0) {
        mdb_cursor_close(cur);
    }

    /* every account's balance and reserved against its ledger */
    rc = mdb_cursor_open(txn, st->accounts, &cur);

    while (rc == 0 && mdb_cursor_get(cur, &k, &v, MDB_NEXT) == 0) {
        acct = json_loadb(v.mv_data, v.mv_size, 0, NULL);

        if (acct == NULL || mc_account_from_json(acct, &a) != MC_OK) {
            json_array_append_new(problems,
                json_pack("{s:s, s:s#}", "problem", "damaged account",
                          "account", k.mv_data, (int) k.mv_size));
            json_decref(acct);
            continue;
        }

        json_decref(acct);

        s = json_object_get(sums, a.id);

#define SUM(t)  json_integer_value(json_object_get(s, t))

        exp_balance = SUM("grant") + SUM("adjust") - SUM("reserve")
                      + SUM("refund");
        exp_reserved = SUM("reserve") - SUM("settle") - SUM("refund");

        if (exp_balance != a.balance || exp_reserved != a.reserved
            || SUM("grant") != a.granted || SUM("adjust") != a.adjusted
            || SUM("settle") != a.settled || a.balance < 0
            || a.reserved < 0)
        {
            json_array_append_new(problems,
                json_pack("{s:s, s:s, s:I, s:I, s:I, s:I}",
                          "problem", "account does not match its ledger",
                          "account", a.id,
                          "balance", (json_int_t) a.balance,
                          "ledger_balance", (json_int_t) exp_balance,
                          "reserved", (json_int_t) a.reserved,
                          "ledger_reserved", (json_int_t) exp_reserved));
        }

#undef SUM

        /* the tasks holding reservations are added up below */
        if (s == NULL) {
            s = json_object();
            json_object_set_new(sums, a.id, s);
        }

        json_object_set_new(s, "_reserved", json_integer(a.reserved));
        json_object_set_new(s, "_reserved_tasks", json_integer(0));
    }

    if (rc == 0) {
        mdb_cursor_close(cur);
    }

    /* every reservation belongs to exactly one task in state reserved */
    rc = mdb_cursor_open(txn, st->tasks, &cur);

    while (rc == 0 && mdb_cursor_get(cur, &k, &v, MDB_NEXT) == 0) {
        e = json_loadb(v.mv_data, v.mv_size, 0, NULL);
        id = mc_json_str(e, "account");
        charge = mc_json_str(e, "charge");
        type = mc_json_str(e, "status");

        if (id && charge && strcmp(charge, "reserved") == 0) {
            s = json_object_get(sums, id);

            if (s == NULL) {
                json_array_append_new(problems,
                    json_pack("{s:s, s:s}", "problem",
                              "task of an unknown account",
                              "task", mc_json_str(e, "id")));

            } else {
                json_object_set_new(s, "_reserved_tasks", json_integer(
                    json_integer_value(json_object_get(s, "_reserved_tasks"))
                    + json_integer_value(json_object_get(e, "credits"))));
            }

            if (type && (strcmp(type, "completed") == 0
                         || strcmp(type, "failed") == 0))
            {
                json_array_append_new(problems,
                    json_pack("{s:s, s:s}", "problem",
                              "finished task still holds its reservation",
                              "task", mc_json_str(e, "id")));
            }
        }

        json_decref(e);
    }

    if (rc == 0) {
        mdb_cursor_close(cur);
    }

    {
        const char  *name;

        json_object_foreach(sums, name, s) {
            if (json_object_get(s, "_reserved") == NULL) {
                continue;
            }

            if (json_integer_value(json_object_get(s, "_reserved"))
                != json_integer_value(json_object_get(s, "_reserved_tasks")))
            {
                json_array_append_new(problems,
                    json_pack("{s:s, s:s, s:I, s:I}", "problem",
                              "reserved credits do not match the tasks "
                              "holding them", "account", name,
                              "reserved", json_integer_value(
                                  json_object_get(s, "_reserved")),
                              "tasks", json_integer_value(
                                  json_object_get(s, "_reserved_tasks"))));
            }
        }
    }

    mdb_txn_abort(txn);
    json_decref(sums);

    return problems;
}


json_t *
mc_store_stats(mc_store_t *st)
{
    MDB_txn      *txn;
    MDB_stat      ms;
    MDB_envinfo   info;
    json_t       *o;
    size_t        i;

    static const char  *names[] = {
        "accounts", "keys", "tasks", "acct_tasks", "ledger", "acct_ledger",
        "idem", "meta"
    };

    if (mc_txn_begin(st, MDB_RDONLY, &txn) != MC_OK) {
        return NULL;
    }

    MDB_dbi dbis[] = {
        st->accounts, st->keys, st->tasks, st->acct_tasks, st->ledger,
        st->acct_ledger, st->idem, st->meta
    };

    o = json_object();

    for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        if (mdb_stat(txn, dbis[i], &ms) == 0) {
            json_object_set_new(o, names[i], json_integer(ms.ms_entries));
        }
    }

    mdb_env_stat(st->env, &ms);
    mdb_env_info(st->env, &info);

    json_object_set_new(o, "map_size", json_integer(info.me_mapsize));
    json_object_set_new(o, "map_used",
                        json_integer((json_int_t) (info.me_last_pgno + 1)
                                     * ms.ms_psize));
    json_object_set_new(o, "readers_max", json_integer(info.me_maxreaders));
    json_object_set_new(o, "readers_used", json_integer(info.me_numreaders));

    mdb_txn_abort(txn);

    return o;
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


/* what a failed write reports: a full map is a condition of its own */

static int
mc_store_rc(mc_store_t *st)
{
    return st->last_rc == MDB_MAP_FULL ? MC_STORE_FULL : MC_ERROR;
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
        rc = mdb_env_set_mapsize(st->env, 0);
        if (rc == 0) {
            rc = mdb_txn_begin(st->env, NULL, flags, txn);
        }
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
