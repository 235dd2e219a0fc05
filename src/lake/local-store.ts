/**
 * The local lake (LAKE_DIR, when S3_BUCKET is unset): a directory laid out like the bucket.
 * Data objects are create-only (a temporary file hard-linked to its name); other writes are a
 * temporary file renamed into place, so a reader never sees half an object.
 */
import { mkdir, readFile, rename, writeFile, access, readdir, open, stat, rm, link } from 'node:fs/promises';
import { constants, createWriteStream } from 'node:fs';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { LakeError } from '../errors.js';
import { byteCounter, type ObjectHead, type ObjectStore, type PutStreamOptions } from './object-store.js';

/** Directory under LAKE_DIR holding the user metadata of local objects. */
const LOCAL_META_DIR = '.meta';

/** A local directory laid out like the bucket. */
export class LocalStore implements ObjectStore {
  readonly location: string;
  private readonly root: string;
  constructor(dir: string) {
    this.root = path.resolve(dir);
    this.location = this.root;
  }

  async check(): Promise<void> {
    try {
      await mkdir(this.root, { recursive: true });
      await access(this.root, constants.W_OK);
    } catch (err) {
      throw new LakeError(`local lake directory ${this.root} (LAKE_DIR) is not writable`, { cause: err });
    }
  }

  async put(key: string, body: Uint8Array | string): Promise<void> {
    const file = this.resolve(key);
    await mkdir(path.dirname(file), { recursive: true });
    const tmp = LocalStore.tmpName(file);
    await writeFile(tmp, body);
    await rename(tmp, file);
  }

  /** A temporary file beside `file`, unique to this call (ignored by {@link list}). */
  private static tmpName(file: string): string {
    return `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  }

  async putIfAbsent(key: string, body: Uint8Array | string): Promise<'created' | 'exists'> {
    const file = this.resolve(key);
    await mkdir(path.dirname(file), { recursive: true });
    const tmp = LocalStore.tmpName(file);
    await writeFile(tmp, body);
    try {
      // link() creates the name atomically or fails with EEXIST: an existing object is never replaced.
      await link(tmp, file);
      return 'created';
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') return 'exists';
      throw err;
    } finally {
      await rm(tmp, { force: true });
    }
  }

  async get(key: string): Promise<Buffer> {
    return readFile(this.resolve(key));
  }

  async getStream(key: string): Promise<Readable> {
    // Opening first makes a missing file reject here (ENOENT) rather than on the stream.
    const handle = await open(this.resolve(key), 'r');
    return handle.createReadStream();
  }

  /** Metadata lives beside the lake, in `<LAKE_DIR>/.meta/<key>.json` (not listed). */
  async head(key: string): Promise<ObjectHead | undefined> {
    let info;
    try {
      info = await stat(this.resolve(key));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
    let metadata: Record<string, string> = {};
    try {
      metadata = JSON.parse(await readFile(this.metaFile(key), 'utf8')) as Record<string, string>;
    } catch {
      /* an object stored by put() has no metadata */
    }
    return { size: info.size, metadata, checksumSha256: undefined, lastModified: info.mtime };
  }

  async putStream(key: string, body: Readable, options: PutStreamOptions): Promise<void> {
    const file = this.resolve(key);
    const meta = this.metaFile(key);
    await mkdir(path.dirname(file), { recursive: true });
    await mkdir(path.dirname(meta), { recursive: true });
    const tmp = LocalStore.tmpName(file);
    try {
      await pipeline(body, byteCounter(options.onProgress), createWriteStream(tmp));
      await writeFile(meta, JSON.stringify(options.metadata));
      await rename(tmp, file);
    } catch (err) {
      await rm(tmp, { force: true });
      throw err;
    }
  }

  private metaFile(key: string): string {
    return path.join(this.root, LOCAL_META_DIR, `${path.relative(this.root, this.resolve(key))}.json`);
  }

  async list(prefix: string): Promise<string[]> {
    const out: string[] = [];
    const walk = async (dir: string): Promise<void> => {
      let entries;
      try {
        entries = await readdir(dir, { withFileTypes: true });
      } catch {
        return;
      }
      for (const e of entries) {
        const full = path.join(dir, e.name);
        if (dir === this.root && e.name === LOCAL_META_DIR) continue;
        if (e.isDirectory()) await walk(full);
        else if (!e.name.endsWith('.tmp')) {
          const key = path.relative(this.root, full).split(path.sep).join('/');
          if (key.startsWith(prefix)) out.push(key);
        }
      }
    };
    // Only the directory the prefix names (its part up to the last "/") can hold its keys.
    const slash = prefix.lastIndexOf('/');
    const start = slash > 0 ? path.resolve(this.root, prefix.slice(0, slash)) : this.root;
    await walk(start.startsWith(this.root) ? start : this.root);
    return out.sort();
  }

  private resolve(key: string): string {
    const file = path.resolve(this.root, key);
    if (!file.startsWith(this.root + path.sep)) throw new LakeError(`object key "${key}" escapes ${this.root}`);
    return file;
  }
}
