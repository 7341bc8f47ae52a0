/**
 * Test helpers: a scriptable in-memory backend ({@link TestBackend}) for any test framework (jest,
 * mocha, node:test, vitest). The contract suite every `ASRBackend` must pass is in
 * `hybrid-asr/testing/vitest` (it needs `vitest`, an optional peer dependency).
 *
 * @packageDocumentation
 */
export { TestBackend } from './test-backend.js';
export type {
  InjectedError,
  ScriptedWord,
  StreamFailure,
  StreamFailureInfo,
  TestAudio,
  TestBackendCall,
  TestBackendOptions,
  TestScript,
  TestScriptFunction,
  TestScriptResult,
  TestStreamCall,
  TestTranscribeCall,
} from './types.js';
