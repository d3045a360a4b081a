// ONNX ModelProto header, decoded by hand from the protobuf wire format: the top-level fields we want
// are small, but the graph between them can be gigabytes, so it is stepped over by its length, never read.
// Field numbers: https://github.com/onnx/onnx/blob/main/onnx/onnx.proto (ModelProto, OperatorSetIdProto).
import type { FileHandle } from "node:fs/promises";
import { ModelLibraryError } from "../core/errors.js";
import type { Identification, OnnxInfo } from "./types.js";
import { openForReading } from "../core/open-for-reading.js";

/** Strings and opset entries longer than this are not what ONNX writers produce. */
const MAX_SMALL_FIELD = 64 * 1024;
/** Top-level fields visited before giving up: a real ModelProto has a dozen or so. */
const MAX_FIELDS = 100_000;
const MAX_OPSETS = 10_000;
const WINDOW = 64 * 1024;

type Fail = (code: "E_INVALID" | "E_TRUNCATED" | "E_TOO_LARGE", why: string) => never;

/** Positioned reads through a small window, so stepping over a graph costs nothing. */
class FileCursor {
  private buf = Buffer.alloc(0);
  private bufStart = 0;
  pos = 0;

  constructor(
    private readonly fh: FileHandle,
    readonly size: number,
    private readonly fail: Fail,
  ) {}

  /** Bytes [pos, pos+n) from the window, reading a new window when needed; E_TRUNCATED past the end. */
  async bytes(n: number, what: string): Promise<Buffer> {
    if (this.pos + n > this.size) this.fail("E_TRUNCATED", `${what} at offset ${this.pos} needs ${n} bytes, the file ends at ${this.size}`);
    if (this.pos < this.bufStart || this.pos + n > this.bufStart + this.buf.length) {
      const len = Math.min(Math.max(n, WINDOW), this.size - this.pos);
      const buf = Buffer.alloc(len);
      let done = 0;
      while (done < len) {
        const { bytesRead } = await this.fh.read(buf, done, len - done, this.pos + done);
        if (bytesRead === 0) this.fail("E_TRUNCATED", `${what} at offset ${this.pos}: the file ended while being read`);
        done += bytesRead;
      }
      this.buf = buf;
      this.bufStart = this.pos;
    }
    const start = this.pos - this.bufStart;
    this.pos += n;
    return this.buf.subarray(start, start + n);
  }

  async varint(what: string): Promise<bigint> {
    const at = this.pos;
    let value = 0n;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.size) this.fail("E_TRUNCATED", `${what} at offset ${at}: the file ends inside a varint`);
      const b = (await this.bytes(1, what))[0];
      value |= BigInt(b & 0x7f) << BigInt(7 * i);
      if (b < 0x80) return value;
    }
    return this.fail("E_INVALID", `${what} at offset ${at}: varint longer than 10 bytes`);
  }

  /** A length-delimited field's length, checked against the rest of the file. */
  async length(what: string): Promise<number> {
    const at = this.pos;
    const n = await this.varint(what);
    if (n > BigInt(this.size - this.pos)) {
      this.fail("E_TRUNCATED", `${what} at offset ${at} declares ${n} bytes, only ${this.size - this.pos} remain`);
    }
    return Number(n);
  }
}

/** Reads ir_version, producer, domain, model_version and opset imports of an .onnx file. */
export async function readOnnxHeader(path: string): Promise<OnnxInfo> {
  const fh = await openForReading(path);
  const fail: Fail = (code, why) => {
    throw new ModelLibraryError(code, `${path}: ONNX ${why}`, { path });
  };
  try {
    const cur = new FileCursor(fh, (await fh.stat()).size, fail);
    return await readModelProto(cur, fail);
  } finally {
    await fh.close();
  }
}

