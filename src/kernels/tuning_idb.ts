// Tuning tables kept in a browser's IndexedDB (database 'unet-webgpu', object store 'tuning', one table per adapter
// fingerprint): what the tuning file is in Node (src/node.ts), for pages and workers. Only touches indexedDB when
// called; where there is none (Node) each function is an ArgumentError saying so.
import { ArgumentError } from '../core/errors.js';
import type { TuningTable } from './tuning.js';

const DB = 'unet-webgpu';
const STORE = 'tuning';

function idb(op: string): IDBFactory {
  const f = (globalThis as { indexedDB?: IDBFactory }).indexedDB;
  if (!f) throw new ArgumentError(op, 'IndexedDB is not available here (in Node the tuning table is a file: unet-webgpu kernels tune, writeTuningTable)');
  return f;
}

const done = <T>(r: IDBRequest<T>): Promise<T> => new Promise((res, rej) => {
  r.onsuccess = () => res(r.result);
  r.onerror = () => rej(r.error);
});

async function withStore<T>(op: string, mode: IDBTransactionMode, f: (s: IDBObjectStore) => IDBRequest<T>): Promise<T> {
  const open = idb(op).open(DB, 1);
  open.onupgradeneeded = () => open.result.createObjectStore(STORE);
  const db = await done(open);
  try {
    const tx = db.transaction(STORE, mode);
    const out = await done(f(tx.objectStore(STORE)));
    await new Promise<void>((res, rej) => {
      tx.oncomplete = () => res();
      tx.onerror = () => rej(tx.error);
      tx.onabort = () => rej(tx.error);
    });
    return out;
  } finally {
    db.close();
  }
}

/** Stores `table` under its fingerprint (replacing that adapter's previous table). */
export async function saveTuningToIndexedDB(table: TuningTable): Promise<void> {
  if (!table || typeof table.fingerprint !== 'string' || typeof table.entries !== 'object') throw new ArgumentError('saveTuningToIndexedDB', 'expected a tuning table ({ fingerprint, measuredAt, entries })');
  await withStore('saveTuningToIndexedDB', 'readwrite', (s) => s.put(JSON.parse(JSON.stringify(table)), table.fingerprint));
}

/** The stored table of the adapter with this fingerprint (adapterFingerprint(dev)), or null. */
export async function loadTuningFromIndexedDB(fingerprint: string): Promise<TuningTable | null> {
  const t = await withStore('loadTuningFromIndexedDB', 'readonly', (s) => s.get(fingerprint) as IDBRequest<TuningTable | undefined>);
  return t && t.fingerprint === fingerprint ? t : null;
}

/** Removes every stored table; resolves with how many there were. */
export async function clearTuningInIndexedDB(): Promise<number> {
  const n = await withStore('clearTuningInIndexedDB', 'readonly', (s) => s.count());
  await withStore('clearTuningInIndexedDB', 'readwrite', (s) => s.clear());
  return n;
}
