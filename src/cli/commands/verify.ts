// `mlib verify [ID...]`: re-hashes every file of the models (all of them by default) against metadata.json.
import type { Command } from "commander";
import type { VerifySummary } from "../../operations/verify-models.js";
import { commonOptions, markFailed, withCommonOptions, withLibrary } from "../common.js";
import { describeVerify } from "../describe.js";
import { out, printJson } from "../output.js";
import { startProgress } from "../progress.js";
import { cliSignal } from "../signals.js";

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
        let summary: VerifySummary;
        try {
          summary = await verifyModels(lib, { ids }, { signal: cliSignal(), onProgress: (p) => progress.update(p.done ?? 0, p.total ?? 0, p.item) });
        } finally {
          progress.stop();
        }
        const { results, ok, failed } = summary;
        if (failed > 0) markFailed();
        if (common.json) {
          printJson({ results, ok, failed });
          return;
        }
        for (const r of results) for (const line of describeVerify(r, lib.modelDir(r.id))) out(line);
        out(`${ok} OK, ${failed} FAILED`);
      }, { create: false, reconcile: ids.length > 0 ? "quick" : "full" });
    });
  withCommonOptions(cmd);
}