async function readModelProto(cur: FileCursor, fail: Fail): Promise<OnnxInfo> {
  const info: OnnxInfo = { irVersion: null, producerName: null, producerVersion: null, domain: null, modelVersion: null, opsetImports: [] };
  let sawGraph = false;
  for (let fields = 0; cur.pos < cur.size; fields++) {
    if (fields >= MAX_FIELDS) fail("E_TOO_LARGE", `model has more than ${MAX_FIELDS} top-level fields`);
    const at = cur.pos;
    const tag = await cur.varint("field tag");
    const field = Number(tag >> 3n);
    const wire = Number(tag & 7n);
    if (field === 0) fail("E_INVALID", `field number 0 at offset ${at}: not a protobuf message`);
    const expect = EXPECTED_WIRE[field];
    if (expect !== undefined && expect !== wire) fail("E_INVALID", `field ${field} at offset ${at} has wire type ${wire}, expected ${expect}`);

    if (wire === 0) {
      const v = await cur.varint(`field ${field}`);
      if (field === 1) info.irVersion = toSafeNumber(v, "ir_version", fail);
      else if (field === 5) info.modelVersion = toSafeNumber(BigInt.asIntN(64, v), "model_version", fail);
    } else if (wire === 2) {
      const len = await cur.length(`field ${field}`);
      if (field === 2 || field === 3 || field === 4) {
        if (len > MAX_SMALL_FIELD) fail("E_TOO_LARGE", `field ${field} at offset ${at} is ${len} bytes long`);
        const text = decodeUtf8(await cur.bytes(len, `field ${field}`), field, at, fail);
        // Empty strings are protobuf defaults: the writer said nothing.
        const value = text === "" ? null : text;
        if (field === 2) info.producerName = value;
        else if (field === 3) info.producerVersion = value;
        else info.domain = value;
      } else if (field === 8) {
        if (len > MAX_SMALL_FIELD) fail("E_TOO_LARGE", `opset_import at offset ${at} is ${len} bytes long`);
        if (info.opsetImports.length >= MAX_OPSETS) fail("E_TOO_LARGE", `more than ${MAX_OPSETS} opset imports`);
        info.opsetImports.push(decodeOpset(await cur.bytes(len, "opset_import"), at, fail));
      } else {
        if (field === 7) sawGraph = true;
        cur.pos += len; // graph, doc_string, metadata, functions...: stepped over unread
      }
    } else if (wire === 1 || wire === 5) {
      const n = wire === 1 ? 8 : 4;
      if (cur.pos + n > cur.size) fail("E_TRUNCATED", `field ${field} at offset ${at} needs ${n} bytes`);
      cur.pos += n;
    } else {
      fail("E_INVALID", `field ${field} at offset ${at} has wire type ${wire}, which ModelProto never uses`);
    }
  }
  if (info.irVersion === null) fail("E_INVALID", "model has no ir_version: not an ONNX ModelProto");
  // A model always has a graph, and from IR version 3 on at least one opset import after it:
  // a file that ends without them was cut short.
  if (!sawGraph) fail("E_TRUNCATED", "model ends before its graph: the file is truncated or not a model");
  if ((info.irVersion ?? 0) >= 3 && info.opsetImports.length === 0) {
    fail("E_TRUNCATED", "model has no opset_import (required from IR version 3): the file is truncated");
  }
  return info;
}

/** Wire types of the ModelProto fields we know; others are skipped by whatever wire type they carry. */
const EXPECTED_WIRE: Record<number, number> = { 1: 0, 2: 2, 3: 2, 4: 2, 5: 0, 6: 2, 7: 2, 8: 2, 14: 2, 20: 2, 25: 2 };

function decodeOpset(buf: Buffer, at: number, fail: Fail): { domain: string; version: number } {
  let domain = "";
  let version = 0;
  let pos = 0;
  const varint = (): bigint => {
    let value = 0n;
    for (let i = 0; i < 10; i++) {
      if (pos >= buf.length) fail("E_INVALID", `opset_import at offset ${at}: a varint runs past the entry`);
      const b = buf[pos++];
      value |= BigInt(b & 0x7f) << BigInt(7 * i);
      if (b < 0x80) return value;
    }
    return fail("E_INVALID", `opset_import at offset ${at}: varint longer than 10 bytes`);
  };
  while (pos < buf.length) {
    const tag = varint();
    const field = Number(tag >> 3n);
    const wire = Number(tag & 7n);
    if (wire === 0) {
      const v = varint();
      if (field === 2) version = toSafeNumber(BigInt.asIntN(64, v), "opset version", fail);
    } else if (wire === 2) {
      const len = Number(varint());
      if (pos + len > buf.length) fail("E_INVALID", `opset_import at offset ${at}: a string runs past the entry`);
      if (field === 1) domain = decodeUtf8(buf.subarray(pos, pos + len), 1, at, fail);
      pos += len;
    } else if (wire === 1 || wire === 5) {
      pos += wire === 1 ? 8 : 4;
      if (pos > buf.length) fail("E_INVALID", `opset_import at offset ${at}: a fixed field runs past the entry`);
    } else {
      fail("E_INVALID", `opset_import at offset ${at}: wire type ${wire}`);
    }
  }
  return { domain, version };
}

