#!/usr/bin/env node
// In a clone (tsx installed as a dev dependency) the CLI runs straight from the TypeScript sources, so it is
// never stale; an installed package runs the compiled dist/.
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const built = join(root, 'dist', 'cli', 'main.js');
const src = join(root, 'src', 'cli', 'main.ts');
let tsx = null;
if (existsSync(src) && process.env.UNET_WEBGPU_FROM_DIST !== '1') tsx = await import('tsx/esm/api').catch(() => null);
if (tsx) {
  tsx.register();
  await import(pathToFileURL(src).href);
} else {
  await import(pathToFileURL(built).href);
}
