
/*
 * The store: accounts, API keys, tasks, the credit ledger and idempotency
 * keys in one LMDB environment.
 *
 * Every credit movement is one write transaction that changes the
 * account, the task and appends its ledger entry together, so the books
 * balance after any crash: for each account
 *
 *     granted + adjusted - reserves + refunds   = balance
 *     reserves - settles - refunds              = reserved
 *
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


typedef struct mc_store_s  mc_store_t;


typedef struct {
    size_t       map_size;
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
    int64_t      settled;           /* all settled charges ever */
    int64_t      active;            /* tasks not finished */
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


int mc_store_open(mc_store_t **st, const char *path,
    const mc_store_opts_t *opts, char *err, size_t errlen);
void mc_store_close(mc_store_t *st);
/* the last failure, for logs: never holds secrets */
const char *mc_store_error(mc_store_t *st);

/* blocking: call from a thread or outside the event loop */
int mc_store_sync(mc_store_t *st);
/* clears reader slots left by dead processes; *dead gets their number */
int mc_store_reader_check(mc_store_t *st, int *dead);

/* accounts and keys */
int mc_store_account_create(mc_store_t *st, const char *id,
    const char *plan, mc_msec_t now);
int mc_store_account_get(mc_store_t *st, const char *id, mc_account_t *a);
int mc_store_account_set_plan(mc_store_t *st, const char *id,
    const char *plan);
int mc_store_account_set_disabled(mc_store_t *st, const char *id,
    int disabled);
/* json array of account objects, for the admin API and the CLI */
json_t *mc_store_accounts_json(mc_store_t *st, const char *after,
    size_t limit);
json_t *mc_account_json(const mc_account_t *a);

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

/* MC_OK if this caller should poll now (and is recorded as doing so),
 * MC_DECLINED if the stored state is fresh enough or terminal */
int mc_store_task_claim_poll(mc_store_t *st, const char *id, mc_msec_t now,
    mc_msec_t stale);

/* the account's tasks, newest first (or oldest with asc), after a cursor */
int mc_store_task_list(mc_store_t *st, mc_pool_t *pool, const char *account,
    const char *after, size_t limit, int asc, mc_task_t *tasks, size_t *n,
    int *has_more);

/* ledger entries of an account (NULL: all), newest first */
json_t *mc_store_ledger_json(mc_store_t *st, const char *account,
    int64_t before_seq, size_t limit);
const char *mc_ledger_type_name(mc_ledger_type_e type);

/* the books for every account; NULL report means clean */
json_t *mc_store_audit(mc_store_t *st);

/* usage figures for stats */
json_t *mc_store_stats(mc_store_t *st);


#endif /* _MC_STORE_H_INCLUDED_ */
