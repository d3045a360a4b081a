// Import: copy mode is one read pass (≤ 1.1x max(cp, hash alone) on the same file in the same run), and
// move / hardlink / reflink copy no data (their time beyond hashing stays flat as the file grows).
import { spawnSync } from "node:child_process";
import { linkSync, mkdirSync, rmSync } from "node:fs";
import path from "node:path";
import { ModelLibrary, importModels } from "../src/index.js";
import { closeHashWorkers, hashFile } from "../src/hashing/index.js";
import { buildSafetensors } from "../src/demo/safetensors-writer.js";
import { benchData, bestOfEach, GiB, hasCommand, MiB, round, timeCommand, warmRead, type BenchResult } from "./lib.js";
import { writeFileSync, openSync, writeSync, closeSync, statSync, statfsSync } from "node:fs";
import { randomFillSync } from "node:crypto";

/** A valid safetensors file of about `bytes` bytes: one U8 tensor of random content. */
function makeModel(file: string, bytes: number): string {
  try {
    if (statSync(file).size >= bytes) return file;
  } catch {
    // not made yet
  }
  const dataBytes = bytes - 4096;
  const header = buildSafetensors([{ name: "model.layers.0.mlp.weight", dtype: "U8", shape: [dataBytes] }], { format: "pt" });
  const headerOnly = header.subarray(0, header.length - dataBytes);
  const fd = openSync(file, "w");
  try {
    writeSync(fd, headerOnly, 0, headerOnly.length, 0);
    const block = randomFillSync(Buffer.allocUnsafe(16 * MiB));
    for (let off = 0, i = 0; off < dataBytes; off += block.length, i++) {
      block.writeUInt32LE(i, 0);
      writeSync(fd, block, 0, Math.min(block.length, dataBytes - off), headerOnly.length + off);
    }
  } finally {
    closeSync(fd);
  }
  return file;
}

async function importOnce(root: string, file: string, mode: "copy" | "move" | "hardlink" | "reflink"): Promise<void> {
  rmSync(root, { recursive: true, force: true });
  const lib = await ModelLibrary.open(root);
  try {
    const [r] = await importModels(lib, [file], { mode });
    if (r.status !== "imported") throw new Error(`import ${mode} of ${file}: ${r.status} ${r.error?.message ?? ""}`);
  } finally {
    lib.close();
  }
}

export async function run(): Promise<BenchResult[]> {
  const dir = path.join(benchData, "import");
  mkdirSync(dir, { recursive: true });
  const results: BenchResult[] = [];
  const big = makeModel(path.join(dir, "model-1g.safetensors"), GiB);
  const small = makeModel(path.join(dir, "model-256m.safetensors"), 256 * MiB);
  const lib = path.join(dir, "lib");
  const cpDst = path.join(dir, "cp-copy.bin");
  warmRead(big);

  // Copy mode against cp and hashing alone. The import fsyncs its copy (it commits it right after), so cp is
  // shown both as it is and followed by a sync of the copy; the goal is judged against the plain cp.
  const t = await bestOfEach(3, {
    cp: async () => {
      rmSync(cpDst, { force: true });
      await timeCommand("cp", [big, cpDst]);
    },
    cpSync: async () => {
      rmSync(cpDst, { force: true });
      await timeCommand("cp", [big, cpDst]);
      await timeCommand("sync", [cpDst]);
    },
    hash: () => hashFile(big),
    importCopy: () => importOnce(lib, big, "copy"),
    // Removing the previous run's copies is nobody's cost: done before each timed run, for cp and import alike.
  }, () => {
    rmSync(cpDst, { force: true });
    rmSync(lib, { recursive: true, force: true });
  });
  const ref = Math.max(t.cp, t.hash);
  results.push({
    name: "import --mode copy, 1 GiB",
    value: round(t.importCopy),
    unit: "ms",
    reference: { name: `max(cp ${round(t.cp)} ms, hash ${round(t.hash)} ms)`, value: round(ref) },
    ratio: round(t.importCopy / ref),
    goal: "ratio <= 1.1",
    pass: t.importCopy / ref <= 1.1,
  });
  const refSync = Math.max(t.cpSync, t.hash);
  results.push({
    name: "import --mode copy, 1 GiB (vs cp + sync)",
    value: round(t.importCopy),
    unit: "ms",
    reference: { name: `max(cp+sync ${round(t.cpSync)} ms, hash)`, value: round(refSync) },
    ratio: round(t.importCopy / refSync),
  });

  // The space row's own check: copy mode must show the whole file.
  const copySpace = await spaceUsed("import --mode copy", lib, () => importOnce(lib, big, "copy"));
  results.push({ ...copySpace, goal: undefined, pass: undefined, name: `${copySpace.name} (the measure's check: ~1024 expected)` });

  // Same filesystem, no data copied: the time beyond hashing must not grow with the size.
  for (const mode of ["hardlink", "move"] as const) {
    const beyond: Record<string, number> = {};
    for (const [label, file] of [["256 MiB", small], ["1 GiB", big]] as const) {
      const times = await bestOfEach(3, {
        hash: () => hashFile(file),
        imp: async () => {
          const src = path.join(dir, `to-${mode}.safetensors`);
          rmSync(src, { force: true });
          linkSync(file, src); // move takes this name away; the data file itself stays
          await importOnce(lib, src, mode);
        },
      });
      beyond[label] = Math.max(0, times.imp - times.hash);
    }
    results.push(flatInSize(`import --mode ${mode}`, beyond));
    results.push(
      await spaceUsed(`import --mode ${mode}`, lib, async () => {
        const src = path.join(dir, `to-${mode}.safetensors`);
        rmSync(src, { force: true });
        linkSync(big, src);
        await importOnce(lib, src, mode);
      }),
    );
  }
  results.push(...(await reflinkOnXfs(dir)));
  rmSync(lib, { recursive: true, force: true });
  rmSync(cpDst, { force: true });
  rmSync(dir, { recursive: true, force: true });
  await closeHashWorkers();
  return results;
}

