/** What decode() hands on before it stops, and how it stops: the codec tests' view of a decoder. */
import { expect } from 'vitest';
import { CodecError, decode, type Codec } from '../../src/collectors/eventlog/codecs/index';

export interface Outcome {
  out: Buffer;
  error: unknown;
}

/** Everything decode() yields from `input` (copied: decoders may reuse their buffers), and the error it ended with, if any. */
export async function decodeOutcome(codec: Codec, input: AsyncIterable<Buffer>, file: string): Promise<Outcome> {
  const parts: Buffer[] = [];
  try {
    for await (const part of decode(codec, input, file)) parts.push(Buffer.from(part));
    return { out: Buffer.concat(parts), error: null };
  } catch (error) {
    return { out: Buffer.concat(parts), error };
  }
}

/** The outcome's error, which must be a CodecError. */
export function codecError(outcome: Outcome): CodecError {
  expect(outcome.error).toBeInstanceOf(CodecError);
  return outcome.error as CodecError;
}
