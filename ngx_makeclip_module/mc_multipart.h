
/*
 * multipart/form-data (RFC 7578) as OpenAI's SDKs send it for
 * videos.create: a few text fields and at most one file.
 */

#ifndef _MC_MULTIPART_H_INCLUDED_
#define _MC_MULTIPART_H_INCLUDED_


#include "mc_core.h"


typedef struct {
    mc_str_t     name;
    mc_str_t     filename;          /* data == NULL: a plain field */
    mc_str_t     content_type;
    mc_str_t     data;
} mc_part_t;


/* the boundary parameter of a Content-Type header value */
int mc_multipart_boundary(const char *content_type, size_t len,
    mc_str_t *boundary);

/*
 * Walks the body part by part; *pos starts at 0.  Returns MC_OK with a
 * part, MC_DECLINED after the closing delimiter, MC_ERROR on bad framing.
 * Parts point into body; nothing is copied.
 */
int mc_multipart_next(const char *body, size_t len, mc_str_t boundary,
    size_t *pos, mc_part_t *part);


#endif /* _MC_MULTIPART_H_INCLUDED_ */
