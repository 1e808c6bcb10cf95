// Builds the static assets of the web pages into app/web/static/build/ (a build output, gitignored):
//   case-diagram.js   src/case-diagram.js with bpmn-js bundled in (one IIFE, no imports at run time)
//   case-diagram.css  the case-state markers and legend
//   diagram-js.css, bpmn-js.css   bpmn-js's own stylesheets, copied from the npm package
// Nothing is loaded from a CDN: the pages serve these files themselves.
import { build } from "esbuild";
import { copyFile, mkdir, rm } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const out = join(here, "..", "static", "build");
const assets = join(here, "node_modules", "bpmn-js", "dist", "assets");

await rm(out, { recursive: true, force: true });
await mkdir(out, { recursive: true });

await build({
  entryPoints: [join(here, "src", "case-diagram.js")],
  outfile: join(out, "case-diagram.js"),
  bundle: true,
  format: "iife",
  platform: "browser",
  target: ["es2020"],
  minify: true,
  legalComments: "eof",
  logLevel: "warning",
});

await copyFile(join(here, "src", "case-diagram.css"), join(out, "case-diagram.css"));
for (const name of ["diagram-js.css", "bpmn-js.css"]) {
  await copyFile(join(assets, name), join(out, name));
}
console.log(`built ${out}`);
