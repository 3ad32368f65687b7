
/*
 * The store's books under damage and pressure: the audit finds a missing
 * entry, a changed amount, a second settle, a lost task and a charge
 * state the ledger does not back; expired idempotency keys are purged;
 * ledger times never go back; a full map refuses reservations but keeps
 * room for every settle, and grows up to max_map_size.
 */

#include "tap.h"
#include "mc_store.h"

#include <stdlib.h>
#include <unistd.h>
#include <lmdb.h>


static char        dir[64];
static mc_store_t *st;
static mc_pool_t  *pool;
static int         grew;


static void
logger(void *data, const char *msg)
{
    grew++;
}


static void
open_store(size_t map, size_t max)
{
    char             err[256];
    mc_store_opts_t  o;

    memset(&o, 0, sizeof(o));
    o.map_size = map;
    o.max_map_size = max;
    o.nosync = 1;

    if (mc_store_open(&st, dir, &o, err, sizeof(err)) != MC_OK) {
        printf("Bail out! %s\n", err);
        exit(1);
    }

    mc_store_set_logger(st, logger, NULL);
}


static void
fresh(size_t map, size_t max)
{
    char  cmd[128];

    if (st) {
        mc_store_close(st);
        st = NULL;
    }

    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    if (system(cmd) != 0) {
        printf("Bail out! rm\n");
        exit(1);
    }

    open_store(map, max);
}


static mc_task_t
task(const char *id, int64_t credits, mc_msec_t at)
{
    mc_task_t  t;

    memset(&t, 0, sizeof(t));
    snprintf(t.id, sizeof(t.id), "%s", id);
    t.account = "acme";
    t.status = MC_TASK_SUBMITTING;
    t.model = "m";
    t.credits = credits;
    t.created_at = at;
    t.polled_at = at;

    return t;
}


/* acme: 100 granted; video_a settled (40), video_b refunded (20),
 * video_c running (10) */

static void
books(void)
{
    char       existing[MC_ID_LEN + 1];
    mc_task_t  t, out;

    mc_store_account_create_ex(st, "acme", "pro", 100, "start", NULL, 1000);

    t = task("video_a", 40, 2000);
    mc_store_task_reserve(st, &t, 0, NULL, NULL, 0, existing);
    t = task("video_b", 20, 2001);
    mc_store_task_reserve(st, &t, 0, NULL, NULL, 0, existing);
    t = task("video_c", 10, 2002);
    mc_store_task_reserve(st, &t, 0, NULL, NULL, 0, existing);

    mc_store_task_get(st, pool, "video_a", &t);
    t.status = MC_TASK_COMPLETED;
    mc_store_task_save(st, pool, &t, 3000, &out);

    mc_store_task_get(st, pool, "video_b", &t);
    t.status = MC_TASK_FAILED;
    mc_store_task_save(st, pool, &t, 3001, &out);
}


/* the audit's problems joined, for matching */

static size_t
audit(char *text, size_t size)
{
    char     err[256];
    size_t   i, n, len;
    json_t  *r, *p;

    text[0] = '\0';

    r = mc_store_audit(st, err, sizeof(err));
    if (r == NULL) {
        snprintf(text, size, "failed: %s", err);
        return (size_t) -1;
    }

    n = (size_t) json_integer_value(json_object_get(r, "problems_total"));
    len = 0;

    json_array_foreach(json_object_get(r, "problems"), i, p) {
        len += snprintf(text + len, size - len, "%s; ",
                        mc_json_str(p, "problem"));
        if (len >= size) {
            break;
        }
    }

    json_decref(r);

    return n;
}


/* raw LMDB, behind the store's back */

typedef struct {
    MDB_env  *env;
    MDB_txn  *txn;
} raw_t;


static void
raw_open(raw_t *raw)
{
    mc_store_close(st);
    st = NULL;

    mdb_env_create(&raw->env);
    mdb_env_set_maxdbs(raw->env, 16);
    mdb_env_open(raw->env, dir, 0, 0600);
    mdb_txn_begin(raw->env, NULL, 0, &raw->txn);
}


