// Lint: eslint's and typescript-eslint's recommended rules, on sources, tests and benchmarks; and the layer
// rule: a folder of src/ imports only the folders below it (README "Architecture"), so behaviour stays where
// its folder says. Checked for static imports and re-exports (no-restricted-imports) and for `import("...")`
// (no-restricted-syntax), type-only imports included: a type from a higher layer is a dependency too.
import js from "@eslint/js";
import tseslint from "typescript-eslint";

// Each folder of src/ and the folders it may import (besides itself). Anything else in src/ is off limits.
const BELOW_FEATURES = ["operations", "store", "index", "identify", "formats", "hashing", "core"];
const FEATURES = ["hub", "mapper", "watcher", "merge", "doctor"];
const LAYERS = {
  core: [],
  formats: ["core"],
  identify: ["formats", "core"],
  hashing: ["core"],
  index: ["core"],
  store: ["index", "identify", "formats", "hashing", "core"],
  operations: ["store", "index", "identify", "formats", "hashing", "core"],
  // A feature never imports another feature: features meet through operations.
  ...Object.fromEntries(FEATURES.map((f) => [f, BELOW_FEATURES])),
  demo: [...FEATURES, ...BELOW_FEATURES],
  server: ["demo", ...FEATURES, ...BELOW_FEATURES],
  // `mlib serve` starts the server: the CLI is the outermost adapter.
  cli: ["server", "demo", ...FEATURES, ...BELOW_FEATURES],
};

function layerRules(folder, allowed) {
  const forbidden = Object.keys(LAYERS).filter((f) => f !== folder && !allowed.includes(f));
  const message = `${folder}/ may import only ${allowed.length > 0 ? allowed.join(", ") : "node and packages (it is the lowest layer)"} (layer order: README "Architecture")`;
  // `../x/...`, `../../x/...` (from a sub-folder), and src/index.ts (the public API, for users of the package only).
  const upward = `^(\\.\\./)+(${forbidden.join("|")})(/|$)`;
  const publicApi = "^(\\.\\./)+index(\\.js)?$";
  return {
    files: [`src/${folder}/**/*.ts`],
    rules: {
      "no-restricted-imports": [
        "error",
        {
          patterns: [
            ...(forbidden.length > 0 ? [{ regex: upward, message }] : []),
            { regex: publicApi, message: "src/index.ts is the package's public API: import the module itself" },
          ],
        },
      ],
      "no-restricted-syntax": [
        "error",
        ...(forbidden.length > 0 ? [{ selector: `ImportExpression[source.value=/${upward.replace(/\//g, "\\/")}/]`, message }] : []),
      ],
    },
  };
}

export default tseslint.config(
  { ignores: ["dist/**", "node_modules/**", ".bench-data/**"] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      globals: { process: "readonly", console: "readonly", Buffer: "readonly", URL: "readonly", setTimeout: "readonly", clearTimeout: "readonly", setInterval: "readonly", clearInterval: "readonly", setImmediate: "readonly", performance: "readonly", AbortController: "readonly", fetch: "readonly", TextDecoder: "readonly", TextEncoder: "readonly" },
    },
    rules: {
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_", caughtErrors: "none" }],
      "no-constant-condition": ["error", { checkLoops: false }],
    },
  },
  {
    // The web page's plain ES modules run in the browser.
    files: ["src/server/web/**/*.js"],
    languageOptions: {
      globals: { document: "readonly", window: "readonly", history: "readonly", location: "readonly", EventSource: "readonly", Node: "readonly", URLSearchParams: "readonly" },
    },
  },
  ...Object.entries(LAYERS).map(([folder, allowed]) => layerRules(folder, allowed)),
);
