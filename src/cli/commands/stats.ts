// `mlib stats`: how many models and bytes, by type, family, format and quantization.
import type { Command } from "commander";
import { commonOptions, withCommonOptions, withLibrary } from "../common.js";
import { formatBytes, out, printJson, table } from "../output.js";

type Group = Record<string, { count: number; bytes: number }>;

export function register(program: Command): void {
  const cmd = program
    .command("stats")
    .description("counts and sizes by type, family, format and quantization")
    .action(async () => {
      const common = commonOptions(cmd);
      await withLibrary(common, async (lib) => {
        const s = lib.stats();
        const merge = (counts: Record<string, number>, sizes: Record<string, number>): Group =>
          Object.fromEntries(Object.entries(counts).map(([k, count]) => [k, { count, bytes: sizes[k] ?? 0 }]));
        const groups = {
          byType: merge(s.byType, s.bytesByType),
          byFamily: merge(s.byFamily, s.bytesByFamily),
          byFormat: merge(s.byFormat, s.bytesByFormat),
          byQuantization: merge(s.byQuantization, s.bytesByQuantization),
        };
        if (common.json) {
          printJson({ root: lib.root, models: s.count, totalBytes: s.totalBytes, ...groups });
          return;
        }
        out(`${lib.root}: ${s.count} model${s.count === 1 ? "" : "s"}, ${formatBytes(s.totalBytes)}`);
        const sections: [string, Group][] = [
          ["TYPE", groups.byType],
          ["FAMILY", groups.byFamily],
          ["FORMAT", groups.byFormat],
          ["QUANT", groups.byQuantization],
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
