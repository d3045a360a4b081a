// `mlib stats`: how many models and bytes, by type, family, format and quantization.
import type { Command } from "commander";
import { commonOptions, withCommonOptions, withLibrary } from "../common.js";
import type { StatsGroup } from "../../operations/get-stats.js";
import { formatBytes, out, printJson, table } from "../output.js";
import { cliSignal } from "../signals.js";

type Group = Record<string, StatsGroup>;

export function register(program: Command): void {
  const cmd = program
    .command("stats")
    .description("counts and sizes by type, family, format and quantization")
    .action(async () => {
      const common = commonOptions(cmd);
      const { getStats } = await import("../../operations/get-stats.js");
      await withLibrary(common, async (lib) => {
        const stats = await getStats(lib, {}, { signal: cliSignal() });
        if (common.json) {
          printJson(stats);
          return;
        }
        out(`${stats.root}: ${stats.models} model${stats.models === 1 ? "" : "s"}, ${formatBytes(stats.totalBytes)}`);
        const sections: [string, Group][] = [
          ["TYPE", stats.byType],
          ["FAMILY", stats.byFamily],
          ["FORMAT", stats.byFormat],
          ["QUANT", stats.byQuantization],
        ];
        for (const [title, group] of sections) {
          if (Object.keys(group).length === 0) continue;
          out();
          const rows = Object.entries(group).map(([k, v]) => [k, String(v.count), formatBytes(v.bytes)]);
          for (const line of table([{ header: title }, { header: "MODELS", right: true }, { header: "SIZE", right: true }], rows)) out(line);
        }
      }, { create: false });
    });
  withCommonOptions(cmd);
}
