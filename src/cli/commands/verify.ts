// `mlib verify [ID...]`: re-hashes every file of the models (all of them by default) against metadata.json.
import type { Command } from "commander";
import type { VerifyFileResult, VerifyResult } from "../../operations/verify-models.js";
import { commonOptions, markFailed, withCommonOptions, withLibrary } from "../common.js";
import { formatBytes, out, printJson } from "../output.js";
import { startProgress } from "../progress.js";

export function register(program: Command): void {
  const cmd = program
    .command("verify")
    .description("re-hash models and compare with the recorded hashes (all models when no id is given)")
    .argument("[id...]", "model ids")
    .action(async (ids: string[]) => {
      const common = commonOptions(cmd);
      const { verifyModels } = await import("../../operations/verify-models.js");
      await withLibrary(common, async (lib) => {
        const progress = startProgress({ json: common.json, title: "verifying" });
        let results: VerifyResult[];
        try {
          results = await verifyModels(lib, ids, (p) => progress.update(p.bytesDone, p.bytesTotal, `${p.id}/${p.file}`));
        } finally {
          progress.stop();
        }
        const failed = results.filter((r) => !r.ok);
        if (failed.length > 0) markFailed();
        if (common.json) {
          printJson({ results, ok: results.length - failed.length, failed: failed.length });
          return;
        }
        for (const r of results) for (const line of describeVerify(r, lib.modelDir(r.id))) out(line);
        out(`${results.length - failed.length} OK, ${failed.length} FAILED`);
      }, { create: false, reconcile: ids.length > 0 ? "quick" : "full" });
    });
  withCommonOptions(cmd);
}

export function describeVerify(r: VerifyResult, dir: string): string[] {
  const bytes = r.files.reduce((a, f) => a + (f.actual.size ?? 0), 0);
  if (r.ok) {
    const unhashed = r.files.filter((f) => f.status === "unhashed").length;
    const note = unhashed > 0 ? `, ${unhashed} without a recorded hash (not checked)` : "";
    return [`OK      ${r.id}  (${r.files.length} file${r.files.length === 1 ? "" : "s"}, ${formatBytes(bytes)}${note})`];
  }
  const lines = [`FAILED  ${r.id}`];
  if (r.error) lines.push(`        ${r.error}`);
  for (const f of r.files) {
    const text = describeFile(f);
    if (text) lines.push(`        ${dir}/${f.name}: ${text}`);
  }
  return lines;
}

function describeFile(f: VerifyFileResult): string | null {
  switch (f.status) {
    case "missing":
      return "missing";
    case "size-mismatch":
      return `size changed (recorded ${f.expected.size} bytes, found ${f.actual.size})`;
    case "hash-mismatch": {
      const which = f.expected.sha256 && f.expected.sha256 !== f.actual.sha256 ? "sha256" : "blake3";
      const expected = which === "sha256" ? f.expected.sha256 : f.expected.blake3;
      const actual = which === "sha256" ? f.actual.sha256 : f.actual.blake3;
      return `content changed (${which} recorded ${expected}, now ${actual})`;
    }
    default:
      return null;
  }
}
