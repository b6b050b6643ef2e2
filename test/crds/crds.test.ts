import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { renderCrds } from '../../scripts/gen-crds.js';
import { collectEntities } from '../../compiler/config/entities.js';
import { DiagnosticBag } from '../../compiler/diagnostics.js';
import { compile } from '../../compiler/compile.js';
import { resourceFiles } from '../../operator/controllers/resources.js';
import type { ComponentResource } from '../../operator/controllers/types.js';

const root = join(import.meta.dirname, '..', '..');

/** Every node of a structural schema has a type, or says unknown fields are kept. */
function nonStructural(schema: Record<string, unknown>, path: string, out: string[]): string[] {
  if (!schema.type && !schema['x-kubernetes-preserve-unknown-fields']) out.push(path);
  for (const [k, v] of Object.entries((schema.properties as Record<string, Record<string, unknown>>) ?? {})) nonStructural(v, `${path}.${k}`, out);
  if (schema.items) nonStructural(schema.items as Record<string, unknown>, `${path}[]`, out);
  for (const key of ['anyOf', 'oneOf', 'allOf']) if (schema[key]) out.push(`${path} (${key})`);
  return out;
}

describe('CRDs', () => {
  it('are up to date with schemas/ (run npm run gen:crds)', () => {
    for (const [name, text] of Object.entries(renderCrds())) {
      expect(readFileSync(join(root, 'crds', name), 'utf8'), name).toBe(text);
    }
  });

  it('have structural schemas and the printer columns kubectl shows', () => {
    for (const name of Object.keys(renderCrds())) {
      const crd = parse(readFileSync(join(root, 'crds', name), 'utf8'));
      const version = crd.spec.versions[0];
      expect(nonStructural(version.schema.openAPIV3Schema, crd.spec.names.kind, []), name).toEqual([]);
      expect(version.subresources).toEqual({ status: {} });
    }
    const pipes = parse(readFileSync(join(root, 'crds', 'sluice.io_pipes.yaml'), 'utf8'));
    expect(pipes.spec.versions[0].additionalPrinterColumns.map((c: { name: string }) => c.name)).toEqual(['Instance', 'Source', 'Sink', 'State', 'Last Run', 'Entities', 'Age']);
  });

  it('the pipe spec knows the source, sink and transform properties of schemas/', () => {
    const pipes = parse(readFileSync(join(root, 'crds', 'sluice.io_pipes.yaml'), 'utf8'));
    const spec = pipes.spec.versions[0].schema.openAPIV3Schema.properties.spec;
    expect(spec.required).toEqual(['instance', 'source']);
    expect(Object.keys(spec.properties)).toEqual(expect.arrayContaining(['source', 'sink', 'transform', 'pump', 'instance', 'id']));
    expect(spec['x-kubernetes-preserve-unknown-fields']).toBeUndefined();
  });
});

describe('examples/kubernetes', () => {
  it('pipe.yaml and system.yaml compile as the config the operator builds from them', () => {
    const resources = ['pipe.yaml', 'system.yaml'].map((f) => parse(readFileSync(join(root, 'examples', 'kubernetes', f), 'utf8')) as ComponentResource);
    const files = resourceFiles(resources.map((r) => ({ resource: r, id: r.metadata.name, file: `k8s/${r.kind === 'Pipe' ? 'pipes' : 'systems'}/${r.metadata.name}.conf.json` })));
    expect(collectEntities(files, new DiagnosticBag()).map((e) => e.id)).toEqual(['weather-stations', 'weather-api']);
    const result = compile(files, {});
    expect(result.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
    expect(result.plan?.pipes.map((p) => p.id)).toEqual(['weather-stations']);
  });
});
