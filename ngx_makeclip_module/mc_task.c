
/*
 * Tasks: the stored record and the API's video object.
 */

#include "mc_task.h"


static const char  *mc_status_names[] = {
    "submitting", "queued", "in_progress", "completed", "failed"
};

static const char  *mc_charge_names[] = {
    "none", "reserved", "settled", "refunded"
};


const char *
mc_task_status_name(mc_task_status_e s)
{
    return (unsigned) s < 5 ? mc_status_names[s] : "failed";
}


const char *
mc_task_public_status(mc_task_status_e s)
{
    return s == MC_TASK_SUBMITTING ? "queued" : mc_task_status_name(s);
}


int
mc_task_status_from_name(const char *name, mc_task_status_e *s)
{
    int  i;

    for (i = 0; i < 5; i++) {
        if (strcmp(name, mc_status_names[i]) == 0) {
            *s = (mc_task_status_e) i;
            return MC_OK;
        }
    }

    return MC_ERROR;
}


const char *
mc_charge_name(mc_charge_e c)
{
    return (unsigned) c < 4 ? mc_charge_names[c] : "none";
}


int
mc_charge_from_name(const char *name, mc_charge_e *c)
{
    int  i;

    for (i = 0; i < 4; i++) {
        if (strcmp(name, mc_charge_names[i]) == 0) {
            *c = (mc_charge_e) i;
            return MC_OK;
        }
    }

    return MC_ERROR;
}


static void
mc_set_str(json_t *o, const char *key, const char *v)
{
    if (v) {
        json_object_set_new(o, key, json_string(v));
    }
}


json_t *
mc_task_to_json(const mc_task_t *t)
{
    json_t  *o;

    o = json_object();
    if (o == NULL) {
        return NULL;
    }

    json_object_set_new(o, "id", json_string(t->id));
    mc_set_str(o, "account", t->account);
    json_object_set_new(o, "status",
                        json_string(mc_task_status_name(t->status)));
    json_object_set_new(o, "progress", json_integer(t->progress));
    mc_set_str(o, "model", t->model);
    mc_set_str(o, "provider", t->provider);
    mc_set_str(o, "provider_model", t->provider_model);
    mc_set_str(o, "provider_task_id", t->provider_task_id);
    mc_set_str(o, "provider_data", t->provider_data);
    mc_set_str(o, "provider_video_url", t->provider_video_url);
    mc_set_str(o, "prompt", t->prompt);
    json_object_set_new(o, "seconds", json_integer(t->seconds));
    mc_set_str(o, "size", t->size);
    mc_set_str(o, "callback_url", t->callback_url);
    mc_set_str(o, "metadata", t->metadata);
    mc_set_str(o, "idempotency_key", t->idempotency_key);
    json_object_set_new(o, "credits", json_integer(t->credits));
    json_object_set_new(o, "charge", json_string(mc_charge_name(t->charge)));
    json_object_set_new(o, "created_at", json_integer(t->created_at));
    json_object_set_new(o, "updated_at", json_integer(t->updated_at));
    json_object_set_new(o, "polled_at", json_integer(t->polled_at));
    json_object_set_new(o, "completed_at", json_integer(t->completed_at));

    if (t->deleted_at) {
        json_object_set_new(o, "deleted_at", json_integer(t->deleted_at));
    }

    mc_set_str(o, "error_code", t->error_code);
    mc_set_str(o, "error_message", t->error_message);

    return o;
}


static const char *
mc_get_str(mc_pool_t *pool, json_t *o, const char *key)
{
    const char  *s;

    s = mc_json_str(o, key);
    return s ? mc_pstrdup(pool, s) : NULL;
}


