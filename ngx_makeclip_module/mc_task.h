
/*
 * A video task as the store keeps it and as the API renders it.
 */

#ifndef _MC_TASK_H_INCLUDED_
#define _MC_TASK_H_INCLUDED_


#include "mc_core.h"


typedef enum {
    MC_TASK_SUBMITTING = 0,     /* reserved, provider not answered yet */
    MC_TASK_QUEUED,
    MC_TASK_IN_PROGRESS,
    MC_TASK_COMPLETED,
    MC_TASK_FAILED
} mc_task_status_e;


typedef enum {
    MC_CHARGE_NONE = 0,
    MC_CHARGE_RESERVED,
    MC_CHARGE_SETTLED,
    MC_CHARGE_REFUNDED
} mc_charge_e;


typedef struct {
    char               id[MC_ID_LEN + 1];
    const char        *account;

    mc_task_status_e   status;
    int                progress;        /* 0..100 */

    const char        *model;           /* public model name */
    const char        *provider;        /* provider name in the config */
    const char        *provider_model;
    const char        *provider_task_id;
    const char        *provider_data;   /* adapter's JSON, opaque */
    const char        *provider_video_url;

    const char        *prompt;
    int                seconds;
    const char        *size;
    const char        *callback_url;
    const char        *metadata;        /* JSON object text */
    const char        *idempotency_key;

    int64_t            credits;
    mc_charge_e        charge;

    mc_msec_t          created_at;
    mc_msec_t          updated_at;
    mc_msec_t          polled_at;
    mc_msec_t          completed_at;
    mc_msec_t          deleted_at;      /* DELETE of a finished task */

    const char        *error_code;
    const char        *error_message;
} mc_task_t;


const char *mc_task_status_name(mc_task_status_e s);
/* OpenAI's four words: submitting shows as queued */
const char *mc_task_public_status(mc_task_status_e s);
int mc_task_status_from_name(const char *name, mc_task_status_e *s);
const char *mc_charge_name(mc_charge_e c);
int mc_charge_from_name(const char *name, mc_charge_e *c);

static inline int
mc_task_is_terminal(mc_task_status_e s)
{
    return s == MC_TASK_COMPLETED || s == MC_TASK_FAILED;
}

/* the store's record */
json_t *mc_task_to_json(const mc_task_t *t);
int mc_task_from_json(mc_pool_t *pool, json_t *j, mc_task_t *t);

/*
 * The API's video object.  content_url is where the client fetches the
 * bytes (the gateway's own /content URL), NULL to leave it out.
 */
json_t *mc_task_render(const mc_task_t *t, const char *content_url);


#endif /* _MC_TASK_H_INCLUDED_ */
