/**
 * Checkpoint files: a JSON description plus the raw bytes of every typed array, in one file, so
 * that a model's million float32 weights cost 4 MB (not 20 MB of decimal text) and come back
 * bit for bit.
 *
 * Layout (all integers little-endian):
 *
 *   bytes 0–7     the magic "GLCKPT01"
 *   bytes 8–11    H, the byte length of the header
 *   12 … 12+H     the header: UTF-8 JSON of the value, in which every typed array is replaced by
 *                 { "$array": type, "offset": o, "length": n } and every non-finite number by
 *                 { "$number": "NaN" | "Infinity" | "-Infinity" }
 *   then          the arrays' bytes, each starting at an offset (from the start of the data area,
 *                 which begins at the first multiple of 8 after the header) that is a multiple of 8
 *
 * `$array` and `$number` are therefore reserved as object keys. A checkpoint is written with
 * `writeFileAtomic` (temporary file + rename), so a run killed while saving keeps the previous
 * complete checkpoint.
 */
import { readFileSync } from 'node:fs';
import { writeFileAtomic } from '../../node/files.js';
import { Tensor } from '../../tensor/tensor.js';
import { shown } from '../../util/format.js';

const MAGIC = 'GLCKPT01';

const ARRAY_TYPES = {
  Float32Array,
  Float64Array,
  Int32Array,
  Uint32Array,
  Uint8Array,
} as const;
type ArrayTypeName = keyof typeof ARRAY_TYPES;
/** The typed arrays a checkpoint stores as raw bytes. */
export type StoredArray = Float32Array | Float64Array | Int32Array | Uint32Array | Uint8Array;

/** What a checkpoint can hold: JSON values and typed arrays, nested. */
export type CheckpointValue =
  | null
  | boolean
  | number
  | string
  | StoredArray
  | readonly CheckpointValue[]
  | { readonly [key: string]: CheckpointValue | undefined };

function arrayTypeOf(value: unknown): ArrayTypeName | null {
  for (const name of Object.keys(ARRAY_TYPES) as ArrayTypeName[]) {
    if (value instanceof ARRAY_TYPES[name]) return name;
  }
  return null;
}

/** Encodes a value as checkpoint bytes. */
export function encodeCheckpoint(value: CheckpointValue): Uint8Array {
  const arrays: StoredArray[] = [];
  const offsets: number[] = [];
  let dataBytes = 0;
  const header = JSON.stringify(value, function (this: unknown, key: string, v: unknown) {
    if (typeof v === 'number' && !Number.isFinite(v)) return { $number: String(v) };
    if (v instanceof Tensor) throw new Error(`checkpoint: '${key}' is a Tensor; store its values (t.toArray()) and shape instead`);
    const type = arrayTypeOf(v);
    if (type === null) return v;
    const a = v as StoredArray;
    offsets.push(dataBytes);
    arrays.push(a);
    const entry = { $array: type, offset: dataBytes, length: a.length };
    dataBytes += Math.ceil(a.byteLength / 8) * 8;
    return entry;
  });
  const headerBytes = Buffer.from(header, 'utf8');
  const dataStart = Math.ceil((12 + headerBytes.length) / 8) * 8;
  const out = new Uint8Array(dataStart + dataBytes);
  out.set(Buffer.from(MAGIC, 'ascii'), 0);
  new DataView(out.buffer).setUint32(8, headerBytes.length, true);
  out.set(headerBytes, 12);
  arrays.forEach((a, i) => out.set(new Uint8Array(a.buffer, a.byteOffset, a.byteLength), dataStart + offsets[i]));
  return out;
}

/** Decodes checkpoint bytes; `source` names the file in errors. Arrays come back as fresh copies. */
export function decodeCheckpoint(bytes: Uint8Array, source = 'checkpoint'): CheckpointValue {
  const magic = Buffer.from(bytes.subarray(0, 8)).toString('ascii');
  if (bytes.length < 12 || magic !== MAGIC) {
    throw new Error(`${source}: not a gradlab checkpoint (it should start with '${MAGIC}'; got ${shown(magic)})`);
  }
  const headerLength = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(8, true);
  if (12 + headerLength > bytes.length) throw new Error(`${source}: the checkpoint is truncated (its header needs ${headerLength} bytes)`);
  const dataStart = Math.ceil((12 + headerLength) / 8) * 8;
  const header = Buffer.from(bytes.subarray(12, 12 + headerLength)).toString('utf8');
  let value: unknown;
  try {
    value = JSON.parse(header, (_key, v: unknown) => {
      if (v === null || typeof v !== 'object' || Array.isArray(v)) return v;
      if ('$number' in v && typeof v.$number === 'string') return Number(v.$number);
      if (!('$array' in v) || typeof v.$array !== 'string') return v;
      const type = v.$array;
      const Ctor = isArrayTypeName(type) ? ARRAY_TYPES[type] : undefined;
      const offset = 'offset' in v ? v.offset : undefined;
      const length = 'length' in v ? v.length : undefined;
      if (Ctor === undefined || !isCount(offset) || !isCount(length)) {
        throw new Error(`${source}: a stored array has an unknown type or no offset/length (${shown(v)})`);
      }
      const start = dataStart + offset;
      const end = start + length * Ctor.BYTES_PER_ELEMENT;
      if (end > bytes.length) throw new Error(`${source}: the checkpoint is truncated (an array needs bytes ${start}–${end}; the file has ${bytes.length})`);
      // A copy into a fresh, aligned buffer (Buffer#slice would share the file's memory instead).
      return new Ctor(new Uint8Array(bytes.subarray(start, end)).buffer);
    });
  } catch (err) {
    if (err instanceof SyntaxError) throw new Error(`${source}: the checkpoint's header is not valid JSON (${err.message})`);
    throw err;
  }
  // Always true of what JSON.parse and the reviver above produce; checked so the type is earned, not cast.
  if (!isCheckpointValue(value)) throw new Error(`${source}: the checkpoint's header holds a value a checkpoint cannot`);
  return value;
}

function isArrayTypeName(name: string): name is ArrayTypeName {
  return Object.hasOwn(ARRAY_TYPES, name);
}

function isCount(v: unknown): v is number {
  return typeof v === 'number' && Number.isInteger(v) && v >= 0;
}

function isCheckpointValue(v: unknown): v is CheckpointValue {
  if (v === null || typeof v === 'boolean' || typeof v === 'number' || typeof v === 'string') return true;
  if (arrayTypeOf(v) !== null) return true;
  if (Array.isArray(v)) return v.every(isCheckpointValue);
  return typeof v === 'object' && Object.values(v).every(isCheckpointValue);
}

/** Writes a checkpoint atomically (temporary file, then rename). */
export function saveCheckpoint(path: string, value: CheckpointValue): void {
  writeFileAtomic(path, encodeCheckpoint(value));
}

/** Reads a checkpoint; a missing or damaged file is an error naming it. */
export function loadCheckpoint(path: string): CheckpointValue {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new Error(`${path}: cannot read the checkpoint: ${code === 'ENOENT' ? 'no such file' : code ?? String(err)}`);
  }
  return decodeCheckpoint(bytes, path);
}
