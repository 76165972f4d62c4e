// Uploads files to GridDispatch's tus endpoint with tus-js-client, then checks through the API
// that each became evidence with the same SHA-256 and byte-identical content.
//
// Driven by tests/tests/interop.rs; runnable by hand too:
//   GD_API=http://127.0.0.1:8080 node upload_tus_js.mjs photo.jpg video.mp4
//
// Environment:
//   GD_API         server base URL, used for login and for the checks (required)
//   GD_TUS         tus endpoint (default $GD_API/files/); the tests point it at a proxy that cuts
//                  the connection once, so the upload must resume
//   GD_TOKEN       bearer token; without it, logs in as GD_USER / GD_PASSWORD
//   GD_USER        default grid_member;  GD_PASSWORD default griddemo2026 (the demo accounts)
//   GD_CHUNK_SIZE  bytes per PATCH (default 262144)
//   GD_CHECKSUM    1 (default): every PATCH carries `Upload-Checksum: sha256 …` of its chunk
//                  (tus-js-client has no checksum option, so it is added in onBeforeRequest from
//                  the offset it sends); 0: none, so a cut chunk keeps the bytes that arrived
//
// Prints one JSON line per file on stdout (with the offset of every PATCH sent); exits non-zero
// on any failure.
import { createHash, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { basename, extname } from 'node:path';
import * as tus from 'tus-js-client';

const api = (process.env.GD_API || '').replace(/\/+$/, '');
if (!api) {
  console.error('GD_API is required');
  process.exit(2);
}
const endpoint = process.env.GD_TUS || `${api}/files/`;
const chunkSize = Number.parseInt(process.env.GD_CHUNK_SIZE || '262144', 10);
const withChecksum = (process.env.GD_CHECKSUM || '1') !== '0';
const files = process.argv.slice(2);
if (files.length === 0) {
  console.error('usage: node upload_tus_js.mjs FILE…');
  process.exit(2);
}

const TYPES = { '.jpg': 'image/jpeg', '.jpeg': 'image/jpeg', '.mp4': 'video/mp4', '.png': 'image/png' };

async function token() {
  if (process.env.GD_TOKEN) return process.env.GD_TOKEN;
  const resp = await fetch(`${api}/api/v1/auth/login`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({
      username: process.env.GD_USER || 'grid_member',
      password: process.env.GD_PASSWORD || 'griddemo2026',
      device_id: 'interop-tus-js-client',
    }),
  });
  if (!resp.ok) throw new Error(`login: HTTP ${resp.status} ${await resp.text()}`);
  return (await resp.json()).access_token;
}

const sha = (alg, buf, enc) => createHash(alg).update(buf).digest(enc);

function upload(bearer, path) {
  const data = readFileSync(path);
  const sha256 = sha('sha256', data, 'hex');
  const attachmentId = randomUUID();
  let retries = 0;
  const patchOffsets = [];
  return new Promise((resolve, reject) => {
    const up = new tus.Upload(data, {
      endpoint,
      chunkSize,
      // Resume after a cut connection: HEAD for the offset, then PATCH from there.
      retryDelays: [100, 300, 1000, 2000, 3000],
      removeFingerprintOnSuccess: true,
      headers: { Authorization: `Bearer ${bearer}` },
      metadata: {
        attachment_id: attachmentId,
        sha256,
        filename: basename(path),
        filetype: TYPES[extname(path).toLowerCase()] || 'application/octet-stream',
        captured_at: new Date().toISOString(),
        lat: '30.2741',
        lon: '120.1551',
        crs: 'wgs84',
        device_model: 'tus-js-client',
      },
      onBeforeRequest(req) {
        if (req.getMethod() !== 'PATCH') return;
        const offset = Number.parseInt(req.getHeader('Upload-Offset'), 10);
        patchOffsets.push(offset);
        if (!withChecksum) return;
        const chunk = data.subarray(offset, Math.min(offset + chunkSize, data.length));
        req.setHeader('Upload-Checksum', `sha256 ${sha('sha256', chunk, 'base64')}`);
      },
      onShouldRetry(err, attempt, options) {
        const status = err.originalResponse ? err.originalResponse.getStatus() : 0;
        console.error(`tus-js-client: retry ${attempt + 1} after: ${err.message.split('\n')[0]}`);
        retries += 1;
        // The default rule: anything but a 4xx, and 409/423 (offset moved on, lock busy).
        return status === 0 || status >= 500 || status === 409 || status === 423;
      },
      onError: reject,
      onSuccess: () => resolve({ up, data, sha256, attachmentId, retries, patchOffsets }),
    });
    up.start();
  });
}

async function verify(bearer, { up, data, sha256, attachmentId, retries, patchOffsets }, path) {
  const auth = { Authorization: `Bearer ${bearer}` };
  const viewResp = await fetch(`${api}/api/v1/attachments/${attachmentId}`, { headers: auth });
  if (!viewResp.ok) throw new Error(`attachment ${attachmentId}: HTTP ${viewResp.status} ${await viewResp.text()}`);
  const view = await viewResp.json();
  if (view.sha256 !== sha256) throw new Error(`${path}: server sha256 ${view.sha256} != local ${sha256}`);
  if (view.size !== data.length) throw new Error(`${path}: server size ${view.size} != ${data.length}`);
  const orig = await fetch(`${api}/api/v1/attachments/${attachmentId}/content?variant=original`, { headers: auth });
  if (!orig.ok) throw new Error(`original ${attachmentId}: HTTP ${orig.status}`);
  const back = Buffer.from(await orig.arrayBuffer());
  if (!back.equals(data)) throw new Error(`${path}: downloaded original differs (${back.length} bytes)`);
  return {
    client: 'tus-js-client',
    file: basename(path),
    attachment_id: attachmentId,
    upload_url: up.url,
    size: data.length,
    sha256,
    kind: view.kind,
    retries,
    patch_offsets: patchOffsets,
  };
}

try {
  const bearer = await token();
  for (const path of files) {
    const done = await upload(bearer, path);
    console.log(JSON.stringify(await verify(bearer, done, path)));
  }
} catch (err) {
  console.error(`tus-js-client upload failed: ${err && err.stack ? err.stack : err}`);
  process.exit(1);
}
