
/*
 * makeclip: the operator's command line on the LMDB store, safe to use
 * while nginx runs (LMDB serializes writers across processes, and every
 * write here is synced before the command returns).
 *
 *   makeclip [-s store] <command> [arguments]
 *
 * Exit codes: 0 done, 1 failed, 2 usage, 3 not found, 4 refused
 * (exists, not enough credits, audit found problems).
 */

#include "mc_core.h"
#include "mc_store.h"
#include "mc_task.h"

#include <stdio.h>
#include <stdlib.h>
#include <errno.h>
#include <time.h>
#include <pwd.h>
#include <unistd.h>
#include <getopt.h>
#include <sys/stat.h>
#include <lmdb.h>


#define EX_OK         0
#define EX_FAIL       1
#define EX_USAGE      2
#define EX_NOTFOUND   3
#define EX_REFUSED    4

#define MAX_POS       8


typedef struct {
    const char  *name;
    const char  *value;
} cli_opt_t;


/* a command's words: positionals, then --name value options */
typedef struct {
    int          npos;
    const char  *pos[MAX_POS];
    cli_opt_t   *opts;              /* the command's allowed options */
    int          nopts;
} cli_args_t;


static const char  *store_path = "var/store";
static mc_store_t  *st;
static char         actor[128];


static void
usage(FILE *f)
{
    fprintf(f,
"usage: makeclip [-s store] <command> [arguments]\n"
"\n"
"accounts and keys\n"
"  account create <id> [--plan P] [--credits N] [--reason R]\n"
"  account show <id>                  balance, reserved, plan, totals\n"
"  account list [--after ID] [--limit N]\n"
"  account plan <id> <plan>           change the plan\n"
"  account disable|enable <id>\n"
"  key add <account> [--key K]        issue an API key (shown once)\n"
"  key list [<account>]               key ids, never the keys\n"
"  key revoke <key-id> [<account>]\n"
"\n"
"credits (each a ledger entry)\n"
"  grant <account> <credits> [--reason R]\n"
"  adjust <account> <+/-credits> --reason R\n"
"  expire <account> <credits|all> --reason R\n"
"  balance <account>\n"
"  ledger [<account>] [--since T] [--until T] [--after SEQ] [--before SEQ]\n"
"         [--limit N] [--order asc|desc] [--format jsonl|csv]\n"
"         T: Unix seconds, <n>ms, or 2026-11-25[T10:00[:00]][Z] (UTC);\n"
"         oldest first unless --order desc\n"
"\n"
"tasks and the store\n"
"  task <id>                          a task as stored\n"
"  tasks <account> [--after ID] [--limit N]\n"
"  audit [--json]                     check that the books balance\n"
"  backup <dir>                       consistent, compacted hot copy\n"
"  resize <size>                      grow the map (e.g. 4g) for every\n"
"                                     process, nginx included\n"
"  stats                              entries and map use\n"
"\n"
"The store is a directory (default var/store, or $MAKECLIP_STORE).\n"
"Exit codes: 0 done, 1 failed, 2 usage, 3 not found, 4 refused.\n");
}


static int
usage_error(const char *fmt, const char *arg)
{
    fprintf(stderr, "makeclip: ");
    fprintf(stderr, fmt, arg);
    fprintf(stderr, "\n(makeclip -h for help)\n");

    return EX_USAGE;
}


/* splits words into positionals and the command's known options */

static int
parse_args(int argc, char **argv, cli_args_t *a)
{
    int  i, j;

    a->npos = 0;

    for (i = 0; i < argc; i++) {

        if (strncmp(argv[i], "--", 2) != 0) {
            if (a->npos == MAX_POS) {
                return usage_error("too many arguments", NULL);
            }

            a->pos[a->npos++] = argv[i];
            continue;
        }

        for (j = 0; j < a->nopts; j++) {
            if (strcmp(argv[i], a->opts[j].name) == 0) {
                break;
            }
        }

        if (j == a->nopts) {
            return usage_error("unknown option \"%s\"", argv[i]);
        }

        /* a flag without value: --json */
        if (strcmp(argv[i], "--json") == 0) {
            a->opts[j].value = "";
            continue;
        }

        if (i + 1 == argc) {
            return usage_error("%s needs a value", argv[i]);
        }

        a->opts[j].value = argv[++i];
    }

    return EX_OK;
}


