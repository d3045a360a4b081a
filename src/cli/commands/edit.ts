// `mlib edit ID [--name N] [--tag T...] [--notes TEXT]`: changes a model's display name, tags or notes (the
// same operation as PATCH /api/models/:id). The id and folder stay; the edited fields are marked as set by
// hand, so a Hub lookup never overwrites them.
import type { Command } from "commander";
import { collectList, commonOptions, withCommonOptions, withLibrary } from "../common.js";
import { out, printJson } from "../output.js";

export function register(program: Command): void {
  const cmd = program
    .command("edit")
    .description("change a model's display name, tags or notes (the id and folder stay)")
    .argument("<id>", "model id")
    .option("--name <name>", "new display name")
    .option("--tag <tags>", "the new tag list (repeat or comma-separate; --tag '' clears)", collectList)
    .option("--notes <text>", "new notes ('' clears)")
    .action(async (id: string) => {
      const common = commonOptions(cmd);
      const opts = cmd.opts<{ name?: string; tag?: string[]; notes?: string }>();
      const { editModel } = await import("../../operations/edit-model.js");
      await withLibrary(common, async (lib) => {
        const result = await editModel(lib, { id, name: opts.name, tags: opts.tag, notes: opts.notes });
        if (common.json) {
          printJson(result);
          return;
        }
        out(`edited ${result.id}: ${result.changed.join(", ")}`);
      }, { create: false }); // edits a model of an existing library: a mistyped --library makes nothing
    });
  withCommonOptions(cmd);
}
