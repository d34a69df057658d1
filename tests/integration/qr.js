// qr.js — reads a QR code back out of a PNG (pngjs decodes the image, jsQR finds and decodes the
// symbol), so that tests check what a phone's camera would get from the join code.
import jsQR from 'jsqr';
import { PNG } from 'pngjs';

/** The text of the QR code in png (a Buffer), or null when none is found. */
export function decodeQrPng(png) {
  const image = PNG.sync.read(png);
  const found = jsQR(new Uint8ClampedArray(image.data.buffer, image.data.byteOffset, image.data.length),
    image.width, image.height);
  return found ? found.data : null;
}

/** {width, height} of a PNG. */
export function pngSize(png) {
  const image = PNG.sync.read(png);
  return { width: image.width, height: image.height };
}
