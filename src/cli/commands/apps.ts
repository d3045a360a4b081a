// `mlib apps`: the app profiles (built in, and the user's in $XDG_CONFIG_HOME/model-library/mapping/).
import type { Command } from "commander";
import { commonOptions, withCommonOptions } from "../common.js";
import { out, printJson } from "../output.js";

export function register(program: Command): void {
  const cmd = program
    .command("apps")
    .description("list the app profiles models can be mapped into (comfyui, a1111, forge, llamacpp, lmstudio, yours)")
    .action(async () => {
      const common = commonOptions(cmd);
      const { listApps, defaultConfigDir } = await import("../../mapper/profiles.js");
      const apps = listApps();
      if (common.json) {
        printJson({ apps, configDir: defaultConfigDir() });
        return;
      }
      for (const a of apps) {
        out(`${a.id.padEnd(10)} ${a.builtin ? "" : "(user) "}${a.description ?? ""}`);
        out(`${"".padEnd(10)} folders: ${a.folders.join(", ")}`);
      }
      out(`user configs: ${defaultConfigDir()}`);
    });
  withCommonOptions(cmd, { library: "hidden" });
}
