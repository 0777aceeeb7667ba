// Parses AsyncAPI documents with the official parser (@asyncapi/parser, pinned in package-lock.json) and exits
// non-zero when any has an error-severity diagnostic. Every diagnostic is printed, one JSON object a line, so the
// pytest test can show them. Usage: node validate.mjs FILE...
import { readFile } from "node:fs/promises";
import { resolve } from "node:path";
import { Parser, fromFile, DiagnosticSeverity } from "@asyncapi/parser";

const parser = new Parser();
const severityName = (s) => Object.keys(DiagnosticSeverity).find((k) => DiagnosticSeverity[k] === s) ?? String(s);

let failed = false;
const files = process.argv.slice(2);
if (files.length === 0) {
  console.error("usage: node validate.mjs FILE...");
  process.exit(2);
}
for (const file of files) {
  await readFile(file); // a missing file is an error here, not an empty document
  const { document, diagnostics } = await fromFile(parser, resolve(file)).parse();
  const errors = diagnostics.filter((d) => d.severity === DiagnosticSeverity.Error);
  for (const d of diagnostics) {
    console.log(JSON.stringify({
      file,
      severity: severityName(d.severity),
      code: d.code,
      message: d.message,
      path: (d.path ?? []).join("."),
    }));
  }
  if (document === undefined || errors.length > 0) {
    failed = true;
    console.error(`${file}: ${errors.length} error(s)${document === undefined ? ", not parsed" : ""}`);
  } else {
    console.error(`${file}: valid AsyncAPI ${document.version()} (${diagnostics.length} non-error diagnostics)`);
  }
}
process.exit(failed ? 1 : 0);
