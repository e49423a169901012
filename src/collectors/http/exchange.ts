/**
 * One HTTP request on an undici dispatcher, its answer's body handed to a sink chunk by chunk.
 *
 * The sink is called synchronously for every chunk and the handler never asks undici to pause. This
 * is deliberate: undici up to 7.30 (and 6.29.1, ours) crashes the process with an uncatchable
 * `AssertionError: assert(!this.paused)` when a server closes the connection (`Connection: close`,
 * or a body that ends at EOF) while the parser is paused by backpressure (nodejs/undici#5360; issue
 * 13 item 1: a History Server doing so killed `collect --mode eventlog`). The fix (nodejs/undici#5389,
 * #5474) is only in undici 8.4.1 and later, which need Node >= 22.19, and VS Code 1.99's extension host
 * runs Node 20. A sink that keeps up instead (an answer is capped in memory; a download is written
 * with writeSync, so a slow disk holds the event loop and TCP pushes back on the server) leaves undici
 * nothing to pause.
 */
import { getGlobalDispatcher, type Dispatcher } from 'undici';

export interface Head {
  status: number;
  /** Lower-case names; a repeated header is an array. */
  headers: Record<string, string | string[]>;
}

/**
 * Receives a body. `data` may throw to end the exchange with that error, or return false when it
 * has read enough (the connection is then dropped and `end` still gives the result).
 */
export interface Sink<T> {
  data(chunk: Buffer): boolean;
  end(): T;
  /** Called once when the exchange settles, whichever way (close a file). */
  release?(): void;
}

/** The sink threw (an answer over a limit, a full disk): the answer, not the network, failed. */
export class SinkFailure extends Error {
  constructor(readonly error: Error) {
    super(error.message);
    this.name = 'SinkFailure';
  }
}

export interface ExchangeRequest {
  url: URL;
  method: 'GET' | 'POST';
  headers: Record<string, string>;
  body: string | undefined;
  dispatcher: Dispatcher | undefined;
  signal: AbortSignal;
}

/** A sink said it had read enough: not an error. */
class Enough extends Error {}

function parseHeaders(raw: Buffer[]): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i]!.toString('latin1').toLowerCase();
    const value = raw[i + 1]!.toString('latin1');
    const had = out[name];
    out[name] = had === undefined ? value : Array.isArray(had) ? [...had, value] : [had, value];
  }
  return out;
}

/**
 * Sends the request; `sinkFor` picks the sink once the status and headers are known (it may throw,
 * e.g. for an announced length over a limit). Rejects with the signal's reason as soon as it aborts,
 * with a `SinkFailure` when the sink threw, otherwise with undici's error.
 */
export function exchange<T>(req: ExchangeRequest, sinkFor: (head: Head) => Sink<T>): Promise<{ head: Head; result: T }> {
  return new Promise((resolve, reject) => {
    const { signal } = req;
    let settled = false;
    let abortRequest: ((err: Error) => void) | null = null;
    let stoppedBy: Error | null = null;
    let head: Head | null = null;
    let sink: Sink<T> | null = null;

    const finish = (fn: () => void): void => {
      if (settled) return;
      settled = true;
      signal.removeEventListener('abort', onAbort);
      try {
        sink?.release?.();
      } finally {
        fn();
      }
    };
    const fail = (err: Error): void => finish(() => reject(err));
    const stop = (err: Error): void => {
      stoppedBy ??= err;
      abortRequest?.(err);
    };
    const complete = (): void => {
      try {
        const result = sink!.end();
        finish(() => resolve({ head: head!, result }));
      } catch (err) {
        fail(new SinkFailure(err as Error));
      }
    };
    function onAbort(): void {
      const reason = signal.reason as Error;
      stop(reason);
      fail(reason);
    }

    if (signal.aborted) {
      reject(signal.reason as Error);
      return;
    }
    signal.addEventListener('abort', onAbort, { once: true });

    const handler: Dispatcher.DispatchHandlers = {
      onConnect(abort) {
        abortRequest = abort;
        if (stoppedBy) abort(stoppedBy);
      },
      onHeaders(status, rawHeaders) {
        // 1xx: informational, the real answer follows.
        if (status < 200) return true;
        head = { status, headers: parseHeaders(rawHeaders) };
        try {
          sink = sinkFor(head);
        } catch (err) {
          stop(new SinkFailure(err as Error));
        }
        return true;
      },
      onData(chunk) {
        if (stoppedBy || sink === null) return true;
        try {
          if (!sink.data(chunk)) stop(new Enough());
        } catch (err) {
          stop(new SinkFailure(err as Error));
        }
        // Never false: see the file's comment.
        return true;
      },
      onComplete() {
        complete();
      },
      onError(err) {
        if (stoppedBy instanceof Enough && sink !== null) complete();
        else fail(stoppedBy ?? err);
      },
    };
    const { url } = req;
    (req.dispatcher ?? getGlobalDispatcher()).dispatch({ origin: url.origin, path: `${url.pathname}${url.search}`, method: req.method, headers: req.headers, body: req.body }, handler);
  });
}
