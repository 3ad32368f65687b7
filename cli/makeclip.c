
/*
 * makeclip: the operator's command line on the LMDB store, safe to use
 * while nginx runs (LMDB serializes writers across processes).
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
#include <getopt.h>
#include <sys/stat.h>
#include <lmdb.h>


#define EX_OK         0
#define EX_FAIL       1
#define EX_USAGE      2
#define EX_NOTFOUND   3
#define EX_REFUSED    4


static const char  *store_path = "var/store";
static mc_store_t  *st;


static void
usage(FILE *f)
{
    fprintf(f,
"usage: makeclip [-s store] <command> [arguments]\n"
"\n"
"  account create <id> [--plan P]      create an account (plan: free)\n"
"  account show <id>                    balance, reserved, plan\n"
"  account list [--after ID] [--limit N]\n"
"  account plan <id> <plan>             change the plan\n"
"  account disable|enable <id>\n"
"  key add <account> [--key K]          issue an API key (shown once)\n"
"  key list [<account>]\n"
"  key revoke <key-id> [<account>]\n"
"  grant <account> <credits> [--reason R]\n"
"  adjust <account> <+/-credits> [--reason R]\n"
"  balance <account>\n"
"  ledger [<account>] [--limit N] [--before SEQ] [--format jsonl|csv]\n"
"  task <id>                            a task as stored\n"
"  audit                                check that the books balance\n"
"  backup <dir>                         consistent, compacted hot copy\n"
"  stats                                entries and map use\n"
"\n"
"The store is a directory (default var/store, or $MAKECLIP_STORE).\n");
}


static int
open_store(int read_only)
{
    char             err[512];
    mc_store_opts_t  opts;

    memset(&opts, 0, sizeof(opts));
    opts.read_only = read_only;
    /* the map size in the file wins; a small value only opens it */
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
        fprintf(stderr, "makeclip: %s: the balance would go below zero\n",
                name);
        return EX_REFUSED;
    case MC_STORE_FULL:
        fprintf(stderr, "makeclip: the store is full: raise map_size= of "
                "makeclip_store\n");
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


/* --name value options after the positional arguments */

static const char *
option(int argc, char **argv, const char *name)
{
    int  i;

    for (i = 0; i < argc - 1; i++) {
        if (strcmp(argv[i], name) == 0) {
            return argv[i + 1];
        }
    }

    return NULL;
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

    if (mc_parse_int(s, strlen(s), &n) != MC_OK) {
        return MC_ERROR;
    }

    *v = neg ? -n : n;
    return MC_OK;
}


static int
cmd_account(int argc, char **argv)
{
    int            rc;
    json_t        *j;
    const char    *plan, *after, *lim;
    mc_account_t   a;

    if (argc < 1) {
        usage(stderr);
        return EX_USAGE;
    }

    if (strcmp(argv[0], "list") == 0) {
        after = option(argc, argv, "--after");
        lim = option(argc, argv, "--limit");

        j = mc_store_accounts_json(st, after, lim ? (size_t) atoi(lim) : 100);
        if (j == NULL) {
            return store_fail(MC_ERROR, "account", "");
        }

        print_json(j);
        json_decref(j);
        return EX_OK;
    }

    if (argc < 2) {
        usage(stderr);
        return EX_USAGE;
    }

    if (strcmp(argv[0], "create") == 0) {
        plan = option(argc, argv, "--plan");
        rc = mc_store_account_create(st, argv[1], plan ? plan : "free",
                                     mc_now_msec());
        if (rc != MC_OK) {
            return store_fail(rc, "account", argv[1]);
        }

        printf("account %s created, plan %s\n", argv[1], plan ? plan : "free");
        return EX_OK;
    }

    if (strcmp(argv[0], "show") == 0) {
        rc = mc_store_account_get(st, argv[1], &a);
        if (rc != MC_OK) {
            return store_fail(rc, "account", argv[1]);
        }

        j = mc_account_json(&a);
        print_json(j);
        json_decref(j);
        return EX_OK;
    }

    if (strcmp(argv[0], "plan") == 0 && argc >= 3) {
        rc = mc_store_account_set_plan(st, argv[1], argv[2]);
        if (rc != MC_OK) {
            return store_fail(rc, "account", argv[1]);
        }

        printf("account %s: plan %s\n", argv[1], argv[2]);
        return EX_OK;
    }

    if (strcmp(argv[0], "disable") == 0 || strcmp(argv[0], "enable") == 0) {
        rc = mc_store_account_set_disabled(st, argv[1], argv[0][0] == 'd');
        if (rc != MC_OK) {
            return store_fail(rc, "account", argv[1]);
        }

        printf("account %s %sd\n", argv[1], argv[0]);
        return EX_OK;
    }

    usage(stderr);
    return EX_USAGE;
}


