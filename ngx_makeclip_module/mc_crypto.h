
/*
 * SHA-256, HMAC-SHA-256 and base64: API key hashes, Kling's HS256 tokens,
 * webhook signatures and image uploads, without pulling OpenSSL into the
 * core.
 */

#ifndef _MC_CRYPTO_H_INCLUDED_
#define _MC_CRYPTO_H_INCLUDED_


#include "mc_core.h"


#define MC_SHA256_LEN  32


typedef struct {
    uint32_t       state[8];
    uint64_t       bytes;
    unsigned char  block[64];
    size_t         used;
} mc_sha256_t;


void mc_sha256_init(mc_sha256_t *ctx);
void mc_sha256_update(mc_sha256_t *ctx, const void *data, size_t len);
void mc_sha256_final(mc_sha256_t *ctx, unsigned char out[MC_SHA256_LEN]);
void mc_sha256(const void *data, size_t len, unsigned char out[MC_SHA256_LEN]);
/* hex digest into out[65] */
void mc_sha256_hex(const void *data, size_t len, char *out);

void mc_hmac_sha256(const void *key, size_t klen, const void *data,
    size_t len, unsigned char out[MC_SHA256_LEN]);

size_t mc_base64_encoded_len(size_t len);
/* writes a NUL-terminated string; url selects the URL alphabet, no '=' */
void mc_base64_encode(char *dst, const unsigned char *src, size_t len,
    int url);
/* strict decode of the standard alphabet; returns MC_ERROR on bad input */
int mc_base64_decode(unsigned char *dst, size_t *dlen, const char *src,
    size_t len);
/* checks without decoding */
int mc_base64_valid(const char *src, size_t len);

/* compares without leaking the position of the first difference */
int mc_consttime_eq(const void *a, const void *b, size_t len);


#endif /* _MC_CRYPTO_H_INCLUDED_ */
