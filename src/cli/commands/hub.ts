// `mlib hub search|info|files`: the Hugging Face Hub, read-only. Search answers from the cache when it can
// (`--refresh` asks the Hub); HF_HUB_OFFLINE=1 answers from the cache only. HF_ENDPOINT and HF_TOKEN apply.
import { Option, type Command } from "commander";
import { commonOptions, parsePositiveInt, withCommonOptions } from "../common.js";
import { err, formatBytes, formatCount, out, printJson, table } from "../output.js";

export function register(program: Command): void {
  // The common options on the group too, as on `links`: `mlib hub --json search qwen` works like `mlib hub search qwen --json`.
  const hub = withCommonOptions(program.command("hub").description("search and inspect models on the Hugging Face Hub (HF_ENDPOINT, HF_TOKEN, HF_HUB_OFFLINE)"));

  const search = hub
    .command("search")
    .description("search the Hub; results are cached (24 h) and shown with their download options")
    // Variadic, as `mlib search`: `mlib hub search qwen coder` unquoted is the query "qwen coder".
    .argument("[query...]", "words of the repo id (quoting them is optional)")
    .option("--kind <kind>", "llm, diffusion, audio, embedding, or a Hub pipeline tag (text-generation...)")
    .addOption(new Option("--sort <field>", "order").choices(["downloads", "likes", "lastModified", "createdAt", "trendingScore"]))
    .option("--limit <n>", "at most N models (default 20)", parsePositiveInt)
    .option("--refresh", "ask the Hub even when the cache has an answer")
    .action(async (words: string[], flags: { kind?: string; sort?: "downloads"; limit?: number; refresh?: boolean }) => {
      const query = words.join(" ");
      const common = commonOptions(search);
      const { HubClient } = await import("../../hub/hub-client.js");
      const client = new HubClient();
      try {
        const r = await client.search({ query, kind: flags.kind, sort: flags.sort, limit: flags.limit, refresh: flags.refresh });
        if (common.json) return printJson(r);
        if (r.models.length === 0) return out("no models found");
        const rows = r.models.map((m) => [
          m.repoId,
          m.kind,
          m.formats.join(",") || "-",
          m.downloadOptions.map((o) => `${o.quant} ${formatBytes(o.sizeBytes)}`).join(", ") || m.quants.join(",") || "-",
          formatCount(m.downloads),
        ]);
        for (const line of table([{ header: "repo" }, { header: "kind" }, { header: "formats" }, { header: "download options" }, { header: "downloads", right: true }], rows)) out(line);
        if (r.fromCache) out("(from the cache; --refresh asks the Hub)");
        // A repo whose files could not be read shows no download options: say why, rather than let it look like it has none.
        for (const f of r.treeFailures ?? []) err(`warning: ${f.repoId}: its files could not be read, so no download options are shown (${f.error}); not cached, the next search asks again`);
      } finally {
        client.close();
      }
    });
  withCommonOptions(search);

  const info = hub
    .command("info")
    .description("a repo: kind, formats, download options, commit, card data")
    .argument("<repo>", "owner/name")
    .option("--rev <revision>", "branch, tag or commit (default main)")
    .action(async (repo: string, flags: { rev?: string }) => {
      const common = commonOptions(info);
      const { HubClient } = await import("../../hub/hub-client.js");
      const client = new HubClient();
      try {
        const r = await client.info(repo, flags.rev ?? "main");
        if (common.json) return printJson(r);
        const m = r.model;
        out(`${m.repoId}  (${m.url})`);
        out(`  revision   ${r.revision} → ${r.commitSha ?? "?"}`);
        out(`  kind       ${m.kind}${r.libraryName ? `  library ${r.libraryName}` : ""}`);
        out(`  formats    ${m.formats.join(", ") || "-"}   engines ${m.compatibleEngines.join(", ") || "-"}`);
        out(`  size       ${formatBytes(m.totalSizeBytes)} in ${r.files.length} files${m.gated ? "   (gated: needs a token)" : ""}`);
        if (m.downloadOptions.length) {
          out("  download options:");
          for (const o of m.downloadOptions) out(`    ${o.quant.padEnd(16)} ${formatBytes(o.sizeBytes).padStart(10)}  ${o.files.length > 1 ? `${o.files.length} files` : o.files[0]}`);
        }
      } finally {
        client.close();
      }
    });
  withCommonOptions(info);

  const files = hub
    .command("files")
    .description("every file of a repo revision (recursive), with LFS sizes and sha256")
    .argument("<repo>", "owner/name")
    .option("--rev <revision>", "branch, tag or commit (default main)")
    .action(async (repo: string, flags: { rev?: string }) => {
      const common = commonOptions(files);
      const { HubClient } = await import("../../hub/hub-client.js");
      const client = new HubClient();
      try {
        const list = await client.treeOf(repo, flags.rev ?? "main");
        if (common.json) return printJson({ repoId: repo, revision: flags.rev ?? "main", files: list });
        // LFS files by their sha256, plain git files by their git blob sha1 (what a download checks each against).
        const rows = list.map((f) => [f.path, formatBytes(f.size), f.lfs ? "lfs" : "git", f.sha256 ?? (f.gitSha1 ? `git ${f.gitSha1}` : "-")]);
        for (const line of table([{ header: "path" }, { header: "size", right: true }, { header: "" }, { header: "hash" }], rows)) out(line);
      } finally {
        client.close();
      }
    });
  withCommonOptions(files);
}
