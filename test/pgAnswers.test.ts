/**
 * How the PostgreSQL worker's answers reach the caller's thread (a review of the PostgreSQL store,
 * item 7): CI once failed with "the connection's thread gave no answer" (the flag up, the port empty)
 * under heavy load, never reproduced. Now an answer that cannot be passed back is said as a short
 * failure (protocol.ts postAnswer), the caller looks again for a while before giving up and sets
 * aside answers to earlier requests (syncClient.ts receiveAnswer: requests carry a sequence number).
 */
import { MessageChannel, Worker } from 'node:worker_threads';
import { afterEach, describe, expect, it } from 'vitest';
import { isAnswer, postAnswer, type PgAnswer } from '../src/storage/postgres/protocol';
import { receiveAnswer } from '../src/storage/postgres/syncClient';

const channels: MessageChannel[] = [];
afterEach(() => {
  for (const c of channels.splice(0)) {
    c.port1.close();
    c.port2.close();
  }
});
const channel = (): MessageChannel => {
  const c = new MessageChannel();
  channels.push(c);
  return c;
};
const ok = (seq: number, n = 1): PgAnswer => ({ ok: true, results: [{ rows: [{ n }], rowCount: 1 }], seq });

describe('the worker posts its answer (postAnswer)', () => {
  it('an answer that cannot be cloned is passed back as a short failure to the same request', () => {
    const { port1, port2 } = channel();
    // A value structured clone refuses (a function), as a type parser could give.
    postAnswer(port2, { ok: true, results: [{ rows: [{ f: () => 1 }], rowCount: 1 }], seq: 3 });
    const { answer } = receiveAnswer(port1, 3, 100);
    expect(answer).toMatchObject({ ok: false, seq: 3, statement: 0 });
    expect(answer?.ok === false && answer.message).toMatch(/^the answer could not be passed back: .*could not be cloned/);
  });

  it('an answer that can be cloned is passed as it is', () => {
    const { port1, port2 } = channel();
    postAnswer(port2, ok(4));
    expect(receiveAnswer(port1, 4, 100).answer).toEqual(ok(4));
  });
});

describe('the caller takes its answer (receiveAnswer)', () => {
  it('an answer to an earlier request is set aside, never taken for this one', () => {
    const { port1, port2 } = channel();
    port2.postMessage(ok(1, 111));
    port2.postMessage(ok(2, 222));
    const got = receiveAnswer(port1, 2, 100);
    expect(got.answer).toEqual(ok(2, 222));
    expect(got.stale).toBe(1);
  });

  it('only a stale answer, or something that is no answer: none, after looking for the grace period, with what was set aside', () => {
    const { port1, port2 } = channel();
    port2.postMessage(ok(1));
    port2.postMessage({ hello: 'world' });
    const started = Date.now();
    const got = receiveAnswer(port1, 2, 60);
    expect(got.answer).toBeUndefined();
    expect(got.stale).toBe(2);
    expect(got.waitedMs).toBeGreaterThanOrEqual(60);
    expect(Date.now() - started).toBeLessThan(2000);
  });

  it('an answer that arrives after the flag (another thread posts it 50 ms late) is found by looking again', async () => {
    const { port1, port2 } = channel();
    const worker = new Worker(
      `const { workerData } = require('node:worker_threads');
       const { port } = workerData;
       port.on('message', () => setTimeout(() => { port.postMessage({ ok: true, results: [], seq: 7 }); port.close(); }, 50));
       port.postMessage('ready');`,
      { eval: true, workerData: { port: port2 }, transferList: [port2] },
    );
    try {
      await new Promise((resolve) => port1.once('message', resolve));
      port1.postMessage('go');
      // This thread blocks here (as SyncPgClient.call does) while the other one posts.
      const got = receiveAnswer(port1, 7, 1000);
      expect(got.answer).toEqual({ ok: true, results: [], seq: 7 });
      expect(got.waitedMs).toBeGreaterThanOrEqual(30);
    } finally {
      await worker.terminate();
    }
  });

  it('isAnswer checks what came', () => {
    expect(isAnswer(ok(1))).toBe(true);
    expect(isAnswer({ ok: false, message: 'x', statement: 0, seq: 1 })).toBe(true);
    expect(isAnswer({ ok: true, seq: 1 })).toBe(false);
    expect(isAnswer({ ok: false, seq: 1 })).toBe(false);
    expect(isAnswer({ ok: true, results: [] })).toBe(false);
    expect(isAnswer('ready')).toBe(false);
    expect(isAnswer(null)).toBe(false);
  });
});
