/**
 * The record model's own rules (src/collectors/record.ts), one test per rule, so that a broken
 * rule fails a test that names it (issue 19; `npm run mutate` measures it, TESTING.md).
 */
import { describe, expect, it } from 'vitest';
import { REDACTED, redactSecrets } from '../src/collectors/record';

describe('redactSecrets', () => {
  // Each alternative of the key pattern alone, with a value that says nothing secret.
  it.each([
    'spark.my.secret',
    'spark.ssl.keyStorePassword',
    'spark.db.passwd',
    'spark.service.token',
    'spark.hadoop.fs.gs.auth.service.account.json.keyfile.credential',
    'spark.hadoop.fs.s3a.access.key',
    'spark.hadoop.fs.s3a.access_key',
    'spark.hadoop.fs.s3a.access-key',
    'spark.hadoop.fs.s3a.accesskey',
    'spark.ssh.private.key',
    'spark.ssh.private_key',
    'spark.ssh.privatekey',
    'spark.request.signature',
    'spark.authenticate',
    'spark.hadoop.fs.azure.account.key.myaccount.blob.core.windows.net',
    'spark.hadoop.fs.azure.sas.mycontainer.myaccount.blob.core.windows.net',
    'SPARK.SERVICE.TOKEN',
  ])('redacts the key %s', (key) => {
    expect(redactSecrets({ [key]: 'plain-value-42', 'spark.app.name': 'etl' })).toEqual({ [key]: REDACTED, 'spark.app.name': 'etl' });
  });

  // Each alternative of the value pattern alone (Spark's default spark.redaction.regex), under an innocent key.
  it.each(['-Dsecret=abc', '-Ddb.password=abc', '-Dapi.token=abc', '-Dfs.s3a.access.key=abc', '-DPASSWORD=abc'])('redacts a value holding %s', (value) => {
    expect(redactSecrets({ 'spark.driver.extraJavaOptions': value, 'spark.executor.memory': '4g' })).toEqual({ 'spark.driver.extraJavaOptions': REDACTED, 'spark.executor.memory': '4g' });
  });

  it('keeps ordinary keys and values, and an access_key value (outside Spark’s value rule) readable', () => {
    const props = { 'spark.executor.memory': '4g', 'spark.master': 'k8s://https://10.0.0.1:443', 'spark.sql.shuffle.partitions': '200', 'spark.app.tags': 'access_key_rotation' };
    expect(redactSecrets(props)).toEqual(props);
  });

  it('does not change its argument', () => {
    const props = { 'spark.service.token': 'abc' };
    redactSecrets(props);
    expect(props).toEqual({ 'spark.service.token': 'abc' });
  });
});
