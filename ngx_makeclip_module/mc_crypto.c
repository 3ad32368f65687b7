
/*
 * SHA-256 (FIPS 180-4), HMAC (RFC 2104) and base64 (RFC 4648).
 */

#include "mc_crypto.h"


static const uint32_t  mc_sha256_k[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1,
    0x923f82a4, 0xab1c5ed5, 0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3,
    0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786,
    0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147,
    0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13,
    0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b,
    0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a,
    0x5b9cca4f, 0x682e6ff3, 0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208,
    0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2
};


#define ROR(x, n)  (((x) >> (n)) | ((x) << (32 - (n))))


static void
mc_sha256_block(mc_sha256_t *ctx, const unsigned char *p)
{
    int       i;
    uint32_t  w[64], a, b, c, d, e, f, g, h, t1, t2;

    for (i = 0; i < 16; i++) {
        w[i] = (uint32_t) p[4 * i] << 24 | (uint32_t) p[4 * i + 1] << 16
               | (uint32_t) p[4 * i + 2] << 8 | (uint32_t) p[4 * i + 3];
    }

    for (i = 16; i < 64; i++) {
        w[i] = (ROR(w[i - 2], 17) ^ ROR(w[i - 2], 19) ^ (w[i - 2] >> 10))
               + w[i - 7]
               + (ROR(w[i - 15], 7) ^ ROR(w[i - 15], 18) ^ (w[i - 15] >> 3))
               + w[i - 16];
    }

    a = ctx->state[0]; b = ctx->state[1]; c = ctx->state[2];
    d = ctx->state[3]; e = ctx->state[4]; f = ctx->state[5];
    g = ctx->state[6]; h = ctx->state[7];

    for (i = 0; i < 64; i++) {
        t1 = h + (ROR(e, 6) ^ ROR(e, 11) ^ ROR(e, 25)) + ((e & f) ^ (~e & g))
             + mc_sha256_k[i] + w[i];
        t2 = (ROR(a, 2) ^ ROR(a, 13) ^ ROR(a, 22))
             + ((a & b) ^ (a & c) ^ (b & c));
        h = g; g = f; f = e; e = d + t1;
        d = c; c = b; b = a; a = t1 + t2;
    }

    ctx->state[0] += a; ctx->state[1] += b; ctx->state[2] += c;
    ctx->state[3] += d; ctx->state[4] += e; ctx->state[5] += f;
    ctx->state[6] += g; ctx->state[7] += h;
}


void
mc_sha256_init(mc_sha256_t *ctx)
{
    static const uint32_t  iv[8] = {
        0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
        0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19
    };

    memcpy(ctx->state, iv, sizeof(iv));
    ctx->bytes = 0;
    ctx->used = 0;
}


void
mc_sha256_update(mc_sha256_t *ctx, const void *data, size_t len)
{
    size_t                n;
    const unsigned char  *p;

    p = data;
    ctx->bytes += len;

    while (len) {
        n = 64 - ctx->used;
        if (n > len) {
            n = len;
        }

        memcpy(ctx->block + ctx->used, p, n);
        ctx->used += n;
        p += n;
        len -= n;

        if (ctx->used == 64) {
            mc_sha256_block(ctx, ctx->block);
            ctx->used = 0;
        }
    }
}


void
mc_sha256_final(mc_sha256_t *ctx, unsigned char out[MC_SHA256_LEN])
{
    int       i;
    uint64_t  bits;

    bits = ctx->bytes * 8;

    ctx->block[ctx->used++] = 0x80;

    if (ctx->used > 56) {
        memset(ctx->block + ctx->used, 0, 64 - ctx->used);
        mc_sha256_block(ctx, ctx->block);
        ctx->used = 0;
    }

    memset(ctx->block + ctx->used, 0, 56 - ctx->used);

    for (i = 0; i < 8; i++) {
        ctx->block[56 + i] = (unsigned char) (bits >> (56 - 8 * i));
    }

    mc_sha256_block(ctx, ctx->block);

    for (i = 0; i < 8; i++) {
        out[4 * i] = (unsigned char) (ctx->state[i] >> 24);
        out[4 * i + 1] = (unsigned char) (ctx->state[i] >> 16);
        out[4 * i + 2] = (unsigned char) (ctx->state[i] >> 8);
        out[4 * i + 3] = (unsigned char) ctx->state[i];
    }
}


void
mc_sha256(const void *data, size_t len, unsigned char out[MC_SHA256_LEN])
{
    mc_sha256_t  ctx;

    mc_sha256_init(&ctx);
    mc_sha256_update(&ctx, data, len);
    mc_sha256_final(&ctx, out);
}