static void
raw_close(raw_t *raw)
{
    mdb_txn_commit(raw->txn);
    mdb_env_close(raw->env);

    open_store(0, 0);
}


static MDB_dbi
raw_dbi(raw_t *raw, const char *name)
{
    MDB_dbi  dbi;

    mdb_dbi_open(raw->txn, name, 0, &dbi);
    return dbi;
}


static void
be64(unsigned char *p, uint64_t v)
{
    int  i;

    for (i = 7; i >= 0; i--) {
        p[i] = (unsigned char) v;
        v >>= 8;
    }
}


/* rewrites a JSON record with one integer or string field changed */

static void
raw_set(raw_t *raw, const char *db, const void *key, size_t klen,
    const char *field, json_t *value)
{
    char     *s;
    json_t   *j;
    MDB_dbi   dbi;
    MDB_val   k, v;

    dbi = raw_dbi(raw, db);
    k.mv_data = (void *) key;
    k.mv_size = klen;

    if (mdb_get(raw->txn, dbi, &k, &v) != 0) {
        printf("# raw_set: no such key\n");
        return;
    }

    j = json_loadb(v.mv_data, v.mv_size, 0, NULL);
    json_object_set_new(j, field, value);
    s = json_dumps(j, JSON_COMPACT);

    v.mv_data = s;
    v.mv_size = strlen(s);
    mdb_put(raw->txn, dbi, &k, &v, 0);

    free(s);
    json_decref(j);
}


static int
collect(json_t *e, void *data)
{
    json_array_append(data, e);
    return MC_OK;
}


