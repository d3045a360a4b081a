// identify reads headers only: its time must not grow with the file's size. Shown on sparse safetensors files
// (valid files whose data area is a hole) from 1 MiB to 1 TiB, and compared with reading the 1 GiB one.
import { mkdirSync, rmSync } from "node:fs";
import path from "node:path";
import { identify } from "../src/identify/identify.js";
import { writeSafetensorsHeaderOnly } from "../src/demo/safetensors-writer.js";
import { benchData, bestOf, GiB, MiB, round, timeCommand, type BenchResult } from "./lib.js";

function tensorsFor(bytes: number) {
  // A llama-like layout whose last tensor takes whatever size is left.
  const t = [
    { name: "model.embed_tokens.weight", dtype: "F16", shape: [1024, 256] },
    { name: "model.layers.0.self_attn.q_proj.weight", dtype: "F16", shape: [256, 256] },
    { name: "model.layers.0.mlp.up_proj.weight", dtype: "F16", shape: [256, 256] },
    { name: "lm_head.weight", dtype: "F16", shape: [1024, 256] },
  ];
  const used = t.reduce((a, x) => a + x.shape[0] * x.shape[1] * 2, 0);
  t.push({ name: "model.layers.1.mlp.down_proj.weight", dtype: "U8", shape: [Math.max(1, bytes - used)] } as (typeof t)[number]);
  return t;
}

export async function run(): Promise<BenchResult[]> {
  const dir = path.join(benchData, "identify");
  mkdirSync(dir, { recursive: true });
  const sizes: [string, number][] = [["1 MiB", MiB], ["1 GiB", GiB], ["64 GiB", 64 * GiB], ["1 TiB", 1024 * GiB]];
  const times: Record<string, number> = {};
  for (const [label, bytes] of sizes) {
    const file = path.join(dir, `sparse-${label.replace(" ", "")}.safetensors`);
    await writeSafetensorsHeaderOnly(file, tensorsFor(bytes));
    await identify(file); // warm
    times[label] = await bestOf(20, () => identify(file));
  }
  // What reading the whole 1 GiB file costs (sparse: page-cache speed, an upper bound on how fast data could be read).
  const readGib = await bestOf(3, () => timeCommand("cat", [path.join(dir, "sparse-1GiB.safetensors")]));
  rmSync(dir, { recursive: true, force: true });
  const base = times["1 MiB"];
  return [
    ...sizes.map(([label]) => ({ name: `identify sparse safetensors, ${label}`, value: round(times[label], 3), unit: "ms" })),
    {
      name: "identify 1 TiB vs 1 MiB",
      value: round(times["1 TiB"], 3),
      unit: "ms",
      reference: { name: "identify 1 MiB", value: round(base, 3) },
      ratio: round(times["1 TiB"] / base),
      goal: "ratio <= 2 (flat in size)",
      pass: times["1 TiB"] / base <= 2,
    },
    { name: "cat of the 1 GiB sparse file (for scale)", value: round(readGib), unit: "ms" },
  ];
}
