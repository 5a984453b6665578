// The package's entry, as asc resolves it ("<package>/index.ts"): everything is in
// assembly/gateway.ts. (The main file is not assembly/index.ts: json-as's transform treats any
// "assembly/index" source as a library, see README.md.)
export * from "./assembly/gateway";
