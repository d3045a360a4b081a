// The layer rule of eslint.config.js: a file in a lower folder of src/ that imports a higher one fails
// `npm run lint`, and the real tree passes it.
import { test } from "node:test";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ESLint } from "eslint";
import { REPO_ROOT } from "../helpers/cli.js";

const LAYER_RULES = new Set(["no-restricted-imports", "no-restricted-syntax"]);

function layerErrors(results: ESLint.LintResult[]): string[] {
  return results.flatMap((r) => r.messages.filter((m) => m.ruleId && LAYER_RULES.has(m.ruleId)).map((m) => `${r.filePath}:${m.line}: ${m.message}`));
}

test("a format reader that imports the CLI fails lint (a real file in src/formats)", async () => {
  const file = join(REPO_ROOT, "src", "formats", `lint-probe-${process.pid}-${randomBytes(4).toString("hex")}.ts`);
  writeFileSync(file, 'import { run } from "../cli/main.js";\nexport const probe = run;\n');
  try {
    const results = await new ESLint({ cwd: REPO_ROOT }).lintFiles([file]);
    const errors = layerErrors(results);
    assert.equal(errors.length, 1, errors.join("\n"));
    assert.match(errors[0], /formats\/ may import only core/);
    assert.equal(results[0].errorCount >= 1, true, "an error, not a warning: `npm run lint` exits non-zero");
  } finally {
    rmSync(file, { force: true });
  }
});

test("upward imports are refused from every layer, static, dynamic and type-only; downward ones pass", async () => {
  const eslint = new ESLint({ cwd: REPO_ROOT });
  const lint = async (path: string, code: string) => layerErrors(await eslint.lintText(code, { filePath: join(REPO_ROOT, path) }));
  const refused: [string, string][] = [
    ["src/core/x.ts", 'import { a } from "../formats/gguf.js";\nexport { a };\n'],
    ["src/formats/x.ts", 'import type { A } from "../identify/identify.js";\nexport type { A };\n'],
    ["src/formats/sub/x.ts", 'import { a } from "../../cli/main.js";\nexport { a };\n'],
    ["src/identify/x.ts", 'export const a = () => import("../store/model-library.js");\n'],
    ["src/hashing/x.ts", 'import { a } from "../formats/gguf.js";\nexport { a };\n'],
    ["src/index/x.ts", 'import { a } from "../store/layout.js";\nexport { a };\n'],
    ["src/store/x.ts", 'import { a } from "../operations/index.js";\nexport { a };\n'],
    ["src/operations/x.ts", 'export * from "../cli/common.js";\n'],
    ["src/mapper/x.ts", 'import { a } from "../hub/index.js";\nexport { a };\n'],
    ["src/demo/x.ts", 'import { a } from "../cli/output.js";\nexport { a };\n'],
    ["src/operations/y.ts", 'import { a } from "../index.js";\nexport { a };\n'],
  ];
  for (const [path, code] of refused) assert.equal((await lint(path, code)).length, 1, `${path} should be refused: ${code}`);
  const allowed: [string, string][] = [
    ["src/identify/x.ts", 'import { a } from "../formats/gguf.js";\nexport { a };\n'],
    ["src/operations/x.ts", 'import { a } from "../store/layout.js";\nimport { b } from "../hashing/index.js";\nexport { a, b };\n'],
    ["src/hub/x.ts", 'import { a } from "../operations/index.js";\nexport { a };\n'],
    ["src/cli/commands/x.ts", 'import { a } from "../../demo/samples.js";\nexport const b = () => import("../../operations/index.js");\nexport { a };\n'],
    ["src/server/x.ts", 'import { a } from "../watcher/x.js";\nexport { a };\n'],
  ];
  for (const [path, code] of allowed) assert.deepEqual(await lint(path, code), [], `${path} should pass: ${code}`);
});

test("the real tree keeps the layer order", async () => {
  // Only the layer rules run (the rest of `npm run lint` is not this test's to check): a third less time.
  const results = await new ESLint({ cwd: REPO_ROOT, ruleFilter: ({ ruleId }) => LAYER_RULES.has(ruleId) }).lintFiles(["src"]);
  assert.ok(results.length > 50, "the sources were linted");
  assert.deepEqual(layerErrors(results), []);
});
