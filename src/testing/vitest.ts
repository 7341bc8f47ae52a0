/**
 * The contract suite every `ASRBackend` must pass, for vitest: {@link runBackendContract} registers
 * it with vitest's `describe`/`it`, {@link expectWellFormedTranscription} checks one result with
 * vitest's `expect`. This subpath loads `vitest` (an optional peer dependency); the scriptable
 * `TestBackend` lives in `hybrid-asr/testing`, which needs no test framework.
 *
 * @packageDocumentation
 */
export { BACKEND_CONTRACT_CASES, expectWellFormedTranscription, runBackendContract } from './contract.js';
export type { BackendContractCase, BackendContractOptions, ContractAudio, ContractStreamAudio } from './contract.js';
