
/*
 * The store: accounts, API keys, tasks, the credit ledger and idempotency
 * keys in one LMDB environment.
 *
 * Every credit movement is one write transaction that changes the
 * account, the task and appends its ledger entry together, so the books
 * balance after any crash: for each account
 *
 *     grants + adjustments - expiries - reserves + refunds  = balance
 *     reserves - settles - refunds                          = reserved
 *
 * hence grants + adjustments - expiries - settled - reserved = balance,
 * and a reservation is settled or refunded at most once (the task's
 * charge state moves reserved -> settled | refunded and never back).
 *
 * Handlers reach LMDB only through this interface, so another store
 * (credit leases from a shared database) can be put behind it later.
 */

#ifndef _MC_STORE_H_INCLUDED_
#define _MC_STORE_H_INCLUDED_


#include "mc_core.h"
#include "mc_task.h"


#define MC_STORE_EXISTS          -10
#define MC_STORE_NO_FUNDS        -11
#define MC_STORE_BUSY            -12     /* plan's active task limit */
#define MC_STORE_IDEM_SAME       -13     /* same key, same body */
#define MC_STORE_IDEM_CONFLICT   -14     /* same key, another body */
#define MC_STORE_FULL            -15     /* map full */
#define MC_STORE_DISABLED        -16


#define MC_KEY_PREFIX            "mk_"
#define MC_KEY_ID_LEN            12      /* hex digits of the hash shown */

/* an expiry of the whole available balance */
#define MC_CREDIT_ALL            INT64_MIN

/* the largest single credit movement, well inside a double's integers */
#define MC_CREDIT_MAX            ((int64_t) 1 << 52)


typedef struct mc_store_s  mc_store_t;

typedef void (*mc_store_log_pt)(void *data, const char *msg);


typedef struct {
    size_t       map_size;
    size_t       max_map_size;      /* the map may grow up to this */
    unsigned     max_readers;
    unsigned     nosync:1;          /* commits do not fsync */
    unsigned     read_only:1;
} mc_store_opts_t;


typedef struct {
    char         id[MC_NAME_MAX + 1];
    char         plan[MC_NAME_MAX + 1];
    int64_t      balance;           /* available to spend */
    int64_t      reserved;          /* held for running tasks */
    int64_t      granted;           /* all grants ever */
    int64_t      adjusted;          /* all adjustments ever, signed */
    int64_t      expired;           /* all expiries ever */
    int64_t      settled;           /* all settled charges ever */
    int64_t      active;            /* tasks holding a reservation */
    mc_msec_t    created_at;
    unsigned     disabled:1;
} mc_account_t;


typedef enum {
    MC_LEDGER_GRANT = 0,
    MC_LEDGER_ADJUST,
    MC_LEDGER_RESERVE,
    MC_LEDGER_SETTLE,
    MC_LEDGER_REFUND,
    MC_LEDGER_EXPIRE
} mc_ledger_type_e;


/* an operator's credit movement: grant, adjust or expire */
typedef struct {
    const char        *account;
    mc_ledger_type_e   type;
    int64_t            amount;      /* MC_CREDIT_ALL: expire everything */
    const char        *reason;
    const char        *actor;       /* who did it: "admin 10.0.0.1" */
    mc_msec_t          now;

    /* set on success */
    int64_t            applied;     /* the amount written, 0: no entry */
    int64_t            balance;
    int64_t            seq;         /* the ledger entry */
} mc_credit_t;


/* which ledger entries: bounds are ANDed, zero means unbounded */
typedef struct {
    const char        *account;     /* NULL: every account */
    mc_msec_t          since;       /* at >= since */
    mc_msec_t          until;       /* at < until */
    int64_t            after;       /* seq > after */
    int64_t            before;      /* seq < before */
    size_t             limit;
    unsigned           asc:1;       /* oldest first */
} mc_ledger_query_t;

/* gets each entry (borrowed); anything but MC_OK stops the walk */
typedef int (*mc_ledger_pt)(json_t *entry, void *data);


int mc_store_open(mc_store_t **st, const char *path,
    const mc_store_opts_t *opts, char *err, size_t errlen);
void mc_store_close(mc_store_t *st);
/* the last failure, for logs: never holds secrets */
const char *mc_store_error(mc_store_t *st);
/* where notices (the map grew) go */
void mc_store_set_logger(mc_store_t *st, mc_store_log_pt log, void *data);

/* blocking: call from a thread or outside the event loop; a failure is
 * told by mc_store_sync_error() */
int mc_store_sync(mc_store_t *st);
const char *mc_store_sync_error(mc_store_t *st);
/* the last committed transaction, by any process */
uint64_t mc_store_txnid(mc_store_t *st);
/* clears reader slots left by dead processes; *dead gets their number */
int mc_store_reader_check(mc_store_t *st, int *dead);
/* sets the map size now and for every process (the CLI's resize) */
int mc_store_resize(mc_store_t *st, size_t size);

