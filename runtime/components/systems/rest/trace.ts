/**
 * `trace` of the REST components: each request and response is summarised (headers, the first bytes
 * of the bodies) into the run's trace, which the pump-completed/-failed event carries. Secret values
 * of the system are redacted (all but the first bytes, as `log_secret_redacted_bytes` says).
 */
export interface TraceSettings {
  requestHeaders: boolean;
  requestBodyMax: number;
  responseHeaders: boolean;
  responseBodyMax: number;
  /** Bytes of each secret replaced (-1: all). */
  secretRedactedBytes: number;
}

export interface Tracer {
  settings: TraceSettings;
  secrets: string[];
}

export function traceSettings(v: unknown): TraceSettings | null {
  if (v !== true && (v === null || typeof v !== 'object')) return null;
  const o = (v === true ? {} : v) as Record<string, unknown>;
  const num = (k: string, d: number) => (typeof o[k] === 'number' ? (o[k] as number) : d);
  return {
    requestHeaders: o.log_request_headers !== false,
    requestBodyMax: num('log_request_body_maxsize', 100),
    responseHeaders: o.log_response_headers !== false,
    responseBodyMax: num('log_response_body_maxsize', 100),
    secretRedactedBytes: num('log_secret_redacted_bytes', 600),
  };
}

/** The substituted secret values of a system: strings whose configured form holds `$SECRET(...)`. */
export function secretValues(configured: unknown, resolved: unknown, out: string[] = []): string[] {
  if (typeof configured === 'string') {
    if (configured.includes('$SECRET(') && typeof resolved === 'string' && resolved !== configured) out.push(resolved);
  } else if (configured !== null && typeof configured === 'object' && resolved !== null && typeof resolved === 'object') {
    for (const k of Object.keys(configured)) secretValues((configured as Record<string, unknown>)[k], (resolved as Record<string, unknown>)[k], out);
  }
  return out.filter((s) => s.length > 0);
}

function redact(text: string, tracer: Tracer): string {
  let out = text;
  const n = tracer.settings.secretRedactedBytes;
  for (const s of tracer.secrets) {
    const hidden = n < 0 || n >= s.length ? '*'.repeat(Math.min(s.length, 8)) : `${'*'.repeat(Math.min(n, 8))}${s.slice(n)}`;
    out = out.split(s).join(hidden);
  }
  return out;
}

function headersOf(h: Record<string, string> | Headers, tracer: Tracer): Record<string, string> {
  const out: Record<string, string> = {};
  const each = (v: string, k: string) => {
    out[k] = k === 'authorization' || k === 'proxy-authorization' ? `${v.split(' ')[0]} (redacted)` : redact(v, tracer);
  };
  if (h instanceof Headers) h.forEach(each);
  else for (const [k, v] of Object.entries(h)) each(v, k.toLowerCase());
  return out;
}

export function traceEntry(tracer: Tracer, request: { method: string; url: string; headers: Record<string, string>; body?: string }, response: { status: number; headers: Headers; text: string }): Record<string, unknown> {
  const s = tracer.settings;
  const entry: Record<string, unknown> = { request: { method: request.method, url: redact(request.url, tracer) }, response: { status: response.status } };
  const req = entry.request as Record<string, unknown>;
  const res = entry.response as Record<string, unknown>;
  if (s.requestHeaders) req.headers = headersOf(request.headers, tracer);
  if (request.body !== undefined && s.requestBodyMax > 0) req.body = redact(request.body.slice(0, s.requestBodyMax), tracer);
  if (s.responseHeaders) res.headers = headersOf(response.headers, tracer);
  if (s.responseBodyMax > 0) res.body = redact(response.text.slice(0, s.responseBodyMax), tracer);
  return entry;
}
