
/*
 * multipart/form-data parser: zero-copy, bounded, no allocation.
 */

#include "mc_multipart.h"

#include <strings.h>


static const char *mc_memmem(const char *h, size_t hlen, const char *n,
    size_t nlen);
static int mc_param(const char *s, size_t len, const char *name,
    mc_str_t *value);


int
mc_multipart_boundary(const char *ct, size_t len, mc_str_t *boundary)
{
    static const char  type[] = "multipart/form-data";

    if (len < sizeof(type) - 1
        || strncasecmp(ct, type, sizeof(type) - 1) != 0)
    {
        return MC_ERROR;
    }

    if (mc_param(ct, len, "boundary", boundary) != MC_OK
        || boundary->len == 0 || boundary->len > 70)
    {
        return MC_ERROR;
    }

    return MC_OK;
}


int
mc_multipart_next(const char *body, size_t len, mc_str_t boundary,
    size_t *pos, mc_part_t *part)
{
    size_t       n, hlen;
    char         delim[80];
    const char  *p, *end, *hdr_end, *line, *eol, *next;

    if (boundary.len + 4 > sizeof(delim)) {
        return MC_ERROR;
    }

    /* the delimiter inside the body is CRLF "--" boundary */
    delim[0] = '\r';
    delim[1] = '\n';
    delim[2] = '-';
    delim[3] = '-';
    memcpy(delim + 4, boundary.data, boundary.len);
    n = boundary.len + 4;

    end = body + len;

    if (*pos == 0) {
        /* the first delimiter may come without the leading CRLF */
        if (len >= n - 2 && memcmp(body, delim + 2, n - 2) == 0) {
            p = body + n - 2;

        } else {
            p = mc_memmem(body, len, delim, n);
            if (p == NULL) {
                return MC_ERROR;
            }
            p += n;
        }

    } else {
        p = body + *pos;
    }

    /* after a delimiter: "--" closes, CRLF opens a part */
    if (end - p >= 2 && p[0] == '-' && p[1] == '-') {
        return MC_DECLINED;
    }

    /* transport padding (spaces, tabs) may precede the CRLF */
    while (p < end && (*p == ' ' || *p == '\t')) {
        p++;
    }

    if (end - p < 2 || p[0] != '\r' || p[1] != '\n') {
        return MC_ERROR;
    }

    p += 2;

    hdr_end = mc_memmem(p, (size_t) (end - p), "\r\n\r\n", 4);
    if (hdr_end == NULL) {
        return MC_ERROR;
    }

    memset(part, 0, sizeof(mc_part_t));

    for (line = p; line < hdr_end; line = eol + 2) {
        eol = mc_memmem(line, (size_t) (hdr_end + 2 - line), "\r\n", 2);
        if (eol == NULL) {
            eol = hdr_end;
        }

        hlen = (size_t) (eol - line);

        if (hlen > 20 && strncasecmp(line, "Content-Disposition:", 20) == 0)
        {
            if (mc_param(line + 20, hlen - 20, "name", &part->name)
                != MC_OK)
            {
                return MC_ERROR;
            }

            if (mc_param(line + 20, hlen - 20, "filename", &part->filename)
                != MC_OK)
            {
                part->filename.len = 0;
                part->filename.data = NULL;
            }

        } else if (hlen > 13
                   && strncasecmp(line, "Content-Type:", 13) == 0)
        {
            part->content_type.data = line + 13;
            part->content_type.len = hlen - 13;

            while (part->content_type.len
                   && *part->content_type.data == ' ')
            {
                part->content_type.data++;
                part->content_type.len--;
            }
        }

        if (eol == hdr_end) {
            break;
        }
    }

    if (part->name.data == NULL) {
        return MC_ERROR;
    }

    p = hdr_end + 4;

    next = mc_memmem(p, (size_t) (end - p), delim, n);
    if (next == NULL) {
        return MC_ERROR;
    }

    part->data.data = p;
    part->data.len = (size_t) (next - p);

    *pos = (size_t) (next + n - body);

    return MC_OK;
}


static const char *
mc_memmem(const char *h, size_t hlen, const char *n, size_t nlen)
{
    const char  *p, *last;

    if (nlen == 0 || hlen < nlen) {
        return NULL;
    }

    last = h + hlen - nlen;

    for (p = h; p <= last; p++) {
        p = memchr(p, n[0], (size_t) (last - p) + 1);
        if (p == NULL) {
            return NULL;
        }

        if (memcmp(p, n, nlen) == 0) {
            return p;
        }
    }

    return NULL;
}


/*
 * name="value" or name=value in a header's parameter list; the name must
 * start a parameter (after ';' or whitespace), so "filename" is not found
 * when looking for "name"
 */

static int
mc_param(const char *s, size_t len, const char *name, mc_str_t *value)
{
    size_t       nlen;
    const char  *p, *end, *v;

    nlen = strlen(name);
    end = s + len;

    for (p = s; p + nlen < end; p++) {
        if (strncasecmp(p, name, nlen) != 0 || p[nlen] != '=') {
            continue;
        }

        if (p != s && p[-1] != ';' && p[-1] != ' ' && p[-1] != '\t') {
            continue;
        }

        v = p + nlen + 1;

        if (v < end && *v == '"') {
            v++;
            p = memchr(v, '"', (size_t) (end - v));
            if (p == NULL) {
                return MC_ERROR;
            }

        } else {
            for (p = v; p < end && *p != ';' && *p != ' ' && *p != '\t';
                 p++)
            {
                /* void */
            }
        }

        value->data = v;
        value->len = (size_t) (p - v);
        return MC_OK;
    }

    return MC_ERROR;
}
