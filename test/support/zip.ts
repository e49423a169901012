import type { Readable } from 'node:stream';
import { ZipFile } from 'yazl';

/** A zip as the History Server's `/logs` sends it: each entry a text, bytes or a stream; deflated unless `compress` is false. */
export function zip(entries: Record<string, string | Buffer | Readable>, compress = true): Promise<Buffer> {
  const z = new ZipFile();
  for (const [name, content] of Object.entries(entries)) {
    if (typeof content === 'string') z.addBuffer(Buffer.from(content), name, { compress });
    else if (Buffer.isBuffer(content)) z.addBuffer(content, name, { compress });
    else z.addReadStream(content, name, { compress });
  }
  z.end();
  const chunks: Buffer[] = [];
  return new Promise((resolve, reject) => {
    z.outputStream.on('data', (c: Buffer) => chunks.push(c));
    z.outputStream.on('end', () => resolve(Buffer.concat(chunks)));
    z.outputStream.on('error', reject);
  });
}