void
mc_sha256_hex(const void *data, size_t len, char *out)
{
    unsigned char  md[MC_SHA256_LEN];

    mc_sha256(data, len, md);
    mc_hex(out, md, sizeof(md));
}


void
mc_hmac_sha256(const void *key, size_t klen, const void *data, size_t len,
    unsigned char out[MC_SHA256_LEN])
{
    size_t         i;
    mc_sha256_t    ctx;
    unsigned char  k[64], pad[64], inner[MC_SHA256_LEN];

    memset(k, 0, sizeof(k));

    if (klen > sizeof(k)) {
        mc_sha256(key, klen, k);

    } else if (klen) {
        memcpy(k, key, klen);
    }

    for (i = 0; i < sizeof(pad); i++) {
        pad[i] = k[i] ^ 0x36;
    }

    mc_sha256_init(&ctx);
    mc_sha256_update(&ctx, pad, sizeof(pad));
    mc_sha256_update(&ctx, data, len);
    mc_sha256_final(&ctx, inner);

    for (i = 0; i < sizeof(pad); i++) {
        pad[i] = k[i] ^ 0x5c;
    }

    mc_sha256_init(&ctx);
    mc_sha256_update(&ctx, pad, sizeof(pad));
    mc_sha256_update(&ctx, inner, sizeof(inner));
    mc_sha256_final(&ctx, out);
}


size_t
mc_base64_encoded_len(size_t len)
{
    return (len + 2) / 3 * 4;
}


void
mc_base64_encode(char *dst, const unsigned char *src, size_t len, int url)
{
    static const char  std[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    static const char  web[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    const char        *a;

    a = url ? web : std;

    while (len >= 3) {
        *dst++ = a[src[0] >> 2];
        *dst++ = a[((src[0] & 3) << 4) | (src[1] >> 4)];
        *dst++ = a[((src[1] & 0x0f) << 2) | (src[2] >> 6)];
        *dst++ = a[src[2] & 0x3f];
        src += 3;
        len -= 3;
    }

    if (len) {
        *dst++ = a[src[0] >> 2];

        if (len == 1) {
            *dst++ = a[(src[0] & 3) << 4];
            if (!url) {
                *dst++ = '=';
                *dst++ = '=';
            }

        } else {
            *dst++ = a[((src[0] & 3) << 4) | (src[1] >> 4)];
            *dst++ = a[(src[1] & 0x0f) << 2];
            if (!url) {
                *dst++ = '=';
            }
        }
    }

    *dst = '\0';
}


static int
mc_base64_value(unsigned char c)
{
    if (c >= 'A' && c <= 'Z') {
        return c - 'A';
    }
    if (c >= 'a' && c <= 'z') {
        return c - 'a' + 26;
    }
    if (c >= '0' && c <= '9') {
        return c - '0' + 52;
    }
    if (c == '+') {
        return 62;
    }
    if (c == '/') {
        return 63;
    }
    return -1;
}


int
mc_base64_decode(unsigned char *dst, size_t *dlen, const char *src,
    size_t len)
{
    int       v;
    size_t    i, pad, out;
    uint32_t  acc;

    if (len % 4) {
        return MC_ERROR;
    }

    pad = 0;
    if (len && src[len - 1] == '=') {
        pad++;
        if (src[len - 2] == '=') {
            pad++;
        }
    }

    acc = 0;
    out = 0;

    for (i = 0; i < len - pad; i++) {
        v = mc_base64_value((unsigned char) src[i]);
        if (v < 0) {
            return MC_ERROR;
        }

        acc = (acc << 6) | (uint32_t) v;

        if (i % 4 == 3) {
            if (dst) {
                dst[out] = (unsigned char) (acc >> 16);
                dst[out + 1] = (unsigned char) (acc >> 8);
                dst[out + 2] = (unsigned char) acc;
            }
            out += 3;
            acc = 0;
        }
    }

    if (pad == 1) {
        if (dst) {
            dst[out] = (unsigned char) (acc >> 10);
            dst[out + 1] = (unsigned char) (acc >> 2);
        }
        out += 2;

    } else if (pad == 2) {
        if (dst) {
            dst[out] = (unsigned char) (acc >> 4);
        }
        out += 1;
    }

    *dlen = out;
    return MC_OK;
}


int
mc_base64_valid(const char *src, size_t len)
{
    size_t  n;

    return mc_base64_decode(NULL, &n, src, len);
}


int
mc_consttime_eq(const void *a, const void *b, size_t len)
{
    size_t                i;
    unsigned char         d;
    const unsigned char  *x, *y;

    x = a;
    y = b;
    d = 0;

    for (i = 0; i < len; i++) {
        d |= x[i] ^ y[i];
    }

    return d == 0;
}
