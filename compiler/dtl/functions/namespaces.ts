/**
 * Namespaced identifier functions: is-ni, ni, ni-id, ni-ns. The last colon of an NI (or of a
 * string read as one) separates the namespace from the identifier.
 */
import { family, type CodegenOptions, type EmitContext } from '../spec.js';
import { NI, Uri, type Value } from '../../values/types.js';
import { mapEach, SKIP, testFirst, type Converted } from './util.js';
import { pipeIdOf } from './ns-util.js';

export function isNi(v: Value): boolean {
  return testFirst(v, (x) => x instanceof NI);
}

/** URI prefixes known without configuration (the RDF registry's built-in prefixes). */
const BUILTIN_PREFIXES: ReadonlyArray<readonly [string, string]> = [
  ['_', 'http://example.org/'],
  ['rdf', 'http://www.w3.org/1999/02/22-rdf-syntax-ns#'],
  ['rdfs', 'http://www.w3.org/2000/01/rdf-schema#'],
  ['owl', 'http://www.w3.org/2002/07/owl#'],
  ['xsd', 'http://www.w3.org/2001/XMLSchema#'],
  ['skos', 'http://www.w3.org/2004/02/skos/core#'],
  ['foaf', 'http://xmlns.com/foaf/0.1/'],
  ['wgs84', 'http://www.w3.org/2003/01/geo/wgs84_pos#'],
  ['dc', 'http://purl.org/dc/elements/1.1/'],
  ['dcterms', 'http://purl.org/dc/terms/'],
  ['gs', 'http://www.opengis.net/ont/geosparql#'],
];

/**
 * Collapses URIs into NIs for one pipe: the longest declared prefix names the namespace; an
 * undeclared prefix (the URI up to its last `/` or `#`) gets a generated namespace
 * `<pipe id>-<n>`, numbered in the order the pipe meets them.
 */
export class UriNamespaces {
  private readonly declared: [string, string][];
  private readonly generated = new Map<string, string>();

  constructor(
    private readonly pipeId: string,
    declared: Iterable<readonly [string, string]> = BUILTIN_PREFIXES,
  ) {
    // Longest prefix first, so the first match is the longest.
    this.declared = [...declared].map(([ns, prefix]): [string, string] => [ns, prefix]).sort((a, b) => b[1].length - a[1].length);
  }

  collapse(uri: string): NI {
    for (const [ns, prefix] of this.declared) {
      if (uri.startsWith(prefix)) return new NI(`${ns}:${uri.slice(prefix.length)}`);
    }
    const cut = Math.max(uri.lastIndexOf('/'), uri.lastIndexOf('#')) + 1;
    const prefix = uri.slice(0, cut);
    let ns = this.generated.get(prefix);
    if (ns === undefined) {
      ns = `${this.pipeId}-${this.generated.size + 1}`;
      this.generated.set(prefix, ns);
    }
    return new NI(`${ns}:${uri.slice(cut)}`);
  }
}

/** One URI namespace registry per compiled pipe (the code generator's options object). */
const registries = new WeakMap<CodegenOptions, UriNamespaces>();

function uriNamespaces(options: CodegenOptions): UriNamespaces {
  let r = registries.get(options);
  if (!r) {
    r = new UriNamespaces(pipeIdOf(options) ?? options.namespaces?.identity ?? 'pipe');
    registries.set(options, r);
  }
  return r;
}

/** `["ni", VALUES]`: strings become NIs as they are; URIs are collapsed into a namespace. */
export function toNiGlobal(values: Value, uris: UriNamespaces): Value {
  return mapEach(values, (x): Converted => {
    if (typeof x === 'string') return new NI(x);
    if (x instanceof NI) return x;
    if (x instanceof Uri) return uris.collapse(x.value);
    return SKIP;
  });
}

/** `["ni", NAMESPACE, VALUES]`: strings become NIs in NAMESPACE; URIs and other values are ignored. */
export function toNiIn(namespace: Value, values: Value): Value {
  if (typeof namespace !== 'string') return Array.isArray(values) ? [] : null;
  return mapEach(values, (x): Converted => {
    if (typeof x === 'string') return new NI(`${namespace}:${x}`);
    if (x instanceof NI) return x;
    return SKIP;
  });
}

function niParts(x: Value): [string, string] | null {
  const s = x instanceof NI ? x.value : typeof x === 'string' ? x : null;
  if (s === null) return null;
  const i = s.lastIndexOf(':');
  return i < 0 ? ['', s] : [s.slice(0, i), s.slice(i + 1)];
}

export function niId(values: Value): Value {
  return mapEach(values, (x): Converted => niParts(x)?.[1] ?? SKIP);
}

export function niNs(values: Value): Value {
  return mapEach(values, (x): Converted => niParts(x)?.[0] ?? SKIP);
}

function emitNi(e: EmitContext): string {
  if (e.count === 2) return `${e.use(toNiIn)}(${e.arg(0)}, ${e.arg(1)})`;
  return `${e.use(toNiGlobal)}(${e.arg(0)}, ${e.use(uriNamespaces(e.options))})`;
}

export default family('namespaces', (def) => {
  def.expression({
    name: 'is-ni',
    doc: 'True when the value (or the first list element) is a namespaced identifier.',
    args: ['expr'],
    emit: (e) => `${e.use(isNi)}(${e.arg(0)})`,
  });
  def.expression({
    name: 'ni',
    doc: 'Makes namespaced identifiers of strings (in NAMESPACE when given) and, without NAMESPACE, of URIs by collapsing their prefix into a namespace.',
    min: 1,
    max: 2,
    emit: emitNi,
  });
  def.expression({
    name: 'ni-id',
    doc: 'The identifier part of namespaced identifiers (or of "ns:id" strings); other values are ignored.',
    args: ['expr'],
    emit: (e) => `${e.use(niId)}(${e.arg(0)})`,
  });
  def.expression({
    name: 'ni-ns',
    doc: 'The namespace part of namespaced identifiers (or of "ns:id" strings; "" when there is none); other values are ignored.',
    args: ['expr'],
    emit: (e) => `${e.use(niNs)}(${e.arg(0)})`,
  });
});
