// `mlib show ID`: one model: its index record and its metadata.json.
import type { Command } from "commander";
import { commonOptions, withCommonOptions, withLibrary } from "../common.js";
import { fields, formatBytes, formatCount, out, printJson, table } from "../output.js";
import { cliSignal } from "../signals.js";

export function register(program: Command): void {
  const cmd = program
    .command("show")
    .description("show a model: its fields, files, sizes and hashes")
    .argument("<id>", "model id (as `mlib list` prints it)")
    .action(async (id: string) => {
      const common = commonOptions(cmd);
      const { showModel } = await import("../../operations/show-model.js");
      await withLibrary(common, async (lib) => {
        const { record, metadata } = await showModel(lib, { id }, { signal: cliSignal() });
        if (common.json) {
          printJson({ ...record, metadata });
          return;
        }
        out(record.id);
        const lines = fields([
          ["name", record.officialName],
          ["path", record.path],
          ["type", [record.modelType, record.subtype].filter(Boolean).join(" / ")],
          ["family", record.family],
          ["architecture", record.architecture],
          ["format", [record.format, metadata.security_tier ? `(${metadata.security_tier})` : null].filter(Boolean).join(" ")],
          ["quantization", record.quantization],
          ["params", record.parameterCount !== null ? formatCount(record.parameterCount) : null],
          ["context", record.contextLength !== null ? String(record.contextLength) : null],
          ["size", `${formatBytes(record.sizeBytes)} (${record.sizeBytes} bytes)`],
          ["tags", record.tags.length > 0 ? record.tags.join(", ") : null],
          ["description", metadata.description],
          ["repo", metadata.repo_id],
          ["sha256", record.hashes.sha256],
          ["blake3", record.hashes.blake3],
          ["added", record.addedAt],
          ["updated", record.updatedAt],
          ["expected", metadata.expected_files && metadata.expected_files.length > 0 ? metadata.expected_files.join(", ") : null],
        ]);
        for (const line of lines) out(line);
        const files = metadata.files ?? [];
        if (files.length > 0) {
          out("  files:");
          const rows = files.map((f) => [f.name, formatBytes(f.size), f.sha256 ?? "-", f.blake3 ?? "-"]);
          for (const line of table([{ header: "NAME" }, { header: "SIZE", right: true }, { header: "SHA256" }, { header: "BLAKE3" }], rows)) {
            out(`    ${line}`);
          }
        }
      }, { create: false });
    });
  withCommonOptions(cmd);
}
