/**
 * The safetensors format (Hugging Face's; what PyTorch's `safetensors.torch.load_file` reads), as
 * bytes in and bytes out — no files here, so the same code runs in Node and in a browser.
 *
 *   bytes 0…7      N, the header's length: an unsigned 64-bit little-endian integer
 *   bytes 8…8+N    the header: UTF-8 JSON, one entry per tensor, plus an optional "__metadata__"
 *                  (string → string):
 *                    { "features.0.weight": { "dtype": "F32", "shape": [32, 3, 3, 3],
 *                                             "data_offsets": [0, 3456] }, … }
 *   the rest       the data buffer: each tensor's values, little-endian, C (row-major) order, at
 *                  [begin, end) of the buffer (offsets count from the end of the header)
 *
 * Writing puts the tensors in name order, back to back, and pads the header with spaces to a
 * multiple of 8 bytes (as the reference implementation does, so every tensor stays aligned).
 * Reading checks everything before it returns anything: the header length against the file, the
 * JSON, each entry's dtype, shape and offsets (inside the buffer, not overlapping, and
 * shape × dtype size = end − begin). A bad file is one error naming what is wrong.
 *
 * dtypes: F32 and F64 are gradlab's own (float32, float64); I64 is read and written too, because
 * PyTorch stores BatchNorm's `num_batches_tracked` as int64 (its values are returned as
 * float64 numbers, exact up to 2^53). Any other dtype is refused with the list of known ones.
 */
import type { Tensor } from '../tensor/tensor.js';
import { fromTyped } from '../tensor/create.js';
import type { DType } from '../tensor/dtype.js';
import type { BackendName } from '../tensor/backends/backend.js';
import { currentBackend } from '../tensor/backends/index.js';
import { checkKeys } from '../util/options.js';
import { shown } from '../util/format.js';

/** The safetensors dtypes gradlab reads and writes, and their sizes in bytes. */
export const SAFETENSORS_DTYPES = { F32: 4, F64: 8, I64: 8 } as const;
export type SafetensorsDType = keyof typeof SAFETENSORS_DTYPES;

/**
 * One stored tensor, host side: its dtype in the file, its shape and its values (row-major).
 * F32 values are a Float32Array; F64 and I64 values a Float64Array (I64: integers).
 */
export interface RawTensor {
  dtype: SafetensorsDType;
  shape: number[];
  data: Float32Array | Float64Array;
}

/** What a file holds: its tensors by name (in file order) and its `__metadata__` (empty when absent). */
export interface SafetensorsContents {
  tensors: Record<string, RawTensor>;
  metadata: Record<string, string>;
}

const METADATA_KEY = '__metadata__';
/** The reference implementation refuses headers over 100 MB; so does gradlab. */
const MAX_HEADER_BYTES = 100_000_000;

function isDType(s: unknown): s is SafetensorsDType {
  return typeof s === 'string' && Object.prototype.hasOwnProperty.call(SAFETENSORS_DTYPES, s);
}

function sizeOf(shape: readonly number[]): number {
  return shape.reduce((n, d) => n * d, 1);
}

