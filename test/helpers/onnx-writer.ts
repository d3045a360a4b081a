// Protobuf wire-format pieces for building tiny ONNX ModelProto files in tests.

export function varint(n: number | bigint): Buffer {
  let v = BigInt(n);
  if (v < 0n) v = BigInt.asUintN(64, v);
  const out: number[] = [];
  do {
    let b = Number(v & 0x7fn);
    v >>= 7n;
    if (v > 0n) b |= 0x80;
    out.push(b);
  } while (v > 0n);
  return Buffer.from(out);
}

export function varintField(field: number, value: number | bigint): Buffer {
  return Buffer.concat([varint(field * 8), varint(value)]);
}

export function bytesField(field: number, data: Buffer | string): Buffer {
  const body = typeof data === "string" ? Buffer.from(data, "utf8") : data;
  return Buffer.concat([varint(field * 8 + 2), varint(body.length), body]);
}

export interface TinyOnnx {
  bytes: Buffer;
  /** Offsets where each top-level field ends (a cut there leaves a well-formed prefix). */
  fieldEnds: number[];
}

/** ir_version, producer, version, domain, model_version, a small graph, then one opset import — the order real writers use. */
export function buildTinyOnnx(opts: { irVersion?: number; producer?: string; graph?: Buffer; opset?: { domain: string; version: number } } = {}): TinyOnnx {
  const fields = [
    varintField(1, opts.irVersion ?? 8),
    bytesField(2, opts.producer ?? "pytorch"),
    bytesField(3, "2.1.0"),
    bytesField(4, "ai.example"),
    varintField(5, 7),
    bytesField(7, opts.graph ?? Buffer.concat([bytesField(2, "main_graph"), bytesField(1, Buffer.from([0x0a, 0x01, 0x78]))])),
    bytesField(8, Buffer.concat([bytesField(1, opts.opset?.domain ?? ""), varintField(2, opts.opset?.version ?? 17)])),
  ];
  const fieldEnds: number[] = [];
  let end = 0;
  for (const f of fields) fieldEnds.push((end += f.length));
  return { bytes: Buffer.concat(fields), fieldEnds };
}
