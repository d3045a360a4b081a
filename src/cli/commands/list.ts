// `mlib list [filters]` and `mlib search QUERY [filters]`: the index's search, as a table or as
// `{ models, totalCount, queryTimeMs }` (plus `facets` with --facets). Filters are repeatable or comma-separated.
import { Option, type Command } from "commander";
import type { Facets, SearchOptions, SortMode } from "../../operations/search-models.js";
import type { ListModelsResult } from "../../operations/list-models.js";
import { collectList, commonOptions, parseNonNegativeInt, parsePositiveInt, withCommonOptions, withLibrary } from "../common.js";
import { countsLine, formatBytes, out, printJson, table } from "../output.js";
import { cliSignal } from "../signals.js";

interface FilterFlags {
  type?: string[];
  subtype?: string[];
  family?: string[];
  format?: string[];
  quant?: string[];
  tag?: string[];
  tagMode?: "any" | "all";
  limit?: number;
  offset?: number;
  sort?: SortMode;
  facets?: boolean;
}

function addFilters(cmd: Command): Command {
  return cmd
    .option("--type <type>", "model type (repeatable, or comma-separated)", collectList)
    .option("--subtype <subtype>", "subtype: checkpoints, loras, vae... (repeatable)", collectList)
    .option("--family <family>", "family (repeatable)", collectList)
    .option("--format <format>", "file format: gguf, safetensors, pickle, onnx... (repeatable)", collectList)
    .option("--quant <quantization>", "quantization: Q4_K_M, F16... (repeatable)", collectList)
    .option("--tag <tag>", "tag (repeatable)", collectList)
    .addOption(new Option("--tag-mode <mode>", "with several tags: any of them, or all").choices(["any", "all"]).default("any"))
    .option("--limit <n>", "at most N models (default 50)", parsePositiveInt)
    .option("--offset <n>", "skip the first N models", parseNonNegativeInt)
    .addOption(new Option("--sort <order>", "order").choices(["relevance", "name", "updated", "added", "size"]))
    .option("--facets", "also count the matches per type, subtype, family, format, quantization and tag");
}

function searchOptions(flags: FilterFlags): SearchOptions {
  return {
    types: flags.type,
    subtypes: flags.subtype,
    families: flags.family,
    formats: flags.format,
    quantizations: flags.quant,
    tags: flags.tag,
    tagMode: flags.tagMode,
    limit: flags.limit,
    offset: flags.offset,
    sort: flags.sort,
  };
}

export function register(program: Command): void {
  const list = addFilters(program.command("list").description("list the models in the library"));
  list.action(async () => {
    const common = commonOptions(list);
    const flags = list.opts<FilterFlags>();
    const { listModels } = await import("../../operations/list-models.js");
    await withLibrary(
      common,
      async (lib) => printResult(await listModels(lib, { ...searchOptions(flags), facets: flags.facets }, { signal: cliSignal() }), common.json, flags),
      { create: false },
    );
  });
  withCommonOptions(list);

  const search = addFilters(
    program
      .command("search")
      .description("full-text search of names, tags, families, architectures, descriptions and notes")
      .argument("<query...>", "words to look for (prefixes match: `lla` finds llama); quoting them is optional"),
  );
  // Variadic: people type `mlib search llama 3 8b` unquoted, which is the query "llama 3 8b".
  search.action(async (words: string[]) => {
    const query = words.join(" ");
    const common = commonOptions(search);
    const flags = search.opts<FilterFlags>();
    const { searchModels } = await import("../../operations/search-models.js");
    await withLibrary(
      common,
      async (lib) => printResult(await searchModels(lib, { query, ...searchOptions(flags), facets: flags.facets }, { signal: cliSignal() }), common.json, flags),
      { create: false },
    );
  });
  withCommonOptions(search);
}

function printResult(result: ListModelsResult, json: boolean, flags: FilterFlags): void {
  const { facets, broken } = result;
  if (json) {
    printJson({
      models: result.models,
      totalCount: result.totalCount,
      queryTimeMs: Math.round(result.queryTimeMs * 1000) / 1000,
      ...(facets ? { facets } : {}),
      ...(broken ? { broken } : {}),
    });
    return;
  }
  if (result.models.length > 0) {
    const rows = result.models.map((m) => [m.id, m.modelType, m.family ?? "-", m.format ?? "-", m.quantization ?? "-", formatBytes(m.sizeBytes)]);
    const cols = [{ header: "ID" }, { header: "TYPE" }, { header: "FAMILY" }, { header: "FORMAT" }, { header: "QUANT" }, { header: "SIZE", right: true }];
    for (const line of table(cols, rows)) out(line);
  }
  const offset = flags.offset ?? 0;
  const range = result.models.length > 0 && offset > 0 ? ` (from ${offset + 1})` : "";
  out(`${result.models.length} of ${result.totalCount} model${result.totalCount === 1 ? "" : "s"}${range}`);
  if (broken) {
    out(`${broken.length} broken (metadata.json unreadable: not searchable; \`mlib restore ID\` puts back the backup, \`mlib rm ID\` removes it):`);
    for (const b of broken) out(`  BROKEN  ${b.id}: ${b.error}`);
  }
  if (facets) printFacets(facets);
}

// At most this many values a group on a terminal (a large library has hundreds of tags); --json has them all.
const FACET_VALUES_SHOWN = 12;

function printFacets(f: Facets): void {
  const groups: [string, Record<string, number>][] = [
    ["types", f.types],
    ["subtypes", f.subtypes],
    ["families", f.families],
    ["formats", f.formats],
    ["quantizations", f.quantizations],
    ["tags", f.tags],
  ];
  out();
  for (const [name, counts] of groups) {
    const entries = Object.entries(counts);
    const shown = countsLine(Object.fromEntries(entries.slice(0, FACET_VALUES_SHOWN)));
    const more = entries.length > FACET_VALUES_SHOWN ? `, … ${entries.length - FACET_VALUES_SHOWN} more` : "";
    out(`${`${name}:`.padEnd(15)}${shown}${more}`);
  }
}
