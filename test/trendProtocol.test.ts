/** The Trend webview's protocol guards (issue 15): what each side accepts from the other, in plain Node. */
import { describe, expect, it } from 'vitest';
import { trendModel } from '../src/views/trend/model';
import { isHostMessage, isPageMessage, isPageState, isTrendMetric } from '../src/views/trend/protocol';
import { makeRecord } from './support/records';

const model = trendModel('Nightly', [
  makeRecord({ app_id: 'r1', app_name: 'Nightly', start_time: '2024-06-01T02:00:00.000Z', duration_ms: 100_000 }),
  makeRecord({ app_id: 'r2', app_name: 'Nightly', attempt_id: '2', start_time: '2024-06-02T02:00:00.000Z', duration_ms: 120_000, status: 'failed' }),
]);

describe('trend protocol', () => {
  it('accepts the host messages the host sends, after a JSON round trip as postMessage makes', () => {
    const sent = JSON.parse(JSON.stringify({ type: 'model', model, limit: null })) as unknown;
    expect(isHostMessage(sent)).toBe(true);
    expect(isHostMessage({ type: 'model', model, limit: 1000 })).toBe(true);
    expect(isHostMessage({ type: 'missing', appName: 'Nightly', message: 'No run of Nightly is in the database.' })).toBe(true);
  });

  it('rejects host messages that are not in the protocol or carry a malformed model', () => {
    for (const bad of [
      null,
      'model',
      { type: 'model' },
      { type: 'model', model, limit: 0 },
      { type: 'model', model, limit: '1000' },
      { type: 'model', model: { ...model, points: 'r1' }, limit: null },
      { type: 'model', model: { ...model, points: [{ ...model.points[0], app_id: '' }] }, limit: null },
      { type: 'model', model: { ...model, points: [{ ...model.points[0], at: 'yesterday' }] }, limit: null },
      { type: 'model', model: { ...model, points: [{ ...model.points[0], values: { ...model.points[0]!.values, duration_ms: '100 s' } }] }, limit: null },
      { type: 'model', model: { ...model, summary: { ...model.summary, cpu_time_ms: undefined } }, limit: null },
      // A run's colours are the model's too: a point without a known tone for its dot and its failed tasks is not one.
      { type: 'model', model: { ...model, points: [{ ...model.points[0], tone: undefined }] }, limit: null },
      { type: 'model', model: { ...model, points: [{ ...model.points[0], tone: 'red' }] }, limit: null },
      { type: 'model', model: { ...model, points: [{ ...model.points[0], failedTasksTone: undefined }] }, limit: null },
      { type: 'model', model: { ...model, points: [{ ...model.points[0], failedTasksTone: true }] }, limit: null },
      // The card's colour is the model's to give: a summary without a known tone is not a model.
      { type: 'model', model: { ...model, summary: { ...model.summary, duration_ms: { ...model.summary.duration_ms, tone: undefined } } }, limit: null },
      { type: 'model', model: { ...model, summary: { ...model.summary, duration_ms: { ...model.summary.duration_ms, tone: 'red' } } }, limit: null },
      { type: 'missing', appName: 'Nightly' },
      { type: 'openRun', key: { app_id: 'r1', attempt_id: null } },
    ]) {
      expect(isHostMessage(bad), JSON.stringify(bad)).toBe(false);
    }
  });

  it('accepts the page messages: ready, and openRun with a job key', () => {
    expect(isPageMessage({ type: 'ready' })).toBe(true);
    expect(isPageMessage({ type: 'openRun', key: { app_id: 'r1', attempt_id: null } })).toBe(true);
    expect(isPageMessage({ type: 'openRun', key: { app_id: 'r2', attempt_id: '2' } })).toBe(true);
    for (const bad of [undefined, {}, { type: 'openRun' }, { type: 'openRun', key: { app_id: '', attempt_id: null } }, { type: 'openRun', key: { app_id: 'r1', attempt_id: 2 } }, { type: 'openJson' }, { type: 'model', model }]) {
      expect(isPageMessage(bad), JSON.stringify(bad)).toBe(false);
    }
  });

  it('accepts a saved state with a name and a known metric, and nothing else', () => {
    expect(isPageState({ appName: 'Nightly', metric: 'duration_ms' })).toBe(true);
    expect(isPageState({ appName: 'Nightly', metric: 'failed_tasks' })).toBe(true);
    for (const bad of [undefined, null, { appName: 'Nightly' }, { appName: '', metric: 'duration_ms' }, { appName: 'Nightly', metric: 'app_name' }, { key: { app_id: 'r1', attempt_id: null }, sort: 'duration' }]) {
      expect(isPageState(bad), JSON.stringify(bad)).toBe(false);
    }
    expect(isTrendMetric('shuffle_read_bytes')).toBe(true);
    expect(isTrendMetric('toString')).toBe(false);
  });
});
