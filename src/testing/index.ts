/**
 * Test helpers: a scriptable in-memory backend ({@link TestBackend}) and the contract suite every
 * `ASRBackend` must pass ({@link runBackendContract}; needs `vitest`, an optional peer dependency).
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
} from './test-backend.js';
export { BACKEND_CONTRACT_CASES, expectWellFormedTranscription, runBackendContract } from './contract.js';
export type { BackendContractCase, BackendContractOptions, ContractAudio, ContractStreamAudio } from './contract.js';
