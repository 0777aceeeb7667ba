// Validates every CloudNativePG Cluster in the given YAML files with the validator that @kubernetes-models generates
// from CloudNativePG's CRD (types, enums, required fields). Prints each problem; exits 1 when there is one, 2 when a
// file holds no Cluster at all (nothing checked is not a pass).
import { readFileSync } from "node:fs";
import { parseAllDocuments } from "yaml";
import { Cluster } from "@kubernetes-models/cloudnative-pg/postgresql.cnpg.io/v1/Cluster";

let checked = 0;
let failed = 0;
for (const path of process.argv.slice(2)) {
  for (const doc of parseAllDocuments(readFileSync(path, "utf8"))) {
    const value = doc.toJS();
    if (!value || value.apiVersion !== Cluster.apiVersion || value.kind !== Cluster.kind) continue;
    checked += 1;
    try {
      new Cluster(value).validate();
      console.log(`ok ${path} Cluster/${value.metadata?.name}`);
    } catch (error) {
      failed += 1;
      console.log(`invalid ${path} Cluster/${value.metadata?.name}: ${error.message}`);
    }
  }
}
if (checked === 0) {
  console.log("no CloudNativePG Cluster found");
  process.exit(2);
}
process.exit(failed ? 1 : 0);
