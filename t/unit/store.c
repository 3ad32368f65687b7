
/*
 * The LMDB store: accounts and keys, the create transaction, settle and
 * refund exactly once, idempotency, listing, the ledger and its audit.
 */

#include "tap.h"
#include "mc_store.h"

#include <stdlib.h>
#include <unistd.h>
#include <sys/stat.h>
#include <lmdb.h>


static mc_store_t  *st;
static mc_pool_t   *pool;


static mc_task_t
task(const char *id, const char *account, int64_t credits, mc_msec_t at)
{
    mc_task_t  t;

    memset(&t, 0, sizeof(t));
    strcpy(t.id, id);
    t.account = account;
    t.status = MC_TASK_SUBMITTING;
    t.model = "m";
    t.credits = credits;
    t.created_at = at;
    t.polled_at = at;

    return t;
}


static int64_t
balance(const char *id, int64_t *reserved)
{
    mc_account_t  a;

    if (mc_store_account_get(st, id, &a) != MC_OK) {
        return -1;
    }

    if (reserved) {
        *reserved = a.reserved;
    }

    return a.balance;
}


static size_t
audit_problems(void)
{
    char     err[256];
    size_t   n;
    json_t  *r, *p;

    r = mc_store_audit(st, err, sizeof(err));
    if (r == NULL) {
        printf("# audit failed: %s\n", err);
        return (size_t) -1;
    }

    p = json_object_get(r, "problems");
    n = json_array_size(p);

    if (n || !json_is_true(json_object_get(r, "clean"))) {
        char *s = json_dumps(r, 0);
        printf("# audit: %s\n", s);
        free(s);
    }

    json_decref(r);
    return n;
}


