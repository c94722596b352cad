#!/usr/bin/env node
// The `tessera` command: runs the compiled CLI (build first with `npm run build -w server`).
import { cli } from "../dist/cli/index.js";

process.exitCode = await cli(process.argv.slice(2));