static const char *
opt(cli_args_t *a, const char *name)
{
    int  j;

    for (j = 0; j < a->nopts; j++) {
        if (strcmp(a->opts[j].name, name) == 0) {
            return a->opts[j].value;
        }
    }

    return NULL;
}


static int
parse_count(const char *s, int64_t *v)
{
    return mc_parse_int(s, strlen(s), v);
}


static int
parse_amount(const char *s, int allow_sign, int64_t *v)
{
    int      neg;
    int64_t  n;

    neg = 0;

    if (allow_sign && (*s == '-' || *s == '+')) {
        neg = (*s == '-');
        s++;
    }

    if (mc_parse_int(s, strlen(s), &n) != MC_OK || n > MC_CREDIT_MAX) {
        return MC_ERROR;
    }

    *v = neg ? -n : n;
    return MC_OK;
}


static int
parse_size(const char *s, size_t *size)
{
    char     *end;
    unsigned long long  n;

    errno = 0;
    n = strtoull(s, &end, 10);

    if (errno || end == s) {
        return MC_ERROR;
    }

    switch (*end) {
    case 'k': case 'K': n <<= 10; end++; break;
    case 'm': case 'M': n <<= 20; end++; break;
    case 'g': case 'G': n <<= 30; end++; break;
    case 't': case 'T': n <<= 40; end++; break;
    }

    if (*end != '\0' || n < 1024 * 1024) {
        return MC_ERROR;
    }

    *size = (size_t) n;
    return MC_OK;
}


static int
open_store(int read_only)
{
    char             err[512];
    mc_store_opts_t  opts;

    memset(&opts, 0, sizeof(opts));
    opts.read_only = read_only;
    /* the map size the file records rules; commits here are synced */
    opts.map_size = 0;

    if (mc_store_open(&st, store_path, &opts, err, sizeof(err)) != MC_OK) {
        fprintf(stderr, "makeclip: %s\n", err);
        return EX_FAIL;
    }

    return EX_OK;
}


static int
store_fail(int rc, const char *what, const char *name)
{
    switch (rc) {
    case MC_NOT_FOUND:
        fprintf(stderr, "makeclip: %s: no such %s\n", name, what);
        return EX_NOTFOUND;
    case MC_STORE_EXISTS:
        fprintf(stderr, "makeclip: %s: %s exists already\n", name, what);
        return EX_REFUSED;
    case MC_STORE_NO_FUNDS:
        fprintf(stderr, "makeclip: %s: the balance would go below zero "
                "(credits held by running tasks cannot be taken)\n", name);
        return EX_REFUSED;
    case MC_STORE_FULL:
        fprintf(stderr, "makeclip: the store is full: \"makeclip resize "
                "<size>\", or raise max_map_size= of makeclip_store\n");
        return EX_FAIL;
    case MC_DECLINED:
        fprintf(stderr, "makeclip: %s\n", mc_store_error(st));
        return EX_USAGE;
    default:
        fprintf(stderr, "makeclip: %s\n", mc_store_error(st));
        return EX_FAIL;
    }
}


static void
print_json(json_t *j)
{
    char  *s;

    s = json_dumps(j, JSON_INDENT(2) | JSON_SORT_KEYS);
    if (s) {
        printf("%s\n", s);
        free(s);
    }
}


