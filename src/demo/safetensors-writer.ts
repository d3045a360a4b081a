// Builds safetensors files: used by tests for fixtures and by `mlib demo` for sample models.
// Tensors are laid out back to back in the given order; the header is padded with spaces to a
// multiple of 8 bytes, as the reference writer does, so the data area stays aligned.
import { open } from "node:fs/promises";
import { ioError } from "../core/errors.js";
import { SAFETENSORS_DTYPE_BITS } from "../formats/safetensors.js";

export interface TensorSpec {
  name: string;
  dtype: string;
  shape: readonly number[];
  /** The tensor's bytes; zeros when absent. Must be exactly the size dtype and shape give. */
  data?: Uint8Array;
}

/** `metadata: null` writes `"__metadata__": null` (as MLX does); undefined leaves the key out. */
export function buildSafetensors(tensors: readonly TensorSpec[], metadata?: Record<string, string> | null): Buffer {
  const { header, dataSize } = buildHeader(tensors, metadata);
  const out = Buffer.alloc(header.length + dataSize);
  header.copy(out, 0);
  let offset = header.length;
  for (const t of tensors) {
    const size = tensorByteSize(t);
    if (t.data !== undefined) {
      if (t.data.length !== size) throw new Error(`tensor "${t.name}": data has ${t.data.length} bytes, ${t.dtype} ${JSON.stringify(t.shape)} needs ${size}`);
      out.set(t.data, offset);
    }
    offset += size;
  }
  return out;
}

/**
 * Writes the header, then extends the file to its full declared size without writing the data:
 * a valid, sparse file, so a FLUX-sized shape list costs a few KB of disk.
 */
export async function writeSafetensorsHeaderOnly(
  path: string,
  tensors: readonly TensorSpec[],
  metadata?: Record<string, string> | null,
): Promise<void> {
  const { header, dataSize } = buildHeader(tensors, metadata);
  let fh;
  try {
    fh = await open(path, "w");
  } catch (e) {
    throw ioError(path, "create", e);
  }
  try {
    await fh.write(header, 0, header.length, 0);
    await fh.truncate(header.length + dataSize);
  } catch (e) {
    throw ioError(path, "write", e);
  } finally {
    await fh.close();
  }
}

/** The 8-byte length plus the padded JSON header, and the size of the data area it declares. */
function buildHeader(tensors: readonly TensorSpec[], metadata?: Record<string, string> | null): { header: Buffer; dataSize: number } {
  const json: Record<string, unknown> = {};
  if (metadata !== undefined) json.__metadata__ = metadata;
  let offset = 0;
  for (const t of tensors) {
    if (t.name === "__metadata__") throw new Error(`"__metadata__" is reserved and cannot name a tensor`);
    if (Object.prototype.hasOwnProperty.call(json, t.name)) throw new Error(`tensor "${t.name}" appears twice`);
    const size = tensorByteSize(t);
    // defineProperty: a tensor named "__proto__" must become a key, not a prototype.
    Object.defineProperty(json, t.name, {
      value: { dtype: t.dtype, shape: [...t.shape], data_offsets: [offset, offset + size] },
      enumerable: true,
      writable: true,
      configurable: true,
    });
    offset += size;
  }
  let text = JSON.stringify(json);
  const padded = Buffer.byteLength(text) + ((8 - (Buffer.byteLength(text) % 8)) % 8);
  text = text.padEnd(text.length + (padded - Buffer.byteLength(text)), " ");
  const body = Buffer.from(text, "utf8");
  const header = Buffer.alloc(8 + body.length);
  header.writeBigUInt64LE(BigInt(body.length), 0);
  body.copy(header, 8);
  return { header, dataSize: offset };
}

function tensorByteSize(t: TensorSpec): number {
  const bits = SAFETENSORS_DTYPE_BITS[t.dtype];
  if (bits === undefined) throw new Error(`tensor "${t.name}": unknown dtype ${t.dtype}`);
  for (const d of t.shape) {
    if (!Number.isSafeInteger(d) || d < 0) throw new Error(`tensor "${t.name}": bad dimension ${d}`);
  }
  const totalBits = t.shape.reduce((p, d) => p * BigInt(d), 1n) * BigInt(bits);
  if (totalBits % 8n !== 0n) throw new Error(`tensor "${t.name}": ${t.dtype} ${JSON.stringify(t.shape)} is not a whole number of bytes`);
  const bytes = totalBits / 8n;
  if (bytes > BigInt(Number.MAX_SAFE_INTEGER)) throw new Error(`tensor "${t.name}": ${bytes} bytes is too large`);
  return Number(bytes);
}
