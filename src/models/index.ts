/**
 * Models: manifests, lookup (`--model`), validation before sherpa-onnx sees a file, probing in a
 * child process, the catalog of published models, and the downloader/installer.
 *
 * @module
 */
export { MANIFEST_FILE, MODEL_KINDS, type ModelKind, type ModelManifest } from './manifest.js';
export { defaultCacheDir, findModels, loadModelDir, resolveModel, scanModels, type ModelProblem, type ResolveOptions, type ResolvedModel } from './resolve.js';
export { detectLayout } from './detect.js';
export { readOnnxHeader } from './onnx.js';
export { sha256File, validateModel, type ValidateOptions } from './validate.js';
export { probeModelInSubprocess, sherpaConfigFor } from './probe.js';
export { proveModel, type ModelProof, type ModelProofEvent, type ModelProofOptions, type ModelProofSource } from './proof.js';
export { MODEL_CATALOG, findCatalogEntry, type CatalogEntry } from './catalog.js';
export { DEFAULT_MAX_DOWNLOAD_BYTES, downloadFile, type DownloadProgress } from './download.js';
export { extractTarBz2 } from './archive.js';
export { checkModelId, installModel, type InstallOptions, type InstallRecord } from './install.js';
/** @internal Proving a sherpa-onnx config in a child process; the one ONNX check; the one manifest reader. */
export { expectedSha256Of, proveSherpaConfig, proveSherpaConfigSync } from './proof.js';
/** @internal */
export { checkOnnxFileSync } from './onnx.js';
/** @internal */
export { readManifestSync } from './manifest.js';
