// Chooses the forumd binaries before tests/integration/lib.js reads FORUMD (import this first).
//   FORUMD       the binary most tests run (default: build/forumd, else build-rel/forumd)
//   FORUMD_ASAN  the ASan+UBSan binary for the SIGTERM test (default: build-asan/forumd, else
//                build-rel-asan/forumd, else FORUMD when its path names an asan build)
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

const first = (...cands) => cands.find((p) => p && existsSync(p));

if (!process.env.FORUMD) {
  process.env.FORUMD = first(path.join(ROOT, 'build/forumd'), path.join(ROOT, 'build-rel/forumd')) ??
    path.join(ROOT, 'build/forumd');
}
if (!process.env.FORUMD_ASAN) {
  const asan = first(path.join(ROOT, 'build-asan/forumd'), path.join(ROOT, 'build-rel-asan/forumd'));
  if (asan) process.env.FORUMD_ASAN = asan;
  else if (/asan|sanit/i.test(process.env.FORUMD)) process.env.FORUMD_ASAN = process.env.FORUMD;
}
if (!process.env.LSAN_OPTIONS) {
  process.env.LSAN_OPTIONS = `suppressions=${path.join(ROOT, 'tests/lsan.supp')}:print_suppressions=0`;
}
if (!process.env.ASAN_OPTIONS) process.env.ASAN_OPTIONS = 'detect_leaks=1:abort_on_error=0:halt_on_error=1';
if (!process.env.UBSAN_OPTIONS) process.env.UBSAN_OPTIONS = 'print_stacktrace=1:halt_on_error=1';

export const FORUMD = process.env.FORUMD;
export const FORUMD_ASAN = process.env.FORUMD_ASAN;
/** Long soak variants run when FORUM_SOAK=1. */
export const SOAK = process.env.FORUM_SOAK === '1';