int
main(void)
{
    int                 i, rc, more;
    char                text[4096], existing[MC_ID_LEN + 1];
    size_t              n, ok_count;
    json_t             *arr, *s;
    raw_t               raw;
    MDB_val             k;
    mc_task_t           t, out;
    mc_credit_t         c;
    mc_msec_t           ms;
    unsigned char       be[8];
    mc_ledger_query_t   q;

    snprintf(dir, sizeof(dir), "/tmp/mc-store-audit-%d", (int) getpid());
    pool = mc_pool_create(4096);

    /* clean books */
    fresh(16 << 20, 0);
    books();
    is_int(audit(text, sizeof(text)), 0, "the books balance: %s", text);

    /* an entry removed: a gap, and the account no longer matches */
    raw_open(&raw);
    be64(be, 5);                                /* video_a's settle */
    k.mv_data = be;
    k.mv_size = 8;
    mdb_del(raw.txn, raw_dbi(&raw, "ledger"), &k, NULL);
    raw_close(&raw);

    ok(audit(text, sizeof(text)) >= 3
       && strstr(text, "the ledger has a gap")
       && strstr(text, "account does not match its ledger")
       && strstr(text, "a settled task without one settle entry"),
       "a removed settle is found: %s", text);

    /* an amount changed */
    fresh(16 << 20, 0);
    books();
    raw_open(&raw);
    be64(be, 3);                                /* video_b's reserve */
    raw_set(&raw, "ledger", be, 8, "amount", json_integer(2));
    raw_close(&raw);

    ok(audit(text, sizeof(text)) >= 2
       && strstr(text, "ledger entry does not follow from the ones before")
       && strstr(text, "the reservation differs from the task's price"),
       "a changed amount is found: %s", text);

    /* a task that holds a reservation, gone */
    fresh(16 << 20, 0);
    books();
    raw_open(&raw);
    k.mv_data = "video_c";
    k.mv_size = 7;
    mdb_del(raw.txn, raw_dbi(&raw, "tasks"), &k, NULL);
    raw_close(&raw);

    ok(audit(text, sizeof(text)) >= 1
       && strstr(text, "reservation without its task")
       && strstr(text, "reserved credits do not match the tasks"),
       "a reservation without its task is found: %s", text);

    /* a charge state the ledger does not back */
    fresh(16 << 20, 0);
    books();
    raw_open(&raw);
    raw_set(&raw, "tasks", "video_c", 7, "charge", json_string("refunded"));
    raw_set(&raw, "tasks", "video_c", 7, "status", json_string("failed"));
    raw_close(&raw);

    ok(audit(text, sizeof(text)) >= 1
       && strstr(text, "a refunded task without one refund entry"),
       "a refund with no entry is found: %s", text);

    /* a second settle appended, with the account made to agree */
    fresh(16 << 20, 0);
    books();
    raw_open(&raw);
    {
        char  *e;

        e = "{\"seq\":6,\"at\":4000,\"account\":\"acme\",\"type\":\"settle\","
            "\"amount\":40,\"balance\":30,\"reserved\":-30,"
            "\"task\":\"video_a\"}";
        be64(be, 6);
        k.mv_data = be;
        k.mv_size = 8;
        mdb_put(raw.txn, raw_dbi(&raw, "ledger"), &k,
                &(MDB_val) { strlen(e), e }, 0);
        mdb_put(raw.txn, raw_dbi(&raw, "meta"),
                &(MDB_val) { 10, "ledger_seq" }, &(MDB_val) { 8, be }, 0);
    }
    raw_set(&raw, "accounts", "acme", 4, "settled", json_integer(80));
    raw_set(&raw, "accounts", "acme", 4, "reserved", json_integer(-30));
    raw_close(&raw);

    ok(audit(text, sizeof(text)) >= 2
       && strstr(text, "settled or refunded twice")
       && strstr(text, "below zero"),
       "a second settle is found: %s", text);

    /* ledger times never go back; queries by time and sequence */
    fresh(16 << 20, 0);
    mc_store_account_create(st, "acme", "pro", 1);

    for (i = 0; i < 10; i++) {
        memset(&c, 0, sizeof(c));
        c.account = "acme";
        c.type = MC_LEDGER_GRANT;
        c.amount = 1;
        c.now = (i == 5) ? 4000 : 10000 + i * 1000;   /* a clock step back */
        mc_store_credit_ex(st, &c);
    }

    arr = mc_store_ledger_json(st, NULL, 7, 1);
    is_int(json_integer_value(json_object_get(json_array_get(arr, 0), "at")),
           14000, "the entry after a step back keeps the time before it");
    json_decref(arr);

    memset(&q, 0, sizeof(q));
    q.account = "acme";
    q.since = 12000;
    q.until = 16000;
    q.asc = 1;
    arr = json_array();
    mc_store_ledger_each(st, &q, collect, arr, &more);
    is_int(json_array_size(arr), 4, "since/until select [12000, 16000)");
    is_int(json_integer_value(json_object_get(json_array_get(arr, 0), "seq")),
           3, "from seq 3");
    json_decref(arr);

    q.limit = 2;
    q.since = 0;
    q.until = 0;
    q.after = 8;
    arr = json_array();
    mc_store_ledger_each(st, &q, collect, arr, &more);
    is_int(json_array_size(arr), 2, "after=8 limit=2");
    ok(!more, "and no more");
    json_decref(arr);

    ok(mc_parse_time("2026-11-25T10:00:00Z", &ms) == MC_OK
       && ms == 1795600800000LL, "an RFC 3339 time");
    ok(mc_parse_time("1795600800", &ms) == MC_OK && ms == 1795600800000LL,
       "seconds");
    ok(mc_parse_time("17ms", &ms) == MC_OK && ms == 17, "milliseconds");
    ok(mc_parse_time("2026-13-01", &ms) != MC_OK, "a bad month");

    /* expired idempotency keys are purged, live ones kept */
    t = task("video_i1", 1, 5000);
    mc_store_credit(st, "acme", MC_LEDGER_GRANT, 100, NULL, 5000, NULL);
    mc_store_task_reserve(st, &t, 0, "key-1", "h1", 1000, existing);
    t = task("video_i2", 1, 5000);
    mc_store_task_reserve(st, &t, 0, "key-2", "h2", 60000, existing);

    mc_store_idem_purge(st, 5500, 100, &n);
    is_int(n, 0, "nothing due yet");
    mc_store_idem_purge(st, 7000, 100, &n);
    is_int(n, 1, "one key past its time");

    s = mc_store_stats(st);
    is_int(json_integer_value(json_object_get(s, "idem")), 1, "one left");
    json_decref(s);

    t = task("video_i3", 1, 7001);
    is_int(mc_store_task_reserve(st, &t, 0, "key-2", "h2", 60000, existing),
           MC_STORE_IDEM_SAME, "the live key still answers");
    t = task("video_i4", 1, 7001);
    is_int(mc_store_task_reserve(st, &t, 0, "key-1", "h9", 1000, existing),
           MC_OK, "the purged key is free");

    /* expiry */
    memset(&c, 0, sizeof(c));
    c.account = "acme";
    c.type = MC_LEDGER_EXPIRE;
    c.amount = MC_CREDIT_ALL;
    c.reason = "end";
    c.now = 8000;
    is_int(mc_store_credit_ex(st, &c), MC_OK, "expire all");
    is_str(mc_ledger_type_name(c.type), "expire", "an expire entry");
    ok(c.applied > 0 && c.balance == 0, "the balance expired, %lld",
       (long long) c.applied);
    is_int(audit(text, sizeof(text)), 0, "the books balance: %s", text);

    /* a full map: reservations refused, settles always fit */
    fresh(1 << 20, 0);
    mc_store_account_create_ex(st, "acme", "pro", 1000000, NULL, NULL, 1);

    ok_count = 0;

    for (i = 0; i < 5000; i++) {
        char  id[32];

        snprintf(id, sizeof(id), "video_%d", i);
        t = task(id, 10, 1000 + i);
        t.prompt = "a long prompt that takes room in the map, as real "
                   "prompts do, a few hundred bytes of description and "
                   "style and camera moves and lighting and mood";
        rc = mc_store_task_reserve(st, &t, 0, NULL, NULL, 0, existing);

        if (rc != MC_OK) {
            break;
        }

        ok_count++;
    }

    is_int(rc, MC_STORE_FULL, "the map fills: %zu reservations", ok_count);

    n = 0;

    for (i = 0; i < (int) ok_count; i++) {
        char  id[32];

        snprintf(id, sizeof(id), "video_%d", i);
        mc_store_task_get(st, pool, id, &t);
        t.status = (i % 3) ? MC_TASK_COMPLETED : MC_TASK_FAILED;
        t.progress = 100;
        t.provider_video_url = "https://example.com/a/rather/long/url/to/"
                               "the/finished/video.mp4";

        if (mc_store_task_save(st, pool, &t, 900000 + i, &out) == MC_OK
            && out.charge != MC_CHARGE_RESERVED)
        {
            n++;
        }
    }

    is_int(n, ok_count, "every running task still settles or refunds");
    is_int(audit(text, sizeof(text)), 0, "a full map's books balance: %s",
           text);

    /* the same load in a map that may grow */
    fresh(1 << 20, 8 << 20);
    mc_store_account_create_ex(st, "acme", "pro", 1000000, NULL, NULL, 1);
    grew = 0;

    for (i = 0; i < (int) ok_count + 200; i++) {
        char  id[32];

        snprintf(id, sizeof(id), "video_%d", i);
        t = task(id, 10, 1000 + i);
        t.prompt = "a long prompt that takes room in the map, as real "
                   "prompts do, a few hundred bytes of description and "
                   "style and camera moves and lighting and mood";

        if (mc_store_task_reserve(st, &t, 0, NULL, NULL, 0, existing)
            != MC_OK)
        {
            break;
        }
    }

    is_int(i, ok_count + 200, "a growing map takes more");
    ok(grew >= 1, "the growth was reported %d times", grew);

    s = mc_store_stats(st);
    ok(json_integer_value(json_object_get(s, "map_size")) > (1 << 20),
       "the map is larger");
    json_decref(s);

    mc_store_close(st);
    mc_pool_destroy(pool);

    snprintf(text, sizeof(text), "rm -rf %s", dir);
    if (system(text) != 0) {
        printf("# could not remove %s\n", dir);
    }

    return done_testing();
}
