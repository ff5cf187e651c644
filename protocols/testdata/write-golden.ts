/**
 * Writes protocols/testdata/wcs-v1/<kind>.json and <kind>.bin from the samples.
 * Run `npm run golden` only when adding a kind or a backward-compatible field; see README.md.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { encodeWcs } from '../wcs/codec.js';
import { WCS_TOPICS } from '../wcs/messages.js';
import { WCS_V1_SAMPLES } from './wcs-v1-samples.js';

const dir = fileURLToPath(new URL('./wcs-v1/', import.meta.url));
mkdirSync(dir, { recursive: true });

for (const kind of WCS_TOPICS) {
  const msg = WCS_V1_SAMPLES[kind];
  const bytes = encodeWcs(kind, msg);
  writeFileSync(`${dir}${kind}.json`, `${JSON.stringify(msg, null, 2)}\n`);
  writeFileSync(`${dir}${kind}.bin`, bytes);
  console.log(`${kind}: ${bytes.length} bytes`);
}
