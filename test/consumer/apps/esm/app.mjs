// A fresh ESM app: named imports from the package, the CJS copy loaded beside it.
import { createRequire } from 'node:module';
import * as esm from 'hybrid-asr';
import { InvalidAudioError, NativeBackend } from 'hybrid-asr';
import * as testing from 'hybrid-asr/testing';
import checks from '../checks.cjs';

const require = createRequire(import.meta.url);
const cjs = require('hybrid-asr');
if (cjs === esm || cjs.NativeBackend === NativeBackend) throw new Error('expected two copies (ESM and CJS builds)');
checks.checkErrors(esm, cjs, 'esm');
if (new InvalidAudioError('x').name !== 'InvalidAudioError') throw new Error('name');
const text = await checks.checkTranscription(esm, 'esm');
await checks.checkTestingAndLive(esm, testing, 'esm');
console.log(`esm ok: ${text}`);
