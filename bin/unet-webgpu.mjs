#!/usr/bin/env node
// Runs the CLI from dist/ when built, else straight from the TypeScript sources through tsx (a fresh clone).
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const built = join(root, 'dist', 'cli.js');
const src = join(root, 'src', 'cli.ts');
if (existsSync(src) && (process.env.UNET_WEBGPU_FROM_SRC === '1' || !existsSync(built))) {
  const { register } = await import('tsx/esm/api');
  register();
  await import(pathToFileURL(src).href);
} else {
  await import(pathToFileURL(built).href);
}
