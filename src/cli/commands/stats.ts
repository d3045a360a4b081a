// `mlib stats`: how many models and bytes, by type, family, format and quantization.
import type { Command } from "commander";
import type { ModelLibrary } from "../../library/model-library.js";
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
        const bytes = bytesByGroup(lib);
        const merge = (counts: Record<string, number>, sizes: Record<string, number>): Group =>
          Object.fromEntries(Object.entries(counts).map(([k, count]) => [k, { count, bytes: sizes[k.toLowerCase()] ?? 0 }]));
        const groups = {
          byType: merge(s.byType, bytes.type),
          byFamily: merge(s.byFamily, bytes.family),
          byFormat: merge(s.byFormat, bytes.format),
          byQuantization: merge(s.byQuantization, bytes.quantization),
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
      });
    });
  withCommonOptions(cmd);
}

/** Bytes per group, summed page by page over the index (IndexStats only has counts). Keys lower-cased, like the index's grouping. */
function bytesByGroup(lib: ModelLibrary): Record<"type" | "family" | "format" | "quantization", Record<string, number>> {
  const acc = { type: {}, family: {}, format: {}, quantization: {} } as Record<"type" | "family" | "format" | "quantization", Record<string, number>>;
  const add = (g: Record<string, number>, key: string | null, n: number) => {
    const k = (key ?? "unknown").toLowerCase();
    g[k] = (g[k] ?? 0) + n;
  };
  const page = 5000;
  for (let offset = 0; ; offset += page) {
    const { models } = lib.list({ limit: page, offset, sort: "name" });
    for (const m of models) {
      add(acc.type, m.modelType, m.sizeBytes);
      add(acc.family, m.family, m.sizeBytes);
      add(acc.format, m.format, m.sizeBytes);
      add(acc.quantization, m.quantization, m.sizeBytes);
    }
    if (models.length < page) break;
  }
  return acc;
}
