// `mlib redetect [ID...]`: identifies stored models again from their bytes (all by default); manual choices are kept.
import type { Command } from "commander";
import type { RedetectResult } from "../../operations/redetect-models.js";
import { commonOptions, markFailed, withCommonOptions, withLibrary } from "../common.js";
import { err, out, printJson } from "../output.js";
import { cliSignal } from "../signals.js";

export function register(program: Command): void {
  const cmd = program
    .command("redetect")
    .description("identify stored models again and update type, family and format where they changed")
    .argument("[id...]", "model ids (default: all)")
    .action(async (ids: string[]) => {
      const common = commonOptions(cmd);
      const { redetectModels } = await import("../../operations/redetect-models.js");
      await withLibrary(common, async (lib) => {
        const { results, changed, errors } = await redetectModels(lib, { ids }, { signal: cliSignal() });
        if (errors > 0) markFailed();
        if (common.json) {
          printJson({ results, changed, errors });
          return;
        }
        for (const r of results) if (r.changed) out(`changed  ${r.id}: ${describeChange(r)}`);
        for (const r of results) if (r.error !== null) err(`${r.id}: ${r.error}`);
        out(`${results.length} checked, ${changed} changed, ${errors} failed`);
      }, { create: false });
    });
  withCommonOptions(cmd);
}

function describeChange(r: RedetectResult): string {
  const parts: string[] = [];
  for (const key of ["modelType", "family", "format", "subtype"] as const) {
    if (r.before[key] !== r.after[key]) parts.push(`${key === "modelType" ? "type" : key} ${r.before[key] ?? "-"} → ${r.after[key] ?? "-"}`);
  }
  return parts.length > 0 ? parts.join(", ") : "quantization or parameters updated";
}