static int
cmd_account(int argc, char **argv)
{
    int            rc;
    json_t        *j;
    int64_t        n, credits;
    const char    *id, *plan, *after, *lim, *cr;
    cli_args_t     a;
    mc_account_t   acct;
    cli_opt_t      opts[] = {
        { "--plan", NULL }, { "--credits", NULL }, { "--reason", NULL },
        { "--after", NULL }, { "--limit", NULL }
    };

    a.opts = opts;
    a.nopts = 5;

    rc = parse_args(argc, argv, &a);
    if (rc != EX_OK) {
        return rc;
    }

    if (a.npos < 1) {
        return usage_error("account: create, show, list, plan, disable or "
                           "enable%s", "");
    }

    if (strcmp(a.pos[0], "list") == 0) {
        after = opt(&a, "--after");
        lim = opt(&a, "--limit");
        n = 100;

        if (lim && (parse_count(lim, &n) != MC_OK || n < 1)) {
            return usage_error("invalid --limit \"%s\"", lim);
        }

        j = mc_store_accounts_json(st, after, (size_t) n);
        if (j == NULL) {
            return store_fail(MC_ERROR, "account", "");
        }

        print_json(j);
        json_decref(j);
        return EX_OK;
    }

    if (a.npos < 2) {
        return usage_error("account %s: which account?", a.pos[0]);
    }

    id = a.pos[1];

    if (strcmp(a.pos[0], "create") == 0) {
        plan = opt(&a, "--plan");
        cr = opt(&a, "--credits");
        credits = 0;

        if (cr && parse_amount(cr, 0, &credits) != MC_OK) {
            return usage_error("invalid --credits \"%s\"", cr);
        }

        rc = mc_store_account_create_ex(st, id, plan ? plan : "free",
                                        credits, opt(&a, "--reason"), actor,
                                        mc_now_msec());
        if (rc != MC_OK) {
            return store_fail(rc, "account", id);
        }

        printf("account %s created, plan %s, balance %lld\n", id,
               plan ? plan : "free", (long long) credits);
        return EX_OK;
    }

    if (strcmp(a.pos[0], "show") == 0) {
        rc = mc_store_account_get(st, id, &acct);
        if (rc != MC_OK) {
            return store_fail(rc, "account", id);
        }

        j = mc_account_json(&acct);
        print_json(j);
        json_decref(j);
        return EX_OK;
    }

    if (strcmp(a.pos[0], "plan") == 0) {
        if (a.npos < 3) {
            return usage_error("account plan %s: which plan?", id);
        }

        rc = mc_store_account_set_plan(st, id, a.pos[2]);
        if (rc != MC_OK) {
            return store_fail(rc, "account", id);
        }

        printf("account %s: plan %s (nginx.conf must define it)\n", id,
               a.pos[2]);
        return EX_OK;
    }

    if (strcmp(a.pos[0], "disable") == 0 || strcmp(a.pos[0], "enable") == 0)
    {
        rc = mc_store_account_set_disabled(st, id, a.pos[0][0] == 'd');
        if (rc != MC_OK) {
            return store_fail(rc, "account", id);
        }

        printf("account %s %sd\n", id, a.pos[0]);
        return EX_OK;
    }

    return usage_error("unknown account command \"%s\"", a.pos[0]);
}