static int
cmd_key(int argc, char **argv)
{
    int          rc;
    char         key[80], id[MC_KEY_ID_LEN + 1];
    json_t      *j;

    if (argc < 1) {
        usage(stderr);
        return EX_USAGE;
    }

    if (strcmp(argv[0], "add") == 0 && argc >= 2) {
        rc = mc_store_key_add(st, argv[1], option(argc, argv, "--key"),
                              mc_now_msec(), key, sizeof(key), id);
        if (rc != MC_OK) {
            return store_fail(rc, rc == MC_STORE_EXISTS ? "key" : "account",
                              rc == MC_STORE_EXISTS ? "the key" : argv[1]);
        }

        /* the only time the key is ever shown */
        printf("%s\n", key);
        fprintf(stderr, "key id %s for account %s; store the key now, it "
                "cannot be shown again\n", id, argv[1]);
        return EX_OK;
    }

    if (strcmp(argv[0], "list") == 0) {
        j = mc_store_keys_json(st, argc >= 2 ? argv[1] : NULL);
        if (j == NULL) {
            return store_fail(MC_ERROR, "key", "");
        }

        print_json(j);
        json_decref(j);
        return EX_OK;
    }

    if (strcmp(argv[0], "revoke") == 0 && argc >= 2) {
        rc = mc_store_key_revoke(st, argc >= 3 ? argv[2] : NULL, argv[1]);
        if (rc != MC_OK) {
            return store_fail(rc, "key", argv[1]);
        }

        printf("key %s revoked\n", argv[1]);
        return EX_OK;
    }

    usage(stderr);
    return EX_USAGE;
}


static int
cmd_credit(int argc, char **argv, mc_ledger_type_e type)
{
    int        rc;
    int64_t    amount, balance;

    if (argc < 2
        || parse_amount(argv[1], type == MC_LEDGER_ADJUST, &amount) != MC_OK)
    {
        usage(stderr);
        return EX_USAGE;
    }

    rc = mc_store_credit(st, argv[0], type, amount,
                         option(argc, argv, "--reason"), mc_now_msec(),
                         &balance);
    if (rc != MC_OK) {
        return store_fail(rc, "account", argv[0]);
    }

    printf("account %s: %s %lld, balance %lld\n", argv[0],
           mc_ledger_type_name(type), (long long) amount,
           (long long) balance);
    return EX_OK;
}


static int
cmd_balance(int argc, char **argv)
{
    int            rc;
    mc_account_t   a;

    if (argc < 1) {
        usage(stderr);
        return EX_USAGE;
    }

    rc = mc_store_account_get(st, argv[0], &a);
    if (rc != MC_OK) {
        return store_fail(rc, "account", argv[0]);
    }

    printf("account %s: balance %lld, reserved %lld, plan %s\n", a.id,
           (long long) a.balance, (long long) a.reserved, a.plan);
    return EX_OK;
}


static void
csv_field(const char *s)
{
    if (s == NULL) {
        return;
    }

    if (strpbrk(s, ",\"\n") == NULL) {
        fputs(s, stdout);
        return;
    }

    putchar('"');

    for ( ; *s; s++) {
        if (*s == '"') {
            putchar('"');
        }
        putchar(*s);
    }

    putchar('"');
}


