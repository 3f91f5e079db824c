/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <ctype.h>
#include <stdint.h>
#include <stdio.h>

#include "machineid.h"

static bool all_zero(const char *s)
{
        for (; *s; s++)
                if (*s != '0')
                        return false;
        return true;
}

bool machine_id_normalise(const char *in, char ret[MACHINE_ID_LEN + 1])
{
        size_t len = strlen(in), i, o = 0;
        bool dashed = len == 36;

        if (len != 32 && !dashed)
                return false;
        for (i = 0; i < len; i++) {
                if (dashed && (i == 8 || i == 13 || i == 18 || i == 23)) {
                        if (in[i] != '-')
                                return false;
                        continue;
                }
                if (!isxdigit((unsigned char)in[i]))
                        return false;
                ret[o++] = (char)tolower((unsigned char)in[i]);
        }
        ret[o] = '\0';
        return o == MACHINE_ID_LEN && !all_zero(ret);
}

void machine_id_from_container_id(const char *id, char ret[MACHINE_ID_LEN + 1])
{
        unsigned char h[32];
        size_t i;

        for (i = 0; i < MACHINE_ID_LEN && isxdigit((unsigned char)id[i]); i++)
                ret[i] = (char)tolower((unsigned char)id[i]);
        ret[i] = '\0';
        if (i == MACHINE_ID_LEN && !all_zero(ret))
                return;
        sha256(id, strlen(id), h);
        for (i = 0; i < 16; i++)
                (void)snprintf(ret + 2 * i, 3, "%02x", h[i]);
}

/* SHA-256, FIPS 180-4.  Small and only used for the machine-id fallback. */
static const uint32_t K[64] = {
        0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
        0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
        0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
        0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
        0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
        0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
        0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
        0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
};

#define ROR(x, n) (((x) >> (n)) | ((x) << (32 - (n))))

static void sha256_block(uint32_t st[8], const unsigned char *p)
{
        uint32_t w[64], a, b, c, d, e, f, g, h, t1, t2;
        int i;

        for (i = 0; i < 16; i++)
                w[i] = (uint32_t)p[4 * i] << 24 | (uint32_t)p[4 * i + 1] << 16 |
                       (uint32_t)p[4 * i + 2] << 8 | p[4 * i + 3];
        for (i = 16; i < 64; i++)
                w[i] = (ROR(w[i - 2], 17) ^ ROR(w[i - 2], 19) ^ (w[i - 2] >> 10)) + w[i - 7] +
                       (ROR(w[i - 15], 7) ^ ROR(w[i - 15], 18) ^ (w[i - 15] >> 3)) + w[i - 16];
        a = st[0], b = st[1], c = st[2], d = st[3], e = st[4], f = st[5], g = st[6], h = st[7];
        for (i = 0; i < 64; i++) {
                t1 = h + (ROR(e, 6) ^ ROR(e, 11) ^ ROR(e, 25)) + ((e & f) ^ (~e & g)) + K[i] + w[i];
                t2 = (ROR(a, 2) ^ ROR(a, 13) ^ ROR(a, 22)) + ((a & b) ^ (a & c) ^ (b & c));
                h = g, g = f, f = e, e = d + t1, d = c, c = b, b = a, a = t1 + t2;
        }
        st[0] += a, st[1] += b, st[2] += c, st[3] += d, st[4] += e, st[5] += f, st[6] += g, st[7] += h;
}

void sha256(const void *data, size_t len, unsigned char out[32])
{
        uint32_t st[8] = { 0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
                           0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19 };
        const unsigned char *p = data;
        unsigned char tail[128] = {};
        size_t n = len, rest, tl, i;
        uint64_t bits = (uint64_t)len * 8;

        for (; n >= 64; n -= 64, p += 64)
                sha256_block(st, p);
        rest = n;
        memcpy(tail, p, rest);
        tail[rest] = 0x80;
        tl = rest + 1 + 8 <= 64 ? 64 : 128;
        for (i = 0; i < 8; i++)
                tail[tl - 1 - i] = (unsigned char)(bits >> (8 * i));
        sha256_block(st, tail);
        if (tl == 128)
                sha256_block(st, tail + 64);
        for (i = 0; i < 8; i++) {
                out[4 * i] = (unsigned char)(st[i] >> 24);
                out[4 * i + 1] = (unsigned char)(st[i] >> 16);
                out[4 * i + 2] = (unsigned char)(st[i] >> 8);
                out[4 * i + 3] = (unsigned char)st[i];
        }
}

void uuid_v4_line(const unsigned char bytes[16], char ret[UUID_LINE_LEN + 1])
{
        static const char hex[] = "0123456789abcdef";
        unsigned char b[16];
        size_t i, o = 0;

        memcpy(b, bytes, sizeof(b));
        b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);   /* version 4 */
        b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);   /* variant 10 */
        for (i = 0; i < 16; i++) {
                if (i == 4 || i == 6 || i == 8 || i == 10)
                        ret[o++] = '-';
                ret[o++] = hex[b[i] >> 4];
                ret[o++] = hex[b[i] & 15];
        }
        ret[o++] = '\n';
        ret[o] = '\0';
}
