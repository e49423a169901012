/** A source whose ${env:VAR} is not set is named once, in the CLI and in the editor alike (they add the source). */
import { writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from '../src/cli/main';
import { tempDir } from './support/tmp';

describe('an unset ${env:VAR} secret', () => {
  it('names its source once: "source hs: token refers to …", not "source hs: source hs: token …"', async () => {
    const dir = tempDir();
    const config = path.join(dir, 'spark-optimizer.yaml');
    writeFileSync(config, 'sources:\n  - name: hs\n    type: history_server\n    history_server_url: http://127.0.0.1:9/\n    token: ${env:SPARK_OPTIMIZER_TEST_UNSET_TOKEN}\n');
    const err: string[] = [];
    const code = await main(['collect', '--config', config, '--dry-run'], { out: () => undefined, err: (s) => err.push(s), isTTY: false, cwd: dir });
    expect(code).toBe(1);
    expect(err.join('\n')).toContain('spark-optimizer: source hs: token refers to environment variable SPARK_OPTIMIZER_TEST_UNSET_TOKEN, which is not set; skipped.');
  });
});