int
main(void)
{
    int              rc, more;
    char             dir[64], key[80], id[16];
    char             existing[MC_ID_LEN + 1], err[256];
    size_t           n;
    int64_t          b, r;
    json_t          *j;
    mc_task_t        t, out, list[10];
    mc_account_t     a;
    mc_store_opts_t  opts;

    snprintf(dir, sizeof(dir), "/tmp/mc-store-%d-%lld", (int) getpid(),
             (long long) mc_now_msec());
    ok(mkdir(dir, 0700) == 0, "a temporary directory");

    memset(&opts, 0, sizeof(opts));
    opts.map_size = 8 * 1024 * 1024;
    opts.nosync = 1;

    ok(mc_store_open(&st, dir, &opts, err, sizeof(err)) == MC_OK,
       "the store opens");
    pool = mc_pool_create(4096);

    /* accounts and keys */
    is_int(mc_store_account_create(st, "acme", "pro", 1), MC_OK, "account");
    is_int(mc_store_account_create(st, "acme", "pro", 1), MC_STORE_EXISTS,
           "no duplicate");
    is_int(mc_store_account_create(st, "bad id", "pro", 1), MC_DECLINED,
           "account ids are plain names");
    is_int(mc_store_account_create(st, "other", "free", 1), MC_OK,
           "a second account");

    is_int(mc_store_key_add(st, "acme", NULL, 1, key, sizeof(key), id), MC_OK,
           "a new key");
    ok(strncmp(key, "mk_", 3) == 0 && strlen(key) == 51, "mk_ + 48 hex");
    is_int(mc_store_key_lookup(st, key, strlen(key), &a), MC_OK,
           "the key finds its account");
    is_str(a.id, "acme", "acme");
    is_int(mc_store_key_lookup(st, "mk_nope", 7, &a), MC_NOT_FOUND,
           "an unknown key");
    is_int(mc_store_key_add(st, "ghost", NULL, 1, key, sizeof(key), id),
           MC_NOT_FOUND, "no key for an unknown account");

    j = mc_store_keys_json(st, "acme");
    is_int(json_array_size(j), 1, "one key listed");
    ok(strstr(json_dumps(j, 0), key + 3) == NULL, "the key itself is not stored");
    json_decref(j);

    is_int(mc_store_key_revoke(st, "acme", id), MC_OK, "revoke by id");
    is_int(mc_store_key_lookup(st, key, strlen(key), &a), MC_NOT_FOUND,
           "a revoked key is gone");

    /* credits */
    is_int(mc_store_credit(st, "acme", MC_LEDGER_GRANT, 100, "test", 2, &b),
           MC_OK, "grant");
    is_int(b, 100, "balance 100");
    is_int(mc_store_credit(st, "acme", MC_LEDGER_GRANT, -5, NULL, 2, &b),
           MC_DECLINED, "a grant is positive");
    is_int(mc_store_credit(st, "acme", MC_LEDGER_ADJUST, -101, "x", 2, &b),
           MC_STORE_NO_FUNDS, "an adjustment never goes below zero");
    is_int(mc_store_credit(st, "acme", MC_LEDGER_ADJUST, -10, "x", 2, &b),
           MC_OK, "adjust down");
    is_int(b, 90, "balance 90");

    /* the create transaction */
    t = task("video_1", "acme", 40, 1000);
    is_int(mc_store_task_reserve(st, &t, 0, NULL, NULL, 0, existing), MC_OK,
           "reserve 40");
    is_int(balance("acme", &r), 50, "balance 50");
    is_int(r, 40, "reserved 40");

    t = task("video_2", "acme", 60, 1001);
    is_int(mc_store_task_reserve(st, &t, 0, NULL, NULL, 0, existing),
           MC_STORE_NO_FUNDS, "60 is more than the 50 left");
    is_int(mc_store_task_get(st, pool, "video_2", &out), MC_NOT_FOUND,
           "and no task was written");

    t = task("video_3", "acme", 10, 1002);
    is_int(mc_store_task_reserve(st, &t, 1, NULL, NULL, 0, existing),
           MC_STORE_BUSY, "one active task allowed, one running");

    /* idempotency */
    t = task("video_4", "acme", 10, 1003);
    is_int(mc_store_task_reserve(st, &t, 0, "k1", "hash-a", 86400000,
                                 existing), MC_OK, "with a key");
    t = task("video_5", "acme", 10, 1004);
    is_int(mc_store_task_reserve(st, &t, 0, "k1", "hash-a", 86400000,
                                 existing), MC_STORE_IDEM_SAME,
           "same key, same body");
    is_str(existing, "video_4", "gives the first task");
    is_int(mc_store_task_reserve(st, &t, 0, "k1", "hash-b", 86400000,
                                 existing), MC_STORE_IDEM_CONFLICT,
           "same key, another body");
    is_int(balance("acme", NULL), 40, "charged once");

    t = task("video_6", "other", 0, 1005);
    mc_store_credit(st, "other", MC_LEDGER_GRANT, 5, NULL, 1, NULL);
    t.credits = 5;
    is_int(mc_store_task_reserve(st, &t, 0, "k1", "hash-a", 86400000,
                                 existing), MC_OK, "keys are per account");

    t = task("video_7", "acme", 10, 90000000);
    is_int(mc_store_task_reserve(st, &t, 0, "k1", "hash-z", 86400000,
                                 existing), MC_OK,
           "an expired key is free again");

    /* settle and refund, exactly once */
    mc_store_task_get(st, pool, "video_1", &t);
    t.status = MC_TASK_COMPLETED;
    is_int(mc_store_task_save(st, pool, &t, 2000, &out), MC_OK, "complete");
    is_int(out.charge, MC_CHARGE_SETTLED, "settled");
    balance("acme", &r);
    is_int(r, 20, "reservation released (10 + 10 left)");

    t.status = MC_TASK_FAILED;
    is_int(mc_store_task_save(st, pool, &t, 2001, &out), MC_OK,
           "a late failure");
    is_int(out.status, MC_TASK_COMPLETED, "does not change a finished task");
    is_int(out.charge, MC_CHARGE_SETTLED, "nor its charge");

    mc_store_task_get(st, pool, "video_4", &t);
    t.status = MC_TASK_FAILED;
    t.credits = 9999;               /* a caller cannot change the price */
    mc_store_task_save(st, pool, &t, 2002, &out);
    is_int(out.charge, MC_CHARGE_REFUNDED, "refunded");
    is_int(out.credits, 10, "at the reserved price");
    mc_store_task_save(st, pool, &t, 2003, &out);
    is_int(balance("acme", &r), 40, "refunded once: 30 + 10");
    is_int(r, 10, "video_7 still holds 10");

    /* polls */
    mc_store_task_get(st, pool, "video_7", &t);
    t.status = MC_TASK_QUEUED;
    mc_store_task_save(st, pool, &t, 90000001, &out);
    is_int(mc_store_task_claim_poll(st, "video_7", 90000100, 2000),
           MC_DECLINED, "fresh: no poll");
    is_int(mc_store_task_claim_poll(st, "video_7", 90002001, 2000), MC_OK,
           "stale: this caller polls");
    is_int(mc_store_task_claim_poll(st, "video_7", 90002002, 2000),
           MC_DECLINED, "the next caller within the interval does not");
    is_int(mc_store_task_claim_poll(st, "video_1", 99999999, 0),
           MC_DECLINED, "never for a finished task");

    /* listing */
    rc = mc_store_task_list(st, pool, "acme", NULL, 2, 0, list, &n, &more);
    ok(rc == MC_OK && n == 2 && more, "a first page of two");
    is_str(list[0].id, "video_7", "newest first");
    rc = mc_store_task_list(st, pool, "acme", list[1].id, 10, 0, list, &n,
                            &more);
    ok(rc == MC_OK && n == 1 && !more, "the rest");
    is_str(list[0].id, "video_1", "oldest last");
    rc = mc_store_task_list(st, pool, "acme", NULL, 10, 1, list, &n, &more);
    is_str(list[0].id, "video_1", "ascending");
    rc = mc_store_task_list(st, pool, "other", NULL, 10, 0, list, &n, &more);
    ok(n == 1 && strcmp(list[0].id, "video_6") == 0,
       "only the account's own tasks");
    rc = mc_store_task_list(st, pool, "other", "video_1", 10, 0, list, &n,
                            &more);
    is_int(rc, MC_NOT_FOUND, "another account's cursor is refused");

    /* the ledger */
    j = mc_store_ledger_json(st, "acme", 0, 100);
    ok(json_array_size(j) >= 7, "every movement is an entry");
    is_str(mc_json_str(json_array_get(j, 0), "type"), "refund",
           "newest first");
    json_decref(j);

    is_int(audit_problems(), 0, "the books balance");

    /* a balance changed behind the ledger's back is found */
    {
        MDB_env  *env;
        MDB_txn  *txn;
        MDB_dbi   dbi;
        MDB_val   k, v;
        char      buf[512];

        mc_store_close(st);

        mdb_env_create(&env);
        mdb_env_set_maxdbs(env, 16);
        mdb_env_open(env, dir, 0, 0600);
        mdb_txn_begin(env, NULL, 0, &txn);
        mdb_dbi_open(txn, "accounts", 0, &dbi);
        k.mv_data = "other";
        k.mv_size = 5;
        mdb_get(txn, dbi, &k, &v);
        snprintf(buf, sizeof(buf), "%.*s", (int) v.mv_size,
                 (char *) v.mv_data);
        j = json_loads(buf, 0, NULL);
        json_object_set_new(j, "balance", json_integer(1000));
        free(json_dumps(j, 0));
        {
            char *s = json_dumps(j, JSON_COMPACT);
            v.mv_data = s;
            v.mv_size = strlen(s);
            mdb_put(txn, dbi, &k, &v, 0);
            free(s);
        }
        json_decref(j);
        mdb_txn_commit(txn);
        mdb_env_close(env);

        mc_store_open(&st, dir, &opts, err, sizeof(err));
        ok(audit_problems() == 1, "the audit names the account");
    }

    mc_store_close(st);
    mc_pool_destroy(pool);

    {
        char cmd[256];
        snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
        if (system(cmd) != 0) {
            printf("# could not remove %s\n", dir);
        }
    }

    return done_testing();
}
