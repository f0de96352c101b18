// `npm run demo`: bundles the demo page and its worker with esbuild (from the package's browser entry) and serves
// them with the example data and the default checkpoint on localhost (node:http, nothing else). The tests import
// buildDemo / serveDemo. Flags: --port N (default 8080; 0 picks a free one), --host H (127.0.0.1), --build-only.
import { build, type BuildOptions, type Metafile } from 'esbuild';
import { readFile, stat } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { dirname, extname, join, normalize, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { gzipSync } from 'node:zlib';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** One bundled file in memory. */
export interface BundleFile {
  readonly path: string;
  readonly bytes: Uint8Array;
  readonly gzipBytes: number;
}

export interface DemoBundle {
  /** page.js and worker.js (and their source maps), by URL path ('/page.js'). */
  readonly files: ReadonlyMap<string, BundleFile>;
  /** Bytes of the embedded WGSL in worker.js (esbuild's metafile: src/kernels/shaders.gen.ts). */
  readonly wgslBytes: number;
  readonly metafile: Metafile;
}

/**
 * The esbuild options of the demo: ES modules for browsers, 'unet-webgpu' resolved to the sources of this clone
 * (an installed package resolves it through its `exports` to dist/index.js, the same browser-safe entry).
 */
export function demoBuildOptions(): BuildOptions {
  return {
    entryPoints: { page: join(ROOT, 'demo/page.ts'), worker: join(ROOT, 'demo/worker.ts') },
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    minify: true,
    sourcemap: 'external',
    alias: { 'unet-webgpu': join(ROOT, 'src/index.ts') },
    outdir: '/',
    write: false,
    metafile: true,
    logLevel: 'warning',
  };
}

/** Bundles the demo in memory. */
export async function buildDemo(): Promise<DemoBundle> {
  const r = await build(demoBuildOptions());
  const files = new Map<string, BundleFile>();
  for (const f of r.outputFiles ?? []) {
    const path = '/' + f.path.split(sep).pop()!;
    files.set(path, { path, bytes: f.contents, gzipBytes: gzipSync(f.contents, { level: 9 }).length });
  }
  let wgslBytes = 0;
  for (const o of Object.values(r.metafile!.outputs)) {
    for (const [input, v] of Object.entries(o.inputs)) if (input.endsWith('shaders.gen.ts')) wgslBytes = Math.max(wgslBytes, v.bytesInOutput);
  }
  return { files, wgslBytes, metafile: r.metafile! };
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.map': 'application/json',
  '.png': 'image/png',
  '.svg': 'image/svg+xml',
  '.json': 'application/json',
  '.safetensors': 'application/octet-stream',
};

/** Folders the server reads files from, by URL prefix. */
const STATIC: [string, string][] = [
  ['/models/', join(ROOT, 'demo/models')],
  ['/examples/', join(ROOT, 'examples')],
  ['/', join(ROOT, 'demo')],
];
const STATIC_EXT = new Set(['.html', '.css', '.png', '.safetensors', '.svg', '.json', '.md']);

/** Serves the bundle and the static files on host:port; resolves with the server and its URL. */
export async function serveDemo(bundle: DemoBundle, { port = 8080, host = '127.0.0.1' } = {}): Promise<{ server: Server; url: string }> {
  const server = createServer(async (req, res) => {
    try {
      const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
      const built = bundle.files.get(path);
      let body: Uint8Array | null = built?.bytes ?? null;
      let type = TYPES[extname(path)] ?? 'application/octet-stream';
      if (!body) {
        const rel = path === '/' ? '/index.html' : path;
        const [prefix, dir] = STATIC.find(([p]) => rel.startsWith(p))!;
        const file = normalize(join(dir, rel.slice(prefix.length)));
        if (!file.startsWith(dir + sep) || !STATIC_EXT.has(extname(file)) || !(await stat(file).catch(() => null))?.isFile()) {
          res.writeHead(404, { 'content-type': 'text/plain' }).end(`not found: ${path}\n`);
          return;
        }
        body = await readFile(file);
        type = TYPES[extname(file)] ?? type;
      }
      res.writeHead(200, { 'content-type': type, 'content-length': body.byteLength, 'cache-control': 'no-store' }).end(body);
    } catch (e) {
      res.writeHead(500, { 'content-type': 'text/plain' }).end(String(e));
    }
  });
  await new Promise<void>((ok, bad) => server.once('error', bad).listen(port, host, () => ok()));
  const a = server.address() as AddressInfo;
  return { server, url: `http://${host}:${a.port}/` };
}

/** A size line for logs and the README. */
export function bundleReport(b: DemoBundle): string {
  const kb = (n: number) => `${(n / 1024).toFixed(0)} KB`;
  return [...b.files.values()]
    .filter((f) => f.path.endsWith('.js'))
    .map((f) => `${f.path.slice(1)} ${kb(f.bytes.byteLength)} (${kb(f.gzipBytes)} gzipped)`)
    .concat(`embedded WGSL ${kb(b.wgslBytes)}`)
    .join(', ');
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const { values } = parseArgs({ options: { port: { type: 'string', default: '8080' }, host: { type: 'string', default: '127.0.0.1' }, 'build-only': { type: 'boolean', default: false } } });
  const t0 = performance.now();
  const bundle = await buildDemo();
  console.log(`demo bundled in ${(performance.now() - t0).toFixed(0)} ms: ${bundleReport(bundle)}`);
  if (!values['build-only']) {
    const { url } = await serveDemo(bundle, { port: Number(values.port), host: values.host });
    console.log(`serving the demo at ${url}  (Ctrl-C to stop; needs a browser with WebGPU: Chrome/Edge 113+, or chromium --enable-unsafe-webgpu)`);
  }
}
