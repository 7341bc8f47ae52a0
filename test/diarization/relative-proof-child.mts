/**
 * Child program of the "relative paths are proven by content" test: in the working folder given,
 * loads a good speaker-embedding model through a relative path, swaps the file's bytes for a
 * corrupt graph, and loads it again through the same relative path. Prints `second: <ErrorName>`
 * when the second load is refused; a load of the corrupt bytes in this process may abort it.
 */
import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import { OnlineDiarizer } from '../../src/diarization/index.js';
import { listTopLevelFields } from '../../src/models/onnx.js';

const [cwd, vadModel, goodModel] = process.argv.slice(2) as [string, string, string];
process.chdir(cwd);
copyFileSync(goodModel, 'emb.onnx');
const silence = new Float32Array(16000);
new OnlineDiarizer({ vadModel, embeddingModel: 'emb.onnx' }).push(silence);
process.stdout.write('first: ok\n');
// Same size and top-level framing, the start of the graph overwritten: only a load can tell.
const bytes = readFileSync(goodModel);
const graph = (await listTopLevelFields(goodModel)).fields.find((f) => f.field === 7)!;
bytes.fill(0xff, graph.payloadStart, graph.payloadStart + 4096);
writeFileSync('emb.onnx', bytes);
try {
  new OnlineDiarizer({ vadModel, embeddingModel: 'emb.onnx' }).push(silence);
  process.stdout.write('second: loaded\n');
} catch (e) {
  process.stdout.write(`second: ${(e as Error).name}: ${(e as Error).message}\n`);
}