static int
cmd_key(int argc, char **argv)
{
    int          rc;
    char         key[80], id[MC_KEY_ID_LEN + 1];
    json_t      *j;
    cli_args_t   a;
    cli_opt_t    opts[] = { { "--key", NULL } };

    a.opts = opts;
    a.nopts = 1;

    rc = parse_args(argc, argv, &a);
    if (rc != EX_OK) {
        return rc;
    }

    if (a.npos < 1) {
        return usage_error("key: add, list or revoke%s", "");
    }

    if (strcmp(a.pos[0], "add") == 0 && a.npos >= 2) {
        rc = mc_store_key_add(st, a.pos[1], opt(&a, "--key"),
                              mc_now_msec(), key, sizeof(key), id);
        if (rc != MC_OK) {
            return store_fail(rc, rc == MC_STORE_EXISTS ? "key" : "account",
                              rc == MC_STORE_EXISTS ? "the key" : a.pos[1]);
        }

        /* the only time the key is ever shown */
        printf("%s\n", key);
        fprintf(stderr, "key id %s for account %s; store the key now, it "
                "cannot be shown again\n", id, a.pos[1]);
        return EX_OK;
    }

    if (strcmp(a.pos[0], "list") == 0) {
        j = mc_store_keys_json(st, a.npos >= 2 ? a.pos[1] : NULL);
        if (j == NULL) {
            return store_fail(MC_ERROR, "key", "");
        }

        print_json(j);
        json_decref(j);
        return EX_OK;
    }

    if (strcmp(a.pos[0], "revoke") == 0 && a.npos >= 2) {
        rc = mc_store_key_revoke(st, a.npos >= 3 ? a.pos[2] : NULL,
                                 a.pos[1]);
        if (rc != MC_OK) {
            return store_fail(rc, "key", a.pos[1]);
        }

        printf("key %s revoked\n", a.pos[1]);
        return EX_OK;
    }

    return usage_error("key %s: missing or unknown arguments", a.pos[0]);
}


static int
cmd_credit(int argc, char **argv, mc_ledger_type_e type)
{
    int           rc;
    cli_args_t    a;
    mc_credit_t   c;
    cli_opt_t     opts[] = { { "--reason", NULL } };

    a.opts = opts;
    a.nopts = 1;

    rc = parse_args(argc, argv, &a);
    if (rc != EX_OK) {
        return rc;
    }

    if (a.npos != 2) {
        return usage_error("%s <account> <credits> [--reason R]",
                           mc_ledger_type_name(type));
    }

    memset(&c, 0, sizeof(c));
    c.account = a.pos[0];
    c.type = type;
    c.reason = opt(&a, "--reason");
    c.actor = actor;
    c.now = mc_now_msec();

    if (type == MC_LEDGER_EXPIRE && strcmp(a.pos[1], "all") == 0) {
        c.amount = MC_CREDIT_ALL;

    } else if (parse_amount(a.pos[1], type == MC_LEDGER_ADJUST, &c.amount)
               != MC_OK)
    {
        return usage_error("invalid amount \"%s\"", a.pos[1]);
    }

    /* a correction or an expiry says why, for whoever reads the ledger */
    if (type != MC_LEDGER_GRANT && (c.reason == NULL || *c.reason == '\0'))
    {
        return usage_error("%s needs --reason", mc_ledger_type_name(type));
    }

    rc = mc_store_credit_ex(st, &c);
    if (rc != MC_OK) {
        return store_fail(rc, "account", a.pos[0]);
    }

    if (c.seq == 0) {
        printf("account %s: nothing to %s, balance %lld\n", a.pos[0],
               mc_ledger_type_name(type), (long long) c.balance);
        return EX_OK;
    }

    printf("account %s: %s %lld, balance %lld (ledger entry %lld)\n",
           a.pos[0], mc_ledger_type_name(type), (long long) c.applied,
           (long long) c.balance, (long long) c.seq);
    return EX_OK;
}


static int
cmd_balance(int argc, char **argv)
{
    int            rc;
    mc_account_t   a;

    if (argc != 1) {
        return usage_error("balance <account>%s", "");
    }

    rc = mc_store_account_get(st, argv[0], &a);
    if (rc != MC_OK) {
        return store_fail(rc, "account", argv[0]);
    }

    printf("account %s: balance %lld, reserved %lld, plan %s%s\n", a.id,
           (long long) a.balance, (long long) a.reserved, a.plan,
           a.disabled ? ", disabled" : "");
    return EX_OK;
}


static void
csv_field(const char *s)
{
    if (s == NULL) {
        return;
    }

    if (strpbrk(s, ",\"\n\r") == NULL) {
        fputs(s, stdout);
        return;
    }

    putchar('"');

    for ( /* void */ ; *s; s++) {
        if (*s == '"') {
            putchar('"');
        }
        putchar(*s);
    }

    putchar('"');
}


