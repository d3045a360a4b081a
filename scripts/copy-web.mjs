// tsc compiles only TypeScript: the web page's files (plain ES modules, CSS, HTML) are copied beside the
// compiled server, where it looks for them (dist/server/web/).
import { cpSync, existsSync, rmSync } from "node:fs";
const from = new URL("../src/server/web/", import.meta.url);
const to = new URL("../dist/server/web/", import.meta.url);
if (existsSync(to)) rmSync(to, { recursive: true });
cpSync(from, to, { recursive: true });
