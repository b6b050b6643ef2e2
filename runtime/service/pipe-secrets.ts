/**
 * `$SECRET(...)` in a pipe's own config (the key of a DTL `encrypt` or `decrypt`, a header of a
 * source) is substituted when the pipe is built, as a system's are, so secret values never enter
 * the plan. A pipe that names a secret that is not set cannot run, and says which secret to set:
 * running it with the reference text in place of the secret would write wrong data.
 */
import { createHash } from 'node:crypto';
import { secretReferences, substituteSecretText, substituteSecrets } from '../../compiler/config/env.js';
import { mapLiteralTexts } from '../../compiler/dtl/ir.js';
import type { PlanComponent, PlanPipe } from '../../compiler/plan/types.js';

/** Secret values inside a JSON string literal of a DTL program. */
const jsonEscaped = (value: string): string => JSON.stringify(value).slice(1, -1);

function components(pipe: PlanPipe): PlanComponent[] {
  return [pipe.source, ...pipe.transforms, pipe.sink];
}

/** The pipe with the secrets its components name substituted; throws when one is not set. */
export function pipeWithSecrets(pipe: PlanPipe, secrets: Record<string, string>): PlanPipe {
  const used = secretReferences(components(pipe));
  if (!used.size) return pipe;
  const missing = [...used].sort().find((name) => !Object.hasOwn(secrets, name));
  if (missing !== undefined) throw new Error(`pipe "${pipe.id}": the secret "${missing}" is not set (set it with PUT /api/secrets)`);
  const substitute = (c: PlanComponent): PlanComponent => ({
    ...c,
    config: substituteSecrets(c.config, secrets),
    ...(c.dtl ? { dtl: mapLiteralTexts(c.dtl, (json) => substituteSecretText(json, secrets, jsonEscaped)) } : {}),
  });
  return { ...pipe, source: substitute(pipe.source), transforms: pipe.transforms.map(substitute), sink: substitute(pipe.sink) };
}

/** A fingerprint of the secret values a pipe uses ('' when it uses none): the pipe is rebuilt when it changes. */
export function pipeSecretsDigest(pipe: PlanPipe, secrets: Record<string, string>): string {
  const used = [...secretReferences(components(pipe))].sort();
  if (!used.length) return '';
  return createHash('sha256')
    .update(JSON.stringify(used.map((name) => [name, Object.hasOwn(secrets, name) ? secrets[name] : null])))
    .digest('hex');
}