static int
print_entry_jsonl(json_t *e, void *data)
{
    char  *s;

    s = json_dumps(e, JSON_COMPACT | JSON_SORT_KEYS);
    if (s == NULL) {
        return MC_ERROR;
    }

    printf("%s\n", s);
    free(s);

    return ferror(stdout) ? MC_ERROR : MC_OK;
}


static int
print_entry_csv(json_t *e, void *data)
{
    char       iso[32];
    time_t     sec;
    struct tm  tm;
    long long  at;

    at = json_integer_value(json_object_get(e, "at"));
    sec = (time_t) (at / 1000);
    gmtime_r(&sec, &tm);
    strftime(iso, sizeof(iso), "%Y-%m-%dT%H:%M:%S", &tm);

    printf("%lld,%lld,%s.%03lldZ,",
           (long long) json_integer_value(json_object_get(e, "seq")),
           at, iso, at % 1000);
    csv_field(mc_json_str(e, "account"));
    printf(",%s,%lld,%lld,%lld,", mc_json_str(e, "type"),
           (long long) json_integer_value(json_object_get(e, "amount")),
           (long long) json_integer_value(json_object_get(e, "balance")),
           (long long) json_integer_value(json_object_get(e, "reserved")));
    csv_field(mc_json_str(e, "task"));
    putchar(',');
    csv_field(mc_json_str(e, "reason"));
    putchar(',');
    csv_field(mc_json_str(e, "actor"));
    putchar('\n');

    return ferror(stdout) ? MC_ERROR : MC_OK;
}


static int
cmd_ledger(int argc, char **argv)
{
    int                 rc, csv;
    int64_t             n;
    const char         *v;
    cli_args_t          a;
    mc_ledger_query_t   q;
    cli_opt_t           opts[] = {
        { "--since", NULL }, { "--until", NULL }, { "--after", NULL },
        { "--before", NULL }, { "--limit", NULL }, { "--order", NULL },
        { "--format", NULL }
    };

    a.opts = opts;
    a.nopts = 7;

    rc = parse_args(argc, argv, &a);
    if (rc != EX_OK) {
        return rc;
    }

    if (a.npos > 1) {
        return usage_error("ledger takes one account at most%s", "");
    }

    memset(&q, 0, sizeof(q));
    q.account = a.npos ? a.pos[0] : NULL;
    q.asc = 1;

    if ((v = opt(&a, "--since")) && mc_parse_time(v, &q.since) != MC_OK) {
        return usage_error("invalid --since \"%s\"", v);
    }

    if ((v = opt(&a, "--until")) && mc_parse_time(v, &q.until) != MC_OK) {
        return usage_error("invalid --until \"%s\"", v);
    }

    if ((v = opt(&a, "--after")) && parse_count(v, &q.after) != MC_OK) {
        return usage_error("invalid --after \"%s\"", v);
    }

    if ((v = opt(&a, "--before")) && parse_count(v, &q.before) != MC_OK) {
        return usage_error("invalid --before \"%s\"", v);
    }

    if ((v = opt(&a, "--limit"))) {
        if (parse_count(v, &n) != MC_OK || n < 1) {
            return usage_error("invalid --limit \"%s\"", v);
        }

        q.limit = (size_t) n;
    }

    if ((v = opt(&a, "--order"))) {
        if (strcmp(v, "desc") == 0) {
            q.asc = 0;

        } else if (strcmp(v, "asc") != 0) {
            return usage_error("--order is asc or desc, not \"%s\"", v);
        }
    }

    csv = 0;

    if ((v = opt(&a, "--format"))) {
        if (strcmp(v, "csv") == 0) {
            csv = 1;

        } else if (strcmp(v, "jsonl") != 0) {
            return usage_error("--format is jsonl or csv, not \"%s\"", v);
        }
    }

    if (q.account && !mc_store_valid_name(q.account)) {
        return usage_error("invalid account \"%s\"", q.account);
    }

    if (csv) {
        printf("seq,at,time,account,type,amount,balance,reserved,task,"
               "reason,actor\n");
    }

    /* one read snapshot, streamed: an export never holds it in memory */
    rc = mc_store_ledger_each(st, &q, csv ? print_entry_csv
                                          : print_entry_jsonl, NULL, NULL);
    if (rc != MC_OK) {
        return store_fail(rc, "ledger", "");
    }

    if (fflush(stdout) != 0 || ferror(stdout)) {
        fprintf(stderr, "makeclip: writing the ledger failed: %s\n",
                strerror(errno));
        return EX_FAIL;
    }

    return EX_OK;
}


