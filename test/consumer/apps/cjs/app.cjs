// A fresh CommonJS app (an Electron main process, say): require() of the package.
const cjs = require('hybrid-asr');
// Nothing heavy at import: the server, archive, WebSocket and native modules load when a call needs them.
const loaded = new Set(Object.keys(require.cache).map((k) => /node_modules[\\/]((?:@[^\\/]+[\\/])?[^\\/]+)/.exec(k)?.[1]).filter(Boolean));
for (const heavy of ['fastify', '@fastify/multipart', 'ws', 'tar-stream', 'unbzip2-stream', 'cli-progress', 'commander', 'sherpa-onnx-node']) {
  if (loaded.has(heavy)) throw new Error(`require('hybrid-asr') loaded ${heavy} (loaded: ${[...loaded].join(', ')})`);
}
const testing = require('hybrid-asr/testing');
const checks = require('../checks.cjs');

(async () => {
  const esm = await import('hybrid-asr');
  checks.checkErrors(cjs, esm, 'cjs');
  const text = await checks.checkTranscription(cjs, 'cjs');
  await checks.checkTestingAndLive(cjs, testing, 'cjs');
  console.log(`cjs ok: ${text}`);
})().catch((e) => {
  console.error(e);
  process.exit(1);
});
