/* qr.c — see qr.h: libqrencode's symbol drawn as SVG path data or as a PNG (8-bit greyscale,
 * each row one filter byte 0 and its pixels, deflated with zlib, chunks with their CRCs). */
#include "qr.h"

#include <qrencode.h>
#include <zlib.h>

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define QR_QUIET 4           /* modules of white around the symbol (ISO/IEC 18004) */
#define QR_PNG_SIDE_MAX 4096 /* pixels: a bigger image is refused (memory) */

/* The symbol for text, or NULL. */
static QRcode *encode(const char *text)
{
    size_t n = text ? strlen(text) : 0;
    if (n == 0 || n > QR_TEXT_MAX)
        return NULL;
    return QRcode_encodeString(text, 0, QR_ECLEVEL_M, QR_MODE_8, 1);
}

static int dark(const QRcode *q, int x, int y)
{
    return q->data[y * q->width + x] & 1;
}

char *qr_svg(const char *text, size_t *len)
{
    QRcode *q = encode(text);
    if (!q)
        return NULL;
    int side = q->width + 2 * QR_QUIET;
    /* header and footer, and at most one run ("M%d,%dh%dv1h-%dz", <= 32 bytes) per module */
    size_t cap = 512 + (size_t)q->width * (size_t)q->width * 32, off = 0;
    char *out = malloc(cap);
    if (!out)
        goto done;
#define SVG_OUT(...) off += (size_t)snprintf(out + off, cap - off, __VA_ARGS__)
    SVG_OUT("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
            "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 %d %d\" width=\"%d\" "
            "height=\"%d\" shape-rendering=\"crispEdges\">"
            "<rect width=\"%d\" height=\"%d\" fill=\"#fff\"/><path fill=\"#000\" d=\"",
            side, side, side * 8, side * 8, side, side);
    for (int y = 0; y < q->width; y++)
        for (int x = 0; x < q->width;) {
            if (!dark(q, x, y)) {
                x++;
                continue;
            }
            int run = 1;
            while (x + run < q->width && dark(q, x + run, y))
                run++;
            SVG_OUT("M%d,%dh%dv1h-%dz", x + QR_QUIET, y + QR_QUIET, run, run);
            x += run;
        }
    SVG_OUT("\"/></svg>\n");
#undef SVG_OUT
    *len = off;
done:
    QRcode_free(q);
    return out;
}

static void put_u32(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)(v >> 24);
    p[1] = (unsigned char)(v >> 16);
    p[2] = (unsigned char)(v >> 8);
    p[3] = (unsigned char)v;
}

/* Appends a chunk (length, type, data, CRC of type and data) at out + *off. */
static void put_chunk(unsigned char *out, size_t *off, const char type[4],
                      const unsigned char *data, size_t n)
{
    unsigned char *p = out + *off;
    put_u32(p, (uint32_t)n);
    memcpy(p + 4, type, 4);
    if (n)
        memcpy(p + 8, data, n);
    uLong crc = crc32(0L, p + 4, (uInt)(n + 4));
    put_u32(p + 8 + n, (uint32_t)crc);
    *off += 12 + n;
}

unsigned char *qr_png(const char *text, int scale, size_t *len)
{
    if (scale < 1 || scale > QR_SCALE_MAX)
        return NULL;
    QRcode *q = encode(text);
    if (!q)
        return NULL;
    unsigned char *raw = NULL, *packed = NULL, *out = NULL;
    size_t side = (size_t)(q->width + 2 * QR_QUIET) * (size_t)scale;
    size_t row = side + 1, raw_len = row * side;
    if (side > QR_PNG_SIDE_MAX)
        goto done;
    uLongf packed_len = compressBound((uLong)raw_len);
    raw = malloc(raw_len);
    packed = malloc(packed_len);
    if (!raw || !packed)
        goto done;
    for (size_t y = 0; y < side; y++) {
        unsigned char *r = raw + y * row;
        int my = (int)(y / (size_t)scale) - QR_QUIET;
        r[0] = 0; /* filter: none */
        for (size_t x = 0; x < side; x++) {
            int mx = (int)(x / (size_t)scale) - QR_QUIET;
            bool inside = mx >= 0 && my >= 0 && mx < q->width && my < q->width;
            r[1 + x] = inside && dark(q, mx, my) ? 0 : 255;
        }
    }
    if (compress2(packed, &packed_len, raw, (uLong)raw_len, Z_BEST_COMPRESSION) != Z_OK)
        goto done;
    size_t cap = 8 + (12 + 13) + (12 + packed_len) + 12, off = 8;
    out = malloc(cap);
    if (!out)
        goto done;
    static const unsigned char signature[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    memcpy(out, signature, 8);
    unsigned char ihdr[13];
    put_u32(ihdr, (uint32_t)side);
    put_u32(ihdr + 4, (uint32_t)side);
    ihdr[8] = 8;  /* bit depth */
    ihdr[9] = 0;  /* greyscale */
    ihdr[10] = 0; /* deflate */
    ihdr[11] = 0; /* adaptive filtering (every row: none) */
    ihdr[12] = 0; /* not interlaced */
    put_chunk(out, &off, "IHDR", ihdr, sizeof ihdr);
    put_chunk(out, &off, "IDAT", packed, packed_len);
    put_chunk(out, &off, "IEND", NULL, 0);
    *len = off;
done:
    free(raw);
    free(packed);
    QRcode_free(q);
    return out;
}
