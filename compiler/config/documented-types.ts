/**
 * Component types that Sesam's documentation describes (the configuration-sources-*, -sinks-*,
 * -transforms-* and systems pages of datanav/docs). A type is supported when its schema file
 * exists (schemas/<kind>s/<type>.schema.json); a documented type without one is reported as
 * not supported yet (COMPONENT_UNSUPPORTED) instead of as unknown. Adding a component's schema is
 * all it takes for its type to become supported; this list need not change.
 */
import type { ComponentKind } from '../validate/schemas.js';

export const DOCUMENTED_TYPES: Record<ComponentKind, readonly string[]> = {
  source: ['binary', 'conditional', 'csv', 'dataset', 'embedded', 'empty', 'http_endpoint', 'json', 'kafka', 'ldap', 'merge', 'merge_datasets', 'rdf', 'rest', 'sdshare', 'sparql', 'sql', 'union_datasets'],
  sink: ['conditional', 'csv_endpoint', 'dataset', 'elasticsearch', 'http_endpoint', 'json', 'kafka', 'mail', 'null', 'replicated_dataset', 'rest', 'sdshare', 'sms', 'solr', 'sparql', 'sql', 'xml_endpoint'],
  transform: ['conditional', 'dtl', 'emit_children', 'http', 'json_schema', 'rdf', 'rest', 'template', 'xml'],
  // Systems are written "system:<type>"; mssql-azure-dw is the documented older name of sqlserver.
  system: ['elasticsearch', 'kafka', 'ldap', 'microservice', 'mssql', 'mssql-azure-dw', 'mysql', 'oracle', 'oracle_tns', 'postgresql', 'rest', 'smtp', 'solr', 'sqlserver', 'twilio', 'url'],
};

export function isDocumentedType(kind: ComponentKind, type: string): boolean {
  return DOCUMENTED_TYPES[kind].includes(type);
}

