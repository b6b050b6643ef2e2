import schema from '../../../schemas/sources/http_endpoint.schema.json' with { type: 'json' };
import type { SourceSpec } from '../types.js';

/** How a receiver treats what is posted to an http_endpoint source (its config, with defaults). */
export interface ReceiverOptions {
  /** Numbers like `2.0` become integers (otherwise they stay floats). */
  floatAsInt: boolean;
  floatAsDecimal: boolean;
  autoPopulate: boolean;
  trace: { requestHeaders: boolean; redactedBytes: number; bodyBytes: number } | null;
}

export function receiverOptions(config: Record<string, unknown>): ReceiverOptions {
  const trace = config.trace;
  const t = trace && typeof trace === 'object' ? (trace as Record<string, unknown>) : trace === true ? {} : null;
  return {
    floatAsInt: config.do_float_as_int !== false,
    floatAsDecimal: config.do_float_as_decimal !== false,
    autoPopulate: config.auto_populate_dataset !== false,
    trace: t
      ? {
          requestHeaders: t.log_request_headers !== false,
          redactedBytes: typeof t.log_secret_redacted_bytes === 'number' ? t.log_secret_redacted_bytes : 600,
          bodyBytes: typeof t.log_request_body_maxsize === 'number' ? t.log_request_body_maxsize : 100,
        }
      : null,
  };
}

export const httpEndpointSource: SourceSpec = {
  kind: 'source',
  type: 'http_endpoint',
  doc: "Opens a receiver endpoint (POST /api/receivers/{pipe}/entities, JSON push protocol): posted entities go through the pipe's transforms into its sink right away, and full-sync sequences delete the sink entities they did not send. Pump runs of the pipe read nothing.",
  schema,
  create(component, ctx) {
    if (typeof component.config.validation_expression === 'string') {
      throw new Error(`the http_endpoint source of pipe "${ctx.pipe.id}" has a validation_expression: Jinja request validation is not supported by this runtime (use the API's bearer-token authentication instead)`);
    }
    return {
      supportsSince: false,
      // Entities only arrive through the receiver; a pump run reads nothing and must not be a full
      // run for the sink (deletion tracking would delete everything that was posted).
      pushed: true,
      datasets: [],
      // eslint-disable-next-line require-yield
      async *read() {
        return;
      },
    };
  },
};
