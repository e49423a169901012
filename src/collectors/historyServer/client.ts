/** The Spark History Server's REST API (`/api/v1`) through the shared JSON client. */
import { JsonClient, type HttpAuth, type JsonClientOptions } from '../http/jsonClient';

export type HistoryServerAuth = Extract<HttpAuth, { type: 'basic' | 'bearer' }>;

export interface ClientOptions extends Omit<JsonClientOptions, 'baseUrl'> {
  /** The server's base URL, e.g. `http://host:18080` (`/api/v1` is added), or one that already ends in `/api/v1`. */
  url: string;
}

export class HistoryServerClient extends JsonClient {
  constructor(options: ClientOptions) {
    const url = new URL(options.url);
    url.search = '';
    url.hash = '';
    const base = url.toString().replace(/\/+$/, '');
    super({ ...options, baseUrl: /\/api\/v1$/.test(base) ? base : `${base}/api/v1` });
  }
}
