/* qr.h — QR codes of a link (the join link on posters, screens and the broadcast): the symbol
 * from libqrencode (error correction M, a quiet zone of 4 modules), drawn as SVG (crisp at any
 * size) or as a greyscale PNG (written with zlib). Pure functions of their input; thread-safe. */
#pragma once
#include <stddef.h>

#define QR_TEXT_MAX 2048 /* bytes of text a code is made for */
#define QR_SCALE_MAX 40  /* PNG pixels per module */

/* The code for text as an SVG document (malloc'd, *len set), black on white, one unit per
 * module. NULL if text is empty, longer than QR_TEXT_MAX, or memory ran out. */
char *qr_svg(const char *text, size_t *len);

/* The code for text as a PNG image (malloc'd, *len set) of scale (1..QR_SCALE_MAX) pixels per
 * module. NULL as for qr_svg, for a scale out of range, or when the image would be over 4096
 * pixels wide. */
unsigned char *qr_png(const char *text, int scale, size_t *len);