function decodeUtf8(buf: Buffer, field: number, at: number, fail: Fail): string {
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(buf);
  } catch {
    return fail("E_INVALID", `string field ${field} at offset ${at} is not valid UTF-8`);
  }
}

function toSafeNumber(v: bigint, what: string, fail: Fail): number {
  if (v > BigInt(Number.MAX_SAFE_INTEGER) || v < BigInt(Number.MIN_SAFE_INTEGER)) fail("E_INVALID", `${what} ${v} is out of range`);
  return Number(v);
}

/** What the graph tells about the model's job: its operators, and the real inputs and outputs with their shapes. */
export interface OnnxGraphSummary {
  name: string | null;
  /** Distinct operator types (op_type of every node read), sorted. */
  opTypes: string[];
  /** Graph inputs that are not initializers (weights), in order; a dim is a number, a symbolic name, or null. */
  inputs: { name: string; shape: (number | string | null)[] | null }[];
  outputs: { name: string; shape: (number | string | null)[] | null }[];
  /** Distinct external_data locations of the initializers (files beside the model holding its weights), in order. */
  externalData: string[];
}

// Nodes and value infos above this size are stepped over (a Constant node may carry a big tensor).
const MAX_NODE_BYTES = 1 << 20;
const MAX_NODES = 200_000;

/**
 * Reads the graph of an .onnx file for its operator types and its inputs/outputs, stepping over initializers
 * (weights) by their length, so a multi-gigabyte model costs a few small reads.
 */
export async function readOnnxGraphSummary(path: string): Promise<OnnxGraphSummary> {
  const fh = await openForReading(path);
  const fail: Fail = (code, why) => {
    throw new ModelLibraryError(code, `${path}: ONNX ${why}`, { path });
  };
  try {
    const cur = new FileCursor(fh, (await fh.stat()).size, fail);
    const summary: OnnxGraphSummary = { name: null, opTypes: [], inputs: [], outputs: [], externalData: [] };
    let graph: { start: number; end: number } | null = null;
    await scanFields(cur, cur.size, async (field, wire, len) => {
      if (field === 7 && wire === 2) graph = { start: cur.pos, end: cur.pos + len };
      return false;
    });
    if (!graph) return summary;
    const { start, end } = graph as { start: number; end: number };
    cur.pos = start;
    const ops = new Set<string>();
    const initializers = new Set<string>();
    const external = new Set<string>();
    const inputs: OnnxGraphSummary["inputs"] = [];
    let nodes = 0;
    await scanFields(cur, end, async (field, wire, len) => {
      if (wire !== 2) return false;
      if (field === 1 && len <= MAX_NODE_BYTES && nodes++ < MAX_NODES) {
        const op = stringFieldOf(await cur.bytes(len, "node"), 4);
        if (op) ops.add(op);
        return true;
      }
      if (field === 2 && len <= MAX_SMALL_FIELD) {
        summary.name = new TextDecoder().decode(await cur.bytes(len, "graph name")) || null;
        return true;
      }
      if (field === 5) {
        // An initializer: only its name (field 8) is read; its data is stepped over.
        const stop = cur.pos + len;
        await scanFields(cur, stop, async (f, w, l) => {
          if (f === 8 && w === 2 && l <= MAX_SMALL_FIELD) {
            initializers.add(new TextDecoder().decode(await cur.bytes(l, "initializer name")));
            return true;
          }
          if (f === 13 && w === 2 && l <= MAX_SMALL_FIELD) {
            // external_data: a StringStringEntryProto; the "location" entry names the file holding the tensor's bytes.
            const entry = await cur.bytes(l, "initializer external_data");
            const location = stringFieldOf(entry, 1) === "location" ? stringFieldOf(entry, 2) : null;
            if (location) external.add(location);
            return true;
          }
          return false;
        });
        cur.pos = stop;
        return true;
      }
      if ((field === 11 || field === 12) && len <= MAX_NODE_BYTES) {
        const info = decodeValueInfo(await cur.bytes(len, "value info"));
        (field === 11 ? inputs : summary.outputs).push(info);
        return true;
      }
      return false;
    });
    summary.opTypes = [...ops].sort();
    summary.externalData = [...external];
    summary.inputs = inputs.filter((i) => !initializers.has(i.name));
    return summary;
  } finally {
    await fh.close();
  }
}