/** Encodes tensors (and optional string metadata) as a safetensors file's bytes. */
export function encodeSafetensors(tensors: Record<string, RawTensor>, metadata: Record<string, string> = {}): Uint8Array {
  const names = Object.keys(tensors).sort();
  const header: Record<string, unknown> = {};
  if (Object.keys(metadata).length > 0) {
    for (const [k, v] of Object.entries(metadata)) {
      if (typeof v !== 'string') throw new Error(`safetensors: metadata values must be strings; '${k}' is ${typeof v}`);
    }
    header[METADATA_KEY] = metadata;
  }
  let offset = 0;
  for (const name of names) {
    if (name === METADATA_KEY) throw new Error(`safetensors: '${METADATA_KEY}' is reserved for the metadata and cannot name a tensor`);
    const t = tensors[name];
    if (!isDType(t.dtype)) throw new Error(`safetensors: tensor '${name}' has dtype ${shown(t.dtype)}; gradlab writes ${Object.keys(SAFETENSORS_DTYPES).join(', ')}`);
    if (!t.shape.every((d) => Number.isInteger(d) && d >= 0)) throw new Error(`safetensors: tensor '${name}' has shape ${shown(t.shape)}; dimensions must be integers ≥ 0`);
    if (t.data.length !== sizeOf(t.shape)) throw new Error(`safetensors: tensor '${name}' has ${t.data.length} values for shape [${t.shape.join(', ')}] (${sizeOf(t.shape)})`);
    const bytes = t.data.length * SAFETENSORS_DTYPES[t.dtype];
    header[name] = { dtype: t.dtype, shape: t.shape, data_offsets: [offset, offset + bytes] };
    offset += bytes;
  }
  let json = new TextEncoder().encode(JSON.stringify(header));
  const padded = Math.ceil(json.length / 8) * 8;
  if (padded !== json.length) json = new TextEncoder().encode(JSON.stringify(header) + ' '.repeat(padded - json.length));
  const out = new Uint8Array(8 + json.length + offset);
  const view = new DataView(out.buffer);
  view.setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  const base = 8 + json.length;
  for (const name of names) {
    const t = tensors[name];
    let at = base + (header[name] as { data_offsets: [number, number] }).data_offsets[0];
    for (let i = 0; i < t.data.length; i++) {
      const v = t.data[i];
      if (t.dtype === 'F32') view.setFloat32(at, v, true);
      else if (t.dtype === 'F64') view.setFloat64(at, v, true);
      else {
        if (!Number.isInteger(v)) throw new Error(`safetensors: tensor '${name}' is I64 but value ${i} is ${v}, not an integer`);
        view.setBigInt64(at, BigInt(v), true);
      }
      at += SAFETENSORS_DTYPES[t.dtype];
    }
  }
  return out;
}

/**
 * Decodes a safetensors file's bytes; `source` names the file in errors. Throws one error naming
 * the problem for a file that is not a valid safetensors file (see the file's comment).
 */
export function decodeSafetensors(bytes: Uint8Array, source = 'safetensors data'): SafetensorsContents {
  const fail = (what: string): never => {
    throw new Error(`safetensors: ${source} is not a valid safetensors file: ${what}`);
  };
  if (bytes.length < 8) fail(`it has ${bytes.length} bytes, fewer than the 8 of the header length`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLength = view.getBigUint64(0, true);
  if (headerLength > BigInt(bytes.length - 8)) fail(`the header length ${headerLength} runs past the end of the file (${bytes.length - 8} bytes after the length)`);
  if (headerLength > BigInt(MAX_HEADER_BYTES)) fail(`the header length ${headerLength} is over the limit of ${MAX_HEADER_BYTES} bytes`);
  const n = Number(headerLength);
  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, 8 + n)));
  } catch (err) {
    fail(`the header is not JSON (${err instanceof Error ? err.message : String(err)})`);
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) fail('the header must be a JSON object of tensors by name');
  const entries = Object.entries(header as Record<string, unknown>);
  const bufferStart = 8 + n;
  const bufferLength = bytes.length - bufferStart;
  const metadata: Record<string, string> = {};
  const spans: { name: string; begin: number; end: number }[] = [];
  const parsed: { name: string; dtype: SafetensorsDType; shape: number[]; begin: number; end: number }[] = [];
  for (const [name, value] of entries) {
    if (name === METADATA_KEY) {
      if (typeof value !== 'object' || value === null || Array.isArray(value)) fail(`'${METADATA_KEY}' must be an object of strings`);
      for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
        if (typeof v !== 'string') fail(`'${METADATA_KEY}.${k}' must be a string; got ${shown(v)}`);
        metadata[k] = v as string;
      }
      continue;
    }
    if (typeof value !== 'object' || value === null) fail(`tensor '${name}' must be an object { dtype, shape, data_offsets }; got ${shown(value)}`);
    const { dtype, shape, data_offsets: offsets } = value as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    if (!isDType(dtype)) fail(`tensor '${name}' has dtype ${shown(dtype)}, which gradlab does not read (it reads ${Object.keys(SAFETENSORS_DTYPES).join(', ')})`);
    if (!Array.isArray(shape) || !shape.every((d) => Number.isInteger(d) && d >= 0)) fail(`tensor '${name}' has shape ${shown(shape)}; it must be a list of integers ≥ 0`);
    if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every((o) => Number.isInteger(o) && o >= 0)) {
      fail(`tensor '${name}' has data_offsets ${shown(offsets)}; they must be [begin, end], integers ≥ 0`);
    }
    const [begin, end] = offsets as [number, number];
    if (begin > end || end > bufferLength) fail(`tensor '${name}' has data_offsets [${begin}, ${end}], outside the data buffer of ${bufferLength} bytes`);
    const d = dtype as SafetensorsDType;
    const s = shape as number[];
    const expected = sizeOf(s) * SAFETENSORS_DTYPES[d];
    if (end - begin !== expected) fail(`tensor '${name}' is ${d} [${s.join(', ')}]: ${expected} bytes, but its data_offsets [${begin}, ${end}] hold ${end - begin}`);
    spans.push({ name, begin, end });
    parsed.push({ name, dtype: d, shape: s, begin, end });
  }
  spans.sort((a, b) => a.begin - b.begin || a.end - b.end);
  for (let i = 1; i < spans.length; i++) {
    const [a, b] = [spans[i - 1], spans[i]];
    if (b.begin < a.end) fail(`tensors '${a.name}' [${a.begin}, ${a.end}] and '${b.name}' [${b.begin}, ${b.end}] overlap in the data buffer`);
  }
  const tensors: Record<string, RawTensor> = {};
  for (const t of parsed) {
    const count = sizeOf(t.shape);
    const at = bufferStart + t.begin;
    const data = t.dtype === 'F32' ? new Float32Array(count) : new Float64Array(count);
    const width = SAFETENSORS_DTYPES[t.dtype];
    for (let i = 0; i < count; i++) {
      const p = at + i * width;
      data[i] = t.dtype === 'F32' ? view.getFloat32(p, true) : t.dtype === 'F64' ? view.getFloat64(p, true) : Number(view.getBigInt64(p, true));
    }
    tensors[t.name] = { dtype: t.dtype, shape: t.shape, data };
  }
  return { tensors, metadata };
}