static int
cmd_ledger(int argc, char **argv)
{
    size_t       i, limit;
    json_t      *arr, *e;
    int64_t      before;
    const char  *account, *format, *lim, *bef;

    account = (argc >= 1 && argv[0][0] != '-') ? argv[0] : NULL;
    format = option(argc, argv, "--format");
    lim = option(argc, argv, "--limit");
    bef = option(argc, argv, "--before");

    limit = lim ? (size_t) strtoull(lim, NULL, 10) : (size_t) -1;
    before = bef ? strtoll(bef, NULL, 10) : 0;

    arr = mc_store_ledger_json(st, account, before, limit);
    if (arr == NULL) {
        return store_fail(MC_ERROR, "ledger", "");
    }

    if (format && strcmp(format, "csv") == 0) {
        printf("seq,at,account,type,amount,balance,reserved,task,reason\n");

        json_array_foreach(arr, i, e) {
            printf("%lld,%lld,",
                   (long long) json_integer_value(json_object_get(e, "seq")),
                   (long long) json_integer_value(json_object_get(e, "at")));
            csv_field(mc_json_str(e, "account"));
            printf(",%s,%lld,%lld,%lld,", mc_json_str(e, "type"),
                   (long long) json_integer_value(json_object_get(e,
                                                                  "amount")),
                   (long long) json_integer_value(json_object_get(e,
                                                                  "balance")),
                   (long long) json_integer_value(json_object_get(e,
                                                                 "reserved")));
            csv_field(mc_json_str(e, "task"));
            putchar(',');
            csv_field(mc_json_str(e, "reason"));
            putchar('\n');
        }

    } else if (format == NULL || strcmp(format, "jsonl") == 0) {
        json_array_foreach(arr, i, e) {
            char *s = json_dumps(e, JSON_COMPACT | JSON_SORT_KEYS);
            if (s) {
                printf("%s\n", s);
                free(s);
            }
        }

    } else {
        json_decref(arr);
        fprintf(stderr, "makeclip: --format is jsonl or csv\n");
        return EX_USAGE;
    }

    json_decref(arr);
    return EX_OK;
}


static int
cmd_task(int argc, char **argv)
{
    int         rc;
    json_t     *j;
    mc_pool_t  *pool;
    mc_task_t   t;

    if (argc < 1) {
        usage(stderr);
        return EX_USAGE;
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
cmd_audit(void)
{
    size_t   n;
    json_t  *problems;

    problems = mc_store_audit(st);
    if (problems == NULL) {
        return store_fail(MC_ERROR, "store", "");
    }

    n = json_array_size(problems);

    if (n == 0) {
        printf("audit: clean\n");

    } else {
        print_json(problems);
        fprintf(stderr, "audit: %zu problem%s\n", n, n == 1 ? "" : "s");
    }

    json_decref(problems);

    return n ? EX_REFUSED : EX_OK;
}


static int
cmd_backup(int argc, char **argv)
{
    int       rc;
    MDB_env  *env;

    if (argc < 1) {
        usage(stderr);
        return EX_USAGE;
    }

    if (mkdir(argv[0], 0700) == -1 && errno != EEXIST) {
        fprintf(stderr, "makeclip: mkdir(\"%s\"): %s\n", argv[0],
                strerror(errno));
        return EX_FAIL;
    }

    /* a read transaction's snapshot, written compacted: consistent while
     * nginx keeps writing */
    rc = mdb_env_create(&env);
    if (rc == 0) {
        mdb_env_set_maxdbs(env, 16);
        rc = mdb_env_open(env, store_path, MDB_RDONLY | MDB_NOTLS, 0600);
    }

    if (rc == 0) {
        rc = mdb_env_copy2(env, argv[0], MDB_CP_COMPACT);
    }

    mdb_env_close(env);

    if (rc != 0) {
        fprintf(stderr, "makeclip: backup to \"%s\" failed: %s\n", argv[0],
                mdb_strerror(rc));
        return EX_FAIL;
    }

    printf("backup written to %s/data.mdb\n", argv[0]);
    return EX_OK;
}


int
main(int argc, char **argv)
{
    int          c, rc, ro;
    const char  *cmd, *env;

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

    if (strcmp(cmd, "backup") == 0) {
        return cmd_backup(argc, argv);
    }

    ro = strcmp(cmd, "ledger") == 0 || strcmp(cmd, "audit") == 0
         || strcmp(cmd, "stats") == 0 || strcmp(cmd, "balance") == 0
         || strcmp(cmd, "task") == 0;

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

    } else if (strcmp(cmd, "balance") == 0) {
        rc = cmd_balance(argc, argv);

    } else if (strcmp(cmd, "ledger") == 0) {
        rc = cmd_ledger(argc, argv);

    } else if (strcmp(cmd, "task") == 0) {
        rc = cmd_task(argc, argv);

    } else if (strcmp(cmd, "audit") == 0) {
        rc = cmd_audit();

    } else if (strcmp(cmd, "stats") == 0) {
        json_t *j = mc_store_stats(st);
        if (j) {
            print_json(j);
            json_decref(j);
            rc = EX_OK;
        } else {
            rc = store_fail(MC_ERROR, "store", "");
        }

    } else {
        usage(stderr);
        rc = EX_USAGE;
    }

    mc_store_close(st);
    return rc;
}