static int
cmd_task(int argc, char **argv)
{
    int         rc;
    json_t     *j;
    mc_pool_t  *pool;
    mc_task_t   t;

    if (argc != 1) {
        return usage_error("task <id>%s", "");
    }

    pool = mc_pool_create(4096);
    if (pool == NULL) {
        return EX_FAIL;
    }

    rc = mc_store_task_get(st, pool, argv[0], &t);
    if (rc != MC_OK) {
        mc_pool_destroy(pool);
        return store_fail(rc, "task", argv[0]);
    }

    j = mc_task_to_json(&t);
    print_json(j);
    json_decref(j);
    mc_pool_destroy(pool);

    return EX_OK;
}


static int
cmd_tasks(int argc, char **argv)
{
    int          rc, more;
    size_t       i, n;
    json_t      *arr;
    int64_t      limit;
    mc_pool_t   *pool;
    mc_task_t   *tasks;
    cli_args_t   a;
    const char  *v;
    cli_opt_t    opts[] = { { "--after", NULL }, { "--limit", NULL } };

    a.opts = opts;
    a.nopts = 2;

    rc = parse_args(argc, argv, &a);
    if (rc != EX_OK) {
        return rc;
    }

    if (a.npos != 1) {
        return usage_error("tasks <account> [--after ID] [--limit N]%s", "");
    }

    limit = 100;

    if ((v = opt(&a, "--limit"))
        && (parse_count(v, &limit) != MC_OK || limit < 1 || limit > 10000))
    {
        return usage_error("invalid --limit \"%s\" (1 to 10000)", v);
    }

    pool = mc_pool_create(16384);
    if (pool == NULL) {
        return EX_FAIL;
    }

    tasks = mc_palloc(pool, (size_t) limit * sizeof(mc_task_t));
    if (tasks == NULL) {
        mc_pool_destroy(pool);
        return EX_FAIL;
    }

    rc = mc_store_task_list(st, pool, a.pos[0], opt(&a, "--after"),
                            (size_t) limit, 0, tasks, &n, &more);
    if (rc != MC_OK) {
        mc_pool_destroy(pool);
        return store_fail(rc, "task", opt(&a, "--after") ? opt(&a, "--after")
                                                         : a.pos[0]);
    }

    arr = json_array();

    for (i = 0; i < n; i++) {
        json_array_append_new(arr, mc_task_to_json(&tasks[i]));
    }

    print_json(arr);
    json_decref(arr);
    mc_pool_destroy(pool);

    if (more) {
        fprintf(stderr, "more: --after %s\n", tasks[n - 1].id);
    }

    return EX_OK;
}


static int
cmd_audit(int argc, char **argv)
{
    int          rc;
    char         err[256];
    size_t       n;
    json_t      *report;
    cli_args_t   a;
    cli_opt_t    opts[] = { { "--json", NULL } };

    a.opts = opts;
    a.nopts = 1;

    rc = parse_args(argc, argv, &a);
    if (rc != EX_OK) {
        return rc;
    }

    report = mc_store_audit(st, err, sizeof(err));
    if (report == NULL) {
        fprintf(stderr, "makeclip: %s\n", err);
        return EX_FAIL;
    }

    n = (size_t) json_integer_value(json_object_get(report,
                                                    "problems_total"));

    if (opt(&a, "--json")) {
        print_json(report);

    } else if (n == 0) {
        printf("audit: clean (%lld accounts, %lld tasks, %lld running, "
               "%lld ledger entries)\n",
               (long long) json_integer_value(json_object_get(report,
                                                              "accounts")),
               (long long) json_integer_value(json_object_get(report,
                                                              "tasks")),
               (long long) json_integer_value(json_object_get(report,
                                                     "tasks_running")),
               (long long) json_integer_value(json_object_get(report,
                                                     "ledger_entries")));

    } else {
        print_json(json_object_get(report, "problems"));
    }

    if (n) {
        fprintf(stderr, "audit: %zu problem%s\n", n, n == 1 ? "" : "s");
    }

    json_decref(report);

    return n ? EX_REFUSED : EX_OK;
}


