/**
 * A minimal POSIX tar (ustar) writer and reader for backup archives: regular files only, names of
 * at most 100 bytes, each file under 8 GiB. Contents are streamed, never held whole in memory, and
 * the archives are ordinary tar files (`tar -tf backup.tar` lists them).
 */
import { open, type FileHandle } from 'node:fs/promises';

const BLOCK = 512;
const MAX_NAME_BYTES = 100;
/** 11 octal digits. */
const MAX_SIZE = 8 ** 11 - 1;
const COPY_CHUNK = 1 << 20;

function octal(value: number, width: number): string {
  return `${value.toString(8).padStart(width - 1, '0')}\0`;
}

function header(name: string, size: number, mtimeSeconds: number): Buffer {
  const nameBytes = Buffer.from(name, 'utf8');
  if (nameBytes.length > MAX_NAME_BYTES) throw new Error(`tar: name longer than ${MAX_NAME_BYTES} bytes: ${name}`);
  if (size > MAX_SIZE) throw new Error(`tar: ${name} is ${size} bytes, over the ustar limit of 8 GiB`);
  const block = Buffer.alloc(BLOCK);
  nameBytes.copy(block, 0);
  block.write(octal(0o644, 8), 100, 'ascii');
  block.write(octal(0, 8), 108, 'ascii');
  block.write(octal(0, 8), 116, 'ascii');
  block.write(octal(size, 12), 124, 'ascii');
  block.write(octal(mtimeSeconds, 12), 136, 'ascii');
  block.write('0', 156, 'ascii');
  block.write('ustar\u000000', 257, 'ascii');
  block.write(octal(checksum(block), 7), 148, 'ascii');
  return block;
}

/** The sum of the header's bytes, its checksum field counted as spaces. */
function checksum(block: Buffer): number {
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 0x20 : block[i];
  return sum;
}

/** Writes all of `bytes` at `position` (a write may take less than it was given). */
async function writeAll(handle: FileHandle, bytes: Uint8Array, position: number): Promise<void> {
  for (let written = 0; written < bytes.length; ) {
    const result = await handle.write(bytes, written, bytes.length - written, position + written);
    written += result.bytesWritten;
  }
}

function padding(size: number): number {
  return (BLOCK - (size % BLOCK)) % BLOCK;
}

export class TarWriter {
  private position = 0;

  private constructor(private readonly handle: FileHandle) {}

  /** Creates (or truncates) the archive at `path`. */
  static async create(path: string): Promise<TarWriter> {
    return new TarWriter(await open(path, 'w'));
  }

  async addBytes(name: string, bytes: Uint8Array): Promise<void> {
    await this.write(header(name, bytes.length, Math.floor(Date.now() / 1000)));
    await this.write(bytes);
    await this.write(Buffer.alloc(padding(bytes.length)));
  }

  /** Copies the file at `source`, which must not change while it is copied. */
  async addFile(name: string, source: string): Promise<void> {
    const input = await open(source, 'r');
    try {
      const { size, mtime } = await input.stat();
      await this.write(header(name, size, Math.floor(mtime.getTime() / 1000)));
      const buffer = Buffer.alloc(Math.min(COPY_CHUNK, Math.max(size, 1)));
      for (let copied = 0; copied < size; ) {
        const { bytesRead } = await input.read(buffer, 0, Math.min(buffer.length, size - copied), copied);
        if (bytesRead === 0) throw new Error(`tar: ${source} shrank while it was copied`);
        await this.write(buffer.subarray(0, bytesRead));
        copied += bytesRead;
      }
      await this.write(Buffer.alloc(padding(size)));
    } finally {
      await input.close();
    }
  }

  /** Writes the end-of-archive blocks, flushes the archive to disk and closes it. */
  async finish(): Promise<void> {
    await this.write(Buffer.alloc(2 * BLOCK));
    await this.handle.sync();
    await this.handle.close();
  }

  /** Closes without finishing, after a failure. */
  async abandon(): Promise<void> {
    await this.handle.close();
  }

  private async write(bytes: Uint8Array): Promise<void> {
    await writeAll(this.handle, bytes, this.position);
    this.position += bytes.length;
  }
}

export interface TarEntry {
  readonly name: string;
  readonly size: number;
  /** The whole content (for small entries). */
  bytes(): Promise<Buffer>;
  /** Streams the content into a new file at `path`, flushed to disk. */
  copyTo(path: string): Promise<void>;
}

function field(block: Buffer, offset: number, length: number): string {
  const raw = block.subarray(offset, offset + length);
  const end = raw.indexOf(0);
  return raw.subarray(0, end === -1 ? length : end).toString('utf8');
}

function parseHeader(block: Buffer, offset: number): { name: string; size: number; type: string } {
  const stored = Number.parseInt(field(block, 148, 8).trim(), 8);
  if (stored !== checksum(block)) throw new Error(`not a tar archive, or a damaged one: bad header checksum at byte ${offset}`);
  const prefix = field(block, 345, 155);
  const name = field(block, 0, 100);
  return { name: prefix ? `${prefix}/${name}` : name, size: Number.parseInt(field(block, 124, 12).trim() || '0', 8), type: field(block, 156, 1) || '0' };
}

/** The regular files of the archive at `path`, in order (directories and links are skipped). */
export async function* readTar(path: string): AsyncGenerator<TarEntry> {
  const handle = await open(path, 'r');
  try {
    const { size: archiveSize } = await handle.stat();
    const block = Buffer.alloc(BLOCK);
    for (let offset = 0; offset + BLOCK <= archiveSize; ) {
      await handle.read(block, 0, BLOCK, offset);
      if (block.every((byte) => byte === 0)) return;
      const entry = parseHeader(block, offset);
      const start = offset + BLOCK;
      if (start + entry.size > archiveSize) throw new Error(`tar: ${entry.name} is cut short: the archive is truncated`);
      offset = start + entry.size + padding(entry.size);
      if (entry.type !== '0') continue;
      yield { name: entry.name, size: entry.size, bytes: () => readRange(handle, start, entry.size), copyTo: (target) => copyRange(handle, start, entry.size, target) };
    }
    throw new Error(`tar: ${path} has no end-of-archive marker: it is truncated`);
  } finally {
    await handle.close();
  }
}

async function readRange(handle: FileHandle, start: number, size: number): Promise<Buffer> {
  const buffer = Buffer.alloc(size);
  for (let done = 0; done < size; ) {
    const { bytesRead } = await handle.read(buffer, done, size - done, start + done);
    if (bytesRead === 0) throw new Error('tar: unexpected end of archive');
    done += bytesRead;
  }
  return buffer;
}

async function copyRange(handle: FileHandle, start: number, size: number, target: string): Promise<void> {
  const output = await open(target, 'wx');
  try {
    for (let done = 0; done < size; done += COPY_CHUNK) {
      const chunk = await readRange(handle, start + done, Math.min(COPY_CHUNK, size - done));
      await writeAll(output, chunk, done);
    }
    await output.sync();
  } finally {
    await output.close();
  }
}
