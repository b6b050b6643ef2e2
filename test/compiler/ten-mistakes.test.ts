/** A config with ten distinct mistakes gets all ten reported, each at its exact position. */
import { describe, expect, it } from 'vitest';
import { fileURLToPath } from 'node:url';
import { compile } from '../../compiler/compile.js';
import { readConfigFolder } from '../../compiler/load/files.js';

const dir = fileURLToPath(new URL('../fixtures/ten-mistakes', import.meta.url));

describe('diagnostics for a config with ten mistakes', () => {
  const { plan, diagnostics } = compile(readConfigFolder(dir));
  const found = diagnostics.map((d) => `${d.file}:${d.line}:${d.column} ${d.severity} ${d.code}`);

  it('produces no plan', () => {
    expect(plan).toBeUndefined();
  });

  it.each([
    ['pipes/broken.conf.json:4:3 error CONFIG_SYNTAX', 'a missing comma'],
    ['pipes/export.conf.json:5:13 error CONFIG_UNKNOWN_TYPE', 'a misspelt source type'],
    ['pipes/export.conf.json:10:15 error PIPE_UNKNOWN_SYSTEM', 'a sink naming an undefined system'],
    ['pipes/joined.conf.json:14:24 warning PIPE_UNKNOWN_DATASET', 'hops to a dataset no pipe produces'],
    ['pipes/joined.conf.json:21:24 error PUMP_CRON', 'an invalid cron expression'],
    ['pipes/orders.conf.json:4:17 error CONFIG_SCHEMA', 'a string batch_size'],
    ['pipes/orders.conf.json:7:16 warning PIPE_UNKNOWN_DATASET', 'a source reading a misspelt dataset'],
    ['pipes/orders.conf.json:14:26 error DTL_UNKNOWN_FUNCTION', 'a misspelt DTL function'],
    ['pipes/orders.conf.json:15:27 error DTL_ARITY', 'a function without its argument'],
    ['pipes/orders.conf.json:16:36 error DTL_UNKNOWN_RULE', 'apply naming a missing rule'],
    ['pipes/orders.conf.json:24:5 warning CONFIG_UNKNOWN_PROPERTY', 'a misspelt pump property'],
    ['pipes/people.conf.json:2:10 error PIPE_DUPLICATE_ID', 'two pipes with one _id'],
    ['systems/api.conf.json:4:15 error CONFIG_ENV_UNRESOLVED', 'an unset environment variable'],
  ])('reports %s (%s)', (expected) => {
    expect(found).toContain(expected);
  });

  it('suggests the intended names', () => {
    const messages = diagnostics.map((d) => d.message).join('\n');
    expect(messages).toContain('did you mean "concat"?');
    expect(messages).toContain('did you mean "dataset"?');
    expect(messages).toContain('did you mean "people"?');
    expect(messages).toContain('did you mean "schedule_interval"?');
    expect(messages).toContain('did you mean "api"?');
  });
});
