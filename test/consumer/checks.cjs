// Checks shared by the consumer apps. CommonJS so that both the ESM and the CJS app can load it.
// `primary` is the copy of hybrid-asr the app imported; `other` is the other build (CJS for the
// ESM app, ESM for the CJS app), so errors are checked within and across the two copies.
'use strict';
const assert = require('node:assert/strict');
const { join } = require('node:path');

const ERROR_CLASSES = [
  'ASRError', 'InvalidAudioError', 'InvalidArgumentError', 'BackendUnavailableError', 'ModelError',
  'AbortedError', 'TimeoutError', 'ConnectionError', 'ConnectionTimeoutError', 'StreamInterruptedError',
  'APIStatusError', 'BadRequestError', 'AuthenticationError', 'RateLimitError', 'InternalServerError',
];

function checkErrors(primary, other, label) {
  for (const name of ERROR_CLASSES) {
    const C = primary[name];
    assert.equal(typeof C, 'function', `${label}: ${name} is exported`);
    const e = Object.create(C.prototype);
    assert.equal(e.name, name, `${label}: ${name}.prototype.name`);
    assert.equal(C.isInstance(e), true, `${label}: ${name}.isInstance(own)`);
    assert.equal(other[name].isInstance(e), true, `${label}: the other copy's ${name}.isInstance`);
    assert.equal(C.isInstance(new Error('plain')), false, `${label}: ${name}.isInstance(plain Error)`);
  }
  const audio = new primary.InvalidAudioError('bad header');
  assert.equal(audio.name, 'InvalidAudioError');
  assert.equal(String(audio), 'InvalidAudioError: bad header');
  assert.equal(audio.code, 'invalid_audio');
  assert.equal(primary.ModelError.isInstance(audio), false, `${label}: ModelError.isInstance(InvalidAudioError)`);
  assert.equal(other.ModelError.isInstance(audio), false, `${label}: other ModelError.isInstance(InvalidAudioError)`);
  assert.equal(primary.ASRError.isInstance(audio), true);
  assert.equal(other.InvalidAudioError.isInstance(audio), true);
  const conn = new other.ConnectionTimeoutError('slow');
  assert.equal(primary.ConnectionError.isInstance(conn), true, `${label}: ConnectionError.isInstance(other ConnectionTimeoutError)`);
  assert.equal(primary.InvalidAudioError.isInstance(conn), false);
  assert.equal(conn.isRetryable, true);
  const status = primary.APIStatusError.fromResponse(429, 'slow down');
  assert.equal(status.name, 'RateLimitError');
  assert.equal(other.RateLimitError.isInstance(status), true);
}

/** A real transcription with the real addon and model, checked against the clip's reference. */
async function checkTranscription(primary, label) {
  const clip = process.env.CONSUMER_CLIP;
  const reference = process.env.CONSUMER_REFERENCE;
  const asr = new primary.NativeBackend({ model: 'tiny-ctc-en-offline' });
  try {
    let progressCalls = 0;
    const t = await asr.transcribe(clip, { onProgress: () => void progressCalls++ });
    const wer = primary.wordErrorRate(reference, t.text).wer;
    assert.ok(wer < 0.6, `${label}: WER ${wer} for "${t.text}" vs "${reference}"`);
    assert.ok(progressCalls > 0, `${label}: onProgress was called`);
    // A wrong input is a typed error, recognisable by both copies.
    const err = await asr.transcribe(new Uint8Array([1, 2, 3, 4])).then(() => undefined, (e) => e);
    assert.equal(primary.InvalidAudioError.isInstance(err), true, `${label}: garbage bytes -> InvalidAudioError, got ${err}`);
    assert.equal(err.name, 'InvalidAudioError');
    return t.text;
  } finally {
    await asr.dispose();
  }
}

/** hybrid-asr/testing works without vitest, and the live processor retries retryable errors. */
async function checkTestingAndLive(primary, testing, label) {
  assert.throws(() => require.resolve('vitest', { paths: [process.cwd()] }), undefined, 'vitest must not be installed in the consumer app');
  const backend = new testing.TestBackend({
    script: [{ word: 'hello', start: 0.1, end: 0.4 }, { word: 'world', start: 0.5, end: 0.9 }],
  });
  const one = await backend.transcribe({ format: 'f32', samples: new Float32Array(16000), sampleRate: 16000 });
  assert.equal(one.text, 'hello world', `${label}: TestBackend`);

  // A retryable failure in a tick must be retried, not end the session (the CJS build used to
  // take every error for an AbortedError and stop here).
  const { mkdtempSync } = require('node:fs');
  const { tmpdir } = require('node:os');
  const flaky = new testing.TestBackend({
    script: [{ word: 'hello', start: 0.1, end: 0.4 }, { word: 'world', start: 0.5, end: 0.9 }],
    failFirst: { count: 1, error: () => new primary.ConnectionError('blip') },
  });
  const live = new primary.ChunkedLiveProcessor({ backend: flaky, spoolDir: mkdtempSync(join(tmpdir(), 'consumer-live-')), mode: 'windowed', intervalSec: 1 });
  const errors = [];
  live.on('error', (e) => errors.push(e));
  await live.start();
  for (let i = 0; i < 4; i++) {
    await live.push({ samples: new Float32Array(16000), sampleRate: 16000 });
    await new Promise((r) => setTimeout(r, 50));
  }
  const transcript = await live.stop();
  assert.equal(errors.length, 1, `${label}: one error event (${errors.map((e) => String(e.error))})`);
  assert.equal(errors[0].recoverable, true, `${label}: the failed tick is recoverable`);
  assert.equal(primary.ConnectionError.isInstance(errors[0].error), true);
  assert.equal(transcript.text, 'hello world', `${label}: live processor recovered from a retryable error`);
}

module.exports = { checkErrors, checkTranscription, checkTestingAndLive };