static int
cmd_backup(int argc, char **argv)
{
    int          rc;
    char         path[4096];
    MDB_env     *env;
    MDB_txn     *txn;
    MDB_dbi      dbi;
    MDB_stat     ms;
    struct stat  sb;

    if (argc != 1) {
        return usage_error("backup <dir>%s", "");
    }

    if (mkdir(argv[0], 0700) == -1 && errno != EEXIST) {
        fprintf(stderr, "makeclip: mkdir(\"%s\"): %s\n", argv[0],
                strerror(errno));
        return EX_FAIL;
    }

    snprintf(path, sizeof(path), "%s/data.mdb", argv[0]);

    if (stat(path, &sb) == 0) {
        fprintf(stderr, "makeclip: \"%s\" exists: back up into an empty "
                "directory\n", path);
        return EX_REFUSED;
    }

    /*
     * one read transaction's snapshot, written compacted (free pages
     * left out): consistent while nginx keeps writing, and it never
     * blocks the writers
     */
    rc = mdb_env_create(&env);
    if (rc == 0) {
        mdb_env_set_maxdbs(env, 16);
        rc = mdb_env_open(env, store_path, MDB_RDONLY | MDB_NOTLS, 0600);

        if (rc == 0) {
            rc = mdb_env_copy2(env, argv[0], MDB_CP_COMPACT);
        }

        mdb_env_close(env);
    }

    if (rc != 0) {
        fprintf(stderr, "makeclip: backup of \"%s\" to \"%s\" failed: %s\n",
                store_path, argv[0], mdb_strerror(rc));
        return EX_FAIL;
    }

    /* the copy opens and reads: a backup that cannot is worse than none */
    rc = mdb_env_create(&env);
    if (rc == 0) {
        mdb_env_set_maxdbs(env, 16);
        rc = mdb_env_open(env, argv[0], MDB_RDONLY | MDB_NOLOCK, 0600);

        if (rc == 0) {
            rc = mdb_txn_begin(env, NULL, MDB_RDONLY, &txn);

            if (rc == 0) {
                rc = mdb_dbi_open(txn, "ledger", 0, &dbi);
                if (rc == 0) {
                    rc = mdb_stat(txn, dbi, &ms);
                }

                mdb_txn_abort(txn);
            }
        }

        mdb_env_close(env);
    }

    if (rc != 0) {
        fprintf(stderr, "makeclip: the backup in \"%s\" does not read "
                "back: %s\n", argv[0], mdb_strerror(rc));
        return EX_FAIL;
    }

    stat(path, &sb);

    printf("backup written to %s (%lld bytes, %zu ledger entries)\n", path,
           (long long) sb.st_size, (size_t) ms.ms_entries);
    return EX_OK;
}


static int
cmd_resize(int argc, char **argv)
{
    int     rc;
    size_t  size;

    if (argc != 1 || parse_size(argv[0], &size) != MC_OK) {
        return usage_error("resize <size>: at least 1m, e.g. 4g%s", "");
    }

    rc = mc_store_resize(st, size);
    if (rc != MC_OK) {
        return store_fail(rc, "store", store_path);
    }

    printf("the map of %s is %zu bytes; running workers take the new size "
           "on their next transaction\n", store_path, size);
    return EX_OK;
}