/**
 * Visits the fields of a message from cur.pos to `end`. The handler gets each field's number, wire type and
 * (for length-delimited fields) length, with cur.pos at the field's data; it returns true when it consumed the
 * data, false to have it stepped over.
 */
async function scanFields(cur: FileCursor, end: number, handle: (field: number, wire: number, len: number) => Promise<boolean>): Promise<void> {
  for (let fields = 0; cur.pos < end; fields++) {
    if (fields >= MAX_FIELDS * 10) return;
    const tag = await cur.varint("field tag");
    const field = Number(tag >> 3n);
    const wire = Number(tag & 7n);
    if (wire === 0) {
      await cur.varint(`field ${field}`);
    } else if (wire === 2) {
      const len = await cur.length(`field ${field}`);
      if (cur.pos + len > end) return;
      const at = cur.pos;
      if (!(await handle(field, wire, len))) cur.pos = at + len;
    } else if (wire === 1 || wire === 5) {
      cur.pos += wire === 1 ? 8 : 4;
    } else {
      return; // not a message we understand: stop rather than guess
    }
  }
}

/** Length-delimited sub-fields of an in-memory message: [field, wire, value (bytes or varint)]. */
function* fieldsOf(buf: Buffer): Generator<[number, number, Buffer | bigint]> {
  let pos = 0;
  const varint = (): bigint | null => {
    let value = 0n;
    for (let i = 0; i < 10 && pos < buf.length; i++) {
      const b = buf[pos++];
      value |= BigInt(b & 0x7f) << BigInt(7 * i);
      if (b < 0x80) return value;
    }
    return null;
  };
  while (pos < buf.length) {
    const tag = varint();
    if (tag === null) return;
    const field = Number(tag >> 3n);
    const wire = Number(tag & 7n);
    if (wire === 0) {
      const v = varint();
      if (v === null) return;
      yield [field, wire, v];
    } else if (wire === 2) {
      const len = varint();
      if (len === null || pos + Number(len) > buf.length) return;
      yield [field, wire, buf.subarray(pos, pos + Number(len))];
      pos += Number(len);
    } else if (wire === 1 || wire === 5) {
      pos += wire === 1 ? 8 : 4;
    } else return;
  }
}

function stringFieldOf(buf: Buffer, field: number): string | null {
  for (const [f, w, v] of fieldsOf(buf)) if (f === field && w === 2) return new TextDecoder().decode(v as Buffer);
  return null;
}

/** ValueInfoProto → name and tensor shape (TypeProto.tensor_type.shape.dim[].dim_value|dim_param). */
function decodeValueInfo(buf: Buffer): { name: string; shape: (number | string | null)[] | null } {
  let name = "";
  let shape: (number | string | null)[] | null = null;
  for (const [f, w, v] of fieldsOf(buf)) {
    if (w !== 2) continue;
    if (f === 1) name = new TextDecoder().decode(v as Buffer);
    else if (f === 2) {
      for (const [tf, tw, tv] of fieldsOf(v as Buffer)) {
        if (tf !== 1 || tw !== 2) continue; // tensor_type
        for (const [sf, sw, sv] of fieldsOf(tv as Buffer)) {
          if (sf !== 2 || sw !== 2) continue; // shape
          shape = [];
          for (const [df, dw, dv] of fieldsOf(sv as Buffer)) {
            if (df !== 1 || dw !== 2) continue;
            let dim: number | string | null = null;
            for (const [xf, xw, xv] of fieldsOf(dv as Buffer)) {
              if (xf === 1 && xw === 0) dim = Number(BigInt.asIntN(64, xv as bigint));
              else if (xf === 2 && xw === 2) dim = new TextDecoder().decode(xv as Buffer);
            }
            shape.push(dim);
          }
        }
      }
    }
  }
  return { name, shape };
}

/** The identification fields an ONNX header gives. */
export function summarizeOnnx(info: OnnxInfo): Partial<Identification> {
  return { format: "onnx", securityTier: "safe", onnx: info };
}