/**
 * The disk space an import of the 1 GiB file takes (free blocks before and after, synced): the direct proof
 * that no data was copied, where the time rows are noisy on this VM (a page-cache copy here can cost as
 * little as 0.2 s/GiB, within the noise of a whole import).
 */
async function spaceUsed(name: string, where: string, importIt: () => Promise<void>): Promise<BenchResult> {
  rmSync(where, { recursive: true, force: true });
  spawnSync("sync");
  const before = statfsSync(path.dirname(where));
  await importIt();
  spawnSync("sync");
  const after = statfsSync(path.dirname(where));
  const usedMiB = ((before.bfree - after.bfree) * before.bsize) / MiB;
  return {
    name: `${name}: disk space taken by a 1 GiB model`,
    value: round(Math.max(0, usedMiB)),
    unit: "MiB",
    goal: "< 16 MiB (a copy takes 1024)",
    pass: usedMiB < 16,
  };
}

/** A mode that copies no data: its time beyond hashing must not grow with the file (1 GiB vs 256 MiB). */
function flatInSize(name: string, beyond: Record<string, number>): BenchResult {
  return {
    name: `${name}: time beyond hashing, 1 GiB`,
    value: round(beyond["1 GiB"]),
    unit: "ms",
    reference: { name: "same at 256 MiB", value: round(beyond["256 MiB"]) },
    ratio: round(beyond["1 GiB"] / Math.max(beyond["256 MiB"], 1)),
    goal: "flat in size (a copy would make 1 GiB ~4x 256 MiB)",
    pass: beyond["1 GiB"] < 2 * Math.max(beyond["256 MiB"], 20),
  };
}

/** Reflink needs a filesystem that can clone (ext4 cannot): an XFS image on a loop device, where root may mount. */
async function reflinkOnXfs(dir: string): Promise<BenchResult[]> {
  const mnt = path.join(dir, "xfs");
  const img = path.join(dir, "xfs.img");
  const skip = (why: string): BenchResult[] => [{ name: `import --mode reflink (skipped: ${why})`, value: NaN, unit: "" }];
  if (!hasCommand("mkfs.xfs")) return skip("mkfs.xfs not installed");
  mkdirSync(mnt, { recursive: true });
  writeFileSync(img, "");
  spawnSync("truncate", ["-s", "3G", img]);
  if (spawnSync("mkfs.xfs", ["-q", "-f", "-m", "reflink=1", img]).status !== 0) return skip("mkfs.xfs failed");
  if (spawnSync("mount", ["-o", "loop", img, mnt]).status !== 0) return skip("cannot mount a loop device here");
  try {
    const root = path.join(mnt, "lib");
    const beyond: Record<string, number> = {};
    for (const [label, bytes] of [["256 MiB", 256 * MiB], ["1 GiB", GiB]] as const) {
      const file = makeModel(path.join(mnt, `model-${bytes}.safetensors`), bytes);
      warmRead(file);
      // Best of 5, not 3: the commit's fsyncs go through the loop device to the image file on ext4, and one slow
      // flush (~100 ms) is as large as what this row looks for.
      const t = await bestOfEach(5, { hash: () => hashFile(file), reflink: () => importOnce(root, file, "reflink") });
      beyond[label] = Math.max(0, t.reflink - t.hash);
    }
    const big = path.join(mnt, `model-${GiB}.safetensors`);
    return [flatInSize("import --mode reflink on XFS", beyond), await spaceUsed("import --mode reflink on XFS", root, () => importOnce(root, big, "reflink"))];
  } finally {
    spawnSync("umount", [mnt]);
    rmSync(img, { force: true });
  }
}