int
mc_task_from_json(mc_pool_t *pool, json_t *o, mc_task_t *t)
{
    const char  *s;

    memset(t, 0, sizeof(mc_task_t));

    s = mc_json_str(o, "id");
    if (s == NULL || strlen(s) > MC_ID_LEN) {
        return MC_ERROR;
    }

    memcpy(t->id, s, strlen(s) + 1);

    s = mc_json_str(o, "status");
    if (s == NULL || mc_task_status_from_name(s, &t->status) != MC_OK) {
        return MC_ERROR;
    }

    s = mc_json_str(o, "charge");
    if (s == NULL || mc_charge_from_name(s, &t->charge) != MC_OK) {
        return MC_ERROR;
    }

    t->account = mc_get_str(pool, o, "account");
    t->progress = (int) json_integer_value(json_object_get(o, "progress"));
    t->model = mc_get_str(pool, o, "model");
    t->provider = mc_get_str(pool, o, "provider");
    t->provider_model = mc_get_str(pool, o, "provider_model");
    t->provider_task_id = mc_get_str(pool, o, "provider_task_id");
    t->provider_data = mc_get_str(pool, o, "provider_data");
    t->provider_video_url = mc_get_str(pool, o, "provider_video_url");
    t->prompt = mc_get_str(pool, o, "prompt");
    t->seconds = (int) json_integer_value(json_object_get(o, "seconds"));
    t->size = mc_get_str(pool, o, "size");
    t->callback_url = mc_get_str(pool, o, "callback_url");
    t->metadata = mc_get_str(pool, o, "metadata");
    t->idempotency_key = mc_get_str(pool, o, "idempotency_key");
    t->credits = json_integer_value(json_object_get(o, "credits"));
    t->created_at = json_integer_value(json_object_get(o, "created_at"));
    t->updated_at = json_integer_value(json_object_get(o, "updated_at"));
    t->polled_at = json_integer_value(json_object_get(o, "polled_at"));
    t->completed_at = json_integer_value(json_object_get(o, "completed_at"));
    t->deleted_at = json_integer_value(json_object_get(o, "deleted_at"));
    t->error_code = mc_get_str(pool, o, "error_code");
    t->error_message = mc_get_str(pool, o, "error_message");

    if (t->account == NULL) {
        return MC_ERROR;
    }

    return MC_OK;
}


json_t *
mc_task_render(const mc_task_t *t, const char *content_url)
{
    json_t  *o, *e, *out, *md;

    o = json_object();
    if (o == NULL) {
        return NULL;
    }

    json_object_set_new(o, "id", json_string(t->id));
    json_object_set_new(o, "object", json_string("video"));
    json_object_set_new(o, "status",
                        json_string(mc_task_public_status(t->status)));
    json_object_set_new(o, "progress",
                        json_integer(t->status == MC_TASK_COMPLETED
                                     ? 100 : t->progress));
    json_object_set_new(o, "model", json_string(t->model ? t->model : ""));
    json_object_set_new(o, "prompt", t->prompt ? json_string(t->prompt)
                                               : json_null());

    /* OpenAI's object carries seconds as a string */
    json_object_set_new(o, "seconds", json_sprintf("%d", t->seconds));
    json_object_set_new(o, "size", json_string(t->size ? t->size : ""));
    json_object_set_new(o, "created_at", json_integer(t->created_at / 1000));
    json_object_set_new(o, "completed_at",
                        t->completed_at ? json_integer(t->completed_at / 1000)
                                        : json_null());
    json_object_set_new(o, "expires_at", json_null());
    json_object_set_new(o, "remixed_from_video_id", json_null());

    if (t->status == MC_TASK_FAILED) {
        e = json_object();
        json_object_set_new(e, "code", json_string(t->error_code
                                                   ? t->error_code
                                                   : "generation_failed"));
        json_object_set_new(e, "message",
                            json_string(t->error_message
                                        ? t->error_message
                                        : "The video could not be made."));
        json_object_set_new(o, "error", e);

    } else {
        json_object_set_new(o, "error", json_null());
    }

    json_object_set_new(o, "provider",
                        json_string(t->provider ? t->provider : ""));
    json_object_set_new(o, "credits", json_integer(t->credits));

    out = json_object();
    json_object_set_new(out, "video_url",
                        t->status == MC_TASK_COMPLETED && content_url
                        ? json_string(content_url) : json_null());
    json_object_set_new(o, "output", out);

    md = NULL;
    if (t->metadata) {
        md = json_loads(t->metadata, 0, NULL);
    }

    json_object_set_new(o, "metadata", json_is_object(md) ? md : json_object());

    if (md && !json_is_object(md)) {
        json_decref(md);
    }

    return o;
}
