// Lint: eslint's and typescript-eslint's recommended rules, on sources, tests and benchmarks.
import js from "@eslint/js";
import tseslint from "typescript-eslint";

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
);
