// One lint configuration for the whole tree: typescript-eslint on the server, bench and scripts,
// eslint-plugin-vue on the web UI; formatting is Prettier's (eslint-config-prettier turns off
// every rule that would fight it). `npm run lint` runs both.
import js from "@eslint/js";
import prettier from "eslint-config-prettier";
import vue from "eslint-plugin-vue";
import globals from "globals";
import tseslint from "typescript-eslint";

export default tseslint.config(
  { ignores: ["**/node_modules/", "**/dist/", "**/data/", "coverage/", "web/e2e/screenshots/", "bench/results/"] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  ...vue.configs["flat/recommended"],
  {
    files: ["**/*.vue"],
    languageOptions: { parserOptions: { parser: tseslint.parser, extraFileExtensions: [".vue"] } },
  },
  {
    languageOptions: { globals: { ...globals.node }, ecmaVersion: 2023, sourceType: "module" },
    rules: {
      "@typescript-eslint/no-unused-vars": [
        "error",
        { argsIgnorePattern: "^_", varsIgnorePattern: "^_", caughtErrors: "none" },
      ],
      "@typescript-eslint/consistent-type-imports": ["error", { fixStyle: "inline-type-imports" }],
      "@typescript-eslint/no-explicit-any": "error",
      "no-restricted-syntax": [
        "error",
        {
          // Factory closures are destructured by their callers; `this` inside them is undefined then.
          selector: "ObjectExpression > Property > FunctionExpression ThisExpression",
          message: "Call the closure's own functions by name, not through `this` (it breaks on destructuring).",
        },
      ],
    },
  },
  {
    files: ["web/src/**/*.{ts,vue}", "web/e2e/**/*.ts"],
    languageOptions: { globals: { ...globals.browser, ...globals.node } },
  },
  {
    files: ["server/src/db/migrations/**/*.ts"],
    rules: { "@typescript-eslint/no-explicit-any": "off" },
  },
  prettier,
  {
    // After Prettier's config, which turns max-len off: Prettier wraps code, this catches long strings and comments.
    rules: { "max-len": ["error", { code: 120, ignoreUrls: true }] },
  },
);
