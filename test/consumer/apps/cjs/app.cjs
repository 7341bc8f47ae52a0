// A fresh CommonJS app (an Electron main process, say): require() of the package.
const cjs = require('hybrid-asr');
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