static int
cmd_stats(int argc, char **argv)
{
    json_t  *j;

    if (argc != 0) {
        return usage_error("stats takes no arguments%s", "");
    }

    j = mc_store_stats(st);
    if (j == NULL) {
        return store_fail(MC_ERROR, "store", "");
    }

    print_json(j);
    json_decref(j);

    return EX_OK;
}


int
main(int argc, char **argv)
{
    int             c, rc, ro;
    const char     *cmd, *env, *user;
    struct passwd  *pw;

    env = getenv("MAKECLIP_STORE");
    if (env && *env) {
        store_path = env;
    }

    while ((c = getopt(argc, argv, "+s:h")) != -1) {
        switch (c) {
        case 's':
            store_path = optarg;
            break;
        case 'h':
            usage(stdout);
            return EX_OK;
        default:
            usage(stderr);
            return EX_USAGE;
        }
    }

    argc -= optind;
    argv += optind;

    if (argc < 1) {
        usage(stderr);
        return EX_USAGE;
    }

    cmd = argv[0];
    argc--;
    argv++;

    /* who moved the credits, for the ledger */
    pw = getpwuid(geteuid());
    user = pw ? pw->pw_name : getenv("USER");
    snprintf(actor, sizeof(actor), "cli %s", user ? user : "unknown");

    if (strcmp(cmd, "backup") == 0) {
        return cmd_backup(argc, argv);
    }

    if (strcmp(cmd, "help") == 0) {
        usage(stdout);
        return EX_OK;
    }

    ro = strcmp(cmd, "ledger") == 0 || strcmp(cmd, "audit") == 0
         || strcmp(cmd, "stats") == 0 || strcmp(cmd, "balance") == 0
         || strcmp(cmd, "task") == 0 || strcmp(cmd, "tasks") == 0
         || (strcmp(cmd, "account") == 0 && argc >= 1
             && (strcmp(argv[0], "show") == 0
                 || strcmp(argv[0], "list") == 0))
         || (strcmp(cmd, "key") == 0 && argc >= 1
             && strcmp(argv[0], "list") == 0);

    if (strcmp(cmd, "account") != 0 && strcmp(cmd, "key") != 0
        && strcmp(cmd, "grant") != 0 && strcmp(cmd, "adjust") != 0
        && strcmp(cmd, "expire") != 0 && strcmp(cmd, "resize") != 0
        && !ro)
    {
        return usage_error("unknown command \"%s\"", cmd);
    }

    rc = open_store(ro);
    if (rc != EX_OK) {
        return rc;
    }

    if (strcmp(cmd, "account") == 0) {
        rc = cmd_account(argc, argv);

    } else if (strcmp(cmd, "key") == 0) {
        rc = cmd_key(argc, argv);

    } else if (strcmp(cmd, "grant") == 0) {
        rc = cmd_credit(argc, argv, MC_LEDGER_GRANT);

    } else if (strcmp(cmd, "adjust") == 0) {
        rc = cmd_credit(argc, argv, MC_LEDGER_ADJUST);

    } else if (strcmp(cmd, "expire") == 0) {
        rc = cmd_credit(argc, argv, MC_LEDGER_EXPIRE);

    } else if (strcmp(cmd, "balance") == 0) {
        rc = cmd_balance(argc, argv);

    } else if (strcmp(cmd, "ledger") == 0) {
        rc = cmd_ledger(argc, argv);

    } else if (strcmp(cmd, "task") == 0) {
        rc = cmd_task(argc, argv);

    } else if (strcmp(cmd, "tasks") == 0) {
        rc = cmd_tasks(argc, argv);

    } else if (strcmp(cmd, "audit") == 0) {
        rc = cmd_audit(argc, argv);

    } else if (strcmp(cmd, "resize") == 0) {
        rc = cmd_resize(argc, argv);

    } else {
        rc = cmd_stats(argc, argv);
    }

    mc_store_close(st);
    return rc;
}