/* accounts and keys */
int mc_store_account_create(mc_store_t *st, const char *id,
    const char *plan, mc_msec_t now);
/* an account and its first grant (credits > 0) in one transaction */
int mc_store_account_create_ex(mc_store_t *st, const char *id,
    const char *plan, int64_t credits, const char *reason,
    const char *actor, mc_msec_t now);
int mc_store_account_get(mc_store_t *st, const char *id, mc_account_t *a);
int mc_store_account_set_plan(mc_store_t *st, const char *id,
    const char *plan);
int mc_store_account_set_disabled(mc_store_t *st, const char *id,
    int disabled);
/* plan (NULL: unchanged) and disabled (-1: unchanged) in one write */
int mc_store_account_update(mc_store_t *st, const char *id,
    const char *plan, int disabled);
/* json array of account objects, for the admin API and the CLI */
json_t *mc_store_accounts_json(mc_store_t *st, const char *after,
    size_t limit);
json_t *mc_account_json(const mc_account_t *a);
int mc_store_valid_name(const char *s);

/* makes a new key (or stores the given one) and returns it once */
int mc_store_key_add(mc_store_t *st, const char *account, const char *given,
    mc_msec_t now, char *key_out, size_t key_len, char *id_out);
int mc_store_key_revoke(mc_store_t *st, const char *account,
    const char *key_id);
int mc_store_key_lookup(mc_store_t *st, const char *key, size_t len,
    mc_account_t *a);
json_t *mc_store_keys_json(mc_store_t *st, const char *account);

/* grant (> 0) or adjust (signed; never below zero) */
int mc_store_credit(mc_store_t *st, const char *account,
    mc_ledger_type_e type, int64_t amount, const char *reason,
    mc_msec_t now, int64_t *balance_out);
/* grant, adjust or expire, with who did it and what was written */
int mc_store_credit_ex(mc_store_t *st, mc_credit_t *c);

/*
 * The create transaction: idempotency check, active task limit, balance
 * check, reservation, task record and ledger entry, all or nothing.
 * On MC_STORE_IDEM_SAME, existing_id gets the earlier task.
 */
int mc_store_task_reserve(mc_store_t *st, mc_task_t *t, int max_active,
    const char *idem_key, const char *body_hash, mc_msec_t idem_ttl,
    char *existing_id);

int mc_store_task_get(mc_store_t *st, mc_pool_t *pool, const char *id,
    mc_task_t *t);

/*
 * Writes the task's new state.  Money follows the status: the first
 * terminal state settles (completed) or refunds (failed) the reservation
 * in the same transaction; a task already terminal is not changed and
 * *out gets the stored record.  Returns MC_OK.
 */
int mc_store_task_save(mc_store_t *st, mc_pool_t *pool, const mc_task_t *t,
    mc_msec_t now, mc_task_t *out);

/* a finished task deleted by its owner: kept for the books, hidden from
 * the API; MC_DECLINED when it is not finished */
int mc_store_task_delete(mc_store_t *st, const char *id, mc_msec_t now);

/* MC_OK if this caller should poll now (and is recorded as doing so),
 * MC_DECLINED if the stored state is fresh enough or terminal */
int mc_store_task_claim_poll(mc_store_t *st, const char *id, mc_msec_t now,
    mc_msec_t stale);

/* the account's tasks, newest first (or oldest with asc), after a cursor */
int mc_store_task_list(mc_store_t *st, mc_pool_t *pool, const char *account,
    const char *after, size_t limit, int asc, mc_task_t *tasks, size_t *n,
    int *has_more);

/* idempotency keys past their time: at most max removed, *n of them */
int mc_store_idem_purge(mc_store_t *st, mc_msec_t now, size_t max,
    size_t *n);

/* ledger entries of an account (NULL: all), newest first */
json_t *mc_store_ledger_json(mc_store_t *st, const char *account,
    int64_t before_seq, size_t limit);
/* the entries a query selects, in order; *more: the limit cut them */
int mc_store_ledger_each(mc_store_t *st, const mc_ledger_query_t *q,
    mc_ledger_pt fn, void *data, int *more);
const char *mc_ledger_type_name(mc_ledger_type_e type);
int mc_ledger_type_from_name(const char *name, mc_ledger_type_e *type);

/*
 * The books, checked in one read snapshot: {"clean": bool, "problems":
 * [...], "accounts": n, "tasks": n, "ledger_entries": n}.  Safe to run
 * on a thread while the process goes on writing; NULL on failure, with
 * the reason in err.
 */
json_t *mc_store_audit(mc_store_t *st, char *err, size_t errlen);

/* usage figures for stats */
json_t *mc_store_stats(mc_store_t *st);

/* "1764000000" (seconds), "1764000000000ms" or "2026-11-25[T10:00[:00]][Z]"
 * (UTC) into milliseconds since the epoch */
int mc_parse_time(const char *s, mc_msec_t *ms);


#endif /* _MC_STORE_H_INCLUDED_ */