/** Options for turning stored tensors into gradlab tensors. */
export interface ToTensorOptions {
  /** Default: the current backend. */
  backend?: BackendName;
  /**
   * Convert every tensor to this dtype. Default: F32 → float32; F64 and I64 → float64 on the
   * reference backend, float32 on gpu (which holds float32 only).
   */
  dtype?: DType;
}

/** gradlab tensors (host copies, on the model's backend and dtype) as stored tensors. */
export function rawTensorsOf(tensors: Record<string, Tensor>, intKeys: (name: string) => boolean = () => false): Record<string, RawTensor> {
  const out: Record<string, RawTensor> = {};
  for (const [name, t] of Object.entries(tensors)) {
    const data = t.toArray();
    out[name] = { dtype: intKeys(name) ? 'I64' : t.dtype === 'float64' ? 'F64' : 'F32', shape: [...t.shape], data };
  }
  return out;
}

/** Stored tensors as gradlab tensors (see ToTensorOptions for the dtypes). */
export function tensorsOf(raw: Record<string, RawTensor>, options: ToTensorOptions = {}): Record<string, Tensor> {
  checkKeys('loadSafetensors', options, ['backend', 'dtype']);
  const backend = options.backend ?? currentBackend();
  const out: Record<string, Tensor> = {};
  for (const [name, t] of Object.entries(raw)) {
    const dtype = options.dtype ?? (t.dtype === 'F32' || backend === 'gpu' ? 'float32' : 'float64');
    out[name] = fromTyped(t.data, t.shape, { dtype, backend });
  }
  return out;
}

/**
 * PyTorch stores BatchNorm's batch counter as int64; a state dict key ending in
 * `num_batches_tracked` is written as I64 so `torch.load_state_dict` sees the dtype it expects.
 */
export function isIntegerStateKey(name: string): boolean {
  return name === 'num_batches_tracked' || name.endsWith('.num_batches_tracked');
}

/** A state dict (`model.stateDict()`) as safetensors bytes, PyTorch's dtypes for each key. */
export function encodeStateDict(state: Record<string, Tensor>, metadata: Record<string, string> = {}): Uint8Array {
  return encodeSafetensors(rawTensorsOf(state, isIntegerStateKey), metadata);
}

/** Safetensors bytes as tensors by name (`model.loadStateDict(decodeStateDict(bytes))`). */
export function decodeStateDict(bytes: Uint8Array, options: ToTensorOptions & { source?: string } = {}): Record<string, Tensor> {
  return tensorsOf(decodeSafetensors(bytes, options.source).tensors, options);
}
