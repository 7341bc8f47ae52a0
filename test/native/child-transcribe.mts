// Child process for the bad-model tests: builds a NativeBackend on the given model folders and
// transcribes one file. Prints one JSON line: {ok:true} or {ok:false, name, code, message}.
import { NativeBackend } from '../../src/backends/native/index.js';

const [model, vad, audio] = process.argv.slice(2);
try {
  const b = new NativeBackend({ model: model!, vadModel: vad!, threads: 1 });
  await b.transcribe(audio!);
  console.log(JSON.stringify({ ok: true }));
} catch (e) {
  const err = e as { name?: string; code?: string; message?: string };
  console.log(JSON.stringify({ ok: false, name: err.name, code: err.code, message: err.message }));
}
